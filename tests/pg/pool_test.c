/*
 * pool_test.c — the pool: options, its bound, health checks at checkout,
 * what release does with unclean connections, backoff against a database
 * that is down (without a tight loop), and pool_new under a failing
 * allocator.
 */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "pg_env.h"
#include "support/chaos_alloc.h"

TestSuite(pg_pool, .timeout = 60);

static void select_one(svk_pg_conn *c)
{
    svk_pg_result *res = NULL;
    cr_assert_eq(svk_pg_exec(c, NULL, "SELECT 1", 0, NULL, NULL, NULL, &res), 0, "%s",
                 svk_pg_conn_last_error(c));
    cr_assert_str_eq(svk_pg_result_value(res, 0, 0), "1");
    svk_pg_result_free(res);
}

/* ------------------------------------------------------------- options */

Test(pg_pool, rejects_bad_options)
{
    svk_pg_pool *p = (svk_pg_pool *)1;
    svk_error err;
    cr_expect_eq(svk_pg_pool_new(&p, NULL, &err), SVK_EINVAL);
    cr_expect_null(p);
    svk_pg_options o = SVK_PG_OPTIONS_INIT;
    cr_expect_eq(svk_pg_pool_new(&p, &o, &err), SVK_EINVAL, "conninfo is required");
    o.conninfo = "host=/tmp";
    o.size = sizeof o + 8;
    cr_expect_eq(svk_pg_pool_new(&p, &o, &err), SVK_EINVAL, "size from a newer header");
    o.size = sizeof o;
    o.max_conns = -1;
    cr_expect_eq(svk_pg_pool_new(&p, &o, &err), SVK_EINVAL);
    o.max_conns = 0;
    o.connect_timeout_ns = SVK_PG_NO_TIMEOUT;
    cr_expect_eq(svk_pg_pool_new(&p, &o, &err), SVK_EINVAL, "connect timeout cannot be off");
    o.connect_timeout_ns = 0;
    o.reconnect_min_ns = 2 * PGT_SEC;
    o.reconnect_max_ns = PGT_SEC;
    cr_expect_eq(svk_pg_pool_new(&p, &o, &err), SVK_EINVAL);
    cr_expect_eq(svk_pg_pool_new(NULL, &o, &err), SVK_EINVAL);
}

Test(pg_pool, malformed_conninfo_never_quotes_the_password)
{
    svk_pg_options o = SVK_PG_OPTIONS_INIT;
    svk_pg_pool *p = NULL;
    svk_error err;
    const char *bad[] = {"host=db password=hunter2secret bogus",
                         "postgresql://u:hunter2secret@h/db?nosuchparam=1",
                         "host=db password='hunter2secret"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        o.conninfo = bad[i];
        cr_expect_eq(svk_pg_pool_new(&p, &o, &err), SVK_EINVAL, "%zu", i);
        cr_expect_null(strstr(err.message, "hunter2"), "leaked: %s", err.message);
    }
}

Test(pg_pool, older_header_size_gets_defaults)
{
    /* A caller built against a header that ended after max_conns. */
    svk_pg_options o = SVK_PG_OPTIONS_INIT;
    o.conninfo = pgt_dsn();
    o.max_conns = 2;
    o.statement_timeout_ns = 123; /* beyond the old size: must be ignored */
    o.size = offsetof(svk_pg_options, connect_timeout_ns);
    svk_pg_pool *p = NULL;
    cr_assert_eq(svk_pg_pool_new(&p, &o, NULL), 0);
    svk_pg_conn *c = NULL;
    cr_assert_eq(svk_pg_acquire(p, NULL, &c), 0);
    svk_pg_result *res = NULL;
    cr_assert_eq(svk_pg_exec(c, NULL, "SHOW statement_timeout", 0, NULL, NULL, NULL, &res), 0);
    cr_expect_str_eq(svk_pg_result_value(res, 0, 0), "30s");
    svk_pg_result_free(res);
    svk_pg_release(c);
    svk_pg_pool_free(p);
}

Test(pg_pool, session_settings_are_applied_and_merged)
{
    char schema[64], dsn[1024];
    pgt_fresh_schema("settings", schema, dsn, sizeof dsn);
    svk_pg_options o = SVK_PG_OPTIONS_INIT;
    o.conninfo = dsn;
    o.statement_timeout_ns = 1500 * PGT_MS;
    o.idle_in_tx_timeout_ns = SVK_PG_NO_TIMEOUT;
    o.application_name = "orders-api";
    svk_pg_pool *p = NULL;
    cr_assert_eq(svk_pg_pool_new(&p, &o, NULL), 0);
    svk_pg_conn *c = NULL;
    cr_assert_eq(svk_pg_acquire(p, NULL, &c), 0);
    svk_pg_result *res = NULL;
    cr_assert_eq(svk_pg_exec(c, NULL,
                             "SELECT current_setting('statement_timeout'),"
                             " current_setting('idle_in_transaction_session_timeout'),"
                             " current_setting('application_name'), current_schema()",
                             0, NULL, NULL, NULL, &res),
                 0, "%s", svk_pg_conn_last_error(c));
    cr_expect_str_eq(svk_pg_result_value(res, 0, 0), "1500ms");
    cr_expect_str_eq(svk_pg_result_value(res, 0, 1), "0");
    cr_expect_str_eq(svk_pg_result_value(res, 0, 2), "orders-api");
    cr_expect_str_eq(svk_pg_result_value(res, 0, 3), schema, "search_path from conninfo kept");
    svk_pg_result_free(res);
    svk_pg_release(c);
    svk_pg_pool_free(p);
}

/* --------------------------------------------------------------- bound */

Test(pg_pool, bound_is_respected_and_waiter_times_out_per_ctx)
{
    svk_pg_pool *p = pgt_pool(pgt_dsn(), 2);
    svk_pg_conn *a = NULL, *b = NULL, *c = NULL;
    cr_assert_eq(svk_pg_acquire(p, NULL, &a), 0);
    cr_assert_eq(svk_pg_acquire(p, NULL, &b), 0);
    svk_ctx *ctx = pgt_ctx(200 * PGT_MS);
    int64_t t0 = pgt_now_ms();
    cr_expect_eq(svk_pg_acquire(p, ctx, &c), SVK_ETIMEDOUT);
    int64_t waited = pgt_now_ms() - t0;
    cr_expect_null(c);
    cr_expect(waited >= 190 && waited < 1000, "waited %lld ms", (long long)waited);
    svk_pg_stats s = pgt_stats(p);
    cr_expect_eq(s.open, 2);
    cr_expect_eq(s.acquire_timeouts, 1);
    cr_expect_eq(s.connects, 2);
    svk_ctx_free(ctx);
    svk_pg_release(a);
    svk_pg_release(b);
    svk_pg_pool_free(p);
}

Test(pg_pool, pool_wait_limit_gives_ebusy)
{
    svk_pg_options o = SVK_PG_OPTIONS_INIT;
    o.conninfo = pgt_dsn();
    o.max_conns = 1;
    o.acquire_timeout_ns = 150 * PGT_MS;
    svk_pg_pool *p = NULL;
    cr_assert_eq(svk_pg_pool_new(&p, &o, NULL), 0);
    svk_pg_conn *a = NULL, *b = NULL;
    cr_assert_eq(svk_pg_acquire(p, NULL, &a), 0);
    svk_ctx *ctx = pgt_ctx(10 * PGT_SEC); /* longer than the pool's limit */
    int64_t t0 = pgt_now_ms();
    cr_expect_eq(svk_pg_acquire(p, ctx, &b), SVK_EBUSY);
    int64_t waited = pgt_now_ms() - t0;
    cr_expect(waited >= 140 && waited < 1000, "waited %lld ms", (long long)waited);
    svk_ctx_free(ctx);
    svk_pg_release(a);
    svk_pg_pool_free(p);
}

struct handoff {
    svk_pg_pool *pool;
    svk_pg_conn *got;
    int rc;
};

static void *acquire_in_thread(void *arg)
{
    struct handoff *h = arg;
    svk_ctx *ctx = pgt_ctx(5 * PGT_SEC);
    h->rc = svk_pg_acquire(h->pool, ctx, &h->got);
    svk_ctx_free(ctx);
    return NULL;
}

Test(pg_pool, waiter_gets_the_released_connection)
{
    svk_pg_pool *p = pgt_pool(pgt_dsn(), 1);
    svk_pg_conn *a = NULL;
    cr_assert_eq(svk_pg_acquire(p, NULL, &a), 0);
    struct handoff h = {p, NULL, -1};
    pthread_t t;
    pthread_create(&t, NULL, acquire_in_thread, &h);
    while (pgt_stats(p).waiting == 0)
        usleep(1000);
    svk_pg_release(a);
    pthread_join(t, NULL);
    cr_assert_eq(h.rc, 0);
    cr_expect_eq(h.got, a, "the same connection, handed over");
    select_one(h.got);
    cr_expect_eq(pgt_stats(p).connects, 1);
    svk_pg_release(h.got);
    svk_pg_pool_free(p);
}

Test(pg_pool, cancelled_ctx_stops_the_wait)
{
    svk_pg_pool *p = pgt_pool(pgt_dsn(), 1);
    svk_pg_conn *a = NULL, *b = NULL;
    cr_assert_eq(svk_pg_acquire(p, NULL, &a), 0);
    svk_ctx *ctx = pgt_ctx(10 * PGT_SEC);
    svk_ctx_cancel(ctx);
    cr_expect_eq(svk_pg_acquire(p, ctx, &b), SVK_ECANCELED);
    svk_ctx_free(ctx);
    svk_pg_release(a);
    svk_pg_pool_free(p);
}

/* -------------------------------------------------------------- health */

Test(pg_pool, connection_killed_server_side_is_replaced_at_checkout)
{
    svk_pg_pool *p = pgt_pool(pgt_dsn(), 2);
    svk_pg_conn *c = NULL;
    cr_assert_eq(svk_pg_acquire(p, NULL, &c), 0);
    int old_pid = pgt_pid(c);
    svk_pg_release(c);
    pgt_terminate(old_pid);
    cr_assert_eq(svk_pg_acquire(p, NULL, &c), 0);
    cr_expect_neq(pgt_pid(c), old_pid);
    select_one(c);
    svk_pg_stats s = pgt_stats(p);
    cr_expect_eq(s.discarded, 1);
    cr_expect_eq(s.connects, 2);
    cr_expect_eq(s.open, 1);
    svk_pg_release(c);
    svk_pg_pool_free(p);
}

Test(pg_pool, long_idle_connection_is_pinged)
{
    svk_pg_options o = SVK_PG_OPTIONS_INIT;
    o.conninfo = pgt_dsn();
    o.health_check_idle_ns = 20 * PGT_MS;
    svk_pg_pool *p = NULL;
    cr_assert_eq(svk_pg_pool_new(&p, &o, NULL), 0);
    svk_pg_conn *c = NULL;
    cr_assert_eq(svk_pg_acquire(p, NULL, &c), 0);
    int pid = pgt_pid(c);
    svk_pg_release(c);
    usleep(50000);
    cr_assert_eq(svk_pg_acquire(p, NULL, &c), 0);
    cr_expect_eq(pgt_pid(c), pid, "a healthy connection is kept");
    svk_pg_release(c);
    svk_pg_pool_free(p);
}

/* ------------------------------------------------------------- release */

Test(pg_pool, release_mid_transaction_rolls_back)
{
    char schema[64], dsn[1024];
    pgt_fresh_schema("release_tx", schema, dsn, sizeof dsn);
    svk_pg_pool *p = pgt_pool(dsn, 1);
    svk_pg_conn *c = NULL;
    cr_assert_eq(svk_pg_acquire(p, NULL, &c), 0);
    cr_assert_eq(svk_pg_exec(c, NULL, "CREATE TABLE t (v int)", 0, NULL, NULL, NULL, NULL), 0);
    cr_assert_eq(svk_pg_exec(c, NULL, "BEGIN", 0, NULL, NULL, NULL, NULL), 0);
    cr_assert_eq(svk_pg_exec(c, NULL, "INSERT INTO t VALUES (1)", 0, NULL, NULL, NULL, NULL),
                 0);
    svk_pg_release(c);
    cr_assert_eq(svk_pg_acquire(p, NULL, &c), 0);
    cr_expect_eq(PQtransactionStatus(svk_pg_conn_native(c)), PQTRANS_IDLE);
    svk_pg_result *res = NULL;
    cr_assert_eq(svk_pg_exec(c, NULL, "SELECT count(*) FROM t", 0, NULL, NULL, NULL, &res), 0);
    cr_expect_str_eq(svk_pg_result_value(res, 0, 0), "0");
    svk_pg_result_free(res);
    cr_expect_eq(pgt_stats(p).discarded, 0, "rolled back, not closed");
    svk_pg_release(c);
    svk_pg_pool_free(p);
}

Test(pg_pool, release_closes_broken_and_listening_connections)
{
    svk_pg_pool *p = pgt_pool(pgt_dsn(), 2);
    svk_pg_conn *c = NULL;
    cr_assert_eq(svk_pg_acquire(p, NULL, &c), 0);
    svk_pg_conn_mark_broken(c);
    svk_pg_release(c);
    cr_expect_eq(pgt_stats(p).discarded, 1);
    cr_assert_eq(svk_pg_acquire(p, NULL, &c), 0);
    cr_assert_eq(svk_pg_listen(c, NULL, "svk_pool_test"), 0);
    svk_pg_release(c);
    svk_pg_stats s = pgt_stats(p);
    cr_expect_eq(s.discarded, 2);
    cr_expect_eq(s.open, 0);
    svk_pg_release(NULL);
    svk_pg_pool_free(p);
}

/* ------------------------------------------------------------- backoff */

/* A fake server on 127.0.0.1 that accepts and then at once closes (a
 * database that is down) or says nothing (one that hangs): each accept is
 * one connection attempt by the pool. */
#define FAKE_MAX_HELD 256

struct fake_server {
    int fd;
    bool hang;
    atomic_int accepted;
    atomic_bool stop;
    pthread_t thread;
    int port;
    int held[FAKE_MAX_HELD];
};

static void *accept_connections(void *arg)
{
    struct fake_server *s = arg;
    while (!atomic_load(&s->stop)) {
        int c = accept(s->fd, NULL, NULL);
        if (c < 0)
            continue;
        int n = atomic_fetch_add(&s->accepted, 1);
        if (s->hang && n < FAKE_MAX_HELD)
            s->held[n] = c;
        else
            close(c);
    }
    return NULL;
}

static void fake_server_start(struct fake_server *s)
{
    s->fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof a;
    cr_assert_eq(bind(s->fd, (struct sockaddr *)&a, sizeof a), 0);
    cr_assert_eq(listen(s->fd, 64), 0);
    getsockname(s->fd, (struct sockaddr *)&a, &len);
    s->port = ntohs(a.sin_port);
    struct timeval tv = {.tv_usec = 50000}; /* accept wakes to see stop */
    setsockopt(s->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    pthread_create(&s->thread, NULL, accept_connections, s);
}

static void fake_server_stop(struct fake_server *s)
{
    atomic_store(&s->stop, true);
    pthread_join(s->thread, NULL);
    close(s->fd);
    for (int i = 0; s->hang && i < atomic_load(&s->accepted) && i < FAKE_MAX_HELD; i++)
        close(s->held[i]);
}

static svk_pg_pool *pool_on_port_opts(int port, svk_pg_options *o)
{
    char dsn[128];
    snprintf(dsn, sizeof dsn,
             "host=127.0.0.1 port=%d dbname=x user=x sslmode=disable gssencmode=disable", port);
    o->conninfo = dsn;
    svk_pg_pool *p = NULL;
    cr_assert_eq(svk_pg_pool_new(&p, o, NULL), 0);
    return p;
}

static svk_pg_pool *pool_on_port(int port, int64_t backoff_min, int64_t backoff_max)
{
    svk_pg_options o = SVK_PG_OPTIONS_INIT;
    o.max_conns = 4;
    o.reconnect_min_ns = backoff_min;
    o.reconnect_max_ns = backoff_max;
    return pool_on_port_opts(port, &o);
}

Test(pg_pool, database_down_backs_off_without_a_tight_loop)
{
    struct fake_server s = {0};
    fake_server_start(&s);
    svk_pg_pool *p = pool_on_port(s.port, 100 * PGT_MS, 2 * PGT_SEC);
    int64_t t0 = pgt_now_ms();
    long calls = 0, unavailable = 0, timed_out = 0;
    while (pgt_now_ms() - t0 < 1000) {
        svk_ctx *ctx = pgt_ctx(50 * PGT_MS); /* a caller looping hard */
        svk_pg_conn *c = NULL;
        int rc = svk_pg_acquire(p, ctx, &c);
        unavailable += rc == SVK_EUNAVAIL;
        timed_out += rc == SVK_ETIMEDOUT; /* its 50 ms ran out mid-attempt */
        calls++;
        svk_ctx_free(ctx);
    }
    fake_server_stop(&s);
    int attempts = atomic_load(&s.accepted);
    svk_pg_stats st = pgt_stats(p);
    cr_expect(attempts >= 2 && attempts <= 8, "%d connection attempts in 1 s", attempts);
    cr_expect_geq((uint64_t)attempts, st.connect_failures);
    cr_expect_geq(st.connect_failures, 2);
    cr_expect_eq(unavailable + timed_out, calls, "no other outcome");
    cr_expect_gt(unavailable, calls / 2, "%ld of %ld calls unavailable", unavailable, calls);
    char msg[256];
    cr_expect_eq(svk_pg_pool_last_error(p, msg, sizeof msg), SVK_EUNAVAIL);
    cr_expect_neq(msg[0], '\0');
    cr_expect_leq(st.open, 1, "at most one attempt parked");
    svk_pg_pool_free(p);
}

Test(pg_pool, database_hanging_on_connect_is_not_flooded_by_short_deadlines)
{
    /* Callers with 50 ms each, a connect needing 300 ms of driving: the
     * attempt is parked and carried on, not restarted per caller. */
    struct fake_server s = {.hang = true};
    fake_server_start(&s);
    svk_pg_options o = SVK_PG_OPTIONS_INIT;
    o.max_conns = 4;
    o.connect_timeout_ns = 300 * PGT_MS;
    o.reconnect_min_ns = 100 * PGT_MS;
    svk_pg_pool *p = pool_on_port_opts(s.port, &o);
    int64_t t0 = pgt_now_ms();
    long calls = 0;
    while (pgt_now_ms() - t0 < 1000) {
        svk_ctx *ctx = pgt_ctx(50 * PGT_MS);
        svk_pg_conn *c = NULL;
        int rc = svk_pg_acquire(p, ctx, &c);
        cr_expect(rc == SVK_ETIMEDOUT || rc == SVK_EUNAVAIL, "%s", svk_errname(rc));
        calls++;
        svk_ctx_free(ctx);
    }
    int attempts = atomic_load(&s.accepted);
    svk_pg_stats st = pgt_stats(p);
    svk_pg_pool_free(p); /* closes the parked attempt */
    fake_server_stop(&s);
    cr_expect(attempts >= 1 && attempts <= 5, "%d connection attempts for %ld calls", attempts,
              calls);
    cr_expect_geq(st.connect_failures, 1, "connect_timeout gave a verdict");
}

Test(pg_pool, attempt_cut_by_a_deadline_is_finished_by_the_next_caller)
{
    svk_pg_options o = SVK_PG_OPTIONS_INIT;
    o.conninfo = getenv("SVK_TEST_PG_URL"); /* TCP: a connect takes a few ms */
    cr_assert_not_null(o.conninfo, "run under svk-testenv");
    svk_pg_pool *p = NULL;
    cr_assert_eq(svk_pg_pool_new(&p, &o, NULL), 0);
    svk_ctx *hurried = pgt_ctx(PGT_MS / 2);
    svk_pg_conn *c = NULL;
    int rc = svk_pg_acquire(p, hurried, &c);
    svk_ctx_free(hurried);
    if (rc == 0) {
        svk_pg_release(c); /* this machine connects in half a millisecond */
    } else {
        cr_expect_eq(rc, SVK_ETIMEDOUT, "%s", svk_errname(rc));
        cr_expect_eq(pgt_stats(p).open, 1, "the unfinished attempt is parked in its slot");
    }
    cr_assert_eq(svk_pg_acquire(p, NULL, &c), 0);
    svk_pg_stats st = pgt_stats(p);
    cr_expect_eq(st.open, 1, "the parked attempt was carried on, not duplicated");
    cr_expect_eq(st.connects, 1);
    cr_expect_eq(st.connect_failures, 0);
    svk_pg_release(c);
    svk_pg_pool_free(p);
}

Test(pg_pool, caller_inside_backoff_window_waits_for_it_then_probes)
{
    /* A port nothing listens on: refused at once. */
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof a;
    bind(fd, (struct sockaddr *)&a, sizeof a);
    getsockname(fd, (struct sockaddr *)&a, &len);
    svk_pg_pool *p = pool_on_port(ntohs(a.sin_port), 300 * PGT_MS, 300 * PGT_MS);
    svk_pg_conn *c = NULL;
    cr_expect_eq(svk_pg_acquire(p, NULL, &c), SVK_EUNAVAIL); /* first failure */
    /* A short deadline ends before the window: fail at once, no attempt. */
    svk_ctx *quick = pgt_ctx(20 * PGT_MS);
    int64_t t0 = pgt_now_ms();
    cr_expect_eq(svk_pg_acquire(p, quick, &c), SVK_EUNAVAIL);
    cr_expect_lt(pgt_now_ms() - t0, 15);
    cr_expect_eq(pgt_stats(p).connect_failures, 1);
    /* A patient caller waits out the window (150..300 ms), then probes. */
    t0 = pgt_now_ms();
    cr_expect_eq(svk_pg_acquire(p, NULL, &c), SVK_EUNAVAIL);
    int64_t waited = pgt_now_ms() - t0;
    cr_expect(waited >= 100 && waited < 1000, "waited %lld ms", (long long)waited);
    cr_expect_eq(pgt_stats(p).connect_failures, 2);
    svk_ctx_free(quick);
    close(fd);
    svk_pg_pool_free(p);
}

/* ------------------------------------------------------------ allocator */

/* pool_new, then one acquire/query/release, with allocation n failing. */
static int chaos_scenario(long fail_at)
{
    install_chaos(fail_at);
    svk_pg_options o = SVK_PG_OPTIONS_INIT;
    o.conninfo = pgt_dsn();
    svk_pg_pool *p = NULL;
    svk_error err;
    int rc = svk_pg_pool_new(&p, &o, &err);
    if (rc != 0) {
        cr_expect_eq(rc, SVK_ENOMEM, "allocation %ld: %s", fail_at, err.message);
        cr_expect_null(p);
        return rc;
    }
    svk_pg_conn *c = NULL;
    rc = svk_pg_acquire(p, NULL, &c);
    if (rc == 0)
        select_one(c);
    svk_pg_release(c);
    svk_pg_pool_free(p);
    return rc;
}

Test(pg_pool, each_allocation_failing_in_turn_is_enomem_without_leak)
{
    long n = 0;
    int rc;
    while ((rc = chaos_scenario(n)) != 0) {
        cr_expect_eq(rc, SVK_ENOMEM, "allocation %ld failed as %s", n, svk_errname(rc));
        cr_expect_eq(chaos.live, 0, "allocation %ld: %ld blocks leaked", n, chaos.live);
        cr_assert_lt(++n, 100);
    }
    cr_expect_eq(chaos.live, 0);
    cr_expect_gt(n, 3, "pool_new allocates a few blocks, each was failed once");
    svk_set_allocator(NULL, NULL, NULL, NULL);
}
