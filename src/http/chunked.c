/*
 * chunked.c — the chunked transfer-coding decoder (RFC 9112 §7.1), in place.
 *
 * Chunk data streams: it is moved down over the framing as soon as it
 * arrives, so a handler can consume a body far larger than the buffer. The
 * short lines around it (chunk-size line with its extensions, the CRLF after
 * the data) are only consumed once complete; until then they stay at the end
 * of the input and the caller presents them again with more bytes, and they
 * are re-read from their start. Both are bounded (16 hex digits, the
 * extension budget), so that re-read is cheap. The trailer section uses the
 * resumable field scanner of parser.c, the same rules as header fields, and
 * is then discarded: no trailer field is forwarded to handlers.
 */
#include "http/parser.h"

#include <string.h>

#define STEP 1
#define MAX_HEX_DIGITS 16 /* 64 bits; leading zeros count too */

enum { C_SIZE, C_DATA, C_DATA_CRLF, C_TRAILERS, C_DONE };

struct cursor {
    svk__http_chunked *d;
    char *buf;
    size_t len;
    size_t src; /* next input byte */
    size_t dst; /* end of the decoded data */
};

static int chunk_fail(svk__http_chunked *d, int status, const char *reason)
{
    d->status = status;
    d->reason = reason;
    return svk__http_status_code(status);
}

static const svk__http_limits default_limits = SVK__HTTP_LIMITS_DEFAULT;

int svk__http_chunked_init(svk__http_chunked *d, const svk__http_limits *limits)
{
    if (d == NULL || svk__http_limits_check(limits) != 0)
        return SVK_EINVAL;
    memset(d, 0, sizeof *d);
    d->limits = limits != NULL ? limits : &default_limits;
    d->body_max = d->limits->body_max;
    d->state = C_SIZE;
    return 0;
}

/* Where a chunk-extension scan stopped: at the CR that ends the line, at
 * the end of the input, or on a byte the grammar refuses. */
enum { EXT_CR, EXT_MORE, EXT_BAD };

static int is_tchar(unsigned char c)
{
    return (svk__http_class[c] & SVK__HTTP_TCHAR) != 0;
}

/* qdtext / quoted-pair octets (RFC 9110 §5.6.4): HTAB, SP, VCHAR except
 * '"' and '\\', obs-text. */
static int is_qdtext(unsigned char c)
{
    return (svk__http_class[c] & SVK__HTTP_FIELD) && c != '"' && c != '\\';
}

/*
 * chunk-ext = *( BWS ";" BWS ext-name [ BWS "=" BWS ( token / quoted-string ) ] )
 * (RFC 9112 §7.1.1), followed by CR. Whitespace is allowed only where BWS
 * is; in particular never right before the CRLF. One state per position in
 * the grammar; ext_step is its transition function.
 */
enum { X_END, X_WS_SEMI, X_NAME0, X_NAME, X_WS_NAME, X_VALUE0, X_TOKEN, X_QUOTED, X_ESCAPE };

/* After an extension name: BWS, then '=' (a value) or ';' (the next one). */
static int after_name(unsigned char c)
{
    if (c == '=')
        return X_VALUE0;
    if (c == ';')
        return X_NAME0;
    return c == ' ' || c == '\t' ? X_WS_NAME : -1;
}

static int ext_step(int st, unsigned char c)
{
    int ws = c == ' ' || c == '\t';
    switch (st) {
    case X_TOKEN:
        if (is_tchar(c))
            return X_TOKEN;
        return c == ';' ? X_NAME0 : ws ? X_WS_SEMI : -1;
    case X_END: /* after the size or a closing quote */
    case X_WS_SEMI: /* BWS that must lead to ';' */
        return c == ';' ? X_NAME0 : ws ? X_WS_SEMI : -1;
    case X_NAME0:
        return is_tchar(c) ? X_NAME : ws ? X_NAME0 : -1;
    case X_NAME:
        return is_tchar(c) ? X_NAME : after_name(c);
    case X_WS_NAME:
        return after_name(c);
    case X_VALUE0:
        return is_tchar(c) ? X_TOKEN : c == '"' ? X_QUOTED : ws ? X_VALUE0 : -1;
    case X_QUOTED:
        return c == '"' ? X_END : c == '\\' ? X_ESCAPE : is_qdtext(c) ? X_QUOTED : -1;
    default: /* X_ESCAPE: quoted-pair */
        return (svk__http_class[c] & SVK__HTTP_FIELD) ? X_QUOTED : -1;
    }
}

/* The states in which a CR may end the chunk-size line. */
static int ext_may_end(int st)
{
    return st == X_END || st == X_NAME || st == X_TOKEN;
}

static int scan_ext(const unsigned char *b, size_t *i, size_t end)
{
    int st = X_END;
    for (; *i < end; (*i)++) {
        if (b[*i] == '\r')
            return ext_may_end(st) ? EXT_CR : EXT_BAD;
        st = ext_step(st, b[*i]);
        if (st < 0)
            return EXT_BAD;
    }
    return EXT_MORE;
}

/* chunk-size [ chunk-ext ] CRLF, complete or not at all. */
static int size_line(struct cursor *c, uint64_t *size, size_t *next)
{
    svk__http_chunked *d = c->d;
    const unsigned char *b = (const unsigned char *)c->buf;
    size_t i = c->src, end = c->src + MAX_HEX_DIGITS + 1;
    *size = 0;
    while (i < c->len && i < end && (svk__http_class[b[i]] & SVK__HTTP_HEX)) {
        unsigned v = b[i] <= '9' ? b[i] - '0' : (b[i] | 0x20) - 'a' + 10;
        *size = (*size << 4) | v;
        i++;
    }
    if (i - c->src > MAX_HEX_DIGITS)
        return chunk_fail(d, 400, "chunk size longer than 16 hex digits");
    if (i == c->len)
        return SVK_EAGAIN;
    if (i == c->src)
        return chunk_fail(d, 400, "chunk size is not a hex number");
    /* Bounded like the limits in parser.c: the outcome is "too long" exactly
     * when the scan stops (CR, end of input, bad byte) past the budget. */
    size_t ext = i, budget = d->limits->chunk_ext_max - d->ext_len;
    int how = scan_ext(b, &i, c->len < ext + budget + 1 ? c->len : ext + budget + 1);
    if (i - ext > budget)
        return chunk_fail(d, 400, "chunk extensions longer than the limit");
    if (how == EXT_BAD)
        return chunk_fail(d, 400, b[i] == '\n' ? "bare LF as line terminator"
                                                : "malformed chunk extension");
    if (how == EXT_MORE || i + 1 == c->len)
        return SVK_EAGAIN;
    if (b[i + 1] != '\n')
        return chunk_fail(d, 400, "CR not followed by LF");
    d->ext_len += i - ext;
    *next = i + 2;
    return STEP;
}

static int step_size(struct cursor *c)
{
    svk__http_chunked *d = c->d;
    uint64_t size;
    size_t next;
    int rc = size_line(c, &size, &next);
    if (rc != STEP)
        return rc;
    if (d->body_len > d->body_max || size > d->body_max - d->body_len)
        return chunk_fail(d, 413, "chunked body larger than the limit");
    c->src = next;
    d->chunk_left = size;
    if (size > 0) {
        d->state = C_DATA;
        return STEP;
    }
    d->state = C_TRAILERS;
    svk__http_fields_begin(&d->trailers, 0, d->limits->trailer_max, d->limits->headers_max);
    return STEP;
}

static int step_data(struct cursor *c)
{
    svk__http_chunked *d = c->d;
    size_t avail = c->len - c->src;
    size_t n = d->chunk_left < avail ? (size_t)d->chunk_left : avail;
    if (c->dst != c->src && n > 0)
        memmove(c->buf + c->dst, c->buf + c->src, n);
    c->src += n;
    c->dst += n;
    d->chunk_left -= n;
    d->body_len += n;
    if (d->chunk_left > 0)
        return SVK_EAGAIN;
    d->state = C_DATA_CRLF;
    return STEP;
}

static int step_data_crlf(struct cursor *c)
{
    if (c->src == c->len)
        return SVK_EAGAIN;
    if (c->buf[c->src] != '\r')
        return chunk_fail(c->d, 400, "chunk data not followed by CRLF");
    if (c->src + 1 == c->len)
        return SVK_EAGAIN;
    if (c->buf[c->src + 1] != '\n')
        return chunk_fail(c->d, 400, "CR not followed by LF");
    c->src += 2;
    c->d->state = C_SIZE;
    return STEP;
}

/* The scanner's offsets are relative to the trailer section's first byte,
 * which begins the input of every call until the section is complete. */
static int step_trailers(struct cursor *c)
{
    svk__http_chunked *d = c->d;
    if (c->src == c->len)
        return SVK_EAGAIN;
    int rc = svk__http_fields_scan(&d->trailers, c->buf + c->src, c->len - c->src, NULL,
                                   &d->status, &d->reason);
    if (rc != 0)
        return rc;
    c->src += d->trailers.pos;
    d->state = C_DONE;
    return 0;
}

int svk__http_chunked_decode(svk__http_chunked *d, char *buf, size_t len, size_t *data_len,
                             size_t *used)
{
    if (d == NULL || d->limits == NULL || (buf == NULL && len > 0) || data_len == NULL ||
        used == NULL)
        return SVK_EINVAL;
    struct cursor c = {.d = d, .buf = buf, .len = len, .src = 0, .dst = 0};
    int rc = STEP;
    while (rc == STEP) {
        switch (d->state) {
        case C_SIZE: rc = step_size(&c); break;
        case C_DATA: rc = step_data(&c); break;
        case C_DATA_CRLF: rc = step_data_crlf(&c); break;
        case C_TRAILERS: rc = step_trailers(&c); break;
        default: rc = 0; break; /* C_DONE */
        }
    }
    *data_len = c.dst;
    *used = c.src;
    return rc;
}
