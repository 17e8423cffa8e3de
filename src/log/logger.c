/*
 * logger.c — the logger tree: making a root (core + sink), children with
 * pre-rendered attributes, the shared level, counters, flush and free.
 *
 * Ownership: every logger holds one reference on the core; the core (sink,
 * sampler, deny-list, counters) goes away with the last logger, whichever
 * it is. A child copies its parent's rendered attributes instead of
 * pointing at the parent, so loggers of a tree can be freed in any order.
 */
#include "log/logger.h"
#include "core/error_detail.h"

#include <limits.h>

static int64_t wall_clock(void *user)
{
    (void)user;
    return svk_clock_wall_ns();
}

static int base_sink_new(svk__log_core *core, const svk_log_options *o)
{
    switch (o->sink) {
    case SVK_LOG_SINK_BUFFERED_FD:
        return svk__buffered_sink_new(&core->sink, o->fd, o->buffer_size, &core->counters);
    case SVK_LOG_SINK_CALLBACK:
        return svk__callback_sink_new(&core->sink, o->write_fn, o->write_user,
                                      &core->counters);
    default:
        return svk__fd_sink_new(&core->sink, o->fd, &core->counters);
    }
}

static int sink_new(svk__log_core *core, const svk_log_options *o)
{
    int rc = base_sink_new(core, o);
    if (rc != 0 || o->async_capacity == 0)
        return rc;
    svk__sink *inner = core->sink;
    rc = svk__async_sink_new(&core->sink, inner, o->async_capacity, svk__log_report_drops,
                             core, &core->counters);
    if (rc != 0) {
        inner->ops->destroy(inner);
        core->sink = NULL;
    }
    return rc;
}

static void core_free(svk__log_core *core)
{
    if (core->sink != NULL)
        core->sink->ops->destroy(core->sink);
    svk__sampler_free(core->sampler);
    svk__redactor_free(&core->redact);
    svk_free(core);
}

static void core_release(svk__log_core *core)
{
    if (atomic_fetch_sub_explicit(&core->refs, 1, memory_order_acq_rel) == 1)
        core_free(core);
}

static int core_fill(svk__log_core *core, const svk_log_options *o, svk_error *err)
{
    int rc = svk__redactor_init(&core->redact, o->redact_keys, o->redact_count);
    if (rc != 0)
        return svk__error_set(err, rc, rc == SVK_EINVAL ? "log options: empty redact key"
                                                        : "log: out of memory");
    if (o->sample_first > 0) {
        core->sampler = svk__sampler_new(o->sample_first, o->sample_thereafter,
                                         o->sample_tick_ns);
        if (core->sampler == NULL)
            return svk__error_set(err, SVK_ENOMEM, "log: out of memory");
    }
    rc = sink_new(core, o);
    if (rc != 0)
        return svk__error_set(err, rc, rc == SVK_ESYS ? "log: cannot start the writer thread"
                                                      : "log: out of memory");
    return 0;
}

static int core_new(svk__log_core **out, const svk_log_options *o, svk_error *err)
{
    svk__log_core *core = svk_malloc(sizeof *core);
    if (core == NULL)
        return svk__error_set(err, SVK_ENOMEM, "log: out of memory");
    memset(core, 0, sizeof *core);
    atomic_init(&core->level, o->level);
    atomic_init(&core->refs, 1);
    core->handler = o->format == SVK_LOG_TEXT ? &svk__text_handler : &svk__json_handler;
    core->clock = o->clock_fn != NULL ? o->clock_fn : wall_clock;
    core->clock_user = o->clock_user;
    int rc = core_fill(core, o, err);
    if (rc != 0) {
        core_free(core);
        return rc;
    }
    *out = core;
    return 0;
}

SVK_API int svk_logger_new(svk_logger **out, const svk_log_options *opts, svk_error *err)
{
    if (out == NULL)
        return svk__error_set(err, SVK_EINVAL, "log: out is NULL");
    *out = NULL;
    svk_log_options o;
    int rc = svk__log_options_read(&o, opts, err);
    if (rc != 0)
        return rc;
    svk_logger *l = svk_malloc(sizeof *l);
    if (l == NULL)
        return svk__error_set(err, SVK_ENOMEM, "log: out of memory");
    rc = core_new(&l->core, &o, err);
    if (rc != 0) {
        svk_free(l);
        return rc;
    }
    l->bound = NULL;
    l->bound_len = 0;
    *out = l;
    return 0;
}

SVK_API void svk_logger_free(svk_logger *l)
{
    if (l == NULL)
        return;
    svk__log_core *core = l->core;
    svk_free(l->bound);
    svk_free(l);
    core_release(core);
}

/* The parent's fragment followed by attrs, rendered; b is empty. */
static int render_bound(svk_buf *b, const svk_logger *parent, const svk_attr *attrs, size_t n)
{
    int rc = svk_buf_reserve(b, parent->bound_len);
    if (rc == 0 && parent->bound_len > 0)
        rc = svk_buf_append(b, parent->bound, parent->bound_len);
    if (rc == 0)
        rc = parent->core->handler->attrs(b, &parent->core->redact, attrs, n);
    return rc;
}

SVK_API int svk_logger_with(svk_logger *parent, const svk_attr *attrs, size_t n,
                            svk_logger **child)
{
    if (child != NULL)
        *child = NULL;
    if (parent == NULL || child == NULL || (attrs == NULL && n > 0))
        return SVK_EINVAL;
    svk_logger *l = svk_malloc(sizeof *l);
    if (l == NULL)
        return SVK_ENOMEM;
    svk_buf b = SVK_BUF_INIT;
    int rc = render_bound(&b, parent, attrs, n);
    if (rc != 0) {
        svk_buf_free(&b);
        svk_free(l);
        return rc;
    }
    l->bound_len = b.len;
    l->bound = svk_buf_detach(&b, NULL); /* b holds data: never allocates */
    l->core = parent->core;
    atomic_fetch_add_explicit(&l->core->refs, 1, memory_order_relaxed);
    *child = l;
    return 0;
}

SVK_API int svk_logger_bind(svk_logger *parent, const char *request_id, const char *trace_id,
                            const char *span_id, svk_logger **child)
{
    svk_attr ids[3];
    size_t n = 0;
    const char *keys[3] = {"request_id", "trace_id", "span_id"};
    const char *values[3] = {request_id, trace_id, span_id};
    for (size_t i = 0; i < 3; i++) {
        if (values[i] != NULL)
            ids[n++] = (svk_attr)SVK_STR(keys[i], values[i]);
    }
    return svk_logger_with(parent, ids, n, child);
}

SVK_API int svk_log_enabled(const svk_logger *l, int level)
{
    return l != NULL && level >= atomic_load_explicit(&l->core->level, memory_order_relaxed);
}

SVK_API void svk_logger_set_level(svk_logger *l, int level)
{
    if (l != NULL)
        atomic_store_explicit(&l->core->level, level, memory_order_relaxed);
}

SVK_API int svk_logger_level(const svk_logger *l)
{
    if (l == NULL)
        return SVK_LOG_ERROR + 1000;
    return atomic_load_explicit(&l->core->level, memory_order_relaxed);
}

SVK_API int svk_logger_flush(svk_logger *l)
{
    if (l == NULL)
        return SVK_EINVAL;
    return l->core->sink->ops->flush(l->core->sink);
}

static void read_counter(_Atomic uint64_t *c, uint64_t *out)
{
    if (out != NULL)
        *out = atomic_load_explicit(c, memory_order_relaxed);
}

SVK_API int svk_logger_stats(const svk_logger *l, uint64_t *written, uint64_t *dropped,
                             uint64_t *errors, uint64_t *sampled)
{
    if (l == NULL)
        return SVK_EINVAL;
    svk__log_counters *c = &l->core->counters;
    read_counter(&c->written, written);
    read_counter(&c->dropped, dropped);
    read_counter(&c->errors, errors);
    read_counter(&c->sampled, sampled);
    return 0;
}
