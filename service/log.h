/* log.h — logging through yder, with the current request id attached.
 * The request id is thread-local: the HTTP layer sets it when a request starts
 * on a worker thread and clears it when the request ends. */
#ifndef CAMPAIGND_LOG_H
#define CAMPAIGND_LOG_H

#include <yder.h>

/* Starts console logging at level (a Y_LOG_LEVEL_*). Returns 0 on success. */
int log_init(int level);
void log_close(void);

void log_set_request_id(const char *request_id);
/* Borrowed; "-" when no request is running on this thread. */
const char *log_request_id(void);

/* The cause of the current request's failure, noted by the layer that saw it
 * (the database's own message) for the one line the layer that picks the
 * status logs (respond.c for a request, the caller elsewhere). Thread-local,
 * cleared with the request id; log_cause() is "" when nothing was noted. */
void log_note_cause(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
const char *log_cause(void);

/* The level given to log_init: a message above it is neither formatted nor written. */
extern int log_level;

#define LOG_AT(level, fmt, ...)                                                                 \
    do {                                                                                        \
        if ((level) <= log_level) y_log_message((level), "[%s] " fmt, log_request_id(), ##__VA_ARGS__); \
    } while (0)
#define log_error(fmt, ...) LOG_AT(Y_LOG_LEVEL_ERROR, fmt, ##__VA_ARGS__)
#define log_warning(fmt, ...) LOG_AT(Y_LOG_LEVEL_WARNING, fmt, ##__VA_ARGS__)
#define log_info(fmt, ...) LOG_AT(Y_LOG_LEVEL_INFO, fmt, ##__VA_ARGS__)
#define log_debug(fmt, ...) LOG_AT(Y_LOG_LEVEL_DEBUG, fmt, ##__VA_ARGS__)

#endif
