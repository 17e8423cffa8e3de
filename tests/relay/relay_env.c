/*
 * relay_env.c — shared helpers of the relay tests (see relay_env.h).
 */
#include "relay_env.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "broker/broker_impl.h"

static void die(const char *fmt, ...) SVK_PRINTF(1, 2);

static void die(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "relay_env: ");
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    exit(1);
}

long rt_env_count(const char *name, long def)
{
    const char *v = getenv(name);
    long n = v ? atol(v) : 0;
    return n > 0 ? n : def;
}

void rt_setup(rt_env *e, const char *tag, int max_conns, long capacity)
{
    memset(e, 0, sizeof *e);
    pgt_fresh_schema(tag, e->schema, e->dsn, sizeof e->dsn);
    e->pool = pgt_pool(e->dsn, max_conns);
    svk_error err;
    if (svk_pg_migrate(e->pool, NULL, NULL, &err) != 0)
        die("migrate: %s", err.message);
    svk_pgqueue_options o = SVK_PGQUEUE_OPTIONS_INIT;
    o.pool = e->pool;
    o.notify_channel = e->schema;
    if (svk_pgqueue_new(&e->pgqueue, &o, &err) != 0)
        die("pgqueue: %s", err.message);
    static const char *const topics[] = {"orders.placed", "orders.ordered"};
    svk_subscription *s = NULL;
    if (svk_broker_subscribe(e->pgqueue, NULL, RT_GROUP, topics, 2, NULL, &s) != 0)
        die("subscribe: %s", svk_broker_last_error(NULL));
    svk_subscription_free(s); /* the group's interest stays */
    size_t size = sizeof(rt_shared) + (size_t)capacity * sizeof(atomic_int);
    e->shared = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (e->shared == MAP_FAILED)
        die("mmap");
    e->shared->capacity = capacity;
    atomic_store(&e->shared->fail_key, -1);
    atomic_store(&e->shared->refuse_index, -1);
}

void rt_teardown(rt_env *e)
{
    svk_broker_free(e->broker);
    svk_broker_free(e->pgqueue);
    svk_pg_pool_free(e->pool);
    munmap(e->shared, sizeof(rt_shared) + (size_t)e->shared->capacity * sizeof(atomic_int));
}

/* ------------------------------------------------------ recording broker */

typedef struct recorder {
    svk_broker base;
    svk_broker *inner;
    rt_shared *shared;
    rt_order *order;
} recorder;

static bool holds_key(const svk_message *msgs, size_t n, int key)
{
    char want[16];
    snprintf(want, sizeof want, "k%d", key);
    for (size_t i = 0; i < n; i++)
        if (msgs[i].key != NULL && strcmp(msgs[i].key, want) == 0)
            return true;
    return false;
}

/* Whether an unkeyed event (payload: its index) of the batch is event idx. */
static bool holds_index(const svk_message *msgs, size_t n, long idx)
{
    char want[32];
    int len = snprintf(want, sizeof want, "%ld", idx);
    for (size_t i = 0; i < n; i++)
        if (msgs[i].key == NULL && msgs[i].payload_len == (size_t)len &&
            memcmp(msgs[i].payload, want, (size_t)len) == 0)
            return true;
    return false;
}

static void record_order(rt_order *o, const svk_message *m)
{
    int key, seq;
    char text[32];
    snprintf(text, sizeof text, "%.*s", (int)m->payload_len, (const char *)m->payload);
    if (m->key == NULL || sscanf(text, "k%d:%d", &key, &seq) != 2 || key >= o->keys)
        return;
    pthread_mutex_lock(&o->lock);
    if (seq == o->next[key]) {
        o->next[key]++;
        o->seen[key]++;
    } else if (seq >= o->next[key]) {
        atomic_fetch_add(&o->violations, 1); /* a gap: a later event came first */
        fprintf(stderr, "order: key k%d got %d, expected %d\n", key, seq, o->next[key]);
    } /* else: an earlier one again (at-least-once), harmless */
    pthread_mutex_unlock(&o->lock);
}

static void record(recorder *r, const svk_message *msgs, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        char text[32];
        snprintf(text, sizeof text, "%.*s", (int)msgs[i].payload_len,
                 (const char *)msgs[i].payload);
        const char *colon = strchr(text, ':');
        long idx = atol(colon ? colon + 1 : text);
        if (colon == NULL && idx >= 0 && idx < r->shared->capacity)
            atomic_fetch_add(&r->shared->counts[idx], 1);
        if (r->order != NULL)
            record_order(r->order, &msgs[i]);
    }
    atomic_fetch_add(&r->shared->accepted, (long)n);
}

static int rec_publish(svk_broker *b, const svk_ctx *ctx, const svk_message *msgs, size_t n)
{
    recorder *r = (recorder *)b;
    atomic_fetch_add(&r->shared->publishes, 1);
    if (atomic_load(&r->shared->block_before)) {
        atomic_store(&r->shared->blocked, 1);
        for (;;)
            pause(); /* a relay that hangs in the broker call */
    }
    int key = atomic_load(&r->shared->fail_key);
    if (atomic_load(&r->shared->down) || (key >= 0 && holds_key(msgs, n, key)))
        return svk__broker_fail(SVK_EUNAVAIL, "the test broker is down");
    int over = atomic_load(&r->shared->refuse_over);
    if (over > 0 && n > (size_t)over)
        return svk__broker_fail(SVK_ETOOBIG, "the test broker carries at most %d", over);
    long poison = atomic_load(&r->shared->refuse_index);
    if (poison >= 0 && holds_index(msgs, n, poison))
        return svk__broker_fail(SVK_ETOOBIG, "event %ld is too big for the test broker",
                                poison);
    int rc = svk_broker_publish(r->inner, ctx, msgs, n);
    if (rc != 0)
        return svk__broker_fail(rc, "pgqueue: %s", svk_broker_last_error(r->inner));
    record(r, msgs, n);
    if (atomic_load(&r->shared->block_after)) {
        atomic_store(&r->shared->blocked, 1);
        for (;;)
            pause(); /* a relay that hangs between publish and commit */
    }
    return 0;
}

static void rec_free(svk_broker *b)
{
    free(b);
}

static const svk__broker_ops recorder_ops = {
    .version = SVK__BROKER_OPS_VERSION,
    .name = "recorder",
    .publish = rec_publish,
    .broker_free = rec_free,
};

svk_broker *rt_recorder(rt_env *e, rt_order *order)
{
    recorder *r = calloc(1, sizeof *r);
    if (r == NULL)
        die("calloc");
    r->base.ops = &recorder_ops;
    r->inner = e->pgqueue;
    r->shared = e->shared;
    r->order = order;
    return &r->base;
}

/* ---------------------------------------------------------------- events */

static void put_batch(rt_env *e, const char *topic, long first, long n, int keys)
{
    svk_outbox_event *ev = calloc((size_t)n, sizeof *ev);
    char (*payload)[32] = calloc((size_t)n, 32);
    char (*key)[16] = calloc((size_t)n, 16);
    if (!ev || !payload || !key)
        die("calloc");
    for (long i = 0; i < n; i++) {
        long idx = first + i;
        ev[i] = (svk_outbox_event)SVK_OUTBOX_EVENT_INIT;
        ev[i].topic = topic;
        if (keys > 0) {
            snprintf(key[i], 16, "k%ld", idx % keys);
            snprintf(payload[i], 32, "k%ld:%ld", idx % keys, idx / keys);
            ev[i].key = key[i];
        } else {
            snprintf(payload[i], 32, "%ld", idx);
        }
        ev[i].payload = payload[i];
        ev[i].payload_len = strlen(payload[i]);
    }
    svk_tx *tx = NULL;
    int rc = svk_tx_begin(e->pool, NULL, SVK_TX_READ_COMMITTED, &tx);
    if (rc == 0 && (rc = svk_outbox_put_batch(tx, NULL, ev, (size_t)n)) != 0)
        die("put_batch: %s: %s", svk_errname(rc), svk_pg_conn_last_error(svk_tx_conn(tx)));
    if (rc == 0)
        rc = svk_tx_commit(tx, NULL);
    if (rc != 0)
        die("writing events: %s", svk_errname(rc));
    free(ev);
    free(payload);
    free(key);
}

void rt_put(rt_env *e, const char *topic, long first, long n, int keys, int batch)
{
    for (long done = 0; done < n; done += batch)
        put_batch(e, topic, first + done, n - done < batch ? n - done : batch, keys);
}

/* ----------------------------------------------------------------- relays */

svk_relay_options rt_relay_options(rt_env *e, svk_broker *broker)
{
    svk_relay_options o = SVK_RELAY_OPTIONS_INIT;
    o.pool = e->pool;
    o.broker = broker;
    o.claim_timeout_ns = 2 * PGT_SEC;
    o.publish_timeout_ns = 2 * PGT_SEC;
    o.lease_ns = 9 * PGT_SEC;
    o.backoff_min_ns = 20 * PGT_MS;
    o.backoff_max_ns = 200 * PGT_MS;
    o.stats_interval_ns = 100 * PGT_MS;
    return o;
}

svk_relay *rt_relay(const svk_relay_options *o)
{
    svk_relay *r = NULL;
    svk_error err;
    if (svk_relay_new(&r, o, &err) != 0)
        die("svk_relay_new: %s", err.message);
    if (svk_relay_start(r) != 0)
        die("svk_relay_start");
    return r;
}

static void child(rt_env *parent, rt_options_fn options)
{
    rt_env e = *parent;
    e.pool = pgt_pool(e.dsn, 4);
    svk_pgqueue_options q = SVK_PGQUEUE_OPTIONS_INIT;
    q.pool = e.pool;
    q.notify_channel = e.schema;
    if (svk_pgqueue_new(&e.pgqueue, &q, NULL) != 0)
        _exit(3);
    svk_relay_options o = options(&e, rt_recorder(&e, NULL));
    rt_relay(&o);
    for (;;)
        pause();
}

pid_t rt_fork_relay(rt_env *e, rt_options_fn options)
{
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0)
        die("fork");
    if (pid == 0)
        child(e, options);
    int64_t until = svk_clock_mono_ns() + 30 * PGT_SEC;
    while (!atomic_load(&e->shared->blocked) && svk_clock_mono_ns() < until)
        usleep(5000);
    if (!atomic_load(&e->shared->blocked))
        die("the forked relay never reached its broker");
    return pid;
}

/* ---------------------------------------------------------------- checks */

long long rt_value(rt_env *e, const char *sql)
{
    svk_pg_conn *c = NULL;
    svk_pg_result *r = NULL;
    if (svk_pg_acquire(e->pool, NULL, &c) != 0)
        die("acquire");
    if (svk_pg_exec(c, NULL, sql, 0, NULL, NULL, NULL, &r) != 0)
        die("%s: %s", sql, svk_pg_conn_last_error(c));
    long long v = atoll(svk_pg_result_value(r, 0, 0));
    svk_pg_result_free(r);
    svk_pg_release(c);
    return v;
}

long long rt_depth(rt_env *e)
{
    return rt_value(e, "SELECT count(*) FROM svk_outbox");
}

bool rt_wait_empty(rt_env *e, int64_t timeout_ns)
{
    int64_t until = svk_clock_mono_ns() + timeout_ns;
    while (svk_clock_mono_ns() < until) {
        if (rt_depth(e) == 0)
            return true;
        usleep(20000);
    }
    return rt_depth(e) == 0;
}

void rt_tally(const rt_env *e, long n, long *missing, long *duplicated, long *total)
{
    *missing = *duplicated = *total = 0;
    for (long i = 0; i < n; i++) {
        int c = atomic_load(&e->shared->counts[i]);
        *missing += c == 0;
        *duplicated += c > 1;
        *total += c;
    }
}

void rt_order_init(rt_order *o, int keys, int per_key)
{
    pthread_mutex_init(&o->lock, NULL);
    o->keys = keys;
    o->per_key = per_key;
    o->next = calloc((size_t)keys, sizeof *o->next);
    o->seen = calloc((size_t)keys, sizeof *o->seen);
    atomic_init(&o->violations, 0);
}

void rt_order_free(rt_order *o)
{
    free(o->next);
    free(o->seen);
    pthread_mutex_destroy(&o->lock);
}

int rt_order_complete(rt_order *o)
{
    int done = 0;
    pthread_mutex_lock(&o->lock);
    for (int k = 0; k < o->keys; k++)
        done += o->next[k] == o->per_key;
    pthread_mutex_unlock(&o->lock);
    return done;
}

uint64_t rt_published(svk_relay *const *r, int n, uint64_t want, int64_t timeout_ns)
{
    int64_t until = svk_clock_mono_ns() + timeout_ns;
    for (;;) {
        uint64_t sum = 0;
        for (int i = 0; i < n; i++)
            sum += rt_stats(r[i]).published;
        if (sum >= want || svk_clock_mono_ns() >= until)
            return sum;
        usleep(5000);
    }
}

svk_relay_stats rt_stats(const svk_relay *r)
{
    svk_relay_stats s = SVK_RELAY_STATS_INIT;
    if (svk_relay_stats_read(r, &s) != 0)
        die("svk_relay_stats_read");
    return s;
}
