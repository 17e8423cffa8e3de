/*
 * load_test.c — scale and leaks: 5 000 connections held open at once (the
 * fd limit raised for the test) and all still served; 100 000 requests
 * (pipelined, over connections opened and closed along the way, loop and
 * worker routes) with the file descriptors counted before and after and
 * AddressSanitizer's leak checker at exit; the server's counters back to
 * zero.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "peer.h"

static svk_http_server *srv;
static int port;

static int hello(svk_http_request *req, svk_http_response *resp, void *user)
{
    (void)req;
    (void)user;
    static const char text[] = "hello";
    return svk_http_response_set_body_static(resp, text, sizeof text - 1);
}

static void start(int threads, size_t max_connections)
{
    svk_http_server_options o = ts_options();
    o.threads = threads;
    o.max_connections = max_connections;
    o.flags = SVK_HTTP_SERVER_NO_ACCESS_LOG;
    cr_assert_eq(svk_http_server_new(&srv, &o, NULL), 0);
    svk_http_router *r = svk_http_server_router(srv);
    svk_http_route_options loop = SVK_HTTP_ROUTE_OPTIONS_INIT;
    loop.flags = SVK_HTTP_ROUTE_NONBLOCKING;
    cr_assert_eq(svk_http_router_handle(r, "GET", "/hello", hello, NULL, &loop), 0);
    cr_assert_eq(svk_http_router_handle(r, "GET", "/worker", hello, NULL, NULL), 0);
    port = ts_start(srv);
    cr_assert_gt(port, 0, "%s", ts_error);
}

static svk_http_stats stats(void)
{
    svk_http_stats st = SVK_HTTP_STATS_INIT;
    svk_http_server_stats(srv, &st);
    return st;
}

static long rss_kib(void)
{
    long pages = 0, resident = 0;
    FILE *f = fopen("/proc/self/statm", "r");
    if (f != NULL) {
        if (fscanf(f, "%ld %ld", &pages, &resident) != 2)
            resident = 0;
        fclose(f);
    }
    return resident * (sysconf(_SC_PAGESIZE) / 1024);
}

static void wait_open(uint64_t n)
{
    for (int i = 0; i < 500 && stats().connections_open != n; i++) {
        struct timespec ts = {0, 10 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    cr_assert_eq(stats().connections_open, n);
}

#define HELD 5000

Test(load, five_thousand_connections_held_at_once)
{
    struct rlimit rl;
    getrlimit(RLIMIT_NOFILE, &rl);
    cr_assert_geq(rl.rlim_max, 2 * HELD + 100, "hard fd limit too low: %lu",
                  (unsigned long)rl.rlim_max);
    rl.rlim_cur = rl.rlim_max;
    cr_assert_eq(setrlimit(RLIMIT_NOFILE, &rl), 0);
    start(2, 2 * HELD);
    /* One read buffer for every connection (responses are read whole), so
     * that the client's own memory stays out of the RSS figure. */
    int *fds = calloc(HELD, sizeof *fds);
    ts_conn *scratch = malloc(sizeof *scratch);
    memset(scratch, 0, sizeof *scratch);
    long before = rss_kib();
    for (int i = 0; i < HELD; i++) {
        cr_assert_eq(ts_open(scratch, port), 0, "connection %d: %s", i, ts_error);
        fds[i] = scratch->fd;
        cr_assert_eq(ts_send(scratch, "GET /hello HTTP/1.1\r\nHost: t\r\n\r\n"), 0);
    }
    for (int i = 0; i < HELD; i++) {
        ts_resp r;
        scratch->fd = fds[i];
        scratch->len = 0;
        cr_assert_eq(ts_read(scratch, &r, 10000, 0), 0, "connection %d: %s", i, ts_error);
        cr_assert_eq(r.status, 200);
        ts_resp_free(&r);
    }
    wait_open(HELD);
    long per_conn = (rss_kib() - before) * 1024 / HELD;
#if defined(__SANITIZE_ADDRESS__)
    const char *build = " (AddressSanitizer build: inflated)";
#else
    const char *build = "";
#endif
    fprintf(stderr, "load: %d idle keep-alive connections, RSS +%ld bytes each%s\n", HELD,
            per_conn, build);
    for (int i = 0; i < HELD; i += 7) { /* all of them still alive */
        ts_resp r;
        scratch->fd = fds[i];
        scratch->len = 0;
        cr_assert_eq(ts_send(scratch, "GET /worker HTTP/1.1\r\nHost: t\r\n\r\n"), 0);
        cr_assert_eq(ts_read(scratch, &r, 10000, 0), 0, "connection %d: %s", i, ts_error);
        cr_assert_eq(r.status, 200);
        ts_resp_free(&r);
    }
    for (int i = 0; i < HELD; i++)
        close(fds[i]);
    free(fds);
    free(scratch);
    wait_open(0);
    svk_http_server_free(srv);
}

Test(load, past_max_connections_a_503_and_close)
{
    start(1, 3);
    ts_conn c[4];
    for (int i = 0; i < 3; i++) {
        ts_resp r;
        cr_assert_eq(ts_open(&c[i], port), 0);
        cr_assert_eq(ts_send(&c[i], "GET /hello HTTP/1.1\r\nHost: t\r\n\r\n"), 0);
        cr_assert_eq(ts_read(&c[i], &r, 5000, 0), 0, "%s", ts_error);
        ts_resp_free(&r);
    }
    ts_resp r;
    cr_assert_eq(ts_open(&c[3], port), 0);
    cr_assert_eq(ts_send(&c[3], "GET /hello HTTP/1.1\r\nHost: t\r\n\r\n"), 0);
    cr_assert_eq(ts_read(&c[3], &r, 5000, 0), 0, "%s", ts_error);
    cr_assert_eq(r.status, 503);
    cr_assert_str_eq(ts_header(&r, "Connection"), "close");
    cr_assert_str_eq(ts_header(&r, "Retry-After"), "1");
    cr_assert_str_eq(r.body, "{\"error\":\"too many connections\",\"status\":503}\n");
    ts_resp_free(&r);
    cr_assert(ts_closed(&c[3], 3000));
    cr_assert_eq(stats().connections_refused, 1);
    for (int i = 0; i < 4; i++)
        ts_close(&c[i]);
    wait_open(0);
    svk_http_server_free(srv);
}

#define TOTAL 100000
#define BATCH 100
#define PER_CONN 1000 /* the default max_requests_per_conn */

Test(load, one_hundred_thousand_requests_leave_no_fd_or_memory_behind)
{
    /* A first round opens what Criterion's channel opens lazily (nanomsg's
     * epoll, eventfds and socket) before the count is taken. */
    start(1, 0);
    ts_resp warm;
    cr_assert_eq(ts_exchange(port, "GET /hello HTTP/1.1\r\nHost: t\r\n\r\n", &warm), 0);
    ts_resp_free(&warm);
    svk_http_server_free(srv);
    int fds_before = ts_fd_count();
    start(2, 0);
    ts_conn *c = malloc(sizeof *c);
    char batch[BATCH * 40];
    size_t len = 0;
    for (int i = 0; i < BATCH; i++)
        len += (size_t)sprintf(batch + len, "GET /%s HTTP/1.1\r\nHost: t\r\n\r\n",
                               i % 10 == 9 ? "worker" : "hello");
    int done = 0;
    while (done < TOTAL) {
        cr_assert_eq(ts_open(c, port), 0, "%s", ts_error);
        for (int n = 0; n < PER_CONN && done < TOTAL; n += BATCH, done += BATCH) {
            cr_assert_eq(ts_send_n(c, batch, len), 0, "%s", ts_error);
            for (int i = 0; i < BATCH; i++) {
                ts_resp r;
                cr_assert_eq(ts_read(c, &r, 10000, 0), 0, "request %d: %s", done + i, ts_error);
                cr_assert_eq(r.status, 200);
                ts_resp_free(&r);
            }
        }
        ts_close(c);
    }
    free(c);
    wait_open(0);
    svk_http_stats st = stats();
    cr_assert_eq(st.requests_total, TOTAL);
    cr_assert_eq(st.requests_active, 0);
    cr_assert_eq(st.connections_total, TOTAL / PER_CONN);
    svk_http_server_free(srv);
    cr_assert_eq(ts_fd_count(), fds_before, "file descriptors leaked");
}
