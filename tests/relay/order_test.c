/*
 * order_test.c — per-key order of ordered topics under partition leases.
 *
 *  - 4 relays (started one after another, so partitions move between them
 *    while events flow) relay 40 keys x 250 events of an ordered topic:
 *    each key's events reach the broker in order, and the 8 partitions end
 *    up 2 per relay.
 *  - A key whose publishes fail holds back its own partition only: keys of
 *    the other partitions, and unordered events, keep flowing; once the
 *    broker accepts it again its events go out, in order.
 *  - A relay process killed with SIGKILL in the middle of an ordered batch
 *    keeps its partitions until its leases expire; then another relay
 *    takes them over (new fencing tokens) and relays them in order.
 */
#include <criterion/criterion.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "relay_env.h"

#define TOPIC "orders.ordered"
#define P 8
#define MS PGT_MS
#define SEC PGT_SEC

TestSuite(relay_order, .timeout = 180);

static const char *const ordered_topics[] = {TOPIC};

static svk_relay_options ordered_options(rt_env *e, svk_broker *b)
{
    svk_relay_options o = rt_relay_options(e, b);
    o.ordered_topics = ordered_topics;
    o.ordered_topic_count = 1;
    o.partitions = P;
    o.claim_timeout_ns = 400 * MS;
    o.publish_timeout_ns = 400 * MS;
    o.lease_ns = 2 * SEC;
    o.batch_size = 100;
    return o;
}

/* Ordered before anything is written: a relay's start would race the writer. */
static void declare_ordered(rt_env *e)
{
    svk_error err;
    cr_assert_eq(svk_outbox_order_topics(e->pool, NULL, ordered_topics, 1, &err), 0, "%s",
                 err.message);
}

static bool wait_complete(rt_order *o, int keys, int64_t timeout_ns)
{
    int64_t until = svk_clock_mono_ns() + timeout_ns;
    while (rt_order_complete(o) < keys && svk_clock_mono_ns() < until)
        usleep(10000);
    return rt_order_complete(o) == keys;
}

/* What svk_relay_leases reports, gathered. */
typedef struct lease_view {
    int rows, held;
    char holder[P][200];
    int64_t token[P];
} lease_view;

static int gather(const svk_relay_lease *l, void *user)
{
    lease_view *v = user;
    if (l->partition < P) {
        snprintf(v->holder[l->partition], sizeof v->holder[0], "%s", l->holder ? l->holder : "");
        v->token[l->partition] = l->token;
        v->held += l->holder != NULL && l->expires_in_ns > 0;
    }
    v->rows++;
    return 0;
}

static lease_view leases(rt_env *e)
{
    lease_view v;
    memset(&v, 0, sizeof v);
    svk_error err;
    cr_assert_eq(svk_relay_leases(e->pool, NULL, gather, &v, &err), 0, "%s", err.message);
    return v;
}

static int distinct_holders(const lease_view *v)
{
    int n = 0;
    for (int p = 0; p < P; p++) {
        bool seen = false;
        for (int q = 0; q < p && !seen; q++)
            seen = strcmp(v->holder[p], v->holder[q]) == 0;
        n += !seen && v->holder[p][0] != '\0';
    }
    return n;
}

Test(relay_order, per_key_order_with_four_relays)
{
    enum { KEYS = 40, PER_KEY = 250, RELAYS = 4 };
    rt_env e;
    rt_setup(&e, "rl_order", 2 * RELAYS + 4, 1);
    rt_order order;
    rt_order_init(&order, KEYS, PER_KEY);
    e.broker = rt_recorder(&e, &order);
    declare_ordered(&e);
    svk_relay_options o = ordered_options(&e, e.broker);
    svk_relay *r[RELAYS];
    r[0] = rt_relay(&o);
    for (int i = 0; i < PER_KEY; i += 25) {
        rt_put(&e, TOPIC, (long)i * KEYS, 25L * KEYS, KEYS, 200);
        if (i / 25 < RELAYS - 1)
            r[i / 25 + 1] = rt_relay(&o); /* join while events flow */
    }
    char why[512] = "";
    bool complete = wait_complete(&order, KEYS, 60 * SEC);
    svk_relay_last_error(r[0], why, sizeof why);
    cr_assert(complete, "%d of %d keys complete; relay 0: %s", rt_order_complete(&order), KEYS,
              why);
    cr_expect_eq(atomic_load(&order.violations), 0, "an event overtook an earlier one");
    cr_assert(rt_wait_empty(&e, 10 * SEC));
    /* Balance: within a few lease rounds every relay holds 2 of the 8. */
    int64_t until = svk_clock_mono_ns() + 10 * SEC;
    lease_view v = leases(&e);
    while ((v.held != P || distinct_holders(&v) != RELAYS) && svk_clock_mono_ns() < until) {
        usleep(50000);
        v = leases(&e);
    }
    cr_expect_eq(v.rows, P);
    cr_expect_eq(v.held, P);
    cr_expect_eq(distinct_holders(&v), RELAYS);
    for (int i = 0; i < RELAYS; i++) {
        svk_relay_stats s = rt_stats(r[i]);
        cr_expect_eq(s.leases_held, P / RELAYS, "relay %d holds %d", i, s.leases_held);
    }
    cr_expect_eq(rt_published(r, RELAYS, (uint64_t)KEYS * PER_KEY, 5 * SEC),
                 (uint64_t)KEYS * PER_KEY);
    for (int i = 0; i < RELAYS; i++)
        svk_relay_stop(r[i], svk_clock_mono_ns() + 5 * SEC);
    v = leases(&e);
    cr_expect_eq(v.held, 0, "stopped relays hand their leases back");
    cr_expect_eq(rt_value(&e, "SELECT count(*) FROM svk_outbox_relays"), 0);
    for (int i = 0; i < RELAYS; i++)
        svk_relay_free(r[i]);
    rt_order_free(&order);
    rt_teardown(&e);
}

static int partition_of(rt_env *e, int key)
{
    char sql[128];
    snprintf(sql, sizeof sql, "SELECT svk_outbox_partition('k%d', %d)", key, P);
    return (int)rt_value(e, sql);
}

Test(relay_order, a_failing_key_holds_only_its_partition)
{
    enum { KEYS = 16, PER_KEY = 20, STUCK = 3 };
    rt_env e;
    rt_setup(&e, "rl_stuck", 6, 100);
    rt_order order;
    rt_order_init(&order, KEYS, PER_KEY);
    e.broker = rt_recorder(&e, &order);
    atomic_store(&e.shared->fail_key, STUCK);
    declare_ordered(&e);
    svk_relay_options o = ordered_options(&e, e.broker);
    o.backoff_max_ns = 300 * MS;
    svk_relay *r = rt_relay(&o);
    rt_put(&e, TOPIC, 0, (long)KEYS * PER_KEY, KEYS, 100);
    rt_put(&e, "orders.placed", 0, 100, 0, 100);
    int stuck_partition = partition_of(&e, STUCK), held_back = 0;
    for (int k = 0; k < KEYS; k++)
        held_back += partition_of(&e, k) == stuck_partition;
    int64_t until = svk_clock_mono_ns() + 30 * SEC;
    while (rt_order_complete(&order) < KEYS - held_back && svk_clock_mono_ns() < until)
        usleep(10000);
    cr_expect_eq(rt_order_complete(&order), KEYS - held_back, "the other partitions flow");
    for (int k = 0; k < KEYS; k++)
        if (partition_of(&e, k) != stuck_partition)
            cr_expect_eq(order.next[k], PER_KEY, "key %d", k);
    usleep(500000);
    cr_expect_eq(rt_depth(&e), (long long)held_back * PER_KEY, "only its partition waits");
    long missing, dup, total;
    rt_tally(&e, 100, &missing, &dup, &total);
    cr_expect_eq(missing, 0, "unordered events are not held back");
    svk_relay_stats s = rt_stats(r);
    cr_expect_eq(s.partitions_blocked, 1);
    cr_expect_eq(s.leases_held, P);
    cr_expect_eq(s.ready, 1, "one blocked partition of eight: the relay still publishes");
    cr_expect_gt(s.publish_errors, 0);

    atomic_store(&e.shared->fail_key, -1);
    cr_assert(wait_complete(&order, KEYS, 30 * SEC));
    cr_expect_eq(atomic_load(&order.violations), 0);
    cr_assert(rt_wait_empty(&e, 10 * SEC));
    svk_relay_free(r);
    rt_order_free(&order);
    rt_teardown(&e);
}

Test(relay_order, a_killed_holder_is_fenced_out_then_taken_over_in_order)
{
    enum { KEYS = 24, PER_KEY = 30 };
    rt_env e;
    rt_setup(&e, "rl_takeover", 6, 1);
    declare_ordered(&e);
    rt_put(&e, TOPIC, 0, (long)KEYS * PER_KEY, KEYS, 240);
    atomic_store(&e.shared->block_after, 1);
    pid_t pid = rt_fork_relay(&e, ordered_options); /* it takes every partition */
    lease_view before = leases(&e);
    cr_expect_eq(before.held, P, "the child holds every partition");
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    int64_t killed_at = svk_clock_mono_ns();
    atomic_store(&e.shared->block_after, 0);
    rt_order order;
    rt_order_init(&order, KEYS, PER_KEY);
    e.broker = rt_recorder(&e, &order);
    svk_relay_options o = ordered_options(&e, e.broker);
    svk_relay *r = rt_relay(&o);
    usleep(500000);
    if (svk_clock_mono_ns() - killed_at < o.lease_ns)
        cr_expect_eq(rt_order_complete(&order) + order.seen[0], 0,
                     "nothing is relayed while the dead holder's leases last");
    cr_assert(wait_complete(&order, KEYS, 30 * SEC), "%d of %d keys",
              rt_order_complete(&order), KEYS);
    cr_expect_eq(atomic_load(&order.violations), 0);
    cr_expect_geq((svk_clock_mono_ns() - killed_at) / MS, 1500, "not before the leases ran out");
    lease_view after = leases(&e);
    for (int p = 0; p < P; p++)
        cr_expect_gt(after.token[p], before.token[p], "partition %d: a new fencing token", p);
    cr_expect_eq(rt_published(&r, 1, (uint64_t)KEYS * PER_KEY, 5 * SEC),
                 (uint64_t)KEYS * PER_KEY);
    svk_relay_stats s = rt_stats(r);
    cr_expect_eq(s.lease_takeovers, P);
    svk_relay_free(r);
    rt_order_free(&order);
    rt_teardown(&e);
}
