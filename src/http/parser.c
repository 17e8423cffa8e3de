/*
 * parser.c — the strict HTTP/1.1 request-head parser (RFC 9112 §2-§6) and
 * the field-section scanner it shares with the chunked decoder's trailers.
 *
 * How a call works: the head is scanned byte-exactly from where the last
 * call stopped. Every phase runs a tight loop of table lookups over the
 * bytes that continue it, then looks at the one byte that ended it. Limits
 * are checked after every step that consumes bytes, and errors are raised on
 * the first byte that cannot be accepted, so the outcome depends only on the
 * bytes, never on how they were split. Pointers (method, target, headers)
 * are written while scanning; if the head took more than one call, those of
 * earlier calls may point into a buffer the server has since moved, so the
 * complete head is scanned once more from its start to refresh them (a cost
 * only slow clients pay). Only then are the header semantics checked
 * (Host, Content-Length, Transfer-Encoding, Connection, Expect).
 */
#include "http/parser.h"

#include <string.h>

/* Internal result of a scanning step: the phase moved on, keep going. */
#define STEP 1

/* The hot loop: most bytes of a head go through here. Four lookups per
 * bounds check, as picohttpparser unrolls its own. */
static inline size_t skip_class(const unsigned char *b, size_t i, size_t end, uint8_t mask)
{
    const uint8_t *cls = svk__http_class;
    for (; end - i >= 4; i += 4) {
        if (!(cls[b[i]] & mask))
            return i;
        if (!(cls[b[i + 1]] & mask))
            return i + 1;
        if (!(cls[b[i + 2]] & mask))
            return i + 2;
        if (!(cls[b[i + 3]] & mask))
            return i + 3;
    }
    while (i < end && (cls[b[i]] & mask))
        i++;
    return i;
}

static size_t min_size(size_t a, size_t b)
{
    return a < b ? a : b;
}

static unsigned char ascii_lower(unsigned char c)
{
    return c >= 'A' && c <= 'Z' ? (unsigned char)(c | 0x20) : c;
}

/* s[0..n) equals the lowercase literal lit, ignoring ASCII case. */
static int equals_nocase(const char *s, size_t n, const char *lit)
{
    size_t i = 0;
    for (; i < n && lit[i] != '\0'; i++)
        if (ascii_lower((unsigned char)s[i]) != (unsigned char)lit[i])
            return 0;
    return i == n && lit[i] == '\0';
}

static const svk__http_limits default_limits = SVK__HTTP_LIMITS_DEFAULT;

int svk__http_limits_check(const svk__http_limits *l)
{
    if (l == NULL)
        return 0;
    if (l->request_line_max == 0 || l->request_line_max > SVK__HTTP_LIMIT_CAP)
        return SVK_EINVAL;
    if (l->header_block_max == 0 || l->header_block_max > SVK__HTTP_LIMIT_CAP)
        return SVK_EINVAL;
    if (l->trailer_max == 0 || l->trailer_max > SVK__HTTP_LIMIT_CAP)
        return SVK_EINVAL;
    if (l->chunk_ext_max > SVK__HTTP_LIMIT_CAP)
        return SVK_EINVAL;
    return 0;
}

/* ------------------------------------------------------ field section scan */

enum { F_LINE, F_NAME, F_OWS, F_VALUE, F_LF, F_END_LF, F_DONE };

struct fscan {
    svk__http_fields *f;
    const unsigned char *b;
    size_t len;
    size_t cap; /* scanning past max_bytes + 1 cannot change the outcome */
    svk__http_header *out;
    int *status;
    const char **reason;
};

static int fields_fail(struct fscan *s, int status, const char *reason)
{
    *s->status = status;
    *s->reason = reason;
    return svk__http_status_code(status);
}

/* Checked after every step that consumes bytes: the byte that crosses the
 * limit is the one reported, at any split. */
static int fields_size(struct fscan *s)
{
    if (s->f->pos - s->f->start > s->f->max_bytes)
        return fields_fail(s, 431, "field section larger than the limit");
    return STEP;
}

/* Consumes the run of bytes of class mask. STEP when the byte that ends the
 * run is there to look at; SVK_EAGAIN when the input ends first. */
static inline int fields_run(struct fscan *s, uint8_t mask)
{
    s->f->pos = skip_class(s->b, s->f->pos, s->cap, mask);
    int rc = fields_size(s);
    return rc == STEP && s->f->pos == s->len ? SVK_EAGAIN : rc;
}

static int fields_line(struct fscan *s)
{
    svk__http_fields *f = s->f;
    if (f->pos == s->len)
        return SVK_EAGAIN;
    unsigned char c = s->b[f->pos];
    if (c == '\r') {
        f->pos++;
        f->phase = F_END_LF;
        return fields_size(s);
    }
    if (svk__http_class[c] & SVK__HTTP_TCHAR) {
        if (f->count >= f->max_count)
            return fields_fail(s, 431, "more field lines than the limit");
        f->line = f->pos;
        f->phase = F_NAME;
        return STEP;
    }
    if (SVK__HTTP_IS_WS(c)) /* RFC 9112 §5.2 obs-fold, §2.2 whitespace before a field */
        return fields_fail(s, 400, "field line starts with whitespace (obs-fold)");
    if (c == '\n')
        return fields_fail(s, 400, "bare LF as line terminator");
    return fields_fail(s, 400, "invalid character at the start of a field name");
}

static int fields_name(struct fscan *s)
{
    svk__http_fields *f = s->f;
    int rc = fields_run(s, SVK__HTTP_TCHAR);
    if (rc != STEP)
        return rc;
    unsigned char c = s->b[f->pos];
    if (c == ':') {
        f->name_end = f->pos++;
        f->phase = F_OWS;
        return fields_size(s);
    }
    if (SVK__HTTP_IS_WS(c)) /* RFC 9112 §5.1: MUST reject */
        return fields_fail(s, 400, "whitespace between field name and colon");
    if (c == '\r' || c == '\n')
        return fields_fail(s, 400, "field line without a colon");
    return fields_fail(s, 400, "invalid character in field name");
}

static int fields_ows(struct fscan *s)
{
    svk__http_fields *f = s->f;
    int rc = fields_run(s, SVK__HTTP_WS);
    if (rc != STEP)
        return rc;
    f->value_start = f->pos;
    f->phase = F_VALUE;
    return STEP;
}

static int fields_value(struct fscan *s)
{
    svk__http_fields *f = s->f;
    int rc = fields_run(s, SVK__HTTP_FIELD);
    if (rc != STEP)
        return rc;
    unsigned char c = s->b[f->pos];
    if (c == '\r') {
        f->pos++;
        f->phase = F_LF;
        return fields_size(s);
    }
    if (c == '\n')
        return fields_fail(s, 400, "bare LF as line terminator");
    if (c == '\0')
        return fields_fail(s, 400, "NUL in field value");
    return fields_fail(s, 400, "control character in field value");
}

static void fields_store(struct fscan *s, size_t cr)
{
    svk__http_fields *f = s->f;
    size_t end = cr;
    while (end > f->value_start && SVK__HTTP_IS_WS(s->b[end - 1]))
        end--;
    if (s->out != NULL) {
        svk__http_header *h = &s->out[f->count];
        h->name = (const char *)s->b + f->line;
        h->name_len = f->name_end - f->line;
        h->value = (const char *)s->b + f->value_start;
        h->value_len = end - f->value_start;
    }
    f->count++;
}

static int fields_lf(struct fscan *s)
{
    svk__http_fields *f = s->f;
    if (f->pos == s->len)
        return SVK_EAGAIN;
    if (s->b[f->pos] != '\n')
        return fields_fail(s, 400, "CR not followed by LF");
    fields_store(s, f->pos - 1);
    f->pos++;
    f->phase = F_LINE;
    return fields_size(s);
}

void svk__http_fields_begin(svk__http_fields *f, size_t start, size_t max_bytes,
                            size_t max_count)
{
    memset(f, 0, sizeof *f);
    f->start = start;
    f->pos = start;
    f->max_bytes = max_bytes;
    f->max_count = max_count;
    f->phase = F_LINE;
}

static int fields_end_lf(struct fscan *s)
{
    svk__http_fields *f = s->f;
    if (f->pos == s->len)
        return SVK_EAGAIN;
    if (s->b[f->pos] != '\n')
        return fields_fail(s, 400, "CR not followed by LF");
    f->pos++;
    f->phase = F_DONE;
    int rc = fields_size(s);
    return rc == STEP ? 0 : rc;
}

int svk__http_fields_scan(svk__http_fields *f, const char *buf, size_t len,
                          svk__http_header *out, int *status, const char **reason)
{
    struct fscan s = {f, (const unsigned char *)buf, len,
                      min_size(len, f->start + f->max_bytes + 1), out, status, reason};
    int rc = STEP;
    while (rc == STEP) {
        switch (f->phase) {
        case F_LINE: rc = fields_line(&s); break;
        case F_NAME: rc = fields_name(&s); break;
        case F_OWS: rc = fields_ows(&s); break;
        case F_VALUE: rc = fields_value(&s); break;
        case F_LF: rc = fields_lf(&s); break;
        case F_END_LF: rc = fields_end_lf(&s); break;
        default: rc = 0; break; /* F_DONE */
        }
    }
    return rc;
}

/* ------------------------------------------------------------ request line */

enum { H_START, H_START_LF, H_METHOD, H_TARGET, H_VERSION, H_LINE_LF, H_FIELDS };

struct hscan {
    svk__http_parser *p;
    const unsigned char *b;
    size_t len;
    svk__http_request *req;
    svk__http_header *out;
    size_t max_count;
};

static int head_fail(struct hscan *s, int status, const char *reason)
{
    s->req->status = status;
    s->req->reason = reason;
    return svk__http_status_code(status);
}

/* Scanning past the limit + 1 cannot change the outcome. */
static size_t line_cap(const struct hscan *s)
{
    return min_size(s->len, s->p->line + s->p->limits->request_line_max + 1);
}

/* The CRLF does not count. RFC 9112 §3: a method longer than any the server
 * implements is 501; a request-target longer than it parses is 414. */
static int line_size(struct hscan *s)
{
    svk__http_parser *p = s->p;
    if (p->pos - p->line <= p->limits->request_line_max)
        return STEP;
    if (p->phase == H_METHOD)
        return head_fail(s, 501, "method longer than the request-line limit");
    return head_fail(s, 414, "request line longer than the limit");
}

/* RFC 9112 §2.2: one empty line (CRLF) before the request line is ignored. */
static int head_start(struct hscan *s)
{
    svk__http_parser *p = s->p;
    if (p->pos == s->len)
        return SVK_EAGAIN;
    if (p->phase == H_START && s->b[p->pos] == '\r') {
        p->pos++;
        p->phase = H_START_LF;
        return STEP;
    }
    if (p->phase == H_START_LF && s->b[p->pos++] != '\n')
        return head_fail(s, 400, "CR not followed by LF");
    p->line = p->pos;
    p->phase = H_METHOD;
    return STEP;
}

/* As fields_run, for the request line. */
static int line_run(struct hscan *s, uint8_t mask)
{
    s->p->pos = skip_class(s->b, s->p->pos, line_cap(s), mask);
    int rc = line_size(s);
    return rc == STEP && s->p->pos == s->len ? SVK_EAGAIN : rc;
}

static int head_method(struct hscan *s)
{
    svk__http_parser *p = s->p;
    int rc = line_run(s, SVK__HTTP_TCHAR);
    if (rc != STEP)
        return rc;
    unsigned char c = s->b[p->pos];
    if (c == ' ' && p->pos > p->line) {
        p->method_end = p->pos++;
        rc = line_size(s);
        p->phase = H_TARGET;
        return rc;
    }
    if (p->pos > p->line)
        return head_fail(s, 400, "invalid character in method");
    if (c == '\n')
        return head_fail(s, 400, "bare LF as line terminator");
    if (c == '\r')
        return head_fail(s, 400, "more than one empty line before the request line");
    return head_fail(s, 400, "request line does not start with a method");
}

static int method_is(const svk__http_request *req, const char *m)
{
    size_t n = strlen(m);
    return req->method_len == n && memcmp(req->method, m, n) == 0;
}

/* Every '%' starts a pct-encoded triplet (RFC 3986 §2.1). */
static int pct_encoding_ok(const char *t, size_t n)
{
    const char *end = t + n;
    const char *pct = memchr(t, '%', n);
    while (pct != NULL) {
        if (end - pct < 3 || !(svk__http_class[(unsigned char)pct[1]] & SVK__HTTP_HEX) ||
            !(svk__http_class[(unsigned char)pct[2]] & SVK__HTTP_HEX))
            return 0;
        pct = memchr(pct + 3, '%', (size_t)(end - pct - 3));
    }
    return 1;
}

static void split_query(svk__http_request *req, const char *s, size_t n)
{
    const char *q = n > 0 ? memchr(s, '?', n) : NULL;
    req->path = s;
    req->path_len = q != NULL ? (size_t)(q - s) : n;
    req->query = q != NULL ? q + 1 : NULL;
    req->query_len = q != NULL ? n - req->path_len - 1 : 0;
}

static int port_ok(const char *s, size_t n)
{
    unsigned long v = 0;
    if (n == 0 || n > 5)
        return 0;
    for (size_t i = 0; i < n; i++) {
        if (!SVK__HTTP_IS_DIGIT(s[i]))
            return 0;
        v = v * 10 + (unsigned long)(s[i] - '0');
    }
    return v <= 65535;
}

/* "[" IPv6 "]" (RFC 3986 §3.2.2; IPvFuture is not accepted): length with
 * the brackets, 0 if malformed. */
static size_t ip_literal_len(const char *s, size_t n)
{
    const char *close = memchr(s, ']', n);
    int colon = 0;
    if (close == NULL || close - s < 3)
        return 0;
    for (const char *c = s + 1; c < close; c++) {
        if (*c == ':')
            colon = 1;
        else if (*c != '.' && !(svk__http_class[(unsigned char)*c] & SVK__HTTP_HEX))
            return 0;
    }
    return colon ? (size_t)(close - s) + 1 : 0;
}

/* uri-host [ ":" port ] (RFC 9110 §7.2), host not empty, port 0-65535. */
static int host_ok(const char *s, size_t n)
{
    size_t i;
    if (n == 0)
        return 0;
    if (s[0] == '[')
        i = ip_literal_len(s, n);
    else
        i = skip_class((const unsigned char *)s, 0, n, SVK__HTTP_REGNAME);
    if (i == 0 || !pct_encoding_ok(s, i))
        return 0;
    return i == n || (s[i] == ':' && port_ok(s + i + 1, n - i - 1));
}

/* RFC 3986 §3.1 scheme followed by ':': its length, 0 if there is none. */
static size_t scheme_len(const char *t, size_t n)
{
    size_t i = 1;
    if (!SVK__HTTP_IS_ALPHA(t[0]))
        return 0;
    while (i < n && (SVK__HTTP_IS_ALPHA(t[i]) || SVK__HTTP_IS_DIGIT(t[i]) ||
                     t[i] == '+' || t[i] == '-' || t[i] == '.'))
        i++;
    return i < n && t[i] == ':' ? i : 0;
}

/* RFC 9112 §3.2.2; the authority replaces Host (§3.2.2 last paragraph) and
 * userinfo is refused (RFC 9110 §4.2.4). */
static int absolute_form(struct hscan *s, const char *t, size_t n)
{
    svk__http_request *req = s->req;
    size_t sl = scheme_len(t, n);
    if (sl == 0 || !(equals_nocase(t, sl, "http") || equals_nocase(t, sl, "https")))
        return head_fail(s, 400, "request-target is not origin-, absolute- or asterisk-form");
    if (n - sl < 3 || t[sl + 1] != '/' || t[sl + 2] != '/')
        return head_fail(s, 400, "absolute-form request-target without an authority");
    const char *auth = t + sl + 3;
    size_t rest = n - sl - 3, alen = 0;
    while (alen < rest && auth[alen] != '/' && auth[alen] != '?')
        alen++;
    if (memchr(auth, '@', alen) != NULL)
        return head_fail(s, 400, "userinfo in request-target");
    if (!host_ok(auth, alen))
        return head_fail(s, 400, "invalid authority in request-target");
    req->host = auth;
    req->host_len = alen;
    split_query(req, auth + alen, rest - alen);
    if (req->path_len == 0) {
        req->path = "/";
        req->path_len = 1;
    }
    req->target_form = SVK__HTTP_ABSOLUTE_FORM;
    return STEP;
}

/* Decides the request-target's form (RFC 9112 §3.2) once the request line is
 * known to be well formed and of a supported version, so that a version
 * error (505) is reported before a form error. */
static int check_target(struct hscan *s)
{
    svk__http_parser *p = s->p;
    svk__http_request *req = s->req;
    req->method = (const char *)s->b + p->line;
    req->method_len = p->method_end - p->line;
    req->target = (const char *)s->b + p->method_end + 1;
    req->target_len = p->target_end - p->method_end - 1;
    if (method_is(req, "CONNECT")) /* no tunnels: authority-form never applies */
        return head_fail(s, 501, "CONNECT is not supported");
    if (!pct_encoding_ok(req->target, req->target_len))
        return head_fail(s, 400, "malformed percent-encoding in request-target");
    if (req->target[0] == '/') {
        req->target_form = SVK__HTTP_ORIGIN_FORM;
        split_query(req, req->target, req->target_len);
        return STEP;
    }
    if (req->target_len == 1 && req->target[0] == '*') {
        if (!method_is(req, "OPTIONS"))
            return head_fail(s, 400, "asterisk-form request-target is only for OPTIONS");
        req->target_form = SVK__HTTP_ASTERISK_FORM;
        req->path = req->target;
        req->path_len = 1;
        return STEP;
    }
    return absolute_form(s, req->target, req->target_len);
}

static int head_target(struct hscan *s)
{
    svk__http_parser *p = s->p;
    int rc = line_run(s, SVK__HTTP_TARGET);
    if (rc != STEP)
        return rc;
    unsigned char c = s->b[p->pos];
    if (c == ' ') {
        if (p->pos == p->method_end + 1)
            return head_fail(s, 400, "empty request-target (two spaces)");
        p->target_end = p->pos++;
        rc = line_size(s);
        p->phase = H_VERSION;
        return rc;
    }
    if (c == '\r' || c == '\n')
        return head_fail(s, 400, "request line without an HTTP version");
    if (c == '#')
        return head_fail(s, 400, "fragment in request-target");
    return head_fail(s, 400, "invalid character in request-target");
}

/* HTTP-version = "HTTP/" DIGIT "." DIGIT, case-sensitive (RFC 9112 §2.3). */
static int version_byte_ok(size_t k, unsigned char c)
{
    if (k < 5)
        return c == (unsigned char)"HTTP/"[k];
    if (k == 6)
        return c == '.';
    return SVK__HTTP_IS_DIGIT(c);
}

static int head_version(struct hscan *s)
{
    svk__http_parser *p = s->p;
    size_t start = p->target_end + 1;
    while (p->pos < s->len && p->pos - start < 8) {
        if (!version_byte_ok(p->pos - start, s->b[p->pos]))
            return head_fail(s, 400, "malformed HTTP version");
        p->pos++;
        int rc = line_size(s);
        if (rc != STEP)
            return rc;
    }
    if (p->pos == s->len)
        return SVK_EAGAIN;
    unsigned char c = s->b[p->pos];
    if (c != '\r')
        return head_fail(s, 400, c == '\n' ? "bare LF as line terminator"
                                           : "malformed HTTP version");
    if (s->b[start + 5] != '1' || s->b[start + 7] > '1')
        return head_fail(s, 505, "HTTP version not supported");
    s->req->minor_version = s->b[start + 7] - '0';
    p->pos++;
    p->phase = H_LINE_LF;
    return check_target(s);
}

static int head_line_lf(struct hscan *s)
{
    svk__http_parser *p = s->p;
    if (p->pos == s->len)
        return SVK_EAGAIN;
    if (s->b[p->pos++] != '\n')
        return head_fail(s, 400, "CR not followed by LF");
    svk__http_fields_begin(&p->fields, p->pos, p->limits->header_block_max, s->max_count);
    p->phase = H_FIELDS;
    return STEP;
}

static int scan_head(struct hscan *s)
{
    int rc = STEP;
    while (rc == STEP) {
        switch (s->p->phase) {
        case H_START:
        case H_START_LF: rc = head_start(s); break;
        case H_METHOD: rc = head_method(s); break;
        case H_TARGET: rc = head_target(s); break;
        case H_VERSION: rc = head_version(s); break;
        case H_LINE_LF: rc = head_line_lf(s); break;
        default:
            rc = svk__http_fields_scan(&s->p->fields, (const char *)s->b, s->len, s->out,
                                       &s->req->status, &s->req->reason);
            break;
        }
    }
    return rc;
}

/* ----------------------------------------------------- header semantics */

/* What the head's fields say, gathered in one pass in arrival order. */
struct facts {
    const svk__http_header *content_length;
    int hosts;
    int te_lines;
    int chunked;
    int other_coding;
    int close;
    int keep_alive;
    int expect;
};

/* A #list (RFC 9110 §5.6.1): elements split at ',' and trimmed of OWS. */
struct list {
    const char *p;
    const char *end;
    int done;
};

static int list_next(struct list *l, const char **elem, size_t *len)
{
    if (l->done)
        return 0;
    const char *comma = memchr(l->p, ',', (size_t)(l->end - l->p));
    const char *a = l->p, *z = comma != NULL ? comma : l->end;
    while (a < z && SVK__HTTP_IS_WS(*a))
        a++;
    while (z > a && SVK__HTTP_IS_WS(z[-1]))
        z--;
    *elem = a;
    *len = (size_t)(z - a);
    l->done = comma == NULL;
    l->p = comma != NULL ? comma + 1 : l->end;
    return 1;
}

static int is_token(const char *s, size_t n)
{
    return n > 0 && skip_class((const unsigned char *)s, 0, n, SVK__HTTP_TCHAR) == n;
}

static int sem_fail(svk__http_request *req, int status, const char *reason)
{
    req->status = status;
    req->reason = reason;
    return svk__http_status_code(status);
}

/* RFC 9112 §3.2: exactly one Host field line, with a valid value. */
static int on_host(svk__http_request *req, struct facts *f, const svk__http_header *h)
{
    if (++f->hosts > 1)
        return sem_fail(req, 400, "more than one Host field line");
    if (!host_ok(h->value, h->value_len))
        return sem_fail(req, 400, "invalid Host");
    if (req->target_form != SVK__HTTP_ABSOLUTE_FORM) {
        req->host = h->value;
        req->host_len = h->value_len;
    }
    return STEP;
}

/* RFC 9110 §8.6: 1*DIGIT. Repeated field lines must be byte-identical; a
 * comma list, sign, space or overflow is a 400 (RFC 9112 §6.3 item 5). */
static int on_content_length(svk__http_request *req, struct facts *f,
                             const svk__http_header *h)
{
    uint64_t v = 0;
    if (f->content_length != NULL) {
        const svk__http_header *first = f->content_length;
        if (first->value_len != h->value_len ||
            memcmp(first->value, h->value, h->value_len) != 0)
            return sem_fail(req, 400, "Content-Length field lines differ");
        return STEP;
    }
    if (h->value_len == 0)
        return sem_fail(req, 400, "empty Content-Length");
    for (size_t i = 0; i < h->value_len; i++) {
        unsigned d = (unsigned char)h->value[i] - (unsigned)'0';
        if (d > 9)
            return sem_fail(req, 400, "Content-Length is not a decimal number");
        if (v > (UINT64_MAX - d) / 10)
            return sem_fail(req, 400, "Content-Length overflows");
        v = v * 10 + d;
    }
    f->content_length = h;
    req->content_length = v;
    return STEP;
}

/* RFC 9112 §6.1, §6.3, §7: one field line, bare coding names, chunked
 * exactly once and last. Empty list elements are refused although RFC 9110
 * §5.6.1 tolerates them: a framing header is no place for leniency. */
static int on_transfer_encoding(svk__http_request *req, struct facts *f,
                                const svk__http_header *h)
{
    struct list l = {h->value, h->value + h->value_len, 0};
    const char *e;
    size_t n;
    if (f->te_lines++ > 0)
        return sem_fail(req, 400, "more than one Transfer-Encoding field line");
    while (list_next(&l, &e, &n)) {
        if (n == 0)
            return sem_fail(req, 400, "empty element in Transfer-Encoding");
        if (!is_token(e, n))
            return sem_fail(req, 400, "Transfer-Encoding element is not a coding name");
        if (f->chunked)
            return sem_fail(req, 400, "transfer coding after chunked");
        if (equals_nocase(e, n, "chunked"))
            f->chunked = 1;
        else
            f->other_coding = 1;
    }
    if (!f->chunked)
        return sem_fail(req, 400, "chunked is not the final transfer coding");
    return STEP;
}

/* RFC 9112 §9.3: "close" and "keep-alive" options; others are ignored. */
static int on_connection(svk__http_request *req, struct facts *f, const svk__http_header *h)
{
    struct list l = {h->value, h->value + h->value_len, 0};
    const char *e;
    size_t n;
    while (list_next(&l, &e, &n)) {
        if (n == 0)
            continue; /* RFC 9110 §5.6.1: empty elements are ignored */
        if (!is_token(e, n))
            return sem_fail(req, 400, "invalid Connection option");
        if (equals_nocase(e, n, "close"))
            f->close = 1;
        else if (equals_nocase(e, n, "keep-alive"))
            f->keep_alive = 1;
    }
    return STEP;
}

/* RFC 9110 §10.1.1: only 100-continue exists; anything else is 417. */
static int on_expect(svk__http_request *req, struct facts *f, const svk__http_header *h)
{
    if (!equals_nocase(h->value, h->value_len, "100-continue"))
        return sem_fail(req, 417, "unsupported expectation");
    f->expect = 1;
    return STEP;
}

static int on_field(svk__http_request *req, struct facts *f, const svk__http_header *h)
{
    switch (h->name_len) {
    case 4:
        return equals_nocase(h->name, 4, "host") ? on_host(req, f, h) : STEP;
    case 6:
        return equals_nocase(h->name, 6, "expect") ? on_expect(req, f, h) : STEP;
    case 10:
        return equals_nocase(h->name, 10, "connection") ? on_connection(req, f, h) : STEP;
    case 14:
        return equals_nocase(h->name, 14, "content-length") ? on_content_length(req, f, h)
                                                           : STEP;
    case 17:
        return equals_nocase(h->name, 17, "transfer-encoding")
                   ? on_transfer_encoding(req, f, h)
                   : STEP;
    default:
        return STEP;
    }
}

/* Rules that need the whole head; in this order so that the smuggling
 * answers (400) win over "not implemented" (501). */
static int conclude(svk__http_request *req, const struct facts *f)
{
    if (req->minor_version == 1 && f->hosts == 0)
        return sem_fail(req, 400, "HTTP/1.1 request without Host");
    if (f->te_lines > 0 && req->minor_version == 0)
        return sem_fail(req, 400, "Transfer-Encoding in an HTTP/1.0 request");
    if (f->te_lines > 0 && f->content_length != NULL)
        return sem_fail(req, 400, "both Transfer-Encoding and Content-Length");
    if (f->other_coding)
        return sem_fail(req, 501, "transfer coding other than chunked");
    if (f->te_lines > 0)
        req->body = SVK__HTTP_BODY_CHUNKED;
    else if (f->content_length != NULL)
        req->body = SVK__HTTP_BODY_LENGTH;
    req->keep_alive = !f->close && (req->minor_version == 1 || f->keep_alive);
    req->expect_continue = f->expect && req->minor_version == 1;
    return 0;
}

static int finish_head(svk__http_request *req, const svk__http_parser *p)
{
    struct facts f;
    memset(&f, 0, sizeof f);
    req->num_headers = p->fields.count;
    for (size_t i = 0; i < req->num_headers; i++) {
        int rc = on_field(req, &f, &req->headers[i]);
        if (rc != STEP)
            return rc;
    }
    return conclude(req, &f);
}

/* ------------------------------------------------------------ entry points */

int svk__http_parser_init(svk__http_parser *p, const svk__http_limits *limits)
{
    if (p == NULL || svk__http_limits_check(limits) != 0)
        return SVK_EINVAL;
    memset(p, 0, sizeof *p);
    p->limits = limits != NULL ? limits : &default_limits;
    p->phase = H_START;
    return 0;
}

void svk__http_parser_reset(svk__http_parser *p)
{
    if (p == NULL)
        return;
    const svk__http_limits *limits = p->limits;
    memset(p, 0, sizeof *p);
    p->limits = limits;
    p->phase = H_START;
}

static size_t scanned(const svk__http_parser *p)
{
    return p->phase == H_FIELDS ? p->fields.pos : p->pos;
}

static int run_scan(svk__http_parser *p, const char *buf, size_t len, svk__http_request *req,
                    svk__http_header *headers, size_t max_headers)
{
    if (p->phase == H_START && p->pos == 0) {
        memset(req, 0, sizeof *req);
        req->headers = headers;
    }
    struct hscan s = {p, (const unsigned char *)buf, len, req, headers,
                      min_size(max_headers, p->limits->headers_max)};
    return scan_head(&s);
}

int svk__http_parse_request(svk__http_parser *p, const char *buf, size_t len,
                            svk__http_request *req, svk__http_header *headers,
                            size_t max_headers)
{
    if (p == NULL || p->limits == NULL || req == NULL || (buf == NULL && len > 0) ||
        (headers == NULL && max_headers > 0) || len < scanned(p))
        return SVK_EINVAL;
    int resumed = scanned(p) > 0;
    int rc = run_scan(p, buf, len, req, headers, max_headers);
    if (rc == SVK_EAGAIN)
        return rc;
    if (rc == 0 && resumed) {
        /* Pointers stored by earlier calls may point into a buffer that has
         * moved since: the same bytes give the same outcome, with fresh ones. */
        svk__http_parser_reset(p);
        rc = run_scan(p, buf, len, req, headers, max_headers);
    }
    size_t used = p->fields.pos;
    if (rc == 0)
        rc = finish_head(req, p);
    svk__http_parser_reset(p);
    return rc == 0 ? (int)used : rc;
}
