/*
 * multi_test.c — several relays over one outbox: 2 and then 4 relays
 * (threads, each its own relay object and connections) relay 100k events
 * (SVK_RELAY_TEST_EVENTS scales it) written while they run. Every event
 * must reach the broker, none twice (no crash, so no duplicate is allowed),
 * and the relays' own counts must add up.
 */
#include <criterion/criterion.h>
#include <pthread.h>
#include <stdio.h>

#include "relay_env.h"

TestSuite(relay_multi, .timeout = 240);

typedef struct writer {
    rt_env *e;
    long n;
} writer;

static void *write_all(void *arg)
{
    writer *w = arg;
    rt_put(w->e, "orders.placed", 0, w->n, 0, 1000);
    return NULL;
}

static void run(int relays, const char *tag)
{
    long n = rt_env_count("SVK_RELAY_TEST_EVENTS", 100000);
    rt_env e;
    rt_setup(&e, tag, 2 * relays + 4, n);
    e.broker = rt_recorder(&e, NULL);
    svk_relay *r[8];
    svk_relay_options o = rt_relay_options(&e, e.broker);
    for (int i = 0; i < relays; i++)
        r[i] = rt_relay(&o);
    writer w = {&e, n};
    pthread_t t;
    int64_t t0 = svk_clock_mono_ns();
    pthread_create(&t, NULL, write_all, &w);
    pthread_join(t, NULL);
    cr_assert(rt_wait_empty(&e, 120 * PGT_SEC), "%lld events left", rt_depth(&e));
    double secs = (double)(svk_clock_mono_ns() - t0) / 1e9;
    long missing, dup, total;
    rt_tally(&e, n, &missing, &dup, &total);
    uint64_t published = rt_published(r, relays, (uint64_t)n, 5 * PGT_SEC);
    uint64_t duplicates = 0, errors = 0;
    for (int i = 0; i < relays; i++) {
        svk_relay_stats s = rt_stats(r[i]);
        duplicates += s.duplicates;
        errors += s.errors;
        cr_expect_gt(s.published, 0, "relay %d took part", i);
        svk_relay_free(r[i]);
    }
    printf("relay_multi: %d relays, %ld events written and relayed in %.2f s\n", relays, n,
           secs);
    cr_expect_eq(missing, 0, "%ld events never published", missing);
    cr_expect_eq(dup, 0, "%ld events published twice without a crash", dup);
    cr_expect_eq(total, n);
    cr_expect_eq(published, (uint64_t)n, "the relays' counts add up");
    cr_expect_eq(duplicates, 0);
    cr_expect_eq(errors, 0);
    rt_teardown(&e);
}

Test(relay_multi, two_relays)
{
    run(2, "rl_two");
}

Test(relay_multi, four_relays)
{
    run(4, "rl_four");
}
