/* wire.c — see wire.h.
 *
 * Ownership: a wire_conn lives from libmicrohttpd's "connection started" to
 * its "connection closed" notification, which it always sends, so nothing a
 * connection holds can outlive it even when libmicrohttpd drops a request
 * before calling us (a request head over its memory pool). A wire_req lives
 * from the first call of the access handler to the "request completed"
 * notification, which libmicrohttpd sends for every request it presented. */
#define _GNU_SOURCE
#include "wire.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

/* Request targets and heads beyond these get 414 / 431 as problem+json. The
 * per-connection memory pool is sized so that libmicrohttpd can hold a head
 * well past them (past it, libmicrohttpd answers 414/431 itself, in HTML):
 * with 32 KiB, heads of 32,000 bytes still get our answer (40,000 do not). No larger: after every
 * request libmicrohttpd 0.9.75 zeroes the whole pool (MHD_pool_reset), so its
 * size is paid on each request (64 KiB cost a GET about 5 % of the service's
 * CPU). */
#define WIRE_MAX_URI 8192
#define WIRE_MAX_HEAD 16384
#define WIRE_POOL_BYTES (32 * 1024)
/* With nine connections in ten taken, a connection waiting for a request head
 * gets this many seconds instead of CAMPAIGND_HEADER_TIMEOUT: idle and
 * trickling connections then make room for new clients within a second. */
#define WIRE_CROWDED_DEADLINE 1.0

typedef struct wire_conn {
    struct wire_conn *prev, *next;
    MHD_socket fd;
    int busy;        /* a request head has arrived and its response is not sent yet */
    double since;    /* when the connection began waiting for its next request head */
    char *uri;       /* raw request target of the current request, as the client sent it */
} wire_conn;

typedef struct wire_req {
    struct _u_request req;
    size_t cap;           /* bytes allocated for req.binary_body */
    size_t max_body;      /* this request's limit (config_body_limit) */
    int refused;          /* refusal below is set */
    wire_refusal refusal;
} wire_req;

struct wire {
    struct MHD_Daemon *daemon;
    struct sockaddr_storage addr;
    wire_handler handler;
    const config *cfg;
    unsigned header_timeout;
    unsigned max_connections;
    unsigned open;        /* connections in conns */
    pthread_mutex_t lock; /* guards conns and every wire_conn's busy/since/fd use by other threads */
    wire_conn conns;      /* list head */
    int draining;         /* responses ask clients to close */
    int stop_reaper;
    pthread_t reaper;
    pthread_cond_t wake;
};

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static wire_conn *conn_of(struct MHD_Connection *c)
{
    const union MHD_ConnectionInfo *ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    return ci ? ci->socket_context : NULL;
}

static void conn_set_busy(wire *w, wire_conn *conn, int busy)
{
    if (!conn) return;
    pthread_mutex_lock(&w->lock);
    conn->busy = busy;
    conn->since = now_s();
    pthread_mutex_unlock(&w->lock);
}

/* MHD_OPTION_NOTIFY_CONNECTION: one wire_conn per TCP connection. */
static void on_connection(void *cls, struct MHD_Connection *c, void **socket_context,
                          enum MHD_ConnectionNotificationCode code)
{
    wire *w = cls;
    if (code == MHD_CONNECTION_NOTIFY_STARTED) {
        wire_conn *conn = calloc(1, sizeof *conn);
        const union MHD_ConnectionInfo *ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
        if (!conn) return; /* no deadline for this one; everything else still works */
        conn->fd = ci ? ci->connect_fd : MHD_INVALID_SOCKET;
        conn->since = now_s();
        pthread_mutex_lock(&w->lock);
        conn->next = w->conns.next;
        conn->prev = &w->conns;
        w->conns.next->prev = conn;
        w->conns.next = conn;
        if (++w->open * 10 >= w->max_connections * 9) pthread_cond_signal(&w->wake); /* crowded: reap now */
        pthread_mutex_unlock(&w->lock);
        *socket_context = conn;
    } else if (*socket_context) {
        wire_conn *conn = *socket_context;
        pthread_mutex_lock(&w->lock);
        conn->prev->next = conn->next;
        conn->next->prev = conn->prev;
        w->open--;
        pthread_mutex_unlock(&w->lock);
        free(conn->uri);
        free(conn);
        *socket_context = NULL;
    }
}

/* MHD_OPTION_URI_LOG_CALLBACK: keeps the raw request target (the query
 * string as sent: api/query.c parses it, including repeated and encoded
 * keys). It also ends the string libmicrohttpd is about to split into query
 * arguments right after its '?': libmicrohttpd would otherwise store every
 * argument in the connection's fixed memory pool, and a target with a few
 * hundred short arguments exhausts it, leaving the request without any
 * response. We never read libmicrohttpd's parsed arguments. */
static void *on_uri(void *cls, const char *uri, struct MHD_Connection *c)
{
    (void)cls;
    wire_conn *conn = conn_of(c);
    if (conn) {
        free(conn->uri);
        conn->uri = strdup(uri);
    }
    char *q = strchr(uri, '?');
    if (q && q[1]) q[1] = '\0'; /* the buffer is libmicrohttpd's own, writable read buffer */
    return NULL;
}

/* MHD_OPTION_NOTIFY_COMPLETED: the request presented to the handler is over. */
static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls, enum MHD_RequestTerminationCode toe)
{
    wire *w = cls;
    (void)toe;
    wire_req *r = *con_cls;
    if (r) {
        ulfius_clean_request(&r->req);
        free(r);
        *con_cls = NULL;
    }
    conn_set_busy(w, conn_of(c), 0);
}

static void refuse(wire_req *r, app_err err, const char *field, const char *detail)
{
    if (r->refused) return; /* the first reason found is the one reported */
    r->refused = 1;
    r->refusal.err = err;
    r->refusal.field = field;
    snprintf(r->refusal.detail, sizeof r->refusal.detail, "%s", detail);
}

typedef struct head_scan {
    wire_req *r;
    const char *content_length; /* first Content-Length value seen */
} head_scan;

static enum MHD_Result put_header(void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
    head_scan *hs = cls;
    struct _u_map *map = hs->r->req.map_header;
    (void)kind;
    if (!value) value = "";
    if (strcasecmp(key, "Content-Length") == 0) {
        /* RFC 9112 §6.3: differing Content-Length values make the message length unknowable. */
        if (hs->content_length && strcmp(hs->content_length, value) != 0)
            refuse(hs->r, APP_ERR_INVALID_PARAMETER, "Content-Length", "is given more than once with different values");
        if (!hs->content_length) hs->content_length = value;
        if (u_map_has_key_case(map, key)) return MHD_YES;
    }
    const char *prev = u_map_get_case(map, key);
    if (prev) { /* repeated field lines combine into one comma-separated value (RFC 9110 §5.3) */
        size_t n = strlen(prev) + strlen(value) + 2;
        char *joined = malloc(n);
        if (!joined) return MHD_NO;
        snprintf(joined, n, "%s,%s", prev, value);
        u_map_put(map, key, joined);
        free(joined);
    } else {
        u_map_put(map, key, value);
    }
    return MHD_YES;
}

/* The request as the handlers see it, and the refusals known from its head. */
static wire_req *req_new(wire *w, struct MHD_Connection *c, const char *method, const char *version)
{
    wire_req *r = calloc(1, sizeof *r);
    if (!r || ulfius_init_request(&r->req) != U_OK) { free(r); return NULL; }
    wire_conn *conn = conn_of(c);
    /* Without the kept target (no memory) the query string is gone: never serve the request without it. */
    if (!conn || !conn->uri) {
        ulfius_clean_request(&r->req);
        free(r);
        return NULL;
    }
    const char *target = conn->uri;
    r->req.http_verb = strdup(method);
    r->req.http_protocol = strdup(version);
    r->req.http_url = strdup(target);
    r->req.url_path = strndup(target, strcspn(target, "?"));
    if (!r->req.http_verb || !r->req.http_protocol || !r->req.http_url || !r->req.url_path) {
        ulfius_clean_request(&r->req);
        free(r);
        return NULL;
    }
    r->max_body = config_body_limit(w->cfg, r->req.url_path);
    head_scan hs = {r, NULL};
    MHD_get_connection_values(c, MHD_HEADER_KIND, put_header, &hs);

    char detail[160];
    const union MHD_ConnectionInfo *ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_REQUEST_HEADER_SIZE);
    if (strlen(target) > WIRE_MAX_URI) {
        snprintf(detail, sizeof detail, "the request target must be at most %d bytes", WIRE_MAX_URI);
        refuse(r, APP_ERR_URI_TOO_LONG, NULL, detail);
    }
    if (ci && ci->header_size > WIRE_MAX_HEAD) {
        snprintf(detail, sizeof detail, "the request head must be at most %d bytes", WIRE_MAX_HEAD);
        refuse(r, APP_ERR_HEADERS_TOO_LARGE, NULL, detail);
    }
    if (hs.content_length) {
        char *end = NULL;
        errno = 0;
        unsigned long long n = strtoull(hs.content_length, &end, 10);
        if (hs.content_length[0] < '0' || hs.content_length[0] > '9' || *end || errno)
            refuse(r, APP_ERR_INVALID_PARAMETER, "Content-Length", "is not a number");
        else if (n > r->max_body) {
            snprintf(detail, sizeof detail, "the body must be at most %zu bytes", r->max_body);
            refuse(r, APP_ERR_PAYLOAD_TOO_LARGE, NULL, detail);
        }
    }
    return r;
}

/* Appends a piece of the body; refuses once the body passes the limit
 * (a chunked body has no Content-Length to check beforehand). */
static void body_append(wire_req *r, const char *data, size_t n)
{
    if (r->refused) return; /* its answer is decided: the rest is not kept */
    size_t len = r->req.binary_body_length;
    if (n > r->max_body - len) {
        char detail[160];
        snprintf(detail, sizeof detail, "the body must be at most %zu bytes", r->max_body);
        refuse(r, APP_ERR_PAYLOAD_TOO_LARGE, NULL, detail);
        return;
    }
    if (len + n > r->cap) {
        size_t cap = r->cap ? r->cap : 4096;
        while (cap < len + n) cap *= 2;
        if (cap > r->max_body) cap = r->max_body;
        void *b = realloc(r->req.binary_body, cap);
        if (!b) { refuse(r, APP_ERR_UNAVAILABLE, NULL, "out of memory for the request body"); return; }
        r->req.binary_body = b;
        r->cap = cap;
    }
    memcpy((char *)r->req.binary_body + len, data, n);
    r->req.binary_body_length = len + n;
}

/* Runs the handler and queues its response. */
static enum MHD_Result respond(wire *w, struct MHD_Connection *c, wire_req *r)
{
    struct _u_response resp;
    if (ulfius_init_response(&resp) != U_OK) return MHD_NO;
    w->handler(&r->req, &resp, r->refused ? &r->refusal : NULL);
    struct MHD_Response *m =
        MHD_create_response_from_buffer(resp.binary_body_length, resp.binary_body ? resp.binary_body : (void *)"",
                                        MHD_RESPMEM_MUST_COPY);
    enum MHD_Result ret = MHD_NO;
    if (m) {
        const char **keys = u_map_enum_keys(resp.map_header);
        for (size_t i = 0; keys && keys[i]; i++) MHD_add_response_header(m, keys[i], u_map_get(resp.map_header, keys[i]));
        /* A refused request's body may still be on its way: the connection cannot carry another request. */
        if (r->refused || __atomic_load_n(&w->draining, __ATOMIC_RELAXED)) MHD_add_response_header(m, "Connection", "close");
        ret = MHD_queue_response(c, (unsigned)resp.status, m);
        MHD_destroy_response(m);
    }
    ulfius_clean_response(&resp);
    return ret;
}

/* libmicrohttpd 0.9.75 takes no response while a body is arriving
 * (MHD_queue_response fails until the body has ended), so a body that passes
 * the limit midway (a chunked one: a declared length is refused from the
 * head) is answered by writing the response on the socket here, in the
 * connection's own thread, before nothing else was written on it; returning
 * MHD_NO then makes libmicrohttpd close the connection without reading the
 * rest. */
static enum MHD_Result respond_mid_body(wire *w, struct MHD_Connection *c, wire_req *r)
{
    const union MHD_ConnectionInfo *ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
    struct _u_response resp;
    if (!ci || ulfius_init_response(&resp) != U_OK) return MHD_NO;
    w->handler(&r->req, &resp, &r->refusal);
    char date[64];
    time_t t = time(NULL);
    struct tm tm;
    strftime(date, sizeof date, "%a, %d %b %Y %H:%M:%S GMT", gmtime_r(&t, &tm));
    char *head = NULL;
    size_t head_len = 0;
    FILE *f = open_memstream(&head, &head_len);
    if (f) {
        const char *reason = MHD_get_reason_phrase_for((unsigned)resp.status);
        fprintf(f, "HTTP/1.1 %ld %s\r\nDate: %s\r\nConnection: close\r\nContent-Length: %zu\r\n", resp.status,
                reason ? reason : "", date, resp.binary_body_length);
        const char **keys = u_map_enum_keys(resp.map_header);
        for (size_t i = 0; keys && keys[i]; i++) fprintf(f, "%s: %s\r\n", keys[i], u_map_get(resp.map_header, keys[i]));
        fputs("\r\n", f);
        fwrite(resp.binary_body ? resp.binary_body : "", 1, resp.binary_body_length, f);
        if (fclose(f) == 0) {
            /* Small enough for the socket's send buffer; what does not fit is dropped with the connection. */
            if (send(ci->connect_fd, head, head_len, MSG_NOSIGNAL | MSG_DONTWAIT) > 0) shutdown(ci->connect_fd, SHUT_WR);
        }
    }
    free(head);
    ulfius_clean_response(&resp);
    return MHD_NO;
}

/* The access handler: called once when the head is complete, then for each
 * piece of the body, then once more when the body is complete. A refusal
 * known from the head is answered at once, so its body is never read and
 * `Expect: 100-continue` gets the refusal instead of 100 Continue. */
static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url, const char *method,
                                  const char *version, const char *upload_data, size_t *upload_data_size,
                                  void **con_cls)
{
    (void)url; /* the target as sent is kept by on_uri, query string included */
    wire *w = cls;
    wire_req *r = *con_cls;
    if (!r) {
        conn_set_busy(w, conn_of(c), 1);
        if (!(r = req_new(w, c, method, version))) return MHD_NO;
        *con_cls = r;
        return r->refused ? respond(w, c, r) : MHD_YES;
    }
    if (*upload_data_size) {
        body_append(r, upload_data, *upload_data_size);
        *upload_data_size = 0;
        return r->refused ? respond_mid_body(w, c, r) : MHD_YES;
    }
    return respond(w, c, r);
}

/* Closes connections that have not sent a complete request head within the
 * deadline (counted from the connection's start or its previous response):
 * a client trickling a head byte by byte keeps libmicrohttpd's idle timer
 * fresh forever. The deadline shrinks to WIRE_CROWDED_DEADLINE while the
 * connections are nearly all taken. A connection whose bytes wait unread in
 * the kernel is spared (its worker thread is busy elsewhere; the client did
 * its part). */
static void *reaper_main(void *arg)
{
    wire *w = arg;
    pthread_mutex_lock(&w->lock);
    while (!w->stop_reaper) {
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_nsec += 250 * 1000000L;
        if (until.tv_nsec >= 1000000000L) { until.tv_sec++; until.tv_nsec -= 1000000000L; }
        pthread_cond_timedwait(&w->wake, &w->lock, &until);
        double now = now_s(), deadline = w->header_timeout;
        if (w->open * 10 >= w->max_connections * 9 && deadline > WIRE_CROWDED_DEADLINE) deadline = WIRE_CROWDED_DEADLINE;
        for (wire_conn *conn = w->conns.next; conn != &w->conns; conn = conn->next) {
            int unread = 0;
            if (conn->busy || conn->fd == MHD_INVALID_SOCKET || now - conn->since < deadline) continue;
            if (ioctl(conn->fd, FIONREAD, &unread) == 0 && unread > 0) continue;
            /* libmicrohttpd sees the end of the stream and closes the connection in its own thread. */
            shutdown(conn->fd, SHUT_RDWR);
            conn->fd = MHD_INVALID_SOCKET;
        }
    }
    pthread_mutex_unlock(&w->lock);
    return NULL;
}

/* libmicrohttpd's own messages (connection limits reached, connections it
 * closed) go to the service log. */
static void mhd_log(void *cls, const char *fmt, va_list ap)
{
    (void)cls;
    char msg[256];
    vsnprintf(msg, sizeof msg, fmt, ap);
    msg[strcspn(msg, "\n")] = '\0';
    log_info("libmicrohttpd: %s", msg);
}

wire *wire_start(const config *cfg, wire_handler handler)
{
    wire *w = calloc(1, sizeof *w);
    if (!w) return NULL;
    w->handler = handler;
    w->cfg = cfg;
    w->header_timeout = cfg->header_timeout;
    w->max_connections = cfg->max_connections;
    w->conns.next = w->conns.prev = &w->conns;
    pthread_mutex_init(&w->lock, NULL);
    pthread_cond_init(&w->wake, NULL);

    struct sockaddr_in *v4 = (struct sockaddr_in *)&w->addr;
    struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)&w->addr;
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_ITC | MHD_USE_ERROR_LOG;
    if (inet_pton(AF_INET, cfg->bind, &v4->sin_addr) == 1) {
        v4->sin_family = AF_INET;
        v4->sin_port = htons((uint16_t)cfg->port);
    } else if (inet_pton(AF_INET6, cfg->bind, &v6->sin6_addr) == 1) {
        v6->sin6_family = AF_INET6;
        v6->sin6_port = htons((uint16_t)cfg->port);
        flags |= MHD_USE_IPv6;
    } else {
        log_error("CAMPAIGND_BIND: \"%s\" is not an IPv4 or IPv6 address", cfg->bind);
        goto fail;
    }
    w->daemon = MHD_start_daemon(
        flags, (uint16_t)cfg->port, NULL, NULL, on_request, w, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&w->addr,
        MHD_OPTION_NOTIFY_CONNECTION, on_connection, w, MHD_OPTION_URI_LOG_CALLBACK, on_uri, w,
        MHD_OPTION_NOTIFY_COMPLETED, on_completed, w, MHD_OPTION_THREAD_POOL_SIZE, cfg->threads,
        MHD_OPTION_CONNECTION_LIMIT, cfg->max_connections, MHD_OPTION_PER_IP_CONNECTION_LIMIT,
        cfg->max_client_connections, MHD_OPTION_CONNECTION_TIMEOUT, cfg->connection_timeout,
        MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)WIRE_POOL_BYTES, MHD_OPTION_EXTERNAL_LOGGER, mhd_log, NULL,
        MHD_OPTION_END);
    if (!w->daemon) {
        log_error("cannot listen on %s:%u", cfg->bind, cfg->port);
        goto fail;
    }
    if (pthread_create(&w->reaper, NULL, reaper_main, w) != 0) {
        MHD_stop_daemon(w->daemon);
        goto fail;
    }
    return w;
fail:
    pthread_cond_destroy(&w->wake);
    pthread_mutex_destroy(&w->lock);
    free(w);
    return NULL;
}

/* Whether any connection has a request under way, or bytes of one waiting unread. */
static int work_pending(wire *w)
{
    int pending = 0;
    pthread_mutex_lock(&w->lock);
    for (wire_conn *conn = w->conns.next; conn != &w->conns && !pending; conn = conn->next) {
        int unread = 0;
        pending = conn->busy ||
                  (conn->fd != MHD_INVALID_SOCKET && ioctl(conn->fd, FIONREAD, &unread) == 0 && unread > 0);
    }
    pthread_mutex_unlock(&w->lock);
    return pending;
}

void wire_stop(wire *w, unsigned grace)
{
    if (!w) return;
    double deadline = now_s() + grace;
    __atomic_store_n(&w->draining, 1, __ATOMIC_RELAXED);
    /* Stop polling the listening socket, then take in what the kernel had
     * already accepted for us: those clients sent their requests before the
     * signal and must get answers, not resets. */
    MHD_socket lfd = MHD_quiesce_daemon(w->daemon);
    if (lfd != MHD_INVALID_SOCKET) {
        fcntl(lfd, F_SETFL, fcntl(lfd, F_GETFL) | O_NONBLOCK);
        for (;;) {
            struct sockaddr_storage peer;
            socklen_t plen = sizeof peer;
            int fd = accept4(lfd, (struct sockaddr *)&peer, &plen, SOCK_CLOEXEC);
            if (fd < 0) break;
            /* A connection it refuses (the limits) is closed by libmicrohttpd itself: never close fd here. */
            MHD_add_connection(w->daemon, fd, (struct sockaddr *)&peer, plen);
        }
        shutdown(lfd, SHUT_RDWR); /* later connection attempts are refused at once */
    }
    while (now_s() < deadline && work_pending(w)) usleep(20000);

    pthread_mutex_lock(&w->lock);
    w->stop_reaper = 1;
    pthread_cond_signal(&w->wake);
    pthread_mutex_unlock(&w->lock);
    pthread_join(w->reaper, NULL);
    MHD_stop_daemon(w->daemon);
    if (lfd != MHD_INVALID_SOCKET) close(lfd);
    pthread_cond_destroy(&w->wake);
    pthread_mutex_destroy(&w->lock);
    free(w);
}
