/*
 * sink.c — the synchronous sinks: fd, buffered fd and callback.
 *
 * Each has one lock, held while a line (or a buffer of whole lines) is
 * handed over, which is what keeps lines of different threads from
 * interleaving: a write(2) on a pipe is only atomic up to PIPE_BUF bytes,
 * and a partial write has to be finished before anyone else writes.
 * Failures never escape: they are counted (see svk__count_outcome) and the
 * sink stays usable. Sockets are written with send(MSG_NOSIGNAL) so a peer
 * that went away costs an error, not a SIGPIPE; for pipes the application
 * must ignore SIGPIPE itself (every server does).
 */
#include "log/sink.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#define PARTIAL_WAIT_MS 1000 /* how long to wait to finish a half-written line */
#define DEFAULT_BUFFER_SIZE (64 * 1024)

typedef struct fd_sink {
    svk__sink base;
    pthread_mutex_t lock; /* held across one complete write_all */
    int fd;
    int is_socket;
} fd_sink;

typedef struct buffered_sink {
    fd_sink fd;
    char *buf; /* whole lines only, under fd.lock */
    size_t size;
    size_t used;
    uint64_t lines;
} buffered_sink;

typedef struct callback_sink {
    svk__sink base;
    pthread_mutex_t lock; /* serialises calls of fn */
    svk_log_write_fn fn;
    void *user;
} callback_sink;

/* What became of lines: written, or dropped (and a failure unless the fd
 * was merely full). */
static void count_outcome(svk__sink *s, int rc, uint64_t lines)
{
    if (rc == 0) {
        svk__count(&s->counters->written, lines);
        return;
    }
    svk__count(&s->counters->dropped, lines);
    if (rc != SVK_EAGAIN)
        svk__count(&s->counters->errors, 1);
}

static int wait_writable(int fd)
{
    struct pollfd pfd = {.fd = fd, .events = POLLOUT};
    for (;;) {
        int r = poll(&pfd, 1, PARTIAL_WAIT_MS);
        if (r > 0)
            return 0;
        if (r < 0 && errno == EINTR)
            continue;
        return -1;
    }
}

/*
 * All n bytes, retrying EINTR and short writes. A non-blocking fd that is
 * full before the first byte gives SVK_EAGAIN (the caller drops the lines);
 * once part is out, the rest must follow or the stream would hold half a
 * line, so then we wait for room.
 */
static int write_all(const fd_sink *s, const char *p, size_t n)
{
    size_t done = 0;
    while (done < n) {
        ssize_t w = s->is_socket ? send(s->fd, p + done, n - done, MSG_NOSIGNAL)
                                 : write(s->fd, p + done, n - done);
        if (w > 0) {
            done += (size_t)w;
            continue;
        }
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            if (done == 0)
                return SVK_EAGAIN;
            if (wait_writable(s->fd) == 0)
                continue;
        }
        return SVK_EIO;
    }
    return 0;
}

static void fd_write_batch(svk__sink *base, char *data, size_t len, uint64_t lines)
{
    fd_sink *s = (fd_sink *)base;
    pthread_mutex_lock(&s->lock);
    int rc = write_all(s, data, len);
    pthread_mutex_unlock(&s->lock);
    count_outcome(base, rc, lines);
}

static void fd_write(svk__sink *base, const char *line, size_t len)
{
    fd_write_batch(base, (char *)line, len, 1); /* fd_write_batch only reads */
}

static int flush_nothing(svk__sink *base)
{
    (void)base;
    return 0;
}

static void fd_destroy(svk__sink *base)
{
    fd_sink *s = (fd_sink *)base;
    pthread_mutex_destroy(&s->lock);
    svk_free(s);
}

static const svk__sink_ops fd_ops = {fd_write, fd_write_batch, flush_nothing, fd_destroy};

static void fd_init(fd_sink *s, const svk__sink_ops *ops, int fd, svk__log_counters *c)
{
    struct stat st;
    s->base.ops = ops;
    s->base.counters = c;
    s->fd = fd;
    s->is_socket = fstat(fd, &st) == 0 && S_ISSOCK(st.st_mode);
    pthread_mutex_init(&s->lock, NULL);
}

int svk__fd_sink_new(svk__sink **out, int fd, svk__log_counters *c)
{
    fd_sink *s = svk_malloc(sizeof *s);
    if (s == NULL)
        return SVK_ENOMEM;
    fd_init(s, &fd_ops, fd, c);
    *out = &s->base;
    return 0;
}

/* ------------------------------------------------------------ buffered fd */

static int buffered_flush_locked(buffered_sink *s)
{
    if (s->used == 0)
        return 0;
    int rc = write_all(&s->fd, s->buf, s->used);
    count_outcome(&s->fd.base, rc, s->lines);
    s->used = 0;
    s->lines = 0;
    return rc;
}

static void buffered_append_locked(buffered_sink *s, const char *data, size_t len,
                                   uint64_t lines)
{
    if (len > s->size - s->used)
        buffered_flush_locked(s);
    if (len > s->size) { /* bigger than the buffer: straight through */
        count_outcome(&s->fd.base, write_all(&s->fd, data, len), lines);
        return;
    }
    memcpy(s->buf + s->used, data, len);
    s->used += len;
    s->lines += lines;
}

static void buffered_write_batch(svk__sink *base, char *data, size_t len, uint64_t lines)
{
    buffered_sink *s = (buffered_sink *)base;
    pthread_mutex_lock(&s->fd.lock);
    buffered_append_locked(s, data, len, lines);
    pthread_mutex_unlock(&s->fd.lock);
}

static void buffered_write(svk__sink *base, const char *line, size_t len)
{
    buffered_sink *s = (buffered_sink *)base;
    pthread_mutex_lock(&s->fd.lock);
    buffered_append_locked(s, line, len, 1);
    pthread_mutex_unlock(&s->fd.lock);
}

static int buffered_flush(svk__sink *base)
{
    buffered_sink *s = (buffered_sink *)base;
    pthread_mutex_lock(&s->fd.lock);
    int rc = buffered_flush_locked(s);
    pthread_mutex_unlock(&s->fd.lock);
    return rc;
}

static void buffered_destroy(svk__sink *base)
{
    buffered_sink *s = (buffered_sink *)base;
    buffered_flush(base);
    pthread_mutex_destroy(&s->fd.lock);
    svk_free(s->buf);
    svk_free(s);
}

static const svk__sink_ops buffered_ops = {buffered_write, buffered_write_batch,
                                           buffered_flush, buffered_destroy};

int svk__buffered_sink_new(svk__sink **out, int fd, size_t size, svk__log_counters *c)
{
    buffered_sink *s = svk_malloc(sizeof *s);
    if (s == NULL)
        return SVK_ENOMEM;
    s->size = size > 0 ? size : DEFAULT_BUFFER_SIZE;
    s->buf = svk_malloc(s->size);
    if (s->buf == NULL) {
        svk_free(s);
        return SVK_ENOMEM;
    }
    s->used = 0;
    s->lines = 0;
    fd_init(&s->fd, &buffered_ops, fd, c);
    *out = &s->fd.base;
    return 0;
}

/* --------------------------------------------------------------- callback */

static void callback_write(svk__sink *base, const char *line, size_t len)
{
    callback_sink *s = (callback_sink *)base;
    pthread_mutex_lock(&s->lock);
    int rc = s->fn(line, len, s->user);
    pthread_mutex_unlock(&s->lock);
    count_outcome(base, rc < 0 ? SVK_EIO : 0, 1);
}

/* One call per line; each is NUL-terminated in place for its call (data
 * has a writable byte past len). */
static void callback_write_batch(svk__sink *base, char *data, size_t len, uint64_t lines)
{
    callback_sink *s = (callback_sink *)base;
    (void)lines;
    pthread_mutex_lock(&s->lock);
    for (char *p = data, *end = data + len; p < end;) {
        char *nl = memchr(p, '\n', (size_t)(end - p));
        char *next = nl != NULL ? nl + 1 : end;
        char saved = *next;
        *next = '\0';
        int rc = s->fn(p, (size_t)(next - p), s->user);
        *next = saved;
        count_outcome(base, rc < 0 ? SVK_EIO : 0, 1);
        p = next;
    }
    pthread_mutex_unlock(&s->lock);
}

static void callback_destroy(svk__sink *base)
{
    callback_sink *s = (callback_sink *)base;
    pthread_mutex_destroy(&s->lock);
    svk_free(s);
}

static const svk__sink_ops callback_ops = {callback_write, callback_write_batch,
                                           flush_nothing, callback_destroy};

int svk__callback_sink_new(svk__sink **out, svk_log_write_fn fn, void *user,
                           svk__log_counters *c)
{
    callback_sink *s = svk_malloc(sizeof *s);
    if (s == NULL)
        return SVK_ENOMEM;
    s->base.ops = &callback_ops;
    s->base.counters = c;
    s->fn = fn;
    s->user = user;
    pthread_mutex_init(&s->lock, NULL);
    *out = &s->base;
    return 0;
}
