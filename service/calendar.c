/* calendar.c — see calendar.h. */
#include "calendar.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>

#include "resource.h"
#include "risk.h"

const char *const key_event_kinds[] = {"industry_event", "holiday", "sales_period", "blackout", NULL};
const char *const calendar_item_types[] = {"campaign", "booking", "availability", "key_event", "risk", NULL};

static const field_spec key_event_fields[] = {
    {"name", FK_TEXT, FS_REQUIRED, 1, 200, NULL, NULL},
    {"kind", FK_ENUM, FS_REQUIRED, 0, 0, key_event_kinds, NULL},
    {"start_date", FK_DATE, FS_REQUIRED, 0, 0, NULL, NULL},
    {"end_date", FK_DATE, FS_REQUIRED, 0, 0, NULL, NULL},
    {"description", FK_LONG_TEXT, FS_NULLABLE, 0, 2000, NULL, NULL},
    {"id", FK_UUID, FS_READONLY, 0, 0, NULL, NULL},
    {"version", FK_INTEGER, FS_READONLY, 0, 0, NULL, NULL},
    {"created_at", FK_TEXT, FS_READONLY, 0, 0, NULL, NULL},
    {"updated_at", FK_TEXT, FS_READONLY, 0, 0, NULL, NULL},
    {NULL, 0, 0, 0, 0, NULL, NULL},
};

static const field_spec feed_filter_fields[] = {
    {"resource_id", FK_UUID, FS_NULLABLE, 0, 0, NULL, NULL},
    {"segment_id", FK_UUID, FS_NULLABLE, 0, 0, NULL, NULL},
    {"channel", FK_TEXT, FS_NULLABLE, 1, 50, NULL, NULL},
    {"owner", FK_TEXT, FS_NULLABLE, 1, 255, NULL, NULL},
    {"types", FK_SLUG_ARRAY, 0, 0, 5, NULL, NULL},
    {NULL, 0, 0, 0, 0, NULL, NULL},
};

static const field_spec feed_token_fields[] = {
    {"name", FK_TEXT, FS_REQUIRED, 1, 200, NULL, NULL},
    {"filters", FK_OBJECT, 0, 0, 0, NULL, feed_filter_fields},
    {"id", FK_UUID, FS_READONLY, 0, 0, NULL, NULL},
    {"token", FK_TEXT, FS_READONLY, 0, 0, NULL, NULL},
    {"created_by", FK_TEXT, FS_READONLY, 0, 0, NULL, NULL},
    {"created_at", FK_TEXT, FS_READONLY, 0, 0, NULL, NULL},
    {"revoked_at", FK_TEXT, FS_READONLY, 0, 0, NULL, NULL},
    {NULL, 0, 0, 0, 0, NULL, NULL},
};

static const char *date_of(json_t *j_body, json_t *j_current, const char *key)
{
    json_t *j = json_object_get(j_body, key);
    if (!j) j = json_object_get(j_current, key);
    return json_is_string(j) ? json_string_value(j) : NULL;
}

size_t key_event_validate(json_t *j_body, validate_mode mode, json_t *j_current, verrs *v)
{
    size_t before = verrs_count(v);
    if (validate_object(j_body, key_event_fields, mode, "", v)) return verrs_count(v) - before;
    const char *start = date_of(j_body, j_current, "start_date"), *end = date_of(j_body, j_current, "end_date");
    /* YYYY-MM-DD compares as text in date order. */
    if (start && end && strcmp(end, start) < 0) verrs_add(v, "end_date", "must be on or after start_date");
    return verrs_count(v) - before;
}

size_t feed_token_validate(json_t *j_body, verrs *v)
{
    size_t before = verrs_count(v);
    if (validate_object(j_body, feed_token_fields, VALIDATE_CREATE, "", v)) return verrs_count(v) - before;
    json_t *j_types = json_object_get(json_object_get(j_body, "filters"), "types");
    size_t i;
    json_t *j_type;
    json_array_foreach(j_types, i, j_type) {
        if (enum_index(calendar_item_types, json_string_value(j_type)) < 0)
            verrs_add(v, "filters.types", "each must be one of campaign, booking, availability, key_event, risk");
    }
    if (j_types && json_array_size(j_types) == 0) verrs_add(v, "filters.types", "must name at least one type");
    return verrs_count(v) - before;
}

/* A colour-blind-safe palette (Tableau 10). */
static const char *const palette[] = {"#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f",
                                      "#edc948", "#b07aa1", "#ff9da7", "#9c755f", "#bab0ac"};

static const char *by_name(const char *key, const char *const *names, const char *const *colours, const char *dflt)
{
    int i = key ? enum_index(names, key) : -1;
    return i < 0 ? dflt : colours[i];
}

const char *calendar_colour(const char *type, const char *key)
{
    static const char *const objectives[] = {"awareness", "acquisition", "conversion", "retention",
                                             "launch", "other", NULL};
    static const char *const objective_colours[] = {"#4e79a7", "#f28e2b", "#59a14f", "#76b7b2", "#e15759", "#9c755f"};
    static const char *const availability_colours[] = {"#79706e", "#bab0ac", "#3b3b3b"};
    static const char *const key_event_colours[] = {"#b07aa1", "#edc948", "#ff9da7", "#3b3b3b"};
    /* low, medium, high, critical: green to red */
    static const char *const risk_level_colours[] = {"#59a14f", "#edc948", "#f28e2b", "#e15759"};
    if (strcmp(type, "campaign") == 0) return by_name(key, objectives, objective_colours, "#9c755f");
    if (strcmp(type, "availability") == 0)
        return by_name(key, availability_kinds, availability_colours, "#79706e");
    if (strcmp(type, "key_event") == 0) return by_name(key, key_event_kinds, key_event_colours, "#b07aa1");
    if (strcmp(type, "risk") == 0) return by_name(key, risk_levels, risk_level_colours, "#e15759");
    /* A booking: the same resource always gets the same colour (FNV-1a of its id). */
    unsigned h = 2166136261u;
    for (const char *p = key ? key : ""; *p; p++) h = (h ^ (unsigned char)*p) * 16777619u;
    return palette[h % (sizeof palette / sizeof palette[0])];
}

const char *calendar_ics_status(const char *type, const char *status)
{
    if (!status) return "CONFIRMED";
    if (strcmp(status, "cancelled") == 0) return "CANCELLED";
    if (strcmp(type, "risk") == 0) return strcmp(status, "closed") == 0 ? "CANCELLED" : "CONFIRMED";
    if (strcmp(type, "booking") == 0) return strcmp(status, "tentative") == 0 ? "TENTATIVE" : "CONFIRMED";
    if (strcmp(type, "campaign") == 0)
        return strcmp(status, "draft") == 0 || strcmp(status, "in_review") == 0 ? "TENTATIVE" : "CONFIRMED";
    return "CONFIRMED";
}

int calendar_feed_token_new(char out[71])
{
    unsigned char raw[32];
    size_t got = 0;
    while (got < sizeof raw) {
        ssize_t n = getrandom(raw + got, sizeof raw - got, 0);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return -1;
        got += (size_t)n;
    }
    memcpy(out, "cfeed_", 6);
    for (size_t i = 0; i < sizeof raw; i++) snprintf(out + 6 + 2 * i, 3, "%02x", raw[i]);
    return 0;
}
