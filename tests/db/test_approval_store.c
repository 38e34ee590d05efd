/* test_approval_store.c — workflow templates, approval requests and decisions against the real database:
 * what the schema guarantees to a team whatever the handler above it does (one open request per campaign,
 * one decision per step and only on the current one, the owner never decides, a closed request takes no
 * more, the campaign's status follows), organisation isolation included. Each test has its own organisation
 * and connection (store.h). */
#include "store.h"

#include "approval_store.h"
#include "campaign_store.h"

#define OWNER "olga"
#define THREE_STEPS                                                                                             \
    "{\"name\":\"Creative brief\",\"steps\":[{\"name\":\"Project lead\",\"role\":\"manager\"},"               \
    "{\"name\":\"Communication lead\",\"role\":\"approver\"},{\"name\":\"Director\",\"role\":\"admin\"}]}"

/* A workflow of organisation o, committed; its document. */
static json_t *make_workflow(const char *o, const char *body, char id[37])
{
    db_doc doc = {0};
    app_refusal why = {0};
    store_begin_in(o, "ada", "admin");
    ck_assert_int_eq(workflow_store_insert(c, o, "ada", body, &doc, id, &why), APP_OK);
    store_commit();
    return store_doc(&doc);
}

/* A draft campaign of this test's organisation owned by OWNER, committed. */
static void make_campaign(char id[37])
{
    db_doc doc = {0};
    store_begin_in(org, OWNER, "planner");
    ck_assert_int_eq(campaign_store_insert(c, org, OWNER,
                                           "{\"name\":\"Spring\",\"objective\":\"launch\",\"start_date\":\"2027-03-01\","
                                           "\"end_date\":\"2027-03-31\"}",
                                           &doc, id, NULL),
                     APP_OK);
    store_commit();
    db_doc_free(&doc);
}

/* Submits the campaign with the workflow, as the API does (the request, then the campaign in review), in one
 * transaction: committed on APP_OK (*j_request, if not NULL, is the request), rolled back otherwise. */
static app_err submit(const char *campaign, const char *workflow, char id[37], json_t **j_request)
{
    db_doc doc = {0}, campaign_doc = {0};
    app_refusal why = {0};
    store_begin_in(org, OWNER, "planner");
    app_err e = approval_store_submit(c, org, campaign, workflow, OWNER, OWNER, &doc, id, &why);
    if (!e) e = campaign_store_set_status(c, org, campaign, "in_review", "submitted for approval", &campaign_doc, &why);
    db_doc_free(&campaign_doc);
    app_refusal_clear(&why);
    if (e) {
        db_doc_free(&doc);
        db_rollback(c);
        return e;
    }
    store_commit();
    json_t *j = store_doc(&doc);
    if (j_request) *j_request = j;
    else json_decref(j);
    return APP_OK;
}

/* Records decision on step by actor (with role) as the API does: the decision, the request moved on (to the
 * next step, or closed), and when closed the campaign approved or back to draft. Committed on APP_OK (*j_after,
 * if not NULL, is the request after); otherwise rolled back. */
static app_err decide(const char *id, int step, int last, const char *decision, const char *comment,
                      const char *actor, const char *role, json_t **j_after)
{
    db_doc doc = {0}, campaign_doc = {0};
    app_refusal why = {0};
    store_begin_in(org, actor, role);
    app_err e = approval_store_decide(c, org, id, step, decision, comment, actor, role, strcmp(role, "admin") == 0,
                                      &why);
    const char *status = strcmp(decision, "reject") == 0            ? "rejected"
                         : strcmp(decision, "request_changes") == 0 ? "changes_requested"
                         : step == last                             ? "approved"
                                                                    : "pending";
    if (!e)
        e = approval_store_advance(c, org, id, status, strcmp(status, "pending") == 0 ? step + 1 : step,
                                   strcmp(decision, "approve") == 0 ? NULL : comment, &doc, &why);
    if (!e && strcmp(status, "pending") != 0) {
        json_t *j = json_loads(doc.json, 0, NULL);
        e = campaign_store_set_status(c, org, store_str(j, "campaign_id"),
                                      strcmp(status, "approved") == 0 ? "approved" : "draft", comment ? comment : status,
                                      &campaign_doc, &why);
        json_decref(j);
    }
    db_doc_free(&campaign_doc);
    app_refusal_clear(&why);
    if (e) {
        db_doc_free(&doc);
        db_rollback(c);
        return e;
    }
    store_commit();
    json_t *j = store_doc(&doc);
    if (j_after) *j_after = j;
    else json_decref(j);
    return APP_OK;
}

static void campaign_status_is(const char *campaign, const char *status)
{
    db_doc doc = {0};
    ck_assert_int_eq(campaign_store_get(c, org, campaign, &doc), APP_OK);
    json_t *j = store_doc(&doc);
    ck_assert_str_eq(store_str(j, "status"), status);
    json_decref(j);
}

START_TEST(a_submission_copies_the_steps_and_puts_the_campaign_in_review)
{
    char wf[37], camp[37], req[37];
    db_doc doc = {0};
    json_decref(make_workflow(org, THREE_STEPS, wf));
    make_campaign(camp);
    json_t *j = NULL;
    ck_assert_int_eq(submit(camp, wf, req, &j), APP_OK);
    ck_assert_str_eq(store_str(j, "status"), "pending");
    ck_assert_str_eq(store_str(j, "campaign_owner"), OWNER);
    ck_assert_uint_eq(json_array_size(json_object_get(j, "steps")), 3);
    ck_assert_int_eq(json_integer_value(json_object_get(json_object_get(j, "current_step"), "index")), 0);
    json_decref(j);
    campaign_status_is(camp, "in_review");

    /* A later edit of the template does not change the open request. */
    app_refusal why = {0};
    store_begin_in(org, "ada", "admin");
    ck_assert_int_eq(workflow_store_update(c, org, wf, "{\"steps\":[{\"name\":\"Solo\",\"role\":\"admin\"}]}", &doc,
                                           &why),
                     APP_OK);
    store_commit();
    db_doc_free(&doc);
    ck_assert_int_eq(approval_store_get(c, org, req, &doc), APP_OK);
    j = store_doc(&doc);
    ck_assert_uint_eq(json_array_size(json_object_get(j, "steps")), 3);
    ck_assert_str_eq(store_str(json_array_get(json_object_get(j, "steps"), 0), "name"), "Project lead");
    json_decref(j);

    /* One open request per campaign. */
    char again[37];
    ck_assert_int_eq(submit(camp, wf, again, NULL), APP_ERR_INVALID_STATE);
}
END_TEST

START_TEST(only_an_active_workflow_of_the_organisation_is_submitted_to)
{
    char wf[37], theirs[37], camp[37], req[37];
    db_doc doc = {0};
    json_decref(make_workflow(other_org, THREE_STEPS, theirs));
    make_campaign(camp);
    ck_assert_int_eq(submit(camp, theirs, req, NULL), APP_ERR_NOT_FOUND);
    ck_assert_int_eq(submit(camp, "123e4567-e89b-12d3-a456-426614174000", req, NULL), APP_ERR_NOT_FOUND);
    /* An archived template (it was used, so removing it archives it) takes no new request. */
    json_decref(make_workflow(org, THREE_STEPS, wf));
    ck_assert_int_eq(submit(camp, wf, req, NULL), APP_OK);
    ck_assert_int_eq(decide(req, 0, 2, "reject", "not this quarter", "mia", "manager", NULL), APP_OK);
    campaign_status_is(camp, "draft");
    app_refusal why = {0};
    store_begin_in(org, "ada", "admin");
    ck_assert_int_eq(workflow_store_remove(c, org, wf, &doc, &why), APP_OK);
    store_commit();
    json_t *j = store_doc(&doc);
    ck_assert(json_is_false(json_object_get(j, "active")));
    json_decref(j);
    ck_assert_int_eq(submit(camp, wf, req, NULL), APP_ERR_NOT_FOUND);
    campaign_status_is(camp, "draft");
    /* A template never used is deleted. */
    char unused[37];
    json_decref(make_workflow(org, "{\"name\":\"Unused\",\"steps\":[{\"name\":\"x\",\"role\":\"admin\"}]}", unused));
    store_begin_in(org, "ada", "admin");
    ck_assert_int_eq(workflow_store_remove(c, org, unused, &doc, &why), APP_OK);
    ck_assert_ptr_null(doc.json);
    store_commit();
    ck_assert_int_eq(workflow_store_get(c, org, unused, &doc), APP_ERR_NOT_FOUND);
}
END_TEST

START_TEST(steps_are_decided_in_order_once_each_and_approve_the_campaign)
{
    char wf[37], camp[37], req[37];
    json_decref(make_workflow(org, THREE_STEPS, wf));
    make_campaign(camp);
    ck_assert_int_eq(submit(camp, wf, req, NULL), APP_OK);
    /* Only the current step. */
    ck_assert_int_eq(decide(req, 1, 2, "approve", NULL, "abe", "approver", NULL), APP_ERR_INVALID_STATE);
    json_t *j = NULL;
    ck_assert_int_eq(decide(req, 0, 2, "approve", "brief is clear", "mia", "manager", &j), APP_OK);
    ck_assert_str_eq(store_str(j, "status"), "pending");
    ck_assert_int_eq(json_integer_value(json_object_get(json_object_get(j, "current_step"), "index")), 1);
    ck_assert_uint_eq(json_array_size(json_object_get(j, "decisions")), 1);
    json_decref(j);
    /* A step is decided once: a second decision on step 0 is refused, whoever sends it. */
    ck_assert_int_eq(decide(req, 0, 2, "approve", NULL, "max", "manager", NULL), APP_ERR_INVALID_STATE);
    /* The campaign's owner never decides its approval, even as an admin. */
    ck_assert_int_eq(decide(req, 1, 2, "approve", NULL, OWNER, "admin", NULL), APP_ERR_FORBIDDEN);
    ck_assert_int_eq(decide(req, 1, 2, "approve", NULL, "abe", "approver", NULL), APP_OK);
    campaign_status_is(camp, "in_review");
    ck_assert_int_eq(decide(req, 2, 2, "approve", NULL, "ada", "admin", &j), APP_OK);
    ck_assert_str_eq(store_str(j, "status"), "approved");
    ck_assert(json_is_null(json_object_get(j, "current_step")));
    ck_assert_uint_eq(json_array_size(json_object_get(j, "decisions")), 3);
    ck_assert_str_eq(store_str(json_array_get(json_object_get(j, "decisions"), 2), "decided_by"), "ada");
    json_decref(j);
    campaign_status_is(camp, "approved");
    /* Closed: no more decisions. */
    ck_assert_int_eq(decide(req, 2, 2, "reject", "too late", "max", "admin", NULL), APP_ERR_INVALID_STATE);
}
END_TEST

START_TEST(changes_requested_close_the_request_and_reopen_the_draft)
{
    char wf[37], camp[37], req[37], next[37];
    json_decref(make_workflow(org, THREE_STEPS, wf));
    make_campaign(camp);
    ck_assert_int_eq(submit(camp, wf, req, NULL), APP_OK);
    /* A rejection or a request for changes says why. */
    ck_assert_int_eq(decide(req, 0, 2, "request_changes", "", "mia", "manager", NULL), APP_ERR_VALIDATION);
    json_t *j = NULL;
    ck_assert_int_eq(decide(req, 0, 2, "request_changes", "tone down the headline", "mia", "manager", &j), APP_OK);
    ck_assert_str_eq(store_str(j, "status"), "changes_requested");
    ck_assert_str_eq(store_str(j, "comment"), "tone down the headline");
    json_decref(j);
    campaign_status_is(camp, "draft");
    /* The campaign cannot be approved on a request that was not. */
    db_doc doc = {0};
    app_refusal why = {0};
    store_begin();
    ck_assert_int_ne(campaign_store_set_status(c, org, camp, "approved", "sneaking", &doc, &why), APP_OK);
    app_refusal_clear(&why);
    db_rollback(c);
    campaign_status_is(camp, "draft");
    /* Once closed, the campaign is submitted afresh. */
    ck_assert_int_eq(submit(camp, wf, next, NULL), APP_OK);
    ck_assert_str_ne(next, req);
    campaign_status_is(camp, "in_review");
}
END_TEST

START_TEST(another_organisation_neither_reads_nor_decides_a_request)
{
    char wf[37], camp[37], req[37];
    db_doc doc = {0};
    json_decref(make_workflow(org, THREE_STEPS, wf));
    make_campaign(camp);
    ck_assert_int_eq(submit(camp, wf, req, NULL), APP_OK);
    ck_assert_int_eq(approval_store_get(c, other_org, req, &doc), APP_ERR_NOT_FOUND);
    ck_assert_int_eq(workflow_store_get(c, other_org, wf, &doc), APP_ERR_NOT_FOUND);
    app_refusal why = {0};
    store_begin_in(other_org, "ivan", "admin");
    ck_assert_int_eq(approval_store_lock(c, other_org, req, &doc), APP_ERR_NOT_FOUND);
    db_rollback(c);
    int seen = 0;
    store_begin_in(other_org, "ivan", "admin");
    ck_assert_int_eq(approval_store_lock_for_decision(c, other_org, req, &seen, &doc), APP_ERR_NOT_FOUND);
    db_rollback(c);
    /* Even sent blind, a decision (which goes with the next statement) does not land. */
    store_begin_in(other_org, "ivan", "admin");
    app_err e = approval_store_decide(c, other_org, req, 0, "approve", NULL, "ivan", "admin", 1, &why);
    if (!e) e = approval_store_advance(c, other_org, req, "approved", 0, NULL, &doc, &why);
    ck_assert_int_ne(e, APP_OK);
    app_refusal_clear(&why);
    db_rollback(c);
    store_begin_in(other_org, "ivan", "admin");
    ck_assert_int_eq(workflow_store_remove(c, other_org, wf, &doc, &why), APP_ERR_NOT_FOUND);
    app_refusal_clear(&why);
    db_rollback(c);
    approval_filter f = {0};
    list_result r;
    ck_assert_int_eq(approval_store_list(c, other_org, &f, 0, 0, NULL, NULL, 50, &r), APP_OK);
    ck_assert_uint_eq(r.n, 0);
    list_result_free(&r);
    ck_assert_int_eq(approval_store_list(c, org, &f, 0, 0, NULL, NULL, 50, &r), APP_OK);
    ck_assert_uint_eq(r.n, 1);
    list_result_free(&r);
    ck_assert_int_eq(approval_store_get(c, org, req, &doc), APP_OK);
    json_t *j = store_doc(&doc);
    ck_assert_uint_eq(json_array_size(json_object_get(j, "decisions")), 0);
    json_decref(j);
}
END_TEST

START_TEST(a_deciders_queue_holds_what_is_theirs_to_decide_now)
{
    char wf[37], camp[37], req[37];
    json_decref(make_workflow(org, THREE_STEPS, wf));
    make_campaign(camp);
    ck_assert_int_eq(submit(camp, wf, req, NULL), APP_OK);
    struct {
        const char *sub, *role;
        size_t n;
    } before[] = {{"mia", "manager", 1}, {"abe", "approver", 0}, {OWNER, "manager", 0}, {"ada", "admin", 1}},
      after[] = {{"mia", "manager", 0}, {"abe", "approver", 1}, {"ada", "admin", 1}};
    for (size_t i = 0; i < sizeof before / sizeof before[0]; i++) {
        approval_filter f = {.mine_sub = before[i].sub, .role = before[i].role};
        list_result r;
        ck_assert_int_eq(approval_store_list(c, org, &f, 0, 0, NULL, NULL, 50, &r), APP_OK);
        ck_assert_msg(r.n == before[i].n, "%s sees %zu", before[i].sub, r.n);
        list_result_free(&r);
    }
    ck_assert_int_eq(decide(req, 0, 2, "approve", NULL, "mia", "manager", NULL), APP_OK);
    for (size_t i = 0; i < sizeof after / sizeof after[0]; i++) {
        approval_filter f = {.mine_sub = after[i].sub, .role = after[i].role};
        list_result r;
        ck_assert_int_eq(approval_store_list(c, org, &f, 0, 0, NULL, NULL, 50, &r), APP_OK);
        ck_assert_msg(r.n == after[i].n, "%s sees %zu", after[i].sub, r.n);
        list_result_free(&r);
    }
}
END_TEST

int main(void)
{
    Suite *s = suite_create("approval_store");
    TCase *tc = store_tcase("approvals");
    tcase_add_test(tc, a_submission_copies_the_steps_and_puts_the_campaign_in_review);
    tcase_add_test(tc, only_an_active_workflow_of_the_organisation_is_submitted_to);
    tcase_add_test(tc, steps_are_decided_in_order_once_each_and_approve_the_campaign);
    tcase_add_test(tc, changes_requested_close_the_request_and_reopen_the_draft);
    tcase_add_test(tc, another_organisation_neither_reads_nor_decides_a_request);
    tcase_add_test(tc, a_deciders_queue_holds_what_is_theirs_to_decide_now);
    suite_add_tcase(s, tc);
    return store_main(s, "approvals");
}
