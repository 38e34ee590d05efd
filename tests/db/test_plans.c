/* test_plans.c — the generic plan of every hot statement, read from PostgreSQL.
 *
 * A fresh database of the test cluster is migrated and loaded with several
 * organisations, and left without statistics (autovacuum off, no ANALYZE):
 * the state right after a bulk load, where the planner believes an
 * organisation holds about one row and any index led by org_id looks as good
 * as the right one. The hot paths (get one and list of every resource, the
 * booking write path, the approval decision path, and those below) run once through the stores
 * on one connection, which prepares their statements there; then, with
 * plan_cache_mode = force_generic_plan, EXPLAIN (FORMAT JSON) EXECUTE of every
 * statement prepared on that connection must read each table through the index
 * the table below expects for it: no sequential scan, no scan of the
 * organisation's rows filtered for one id, no sort of a list. A statement
 * prepared here without an expectation fails too, so a new hot statement comes
 * with its expected plan. The hot paths also load the conflict rules' slices
 * (a scan, a campaign, a booking), store a measurement batch, list measurements and risks, read the
 * dashboards and the risk matrix, and claim a webhook delivery.
 * PLANS_DEBUG=<statement name> prints that statement's plan. */
#define _GNU_SOURCE
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "alert_store.h"
#include "approval_store.h"
#include "booking_store.h"
#include "calendar_store.h"
#include "campaign_store.h"
#include "conflict_store.h"
#include "dashboard_store.h"
#include "db.h"
#include "db_url.h"
#include "idempotency_store.h"
#include "measurement_store.h"
#include "migrate.h"
#include "planning_store.h"
#include "resource_store.h"
#include "risk_store.h"
#include "segment_store.h"
#include "webhook_store.h"
#include "unit.h"

static char *plans_url;   /* the fresh database */
static db_pool *pool;     /* one connection: the statements are prepared on it */
static const char *org = "plans-b"; /* an organisation between others in every index */

/* Four organisations; plans-b holds most rows, as a big customer would. */
static const char seed_sql[] =
    "SELECT campaignd_begin(o, 'seed', 'admin', 'seed') FROM unnest(ARRAY['plans-a','plans-b','plans-c','plans-d']) o;"
    "INSERT INTO campaigns (org_id, name, objective, start_date, end_date, owner, created_by)"
    " SELECT o, 'Campaign ' || g, 'awareness', DATE '2027-01-01' + g % 300, DATE '2027-01-01' + g % 300 + 30,"
    "  'owner' || g % 7, 'seed'"
    " FROM unnest(ARRAY['plans-a','plans-b','plans-c','plans-d']) o,"
    "  generate_series(1, CASE o WHEN 'plans-b' THEN 2400 ELSE 900 END) g;"
    "INSERT INTO segments (org_id, name, created_at)"
    " SELECT o, 'Segment ' || g, now() - g * interval '1 minute'"
    " FROM unnest(ARRAY['plans-a','plans-b','plans-c','plans-d']) o, generate_series(1, 200) g;"
    "INSERT INTO campaign_segments (org_id, campaign_id, segment_id, position)"
    " SELECT c.org_id, c.id, s.id, 1 FROM campaigns c"
    " JOIN segments s ON s.org_id = c.org_id AND s.name = 'Segment ' || (1 + abs(hashtext(c.name)) % 200);"
    "INSERT INTO resources (org_id, kind, name, created_at)"
    " SELECT o, 'slot', 'slot ' || g, now() - g * interval '1 minute'"
    " FROM unnest(ARRAY['plans-a','plans-b','plans-c','plans-d']) o, generate_series(1, 200) g;"
    "INSERT INTO availability (org_id, resource_id, kind, period, created_by)"
    " SELECT r.org_id, r.id, 'leave', tstzrange(timestamptz '2026-06-01' + g * interval '1 day',"
    "  timestamptz '2026-06-01' + (g + 1) * interval '1 day'), 'seed' FROM resources r, generate_series(0, 4) g;"
    "INSERT INTO bookings (org_id, campaign_id, resource_id, period, created_by)"
    " SELECT r.org_id, (SELECT c.id FROM campaigns c WHERE c.org_id = r.org_id AND c.name = 'Campaign ' || (1 + g % 50)),"
    "  r.id, tstzrange(timestamptz '2027-01-01' + g * interval '1 day',"
    "  timestamptz '2027-01-01' + (g + 1) * interval '1 day'), 'seed'"
    " FROM resources r, generate_series(0, 9) g;"
    /* a booking of the scans' window for a campaign dated years later (conflict_campaigns_by_id reads it) */
    "INSERT INTO campaigns (org_id, name, objective, start_date, end_date, owner, created_by)"
    " VALUES ('plans-b', 'Far campaign', 'awareness', DATE '2031-06-01', DATE '2031-06-02', 'owner', 'seed');"
    "INSERT INTO resources (org_id, kind, name, capacity, capacity_unit)"
    " VALUES ('plans-b', 'channel', 'Newsletter', 1000, 'sends_per_day');"
    "INSERT INTO bookings (org_id, campaign_id, resource_id, period, created_by)"
    " SELECT 'plans-b', c.id, r.id, tstzrange(timestamptz '2027-01-20', timestamptz '2027-01-21'), 'seed'"
    " FROM campaigns c, resources r WHERE c.org_id = 'plans-b' AND c.name = 'Far campaign' AND r.org_id = 'plans-b'"
    " AND r.name = 'Newsletter';"
    "INSERT INTO measurements (org_id, campaign_id, channel, date, source, external_id, leads, spend, currency)"
    " SELECT c.org_id, c.id, 'email', DATE '2027-01-01' + g, 'seed', c.id || '-' || g, 1, 10, 'EUR'"
    " FROM campaigns c, generate_series(0, 9) g;"
    "INSERT INTO key_events (org_id, name, kind, start_date, end_date)"
    " SELECT o, 'Event ' || g, 'holiday', DATE '2027-01-01' + g, DATE '2027-01-01' + g"
    " FROM unnest(ARRAY['plans-a','plans-b','plans-c','plans-d']) o, generate_series(1, 300) g;"
    "INSERT INTO calendar_feed_tokens (org_id, name, token_hash, created_by)"
    " SELECT o, 'feed ' || g, encode(sha256(convert_to(o || g, 'UTF8')), 'hex'), 'seed'"
    " FROM unnest(ARRAY['plans-a','plans-b','plans-c','plans-d']) o, generate_series(1, 100) g;"
    "INSERT INTO workflows (org_id, name, steps, created_by)"
    " SELECT o, 'Workflow ' || g,"
    "  '[{\"name\":\"brief\",\"role\":\"manager\",\"approver_sub\":null},"
    "    {\"name\":\"final\",\"role\":\"admin\",\"approver_sub\":null}]', 'seed'"
    " FROM unnest(ARRAY['plans-a','plans-b','plans-c','plans-d']) o, generate_series(1, 100) g;"
    "INSERT INTO approval_requests (org_id, campaign_id, workflow_id, workflow_name, steps, submitted_by,"
    " campaign_owner)"
    " SELECT c.org_id, c.id, w.id, w.name, w.steps, 'seed', c.owner FROM campaigns c"
    " JOIN workflows w ON w.org_id = c.org_id AND w.name = 'Workflow 1' WHERE c.name NOT LIKE 'Campaign 1_';"
    /* what the conflict rules, the dashboards, the risk register and the webhook worker read */
    "INSERT INTO segment_overlaps (org_id, segment_a, segment_b, ratio)"
    " SELECT s.org_id, least(s.id, t.id), greatest(s.id, t.id), 0.5 FROM segments s"
    " JOIN segments t ON t.org_id = s.org_id AND t.name = 'Segment ' || (split_part(s.name, ' ', 2)::int + 1)"
    " WHERE split_part(s.name, ' ', 2)::int % 10 = 0;"
    "INSERT INTO measurements (org_id, campaign_id, channel, date, source, external_id, leads, spend, currency)"
    " SELECT c.org_id, c.id, ch, c.start_date + g, 'crm', c.id || ch || g, 10 + g, 100, 'EUR' FROM campaigns c,"
    "  unnest(ARRAY['email','social']) ch, generate_series(0, 4) g;"
    "INSERT INTO risks (org_id, campaign_id, title, category, probability, impact, owner, created_by)"
    " SELECT c.org_id, c.id, 'Risk ' || g, 'technical', 1 + g % 5, 1 + (g * 3) % 5, 'owner', 'seed'"
    " FROM campaigns c, generate_series(1, 2) g;"
    "INSERT INTO webhook_subscriptions (org_id, url, event_types, created_by)"
    " SELECT o, 'https://hooks.example/' || o, '{*}', 'seed' FROM unnest(ARRAY['plans-a','plans-b','plans-c','plans-d']) o;"
    "INSERT INTO webhook_deliveries (org_id, subscription_id, event_id, event_type, body, next_attempt_at)"
    " SELECT e.org_id, s.id, e.id, e.type, '{}', now() - interval '1 minute' FROM outbox_events e"
    " JOIN webhook_subscriptions s ON s.org_id = e.org_id;";

/* plan expectations: a statement (by name prefix: the longest matching prefix
 * wins) that reads a table reads it through this index. */
typedef struct expect {
    const char *stmt, *table, *index;
} expect;

static const expect expected[] = {
    /* get one, and the lock before a change */
    {"campaign_get", "campaign_documents", "campaign_documents_pkey"},
    {"campaign_", "campaign_documents", "campaign_documents_pkey"}, /* a list's kept documents, by key */
    {"campaign_", "campaign_segments", "campaign_segments_pkey"},
    {"campaign_lock", "campaigns", "campaigns_pkey"},
    {"segment_get", "segments", "segments_pkey"},
    {"resource_get", "resources", "resources_pkey"},
    {"booking_get", "bookings", "bookings_pkey"},
    {"key_event_get", "key_events", "key_events_pkey"},
    {"workflow_get", "workflows", "workflows_pkey"},
    {"approval_get", "approval_requests", "approval_requests_pkey"},
    {"approval_", "approval_decisions", "approval_decisions_one_per_step"},
    /* lists: the index that gives the order, after a cursor as well */
    {"campaign_list_created_at_", "campaigns", "campaigns_created"},
    {"campaign_list_updated_at_", "campaigns", "campaigns_updated"},
    {"campaign_list_name_", "campaigns", "campaigns_name"},
    {"campaign_list_start_date_", "campaigns", "campaigns_start"},
    {"campaign_list_end_date_", "campaigns", "campaigns_end"},
    {"campaign_list_priority_score_", "campaigns", "campaigns_priority_idx"},
    {"segment_list_created_at_", "segments", "segments_created"},
    {"segment_list_name_", "segments", "segments_name"},
    {"resource_list_created_at_", "resources", "resources_created"},
    {"resource_list_name_", "resources", "resources_name"},
    {"availability_list_start_", "availability", "availability_resource_start"},
    {"availability_list_created_at_", "availability", "availability_resource_created"},
    {"booking_list_start_", "bookings", "bookings_start"},
    {"booking_list_created_at_", "bookings", "bookings_created"},
    {"key_event_list_start_date_", "key_events", "key_events_start"},
    {"key_event_list_name_", "key_events", "key_events_name"},
    {"key_event_list_", "organisations", "organisations_pkey"}, /* the organisation's time zone */
    {"key_event_list_created_at_", "key_events", "key_events_created"},
    {"feed_token_list_created_at_", "calendar_feed_tokens", "calendar_feed_tokens_created"},
    {"feed_token_list_name_", "calendar_feed_tokens", "calendar_feed_tokens_name"},
    {"workflow_list_created_at_", "workflows", "workflows_created"},
    {"workflow_list_name_", "workflows", "workflows_name"},
    {"approval_list_created_at_", "approval_requests", "approval_requests_created"},
    {"approval_list_updated_at_", "approval_requests", "approval_requests_updated"},
    /* the booking write path */
    {"idem_find", "idempotency_keys", "idempotency_keys_pkey"},
    {"booking_refs", "campaigns", "campaigns_pkey"},
    {"booking_refs", "resources", "resources_pkey"},
    {"booking_refs", "segments", "segments_pkey"},
    /* the conflict rules: the window's settings (org_window(), inlined) in every statement, then each table
     * through the index of what the question needs: a booking reads its resource's rows; a scan or a campaign
     * the window's; the whole organisation only for its segments, overlaps and resources */
    {"conflict_", "organisations", "organisations_pkey"},
    {"conflict_", "org_settings", "org_settings_pkey"},
    {"conflict_segments", "segments", "segments_parent"},
    {"conflict_overlaps", "segment_overlaps", "segment_overlaps_pair"},
    {"conflict_resources", "resources", "resources_kind"},
    /* a booking's slice, one statement: its resource by key, that resource's bookings around it (read once), their
     * campaigns and its own by key, their segments and their ancestors by key, its resource's unavailability, the
     * blackouts; asked around it (conflict_booking_slice_around, and a check's when something may block it), the
     * alternatives of its kind, by name, each free of bookings and unavailability */
    {"conflict_booking_slice", "bookings", "bookings_resource_period"},
    {"conflict_booking_slice", "segments", "segments_pkey"},
    {"conflict_booking_slice", "resources", "resources_kind"},
    {"conflict_booking_slice", "resources", "resources_pkey"},
    {"conflict_booking_slice", "availability", "availability_resource_period"},
    {"conflict_booking_slice", "key_events", "key_events_end"},
    /* a new booking's write on a resource seen exclusive (a slot, a person): its own rows, by key (a check there,
     * conflict_booking_slice_check_plain, reads as conflict_booking_slice without the segments' ancestors) */
    {"conflict_booking_slice_plain", "resources", "resources_pkey"},
    {"conflict_booking_slice_plain", "segments", "segments_pkey"},
    {"conflict_booking_slice_plain", "key_events", "key_events_end"},
    /* a campaign's slice, one statement: its segments' ancestors by key and descendants through segments_parent,
     * their declared overlaps both ways, the campaigns reaching them in its window (campaign_audience_dates) and
     * those of its offer code, each by key,
     * their segments and their ancestors by key, the overlaps between those, the blackouts */
    {"conflict_campaign_slice", "segments", "segments_pkey"},
    {"conflict_campaign_slice", "segments", "segments_parent"},
    {"conflict_campaign_slice", "segment_overlaps", "segment_overlaps_pair"},
    {"conflict_campaign_slice", "segment_overlaps", "segment_overlaps_b_idx"},
    {"conflict_campaign_slice", "campaign_audience", "campaign_audience_dates"},
    {"conflict_campaign_slice", "campaigns", "campaigns_offer"},
    {"conflict_campaign_slice", "campaigns", "campaigns_pkey"},
    {"conflict_campaign_slice", "campaign_segments", "campaign_segments_pkey"},
    {"conflict_campaign_slice", "key_events", "key_events_end"},
    {"conflict_campaigns", "campaigns", "campaigns_end"},
    {"conflict_campaigns", "campaigns", "campaigns_pkey"},
    {"conflict_campaigns", "bookings", "bookings_org_period"},
    {"conflict_", "campaigns", "campaigns_pkey"},
    {"conflict_", "campaign_segments", "campaign_segments_pkey"},
    {"conflict_", "campaign_commitments", "campaign_commitments_pkey"},
    {"conflict_", "risks", "risks_unmitigated"},
    {"conflict_", "measurements", "measurements_campaign_date"},
    {"conflict_bookings", "bookings", "bookings_org_period_shared"}, /* of resources that are not exclusive */
    {"conflict_bookings", "availability", "availability_org_period"}, /* and exclusive ones meeting an unavailability */
    {"conflict_bookings", "bookings", "bookings_resource_period"},
    {"conflict_bookings", "bookings", "bookings_no_overlap"}, /* an unavailable resource's: the exclusive ones' index */
    {"conflict_bookings", "key_events", "key_events_end"},            /* or a blackout */
    {"conflict_bookings", "bookings", "bookings_org_period"},
    {"conflict_bookings", "bookings", "bookings_pkey"},
    {"conflict_unavailability", "availability", "availability_org_period"},
    {"conflict_blackouts", "key_events", "key_events_end"},
    /* measurements: a batch finds each row's campaign and stored row by their keys; the list by its sort */
    {"measurement_upsert", "campaigns", "campaigns_pkey"},
    {"measurement_upsert", "measurements", "measurements_key"},
    {"measurement_list_date_", "measurements", "measurements_date"},
    {"measurement_list_created_at_", "measurements", "measurements_created"},
    {"measurement_list_updated_at_", "measurements", "measurements_updated"},
    /* the dashboards: a campaign's rows; the organisation's day rollup and the campaigns of the window */
    {"dash_", "organisations", "organisations_pkey"},
    {"dash_campaign", "campaigns", "campaigns_pkey"},
    {"dash_campaign", "bookings", "bookings_campaign_idx"},
    {"dash_campaign_channels", "measurements", "measurements_campaign_date"},
    {"dash_targets", "kpi_targets", "kpi_targets_campaign"},
    {"dash_channels", "campaigns", "campaigns_end"},
    {"dash_", "measurement_days", "measurement_days_pkey"},
    {"dash_capacity", "resources", "resources_kind"},
    {"dash_capacity", "bookings", "bookings_resource_bucket"},
    {"dash_capacity", "availability", "availability_org_period"},
    /* risks: the list by its sort; the matrix through the window's campaigns */
    {"risk_list_created_at_", "risks", "risks_created"},
    {"risk_list_score_", "risks", "risks_score"},
    {"risk_list_title_", "risks", "risks_title"},
    {"risk_matrix", "campaigns", "campaigns_end"},
    {"risk_matrix", "risks", "risks_campaign"},
    /* the webhook worker's claim: the most overdue delivery, then its subscription and secrets */
    {"webhook_claim", "webhook_deliveries", "webhook_deliveries_due"},
    {"webhook_claim", "webhook_deliveries", "webhook_deliveries_pkey"},
    {"webhook_claim", "webhook_subscriptions", "webhook_subscriptions_pkey"},
    {"webhook_claim", "webhook_secrets", "webhook_secrets_subscription"},
    /* the approval decision path */
    {"approval_lock", "approval_requests", "approval_requests_pkey"},
    {"approval_seen_version", "approval_requests", "approval_requests_pkey"},
    {"approval_campaign_lock", "approval_requests", "approval_requests_pkey"},
    {"approval_campaign_lock", "campaigns", "campaigns_pkey"},
    {"approval_advance", "approval_requests", "approval_requests_pkey"},
    {"campaign_move", "campaigns", "campaigns_pkey"},
    {"campaign_set_status", "campaigns", "campaigns_pkey"},
    /* the KPI alerts after a batch of measurements: the touched campaigns' inputs, and the records */
    {"dash_alert_campaigns", "campaigns", "campaigns_pkey"},
    {"dash_alert_campaigns", "organisations", "organisations_pkey"},
    {"dash_alert_campaigns", "bookings", "bookings_campaign_idx"},
    {"dash_alert_campaigns", "resources", "resources_pkey"},
    {"dash_alert_campaigns", "campaign_budget_alerts", "campaign_budget_alerts_pkey"},
    {"dash_alert_targets", "kpi_targets", "kpi_targets_campaign"},
    {"dash_alert_targets", "kpi_target_alerts", "kpi_target_alerts_pkey"},
    {"dash_alert_sums", "measurements", "measurements_campaign_date"},
    /* a forecast's history version, its summary and the fits kept at it */
    {"planning_kept_history", "forecast_history_versions", "forecast_history_versions_pkey"},
    {"planning_kept_history", "forecast_histories", "forecast_histories_pkey"},
    {"planning_fits", "forecast_fits", "forecast_fits_pkey"},
    {"alert_record", "kpi_target_alerts", "kpi_target_alerts_pkey"},
    {"alert_record", "kpi_targets", "kpi_targets_pkey"},
    {"alert_record", "campaign_budget_alerts", "campaign_budget_alerts_pkey"},
    /* not hot, but prepared on this connection by the migration runner */
    {"migrate_", "schema_migrations", "schema_migrations_pkey"},
    {NULL, NULL, NULL},
};

/* The sorts a statement may make (by name prefix, and a text in its first sort key): of a handful of rows
 * that belong to one row, or of the groups an aggregate made, never of a list or of the organisation's rows. */
static const expect sorts_allowed[] = {
    {"conflict_", "cs.\"position\"", "a campaign's segments, in their order"},
    {"measurement_upsert", "source", "the batch's rows in key order (the lock order of concurrent batches)"},
    {"dash_campaign_channels", "COALESCE", "the channel groups"},
    {"dash_channels", "COALESCE", "the channel groups"},
    {"dash_periods", "p.key", "the periods"},
    {"dash_capacity", "c.id", "the people's weeks"},
    {"dash_capacity", "s.skill", "the skills' weeks"},
    {"risk_matrix", "p.p", "the 25 cells"},
    {NULL, NULL, NULL},
};

static int sort_allowed(const char *stmt, json_t *j_node)
{
    const char *key = json_string_value(json_array_get(json_object_get(j_node, "Sort Key"), 0));
    for (const expect *e = sorts_allowed; key && e->stmt; e++)
        if (strncmp(stmt, e->stmt, strlen(e->stmt)) == 0 && strstr(key, e->table)) return 1;
    return 0;
}

/* The expectation for stmt reading table through index: the entries of the longest prefix naming that table
 * (a statement that reads a table twice, as a lookup and as a range, lists both); the one naming index when
 * there is one, else the first of them, else NULL. */
static const expect *expectation(const char *stmt, const char *table, const char *index)
{
    const expect *best = NULL;
    for (const expect *e = expected; e->stmt; e++)
        if (strncmp(stmt, e->stmt, strlen(e->stmt)) == 0 && strcmp(table, e->table) == 0 &&
            (!best || strlen(e->stmt) > strlen(best->stmt) ||
             (strlen(e->stmt) == strlen(best->stmt) && strcmp(e->index, index) == 0)))
            best = e;
    return best;
}

/* Checks one plan node and its children; table is the relation of the
 * nearest scan above (a bitmap index scan names no relation). Appends what is
 * wrong to *errs. */
static void check_node(const char *stmt, json_t *j_node, const char *table, char **errs)
{
    const char *type = json_string_value(json_object_get(j_node, "Node Type"));
    const char *rel = json_string_value(json_object_get(j_node, "Relation Name"));
    const char *index = json_string_value(json_object_get(j_node, "Index Name"));
    char *add = NULL;
    if (rel && strcmp(type, "ModifyTable") != 0) table = rel;
    if (strcmp(type, "Seq Scan") == 0) {
        if (asprintf(&add, "%s: sequential scan of %s\n", stmt, rel) < 0) add = NULL;
    } else if ((strcmp(type, "Sort") == 0 || strcmp(type, "Incremental Sort") == 0) && !sort_allowed(stmt, j_node)) {
        if (asprintf(&add, "%s: sorts (%s) instead of reading an index in order\n", stmt, type) < 0) add = NULL;
    } else if (index) {
        const expect *e = expectation(stmt, table, index);
        if (!e) {
            if (asprintf(&add, "%s: reads %s through %s, and no expectation names that table for it\n", stmt, table,
                         index) < 0)
                add = NULL;
        } else if (strcmp(e->index, index) != 0) {
            if (asprintf(&add, "%s: reads %s through %s, expected %s\n", stmt, table, index, e->index) < 0) add = NULL;
        }
    }
    if (add) {
        char *joined = NULL;
        if (asprintf(&joined, "%s%s", *errs ? *errs : "", add) >= 0) {
            free(*errs);
            *errs = joined;
        }
        free(add);
    }
    size_t i;
    json_t *j_child;
    json_array_foreach(json_object_get(j_node, "Plans"), i, j_child) check_node(stmt, j_child, table, errs);
}

static db_conn *take(void)
{
    db_conn *c = NULL;
    ck_assert_int_eq(db_acquire(pool, &c), APP_OK);
    return c;
}

/* The text of the first column of the first row of sql (a program constant), malloc'd. */
static char *one_value(db_conn *c, const char *sql)
{
    PGresult *res = PQexec(db_conn_pg(c), sql);
    ck_assert_msg(PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1, "%s: %s", sql,
                  PQerrorMessage(db_conn_pg(c)));
    char *v = strdup(PQgetvalue(res, 0, 0));
    PQclear(res);
    return v;
}

/* Runs one write of a hot path in a transaction that is rolled back, so the
 * loaded data stays as it is (whatever the write's outcome: its statements
 * are prepared either way). */
#define IN_ROLLED_BACK_TX(c, call)                                                                              \
    do {                                                                                                     \
        ck_assert_int_eq(db_begin(c), APP_OK);                                                               \
        ck_assert_int_eq(tx_store_begin(c, org, "planner", "admin", "plans"), APP_OK);                       \
        (void)(call);                                                                                        \
        db_rollback(c);                                                                                      \
    } while (0)

/* A cursor key of the sort's type. */
static const char *cursor_for(const char *sort)
{
    if (strcmp(sort, "name") == 0) return "Campaign 5";
    if (strstr(sort, "date")) return "2027-02-01";
    if (strcmp(sort, "priority_score") == 0) return "55.5";
    if (strcmp(sort, "score") == 0) return "10";
    if (strcmp(sort, "title") == 0) return "Risk 1";
    return "2027-02-01T00:00:00Z";
}

typedef app_err (*list_fn)(db_conn *c, int sort, int desc, const char *key, const char *id, list_result *out);

static char *resource_id, *campaign_id, *approval_id;

static app_err l_campaigns(db_conn *c, int s, int d, const char *k, const char *i, list_result *o)
{
    campaign_filter f = {0};
    return campaign_store_list(c, org, &f, s, d, k, i, 50, o);
}
static app_err l_segments(db_conn *c, int s, int d, const char *k, const char *i, list_result *o)
{
    return segment_store_list(c, org, NULL, NULL, s, d, k, i, 50, o);
}
static app_err l_resources(db_conn *c, int s, int d, const char *k, const char *i, list_result *o)
{
    resource_filter f = {0};
    return resource_store_list(c, org, &f, s, d, k, i, 50, o);
}
static app_err l_availability(db_conn *c, int s, int d, const char *k, const char *i, list_result *o)
{
    return availability_store_list(c, org, resource_id, NULL, NULL, s, d, k, i, 50, o);
}
static app_err l_bookings(db_conn *c, int s, int d, const char *k, const char *i, list_result *o)
{
    booking_filter f = {0};
    return booking_store_list(c, org, &f, s, d, k, i, 50, o);
}
static app_err l_key_events(db_conn *c, int s, int d, const char *k, const char *i, list_result *o)
{
    return key_event_store_list(c, org, NULL, NULL, NULL, NULL, s, d, k, i, 50, o);
}
static app_err l_feed_tokens(db_conn *c, int s, int d, const char *k, const char *i, list_result *o)
{
    return feed_token_store_list(c, org, NULL, 0, s, d, k, i, 50, o);
}
static app_err l_workflows(db_conn *c, int s, int d, const char *k, const char *i, list_result *o)
{
    return workflow_store_list(c, org, NULL, NULL, s, d, k, i, 50, o);
}
static app_err l_approvals(db_conn *c, int s, int d, const char *k, const char *i, list_result *o)
{
    approval_filter f = {0};
    return approval_store_list(c, org, &f, s, d, k, i, 50, o);
}
static app_err l_measurements(db_conn *c, int s, int d, const char *k, const char *i, list_result *o)
{
    measurement_filter f = {0};
    return measurement_store_list(c, org, &f, s, d, k, i, 50, o);
}
static app_err l_risks(db_conn *c, int s, int d, const char *k, const char *i, list_result *o)
{
    risk_filter f = {0};
    return risk_store_list(c, org, &f, s, d, k, i, 50, o);
}

static const struct {
    const char *what;
    list_fn run;
    const char *const *sorts;
} lists[] = {
    {"campaigns", l_campaigns, campaign_sort_names},   {"segments", l_segments, segment_sort_names},
    {"resources", l_resources, resource_sort_names},   {"availability", l_availability, availability_sort_names},
    {"bookings", l_bookings, booking_sort_names},      {"key events", l_key_events, key_event_sort_names},
    {"feed tokens", l_feed_tokens, feed_token_sort_names}, {"workflows", l_workflows, workflow_sort_names},
    {"approvals", l_approvals, approval_sort_names},   {"measurements", l_measurements, measurement_sort_names},
    {"risks", l_risks, risk_sort_names},
};

/* Runs every hot path once on c. */
static void run_hot_paths(db_conn *c)
{
    db_doc doc = {0}, lock = {0}, campaign = {0}, moved = {0};
    char *segment = one_value(c, "SELECT id FROM segments WHERE org_id = 'plans-b' ORDER BY name LIMIT 1");
    char *booking = one_value(c, "SELECT id FROM bookings WHERE org_id = 'plans-b' ORDER BY id LIMIT 1");
    char *key_event = one_value(c, "SELECT id FROM key_events WHERE org_id = 'plans-b' ORDER BY id LIMIT 1");
    char *workflow = one_value(c, "SELECT id FROM workflows WHERE org_id = 'plans-b' ORDER BY id LIMIT 1");

    /* get one */
    ck_assert_int_eq(campaign_store_get(c, org, campaign_id, &doc), APP_OK);
    db_doc_free(&doc);
    ck_assert_int_eq(segment_store_get(c, org, segment, &doc), APP_OK);
    db_doc_free(&doc);
    ck_assert_int_eq(resource_store_get(c, org, resource_id, &doc), APP_OK);
    db_doc_free(&doc);
    ck_assert_int_eq(booking_store_get(c, org, booking, &doc), APP_OK);
    db_doc_free(&doc);
    ck_assert_int_eq(key_event_store_get(c, org, key_event, &doc), APP_OK);
    db_doc_free(&doc);
    ck_assert_int_eq(workflow_store_get(c, org, workflow, &doc), APP_OK);
    db_doc_free(&doc);
    ck_assert_int_eq(approval_store_get(c, org, approval_id, &doc), APP_OK);
    db_doc_free(&doc);

    /* lists: every sort, both directions, first page and after a cursor */
    for (size_t l = 0; l < sizeof lists / sizeof lists[0]; l++)
        for (int s = 0; lists[l].sorts[s]; s++)
            for (int v = 0; v < 4; v++) {
                list_result out = {0};
                app_err e = lists[l].run(c, s, v & 1, v & 2 ? cursor_for(lists[l].sorts[s]) : NULL,
                                         v & 2 ? "00000000-0000-0000-0000-000000000000" : NULL, &out);
                ck_assert_msg(e == APP_OK, "list of %s by %s: error %d", lists[l].what, lists[l].sorts[s], e);
                list_result_free(&out);
            }

    /* the booking write path, with an Idempotency-Key */
    char body[512], id[37];
    snprintf(body, sizeof body,
             "{\"campaign_id\":\"%s\",\"resource_id\":\"%s\",\"segment_id\":\"%s\","
             "\"start\":\"2031-01-01T00:00:00Z\",\"end\":\"2031-01-02T00:00:00Z\"}",
             campaign_id, resource_id, segment);
    booking_refs refs;
    int taken = 0;
    idem_record rec = {0};
    IN_ROLLED_BACK_TX(c, idem_store_lock(c, org, "plans-key", &taken) ||
                             idem_store_find(c, org, "plans-key", "POST /v1/bookings", &rec) ||
                             booking_store_refs(c, org, campaign_id, resource_id, segment, &refs) ||
                             booking_store_insert(c, org, "planner", body, &doc, id, NULL) ||
                             idem_store_save(c, org, "plans-key", "POST /v1/bookings", 201, "/v1/bookings/x",
                                             doc.json, doc.version));
    idem_record_free(&rec);
    db_doc_free(&doc);

    /* the conflict rules: a portfolio scan, a booking's check (its write path), around it (a blocked booking's free
     * periods and alternatives) and as POST /v1/conflicts/check asks (around it when it may be blocked), a
     * campaign's check (with an offer) */
    const conflict_ask asks[] = {
        {.mode = CONFLICT_SCAN, .from = "2027-01-01", .to = "2027-03-01"},
        {.mode = CONFLICT_BOOKING, .from = "2027-01-03T00:00:00Z", .to = "2027-01-04T00:00:00Z",
         .campaign_id = campaign_id, .resource_id = resource_id, .segment_id = segment},
        {.mode = CONFLICT_BOOKING, .from = "2027-01-03T00:00:00Z", .to = "2027-01-04T00:00:00Z",
         .campaign_id = campaign_id, .resource_id = resource_id, .segment_id = segment, .around = 1},
        {.mode = CONFLICT_BOOKING, .from = "2027-01-03T00:00:00Z", .to = "2027-01-04T00:00:00Z",
         .campaign_id = campaign_id, .resource_id = resource_id, .segment_id = segment, .check = 1},
    };
    for (size_t a = 0; a < sizeof asks / sizeof asks[0]; a++) {
        conflict_slice *slice = NULL;
        ck_assert_int_eq(conflict_store_load(c, org, &asks[a], &slice), APP_OK);
        conflict_slice_free(slice);
    }
    /* a new booking's write on a slot: read in full first, then (the slot seen exclusive) its own rows only */
    char *slot_id = one_value(c, "SELECT id FROM resources WHERE org_id = 'plans-b' AND kind = 'slot' ORDER BY name LIMIT 1");
    for (int twice = 0; twice < 2; twice++) {
        conflict_ask ask = {.mode = CONFLICT_BOOKING, .from = "2027-01-03T00:00:00Z", .to = "2027-01-04T00:00:00Z",
                            .campaign_id = campaign_id, .resource_id = slot_id, .segment_id = segment};
        conflict_slice *slice = NULL;
        ck_assert_int_eq(conflict_store_load(c, org, &ask, &slice), APP_OK);
        ck_assert_int_eq(conflict_slice_incomplete(slice), 0);
        conflict_slice_free(slice);
    }
    /* and a check there (conflict_booking_slice_check_plain): what is around it, not what only a channel's or a
       capacity's rules read */
    conflict_ask check = {.mode = CONFLICT_BOOKING, .from = "2027-01-03T00:00:00Z", .to = "2027-01-04T00:00:00Z",
                          .campaign_id = campaign_id, .resource_id = slot_id, .segment_id = segment, .check = 1};
    conflict_slice *checked = NULL;
    ck_assert_int_eq(conflict_store_load(c, org, &check, &checked), APP_OK);
    ck_assert_int_eq(conflict_slice_incomplete(checked), 0);
    conflict_slice_free(checked);
    free(slot_id);
    json_t *j_campaign = json_pack("{s:s, s:s, s:s, s:[s], s:{s:s, s:s}}", "name", "Probe", "start_date", "2027-02-01",
                                   "end_date", "2027-02-28", "segment_ids", segment, "offer", "code", "CODE1",
                                   "terms", "10 % off");
    conflict_slice *slice = NULL;
    const char *field;
    int at;
    ck_assert_int_eq(conflict_store_load_campaign(c, org, j_campaign, campaign_id, &slice, &at, &field, NULL), APP_OK);
    conflict_slice_free(slice);
    /* the same proposed as a new campaign: a statement of its own, without the stored one's parts */
    slice = NULL;
    ck_assert_int_eq(conflict_store_load_campaign(c, org, j_campaign, NULL, &slice, &at, &field, NULL), APP_OK);
    conflict_slice_free(slice);
    json_decref(j_campaign);

    /* a measurement batch */
    char batch[512], *results = NULL;
    snprintf(batch, sizeof batch,
             "[{\"ord\":0,\"campaign_id\":\"%s\",\"channel\":\"email\",\"date\":\"2027-01-05\","
             "\"source\":\"crm\",\"external_id\":\"plans-1\",\"leads\":3}]",
             campaign_id);
    IN_ROLLED_BACK_TX(c, measurement_store_upsert(c, org, NULL, batch, &results, NULL));
    free(results);

    /* the dashboards, and the risk matrix */
    dash_window year = {"2027-01-01", "2027-12-31", NULL};
    dash_campaign dc = {0};
    ck_assert_int_eq(dash_store_campaign(c, org, campaign_id, &year, &dc), APP_OK);
    dash_campaign_free(&dc);
    dash_groups groups = {0};
    ck_assert_int_eq(dash_store_channels(c, org, &year, &groups), APP_OK);
    dash_groups_free(&groups);
    static const char *const grains[] = {"day", "week", "month"};
    for (int g = 0; g < 3; g++) {
        ck_assert_int_eq(dash_store_periods(c, org, grains[g], &year, &groups), APP_OK);
        dash_groups_free(&groups);
    }
    char *json = NULL;
    ck_assert_int_eq(dash_store_capacity(c, org, "2027-01-01", "2027-03-31", &json), APP_OK);
    free(json);
    risk_filter rf = {0};
    ck_assert_int_eq(risk_store_matrix(c, org, "2027-01-01", "2027-12-31", &rf, &json), APP_OK);
    free(json);

    /* the webhook worker's claim (its own transaction: one delivery leased) */
    webhook_claim claim = {0};
    ck_assert_int_eq(webhook_store_claim(c, 30000, &claim), APP_OK);
    webhook_claim_free(&claim);

    /* the approval decision path */
    int seen = 0;
    IN_ROLLED_BACK_TX(c, campaign_store_lock(c, org, campaign_id, &campaign) ||
                             approval_store_lock_for_decision(c, org, approval_id, &seen, &lock) ||
                             approval_store_decide(c, org, approval_id, 0, "request_changes", "more", "planner",
                                                   "admin", 1, NULL) ||
                             approval_store_advance(c, org, approval_id, "changes_requested", 0, "more", &doc, NULL) ||
                             campaign_store_move(c, org, campaign_id, "draft", "changes requested: more") ||
                             db_commit(c));
    IN_ROLLED_BACK_TX(c, campaign_store_set_status(c, org, campaign_id, "in_review", "submitted", &moved, NULL));

    /* the KPI alerts after a batch of measurements */
    char ids[64], changes[512];
    snprintf(ids, sizeof ids, "[\"%s\"]", campaign_id);
    snprintf(changes, sizeof changes,
             "[{\"kind\":\"budget\",\"campaign_id\":\"%s\",\"target_id\":null,\"state\":\"warn\",\"type\":null,"
             "\"data\":null},{\"kind\":\"target\",\"campaign_id\":\"%s\","
             "\"target_id\":\"00000000-0000-0000-0000-000000000000\",\"state\":null,\"type\":null,\"data\":null}]",
             campaign_id, campaign_id);
    dash_campaign *camps = NULL;
    size_t ncamps = 0;
    IN_ROLLED_BACK_TX(c, dash_store_alert_inputs(c, org, ids, &camps, &ncamps) ||
                             alert_store_record(c, org, changes, NULL));
    for (size_t i = 0; i < ncamps; i++) dash_campaign_free(&camps[i]);
    free(camps);

    /* a forecast's history version and summary, its kept fits, read and kept */
    static const char *const kpis[] = {"leads"};
    static const char key[] = "0000000000000000000000000000000000000000000000000000000000000000";
    planning_fit_bytes fit = {0};
    char version[PLANNING_VERSION_LEN], *summary = NULL;
    IN_ROLLED_BACK_TX(c, planning_store_kept_history(c, org, "EUR", NULL, &summary, version) ||
                             planning_store_keep_history(c, org, "EUR", NULL, version, "{}") ||
                             planning_store_fits(c, org, key, key, kpis, 1, &fit) ||
                             planning_store_keep_fits(c, org, key, key, kpis,
                                                      &(planning_fit_bytes){(unsigned char *)"m", 1, ""}, 1));
    planning_fit_bytes_free(&fit, 1);
    free(summary);
    db_doc_free(&doc);
    db_doc_free(&lock);
    db_doc_free(&campaign);
    db_doc_free(&moved);
    free(segment);
    free(booking);
    free(key_event);
    free(workflow);
}

START_TEST(hot_statements_use_their_index_without_statistics)
{
    db_conn *c = take();
    PGconn *pg = db_conn_pg(c);
    char *analyzed = one_value(c, "SELECT count(*) FILTER (WHERE reltuples >= 0)::text FROM pg_class c"
                                  " JOIN pg_namespace n ON n.oid = c.relnamespace"
                                  " WHERE n.nspname = 'public' AND c.relkind = 'r'");
    ck_assert_msg(strcmp(analyzed, "0") == 0, "%s tables have statistics", analyzed);
    free(analyzed);
    resource_id = one_value(c, "SELECT id FROM resources WHERE org_id = 'plans-b' ORDER BY name LIMIT 1");
    campaign_id = one_value(c, "SELECT campaign_id FROM approval_requests WHERE org_id = 'plans-b' LIMIT 1");
    approval_id = one_value(c, "SELECT id FROM approval_requests WHERE org_id = 'plans-b' LIMIT 1");
    run_hot_paths(c);

    PGresult *res = PQexec(pg, "SET plan_cache_mode = force_generic_plan");
    ck_assert_int_eq(PQresultStatus(res), PGRES_COMMAND_OK);
    PQclear(res);
    res = PQexec(pg, "SELECT name, cardinality(parameter_types) FROM pg_prepared_statements ORDER BY name");
    ck_assert_int_eq(PQresultStatus(res), PGRES_TUPLES_OK);
    ck_assert_int_ge(PQntuples(res), 100);
    char *errs = NULL;
    for (int r = 0; r < PQntuples(res); r++) {
        const char *name = PQgetvalue(res, r, 0);
        int nparams = atoi(PQgetvalue(res, r, 1));
        /* A generic plan does not depend on the values: NULLs will do. */
        char sql[512];
        int n = snprintf(sql, sizeof sql, "EXPLAIN (FORMAT JSON) EXECUTE %s", name);
        for (int p = 0; p < nparams; p++) n += snprintf(sql + n, sizeof sql - (size_t)n, p ? ", NULL" : "(NULL");
        snprintf(sql + n, sizeof sql - (size_t)n, nparams ? ")" : "");
        PGresult *plan = PQexec(pg, sql);
        ck_assert_msg(PQresultStatus(plan) == PGRES_TUPLES_OK, "%s: %s", sql, PQerrorMessage(pg));
        if (getenv("PLANS_DEBUG") && strcmp(getenv("PLANS_DEBUG"), name) == 0) fputs(PQgetvalue(plan, 0, 0), stderr);
        json_t *j_plan = json_loads(PQgetvalue(plan, 0, 0), 0, NULL);
        ck_assert_ptr_nonnull(j_plan);
        check_node(name, json_object_get(json_array_get(j_plan, 0), "Plan"), "", &errs);
        json_decref(j_plan);
        PQclear(plan);
    }
    PQclear(res);
    /* every expectation was met by a statement prepared here */
    for (const expect *e = expected; e->stmt; e++) {
        char sql[256];
        snprintf(sql, sizeof sql, "SELECT count(*)::text FROM pg_prepared_statements WHERE starts_with(name, '%s')",
                 e->stmt);
        char *count = one_value(c, sql);
        ck_assert_msg(strcmp(count, "0") != 0, "no statement named %s* ran", e->stmt);
        free(count);
    }
    if (errs) fputs(errs, stderr); /* in full: check truncates long messages */
    ck_assert_msg(!errs, "generic plans without statistics read the wrong index (listed above)");
    db_release(pool, c);
    free(resource_id);
    free(campaign_id);
    free(approval_id);
}
END_TEST

int main(void)
{
    const char *base_url = getenv("CAMPAIGND_TEST_DATABASE_URL");
    if (!base_url) {
        fprintf(stderr, "CAMPAIGND_TEST_DATABASE_URL is not set: skipping\n");
        return 77;
    }
    /* A database of its own: fresh, loaded here, never analyzed. */
    char dbname[48], sql[128];
    snprintf(dbname, sizeof dbname, "campaignd_plans_%d", (int)getpid());
    if (!(plans_url = db_url_with_database(base_url, dbname))) return 1;
    db_pool *base = db_pool_create(base_url, 1, 60000);
    db_conn *c = NULL;
    snprintf(sql, sizeof sql, "CREATE DATABASE %s", dbname);
    if (!base || db_acquire(base, &c) || db_exec_script(c, sql)) {
        fprintf(stderr, "cannot create %s\n", dbname);
        return 1;
    }
    pool = db_pool_create(plans_url, 1, 60000);
    db_conn *pc = NULL;
    int applied = 0;
    int ok = pool && !db_acquire(pool, &pc) && !migrate_run(pc, &applied) &&
             !db_exec_script(pc, "DO $$DECLARE t text; BEGIN FOR t IN SELECT tablename FROM pg_tables"
                                 " WHERE schemaname = 'public' LOOP"
                                 " EXECUTE format('ALTER TABLE %I SET (autovacuum_enabled = off)', t);"
                                 " END LOOP; END $$") &&
             !db_exec_script(pc, "BEGIN") && !db_exec_script(pc, seed_sql) && !db_exec_script(pc, "COMMIT");
    db_release(pool, pc);
    int failed = 1;
    if (!ok) fprintf(stderr, "cannot migrate and load %s\n", dbname);
    else {
        Suite *s = suite_create("plans");
        TCase *tc = tcase_create("plans");
        tcase_set_timeout(tc, 120);
        tcase_add_test(tc, hot_statements_use_their_index_without_statistics);
        suite_add_tcase(s, tc);
        failed = unit_run(s);
    }
    db_pool_free(pool);
    snprintf(sql, sizeof sql, "DROP DATABASE %s", dbname);
    if (db_exec_script(c, sql)) fprintf(stderr, "could not drop %s\n", dbname);
    db_release(base, c);
    db_pool_free(base);
    free(plans_url);
    return failed;
}
