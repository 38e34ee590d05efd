/* planning.c — see planning.h. */
#include "planning.h"

#include <gnutls/crypto.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const planning_kpis[] = {"leads", "conversions", "revenue", NULL};
static const char *const backtest_methods[] = {"rolling_origin", "leave_one_out", NULL};

static const field_spec plan_channel_fields[] = {
    {"channel", FK_SLUG, FS_REQUIRED, 0, 0, NULL, NULL},
    {"amount", FK_DECIMAL, FS_REQUIRED, 0, 0, NULL, NULL},
    {NULL, 0, 0, 0, 0, NULL, NULL},
};

/* Either an existing campaign (its channel budgets and dates) or a plan; the rule between them is below. */
static const field_spec forecast_fields[] = {
    {"campaign_id", FK_UUID, 0, 0, 0, NULL, NULL},
    {"currency", FK_CURRENCY, 0, 0, 0, NULL, NULL},
    {"start_date", FK_DATE, 0, 0, 0, NULL, NULL},
    {"end_date", FK_DATE, 0, 0, 0, NULL, NULL},
    {"channels", FK_OBJECT_ARRAY, 0, 0, PLANNING_CHANNELS_MAX, NULL, plan_channel_fields},
    {"segment_ids", FK_UUID_ARRAY, 0, 0, PLANNING_SEGMENTS_MAX, NULL, NULL},
    {NULL, 0, 0, 0, 0, NULL, NULL},
};

static const field_spec allocate_channel_fields[] = {
    {"channel", FK_SLUG, FS_REQUIRED, 0, 0, NULL, NULL},
    {"min", FK_DECIMAL, 0, 0, 0, NULL, NULL},
    {"max", FK_DECIMAL, 0, 0, 0, NULL, NULL},
    {"current", FK_DECIMAL, 0, 0, 0, NULL, NULL},
    {NULL, 0, 0, 0, 0, NULL, NULL},
};

static const field_spec allocate_fields[] = {
    {"kpi", FK_ENUM, FS_REQUIRED, 0, 0, planning_kpis, NULL},
    {"budget", FK_DECIMAL, FS_REQUIRED, 0, 0, NULL, NULL},
    {"currency", FK_CURRENCY, FS_REQUIRED, 0, 0, NULL, NULL},
    {"start_date", FK_DATE, FS_REQUIRED, 0, 0, NULL, NULL},
    {"end_date", FK_DATE, FS_REQUIRED, 0, 0, NULL, NULL},
    {"target_cpa", FK_DECIMAL, 0, 0, 0, NULL, NULL},
    {"channels", FK_OBJECT_ARRAY, FS_REQUIRED, 0, PLANNING_CHANNELS_MAX, NULL, allocate_channel_fields},
    {"segment_ids", FK_UUID_ARRAY, 0, 0, PLANNING_SEGMENTS_MAX, NULL, NULL},
    {NULL, 0, 0, 0, 0, NULL, NULL},
};

_Static_assert(FC_MIN_CAMPAIGNS == 2, "backtest_fields' min_train and the contract say 2");
static const field_spec backtest_fields[] = {
    {"currency", FK_CURRENCY, FS_REQUIRED, 0, 0, NULL, NULL},
    {"method", FK_ENUM, 0, 0, 0, backtest_methods, NULL},
    {"min_train", FK_INTEGER, 0, 2, 10000, NULL, NULL}, /* 2: FC_MIN_CAMPAIGNS, asserted below */
    {NULL, 0, 0, 0, 0, NULL, NULL},
};

long planning_day(const char *date)
{
    /* days from civil (proleptic Gregorian), after H. Hinnant's algorithm */
    int y = 0, m = 0, d = 0;
    if (sscanf(date, "%d-%d-%d", &y, &m, &d) != 3)
        return 0;
    y -= m <= 2;
    long era = (y >= 0 ? y : y - 399) / 400;
    long yoe = y - era * 400;
    long doy = (153L * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    long doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

long long planning_cents(const char *s)
{
    if (!s || !valid_decimal_amount(s))
        return -1;
    long long whole = 0, frac = 0;
    const char *p = s;
    for (; *p >= '0' && *p <= '9'; p++)
        whole = whole * 10 + (*p - '0');
    if (*p == '.') {
        p++;
        for (int i = 0; i < 2; i++, p = *p ? p + 1 : p)
            frac = frac * 10 + (*p >= '0' && *p <= '9' ? *p - '0' : 0);
    }
    return whole * 100 + frac;
}

/* The dates' order and the channels' uniqueness, shared by the plan bodies. */
static void plan_rules(json_t *j_body, verrs *v)
{
    const char *s = json_string_value(json_object_get(j_body, "start_date"));
    const char *e = json_string_value(json_object_get(j_body, "end_date"));
    if (s && e && valid_date(s) && valid_date(e) && strcmp(e, s) < 0)
        verrs_add(v, "end_date", "must not be before start_date");
    if (s && valid_date(s) && !date_storable(s))
        verrs_add(v, "start_date", "must be from " DATE_STORABLE_MIN " to " DATE_STORABLE_MAX);
    if (e && valid_date(e) && !date_storable(e))
        verrs_add(v, "end_date", "must be from " DATE_STORABLE_MIN " to " DATE_STORABLE_MAX);
    json_t *j_ch = json_object_get(j_body, "channels");
    if (!json_is_array(j_ch))
        return;
    if (json_array_size(j_ch) == 0)
        verrs_add(v, "channels", "must name at least one channel");
    for (size_t i = 0; i < json_array_size(j_ch); i++) {
        const char *a = json_string_value(json_object_get(json_array_get(j_ch, i), "channel"));
        for (size_t j = 0; a && j < i; j++) {
            const char *b = json_string_value(json_object_get(json_array_get(j_ch, j), "channel"));
            if (b && !strcmp(a, b)) {
                char f[64];
                snprintf(f, sizeof f, "channels[%zu].channel", i);
                verrs_add(v, f, "names a channel already listed");
                break;
            }
        }
    }
}

size_t planning_validate_forecast(json_t *j_body, verrs *v)
{
    size_t before = verrs_count(v);
    validate_object(j_body, forecast_fields, VALIDATE_CREATE, "", v);
    static const char *const plan[] = {"currency", "start_date", "end_date", "channels", NULL};
    bool by_id = json_object_get(j_body, "campaign_id") != NULL;
    if (by_id && json_object_get(j_body, "segment_ids"))
        verrs_add(v, "segment_ids", "is taken from the campaign: send campaign_id alone, or a plan without it");
    for (size_t i = 0; plan[i]; i++) {
        bool has = json_object_get(j_body, plan[i]) != NULL;
        if (by_id && has)
            verrs_add(v, plan[i], "is taken from the campaign: send campaign_id alone, or a plan without it");
        else if (!by_id && !has)
            verrs_add(v, plan[i], "is required (or campaign_id, to forecast an existing campaign)");
    }
    plan_rules(j_body, v);
    return verrs_count(v) - before;
}

size_t planning_validate_allocate(json_t *j_body, verrs *v)
{
    size_t before = verrs_count(v);
    validate_object(j_body, allocate_fields, VALIDATE_CREATE, "", v);
    plan_rules(j_body, v);
    const char *cpa = json_string_value(json_object_get(j_body, "target_cpa"));
    if (cpa && planning_cents(cpa) == 0)
        verrs_add(v, "target_cpa", "must be more than 0");
    return verrs_count(v) - before;
}

size_t planning_validate_backtest(json_t *j_body, verrs *v)
{
    size_t before = verrs_count(v);
    validate_object(j_body, backtest_fields, VALIDATE_CREATE, "", v);
    return verrs_count(v) - before;
}

/* ---- the history ---- */

void planning_history_free(planning_history *h)
{
    if (!h)
        return;
    for (size_t c = 0; c < h->n_channels; c++)
        free(h->channels[c]);
    free(h->channels);
    free(h->used);
    free(h->campaigns);
    free(h->values);
    memset(h, 0, sizeof *h);
}

long planning_channel(const planning_history *h, const char *name)
{
    for (size_t c = 0; name && c < h->n_channels; c++)
        if (!strcmp(h->channels[c], name))
            return (long)c;
    return -1;
}

static int channel_add(planning_history *h, const char *name, size_t *cap)
{
    if (!name || planning_channel(h, name) >= 0)
        return 0;
    if (h->n_channels == *cap) {
        size_t n = *cap ? 2 * *cap : 16;
        char **p = realloc(h->channels, n * sizeof *p);
        if (!p)
            return -1;
        h->channels = p;
        *cap = n;
    }
    if (!(h->channels[h->n_channels] = strdup(name)))
        return -1;
    h->n_channels++;
    return 0;
}

int planning_history_load(const char *json, json_t *j_channels, planning_history *h)
{
    memset(h, 0, sizeof *h);
    json_t *j = json_loads(json, 0, NULL);
    size_t cap = 0, i, k;
    bool *ms = NULL;
    json_t *j_c, *j_r;
    if (!json_is_array(j))
        goto fail;
    /* every channel named anywhere, in the order met */
    json_array_foreach(j, i, j_c) {
        json_array_foreach(json_object_get(j_c, "rows"), k, j_r)
            if (channel_add(h, json_string_value(json_object_get(j_r, "channel")), &cap))
                goto fail;
        json_array_foreach(json_object_get(j_c, "budgets"), k, j_r)
            if (channel_add(h, json_string_value(json_object_get(j_r, "channel")), &cap))
                goto fail;
    }
    h->n_known = h->n_channels;
    json_array_foreach(j_channels, k, j_r)
        if (channel_add(h, json_string_value(json_object_get(j_r, "channel")), &cap))
            goto fail;
    size_t n = json_array_size(j), nc = h->n_channels, stride = (1 + FC_KPIS) * (nc ? nc : 1);
    h->campaigns = calloc(n ? n : 1, sizeof *h->campaigns);
    h->values = calloc((n ? n : 1) * stride, sizeof *h->values);
    h->used = calloc(nc ? nc : 1, sizeof *h->used);
    ms = calloc(nc ? nc : 1, sizeof *ms); /* per campaign: the channels whose spend was measured */
    if (!h->campaigns || !h->values || !h->used || !ms)
        goto fail;
    json_array_foreach(j, i, j_c) {
        fc_campaign *cp = &h->campaigns[i];
        double *spend = h->values + i * stride, *by[FC_KPIS];
        memset(ms, 0, (nc ? nc : 1) * sizeof *ms);
        for (int q = 0; q < FC_KPIS; q++) {
            by[q] = spend + (size_t)(1 + q) * nc;
            for (size_t c = 0; c < nc; c++)
                by[q][c] = -1;
        }
        const char *start = json_string_value(json_object_get(j_c, "start"));
        const char *end = json_string_value(json_object_get(j_c, "end"));
        if (!start || !end || !valid_date(start) || !valid_date(end))
            goto fail;
        cp->start = (double)planning_day(start);
        cp->days = (double)(planning_day(end) - planning_day(start) + 1);
        json_t *j_a = json_object_get(j_c, "audience");
        cp->audience = json_is_number(j_a) && json_number_value(j_a) > 0 ? json_number_value(j_a) : 0;
        cp->spend = spend;
        if (!h->first[0] || strcmp(start, h->first) < 0)
            snprintf(h->first, sizeof h->first, "%s", start);
        if (!h->last[0] || strcmp(end, h->last) > 0)
            snprintf(h->last, sizeof h->last, "%s", end);
        json_array_foreach(json_object_get(j_c, "rows"), k, j_r) {
            long c = planning_channel(h, json_string_value(json_object_get(j_r, "channel")));
            json_t *j_s = json_object_get(j_r, "spend");
            if (c >= 0 && json_is_number(j_s)) {
                spend[c] += json_number_value(j_s);
                ms[c] = true;
            }
            for (int q = 0; q < FC_KPIS; q++) {
                json_t *j_v = json_object_get(j_r, planning_kpis[q]);
                if (!json_is_number(j_v))
                    continue;
                double x = json_number_value(j_v);
                if (c >= 0) {
                    by[q][c] = (by[q][c] < 0 ? 0 : by[q][c]) + x;
                    cp->by_channel[q] = by[q];
                } else {
                    cp->has_total[q] = true;
                }
                cp->total[q] += x; /* everything the campaign measured, credited to a channel or not */
            }
        }
        json_array_foreach(json_object_get(j_c, "budgets"), k, j_r) {
            long c = planning_channel(h, json_string_value(json_object_get(j_r, "channel")));
            long long cents = planning_cents(json_string_value(json_object_get(j_r, "amount")));
            if (c >= 0 && !ms[c] && cents >= 0)
                spend[c] = (double)cents / 100;
        }
        for (size_t c = 0; c < nc; c++)
            h->used[c] = h->used[c] || spend[c] > 0;
    }
    h->history = (fc_history){nc, n, h->campaigns};
    json_decref(j);
    free(ms);
    return 0;
fail:
    json_decref(j);
    free(ms);
    planning_history_free(h);
    return -1;
}

char *planning_history_summary(const planning_history *h)
{
    json_t *j_ch = json_array(), *j = NULL;
    for (size_t c = 0; j_ch && c < h->n_known; c++)
        if (json_array_append_new(j_ch, json_pack("[s, b]", h->channels[c], h->used[c]))) {
            json_decref(j_ch);
            j_ch = NULL;
        }
    if (j_ch)
        j = json_pack("{s:I, s:s, s:s, s:o}", "campaigns", (json_int_t)h->history.n_campaigns, "from", h->first,
                      "to", h->last, "channels", j_ch);
    char *out = j ? json_dumps(j, JSON_COMPACT) : NULL;
    json_decref(j);
    return out;
}

int planning_history_from_summary(const char *summary, json_t *j_channels, planning_history *h)
{
    memset(h, 0, sizeof *h);
    json_t *j = json_loads(summary, 0, NULL), *j_c;
    json_t *j_list = json_object_get(j, "channels");
    const char *first = json_string_value(json_object_get(j, "from"));
    const char *last = json_string_value(json_object_get(j, "to"));
    json_t *j_n = json_object_get(j, "campaigns");
    size_t cap = 0, k, n = json_array_size(j_list) + json_array_size(j_channels);
    if (!json_is_array(j_list) || !first || !last || !json_is_integer(j_n) || json_integer_value(j_n) < 0 ||
        !(h->used = calloc(n ? n : 1, sizeof *h->used)))
        goto fail;
    json_array_foreach(j_list, k, j_c) {
        size_t before = h->n_channels;
        if (channel_add(h, json_string_value(json_array_get(j_c, 0)), &cap) || h->n_channels == before)
            goto fail;
        h->used[before] = json_is_true(json_array_get(j_c, 1));
    }
    h->n_known = h->n_channels;
    json_array_foreach(j_channels, k, j_c)
        if (channel_add(h, json_string_value(json_object_get(j_c, "channel")), &cap))
            goto fail;
    snprintf(h->first, sizeof h->first, "%s", first);
    snprintf(h->last, sizeof h->last, "%s", last);
    h->history = (fc_history){h->n_channels, (size_t)json_integer_value(j_n), NULL};
    json_decref(j);
    return 0;
fail:
    json_decref(j);
    planning_history_free(h);
    return -1;
}

/* ---- the fits ---- */

/* Ends hd and writes its SHA-256 in hex. */
static void hash_hex(gnutls_hash_hd_t hd, char out[65])
{
    unsigned char d[32];
    gnutls_hash_deinit(hd, d);
    for (size_t i = 0; i < sizeof d; i++)
        snprintf(out + 2 * i, 3, "%02x", d[i]);
}

int planning_fit_keys(const planning_history *h, const char *version, const char *currency, const char *exclude_id,
                      char scope[65], char inputs[65])
{
    gnutls_hash_hd_t hd;
    if (gnutls_hash_init(&hd, GNUTLS_DIG_SHA256) < 0)
        return -1;
    /* every part ends with a NUL, so no two lists of parts hash alike */
    int rc = gnutls_hash(hd, currency, strlen(currency) + 1) < 0 ||
             gnutls_hash(hd, exclude_id ? exclude_id : "", strlen(exclude_id ? exclude_id : "") + 1) < 0;
    for (size_t c = 0; !rc && c < h->n_channels; c++)
        rc = gnutls_hash(hd, h->channels[c], strlen(h->channels[c]) + 1) < 0;
    hash_hex(hd, scope);
    if (rc || gnutls_hash_init(&hd, GNUTLS_DIG_SHA256) < 0)
        return -1;
    char fit[32];
    snprintf(fit, sizeof fit, "fit %d", FC_FIT_VERSION);
    rc = gnutls_hash(hd, fit, strlen(fit) + 1) < 0 || gnutls_hash(hd, scope, 65) < 0 ||
         gnutls_hash(hd, "history", sizeof "history") < 0 || gnutls_hash(hd, version, strlen(version) + 1) < 0;
    hash_hex(hd, inputs);
    return rc ? -1 : 0;
}

bool planning_fits_decode(planning_fits *f, const planning_history *h, fc_kpi kpi, const unsigned char *bytes,
                          size_t len)
{
    fc_model *m = NULL;
    if (f->model[kpi] || fc_model_decode(bytes, len, &m) != FC_OK)
        return false;
    if (fc_model_kpi(m) != kpi || fc_model_channels(m) != h->n_channels) {
        fc_model_free(m);
        return false;
    }
    f->model[kpi] = m;
    f->status[kpi] = FC_OK;
    f->known[kpi] = true;
    return true;
}

const char *planning_fit_refusal(fc_status st)
{
    return st == FC_ERR_NO_HISTORY ? "no_history" : st == FC_ERR_TOO_LITTLE_HISTORY ? "too_little_history" : NULL;
}

bool planning_fits_refused(planning_fits *f, fc_kpi kpi, const char *refusal)
{
    static const fc_status kept[] = {FC_ERR_NO_HISTORY, FC_ERR_TOO_LITTLE_HISTORY};
    for (size_t i = 0; !f->known[kpi] && i < sizeof kept / sizeof *kept; i++)
        if (!strcmp(refusal, planning_fit_refusal(kept[i]))) {
            f->status[kpi] = kept[i];
            f->known[kpi] = true;
            return true;
        }
    return false;
}

bool planning_fits_known(const planning_fits *f, unsigned mask)
{
    for (int q = 0; q < FC_KPIS; q++)
        if (mask & 1u << q && !f->known[q])
            return false;
    return true;
}

void planning_fits_complete(const planning_history *h, unsigned mask, planning_fits *f)
{
    for (int q = 0; q < FC_KPIS; q++) {
        if (!(mask & 1u << q) || f->known[q])
            continue;
        f->status[q] = h->campaigns || !h->history.n_campaigns
                           ? fc_fit(&h->history, q, FC_METHOD_HILL, &f->model[q])
                           : FC_ERR_INVALID; /* a summary's history has no campaigns to fit */
        f->known[q] = f->fitted[q] = f->status[q] == FC_OK || planning_fit_refusal(f->status[q]);
    }
}

void planning_fits_free(planning_fits *f)
{
    for (int q = 0; q < FC_KPIS; q++)
        fc_model_free(f->model[q]);
    memset(f, 0, sizeof *f);
}

app_err planning_refusal(fc_status st, const char **detail)
{
    switch (st) {
    case FC_ERR_NO_HISTORY:
        *detail = "no completed campaign in this currency has both spend and the outcome to learn from";
        return APP_ERR_INSUFFICIENT_HISTORY;
    case FC_ERR_TOO_LITTLE_HISTORY:
        *detail = "fewer than two completed campaigns in this currency measured the outcome: no honest interval";
        return APP_ERR_INSUFFICIENT_HISTORY;
    case FC_ERR_INFEASIBLE:
        *detail = "no split satisfies these bounds";
        return APP_ERR_ALLOCATION_INFEASIBLE;
    case FC_ERR_INVALID:
        *detail = "the history or the plan holds a value the engine cannot use";
        return APP_ERR_INTERNAL;
    default:
        *detail = NULL;
        return APP_ERR_INTERNAL;
    }
}

/* ---- rendering ---- */

static double r2(double x)
{
    return round(x * 100) / 100;
}

static json_t *interval_json(const fc_interval *iv)
{
    return json_pack("{s:f, s:f, s:f}", "p10", r2(iv->p10), "p50", r2(iv->p50), "p90", r2(iv->p90));
}

static json_t *amount_json(long long cents)
{
    char buf[32];
    snprintf(buf, sizeof buf, "%lld.%02lld", cents / 100, cents % 100);
    return json_string(buf);
}

/* {"spend", "leads", "conversions", "revenue", "cpl", "cpa", "roi"}: intervals, null where unknown. */
static json_t *kpi_block(long long cents, const fc_interval *iv, const bool *has)
{
    double spend = (double)cents / 100;
    json_t *j = json_pack("{s:o}", "spend", amount_json(cents));
    for (int q = 0; j && q < FC_KPIS; q++)
        if (json_object_set_new(j, planning_kpis[q], has[q] ? interval_json(&iv[q]) : json_null()))
            goto fail;
    fc_interval x;
    static const struct { const char *name; int kpi; } costs[] = {{"cpl", FC_LEADS}, {"cpa", FC_CONVERSIONS}};
    for (size_t i = 0; j && i < 2; i++) {
        bool ok = has[costs[i].kpi] && fc_cost_per_result(spend, &iv[costs[i].kpi], &x);
        if (json_object_set_new(j, costs[i].name, ok ? interval_json(&x) : json_null()))
            goto fail;
    }
    bool ok = has[FC_REVENUE] && fc_roi(spend, &iv[FC_REVENUE], &x);
    if (j && json_object_set_new(j, "roi", ok ? json_pack("{s:f, s:f, s:f}", "p10", round(x.p10 * 1e4) / 1e4, "p50",
                                                          round(x.p50 * 1e4) / 1e4, "p90", round(x.p90 * 1e4) / 1e4)
                                             : json_null()))
        goto fail;
    return j;
fail:
    json_decref(j);
    return NULL;
}

static const char *warning_message(unsigned bit)
{
    switch (bit) {
    case FC_WARN_EXTRAPOLATION:
        return "the plan lies outside the spend (or duration) the history has seen: the curve is extended";
    case FC_WARN_NO_HISTORY:
        return "no completed campaign used this channel: the organisation's average curve stands in";
    case FC_WARN_LITTLE_HISTORY:
        return "too few campaigns for response curves: cost per result from the history stands in";
    case FC_WARN_CONSTANT_SPEND:
        return "the channel's spend never varied: its curve's shape is the organisation's";
    case FC_WARN_THIN_CHANNEL:
        return "the channel was used in fewer than three campaigns: its curve is held near the organisation's";
    case FC_WARN_ZERO_OUTCOMES:
        return "every campaign in the history measured zero";
    default:
        return "";
    }
}

/* Appends one warning per bit of bits. */
static int warnings_add(json_t *j_list, unsigned bits, const char *kpi, const char *channel)
{
    for (unsigned b = 0; fc_warning_names[b]; b++) {
        if (!(bits & (1u << b)))
            continue;
        json_t *j_w = json_pack("{s:s, s:s, s:s?, s:s}", "code", fc_warning_names[b], "kpi", kpi, "channel", channel,
                                "message", warning_message(1u << b));
        if (!j_w || json_array_append_new(j_list, j_w))
            return -1;
    }
    return 0;
}

static int kpi_unavailable(json_t *j_list, fc_status st, const char *kpi)
{
    json_t *j_w = json_pack("{s:s, s:s, s:n, s:s}", "code", st == FC_ERR_NO_HISTORY ? "no_history" : "little_history",
                            "kpi", kpi, "channel", "message",
                            st == FC_ERR_NO_HISTORY ? "no completed campaign measured this outcome: not forecast"
                                                    : "fewer than two completed campaigns measured this outcome: not "
                                                      "forecast");
    return j_w && !json_array_append_new(j_list, j_w) ? 0 : -1;
}

static json_t *history_json(const planning_history *h)
{
    json_t *j_names = json_array();
    for (size_t c = 0; j_names && c < h->n_channels; c++) {
        if (h->used[c] && json_array_append_new(j_names, json_string(h->channels[c]))) {
            json_decref(j_names);
            j_names = NULL;
        }
    }
    if (!j_names)
        return NULL;
    return json_pack("{s:I, s:s?, s:s?, s:o}", "campaigns", (json_int_t)h->history.n_campaigns, "from",
                     h->first[0] ? h->first : NULL, "to", h->last[0] ? h->last : NULL, "channels", j_names);
}

/* The worse of two refusals: too little history says more than none. */
static fc_status worse(fc_status a, fc_status b)
{
    if (a == FC_OK)
        return b;
    return a == FC_ERR_TOO_LITTLE_HISTORY || b == FC_ERR_TOO_LITTLE_HISTORY ? FC_ERR_TOO_LITTLE_HISTORY : a;
}

/* {"size": audience or null, "kpis": the outcomes whose curves answer it} (steals j_kpis) */
static json_t *audience_json(double audience, json_t *j_kpis)
{
    return json_pack("{s:o, s:o}", "size", audience > 0 ? json_integer((json_int_t)audience) : json_null(), "kpis",
                     j_kpis);
}

json_t *planning_forecast(const planning_history *h, const planning_fits *fits, const long long *cents,
                          const char *start, const char *end, const char *currency, double audience, fc_status *st)
{
    size_t nc = h->n_channels;
    double days = (double)(planning_day(end) - planning_day(start) + 1);
    double *spend = calloc(nc ? nc : 1, sizeof *spend);
    fc_interval *iv = calloc((nc + 1) * FC_KPIS, sizeof *iv); /* [channel][kpi], the total last */
    bool has[FC_KPIS] = {0};
    unsigned *chw = calloc((nc ? nc : 1) * FC_KPIS, sizeof *chw);
    fc_channel_forecast *cf = calloc(nc ? nc : 1, sizeof *cf);
    json_t *j_out = NULL, *j_warn = json_array(), *j_ch = json_array(), *j_aud = json_array();
    fc_confidence conf = FC_CONFIDENCE_HIGH;
    fc_status fail = FC_OK;
    long long total = 0;
    *st = FC_OK;
    if (!spend || !iv || !chw || !cf || !j_warn || !j_ch || !j_aud)
        goto out;
    for (size_t c = 0; c < nc; c++) { /* cents < 0: a channel the plan does not name */
        spend[c] = cents[c] > 0 ? (double)cents[c] / 100 : 0;
        total += cents[c] > 0 ? cents[c] : 0;
    }
    for (int q = 0; q < FC_KPIS; q++) {
        const fc_model *m = fits->model[q];
        fc_status s = m ? FC_OK : fits->status[q];
        if (s == FC_ERR_NO_HISTORY || s == FC_ERR_TOO_LITTLE_HISTORY) {
            fail = worse(fail, s);
            if (kpi_unavailable(j_warn, s, planning_kpis[q]))
                goto out;
            continue;
        }
        fc_forecast f = {.channels = cf};
        if (s == FC_OK)
            s = fc_forecast_plan_reaching(m, spend, days, audience, &f);
        bool by_audience = s == FC_OK && fc_model_reference_audience(m) > 0;
        if (by_audience && json_array_append_new(j_aud, json_string(planning_kpis[q])))
            goto out;
        if (s != FC_OK) {
            *st = s;
            goto out;
        }
        has[q] = true;
        conf = f.confidence < conf ? f.confidence : conf;
        iv[nc * FC_KPIS + q] = f.total;
        unsigned by_channel = 0;
        for (size_t c = 0; c < nc; c++) {
            iv[c * FC_KPIS + q] = cf[c].outcome;
            chw[c * FC_KPIS + q] = cents[c] > 0 ? cf[c].warnings : 0;
            by_channel |= chw[c * FC_KPIS + q];
            if (cents[c] > 0 && warnings_add(j_warn, chw[c * FC_KPIS + q], planning_kpis[q], h->channels[c]))
                goto out;
        }
        /* what no channel accounts for: the model's own, the audience, and a duration outside those seen */
        unsigned level = f.warnings & (FC_WARN_LITTLE_HISTORY | FC_WARN_ZERO_OUTCOMES | FC_WARN_AUDIENCE_UNKNOWN |
                                       (by_channel & FC_WARN_EXTRAPOLATION ? 0 : FC_WARN_EXTRAPOLATION));
        if (warnings_add(j_warn, level, planning_kpis[q], NULL))
            goto out;
    }
    if (!has[0] && !has[1] && !has[2]) {
        *st = fail;
        goto out;
    }
    for (size_t c = 0; c < nc; c++) {
        if (cents[c] < 0)
            continue;
        json_t *j_b = kpi_block(cents[c], iv + c * FC_KPIS, has);
        if (!j_b || json_object_set_new(j_b, "channel", json_string(h->channels[c])) ||
            json_array_append_new(j_ch, j_b)) {
            json_decref(j_b);
            goto out;
        }
    }
    j_out = json_pack("{s:s, s:s, s:s, s:I, s:o, s:o, s:s, s:o, s:O, s:O}", "currency", currency, "start_date",
                      start, "end_date", end, "days", (json_int_t)days, "audience", audience_json(audience, j_aud),
                      "history", history_json(h), "confidence", fc_confidence_names[conf], "total",
                      kpi_block(total, iv + nc * FC_KPIS, has), "channels", j_ch, "warnings", j_warn);
    j_aud = NULL;
out:
    free(spend);
    free(iv);
    free(chw);
    free(cf);
    json_decref(j_warn);
    json_decref(j_ch);
    json_decref(j_aud);
    return j_out;
}

static const char *bound_name(fc_bound b)
{
    static const char *const names[] = {"none", "channel", "min_sum", "max_sum", "cpa", "budget"};
    return (unsigned)b < sizeof names / sizeof *names ? names[b] : "none";
}

json_t *planning_allocate(const planning_history *h, const planning_fits *fits, json_t *j_body, double audience,
                          fc_status *st, json_t **j_refusal)
{
    size_t nc = h->n_channels;
    const char *kpi_name = json_string_value(json_object_get(j_body, "kpi"));
    const char *start = json_string_value(json_object_get(j_body, "start_date"));
    const char *end = json_string_value(json_object_get(j_body, "end_date"));
    long long budget = planning_cents(json_string_value(json_object_get(j_body, "budget")));
    const char *cpa = json_string_value(json_object_get(j_body, "target_cpa"));
    json_t *j_list = json_object_get(j_body, "channels"), *j_out = NULL, *j_split = json_array(),
           *j_warn = json_array();
    int kpi = enum_index(planning_kpis, kpi_name);
    double *lo = calloc(nc ? nc : 1, sizeof *lo), *hi = calloc(nc ? nc : 1, sizeof *hi);
    double *cur = calloc(nc ? nc : 1, sizeof *cur), *split = calloc(nc ? nc : 1, sizeof *split);
    double *marg = calloc(nc ? nc : 1, sizeof *marg);
    long long *cents = calloc(nc ? nc : 1, sizeof *cents);
    fc_channel_forecast *cf = calloc(nc ? nc : 1, sizeof *cf);
    const fc_model *m = NULL;
    bool has_current = false;
    *st = FC_OK;
    if (!lo || !hi || !cur || !split || !marg || !cents || !cf || !j_split || !j_warn || kpi < 0)
        goto out;
    size_t i;
    json_t *j_c;
    json_array_foreach(j_list, i, j_c) {
        long c = planning_channel(h, json_string_value(json_object_get(j_c, "channel")));
        if (c < 0)
            goto out;
        const char *mn = json_string_value(json_object_get(j_c, "min"));
        const char *mx = json_string_value(json_object_get(j_c, "max"));
        const char *cu = json_string_value(json_object_get(j_c, "current"));
        lo[c] = mn ? (double)planning_cents(mn) / 100 : 0;
        hi[c] = mx ? (double)planning_cents(mx) / 100 : (double)budget / 100;
        cur[c] = cu ? (double)planning_cents(cu) / 100 : 0;
        has_current = has_current || cu;
    }
    if (!(m = fits->model[kpi])) {
        *st = fits->status[kpi];
        goto out;
    }
    fc_alloc_request req = {.budget = (double)budget / 100,
                            .days = (double)(planning_day(end) - planning_day(start) + 1),
                            .min = lo,
                            .max = hi,
                            .target_cpa = cpa ? (double)planning_cents(cpa) / 100 : 0,
                            .current = has_current ? cur : NULL,
                            .audience = audience};
    fc_alloc_result r = {.split = split, .marginal = marg, .expected.channels = cf};
    if ((*st = fc_allocate(m, &req, &r)) != FC_OK) {
        if (*st == FC_ERR_INFEASIBLE) {
            const char *ch = NULL;
            if (r.bound == FC_BOUND_CHANNEL && r.channel < nc)
                ch = h->channels[r.channel];
            *j_refusal = json_pack("{s:s, s:s?}", "bound", bound_name(r.bound), "channel", ch);
        }
        goto out;
    }
    /* cents that add up: each share rounded, the remainder on a share with room for it */
    long long sum = 0, want = 0;
    for (size_t c = 0; c < nc; c++) {
        cents[c] = llround(split[c] * 100);
        sum += cents[c];
    }
    want = req.target_cpa > 0 ? llround(r.spent * 100) : budget;
    for (size_t c = 0; c < nc && sum != want; c++) {
        long long room = sum < want ? llround(hi[c] * 100) - cents[c] : cents[c] - llround(lo[c] * 100);
        long long move = llabs(want - sum) < room ? llabs(want - sum) : room;
        if (move <= 0)
            continue;
        cents[c] += sum < want ? move : -move;
        sum += sum < want ? move : -move;
    }
    json_array_foreach(j_list, i, j_c) {
        long c = planning_channel(h, json_string_value(json_object_get(j_c, "channel")));
        json_t *j_s = json_pack("{s:s, s:o, s:f, s:o}", "channel", h->channels[c], "amount", amount_json(cents[c]),
                                "marginal_return", round(marg[c] * 1e6) / 1e6, "expected",
                                interval_json(&cf[c].outcome));
        if (!j_s || json_array_append_new(j_split, j_s) || warnings_add(j_warn, cf[c].warnings & ~FC_WARN_EXTRAPOLATION,
                                                                        planning_kpis[kpi], h->channels[c]))
            goto out;
        if (cents[c] > 0 && warnings_add(j_warn, cf[c].warnings & FC_WARN_EXTRAPOLATION, planning_kpis[kpi],
                                         h->channels[c]))
            goto out;
    }
    if (warnings_add(j_warn, (fc_model_warnings(m) & (FC_WARN_LITTLE_HISTORY | FC_WARN_ZERO_OUTCOMES)) |
                                 (r.expected.warnings & FC_WARN_AUDIENCE_UNKNOWN),
                     planning_kpis[kpi], NULL))
        goto out;
    json_t *j_aud = fc_model_reference_audience(m) > 0 ? json_pack("[s]", planning_kpis[kpi]) : json_array();
    j_out = json_pack("{s:s, s:s, s:o, s:o, s:o, s:o, s:o, s:o, s:s, s:O, s:O}", "kpi", planning_kpis[kpi],
                      "currency", json_string_value(json_object_get(j_body, "currency")), "budget",
                      amount_json(budget), "spent", amount_json(sum), "audience", audience_json(audience, j_aud),
                      "expected", interval_json(&r.expected.total), "current",
                      r.has_current ? interval_json(&r.current) : json_null(), "uplift",
                      r.has_current ? json_real(r2(r.uplift)) : json_null(), "confidence",
                      fc_confidence_names[r.expected.confidence], "split", j_split, "warnings", j_warn);
out:
    free(lo);
    free(hi);
    free(cur);
    free(split);
    free(marg);
    free(cents);
    free(cf);
    json_decref(j_split);
    json_decref(j_warn);
    return j_out;
}

static json_t *accuracy_json(const fc_accuracy *a)
{
    return json_pack("{s:I, s:f, s:f, s:f}", "forecasts", (json_int_t)a->n, "mape", round(a->mape * 1e4) / 1e4,
                     "wmape", round(a->wmape * 1e4) / 1e4, "coverage", round(a->coverage * 1e4) / 1e4);
}

json_t *planning_backtest(const planning_history *h, json_t *j_body, fc_status *st)
{
    const char *method = json_string_value(json_object_get(j_body, "method"));
    bool loo = method && !strcmp(method, "leave_one_out");
    json_t *j_mt = json_object_get(j_body, "min_train");
    size_t n = h->history.n_campaigns;
    size_t min_train = j_mt ? (size_t)json_integer_value(j_mt) : (n / 4 > FC_MIN_CAMPAIGNS ? n / 4 : FC_MIN_CAMPAIGNS);
    fc_backtest b;
    json_t *j_kpis = json_array(), *j_out = NULL;
    if (!j_kpis)
        return NULL;
    if ((*st = fc_backtest_run(&h->history, loo ? FC_BACKTEST_LEAVE_ONE_OUT : FC_BACKTEST_ROLLING_ORIGIN, min_train,
                               &b)) != FC_OK) {
        json_decref(j_kpis);
        return NULL;
    }
    if (b.folds == 0) {
        *st = FC_ERR_TOO_LITTLE_HISTORY;
        goto out;
    }
    for (int q = 0; q < FC_KPIS; q++) {
        if (!b.has_total[q] && !b.by_channel[q])
            continue;
        json_t *j_ch = json_array();
        for (size_t c = 0; j_ch && b.by_channel[q] && c < h->n_channels; c++) {
            const fc_score *s = &b.by_channel[q][c];
            if (!s->model.n)
                continue;
            if (json_array_append_new(j_ch, json_pack("{s:s, s:o, s:o}", "channel", h->channels[c], "model",
                                                      accuracy_json(&s->model), "baseline",
                                                      accuracy_json(&s->baseline)))) {
                json_decref(j_ch);
                j_ch = NULL;
            }
        }
        json_t *j_k = j_ch ? json_pack("{s:s, s:o, s:o, s:o}", "kpi", planning_kpis[q], "model",
                                       b.has_total[q] ? accuracy_json(&b.total[q].model) : json_null(), "baseline",
                                       b.has_total[q] ? accuracy_json(&b.total[q].baseline) : json_null(), "channels",
                                       j_ch)
                           : NULL;
        if (!j_k || json_array_append_new(j_kpis, j_k))
            goto out;
    }
    j_out = json_pack("{s:s, s:s, s:I, s:I, s:O}", "currency", json_string_value(json_object_get(j_body, "currency")),
                      "method", loo ? "leave_one_out" : "rolling_origin", "campaigns", (json_int_t)n, "folds",
                      (json_int_t)b.folds, "kpis", j_kpis);
out:
    fc_backtest_free(&b);
    json_decref(j_kpis);
    return j_out;
}
