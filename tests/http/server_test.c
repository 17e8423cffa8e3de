/*
 * server_test.c — the server against a raw-socket client: answers and
 * their fields, keep-alive and its request limit, Connection: close,
 * HTTP/1.0, pipelining answered in order (loop and worker routes mixed),
 * HEAD, OPTIONS, 404, 405, Content-Length and chunked bodies,
 * Expect: 100-continue, and unread bodies drained (or the connection
 * closed), never parsed as the next request.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "peer.h"

static svk_http_server *srv;
static int port;
static ts_conn conn;

static int text(svk_http_request *req, svk_http_response *resp, void *user)
{
    (void)user;
    char body[512];
    snprintf(body, sizeof body, "%s %s%s%s", svk_http_request_method(req),
             svk_http_request_path(req), svk_http_request_on_loop(req) ? "" : " worker",
             svk_http_request_param(req, "id") ? svk_http_request_param(req, "id") : "");
    return svk_http_response_text(resp, 200, body);
}

static int query(svk_http_request *req, svk_http_response *resp, void *user)
{
    (void)user;
    char body[512];
    const char *q = svk_http_request_query(req, "q"), *e = svk_http_request_query(req, "é");
    const char *flag = svk_http_request_query(req, "flag"), *none = svk_http_request_query(req, "x");
    snprintf(body, sizeof body, "name=[%s] q=[%s] e=[%s] flag=[%s] x=%s raw=%s",
             svk_http_request_param(req, "name"), q, e, flag, none ? none : "(null)",
             svk_http_request_query_string(req));
    return svk_http_response_text(resp, 200, body);
}

static void start(svk_http_server_options *o)
{
    svk_http_route_options loop = SVK_HTTP_ROUTE_OPTIONS_INIT;
    loop.flags = SVK_HTTP_ROUTE_NONBLOCKING;
    cr_assert_eq(svk_http_server_new(&srv, o, NULL), 0);
    svk_http_router *r = svk_http_server_router(srv);
    cr_assert_eq(svk_http_router_handle(r, "GET", "/hello", text, NULL, &loop), 0);
    cr_assert_eq(svk_http_router_handle(r, "GET", "/worker", text, NULL, NULL), 0);
    cr_assert_eq(svk_http_router_handle(r, "GET", "/users/{id}", text, NULL, &loop), 0);
    cr_assert_eq(svk_http_router_handle(r, "GET", "/q/{name}", query, NULL, &loop), 0);
    cr_assert_eq(svk_http_router_handle(r, "POST", "/echo", ts_echo, NULL, &loop), 0);
    cr_assert_eq(svk_http_router_handle(r, "POST", "/echo-worker", ts_echo, NULL, NULL), 0);
    port = ts_start(srv);
    cr_assert_gt(port, 0, "%s", ts_error);
    cr_assert_eq(ts_open(&conn, port), 0, "%s", ts_error);
}

static void start_default(void)
{
    svk_http_server_options o = ts_options();
    start(&o);
}

static void stop(void)
{
    ts_close(&conn);
    svk_http_server_free(srv);
}

static void expect(ts_conn *c, int status, const char *body, int head_only)
{
    ts_resp r;
    cr_assert_eq(ts_read(c, &r, 5000, head_only), 0, "%s", ts_error);
    cr_assert_eq(r.status, status, "%s", r.head);
    if (body != NULL)
        cr_assert_str_eq(r.body, body);
    ts_resp_free(&r);
}

TestSuite(server, .init = start_default, .fini = stop);

Test(server, answers_with_the_fields_it_owns)
{
    ts_resp r;
    cr_assert_eq(ts_send(&conn, "GET /hello HTTP/1.1\r\nHost: t\r\n\r\n"), 0);
    cr_assert_eq(ts_read(&conn, &r, 5000, 0), 0, "%s", ts_error);
    cr_assert_eq(r.status, 200);
    cr_assert_str_eq(r.body, "GET /hello");
    cr_assert_str_eq(ts_header(&r, "Content-Length"), "10");
    cr_assert_str_eq(ts_header(&r, "Content-Type"), "text/plain; charset=utf-8");
    cr_assert_not_null(ts_header(&r, "Date"));
    cr_assert_eq(strlen(ts_header(&r, "X-Request-Id")), SVK_UUID_STRLEN);
    cr_assert_null(ts_header(&r, "Connection"));
    ts_resp_free(&r);
}

Test(server, keep_alive_serves_many_requests_on_one_connection)
{
    for (int i = 0; i < 20; i++) {
        const char *path = i % 2 ? "/worker" : "/hello";
        char req[128];
        snprintf(req, sizeof req, "GET %s HTTP/1.1\r\nHost: t\r\n\r\n", path);
        cr_assert_eq(ts_send(&conn, req), 0);
        expect(&conn, 200, i % 2 ? "GET /worker worker" : "GET /hello", 0);
    }
}

Test(server, pipelined_requests_are_answered_in_order)
{
    const char *batch =
        "GET /worker HTTP/1.1\r\nHost: t\r\n\r\n"
        "GET /users/7 HTTP/1.1\r\nHost: t\r\n\r\n"
        "POST /echo-worker HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\n\r\nfirst"
        "POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n"
        "3\r\nsec\r\n3\r\nond\r\n0\r\n\r\n"
        "HEAD /hello HTTP/1.1\r\nHost: t\r\n\r\n"
        "GET /nothing HTTP/1.1\r\nHost: t\r\n\r\n"
        "GET /hello HTTP/1.1\r\nHost: t\r\n\r\n";
    cr_assert_eq(ts_send(&conn, batch), 0);
    expect(&conn, 200, "GET /worker worker", 0);
    expect(&conn, 200, "GET /users/77", 0);
    expect(&conn, 200, "first", 0);
    expect(&conn, 200, "second", 0);
    expect(&conn, 200, "", 1);
    expect(&conn, 404, NULL, 0);
    expect(&conn, 200, "GET /hello", 0);
}

Test(server, pipelined_requests_sent_one_byte_at_a_time)
{
    const char *batch = "GET /hello HTTP/1.1\r\nHost: t\r\n\r\n"
                        "POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 3\r\n\r\nabc"
                        "GET /worker HTTP/1.1\r\nHost: t\r\n\r\n";
    for (const char *p = batch; *p; p++)
        cr_assert_eq(ts_send_n(&conn, p, 1), 0);
    expect(&conn, 200, "GET /hello", 0);
    expect(&conn, 200, "abc", 0);
    expect(&conn, 200, "GET /worker worker", 0);
}

Test(server, connection_close_is_honoured)
{
    ts_resp r;
    cr_assert_eq(ts_send(&conn, "GET /hello HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n"),
                 0);
    cr_assert_eq(ts_read(&conn, &r, 5000, 0), 0, "%s", ts_error);
    cr_assert_str_eq(ts_header(&r, "Connection"), "close");
    ts_resp_free(&r);
    cr_assert(ts_closed(&conn, 2000));
}

Test(server, http_1_0_closes_unless_keep_alive_is_asked)
{
    ts_resp r;
    cr_assert_eq(ts_send(&conn, "GET /hello HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"), 0);
    cr_assert_eq(ts_read(&conn, &r, 5000, 0), 0, "%s", ts_error);
    cr_assert_str_eq(ts_header(&r, "Connection"), "keep-alive");
    ts_resp_free(&r);
    cr_assert_eq(ts_send(&conn, "GET /hello HTTP/1.0\r\n\r\n"), 0);
    cr_assert_eq(ts_read(&conn, &r, 5000, 0), 0, "%s", ts_error);
    cr_assert_str_eq(ts_header(&r, "Connection"), "close");
    ts_resp_free(&r);
    cr_assert(ts_closed(&conn, 2000));
}

Test(server, head_has_the_get_length_and_no_body)
{
    ts_resp r;
    cr_assert_eq(ts_send(&conn, "HEAD /hello HTTP/1.1\r\nHost: t\r\n\r\n"
                                "GET /hello HTTP/1.1\r\nHost: t\r\n\r\n"),
                 0);
    cr_assert_eq(ts_read(&conn, &r, 5000, 1), 0, "%s", ts_error);
    cr_assert_eq(r.status, 200);
    cr_assert_str_eq(ts_header(&r, "Content-Length"), "11"); /* "HEAD /hello" */
    ts_resp_free(&r);
    expect(&conn, 200, "GET /hello", 0); /* no stray body bytes in between */
}

Test(server, not_found_method_not_allowed_and_options)
{
    ts_resp r;
    cr_assert_eq(ts_exchange(port, "GET /missing HTTP/1.1\r\nHost: t\r\n\r\n", &r), 0);
    cr_assert_eq(r.status, 404);
    cr_assert(strstr(r.body, "\"error\":\"not found\"") != NULL, "%s", r.body);
    cr_assert_str_eq(ts_header(&r, "Content-Type"), "application/json");
    ts_resp_free(&r);
    cr_assert_eq(ts_exchange(port, "DELETE /hello HTTP/1.1\r\nHost: t\r\n\r\n", &r), 0);
    cr_assert_eq(r.status, 405);
    cr_assert_str_eq(ts_header(&r, "Allow"), "GET, HEAD, OPTIONS");
    ts_resp_free(&r);
    cr_assert_eq(ts_exchange(port, "OPTIONS /echo HTTP/1.1\r\nHost: t\r\n\r\n", &r), 0);
    cr_assert_eq(r.status, 204);
    cr_assert_str_eq(ts_header(&r, "Allow"), "POST, OPTIONS");
    ts_resp_free(&r);
    cr_assert_eq(ts_exchange(port, "OPTIONS * HTTP/1.1\r\nHost: t\r\n\r\n", &r), 0);
    cr_assert_eq(r.status, 204);
    ts_resp_free(&r);
}

Test(server, expect_100_continue_gets_an_interim_answer)
{
    cr_assert_eq(ts_send(&conn, "POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 4\r\n"
                                "Expect: 100-continue\r\n\r\n"),
                 0);
    expect(&conn, 100, NULL, 1);
    cr_assert_eq(ts_send(&conn, "body"), 0);
    expect(&conn, 200, "body", 0);
}

Test(server, expect_100_continue_refused_without_reading_the_body)
{
    ts_resp r;
    cr_assert_eq(ts_send(&conn, "POST /missing HTTP/1.1\r\nHost: t\r\nContent-Length: 4\r\n"
                                "Expect: 100-continue\r\n\r\n"),
                 0);
    cr_assert_eq(ts_read(&conn, &r, 5000, 0), 0, "%s", ts_error);
    cr_assert_eq(r.status, 404, "no 100 Continue before a final refusal");
    cr_assert_str_eq(ts_header(&r, "Connection"), "close");
    ts_resp_free(&r);
    cr_assert(ts_closed(&conn, 3000));
}

/* An early answer (405) leaves a body unread: it is dropped, and the
 * request hidden in it is never answered. */
Test(server, an_unread_body_is_drained_not_parsed)
{
    const char *hidden = "GET /worker HTTP/1.1\r\nHost: t\r\n\r\n";
    char req[512];
    snprintf(req, sizeof req, "PUT /hello HTTP/1.1\r\nHost: t\r\nContent-Length: %zu\r\n\r\n%s"
             "GET /hello HTTP/1.1\r\nHost: t\r\n\r\n", strlen(hidden), hidden);
    cr_assert_eq(ts_send(&conn, req), 0);
    expect(&conn, 405, NULL, 0);
    expect(&conn, 200, "GET /hello", 0);
    cr_assert_eq(ts_send(&conn, "GET /hello HTTP/1.1\r\nHost: t\r\n\r\n"), 0);
    expect(&conn, 200, "GET /hello", 0);
}

Test(server, an_unread_chunked_body_is_drained_too)
{
    cr_assert_eq(ts_send(&conn, "POST /missing HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: "
                                "chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n"
                                "GET /hello HTTP/1.1\r\nHost: t\r\n\r\n"),
                 0);
    expect(&conn, 404, NULL, 0);
    expect(&conn, 200, "GET /hello", 0);
}

Test(server, a_large_unread_body_closes_the_connection)
{
    ts_resp r;
    cr_assert_eq(ts_send(&conn, "POST /missing HTTP/1.1\r\nHost: t\r\n"
                                "Content-Length: 1000000\r\n\r\nxxxx"),
                 0);
    cr_assert_eq(ts_read(&conn, &r, 5000, 0), 0, "%s", ts_error);
    cr_assert_eq(r.status, 404);
    cr_assert_str_eq(ts_header(&r, "Connection"), "close");
    ts_resp_free(&r);
    cr_assert(ts_closed(&conn, 3000));
}

Test(server, bodies_of_every_size_up_to_the_limit)
{
    static char big[300000];
    for (size_t i = 0; i < sizeof big; i++)
        big[i] = (char)('a' + i % 26);
    size_t sizes[] = {0, 1, 8191, 8192, 8193, 65536, sizeof big};
    for (size_t k = 0; k < sizeof sizes / sizeof sizes[0]; k++) {
        char head[128];
        snprintf(head, sizeof head, "POST /echo-worker HTTP/1.1\r\nHost: t\r\n"
                 "Content-Length: %zu\r\n\r\n", sizes[k]);
        cr_assert_eq(ts_send(&conn, head), 0);
        cr_assert_eq(ts_send_n(&conn, big, sizes[k]), 0);
        ts_resp r;
        cr_assert_eq(ts_read(&conn, &r, 10000, 0), 0, "%s", ts_error);
        cr_assert_eq(r.body_len, sizes[k]);
        cr_assert(memcmp(r.body, big, sizes[k]) == 0);
        ts_resp_free(&r);
    }
}

Test(server_options, max_requests_per_connection, .fini = stop)
{
    svk_http_server_options o = ts_options();
    o.max_requests_per_conn = 3;
    start(&o);
    for (int i = 1; i <= 3; i++) {
        ts_resp r;
        cr_assert_eq(ts_send(&conn, "GET /hello HTTP/1.1\r\nHost: t\r\n\r\n"), 0);
        cr_assert_eq(ts_read(&conn, &r, 5000, 0), 0, "%s", ts_error);
        const char *c = ts_header(&r, "Connection");
        if (i < 3)
            cr_assert_null(c, "request %d", i);
        else
            cr_assert_str_eq(c, "close");
        ts_resp_free(&r);
    }
    cr_assert(ts_closed(&conn, 2000));
}

Test(server, path_parameters_and_query_values_are_decoded)
{
    ts_resp r;
    cr_assert_eq(ts_send(&conn, "GET /q/a%20b%2Fc?q=x+y%26z&%C3%A9=%C3%A9t%C3%A9&flag&q=second "
                                "HTTP/1.1\r\nHost: t\r\n\r\n"), 0);
    cr_assert_eq(ts_read(&conn, &r, 5000, 0), 0, "%s", ts_error);
    cr_assert_str_eq(r.body, "name=[a b/c] q=[x y&z] e=[\xc3\xa9t\xc3\xa9] flag=[] x=(null) "
                             "raw=q=x+y%26z&%C3%A9=%C3%A9t%C3%A9&flag&q=second");
    ts_resp_free(&r);
}
