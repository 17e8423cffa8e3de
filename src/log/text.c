/*
 * text.c — the text handler: logfmt, as slog's TextHandler writes it.
 *
 *   time=2026-11-25T08:28:52.123Z level=INFO msg="order created" id=42 db.host=x
 *
 * A key or value is written bare unless a logfmt reader would split on it
 * or misread it (empty; a space, '"', '=', a control byte, DEL; ill-formed
 * UTF-8); then it is quoted with Go's escapes (\" \\ \a \b \f \n \r \t \v,
 * \xHH for other control bytes) and ill-formed UTF-8 as U+FFFD. A line
 * therefore never holds a raw newline. Group members get dotted keys; the
 * key is quoted as a whole when any part of it needs quoting.
 */
#include "log/handler.h"
#include "log/number.h"
#include "log/timefmt.h"
#include "log/utf8.h"

#define CHUNK 1024       /* input bytes per room check */
#define MAX_EXPANSION 4  /* a control byte becomes \xHH */

/* The group keys above the attribute being written. */
typedef struct text_path {
    const char *key[SVK__MAX_GROUP_DEPTH];
    size_t len[SVK__MAX_GROUP_DEPTH];
    int depth;
    int quoted; /* some key on the path needs quoting */
} text_path;

static int needs_quotes(const char *str, size_t n)
{
    const unsigned char *s = (const unsigned char *)str;
    if (n == 0)
        return 1;
    for (size_t i = 0; i < n;) {
        unsigned char c = s[i];
        if (c >= 0x80) {
            int len = svk__utf8_next(s + i, n - i);
            if (len < 0)
                return 1;
            i += (size_t)len;
        } else if (c <= 0x20 || c == '"' || c == '=' || c == 0x7F) {
            return 1;
        } else {
            i++;
        }
    }
    return 0;
}

static char *put_escape(char *p, unsigned char c)
{
    static const char short_forms[] = "\"\"\\\\\aa\bb\ff\nn\rr\tt\vv";
    static const char hex_digits[] = "0123456789abcdef";
    *p++ = '\\';
    for (const char *f = short_forms; *f != '\0'; f += 2) {
        if ((unsigned char)f[0] == c) {
            *p++ = f[1];
            return p;
        }
    }
    p[0] = 'x';
    p[1] = hex_digits[c >> 4];
    p[2] = hex_digits[c & 15];
    return p + 3;
}

/* Escape s[i..stop) for inside quotes (a sequence may run past stop). */
static size_t escape_chunk(char **out, const unsigned char *s, size_t i, size_t stop,
                           size_t n)
{
    char *p = *out;
    while (i < stop) {
        unsigned char c = s[i];
        if (c >= 0x80) {
            int len = svk__utf8_next(s + i, n - i);
            size_t used = (size_t)(len > 0 ? len : -len);
            memcpy(p, len > 0 ? (const char *)s + i : SVK__UTF8_REPLACEMENT, len > 0 ? used : 3);
            p += len > 0 ? used : 3;
            i += used;
        } else if (c < 0x20 || c == 0x7F || c == '"' || c == '\\') {
            p = put_escape(p, c);
            i++;
        } else {
            *p++ = (char)c;
            i++;
        }
    }
    *out = p;
    return i;
}

/* s escaped for inside quotes, without the quotes. */
static int text_escaped(svk_buf *b, const char *str, size_t n)
{
    const unsigned char *s = (const unsigned char *)str;
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < n;) {
        size_t stop = n - i > CHUNK ? i + CHUNK : n;
        rc = svk__room(b, MAX_EXPANSION * (stop - i) + 8);
        if (rc == 0) {
            char *p = svk__end(b);
            i = escape_chunk(&p, s, i, stop, n);
            svk__commit(b, p);
        }
    }
    return rc;
}

static int text_string(svk_buf *b, const char *s, size_t n)
{
    if (!needs_quotes(s, n))
        return svk__put(b, s, n);
    int rc = svk__put(b, "\"", 1);
    if (rc == 0)
        rc = text_escaped(b, s, n);
    return rc != 0 ? rc : svk__put(b, "\"", 1);
}

/* " g1.g2.key=" — quoted as a whole when any part needs it. */
static int text_key(svk_buf *b, const text_path *path, const char *key, size_t klen)
{
    int quoted = path->quoted || needs_quotes(key, klen);
    int rc = svk__put(b, quoted ? " \"" : " ", quoted ? 2 : 1);
    for (int i = 0; rc == 0 && i <= path->depth; i++) {
        const char *part = i < path->depth ? path->key[i] : key;
        size_t len = i < path->depth ? path->len[i] : klen;
        rc = quoted ? text_escaped(b, part, len) : svk__put(b, part, len);
        if (rc == 0 && i < path->depth)
            rc = svk__put(b, ".", 1);
    }
    if (rc == 0 && quoted)
        rc = svk__put(b, "\"", 1);
    return rc != 0 ? rc : svk__put(b, "=", 1);
}

static int text_number(svk_buf *b, const svk_attr *a)
{
    int rc = svk__room(b, SVK__NUMBER_MAX);
    if (rc != 0)
        return rc;
    char *p = svk__end(b);
    switch (a->kind) {
    case SVK_ATTR_UINT:
        p = svk__put_u64(p, a->value.u64);
        break;
    case SVK_ATTR_DURATION:
        p = svk__put_go_duration(p, a->value.i64);
        break;
    case SVK_ATTR_TIME:
        p = svk__put_rfc3339_ms(p, a->value.i64);
        break;
    default:
        p = svk__put_i64(p, a->value.i64);
    }
    svk__commit(b, p);
    return 0;
}

static int text_value(svk_buf *b, const svk_attr *a)
{
    char text[128];
    switch (a->kind) {
    case SVK_ATTR_STRING:
        if (a->value.str.ptr == NULL)
            return svk__put(b, "<nil>", 5);
        return text_string(b, a->value.str.ptr, svk__str_len(a));
    case SVK_ATTR_INT:
    case SVK_ATTR_UINT:
    case SVK_ATTR_DURATION:
    case SVK_ATTR_TIME:
        return text_number(b, a);
    case SVK_ATTR_FLOAT:
        return svk__put_float(b, a->value.f64, 0);
    case SVK_ATTR_BOOL:
        return a->value.boolean ? svk__put(b, "true", 4) : svk__put(b, "false", 5);
    case SVK_ATTR_ERROR:
        return text_string(b, text, svk__error_text(text, sizeof text, a->value.i64));
    case SVK_ATTR_SECRET:
        return svk__put(b, SVK__REDACTED, sizeof SVK__REDACTED - 1);
    default:
        return svk__put(b, "!BADKIND", 8);
    }
}

static int text_attrs(svk_buf *b, const svk__redactor *r, const svk_attr *attrs, size_t n,
                      text_path *path);

/* A group's members, with its key pushed onto the path. */
static int text_group(svk_buf *b, const svk__redactor *r, const svk_attr *a, const char *key,
                      size_t klen, text_path *path)
{
    int saved_quoted = path->quoted;
    path->key[path->depth] = key;
    path->len[path->depth] = klen;
    path->quoted = path->quoted || needs_quotes(key, klen);
    path->depth++;
    int rc = text_attrs(b, r, a->value.group.attrs, a->value.group.n, path);
    path->depth--;
    path->quoted = saved_quoted;
    return rc;
}

static int text_attr(svk_buf *b, const svk__redactor *r, const svk_attr *a, text_path *path)
{
    const char *key = a->key != NULL ? a->key : "";
    size_t klen = strlen(key);
    int redacted = svk__redactor_match(r, key, klen);
    if (a->kind == SVK_ATTR_GROUP && !redacted) {
        if (a->value.group.n == 0 || a->value.group.attrs == NULL)
            return 0; /* slog omits empty groups */
        if (path->depth < SVK__MAX_GROUP_DEPTH - 1) {
            if (klen == 0) /* slog inlines groups without a key */
                return text_attrs(b, r, a->value.group.attrs, a->value.group.n, path);
            return text_group(b, r, a, key, klen, path);
        }
    }
    int rc = text_key(b, path, key, klen);
    if (rc != 0)
        return rc;
    if (redacted)
        return svk__put(b, SVK__REDACTED, sizeof SVK__REDACTED - 1);
    if (a->kind == SVK_ATTR_GROUP)
        return svk__put(b, "!DEPTH", 6);
    return text_value(b, a);
}

static int text_attrs(svk_buf *b, const svk__redactor *r, const svk_attr *attrs, size_t n,
                      text_path *path)
{
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < n; i++)
        rc = text_attr(b, r, &attrs[i], path);
    return rc;
}

static int text_bound(svk_buf *b, const svk__redactor *r, const svk_attr *attrs, size_t n)
{
    text_path path;
    path.depth = 0;
    path.quoted = 0;
    return text_attrs(b, r, attrs, n, &path);
}

const svk__handler svk__text_handler = {"time=", " level=", " msg=", "\n", text_string,
                                         text_bound};
