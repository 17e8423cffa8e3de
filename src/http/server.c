/*
 * server.c — the server object: options and their defaults, the
 * configuration calls made before start (hooks, checks), start (listening
 * sockets, loop and worker threads), readiness flags, counters.
 *
 * Start binds one socket per loop with SO_REUSEADDR and SO_REUSEPORT on the
 * same address (the first picks the port when 0 was asked for), hands each
 * to its loop (uv_tcp_open: libuv 1.44 has no UV_TCP_REUSEPORT) and only
 * then starts threads, so every bind error is returned to the caller. Stop
 * is drain.c.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "http/server.h"

#define MS(ns) ((uint64_t)(ns) / 1000000u > 0 ? (uint64_t)(ns) / 1000000u : 1)

void svk__http_server_set_error(svk_http_server *srv, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(srv->last_error, sizeof srv->last_error, fmt, ap);
    va_end(ap);
}

static int fail(svk_error *err, int code, const char *msg)
{
    if (err != NULL) {
        err->code = code;
        snprintf(err->message, sizeof err->message, "%s", msg);
    }
    return code;
}

/* ------------------------------------------------------------- options */

static int duration(int64_t *v, int64_t def)
{
    if (*v == 0)
        *v = def;
    return *v > 0 || *v == SVK_HTTP_TIMEOUT_OFF;
}

static uint64_t to_ms(int64_t ns)
{
    return ns == SVK_HTTP_TIMEOUT_OFF ? SVK__HTTP_NEVER : MS(ns);
}

#define DEFAULT(field, value) ((field) = (field) ? (field) : (value))

/* Fill zero fields with defaults; 0 when every value is in range. */
static const char *options_defaults(svk_http_server_options *o)
{
    if (o->port < 0 || o->port > 65535)
        return "port must be 0..65535";
    if (o->threads < 0 || o->threads > 256 || o->worker_threads < 0 ||
        o->worker_threads > 4096 || o->backlog < 0)
        return "threads, worker_threads or backlog out of range";
    DEFAULT(o->threads, svk__http_cpus_available());
    DEFAULT(o->worker_threads, o->threads * 8 > 4 ? o->threads * 8 : 4);
    DEFAULT(o->worker_queue, 1024);
    DEFAULT(o->backlog, 1024);
    DEFAULT(o->max_connections, 10000);
    DEFAULT(o->max_requests_per_conn, 1000);
    DEFAULT(o->min_body_rate, 1024);
    DEFAULT(o->body_limit, 1048576);
    DEFAULT(o->drain_body_max, 65536);
    DEFAULT(o->request_line_max, 8192);
    DEFAULT(o->header_block_max, 65536);
    DEFAULT(o->headers_max, 100);
    if (!duration(&o->read_header_timeout, 5 * SVK_HTTP_SECOND) ||
        !duration(&o->read_timeout, 30 * SVK_HTTP_SECOND) ||
        !duration(&o->write_timeout, 30 * SVK_HTTP_SECOND) ||
        !duration(&o->idle_timeout, 120 * SVK_HTTP_SECOND) ||
        !duration(&o->handler_timeout, 15 * SVK_HTTP_SECOND) ||
        !duration(&o->min_body_rate_grace, 5 * SVK_HTTP_SECOND))
        return "a timeout is negative (use SVK_HTTP_TIMEOUT_OFF to disable one)";
    return NULL;
}

static char *dup_str(const char *s)
{
    size_t n = strlen(s) + 1;
    char *d = svk_malloc(n);
    if (d != NULL)
        memcpy(d, s, n);
    return d;
}

static const char *copy_strings(svk_http_server *srv, const svk_http_server_options *o)
{
    const char *paths[3] = {o->healthz_path ? o->healthz_path : "/healthz",
                            o->readyz_path ? o->readyz_path : "/readyz",
                            o->startupz_path ? o->startupz_path : "/startupz"};
    for (int i = 0; i < 3; i++)
        if (paths[i][0] != '/')
            return "probe paths must start with '/'";
    srv->host = dup_str(o->host ? o->host : "0.0.0.0");
    srv->healthz = dup_str(paths[0]);
    srv->readyz = dup_str(paths[1]);
    srv->startupz = dup_str(paths[2]);
    if (!srv->host || !srv->healthz || !srv->readyz || !srv->startupz)
        return "out of memory";
    uint8_t probe[16];
    if (inet_pton(AF_INET, srv->host, probe) != 1 && inet_pton(AF_INET6, srv->host, probe) != 1)
        return "host must be a numeric IPv4 or IPv6 address";
    return NULL;
}

static const char *parse_proxies(svk_http_server *srv, const svk_http_server_options *o)
{
    if (o->trusted_proxy_count == 0)
        return NULL;
    if (o->trusted_proxies == NULL)
        return "trusted_proxies is NULL";
    srv->proxies = svk_malloc(o->trusted_proxy_count * sizeof *srv->proxies);
    if (srv->proxies == NULL)
        return "out of memory";
    for (size_t i = 0; i < o->trusted_proxy_count; i++)
        if (o->trusted_proxies[i] == NULL ||
            svk__http_cidr_parse(o->trusted_proxies[i], &srv->proxies[i]) != 0)
            return "a trusted proxy is not an address or CIDR";
    srv->nproxies = o->trusted_proxy_count;
    return NULL;
}

static void derive(svk_http_server *srv)
{
    const svk_http_server_options *o = &srv->opts;
    svk__http_limits l = SVK__HTTP_LIMITS_DEFAULT;
    l.request_line_max = o->request_line_max;
    l.header_block_max = o->header_block_max;
    l.headers_max = o->headers_max;
    l.body_max = o->body_limit;
    srv->limits = l;
    srv->defaults.flags = 0;
    srv->defaults.body_limit = o->body_limit;
    srv->defaults.read_ms = to_ms(o->read_timeout);
    srv->defaults.write_ms = to_ms(o->write_timeout);
    srv->defaults.handler_ms = to_ms(o->handler_timeout);
    srv->defaults.min_rate = o->min_body_rate_grace == SVK_HTTP_TIMEOUT_OFF ? 0 : o->min_body_rate;
    srv->read_header_ms = to_ms(o->read_header_timeout);
    srv->idle_ms = to_ms(o->idle_timeout);
    srv->rate_grace_ms = to_ms(o->min_body_rate_grace);
    srv->linger_ms = srv->read_header_ms < 2000 ? srv->read_header_ms : 2000;
    srv->linger_clean_ms = srv->linger_ms < 500 ? srv->linger_ms : 500;
}

static const char *configure(svk_http_server *srv, const svk_http_server_options *opts)
{
    svk_http_server_options o = SVK_HTTP_SERVER_OPTIONS_INIT;
    memcpy(&o, opts, opts->size);
    const char *why = options_defaults(&o);
    if (why == NULL)
        why = copy_strings(srv, &o);
    if (why == NULL)
        why = parse_proxies(srv, &o);
    o.size = sizeof o;
    o.host = srv->host;
    o.healthz_path = srv->healthz;
    o.readyz_path = srv->readyz;
    o.startupz_path = srv->startupz;
    o.trusted_proxies = NULL;
    srv->opts = o;
    srv->logger = o.logger;
    if (why == NULL) {
        derive(srv);
        if (svk__http_limits_check(&srv->limits) != 0)
            why = "a request size limit is out of range";
    }
    return why;
}

/* ----------------------------------------------------------- life cycle */

SVK_API int svk_http_server_new(svk_http_server **out, const svk_http_server_options *opts,
                                svk_error *err)
{
    if (out == NULL || opts == NULL || opts->size == 0 || opts->size > sizeof *opts)
        return fail(err, SVK_EINVAL, "out or opts NULL, or a bad opts->size");
    *out = NULL;
    svk_http_server *srv = svk_malloc(sizeof *srv);
    if (srv == NULL)
        return fail(err, SVK_ENOMEM, "out of memory");
    memset(srv, 0, sizeof *srv);
    pthread_mutex_init(&srv->lock, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&srv->cond, &ca);
    pthread_condattr_destroy(&ca);
    atomic_init(&srv->ready_gate, 1);
    const char *why = configure(srv, opts);
    int rc = why == NULL ? svk_http_router_new(&srv->root)
             : strcmp(why, "out of memory") == 0 ? SVK_ENOMEM
                                                 : SVK_EINVAL;
    if (rc != 0) {
        svk_http_server_free(srv);
        return fail(err, rc, why ? why : "out of memory");
    }
    *out = srv;
    return 0;
}

static void free_loops(svk_http_server *srv)
{
    for (int i = 0; i < srv->nloops; i++)
        svk__http_loop_destroy(&srv->loops[i]);
    svk_free(srv->loops);
    srv->loops = NULL;
    srv->nloops = 0;
}

SVK_API void svk_http_server_free(svk_http_server *srv)
{
    if (srv == NULL)
        return;
    if (atomic_load(&srv->state) != SVK__HTTP_NEW)
        svk_http_server_drain(srv, 0);
    free_loops(srv);
    svk_http_router_free(srv->root);
    for (size_t i = 0; i < srv->nchecks; i++)
        svk_free(srv->checks[i].name);
    svk_free(srv->checks);
    svk_free(srv->hooks);
    svk_free(srv->proxies);
    svk_free(srv->host);
    svk_free(srv->healthz);
    svk_free(srv->readyz);
    svk_free(srv->startupz);
    pthread_mutex_destroy(&srv->lock);
    pthread_cond_destroy(&srv->cond);
    svk_free(srv);
}

SVK_API svk_http_router *svk_http_server_router(svk_http_server *srv)
{
    return srv != NULL ? srv->root : NULL;
}

SVK_API int svk_http_server_add_hooks(svk_http_server *srv, const svk_http_hooks *hooks)
{
    if (srv == NULL || hooks == NULL || hooks->size == 0 || hooks->size > sizeof *hooks)
        return SVK_EINVAL;
    if (atomic_load(&srv->state) != SVK__HTTP_NEW)
        return SVK_ESTATE;
    svk_http_hooks *grown = svk_realloc(srv->hooks, (srv->nhooks + 1) * sizeof *grown);
    if (grown == NULL)
        return SVK_ENOMEM;
    svk_http_hooks h = SVK_HTTP_HOOKS_INIT;
    memcpy(&h, hooks, hooks->size);
    grown[srv->nhooks++] = h;
    srv->hooks = grown;
    return 0;
}

SVK_API int svk_http_server_add_check(svk_http_server *srv, const char *name,
                                      svk_http_check_fn fn, void *user)
{
    if (srv == NULL || name == NULL || *name == '\0' || fn == NULL)
        return SVK_EINVAL;
    if (atomic_load(&srv->state) != SVK__HTTP_NEW)
        return SVK_ESTATE;
    svk__http_check *grown = svk_realloc(srv->checks, (srv->nchecks + 1) * sizeof *grown);
    if (grown == NULL)
        return SVK_ENOMEM;
    srv->checks = grown;
    char *copy = dup_str(name);
    if (copy == NULL)
        return SVK_ENOMEM;
    grown[srv->nchecks++] = (svk__http_check){copy, fn, user};
    return 0;
}

/* -------------------------------------------------------------- start */

/* A bound (not yet listening) SO_REUSEPORT socket on host:port. */
static int bind_socket(svk_http_server *srv, int port, int *fd_out)
{
    struct sockaddr_storage ss;
    socklen_t len;
    memset(&ss, 0, sizeof ss);
    struct sockaddr_in *v4 = (struct sockaddr_in *)&ss;
    struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)&ss;
    if (inet_pton(AF_INET, srv->host, &v4->sin_addr) == 1) {
        v4->sin_family = AF_INET;
        v4->sin_port = htons((uint16_t)port);
        len = sizeof *v4;
    } else {
        inet_pton(AF_INET6, srv->host, &v6->sin6_addr);
        v6->sin6_family = AF_INET6;
        v6->sin6_port = htons((uint16_t)port);
        len = sizeof *v6;
    }
    int fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0), one = 1;
    if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0 ||
        setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) != 0 ||
        bind(fd, (struct sockaddr *)&ss, len) != 0) {
        svk__http_server_set_error(srv, "bind %s:%d: %s", srv->host, port, strerror(errno));
        if (fd >= 0)
            close(fd);
        return SVK_EIO;
    }
    *fd_out = fd;
    return 0;
}

static int bound_port(int fd)
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof ss;
    if (getsockname(fd, (struct sockaddr *)&ss, &len) != 0)
        return 0;
    if (ss.ss_family == AF_INET)
        return ntohs(((struct sockaddr_in *)&ss)->sin_port);
    return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
}

static int make_loops(svk_http_server *srv)
{
    int n = srv->opts.threads;
    srv->loops = svk_malloc((size_t)n * sizeof *srv->loops);
    if (srv->loops == NULL)
        return SVK_ENOMEM;
    int port = srv->opts.port;
    for (int i = 0; i < n; i++) {
        int fd, rc = bind_socket(srv, port, &fd);
        if (rc != 0)
            return rc;
        port = bound_port(fd);
        rc = svk__http_loop_init(&srv->loops[i], srv, i, fd);
        srv->nloops = i + 1;
        if (rc != 0)
            return rc;
        rc = svk__http_loop_listen(&srv->loops[i]);
        if (rc != 0) {
            svk__http_server_set_error(srv, "listen: %s", uv_strerror(rc));
            return SVK_EIO;
        }
    }
    srv->port = port;
    return 0;
}

static int start_threads(svk_http_server *srv)
{
    int rc = svk__http_workers_new(&srv->workers, srv->opts.worker_threads,
                                   srv->opts.worker_queue);
    if (rc == 0)
        rc = svk__http_workers_start(srv->workers);
    for (int i = 0; i < srv->nloops && rc == 0; i++) {
        if (svk__http_thread_create(&srv->loops[i].thread, svk__http_loop_main,
                                    &srv->loops[i]) != 0) {
            svk__http_server_set_error(srv, "pthread_create failed");
            rc = SVK_ESYS;
            break;
        }
        srv->loops[i].thread_started = 1;
    }
    return rc;
}

SVK_API int svk_http_server_start(svk_http_server *srv)
{
    if (srv == NULL)
        return SVK_EINVAL;
    if (atomic_load(&srv->state) != SVK__HTTP_NEW)
        return SVK_ESTATE;
    int rc = svk__http_router_freeze(srv->root, srv);
    if (rc == 0)
        rc = make_loops(srv);
    if (rc == 0)
        rc = start_threads(srv);
    if (rc != 0) {
        svk__http_stop_threads(srv);
        atomic_store(&srv->state, SVK__HTTP_STOPPED);
        return rc;
    }
    atomic_store(&srv->state, SVK__HTTP_RUNNING);
    return 0;
}

/* ------------------------------------------------------------ queries */

SVK_API int svk_http_server_port(const svk_http_server *srv)
{
    return srv != NULL ? srv->port : 0;
}

SVK_API void svk_http_server_set_started(svk_http_server *srv)
{
    if (srv != NULL)
        atomic_store(&srv->started, 1);
}

SVK_API void svk_http_server_set_ready(svk_http_server *srv, int ready)
{
    if (srv != NULL)
        atomic_store(&srv->ready_gate, ready != 0);
}

SVK_API int svk_http_server_stats(const svk_http_server *srv, svk_http_stats *st)
{
    if (srv == NULL || st == NULL || st->size == 0)
        return SVK_EINVAL;
    svk_http_stats s = SVK_HTTP_STATS_INIT;
    s.connections_open = atomic_load(&srv->conns_open);
    s.connections_total = atomic_load(&srv->n_conns_total);
    s.connections_refused = atomic_load(&srv->n_refused);
    s.requests_total = atomic_load(&srv->n_requests);
    s.requests_active = atomic_load(&srv->n_active);
    s.timeouts = atomic_load(&srv->n_timeouts);
    s.worker_rejections = atomic_load(&srv->n_worker_rejections);
    size_t n = st->size < sizeof s ? st->size : sizeof s;
    memcpy(st, &s, n);
    st->size = n;
    return 0;
}

SVK_API const char *svk_http_server_last_error(const svk_http_server *srv)
{
    return srv != NULL ? srv->last_error : "";
}
