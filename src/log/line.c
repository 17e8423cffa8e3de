/*
 * line.c — one line, whatever the format: the head (time, level), the
 * message, the logger's pre-rendered attributes, the call's attributes and
 * the end. The formats differ only in their fixed text and in how they
 * write strings and attributes (json.c, text.c).
 */
#include "log/handler.h"
#include "log/level.h"
#include "log/timefmt.h"

#define HEAD_FIXED_MAX 32 /* the three fixed texts of a head, together */

static int put_head(const svk__handler *h, svk_buf *b, const svk__line *ln)
{
    int rc = svk__room(b, HEAD_FIXED_MAX + SVK__TIME_LEN + SVK__LEVEL_MAX);
    if (rc != 0)
        return rc;
    char *p = svk__end(b);
    size_t n = strlen(h->before_time);
    memcpy(p, h->before_time, n);
    p = svk__put_rfc3339_ms(p + n, ln->time_ns);
    n = strlen(h->before_level);
    memcpy(p, h->before_level, n);
    p = svk__put_level(p + n, ln->level);
    n = strlen(h->before_msg);
    memcpy(p, h->before_msg, n);
    svk__commit(b, p + n);
    return 0;
}

int svk__render_line(const svk__handler *h, svk_buf *b, const svk__line *ln)
{
    int rc = put_head(h, b, ln);
    if (rc == 0)
        rc = h->string(b, ln->msg, strlen(ln->msg));
    if (rc == 0 && ln->bound_len > 0)
        rc = svk__put(b, ln->bound, ln->bound_len);
    if (rc == 0)
        rc = h->attrs(b, ln->redact, ln->attrs, ln->n);
    if (rc == 0)
        rc = svk__put(b, h->end, strlen(h->end));
    if (rc == 0)
        b->data[b->len] = '\0';
    return rc;
}
