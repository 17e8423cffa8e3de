/*
 * svckit/ctx.h — the per-request (or per-message) context every blocking call
 * takes: a deadline, a cancel flag, the request id, the W3C trace context and
 * a bound logger.
 *
 * The HTTP server makes one per request and the consumer one per message;
 * handlers pass it down to the HTTP client, PostgreSQL queries and broker
 * calls, so each hop gets only the remaining budget and a cancelled request
 * stops its downstream work. Contexts form a tree: a child inherits its
 * parent's deadline (it may only shorten it), its cancellation and its ids.
 *
 * A NULL svk_ctx * is accepted everywhere a context is read and means
 * "background": no deadline, never cancelled, no ids.
 *
 * Threads: set a context up (deadline, ids, logger) on one thread before
 * sharing it; afterwards it may be read from any thread, and svk_ctx_cancel
 * may be called from any thread at any time.
 */
#ifndef SVCKIT_CTX_H
#define SVCKIT_CTX_H

#include <stddef.h>
#include <stdint.h>

#include "svckit/core.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct svk_ctx svk_ctx;
struct svk_logger; /* from svckit/log.h; the context only carries a pointer */

/* Deadline value meaning "none". */
#define SVK_CTX_NO_DEADLINE INT64_MAX
/* Longest request id kept; longer ones are rejected by svk_ctx_set_request_id. */
#define SVK_CTX_REQUEST_ID_MAX 128
/* Length of a traceparent header value: "00-<32 hex>-<16 hex>-<2 hex>". */
#define SVK_TRACEPARENT_LEN 55

/*
 * svk_ctx_new — make a context, optionally as the child of parent.
 *
 * A child starts with its parent's deadline, request id, trace context and
 * logger, and is cancelled whenever its parent is. A root (parent NULL) has
 * no deadline and no ids.
 * Ownership: *out is new, free it with svk_ctx_free. parent is borrowed and
 *            must outlive the child.
 * Threads: any thread; parent may be in use by other threads meanwhile.
 * Errors: SVK_EINVAL if out is NULL; SVK_ENOMEM. *out is NULL on failure.
 * Since: 0.1.0
 */
SVK_API int svk_ctx_new(svk_ctx **out, const svk_ctx *parent);

/*
 * svk_ctx_free — free a context. NULL is a no-op.
 *
 * Ownership: takes ctx back; its children must have been freed first.
 * Threads: the owning thread, once no other thread uses ctx.
 * Errors: none.
 * Since: 0.1.0
 */
SVK_API void svk_ctx_free(svk_ctx *ctx);

/*
 * svk_ctx_set_deadline — set the deadline, on the monotonic clock
 * (svk_clock_mono_ns), never later than the parent's: a later value is
 * clamped to the inherited one.
 *
 * Ownership: ctx borrowed.
 * Threads: before ctx is shared.
 * Errors: SVK_EINVAL if ctx is NULL.
 * Since: 0.1.0
 */
SVK_API int svk_ctx_set_deadline(svk_ctx *ctx, int64_t deadline_mono_ns);

/*
 * svk_ctx_set_timeout — set the deadline to now + timeout_ns (clamped as in
 * svk_ctx_set_deadline). A negative or zero timeout makes ctx already expired.
 *
 * Ownership: ctx borrowed. Threads: before ctx is shared.
 * Errors: SVK_EINVAL if ctx is NULL.
 * Since: 0.1.0
 */
SVK_API int svk_ctx_set_timeout(svk_ctx *ctx, int64_t timeout_ns);

/*
 * svk_ctx_deadline — the effective deadline (monotonic ns), or
 * SVK_CTX_NO_DEADLINE.
 *
 * Ownership: ctx borrowed (NULL means background).
 * Threads: safe from any thread.
 * Errors: none.
 * Since: 0.1.0
 */
SVK_API int64_t svk_ctx_deadline(const svk_ctx *ctx);

/*
 * svk_ctx_remaining_ns — nanoseconds left before the deadline: 0 when it
 * has passed, SVK_CTX_NO_DEADLINE when there is none.
 *
 * Use it to size the timeout of a downstream call.
 * Ownership: ctx borrowed (NULL means background).
 * Threads: safe from any thread.
 * Errors: none.
 * Since: 0.1.0
 */
SVK_API int64_t svk_ctx_remaining_ns(const svk_ctx *ctx);

/*
 * svk_ctx_cancel — cancel ctx and, through it, all its descendants.
 *
 * Idempotent. Blocking calls that took ctx notice at their next check and
 * return SVK_ECANCELED.
 * Ownership: ctx borrowed; NULL is a no-op.
 * Threads: safe from any thread, concurrently with readers.
 * Errors: none.
 * Since: 0.1.0
 */
SVK_API void svk_ctx_cancel(svk_ctx *ctx);

/*
 * svk_ctx_err — why ctx is done: SVK_ECANCELED if it or an ancestor was
 * cancelled, SVK_ETIMEDOUT if the deadline has passed, 0 if it is live.
 *
 * Cancellation wins over an expired deadline.
 * Ownership: ctx borrowed (NULL means background: always 0).
 * Threads: safe from any thread.
 * Errors: the return value is the answer, not a failure.
 * Since: 0.1.0
 */
SVK_API int svk_ctx_err(const svk_ctx *ctx);

/*
 * svk_ctx_set_request_id — set the request id (copied). An empty id clears it.
 *
 * Accepts 1..SVK_CTX_REQUEST_ID_MAX printable ASCII characters (0x21-0x7e),
 * the set that can travel safely in an HTTP header and a log line.
 * Ownership: id borrowed for the call (len bytes, no NUL needed); ctx borrowed.
 * Threads: before ctx is shared.
 * Errors: SVK_EINVAL (ctx NULL, id NULL with len > 0, bad character),
 *         SVK_ETOOBIG (longer than SVK_CTX_REQUEST_ID_MAX); ctx unchanged.
 * Since: 0.1.0
 */
SVK_API int svk_ctx_set_request_id(svk_ctx *ctx, const char *id, size_t len);

/*
 * svk_ctx_request_id — the request id, or NULL if none (nor inherited).
 *
 * Ownership: borrowed, valid until ctx (or the ancestor it came from) is
 *            freed or its id is set again.
 * Threads: safe from any thread once ctx is shared.
 * Errors: none.
 * Since: 0.1.0
 */
SVK_API const char *svk_ctx_request_id(const svk_ctx *ctx);

/*
 * svk_ctx_set_trace — set the W3C trace context: a 16-byte trace id, an
 * 8-byte span id (the current span) and the trace flags (bit 0: sampled).
 *
 * All-zero trace or span ids are invalid in W3C Trace Context.
 * Ownership: arrays borrowed for the call (copied); ctx borrowed.
 * Threads: before ctx is shared.
 * Errors: SVK_EINVAL (NULL argument, all-zero id); ctx unchanged.
 * Since: 0.1.0
 */
SVK_API int svk_ctx_set_trace(svk_ctx *ctx, const uint8_t trace_id[16],
                              const uint8_t span_id[8], uint8_t flags);

/*
 * svk_ctx_trace — read the trace context into the caller's arrays.
 *
 * Ownership: ctx borrowed; outputs are caller arrays (any may be NULL).
 * Threads: safe from any thread once ctx is shared.
 * Errors: SVK_ENOENT if ctx carries no trace context (outputs untouched).
 * Since: 0.1.0
 */
SVK_API int svk_ctx_trace(const svk_ctx *ctx, uint8_t trace_id[16], uint8_t span_id[8],
                          uint8_t *flags);

/*
 * svk_ctx_traceparent — format the trace context as a W3C traceparent value
 * ("00-<trace id>-<span id>-<flags>", lowercase hex) plus a NUL.
 *
 * Ownership: ctx borrowed; out is the caller's buffer of at least
 *            SVK_TRACEPARENT_LEN + 1 bytes.
 * Threads: safe from any thread once ctx is shared.
 * Errors: SVK_ENOENT if ctx carries no trace context (out set to "").
 * Since: 0.1.0
 */
SVK_API int svk_ctx_traceparent(const svk_ctx *ctx, char out[SVK_TRACEPARENT_LEN + 1]);

/*
 * svk_ctx_set_logger — bind a logger to ctx (and to children made later).
 *
 * The logger module's svk_logger_bind makes one that carries this context's
 * request and trace ids on every line.
 * Ownership: logger borrowed; it must outlive ctx and its children.
 * Threads: before ctx is shared.
 * Errors: SVK_EINVAL if ctx is NULL.
 * Since: 0.1.0
 */
SVK_API int svk_ctx_set_logger(svk_ctx *ctx, struct svk_logger *logger);

/*
 * svk_ctx_logger — the bound logger (inherited from the parent if not set
 * here), or NULL.
 *
 * Ownership: borrowed (see svk_ctx_set_logger).
 * Threads: safe from any thread once ctx is shared.
 * Errors: none.
 * Since: 0.1.0
 */
SVK_API struct svk_logger *svk_ctx_logger(const svk_ctx *ctx);

#ifdef __cplusplus
}
#endif

#endif /* SVCKIT_CTX_H */
