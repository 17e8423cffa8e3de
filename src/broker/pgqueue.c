/*
 * pgqueue.c — the PostgreSQL queue broker: construction, subscriptions and
 * the one connection each subscription keeps.
 *
 * Why a subscription holds a connection for its whole life: it must LISTEN
 * to be woken, and a connection that has listened is closed rather than
 * pooled at release (svckit/pg.h), so taking one per fetch would reconnect
 * every time. Fetch and settle run on the same connection, which the
 * subscription's thread owns anyway, so a consumer costs one connection
 * and never waits for the pool in its loop. When that connection is lost
 * it is released (the pool closes it) and the next call opens another;
 * the claims made on it are fenced by row and attempt, not by connection,
 * so deliveries fetched before the loss still settle.
 *
 * The statements live next to the code that runs them: publish in
 * pgqueue_publish.c, fetch in pgqueue_fetch.c, settles in pgqueue_settle.c.
 */
#include "broker/pgqueue_impl.h"
#include "broker/pg_array.h"
#include "core/error_detail.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#define DEFAULT_POLL_INTERVAL_NS (250 * INT64_C(1000000))
#define DEFAULT_VACUUM_EVERY 2000

static int pgq_subscribe(svk_broker *b, const svk_ctx *ctx, const char *group,
                         const char *const *topics, size_t ntopics,
                         const svk__subscribe_config *config, svk_subscription **out);
static void pgq_subscription_free(svk_subscription *s);
static void pgq_broker_free(svk_broker *b);

static const svk__broker_ops pgqueue_ops = {
    .version = SVK__BROKER_OPS_VERSION,
    .name = "pgqueue",
    .publish = svk__pgq_publish,
    .subscribe = pgq_subscribe,
    .fetch = svk__pgq_fetch,
    .ack = svk__pgq_ack,
    .nack = svk__pgq_nack,
    .term = svk__pgq_term,
    .delivery_free = svk__pgq_delivery_free,
    .subscription_free = pgq_subscription_free,
    .broker_free = pgq_broker_free,
};

/* ------------------------------------------------------------ construction */

static int read_options(svk_pgqueue_options *o, const svk_pgqueue_options *in, svk_error *err)
{
    if (in == NULL || in->size == 0 || in->size > sizeof *o)
        return svk__error_set(err, SVK_EINVAL, "svk_pgqueue_options missing or size unknown");
    memset(o, 0, sizeof *o);
    memcpy(o, in, in->size);
    if (o->pool == NULL)
        return svk__error_set(err, SVK_EINVAL, "svk_pgqueue_options.pool is required");
    if (o->poll_interval_ns < 0)
        return svk__error_set(err, SVK_EINVAL, "poll_interval_ns is negative");
    if (o->poll_interval_ns == 0)
        o->poll_interval_ns = DEFAULT_POLL_INTERVAL_NS;
    if (o->vacuum_every < SVK_PGQUEUE_NO_VACUUM)
        return svk__error_set(err, SVK_EINVAL, "vacuum_every is negative");
    if (o->vacuum_every == 0)
        o->vacuum_every = DEFAULT_VACUUM_EVERY;
    if (o->notify_channel == NULL)
        o->notify_channel = SVK_PGQUEUE_DEFAULT_CHANNEL;
    size_t len = strnlen(o->notify_channel, SVK__PGQ_CHANNEL_MAX + 1);
    if (len == 0 || len > SVK__PGQ_CHANNEL_MAX)
        return svk__error_set(err, SVK_EINVAL, "notify_channel must be 1..%d bytes",
                              SVK__PGQ_CHANNEL_MAX);
    return 0;
}

SVK_API int svk_pgqueue_new(svk_broker **out, const svk_pgqueue_options *opts, svk_error *err)
{
    if (out == NULL)
        return svk__error_set(err, SVK_EINVAL, "out is NULL");
    *out = NULL;
    svk_pgqueue_options o;
    int rc = read_options(&o, opts, err);
    if (rc != 0)
        return rc;
    svk__pgqueue *q = svk_malloc(sizeof *q);
    if (q == NULL)
        return svk__error_set(err, SVK_ENOMEM, "out of memory");
    memset(q, 0, sizeof *q);
    q->base.ops = &pgqueue_ops;
    q->pool = o.pool;
    q->poll_interval_ns = o.poll_interval_ns;
    q->vacuum_every = o.vacuum_every > 0 ? o.vacuum_every : 0;
    atomic_init(&q->settles, 0);
    snprintf(q->channel, sizeof q->channel, "%s", o.notify_channel);
    *out = &q->base;
    return 0;
}

static void pgq_broker_free(svk_broker *b)
{
    svk_free(b);
}

/* ------------------------------------------------------------- connection */

void svk__pgq_us_text(int64_t ns, char out[24])
{
    int64_t us = ns / 1000 + (ns % 1000 != 0);
    snprintf(out, 24, "%" PRId64, us);
}

int svk__pgq_acquire(svk__pgqueue *q, const svk_ctx *ctx, svk_pg_conn **out)
{
    int rc = svk_pg_acquire(q->pool, ctx, out);
    if (rc == 0)
        return 0;
    char why[256];
    svk_pg_pool_last_error(q->pool, why, sizeof why);
    return svk__broker_fail(rc, "no database connection: %s%s%s", svk_strerror(rc),
                            why[0] ? ": " : "", why);
}

int svk__pgq_conn(svk__pgq_subscription *s, const svk_ctx *ctx)
{
    if (s->conn != NULL)
        return 0;
    svk_pg_conn *c = NULL;
    int rc = svk__pgq_acquire(s->q, ctx, &c);
    if (rc != 0)
        return rc;
    rc = svk_pg_listen(c, ctx, s->q->channel);
    if (rc != 0) {
        svk__broker_fail(rc, "LISTEN: %s", svk_pg_conn_last_error(c));
        svk_pg_release(c);
        return rc;
    }
    s->conn = c;
    return 0;
}

int svk__pgq_conn_fail(svk__pgq_subscription *s, int rc, const char *doing)
{
    svk__broker_fail(rc, "%s: %s: %s", doing, svk_strerror(rc), svk_pg_conn_last_error(s->conn));
    if (rc == SVK_EUNAVAIL) {
        svk_pg_release(s->conn);
        s->conn = NULL;
    }
    return rc;
}

/* ----------------------------------------------------------- subscription */

/* The group's durable interest: rows the publish statement joins against. */
static const char register_sql[] =
    "INSERT INTO svk_queue_subscriptions (group_name, topic_pattern)"
    " SELECT $1, t FROM unnest($2::text[]) AS t"
    " ON CONFLICT (group_name, topic_pattern) DO NOTHING";

static int encode_topics(svk_buf *b, const char *const *topics, size_t n)
{
    size_t data = 0;
    for (size_t i = 0; i < n; i++)
        data += strlen(topics[i]);
    int rc = svk_buf_reserve(b, svk__pg_array_size(n, data));
    if (rc == 0)
        rc = svk__pg_array_begin(b, SVK__PG_OID_TEXT, n);
    for (size_t i = 0; i < n && rc == 0; i++)
        rc = svk__pg_array_add(b, topics[i], strlen(topics[i]));
    return rc != 0 ? svk__broker_fail(rc, "out of memory") : 0;
}

static int register_interest(svk__pgq_subscription *s, const svk_ctx *ctx)
{
    const char *values[] = {s->group, (const char *)s->topics.data};
    int lengths[] = {0, (int)s->topics.len};
    int formats[] = {SVK_PG_TEXT, SVK_PG_BINARY};
    int rc = svk_pg_exec(s->conn, ctx, register_sql, 2, values, lengths, formats, NULL);
    return rc != 0 ? svk__pgq_conn_fail(s, rc, "registering the group's topics") : 0;
}

static int pgq_subscribe(svk_broker *b, const svk_ctx *ctx, const char *group,
                         const char *const *topics, size_t ntopics,
                         const svk__subscribe_config *config, svk_subscription **out)
{
    svk__pgq_subscription *s = svk_malloc(sizeof *s);
    if (s == NULL)
        return svk__broker_fail(SVK_ENOMEM, "out of memory");
    memset(s, 0, sizeof *s);
    s->base.broker = b;
    s->base.config = *config;
    s->q = (svk__pgqueue *)b;
    snprintf(s->group, sizeof s->group, "%s", group);
    svk__pgq_us_text(config->ack_wait_ns, s->ack_wait_us);
    int rc = encode_topics(&s->topics, topics, ntopics);
    if (rc == 0)
        rc = svk__pgq_conn(s, ctx);
    if (rc == 0)
        rc = register_interest(s, ctx);
    if (rc != 0) {
        pgq_subscription_free(&s->base);
        return rc;
    }
    *out = &s->base;
    return 0;
}

static void pgq_subscription_free(svk_subscription *base)
{
    svk__pgq_subscription *s = (svk__pgq_subscription *)base;
    svk_pg_release(s->conn); /* it listened: the pool closes it */
    svk_buf_free(&s->topics);
    svk_free(s);
}
