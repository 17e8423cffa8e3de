/*
 * alloc_test.c — memory: each allocation made by svk_logger_new (for every
 * sink and option), svk_logger_with and svk_logger_bind failed in turn
 * gives SVK_ENOMEM and leaks nothing; and logging allocates nothing once
 * the thread's line buffer has grown (100k lines, both formats, all kinds).
 */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <fcntl.h>
#include <unistd.h>

#include "capture.h"
#include "support/chaos_alloc.h"

static capture cap;
static int null_fd;

/* The options of variant v: every sink, async, sampling, extra keys. */
static svk_log_options variant(int v)
{
    static const char *const extra[] = {"pin", "otp"};
    svk_log_options o = capture_options(&cap, v % 2);
    if (v >= 2) {
        o.sink = v >= 4 ? SVK_LOG_SINK_BUFFERED_FD : SVK_LOG_SINK_FD;
        o.fd = null_fd;
    }
    o.async_capacity = v == 3 || v == 5 ? 4096 : 0;
    o.sample_first = v >= 4 ? 10 : 0;
    o.redact_keys = extra;
    o.redact_count = v % 3;
    return o;
}

#define VARIANTS 6

/* svk_logger_new, then a with and a bind on it; the first error. */
static int tree_scenario(const svk_log_options *o)
{
    svk_logger *root, *a = NULL, *b = NULL;
    int rc = svk_logger_new(&root, o, NULL);
    if (rc != 0) {
        cr_assert_null(root);
        return rc;
    }
    const svk_attr attrs[] = {SVK_STR("service", "orders"),
                              SVK_GROUP("g", SVK_STR("password", "x"), SVK_INT("n", 1))};
    rc = svk_logger_with(root, attrs, 2, &a);
    if (rc == 0)
        rc = svk_logger_bind(a, "req-1", "trace", "span", &b);
    if (rc != 0)
        cr_assert(a == NULL || b == NULL);
    svk_logger_free(b);
    svk_logger_free(a);
    svk_logger_free(root);
    return rc;
}

Test(alloc, each_failure_in_turn_is_enomem_and_loses_nothing)
{
    null_fd = open("/dev/null", O_WRONLY);
    for (int v = 0; v < VARIANTS; v++) {
        svk_log_options o = variant(v);
        install_chaos(-1);
        cr_assert_eq(tree_scenario(&o), 0, "variant %d", v);
        long total = chaos.calls;
        cr_assert_eq(chaos.live, 0, "variant %d leaks", v);
        for (long k = 0; k < total; k++) {
            install_chaos(k);
            int rc = tree_scenario(&o);
            cr_assert_eq(rc, SVK_ENOMEM, "variant %d allocation %ld of %ld: %s", v, k, total,
                         svk_errname(rc));
            cr_assert_eq(chaos.live, 0, "variant %d: leak after failing allocation %ld", v, k);
        }
    }
    svk_set_allocator(NULL, NULL, NULL, NULL);
    close(null_fd);
}

static void log_every_kind(svk_logger *l, int i)
{
    svk_log_info(l, "request handled", SVK_STR("path", "/v1/orders/42"), SVK_INT("status", 200),
                 SVK_FLOAT("ratio", i / 3.0), SVK_BOOL("cached", i & 1),
                 SVK_DUR("took", 1500000 + i), SVK_TIME("at", CAPTURE_TIME_NS),
                 SVK_ERR("err", SVK_EIO), SVK_UINT("bytes", 1234),
                 SVK_GROUP("db", SVK_STR("host", "pg\xFF\n"), SVK_STR("password", "x")),
                 SVK_SECRET("key", "k"));
}

/* A sink that keeps nothing: the counting is about the logger. */
static int discard(const char *line, size_t len, void *user)
{
    (void)line;
    (void)len;
    (void)user;
    return 0;
}

Test(alloc, steady_state_lines_allocate_nothing)
{
    for (int format = SVK_LOG_JSON; format <= SVK_LOG_TEXT; format++) {
        svk_log_options o = capture_options(&cap, format);
        o.write_fn = discard;
        o.sample_first = 1000000;
        svk_logger *root, *l;
        cr_assert_eq(svk_logger_new(&root, &o, NULL), 0);
        cr_assert_eq(svk_logger_bind(root, "req-1", "t", "s", &l), 0);
        for (int i = 0; i < 100; i++) /* warm-up: the thread's buffer grows */
            log_every_kind(l, i);
        install_chaos(-1);
        for (int i = 0; i < 100000; i++)
            log_every_kind(l, i);
        long calls = chaos.calls;
        svk_set_allocator(NULL, NULL, NULL, NULL);
        cr_assert_eq(calls, 0, "%ld allocations in 100000 lines", calls);
        uint64_t written;
        svk_logger_stats(l, &written, NULL, NULL, NULL);
        cr_assert_eq(written, 100100);
        svk_logger_free(l);
        svk_logger_free(root);
    }
}
