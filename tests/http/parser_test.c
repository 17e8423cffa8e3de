/*
 * parser_test.c — the request-head parser: a table of valid requests checked
 * field by field, a table of every rejection with its HTTP status (the
 * smuggling vectors among them), limits at their exact boundaries, and for
 * every row the same outcome at every split and one byte at a time.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "feed.h"
#include "parser_cases.h"
#include "http/parser.h"

/* ------------------------------------------------------------ valid table */

struct want {
    const char *method;
    const char *target;
    const char *path;
    const char *query; /* NULL: no '?' */
    const char *host;  /* NULL: none */
    int minor;
    int form;
    int body;
    unsigned long long content_length;
    int keep_alive;
    int expect;
    const char *fields; /* "name=value|" per field line */
    const char *data;   /* the body: Content-Length bytes or decoded chunks */
};

struct valid_case {
    const char *name;
    const char *raw;
    struct want req[2];
};

#define ORIGIN SVK__HTTP_ORIGIN_FORM
#define ABSOLUTE SVK__HTTP_ABSOLUTE_FORM
#define ASTERISK SVK__HTTP_ASTERISK_FORM
#define NONE SVK__HTTP_BODY_NONE
#define LENGTH SVK__HTTP_BODY_LENGTH
#define CHUNKED SVK__HTTP_BODY_CHUNKED

static const struct valid_case valid_cases[] = {
    {"GET with a query",
     "GET /search?q=http+parser&page=2 HTTP/1.1\r\nHost: example.com\r\n"
     "User-Agent: t/1\r\nAccept: */*\r\n\r\n",
     {{"GET", "/search?q=http+parser&page=2", "/search", "q=http+parser&page=2",
       "example.com", 1, ORIGIN, NONE, 0, 1, 0,
       "Host=example.com|User-Agent=t/1|Accept=*/*|", ""}}},
    {"POST with a Content-Length body",
     "POST /v1/orders HTTP/1.1\r\nHost: api.example.com:8080\r\n"
     "Content-Type: application/json\r\nContent-Length: 13\r\n\r\nhello world!!",
     {{"POST", "/v1/orders", "/v1/orders", NULL, "api.example.com:8080", 1, ORIGIN, LENGTH,
       13, 1, 0,
       "Host=api.example.com:8080|Content-Type=application/json|Content-Length=13|",
       "hello world!!"}}},
    {"chunked with extensions and trailers",
     "POST /upload HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"
     "5;name=value\r\nhello\r\n6 ; a = \"q\\\"x\" ;b\r\n world\r\n0\r\n"
     "Expires: never\r\nX-Sum: 1\r\n\r\n",
     {{"POST", "/upload", "/upload", NULL, "h", 1, ORIGIN, CHUNKED, 0, 1, 0,
       "Host=h|Transfer-Encoding=chunked|", "hello world"}}},
    {"HTTP/1.0 keep-alive", "GET /old HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n",
     {{"GET", "/old", "/old", NULL, NULL, 0, ORIGIN, NONE, 0, 1, 0,
       "Connection=Keep-Alive|", ""}}},
    {"HTTP/1.0 closes by default", "GET / HTTP/1.0\r\n\r\n",
     {{"GET", "/", "/", NULL, NULL, 0, ORIGIN, NONE, 0, 0, 0, "", ""}}},
    {"HTTP/1.1 Connection: close",
     "GET / HTTP/1.1\r\nHost: h\r\nConnection: keep-alive, close\r\n\r\n",
     {{"GET", "/", "/", NULL, "h", 1, ORIGIN, NONE, 0, 0, 0,
       "Host=h|Connection=keep-alive, close|", ""}}},
    {"absolute-form takes the host from the target",
     "GET http://example.org:8080/a/b?x=1 HTTP/1.1\r\nHost: ignored.example\r\n\r\n",
     {{"GET", "http://example.org:8080/a/b?x=1", "/a/b", "x=1", "example.org:8080", 1,
       ABSOLUTE, NONE, 0, 1, 0, "Host=ignored.example|", ""}}},
    {"absolute-form with an empty path",
     "GET HTTPS://example.org?x HTTP/1.1\r\nHost: example.org\r\n\r\n",
     {{"GET", "HTTPS://example.org?x", "/", "x", "example.org", 1, ABSOLUTE, NONE, 0, 1, 0,
       "Host=example.org|", ""}}},
    {"OPTIONS *", "OPTIONS * HTTP/1.1\r\nHost: h\r\n\r\n",
     {{"OPTIONS", "*", "*", NULL, "h", 1, ASTERISK, NONE, 0, 1, 0, "Host=h|", ""}}},
    {"Expect: 100-continue",
     "PUT /f HTTP/1.1\r\nHost: h\r\nExpect: 100-Continue\r\nContent-Length: 3\r\n\r\nabc",
     {{"PUT", "/f", "/f", NULL, "h", 1, ORIGIN, LENGTH, 3, 1, 1,
       "Host=h|Expect=100-Continue|Content-Length=3|", "abc"}}},
    {"Expect on HTTP/1.0 is ignored",
     "PUT /f HTTP/1.0\r\nExpect: 100-continue\r\nContent-Length: 1\r\n\r\nz",
     {{"PUT", "/f", "/f", NULL, NULL, 0, ORIGIN, LENGTH, 1, 0, 0,
       "Expect=100-continue|Content-Length=1|", "z"}}},
    {"pipelined pair",
     "GET /1 HTTP/1.1\r\nHost: h\r\n\r\nPOST /2 HTTP/1.1\r\nHost: h\r\nContent-Length: 2"
     "\r\n\r\nhi",
     {{"GET", "/1", "/1", NULL, "h", 1, ORIGIN, NONE, 0, 1, 0, "Host=h|", ""},
      {"POST", "/2", "/2", NULL, "h", 1, ORIGIN, LENGTH, 2, 1, 0,
       "Host=h|Content-Length=2|", "hi"}}},
    {"one empty line before the request line is ignored",
     "\r\nGET / HTTP/1.1\r\nHost: h\r\n\r\n",
     {{"GET", "/", "/", NULL, "h", 1, ORIGIN, NONE, 0, 1, 0, "Host=h|", ""}}},
    {"optional whitespace around values is trimmed",
     "GET / HTTP/1.1\r\nHost:\th \t\r\nX-Empty:\r\nX-Spaces:   \r\nX-In: a  b\r\n\r\n",
     {{"GET", "/", "/", NULL, "h", 1, ORIGIN, NONE, 0, 1, 0,
       "Host=h|X-Empty=|X-Spaces=|X-In=a  b|", ""}}},
    {"obs-text in a value", "GET / HTTP/1.1\r\nHost: h\r\nX-Name: caf\xc3\xa9\r\n\r\n",
     {{"GET", "/", "/", NULL, "h", 1, ORIGIN, NONE, 0, 1, 0,
       "Host=h|X-Name=caf\\xc3\\xa9|", ""}}},
    {"identical Content-Length lines",
     "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\ncontent-length:  3\r\n\r\nabc",
     {{"POST", "/", "/", NULL, "h", 1, ORIGIN, LENGTH, 3, 1, 0,
       "Host=h|Content-Length=3|content-length=3|", "abc"}}},
    {"Transfer-Encoding is case-insensitive, OWS trimmed",
     "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding:  \tCHUNKED \r\n\r\n0\r\n\r\n",
     {{"POST", "/", "/", NULL, "h", 1, ORIGIN, CHUNKED, 0, 1, 0,
       "Host=h|Transfer-Encoding=CHUNKED|", ""}}},
    {"Transfer_Encoding is another field",
     "POST / HTTP/1.1\r\nHost: h\r\nTransfer_Encoding: chunked\r\n\r\n",
     {{"POST", "/", "/", NULL, "h", 1, ORIGIN, NONE, 0, 1, 0,
       "Host=h|Transfer_Encoding=chunked|", ""}}},
    {"IPv6 Host with a port", "GET / HTTP/1.1\r\nHost: [::1]:8080\r\n\r\n",
     {{"GET", "/", "/", NULL, "[::1]:8080", 1, ORIGIN, NONE, 0, 1, 0, "Host=[::1]:8080|",
       ""}}},
    {"Connection options besides close and keep-alive",
     "GET / HTTP/1.1\r\nHost: h\r\nConnection: Upgrade, , foo\r\n\r\n",
     {{"GET", "/", "/", NULL, "h", 1, ORIGIN, NONE, 0, 1, 0,
       "Host=h|Connection=Upgrade, , foo|", ""}}},
    {"extension method and percent-encoding",
     "M-SEARCH /a%20b/%C3%A9?%7e HTTP/1.1\r\nHost: h\r\n\r\n",
     {{"M-SEARCH", "/a%20b/%C3%A9?%7e", "/a%20b/%C3%A9", "%7e", "h", 1, ORIGIN, NONE, 0, 1,
       0, "Host=h|", ""}}},
    {"empty query", "HEAD /? HTTP/1.1\r\nHost: h\r\n\r\n",
     {{"HEAD", "/?", "/", "", "h", 1, ORIGIN, NONE, 0, 1, 0, "Host=h|", ""}}},
    {"Content-Length: 0", "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 0\r\n\r\n",
     {{"POST", "/", "/", NULL, "h", 1, ORIGIN, LENGTH, 0, 1, 0,
       "Host=h|Content-Length=0|", ""}}},
    {"largest Content-Length is the server's 413",
     "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 18446744073709551615\r\n\r\n",
     {{"POST", "/", "/", NULL, "h", 1, ORIGIN, LENGTH, 18446744073709551615ULL, 1, 0,
       "Host=h|Content-Length=18446744073709551615|", NULL}}},
    {"target characters browsers send unencoded",
     "GET /a?q={\"k\":[1|2]}^`\\ HTTP/1.1\r\nHost: h\r\n\r\n",
     {{"GET", "/a?q={\"k\":[1|2]}^`\\", "/a", "q={\"k\":[1|2]}^`\\", "h", 1, ORIGIN, NONE, 0,
       1, 0, "Host=h|", ""}}},
};

static void field_list(const svk__http_request *r, char *out, size_t size)
{
    size_t used = 0;
    out[0] = '\0';
    for (size_t i = 0; i < r->num_headers; i++) {
        char name[1024], value[4096];
        feed_escape(r->headers[i].name, r->headers[i].name_len, name, sizeof name);
        feed_escape(r->headers[i].value, r->headers[i].value_len, value, sizeof value);
        int n = snprintf(out + used, size - used, "%s=%s|", name, value);
        cr_assert(n > 0 && (size_t)n < size - used);
        used += (size_t)n;
    }
}

static void expect_span(const char *what, const char *got, size_t len, const char *want)
{
    if (want == NULL) {
        cr_assert_null(got, "%s: want none, got %.*s", what, (int)len, got);
        return;
    }
    cr_assert_not_null(got, "%s: want %s, got none", what, want);
    cr_assert(len == strlen(want) && memcmp(got, want, len) == 0, "%s: want [%s], got [%.*s]",
              what, want, (int)len, got);
}

static void expect_request(const char *name, const svk__http_request *r, const struct want *w)
{
    char fields[8192];
    cr_log_info("case: %s", name);
    expect_span("method", r->method, r->method_len, w->method);
    expect_span("target", r->target, r->target_len, w->target);
    expect_span("path", r->path, r->path_len, w->path);
    expect_span("query", r->query, r->query_len, w->query);
    expect_span("host", r->host, r->host_len, w->host);
    cr_assert_eq(r->minor_version, w->minor, "%s: version", name);
    cr_assert_eq(r->target_form, w->form, "%s: form", name);
    cr_assert_eq(r->body, w->body, "%s: body", name);
    cr_assert_eq(r->content_length, w->content_length, "%s: content length", name);
    cr_assert_eq(r->keep_alive, w->keep_alive, "%s: keep-alive", name);
    cr_assert_eq(r->expect_continue, w->expect, "%s: expect", name);
    field_list(r, fields, sizeof fields);
    cr_assert_str_eq(fields, w->fields, "%s: fields", name);
}

/* Decodes the chunked body at in[0..n) in one call; returns the bytes used. */
static size_t decode_all(const char *in, size_t n, char *data, size_t *data_len)
{
    svk__http_chunked d;
    size_t used;
    char *copy = malloc(n + 1);
    memcpy(copy, in, n);
    cr_assert_eq(svk__http_chunked_init(&d, NULL), 0);
    cr_assert_eq(svk__http_chunked_decode(&d, copy, n, data_len, &used), 0, "%s",
                 d.reason ? d.reason : "incomplete");
    memcpy(data, copy, *data_len);
    free(copy);
    return used;
}

/* Checks the body that follows a head; returns the bytes it took. */
static size_t expect_body(const char *in, size_t n, const svk__http_request *r,
                          const struct want *w)
{
    char data[4096];
    size_t data_len = 0, used = 0;
    if (w->data == NULL)
        return n; /* the body is not in the input */
    if (r->body == SVK__HTTP_BODY_LENGTH) {
        cr_assert_leq(r->content_length, n);
        used = data_len = (size_t)r->content_length;
        memcpy(data, in, data_len);
    } else if (r->body == SVK__HTTP_BODY_CHUNKED) {
        used = decode_all(in, n, data, &data_len);
        feed_check_chunked_splits(in, n, NULL);
    }
    cr_assert(data_len == strlen(w->data) && memcmp(data, w->data, data_len) == 0,
              "body: want [%s], got [%.*s]", w->data, (int)data_len, data);
    return used;
}

Test(parser, valid_requests_field_by_field)
{
    for (size_t i = 0; i < sizeof valid_cases / sizeof valid_cases[0]; i++) {
        const struct valid_case *c = &valid_cases[i];
        size_t n = strlen(c->raw), at = 0;
        for (int k = 0; k < 2 && c->req[k].method != NULL; k++) {
            char text[FEED_TEXT_MAX];
            svk__http_request r;
            svk__http_header h[FEED_MAX_HEADERS];
            int rc = feed_request(c->raw + at, n - at, NULL, n - at, 1, text, &r, h);
            cr_assert_gt(rc, 0, "%s: request %d: %s", c->name, k, text);
            expect_request(c->name, &r, &c->req[k]);
            cr_assert_eq(feed_check_request_splits(c->raw + at, n - at, NULL), rc);
            at += (size_t)rc;
            at += expect_body(c->raw + at, n - at, &r, &c->req[k]);
        }
        cr_assert_eq(at, n, "%s: %zu bytes not consumed", c->name, n - at);
    }
}

/* ---------------------------------------------------------- invalid table */

#define H "Host: h\r\n"
#define L11 " HTTP/1.1\r\n"

/* The table of rejections is parser_cases.c: the server's socket tests
 * (rejection_test.c) send the same rows over TCP. */

Test(parser, every_rejection_has_its_status)
{
    for (size_t i = 0; i < invalid_case_count; i++) {
        const struct invalid_case *c = &invalid_cases[i];
        size_t n = c->len ? c->len : strlen(c->raw);
        char text[FEED_TEXT_MAX];
        svk__http_request r;
        int rc = feed_request(c->raw, n, NULL, n, 1, text, &r, NULL);
        cr_assert_eq(rc, svk__http_status_code(c->status), "%s: %s", c->name, text);
        cr_assert_eq(r.status, c->status, "%s: %s", c->name, text);
        cr_log_info("%s -> %d %s", c->name, r.status, r.reason);
        cr_assert_eq(feed_check_request_splits(c->raw, n, NULL), rc, "%s", c->name);
    }
}

/* ----------------------------------------------------------------- limits */

static char *repeat(const char *prefix, char c, size_t n, const char *suffix)
{
    size_t a = strlen(prefix), z = strlen(suffix);
    char *s = malloc(a + n + z + 1);
    memcpy(s, prefix, a);
    memset(s + a, c, n);
    memcpy(s + a + n, suffix, z + 1);
    return s;
}

static int parse_status(const char *raw, const svk__http_limits *limits)
{
    char text[FEED_TEXT_MAX];
    svk__http_request r;
    size_t n = strlen(raw);
    int rc = feed_request(raw, n, limits, n, 1, text, &r, NULL);
    cr_assert_eq(feed_check_request_splits(raw, n, limits), rc);
    return rc > 0 ? 0 : rc == SVK_EAGAIN ? -1 : r.status;
}

Test(parser, request_line_limit_is_exact)
{
    svk__http_limits l = SVK__HTTP_LIMITS_DEFAULT;
    l.request_line_max = 32; /* "GET /" + 18 + " HTTP/1.1" is 32 bytes */
    char *fits = repeat("GET /", 'a', 18, L11 H "\r\n");
    char *over = repeat("GET /", 'a', 19, L11 H "\r\n");
    char *method = repeat("", 'M', 40, " /" L11 H "\r\n");
    char *method_sp = repeat("", 'M', 32, " /" L11 H "\r\n");
    cr_assert_eq(parse_status(fits, &l), 0);
    cr_assert_eq(parse_status(over, &l), 414);
    cr_assert_eq(parse_status(method, &l), 501, "a method longer than the line is 501");
    cr_assert_eq(parse_status(method_sp, &l), 501, "the SP that crosses the limit");
    free(fits);
    free(over);
    free(method);
    free(method_sp);
}

Test(parser, header_block_limit_is_exact)
{
    svk__http_limits l = SVK__HTTP_LIMITS_DEFAULT;
    l.header_block_max = 40; /* "Host: h\r\n" (9) + "X: " + 24 + "\r\n" + "\r\n" */
    char *fits = repeat("GET /" L11 H "X: ", 'v', 24, "\r\n\r\n");
    char *over = repeat("GET /" L11 H "X: ", 'v', 25, "\r\n\r\n");
    char *spaces = repeat("GET /" L11 H "X:", ' ', 60, "v\r\n\r\n");
    cr_assert_eq(parse_status(fits, &l), 0);
    cr_assert_eq(parse_status(over, &l), 431);
    cr_assert_eq(parse_status(spaces, &l), 431, "whitespace counts");
    free(fits);
    free(over);
    free(spaces);
}

Test(parser, field_count_limit_is_exact)
{
    svk__http_limits l = SVK__HTTP_LIMITS_DEFAULT;
    l.headers_max = 3;
    cr_assert_eq(parse_status("GET /" L11 H "A: 1\r\nB: 2\r\n\r\n", &l), 0);
    cr_assert_eq(parse_status("GET /" L11 H "A: 1\r\nB: 2\r\nC: 3\r\n\r\n", &l), 431);
}

Test(parser, array_capacity_is_a_limit_too)
{
    svk__http_parser p;
    svk__http_request r;
    svk__http_header h[2];
    const char *raw = "GET /" L11 H "A: 1\r\nB: 2\r\n\r\n";
    cr_assert_eq(svk__http_parser_init(&p, NULL), 0);
    cr_assert_eq(svk__http_parse_request(&p, raw, strlen(raw), &r, h, 2), SVK_ETOOBIG);
    cr_assert_eq(r.status, 431);
    cr_assert_eq(svk__http_parse_request(&p, raw, strlen(raw), &r, NULL, 0), SVK_ETOOBIG);
}

/* Default limits, with inputs too big to feed one byte at a time: the same
 * outcome at once and in 1000-byte pieces. */
static int default_limit_status(const char *raw)
{
    char whole[FEED_TEXT_MAX], part[FEED_TEXT_MAX];
    svk__http_request r;
    size_t n = strlen(raw);
    int rc = feed_request(raw, n, NULL, n, 1, whole, &r, NULL);
    feed_request(raw, n, NULL, 1000, 1000, part, NULL, NULL);
    cr_assert_str_eq(part, whole);
    return rc > 0 ? 0 : r.status;
}

Test(parser, default_limits)
{
    char *ok = repeat("GET /", 'a', 8192 - 14, L11 H "\r\n");
    char *long_target = repeat("GET /", 'a', 8192 - 13, L11 H "\r\n");
    char *big_field = repeat("GET /" L11 H "X: ", 'v', 65536 - 9 - 7 + 1, "\r\n\r\n");
    cr_assert_eq(default_limit_status(ok), 0);
    cr_assert_eq(default_limit_status(long_target), 414);
    cr_assert_eq(default_limit_status(big_field), 431);
    char many[8192] = "GET /" L11 H;
    for (int i = 0; i < 99; i++)
        strcat(many, "A: 1\r\n");
    strcat(many, "\r\n");
    cr_assert_eq(default_limit_status(many), 0, "100 field lines");
    many[strlen(many) - 2] = '\0';
    strcat(many, "B: 2\r\n\r\n");
    cr_assert_eq(default_limit_status(many), 431, "101 field lines");
    free(ok);
    free(long_target);
    free(big_field);
}

Test(parser, a_prefix_over_the_limit_is_rejected_without_waiting)
{
    svk__http_limits l = SVK__HTTP_LIMITS_DEFAULT;
    l.request_line_max = 16;
    l.header_block_max = 16;
    /* Neither input has a line end: the limit alone decides. */
    cr_assert_eq(parse_status("GET /aaaaaaaaaaaaaaaaaaaaaaaaa", &l), 414);
    cr_assert_eq(parse_status("GET /" L11 "X: vvvvvvvvvvvvvvvvvvv", &l), 431);
    cr_assert_eq(parse_status("GET /" L11 "X: vvvvvvvvv", &l), -1, "still within");
}

/* ------------------------------------------------------------- interface */

Test(parser, misuse_is_einval)
{
    svk__http_parser p;
    svk__http_request r;
    svk__http_header h[4];
    svk__http_limits bad = SVK__HTTP_LIMITS_DEFAULT;
    cr_assert_eq(svk__http_parser_init(NULL, NULL), SVK_EINVAL);
    bad.request_line_max = 0;
    cr_assert_eq(svk__http_parser_init(&p, &bad), SVK_EINVAL);
    bad.request_line_max = SVK__HTTP_LIMIT_CAP + 1;
    cr_assert_eq(svk__http_parser_init(&p, &bad), SVK_EINVAL);
    cr_assert_eq(svk__http_parser_init(&p, NULL), 0);
    cr_assert_eq(svk__http_parse_request(&p, NULL, 3, &r, h, 4), SVK_EINVAL);
    cr_assert_eq(svk__http_parse_request(&p, "GET", 3, NULL, h, 4), SVK_EINVAL);
    cr_assert_eq(svk__http_parse_request(&p, "GET", 3, &r, NULL, 4), SVK_EINVAL);
    cr_assert_eq(svk__http_parse_request(&p, "GET", 3, &r, h, 4), SVK_EAGAIN);
    cr_assert_eq(svk__http_parse_request(&p, "GE", 2, &r, h, 4), SVK_EINVAL, "shrunk");
    cr_assert_eq(svk__http_parse_request(&p, NULL, 0, &r, h, 4), SVK_EINVAL, "shrunk");
    svk__http_parser_reset(&p);
    svk__http_parser_reset(NULL);
    cr_assert_eq(svk__http_parse_request(&p, NULL, 0, &r, h, 4), SVK_EAGAIN);
}

Test(parser, one_parser_serves_consecutive_requests)
{
    const char *raw = "GET /a" L11 H "\r\nGET /b HTTP/1.1\r\nHost: i\r\n\r\n";
    svk__http_parser p;
    svk__http_request r;
    svk__http_header h[8];
    cr_assert_eq(svk__http_parser_init(&p, NULL), 0);
    int first = svk__http_parse_request(&p, raw, strlen(raw), &r, h, 8);
    cr_assert_gt(first, 0);
    cr_assert(r.path_len == 2 && memcmp(r.path, "/a", 2) == 0);
    int second = svk__http_parse_request(&p, raw + first, strlen(raw) - (size_t)first, &r, h, 8);
    cr_assert_eq((size_t)(first + second), strlen(raw));
    cr_assert(r.host_len == 1 && r.host[0] == 'i');
    /* After an error too, the next call starts afresh. */
    cr_assert_eq(svk__http_parse_request(&p, "BAD\r\n", 5, &r, h, 8), SVK_EPROTO);
    cr_assert_eq(svk__http_parse_request(&p, raw, strlen(raw), &r, h, 8), first);
}

/* ----------------------------------------------------------- no allocation */

static long allocations;

static void *refuse_malloc(size_t size, void *user)
{
    (void)size;
    (void)user;
    allocations++;
    return NULL;
}

static void *refuse_realloc(void *ptr, size_t size, void *user)
{
    (void)ptr;
    (void)size;
    (void)user;
    allocations++;
    return NULL;
}

static void refuse_free(void *ptr, void *user)
{
    (void)ptr;
    (void)user;
}

Test(parser, never_allocates)
{
    cr_assert_eq(svk_set_allocator(refuse_malloc, refuse_realloc, refuse_free, NULL), 0);
    for (size_t i = 0; i < sizeof valid_cases / sizeof valid_cases[0]; i++) {
        const char *raw = valid_cases[i].raw;
        cr_assert_gt(feed_check_request_splits(raw, strlen(raw), NULL), 0);
    }
    for (size_t i = 0; i < invalid_case_count; i++) {
        const struct invalid_case *c = &invalid_cases[i];
        feed_check_request_splits(c->raw, c->len ? c->len : strlen(c->raw), NULL);
    }
    const char *body = "5;a=b\r\nhello\r\n0\r\nX: y\r\n\r\n";
    cr_assert_eq(feed_check_chunked_splits(body, strlen(body), NULL), 0);
    svk_set_allocator(NULL, NULL, NULL, NULL);
    cr_assert_eq(allocations, 0, "the parser called the allocator %ld times", allocations);
}
