/*
 * middleware_test.c — what runs around handlers: the request id (honoured
 * or made, echoed, in the ctx and the bound logger), the real IP (only from
 * trusted proxies), the recoverer (errors and failed checks become a 500
 * JSON answer with the request id), middleware order across mounts and
 * short-circuits, the hooks (metrics/tracing seam) and the access log line,
 * JSON bodies (400, 415), CORS, and the 503 of a full worker queue.
 */
#include <criterion/criterion.h>
#include <jansson.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "peer.h"
#include "svckit/log.h"

static svk_http_server *srv;
static int port;

/* ------------------------------------------------------------ handlers */

static int show_ids(svk_http_request *req, svk_http_response *resp, void *user)
{
    (void)user;
    char body[512];
    svk_ctx *ctx = svk_http_request_ctx(req);
    svk_log_info(svk_ctx_logger(ctx), "inside the handler");
    snprintf(body, sizeof body, "id=%s ctx=%s ip=%s peer=%s", svk_http_request_id(req),
             svk_ctx_request_id(ctx), svk_http_request_remote_ip(req),
             svk_http_request_peer_ip(req));
    return svk_http_response_text(resp, 200, body);
}

static int fails(svk_http_request *req, svk_http_response *resp, void *user)
{
    (void)req;
    (void)user;
    svk_http_response_text(resp, 200, "half an answer");
    return SVK_EIO;
}

static int checks(svk_http_request *req, svk_http_response *resp, void *user)
{
    (void)user;
    const char *q = svk_http_request_query(req, "n");
    SVK_HTTP_CHECK(req, q != NULL && atoi(q) > 0);
    return svk_http_response_text(resp, 200, "positive");
}

static int own_error(svk_http_request *req, svk_http_response *resp, void *user)
{
    (void)req;
    (void)user;
    svk_http_response_error(resp, 404, "no such order");
    return SVK_ENOENT;
}

static int json_echo(svk_http_request *req, svk_http_response *resp, void *user)
{
    (void)user;
    json_t *v;
    if (svk_http_read_json(req, resp, &v) != 0)
        return 0;
    int rc = svk_http_response_json(resp, 201, v);
    json_decref(v);
    return rc;
}

static int plain(svk_http_request *req, svk_http_response *resp, void *user)
{
    (void)req;
    return svk_http_response_text(resp, 200, user ? user : "ok");
}

static atomic_int sleepy_started;

static int sleepy(svk_http_request *req, svk_http_response *resp, void *user)
{
    (void)req;
    (void)user;
    atomic_fetch_add(&sleepy_started, 1);
    struct timespec ts = {0, 300 * 1000 * 1000};
    nanosleep(&ts, NULL);
    return svk_http_response_text(resp, 200, "slept");
}

/* --------------------------------------------------------- middleware */

static int tag(svk_http_request *req, svk_http_response *resp, void *user)
{
    char after[32];
    svk_http_response_add_header(resp, "X-Before", user);
    int rc = svk_http_next(req, resp);
    snprintf(after, sizeof after, "%s:%d", (const char *)user, svk_http_response_status(resp));
    svk_http_response_add_header(resp, "X-After", after);
    return rc;
}

static int guard(svk_http_request *req, svk_http_response *resp, void *user)
{
    (void)user;
    if (svk_http_request_header(req, "Authorization") == NULL)
        return svk_http_response_error(resp, 401, "who are you");
    return svk_http_next(req, resp);
}

/* --------------------------------------------------------------- hooks */

static atomic_int starts, ends, end_status;
static char end_route[128];
static atomic_llong end_bytes, end_duration;
static int hook_slot = 42;

static void on_start(svk_http_request *req, void *user)
{
    (void)user;
    static const uint8_t trace[16] = {0x4b, 0xf9, 0x2f, 0x35, 0x77, 0xb3, 0x4d, 0xa6,
                                      0xa3, 0xce, 0x92, 0x9d, 0x0e, 0x0e, 0x47, 0x36};
    static const uint8_t span[8] = {0x00, 0xf0, 0x67, 0xaa, 0x0b, 0xa9, 0x02, 0xb7};
    if (svk_http_request_header(req, "X-Trace-Me") != NULL)
        svk_ctx_set_trace(svk_http_request_ctx(req), trace, span, 1);
    svk_http_request_set_hook_data(req, &hook_slot);
    atomic_fetch_add(&starts, 1);
}

static void on_end(svk_http_request *req, const char *route, int status, uint64_t bytes,
                   int64_t duration_ns, void *user)
{
    (void)user;
    cr_assert_eq(svk_http_request_hook_data(req), &hook_slot);
    snprintf(end_route, sizeof end_route, "%s", route ? route : "(none)");
    atomic_store(&end_status, status);
    atomic_store(&end_bytes, (long long)bytes);
    atomic_store(&end_duration, (long long)duration_ns);
    atomic_fetch_add(&ends, 1);
}

/* -------------------------------------------------------------- server */

static void start_with(svk_http_server_options *o)
{
    cr_assert_eq(svk_http_server_new(&srv, o, NULL), 0);
    svk_http_hooks hooks = SVK_HTTP_HOOKS_INIT;
    hooks.on_request_start = on_start;
    hooks.on_request_end = on_end;
    cr_assert_eq(svk_http_server_add_hooks(srv, &hooks), 0);
    svk_http_router *r = svk_http_server_router(srv), *v1, *admin;
    cr_assert_eq(svk_http_router_use(r, tag, "root"), 0);
    cr_assert_eq(svk_http_router_handle(r, "GET", "/ids", show_ids, NULL, NULL), 0);
    cr_assert_eq(svk_http_router_handle(r, "GET", "/fails", fails, NULL, NULL), 0);
    cr_assert_eq(svk_http_router_handle(r, "GET", "/checks", checks, NULL, NULL), 0);
    cr_assert_eq(svk_http_router_handle(r, "GET", "/own-error", own_error, NULL, NULL), 0);
    cr_assert_eq(svk_http_router_handle(r, "POST", "/json", json_echo, NULL, NULL), 0);
    cr_assert_eq(svk_http_router_handle(r, "GET", "/sleepy", sleepy, NULL, NULL), 0);
    cr_assert_eq(svk_http_router_new(&v1), 0);
    cr_assert_eq(svk_http_router_use(v1, tag, "v1"), 0);
    cr_assert_eq(svk_http_router_handle(v1, "GET", "/orders/{id}", plain, "order", NULL), 0);
    cr_assert_eq(svk_http_router_new(&admin), 0);
    cr_assert_eq(svk_http_router_use(admin, guard, NULL), 0);
    cr_assert_eq(svk_http_router_handle(admin, "GET", "/", plain, "admin", NULL), 0);
    cr_assert_eq(svk_http_router_mount_take(v1, "/admin", admin), 0);
    cr_assert_eq(svk_http_router_mount_take(r, "/v1", v1), 0);
    svk_http_router *cors_r;
    cr_assert_eq(svk_http_router_new(&cors_r), 0);
    const char *origins[] = {"https://app.example"};
    svk_http_cors_options co = SVK_HTTP_CORS_OPTIONS_INIT;
    co.allowed_origins = origins;
    co.allowed_origin_count = 1;
    co.allowed_methods = "GET, PUT";
    co.allowed_headers = "Content-Type, Authorization";
    co.exposed_headers = "X-Total";
    co.allow_credentials = 1;
    cr_assert_eq(svk_http_router_use_cors(cors_r, &co), 0);
    cr_assert_eq(svk_http_router_handle(cors_r, "PUT", "/thing", plain, "put", NULL), 0);
    cr_assert_eq(svk_http_router_mount_take(r, "/cors", cors_r), 0);
    port = ts_start(srv);
    cr_assert_gt(port, 0, "%s", ts_error);
}

static void start(void)
{
    svk_http_server_options o = ts_options();
    start_with(&o);
}

static void stop(void)
{
    svk_http_server_free(srv);
    srv = NULL;
}

TestSuite(mw, .init = start, .fini = stop);

static ts_resp get(const char *raw)
{
    ts_resp r;
    cr_assert_eq(ts_exchange(port, raw, &r), 0, "%s", ts_error);
    return r;
}

/* ---------------------------------------------------------- request id */

Test(mw, a_valid_request_id_is_honoured_and_echoed)
{
    ts_resp r = get("GET /ids HTTP/1.1\r\nHost: t\r\nX-Request-Id: abc-123_X\r\n\r\n");
    cr_assert_str_eq(ts_header(&r, "X-Request-Id"), "abc-123_X");
    cr_assert(strstr(r.body, "id=abc-123_X ctx=abc-123_X") != NULL, "%s", r.body);
    ts_resp_free(&r);
    char *log = ts_log_text();
    cr_assert(strstr(log, "\"msg\":\"inside the handler\",\"request_id\":\"abc-123_X\"") != NULL,
              "the ctx's logger carries the id: %s", log);
    free(log);
}

Test(mw, an_invalid_request_id_is_replaced_by_a_uuidv7)
{
    char big[300], req[512];
    memset(big, 'a', 129);
    big[129] = '\0';
    const char *bad[] = {big, "caf\xc3\xa9", "a\"b c"};
    for (size_t i = 0; i < 3; i++) {
        snprintf(req, sizeof req, "GET /ids HTTP/1.1\r\nHost: t\r\nX-Request-Id: %s\r\n\r\n",
                 bad[i]);
        ts_resp r = get(req);
        svk_uuid u;
        const char *id = ts_header(&r, "X-Request-Id");
        cr_assert_eq(svk_uuid_parse(id, strlen(id), &u, NULL), 0, "%s", id);
        ts_resp_free(&r);
    }
    memset(big, 'b', 128);
    big[128] = '\0';
    snprintf(req, sizeof req, "GET /ids HTTP/1.1\r\nHost: t\r\nX-Request-Id: %s\r\n\r\n", big);
    ts_resp r = get(req);
    cr_assert_str_eq(ts_header(&r, "X-Request-Id"), big, "128 characters are allowed");
    ts_resp_free(&r);
}

/* ------------------------------------------------------------- real IP */

Test(mw, forwarding_headers_are_ignored_from_untrusted_peers)
{
    ts_resp r = get("GET /ids HTTP/1.1\r\nHost: t\r\nX-Forwarded-For: 203.0.113.7\r\n"
                    "X-Real-IP: 198.51.100.1\r\n\r\n");
    cr_assert(strstr(r.body, "ip=127.0.0.1 peer=127.0.0.1") != NULL, "%s", r.body);
    ts_resp_free(&r);
}

Test(mw_proxy, forwarding_headers_count_from_trusted_proxies, .fini = stop)
{
    const char *proxies[] = {"127.0.0.0/8", "10.0.0.0/8", "::1"};
    svk_http_server_options o = ts_options();
    o.trusted_proxies = proxies;
    o.trusted_proxy_count = 3;
    start_with(&o);
    static const struct {
        const char *fields, *ip;
    } cases[] = {
        {"X-Forwarded-For: 203.0.113.7\r\n", "203.0.113.7"},
        {"X-Forwarded-For: 203.0.113.7, 10.1.2.3\r\n", "203.0.113.7"},
        {"X-Forwarded-For: 198.51.100.9, 203.0.113.7, 10.1.2.3\r\n", "203.0.113.7"},
        {"X-Forwarded-For: 198.51.100.9\r\nX-Forwarded-For: 10.0.0.1\r\n", "198.51.100.9"},
        {"X-Forwarded-For: 10.0.0.2, 10.0.0.1\r\n", "10.0.0.2"},
        {"X-Forwarded-For: 2001:db8::1\r\n", "2001:db8::1"},
        {"X-Real-IP: 198.51.100.1\r\n", "198.51.100.1"},
        {"X-Forwarded-For: not-an-ip\r\n", "127.0.0.1"},
        {"X-Forwarded-For: 203.0.113.7, junk\r\n", "127.0.0.1"},
        {"", "127.0.0.1"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char req[512], want[128];
        snprintf(req, sizeof req, "GET /ids HTTP/1.1\r\nHost: t\r\n%s\r\n", cases[i].fields);
        snprintf(want, sizeof want, "ip=%s peer=127.0.0.1", cases[i].ip);
        ts_resp r = get(req);
        cr_assert(strstr(r.body, want) != NULL, "%s-> %s", cases[i].fields, r.body);
        ts_resp_free(&r);
    }
}

/* ------------------------------------------------------------ recoverer */

Test(mw, a_handler_error_becomes_a_500_with_the_request_id)
{
    ts_resp r = get("GET /fails HTTP/1.1\r\nHost: t\r\nX-Request-Id: boom-1\r\n\r\n");
    cr_assert_eq(r.status, 500);
    cr_assert_str_eq(r.body, "{\"error\":\"internal server error\",\"status\":500,"
                             "\"request_id\":\"boom-1\"}\n");
    cr_assert_str_eq(ts_header(&r, "Content-Type"), "application/json");
    ts_resp_free(&r);
    char *log = ts_log_text();
    cr_assert(strstr(log, "\"msg\":\"http handler failed\"") != NULL, "%s", log);
    cr_assert(strstr(log, "SVK_EIO") != NULL, "%s", log);
    free(log);
    r = get("GET /ids HTTP/1.1\r\nHost: t\r\n\r\n");
    cr_assert_eq(r.status, 200, "the server goes on");
    ts_resp_free(&r);
}

Test(mw, a_failed_check_becomes_a_500_and_a_log_line)
{
    ts_resp r = get("GET /checks?n=-1 HTTP/1.1\r\nHost: t\r\nX-Request-Id: chk\r\n\r\n");
    cr_assert_eq(r.status, 500);
    cr_assert(strstr(r.body, "\"request_id\":\"chk\"") != NULL);
    ts_resp_free(&r);
    char *log = ts_log_text();
    cr_assert(strstr(log, "\"check\":\"q != NULL && atoi(q) > 0\"") != NULL, "%s", log);
    cr_assert(strstr(log, "middleware_test.c") != NULL);
    free(log);
    r = get("GET /checks?n=3 HTTP/1.1\r\nHost: t\r\n\r\n");
    cr_assert_eq(r.status, 200);
    ts_resp_free(&r);
}

Test(mw, an_error_the_handler_answered_itself_is_kept)
{
    ts_resp r = get("GET /own-error HTTP/1.1\r\nHost: t\r\n\r\n");
    cr_assert_eq(r.status, 404);
    cr_assert(strstr(r.body, "no such order") != NULL);
    ts_resp_free(&r);
}

/* ----------------------------------------------------------- the chain */

Test(mw, middleware_runs_outer_first_and_unwinds)
{
    ts_resp r = get("GET /v1/orders/9 HTTP/1.1\r\nHost: t\r\n\r\n");
    cr_assert_eq(r.status, 200);
    const char *before = strstr(r.head, "X-Before: root\r\nX-Before: v1\r\n");
    const char *after = strstr(r.head, "X-After: v1:200\r\nX-After: root:200\r\n");
    cr_assert(before != NULL && after != NULL && before < after, "%s", r.head);
    ts_resp_free(&r);
}

Test(mw, a_middleware_may_answer_without_calling_next)
{
    ts_resp r = get("GET /v1/admin HTTP/1.1\r\nHost: t\r\n\r\n");
    cr_assert_eq(r.status, 401);
    cr_assert(strstr(r.head, "X-After: v1:401") != NULL, "outer middleware sees it: %s", r.head);
    ts_resp_free(&r);
    r = get("GET /v1/admin/ HTTP/1.1\r\nHost: t\r\nAuthorization: yes\r\n\r\n");
    cr_assert_eq(r.status, 200);
    cr_assert_str_eq(r.body, "admin");
    ts_resp_free(&r);
}

Test(mw, not_found_passes_the_root_chain)
{
    ts_resp r = get("GET /nowhere HTTP/1.1\r\nHost: t\r\n\r\n");
    cr_assert_eq(r.status, 404);
    cr_assert(strstr(r.head, "X-After: root:404") != NULL, "%s", r.head);
    ts_resp_free(&r);
}

/* ------------------------------------------------------- hooks and logs */

Test(mw, hooks_see_route_status_bytes_duration_and_keep_state)
{
    ts_resp r = get("GET /v1/orders/5 HTTP/1.1\r\nHost: t\r\n\r\n");
    ts_resp_free(&r);
    for (int i = 0; i < 200 && atomic_load(&ends) == 0; i++) {
        struct timespec ts = {0, 5000000};
        nanosleep(&ts, NULL);
    }
    cr_assert_eq(atomic_load(&starts), 1);
    cr_assert_eq(atomic_load(&ends), 1);
    cr_assert_str_eq(end_route, "/v1/orders/{id}");
    cr_assert_eq(atomic_load(&end_status), 200);
    cr_assert_gt(atomic_load(&end_bytes), 100);
    cr_assert_gt(atomic_load(&end_duration), 0);
}

Test(mw, the_access_log_line_has_every_field)
{
    ts_resp r = get("GET /v1/orders/5?x=1 HTTP/1.1\r\nHost: t\r\nX-Request-Id: log-1\r\n"
                    "X-Trace-Me: 1\r\n\r\n");
    ts_resp_free(&r);
    struct timespec ts = {0, 50000000};
    nanosleep(&ts, NULL);
    char *log = ts_log_text();
    const char *line = strstr(log, "\"msg\":\"http request\"");
    cr_assert_not_null(line, "%s", log);
    static const char *const want[] = {
        "\"method\":\"GET\"", "\"path\":\"/v1/orders/5\"", "\"route\":\"/v1/orders/{id}\"",
        "\"status\":200", "\"bytes\":", "\"duration\":", "\"request_id\":\"log-1\"",
        "\"trace_id\":\"4bf92f3577b34da6a3ce929d0e0e4736\"", "\"remote_ip\":\"127.0.0.1\""};
    const char *eol = strchr(line, '\n');
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        const char *at = strstr(line, want[i]);
        cr_assert(at != NULL && at < eol, "%s not in %.*s", want[i], (int)(eol - line), line);
    }
    free(log);
}

/* ---------------------------------------------------------------- JSON */

Test(mw, json_bodies)
{
    ts_resp r = get("POST /json HTTP/1.1\r\nHost: t\r\nContent-Type: application/json; "
                    "charset=utf-8\r\nContent-Length: 15\r\n\r\n{\"a\": [1, 2.5]}");
    cr_assert_eq(r.status, 201);
    cr_assert_str_eq(r.body, "{\"a\":[1,2.5]}");
    ts_resp_free(&r);
    r = get("POST /json HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n"
            "Content-Length: 8\r\n\r\n{\"a\": 1,");
    cr_assert_eq(r.status, 400);
    cr_assert(strstr(r.body, "invalid JSON") != NULL && strstr(r.body, "line 1") != NULL, "%s",
              r.body);
    ts_resp_free(&r);
    r = get("POST /json HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n"
            "Content-Length: 0\r\n\r\n");
    cr_assert_eq(r.status, 400);
    cr_assert(strstr(r.body, "empty body") != NULL, "%s", r.body);
    ts_resp_free(&r);
    r = get("POST /json HTTP/1.1\r\nHost: t\r\nContent-Type: text/plain\r\n"
            "Content-Length: 2\r\n\r\n{}");
    cr_assert_eq(r.status, 415);
    ts_resp_free(&r);
    r = get("POST /json HTTP/1.1\r\nHost: t\r\nContent-Length: 2\r\n\r\n{}");
    cr_assert_eq(r.status, 415, "no Content-Type");
    ts_resp_free(&r);
    r = get("POST /json HTTP/1.1\r\nHost: t\r\nContent-Type: application/problem+json\r\n"
            "Content-Length: 13\r\n\r\n{\"a\":1,\"a\":2}");
    cr_assert_eq(r.status, 400, "duplicate keys are refused");
    ts_resp_free(&r);
}

/* ---------------------------------------------------------------- CORS */

Test(mw, cors_preflight_and_simple_requests)
{
    ts_resp r = get("OPTIONS /cors/thing HTTP/1.1\r\nHost: t\r\nOrigin: https://app.example\r\n"
                    "Access-Control-Request-Method: PUT\r\n\r\n");
    cr_assert_eq(r.status, 204);
    cr_assert_str_eq(ts_header(&r, "Access-Control-Allow-Origin"), "https://app.example");
    cr_assert_str_eq(ts_header(&r, "Access-Control-Allow-Methods"), "GET, PUT");
    cr_assert_str_eq(ts_header(&r, "Access-Control-Allow-Headers"), "Content-Type, Authorization");
    cr_assert_str_eq(ts_header(&r, "Access-Control-Allow-Credentials"), "true");
    cr_assert_str_eq(ts_header(&r, "Access-Control-Max-Age"), "600");
    cr_assert_str_eq(ts_header(&r, "Vary"), "Origin");
    ts_resp_free(&r);
    r = get("PUT /cors/thing HTTP/1.1\r\nHost: t\r\nOrigin: https://app.example\r\n"
            "Content-Length: 0\r\n\r\n");
    cr_assert_eq(r.status, 200);
    cr_assert_str_eq(ts_header(&r, "Access-Control-Allow-Origin"), "https://app.example");
    cr_assert_str_eq(ts_header(&r, "Access-Control-Expose-Headers"), "X-Total");
    ts_resp_free(&r);
    r = get("PUT /cors/thing HTTP/1.1\r\nHost: t\r\nOrigin: https://evil.example\r\n"
            "Content-Length: 0\r\n\r\n");
    cr_assert_eq(r.status, 200);
    cr_assert_null(ts_header(&r, "Access-Control-Allow-Origin"));
    ts_resp_free(&r);
}

/* --------------------------------------------------------- worker queue */

typedef struct caller {
    pthread_t t;
    int status;
} caller;

static void *call_sleepy(void *arg)
{
    caller *c = arg;
    ts_resp r;
    c->status = ts_exchange(port, "GET /sleepy HTTP/1.1\r\nHost: t\r\n\r\n", &r) == 0 ? r.status
                                                                                   : -1;
    ts_resp_free(&r);
    return NULL;
}

Test(mw_queue, a_full_worker_queue_answers_503, .fini = stop)
{
    svk_http_server_options o = ts_options();
    o.worker_threads = 1;
    o.worker_queue = 1;
    start_with(&o);
    caller c[4];
    /* The first request must be running (out of the queue) before the
     * others arrive, or it would itself fill the one queue slot. */
    pthread_create(&c[0].t, NULL, call_sleepy, &c[0]);
    for (int waited = 0; atomic_load(&sleepy_started) == 0 && waited < 2000; waited++) {
        struct timespec ms = {0, 1000 * 1000};
        nanosleep(&ms, NULL);
    }
    for (int i = 1; i < 4; i++)
        pthread_create(&c[i].t, NULL, call_sleepy, &c[i]);
    int ok = 0, busy = 0;
    for (int i = 0; i < 4; i++) {
        pthread_join(c[i].t, NULL);
        ok += c[i].status == 200;
        busy += c[i].status == 503;
    }
    cr_assert_eq(ok + busy, 4);
    cr_assert_geq(ok, 2, "one running, one queued");
    cr_assert_geq(busy, 1);
    svk_http_stats st = SVK_HTTP_STATS_INIT;
    svk_http_server_stats(srv, &st);
    cr_assert_eq(st.worker_rejections, (uint64_t)busy);
}
