/* test_booking_store.c — the booking, availability and resource SQL against the real database: what a
 * planner relies on when two teams reach for the same resource. Each test has its own organisation and
 * connection (store.h); a refused write is rolled back like the API's transaction. */
#include "store.h"

#include "booking_store.h"
#include "campaign_store.h"
#include "resource_store.h"

static void run_sql(const char *sql);

#define BANNER "{\"kind\":\"slot\",\"name\":\"Homepage banner\"}"

/* A draft campaign in organisation o (inside the open transaction). */
static void make_campaign(const char *o, char id[37])
{
    db_doc doc = {0};
    ck_assert_int_eq(campaign_store_insert(c, o, "tester",
                                           "{\"name\":\"Spring\",\"objective\":\"launch\",\"start_date\":\"2027-03-01\","
                                           "\"end_date\":\"2027-03-31\",\"channels\":[\"email\"]}",
                                           &doc, id, NULL),
                     APP_OK);
    db_doc_free(&doc);
}

/* A resource of organisation o from its JSON body; its document. */
static json_t *make_resource(const char *o, const char *body, char id[37])
{
    db_doc doc = {0};
    app_refusal why = {0};
    app_err e = resource_store_insert(c, o, body, &doc, id, &why);
    ck_assert_msg(e == APP_OK, "resource %s refused: %s", body, why.sentence ? why.sentence : "?");
    return store_doc(&doc);
}

/* Books resource for campaign over [start, end) with extra members (JSON text without braces, or "").
 * APP_OK: id and *j_doc (if not NULL) are the booking; otherwise *why is the refusal. */
static app_err book(const char *campaign, const char *resource, const char *start, const char *end,
                    const char *extra, char id[37], json_t **j_doc, app_refusal *why)
{
    char body[512];
    db_doc doc = {0};
    snprintf(body, sizeof body, "{\"campaign_id\":\"%s\",\"resource_id\":\"%s\",\"start\":\"%s\",\"end\":\"%s\"%s%s}",
             campaign, resource, start, end, *extra ? "," : "", extra);
    app_err e = booking_store_insert(c, org, "tester", body, &doc, id, why);
    if (e == APP_OK) {
        json_t *j = store_doc(&doc);
        if (j_doc) *j_doc = j;
        else json_decref(j);
    }
    return e;
}

/* book() that must succeed, in a transaction of its own (committed). */
static void booked(const char *campaign, const char *resource, const char *start, const char *end, const char *extra,
                   char id[37])
{
    app_refusal why = {0};
    store_begin();
    app_err e = book(campaign, resource, start, end, extra, id, NULL, &why);
    ck_assert_msg(e == APP_OK, "booking %s..%s refused: %s", start, end, why.sentence ? why.sentence : "?");
    store_commit();
}

/* book() that must be refused as a booking conflict with rule, in a transaction rolled back after it; the
 * items in the way (a new reference). */
static json_t *refused(const char *campaign, const char *resource, const char *start, const char *end,
                       const char *extra, const char *rule)
{
    char id[37];
    app_refusal why = {0};
    store_begin();
    ck_assert_int_eq(book(campaign, resource, start, end, extra, id, NULL, &why), APP_ERR_BOOKING_CONFLICT);
    ck_assert_int_eq(why.err, APP_ERR_BOOKING_CONFLICT);
    ck_assert_str_eq(why.rule, rule);
    ck_assert_ptr_nonnull(why.items);
    json_t *j_items = json_loads(why.items, 0, NULL);
    ck_assert(json_is_array(j_items));
    app_refusal_clear(&why);
    db_rollback(c);
    return j_items;
}

/* Whether the items in the way are exactly the one with this id. */
static void in_the_way_is(json_t *j_items, const char *type, const char *id)
{
    ck_assert_uint_eq(json_array_size(j_items), 1);
    ck_assert_str_eq(store_str(json_array_get(j_items, 0), "type"), type);
    ck_assert_str_eq(store_str(json_array_get(j_items, 0), "id"), id);
    json_decref(j_items);
}

/* A campaign and a resource (body) of this test's organisation, committed. */
static void campaign_and_resource(const char *resource_body, char campaign[37], char resource[37])
{
    store_begin();
    make_campaign(org, campaign);
    json_decref(make_resource(org, resource_body, resource));
    store_commit();
}

static size_t listed(const char *o, const char *resource_id)
{
    booking_filter f = {.resource_id = resource_id};
    list_result r;
    ck_assert_int_eq(booking_store_list(c, o, &f, 0, 0, NULL, NULL, 50, &r), APP_OK);
    size_t n = r.n;
    list_result_free(&r);
    return n;
}

START_TEST(a_booking_reads_back_as_booked_and_only_in_its_organisation)
{
    char camp[37], res[37], id[37];
    campaign_and_resource(BANNER, camp, res);
    json_t *j = NULL;
    app_refusal why = {0};
    store_begin();
    ck_assert_int_eq(book(camp, res, "2027-03-02T09:00:00+01:00", "2027-03-09T09:00:00+01:00",
                          "\"status\":\"confirmed\",\"notes\":\"spring hero\"", id, &j, &why),
                     APP_OK);
    store_commit();
    /* Returned in UTC, as booked. */
    ck_assert_str_eq(store_str(j, "id"), id);
    ck_assert_str_eq(store_str(j, "start"), "2027-03-02T08:00:00+00:00");
    ck_assert_str_eq(store_str(j, "end"), "2027-03-09T08:00:00+00:00");
    ck_assert_str_eq(store_str(j, "status"), "confirmed");
    ck_assert_str_eq(store_str(j, "notes"), "spring hero");
    ck_assert_int_eq(json_integer_value(json_object_get(j, "quantity")), 1);
    json_decref(j);

    db_doc doc = {0};
    ck_assert_int_eq(booking_store_get(c, org, id, &doc), APP_OK);
    ck_assert_int_eq(doc.version, 1);
    j = store_doc(&doc);
    ck_assert_str_eq(store_str(j, "campaign_id"), camp);
    ck_assert_str_eq(store_str(j, "resource_id"), res);
    json_decref(j);
    ck_assert_uint_eq(listed(org, res), 1);

    /* Another organisation neither reads, lists, locks, changes nor cancels it. */
    ck_assert_int_eq(booking_store_get(c, other_org, id, &doc), APP_ERR_NOT_FOUND);
    ck_assert_uint_eq(listed(other_org, res), 0);
    store_begin_in(other_org, "intruder", "admin");
    ck_assert_int_eq(booking_store_lock(c, other_org, id, &doc), APP_ERR_NOT_FOUND);
    ck_assert_int_eq(booking_store_update(c, other_org, id, "{\"notes\":\"mine\"}", &doc, &why), APP_ERR_NOT_FOUND);
    app_refusal_clear(&why);
    db_rollback(c);
    store_begin_in(other_org, "intruder", "admin");
    ck_assert_int_eq(booking_store_cancel(c, other_org, id, "mine", &doc, &why), APP_ERR_NOT_FOUND);
    app_refusal_clear(&why);
    db_rollback(c);
    ck_assert_int_eq(booking_store_get(c, org, id, &doc), APP_OK);
    j = store_doc(&doc);
    ck_assert_str_eq(store_str(j, "status"), "confirmed");
    ck_assert_str_eq(store_str(j, "notes"), "spring hero");
    json_decref(j);
}
END_TEST

START_TEST(an_exclusive_resource_refuses_an_overlap_and_names_what_is_in_the_way)
{
    char camp[37], res[37], first[37], next[37];
    campaign_and_resource(BANNER, camp, res);
    booked(camp, res, "2027-03-02T09:00:00Z", "2027-03-02T10:00:00Z", "", first); /* tentative holds it too */
    in_the_way_is(refused(camp, res, "2027-03-02T09:30:00Z", "2027-03-02T10:30:00Z", "", "resource_double_booked"),
                  "booking", first);
    in_the_way_is(refused(camp, res, "2027-03-02T08:00:00Z", "2027-03-02T12:00:00Z", "", "resource_double_booked"),
                  "booking", first);
    /* Periods are half-open: the next hour starts where the first ends. */
    booked(camp, res, "2027-03-02T10:00:00Z", "2027-03-02T11:00:00Z", "", next);
    booked(camp, res, "2027-03-02T08:00:00Z", "2027-03-02T09:00:00Z", "", next);
    ck_assert_uint_eq(listed(org, res), 3);
    /* One unit at a time, even in a free period: refused with nothing in the way. */
    json_t *j_none = refused(camp, res, "2027-03-03T09:00:00Z", "2027-03-03T10:00:00Z", "\"quantity\":2",
                             "resource_double_booked");
    ck_assert_uint_eq(json_array_size(j_none), 0);
    json_decref(j_none);
    /* Unavailability is named before the bookings in the way. */
    char sql[512];
    snprintf(sql, sizeof sql,
             "INSERT INTO availability (org_id, resource_id, kind, created_by, period) VALUES ('%s', '%s', 'unavailable', 'tester',"
             " '[2027-03-04 09:00Z, 2027-03-04 10:00Z)')",
             org, res);
    store_begin();
    run_sql(sql);
    store_commit();
    json_t *j_away = refused(camp, res, "2027-03-04T09:30:00Z", "2027-03-04T10:30:00Z", "", "resource_unavailable");
    ck_assert_str_eq(store_str(json_array_get(j_away, 0), "type"), "availability");
    json_decref(j_away);
}
END_TEST

START_TEST(capacity_counts_overlapping_units_and_weekly_hours)
{
    char camp[37], channel[37], writer[37], id[37];
    campaign_and_resource("{\"kind\":\"channel\",\"name\":\"Newsletter\",\"capacity\":2}", camp, channel);
    booked(camp, channel, "2027-03-02T09:00:00Z", "2027-03-02T11:00:00Z", "", id);
    booked(camp, channel, "2027-03-02T10:00:00Z", "2027-03-02T12:00:00Z", "", id);
    json_decref(refused(camp, channel, "2027-03-02T10:30:00Z", "2027-03-02T10:45:00Z", "", "capacity_exceeded"));
    json_decref(refused(camp, channel, "2027-03-02T11:30:00Z", "2027-03-02T13:00:00Z", "\"quantity\":2",
                        "capacity_exceeded"));
    booked(camp, channel, "2027-03-02T12:00:00Z", "2027-03-02T13:00:00Z", "\"quantity\":2", id);

    /* 40 hours a week: what counts is the total of the ISO week a booking starts in. */
    store_begin();
    json_decref(make_resource(org, "{\"kind\":\"person\",\"name\":\"Writer\",\"capacity\":40,"
                                   "\"capacity_unit\":\"hours_per_week\"}",
                              writer));
    store_commit();
    booked(camp, writer, "2027-03-01T09:00:00Z", "2027-03-01T17:00:00Z", "\"quantity\":30", id); /* a Monday */
    json_decref(refused(camp, writer, "2027-03-05T09:00:00Z", "2027-03-05T17:00:00Z", "\"quantity\":11",
                        "capacity_exceeded"));
    booked(camp, writer, "2027-03-05T09:00:00Z", "2027-03-05T17:00:00Z", "\"quantity\":10", id);
    booked(camp, writer, "2027-03-08T09:00:00Z", "2027-03-08T17:00:00Z", "\"quantity\":40", id); /* next week */
}
END_TEST

START_TEST(cancelling_frees_the_period_and_is_final)
{
    char camp[37], res[37], first[37], second[37];
    db_doc doc = {0};
    campaign_and_resource(BANNER, camp, res);
    booked(camp, res, "2027-03-02T09:00:00Z", "2027-03-02T10:00:00Z", "", first);
    app_refusal why = {0};
    store_begin();
    ck_assert_int_eq(booking_store_cancel(c, org, first, "moved to April", &doc, &why), APP_OK);
    store_commit();
    json_t *j = store_doc(&doc);
    ck_assert_str_eq(store_str(j, "status"), "cancelled");
    ck_assert_str_eq(store_str(j, "status_reason"), "moved to April");
    json_decref(j);
    booked(camp, res, "2027-03-02T09:00:00Z", "2027-03-02T10:00:00Z", "", second);
    /* A cancelled booking does not come back to hold the period again. */
    store_begin();
    ck_assert_int_ne(booking_store_update(c, org, first, "{\"status\":\"tentative\"}", &doc, &why), APP_OK);
    app_refusal_clear(&why);
    db_rollback(c);
    ck_assert_int_eq(booking_store_get(c, org, first, &doc), APP_OK);
    j = store_doc(&doc);
    ck_assert_str_eq(store_str(j, "status"), "cancelled");
    json_decref(j);
}
END_TEST

START_TEST(moving_a_booking_is_held_to_the_same_rules)
{
    char camp[37], res[37], first[37], second[37];
    db_doc doc = {0};
    campaign_and_resource(BANNER, camp, res);
    booked(camp, res, "2027-03-02T09:00:00Z", "2027-03-02T10:00:00Z", "", first);
    booked(camp, res, "2027-03-02T11:00:00Z", "2027-03-02T12:00:00Z", "", second);
    app_refusal why = {0};
    store_begin();
    ck_assert_int_eq(booking_store_update(c, org, second,
                                          "{\"start\":\"2027-03-02T09:30:00Z\",\"end\":\"2027-03-02T10:30:00Z\"}",
                                          &doc, &why),
                     APP_ERR_BOOKING_CONFLICT);
    ck_assert_str_eq(why.rule, "resource_double_booked");
    app_refusal_clear(&why);
    db_rollback(c);
    store_begin();
    ck_assert_int_eq(booking_store_update(c, org, second,
                                          "{\"start\":\"2027-03-02T10:00:00Z\",\"end\":\"2027-03-02T11:00:00Z\"}",
                                          &doc, &why),
                     APP_OK);
    store_commit();
    json_t *j = store_doc(&doc);
    ck_assert_str_eq(store_str(j, "start"), "2027-03-02T10:00:00+00:00");
    ck_assert_int_eq(json_integer_value(json_object_get(j, "version")), 2);
    json_decref(j);
}
END_TEST

START_TEST(availability_refuses_bookings_and_is_refused_over_them)
{
    char camp[37], writer[37], leave[37], blackout[37], id[37], *avail = NULL;
    campaign_and_resource("{\"kind\":\"person\",\"name\":\"Copywriter\",\"capacity\":40,"
                          "\"capacity_unit\":\"hours_per_week\"}",
                          camp, writer);
    app_refusal why = {0};
    store_begin();
    ck_assert_int_eq(availability_store_insert(c, org, writer, "tester",
                                               "{\"kind\":\"leave\",\"start\":\"2027-03-15T00:00:00Z\","
                                               "\"end\":\"2027-03-20T00:00:00Z\"}",
                                               &avail, leave, &why),
                     APP_OK);
    store_commit();
    free(avail);
    in_the_way_is(refused(camp, writer, "2027-03-16T09:00:00Z", "2027-03-16T12:00:00Z", "\"quantity\":3",
                          "resource_unavailable"),
                  "availability", leave);
    booked(camp, writer, "2027-03-22T09:00:00Z", "2027-03-22T12:00:00Z", "\"quantity\":3", id);

    /* Unavailability over an existing booking is refused, naming the booking. */
    store_begin();
    ck_assert_int_eq(availability_store_insert(c, org, writer, "tester",
                                               "{\"kind\":\"blackout\",\"start\":\"2027-03-22T00:00:00Z\","
                                               "\"end\":\"2027-03-23T00:00:00Z\"}",
                                               &avail, blackout, &why),
                     APP_ERR_BOOKING_CONFLICT);
    ck_assert_str_eq(why.rule, "resource_booked");
    json_t *j_items = json_loads(why.items, 0, NULL);
    in_the_way_is(j_items, "booking", id);
    app_refusal_clear(&why);
    db_rollback(c);

    /* Another organisation cannot lift the leave; deleting it frees the period. */
    store_begin_in(other_org, "intruder", "admin");
    ck_assert_int_eq(availability_store_delete(c, other_org, writer, leave, &why), APP_ERR_NOT_FOUND);
    app_refusal_clear(&why);
    db_rollback(c);
    json_decref(refused(camp, writer, "2027-03-16T09:00:00Z", "2027-03-16T12:00:00Z", "\"quantity\":3",
                        "resource_unavailable"));
    store_begin();
    ck_assert_int_eq(availability_store_delete(c, org, writer, leave, &why), APP_OK);
    store_commit();
    booked(camp, writer, "2027-03-16T09:00:00Z", "2027-03-16T12:00:00Z", "\"quantity\":3", id);
}
END_TEST

START_TEST(a_booking_cannot_use_another_organisations_rows)
{
    char camp[37], res[37], their_camp[37], their_res[37], id[37];
    campaign_and_resource(BANNER, camp, res);
    store_begin_in(other_org, "them", "admin");
    make_campaign(other_org, their_camp);
    json_decref(make_resource(other_org, BANNER, their_res));
    store_commit();
    app_refusal why = {0};
    store_begin();
    ck_assert_int_eq(book(camp, their_res, "2027-03-02T09:00:00Z", "2027-03-02T10:00:00Z", "", id, NULL, &why),
                     APP_ERR_VALIDATION);
    ck_assert_str_eq(why.field, "resource_id");
    app_refusal_clear(&why);
    db_rollback(c);
    store_begin();
    ck_assert_int_eq(book(their_camp, res, "2027-03-02T09:00:00Z", "2027-03-02T10:00:00Z", "", id, NULL, &why),
                     APP_ERR_VALIDATION);
    ck_assert_str_eq(why.field, "campaign_id");
    app_refusal_clear(&why);
    db_rollback(c);
    ck_assert_uint_eq(listed(org, NULL), 0);
    ck_assert_uint_eq(listed(other_org, NULL), 0);
}
END_TEST

START_TEST(resources_round_trip_and_are_named_once_per_organisation)
{
    char id[37], dup[37], theirs[37];
    db_doc doc = {0};
    app_refusal why = {0};
    store_begin();
    json_t *j = make_resource(org, "{\"kind\":\"person\",\"name\":\"Writer\",\"capacity\":40,"
                                   "\"capacity_unit\":\"hours_per_week\",\"skills\":[\"copy\"],"
                                   "\"cost_per_unit\":{\"amount\":\"55.5\",\"currency\":\"EUR\"}}",
                              id);
    store_commit();
    ck_assert_str_eq(store_str(j, "kind"), "person");
    ck_assert_int_eq(json_integer_value(json_object_get(j, "capacity")), 40);
    ck_assert_str_eq(store_str(json_object_get(j, "cost_per_unit"), "amount"), "55.50");
    ck_assert(json_is_true(json_object_get(j, "active")));
    ck_assert_int_eq(json_integer_value(json_object_get(j, "version")), 1);
    json_decref(j);

    store_begin();
    ck_assert_int_eq(resource_store_insert(c, org, "{\"kind\":\"slot\",\"name\":\"Writer\"}", &doc, dup, &why),
                     APP_ERR_ALREADY_EXISTS);
    app_refusal_clear(&why);
    db_rollback(c);
    store_begin_in(other_org, "them", "admin");
    json_decref(make_resource(other_org, "{\"kind\":\"slot\",\"name\":\"Writer\"}", theirs)); /* their own name */
    store_commit();

    store_begin();
    ck_assert_int_eq(resource_store_update(c, org, id, "{\"notes\":\"mornings only\",\"capacity\":32}", &doc, &why),
                     APP_OK);
    store_commit();
    j = store_doc(&doc);
    ck_assert_str_eq(store_str(j, "notes"), "mornings only");
    ck_assert_int_eq(json_integer_value(json_object_get(j, "capacity")), 32);
    ck_assert_int_eq(json_integer_value(json_object_get(j, "version")), 2);
    json_decref(j);

    /* A person's hours cannot become a channel's sends: the kind holds its unit. */
    store_begin();
    ck_assert_int_eq(resource_store_update(c, org, id, "{\"capacity_unit\":\"sends_per_day\"}", &doc, &why),
                     APP_ERR_VALIDATION);
    app_refusal_clear(&why);
    db_rollback(c);

    ck_assert_int_eq(resource_store_get(c, other_org, id, &doc), APP_ERR_NOT_FOUND);
    store_begin_in(other_org, "them", "admin");
    ck_assert_int_eq(resource_store_update(c, other_org, id, "{\"notes\":\"ours\"}", &doc, &why), APP_ERR_NOT_FOUND);
    app_refusal_clear(&why);
    db_rollback(c);
    resource_filter f = {0};
    list_result r;
    ck_assert_int_eq(resource_store_list(c, org, &f, 0, 0, NULL, NULL, 50, &r), APP_OK);
    ck_assert_uint_eq(r.n, 1);
    list_result_free(&r);
}
END_TEST

START_TEST(a_resource_with_bookings_is_deactivated_not_deleted)
{
    char camp[37], res[37], unused[37], id[37];
    db_doc doc = {0};
    campaign_and_resource(BANNER, camp, res);
    booked(camp, res, "2027-03-02T09:00:00Z", "2027-03-02T10:00:00Z", "", id);
    app_refusal why = {0};
    store_begin();
    json_decref(make_resource(org, "{\"kind\":\"slot\",\"name\":\"Side banner\"}", unused));
    ck_assert_int_eq(resource_store_remove(c, org, unused, &doc, &why), APP_OK);
    ck_assert_ptr_null(doc.json); /* deleted */
    ck_assert_int_eq(resource_store_remove(c, org, res, &doc, &why), APP_OK);
    store_commit();
    json_t *j = store_doc(&doc);
    ck_assert(json_is_false(json_object_get(j, "active")));
    json_decref(j);
    ck_assert_int_eq(resource_store_get(c, org, unused, &doc), APP_ERR_NOT_FOUND);
    ck_assert_int_eq(resource_store_get(c, org, res, &doc), APP_OK);
    db_doc_free(&doc);
    ck_assert_int_eq(booking_store_get(c, org, id, &doc), APP_OK); /* its history stays */
    db_doc_free(&doc);
    /* An inactive resource takes no new booking. */
    store_begin();
    ck_assert_int_eq(book(camp, res, "2027-03-09T09:00:00Z", "2027-03-09T10:00:00Z", "", id, NULL, &why),
                     APP_ERR_RESOURCE_INACTIVE);
    app_refusal_clear(&why);
    db_rollback(c);
    /* Nor does another organisation remove it. */
    store_begin_in(other_org, "them", "admin");
    ck_assert_int_eq(resource_store_remove(c, other_org, res, &doc, &why), APP_ERR_NOT_FOUND);
    app_refusal_clear(&why);
    db_rollback(c);
}
END_TEST

/* The sequential scans of table counted by this backend and not yet reported (the open transaction's, and
 * maybe some before it: compare two counts taken in one transaction). */
static long seq_scans(const char *table)
{
    char sql[128];
    snprintf(sql, sizeof sql, "SELECT pg_stat_get_xact_numscans('%s'::regclass)", table);
    PGresult *res = PQexec(db_conn_pg(c), sql);
    ck_assert_int_eq(PQresultStatus(res), PGRES_TUPLES_OK);
    long n = atol(PQgetvalue(res, 0, 0));
    PQclear(res);
    return n;
}

/* A bulk load in one statement (an import, a benchmark's seed) right after an ANALYZE of tables that were
 * nearly empty: the guards find what overlaps through their indexes, never by reading every booking loaded so
 * far for each new one (which made a 100,000-booking load quadratic). */
START_TEST(a_bulk_load_after_statistics_of_a_small_table_stays_on_the_index)
{
    char camp[37], res[37], sql[1024];
    store_begin();
    make_campaign(org, camp);
    json_decref(make_resource(org, BANNER, res));
    store_commit();
    PGresult *r = PQexec(db_conn_pg(c), "ANALYZE bookings, availability");
    ck_assert_int_eq(PQresultStatus(r), PGRES_COMMAND_OK);
    PQclear(r);
    store_begin();
    long bookings = seq_scans("bookings"), availability = seq_scans("availability");
    snprintf(sql, sizeof sql,
             "INSERT INTO bookings (org_id, campaign_id, resource_id, period, created_by)"
             " SELECT '%s', '%s', '%s', tstzrange(timestamptz '2027-03-01' + g * interval '1 hour',"
             " timestamptz '2027-03-01' + (g + 1) * interval '1 hour'), 'tester' FROM generate_series(0, 299) g;"
             "INSERT INTO availability (org_id, resource_id, kind, period, created_by)"
             " VALUES ('%s', '%s', 'leave', '[2027-04-01 00:00Z, 2027-04-02 00:00Z)', 'tester')",
             org, camp, res, org, res);
    r = PQexec(db_conn_pg(c), sql);
    ck_assert_msg(PQresultStatus(r) == PGRES_COMMAND_OK, "%s", PQerrorMessage(db_conn_pg(c)));
    PQclear(r);
    ck_assert_int_eq(seq_scans("bookings") - bookings, 0);
    ck_assert_int_eq(seq_scans("availability") - availability, 0);
    /* and the guard still refuses an overlap with what the load put there */
    char id[37];
    app_refusal why = {0};
    ck_assert_int_eq(book(camp, res, "2027-03-01T10:30:00Z", "2027-03-01T11:30:00Z", "", id, NULL, &why),
                     APP_ERR_BOOKING_CONFLICT);
    app_refusal_clear(&why);
    db_rollback(c);
}
END_TEST

/* Sends what the store deferred (BEGIN and the request context among them), so SQL sent by hand below runs in
 * the open transaction. */
static void flush_deferred(void)
{
    static const db_stmt q_flush = {"test_flush", "SELECT 1", 0};
    ck_assert_int_eq(db_exec(c, &q_flush, NULL, NULL), APP_OK);
}

/* The text of the one value sql (a test's own SQL) returns on this test's connection, malloc'd. */
static char *value_of(const char *sql)
{
    flush_deferred();
    PGresult *res = PQexec(db_conn_pg(c), sql);
    ck_assert_msg(PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1, "%s: %s", sql,
                  PQerrorMessage(db_conn_pg(c)));
    char *v = strdup(PQgetvalue(res, 0, 0));
    PQclear(res);
    return v;
}

static void run_sql(const char *sql)
{
    flush_deferred();
    PGresult *res = PQexec(db_conn_pg(c), sql);
    ck_assert_msg(PQresultStatus(res) == PGRES_COMMAND_OK || PQresultStatus(res) == PGRES_TUPLES_OK, "%s: %s", sql,
                  PQerrorMessage(db_conn_pg(c)));
    PQclear(res);
}

/* Checks campaign's committed cost in EUR, as kept (campaign_commitments) and as summed from its live bookings
 * off budget pools: both must be expected. */
static void committed_is(const char *campaign, const char *expected)
{
    char sql[1024], want[64];
    snprintf(sql, sizeof sql,
             "SELECT coalesce((SELECT amount FROM campaign_commitments WHERE campaign_id = '%s' AND currency = 'EUR'),"
             " 0)::numeric(16, 2) || '|' || coalesce((SELECT sum(b.cost_amount) FROM bookings b JOIN resources r"
             " ON r.id = b.resource_id WHERE b.campaign_id = '%s' AND b.status <> 'cancelled'"
             " AND b.cost_currency = 'EUR' AND r.kind <> 'budget_pool'), 0)::numeric(16, 2)",
             campaign, campaign);
    snprintf(want, sizeof want, "%s|%s", expected, expected);
    char *got = value_of(sql);
    ck_assert_msg(strcmp(got, want) == 0, "kept|summed: %s, expected %s", got, want);
    free(got);
}

/* What the conflict rules weigh against a campaign's budget is kept per campaign by the bookings' triggers
 * (read by its key on every write, never summed from the bookings): it follows every kind of booking write,
 * a resource turning into a budget pool and back, a bulk load, a campaign's cancellation and its deletion. */
START_TEST(a_campaigns_committed_cost_follows_its_bookings)
{
    char a[37], b[37], ad[37], writer[37], pool[37], id_ad[37], id_writer[37], id_pool[37], sql[1024];
    db_doc doc = {0};
    app_refusal why = {0};
    store_begin();
    make_campaign(org, a);
    make_campaign(org, b);
    json_decref(make_resource(org, "{\"kind\":\"slot\",\"name\":\"Ad\",\"cost_per_unit\":{\"amount\":\"10.00\","
                                   "\"currency\":\"EUR\"}}", ad));
    json_decref(make_resource(org, "{\"kind\":\"person\",\"name\":\"Writer\",\"capacity\":40,\"capacity_unit\":"
                                   "\"hours_per_week\",\"cost_per_unit\":{\"amount\":\"5.00\",\"currency\":\"EUR\"}}",
                              writer));
    json_decref(make_resource(org, "{\"kind\":\"budget_pool\",\"name\":\"Pool\",\"cost_per_unit\":{\"amount\":"
                                   "\"100.00\",\"currency\":\"EUR\"}}", pool));
    store_commit();
    committed_is(a, "0.00");
    booked(a, ad, "2027-03-01T09:00:00Z", "2027-03-01T10:00:00Z", "", id_ad);
    booked(a, writer, "2027-03-02T09:00:00Z", "2027-03-02T13:00:00Z", "\"quantity\":4", id_writer);
    booked(a, pool, "2027-03-01T00:00:00Z", "2027-03-31T00:00:00Z", "", id_pool);
    committed_is(a, "30.00"); /* 10 + 4 x 5; the pool's 100 aside */
    store_begin();
    ck_assert_int_eq(booking_store_update(c, org, id_writer, "{\"quantity\":6}", &doc, &why), APP_OK);
    db_doc_free(&doc);
    ck_assert_int_eq(booking_store_update(c, org, id_ad, "{\"notes\":\"no cost change\"}", &doc, &why), APP_OK);
    db_doc_free(&doc);
    store_commit();
    committed_is(a, "40.00");
    store_begin();
    ck_assert_int_eq(booking_store_cancel(c, org, id_ad, "moved", &doc, &why), APP_OK);
    db_doc_free(&doc);
    store_commit();
    committed_is(a, "30.00");
    /* the pool's booking counts while its resource is not a pool */
    store_begin();
    ck_assert_int_eq(resource_store_update(c, org, pool, "{\"kind\":\"slot\"}", &doc, &why), APP_OK);
    db_doc_free(&doc);
    store_commit();
    committed_is(a, "130.00");
    store_begin();
    ck_assert_int_eq(resource_store_update(c, org, pool, "{\"kind\":\"budget_pool\"}", &doc, &why), APP_OK);
    db_doc_free(&doc);
    store_commit();
    committed_is(a, "30.00");
    /* a bulk load is one statement for both campaigns */
    store_begin();
    snprintf(sql, sizeof sql,
             "INSERT INTO bookings (org_id, campaign_id, resource_id, period, created_by)"
             " SELECT '%s', CASE WHEN g %% 2 = 0 THEN '%s' ELSE '%s' END::uuid, '%s',"
             " tstzrange(timestamptz '2027-05-01' + g * interval '1 hour', timestamptz '2027-05-01' + (g + 1) * interval"
             " '1 hour'), 'tester' FROM generate_series(0, 9) g",
             org, a, b, ad);
    run_sql(sql);
    store_commit();
    committed_is(a, "80.00");
    committed_is(b, "50.00");
    /* cancelling a campaign releases its bookings; deleting a draft deletes them, and its row goes with it */
    store_begin();
    ck_assert_int_eq(campaign_store_set_status(c, org, a, "cancelled", "dropped", &doc, &why), APP_OK);
    db_doc_free(&doc);
    store_commit();
    committed_is(a, "0.00");
    store_begin();
    ck_assert_int_eq(campaign_store_delete(c, org, b, &why), APP_OK);
    store_commit();
    snprintf(sql, sizeof sql, "SELECT count(*) FROM campaign_commitments WHERE campaign_id = '%s'", b);
    char *rows = value_of(sql);
    ck_assert_str_eq(rows, "0");
    free(rows);
    app_refusal_clear(&why);
}
END_TEST

/* "n|m": how many audit entries and outbox events of action/type each the booking id has. */
static void trail_is(const char *id, const char *action, const char *type, const char *expected)
{
    char sql[512];
    snprintf(sql, sizeof sql,
             "SELECT (SELECT count(*) FROM audit_log WHERE entity = 'booking' AND entity_id = '%s' AND action = '%s')"
             " || '|' || (SELECT count(*) FROM outbox_events WHERE entity = 'booking' AND entity_id = '%s'"
             " AND type = '%s')",
             id, action, id, type);
    char *got = value_of(sql);
    ck_assert_msg(strcmp(got, expected) == 0, "booking %s: %s|%s %s, expected %s", id, action, type, got, expected);
    free(got);
}

/* A new booking's audit entry, booking.created event and commitment are written by one statement-level trigger
 * (0055_booking_write_statements.sql): each new row still gets exactly one entry and one event, with the
 * request's context and the row as stored, in the order of the rows, in the writer's transaction (a refused or
 * rolled back write leaves none); a cancellation still writes its own; a conflict note goes with the one write it
 * was left for. */
START_TEST(a_booking_write_leaves_one_audit_entry_one_event_and_its_commitment)
{
    char camp[37], ad[37], id[37], other[37], sql[1024];
    db_doc doc = {0};
    app_refusal why = {0};
    store_begin();
    make_campaign(org, camp);
    json_decref(make_resource(org, "{\"kind\":\"slot\",\"name\":\"Ad\",\"cost_per_unit\":{\"amount\":\"10.00\","
                                   "\"currency\":\"EUR\"}}", ad));
    store_commit();
    booked(camp, ad, "2027-03-01T09:00:00Z", "2027-03-01T10:00:00Z", "", id);
    trail_is(id, "create", "booking.created", "1|1");
    committed_is(camp, "10.00");
    snprintf(sql, sizeof sql,
             "SELECT a.actor || ' ' || a.actor_role || ' ' || a.request_id || ' ' || (a.before IS NULL)"
             " || ' ' || (a.after = to_jsonb(b)) || ' ' || (e.payload = booking_ref(b)) || ' ' || e.actor"
             " || ' ' || e.request_id FROM bookings b, audit_log a, outbox_events e"
             " WHERE b.id = '%s' AND a.entity_id = b.id AND e.entity_id = b.id",
             id);
    char *row = value_of(sql);
    ck_assert_str_eq(row, "tester admin req-store-test true true true tester req-store-test");
    free(row);

    /* refused, then rolled back: nothing of it stays */
    store_begin();
    ck_assert_int_eq(book(camp, ad, "2027-03-01T09:30:00Z", "2027-03-01T10:30:00Z", "", other, NULL, &why),
                     APP_ERR_BOOKING_CONFLICT);
    app_refusal_clear(&why);
    db_rollback(c);
    store_begin();
    ck_assert_int_eq(book(camp, ad, "2027-03-02T09:00:00Z", "2027-03-02T10:00:00Z", "", other, NULL, &why), APP_OK);
    db_rollback(c);
    trail_is(other, "create", "booking.created", "0|0");
    committed_is(camp, "10.00");

    /* three rows in one statement: three entries and three events, in the order of the rows */
    store_begin();
    snprintf(sql, sizeof sql,
             "INSERT INTO bookings (org_id, campaign_id, resource_id, period, created_by)"
             " SELECT '%s', '%s', '%s', tstzrange(timestamptz '2027-04-01' + g * interval '1 day',"
             " timestamptz '2027-04-01' + g * interval '1 day' + interval '1 hour'), 'tester'"
             " FROM generate_series(0, 2) g",
             org, camp, ad);
    run_sql(sql);
    store_commit();
    snprintf(sql, sizeof sql,
             "SELECT (SELECT string_agg(lower(b.period)::date::text, ',' ORDER BY a.id) FROM audit_log a"
             " JOIN bookings b ON b.id = a.entity_id WHERE a.action = 'create' AND b.campaign_id = '%s')"
             " || ' ' || (SELECT string_agg(lower(b.period)::date::text, ',' ORDER BY e.id) FROM outbox_events e"
             " JOIN bookings b ON b.id = e.entity_id WHERE e.type = 'booking.created' AND b.campaign_id = '%s')",
             camp, camp);
    char *order = value_of(sql);
    ck_assert_str_eq(order, "2027-03-01,2027-04-01,2027-04-02,2027-04-03 2027-03-01,2027-04-01,2027-04-02,2027-04-03");
    free(order);
    committed_is(camp, "40.00");

    /* a cancellation: its own entry and event, once */
    store_begin();
    ck_assert_int_eq(booking_store_cancel(c, org, id, "moved", &doc, &why), APP_OK);
    db_doc_free(&doc);
    store_commit();
    trail_is(id, "status_change", "booking.cancelled", "1|1");
    trail_is(id, "create", "booking.created", "1|1");
    committed_is(camp, "30.00");

    /* a conflict note is written for the write it was left for, and only for it */
    store_begin();
    run_sql("SELECT conflict_note('[{\"rule\":\"test\"}]', '')");
    ck_assert_int_eq(book(camp, ad, "2027-05-01T09:00:00Z", "2027-05-01T10:00:00Z", "", id, NULL, &why), APP_OK);
    ck_assert_int_eq(book(camp, ad, "2027-05-02T09:00:00Z", "2027-05-02T10:00:00Z", "", other, NULL, &why), APP_OK);
    store_commit();
    trail_is(id, "create", "conflict.detected", "1|1");
    trail_is(other, "create", "conflict.detected", "1|0");

    /* the guard writes the trail on each of its paths (0059_booking_trail_in_guard.sql): a booking of a shared
     * resource (its own statement), one of an exclusive resource (with the look-up of what is in the way), and
     * one stored cancelled (no check at all), which commits nothing */
    char shared[37], cancelled[37];
    store_begin();
    json_decref(make_resource(org, "{\"kind\":\"channel\",\"name\":\"Shared\",\"capacity\":2,\"cost_per_unit\":"
                                   "{\"amount\":\"1.00\",\"currency\":\"EUR\"}}", shared));
    store_commit();
    booked(camp, shared, "2027-06-01T09:00:00Z", "2027-06-01T10:00:00Z", "", other);
    trail_is(other, "create", "booking.created", "1|1");
    booked(camp, ad, "2027-06-02T09:00:00Z", "2027-06-02T10:00:00Z", "", id);
    trail_is(id, "create", "booking.created", "1|1");
    committed_is(camp, "61.00");
    store_begin();
    snprintf(sql, sizeof sql,
             "INSERT INTO bookings (org_id, campaign_id, resource_id, period, status, created_by) VALUES ('%s', '%s',"
             " '%s', '[2027-06-03 09:00Z, 2027-06-03 10:00Z)', 'cancelled', 'tester') RETURNING id",
             org, camp, ad);
    char *cid = value_of(sql);
    snprintf(cancelled, sizeof cancelled, "%s", cid);
    free(cid);
    store_commit();
    trail_is(cancelled, "create", "booking.created", "1|1");
    snprintf(sql, sizeof sql,
             "SELECT (a.after = to_jsonb(b)) || ' ' || (e.payload = booking_ref(b)) FROM bookings b, audit_log a,"
             " outbox_events e WHERE b.id = '%s' AND a.entity_id = b.id AND e.entity_id = b.id",
             cancelled);
    row = value_of(sql);
    ck_assert_str_eq(row, "true true");
    free(row);
    committed_is(camp, "61.00");
    app_refusal_clear(&why);
}
END_TEST

/* The conflict slice finds its window through org_window() (inlined into each statement); it must read the
 * time zone and the padding as org_settings_of() does, with the defaults and with settings of its own. */
START_TEST(the_conflict_window_reads_the_settings_as_org_settings_of_does)
{
    char sql[768];
    snprintf(sql, sizeof sql,
             "SELECT (w.time_zone, w.pad_days) IS NOT DISTINCT FROM (s.time_zone, greatest(s.overlap_window_days,"
             " s.frequency_cap_days)) FROM org_window('%s') w, org_settings_of('%s') s",
             org, org);
    store_begin();
    char *same = value_of(sql);
    ck_assert_str_eq(same, "t");
    free(same);
    char *pad = value_of("SELECT pad_days || ' ' || time_zone FROM org_window('no-such-organisation')");
    ck_assert_str_eq(pad, "7 UTC");
    free(pad);
    char set[512];
    snprintf(set, sizeof set,
             "INSERT INTO org_settings SELECT (org_settings_of('%s')).*;"
             "UPDATE org_settings SET time_zone = 'Pacific/Auckland', overlap_window_days = 9,"
             " frequency_cap_days = 30 WHERE org_id = '%s'",
             org, org);
    run_sql(set);
    same = value_of(sql);
    ck_assert_str_eq(same, "t");
    free(same);
    snprintf(set, sizeof set, "SELECT pad_days || ' ' || time_zone FROM org_window('%s')", org);
    pad = value_of(set);
    ck_assert_str_eq(pad, "30 Pacific/Auckland");
    free(pad);
    db_rollback(c);
}
END_TEST

/* Queues a booking's insert of resource over [start, end) for campaign on c, carrying its request context with
 * request_id (as a write in its HTTP thread's batch does), and takes it off c into a queue of its own. */
static db_queue *insert_queued(const char *campaign, const char *resource, const char *start, const char *end,
                               const char *request_id, db_kept *row)
{
    char body[512];
    snprintf(body, sizeof body, "{\"campaign_id\":\"%s\",\"resource_id\":\"%s\",\"start\":\"%s\",\"end\":\"%s\"}",
             campaign, resource, start, end);
    tx_context carry = {"tester", "admin", request_id};
    ck_assert_int_eq(booking_store_insert_defer(c, org, "tester", body, &carry, row), APP_OK);
    db_queue *q = db_queue_take(c, 0);
    ck_assert_ptr_nonnull(q);
    return q;
}

/* The references of campaign, resource (a UUID or not) queued on c and taken off it as reads. */
static db_queue *refs_queued(const char *campaign, const char *resource, db_kept *kept)
{
    ck_assert_int_eq(booking_store_refs_defer(c, org, campaign, resource, NULL, kept), APP_OK);
    db_queue *q = db_queue_take(c, 1);
    ck_assert_ptr_nonnull(q);
    return q;
}

/* Many requests' statements in one round trip (db_run_queues, as an HTTP thread's batch sends them): each write is
 * its own transaction, so a refused one takes nothing from the others, which are written with their own request
 * context; reads share one, and those a failure aborted are sent again until each has its own answer. */
START_TEST(queued_writes_share_a_round_trip_and_each_is_its_own_transaction)
{
    char camp[37], res[37], id[37];
    campaign_and_resource(BANNER, camp, res);
    db_kept rows[3] = {{NULL}}, refs[3] = {{NULL}};
    db_queue *qs[3];
    qs[0] = insert_queued(camp, res, "2027-05-03T09:00:00Z", "2027-05-03T10:00:00Z", "rq-batch-a", &rows[0]);
    qs[1] = insert_queued(camp, res, "2027-05-03T09:30:00Z", "2027-05-03T10:30:00Z", "rq-batch-x", &rows[1]);
    qs[2] = insert_queued(camp, res, "2027-05-03T10:00:00Z", "2027-05-03T11:00:00Z", "rq-batch-b", &rows[2]);
    unsigned long long trips = db_round_trips();
    db_run_queues(c, qs, 3);
    ck_assert_uint_eq(db_round_trips() - trips, 1);
    app_refusal why = {0};
    db_doc doc = {0};
    ck_assert_int_eq(db_queue_result(qs[0], NULL), APP_OK);
    ck_assert_int_eq(db_queue_result(qs[1], &why), APP_ERR_BOOKING_CONFLICT);
    ck_assert_str_eq(why.rule, "resource_double_booked");
    ck_assert_ptr_nonnull(why.items);
    app_refusal_clear(&why);
    ck_assert_ptr_null(rows[1].res);
    ck_assert_int_eq(db_queue_result(qs[2], NULL), APP_OK);
    for (int i = 0; i < 3; i++) db_queue_free(qs[i]);
    for (int i = 0; i < 3; i += 2) {
        ck_assert_int_eq(db_doc_take(rows[i].res, &doc, id), APP_OK);
        db_doc_free(&doc);
        db_kept_clear(&rows[i]);
        ck_assert_int_eq(booking_store_get(c, org, id, &doc), APP_OK); /* committed at its own sync */
        db_doc_free(&doc);
    }
    ck_assert_uint_eq(listed(org, res), 2);
    /* each written booking's audit entry names its own request; the refused one left none */
    char sql[512];
    snprintf(sql, sizeof sql,
             "SELECT string_agg(request_id || ' ' || actor || ' ' || actor_role, ',' ORDER BY request_id)"
             " FROM audit_log WHERE org_id = '%s' AND entity = 'booking'", org);
    char *v = value_of(sql);
    ck_assert_str_eq(v, "rq-batch-a tester admin,rq-batch-b tester admin");
    free(v);

    /* reads in one sync: the second's failure (not a UUID) aborts the third, which is sent again */
    qs[0] = refs_queued(camp, res, &refs[0]);
    qs[1] = refs_queued(camp, "not-a-uuid", &refs[1]);
    qs[2] = refs_queued(camp, res, &refs[2]);
    trips = db_round_trips();
    db_run_queues(c, qs, 3);
    ck_assert_uint_eq(db_round_trips() - trips, 2);
    ck_assert_int_eq(db_queue_result(qs[0], NULL), APP_OK);
    ck_assert_int_ne(db_queue_result(qs[1], NULL), APP_OK);
    ck_assert_int_eq(db_queue_result(qs[2], NULL), APP_OK);
    for (int i = 0; i < 3; i++) db_queue_free(qs[i]);
    booking_refs r;
    for (int i = 0; i < 3; i += 2) {
        ck_assert_int_eq(booking_store_refs_take(&refs[i], &r), APP_OK);
        ck_assert_str_eq(r.resource_kind, "slot");
        ck_assert_str_eq(r.campaign_status, "draft");
        db_kept_clear(&refs[i]);
    }
    ck_assert_ptr_null(refs[1].res);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("booking_store");
    TCase *tc = store_tcase("bookings");
    tcase_add_test(tc, a_booking_reads_back_as_booked_and_only_in_its_organisation);
    tcase_add_test(tc, an_exclusive_resource_refuses_an_overlap_and_names_what_is_in_the_way);
    tcase_add_test(tc, capacity_counts_overlapping_units_and_weekly_hours);
    tcase_add_test(tc, cancelling_frees_the_period_and_is_final);
    tcase_add_test(tc, moving_a_booking_is_held_to_the_same_rules);
    tcase_add_test(tc, availability_refuses_bookings_and_is_refused_over_them);
    tcase_add_test(tc, a_booking_cannot_use_another_organisations_rows);
    tcase_add_test(tc, a_bulk_load_after_statistics_of_a_small_table_stays_on_the_index);
    tcase_add_test(tc, queued_writes_share_a_round_trip_and_each_is_its_own_transaction);
    tcase_add_test(tc, a_campaigns_committed_cost_follows_its_bookings);
    tcase_add_test(tc, a_booking_write_leaves_one_audit_entry_one_event_and_its_commitment);
    tcase_add_test(tc, the_conflict_window_reads_the_settings_as_org_settings_of_does);
    suite_add_tcase(s, tc);
    TCase *tr = store_tcase("resources");
    tcase_add_test(tr, resources_round_trip_and_are_named_once_per_organisation);
    tcase_add_test(tr, a_resource_with_bookings_is_deactivated_not_deleted);
    suite_add_tcase(s, tr);
    return store_main(s, "bookings");
}
