/* store.h — what the store tests share: the run's throwaway PostgreSQL
 * (CAMPAIGND_TEST_DATABASE_URL), migrated once, and a fixture that gives every
 * test an organisation and a pooled connection of its own and always gives the
 * connection back (rolling back what the test left open), even when the test
 * fails half-way. So tests are independent of each other and of their order,
 * and one failure is one failure, not a cascade of starved pool waits.
 * One header per test program (static definitions). */
#ifndef CAMPAIGND_STORE_TEST_H
#define CAMPAIGND_STORE_TEST_H
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "db.h"
#include "idempotency_store.h"
#include "migrate.h"
#include "unit.h"

static const char *base_url;
static db_pool *pool;
static db_conn *c;          /* this test's connection */
static char org[64];        /* this test's organisation */
static char other_org[80];  /* another organisation, for isolation checks */
static const char *store_suite_name = "store";

static void store_setup(void)
{
    static int n;
    snprintf(org, sizeof org, "%s-%d-%d", store_suite_name, (int)getpid(), ++n);
    snprintf(other_org, sizeof other_org, "%s-other", org);
    c = NULL;
    ck_assert_int_eq(db_acquire(pool, &c), APP_OK);
}

static void store_teardown(void)
{
    db_release(pool, c); /* rolls back a transaction the test left open */
    c = NULL;
}

/* Opens a write transaction in organisation o as actor (with role), as the API does. */
static inline void store_begin_in(const char *o, const char *actor, const char *role)
{
    ck_assert_int_eq(db_begin(c), APP_OK);
    ck_assert_int_eq(tx_store_begin(c, o, actor, role, "req-store-test"), APP_OK);
}

static inline void store_begin(void)
{
    store_begin_in(org, "tester", "admin");
}

static inline void store_commit(void)
{
    ck_assert_int_eq(db_commit(c), APP_OK);
}

/* Parses a store's document and frees it (*d is reset); the JSON is a new reference. */
static inline json_t *store_doc(db_doc *d)
{
    ck_assert_ptr_nonnull(d->json);
    json_t *j = json_loads(d->json, 0, NULL);
    ck_assert_msg(j != NULL, "not JSON: %s", d->json);
    db_doc_free(d);
    return j;
}

/* The string member key of j ("" when absent or not a string): borrowed. */
static inline const char *store_str(const json_t *j, const char *key)
{
    const char *s = json_string_value(json_object_get(j, key));
    return s ? s : "";
}

/* Runs s against the run's database; 77 (skipped) without one. */
static inline int store_main(Suite *s, const char *name)
{
    store_suite_name = name;
    base_url = getenv("CAMPAIGND_TEST_DATABASE_URL");
    if (!base_url) {
        fprintf(stderr, "CAMPAIGND_TEST_DATABASE_URL is not set: skipping\n");
        srunner_free(srunner_create(s)); /* frees s */
        return 77;
    }
    pool = db_pool_create(base_url, 2, 10000);
    db_conn *m = NULL;
    int applied = 0;
    if (!pool || db_acquire(pool, &m) || migrate_run(m, &applied)) {
        fprintf(stderr, "cannot migrate the test database\n");
        return 1;
    }
    db_release(pool, m);
    int rc = unit_run(s);
    db_pool_free(pool);
    return rc;
}

/* A TCase of name whose tests each get the fixture above. */
static inline TCase *store_tcase(const char *name)
{
    TCase *tc = tcase_create(name);
    tcase_set_timeout(tc, 60);
    tcase_add_checked_fixture(tc, store_setup, store_teardown);
    return tc;
}
#endif
