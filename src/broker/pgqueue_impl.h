/*
 * pgqueue_impl.h — internal: the PostgreSQL queue's objects, shared by
 * pgqueue.c (construction, subscriptions, the dedicated connection),
 * pgqueue_publish.c, pgqueue_fetch.c and pgqueue_settle.c.
 *
 * Threads: a pgqueue is immutable after svk_pgqueue_new but for one atomic
 * counter (settles since the last vacuum), so publishers and subscribers on
 * many threads share it without a lock (the pool locks itself). A
 * subscription, its connection and its deliveries belong to one thread at a
 * time (svckit/broker.h), so nothing in them is locked either.
 */
#ifndef SVK_BROKER_PGQUEUE_IMPL_H
#define SVK_BROKER_PGQUEUE_IMPL_H

#include <stdatomic.h>

#include "broker/broker_impl.h"
#include "svckit/pg.h"
#include "svckit/pgqueue.h"

#define SVK__PGQ_CHANNEL_MAX 63 /* PostgreSQL's NAMEDATALEN - 1 */
#define SVK__PGQ_GROUP_MAX 100

typedef struct svk__pgqueue {
    svk_broker base; /* first: a svk_broker * is a svk__pgqueue * */
    svk_pg_pool *pool;
    int64_t poll_interval_ns;
    int64_t vacuum_every; /* 0: never */
    atomic_llong settles; /* since the last vacuum this broker ran */
    char channel[SVK__PGQ_CHANNEL_MAX + 1];
} svk__pgqueue;

typedef struct svk__pgq_subscription {
    svk_subscription base;
    svk__pgqueue *q;
    /* Held from subscribe to free: LISTEN, fetch and settle all run on it.
     * NULL after the connection was lost; the next call opens another. */
    svk_pg_conn *conn;
    svk_buf topics; /* the subscribed topics as a binary text[] parameter */
    char group[SVK__PGQ_GROUP_MAX + 1];
    char ack_wait_us[24]; /* the ack wait in microseconds, as SQL text */
} svk__pgq_subscription;

typedef struct svk__pgq_delivery {
    svk_delivery base;
    int64_t row_id;  /* svk_queue.id of the claimed row */
    int32_t attempt; /* svk_queue.attempt set by the claim: the fence */
    /* The headers, the strings and the payload follow in this allocation. */
} svk__pgq_delivery;

/* A connection from the broker's pool; the failure recorded with its reason. */
int svk__pgq_acquire(svk__pgqueue *q, const svk_ctx *ctx, svk_pg_conn **out);

/* The subscription's connection, opened (and LISTENing) if it has none. */
int svk__pgq_conn(svk__pgq_subscription *s, const svk_ctx *ctx);

/*
 * After a failed statement on the subscription's connection: record the
 * server's detail (svk__broker_fail) prefixed by doing, close the
 * connection if it was lost, and return rc.
 */
int svk__pgq_conn_fail(svk__pgq_subscription *s, int rc, const char *doing);

/*
 * Before a claim: if vacuum_every settles have passed since the last one,
 * VACUUM svk_queue on the subscription's connection (pgqueue_vacuum.c).
 * Never fails the fetch: a failed vacuum is retried after as many settles.
 */
void svk__pgq_maybe_vacuum(svk__pgq_subscription *s, const svk_ctx *ctx);

/* A microsecond count for SQL, rounded up so a delay is never shortened. */
void svk__pgq_us_text(int64_t ns, char out[24]);

int svk__pgq_publish(svk_broker *b, const svk_ctx *ctx, const svk_message *msgs, size_t n);
int svk__pgq_fetch(svk_subscription *s, const svk_ctx *ctx, size_t max, int64_t deadline_ns,
                   svk_delivery **out, size_t *count);
int svk__pgq_ack(svk_delivery *d, const svk_ctx *ctx, bool *taken);
int svk__pgq_nack(svk_delivery *d, const svk_ctx *ctx, int64_t delay_ns, bool *taken);
int svk__pgq_term(svk_delivery *d, const svk_ctx *ctx, bool *taken);
void svk__pgq_delivery_free(svk_delivery *d);

#endif
