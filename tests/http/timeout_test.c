/*
 * timeout_test.c — every timeout, on by default and each tested with short
 * values: read-header (a slow-loris trickle is cut while other clients are
 * served; a silent connection is closed), idle keep-alive, body read
 * timeout and the byte-rate floor (a trickled body is cut long before the
 * read timeout), write timeout (a client that never reads a large answer),
 * and the handler deadline (503 at the deadline, the handler's ctx
 * cancelled, its late answer discarded), per server and per route.
 */
#include <criterion/criterion.h>
#include <netinet/in.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "http/server.h"
#include "peer.h"

static svk_http_server *srv;
static int port;
static atomic_int handler_saw; /* the ctx error the slow handler ended with */
static atomic_int handler_done;

static int hello(svk_http_request *req, svk_http_response *resp, void *user)
{
    (void)req;
    (void)user;
    return svk_http_response_text(resp, 200, "hello");
}

/* Waits for its ctx to be cancelled (up to 5 s; the deadline passing is
 * not enough: the server must cancel it), then answers anyway: that late
 * answer must be dropped. */
static int cooperative(svk_http_request *req, svk_http_response *resp, void *user)
{
    (void)user;
    svk_ctx *ctx = svk_http_request_ctx(req);
    int64_t end = svk_clock_mono_ns() + 5 * SVK_HTTP_SECOND;
    while (svk_ctx_err(ctx) != SVK_ECANCELED && svk_clock_mono_ns() < end)
        ts_sleep_ms(5);
    atomic_store(&handler_saw, svk_ctx_err(ctx));
    svk_http_response_text(resp, 200, "late answer");
    atomic_store(&handler_done, 1);
    return 0;
}

/* Ignores its ctx entirely. */
static int stubborn(svk_http_request *req, svk_http_response *resp, void *user)
{
    (void)req;
    (void)user;
    ts_sleep_ms(600);
    atomic_store(&handler_done, 1);
    return svk_http_response_text(resp, 200, "late answer");
}

static int big(svk_http_request *req, svk_http_response *resp, void *user)
{
    static char body[32 << 20];
    (void)req;
    (void)user;
    return svk_http_response_set_body_static(resp, body, sizeof body);
}

static void start(svk_http_server_options *o)
{
    svk_http_route_options fast = SVK_HTTP_ROUTE_OPTIONS_INIT;
    fast.handler_timeout = 150 * SVK_HTTP_MILLISECOND;
    fast.read_timeout = 200 * SVK_HTTP_MILLISECOND;
    cr_assert_eq(svk_http_server_new(&srv, o, NULL), 0);
    svk_http_router *r = svk_http_server_router(srv);
    cr_assert_eq(svk_http_router_handle(r, "GET", "/hello", hello, NULL, NULL), 0);
    cr_assert_eq(svk_http_router_handle(r, "POST", "/echo", ts_echo, NULL, NULL), 0);
    cr_assert_eq(svk_http_router_handle(r, "POST", "/echo-fast", ts_echo, NULL, &fast), 0);
    cr_assert_eq(svk_http_router_handle(r, "GET", "/slow", cooperative, NULL, NULL), 0);
    cr_assert_eq(svk_http_router_handle(r, "GET", "/slow-fast", cooperative, NULL, &fast), 0);
    cr_assert_eq(svk_http_router_handle(r, "GET", "/stubborn", stubborn, NULL, NULL), 0);
    svk_http_route_options patient = SVK_HTTP_ROUTE_OPTIONS_INIT;
    patient.flags = SVK_HTTP_ROUTE_NONBLOCKING;
    patient.handler_timeout = 10 * SVK_HTTP_SECOND;
    cr_assert_eq(svk_http_router_handle(r, "GET", "/big", big, NULL, &patient), 0);
    port = ts_start(srv);
    cr_assert_gt(port, 0, "%s", ts_error);
}

static void stop(void)
{
    svk_http_server_free(srv);
    srv = NULL;
}

static svk_http_server_options short_timeouts(void)
{
    svk_http_server_options o = ts_options();
    o.read_header_timeout = 300 * SVK_HTTP_MILLISECOND;
    o.idle_timeout = 300 * SVK_HTTP_MILLISECOND;
    o.read_timeout = 5 * SVK_HTTP_SECOND;
    o.write_timeout = 300 * SVK_HTTP_MILLISECOND;
    o.handler_timeout = 300 * SVK_HTTP_MILLISECOND;
    o.min_body_rate = 1000;
    o.min_body_rate_grace = 200 * SVK_HTTP_MILLISECOND;
    return o;
}

static void start_short(void)
{
    svk_http_server_options o = short_timeouts();
    start(&o);
}

TestSuite(timeout, .init = start_short, .fini = stop);

static uint64_t timeouts(void)
{
    svk_http_stats st = SVK_HTTP_STATS_INIT;
    svk_http_server_stats(srv, &st);
    return st.timeouts;
}

#define EXPECT_ELAPSED(t0, lo, hi)                                                        \
    do {                                                                                  \
        int64_t el_ = ts_now_ms() - (t0);                                                 \
        cr_assert(el_ >= (lo) && el_ <= (hi), "elapsed %lld ms, want %d..%d",           \
                  (long long)el_, (lo), (hi));                                            \
    } while (0)

Test(timeout, slow_loris_is_cut_at_the_read_header_timeout_while_others_are_served)
{
    static const char head[] = "GET /hello HTTP/1.1\r\nHost: t\r\nX-Slow: ";
    ts_conn *loris = malloc(sizeof *loris), *ok = malloc(sizeof *ok);
    int64_t t0 = ts_now_ms();
    cr_assert_eq(ts_open(loris, port), 0);
    cr_assert_eq(ts_open(ok, port), 0);
    int served = 0, sent = 0;
    ts_resp r;
    /* Trickle a byte every 20 ms; meanwhile the other client is served. */
    while (ts_now_ms() - t0 < 280) {
        if (ts_send_n(loris, head + sent % (sizeof head - 1), 1) != 0)
            break;
        sent++;
        cr_assert_eq(ts_send(ok, "GET /hello HTTP/1.1\r\nHost: t\r\n\r\n"), 0);
        cr_assert_eq(ts_read(ok, &r, 1000, 0), 0, "%s", ts_error);
        cr_assert_eq(r.status, 200);
        ts_resp_free(&r);
        served++;
        ts_sleep_ms(20);
    }
    cr_assert_eq(ts_read(loris, &r, 2000, 0), 0, "%s", ts_error);
    cr_assert_eq(r.status, 408);
    ts_resp_free(&r);
    cr_assert(ts_closed(loris, 1000));
    EXPECT_ELAPSED(t0, 280, 900);
    cr_assert_gt(served, 5);
    cr_assert_geq(timeouts(), 1);
    ts_close(loris);
    ts_close(ok);
    free(loris);
    free(ok);
}

Test(timeout, a_silent_connection_is_closed_at_the_read_header_timeout)
{
    ts_conn c;
    int64_t t0 = ts_now_ms();
    cr_assert_eq(ts_open(&c, port), 0);
    cr_assert(ts_closed(&c, 2000));
    EXPECT_ELAPSED(t0, 280, 900);
    ts_close(&c);
}

Test(timeout, idle_keep_alive_is_closed_at_the_idle_timeout)
{
    ts_conn c;
    ts_resp r;
    cr_assert_eq(ts_open(&c, port), 0);
    cr_assert_eq(ts_send(&c, "GET /hello HTTP/1.1\r\nHost: t\r\n\r\n"), 0);
    cr_assert_eq(ts_read(&c, &r, 1000, 0), 0, "%s", ts_error);
    ts_resp_free(&r);
    int64_t t0 = ts_now_ms();
    cr_assert_eq(ts_closed(&c, 200), 0, "still open well before the idle timeout");
    cr_assert(ts_closed(&c, 2000));
    EXPECT_ELAPSED(t0, 280, 900);
    ts_close(&c);
}

Test(timeout, a_trickled_body_is_cut_by_the_byte_rate_floor)
{
    ts_conn c;
    ts_resp r;
    cr_assert_eq(ts_open(&c, port), 0);
    int64_t t0 = ts_now_ms();
    cr_assert_eq(ts_send(&c, "POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 10000\r\n\r\n"), 0);
    /* 10 bytes every 50 ms is 200 B/s, under the 1000 B/s floor; the read
     * timeout (5 s) alone would let this run for 5 s. */
    while (ts_now_ms() - t0 < 3000 && ts_send(&c, "0123456789") == 0) {
        if (ts_read(&c, &r, 50, 0) == 0)
            break;
    }
    cr_assert_eq(r.status, 408, "%s", ts_error);
    ts_resp_free(&r);
    EXPECT_ELAPSED(t0, 200, 1200);
    ts_close(&c);
}

Test(timeout, a_stalled_body_hits_the_route_read_timeout)
{
    ts_conn c;
    ts_resp r;
    cr_assert_eq(ts_open(&c, port), 0);
    int64_t t0 = ts_now_ms();
    cr_assert_eq(ts_send(&c, "POST /echo-fast HTTP/1.1\r\nHost: t\r\nContent-Length: 10\r\n\r\nab"),
                 0);
    cr_assert_eq(ts_read(&c, &r, 3000, 0), 0, "%s", ts_error);
    cr_assert_eq(r.status, 408);
    ts_resp_free(&r);
    EXPECT_ELAPSED(t0, 180, 800);
    cr_assert(ts_closed(&c, 1000));
    ts_close(&c);
}

Test(timeout, a_client_that_never_reads_hits_the_write_timeout)
{
    ts_conn *c = malloc(sizeof *c);
    cr_assert_eq(ts_open(c, port), 0);
    int small = 4096;
    setsockopt(c->fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
    int64_t t0 = ts_now_ms();
    uint64_t before = timeouts();
    cr_assert_eq(ts_send(c, "GET /big HTTP/1.1\r\nHost: t\r\n\r\n"), 0);
    while (timeouts() == before && ts_now_ms() - t0 < 3000)
        ts_sleep_ms(10);
    cr_assert_gt(timeouts(), before, "no write timeout");
    EXPECT_ELAPSED(t0, 280, 1500);
    ts_resp r;
    cr_assert_eq(ts_read(c, &r, 5000, 0), -1, "the 32 MiB answer cannot complete");
    ts_close(c);
    free(c);
}

Test(timeout, the_handler_deadline_answers_503_and_cancels_the_ctx)
{
    ts_conn c;
    ts_resp r;
    cr_assert_eq(ts_open(&c, port), 0);
    int64_t t0 = ts_now_ms();
    cr_assert_eq(ts_send(&c, "GET /slow HTTP/1.1\r\nHost: t\r\nX-Request-Id: deadline-1\r\n\r\n"), 0);
    cr_assert_eq(ts_read(&c, &r, 3000, 0), 0, "%s", ts_error);
    EXPECT_ELAPSED(t0, 280, 900);
    cr_assert_eq(r.status, 503);
    cr_assert(strstr(r.body, "\"request_id\":\"deadline-1\"") != NULL, "%s", r.body);
    cr_assert_str_eq(ts_header(&r, "Connection"), "close");
    ts_resp_free(&r);
    cr_assert(ts_closed(&c, 2000), "the late answer never arrives");
    while (!atomic_load(&handler_done) && ts_now_ms() - t0 < 5000)
        ts_sleep_ms(5);
    cr_assert_eq(atomic_load(&handler_saw), SVK_ECANCELED, "the handler's ctx was cancelled");
    ts_close(&c);
}

Test(timeout, a_route_can_shorten_the_deadline)
{
    ts_resp r;
    int64_t t0 = ts_now_ms();
    cr_assert_eq(ts_exchange(port, "GET /slow-fast HTTP/1.1\r\nHost: t\r\n\r\n", &r), 0);
    cr_assert_eq(r.status, 503, "%s%s\n%s", r.head, r.body, ts_log_text());
    EXPECT_ELAPSED(t0, 130, 600);
    ts_resp_free(&r);
}

Test(timeout, a_handler_that_ignores_its_ctx_is_answered_for)
{
    ts_resp r;
    int64_t t0 = ts_now_ms();
    cr_assert_eq(ts_exchange(port, "GET /stubborn HTTP/1.1\r\nHost: t\r\n\r\n", &r), 0);
    cr_assert_eq(r.status, 503);
    EXPECT_ELAPSED(t0, 280, 550);
    ts_resp_free(&r);
    while (!atomic_load(&handler_done))
        ts_sleep_ms(5);
    /* The server keeps serving, and frees the late request safely. */
    cr_assert_eq(ts_exchange(port, "GET /hello HTTP/1.1\r\nHost: t\r\n\r\n", &r), 0);
    cr_assert_eq(r.status, 200);
    ts_resp_free(&r);
}

/* Defaults are on: a server built with zero options has every timeout. */
Test(timeout_defaults, every_timeout_is_on_by_default)
{
    svk_http_server_options o = SVK_HTTP_SERVER_OPTIONS_INIT;
    svk_http_server *s;
    cr_assert_eq(svk_http_server_new(&s, &o, NULL), 0);
    const svk__http_route_cfg *d = &s->defaults;
    cr_assert_eq(s->read_header_ms, 5000);
    cr_assert_eq(s->idle_ms, 120000);
    cr_assert_eq(s->rate_grace_ms, 5000);
    cr_assert_eq(d->read_ms, 30000);
    cr_assert_eq(d->write_ms, 30000);
    cr_assert_eq(d->handler_ms, 15000);
    cr_assert_eq(d->min_rate, 1024);
    cr_assert_eq(d->body_limit, 1048576);
    svk_http_server_free(s);
}
