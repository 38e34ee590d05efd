/* conflict_gate.h — the conflict rules on a write's path (booking create and patch): judge the proposal against
 * the slice loaded in the write's transaction, refuse `block` findings with 409 conflict_blocked unless a
 * manager or admin forces the rules the settings allow, note the `warn` findings the change finds anew (a
 * conflict.detected event: not those the portfolio had before it, cf_finding_known) and
 * the forced ones (an audit entry) for the written row's trigger (0048_conflict_notes.sql), and put the warnings
 * in the 2xx answer. What the database refuses by itself (double bookings, capacity, a resource's unavailability)
 * is left to it: the write's refusal stays booking_conflict with what is in the way. */
#ifndef CAMPAIGND_CONFLICT_GATE_H
#define CAMPAIGND_CONFLICT_GATE_H

#include "conflict_store.h"
#include "http.h"
#include "tx.h"

typedef struct conflict_gate {
    cf_result r;
    json_t *j_warnings; /* the warn findings, for the answer */
} conflict_gate;

/* Whether writes are judged by the conflict rules in this replica (CAMPAIGND_CONFLICT_WRITES, on by default; off,
 * only the database's own rules refuse: double bookings, capacity, a resource's unavailability). */
int conflict_gate_on(const req_ctx *ctx);

/* Judges the proposal at index focus of slice s (focus_booking: a booking, else a campaign). Returns 1 to go on
 * with the write (the notes queued on tx, g filled: release with conflict_gate_free); 0 after replying (the
 * transaction closed). force: the body asked to override blocking findings. */
int conflict_gate_or_reply(req_ctx *ctx, write_tx *tx, conflict_slice *s, int focus, int focus_booking, int force,
                           conflict_gate *g);

/* The same judgement as a value, on conn (a write's open transaction): APP_OK to go on (as above); otherwise the
 * refusal, g released: the error, *detail (static) and *j_extra (a new reference or NULL: the findings). For the
 * writes that report a refusal per row (the CSV imports). */
app_err conflict_gate_judge(req_ctx *ctx, db_conn *conn, conflict_slice *s, int focus, int focus_booking, int force,
                            conflict_gate *g, const char **detail, json_t **j_extra);

/* The written document with the gate's warnings added ("warnings": [...]; none: the document unchanged);
 * doc->json replaced. 0 out of memory. */
int conflict_gate_decorate(const conflict_gate *g, db_doc *doc);

void conflict_gate_free(conflict_gate *g);

#endif
