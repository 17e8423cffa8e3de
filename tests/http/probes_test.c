/*
 * probes_test.c — /healthz, /readyz, /startupz: liveness never depends on
 * anything, startup waits for svk_http_server_set_started, readiness
 * aggregates the checks and the application's gate; probes bypass router
 * middleware, answer on the loop while every worker is busy, take
 * configurable paths, and can be turned off.
 */
#include <criterion/criterion.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "peer.h"

static svk_http_server *srv;
static int port;
static atomic_int db_state; /* 0 up, else the error */

static int db_check(void *user, char *detail, size_t size)
{
    (void)user;
    int rc = atomic_load(&db_state);
    if (rc != 0)
        snprintf(detail, size, "connection \"refused\"");
    return rc;
}

static int cache_check(void *user, char *detail, size_t size)
{
    (void)user;
    (void)detail;
    (void)size;
    return 0;
}

static int deny_all(svk_http_request *req, svk_http_response *resp, void *user)
{
    (void)user;
    if (svk_http_request_header(req, "X-Let-Me-In") != NULL)
        return svk_http_next(req, resp);
    return svk_http_response_error(resp, 401, "denied");
}

static int block(svk_http_request *req, svk_http_response *resp, void *user)
{
    (void)req;
    (void)user;
    struct timespec ts = {0, 800 * 1000 * 1000};
    nanosleep(&ts, NULL);
    return svk_http_response_text(resp, 200, "done");
}

static void start_with(svk_http_server_options *o)
{
    cr_assert_eq(svk_http_server_new(&srv, o, NULL), 0);
    cr_assert_eq(svk_http_server_add_check(srv, "db", db_check, NULL), 0);
    cr_assert_eq(svk_http_server_add_check(srv, "cache", cache_check, NULL), 0);
    svk_http_router *r = svk_http_server_router(srv);
    cr_assert_eq(svk_http_router_use(r, deny_all, NULL), 0);
    cr_assert_eq(svk_http_router_handle(r, "GET", "/block", block, NULL, NULL), 0);
    port = ts_start(srv);
    cr_assert_gt(port, 0, "%s", ts_error);
}

static void start(void)
{
    svk_http_server_options o = ts_options();
    o.worker_threads = 1;
    start_with(&o);
}

static void stop(void)
{
    svk_http_server_free(srv);
    srv = NULL;
}

TestSuite(probes, .init = start, .fini = stop);

static void expect(const char *path, int status, const char *body)
{
    char req[128];
    ts_resp r;
    snprintf(req, sizeof req, "GET %s HTTP/1.1\r\nHost: t\r\n\r\n", path);
    cr_assert_eq(ts_exchange(port, req, &r), 0, "%s", ts_error);
    cr_assert_eq(r.status, status, "%s: %d %s", path, r.status, r.body);
    if (body != NULL)
        cr_assert_str_eq(r.body, body, "%s", path);
    cr_assert_str_eq(ts_header(&r, "Cache-Control"), "no-store");
    ts_resp_free(&r);
}

Test(probes, startup_then_ready)
{
    expect("/healthz", 200, "{\"status\":\"ok\"}\n");
    expect("/startupz", 503, "{\"status\":\"starting\"}\n");
    expect("/readyz", 503, "{\"status\":\"starting\",\"checks\":{\"db\":\"ok\",\"cache\":\"ok\"}}\n");
    svk_http_server_set_started(srv);
    expect("/startupz", 200, "{\"status\":\"started\"}\n");
    expect("/readyz", 200, "{\"status\":\"ready\",\"checks\":{\"db\":\"ok\",\"cache\":\"ok\"}}\n");
}

Test(probes, a_failing_check_makes_readiness_false_not_liveness)
{
    svk_http_server_set_started(srv);
    atomic_store(&db_state, SVK_EUNAVAIL);
    expect("/readyz", 503, "{\"status\":\"not ready\",\"checks\":{\"db\":\"SVK_EUNAVAIL: "
                           "connection \\\"refused\\\"\",\"cache\":\"ok\"}}\n");
    expect("/healthz", 200, NULL);
    atomic_store(&db_state, 0);
    expect("/readyz", 200, NULL);
}

Test(probes, the_application_gate)
{
    svk_http_server_set_started(srv);
    svk_http_server_set_ready(srv, 0);
    expect("/readyz", 503, "{\"status\":\"not ready\",\"checks\":{\"db\":\"ok\",\"cache\":\"ok\"}}\n");
    svk_http_server_set_ready(srv, 1);
    expect("/readyz", 200, NULL);
}

Test(probes, methods_and_head)
{
    ts_resp r;
    cr_assert_eq(ts_exchange(port, "POST /healthz HTTP/1.1\r\nHost: t\r\nContent-Length: 0\r\n\r\n",
                             &r), 0);
    cr_assert_eq(r.status, 405);
    cr_assert_str_eq(ts_header(&r, "Allow"), "GET, HEAD");
    ts_resp_free(&r);
    cr_assert_eq(ts_exchange(port, "HEAD /healthz HTTP/1.1\r\nHost: t\r\n\r\n", &r), 0);
    cr_assert_eq(r.status, 200);
    cr_assert_str_eq(ts_header(&r, "Content-Length"), "16");
    ts_resp_free(&r);
}

Test(probes, router_middleware_does_not_apply_but_applies_elsewhere)
{
    expect("/healthz", 200, NULL);
    ts_resp r;
    cr_assert_eq(ts_exchange(port, "GET /block HTTP/1.1\r\nHost: t\r\n\r\n", &r), 0);
    cr_assert_eq(r.status, 401);
    ts_resp_free(&r);
}

static void *hold_worker(void *arg)
{
    ts_resp r;
    (void)arg;
    ts_exchange(port, "GET /block HTTP/1.1\r\nHost: t\r\nX-Let-Me-In: 1\r\n\r\n", &r);
    ts_resp_free(&r);
    return NULL;
}

Test(probes, probes_answer_while_every_worker_is_busy)
{
    pthread_t t;
    pthread_create(&t, NULL, hold_worker, NULL);
    struct timespec ts = {0, 100 * 1000 * 1000};
    nanosleep(&ts, NULL);
    int64_t t0 = ts_now_ms();
    expect("/healthz", 200, NULL);
    expect("/readyz", 503, NULL);
    cr_assert_lt(ts_now_ms() - t0, 300, "probes do not wait for the blocked worker");
    pthread_join(t, NULL);
}

Test(probes_paths, custom_paths_and_no_probes, .fini = stop)
{
    svk_http_server_options o = ts_options();
    o.healthz_path = "/live";
    o.readyz_path = "/ready";
    o.startupz_path = "/started";
    start_with(&o);
    expect("/live", 200, NULL);
    expect("/ready", 503, NULL);
    expect("/started", 503, NULL);
    ts_resp r;
    cr_assert_eq(ts_exchange(port, "GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n", &r), 0);
    cr_assert_eq(r.status, 401, "an ordinary path now");
    ts_resp_free(&r);
    stop();
    o.flags = SVK_HTTP_SERVER_NO_PROBES;
    start_with(&o);
    cr_assert_eq(ts_exchange(port, "GET /live HTTP/1.1\r\nHost: t\r\n\r\n", &r), 0);
    cr_assert_eq(r.status, 401);
    ts_resp_free(&r);
}

Test(probes_paths, bad_probe_paths_are_refused)
{
    svk_http_server_options o = ts_options();
    svk_http_server *s;
    svk_error err;
    o.readyz_path = "ready";
    cr_assert_eq(svk_http_server_new(&s, &o, &err), SVK_EINVAL);
    cr_assert(strstr(err.message, "probe") != NULL, "%s", err.message);
}

