/*
 * pgqueue_bloat.c — does the PostgreSQL queue's table stay small under a
 * steady flow? A measurement program, the source of the figures in
 * docs/broker.md ("Dead tuples and bloat").
 *
 *   svk-testenv -- build/tests/broker/pgqueue_bloat [SECONDS [FILLFACTOR [VACUUM_EVERY [HOLD]]]]
 *
 * One publisher thread keeps a backlog of about BACKLOG messages (256-byte
 * payloads, batches of 100) while two fetcher threads claim batches of up
 * to 64 and ack each message, as the consumer does. Every SAMPLE seconds it
 * prints, from pg_stat_user_tables and the size functions: live and dead
 * tuples, heap and index size, HOT share of the updates, autovacuum runs,
 * and the messages acked per second. FILLFACTOR ("-" or absent: migration
 * 2's) overrides the table's and VACUUM_EVERY the broker's option (-1: no
 * vacuum by the broker), to compare settings on the same machine. HOLD > 0
 * keeps a REPEATABLE READ transaction (with its snapshot) open elsewhere
 * from t=20 s for HOLD seconds: what a long report query does to the xmin
 * horizon, past which no VACUUM can remove anything.
 *
 * It exits 1 if the heap ends up larger than BOUND_MB after the run: an
 * ever-growing table is the failure this exists to catch.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pg_env.h"
#include "svckit/pgqueue.h"

#define TOPIC "orders.created"
#define BACKLOG 2000
#define BATCH 100
#define SAMPLE 10
#define BOUND_MB 64
#define PAYLOAD 256

static svk_broker *broker;
static char schema[64];
static atomic_bool stop;
static atomic_long published, acked;
static atomic_int failures;

static void fail(const char *what, int rc)
{
    if (atomic_fetch_add(&failures, 1) < 5)
        fprintf(stderr, "pgqueue_bloat: %s: %s: %s\n", what, svk_errname(rc),
                svk_broker_last_error(broker));
}

static void *publisher(void *arg)
{
    (void)arg;
    static unsigned char payload[PAYLOAD];
    memset(payload, 'p', sizeof payload);
    svk_message m[BATCH];
    while (!atomic_load(&stop)) {
        if (atomic_load(&published) - atomic_load(&acked) > BACKLOG) {
            usleep(1000);
            continue;
        }
        for (int i = 0; i < BATCH; i++) {
            m[i] = (svk_message)SVK_MESSAGE_INIT;
            svk_uuid_v7(&m[i].id);
            m[i].topic = TOPIC;
            m[i].payload = payload;
            m[i].payload_len = sizeof payload;
        }
        int rc = svk_broker_publish(broker, NULL, m, BATCH);
        if (rc != 0)
            fail("publish", rc);
        else
            atomic_fetch_add(&published, BATCH);
    }
    return NULL;
}

static void *fetcher(void *arg)
{
    svk_subscription *s = arg;
    while (!atomic_load(&stop)) {
        svk_delivery *d[64];
        size_t n = 0;
        int rc = svk_subscription_fetch(s, NULL, 64, 100 * PGT_MS, d, &n);
        if (rc != 0)
            fail("fetch", rc);
        for (size_t i = 0; i < n; i++) {
            rc = svk_delivery_ack(d[i], NULL);
            if (rc != 0)
                fail("ack", rc);
            else
                atomic_fetch_add(&acked, 1);
            svk_delivery_free(d[i]);
        }
    }
    return NULL;
}

static void admin(const char *fmt, const char *arg, char *out, size_t size)
{
    char sql[1024];
    snprintf(sql, sizeof sql, fmt, arg, arg, arg);
    pgt_admin_value(sql, out, size);
}

/* One line of figures; returns the heap size in bytes. */
static long sample(int t, long acked_before)
{
    char v[512];
    admin("SELECT n_live_tup || ' ' || n_dead_tup || ' ' || pg_relation_size(relid) || ' '"
          " || pg_indexes_size(relid) || ' ' || n_tup_upd || ' ' || n_tup_hot_upd || ' '"
          " || autovacuum_count FROM pg_stat_user_tables"
          " WHERE schemaname = '%s' AND relname = 'svk_queue'",
          schema, v, sizeof v);
    long live, dead, heap, index, upd, hot, av;
    if (sscanf(v, "%ld %ld %ld %ld %ld %ld %ld", &live, &dead, &heap, &index, &upd, &hot, &av) !=
        7)
        return -1;
    printf("t=%3ds backlog=%5ld dead=%6ld heap=%6.2fMB index=%6.2fMB hot=%5.1f%% "
           "autovacuum=%ld acked/s=%ld\n",
           t, atomic_load(&published) - atomic_load(&acked), dead, heap / 1048576.0,
           index / 1048576.0, upd ? 100.0 * hot / upd : 0.0, av,
           (atomic_load(&acked) - acked_before) / SAMPLE);
    (void)live; /* the statistics' estimate; the backlog is exact */
    fflush(stdout);
    return heap;
}

static svk_subscription *subscribe(void)
{
    const char *topics[] = {TOPIC};
    svk_subscription *s = NULL;
    int rc = svk_broker_subscribe(broker, NULL, "billing", topics, 1, NULL, &s);
    if (rc != 0) {
        fail("subscribe", rc);
        exit(1);
    }
    return s;
}

static svk_pg_pool *setup(const char *fillfactor, int64_t vacuum_every)
{
    char dsn[1024];
    pgt_fresh_schema("bloat", schema, dsn, sizeof dsn);
    svk_pg_pool *pool = pgt_pool(dsn, 6);
    svk_error err;
    svk_pgqueue_options o = SVK_PGQUEUE_OPTIONS_INIT;
    o.pool = pool;
    o.notify_channel = schema;
    o.vacuum_every = vacuum_every;
    if (svk_pg_migrate(pool, NULL, NULL, &err) != 0 || svk_pgqueue_new(&broker, &o, &err) != 0) {
        fprintf(stderr, "pgqueue_bloat: %s\n", err.message);
        exit(1);
    }
    if (fillfactor != NULL && strcmp(fillfactor, "-") != 0) {
        char sql[256];
        snprintf(sql, sizeof sql, "ALTER TABLE %s.svk_queue SET (fillfactor = %d)", schema,
                 atoi(fillfactor));
        pgt_admin_exec(sql);
    }
    char v[128];
    admin("SELECT array_to_string(reloptions, ' ') FROM pg_class"
          " WHERE oid = '%s.svk_queue'::regclass", schema, v, sizeof v);
    printf("pgqueue_bloat: %s; vacuum_every %lld\n", v, (long long)vacuum_every);
    return pool;
}

/* At t = 20 s, open a snapshot-holding transaction for hold seconds. */
static void hold_snapshot(int t, int hold, PGconn **c)
{
    if (hold <= 0)
        return;
    if (t == 20) {
        *c = pgt_admin();
        PQclear(PQexec(*c, "BEGIN ISOLATION LEVEL REPEATABLE READ"));
        PQclear(PQexec(*c, "SELECT 1"));
        printf("pgqueue_bloat: a transaction holds its snapshot from now for %d s\n", hold);
    } else if (t == 20 + hold && *c != NULL) {
        PQfinish(*c);
        *c = NULL;
        printf("pgqueue_bloat: the transaction ended\n");
    }
}

int main(int argc, char **argv)
{
    int seconds = argc > 1 ? atoi(argv[1]) : 60;
    int hold = argc > 4 ? atoi(argv[4]) : 0;
    PGconn *holder = NULL;
    svk_pg_pool *pool = setup(argc > 2 ? argv[2] : NULL, argc > 3 ? atoll(argv[3]) : 0);
    svk_subscription *subs[2] = {subscribe(), subscribe()};
    pthread_t pub, fetch[2];
    pthread_create(&pub, NULL, publisher, NULL);
    for (int i = 0; i < 2; i++)
        pthread_create(&fetch[i], NULL, fetcher, subs[i]);
    long heap = 0;
    for (int t = SAMPLE; t <= seconds; t += SAMPLE) {
        hold_snapshot(t - SAMPLE, hold, &holder);
        long before = atomic_load(&acked);
        sleep(SAMPLE);
        heap = sample(t, before);
    }
    if (holder != NULL)
        PQfinish(holder);
    atomic_store(&stop, true);
    pthread_join(pub, NULL);
    for (int i = 0; i < 2; i++) {
        pthread_join(fetch[i], NULL);
        svk_subscription_free(subs[i]);
    }
    printf("pgqueue_bloat: %ld published, %ld acked in %d s, %d failures\n",
           atomic_load(&published), atomic_load(&acked), seconds, atomic_load(&failures));
    svk_broker_free(broker);
    svk_pg_pool_free(pool);
    return atomic_load(&failures) == 0 && heap >= 0 && heap < BOUND_MB * 1048576L ? 0 : 1;
}
