/* webhook_store.h — webhook SQL: subscriptions and their secrets, the
 * delivery log, and what the delivery worker asks of the database (fan-out,
 * claims under a lease, the end of an attempt). The rules live in the schema
 * (sql/migrations/0017_webhooks.sql): webhook_fan_out, webhook_attempt_done,
 * the parking of a disabled subscription's deliveries. */
#ifndef CAMPAIGND_WEBHOOK_STORE_H
#define CAMPAIGND_WEBHOOK_STORE_H

#include "db.h"
#include "db_list.h"
#include "webhook.h"

extern const char *const webhook_sort_names[];
extern const char *const webhook_delivery_sort_names[];
extern const char *const webhook_delivery_statuses[];

app_err webhook_store_get(db_conn *conn, const char *org, const char *id, db_doc *doc);
/* webhook_store_get's statement: (org, id) -> document, version. */
extern const db_stmt webhook_store_get_stmt;
app_err webhook_store_lock(db_conn *conn, const char *org, const char *id, db_doc *doc);
/* Creates the subscription with a new secret: doc->json carries it as
 * "secret" (the only time it is shown, with rotate's). */
app_err webhook_store_insert(db_conn *conn, const char *org, const char *actor, const char *body_json, db_doc *doc,
                             char id_out[37], app_refusal *why);
/* A patch; "active": true clears what the service recorded when it disabled the subscription. */
app_err webhook_store_update(db_conn *conn, const char *org, const char *id, const char *patch_json, db_doc *doc,
                             app_refusal *why);
/* Deletes it with its secrets, deliveries and attempts; doc->json stays NULL. */
app_err webhook_store_remove(db_conn *conn, const char *org, const char *id, db_doc *doc, app_refusal *why);
app_err webhook_store_list(db_conn *conn, const char *org, const char *active, int sort, int desc,
                           const char *cursor_key, const char *cursor_id, int limit, list_result *out);

/* On a locked subscription: a new current secret; the ones before it sign for
 * another overlap_s seconds (expired ones are dropped). doc->json is the
 * subscription with "secret" and "previous_secret_expires_at". */
app_err webhook_store_rotate(db_conn *conn, const char *org, const char *id, unsigned overlap_s, db_doc *doc);

/* One page of a subscription's delivery log (statuses: a PostgreSQL array
 * literal, or NULL), each delivery with its attempts. */
app_err webhook_store_delivery_list(db_conn *conn, const char *org, const char *subscription_id,
                                    const char *statuses, int sort, int desc, const char *cursor_key,
                                    const char *cursor_id, int limit, list_result *out);

/* On a locked, active subscription: makes the delivery due at once, its next
 * attempt marked manual. APP_ERR_NOT_FOUND when the subscription has no such
 * delivery; APP_ERR_INVALID_STATE when an attempt is in flight. doc: the delivery. */
app_err webhook_store_delivery_retry(db_conn *conn, const char *org, const char *subscription_id,
                                     const char *delivery_id, db_doc *doc);

/* Worker: hands up to limit new outbox events over as deliveries (its own transaction); *n: events handed over. */
app_err webhook_store_fan_out(db_conn *conn, int limit, int *n);

/* A delivery claimed for one attempt: everything the attempt needs. */
typedef struct webhook_claim {
    char id[37];
    char claim[37];   /* the lease */
    char msg_id[40];  /* webhook-id: "msg_" + the delivery's id in hex, the same on every attempt */
    char *url;
    char *body;
    char *secrets;    /* the secrets that sign, space-separated */
    int attempt_count; /* attempts made before this one */
} webhook_claim;

void webhook_claim_free(webhook_claim *c);

/* Claims the most overdue due delivery of an active subscription (SKIP
 * LOCKED: a delivery another replica holds is passed over) under a lease of
 * lease_ms. APP_ERR_NOT_FOUND when nothing is due. */
app_err webhook_store_claim(db_conn *conn, unsigned lease_ms, webhook_claim *out);

/* How an attempt ended (webhook_attempt_done in the schema). */
typedef struct webhook_result {
    const char *outcome;  /* "success", "failure", "gone" or "released" */
    double started;       /* Unix seconds */
    long long duration_ms;
    int http_status;      /* 0: no response */
    const char *response_body; /* may be NULL; truncated by the schema */
    const char *error;    /* may be NULL */
    long long next_ms;    /* failure: delay before the next attempt; -1: none left */
} webhook_result;

/* Records the attempt and what follows; *status (may be NULL) gets the
 * delivery's status, "" when the lease was lost meanwhile. */
app_err webhook_store_attempt_done(db_conn *conn, const webhook_claim *c, const webhook_result *r,
                                   unsigned disable_after_s, char status[16]);

/* What /metrics shows of the delivery state, across organisations. */
typedef struct webhook_stats {
    double outbox_lag_s;         /* age of the oldest event not yet handed to deliveries (0: none) */
    double oldest_due_s;         /* how long the most overdue due delivery has waited (0: none) */
    long long pending;           /* deliveries pending (due, in flight, waiting for a retry or held) */
    long long disabled;          /* subscriptions the service disabled (410 or failing) */
} webhook_stats;

app_err webhook_store_stats(db_conn *conn, webhook_stats *out);

#endif
