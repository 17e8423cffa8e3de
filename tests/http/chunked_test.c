/*
 * chunked_test.c — the chunked body decoder: valid bodies (extensions,
 * trailers, leftovers for the next request), every rejection with its
 * status, the limits, streaming through a small buffer, and every row fed
 * split at every byte and one byte at a time with the same outcome.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "feed.h"
#include "http/parser.h"

struct chunked_case {
    const char *name;
    const char *raw;
    size_t len;
    const svk__http_limits *limits;
    int status;        /* 0: valid */
    const char *data;  /* valid: decoded data, escaped as feed_escape does */
    const char *left;  /* valid: bytes after the body */
};

#define RAW(s) s, sizeof(s) - 1

static const svk__http_limits small_body = {8192, 65536, 100, 10, 4096, 8192};
static const svk__http_limits small_ext = {8192, 65536, 100, 1048576, 4, 8192};
static const svk__http_limits small_trailers = {8192, 65536, 2, 1048576, 4096, 16};

static const struct chunked_case cases[] = {
    {"one chunk", RAW("5\r\nhello\r\n0\r\n\r\n"), NULL, 0, "hello", ""},
    {"several chunks, both hex cases",
     RAW("A\r\n0123456789\r\na\r\nabcdefghij\r\n0\r\n\r\n"), NULL, 0,
     "0123456789abcdefghij", ""},
    {"leading zeros", RAW("0005\r\nhello\r\n000\r\n\r\n"), NULL, 0, "hello", ""},
    {"sixteen hex digits", RAW("0000000000000005\r\nhello\r\n0\r\n\r\n"), NULL, 0, "hello", ""},
    {"extensions", RAW("5;a\r\nhello\r\n0;last=\"yes\"\r\n\r\n"), NULL, 0, "hello", ""},
    {"BWS and quoted strings in extensions",
     RAW("5 ; a = b ;c;d=\"x y\\\"\\\\\"\t;e\r\nhello\r\n0\r\n\r\n"), NULL, 0, "hello", ""},
    {"trailers", RAW("5\r\nhello\r\n0\r\nX-A: 1\r\nX-B:\r\n\r\n"), NULL, 0, "hello", ""},
    {"empty body", RAW("0\r\n\r\n"), NULL, 0, "", ""},
    {"the next request is left alone",
     RAW("3\r\nabc\r\n0\r\n\r\nGET / HTTP/1.1\r\n"), NULL, 0, "abc", "GET / HTTP/1.1\\x0d\\x0a"},
    {"CRLF and NUL inside data", RAW("5\r\n\r\n\0\r\n\r\n0\r\n\r\n"), NULL, 0,
     "\\x0d\\x0a\\x00\\x0d\\x0a", ""},
    {"body exactly at the limit", RAW("a\r\n0123456789\r\n0\r\n\r\n"), &small_body, 0,
     "0123456789", ""},
    {"extensions exactly at the limit", RAW("5;abc\r\nhello\r\n0\r\n\r\n"), &small_ext, 0,
     "hello", ""},
    {"trailers exactly at the limit", RAW("0\r\nA: 1\r\nB: 234\r\n\r\n"), &small_trailers, 0,
     "", ""},

    {"no size", RAW("\r\n"), NULL, 400, NULL, NULL},
    {"size not hex", RAW("g\r\n"), NULL, 400, NULL, NULL},
    {"negative size", RAW("-1\r\n"), NULL, 400, NULL, NULL},
    {"space before the size", RAW(" 5\r\nhello\r\n"), NULL, 400, NULL, NULL},
    {"0x prefix", RAW("0x5\r\nhello\r\n"), NULL, 400, NULL, NULL},
    {"plus sign", RAW("+5\r\nhello\r\n"), NULL, 400, NULL, NULL},
    {"seventeen hex digits", RAW("00000000000000005\r\nhello\r\n"), NULL, 400, NULL, NULL},
    {"chunk over the default 1 MiB", RAW("100001\r\n"), NULL, 413, NULL, NULL},
    {"largest chunk size", RAW("ffffffffffffffff\r\n"), NULL, 413, NULL, NULL},
    {"over the limit across chunks", RAW("5\r\nhello\r\n6\r\n"), &small_body, 413, NULL, NULL},
    {"bare LF after the size", RAW("5\nhello\r\n0\r\n\r\n"), NULL, 400, NULL, NULL},
    {"bare CR after the size", RAW("5\rhello\r\n"), NULL, 400, NULL, NULL},
    {"data longer than its size", RAW("5\r\nhelloX\r\n0\r\n\r\n"), NULL, 400, NULL, NULL},
    {"bare LF after data", RAW("5\r\nhello\n0\r\n\r\n"), NULL, 400, NULL, NULL},
    {"bare CR after data", RAW("5\r\nhello\rX"), NULL, 400, NULL, NULL},
    {"whitespace before the line end", RAW("5 \r\nhello\r\n"), NULL, 400, NULL, NULL},
    {"whitespace after an extension name", RAW("5;a \r\nhello\r\n"), NULL, 400, NULL, NULL},
    {"empty extension", RAW("5;\r\nhello\r\n"), NULL, 400, NULL, NULL},
    {"extension without a value", RAW("5;a=\r\nhello\r\n"), NULL, 400, NULL, NULL},
    {"unterminated quoted string", RAW("5;a=\"x\r\nhello\r\n"), NULL, 400, NULL, NULL},
    {"NUL in an extension", RAW("5;a\0\r\nhello\r\n"), NULL, 400, NULL, NULL},
    {"bare LF in an extension", RAW("5;a\nhello\r\n"), NULL, 400, NULL, NULL},
    {"extension over the limit", RAW("5;abcd\r\nhello\r\n"), &small_ext, 400, NULL, NULL},
    {"extensions over the limit in total", RAW("1;ab\r\nx\r\n1;ab\r\nx\r\n"), &small_ext, 400,
     NULL, NULL},
    {"obs-fold in trailers", RAW("0\r\nX: 1\r\n y\r\n\r\n"), NULL, 400, NULL, NULL},
    {"space before a trailer colon", RAW("0\r\nX : y\r\n\r\n"), NULL, 400, NULL, NULL},
    {"trailer without a colon", RAW("0\r\nNoColon\r\n\r\n"), NULL, 400, NULL, NULL},
    {"bare LF in trailers", RAW("0\r\nX: y\n\r\n"), NULL, 400, NULL, NULL},
    {"NUL in a trailer value", RAW("0\r\nX: a\0\r\n\r\n"), NULL, 400, NULL, NULL},
    {"bare LF after the last chunk", RAW("0\r\n\n"), NULL, 400, NULL, NULL},
    {"trailers over the limit", RAW("0\r\nA: 1\r\nB: 23456\r\n\r\n"), &small_trailers, 431,
     NULL, NULL},
    {"too many trailer fields", RAW("0\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n"), &small_trailers, 431,
     NULL, NULL},
};

static void expect_case(const struct chunked_case *c)
{
    size_t n = c->len;
    char text[FEED_TEXT_MAX], want[FEED_TEXT_MAX];
    int rc = feed_chunked(c->raw, n, c->limits, n, 1, text);
    if (c->status == 0) {
        snprintf(want, sizeof want, "rc=SVK_OK data=[%s] left=[%s]", c->data, c->left);
        cr_assert_str_eq(text, want, "%s", c->name);
    } else {
        cr_assert_eq(rc, svk__http_status_code(c->status), "%s: %s", c->name, text);
        char status[16];
        snprintf(status, sizeof status, "status=%d ", c->status);
        cr_assert_not_null(strstr(text, status), "%s: %s", c->name, text);
    }
    cr_assert_eq(feed_check_chunked_splits(c->raw, n, c->limits), rc, "%s", c->name);
}

Test(chunked, table_at_every_split)
{
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        expect_case(&cases[i]);
}

Test(chunked, incomplete_bodies_wait)
{
    const char *prefixes[] = {"", "5", "5\r", "5\r\nhel", "5\r\nhello", "5\r\nhello\r",
                              "5\r\nhello\r\n0", "5\r\nhello\r\n0\r\n",
                              "5\r\nhello\r\n0\r\nX: 1\r\n", "5;a=\"b"};
    for (size_t i = 0; i < sizeof prefixes / sizeof prefixes[0]; i++) {
        char text[FEED_TEXT_MAX];
        size_t n = strlen(prefixes[i]);
        cr_assert_eq(feed_chunked(prefixes[i], n, NULL, n, 1, text), SVK_EAGAIN, "%s", text);
        feed_check_chunked_splits(prefixes[i], n, NULL);
    }
}

/* A body much larger than the read buffer: data comes out as it arrives,
 * and only the unfinished framing is carried over. */
Test(chunked, streams_through_a_small_buffer)
{
    enum { BODY = 300000, READ = 4096 };
    char *body = malloc(BODY), *wire = malloc(2 * BODY), *out = malloc(BODY);
    size_t w = 0, o = 0, off = 0;
    for (size_t i = 0; i < BODY; i++)
        body[i] = (char)(i * 31 + 7);
    while (off < BODY) {
        size_t n = BODY - off < 1000 + off % 3000 ? BODY - off : 1000 + off % 3000;
        w += (size_t)sprintf(wire + w, "%zx;i=%zu\r\n", n, off);
        memcpy(wire + w, body + off, n);
        w += n;
        memcpy(wire + w, "\r\n", 2);
        w += 2;
        off += n;
    }
    w += (size_t)sprintf(wire + w, "0\r\nDigest: x\r\n\r\n");

    svk__http_chunked d;
    char buf[READ];
    size_t have = 0, fed = 0;
    int rc = SVK_EAGAIN;
    cr_assert_eq(svk__http_chunked_init(&d, NULL), 0);
    while (rc == SVK_EAGAIN) {
        size_t n = w - fed < READ - have ? w - fed : READ - have;
        memcpy(buf + have, wire + fed, n);
        fed += n;
        have += n;
        size_t got, used;
        rc = svk__http_chunked_decode(&d, buf, have, &got, &used);
        memcpy(out + o, buf, got);
        o += got;
        memmove(buf, buf + used, have - used);
        have -= used;
        cr_assert(rc != SVK_EAGAIN || have < 64, "carried %zu bytes over", have);
    }
    cr_assert_eq(rc, 0, "%s", d.reason);
    cr_assert_eq(fed, w);
    cr_assert_eq(o, (size_t)BODY);
    cr_assert(memcmp(out, body, BODY) == 0);
    free(body);
    free(wire);
    free(out);
}

Test(chunked, the_server_may_lower_the_body_limit)
{
    svk__http_chunked d;
    char in[] = "5\r\nhello\r\n0\r\n\r\n";
    size_t got, used;
    cr_assert_eq(svk__http_chunked_init(&d, NULL), 0);
    d.body_max = 4; /* this route's limit */
    cr_assert_eq(svk__http_chunked_decode(&d, in, strlen(in), &got, &used), SVK_ETOOBIG);
    cr_assert_eq(d.status, 413);
}

Test(chunked, done_stays_done_and_misuse_is_einval)
{
    svk__http_chunked d;
    char in[] = "0\r\n\r\nNEXT";
    size_t got, used;
    svk__http_limits bad = SVK__HTTP_LIMITS_DEFAULT;
    bad.trailer_max = 0;
    cr_assert_eq(svk__http_chunked_init(&d, &bad), SVK_EINVAL);
    cr_assert_eq(svk__http_chunked_init(NULL, NULL), SVK_EINVAL);
    cr_assert_eq(svk__http_chunked_init(&d, NULL), 0);
    cr_assert_eq(svk__http_chunked_decode(&d, in, strlen(in), &got, &used), 0);
    cr_assert_eq(used, 5);
    cr_assert_eq(svk__http_chunked_decode(&d, in + used, 4, &got, &used), 0);
    cr_assert_eq(used, 0);
    cr_assert_eq(got, 0);
    cr_assert_eq(svk__http_chunked_decode(&d, NULL, 1, &got, &used), SVK_EINVAL);
    cr_assert_eq(svk__http_chunked_decode(&d, in, 1, NULL, &used), SVK_EINVAL);
    cr_assert_eq(svk__http_chunked_decode(NULL, in, 1, &got, &used), SVK_EINVAL);
}
