/*
 * rejection_test.c — every request the parser rejects, sent as raw bytes
 * over a socket to a running server: the answer has the parser's status and
 * Connection: close, and the connection then closes. The rows are the
 * parser tests' own tables (parser_cases.c). Then the smuggling vectors:
 * whatever hides a second request (CL+TE, TE obfuscations, duplicate
 * Content-Length, a body that looks like a request) never gets a second
 * response, and the hidden request's handler never runs. Then the size
 * limits (414, 431, 413) with a server configured small.
 */
#include <criterion/criterion.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "parser_cases.h"
#include "peer.h"

static svk_http_server *srv;
static int port;
static atomic_int smuggled;

static int hidden(svk_http_request *req, svk_http_response *resp, void *user)
{
    (void)req;
    (void)user;
    atomic_fetch_add(&smuggled, 1);
    return svk_http_response_text(resp, 200, "smuggled");
}

static void start_with(svk_http_server_options *o)
{
    svk_http_route_options limited = SVK_HTTP_ROUTE_OPTIONS_INIT;
    limited.body_limit = 10;
    cr_assert_eq(svk_http_server_new(&srv, o, NULL), 0);
    svk_http_router *r = svk_http_server_router(srv);
    cr_assert_eq(svk_http_router_handle(r, NULL, "/", ts_echo, NULL, NULL), 0);
    cr_assert_eq(svk_http_router_handle(r, NULL, "/echo", ts_echo, NULL, NULL), 0);
    cr_assert_eq(svk_http_router_handle(r, "POST", "/small", ts_echo, NULL, &limited), 0);
    cr_assert_eq(svk_http_router_handle(r, NULL, "/smuggled", hidden, NULL, NULL), 0);
    port = ts_start(srv);
    cr_assert_gt(port, 0, "%s", ts_error);
}

static void start(void)
{
    svk_http_server_options o = ts_options();
    start_with(&o);
}

static void stop(void)
{
    svk_http_server_free(srv);
    srv = NULL;
    cr_assert_eq(atomic_load(&smuggled), 0, "a hidden request was run");
}

TestSuite(reject, .init = start, .fini = stop);

/* Send raw, expect one answer with status and Connection: close, then the
 * end of the connection with no other byte. */
static void expect_rejected(const char *name, const char *raw, size_t len, int status)
{
    ts_conn *c = malloc(sizeof *c);
    ts_resp r;
    cr_assert_eq(ts_open(c, port), 0, "%s", ts_error);
    cr_assert_eq(ts_send_n(c, raw, len), 0, "%s: %s", name, ts_error);
    cr_assert_eq(ts_read(c, &r, 5000, 0), 0, "%s: %s", name, ts_error);
    cr_assert_eq(r.status, status, "%s: got %d", name, r.status);
    const char *conn = ts_header(&r, "Connection");
    cr_assert(conn != NULL && strcmp(conn, "close") == 0, "%s: Connection: %s", name,
              conn ? conn : "(none)");
    ts_resp_free(&r);
    cr_assert_eq(ts_read(c, &r, 3000, 0), -1, "%s: a second response", name);
    cr_assert(strstr(ts_error, "EOF before a response head (0 bytes)") != NULL, "%s: %s",
              name, ts_error);
    ts_close(c);
    free(c);
}

Test(reject, every_parser_rejection_over_a_socket)
{
    for (size_t i = 0; i < invalid_case_count; i++) {
        const struct invalid_case *c = &invalid_cases[i];
        expect_rejected(c->name, c->raw, c->len ? c->len : strlen(c->raw), c->status);
    }
}

Test(reject, every_chunked_rejection_over_a_socket)
{
    static const char head[] = "POST /echo HTTP/1.1\r\nHost: h\r\n"
                               "Transfer-Encoding: chunked\r\n\r\n";
    size_t sent = 0;
    for (size_t i = 0; i < chunked_case_count; i++) {
        const struct chunked_case *c = &chunked_cases[i];
        if (c->status == 0 || c->limits != NULL)
            continue; /* valid bodies: server_test.c; other limits: below */
        char *raw = malloc(sizeof head + c->len);
        memcpy(raw, head, sizeof head - 1);
        memcpy(raw + sizeof head - 1, c->raw, c->len);
        expect_rejected(c->name, raw, sizeof head - 1 + c->len, c->status);
        free(raw);
        sent++;
    }
    cr_assert_gt(sent, 20);
}

/* ---------------------------------------------------------- smuggling */

#define SMUGGLE "GET /smuggled HTTP/1.1\r\nHost: h\r\n\r\n"

static const struct invalid_case smuggling[] = {
    {"CL then TE", "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 6\r\n"
                   "Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n" SMUGGLE, 0, 400},
    {"TE then CL", "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n"
                   "Content-Length: 40\r\n\r\n0\r\n\r\n" SMUGGLE, 0, 400},
    {"TE with a space before the colon", "POST / HTTP/1.1\r\nHost: h\r\n"
     "Transfer-Encoding : chunked\r\nContent-Length: 5\r\n\r\n0\r\n\r\n" SMUGGLE, 0, 400},
    {"TE xchunked", "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: xchunked\r\n\r\n"
                    "0\r\n\r\n" SMUGGLE, 0, 400},
    {"TE chunked twice", "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n"
                         "Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n" SMUGGLE, 0, 400},
    {"TE folded", "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding:\r\n chunked\r\n\r\n"
                  "0\r\n\r\n" SMUGGLE, 0, 400},
    {"TE with a vertical tab", "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\x0b"
                               "\r\n\r\n0\r\n\r\n" SMUGGLE, 0, 400},
    {"TE identity then chunked", "POST / HTTP/1.1\r\nHost: h\r\n"
     "Transfer-Encoding: identity, chunked\r\n\r\n0\r\n\r\n" SMUGGLE, 0, 501},
    {"TE on HTTP/1.0", "POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n" SMUGGLE,
     0, 400},
    {"two different Content-Length", "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 0\r\n"
     "Content-Length: 36\r\n\r\n" SMUGGLE, 0, 400},
    {"Content-Length list", "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 0, 36\r\n\r\n"
     SMUGGLE, 0, 400},
    {"bare LF line ends", "POST / HTTP/1.1\nHost: h\nContent-Length: 36\n\n" SMUGGLE, 0, 400},
    {"chunk size with a bare LF", "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked"
     "\r\n\r\n24\n" SMUGGLE "\r\n0\r\n\r\n", 0, 400},
    {"chunk size overflow", "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"
     "100000000000000024\r\n" SMUGGLE "\r\n0\r\n\r\n", 0, 400},
};

Test(reject, smuggling_vectors_never_get_a_second_response)
{
    for (size_t i = 0; i < sizeof smuggling / sizeof smuggling[0]; i++)
        expect_rejected(smuggling[i].name, smuggling[i].raw, strlen(smuggling[i].raw),
                        smuggling[i].status);
}

/* A request inside a chunk's data, or inside a Content-Length body, is
 * body: one response, the hidden handler never runs. */
Test(reject, a_request_inside_a_body_is_only_body)
{
    ts_conn c;
    ts_resp r;
    cr_assert_eq(ts_open(&c, port), 0);
    char req[512];
    snprintf(req, sizeof req, "POST /echo HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n"
             "\r\n%zx\r\n%s\r\n0\r\n\r\n", strlen(SMUGGLE), SMUGGLE);
    cr_assert_eq(ts_send(&c, req), 0);
    cr_assert_eq(ts_read(&c, &r, 5000, 0), 0, "%s", ts_error);
    cr_assert_str_eq(r.body, SMUGGLE);
    ts_resp_free(&r);
    snprintf(req, sizeof req, "POST /echo HTTP/1.1\r\nHost: h\r\nContent-Length: %zu\r\n\r\n%s",
             strlen(SMUGGLE), SMUGGLE);
    cr_assert_eq(ts_send(&c, req), 0);
    cr_assert_eq(ts_read(&c, &r, 5000, 0), 0, "%s", ts_error);
    cr_assert_str_eq(r.body, SMUGGLE);
    ts_resp_free(&r);
    cr_assert_eq(ts_read(&c, &r, 300, 0), -1, "nothing else arrives");
    cr_assert_str_eq(ts_error, "timed out");
    ts_close(&c);
}

/* -------------------------------------------------------------- limits */

Test(reject, body_limit_413_before_the_body_is_read)
{
    expect_rejected("Content-Length over the route's limit",
                    "POST /small HTTP/1.1\r\nHost: h\r\nContent-Length: 11\r\n\r\n", 53, 413);
    const char *chunked = "POST /small HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"
                          "5\r\n12345\r\n6\r\n123456\r\n0\r\n\r\n";
    expect_rejected("chunked over the route's limit", chunked, strlen(chunked), 413);
    ts_resp r;
    cr_assert_eq(ts_exchange(port, "POST /small HTTP/1.1\r\nHost: h\r\nContent-Length: 10\r\n"
                                   "\r\n0123456789", &r), 0, "%s", ts_error);
    cr_assert_eq(r.status, 200, "exactly the limit");
    ts_resp_free(&r);
}

Test(reject_limits, request_line_and_header_limits, .fini = stop)
{
    svk_http_server_options o = ts_options();
    o.request_line_max = 64;
    o.header_block_max = 256;
    o.headers_max = 4;
    start_with(&o);
    char big[1024];
    snprintf(big, sizeof big, "GET /%0100d HTTP/1.1\r\nHost: h\r\n\r\n", 0);
    expect_rejected("long target", big, strlen(big), 414);
    snprintf(big, sizeof big, "GET / HTTP/1.1\r\nHost: h\r\nX: %0300d\r\n\r\n", 0);
    expect_rejected("big field", big, strlen(big), 431);
    const char *many = "GET / HTTP/1.1\r\nHost: h\r\nA: 1\r\nB: 2\r\nC: 3\r\nD: 4\r\n\r\n";
    expect_rejected("too many fields", many, strlen(many), 431);
    ts_resp r;
    cr_assert_eq(ts_exchange(port, "GET / HTTP/1.1\r\nHost: h\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n", &r),
                 0, "%s", ts_error);
    cr_assert_eq(r.status, 200, "four fields are allowed");
    ts_resp_free(&r);
}
