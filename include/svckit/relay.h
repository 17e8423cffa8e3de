/*
 * svckit/relay.h — the outbox relay: publish the events that the outbox
 * writer (svckit/outbox.h) committed, through a broker (svckit/broker.h),
 * then remove them.
 *
 *     svk_relay_options o = SVK_RELAY_OPTIONS_INIT;
 *     o.pool = pool;            (two connections per relay)
 *     o.broker = broker;        (pgqueue or NATS)
 *     svk_relay *relay;
 *     svk_relay_new(&relay, &o, &err);
 *     svk_relay_start(relay);
 *     ...                       (svk_relay_ready for the readiness probe)
 *     svk_relay_stop(relay, svk_clock_mono_ns() + 5 * SEC);
 *     svk_relay_free(relay);
 *
 * Semantics (docs/outbox.md has the reasoning and the measurements):
 *  - At least once. Each batch is claimed, published and removed in one
 *    READ COMMITTED transaction: the claim deletes the rows (DELETE ...
 *    RETURNING over a FOR UPDATE SKIP LOCKED selection), the broker
 *    publishes them with the event id as message id, and only then does
 *    the transaction commit. If the relay dies, loses the database or the
 *    broker fails before the commit, the rows come back and are published
 *    again: consumers dedupe on the message id. A committed removal is
 *    never published again. The removal commits asynchronously
 *    (synchronous_commit off for that transaction only): a PostgreSQL crash
 *    can lose it, which republishes the batch — a duplicate, never a loss.
 *  - Bounded. The claim statement and the commit each have claim_timeout_ns;
 *    the broker call has publish_timeout_ns, and the transaction's own
 *    idle_in_transaction_session_timeout is set just above it, so neither a
 *    hung broker nor a hung relay holds row locks for long.
 *  - Many relays. Relays (threads or processes, on one database) share the
 *    work: SKIP LOCKED gives each claim rows no other claim holds. A claim
 *    starts at a floor (the newest id it claimed less 5 s), and once a
 *    second from the start, so it does not walk the rows deleted since the
 *    last vacuum; an event below the floor (committed more than 5 s after
 *    its put, from a clock more than 5 s behind, or given back by another
 *    relay's failed batch) waits up to that second.
 *  - Wake-ups. A relay claims again at once while its claims find events.
 *    Once they come back empty it marks itself asleep for the writers
 *    (svk_outbox_wakeups; it marks itself awake again when it finds
 *    events) and waits on a connection of its own that LISTENs on the
 *    writers' channel: 2, 8, 32 and 128 ms after the last events, then
 *    poll_interval_ns at a time, each wait ending in a claim. Writers
 *    notify only while some relay sleeps and none is awake
 *    (svckit/outbox.h says why). A notification lost with a connection
 *    costs one interval, never an event.
 *  - Failures. When a claim, a publish or a commit fails the relay waits a
 *    capped exponential backoff with jitter before trying again, and reports
 *    not ready (svk_relay_ready) until a round succeeds. After
 *    breaker_threshold failures in a row its breaker opens: it probes with
 *    one event per claim instead of a full batch until one succeeds.
 *  - Refused for good. A broker that refuses an unordered batch with
 *    SVK_ETOOBIG or SVK_EINVAL (it can never carry it, as opposed to
 *    "not now") is not a failure to back off from: the relay halves its
 *    claims at once and tries again (doubling back after each success),
 *    so a batch too big in bytes goes out in smaller ones. An event the
 *    broker refuses on its own is moved, in the claim's transaction, to
 *    svk_dead_letters (group SVK_RELAY_DEAD_LETTER_GROUP, the reason, the
 *    event whole) and counted in dead_lettered, with an error logged:
 *    one poison event never holds up the outbox behind it. Ordered topics
 *    are not skipped: there a refused event holds back its partition, as
 *    any failing publish does.
 *  - Per-key order. Events of the topics declared ordered
 *    (svk_outbox_order_topics; a relay's ordered_topics option declares
 *    them too, once it has started) are relayed in the order the database
 *    numbered them at insert (seq), per key: keys
 *    hash to `partitions` partitions (svk_outbox_partition), and each
 *    partition is leased to one relay at a time. A lease lasts lease_ns and
 *    is renewed every lease_ns / 3; relays share the partitions evenly
 *    (ceil(partitions / relays) each). Every takeover increments the
 *    lease's fencing token, and a claim locks its rows only through a
 *    lease row it still holds with its token, so a relay whose lease
 *    expired or was taken over claims nothing more there, and cannot be
 *    taken over in the middle of a batch. A partition whose publish fails
 *    backs off alone; the others go on. Every relay on a database relays
 *    the ordered topics and must use the same partition count.
 *
 * Threads: a relay runs on one thread of its own, started by
 * svk_relay_start. svk_relay_ready, svk_relay_stats_read and
 * svk_relay_last_error are safe from any thread at any time; the other
 * functions belong to the thread that owns the relay.
 */
#ifndef SVCKIT_RELAY_H
#define SVCKIT_RELAY_H

#include <stddef.h>
#include <stdint.h>

#include "svckit/broker.h"
#include "svckit/core.h"
#include "svckit/ctx.h"
#include "svckit/pg.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct svk_relay svk_relay;
struct svk_logger; /* svckit/log.h */

/*
 * svk_relay_options — how svk_relay_new builds a relay. Start from
 * SVK_RELAY_OPTIONS_INIT, set pool and broker; zero in any other field means
 * its default. size lets later versions append fields. Durations in ns.
 */
typedef struct svk_relay_options {
    size_t size;         /* sizeof(svk_relay_options) of the caller's header */
    svk_pg_pool *pool;   /* required; borrowed; the relay holds 2 of its connections */
    svk_broker *broker;  /* required; borrowed */
    const char *name;    /* copied; 1..64 of [A-Za-z0-9._-]; default "relay": the
                            first part of the relay's id in the lease tables */
    int batch_size;      /* most events per claim; default 500; at most 10000 */
    int64_t poll_interval_ns;   /* claim at least this often; default 250 ms */
    int64_t claim_timeout_ns;   /* each claim or removal statement, and the
                                   commit; default 5 s */
    int64_t publish_timeout_ns; /* the broker call of one batch; default 5 s */
    int64_t backoff_min_ns;     /* first wait after a failure; default 100 ms */
    int64_t backoff_max_ns;     /* cap of the doubling wait; default 10 s */
    int breaker_threshold;      /* failures in a row that open the breaker; 5 */
    const char *const *ordered_topics; /* declared ordered when the relay starts
                                          (svk_outbox_order_topics); copied */
    size_t ordered_topic_count;
    int partitions;             /* key partitions of ordered topics; default 16 */
    int64_t lease_ns;           /* partition lease; default 30 s; at least
                                   1.5 x (2 x claim + publish timeouts) */
    int64_t stats_interval_ns;  /* refresh of the depth figures; default 1 s */
    struct svk_logger *logger;  /* borrowed; NULL: no logging */
} svk_relay_options;

#define SVK_RELAY_OPTIONS_INIT {.size = sizeof(svk_relay_options)}

/*
 * svk_relay_stats — a snapshot of a relay's figures (svk_relay_stats_read). size
 * is set by the caller (SVK_RELAY_STATS_INIT). Counters count since
 * svk_relay_new. The latency of an event is the time from its insert
 * (clock_timestamp() at svk_outbox_put, on the database's clock) to the
 * broker's acceptance of its batch; quantiles are upper bounds of buckets
 * 12.5% wide, so read them as "at most".
 */
typedef struct svk_relay_stats {
    size_t size;
    int ready;              /* as svk_relay_ready */
    int breaker_open;       /* 1 while probing with one event per claim */
    int leases_held;        /* ordered partitions this relay holds */
    int partitions_blocked; /* of those, failing: the last publish failed and
                               none has succeeded since (backing off or
                               being retried) */
    int last_error;         /* SVK_E* of the last failure; 0: none yet */
    int64_t outbox_depth;   /* events waiting (all relays): exact up to 10000,
                               then PostgreSQL's live-row estimate; -1 unknown */
    int64_t oldest_age_ns;  /* age of the oldest waiting event; 0 none; -1 unknown */
    uint64_t claims;        /* claim statements run, empty ones included */
    uint64_t batches;       /* batches published and removed */
    uint64_t published;     /* events published and removed (committed) */
    uint64_t errors;        /* failed claims, publishes, removals and commits */
    uint64_t publish_errors; /* of errors: broker publishes that failed */
    uint64_t duplicates;    /* events published whose removal then failed to
                               commit (or may have): they are published again */
    uint64_t lease_takeovers; /* partition leases this relay acquired */
    uint64_t latency_count; /* events in the latency figures */
    int64_t latency_p50_ns;
    int64_t latency_p90_ns;
    int64_t latency_p99_ns;
    int64_t latency_max_ns;
    uint64_t dead_lettered; /* unordered events the broker refused for good,
                               moved to svk_dead_letters (group
                               SVK_RELAY_DEAD_LETTER_GROUP); since 0.1.0 */
} svk_relay_stats;

/* svk_dead_letters.group_name of the events a relay sets aside: not a
 * valid consumer group name, so it cannot clash with one. */
#define SVK_RELAY_DEAD_LETTER_GROUP "svk.relay"

#define SVK_RELAY_STATS_INIT {.size = sizeof(svk_relay_stats)}

/*
 * svk_relay_new — make a relay (not started) as opts says.
 *
 * Nothing is connected or started here.
 * Ownership: *out is new, free it with svk_relay_free; opts and its strings
 *            are read during the call only; pool, broker and logger are
 *            borrowed until svk_relay_free; err optional.
 * Threads: any thread; the relay then belongs to it.
 * Errors: SVK_EINVAL (out or opts NULL, opts->size 0 or larger than this
 *         library knows, pool or broker NULL, a bad name or ordered topic,
 *         a negative or out-of-range value, backoff_min_ns > backoff_max_ns,
 *         lease_ns too short for the timeouts), SVK_ENOMEM, SVK_ESYS (mutex,
 *         condition variable, hostname). *out is NULL on failure.
 * Since: 0.1.0
 */
SVK_API int svk_relay_new(svk_relay **out, const svk_relay_options *opts, svk_error *err);

/*
 * svk_relay_start — start the relay's thread, which connects, claims and
 * publishes until svk_relay_stop.
 *
 * Returns at once; failures to reach the database or the broker after that
 * show in svk_relay_ready, svk_relay_stats_read and svk_relay_last_error, never
 * as a return value. A relay starts once.
 * Ownership: relay borrowed.
 * Threads: the thread owning relay.
 * Errors: SVK_EINVAL (relay NULL), SVK_ESTATE (started before), SVK_ENOMEM,
 *         SVK_ESYS (the thread could not be created).
 * Since: 0.1.0
 */
SVK_API int svk_relay_start(svk_relay *relay);

/*
 * svk_relay_stop — stop the relay and wait for its thread, at most until
 * deadline_mono_ns (svk_clock_mono_ns) plus a couple of seconds.
 *
 * The relay finishes the batch in hand (publish, remove, commit), releases
 * its partition leases so other relays take them over at once, and exits.
 * If the deadline passes first, the batch in hand is cancelled and rolled
 * back (it will be published again, by this relay or another) and the
 * thread exits within about two seconds. Calling it on a relay that is not
 * running does nothing and returns 0.
 * Ownership: relay borrowed.
 * Threads: the thread owning relay.
 * Errors: SVK_EINVAL (relay NULL), SVK_ETIMEDOUT (the deadline passed and
 *         the batch in hand was cancelled; the relay stopped anyway).
 * Since: 0.1.0
 */
SVK_API int svk_relay_stop(svk_relay *relay, int64_t deadline_mono_ns);

/*
 * svk_relay_free — stop the relay at once if it runs (as svk_relay_stop
 * with a deadline already passed) and free it. NULL is a no-op.
 *
 * Ownership: takes relay back; the pool, broker and logger are no longer
 *            used once it returns.
 * Threads: the thread owning relay.
 * Errors: none.
 * Since: 0.1.0
 */
SVK_API void svk_relay_free(svk_relay *relay);

/*
 * svk_relay_ready — 1 while the relay runs and its last round succeeded
 * (it could claim, and publish what it claimed); 0 before its first
 * successful round, after a failed one (database or broker unavailable,
 * until a round succeeds again), and once stopped. For readiness probes.
 *
 * Ownership: relay borrowed (NULL gives 0).
 * Threads: safe from any thread.
 * Errors: none.
 * Since: 0.1.0
 */
SVK_API int svk_relay_ready(const svk_relay *relay);

/*
 * svk_relay_stats_read — copy the relay's figures into *out (see
 * svk_relay_stats). Reads atomics only: never blocks, never queries.
 *
 * Ownership: relay borrowed; out is the caller's, with out->size set
 *            (SVK_RELAY_STATS_INIT); only that many bytes are written.
 * Threads: safe from any thread, concurrently with the relay.
 * Errors: SVK_EINVAL (NULL argument, out->size 0 or larger than this
 *         library knows).
 * Since: 0.1.0
 */
SVK_API int svk_relay_stats_read(const svk_relay *relay, svk_relay_stats *out);

/*
 * svk_relay_last_error — the code of the relay's last failure (0: none
 * yet), with its detail ("publish: SVK_EUNAVAIL: ...") copied into buf,
 * NUL-terminated and truncated to size ("" when none).
 *
 * Ownership: relay borrowed; buf is the caller's (may be NULL if size is 0).
 * Threads: safe from any thread.
 * Errors: the return value is the answer, not a failure of this call
 *         (SVK_EINVAL for a NULL relay).
 * Since: 0.1.0
 */
SVK_API int svk_relay_last_error(const svk_relay *relay, char *buf, size_t size);

/*
 * svk_relay_lease — one partition lease, as svk_relay_leases reports it.
 * Every pointer is borrowed for the callback only.
 */
typedef struct svk_relay_lease {
    size_t size;            /* sizeof(svk_relay_lease) of the library */
    int partition;
    const char *holder;     /* the relay's id; NULL when free */
    int64_t token;          /* fencing token: takeovers so far */
    int64_t expires_in_ns;  /* negative once expired */
    int64_t depth;          /* ordered events waiting in this partition */
} svk_relay_lease;

/*
 * svk_relay_lease_fn — called once per lease row by svk_relay_leases.
 * Return 0 to go on; any other value stops the walk and is returned.
 */
typedef int (*svk_relay_lease_fn)(const svk_relay_lease *lease, void *user);

/*
 * svk_relay_leases — read the partition leases from the database (running
 * relays or not) and call fn for each, in partition order.
 *
 * What svkctl outbox status prints. Counting depth reads the waiting
 * ordered events once.
 * Ownership: pool and ctx borrowed; user passed to fn unchanged; err
 *            optional.
 * Threads: safe from any thread (the pool is); fn runs on the caller's.
 * Errors: SVK_EINVAL (pool or fn NULL); those of svk_pg_acquire and
 *         svk_pg_exec, with the message in err (nothing is called back
 *         then); or the non-zero value fn returned.
 * Since: 0.1.0
 */
SVK_API int svk_relay_leases(svk_pg_pool *pool, const svk_ctx *ctx, svk_relay_lease_fn fn,
                             void *user, svk_error *err);

#ifdef __cplusplus
}
#endif

#endif /* SVCKIT_RELAY_H */
