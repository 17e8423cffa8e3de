/*
 * svckit/pgqueue.h — the PostgreSQL queue: the embedded default broker,
 * an implementation of svckit/broker.h on the svk_queue tables.
 *
 * Nothing but PostgreSQL is needed: publishing inserts one row per message
 * per consumer group subscribed to its topic (svk_queue_subscriptions),
 * and a fetch claims rows with FOR UPDATE SKIP LOCKED for the ack wait.
 * The whole contract of broker.h holds; what this implementation adds:
 *
 *  - Tables: created by svk_pg_migrate (schema version 2 or later), in the
 *    first schema of the pool's search_path. svk_pgqueue_new does not
 *    connect and does not migrate; run svk_pg_migrate at start-up.
 *  - Publish: one statement, one round trip and one transaction per batch,
 *    and one channel-only NOTIFY per batch that queued anything. A topic no
 *    group subscribes to stores nothing. A message id already queued for a
 *    group is not queued again for it; once acked (deleted) it would be:
 *    the consumer's dedupe table covers that case.
 *  - Fetch: each subscription holds one connection of the pool from
 *    svk_broker_subscribe until svk_subscription_free (size the pool for
 *    the subscriptions plus the publishers). It LISTENs on the notify
 *    channel and polls every poll_interval_ns as well, so a wake-up lost
 *    with a connection costs one interval, never a message; a message
 *    whose ack wait or nack delay runs out is also found by that poll.
 *  - Settle: ack and term delete the row; nack makes it available again
 *    at now + delay. All three are fenced: they act only on the claim this
 *    delivery made, so after the ack wait a settle succeeds unless another
 *    fetch has claimed the message since (then SVK_ETIMEDOUT).
 *  - Vacuum: every row dies young (a fetch leaves a dead version, an ack a
 *    dead row), and autovacuum wakes only every autovacuum_naptime (one
 *    minute by default, for the whole server), so between its runs dead
 *    rows pile up at the head of the fetch index and every fetch walks
 *    them. So, like PgQ's pgqd, the broker vacuums its own table: after
 *    vacuum_every settles, the next fetch first runs VACUUM (SKIP_LOCKED)
 *    svk_queue, which on a table kept small takes milliseconds. It needs
 *    the connecting role to own svk_queue (the role that ran
 *    svk_pg_migrate); otherwise PostgreSQL skips it with a warning.
 *    docs/broker.md has the measurements.
 *  - Order: per group, messages are fetched in order of availability, then
 *    of publication; a batch is stored in its order.
 *  - Errors: the codes of svckit/pg.h pass through (SVK_EUNAVAIL when the
 *    database is down, SVK_EBUSY when the pool has no free connection in
 *    time, SVK_EDB for a missing table: run svk_pg_migrate). A lost
 *    connection is replaced at the subscription's next call.
 */
#ifndef SVCKIT_PGQUEUE_H
#define SVCKIT_PGQUEUE_H

#include <stddef.h>
#include <stdint.h>

#include "svckit/broker.h"
#include "svckit/core.h"
#include "svckit/pg.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The notify channel used when svk_pgqueue_options.notify_channel is NULL. */
#define SVK_PGQUEUE_DEFAULT_CHANNEL "svk_queue"

/*
 * svk_pgqueue_options — how svk_pgqueue_new builds the broker. Start from
 * SVK_PGQUEUE_OPTIONS_INIT and set pool; zero in any other field means its
 * default. size lets later versions append fields.
 */
typedef struct svk_pgqueue_options {
    size_t size;              /* sizeof(svk_pgqueue_options) of the caller's header */
    svk_pg_pool *pool;        /* required; borrowed, must outlive the broker */
    int64_t poll_interval_ns; /* fetch re-checks this often while waiting; 250 ms */
    const char *notify_channel; /* copied; 1..63 bytes; default "svk_queue".
                                   Publishers and fetchers must agree on it. */
    int64_t vacuum_every; /* settles (this broker's) between two VACUUMs of
                             svk_queue run by a fetch; default 2000;
                             SVK_PGQUEUE_NO_VACUUM: leave it to autovacuum */
} svk_pgqueue_options;

/* svk_pgqueue_options.vacuum_every: never VACUUM from the broker. */
#define SVK_PGQUEUE_NO_VACUUM (-1)

#define SVK_PGQUEUE_OPTIONS_INIT {.size = sizeof(svk_pgqueue_options)}

/*
 * svk_pgqueue_new — make a PostgreSQL queue broker on opts->pool.
 *
 * No connection is opened here, so a service may start before its database.
 * Use the result through svckit/broker.h; svk_broker_name gives "pgqueue".
 * Ownership: *out is new, free it with svk_broker_free; opts and its strings
 *            are read during the call only; the pool is borrowed until the
 *            broker is freed; err optional.
 * Threads: any thread. The broker is then safe from any thread.
 * Errors: SVK_EINVAL (out or opts NULL, opts->size 0 or larger than this
 *         library knows, pool NULL, poll_interval_ns negative,
 *         notify_channel empty or longer than 63 bytes, vacuum_every
 *         negative but not SVK_PGQUEUE_NO_VACUUM), SVK_ENOMEM. *out
 *         is NULL on failure.
 * Since: 0.1.0
 */
SVK_API int svk_pgqueue_new(svk_broker **out, const svk_pgqueue_options *opts, svk_error *err);

#ifdef __cplusplus
}
#endif

#endif /* SVCKIT_PGQUEUE_H */
