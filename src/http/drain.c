/*
 * drain.c — stopping a server: graceful drain with a deadline, then the
 * forced close, then the threads.
 *
 *   1. state DRAINING: /readyz answers 503 "draining" from now on.
 *   2. every loop (command DRAIN): closes its listener, closes its idle
 *      connections, marks the busy ones to close after their response, and
 *      reports when its last connection is gone.
 *   3. the caller waits for every loop's report, the deadline, or (shutdown)
 *      the ctx's cancellation.
 *   4. every loop (command STOP): closes what is left, cancelling the ctx of
 *      handlers still running; a loop exits once each of its requests has
 *      come back from the workers.
 *   5. loop threads joined, then workers joined (they finish the handlers
 *      they run; queued requests come back without running).
 *
 * One caller runs this; concurrent callers wait for its result. The calls
 * are plain blocking functions so that a shutdown runner on any thread can
 * make them; from a server thread they would wait for themselves, so they
 * refuse.
 */
#include <time.h>

#include "http/server.h"

void svk__http_stop_threads(svk_http_server *srv)
{
    for (int i = 0; i < srv->nloops; i++)
        if (srv->loops[i].thread_started)
            svk__http_loop_command(&srv->loops[i], SVK__HTTP_CMD_STOP);
    for (int i = 0; i < srv->nloops; i++) {
        if (srv->loops[i].thread_started) {
            pthread_join(srv->loops[i].thread, NULL);
            srv->loops[i].thread_started = 0;
        }
    }
    svk__http_workers_free(srv->workers);
    srv->workers = NULL;
}

static struct timespec mono_ts(int64_t ns)
{
    struct timespec ts = {(time_t)(ns / 1000000000), (long)(ns % 1000000000)};
    return ts;
}

/* Wait for every loop to report its connections gone: 0, SVK_ETIMEDOUT or
 * SVK_ECANCELED. Called with srv->lock held. */
static int wait_empty(svk_http_server *srv, int64_t deadline, const svk_ctx *ctx)
{
    while (srv->loops_done < srv->nloops) {
        if (ctx != NULL && svk_ctx_err(ctx) == SVK_ECANCELED)
            return SVK_ECANCELED;
        int64_t now = svk_clock_mono_ns();
        if (now >= deadline)
            return SVK_ETIMEDOUT;
        int64_t until = deadline;
        if (ctx != NULL && now + 50 * SVK_HTTP_MILLISECOND < until)
            until = now + 50 * SVK_HTTP_MILLISECOND;
        struct timespec ts = mono_ts(until);
        pthread_cond_timedwait(&srv->cond, &srv->lock, &ts);
    }
    return 0;
}

/* The one caller that runs the drain. */
static int run_drain(svk_http_server *srv, int64_t deadline, const svk_ctx *ctx)
{
    for (int i = 0; i < srv->nloops; i++)
        svk__http_loop_command(&srv->loops[i], SVK__HTTP_CMD_DRAIN);
    pthread_mutex_lock(&srv->lock);
    int rc = wait_empty(srv, deadline, ctx);
    pthread_mutex_unlock(&srv->lock);
    svk__http_stop_threads(srv);
    return rc;
}

static int drain(svk_http_server *srv, int64_t deadline, const svk_ctx *ctx)
{
    if (srv == NULL)
        return SVK_EINVAL;
    if (svk__http_on_server_thread())
        return SVK_ESTATE;
    pthread_mutex_lock(&srv->lock);
    int state = atomic_load(&srv->state);
    if (state == SVK__HTTP_NEW) {
        pthread_mutex_unlock(&srv->lock);
        return SVK_ESTATE;
    }
    if (state == SVK__HTTP_STOPPED || srv->draining_now) {
        while (atomic_load(&srv->state) != SVK__HTTP_STOPPED)
            pthread_cond_wait(&srv->cond, &srv->lock);
        int rc = srv->drain_rc;
        pthread_mutex_unlock(&srv->lock);
        return rc;
    }
    srv->draining_now = 1;
    atomic_store(&srv->state, SVK__HTTP_DRAINING);
    pthread_mutex_unlock(&srv->lock);
    int rc = run_drain(srv, deadline, ctx);
    pthread_mutex_lock(&srv->lock);
    srv->drain_rc = rc;
    atomic_store(&srv->state, SVK__HTTP_STOPPED);
    pthread_cond_broadcast(&srv->cond);
    pthread_mutex_unlock(&srv->lock);
    return rc;
}

SVK_API int svk_http_server_drain(svk_http_server *srv, int64_t deadline_mono_ns)
{
    return drain(srv, deadline_mono_ns, NULL);
}

SVK_API int svk_http_server_shutdown(svk_http_server *srv, const svk_ctx *ctx)
{
    return drain(srv, svk_ctx_deadline(ctx), ctx);
}
