/*
 * feed.c — feeding inputs in pieces to the parser and the chunked decoder,
 * and describing outcomes as text (see feed.h).
 */
#include "feed.h"

#include <criterion/criterion.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct writer {
    char *p;
    size_t left;
};

static void put(struct writer *w, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(w->p, w->left, fmt, ap);
    va_end(ap);
    cr_assert(n >= 0 && (size_t)n < w->left, "outcome text longer than FEED_TEXT_MAX");
    w->p += n;
    w->left -= (size_t)n;
}

void feed_escape(const char *s, size_t n, char *out, size_t size)
{
    struct writer w = {out, size};
    out[0] = '\0';
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x20 && c < 0x7f && c != '\\')
            put(&w, "%c", c);
        else
            put(&w, "\\x%02x", c);
    }
}

static void put_span(struct writer *w, const char *label, const char *s, size_t n)
{
    static char esc[FEED_TEXT_MAX];
    if (s == NULL) {
        put(w, " %s=(null)", label);
        return;
    }
    cr_assert(n < sizeof esc / 4, "span too long to describe");
    feed_escape(s, n, esc, sizeof esc);
    put(w, " %s=[%s]", label, esc);
}

/* Every pointer of a complete request lies inside the head it came from
 * (the absolute-form "/" for an empty path is the one static exception). */
static void check_inside(const char *base, size_t used, const char *s, size_t n,
                         const char *what)
{
    if (s == NULL)
        return;
    int inside = s >= base && s + n <= base + used;
    cr_assert(inside || (n == 1 && strcmp(s, "/") == 0), "%s points outside the head", what);
}

static void put_request(struct writer *w, const svk__http_request *r, const char *base,
                        size_t used)
{
    check_inside(base, used, r->method, r->method_len, "method");
    check_inside(base, used, r->target, r->target_len, "target");
    check_inside(base, used, r->path, r->path_len, "path");
    check_inside(base, used, r->query, r->query_len, "query");
    check_inside(base, used, r->host, r->host_len, "host");
    put_span(w, "method", r->method, r->method_len);
    put_span(w, "target", r->target, r->target_len);
    put_span(w, "path", r->path, r->path_len);
    put_span(w, "query", r->query, r->query_len);
    put_span(w, "host", r->host, r->host_len);
    put(w, " v=1.%d form=%d body=%d cl=%llu ka=%d expect=%d fields=%zu", r->minor_version,
        r->target_form, r->body, (unsigned long long)r->content_length, r->keep_alive,
        r->expect_continue, r->num_headers);
    for (size_t i = 0; i < r->num_headers; i++) {
        const svk__http_header *h = &r->headers[i];
        check_inside(base, used, h->name, h->name_len, "field name");
        check_inside(base, used, h->value, h->value_len, "field value");
        put_span(w, "name", h->name, h->name_len);
        put_span(w, "value", h->value, h->value_len);
    }
}

static void describe_request(int rc, const svk__http_request *r, const char *base, char *text)
{
    struct writer w = {text, FEED_TEXT_MAX};
    put(&w, "rc=%s", rc > 0 ? "head" : svk_errname(rc));
    if (rc > 0) {
        put(&w, " used=%d", rc);
        put_request(&w, r, base, (size_t)rc);
    } else if (rc != SVK_EAGAIN) {
        cr_assert_not_null(r->reason, "an error without a reason");
        cr_assert_eq(svk__http_status_code(r->status), rc, "status %d does not match %s",
                     r->status, svk_errname(rc));
        put(&w, " status=%d reason=%s", r->status, r->reason);
    }
}

/* Where p lies in the copy, or p itself: NULL, or the static "/" of an
 * absolute-form target with an empty path. */
static const char *shift(const char *p, const char *copy, size_t used, const char *in)
{
    uintptr_t a = (uintptr_t)p, lo = (uintptr_t)copy;
    return a >= lo && a <= lo + used ? in + (a - lo) : p;
}

/* Point req into `in` instead of the copy that is about to be freed. */
static void rebase(svk__http_request *req, svk__http_header *headers, const char *copy,
                   size_t used, const char *in)
{
    req->method = shift(req->method, copy, used, in);
    req->target = shift(req->target, copy, used, in);
    req->path = shift(req->path, copy, used, in);
    req->query = shift(req->query, copy, used, in);
    req->host = shift(req->host, copy, used, in);
    const svk__http_header *copy_headers = req->headers;
    req->headers = headers;
    for (size_t i = 0; headers != NULL && i < req->num_headers; i++) {
        headers[i] = copy_headers[i];
        headers[i].name = shift(headers[i].name, copy, used, in);
        headers[i].value = shift(headers[i].value, copy, used, in);
    }
}

static size_t next_cut(size_t k, size_t step, size_t n)
{
    return n - k > step ? k + step : n;
}

int feed_request(const char *in, size_t n, const svk__http_limits *limits, size_t first,
                 size_t step, char *text, svk__http_request *req_out,
                 svk__http_header headers_out[FEED_MAX_HEADERS])
{
    svk__http_parser p;
    svk__http_request req;
    svk__http_header headers[FEED_MAX_HEADERS];
    char *copy = NULL;
    size_t k = first < n ? first : n;
    int rc;
    cr_assert_eq(svk__http_parser_init(&p, limits), 0);
    cr_assert_gt(step, 0);
    for (;;) {
        free(copy);
        copy = malloc(k > 0 ? k : 1);
        cr_assert_not_null(copy);
        memcpy(copy, in, k);
        rc = svk__http_parse_request(&p, copy, k, &req, headers, FEED_MAX_HEADERS);
        if (rc != SVK_EAGAIN || k == n)
            break;
        k = next_cut(k, step, n);
    }
    describe_request(rc, &req, copy, text);
    if (req_out != NULL) {
        *req_out = req;
        if (rc > 0)
            rebase(req_out, headers_out, copy, (size_t)rc, in);
    }
    free(copy);
    return rc;
}

static void describe_chunked(int rc, const svk__http_chunked *d, const char *data,
                             size_t data_len, const char *left, size_t left_len,
                             char *text)
{
    struct writer w = {text, FEED_TEXT_MAX};
    put(&w, "rc=%s", svk_errname(rc));
    if (rc != 0 && rc != SVK_EAGAIN) {
        cr_assert_not_null(d->reason, "an error without a reason");
        cr_assert_eq(svk__http_status_code(d->status), rc);
        put(&w, " status=%d reason=%s", d->status, d->reason);
        return;
    }
    put_span(&w, "data", data, data_len);
    put_span(&w, "left", left, left_len);
}

/* Bytes the decoder left unused, then those never offered to it. */
static char *join(const char *a, size_t na, const char *b, size_t nb)
{
    char *s = malloc(na + nb + 1);
    cr_assert_not_null(s);
    if (na > 0)
        memcpy(s, a, na);
    if (nb > 0)
        memcpy(s + na, b, nb);
    return s;
}

int feed_chunked(const char *in, size_t n, const svk__http_limits *limits, size_t first,
                 size_t step, char *text)
{
    svk__http_chunked d;
    char *data = malloc(n + 1), *pending = NULL;
    size_t data_len = 0, pending_len = 0, fed = 0, k = first < n ? first : n;
    int rc;
    cr_assert_eq(svk__http_chunked_init(&d, limits), 0);
    cr_assert_not_null(data);
    for (;;) {
        char *buf = join(pending, pending_len, in + fed, k - fed);
        size_t len = pending_len + (k - fed), got, used;
        fed = k;
        free(pending);
        rc = svk__http_chunked_decode(&d, buf, len, &got, &used);
        cr_assert(got <= used && used <= len, "data %zu, used %zu, len %zu", got, used, len);
        memcpy(data + data_len, buf, got);
        data_len += got;
        pending = join(buf + used, len - used, NULL, 0);
        pending_len = len - used;
        free(buf);
        if (rc != SVK_EAGAIN || fed == n)
            break;
        k = next_cut(k, step, n);
    }
    char *left = join(pending, pending_len, in + fed, n - fed);
    describe_chunked(rc, &d, data, data_len, left, pending_len + n - fed, text);
    free(left);
    free(pending);
    free(data);
    return rc;
}

typedef int (*feed_fn)(const char *in, size_t n, const svk__http_limits *limits,
                       size_t first, size_t step, char *text);

static int request_text(const char *in, size_t n, const svk__http_limits *limits,
                        size_t first, size_t step, char *text)
{
    return feed_request(in, n, limits, first, step, text, NULL, NULL);
}

static int check_splits(feed_fn feed, const char *in, size_t n,
                        const svk__http_limits *limits)
{
    char *whole = malloc(FEED_TEXT_MAX), *part = malloc(FEED_TEXT_MAX);
    cr_assert(whole != NULL && part != NULL);
    int rc = feed(in, n, limits, n, 1, whole);
    for (size_t k = 0; k < n; k++) {
        feed(in, n, limits, k, n, part);
        cr_assert(strcmp(part, whole) == 0, "split at %zu of %zu:\n  %s\nwhole:\n  %s", k, n,
                  part, whole);
    }
    feed(in, n, limits, 0, 1, part);
    cr_assert(strcmp(part, whole) == 0, "byte at a time:\n  %s\nwhole:\n  %s", part, whole);
    free(whole);
    free(part);
    return rc;
}

int feed_check_request_splits(const char *in, size_t n, const svk__http_limits *limits)
{
    return check_splits(request_text, in, n, limits);
}

int feed_check_chunked_splits(const char *in, size_t n, const svk__http_limits *limits)
{
    return check_splits(feed_chunked, in, n, limits);
}
