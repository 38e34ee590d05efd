/* test_webhook.c — the Standard Webhooks signature (the specification's own example), secrets, the retry
 * schedule with its jitter and Retry-After, the address rules of SSRF, and the subscription body rules. */
#include <arpa/inet.h>
#include <netinet/in.h>

#include "unit.h"
#include "webhook.h"

static const char *errors(const char *json, validate_mode mode)
{
    json_t *j = json_loads(json, 0, NULL);
    ck_assert_ptr_nonnull(j);
    verrs v;
    verrs_init(&v);
    ck_assert_uint_eq(webhook_validate(j, mode, NULL, &v), verrs_count(&v));
    const char *fields = unit_refused(&v);
    verrs_free(&v);
    json_decref(j);
    return fields;
}

START_TEST(signature_matches_the_specification_example)
{
    /* The example of the Standard Webhooks specification: secret, id, timestamp and body, and its signature. */
    char sig[WEBHOOK_SIGNATURE_LEN + 1];
    const char *body = "{\"test\": 2432232314}";
    ck_assert_int_eq(webhook_sign("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "msg_p5jXN8AQM9LWM0D4loKWxJek",
                                  1614265330, body, strlen(body), sig), 0);
    ck_assert_str_eq(sig, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
    /* another timestamp, another signature */
    char other[WEBHOOK_SIGNATURE_LEN + 1];
    ck_assert_int_eq(webhook_sign("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "msg_p5jXN8AQM9LWM0D4loKWxJek",
                                  1614265331, body, strlen(body), other), 0);
    ck_assert_str_ne(sig, other);
    /* not a secret */
    ck_assert_int_eq(webhook_sign("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "m", 1, body, strlen(body), sig), -1);
    ck_assert_int_eq(webhook_sign("whsec_", "m", 1, body, strlen(body), sig), -1);
    ck_assert_int_eq(webhook_sign("whsec_!!!!", "m", 1, body, strlen(body), sig), -1);
}
END_TEST

START_TEST(secrets_are_32_random_bytes)
{
    char a[WEBHOOK_SECRET_LEN + 1], b[WEBHOOK_SECRET_LEN + 1], sig[WEBHOOK_SIGNATURE_LEN + 1];
    ck_assert_int_eq(webhook_secret_new(a), 0);
    ck_assert_int_eq(webhook_secret_new(b), 0);
    ck_assert_uint_eq(strlen(a), WEBHOOK_SECRET_LEN);
    ck_assert(strncmp(a, "whsec_", 6) == 0 && a[WEBHOOK_SECRET_LEN - 1] == '=');
    ck_assert_str_ne(a, b);
    ck_assert_int_eq(webhook_sign(a, "msg_1", 1, "{}", 2, sig), 0);
}
END_TEST

START_TEST(retry_schedule_with_jitter)
{
    /* after attempt n: 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h; jitter ±10 % */
    static const long long base_s[] = {0, 5, 300, 1800, 7200, 18000, 36000, 36000};
    for (int done = 1; done < WEBHOOK_ATTEMPTS; done++) {
        ck_assert_int_eq(webhook_retry_delay_ms(done, 1, 0.5, 0), base_s[done] * 1000);
        ck_assert_int_eq(webhook_retry_delay_ms(done, 1, 0.0, 0), base_s[done] * 900);
        ck_assert_int_le(webhook_retry_delay_ms(done, 1, 0.999999, 0), base_s[done] * 1100);
        ck_assert_int_gt(webhook_retry_delay_ms(done, 1, 0.999999, 0), base_s[done] * 1099);
    }
    /* the eighth attempt was the last */
    ck_assert_int_eq(webhook_retry_delay_ms(WEBHOOK_ATTEMPTS, 1, 0.5, 0), -1);
    ck_assert_int_eq(webhook_retry_delay_ms(0, 1, 0.5, 0), -1);
    /* compressed for tests */
    ck_assert_int_eq(webhook_retry_delay_ms(2, 1000, 0.5, 0), 300);
    /* Retry-After wins when it asks for longer, capped at a day */
    ck_assert_int_eq(webhook_retry_delay_ms(1, 1, 0.5, 60), 60000);
    ck_assert_int_eq(webhook_retry_delay_ms(3, 1, 0.5, 60), 1800000);
    ck_assert_int_eq(webhook_retry_delay_ms(1, 1, 0.5, 10000000), 86400000LL);
}
END_TEST

START_TEST(retry_after_values)
{
    ck_assert_int_eq(webhook_retry_after_s("120", 0), 120);
    ck_assert_int_eq(webhook_retry_after_s(" 7 ", 0), 7);
    ck_assert_int_eq(webhook_retry_after_s("99999999", 0), WEBHOOK_RETRY_AFTER_MAX);
    ck_assert_int_eq(webhook_retry_after_s("-5", 0), 0);
    ck_assert_int_eq(webhook_retry_after_s("soon", 0), 0);
    ck_assert_int_eq(webhook_retry_after_s(NULL, 0), 0);
    ck_assert_int_eq(webhook_retry_after_s("12abc", 0), 0);
    /* an HTTP-date: Wed, 21 Oct 2015 07:28:00 GMT is 1445412480 */
    ck_assert_int_eq(webhook_retry_after_s("Wed, 21 Oct 2015 07:28:00 GMT", 1445412480 - 30), 30);
    ck_assert_int_eq(webhook_retry_after_s("Wed, 21 Oct 2015 07:28:00 GMT", 1445412480 + 30), 0);
}
END_TEST

static webhook_addr_kind v4(const char *s)
{
    struct sockaddr_in a = {.sin_family = AF_INET};
    ck_assert_int_eq(inet_pton(AF_INET, s, &a.sin_addr), 1);
    return webhook_addr_classify((struct sockaddr *)&a);
}

static webhook_addr_kind v6(const char *s)
{
    struct sockaddr_in6 a = {.sin6_family = AF_INET6};
    ck_assert_int_eq(inet_pton(AF_INET6, s, &a.sin6_addr), 1);
    return webhook_addr_classify((struct sockaddr *)&a);
}

START_TEST(address_rules)
{
    static const struct { const char *addr; webhook_addr_kind kind; } cases[] = {
        {"93.184.216.34", WEBHOOK_ADDR_PUBLIC},     {"8.8.8.8", WEBHOOK_ADDR_PUBLIC},
        {"127.0.0.1", WEBHOOK_ADDR_PRIVATE},        {"127.255.0.9", WEBHOOK_ADDR_PRIVATE},
        {"10.1.2.3", WEBHOOK_ADDR_PRIVATE},         {"172.16.0.1", WEBHOOK_ADDR_PRIVATE},
        {"172.31.255.255", WEBHOOK_ADDR_PRIVATE},   {"172.32.0.1", WEBHOOK_ADDR_PUBLIC},
        {"192.168.1.1", WEBHOOK_ADDR_PRIVATE},      {"100.64.0.1", WEBHOOK_ADDR_PRIVATE},
        {"169.254.169.254", WEBHOOK_ADDR_FORBIDDEN}, {"0.0.0.0", WEBHOOK_ADDR_FORBIDDEN},
        {"224.0.0.1", WEBHOOK_ADDR_FORBIDDEN},      {"255.255.255.255", WEBHOOK_ADDR_FORBIDDEN},
        {"192.0.2.10", WEBHOOK_ADDR_FORBIDDEN},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        ck_assert_msg(v4(cases[i].addr) == cases[i].kind, "%s", cases[i].addr);
    static const struct { const char *addr; webhook_addr_kind kind; } cases6[] = {
        {"2606:4700::1", WEBHOOK_ADDR_PUBLIC},       {"::1", WEBHOOK_ADDR_PRIVATE},
        {"::", WEBHOOK_ADDR_FORBIDDEN},              {"fd00::1", WEBHOOK_ADDR_PRIVATE},
        {"fe80::1", WEBHOOK_ADDR_FORBIDDEN},         {"ff02::1", WEBHOOK_ADDR_FORBIDDEN},
        {"::ffff:127.0.0.1", WEBHOOK_ADDR_PRIVATE},  {"::ffff:169.254.169.254", WEBHOOK_ADDR_FORBIDDEN},
        {"::ffff:8.8.8.8", WEBHOOK_ADDR_PUBLIC},     {"64:ff9b::a9fe:a9fe", WEBHOOK_ADDR_FORBIDDEN},
        {"2001:db8::1", WEBHOOK_ADDR_FORBIDDEN},
    };
    for (size_t i = 0; i < sizeof cases6 / sizeof cases6[0]; i++)
        ck_assert_msg(v6(cases6[i].addr) == cases6[i].kind, "%s", cases6[i].addr);
    /* the switch lets private addresses through, never forbidden ones */
    ck_assert(!webhook_addr_allowed(WEBHOOK_ADDR_PRIVATE, 0));
    ck_assert(webhook_addr_allowed(WEBHOOK_ADDR_PRIVATE, 1));
    ck_assert(!webhook_addr_allowed(WEBHOOK_ADDR_FORBIDDEN, 1));
    ck_assert(webhook_addr_allowed(WEBHOOK_ADDR_PUBLIC, 0));
}
END_TEST

START_TEST(body_rules)
{
    ck_assert_str_eq(errors("{\"url\":\"https://crm.example/hooks\",\"event_types\":[\"booking.created\"]}",
                            VALIDATE_CREATE), "");
    ck_assert_str_eq(errors("{\"url\":\"https://crm.example/hooks\",\"event_types\":[\"*\"],\"description\":null,"
                            "\"active\":false}", VALIDATE_CREATE), "");
    ck_assert_str_eq(errors("{\"event_types\":[\"*\"]}", VALIDATE_CREATE), "url");
    ck_assert_str_eq(errors("{\"url\":\"https://a.example\"}", VALIDATE_CREATE), "event_types");
    ck_assert_str_eq(errors("{\"url\":\"https://a.example\",\"event_types\":[]}", VALIDATE_CREATE), "event_types");
    ck_assert_str_eq(errors("{\"url\":\"https://a.example\",\"event_types\":[\"booking.created\",\"nope.x\"]}",
                            VALIDATE_CREATE), "event_types[1]");
    ck_assert_str_eq(errors("{\"url\":\"ftp://a.example\",\"event_types\":[\"*\"]}", VALIDATE_CREATE), "url");
    ck_assert_str_eq(errors("{\"url\":\"https://a.example\",\"event_types\":[\"*\"],\"secret\":\"whsec_x\"}",
                            VALIDATE_CREATE), "secret");
    ck_assert_str_eq(errors("{\"active\":true}", VALIDATE_PATCH), "");
    ck_assert_str_eq(errors("{\"url\":null}", VALIDATE_PATCH), "url");
    ck_assert_str_eq(errors("{\"event_types\":[\"*\",\"*\"]}", VALIDATE_PATCH), "event_types[1]");
}
END_TEST

int main(void)
{
    Suite *s = suite_create("webhook");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, signature_matches_the_specification_example);
    tcase_add_test(tc, secrets_are_32_random_bytes);
    tcase_add_test(tc, retry_schedule_with_jitter);
    tcase_add_test(tc, retry_after_values);
    tcase_add_test(tc, address_rules);
    tcase_add_test(tc, body_rules);
    suite_add_tcase(s, tc);
    return unit_run(s);
}
