/* respond.c — see respond.h. */
#define _GNU_SOURCE
#include "respond.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cursor.h"
#include "log.h"

#define JSON_TYPE "application/json; charset=utf-8"

void reply_header(req_ctx *ctx, const char *name, const char *value)
{
    u_map_put(ctx->resp->map_header, name, value);
}

void reply_json_text(req_ctx *ctx, int status, const char *json_text)
{
    ctx->status = status;
    ulfius_set_string_body_response(ctx->resp, (unsigned)status, json_text);
    reply_header(ctx, "Content-Type", JSON_TYPE);
}

void reply_json(req_ctx *ctx, int status, json_t *j)
{
    char *text = json_dumps(j, JSON_COMPACT);
    if (!text) { reply_problem(ctx, APP_ERR_INTERNAL, NULL); return; }
    reply_json_text(ctx, status, text);
    free(text);
}

void reply_after_read(req_ctx *ctx, const db_stmt *stmt, const char *id,
                      void (*done)(req_ctx *ctx, const void *arg, app_err e, db_doc *doc), const void *arg)
{
    ctx->later.stmt = stmt;
    snprintf(ctx->later.id, sizeof ctx->later.id, "%s", id);
    ctx->later.done = done;
    ctx->later.arg = arg;
}

void reply_after_writes(req_ctx *ctx, int (*step)(req_ctx *ctx, db_conn *conn, app_err e, app_refusal *why),
                        void *state, void (*state_free)(void *state))
{
    ctx->later.step = step;
    ctx->later.state = state;
    ctx->later.state_free = state_free;
}

void reply_empty(req_ctx *ctx, int status)
{
    ctx->status = status;
    ctx->resp->status = status;
    ulfius_set_binary_body_response(ctx->resp, (unsigned)status, "", 0);
}

void reply_problem_extra(req_ctx *ctx, app_err err, const char *detail, json_t *j_extra)
{
    const app_err_info *info = app_err_lookup(err);
    char type[96];
    snprintf(type, sizeof type, "urn:campaignd:problem:%s", info->code);
    json_t *j = json_pack("{s:s, s:s, s:i, s:s, s:s, s:s}", "type", type, "title", info->title, "status",
                          info->status, "detail", detail ? detail : info->title, "code", info->code, "request_id",
                          ctx->request_id);
    int ok = j && (!j_extra || json_object_update_missing(j, j_extra) == 0);
    json_decref(j_extra);
    char *text = ok ? json_dumps(j, JSON_COMPACT) : NULL;
    json_decref(j);
    char fallback[384];
    if (!text) {
        /* Out of memory: not a problem missing its errors[] or conflicts, but a 500 that keeps the
         * problem's shape (the request id has only JSON-safe characters, see server.c). */
        info = app_err_lookup(APP_ERR_INTERNAL);
        snprintf(fallback, sizeof fallback,
                 "{\"type\":\"urn:campaignd:problem:%s\",\"title\":\"%s\",\"status\":%d,\"detail\":\"out of memory\","
                 "\"code\":\"%s\",\"request_id\":\"%s\"}",
                 info->code, info->title, info->status, info->code, ctx->request_id);
        detail = "out of memory";
    }
    ctx->status = info->status;
    ulfius_set_string_body_response(ctx->resp, (unsigned)info->status, text ? text : fallback);
    free(text);
    reply_header(ctx, "Content-Type", "application/problem+json; charset=utf-8");
    if (info->status == 401) {
        const char *given = u_map_get_case(ctx->req->map_header, "Authorization");
        reply_header(ctx, "WWW-Authenticate",
                     given ? "Bearer realm=\"campaignd\", error=\"invalid_token\"" : "Bearer realm=\"campaignd\"");
    }
    if (info->status == 503) reply_header(ctx, "Retry-After", "1");
    /* The one log line of a 5xx, with the cause a lower layer noted (the database's message). */
    if (info->status >= 500)
        log_error("%s %s -> %d %s: %s%s%s", ctx->req->http_verb, ctx->req->url_path, info->status, info->code,
                  detail ? detail : info->title, log_cause()[0] ? "; cause: " : "", log_cause());
}

void reply_problem(req_ctx *ctx, app_err err, const char *detail)
{
    reply_problem_extra(ctx, err, detail, NULL);
}

void reply_validation(req_ctx *ctx, verrs *v)
{
    size_t n = verrs_count(v);
    json_t *j_extra = v->lost ? NULL : json_pack("{s:o}", "errors", verrs_take(v));
    if (!j_extra) { /* a 422 must name its fields */
        reply_problem(ctx, APP_ERR_INTERNAL, "out of memory");
        return;
    }
    char detail[96];
    snprintf(detail, sizeof detail, "%zu field%s invalid", n, n == 1 ? " is" : "s are");
    reply_problem_extra(ctx, APP_ERR_VALIDATION, detail, j_extra);
}

/* The refusal's rows in the way as a JSON array (new reference; empty when it has none; NULL on OOM). */
static json_t *refusal_items(const app_refusal *why)
{
    json_t *j_items = why->items ? json_loads(why->items, 0, NULL) : NULL;
    if (!json_is_array(j_items)) { json_decref(j_items); j_items = json_array(); }
    return j_items;
}

void reply_refusal(req_ctx *ctx, app_err err, const app_refusal *why, const char *detail)
{
    app_refusal plain = {.err = err};
    if (!why || why->err != err) why = &plain; /* the store failed without a refusal: the code alone */
    if (!detail) detail = why->sentence;
    if (err == APP_ERR_VALIDATION) {
        /* The contract promises errors[] with every validation_failed, database-sourced ones included. */
        verrs v;
        verrs_init(&v);
        verrs_add(&v, why->field ? why->field : "", "%s", detail ? detail : "a value the database cannot store");
        reply_validation(ctx, &v);
        verrs_free(&v);
        return;
    }
    json_t *j_extra = NULL;
    if (err == APP_ERR_BOOKING_CONFLICT) {
        json_t *j_items = refusal_items(why);
        const char *rule = why->rule ? why->rule : "resource_double_booked";
        if (!(j_extra = json_pack("{s:s, s:o}", "rule", rule, "conflicts", j_items))) {
            reply_problem(ctx, APP_ERR_INTERNAL, "out of memory");
            return;
        }
    } else if (err == APP_ERR_UNMITIGATED_RISK) {
        if (!(j_extra = json_pack("{s:o}", "risks", refusal_items(why)))) {
            reply_problem(ctx, APP_ERR_INTERNAL, "out of memory");
            return;
        }
    }
    reply_problem_extra(ctx, err, detail, j_extra);
}

void reply_bad_param(req_ctx *ctx, const char *name, const char *message)
{
    char detail[256];
    snprintf(detail, sizeof detail, "%s: %s", name, message);
    reply_problem_extra(ctx, APP_ERR_INVALID_PARAMETER, detail,
                        json_pack("{s:[{s:s, s:s}]}", "errors", "field", name, "message", message));
}

int require_perm_or_reply(req_ctx *ctx, auth_perm perm)
{
    if (auth_role_can(ctx->claims.role, perm)) return 1;
    char detail[128];
    snprintf(detail, sizeof detail, "the %s role may not do this", auth_role_name(ctx->claims.role));
    reply_problem(ctx, APP_ERR_FORBIDDEN, detail);
    return 0;
}

/* Whether the Content-Type names JSON (or, when allowed, a merge patch) in
 * UTF-8: a charset parameter, when given, must be utf-8 (RFC 8259: JSON is
 * UTF-8; a body declared in another charset would be misread as UTF-8).
 * Parameter names and the charset are case-insensitive and the value may be
 * quoted; other parameters are ignored. */
static int is_json_type(const char *ct, int allow_merge_patch)
{
    if (!ct) return 0;
    size_t n = strcspn(ct, ";");
    size_t end = n;
    while (end && (ct[end - 1] == ' ' || ct[end - 1] == '\t')) end--;
    if (!(end == 16 && strncasecmp(ct, "application/json", 16) == 0) &&
        !(allow_merge_patch && end == 28 && strncasecmp(ct, "application/merge-patch+json", 28) == 0))
        return 0;
    for (const char *p = ct + n; *p == ';';) {
        p++;
        while (*p == ' ' || *p == '\t') p++;
        size_t len = strcspn(p, ";");
        size_t vlen = len;
        while (vlen && (p[vlen - 1] == ' ' || p[vlen - 1] == '\t')) vlen--;
        if (vlen >= 8 && strncasecmp(p, "charset=", 8) == 0) {
            const char *v = p + 8;
            size_t l = vlen - 8;
            if (l >= 2 && v[0] == '"' && v[l - 1] == '"') { v++; l -= 2; }
            if (!(l == 5 && strncasecmp(v, "utf-8", 5) == 0)) return 0;
        }
        p += len;
    }
    return 1;
}

json_t *body_object_or_reply(req_ctx *ctx, int allow_merge_patch)
{
    const struct _u_request *req = ctx->req; /* the wire refused bodies over the size limit already */
    if (!is_json_type(u_map_get_case(req->map_header, "Content-Type"), allow_merge_patch)) {
        reply_problem(ctx, APP_ERR_UNSUPPORTED_MEDIA_TYPE,
                      allow_merge_patch
                          ? "send Content-Type: application/json or application/merge-patch+json, in UTF-8"
                          : "send Content-Type: application/json, in UTF-8");
        return NULL;
    }
    json_error_t jerr;
    json_t *j = NULL;
    if (req->binary_body_length == 0) {
        reply_problem(ctx, APP_ERR_MALFORMED_JSON, "the request body is empty; a JSON object is required");
        return NULL;
    }
    j = json_loadb(req->binary_body, req->binary_body_length, JSON_REJECT_DUPLICATES, &jerr);
    if (!j) {
        char detail[256];
        snprintf(detail, sizeof detail, "invalid JSON at line %d column %d: %s", jerr.line, jerr.column, jerr.text);
        reply_problem(ctx, APP_ERR_MALFORMED_JSON, detail);
        return NULL;
    }
    if (!json_is_object(j)) {
        json_decref(j);
        reply_problem(ctx, APP_ERR_MALFORMED_JSON, "the request body must be a JSON object");
        return NULL;
    }
    return j;
}

int path_uuid_or_reply(req_ctx *ctx, int index, char out[37])
{
    const char *p = ctx->req->url_path;
    int seg = -1;
    while (*p) {
        if (*p == '/') { seg++; p++; continue; }
        size_t len = strcspn(p, "/");
        if (seg == index) {
            if (len == 36) {
                memcpy(out, p, 36);
                out[36] = '\0';
                if (valid_uuid(out)) return 1;
            }
            break;
        }
        p += len;
    }
    reply_bad_param(ctx, "id", "must be a UUID");
    return 0;
}

int query_known_or_reply(req_ctx *ctx, const char *const *allowed)
{
    int repeated;
    const char *bad = query_unknown(&ctx->q, allowed, &repeated);
    if (!bad) return 1;
    reply_bad_param(ctx, bad, repeated ? "given more than once (only list parameters may repeat)"
                                       : "unknown query parameter");
    return 0;
}

int list_params_or_reply(req_ctx *ctx, const char *const *sorts, list_params *out)
{
    memset(out, 0, sizeof *out);
    out->limit = 50;
    const char *s = query_get(&ctx->q, "limit");
    if (s) {
        char *end = NULL;
        long v = strtol(s, &end, 10);
        if (!*s || *end || v < 1 || v > 500 || s[0] == '+' || s[0] == ' ') {
            reply_bad_param(ctx, "limit", "must be an integer from 1 to 500");
            return 0;
        }
        out->limit = (int)v;
    }
    s = query_get(&ctx->q, "sort");
    if (s) {
        out->desc = s[0] == '-';
        int idx = enum_index(sorts, s + out->desc);
        if (idx < 0) {
            char msg[256] = "must be one of:";
            for (int i = 0; sorts[i]; i++) {
                strncat(msg, i ? ", " : " ", sizeof msg - strlen(msg) - 1);
                strncat(msg, sorts[i], sizeof msg - strlen(msg) - 1);
            }
            strncat(msg, " (prefix - for descending)", sizeof msg - strlen(msg) - 1);
            reply_bad_param(ctx, "sort", msg);
            return 0;
        }
        out->sort = idx;
    }
    s = query_get(&ctx->q, "cursor");
    if (s) {
        char sortname[64];
        snprintf(sortname, sizeof sortname, "%s%s", out->desc ? "-" : "", sorts[out->sort]);
        int rc = cursor_decode(s, sortname, &out->cursor_key, &out->cursor_id);
        if (rc == -2) {
            reply_problem(ctx, APP_ERR_INTERNAL, "out of memory");
            return 0;
        }
        if (rc != 0) {
            reply_problem(ctx, APP_ERR_INVALID_CURSOR,
                          "the cursor is not one this service returned for this sort; start again without it");
            return 0;
        }
    }
    return 1;
}

void list_params_free(list_params *lp)
{
    free(lp->cursor_key);
    free(lp->cursor_id);
    lp->cursor_key = lp->cursor_id = NULL;
}

void reply_list(req_ctx *ctx, char **items, size_t n, const char *sort_name, int desc, const char *next_key,
                const char *next_id)
{
    size_t total = 64;
    for (size_t i = 0; i < n; i++) total += strlen(items[i]) + 1;
    char *cursor = NULL;
    if (next_key && next_id) {
        char sortname[64];
        snprintf(sortname, sizeof sortname, "%s%s", desc ? "-" : "", sort_name);
        /* Without its cursor the page would read as the last one. */
        if (!(cursor = cursor_encode(sortname, next_key, next_id))) {
            reply_problem(ctx, APP_ERR_INTERNAL, "out of memory");
            return;
        }
        total += strlen(cursor);
    }
    char *buf = malloc(total);
    if (!buf) { free(cursor); reply_problem(ctx, APP_ERR_INTERNAL, "out of memory"); return; }
    char *p = stpcpy(buf, "{\"items\":[");
    for (size_t i = 0; i < n; i++) {
        if (i) *p++ = ',';
        p = stpcpy(p, items[i]);
    }
    p = stpcpy(p, "],\"next_cursor\":");
    if (cursor) {
        *p++ = '"';
        p = stpcpy(p, cursor);
        *p++ = '"';
    } else {
        p = stpcpy(p, "null");
    }
    stpcpy(p, "}");
    reply_json_text(ctx, 200, buf);
    free(buf);
    free(cursor);
}

void etag_format(int version, char out[24]) { snprintf(out, 24, "\"%d\"", version); }

int etag_matches(const char *header, const char *etag)
{
    if (!header) return 0;
    size_t elen = strlen(etag);
    const char *p = header;
    while (*p) {
        while (*p == ' ' || *p == ',') p++;
        if (*p == '*') return 1;
        if (strncmp(p, "W/", 2) == 0) p += 2; /* weak comparison for If-None-Match */
        size_t len = strcspn(p, ",");
        while (len && p[len - 1] == ' ') len--;
        if (len == elen && strncmp(p, etag, elen) == 0) return 1;
        p += strcspn(p, ",");
    }
    return 0;
}

int enum_list_or_reply(req_ctx *ctx, const char *name, const char *const *values, char **out)
{
    *out = NULL;
    const char *list = query_get(&ctx->q, name);
    if (!list) return 1;
    size_t cap = strlen(list) + 3;
    char *arr = malloc(cap), *copy = strdup(list), *save = NULL;
    if (!arr || !copy) { free(arr); free(copy); reply_problem(ctx, APP_ERR_INTERNAL, NULL); return 0; }
    strcpy(arr, "{");
    int n = 0, bad = 0;
    for (char *tok = strtok_r(copy, ",", &save); tok && !bad; tok = strtok_r(NULL, ",", &save)) {
        if (enum_index(values, tok) < 0) bad = 1;
        else {
            if (n++) strcat(arr, ",");
            strcat(arr, tok);
        }
    }
    strcat(arr, "}");
    free(copy);
    if (bad || n == 0) {
        char msg[256] = "must be one or more of: ";
        for (int i = 0; values[i]; i++) {
            strncat(msg, i ? ", " : "", sizeof msg - strlen(msg) - 1);
            strncat(msg, values[i], sizeof msg - strlen(msg) - 1);
        }
        free(arr);
        reply_bad_param(ctx, name, msg);
        return 0;
    }
    *out = arr;
    return 1;
}

/* A date (midnight UTC) or an RFC 3339 date-time, as microseconds since the epoch. */
static int instant(const char *s, long long *us)
{
    char buf[32];
    if (valid_date(s)) {
        snprintf(buf, sizeof buf, "%sT00:00:00Z", s);
        return valid_timestamp(buf, us);
    }
    return valid_timestamp(s, us);
}

int window_params_or_reply(req_ctx *ctx, const char *from, const char *to)
{
    long long f = 0, t = 0;
    if (from && !instant(from, &f)) {
        reply_bad_param(ctx, "from", "must be a date YYYY-MM-DD or an RFC 3339 date-time with an offset");
        return 0;
    }
    if (to && !instant(to, &t)) {
        reply_bad_param(ctx, "to", "must be a date YYYY-MM-DD or an RFC 3339 date-time with an offset");
        return 0;
    }
    if (from && to && t <= f) {
        reply_bad_param(ctx, "to", "must be after from");
        return 0;
    }
    return 1;
}

int bounded_window_or_reply(req_ctx *ctx, const char *from, const char *to, int max_days)
{
    if (!from || !to) {
        reply_bad_param(ctx, from ? "to" : "from", "is required: the window is [from, to)");
        return 0;
    }
    if (!window_params_or_reply(ctx, from, to)) return 0;
    long long f = 0, t = 0;
    instant(from, &f);
    instant(to, &t);
    if (t - f > (long long)max_days * 86400LL * 1000000LL) {
        char msg[96];
        snprintf(msg, sizeof msg, "the window may span at most %d days", max_days);
        reply_bad_param(ctx, "to", msg);
        return 0;
    }
    return 1;
}
