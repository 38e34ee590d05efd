/* conflict_store.c — see conflict_store.h. Rows arrive as text; the slice keeps each PGresult until it is freed
 * and the portfolio's strings point into them. Ids are found by binary search over indexes sorted by id. */
#define _GNU_SOURCE
#include "conflict_store.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "settings.h"
#include "validate.h"

#define EPOCH_DAYS "DATE '1970-01-01'"
/* A window bound as text: a date is the start of that day on the organisation's calendar (tz). */
#define BOUND(p, tz) \
    "CASE WHEN " p " ~ '^[0-9]{4}-[0-9]{2}-[0-9]{2}$' THEN " p "::date::timestamp AT TIME ZONE " tz " ELSE " p "::timestamptz END"

/* Every statement of a slice derives its window the same way, in SQL, so the whole slice is one pipeline
 * (one round trip, or none of its own inside a write's first one): $1 the organisation, $2 and $3 the window as
 * asked, $4 the mode (scan, booking, booking_around, campaign). w: the organisation's time zone and the window
 * [f, t); the instants [lo, hi) of the bookings the rules look at (the window padded by the overlap window or the
 * frequency cap's days, and two weeks for free periods); the days [lo_day, hi_day] of the campaigns (padded as
 * much, and the 13 weeks a suggested move tries, unless a booking is asked about). org_window() is inlined into
 * each statement (0043_conflict_window.sql): a function call in FROM would be parsed and planned again by each of
 * them. A booking's question (q_booking_slice) pads only by what its resource (me) has its rules read — nothing
 * around a booking of an exclusive resource (what overlaps it) but a channel, its ISO week or day for a capacity,
 * its frequency cap's days for a channel (exclusive or not: a cap counts sends, not overlaps), as much as a scan
 * for a budget pool — unless it is asked around it (booking_around: for the free periods of a blocked booking). */
#define WINDOW "WITH " WINDOW_CTE("s.pad_days + 14")
#define WINDOW_RECURSIVE "WITH RECURSIVE " WINDOW_CTE("s.pad_days + 14")
#define BOOKING_OWN_PAD                                                                                          \
    "coalesce((SELECT CASE WHEN r.kind = 'budget_pool' THEN s.pad_days + 14"                                     \
    "  WHEN r.exclusive AND r.kind <> 'channel' THEN 0"                                                         \
    "  ELSE greatest(s.pad_days, 7, coalesce(r.frequency_cap_days, 0)) END"                                       \
    "  FROM me r), 0)"
#define BOOKING_PAD "CASE WHEN $4 = 'booking' THEN " BOOKING_OWN_PAD " ELSE s.pad_days + 14 END"
#define WINDOW_CTE(bpad)                                                                                         \
    "w AS MATERIALIZED (SELECT s.time_zone, x.f, x.t, x.cpad,"                                                   \
    " x.f - make_interval(days => x.bpad) AS lo, x.t + make_interval(days => x.bpad) AS hi,"                    \
    " (x.f AT TIME ZONE s.time_zone)::date - x.cpad AS lo_day,"                                                  \
    " ((x.t - interval '1 microsecond') AT TIME ZONE s.time_zone)::date + x.cpad AS hi_day"                      \
    " FROM org_window($1) s, LATERAL (SELECT " BOUND("$2", "s.time_zone") " AS f, " BOUND("$3", "s.time_zone")    \
    " AS t, " bpad " AS bpad, CASE WHEN $4 LIKE 'booking%' THEN -1 ELSE s.pad_days + 93 END AS cpad) x) "

/* A check of a booking ($4 booking_check): its own window, and around its period too (as booking_around, with
 * w.around true) when something that may block it is there — a live booking of its exclusive resource, an
 * unavailability of its resource, a blackout key event over its days — so that a blocked booking's free periods
 * and alternatives come in the same statement (the engine decides what blocks; what this predicate misses is
 * still loaded around in a second round trip, conflict_slice_wants_around). */
#define CHECK_BLOCKING                                                                                           \
    "(EXISTS (SELECT 1 FROM bookings b WHERE b.resource_id = $5::uuid AND b.exclusive AND b.status <> 'cancelled'" \
    "  AND b.period && tstzrange(x.f, x.t) AND (b.org_id = $1) IS TRUE)"                                        \
    " OR EXISTS (SELECT 1 FROM availability a WHERE a.resource_id = $5::uuid AND a.period && tstzrange(x.f, x.t)" \
    "  AND (a.org_id = $1) IS TRUE)"                                                                            \
    " OR EXISTS (SELECT 1 FROM key_events k WHERE k.org_id = $1 AND k.kind = 'blackout'"                        \
    "  AND k.end_date >= (x.f AT TIME ZONE s.time_zone)::date"                                                  \
    "  AND k.start_date <= ((x.t - interval '1 microsecond') AT TIME ZONE s.time_zone)::date))"
#define CHECK_WINDOW(own_pad)                                                                                    \
    "w AS MATERIALIZED (SELECT s.time_zone, x.f, x.t, x.cpad,"                                                   \
    " x.f - make_interval(days => y.bpad) AS lo, x.t + make_interval(days => y.bpad) AS hi,"                    \
    " (x.f AT TIME ZONE s.time_zone)::date - x.cpad AS lo_day,"                                                  \
    " ((x.t - interval '1 microsecond') AT TIME ZONE s.time_zone)::date + x.cpad AS hi_day, y.around"           \
    " FROM org_window($1) s, LATERAL (SELECT " BOUND("$2", "s.time_zone") " AS f, " BOUND("$3", "s.time_zone")    \
    " AS t, CASE WHEN $4 LIKE 'booking%' THEN -1 ELSE s.pad_days + 93 END AS cpad) x,"                          \
    " LATERAL (SELECT b.around, CASE WHEN b.around THEN s.pad_days + 14"                                          \
    "  ELSE " own_pad " END AS bpad FROM (SELECT " CHECK_BLOCKING " AS around OFFSET 0) b) y) "
#define CHECK_WINDOW_CTE CHECK_WINDOW(BOOKING_OWN_PAD)

/* Every column of a slice is text (as the rows arrive anyway): a booking's slice is one UNION ALL of its parts,
 * each row led by its part's tag and padded to the widest part (a campaign's 20 columns) with NULLs. */
#define NULLS1 ", NULL"
#define NULLS2 NULLS1 NULLS1
#define NULLS4 NULLS2 NULLS2
#define NULLS8 NULLS4 NULLS4
#define NULLS16 NULLS8 NULLS8

/* A booking's resource (me, read once by key): the columns its slice reads, no more (each reference to it sets up
 * a scan with a row of these columns). */
#define ME_CTE                                                                                                   \
    "me AS MATERIALIZED (SELECT r.id, r.name, r.kind, r.capacity_unit, r.capacity, r.active, r.cost_currency,"     \
    " r.cost_amount, r.frequency_cap_sends, r.frequency_cap_days, r.exclusive, r.skills FROM resources r"         \
    " WHERE r.id = $5::uuid AND (r.org_id = $1) IS TRUE)"

/* The frame: the settings (their row as GET /v1/settings shows it, NULL before the first change: the defaults),
 * today, the window, what is loaded around it, the bucket (day) a booking on resource r starting at f counts in
 * (bucket: SQL naming the resource row as r), whether the resource asked about is the organisation's (found: a
 * booking's slice sends NULL, its resource's row says). */
#define FRAME_COLUMNS(bucket, found)                                                                             \
    "(SELECT settings_json(o) FROM org_settings o WHERE o.org_id = $1)::text, w.time_zone,"                      \
    " ((now() AT TIME ZONE w.time_zone)::date - " EPOCH_DAYS ")::text,"                                          \
    " extract(epoch FROM w.f)::bigint::text, extract(epoch FROM w.t)::bigint::text,"                             \
    " ((w.f AT TIME ZONE w.time_zone)::date - " EPOCH_DAYS ")::text,"                                            \
    " (((w.t - interval '1 microsecond') AT TIME ZONE w.time_zone)::date + 1 - " EPOCH_DAYS ")::text,"           \
    " (" bucket ")::text, (" found ")::text,"                                                                    \
    " extract(epoch FROM w.lo)::bigint::text, extract(epoch FROM w.hi)::bigint::text"
#define BUCKET_OF(r)                                                                                             \
    "CASE " r ".capacity_unit WHEN 'hours_per_week' THEN date_trunc('week', w.f AT TIME ZONE w.time_zone)::date" \
    " WHEN 'sends_per_day' THEN (w.f AT TIME ZONE w.time_zone)::date END - " EPOCH_DAYS
/* A scan's or a campaign's frame (no resource asked about). */
static const db_stmt q_frame = {"conflict_frame", WINDOW "SELECT " FRAME_COLUMNS("NULL", "true") " FROM w", 4};

static const db_stmt q_segments = {
    "conflict_segments", "SELECT t.id::text, t.name, t.parent_id::text FROM segments t WHERE t.org_id = $1", 1};
static const db_stmt q_overlaps = {
    "conflict_overlaps",
    "SELECT o.segment_a::text, o.segment_b::text, round(o.ratio * 10000)::integer::text FROM segment_overlaps o"
    " WHERE o.org_id = $1",
    1};
/* A resource's columns, then its rank among a booking's alternatives (NULL: not one). */
#define RESOURCE_COLUMNS(t)                                                                                      \
    t ".id::text, " t ".name, " t ".kind, " t ".capacity_unit, " t ".capacity::text, " t ".active::text,"        \
    " " t ".cost_currency, ((" t ".cost_amount * 100)::bigint)::text, " t ".frequency_cap_sends::text,"         \
    " " t ".frequency_cap_days::text"
static const db_stmt q_resources = {
    "conflict_resources", "SELECT " RESOURCE_COLUMNS("t") ", NULL FROM resources t WHERE t.org_id = $1", 1};
/* A campaign's columns. Its segments when the rules between campaigns may be asked (segs: SQL true; a booking's
 * never are), and what only the rules about the campaign itself read when the question is about it (own: SQL,
 * true for the campaign asked about, every campaign in a scan): the committed cost of its live bookings (budget
 * pools aside) in its budget's currency, kept per campaign by the bookings' triggers
 * (0013_campaign_commitments.sql), its open critical risks without a mitigation (with segs: the risk rule does not
 * run for a booking either), its channel budgets and the spend measured for it. The others' are NULL (a CASE runs
 * its sub-selects only for the rows it picks; a constant false one is no sub-select at all). */
#define CAMPAIGN_COLUMNS(segs, own)                                                                              \
    CAMPAIGN_COLUMNS_LISTED("CASE WHEN " segs " THEN array_to_string(" CAMPAIGN_SEGMENTS("c") ", ',') END",      \
                            segs " AND " own, own)
/* A campaign's segment ids in their order (an array), c the campaign's row. */
#define CAMPAIGN_SEGMENTS(c)                                                                                     \
    "ARRAY(SELECT cs.segment_id FROM campaign_segments cs WHERE cs.campaign_id = " c ".id ORDER BY cs.position)"
/* The same with its segment list given (list: SQL, the ids as text separated by commas, or NULL) and whether its
 * risks are read (risks: SQL). */
#define CAMPAIGN_COLUMNS_LISTED(list, risks, own)                                                                       \
    "c.id::text, c.name, c.status, (c.start_date - " EPOCH_DAYS ")::text, (c.end_date - " EPOCH_DAYS ")::text,"  \
    " c.budget_currency, ((c.budget_amount * 100)::bigint)::text, " list ","                                   \
    " CASE WHEN c.has_offer THEN c.offer_code END, c.offer_terms, c.offer_description,"                         \
    " round(c.priority_score * 10)::integer::text, NULL, NULL, NULL,"                                           \
    " CASE WHEN " own " THEN coalesce((SELECT round(k.amount * 100)::bigint FROM campaign_commitments k"         \
    "  WHERE k.campaign_id = c.id AND k.currency = c.budget_currency), 0)::text END,"                           \
    " CASE WHEN " risks " THEN (SELECT json_agg(json_build_object('id', k.id, 'title', k.title)"      \
    "  ORDER BY k.created_at, k.id) FROM risks k WHERE k.campaign_id = c.id AND k.status = 'open'"              \
    "  AND k.level = 'critical' AND k.mitigation IS NULL)::text END,"                                           \
    /* the split across channels, and the spend measured (in the budget's currency) in all and per channel, in   \
       one read of its measurements: [cents, [{channel, amount}] or null] (spend has cents exactly: the sum of   \
       the channels' sums, the one without a channel too, is the total), then a column left NULL */             \
    " CASE WHEN " own " THEN nullif(c.channel_budgets, '[]'::jsonb)::text END,"                                 \
    " CASE WHEN " own " THEN (SELECT json_build_array(coalesce(sum(x.cents), 0), json_agg(json_build_object("   \
    "  'channel', x.channel, 'amount', x.cents)) FILTER (WHERE x.channel IS NOT NULL))"                          \
    "  FROM (SELECT m.channel, round(sum(m.spend) * 100)::bigint AS cents FROM measurements m"                  \
    "  WHERE m.org_id = c.org_id AND m.campaign_id = c.id AND m.currency = c.budget_currency"                    \
    "  GROUP BY m.channel) x)::text END, NULL"
/* A scan: the campaigns whose dates meet [lo_day, hi_day] (through campaigns_end), each then read by its key (one
 * array of ids, computed once before the campaigns are read — its sub-select names w itself — so no plan joins,
 * sorts or scans the campaigns). A booking of the window may belong to a campaign dated elsewhere: those are read
 * after, by their keys (q_campaigns_by_id), rather than every booking's campaign id on each scan. */
static const db_stmt q_campaigns = {
    "conflict_campaigns",
    WINDOW "SELECT " CAMPAIGN_COLUMNS("true", "true")
    " FROM campaigns c WHERE c.id = ANY (ARRAY(SELECT d.id FROM w, campaigns d"
    "  WHERE d.org_id = $1 AND d.end_date >= w.lo_day AND d.start_date <= w.hi_day)) AND (c.org_id = $1) IS TRUE",
    4};
static const db_stmt q_campaigns_by_id = {
    "conflict_campaigns_by_id",
    "SELECT " CAMPAIGN_COLUMNS("true", "true") " FROM campaigns c WHERE c.id = ANY ($2::uuid[]) AND (c.org_id = $1) IS TRUE",
    2};
#define BOOKING_COLUMNS(b)                                                                                       \
    b ".id::text, " b ".campaign_id::text, " b ".resource_id::text, " b ".segment_id::text,"                     \
    " extract(epoch FROM lower(" b ".period))::bigint::text, extract(epoch FROM upper(" b ".period))::bigint::text," \
    " " b ".quantity::text, " b ".status, " b ".cost_currency, ((" b ".cost_amount * 100)::bigint)::text,"       \
    " (" b ".load_bucket - " EPOCH_DAYS ")::text"
/* A scan: the bookings of resources that are not exclusive (bookings_org_period_shared, 0053), and those of
 * exclusive ones that meet an unavailability of their resource or a blackout key event. Two bookings of an
 * exclusive resource never overlap (bookings_no_overlap, 0005), so those are all a scan can find about them; the
 * cost they commit is kept per campaign (0013). Those in a blackout are found through the organisation's period
 * index, exclusive or not, and kept when exclusive: asked for exclusive ones there, a plan without statistics
 * could take bookings_no_overlap (every organisation's) by period alone. */
static const db_stmt q_bookings = {
    "conflict_bookings",
    WINDOW "SELECT " BOOKING_COLUMNS("b") " FROM w, bookings b WHERE b.org_id = $1 AND NOT b.exclusive"
    " AND b.status <> 'cancelled' AND b.period && tstzrange(w.lo, w.hi)"
    " UNION ALL SELECT " BOOKING_COLUMNS("b") " FROM w, bookings b WHERE b.id = ANY (ARRAY("
    "  SELECT e.id FROM w, availability a CROSS JOIN LATERAL (SELECT e.id FROM bookings e"
    "   WHERE e.resource_id = a.resource_id AND e.status <> 'cancelled' AND e.period && a.period"
    "   AND e.exclusive OFFSET 0) e"
    "  WHERE a.org_id = $1 AND a.period && tstzrange(w.lo, w.hi)"
    "  UNION SELECT e.id FROM w, key_events k CROSS JOIN LATERAL (SELECT e.id, e.exclusive FROM bookings e"
    "   WHERE e.org_id = $1 AND e.period && tstzrange(k.start_date::timestamp AT TIME ZONE w.time_zone,"
    "    (k.end_date + 1)::timestamp AT TIME ZONE w.time_zone)"
    "   AND e.period && tstzrange(w.lo, w.hi) AND e.status <> 'cancelled' OFFSET 0) e"
    "  WHERE e.exclusive AND k.org_id = $1 AND k.kind = 'blackout' AND k.end_date >= (w.lo AT TIME ZONE w.time_zone)::date"
    "  AND k.start_date <= (w.hi AT TIME ZONE w.time_zone)::date))"
    " AND lower(b.period) < w.hi AND upper(b.period) > w.lo AND (b.org_id = $1) IS TRUE", /* by key: no range index */
    4};
#define UNAVAILABILITY_COLUMNS                                                                                   \
    "a.id::text, a.resource_id::text, a.kind, extract(epoch FROM lower(a.period))::bigint::text,"                \
    " extract(epoch FROM upper(a.period))::bigint::text"
static const db_stmt q_unavailability = {
    "conflict_unavailability",
    WINDOW "SELECT " UNAVAILABILITY_COLUMNS " FROM w, availability a WHERE a.org_id = $1"
    " AND a.period && tstzrange(w.lo, w.hi)",
    4};
/* The organisation's blackout key events the rules look at: their columns, then where they are read. */
#define BLACKOUT_COLUMNS                                                                                         \
    "k.id::text, k.name, (k.start_date - " EPOCH_DAYS ")::text, (k.end_date - " EPOCH_DAYS ")::text,"            \
    " extract(epoch FROM k.start_date::timestamp AT TIME ZONE w.time_zone)::bigint::text,"                       \
    " extract(epoch FROM (k.end_date + 1)::timestamp AT TIME ZONE w.time_zone)::bigint::text"
#define BLACKOUTS_FROM                                                                                           \
    " FROM w, key_events k WHERE k.org_id = $1 AND k.kind = 'blackout'"                                          \
    " AND k.end_date >= least(w.lo_day, (w.lo AT TIME ZONE w.time_zone)::date)"                                  \
    " AND k.start_date <= greatest(w.hi_day, (w.hi AT TIME ZONE w.time_zone)::date)"
static const db_stmt q_blackouts = {"conflict_blackouts", WINDOW "SELECT " BLACKOUT_COLUMNS BLACKOUTS_FROM, 4};

/* A campaign's slice, in one statement (segs: the parameter naming the segments whose audience the campaigns loaded
 * meet, an array; offer: its offer code, or NULL; stored: the parameter naming the stored campaign it changes, or
 * none), each row led by its part's tag as in a booking's: the frame (f); the campaigns (c) whose audience meets its
 * own (a segment of theirs related to one of segs — the same, an ancestor, a descendant, or a declared overlap) with
 * dates within [lo_day, hi_day] (the rules' window and the weeks a suggested move tries), those promoting its offer
 * code while it runs (whatever their audience), and itself, stored; never the organisation's campaigns one by one;
 * the segments of those campaigns and of segs with their ancestors (s: what every ancestry between them needs; not
 * the organisation's segments) and the overlaps declared between two of them (o); the blackout key events (k). Each
 * segment's relatives are read by key or through segments_parent and the overlaps' indexes, the campaigns of a
 * related segment dated in the window through campaign_audience_dates (0070: no campaign dated elsewhere is read)
 * and those of its offer through campaigns_offer, then by key (OFFSET 0 keeps each lookup per id: joined, a plan
 * may scan the organisation's), once, each with its segment list (segs in cc), read once for both the segments'
 * walk and its row. */
#define CAMPAIGN_SLICE(segs, offer, stored)                                                                      \
    WINDOW_RECURSIVE ", s(id) AS (SELECT DISTINCT unnest(" segs "::uuid[])),"                                    \
    " up(id) AS (SELECT s.id FROM s UNION SELECT (SELECT g.parent_id FROM segments g WHERE g.id = up.id) FROM up"  \
    "  WHERE up.id IS NOT NULL),"                                                                                 \
    " down(id) AS (SELECT s.id FROM s UNION SELECT g.id FROM down CROSS JOIN LATERAL (SELECT g.id FROM segments g"  \
    "  WHERE g.org_id = $1 AND g.parent_id = down.id OFFSET 0) g),"                                               \
    " rel(id) AS (SELECT up.id FROM up WHERE up.id IS NOT NULL UNION SELECT down.id FROM down"                    \
    "  UNION SELECT o.id FROM s CROSS JOIN LATERAL (SELECT o.segment_b AS id FROM segment_overlaps o"              \
    "   WHERE o.org_id = $1 AND o.segment_a = s.id UNION ALL SELECT o.segment_a FROM segment_overlaps o"          \
    "   WHERE o.segment_b = s.id AND (o.org_id = $1) IS TRUE OFFSET 0) o),"                                       \
    " cc AS MATERIALIZED (SELECT c.*, " CAMPAIGN_SEGMENTS("c") " AS segs FROM w, campaigns c"                    \
    "  WHERE c.id = ANY (ARRAY(SELECT m.campaign_id FROM w, rel CROSS JOIN LATERAL (SELECT m.campaign_id"          \
    "   FROM campaign_audience m WHERE m.segment_id = rel.id AND m.end_date >= w.lo_day"                           \
    "   AND m.start_date <= w.hi_day OFFSET 0) m)"                                                                \
    "  || ARRAY(SELECT d.id FROM w, campaigns d WHERE d.org_id = $1 AND d.has_offer"                              \
    "   AND lower(d.offer_code) = lower(" offer ") AND d.end_date >= (w.f AT TIME ZONE w.time_zone)::date"        \
    "   AND d.start_date <= ((w.t - interval '1 microsecond') AT TIME ZONE w.time_zone)::date)"                   \
    "  " STORED_ID(stored, "|| ", "") ") AND (c.org_id = $1) IS TRUE"                                             \
    "  AND (c.end_date >= w.lo_day AND c.start_date <= w.hi_day" STORED_ID(stored, " OR c.id = ", "") ")),"        \
    " g(id) AS (SELECT unnest(cc.segs) FROM cc"                                                                   \
    "  UNION SELECT s.id FROM s"                                                                                  \
    "  UNION SELECT (SELECT t.parent_id FROM segments t WHERE t.id = g.id) FROM g WHERE g.id IS NOT NULL),"       \
    " sg AS MATERIALIZED (SELECT t.id, t.name, t.parent_id FROM g CROSS JOIN LATERAL (SELECT t.id, t.name, t.parent_id" \
    "  FROM segments t WHERE t.id = g.id AND (t.org_id = $1) IS TRUE OFFSET 0) t)"                                \
    " SELECT 'f', " FRAME_COLUMNS("NULL", "true") NULLS8 NULLS1 " FROM w"                                         \
    " UNION ALL SELECT 's', sg.id::text, sg.name, sg.parent_id::text" NULLS16 NULLS1 " FROM sg"                   \
    " UNION ALL SELECT 'o', o.segment_a::text, o.segment_b::text, round(o.ratio * 10000)::integer::text" NULLS16  \
    NULLS1 " FROM sg CROSS JOIN LATERAL (SELECT o.segment_a, o.segment_b, o.ratio FROM segment_overlaps o"        \
    "  WHERE o.org_id = $1 AND o.segment_a = sg.id OFFSET 0) o WHERE o.segment_b = ANY (ARRAY(SELECT sg.id FROM sg))" \
    " UNION ALL SELECT 'c', " CAMPAIGN_COLUMNS_LISTED("array_to_string(c.segs, ',')", STORED_ID(stored, "c.id = ", "false"),   \
                                                     STORED_ID(stored, "c.id = ", "false"))                       \
    " FROM cc c"                                                                                                  \
    " UNION ALL SELECT 'k', " BLACKOUT_COLUMNS NULLS8 NULLS4 NULLS2 BLACKOUTS_FROM
/* before followed by the stored campaign's id (stored: its parameter), or none when there is none (empty stored). */
#define STORED_ID(stored, before, none) STORED_ID_##stored(before, none)
#define STORED_ID_none(before, none) none
#define STORED_ID_5(before, none) before "$5::uuid"
/* A change of a stored campaign ($5 its id, $6 the segments, $7 the offer code): with the stored one's money, risks
 * and measured spend (for its own rules; CAMPAIGN_COLUMNS' own). */
static const db_stmt q_campaign_slice = {"conflict_campaign_slice", CAMPAIGN_SLICE("$6", "$7", 5), 7};
/* A new campaign's ($5 the segments, $6 the offer code): none of the parts a stored one needs, so that its plan
 * holds no sub-select it never runs (the commitments, the risks, two aggregates of the measurements). */
static const db_stmt q_campaign_slice_new = {"conflict_campaign_slice_new", CAMPAIGN_SLICE("$5", "$6", none), 6};

/* A booking's slice, in one statement (each of the seven it was derived the window again and had its own
 * executor start-up: 0.6 ms of PostgreSQL's CPU a booking write): $5 the booked resource (me, read once), $6 its
 * campaign, $7 its segment (or NULL). Each row is led by its part's tag: the frame (f); the segments its rules
 * read (s: a frequency cap counts the sends to a segment and its ancestors) — those of its resource's bookings in
 * the window and its own, with their ancestors, each read by its key (OFFSET 0 keeps the lookup per id: joined, a
 * plan may scan the organisation's segments); its resource (r) and, asked around it, its alternatives: up to 3
 * other active exclusive resources of its kind with at least its skills, free over the whole period (no live
 * booking, no unavailability), by name; its campaign and those of the live bookings of its resource around it (c,
 * each read by its key); those bookings (b: bk, read once through the resource's index, never through the
 * organisation's bookings); its resource's unavailability (u) and the blackout key events (k). */
#define BOOKING_SLICE_OF(with, segs_cte, segs_part, bucket, window, around, alternatives)                       \
    with " " ME_CTE ","                                                                                          \
    " " window ","                                                                                               \
    " bk AS MATERIALIZED (SELECT b.id, b.campaign_id, b.resource_id, b.segment_id, b.period, b.quantity, b.status,"  \
    "  b.cost_currency, b.cost_amount, b.load_bucket FROM w, bookings b WHERE b.resource_id = $5::uuid"          \
    "  AND b.status <> 'cancelled'"                                                                               \
    "  AND b.period && tstzrange(w.lo, w.hi) AND (b.org_id = $1) IS TRUE)" segs_cte                              \
    " SELECT 'f', " FRAME_COLUMNS(bucket, "NULL") ", " around NULLS8 " FROM w"              \
    " UNION ALL SELECT 's', t.id::text, t.name, t.parent_id::text" NULLS16 NULLS1 segs_part                       \
    " UNION ALL SELECT 'r', " RESOURCE_COLUMNS("me") ", NULL" NULLS8 NULLS1 " FROM me" alternatives               \
    " UNION ALL SELECT 'c', " CAMPAIGN_COLUMNS("false", "c.id = $6::uuid")                                       \
    " FROM campaigns c WHERE c.id = ANY (ARRAY(SELECT bk.campaign_id FROM bk) || $6::uuid) AND (c.org_id = $1) IS TRUE" \
    " UNION ALL SELECT 'b', " BOOKING_COLUMNS("b") NULLS8 NULLS1 " FROM bk b"                                    \
    " UNION ALL SELECT 'u', " UNAVAILABILITY_COLUMNS NULLS8 NULLS4 NULLS2 NULLS1 " FROM w, availability a"       \
    "  WHERE a.resource_id = $5::uuid AND a.period && tstzrange(w.lo, w.hi) AND (a.org_id = $1) IS TRUE"         \
    " UNION ALL SELECT 'k', " BLACKOUT_COLUMNS NULLS8 NULLS4 NULLS2 BLACKOUTS_FROM
#define BOOKING_SLICE(window, around, alternatives)                                                              \
    BOOKING_SLICE_OF("WITH RECURSIVE",                                                                           \
                     ", z(id) AS (SELECT bk.segment_id FROM bk WHERE bk.segment_id IS NOT NULL"                  \
                     "  UNION SELECT $7::uuid WHERE $7::uuid IS NOT NULL"                                         \
                     "  UNION SELECT (SELECT g.parent_id FROM segments g WHERE g.id = z.id) FROM z WHERE z.id IS NOT NULL)", \
                     " FROM z CROSS JOIN LATERAL (SELECT t.id, t.name, t.parent_id FROM segments t"               \
                     "  WHERE t.id = z.id AND (t.org_id = $1) IS TRUE OFFSET 0) t",                               \
                     "SELECT " BUCKET_OF("r") " FROM me r", window, around, alternatives)
static const db_stmt q_booking_slice = {"conflict_booking_slice", BOOKING_SLICE(WINDOW_CTE(BOOKING_PAD), "NULL", ""), 7};
/* A booking's alternatives (r, ranked), read when w says (cond: SQL over w). */
#define ALTERNATIVES(cond)                                                                                       \
    " UNION ALL SELECT 'r', a.*, (row_number() OVER ())::text" NULLS8 NULLS1 " FROM (SELECT " RESOURCE_COLUMNS("r") \
    " FROM w, resources r WHERE " cond " AND r.org_id = $1 AND r.kind = (SELECT me.kind FROM me)"                 \
    "  AND r.id <> $5::uuid AND r.active AND r.exclusive AND r.skills @> (SELECT me.skills FROM me)"             \
    "  AND NOT EXISTS (SELECT 1 FROM bookings b WHERE b.resource_id = r.id AND b.status <> 'cancelled'"         \
    "   AND b.period && tstzrange(w.f, w.t))"                                                                    \
    "  AND NOT EXISTS (SELECT 1 FROM availability a WHERE a.resource_id = r.id"                                  \
    "   AND a.period && tstzrange(w.f, w.t))"                                                                    \
    "  ORDER BY r.name LIMIT 3) a"
/* The same around its period ($4 booking_around), with its alternatives: a statement of its own, so that a write's
 * plan holds no part it never runs. */
static const db_stmt q_booking_slice_around = {
    "conflict_booking_slice_around", BOOKING_SLICE(WINDOW_CTE(BOOKING_PAD), "NULL", ALTERNATIVES("true")), 7};
/* A check's ($4 booking_check): around its period and with its alternatives when w.around (CHECK_WINDOW_CTE), so
 * that a blocked booking's check is one round trip too; the frame says which (around). The alternatives' gate is a
 * sub-select, so that it is decided once before their resources are read (a column of w in their WHERE was tested
 * on every resource of the kind), and the blocking predicate is evaluated once (OFFSET 0: pulled up, it ran once
 * for each of its uses). */
static const db_stmt q_booking_slice_check = {
    "conflict_booking_slice_check",
    BOOKING_SLICE(CHECK_WINDOW_CTE, "w.around::text", ALTERNATIVES("(SELECT w.around FROM w)")), 7};
/* A check on a resource last seen needing only its own rows (plain_resource: an exclusive slot or person), as
 * q_booking_slice_check with what only the other kinds' rules read left out: the segments of the bookings around
 * it and every segment's ancestors (a channel's frequency cap counts them; its own segment is read, by key), its
 * bucket (a capacity counted by week or day) and the padding of its window by its kind (nothing around an
 * exclusive slot or person but what overlaps it). A fifth fewer plan nodes, among them a recursive union and its
 * hash table, each set up on every execution. The frame and the resource's row say whether the resource is still
 * plain; when not, the check reads it again in full (conflict_slice_incomplete). */
static const db_stmt q_booking_slice_check_plain = {
    "conflict_booking_slice_check_plain",
    BOOKING_SLICE_OF("WITH", "", " FROM segments t WHERE t.id = $7::uuid AND (t.org_id = $1) IS TRUE", "NULL",
                     CHECK_WINDOW("0"), "w.around::text", ALTERNATIVES("(SELECT w.around FROM w)")),
    7};
/* A new booking's slice for a write on a resource that needs only its own rows (plain_resource: an exclusive slot
 * or person, as last seen): the frame, its own segment (none of its ancestors: only a channel's frequency cap counts
 * them), the resource, its own campaign and the blackout key events (k) — none of the bookings around it, their
 * campaigns and segments, or its resource's unavailability. What those could find about it (a double booking, the
 * resource unavailable) the database refuses by itself, so the rules' answer to a write is the same (the check
 * reads them: it names what is in the way). Half the plan's nodes of q_booking_slice, whose start-up was most of
 * its cost. The frame and the resource's row are q_booking_slice's: read_slice learns from them whether the
 * resource is still plain, and the slice is read again in full when not (conflict_slice_incomplete). */
static const db_stmt q_booking_slice_plain = {
    "conflict_booking_slice_plain",
    "WITH " ME_CTE ", "
    WINDOW_CTE("0")
    " SELECT 'f', " FRAME_COLUMNS("NULL", "NULL") ", NULL" NULLS8 " FROM w"
    " UNION ALL SELECT 's', t.id::text, t.name, t.parent_id::text" NULLS16 NULLS1
    " FROM segments t WHERE t.id = $7::uuid AND (t.org_id = $1) IS TRUE"
    " UNION ALL SELECT 'r', " RESOURCE_COLUMNS("me") ", NULL" NULLS8 NULLS1 " FROM me"
    " UNION ALL SELECT 'c', " CAMPAIGN_COLUMNS("false", "true") " FROM campaigns c WHERE c.id = $6::uuid"
    " AND (c.org_id = $1) IS TRUE"
    " UNION ALL SELECT 'k', " BLACKOUT_COLUMNS NULLS8 NULLS4 NULLS2 BLACKOUTS_FROM,
    7};

/* ---- which booked resources need only their own rows, as last seen ---- */

/* A hint per resource id, kept by this process: whether its booking writes may read the plain slice. A hint is
 * never trusted: the slice read says what the resource is now, a wrong "plain" is read again in full, and a wrong
 * "not plain" (or none) only costs the full statement. Nothing another replica needs; a full table starts over. */
#define HINTS 4096
static struct {
    char id[37];
    unsigned char plain;
} hints[HINTS];
static size_t nhints;
static pthread_mutex_t hints_lock = PTHREAD_MUTEX_INITIALIZER;

/* The slot of id in the table: its own, or the empty one where it would go (the table is never full). */
static size_t hint_slot(const char *id)
{
    size_t h = 2166136261u;
    for (const char *c = id; *c; c++) h = (h ^ (unsigned char)*c) * 16777619u;
    for (h &= HINTS - 1; hints[h].id[0] && strcmp(hints[h].id, id) != 0; h = (h + 1) & (HINTS - 1)) {}
    return h;
}

/* 1 plain, 0 not, -1 unknown. */
static int hint_get(const char *id)
{
    if (!id || strlen(id) != 36) return -1;
    pthread_mutex_lock(&hints_lock);
    size_t h = hint_slot(id);
    int plain = hints[h].id[0] ? hints[h].plain : -1;
    pthread_mutex_unlock(&hints_lock);
    return plain;
}

static void hint_set(const char *id, int plain)
{
    if (!id || strlen(id) != 36) return;
    pthread_mutex_lock(&hints_lock);
    size_t h = hint_slot(id);
    if (!hints[h].id[0]) {
        if (nhints >= HINTS / 4 * 3) { /* start over rather than probe a crowded table */
            memset(hints, 0, sizeof hints);
            nhints = 0;
            h = hint_slot(id);
        }
        memcpy(hints[h].id, id, 37);
        nhints++;
    }
    hints[h].plain = (unsigned char)plain;
    pthread_mutex_unlock(&hints_lock);
}

/* Whether a booking of r needs only its own rows in a write's slice (q_booking_slice_plain). */
static int plain_resource(const cf_resource *r)
{
    return (r->kind == CF_SLOT || r->kind == CF_PERSON) && r->unit == CF_CONCURRENT && r->capacity == 1;
}

enum { R_FRAME, R_SEG, R_OVL, R_RES, R_CAMP, R_BOOK, R_UNAV, R_BLACK, R_CAMP_MORE, R_COUNT };

/* The tags of a booking's or a campaign's slice (q_booking_slice, q_campaign_slice), by part. */
static const char part_tags[R_COUNT] = {[R_FRAME] = 'f', [R_SEG] = 's', [R_OVL] = 'o', [R_RES] = 'r', [R_CAMP] = 'c',
                                        [R_BOOK] = 'b', [R_UNAV] = 'u', [R_BLACK] = 'k'};

/* The rows of one part of a slice: a result of its own (at NULL, col0 0), or those of a booking's or a campaign's
 * one result tagged with the part (their row numbers in at, their columns after the tag). */
typedef struct rows {
    const PGresult *r;
    const int *at;
    int n, col0;
} rows;

struct conflict_slice {
    PGresult *res[R_COUNT]; /* a part's own result; a booking's or a campaign's one result is res[R_FRAME] */
    rows v[R_COUNT];
    int *at;                /* that one result's row numbers, by part */
    void **held;    /* blocks freed with the slice (the campaigns' channel amounts) */
    size_t nheld, capheld;
    json_t *j_settings;
    json_t *j_hold;  /* documents the strings of proposals and channel amounts point into */
    json_t *j_risks; /* the campaigns' risks, one array per campaign that has any, in campaign order */
    cf_settings settings;
    cf_scope scope;
    char tz[80];
    cf_segment *segs;
    cf_overlap *ovls;
    cf_campaign *camps;
    int *camp_segs;  /* the campaigns' segment indexes, one run each */
    cf_resource *ress;
    cf_booking *books;
    cf_unavailability *unav;
    cf_blackout *blacks;
    cf_risk *risks;
    int *seg_by_id, *camp_by_id, *res_by_id; /* indexes sorted by id */
    int bucket;     /* the proposal's bucket (day), when its resource counts by week or day */
    int plain;      /* read with q_booking_slice_plain or q_booking_slice_check_plain */
    int incomplete; /* ... while the resource is no longer plain: to read again in full */
    size_t nmissing; /* bookings read whose campaign is not (a scan's campaigns dated elsewhere) */
    conflict_mode mode;
    int alternatives[3];
    int *proposal_segs;
    cf_portfolio p;
    conflict_ask ask; /* what was asked (its strings borrowed), for loading around a booking */
    const char *org;
    json_t *j_proposal; /* the last proposal and the stored booking it changes (or NULL), both held in j_hold */
    json_t *j_stored;
    /* what the last proposal changed, to show the portfolio as it was (conflict_slice_before); a booking
       MOVED is a stored one that was not loaded (outside the window around its new period): only its cost was
       there, in its campaign's committed sum */
    enum { PRIOR_NONE, PRIOR_BOOKING_ADDED, PRIOR_BOOKING_REPLACED, PRIOR_BOOKING_MOVED, PRIOR_CAMPAIGN_ADDED,
           PRIOR_CAMPAIGN_REPLACED } prior;
    int prior_at, prior_camp; /* the proposal's index; a changed booking's campaign (-1: none) */
    cf_money prior_committed; /* that campaign's committed cost before */
    cf_booking prior_booking;
    cf_campaign prior_campaign;
};

/* Keeps p (malloc'd) until the slice is freed; returns p, or NULL (then p is not kept) out of memory. */
static void *hold(conflict_slice *s, void *p)
{
    if (s->nheld == s->capheld) {
        size_t cap = s->capheld ? s->capheld * 2 : 64;
        void **held = realloc(s->held, cap * sizeof *held);
        if (!held) return NULL;
        s->held = held;
        s->capheld = cap;
    }
    s->held[s->nheld++] = p;
    return p;
}

/* A copy of n bytes at p kept until the slice is freed, or NULL out of memory. */
static void *held_copy(conflict_slice *s, const void *p, size_t n)
{
    void *copy = malloc(n ? n : 1);
    if (!copy || !hold(s, copy)) {
        free(copy);
        return NULL;
    }
    return memcpy(copy, p, n);
}

static const char *val(const rows *q, int row, int col)
{
    if (q->at) row = q->at[row];
    col += q->col0;
    return PQgetisnull(q->r, row, col) ? NULL : PQgetvalue(q->r, row, col);
}

static long long num(const rows *q, int row, int col)
{
    const char *v = val(q, row, col);
    return v ? atoll(v) : 0;
}

/* A boolean column (as text: "true"). */
static int flag(const rows *q, int row, int col)
{
    const char *v = val(q, row, col);
    return v && strcmp(v, "true") == 0;
}

cf_money conflict_money_parse(const char *s, int *ok)
{
    *ok = s && valid_decimal_amount(s);
    if (!*ok) return 0;
    long long units = 0, cents = 0;
    const char *p = s;
    for (; *p >= '0' && *p <= '9'; p++) units = units * 10 + (*p - '0');
    if (*p == '.') {
        p++;
        cents = (p[0] - '0') * 10 + (p[1] >= '0' && p[1] <= '9' ? p[1] - '0' : 0);
    }
    return units * 100 + cents;
}

/* ---- id lookups ---- */

typedef struct by_id_ctx {
    const void *base;
    size_t stride; /* rows are structs whose first member is the id */
} by_id_ctx;

static const char *id_at(const by_id_ctx *c, int i) { return *(const char *const *)((const char *)c->base + c->stride * (size_t)i); }

static int cmp_by_id(const void *a, const void *b, void *arg)
{
    return strcmp(id_at(arg, *(const int *)a), id_at(arg, *(const int *)b));
}

static int *sort_by_id(const void *base, size_t stride, size_t n)
{
    int *idx = malloc((n ? n : 1) * sizeof *idx);
    if (!idx) return NULL;
    for (size_t i = 0; i < n; i++) idx[i] = (int)i;
    by_id_ctx c = {base, stride};
    qsort_r(idx, n, sizeof *idx, cmp_by_id, &c);
    return idx;
}

static int find_id(const int *idx, const void *base, size_t stride, size_t n, const char *id)
{
    if (!id) return -1;
    by_id_ctx c = {base, stride};
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        int d = strcmp(id_at(&c, idx[mid]), id);
        if (!d) return idx[mid];
        if (d < 0) lo = mid + 1;
        else hi = mid;
    }
    return -1;
}

int conflict_slice_campaign(const conflict_slice *s, const char *id)
{
    return find_id(s->camp_by_id, s->camps, sizeof *s->camps, s->p.n_campaigns, id);
}

int conflict_slice_resource(const conflict_slice *s, const char *id)
{
    return find_id(s->res_by_id, s->ress, sizeof *s->ress, s->p.n_resources, id);
}

int conflict_slice_segment(const conflict_slice *s, const char *id)
{
    return find_id(s->seg_by_id, s->segs, sizeof *s->segs, s->p.n_segments, id);
}

/* ---- reading the rows ---- */

static cf_kind kind_of(const char *k)
{
    return strcmp(k, "person") == 0 ? CF_PERSON : strcmp(k, "slot") == 0 ? CF_SLOT
                                                : strcmp(k, "budget_pool") == 0 ? CF_BUDGET_POOL : CF_CHANNEL;
}

static cf_unit unit_of(const char *u)
{
    return strcmp(u, "hours_per_week") == 0 ? CF_HOURS_PER_WEEK : strcmp(u, "sends_per_day") == 0 ? CF_SENDS_PER_DAY
                                                                                              : CF_CONCURRENT;
}

/* Reads a JSON array of {channel, amount} (amount a decimal string when decimal, else minor units), the len bytes
 * at text, into a new array the slice owns (its strings in the held document); NULL text: none. 0, or -1 out of
 * memory. */
static int amounts(conflict_slice *s, const char *text, size_t len, int decimal, const cf_amount **out, size_t *n)
{
    *out = NULL;
    *n = 0;
    json_t *j = text ? json_loadb(text, len, 0, NULL) : NULL;
    if (!json_array_size(j)) { json_decref(j); return 0; }
    cf_amount *list = calloc(json_array_size(j), sizeof *list);
    if (!list || json_array_append_new(s->j_hold, j) != 0 || !(list = hold(s, list))) {
        free(list);
        return -1;
    }
    size_t i;
    json_t *j_item;
    json_array_foreach(j, i, j_item) {
        const char *channel = json_string_value(json_object_get(j_item, "channel"));
        json_t *j_amount = json_object_get(j_item, "amount");
        int ok = 1;
        cf_money amount = decimal ? conflict_money_parse(json_string_value(j_amount), &ok) : json_integer_value(j_amount);
        if (channel && ok) list[(*n)++] = (cf_amount){channel, amount};
    }
    *out = list;
    return 0;
}

/* Counts the segment ids of a comma-separated list. */
static size_t count_ids(const char *list)
{
    if (!list || !*list) return 0;
    size_t n = 1;
    for (; *list; list++) n += *list == ',';
    return n;
}

/* Releases what read_rows made (the blocks it held stay until the slice is freed). */
static void rows_clear(conflict_slice *s)
{
    void **arrays[] = {(void **)&s->segs,  (void **)&s->ovls,      (void **)&s->camps,      (void **)&s->camp_segs,
                       (void **)&s->ress,  (void **)&s->books,     (void **)&s->unav,       (void **)&s->blacks,
                       (void **)&s->risks, (void **)&s->seg_by_id, (void **)&s->camp_by_id, (void **)&s->res_by_id};
    for (size_t i = 0; i < sizeof arrays / sizeof arrays[0]; i++) {
        free(*arrays[i]);
        *arrays[i] = NULL;
    }
    json_array_clear(s->j_risks);
    memset(&s->p, 0, sizeof s->p);
    s->nmissing = 0;
}

/* Reads the rows into the portfolio; one spare campaign and one spare booking stay for a proposal. 0, or -1
 * out of memory. */
static int read_rows(conflict_slice *s)
{
    const rows *r = s->v;
    size_t nseg = (size_t)r[R_SEG].n, novl = (size_t)r[R_OVL].n, nres = (size_t)r[R_RES].n;
    size_t ncamp1 = (size_t)r[R_CAMP].n, ncamp = ncamp1 + (size_t)r[R_CAMP_MORE].n, nbook = (size_t)r[R_BOOK].n;
#define CAMP_ROW(i) (i) < ncamp1 ? &r[R_CAMP] : &r[R_CAMP_MORE], (int)((i) < ncamp1 ? (i) : (i) - ncamp1)
    size_t nunav = (size_t)r[R_UNAV].n, nblack = (size_t)r[R_BLACK].n, nsegs_total = 0;
    for (size_t i = 0; i < ncamp; i++) nsegs_total += count_ids(val(CAMP_ROW(i), 7));
    s->segs = calloc(nseg + 1, sizeof *s->segs);
    s->ovls = calloc(novl + 1, sizeof *s->ovls);
    s->ress = calloc(nres + 1, sizeof *s->ress);
    s->camps = calloc(ncamp + 1, sizeof *s->camps);
    s->camp_segs = calloc(nsegs_total + 1, sizeof *s->camp_segs);
    s->books = calloc(nbook + 1, sizeof *s->books);
    s->unav = calloc(nunav + 1, sizeof *s->unav);
    s->blacks = calloc(nblack + 1, sizeof *s->blacks);
    if (!s->segs || !s->ovls || !s->ress || !s->camps || !s->camp_segs || !s->books || !s->unav || !s->blacks)
        return -1;
    for (size_t i = 0; i < nseg; i++)
        s->segs[i] = (cf_segment){val(&r[R_SEG], (int)i, 0), val(&r[R_SEG], (int)i, 1), -1};
    if (!(s->seg_by_id = sort_by_id(s->segs, sizeof *s->segs, nseg))) return -1;
    s->p.segments = s->segs;
    s->p.n_segments = nseg;
    for (size_t i = 0; i < nseg; i++) s->segs[i].parent = conflict_slice_segment(s, val(&r[R_SEG], (int)i, 2));
    size_t k = 0;
    for (size_t i = 0; i < novl; i++) {
        int a = conflict_slice_segment(s, val(&r[R_OVL], (int)i, 0)), b = conflict_slice_segment(s, val(&r[R_OVL], (int)i, 1));
        if (a >= 0 && b >= 0) s->ovls[k++] = (cf_overlap){a, b, (int)num(&r[R_OVL], (int)i, 2)};
    }
    s->p.overlaps = s->ovls;
    s->p.n_overlaps = k;
    for (size_t i = 0; i < nres; i++) {
        const rows *q = &r[R_RES];
        int row = (int)i;
        s->ress[i] = (cf_resource){val(q, row, 0), val(q, row, 1), kind_of(val(q, row, 2)), unit_of(val(q, row, 3)),
                                   (int)num(q, row, 4), flag(q, row, 5), val(q, row, 6),
                                   num(q, row, 7), (int)num(q, row, 8), (int)num(q, row, 9)};
    }
    if (!(s->res_by_id = sort_by_id(s->ress, sizeof *s->ress, nres))) return -1;
    s->p.resources = s->ress;
    s->p.n_resources = nres;
    size_t used = 0, nrisks = 0;
    for (size_t i = 0; i < ncamp; i++) {
        const rows *q = i < ncamp1 ? &r[R_CAMP] : &r[R_CAMP_MORE];
        int row = (int)(i < ncamp1 ? i : i - ncamp1);
        cf_campaign *c = &s->camps[i];
        *c = (cf_campaign){.id = val(q, row, 0), .name = val(q, row, 1), .status = val(q, row, 2),
                           .start = (cf_day)num(q, row, 3), .end = (cf_day)num(q, row, 4), .currency = val(q, row, 5),
                           .budget = num(q, row, 6), .offer_code = val(q, row, 8), .offer_terms = val(q, row, 9),
                           .offer_description = val(q, row, 10), .committed = num(q, row, 15), .priority = -1};
        if (val(q, row, 11)) c->priority = (int)num(q, row, 11); /* the stored score, in tenths */
        c->segments = s->camp_segs + used;
        const char *list = val(q, row, 7);
        while (list && *list) {
            char id[37];
            size_t len = strcspn(list, ",");
            snprintf(id, sizeof id, "%.*s", (int)(len < 36 ? len : 36), list);
            int seg = conflict_slice_segment(s, id);
            if (seg >= 0) s->camp_segs[used + c->n_segments++] = seg;
            list += len + (list[len] == ',');
        }
        used += c->n_segments;
        /* the spend: "[cents, null]" without a channel's, else "[cents, [{channel, amount}...]]" */
        const char *spend = val(q, row, 18), *budgets = val(q, row, 17), *channels = NULL;
        size_t nchannels = 0;
        if (spend && spend[0] == '[') {
            char *rest;
            c->actual_spend = strtoll(spend + 1, &rest, 10);
            rest += strspn(rest, ", ");
            size_t left = strlen(rest);
            if (left > 1 && rest[0] == '[') {
                channels = rest;
                nchannels = left - 1; /* the outer array's ']' */
            }
        }
        if (amounts(s, budgets, budgets ? strlen(budgets) : 0, 1, &c->channel_budgets, &c->n_channel_budgets) != 0 ||
            amounts(s, channels, nchannels, 0, &c->channel_spend, &c->n_channel_spend) != 0)
            return -1;
        json_t *j_risks = val(q, row, 16) ? json_loads(val(q, row, 16), 0, NULL) : NULL;
        if (j_risks) {
            nrisks += json_array_size(j_risks);
            if (json_array_append_new(s->j_risks, j_risks) != 0) return -1;
        }
    }
    if (!(s->camp_by_id = sort_by_id(s->camps, sizeof *s->camps, ncamp))) return -1;
    s->p.campaigns = s->camps;
    s->p.n_campaigns = ncamp;
    /* the risks, from the documents held above (one array per campaign that has any, in campaign order) */
    if (!(s->risks = calloc(nrisks + 1, sizeof *s->risks))) return -1;
    for (size_t i = 0, h = 0; i < ncamp; i++) {
        if (!val(CAMP_ROW(i), 16)) continue;
        json_t *j_risks = json_array_get(s->j_risks, h++), *j_risk;
        size_t x;
        json_array_foreach(j_risks, x, j_risk)
            s->risks[s->p.n_risks++] = (cf_risk){json_string_value(json_object_get(j_risk, "id")),
                                                 json_string_value(json_object_get(j_risk, "title")), (int)i};
    }
    s->p.risks = s->risks;
    k = 0;
    for (size_t i = 0; i < nbook; i++) {
        const rows *q = &r[R_BOOK];
        int row = (int)i;
        int camp = conflict_slice_campaign(s, val(q, row, 1)), res = conflict_slice_resource(s, val(q, row, 2));
        if (camp < 0 && res >= 0) s->nmissing++;
        if (camp < 0 || res < 0) continue; /* a scan reads those campaigns next; else written between two
                                              statements: the next question sees it */
        s->books[k++] = (cf_booking){val(q, row, 0), camp, res, conflict_slice_segment(s, val(q, row, 3)),
                                     num(q, row, 4), num(q, row, 5), (int)num(q, row, 6), val(q, row, 7),
                                     val(q, row, 8), num(q, row, 9), (cf_day)num(q, row, 10), 1};
    }
    s->p.bookings = s->books;
    s->p.n_bookings = k;
    k = 0;
    for (size_t i = 0; i < nunav; i++) {
        const rows *q = &r[R_UNAV];
        int res = conflict_slice_resource(s, val(q, (int)i, 1));
        if (res >= 0)
            s->unav[k++] = (cf_unavailability){val(q, (int)i, 0), res, val(q, (int)i, 2), num(q, (int)i, 3),
                                               num(q, (int)i, 4)};
    }
    s->p.unavailability = s->unav;
    s->p.n_unavailability = k;
    for (size_t i = 0; i < nblack; i++) {
        const rows *q = &r[R_BLACK];
        int row = (int)i;
        s->blacks[i] = (cf_blackout){val(q, row, 0), val(q, row, 1), (cf_day)num(q, row, 2), (cf_day)num(q, row, 3),
                                     num(q, row, 4), num(q, row, 5)};
    }
    s->p.blackouts = s->blacks;
    s->p.n_blackouts = nblack;
    return 0;
}

static const char *const mode_names[] = {"scan", "booking", "campaign"};

static const char *str(json_t *j, const char *key) { return json_string_value(json_object_get(j, key)); }

conflict_ask conflict_ask_booking(json_t *j_doc)
{
    return (conflict_ask){.mode = CONFLICT_BOOKING, .from = str(j_doc, "start"), .to = str(j_doc, "end"),
                          .campaign_id = str(j_doc, "campaign_id"), .resource_id = str(j_doc, "resource_id"),
                          .segment_id = str(j_doc, "segment_id"), .booking_id = str(j_doc, "id")};
}


typedef struct part_stmt {
    const db_stmt *stmt;
    const char *const *params;
    int part; /* the result it fills */
} part_stmt;

/* The statements of the slice s asks for (one for a booking), in its parts' results; the last one is run at once
 * (the pipeline sent, with what was queued before) when now, else queued too (conflict_store_defer). */
static app_err send_slice(db_conn *conn, const char *org, conflict_slice *s, int now)
{
    const conflict_ask *ask = &s->ask;
    const char *mode = ask->mode != CONFLICT_BOOKING ? mode_names[ask->mode]
                       : ask->around                ? "booking_around"
                       : ask->check                 ? "booking_check"
                                                    : "booking";
    const char *p1[] = {org};
    const char *pw[] = {org, ask->from, ask->to, mode};
    const char *pb[] = {org, ask->from, ask->to, mode, ask->resource_id, ask->campaign_id, ask->segment_id};
    const char *pc[] = {org, ask->from, ask->to, mode, ask->campaign_id, ask->segment_ids, ask->offer_code};
    const char *pc_new[] = {org, ask->from, ask->to, mode, ask->segment_ids, ask->offer_code};
    part_stmt run[R_COUNT];
    int n = 0;
#define SEND(stmt, params, part) run[n++] = (part_stmt){stmt, params, part}
    switch (ask->mode) {
    case CONFLICT_BOOKING: /* one statement; its rules read no declared overlaps (frequency caps count ancestry) */
        /* on a resource last seen plain, a new booking's write reads only its own rows (a change reads the stored
           booking it replaces with the others), and a check leaves out what only the other kinds' rules read */
        s->plain = !ask->around && (ask->check || !ask->booking_id) && hint_get(ask->resource_id) == 1;
        SEND(ask->around             ? &q_booking_slice_around
             : ask->check && s->plain ? &q_booking_slice_check_plain
             : ask->check             ? &q_booking_slice_check
             : s->plain               ? &q_booking_slice_plain
                                      : &q_booking_slice,
             pb, R_FRAME);
        break;
    case CONFLICT_CAMPAIGN: /* one statement; no bookings, hence no resources and no unavailability */
        if (ask->campaign_id) SEND(&q_campaign_slice, pc, R_FRAME);
        else SEND(&q_campaign_slice_new, pc_new, R_FRAME);
        break;
    case CONFLICT_SCAN:
        SEND(&q_frame, pw, R_FRAME);
        SEND(&q_segments, p1, R_SEG);
        SEND(&q_overlaps, p1, R_OVL);
        SEND(&q_resources, p1, R_RES);
        SEND(&q_campaigns, pw, R_CAMP);
        SEND(&q_bookings, pw, R_BOOK);
        SEND(&q_unavailability, pw, R_UNAV);
        SEND(&q_blackouts, pw, R_BLACK);
        break;
    }
#undef SEND
    for (int i = 0; i < n; i++) {
        app_err e = now && i == n - 1 ? db_exec(conn, run[i].stmt, run[i].params, &s->res[run[i].part])
                                      : db_defer(conn, run[i].stmt, run[i].params, &s->res[run[i].part]);
        if (e) return e;
    }
    return APP_OK;
}

/* A new slice for ask, nothing loaded yet. */
static conflict_slice *slice_new(const char *org, const conflict_ask *ask)
{
    conflict_slice *s = calloc(1, sizeof *s);
    if (!s || !(s->j_hold = json_array()) || !(s->j_risks = json_array())) {
        conflict_slice_free(s);
        return NULL;
    }
    s->mode = ask->mode;
    s->ask = *ask;
    s->org = org;
    return s;
}

app_err conflict_store_defer(db_conn *conn, const char *org, const conflict_ask *ask, conflict_slice **out)
{
    conflict_slice *s = slice_new(org, ask);
    app_err e = s ? send_slice(conn, org, s, 0) : APP_ERR_INTERNAL;
    if (e) conflict_slice_free(s);
    else *out = s;
    return e;
}

/* The views of the parts: a booking's or a campaign's one result split by its tags, else each part's own result.
 * 0, or -1 out of memory or on a row of no part. */
static int views_set(conflict_slice *s)
{
    if (s->mode == CONFLICT_SCAN) {
        for (int i = 0; i < R_COUNT; i++) s->v[i] = (rows){s->res[i], NULL, s->res[i] ? PQntuples(s->res[i]) : 0, 0};
        return 0;
    }
    const PGresult *r = s->res[R_FRAME];
    int n = PQntuples(r), start[R_COUNT + 1] = {0}, fill[R_COUNT] = {0}, *part = malloc((size_t)(n ? n : 1) * sizeof *part);
    free(s->at);
    s->at = malloc((size_t)(n ? n : 1) * sizeof *s->at);
    if (!part || !s->at) { free(part); return -1; }
    for (int row = 0; row < n; row++) { /* a counting sort of the rows by part, each part's in their order */
        const char *tag = PQgetvalue(r, row, 0), *hit = tag[0] ? memchr(part_tags, tag[0], R_COUNT) : NULL;
        if (!hit) { free(part); return -1; }
        part[row] = (int)(hit - part_tags);
        start[part[row] + 1]++;
    }
    for (int i = 0; i < R_COUNT; i++) start[i + 1] += start[i];
    for (int row = 0; row < n; row++) s->at[start[part[row]] + fill[part[row]]++] = row;
    free(part);
    for (int i = 0; i < R_COUNT; i++) s->v[i] = (rows){r, s->at + start[i], fill[i], 1};
    return 0;
}

app_err conflict_store_read(conflict_slice *s)
{
    static const unsigned skipped[] = {
        [CONFLICT_SCAN] = 1u << R_CAMP_MORE,
        [CONFLICT_BOOKING] = ~1u, /* one result, res[R_FRAME] */
        [CONFLICT_CAMPAIGN] = ~1u};
    for (int i = 0; i < R_COUNT; i++)
        if (!s->res[i] && !(skipped[s->mode] & 1u << i)) return APP_ERR_INTERNAL;
    if (views_set(s) != 0) return APP_ERR_INTERNAL;
    const rows *frame = &s->v[R_FRAME];
    if (frame->n != 1) return APP_ERR_INTERNAL;
    /* a booking's resource is the organisation's when its row came (the frame says nothing: that sub-plan cost
       every statement a node), others' frame says so */
    if (s->mode == CONFLICT_BOOKING ? s->v[R_RES].n == 0 : !flag(frame, 0, 8)) return APP_ERR_NOT_FOUND;
    /* no settings row yet: SPEC's defaults, which org_settings_of() holds too */
    cf_settings_default(&s->settings);
    if (val(frame, 0, 0) && (!(s->j_settings = json_loads(val(frame, 0, 0), 0, NULL)) ||
                             !settings_from_json(s->j_settings, &s->settings)))
        return APP_ERR_INTERNAL;
    snprintf(s->tz, sizeof s->tz, "%s", val(frame, 0, 1));
    /* free periods are suggested only where the slice knows every booking */
    s->scope = (cf_scope){.focus_campaign = -1, .focus_booking = -1, .today = (cf_day)num(frame, 0, 2),
                          .from = num(frame, 0, 3), .to = num(frame, 0, 4), .from_day = (cf_day)num(frame, 0, 5),
                          .to_day = (cf_day)num(frame, 0, 6), .horizon_from = num(frame, 0, 9),
                          .horizon_to = num(frame, 0, 10)};
    s->bucket = (int)num(frame, 0, 7);
    if (s->mode == CONFLICT_BOOKING && flag(frame, 0, 11)) s->ask.around = 1; /* a check loaded around it */
    if (read_rows(s) != 0) return APP_ERR_INTERNAL;
    if (s->mode == CONFLICT_BOOKING) { /* what the booked resource is now, for its next write */
        int me = conflict_slice_resource(s, s->ask.resource_id), plain = me >= 0 && plain_resource(&s->ress[me]);
        if (me >= 0) hint_set(s->ask.resource_id, plain);
        s->incomplete = s->plain && !plain;
    }
    /* a booking's alternatives, in their rank's order (the rows of a slice keep theirs) */
    for (int rank = 1; rank <= 3; rank++)
        for (size_t i = 0; i < s->p.n_resources; i++)
            if (num(&s->v[R_RES], (int)i, 10) == rank) s->alternatives[s->scope.n_alternatives++] = (int)i;
    s->scope.alternatives = s->alternatives;
    return APP_OK;
}

/* A scan's bookings whose campaign is dated outside the window: their campaigns read by key, and the rows read
 * again with them (seldom: a booking outside its campaign's dates). */
static app_err read_missing(db_conn *conn, const char *org, conflict_slice *s)
{
    char *ids = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&ids, &len);
    if (!f) return APP_ERR_INTERNAL;
    int first = 1;
    for (int row = 0; row < s->v[R_BOOK].n; row++) {
        const char *camp = val(&s->v[R_BOOK], row, 1);
        if (conflict_slice_campaign(s, camp) >= 0) continue;
        fprintf(f, "%s%s", first ? "{" : ",", camp);
        first = 0;
    }
    fputs(first ? "{}" : "}", f);
    if (fclose(f) != 0) {
        free(ids);
        return APP_ERR_INTERNAL;
    }
    const char *params[] = {org, ids};
    app_err e = db_exec(conn, &q_campaigns_by_id, params, &s->res[R_CAMP_MORE]);
    free(ids);
    if (e) return e;
    s->v[R_CAMP_MORE] = (rows){s->res[R_CAMP_MORE], NULL, PQntuples(s->res[R_CAMP_MORE]), 0};
    rows_clear(s);
    return read_rows(s) != 0 ? APP_ERR_INTERNAL : APP_OK;
}

app_err conflict_store_load(db_conn *conn, const char *org, const conflict_ask *ask, conflict_slice **out)
{
    conflict_slice *s = slice_new(org, ask);
    app_err e = s ? send_slice(conn, org, s, 1) : APP_ERR_INTERNAL;
    if (!e) e = conflict_store_read(s);
    if (!e && s->mode == CONFLICT_SCAN && s->nmissing) e = read_missing(conn, org, s);
    if (e) conflict_slice_free(s);
    else *out = s;
    return e;
}

/* The segment ids of j_ids (those that are UUIDs) and of the campaigns moved[0..n) of s, as an array literal
 * (malloc'd; NULL out of memory). */
static char *segment_literal(json_t *j_ids, const conflict_slice *s, const int *moved, size_t n)
{
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    if (!f) return NULL;
    int first = 1;
    size_t i;
    json_t *j_id;
    fputc('{', f);
    json_array_foreach(j_ids, i, j_id) {
        const char *id = json_string_value(j_id);
        if (!id || !valid_uuid(id)) continue;
        fprintf(f, "%s%s", first ? "" : ",", id);
        first = 0;
    }
    for (size_t k = 0; k < n; k++) {
        const cf_campaign *c = &s->p.campaigns[moved[k]];
        for (size_t j = 0; j < c->n_segments; j++) {
            fprintf(f, "%s%s", first ? "" : ",", s->p.segments[c->segments[j]].id);
            first = 0;
        }
    }
    fputc('}', f);
    if (fclose(f) != 0) {
        free(text);
        return NULL;
    }
    return text;
}

/* Loads the slice of a campaign's question with the audience of segments and adds j_doc (see
 * conflict_store_load_campaign). */
static app_err load_campaign(db_conn *conn, const char *org, json_t *j_doc, const char *id, const char *segments,
                             conflict_slice **out, int *at, const char **field)
{
    char from[16], to[16];
    int ok;
    snprintf(from, sizeof from, "%s", str(j_doc, "start_date") ? str(j_doc, "start_date") : "");
    cf_day_format(cf_day_parse(str(j_doc, "end_date"), &ok) + 1, to);
    conflict_ask ask = {.mode = CONFLICT_CAMPAIGN, .from = from, .to = to, .campaign_id = id,
                        .segment_ids = segments, .offer_code = str(json_object_get(j_doc, "offer"), "code")};
    conflict_slice *s = NULL;
    app_err e = conflict_store_load(conn, org, &ask, &s);
    if (e) return e;
    if ((*at = conflict_slice_propose_campaign(s, j_doc, id, field)) < 0) {
        conflict_slice_free(s);
        return *field ? APP_ERR_VALIDATION : APP_ERR_INTERNAL;
    }
    *out = s;
    return APP_OK;
}

app_err conflict_store_load_campaign(db_conn *conn, const char *org, json_t *j_doc, const char *id,
                                     conflict_slice **out, int *at, const char **field, cf_result *findings)
{
    json_t *j_ids = json_object_get(j_doc, "segment_ids");
    char *segments = segment_literal(j_ids, NULL, NULL, 0), *more = NULL;
    conflict_slice *s = NULL;
    cf_result r = {0};
    int *moved = NULL;
    *field = NULL;
    app_err e = segments ? load_campaign(conn, org, j_doc, id, segments, &s, at, field) : APP_ERR_INTERNAL;
    if (e) goto out;
    /* the campaigns other than this one that a finding names to move */
    cf_scope q = s->scope;
    q.focus_campaign = *at;
    if (cf_run(&s->p, &s->settings, &q, &r) != 0 || !(moved = malloc((r.n + 1) * sizeof *moved))) {
        e = APP_ERR_INTERNAL;
        goto out;
    }
    size_t n = 0;
    for (size_t i = 0; i < r.n; i++) {
        int m = r.items[i].move, seen = 0;
        if (r.items[i].type != CF_AUDIENCE_OVERLAP || m < 0 || m == *at) continue;
        for (size_t k = 0; k < n && !seen; k++) seen = moved[k] == m;
        if (!seen) moved[n++] = m;
    }
    if (n) {
        if (!(more = segment_literal(j_ids, s, moved, n))) {
            e = APP_ERR_INTERNAL;
            goto out;
        }
        conflict_slice_free(s);
        s = NULL;
        cf_result_free(&r);
        if ((e = load_campaign(conn, org, j_doc, id, more, &s, at, field))) goto out;
        q = s->scope;
        q.focus_campaign = *at;
        if (findings && cf_run(&s->p, &s->settings, &q, &r) != 0) e = APP_ERR_INTERNAL;
    }
    if (!e && findings) { /* the caller's now: the engine is not asked twice */
        *findings = r;
        memset(&r, 0, sizeof r);
    }
out:
    cf_result_free(&r);
    free(moved);
    free(segments);
    free(more);
    if (e) conflict_slice_free(s);
    else *out = s;
    return e;
}

void conflict_slice_free(conflict_slice *s)
{
    if (!s) return;
    for (int i = 0; i < R_COUNT; i++) PQclear(s->res[i]);
    free(s->at);
    json_decref(s->j_settings);
    json_decref(s->j_hold);
    rows_clear(s);
    json_decref(s->j_risks);
    free(s->proposal_segs);
    for (size_t i = 0; i < s->nheld; i++) free(s->held[i]);
    free(s->held);
    free(s);
}

const cf_portfolio *conflict_slice_portfolio(const conflict_slice *s) { return &s->p; }
const cf_settings *conflict_slice_settings(const conflict_slice *s) { return &s->settings; }
cf_scope conflict_slice_scope(const conflict_slice *s) { return s->scope; }

/* ---- proposals ---- */

int conflict_slice_propose_booking(conflict_slice *s, json_t *j_doc, json_t *j_stored, const char **field)
{
    *field = NULL;
    if (json_array_append(s->j_hold, j_doc) != 0 || (j_stored && json_array_append(s->j_hold, j_stored) != 0))
        return -1;
    int camp = conflict_slice_campaign(s, str(j_doc, "campaign_id"));
    int res = conflict_slice_resource(s, str(j_doc, "resource_id"));
    const char *seg_id = str(j_doc, "segment_id");
    int seg = conflict_slice_segment(s, seg_id);
    if (camp < 0) { *field = "campaign_id"; return -1; }
    if (res < 0) { *field = "resource_id"; return -1; }
    if (seg_id && seg < 0) { *field = "segment_id"; return -1; }
    long long start_us = 0, end_us = 0;
    valid_timestamp(str(j_doc, "start"), &start_us);
    valid_timestamp(str(j_doc, "end"), &end_us);
    json_t *j_q = json_object_get(j_doc, "quantity");
    int quantity = json_is_integer(j_q) ? (int)json_integer_value(j_q) : 1;
    const cf_resource *r = &s->ress[res];
    const char *replace_id = str(j_stored, "id");
    /* a change: the stored booking leaves the portfolio, and its cost its campaign's committed sum. The slice
       holds the live bookings around the new period only: one moved away from its old period is not among them,
       but its cost is in the sum all the same (a live booking's, budget pools aside); its document says it */
    size_t at = s->p.n_bookings;
    s->prior = PRIOR_BOOKING_ADDED;
    s->prior_camp = -1;
    const char *old_currency = NULL;
    cf_money old_cost = 0;
    for (size_t i = 0; replace_id && i < s->p.n_bookings; i++)
        if (strcmp(s->books[i].id, replace_id) == 0) {
            s->prior = PRIOR_BOOKING_REPLACED;
            s->prior_booking = s->books[i];
            s->prior_camp = s->books[i].campaign;
            old_currency = s->books[i].cost_currency;
            old_cost = s->books[i].cost;
            at = i;
        }
    json_t *j_cost = json_object_get(j_stored, "cost_estimate");
    const char *old_status = str(j_stored, "status");
    int ok = 0;
    if (replace_id && s->prior == PRIOR_BOOKING_ADDED && old_status && strcmp(old_status, "cancelled") != 0 &&
        (old_cost = conflict_money_parse(str(j_cost, "amount"), &ok), ok)) {
        s->prior = PRIOR_BOOKING_MOVED; /* a change keeps its campaign and resource (read-only in a patch) */
        s->prior_camp = conflict_slice_campaign(s, str(j_stored, "campaign_id"));
        old_currency = str(j_cost, "currency");
    }
    if (s->prior_camp >= 0) {
        cf_campaign *oc = &s->camps[s->prior_camp];
        s->prior_committed = oc->committed;
        if (old_currency && oc->currency && strcmp(old_currency, oc->currency) == 0 && r->kind != CF_BUDGET_POOL)
            oc->committed -= old_cost;
    }
    s->prior_at = (int)at;
    s->j_proposal = j_doc;
    s->j_stored = j_stored;
    cf_booking b = {replace_id ? replace_id : "", camp, res, seg,
                    start_us / 1000000, end_us / 1000000, quantity, str(j_doc, "status"), r->cost_currency,
                    r->cost_per_unit * quantity, s->bucket, 0};
    if (!b.status) b.status = "tentative";
    s->books[at] = b;
    if (at == s->p.n_bookings) s->p.n_bookings++;
    return (int)at;
}

int conflict_slice_propose_campaign(conflict_slice *s, json_t *j_doc, const char *replace_id, const char **field)
{
    *field = NULL;
    if (json_array_append(s->j_hold, j_doc) != 0) return -1;
    json_t *j_segs = json_object_get(j_doc, "segment_ids");
    int *segs = malloc((json_array_size(j_segs) + 1) * sizeof *segs);
    if (!segs) return -1;
    size_t n = 0, i;
    json_t *j_seg;
    json_array_foreach(j_segs, i, j_seg) {
        int seg = conflict_slice_segment(s, json_string_value(j_seg));
        if (seg < 0) { free(segs); *field = "segment_ids"; return -1; }
        segs[n++] = seg;
    }
    /* the segment list lives with the slice (growing camp_segs would move the others' lists) */
    free(s->proposal_segs);
    s->proposal_segs = segs;
    int ok;
    cf_day start = cf_day_parse(str(j_doc, "start_date"), &ok), end = cf_day_parse(str(j_doc, "end_date"), &ok);
    json_t *j_budget = json_object_get(j_doc, "budget"), *j_offer = json_object_get(j_doc, "offer");
    json_t *j_scoring = json_object_get(j_doc, "scoring");
    size_t at = s->p.n_campaigns;
    cf_money committed = 0;
    for (size_t k = 0; replace_id && k < s->p.n_campaigns; k++)
        if (strcmp(s->camps[k].id, replace_id) == 0) {
            at = k;
            committed = s->camps[k].committed;
        }
    cf_campaign c = {.id = replace_id ? replace_id : "",
                     .name = str(j_doc, "name"), .status = str(j_doc, "status"), .start = start, .end = end,
                     .currency = str(j_budget, "currency"), .budget = conflict_money_parse(str(j_budget, "amount"), &ok),
                     .segments = segs, .n_segments = n, .offer_code = str(j_offer, "code"),
                     .offer_terms = str(j_offer, "terms"), .offer_description = str(j_offer, "description"),
                     .committed = committed, .priority = -1};
    if (!c.status) c.status = "draft";
    if (!c.name) c.name = "the proposed campaign";
    char *budgets = json_dumps(json_object_get(j_doc, "channel_budgets"), JSON_COMPACT | JSON_ENCODE_ANY);
    int bad = budgets && amounts(s, budgets, strlen(budgets), 1, &c.channel_budgets, &c.n_channel_budgets) != 0;
    free(budgets);
    if (bad) return -1;
    if (at < s->p.n_campaigns) { /* a change keeps what was measured */
        c.actual_spend = s->camps[at].actual_spend;
        c.channel_spend = s->camps[at].channel_spend;
        c.n_channel_spend = s->camps[at].n_channel_spend;
    }
    if (json_is_object(j_scoring)) {
        static const char *const keys[] = {"engagement_potential", "estimated_cpa", "customer_experience",
                                           "strategic_alignment"};
        int scores[4];
        for (int k = 0; k < 4; k++) scores[k] = (int)(json_number_value(json_object_get(j_scoring, keys[k])) * 10 + 0.5);
        c.priority = cf_priority_score(scores, s->settings.weights);
    }
    s->prior = at < s->p.n_campaigns ? PRIOR_CAMPAIGN_REPLACED : PRIOR_CAMPAIGN_ADDED;
    s->prior_at = (int)at;
    if (at < s->p.n_campaigns) s->prior_campaign = s->camps[at];
    s->camps[at] = c;
    if (at == s->p.n_campaigns) s->p.n_campaigns++;
    return (int)at;
}

int conflict_slice_wants_around(const conflict_slice *s, const cf_result *r)
{
    if (s->mode != CONFLICT_BOOKING || s->ask.around) return 0;
    for (size_t i = 0; i < r->n; i++) {
        cf_type t = r->items[i].type;
        if (r->items[i].severity == CF_BLOCK && (t == CF_RESOURCE_DOUBLE_BOOKED || t == CF_PERSON_UNAVAILABLE || t == CF_BLACKOUT))
            return 1;
    }
    return 0;
}

int conflict_slice_incomplete(const conflict_slice *s) { return s->incomplete; }

app_err conflict_slice_load_around(db_conn *conn, conflict_slice *s, int *at)
{
    conflict_ask ask = s->ask;
    ask.around = 1;
    conflict_slice *wide = NULL;
    app_err e = conflict_store_load(conn, s->org, &ask, &wide);
    const char *field;
    if (!e && (*at = conflict_slice_propose_booking(wide, s->j_proposal, s->j_stored, &field)) < 0)
        e = APP_ERR_INTERNAL;
    if (e) {
        conflict_slice_free(wide);
        return e;
    }
    conflict_slice old = *s; /* s takes the wide slice's contents, wide the old ones, freed */
    *s = *wide;
    *wide = old;
    s->scope.alternatives = s->alternatives;
    conflict_slice_free(wide);
    return APP_OK;
}

int conflict_slice_before(conflict_slice *s, cf_portfolio *p, cf_scope *q)
{
    *p = s->p;
    *q = s->scope;
    switch (s->prior) {
    case PRIOR_NONE:
    case PRIOR_CAMPAIGN_ADDED: return 0;
    case PRIOR_BOOKING_ADDED: p->n_bookings--; break; /* the proposal is the last */
    case PRIOR_BOOKING_MOVED: {
        cf_campaign *camps = s->prior_camp >= 0 ? held_copy(s, p->campaigns, p->n_campaigns * sizeof *camps) : NULL;
        if (s->prior_camp >= 0 && !camps) return -1;
        if (camps) {
            camps[s->prior_camp].committed = s->prior_committed;
            p->campaigns = camps;
        }
        p->n_bookings--;
        break;
    }
    case PRIOR_BOOKING_REPLACED: {
        cf_booking *books = held_copy(s, p->bookings, p->n_bookings * sizeof *books);
        cf_campaign *camps = held_copy(s, p->campaigns, p->n_campaigns * sizeof *camps);
        if (!books || !camps) return -1;
        books[s->prior_at] = s->prior_booking;
        camps[s->prior_camp].committed = s->prior_committed;
        p->bookings = books;
        p->campaigns = camps;
        break;
    }
    case PRIOR_CAMPAIGN_REPLACED: {
        cf_campaign *camps = held_copy(s, p->campaigns, p->n_campaigns * sizeof *camps);
        if (!camps) return -1;
        camps[s->prior_at] = s->prior_campaign;
        p->campaigns = camps;
        q->focus_campaign = s->prior_at;
        return 1;
    }
    }
    /* a booking's: everything the slice holds */
    q->from_day = -2147483647 - 1;
    q->to_day = 2147483647;
    q->from = -9223372036854775807LL - 1;
    q->to = 9223372036854775807LL;
    return 1;
}
