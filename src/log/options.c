/*
 * options.c — reading a caller's svk_log_options: the size field says how
 * much of the struct the caller knows about (a caller built against an
 * older header passes a smaller size and gets defaults for the rest); then
 * defaults are filled in and every field is checked, so that the rest of
 * the module sees only valid options.
 */
#include "log/logger.h"
#include "core/error_detail.h"

#define DEFAULT_TICK_NS 1000000000LL

static int check(const svk_log_options *o, svk_error *err)
{
    if (o->format != SVK_LOG_JSON && o->format != SVK_LOG_TEXT)
        return svk__error_set(err, SVK_EINVAL, "log options: unknown format %d", o->format);
    if (o->sink < SVK_LOG_SINK_FD || o->sink > SVK_LOG_SINK_CALLBACK)
        return svk__error_set(err, SVK_EINVAL, "log options: unknown sink %d", o->sink);
    if (o->sink != SVK_LOG_SINK_CALLBACK && o->fd < 0)
        return svk__error_set(err, SVK_EINVAL, "log options: fd %d", o->fd);
    if (o->sink == SVK_LOG_SINK_CALLBACK && o->write_fn == NULL)
        return svk__error_set(err, SVK_EINVAL, "log options: callback sink without write_fn");
    if (o->redact_count > 0 && o->redact_keys == NULL)
        return svk__error_set(err, SVK_EINVAL, "log options: redact_keys is NULL");
    if (o->sample_tick_ns < 0)
        return svk__error_set(err, SVK_EINVAL, "log options: negative sample_tick_ns");
    return 0;
}

int svk__log_options_read(svk_log_options *out, const svk_log_options *in, svk_error *err)
{
    const svk_log_options defaults = SVK_LOG_OPTIONS_INIT;
    *out = defaults;
    if (in != NULL) {
        if (in->size == 0)
            return svk__error_set(err, SVK_EINVAL,
                                  "log options: size is 0 (start from SVK_LOG_OPTIONS_INIT)");
        if (in->size > sizeof *out)
            return svk__error_set(err, SVK_EINVAL,
                                  "log options: size %zu is newer than this library (%zu)",
                                  in->size, sizeof *out);
        memcpy(out, in, in->size);
        out->size = sizeof *out;
    }
    if (out->sample_tick_ns == 0)
        out->sample_tick_ns = DEFAULT_TICK_NS;
    return check(out, err);
}
