/* test_auth.c — every rule the service adds on top of libjwt's signature check. */
#include <check.h>
#include <jwt.h>
#include <stdlib.h>
#include <string.h>

#include "auth.h"
#include "auth_cache.h"
#include "unit.h"

static const char *secret = "0123456789abcdef0123456789abcdef-test";
static const char *rsa_pub =
    "-----BEGIN PUBLIC KEY-----\n"
    "MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAm+ZrrXfE8iaMkMTFvrhp\n"
    "z+mFCjcSB3K1m3CHgCoh3ySdkogLzz2JOOaHTftCh9tDpxGX9ZeVRERsn35kBh3E\n"
    "NrBLhayiRtitHByJH3JamfxmGnAx9N6QyRG2e1d8g4FobrtAOJkmV7ucyOdZzId9\n"
    "MjN6hg7HQBfmDyDKo7tgexKgFz8JH9JZDVRTjqh6T+8eJ+vEYldT+fvz+xjJ93Qw\n"
    "u5nQvnBdQXzlLCoX9uf3pj9NEKHXLFFImTc3jAeIAII4DBV9eo9eGuAK24Jpg8jT\n"
    "AwP3IH/qaXiFmVUHMF3WR7j0CeiCQyTHBD3MoCybxaMCWeGP0YMRd+eUBj8yZjD3\n"
    "sQIDAQAB\n"
    "-----END PUBLIC KEY-----\n";

static auth_config hs_cfg(void)
{
    auth_config c = {AUTH_ALG_HS256, (unsigned char *)secret, strlen(secret), NULL, NULL, 30, 8192};
    return c;
}

/* Signs a payload (JSON text) with alg and key using libjwt directly. */
static char *sign(jwt_alg_t alg, const char *key, const char *payload)
{
    jwt_t *jwt = NULL;
    jwt_new(&jwt);
    jwt_add_grants_json(jwt, payload);
    jwt_set_alg(jwt, alg, (const unsigned char *)key, (int)strlen(key));
    char *t = jwt_encode_str(jwt);
    jwt_free(jwt);
    return t;
}

static auth_err verify_payload(const auth_config *c, jwt_alg_t alg, const char *key, const char *payload)
{
    char *t = sign(alg, key, payload);
    auth_claims cl;
    auth_err e = auth_verify(c, t, 1000000, &cl);
    free(t);
    return e;
}

#define OKP "{\"sub\":\"u1\",\"org\":\"acme\",\"role\":\"planner\",\"exp\":1000100}"

START_TEST(valid_token_gives_claims)
{
    auth_config c = hs_cfg();
    char *t = sign(JWT_ALG_HS256, secret, OKP);
    auth_claims cl;
    ck_assert_int_eq(auth_verify(&c, t, 1000000, &cl), AUTH_OK);
    ck_assert_str_eq(cl.sub, "u1");
    ck_assert_str_eq(cl.org, "acme");
    ck_assert_int_eq(cl.role, ROLE_PLANNER);
    free(t);
}
END_TEST

START_TEST(minted_token_verifies)
{
    auth_config c = hs_cfg();
    char *t = NULL;
    ck_assert_int_eq(auth_mint(&c, "me", "acme", "admin", 60, 1000000, &t), AUTH_OK);
    auth_claims cl;
    ck_assert_int_eq(auth_verify(&c, t, 1000010, &cl), AUTH_OK);
    ck_assert_int_eq(cl.role, ROLE_ADMIN);
    ck_assert_int_eq(auth_verify(&c, t, 1000100, &cl), AUTH_ERR_EXPIRED);
    free(t);
}
END_TEST

/* The cache answers like auth_verify: a hit still expires, a changed token is verified afresh. */
START_TEST(cache_keeps_the_rules)
{
    auth_config c = hs_cfg();
    auth_cache *cache = auth_cache_new();
    char *t = NULL;
    ck_assert_int_eq(auth_mint(&c, "me", "acme", "planner", 60, 1000000, &t), AUTH_OK);
    auth_claims a, b;
    ck_assert_int_eq(auth_cache_verify(cache, &c, t, 1000010, &a), AUTH_OK); /* miss, then stored */
    ck_assert_int_eq(auth_cache_verify(cache, &c, t, 1000011, &b), AUTH_OK); /* hit */
    ck_assert_str_eq(b.sub, "me");
    ck_assert_str_eq(b.org, "acme");
    ck_assert_int_eq(b.role, ROLE_PLANNER);
    ck_assert_int_eq(auth_cache_verify(cache, &c, t, 1000089, &b), AUTH_OK);          /* within the leeway */
    ck_assert_int_eq(auth_cache_verify(cache, &c, t, 1000090, &b), AUTH_ERR_EXPIRED); /* then refused */
    /* A cache is per configuration: with a NULL cache, the same (well-signed, cached) token is verified
     * directly under another configuration, and refused for its missing issuer. */
    auth_config other = c;
    other.issuer = "https://idp.example";
    ck_assert_int_eq(auth_cache_verify(NULL, &other, t, 1000010, &b), AUTH_ERR_ISSUER);
    t[strlen(t) - 2] = t[strlen(t) - 2] == 'A' ? 'B' : 'A'; /* another signature */
    ck_assert_int_eq(auth_cache_verify(cache, &c, t, 1000010, &b), AUTH_ERR_SIGNATURE);
    ck_assert_int_eq(auth_cache_verify(cache, &c, "", 1000010, &b), AUTH_ERR_MISSING);
    free(t);
    auth_cache_free(cache);
}
END_TEST

START_TEST(expired_and_missing_exp_refused)
{
    auth_config c = hs_cfg();
    ck_assert_int_eq(verify_payload(&c, JWT_ALG_HS256, secret,
                                    "{\"sub\":\"u\",\"org\":\"a\",\"role\":\"viewer\",\"exp\":999000}"),
                     AUTH_ERR_EXPIRED);
    /* within the 30 s leeway */
    ck_assert_int_eq(verify_payload(&c, JWT_ALG_HS256, secret,
                                    "{\"sub\":\"u\",\"org\":\"a\",\"role\":\"viewer\",\"exp\":999990}"),
                     AUTH_OK);
    ck_assert_int_eq(verify_payload(&c, JWT_ALG_HS256, secret, "{\"sub\":\"u\",\"org\":\"a\",\"role\":\"viewer\"}"),
                     AUTH_ERR_CLAIMS);
    ck_assert_int_eq(verify_payload(&c, JWT_ALG_HS256, secret,
                                    "{\"sub\":\"u\",\"org\":\"a\",\"role\":\"viewer\",\"exp\":\"soon\"}"),
                     AUTH_ERR_CLAIMS);
}
END_TEST

START_TEST(nbf_and_iat_in_future_refused)
{
    auth_config c = hs_cfg();
    ck_assert_int_eq(verify_payload(&c, JWT_ALG_HS256, secret,
                                    "{\"sub\":\"u\",\"org\":\"a\",\"role\":\"viewer\",\"exp\":1000100,\"nbf\":1000060}"),
                     AUTH_ERR_NOT_YET_VALID);
    ck_assert_int_eq(verify_payload(&c, JWT_ALG_HS256, secret,
                                    "{\"sub\":\"u\",\"org\":\"a\",\"role\":\"viewer\",\"exp\":1000100,\"nbf\":1000020}"),
                     AUTH_OK);
    ck_assert_int_eq(verify_payload(&c, JWT_ALG_HS256, secret,
                                    "{\"sub\":\"u\",\"org\":\"a\",\"role\":\"viewer\",\"exp\":1000100,\"iat\":1000060}"),
                     AUTH_ERR_ISSUED_IN_FUTURE);
}
END_TEST

START_TEST(other_algorithms_refused)
{
    auth_config c = hs_cfg();
    ck_assert_int_eq(verify_payload(&c, JWT_ALG_HS512, secret, OKP), AUTH_ERR_ALG);
    ck_assert_int_eq(verify_payload(&c, JWT_ALG_HS384, secret, OKP), AUTH_ERR_ALG);
    /* alg none: header {"alg":"none"} and an empty signature */
    auth_claims cl;
    ck_assert_int_eq(auth_verify(&c, "eyJhbGciOiJub25lIn0.eyJzdWIiOiJ1In0.", 1000000, &cl), AUTH_ERR_MALFORMED);
    ck_assert_int_eq(auth_verify(&c, "eyJhbGciOiJub25lIn0.eyJzdWIiOiJ1In0.x", 1000000, &cl), AUTH_ERR_ALG);
}
END_TEST

START_TEST(hs256_signed_with_rsa_public_key_refused)
{
    /* The classic confusion: the service expects RS256 and an attacker HMACs with the public key. */
    auth_config c = {AUTH_ALG_RS256, (unsigned char *)rsa_pub, strlen(rsa_pub), NULL, NULL, 30, 8192};
    ck_assert_int_eq(verify_payload(&c, JWT_ALG_HS256, rsa_pub, OKP), AUTH_ERR_ALG);
}
END_TEST

START_TEST(bad_signature_and_garbage_refused)
{
    auth_config c = hs_cfg();
    ck_assert_int_eq(verify_payload(&c, JWT_ALG_HS256, "another-secret-another-secret-0000", OKP), AUTH_ERR_SIGNATURE);
    auth_claims cl;
    ck_assert_int_eq(auth_verify(&c, "", 1000000, &cl), AUTH_ERR_MISSING);
    ck_assert_int_eq(auth_verify(&c, "abc", 1000000, &cl), AUTH_ERR_MALFORMED);
    ck_assert_int_eq(auth_verify(&c, "a.b.c.d", 1000000, &cl), AUTH_ERR_MALFORMED);
    ck_assert_int_eq(auth_verify(&c, "!!!.???.***", 1000000, &cl), AUTH_ERR_MALFORMED);
    char *longtok = malloc(9000);
    memset(longtok, 'a', 8999);
    longtok[8999] = '\0';
    ck_assert_int_eq(auth_verify(&c, longtok, 1000000, &cl), AUTH_ERR_TOO_LONG);
    free(longtok);
}
END_TEST

START_TEST(claims_required_and_checked)
{
    auth_config c = hs_cfg();
    ck_assert_int_eq(verify_payload(&c, JWT_ALG_HS256, secret, "{\"org\":\"a\",\"role\":\"viewer\",\"exp\":1000100}"),
                     AUTH_ERR_CLAIMS);
    ck_assert_int_eq(verify_payload(&c, JWT_ALG_HS256, secret, "{\"sub\":\"u\",\"role\":\"viewer\",\"exp\":1000100}"),
                     AUTH_ERR_CLAIMS);
    ck_assert_int_eq(verify_payload(&c, JWT_ALG_HS256, secret,
                                    "{\"sub\":\"u\",\"org\":\"a b\",\"role\":\"viewer\",\"exp\":1000100}"),
                     AUTH_ERR_CLAIMS);
    ck_assert_int_eq(verify_payload(&c, JWT_ALG_HS256, secret, "{\"sub\":\"u\",\"org\":\"a\",\"exp\":1000100}"),
                     AUTH_ERR_ROLE);
    ck_assert_int_eq(verify_payload(&c, JWT_ALG_HS256, secret,
                                    "{\"sub\":\"u\",\"org\":\"a\",\"role\":\"root\",\"exp\":1000100}"),
                     AUTH_ERR_ROLE);
}
END_TEST

START_TEST(issuer_and_audience_checked_when_configured)
{
    auth_config c = hs_cfg();
    c.issuer = "https://idp.example";
    c.audience = "campaignd";
    ck_assert_int_eq(verify_payload(&c, JWT_ALG_HS256, secret, OKP), AUTH_ERR_ISSUER);
    ck_assert_int_eq(verify_payload(&c, JWT_ALG_HS256, secret,
                                    "{\"sub\":\"u\",\"org\":\"a\",\"role\":\"viewer\",\"exp\":1000100,"
                                    "\"iss\":\"https://idp.example\",\"aud\":\"other\"}"),
                     AUTH_ERR_AUDIENCE);
    ck_assert_int_eq(verify_payload(&c, JWT_ALG_HS256, secret,
                                    "{\"sub\":\"u\",\"org\":\"a\",\"role\":\"viewer\",\"exp\":1000100,"
                                    "\"iss\":\"https://idp.example\",\"aud\":[\"x\",\"campaignd\"]}"),
                     AUTH_OK);
}
END_TEST

START_TEST(role_matrix)
{
    ck_assert(auth_role_can(ROLE_ADMIN, PERM_SEGMENT_WRITE));
    ck_assert(auth_role_can(ROLE_MANAGER, PERM_CAMPAIGN_WRITE_ANY));
    ck_assert(!auth_role_can(ROLE_PLANNER, PERM_CAMPAIGN_WRITE_ANY));
    ck_assert(auth_role_can(ROLE_PLANNER, PERM_CAMPAIGN_WRITE_OWN));
    ck_assert(!auth_role_can(ROLE_VIEWER, PERM_CAMPAIGN_CREATE));
    ck_assert(auth_role_can(ROLE_INTEGRATION, PERM_CAMPAIGN_READ));
    ck_assert(!auth_role_can(ROLE_INTEGRATION, PERM_SEGMENT_READ));
    for (int r = 0; r < ROLE__COUNT; r++) ck_assert(auth_role_can((auth_role)r, PERM_CAMPAIGN_READ));
    /* Bookings: managers book for anyone, planners for their own campaigns, the rest read. */
    ck_assert(auth_role_can(ROLE_MANAGER, PERM_BOOKING_WRITE_ANY));
    ck_assert(auth_role_can(ROLE_MANAGER, PERM_RESOURCE_WRITE));
    ck_assert(!auth_role_can(ROLE_PLANNER, PERM_BOOKING_WRITE_ANY));
    ck_assert(auth_role_can(ROLE_PLANNER, PERM_BOOKING_WRITE_OWN));
    ck_assert(!auth_role_can(ROLE_PLANNER, PERM_RESOURCE_WRITE));
    ck_assert(!auth_role_can(ROLE_APPROVER, PERM_BOOKING_WRITE_OWN));
    ck_assert(auth_role_can(ROLE_INTEGRATION, PERM_BOOKING_READ));
    ck_assert(!auth_role_can(ROLE_INTEGRATION, PERM_RESOURCE_READ));
    for (int r = 0; r < ROLE__COUNT; r++) ck_assert(auth_role_can((auth_role)r, PERM_BOOKING_READ));
    /* SPEC §5: everyone reads the calendar (an integration included); key events are for admins and managers;
     * only an admin sees and revokes everyone's feed tokens. */
    for (int r = 0; r < ROLE__COUNT; r++) {
        ck_assert(auth_role_can((auth_role)r, PERM_CALENDAR_READ));
        ck_assert_int_eq(auth_role_can((auth_role)r, PERM_KEY_EVENT_WRITE), r == ROLE_ADMIN || r == ROLE_MANAGER);
        ck_assert_int_eq(auth_role_can((auth_role)r, PERM_FEED_TOKEN_ANY), r == ROLE_ADMIN);
        ck_assert_int_eq(auth_role_can((auth_role)r, PERM_WORKFLOW_WRITE), r == ROLE_ADMIN);
        ck_assert_int_eq(auth_role_can((auth_role)r, PERM_WORKFLOW_READ), r != ROLE_INTEGRATION);
        ck_assert_int_eq(auth_role_can((auth_role)r, PERM_APPROVAL_READ), r != ROLE_INTEGRATION);
    }
}
END_TEST

int main(void)
{
    Suite *s = suite_create("auth");
    TCase *tc = tcase_create("verify");
    tcase_add_test(tc, valid_token_gives_claims);
    tcase_add_test(tc, minted_token_verifies);
    tcase_add_test(tc, expired_and_missing_exp_refused);
    tcase_add_test(tc, nbf_and_iat_in_future_refused);
    tcase_add_test(tc, other_algorithms_refused);
    tcase_add_test(tc, hs256_signed_with_rsa_public_key_refused);
    tcase_add_test(tc, bad_signature_and_garbage_refused);
    tcase_add_test(tc, claims_required_and_checked);
    tcase_add_test(tc, issuer_and_audience_checked_when_configured);
    tcase_add_test(tc, role_matrix);
    tcase_add_test(tc, cache_keeps_the_rules);
    suite_add_tcase(s, tc);
    return unit_run(s);
}
