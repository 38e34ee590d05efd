/* test_calendar_store.c — the one calendar query, key events and feed tokens against the real database:
 * a window shows what overlaps it (half-open, in the organisation's time zone), filters narrow it, cancelled
 * items only when asked, never another organisation's; a feed token opens its own organisation's feed with its
 * filters until revoked, and only its hash is stored. Each test has its own organisation and connection
 * (store.h). */
#include "store.h"

#include "booking_store.h"
#include "calendar.h"
#include "calendar_store.h"
#include "campaign_store.h"
#include "resource_store.h"

#define ALL_TYPES "{campaign,booking,availability,key_event}"

static const db_stmt q_set_time_zone = {"t_set_time_zone", "UPDATE organisations SET time_zone = $2 WHERE id = $1", 2};
static const db_stmt q_stored_tokens = {
    "t_stored_tokens", "SELECT count(*)::text FROM calendar_feed_tokens WHERE org_id = $1 AND token_hash = $2", 2};

/* What a calendar shows: a campaign, two resources (one booked twice, one cancelled), leave and a key event. */
typedef struct world {
    char campaign[37], banner[37], writer[37], booking[37], cancelled[37], leave[37], key_event[37];
} world;

static void insert_ok(app_err e, app_refusal *why, const char *what)
{
    ck_assert_msg(e == APP_OK, "%s refused: %s", what, why->sentence ? why->sentence : "?");
    app_refusal_clear(why);
}

/* Builds w in organisation o (committed). */
static void make_world(const char *o, world *w)
{
    char *avail = NULL;
    db_doc doc = {0};
    app_refusal why = {0};
    store_begin_in(o, "pat", "admin");
    ck_assert_int_eq(campaign_store_insert(c, o, "pat",
                                           "{\"name\":\"Spring sale\",\"objective\":\"acquisition\",\"start_date\":"
                                           "\"2027-03-01\",\"end_date\":\"2027-03-31\",\"channels\":[\"email\"]}",
                                           &doc, w->campaign, NULL),
                     APP_OK);
    db_doc_free(&doc);
    insert_ok(resource_store_insert(c, o, "{\"kind\":\"slot\",\"name\":\"Homepage banner\"}", &doc, w->banner, &why),
              &why, "banner");
    db_doc_free(&doc);
    insert_ok(resource_store_insert(c, o, "{\"kind\":\"person\",\"name\":\"Writer\"}", &doc, w->writer, &why), &why,
              "writer");
    db_doc_free(&doc);
    char body[512];
    snprintf(body, sizeof body,
             "{\"campaign_id\":\"%s\",\"resource_id\":\"%s\",\"start\":\"2027-03-02T09:00:00Z\","
             "\"end\":\"2027-03-02T10:00:00Z\",\"status\":\"confirmed\"}",
             w->campaign, w->banner);
    insert_ok(booking_store_insert(c, o, "pat", body, &doc, w->booking, &why), &why, "booking");
    db_doc_free(&doc);
    snprintf(body, sizeof body,
             "{\"campaign_id\":\"%s\",\"resource_id\":\"%s\",\"start\":\"2027-03-03T09:00:00Z\","
             "\"end\":\"2027-03-03T10:00:00Z\"}",
             w->campaign, w->writer);
    insert_ok(booking_store_insert(c, o, "pat", body, &doc, w->cancelled, &why), &why, "booking");
    db_doc_free(&doc);
    insert_ok(booking_store_cancel(c, o, w->cancelled, "moved", &doc, &why), &why, "cancel");
    db_doc_free(&doc);
    insert_ok(availability_store_insert(c, o, w->writer, "pat",
                                        "{\"kind\":\"leave\",\"start\":\"2027-03-15T00:00:00Z\","
                                        "\"end\":\"2027-03-20T00:00:00Z\"}",
                                        &avail, w->leave, &why),
              &why, "leave");
    free(avail);
    insert_ok(key_event_store_insert(c, o,
                                     "{\"name\":\"Trade fair\",\"kind\":\"industry_event\",\"start_date\":\"2027-03-18\","
                                     "\"end_date\":\"2027-03-19\"}",
                                     &doc, w->key_event, &why),
              &why, "key event");
    db_doc_free(&doc);
    store_commit();
}

/* The items of the window as "type:id" lines in the query's order, with its filter. */
static char *items(const char *o, calendar_filter f, int limit, int *truncated)
{
    calendar_rows r;
    if (!f.types) f.types = ALL_TYPES;
    ck_assert_int_eq(calendar_store_items(c, o, &f, limit, &r), APP_OK);
    static char out[4096];
    out[0] = '\0';
    for (size_t i = 0; i < r.n; i++) {
        size_t n = strlen(out);
        snprintf(out + n, sizeof out - n, "%s%s:%s", n ? " " : "", calendar_cell(&r, i, CAL_TYPE),
                 calendar_cell(&r, i, CAL_ID));
    }
    if (truncated) *truncated = r.truncated;
    calendar_rows_free(&r);
    return out;
}

static char *expect(const char *a_type, const char *a, const char *b_type, const char *b, const char *c_type,
                    const char *c3)
{
    static char out[512];
    snprintf(out, sizeof out, "%s:%s", a_type, a);
    if (b) snprintf(out + strlen(out), sizeof out - strlen(out), " %s:%s", b_type, b);
    if (c3) snprintf(out + strlen(out), sizeof out - strlen(out), " %s:%s", c_type, c3);
    return out;
}

START_TEST(a_window_shows_what_overlaps_it_and_nothing_of_another_organisation)
{
    world w, theirs;
    make_world(org, &w);
    make_world(other_org, &theirs);
    calendar_filter f = {.from = "2027-03-02T00:00:00Z", .to = "2027-03-03T00:00:00Z"};
    ck_assert_str_eq(items(org, f, 100, NULL), expect("campaign", w.campaign, "booking", w.booking, NULL, NULL));
    /* Half-open: the booking ends when this window starts. */
    f = (calendar_filter){.from = "2027-03-02T10:00:00Z", .to = "2027-03-02T12:00:00Z"};
    ck_assert_str_eq(items(org, f, 100, NULL), expect("campaign", w.campaign, NULL, NULL, NULL, NULL));
    f = (calendar_filter){.from = "2027-03-18T00:00:00Z", .to = "2027-03-19T00:00:00Z"};
    ck_assert_str_eq(items(org, f, 100, NULL),
                     expect("campaign", w.campaign, "availability", w.leave, "key_event", w.key_event));
    /* A campaign's last day ends at midnight after it. */
    f = (calendar_filter){.from = "2027-04-01T00:00:00Z", .to = "2027-04-02T00:00:00Z"};
    ck_assert_str_eq(items(org, f, 100, NULL), "");
    f = (calendar_filter){.from = "2027-03-31T23:00:00Z", .to = "2027-04-02T00:00:00Z"};
    ck_assert_str_eq(items(org, f, 100, NULL), expect("campaign", w.campaign, NULL, NULL, NULL, NULL));
    /* Theirs stay theirs. */
    f = (calendar_filter){.from = "2027-03-02T00:00:00Z", .to = "2027-03-03T00:00:00Z"};
    ck_assert_str_eq(items(other_org, f, 100, NULL),
                     expect("campaign", theirs.campaign, "booking", theirs.booking, NULL, NULL));
}
END_TEST

START_TEST(filters_narrow_the_window_and_cancelled_items_show_only_when_asked)
{
    world w;
    make_world(org, &w);
    calendar_filter f = {.from = "2027-03-01T00:00:00Z", .to = "2027-04-01T00:00:00Z",
                         .types = "{campaign,booking,availability}"};
    ck_assert_str_eq(items(org, f, 100, NULL),
                     expect("campaign", w.campaign, "booking", w.booking, "availability", w.leave));
    f.types = "{key_event}";
    ck_assert_str_eq(items(org, f, 100, NULL), expect("key_event", w.key_event, NULL, NULL, NULL, NULL));
    f.types = "{booking}";
    f.include_cancelled = 1;
    ck_assert_str_eq(items(org, f, 100, NULL), expect("booking", w.booking, "booking", w.cancelled, NULL, NULL));
    calendar_rows r;
    ck_assert_int_eq(calendar_store_items(c, org, &f, 100, &r), APP_OK);
    ck_assert_str_eq(calendar_cell(&r, 1, CAL_STATUS), "cancelled");
    ck_assert_int_ge(atoi(calendar_cell(&r, 1, CAL_SEQUENCE)), 1); /* subscribers see it changed */
    calendar_rows_free(&r);
    /* One resource: its bookings and leave, the campaigns booking it, and the key events for context. */
    f = (calendar_filter){.from = "2027-03-01T00:00:00Z", .to = "2027-04-01T00:00:00Z", .resource_id = w.writer,
                          .types = "{booking,availability}"};
    ck_assert_str_eq(items(org, f, 100, NULL), expect("availability", w.leave, NULL, NULL, NULL, NULL));
    f.resource_id = w.banner;
    ck_assert_str_eq(items(org, f, 100, NULL), expect("booking", w.booking, NULL, NULL, NULL, NULL));
    f = (calendar_filter){.from = "2027-03-01T00:00:00Z", .to = "2027-04-01T00:00:00Z", .channel = "sms",
                          .types = "{campaign,booking}"};
    ck_assert_str_eq(items(org, f, 100, NULL), "");
    f.channel = "email";
    ck_assert_str_eq(items(org, f, 100, NULL), expect("campaign", w.campaign, "booking", w.booking, NULL, NULL));
    f = (calendar_filter){.from = "2027-03-01T00:00:00Z", .to = "2027-04-01T00:00:00Z", .owner = "someone-else",
                          .types = "{campaign,booking}"};
    ck_assert_str_eq(items(org, f, 100, NULL), "");
    /* At most limit items, and the caller is told there were more. */
    int truncated = 0;
    f = (calendar_filter){.from = "2027-03-01T00:00:00Z", .to = "2027-04-01T00:00:00Z"};
    ck_assert_str_eq(items(org, f, 2, &truncated), expect("campaign", w.campaign, "booking", w.booking, NULL, NULL));
    ck_assert_int_eq(truncated, 1);
    items(org, f, 4, &truncated);
    ck_assert_int_eq(truncated, 0);
}
END_TEST

START_TEST(campaign_days_are_the_organisations_days)
{
    world w;
    make_world(org, &w);
    const char *params[] = {org, "Europe/Paris"};
    ck_assert_int_eq(db_exec(c, &q_set_time_zone, params, NULL), APP_OK);
    /* 1 March in Paris starts at 23:00 UTC the day before. */
    calendar_filter f = {.from = "2027-02-28T23:30:00Z", .to = "2027-03-01T00:00:00Z", .types = "{campaign}"};
    ck_assert_str_eq(items(org, f, 100, NULL), expect("campaign", w.campaign, NULL, NULL, NULL, NULL));
    f = (calendar_filter){.from = "2027-03-31T23:00:00Z", .to = "2027-04-01T00:00:00Z", .types = "{campaign}"};
    ck_assert_str_eq(items(org, f, 100, NULL), "");
    calendar_rows r;
    ck_assert_int_eq(calendar_store_items(c, org, &f, 100, &r), APP_OK);
    ck_assert_str_eq(r.time_zone, "Europe/Paris");
    calendar_rows_free(&r);
}
END_TEST

/* The calendar's query must sort (it merges four tables by start), which enable_sort = off prices at 10^10:
 * far past every JIT threshold. On the service's connections it runs without JIT, not after a second of
 * compiling. */
START_TEST(the_calendar_query_is_not_jit_compiled)
{
    world w;
    make_world(org, &w);
    calendar_filter f = {.from = "2027-03-01T00:00:00Z", .to = "2027-04-01T00:00:00Z"};
    items(org, f, 100, NULL); /* prepares calendar_items on c */
    char sql[512];
    snprintf(sql, sizeof sql,
             "EXPLAIN (ANALYZE, FORMAT JSON) EXECUTE calendar_items('%s', '2027-03-01T00:00:00Z',"
             " '2027-04-01T00:00:00Z', NULL, NULL, NULL, NULL, '" ALL_TYPES "', false, 100)",
             org);
    PGresult *res = PQexec(db_conn_pg(c), sql);
    ck_assert_int_eq(PQresultStatus(res), PGRES_TUPLES_OK);
    json_t *j_plan = json_loads(PQgetvalue(res, 0, 0), 0, NULL);
    PQclear(res);
    ck_assert_ptr_nonnull(j_plan);
    json_t *j_top = json_array_get(j_plan, 0);
    ck_assert_msg(json_object_get(j_top, "JIT") == NULL, "the calendar query was JIT-compiled");
    ck_assert_int_eq(json_integer_value(json_object_get(json_object_get(j_top, "Plan"), "Actual Rows")), 4);
    json_decref(j_plan);
}
END_TEST

START_TEST(a_feed_token_opens_its_organisations_feed_until_revoked)
{
    char token[71], id[37];
    db_doc doc = {0};
    ck_assert_int_eq(calendar_feed_token_new(token), 0);
    app_refusal why = {0};
    store_begin_in(org, "pat", "planner");
    ck_assert_int_eq(feed_token_store_insert(c, org, "pat", token, "{\"name\":\"Email desk\",\"filters\":{\"channel\":"
                                                                   "\"email\",\"owner\":null}}",
                                             &doc.json, id, &why),
                     APP_OK);
    store_commit();
    ck_assert_ptr_null(strstr(doc.json, token)); /* shown once by the API, never stored or returned by the store */
    json_t *j = store_doc(&doc);
    ck_assert_str_eq(store_str(json_object_get(j, "filters"), "channel"), "email");
    json_decref(j);
    const char *stored[] = {org, token};
    char *n = NULL;
    ck_assert_int_eq(db_one_row(c, &q_stored_tokens, stored, &n, NULL, 0), APP_OK);
    ck_assert_str_eq(n, "0");
    free(n);

    char found_org[65], *filters = NULL;
    ck_assert_int_eq(feed_token_store_lookup(c, token, found_org, &filters), APP_OK);
    ck_assert_str_eq(found_org, org);
    ck_assert_str_eq(filters, "{\"channel\": \"email\"}");
    free(filters);
    char wrong[71];
    memcpy(wrong, token, sizeof wrong);
    wrong[69] = wrong[69] == '0' ? '1' : '0';
    ck_assert_int_eq(feed_token_store_lookup(c, wrong, found_org, &filters), APP_ERR_NOT_FOUND);

    /* Only its creator (or, with creator NULL, an admin) of its organisation revokes it. */
    list_result r;
    ck_assert_int_eq(feed_token_store_list(c, org, "someone-else", 0, 0, 0, NULL, NULL, 50, &r), APP_OK);
    ck_assert_uint_eq(r.n, 0);
    list_result_free(&r);
    store_begin_in(org, "sam", "planner");
    ck_assert_int_eq(feed_token_store_revoke(c, org, id, "sam", &why), APP_ERR_NOT_FOUND);
    app_refusal_clear(&why);
    db_rollback(c);
    store_begin_in(other_org, "ivan", "admin");
    ck_assert_int_eq(feed_token_store_revoke(c, other_org, id, NULL, &why), APP_ERR_NOT_FOUND);
    app_refusal_clear(&why);
    db_rollback(c);
    ck_assert_int_eq(feed_token_store_lookup(c, token, found_org, &filters), APP_OK);
    free(filters);
    store_begin_in(org, "pat", "planner");
    ck_assert_int_eq(feed_token_store_revoke(c, org, id, "pat", &why), APP_OK);
    store_commit();
    ck_assert_int_eq(feed_token_store_lookup(c, token, found_org, &filters), APP_ERR_NOT_FOUND);
    store_begin_in(org, "pat", "planner");
    ck_assert_int_eq(feed_token_store_revoke(c, org, id, "pat", &why), APP_OK); /* again: nothing changes */
    store_commit();
    ck_assert_int_eq(feed_token_store_list(c, org, "pat", 0, 0, 0, NULL, NULL, 50, &r), APP_OK);
    ck_assert_uint_eq(r.n, 0);
    list_result_free(&r);
    ck_assert_int_eq(feed_token_store_list(c, org, "pat", 1, 0, 0, NULL, NULL, 50, &r), APP_OK);
    ck_assert_uint_eq(r.n, 1);
    list_result_free(&r);
}
END_TEST

START_TEST(key_events_round_trip_in_their_organisation)
{
    char id[37];
    db_doc doc = {0};
    app_refusal why = {0};
    store_begin();
    ck_assert_int_eq(key_event_store_insert(c, org,
                                            "{\"name\":\"Black Friday\",\"kind\":\"sales_period\",\"start_date\":"
                                            "\"2027-11-26\",\"end_date\":\"2027-11-29\"}",
                                            &doc, id, &why),
                     APP_OK);
    store_commit();
    db_doc_free(&doc);
    store_begin();
    ck_assert_int_eq(key_event_store_update(c, org, id, "{\"end_date\":\"2027-11-25\"}", &doc, &why),
                     APP_ERR_VALIDATION); /* before its start */
    ck_assert_str_eq(why.field, "end_date");
    app_refusal_clear(&why);
    db_rollback(c);
    store_begin();
    ck_assert_int_eq(key_event_store_update(c, org, id, "{\"name\":\"Cyber week\"}", &doc, &why), APP_OK);
    store_commit();
    json_t *j = store_doc(&doc);
    ck_assert_str_eq(store_str(j, "name"), "Cyber week");
    ck_assert_int_eq(json_integer_value(json_object_get(j, "version")), 2);
    json_decref(j);
    ck_assert_int_eq(key_event_store_get(c, other_org, id, &doc), APP_ERR_NOT_FOUND);
    store_begin_in(other_org, "ivan", "admin");
    ck_assert_int_eq(key_event_store_delete(c, other_org, id, &why), APP_ERR_NOT_FOUND);
    app_refusal_clear(&why);
    db_rollback(c);
    list_result r;
    ck_assert_int_eq(key_event_store_list(c, org, NULL, "2027-11-29T00:00:00Z", "2027-11-30T00:00:00Z", NULL, 0, 0,
                                          NULL, NULL, 50, &r),
                     APP_OK);
    ck_assert_uint_eq(r.n, 1); /* its last day */
    list_result_free(&r);
    ck_assert_int_eq(key_event_store_list(c, org, NULL, "2027-11-30T00:00:00Z", "2027-12-01T00:00:00Z", NULL, 0, 0,
                                          NULL, NULL, 50, &r),
                     APP_OK);
    ck_assert_uint_eq(r.n, 0);
    list_result_free(&r);
    store_begin();
    ck_assert_int_eq(key_event_store_delete(c, org, id, &why), APP_OK);
    store_commit();
    ck_assert_int_eq(key_event_store_get(c, org, id, &doc), APP_ERR_NOT_FOUND);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("calendar_store");
    TCase *tc = store_tcase("calendar");
    tcase_add_test(tc, a_window_shows_what_overlaps_it_and_nothing_of_another_organisation);
    tcase_add_test(tc, filters_narrow_the_window_and_cancelled_items_show_only_when_asked);
    tcase_add_test(tc, campaign_days_are_the_organisations_days);
    tcase_add_test(tc, the_calendar_query_is_not_jit_compiled);
    tcase_add_test(tc, a_feed_token_opens_its_organisations_feed_until_revoked);
    tcase_add_test(tc, key_events_round_trip_in_their_organisation);
    suite_add_tcase(s, tc);
    return store_main(s, "calendar");
}
