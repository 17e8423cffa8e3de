/*
 * restart_test.c — the pool across a PostgreSQL restart and a stop: idle
 * connections killed by the restart are replaced at checkout, callers get
 * SVK_EUNAVAIL while the server is down (a handful of connection attempts,
 * not a tight loop), and the pool recovers by itself once it is back.
 *
 * These tests stop the harness's server, so ctest runs this binary alone
 * (RUN_SERIAL) and Criterion runs its tests one at a time
 * (CRITERION_JOBS=1). Every test leaves the server running.
 */
#include <criterion/criterion.h>
#include <unistd.h>

#include "pg_env.h"

static void ensure_running(void)
{
    if (pgt_pg_ctl("status") != 0)
        pgt_pg_ctl("start");
}

TestSuite(pg_restart, .fini = ensure_running, .timeout = 180);

static int select_one(svk_pg_conn *c)
{
    return svk_pg_exec(c, NULL, "SELECT 1", 0, NULL, NULL, NULL, NULL);
}

Test(pg_restart, pool_reconnects_after_restart)
{
    svk_pg_pool *p = pgt_pool(pgt_dsn(), 3);
    svk_pg_conn *c[3];
    for (int i = 0; i < 3; i++)
        cr_assert_eq(svk_pg_acquire(p, NULL, &c[i]), 0);
    for (int i = 0; i < 3; i++)
        svk_pg_release(c[i]);
    cr_assert_eq(pgt_pg_ctl("restart"), 0, "pg_ctl restart failed");
    svk_ctx *ctx = pgt_ctx(30 * PGT_SEC);
    svk_pg_conn *fresh = NULL;
    cr_assert_eq(svk_pg_acquire(p, ctx, &fresh), 0);
    cr_expect_eq(select_one(fresh), 0, "%s", svk_pg_conn_last_error(fresh));
    svk_pg_stats s = pgt_stats(p);
    cr_expect_eq(s.discarded, 3, "the three dead idle connections were dropped");
    cr_expect_eq(s.open, 1);
    svk_pg_release(fresh);
    svk_ctx_free(ctx);
    svk_pg_pool_free(p);
}

Test(pg_restart, checked_out_connection_reports_eunavail_then_pool_recovers)
{
    svk_pg_pool *p = pgt_pool(pgt_dsn(), 2);
    svk_pg_conn *c = NULL;
    cr_assert_eq(svk_pg_acquire(p, NULL, &c), 0);
    cr_assert_eq(pgt_pg_ctl("restart"), 0);
    cr_expect_eq(select_one(c), SVK_EUNAVAIL);
    svk_pg_release(c);
    cr_assert_eq(svk_pg_acquire(p, NULL, &c), 0);
    cr_expect_eq(select_one(c), 0);
    svk_pg_release(c);
    svk_pg_pool_free(p);
}

Test(pg_restart, server_down_backs_off_then_recovers)
{
    svk_pg_options o = SVK_PG_OPTIONS_INIT;
    o.conninfo = pgt_dsn();
    o.max_conns = 4;
    o.reconnect_min_ns = 100 * PGT_MS;
    o.reconnect_max_ns = 400 * PGT_MS;
    svk_pg_pool *p = NULL;
    cr_assert_eq(svk_pg_pool_new(&p, &o, NULL), 0);
    cr_assert_eq(pgt_pg_ctl("stop"), 0, "pg_ctl stop failed");
    int64_t t0 = pgt_now_ms();
    long calls = 0, unavailable = 0;
    while (pgt_now_ms() - t0 < 1000) {
        svk_pg_conn *c = NULL;
        svk_ctx *ctx = pgt_ctx(30 * PGT_MS);
        unavailable += svk_pg_acquire(p, ctx, &c) == SVK_EUNAVAIL;
        calls++;
        svk_ctx_free(ctx);
    }
    svk_pg_stats s = pgt_stats(p);
    cr_expect(s.connect_failures >= 2 && s.connect_failures <= 10,
              "%llu connection attempts in 1 s of %ld calls",
              (unsigned long long)s.connect_failures, calls);
    cr_expect_eq(unavailable, calls);
    cr_assert_eq(pgt_pg_ctl("start"), 0, "pg_ctl start failed");
    /* Within one backoff delay (at most 400 ms) the pool connects again. */
    svk_ctx *ctx = pgt_ctx(5 * PGT_SEC);
    svk_pg_conn *c = NULL;
    cr_assert_eq(svk_pg_acquire(p, ctx, &c), 0);
    cr_expect_eq(select_one(c), 0);
    cr_expect_eq(svk_pg_pool_last_error(p, NULL, 0), 0, "the success cleared the last error");
    svk_pg_release(c);
    svk_ctx_free(ctx);
    svk_pg_pool_free(p);
}
