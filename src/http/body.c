/*
 * body.c — request bodies in the connection's read buffer: Content-Length
 * and chunked, read whole before the handler, streamed to a worker handler,
 * or dropped after an early answer.
 *
 * Layout of the read buffer while a body is read, kept as an invariant:
 *
 *   [ head (head_len) | body decoded so far (body_len) | input not yet used ]
 *
 * Chunked framing is decoded in place (svk__http_chunked_decode moves data
 * down over the framing), so a body is never copied: the handler reads it
 * where it was received. What follows the body is the next pipelined
 * request. Growing the buffer moves it, so the parsed head's pointers are
 * rebased.
 *
 * Streaming (SVK_HTTP_ROUTE_STREAM_BODY): the buffer is sized once, before
 * the worker starts (never moved again), with room for a 64 KiB window; the
 * loop stages decoded bytes into the window under stream_lock, the worker
 * copies them out (svk_http_request_read), and reading pauses while the
 * window is full and resumes when the worker has taken bytes.
 */
#include <stdint.h>
#include <string.h>

#include "http/server.h"

/* ------------------------------------------------------------- buffer */

static void rebase_ptr(const char **p, uintptr_t old, size_t old_len, char *now)
{
    uintptr_t v = (uintptr_t)*p;
    if (*p != NULL && v - old < old_len)
        *p = now + (v - old);
}

/* The head's pointers (and the route's parameters) follow the buffer. */
static void rebase(svk_http_request *req, uintptr_t old, size_t old_len, char *now)
{
    svk__http_request *h = &req->head;
    rebase_ptr(&h->method, old, old_len, now);
    rebase_ptr(&h->target, old, old_len, now);
    rebase_ptr(&h->path, old, old_len, now);
    rebase_ptr(&h->query, old, old_len, now);
    rebase_ptr(&h->host, old, old_len, now);
    for (size_t i = 0; i < h->num_headers; i++) {
        rebase_ptr(&h->headers[i].name, old, old_len, now);
        rebase_ptr(&h->headers[i].value, old, old_len, now);
    }
    for (size_t i = 0; i < req->match.nparams; i++)
        rebase_ptr(&req->match.params[i].value, old, old_len, now);
}

int svk__http_rb_reserve(svk__http_conn *c, size_t need)
{
    if (need <= c->rb_cap)
        return 0;
    uintptr_t old = (uintptr_t)c->rb;
    char *p = svk_realloc(c->rb, need);
    if (p == NULL)
        return SVK_ENOMEM;
    c->rb = p;
    c->rb_cap = need;
    if (c->req != NULL && c->req->head_len > 0)
        rebase(c->req, old, c->rb_len, p);
    return 0;
}

static size_t framing_slack(const svk__http_limits *l)
{
    return l->trailer_max + l->chunk_ext_max + 64;
}

static int body_fail(svk_http_request *req, int status, const char *reason, int rc)
{
    req->fail_status = status;
    req->fail_reason = reason;
    return rc;
}

/* -------------------------------------------------------- whole bodies */

static int length_step(svk__http_conn *c)
{
    svk_http_request *req = c->req;
    uint64_t cl = req->head.content_length;
    size_t have = c->rb_len - req->head_len;
    if (have >= cl) {
        req->body_len = req->body_wire = cl;
        return 0;
    }
    req->body_len = req->body_wire = have;
    if (svk__http_rb_reserve(c, req->head_len + (size_t)cl) != 0)
        return body_fail(req, 500, "out of memory", SVK_ENOMEM);
    return SVK_EAGAIN;
}

/* Decode what follows the staged body; keeps the buffer layout. */
static int decode_more(svk__http_conn *c, svk_http_request *req)
{
    size_t in = req->head_len + (size_t)req->body_len;
    size_t data_len = 0, used = 0;
    int rc = svk__http_chunked_decode(&req->chunked, c->rb + in, c->rb_len - in, &data_len,
                                      &used);
    if (rc != 0 && rc != SVK_EAGAIN)
        return body_fail(req, req->chunked.status, req->chunked.reason, rc);
    memmove(c->rb + in + data_len, c->rb + in + used, c->rb_len - in - used);
    c->rb_len -= used - data_len;
    req->body_len += data_len;
    req->body_wire += used;
    return rc;
}

static int chunked_step(svk__http_conn *c)
{
    svk_http_request *req = c->req;
    int rc = decode_more(c, req);
    if (rc != SVK_EAGAIN || c->rb_len < c->rb_cap)
        return rc;
    size_t max = req->head_len + (size_t)req->chunked.body_max +
                 framing_slack(&c->loop->srv->limits);
    size_t want = c->rb_cap * 2 < max ? c->rb_cap * 2 : max;
    if (want <= c->rb_cap)
        return body_fail(req, 413, "request body over the limit", SVK_ETOOBIG);
    if (svk__http_rb_reserve(c, want) != 0)
        return body_fail(req, 500, "out of memory", SVK_ENOMEM);
    return SVK_EAGAIN;
}

/* 0: the body is complete; SVK_EAGAIN: more bytes needed; else an error
 * with req->fail_status set. */
int svk__http_body_step(svk__http_conn *c)
{
    svk_http_request *req = c->req;
    int rc = req->head.body == SVK__HTTP_BODY_LENGTH ? length_step(c) : chunked_step(c);
    if (rc == 0)
        req->body_state = SVK__HTTP_BODY_COMPLETE;
    return rc;
}

/* ----------------------------------------------------------- streaming */

int svk__http_stream_prepare(svk__http_conn *c)
{
    svk_http_request *req = c->req;
    size_t need = req->head_len + SVK__HTTP_STREAM_WINDOW + framing_slack(&c->loop->srv->limits);
    if (svk__http_rb_reserve(c, need) != 0)
        return SVK_ENOMEM;
    c->phase_start = uv_now(&c->loop->uv);
    return 0;
}

/* Move the unread part of the window (and the input after it) down over
 * the bytes the worker has taken. Under stream_lock. */
static void stream_compact(svk__http_conn *c, svk_http_request *req)
{
    size_t taken = (size_t)req->stream_read;
    if (taken == 0)
        return;
    size_t from = req->head_len + taken;
    memmove(c->rb + req->head_len, c->rb + from, c->rb_len - from);
    c->rb_len -= taken;
    req->body_len -= taken;
    req->stream_read = 0;
}

static int stream_stage(svk__http_conn *c, svk_http_request *req)
{
    if (req->head.body == SVK__HTTP_BODY_CHUNKED)
        return decode_more(c, req);
    uint64_t left = req->head.content_length - req->body_wire;
    size_t fresh = c->rb_len - req->head_len - (size_t)req->body_len;
    size_t take = fresh < left ? fresh : (size_t)left;
    req->body_len += take;
    req->body_wire += take;
    return req->body_wire == req->head.content_length ? 0 : SVK_EAGAIN;
}

/* Loop side: stage new bytes for the worker. Returns as body_step. */
int svk__http_stream_step(svk__http_conn *c)
{
    svk_http_request *req = c->req;
    int rc = 0;
    pthread_mutex_lock(&req->stream_lock);
    stream_compact(c, req);
    if (!req->stream_eof && req->fail_status == 0) {
        rc = stream_stage(c, req);
        if (rc == 0) {
            req->stream_eof = 1;
            req->body_state = SVK__HTTP_BODY_COMPLETE;
        } else if (rc != SVK_EAGAIN && req->stream_err == 0) {
            req->stream_err = rc == SVK_ENOMEM ? SVK_ENOMEM : rc;
        }
    }
    req->stream_paused = req->body_len >= SVK__HTTP_STREAM_WINDOW || c->rb_len == c->rb_cap;
    pthread_cond_broadcast(&req->stream_cond);
    pthread_mutex_unlock(&req->stream_lock);
    return rc;
}

SVK_API int svk_http_request_read(svk_http_request *req, void *buf, size_t cap, size_t *n)
{
    if (req == NULL || n == NULL || (buf == NULL && cap > 0))
        return SVK_EINVAL;
    *n = 0;
    if (!req->stream_body)
        return SVK_ESTATE;
    int rc = 0, resume = 0;
    const char *base = req->conn->rb + req->head_len;
    pthread_mutex_lock(&req->stream_lock);
    for (;;) {
        uint64_t avail = req->body_len - req->stream_read;
        if (avail > 0 || cap == 0) {
            size_t k = avail < cap ? (size_t)avail : cap;
            memcpy(buf, base + req->stream_read, k);
            req->stream_read += k;
            *n = k;
            resume = req->stream_paused;
            break;
        }
        if (req->stream_eof)
            break;
        if (req->stream_err != 0) {
            rc = req->stream_err;
            break;
        }
        pthread_cond_wait(&req->stream_cond, &req->stream_lock);
    }
    pthread_mutex_unlock(&req->stream_lock);
    if (resume)
        svk__http_loop_post(req, SVK__HTTP_EV_RESUME);
    return rc;
}

/* ------------------------------------------------------------ discard */

/* Drop the rest of a body nobody read (its head and read part are gone:
 * the buffer starts with body input). 0 when it is all dropped. */
int svk__http_discard_step(svk__http_conn *c)
{
    svk_http_request *req = c->req;
    if (!c->discard_chunked) {
        size_t k = c->rb_len < c->discard_left ? c->rb_len : (size_t)c->discard_left;
        memmove(c->rb, c->rb + k, c->rb_len - k);
        c->rb_len -= k;
        c->discard_left -= k;
        req->body_wire += k;
        return c->discard_left == 0 ? 0 : SVK_EAGAIN;
    }
    size_t data_len = 0, used = 0;
    int rc = svk__http_chunked_decode(&req->chunked, c->rb, c->rb_len, &data_len, &used);
    if (rc != 0 && rc != SVK_EAGAIN)
        return rc;
    memmove(c->rb, c->rb + used, c->rb_len - used);
    c->rb_len -= used;
    req->body_wire += used;
    if (rc == SVK_EAGAIN && c->rb_len == c->rb_cap &&
        svk__http_rb_reserve(c, c->rb_cap + framing_slack(&c->loop->srv->limits)) != 0)
        return SVK_ENOMEM;
    return rc;
}
