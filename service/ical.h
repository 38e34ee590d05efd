/* ical.h — writing iCalendar (RFC 5545) text. Pure (libc only).
 *
 * Content lines end in CRLF and are folded so no line is longer than 75
 * octets (a continuation line starts with one space, which counts); a fold
 * never splits a UTF-8 sequence. TEXT values are escaped (\\ \; \, \n) and
 * other control characters dropped. */
#ifndef CAMPAIGND_ICAL_H
#define CAMPAIGND_ICAL_H

#include <stddef.h>

/* A growing output buffer. After an allocation failure it stops growing and
 * `failed` is set; check it once at the end. */
typedef struct ical_buf {
    char *data; /* NUL-terminated */
    size_t len, cap;
    int failed;
} ical_buf;

void ical_buf_init(ical_buf *b);
void ical_buf_free(ical_buf *b);

/* Appends the content line "name:value" (value already in its final form), folded, with CRLF. */
void ical_line(ical_buf *b, const char *name, const char *value);
/* Appends "name:" and text escaped as a TEXT value, folded, with CRLF. NULL text writes nothing. */
void ical_text_line(ical_buf *b, const char *name, const char *text);

/* text escaped as a TEXT value (malloc'd; NULL when out of memory). */
char *ical_escape_text(const char *text);

typedef struct ical_event {
    const char *uid;
    const char *dtstamp;       /* UTC, YYYYMMDDTHHMMSSZ */
    const char *start, *end;   /* all_day: YYYYMMDD (end exclusive); else UTC YYYYMMDDTHHMMSSZ */
    int all_day;
    int sequence;
    const char *status;        /* TENTATIVE, CONFIRMED or CANCELLED */
    const char *summary;
    const char *description;   /* may be NULL */
    const char *categories;    /* one category, may be NULL */
} ical_event;

/* BEGIN:VCALENDAR with VERSION, PRODID, CALSCALE, METHOD:PUBLISH and the calendar's name. */
void ical_calendar_begin(ical_buf *b, const char *name);
void ical_event_write(ical_buf *b, const ical_event *ev);
void ical_calendar_end(ical_buf *b);

/* A strong ETag ("<16 hex digits>", FNV-1a of the text) for the calendar in b:
 * the same items give the same text, so a subscriber's If-None-Match gets 304. */
void ical_etag(const ical_buf *b, char out[24]);

#endif
