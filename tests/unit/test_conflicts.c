/* test_conflicts.c — the conflicts engine, rule by rule: each rule triggered and not triggered at its
 * thresholds (half-open periods that touch, a window of exactly 7 days, a ratio of exactly 0.30, 80 % and
 * 100 % of a budget exactly), settings changing outcomes, the campaign named to move, suggestions that are free,
 * scopes (a focus, a scan window) and the rendering. A case is a small portfolio written out in full; a rule at
 * its edges, a table of one field's values and what each gives (EDGES). */
#include <stdlib.h>

#include "conflicts.h"
#include "unit.h"

static cf_day D(const char *s)
{
    int ok;
    cf_day d = cf_day_parse(s, &ok);
    ck_assert_msg(ok, "bad date %s", s);
    return d;
}

/* "YYYY-MM-DD HH" in UTC */
static cf_time T(const char *s)
{
    char day[11];
    memcpy(day, s, 10);
    day[10] = '\0';
    return (cf_time)D(day) * CF_DAY_SECONDS + atoi(s + 11) * 3600LL;
}

/* A fixture: 4 segments (all > emea > france; and loyal), 4 campaigns, 5 resources, room for 8 bookings. */
typedef struct fx {
    cf_segment seg[4];
    cf_overlap ovl[2];
    cf_campaign camp[4];
    int camp_segs[4][2];
    cf_resource res[5];
    cf_booking book[8];
    cf_unavailability unav[2];
    cf_blackout black[1];
    cf_risk risk[1];
    cf_portfolio p;
    cf_settings s;
    cf_scope q;
    cf_result r;
} fx;

enum { SEG_ALL, SEG_EMEA, SEG_FRANCE, SEG_LOYAL };
enum { RES_BANNER, RES_WRITER, RES_EMAIL, RES_SENDS, RES_POOL };

static void fx_init(fx *f)
{
    memset(f, 0, sizeof *f);
    f->seg[0] = (cf_segment){"s-all", "All customers", -1};
    f->seg[1] = (cf_segment){"s-emea", "EMEA", SEG_ALL};
    f->seg[2] = (cf_segment){"s-france", "France", SEG_EMEA};
    f->seg[3] = (cf_segment){"s-loyal", "Loyal", -1};
    static const char *ids[] = {"c-a", "c-b", "c-c", "c-d"}, *names[] = {"Alpha", "Bravo", "Charlie", "Delta"};
    for (int i = 0; i < 4; i++) {
        f->camp[i] = (cf_campaign){.id = ids[i], .name = names[i], .status = "approved", .start = D("2027-09-06"),
                                   .end = D("2027-09-12"), .priority = -1};
        f->camp[i].segments = f->camp_segs[i];
    }
    f->res[RES_BANNER] = (cf_resource){"r-banner", "Hero banner", CF_SLOT, CF_CONCURRENT, 1, 1, "EUR", 25000, 0, 0};
    f->res[RES_WRITER] = (cf_resource){"r-writer", "Copywriter", CF_PERSON, CF_HOURS_PER_WEEK, 40, 1, NULL, 0, 0, 0};
    f->res[RES_EMAIL] = (cf_resource){"r-email", "Email", CF_CHANNEL, CF_CONCURRENT, 3, 1, NULL, 0, 0, 0};
    f->res[RES_SENDS] = (cf_resource){"r-sends", "SMS", CF_CHANNEL, CF_SENDS_PER_DAY, 10, 1, NULL, 0, 0, 0};
    f->res[RES_POOL] = (cf_resource){"r-pool", "Q3 pool", CF_BUDGET_POOL, CF_CONCURRENT, 1000, 1, "EUR", 100, 0, 0};
    cf_settings_default(&f->s);
    f->q = (cf_scope){.focus_campaign = -1, .focus_booking = -1, .today = D("2027-08-01"),
                      .from_day = D("1900-01-01"), .to_day = D("9999-12-30"), .from = T("1900-01-01 00"),
                      .to = T("9999-12-30 00")};
    f->p = (cf_portfolio){.segments = f->seg, .n_segments = 4, .overlaps = f->ovl, .campaigns = f->camp,
                          .n_campaigns = 2, .resources = f->res, .n_resources = 5, .bookings = f->book,
                          .unavailability = f->unav, .blackouts = f->black, .risks = f->risk};
}

/* fx_init again, releasing the last run's findings. */
static void fx_reset(fx *f)
{
    cf_result_free(&f->r);
    fx_init(f);
}

static int fx_book(fx *f, int campaign, int resource, const char *start, const char *end, int quantity)
{
    static const char *ids[] = {"b-0", "b-1", "b-2", "b-3", "b-4", "b-5", "b-6", "b-7"};
    int i = (int)f->p.n_bookings++;
    f->book[i] = (cf_booking){ids[i], campaign, resource, -1, T(start), T(end), quantity, "confirmed", NULL, 0, 0, 0};
    const cf_resource *r = &f->res[resource];
    if (r->cost_currency) { f->book[i].cost_currency = r->cost_currency; f->book[i].cost = r->cost_per_unit * quantity; }
    cf_day d = (cf_day)(T(start) / CF_DAY_SECONDS);
    f->book[i].bucket = r->unit == CF_HOURS_PER_WEEK ? d - ((d + 3) % 7) : d; /* 1970-01-01 was a Thursday */
    return i;
}

static void fx_segments(fx *f, int campaign, int a, int b)
{
    f->camp_segs[campaign][0] = a;
    f->camp_segs[campaign][1] = b;
    f->camp[campaign].n_segments = b >= 0 ? 2 : a >= 0 ? 1 : 0;
}

/* Runs the engine; the findings of type t as "severity severity …" in order ("" when none). */
static const char *run(fx *f, cf_type t)
{
    static char out[256];
    cf_result_free(&f->r);
    ck_assert_int_eq(cf_run(&f->p, &f->s, &f->q, &f->r), 0);
    out[0] = '\0';
    for (size_t i = 0; i < f->r.n; i++) {
        if (f->r.items[i].type != t) continue;
        ck_assert_ptr_nonnull(f->r.items[i].message);
        ck_assert_ptr_nonnull(f->r.items[i].suggestion);
        size_t n = strlen(out);
        snprintf(out + n, sizeof out - n, "%s%s", n ? " " : "", cf_severity_names[f->r.items[i].severity]);
    }
    return out;
}

/* A rule at its edges: one field of the fixture (an lvalue) set to each case's value in turn, and the findings of
 * type t the engine gives then ("" none; see run). The field keeps the last value. */
typedef struct edge {
    long long value;
    const char *want;
} edge;

#define EDGES(f, t, field, ...)                                                                                  \
    do {                                                                                                         \
        const edge cases_[] = {__VA_ARGS__};                                                                     \
        for (size_t i_ = 0; i_ < sizeof cases_ / sizeof cases_[0]; i_++) {                                       \
            (field) = cases_[i_].value;                                                                          \
            const char *got_ = run(f, t);                                                                        \
            ck_assert_msg(strcmp(got_, cases_[i_].want) == 0, "%s = %lld: \"%s\", expected \"%s\"", #field,      \
                          cases_[i_].value, got_, cases_[i_].want);                                              \
        }                                                                                                        \
    } while (0)

static const cf_finding *first(fx *f, cf_type t)
{
    for (size_t i = 0; i < f->r.n; i++)
        if (f->r.items[i].type == t) return &f->r.items[i];
    ck_abort_msg("no %s finding", cf_type_names[t]);
    return NULL;
}

static int refers(const cf_finding *x, cf_ref_kind kind, int index)
{
    for (int i = 0; i < x->nrefs; i++)
        if (x->refs[i].kind == kind && x->refs[i].index == index) return 1;
    return 0;
}

START_TEST(double_booking_overlap_blocks_and_touching_periods_do_not)
{
    fx f;
    fx_init(&f);
    fx_book(&f, 0, RES_BANNER, "2027-09-06 09", "2027-09-06 12", 1);
    fx_book(&f, 1, RES_BANNER, "2027-09-06 11", "2027-09-06 14", 1);
    ck_assert_str_eq(run(&f, CF_RESOURCE_DOUBLE_BOOKED), "block");
    const cf_finding *x = first(&f, CF_RESOURCE_DOUBLE_BOOKED);
    ck_assert(refers(x, CF_REF_BOOKING, 0) && refers(x, CF_REF_BOOKING, 1) && refers(x, CF_REF_RESOURCE, RES_BANNER));
    ck_assert_int_eq(x->start, T("2027-09-06 11"));
    ck_assert_int_eq(x->end, T("2027-09-06 12"));
    /* [09, 12) and [12, 14) touch: half-open periods do not overlap */
    EDGES(&f, CF_RESOURCE_DOUBLE_BOOKED, f.book[1].start, {T("2027-09-06 11"), "block"}, {T("2027-09-06 12"), ""});
    /* a cancelled booking holds nothing */
    f.book[1].start = T("2027-09-06 10");
    f.book[1].status = "cancelled";
    ck_assert_str_eq(run(&f, CF_RESOURCE_DOUBLE_BOOKED), "");
    cf_result_free(&f.r);
}
END_TEST

START_TEST(capacity_by_overlapping_units_week_and_day)
{
    fx f;
    fx_init(&f);
    /* email holds 3 units at once: 2 is below 90 %, 3 is at capacity (warn), 4 above it (block) */
    fx_book(&f, 0, RES_EMAIL, "2027-09-06 09", "2027-09-06 18", 1);
    fx_book(&f, 1, RES_EMAIL, "2027-09-06 10", "2027-09-06 18", 1);
    EDGES(&f, CF_CAPACITY_EXCEEDED, f.book[1].quantity, {1, ""}, {2, "warn"}, {3, "block"});
    /* the warning threshold is a setting */
    f.book[1].quantity = 2;
    EDGES(&f, CF_CAPACITY_EXCEEDED, f.s.capacity_warn_pct, {90, "warn"}, {100, "warn"});
    EDGES(&f, CF_CAPACITY_EXCEEDED, f.book[1].quantity, {1, ""});

    /* the writer's 40 hours a week: 30 + 10 fill it (warn), 30 + 11 exceed it; next week's hours count apart */
    fx_reset(&f);
    fx_book(&f, 0, RES_WRITER, "2027-09-06 09", "2027-09-06 17", 30);
    fx_book(&f, 1, RES_WRITER, "2027-09-12 09", "2027-09-12 17", 11); /* Sunday: the same ISO week */
    ck_assert_str_eq(run(&f, CF_CAPACITY_EXCEEDED), "block");
    const cf_finding *x = first(&f, CF_CAPACITY_EXCEEDED);
    ck_assert(x->in_days && x->start_day == D("2027-09-06") && x->end_day == D("2027-09-12"));
    EDGES(&f, CF_CAPACITY_EXCEEDED, f.book[1].quantity, {10, "warn"}, {5, ""});
    fx_reset(&f);
    fx_book(&f, 0, RES_WRITER, "2027-09-06 09", "2027-09-06 17", 30);
    fx_book(&f, 1, RES_WRITER, "2027-09-13 09", "2027-09-13 17", 11); /* Monday: the next week */
    ck_assert_str_eq(run(&f, CF_CAPACITY_EXCEEDED), "");

    /* 10 SMS sends a day */
    fx_reset(&f);
    fx_book(&f, 0, RES_SENDS, "2027-09-06 09", "2027-09-06 10", 6);
    fx_book(&f, 1, RES_SENDS, "2027-09-06 23", "2027-09-07 00", 5);
    ck_assert_str_eq(run(&f, CF_CAPACITY_EXCEEDED), "block");
    f.book[1].bucket += 1; /* counted in the next day (the organisation's calendar decides: the store's bucket) */
    ck_assert_str_eq(run(&f, CF_CAPACITY_EXCEEDED), "");
    cf_result_free(&f.r);
}
END_TEST

START_TEST(person_unavailable_on_leave_blocks)
{
    fx f;
    fx_init(&f);
    fx_book(&f, 0, RES_WRITER, "2027-09-06 09", "2027-09-06 17", 8);
    f.unav[0] = (cf_unavailability){"a-leave", RES_WRITER, "leave", T("2027-09-06 16"), T("2027-09-10 00")};
    f.p.n_unavailability = 1;
    ck_assert_str_eq(run(&f, CF_PERSON_UNAVAILABLE), "block");
    ck_assert(refers(first(&f, CF_PERSON_UNAVAILABLE), CF_REF_UNAVAILABILITY, 0));
    /* leave from the booking's end: touching, not overlapping */
    EDGES(&f, CF_PERSON_UNAVAILABLE, f.unav[0].start, {T("2027-09-06 16"), "block"}, {T("2027-09-06 17"), ""});
    /* a resource's own blackout is a blackout */
    f.unav[0] = (cf_unavailability){"a-black", RES_WRITER, "blackout", T("2027-09-06 00"), T("2027-09-07 00")};
    ck_assert_str_eq(run(&f, CF_PERSON_UNAVAILABLE), "");
    ck_assert_str_eq(run(&f, CF_BLACKOUT), "block");
    cf_result_free(&f.r);
}
END_TEST

START_TEST(audience_overlap_same_segment_same_week)
{
    fx f;
    fx_init(&f);
    /* the seed: two emailing campaigns to the same segment the same week */
    fx_segments(&f, 0, SEG_LOYAL, -1);
    fx_segments(&f, 1, SEG_LOYAL, -1);
    ck_assert_str_eq(run(&f, CF_AUDIENCE_OVERLAP), "warn");
    const cf_finding *x = first(&f, CF_AUDIENCE_OVERLAP);
    ck_assert(refers(x, CF_REF_CAMPAIGN, 0) && refers(x, CF_REF_CAMPAIGN, 1) && refers(x, CF_REF_SEGMENT, SEG_LOYAL));
    ck_assert(x->in_days && x->start_day == D("2027-09-06") && x->end_day == D("2027-09-12"));
    /* Bravo starts 6 days after Alpha's last day: within 7 days; 7 days after: clear */
    f.camp[1].end = D("2027-09-20");
    EDGES(&f, CF_AUDIENCE_OVERLAP, f.camp[1].start, {D("2027-09-18"), "warn"}, {D("2027-09-19"), ""});
    /* a wider window in the settings catches it */
    EDGES(&f, CF_AUDIENCE_OVERLAP, f.s.overlap_window_days, {7, ""}, {8, "warn"});
    /* a cancelled campaign reaches nobody */
    f.camp[1].status = "cancelled";
    ck_assert_str_eq(run(&f, CF_AUDIENCE_OVERLAP), "");
    cf_result_free(&f.r);
}
END_TEST

START_TEST(audience_overlap_by_ancestry_and_declared_ratio)
{
    fx f;
    fx_init(&f);
    /* France is inside All customers (its grandparent) */
    fx_segments(&f, 0, SEG_ALL, -1);
    fx_segments(&f, 1, SEG_FRANCE, -1);
    ck_assert_str_eq(run(&f, CF_AUDIENCE_OVERLAP), "warn");
    /* Loyal and France: unrelated until declared; 0.30 exactly is enough, 0.2999 is not */
    fx_segments(&f, 0, SEG_LOYAL, -1);
    ck_assert_str_eq(run(&f, CF_AUDIENCE_OVERLAP), "");
    f.ovl[0] = (cf_overlap){SEG_FRANCE, SEG_LOYAL, 3000};
    f.p.n_overlaps = 1;
    EDGES(&f, CF_AUDIENCE_OVERLAP, f.ovl[0].ratio, {3000, "warn"}, {2999, ""});
    /* a lower ratio in the settings */
    EDGES(&f, CF_AUDIENCE_OVERLAP, f.s.overlap_ratio, {3000, ""}, {2999, "warn"}, {2500, "warn"});
    /* declared either way round: the overlap is symmetric */
    f.ovl[0] = (cf_overlap){SEG_LOYAL, SEG_FRANCE, 5000};
    ck_assert_str_eq(run(&f, CF_AUDIENCE_OVERLAP), "warn");
    cf_result_free(&f.r);
}
END_TEST

START_TEST(the_lower_priority_campaign_is_moved_to_a_clear_week)
{
    fx f;
    fx_init(&f);
    fx_segments(&f, 0, SEG_LOYAL, -1);
    fx_segments(&f, 1, SEG_LOYAL, -1);
    int hi[4] = {90, 80, 70, 80}, lo[4] = {40, 50, 30, 60};
    f.camp[0].priority = cf_priority_score(hi, f.s.weights);
    f.camp[1].priority = cf_priority_score(lo, f.s.weights);
    ck_assert_str_eq(run(&f, CF_AUDIENCE_OVERLAP), "warn");
    const cf_finding *x = first(&f, CF_AUDIENCE_OVERLAP);
    ck_assert_int_eq(x->move, 1);
    ck_assert_ptr_nonnull(strstr(x->why_move, "Bravo scores"));
    /* Bravo moved by two weeks starts 8 days after Alpha's end: clear (one week still collides) */
    ck_assert_msg(strstr(x->suggestion, "2 weeks later, to start on 2027-09-20"), "%s", x->suggestion);
    /* scores swapped: Alpha moves */
    f.camp[0].priority = cf_priority_score(lo, f.s.weights);
    f.camp[1].priority = cf_priority_score(hi, f.s.weights);
    run(&f, CF_AUDIENCE_OVERLAP);
    ck_assert_int_eq(first(&f, CF_AUDIENCE_OVERLAP)->move, 0);

    /* the week must clear every campaign whose audience meets Bravo's (EMEA): Alpha reaching France, a descendant;
     * Charlie reaching all customers, an ancestor, two weeks later; Delta reaching loyal customers, declared to
     * overlap EMEA by half, two weeks earlier; so three weeks either way collide too, and four weeks later is clear */
    fx_reset(&f);
    fx_segments(&f, 0, SEG_FRANCE, -1);
    fx_segments(&f, 1, SEG_EMEA, -1);
    fx_segments(&f, 2, SEG_ALL, -1);
    fx_segments(&f, 3, SEG_LOYAL, -1);
    f.ovl[0] = (cf_overlap){SEG_EMEA, SEG_LOYAL, 5000};
    f.p.n_overlaps = 1;
    f.p.n_campaigns = 4;
    f.camp[0].priority = cf_priority_score(hi, f.s.weights);
    f.camp[1].priority = cf_priority_score(lo, f.s.weights);
    f.camp[2].start = D("2027-09-20"), f.camp[2].end = D("2027-09-26");
    f.camp[3].start = D("2027-08-23"), f.camp[3].end = D("2027-08-29");
    ck_assert_str_eq(run(&f, CF_AUDIENCE_OVERLAP), "warn");
    x = first(&f, CF_AUDIENCE_OVERLAP);
    ck_assert_int_eq(x->move, 1);
    ck_assert_msg(strstr(x->suggestion, "4 weeks later, to start on 2027-10-04"), "%s", x->suggestion);
    /* under a ratio above Delta's declared half, Delta is no rival: two weeks earlier is clear */
    f.s.overlap_ratio = 6000;
    run(&f, CF_AUDIENCE_OVERLAP);
    x = first(&f, CF_AUDIENCE_OVERLAP);
    ck_assert_msg(strstr(x->suggestion, "2 weeks earlier, to start on 2027-08-23"), "%s", x->suggestion);
    cf_result_free(&f.r);
}
END_TEST

START_TEST(priority_score_weights)
{
    int s[4] = {100, 100, 100, 100}, z[4] = {0, 0, 0, 0}, mix[4] = {100, 0, 0, 0};
    int w[4] = {30, 25, 20, 25}, one[4] = {1, 0, 0, 0}, none[4] = {0, 0, 0, 0};
    ck_assert_int_eq(cf_priority_score(s, w), 1000); /* 100.0 */
    ck_assert_int_eq(cf_priority_score(z, w), 0);
    ck_assert_int_eq(cf_priority_score(mix, w), 300); /* 30.0: engagement alone, weighted 30 of 100 */
    ck_assert_int_eq(cf_priority_score(mix, one), 1000);
    ck_assert_int_eq(cf_priority_score(s, none), -1);
}
END_TEST

START_TEST(channel_saturation_over_the_frequency_cap)
{
    fx f;
    fx_init(&f);
    f.p.n_campaigns = 3;
    /* three sends to France on email within 7 days: the default cap is 2 */
    fx_book(&f, 0, RES_EMAIL, "2027-09-06 09", "2027-09-06 10", 1);
    fx_book(&f, 1, RES_EMAIL, "2027-09-08 09", "2027-09-08 10", 1);
    fx_book(&f, 2, RES_EMAIL, "2027-09-12 09", "2027-09-12 10", 1);
    for (int i = 0; i < 3; i++) f.book[i].segment = SEG_FRANCE;
    ck_assert_str_eq(run(&f, CF_CHANNEL_SATURATION), "warn");
    const cf_finding *x = first(&f, CF_CHANNEL_SATURATION);
    ck_assert(refers(x, CF_REF_SEGMENT, SEG_FRANCE) && refers(x, CF_REF_RESOURCE, RES_EMAIL));
    /* the third exactly 7 days after the first: no window of 7 days holds all three */
    f.book[2].end = T("2027-09-13 10");
    EDGES(&f, CF_CHANNEL_SATURATION, f.book[2].start, {T("2027-09-13 08"), "warn"}, {T("2027-09-13 09"), ""});
    /* a send to EMEA reaches France too */
    f.book[2].start = T("2027-09-07 09");
    f.book[2].end = T("2027-09-07 10");
    f.book[2].segment = SEG_EMEA;
    ck_assert_str_eq(run(&f, CF_CHANNEL_SATURATION), "warn");
    /* …but France's sends do not saturate Loyal */
    for (int i = 0; i < 3; i++) f.book[i].segment = i == 0 ? SEG_LOYAL : SEG_FRANCE;
    ck_assert_str_eq(run(&f, CF_CHANNEL_SATURATION), "");
    /* the channel's own cap (3 per 7 days), and the default from the settings */
    for (int i = 0; i < 3; i++) f.book[i].segment = SEG_FRANCE;
    f.res[RES_EMAIL].cap_days = 7;
    EDGES(&f, CF_CHANNEL_SATURATION, f.res[RES_EMAIL].cap_sends, {2, "warn"}, {3, ""}, {0, "warn"});
    EDGES(&f, CF_CHANNEL_SATURATION, f.s.cap_sends, {3, ""}, {1, "warn"});
    cf_result_free(&f.r);
}
END_TEST

START_TEST(contradictory_offer_same_code_other_terms)
{
    fx f;
    fx_init(&f);
    /* the seed: 20 % off by email while social says 15 % on a selection */
    f.camp[0].offer_code = "AUTUMN";
    f.camp[0].offer_terms = "20 % off everything";
    f.camp[1].offer_code = "autumn";
    f.camp[1].offer_terms = "15 % off a selection";
    ck_assert_str_eq(run(&f, CF_CONTRADICTORY_OFFER), "warn");
    ck_assert_ptr_nonnull(strstr(first(&f, CF_CONTRADICTORY_OFFER)->message, "15 % off a selection"));
    /* the same terms: consistent */
    f.camp[1].offer_terms = "20 % off everything";
    ck_assert_str_eq(run(&f, CF_CONTRADICTORY_OFFER), "");
    /* other terms, but the campaigns do not overlap */
    f.camp[1].offer_terms = "15 % off a selection";
    f.camp[1].start = D("2027-09-13");
    f.camp[1].end = D("2027-09-20");
    ck_assert_str_eq(run(&f, CF_CONTRADICTORY_OFFER), "");
    /* overlapping by one day, to audiences that do not overlap */
    f.camp[1].start = D("2027-09-12");
    fx_segments(&f, 0, SEG_LOYAL, -1);
    fx_segments(&f, 1, SEG_FRANCE, -1);
    ck_assert_str_eq(run(&f, CF_CONTRADICTORY_OFFER), "");
    fx_segments(&f, 1, SEG_LOYAL, -1);
    ck_assert_str_eq(run(&f, CF_CONTRADICTORY_OFFER), "warn");
    cf_result_free(&f.r);
}
END_TEST

START_TEST(budget_overrun_at_80_and_100_percent)
{
    fx f;
    fx_init(&f);
    f.camp[0].currency = "EUR";
    f.camp[0].budget = 100000; /* 1,000.00 */
    /* a 250.00 banner booking, and spend measured */
    fx_book(&f, 0, RES_BANNER, "2027-09-06 09", "2027-09-07 09", 1);
    EDGES(&f, CF_BUDGET_OVERRUN, f.camp[0].actual_spend,
          {54999, ""},      /* 799.99: below 80 % */
          {55000, "warn"},  /* 800.00: 80 % exactly */
          {75000, "warn"},  /* 1,000.00: 100 % exactly is the budget, not over it */
          {75001, "block"}, /* 1,000.01 */
          {55000, "warn"});
    /* the settings move both thresholds */
    EDGES(&f, CF_BUDGET_OVERRUN, f.s.budget_warn_pct, {90, ""});
    EDGES(&f, CF_BUDGET_OVERRUN, f.s.budget_block_pct, {70, "block"});
    cf_result_free(&f.r);
}
END_TEST

START_TEST(budget_overrun_per_channel_and_pool)
{
    fx f;
    fx_init(&f);
    static const cf_amount budgets[] = {{"email", 40000}, {"social", 60000}};
    static const cf_amount spend[] = {{"email", 40001}, {"social", 10000}};
    f.camp[0].currency = "EUR";
    f.camp[0].budget = 100000;
    f.camp[0].channel_budgets = budgets;
    f.camp[0].n_channel_budgets = 2;
    f.camp[0].channel_spend = spend;
    f.camp[0].n_channel_spend = 2;
    f.camp[0].actual_spend = 50001;
    ck_assert_str_eq(run(&f, CF_BUDGET_OVERRUN), "block"); /* email over, social at 17 %, the whole at 50 % */
    ck_assert_ptr_nonnull(strstr(first(&f, CF_BUDGET_OVERRUN)->message, "on email"));
    /* a pool of 1,000 × 1.00 EUR, drawn on by two campaigns budgeting 600 and 500 */
    fx_reset(&f);
    f.camp[0].currency = f.camp[1].currency = "EUR";
    f.camp[0].budget = 60000;
    f.camp[1].budget = 50000;
    fx_book(&f, 0, RES_POOL, "2027-07-01 00", "2027-10-01 00", 1);
    fx_book(&f, 1, RES_POOL, "2027-07-01 00", "2027-10-01 00", 1);
    ck_assert_str_eq(run(&f, CF_BUDGET_OVERRUN), "block");
    const cf_finding *x = first(&f, CF_BUDGET_OVERRUN);
    ck_assert(refers(x, CF_REF_RESOURCE, RES_POOL) && refers(x, CF_REF_CAMPAIGN, 0) && refers(x, CF_REF_CAMPAIGN, 1));
    EDGES(&f, CF_BUDGET_OVERRUN, f.camp[1].budget, {40001, "block"}, {40000, "warn"} /* 100 % exactly */,
          {20000, "warn"} /* 80 % */, {19999, ""} /* 79.99 % */);
    cf_result_free(&f.r);
}
END_TEST

START_TEST(blackout_key_event_blocks_bookings_and_campaigns)
{
    fx f;
    fx_init(&f);
    /* a blackout on 2027-09-13 (the organisation's day: here 2027-09-12T22:00Z to 2027-09-13T22:00Z) */
    f.black[0] = (cf_blackout){"k-1", "Results quiet period", D("2027-09-13"), D("2027-09-13"), T("2027-09-12 22"),
                               T("2027-09-13 22")};
    f.p.n_blackouts = 1;
    fx_book(&f, 0, RES_BANNER, "2027-09-12 20", "2027-09-12 22", 1);
    EDGES(&f, CF_BLACKOUT, f.book[0].end, {T("2027-09-12 22"), ""} /* ends at local midnight: touches */,
          {T("2027-09-12 23"), "block"} /* 01:00 local on the 13th */);
    ck_assert(refers(first(&f, CF_BLACKOUT), CF_REF_BLACKOUT, 0));
    /* a campaign running on that day */
    f.p.n_bookings = 0;
    f.camp[1].end = D("2027-09-13");
    ck_assert_str_eq(run(&f, CF_BLACKOUT), "block");
    ck_assert_ptr_nonnull(strstr(first(&f, CF_BLACKOUT)->suggestion, "2027-09-14"));
    EDGES(&f, CF_BLACKOUT, f.camp[1].end, {D("2027-09-12"), ""});
    cf_result_free(&f.r);
}
END_TEST

START_TEST(unapproved_launch_within_the_horizon)
{
    fx f;
    fx_init(&f);
    f.q.today = D("2027-09-01");
    f.camp[0].status = "draft";
    EDGES(&f, CF_UNAPPROVED_LAUNCH, f.camp[0].start, {D("2027-09-06"), "warn"} /* starts in 5 days */,
          {D("2027-09-07"), ""} /* 6 days */);
    EDGES(&f, CF_UNAPPROVED_LAUNCH, f.s.unapproved_horizon_days, {6, "warn"});
    f.camp[0].status = "approved";
    ck_assert_str_eq(run(&f, CF_UNAPPROVED_LAUNCH), "");
    f.camp[0].status = "in_review";
    EDGES(&f, CF_UNAPPROVED_LAUNCH, f.q.today, {D("2027-09-10"), "warn"} /* started 3 days ago, still in review */,
          {D("2027-09-12"), "warn"} /* its last day */, {D("2027-09-13"), ""} /* over */);
    cf_result_free(&f.r);
}
END_TEST

START_TEST(unmitigated_critical_risk_is_listed)
{
    fx f;
    fx_init(&f);
    f.risk[0] = (cf_risk){"k-r", "Payment provider outage", 1};
    f.p.n_risks = 1;
    ck_assert_str_eq(run(&f, CF_UNMITIGATED_RISK), "warn");
    ck_assert(refers(first(&f, CF_UNMITIGATED_RISK), CF_REF_RISK, 0));
    f.camp[1].status = "cancelled";
    ck_assert_str_eq(run(&f, CF_UNMITIGATED_RISK), "");
    cf_result_free(&f.r);
}
END_TEST

START_TEST(a_focus_keeps_only_its_findings_and_a_scan_its_window)
{
    fx f;
    fx_init(&f);
    f.p.n_campaigns = 3;
    fx_segments(&f, 0, SEG_LOYAL, -1);
    fx_segments(&f, 1, SEG_LOYAL, -1);
    fx_segments(&f, 2, -1, -1); /* reaches everyone */
    f.camp[2].offer_code = "X";
    f.camp[1].offer_code = "X";
    f.camp[1].offer_terms = "other";
    ck_assert_str_eq(run(&f, CF_AUDIENCE_OVERLAP), "warn");
    ck_assert_str_eq(run(&f, CF_CONTRADICTORY_OFFER), "warn");
    f.q.focus_campaign = 2; /* Charlie: in the offer clash, not in the overlap */
    ck_assert_str_eq(run(&f, CF_AUDIENCE_OVERLAP), "");
    ck_assert_str_eq(run(&f, CF_CONTRADICTORY_OFFER), "warn");
    f.q.focus_campaign = -1;
    /* a scan of the week after sees nothing; of the last day, everything */
    f.q.from_day = D("2027-09-13");
    f.q.to_day = D("2027-09-20");
    ck_assert_str_eq(run(&f, CF_AUDIENCE_OVERLAP), "");
    f.q.from_day = D("2027-09-12");
    ck_assert_str_eq(run(&f, CF_AUDIENCE_OVERLAP), "warn");
    /* a booking focus: the double booking it is in, not the one it is not */
    fx_book(&f, 0, RES_BANNER, "2027-09-06 09", "2027-09-06 12", 1);
    fx_book(&f, 1, RES_BANNER, "2027-09-06 10", "2027-09-06 12", 1);
    fx_book(&f, 2, RES_EMAIL, "2027-09-06 10", "2027-09-06 12", 1);
    f.q.from = T("2027-09-01 00");
    f.q.to = T("2027-09-30 00");
    f.q.focus_booking = 2;
    ck_assert_str_eq(run(&f, CF_RESOURCE_DOUBLE_BOOKED), "");
    f.q.focus_booking = 1;
    ck_assert_str_eq(run(&f, CF_RESOURCE_DOUBLE_BOOKED), "block");
    cf_result_free(&f.r);
}
END_TEST

START_TEST(free_periods_for_a_blocked_booking_are_free)
{
    fx f;
    fx_init(&f);
    /* the banner is taken 09–12 and 13–15; leave-like unavailability 06–08; the proposal wants 10–12 */
    fx_book(&f, 0, RES_BANNER, "2027-09-06 09", "2027-09-06 12", 1);
    fx_book(&f, 0, RES_BANNER, "2027-09-06 13", "2027-09-06 15", 1);
    int prop = fx_book(&f, 1, RES_BANNER, "2027-09-06 10", "2027-09-06 12", 1);
    f.unav[0] = (cf_unavailability){"a-1", RES_BANNER, "unavailable", T("2027-09-06 06"), T("2027-09-06 08")};
    f.p.n_unavailability = 1;
    f.q.focus_booking = prop;
    ck_assert_str_eq(run(&f, CF_RESOURCE_DOUBLE_BOOKED), "block");
    const cf_finding *x = first(&f, CF_RESOURCE_DOUBLE_BOOKED);
    ck_assert_int_eq(x->nfree, 2);
    /* after: 15–17 (12–14 meets the 13:00 booking); before: 04–06 (07–09 meets the unavailability) */
    ck_assert_int_eq(x->free[0].start, T("2027-09-06 15"));
    ck_assert_int_eq(x->free[0].end, T("2027-09-06 17"));
    ck_assert_int_eq(x->free[1].start, T("2027-09-06 04"));
    ck_assert_int_eq(x->free[1].end, T("2027-09-06 06"));
    /* booked there, the proposal has no double booking */
    for (int i = 0; i < 2; i++) {
        f.book[prop].start = x->free[i].start;
        f.book[prop].end = x->free[i].end;
        cf_result r;
        ck_assert_int_eq(cf_run(&f.p, &f.s, &f.q, &r), 0);
        for (size_t k = 0; k < r.n; k++) ck_assert_int_ne(r.items[k].severity, CF_BLOCK);
        cf_result_free(&r);
        f.book[prop].start = T("2027-09-06 10");
        f.book[prop].end = T("2027-09-06 12");
        run(&f, CF_RESOURCE_DOUBLE_BOOKED);
        x = first(&f, CF_RESOURCE_DOUBLE_BOOKED);
    }
    /* resources the store found free over the whole period come after, for the same period */
    static const int alternatives[] = {RES_EMAIL};
    f.q.alternatives = alternatives;
    f.q.n_alternatives = 1;
    run(&f, CF_RESOURCE_DOUBLE_BOOKED);
    x = first(&f, CF_RESOURCE_DOUBLE_BOOKED);
    ck_assert_int_eq(x->nfree, 3);
    ck_assert(x->free[2].resource == RES_EMAIL && x->free[2].start == T("2027-09-06 10") &&
              x->free[2].end == T("2027-09-06 12"));
    cf_result_free(&f.r);
}
END_TEST

/* What a change finds anew, against a run over the portfolio before it (a scan of everything, as a booking's gate
 * asks; a campaign's asks about the campaign). */
START_TEST(a_change_finds_anew_only_what_was_not_there)
{
    fx f;
    fx_init(&f);
    cf_result before = {0};
    /* a campaign already at 80 % of its budget: a booking without a cost leaves the same warning, not a new one */
    f.camp[0].currency = "EUR";
    f.camp[0].budget = 100000;
    f.camp[0].committed = 80000;
    ck_assert_int_eq(cf_run(&f.p, &f.s, &f.q, &before), 0);
    f.q.focus_booking = fx_book(&f, 0, RES_WRITER, "2027-09-06 09", "2027-09-06 12", 3);
    ck_assert_str_eq(run(&f, CF_BUDGET_OVERRUN), "warn");
    ck_assert(cf_finding_known(&before, first(&f, CF_BUDGET_OVERRUN)));
    /* at 70 % before, the banner's 250.00 takes it to 95 %: new */
    cf_result_free(&before);
    f.p.n_bookings = 0;
    f.q.focus_booking = -1;
    f.camp[0].committed = 70000;
    ck_assert_int_eq(cf_run(&f.p, &f.s, &f.q, &before), 0);
    f.q.focus_booking = fx_book(&f, 0, RES_BANNER, "2027-09-06 09", "2027-09-06 12", 1);
    ck_assert_str_eq(run(&f, CF_BUDGET_OVERRUN), "warn");
    ck_assert(!cf_finding_known(&before, first(&f, CF_BUDGET_OVERRUN)));
    cf_result_free(&before);

    /* the writer's week already at 36 of 40 hours: 2 more that week are no news; 37 hours the week after are */
    fx_reset(&f);
    fx_book(&f, 0, RES_WRITER, "2027-09-06 09", "2027-09-06 17", 30);
    fx_book(&f, 1, RES_WRITER, "2027-09-07 09", "2027-09-07 15", 6);
    ck_assert_int_eq(cf_run(&f.p, &f.s, &f.q, &before), 0);
    f.q.focus_booking = fx_book(&f, 1, RES_WRITER, "2027-09-08 09", "2027-09-08 11", 2);
    ck_assert_str_eq(run(&f, CF_CAPACITY_EXCEEDED), "warn");
    ck_assert(cf_finding_known(&before, first(&f, CF_CAPACITY_EXCEEDED)));
    f.book[2] = f.book[0];
    f.book[2].id = "b-2";
    f.book[2].start += 7 * CF_DAY_SECONDS;
    f.book[2].end += 7 * CF_DAY_SECONDS;
    f.book[2].bucket += 7;
    f.book[2].quantity = 37;
    ck_assert_str_eq(run(&f, CF_CAPACITY_EXCEEDED), "warn");
    ck_assert(!cf_finding_known(&before, first(&f, CF_CAPACITY_EXCEEDED)));
    cf_result_free(&before);

    /* two campaigns reaching France the same week: renaming one leaves the overlap known; a third is new */
    fx_reset(&f);
    fx_segments(&f, 0, SEG_FRANCE, -1);
    fx_segments(&f, 1, SEG_FRANCE, -1);
    f.q.focus_campaign = 0;
    ck_assert_int_eq(cf_run(&f.p, &f.s, &f.q, &before), 0);
    f.camp[0].name = "Alpha, renamed";
    ck_assert_str_eq(run(&f, CF_AUDIENCE_OVERLAP), "warn");
    ck_assert(cf_finding_known(&before, first(&f, CF_AUDIENCE_OVERLAP)));
    fx_segments(&f, 2, SEG_EMEA, -1);
    f.p.n_campaigns = 3;
    f.q.focus_campaign = 2;
    ck_assert_str_eq(run(&f, CF_AUDIENCE_OVERLAP), "warn warn");
    ck_assert(!cf_finding_known(&before, first(&f, CF_AUDIENCE_OVERLAP)));
    cf_result_free(&before);
    cf_result_free(&f.r);
}
END_TEST

START_TEST(forcing_and_rendering)
{
    fx f;
    fx_init(&f);
    f.camp[0].currency = "EUR";
    f.camp[0].budget = 100;
    f.camp[0].actual_spend = 200;
    run(&f, CF_BUDGET_OVERRUN);
    ck_assert_uint_eq(cf_count(&f.r, CF_BLOCK), 1);
    ck_assert_int_eq(cf_blocks_forceable(&f.r, &f.s), 1);
    f.s.forceable = 0;
    ck_assert_int_eq(cf_blocks_forceable(&f.r, &f.s), 0);
    json_t *j = cf_finding_json(&f.p, first(&f, CF_BUDGET_OVERRUN));
    ck_assert_ptr_nonnull(j);
    ck_assert_str_eq(json_string_value(json_object_get(j, "type")), "budget_overrun");
    ck_assert_str_eq(json_string_value(json_object_get(j, "severity")), "block");
    ck_assert_str_eq(json_string_value(json_object_get(json_object_get(j, "window"), "start")), "2027-09-06");
    ck_assert_str_eq(json_string_value(json_object_get(json_object_get(j, "window"), "end")), "2027-09-12");
    json_t *j_item = json_array_get(json_object_get(j, "items"), 0);
    ck_assert_str_eq(json_string_value(json_object_get(j_item, "type")), "campaign");
    ck_assert_str_eq(json_string_value(json_object_get(j_item, "id")), "c-a");
    ck_assert_ptr_nonnull(strstr(json_string_value(json_object_get(j, "message")), "2.00 EUR"));
    ck_assert(json_is_null(json_object_get(j, "move")));
    /* the id is stable across runs */
    char *id = strdup(json_string_value(json_object_get(j, "id")));
    json_decref(j);
    run(&f, CF_BUDGET_OVERRUN);
    ck_assert_str_eq(first(&f, CF_BUDGET_OVERRUN)->key, id);
    free(id);
    char buf[32];
    cf_time_format(T("2027-09-06 09"), buf);
    ck_assert_str_eq(buf, "2027-09-06T09:00:00Z");
    cf_time_format(T("1969-12-31 23"), buf);
    ck_assert_str_eq(buf, "1969-12-31T23:00:00Z");
    cf_day_format(D("2028-02-29"), buf);
    ck_assert_str_eq(buf, "2028-02-29");
    cf_result_free(&f.r);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("conflicts");
    TCase *tc = tcase_create("rules");
    tcase_add_test(tc, double_booking_overlap_blocks_and_touching_periods_do_not);
    tcase_add_test(tc, capacity_by_overlapping_units_week_and_day);
    tcase_add_test(tc, person_unavailable_on_leave_blocks);
    tcase_add_test(tc, audience_overlap_same_segment_same_week);
    tcase_add_test(tc, audience_overlap_by_ancestry_and_declared_ratio);
    tcase_add_test(tc, the_lower_priority_campaign_is_moved_to_a_clear_week);
    tcase_add_test(tc, priority_score_weights);
    tcase_add_test(tc, channel_saturation_over_the_frequency_cap);
    tcase_add_test(tc, contradictory_offer_same_code_other_terms);
    tcase_add_test(tc, budget_overrun_at_80_and_100_percent);
    tcase_add_test(tc, budget_overrun_per_channel_and_pool);
    tcase_add_test(tc, blackout_key_event_blocks_bookings_and_campaigns);
    tcase_add_test(tc, unapproved_launch_within_the_horizon);
    tcase_add_test(tc, unmitigated_critical_risk_is_listed);
    tcase_add_test(tc, a_focus_keeps_only_its_findings_and_a_scan_its_window);
    tcase_add_test(tc, free_periods_for_a_blocked_booking_are_free);
    tcase_add_test(tc, a_change_finds_anew_only_what_was_not_there);
    tcase_add_test(tc, forcing_and_rendering);
    suite_add_tcase(s, tc);
    return unit_run(s);
}
