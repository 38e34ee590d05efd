/* wire.h — HTTP/1.1 connections over libmicrohttpd, below the dispatch.
 *
 * This layer owns everything that happens before a request is known to be
 * whole and within bounds: the request head (request target, header fields),
 * the body, the per-connection state, the deadline for a complete request
 * head, and draining on shutdown. It hands the dispatch a ulfius request and
 * response (the types every handler uses), or a refusal the dispatch turns
 * into a problem+json answer, so every request, refused or not, gets one
 * response, one log line and its metrics in one place.
 *
 * Why not ulfius's own request handling: it answers nothing at all for
 * multipart/form-data (its post processor fails), reads a body to its end
 * before anyone may refuse it (so `Expect: 100-continue` always gets
 * 100 Continue), and leaks its per-request state whenever libmicrohttpd drops
 * a request before the handler (a 414 or 431). */
#ifndef CAMPAIGND_WIRE_H
#define CAMPAIGND_WIRE_H

#include <stddef.h>
#include <ulfius.h>

#include "config.h"
#include "errors.h"

/* Why the wire refused a request before its handler: the dispatch replies
 * with err and detail instead of running the route. */
typedef struct wire_refusal {
    app_err err;
    const char *field; /* the header at fault, for invalid_parameter; else NULL */
    char detail[160];
} wire_refusal;

/* Fills resp for req, or for the refusal when refused is not NULL. When
 * later is not NULL the handler may instead leave *later set: the request is
 * not answered yet, and its connection waits (suspended) until the thread's
 * flush has filled resp. */
typedef void (*wire_handler)(const struct _u_request *req, struct _u_response *resp, const wire_refusal *refused,
                             void **later);

/* Answers the n requests that the handler left (later[i] as it set them) in
 * one turn of an HTTP thread, before the thread reads any more requests. */
typedef void (*wire_flush)(void **later, size_t n);

typedef struct wire wire;

/* Listens on cfg's address and port with cfg->threads HTTP threads, each
 * running its own libmicrohttpd daemon with the connections it is handed (each
 * new one to the thread holding the fewest), and
 * cfg's limits (connections in all and per client, body size, request head
 * deadline, idle timeout); every request goes to handler, and after each turn
 * of a thread (the requests that arrived while it was busy) the requests left
 * for later go to flush. NULL on failure (logged). */
wire *wire_start(const config *cfg, wire_handler handler, wire_flush flush);

/* Stops accepting, takes in the connections the kernel had already queued,
 * lets every request that was accepted finish (including requests whose head
 * or body is still arriving, and responses still being sent) for up to grace
 * seconds, then closes everything and frees w. */
void wire_stop(wire *w, unsigned grace);

#endif
