/* risk.c — see risk.h. */
#include "risk.h"

#include <string.h>

const char *const risk_categories[] = {"technical", "regulatory", "reputation", "budget",
                                       "resource",  "schedule",   "other",      NULL};
const char *const risk_statuses[] = {"open", "mitigated", "accepted", "closed", NULL};
const char *const risk_levels[] = {"low", "medium", "high", "critical", NULL};
const risk_thresholds risk_thresholds_default = {4, 9, 15};

static const field_spec risk_fields[] = {
    {"title", FK_TEXT, FS_REQUIRED, 1, 200, NULL, NULL},
    {"category", FK_ENUM, FS_REQUIRED, 0, 0, risk_categories, NULL},
    {"probability", FK_INTEGER, FS_REQUIRED, RISK_RATING_MIN, RISK_RATING_MAX, NULL, NULL},
    {"impact", FK_INTEGER, FS_REQUIRED, RISK_RATING_MIN, RISK_RATING_MAX, NULL, NULL},
    {"mitigation", FK_LONG_TEXT, FS_NULLABLE, 1, 4000, NULL, NULL},
    {"owner", FK_TEXT, 0, 1, 255, NULL, NULL},
    {"status", FK_ENUM, 0, 0, 0, risk_statuses, NULL},
    {"due_date", FK_DATE, FS_NULLABLE, 0, 0, NULL, NULL},
    {"notes", FK_LONG_TEXT, FS_NULLABLE, 0, 10000, NULL, NULL},
    {"id", FK_UUID, FS_READONLY, 0, 0, NULL, NULL},
    {"campaign_id", FK_UUID, FS_READONLY, 0, 0, NULL, NULL},
    {"score", FK_INTEGER, FS_READONLY, 0, 0, NULL, NULL},
    {"level", FK_TEXT, FS_READONLY, 0, 0, NULL, NULL},
    {"version", FK_INTEGER, FS_READONLY, 0, 0, NULL, NULL},
    {"created_by", FK_TEXT, FS_READONLY, 0, 0, NULL, NULL},
    {"created_at", FK_TEXT, FS_READONLY, 0, 0, NULL, NULL},
    {"updated_at", FK_TEXT, FS_READONLY, 0, 0, NULL, NULL},
    {NULL, 0, 0, 0, 0, NULL, NULL},
};

int risk_score(int probability, int impact)
{
    if (probability < RISK_RATING_MIN || probability > RISK_RATING_MAX || impact < RISK_RATING_MIN ||
        impact > RISK_RATING_MAX)
        return 0;
    return probability * impact;
}

int risk_thresholds_valid(const risk_thresholds *t)
{
    return t->low_max >= RISK_RATING_MIN * RISK_RATING_MIN && t->low_max < t->medium_max &&
           t->medium_max < t->high_max && t->high_max <= RISK_SCORE_MAX;
}

const char *risk_level(const risk_thresholds *t, int score)
{
    if (score < RISK_RATING_MIN * RISK_RATING_MIN || score > RISK_SCORE_MAX) return NULL;
    if (score <= t->low_max) return risk_levels[0];
    if (score <= t->medium_max) return risk_levels[1];
    if (score <= t->high_max) return risk_levels[2];
    return risk_levels[3];
}

/* Whether s has a character that is not white space. */
static int has_text(const char *s)
{
    return s[strspn(s, " \t\r\n")] != '\0';
}

size_t risk_validate(json_t *j_body, validate_mode mode, json_t *j_current, verrs *v)
{
    (void)j_current; /* a risk's fields do not depend on each other */
    size_t before = verrs_count(v);
    if (validate_object(j_body, risk_fields, mode, "", v)) return verrs_count(v) - before;
    /* A plan of blanks is no mitigation: the scheduling gate must not take it for one. */
    json_t *j_mitigation = json_object_get(j_body, "mitigation");
    if (json_is_string(j_mitigation) && !has_text(json_string_value(j_mitigation)))
        verrs_add(v, "mitigation", "must not be blank; send null for no mitigation");
    json_t *j_title = json_object_get(j_body, "title");
    if (json_is_string(j_title) && !has_text(json_string_value(j_title))) verrs_add(v, "title", "must not be blank");
    return verrs_count(v) - before;
}
