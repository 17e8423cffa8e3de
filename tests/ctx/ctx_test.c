/* ctx_test.c — deadlines, cancellation through the tree, ids, traceparent. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "svckit/ctx.h"

static svk_ctx *make(const svk_ctx *parent)
{
    svk_ctx *c = NULL;
    cr_assert_eq(svk_ctx_new(&c, parent), 0);
    cr_assert_not_null(c);
    return c;
}

Test(ctx, background_is_null_and_never_done)
{
    cr_assert_eq(svk_ctx_err(NULL), 0);
    cr_assert_eq(svk_ctx_deadline(NULL), SVK_CTX_NO_DEADLINE);
    cr_assert_eq(svk_ctx_remaining_ns(NULL), SVK_CTX_NO_DEADLINE);
    cr_assert_null(svk_ctx_request_id(NULL));
    cr_assert_null(svk_ctx_logger(NULL));
    svk_ctx_cancel(NULL);
    svk_ctx_free(NULL);
    cr_assert_eq(svk_ctx_new(NULL, NULL), SVK_EINVAL);
}

Test(ctx, timeout_expires)
{
    svk_ctx *c = make(NULL);
    cr_assert_eq(svk_ctx_err(c), 0);
    cr_assert_eq(svk_ctx_set_timeout(c, 20 * 1000000), 0);
    int64_t left = svk_ctx_remaining_ns(c);
    cr_assert(left > 0 && left <= 20 * 1000000);
    cr_assert_eq(svk_ctx_err(c), 0);
    struct timespec pause = {0, 30 * 1000000};
    nanosleep(&pause, NULL);
    cr_assert_eq(svk_ctx_err(c), SVK_ETIMEDOUT);
    cr_assert_eq(svk_ctx_remaining_ns(c), 0);
    svk_ctx_free(c);
}

Test(ctx, child_deadline_never_later_than_parent)
{
    svk_ctx *parent = make(NULL);
    svk_ctx_set_timeout(parent, 1000000000);
    svk_ctx *child = make(parent);
    cr_assert_eq(svk_ctx_deadline(child), svk_ctx_deadline(parent));
    svk_ctx_set_timeout(child, 60LL * 1000000000);
    cr_assert_eq(svk_ctx_deadline(child), svk_ctx_deadline(parent), "clamped to the parent's");
    svk_ctx_set_timeout(child, 1000);
    cr_assert_lt(svk_ctx_deadline(child), svk_ctx_deadline(parent));
    cr_assert_eq(svk_ctx_set_timeout(child, -5), 0);
    cr_assert_eq(svk_ctx_err(child), SVK_ETIMEDOUT);
    cr_assert_eq(svk_ctx_err(parent), 0);
    svk_ctx_free(child);
    svk_ctx_free(parent);
}

Test(ctx, huge_timeout_does_not_overflow)
{
    svk_ctx *c = make(NULL);
    cr_assert_eq(svk_ctx_set_timeout(c, INT64_MAX), 0);
    cr_assert_eq(svk_ctx_deadline(c), SVK_CTX_NO_DEADLINE);
    cr_assert_eq(svk_ctx_err(c), 0);
    svk_ctx_free(c);
}

Test(ctx, cancel_reaches_descendants_not_ancestors)
{
    svk_ctx *root = make(NULL);
    svk_ctx *mid = make(root);
    svk_ctx *leaf = make(mid);
    svk_ctx_cancel(mid);
    cr_assert_eq(svk_ctx_err(root), 0);
    cr_assert_eq(svk_ctx_err(mid), SVK_ECANCELED);
    cr_assert_eq(svk_ctx_err(leaf), SVK_ECANCELED);
    svk_ctx_cancel(mid);
    cr_assert_eq(svk_ctx_err(mid), SVK_ECANCELED, "idempotent");
    svk_ctx_free(leaf);
    svk_ctx_free(mid);
    svk_ctx_free(root);
}

Test(ctx, cancellation_wins_over_expiry)
{
    svk_ctx *c = make(NULL);
    svk_ctx_set_timeout(c, 0);
    svk_ctx_cancel(c);
    cr_assert_eq(svk_ctx_err(c), SVK_ECANCELED);
    svk_ctx_free(c);
}

Test(ctx, request_id_rules_and_inheritance)
{
    svk_ctx *c = make(NULL);
    cr_assert_null(svk_ctx_request_id(c));
    cr_assert_eq(svk_ctx_set_request_id(c, "abc-123", 7), 0);
    cr_assert_str_eq(svk_ctx_request_id(c), "abc-123");
    svk_ctx *child = make(c);
    cr_assert_str_eq(svk_ctx_request_id(child), "abc-123");

    char long_id[SVK_CTX_REQUEST_ID_MAX + 2];
    memset(long_id, 'a', sizeof long_id);
    cr_assert_eq(svk_ctx_set_request_id(c, long_id, SVK_CTX_REQUEST_ID_MAX), 0);
    cr_assert_eq(strlen(svk_ctx_request_id(c)), SVK_CTX_REQUEST_ID_MAX);
    cr_assert_eq(svk_ctx_set_request_id(c, long_id, SVK_CTX_REQUEST_ID_MAX + 1), SVK_ETOOBIG);
    const char *bad[] = {"with space", "tab\there", "new\nline", "nul\0x", "\x7f", "é"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        cr_assert_eq(svk_ctx_set_request_id(c, bad[i], strlen(bad[i]) + (i == 3 ? 2 : 0)),
                     SVK_EINVAL, "accepted bad id %zu", i);
    cr_assert_eq(strlen(svk_ctx_request_id(c)), SVK_CTX_REQUEST_ID_MAX, "unchanged");
    cr_assert_eq(svk_ctx_set_request_id(c, NULL, 3), SVK_EINVAL);
    cr_assert_eq(svk_ctx_set_request_id(c, "", 0), 0);
    cr_assert_null(svk_ctx_request_id(c));
    svk_ctx_free(child);
    svk_ctx_free(c);
}

Test(ctx, trace_context_and_traceparent)
{
    svk_ctx *c = make(NULL);
    char tp[SVK_TRACEPARENT_LEN + 1] = "junk";
    cr_assert_eq(svk_ctx_traceparent(c, tp), SVK_ENOENT);
    cr_assert_str_eq(tp, "");
    uint8_t trace[16], span[8], zero16[16] = {0}, zero8[8] = {0};
    for (int i = 0; i < 16; i++)
        trace[i] = (uint8_t)(0xa0 + i);
    for (int i = 0; i < 8; i++)
        span[i] = (uint8_t)(0x01 + i);
    cr_assert_eq(svk_ctx_set_trace(c, zero16, span, 1), SVK_EINVAL);
    cr_assert_eq(svk_ctx_set_trace(c, trace, zero8, 1), SVK_EINVAL);
    cr_assert_eq(svk_ctx_trace(c, NULL, NULL, NULL), SVK_ENOENT);
    cr_assert_eq(svk_ctx_set_trace(c, trace, span, 1), 0);
    cr_assert_eq(svk_ctx_traceparent(c, tp), 0);
    cr_assert_str_eq(tp, "00-a0a1a2a3a4a5a6a7a8a9aaabacadaeaf-0102030405060708-01");
    cr_assert_eq(strlen(tp), SVK_TRACEPARENT_LEN);
    svk_ctx *child = make(c);
    uint8_t t2[16], s2[8], f2 = 0;
    cr_assert_eq(svk_ctx_trace(child, t2, s2, &f2), 0);
    cr_assert_eq(memcmp(t2, trace, 16), 0);
    cr_assert_eq(memcmp(s2, span, 8), 0);
    cr_assert_eq(f2, 1);
    svk_ctx_free(child);
    svk_ctx_free(c);
}

Test(ctx, logger_pointer_is_carried)
{
    svk_ctx *c = make(NULL);
    struct svk_logger *fake = (struct svk_logger *)&c; /* only compared, never used */
    cr_assert_eq(svk_ctx_set_logger(c, fake), 0);
    svk_ctx *child = make(c);
    cr_assert_eq(svk_ctx_logger(child), fake);
    cr_assert_eq(svk_ctx_set_logger(NULL, fake), SVK_EINVAL);
    svk_ctx_free(child);
    svk_ctx_free(c);
}

static long live;
static void *counting_malloc(size_t n, void *u) { (void)u; live++; return malloc(n); }
static void *counting_realloc(void *p, size_t n, void *u) { (void)u; if (!p) live++; return realloc(p, n); }
static void counting_free(void *p, void *u) { (void)u; if (p) live--; free(p); }
static void *failing_malloc(size_t n, void *u) { (void)n; (void)u; return NULL; }

Test(ctx, allocation_goes_through_hooks_and_failure_is_enomem)
{
    svk_set_allocator(counting_malloc, counting_realloc, counting_free, NULL);
    svk_ctx *c = make(NULL);
    cr_assert_eq(live, 1);
    svk_ctx_free(c);
    cr_assert_eq(live, 0);
    svk_set_allocator(failing_malloc, counting_realloc, counting_free, NULL);
    svk_ctx *d = (svk_ctx *)&live;
    cr_assert_eq(svk_ctx_new(&d, NULL), SVK_ENOMEM);
    cr_assert_null(d);
}
