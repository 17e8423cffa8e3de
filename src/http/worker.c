/*
 * worker.c — the worker pool for handlers that may block (libpq, HTTP
 * client calls): a fixed set of threads and a bounded FIFO of requests.
 *
 * A loop thread submits a request whose head (and, unless streamed, body)
 * has been read; a worker runs the middleware chain and the handler, then
 * posts SVK__HTTP_EV_DONE back to the request's loop (uv_async_t), which
 * writes the response. A full queue is refused at once (the loop answers
 * 503), so overload never grows memory. One mutex guards the queue; the
 * hand-over through it is what makes the request's fields visible to the
 * worker and back.
 */
#include <string.h>

#include "http/server.h"

struct svk__http_workers {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    svk_http_request *head, *tail;
    size_t count, cap;
    pthread_t *threads;
    int nthreads, started, stop;
};

int svk__http_workers_new(svk__http_workers **out, int threads, size_t queue)
{
    svk__http_workers *w = svk_malloc(sizeof *w);
    if (w == NULL)
        return SVK_ENOMEM;
    memset(w, 0, sizeof *w);
    w->threads = svk_malloc((size_t)threads * sizeof *w->threads);
    if (w->threads == NULL) {
        svk_free(w);
        return SVK_ENOMEM;
    }
    pthread_mutex_init(&w->lock, NULL);
    pthread_cond_init(&w->cond, NULL);
    w->nthreads = threads;
    w->cap = queue;
    *out = w;
    return 0;
}

static svk_http_request *take(svk__http_workers *w)
{
    pthread_mutex_lock(&w->lock);
    while (w->head == NULL && !w->stop)
        pthread_cond_wait(&w->cond, &w->lock);
    svk_http_request *req = w->head;
    if (req != NULL) {
        w->head = req->next_queued;
        if (w->head == NULL)
            w->tail = NULL;
        w->count--;
    }
    pthread_mutex_unlock(&w->lock);
    return req;
}

static void *worker_main(void *arg)
{
    svk__http_workers *w = arg;
    svk_http_request *req;
    svk__http_mark_server_thread();
    while ((req = take(w)) != NULL) {
        /* A request the loop gave up on (deadline, force close) is not run. */
        if (atomic_load(&req->abandoned))
            req->handler_rc = SVK_ECANCELED;
        else
            req->handler_rc = svk__http_run(req);
        svk__http_loop_post(req, SVK__HTTP_EV_DONE);
    }
    return NULL;
}

int svk__http_workers_start(svk__http_workers *w)
{
    for (int i = 0; i < w->nthreads; i++) {
        if (svk__http_thread_create(&w->threads[i], worker_main, w) != 0)
            return SVK_ESYS;
        w->started++;
    }
    return 0;
}

int svk__http_workers_submit(svk__http_workers *w, svk_http_request *req)
{
    pthread_mutex_lock(&w->lock);
    if (w->count >= w->cap || w->stop) {
        pthread_mutex_unlock(&w->lock);
        return SVK_EBUSY;
    }
    req->next_queued = NULL;
    if (w->tail != NULL)
        w->tail->next_queued = req;
    else
        w->head = req;
    w->tail = req;
    w->count++;
    pthread_cond_signal(&w->cond);
    pthread_mutex_unlock(&w->lock);
    return 0;
}

/* Stop and join: workers finish the queue first (every queued request must
 * come back to its loop), so call this only once the loops have stopped
 * submitting. */
void svk__http_workers_free(svk__http_workers *w)
{
    if (w == NULL)
        return;
    pthread_mutex_lock(&w->lock);
    w->stop = 1;
    pthread_cond_broadcast(&w->cond);
    pthread_mutex_unlock(&w->lock);
    for (int i = 0; i < w->started; i++)
        pthread_join(w->threads[i], NULL);
    pthread_mutex_destroy(&w->lock);
    pthread_cond_destroy(&w->cond);
    svk_free(w->threads);
    svk_free(w);
}
