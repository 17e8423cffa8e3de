/*
 * svk-hello — the article's "boring shape of a real HTTP service", in C.
 *
 *   GET  /hello             text, answered on the loop thread
 *   POST /v1/echo           echoes a JSON body (400 bad JSON, 415 not JSON)
 *   GET  /v1/items/{id}     a worker-pool handler, as a database lookup
 *                           would be; ?delay=250ms simulates a slow one and
 *                           gives up when its ctx is cancelled
 *   GET  /healthz /readyz /startupz
 *
 * Configured from the environment (exit status 78 and every error at once
 * when something is wrong): PORT, HTTP_READ_HEADER_TIMEOUT,
 * HTTP_READ_TIMEOUT, HTTP_WRITE_TIMEOUT, HTTP_IDLE_TIMEOUT,
 * HTTP_HANDLER_TIMEOUT, HTTP_BODY_LIMIT, HTTP_THREADS, HTTP_SHUTDOWN_TIMEOUT,
 * LOG_LEVEL, LOG_FORMAT. SIGTERM or SIGINT drains (in-flight requests
 * finish, new connections are refused) and exits 0.
 *
 * Signals are caught by a libuv loop on the main thread; the server's own
 * threads block every signal. The shutdown runner of a later issue will
 * replace this part.
 */
#define _POSIX_C_SOURCE 200809L /* nanosleep; uv.h's pthread types */

#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <uv.h>

#include <svckit/svckit.h>

typedef struct app {
    svk_logger *log;
    svk_http_server *srv;
    int64_t shutdown_ns;
    uv_signal_t sigterm, sigint;
    int exit_code;
} app;

/* ---------------------------------------------------------------- routes */

static int hello(svk_http_request *req, svk_http_response *resp, void *user)
{
    static const char text[] = "hello, world\n";
    (void)req;
    (void)user;
    svk_http_response_add_header(resp, "Content-Type", "text/plain; charset=utf-8");
    return svk_http_response_set_body_static(resp, text, sizeof text - 1);
}

static int echo(svk_http_request *req, svk_http_response *resp, void *user)
{
    json_t *body;
    (void)user;
    if (svk_http_read_json(req, resp, &body) != 0)
        return 0; /* 400 or 415 already set */
    int rc = svk_http_response_json(resp, 200, body);
    json_decref(body);
    return rc;
}

/* Sleep up to ns, in slices, giving up as soon as ctx is done. */
static int wait_on(const svk_ctx *ctx, int64_t ns)
{
    int64_t end = svk_clock_mono_ns() + ns;
    while (svk_clock_mono_ns() < end) {
        int rc = svk_ctx_err(ctx);
        if (rc != 0)
            return rc;
        struct timespec slice = {0, 10 * 1000 * 1000};
        nanosleep(&slice, NULL);
    }
    return 0;
}

static int item(svk_http_request *req, svk_http_response *resp, void *user)
{
    (void)user;
    const char *id = svk_http_request_param(req, "id");
    const char *delay = svk_http_request_query(req, "delay");
    int64_t ns = 0;
    SVK_HTTP_CHECK(req, id != NULL);
    if (delay != NULL && (svk_parse_duration(delay, strlen(delay), &ns, NULL) != 0 ||
                          ns < 0 || ns > 60 * SVK_HTTP_SECOND))
        return svk_http_response_error(resp, 400, "delay must be a duration up to 60s");
    int rc = wait_on(svk_http_request_ctx(req), ns);
    if (rc != 0)
        return rc; /* the deadline passed: the client already has its 503 */
    json_t *v = json_pack("{s:s, s:s}", "id", id, "name", "item");
    if (v == NULL)
        return SVK_ENOMEM;
    rc = svk_http_response_json(resp, 200, v);
    json_decref(v);
    return rc;
}

static int add_routes(svk_http_server *srv)
{
    svk_http_router *r = svk_http_server_router(srv), *v1;
    svk_http_route_options loop = SVK_HTTP_ROUTE_OPTIONS_INIT;
    loop.flags = SVK_HTTP_ROUTE_NONBLOCKING;
    int rc = svk_http_router_handle(r, "GET", "/hello", hello, NULL, &loop);
    if (rc == 0)
        rc = svk_http_router_new(&v1);
    if (rc != 0)
        return rc;
    if ((rc = svk_http_router_handle(v1, "POST", "/echo", echo, NULL, &loop)) != 0 ||
        (rc = svk_http_router_handle(v1, "GET", "/items/{id}", item, NULL, NULL)) != 0 ||
        (rc = svk_http_router_mount_take(r, "/v1", v1)) != 0)
        svk_http_router_free(v1);
    return rc;
}

/* ---------------------------------------------------------------- config */

static int check_level(const char *name, const char *value, size_t len, char *reason,
                       size_t size, void *user)
{
    int level;
    (void)name;
    (void)len;
    (void)user;
    if (svk_log_level_parse(value, &level, NULL) == 0)
        return 0;
    snprintf(reason, size, "must be debug, info, warn or error (optionally +N/-N)");
    return -1;
}

static svk_config *load_config(void)
{
    static const char *const formats[] = {"json", "text", NULL};
    const int64_t h = 3600 * SVK_HTTP_SECOND, ms = SVK_HTTP_MILLISECOND;
    svk_config *c = NULL;
    svk_config_new(&c, NULL, NULL);
    svk_config_add_int64(c, "PORT", "8080", 0, 65535, 0, "TCP port (0: any free port)");
    svk_config_add_duration(c, "HTTP_READ_HEADER_TIMEOUT", "5s", ms, h, 0, "request head");
    svk_config_add_duration(c, "HTTP_READ_TIMEOUT", "30s", ms, h, 0, "request body");
    svk_config_add_duration(c, "HTTP_WRITE_TIMEOUT", "30s", ms, h, 0, "response");
    svk_config_add_duration(c, "HTTP_IDLE_TIMEOUT", "120s", ms, h, 0, "keep-alive idle");
    svk_config_add_duration(c, "HTTP_HANDLER_TIMEOUT", "15s", ms, h, 0, "handler deadline");
    svk_config_add_duration(c, "HTTP_SHUTDOWN_TIMEOUT", "30s", 0, h, 0, "drain on SIGTERM");
    svk_config_add_bytes(c, "HTTP_BODY_LIMIT", "1MiB", 1, (uint64_t)1 << 30, 0,
                         "request body limit");
    svk_config_add_int64(c, "HTTP_THREADS", "0", 0, 256, 0, "loop threads (0: CPU quota)");
    svk_config_add_string(c, "LOG_LEVEL", "info", 0, "debug, info, warn, error");
    svk_config_set_validator(c, "LOG_LEVEL", check_level, NULL);
    svk_config_add_enum(c, "LOG_FORMAT", "json", formats, 0, "json or text");
    svk_config_load_or_exit(c);
    return c;
}

static int make_logger(const svk_config *c, svk_logger **out)
{
    svk_log_options o = SVK_LOG_OPTIONS_INIT;
    const char *level;
    size_t format;
    svk_config_get_string(c, "LOG_LEVEL", &level);
    svk_config_get_enum(c, "LOG_FORMAT", &format, NULL);
    svk_log_level_parse(level, &o.level, NULL);
    o.format = format == 1 ? SVK_LOG_TEXT : SVK_LOG_JSON;
    return svk_logger_new(out, &o, NULL);
}

static int make_server(app *a, const svk_config *c)
{
    svk_http_server_options o = SVK_HTTP_SERVER_OPTIONS_INIT;
    int64_t port, threads;
    svk_config_get_int64(c, "PORT", &port);
    svk_config_get_int64(c, "HTTP_THREADS", &threads);
    svk_config_get_duration(c, "HTTP_READ_HEADER_TIMEOUT", &o.read_header_timeout);
    svk_config_get_duration(c, "HTTP_READ_TIMEOUT", &o.read_timeout);
    svk_config_get_duration(c, "HTTP_WRITE_TIMEOUT", &o.write_timeout);
    svk_config_get_duration(c, "HTTP_IDLE_TIMEOUT", &o.idle_timeout);
    svk_config_get_duration(c, "HTTP_HANDLER_TIMEOUT", &o.handler_timeout);
    svk_config_get_duration(c, "HTTP_SHUTDOWN_TIMEOUT", &a->shutdown_ns);
    svk_config_get_bytes(c, "HTTP_BODY_LIMIT", &o.body_limit);
    o.port = (int)port;
    o.threads = (int)threads;
    o.logger = a->log;
    svk_error err;
    int rc = svk_http_server_new(&a->srv, &o, &err);
    if (rc != 0) {
        svk_log_error(a->log, "http server", SVK_STR("error", err.message));
        return rc;
    }
    rc = add_routes(a->srv);
    if (rc == 0)
        rc = svk_http_server_start(a->srv);
    if (rc != 0)
        svk_log_error(a->log, "http server start", SVK_ERR("error", rc),
                      SVK_STR("detail", svk_http_server_last_error(a->srv)));
    return rc;
}

/* --------------------------------------------------------------- signals */

static void on_signal(uv_signal_t *s, int signum)
{
    app *a = s->data;
    svk_log_info(a->log, "draining", SVK_INT("signal", signum),
                 SVK_DUR("timeout", a->shutdown_ns));
    int rc = svk_http_server_drain(a->srv, svk_clock_mono_ns() + a->shutdown_ns);
    if (rc != 0)
        svk_log_warn(a->log, "drain deadline passed: connections were cut",
                     SVK_ERR("error", rc));
    a->exit_code = rc == 0 ? 0 : 1;
    uv_close((uv_handle_t *)&a->sigterm, NULL);
    uv_close((uv_handle_t *)&a->sigint, NULL);
}

static int wait_for_signal(app *a)
{
    uv_loop_t loop;
    if (uv_loop_init(&loop) != 0)
        return 1;
    uv_signal_init(&loop, &a->sigterm);
    uv_signal_init(&loop, &a->sigint);
    a->sigterm.data = a->sigint.data = a;
    uv_signal_start(&a->sigterm, on_signal, SIGTERM);
    uv_signal_start(&a->sigint, on_signal, SIGINT);
    uv_run(&loop, UV_RUN_DEFAULT);
    uv_loop_close(&loop);
    return a->exit_code;
}

int main(void)
{
    app a = {0};
    svk_config *c = load_config();
    if (make_logger(c, &a.log) != 0) {
        fprintf(stderr, "svk-hello: cannot make the logger\n");
        return 1;
    }
    svk_log_config(a.log, c);
    int rc = make_server(&a, c);
    if (rc == 0) {
        svk_http_server_set_started(a.srv);
        svk_log_info(a.log, "listening", SVK_INT("port", svk_http_server_port(a.srv)));
        rc = wait_for_signal(&a);
        svk_log_info(a.log, "stopped", SVK_INT("exit", rc));
    }
    svk_http_server_free(a.srv);
    svk_logger_free(a.log);
    svk_config_free(c);
    return rc == 0 ? 0 : 1;
}
