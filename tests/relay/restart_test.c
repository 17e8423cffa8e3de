/*
 * restart_test.c — PostgreSQL restarted, and stopped for a while, under a
 * running relay: it reports not ready while the database is gone, does not
 * spin, reconnects (claims and LISTEN) by itself and relays everything
 * written before and after.
 *
 * These tests stop the harness's server, so ctest runs this binary alone
 * (RUN_SERIAL) with CRITERION_JOBS=1. Every test leaves the server running.
 */
#include <criterion/criterion.h>
#include <unistd.h>

#include "relay_env.h"

static void ensure_running(void)
{
    if (pgt_pg_ctl("status") != 0)
        pgt_pg_ctl("start");
}

TestSuite(relay_restart, .fini = ensure_running, .timeout = 180);

static void check_all(rt_env *e, long n)
{
    long missing, dup, total;
    rt_tally(e, n, &missing, &dup, &total);
    cr_expect_eq(missing, 0, "%ld of %ld events never published", missing, n);
}

static void wait_ready(svk_relay *r, int64_t timeout_ns)
{
    int64_t until = svk_clock_mono_ns() + timeout_ns;
    while (!svk_relay_ready(r) && svk_clock_mono_ns() < until)
        usleep(10000);
}

Test(relay_restart, reconnects_and_resumes_after_a_restart)
{
    rt_env e;
    rt_setup(&e, "rl_restart", 8, 2000);
    e.broker = rt_recorder(&e, NULL);
    svk_relay_options o = rt_relay_options(&e, e.broker);
    o.poll_interval_ns = 5 * PGT_SEC; /* events after the restart must come by NOTIFY */
    svk_relay *r = rt_relay(&o);
    rt_put(&e, "orders.placed", 0, 1000, 0, 250);
    cr_assert(rt_wait_empty(&e, 30 * PGT_SEC));
    cr_assert_eq(pgt_pg_ctl("restart"), 0, "pg_ctl restart failed");
    rt_put(&e, "orders.placed", 1000, 1000, 0, 250);
    cr_assert(rt_wait_empty(&e, 30 * PGT_SEC), "%lld left after the restart", rt_depth(&e));
    check_all(&e, 2000);
    wait_ready(r, 5 * PGT_SEC);
    svk_relay_stats s = rt_stats(r);
    cr_expect_eq(s.ready, 1);
    cr_expect_geq(s.published, 2000);
    /* The idle listening connection died with the server and was replaced:
     * one more event is relayed at once, not after the 5 s poll. */
    usleep(300000);
    int64_t t0 = svk_clock_mono_ns();
    rt_put(&e, "orders.placed", 1999, 1, 0, 1);
    cr_assert(rt_wait_empty(&e, 10 * PGT_SEC));
    cr_expect_lt(svk_clock_mono_ns() - t0, 2 * PGT_SEC, "woken by NOTIFY after reconnecting");
    svk_relay_free(r);
    rt_teardown(&e);
}

Test(relay_restart, database_down_not_ready_then_recovers)
{
    rt_env e;
    rt_setup(&e, "rl_down", 8, 600);
    e.broker = rt_recorder(&e, NULL);
    svk_relay_options o = rt_relay_options(&e, e.broker);
    o.backoff_min_ns = 50 * PGT_MS;
    o.backoff_max_ns = 300 * PGT_MS;
    svk_relay *r = rt_relay(&o);
    rt_put(&e, "orders.placed", 0, 300, 0, 100);
    cr_assert(rt_wait_empty(&e, 30 * PGT_SEC));
    wait_ready(r, 5 * PGT_SEC);
    cr_assert_eq(pgt_pg_ctl("stop"), 0, "pg_ctl stop failed");
    svk_relay_stats s0 = rt_stats(r);
    sleep(2);
    svk_relay_stats s = rt_stats(r);
    cr_expect_eq(s.ready, 0, "not ready while the database is down");
    uint64_t errors = s.errors - s0.errors;
    cr_expect(errors <= 40, "%llu failed rounds in 2 s: backoff, no spin",
              (unsigned long long)errors);
    /* And it keeps trying (a loaded machine may have given it few turns). */
    int64_t until = svk_clock_mono_ns() + 10 * PGT_SEC;
    while (s.errors - s0.errors < 3 && svk_clock_mono_ns() < until) {
        usleep(50000);
        s = rt_stats(r);
    }
    cr_expect_geq(s.errors - s0.errors, 3, "retries while the database is down");
    cr_expect(s.last_error == SVK_EUNAVAIL || s.last_error == SVK_ETIMEDOUT, "%s",
              svk_errname(s.last_error));
    cr_assert_eq(pgt_pg_ctl("start"), 0, "pg_ctl start failed");
    rt_put(&e, "orders.placed", 300, 300, 0, 100);
    cr_assert(rt_wait_empty(&e, 30 * PGT_SEC));
    check_all(&e, 600);
    wait_ready(r, 5 * PGT_SEC);
    cr_expect_eq(svk_relay_ready(r), 1);
    svk_relay_free(r);
    rt_teardown(&e);
}
