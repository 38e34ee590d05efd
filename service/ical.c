/* ical.c — see ical.h. */
#include "ical.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ICAL_LINE_OCTETS 75

void ical_buf_init(ical_buf *b)
{
    b->data = NULL;
    b->len = b->cap = 0;
    b->failed = 0;
}

void ical_buf_free(ical_buf *b)
{
    free(b->data);
    ical_buf_init(b);
}

static void put(ical_buf *b, const char *s, size_t n)
{
    if (b->failed) return;
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 4096;
        while (cap < b->len + n + 1) cap *= 2;
        char *grown = realloc(b->data, cap);
        if (!grown) { b->failed = 1; return; }
        b->data = grown;
        b->cap = cap;
    }
    memcpy(b->data + b->len, s, n);
    b->len += n;
    b->data[b->len] = '\0';
}

/* Appends one logical line folded at 75 octets, then CRLF. A fold goes back to
 * the start of a UTF-8 sequence so every physical line stays valid UTF-8. */
static void put_folded(ical_buf *b, const char *line, size_t n)
{
    size_t room = ICAL_LINE_OCTETS;
    while (n > room) {
        size_t cut = room;
        while (cut > 0 && ((unsigned char)line[cut] & 0xC0) == 0x80) cut--;
        if (cut == 0) cut = room; /* not UTF-8 at all: cut anyway rather than loop */
        put(b, line, cut);
        put(b, "\r\n ", 3);
        line += cut;
        n -= cut;
        room = ICAL_LINE_OCTETS - 1; /* the leading space counts */
    }
    put(b, line, n);
    put(b, "\r\n", 2);
}

void ical_line(ical_buf *b, const char *name, const char *value)
{
    size_t nl = strlen(name), vl = strlen(value);
    char *line = malloc(nl + vl + 2);
    if (!line) { b->failed = 1; return; }
    memcpy(line, name, nl);
    line[nl] = ':';
    memcpy(line + nl + 1, value, vl + 1);
    put_folded(b, line, nl + vl + 1);
    free(line);
}

char *ical_escape_text(const char *text)
{
    size_t n = strlen(text);
    char *out = malloc(2 * n + 1), *o = out;
    if (!out) return NULL;
    for (const unsigned char *p = (const unsigned char *)text; *p; p++) {
        switch (*p) {
        case '\\': *o++ = '\\'; *o++ = '\\'; break;
        case ';': *o++ = '\\'; *o++ = ';'; break;
        case ',': *o++ = '\\'; *o++ = ','; break;
        case '\n': *o++ = '\\'; *o++ = 'n'; break;
        case '\t': *o++ = ' '; break;
        default:
            if (*p < 0x20 || *p == 0x7F) break; /* CR and other controls are not TEXT */
            *o++ = (char)*p;
        }
    }
    *o = '\0';
    return out;
}

void ical_text_line(ical_buf *b, const char *name, const char *text)
{
    if (!text) return;
    char *escaped = ical_escape_text(text);
    if (!escaped) { b->failed = 1; return; }
    ical_line(b, name, escaped);
    free(escaped);
}

void ical_calendar_begin(ical_buf *b, const char *name)
{
    ical_line(b, "BEGIN", "VCALENDAR");
    ical_line(b, "VERSION", "2.0");
    ical_line(b, "PRODID", "-//campaignd//campaign calendar//EN");
    ical_line(b, "CALSCALE", "GREGORIAN");
    ical_line(b, "METHOD", "PUBLISH");
    ical_text_line(b, "X-WR-CALNAME", name);
}

void ical_event_write(ical_buf *b, const ical_event *ev)
{
    char seq[16];
    snprintf(seq, sizeof seq, "%d", ev->sequence < 0 ? 0 : ev->sequence);
    ical_line(b, "BEGIN", "VEVENT");
    ical_text_line(b, "UID", ev->uid);
    ical_line(b, "DTSTAMP", ev->dtstamp);
    ical_line(b, "LAST-MODIFIED", ev->dtstamp);
    ical_line(b, ev->all_day ? "DTSTART;VALUE=DATE" : "DTSTART", ev->start);
    ical_line(b, ev->all_day ? "DTEND;VALUE=DATE" : "DTEND", ev->end);
    ical_line(b, "SEQUENCE", seq);
    ical_line(b, "STATUS", ev->status);
    ical_text_line(b, "SUMMARY", ev->summary);
    ical_text_line(b, "DESCRIPTION", ev->description);
    ical_text_line(b, "CATEGORIES", ev->categories);
    ical_line(b, "TRANSP", ev->all_day ? "TRANSPARENT" : "OPAQUE");
    ical_line(b, "END", "VEVENT");
}

void ical_calendar_end(ical_buf *b) { ical_line(b, "END", "VCALENDAR"); }

void ical_etag(const ical_buf *b, char out[24])
{
    unsigned long long h = 14695981039346656037ULL;
    for (size_t i = 0; i < b->len; i++) h = (h ^ (unsigned char)b->data[i]) * 1099511628211ULL;
    snprintf(out, 24, "\"%016llx\"", h);
}
