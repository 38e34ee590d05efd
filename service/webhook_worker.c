/* webhook_worker.c — see webhook_worker.h. */
#define _GNU_SOURCE
#include "webhook_worker.h"

#include <curl/curl.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <time.h>

#include "errors.h"
#include "log.h"
#include "webhook.h"
#include "webhook_store.h"

#define FAN_OUT_BATCH 500       /* outbox events handed over per statement */
#define RESPONSE_KEEP 1024      /* bytes of a response body kept for the log */
#define LEASE_MARGIN_MS 30000   /* a lease outlives the attempt's own timeout by this much */

struct webhook_worker {
    db_pool *pool;
    unsigned poll_ms, timeout_s, connect_timeout_s, divisor, disable_after_s;
    int allow_private;
    unsigned nthreads;
    pthread_t *threads;
    pthread_mutex_t lock;
    pthread_cond_t wake;
    atomic_int stopping;
    atomic_llong deadline_ms; /* when stopping: an attempt in flight is cut at this monotonic time */
};

#define STATS_EVERY_MS 5000      /* between reads of the delivery state for /metrics */

static atomic_ullong count_succeeded, count_failed, count_gone, count_released, count_refused;
static atomic_llong stats_lag_ms = -1, stats_due_ms, stats_pending, stats_disabled; /* -1: never read */
static atomic_llong stats_next_ms; /* when the state is read next (any thread may take the turn) */

void webhook_worker_counts(webhook_counts *out)
{
    out->succeeded = atomic_load(&count_succeeded);
    out->failed = atomic_load(&count_failed);
    out->gone = atomic_load(&count_gone);
    out->released = atomic_load(&count_released);
    out->refused = atomic_load(&count_refused);
    long long lag = atomic_load(&stats_lag_ms);
    out->have_stats = lag >= 0;
    out->outbox_lag_s = lag > 0 ? lag / 1000.0 : 0;
    out->oldest_due_s = atomic_load(&stats_due_ms) / 1000.0;
    out->pending = atomic_load(&stats_pending);
    out->disabled = atomic_load(&stats_disabled);
}

static long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* What one attempt collects from libcurl's callbacks. */
typedef struct attempt_state {
    webhook_worker *w;
    char body[RESPONSE_KEEP + 1];
    size_t body_len;
    char retry_after[64];
    int refused;        /* the connection was refused by the SSRF rules */
    char refused_addr[64];
} attempt_state;

static size_t on_body(char *data, size_t size, size_t n, void *arg)
{
    attempt_state *st = arg;
    size_t len = size * n, room = RESPONSE_KEEP - st->body_len;
    size_t take = len < room ? len : room;
    memcpy(st->body + st->body_len, data, take);
    st->body_len += take;
    return len; /* the rest is read and dropped: the attempt's timeout bounds a receiver that never stops */
}

static size_t on_header(char *data, size_t size, size_t n, void *arg)
{
    attempt_state *st = arg;
    size_t len = size * n;
    static const char name[] = "retry-after:";
    if (len > sizeof name - 1 && strncasecmp(data, name, sizeof name - 1) == 0) {
        size_t vlen = len - (sizeof name - 1);
        if (vlen >= sizeof st->retry_after) vlen = sizeof st->retry_after - 1;
        memcpy(st->retry_after, data + sizeof name - 1, vlen);
        st->retry_after[vlen] = '\0';
        st->retry_after[strcspn(st->retry_after, "\r\n")] = '\0';
    }
    return len;
}

/* The SSRF rules on the address libcurl is about to connect to (DNS may have changed since the subscription
 * was checked, and a name may resolve to several addresses): a socket only for an allowed one. */
static curl_socket_t on_open_socket(void *arg, curlsocktype purpose, struct curl_sockaddr *addr)
{
    attempt_state *st = arg;
    (void)purpose;
    webhook_addr_kind kind = webhook_addr_classify(&addr->addr);
    if (!webhook_addr_allowed(kind, st->w->allow_private)) {
        st->refused = 1;
        snprintf(st->refused_addr, sizeof st->refused_addr, "%s",
                 kind == WEBHOOK_ADDR_PRIVATE ? "a loopback or private address" : "a forbidden address");
        return CURL_SOCKET_BAD;
    }
    return socket(addr->family, addr->socktype, addr->protocol);
}

/* Cuts an attempt in flight once the service is stopping and its grace is over. */
static int on_progress(void *arg, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal, curl_off_t ulnow)
{
    attempt_state *st = arg;
    (void)dltotal, (void)dlnow, (void)ultotal, (void)ulnow;
    return atomic_load(&st->w->stopping) && now_ms() >= atomic_load(&st->w->deadline_ms);
}

/* Replaces what PostgreSQL text cannot hold or a log reader should not get (NUL, invalid UTF-8, a sequence
 * cut by the truncation) with '?'. */
static void sanitize_utf8(char *s, size_t len)
{
    size_t i = 0;
    while (i < len) {
        unsigned char c = (unsigned char)s[i];
        size_t need = c < 0x80 ? 0 : (c & 0xe0) == 0xc0 ? 1 : (c & 0xf0) == 0xe0 ? 2 : (c & 0xf8) == 0xf0 ? 3 : 9;
        int ok = need != 9 && i + need < len && !(c == 0xc0 || c == 0xc1 || c > 0xf4);
        for (size_t k = 1; ok && k <= need; k++) ok = ((unsigned char)s[i + k] & 0xc0) == 0x80;
        if (c == 0 || !ok) { s[i++] = '?'; continue; }
        i += need + 1;
    }
    s[len] = '\0';
}

static double uniform(void)
{
    unsigned r = 0;
    if (getrandom(&r, sizeof r, 0) != (ssize_t)sizeof r) return 0.5;
    return r / 4294967296.0;
}

/* The webhook-signature value: one "v1,<sig>" per secret that signs, space-separated. NULL on failure. */
static char *signatures(const webhook_claim *c, long long ts)
{
    size_t n = 1;
    for (const char *p = c->secrets; *p; p++) n += (*p == ' ');
    char *out = calloc(n, WEBHOOK_SIGNATURE_LEN + 1);
    char *copy = strdup(c->secrets), *save = NULL;
    if (!out || !copy) goto fail;
    size_t len = 0;
    for (char *secret = strtok_r(copy, " ", &save); secret; secret = strtok_r(NULL, " ", &save)) {
        char sig[WEBHOOK_SIGNATURE_LEN + 1];
        if (webhook_sign(secret, c->msg_id, ts, c->body, strlen(c->body), sig) != 0) goto fail;
        if (len) out[len++] = ' ';
        memcpy(out + len, sig, WEBHOOK_SIGNATURE_LEN);
        len += WEBHOOK_SIGNATURE_LEN;
    }
    free(copy);
    if (len == 0) { free(out); return NULL; }
    return out;
fail:
    free(copy);
    free(out);
    return NULL;
}

/* One attempt of delivery c; fills *r (its strings point into *st and errbuf). */
static void attempt(webhook_worker *w, CURL *curl, const webhook_claim *c, attempt_state *st, char *errbuf,
                    size_t errlen, webhook_result *r)
{
    memset(st, 0, sizeof *st);
    st->w = w;
    errbuf[0] = '\0';
    struct timespec wall;
    clock_gettime(CLOCK_REALTIME, &wall);
    long long ts = (long long)wall.tv_sec;
    r->started = (double)wall.tv_sec + wall.tv_nsec / 1e9;
    r->http_status = 0;
    r->response_body = NULL;
    r->error = NULL;
    r->next_ms = -1;
    long long t0 = now_ms();

    char *sig = signatures(c, ts);
    char h_id[64], h_ts[48], *h_sig = NULL;
    struct curl_slist *headers = NULL;
    snprintf(h_id, sizeof h_id, "webhook-id: %s", c->msg_id);
    snprintf(h_ts, sizeof h_ts, "webhook-timestamp: %lld", ts);
    if (!sig || asprintf(&h_sig, "webhook-signature: %s", sig) < 0) {
        h_sig = NULL;
        r->outcome = "failure";
        r->error = "the delivery could not be signed (no valid secret)";
        goto out;
    }
    const char *list[] = {"Content-Type: application/json", "User-Agent: campaignd-webhooks/1", "Expect:", h_id,
                          h_ts, h_sig};
    for (size_t i = 0; i < sizeof list / sizeof list[0]; i++) {
        struct curl_slist *next = curl_slist_append(headers, list[i]);
        if (!next) { r->outcome = "failure"; r->error = "out of memory"; goto out; }
        headers = next;
    }
    curl_easy_reset(curl); /* keeps the connection cache: a receiver's keep-alive connection is reused */
    curl_easy_setopt(curl, CURLOPT_URL, c->url);
    curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 0L); /* a redirect is an answer, not a new target */
    curl_easy_setopt(curl, CURLOPT_PROXY, "");          /* never through a proxy: the address rules see the receiver */
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, (long)w->connect_timeout_s * 1000L);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, (long)w->timeout_s * 1000L);
    curl_easy_setopt(curl, CURLOPT_POST, 1L);
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, c->body);
    curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE, (long)strlen(c->body));
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, st);
    curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(curl, CURLOPT_HEADERDATA, st);
    curl_easy_setopt(curl, CURLOPT_OPENSOCKETFUNCTION, on_open_socket);
    curl_easy_setopt(curl, CURLOPT_OPENSOCKETDATA, st);
    curl_easy_setopt(curl, CURLOPT_XFERINFOFUNCTION, on_progress);
    curl_easy_setopt(curl, CURLOPT_XFERINFODATA, st);
    curl_easy_setopt(curl, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, errbuf);
    CURLcode res = curl_easy_perform(curl);
    long code = 0;
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &code);
    sanitize_utf8(st->body, st->body_len);
    if (st->body_len) r->response_body = st->body;
    if (st->refused) {
        snprintf(errbuf, errlen, "refused: the receiver's host resolved to %s, which deliveries may not reach",
                 st->refused_addr);
        r->outcome = "failure";
        r->error = errbuf;
    } else if (res == CURLE_ABORTED_BY_CALLBACK && atomic_load(&w->stopping)) {
        r->outcome = "released";
    } else if (res != CURLE_OK) {
        if (!errbuf[0]) snprintf(errbuf, errlen, "%s", curl_easy_strerror(res));
        r->outcome = "failure";
        r->error = errbuf;
    } else {
        r->http_status = (int)code;
        r->outcome = code >= 200 && code < 300 ? "success" : code == 410 ? "gone" : "failure";
    }
    if (strcmp(r->outcome, "failure") == 0) {
        long long retry_after = (code == 429 || code == 503) ? webhook_retry_after_s(st->retry_after, ts) : 0;
        r->next_ms = webhook_retry_delay_ms(c->attempt_count + 1, w->divisor, uniform(), retry_after);
    }
out:
    r->duration_ms = now_ms() - t0;
    curl_slist_free_all(headers);
    free(h_sig);
    free(sig);
}

static void count(const webhook_result *r, int refused)
{
    if (refused) atomic_fetch_add(&count_refused, 1);
    if (strcmp(r->outcome, "success") == 0) atomic_fetch_add(&count_succeeded, 1);
    else if (strcmp(r->outcome, "gone") == 0) atomic_fetch_add(&count_gone, 1);
    else if (strcmp(r->outcome, "released") == 0) atomic_fetch_add(&count_released, 1);
    else atomic_fetch_add(&count_failed, 1);
}

/* Reads the delivery state for /metrics when it is this thread's turn. */
static void refresh_stats(db_conn *conn)
{
    long long now = now_ms(), next = atomic_load(&stats_next_ms);
    if (now < next || !atomic_compare_exchange_strong(&stats_next_ms, &next, now + STATS_EVERY_MS)) return;
    webhook_stats s;
    if (webhook_store_stats(conn, &s) != APP_OK) return;
    atomic_store(&stats_due_ms, (long long)(s.oldest_due_s * 1000));
    atomic_store(&stats_pending, s.pending);
    atomic_store(&stats_disabled, s.disabled);
    atomic_store(&stats_lag_ms, (long long)(s.outbox_lag_s * 1000));
}

/* One round: hand new events over, then claim and attempt one delivery. Returns whether there was work. */
static int run_once(webhook_worker *w, CURL *curl)
{
    db_conn *conn = NULL;
    webhook_claim c = {0};
    int handed = 0;
    app_err e = db_acquire(w->pool, &conn);
    if (!e) refresh_stats(conn);
    if (!e) e = webhook_store_fan_out(conn, FAN_OUT_BATCH, &handed);
    if (!e) e = webhook_store_claim(conn, w->timeout_s * 1000 + LEASE_MARGIN_MS, &c);
    db_release(w->pool, conn);
    if (e == APP_ERR_NOT_FOUND) return handed > 0;
    if (e) {
        log_warning("webhooks: no delivery claimed this time: %s %s", app_err_lookup(e)->code, log_cause());
        return 0;
    }
    attempt_state st;
    char errbuf[CURL_ERROR_SIZE + 128];
    webhook_result r;
    attempt(w, curl, &c, &st, errbuf, sizeof errbuf, &r);
    count(&r, st.refused);
    char status[16] = "";
    conn = NULL;
    e = db_acquire(w->pool, &conn);
    if (!e) e = webhook_store_attempt_done(conn, &c, &r, w->disable_after_s, status);
    db_release(w->pool, conn);
    if (e) log_warning("webhooks: the attempt of delivery %s was not recorded (its lease will run out and it is "
                       "attempted again): %s %s", c.id, app_err_lookup(e)->code, log_cause());
    else log_debug("webhooks: delivery %s: %s (HTTP %d, %lld ms) -> %s", c.id, r.outcome, r.http_status,
                   r.duration_ms, status[0] ? status : "lease lost");
    webhook_claim_free(&c);
    return 1;
}

static void *worker_main(void *arg)
{
    webhook_worker *w = arg;
    CURL *curl = curl_easy_init();
    if (!curl) {
        log_error("webhooks: cannot set up libcurl; this thread delivers nothing");
        return NULL;
    }
    while (!atomic_load(&w->stopping)) {
        if (run_once(w, curl)) continue;
        pthread_mutex_lock(&w->lock);
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_sec += (time_t)(w->poll_ms / 1000);
        until.tv_nsec += (long)(w->poll_ms % 1000) * 1000000L;
        if (until.tv_nsec >= 1000000000L) { until.tv_sec++; until.tv_nsec -= 1000000000L; }
        while (!atomic_load(&w->stopping) && pthread_cond_timedwait(&w->wake, &w->lock, &until) != ETIMEDOUT) {
        }
        pthread_mutex_unlock(&w->lock);
    }
    curl_easy_cleanup(curl);
    return NULL;
}

webhook_worker *webhook_worker_start(db_pool *pool, const config *cfg)
{
    if (cfg->webhook.workers == 0) return NULL;
    webhook_worker *w = calloc(1, sizeof *w);
    if (!w || !(w->threads = calloc(cfg->webhook.workers, sizeof *w->threads))) {
        free(w);
        log_error("webhooks: out of memory; this replica delivers nothing");
        return NULL;
    }
    w->pool = pool;
    w->poll_ms = cfg->webhook.poll_ms;
    w->timeout_s = cfg->webhook.timeout;
    w->connect_timeout_s = cfg->webhook.connect_timeout;
    w->divisor = cfg->webhook.retry_divisor;
    w->disable_after_s = cfg->webhook.disable_after;
    w->allow_private = cfg->webhook.allow_private;
    pthread_mutex_init(&w->lock, NULL);
    pthread_cond_init(&w->wake, NULL);
    for (; w->nthreads < cfg->webhook.workers; w->nthreads++)
        if (pthread_create(&w->threads[w->nthreads], NULL, worker_main, w) != 0) {
            log_error("webhooks: could start only %u of %u delivery threads", w->nthreads, cfg->webhook.workers);
            break;
        }
    return w;
}

void webhook_worker_quiesce(webhook_worker *w, unsigned grace_s)
{
    if (!w || atomic_load(&w->stopping)) return;
    atomic_store(&w->deadline_ms, now_ms() + (long long)grace_s * 1000);
    pthread_mutex_lock(&w->lock);
    atomic_store(&w->stopping, 1);
    pthread_cond_broadcast(&w->wake);
    pthread_mutex_unlock(&w->lock);
}

void webhook_worker_stop(webhook_worker *w)
{
    if (!w) return;
    webhook_worker_quiesce(w, 0);
    for (unsigned i = 0; i < w->nthreads; i++) pthread_join(w->threads[i], NULL);
    pthread_mutex_destroy(&w->lock);
    pthread_cond_destroy(&w->wake);
    free(w->threads);
    free(w);
}
