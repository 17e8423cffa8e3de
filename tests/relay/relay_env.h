/*
 * relay_env.h — what the relay tests share: a fresh schema with the
 * PostgreSQL queue broker behind a recording broker, events written with
 * their index as payload, and waiting helpers.
 *
 * The recording broker (recorder_*) implements svckit/broker.h through the
 * internal vtable (src/broker/broker_impl.h): it forwards every publish to
 * the real pgqueue broker and, once pgqueue has accepted the batch, counts
 * each event by its index in shared memory (so a forked relay process
 * counts too). Failure and blocking are switches on it, the way a broker
 * that is down or hangs behaves; nothing about the database is mocked.
 *
 * Criterion-free, like tests/pg/pg_env.h: a setup failure prints why and
 * exits 1.
 */
#ifndef SVK_TESTS_RELAY_ENV_H
#define SVK_TESTS_RELAY_ENV_H

#include <pthread.h>
#include <sys/types.h>
#include <stdatomic.h>
#include <stdbool.h>

#include "pg_env.h"
#include "svckit/outbox.h"
#include "svckit/pgqueue.h"
#include "svckit/relay.h"

#define RT_GROUP "audit"
#define RT_KEY_MAX 64

/* Shared (MAP_SHARED) between a test and the relay processes it forks. */
typedef struct rt_shared {
    atomic_int down;          /* 1: every publish fails with SVK_EUNAVAIL */
    atomic_int fail_key;      /* >= 0: a batch holding key "k<n>" fails */
    atomic_long refuse_index; /* >= 0: a batch holding event <n> is refused
                                 for good (SVK_ETOOBIG) */
    atomic_int refuse_over;   /* > 0: batches of more events are refused for good */
    atomic_int block_before;  /* 1: hang before forwarding (set blocked first) */
    atomic_int block_after;   /* 1: after forwarding, signal and hang forever */
    atomic_int blocked;       /* set by a publish that hangs */
    atomic_long publishes;    /* publish calls (failed ones too) */
    atomic_long accepted;     /* events accepted by pgqueue */
    long capacity;            /* events the counts below hold */
    atomic_int counts[];      /* per event index: times accepted */
} rt_shared;

typedef struct rt_env {
    char schema[64];
    char dsn[1024];
    svk_pg_pool *pool;    /* for the relays and the writer */
    svk_broker *pgqueue;  /* the real broker */
    svk_broker *broker;   /* the recording broker in front of it */
    rt_shared *shared;
} rt_env;

/* Per-key order log (in-process): each key's sequence numbers, as accepted. */
typedef struct rt_order {
    pthread_mutex_t lock;
    int keys;
    int per_key;
    int *next;   /* [keys]: the index expected next */
    int *seen;   /* [keys]: events seen */
    atomic_int violations;
} rt_order;

/* A fresh schema, migrated, pgqueue on a pool of max_conns, group RT_GROUP
 * subscribed to "orders.*" topics used by the tests, counts for capacity. */
void rt_setup(rt_env *e, const char *tag, int max_conns, long capacity);
void rt_teardown(rt_env *e);

/* A recording broker over e->pgqueue (sharing e->shared); order may be NULL. */
svk_broker *rt_recorder(rt_env *e, rt_order *order);

/* Write events [first, first + n) in transactions of `batch`: topic, and key
 * "k<i % keys>" (keys 0: no key). The payload is "<i>" ("<key>:<seq>" for
 * keyed events, seq counting per key from first / keys). */
void rt_put(rt_env *e, const char *topic, long first, long n, int keys, int batch);

/* Relay options for tests: short timeouts and backoffs. */
svk_relay_options rt_relay_options(rt_env *e, svk_broker *broker);
svk_relay *rt_relay(const svk_relay_options *o);

/*
 * Fork a relay process: its own pool, pgqueue and recorder (sharing only
 * e->shared), options from options(child env, recorder), started, and then
 * nothing but waiting to be killed. Returns once its broker call has set
 * shared->blocked (set block_before or block_after first); exits the test
 * process (1) if that takes more than 30 s.
 */
typedef svk_relay_options (*rt_options_fn)(rt_env *e, svk_broker *broker);
pid_t rt_fork_relay(rt_env *e, rt_options_fn options);

/* One int64 from sql on e's pool. */
long long rt_value(rt_env *e, const char *sql);
/* Rows left in svk_outbox. */
long long rt_depth(rt_env *e);
/* Wait up to timeout_ns until the outbox is empty; whether it became so. */
bool rt_wait_empty(rt_env *e, int64_t timeout_ns);

/*
 * The relays' published counts, summed, once the sum reaches want or after
 * timeout_ns. A relay counts a batch once its commit returns, a moment
 * after the rows are gone from the table: a test that saw the outbox empty
 * (or the recorder complete) waits here before it checks the counts.
 */
uint64_t rt_published(svk_relay *const *r, int n, uint64_t want, int64_t timeout_ns);

/* Event indexes accepted 0 times, more than once; and the total accepted. */
void rt_tally(const rt_env *e, long n, long *missing, long *duplicated, long *total);

void rt_order_init(rt_order *o, int keys, int per_key);
void rt_order_free(rt_order *o);
/* Keys whose events all arrived, in order. */
int rt_order_complete(rt_order *o);

svk_relay_stats rt_stats(const svk_relay *r);

/* An environment variable as a count, or def. */
long rt_env_count(const char *name, long def);

#endif
