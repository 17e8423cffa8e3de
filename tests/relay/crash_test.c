/*
 * crash_test.c — kill -9 of a relay process in the middle of a batch.
 *
 * A forked child runs a relay whose broker hangs: either right after
 * pgqueue accepted the child's first batch (a crash between publish and
 * commit) or before publishing anything. The parent checks that the child
 * really holds its claim (the batch's rows are locked: SKIP LOCKED does not
 * see them), kills it with SIGKILL, and runs a relay of its own: the
 * killed batch comes back and is published, every event reaches the
 * broker, and the only duplicates are the events the child had published
 * before it died.
 */
#include <criterion/criterion.h>
#include <signal.h>
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

#include "relay_env.h"

#define BATCH 300
#define N 2000

TestSuite(relay_crash, .timeout = 120);

static svk_relay_options hanging_relay(rt_env *e, svk_broker *recorder)
{
    svk_relay_options o = rt_relay_options(e, recorder);
    o.batch_size = BATCH;
    o.publish_timeout_ns = 60 * PGT_SEC; /* hangs until killed, not until a deadline */
    o.lease_ns = 200 * PGT_SEC;
    return o;
}

static long locked_rows(rt_env *e)
{
    return N - (long)rt_value(e, "SELECT count(*) FROM (SELECT id FROM svk_outbox"
                                 " FOR UPDATE SKIP LOCKED) s");
}

static void kill_and_recover(rt_env *e, pid_t pid)
{
    cr_expect_eq(rt_depth(e), N, "the claimed rows are not gone before a commit");
    cr_expect_eq(locked_rows(e), BATCH, "the child holds its claim on one batch");
    cr_assert_eq(kill(pid, SIGKILL), 0);
    int status = 0;
    cr_assert_eq(waitpid(pid, &status, 0), pid);
    cr_expect(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
    atomic_store(&e->shared->block_before, 0);
    atomic_store(&e->shared->block_after, 0);
    e->broker = rt_recorder(e, NULL);
    svk_relay_options o = rt_relay_options(e, e->broker);
    svk_relay *r = rt_relay(&o);
    cr_assert(rt_wait_empty(e, 30 * PGT_SEC), "%lld left", rt_depth(e));
    cr_expect_eq(rt_published(&r, 1, N, 5 * PGT_SEC), N,
                 "the survivor published everything, the killed batch too");
    svk_relay_stats s = rt_stats(r);
    cr_expect_eq(s.duplicates, 0, "it cannot know what the dead one published");
    svk_relay_free(r);
}

Test(relay_crash, killed_after_publish_its_batch_is_published_again)
{
    rt_env e;
    rt_setup(&e, "rl_crash_after", 6, N);
    rt_put(&e, "orders.placed", 0, N, 0, 500);
    atomic_store(&e.shared->block_after, 1);
    pid_t pid = rt_fork_relay(&e, hanging_relay);
    cr_expect_eq(atomic_load(&e.shared->accepted), BATCH, "the child published one batch");
    kill_and_recover(&e, pid);
    long missing, dup, total;
    rt_tally(&e, N, &missing, &dup, &total);
    cr_expect_eq(missing, 0);
    cr_expect_eq(dup, BATCH, "exactly the killed batch went out twice");
    cr_expect_eq(total, N + BATCH);
    char sql[256];
    snprintf(sql, sizeof sql, "SELECT count(DISTINCT message_id) FROM svk_queue"
             " WHERE group_name = '%s'", RT_GROUP);
    cr_expect_eq(rt_value(&e, sql), N, "same ids: the queue keeps one of each");
    rt_teardown(&e);
}

Test(relay_crash, killed_before_publish_nothing_is_duplicated)
{
    rt_env e;
    rt_setup(&e, "rl_crash_before", 6, N);
    rt_put(&e, "orders.placed", 0, N, 0, 500);
    atomic_store(&e.shared->block_before, 1);
    pid_t pid = rt_fork_relay(&e, hanging_relay);
    cr_expect_eq(atomic_load(&e.shared->accepted), 0);
    kill_and_recover(&e, pid);
    long missing, dup, total;
    rt_tally(&e, N, &missing, &dup, &total);
    cr_expect_eq(missing, 0);
    cr_expect_eq(dup, 0);
    rt_teardown(&e);
}
