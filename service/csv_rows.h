/* csv_rows.h — CSV files as the rows of a bulk import, and rows as CSV.
 * Reading goes through libcsv (a maintained RFC 4180 parser, see README):
 * UTF-8 with or without a BOM, `,` `;` or tab separators (sniffed from the
 * header line), quoted fields with embedded separators, quotes and newlines,
 * CRLF or LF. Pure: no ulfius, no libpq. */
#ifndef CAMPAIGND_CSV_ROWS_H
#define CAMPAIGND_CSV_ROWS_H

#include <jansson.h>
#include <stddef.h>

/* How a file was read. */
typedef struct csv_rows {
    json_t *j_rows;  /* one object per data record: column -> value (see csv_rows_read) */
    int *lines;      /* the line each record starts on (the header is line 1) */
    size_t n;
    char delimiter;  /* the separator found in the header line */
    /* When the file cannot be read: the line and column (1-based; 0 when it is the whole file) and why. */
    int error_line, error_column;
    char error[200];
} csv_rows;

/* Reads text (len bytes) whose header line names columns among columns
 * (NULL-terminated); required (NULL-terminated) must all be there. Each data
 * record becomes an object of its non-empty fields: a field of a column in
 * integer_columns (NULL-terminated) that is all digits becomes a JSON integer,
 * every other field a string (the row's validation says what is wrong with
 * it). A record with another number of fields than the header becomes
 * {"": "<fields> fields"} with the count, for the caller to report.
 * Returns 0 with out filled (error[0] == '\0'), 1 when the file is not
 * readable CSV (out->error and its position set), -1 out of memory.
 * Free with csv_rows_free. */
int csv_rows_read(const char *text, size_t len, const char *const *columns, const char *const *required,
                  const char *const *integer_columns, size_t max_rows, csv_rows *out);
void csv_rows_free(csv_rows *r);

/* Appends one field to the line being built in *buf (size *len, capacity
 * *cap), quoted as RFC 4180 wants when it holds a separator, quote, CR or LF
 * or begins or ends with a space; preceded by sep unless first. 0, or -1 out
 * of memory. */
int csv_append_field(char **buf, size_t *len, size_t *cap, const char *field, int first);

/* Appends CRLF, the end of a record. 0, or -1 out of memory. */
int csv_end_record(char **buf, size_t *len, size_t *cap);

#endif
