/*
 * loop.c — the relay's thread.
 *
 *   until stopped:
 *     round: connect (and set up once), lease round when due, claim the
 *            ordered partitions held, claim unordered events
 *     failed round  -> not ready, backoff sleep (breaker after N in a row)
 *     succeeded     -> ready; claim again at once while claims find events,
 *                      else wait for a NOTIFY (see "Sleeping" below)
 *   leave: release the leases, give the connections back
 *
 * Two connections of the pool are held: one for claims, leases and gauges,
 * one that only LISTENs (a connection that listened is closed at release,
 * and notifications only arrive between transactions, so the claim
 * connection could not wait for them while in one). Losing the listening
 * connection is not a failure: the relay polls until it has one again.
 *
 * Sleeping. Writers notify only while some relay is marked asleep and none
 * awake in svk_outbox_wakeups (svckit/outbox.h says why). So a relay marks
 * itself awake when a claim finds events after it slept (for 5 s, renewed
 * while it stays busy: one that dies awake silences the writers for that
 * long at most, while the others poll), and asleep when a claim comes back
 * empty (for 30 s, renewed while it idles). A writer that checked just
 * before the asleep mark was visible, and committed just after the relay's
 * last claim, sent no NOTIFY: the waits after the last events therefore
 * grow 2, 8, 32, 128 ms and only then reach the poll interval, each one
 * ending in a claim, so such an event waits milliseconds, not a poll.
 */
#include "relay/relay_impl.h"

#include <errno.h>
#include <libpq-fe.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

static const char channel_sql[] = "SELECT svk_outbox_channel()";
static const char topics_sql[] =
    "INSERT INTO svk_outbox_ordered_topics (topic) SELECT unnest($1::text[])"
    " ON CONFLICT DO NOTHING";
/* Only into an empty table: a relay with another count must not add rows. */
static const char partitions_sql[] =
    "INSERT INTO svk_outbox_leases (partition) SELECT generate_series(0, $1::int4 - 1)"
    " WHERE NOT EXISTS (SELECT 1 FROM svk_outbox_leases) ON CONFLICT DO NOTHING";
static const char mark_sql[] =
    "INSERT INTO svk_outbox_wakeups (holder, awake, until)"
    " VALUES ($1, $2::boolean, clock_timestamp() + $3::interval)"
    " ON CONFLICT (holder) DO UPDATE SET awake = excluded.awake, until = excluded.until";
static const char unmark_sql[] = "DELETE FROM svk_outbox_wakeups WHERE holder = $1";

enum { MARK_NONE, MARK_ASLEEP, MARK_AWAKE };
#define SEC_NS INT64_C(1000000000)
#define FIRST_IDLE_WAIT_NS (2 * INT64_C(1000000))

bool svk__relay_stopping(svk_relay *r)
{
    return atomic_load(&r->stopping) != 0;
}

const svk_ctx *svk__relay_claim_ctx(svk_relay *r)
{
    svk_ctx_set_timeout(r->claim_ctx, r->cfg.claim_timeout_ns);
    return r->claim_ctx;
}

const svk_ctx *svk__relay_publish_ctx(svk_relay *r)
{
    svk_ctx_set_timeout(r->publish_ctx, r->cfg.publish_timeout_ns);
    return r->publish_ctx;
}

/* rc is a database call's code (0: only look at the connection's state). */
void svk__relay_conn_failed(svk_relay *r, int rc)
{
    if (r->conn == NULL)
        return;
    if (rc == SVK_EUNAVAIL || PQstatus(svk_pg_conn_native(r->conn)) != CONNECTION_OK) {
        svk_pg_release(r->conn);
        r->conn = NULL;
    }
}

static int exec_setup(svk_relay *r, const char *sql, const char *value, int len, int format,
                      svk_pg_result **res)
{
    const int lengths[] = {len}, formats[] = {format};
    const char *values[] = {value};
    int rc = svk_pg_exec(r->conn, svk__relay_claim_ctx(r), sql, value ? 1 : 0, values, lengths,
                         formats, res);
    return rc == 0 ? 0 : svk__relay_fail(r, rc, "setup: %s: %s", svk_errname(rc),
                                         svk_pg_conn_last_error(r->conn));
}

/* Once per relay: the channel to listen on, ordered topics, lease rows. */
static int set_up(svk_relay *r)
{
    svk_pg_result *res = NULL;
    int rc = exec_setup(r, channel_sql, NULL, 0, 0, &res);
    if (rc == 0)
        snprintf(r->channel, sizeof r->channel, "%s", svk_pg_result_value(res, 0, 0));
    svk_pg_result_free(res);
    const svk_buf *topics = &r->cfg.ordered_topics;
    if (rc == 0 && topics->len > 0)
        rc = exec_setup(r, topics_sql, (const char *)topics->data, (int)topics->len,
                        SVK_PG_BINARY, NULL);
    char parts[16];
    snprintf(parts, sizeof parts, "%d", r->cfg.partitions);
    if (rc == 0)
        rc = exec_setup(r, partitions_sql, parts, 0, SVK_PG_TEXT, NULL);
    r->set_up = rc == 0;
    return rc;
}

/* The listening connection, if it can be had; its absence only means polling. */
static void ensure_listener(svk_relay *r)
{
    if (r->listen != NULL)
        return;
    int rc = svk_pg_acquire(r->pool, svk__relay_claim_ctx(r), &r->listen);
    if (rc == 0 && (rc = svk_pg_listen(r->listen, svk__relay_claim_ctx(r), r->channel)) != 0) {
        svk_pg_release(r->listen);
        r->listen = NULL;
    }
}

static int connect_and_set_up(svk_relay *r)
{
    int rc = 0;
    if (r->conn == NULL && (rc = svk_pg_acquire(r->pool, svk__relay_claim_ctx(r), &r->conn)) != 0)
        return svk__relay_fail(r, rc, "connect: %s", svk_errname(rc));
    if (!r->set_up && (rc = set_up(r)) != 0) {
        svk__relay_conn_failed(r, rc);
        return rc;
    }
    ensure_listener(r);
    return 0;
}

static int relay_round(svk_relay *r)
{
    int rc = connect_and_set_up(r);
    if (rc == 0 && (rc = svk__relay_lease_round(r)) != 0)
        svk__relay_conn_failed(r, rc);
    int limit = atomic_load(&r->fig.breaker_open) ? 1 : r->cfg.batch_size;
    int ordered = 0, unordered = 0;
    r->again = false;
    if (rc == 0 && r->leases.held > 0)
        rc = svk__relay_claim_ordered(r, limit, &ordered);
    if (rc == 0)
        rc = svk__relay_claim_unordered(r, limit, &unordered);
    r->more = rc == 0 && (ordered + unordered > 0 || r->again);
    if (r->more)
        r->idle_step = 0;
    /* Failing rounds too: a growing outbox is what the figures are for. */
    if (r->conn != NULL && svk_clock_mono_ns() >= r->next_gauges_ns) {
        svk__relay_refresh_gauges(r);
        r->next_gauges_ns = svk_clock_mono_ns() + r->cfg.stats_interval_ns;
    }
    return rc;
}

/*
 * Held partitions whose last publish failed and none has succeeded since:
 * backing off or being retried, they count until one gets through (a figure
 * that flipped to 0 during each retry would hide a stuck key).
 */
static int blocked_partitions(svk_relay *r)
{
    int blocked = 0;
    for (int p = 0; p < r->cfg.partitions; p++)
        blocked += r->leases.holds[p] && r->leases.failures[p] > 0;
    atomic_store(&r->fig.partitions_blocked, blocked);
    return blocked;
}

static void succeeded(svk_relay *r)
{
    if (r->backoff.failures > 0) {
        svk_log_info(r->log, "outbox relay recovered", SVK_STR("relay", r->id),
                     SVK_INT("failures", r->backoff.failures));
        svk__backoff_reset(&r->backoff);
    }
    if (atomic_exchange(&r->fig.breaker_open, 0))
        svk_log_info(r->log, "outbox relay breaker closed", SVK_STR("relay", r->id));
    int blocked = blocked_partitions(r);
    atomic_store(&r->fig.ready, !(blocked > 0 && blocked == r->leases.held));
}

/* Sleep until deadline (monotonic) or a stop request. */
static void sleep_until(svk_relay *r, int64_t deadline_ns)
{
    struct timespec ts = {(time_t)(deadline_ns / 1000000000), (long)(deadline_ns % 1000000000)};
    pthread_mutex_lock(&r->lock);
    while (!svk__relay_stopping(r) && svk_clock_mono_ns() < deadline_ns)
        if (pthread_cond_timedwait(&r->changed, &r->lock, &ts) == ETIMEDOUT)
            break;
    pthread_mutex_unlock(&r->lock);
}

static void failed(svk_relay *r, int rc)
{
    atomic_store(&r->fig.ready, 0);
    char detail[SVK__RELAY_ERROR_MAX];
    svk_relay_last_error(r, detail, sizeof detail);
    int64_t wait = svk__backoff_next(&r->backoff);
    if (r->backoff.failures == 1)
        svk_log_warn(r->log, "outbox relay failing", SVK_STR("relay", r->id),
                     SVK_ERR("error", rc), SVK_STR("detail", detail));
    if (r->backoff.failures == r->cfg.breaker_threshold) {
        atomic_store(&r->fig.breaker_open, 1);
        svk_log_warn(r->log, "outbox relay breaker open: one event per claim",
                     SVK_STR("relay", r->id), SVK_INT("failures", r->backoff.failures));
    }
    sleep_until(r, svk_clock_mono_ns() + wait);
}

/*
 * Mark this relay awake or asleep for the writers (MARK_NONE: remove the
 * row), unless it is marked so already and not due for renewal. A failure
 * only costs wake-ups: the next call tries again.
 */
static void set_mark(svk_relay *r, int mark)
{
    if (r->conn == NULL || (mark == r->mark && svk_clock_mono_ns() < r->mark_renew_ns))
        return;
    const char *values[] = {r->id, mark == MARK_AWAKE ? "true" : "false",
                            mark == MARK_AWAKE ? "5 seconds" : "30 seconds"};
    int rc = svk_pg_exec(r->conn, svk__relay_claim_ctx(r), mark ? mark_sql : unmark_sql,
                         mark ? 3 : 1, values, NULL, NULL, NULL);
    if (rc != 0) {
        svk__relay_conn_failed(r, rc);
        r->mark_renew_ns = 0;
        return;
    }
    r->mark = mark;
    r->mark_renew_ns = svk_clock_mono_ns() + (mark == MARK_AWAKE ? 2 : 15) * SEC_NS;
}

/* The next idle wait: 2, 8, 32, 128 ms after the last events, then the poll. */
static int64_t idle_interval(svk_relay *r)
{
    int64_t wait = FIRST_IDLE_WAIT_NS << (2 * (r->idle_step < 8 ? r->idle_step : 8));
    r->idle_step++;
    return wait < r->cfg.poll_interval_ns ? wait : r->cfg.poll_interval_ns;
}

/* No more work in sight: wait for a notification, or poll. */
static void idle_wait(svk_relay *r)
{
    set_mark(r, MARK_ASLEEP);
    int64_t until = svk_clock_mono_ns() + idle_interval(r);
    if (r->leases.ordered && r->leases.next_round_ns < until)
        until = r->leases.next_round_ns;
    if (r->next_gauges_ns < until)
        until = r->next_gauges_ns;
    int64_t wait = until - svk_clock_mono_ns();
    if (wait <= 0)
        return;
    if (r->listen == NULL) {
        sleep_until(r, until);
        return;
    }
    int got = 0;
    int rc = svk_pg_wait_notify(r->listen, r->wait_ctx, wait, &got);
    if (rc != 0 && rc != SVK_ECANCELED) {
        svk_pg_release(r->listen); /* lost: the next round gets another */
        r->listen = NULL;
    }
}

static void leave(svk_relay *r)
{
    if (r->conn != NULL && svk_ctx_err(r->run_ctx) == 0) {
        r->mark_renew_ns = 0;
        set_mark(r, MARK_NONE);
        svk__relay_lease_leave(r);
    }
    svk_pg_release(r->listen);
    svk_pg_release(r->conn);
    r->listen = r->conn = NULL;
    atomic_store(&r->fig.ready, 0);
    atomic_store(&r->fig.leases_held, 0);
    pthread_mutex_lock(&r->lock);
    r->exited = true;
    pthread_cond_broadcast(&r->changed);
    pthread_mutex_unlock(&r->lock);
}

void *svk__relay_main(void *arg)
{
    svk_relay *r = arg;
    svk_log_info(r->log, "outbox relay started", SVK_STR("relay", r->id),
                 SVK_INT("batch_size", r->cfg.batch_size));
    while (!svk__relay_stopping(r)) {
        int rc = relay_round(r);
        if (rc != 0) {
            failed(r, rc);
            continue;
        }
        succeeded(r);
        if (r->more)
            set_mark(r, MARK_AWAKE);
        if (!r->more && !svk__relay_stopping(r))
            idle_wait(r);
    }
    leave(r);
    svk_log_info(r->log, "outbox relay stopped", SVK_STR("relay", r->id));
    return NULL;
}
