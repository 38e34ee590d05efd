/* test_calendar.c — iCalendar writing (folding, escaping, events) and the
 * calendar's key event, feed token, colour and status rules. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "calendar.h"
#include "ical.h"
#include "unit.h"

/* Each physical line of b (CRLF-terminated) is at most 75 octets and begins a
 * UTF-8 character; returns the number of lines. */
static int check_lines(const ical_buf *b)
{
    int lines = 0;
    const char *p = b->data;
    while (*p) {
        const char *crlf = strstr(p, "\r\n");
        ck_assert_ptr_nonnull(crlf);
        ck_assert_int_le(crlf - p, 75);
        ck_assert_int_ne((unsigned char)*p & 0xC0, 0x80);
        ck_assert_ptr_null(memchr(p, '\n', (size_t)(crlf - p)));
        p = crlf + 2;
        lines++;
    }
    return lines;
}

/* The logical line back: CRLF followed by a space removed. */
static void unfold(const char *in, char *out)
{
    while (*in) {
        if (in[0] == '\r' && in[1] == '\n' && in[2] == ' ') in += 3;
        else *out++ = *in++;
    }
    *out = '\0';
}

START_TEST(escaping)
{
    char *e = ical_escape_text("a,b;c\\d\ne\r\n\x01" "f\tg");
    ck_assert_str_eq(e, "a\\,b\\;c\\\\d\\ne\\nf g");
    free(e);
    e = ical_escape_text("");
    ck_assert_str_eq(e, "");
    free(e);
}
END_TEST

START_TEST(short_lines_are_not_folded)
{
    ical_buf b;
    ical_buf_init(&b);
    ical_line(&b, "SUMMARY", "Spring sale");
    ck_assert_str_eq(b.data, "SUMMARY:Spring sale\r\n");
    ical_buf_free(&b);
    ical_buf_init(&b);
    char exact[76];
    memset(exact, 'x', 67);
    exact[67] = '\0';
    ical_line(&b, "SUMMARY", exact); /* 8 + 67 = 75 octets: fits */
    ck_assert_int_eq(check_lines(&b), 1);
    ical_line(&b, "SUMMARY", "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx" "y"); /* 76 */
    ck_assert_int_eq(check_lines(&b), 3);
    ck_assert(strstr(b.data, "\r\n y\r\n") != NULL);
    ical_buf_free(&b);
}
END_TEST

START_TEST(folds_keep_utf8_whole)
{
    /* 300 octets of 2-, 3- and 4-byte characters at every alignment. */
    char text[1024] = "";
    for (int i = 0; i < 25; i++) strcat(text, "é€😀a");
    for (int shift = 0; shift < 4; shift++) {
        ical_buf b;
        ical_buf_init(&b);
        char name[16];
        snprintf(name, sizeof name, "DESCRIPTION%.*s", shift, "XXX");
        ical_text_line(&b, name, text);
        ck_assert(!b.failed);
        ck_assert_int_ge(check_lines(&b), 4);
        char *logical = malloc(b.len + 1), expected[1100];
        unfold(b.data, logical);
        snprintf(expected, sizeof expected, "%s:%s\r\n", name, text);
        ck_assert_str_eq(logical, expected);
        free(logical);
        ical_buf_free(&b);
    }
}
END_TEST

START_TEST(event_lines)
{
    ical_buf b;
    ical_buf_init(&b);
    ical_calendar_begin(&b, "Team, calendar");
    ical_event timed = {.uid = "booking-1@campaignd", .dtstamp = "20260301T080000Z", .start = "20260310T080000Z",
                        .end = "20260310T090000Z", .all_day = 0, .sequence = 2, .status = "TENTATIVE",
                        .summary = "Email — Spring sale", .description = NULL, .categories = "booking"};
    ical_event_write(&b, &timed);
    ical_event day = {.uid = "campaign-2@campaignd", .dtstamp = "20260301T080000Z", .start = "20260301",
                      .end = "20260401", .all_day = 1, .sequence = -1, .status = "CONFIRMED",
                      .summary = "Spring; sale", .description = "line 1\nline 2", .categories = NULL};
    ical_event_write(&b, &day);
    ical_calendar_end(&b);
    ck_assert(!b.failed);
    check_lines(&b);
    ck_assert(strncmp(b.data, "BEGIN:VCALENDAR\r\nVERSION:2.0\r\n", 30) == 0);
    ck_assert(strstr(b.data, "X-WR-CALNAME:Team\\, calendar\r\n"));
    ck_assert(strstr(b.data, "DTSTART:20260310T080000Z\r\nDTEND:20260310T090000Z\r\nSEQUENCE:2\r\nSTATUS:TENTATIVE\r\n"));
    ck_assert(strstr(b.data, "DTSTART;VALUE=DATE:20260301\r\nDTEND;VALUE=DATE:20260401\r\nSEQUENCE:0\r\n"));
    ck_assert(strstr(b.data, "SUMMARY:Spring\\; sale\r\nDESCRIPTION:line 1\\nline 2\r\n"));
    ck_assert(strstr(b.data, "CATEGORIES:booking\r\n"));
    ck_assert(strstr(b.data, "END:VEVENT\r\nEND:VCALENDAR\r\n"));
    /* The ETag follows the text: same text, same tag; one changed octet, another tag. */
    char t1[24], t2[24];
    ical_etag(&b, t1);
    ical_etag(&b, t2);
    ck_assert_str_eq(t1, t2);
    ck_assert_int_eq((int)strlen(t1), 18);
    b.data[b.len - 3] = 'X';
    ical_etag(&b, t2);
    ck_assert_str_ne(t1, t2);
    ical_buf_free(&b);
}
END_TEST

/* The fields refused (unit_why() says why). */
static const char *refused(size_t n, verrs *v)
{
    ck_assert_uint_eq(n, verrs_count(v));
    const char *fields = unit_refused(v);
    verrs_free(v);
    return fields;
}

static const char *key_event_errors(const char *json, const char *current)
{
    json_t *j = json_loads(json, 0, NULL), *j_cur = current ? json_loads(current, 0, NULL) : NULL;
    ck_assert_ptr_nonnull(j);
    verrs v;
    verrs_init(&v);
    const char *fields = refused(key_event_validate(j, current ? VALIDATE_PATCH : VALIDATE_CREATE, j_cur, &v), &v);
    json_decref(j);
    json_decref(j_cur);
    return fields;
}

START_TEST(key_event_rules)
{
    ck_assert_str_eq(key_event_errors("{\"name\":\"Fair\",\"kind\":\"industry_event\",\"start_date\":\"2026-03-18\","
                                      "\"end_date\":\"2026-03-18\"}", NULL), "");
    ck_assert_str_eq(key_event_errors("{\"name\":\"Fair\",\"kind\":\"industry_event\",\"start_date\":\"2026-03-18\","
                                      "\"end_date\":\"2026-03-17\"}", NULL), "end_date");
    ck_assert_str_eq(unit_why(), "end_date: must be on or after start_date");
    ck_assert_str_eq(key_event_errors("{\"name\":\"Fair\",\"kind\":\"party\",\"start_date\":\"2026-02-30\"}", NULL),
                     "kind start_date end_date");
    /* A patch is checked against the stored dates it leaves alone. */
    const char *stored = "{\"start_date\":\"2026-03-18\",\"end_date\":\"2026-03-19\"}";
    ck_assert_str_eq(key_event_errors("{\"end_date\":\"2026-03-17\"}", stored), "end_date");
    ck_assert_str_eq(unit_why(), "end_date: must be on or after start_date");
    ck_assert_str_eq(key_event_errors("{\"start_date\":\"2026-03-19\"}", stored), "");
    ck_assert_str_eq(key_event_errors("{\"version\":3}", stored), "version");
    ck_assert_str_eq(unit_why(), "version: read-only field");
}
END_TEST

static const char *feed_errors(const char *json)
{
    json_t *j = json_loads(json, 0, NULL);
    ck_assert_ptr_nonnull(j);
    verrs v;
    verrs_init(&v);
    const char *fields = refused(feed_token_validate(j, &v), &v);
    json_decref(j);
    return fields;
}

START_TEST(feed_token_rules)
{
    ck_assert_str_eq(feed_errors("{\"name\":\"desk\"}"), "");
    ck_assert_str_eq(feed_errors("{\"name\":\"desk\",\"filters\":{\"types\":[\"booking\",\"key_event\"],"
                                 "\"owner\":\"pat\",\"resource_id\":null}}"), "");
    ck_assert_str_eq(feed_errors("{\"name\":\"desk\",\"filters\":{\"types\":[\"risk\",\"campaign\"]}}"), "");
    ck_assert_str_eq(feed_errors("{\"name\":\"desk\",\"filters\":{\"types\":[\"meeting\"]}}"), "filters.types");
    ck_assert_str_eq(unit_why(), "filters.types: each must be one of campaign, booking, availability, key_event, risk");
    ck_assert_str_eq(feed_errors("{\"name\":\"desk\",\"filters\":{\"types\":[]}}"), "filters.types");
    ck_assert_str_eq(unit_why(), "filters.types: must name at least one type");
    ck_assert_str_eq(feed_errors("{\"name\":\"desk\",\"filters\":{\"resource_id\":\"x\",\"colour\":\"red\"}}"),
                     "filters.resource_id filters.colour");
    ck_assert_str_eq(feed_errors("{\"filters\":{}}"), "name");
    ck_assert_str_eq(feed_errors("{\"name\":\"desk\",\"token\":\"cfeed_\"}"), "token");
}
END_TEST

START_TEST(colours_and_statuses)
{
    ck_assert_str_ne(calendar_colour("campaign", "awareness"), calendar_colour("campaign", "conversion"));
    /* A resource's colour is a function of its id alone, the same in every replica and release (pinned
     * values), and resources spread over the palette. */
    ck_assert_str_eq(calendar_colour("booking", "7510698d-bc55-4f91-afee-c90f31f75580"), "#e15759");
    ck_assert_str_eq(calendar_colour("booking", "0b3c1ac5-58e4-4cf5-9d1c-2b8f1f0a33e1"), "#9c755f");
    const char *seen[20];
    int distinct = 0;
    for (int i = 0; i < 20; i++) {
        char id[37];
        snprintf(id, sizeof id, "00000000-0000-4000-8000-%012d", i);
        const char *c = calendar_colour("booking", id);
        int known = 0;
        for (int k = 0; k < distinct; k++) known |= strcmp(seen[k], c) == 0;
        if (!known) seen[distinct++] = c;
    }
    ck_assert_int_ge(distinct, 8);
    ck_assert_str_ne(calendar_colour("availability", "leave"), calendar_colour("availability", "unavailable"));
    ck_assert_str_eq(calendar_colour("key_event", "nonsense"), calendar_colour("key_event", "industry_event"));
    ck_assert_int_eq((int)strlen(calendar_colour("campaign", NULL)), 7);
    ck_assert_str_eq(calendar_ics_status("booking", "tentative"), "TENTATIVE");
    ck_assert_str_eq(calendar_ics_status("booking", "confirmed"), "CONFIRMED");
    ck_assert_str_eq(calendar_ics_status("booking", "cancelled"), "CANCELLED");
    ck_assert_str_eq(calendar_ics_status("campaign", "in_review"), "TENTATIVE");
    ck_assert_str_eq(calendar_ics_status("campaign", "approved"), "CONFIRMED");
    ck_assert_str_eq(calendar_ics_status("campaign", "cancelled"), "CANCELLED");
    ck_assert_str_eq(calendar_ics_status("key_event", NULL), "CONFIRMED");
    /* Risks: the level's colour, green to red; a closed risk leaves subscribers' calendars. */
    ck_assert_str_eq(calendar_colour("risk", "low"), "#59a14f");
    ck_assert_str_eq(calendar_colour("risk", "medium"), "#edc948");
    ck_assert_str_eq(calendar_colour("risk", "high"), "#f28e2b");
    ck_assert_str_eq(calendar_colour("risk", "critical"), "#e15759");
    ck_assert_str_eq(calendar_ics_status("risk", "open"), "CONFIRMED");
    ck_assert_str_eq(calendar_ics_status("risk", "mitigated"), "CONFIRMED");
    ck_assert_str_eq(calendar_ics_status("risk", "closed"), "CANCELLED");
}
END_TEST

START_TEST(feed_tokens_are_random)
{
    char a[71], b[71];
    ck_assert_int_eq(calendar_feed_token_new(a), 0);
    ck_assert_int_eq(calendar_feed_token_new(b), 0);
    ck_assert_int_eq((int)strlen(a), 70);
    ck_assert(strncmp(a, "cfeed_", 6) == 0);
    ck_assert_int_eq((int)strspn(a + 6, "0123456789abcdef"), 64);
    ck_assert_str_ne(a, b);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("calendar");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, escaping);
    tcase_add_test(tc, short_lines_are_not_folded);
    tcase_add_test(tc, folds_keep_utf8_whole);
    tcase_add_test(tc, event_lines);
    tcase_add_test(tc, key_event_rules);
    tcase_add_test(tc, feed_token_rules);
    tcase_add_test(tc, colours_and_statuses);
    tcase_add_test(tc, feed_tokens_are_random);
    suite_add_tcase(s, tc);
    return unit_run(s);
}
