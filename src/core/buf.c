/*
 * buf.c — the growable byte buffer (svk_buf).
 *
 * Invariant: when data != NULL, len < cap and data[len] == '\0'. Every
 * failure leaves the buffer exactly as it was.
 */
#include "svckit/core.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define MIN_CAPACITY 64

SVK_API int svk_buf_reserve(svk_buf *b, size_t extra)
{
    if (b == NULL)
        return SVK_EINVAL;
    if (extra > SIZE_MAX - 1 - b->len)
        return SVK_ERANGE;
    size_t need = b->len + extra + 1;
    if (need <= b->cap)
        return 0;
    size_t cap = b->cap < MIN_CAPACITY ? MIN_CAPACITY : b->cap;
    while (cap < need)
        cap = cap > SIZE_MAX / 2 ? need : cap * 2;
    unsigned char *data = svk_realloc(b->data, cap);
    if (data == NULL)
        return SVK_ENOMEM;
    if (b->data == NULL)
        data[0] = '\0';
    b->data = data;
    b->cap = cap;
    return 0;
}

SVK_API int svk_buf_append(svk_buf *b, const void *p, size_t n)
{
    if (b == NULL || (p == NULL && n > 0))
        return SVK_EINVAL;
    /* p may point into b->data, which reserve can move. */
    const unsigned char *src = p;
    int inside = b->data != NULL && src >= b->data && src < b->data + b->cap;
    size_t offset = inside ? (size_t)(src - b->data) : 0;
    int rc = svk_buf_reserve(b, n);
    if (rc != 0)
        return rc;
    if (inside)
        src = b->data + offset;
    if (n > 0)
        memmove(b->data + b->len, src, n);
    b->len += n;
    b->data[b->len] = '\0';
    return 0;
}

SVK_API int svk_buf_append_str(svk_buf *b, const char *s)
{
    if (s == NULL)
        return SVK_EINVAL;
    return svk_buf_append(b, s, strlen(s));
}

static int format_into(svk_buf *b, const char *fmt, va_list ap)
{
    va_list again;
    va_copy(again, ap);
    size_t room = b->cap > b->len ? b->cap - b->len : 0;
    char *dst = b->data ? (char *)b->data + b->len : NULL;
    int n = vsnprintf(dst, room, fmt, ap);
    int rc = 0;
    if (n < 0) {
        rc = SVK_EINVAL;
    } else if ((size_t)n >= room) {
        rc = svk_buf_reserve(b, (size_t)n);
        if (rc == 0)
            vsnprintf((char *)b->data + b->len, (size_t)n + 1, fmt, again);
    }
    va_end(again);
    if (rc != 0) {
        if (b->data != NULL)
            b->data[b->len] = '\0';
        return rc;
    }
    b->len += (size_t)n;
    return 0;
}

SVK_API int svk_buf_appendf(svk_buf *b, const char *fmt, ...)
{
    if (b == NULL || fmt == NULL)
        return SVK_EINVAL;
    va_list ap;
    va_start(ap, fmt);
    int rc = format_into(b, fmt, ap);
    va_end(ap);
    return rc;
}

SVK_API void svk_buf_reset(svk_buf *b)
{
    if (b == NULL)
        return;
    b->len = 0;
    if (b->data != NULL)
        b->data[0] = '\0';
}

SVK_API void svk_buf_free(svk_buf *b)
{
    if (b == NULL)
        return;
    svk_free(b->data);
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
}

SVK_API char *svk_buf_detach(svk_buf *b, size_t *len_out)
{
    if (b == NULL)
        return NULL;
    if (b->data == NULL && svk_buf_reserve(b, 0) != 0)
        return NULL;
    char *s = (char *)b->data;
    if (len_out != NULL)
        *len_out = b->len;
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
    return s;
}
