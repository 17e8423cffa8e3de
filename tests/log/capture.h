/*
 * capture.h — test helper: a logger whose lines land in memory (callback
 * sink) at a fixed time, 2026-11-25T08:28:52.123Z, so tests can compare
 * exact output and parse each line.
 */
#ifndef SVK_TESTS_LOG_CAPTURE_H
#define SVK_TESTS_LOG_CAPTURE_H

#include <stdlib.h>
#include <string.h>

#include "svckit/log.h"

#define CAPTURE_TIME_NS INT64_C(1795595332123456789)
#define CAPTURE_TIME_TEXT "2026-11-25T08:28:52.123Z"

typedef struct capture {
    char *text; /* every line, back to back, NUL-terminated */
    size_t len;
    size_t lines;
    int fail; /* the callback reports failure while set */
} capture;

static inline int capture_write(const char *line, size_t len, void *user)
{
    capture *c = user;
    if (c->fail)
        return -1;
    char *grown = realloc(c->text, c->len + len + 1);
    if (grown == NULL)
        return -1;
    memcpy(grown + c->len, line, len);
    c->text = grown;
    c->len += len;
    c->text[c->len] = '\0';
    c->lines++;
    return 0;
}

static inline int64_t capture_clock(void *user)
{
    (void)user;
    return CAPTURE_TIME_NS;
}

static inline svk_log_options capture_options(capture *c, int format)
{
    svk_log_options o = SVK_LOG_OPTIONS_INIT;
    o.format = format;
    o.sink = SVK_LOG_SINK_CALLBACK;
    o.write_fn = capture_write;
    o.write_user = c;
    o.clock_fn = capture_clock;
    o.level = SVK_LOG_DEBUG;
    return o;
}

static inline svk_logger *capture_logger(capture *c, int format)
{
    memset(c, 0, sizeof *c);
    svk_log_options o = capture_options(c, format);
    svk_logger *l = NULL;
    if (svk_logger_new(&l, &o, NULL) != 0)
        abort();
    return l;
}

/* Forget what was captured. */
static inline void capture_reset(capture *c)
{
    free(c->text);
    c->text = NULL;
    c->len = 0;
    c->lines = 0;
}

#endif
