/*
 * alloc_test.c — the allocator hooks: every allocation goes through them, and
 * a failing hook is reported as SVK_ENOMEM with the object left intact. Each
 * allocation of a scenario is failed in turn (jansson's test_chaos idea).
 */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "svckit/core.h"

static struct {
    long calls;     /* allocations attempted */
    long fail_at;   /* fail the allocation with this index; -1 never */
    long live;      /* allocations not yet freed */
} chaos;

static void *chaos_malloc(size_t size, void *user)
{
    cr_assert_eq(user, &chaos);
    if (chaos.calls++ == chaos.fail_at)
        return NULL;
    chaos.live++;
    return malloc(size);
}

static void *chaos_realloc(void *ptr, size_t size, void *user)
{
    cr_assert_eq(user, &chaos);
    if (chaos.calls++ == chaos.fail_at)
        return NULL;
    if (ptr == NULL)
        chaos.live++;
    return realloc(ptr, size);
}

static void chaos_free(void *ptr, void *user)
{
    cr_assert_eq(user, &chaos);
    if (ptr != NULL)
        chaos.live--;
    free(ptr);
}

static void install_chaos(long fail_at)
{
    chaos.calls = 0;
    chaos.fail_at = fail_at;
    chaos.live = 0;
    cr_assert_eq(svk_set_allocator(chaos_malloc, chaos_realloc, chaos_free, &chaos), 0);
}

/* Grows a buffer through every append path; returns the first error. */
static int buffer_scenario(svk_buf *b)
{
    int rc = svk_buf_append_str(b, "start");
    for (int i = 0; rc == 0 && i < 200; i++)
        rc = svk_buf_appendf(b, "%04d:%s;", i, "payload-payload-payload");
    if (rc == 0)
        rc = svk_buf_append(b, b->data, b->len);
    return rc;
}

Test(alloc, partial_hooks_are_rejected)
{
    cr_assert_eq(svk_set_allocator(chaos_malloc, NULL, NULL, NULL), SVK_EINVAL);
    cr_assert_eq(svk_set_allocator(NULL, chaos_realloc, chaos_free, NULL), SVK_EINVAL);
    cr_assert_eq(svk_set_allocator(NULL, NULL, NULL, NULL), 0);
}

Test(alloc, every_allocation_goes_through_the_hooks)
{
    install_chaos(-1);
    svk_buf b = SVK_BUF_INIT;
    cr_assert_eq(buffer_scenario(&b), 0);
    cr_assert_gt(chaos.calls, 1);
    cr_assert_eq(chaos.live, 1);
    char *s = svk_buf_detach(&b, NULL);
    svk_free(s);
    cr_assert_eq(chaos.live, 0);
    void *p = svk_malloc(0);
    cr_assert_not_null(p);
    p = svk_realloc(p, 100);
    cr_assert_not_null(p);
    svk_free(p);
    cr_assert_eq(chaos.live, 0);
}

Test(alloc, each_failure_in_turn_is_enomem_and_loses_nothing)
{
    install_chaos(-1);
    svk_buf ok = SVK_BUF_INIT;
    cr_assert_eq(buffer_scenario(&ok), 0);
    long total = chaos.calls;
    for (long k = 0; k < total; k++) {
        install_chaos(k);
        svk_buf b = SVK_BUF_INIT;
        int rc = buffer_scenario(&b);
        cr_assert_eq(rc, SVK_ENOMEM, "allocation %ld of %ld: got %s", k, total,
                     svk_errname(rc));
        /* What was appended before the failure is still there, intact. */
        cr_assert(b.len == 0 || memcmp(b.data, ok.data, b.len) == 0);
        cr_assert(b.data == NULL || b.data[b.len] == '\0');
        svk_buf_free(&b);
        cr_assert_eq(chaos.live, 0, "leak after failing allocation %ld", k);
    }
    svk_set_allocator(NULL, NULL, NULL, NULL);
    svk_buf_free(&ok);
}

Test(alloc, failing_detach_and_malloc_return_null)
{
    install_chaos(0);
    svk_buf b = SVK_BUF_INIT;
    cr_assert_null(svk_buf_detach(&b, NULL));
    install_chaos(0);
    cr_assert_null(svk_malloc(16));
    install_chaos(1);
    void *p = svk_malloc(16);
    cr_assert_not_null(p);
    cr_assert_null(svk_realloc(p, 1 << 20), "realloc failure keeps the old block");
    svk_free(p);
    cr_assert_eq(chaos.live, 0);
}
