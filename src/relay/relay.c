/*
 * relay.c — the relay's life: svk_relay_new, start, stop, free, and the two
 * things any thread may ask of it at any time (readiness, last error).
 *
 * Stopping has two steps. A stop request sets `stopping` and cancels
 * wait_ctx, which ends an idle wait within ~50 ms (svk_pg_wait_notify looks
 * at the ctx that often) and a backoff sleep at once (the condition
 * variable); the thread then finishes the batch in hand and exits. If
 * that takes past the caller's deadline, run_ctx is cancelled: every
 * statement and publish of the batch takes a child of it, so the batch is
 * abandoned (rolled back, to be published again) within the same ~50 ms.
 */
#include "core/error_detail.h"
#include "relay/relay_impl.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

int svk__relay_fail(svk_relay *r, int code, const char *fmt, ...)
{
    char text[SVK__RELAY_ERROR_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    pthread_mutex_lock(&r->lock);
    memcpy(r->error, text, sizeof text);
    pthread_mutex_unlock(&r->lock);
    atomic_store(&r->fig.last_error, code);
    svk__relay_count(&r->fig.errors, 1);
    return code;
}

static int init_sync(svk_relay *r)
{
    pthread_condattr_t attr;
    if (pthread_condattr_init(&attr) != 0)
        return SVK_ESYS;
    int bad = pthread_condattr_setclock(&attr, CLOCK_MONOTONIC) != 0 ||
              pthread_cond_init(&r->changed, &attr) != 0;
    pthread_condattr_destroy(&attr);
    if (bad)
        return SVK_ESYS;
    if (pthread_mutex_init(&r->lock, NULL) != 0) {
        pthread_cond_destroy(&r->changed);
        return SVK_ESYS;
    }
    return 0;
}

/* Everything the thread needs, made before it starts (so it never allocates
 * to begin, and a failure is the caller's to see). */
static int init_parts(svk_relay *r, const svk_relay_options *o, svk_error *err)
{
    r->pool = o->pool;
    r->broker = o->broker;
    r->log = o->logger;
    atomic_init(&r->fig.outbox_depth, -1);
    atomic_init(&r->fig.oldest_age_ns, -1);
    int rc = svk__relay_config_read(&r->cfg, o, err);
    if (rc == 0)
        rc = svk__relay_make_id(r, o->name, err);
    r->claim_limit = r->cfg.batch_size;
    if (rc == 0 && (svk__relay_batch_init(&r->batch, r->cfg.batch_size) != 0 ||
                    svk__relay_leases_init(&r->leases, r->cfg.partitions) != 0))
        rc = svk__error_set(err, SVK_ENOMEM, "out of memory");
    if (rc == 0 && (svk_ctx_new(&r->run_ctx, NULL) != 0 ||
                    svk_ctx_new(&r->wait_ctx, r->run_ctx) != 0 ||
                    svk_ctx_new(&r->claim_ctx, r->run_ctx) != 0 ||
                    svk_ctx_new(&r->publish_ctx, r->run_ctx) != 0))
        rc = svk__error_set(err, SVK_ENOMEM, "out of memory");
    if (rc == 0)
        svk__backoff_init(&r->backoff, r->cfg.backoff_min_ns, r->cfg.backoff_max_ns,
                          (uint64_t)svk_clock_mono_ns() ^ (uint64_t)(uintptr_t)r);
    return rc;
}

static void free_parts(svk_relay *r)
{
    svk_ctx_free(r->publish_ctx);
    svk_ctx_free(r->claim_ctx);
    svk_ctx_free(r->wait_ctx);
    svk_ctx_free(r->run_ctx);
    svk__relay_leases_free(&r->leases);
    svk__relay_batch_free(&r->batch);
    svk_buf_free(&r->scratch);
    svk__relay_config_free(&r->cfg);
}

SVK_API int svk_relay_new(svk_relay **out, const svk_relay_options *opts, svk_error *err)
{
    if (out != NULL)
        *out = NULL;
    if (out == NULL || opts == NULL)
        return svk__error_set(err, SVK_EINVAL, "out or opts is NULL");
    svk_relay_options o = SVK_RELAY_OPTIONS_INIT;
    if (opts->size == 0 || opts->size > sizeof o)
        return svk__error_set(err, SVK_EINVAL, "svk_relay_options.size is %zu, expected "
                              "1..%zu", opts->size, sizeof o);
    memcpy(&o, opts, opts->size);
    o.size = sizeof o;
    if (o.pool == NULL || o.broker == NULL)
        return svk__error_set(err, SVK_EINVAL, "pool and broker are required");
    svk_relay *r = svk_malloc(sizeof *r);
    if (r == NULL)
        return svk__error_set(err, SVK_ENOMEM, "out of memory");
    memset(r, 0, sizeof *r);
    int rc = init_parts(r, &o, err);
    if (rc == 0 && (rc = init_sync(r)) != 0)
        svk__error_set(err, rc, "cannot make a mutex or condition variable");
    if (rc != 0) {
        free_parts(r);
        svk_free(r);
        return rc;
    }
    *out = r;
    return 0;
}

SVK_API int svk_relay_start(svk_relay *relay)
{
    if (relay == NULL)
        return SVK_EINVAL;
    pthread_mutex_lock(&relay->lock);
    int rc = 0;
    if (relay->started)
        rc = SVK_ESTATE;
    else if (pthread_create(&relay->thread, NULL, svk__relay_main, relay) != 0)
        rc = SVK_ESYS;
    else
        relay->started = true;
    pthread_mutex_unlock(&relay->lock);
    return rc;
}

static void deadline_timespec(int64_t deadline_ns, struct timespec *ts)
{
    ts->tv_sec = (time_t)(deadline_ns / 1000000000);
    ts->tv_nsec = (long)(deadline_ns % 1000000000);
}

/* Wait until the thread has exited or the deadline passed: whether it exited. */
static bool wait_exit(svk_relay *r, int64_t deadline_ns)
{
    struct timespec ts;
    deadline_timespec(deadline_ns, &ts);
    pthread_mutex_lock(&r->lock);
    while (!r->exited && svk_clock_mono_ns() < deadline_ns)
        if (pthread_cond_timedwait(&r->changed, &r->lock, &ts) == ETIMEDOUT)
            break;
    bool exited = r->exited;
    pthread_mutex_unlock(&r->lock);
    return exited;
}

SVK_API int svk_relay_stop(svk_relay *relay, int64_t deadline_mono_ns)
{
    if (relay == NULL)
        return SVK_EINVAL;
    pthread_mutex_lock(&relay->lock);
    bool running = relay->started && !atomic_load(&relay->stopping);
    atomic_store(&relay->stopping, 1);
    pthread_cond_broadcast(&relay->changed);
    pthread_mutex_unlock(&relay->lock);
    if (!running)
        return 0;
    svk_ctx_cancel(relay->wait_ctx);
    int rc = 0;
    if (!wait_exit(relay, deadline_mono_ns)) {
        svk_ctx_cancel(relay->run_ctx);
        rc = SVK_ETIMEDOUT;
    }
    pthread_join(relay->thread, NULL);
    atomic_store(&relay->fig.ready, 0);
    return rc;
}

SVK_API void svk_relay_free(svk_relay *relay)
{
    if (relay == NULL)
        return;
    svk_relay_stop(relay, 0);
    pthread_cond_destroy(&relay->changed);
    pthread_mutex_destroy(&relay->lock);
    free_parts(relay);
    svk_free(relay);
}

SVK_API int svk_relay_ready(const svk_relay *relay)
{
    return relay != NULL && atomic_load(&relay->fig.ready) && !atomic_load(&relay->stopping);
}

SVK_API int svk_relay_last_error(const svk_relay *relay, char *buf, size_t size)
{
    if (relay == NULL)
        return SVK_EINVAL;
    svk_relay *r = (svk_relay *)relay; /* the lock, not the relay, changes */
    pthread_mutex_lock(&r->lock);
    if (buf != NULL && size > 0)
        snprintf(buf, size, "%s", r->error);
    pthread_mutex_unlock(&r->lock);
    return atomic_load(&r->fig.last_error);
}
