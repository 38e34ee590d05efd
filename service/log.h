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

#define log_error(fmt, ...) y_log_message(Y_LOG_LEVEL_ERROR, "[%s] " fmt, log_request_id(), ##__VA_ARGS__)
#define log_warning(fmt, ...) y_log_message(Y_LOG_LEVEL_WARNING, "[%s] " fmt, log_request_id(), ##__VA_ARGS__)
#define log_info(fmt, ...) y_log_message(Y_LOG_LEVEL_INFO, "[%s] " fmt, log_request_id(), ##__VA_ARGS__)
#define log_debug(fmt, ...) y_log_message(Y_LOG_LEVEL_DEBUG, "[%s] " fmt, log_request_id(), ##__VA_ARGS__)

#endif
