/* crud.h — the one pipeline every resource is served through. A resource
 * is a descriptor (its name for messages, its permissions, where its id sits
 * in the path, its store functions); these helpers are get-one and the lock
 * for a write (role, ownership, If-Match), with one contract for every
 * resource. A handler that does more than a helper says why. */
#ifndef CAMPAIGND_CRUD_H
#define CAMPAIGND_CRUD_H

#include <jansson.h>

#include "http.h"
#include "tx.h"

typedef struct crud_desc {
    const char *name;     /* in messages: "no <name> with this id" */
    int id_segment;       /* path segment holding the id (/v1/<things>/<id>: 2) */
    auth_perm read;       /* reads */
    auth_perm write;      /* writes to any row of the organisation */
    auth_perm write_own;  /* writes to rows whose lock names the caller as owner; PERM__COUNT: none */
    const char *not_owner; /* the 403 detail for a caller who has only write_own and is not the owner */
    app_err (*get)(db_conn *conn, const char *org, const char *id, db_doc *doc);
    app_err (*lock)(db_conn *conn, const char *org, const char *id, db_doc *doc);
} crud_desc;

/* GET one: read permission, no query parameters, the id from the path, the
 * document with its ETag from the store; 304 when If-None-Match matches. */
void crud_get(req_ctx *ctx, const crud_desc *d);

/* Whether the caller's role may write some rows of d (write or write_own);
 * replies 403 otherwise. */
int crud_may_write_or_reply(req_ctx *ctx, const crud_desc *d);

/* What crud_open_or_reply locked. */
typedef struct crud_lock {
    db_doc doc;         /* the row as stored, with its version, owner and kind */
    json_t *j_current;  /* doc.json parsed (owned) */
} crud_lock;

void crud_lock_free(crud_lock *lk);

/* Opens the write transaction (tx_begin_or_reply with j_body, may be NULL) and
 * locks the row id of d, then checks ownership (write_own) and If-Match against
 * the stored version. Returns 1 with *lk filled and the transaction open; 0
 * after replying, with nothing to release. */
int crud_open_or_reply(req_ctx *ctx, const crud_desc *d, write_tx *tx, json_t *j_body, const char *id,
                           crud_lock *lk);

#endif
