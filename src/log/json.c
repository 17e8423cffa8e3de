/*
 * json.c — the JSON handler: one RFC 8259 object per line.
 *
 *   {"time":"2026-11-25T08:28:52.123Z","level":"INFO","msg":"…",<bound>,<attrs>}
 *
 * Every byte of keys and strings goes through one escaper: '"', '\\' and
 * control bytes are escaped (short forms where JSON has them, \u00XX
 * otherwise), well-formed UTF-8 is copied, and each maximal ill-formed
 * subpart becomes U+FFFD — so any input yields valid JSON and valid UTF-8.
 * Plain ASCII is copied eight bytes at a time (a word-at-a-time test for
 * bytes that need attention). Long strings are escaped in chunks so the
 * room reserved ahead stays bounded (6 output bytes per input byte at most).
 */
#include "log/handler.h"
#include "log/number.h"
#include "log/timefmt.h"
#include "log/utf8.h"

#define CHUNK 1024        /* input bytes per room check */
#define MAX_EXPANSION 6   /* a control byte becomes \u00XX */

static const char hex_digits[] = "0123456789abcdef";

/* Eight bytes none of which is a control byte, '"', '\\' or non-ASCII. */
static int plain_word(const unsigned char *s)
{
    const uint64_t ones = 0x0101010101010101u, highs = 0x8080808080808080u;
    uint64_t w;
    memcpy(&w, s, sizeof w);
    uint64_t quote = w ^ (ones * '"'), backslash = w ^ (ones * '\\');
    uint64_t control = (w - ones * 0x20) & ~w;
    uint64_t zero_q = (quote - ones) & ~quote, zero_b = (backslash - ones) & ~backslash;
    return ((control | zero_q | zero_b | w) & highs) == 0;
}

static char *put_escape(char *p, unsigned char c)
{
    static const char short_forms[] = "\"\"\\\\\nn\rr\tt\bb\ff";
    *p++ = '\\';
    for (const char *f = short_forms; *f != '\0'; f += 2) {
        if ((unsigned char)f[0] == c) {
            *p++ = f[1];
            return p;
        }
    }
    memcpy(p, "u00", 3);
    p[3] = hex_digits[c >> 4];
    p[4] = hex_digits[c & 15];
    return p + 5;
}

/* One sequence starting with a byte >= 0x80; returns the bytes consumed. */
static size_t put_utf8(char **out, const unsigned char *s, size_t avail)
{
    int len = svk__utf8_next(s, avail);
    size_t used = (size_t)(len > 0 ? len : -len);
    if (len > 0)
        memcpy(*out, s, used);
    else
        memcpy(*out, SVK__UTF8_REPLACEMENT, 3);
    *out += len > 0 ? used : 3;
    return used;
}

/* Escape s[i..stop) (a sequence begun before stop may run past it). */
static size_t escape_chunk(char **out, const unsigned char *s, size_t i, size_t stop,
                           size_t n)
{
    char *p = *out;
    while (i < stop) {
        if (stop - i >= 8 && plain_word(s + i)) {
            memcpy(p, s + i, 8);
            p += 8;
            i += 8;
            continue;
        }
        unsigned char c = s[i];
        if (c >= 0x80)
            i += put_utf8(&p, s + i, n - i);
        else if (c < 0x20 || c == '"' || c == '\\')
            p = put_escape(p, s[i++]);
        else
            *p++ = (char)s[i++];
    }
    *out = p;
    return i;
}

/* A long string, escaped CHUNK input bytes per room check. */
static int json_long_string(svk_buf *b, const unsigned char *s, size_t n)
{
    int rc = svk__put(b, "\"", 1);
    for (size_t i = 0; rc == 0 && i < n;) {
        size_t stop = n - i > CHUNK ? i + CHUNK : n;
        rc = svk__room(b, MAX_EXPANSION * (stop - i) + 8);
        if (rc == 0) {
            char *p = svk__end(b);
            i = escape_chunk(&p, s, i, stop, n);
            svk__commit(b, p);
        }
    }
    return rc != 0 ? rc : svk__put(b, "\"", 1);
}

/* prefix (a few bytes: "," or ""), then str as a JSON string, then suffix:
 * keys and values alike, with one room check when str is short. */
static int json_string_between(svk_buf *b, const char *prefix, size_t plen, const char *str,
                               size_t n, const char *suffix, size_t slen)
{
    const unsigned char *s = (const unsigned char *)str;
    if (n > CHUNK) {
        int rc = svk__put(b, prefix, plen);
        if (rc == 0)
            rc = json_long_string(b, s, n);
        return rc != 0 ? rc : svk__put(b, suffix, slen);
    }
    int rc = svk__room(b, plen + MAX_EXPANSION * n + slen + 2);
    if (rc != 0)
        return rc;
    char *p = svk__end(b);
    memcpy(p, prefix, plen);
    p += plen;
    *p++ = '"';
    escape_chunk(&p, s, 0, n, n);
    *p++ = '"';
    memcpy(p, suffix, slen);
    svk__commit(b, p + slen);
    return 0;
}

static int json_string(svk_buf *b, const char *str, size_t n)
{
    return json_string_between(b, "", 0, str, n, "", 0);
}

static int json_attrs(svk_buf *b, const svk__redactor *r, const svk_attr *attrs, size_t n,
                      int *first, int depth);

static int json_number(svk_buf *b, const svk_attr *a)
{
    int rc = svk__room(b, SVK__NUMBER_MAX);
    if (rc != 0)
        return rc;
    char *p = svk__end(b);
    if (a->kind == SVK_ATTR_UINT)
        p = svk__put_u64(p, a->value.u64);
    else
        p = svk__put_i64(p, a->value.i64);
    svk__commit(b, p);
    return 0;
}

static int json_time(svk_buf *b, int64_t unix_ns)
{
    int rc = svk__room(b, SVK__TIME_LEN + 2);
    if (rc != 0)
        return rc;
    char *p = svk__end(b);
    *p++ = '"';
    p = svk__put_rfc3339_ms(p, unix_ns);
    *p++ = '"';
    svk__commit(b, p);
    return 0;
}

static int json_error(svk_buf *b, int64_t code)
{
    char text[128];
    return json_string(b, text, svk__error_text(text, sizeof text, code));
}

static int json_group(svk_buf *b, const svk__redactor *r, const svk_attr *a, int depth)
{
    if (depth >= SVK__MAX_GROUP_DEPTH)
        return svk__put(b, "\"!DEPTH\"", 8);
    int first = 1;
    int rc = svk__put(b, "{", 1);
    if (rc == 0)
        rc = json_attrs(b, r, a->value.group.attrs, a->value.group.n, &first, depth + 1);
    return rc != 0 ? rc : svk__put(b, "}", 1);
}

static int json_value(svk_buf *b, const svk__redactor *r, const svk_attr *a, int depth)
{
    switch (a->kind) {
    case SVK_ATTR_STRING:
        if (a->value.str.ptr == NULL)
            return svk__put(b, "null", 4);
        return json_string(b, a->value.str.ptr, svk__str_len(a));
    case SVK_ATTR_INT:
    case SVK_ATTR_UINT:
    case SVK_ATTR_DURATION: /* integer nanoseconds, as slog's JSON handler */
        return json_number(b, a);
    case SVK_ATTR_FLOAT:
        return svk__put_float(b, a->value.f64, 1); /* JSON has no NaN: strings */
    case SVK_ATTR_BOOL:
        return a->value.boolean ? svk__put(b, "true", 4) : svk__put(b, "false", 5);
    case SVK_ATTR_TIME:
        return json_time(b, a->value.i64);
    case SVK_ATTR_ERROR:
        return json_error(b, a->value.i64);
    case SVK_ATTR_GROUP:
        return json_group(b, r, a, depth);
    case SVK_ATTR_SECRET:
        return svk__put(b, "\"" SVK__REDACTED "\"", sizeof SVK__REDACTED + 1);
    default:
        return svk__put(b, "\"!BADKIND\"", 10);
    }
}

static int json_attr(svk_buf *b, const svk__redactor *r, const svk_attr *a, int *first,
                     int depth)
{
    const char *key = a->key != NULL ? a->key : "";
    size_t klen = strlen(key);
    if (a->kind == SVK_ATTR_GROUP && (a->value.group.n == 0 || a->value.group.attrs == NULL))
        return 0; /* slog omits empty groups */
    if (a->kind == SVK_ATTR_GROUP && klen == 0 && depth < SVK__MAX_GROUP_DEPTH)
        return json_attrs(b, r, a->value.group.attrs, a->value.group.n, first, depth + 1);
    int rc = json_string_between(b, ",", *first ? 0 : 1, key, klen, ":", 1);
    *first = 0;
    if (rc != 0)
        return rc;
    if (svk__redactor_match(r, key, klen))
        return svk__put(b, "\"" SVK__REDACTED "\"", sizeof SVK__REDACTED + 1);
    return json_value(b, r, a, depth);
}

static int json_attrs(svk_buf *b, const svk__redactor *r, const svk_attr *attrs, size_t n,
                      int *first, int depth)
{
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < n; i++)
        rc = json_attr(b, r, &attrs[i], first, depth);
    return rc;
}

static int json_bound(svk_buf *b, const svk__redactor *r, const svk_attr *attrs, size_t n)
{
    int first = 0; /* the fragment follows "msg" */
    return json_attrs(b, r, attrs, n, &first, 0);
}

const svk__handler svk__json_handler = {"{\"time\":\"", "\",\"level\":\"", "\",\"msg\":", "}\n",
                                         json_string, json_bound};
