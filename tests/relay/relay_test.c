/*
 * relay_test.c — one relay against the harness's PostgreSQL and the real
 * PostgreSQL queue broker: options, publish-and-remove, rollback never
 * published, the NOTIFY wake-up and the poll fallback, stop, and a broker
 * that is down (the outbox grows, readiness is false, no tight loop, the
 * breaker opens, and everything goes out once the broker is back).
 *
 * "No tight loop" is counted twice, independently: the relay's own claim
 * count and the publish calls the broker saw. (pg_stat_database cannot
 * tell: the database is shared with the tests running in parallel.) Also:
 * svk_relay_new failing each of its allocations in turn.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "relay_env.h"
#include "support/chaos_alloc.h"

#define MS PGT_MS
#define SEC PGT_SEC

TestSuite(relay, .timeout = 120);

Test(relay, options_are_checked)
{
    rt_env e;
    rt_setup(&e, "rl_opts", 4, 1);
    svk_relay *r = NULL;
    svk_error err;
    svk_relay_options o = rt_relay_options(&e, e.pgqueue);
    cr_expect_eq(svk_relay_new(NULL, &o, &err), SVK_EINVAL);
    cr_expect_eq(svk_relay_new(&r, NULL, &err), SVK_EINVAL);
    svk_relay_options bad = o;
    bad.broker = NULL;
    cr_expect_eq(svk_relay_new(&r, &bad, &err), SVK_EINVAL);
    bad = o;
    bad.size = sizeof o + 8;
    cr_expect_eq(svk_relay_new(&r, &bad, &err), SVK_EINVAL);
    bad = o;
    bad.batch_size = 10001;
    cr_expect_eq(svk_relay_new(&r, &bad, &err), SVK_EINVAL);
    bad = o;
    bad.backoff_min_ns = 2 * SEC;
    bad.backoff_max_ns = SEC;
    cr_expect_eq(svk_relay_new(&r, &bad, &err), SVK_EINVAL);
    bad = o;
    bad.lease_ns = 5 * SEC; /* < 1.5 x (2 x 2 s + 2 s) */
    cr_expect_eq(svk_relay_new(&r, &bad, &err), SVK_EINVAL);
    cr_expect(strstr(err.message, "lease_ns") != NULL, "%s", err.message);
    bad = o;
    bad.name = "has space";
    cr_expect_eq(svk_relay_new(&r, &bad, &err), SVK_EINVAL);
    const char *topics[] = {"bad..topic"};
    bad = o;
    bad.ordered_topics = topics;
    bad.ordered_topic_count = 1;
    cr_expect_eq(svk_relay_new(&r, &bad, &err), SVK_EINVAL);
    bad = o;
    bad.poll_interval_ns = -1;
    cr_expect_eq(svk_relay_new(&r, &bad, &err), SVK_EINVAL);
    cr_expect_null(r);
    /* A small, older options struct is accepted: the rest are defaults. */
    svk_relay_options old = {.size = offsetof(svk_relay_options, name), .pool = e.pool,
                             .broker = e.pgqueue};
    cr_assert_eq(svk_relay_new(&r, &old, &err), 0, "%s", err.message);
    cr_expect_eq(svk_relay_ready(r), 0, "not started: not ready");
    cr_expect_eq(svk_relay_stop(r, 0), 0, "stopping a relay never started");
    svk_relay_free(r);
    svk_relay_free(NULL);
    cr_expect_eq(svk_relay_start(NULL), SVK_EINVAL);
    rt_teardown(&e);
}

Test(relay, publishes_every_event_once_and_removes_it)
{
    enum { N = 3000 };
    rt_env e;
    rt_setup(&e, "rl_basic", 6, N);
    e.broker = rt_recorder(&e, NULL);
    rt_put(&e, "orders.placed", 0, N, 0, 1000);
    svk_relay_options o = rt_relay_options(&e, e.broker);
    o.batch_size = 400;
    svk_relay *r = rt_relay(&o);
    cr_assert(rt_wait_empty(&e, 30 * SEC), "outbox not drained: %lld left", rt_depth(&e));
    long missing, dup, total;
    rt_tally(&e, N, &missing, &dup, &total);
    cr_expect_eq(missing, 0);
    cr_expect_eq(dup, 0, "no duplicates without a crash");
    cr_expect_eq(rt_published(&r, 1, N, 5 * SEC), N);
    usleep(200000); /* a round after the last batch: gauges and readiness */
    svk_relay_stats s = rt_stats(r);
    cr_expect_geq(s.batches, N / 400);
    cr_expect_eq(s.duplicates, 0);
    cr_expect_eq(s.errors, 0);
    cr_expect_eq(s.ready, 1);
    cr_expect_eq(s.latency_count, N);
    cr_expect_gt(s.latency_p50_ns, 0);
    cr_expect_leq(s.latency_p50_ns, s.latency_p99_ns);
    cr_expect_leq(s.latency_p99_ns, s.latency_max_ns * 9 / 8 + 1024);
    cr_expect_eq(s.outbox_depth, 0);
    cr_expect_eq(s.oldest_age_ns, 0);
    char sql[256];
    snprintf(sql, sizeof sql, "SELECT count(DISTINCT message_id) FROM svk_queue"
             " WHERE group_name = '%s'", RT_GROUP);
    cr_expect_eq(rt_value(&e, sql), N, "the queue holds each event once");
    cr_expect_eq(svk_relay_stop(r, svk_clock_mono_ns() + 5 * SEC), 0);
    cr_expect_eq(svk_relay_ready(r), 0, "stopped: not ready");
    cr_expect_eq(svk_relay_start(r), SVK_ESTATE, "a relay starts once");
    svk_relay_free(r);
    rt_teardown(&e);
}

Test(relay, rolled_back_events_are_never_published)
{
    enum { N = 200 };
    rt_env e;
    rt_setup(&e, "rl_rollback", 6, N);
    e.broker = rt_recorder(&e, NULL);
    svk_relay_options o = rt_relay_options(&e, e.broker);
    svk_relay *r = rt_relay(&o);
    for (int i = 0; i < N; i++) {
        char payload[16];
        snprintf(payload, sizeof payload, "%d", i);
        svk_tx *tx = NULL;
        cr_assert_eq(svk_tx_begin(e.pool, NULL, SVK_TX_READ_COMMITTED, &tx), 0);
        cr_assert_eq(svk_outbox_put(tx, NULL, "orders.placed", NULL, payload, strlen(payload),
                                    NULL, 0, NULL), 0);
        if (i % 2)
            cr_assert_eq(svk_tx_rollback(tx), 0);
        else
            cr_assert_eq(svk_tx_commit(tx, NULL), 0);
    }
    cr_assert(rt_wait_empty(&e, 20 * SEC));
    usleep(300000); /* more than a poll interval: nothing else comes */
    for (int i = 0; i < N; i++)
        cr_expect_eq(atomic_load(&e.shared->counts[i]), i % 2 ? 0 : 1, "event %d", i);
    svk_relay_free(r);
    rt_teardown(&e);
}

/* Wait until the recorder has accepted `want` events; milliseconds taken, or -1. */
static long wait_accepted(rt_env *e, long want, int64_t timeout_ns)
{
    int64_t t0 = svk_clock_mono_ns();
    while (svk_clock_mono_ns() - t0 < timeout_ns) {
        if (atomic_load(&e->shared->accepted) >= want)
            return (long)((svk_clock_mono_ns() - t0) / MS);
        usleep(2000);
    }
    return -1;
}

Test(relay, notify_wakes_the_relay_and_polling_finds_the_rest)
{
    rt_env e;
    rt_setup(&e, "rl_wake", 6, 10);
    e.broker = rt_recorder(&e, NULL);
    svk_relay_options o = rt_relay_options(&e, e.broker);
    o.poll_interval_ns = 3 * SEC;
    svk_relay *r = rt_relay(&o);
    int64_t until = svk_clock_mono_ns() + 10 * SEC;
    while (!svk_relay_ready(r) && svk_clock_mono_ns() < until)
        usleep(5000);
    cr_assert(svk_relay_ready(r));
    usleep(100000); /* idle now, waiting on LISTEN */
    rt_put(&e, "orders.placed", 0, 1, 0, 1);
    long ms = wait_accepted(&e, 1, 2 * SEC);
    cr_expect(ms >= 0 && ms < 1000, "a NOTIFY wakes the relay at once (took %ld ms)", ms);
    svk_relay_free(r);

    /* Rows inserted without a NOTIFY are found by the poll. */
    o.poll_interval_ns = 200 * MS;
    r = rt_relay(&o);
    usleep(300000);
    char sql[512];
    snprintf(sql, sizeof sql, "INSERT INTO %s.svk_outbox (id, topic, payload)"
             " VALUES (gen_random_uuid(), 'orders.placed', '1')", e.schema);
    pgt_admin_exec(sql);
    ms = wait_accepted(&e, 2, 3 * SEC);
    cr_expect(ms >= 0 && ms < 1000, "the poll finds it within an interval (took %ld ms)", ms);
    svk_relay_free(r);
    rt_teardown(&e);
}

Test(relay, dead_broker_outbox_grows_not_ready_no_tight_loop)
{
    enum { N = 300 };
    rt_env e;
    rt_setup(&e, "rl_dead", 6, N);
    e.broker = rt_recorder(&e, NULL);
    atomic_store(&e.shared->down, 1);
    rt_put(&e, "orders.placed", 0, 100, 0, 100);
    svk_relay_options o = rt_relay_options(&e, e.broker);
    o.backoff_min_ns = 50 * MS;
    o.backoff_max_ns = 400 * MS;
    o.breaker_threshold = 3;
    svk_relay *r = rt_relay(&o);
    usleep(500000);
    svk_relay_stats s0 = rt_stats(r);
    long calls0 = atomic_load(&e.shared->publishes);
    rt_put(&e, "orders.placed", 100, 100, 0, 100);
    sleep(3);
    svk_relay_stats s = rt_stats(r);
    cr_expect_eq(s.ready, 0, "a relay that cannot publish is not ready");
    cr_expect_eq(svk_relay_ready(r), 0);
    cr_expect_eq(rt_depth(&e), 200, "the outbox grows");
    cr_expect_eq(s.published, 0);
    cr_expect_eq(s.breaker_open, 1);
    uint64_t claims = s.claims - s0.claims;
    /* 3 s of backoff capped at 400 ms (200..400 ms with jitter): 7..15 rounds;
     * fewer only on a machine that gave the relay few turns. */
    cr_expect(claims <= 20, "%llu claims in 3 s", (unsigned long long)claims);
    cr_expect_geq(s.publish_errors, claims);
    cr_expect_eq(s.last_error, SVK_EUNAVAIL);
    char detail[256];
    cr_expect_eq(svk_relay_last_error(r, detail, sizeof detail), SVK_EUNAVAIL);
    cr_expect(strstr(detail, "publish") != NULL, "%s", detail);
    long calls = atomic_load(&e.shared->publishes) - calls0;
    cr_expect(calls <= 20, "the broker saw %ld publishes in 3 s", calls);
    /* And it keeps trying: at least 5 rounds, given up to 10 s more. */
    int64_t until = svk_clock_mono_ns() + 10 * SEC;
    while (atomic_load(&e.shared->publishes) - calls0 < 5 && svk_clock_mono_ns() < until)
        usleep(50000);
    cr_expect_geq(atomic_load(&e.shared->publishes) - calls0, 5, "retries while it is down");
    cr_expect_geq(s.outbox_depth, 100);

    atomic_store(&e.shared->down, 0);
    cr_assert(rt_wait_empty(&e, 20 * SEC));
    long missing, dup, total;
    rt_tally(&e, 200, &missing, &dup, &total);
    cr_expect_eq(missing, 0);
    cr_expect_eq(rt_published(&r, 1, 200, 5 * SEC), 200);
    usleep(300000);
    s = rt_stats(r);
    cr_expect_eq(s.ready, 1, "ready again once the broker is back");
    cr_expect_eq(s.breaker_open, 0);
    svk_relay_free(r);
    rt_teardown(&e);
}

Test(relay, stop_finishes_and_frees)
{
    rt_env e;
    rt_setup(&e, "rl_stop", 6, 1);
    e.broker = rt_recorder(&e, NULL);
    svk_relay_options o = rt_relay_options(&e, e.broker);
    o.poll_interval_ns = 10 * SEC;
    svk_relay *r = rt_relay(&o);
    usleep(200000);
    int64_t t0 = svk_clock_mono_ns();
    cr_expect_eq(svk_relay_stop(r, t0 + 5 * SEC), 0);
    cr_expect_lt(svk_clock_mono_ns() - t0, SEC, "an idle relay stops at once");
    cr_expect_eq(svk_relay_stop(r, 0), 0, "stopping twice is fine");
    svk_pg_stats ps = pgt_stats(e.pool);
    cr_expect_eq(ps.open - ps.idle, 0, "its connections are back");
    svk_relay_free(r);
    rt_teardown(&e);
}

/* Every allocation of svk_relay_new failed in turn: SVK_ENOMEM, nothing leaked. */
Test(relay, new_fails_each_allocation_cleanly)
{
    rt_env e;
    rt_setup(&e, "rl_chaos", 4, 1);
    const char *topics[] = {"orders.ordered"};
    svk_relay_options o = rt_relay_options(&e, e.pgqueue);
    o.ordered_topics = topics;
    o.ordered_topic_count = 1;
    long n = 0;
    for (;; n++) {
        svk_relay *r = NULL;
        install_chaos(n);
        int rc = svk_relay_new(&r, &o, NULL);
        svk_relay_free(r);
        long live = chaos.live;
        uninstall_chaos();
        cr_assert_eq(live, 0, "allocation %ld: %ld blocks leaked", n, live);
        if (rc == 0)
            break;
        cr_assert_eq(rc, SVK_ENOMEM, "allocation %ld: %s", n, svk_errname(rc));
        cr_assert_null(r);
    }
    cr_expect_gt(n, 5, "svk_relay_new allocates %ld times", n);
    rt_teardown(&e);
}

Test(relay, refused_batches_are_split_and_a_poison_event_set_aside)
{
    enum { N = 300, POISON = 123, CARRIES = 40 };
    rt_env e;
    rt_setup(&e, "rl_poison", 6, N);
    e.broker = rt_recorder(&e, NULL);
    atomic_store(&e.shared->refuse_over, CARRIES);
    atomic_store(&e.shared->refuse_index, POISON);
    rt_put(&e, "orders.placed", 0, N, 0, 100);
    svk_relay_options o = rt_relay_options(&e, e.broker);
    o.batch_size = 100;
    svk_relay *r = rt_relay(&o);
    cr_assert(rt_wait_empty(&e, 20 * SEC), "%lld left", rt_depth(&e));
    long missing, dup, total;
    rt_tally(&e, N, &missing, &dup, &total);
    cr_expect_eq(missing, 1, "only the poison event is not delivered");
    cr_expect_eq(atomic_load(&e.shared->counts[POISON]), 0);
    cr_expect_eq(dup, 0);
    cr_expect_eq(rt_published(&r, 1, N - 1, 5 * SEC), N - 1);
    svk_relay_stats s = rt_stats(r);
    cr_expect_eq(s.dead_lettered, 1);
    cr_expect_geq(s.batches, (N - 1) / CARRIES, "split to what the broker carries");
    cr_expect_eq(s.ready, 1, "refusals are not an outage");
    cr_expect_eq(s.breaker_open, 0);
    cr_expect_eq(s.duplicates, 0);
    char sql[512];
    snprintf(sql, sizeof sql,
             "SELECT count(*) FROM svk_dead_letters WHERE group_name = '%s'"
             " AND topic = 'orders.placed' AND payload = '%d'::bytea AND attempts = 1"
             " AND reason LIKE '%%ETOOBIG%%too big for the test broker%%'",
             SVK_RELAY_DEAD_LETTER_GROUP, POISON);
    cr_expect_eq(rt_value(&e, sql), 1, "the poison event, whole, with the reason");
    cr_expect_eq(rt_value(&e, "SELECT count(*) FROM svk_dead_letters"), 1);
    svk_outbox_status st = SVK_OUTBOX_STATUS_INIT;
    svk_error err;
    cr_assert_eq(svk_outbox_status_read(e.pool, NULL, &st, &err), 0, "%s", err.message);
    cr_expect_eq(st.dead_letters, 1, "svkctl outbox status shows it");
    cr_expect_eq(st.depth, 0);
    svk_relay_free(r);
    rt_teardown(&e);
}
