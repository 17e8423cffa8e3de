/*
 * request.c — a request's life on the loop (begin, route, end) and the
 * accessors handlers use: method, path, headers, query and path parameters,
 * the buffered body, the client address.
 *
 * Strings handed out are the parser's spans in the read buffer, made
 * NUL-terminated in place once the head is parsed (the byte after each span
 * is a delimiter the parser no longer needs: SP, '?', ':', OWS or CR).
 * Decoded values (query and path parameters) go to a small per-request
 * arena, inline in the pooled request and spilling to the allocator only for
 * unusually long values; it is emptied when the request ends.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <strings.h>
#include <string.h>

#include "svckit/log.h"
#include "http/server.h"

/* ------------------------------------------------------------- life */

static int fresh_ctx(svk_http_request *req)
{
    if (req->ctx != NULL && svk_ctx_err(req->ctx) != SVK_ECANCELED &&
        svk_ctx_trace(req->ctx, NULL, NULL, NULL) != 0) {
        svk_ctx_set_deadline(req->ctx, SVK_CTX_NO_DEADLINE);
        svk_ctx_set_logger(req->ctx, NULL);
        return 0;
    }
    svk_ctx_free(req->ctx);
    req->ctx = NULL;
    return svk_ctx_new(&req->ctx, NULL);
}

int svk__http_req_begin(svk_http_request *req, svk__http_conn *c)
{
    svk_http_server *srv = c->loop->srv;
    req->conn = c;
    svk__http_parser_reset(&req->parser);
    memset(&req->head, 0, sizeof req->head);
    req->match.route = NULL; /* the rest is set by a lookup */
    req->match.status = 0;
    req->match.nparams = 0;
    req->match.head_only = 0;
    req->head_len = 0;
    req->body_state = SVK__HTTP_BODY_COMPLETE;
    req->body_len = req->body_wire = 0;
    req->fail_status = 0;
    req->fail_reason = NULL;
    req->cfg = &srv->defaults;
    req->chain = NULL;
    req->nchain = req->chain_pos = 0;
    req->handler = NULL;
    req->handler_user = NULL;
    req->builtin = req->on_loop = req->handler_rc = req->head_only = 0;
    req->request_id[0] = req->remote_ip[0] = req->peer_ip[0] = '\0';
    req->hook_data = NULL;
    req->hooks_started = 0;
    req->start_ns = svk_clock_mono_ns();
    req->bytes_out = 0;
    req->status_sent = 0;
    req->arena_used = 0;
    svk__http_resp_reset(&req->resp);
    atomic_store(&req->abandoned, 0);
    req->stream_err = req->stream_body = req->stream_paused = req->stream_eof = 0;
    req->stream_read = 0;
    req->flush_pending = req->flush_inflight = req->write_pending = req->continue_sent = 0;
    req->write_due = 0;
    return fresh_ctx(req);
}

static void arena_release(svk_http_request *req)
{
    void *b = req->arena_blocks;
    while (b != NULL) {
        void *next = *(void **)b;
        svk_free(b);
        b = next;
    }
    req->arena_blocks = NULL;
    req->arena_used = 0;
}

void svk__http_req_end(svk_http_request *req)
{
    struct svk_logger *log = req->log;
    req->log = NULL;
    if (req->ctx != NULL)
        svk_ctx_set_logger(req->ctx, NULL);
    svk_logger_free(log);
    arena_release(req);
    atomic_fetch_sub(&req->loop->srv->n_active, req->counted ? 1 : 0);
    req->counted = 0;
    req->conn = NULL;
}

/* NUL-terminate the spans handlers read (see the file comment). */
void svk__http_req_mark_strings(svk_http_request *req)
{
    svk__http_request *h = &req->head;
    const char *rb = req->conn->rb, *end = rb + req->head_len;
    char *w = req->conn->rb;
    w[h->method_len] = '\0';
    if (h->path >= rb && h->path < end)
        w[h->path + h->path_len - rb] = '\0';
    if (h->query != NULL)
        w[h->query + h->query_len - rb] = '\0';
    for (size_t i = 0; i < h->num_headers; i++) {
        w[h->headers[i].name + h->headers[i].name_len - rb] = '\0';
        w[h->headers[i].value + h->headers[i].value_len - rb] = '\0';
    }
}

/* ----------------------------------------------------------- routing */

static int builtin_answer(svk_http_request *req, svk_http_response *resp, void *user)
{
    (void)user;
    const svk__http_match *m = &req->match;
    if (m->status == 204) {
        svk_http_response_set_status(resp, 204);
        if (m->allow != NULL)
            svk__http_resp_header_raw(resp, "Allow", m->allow);
        return 0;
    }
    if (m->status == 405) {
        svk__http_resp_header_raw(resp, "Allow", m->allow);
        return svk_http_response_error(resp, 405, "method not allowed");
    }
    return svk_http_response_error(resp, 404, "not found");
}

static void route_lookup(svk_http_request *req)
{
    const svk_http_server *srv = req->loop->srv;
    const svk__http_request *h = &req->head;
    svk__http_match *m = &req->match;
    if (h->target_form == SVK__HTTP_ASTERISK_FORM) {
        m->status = 204; /* OPTIONS *: the server is here */
        m->router = srv->root;
    } else {
        svk__http_router_lookup(srv->root, h->method, h->method_len, h->path, h->path_len, m);
    }
    if (m->status == 0) {
        const svk__http_route *rt = m->route;
        req->cfg = &rt->cfg;
        req->handler = rt->fn;
        req->handler_user = rt->user;
        req->head_only |= m->head_only;
        req->stream_body = (rt->cfg.flags & SVK_HTTP_ROUTE_STREAM_BODY) != 0;
    } else {
        req->builtin = 1;
        req->handler = builtin_answer;
    }
    req->chain = m->router->chain;
    req->nchain = m->router->nchain;
}

static int bind_logger(svk_http_request *req)
{
    svk_http_server *srv = req->loop->srv;
    if (srv->logger == NULL || (srv->opts.flags & SVK_HTTP_SERVER_NO_REQUEST_LOGGER))
        return 0;
    uint8_t trace[16], span[8];
    char trace_hex[33], span_hex[17];
    const char *t = NULL, *s = NULL;
    if (svk_ctx_trace(req->ctx, trace, span, NULL) == 0) {
        svk__http_hex(trace, 16, trace_hex);
        svk__http_hex(span, 8, span_hex);
        t = trace_hex;
        s = span_hex;
    }
    int rc = svk_logger_bind(srv->logger, req->request_id, t, s, &req->log);
    if (rc == 0)
        svk_ctx_set_logger(req->ctx, req->log);
    return rc;
}

int svk__http_req_route(svk_http_request *req)
{
    svk__http_conn *c = req->conn;
    svk_http_server *srv = c->loop->srv;
    atomic_fetch_add(&srv->n_requests, 1);
    atomic_fetch_add(&srv->n_active, 1);
    req->counted = 1;
    svk__http_req_mark_strings(req);
    req->head_only = req->head.method_len == 4 && memcmp(req->head.method, "HEAD", 4) == 0;
    req->resp.close = !req->head.keep_alive || c->closing || c->loop->draining ||
                      c->requests >= srv->opts.max_requests_per_conn;
    int rc = svk__http_request_id(req);
    if (rc != 0)
        return rc;
    if (!svk__http_probe(req))
        route_lookup(req);
    if (req->head.body == SVK__HTTP_BODY_CHUNKED) {
        svk__http_chunked_init(&req->chunked, &srv->limits);
        req->chunked.body_max = req->cfg->body_limit;
    }
    if (req->head.body != SVK__HTTP_BODY_NONE)
        req->body_state = SVK__HTTP_BODY_READING;
    svk__http_hooks_start(req);
    return bind_logger(req);
}

void svk__http_req_set_deadline(svk_http_request *req, uint64_t ms)
{
    if (ms != SVK__HTTP_NEVER)
        svk_ctx_set_deadline(req->ctx, svk_clock_mono_ns() + (int64_t)ms * SVK_HTTP_MILLISECOND);
}

/* -------------------------------------------------------------- arena */

static char *arena_alloc(svk_http_request *req, size_t n)
{
    if (n <= sizeof req->arena - req->arena_used) {
        char *p = req->arena + req->arena_used;
        req->arena_used += n;
        return p;
    }
    void **block = svk_malloc(sizeof(void *) + n);
    if (block == NULL)
        return NULL;
    *block = req->arena_blocks;
    req->arena_blocks = block;
    return (char *)(block + 1);
}

/* The value of a hex digit already known to be one (SVK__HTTP_IS_HEX). */
static int hex_value(unsigned char c)
{
    return c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10;
}

/* Percent-decode in[0..n) into out (room for n + 1); '+' is a space when
 * plus. Returns the decoded length; out is NUL-terminated. */
int svk__http_decode(const char *in, size_t n, int plus, char *out)
{
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        const unsigned char *h = (const unsigned char *)in + i;
        if (h[0] == '%' && i + 2 < n && SVK__HTTP_IS_HEX(h[1]) && SVK__HTTP_IS_HEX(h[2])) {
            out[o++] = (char)(hex_value(h[1]) * 16 + hex_value(h[2]));
            i += 2;
        } else {
            out[o++] = plus && in[i] == '+' ? ' ' : in[i];
        }
    }
    out[o] = '\0';
    return (int)o;
}

static const char *decoded(svk_http_request *req, const char *s, size_t n, int plus)
{
    char *out = arena_alloc(req, n + 1);
    if (out != NULL)
        svk__http_decode(s, n, plus, out);
    return out;
}

/* ---------------------------------------------------------- accessors */

SVK_API const char *svk_http_request_method(const svk_http_request *req)
{
    return req != NULL ? req->head.method : NULL;
}

SVK_API const char *svk_http_request_path(const svk_http_request *req)
{
    return req != NULL ? req->head.path : NULL;
}

SVK_API const char *svk_http_request_query_string(const svk_http_request *req)
{
    return req != NULL ? req->head.query : NULL;
}

SVK_API const char *svk_http_request_header(const svk_http_request *req, const char *name)
{
    if (req == NULL || name == NULL)
        return NULL;
    size_t len = strlen(name);
    for (size_t i = 0; i < req->head.num_headers; i++) {
        const svk__http_header *h = &req->head.headers[i];
        if (h->name_len == len && strncasecmp(h->name, name, len) == 0)
            return h->value;
    }
    return NULL;
}

SVK_API size_t svk_http_request_header_count(const svk_http_request *req)
{
    return req != NULL ? req->head.num_headers : 0;
}

SVK_API int svk_http_request_header_at(const svk_http_request *req, size_t i,
                                       const char **name, const char **value)
{
    if (req == NULL || name == NULL || value == NULL)
        return SVK_EINVAL;
    if (i >= req->head.num_headers)
        return SVK_ERANGE;
    *name = req->head.headers[i].name;
    *value = req->head.headers[i].value;
    return 0;
}

/* Does the raw query key k[0..n) decode to name? */
static int key_is(const char *k, size_t n, const char *name)
{
    char tmp[256];
    if (n >= sizeof tmp)
        return 0;
    svk__http_decode(k, n, 1, tmp);
    return strcmp(tmp, name) == 0;
}

SVK_API const char *svk_http_request_query(svk_http_request *req, const char *name)
{
    if (req == NULL || name == NULL || req->head.query == NULL)
        return NULL;
    const char *p = req->head.query, *end = p + req->head.query_len;
    while (p < end) {
        const char *amp = memchr(p, '&', (size_t)(end - p));
        const char *pair_end = amp ? amp : end;
        const char *eq = memchr(p, '=', (size_t)(pair_end - p));
        const char *key_end = eq ? eq : pair_end;
        if (key_is(p, (size_t)(key_end - p), name)) {
            const char *v = eq ? eq + 1 : pair_end;
            return decoded(req, v, (size_t)(pair_end - v), 1);
        }
        p = pair_end + 1;
    }
    return NULL;
}

SVK_API const char *svk_http_request_param(svk_http_request *req, const char *name)
{
    if (req == NULL || name == NULL)
        return NULL;
    const svk__http_match *m = &req->match;
    for (size_t i = 0; i < m->nparams; i++)
        if (strcmp(m->params[i].name, name) == 0)
            return decoded(req, m->params[i].value, m->params[i].len, 0);
    return NULL;
}

SVK_API const char *svk_http_request_route(const svk_http_request *req)
{
    return req != NULL && req->match.route != NULL && req->match.status == 0
               ? req->match.route->pattern
               : NULL;
}

SVK_API svk_ctx *svk_http_request_ctx(const svk_http_request *req)
{
    return req != NULL ? req->ctx : NULL;
}

SVK_API const char *svk_http_request_id(const svk_http_request *req)
{
    return req != NULL ? req->request_id : NULL;
}

SVK_API const char *svk_http_request_remote_ip(svk_http_request *req)
{
    return req != NULL ? svk__http_req_remote_ip(req) : NULL;
}

SVK_API const char *svk_http_request_peer_ip(svk_http_request *req)
{
    if (req == NULL)
        return NULL;
    if (req->peer_ip[0] == '\0') {
        const svk__http_conn *c = req->conn;
        if (c->peer_family == 0 ||
            inet_ntop(c->peer_family, c->peer_addr, req->peer_ip, sizeof req->peer_ip) == NULL)
            strcpy(req->peer_ip, "unknown");
    }
    return req->peer_ip;
}

SVK_API int svk_http_request_body(const svk_http_request *req, const char **data, size_t *len)
{
    if (req == NULL || data == NULL || len == NULL)
        return SVK_EINVAL;
    if (req->stream_body)
        return SVK_ESTATE;
    *data = req->body_len > 0 ? req->conn->rb + req->head_len : "";
    *len = (size_t)req->body_len;
    return 0;
}

SVK_API void svk_http_request_set_hook_data(svk_http_request *req, void *data)
{
    if (req != NULL)
        req->hook_data = data;
}

SVK_API void *svk_http_request_hook_data(const svk_http_request *req)
{
    return req != NULL ? req->hook_data : NULL;
}

SVK_API int svk_http_request_on_loop(const svk_http_request *req)
{
    return req != NULL && req->on_loop;
}
