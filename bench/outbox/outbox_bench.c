/*
 * outbox_bench.c — the figures of issue 6's outbox benchmark, one mode per
 * run (bench/outbox/run.sh runs them in order and prints the bench: lines):
 *
 *   autocommit C S   single-row INSERTs, autocommit, C clients for S seconds
 *                    through svk_pg_exec (the plain libpq loop; pgbench is
 *                    the peer)                                  -> tx/s
 *   writer MODE C S  per transaction: BEGIN, a domain INSERT, [MODE outbox:
 *                    svk_outbox_put], COMMIT, C clients          -> tx/s
 *   fill N           N events into svk_outbox (put_batch of 1000), then
 *                    VACUUM ANALYZE and CHECKPOINT                -> rows
 *   burndown R B     R relays (batch B) into the PostgreSQL queue until the
 *                    outbox is empty                              -> rows/s
 *   steady T S [R]   T transactions/s (1 event each, 4 paced writers) for S
 *                    seconds with R relays running (1) -> latency p50/p99
 *
 * Payloads are 256 bytes. The database is SVK_TEST_PG_DSN (run.sh starts
 * it). Each mode prints one "result key=value ..." line.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "broker/broker_impl.h"
#include "svckit/outbox.h"
#include "svckit/pgqueue.h"
#include "svckit/relay.h"

#define SEC INT64_C(1000000000)
#define MS INT64_C(1000000)
#define PAYLOAD 256
#define TOPIC "bench.events"
#define MAX_CLIENTS 64

static char payload[PAYLOAD + 1];
static const char *dsn;
static svk_pg_pool *pool;
static atomic_int stop_flag;
static atomic_long done_tx;

static void die(const char *what, int rc)
{
    fprintf(stderr, "bench-outbox: %s: %s\n", what, svk_errname(rc));
    exit(1);
}

static svk_pg_pool *open_pool(int conns)
{
    svk_pg_options o = SVK_PG_OPTIONS_INIT;
    o.conninfo = dsn;
    o.max_conns = conns;
    svk_pg_pool *p = NULL;
    svk_error err;
    if (svk_pg_pool_new(&p, &o, &err) != 0) {
        fprintf(stderr, "bench-outbox: pool: %s\n", err.message);
        exit(1);
    }
    return p;
}

static void exec_sql(const char *sql)
{
    svk_pg_conn *c = NULL;
    int rc = svk_pg_acquire(pool, NULL, &c);
    if (rc == 0 && (rc = svk_pg_exec(c, NULL, sql, 0, NULL, NULL, NULL, NULL)) != 0)
        fprintf(stderr, "bench-outbox: %s: %s\n", sql, svk_pg_conn_last_error(c));
    svk_pg_release(c);
    if (rc != 0)
        die("exec", rc);
}

static long long query_ll(const char *sql)
{
    svk_pg_conn *c = NULL;
    svk_pg_result *r = NULL;
    int rc = svk_pg_acquire(pool, NULL, &c);
    if (rc == 0)
        rc = svk_pg_exec(c, NULL, sql, 0, NULL, NULL, NULL, &r);
    long long v = rc == 0 ? atoll(svk_pg_result_value(r, 0, 0)) : -1;
    svk_pg_result_free(r);
    svk_pg_release(c);
    if (rc != 0)
        die(sql, rc);
    return v;
}

/* The tables every mode needs: migrated, the domain table, the queue group. */
static void prepare(void)
{
    svk_error err;
    if (svk_pg_migrate(pool, NULL, NULL, &err) != 0) {
        fprintf(stderr, "bench-outbox: migrate: %s\n", err.message);
        exit(1);
    }
    exec_sql("CREATE TABLE IF NOT EXISTS bench_domain (id bigserial PRIMARY KEY, payload text)");
    exec_sql("INSERT INTO svk_queue_subscriptions VALUES ('bench', '" TOPIC "')"
             " ON CONFLICT DO NOTHING");
}

/* ------------------------------------------------------------ clients */

typedef int (*tx_fn)(void);

static int autocommit_insert(void)
{
    svk_pg_conn *c = NULL;
    int rc = svk_pg_acquire(pool, NULL, &c);
    const char *values[] = {payload};
    if (rc == 0)
        rc = svk_pg_exec(c, NULL, "INSERT INTO bench_domain (payload) VALUES ($1)", 1, values,
                         NULL, NULL, NULL);
    svk_pg_release(c);
    return rc;
}

static int domain_tx(bool with_outbox)
{
    svk_tx *tx = NULL;
    int rc = svk_tx_begin(pool, NULL, SVK_TX_READ_COMMITTED, &tx);
    if (rc != 0)
        return rc;
    const char *values[] = {payload};
    rc = svk_tx_exec(tx, NULL, "INSERT INTO bench_domain (payload) VALUES ($1)", 1, values,
                     NULL, NULL, NULL);
    if (rc == 0 && with_outbox)
        rc = svk_outbox_put(tx, NULL, TOPIC, NULL, payload, PAYLOAD, NULL, 0, NULL);
    if (rc != 0) {
        svk_tx_rollback(tx);
        return rc;
    }
    return svk_tx_commit(tx, NULL);
}

static int domain_only(void)
{
    return domain_tx(false);
}

static int domain_and_outbox(void)
{
    return domain_tx(true);
}

typedef struct client {
    tx_fn fn;
    double rate; /* tx/s; 0: as fast as possible */
} client;

static void pace(double rate, long i, int64_t t0)
{
    if (rate <= 0)
        return;
    int64_t due = t0 + (int64_t)((double)i * 1e9 / rate);
    int64_t now = svk_clock_mono_ns();
    if (due > now) {
        struct timespec ts = {(time_t)((due - now) / SEC), (long)((due - now) % SEC)};
        nanosleep(&ts, NULL);
    }
}

static void *client_loop(void *arg)
{
    const client *c = arg;
    int64_t t0 = svk_clock_mono_ns();
    for (long i = 0; !atomic_load(&stop_flag); i++) {
        pace(c->rate, i, t0);
        int rc = c->fn();
        if (rc != 0)
            die("transaction", rc);
        atomic_fetch_add(&done_tx, 1);
    }
    return NULL;
}

/* Run n clients for seconds; transactions per second. */
static double run_clients(const client *c, int n, double seconds)
{
    pthread_t t[MAX_CLIENTS];
    atomic_store(&stop_flag, 0);
    atomic_store(&done_tx, 0);
    int64_t t0 = svk_clock_mono_ns();
    for (int i = 0; i < n; i++)
        pthread_create(&t[i], NULL, client_loop, (void *)c);
    usleep((useconds_t)(seconds * 1e6));
    atomic_store(&stop_flag, 1);
    for (int i = 0; i < n; i++)
        pthread_join(t[i], NULL);
    return (double)atomic_load(&done_tx) / ((double)(svk_clock_mono_ns() - t0) / 1e9);
}

/* -------------------------------------------------------------- modes */

static int mode_clients(tx_fn fn, int clients, double seconds, const char *name)
{
    pool = open_pool(clients + 1);
    prepare();
    client c = {fn, 0};
    double tps = run_clients(&c, clients, seconds);
    printf("result mode=%s clients=%d tps=%.0f\n", name, clients, tps);
    return 0;
}

static void fill_batch(svk_outbox_event *ev, int n)
{
    svk_tx *tx = NULL;
    int rc = svk_tx_begin(pool, NULL, SVK_TX_READ_COMMITTED, &tx);
    if (rc == 0 && (rc = svk_outbox_put_batch(tx, NULL, ev, (size_t)n)) == 0)
        rc = svk_tx_commit(tx, NULL);
    else
        svk_tx_rollback(tx);
    if (rc != 0)
        die("fill", rc);
}

static int mode_fill(long rows)
{
    pool = open_pool(2);
    prepare();
    static svk_outbox_event ev[1000];
    for (int i = 0; i < 1000; i++) {
        ev[i] = (svk_outbox_event)SVK_OUTBOX_EVENT_INIT;
        ev[i].topic = TOPIC;
        ev[i].payload = payload;
        ev[i].payload_len = PAYLOAD;
    }
    int64_t t0 = svk_clock_mono_ns();
    for (long done = 0; done < rows; done += 1000)
        fill_batch(ev, rows - done < 1000 ? (int)(rows - done) : 1000);
    double secs = (double)(svk_clock_mono_ns() - t0) / 1e9;
    exec_sql("VACUUM ANALYZE svk_outbox");
    exec_sql("CHECKPOINT");
    printf("result mode=fill rows=%lld seconds=%.1f\n", query_ll("SELECT count(*) FROM svk_outbox"),
           secs);
    return 0;
}

static svk_broker *open_pgqueue(svk_pg_pool *p)
{
    svk_pgqueue_options o = SVK_PGQUEUE_OPTIONS_INIT;
    o.pool = p;
    svk_broker *b = NULL;
    svk_error err;
    if (svk_pgqueue_new(&b, &o, &err) != 0) {
        fprintf(stderr, "bench-outbox: pgqueue: %s\n", err.message);
        exit(1);
    }
    return b;
}

static svk_relay *start_relay(svk_pg_pool *p, svk_broker *b, int batch)
{
    svk_relay_options o = SVK_RELAY_OPTIONS_INIT;
    o.pool = p;
    o.broker = b;
    o.batch_size = batch;
    svk_relay *r = NULL;
    svk_error err;
    if (svk_relay_new(&r, &o, &err) != 0 || svk_relay_start(r) != 0) {
        fprintf(stderr, "bench-outbox: relay: %s\n", err.message);
        exit(1);
    }
    return r;
}

static int mode_burndown(int relays, int batch)
{
    pool = open_pool(2);
    prepare();
    long long rows = query_ll("SELECT count(*) FROM svk_outbox");
    svk_pg_pool *rp = open_pool(3 * relays + 1);
    svk_broker *b = open_pgqueue(rp);
    svk_relay *r[8];
    int64_t t0 = svk_clock_mono_ns();
    for (int i = 0; i < relays; i++)
        r[i] = start_relay(rp, b, batch);
    while (query_ll("SELECT count(*) FROM (SELECT 1 FROM svk_outbox LIMIT 1) s") > 0)
        usleep(20000);
    double secs = (double)(svk_clock_mono_ns() - t0) / 1e9;
    uint64_t errors = 0;
    for (int i = 0; i < relays; i++) {
        svk_relay_stats s = SVK_RELAY_STATS_INIT;
        svk_relay_stats_read(r[i], &s);
        errors += s.errors;
        svk_relay_free(r[i]);
    }
    printf("result mode=burndown relays=%d batch=%d rows=%lld seconds=%.2f rows_per_s=%.0f"
           " errors=%llu queued=%lld\n", relays, batch, rows, secs, (double)rows / secs,
           (unsigned long long)errors, query_ll("SELECT count(*) FROM svk_queue"));
    svk_broker_free(b);
    svk_pg_pool_free(rp);
    return 0;
}

/* ------------------------------------------------ broker call timing */

/* A broker in front of pgqueue that times each publish (steady mode): how
 * much of the relay's cycle is the broker's own call. */
typedef struct timed_broker {
    svk_broker base;
    svk_broker *inner;
    pthread_mutex_t lock;
    int64_t *ns;
    size_t n, cap;
} timed_broker;

static int timed_publish(svk_broker *b, const svk_ctx *ctx, const svk_message *m, size_t n)
{
    timed_broker *t = (timed_broker *)b;
    int64_t t0 = svk_clock_mono_ns();
    int rc = svk_broker_publish(t->inner, ctx, m, n);
    int64_t took = svk_clock_mono_ns() - t0;
    pthread_mutex_lock(&t->lock);
    if (t->n < t->cap)
        t->ns[t->n++] = took;
    pthread_mutex_unlock(&t->lock);
    return rc;
}

static void timed_free(svk_broker *b)
{
    (void)b; /* static storage, freed by main */
}

static const svk__broker_ops timed_ops = {
    .version = SVK__BROKER_OPS_VERSION,
    .name = "timed",
    .publish = timed_publish,
    .broker_free = timed_free,
};

static timed_broker timed = {.lock = PTHREAD_MUTEX_INITIALIZER};

static int cmp_ll(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* The broker call's p50 and p99 in ms. */
static void timed_figures(double *p50, double *p99)
{
    qsort(timed.ns, timed.n, sizeof *timed.ns, cmp_ll);
    *p50 = timed.n ? (double)timed.ns[timed.n / 2] / MS : 0;
    *p99 = timed.n ? (double)timed.ns[timed.n * 99 / 100] / MS : 0;
}

/* The relays' figures together: counts added, quantiles the worst relay's. */
static void merge_stats(svk_relay **r, int n, svk_relay_stats *out)
{
    for (int i = 0; i < n; i++) {
        svk_relay_stats s = SVK_RELAY_STATS_INIT;
        svk_relay_stats_read(r[i], &s);
        out->latency_count += s.latency_count;
        out->batches += s.batches;
        out->errors += s.errors;
        if (s.latency_p50_ns > out->latency_p50_ns)
            out->latency_p50_ns = s.latency_p50_ns;
        if (s.latency_p90_ns > out->latency_p90_ns)
            out->latency_p90_ns = s.latency_p90_ns;
        if (s.latency_p99_ns > out->latency_p99_ns)
            out->latency_p99_ns = s.latency_p99_ns;
        if (s.latency_max_ns > out->latency_max_ns)
            out->latency_max_ns = s.latency_max_ns;
    }
}

static int mode_steady(double rate, double seconds, int relays)
{
    enum { WRITERS = 4 };
    pool = open_pool(WRITERS + 2);
    prepare();
    svk_pg_pool *rp = open_pool(3 * relays + 1);
    timed.inner = open_pgqueue(rp);
    timed.base.ops = &timed_ops;
    timed.cap = 1000000;
    timed.ns = malloc(timed.cap * sizeof *timed.ns);
    svk_broker *b = &timed.base;
    svk_relay *r[8];
    for (int i = 0; i < relays; i++)
        r[i] = start_relay(rp, b, 500);
    usleep(500000);
    client c = {domain_and_outbox, rate / WRITERS};
    double tps = run_clients(&c, WRITERS, seconds);
    while (query_ll("SELECT count(*) FROM (SELECT 1 FROM svk_outbox LIMIT 1) s") > 0)
        usleep(20000);
    svk_relay_stats s = SVK_RELAY_STATS_INIT;
    merge_stats(r, relays, &s);
    double call50, call99;
    timed_figures(&call50, &call99);
    printf("result mode=steady relays=%d rate=%.0f tps=%.0f events=%llu batches=%llu p50_ms=%.3f"
           " p90_ms=%.3f p99_ms=%.3f max_ms=%.3f errors=%llu broker_call_p50_ms=%.3f"
           " broker_call_p99_ms=%.3f\n", relays, rate, tps,
           (unsigned long long)s.latency_count, (unsigned long long)s.batches,
           (double)s.latency_p50_ns / MS, (double)s.latency_p90_ns / MS,
           (double)s.latency_p99_ns / MS, (double)s.latency_max_ns / MS,
           (unsigned long long)s.errors, call50, call99);
    for (int i = 0; i < relays; i++)
        svk_relay_free(r[i]);
    svk_broker_free(timed.inner);
    free(timed.ns);
    svk_pg_pool_free(rp);
    return 0;
}

static int usage(void)
{
    fprintf(stderr, "usage: bench-outbox autocommit C S | writer domain|outbox C S | fill N |"
                    " burndown R B | steady TPS S [R]\n");
    return 2;
}

int main(int argc, char **argv)
{
    memset(payload, 'x', PAYLOAD);
    dsn = getenv("SVK_TEST_PG_DSN");
    if (dsn == NULL || argc < 3)
        return usage();
    int rc;
    if (strcmp(argv[1], "autocommit") == 0 && argc == 4)
        rc = mode_clients(autocommit_insert, atoi(argv[2]), atof(argv[3]), "autocommit");
    else if (strcmp(argv[1], "writer") == 0 && argc == 5)
        rc = mode_clients(strcmp(argv[2], "outbox") == 0 ? domain_and_outbox : domain_only,
                          atoi(argv[3]), atof(argv[4]), argv[2]);
    else if (strcmp(argv[1], "fill") == 0)
        rc = mode_fill(atol(argv[2]));
    else if (strcmp(argv[1], "burndown") == 0 && argc == 4)
        rc = mode_burndown(atoi(argv[2]), atoi(argv[3]));
    else if (strcmp(argv[1], "steady") == 0 && (argc == 4 || argc == 5))
        rc = mode_steady(atof(argv[2]), atof(argv[3]), argc == 5 ? atoi(argv[4]) : 1);
    else
        return usage();
    svk_pg_pool_free(pool);
    return rc;
}
