/*
 * http_chunked_fuzz.c — libFuzzer target for the chunked body decoder.
 *
 * The input is what follows a request head. It is decoded at once, then fed
 * split at a point chosen from the input's hash, then one byte at a time,
 * each time as the server will: the bytes a call did not use begin the next
 * call's input, in a fresh heap copy of exactly that size. The outcomes —
 * return value, status, reason, decoded bytes and the bytes left for the
 * next request — must be identical. Runs with the default limits and with
 * tiny ones. Beyond sanitizer reports it aborts when:
 *   - the outcomes differ;
 *   - a call reports more data than input used, or more used than given;
 *   - an error has no reason or a status that does not match its code.
 */
#include "http/parser.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const svk__http_limits tiny = {64, 256, 4, 40, 8, 48};

struct outcome {
    int rc;
    int status;
    const char *reason;
    char *data;
    size_t data_len;
    char *left;
    size_t left_len;
};

static char *join(const char *a, size_t na, const uint8_t *b, size_t nb)
{
    char *s = malloc(na + nb > 0 ? na + nb : 1);
    if (s == NULL)
        abort();
    if (na > 0)
        memcpy(s, a, na);
    if (nb > 0)
        memcpy(s + na, b, nb);
    return s;
}

static void finish(struct outcome *o, int rc, const svk__http_chunked *d, char *pending,
                   size_t pending_len, const uint8_t *rest, size_t rest_len)
{
    o->rc = rc;
    if (rc != 0 && rc != SVK_EAGAIN) {
        if (d->reason == NULL || svk__http_status_code(d->status) != rc)
            abort();
        o->status = d->status;
        o->reason = d->reason;
        o->data_len = 0; /* what was decoded before an error does not matter */
    }
    o->left = join(pending, pending_len, rest, rest_len);
    o->left_len = pending_len + rest_len;
}

/* Feed in[0..n) in calls of `first`, then `step` more bytes each. */
static void feed(const uint8_t *in, size_t n, const svk__http_limits *l, size_t first,
                 size_t step, struct outcome *o)
{
    svk__http_chunked d;
    char *pending = NULL;
    size_t pending_len = 0, fed = 0, k = first < n ? first : n;
    int rc;
    memset(o, 0, sizeof *o);
    o->data = malloc(n > 0 ? n : 1);
    if (o->data == NULL || svk__http_chunked_init(&d, l) != 0)
        abort();
    for (;;) {
        char *buf = join(pending, pending_len, in + fed, k - fed);
        size_t len = pending_len + (k - fed), got, used;
        fed = k;
        free(pending);
        rc = svk__http_chunked_decode(&d, buf, len, &got, &used);
        if (got > used || used > len)
            abort();
        memcpy(o->data + o->data_len, buf, got);
        o->data_len += got;
        pending_len = len - used;
        pending = join(buf + used, pending_len, NULL, 0);
        free(buf);
        if (rc != SVK_EAGAIN || fed == n)
            break;
        k = n - k > step ? k + step : n;
    }
    finish(o, rc, &d, pending, pending_len, in + fed, n - fed);
    free(pending);
}

static int same(const struct outcome *a, const struct outcome *b)
{
    return a->rc == b->rc && a->status == b->status && a->reason == b->reason &&
           a->data_len == b->data_len && memcmp(a->data, b->data, a->data_len) == 0 &&
           a->left_len == b->left_len && memcmp(a->left, b->left, a->left_len) == 0;
}

static void release(struct outcome *o)
{
    free(o->data);
    free(o->left);
}

static size_t hash(const uint8_t *in, size_t n)
{
    uint64_t h = 14695981039346656037ULL;
    for (size_t i = 0; i < n; i++)
        h = (h ^ in[i]) * 1099511628211ULL;
    return (size_t)(h >> 7);
}

static void run(const uint8_t *data, size_t size, const svk__http_limits *l)
{
    struct outcome whole, part;
    feed(data, size, l, size, 1, &whole);
    feed(data, size, l, hash(data, size) % (size + 1), size, &part);
    if (!same(&whole, &part))
        abort();
    release(&part);
    feed(data, size, l, 0, 1, &part);
    if (!same(&whole, &part))
        abort();
    release(&part);
    release(&whole);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    run(data, size, NULL);
    run(data, size, &tiny);
    return 0;
}
