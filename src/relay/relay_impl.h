/*
 * relay_impl.h — internal: the relay's object and what its files share.
 *
 *   relay.c     new / start / stop / free, readiness, last error
 *   options.c   the options read, checked and copied
 *   loop.c      the thread: connections, rounds, idle wait, backoff sleep
 *   claim.c     the unordered claim: DELETE ... RETURNING, publish, commit
 *   ordered.c   the ordered claim: per partition, under the leases
 *   lease.c     lease rounds: membership, renew, release, acquire
 *   batch.c     claimed rows decoded into broker messages
 *   backoff.c   capped exponential backoff with jitter, and the breaker
 *   stats.c     counters, the latency histogram, svk_relay_stats_read, gauges
 *   leases.c    svk_relay_leases (svkctl's view of the lease table)
 *
 * Threads. The fields under "immutable" are set by svk_relay_new. Those
 * under "relay thread" are touched only by the relay's thread once it
 * runs (and by svk_relay_free after it has been joined). The figures under
 * "shared" are atomics, readable from any thread; the last error and the
 * thread's exit are behind `lock`.
 */
#ifndef SVK_RELAY_IMPL_H
#define SVK_RELAY_IMPL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>

#include "svckit/log.h"
#include "svckit/relay.h"

#define SVK__RELAY_ID_MAX 160
#define SVK__RELAY_CHANNEL_MAX 64
#define SVK__RELAY_ERROR_MAX 512
#define SVK__RELAY_PARTITIONS_MAX 4096
#define SVK__RELAY_OID_INT8 20u /* pg_type.dat */
/* Latency histogram: bucket 0 below 1024 ns, then 8 per power of two. */
#define SVK__RELAY_LAT_SUB 8
#define SVK__RELAY_LAT_BUCKETS (1 + SVK__RELAY_LAT_SUB * 32)

/* The options after validation, defaults filled in. */
typedef struct svk__relay_config {
    int batch_size;
    int64_t poll_interval_ns;
    int64_t claim_timeout_ns;
    int64_t publish_timeout_ns;
    int64_t backoff_min_ns;
    int64_t backoff_max_ns;
    int breaker_threshold;
    int partitions;
    int64_t lease_ns;
    int64_t stats_interval_ns;
    svk_buf ordered_topics; /* the topics to register, a binary text[]; len 0: none */
} svk__relay_config;

/* Capped exponential backoff with jitter (backoff.c). */
typedef struct svk__backoff {
    int64_t min_ns, max_ns;
    int failures; /* in a row */
    uint64_t rng;
} svk__backoff;

/* One claimed batch, decoded (batch.c); the storage is reused batch after batch. */
typedef struct svk__relay_batch {
    int n;
    int cap;
    svk_message *msgs;
    int *partition;      /* ordered claims: each message's partition */
    int64_t *age_ns;     /* insert -> claim, on the database's clock */
    svk_header *headers; /* all messages' headers, back to back */
    size_t headers_cap;
    svk_buf strings;     /* header names and values, NUL-terminated */
    svk_message *group;  /* ordered claims: one partition's messages, gathered */
    int64_t *group_age;
    bool *ok;            /* ordered claims: which messages the broker accepted */
    int64_t claimed_ns;  /* monotonic: when the claim returned */
    svk_pg_result *res;  /* the rows the messages point into */
} svk__relay_batch;

/* The relay thread's view of the ordered partitions it holds. */
typedef struct svk__relay_leases {
    int count;                 /* partitions in the database; 0: not checked yet */
    bool ordered;              /* some topic is ordered: take part in leasing */
    int held;                  /* partitions held */
    bool *holds;               /* [partitions] */
    int64_t *token;            /* [partitions] fencing token held */
    int64_t *blocked_until;    /* [partitions] monotonic; 0: not blocked */
    int *failures;             /* [partitions] failed publishes in a row */
    int64_t next_round_ns;     /* monotonic */
} svk__relay_leases;

typedef struct svk__relay_figures {
    atomic_int ready;
    atomic_int breaker_open;
    atomic_int leases_held;
    atomic_int partitions_blocked;
    atomic_int last_error;
    atomic_llong outbox_depth;
    atomic_llong oldest_age_ns;
    atomic_ullong claims, batches, published, errors, publish_errors, duplicates;
    atomic_ullong lease_takeovers, dead_lettered;
    atomic_llong latency_max_ns;
    atomic_ullong latency[SVK__RELAY_LAT_BUCKETS];
} svk__relay_figures;

struct svk_relay {
    /* immutable */
    svk_pg_pool *pool;
    svk_broker *broker;
    svk_logger *log;
    svk__relay_config cfg;
    char id[SVK__RELAY_ID_MAX]; /* holder name in the lease tables */

    /* relay thread */
    svk_pg_conn *conn;   /* claims, leases, gauges */
    svk_pg_conn *listen; /* LISTEN only */
    char channel[SVK__RELAY_CHANNEL_MAX];
    bool set_up;         /* channel known, topics and lease rows registered */
    bool more;           /* the last claims found events: claim again at once */
    bool again;          /* a refused batch was split: claim again at once */
    int claim_limit;     /* unordered claims: halved when the broker refuses a
                            batch for good, doubled back per success */
    int idle_step;       /* idle waits since the last events: 2 ms, 8, 32, 128, poll */
    int mark;            /* our row in svk_outbox_wakeups: 0 none, 1 asleep, 2 awake */
    int64_t mark_renew_ns; /* monotonic: renew the row from then on */
    svk__backoff backoff;
    svk__relay_batch batch;
    svk__relay_leases leases;
    svk_buf scratch;     /* array parameters */
    svk_uuid floor;      /* unordered claims start here (claim.c); all zero: at the start */
    int64_t next_full_claim_ns; /* monotonic: the next claim from the start */
    int64_t next_gauges_ns;
    svk_ctx *run_ctx;     /* cancelled by a stop whose deadline passed */
    svk_ctx *wait_ctx;    /* child of run_ctx, cancelled by any stop */
    svk_ctx *claim_ctx;   /* child of run_ctx, deadline set per statement */
    svk_ctx *publish_ctx; /* child of run_ctx, deadline set per publish */

    /* shared */
    svk__relay_figures fig;
    atomic_int stopping;
    pthread_mutex_t lock;
    pthread_cond_t changed; /* a stop was asked for; the thread exited */
    bool started, exited;   /* under lock */
    pthread_t thread;
    char error[SVK__RELAY_ERROR_MAX]; /* under lock */
};

/* options.c */
int svk__relay_config_read(svk__relay_config *cfg, const svk_relay_options *o,
                           svk_error *err);
void svk__relay_config_free(svk__relay_config *cfg);
int svk__relay_make_id(svk_relay *r, const char *name, svk_error *err);

/* relay.c: record a failure (code, printf detail) for svk_relay_last_error. */
int svk__relay_fail(svk_relay *r, int code, const char *fmt, ...) SVK_PRINTF(3, 4);

/* loop.c */
void *svk__relay_main(void *arg);
bool svk__relay_stopping(svk_relay *r);
/* The deadline ctx for one statement (claim_timeout) or one publish. */
const svk_ctx *svk__relay_claim_ctx(svk_relay *r);
const svk_ctx *svk__relay_publish_ctx(svk_relay *r);
/* After a failed statement on r->conn: give the connection up if it is lost. */
void svk__relay_conn_failed(svk_relay *r, int rc);

/*
 * The columns of both claim statements (batch.c decodes them): the event,
 * its headers as one flat text[] (name, value, ...), and its age in
 * microseconds at the claim on the database's clock. t names the source.
 */
#define SVK__RELAY_CLAIM_COLUMNS(t)                                                        \
    t ".id, " t ".topic, " t ".key, " t ".payload,"                                        \
    " CASE WHEN " t ".headers = '{}' THEN NULL ELSE (SELECT array_agg(v.x ORDER BY e.key,"  \
    " v.n) FROM jsonb_each_text(" t ".headers) e,"                                          \
    " LATERAL (VALUES (1, e.key), (2, e.value)) v(n, x)) END,"                             \
    " (extract(epoch FROM clock_timestamp() - " t ".created_at) * 1e6)::int8"

/* claim.c / ordered.c: one claim transaction each; *got events claimed. */
int svk__relay_claim_unordered(svk_relay *r, int limit, int *got);
int svk__relay_claim_ordered(svk_relay *r, int limit, int *got);
/* The idle_in_transaction_session_timeout of a claim transaction, in ms text. */
void svk__relay_idle_timeout(const svk_relay *r, char out[24]);
/* Commit a claim transaction whose batch (n events) was published. */
int svk__relay_commit(svk_relay *r, svk_tx *tx, int n);

/* lease.c */
int svk__relay_leases_init(svk__relay_leases *l, int partitions);
void svk__relay_leases_free(svk__relay_leases *l);
int svk__relay_lease_round(svk_relay *r);
void svk__relay_lease_release_all(svk_relay *r);
/* Stopping: release every lease and leave the membership table. */
void svk__relay_lease_leave(svk_relay *r);
/* Held partitions not backing off, as int4[] and int8[] parameters in r->scratch. */
int svk__relay_lease_params(svk_relay *r, size_t offsets[2], size_t sizes[2], int *count);

/* batch.c */
int svk__relay_batch_init(svk__relay_batch *b, int cap);
void svk__relay_batch_free(svk__relay_batch *b);
void svk__relay_batch_clear(svk__relay_batch *b);
/* Decode res (taken: freed with the batch) into b; columns per batch.c. */
int svk__relay_batch_decode(svk__relay_batch *b, svk_pg_result *res, bool ordered);
/*
 * Publish n messages (age_ns[i]: each one's age at the claim) under ctx;
 * on success record their latencies, on failure the error.
 */
int svk__relay_publish(svk_relay *r, const svk_ctx *ctx, const svk_message *msgs,
                       const int64_t *age_ns, int n);

/* backoff.c */
void svk__backoff_init(svk__backoff *b, int64_t min_ns, int64_t max_ns, uint64_t seed);
/* Count a failure and return how long to wait before the next attempt. */
int64_t svk__backoff_next(svk__backoff *b);
void svk__backoff_reset(svk__backoff *b);
/* The wait after the failures-th failure in a row, without counting it. */
int64_t svk__backoff_delay(svk__backoff *b, int failures);

/* stats.c */
void svk__relay_record_latency(svk_relay *r, int64_t ns);
void svk__relay_count(atomic_ullong *counter, uint64_t n);
void svk__relay_refresh_gauges(svk_relay *r);

#endif
