/*
 * svckit/outbox.h — the transactional outbox writer: record an event in the
 * same PostgreSQL transaction as the domain change it describes, so that
 * the event exists if and only if the change committed.
 *
 *     svk_tx *tx;
 *     svk_tx_begin(pool, ctx, SVK_TX_READ_COMMITTED, &tx);
 *     svk_tx_exec(tx, ctx, "INSERT INTO orders ...", ...);
 *     svk_outbox_put(tx, ctx, "orders.placed", order_id, json, json_len,
 *                    NULL, 0, NULL);
 *     svk_tx_commit(tx, ctx);
 *
 * The relay (svckit/relay.h) later publishes each committed event through
 * a broker (svckit/broker.h) with the event's id as the message id, and
 * deletes it; a rolled-back transaction leaves no event to publish.
 * docs/outbox.md describes the semantics (at-least-once, ordering, what a
 * crash does) and the tuning.
 *
 * What a put does:
 *  - Makes the event id, a UUIDv7 (svk_uuid_v7): the message id the
 *    consumer dedupes on, and the relay's claim order.
 *  - Checks the event against the broker rules of svckit/broker.h (topic,
 *    key, header names and values, at most 64 headers), so that an event
 *    which no broker would accept is refused now, in the writer's hands,
 *    rather than stalling the relay later.
 *  - Copies the ctx's W3C trace context (svk_ctx_traceparent) into a
 *    "traceparent" header, unless the caller passes one.
 *  - Inserts one row into svk_outbox (svk_pg_migrate creates it; schema
 *    version 3 or later) without a round trip of its own: the INSERT is
 *    sent ahead (libpq pipeline mode) and answered together with the
 *    transaction's next statement, usually its COMMIT. It is a statement
 *    the library prepares once per connection (named svk_outbox_put_v1;
 *    behind a transaction-mode pooler, enable the pooler's support for
 *    protocol-level prepared statements, such as PgBouncer's
 *    max_prepared_statements). A topic declared ordered
 *    (svk_outbox_order_topics) gets a sequence number from the database,
 *    the order the relay keeps per key (svckit/relay.h).
 *  - Queues the channel-only NOTIFY that wakes the relays, in the same
 *    statement (no round trip of its own), but only while some relay waits
 *    for one and none is awake (svk_outbox_wakeups). Every committing
 *    transaction that notified takes one lock for the whole database and
 *    holds it through its WAL flush, so notifying commits run one at a
 *    time; while a relay is awake (it claims again as long as claims find
 *    events) writers send nothing and commit in parallel. PostgreSQL folds
 *    identical notifications of one transaction into one, delivers it at
 *    commit and drops it at rollback (a rolled-back savepoint drops it too;
 *    the next put queues it again): at most one wake-up per transaction,
 *    however many events it writes. Not a per-row trigger: that would cost
 *    a trigger call per row. The channel is SVK_OUTBOX_CHANNEL_PREFIX
 *    followed by the name of the schema that holds svk_outbox (its md5 when
 *    longer than 52 bytes), so services sharing a database in schemas of
 *    their own wake only their own relays.
 *
 * Errors. A put that fails its checks (SVK_EINVAL), or is called with a
 * ctx already done, sends nothing and leaves the transaction as it was.
 * The INSERT's own failure (the database's) is reported by the statement
 * that carried it: the transaction's next svk_tx_exec (or any statement
 * run on svk_tx_conn), or svk_tx_commit, returns the put's error, its
 * message starting "svk_outbox_put (sent ahead, failed)", and the
 * transaction is in the failed state, as after any failed statement
 * (svckit/pg.h): commit then rolls back and returns the error. So an
 * event that could not be written never commits without its error being
 * seen. The detail is svk_pg_conn_last_error(svk_tx_conn(tx)).
 *
 * Threads: a transaction belongs to one thread (svckit/pg.h), and so do the
 * puts made in it.
 */
#ifndef SVCKIT_OUTBOX_H
#define SVCKIT_OUTBOX_H

#include <stddef.h>
#include <stdint.h>

#include "svckit/broker.h"
#include "svckit/core.h"
#include "svckit/ctx.h"
#include "svckit/pg.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The writer notifies, and the relay listens on, this prefix + the schema. */
#define SVK_OUTBOX_CHANNEL_PREFIX "svk_outbox."

/* Most events one svk_outbox_put_batch call takes. */
#define SVK_OUTBOX_BATCH_MAX 10000

/*
 * svk_outbox_event — one event of svk_outbox_put_batch. Start each from
 * SVK_OUTBOX_EVENT_INIT. Every pointer is borrowed for the call. size lets
 * later versions append fields; every element of one array carries the same
 * size, which the library uses as the array's stride.
 */
typedef struct svk_outbox_event {
    size_t size;               /* sizeof(svk_outbox_event) of the caller's header */
    const char *topic;         /* required: a broker topic ("orders.placed") */
    const char *key;           /* optional (NULL): ordering/partition key */
    const void *payload;       /* payload_len bytes; may be NULL if 0 */
    size_t payload_len;
    const svk_header *headers; /* header_count entries */
    size_t header_count;
    svk_uuid id; /* out: the event id, set by a successful svk_outbox_put_batch */
} svk_outbox_event;

#define SVK_OUTBOX_EVENT_INIT {.size = sizeof(svk_outbox_event)}

/*
 * svk_outbox_put — record one event in the caller's transaction.
 *
 * See the file comment for what is checked, added and sent. The event
 * becomes visible to the relay when tx commits, and is never published if
 * tx rolls back. topic and key follow the broker rules of svckit/broker.h;
 * headers are n name/value pairs (names unique ignoring case, at most 64
 * including the traceparent added from ctx). payload is copied to the
 * database as bytes (any content; NULL only with len 0). *id_out, when
 * id_out is not NULL, receives the event id.
 * Ownership: tx, ctx, topic, key, payload and headers borrowed for the
 *            call; id_out is the caller's.
 * Threads: the thread owning tx.
 * Errors: SVK_EINVAL (tx NULL or finished, an argument breaks the rules
 *         above; nothing sent, the transaction unaffected), SVK_ESTATE (tx
 *         is in the failed state), SVK_ETIMEDOUT / SVK_ECANCELED (ctx done
 *         before sending: nothing sent), SVK_ESYS (no random bytes for the
 *         id), SVK_ENOMEM, SVK_EUNAVAIL (the connection broke while
 *         sending). The INSERT's own errors (SVK_EDB, for example svk_outbox
 *         missing: run svk_pg_migrate; SVK_ECONFLICT; SVK_EUNAVAIL) come from
 *         the transaction's next statement or its commit, as the file
 *         comment says. *id_out is untouched on failure.
 * Since: 0.1.0
 */
SVK_API int svk_outbox_put(svk_tx *tx, const svk_ctx *ctx, const char *topic, const char *key,
                           const void *payload, size_t len, const svk_header *headers,
                           size_t n, svk_uuid *id_out);

/*
 * svk_outbox_put_batch — record n events in the caller's transaction with
 * one statement (the rows travel as array parameters), in array order.
 *
 * Each event is checked as svk_outbox_put checks it, and gets the ctx's
 * traceparent the same way; one bad event refuses the whole batch before
 * anything is sent. On success each events[i].id holds the event's id.
 * n == 0 sends nothing and returns 0.
 * Ownership: tx and ctx borrowed; events borrowed for the call (only the
 *            id fields are written); the statement's buffer is allocated
 *            and freed within the call.
 * Threads: the thread owning tx.
 * Errors: as svk_outbox_put, plus SVK_EINVAL for events NULL with n > 0,
 *         an element size this library does not know or n above
 *         SVK_OUTBOX_BATCH_MAX, SVK_ETOOBIG (the batch exceeds
 *         PostgreSQL's 1 GiB value limit) and SVK_ENOMEM. The ids are
 *         untouched on failure.
 * Since: 0.1.0
 */
SVK_API int svk_outbox_put_batch(svk_tx *tx, const svk_ctx *ctx, svk_outbox_event *events,
                                 size_t n);

/*
 * svk_outbox_order_topics — declare topics ordered per key: from now on
 * their events get a sequence number at insert and every relay publishes
 * them in that order, per key (svckit/relay.h). Idempotent.
 *
 * Call it at start-up, after svk_pg_migrate and before the first put of
 * those topics: events written before their topic is declared are relayed
 * without order. (A relay's ordered_topics option declares them too, but
 * only once that relay has started; a writer that starts first would race
 * it.) Taking a topic out of the order is done by hand: DELETE FROM
 * svk_outbox_ordered_topics.
 * Ownership: pool, ctx and topics borrowed for the call; err optional.
 * Threads: safe from any thread (the pool is).
 * Errors: SVK_EINVAL (pool NULL, topics NULL with n > 0, a name that is not
 *         a broker topic); those of svk_pg_acquire and svk_pg_exec, with the
 *         message in err (SVK_EDB: schema older than version 3).
 * Since: 0.1.0
 */
SVK_API int svk_outbox_order_topics(svk_pg_pool *pool, const svk_ctx *ctx,
                                    const char *const *topics, size_t n, svk_error *err);

/*
 * svk_outbox_status — a snapshot of svk_outbox, read by
 * svk_outbox_status_read. size is set by the caller
 * (SVK_OUTBOX_STATUS_INIT) so later versions can append fields.
 */
typedef struct svk_outbox_status {
    size_t size;
    int64_t depth;          /* events committed and not yet published */
    int64_t oldest_age_ns;  /* age of the oldest of them; 0 when there is none */
    int64_t ordered_depth;  /* of depth: events of ordered topics */
    int ordered_topics;     /* rows of svk_outbox_ordered_topics */
    int partitions;         /* lease rows (the relays' partition count; 0: none) */
    int partitions_held;    /* of those: held by a relay, lease not expired */
    int relays;             /* relays with ordered topics alive (membership rows) */
    int64_t dead_letters;   /* events relays set aside (svk_dead_letters rows of group
                               SVK_RELAY_DEAD_LETTER_GROUP, svckit/relay.h) not yet
                               replayed */
} svk_outbox_status;

#define SVK_OUTBOX_STATUS_INIT {.size = sizeof(svk_outbox_status)}

/*
 * svk_outbox_status_read — count the outbox backlog, as an operator wants
 * it (svkctl outbox status): exact figures from the database, whether any
 * relay runs or not.
 *
 * depth is an exact count(*), which reads the whole backlog: cheap for a
 * healthy outbox, a scan of the table for a large one. A running relay's
 * svk_relay_stats gives cheaper, estimated figures.
 * Ownership: pool and ctx borrowed; out is the caller's, with out->size set
 *            (SVK_OUTBOX_STATUS_INIT), and only that many bytes are
 *            written; err optional.
 * Threads: safe from any thread (the pool is).
 * Errors: SVK_EINVAL (pool or out NULL, out->size 0 or larger than this
 *         library knows); those of svk_pg_acquire and svk_pg_exec, with the
 *         server's message in err (SVK_EDB when the tables are missing: run
 *         svk_pg_migrate). *out is untouched on failure.
 * Since: 0.1.0
 */
SVK_API int svk_outbox_status_read(svk_pg_pool *pool, const svk_ctx *ctx,
                                   svk_outbox_status *out, svk_error *err);

#ifdef __cplusplus
}
#endif

#endif /* SVCKIT_OUTBOX_H */
