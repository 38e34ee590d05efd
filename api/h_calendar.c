/* h_calendar.c — the shared calendar: GET /v1/calendar (JSON for front ends),
 * GET /v1/calendar.ics (an iCalendar feed for Google Calendar, Outlook …) and
 * the read-only feed tokens that open that feed from a subscription URL. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "calendar.h"
#include "calendar_store.h"
#include "crud.h"
#include "handlers.h"
#include "ical.h"
#include "respond.h"
#include "tx.h"

#define CALENDAR_DEFAULT_LIMIT 1000
#define CALENDAR_MAX_LIMIT 5000
#define FEED_ID_SEGMENT 3 /* /v1/calendar/feed-tokens/<id> */
/* The item types shown when none are named: every type, but risks only to a role that may read them. */
#define TYPES_ALL "{campaign,booking,availability,key_event,risk}"
#define TYPES_WITHOUT_RISKS "{campaign,booking,availability,key_event}"

/* Whether the item types list types ("{a,b}") names type. */
static int types_name(const char *types, const char *type)
{
    size_t n = strlen(type);
    for (const char *p = types; (p = strstr(p, type)) != NULL; p += n)
        if ((p[-1] == '{' || p[-1] == ',') && (p[n] == '}' || p[n] == ',')) return 1;
    return 0;
}

/* Reads the filter parameters shared by the calendar and its feed into f
 * (types malloc'd into *types). 0 after replying. */
static int filter_params_or_reply(req_ctx *ctx, calendar_filter *f, char **types)
{
    f->resource_id = query_get(&ctx->q, "resource_id");
    f->segment_id = query_get(&ctx->q, "segment_id");
    f->channel = query_get(&ctx->q, "channel");
    f->owner = query_get(&ctx->q, "owner");
    if (f->resource_id && !valid_uuid(f->resource_id)) {
        reply_bad_param(ctx, "resource_id", "must be a UUID");
        return 0;
    }
    if (f->segment_id && !valid_uuid(f->segment_id)) {
        reply_bad_param(ctx, "segment_id", "must be a UUID");
        return 0;
    }
    if (f->channel && (utf8_length(f->channel) > 50 || !valid_text_chars(f->channel, 0))) {
        reply_bad_param(ctx, "channel", "must be at most 50 characters without control characters");
        return 0;
    }
    if (f->owner && (utf8_length(f->owner) > 255 || !valid_text_chars(f->owner, 0))) {
        reply_bad_param(ctx, "owner", "must be at most 255 characters without control characters");
        return 0;
    }
    if (!enum_list_or_reply(ctx, "types", calendar_item_types, types)) return 0;
    int risks = auth_role_can(ctx->claims.role, PERM_RISK_READ);
    if (*types && types_name(*types, "risk") && !require_perm_or_reply(ctx, PERM_RISK_READ)) return 0;
    f->types = *types ? *types : risks ? TYPES_ALL : TYPES_WITHOUT_RISKS;
    return 1;
}

/* The calendar item a front end draws, from one row. New reference; NULL when out of memory. */
static json_t *item_json(const calendar_rows *r, size_t i)
{
    const char *type = calendar_cell(r, i, CAL_TYPE), *id = calendar_cell(r, i, CAL_ID);
    const char *campaign = calendar_cell(r, i, CAL_CAMPAIGN_ID), *resource = calendar_cell(r, i, CAL_RESOURCE_ID);
    const char *segment = calendar_cell(r, i, CAL_SEGMENT_ID), *status = calendar_cell(r, i, CAL_STATUS);
    char link[128];
    json_t *j_links = json_object();
    int ok = j_links != NULL;
    if (ok && strcmp(type, "availability") != 0) {
        snprintf(link, sizeof link, "/v1/%s/%s",
                 type[0] == 'c'   ? "campaigns"
                 : type[0] == 'b' ? "bookings"
                 : type[0] == 'r' ? "risks"
                                  : "key-events",
                 id);
        ok = json_object_set_new(j_links, "self", json_string(link)) == 0;
    }
    if (ok && campaign) {
        snprintf(link, sizeof link, "/v1/campaigns/%s", campaign);
        ok = json_object_set_new(j_links, "campaign", json_string(link)) == 0;
    }
    if (ok && resource) {
        snprintf(link, sizeof link, "/v1/resources/%s", resource);
        ok = json_object_set_new(j_links, "resource", json_string(link)) == 0;
    }
    if (!ok) {
        json_decref(j_links);
        return NULL;
    }
    return json_pack("{s:s, s:s, s:s, s:s, s:s, s:b, s:s?, s:s, s:s, s:s?, s:s?, s:s?, s:o}", "type", type, "id", id,
                     "title", calendar_cell(r, i, CAL_TITLE), "start", calendar_cell(r, i, CAL_START), "end",
                     calendar_cell(r, i, CAL_END), "all_day", calendar_cell(r, i, CAL_ALL_DAY)[0] == 't', "status",
                     status, "kind", calendar_cell(r, i, CAL_KIND), "colour",
                     calendar_colour(type, calendar_cell(r, i, CAL_COLOUR_KEY)), "campaign_id", campaign,
                     "resource_id", resource, "segment_id", segment, "links", j_links);
}

void h_calendar(req_ctx *ctx)
{
    static const char *const allowed[] = {"from",  "to",    "resource_id", "segment_id",        "channel",
                                          "owner", "types[]", "limit",     "include_cancelled", NULL};
    calendar_filter f = {0};
    calendar_rows rows = {0};
    char *types = NULL;
    db_conn *conn = NULL;
    json_t *j_items = NULL;
    if (!require_perm_or_reply(ctx, PERM_CALENDAR_READ) || !query_known_or_reply(ctx, allowed)) return;
    f.from = query_get(&ctx->q, "from");
    f.to = query_get(&ctx->q, "to");
    if (!bounded_window_or_reply(ctx, f.from, f.to, CALENDAR_MAX_DAYS) || !filter_params_or_reply(ctx, &f, &types))
        goto out;
    const char *limit_s = query_get(&ctx->q, "limit"), *cancelled = query_get(&ctx->q, "include_cancelled");
    int limit = CALENDAR_DEFAULT_LIMIT;
    if (limit_s) {
        char *end = NULL;
        long l = strtol(limit_s, &end, 10);
        if (!*limit_s || *end || l < 1 || l > CALENDAR_MAX_LIMIT) {
            reply_bad_param(ctx, "limit", "must be an integer from 1 to 5000");
            goto out;
        }
        limit = (int)l;
    }
    if (cancelled && strcmp(cancelled, "true") != 0 && strcmp(cancelled, "false") != 0) {
        reply_bad_param(ctx, "include_cancelled", "must be true or false");
        goto out;
    }
    f.include_cancelled = cancelled && strcmp(cancelled, "true") == 0;
    app_err e = db_acquire(ctx->app->pool, &conn);
    if (!e) e = calendar_store_items(conn, ctx->claims.org, &f, limit, &rows);
    db_release(ctx->app->pool, conn);
    if (e) { reply_problem(ctx, e, NULL); goto out; }
    j_items = json_array();
    for (size_t i = 0; j_items && i < rows.n; i++)
        if (json_array_append_new(j_items, item_json(&rows, i)) != 0) { /* no item left out silently */
            json_decref(j_items);
            j_items = NULL;
        }
    json_t *j_out = !j_items ? NULL
                             : json_pack("{s:s, s:s, s:s, s:O, s:b}", "from", f.from, "to", f.to, "time_zone",
                                         rows.time_zone, "items", j_items, "truncated", rows.truncated);
    if (!j_out) reply_problem(ctx, APP_ERR_INTERNAL, NULL);
    else reply_json(ctx, 200, j_out);
    json_decref(j_out);
out:
    json_decref(j_items);
    calendar_rows_free(&rows);
    free(types);
}

/* A feed token's filters (JSON object text) into f; types malloc'd into *types.
 * -1 when out of memory (the caller refuses: a token is never widened). */
static int token_filters(json_t *j_filters, calendar_filter *f, char **types)
{
    f->resource_id = json_string_value(json_object_get(j_filters, "resource_id"));
    f->segment_id = json_string_value(json_object_get(j_filters, "segment_id"));
    f->channel = json_string_value(json_object_get(j_filters, "channel"));
    f->owner = json_string_value(json_object_get(j_filters, "owner"));
    json_t *j_types = json_object_get(j_filters, "types"), *j_t;
    size_t i, cap = 2;
    json_array_foreach(j_types, i, j_t) cap += strlen(json_string_value(j_t)) + 1;
    if (json_array_size(j_types) > 0) {
        if (!(*types = malloc(cap))) return -1;
        strcpy(*types, "{");
        json_array_foreach(j_types, i, j_t) {
            if (i) strcat(*types, ",");
            strcat(*types, json_string_value(j_t));
        }
        strcat(*types, "}");
    }
    f->types = *types ? *types : TYPES_ALL; /* made by a role that may not read risks, it names its types */
    return 0;
}

static void utc_text(time_t t, char out[32])
{
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static int valid_feed_token(const char *t)
{
    if (strncmp(t, "cfeed_", 6) != 0 || strlen(t) != 70) return 0;
    return strspn(t + 6, "0123456789abcdef") == 64;
}

/* Who may read the feed: a calendar reader's bearer token, or a live feed
 * token (whose filters then replace the query's). 0 after replying. */
static int feed_caller_or_reply(req_ctx *ctx, db_conn **conn, calendar_filter *f, char **types, json_t **j_filters)
{
    static const char *const filter_names[] = {"resource_id", "segment_id", "channel", "owner", "types", NULL};
    const char *token = query_get(&ctx->q, "token");
    if (!token) {
        if (!mw_auth(ctx) || !require_perm_or_reply(ctx, PERM_CALENDAR_READ)) return 0;
        return filter_params_or_reply(ctx, f, types);
    }
    for (int i = 0; filter_names[i]; i++)
        if (query_get(&ctx->q, filter_names[i])) {
            reply_bad_param(ctx, filter_names[i], "a feed token carries its own filters; leave this out");
            return 0;
        }
    if (!valid_feed_token(token)) {
        reply_problem(ctx, APP_ERR_UNAUTHORIZED, "the feed token is unknown or revoked");
        return 0;
    }
    char *filters = NULL;
    app_err e = db_acquire(ctx->app->pool, conn);
    if (!e) e = feed_token_store_lookup(*conn, token, ctx->claims.org, &filters);
    if (e) {
        reply_problem(ctx, e == APP_ERR_NOT_FOUND ? APP_ERR_UNAUTHORIZED : e,
                      e == APP_ERR_NOT_FOUND ? "the feed token is unknown or revoked" : NULL);
        return 0;
    }
    *j_filters = json_loads(filters, 0, NULL);
    free(filters);
    if (!json_is_object(*j_filters)) { /* never widen a token to the whole calendar */
        reply_problem(ctx, APP_ERR_INTERNAL, NULL);
        return 0;
    }
    if (token_filters(*j_filters, f, types) != 0) {
        reply_problem(ctx, APP_ERR_INTERNAL, NULL);
        return 0;
    }
    return 1;
}

void h_calendar_ics(req_ctx *ctx)
{
    static const char *const allowed[] = {"token", "from",  "to",   "resource_id", "segment_id",
                                          "channel", "owner", "types[]", NULL};
    calendar_filter f = {0};
    calendar_rows rows = {0};
    char *types = NULL, from_default[32], to_default[32];
    db_conn *conn = NULL;
    json_t *j_filters = NULL;
    ical_buf b;
    ical_buf_init(&b);
    if (!query_known_or_reply(ctx, allowed)) return;
    time_t now = time(NULL);
    utc_text(now - 30 * 86400, from_default);
    utc_text(now - 30 * 86400 + (time_t)(CALENDAR_MAX_DAYS - 1) * 86400, to_default);
    f.from = query_get(&ctx->q, "from");
    f.to = query_get(&ctx->q, "to");
    if (!f.from) f.from = from_default;
    if (!f.to) f.to = to_default;
    if (!bounded_window_or_reply(ctx, f.from, f.to, CALENDAR_MAX_DAYS)) goto out;
    if (!feed_caller_or_reply(ctx, &conn, &f, &types, &j_filters)) goto out;
    f.include_cancelled = 1; /* subscribers learn of a cancellation from STATUS:CANCELLED */
    app_err e = conn ? APP_OK : db_acquire(ctx->app->pool, &conn);
    if (!e) e = calendar_store_items(conn, ctx->claims.org, &f, CALENDAR_MAX_LIMIT, &rows);
    if (e) { reply_problem(ctx, e, NULL); goto out; }
    ical_calendar_begin(&b, "campaignd calendar");
    for (size_t i = 0; i < rows.n; i++) {
        const char *type = calendar_cell(&rows, i, CAL_TYPE);
        char uid[128];
        snprintf(uid, sizeof uid, "%s-%s@campaignd", type, calendar_cell(&rows, i, CAL_ID));
        ical_event ev = {
            .uid = uid,
            .dtstamp = calendar_cell(&rows, i, CAL_STAMP),
            .start = calendar_cell(&rows, i, CAL_ICS_START),
            .end = calendar_cell(&rows, i, CAL_ICS_END),
            .all_day = calendar_cell(&rows, i, CAL_ALL_DAY)[0] == 't',
            .sequence = atoi(calendar_cell(&rows, i, CAL_SEQUENCE)),
            .status = calendar_ics_status(type, calendar_cell(&rows, i, CAL_STATUS)),
            .summary = calendar_cell(&rows, i, CAL_TITLE),
            .description = calendar_cell(&rows, i, CAL_DESCRIPTION),
            .categories = type,
        };
        ical_event_write(&b, &ev);
    }
    ical_calendar_end(&b);
    if (b.failed) { reply_problem(ctx, APP_ERR_INTERNAL, NULL); goto out; }
    char etag[24];
    ical_etag(&b, etag);
    reply_header(ctx, "ETag", etag);
    reply_header(ctx, "Cache-Control", "private, max-age=300");
    if (etag_matches(u_map_get_case(ctx->req->map_header, "If-None-Match"), etag)) {
        reply_empty(ctx, 304); /* subscribers poll: an unchanged calendar costs no body */
        goto out;
    }
    ctx->status = 200;
    ulfius_set_binary_body_response(ctx->resp, 200, b.data, b.len);
    reply_header(ctx, "Content-Type", "text/calendar; charset=utf-8");
    if (rows.truncated) reply_header(ctx, "X-Calendar-Truncated", "true");
out:
    db_release(ctx->app->pool, conn);
    ical_buf_free(&b);
    json_decref(j_filters);
    calendar_rows_free(&rows);
    free(types);
}

/* A feed token shows only what its creator may read: one made by a role that may not read risks names its
 * types without risk (every other type, when the body named none), and asking for risks is 403. 0 after
 * replying. */
static int feed_types_for_role_or_reply(req_ctx *ctx, json_t *j_body)
{
    if (auth_role_can(ctx->claims.role, PERM_RISK_READ)) return 1;
    json_t *j_filters = json_object_get(j_body, "filters"), *j_types = json_object_get(j_filters, "types"), *j_t;
    size_t i;
    json_array_foreach(j_types, i, j_t) {
        if (strcmp(json_string_value(j_t), "risk") == 0) return require_perm_or_reply(ctx, PERM_RISK_READ);
    }
    if (j_types) return 1;
    if (!j_filters && json_object_set_new(j_body, "filters", j_filters = json_object()) != 0) j_filters = NULL;
    if (!j_filters || json_object_set_new(j_filters, "types", json_pack("[s,s,s,s]", "campaign", "booking",
                                                                        "availability", "key_event")) != 0) {
        reply_problem(ctx, APP_ERR_INTERNAL, NULL);
        return 0;
    }
    return 1;
}

void h_feed_token_create(req_ctx *ctx)
{
    json_t *j_body = NULL, *j_doc = NULL;
    char *json = NULL, *text = NULL, *out_text = NULL, id[37], location[96], token[71], url[128];
    verrs v;
    verrs_init(&v);
    write_tx tx;
    if (!require_perm_or_reply(ctx, PERM_CALENDAR_READ) || !query_known_or_reply(ctx, (const char *[]){NULL}))
        goto out;
    if (!(j_body = body_object_or_reply(ctx, 0))) goto out;
    if (feed_token_validate(j_body, &v)) { reply_validation(ctx, &v); goto out; }
    if (!feed_types_for_role_or_reply(ctx, j_body)) goto out;
    if (!(text = json_dumps(j_body, JSON_COMPACT))) { reply_problem(ctx, APP_ERR_INTERNAL, NULL); goto out; }
    if (calendar_feed_token_new(token) != 0) { reply_problem(ctx, APP_ERR_INTERNAL, NULL); goto out; }
    if (!tx_begin_or_reply(ctx, &tx, j_body)) goto out;
    json_t *j_filters = json_object_get(j_body, "filters");
    int resource_found = 1, segment_found = 1;
    app_err e = feed_token_store_refs(tx.conn, ctx->claims.org,
                                      json_string_value(json_object_get(j_filters, "resource_id")),
                                      json_string_value(json_object_get(j_filters, "segment_id")), &resource_found,
                                      &segment_found);
    if (e) { tx_fail_reply(ctx, &tx, e, NULL, NULL); goto out; }
    if (!resource_found) verrs_add(&v, "filters.resource_id", "no such resource in your organisation");
    if (!segment_found) verrs_add(&v, "filters.segment_id", "no such segment in your organisation");
    if (verrs_count(&v)) { tx_abort(ctx, &tx); reply_validation(ctx, &v); goto out; }
    app_refusal why = {0};
    e = feed_token_store_insert(tx.conn, ctx->claims.org, ctx->claims.sub, token, text, &json, id, &why);
    if (!e && !(j_doc = json_loads(json, 0, NULL))) e = APP_ERR_INTERNAL;
    if (e) { tx_refused_reply(ctx, &tx, e, &why, NULL); goto out; }
    /* The token is shown once, here (never a 201 without it); only its SHA-256 is stored. */
    snprintf(url, sizeof url, "/v1/calendar.ics?token=%s", token);
    if (json_object_set_new(j_doc, "token", json_string(token)) != 0 ||
        json_object_set_new(j_doc, "feed_url", json_string(url)) != 0 ||
        !(out_text = json_dumps(j_doc, JSON_COMPACT))) {
        tx_fail_reply(ctx, &tx, APP_ERR_INTERNAL, NULL, NULL);
        goto out;
    }
    snprintf(location, sizeof location, "/v1/calendar/feed-tokens/%s", id);
    tx_commit_reply(ctx, &tx, 201, location, out_text);
out:
    free(json);
    free(text);
    free(out_text);
    json_decref(j_body);
    json_decref(j_doc);
    verrs_free(&v);
}

/* An admin sees and revokes everyone's feed tokens; anyone else their own. */
static const char *token_owner_scope(const req_ctx *ctx)
{
    return auth_role_can(ctx->claims.role, PERM_FEED_TOKEN_ANY) ? NULL : ctx->claims.sub;
}

static int token_filters_or_reply(req_ctx *ctx, crud_filter *f)
{
    const char *revoked = query_get(&ctx->q, "include_revoked");
    if (revoked && strcmp(revoked, "true") != 0 && strcmp(revoked, "false") != 0) {
        reply_bad_param(ctx, "include_revoked", "must be true or false");
        return 0;
    }
    f->v[0] = token_owner_scope(ctx);
    f->v[1] = revoked;
    return 1;
}

static app_err token_list(db_conn *conn, const char *org, const crud_filter *f, const list_params *lp,
                          list_result *out)
{
    return feed_token_store_list(conn, org, f->v[0], f->v[1] && f->v[1][0] == 't', lp->sort, lp->desc,
                                 lp->cursor_key, lp->cursor_id, lp->limit, out);
}

/* Feed tokens are listed like any collection; creating one mints its secret and revoking one keeps it (below),
 * and a token has no version, so neither goes through crud_create or crud_delete. */
static const crud_desc feed_token_crud = {
    .name = "feed token",
    .read = PERM_CALENDAR_READ,
    .query_params = (const char *const[]){"include_revoked", NULL},
    .sorts = feed_token_sort_names,
    .filters_or_reply = token_filters_or_reply,
    .list = token_list,
};

void h_feed_token_list(req_ctx *ctx) { crud_list(ctx, &feed_token_crud); }

void h_feed_token_delete(req_ctx *ctx)
{
    char id[37];
    write_tx tx;
    if (!require_perm_or_reply(ctx, PERM_CALENDAR_READ) || !query_known_or_reply(ctx, (const char *[]){NULL}) ||
        !path_uuid_or_reply(ctx, FEED_ID_SEGMENT, id))
        return;
    if (!tx_begin_or_reply(ctx, &tx, NULL)) return;
    app_refusal why = {0};
    app_err e = feed_token_store_revoke(tx.conn, ctx->claims.org, id, token_owner_scope(ctx), &why);
    if (e) tx_refused_reply(ctx, &tx, e, &why, e == APP_ERR_NOT_FOUND ? "no feed token of yours with this id" : NULL);
    else tx_commit_reply(ctx, &tx, 204, NULL, NULL);
}
