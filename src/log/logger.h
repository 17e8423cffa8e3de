/*
 * logger.h — internal: what a logger tree shares (the core) and what each
 * logger adds (its bound attributes).
 *
 * Everything in the core except level, refs and counters is set before the
 * root is returned and never changes, so threads read it without a lock.
 */
#ifndef SVK_LOG_LOGGER_H
#define SVK_LOG_LOGGER_H

#include "svckit/log.h"
#include "log/handler.h"
#include "log/redact.h"
#include "log/sample.h"
#include "log/sink.h"

typedef struct svk__log_core {
    _Atomic int level; /* first: the one load of svk_log_enabled */
    const svk__handler *handler;
    svk__sink *sink;
    svk__sampler *sampler; /* NULL: no sampling */
    svk_log_clock_fn clock;
    void *clock_user;
    svk__redactor redact;
    _Atomic long refs; /* loggers of the tree still alive */
    /* Keeps the counters, written by every line, off level's cache line. */
    char pad[64];
    svk__log_counters counters;
} svk__log_core;

struct svk_logger {
    svk__log_core *core; /* first, for svk_log_enabled */
    char *bound;         /* pre-rendered attributes; NULL when none */
    size_t bound_len;
};

/* Copy in (NULL: defaults) into out with defaults filled in, checked. */
int svk__log_options_read(svk_log_options *out, const svk_log_options *in, svk_error *err);

/* The async sink's drop report: a WARN line written straight to inner. */
void svk__log_report_drops(void *core, uint64_t dropped, svk__sink *inner);

#endif
