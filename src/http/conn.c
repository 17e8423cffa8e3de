/*
 * conn.c — one TCP connection: the state machine that reads heads and
 * bodies, dispatches requests, writes responses and enforces every timeout.
 *
 *   IDLE ──byte──▶ HEAD ──▶ BODY ──▶ (handler) ──▶ WRITE ──▶ IDLE (keep-alive)
 *                    │        │         │                 ├─▶ DISCARD ─▶ IDLE
 *                    └────────┴── error ┴─▶ WRITE ────────┴─▶ LINGER ─▶ closed
 *
 * One request at a time: pipelined requests wait in the read buffer (and
 * the kernel) until the previous response is written, so responses leave in
 * order and a body is never parsed as a head. Non-blocking handlers run
 * inside the read callback and their response is written with one writev
 * (uv_try_write) in the same call, so a keep-alive request costs one read
 * and one writev; only a worker hand-off or a partial write stops reading.
 *
 * Timeouts share one uv_timer_t per connection, armed lazily: moving a
 * deadline later leaves the timer where it is (it fires, finds nothing due
 * and re-arms), so steady keep-alive traffic re-arms it about once per
 * read-header period, not per request. io_due is the current phase's limit
 * (read-header, body read and byte-rate floor, write, idle, linger);
 * handler_due is the handler's deadline.
 *
 * Memory: a connection between requests holds only this struct (no read
 * buffer, no request state); both come from the loop's pools on the next
 * byte. The struct is freed after both handles have closed and no worker
 * holds its request.
 */
#include <string.h>
#include <sys/socket.h>

#include "http/server.h"

/* A write whose bytes live in the request itself (uv_try_write could not
 * take them all at once): 100 Continue, the deadline 503, the refusal. */
typedef struct raw_write {
    uv_write_t req;
    size_t len;
    char data[];
} raw_write;

static void conn_advance(svk__http_conn *c);
static void respond(svk__http_conn *c);
static void linger_close(svk__http_conn *c);

static uint64_t now_ms(const svk__http_conn *c)
{
    return uv_now(&c->loop->uv);
}

/* ----------------------------------------------------------------- timer */

static void on_timer(uv_timer_t *t);

static void timer_arm(svk__http_conn *c)
{
    uint64_t due = c->io_due < c->handler_due ? c->io_due : c->handler_due;
    if (due == SVK__HTTP_NEVER || (c->armed_due != 0 && c->armed_due <= due))
        return;
    uint64_t now = now_ms(c);
    uv_timer_start(&c->timer, on_timer, due > now ? due - now : 0, 0);
    c->armed_due = due;
}

static uint64_t after(const svk__http_conn *c, uint64_t ms)
{
    return ms == SVK__HTTP_NEVER ? SVK__HTTP_NEVER : now_ms(c) + ms;
}

static void set_io(svk__http_conn *c, uint64_t ms)
{
    c->io_due = after(c, ms);
    timer_arm(c);
}

/* ---------------------------------------------------------- life cycle */

static void maybe_free(svk__http_conn *c)
{
    if (c->handles_open > 0 || c->worker_holds || c->req != NULL)
        return;
    svk__http_loop *l = c->loop;
    if (c->rb != NULL)
        svk__http_rb_put(l, c->rb, c->rb_cap);
    c->prev->next = c->next;
    c->next->prev = c->prev;
    if (c->is_reserve)
        l->reserve_busy = 0;
    else
        svk_free(c);
    svk__http_loop_conn_gone(l);
    if (l->accept_pending && !l->reserve_busy && l->listener_open) {
        l->accept_pending = 0;
        svk__http_conn_accept(l);
    }
}

static void on_handle_closed(uv_handle_t *h)
{
    svk__http_conn *c = h->data;
    c->handles_open--;
    maybe_free(c);
}

/* Tell a worker blocked in a streaming call that it is over. */
static void stream_fail(svk_http_request *req, int err)
{
    pthread_mutex_lock(&req->stream_lock);
    if (req->stream_err == 0)
        req->stream_err = err;
    pthread_cond_broadcast(&req->stream_cond);
    pthread_mutex_unlock(&req->stream_lock);
}

/* The request is over for the client: log it once, run the end hooks. */
static void req_logged(svk_http_request *req)
{
    if (req->status_sent >= 0) {
        svk__http_finish_log(req);
        req->status_sent = -1;
    }
}

/* Give the request back to the pool unless a worker or a write holds it;
 * whoever holds it calls this again when done. */
static void req_drop(svk__http_conn *c)
{
    svk_http_request *req = c->req;
    if (req == NULL || c->worker_holds || req->write_pending)
        return;
    req_logged(req);
    svk__http_req_end(req);
    svk__http_req_put(c->loop, req);
    c->req = NULL;
}

static void abandon(svk_http_request *req)
{
    atomic_store(&req->abandoned, 1);
    svk_ctx_cancel(req->ctx);
    stream_fail(req, SVK_ECANCELED);
}

void svk__http_conn_close(svk__http_conn *c)
{
    if (c->phase == SVK__HTTP_CLOSED)
        return;
    c->phase = SVK__HTTP_CLOSED;
    c->reading = 0;
    if (c->req != NULL && c->worker_holds)
        abandon(c->req);
    req_drop(c);
    uv_close((uv_handle_t *)&c->tcp, on_handle_closed);
    uv_close((uv_handle_t *)&c->timer, on_handle_closed);
}

/* Close with a reset (SO_LINGER 0): the kernel drops what is still queued
 * for a client that stopped reading, instead of holding it for minutes. */
static void conn_abort(svk__http_conn *c)
{
    uv_os_fd_t fd;
    struct linger lg = {1, 0};
    if (c->phase != SVK__HTTP_CLOSED && uv_fileno((uv_handle_t *)&c->tcp, &fd) == 0)
        setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
    svk__http_conn_close(c);
}

static void timed_out(svk__http_conn *c)
{
    atomic_fetch_add(&c->loop->srv->n_timeouts, 1);
}

/* ------------------------------------------------------------- reading */

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    svk__http_conn *c = h->data;
    (void)suggested;
    if (c->rb == NULL) {
        c->rb = svk__http_rb_get(c->loop);
        c->rb_cap = c->rb ? SVK__HTTP_RB_SIZE : 0;
        c->rb_len = 0;
    }
    if (c->phase == SVK__HTTP_LINGER || c->phase == SVK__HTTP_DISCARD) {
        if (c->phase == SVK__HTTP_LINGER)
            c->rb_len = 0;
    }
    buf->base = c->rb ? c->rb + c->rb_len : NULL;
    buf->len = c->rb ? c->rb_cap - c->rb_len : 0;
}

static void release_rb_if_idle(svk__http_conn *c)
{
    if (c->rb != NULL && c->rb_len == 0 &&
        (c->phase == SVK__HTTP_IDLE || c->phase == SVK__HTTP_LINGER)) {
        svk__http_rb_put(c->loop, c->rb, c->rb_cap);
        c->rb = NULL;
        c->rb_cap = 0;
    }
}

static void on_eof(svk__http_conn *c)
{
    svk_http_request *req = c->req;
    if (c->phase == SVK__HTTP_HANDLER && req != NULL && req->stream_body) {
        /* The worker is told; the connection closes when it returns. */
        req->fail_status = 400;
        stream_fail(req, SVK_ECLOSED);
        c->closing = 1;
        c->reading = 0;
        uv_read_stop((uv_stream_t *)&c->tcp);
        return;
    }
    svk__http_conn_close(c);
}

static void on_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf)
{
    svk__http_conn *c = s->data;
    (void)buf;
    if (n > 0) {
        c->rb_len += (size_t)n;
        conn_advance(c);
    } else if (n == 0) {
        release_rb_if_idle(c);
    } else {
        on_eof(c);
    }
}

static int want_reading(const svk__http_conn *c)
{
    const svk_http_request *req = c->req;
    switch (c->phase) {
    case SVK__HTTP_IDLE:
    case SVK__HTTP_HEAD:
    case SVK__HTTP_BODY:
    case SVK__HTTP_DISCARD:
    case SVK__HTTP_LINGER:
        return 1;
    case SVK__HTTP_HANDLER:
        return req != NULL && req->stream_body && !req->stream_paused && !req->stream_eof &&
               req->fail_status == 0 && !c->closing;
    default:
        return 0;
    }
}

static void sync_reading(svk__http_conn *c)
{
    if (c->phase == SVK__HTTP_CLOSED)
        return;
    int want = want_reading(c);
    if (want && !c->reading) {
        if (uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read) != 0) {
            svk__http_conn_close(c);
            return;
        }
        c->reading = 1;
    } else if (!want && c->reading) {
        uv_read_stop((uv_stream_t *)&c->tcp);
        c->reading = 0;
    }
}

/* ------------------------------------------------------------- writing */

static void on_raw_written(uv_write_t *w, int status)
{
    (void)status;
    svk_free(w->data);
}

/* Queue bytes that do not belong to a request's buffers (copied). */
static int write_raw(svk__http_conn *c, const char *data, size_t len)
{
    uv_buf_t b = uv_buf_init((char *)data, (unsigned)len);
    int n = uv_try_write((uv_stream_t *)&c->tcp, &b, 1);
    if (n == (int)len)
        return 0;
    if (n < 0 && n != UV_EAGAIN)
        return SVK_ECLOSED;
    size_t done = n > 0 ? (size_t)n : 0;
    raw_write *w = svk_malloc(sizeof *w + len - done);
    if (w == NULL)
        return SVK_ENOMEM;
    memcpy(w->data, data + done, len - done);
    w->len = len - done;
    w->req.data = w;
    b = uv_buf_init(w->data, (unsigned)w->len);
    if (uv_write(&w->req, (uv_stream_t *)&c->tcp, &b, 1, on_raw_written) != 0) {
        svk_free(w);
        return SVK_ECLOSED;
    }
    return 0;
}

/* Compact the read buffer: drop the bytes of the request just finished. */
static void consume(svk__http_conn *c, size_t n)
{
    if (n >= c->rb_len) {
        c->rb_len = 0;
    } else if (n > 0) {
        memmove(c->rb, c->rb + n, c->rb_len - n);
        c->rb_len -= n;
    }
}

static void next_request(svk__http_conn *c)
{
    svk_http_request *req = c->req;
    consume(c, req->head_len + (size_t)req->body_len);
    req_drop(c);
    c->phase = SVK__HTTP_IDLE;
    c->handler_due = SVK__HTTP_NEVER;
    set_io(c, c->loop->srv->idle_ms);
    release_rb_if_idle(c);
}

/* The body the handler did not read: drop it if small, else close. */
static void skip_body(svk__http_conn *c)
{
    svk_http_request *req = c->req;
    const svk_http_server *srv = c->loop->srv;
    if (req->head.expect_continue && !req->continue_sent) {
        linger_close(c); /* the client may or may not send it: do not guess */
        return;
    }
    if (req->head.body == SVK__HTTP_BODY_LENGTH) {
        uint64_t left = req->head.content_length - req->body_wire;
        if (left > srv->opts.drain_body_max) {
            linger_close(c);
            return;
        }
        c->discard_left = left;
        c->discard_chunked = 0;
    } else {
        c->discard_chunked = 1;
        req->chunked.body_max = req->body_len + srv->opts.drain_body_max;
    }
    consume(c, req->head_len + (size_t)req->body_len);
    req->head_len = 0;
    req->body_len = 0;
    c->phase = SVK__HTTP_DISCARD;
    c->phase_start = now_ms(c);
    set_io(c, srv->defaults.read_ms);
}

/* The response is written: log, then the next request, a discard or close. */
static void after_response(svk__http_conn *c)
{
    svk_http_request *req = c->req;
    req_logged(req);
    if (c->closing || req->resp.close) {
        linger_close(c);
    } else if (req->body_state == SVK__HTTP_BODY_UNREAD ||
               (req->body_state == SVK__HTTP_BODY_READING)) {
        skip_body(c);
    } else {
        next_request(c);
    }
}

static void on_written(uv_write_t *w, int status)
{
    svk_http_request *req = w->data;
    svk__http_conn *c = req->conn;
    req->write_pending = 0;
    if (c->phase == SVK__HTTP_CLOSED) {
        req_drop(c);
        maybe_free(c);
        return;
    }
    if (status < 0) {
        svk__http_conn_close(c);
        return;
    }
    after_response(c);
    conn_advance(c);
}

static size_t iov_total(const uv_buf_t *iov, unsigned n)
{
    size_t t = 0;
    for (unsigned i = 0; i < n; i++)
        t += iov[i].len;
    return t;
}

/* Drop the first n bytes of iov (after a partial uv_try_write). */
static unsigned iov_skip(uv_buf_t *iov, unsigned nbufs, size_t n)
{
    unsigned i = 0;
    while (i < nbufs && n >= iov[i].len)
        n -= iov[i++].len;
    if (i < nbufs) {
        iov[i].base += n;
        iov[i].len -= n;
    }
    for (unsigned k = 0; i + k < nbufs; k++)
        iov[k] = iov[i + k];
    return nbufs - i;
}

static void write_response(svk__http_conn *c)
{
    svk_http_request *req = c->req;
    unsigned nbufs = req->iov[1].len > 0 ? 2 : 1;
    size_t total = iov_total(req->iov, nbufs);
    req->bytes_out += total;
    int n = uv_try_write((uv_stream_t *)&c->tcp, req->iov, nbufs);
    if (n == (int)total) {
        after_response(c);
        return;
    }
    if (n < 0 && n != UV_EAGAIN) {
        svk__http_conn_close(c);
        return;
    }
    nbufs = iov_skip(req->iov, nbufs, n > 0 ? (size_t)n : 0);
    req->write_req.data = req;
    if (uv_write(&req->write_req, (uv_stream_t *)&c->tcp, req->iov, nbufs, on_written) != 0) {
        svk__http_conn_close(c);
        return;
    }
    req->write_pending = 1;
}

/* Build and send the response of c->req (the handler has returned). */
static void respond(svk__http_conn *c)
{
    svk_http_request *req = c->req;
    c->handler_due = SVK__HTTP_NEVER;
    if (svk__http_resp_build(req) != 0) {
        svk__http_conn_close(c);
        return;
    }
    c->phase = SVK__HTTP_WRITE;
    set_io(c, req->cfg->write_ms);
    write_response(c);
}

/* Answer an error found by the server itself (parser, limits, timeouts),
 * then close. */
static void fail(svk__http_conn *c, int status, const char *reason)
{
    svk_http_request *req = c->req;
    req->fail_reason = reason;
    c->closing = 1;
    if (req->request_id[0] == '\0')
        svk__http_request_id(req);
    if (svk__http_resp_error_body(req, status, reason) != 0) {
        svk__http_conn_close(c);
        return;
    }
    respond(c);
}

/* ------------------------------------------------------------- linger */

static void on_shutdown(uv_shutdown_t *s, int status)
{
    (void)status;
    svk_free(s);
}

/* The last response is out: half-close, read and drop what the client
 * still sends (so the kernel does not answer it with a reset that could
 * destroy the response in flight), close at EOF or after a while: long
 * after an error (the client may be mid-body), short after a complete
 * exchange (Go's 500 ms), not at all when the client asked to close and
 * nothing of it is left unread. */
static void linger_close(svk__http_conn *c)
{
    svk_http_request *req = c->req;
    const svk_http_server *srv = c->loop->srv;
    uint64_t ms = srv->linger_ms;
    if (req != NULL && !c->worker_holds && req->fail_status == 0 &&
        req->body_state == SVK__HTTP_BODY_COMPLETE && req->fail_reason == NULL) {
        int asked = !req->head.keep_alive;
        ms = asked && c->rb_len == req->head_len + (size_t)req->body_len ? 0
                                                                            : srv->linger_clean_ms;
    }
    if (req != NULL && !c->worker_holds && !req->write_pending)
        req_logged(req);
    req_drop(c);
    if (ms == 0) {
        svk__http_conn_close(c);
        return;
    }
    c->phase = SVK__HTTP_LINGER;
    c->rb_len = 0;
    c->handler_due = SVK__HTTP_NEVER;
    set_io(c, ms);
    uv_shutdown_t *s = svk_malloc(sizeof *s);
    if (s == NULL || uv_shutdown(s, (uv_stream_t *)&c->tcp, on_shutdown) != 0) {
        svk_free(s);
        svk__http_conn_close(c);
    }
}

/* -------------------------------------------------------------- dispatch */

static void send_continue(svk__http_conn *c)
{
    static const char cont[] = "HTTP/1.1 100 Continue\r\n\r\n";
    svk_http_request *req = c->req;
    if (req->head.expect_continue && !req->continue_sent) {
        req->continue_sent = 1;
        write_raw(c, cont, sizeof cont - 1);
    }
}

static void run_inline(svk__http_conn *c)
{
    svk_http_request *req = c->req;
    req->on_loop = 1;
    req->handler_rc = svk__http_run(req);
    respond(c);
}

static void dispatch(svk__http_conn *c)
{
    svk_http_request *req = c->req;
    svk_http_server *srv = c->loop->srv;
    svk__http_req_set_deadline(req, req->cfg->handler_ms);
    if (req->builtin || (req->cfg->flags & SVK_HTTP_ROUTE_NONBLOCKING)) {
        run_inline(c);
        return;
    }
    if (req->stream_body)
        send_continue(c);
    c->handler_due = after(c, req->cfg->handler_ms);
    c->io_due = SVK__HTTP_NEVER; /* a streamed body sets its own */
    c->phase = SVK__HTTP_HANDLER;
    c->worker_holds = 1;
    if (svk__http_workers_submit(srv->workers, req) != 0) {
        c->worker_holds = 0;
        c->handler_due = SVK__HTTP_NEVER;
        atomic_fetch_add(&srv->n_worker_rejections, 1);
        if (req->stream_body)
            c->closing = 1;
        svk__http_resp_error_body(req, 503, "server busy");
        svk__http_resp_add_retry_after(req);
        respond(c);
        return;
    }
    timer_arm(c);
}

/* Where a routed request goes next: read its body, or straight on. The
 * server's own answers (probes, 404, 405, OPTIONS) never read a body. */
static int route_onward(svk__http_conn *c)
{
    svk_http_request *req = c->req;
    const svk__http_request *h = &req->head;
    int has_body = h->body == SVK__HTTP_BODY_CHUNKED ||
                   (h->body == SVK__HTTP_BODY_LENGTH && h->content_length > 0);
    if (!req->builtin && h->body == SVK__HTTP_BODY_LENGTH &&
        h->content_length > req->cfg->body_limit) {
        fail(c, 413, "request body over the limit");
        return 1;
    }
    if (req->builtin || !has_body) {
        req->body_state = has_body ? SVK__HTTP_BODY_UNREAD : SVK__HTTP_BODY_COMPLETE;
        /* Known now: this body will not be drained (see skip_body). */
        if (has_body && (h->expect_continue ||
                         (h->body == SVK__HTTP_BODY_LENGTH &&
                          h->content_length > c->loop->srv->opts.drain_body_max)))
            req->resp.close = 1;
        dispatch(c);
        return 1;
    }
    if (req->stream_body) {
        if (svk__http_stream_prepare(c) != 0)
            fail(c, 500, "out of memory");
        else
            dispatch(c);
        return 1;
    }
    send_continue(c);
    c->phase = SVK__HTTP_BODY;
    c->phase_start = now_ms(c);
    return 1;
}

static int on_head(svk__http_conn *c)
{
    svk_http_request *req = c->req;
    int rc = svk__http_req_route(req);
    if (rc != 0) {
        fail(c, 500, "out of memory");
        return 1;
    }
    return route_onward(c);
}

/* --------------------------------------------------------------- phases */

static int start_request(svk__http_conn *c)
{
    svk_http_request *req = svk__http_req_get(c->loop);
    if (req == NULL || svk__http_req_begin(req, c) != 0) {
        if (req != NULL)
            svk__http_req_put(c->loop, req);
        svk__http_conn_close(c);
        return 0;
    }
    c->req = req;
    c->phase = SVK__HTTP_HEAD;
    if (c->requests > 0)
        set_io(c, c->loop->srv->read_header_ms);
    return 1;
}

static int head_step(svk__http_conn *c)
{
    svk_http_request *req = c->req;
    int n = svk__http_parse_request(&req->parser, c->rb, c->rb_len, &req->head, req->headers,
                                    req->nheaders_cap);
    if (n == SVK_EAGAIN) {
        if (c->rb_len == c->rb_cap && svk__http_rb_reserve(c, c->rb_cap * 2) != 0) {
            fail(c, 431, "request head too large");
            return 1;
        }
        return 0;
    }
    if (n < 0) {
        fail(c, req->head.status, req->head.reason);
        return 1;
    }
    req->head_len = (size_t)n;
    c->requests++;
    return on_head(c);
}

/* Body deadline: the read timeout, or sooner when the client sends slower
 * than min_rate bytes/s after the grace period (Apache's MinRate idea). */
static void body_deadline(svk__http_conn *c, uint64_t wire)
{
    const svk_http_request *req = c->req;
    uint64_t start = c->phase_start, due = SVK__HTTP_NEVER;
    if (req->cfg->read_ms != SVK__HTTP_NEVER)
        due = start + req->cfg->read_ms;
    if (req->cfg->min_rate > 0) {
        uint64_t floor = start + c->loop->srv->rate_grace_ms + wire * 1000 / req->cfg->min_rate;
        due = floor < due ? floor : due;
    }
    c->io_due = due;
    timer_arm(c);
}

static int body_phase(svk__http_conn *c)
{
    svk_http_request *req = c->req;
    int rc = svk__http_body_step(c);
    if (rc == SVK_EAGAIN) {
        body_deadline(c, req->body_wire);
        return 0;
    }
    if (rc != 0) {
        fail(c, req->fail_status, req->fail_reason);
        return 1;
    }
    dispatch(c);
    return 1;
}

static int stream_phase(svk__http_conn *c)
{
    svk_http_request *req = c->req;
    int rc = svk__http_stream_step(c);
    if (rc == SVK_EAGAIN && !req->stream_paused)
        body_deadline(c, req->body_wire);
    else if (!req->flush_inflight)
        c->io_due = SVK__HTTP_NEVER;
    return 0;
}

static int discard_phase(svk__http_conn *c)
{
    int rc = svk__http_discard_step(c);
    if (rc == SVK_EAGAIN) {
        body_deadline(c, 0);
        return 0;
    }
    if (rc != 0) {
        linger_close(c);
        return 0;
    }
    c->req->body_state = SVK__HTTP_BODY_COMPLETE;
    next_request(c);
    return 1;
}

static int step(svk__http_conn *c)
{
    switch (c->phase) {
    case SVK__HTTP_IDLE:
        return c->rb_len > 0 ? start_request(c) : 0;
    case SVK__HTTP_HEAD:
        return head_step(c);
    case SVK__HTTP_BODY:
        return body_phase(c);
    case SVK__HTTP_HANDLER:
        return c->req != NULL && c->req->stream_body ? stream_phase(c) : 0;
    case SVK__HTTP_DISCARD:
        return discard_phase(c);
    case SVK__HTTP_LINGER:
        c->rb_len = 0;
        return 0;
    default:
        return 0;
    }
}

static void conn_advance(svk__http_conn *c)
{
    if (c->in_advance)
        return;
    c->in_advance = 1;
    while (step(c))
        ;
    c->in_advance = 0;
    sync_reading(c);
}

/* --------------------------------------------------------------- timers */

static void handler_expired(svk__http_conn *c)
{
    svk_http_request *req = c->req;
    if (c->phase != SVK__HTTP_HANDLER || req == NULL)
        return;
    timed_out(c);
    pthread_mutex_lock(&req->stream_lock);
    int head_sent = req->resp.head_sent;
    pthread_mutex_unlock(&req->stream_lock);
    abandon(req);
    c->closing = 1;
    if (head_sent || req->flush_inflight) {
        req->status_sent = req->status_sent > 0 ? req->status_sent : 503;
        req_logged(req);
        svk__http_conn_close(c);
        return;
    }
    char out[1024];
    size_t n = svk__http_resp_canned(req, 503, "handler deadline exceeded", out, sizeof out, 1);
    req->status_sent = 503;
    req->bytes_out += n;
    req_logged(req);
    if (write_raw(c, out, n) != 0) {
        svk__http_conn_close(c);
        return;
    }
    linger_close(c);
}

static void io_expired(svk__http_conn *c)
{
    switch (c->phase) {
    case SVK__HTTP_HEAD:
        timed_out(c);
        fail(c, 408, "request header timeout");
        break;
    case SVK__HTTP_BODY:
        timed_out(c);
        fail(c, 408, "request body timeout or too slow");
        break;
    case SVK__HTTP_HANDLER:
        timed_out(c);
        if (c->req->flush_inflight) {
            stream_fail(c->req, SVK_ETIMEDOUT);
            conn_abort(c);
            return;
        }
        c->req->fail_status = 408;
        c->req->fail_reason = "request body timeout or too slow";
        stream_fail(c->req, SVK_ETIMEDOUT);
        break;
    case SVK__HTTP_WRITE:
        timed_out(c);
        conn_abort(c);
        return;
    case SVK__HTTP_DISCARD:
        timed_out(c);
        svk__http_conn_close(c);
        return;
    default: /* IDLE (idle, or a silent new connection) and LINGER */
        svk__http_conn_close(c);
        return;
    }
    conn_advance(c);
}

static void on_timer(uv_timer_t *t)
{
    svk__http_conn *c = t->data;
    uint64_t now = now_ms(c);
    c->armed_due = 0;
    if (c->handler_due <= now) {
        c->handler_due = SVK__HTTP_NEVER;
        handler_expired(c);
    } else if (c->io_due <= now) {
        c->io_due = SVK__HTTP_NEVER;
        io_expired(c);
    }
    if (c->phase != SVK__HTTP_CLOSED)
        timer_arm(c); /* whatever is still due */
}

/* ------------------------------------------------------ worker events */

static void stream_written(uv_write_t *w, int status)
{
    svk_http_request *req = w->data;
    svk__http_conn *c = req->conn;
    req->write_pending = 0;
    req->flush_inflight = 0;
    svk_buf_reset(&req->stream_wire);
    if (c->phase == SVK__HTTP_CLOSED || status < 0) {
        stream_fail(req, SVK_ECLOSED);
        if (c->phase == SVK__HTTP_CLOSED) {
            req_drop(c);
            maybe_free(c);
        } else {
            svk__http_conn_close(c);
        }
        return;
    }
    pthread_mutex_lock(&req->stream_lock);
    req->flush_pending = 0;
    pthread_cond_broadcast(&req->stream_cond);
    pthread_mutex_unlock(&req->stream_lock);
    c->io_due = SVK__HTTP_NEVER;
    conn_advance(c);
}

static void stream_flush(svk__http_conn *c, svk_http_request *req)
{
    if (c->phase != SVK__HTTP_HANDLER || atomic_load(&req->abandoned)) {
        stream_fail(req, SVK_ECLOSED);
        return;
    }
    pthread_mutex_lock(&req->stream_lock);
    svk_buf t = req->stream_wire;
    req->stream_wire = req->stream_out;
    req->stream_out = t;
    if (req->status_sent == 0)
        req->status_sent = req->resp.status;
    pthread_mutex_unlock(&req->stream_lock);
    if (req->write_due == 0)
        req->write_due = after(c, req->cfg->write_ms);
    c->io_due = req->write_due;
    timer_arm(c);
    req->bytes_out += req->stream_wire.len;
    uv_buf_t b = uv_buf_init((char *)req->stream_wire.data, (unsigned)req->stream_wire.len);
    req->write_req.data = req;
    if (uv_write(&req->write_req, (uv_stream_t *)&c->tcp, &b, 1, stream_written) != 0) {
        stream_fail(req, SVK_ECLOSED);
        svk__http_conn_close(c);
        return;
    }
    req->write_pending = 1;
    req->flush_inflight = 1;
}

static void handler_done(svk__http_conn *c, svk_http_request *req)
{
    c->worker_holds = 0;
    if (c->phase == SVK__HTTP_CLOSED) {
        req_drop(c);
        maybe_free(c);
        return;
    }
    if (atomic_load(&req->abandoned) || c->phase != SVK__HTTP_HANDLER) {
        req_drop(c);
        return;
    }
    if (req->stream_body && !req->stream_eof && req->body_state != SVK__HTTP_BODY_COMPLETE)
        req->body_state = SVK__HTTP_BODY_UNREAD;
    if (req->fail_status != 0)
        c->closing = 1;
    if (svk_clock_mono_ns() >= svk_ctx_deadline(req->ctx)) {
        /* Late, even if the loop's timer has not fired yet: the same 503 */
        timed_out(c);
        svk_ctx_cancel(req->ctx);
        if (req->resp.head_sent) {
            svk__http_conn_close(c);
            return;
        }
        c->closing = 1;
        req->fail_status = 503;
        req->fail_reason = "handler deadline exceeded";
    }
    respond(c);
    conn_advance(c);
}

void svk__http_conn_event(svk_http_request *req, unsigned events)
{
    svk__http_conn *c = req->conn;
    if (events & SVK__HTTP_EV_FLUSH)
        stream_flush(c, req);
    if ((events & SVK__HTTP_EV_RESUME) && c->phase == SVK__HTTP_HANDLER)
        conn_advance(c);
    if (events & SVK__HTTP_EV_DONE)
        handler_done(c, req);
}

/* --------------------------------------------------------- accept, drain */

/* Over max_connections, or out of memory: a fixed 503 and close, before
 * reading anything. */
static void refuse(svk__http_conn *c, const char *why)
{
    char body[128], out[512];
    int b = snprintf(body, sizeof body, "{\"error\":\"%s\",\"status\":503}\n", why);
    int n = snprintf(out, sizeof out,
                     "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\n"
                     "Retry-After: 1\r\nConnection: close\r\nContent-Length: %d\r\n\r\n%s",
                     b, body);
    atomic_fetch_add(&c->loop->srv->n_refused, 1);
    if (n <= 0 || (size_t)n >= sizeof out || write_raw(c, out, (size_t)n) != 0) {
        svk__http_conn_close(c);
        return;
    }
    linger_close(c);
    sync_reading(c);
}

static void remember_peer(svk__http_conn *c)
{
    struct sockaddr_storage ss;
    int len = sizeof ss;
    if (uv_tcp_getpeername(&c->tcp, (struct sockaddr *)&ss, &len) != 0)
        return;
    if (ss.ss_family == AF_INET) {
        c->peer_family = AF_INET;
        memcpy(c->peer_addr, &((struct sockaddr_in *)&ss)->sin_addr, 4);
    } else if (ss.ss_family == AF_INET6) {
        c->peer_family = AF_INET6;
        memcpy(c->peer_addr, &((struct sockaddr_in6 *)&ss)->sin6_addr, 16);
    }
}

static svk__http_conn *conn_new(svk__http_loop *l)
{
    svk__http_conn *c = svk_malloc(sizeof *c);
    int reserve = c == NULL;
    if (reserve) {
        if (l->reserve_busy) {
            l->accept_pending = 1; /* maybe_free accepts when it is back */
            return NULL;
        }
        c = l->reserve;
        l->reserve_busy = 1;
    }
    memset(c, 0, sizeof *c);
    c->is_reserve = (uint8_t)reserve;
    c->loop = l;
    c->io_due = c->handler_due = SVK__HTTP_NEVER;
    uv_tcp_init(&l->uv, &c->tcp);
    uv_timer_init(&l->uv, &c->timer);
    c->tcp.data = c->timer.data = c;
    c->handles_open = 2;
    c->next = &l->conns;
    c->prev = l->conns.prev;
    l->conns.prev->next = c;
    l->conns.prev = c;
    l->nconns++;
    atomic_fetch_add(&l->srv->conns_open, 1);
    return c;
}

void svk__http_conn_accept(svk__http_loop *l)
{
    svk_http_server *srv = l->srv;
    svk__http_conn *c = conn_new(l);
    if (c == NULL)
        return;
    if (uv_accept((uv_stream_t *)&l->listener, (uv_stream_t *)&c->tcp) != 0) {
        svk__http_conn_close(c);
        return;
    }
    atomic_fetch_add(&srv->n_conns_total, 1);
    if (c->is_reserve || atomic_load(&srv->conns_open) > srv->opts.max_connections ||
        l->draining) {
        refuse(c, c->is_reserve ? "out of memory" : "too many connections");
        return;
    }
    uv_tcp_nodelay(&c->tcp, 1);
    remember_peer(c);
    c->phase = SVK__HTTP_IDLE;
    set_io(c, srv->read_header_ms);
    sync_reading(c);
}

/* Drain: idle connections close now; busy ones close after this response. */
void svk__http_conn_drain(svk__http_conn *c)
{
    c->closing = 1;
    if (c->phase == SVK__HTTP_IDLE && c->rb_len == 0)
        svk__http_conn_close(c);
}

/* The drain deadline passed: whatever is left is cut. */
void svk__http_conn_force(svk__http_conn *c)
{
    if (c->phase == SVK__HTTP_IDLE || c->phase == SVK__HTTP_LINGER)
        svk__http_conn_close(c);
    else
        conn_abort(c);
}
