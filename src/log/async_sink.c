/*
 * async_sink.c — a bounded ring between the logging threads and one writer
 * thread, so that a slow or blocked sink costs a logging thread a memcpy
 * rather than a write(2) — or, when the ring is full, a counted drop.
 *
 * The ring is a circular byte buffer of whole lines guarded by one lock
 * (ring.lock): producers copy a line in, the writer takes everything out in
 * one go into its private scratch buffer and hands that batch to the inner
 * sink outside the lock. Lines are never split, and only the writer writes
 * to the inner sink, so lines cannot interleave. Sequence numbers of lines
 * queued and delivered let svk_logger_flush wait for "everything before
 * now". The writer reports drops with a WARN line at most once per second
 * and once more at the end.
 */
#include "log/sink.h"

#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <time.h>

#define REPORT_INTERVAL_NS 1000000000LL

typedef struct async_sink {
    svk__sink base;
    svk__sink *inner;
    svk__drop_report_fn report;
    void *report_ctx;
    pthread_t thread;
    char *scratch; /* writer-only: capacity + 1 bytes */
    struct {
        pthread_mutex_t lock;  /* guards every field of ring */
        pthread_cond_t filled; /* writer waits: ring empty */
        pthread_cond_t moved;  /* flushers wait: delivered advanced */
        char *data;
        size_t capacity, head, used;
        uint64_t lines;     /* lines in the ring now */
        uint64_t queued;    /* lines ever queued */
        uint64_t delivered; /* lines ever handed to the inner sink */
        uint64_t unreported_drops;
        int stopping;
    } ring;
} async_sink;

static void ring_put_locked(async_sink *s, const char *line, size_t len)
{
    size_t tail = (s->ring.head + s->ring.used) % s->ring.capacity;
    size_t first = s->ring.capacity - tail < len ? s->ring.capacity - tail : len;
    memcpy(s->ring.data + tail, line, first);
    memcpy(s->ring.data, line + first, len - first);
    s->ring.used += len;
    s->ring.lines++;
    s->ring.queued++;
}

static void async_write(svk__sink *base, const char *line, size_t len)
{
    async_sink *s = (async_sink *)base;
    pthread_mutex_lock(&s->ring.lock);
    if (len > s->ring.capacity - s->ring.used || s->ring.stopping) {
        s->ring.unreported_drops++;
        pthread_mutex_unlock(&s->ring.lock);
        svk__count(&base->counters->dropped, 1);
        return;
    }
    int was_empty = s->ring.used == 0;
    ring_put_locked(s, line, len);
    if (was_empty)
        pthread_cond_signal(&s->ring.filled);
    pthread_mutex_unlock(&s->ring.lock);
}

/* Only the writer thread uses this sink as a batch source. */
static void async_write_batch(svk__sink *base, char *data, size_t len, uint64_t lines)
{
    (void)lines;
    for (char *p = data, *end = data + len; p < end;) {
        char *nl = memchr(p, '\n', (size_t)(end - p));
        char *next = nl != NULL ? nl + 1 : end;
        async_write(base, p, (size_t)(next - p));
        p = next;
    }
}

/* Move the whole ring into scratch; returns its length. */
static size_t ring_take_locked(async_sink *s, uint64_t *lines)
{
    size_t n = s->ring.used, head = s->ring.head;
    size_t first = s->ring.capacity - head < n ? s->ring.capacity - head : n;
    memcpy(s->scratch, s->ring.data + head, first);
    memcpy(s->scratch + first, s->ring.data, n - first);
    *lines = s->ring.lines;
    s->ring.head = 0;
    s->ring.used = 0;
    s->ring.lines = 0;
    return n;
}

static int64_t mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* Wait for lines; with drops to report, no longer than until the report
 * is due. Returns with the lock held. */
static void wait_for_lines_locked(async_sink *s, int64_t report_due)
{
    while (s->ring.used == 0 && !s->ring.stopping) {
        if (s->ring.unreported_drops == 0) {
            pthread_cond_wait(&s->ring.filled, &s->ring.lock);
            continue;
        }
        if (mono_ns() >= report_due)
            return;
        struct timespec until = {.tv_sec = (time_t)(report_due / 1000000000),
                                 .tv_nsec = (long)(report_due % 1000000000)};
        pthread_cond_timedwait(&s->ring.filled, &s->ring.lock, &until);
    }
}

static void report_drops_locked(async_sink *s, int64_t *last_report, int force)
{
    uint64_t dropped = s->ring.unreported_drops;
    if (dropped == 0 || (!force && mono_ns() < *last_report + REPORT_INTERVAL_NS))
        return;
    s->ring.unreported_drops = 0;
    *last_report = mono_ns();
    pthread_mutex_unlock(&s->ring.lock);
    s->report(s->report_ctx, dropped, s->inner);
    pthread_mutex_lock(&s->ring.lock);
}

static void *writer_main(void *arg)
{
    async_sink *s = arg;
    int64_t last_report = mono_ns() - REPORT_INTERVAL_NS;
    pthread_mutex_lock(&s->ring.lock);
    for (;;) {
        wait_for_lines_locked(s, last_report + REPORT_INTERVAL_NS);
        if (s->ring.used > 0) {
            uint64_t lines;
            size_t n = ring_take_locked(s, &lines);
            pthread_mutex_unlock(&s->ring.lock);
            s->inner->ops->write_batch(s->inner, s->scratch, n, lines);
            pthread_mutex_lock(&s->ring.lock);
            s->ring.delivered += lines;
            pthread_cond_broadcast(&s->ring.moved);
        }
        report_drops_locked(s, &last_report, 0);
        if (s->ring.stopping && s->ring.used == 0)
            break;
    }
    report_drops_locked(s, &last_report, 1);
    pthread_mutex_unlock(&s->ring.lock);
    return NULL;
}

static int async_flush(svk__sink *base)
{
    async_sink *s = (async_sink *)base;
    pthread_mutex_lock(&s->ring.lock);
    uint64_t target = s->ring.queued;
    while (s->ring.delivered < target)
        pthread_cond_wait(&s->ring.moved, &s->ring.lock);
    pthread_mutex_unlock(&s->ring.lock);
    return s->inner->ops->flush(s->inner);
}

static void ring_destroy(async_sink *s)
{
    pthread_cond_destroy(&s->ring.moved);
    pthread_cond_destroy(&s->ring.filled);
    pthread_mutex_destroy(&s->ring.lock);
    svk_free(s->ring.data);
    svk_free(s->scratch);
    svk_free(s);
}

static void async_destroy(svk__sink *base)
{
    async_sink *s = (async_sink *)base;
    pthread_mutex_lock(&s->ring.lock);
    s->ring.stopping = 1;
    pthread_cond_signal(&s->ring.filled);
    pthread_mutex_unlock(&s->ring.lock);
    pthread_join(s->thread, NULL);
    s->inner->ops->destroy(s->inner);
    ring_destroy(s);
}

static const svk__sink_ops async_ops = {async_write, async_write_batch, async_flush,
                                        async_destroy};

static int ring_init(async_sink *s, size_t capacity)
{
    pthread_condattr_t attr;
    s->ring.data = svk_malloc(capacity);
    s->scratch = capacity < SIZE_MAX ? svk_malloc(capacity + 1) : NULL;
    if (s->ring.data == NULL || s->scratch == NULL) {
        svk_free(s->ring.data);
        svk_free(s->scratch);
        return SVK_ENOMEM;
    }
    s->ring.capacity = capacity;
    pthread_mutex_init(&s->ring.lock, NULL);
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(&s->ring.filled, &attr);
    pthread_condattr_destroy(&attr);
    pthread_cond_init(&s->ring.moved, NULL);
    return 0;
}

/* The writer blocks every signal (it inherits the mask at creation), so
 * that signals meant for the application never land on it. */
static int start_writer(async_sink *s)
{
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    int rc = pthread_create(&s->thread, NULL, writer_main, s);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    return rc;
}

int svk__async_sink_new(svk__sink **out, svk__sink *inner, size_t capacity,
                        svk__drop_report_fn report, void *report_ctx, svk__log_counters *c)
{
    async_sink *s = svk_malloc(sizeof *s);
    if (s == NULL)
        return SVK_ENOMEM;
    memset(s, 0, sizeof *s);
    s->base.ops = &async_ops;
    s->base.counters = c;
    s->inner = inner;
    s->report = report;
    s->report_ctx = report_ctx;
    if (ring_init(s, capacity) != 0) {
        svk_free(s);
        return SVK_ENOMEM;
    }
    if (start_writer(s) != 0) {
        ring_destroy(s);
        return SVK_ESYS;
    }
    *out = &s->base;
    return 0;
}
