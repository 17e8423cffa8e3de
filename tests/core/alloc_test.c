/*
 * alloc_test.c — the allocator hooks: every allocation goes through them, and
 * a failing hook is reported as SVK_ENOMEM with the object left intact. Each
 * allocation of a scenario is failed in turn (jansson's test_chaos idea).
 */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "svckit/core.h"
#include "support/chaos_alloc.h"

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

static int user_token;
static long user_seen;

static void *user_malloc(size_t size, void *user)
{
    user_seen += user == &user_token;
    return malloc(size);
}

static void *user_realloc(void *ptr, size_t size, void *user)
{
    user_seen += user == &user_token;
    return realloc(ptr, size);
}

static void user_free(void *ptr, void *user)
{
    user_seen += user == &user_token;
    free(ptr);
}

Test(alloc, partial_hooks_are_rejected)
{
    cr_assert_eq(svk_set_allocator(user_malloc, NULL, NULL, NULL), SVK_EINVAL);
    cr_assert_eq(svk_set_allocator(NULL, user_realloc, user_free, NULL), SVK_EINVAL);
    cr_assert_eq(svk_set_allocator(NULL, NULL, NULL, NULL), 0);
}

Test(alloc, hooks_get_their_user_pointer_back)
{
    cr_assert_eq(svk_set_allocator(user_malloc, user_realloc, user_free, &user_token), 0);
    void *p = svk_malloc(8);
    p = svk_realloc(p, 64);
    svk_free(p);
    cr_assert_eq(user_seen, 3);
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
