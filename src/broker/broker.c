/*
 * broker.c — the public functions of svckit/broker.h: check the arguments
 * once, then dispatch through the implementation's svk__broker_ops.
 *
 * Everything that must behave the same on every broker lives here rather
 * than in the adapters: argument checks and option defaults, the fetch
 * deadline (wait_ns folded into the ctx deadline), the settle state machine
 * (a delivery settles once; one found taken by another fetcher is over),
 * and the last-error text, kept per thread because a broker is shared by
 * threads and each wants the detail of its own failed call.
 */
#include "broker/broker_impl.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define LAST_ERROR_SIZE 512

static _Thread_local char last_error[LAST_ERROR_SIZE];

int svk__broker_fail(int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(last_error, sizeof last_error, fmt, ap);
    va_end(ap);
    return code;
}

/* Each public call starts clean, so the text always belongs to the last call. */
static void clear_error(void)
{
    last_error[0] = '\0';
}

/* A ctx that is already done: its code, recorded; 0 when it is live. */
static int ctx_done(const svk_ctx *ctx)
{
    int why = svk_ctx_err(ctx);
    return why == 0 ? 0 : svk__broker_fail(why, "%s before the call", svk_strerror(why));
}

SVK_API const char *svk_broker_name(const svk_broker *b)
{
    return b != NULL ? b->ops->name : "";
}

SVK_API const char *svk_broker_last_error(const svk_broker *b)
{
    (void)b; /* per thread, not per broker: see the header */
    return last_error;
}

SVK_API int svk_broker_publish(svk_broker *b, const svk_ctx *ctx, const svk_message *msgs,
                               size_t n)
{
    clear_error();
    if (b == NULL)
        return svk__broker_fail(SVK_EINVAL, "broker is NULL");
    if (n == 0)
        return 0;
    int rc = svk__broker_check_batch(msgs, n);
    if (rc == 0)
        rc = ctx_done(ctx);
    return rc != 0 ? rc : b->ops->publish(b, ctx, msgs, n);
}

/* opts (NULL: all defaults) into a config; SVK_EINVAL if it makes no sense. */
static int read_subscribe_options(const svk_subscribe_options *opts, svk__subscribe_config *c)
{
    svk_subscribe_options o = SVK_SUBSCRIBE_OPTIONS_INIT;
    if (opts != NULL) {
        if (opts->size == 0 || opts->size > sizeof o)
            return svk__broker_fail(SVK_EINVAL, "svk_subscribe_options.size is %zu, "
                                    "expected 1..%zu", opts->size, sizeof o);
        memcpy(&o, opts, opts->size);
    }
    if (o.ack_wait_ns < 0 || o.max_batch < 0)
        return svk__broker_fail(SVK_EINVAL, "ack_wait_ns and max_batch must not be negative");
    c->ack_wait_ns = o.ack_wait_ns != 0 ? o.ack_wait_ns : SVK__DEFAULT_ACK_WAIT_NS;
    c->max_batch = o.max_batch != 0 ? o.max_batch : SVK__DEFAULT_MAX_BATCH;
    return 0;
}

static int check_topics(const char *const *topics, size_t ntopics)
{
    if (topics == NULL || ntopics == 0)
        return svk__broker_fail(SVK_EINVAL, "a subscription needs at least one topic");
    for (size_t i = 0; i < ntopics; i++)
        if (!svk__broker_topic_valid(topics[i]))
            return svk__broker_fail(SVK_EINVAL, "topic %zu is not a valid topic name", i);
    return 0;
}

SVK_API int svk_broker_subscribe(svk_broker *b, const svk_ctx *ctx, const char *group,
                                 const char *const *topics, size_t ntopics,
                                 const svk_subscribe_options *opts, svk_subscription **out)
{
    clear_error();
    if (out == NULL)
        return svk__broker_fail(SVK_EINVAL, "out is NULL");
    *out = NULL;
    if (b == NULL)
        return svk__broker_fail(SVK_EINVAL, "broker is NULL");
    if (!svk__broker_group_valid(group))
        return svk__broker_fail(SVK_EINVAL, "group must be 1..100 bytes of [A-Za-z0-9_-]");
    svk__subscribe_config config;
    int rc = check_topics(topics, ntopics);
    if (rc == 0)
        rc = read_subscribe_options(opts, &config);
    if (rc == 0)
        rc = ctx_done(ctx);
    return rc != 0 ? rc : b->ops->subscribe(b, ctx, group, topics, ntopics, &config, out);
}

SVK_API void svk_broker_free(svk_broker *b)
{
    if (b != NULL)
        b->ops->broker_free(b);
}

/* now + wait_ns, never past the ctx deadline, without overflowing. */
static int64_t fetch_deadline(const svk_ctx *ctx, int64_t wait_ns)
{
    int64_t now = svk_clock_mono_ns();
    int64_t own = wait_ns > INT64_MAX - now ? INT64_MAX : now + wait_ns;
    int64_t theirs = svk_ctx_deadline(ctx);
    return theirs < own ? theirs : own;
}

SVK_API int svk_subscription_fetch(svk_subscription *s, const svk_ctx *ctx, size_t max,
                                   int64_t wait_ns, svk_delivery **out, size_t *count)
{
    clear_error();
    if (count == NULL)
        return svk__broker_fail(SVK_EINVAL, "count is NULL");
    *count = 0;
    if (s == NULL || out == NULL)
        return svk__broker_fail(SVK_EINVAL, "subscription or out is NULL");
    if (max == 0 || max > (size_t)s->config.max_batch || wait_ns < 0)
        return svk__broker_fail(SVK_EINVAL, "max must be 1..%d and wait_ns >= 0",
                                s->config.max_batch);
    int why = svk_ctx_err(ctx);
    if (why == SVK_ECANCELED)
        return svk__broker_fail(why, "the ctx was cancelled");
    if (why != 0)
        return 0; /* a deadline already passed is an empty fetch, not an error */
    return s->broker->ops->fetch(s, ctx, max, fetch_deadline(ctx, wait_ns), out, count);
}

SVK_API void svk_subscription_free(svk_subscription *s)
{
    if (s != NULL)
        s->broker->ops->subscription_free(s);
}

SVK_API const svk_message *svk_delivery_message(const svk_delivery *d)
{
    return d != NULL ? &d->message : NULL;
}

enum settle_kind { SETTLE_ACK, SETTLE_NACK, SETTLE_TERM };

static int settle(svk_delivery *d, const svk_ctx *ctx, enum settle_kind kind, int64_t delay_ns)
{
    clear_error();
    if (d == NULL)
        return svk__broker_fail(SVK_EINVAL, "delivery is NULL");
    if (d->state == SVK__DELIVERY_SETTLED)
        return svk__broker_fail(SVK_ESTATE, "the delivery is settled already");
    if (d->state == SVK__DELIVERY_TAKEN)
        return svk__broker_fail(SVK_ESTATE, "the delivery was found taken by another fetch");
    if (delay_ns < 0)
        return svk__broker_fail(SVK_EINVAL, "negative nack delay");
    int rc = ctx_done(ctx);
    if (rc != 0)
        return rc;
    const svk__broker_ops *ops = d->sub->broker->ops;
    bool taken = false;
    if (kind == SETTLE_ACK)
        rc = ops->ack(d, ctx, &taken);
    else if (kind == SETTLE_NACK)
        rc = ops->nack(d, ctx, delay_ns, &taken);
    else
        rc = ops->term(d, ctx, &taken);
    if (rc == 0)
        d->state = SVK__DELIVERY_SETTLED;
    else if (taken)
        d->state = SVK__DELIVERY_TAKEN;
    return rc;
}

SVK_API int svk_delivery_ack(svk_delivery *d, const svk_ctx *ctx)
{
    return settle(d, ctx, SETTLE_ACK, 0);
}

SVK_API int svk_delivery_nack(svk_delivery *d, const svk_ctx *ctx, int64_t delay_ns)
{
    return settle(d, ctx, SETTLE_NACK, delay_ns);
}

SVK_API int svk_delivery_term(svk_delivery *d, const svk_ctx *ctx)
{
    return settle(d, ctx, SETTLE_TERM, 0);
}

SVK_API void svk_delivery_free(svk_delivery *d)
{
    if (d != NULL)
        d->sub->broker->ops->delivery_free(d);
}
