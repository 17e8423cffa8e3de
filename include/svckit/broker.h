/*
 * svckit/broker.h — the one interface every message broker implements.
 *
 * A broker carries envelopes (svk_message): an id (UUIDv7, the dedupe key
 * from the outbox to the consumer), a topic, an optional key, headers (the
 * W3C traceparent among them), a payload and, on delivery, the attempt
 * number. Two implementations ship: the PostgreSQL queue (svckit/pgqueue.h,
 * the embedded default) and NATS JetStream (a later module). Code written
 * against this header — the outbox relay, the idempotent consumer — works
 * with either.
 *
 * Semantics every implementation keeps (the contract test suite in
 * tests/broker/ checks them against each one):
 *  - svk_broker_publish returns 0 only once the broker has durably accepted
 *    every message of the batch. On failure some may have been accepted:
 *    publish the whole batch again (delivery is at-least-once; ids dedupe).
 *  - A subscription belongs to a consumer group. Every group subscribed to
 *    a topic receives each message of that topic (fan-out); within a group,
 *    each message goes to one fetcher at a time.
 *  - A fetched delivery is invisible to the group's other fetchers until it
 *    is settled or its ack wait (visibility timeout) passes; then it is
 *    delivered again with attempt + 1. So a crashed consumer loses nothing.
 *  - ack: done, never delivered again. nack(delay): delivered again after
 *    at least delay. term: never delivered again (the caller dead-letters
 *    it first). Settling twice is SVK_ESTATE.
 *  - A settle after the ack wait passed fails with SVK_ETIMEDOUT once the
 *    message has been fetched again (it changes nothing: the new fetcher
 *    owns it). Before that, an implementation may still accept it (pgqueue
 *    does).
 *  - Names: a topic is 1..200 bytes of [A-Za-z0-9._-] made of non-empty
 *    dot-separated segments ("orders.created"; not ".a", "a..b", "a.");
 *    a group is 1..100 bytes of [A-Za-z0-9_-]. A key is NULL or 1..1024
 *    bytes of UTF-8 without control characters. A header name is 1..128
 *    bytes of HTTP token characters (RFC 9110 tchar), unique ignoring case,
 *    not starting with "Nats-" or "Svk-" (reserved for the brokers); a
 *    value is at most 8192 bytes of UTF-8 without control characters other
 *    than tab. At most 64 headers per message. These are the rules both
 *    brokers can carry unchanged (NATS subjects and headers included).
 *
 * Threads: a broker is safe from any thread (publish and subscribe
 * concurrently). A subscription and its deliveries belong to one thread at
 * a time; use one subscription per consumer thread.
 */
#ifndef SVCKIT_BROKER_H
#define SVCKIT_BROKER_H

#include <stddef.h>
#include <stdint.h>

#include "svckit/core.h"
#include "svckit/ctx.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct svk_broker svk_broker;
typedef struct svk_subscription svk_subscription;
typedef struct svk_delivery svk_delivery;

/* A message header: NUL-terminated name and value. Layout frozen. */
typedef struct svk_header {
    const char *name;
    const char *value;
} svk_header;

/*
 * svk_message — the envelope. On publish the caller fills it (start from
 * SVK_MESSAGE_INIT; every pointer is borrowed for the call); on delivery the
 * library fills it (every pointer borrowed until the delivery is freed).
 * size lets later versions append fields; in an array passed to
 * svk_broker_publish every element carries the same size, which the library
 * uses as the array's stride.
 */
typedef struct svk_message {
    size_t size;               /* sizeof(svk_message) of the caller's header */
    svk_uuid id;               /* required on publish: the message id */
    const char *topic;         /* required: 1..200 bytes, [A-Za-z0-9._-] */
    const char *key;           /* optional (NULL): ordering/partition key */
    const svk_header *headers; /* header_count entries, names unique */
    size_t header_count;
    const void *payload; /* payload_len bytes, any content, may be NULL if 0 */
    size_t payload_len;
    int attempt; /* on delivery: 1 the first time, then 2, 3, ...; ignored on publish */
} svk_message;

#define SVK_MESSAGE_INIT {.size = sizeof(svk_message)}

/*
 * svk_subscribe_options — how a subscription fetches. Start from
 * SVK_SUBSCRIBE_OPTIONS_INIT; zero means the default.
 */
typedef struct svk_subscribe_options {
    size_t size;
    int64_t ack_wait_ns; /* visibility timeout of a fetched delivery; 30 s */
    int max_batch;       /* most deliveries one fetch returns; default 64 */
} svk_subscribe_options;

#define SVK_SUBSCRIBE_OPTIONS_INIT {.size = sizeof(svk_subscribe_options)}

/*
 * svk_broker_name — which implementation this is ("pgqueue", "nats").
 *
 * Ownership: static string. Threads: safe from any thread. Errors: none.
 * Since: 0.1.0
 */
SVK_API const char *svk_broker_name(const svk_broker *b);

/*
 * svk_broker_publish — publish a batch and wait until the broker has
 * durably accepted all of it, or the ctx deadline passes.
 *
 * Messages with the same topic and key keep their batch order. A message id
 * published twice is stored once where the broker can tell (pgqueue: per
 * group; nats: within the stream's duplicate window).
 * n == 0 publishes nothing and returns 0.
 * Ownership: msgs borrowed for the call (n entries).
 * Threads: safe from any thread.
 * Errors: SVK_EINVAL (a message breaks the rules above, msgs NULL with
 *         n > 0, a size this library does not know; nothing published),
 *         SVK_ETOOBIG (more than the implementation carries in one batch;
 *         nothing published),
 *         SVK_ETIMEDOUT / SVK_ECANCELED (ctx), SVK_EUNAVAIL (broker down),
 *         SVK_ENOMEM, or a code of the implementation; on any failure part of
 *         the batch may have been accepted. Detail: svk_broker_last_error.
 * Since: 0.1.0
 */
SVK_API int svk_broker_publish(svk_broker *b, const svk_ctx *ctx, const svk_message *msgs,
                               size_t n);

/*
 * svk_broker_subscribe — subscribe consumer group to topics and open a
 * subscription to fetch from.
 *
 * The group's interest in the topics is durable: messages published after
 * the first subscribe are kept for the group even while no subscription is
 * open. Subscribing again with the same group adds fetchers to it.
 * Ownership: group, topics and opts borrowed for the call (copied); *out is
 *            new, free it with svk_subscription_free before the broker.
 * Threads: safe from any thread.
 * Errors: SVK_EINVAL (bad group or topic name, ntopics 0, a negative or
 *         unknown option), SVK_ETIMEDOUT / SVK_ECANCELED (ctx),
 *         SVK_EUNAVAIL, SVK_ENOMEM, or a code of the implementation; *out is
 *         NULL on failure.
 * Since: 0.1.0
 */
SVK_API int svk_broker_subscribe(svk_broker *b, const svk_ctx *ctx, const char *group,
                                 const char *const *topics, size_t ntopics,
                                 const svk_subscribe_options *opts, svk_subscription **out);

/*
 * svk_broker_last_error — the detail of the calling thread's last failed
 * broker, subscription or delivery call (on any broker), or "" if none.
 *
 * Ownership: borrowed, valid until the calling thread's next broker call.
 * Threads: safe from any thread (kept per thread; b is only checked).
 * Errors: none.
 * Since: 0.1.0
 */
SVK_API const char *svk_broker_last_error(const svk_broker *b);

/*
 * svk_broker_free — close and free the broker. NULL is a no-op.
 *
 * Ownership: takes b back; every subscription must be freed first.
 * Threads: once no other thread uses b.
 * Errors: none.
 * Since: 0.1.0
 */
SVK_API void svk_broker_free(svk_broker *b);

/*
 * svk_subscription_fetch — take up to max deliveries, waiting at most
 * wait_ns (and never past the ctx deadline) for the first one.
 *
 * Returns as soon as at least one delivery is available; *count = 0 after
 * the wait means nothing arrived. Each delivery must be settled (ack, nack
 * or term) and then freed with svk_delivery_free.
 * Ownership: out is the caller's array of max pointers; each delivery is new.
 * Threads: the thread owning s.
 * Errors: SVK_EINVAL (max 0 or above the subscription's max_batch,
 *         wait_ns negative, out or count NULL), SVK_ECANCELED (ctx),
 *         SVK_EUNAVAIL, SVK_ENOMEM. *count is 0 on failure. A deadline
 *         reached while waiting (or already passed) is not an error.
 * Since: 0.1.0
 */
SVK_API int svk_subscription_fetch(svk_subscription *s, const svk_ctx *ctx, size_t max,
                                   int64_t wait_ns, svk_delivery **out, size_t *count);

/*
 * svk_subscription_free — close the subscription. NULL is a no-op.
 *
 * Deliveries fetched and not settled become visible again when their ack
 * wait passes.
 * Ownership: takes s back; free its deliveries first.
 * Threads: the thread owning s.
 * Errors: none.
 * Since: 0.1.0
 */
SVK_API void svk_subscription_free(svk_subscription *s);

/*
 * svk_delivery_message — the envelope of a delivery.
 *
 * Ownership: borrowed, valid until svk_delivery_free(d).
 * Threads: the thread owning d.
 * Errors: none.
 * Since: 0.1.0
 */
SVK_API const svk_message *svk_delivery_message(const svk_delivery *d);

/*
 * svk_delivery_ack — settle: handled, never deliver it again to this group.
 *
 * Ownership: d borrowed. Threads: the thread owning d.
 * Errors: SVK_ESTATE (settled already, or an earlier call found it taken),
 *         SVK_ETIMEDOUT (taken: the ack wait passed and the message was
 *         fetched again — see the file comment — or is gone; the delivery
 *         is over; or else the ctx deadline passed), SVK_EUNAVAIL,
 *         SVK_ECANCELED. After a ctx or connection failure the delivery
 *         stays unsettled and may be settled again; if the first call took
 *         effect after all, the retry reports the message taken.
 * Since: 0.1.0
 */
SVK_API int svk_delivery_ack(svk_delivery *d, const svk_ctx *ctx);

/*
 * svk_delivery_nack — settle: deliver it again after at least delay_ns.
 *
 * Ownership: d borrowed. Threads: the thread owning d.
 * Errors: as svk_delivery_ack, plus SVK_EINVAL for a negative delay.
 * Since: 0.1.0
 */
SVK_API int svk_delivery_nack(svk_delivery *d, const svk_ctx *ctx, int64_t delay_ns);

/*
 * svk_delivery_term — settle: never deliver it again to this group, without
 * having handled it (the consumer has dead-lettered it).
 *
 * Ownership: d borrowed. Threads: the thread owning d.
 * Errors: as svk_delivery_ack.
 * Since: 0.1.0
 */
SVK_API int svk_delivery_term(svk_delivery *d, const svk_ctx *ctx);

/*
 * svk_delivery_free — free a delivery. NULL is a no-op. An unsettled one is
 * delivered again when its ack wait passes.
 *
 * Ownership: takes d back. Threads: the thread owning d.
 * Errors: none.
 * Since: 0.1.0
 */
SVK_API void svk_delivery_free(svk_delivery *d);

/*
 * svk_message_header — the value of header name in m, or NULL if absent.
 *
 * Names compare case-insensitively (as HTTP and NATS headers do).
 * Ownership: borrowed from m. Threads: any. Errors: none (NULL).
 * Since: 0.1.0
 */
SVK_API const char *svk_message_header(const svk_message *m, const char *name);

#ifdef __cplusplus
}
#endif

#endif /* SVCKIT_BROKER_H */
