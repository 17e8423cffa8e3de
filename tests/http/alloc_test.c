/*
 * alloc_test.c — every allocation of building and starting a server fails in
 * turn (jansson's test_chaos, nghttp2's failmalloc): server options, routes,
 * mounts, middleware, CORS, hooks, checks, start (router freeze, loops,
 * pools, workers) and a request served. Each run must fail cleanly with
 * SVK_ENOMEM (or succeed), free everything (LeakSanitizer checks at exit),
 * and never crash.
 */
#include <criterion/criterion.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "http/server.h"
#include "peer.h"

static long countdown = -1; /* allocations left before one fails; -1: never */
static long calls;

static void *fail_malloc(size_t n, void *u)
{
    (void)u;
    calls++;
    if (countdown == 0)
        return NULL;
    if (countdown > 0)
        countdown--;
    return malloc(n);
}

static void *fail_realloc(void *p, size_t n, void *u)
{
    (void)u;
    calls++;
    if (countdown == 0)
        return NULL;
    if (countdown > 0)
        countdown--;
    return realloc(p, n);
}

static void just_free(void *p, void *u)
{
    (void)u;
    free(p);
}

static int ok(svk_http_request *req, svk_http_response *resp, void *user)
{
    (void)req;
    (void)user;
    return svk_http_response_text(resp, 200, "ok");
}

static int mw(svk_http_request *req, svk_http_response *resp, void *user)
{
    (void)user;
    return svk_http_next(req, resp);
}

static int check(void *user, char *detail, size_t size)
{
    (void)user, (void)detail, (void)size;
    return 0;
}

/* Build, start and use a server; returns the first failure (0: all done). */
static int build_and_run(void)
{
    static const char *const proxies[] = {"10.0.0.0/8", "::1"};
    static const char *const origins[] = {"https://a.example"};
    svk_http_server_options o = ts_options();
    o.logger = NULL;
    o.trusted_proxies = proxies;
    o.trusted_proxy_count = 2;
    svk_http_server *srv;
    int rc = svk_http_server_new(&srv, &o, NULL);
    if (rc != 0)
        return rc;
    svk_http_router *r = svk_http_server_router(srv), *sub = NULL;
    svk_http_cors_options cors = SVK_HTTP_CORS_OPTIONS_INIT;
    cors.allowed_origins = origins;
    cors.allowed_origin_count = 1;
    svk_http_hooks hooks = SVK_HTTP_HOOKS_INIT;
    if ((rc = svk_http_router_use(r, mw, NULL)) == 0 &&
        (rc = svk_http_router_use_cors(r, &cors)) == 0 &&
        (rc = svk_http_router_handle(r, "GET", "/a/{id}/b", ok, NULL, NULL)) == 0 &&
        (rc = svk_http_router_handle(r, NULL, "/files/*", ok, NULL, NULL)) == 0 &&
        (rc = svk_http_router_new(&sub)) == 0 &&
        (rc = svk_http_router_handle(sub, "POST", "/", ok, NULL, NULL)) == 0 &&
        (rc = svk_http_router_mount_take(r, "/v1/things", sub)) == 0 &&
        (rc = svk_http_server_add_hooks(srv, &hooks)) == 0 &&
        (rc = svk_http_server_add_check(srv, "db", check, NULL)) == 0)
        rc = svk_http_server_start(srv);
    if (rc == 0) {
        sub = NULL; /* mounted: the server frees it */
        ts_resp resp;
        int port = svk_http_server_port(srv);
        if (ts_exchange(port, "GET /a/1/b HTTP/1.1\r\nHost: t\r\n\r\n", &resp) == 0)
            ts_resp_free(&resp);
    }
    svk_http_router_free(sub);
    svk_http_server_free(srv);
    return rc;
}

Test(alloc, every_allocation_fails_in_turn)
{
    cr_assert_eq(svk_set_allocator(fail_malloc, fail_realloc, just_free, NULL), 0);
    long n;
    for (n = 0; n < 2000; n++) {
        countdown = n;
        int64_t t0 = ts_now_ms();
        int rc = build_and_run();
        if (ts_now_ms() - t0 > 1000)
            cr_log_warn("allocation %ld: %lld ms", n, (long long)(ts_now_ms() - t0));
        if (rc == 0 && countdown > 0)
            break; /* nothing failed: every allocation point was visited */
        cr_assert(rc == 0 || rc == SVK_ENOMEM, "allocation %ld: %s", n, svk_errname(rc));
    }
    countdown = -1;
    svk_set_allocator(NULL, NULL, NULL, NULL);
    cr_log_info("%ld allocation points", n);
    cr_assert_lt(n, 2000);
    cr_assert_gt(n, 20, "only %ld allocation points", n);
}

/* ------------------------------------------ out of memory at accept */

static atomic_int fail_conns; /* connection structs still to refuse */

static void *conn_failing_malloc(size_t n, void *u)
{
    (void)u;
    if (n == sizeof(svk__http_conn) && atomic_load(&fail_conns) > 0) {
        atomic_fetch_sub(&fail_conns, 1);
        return NULL;
    }
    return malloc(n);
}

static void *plain_realloc(void *p, size_t n, void *u)
{
    (void)u;
    return realloc(p, n);
}

/* Regression: a failed connection allocation left the connection unaccepted,
 * and libuv then stopped watching the listener for good. */
Test(alloc, a_failed_connection_allocation_refuses_and_keeps_accepting)
{
    cr_assert_eq(svk_set_allocator(conn_failing_malloc, plain_realloc, just_free, NULL), 0);
    svk_http_server_options o = ts_options();
    o.logger = NULL;
    svk_http_server *srv;
    cr_assert_eq(svk_http_server_new(&srv, &o, NULL), 0);
    cr_assert_eq(svk_http_router_handle(svk_http_server_router(srv), "GET", "/", ok, NULL, NULL),
                 0);
    int port = ts_start(srv);
    cr_assert_gt(port, 0);
    ts_resp r;
    atomic_store(&fail_conns, 1);
    cr_assert_eq(ts_exchange(port, "GET / HTTP/1.1\r\nHost: t\r\n\r\n", &r), 0, "%s", ts_error);
    cr_assert_eq(r.status, 503);
    cr_assert_str_eq(r.body, "{\"error\":\"out of memory\",\"status\":503}\n");
    ts_resp_free(&r);
    for (int i = 0; i < 3; i++) {
        cr_assert_eq(ts_exchange(port, "GET / HTTP/1.1\r\nHost: t\r\n\r\n", &r), 0, "%s",
                     ts_error);
        cr_assert_eq(r.status, 200, "still accepting");
        ts_resp_free(&r);
    }
    svk_http_server_free(srv);
    svk_set_allocator(NULL, NULL, NULL, NULL);
}
