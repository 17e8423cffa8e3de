/*
 * sink.h — internal: where rendered lines go. A sink takes whole lines and
 * counts what becomes of each in the tree's counters.
 */
#ifndef SVK_LOG_SINK_H
#define SVK_LOG_SINK_H

#include "svckit/log.h"

#include <stdatomic.h>

/* The tree's counters (see svk_logger_stats). */
typedef struct svk__log_counters {
    _Atomic uint64_t written;
    _Atomic uint64_t dropped;
    _Atomic uint64_t errors;
    _Atomic uint64_t sampled;
} svk__log_counters;

static inline void svk__count(_Atomic uint64_t *c, uint64_t n)
{
    atomic_fetch_add_explicit(c, n, memory_order_relaxed);
}

typedef struct svk__sink svk__sink;

typedef struct svk__sink_ops {
    /* One line (ending in '\n', NUL after it); counts it written or dropped. */
    void (*write)(svk__sink *s, const char *line, size_t len);
    /* lines whole lines back to back in data (writable: the callback sink
     * NUL-terminates each in place for a moment). */
    void (*write_batch)(svk__sink *s, char *data, size_t len, uint64_t lines);
    /* Push out anything held; 0 or SVK_EIO / SVK_EAGAIN. */
    int (*flush)(svk__sink *s);
    /* Flush and release. */
    void (*destroy)(svk__sink *s);
} svk__sink_ops;

struct svk__sink {
    const svk__sink_ops *ops;
    svk__log_counters *counters;
};

/* The async sink's way to log its "log lines dropped" line. */
typedef void (*svk__drop_report_fn)(void *ctx, uint64_t dropped, svk__sink *inner);

int svk__fd_sink_new(svk__sink **out, int fd, svk__log_counters *c);
int svk__buffered_sink_new(svk__sink **out, int fd, size_t size, svk__log_counters *c);
int svk__callback_sink_new(svk__sink **out, svk_log_write_fn fn, void *user,
                           svk__log_counters *c);
/* Takes inner on success only. 0, SVK_ENOMEM or SVK_ESYS. */
int svk__async_sink_new(svk__sink **out, svk__sink *inner, size_t capacity,
                        svk__drop_report_fn report, void *report_ctx, svk__log_counters *c);

#endif
