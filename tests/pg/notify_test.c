/*
 * notify_test.c — LISTEN/NOTIFY: a notification wakes the waiter, one sent
 * in a transaction arrives only at commit and identical ones fold, the
 * timeout is not an error, the ctx ends the wait, and any channel name is
 * quoted safely.
 */
#include <criterion/criterion.h>
#include <pthread.h>
#include <stdio.h>
#include <unistd.h>

#include "pg_env.h"

static svk_pg_pool *pool;
static svk_pg_conn *listener;
/* Channels are database-wide and Criterion runs tests in parallel
 * processes: each test's channel carries its pid. */
static char channel[64];

static void setup(void)
{
    pool = pgt_pool(pgt_dsn(), 3);
    cr_assert_eq(svk_pg_acquire(pool, NULL, &listener), 0);
    snprintf(channel, sizeof channel, "svk_outbox_%d", (int)getpid());
}

static void teardown(void)
{
    svk_pg_release(listener);
    svk_pg_pool_free(pool);
}

TestSuite(pg_notify, .init = setup, .fini = teardown, .timeout = 60);

static void notify_now(const char *name)
{
    svk_pg_conn *c = NULL;
    cr_assert_eq(svk_pg_acquire(pool, NULL, &c), 0);
    cr_assert_eq(svk_pg_notify(c, NULL, name, NULL), 0, "%s", svk_pg_conn_last_error(c));
    svk_pg_release(c);
}

Test(pg_notify, notification_wakes_the_waiter)
{
    cr_assert_eq(svk_pg_listen(listener, NULL, channel), 0);
    int got = -1;
    cr_expect_eq(svk_pg_wait_notify(listener, NULL, 0, &got), 0);
    cr_expect_eq(got, 0, "nothing yet");
    notify_now(channel);
    cr_expect_eq(svk_pg_wait_notify(listener, NULL, 5 * PGT_SEC, &got), 0);
    cr_expect_eq(got, 1);
    notify_now("another_channel");
    cr_expect_eq(svk_pg_wait_notify(listener, NULL, 100 * PGT_MS, &got), 0);
    cr_expect_eq(got, 0, "not listening there");
}

Test(pg_notify, in_a_transaction_delivered_at_commit_and_folded)
{
    cr_assert_eq(svk_pg_listen(listener, NULL, channel), 0);
    svk_tx *tx = NULL;
    cr_assert_eq(svk_tx_begin(pool, NULL, 0, &tx), 0);
    for (int i = 0; i < 3; i++)
        cr_assert_eq(svk_pg_notify(svk_tx_conn(tx), NULL, channel, ""), 0);
    int got = -1;
    cr_expect_eq(svk_pg_wait_notify(listener, NULL, 100 * PGT_MS, &got), 0);
    cr_expect_eq(got, 0, "not before commit");
    cr_assert_eq(svk_tx_commit(tx, NULL), 0);
    cr_expect_eq(svk_pg_wait_notify(listener, NULL, 5 * PGT_SEC, &got), 0);
    cr_expect_eq(got, 1, "three identical notifications fold into one");
}

Test(pg_notify, timeout_is_not_an_error)
{
    cr_assert_eq(svk_pg_listen(listener, NULL, "quiet"), 0);
    int got = -1;
    int64_t t0 = pgt_now_ms();
    cr_expect_eq(svk_pg_wait_notify(listener, NULL, 150 * PGT_MS, &got), 0);
    int64_t took = pgt_now_ms() - t0;
    cr_expect_eq(got, 0);
    cr_expect(took >= 140 && took < 1000, "waited %lld ms", (long long)took);
}

Test(pg_notify, ctx_ends_the_wait)
{
    cr_assert_eq(svk_pg_listen(listener, NULL, "quiet"), 0);
    svk_ctx *ctx = pgt_ctx(100 * PGT_MS);
    int got = -1;
    cr_expect_eq(svk_pg_wait_notify(listener, ctx, SVK_PG_NO_TIMEOUT, &got), SVK_ETIMEDOUT);
    cr_expect_eq(got, 0);
    svk_ctx_cancel(ctx);
    cr_expect_eq(svk_pg_wait_notify(listener, ctx, SVK_PG_NO_TIMEOUT, &got), SVK_ECANCELED);
    svk_ctx_free(ctx);
    cr_expect_eq(svk_pg_wait_notify(listener, NULL, -2, &got), SVK_EINVAL);
    cr_expect_eq(svk_pg_wait_notify(listener, NULL, 0, NULL), SVK_EINVAL);
}

Test(pg_notify, odd_channel_names_are_quoted)
{
    const char *name = "Orders \"v2\"; DROP TABLE x";
    cr_assert_eq(svk_pg_listen(listener, NULL, name), 0, "%s",
                 svk_pg_conn_last_error(listener));
    notify_now(name);
    int got = 0;
    cr_expect_eq(svk_pg_wait_notify(listener, NULL, 5 * PGT_SEC, &got), 0);
    cr_expect_eq(got, 1);
    cr_expect_eq(svk_pg_unlisten(listener, NULL, name), 0);
    cr_expect_eq(svk_pg_unlisten(listener, NULL, NULL), 0);
    cr_expect_eq(svk_pg_listen(listener, NULL, ""), SVK_EINVAL);
    cr_expect_eq(svk_pg_notify(listener, NULL, NULL, NULL), SVK_EINVAL);
}

Test(pg_notify, lost_connection_is_eunavail)
{
    cr_assert_eq(svk_pg_listen(listener, NULL, channel), 0);
    pgt_terminate(pgt_pid(listener));
    int got = -1;
    cr_expect_eq(svk_pg_wait_notify(listener, NULL, 2 * PGT_SEC, &got), SVK_EUNAVAIL);
}
