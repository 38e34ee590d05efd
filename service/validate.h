/* validate.h — field validation shared by every resource. Pure (jansson only).
 *
 * A resource describes its JSON body as a static table of field_spec; one call
 * checks types, ranges, enums, unknown and read-only fields, required fields on
 * create, and nulls, collecting every problem as {field, message} so a client
 * sees all of them at once. */
#ifndef CAMPAIGND_VALIDATE_H
#define CAMPAIGND_VALIDATE_H

#include <jansson.h>
#include <stddef.h>

/* Collected field errors: a JSON array of {"field", "message"}. */
typedef struct verrs {
    json_t *j_list;
    size_t lost; /* errors that could not be recorded (out of memory): they still count */
} verrs;

void verrs_init(verrs *v);
void verrs_add(verrs *v, const char *field, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
size_t verrs_count(const verrs *v);
/* Returns the list (a new reference) and empties v. */
json_t *verrs_take(verrs *v);
void verrs_free(verrs *v);

typedef enum field_kind {
    FK_TEXT,         /* single-line string, no control characters */
    FK_LONG_TEXT,    /* may contain newlines and tabs */
    FK_ENUM,         /* one of spec->values */
    FK_DATE,         /* YYYY-MM-DD, a real calendar date */
    FK_UUID,
    FK_INTEGER,      /* min..max */
    FK_NUMBER,       /* min..max, integer or real */
    FK_DECIMAL,      /* money amount: decimal string >= 0, <= 2 decimals, <= 14 integer digits */
    FK_CURRENCY,     /* ISO 4217 code */
    FK_UUID_ARRAY,   /* unique UUIDs, at most max */
    FK_SLUG,         /* [a-z0-9][a-z0-9_-]*, at most 50 chars (a channel) */
    FK_SLUG_ARRAY,   /* unique [a-z0-9][a-z0-9_-]*, at most max items of at most 50 chars */
    FK_TEXT_ARRAY,   /* unique single-line strings of 1..50 chars, at most max */
    FK_TIMESTAMP,    /* RFC 3339 date-time with an explicit offset (Z or +hh:mm) */
    FK_BOOLEAN,
    FK_OBJECT,       /* nested object described by spec->fields */
    FK_OBJECT_ARRAY  /* at most max objects, each described by spec->fields */
} field_kind;

typedef struct field_spec {
    const char *name;
    field_kind kind;
    unsigned flags;                   /* FS_* below */
    long long min, max;               /* length in characters (text), value (numbers), items (arrays) */
    const char *const *values;        /* FK_ENUM: NULL-terminated */
    const struct field_spec *fields;  /* FK_OBJECT: terminated by a {NULL} entry */
} field_spec;

#define FS_REQUIRED 1u  /* must be present on create */
#define FS_NULLABLE 2u  /* may be null */
#define FS_READONLY 4u  /* produced by the service: refused in bodies */

typedef enum validate_mode { VALIDATE_CREATE, VALIDATE_PATCH } validate_mode;

/* Checks j_obj (an object) against specs (terminated by {NULL}); adds errors to
 * v with field paths prefixed by prefix ("" at top level). In PATCH mode,
 * required fields may be absent but not null. Returns the number of errors added. */
size_t validate_object(json_t *j_obj, const field_spec *specs, validate_mode mode, const char *prefix, verrs *v);

/* Scalar checks, also used for query parameters. */
int valid_uuid(const char *s);
int valid_date(const char *s);
/* An RFC 3339 date-time with seconds and an explicit offset, years 1900-9999
 * (fractions up to microseconds). With it, *epoch_us (may be NULL) gets the
 * instant in microseconds since 1970-01-01T00:00:00Z. */
int valid_timestamp(const char *s, long long *epoch_us);
/* Whether a valid date or instant can be stored: every output can write it
 * with a 4-digit year (sql/migrations/0009_representable_dates.sql holds the
 * same bounds). Dates run from 1900-01-01 to 9999-12-30 (an all-day event in
 * the iCalendar feed ends the day after its end date); instants from
 * 1900-01-01T00:00:00Z to before 10000-01-01T00:00:00Z, in UTC. */
#define DATE_STORABLE_MIN "1900-01-01"
#define DATE_STORABLE_MAX "9999-12-30"
int date_storable(const char *s);
int timestamp_storable(long long epoch_us);
int valid_decimal_amount(const char *s);
int valid_currency(const char *s);
/* Characters (UTF-8 code points) in s; s must be valid UTF-8. */
size_t utf8_length(const char *s);
/* No control characters (multiline allows \n, \r, \t). */
int valid_text_chars(const char *s, int multiline);
/* Index of s in the NULL-terminated values, or -1. */
int enum_index(const char *const *values, const char *s);

#endif
