/* wire.c — see wire.h.
 *
 * Ownership: a wire_conn lives from libmicrohttpd's "connection started" to
 * its "connection closed" notification, which it always sends, so nothing a
 * connection holds can outlive it even when libmicrohttpd drops a request
 * before calling us (a request head over its memory pool). A wire_req lives
 * from the first call of the access handler to the "request completed"
 * notification, which libmicrohttpd sends for every request it presented.
 *
 * Threads: each HTTP thread runs a daemon of its own in libmicrohttpd's
 * "external" mode (rather than libmicrohttpd's thread pool), so that it knows
 * when a turn ends: a turn is one MHD_run, the requests that arrived while
 * the thread was busy. A handler may leave its request for later (a GET one's
 * read); the connection is suspended, and once the turn has read every
 * request waiting, flush answers all that were left in one database round
 * trip and their connections are resumed. One wake-up of the thread and of a
 * PostgreSQL backend then serves the turn's reads rather than each one.
 *
 * Connections: the threads' daemons do not accept. The listening socket is in
 * every thread's epoll set (EPOLLEXCLUSIVE: one idle thread is woken), and the
 * thread woken accepts what is queued and hands each connection to the thread
 * holding the fewest (wire_new in its inbox, added to its daemon by it). Left
 * to race for the socket, one daemon took a burst of connections at once (it
 * accepts up to ten in a row): 8 keep-alive connections came out 3-2-2-1 or
 * 4-2-2-0, and a request on the crowded thread waited behind as many others
 * on it while another thread idled. */
#define _GNU_SOURCE
#include "wire.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
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
    struct wire_thread *t; /* the thread whose daemon holds it (NULL: unknown) */
    MHD_socket fd;
    int busy;        /* a request head has arrived and its response is not sent yet */
    int refused;     /* over its client's connection limit: closed at once, not counted */
    double since;    /* when the connection began waiting for its next request head */
    char *uri;       /* raw request target of the current request, as the client sent it */
    unsigned char client[17]; /* the client's address family and address (no port): its connection limit */
} wire_conn;

typedef struct wire_req {
    struct _u_request req;
    struct _u_response resp; /* the answer, while the request waits for its thread's flush */
    int resp_ready;          /* resp is initialised */
    int waiting;             /* left for later: the connection is suspended until the flush answers it */
    size_t cap;              /* bytes allocated for req.binary_body */
    size_t max_body;         /* this request's limit (config_body_limit) */
    int refused;             /* refusal below is set */
    wire_refusal refusal;
} wire_req;

/* An accepted connection handed to a thread (by the thread that accepted it, or by wire_stop while draining). */
typedef struct wire_new {
    MHD_socket fd;
    struct sockaddr_storage peer;
    socklen_t plen;
} wire_new;

/* One HTTP thread: its own libmicrohttpd daemon (run by this thread alone, in libmicrohttpd's "external"
 * mode), polled together with an eventfd by which wire_stop wakes it. */
typedef struct wire_thread {
    struct wire *w;
    struct MHD_Daemon *daemon;
    pthread_t thread;
    int started;
    int ep;   /* epoll: the daemon's epoll descriptor and wake */
    int wake; /* eventfd */
    int quiesced;
    /* the requests left for later in this turn, and their connections */
    void **later;
    struct MHD_Connection **later_conns;
    size_t nlater, cap;
    /* guarded by w->lock: connections handed to this thread, and those its daemon holds */
    wire_new *inbox;
    size_t ninbox, inbox_cap;
    unsigned nconns;
    double listen_again; /* accept failed for want of descriptors or memory: the socket is polled again then */
} wire_thread;

struct wire {
    wire_thread *threads;
    unsigned nthreads;
    MHD_socket lfd;       /* the listening socket, polled by every thread */
    wire_handler handler;
    wire_flush flush;
    const config *cfg;
    unsigned header_timeout;
    unsigned max_connections;
    unsigned max_client_connections;
    unsigned open;        /* connections in conns (refused ones too) */
    pthread_mutex_t lock; /* guards conns, every wire_conn's busy/since/fd use by other threads, the inboxes */
    wire_conn conns;      /* list head */
    int draining;         /* responses ask clients to close */
    int quiesce;          /* the threads stop polling the listening socket */
    unsigned quiesced;    /* threads that have */
    int stop;             /* the threads end */
    int stop_reaper;
    pthread_t reaper;
    pthread_cond_t wake;
    pthread_cond_t changed; /* a thread quiesced */
};

/* The thread running this libmicrohttpd callback (NULL outside the HTTP threads). */
static __thread wire_thread *this_thread;

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

/* The client's address family and address, without the port; all zero when unknown. */
static void client_key(struct MHD_Connection *c, unsigned char key[17])
{
    const union MHD_ConnectionInfo *ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    memset(key, 0, 17);
    if (!ci || !ci->client_addr) return;
    if (ci->client_addr->sa_family == AF_INET) {
        key[0] = 4;
        memcpy(key + 1, &((const struct sockaddr_in *)ci->client_addr)->sin_addr, 4);
    } else if (ci->client_addr->sa_family == AF_INET6) {
        key[0] = 6;
        memcpy(key + 1, &((const struct sockaddr_in6 *)ci->client_addr)->sin6_addr, 16);
    }
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
        conn->t = this_thread;
        client_key(c, conn->client);
        pthread_mutex_lock(&w->lock);
        if (conn->t) conn->t->nconns++;
        /* The per-client limit counts every thread's connections (each daemon would count only its own). */
        unsigned same = 0;
        for (wire_conn *o = w->conns.next; o != &w->conns && conn->client[0]; o = o->next)
            same += !o->refused && memcmp(o->client, conn->client, sizeof conn->client) == 0;
        if (same >= w->max_client_connections && conn->fd != MHD_INVALID_SOCKET) {
            conn->refused = 1; /* libmicrohttpd sees the end of the stream and closes it */
            shutdown(conn->fd, SHUT_RDWR);
            conn->fd = MHD_INVALID_SOCKET;
        }
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
        if (conn->t) conn->t->nconns--;
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
        if (r->resp_ready) ulfius_clean_response(&r->resp);
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

/* Queues r->resp, the request's answer, on the connection. */
static enum MHD_Result queue_answer(wire *w, struct MHD_Connection *c, wire_req *r)
{
    struct _u_response *resp = &r->resp;
    struct MHD_Response *m =
        MHD_create_response_from_buffer(resp->binary_body_length, resp->binary_body ? resp->binary_body : (void *)"",
                                        MHD_RESPMEM_MUST_COPY);
    enum MHD_Result ret = MHD_NO;
    if (m) {
        const char **keys = u_map_enum_keys(resp->map_header);
        for (size_t i = 0; keys && keys[i]; i++) MHD_add_response_header(m, keys[i], u_map_get(resp->map_header, keys[i]));
        /* A refused request's body may still be on its way: the connection cannot carry another request. */
        if (r->refused || __atomic_load_n(&w->draining, __ATOMIC_RELAXED)) MHD_add_response_header(m, "Connection", "close");
        ret = MHD_queue_response(c, (unsigned)resp->status, m);
        MHD_destroy_response(m);
    }
    ulfius_clean_response(resp);
    r->resp_ready = 0;
    return ret;
}

/* Room for one more request left for later in this thread's turn. 0, or -1 on OOM. */
static int later_reserve(wire_thread *t)
{
    if (t->nlater < t->cap) return 0;
    size_t cap = t->cap ? t->cap * 2 : 32;
    void **later = realloc(t->later, cap * sizeof *later);
    if (!later) return -1;
    t->later = later;
    struct MHD_Connection **conns = realloc(t->later_conns, cap * sizeof *conns);
    if (!conns) return -1;
    t->later_conns = conns;
    t->cap = cap;
    return 0;
}

/* Runs the handler, then queues its answer, or suspends the connection when the handler left the request for
 * the thread's flush (run_turn answers it and resumes the connection). */
static enum MHD_Result respond(wire *w, struct MHD_Connection *c, wire_req *r)
{
    if (ulfius_init_response(&r->resp) != U_OK) return MHD_NO;
    r->resp_ready = 1;
    wire_thread *t = this_thread;
    void *later = NULL;
    int may_wait = t && !r->refused && later_reserve(t) == 0;
    w->handler(&r->req, &r->resp, r->refused ? &r->refusal : NULL, may_wait ? &later : NULL);
    if (!later) return queue_answer(w, c, r);
    t->later[t->nlater] = later;
    t->later_conns[t->nlater++] = c;
    r->waiting = 1;
    MHD_suspend_connection(c);
    return MHD_YES;
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
    w->handler(&r->req, &resp, &r->refusal, NULL);
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
    if (r->waiting) { /* resumed: the flush answered it */
        r->waiting = 0;
        return queue_answer(w, c, r);
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

/* Answers what the handler left for later in this turn, then lets libmicrohttpd send the answers and read what
 * arrived meanwhile, until a turn leaves nothing. */
static void run_turn(wire_thread *t)
{
    MHD_run(t->daemon);
    while (t->nlater) {
        size_t n = t->nlater;
        t->w->flush(t->later, n);
        for (size_t i = 0; i < n; i++) MHD_resume_connection(t->later_conns[i]);
        t->nlater = 0;
        MHD_run(t->daemon);
    }
}

static void wake_thread(wire_thread *t)
{
    uint64_t one = 1;
    if (write(t->wake, &one, sizeof one) < 0) { /* the counter is full: it is awake anyway */ }
}

/* The thread holding the fewest connections, counting those handed to it not yet taken in (prefer: on a tie).
 * Called with w->lock held. */
static wire_thread *least_loaded(wire *w, wire_thread *prefer)
{
    wire_thread *best = prefer;
    for (unsigned i = 0; i < w->nthreads; i++) {
        wire_thread *t = &w->threads[i];
        if (!best || t->nconns + t->ninbox < best->nconns + best->ninbox) best = t;
    }
    return best;
}

/* Hands the accepted connection in to the thread holding the fewest (prefer on a tie) and wakes it unless it is
 * the caller; closes it when there is no memory to hand it over. */
static void hand_over(wire *w, wire_new *in, wire_thread *prefer)
{
    pthread_mutex_lock(&w->lock);
    wire_thread *t = least_loaded(w, prefer);
    if (t->ninbox == t->inbox_cap) {
        size_t cap = t->inbox_cap ? t->inbox_cap * 2 : 16;
        wire_new *grown = realloc(t->inbox, cap * sizeof *grown);
        if (grown) { t->inbox = grown; t->inbox_cap = cap; }
    }
    int kept = t->ninbox < t->inbox_cap;
    if (kept) t->inbox[t->ninbox++] = *in;
    pthread_mutex_unlock(&w->lock);
    if (!kept) close(in->fd);
    else if (t != this_thread) wake_thread(t);
}

/* Accepts every connection queued on the listening socket, each handed to the thread holding the fewest. When
 * the process is out of descriptors or memory, the socket stays queued (the kernel holds the connections) and
 * this thread stops polling it for a tenth of a second instead of being woken for it at once, again and again. */
static void accept_queued(wire_thread *t)
{
    wire *w = t->w;
    for (;;) {
        wire_new in = {.plen = sizeof in.peer};
        in.fd = accept4(w->lfd, (struct sockaddr *)&in.peer, &in.plen, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (in.fd >= 0) {
            hand_over(w, &in, t);
            continue;
        }
        if (errno == EINTR || errno == ECONNABORTED) continue;
        if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
            log_error("cannot accept a connection: %s", strerror(errno));
            if (epoll_ctl(t->ep, EPOLL_CTL_DEL, w->lfd, NULL) == 0) t->listen_again = now_s() + 0.1;
        }
        return; /* EAGAIN: nothing more queued (another thread may have taken it) */
    }
}

/* Polls the listening socket in t's epoll set (EPOLLEXCLUSIVE: a connection wakes one idle thread, not all).
 * 0, or -1 (errno). */
static int listen_poll(wire_thread *t)
{
    struct epoll_event on_listen = {.events = EPOLLIN | EPOLLEXCLUSIVE, .data.fd = t->w->lfd};
    return epoll_ctl(t->ep, EPOLL_CTL_ADD, t->w->lfd, &on_listen);
}

/* Adds the connections handed to this thread to its daemon. */
static void take_inbox(wire_thread *t)
{
    wire *w = t->w;
    pthread_mutex_lock(&w->lock);
    wire_new *in = t->inbox;
    size_t n = t->ninbox;
    t->inbox = NULL;
    t->ninbox = t->inbox_cap = 0;
    pthread_mutex_unlock(&w->lock);
    /* A connection it refuses (the limits) is closed by libmicrohttpd itself: never close fd here. */
    for (size_t i = 0; i < n; i++) MHD_add_connection(t->daemon, in[i].fd, (struct sockaddr *)&in[i].peer, in[i].plen);
    free(in);
}

static void *thread_main(void *arg)
{
    wire_thread *t = arg;
    wire *w = t->w;
    this_thread = t;
    while (!__atomic_load_n(&w->stop, __ATOMIC_ACQUIRE)) {
        MHD_UNSIGNED_LONG_LONG ms = 1000;
        if (MHD_get_timeout(t->daemon, &ms) != MHD_YES || ms > 1000) ms = 1000;
        if (t->listen_again > 0 && ms > 100) ms = 100;
        struct epoll_event ev[3];
        int n = epoll_wait(t->ep, ev, 3, (int)ms), quiesce = __atomic_load_n(&w->quiesce, __ATOMIC_ACQUIRE);
        for (int i = 0; i < n; i++) {
            if (ev[i].data.fd == w->lfd && !quiesce) accept_queued(t);
            if (ev[i].data.fd != t->wake) continue;
            uint64_t v;
            if (read(t->wake, &v, sizeof v) < 0) { /* nothing to read: woken already */ }
        }
        if (t->listen_again > 0 && now_s() >= t->listen_again && !quiesce) {
            t->listen_again = 0;
            if (listen_poll(t) != 0) log_error("cannot poll the listening socket: %s", strerror(errno));
        }
        if (quiesce && !t->quiesced) {
            /* the socket stays open: wire_stop takes in what the kernel queued, then closes it */
            if (t->listen_again == 0) epoll_ctl(t->ep, EPOLL_CTL_DEL, w->lfd, NULL);
            t->quiesced = 1;
            pthread_mutex_lock(&w->lock);
            w->quiesced++;
            pthread_cond_broadcast(&w->changed);
            pthread_mutex_unlock(&w->lock);
        }
        take_inbox(t);
        run_turn(t);
    }
    return NULL;
}

/* The listening socket every thread polls (non-blocking: the thread woken accepts what is queued and hands each
 * connection over, accept_queued; another thread may have taken it first). */
static MHD_socket listen_on(const config *cfg)
{
    struct sockaddr_storage addr;
    memset(&addr, 0, sizeof addr);
    struct sockaddr_in *v4 = (struct sockaddr_in *)&addr;
    struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)&addr;
    socklen_t len;
    if (inet_pton(AF_INET, cfg->bind, &v4->sin_addr) == 1) {
        v4->sin_family = AF_INET;
        v4->sin_port = htons((uint16_t)cfg->port);
        len = sizeof *v4;
    } else if (inet_pton(AF_INET6, cfg->bind, &v6->sin6_addr) == 1) {
        v6->sin6_family = AF_INET6;
        v6->sin6_port = htons((uint16_t)cfg->port);
        len = sizeof *v6;
    } else {
        log_error("CAMPAIGND_BIND: \"%s\" is not an IPv4 or IPv6 address", cfg->bind);
        return MHD_INVALID_SOCKET;
    }
    int fd = socket(addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0), on = 1;
    if (fd < 0) goto fail;
    if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on) != 0) goto fail;
    if (addr.ss_family == AF_INET6 && setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &on, sizeof on) != 0) goto fail;
    if (bind(fd, (struct sockaddr *)&addr, len) != 0 || listen(fd, SOMAXCONN) != 0) goto fail;
    return fd;
fail:
    log_error("cannot listen on %s:%u: %s", cfg->bind, cfg->port, strerror(errno));
    if (fd >= 0) close(fd);
    return MHD_INVALID_SOCKET;
}

/* Stops and frees what wire_start made of w (the threads are not running). */
static void wire_free(wire *w)
{
    for (unsigned i = 0; w->threads && i < w->nthreads; i++) {
        wire_thread *t = &w->threads[i];
        if (t->daemon) MHD_stop_daemon(t->daemon); /* it has no listening socket: w->lfd is closed below */
        for (size_t k = 0; k < t->ninbox; k++) close(t->inbox[k].fd);
        free(t->inbox);
        free(t->later);
        free(t->later_conns);
        if (t->ep >= 0) close(t->ep);
        if (t->wake >= 0) close(t->wake);
    }
    free(w->threads);
    if (w->lfd != MHD_INVALID_SOCKET) close(w->lfd);
    pthread_cond_destroy(&w->changed);
    pthread_cond_destroy(&w->wake);
    pthread_mutex_destroy(&w->lock);
    free(w);
}

/* Ends the threads wire_start started. */
static void stop_threads(wire *w)
{
    __atomic_store_n(&w->stop, 1, __ATOMIC_RELEASE);
    for (unsigned i = 0; i < w->nthreads; i++)
        if (w->threads[i].started) wake_thread(&w->threads[i]);
    for (unsigned i = 0; i < w->nthreads; i++)
        if (w->threads[i].started) pthread_join(w->threads[i].thread, NULL);
}

wire *wire_start(const config *cfg, wire_handler handler, wire_flush flush)
{
    wire *w = calloc(1, sizeof *w);
    if (!w) return NULL;
    w->handler = handler;
    w->flush = flush;
    w->cfg = cfg;
    w->header_timeout = cfg->header_timeout;
    w->max_connections = cfg->max_connections;
    w->max_client_connections = cfg->max_client_connections;
    w->conns.next = w->conns.prev = &w->conns;
    w->lfd = MHD_INVALID_SOCKET;
    pthread_mutex_init(&w->lock, NULL);
    pthread_cond_init(&w->wake, NULL);
    pthread_cond_init(&w->changed, NULL);
    w->nthreads = cfg->threads;
    if (!(w->threads = calloc(w->nthreads, sizeof *w->threads))) goto fail;
    for (unsigned i = 0; i < w->nthreads; i++) w->threads[i].ep = w->threads[i].wake = -1;
    if ((w->lfd = listen_on(cfg)) == MHD_INVALID_SOCKET) goto fail;

    /* Each daemon takes its share of the connection limit, as libmicrohttpd's own thread pool divides it; the
     * per-client limit is counted over all of them (on_connection). */
    unsigned flags = MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG | MHD_USE_NO_LISTEN_SOCKET;
    for (unsigned i = 0; i < w->nthreads; i++) {
        wire_thread *t = &w->threads[i];
        unsigned share = cfg->max_connections / w->nthreads + (i < cfg->max_connections % w->nthreads);
        t->w = w;
        t->daemon = MHD_start_daemon(
            flags, 0, NULL, NULL, on_request, w, MHD_OPTION_NOTIFY_CONNECTION, on_connection, w,
            MHD_OPTION_URI_LOG_CALLBACK, on_uri, w,
            MHD_OPTION_NOTIFY_COMPLETED, on_completed, w, MHD_OPTION_CONNECTION_LIMIT, share ? share : 1,
            MHD_OPTION_CONNECTION_TIMEOUT, cfg->connection_timeout, MHD_OPTION_CONNECTION_MEMORY_LIMIT,
            (size_t)WIRE_POOL_BYTES, MHD_OPTION_EXTERNAL_LOGGER, mhd_log, NULL, MHD_OPTION_END);
        const union MHD_DaemonInfo *di = t->daemon ? MHD_get_daemon_info(t->daemon, MHD_DAEMON_INFO_EPOLL_FD) : NULL;
        if (!di) {
            log_error("cannot start HTTP thread %u on %s:%u", i, cfg->bind, cfg->port);
            goto fail;
        }
        t->ep = epoll_create1(EPOLL_CLOEXEC);
        t->wake = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
        struct epoll_event on_daemon = {.events = EPOLLIN, .data.fd = di->epoll_fd};
        struct epoll_event on_wake = {.events = EPOLLIN, .data.fd = t->wake};
        if (t->ep < 0 || t->wake < 0 || epoll_ctl(t->ep, EPOLL_CTL_ADD, di->epoll_fd, &on_daemon) != 0 ||
            epoll_ctl(t->ep, EPOLL_CTL_ADD, t->wake, &on_wake) != 0 || listen_poll(t) != 0) {
            log_error("cannot poll HTTP thread %u: %s", i, strerror(errno));
            goto fail;
        }
    }
    for (unsigned i = 0; i < w->nthreads; i++) {
        if (pthread_create(&w->threads[i].thread, NULL, thread_main, &w->threads[i]) != 0) {
            log_error("cannot start HTTP thread %u", i);
            goto fail_running;
        }
        w->threads[i].started = 1;
    }
    if (pthread_create(&w->reaper, NULL, reaper_main, w) != 0) goto fail_running;
    return w;
fail_running:
    stop_threads(w);
fail:
    wire_free(w);
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
    for (unsigned i = 0; i < w->nthreads && !pending; i++) pending = w->threads[i].ninbox > 0;
    pthread_mutex_unlock(&w->lock);
    return pending;
}

void wire_stop(wire *w, unsigned grace)
{
    if (!w) return;
    double deadline = now_s() + grace;
    __atomic_store_n(&w->draining, 1, __ATOMIC_RELAXED);
    /* Every thread stops polling the listening socket; then what the kernel had already accepted for us is
     * taken in: those clients sent their requests before the signal and must get answers, not resets. */
    __atomic_store_n(&w->quiesce, 1, __ATOMIC_RELEASE);
    for (unsigned i = 0; i < w->nthreads; i++) wake_thread(&w->threads[i]);
    pthread_mutex_lock(&w->lock);
    while (w->quiesced < w->nthreads) pthread_cond_wait(&w->changed, &w->lock);
    pthread_mutex_unlock(&w->lock);
    for (;;) {
        wire_new in = {.plen = sizeof in.peer};
        if ((in.fd = accept4(w->lfd, (struct sockaddr *)&in.peer, &in.plen, SOCK_NONBLOCK | SOCK_CLOEXEC)) < 0) break;
        hand_over(w, &in, NULL);
    }
    shutdown(w->lfd, SHUT_RDWR); /* later connection attempts are refused at once */
    while (now_s() < deadline && work_pending(w)) usleep(20000);

    pthread_mutex_lock(&w->lock);
    w->stop_reaper = 1;
    pthread_cond_signal(&w->wake);
    pthread_mutex_unlock(&w->lock);
    pthread_join(w->reaper, NULL);
    stop_threads(w);
    wire_free(w);
}
