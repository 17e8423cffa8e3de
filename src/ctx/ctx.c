/*
 * ctx.c — the per-request context: deadline, cancellation, ids, logger.
 *
 * A child copies its parent's deadline and ids when made (contexts are set up
 * before they are shared, so a copy is never stale) and keeps a pointer to the
 * parent only for cancellation, which must reach descendants at any time: the
 * cancel flag is atomic and svk_ctx_err walks up the chain.
 */
#include "svckit/ctx.h"

#include <stdatomic.h>
#include <string.h>

struct svk_ctx {
    const svk_ctx *parent;
    atomic_int cancelled;
    int64_t deadline;
    size_t request_id_len; /* 0: none */
    char request_id[SVK_CTX_REQUEST_ID_MAX + 1];
    int has_trace;
    uint8_t trace_id[16];
    uint8_t span_id[8];
    uint8_t trace_flags;
    struct svk_logger *logger;
};

SVK_API int svk_ctx_new(svk_ctx **out, const svk_ctx *parent)
{
    if (out == NULL)
        return SVK_EINVAL;
    *out = NULL;
    svk_ctx *ctx = svk_malloc(sizeof *ctx);
    if (ctx == NULL)
        return SVK_ENOMEM;
    if (parent != NULL) {
        memcpy(ctx, parent, sizeof *ctx);
    } else {
        memset(ctx, 0, sizeof *ctx);
        ctx->deadline = SVK_CTX_NO_DEADLINE;
    }
    ctx->parent = parent;
    atomic_init(&ctx->cancelled, 0);
    *out = ctx;
    return 0;
}

SVK_API void svk_ctx_free(svk_ctx *ctx)
{
    svk_free(ctx);
}

static int64_t inherited_deadline(const svk_ctx *ctx)
{
    return ctx->parent != NULL ? ctx->parent->deadline : SVK_CTX_NO_DEADLINE;
}

SVK_API int svk_ctx_set_deadline(svk_ctx *ctx, int64_t deadline_mono_ns)
{
    if (ctx == NULL)
        return SVK_EINVAL;
    int64_t limit = inherited_deadline(ctx);
    ctx->deadline = deadline_mono_ns < limit ? deadline_mono_ns : limit;
    return 0;
}

SVK_API int svk_ctx_set_timeout(svk_ctx *ctx, int64_t timeout_ns)
{
    if (ctx == NULL)
        return SVK_EINVAL;
    int64_t now = svk_clock_mono_ns();
    int64_t deadline = timeout_ns > SVK_CTX_NO_DEADLINE - now ? SVK_CTX_NO_DEADLINE
                                                               : now + timeout_ns;
    return svk_ctx_set_deadline(ctx, deadline);
}

SVK_API int64_t svk_ctx_deadline(const svk_ctx *ctx)
{
    return ctx != NULL ? ctx->deadline : SVK_CTX_NO_DEADLINE;
}

SVK_API int64_t svk_ctx_remaining_ns(const svk_ctx *ctx)
{
    int64_t deadline = svk_ctx_deadline(ctx);
    if (deadline == SVK_CTX_NO_DEADLINE)
        return SVK_CTX_NO_DEADLINE;
    int64_t left = deadline - svk_clock_mono_ns();
    return left > 0 ? left : 0;
}

SVK_API void svk_ctx_cancel(svk_ctx *ctx)
{
    if (ctx != NULL)
        atomic_store_explicit(&ctx->cancelled, 1, memory_order_release);
}

SVK_API int svk_ctx_err(const svk_ctx *ctx)
{
    for (const svk_ctx *c = ctx; c != NULL; c = c->parent)
        if (atomic_load_explicit(&c->cancelled, memory_order_acquire))
            return SVK_ECANCELED;
    if (ctx != NULL && ctx->deadline != SVK_CTX_NO_DEADLINE &&
        svk_clock_mono_ns() >= ctx->deadline)
        return SVK_ETIMEDOUT;
    return 0;
}

SVK_API int svk_ctx_set_request_id(svk_ctx *ctx, const char *id, size_t len)
{
    if (ctx == NULL || (id == NULL && len > 0))
        return SVK_EINVAL;
    if (len > SVK_CTX_REQUEST_ID_MAX)
        return SVK_ETOOBIG;
    for (size_t i = 0; i < len; i++)
        if (id[i] < 0x21 || id[i] > 0x7e)
            return SVK_EINVAL;
    if (len > 0)
        memcpy(ctx->request_id, id, len);
    ctx->request_id[len] = '\0';
    ctx->request_id_len = len;
    return 0;
}

SVK_API const char *svk_ctx_request_id(const svk_ctx *ctx)
{
    return ctx != NULL && ctx->request_id_len > 0 ? ctx->request_id : NULL;
}

static int all_zero(const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i] != 0)
            return 0;
    return 1;
}

SVK_API int svk_ctx_set_trace(svk_ctx *ctx, const uint8_t trace_id[16],
                              const uint8_t span_id[8], uint8_t flags)
{
    if (ctx == NULL || trace_id == NULL || span_id == NULL)
        return SVK_EINVAL;
    if (all_zero(trace_id, 16) || all_zero(span_id, 8))
        return SVK_EINVAL;
    memcpy(ctx->trace_id, trace_id, 16);
    memcpy(ctx->span_id, span_id, 8);
    ctx->trace_flags = flags;
    ctx->has_trace = 1;
    return 0;
}

SVK_API int svk_ctx_trace(const svk_ctx *ctx, uint8_t trace_id[16], uint8_t span_id[8],
                          uint8_t *flags)
{
    if (ctx == NULL || !ctx->has_trace)
        return SVK_ENOENT;
    if (trace_id != NULL)
        memcpy(trace_id, ctx->trace_id, 16);
    if (span_id != NULL)
        memcpy(span_id, ctx->span_id, 8);
    if (flags != NULL)
        *flags = ctx->trace_flags;
    return 0;
}

static char *put_hex(char *p, const uint8_t *bytes, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        *p++ = hex[bytes[i] >> 4];
        *p++ = hex[bytes[i] & 0x0f];
    }
    return p;
}

SVK_API int svk_ctx_traceparent(const svk_ctx *ctx, char out[SVK_TRACEPARENT_LEN + 1])
{
    out[0] = '\0';
    if (ctx == NULL || !ctx->has_trace)
        return SVK_ENOENT;
    char *p = out;
    *p++ = '0';
    *p++ = '0';
    *p++ = '-';
    p = put_hex(p, ctx->trace_id, 16);
    *p++ = '-';
    p = put_hex(p, ctx->span_id, 8);
    *p++ = '-';
    p = put_hex(p, &ctx->trace_flags, 1);
    *p = '\0';
    return 0;
}

SVK_API int svk_ctx_set_logger(svk_ctx *ctx, struct svk_logger *logger)
{
    if (ctx == NULL)
        return SVK_EINVAL;
    ctx->logger = logger;
    return 0;
}

SVK_API struct svk_logger *svk_ctx_logger(const svk_ctx *ctx)
{
    return ctx != NULL ? ctx->logger : NULL;
}
