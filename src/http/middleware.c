/*
 * middleware.c — what runs around every handler: the chain runner
 * (svk_http_next), and the built-in stages in the order of the request
 * flow — request id, hooks (the metrics and tracing seam), the recoverer's
 * logging, the access log line — plus the CORS middleware routers may use.
 *
 * The built-in stages are not entries of the user chain: they need the
 * loop (timers, the end of the write) and must run even for requests that
 * never reach a router (parse errors, probes). The real-IP stage is in
 * realip.c, the deadline in conn.c, the body limit where the head is
 * routed (conn.c).
 */
#include <stdlib.h>
#include <string.h>

#include "svckit/log.h"
#include "http/server.h"

/* --------------------------------------------------------------- chain */

SVK_API int svk_http_next(svk_http_request *req, svk_http_response *resp)
{
    if (req == NULL || resp == NULL)
        return SVK_EINVAL;
    if (req->chain_pos < req->nchain) {
        const svk__http_mw *mw = &req->chain[req->chain_pos++];
        return mw->fn(req, resp, mw->user);
    }
    if (req->chain_pos > req->nchain || req->handler == NULL)
        return SVK_ESTATE;
    req->chain_pos++;
    return req->handler(req, resp, req->handler_user);
}

static struct svk_logger *logger_of(const svk_http_request *req)
{
    return req->log != NULL ? req->log : req->loop->srv->logger;
}

/* Run the chain and the handler; the recoverer's half that can run on the
 * handler's thread (the 500 itself is made when the response is built). */
int svk__http_run(svk_http_request *req)
{
    req->chain_pos = 0;
    int rc = svk_http_next(req, &req->resp);
    if (rc < 0 && !req->builtin) {
        const char *route = svk_http_request_route(req);
        svk_log_error(logger_of(req), "http handler failed", SVK_ERR("error", rc),
                      SVK_STR("route", route), SVK_STR("request_id", req->request_id));
    }
    return rc;
}

SVK_API int svk_http_check_failed(svk_http_request *req, const char *expr, const char *file,
                                  int line)
{
    if (req != NULL)
        svk_log_error(logger_of(req), "http handler check failed", SVK_STR("check", expr),
                      SVK_STR("file", file), SVK_INT("line", line),
                      SVK_STR("request_id", req->request_id));
    return SVK_ESTATE;
}

/* ---------------------------------------------------------- request id */

static int valid_request_id(const char *s, size_t *len)
{
    size_t n = 0;
    for (; s[n] != '\0'; n++)
        if ((unsigned char)s[n] < 0x21 || (unsigned char)s[n] > 0x7e ||
            n >= SVK_CTX_REQUEST_ID_MAX)
            return 0;
    *len = n;
    return n > 0;
}

/* Honour a valid incoming X-Request-Id, else make a UUIDv7. */
int svk__http_request_id(svk_http_request *req)
{
    const char *in = req->head.num_headers ? svk_http_request_header(req, "X-Request-Id") : NULL;
    size_t len = 0;
    if (in != NULL && valid_request_id(in, &len)) {
        memcpy(req->request_id, in, len);
        req->request_id[len] = '\0';
    } else {
        svk_uuid u;
        if (svk_uuid_v7(&u) == 0)
            svk_uuid_format(&u, req->request_id);
        else
            strcpy(req->request_id, "unavailable");
        len = strlen(req->request_id);
    }
    return svk_ctx_set_request_id(req->ctx, req->request_id, len);
}

/* --------------------------------------------------------------- hooks */

void svk__http_hooks_start(svk_http_request *req)
{
    const svk_http_server *srv = req->loop->srv;
    for (size_t i = 0; i < srv->nhooks; i++)
        if (srv->hooks[i].on_request_start != NULL)
            srv->hooks[i].on_request_start(req, srv->hooks[i].user);
    req->hooks_started = 1;
}

static void hooks_end(svk_http_request *req, const char *route, int status, int64_t dur)
{
    const svk_http_server *srv = req->loop->srv;
    for (size_t i = 0; i < srv->nhooks; i++)
        if (srv->hooks[i].on_request_end != NULL)
            srv->hooks[i].on_request_end(req, route, status, req->bytes_out, dur,
                                         srv->hooks[i].user);
}

void svk__http_hex(const uint8_t *bytes, size_t n, char *out)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = digits[bytes[i] >> 4];
        out[2 * i + 1] = digits[bytes[i] & 15];
    }
    out[2 * n] = '\0';
}

/* ---------------------------------------------------------- access log */

static void access_log(svk_http_request *req, const char *route, int status, int64_t dur)
{
    struct svk_logger *log = req->loop->srv->logger;
    int level = status >= 500 ? SVK_LOG_WARN : SVK_LOG_INFO;
    if (!svk_log_enabled(log, level))
        return;
    uint8_t trace[16];
    char trace_hex[33];
    const char *trace_id = NULL;
    if (svk_ctx_trace(req->ctx, trace, NULL, NULL) == 0) {
        svk__http_hex(trace, 16, trace_hex);
        trace_id = trace_hex;
    }
    const svk__http_request *h = &req->head;
    svk_attr attrs[] = {
        SVK_STR("method", h->method ? h->method : ""),
        SVK_STR("path", h->path && req->head_len ? h->path : ""),
        SVK_STR("route", route),
        SVK_INT("status", status),
        SVK_UINT("bytes", req->bytes_out),
        SVK_DUR("duration", dur),
        SVK_STR("request_id", req->request_id),
        SVK_STR("trace_id", trace_id),
        SVK_STR("remote_ip", svk__http_req_remote_ip(req)),
        SVK_STR("error", req->fail_reason),
    };
    size_t n = sizeof attrs / sizeof attrs[0] - (req->fail_reason == NULL);
    svk_log(log, level, "http request", attrs, n);
}

/* Once per request, when its response is written or its connection failed:
 * the hooks' on_request_end, then the access log line. */
void svk__http_finish_log(svk_http_request *req)
{
    const svk_http_server *srv = req->loop->srv;
    const char *route = svk_http_request_route(req);
    int status = req->status_sent > 0 ? req->status_sent : 0;
    int64_t dur = svk_clock_mono_ns() - req->start_ns;
    if (req->hooks_started)
        hooks_end(req, route, status, dur);
    if (srv->logger != NULL && !(srv->opts.flags & SVK_HTTP_SERVER_NO_ACCESS_LOG))
        access_log(req, route, status, dur);
}

/* ---------------------------------------------------------------- CORS */

typedef struct cors {
    void *next; /* the router's list of blocks to free */
    svk_http_cors_options o;
    int any_origin; /* the values are copied right after this struct */
} cors;

static int origin_allowed(const cors *cfg, const char *origin)
{
    if (cfg->any_origin)
        return 1;
    for (size_t i = 0; i < cfg->o.allowed_origin_count; i++)
        if (strcmp(cfg->o.allowed_origins[i], origin) == 0)
            return 1;
    return 0;
}

static int cors_preflight(const cors *cfg, svk_http_response *resp)
{
    char age[24];
    snprintf(age, sizeof age, "%lld", (long long)cfg->o.max_age_seconds);
    svk__http_resp_header_raw(resp, "Access-Control-Allow-Methods", cfg->o.allowed_methods);
    svk__http_resp_header_raw(resp, "Access-Control-Allow-Headers", cfg->o.allowed_headers);
    svk__http_resp_header_raw(resp, "Access-Control-Max-Age", age);
    return svk_http_response_set_status(resp, 204);
}

static int cors_mw(svk_http_request *req, svk_http_response *resp, void *user)
{
    const cors *cfg = user;
    const char *origin = svk_http_request_header(req, "Origin");
    if (origin == NULL || !origin_allowed(cfg, origin))
        return svk_http_next(req, resp);
    int star = cfg->any_origin && !cfg->o.allow_credentials;
    svk__http_resp_header_raw(resp, "Access-Control-Allow-Origin", star ? "*" : origin);
    if (!star)
        svk__http_resp_header_raw(resp, "Vary", "Origin");
    if (cfg->o.allow_credentials)
        svk__http_resp_header_raw(resp, "Access-Control-Allow-Credentials", "true");
    if (strcmp(svk_http_request_method(req), "OPTIONS") == 0 &&
        svk_http_request_header(req, "Access-Control-Request-Method") != NULL)
        return cors_preflight(cfg, resp);
    if (cfg->o.exposed_headers != NULL)
        svk__http_resp_header_raw(resp, "Access-Control-Expose-Headers",
                                  cfg->o.exposed_headers);
    return svk_http_next(req, resp);
}

static int clean_value(const char *s)
{
    for (; s != NULL && *s; s++)
        if ((unsigned char)*s < 0x20 && *s != '\t')
            return 0;
    return 1;
}

static size_t cors_size(const svk_http_cors_options *o)
{
    size_t n = o->allowed_origin_count * sizeof(char *);
    for (size_t i = 0; i < o->allowed_origin_count; i++)
        n += strlen(o->allowed_origins[i]) + 1;
    n += strlen(o->allowed_methods) + strlen(o->allowed_headers) + 2;
    n += o->exposed_headers ? strlen(o->exposed_headers) + 1 : 0;
    return n;
}

static const char *copy_str(char **p, const char *s)
{
    size_t n = strlen(s) + 1;
    memcpy(*p, s, n);
    const char *at = *p;
    *p += n;
    return at;
}

static int cors_valid(const svk_http_cors_options *o)
{
    if (o->allowed_origin_count == 0 || o->allowed_origins == NULL)
        return 0;
    for (size_t i = 0; i < o->allowed_origin_count; i++)
        if (o->allowed_origins[i] == NULL || !clean_value(o->allowed_origins[i]))
            return 0;
    return clean_value(o->allowed_methods) && clean_value(o->allowed_headers) &&
           clean_value(o->exposed_headers) && o->max_age_seconds >= 0;
}

SVK_API int svk_http_router_use_cors(svk_http_router *r, const svk_http_cors_options *opts)
{
    if (r == NULL || opts == NULL || opts->size == 0 || opts->size > sizeof *opts)
        return SVK_EINVAL;
    svk_http_cors_options o = SVK_HTTP_CORS_OPTIONS_INIT;
    memcpy(&o, opts, opts->size);
    o.allowed_methods = o.allowed_methods ? o.allowed_methods : "GET, HEAD, POST";
    o.allowed_headers = o.allowed_headers ? o.allowed_headers : "Content-Type";
    o.max_age_seconds = o.max_age_seconds ? o.max_age_seconds : 600;
    if (!cors_valid(&o))
        return SVK_EINVAL;
    if (r->frozen)
        return SVK_ESTATE;
    cors *cfg = svk_malloc(sizeof *cfg + cors_size(&o));
    if (cfg == NULL)
        return SVK_ENOMEM;
    cfg->any_origin = 0;
    char *p = (char *)(cfg + 1);
    const char **origins = (const char **)(void *)p;
    p += o.allowed_origin_count * sizeof(char *);
    for (size_t i = 0; i < o.allowed_origin_count; i++) {
        origins[i] = copy_str(&p, o.allowed_origins[i]);
        cfg->any_origin |= strcmp(origins[i], "*") == 0;
    }
    cfg->o = o;
    cfg->o.allowed_origins = origins;
    cfg->o.allowed_methods = copy_str(&p, o.allowed_methods);
    cfg->o.allowed_headers = copy_str(&p, o.allowed_headers);
    cfg->o.exposed_headers = o.exposed_headers ? copy_str(&p, o.exposed_headers) : NULL;
    int rc = svk_http_router_use(r, cors_mw, cfg);
    if (rc != 0) {
        svk_free(cfg);
        return rc;
    }
    cfg->next = r->cors;
    r->cors = cfg;
    return 0;
}
