/* approval.c — see approval.h. */
#include "approval.h"

#include <stdio.h>
#include <string.h>

const char *const approval_statuses[] = {"pending", "approved", "rejected", "changes_requested", "cancelled",
                                         "superseded", NULL};
const char *const approval_decisions[] = {"approve", "reject", "request_changes", NULL};
const char *const approval_step_roles[] = {"admin", "manager", "approver", NULL};

static const field_spec step_fields[] = {
    {"name", FK_TEXT, FS_REQUIRED, 1, 100, NULL, NULL},
    {"role", FK_ENUM, FS_REQUIRED, 0, 0, approval_step_roles, NULL},
    {"approver_sub", FK_TEXT, FS_NULLABLE, 1, 255, NULL, NULL},
    {NULL, 0, 0, 0, 0, NULL, NULL},
};

static const field_spec workflow_fields[] = {
    {"name", FK_TEXT, FS_REQUIRED, 1, 200, NULL, NULL},
    {"description", FK_LONG_TEXT, FS_NULLABLE, 0, 2000, NULL, NULL},
    {"distinct_deciders", FK_BOOLEAN, 0, 0, 0, NULL, NULL},
    {"id", FK_UUID, FS_READONLY, 0, 0, NULL, NULL},
    {"active", FK_BOOLEAN, FS_READONLY, 0, 0, NULL, NULL},
    {"version", FK_INTEGER, FS_READONLY, 0, 0, NULL, NULL},
    {"created_by", FK_TEXT, FS_READONLY, 0, 0, NULL, NULL},
    {"created_at", FK_TEXT, FS_READONLY, 0, 0, NULL, NULL},
    {"updated_at", FK_TEXT, FS_READONLY, 0, 0, NULL, NULL},
    {NULL, 0, 0, 0, 0, NULL, NULL},
};

static const field_spec submit_fields[] = {
    {"workflow_id", FK_UUID, FS_REQUIRED, 0, 0, NULL, NULL},
    {NULL, 0, 0, 0, 0, NULL, NULL},
};

static const field_spec decision_fields[] = {
    {"decision", FK_ENUM, FS_REQUIRED, 0, 0, approval_decisions, NULL},
    {"comment", FK_LONG_TEXT, FS_NULLABLE, 0, 900, NULL, NULL}, /* it becomes the campaign's status reason */
    {"step", FK_INTEGER, 0, 0, WORKFLOW_MAX_STEPS - 1, NULL, NULL},
    {NULL, 0, 0, 0, 0, NULL, NULL},
};

size_t workflow_validate(json_t *j_body, validate_mode mode, verrs *v)
{
    size_t before = verrs_count(v);
    json_t *j_steps = json_object_get(j_body, "steps");
    /* steps is checked here (an array of objects), the rest by the table. */
    json_t *j_rest = json_deep_copy(j_body);
    if (j_rest) json_object_del(j_rest, "steps");
    else if (j_body) v->lost++; /* out of memory: refuse rather than skip the checks */
    validate_object(j_rest, workflow_fields, mode, "", v);
    json_decref(j_rest);
    if (!j_steps) {
        if (mode == VALIDATE_CREATE) verrs_add(v, "steps", "is required");
        return verrs_count(v) - before;
    }
    if (!json_is_array(j_steps)) {
        verrs_add(v, "steps", "must be an array of steps");
        return verrs_count(v) - before;
    }
    size_t n = json_array_size(j_steps);
    if (n < 1 || n > WORKFLOW_MAX_STEPS) verrs_add(v, "steps", "must have 1 to %d steps", WORKFLOW_MAX_STEPS);
    size_t i;
    json_t *j_step;
    json_array_foreach(j_steps, i, j_step) {
        char prefix[32];
        snprintf(prefix, sizeof prefix, "steps[%zu]", i); /* validate_object adds the "." before a field */
        if (!json_is_object(j_step)) {
            verrs_add(v, prefix, "must be an object {name, role, approver_sub}");
            continue;
        }
        validate_object(j_step, step_fields, VALIDATE_CREATE, prefix, v);
    }
    return verrs_count(v) - before;
}

size_t approval_validate_submit(json_t *j_body, verrs *v)
{
    return validate_object(j_body, submit_fields, VALIDATE_CREATE, "", v);
}

size_t approval_validate_decision(json_t *j_body, verrs *v)
{
    size_t before = verrs_count(v);
    if (validate_object(j_body, decision_fields, VALIDATE_CREATE, "", v)) return verrs_count(v) - before;
    const char *decision = json_string_value(json_object_get(j_body, "decision"));
    const char *comment = json_string_value(json_object_get(j_body, "comment"));
    if (strcmp(decision, "approve") != 0 && (!comment || !*comment))
        verrs_add(v, "comment", "is required to %s: say what must change", decision);
    return verrs_count(v) - before;
}

approval_verdict approval_may_decide(json_t *j_step, auth_role role, const char *sub, const char *owner,
                                     int already_decided)
{
    if (owner && strcmp(sub, owner) == 0) return APPROVAL_OWNER;
    const char *step_role = json_string_value(json_object_get(j_step, "role"));
    const char *named = json_string_value(json_object_get(j_step, "approver_sub"));
    int theirs = named ? strcmp(named, sub) == 0 : (step_role && strcmp(step_role, auth_role_name(role)) == 0);
    if (role == ROLE_ADMIN) return theirs ? APPROVAL_MAY_DECIDE : APPROVAL_MAY_DECIDE_ADMIN;
    if (!theirs) return APPROVAL_NOT_THEIRS;
    return already_decided ? APPROVAL_ALREADY_DECIDED : APPROVAL_MAY_DECIDE;
}

/* Whether two arrays hold the same strings, in any order. */
static int same_set(json_t *j_a, json_t *j_b)
{
    if (json_array_size(j_a) != json_array_size(j_b)) return 0;
    size_t i, k;
    json_t *j_x, *j_y;
    json_array_foreach(j_a, i, j_x) {
        int found = 0;
        json_array_foreach(j_b, k, j_y) found = found || json_equal(j_x, j_y);
        if (!found) return 0;
    }
    return 1;
}

/* A decimal amount without trailing fractional zeros ("1250.50" and "1250.5" agree). */
static void amount_key(const char *amount, char out[40])
{
    snprintf(out, 40, "%s", amount ? amount : "");
    if (strchr(out, '.')) {
        size_t n = strlen(out);
        while (n > 0 && out[n - 1] == '0') out[--n] = '\0';
        if (n > 0 && out[n - 1] == '.') out[--n] = '\0';
    }
}

static int same_money(json_t *j_a, json_t *j_b)
{
    if (!json_is_object(j_a) || !json_is_object(j_b)) return json_is_object(j_a) == json_is_object(j_b);
    char a[40], b[40];
    amount_key(json_string_value(json_object_get(j_a, "amount")), a);
    amount_key(json_string_value(json_object_get(j_b, "amount")), b);
    return strcmp(a, b) == 0 && json_equal(json_object_get(j_a, "currency"), json_object_get(j_b, "currency"));
}

/* Channel budgets agree when each channel has the same amount in both (order aside; null is none). */
static int same_split(json_t *j_a, json_t *j_b)
{
    if (json_array_size(j_a) != json_array_size(j_b)) return 0;
    size_t i, k;
    json_t *j_x, *j_y;
    json_array_foreach(j_a, i, j_x) {
        int found = 0;
        json_array_foreach(j_b, k, j_y) {
            char a[40], b[40];
            amount_key(json_string_value(json_object_get(j_x, "amount")), a);
            amount_key(json_string_value(json_object_get(j_y, "amount")), b);
            if (json_equal(json_object_get(j_x, "channel"), json_object_get(j_y, "channel")) && !strcmp(a, b)) found = 1;
        }
        if (!found) return 0;
    }
    return 1;
}

/* Offers agree when every field does (a missing field is null). */
static int same_offer(json_t *j_a, json_t *j_b)
{
    static const char *const keys[] = {"code", "description", "terms", NULL};
    if (!json_is_object(j_a) || !json_is_object(j_b)) return json_is_object(j_a) == json_is_object(j_b);
    for (int i = 0; keys[i]; i++) {
        json_t *j_x = json_object_get(j_a, keys[i]), *j_y = json_object_get(j_b, keys[i]);
        if (!json_equal(j_x ? j_x : json_null(), j_y ? j_y : json_null())) return 0;
    }
    return 1;
}

int campaign_material_change(json_t *j_patch, json_t *j_current)
{
    static const char *const dates[] = {"start_date", "end_date", NULL};
    static const char *const sets[] = {"segment_ids", "channels", NULL};
    for (int i = 0; dates[i]; i++) {
        json_t *j_new = json_object_get(j_patch, dates[i]);
        if (j_new && !json_equal(j_new, json_object_get(j_current, dates[i]))) return 1;
    }
    json_t *j_budget = json_object_get(j_patch, "budget"), *j_offer = json_object_get(j_patch, "offer");
    if (j_budget && !same_money(j_budget, json_object_get(j_current, "budget"))) return 1;
    if (j_offer && !same_offer(j_offer, json_object_get(j_current, "offer"))) return 1;
    json_t *j_split = json_object_get(j_patch, "channel_budgets");
    if (j_split && !same_split(j_split, json_object_get(j_current, "channel_budgets"))) return 1;
    for (int i = 0; sets[i]; i++) {
        json_t *j_new = json_object_get(j_patch, sets[i]);
        if (!j_new) continue;
        json_t *j_old = json_object_get(j_current, sets[i]);
        if (json_is_null(j_new) && json_array_size(j_old) == 0) continue;
        if (!same_set(j_new, j_old)) return 1;
    }
    return 0;
}
