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
#include "parser_cases.h"
#include "http/parser.h"

/* The table of bodies is parser_cases.c (shared with the server's socket
 * tests, rejection_test.c). */

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
    for (size_t i = 0; i < chunked_case_count; i++)
        expect_case(&chunked_cases[i]);
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
