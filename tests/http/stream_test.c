/*
 * stream_test.c — worker handlers that stream: request bodies read piece by
 * piece (Content-Length and chunked, larger than the 64 KiB window, with
 * Expect: 100-continue), their limit, rate floor and early end; chunked
 * responses flushed chunk by chunk (HTTP/1.1) or close-delimited (HTTP/1.0),
 * HEAD, a slow reader that blocks the handler until the write timeout, and
 * flush refused on the loop.
 */
#include <criterion/criterion.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "peer.h"

static svk_http_server *srv;
static int port;
static atomic_int last_read_rc = 1, last_flush_rc = 1;

/* Reads the whole body in 1000-byte pieces; answers "<bytes> <sum>". */
static int count(svk_http_request *req, svk_http_response *resp, void *user)
{
    (void)user;
    char buf[1000], out[64];
    size_t n, total = 0;
    unsigned long sum = 0;
    int rc;
    while ((rc = svk_http_request_read(req, buf, sizeof buf, &n)) == 0 && n > 0) {
        for (size_t i = 0; i < n; i++)
            sum = sum * 31 + (unsigned char)buf[i];
        total += n;
    }
    atomic_store(&last_read_rc, rc);
    if (rc != 0)
        return rc;
    snprintf(out, sizeof out, "%zu %lu", total, sum);
    return svk_http_response_text(resp, 200, out);
}

static int ignore_body(svk_http_request *req, svk_http_response *resp, void *user)
{
    (void)req;
    (void)user;
    return svk_http_response_text(resp, 200, "did not read");
}

/* Ten flushed chunks "chunk 0\n" .. "chunk 9\n". */
static int chunks(svk_http_request *req, svk_http_response *resp, void *user)
{
    (void)req;
    (void)user;
    svk_http_response_add_header(resp, "Content-Type", "text/plain");
    for (int i = 0; i < 10; i++) {
        char line[32];
        snprintf(line, sizeof line, "chunk %d\n", i);
        int rc = svk_http_response_write(resp, line, strlen(line));
        if (rc == 0)
            rc = svk_http_response_flush(resp);
        if (rc != 0)
            return rc;
    }
    return svk_http_response_write(resp, "end\n", 4);
}

/* Streams 64 MiB to a client that does not read: flush must fail. */
static int firehose(svk_http_request *req, svk_http_response *resp, void *user)
{
    static char block[1 << 16];
    (void)req;
    (void)user;
    int rc = 0;
    for (int i = 0; i < 1024 && rc == 0; i++) {
        rc = svk_http_response_write(resp, block, sizeof block);
        if (rc == 0)
            rc = svk_http_response_flush(resp);
    }
    atomic_store(&last_flush_rc, rc);
    return rc;
}

static int flush_on_loop(svk_http_request *req, svk_http_response *resp, void *user)
{
    (void)req;
    (void)user;
    char out[32];
    snprintf(out, sizeof out, "%s", svk_errname(svk_http_response_flush(resp)));
    return svk_http_response_text(resp, 200, out);
}

static void start(void)
{
    svk_http_server_options o = ts_options();
    o.write_timeout = 300 * SVK_HTTP_MILLISECOND;
    o.min_body_rate = 1000;
    o.min_body_rate_grace = 200 * SVK_HTTP_MILLISECOND;
    cr_assert_eq(svk_http_server_new(&srv, &o, NULL), 0);
    svk_http_router *r = svk_http_server_router(srv);
    svk_http_route_options stream = SVK_HTTP_ROUTE_OPTIONS_INIT;
    stream.flags = SVK_HTTP_ROUTE_STREAM_BODY;
    stream.body_limit = 4 << 20;
    svk_http_route_options loop = SVK_HTTP_ROUTE_OPTIONS_INIT;
    loop.flags = SVK_HTTP_ROUTE_NONBLOCKING;
    cr_assert_eq(svk_http_router_handle(r, "POST", "/count", count, NULL, &stream), 0);
    cr_assert_eq(svk_http_router_handle(r, "POST", "/ignore", ignore_body, NULL, &stream), 0);
    cr_assert_eq(svk_http_router_handle(r, "GET", "/chunks", chunks, NULL, NULL), 0);
    cr_assert_eq(svk_http_router_handle(r, "GET", "/firehose", firehose, NULL, NULL), 0);
    cr_assert_eq(svk_http_router_handle(r, "GET", "/loop-flush", flush_on_loop, NULL, &loop), 0);
    port = ts_start(srv);
    cr_assert_gt(port, 0, "%s", ts_error);
}

static void stop(void)
{
    svk_http_server_free(srv);
    srv = NULL;
}

TestSuite(stream, .init = start, .fini = stop);

static char *pattern(size_t n, unsigned long *sum)
{
    char *b = malloc(n);
    *sum = 0;
    for (size_t i = 0; i < n; i++) {
        b[i] = (char)(i * 7 + i / 255);
        *sum = *sum * 31 + (unsigned char)b[i];
    }
    return b;
}

static void expect_count(ts_conn *c, size_t n, unsigned long sum)
{
    ts_resp r;
    char want[64];
    cr_assert_eq(ts_read(c, &r, 10000, 0), 0, "%s", ts_error);
    snprintf(want, sizeof want, "%zu %lu", n, sum);
    cr_assert_eq(r.status, 200, "%d %s", r.status, r.body);
    cr_assert_str_eq(r.body, want);
    ts_resp_free(&r);
}

Test(stream, content_length_bodies_larger_than_the_window)
{
    ts_conn *c = malloc(sizeof *c);
    cr_assert_eq(ts_open(c, port), 0);
    size_t sizes[] = {0, 1, 65536, 65537, 1 << 20};
    for (size_t k = 0; k < sizeof sizes / sizeof sizes[0]; k++) {
        unsigned long sum;
        char *body = pattern(sizes[k], &sum), head[128];
        snprintf(head, sizeof head, "POST /count HTTP/1.1\r\nHost: t\r\nContent-Length: %zu\r\n\r\n",
                 sizes[k]);
        cr_assert_eq(ts_send(c, head), 0);
        cr_assert_eq(ts_send_n(c, body, sizes[k]), 0);
        expect_count(c, sizes[k], sum);
        free(body);
    }
    ts_close(c);
    free(c);
}

Test(stream, chunked_bodies_in_odd_pieces)
{
    ts_conn *c = malloc(sizeof *c);
    cr_assert_eq(ts_open(c, port), 0);
    unsigned long sum;
    size_t n = 300001;
    char *body = pattern(n, &sum);
    cr_assert_eq(ts_send(c, "POST /count HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n"),
                 0);
    for (size_t at = 0, piece = 1; at < n; at += piece, piece = piece * 3 % 70001 + 1) {
        size_t k = piece < n - at ? piece : n - at;
        char size_line[32];
        snprintf(size_line, sizeof size_line, "%zx;ext=1\r\n", k);
        cr_assert_eq(ts_send(c, size_line), 0);
        cr_assert_eq(ts_send_n(c, body + at, k), 0);
        cr_assert_eq(ts_send(c, "\r\n"), 0);
    }
    cr_assert_eq(ts_send(c, "0\r\nX-Trailer: yes\r\n\r\nGET /chunks HTTP/1.1\r\nHost: t\r\n\r\n"), 0);
    expect_count(c, n, sum);
    ts_resp r;
    cr_assert_eq(ts_read(c, &r, 5000, 0), 0, "the pipelined request after it: %s", ts_error);
    cr_assert_eq(r.status, 200);
    ts_resp_free(&r);
    free(body);
    ts_close(c);
    free(c);
}

Test(stream, expect_continue_then_the_body)
{
    ts_conn c;
    ts_resp r;
    cr_assert_eq(ts_open(&c, port), 0);
    cr_assert_eq(ts_send(&c, "POST /count HTTP/1.1\r\nHost: t\r\nContent-Length: 3\r\n"
                             "Expect: 100-continue\r\n\r\n"), 0);
    cr_assert_eq(ts_read(&c, &r, 3000, 1), 0, "%s", ts_error);
    cr_assert_eq(r.status, 100);
    ts_resp_free(&r);
    cr_assert_eq(ts_send(&c, "abc"), 0);
    unsigned long sum = ((unsigned long)'a' * 31 + 'b') * 31 + 'c';
    expect_count(&c, 3, sum);
    ts_close(&c);
}

Test(stream, over_the_limit_is_413_and_read_fails)
{
    ts_conn *c = malloc(sizeof *c);
    ts_resp r;
    cr_assert_eq(ts_open(c, port), 0);
    cr_assert_eq(ts_send(c, "POST /count HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n"),
                 0);
    static char block[1 << 16];
    for (int i = 0; i < 80; i++) {
        if (ts_send(c, "10000\r\n") != 0 || ts_send_n(c, block, sizeof block) != 0 ||
            ts_send(c, "\r\n") != 0)
            break; /* the server closed */
    }
    cr_assert_eq(ts_read(c, &r, 5000, 0), 0, "%s", ts_error);
    cr_assert_eq(r.status, 413);
    ts_resp_free(&r);
    cr_assert_eq(atomic_load(&last_read_rc), SVK_ETOOBIG);
    ts_close(c);
    free(c);
}

Test(stream, a_trickled_streamed_body_hits_the_rate_floor)
{
    ts_conn c;
    ts_resp r;
    cr_assert_eq(ts_open(&c, port), 0);
    int64_t t0 = ts_now_ms();
    cr_assert_eq(ts_send(&c, "POST /count HTTP/1.1\r\nHost: t\r\nContent-Length: 100000\r\n\r\n"),
                 0);
    while (ts_now_ms() - t0 < 3000 && ts_send(&c, "0123456789") == 0)
        if (ts_read(&c, &r, 50, 0) == 0)
            break;
    cr_assert_eq(r.status, 408);
    ts_resp_free(&r);
    cr_assert_lt(ts_now_ms() - t0, 1500);
    cr_assert_eq(atomic_load(&last_read_rc), SVK_ETIMEDOUT);
    ts_close(&c);
}

Test(stream, an_unread_streamed_body_is_drained)
{
    ts_conn c;
    ts_resp r;
    cr_assert_eq(ts_open(&c, port), 0);
    cr_assert_eq(ts_send(&c, "POST /ignore HTTP/1.1\r\nHost: t\r\nContent-Length: 10\r\n\r\n"
                             "0123456789GET /chunks HTTP/1.1\r\nHost: t\r\n\r\n"), 0);
    cr_assert_eq(ts_read(&c, &r, 3000, 0), 0, "%s", ts_error);
    cr_assert_str_eq(r.body, "did not read");
    ts_resp_free(&r);
    cr_assert_eq(ts_read(&c, &r, 3000, 0), 0, "%s", ts_error);
    cr_assert_eq(r.status, 200);
    ts_resp_free(&r);
    ts_close(&c);
}

Test(stream, chunked_responses)
{
    ts_resp r;
    cr_assert_eq(ts_exchange(port, "GET /chunks HTTP/1.1\r\nHost: t\r\n\r\n", &r), 0, "%s",
                 ts_error);
    cr_assert_eq(r.status, 200);
    cr_assert(r.chunked);
    cr_assert_null(ts_header(&r, "Content-Length"));
    cr_assert_str_eq(ts_header(&r, "Content-Type"), "text/plain");
    cr_assert_not_null(ts_header(&r, "X-Request-Id"));
    char want[256] = "";
    for (int i = 0; i < 10; i++)
        sprintf(want + strlen(want), "chunk %d\n", i);
    strcat(want, "end\n");
    cr_assert_str_eq(r.body, want);
    ts_resp_free(&r);
    cr_assert_eq(ts_exchange(port, "GET /chunks HTTP/1.0\r\n\r\n", &r), 0, "%s", ts_error);
    cr_assert(!r.chunked);
    cr_assert_str_eq(r.body, want, "HTTP/1.0: the body ends with the connection");
    ts_resp_free(&r);
    cr_assert_eq(ts_exchange(port, "HEAD /chunks HTTP/1.1\r\nHost: t\r\n\r\n", &r), 0);
    cr_assert_eq(r.status, 200);
    ts_resp_free(&r);
}

Test(stream, a_slow_reader_blocks_flush_until_the_write_timeout)
{
    ts_conn *c = malloc(sizeof *c);
    cr_assert_eq(ts_open(c, port), 0);
    int small = 4096;
    setsockopt(c->fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
    int64_t t0 = ts_now_ms();
    cr_assert_eq(ts_send(c, "GET /firehose HTTP/1.1\r\nHost: t\r\n\r\n"), 0);
    while (atomic_load(&last_flush_rc) == 1 && ts_now_ms() - t0 < 5000) {
        struct timespec ts = {0, 10 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    int rc = atomic_load(&last_flush_rc);
    cr_assert(rc == SVK_ETIMEDOUT || rc == SVK_ECLOSED, "flush returned %s", svk_errname(rc));
    cr_assert_lt(ts_now_ms() - t0, 2000);
    ts_close(c);
    free(c);
}

Test(stream, flush_is_refused_on_the_loop)
{
    ts_resp r;
    cr_assert_eq(ts_exchange(port, "GET /loop-flush HTTP/1.1\r\nHost: t\r\n\r\n", &r), 0);
    cr_assert_str_eq(r.body, "SVK_ENOTSUP");
    ts_resp_free(&r);
}
