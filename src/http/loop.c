/*
 * loop.c — one loop thread of the server: its uv_loop_t, its SO_REUSEPORT
 * listener, the pools its connections draw read buffers and request state
 * from, the Date header cache, and the uv_async_t through which workers and
 * the draining thread talk to it.
 *
 * Cross-thread traffic goes through loop->lock: workers post per-request
 * events (handler done, a chunk to flush, streamed body consumed), other
 * threads post commands (drain, stop); both wake the loop with
 * uv_async_send, whose callback runs them on the loop thread. Nothing else
 * about a loop is touched by another thread once it runs.
 */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "http/server.h"

static _Thread_local int on_server_thread;

int svk__http_on_server_thread(void)
{
    return on_server_thread;
}

void svk__http_mark_server_thread(void)
{
    on_server_thread = 1;
}

int svk__http_thread_create(pthread_t *t, void *(*fn)(void *), void *arg)
{
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, &old);
    int rc = pthread_create(t, NULL, fn, arg);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    return rc;
}

/* ------------------------------------------------------------------ pools */

char *svk__http_rb_get(svk__http_loop *l)
{
    if (l->nfree_rb > 0)
        return l->free_rb[--l->nfree_rb];
    return svk_malloc(SVK__HTTP_RB_SIZE);
}

void svk__http_rb_put(svk__http_loop *l, char *rb, size_t cap)
{
    if (cap == SVK__HTTP_RB_SIZE && l->nfree_rb < SVK__HTTP_POOL_KEEP)
        l->free_rb[l->nfree_rb++] = rb;
    else
        svk_free(rb);
}

static svk_http_request *req_alloc(svk__http_loop *l)
{
    size_t cap = l->srv->limits.headers_max;
    svk_http_request *req = svk_malloc(sizeof *req + cap * sizeof req->headers[0]);
    if (req == NULL)
        return NULL;
    memset(req, 0, sizeof *req);
    req->nheaders_cap = cap;
    req->loop = l;
    pthread_mutex_init(&req->stream_lock, NULL);
    pthread_cond_init(&req->stream_cond, NULL);
    if (svk__http_parser_init(&req->parser, &l->srv->limits) != 0 ||
        svk_buf_reserve(&req->head_buf, 512) != 0) {
        svk_buf_free(&req->head_buf);
        svk_free(req);
        return NULL;
    }
    return req;
}

static void req_destroy(svk_http_request *req)
{
    svk_buf_free(&req->head_buf);
    svk_buf_free(&req->resp.headers);
    svk_buf_free(&req->resp.body);
    svk_buf_free(&req->stream_out);
    svk_buf_free(&req->stream_wire);
    svk_ctx_free(req->ctx);
    pthread_mutex_destroy(&req->stream_lock);
    pthread_cond_destroy(&req->stream_cond);
    svk_free(req);
}

svk_http_request *svk__http_req_get(svk__http_loop *l)
{
    if (l->nfree_req > 0)
        return l->free_req[--l->nfree_req];
    return req_alloc(l);
}

/* Big buffers are not kept in the pool: they would pin memory per request. */
static void trim(svk_buf *b, size_t keep)
{
    if (b->cap > keep)
        svk_buf_free(b);
    else
        svk_buf_reset(b);
}

void svk__http_req_put(svk__http_loop *l, svk_http_request *req)
{
    trim(&req->resp.body, 65536);
    trim(&req->resp.headers, 4096);
    trim(&req->head_buf, 4096);
    trim(&req->stream_out, 65536);
    trim(&req->stream_wire, 65536);
    if (l->nfree_req < SVK__HTTP_POOL_KEEP)
        l->free_req[l->nfree_req++] = req;
    else
        req_destroy(req);
}

/* ------------------------------------------------------------------ date */

const char *svk__http_loop_date(svk__http_loop *l, size_t *len)
{
    static const char days[] = "SunMonTueWedThuFriSat";
    static const char months[] = "JanFebMarAprMayJunJulAugSepOctNovDec";
    int64_t sec = svk_clock_wall_ns() / 1000000000;
    if (sec != l->date_sec) {
        time_t t = (time_t)sec;
        struct tm tm;
        gmtime_r(&t, &tm);
        int n = snprintf(l->date, sizeof l->date,
                         "Date: %.3s, %02d %.3s %04d %02d:%02d:%02d GMT\r\n",
                         days + 3 * tm.tm_wday, tm.tm_mday, months + 3 * tm.tm_mon,
                         tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
        l->date_len = n > 0 ? (size_t)n : 0;
        l->date_sec = sec;
    }
    *len = l->date_len;
    return l->date;
}

/* -------------------------------------------------------- cross-thread */

void svk__http_loop_post(svk_http_request *req, unsigned events)
{
    svk__http_loop *l = req->loop;
    pthread_mutex_lock(&l->lock);
    req->posted_events |= events;
    if (!req->posted) {
        req->posted = 1;
        req->next_posted = NULL;
        if (l->posted_tail != NULL)
            l->posted_tail->next_posted = req;
        else
            l->posted_head = req;
        l->posted_tail = req;
    }
    pthread_mutex_unlock(&l->lock);
    uv_async_send(&l->wake);
}

void svk__http_loop_command(svk__http_loop *l, unsigned cmd)
{
    pthread_mutex_lock(&l->lock);
    l->cmd |= cmd;
    pthread_mutex_unlock(&l->lock);
    uv_async_send(&l->wake);
}

static void report_empty(svk__http_loop *l)
{
    svk_http_server *srv = l->srv;
    l->reported_empty = 1;
    pthread_mutex_lock(&srv->lock);
    srv->loops_done++;
    pthread_cond_broadcast(&srv->cond);
    pthread_mutex_unlock(&srv->lock);
}

static void check_done(svk__http_loop *l)
{
    if (l->draining && l->nconns == 0 && !l->reported_empty)
        report_empty(l);
    if (l->stopping && l->nconns == 0 && !uv_is_closing((uv_handle_t *)&l->wake))
        uv_close((uv_handle_t *)&l->wake, NULL);
}

void svk__http_loop_conn_gone(svk__http_loop *l)
{
    l->nconns--;
    atomic_fetch_sub(&l->srv->conns_open, 1);
    check_done(l);
}

static void close_listener(svk__http_loop *l)
{
    if (l->listener_open) {
        l->listener_open = 0;
        uv_close((uv_handle_t *)&l->listener, NULL);
    }
}

/* Visit every connection; fn may unlink the one it is given. */
static void each_conn(svk__http_loop *l, void (*fn)(svk__http_conn *))
{
    svk__http_conn *c = l->conns.next;
    while (c != &l->conns) {
        svk__http_conn *next = c->next;
        fn(c);
        c = next;
    }
}

static void run_commands(svk__http_loop *l, unsigned cmd)
{
    if ((cmd & SVK__HTTP_CMD_DRAIN) && !l->draining) {
        l->draining = 1;
        close_listener(l);
        each_conn(l, svk__http_conn_drain);
    }
    if ((cmd & SVK__HTTP_CMD_STOP) && !l->stopping) {
        l->draining = l->stopping = 1;
        close_listener(l);
        each_conn(l, svk__http_conn_force);
    }
    check_done(l);
}

/* The posted list is copied to the next_taken links under the lock: once it
 * is released a worker may post the same request again, which rewrites
 * next_posted. */
static void on_wake(uv_async_t *a)
{
    svk__http_loop *l = a->data;
    pthread_mutex_lock(&l->lock);
    svk_http_request *list = l->posted_head;
    l->posted_head = l->posted_tail = NULL;
    unsigned cmd = l->cmd;
    l->cmd = 0;
    for (svk_http_request *r = list; r != NULL; r = r->next_posted) {
        r->next_taken = r->next_posted;
        r->taken_events = r->posted_events;
        r->posted_events = 0;
        r->posted = 0;
    }
    pthread_mutex_unlock(&l->lock);
    while (list != NULL) {
        svk_http_request *r = list;
        list = r->next_taken;
        svk__http_conn_event(r, r->taken_events);
    }
    if (cmd != 0)
        run_commands(l, cmd);
}

/* ------------------------------------------------------------ lifecycle */

static void on_connection(uv_stream_t *server, int status)
{
    svk__http_loop *l = server->data;
    if (status == 0)
        svk__http_conn_accept(l);
}

int svk__http_loop_init(svk__http_loop *l, svk_http_server *srv, int index, int fd)
{
    memset(l, 0, sizeof *l);
    pthread_mutex_init(&l->lock, NULL);
    l->srv = srv;
    l->index = index;
    l->fd = fd;
    l->conns.next = l->conns.prev = &l->conns;
    l->date_sec = -1;
    l->free_rb = svk_malloc(SVK__HTTP_POOL_KEEP * sizeof *l->free_rb);
    l->free_req = svk_malloc(SVK__HTTP_POOL_KEEP * sizeof *l->free_req);
    l->reserve = svk_malloc(sizeof *l->reserve);
    if (l->free_rb == NULL || l->free_req == NULL || l->reserve == NULL)
        return SVK_ENOMEM;
    if (uv_loop_init(&l->uv) != 0)
        return SVK_ESYS;
    l->uv_ready = 1;
    l->uv.data = l;
    if (uv_async_init(&l->uv, &l->wake, on_wake) != 0)
        return SVK_ESYS;
    l->wake_ready = 1;
    l->wake.data = l;
    return 0;
}

int svk__http_loop_listen(svk__http_loop *l)
{
    int rc = uv_tcp_init(&l->uv, &l->listener);
    if (rc != 0)
        return rc;
    l->listener.data = l;
    l->listener_open = 1;
    rc = uv_tcp_open(&l->listener, l->fd);
    if (rc != 0)
        return rc;
    l->fd = -1;
    return uv_listen((uv_stream_t *)&l->listener, l->srv->opts.backlog, on_connection);
}

void *svk__http_loop_main(void *arg)
{
    svk__http_loop *l = arg;
    svk_http_server *srv = l->srv;
    svk__http_mark_server_thread();
    uv_run(&l->uv, UV_RUN_DEFAULT);
    pthread_mutex_lock(&srv->lock);
    srv->loops_exited++;
    pthread_cond_broadcast(&srv->cond);
    pthread_mutex_unlock(&srv->lock);
    return NULL;
}

/* After the thread ended (or never started): close what is left, free. */
void svk__http_loop_destroy(svk__http_loop *l)
{
    if (l->uv_ready) {
        close_listener(l);
        if (l->wake_ready && !uv_is_closing((uv_handle_t *)&l->wake))
            uv_close((uv_handle_t *)&l->wake, NULL);
        uv_run(&l->uv, UV_RUN_DEFAULT);
        uv_loop_close(&l->uv);
    }
    if (l->fd >= 0)
        close(l->fd);
    while (l->nfree_rb > 0)
        svk_free(l->free_rb[--l->nfree_rb]);
    while (l->nfree_req > 0)
        req_destroy(l->free_req[--l->nfree_req]);
    svk_free(l->free_rb);
    svk_free(l->free_req);
    svk_free(l->reserve);
    pthread_mutex_destroy(&l->lock);
}
