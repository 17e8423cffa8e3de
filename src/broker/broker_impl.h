/*
 * broker_impl.h — internal: how a broker implementation plugs into the
 * public functions of svckit/broker.h.
 *
 * broker.c owns everything the implementations share: argument and message
 * validation (so every broker refuses the same inputs), the settle state
 * machine (SVK_ESTATE on a second settle), option defaults, and the
 * per-thread last error. An implementation (pgqueue.c, later nats.c) only
 * talks to its backend. Its objects embed the base structs below as their
 * FIRST member, so a pointer to one is a pointer to the other:
 *
 *     typedef struct pgq_subscription { svk_subscription base; ... } ...;
 *
 * and it fills a const svk__broker_ops table, whose version says which
 * members this table has: members are only ever appended, with a version
 * bump, and broker.c checks the version before calling one added later, so
 * an adapter written against an older table keeps working.
 */
#ifndef SVK_BROKER_IMPL_H
#define SVK_BROKER_IMPL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "svckit/broker.h"

#define SVK__BROKER_OPS_VERSION 1

#define SVK__DEFAULT_ACK_WAIT_NS (30 * INT64_C(1000000000))
#define SVK__DEFAULT_MAX_BATCH 64

/* A subscription's options after validation, defaults filled in. */
typedef struct svk__subscribe_config {
    int64_t ack_wait_ns; /* > 0 */
    int max_batch;       /* > 0 */
} svk__subscribe_config;

typedef struct svk__broker_ops svk__broker_ops;

struct svk_broker {
    const svk__broker_ops *ops;
};

struct svk_subscription {
    svk_broker *broker;
    svk__subscribe_config config;
};

/* Settle state of a delivery: broker.c moves it, adapters never do. */
enum svk__delivery_state {
    SVK__DELIVERY_OPEN = 0, /* fetched, not settled */
    SVK__DELIVERY_SETTLED,  /* ack, nack or term succeeded */
    SVK__DELIVERY_TAKEN     /* a settle found the claim lost (SVK_ETIMEDOUT) */
};

struct svk_delivery {
    svk_subscription *sub;
    svk_message message; /* pointers into the adapter's storage */
    int state;           /* enum svk__delivery_state */
};

/*
 * The operations of one implementation. broker.c has validated every
 * argument before calling them (messages, names, counts, settle state) and
 * has cleared the thread's last error; they report detail with
 * svk__broker_fail. Return codes are those of svckit/broker.h.
 *
 * fetch gets an absolute deadline (monotonic ns) that already combines
 * wait_ns with the ctx deadline; reaching it is "0, *count = 0". Its
 * deliveries must have base.sub set and base.message filled.
 *
 * ack, nack and term set *taken (and return SVK_ETIMEDOUT) when the claim
 * of the delivery is gone: fetched again, or the message no longer there
 * for the group. broker.c then closes the delivery. Any other failure — a
 * ctx deadline included, even though it is SVK_ETIMEDOUT too — leaves
 * *taken false and the delivery open, so the caller may settle it again.
 */
struct svk__broker_ops {
    int version; /* SVK__BROKER_OPS_VERSION when written */
    const char *name;
    int (*publish)(svk_broker *b, const svk_ctx *ctx, const svk_message *msgs, size_t n);
    int (*subscribe)(svk_broker *b, const svk_ctx *ctx, const char *group,
                     const char *const *topics, size_t ntopics,
                     const svk__subscribe_config *config, svk_subscription **out);
    int (*fetch)(svk_subscription *s, const svk_ctx *ctx, size_t max, int64_t deadline_ns,
                 svk_delivery **out, size_t *count);
    int (*ack)(svk_delivery *d, const svk_ctx *ctx, bool *taken);
    int (*nack)(svk_delivery *d, const svk_ctx *ctx, int64_t delay_ns, bool *taken);
    int (*term)(svk_delivery *d, const svk_ctx *ctx, bool *taken);
    void (*delivery_free)(svk_delivery *d);
    void (*subscription_free)(svk_subscription *s);
    void (*broker_free)(svk_broker *b);
};

/*
 * Record the calling thread's last broker error (printf-style) and return
 * code, so a failure path reads: return svk__broker_fail(SVK_EUNAVAIL, ...).
 */
int svk__broker_fail(int code, const char *fmt, ...) SVK_PRINTF(2, 3);

/* Checks shared with adapters that accept names of their own (1 = valid). */
bool svk__broker_topic_valid(const char *topic);
bool svk__broker_group_valid(const char *group);

/*
 * Validate a publish batch as svk_broker_publish does: 0, or SVK_EINVAL
 * with the reason recorded (svk__broker_fail). Lives in message.c.
 */
int svk__broker_check_batch(const svk_message *msgs, size_t n);

#endif
