/* routes.h — the route table and the HTTP server built from it. */
#ifndef CAMPAIGND_ROUTES_H
#define CAMPAIGND_ROUTES_H

#include <stddef.h>

#include "http.h"

extern const route routes[];
extern const size_t routes_count;

/* The server is the wire (wire.h) with dispatch as its handler. */
typedef struct wire server;

/* Starts serving on cfg's bind address and port with cfg->threads HTTP
 * threads (each its own libmicrohttpd daemon, epoll) and the limits of
 * wire_start; a thread's GET ones are read together after each of its turns.
 * NULL on failure. */
server *server_start(app *a);

/* Stops accepting, lets accepted requests finish for up to grace seconds
 * (wire_stop), stops. */
void server_stop(server *s, unsigned grace);

#endif
