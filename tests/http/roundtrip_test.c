/*
 * roundtrip_test.c — property tests: random valid requests (methods,
 * targets in every form, fields with random optional whitespace, bodies by
 * Content-Length or chunked with random extensions and trailers) are
 * written out, parsed, and must give back exactly what was generated; each
 * also parses identically when split at random points. Seeded, so a failure
 * reproduces.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "feed.h"
#include "http/parser.h"

static uint64_t rng = 0x9e3779b97f4a7c15ULL;

static uint32_t rnd(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (uint32_t)(rng >> 16);
}

static size_t pick(size_t n)
{
    return n == 0 ? 0 : rnd() % n;
}

static char from(const char *alphabet)
{
    return alphabet[pick(strlen(alphabet))];
}

static const char TCHARS[] = "!#$%&'*+-.^_`|~0123456789"
                            "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
static const char PCHARS[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                            "0123456789-._~!$&'()*+,;=:@/";
static const char HOSTCHARS[] = "abcdefghijklmnopqrstuvwxyz0123456789-.";
static const char HEX[] = "0123456789abcdefABCDEF";

struct out {
    char *p;
    size_t len;
    size_t cap;
};

static void emit(struct out *o, const char *s, size_t n)
{
    cr_assert_lt(o->len + n, o->cap, "generated request too long");
    memcpy(o->p + o->len, s, n);
    o->len += n;
}

static void emits(struct out *o, const char *s)
{
    emit(o, s, strlen(s));
}

static void random_token(char *s, size_t max)
{
    size_t n = 1 + pick(max);
    for (size_t i = 0; i < n; i++)
        s[i] = from(TCHARS);
    s[n] = '\0';
}

static void random_path(char *s, size_t max, const char *extra)
{
    size_t n = pick(max), i = 0;
    while (i < n) {
        if (pick(10) == 0) {
            i += (size_t)sprintf(s + i, "%%%c%c", from(HEX), from(HEX));
        } else {
            s[i++] = pick(20) == 0 && extra[0] ? from(extra) : from(PCHARS);
        }
    }
    s[i] = '\0';
}

static void random_host(char *s)
{
    size_t n = 1 + pick(20), i = 0;
    for (; i < n; i++)
        s[i] = from(HOSTCHARS);
    s[i] = '\0';
    if (pick(3) == 0)
        sprintf(s + i, ":%u", (unsigned)pick(65536));
}

/* A field value: no leading or trailing whitespace, inner SP/HTAB, VCHAR,
 * obs-text. */
static void random_value(char *s, size_t max)
{
    size_t n = pick(max);
    for (size_t i = 0; i < n; i++) {
        unsigned c = 0x21 + pick(0x5e);
        if (i > 0 && i + 1 < n && pick(8) == 0)
            c = pick(2) ? ' ' : '\t';
        else if (pick(16) == 0)
            c = 0x80 + pick(0x80);
        s[i] = (char)c;
    }
    s[n] = '\0';
}

static void random_ows(struct out *o)
{
    for (size_t n = pick(4) == 0 ? 1 + pick(3) : 0; n > 0; n--)
        emits(o, pick(2) ? " " : "\t");
}

static int special_name(const char *name)
{
    static const char *const names[] = {"host", "content-length", "transfer-encoding",
                                        "connection", "expect"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (strcasecmp(name, names[i]) == 0)
            return 1;
    return 0;
}

/* What the generator meant; the parser must say the same. */
struct model {
    char method[16];
    char target[1024];
    char path[600];
    char query[600];
    int has_query;
    char host[64];
    int minor;
    int form;
    int body;
    size_t body_len;
    char data[800];
    int keep_alive;
    int expect;
    size_t nfields;
    char names[24][24];
    char values[24][64];
};

static void add_field(struct out *o, struct model *m, const char *name, const char *value)
{
    emits(o, name);
    emits(o, ":");
    random_ows(o);
    emits(o, value);
    random_ows(o);
    emits(o, "\r\n");
    strcpy(m->names[m->nfields], name);
    strcpy(m->values[m->nfields], value);
    m->nfields++;
}

/* Chooses the form (and for asterisk-form the method) before anything is
 * written, since OPTIONS * decides the method. */
static void generate_target(struct model *m)
{
    char path[300], query[300];
    random_path(path + 1, 60, "");
    path[0] = '/';
    random_path(query, 40, "?");
    m->has_query = pick(2);
    m->form = SVK__HTTP_ORIGIN_FORM;
    if (pick(10) == 0) {
        strcpy(m->method, "OPTIONS");
        m->form = SVK__HTTP_ASTERISK_FORM;
        strcpy(path, "*");
        m->has_query = 0;
    } else if (pick(8) == 0) {
        m->form = SVK__HTTP_ABSOLUTE_FORM;
        random_host(m->host);
    }
    strcpy(m->path, path);
    strcpy(m->query, m->has_query ? query : "");
    snprintf(m->target, sizeof m->target, "%s%s%s%s%s",
             m->form == SVK__HTTP_ABSOLUTE_FORM ? (pick(2) ? "http://" : "HTTPS://") : "",
             m->form == SVK__HTTP_ABSOLUTE_FORM ? m->host : "", path,
             m->has_query ? "?" : "", m->has_query ? query : "");
}

static void generate_body_fields(struct out *o, struct model *m)
{
    char n[32];
    m->body = pick(3);
    if (m->body == SVK__HTTP_BODY_CHUNKED && m->minor == 0)
        m->body = SVK__HTTP_BODY_LENGTH;
    m->body_len = m->body == SVK__HTTP_BODY_NONE ? 0 : pick(700);
    for (size_t i = 0; i < m->body_len; i++)
        m->data[i] = (char)rnd();
    if (m->body == SVK__HTTP_BODY_LENGTH) {
        sprintf(n, "%zu", m->body_len);
        add_field(o, m, pick(2) ? "Content-Length" : "content-LENGTH", n);
    } else if (m->body == SVK__HTTP_BODY_CHUNKED) {
        add_field(o, m, "Transfer-Encoding", pick(2) ? "chunked" : "Chunked");
    }
}

static void generate_other_fields(struct out *o, struct model *m)
{
    size_t n = pick(12);
    int closes = pick(4) == 0, keeps = m->minor == 0 && pick(2);
    char name[24], value[64];
    for (size_t i = 0; i < n; i++) {
        do
            random_token(name, 20);
        while (special_name(name));
        random_value(value, 60);
        add_field(o, m, name, value);
    }
    if (closes || keeps)
        add_field(o, m, "Connection", closes ? "close" : "keep-alive");
    m->keep_alive = !closes && (m->minor == 1 || keeps);
    m->expect = m->minor == 1 && m->body != SVK__HTTP_BODY_NONE && pick(3) == 0;
    if (m->expect)
        add_field(o, m, "Expect", "100-continue");
}

static void random_extension(struct out *o)
{
    char name[24], value[24];
    random_token(name, 8);
    emits(o, ";");
    emits(o, name);
    if (pick(2) == 0)
        return;
    emits(o, "=");
    if (pick(2)) {
        random_token(value, 8);
        emits(o, value);
    } else {
        emits(o, pick(2) ? "\"a \\\"q\\\" b\"" : "\"\"");
    }
}

static void generate_chunked(struct out *o, const struct model *m)
{
    size_t at = 0;
    char line[64];
    while (at < m->body_len) {
        size_t n = 1 + pick(m->body_len - at);
        sprintf(line, pick(2) ? "%zx" : "%zX", n);
        emits(o, line);
        if (pick(3) == 0)
            random_extension(o);
        emits(o, "\r\n");
        emit(o, m->data + at, n);
        emits(o, "\r\n");
        at += n;
    }
    emits(o, "0");
    if (pick(3) == 0)
        random_extension(o);
    emits(o, "\r\n");
    if (pick(2))
        emits(o, "Digest: sha-256=x\r\nX-T: \t1\r\n");
    emits(o, "\r\n");
}

static void generate(struct out *o, struct model *m)
{
    memset(m, 0, sizeof *m);
    m->minor = pick(4) ? 1 : 0;
    do
        random_token(m->method, 10);
    while (strcmp(m->method, "CONNECT") == 0);
    generate_target(m);
    if (pick(8) == 0)
        emits(o, "\r\n");
    emits(o, m->method);
    emits(o, " ");
    emits(o, m->target);
    emits(o, m->minor ? " HTTP/1.1\r\n" : " HTTP/1.0\r\n");
    char host[64];
    random_host(host);
    if (m->minor == 1 || pick(2)) {
        add_field(o, m, pick(2) ? "Host" : "host", host);
        if (m->form != SVK__HTTP_ABSOLUTE_FORM)
            strcpy(m->host, host);
    }
    generate_other_fields(o, m);
    generate_body_fields(o, m);
    emits(o, "\r\n");
    if (m->body == SVK__HTTP_BODY_LENGTH)
        emit(o, m->data, m->body_len);
    else if (m->body == SVK__HTTP_BODY_CHUNKED)
        generate_chunked(o, m);
}

static void same_span(const char *what, const char *got, size_t len, const char *want)
{
    cr_assert(len == strlen(want) && memcmp(got, want, len) == 0, "%s: want [%s] got [%.*s]",
              what, want, (int)len, got);
}

static void compare(const svk__http_request *r, const struct model *m)
{
    same_span("method", r->method, r->method_len, m->method);
    same_span("target", r->target, r->target_len, m->target);
    same_span("path", r->path, r->path_len, m->path);
    cr_assert_eq(r->query != NULL, m->has_query);
    if (m->has_query)
        same_span("query", r->query, r->query_len, m->query);
    if (m->host[0])
        same_span("host", r->host, r->host_len, m->host);
    else
        cr_assert_null(r->host);
    cr_assert_eq(r->minor_version, m->minor);
    cr_assert_eq(r->target_form, m->form);
    cr_assert_eq(r->body, m->body);
    cr_assert_eq(r->keep_alive, m->keep_alive);
    cr_assert_eq(r->expect_continue, m->expect);
    cr_assert_eq(r->num_headers, m->nfields);
    for (size_t i = 0; i < m->nfields; i++) {
        same_span("name", r->headers[i].name, r->headers[i].name_len, m->names[i]);
        same_span("value", r->headers[i].value, r->headers[i].value_len, m->values[i]);
    }
}

/* The body after the head: Content-Length bytes, or chunks decoded in random
 * pieces; returns the bytes it took. */
static size_t check_body(const char *in, size_t n, const svk__http_request *r,
                         const struct model *m)
{
    char text[FEED_TEXT_MAX], whole[FEED_TEXT_MAX], want[FEED_TEXT_MAX];
    if (m->body == SVK__HTTP_BODY_LENGTH) {
        cr_assert_eq(r->content_length, m->body_len);
        cr_assert(memcmp(in, m->data, m->body_len) == 0);
        return m->body_len;
    }
    if (m->body == SVK__HTTP_BODY_NONE)
        return 0;
    feed_escape(m->data, m->body_len, want, sizeof want);
    cr_assert_eq(feed_chunked(in, n, NULL, n, 1, whole), 0, "%s", whole);
    cr_assert(strncmp(whole + strlen("rc=SVK_OK data=["), want, strlen(want)) == 0, "%s",
              whole);
    feed_chunked(in, n, NULL, pick(n + 1), 1 + pick(n), text);
    cr_assert_str_eq(text, whole, "random split of the chunked body");
    return n; /* the generator put nothing after the body */
}

Test(roundtrip, random_valid_requests_parse_back)
{
    static char raw[65536];
    for (int iter = 0; iter < 3000; iter++) {
        struct out o = {raw, 0, sizeof raw};
        struct model m;
        generate(&o, &m);
        char whole[FEED_TEXT_MAX], part[FEED_TEXT_MAX];
        svk__http_request r;
        svk__http_header h[FEED_MAX_HEADERS];
        int rc = feed_request(raw, o.len, NULL, o.len, 1, whole, &r, h);
        cr_assert_gt(rc, 0, "iteration %d: %s\n%.*s", iter, whole, (int)o.len, raw);
        compare(&r, &m);
        for (int k = 0; k < 3; k++) {
            feed_request(raw, o.len, NULL, pick((size_t)rc + 1), 1 + pick((size_t)rc), part,
                         NULL, NULL);
            cr_assert_str_eq(part, whole, "iteration %d: random split", iter);
        }
        size_t used = check_body(raw + rc, o.len - (size_t)rc, &r, &m);
        cr_assert_eq((size_t)rc + used, o.len);
    }
}

/* Pipelined random requests, one buffer, parsed in order. */
Test(roundtrip, pipelined_random_requests_parse_in_order)
{
    static char raw[1 << 20];
    struct model models[40];
    size_t ends[40];
    struct out o = {raw, 0, sizeof raw};
    for (int i = 0; i < 40; i++) {
        do {
            size_t mark = o.len;
            generate(&o, &models[i]);
            if (models[i].body == SVK__HTTP_BODY_CHUNKED)
                o.len = mark; /* keep to framing the head alone decides */
            else
                break;
        } while (1);
        ends[i] = o.len;
    }
    size_t at = 0;
    for (int i = 0; i < 40; i++) {
        char text[FEED_TEXT_MAX];
        svk__http_request r;
        svk__http_header h[FEED_MAX_HEADERS];
        int rc = feed_request(raw + at, o.len - at, NULL, o.len - at, 1, text, &r, h);
        cr_assert_gt(rc, 0, "request %d: %s", i, text);
        compare(&r, &models[i]);
        at += (size_t)rc + (size_t)r.content_length;
        cr_assert_eq(at, ends[i], "request %d ends where it was written", i);
    }
}
