/* conflict_store.h — the slice of an organisation's portfolio a conflicts question needs, loaded for the engine
 * (service/engine/conflicts.h) in one round trip: the settings and the window in the organisation's time
 * zone, segments, declared overlaps, resources, campaigns (with their committed booking costs and open
 * critical risks), bookings, availability and blackout key events, each deriving the window in SQL, pipelined. A scan loads the window padded by
 * what the rules look around it (the overlap window, the frequency cap's days, the weeks a suggested move tries);
 * a booking under check loads its resource's bookings only, and only the segments they and it name with their
 * ancestors; a campaign under check loads no bookings. What only the rules about one campaign read (committed
 * cost, spend, risks, channel budgets) is loaded for the campaign asked about, or for every one in a scan. The
 * slice owns everything its portfolio points to. */
#ifndef CAMPAIGND_CONFLICT_STORE_H
#define CAMPAIGND_CONFLICT_STORE_H

#include <jansson.h>

#include "conflicts.h"
#include "db.h"

typedef struct conflict_slice conflict_slice;

typedef enum conflict_mode { CONFLICT_SCAN, CONFLICT_BOOKING, CONFLICT_CAMPAIGN } conflict_mode;

typedef struct conflict_ask {
    conflict_mode mode;
    /* The window [from, to): RFC 3339 instants, or YYYY-MM-DD for the start of that day on the organisation's
     * calendar. A booking: its period; a campaign: its first day and the day after its last. */
    const char *from, *to;
    const char *campaign_id; /* a campaign to load whatever its dates (the proposal's), or NULL */
    const char *resource_id; /* CONFLICT_BOOKING: the booked resource */
    const char *booking_id;  /* CONFLICT_BOOKING: the stored booking the question changes, or NULL (a new one) */
    const char *segment_id;  /* CONFLICT_BOOKING: the proposal's segment, or NULL */
    int around;              /* CONFLICT_BOOKING: load around the period too (free periods, alternatives) */
    int check;               /* CONFLICT_BOOKING: a check, loaded around the period when something that may block
                                it is there (what conflict_slice_wants_around then asks is in the slice already) */
    /* CONFLICT_CAMPAIGN: the segments whose audience the campaigns loaded meet (an array literal "{…}" of ids),
     * and the offer code whose other campaigns are loaded too (NULL: none) */
    const char *segment_ids, *offer_code;
} conflict_ask;

/* The question about a booking j_doc (as its body or document gives it); the strings are borrowed from j_doc. */
conflict_ask conflict_ask_booking(json_t *j_doc);

/* Loads the slice in one round trip; *out to release with conflict_slice_free. APP_ERR_NOT_FOUND:
 * ask->resource_id is not a resource of the organisation. */
app_err conflict_store_load(db_conn *conn, const char *org, const conflict_ask *ask, conflict_slice **out);

/* The same in two steps, for a write whose own first round trip carries the slice: _defer queues its statements
 * (db_defer: ask's strings must live until they are sent) and *out holds their results once the next statement
 * awaited on conn has run; then _read makes the portfolio of them (errors as conflict_store_load). On failure of
 * either, nothing is left to release but *out (after _read). */
app_err conflict_store_defer(db_conn *conn, const char *org, const conflict_ask *ask, conflict_slice **out);
app_err conflict_store_read(conflict_slice *s);
void conflict_slice_free(conflict_slice *s);

/* Borrowed views of the slice (valid until it is freed or a proposal is added). */
const cf_portfolio *conflict_slice_portfolio(const conflict_slice *s);
const cf_settings *conflict_slice_settings(const conflict_slice *s);
/* The scope of the loaded window (no focus): today, and the window in days and instants. */
cf_scope conflict_slice_scope(const conflict_slice *s);

/* The index of a loaded row by id, or -1. */
int conflict_slice_campaign(const conflict_slice *s, const char *id);
int conflict_slice_resource(const conflict_slice *s, const char *id);
int conflict_slice_segment(const conflict_slice *s, const char *id);

/* A campaign's question in full (j_doc: a campaign document or create body, as it would be stored; id: the stored
 * campaign it changes, or NULL): loads its slice and adds j_doc as the proposal at *at (the slice keeps a
 * reference to j_doc). The slice holds the campaigns whose audience meets the proposal's, with dates the rules or
 * a suggested move look at, those promoting its offer code meanwhile, and itself. A finding that names another
 * campaign to move needs that campaign's audience around it too (the week suggested must clear it): the engine
 * is asked, and the slice loaded once more with it when it does. findings (may be NULL) gets what the engine
 * finds about the proposal in the slice returned (cf_run with its scope and focus_campaign *at), to release with
 * cf_result_free. Errors as conflict_store_load, and APP_ERR_VALIDATION with *field "segment_ids" (a segment not
 * of the organisation). */
app_err conflict_store_load_campaign(db_conn *conn, const char *org, json_t *j_doc, const char *id,
                                     conflict_slice **out, int *at, const char **field, cf_result *findings);

/* Adds a proposed booking (j_doc: a booking as its body or document gives it: campaign_id, resource_id,
 * segment_id, start, end, quantity, status) that changes j_stored, the stored booking's document (id, campaign_id,
 * status, cost_estimate), or NULL for a new one. The stored booking leaves the portfolio, and its cost its
 * campaign's committed sum, whether it was loaded or not (a slice holds what is around the new period only: a
 * booking moved away from its old period is not there, its cost is). The slice keeps a reference to both.
 * Returns its index, or -1 with *field set to the body field at fault (an unknown campaign, resource or segment)
 * or NULL (out of memory). */
int conflict_slice_propose_booking(conflict_slice *s, json_t *j_doc, json_t *j_stored, const char **field);

/* The same for a campaign (j_doc: a campaign document or create body: name, status, dates, budget,
 * segment_ids, offer, scoring), replacing the loaded campaign replace_id (may be NULL). */
int conflict_slice_propose_campaign(conflict_slice *s, json_t *j_doc, const char *replace_id, const char **field);

/* Whether a booking's slice loaded without what is around its period (ask.around 0) must be loaded around it for
 * r, the findings of its proposal: a block that suggests free periods (a double booking, a person unavailable, a
 * blackout). The rules' findings are the same either way; only those suggestions need the bookings around. */
int conflict_slice_wants_around(const conflict_slice *s, const cf_result *r);

/* Whether a booking's slice was read short: on a resource this process last saw needing only its own rows (an
 * exclusive slot or person), a new booking's write (no around or booking_id) reads only those, and a check (no
 * around) leaves out what only the other kinds' rules read; when the resource has changed since, the slice lacks
 * what its rules now need. What it holds of the booking's references (its campaign, resource, segment) is whole;
 * before the engine is asked, it is to be loaded again (conflict_slice_load_around), as the conflict gate and the
 * check do. */
int conflict_slice_incomplete(const conflict_slice *s);

/* Loads s again around its period (in place: s's views are replaced) with the last proposal added again at *at;
 * the ask's strings and the proposal must still live. Errors as conflict_store_load. */
app_err conflict_slice_load_around(db_conn *conn, conflict_slice *s, int *at);

/* The question as it was before the last proposal, to tell what the proposal finds anew (cf_finding_known):
 * *p the portfolio without it (the stored booking or campaign it replaces back in place; valid while the slice
 * lives) and *q the scope that finds there what it could find: for a booking, everything the slice holds; for a
 * stored campaign, what names it. 0 when there is no before (a new campaign: every finding naming it is new),
 * 1 when *p and *q are set, -1 out of memory. */
int conflict_slice_before(conflict_slice *s, cf_portfolio *p, cf_scope *q);

/* A decimal money amount ("1250.00") in minor units; 0 when malformed (*ok 0). */
cf_money conflict_money_parse(const char *s, int *ok);

#endif
