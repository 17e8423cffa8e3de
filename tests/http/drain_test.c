/*
 * drain_test.c — graceful stop: idle keep-alive connections close at once,
 * the listener closes (new connections refused), requests in progress finish
 * and are answered with Connection: close, readiness turns "draining"; at the
 * deadline the rest is cut and the handlers' ctx cancelled. Also the
 * ctx-driven shutdown, concurrent callers, and the refusal to drain from a
 * server thread.
 */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "peer.h"

static svk_http_server *srv;
static int port;
static atomic_int slow_saw = 1, slow_done, drain_from_handler = 1;

/* Works for ?ms=N milliseconds unless its ctx ends first. */
static int slow(svk_http_request *req, svk_http_response *resp, void *user)
{
    (void)user;
    const char *ms = svk_http_request_query(req, "ms");
    int64_t end = svk_clock_mono_ns() + (ms ? atoll(ms) : 300) * SVK_HTTP_MILLISECOND;
    svk_ctx *ctx = svk_http_request_ctx(req);
    while (svk_clock_mono_ns() < end && svk_ctx_err(ctx) == 0)
        ts_sleep_ms(2);
    atomic_store(&slow_saw, svk_ctx_err(ctx));
    atomic_store(&slow_done, 1);
    return svk_http_response_text(resp, 200, "finished");
}

static int hello(svk_http_request *req, svk_http_response *resp, void *user)
{
    (void)req;
    (void)user;
    return svk_http_response_text(resp, 200, "hello");
}

static int drains_itself(svk_http_request *req, svk_http_response *resp, void *user)
{
    (void)req;
    (void)user;
    atomic_store(&drain_from_handler, svk_http_server_drain(srv, 0));
    return svk_http_response_text(resp, 200, "tried");
}

static void start(void)
{
    svk_http_server_options o = ts_options();
    o.threads = 2;
    cr_assert_eq(svk_http_server_new(&srv, &o, NULL), 0);
    svk_http_router *r = svk_http_server_router(srv);
    cr_assert_eq(svk_http_router_handle(r, "GET", "/slow", slow, NULL, NULL), 0);
    cr_assert_eq(svk_http_router_handle(r, "GET", "/hello", hello, NULL, NULL), 0);
    cr_assert_eq(svk_http_router_handle(r, "GET", "/drain", drains_itself, NULL, NULL), 0);
    port = ts_start(srv);
    cr_assert_gt(port, 0, "%s", ts_error);
    svk_http_server_set_started(srv);
}

static void stop(void)
{
    svk_http_server_free(srv);
    srv = NULL;
}

TestSuite(drain, .init = start, .fini = stop);

typedef struct drainer {
    pthread_t thread;
    int64_t deadline_ms;
    int rc;
    int64_t took_ms;
} drainer;

static void *drain_main(void *arg)
{
    drainer *d = arg;
    int64_t t0 = ts_now_ms();
    d->rc = svk_http_server_drain(srv, svk_clock_mono_ns() + d->deadline_ms * 1000000);
    d->took_ms = ts_now_ms() - t0;
    return NULL;
}

static void drain_async(drainer *d, int64_t deadline_ms)
{
    d->deadline_ms = deadline_ms;
    cr_assert_eq(pthread_create(&d->thread, NULL, drain_main, d), 0);
}

static int connect_refused_once(void)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    int rc = connect(fd, (struct sockaddr *)&a, sizeof a);
    int err = errno;
    close(fd);
    return rc != 0 && err == ECONNREFUSED;
}

/* Each loop closes its own listener: wait for the last one (briefly). */
static int connect_refused(void)
{
    int64_t end = ts_now_ms() + 1000;
    while (!connect_refused_once())
        if (ts_now_ms() > end)
            return 0;
        else
            ts_sleep_ms(5);
    return 1;
}

static void get(ts_conn *c, const char *path, int status)
{
    char req[128];
    ts_resp r;
    snprintf(req, sizeof req, "GET %s HTTP/1.1\r\nHost: t\r\n\r\n", path);
    cr_assert_eq(ts_send(c, req), 0);
    cr_assert_eq(ts_read(c, &r, 3000, 0), 0, "%s", ts_error);
    cr_assert_eq(r.status, status);
    ts_resp_free(&r);
}

Test(drain, in_flight_finishes_idle_closes_new_refused)
{
    ts_conn *idle = malloc(sizeof *idle), *busy = malloc(sizeof *busy), *probe = malloc(sizeof *probe);
    ts_resp r;
    cr_assert_eq(ts_open(idle, port), 0);
    get(idle, "/hello", 200);
    cr_assert_eq(ts_open(probe, port), 0);
    cr_assert_eq(ts_send(probe, "GET /readyz HTTP/1.1\r\n"), 0); /* a head in progress */
    cr_assert_eq(ts_open(busy, port), 0);
    cr_assert_eq(ts_send(busy, "GET /slow?ms=400 HTTP/1.1\r\nHost: t\r\n\r\n"), 0);
    ts_sleep_ms(50);
    drainer d;
    int64_t t0 = ts_now_ms();
    drain_async(&d, 5000);
    cr_assert(ts_closed(idle, 300), "an idle keep-alive connection closes at once");
    cr_assert_lt(ts_now_ms() - t0, 300);
    cr_assert(connect_refused(), "new connections are refused");
    cr_assert_eq(ts_send(probe, "Host: t\r\n\r\n"), 0);
    cr_assert_eq(ts_read(probe, &r, 3000, 0), 0, "%s", ts_error);
    cr_assert_eq(r.status, 503);
    cr_assert(strstr(r.body, "\"status\":\"draining\"") != NULL, "%s", r.body);
    ts_resp_free(&r);
    cr_assert_eq(ts_read(busy, &r, 3000, 0), 0, "%s", ts_error);
    cr_assert_eq(r.status, 200, "the request in flight finishes");
    cr_assert_str_eq(r.body, "finished");
    cr_assert_str_eq(ts_header(&r, "Connection"), "close");
    ts_resp_free(&r);
    cr_assert(ts_closed(busy, 1000));
    pthread_join(d.thread, NULL);
    cr_assert_eq(d.rc, 0);
    cr_assert_eq(atomic_load(&slow_saw), 0, "the handler was not cancelled");
    cr_assert(d.took_ms >= 250 && d.took_ms < 2000, "drain took %lld ms", (long long)d.took_ms);
    ts_close(idle);
    ts_close(busy);
    ts_close(probe);
    free(idle);
    free(busy);
    free(probe);
}

Test(drain, the_deadline_cuts_what_is_left_and_cancels_handlers)
{
    ts_conn c;
    cr_assert_eq(ts_open(&c, port), 0);
    cr_assert_eq(ts_send(&c, "GET /slow?ms=3000 HTTP/1.1\r\nHost: t\r\n\r\n"), 0);
    ts_sleep_ms(50);
    drainer d;
    drain_async(&d, 200);
    pthread_join(d.thread, NULL);
    cr_assert_eq(d.rc, SVK_ETIMEDOUT);
    cr_assert(d.took_ms >= 180 && d.took_ms < 1500, "drain took %lld ms", (long long)d.took_ms);
    cr_assert_eq(atomic_load(&slow_done), 1, "the workers were joined");
    cr_assert_eq(atomic_load(&slow_saw), SVK_ECANCELED);
    ts_resp r;
    cr_assert_eq(ts_read(&c, &r, 1000, 0), -1, "no answer after the cut");
    ts_close(&c);
}

Test(drain, shutdown_with_a_cancelled_ctx_cuts_at_once)
{
    ts_conn c;
    svk_ctx *ctx;
    cr_assert_eq(ts_open(&c, port), 0);
    cr_assert_eq(ts_send(&c, "GET /slow?ms=3000 HTTP/1.1\r\nHost: t\r\n\r\n"), 0);
    ts_sleep_ms(50);
    cr_assert_eq(svk_ctx_new(&ctx, NULL), 0);
    svk_ctx_cancel(ctx);
    int64_t t0 = ts_now_ms();
    cr_assert_eq(svk_http_server_shutdown(srv, ctx), SVK_ECANCELED);
    cr_assert_lt(ts_now_ms() - t0, 1000);
    svk_ctx_free(ctx);
    ts_close(&c);
}

Test(drain, an_idle_server_drains_at_once_and_twice_is_harmless)
{
    drainer a, b;
    drain_async(&a, 5000);
    drain_async(&b, 5000);
    pthread_join(a.thread, NULL);
    pthread_join(b.thread, NULL);
    cr_assert_eq(a.rc, 0);
    cr_assert_eq(b.rc, 0);
    cr_assert_lt(a.took_ms, 500);
    cr_assert_eq(svk_http_server_drain(srv, 0), 0, "after the end: the same result");
    cr_assert(connect_refused());
}

Test(drain, a_handler_cannot_drain_its_own_server)
{
    ts_conn c;
    cr_assert_eq(ts_open(&c, port), 0);
    get(&c, "/drain", 200);
    cr_assert_eq(atomic_load(&drain_from_handler), SVK_ESTATE);
    get(&c, "/hello", 200);
    ts_close(&c);
}

Test(drain_states, drain_before_start_is_a_state_error)
{
    svk_http_server_options o = ts_options();
    svk_http_server *s;
    cr_assert_eq(svk_http_server_new(&s, &o, NULL), 0);
    cr_assert_eq(svk_http_server_drain(s, 0), SVK_ESTATE);
    cr_assert_eq(svk_http_server_drain(NULL, 0), SVK_EINVAL);
    svk_http_server_free(s);
}
