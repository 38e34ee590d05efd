/* log.c — see log.h. */
#include "log.h"

#include <stdarg.h>
#include <stdio.h>

static __thread const char *current_request_id;
static __thread char current_cause[512];

int log_level = Y_LOG_LEVEL_ERROR;

int log_init(int level)
{
    log_level = level;
    return y_init_logs("campaignd", Y_LOG_MODE_CONSOLE, (unsigned long)level, NULL, "campaignd starting") ? 0 : -1;
}

void log_close(void) { y_close_logs(); }

void log_set_request_id(const char *request_id)
{
    current_request_id = request_id;
    current_cause[0] = '\0';
}

void log_note_cause(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(current_cause, sizeof current_cause, fmt, ap);
    va_end(ap);
}

const char *log_cause(void) { return current_cause; }

const char *log_request_id(void) { return current_request_id ? current_request_id : "-"; }
