/* crud.h — the one pipeline every resource is served through. A resource
 * is a descriptor (its name for messages, its permissions, where its id sits
 * in the path, its validator, its store functions, its list sorts and
 * filters); these helpers are get-one, create, patch, delete, list and the
 * lock for a write (role, ownership, If-Match), with one contract for every
 * resource. Each goes parse → validate → store → reply, taking a database
 * connection only once the request is known to be valid. A handler that does
 * not call its descriptor's helper says why. */
#ifndef CAMPAIGND_CRUD_H
#define CAMPAIGND_CRUD_H

#include <jansson.h>

#include "db_list.h"
#include "http.h"
#include "respond.h"
#include "tx.h"
#include "validate.h"

#define CRUD_MAX_FILTERS 8

/* A list's filters as the store takes them: text parameters in the store's
 * order (NULL: not filtered); owned[] are freed after the page. */
typedef struct crud_filter {
    const char *v[CRUD_MAX_FILTERS];
    char *owned[4];
} crud_filter;

typedef struct crud_desc crud_desc;

/* A request's refs checked in its transaction (ids in the body naming other
 * rows); 0 after replying, the transaction then closed. */
typedef int (*crud_refs_fn)(req_ctx *ctx, write_tx *tx, json_t *j_body);

struct crud_desc {
    const char *name;     /* in messages: "no <name> with this id" */
    int id_segment;       /* path segment holding the id (/v1/<things>/<id>: 2) */
    auth_perm read;       /* reads */
    auth_perm create;     /* creates (PERM_NONE, the default, grants nobody) */
    auth_perm write;      /* writes to any row of the organisation */
    auth_perm write_own;  /* writes to rows whose lock names the caller as owner (PERM_NONE: none) */
    const char *not_owner; /* the 403 detail for a caller who has only write_own and is not the owner */
    const char *collection; /* the collection's path: a created row's Location is <collection>/<id> */
    app_err (*get)(db_conn *conn, const char *org, const char *id, db_doc *doc);
    /* The statement get runs ((org, id) -> document, version), when the store exports it: GET one then reads
     * in its HTTP thread's batch (reply_after_read) rather than a round trip of its own. May be NULL. */
    const db_stmt *get_stmt;
    app_err (*lock)(db_conn *conn, const char *org, const char *id, db_doc *doc);
    /* Checks a body: create (j_current NULL), patch before the lock (j_current NULL: shapes only) and after
     * it (the stored row). Returns the number of errors added to v. */
    size_t (*validate)(json_t *j_body, validate_mode mode, json_t *j_current, verrs *v);
    crud_refs_fn refs_or_reply; /* may be NULL */
    /* Judges a create in its transaction after refs, before the insert (may be NULL): 0 after replying (the
     * transaction closed); *j_warnings (a new reference or NULL) is added to the answer as "warnings" when it
     * holds any (the conflict rules' warnings). */
    int (*judge_or_reply)(req_ctx *ctx, write_tx *tx, json_t *j_body, json_t **j_warnings);
    /* Checks of a valid body that need the request's context (the configuration, the network: a webhook's
     * URL is resolved) before any connection is taken; 0 after replying. May be NULL. */
    int (*precheck_or_reply)(req_ctx *ctx, json_t *j_body);
    app_err (*insert)(db_conn *conn, const char *org, const char *actor, const char *body_json, db_doc *doc,
                      char id_out[37], app_refusal *why);
    app_err (*update)(db_conn *conn, const char *org, const char *id, const char *patch_json, db_doc *doc,
                      app_refusal *why);
    /* Deletes the row (doc->json NULL: 204) or keeps it changed, archived or deactivated (200 with it). */
    app_err (*remove)(db_conn *conn, const char *org, const char *id, db_doc *doc, app_refusal *why);
    /* Replies a refused write (may be NULL: tx_refused_reply); id is NULL on create. */
    void (*refused)(req_ctx *ctx, write_tx *tx, app_err e, app_refusal *why, const char *id);
    /* A collection under a parent row (POST /v1/<parents>/<parent id>/<things>): create takes the parent's
     * id from path segment parent_id_segment, locks the parent with parent_lock (404 "no <parent_name> with
     * this id"), checks write_own against the parent's owner, and writes the parent's id into the body as
     * parent_field before insert. NULL parent_lock: a top-level collection. */
    app_err (*parent_lock)(db_conn *conn, const char *org, const char *id, db_doc *doc);
    const char *parent_name;
    int parent_id_segment;
    const char *parent_field;
    /* A role with annotate but neither write nor write_own may PATCH any row of the organisation, and only
     * the fields named in annotate_fields (NULL-terminated): an approver's notes. PERM_NONE: nobody. */
    auth_perm annotate;
    const char *const *annotate_fields;
    /* Lists: the query parameters besides limit, cursor and sort (NULL-terminated), the sort names, the
     * filters read from the query (0 after replying 400) and one page of the store. */
    const char *const *query_params;
    const char *const *sorts;
    int (*filters_or_reply)(req_ctx *ctx, crud_filter *f);
    app_err (*list)(db_conn *conn, const char *org, const crud_filter *f, const list_params *lp, list_result *out);
};

/* GET one: read permission, no query parameters, the id from the path, the
 * document with its ETag from the store; 304 when If-None-Match matches. */
void crud_get(req_ctx *ctx, const crud_desc *d);

/* POST <collection> (or <parent>/<id>/<things>): create permission, body,
 * validation, the parent locked and its owner checked, refs, insert; 201 with
 * Location and ETag (an Idempotency-Key replays it). */
void crud_create(req_ctx *ctx, const crud_desc *d);

/* PATCH <collection>/<id> (JSON merge patch): shapes checked before the
 * lock, the whole against the stored row after it; 200 with the new ETag.
 * An annotating role may send only the annotate_fields (403 otherwise). */
void crud_patch(req_ctx *ctx, const crud_desc *d);

/* DELETE <collection>/<id>: 204, or 200 with the row the store kept. */
void crud_delete(req_ctx *ctx, const crud_desc *d);

/* GET <collection>: read permission, known parameters, limit/sort/cursor,
 * the descriptor's filters, one page. */
void crud_list(req_ctx *ctx, const crud_desc *d);

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
