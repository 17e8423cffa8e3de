/*
 * pool.c — the connection pool: options, checkout and return, and the
 * backoff that keeps a dead database from being hammered.
 *
 * Invariants (under pool->lock):
 *   0 <= idle_count + pending_count <= open <= max_conns; the counts are
 *   the lengths of the idle and pending lists; open counts idle
 *   connections, checked-out ones, parked attempts, and slots reserved by a
 *   caller that is connecting right now;
 *   retry_at_ns == 0 exactly when the last connection attempt succeeded (or
 *   none was made); probing implies retry_at_ns != 0.
 *
 * Nothing slow runs under the lock: a caller reserves a slot (open++) or
 * takes an idle connection under it, then connects or checks health outside
 * it, and comes back under it only to record the outcome.
 *
 * Parked attempts: a connection attempt runs on the thread of the caller
 * that needs it, so it must stop at that caller's deadline. Dropping it
 * there would waste the work (with deadlines shorter than a connect, the
 * pool could never grow) and would let a database that hangs on connect
 * see a new attempt per caller without ever earning a verdict. So an
 * unfinished attempt is parked, and the next caller needing a connection
 * drives it on. Its connect_timeout counts the time spent driving it; when
 * that runs out, it has failed (a verdict, so backoff starts). One parked
 * longer than connect_timeout is not trusted and is started afresh.
 *
 * Backoff: after a failed attempt, retry_at_ns is set a jittered delay ahead
 * (reconnect_min_ns doubling to reconnect_max_ns). Until then nobody
 * connects; after it, one caller (the prober) tries while others wait for
 * its verdict. The delays are "equal jitter" (half fixed, half random) so
 * a fleet restarted together does not reconnect in lockstep, and never
 * shrink to zero.
 */
#include "pg/pool.h"
#include "core/error_detail.h"
#include "pg/conn.h"

#include <assert.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#define MS INT64_C(1000000)
#define SEC INT64_C(1000000000)

#define DEFAULT_MAX_CONNS 10
#define DEFAULT_CONNECT_TIMEOUT (5 * SEC)
#define DEFAULT_ACQUIRE_TIMEOUT (5 * SEC)
#define DEFAULT_STATEMENT_TIMEOUT (30 * SEC)
#define DEFAULT_IDLE_IN_TX_TIMEOUT (60 * SEC)
#define DEFAULT_HEALTH_CHECK_IDLE (30 * SEC)
#define DEFAULT_RECONNECT_MIN (100 * MS)
#define DEFAULT_RECONNECT_MAX (10 * SEC)

enum { TOOK_IDLE = 1, TOOK_SLOT = 2, TOOK_PENDING = 3 };

/* An attempt cut this close to its connect_timeout gets its verdict now. */
#define CONNECT_SLACK_NS (50 * MS)

/* One svk_pg_acquire call's limits. */
typedef struct checkout {
    const svk_ctx *ctx;
    int64_t deadline_ns;
    bool ctx_binding; /* the ctx's deadline, not acquire_timeout, ends the wait */
    bool probe;       /* the slot taken is the backoff probe */
} checkout;

/* ---------------------------------------------------------------- options */

/* 0 means the default; SVK_PG_NO_TIMEOUT, where allowed, means off (-1). */
static int pick_duration(int64_t *v, int64_t def, bool may_be_off)
{
    if (*v == 0)
        *v = def;
    else if (*v < 0 && !(may_be_off && *v == SVK_PG_NO_TIMEOUT))
        return SVK_EINVAL;
    return 0;
}

static int apply_defaults(svk_pg_options *o, svk_error *err)
{
    if (o->max_conns == 0)
        o->max_conns = DEFAULT_MAX_CONNS;
    int bad = o->max_conns < 0;
    bad |= pick_duration(&o->connect_timeout_ns, DEFAULT_CONNECT_TIMEOUT, false);
    bad |= pick_duration(&o->acquire_timeout_ns, DEFAULT_ACQUIRE_TIMEOUT, false);
    bad |= pick_duration(&o->statement_timeout_ns, DEFAULT_STATEMENT_TIMEOUT, true);
    bad |= pick_duration(&o->idle_in_tx_timeout_ns, DEFAULT_IDLE_IN_TX_TIMEOUT, true);
    bad |= pick_duration(&o->health_check_idle_ns, DEFAULT_HEALTH_CHECK_IDLE, true);
    bad |= pick_duration(&o->reconnect_min_ns, DEFAULT_RECONNECT_MIN, false);
    bad |= pick_duration(&o->reconnect_max_ns, DEFAULT_RECONNECT_MAX, false);
    if (bad)
        return svk__error_set(err, SVK_EINVAL, "negative count or timeout in svk_pg_options");
    if (o->reconnect_min_ns > o->reconnect_max_ns)
        return svk__error_set(err, SVK_EINVAL, "reconnect_min_ns exceeds reconnect_max_ns");
    return 0;
}

/* Copy the caller's struct (possibly from an older, shorter header). */
static int read_options(svk_pg_options *o, const svk_pg_options *in, svk_error *err)
{
    if (in == NULL || in->size == 0 || in->size > sizeof *o)
        return svk__error_set(err, SVK_EINVAL, "svk_pg_options missing or size unknown");
    memset(o, 0, sizeof *o);
    memcpy(o, in, in->size);
    if (o->conninfo == NULL)
        return svk__error_set(err, SVK_EINVAL, "svk_pg_options.conninfo is required");
    return apply_defaults(o, err);
}

/* ------------------------------------------------------------ construction */

static int init_sync(svk_pg_pool *p)
{
    pthread_condattr_t attr;
    if (pthread_condattr_init(&attr) != 0)
        return SVK_ESYS;
    int bad = pthread_condattr_setclock(&attr, CLOCK_MONOTONIC) != 0 ||
              pthread_cond_init(&p->changed, &attr) != 0;
    pthread_condattr_destroy(&attr);
    if (bad)
        return SVK_ESYS;
    if (pthread_mutex_init(&p->lock, NULL) != 0) {
        pthread_cond_destroy(&p->changed);
        return SVK_ESYS;
    }
    return 0;
}

static void set_limits(svk_pg_pool *p, const svk_pg_options *o)
{
    p->max_conns = o->max_conns;
    p->connect_timeout_ns = o->connect_timeout_ns;
    p->acquire_timeout_ns = o->acquire_timeout_ns;
    p->statement_timeout_ns = o->statement_timeout_ns;
    p->health_check_idle_ns = o->health_check_idle_ns;
    p->reconnect_min_ns = o->reconnect_min_ns;
    p->reconnect_max_ns = o->reconnect_max_ns;
    p->jitter_state = (uint64_t)svk_clock_mono_ns() ^ (uint64_t)(uintptr_t)p;
    p->stats.size = sizeof p->stats;
}

SVK_API int svk_pg_pool_new(svk_pg_pool **out, const svk_pg_options *opts, svk_error *err)
{
    if (out == NULL)
        return svk__error_set(err, SVK_EINVAL, "out is NULL");
    *out = NULL;
    svk_pg_options o;
    int rc = read_options(&o, opts, err);
    if (rc != 0)
        return rc;
    svk_pg_pool *p = svk_malloc(sizeof *p);
    if (p == NULL)
        return svk__error_set(err, SVK_ENOMEM, "out of memory");
    memset(p, 0, sizeof *p);
    set_limits(p, &o);
    svk__pg_session session = {o.statement_timeout_ns, o.idle_in_tx_timeout_ns,
                               o.application_name};
    rc = svk__pg_conninfo_build(&p->conninfo, o.conninfo, &session, err);
    if (rc == 0 && (rc = init_sync(p)) != 0) {
        svk__error_set(err, rc, "cannot create the pool's mutex or condition variable");
        svk__pg_conninfo_free(&p->conninfo);
    }
    if (rc != 0) {
        svk_free(p);
        return rc;
    }
    *out = p;
    return 0;
}

SVK_API void svk_pg_pool_free(svk_pg_pool *pool)
{
    if (pool == NULL)
        return;
    /* A connection still out would come back to freed memory. */
    assert(pool->open == pool->idle_count + pool->pending_count);
    svk_pg_conn *lists[] = {pool->idle, pool->pending};
    for (int i = 0; i < 2; i++) {
        while (lists[i] != NULL) {
            svk_pg_conn *c = lists[i];
            lists[i] = c->next_idle;
            PQfinish(c->pg);
            svk_free(c);
        }
    }
    pthread_mutex_destroy(&pool->lock);
    pthread_cond_destroy(&pool->changed);
    svk__pg_conninfo_free(&pool->conninfo);
    svk_free(pool);
}

/* ----------------------------------------------------------------- backoff */

static uint64_t next_random(uint64_t *state)
{
    /* splitmix64: plenty for jitter, and no shared global state. */
    uint64_t z = (*state += UINT64_C(0x9e3779b97f4a7c15));
    z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
    return z ^ (z >> 31);
}

/* Under the lock: push the next attempt out by the next jittered delay. */
static void back_off(svk_pg_pool *p, int64_t now)
{
    /* Attempts that were already under way when the first one failed
     * report inside the same window; they do not double the delay again. */
    if (p->retry_at_ns != 0 && now < p->retry_at_ns)
        return;
    int64_t b = p->backoff_ns == 0 ? p->reconnect_min_ns : p->backoff_ns;
    if (p->backoff_ns != 0)
        b = b > p->reconnect_max_ns / 2 ? p->reconnect_max_ns : b * 2;
    p->backoff_ns = b;
    uint64_t half = (uint64_t)(b / 2);
    p->retry_at_ns = now + b - (int64_t)half + (int64_t)(next_random(&p->jitter_state) % (half + 1));
}

/* Under the lock: the outcome of a connection attempt (verdict only). */
static void record_attempt(svk_pg_pool *p, int rc, const char *msg)
{
    if (rc == 0) {
        p->stats.connects++;
        p->retry_at_ns = 0;
        p->backoff_ns = 0;
        p->last_code = 0;
        p->last_message[0] = '\0';
        return;
    }
    p->stats.connect_failures++;
    p->last_code = rc;
    snprintf(p->last_message, sizeof p->last_message, "%s", msg);
    back_off(p, svk_clock_mono_ns());
}

/* -------------------------------------------------------------- checkout */

static void wait_changed(svk_pg_pool *p, const checkout *co, int64_t until_ns)
{
    if (co->ctx != NULL) {
        /* The ctx's cancel flag cannot signal our condvar: look regularly. */
        int64_t soon = svk_clock_mono_ns() + SVK_PG_CANCEL_CHECK_NS;
        if (soon < until_ns)
            until_ns = soon;
    }
    struct timespec ts = {.tv_sec = until_ns / SEC, .tv_nsec = until_ns % SEC};
    p->waiting++;
    pthread_cond_timedwait(&p->changed, &p->lock, &ts);
    p->waiting--;
}

/* Under the lock: may this caller open a connection now? */
static bool reserve_slot(svk_pg_pool *p, checkout *co, int64_t now)
{
    if (p->open >= p->max_conns)
        return false;
    if (p->retry_at_ns != 0 && (p->probing || now < p->retry_at_ns))
        return false;
    co->probe = p->retry_at_ns != 0;
    p->probing |= co->probe;
    p->open++;
    return true;
}

static int give_up(svk_pg_pool *p, const checkout *co)
{
    p->stats.acquire_timeouts++;
    if (p->open < p->max_conns && p->retry_at_ns != 0)
        return SVK_EUNAVAIL; /* we waited on a database in backoff */
    return co->ctx_binding ? SVK_ETIMEDOUT : SVK_EBUSY;
}

/* Under the lock: an idle connection, a reserved slot, or an error. */
static int take(svk_pg_pool *p, checkout *co, svk_pg_conn **idle)
{
    for (;;) {
        /* An expired ctx is a deadline like ours: give_up says which. */
        if (svk_ctx_err(co->ctx) == SVK_ECANCELED)
            return SVK_ECANCELED;
        int64_t now = svk_clock_mono_ns();
        if (now >= co->deadline_ns)
            return give_up(p, co);
        if (p->idle != NULL) {
            *idle = p->idle;
            p->idle = (*idle)->next_idle;
            p->idle_count--;
            return TOOK_IDLE;
        }
        if (p->pending != NULL) {
            *idle = p->pending;
            p->pending = (*idle)->next_idle;
            p->pending_count--;
            return TOOK_PENDING;
        }
        if (reserve_slot(p, co, now))
            return TOOK_SLOT;
        bool window = p->open < p->max_conns && !p->probing;
        if (window && p->retry_at_ns > co->deadline_ns)
            return SVK_EUNAVAIL; /* the database will not be tried in time */
        wait_changed(p, co, window && p->retry_at_ns < co->deadline_ns ? p->retry_at_ns
                                                                        : co->deadline_ns);
    }
}

/* A new attempt (c NULL: also a new connection object), or the parked c. */
static int begin_attempt(svk_pg_pool *p, svk_pg_conn **cp, char *msg, size_t size)
{
    svk_pg_conn *c = *cp;
    if (c != NULL && svk_clock_mono_ns() - c->parked_at_ns <= p->connect_timeout_ns)
        return 0;
    if (c != NULL) {
        PQfinish(c->pg); /* parked too long to trust: start over in its slot */
    } else if ((c = svk_malloc(sizeof *c)) == NULL) {
        snprintf(msg, size, "out of memory");
        return SVK_ENOMEM;
    }
    memset(c, 0, sizeof *c);
    c->pool = p;
    *cp = c;
    return svk__pg_connect_start(c, msg, size);
}

/* Drive c until connected, its budget is spent, or the caller must go. */
static int drive_attempt(svk_pg_pool *p, const checkout *co, svk_pg_conn *c, char *msg,
                         size_t size)
{
    int64_t now = svk_clock_mono_ns();
    int64_t left = p->connect_timeout_ns - c->connect_spent_ns;
    int64_t limit = left > co->deadline_ns - now ? co->deadline_ns : now + left;
    int rc = svk__pg_connect_drive(c, co->ctx, limit, msg, size);
    if (rc == SVK_ETIMEDOUT && c->connect_spent_ns + CONNECT_SLACK_NS >= p->connect_timeout_ns) {
        snprintf(msg, size, "no connection within connect_timeout");
        return SVK_EUNAVAIL;
    }
    return rc;
}

/* Under the lock: book the outcome of an attempt. Returns whether c was parked. */
static bool book_attempt(svk_pg_pool *p, const checkout *co, svk_pg_conn *c, int rc,
                         const char *msg)
{
    bool park = c != NULL && (rc == SVK_ETIMEDOUT || rc == SVK_ECANCELED);
    if (rc == 0 || rc == SVK_EUNAVAIL)
        record_attempt(p, rc, msg);
    if (park) {
        c->parked_at_ns = svk_clock_mono_ns();
        c->next_idle = p->pending;
        p->pending = c;
        p->pending_count++;
    } else if (rc != 0) {
        p->open--;
    }
    if (co->probe)
        p->probing = false;
    pthread_cond_broadcast(&p->changed);
    return park;
}

/* Outside the lock: connect on a reserved slot (c NULL) or a parked attempt. */
static int connect_slot(svk_pg_pool *p, const checkout *co, svk_pg_conn *c, svk_pg_conn **out)
{
    char msg[SVK_PG_POOL_MESSAGE_SIZE] = "";
    int rc = begin_attempt(p, &c, msg, sizeof msg);
    if (rc == 0)
        rc = drive_attempt(p, co, c, msg, sizeof msg);
    pthread_mutex_lock(&p->lock);
    bool parked = book_attempt(p, co, c, rc, msg);
    pthread_mutex_unlock(&p->lock);
    if (rc == 0) {
        *out = c;
        return 0;
    }
    if (!parked && c != NULL) {
        PQfinish(c->pg);
        svk_free(c);
    }
    /* The pool's own wait limit cut the attempt: the database is slow to accept. */
    return rc == SVK_ETIMEDOUT && !co->ctx_binding ? SVK_EUNAVAIL : rc;
}

static checkout start_checkout(const svk_pg_pool *p, const svk_ctx *ctx)
{
    int64_t now = svk_clock_mono_ns();
    int64_t own = p->acquire_timeout_ns > INT64_MAX - now ? INT64_MAX
                                                          : now + p->acquire_timeout_ns;
    int64_t theirs = svk_ctx_deadline(ctx);
    return (checkout){ctx, theirs < own ? theirs : own, theirs <= own, false};
}

SVK_API int svk_pg_acquire(svk_pg_pool *pool, const svk_ctx *ctx, svk_pg_conn **out)
{
    if (out != NULL)
        *out = NULL;
    if (pool == NULL || out == NULL)
        return SVK_EINVAL;
    checkout co = start_checkout(pool, ctx);
    for (;;) {
        svk_pg_conn *c = NULL;
        pthread_mutex_lock(&pool->lock);
        int took = take(pool, &co, &c);
        pthread_mutex_unlock(&pool->lock);
        if (took == TOOK_SLOT || took == TOOK_PENDING)
            return connect_slot(pool, &co, c, out);
        if (took != TOOK_IDLE)
            return took;
        if (svk__pg_conn_ready(c, svk_clock_mono_ns(), co.deadline_ns)) {
            svk__pg_conn_clear_error(c);
            *out = c;
            return 0;
        }
        svk__pg_pool_discard(pool, c); /* closed under us: try the next one */
    }
}

/* ----------------------------------------------------------------- return */

void svk__pg_pool_discard(svk_pg_pool *pool, svk_pg_conn *conn)
{
    PQfinish(conn->pg);
    svk_free(conn);
    pthread_mutex_lock(&pool->lock);
    pool->open--;
    pool->stats.discarded++;
    pthread_cond_broadcast(&pool->changed);
    pthread_mutex_unlock(&pool->lock);
}

SVK_API void svk_pg_release(svk_pg_conn *conn)
{
    if (conn == NULL)
        return;
    svk_pg_pool *p = conn->pool;
    conn->tx.active = false; /* an abandoned transaction: reset rolls it back */
    if (!svk__pg_conn_reset(conn)) {
        svk__pg_pool_discard(p, conn);
        return;
    }
    conn->tx_error = 0;
    conn->idle_since_ns = svk_clock_mono_ns();
    pthread_mutex_lock(&p->lock);
    conn->next_idle = p->idle;
    p->idle = conn;
    p->idle_count++;
    pthread_cond_signal(&p->changed);
    pthread_mutex_unlock(&p->lock);
}

/* ------------------------------------------------------------ observation */

SVK_API int svk_pg_pool_stats(svk_pg_pool *pool, svk_pg_stats *out)
{
    if (pool == NULL || out == NULL || out->size == 0 || out->size > sizeof *out)
        return SVK_EINVAL;
    pthread_mutex_lock(&pool->lock);
    svk_pg_stats s = pool->stats;
    s.open = pool->open;
    s.idle = pool->idle_count;
    s.waiting = pool->waiting;
    pthread_mutex_unlock(&pool->lock);
    size_t n = out->size;
    memcpy(out, &s, n);
    out->size = n;
    return 0;
}

SVK_API int svk_pg_pool_last_error(svk_pg_pool *pool, char *buf, size_t size)
{
    if (pool == NULL) {
        if (buf != NULL && size > 0)
            buf[0] = '\0';
        return 0;
    }
    pthread_mutex_lock(&pool->lock);
    int code = pool->last_code;
    if (buf != NULL && size > 0)
        snprintf(buf, size, "%s", pool->last_message);
    pthread_mutex_unlock(&pool->lock);
    return code;
}
