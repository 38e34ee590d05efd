/* conflicts_json.c — a finding as the API shows it (see conflicts.h): its type, severity, window, message,
 * suggestion, the items involved (ids, names, periods), the campaign to move and why, and free periods. */
#include <string.h>

#include "conflicts.h"

static json_t *day_json(cf_day d)
{
    char s[16];
    cf_day_format(d, s);
    return json_string(s);
}

static json_t *time_json(cf_time t)
{
    char s[32];
    cf_time_format(t, s);
    return json_string(s);
}

/* An id; a proposal not stored yet has "" and shows null. */
static json_t *id_json(const char *id) { return id && *id ? json_string(id) : json_null(); }

static json_t *ref_json(const cf_portfolio *p, cf_ref r)
{
    switch (r.kind) {
    case CF_REF_CAMPAIGN: {
        const cf_campaign *c = &p->campaigns[r.index];
        return json_pack("{s:s, s:o, s:s, s:s, s:o, s:o, s:o}", "type", "campaign", "id", id_json(c->id), "name", c->name,
                         "status", c->status, "start_date", day_json(c->start), "end_date", day_json(c->end),
                         "priority_score", c->priority < 0 ? json_null() : json_real(c->priority / 10.0));
    }
    case CF_REF_BOOKING: {
        const cf_booking *b = &p->bookings[r.index];
        return json_pack("{s:s, s:o, s:o, s:s, s:o, s:o, s:s, s:i}", "type", "booking", "id", id_json(b->id),
                         "campaign_id", id_json(p->campaigns[b->campaign].id), "resource_id", p->resources[b->resource].id, "start",
                         time_json(b->start), "end", time_json(b->end), "status", b->status ? b->status : "tentative",
                         "quantity", b->quantity);
    }
    case CF_REF_RESOURCE: {
        static const char *const kinds[] = {"channel", "person", "slot", "budget_pool"};
        const cf_resource *x = &p->resources[r.index];
        return json_pack("{s:s, s:s, s:s, s:s}", "type", "resource", "id", x->id, "name", x->name, "kind",
                         kinds[x->kind]);
    }
    case CF_REF_SEGMENT: {
        const cf_segment *s = &p->segments[r.index];
        return json_pack("{s:s, s:s, s:s}", "type", "segment", "id", s->id, "name", s->name);
    }
    case CF_REF_UNAVAILABILITY: {
        const cf_unavailability *a = &p->unavailability[r.index];
        return json_pack("{s:s, s:s, s:s, s:s, s:o, s:o}", "type", "availability", "id", a->id, "resource_id",
                         p->resources[a->resource].id, "kind", a->kind, "start", time_json(a->start), "end",
                         time_json(a->end));
    }
    case CF_REF_BLACKOUT: {
        const cf_blackout *e = &p->blackouts[r.index];
        return json_pack("{s:s, s:s, s:s, s:s, s:o, s:o}", "type", "key_event", "id", e->id, "name", e->name, "kind",
                         "blackout", "start_date", day_json(e->start_day), "end_date", day_json(e->end_day));
    }
    case CF_REF_RISK: {
        const cf_risk *k = &p->risks[r.index];
        return json_pack("{s:s, s:s, s:s, s:s}", "type", "risk", "id", k->id, "title", k->title, "campaign_id",
                         p->campaigns[k->campaign].id);
    }
    }
    return NULL;
}

json_t *cf_finding_json(const cf_portfolio *p, const cf_finding *f)
{
    json_t *j_items = json_array(), *j_free = json_array(), *j_move = json_null();
    if (!j_items || !j_free) goto fail;
    for (int i = 0; i < f->nrefs; i++)
        if (json_array_append_new(j_items, ref_json(p, f->refs[i])) != 0) goto fail;
    for (int i = 0; i < f->nfree; i++)
        if (json_array_append_new(j_free, json_pack("{s:s, s:o, s:o}", "resource_id",
                                                    p->resources[f->free[i].resource].id, "start",
                                                    time_json(f->free[i].start), "end", time_json(f->free[i].end))) != 0)
            goto fail;
    if (f->move >= 0) {
        json_decref(j_move);
        j_move = json_pack("{s:o, s:s, s:s}", "campaign_id", id_json(p->campaigns[f->move].id), "name",
                           p->campaigns[f->move].name, "why", f->why_move ? f->why_move : "");
        if (!j_move) goto fail;
    }
    json_t *j_window = f->in_days ? json_pack("{s:o, s:o}", "start", day_json(f->start_day), "end", day_json(f->end_day))
                                  : json_pack("{s:o, s:o}", "start", time_json(f->start), "end", time_json(f->end));
    return json_pack("{s:s, s:s, s:s, s:o, s:s, s:s, s:o, s:o, s:o}", "id", f->key, "type", cf_type_names[f->type],
                     "severity", cf_severity_names[f->severity], "window", j_window, "message", f->message,
                     "suggestion", f->suggestion, "items", j_items, "move", j_move, "free_periods", j_free);
fail:
    json_decref(j_items);
    json_decref(j_free);
    json_decref(j_move);
    return NULL;
}
