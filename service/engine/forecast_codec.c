/* forecast_codec.c — a fitted model as bytes and back (fc_model_encode, fc_model_decode), so a fit can be kept
 * outside the process (the service keeps it in the database) and read again bit for bit: every double is copied
 * as its 8 bytes, so a decoded model answers exactly as the model that was encoded. The bytes are this machine's
 * layout; the header says which (a format number, the sizes and the byte order of a known double), and a reader
 * on another layout refuses them, so a caller simply fits again. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "forecast_internal.h"

#define FC_CODEC_MAGIC "fcm1"
#define FC_CODEC_ORDER 1.0009765625 /* a double whose bytes differ in each byte order */

typedef struct {
    unsigned char *buf;
    size_t len, cap;
    bool failed;
} writer;

static void put(writer *w, const void *p, size_t n)
{
    if (w->failed)
        return;
    if (w->len + n > w->cap) {
        size_t cap = w->cap ? w->cap : 1024;
        while (cap < w->len + n)
            cap *= 2;
        unsigned char *b = realloc(w->buf, cap);
        if (!b) {
            w->failed = true;
            return;
        }
        w->buf = b;
        w->cap = cap;
    }
    memcpy(w->buf + w->len, p, n);
    w->len += n;
}

static void put_u64(writer *w, uint64_t v) { put(w, &v, sizeof v); }
static void put_f(writer *w, double v) { put(w, &v, sizeof v); }
static void put_fs(writer *w, const double *v, size_t n) { put(w, v, n * sizeof *v); }

typedef struct {
    const unsigned char *p;
    size_t left;
    bool failed;
} reader;

static void get(reader *r, void *out, size_t n)
{
    if (r->failed || n > r->left) {
        r->failed = true;
        memset(out, 0, n);
        return;
    }
    memcpy(out, r->p, n);
    r->p += n;
    r->left -= n;
}

static uint64_t get_u64(reader *r)
{
    uint64_t v;
    get(r, &v, sizeof v);
    return v;
}

static double get_f(reader *r)
{
    double v;
    get(r, &v, sizeof v);
    return v;
}

/* An array of n doubles (n counted from the bytes: never more than they hold), or NULL with r->failed. */
static double *get_fs(reader *r, size_t n)
{
    if (r->failed || n > r->left / sizeof(double)) {
        r->failed = true;
        return NULL;
    }
    double *v = malloc((n ? n : 1) * sizeof *v);
    if (!v) {
        r->failed = true;
        return NULL;
    }
    get(r, v, n * sizeof *v);
    return v;
}

int fc_model_encode(const fc_model *m, unsigned char **out, size_t *len)
{
    writer w = {0};
    size_t nc = m->n_channels;
    put(&w, FC_CODEC_MAGIC, 4);
    put_u64(&w, sizeof(double) << 8 | sizeof(int));
    put_f(&w, FC_CODEC_ORDER);
    put_u64(&w, (uint64_t)m->kpi);
    put_u64(&w, (uint64_t)m->method);
    put_u64(&w, nc);
    for (size_t c = 0; c < nc; c++) {
        const fc_curve *cv = &m->curves[c];
        put_fs(&w, (const double[]){cv->beta, cv->gamma, cv->alpha, cv->spend_min, cv->spend_max}, 5);
        put_u64(&w, cv->n_campaigns);
        put_u64(&w, cv->warnings);
        put_f(&w, m->median[c]);
        put_fs(&w, m->theta + FC_P_PER_CHANNEL * c, FC_P_PER_CHANNEL);
        put_u64(&w, (uint64_t)(int64_t)m->index[c]);
        put_f(&w, m->ratio[c]);
    }
    put_fs(&w, m->prior, FC_P_PER_CHANNEL);
    put_fs(&w, (const double[]){m->prior_sd, m->ratio_total, m->base, m->y_scale, m->d_scale, m->d_ref, m->a_ref,
                                m->audience_min, m->audience_max, m->sigma2, m->w_norm, m->first_start, m->last_end,
                                m->days_min, m->days_max},
           15);
    put_u64(&w, (uint64_t)m->has_base | (uint64_t)m->total_rows << 1 | (uint64_t)m->channel_rows << 2 |
                    (uint64_t)(m->hinv != NULL) << 3);
    put_u64(&w, m->p);
    if (m->hinv)
        put_fs(&w, m->hinv, m->p * m->p);
    put_u64(&w, m->n_resid_total);
    if (m->n_resid_total)
        put_fs(&w, m->resid_total, m->n_resid_total);
    put_u64(&w, m->n_resid_channel);
    if (m->n_resid_channel)
        put_fs(&w, m->resid_channel, m->n_resid_channel);
    put_u64(&w, m->warnings);
    put_u64(&w, m->n_campaigns);
    if (w.failed) {
        free(w.buf);
        return -1;
    }
    *out = w.buf;
    *len = w.len;
    return 0;
}

fc_status fc_model_decode(const unsigned char *bytes, size_t len, fc_model **out)
{
    reader r = {bytes, len, false};
    char magic[4];
    get(&r, magic, sizeof magic);
    uint64_t sizes = get_u64(&r);
    double order = get_f(&r);
    if (r.failed || memcmp(magic, FC_CODEC_MAGIC, 4) || sizes != (sizeof(double) << 8 | sizeof(int)) ||
        order != FC_CODEC_ORDER)
        return FC_ERR_INVALID;
    fc_model *m = calloc(1, sizeof *m);
    if (!m)
        return FC_ERR_NOMEM;
    uint64_t kpi = get_u64(&r), method = get_u64(&r), nc = get_u64(&r);
    /* a channel takes 13 words: more channels than the bytes can hold is a corrupt header */
    if (r.failed || kpi >= FC_KPIS || (method != FC_METHOD_HILL && method != FC_METHOD_RATIO) ||
        nc > r.left / (13 * sizeof(double)))
        goto invalid;
    m->kpi = (fc_kpi)kpi;
    m->method = (fc_method)method;
    m->n_channels = (size_t)nc;
    m->curves = calloc(nc ? nc : 1, sizeof *m->curves);
    m->median = calloc(nc ? nc : 1, sizeof *m->median);
    m->theta = calloc(nc ? FC_P_PER_CHANNEL * nc : 1, sizeof *m->theta);
    m->index = calloc(nc ? nc : 1, sizeof *m->index);
    m->ratio = calloc(nc ? nc : 1, sizeof *m->ratio);
    if (!m->curves || !m->median || !m->theta || !m->index || !m->ratio) {
        fc_model_free(m);
        return FC_ERR_NOMEM;
    }
    for (size_t c = 0; c < nc; c++) {
        fc_curve *cv = &m->curves[c];
        cv->beta = get_f(&r);
        cv->gamma = get_f(&r);
        cv->alpha = get_f(&r);
        cv->spend_min = get_f(&r);
        cv->spend_max = get_f(&r);
        cv->n_campaigns = (size_t)get_u64(&r);
        cv->warnings = (unsigned)get_u64(&r);
        m->median[c] = get_f(&r);
        get(&r, m->theta + FC_P_PER_CHANNEL * c, FC_P_PER_CHANNEL * sizeof(double));
        m->index[c] = (int)(int64_t)get_u64(&r);
        m->ratio[c] = get_f(&r);
    }
    get(&r, m->prior, sizeof m->prior);
    double *f[] = {&m->prior_sd, &m->ratio_total, &m->base, &m->y_scale, &m->d_scale, &m->d_ref, &m->a_ref,
                   &m->audience_min, &m->audience_max, &m->sigma2, &m->w_norm, &m->first_start, &m->last_end,
                   &m->days_min, &m->days_max};
    for (size_t i = 0; i < sizeof f / sizeof *f; i++)
        *f[i] = get_f(&r);
    uint64_t flags = get_u64(&r), p = get_u64(&r);
    m->has_base = flags & 1;
    m->total_rows = flags >> 1 & 1;
    m->channel_rows = flags >> 2 & 1;
    if (r.failed || p > 4096)
        goto invalid;
    m->p = (size_t)p;
    for (size_t c = 0; m->method == FC_METHOD_HILL && c < nc; c++) /* a curve's parameters lie in the fit's */
        if (m->index[c] < -1 || (m->index[c] >= 0 && (uint64_t)m->index[c] + FC_P_PER_CHANNEL > p))
            goto invalid;
    if (flags >> 3 & 1 && !(m->hinv = get_fs(&r, m->p * m->p)))
        goto invalid;
    m->n_resid_total = (size_t)get_u64(&r);
    if (m->n_resid_total && !(m->resid_total = get_fs(&r, m->n_resid_total)))
        goto invalid;
    m->n_resid_channel = (size_t)get_u64(&r);
    if (m->n_resid_channel && !(m->resid_channel = get_fs(&r, m->n_resid_channel)))
        goto invalid;
    m->warnings = (unsigned)get_u64(&r);
    m->n_campaigns = (size_t)get_u64(&r);
    if (r.failed || r.left)
        goto invalid;
    *out = m;
    return FC_OK;
invalid:
    fc_model_free(m);
    return FC_ERR_INVALID;
}
