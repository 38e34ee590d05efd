/* auth.c — see auth.h. */
#include "auth.h"

#include <jansson.h>
#include <jwt.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const char *const role_names[ROLE__COUNT] = {
    [ROLE_ADMIN] = "admin",       [ROLE_MANAGER] = "manager",         [ROLE_PLANNER] = "planner",
    [ROLE_APPROVER] = "approver", [ROLE_ANALYST] = "analyst",         [ROLE_INTEGRATION] = "integration",
    [ROLE_VIEWER] = "viewer",
};

#define P(x) (1ull << (x))
_Static_assert(PERM__COUNT <= 64, "the role table holds 64 permissions");
/* The role matrix of SPEC §5, as far as the routes built so far need it. */
static const unsigned long long role_perms[ROLE__COUNT] = {
    [ROLE_ADMIN] = P(PERM_CAMPAIGN_READ) | P(PERM_CAMPAIGN_CREATE) | P(PERM_CAMPAIGN_WRITE_ANY) |
                   P(PERM_CAMPAIGN_WRITE_OWN) | P(PERM_SEGMENT_READ) | P(PERM_SEGMENT_WRITE) | P(PERM_RESOURCE_READ) |
                   P(PERM_RESOURCE_WRITE) | P(PERM_BOOKING_READ) | P(PERM_BOOKING_WRITE_ANY) |
                   P(PERM_BOOKING_WRITE_OWN) | P(PERM_CALENDAR_READ) | P(PERM_KEY_EVENT_WRITE) |
                   P(PERM_FEED_TOKEN_ANY) | P(PERM_WORKFLOW_READ) | P(PERM_WORKFLOW_WRITE) | P(PERM_APPROVAL_READ) |
                   P(PERM_RISK_READ) | P(PERM_KPI_READ) | P(PERM_MEASUREMENT_READ) | P(PERM_MEASUREMENT_WRITE_ANY) |
                   P(PERM_MEASUREMENT_DELETE) | P(PERM_SETTINGS_READ) | P(PERM_SETTINGS_WRITE) |
                   P(PERM_CONFLICT_READ) | P(PERM_CONFLICT_FORCE) | P(PERM_WEBHOOK_ADMIN) |
                   P(PERM_AUDIT_READ) | P(PERM_FORECAST),
    [ROLE_MANAGER] = P(PERM_CAMPAIGN_READ) | P(PERM_CAMPAIGN_CREATE) | P(PERM_CAMPAIGN_WRITE_ANY) |
                     P(PERM_CAMPAIGN_WRITE_OWN) | P(PERM_SEGMENT_READ) | P(PERM_SEGMENT_WRITE) |
                     P(PERM_RESOURCE_READ) | P(PERM_RESOURCE_WRITE) | P(PERM_BOOKING_READ) |
                     P(PERM_BOOKING_WRITE_ANY) | P(PERM_BOOKING_WRITE_OWN) | P(PERM_CALENDAR_READ) |
                     P(PERM_KEY_EVENT_WRITE) | P(PERM_WORKFLOW_READ) | P(PERM_APPROVAL_READ) | P(PERM_RISK_READ) |
                     P(PERM_KPI_READ) | P(PERM_MEASUREMENT_READ) | P(PERM_MEASUREMENT_WRITE_ANY) |
                     P(PERM_MEASUREMENT_DELETE) | P(PERM_SETTINGS_READ) | P(PERM_CONFLICT_READ) |
                     P(PERM_CONFLICT_FORCE) | P(PERM_AUDIT_READ) | P(PERM_FORECAST),
    [ROLE_PLANNER] = P(PERM_CAMPAIGN_READ) | P(PERM_CAMPAIGN_CREATE) | P(PERM_CAMPAIGN_WRITE_OWN) |
                     P(PERM_SEGMENT_READ) | P(PERM_RESOURCE_READ) | P(PERM_BOOKING_READ) | P(PERM_BOOKING_WRITE_OWN) |
                     P(PERM_CALENDAR_READ) | P(PERM_WORKFLOW_READ) | P(PERM_APPROVAL_READ) | P(PERM_RISK_READ) |
                     P(PERM_KPI_READ) | P(PERM_MEASUREMENT_READ) | P(PERM_MEASUREMENT_WRITE_OWN) |
                     P(PERM_SETTINGS_READ) | P(PERM_CONFLICT_READ) | P(PERM_FORECAST),
    [ROLE_APPROVER] = P(PERM_CAMPAIGN_READ) | P(PERM_SEGMENT_READ) | P(PERM_RESOURCE_READ) | P(PERM_BOOKING_READ) |
                      P(PERM_CALENDAR_READ) | P(PERM_WORKFLOW_READ) | P(PERM_APPROVAL_READ) | P(PERM_RISK_READ) |
                      P(PERM_RISK_ANNOTATE) | P(PERM_KPI_READ) | P(PERM_MEASUREMENT_READ) | P(PERM_SETTINGS_READ) |
                      P(PERM_CONFLICT_READ),
    [ROLE_ANALYST] = P(PERM_CAMPAIGN_READ) | P(PERM_SEGMENT_READ) | P(PERM_RESOURCE_READ) | P(PERM_BOOKING_READ) |
                     P(PERM_CALENDAR_READ) | P(PERM_WORKFLOW_READ) | P(PERM_APPROVAL_READ) | P(PERM_RISK_READ) |
                     P(PERM_KPI_READ) | P(PERM_MEASUREMENT_READ) | P(PERM_MEASUREMENT_WRITE_ANY) |
                     P(PERM_SETTINGS_READ) | P(PERM_CONFLICT_READ) | P(PERM_FORECAST),
    /* SPEC §5: an integration reads campaigns, the calendar and bookings and ingests measurements (the KPI
     * catalogue names what it may push); nothing else. */
    [ROLE_INTEGRATION] = P(PERM_CAMPAIGN_READ) | P(PERM_BOOKING_READ) | P(PERM_CALENDAR_READ) | P(PERM_KPI_READ) |
                         P(PERM_MEASUREMENT_WRITE_ANY),
    [ROLE_VIEWER] = P(PERM_CAMPAIGN_READ) | P(PERM_SEGMENT_READ) | P(PERM_RESOURCE_READ) | P(PERM_BOOKING_READ) |
                    P(PERM_CALENDAR_READ) | P(PERM_WORKFLOW_READ) | P(PERM_APPROVAL_READ) | P(PERM_RISK_READ) |
                    P(PERM_KPI_READ) | P(PERM_MEASUREMENT_READ) | P(PERM_SETTINGS_READ) | P(PERM_CONFLICT_READ),
};
#undef P

int auth_role_can(auth_role role, auth_perm perm)
{
    if ((int)role < 0 || role >= ROLE__COUNT || (int)perm < 0 || perm >= PERM__COUNT) return 0;
    return (role_perms[role] >> perm) & 1ull;
}

int auth_role_from_name(const char *name, auth_role *out)
{
    for (int i = 0; i < ROLE__COUNT; i++)
        if (strcmp(name, role_names[i]) == 0) { *out = (auth_role)i; return 0; }
    return -1;
}

const char *auth_role_name(auth_role role)
{
    return ((int)role >= 0 && role < ROLE__COUNT) ? role_names[role] : "unknown";
}

int auth_alg_from_name(const char *name, auth_alg *out)
{
    if (strcmp(name, "HS256") == 0) *out = AUTH_ALG_HS256;
    else if (strcmp(name, "RS256") == 0) *out = AUTH_ALG_RS256;
    else if (strcmp(name, "ES256") == 0) *out = AUTH_ALG_ES256;
    else return -1;
    return 0;
}

const char *auth_alg_name(auth_alg alg)
{
    switch (alg) {
    case AUTH_ALG_HS256: return "HS256";
    case AUTH_ALG_RS256: return "RS256";
    case AUTH_ALG_ES256: return "ES256";
    }
    return "?";
}

static jwt_alg_t to_jwt_alg(auth_alg alg)
{
    switch (alg) {
    case AUTH_ALG_HS256: return JWT_ALG_HS256;
    case AUTH_ALG_RS256: return JWT_ALG_RS256;
    case AUTH_ALG_ES256: return JWT_ALG_ES256;
    }
    return JWT_ALG_INVAL;
}

int auth_org_valid(const char *org)
{
    size_t n = strlen(org);
    if (n == 0 || n > AUTH_ORG_MAX) return 0;
    for (size_t i = 0; i < n; i++) {
        char c = org[i];
        int alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
        if (!alnum && (i == 0 || (c != '.' && c != '_' && c != '-'))) return 0;
    }
    return 1;
}

const char *auth_err_message(auth_err err)
{
    switch (err) {
    case AUTH_OK: return "ok";
    case AUTH_ERR_MISSING: return "a bearer token is required (Authorization: Bearer <token>)";
    case AUTH_ERR_TOO_LONG: return "the token is too long";
    case AUTH_ERR_MALFORMED: return "the token is not a well-formed JWT";
    case AUTH_ERR_ALG: return "the token is signed with an algorithm this service does not accept";
    case AUTH_ERR_SIGNATURE: return "the token signature is invalid";
    case AUTH_ERR_EXPIRED: return "the token has expired";
    case AUTH_ERR_NOT_YET_VALID: return "the token is not valid yet (nbf)";
    case AUTH_ERR_ISSUED_IN_FUTURE: return "the token was issued in the future (iat)";
    case AUTH_ERR_ISSUER: return "the token issuer (iss) is not accepted";
    case AUTH_ERR_AUDIENCE: return "the token audience (aud) does not include this service";
    case AUTH_ERR_CLAIMS: return "the token lacks a valid sub, org or exp claim";
    case AUTH_ERR_ROLE: return "the token role is not one of admin, manager, planner, approver, analyst, integration, viewer";
    case AUTH_ERR_SIGNING: return "the token could not be signed";
    }
    return "invalid token";
}

/* Decodes base64url text (no padding) of length len into a new NUL-terminated
 * buffer; returns NULL on any character outside the alphabet. */
static char *b64url_decode(const char *s, size_t len, size_t *out_len)
{
    if (len % 4 == 1) return NULL;
    char *out = malloc(len * 3 / 4 + 3);
    if (!out) return NULL;
    unsigned acc = 0;
    int bits = 0;
    size_t n = 0;
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        int v;
        if (c >= 'A' && c <= 'Z') v = c - 'A';
        else if (c >= 'a' && c <= 'z') v = c - 'a' + 26;
        else if (c >= '0' && c <= '9') v = c - '0' + 52;
        else if (c == '-') v = 62;
        else if (c == '_') v = 63;
        else { free(out); return NULL; }
        acc = (acc << 6) | (unsigned)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out[n++] = (char)((acc >> bits) & 0xFF);
        }
    }
    out[n] = '\0';
    *out_len = n;
    return out;
}

/* Parses one base64url JSON-object segment; returns a new reference or NULL. */
static json_t *segment_object(const char *s, size_t len)
{
    size_t n = 0;
    char *raw = b64url_decode(s, len, &n);
    if (!raw) return NULL;
    json_t *j = json_loadb(raw, n, JSON_REJECT_DUPLICATES, NULL);
    free(raw);
    if (j && !json_is_object(j)) { json_decref(j); j = NULL; }
    return j;
}

/* Reads a NumericDate claim; returns 1 if present and valid, 0 if absent, -1 if malformed. */
static int numeric_date(json_t *j_payload, const char *name, long long *out)
{
    json_t *j = json_object_get(j_payload, name);
    if (!j) return 0;
    if (json_is_integer(j)) { *out = json_integer_value(j); return 1; }
    if (json_is_real(j)) {
        double d = json_real_value(j);
        if (d < -1e15 || d > 1e15) return -1;
        *out = (long long)d;
        return 1;
    }
    return -1;
}

static int audience_matches(json_t *j_aud, const char *want)
{
    if (json_is_string(j_aud)) return strcmp(json_string_value(j_aud), want) == 0;
    if (json_is_array(j_aud)) {
        size_t i;
        json_t *j_item;
        json_array_foreach(j_aud, i, j_item)
            if (json_is_string(j_item) && strcmp(json_string_value(j_item), want) == 0) return 1;
    }
    return 0;
}

auth_err auth_verify(const auth_config *cfg, const char *token, time_t now, auth_claims *out)
{
    auth_err err = AUTH_ERR_MALFORMED;
    json_t *j_header = NULL, *j_payload = NULL;
    jwt_t *jwt = NULL;

    if (!token || !*token) return AUTH_ERR_MISSING;
    size_t len = strlen(token);
    if (len > cfg->max_token_len) return AUTH_ERR_TOO_LONG;
    const char *dot1 = strchr(token, '.');
    const char *dot2 = dot1 ? strchr(dot1 + 1, '.') : NULL;
    if (!dot1 || !dot2 || strchr(dot2 + 1, '.') || dot2[1] == '\0') return AUTH_ERR_MALFORMED;

    /* The algorithm comes from configuration; the header must name exactly it. */
    j_header = segment_object(token, (size_t)(dot1 - token));
    if (!j_header) goto out;
    const char *alg = json_string_value(json_object_get(j_header, "alg"));
    if (!alg) goto out;
    if (strcmp(alg, auth_alg_name(cfg->alg)) != 0) { err = AUTH_ERR_ALG; goto out; }
    if (json_object_get(j_header, "crit")) goto out; /* no extensions are understood */

    j_payload = segment_object(dot1 + 1, (size_t)(dot2 - dot1 - 1));
    if (!j_payload) goto out;

    if (jwt_decode(&jwt, token, cfg->key, (int)cfg->key_len) != 0 || !jwt) { err = AUTH_ERR_SIGNATURE; goto out; }
    if (jwt_get_alg(jwt) != to_jwt_alg(cfg->alg)) { err = AUTH_ERR_ALG; goto out; }

    long long exp = 0, nbf = 0, iat = 0;
    int has;
    if ((has = numeric_date(j_payload, "exp", &exp)) != 1) { err = AUTH_ERR_CLAIMS; goto out; }
    if (now >= exp + cfg->leeway) { err = AUTH_ERR_EXPIRED; goto out; }
    if ((has = numeric_date(j_payload, "nbf", &nbf)) < 0) { err = AUTH_ERR_CLAIMS; goto out; }
    if (has && now + cfg->leeway < nbf) { err = AUTH_ERR_NOT_YET_VALID; goto out; }
    if ((has = numeric_date(j_payload, "iat", &iat)) < 0) { err = AUTH_ERR_CLAIMS; goto out; }
    if (has && iat > now + cfg->leeway) { err = AUTH_ERR_ISSUED_IN_FUTURE; goto out; }

    if (cfg->issuer) {
        const char *iss = json_string_value(json_object_get(j_payload, "iss"));
        if (!iss || strcmp(iss, cfg->issuer) != 0) { err = AUTH_ERR_ISSUER; goto out; }
    }
    if (cfg->audience && !audience_matches(json_object_get(j_payload, "aud"), cfg->audience)) {
        err = AUTH_ERR_AUDIENCE;
        goto out;
    }

    const char *sub = json_string_value(json_object_get(j_payload, "sub"));
    const char *org = json_string_value(json_object_get(j_payload, "org"));
    const char *role = json_string_value(json_object_get(j_payload, "role"));
    if (!sub || !*sub || strlen(sub) > AUTH_SUB_MAX || json_string_length(json_object_get(j_payload, "sub")) != strlen(sub) ||
        !org || !auth_org_valid(org)) {
        err = AUTH_ERR_CLAIMS;
        goto out;
    }
    auth_role r;
    if (!role || auth_role_from_name(role, &r) != 0) { err = AUTH_ERR_ROLE; goto out; }

    strcpy(out->sub, sub);
    strcpy(out->org, org);
    out->role = r;
    out->exp = exp;
    err = AUTH_OK;
out:
    if (jwt) jwt_free(jwt);
    json_decref(j_header);
    json_decref(j_payload);
    return err;
}

auth_err auth_mint(const auth_config *cfg, const char *sub, const char *org, const char *role, long ttl,
                   time_t now, char **out)
{
    auth_role r;
    if (!sub || !*sub || strlen(sub) > AUTH_SUB_MAX || !org || !auth_org_valid(org)) return AUTH_ERR_CLAIMS;
    if (!role || auth_role_from_name(role, &r) != 0) return AUTH_ERR_ROLE;
    if (cfg->alg != AUTH_ALG_HS256 || ttl <= 0) return AUTH_ERR_SIGNING;

    jwt_t *jwt = NULL;
    auth_err err = AUTH_ERR_SIGNING;
    if (jwt_new(&jwt) != 0) return AUTH_ERR_SIGNING;
    if (jwt_add_grant(jwt, "sub", sub) || jwt_add_grant(jwt, "org", org) || jwt_add_grant(jwt, "role", role) ||
        jwt_add_grant_int(jwt, "iat", (long)now) || jwt_add_grant_int(jwt, "exp", (long)(now + ttl)))
        goto out;
    if (cfg->issuer && jwt_add_grant(jwt, "iss", cfg->issuer)) goto out;
    if (cfg->audience && jwt_add_grant(jwt, "aud", cfg->audience)) goto out;
    if (jwt_set_alg(jwt, JWT_ALG_HS256, cfg->key, (int)cfg->key_len)) goto out;
    char *tok = jwt_encode_str(jwt);
    if (!tok) goto out;
    char *copy = strdup(tok);
    free(tok);
    if (!copy) goto out;
    *out = copy;
    err = AUTH_OK;
out:
    jwt_free(jwt);
    return err;
}
