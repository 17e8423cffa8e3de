/*
 * emit.c — the path of one line: level check, sampler, render into the
 * thread's buffer, hand to the sink. Nothing here allocates once the
 * thread's buffer has grown to fit its lines, and nothing fails visibly:
 * a line that cannot be rendered is counted as dropped and as an error.
 * errno is preserved, so that "log, then return errno" works.
 */
#include "log/logger.h"
#include "log/linebuf.h"

#include <errno.h>

static void emit(svk__log_core *core, const svk__line *line, svk__sink *to)
{
    svk_buf *b = svk__line_buffer();
    if (b == NULL || svk__render_line(core->handler, b, line) != 0) {
        svk__count(&core->counters.dropped, 1);
        svk__count(&core->counters.errors, 1);
        if (b != NULL)
            svk__line_buffer_done(b);
        return;
    }
    to->ops->write(to, (const char *)b->data, b->len);
    svk__line_buffer_done(b);
}

SVK_API void svk_log(svk_logger *l, int level, const char *msg, const svk_attr *attrs,
                     size_t n)
{
    if (!svk_log_enabled(l, level))
        return;
    int saved_errno = errno;
    svk__log_core *core = l->core;
    int64_t now = core->clock(core->clock_user);
    if (core->sampler != NULL && !svk__sampler_allow(core->sampler, level, msg, now)) {
        svk__count(&core->counters.sampled, 1);
        errno = saved_errno;
        return;
    }
    svk__line line = {.time_ns = now,
                      .level = level,
                      .msg = msg != NULL ? msg : "",
                      .bound = l->bound,
                      .bound_len = l->bound_len,
                      .attrs = attrs,
                      .n = attrs != NULL ? n : 0,
                      .redact = &core->redact};
    emit(core, &line, core->sink);
    errno = saved_errno;
}

void svk__log_report_drops(void *ctx, uint64_t dropped, svk__sink *inner)
{
    svk__log_core *core = ctx;
    const svk_attr attrs[] = {SVK_UINT("dropped", dropped)};
    svk__line line = {.time_ns = core->clock(core->clock_user),
                      .level = SVK_LOG_WARN,
                      .msg = "log lines dropped",
                      .attrs = attrs,
                      .n = 1,
                      .redact = &core->redact};
    emit(core, &line, inner);
}
