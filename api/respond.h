/* respond.h — writing responses, and the request parsers that reply on failure.
 * A function named …_or_reply has already written the error response when it
 * fails, so the caller just returns. */
#ifndef CAMPAIGND_RESPOND_H
#define CAMPAIGND_RESPOND_H

#include <jansson.h>

#include "errors.h"
#include "http.h"
#include "validate.h"

void reply_header(req_ctx *ctx, const char *name, const char *value);

/* json_text is a serialised JSON document (copied). */
void reply_json_text(req_ctx *ctx, int status, const char *json_text);
/* j is not stolen. */
void reply_json(req_ctx *ctx, int status, json_t *j);
void reply_empty(req_ctx *ctx, int status);
/* Replies later: the handler returns and the dispatch reads stmt with (the caller's organisation, id) together
 * with the reads the HTTP thread's other requests left in the same turn, in one round trip, then calls
 * done(ctx, arg, error, document) to reply (the document is freed after it). ctx->later is set. */
void reply_after_read(req_ctx *ctx, const db_stmt *stmt, const char *id,
                      void (*done)(req_ctx *ctx, const void *arg, app_err e, db_doc *doc), const void *arg);

/* What a write's step did (reply_after_writes). */
enum { STEP_REPLIED = 0, STEP_WRITES = 1, STEP_READS = 2 };

/* Writes later, in the thread's batch (ctx->may_wait must be set): the handler returns, and at the end of the
 * turn step(ctx, conn, e, why) is called on the batch's connection, first with APP_OK. It queues the
 * statements of its next round trip on conn (db_defer, with keeps for the results it needs) and returns
 * STEP_WRITES, or STEP_READS when they only read (they may share a transaction with other reads: db_queue_take),
 * or replies and returns STEP_REPLIED. Every request's queue goes in one round trip with a sync of its own (db_run_queues: its
 * own transaction), then step is called again with its outcome. A step may also run statements of its own on
 * conn (a rare refusal's look-up), which cost a round trip alone. state_free(state) once it has replied. conn is
 * the batch's: a step never releases it (write_tx.borrowed). */
void reply_after_writes(req_ctx *ctx, int (*step)(req_ctx *ctx, db_conn *conn, app_err e, app_refusal *why),
                        void *state, void (*state_free)(void *state));

/* RFC 9457 problem for err; detail may be NULL (the title is used). */
void reply_problem(req_ctx *ctx, app_err err, const char *detail);
/* The same, with extra members merged into the body (j_extra is stolen; may be NULL). */
void reply_problem_extra(req_ctx *ctx, app_err err, const char *detail, json_t *j_extra);
/* 422 validation_failed with the collected field errors (v is emptied). */
void reply_validation(req_ctx *ctx, verrs *v);
/* Replies a write the store refused with err: the refusal's sentence (detail,
 * when not NULL, says it better in the caller's context), errors[] naming its
 * field for validation_failed, and rule and conflicts for booking_conflict.
 * why may be NULL or describe another error (then err alone is replied). */
void reply_refusal(req_ctx *ctx, app_err err, const app_refusal *why, const char *detail);
/* 400 invalid_parameter naming one parameter. */
void reply_bad_param(req_ctx *ctx, const char *name, const char *message);

/* Requires the caller's role to allow perm; replies 403 otherwise. */
int require_perm_or_reply(req_ctx *ctx, auth_perm perm);

/* Parses the JSON object body: Content-Type (JSON in UTF-8), syntax, duplicates, top-level
 * object. Returns a new reference, or NULL after replying. */
json_t *body_object_or_reply(req_ctx *ctx, int allow_merge_patch);

/* Copies path segment `index` (0-based, after splitting the path on '/': for
 * /v1/campaigns/<id>, index 2) into out if it is a UUID; replies 400 otherwise. */
int path_uuid_or_reply(req_ctx *ctx, int index, char out[37]);

/* Rejects with 400 query parameters outside allowed (NULL-terminated), and
 * repeated ones unless allowed names them with "[]" (list parameters). */
int query_known_or_reply(req_ctx *ctx, const char *const *allowed);

/* Reads list parameter `name` (`name=a,b` or `name=a&name=b`), each item one
 * of values (NULL-terminated), into a PostgreSQL array literal "{a,b}" in *out
 * (malloc'd; NULL when the parameter is absent). Replies 400 on an empty list
 * or an unknown value. */
int enum_list_or_reply(req_ctx *ctx, const char *name, const char *const *values, char **out);

/* Checks the from/to query values of an overlap filter (either may be NULL):
 * each a date (YYYY-MM-DD, midnight UTC) or an RFC 3339 date-time with an
 * offset, and to after from. Replies 400 otherwise. */
int window_params_or_reply(req_ctx *ctx, const char *from, const char *to);

/* The same for a window that must be given whole and span at most max_days
 * (GET /v1/calendar): both values required, to after from. */
int bounded_window_or_reply(req_ctx *ctx, const char *from, const char *to, int max_days);

/* List parameters shared by every collection. */
typedef struct list_params {
    int limit;
    int sort;          /* index into the sorts given */
    int desc;          /* sort direction */
    char *cursor_key;  /* NULL on the first page */
    char *cursor_id;
} list_params;

/* Parses limit (1..500, default 50), sort (one of sorts, optionally prefixed
 * by '-'; default sorts[0] ascending) and cursor. Free with list_params_free. */
int list_params_or_reply(req_ctx *ctx, const char *const *sorts, list_params *out);
void list_params_free(list_params *lp);

/* Replies {"items": [...], "next_cursor": ...} from serialised items; the next
 * cursor is made from the given key/id of the last item when more rows exist. */
void reply_list(req_ctx *ctx, char **items, size_t n, const char *sort_name, int desc, const char *next_key,
                const char *next_id);

/* ETag handling: the strong tag "<version>". */
void etag_format(int version, char out[24]);
/* Whether an If-None-Match / If-Match header value matches etag ("*" matches). */
int etag_matches(const char *header, const char *etag);

#endif
