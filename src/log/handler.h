/*
 * handler.h — internal: the two line formats (json.c, text.c) behind one
 * interface, and the helpers both use to write into an svk_buf directly.
 *
 * Renderers reserve room first and then write through a plain char
 * pointer: one capacity check per piece instead of one call per byte. They
 * keep svk_buf's invariant only at the end of a line (data[len] == NUL).
 */
#ifndef SVK_LOG_HANDLER_H
#define SVK_LOG_HANDLER_H

#include "svckit/log.h"
#include "log/redact.h"

#include <string.h>

/* Groups nest at most this deep; deeper ones print "!DEPTH". */
#define SVK__MAX_GROUP_DEPTH 16

/* Everything one line is made of. */
typedef struct svk__line {
    int64_t time_ns;
    int level;
    const char *msg;                /* never NULL here */
    const char *bound;              /* pre-rendered attributes of the logger */
    size_t bound_len;
    const svk_attr *attrs;
    size_t n;
    const svk__redactor *redact;
} svk__line;

/* A format: the fixed text around time, level and message, and how it
 * writes a string and a run of attributes. */
typedef struct svk__handler {
    const char *before_time;  /* '{"time":"'  or 'time='  */
    const char *before_level; /* '","level":"' or ' level=' */
    const char *before_msg;   /* '","msg":'   or ' msg='   */
    const char *end;          /* '}\n'        or '\n'      */
    int (*string)(svk_buf *b, const char *s, size_t n);
    /* Append attrs as a fragment that can follow the message (and be
     * spliced in later as a logger's "bound" text). */
    int (*attrs)(svk_buf *b, const svk__redactor *r, const svk_attr *attrs, size_t n);
} svk__handler;

extern const svk__handler svk__json_handler;
extern const svk__handler svk__text_handler;

/* Make room for n more bytes (and the NUL svk_buf keeps after them). */
static inline int svk__room(svk_buf *b, size_t n)
{
    return b->cap - b->len > n ? 0 : svk_buf_reserve(b, n);
}

static inline char *svk__end(svk_buf *b)
{
    return (char *)b->data + b->len;
}

static inline void svk__commit(svk_buf *b, char *end)
{
    b->len = (size_t)(end - (char *)b->data);
}

static inline int svk__put(svk_buf *b, const char *s, size_t n)
{
    int rc = svk__room(b, n);
    if (rc != 0)
        return rc;
    memcpy(svk__end(b), s, n);
    b->len += n;
    return 0;
}

/* The length of a string attribute's value (measuring NUL-terminated ones). */
static inline size_t svk__str_len(const svk_attr *a)
{
    return a->value.str.len == SVK_ATTR_NUL_TERMINATED ? strlen(a->value.str.ptr)
                                                       : a->value.str.len;
}

/* Append one whole line, '\n' included, in h's format: 0, SVK_ENOMEM or
 * SVK_ERANGE. */
int svk__render_line(const svk__handler *h, svk_buf *b, const svk__line *line);

/* A float: its shortest decimal, or NaN, +Inf, -Inf — between quotes when
 * quoted (JSON has no such numbers, so there they are strings, as in zap). */
int svk__put_float(svk_buf *b, double v, int quoted);

/* "SVK_EIO: input/output error" for an error attribute, into tmp. */
size_t svk__error_text(char *tmp, size_t size, int64_t code);

#endif
