/*
 * svckit/log.h — a structured logger in the manner of Go's log/slog: numeric
 * levels, typed attributes, child loggers with pre-rendered attributes, JSON
 * and logfmt handlers, redaction, sampling, and sinks that never interleave.
 *
 *     svk_logger *log;
 *     svk_log_options o = SVK_LOG_OPTIONS_INIT;      (JSON on stdout, INFO)
 *     svk_logger_new(&log, &o, NULL);
 *     svk_log_info(log, "order created", SVK_STR("id", id), SVK_INT("items", n),
 *                  SVK_DUR("took", ns));
 *   prints
 *     {"time":"2026-11-25T08:28:52.123Z","level":"INFO","msg":"order created",
 *      "id":"0193…","items":3,"took":1500000}
 *
 * The tree: svk_logger_new makes a root; svk_logger_with / svk_logger_bind make
 * children that add attributes to every line. All loggers of one tree share
 * the sink, the level, the sampler and the counters; those live until the
 * last logger of the tree is freed, so a child may outlive its parent. Each
 * logger is freed on its own with svk_logger_free.
 *
 * Threads: unlike most of libsvckit, a logger is meant to be shared. Logging
 * (svk_log and the svk_log_* macros), svk_log_enabled, svk_logger_with,
 * svk_logger_bind, the level calls, svk_logger_flush and svk_logger_stats are
 * safe concurrently from any thread on the same logger. Only svk_logger_free
 * needs the logger it frees to be out of use.
 *
 * Lines: each line is rendered into a buffer owned by the calling thread
 * (allocated on the thread's first line, grown as needed, kept for the next
 * line and freed at thread exit), so logging allocates nothing in steady
 * state. A complete line reaches the sink in one write(2) (or one callback
 * call), under the sink's lock: lines from many threads never interleave.
 *
 * Formats (docs/log.md has examples):
 *  - JSON (SVK_LOG_JSON): one object per line,
 *    {"time":"<RFC 3339 UTC, ms>","level":"INFO","msg":"…",<attrs>}. Strings and
 *    keys are escaped per RFC 8259: '"', '\\', control bytes (\n \t \r \b \f,
 *    others \u00XX); valid UTF-8 is copied; each maximal invalid subpart of
 *    ill-formed UTF-8 (overlong forms, surrogates, code points above U+10FFFF,
 *    truncated sequences, stray continuation bytes) becomes one U+FFFD. Groups
 *    are nested objects; durations are integer nanoseconds; floats are the
 *    shortest decimal that reads back to the same double (as Go's
 *    encoding/json prints them), NaN and infinities the strings "NaN", "+Inf",
 *    "-Inf"; times are RFC 3339 strings with milliseconds; errors are strings
 *    "SVK_EIO: input/output error".
 *  - Text (SVK_LOG_TEXT): logfmt, time=… level=INFO msg="…" k=v. A value (or
 *    key) is quoted when it is empty or holds a space, '"', '=', a control
 *    byte, DEL or ill-formed UTF-8; inside quotes '"' and '\\' are escaped,
 *    \a \b \f \n \r \t \v as in Go, other control bytes as \xHH, ill-formed
 *    UTF-8 as U+FFFD. Group members get dotted keys (g.k=v); durations are Go
 *    duration strings ("1.5s", "250ms", "1h2m0.5s").
 *  Keys are not de-duplicated (as in slog).
 *
 * Redaction: an attribute whose key is on the deny-list is written with the
 * value "<redacted>" (a group with such a key is replaced whole), at any
 * nesting depth and in bound attributes too. The list holds "password",
 * "secret", "token", "authorization", "cookie" and the keys given in the
 * options. A key matches when, compared ASCII case-insensitively, it equals a
 * listed word or ends with '_', '-' or '.' followed by it: "db_password",
 * "X-Auth-Token" and "set-cookie" match; "tokens", "token_count" and
 * "passwords" do not. SVK_SECRET attributes are always redacted.
 *
 * Counters (svk_logger_stats): every line that passes the level check and
 * the sampler either reaches the sink ("written") or is lost ("dropped": the
 * async ring was full, a non-blocking fd returned EAGAIN, the sink failed,
 * or rendering ran out of memory); lines the sampler dropped count as
 * "sampled". "errors" counts failures (of write(2), the callback, rendering).
 * A buffered sink counts its lines when it writes them out.
 *
 * fork(): a child inherits the loggers but not an async ring's writer
 * thread; a child that keeps logging should make its own root logger.
 */
#ifndef SVCKIT_LOG_H
#define SVCKIT_LOG_H

#include <stddef.h>
#include <stdint.h>

#include "svckit/core.h"

#ifdef __cplusplus
extern "C" {
#endif

/* An opaque logger: a root made by svk_logger_new or a child of one. */
typedef struct svk_logger svk_logger;

/* ------------------------------------------------------------------ levels */

/*
 * Levels are ints, as in slog: the named ones are 4 apart so that levels in
 * between can be used and are printed relative to the named one below them
 * ("INFO+2", "WARN-1" is never printed: it is "INFO+3"). A line is written
 * when its level is >= the logger's level.
 */
enum svk_log_level {
    SVK_LOG_DEBUG = -4,
    SVK_LOG_INFO = 0,
    SVK_LOG_WARN = 4,
    SVK_LOG_ERROR = 8
};

/* Room for any level printed by svk_log_level_string, with its NUL. */
#define SVK_LOG_LEVEL_STRLEN 24

/* Output formats. Append-only. */
enum svk_log_format {
    SVK_LOG_JSON = 0,
    SVK_LOG_TEXT = 1
};

/*
 * svk_log_level_parse — read a level: "debug", "info", "warn" (or "warning"),
 * "error", ASCII case-insensitive, optionally followed by +N or -N ("INFO+2",
 * "error-1"), or a plain decimal integer ("-4", "2"). This is what LOG_LEVEL
 * holds. s must be NUL-terminated; no spaces.
 * Ownership: s borrowed; level borrowed; err optional.
 * Threads: safe from any thread.
 * Errors: SVK_EINVAL (NULL argument or malformed; err says why), SVK_ERANGE
 *         (the result does not fit in an int). *level is untouched on failure.
 * Since: 0.1.0
 */
SVK_API int svk_log_level_parse(const char *s, int *level, svk_error *err);

/*
 * svk_log_level_string — write level as the logs print it ("INFO",
 * "DEBUG-2", "ERROR+10") into buf and return buf.
 * Ownership: buf is the caller's, SVK_LOG_LEVEL_STRLEN bytes.
 * Threads: safe from any thread.
 * Errors: none.
 * Since: 0.1.0
 */
SVK_API const char *svk_log_level_string(int level, char buf[SVK_LOG_LEVEL_STRLEN]);

/*
 * svk_log_format_parse — read a format name: "json" or "text" (ASCII
 * case-insensitive; "logfmt" is accepted for text). This is what LOG_FORMAT
 * holds.
 * Ownership: s borrowed; format borrowed; err optional.
 * Threads: safe from any thread.
 * Errors: SVK_EINVAL (NULL argument or unknown name). *format is untouched
 *         on failure.
 * Since: 0.1.0
 */
SVK_API int svk_log_format_parse(const char *s, int *format, svk_error *err);

/* -------------------------------------------------------------- attributes */

/* Attribute kinds. Append-only: new kinds get new numbers at the end. */
enum svk_attr_kind {
    SVK_ATTR_STRING = 1,   /* value.str */
    SVK_ATTR_INT = 2,      /* value.i64 */
    SVK_ATTR_UINT = 3,     /* value.u64 */
    SVK_ATTR_FLOAT = 4,    /* value.f64 */
    SVK_ATTR_BOOL = 5,     /* value.boolean, 0 or 1 */
    SVK_ATTR_DURATION = 6, /* value.i64, nanoseconds */
    SVK_ATTR_TIME = 7,     /* value.i64, nanoseconds since the Unix epoch */
    SVK_ATTR_ERROR = 8,    /* value.i64, an SVK_E* code: "SVK_EIO: input/output error" */
    SVK_ATTR_GROUP = 9,    /* value.group: nested attributes (an object in JSON) */
    SVK_ATTR_SECRET = 10   /* value.str, never printed: always "<redacted>" */
};

/* value.str.len meaning "ptr is NUL-terminated: measure it when rendering". */
#define SVK_ATTR_NUL_TERMINATED ((size_t)-1)

/*
 * svk_attr — one key/value pair of a log line. Built with the SVK_* macros
 * below, usually in the argument list of an svk_log_* macro; nothing is
 * copied or measured until a line is actually rendered.
 *
 * key is NUL-terminated. A string value is ptr/len bytes (any bytes, NUL
 * included), or ptr NUL-terminated when len is SVK_ATTR_NUL_TERMINATED; a
 * NULL ptr prints as JSON null (text: <nil>). A group holds n attributes;
 * an empty group is omitted. Unknown kinds print as the string "!BADKIND".
 * Ownership: every pointer is borrowed: it must stay valid until the call
 * that takes the attribute returns (svk_log, svk_logger_with).
 *
 * The layout is frozen for SONAME libsvckit.so.0 (32 bytes on LP64): kinds
 * are only appended, members never move, and the union never grows.
 */
typedef struct svk_attr {
    const char *key;
    int kind; /* enum svk_attr_kind */
    union {
        struct {
            const char *ptr;
            size_t len;
        } str;
        int64_t i64;
        uint64_t u64;
        double f64;
        int boolean;
        struct {
            const struct svk_attr *attrs;
            size_t n;
        } group;
    } value;
} svk_attr;

/*
 * Constructors. Each expands to a brace initializer, so it can start an
 * array element or a declaration (svk_attr a = SVK_INT("n", 3);); write
 * (svk_attr)SVK_INT("n", 3) where an expression is needed. Every argument is
 * evaluated exactly once. C only (C++ before C++20 lacks the designators).
 */
#define SVK_STR(k, v) {(k), SVK_ATTR_STRING, {.str = {(v), SVK_ATTR_NUL_TERMINATED}}}
#define SVK_STRN(k, p, n) {(k), SVK_ATTR_STRING, {.str = {(p), (size_t)(n)}}}
#define SVK_INT(k, v) {(k), SVK_ATTR_INT, {.i64 = (int64_t)(v)}}
#define SVK_UINT(k, v) {(k), SVK_ATTR_UINT, {.u64 = (uint64_t)(v)}}
#define SVK_FLOAT(k, v) {(k), SVK_ATTR_FLOAT, {.f64 = (double)(v)}}
#define SVK_BOOL(k, v) {(k), SVK_ATTR_BOOL, {.boolean = (v) ? 1 : 0}}
#define SVK_DUR(k, ns) {(k), SVK_ATTR_DURATION, {.i64 = (int64_t)(ns)}}
#define SVK_TIME(k, unix_ns) {(k), SVK_ATTR_TIME, {.i64 = (int64_t)(unix_ns)}}
#define SVK_ERR(k, code) {(k), SVK_ATTR_ERROR, {.i64 = (int64_t)(code)}}
#define SVK_SECRET(k, v) {(k), SVK_ATTR_SECRET, {.str = {(v), SVK_ATTR_NUL_TERMINATED}}}
/* SVK_GROUP(key, attr...) — zero or more members. */
#define SVK_GROUP(...) SVK__GROUP(__VA_ARGS__, SVK__END)

/* Internal: the sentinel that lets the variadic macros take zero attributes. */
#define SVK__END {NULL, 0, {.i64 = 0}}
#define SVK__GROUP(k, ...)                                                                \
    {(k), SVK_ATTR_GROUP,                                                                 \
     {.group = {(const svk_attr[]){__VA_ARGS__},                                          \
                sizeof((const svk_attr[]){__VA_ARGS__}) / sizeof(svk_attr) - 1}}}

/* ----------------------------------------------------------------- options */

/* Where lines go. Append-only. */
enum svk_log_sink {
    SVK_LOG_SINK_FD = 0,          /* one write(2) per line to fd, under a lock */
    SVK_LOG_SINK_BUFFERED_FD = 1, /* lines gathered in a buffer, written whole when
                                     it is full, on svk_logger_flush and at the end */
    SVK_LOG_SINK_CALLBACK = 2     /* write_fn called once per line, under a lock */
};

/*
 * svk_log_write_fn — a callback sink. line is one complete line of len bytes
 * ending in '\n' (also NUL-terminated, the NUL not counted). Calls are
 * serialised (never two at once for one logger tree) and come from the
 * logging thread, or from the writer thread with an async ring. Return 0, or
 * a negative value to report a failure (the line counts as dropped and as an
 * error). It must not log to the same logger tree (that would deadlock).
 * Ownership: line is borrowed for the call only.
 */
typedef int (*svk_log_write_fn)(const char *line, size_t len, void *user);

/*
 * svk_log_clock_fn — a time source: nanoseconds since the Unix epoch. Used for
 * the "time" of every line and for the sampler's ticks. Must be safe from
 * any thread.
 */
typedef int64_t (*svk_log_clock_fn)(void *user);

/*
 * svk_log_options — how svk_logger_new builds a root logger. Start from
 * SVK_LOG_OPTIONS_INIT and change what you need: size lets later versions
 * append fields without breaking callers built against this one. Zero means
 * the default for every field except size and fd.
 */
typedef struct svk_log_options {
    size_t size;        /* sizeof(svk_log_options) of the caller's header */
    int format;         /* SVK_LOG_JSON (default) or SVK_LOG_TEXT */
    int level;          /* the minimum level; default SVK_LOG_INFO (0) */
    int sink;           /* SVK_LOG_SINK_*; default SVK_LOG_SINK_FD */
    int fd;             /* for the fd sinks; borrowed, never closed; INIT: 1 */
    size_t buffer_size; /* buffered fd sink: bytes; 0 means 64 KiB */
    svk_log_write_fn write_fn; /* callback sink */
    void *write_user;          /* passed to write_fn; borrowed */
    /* Bytes of the asynchronous ring; 0 (default) logs synchronously. With a
     * ring, the logging thread only copies the line into it (or, when the
     * line does not fit, drops and counts it); a writer thread hands lines
     * to the sink and, at most once a second and at the end, writes a WARN
     * line "log lines dropped" with "dropped":N when lines were lost. */
    size_t async_capacity;
    const char *const *redact_keys; /* more keys for the deny-list; copied */
    size_t redact_count;
    /* Sampling, per tick and per (level, message): the first sample_first
     * lines pass, then every sample_thereafter-th (0: none). Off when
     * sample_first is 0. The tick defaults to one second. */
    uint32_t sample_first;
    uint32_t sample_thereafter;
    int64_t sample_tick_ns;
    svk_log_clock_fn clock_fn; /* NULL: the wall clock (svk_clock_wall_ns) */
    void *clock_user;          /* passed to clock_fn; borrowed */
} svk_log_options;

#define SVK_LOG_OPTIONS_INIT                                                              \
    {.size = sizeof(svk_log_options), .format = SVK_LOG_JSON, .level = SVK_LOG_INFO,      \
     .sink = SVK_LOG_SINK_FD, .fd = 1}

/* ------------------------------------------------------------------ logger */

/*
 * svk_logger_new — make a root logger as opts says (NULL: the defaults of
 * SVK_LOG_OPTIONS_INIT, JSON lines at INFO and above on stdout).
 *
 * With async_capacity > 0 a writer thread is started; it runs until the
 * last logger of the tree is freed.
 * Ownership: *out is new (free it with svk_logger_free); opts is read during
 *            the call only (redact_keys copied); fd, write_user and
 *            clock_user are borrowed until the last logger of the tree is
 *            freed; err optional.
 * Threads: any thread.
 * Errors: SVK_EINVAL (out NULL, opts->size 0 or larger than this library
 *         knows, unknown format or sink, negative fd, callback sink without
 *         write_fn, an empty or NULL redact key), SVK_ENOMEM, SVK_ESYS (the
 *         writer thread could not start). *out is NULL on failure.
 * Since: 0.1.0
 */
SVK_API int svk_logger_new(svk_logger **out, const svk_log_options *opts, svk_error *err);

/*
 * svk_logger_free — release a logger. When it is the last logger of its tree,
 * also flush and release the sink (joining the writer thread, which first
 * writes out every line in the ring).
 * Ownership: takes l back; NULL is a no-op. Children stay valid.
 * Threads: any thread, once no other thread uses l itself (other loggers of
 *          the tree may be in use meanwhile).
 * Errors: none (a failing last flush is counted in the errors counter, which
 *         nobody can read any more).
 * Since: 0.1.0
 */
SVK_API void svk_logger_free(svk_logger *l);

/*
 * svk_logger_with — make a child of parent that adds attrs (after the
 * parent's own bound attributes) to every line. The attributes are
 * rendered (and redacted) once, here, in the tree's format.
 * Ownership: *child is new (free it with svk_logger_free); parent and attrs
 *            are borrowed for the call (strings are copied as rendered).
 * Threads: safe from any thread, concurrently with use of parent.
 * Errors: SVK_EINVAL (parent or child NULL, attrs NULL with n > 0),
 *         SVK_ENOMEM. *child is NULL on failure.
 * Since: 0.1.0
 */
SVK_API int svk_logger_with(svk_logger *parent, const svk_attr *attrs, size_t n,
                            svk_logger **child);

/*
 * svk_logger_bind — the request/trace seam: a child of parent whose lines
 * carry "request_id", "trace_id" and "span_id" (each omitted when NULL). The
 * server makes one per request, with the ids the tracing module supplies.
 * Same as svk_logger_with with those three string attributes.
 * Ownership: *child is new (svk_logger_free); the ids are copied.
 * Threads: safe from any thread, concurrently with use of parent.
 * Errors: as svk_logger_with.
 * Since: 0.1.0
 */
SVK_API int svk_logger_bind(svk_logger *parent, const char *request_id,
                            const char *trace_id, const char *span_id,
                            svk_logger **child);

/*
 * svk_logger_set_level — change the minimum level of l's whole tree (the
 * root and all its children) at once, atomically.
 * Ownership: l borrowed; NULL is a no-op.
 * Threads: safe from any thread, concurrently with logging.
 * Errors: none.
 * Since: 0.1.0
 */
SVK_API void svk_logger_set_level(svk_logger *l, int level);

/*
 * svk_logger_level — the current minimum level of l's tree.
 * Ownership: l borrowed. Threads: safe from any thread.
 * Errors: none (SVK_LOG_ERROR + 1000 for NULL: nothing is enabled).
 * Since: 0.1.0
 */
SVK_API int svk_logger_level(const svk_logger *l);

/*
 * svk_log_enabled — whether a line at level would be written: the only work
 * the svk_log_* macros do when it would not (one atomic load and a compare).
 * Ownership: l borrowed; NULL gives 0.
 * Threads: safe from any thread.
 * Errors: none.
 * Since: 0.1.0
 */
SVK_API int svk_log_enabled(const svk_logger *l, int level);

/*
 * svk_log — write one line: msg and the n attributes of attrs, after l's
 * bound ones. Does nothing when the level is disabled or the sampler drops
 * the line. Never fails visibly: a line that cannot be rendered or written
 * is counted (svk_logger_stats) and lost.
 * Ownership: l, msg (NUL-terminated; NULL prints as "") and attrs (with all
 *            they point to) are borrowed for the call.
 * Threads: safe from any thread, concurrently on the same logger.
 * Errors: none returned; see the counters.
 * Since: 0.1.0
 */
SVK_API void svk_log(svk_logger *l, int level, const char *msg, const svk_attr *attrs,
                     size_t n);

/*
 * Convenience macros: svk_log_info(l, "msg", SVK_INT("n", 1), ...) with zero
 * or more attributes (they compile with -std=c11 -pedantic). l and the level
 * are evaluated once; the message and the attributes only when the level is
 * enabled, so a disabled line costs one svk_log_enabled call.
 */
#define svk_log_debug(l, ...) SVK__LOG(l, SVK_LOG_DEBUG, __VA_ARGS__, SVK__END)
#define svk_log_info(l, ...) SVK__LOG(l, SVK_LOG_INFO, __VA_ARGS__, SVK__END)
#define svk_log_warn(l, ...) SVK__LOG(l, SVK_LOG_WARN, __VA_ARGS__, SVK__END)
#define svk_log_error(l, ...) SVK__LOG(l, SVK_LOG_ERROR, __VA_ARGS__, SVK__END)
/* svk_log_at(l, level, "msg", attr...) — any numeric level. */
#define svk_log_at(l, level, ...) SVK__LOG(l, level, __VA_ARGS__, SVK__END)

#define SVK__LOG(l, lvl, msg, ...)                                                        \
    do {                                                                                  \
        svk_logger *const svk__log_logger = (l);                                          \
        const int svk__log_level = (lvl);                                                 \
        if (svk_log_enabled(svk__log_logger, svk__log_level)) {                           \
            const svk_attr svk__log_attrs[] = {__VA_ARGS__};                              \
            svk_log(svk__log_logger, svk__log_level, (msg), svk__log_attrs,               \
                    sizeof svk__log_attrs / sizeof svk__log_attrs[0] - 1);                \
        }                                                                                 \
    } while (0)

/*
 * svk_logger_flush — push out what the tree's sink holds: with an async ring,
 * wait until the writer has handed every line logged before this call to the
 * sink; with a buffered fd sink, write the buffer. A plain fd or callback
 * sink holds nothing. Does not fsync.
 * Ownership: l borrowed.
 * Threads: safe from any thread, concurrently with logging (lines logged
 *          meanwhile may or may not be included). Not from a write_fn.
 * Errors: SVK_EINVAL (l NULL), SVK_EIO (a write failed; the lines are
 *         counted as dropped), SVK_EAGAIN (a non-blocking fd was full).
 * Since: 0.1.0
 */
SVK_API int svk_logger_flush(svk_logger *l);

/*
 * svk_logger_stats — read the tree's counters (see the file comment): lines
 * written to the sink, lines dropped, failures, and lines the sampler
 * dropped. Any out-pointer may be NULL. Each is read atomically on its own
 * (they are not a consistent snapshot while other threads log).
 * Ownership: l and the out-pointers borrowed.
 * Threads: safe from any thread.
 * Errors: SVK_EINVAL (l NULL).
 * Since: 0.1.0
 */
SVK_API int svk_logger_stats(const svk_logger *l, uint64_t *written, uint64_t *dropped,
                             uint64_t *errors, uint64_t *sampled);

/* ------------------------------------------------------------------ config */

struct svk_config; /* svckit/config.h */

/*
 * svk_log_config — log the effective configuration c (loaded) as one INFO
 * line with message "config" and a group "config" holding one attribute per
 * field, keyed by the variable name ("ORDERS_PORT"): int64, bool, duration
 * and byte-size fields typed, the others as their text; unset fields null;
 * secret fields "<redacted>" (their values are never read). The line goes
 * through the usual level check, sampler and deny-list.
 * Ownership: l and c borrowed for the call.
 * Threads: safe from any thread (c is immutable once loaded).
 * Errors: SVK_EINVAL (NULL argument), SVK_ESTATE (c not loaded),
 *         SVK_ENOMEM. Nothing is logged on failure.
 * Since: 0.1.0
 */
SVK_API int svk_log_config(svk_logger *l, const struct svk_config *c);

#ifdef __cplusplus
}
#endif

#endif /* SVCKIT_LOG_H */
