/*
 * pool_threads_test.c — 8 threads share a pool of 4: each acquires, runs a
 * query (every third time inside a transaction), releases, many times.
 * Checks that no call fails, the pool never opens more than 4 connections
 * nor replaces one, and every committed row is there. A plain program (no
 * Criterion) so it runs under ThreadSanitizer; run it under svk-testenv.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#include "pg_env.h"
#include "support/check.h"

#define THREADS 8
#define POOL_SIZE 4
#define ROUNDS 1000

static svk_pg_pool *pool;

static void query_round(int thread, int round)
{
    svk_ctx *ctx = pgt_ctx(30 * PGT_SEC);
    svk_pg_conn *c = NULL;
    int rc = svk_pg_acquire(pool, ctx, &c);
    CHECK(rc == 0, "acquire: %s", svk_errname(rc));
    char a[16];
    snprintf(a, sizeof a, "%d", thread * 100000 + round);
    const char *values[] = {a};
    svk_pg_result *res = NULL;
    rc = svk_pg_exec(c, ctx, "SELECT $1::int + 0", 1, values, NULL, NULL, &res);
    CHECK(rc == 0, "exec: %s", svk_pg_conn_last_error(c));
    CHECK(atoi(svk_pg_result_value(res, 0, 0)) == thread * 100000 + round, "wrong value");
    svk_pg_result_free(res);
    svk_pg_release(c);
    svk_ctx_free(ctx);
}

static void tx_round(int thread, int round)
{
    svk_tx *tx = NULL;
    int rc = svk_tx_begin(pool, NULL, SVK_TX_READ_COMMITTED, &tx);
    CHECK(rc == 0, "begin: %s", svk_errname(rc));
    char t[16], r[16];
    snprintf(t, sizeof t, "%d", thread);
    snprintf(r, sizeof r, "%d", round);
    const char *values[] = {t, r};
    rc = svk_tx_exec(tx, NULL, "INSERT INTO hits (thread, round) VALUES ($1, $2)", 2, values,
                     NULL, NULL, NULL);
    CHECK(rc == 0, "insert: %s", svk_pg_conn_last_error(svk_tx_conn(tx)));
    rc = svk_tx_commit(tx, NULL);
    CHECK(rc == 0, "commit: %s", svk_errname(rc));
}

static void *worker(void *arg)
{
    int thread = (int)(intptr_t)arg;
    for (int round = 0; round < ROUNDS; round++) {
        if (round % 3 == 0)
            tx_round(thread, round);
        else
            query_round(thread, round);
    }
    return NULL;
}

static void prepare(void)
{
    char schema[64], dsn[1024];
    pgt_fresh_schema("threads", schema, dsn, sizeof dsn);
    pool = pgt_pool(dsn, POOL_SIZE);
    svk_pg_conn *c = NULL;
    CHECK(svk_pg_acquire(pool, NULL, &c) == 0, "acquire");
    CHECK(svk_pg_exec(c, NULL, "CREATE TABLE hits (thread int, round int)", 0, NULL, NULL,
                      NULL, NULL) == 0,
          "create: %s", svk_pg_conn_last_error(c));
    svk_pg_release(c);
}

static void verify(void)
{
    svk_pg_stats s = SVK_PG_STATS_INIT;
    CHECK(svk_pg_pool_stats(pool, &s) == 0, "stats");
    CHECK(s.open <= POOL_SIZE && s.connects <= POOL_SIZE, "open %d, connects %llu", s.open,
          (unsigned long long)s.connects);
    CHECK(s.discarded == 0 && s.acquire_timeouts == 0, "discarded %llu, timeouts %llu",
          (unsigned long long)s.discarded, (unsigned long long)s.acquire_timeouts);
    CHECK(s.idle == s.open, "all connections back: idle %d of %d", s.idle, s.open);
    svk_pg_conn *c = NULL;
    CHECK(svk_pg_acquire(pool, NULL, &c) == 0, "acquire");
    svk_pg_result *res = NULL;
    CHECK(svk_pg_exec(c, NULL, "SELECT count(*) FROM hits", 0, NULL, NULL, NULL, &res) == 0,
          "count");
    int want = THREADS * ((ROUNDS + 2) / 3);
    CHECK(atoi(svk_pg_result_value(res, 0, 0)) == want, "rows %s, want %d",
          svk_pg_result_value(res, 0, 0), want);
    svk_pg_result_free(res);
    svk_pg_release(c);
}

int main(void)
{
    prepare();
    pthread_t t[THREADS];
    for (int i = 0; i < THREADS; i++)
        pthread_create(&t[i], NULL, worker, (void *)(intptr_t)i);
    for (int i = 0; i < THREADS; i++)
        pthread_join(t[i], NULL);
    verify();
    svk_pg_pool_free(pool);
    printf("pool_threads: %d threads x %d rounds on a pool of %d: ok\n", THREADS, ROUNDS,
           POOL_SIZE);
    return 0;
}
