/* auth.h — JWT verification and minting, the seven roles, and what each may do.
 * Pure: no ulfius, no libpq. libjwt checks signatures only, so every claim rule
 * (pinned algorithm, exp/nbf/iat with leeway, iss/aud, required claims) is here. */
#ifndef CAMPAIGND_AUTH_H
#define CAMPAIGND_AUTH_H

#include <stddef.h>
#include <time.h>

typedef enum auth_alg { AUTH_ALG_HS256, AUTH_ALG_RS256, AUTH_ALG_ES256 } auth_alg;

typedef struct auth_config {
    auth_alg alg;
    unsigned char *key;   /* HS256 secret, or PEM public key */
    size_t key_len;
    char *issuer;         /* NULL: not checked */
    char *audience;       /* NULL: not checked */
    int leeway;           /* seconds of clock skew tolerated for exp/nbf/iat */
    size_t max_token_len; /* longer tokens are refused before any parsing */
} auth_config;

typedef enum auth_role {
    ROLE_ADMIN,
    ROLE_MANAGER,
    ROLE_PLANNER,
    ROLE_APPROVER,
    ROLE_ANALYST,
    ROLE_INTEGRATION,
    ROLE_VIEWER,
    ROLE__COUNT
} auth_role;

/* Things a role may do; the table in auth.c says which role may do which. */
typedef enum auth_perm {
    PERM_NONE, /* no role has it: what a permission left unset in a descriptor grants */
    PERM_CAMPAIGN_READ,
    PERM_CAMPAIGN_CREATE,
    PERM_CAMPAIGN_WRITE_ANY, /* edit, delete, transition any campaign of the organisation */
    PERM_CAMPAIGN_WRITE_OWN, /* the same, only for campaigns whose owner is the caller */
    PERM_SEGMENT_READ,
    PERM_SEGMENT_WRITE,
    PERM_RESOURCE_READ,      /* resources and their availability */
    PERM_RESOURCE_WRITE,
    PERM_BOOKING_READ,
    PERM_BOOKING_WRITE_ANY,  /* book, change and cancel for any campaign */
    PERM_BOOKING_WRITE_OWN,  /* the same, only for campaigns the caller owns */
    PERM_CALENDAR_READ,      /* the calendar, its feed and key events; one's own feed tokens */
    PERM_KEY_EVENT_WRITE,
    PERM_FEED_TOKEN_ANY,     /* see and revoke everyone's feed tokens */
    PERM_WORKFLOW_READ,
    PERM_WORKFLOW_WRITE,     /* workflow templates: admin only */
    PERM_APPROVAL_READ,      /* approval requests; deciding is by step (see approval_may_decide) */
    PERM_RISK_READ,          /* risks and their matrix; writing them follows PERM_CAMPAIGN_WRITE_* */
    PERM_RISK_ANNOTATE,      /* write a risk's notes (approvers comment on any campaign's risks) */
    PERM_KPI_READ,           /* the KPI catalogue */
    PERM_MEASUREMENT_READ,
    PERM_MEASUREMENT_WRITE_ANY, /* ingest measurements for any campaign */
    PERM_MEASUREMENT_WRITE_OWN, /* the same, only for campaigns whose owner is the caller */
    PERM_MEASUREMENT_DELETE,
    PERM_SETTINGS_READ,      /* the organisation's settings */
    PERM_SETTINGS_WRITE,     /* admin only */
    PERM_CONFLICT_READ,      /* the portfolio scan and checks of proposals */
    PERM_CONFLICT_FORCE,     /* override blocking findings the settings let be forced: manager, admin */
    PERM_WEBHOOK_ADMIN,      /* webhook subscriptions, their secrets and delivery logs: admin only */
    PERM_AUDIT_READ,         /* the audit trail: admins and managers */
    PERM_FORECAST,           /* forecasts, backtests and budget allocations (they change nothing) */
    PERM__COUNT
} auth_perm;

#define AUTH_SUB_MAX 255
#define AUTH_ORG_MAX 64

typedef struct auth_claims {
    char sub[AUTH_SUB_MAX + 1];
    char org[AUTH_ORG_MAX + 1];
    auth_role role;
    long long exp;
} auth_claims;

typedef enum auth_err {
    AUTH_OK = 0,
    AUTH_ERR_MISSING,
    AUTH_ERR_TOO_LONG,
    AUTH_ERR_MALFORMED,
    AUTH_ERR_ALG,
    AUTH_ERR_SIGNATURE,
    AUTH_ERR_EXPIRED,
    AUTH_ERR_NOT_YET_VALID,
    AUTH_ERR_ISSUED_IN_FUTURE,
    AUTH_ERR_ISSUER,
    AUTH_ERR_AUDIENCE,
    AUTH_ERR_CLAIMS,
    AUTH_ERR_ROLE,
    AUTH_ERR_SIGNING
} auth_err;

/* Verifies token (NUL-terminated, without the "Bearer " prefix) at time now.
 * On success fills *out and returns AUTH_OK; otherwise *out is untouched. */
auth_err auth_verify(const auth_config *cfg, const char *token, time_t now, auth_claims *out);

/* Mints a token for sub/org/role valid for ttl seconds from now, signed with
 * cfg's HS256 secret (iss/aud added when configured). *out is malloc'd: free() it. */
auth_err auth_mint(const auth_config *cfg, const char *sub, const char *org, const char *role, long ttl,
                   time_t now, char **out);

/* Human sentence for an auth error, for the problem `detail`. */
const char *auth_err_message(auth_err err);

int auth_alg_from_name(const char *name, auth_alg *out);
const char *auth_alg_name(auth_alg alg);

/* Role name <-> enum; returns -1 for an unknown name. */
int auth_role_from_name(const char *name, auth_role *out);
const char *auth_role_name(auth_role role);

/* Whether role may do perm. */
int auth_role_can(auth_role role, auth_perm perm);

/* Whether org is a well-formed organisation identifier. */
int auth_org_valid(const char *org);

#endif
