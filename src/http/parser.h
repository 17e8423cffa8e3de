/*
 * parser.h — internal: the strict HTTP/1.1 request parser (RFC 9112) and the
 * chunked body decoder the server's read loop is built on.
 *
 * Shape (picohttpparser's, made resumable): the caller owns one growing
 * buffer per connection and calls the parser again with the longer buffer
 * each time bytes arrive. Header names and values point into that buffer;
 * nothing is copied and nothing is allocated, ever. Instead of a `last_len`
 * argument the parser object remembers how far it scanned and in which part
 * of which line it stopped, so a call costs only the new bytes and an error
 * is reported on the byte that causes it, whatever the split.
 *
 * Strictness: anything RFC 9112 / RFC 9110 leave ambiguous is an error, and
 * each error carries the HTTP status the server answers with before it
 * closes the connection (400, 413, 414, 417, 431, 501, 505). The decisions
 * and their RFC sections are listed in docs/http-parser.md.
 *
 * Determinism (tested for every case at every split, and fuzzed): feeding a
 * request in any number of pieces gives exactly the result of feeding it at
 * once — same return value, fields, status and reason — and every call
 * before the last returns SVK_EAGAIN.
 *
 * Threads: a parser or decoder object is used by one thread at a time (the
 * connection's loop thread). The functions keep no global state.
 * Names are svk__http_*: internal, hidden, never exported.
 */
#ifndef SVK_HTTP_PARSER_H
#define SVK_HTTP_PARSER_H

#include <stddef.h>
#include <stdint.h>

#include "svckit/core.h"

/* ------------------------------------------------------------------ limits */

/*
 * Limits. The server owns one per listener (or per route for body_max) and
 * lends it to parsers and decoders, which read it on every call: it must
 * outlive them and must not change while a request is being parsed.
 */
typedef struct svk__http_limits {
    size_t request_line_max; /* bytes before the CRLF: over → 414, 501 in the method */
    size_t header_block_max; /* field lines + the final CRLF: over → 431 */
    size_t headers_max;      /* field lines in the head or the trailers: over → 431 */
    uint64_t body_max;       /* decoded chunked body: over → 413 (CL: server's check) */
    size_t chunk_ext_max;    /* chunk-extension bytes in one body: over → 400 */
    size_t trailer_max;      /* trailer section incl. its final CRLF: over → 431 */
} svk__http_limits;

#define SVK__HTTP_LIMITS_DEFAULT {8192, 65536, 100, 1048576, 4096, 8192}

/* The largest request_line_max / header_block_max / trailer_max accepted, so
 * that a head length always fits the int that svk__http_parse_request
 * returns. */
#define SVK__HTTP_LIMIT_CAP ((size_t)1 << 28)

/*
 * svk__http_limits_check — SVK_EINVAL unless every size limit is within
 * 1 .. SVK__HTTP_LIMIT_CAP (headers_max, body_max and chunk_ext_max may be 0:
 * no headers / no body / no extensions). NULL means the defaults: valid.
 */
int svk__http_limits_check(const svk__http_limits *limits);

/* --------------------------------------------------------------- request */

/* One field line. Both pointers borrow the caller's buffer: valid while that
 * buffer holds the head unchanged and unmoved. The value has its leading and
 * trailing SP/HTAB removed and may be empty (then value_len is 0). */
typedef struct svk__http_header {
    const char *name;
    size_t name_len;
    const char *value;
    size_t value_len;
} svk__http_header;

enum svk__http_target_form {
    SVK__HTTP_ORIGIN_FORM = 1,   /* "/path?query" */
    SVK__HTTP_ABSOLUTE_FORM = 2, /* "http://host/path?query" */
    SVK__HTTP_ASTERISK_FORM = 3  /* "*", OPTIONS only */
};

enum svk__http_body {
    SVK__HTTP_BODY_NONE = 0,   /* no body: the next request follows the head */
    SVK__HTTP_BODY_LENGTH = 1, /* content_length bytes follow the head */
    SVK__HTTP_BODY_CHUNKED = 2 /* decode with svk__http_chunked_decode */
};

/*
 * What svk__http_parse_request fills. On success every field is set and the
 * pointers borrow the caller's buffer (see svk__http_header); on an error
 * only status and reason are meaningful; after SVK_EAGAIN nothing is.
 */
typedef struct svk__http_request {
    const char *method; /* token, case-sensitive: "GET" */
    size_t method_len;
    const char *target; /* the request-target exactly as sent */
    size_t target_len;
    const char *path;   /* up to '?'; "*" for OPTIONS *; for an absolute-form */
    size_t path_len;    /*   target with an empty path a static "/" */
    const char *query;  /* after '?' (may be empty); NULL when there is no '?' */
    size_t query_len;
    const char *host;   /* authority: the absolute-form target's, else the Host */
    size_t host_len;    /*   field's; NULL for HTTP/1.0 without Host */
    svk__http_header *headers; /* the caller's array, in arrival order */
    size_t num_headers;
    uint64_t content_length;   /* SVK__HTTP_BODY_LENGTH: declared length (may be 0) */
    int minor_version;         /* 0 or 1 (HTTP/1.0, HTTP/1.1) */
    int target_form;           /* enum svk__http_target_form */
    int body;                  /* enum svk__http_body */
    int keep_alive;            /* 1: the connection may carry another request */
    int expect_continue;       /* 1: HTTP/1.1 "Expect: 100-continue" was sent */
    int status;                /* on error: the HTTP status to answer, then close */
    const char *reason;        /* on error: a static English sentence for logs */
} svk__http_request;

/*
 * Parser state for one request head. Plain data: embed it in the connection
 * and initialise with svk__http_parser_init; it holds offsets, never
 * pointers, so the buffer may be moved (realloc) between calls.
 */
typedef struct svk__http_fields {
    size_t start;       /* offset of the first field line */
    size_t pos;         /* next byte to scan */
    size_t line;        /* start of the current field line */
    size_t name_end;    /* offset of its ':' */
    size_t value_start; /* first byte after the OWS that follows ':' */
    size_t max_bytes;   /* limit on pos - start */
    size_t count;       /* complete field lines so far */
    size_t max_count;
    int phase;
} svk__http_fields;

typedef struct svk__http_parser {
    const svk__http_limits *limits; /* borrowed */
    size_t pos;        /* next byte to scan in the request line */
    size_t line;       /* start of the request line (after an empty line) */
    size_t method_end; /* offset of the SP after the method */
    size_t target_end; /* offset of the SP after the target */
    svk__http_fields fields;
    int phase;
} svk__http_parser;

/*
 * svk__http_parser_init — prepare p for the first request of a connection.
 *
 * Ownership: p borrowed; limits borrowed until p is no longer used (NULL
 * selects static defaults, SVK__HTTP_LIMITS_DEFAULT).
 * Errors: SVK_EINVAL if p is NULL or svk__http_limits_check fails; p is then
 * unusable.
 */
int svk__http_parser_init(svk__http_parser *p, const svk__http_limits *limits);

/*
 * svk__http_parser_reset — forget a partly parsed head; keep the limits.
 * svk__http_parse_request resets p itself whenever it returns anything but
 * SVK_EAGAIN, so this is only for abandoning a head half-way. NULL: no-op.
 */
void svk__http_parser_reset(svk__http_parser *p);

/*
 * svk__http_parse_request — parse the request head at the start of buf.
 *
 * Call it with buf holding everything received for this request so far (the
 * same leading bytes every time, possibly at another address) and len >= the
 * len of the previous call. headers/max_headers is the caller's array; the
 * effective field-line limit is min(max_headers, limits->headers_max). Pass
 * the same capacity on every call for one request.
 *
 * Returns:
 *   > 0          the head is complete: the value is the bytes it took
 *                (including an ignored leading empty line). The body (see
 *                req->body) or the next pipelined request starts there.
 *   SVK_EAGAIN   incomplete and valid so far: call again with more bytes.
 *   SVK_EPROTO   malformed (req->status 400).
 *   SVK_ETOOBIG  a limit was exceeded (414 request line, 431 fields).
 *   SVK_ENOTSUP  valid but not served here (417 Expect, 501 method or
 *                coding, 505 version).
 *   SVK_EINVAL   misuse: NULL argument, p not initialised, or len shorter
 *                than last time (p is then left as it was).
 * On every return except SVK_EAGAIN, p is reset for the next request; after
 * an error the server answers req->status and closes the connection.
 * Ownership: buf borrowed for the call; on success req's pointers and the
 * headers array borrow buf (see svk__http_request). Allocates nothing.
 */
int svk__http_parse_request(svk__http_parser *p, const char *buf, size_t len,
                            svk__http_request *req, svk__http_header *headers,
                            size_t max_headers);

/* ----------------------------------------------------------- chunked body */

/*
 * Chunked decoder state for one body (RFC 9112 §7.1). Plain data: embed it
 * in the connection; initialise per body with svk__http_chunked_init.
 */
typedef struct svk__http_chunked {
    const svk__http_limits *limits; /* borrowed */
    uint64_t body_max;   /* from limits->body_max; the server may lower it per route */
    uint64_t body_len;   /* decoded bytes so far */
    uint64_t chunk_left; /* data bytes still due in the current chunk */
    size_t ext_len;      /* chunk-extension bytes seen in this body */
    svk__http_fields trailers;
    int state;
    int status;          /* on error: the HTTP status to answer, then close */
    const char *reason;  /* on error: static English sentence */
} svk__http_chunked;

/*
 * svk__http_chunked_init — prepare d for one chunked body.
 * Ownership: d borrowed; limits borrowed until d is no longer used (NULL:
 * defaults). Errors: SVK_EINVAL if d is NULL or the limits are invalid.
 */
int svk__http_chunked_init(svk__http_chunked *d, const svk__http_limits *limits);

/*
 * svk__http_chunked_decode — decode chunked framing in place.
 *
 * buf[0..len) is body input not yet used (start with the bytes after the
 * head). The decoded data is moved down to buf[0..*data_len); the input
 * used is buf[0..*used). Bytes buf[*used..len) are untouched: on SVK_EAGAIN
 * they are an incomplete chunk-size line, CRLF or trailer section that must
 * begin the next call's buf (with more bytes appended); on success they
 * belong to the next pipelined request.
 *
 * Returns 0 when the last chunk and the trailer section are complete (the
 * trailer fields are validated like header fields and then discarded),
 * SVK_EAGAIN when more input is needed (hand buf[0..*data_len) to the
 * handler first), or an error with d->status and d->reason set:
 * SVK_EPROTO (400: bad chunk size, extension, CRLF or trailer field, or
 * extensions over chunk_ext_max), SVK_ETOOBIG (413: body over d->body_max;
 * 431: trailers over trailer_max bytes or headers_max lines). SVK_EINVAL
 * (NULL argument, d not initialised) sets no status. After 0, further calls
 * return 0 and use nothing. Lower d->body_max only before the first call.
 * Ownership: buf borrowed and written for the call. Allocates nothing.
 */
int svk__http_chunked_decode(svk__http_chunked *d, char *buf, size_t len, size_t *data_len,
                             size_t *used);

/* ---------------------------------------------------- shared by both files */

/* Character classes of RFC 9110 §5.6.2 (tchar), §5.5 (field-vchar), and
 * RFC 3986 (request-target, host), one table lookup per byte. */
enum {
    SVK__HTTP_TCHAR = 0x01,  /* token character */
    SVK__HTTP_FIELD = 0x02,  /* field-vchar / obs-text / SP / HTAB */
    SVK__HTTP_TARGET = 0x04, /* request-target byte: VCHAR except '#' */
    SVK__HTTP_WS = 0x08,     /* SP / HTAB */
    SVK__HTTP_HEX = 0x10,    /* HEXDIG */
    SVK__HTTP_REGNAME = 0x20 /* reg-name: unreserved / sub-delims / '%' */
};
#define SVK__HTTP_IS_ALPHA(c) (((c) >= 'a' && (c) <= 'z') || ((c) >= 'A' && (c) <= 'Z'))
#define SVK__HTTP_IS_DIGIT(c) ((c) >= '0' && (c) <= '9')
#define SVK__HTTP_IS_WS(c) ((c) == ' ' || (c) == '\t')
#define SVK__HTTP_IS_VCHAR(c) ((c) >= 0x21 && (c) <= 0x7e)
#define SVK__HTTP_IS_TCHAR(c)                                                            \
    (SVK__HTTP_IS_ALPHA(c) || SVK__HTTP_IS_DIGIT(c) || (c) == '!' || (c) == '#' ||      \
     (c) == '$' || (c) == '%' || (c) == '&' || (c) == '\'' || (c) == '*' || (c) == '+' || \
     (c) == '-' || (c) == '.' || (c) == '^' || (c) == '_' || (c) == '`' || (c) == '|' || \
     (c) == '~')
#define SVK__HTTP_IS_FIELD(c) (SVK__HTTP_IS_VCHAR(c) || (c) >= 0x80 || SVK__HTTP_IS_WS(c))
#define SVK__HTTP_IS_TARGET(c) (SVK__HTTP_IS_VCHAR(c) && (c) != '#')
#define SVK__HTTP_IS_HEX(c)                                                              \
    (SVK__HTTP_IS_DIGIT(c) || ((c) >= 'a' && (c) <= 'f') || ((c) >= 'A' && (c) <= 'F'))
#define SVK__HTTP_IS_REGNAME(c)                                                          \
    (SVK__HTTP_IS_ALPHA(c) || SVK__HTTP_IS_DIGIT(c) || (c) == '-' || (c) == '.' ||      \
     (c) == '_' || (c) == '~' || (c) == '!' || (c) == '$' || (c) == '&' || (c) == '\'' || \
     (c) == '(' || (c) == ')' || (c) == '*' || (c) == '+' || (c) == ',' || (c) == ';' || \
     (c) == '=' || (c) == '%')
#define SVK__HTTP_CLASS(c)                                                               \
    (uint8_t)((SVK__HTTP_IS_TCHAR(c) ? SVK__HTTP_TCHAR : 0) |                           \
              (SVK__HTTP_IS_FIELD(c) ? SVK__HTTP_FIELD : 0) |                           \
              (SVK__HTTP_IS_TARGET(c) ? SVK__HTTP_TARGET : 0) |                         \
              (SVK__HTTP_IS_WS(c) ? SVK__HTTP_WS : 0) |                                 \
              (SVK__HTTP_IS_HEX(c) ? SVK__HTTP_HEX : 0) |                               \
              (SVK__HTTP_IS_REGNAME(c) ? SVK__HTTP_REGNAME : 0))
#define SVK__HTTP_C4(c)                                                                  \
    SVK__HTTP_CLASS(c), SVK__HTTP_CLASS((c) + 1), SVK__HTTP_CLASS((c) + 2),             \
        SVK__HTTP_CLASS((c) + 3)
#define SVK__HTTP_C16(c)                                                                 \
    SVK__HTTP_C4(c), SVK__HTTP_C4((c) + 4), SVK__HTTP_C4((c) + 8), SVK__HTTP_C4((c) + 12)
#define SVK__HTTP_C64(c)                                                                 \
    SVK__HTTP_C16(c), SVK__HTTP_C16((c) + 16), SVK__HTTP_C16((c) + 32),                 \
        SVK__HTTP_C16((c) + 48)

/* Computed by the compiler from the grammar macros above, so it cannot drift
 * from them. Static: each file that scans bytes gets its own 256 bytes,
 * which keeps the library free of exported data symbols. */
static const uint8_t svk__http_class[256] = {SVK__HTTP_C64(0), SVK__HTTP_C64(64),
                                             SVK__HTTP_C64(128), SVK__HTTP_C64(192)};

#undef SVK__HTTP_C64
#undef SVK__HTTP_C16
#undef SVK__HTTP_C4
#undef SVK__HTTP_CLASS

/* Scan a field section (head fields or trailers) from f->pos: 0 when its
 * final CRLF was read (f->pos is after it), SVK_EAGAIN, or an error with
 * *status and *reason set. Stores complete lines in out[] when out != NULL. */
int svk__http_fields_scan(svk__http_fields *f, const char *buf, size_t len,
                          svk__http_header *out, int *status, const char **reason);

/* Start a field section at offset start. */
void svk__http_fields_begin(svk__http_fields *f, size_t start, size_t max_bytes,
                            size_t max_count);

/* Map an HTTP status to the SVK_E* code the parser functions return.
 * Inline so the compiler sees that error paths never return a positive
 * value (otherwise it warns about outputs set only on success). */
static inline int svk__http_status_code(int status)
{
    if (status == 400)
        return SVK_EPROTO;
    if (status == 413 || status == 414 || status == 431)
        return SVK_ETOOBIG;
    return SVK_ENOTSUP;
}

#endif
