/* test_store.c — migrations, the schema's invariants for campaigns, keyset pages, idempotency records and
 * the connection pool, against the real throwaway PostgreSQL of the test run. Each test has its own
 * organisation and connection (store.h). */
#define _GNU_SOURCE
#include <pthread.h>

#include "store.h"

#include "db_url.h"

#include "campaign_store.h"
#include "risk.h"

static const db_stmt q_audit_count = {
    "t_audit_count", "SELECT count(*) FROM audit_log WHERE org_id = $1 AND entity = 'campaign' AND actor = $2", 2};

static char *new_campaign(const char *name, char id[37])
{
    char body[256];
    db_doc doc = {0};
    snprintf(body, sizeof body,
             "{\"name\":\"%s\",\"objective\":\"launch\",\"start_date\":\"2026-03-01\",\"end_date\":\"2026-03-31\","
             "\"budget\":{\"amount\":\"1250.5\",\"currency\":\"EUR\"},\"channels\":[\"email\"]}",
             name);
    ck_assert_int_eq(campaign_store_insert(c, org, "tester", body, &doc, id, NULL), APP_OK);
    ck_assert_int_eq(doc.version, 1);
    return doc.json;
}

static void *migrate_thread(void *url)
{
    db_pool *p = db_pool_create(url, 1, 5000);
    db_conn *c = NULL;
    int applied = -1;
    app_err e = db_acquire(p, &c);
    if (!e) e = migrate_run(c, &applied);
    db_release(p, c);
    db_pool_free(p);
    return (void *)(long)e;
}

START_TEST(two_replicas_migrate_a_fresh_database_together)
{
    char dbname[48], *url = NULL;
    snprintf(dbname, sizeof dbname, "campaignd_mig_%d", (int)getpid());
    char sql[96];
    snprintf(sql, sizeof sql, "CREATE DATABASE %s", dbname);
    ck_assert_int_eq(db_exec_script(c, sql), APP_OK);
    ck_assert_ptr_nonnull(url = db_url_with_database(base_url, dbname));
    pthread_t a, b;
    void *ra, *rb;
    pthread_create(&a, NULL, migrate_thread, url);
    pthread_create(&b, NULL, migrate_thread, url);
    pthread_join(a, &ra);
    pthread_join(b, &rb);
    ck_assert_int_eq((long)ra, APP_OK);
    ck_assert_int_eq((long)rb, APP_OK);
    free(url);
    snprintf(sql, sizeof sql, "DROP DATABASE %s", dbname);
    ck_assert_int_eq(db_exec_script(c, sql), APP_OK);
}
END_TEST

START_TEST(migrations_are_idempotent)
{
    int applied = -1, version = 0;
    ck_assert_int_eq(migrate_run(c, &applied), APP_OK);
    ck_assert_int_eq(applied, 0);
    ck_assert_int_eq(migrate_current_version(c, &version), APP_OK);
    ck_assert_int_eq(version, migrate_latest_version());
}
END_TEST

/* The schema's risk levels (the gate and the matrix read them) are the C module's, for every score, under the
 * defaults and under other thresholds; and the defaults of org_settings_of() are the C module's. */
START_TEST(risk_levels_agree_with_the_schema)
{
    static const db_stmt q_level = {"t_risk_level", "SELECT risk_level($1::integer, $2, $3, $4)", 4};
    static const db_stmt q_defaults = {
        "t_risk_defaults",
        "SELECT concat_ws(',', risk_low_max, risk_medium_max, risk_high_max) FROM org_settings_of('no such org')", 0};
    const risk_thresholds sets[] = {risk_thresholds_default, {1, 2, 3}, {2, 6, 11}, {10, 20, 25}};
    for (size_t k = 0; k < sizeof sets / sizeof sets[0]; k++)
        for (int score = 1; score <= 25; score++) {
            char text[4][8];
            snprintf(text[0], sizeof text[0], "%d", score);
            snprintf(text[1], sizeof text[1], "%d", sets[k].low_max);
            snprintf(text[2], sizeof text[2], "%d", sets[k].medium_max);
            snprintf(text[3], sizeof text[3], "%d", sets[k].high_max);
            const char *params[] = {text[0], text[1], text[2], text[3]};
            char *level = NULL;
            ck_assert_int_eq(db_one_row(c, &q_level, params, &level, NULL, 0), APP_OK);
            ck_assert_msg(strcmp(level, risk_level(&sets[k], score)) == 0, "set %zu, score %d: schema %s, C %s", k,
                          score, level, risk_level(&sets[k], score));
            free(level);
        }
    char *defaults = NULL, want[32];
    ck_assert_int_eq(db_one_row(c, &q_defaults, NULL, &defaults, NULL, 0), APP_OK);
    snprintf(want, sizeof want, "%d,%d,%d", risk_thresholds_default.low_max, risk_thresholds_default.medium_max,
             risk_thresholds_default.high_max);
    ck_assert_str_eq(defaults, want);
    free(defaults);
}
END_TEST

START_TEST(campaign_round_trip_with_audit)
{
    char id[37];
    store_begin();
    char *json = new_campaign("Round trip", id);
    json_t *j = json_loads(json, 0, NULL);
    ck_assert_ptr_nonnull(j);
    ck_assert_str_eq(store_str(j, "status"), "draft");
    ck_assert_str_eq(store_str(json_object_get(j, "budget"), "amount"), "1250.50");
    ck_assert_int_eq(json_integer_value(json_object_get(j, "version")), 1);
    json_decref(j);
    free(json);
    db_doc doc = {0};
    ck_assert_int_eq(campaign_store_update(c, org, id, "{\"name\":\"Renamed\",\"budget\":null}", &doc, NULL), APP_OK);
    /* the version comes back beside the document: the ETag needs no parsing */
    ck_assert_int_eq(doc.version, 2);
    j = store_doc(&doc);
    ck_assert_str_eq(store_str(j, "name"), "Renamed");
    ck_assert(json_is_null(json_object_get(j, "budget")));
    ck_assert_int_eq(json_integer_value(json_object_get(j, "version")), 2);
    json_decref(j);
    ck_assert_int_eq(db_commit(c), APP_OK);

    const char *params[] = {org, "tester"};
    PGresult *res = NULL;
    ck_assert_int_eq(db_exec(c, &q_audit_count, params, &res), APP_OK);
    ck_assert_int_ge(atoi(PQgetvalue(res, 0, 0)), 2);
    PQclear(res);

    /* another organisation does not see it */
    ck_assert_int_eq(campaign_store_get(c, other_org, id, &doc), APP_ERR_NOT_FOUND);
    ck_assert_int_eq(campaign_store_get(c, org, id, &doc), APP_OK);
    ck_assert_int_eq(doc.version, 2);
    db_doc_free(&doc);
}
END_TEST

/* The document a read returns is the one campaign_documents keeps, written by the campaign's and its segment
 * list's triggers: after every write, by a handler's statement or by anyone else's, it equals the document
 * computed from the rows (campaign_document()), so a kept document is never stale. */
static void assert_kept_document_is_current(const char *id)
{
    static const db_stmt q_computed = {
        "t_campaign_document", "SELECT campaign_document(t)::text, t.version FROM campaigns t WHERE t.id = $1", 1};
    const char *params[] = {id};
    db_doc kept = {0}, computed = {0};
    ck_assert_int_eq(campaign_store_get(c, org, id, &kept), APP_OK);
    ck_assert_int_eq(db_doc_row(c, &q_computed, params, &computed, NULL, NULL), APP_OK);
    ck_assert_int_eq(kept.version, computed.version);
    json_t *j_kept = store_doc(&kept), *j_computed = store_doc(&computed);
    ck_assert_msg(json_equal(j_kept, j_computed), "the kept document is stale");
    json_decref(j_kept);
    json_decref(j_computed);
}

START_TEST(the_kept_campaign_document_follows_every_write)
{
    static const db_stmt q_segment = {
        "t_segment_insert", "INSERT INTO segments (org_id, name) VALUES ($1, $2) RETURNING id::text", 2};
    static const db_stmt q_notes = {"t_campaign_notes", "UPDATE campaigns SET notes = $2 WHERE id = $1::uuid", 2};
    static const db_stmt q_unlink = {"t_campaign_unlink", "DELETE FROM campaign_segments WHERE campaign_id = $1::uuid", 1};
    char id[37], *s1 = NULL, *s2 = NULL, body[512];
    store_begin();
    const char *p1[] = {org, "Kept one"}, *p2[] = {org, "Kept two"};
    ck_assert_int_eq(db_one_row(c, &q_segment, p1, &s1, NULL, 0), APP_OK);
    ck_assert_int_eq(db_one_row(c, &q_segment, p2, &s2, NULL, 0), APP_OK);
    snprintf(body, sizeof body,
             "{\"name\":\"Kept\",\"objective\":\"launch\",\"start_date\":\"2026-03-01\",\"end_date\":\"2026-03-31\","
             "\"segment_ids\":[\"%s\",\"%s\"]}",
             s2, s1);
    db_doc doc = {0};
    ck_assert_int_eq(campaign_store_insert(c, org, "tester", body, &doc, id, NULL), APP_OK);
    json_t *j = store_doc(&doc);
    ck_assert_str_eq(json_string_value(json_array_get(json_object_get(j, "segment_ids"), 0)), s2);
    json_decref(j);
    assert_kept_document_is_current(id);
    /* a change of the segment list alone, then of the row alone (as the lifecycle or an approval makes them) */
    snprintf(body, sizeof body, "{\"segment_ids\":[\"%s\"]}", s1);
    ck_assert_int_eq(campaign_store_update(c, org, id, body, &doc, NULL), APP_OK);
    db_doc_free(&doc);
    assert_kept_document_is_current(id);
    const char *pn[] = {id, "set by another writer"};
    ck_assert_int_eq(db_exec(c, &q_notes, pn, NULL), APP_OK);
    assert_kept_document_is_current(id);
    ck_assert_int_eq(campaign_store_get(c, org, id, &doc), APP_OK);
    j = store_doc(&doc);
    ck_assert_str_eq(store_str(j, "notes"), "set by another writer");
    json_decref(j);
    const char *pu[] = {id};
    ck_assert_int_eq(db_exec(c, &q_unlink, pu, NULL), APP_OK);
    assert_kept_document_is_current(id);
    ck_assert_int_eq(campaign_store_get(c, org, id, &doc), APP_OK);
    j = store_doc(&doc);
    ck_assert_int_eq(json_array_size(json_object_get(j, "segment_ids")), 0);
    json_decref(j);
    store_commit();
    free(s1);
    free(s2);
}
END_TEST

START_TEST(database_refuses_a_lifecycle_jump)
{
    char id[37];
    db_doc json = {0};
    store_begin();
    free(new_campaign("Jumper", id));
    app_refusal why = {0};
    ck_assert_int_eq(campaign_store_set_status(c, org, id, "live", NULL, &json, &why), APP_ERR_INVALID_TRANSITION);
    ck_assert_int_eq(why.err, APP_ERR_INVALID_TRANSITION);
    ck_assert_str_eq(why.sentence, "this status change is not allowed");
    app_refusal_clear(&why);
    db_rollback(c);
    store_begin();
    /* A lifecycle edge, but one only a submission for approval takes: no pending request, no review. */
    free(new_campaign("Sneaker", id));
    ck_assert_int_eq(campaign_store_set_status(c, org, id, "in_review", "ready", &json, NULL),
                     APP_ERR_INVALID_TRANSITION);
    db_rollback(c);
    store_begin();
    free(new_campaign("Walker", id));
    ck_assert_int_eq(campaign_store_set_status(c, org, id, "cancelled", "not this year", &json, NULL), APP_OK);
    ck_assert_ptr_nonnull(strstr(json.json, "\"cancelled\""));
    db_doc_free(&json);
    db_rollback(c);
}
END_TEST

START_TEST(database_refuses_reversed_dates)
{
    db_doc json = {0};
    char id[37];
    app_refusal why = {0};
    store_begin();
    ck_assert_int_eq(campaign_store_insert(c, org, "tester",
                                           "{\"name\":\"x\",\"objective\":\"other\",\"start_date\":\"2026-03-02\","
                                           "\"end_date\":\"2026-03-01\"}",
                                           &json, id, &why),
                     APP_ERR_VALIDATION);
    /* The refusal comes back as a value naming the field, for the 422's errors[]. */
    ck_assert_str_eq(why.field, "end_date");
    app_refusal_clear(&why);
    db_rollback(c);
}
END_TEST

START_TEST(keyset_pages_cover_every_row_once)
{
    char id[37];
    store_begin();
    for (int i = 0; i < 7; i++) {
        char name[16];
        snprintf(name, sizeof name, "c%d", i);
        free(new_campaign(name, id));
    }
    ck_assert_int_eq(db_commit(c), APP_OK);
    campaign_filter f = {0};
    char *key = NULL, *cid = NULL;
    int seen = 0, pages = 0;
    for (;;) {
        list_result r;
        ck_assert_int_eq(campaign_store_list(c, org, &f, 1, 1, key, cid, 3, &r), APP_OK);
        seen += (int)r.n;
        pages++;
        free(key);
        free(cid);
        key = r.next_key ? strdup(r.next_key) : NULL;
        cid = r.next_id ? strdup(r.next_id) : NULL;
        list_result_free(&r);
        if (!key) break;
    }
    ck_assert_int_eq(seen, 7);
    ck_assert_int_eq(pages, 3);
    /* a forged cursor key is a bad cursor, not a server error */
    list_result r;
    ck_assert_int_eq(campaign_store_list(c, org, &f, 2, 0, "not-a-date", "123e4567-e89b-12d3-a456-426614174000", 3, &r),
                     APP_ERR_INVALID_CURSOR);
}
END_TEST

START_TEST(idempotency_records)
{
    store_begin();
    ck_assert_int_eq(idem_store_save(c, org, "key-1", "POST /v1/x\n{}", 201, "/v1/x/1", "{\"a\":1}", 3), APP_OK);
    ck_assert_int_eq(db_commit(c), APP_OK);
    idem_record rec;
    ck_assert_int_eq(idem_store_find(c, org, "key-1", "POST /v1/x\n{}", &rec), APP_OK);
    ck_assert(rec.found && rec.same);
    ck_assert_int_eq(rec.status, 201);
    ck_assert_str_eq(rec.location, "/v1/x/1");
    ck_assert_int_eq(rec.etag_version, 3); /* a replay answers the first response's ETag */
    idem_record_free(&rec);
    ck_assert_int_eq(idem_store_find(c, org, "key-1", "POST /v1/x\n{\"b\":2}", &rec), APP_OK);
    ck_assert(rec.found && !rec.same);
    idem_record_free(&rec);
}
END_TEST

/* Allocation failures on demand: this program is linked with --wrap=strdup, so
 * every strdup of the stores comes here first. */
static int strdup_fail_in = -1; /* fail the call this many calls ahead (0: the next one); -1: never */
char *__real_strdup(const char *s);
char *__wrap_strdup(const char *s);
char *__wrap_strdup(const char *s)
{
    if (strdup_fail_in >= 0 && strdup_fail_in-- == 0) return NULL;
    return __real_strdup(s);
}

static void strdup_never_fails(void)
{
    strdup_fail_in = -1;
}

START_TEST(an_allocation_failure_is_an_error_never_a_wrong_answer)
{
    char id[37];
    store_begin();
    free(new_campaign("Plenty", id));
    free(new_campaign("Scarce", id));
    ck_assert_int_eq(idem_store_save(c, org, "key-oom", "POST /v1/x\n{}", 201, "/v1/x/1", "{\"a\":1}", 1), APP_OK);
    ck_assert_int_eq(db_commit(c), APP_OK);

    db_doc doc = {.version = -1};
    strdup_fail_in = 0;
    ck_assert_int_eq(campaign_store_get(c, org, id, &doc), APP_ERR_INTERNAL);
    ck_assert_ptr_null(doc.json); /* out-params untouched */
    ck_assert_int_eq(doc.version, -1);

    /* a page whose second item, or whose cursor, cannot be copied is an error, not a shorter page */
    campaign_filter f = {0};
    for (int fail = 0; fail < 3; fail++) { /* the item, the cursor key, the cursor id */
        list_result r = {.n = 99};
        strdup_fail_in = fail;
        ck_assert_int_eq(campaign_store_list(c, org, &f, 0, 0, NULL, NULL, 1, &r), APP_ERR_INTERNAL);
        ck_assert_uint_eq(r.n, 99);
        ck_assert_ptr_null(r.items);
    }
    strdup_fail_in = -1;
    list_result r;
    ck_assert_int_eq(campaign_store_list(c, org, &f, 0, 0, NULL, NULL, 1, &r), APP_OK);
    ck_assert_ptr_nonnull(r.next_key); /* the organisation has two campaigns */
    list_result_free(&r);

    /* a replay whose body cannot be copied is an error (the write path would read the body) */
    for (int fail = 0; fail < 2; fail++) {
        idem_record rec = {.status = -1};
        strdup_fail_in = fail;
        ck_assert_int_eq(idem_store_find(c, org, "key-oom", "POST /v1/x\n{}", &rec), APP_ERR_INTERNAL);
        ck_assert_int_eq(rec.status, -1);
    }
    strdup_fail_in = -1;
}
END_TEST

START_TEST(a_list_described_past_its_bounds_is_refused)
{
#define BY_ID {"id", "t.id", "uuid"}
    static const sort_spec sorts[LIST_MAX_SORTS + 1] = {BY_ID, BY_ID, BY_ID, BY_ID, BY_ID, BY_ID, BY_ID, BY_ID, BY_ID};
#undef BY_ID
    static list_query wide = {.name = "t_wide", .projection = "t.id::text", .from = "campaigns t",
                              .where = "t.org_id = $1", .nfilters = 1, .sorts = sorts, .nsorts = LIST_MAX_SORTS + 1};
    static list_query many = {.name = "t_many_filters", .projection = "t.id::text", .from = "campaigns t",
                              .where = "t.org_id = $1", .nfilters = LIST_MAX_FILTERS + 1, .sorts = sorts, .nsorts = 1};
    const char *filters[LIST_MAX_FILTERS + 1] = {org};
    list_result r = {0};
    ck_assert_int_eq(list_query_run(c, &wide, filters, LIST_MAX_SORTS - 1, 1, NULL, NULL, 5, &r), APP_OK);
    list_result_free(&r);
    ck_assert_int_eq(list_query_run(c, &wide, filters, LIST_MAX_SORTS, 1, NULL, NULL, 5, &r), APP_ERR_INTERNAL);
    ck_assert_int_eq(list_query_run(c, &many, filters, 0, 0, NULL, NULL, 5, &r), APP_ERR_INTERNAL);
}
END_TEST

static const db_stmt q_backend_pid = {"t_backend_pid", "SELECT pg_backend_pid()::text", 0};
static const db_stmt q_terminate = {
    "t_terminate",
    "SELECT pg_terminate_backend($1::int, 5000) AND NOT EXISTS (SELECT 1 FROM pg_stat_activity WHERE pid = $1::int)", 1};
static const db_stmt q_count_prepared = {
    "t_count_prepared", "SELECT count(*)::text FROM pg_prepared_statements WHERE name LIKE $1", 1};

static void backend_pid(db_conn *conn, char pid[16])
{
    char *text = NULL;
    ck_assert_int_eq(db_one_row(conn, &q_backend_pid, NULL, &text, NULL, 0), APP_OK);
    snprintf(pid, 16, "%s", text);
    free(text);
}

/* Ends the backend of pid from the test's own connection, and waits until it is gone. */
static void terminate(const char *pid)
{
    char *ok = NULL;
    const char *params[] = {pid};
    ck_assert_int_eq(db_one_row(c, &q_terminate, params, &ok, NULL, 0), APP_OK);
    ck_assert_str_eq(ok, "t");
    free(ok);
}

START_TEST(hundreds_of_statements_on_one_connection)
{
    /* Far more than any fixed table would hold; each is prepared once and found again on its next use. */
    enum { N = 300 };
    static db_stmt stmts[N];
    static char names[N][24], sqls[N][40];
    db_pool *p = db_pool_create(base_url, 1, 10000);
    db_conn *pc = NULL; /* from a pool of one, not the fixture's */
    ck_assert_int_eq(db_acquire(p, &pc), APP_OK);
    for (int round = 0; round < 3; round++)
        for (int i = 0; i < N; i++) {
            snprintf(names[i], sizeof names[i], "t_many_%d", i);
            snprintf(sqls[i], sizeof sqls[i], "SELECT ($1::int + %d)::text", i);
            stmts[i] = (db_stmt){names[i], sqls[i], 1};
            const char *params[] = {"1000"};
            char *v = NULL, want[16];
            ck_assert_int_eq(db_one_row(pc, &stmts[i], params, &v, NULL, 0), APP_OK);
            snprintf(want, sizeof want, "%d", 1000 + i);
            ck_assert_str_eq(v, want);
            free(v);
        }
    const char *like[] = {"t\\_many\\_%"};
    char *n = NULL;
    ck_assert_int_eq(db_one_row(pc, &q_count_prepared, like, &n, NULL, 0), APP_OK);
    ck_assert_str_eq(n, "300");
    free(n);
    db_release(p, pc);
    db_pool_free(p);
}
END_TEST

START_TEST(a_pooled_connection_lost_while_idle_is_replaced)
{
    db_pool *p = db_pool_create(base_url, 1, 10000);
    db_conn *pc = NULL; /* from a pool of one, not the fixture's */
    char before[16], after[16];
    campaign_filter f = {0};
    list_result r;
    ck_assert_int_eq(db_acquire(p, &pc), APP_OK);
    backend_pid(pc, before);
    ck_assert_int_eq(campaign_store_list(pc, org, &f, 0, 0, NULL, NULL, 5, &r), APP_OK); /* a list variant */
    list_result_free(&r);
    db_release(p, pc);
    terminate(before);

    /* The first statement of the next checkout finds the connection gone: reconnected and sent again,
     * on a connection where nothing is prepared yet (a remembered statement would fail there). */
    ck_assert_int_eq(db_acquire(p, &pc), APP_OK);
    ck_assert_int_eq(campaign_store_list(pc, org, &f, 0, 0, NULL, NULL, 5, &r), APP_OK);
    list_result_free(&r);
    backend_pid(pc, after);
    ck_assert_str_ne(before, after);
    db_release(p, pc);

    /* A BEGIN first is retried the same way. */
    terminate(after);
    ck_assert_int_eq(db_acquire(p, &pc), APP_OK);
    ck_assert_int_eq(db_begin(pc), APP_OK);
    backend_pid(pc, before);
    ck_assert_str_ne(before, after);

    /* Once something of the checkout reached the database, a loss is the caller's: no retry. */
    terminate(before);
    ck_assert_int_eq(db_exec(pc, &q_backend_pid, NULL, NULL), APP_ERR_UNAVAILABLE);
    db_release(p, pc);
    ck_assert_int_eq(db_acquire(p, &pc), APP_OK);
    backend_pid(pc, after);
    db_release(p, pc);
    db_pool_free(p);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("store");
    TCase *tc = store_tcase("store");
    tcase_add_test(tc, migrations_are_idempotent);
    tcase_add_test(tc, two_replicas_migrate_a_fresh_database_together);
    tcase_add_test(tc, campaign_round_trip_with_audit);
    tcase_add_test(tc, the_kept_campaign_document_follows_every_write);
    tcase_add_test(tc, database_refuses_a_lifecycle_jump);
    tcase_add_test(tc, database_refuses_reversed_dates);
    tcase_add_test(tc, keyset_pages_cover_every_row_once);
    tcase_add_test(tc, idempotency_records);
    tcase_add_test(tc, hundreds_of_statements_on_one_connection);
    tcase_add_test(tc, a_pooled_connection_lost_while_idle_is_replaced);
    tcase_add_test(tc, a_list_described_past_its_bounds_is_refused);
    tcase_add_test(tc, risk_levels_agree_with_the_schema);
    suite_add_tcase(s, tc);
    TCase *ta = store_tcase("allocation");
    tcase_add_checked_fixture(ta, NULL, strdup_never_fails); /* a failed test leaves strdup working */
    tcase_add_test(ta, an_allocation_failure_is_an_error_never_a_wrong_answer);
    suite_add_tcase(s, ta);
    return store_main(s, "store");
}
