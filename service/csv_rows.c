/* csv_rows.c — see csv_rows.h. */
#define _GNU_SOURCE
#include "csv_rows.h"

#include <csv.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define MAX_COLUMNS 64

typedef struct reader {
    const char *const *columns, *const *integer_columns;
    size_t max_rows;
    csv_rows *out;
    int line;          /* the line being fed to the parser */
    int record_start;  /* the line the current record started on */
    int header_done;
    int ncols;
    int col_of[MAX_COLUMNS]; /* header field -> index in columns */
    json_t *j_fields;  /* the current record's fields (strings) */
    int failed;        /* out->error is set, or memory ran out (-1) */
} reader;

static void fail(reader *r, int line, int column, const char *fmt, const char *arg)
{
    if (r->failed) return;
    r->failed = 1;
    r->out->error_line = line;
    r->out->error_column = column;
    snprintf(r->out->error, sizeof r->out->error, fmt, arg);
}

static void on_field(void *s, size_t len, void *data)
{
    reader *r = data;
    if (r->failed) return;
    if (json_array_size(r->j_fields) >= MAX_COLUMNS) {
        fail(r, r->record_start, MAX_COLUMNS + 1, "has more than %s fields", "64");
        return;
    }
    if (json_array_append_new(r->j_fields, json_stringn(s ? s : "", s ? len : 0)) != 0) r->failed = -1;
}

static int column_index(const char *const *columns, const char *name)
{
    for (int i = 0; columns[i]; i++)
        if (strcasecmp(columns[i], name) == 0) return i;
    return -1;
}

static int all_digits(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > 16) return 0;
    for (size_t i = 0; i < n; i++)
        if (!isdigit((unsigned char)s[i])) return 0;
    return 1;
}

static void header(reader *r)
{
    size_t i;
    json_t *j_f;
    r->ncols = (int)json_array_size(r->j_fields);
    json_array_foreach(r->j_fields, i, j_f) {
        char name[64];
        const char *s = json_string_value(j_f);
        while (*s == ' ') s++;
        snprintf(name, sizeof name, "%s", s);
        for (size_t k = strlen(name); k > 0 && name[k - 1] == ' '; k--) name[k - 1] = '\0';
        int c = column_index(r->columns, name);
        if (c < 0) { fail(r, 1, (int)i + 1, "unknown column \"%s\"", name); return; }
        for (size_t k = 0; k < i; k++)
            if (r->col_of[k] == c) { fail(r, 1, (int)i + 1, "column \"%s\" appears twice", r->columns[c]); return; }
        r->col_of[i] = c;
    }
    r->header_done = 1;
}

static void data_record(reader *r)
{
    if (r->out->n >= r->max_rows) {
        char n[24];
        snprintf(n, sizeof n, "%zu", r->max_rows);
        fail(r, r->record_start, 0, "more than %s data rows: split the file", n);
        return;
    }
    json_t *j_row = json_object();
    int n = (int)json_array_size(r->j_fields);
    if (j_row && n != r->ncols) {
        char why[96];
        snprintf(why, sizeof why, "%d fields where the header has %d", n, r->ncols);
        if (json_object_set_new(j_row, "", json_string(why)) != 0) r->failed = -1;
    }
    for (int i = 0; j_row && n == r->ncols && i < n; i++) {
        const char *s = json_string_value(json_array_get(r->j_fields, (size_t)i));
        if (!*s) continue; /* empty: not reported */
        const char *col = r->columns[r->col_of[i]];
        json_t *j_v = column_index(r->integer_columns, col) >= 0 && all_digits(s) ? json_integer(strtoll(s, NULL, 10))
                                                                                 : json_string(s);
        if (json_object_set_new(j_row, col, j_v) != 0) r->failed = -1;
    }
    if (!j_row || json_array_append_new(r->out->j_rows, j_row) != 0) { r->failed = -1; return; }
    int *lines = realloc(r->out->lines, (r->out->n + 1) * sizeof *lines);
    if (!lines) { r->failed = -1; return; }
    r->out->lines = lines;
    lines[r->out->n++] = r->record_start;
}

static void on_record(int c, void *data)
{
    (void)c;
    reader *r = data;
    if (!r->failed) {
        if (!r->header_done) header(r);
        else data_record(r);
    }
    json_array_clear(r->j_fields);
    r->record_start = r->line + 1;
}

/* The separator of the header line: the most frequent of , ; and tab outside quotes (`,` when none). */
static char sniff(const char *text, size_t len)
{
    size_t counts[3] = {0};
    static const char seps[] = {',', ';', '\t'};
    int quoted = 0;
    for (size_t i = 0; i < len && (quoted || (text[i] != '\n' && text[i] != '\r')); i++) {
        if (text[i] == '"') quoted = !quoted;
        for (int k = 0; !quoted && k < 3; k++) counts[k] += text[i] == seps[k];
    }
    int best = 0;
    for (int k = 1; k < 3; k++)
        if (counts[k] > counts[best]) best = k;
    return seps[best];
}

/* The length of the valid UTF-8 prefix of s (len when all of it is). */
static size_t utf8_valid_prefix(const unsigned char *s, size_t len)
{
    size_t i = 0;
    while (i < len) {
        unsigned char c = s[i];
        size_t n = c < 0x80 ? 1 : (c & 0xE0) == 0xC0 ? 2 : (c & 0xF0) == 0xE0 ? 3 : (c & 0xF8) == 0xF0 ? 4 : 0;
        if (!n || i + n > len || (n == 2 && c < 0xC2)) return i;
        for (size_t k = 1; k < n; k++)
            if ((s[i + k] & 0xC0) != 0x80) return i;
        if ((n == 3 && c == 0xE0 && s[i + 1] < 0xA0) || (n == 3 && c == 0xED && s[i + 1] >= 0xA0) ||
            (n == 4 && c == 0xF0 && s[i + 1] < 0x90) || (n == 4 && (c > 0xF4 || (c == 0xF4 && s[i + 1] >= 0x90))))
            return i;
        if (c == 0) return i; /* a NUL byte is no text either */
        i += n;
    }
    return i;
}

static int line_of(const char *text, size_t at)
{
    int line = 1;
    for (size_t i = 0; i < at; i++) line += text[i] == '\n';
    return line;
}

int csv_rows_read(const char *text, size_t len, const char *const *columns, const char *const *required,
                  const char *const *integer_columns, size_t max_rows, csv_rows *out)
{
    memset(out, 0, sizeof *out);
    if (len >= 3 && memcmp(text, "\xEF\xBB\xBF", 3) == 0) { text += 3; len -= 3; } /* Excel's BOM */
    reader r = {.columns = columns, .integer_columns = integer_columns, .max_rows = max_rows, .out = out,
                .line = 1, .record_start = 1};
    struct csv_parser p;
    int rc = 0;
    if (!(out->j_rows = json_array()) || !(r.j_fields = json_array()) ||
        csv_init(&p, CSV_STRICT | CSV_STRICT_FINI | CSV_APPEND_NULL) != 0) {
        json_decref(r.j_fields);
        csv_rows_free(out);
        return -1;
    }
    size_t valid = utf8_valid_prefix((const unsigned char *)text, len);
    if (valid < len) {
        fail(&r, line_of(text, valid), 0, "is not UTF-8 text%s (save the file as \"CSV UTF-8\")",
             text[valid] ? "" : " (it has a NUL byte)");
        goto out;
    }
    out->delimiter = sniff(text, len);
    csv_set_delim(&p, (unsigned char)out->delimiter);
    /* Fed line by line, so the parser's position is known by line; a record ends on the line being fed. */
    for (size_t at = 0; at < len && !r.failed; r.line++) {
        const char *nl = memchr(text + at, '\n', len - at);
        size_t n = nl ? (size_t)(nl - (text + at)) + 1 : len - at;
        if (csv_parse(&p, text + at, n, on_field, on_record, &r) != n && !r.failed) {
            char column[16];
            snprintf(column, sizeof column, "%zu", json_array_size(r.j_fields) + 1);
            fail(&r, r.line, (int)json_array_size(r.j_fields) + 1,
                 "a quote inside an unquoted field, or text after a closing quote (field %s)", column);
        }
        at += n;
    }
    r.line--;
    if (!r.failed && csv_fini(&p, on_field, on_record, &r) != 0)
        fail(&r, r.record_start, (int)json_array_size(r.j_fields) + 1, "%s", "a quoted field is never closed");
    if (!r.failed && !r.header_done) fail(&r, 1, 0, "%s", "the file has no header line");
    for (int i = 0; !r.failed && required[i]; i++) {
        int found = 0;
        for (int k = 0; k < r.ncols; k++) found |= strcmp(columns[r.col_of[k]], required[i]) == 0;
        if (!found) fail(&r, 1, 0, "the header has no column \"%s\"", required[i]);
    }
    if (!r.failed && out->n == 0) fail(&r, 2, 0, "%s", "the file has no data rows");
out:
    csv_free(&p);
    json_decref(r.j_fields);
    rc = r.failed;
    if (rc < 0) csv_rows_free(out);
    else if (rc > 0) {
        json_decref(out->j_rows);
        out->j_rows = NULL;
        free(out->lines);
        out->lines = NULL;
        out->n = 0;
    }
    return rc;
}

void csv_rows_free(csv_rows *r)
{
    json_decref(r->j_rows);
    free(r->lines);
    memset(r, 0, sizeof *r);
}

static int append(char **buf, size_t *len, size_t *cap, const char *s, size_t n)
{
    if (*len + n + 1 > *cap) {
        size_t c = *cap ? *cap : 4096;
        while (*len + n + 1 > c) c *= 2;
        char *b = realloc(*buf, c);
        if (!b) return -1;
        *buf = b;
        *cap = c;
    }
    memcpy(*buf + *len, s, n);
    *len += n;
    (*buf)[*len] = '\0';
    return 0;
}

int csv_append_field(char **buf, size_t *len, size_t *cap, const char *field, int first)
{
    if (!first && append(buf, len, cap, ",", 1) != 0) return -1;
    size_t n = strlen(field);
    int quote = n && (strpbrk(field, ",;\t\"\r\n") || field[0] == ' ' || field[n - 1] == ' ');
    if (!quote) return append(buf, len, cap, field, n);
    /* csv_write doubles the quotes and adds the enclosing ones: at most 2n + 2 bytes. */
    char *q = malloc(2 * n + 2);
    if (!q) return -1;
    size_t qn = csv_write(q, 2 * n + 2, field, n);
    int rc = append(buf, len, cap, q, qn);
    free(q);
    return rc;
}

int csv_end_record(char **buf, size_t *len, size_t *cap) { return append(buf, len, cap, "\r\n", 2); }
