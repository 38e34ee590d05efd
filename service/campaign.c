/* campaign.c — see campaign.h. */
#include "campaign.h"

#include <stdio.h>
#include <string.h>

#include "kpi.h"

const char *const campaign_statuses[] = {"draft", "in_review", "approved", "scheduled",
                                         "live",  "completed", "cancelled", NULL};
const char *const campaign_objectives[] = {"awareness", "acquisition", "conversion", "retention",
                                           "launch",    "other",       NULL};

static const field_spec money_fields[] = {
    {"amount", FK_DECIMAL, FS_REQUIRED, 0, 0, NULL, NULL},
    {"currency", FK_CURRENCY, FS_REQUIRED, 0, 0, NULL, NULL},
    {NULL, 0, 0, 0, 0, NULL, NULL},
};

static const field_spec offer_fields[] = {
    {"code", FK_TEXT, FS_NULLABLE, 1, 50, NULL, NULL},
    {"description", FK_LONG_TEXT, FS_NULLABLE, 0, 2000, NULL, NULL},
    {"terms", FK_LONG_TEXT, FS_NULLABLE, 0, 2000, NULL, NULL},
    {NULL, 0, 0, 0, 0, NULL, NULL},
};

static const field_spec scoring_fields[] = {
    {"engagement_potential", FK_NUMBER, FS_REQUIRED, 0, 10, NULL, NULL},
    {"estimated_cpa", FK_NUMBER, FS_REQUIRED, 0, 10, NULL, NULL},
    {"customer_experience", FK_NUMBER, FS_REQUIRED, 0, 10, NULL, NULL},
    {"strategic_alignment", FK_NUMBER, FS_REQUIRED, 0, 10, NULL, NULL},
    {NULL, 0, 0, 0, 0, NULL, NULL},
};

static const field_spec channel_budget_fields[] = {
    {"channel", FK_SLUG, FS_REQUIRED, 0, 0, NULL, NULL},
    {"amount", FK_DECIMAL, FS_REQUIRED, 0, 0, NULL, NULL},
    {NULL, 0, 0, 0, 0, NULL, NULL},
};

static const field_spec campaign_fields[] = {
    {"name", FK_TEXT, FS_REQUIRED, 1, 200, NULL, NULL},
    {"objective", FK_ENUM, FS_REQUIRED, 0, 0, campaign_objectives, NULL},
    {"start_date", FK_DATE, FS_REQUIRED, 0, 0, NULL, NULL},
    {"end_date", FK_DATE, FS_REQUIRED, 0, 0, NULL, NULL},
    {"budget", FK_OBJECT, FS_NULLABLE, 0, 0, NULL, money_fields},
    {"channel_budgets", FK_OBJECT_ARRAY, FS_NULLABLE, 0, CAMPAIGN_CHANNEL_BUDGETS_MAX, NULL, channel_budget_fields},
    {"team", FK_TEXT, FS_NULLABLE, 1, 100, NULL, NULL},
    {"offer", FK_OBJECT, FS_NULLABLE, 0, 0, NULL, offer_fields},
    {"segment_ids", FK_UUID_ARRAY, 0, 0, 50, NULL, NULL},
    {"channels", FK_SLUG_ARRAY, 0, 0, 20, NULL, NULL},
    {"tags", FK_TEXT_ARRAY, 0, 0, 20, NULL, NULL},
    {"notes", FK_LONG_TEXT, FS_NULLABLE, 0, 10000, NULL, NULL},
    {"scoring", FK_OBJECT, FS_NULLABLE, 0, 0, NULL, scoring_fields},
    {"force", FK_BOOLEAN, 0, 0, 0, NULL, NULL}, /* override blocking conflict findings (a manager or admin) */
    {"id", FK_UUID, FS_READONLY, 0, 0, NULL, NULL},
    {"status", FK_TEXT, FS_READONLY, 0, 0, NULL, NULL},
    {"status_reason", FK_TEXT, FS_READONLY, 0, 0, NULL, NULL},
    {"priority_score", FK_NUMBER, FS_READONLY, 0, 0, NULL, NULL},
    {"owner", FK_TEXT, FS_READONLY, 0, 0, NULL, NULL},
    {"version", FK_INTEGER, FS_READONLY, 0, 0, NULL, NULL},
    {"created_by", FK_TEXT, FS_READONLY, 0, 0, NULL, NULL},
    {"created_at", FK_TEXT, FS_READONLY, 0, 0, NULL, NULL},
    {"updated_at", FK_TEXT, FS_READONLY, 0, 0, NULL, NULL},
    {NULL, 0, 0, 0, 0, NULL, NULL},
};

static void check_dates(const char *start, const char *end, verrs *v)
{
    /* YYYY-MM-DD compares correctly as text. */
    if (start && end && valid_date(start) && valid_date(end) && strcmp(end, start) < 0)
        verrs_add(v, "end_date", "must be on or after start_date");
}

/* The split of the budget across channels: one amount per channel, summing to at most the budget (and none
 * without a budget). j_cb and j_budget are the values the campaign would have (either may be NULL/null). */
static void check_channel_budgets(json_t *j_cb, json_t *j_budget, verrs *v)
{
    if (!json_array_size(j_cb)) return;
    long long sum = 0, budget = 0;
    size_t i, k;
    json_t *j_e;
    json_array_foreach(j_cb, i, j_e) {
        long long cents = 0;
        const char *ch = json_string_value(json_object_get(j_e, "channel"));
        if (!ch || kpi_parse_cents(json_string_value(json_object_get(j_e, "amount")), &cents) != 0) return;
        sum += cents;
        for (k = 0; k < i; k++)
            if (!strcmp(ch, json_string_value(json_object_get(json_array_get(j_cb, k), "channel")) ?: "")) {
                char path[48];
                snprintf(path, sizeof path, "channel_budgets[%zu].channel", i);
                verrs_add(v, path, "is a duplicate: one amount per channel");
                return;
            }
    }
    const char *amount = json_string_value(json_object_get(j_budget, "amount"));
    if (!amount) { verrs_add(v, "channel_budgets", "needs a budget to split"); return; }
    if (kpi_parse_cents(amount, &budget) != 0) return;
    if (sum > budget) {
        char s1[32], s2[32];
        kpi_format_cents(sum, s1);
        kpi_format_cents(budget, s2);
        verrs_add(v, "channel_budgets", "sum to %s, more than the budget of %s", s1, s2);
    }
}

size_t campaign_validate_create(json_t *j_body, verrs *v)
{
    size_t before = verrs_count(v);
    validate_object(j_body, campaign_fields, VALIDATE_CREATE, "", v);
    check_dates(json_string_value(json_object_get(j_body, "start_date")),
                json_string_value(json_object_get(j_body, "end_date")), v);
    if (verrs_count(v) == before)
        check_channel_budgets(json_object_get(j_body, "channel_budgets"), json_object_get(j_body, "budget"), v);
    return verrs_count(v) - before;
}

size_t campaign_validate_patch(json_t *j_patch, json_t *j_current, verrs *v)
{
    size_t before = verrs_count(v);
    validate_object(j_patch, campaign_fields, VALIDATE_PATCH, "", v);
    json_t *j_start = json_object_get(j_patch, "start_date");
    json_t *j_end = json_object_get(j_patch, "end_date");
    if (j_start || j_end)
        check_dates(json_string_value(j_start ? j_start : json_object_get(j_current, "start_date")),
                    json_string_value(j_end ? j_end : json_object_get(j_current, "end_date")), v);
    /* The split against the budget the campaign would have: the patch's, else the stored one. */
    json_t *j_cb = json_object_get(j_patch, "channel_budgets"), *j_budget = json_object_get(j_patch, "budget");
    if (verrs_count(v) == before && (j_cb || j_budget) && (j_current || (j_cb && j_budget)))
        check_channel_budgets(j_cb ? j_cb : json_object_get(j_current, "channel_budgets"),
                              j_budget ? j_budget : json_object_get(j_current, "budget"), v);
    return verrs_count(v) - before;
}

/* The lifecycle of SPEC §3; `workflow` edges are taken only by the approval
 * workflow (submission, the last approval, a material change of a scheduled
 * campaign), never requested directly. Mirrors campaign_status_transitions
 * (sql/migrations/0001_core.sql, 0007_approvals.sql). */
static const struct {
    const char *from, *to;
    int workflow;
} edges[] = {
    {"draft", "in_review", 1},     {"draft", "cancelled", 0},     {"in_review", "draft", 0},
    {"in_review", "cancelled", 0}, {"in_review", "approved", 1},  {"approved", "scheduled", 0},
    {"approved", "draft", 0},      {"approved", "cancelled", 0},  {"scheduled", "live", 0},
    {"scheduled", "approved", 0},  {"scheduled", "draft", 1},     {"scheduled", "cancelled", 0},
    {"live", "completed", 0},      {"live", "cancelled", 0},
};

transition_verdict campaign_transition_check(const char *from, const char *to)
{
    for (size_t i = 0; i < sizeof edges / sizeof edges[0]; i++)
        if (strcmp(edges[i].from, from) == 0 && strcmp(edges[i].to, to) == 0)
            return edges[i].workflow ? TRANSITION_WORKFLOW_ONLY : TRANSITION_OK;
    return TRANSITION_INVALID;
}

json_t *campaign_transitions_allowed(const char *from)
{
    json_t *j = json_array();
    for (size_t i = 0; j && i < sizeof edges / sizeof edges[0]; i++)
        if (!edges[i].workflow && strcmp(edges[i].from, from) == 0 &&
            json_array_append_new(j, json_string(edges[i].to)) != 0) {
            json_decref(j);
            j = NULL;
        }
    return j;
}

static const field_spec transition_fields[] = {
    {"to", FK_ENUM, FS_REQUIRED, 0, 0, campaign_statuses, NULL},
    {"reason", FK_LONG_TEXT, FS_NULLABLE, 0, 1000, NULL, NULL},
    {"force", FK_BOOLEAN, 0, 0, 0, NULL, NULL},
    {NULL, 0, 0, 0, 0, NULL, NULL},
};

size_t campaign_validate_transition(json_t *j_body, verrs *v)
{
    return validate_object(j_body, transition_fields, VALIDATE_CREATE, "", v);
}

int campaign_deletable(const char *status)
{
    return strcmp(status, "draft") == 0 || strcmp(status, "cancelled") == 0;
}
