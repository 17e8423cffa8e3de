/*
 * threads_test.c — 4 relays on threads of their own, 2 writer threads and
 * a thread reading the relays' figures, all at once, as a plain program
 * (label concurrency) so the ThreadSanitizer build runs it (Criterion
 * aborts under TSan). Every event must be published exactly once.
 * SVK_RELAY_TEST_EVENTS sets the count (default 20000). Exit 0 when all holds.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#include "relay_env.h"

#define RELAYS 4
#define WRITERS 2

static rt_env env;
static long total_events;
static atomic_int done;

static void *writer(void *arg)
{
    long w = (long)(intptr_t)arg, per = total_events / WRITERS;
    rt_put(&env, "orders.placed", w * per, per, 0, 250);
    return NULL;
}

static void *watcher(void *arg)
{
    svk_relay **r = arg;
    while (!atomic_load(&done))
        for (int i = 0; i < RELAYS; i++) {
            svk_relay_stats s = rt_stats(r[i]);
            char text[128];
            svk_relay_last_error(r[i], text, sizeof text);
            (void)s;
            (void)svk_relay_ready(r[i]);
        }
    return NULL;
}

int main(void)
{
    total_events = rt_env_count("SVK_RELAY_TEST_EVENTS", 20000) / WRITERS * WRITERS;
    rt_setup(&env, "rl_threads", 2 * RELAYS + WRITERS + 2, total_events);
    env.broker = rt_recorder(&env, NULL);
    svk_relay_options o = rt_relay_options(&env, env.broker);
    svk_relay *r[RELAYS];
    for (int i = 0; i < RELAYS; i++)
        r[i] = rt_relay(&o);
    pthread_t w[WRITERS], watch;
    pthread_create(&watch, NULL, watcher, r);
    for (long i = 0; i < WRITERS; i++)
        pthread_create(&w[i], NULL, writer, (void *)(intptr_t)i);
    for (int i = 0; i < WRITERS; i++)
        pthread_join(w[i], NULL);
    bool empty = rt_wait_empty(&env, 120 * PGT_SEC);
    uint64_t published = rt_published(r, RELAYS, (uint64_t)total_events, 5 * PGT_SEC);
    for (int i = 0; i < RELAYS; i++) {
        svk_relay_stop(r[i], svk_clock_mono_ns() + 5 * PGT_SEC);
    }
    atomic_store(&done, 1);
    pthread_join(watch, NULL);
    for (int i = 0; i < RELAYS; i++)
        svk_relay_free(r[i]);
    long missing, dup, total;
    rt_tally(&env, total_events, &missing, &dup, &total);
    printf("relay_threads: %d relays, %ld events: missing %ld, duplicated %ld, published %llu\n",
           RELAYS, total_events, missing, dup, (unsigned long long)published);
    rt_teardown(&env);
    return empty && missing == 0 && dup == 0 && published == (uint64_t)total_events ? 0 : 1;
}
