/*
 * pgqueue_threads_test.c — N publisher threads and M fetcher threads on
 * one PostgreSQL queue broker, as a plain program (label concurrency) so
 * the ThreadSanitizer build runs it too (Criterion aborts under TSan).
 *
 * Publishers share the broker (it is safe from any thread); each fetcher
 * owns one subscription. Two groups: "work" with M - 1 competing fetchers
 * and "audit" with one, so fan-out and competition run at once. Every id
 * must reach each group exactly once (the ack wait is long, so nothing is
 * redelivered) and every delivery must be acked. Exit 0 when all holds.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pg_env.h"
#include "svckit/pgqueue.h"

#define PUBLISHERS 3
#define FETCHERS 4 /* 3 in "work", 1 in "audit" */
#define PER_PUBLISHER 1500
#define BATCH 50
#define TOTAL (PUBLISHERS * PER_PUBLISHER)
#define TOPIC "orders.created"

static svk_broker *broker;
static atomic_int seen[2][TOTAL]; /* per group: deliveries of each message */
static atomic_long acked[2];
static atomic_int failures;

static void fail(const char *what, int rc)
{
    fprintf(stderr, "pgqueue_threads: %s: %s: %s\n", what, svk_errname(rc),
            svk_broker_last_error(broker));
    atomic_fetch_add(&failures, 1);
}

static void *publisher(void *arg)
{
    uint32_t base = (uint32_t)(uintptr_t)arg * PER_PUBLISHER;
    static _Thread_local uint32_t idx[BATCH];
    svk_message m[BATCH];
    for (uint32_t start = 0; start < PER_PUBLISHER; start += BATCH) {
        for (uint32_t i = 0; i < BATCH; i++) {
            idx[i] = base + start + i;
            m[i] = (svk_message)SVK_MESSAGE_INIT;
            svk_uuid_v7(&m[i].id);
            m[i].topic = TOPIC;
            m[i].payload = &idx[i];
            m[i].payload_len = sizeof idx[i];
        }
        int rc = svk_broker_publish(broker, NULL, m, BATCH);
        if (rc != 0)
            fail("publish", rc);
    }
    return NULL;
}

typedef struct fetcher {
    svk_subscription *s;
    int group; /* 0 work, 1 audit */
} fetcher;

static void handle(const fetcher *f, svk_delivery *d)
{
    const svk_message *m = svk_delivery_message(d);
    uint32_t idx;
    memcpy(&idx, m->payload, sizeof idx);
    if (idx >= TOTAL || atomic_fetch_add(&seen[f->group][idx], 1) != 0 || m->attempt != 1)
        fail("a message came twice or out of range", SVK_ESTATE);
    int rc = svk_delivery_ack(d, NULL);
    if (rc != 0)
        fail("ack", rc);
    else
        atomic_fetch_add(&acked[f->group], 1);
    svk_delivery_free(d);
}

static void *fetch_loop(void *arg)
{
    fetcher *f = arg;
    int64_t until = svk_clock_mono_ns() + 200 * PGT_SEC;
    while (atomic_load(&acked[f->group]) < TOTAL && svk_clock_mono_ns() < until &&
           atomic_load(&failures) == 0) {
        svk_delivery *d[32];
        size_t n = 0;
        int rc = svk_subscription_fetch(f->s, NULL, 32, 100 * PGT_MS, d, &n);
        if (rc != 0)
            fail("fetch", rc);
        for (size_t i = 0; i < n; i++)
            handle(f, d[i]);
    }
    return NULL;
}

static svk_subscription *subscribe(const char *group)
{
    const char *topics[] = {TOPIC};
    svk_subscription *s = NULL;
    int rc = svk_broker_subscribe(broker, NULL, group, topics, 1, NULL, &s);
    if (rc != 0) {
        fail("subscribe", rc);
        exit(1);
    }
    return s;
}

static int check(void)
{
    int bad = atomic_load(&failures);
    for (int g = 0; g < 2; g++)
        for (int i = 0; i < TOTAL; i++)
            bad += atomic_load(&seen[g][i]) != 1;
    printf("pgqueue_threads: %d publishers x %d, %d fetchers; acked work=%ld audit=%ld of %d;"
           " %d problems\n", PUBLISHERS, PER_PUBLISHER, FETCHERS, atomic_load(&acked[0]),
           atomic_load(&acked[1]), TOTAL, bad);
    return bad == 0 ? 0 : 1;
}

int main(void)
{
    char schema[64], dsn[1024];
    pgt_fresh_schema("thr", schema, dsn, sizeof dsn);
    svk_pg_pool *pool = pgt_pool(dsn, PUBLISHERS + FETCHERS + 1);
    svk_error err;
    if (svk_pg_migrate(pool, NULL, NULL, &err) != 0) {
        fprintf(stderr, "migrate: %s\n", err.message);
        return 1;
    }
    svk_pgqueue_options o = SVK_PGQUEUE_OPTIONS_INIT;
    o.pool = pool;
    o.notify_channel = schema;
    if (svk_pgqueue_new(&broker, &o, &err) != 0) {
        fprintf(stderr, "pgqueue_new: %s\n", err.message);
        return 1;
    }
    fetcher f[FETCHERS];
    for (int i = 0; i < FETCHERS; i++)
        f[i] = (fetcher){subscribe(i < FETCHERS - 1 ? "work" : "audit"), i == FETCHERS - 1};
    pthread_t ft[FETCHERS], pt[PUBLISHERS];
    for (int i = 0; i < FETCHERS; i++)
        pthread_create(&ft[i], NULL, fetch_loop, &f[i]);
    for (uintptr_t i = 0; i < PUBLISHERS; i++)
        pthread_create(&pt[i], NULL, publisher, (void *)i);
    for (int i = 0; i < PUBLISHERS; i++)
        pthread_join(pt[i], NULL);
    for (int i = 0; i < FETCHERS; i++)
        pthread_join(ft[i], NULL);
    int rc = check();
    for (int i = 0; i < FETCHERS; i++)
        svk_subscription_free(f[i].s);
    svk_broker_free(broker);
    svk_pg_pool_free(pool);
    return rc;
}
