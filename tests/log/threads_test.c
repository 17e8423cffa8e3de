/*
 * threads_test.c — many threads, one logger: 8 threads x 100k lines into a
 * pipe (fd sink, a reader draining it), a file (buffered fd sink) and an
 * async ring, and with the level flipping meanwhile. Every line read back
 * must be one complete JSON object; each thread's lines arrive in order
 * and, unless the ring dropped some (then written + dropped == sent), all
 * of them. Some lines are longer than PIPE_BUF, so a pipe write can be
 * partial: the sink must still never interleave.
 * A plain program (no Criterion) so it runs under ThreadSanitizer.
 */
#include <fcntl.h>
#include <jansson.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "svckit/log.h"
#include "support/check.h"

#define THREADS 8
/* ThreadSanitizer makes each line ~20x dearer; a fifth of the lines still
 * interleave thoroughly, and the ASan run does the full 8 x 100k. */
#if defined(__SANITIZE_THREAD__)
#define PER_THREAD 20000
#else
#define PER_THREAD 100000
#endif
#define LONG_EVERY 97 /* every 97th line is LONG_PAD bytes: > PIPE_BUF */
#define LONG_PAD 6000

static char pad[LONG_PAD];

typedef struct worker {
    svk_logger *logger;
    int id;
} worker;

static void *log_lines(void *arg)
{
    worker *w = arg;
    svk_logger *mine;
    char rid[16];
    snprintf(rid, sizeof rid, "req-%d", w->id);
    /* Children are made concurrently with other threads logging. */
    CHECK(svk_logger_bind(w->logger, rid, NULL, NULL, &mine) == 0, "bind");
    for (int i = 0; i < PER_THREAD; i++) {
        size_t n = i % LONG_EVERY == 0 ? LONG_PAD : (size_t)(i % 50);
        svk_log_info(mine, "line \"quoted\"\n", SVK_INT("t", w->id), SVK_INT("i", i),
                     SVK_STRN("pad", pad, n), SVK_FLOAT("f", i / 4.0));
    }
    svk_logger_free(mine);
    return NULL;
}

static void run_workers(svk_logger *l)
{
    pthread_t t[THREADS];
    worker w[THREADS];
    for (int i = 0; i < THREADS; i++) {
        w[i] = (worker){l, i};
        CHECK(pthread_create(&t[i], NULL, log_lines, &w[i]) == 0, "pthread_create");
    }
    for (int i = 0; i < THREADS; i++)
        pthread_join(t[i], NULL);
}

/* A thread that reads a pipe to EOF into memory. */
typedef struct drain {
    int fd;
    char *data;
    size_t len, cap;
    pthread_t thread;
} drain;

static void *drain_main(void *arg)
{
    drain *d = arg;
    for (;;) {
        if (d->cap - d->len < 65536) {
            d->cap = d->cap * 2 + 65536;
            d->data = realloc(d->data, d->cap);
            CHECK(d->data != NULL, "realloc");
        }
        ssize_t n = read(d->fd, d->data + d->len, d->cap - d->len);
        CHECK(n >= 0, "read");
        if (n == 0)
            return NULL;
        d->len += (size_t)n;
    }
}

/* Totals found by check_lines. */
typedef struct tally {
    uint64_t per_thread[THREADS];
    uint64_t lines;
    uint64_t reports;  /* "log lines dropped" lines */
    uint64_t reported; /* sum of their "dropped" */
} tally;

static void check_line(const char *p, size_t n, tally *t, int64_t *last)
{
    json_error_t e;
    json_t *j = json_loadb(p, n, 0, &e);
    CHECK(j != NULL, "line %llu is not JSON (%s): %.80s", (unsigned long long)t->lines, e.text, p);
    const char *msg = json_string_value(json_object_get(j, "msg"));
    CHECK(msg != NULL, "no msg");
    if (strcmp(msg, "log lines dropped") == 0) {
        t->reports++;
        t->reported += (uint64_t)json_integer_value(json_object_get(j, "dropped"));
    } else {
        CHECK(strcmp(msg, "line \"quoted\"\n") == 0, "msg %s", msg);
        json_int_t id = json_integer_value(json_object_get(j, "t"));
        json_int_t i = json_integer_value(json_object_get(j, "i"));
        CHECK(id >= 0 && id < THREADS, "thread id %lld", (long long)id);
        CHECK(i > last[id], "thread %lld: line %lld after %lld", (long long)id, (long long)i,
              (long long)last[id]);
        last[id] = i;
        t->per_thread[id]++;
    }
    json_decref(j);
}

static tally check_lines(const char *data, size_t len)
{
    tally t;
    memset(&t, 0, sizeof t);
    int64_t last[THREADS];
    for (int i = 0; i < THREADS; i++)
        last[i] = -1;
    CHECK(len == 0 || data[len - 1] == '\n', "output ends inside a line");
    for (const char *p = data, *end = data + len; p < end; t.lines++) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        check_line(p, (size_t)(nl + 1 - p), &t, last);
        p = nl + 1;
    }
    return t;
}

static void expect_all(const tally *t, const char *what)
{
    for (int i = 0; i < THREADS; i++)
        CHECK(t->per_thread[i] == PER_THREAD, "%s: thread %d wrote %llu lines", what, i,
              (unsigned long long)t->per_thread[i]);
}

static svk_logger *logger_on(int fd, int sink, size_t async)
{
    svk_log_options o = SVK_LOG_OPTIONS_INIT;
    o.fd = fd;
    o.sink = sink;
    o.async_capacity = async;
    svk_logger *l;
    CHECK(svk_logger_new(&l, &o, NULL) == 0, "svk_logger_new");
    return l;
}

static void start_drain(drain *d, int fds[2])
{
    CHECK(pipe(fds) == 0, "pipe");
    memset(d, 0, sizeof *d);
    d->fd = fds[0];
    CHECK(pthread_create(&d->thread, NULL, drain_main, d) == 0, "pthread_create");
}

static void finish_drain(drain *d, int fds[2])
{
    close(fds[1]);
    pthread_join(d->thread, NULL);
    close(fds[0]);
}

static void pipe_fd_sink(void)
{
    int fds[2];
    drain d;
    start_drain(&d, fds);
    svk_logger *l = logger_on(fds[1], SVK_LOG_SINK_FD, 0);
    run_workers(l);
    uint64_t written, dropped, errors;
    svk_logger_stats(l, &written, &dropped, &errors, NULL);
    svk_logger_free(l);
    finish_drain(&d, fds);
    tally t = check_lines(d.data, d.len);
    expect_all(&t, "pipe");
    CHECK(written == THREADS * PER_THREAD && dropped == 0 && errors == 0, "pipe counters");
    free(d.data);
    printf("pipe: %llu lines, %zu bytes, all complete\n", (unsigned long long)t.lines, d.len);
}

static void file_buffered_sink(void)
{
    char path[] = "/tmp/svk-log-threads-XXXXXX";
    int fd = mkstemp(path);
    CHECK(fd >= 0, "mkstemp");
    unlink(path);
    svk_logger *l = logger_on(fd, SVK_LOG_SINK_BUFFERED_FD, 0);
    run_workers(l);
    svk_logger_free(l);
    off_t size = lseek(fd, 0, SEEK_END);
    char *data = malloc((size_t)size + 1);
    CHECK(pread(fd, data, (size_t)size, 0) == size, "pread");
    close(fd);
    tally t = check_lines(data, (size_t)size);
    expect_all(&t, "file");
    free(data);
    printf("file: %llu lines, %lld bytes, all complete\n", (unsigned long long)t.lines,
           (long long)size);
}

static void pipe_async_sink(size_t capacity)
{
    int fds[2];
    drain d;
    start_drain(&d, fds);
    svk_logger *l = logger_on(fds[1], SVK_LOG_SINK_FD, capacity);
    run_workers(l);
    uint64_t dropped;
    svk_logger_stats(l, NULL, &dropped, NULL, NULL);
    svk_logger_free(l);
    finish_drain(&d, fds);
    tally t = check_lines(d.data, d.len);
    uint64_t delivered = 0;
    for (int i = 0; i < THREADS; i++)
        delivered += t.per_thread[i];
    CHECK(delivered + dropped == (uint64_t)THREADS * PER_THREAD,
          "async: %llu delivered + %llu dropped", (unsigned long long)delivered,
          (unsigned long long)dropped);
    CHECK(t.reported == dropped, "async: reports say %llu dropped, counter %llu",
          (unsigned long long)t.reported, (unsigned long long)dropped);
    CHECK(dropped == 0 || t.reports > 0, "async: drops never reported");
    free(d.data);
    printf("async %zu: %llu delivered, %llu dropped, %llu reports\n", capacity,
           (unsigned long long)delivered, (unsigned long long)dropped,
           (unsigned long long)t.reports);
}

static atomic_int flipping;

static void *flip_levels(void *arg)
{
    for (int i = 0; atomic_load(&flipping); i++)
        svk_logger_set_level(arg, i % 2 ? SVK_LOG_ERROR : SVK_LOG_INFO);
    return NULL;
}

static void level_changes_while_logging(void)
{
    int fds[2];
    drain d;
    start_drain(&d, fds);
    svk_logger *l = logger_on(fds[1], SVK_LOG_SINK_FD, 0);
    pthread_t flipper;
    atomic_store(&flipping, 1);
    CHECK(pthread_create(&flipper, NULL, flip_levels, l) == 0, "pthread_create");
    run_workers(l);
    atomic_store(&flipping, 0);
    pthread_join(flipper, NULL);
    uint64_t written;
    svk_logger_stats(l, &written, NULL, NULL, NULL);
    svk_logger_free(l);
    finish_drain(&d, fds);
    tally t = check_lines(d.data, d.len);
    CHECK(t.lines == written && written <= (uint64_t)THREADS * PER_THREAD, "levels: counts");
    free(d.data);
    printf("levels: %llu of %d lines passed a flipping level\n", (unsigned long long)written,
           THREADS * PER_THREAD);
}

int main(void)
{
    memset(pad, 'p', sizeof pad);
    pipe_fd_sink();
    file_buffered_sink();
    pipe_async_sink(1 << 20);
    pipe_async_sink(16 * 1024);
    level_changes_while_logging();
    printf("log threads: ok\n");
    return 0;
}
