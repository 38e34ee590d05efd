/* routes.h — the route table and the HTTP server built from it. */
#ifndef CAMPAIGND_ROUTES_H
#define CAMPAIGND_ROUTES_H

#include <stddef.h>

#include "http.h"

extern const route routes[];
extern const size_t routes_count;

typedef struct server server;

/* Starts serving on cfg's bind address and port with a bounded libmicrohttpd
 * thread pool (epoll), a connection limit and timeout. NULL on failure. */
server *server_start(app *a);

/* Stops accepting, waits up to grace seconds for in-flight requests, stops. */
void server_stop(server *s, unsigned grace);

#endif
