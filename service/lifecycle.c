/* lifecycle.c — see lifecycle.h. */
#include "lifecycle.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <time.h>

#include "campaign_store.h"
#include "errors.h"
#include "log.h"

struct lifecycle_worker {
    db_pool *pool;
    unsigned interval_s;
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t wake;
    int stopping;
};

static void run_once(lifecycle_worker *w)
{
    db_conn *conn = NULL;
    int moved = 0;
    app_err e = db_acquire(w->pool, &conn);
    if (!e) e = campaign_store_follow_dates(conn, &moved);
    db_release(w->pool, conn);
    if (e) log_warning("lifecycle: campaigns not moved along their dates this time: %s %s", app_err_lookup(e)->code,
                       log_cause());
    else if (moved > 0) log_info("lifecycle: %d campaign(s) moved along their dates", moved);
}

static void *worker_main(void *arg)
{
    lifecycle_worker *w = arg;
    pthread_mutex_lock(&w->lock);
    while (!w->stopping) {
        pthread_mutex_unlock(&w->lock);
        run_once(w);
        pthread_mutex_lock(&w->lock);
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_sec += (time_t)w->interval_s;
        while (!w->stopping && pthread_cond_timedwait(&w->wake, &w->lock, &until) != ETIMEDOUT) {
        }
    }
    pthread_mutex_unlock(&w->lock);
    return NULL;
}

lifecycle_worker *lifecycle_start(db_pool *pool, unsigned interval_s)
{
    if (interval_s == 0) return NULL;
    lifecycle_worker *w = calloc(1, sizeof *w);
    if (!w) return NULL;
    w->pool = pool;
    w->interval_s = interval_s;
    pthread_mutex_init(&w->lock, NULL);
    pthread_cond_init(&w->wake, NULL);
    if (pthread_create(&w->thread, NULL, worker_main, w) != 0) {
        log_error("lifecycle: cannot start the worker thread");
        pthread_mutex_destroy(&w->lock);
        pthread_cond_destroy(&w->wake);
        free(w);
        return NULL;
    }
    return w;
}

void lifecycle_stop(lifecycle_worker *w)
{
    if (!w) return;
    pthread_mutex_lock(&w->lock);
    w->stopping = 1;
    pthread_cond_signal(&w->wake);
    pthread_mutex_unlock(&w->lock);
    pthread_join(w->thread, NULL);
    pthread_mutex_destroy(&w->lock);
    pthread_cond_destroy(&w->wake);
    free(w);
}
