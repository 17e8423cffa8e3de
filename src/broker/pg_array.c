/*
 * pg_array.c — build and read PostgreSQL binary arrays (see pg_array.h).
 *
 * Reading trusts nothing: lengths are checked against the bytes left, so a
 * malformed result (a bug, or a column of another type) is SVK_EPROTO, not
 * a read past the buffer.
 */
#include "broker/pg_array.h"

#include <string.h>

#define HEADER_1D 20u /* ndim, flags, oid, length, lower bound */
#define HEADER_0D 12u /* ndim = 0: the empty array */

static void put_u32(unsigned char *p, uint32_t v)
{
    p[0] = (unsigned char)(v >> 24);
    p[1] = (unsigned char)(v >> 16);
    p[2] = (unsigned char)(v >> 8);
    p[3] = (unsigned char)v;
}

static uint32_t get_u32(const unsigned char *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

int32_t svk__pg_get_int4(const void *p)
{
    return (int32_t)get_u32(p);
}

int64_t svk__pg_get_int8(const void *p)
{
    const unsigned char *b = p;
    return (int64_t)((uint64_t)get_u32(b) << 32 | get_u32(b + 4));
}

size_t svk__pg_array_size(size_t count, size_t data)
{
    return (count ? HEADER_1D : HEADER_0D) + 4 * count + data;
}

int svk__pg_array_begin(svk_buf *b, uint32_t oid, size_t count)
{
    unsigned char h[HEADER_1D];
    put_u32(h, count ? 1 : 0);
    put_u32(h + 4, 0); /* has-nulls: the server works it out itself */
    put_u32(h + 8, oid);
    put_u32(h + 12, (uint32_t)count);
    put_u32(h + 16, 1);
    return svk_buf_append(b, h, count ? HEADER_1D : HEADER_0D);
}

int svk__pg_array_add(svk_buf *b, const void *p, size_t len)
{
    unsigned char h[4];
    if (len == SVK__PG_ARRAY_NULL) {
        put_u32(h, UINT32_MAX); /* -1 */
        return svk_buf_append(b, h, sizeof h);
    }
    if (len > INT32_MAX)
        return SVK_ETOOBIG;
    put_u32(h, (uint32_t)len);
    int rc = svk_buf_append(b, h, sizeof h);
    return rc != 0 ? rc : svk_buf_append(b, p, len);
}

int svk__pg_array_add_int4(svk_buf *b, int32_t v)
{
    unsigned char e[4];
    put_u32(e, (uint32_t)v);
    return svk__pg_array_add(b, e, sizeof e);
}

size_t svk__pg_pairs_size(const svk_header *h, size_t n, const svk_header *extra)
{
    size_t data = extra ? strlen(extra->name) + strlen(extra->value) : 0;
    for (size_t i = 0; i < n; i++)
        data += strlen(h[i].name) + strlen(h[i].value);
    return svk__pg_array_size(2 * (n + (extra != NULL)), data);
}

static unsigned char *write_text(unsigned char *p, const char *s)
{
    size_t len = strlen(s);
    put_u32(p, (uint32_t)len);
    memcpy(p + 4, s, len);
    return p + 4 + len;
}

void svk__pg_pairs_write(unsigned char *dst, const svk_header *h, size_t n,
                         const svk_header *extra)
{
    size_t count = 2 * (n + (extra != NULL));
    put_u32(dst, count ? 1 : 0);
    put_u32(dst + 4, 0);
    put_u32(dst + 8, SVK__PG_OID_TEXT);
    put_u32(dst + 12, (uint32_t)count);
    put_u32(dst + 16, 1);
    unsigned char *p = dst + (count ? HEADER_1D : HEADER_0D);
    for (size_t i = 0; i < n; i++) {
        p = write_text(p, h[i].name);
        p = write_text(p, h[i].value);
    }
    if (extra != NULL) {
        p = write_text(p, extra->name);
        write_text(p, extra->value);
    }
}

int svk__pg_array_open(svk__pg_array_reader *r, const void *data, size_t len, uint32_t oid)
{
    const unsigned char *p = data;
    if (p == NULL || len < HEADER_0D || get_u32(p + 8) != oid)
        return SVK_EPROTO;
    uint32_t ndim = get_u32(p);
    r->end = p + len;
    if (ndim == 0) {
        r->p = p + HEADER_0D;
        r->left = 0;
        return 0;
    }
    if (ndim != 1 || len < HEADER_1D)
        return SVK_EPROTO;
    r->p = p + HEADER_1D;
    r->left = get_u32(p + 12);
    return 0;
}

int svk__pg_array_next(svk__pg_array_reader *r, const unsigned char **p, size_t *len)
{
    if (r->left == 0 || r->end - r->p < 4)
        return SVK_EPROTO;
    uint32_t n = get_u32(r->p);
    r->p += 4;
    r->left--;
    if (n == UINT32_MAX) {
        *p = NULL;
        *len = 0;
        return 0;
    }
    if ((size_t)(r->end - r->p) < n)
        return SVK_EPROTO;
    *p = r->p;
    *len = n;
    r->p += n;
    return 0;
}
