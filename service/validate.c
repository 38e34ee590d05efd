/* validate.c — see validate.h. */
#include "validate.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

void verrs_init(verrs *v)
{
    v->j_list = json_array();
    v->lost = 0;
}

void verrs_add(verrs *v, const char *field, const char *fmt, ...)
{
    char msg[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    /* An error that cannot be recorded still counts, so bad input is never taken for good. */
    if (json_array_append_new(v->j_list, json_pack("{s:s, s:s}", "field", field, "message", msg)) != 0) v->lost++;
}

size_t verrs_count(const verrs *v) { return json_array_size(v->j_list) + v->lost; }

json_t *verrs_take(verrs *v)
{
    json_t *j = v->j_list;
    v->j_list = json_array();
    return j;
}

void verrs_free(verrs *v)
{
    json_decref(v->j_list);
    v->j_list = NULL;
}

static int is_hex(char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }

int valid_uuid(const char *s)
{
    if (!s || strlen(s) != 36) return 0;
    for (int i = 0; i < 36; i++) {
        if (i == 8 || i == 13 || i == 18 || i == 23) {
            if (s[i] != '-') return 0;
        } else if (!is_hex(s[i])) {
            return 0;
        }
    }
    return 1;
}

static int digits(const char *s, int n)
{
    for (int i = 0; i < n; i++)
        if (s[i] < '0' || s[i] > '9') return 0;
    return 1;
}

int valid_date(const char *s)
{
    static const int mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (!s || strlen(s) != 10 || s[4] != '-' || s[7] != '-') return 0;
    if (!digits(s, 4) || !digits(s + 5, 2) || !digits(s + 8, 2)) return 0;
    int y = (s[0] - '0') * 1000 + (s[1] - '0') * 100 + (s[2] - '0') * 10 + (s[3] - '0');
    int m = (s[5] - '0') * 10 + (s[6] - '0');
    int d = (s[8] - '0') * 10 + (s[9] - '0');
    if (y < 1900 || m < 1 || m > 12 || d < 1) return 0;
    int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    int max = mdays[m - 1] + (m == 2 && leap);
    return d <= max;
}

/* Days from 1970-01-01 to y-m-d (proleptic Gregorian). */
static long long days_from_civil(int y, int m, int d)
{
    y -= m <= 2;
    long long era = (y >= 0 ? y : y - 399) / 400;
    long long yoe = y - era * 400;
    long long doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    long long doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static int two(const char *s) { return (s[0] - '0') * 10 + (s[1] - '0'); }

int date_storable(const char *s)
{
    return valid_date(s) && strcmp(s, DATE_STORABLE_MIN) >= 0 && strcmp(s, DATE_STORABLE_MAX) <= 0;
}

int timestamp_storable(long long epoch_us)
{
    return epoch_us >= days_from_civil(1900, 1, 1) * 86400LL * 1000000LL &&
           epoch_us < days_from_civil(10000, 1, 1) * 86400LL * 1000000LL;
}

int valid_timestamp(const char *s, long long *epoch_us)
{
    char date[11];
    if (!s || strlen(s) < 20 || strlen(s) > 35) return 0;
    memcpy(date, s, 10);
    date[10] = '\0';
    if (!valid_date(date) || (s[10] != 'T' && s[10] != 't')) return 0;
    const char *t = s + 11;
    if (!digits(t, 2) || t[2] != ':' || !digits(t + 3, 2) || t[5] != ':' || !digits(t + 6, 2)) return 0;
    int hh = two(t), mi = two(t + 3), ss = two(t + 6);
    if (hh > 23 || mi > 59 || ss > 59) return 0;
    const char *p = t + 8;
    long long frac = 0;
    if (*p == '.') {
        int n = 0;
        for (p++; *p >= '0' && *p <= '9'; p++, n++)
            if (n < 6) frac = frac * 10 + (*p - '0');
        if (n == 0 || n > 9) return 0;
        for (; n < 6; n++) frac *= 10;
    }
    long long offset_s = 0;
    if ((*p == 'Z' || *p == 'z') && p[1] == '\0') {
        offset_s = 0;
    } else if ((*p == '+' || *p == '-') && digits(p + 1, 2) && p[3] == ':' && digits(p + 4, 2) && p[6] == '\0') {
        int oh = two(p + 1), om = two(p + 4);
        if (oh > 23 || om > 59) return 0;
        offset_s = (oh * 3600LL + om * 60LL) * (*p == '-' ? -1 : 1);
    } else {
        return 0;
    }
    if (epoch_us) {
        int y = (date[0] - '0') * 1000 + (date[1] - '0') * 100 + two(date + 2);
        long long days = days_from_civil(y, two(date + 5), two(date + 8));
        *epoch_us = ((days * 86400LL + hh * 3600LL + mi * 60LL + ss) - offset_s) * 1000000LL + frac;
    }
    return 1;
}

int valid_decimal_amount(const char *s)
{
    if (!s || !*s) return 0;
    const char *p = s;
    int int_digits = 0;
    if (*p == '0') { p++; int_digits = 1; }
    else {
        while (*p >= '0' && *p <= '9') { p++; int_digits++; }
    }
    if (int_digits == 0 || int_digits > 14) return 0;
    if (*p == '.') {
        p++;
        int dec = 0;
        while (*p >= '0' && *p <= '9') { p++; dec++; }
        if (dec < 1 || dec > 2) return 0;
    }
    return *p == '\0';
}

/* ISO 4217 active codes (alphabetic), sorted for bsearch. */
static const char *const iso4217[] = {
    "AED", "AFN", "ALL", "AMD", "ANG", "AOA", "ARS", "AUD", "AWG", "AZN", "BAM", "BBD", "BDT", "BGN", "BHD", "BIF",
    "BMD", "BND", "BOB", "BRL", "BSD", "BTN", "BWP", "BYN", "BZD", "CAD", "CDF", "CHF", "CLP", "CNY", "COP", "CRC",
    "CUP", "CVE", "CZK", "DJF", "DKK", "DOP", "DZD", "EGP", "ERN", "ETB", "EUR", "FJD", "FKP", "GBP", "GEL", "GHS",
    "GIP", "GMD", "GNF", "GTQ", "GYD", "HKD", "HNL", "HTG", "HUF", "IDR", "ILS", "INR", "IQD", "IRR", "ISK", "JMD",
    "JOD", "JPY", "KES", "KGS", "KHR", "KMF", "KPW", "KRW", "KWD", "KYD", "KZT", "LAK", "LBP", "LKR", "LRD", "LSL",
    "LYD", "MAD", "MDL", "MGA", "MKD", "MMK", "MNT", "MOP", "MRU", "MUR", "MVR", "MWK", "MXN", "MYR", "MZN", "NAD",
    "NGN", "NIO", "NOK", "NPR", "NZD", "OMR", "PAB", "PEN", "PGK", "PHP", "PKR", "PLN", "PYG", "QAR", "RON", "RSD",
    "RUB", "RWF", "SAR", "SBD", "SCR", "SDG", "SEK", "SGD", "SHP", "SLE", "SOS", "SRD", "SSP", "STN", "SVC", "SYP",
    "SZL", "THB", "TJS", "TMT", "TND", "TOP", "TRY", "TTD", "TWD", "TZS", "UAH", "UGX", "USD", "UYU", "UZS", "VES",
    "VND", "VUV", "WST", "XAF", "XCD", "XCG", "XOF", "XPF", "YER", "ZAR", "ZMW", "ZWG",
};

static int cmp_code(const void *a, const void *b) { return strcmp(*(const char *const *)a, *(const char *const *)b); }

int valid_currency(const char *s)
{
    if (!s || strlen(s) != 3) return 0;
    return bsearch(&s, iso4217, sizeof iso4217 / sizeof iso4217[0], sizeof iso4217[0], cmp_code) != NULL;
}

size_t utf8_length(const char *s)
{
    size_t n = 0;
    for (; *s; s++)
        if (((unsigned char)*s & 0xC0) != 0x80) n++;
    return n;
}

int valid_text_chars(const char *s, int multiline)
{
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p < 0x20 || *p == 0x7F) {
            if (!(multiline && (*p == '\n' || *p == '\r' || *p == '\t'))) return 0;
        }
    }
    return 1;
}

int enum_index(const char *const *values, const char *s)
{
    for (int i = 0; values && values[i]; i++)
        if (strcmp(values[i], s) == 0) return i;
    return -1;
}

static int valid_slug(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > 50) return 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        int ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || (i > 0 && (c == '_' || c == '-'));
        if (!ok) return 0;
    }
    return 1;
}

static void check_text(const field_spec *f, const char *path, json_t *j, verrs *v)
{
    if (!json_is_string(j)) { verrs_add(v, path, "must be a string"); return; }
    const char *s = json_string_value(j);
    size_t len = utf8_length(s);
    if ((long long)len < f->min || (long long)len > f->max) {
        verrs_add(v, path, "must be %lld to %lld characters long", f->min, f->max);
        return;
    }
    if (!valid_text_chars(s, f->kind == FK_LONG_TEXT))
        verrs_add(v, path, "must not contain control characters");
}

static void check_array(const field_spec *f, const char *path, json_t *j, verrs *v)
{
    if (!json_is_array(j)) { verrs_add(v, path, "must be an array"); return; }
    if ((long long)json_array_size(j) > f->max) {
        verrs_add(v, path, "must have at most %lld items", f->max);
        return;
    }
    size_t i, k;
    json_t *j_item;
    char item_path[160];
    json_array_foreach(j, i, j_item) {
        snprintf(item_path, sizeof item_path, "%s[%zu]", path, i);
        const char *s = json_string_value(j_item);
        if (!s) { verrs_add(v, item_path, "must be a string"); continue; }
        if (f->kind == FK_UUID_ARRAY && !valid_uuid(s)) { verrs_add(v, item_path, "must be a UUID"); continue; }
        if (f->kind == FK_SLUG_ARRAY && !valid_slug(s)) {
            verrs_add(v, item_path, "must be 1 to 50 characters of a-z, 0-9, _ and -, starting with a letter or digit");
            continue;
        }
        if (f->kind == FK_TEXT_ARRAY && (utf8_length(s) < 1 || utf8_length(s) > 50 || !valid_text_chars(s, 0))) {
            verrs_add(v, item_path, "must be 1 to 50 characters without control characters");
            continue;
        }
        for (k = 0; k < i; k++) {
            const char *prev = json_string_value(json_array_get(j, k));
            if (prev && strcasecmp(prev, s) == 0) { verrs_add(v, item_path, "is a duplicate"); break; }
        }
    }
}

static void check_value(const field_spec *f, const char *path, json_t *j, verrs *v)
{
    const char *s;
    switch (f->kind) {
    case FK_TEXT:
    case FK_LONG_TEXT:
        check_text(f, path, j, v);
        break;
    case FK_ENUM:
        if (!json_is_string(j) || enum_index(f->values, json_string_value(j)) < 0) {
            char list[256] = "";
            for (int i = 0; f->values[i]; i++) {
                strncat(list, i ? ", " : "", sizeof list - strlen(list) - 1);
                strncat(list, f->values[i], sizeof list - strlen(list) - 1);
            }
            verrs_add(v, path, "must be one of: %s", list);
        }
        break;
    case FK_DATE:
        if (!(s = json_string_value(j)) || !valid_date(s)) verrs_add(v, path, "must be a calendar date YYYY-MM-DD");
        else if (!date_storable(s))
            verrs_add(v, path, "must be from " DATE_STORABLE_MIN " to " DATE_STORABLE_MAX
                               " (the day after must still have a 4-digit year)");
        break;
    case FK_UUID:
        if (!(s = json_string_value(j)) || !valid_uuid(s)) verrs_add(v, path, "must be a UUID");
        break;
    case FK_SLUG:
        if (!(s = json_string_value(j)) || !valid_slug(s))
            verrs_add(v, path, "must be 1 to 50 characters of a-z, 0-9, _ and -, starting with a letter or digit");
        break;
    case FK_TIMESTAMP: {
        long long us = 0;
        if (!(s = json_string_value(j)) || !valid_timestamp(s, &us))
            verrs_add(v, path, "must be an RFC 3339 date-time with an offset, e.g. 2026-03-01T09:00:00Z");
        else if (!timestamp_storable(us))
            verrs_add(v, path, "must be from 1900-01-01T00:00:00Z to 9999-12-31T23:59:59Z once converted to UTC");
        break;
    }
    case FK_BOOLEAN:
        if (!json_is_boolean(j)) verrs_add(v, path, "must be true or false");
        break;
    case FK_INTEGER:
        if (!json_is_integer(j) || json_integer_value(j) < f->min || json_integer_value(j) > f->max)
            verrs_add(v, path, "must be an integer from %lld to %lld", f->min, f->max);
        break;
    case FK_NUMBER:
        if (!json_is_number(j) || !isfinite(json_number_value(j)) || json_number_value(j) < (double)f->min ||
            json_number_value(j) > (double)f->max)
            verrs_add(v, path, "must be a number from %lld to %lld", f->min, f->max);
        break;
    case FK_DECIMAL:
        if (!(s = json_string_value(j)) || !valid_decimal_amount(s))
            verrs_add(v, path, "must be a decimal string >= 0 with at most 2 decimals, e.g. \"1250.00\"");
        break;
    case FK_CURRENCY:
        if (!(s = json_string_value(j)) || !valid_currency(s)) verrs_add(v, path, "must be an ISO 4217 currency code");
        break;
    case FK_UUID_ARRAY:
    case FK_SLUG_ARRAY:
    case FK_TEXT_ARRAY:
        check_array(f, path, j, v);
        break;
    case FK_OBJECT:
        if (!json_is_object(j)) verrs_add(v, path, "must be an object");
        else validate_object(j, f->fields, VALIDATE_CREATE, path, v);
        break;
    case FK_OBJECT_ARRAY: {
        if (!json_is_array(j)) { verrs_add(v, path, "must be an array"); break; }
        if ((long long)json_array_size(j) > f->max) { verrs_add(v, path, "must have at most %lld items", f->max); break; }
        size_t i;
        json_t *j_item;
        char item_path[160];
        json_array_foreach(j, i, j_item) {
            snprintf(item_path, sizeof item_path, "%s[%zu]", path, i);
            if (!json_is_object(j_item)) verrs_add(v, item_path, "must be an object");
            else validate_object(j_item, f->fields, VALIDATE_CREATE, item_path, v);
        }
        break;
    }
    }
}

size_t validate_object(json_t *j_obj, const field_spec *specs, validate_mode mode, const char *prefix, verrs *v)
{
    size_t before = verrs_count(v);
    char path[160];
    const char *key;
    json_t *j_val;

    json_object_foreach(j_obj, key, j_val) {
        const field_spec *f = specs;
        while (f->name && strcmp(f->name, key) != 0) f++;
        snprintf(path, sizeof path, "%s%s%s", prefix, *prefix ? "." : "", key);
        if (!f->name) { verrs_add(v, path, "unknown field"); continue; }
        if (f->flags & FS_READONLY) { verrs_add(v, path, "read-only field"); continue; }
        if (json_is_null(j_val)) {
            if (!(f->flags & FS_NULLABLE)) verrs_add(v, path, "must not be null");
            continue;
        }
        check_value(f, path, j_val, v);
    }
    if (mode == VALIDATE_CREATE) {
        for (const field_spec *f = specs; f->name; f++) {
            if ((f->flags & FS_REQUIRED) && !json_object_get(j_obj, f->name)) {
                snprintf(path, sizeof path, "%s%s%s", prefix, *prefix ? "." : "", f->name);
                verrs_add(v, path, "is required");
            }
        }
    }
    return verrs_count(v) - before;
}
