/*
 * http_parser_fuzz.c — libFuzzer target for the HTTP/1.1 request parser.
 *
 * The input is a byte stream from a client. It is parsed at once, then
 * again split at a point chosen from the input's hash (each piece a fresh
 * heap copy of exactly the bytes received, so ASan sees reads past len and
 * pointers kept from an earlier call), then one byte at a time; all three
 * outcomes must be identical — return value, status, reason and every field
 * as an offset into the input. Complete heads are followed in order
 * (pipelining: skip a Content-Length body, decode a chunked one) and each
 * following head is checked the same way. All of it runs with the default
 * limits and again with tiny ones, so the limit paths are reached too.
 * Beyond sanitizer reports it aborts when:
 *   - the outcomes of the splits differ;
 *   - a complete head claims more bytes than it was given, or a field
 *     points outside the head;
 *   - an error has no reason or a status that does not match its code.
 */
#include "http/parser.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_FIELDS 100
#define NO_SPAN ((size_t)-1)
#define STATIC_SLASH ((size_t)-2)

struct span {
    size_t off;
    size_t len;
};

/* A parse outcome with every pointer as an offset: comparable across copies. */
struct outcome {
    int rc;
    int status;
    const char *reason;
    struct span method, target, path, query, host;
    int minor, form, body, keep_alive, expect;
    uint64_t content_length;
    size_t fields;
    struct span names[MAX_FIELDS], values[MAX_FIELDS];
};

static const svk__http_limits tiny = {64, 256, 8, 64, 16, 64};

static struct span span_of(const char *base, size_t used, const char *p, size_t n)
{
    struct span s = {NO_SPAN, 0};
    if (p == NULL)
        return s;
    uintptr_t a = (uintptr_t)p, lo = (uintptr_t)base;
    if (a < lo || a + n > lo + used) {
        if (n != 1 || p[0] != '/') /* only the absolute-form empty path is static */
            abort();
        s.off = STATIC_SLASH;
        s.len = 1;
        return s;
    }
    s.off = (size_t)(a - lo);
    s.len = n;
    return s;
}

static void record(struct outcome *o, int rc, const svk__http_request *r, const char *base,
                   size_t len)
{
    memset(o, 0, sizeof *o);
    o->rc = rc;
    if (rc == SVK_EAGAIN)
        return;
    if (rc < 0) {
        if (r->reason == NULL || svk__http_status_code(r->status) != rc)
            abort();
        o->status = r->status;
        o->reason = r->reason;
        return;
    }
    if ((size_t)rc > len || r->num_headers > MAX_FIELDS)
        abort();
    o->method = span_of(base, (size_t)rc, r->method, r->method_len);
    o->target = span_of(base, (size_t)rc, r->target, r->target_len);
    o->path = span_of(base, (size_t)rc, r->path, r->path_len);
    o->query = span_of(base, (size_t)rc, r->query, r->query_len);
    o->host = span_of(base, (size_t)rc, r->host, r->host_len);
    o->minor = r->minor_version;
    o->form = r->target_form;
    o->body = r->body;
    o->keep_alive = r->keep_alive;
    o->expect = r->expect_continue;
    o->content_length = r->content_length;
    o->fields = r->num_headers;
    for (size_t i = 0; i < r->num_headers; i++) {
        o->names[i] = span_of(base, (size_t)rc, r->headers[i].name, r->headers[i].name_len);
        o->values[i] = span_of(base, (size_t)rc, r->headers[i].value, r->headers[i].value_len);
    }
}

static char *copy_of(const uint8_t *in, size_t n)
{
    char *c = malloc(n > 0 ? n : 1);
    if (c == NULL)
        abort();
    if (n > 0)
        memcpy(c, in, n);
    return c;
}

/* Feed in[0..n) in calls of `first`, then `step` more bytes each. */
static void feed(const uint8_t *in, size_t n, const svk__http_limits *l, size_t first,
                 size_t step, struct outcome *o)
{
    static svk__http_header headers[MAX_FIELDS];
    svk__http_parser p;
    svk__http_request r;
    size_t k = first < n ? first : n;
    char *copy = NULL;
    int rc;
    if (svk__http_parser_init(&p, l) != 0)
        abort();
    for (;;) {
        free(copy);
        copy = copy_of(in, k);
        rc = svk__http_parse_request(&p, copy, k, &r, headers, MAX_FIELDS);
        if (rc != SVK_EAGAIN || k == n)
            break;
        k = n - k > step ? k + step : n;
    }
    record(o, rc, &r, copy, k);
    free(copy);
}

static size_t hash(const uint8_t *in, size_t n)
{
    uint64_t h = 14695981039346656037ULL;
    for (size_t i = 0; i < n; i++)
        h = (h ^ in[i]) * 1099511628211ULL;
    return (size_t)(h >> 7);
}

/* Returns the head length (0 if incomplete or invalid). */
static size_t check_head(const uint8_t *in, size_t n, const svk__http_limits *l,
                         struct outcome *whole)
{
    static struct outcome part;
    feed(in, n, l, n, 1, whole);
    feed(in, n, l, hash(in, n) % (n + 1), n, &part);
    if (memcmp(whole, &part, sizeof part) != 0)
        abort();
    feed(in, n, l, 0, 1, &part);
    if (memcmp(whole, &part, sizeof part) != 0)
        abort();
    return whole->rc > 0 ? (size_t)whole->rc : 0;
}

/* Bytes the body after a head takes, or 0 when the stream cannot go on. */
static size_t skip_body(const uint8_t *in, size_t n, const svk__http_limits *l,
                        const struct outcome *o)
{
    if (o->body == SVK__HTTP_BODY_NONE)
        return 0;
    if (o->body == SVK__HTTP_BODY_LENGTH)
        return o->content_length <= n ? (size_t)o->content_length : n;
    svk__http_chunked d;
    size_t got, used;
    char *copy = copy_of(in, n);
    if (svk__http_chunked_init(&d, l) != 0)
        abort();
    int rc = svk__http_chunked_decode(&d, copy, n, &got, &used);
    free(copy);
    if (got > used || used > n)
        abort();
    return rc == 0 ? used : n;
}

static void run(const uint8_t *data, size_t size, const svk__http_limits *l)
{
    static struct outcome o;
    size_t at = 0;
    for (int heads = 0; heads < 8 && at < size; heads++) {
        size_t head = check_head(data + at, size - at, l, &o);
        if (head == 0)
            return;
        at += head;
        at += skip_body(data + at, size - at, l, &o);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    run(data, size, NULL);
    run(data, size, &tiny);
    return 0;
}
