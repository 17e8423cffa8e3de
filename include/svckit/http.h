/*
 * svckit/http.h — an HTTP/1.1 server on libuv: N loop threads with one
 * SO_REUSEPORT listener each, a worker pool for handlers that block, a
 * chi-style router with middleware, timeouts on by default, graceful drain and
 * the three Kubernetes probes.
 *
 *     svk_http_server *srv;
 *     svk_http_server_options o = SVK_HTTP_SERVER_OPTIONS_INIT;
 *     o.port = 8080;
 *     o.logger = log;                                (access log, bound loggers)
 *     svk_http_server_new(&srv, &o, NULL);
 *     svk_http_router *r = svk_http_server_router(srv);
 *     svk_http_router_handle(r, "GET", "/v1/orders/{id}", get_order, db, NULL);
 *     svk_http_server_start(srv);
 *     svk_http_server_set_started(srv);              (/startupz, /readyz: 200)
 *     ...
 *     svk_http_server_drain(srv, svk_clock_mono_ns() + 30 * SVK_HTTP_SECOND);
 *     svk_http_server_free(srv);
 *
 * The life of one request (docs/http-server.md has the picture):
 *  1. A loop thread reads the head and parses it in place (strict RFC 9112:
 *     anything ambiguous is a 4xx and the connection closes).
 *  2. Built-in stages, in this order: request id (a valid incoming
 *     X-Request-Id is kept, else a UUIDv7 is made; it is echoed on the
 *     response), real IP (X-Forwarded-For / X-Real-IP believed only from
 *     trusted proxies), probes, routing (404, 405 with Allow, automatic HEAD
 *     and OPTIONS), the hooks' on_request_start, the body limit (413 before
 *     any body byte is read), the handler deadline.
 *  3. The body is read (whole, before the handler, unless the route streams
 *     it), then the route's middleware chain and handler run: on the loop
 *     thread for routes flagged SVK_HTTP_ROUTE_NONBLOCKING, on a worker
 *     thread otherwise. A handler that returns an error (or fails an
 *     SVK_HTTP_CHECK) gets a 500 JSON answer with the request id.
 *  4. The response is written with one writev; then one access log line,
 *     the hooks' on_request_end, and the connection waits for the next
 *     request (keep-alive, pipelining answered in order) or closes.
 *
 * Threads. The server owns its threads: `threads` loop threads and
 * `worker_threads` workers, all with every signal blocked (signals go to the
 * application's threads; SIGPIPE becomes EPIPE). Configure a server (routes,
 * middleware, hooks, checks) on one thread before svk_http_server_start; from
 * then on the routing tables are immutable and shared by the loop threads.
 * A request and its response belong to the thread running the handler until
 * the handler returns; they must not be used after that. Exceptions are
 * stated on each function.
 *
 * Timeouts are on by default, as in the article's server and stricter than
 * Go's defaults: read-header 5 s (from accept for the first request, from
 * the first byte for later ones), read 30 s for the body plus a minimum
 * byte rate, write 30 s, idle 120 s, handler deadline 15 s. Each can be set
 * per server and, except read-header and idle, per route.
 *
 * Memory: an idle keep-alive connection holds no buffer (under 1 KiB: the
 * libuv handles and a few counters); read buffers and request state come
 * from per-loop pools while a request is in progress, so the hot path
 * (parse, route, respond) does not allocate in steady state.
 */
#ifndef SVCKIT_HTTP_H
#define SVCKIT_HTTP_H

#include <stddef.h>
#include <stdint.h>

#include "svckit/core.h"
#include "svckit/ctx.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct svk_http_server svk_http_server;
typedef struct svk_http_router svk_http_router;
typedef struct svk_http_request svk_http_request;
typedef struct svk_http_response svk_http_response;

struct svk_logger; /* svckit/log.h */
struct json_t;     /* jansson's json_t */

/* Nanoseconds per second and per millisecond, for the timeout fields. */
#define SVK_HTTP_SECOND INT64_C(1000000000)
#define SVK_HTTP_MILLISECOND INT64_C(1000000)
/* A timeout field set to this value disables that timeout (not advised). */
#define SVK_HTTP_TIMEOUT_OFF INT64_C(-1)

/* ----------------------------------------------------------- callbacks */

/*
 * svk_http_handler_fn — answers one request. Set the response with the
 * svk_http_response_* calls and return 0, or return a negative SVK_E* code:
 * the server then answers 500 with a JSON body carrying the request id
 * (unless the handler already set a status >= 400 itself) and logs the
 * error. Runs on a worker thread, or on the loop thread for a route flagged
 * SVK_HTTP_ROUTE_NONBLOCKING (it must then never block).
 * Ownership: req and resp are borrowed until the handler returns; user is
 * the pointer given with the route.
 */
typedef int (*svk_http_handler_fn)(svk_http_request *req, svk_http_response *resp,
                                   void *user);

/*
 * svk_http_middleware_fn — wraps the handlers of a router, as chi's
 * middleware does: do work before, call svk_http_next(req, resp) to run the
 * rest of the chain (or do not, to answer here), do work after, and return
 * what next returned (or an error of its own). Runs on the handler's thread.
 * Middlewares also run for the answers the router makes itself (404, 405,
 * automatic OPTIONS), on the loop thread: a middleware must never block.
 * Ownership: as svk_http_handler_fn.
 */
typedef int (*svk_http_middleware_fn)(svk_http_request *req, svk_http_response *resp,
                                      void *user);

/*
 * svk_http_check_fn — one readiness check: return 0 when ready, or a
 * negative SVK_E* code, optionally writing a reason (detail_size bytes,
 * NUL-terminated) into detail. Called on a loop thread for every /readyz
 * request, possibly from several loop threads at once: it must be
 * thread-safe and must not block. A check that needs I/O (a database ping)
 * runs that I/O on its owner's own schedule and returns the cached result.
 */
typedef int (*svk_http_check_fn)(void *user, char *detail, size_t detail_size);

/* ------------------------------------------------------------- options */

/* Server flags (svk_http_server_options.flags). */
enum svk_http_server_flag {
    SVK_HTTP_SERVER_NO_ACCESS_LOG = 1u << 0,     /* no access log line per request */
    SVK_HTTP_SERVER_NO_REQUEST_LOGGER = 1u << 1, /* no bound logger in each ctx */
    SVK_HTTP_SERVER_NO_PROBES = 1u << 2          /* serve none of the three probes */
};

/*
 * svk_http_server_options — how svk_http_server_new builds a server. Start
 * from SVK_HTTP_SERVER_OPTIONS_INIT and change what you need: size lets
 * later versions append fields. Zero means the default for every field but
 * size. Durations are nanoseconds (SVK_HTTP_TIMEOUT_OFF disables one);
 * strings and arrays are copied.
 */
typedef struct svk_http_server_options {
    size_t size;       /* sizeof(svk_http_server_options) of the caller's header */
    const char *host;  /* numeric address to bind; default "0.0.0.0" ("::" for v6) */
    int port;          /* 0: an ephemeral port (svk_http_server_port tells which) */
    int threads;       /* loop threads; default: the CPUs the cgroup quota and the
                          affinity mask allow */
    int worker_threads;   /* workers for blocking handlers; default 8 per loop, >= 4 */
    size_t worker_queue;  /* requests waiting for a worker; past it: 503; default 1024 */
    int backlog;          /* listen(2) backlog per loop; default 1024 */
    size_t max_connections;    /* open connections, all loops; past it a new
                                  connection gets a fixed 503 (Retry-After: 1,
                                  Connection: close) and is closed without its
                                  request being read; default 10000 */
    uint32_t max_requests_per_conn; /* keep-alive requests per connection, then
                                       Connection: close; default 1000 */
    int64_t read_header_timeout;  /* default 5 s */
    int64_t read_timeout;         /* whole body; default 30 s */
    int64_t write_timeout;        /* whole response; default 30 s */
    int64_t idle_timeout;         /* between keep-alive requests; default 120 s */
    int64_t handler_timeout;      /* the handler's ctx deadline; default 15 s */
    uint64_t min_body_rate;       /* body bytes/s owed after the grace; default 1024.
                                     A body read is cut (408) once it is behind
                                     grace + bytes received / rate. */
    int64_t min_body_rate_grace;  /* default 5 s; SVK_HTTP_TIMEOUT_OFF: no floor */
    uint64_t body_limit;          /* default request body limit; default 1 MiB */
    uint64_t drain_body_max;      /* an unread body up to this is read and dropped
                                     after the response, a larger one closes the
                                     connection; default 64 KiB */
    size_t request_line_max;      /* default 8 KiB (414) */
    size_t header_block_max;      /* default 64 KiB (431) */
    size_t headers_max;           /* field lines; default 100 (431) */
    const char *const *trusted_proxies; /* CIDRs ("10.0.0.0/8", "::1/128") or
                                           addresses whose forwarding headers count */
    size_t trusted_proxy_count;
    struct svk_logger *logger; /* access log and errors; borrowed until
                                  svk_http_server_free; NULL: no logging */
    unsigned flags;            /* enum svk_http_server_flag */
    const char *healthz_path;  /* default "/healthz" */
    const char *readyz_path;   /* default "/readyz" */
    const char *startupz_path; /* default "/startupz" */
} svk_http_server_options;

#define SVK_HTTP_SERVER_OPTIONS_INIT {.size = sizeof(svk_http_server_options)}

/* Route flags (svk_http_route_options.flags). */
enum svk_http_route_flag {
    /* The handler never blocks: run it on the loop thread (probes, metrics,
     * in-memory answers). Without this flag it runs on a worker. */
    SVK_HTTP_ROUTE_NONBLOCKING = 1u << 0,
    /* Hand the request to the handler as soon as its head is read; the
     * handler reads the body with svk_http_request_read. Worker routes only. */
    SVK_HTTP_ROUTE_STREAM_BODY = 1u << 1
};

/*
 * svk_http_route_options — per-route settings for svk_http_router_handle.
 * Zero means "the server's value" for every field but size and flags.
 */
typedef struct svk_http_route_options {
    size_t size;              /* sizeof(svk_http_route_options) */
    unsigned flags;           /* enum svk_http_route_flag */
    uint64_t body_limit;      /* bytes; over it: 413 */
    int64_t read_timeout;     /* body */
    int64_t write_timeout;    /* response */
    int64_t handler_timeout;  /* ctx deadline; past it: 503 */
    uint64_t min_body_rate;   /* bytes/s */
} svk_http_route_options;

#define SVK_HTTP_ROUTE_OPTIONS_INIT {.size = sizeof(svk_http_route_options)}

/*
 * svk_http_hooks — the seam for metrics and tracing. Both callbacks run on
 * the loop thread, must not block and may be NULL. on_request_start runs
 * once the request is routed, before the body is read and before the
 * handler's ctx is shared: it may read the request (headers, route) and set
 * the ctx's trace (svk_ctx_set_trace) and the hook slot. on_request_end
 * runs exactly once for every request whose on_request_start ran (requests
 * the parser rejected have neither), once the response is written or the
 * connection failed, with the
 * route pattern (NULL when no route matched), the status sent (0 if none
 * was), the response bytes written (head and body) and the duration from
 * the head's arrival. Later versions may append fields; set size.
 */
typedef struct svk_http_hooks {
    size_t size; /* sizeof(svk_http_hooks) */
    void (*on_request_start)(svk_http_request *req, void *user);
    void (*on_request_end)(svk_http_request *req, const char *route, int status,
                           uint64_t bytes, int64_t duration_ns, void *user);
    void *user;
} svk_http_hooks;

#define SVK_HTTP_HOOKS_INIT {.size = sizeof(svk_http_hooks)}

/*
 * svk_http_stats — counters of a server, all loops together.
 */
typedef struct svk_http_stats {
    size_t size;                  /* sizeof(svk_http_stats) */
    uint64_t connections_open;    /* now */
    uint64_t connections_total;   /* accepted since start */
    uint64_t connections_refused; /* over max_connections */
    uint64_t requests_total;      /* requests whose head was read */
    uint64_t requests_active;     /* now: head read, response not yet written */
    uint64_t timeouts;            /* connections cut by a timeout or a deadline */
    uint64_t worker_rejections;   /* 503: the worker queue was full */
} svk_http_stats;

#define SVK_HTTP_STATS_INIT {.size = sizeof(svk_http_stats)}

/*
 * svk_http_cors_options — what svk_http_router_use_cors allows. NULL or 0
 * fields take the defaults noted.
 */
typedef struct svk_http_cors_options {
    size_t size;                          /* sizeof(svk_http_cors_options) */
    const char *const *allowed_origins;   /* exact origins, or "*"; required */
    size_t allowed_origin_count;
    const char *allowed_methods;  /* preflight answer; default "GET, HEAD, POST" */
    const char *allowed_headers;  /* preflight answer; default "Content-Type" */
    const char *exposed_headers;  /* default none */
    int allow_credentials;        /* 1: Access-Control-Allow-Credentials: true */
    int64_t max_age_seconds;      /* preflight cache; default 600 */
} svk_http_cors_options;

#define SVK_HTTP_CORS_OPTIONS_INIT {.size = sizeof(svk_http_cors_options)}

/* -------------------------------------------------------------- server */

/*
 * svk_http_server_new — make a server (not yet listening) as opts says.
 *
 * The server comes with an empty root router (svk_http_server_router).
 * Nothing is bound and no thread starts until svk_http_server_start.
 * Ownership: *out is new (free it with svk_http_server_free); opts is read
 *            during the call (strings and arrays copied); opts->logger is
 *            borrowed until svk_http_server_free; err optional.
 * Threads: any thread; the server belongs to it until started.
 * Errors: SVK_EINVAL (out or opts NULL, opts->size 0 or larger than this
 *         library knows, a negative or out-of-range value, a host that is
 *         not a numeric address, a bad trusted-proxy CIDR, a probe path not
 *         starting with '/'), SVK_ENOMEM. *out is NULL on failure.
 * Since: 0.1.0
 */
SVK_API int svk_http_server_new(svk_http_server **out, const svk_http_server_options *opts,
                                svk_error *err);

/*
 * svk_http_server_free — stop the server if it runs (as svk_http_server_drain
 * with a deadline already passed: every connection is closed at once) and
 * release it, its routers and its threads.
 * Ownership: takes srv back; NULL is a no-op.
 * Threads: any thread except the server's own (not from a handler).
 * Errors: none.
 * Since: 0.1.0
 */
SVK_API void svk_http_server_free(svk_http_server *srv);

/*
 * svk_http_server_router — the server's root router, to add routes,
 * middleware and mounts to before start.
 * Ownership: borrowed, valid until svk_http_server_free(srv).
 * Threads: the thread configuring srv.
 * Errors: NULL if srv is NULL.
 * Since: 0.1.0
 */
SVK_API svk_http_router *svk_http_server_router(svk_http_server *srv);

/*
 * svk_http_server_add_hooks — register a set of request hooks (metrics,
 * tracing); several sets run in registration order.
 * Ownership: hooks is copied; hooks->user borrowed until srv is freed.
 * Threads: the thread configuring srv, before start. The callbacks run on
 *          loop threads (see svk_http_hooks).
 * Errors: SVK_EINVAL (NULL, size 0 or too large), SVK_ESTATE (started),
 *         SVK_ENOMEM.
 * Since: 0.1.0
 */
SVK_API int svk_http_server_add_hooks(svk_http_server *srv, const svk_http_hooks *hooks);

/*
 * svk_http_server_add_check — register a readiness check for /readyz,
 * under name (shown in the /readyz body).
 * Ownership: name copied; user borrowed until srv is freed.
 * Threads: the thread configuring srv, before start; fn runs on loop threads
 *          (see svk_http_check_fn).
 * Errors: SVK_EINVAL (NULL argument, empty name), SVK_ESTATE (started),
 *         SVK_ENOMEM.
 * Since: 0.1.0
 */
SVK_API int svk_http_server_add_check(svk_http_server *srv, const char *name,
                                      svk_http_check_fn fn, void *user);

/*
 * svk_http_server_start — bind the listeners and start the loop and worker
 * threads; returns once every loop is accepting. Freezes the routers.
 *
 * One socket per loop thread, each with SO_REUSEPORT on the same address, so
 * the kernel spreads new connections over the loops.
 * Ownership: srv borrowed.
 * Threads: the thread configuring srv.
 * Errors: SVK_ESTATE (already started or stopped), SVK_EIO (socket, bind or
 *         listen failed, e.g. the port is taken; svk_http_server_last_error
 *         says which), SVK_ESYS (a thread could not start), SVK_ENOMEM. On
 *         failure nothing is left running and start may not be retried.
 * Since: 0.1.0
 */
SVK_API int svk_http_server_start(svk_http_server *srv);

/*
 * svk_http_server_port — the TCP port the server listens on (useful with
 * port 0), or 0 before start.
 * Ownership: srv borrowed. Threads: safe from any thread after start.
 * Errors: none (0 for NULL).
 * Since: 0.1.0
 */
SVK_API int svk_http_server_port(const svk_http_server *srv);

/*
 * svk_http_server_set_started — mark the application's startup as complete:
 * /startupz answers 200 from now on, and /readyz may (until then it answers
 * 503 "starting").
 * Ownership: srv borrowed; NULL is a no-op.
 * Threads: safe from any thread.
 * Errors: none.
 * Since: 0.1.0
 */
SVK_API void svk_http_server_set_started(svk_http_server *srv);

/*
 * svk_http_server_set_ready — the application's own readiness gate (default
 * 1). With 0, /readyz answers 503 "not ready" whatever the checks say: the
 * shutdown runner sets it first, waits for load balancers to notice, then
 * drains.
 * Ownership: srv borrowed; NULL is a no-op.
 * Threads: safe from any thread.
 * Errors: none.
 * Since: 0.1.0
 */
SVK_API void svk_http_server_set_ready(svk_http_server *srv, int ready);

/*
 * svk_http_server_drain — graceful stop: /readyz turns 503 "draining", every
 * listener closes (new connections are refused by the kernel), idle
 * keep-alive connections close at once, requests in progress run to their
 * end and are answered with Connection: close. When the last connection has
 * closed, or at deadline (monotonic ns, svk_clock_mono_ns) if that comes
 * first, the remaining connections are closed (their handlers' ctx
 * cancelled), the workers finish the handlers they are running, and every
 * server thread is joined.
 * Ownership: srv borrowed.
 * Threads: safe from any thread except the server's own (never from a
 *          handler, middleware, hook or check). Concurrent calls wait for
 *          the same drain.
 * Errors: SVK_ETIMEDOUT (the deadline passed: some connections were cut),
 *         SVK_ESTATE (never started, or called from a server thread),
 *         SVK_EINVAL (srv NULL). After any return the server is stopped
 *         (except SVK_ESTATE from a server thread).
 * Since: 0.1.0
 */
SVK_API int svk_http_server_drain(svk_http_server *srv, int64_t deadline_mono_ns);

/*
 * svk_http_server_shutdown — svk_http_server_drain with the deadline of ctx
 * (no deadline: wait for every connection); a cancelled ctx (checked
 * every 50 ms) forces the close at once, as Go's Server.Shutdown(ctx) does.
 * Ownership: srv and ctx borrowed (ctx NULL: no deadline).
 * Threads, errors: as svk_http_server_drain, plus SVK_ECANCELED when ctx
 *                  was cancelled before every connection closed.
 * Since: 0.1.0
 */
SVK_API int svk_http_server_shutdown(svk_http_server *srv, const svk_ctx *ctx);

/*
 * svk_http_server_stats — read the server's counters into *st (set st->size
 * first: SVK_HTTP_STATS_INIT). Each counter is read atomically on its
 * own.
 * Ownership: srv and st borrowed.
 * Threads: safe from any thread.
 * Errors: SVK_EINVAL (NULL, st->size 0).
 * Since: 0.1.0
 */
SVK_API int svk_http_server_stats(const svk_http_server *srv, svk_http_stats *st);

/*
 * svk_http_server_last_error — why the last failed svk_http_server_* call on
 * srv failed, as a sentence ("" when none).
 * Ownership: borrowed until the next call on srv.
 * Threads: the thread configuring srv.
 * Errors: none ("" for NULL).
 * Since: 0.1.0
 */
SVK_API const char *svk_http_server_last_error(const svk_http_server *srv);

/* -------------------------------------------------------------- router */

/*
 * svk_http_router_new — make an empty router, to fill and then mount under
 * a prefix of another (svk_http_router_mount_take).
 * Ownership: *out is new: free it with svk_http_router_free, unless mounted.
 * Threads: any thread.
 * Errors: SVK_EINVAL (out NULL), SVK_ENOMEM. *out is NULL on failure.
 * Since: 0.1.0
 */
SVK_API int svk_http_router_new(svk_http_router **out);

/*
 * svk_http_router_free — release a router that was never mounted, with the
 * routers mounted on it. The server frees its root router and what is
 * mounted on it itself.
 * Ownership: takes r back; NULL is a no-op.
 * Threads: the thread owning r.
 * Errors: none.
 * Since: 0.1.0
 */
SVK_API void svk_http_router_free(svk_http_router *r);

/*
 * svk_http_router_handle — route method and pattern to fn.
 *
 * method: a token ("GET", "POST", "PURGE"; compared case-sensitively), or
 * NULL for every method. pattern: starts with '/', segments separated by
 * '/'. A segment is literal text, "{name}" (a parameter: one whole segment,
 * non-empty, read with svk_http_request_param) or, last only, "*" (the rest
 * of the path, possibly empty: svk_http_request_param(req, "*")). Literal
 * segments win over parameters, which win over "*", whatever the order of
 * registration. "/a" and "/a/" are different routes. Matching uses the path
 * as sent (percent-encoded); parameters are decoded when read.
 * A GET route also answers HEAD (the body is dropped) unless HEAD has its
 * own; OPTIONS is answered 204 with Allow unless routed; a path that
 * matches but not its method gets 405 with Allow.
 * Ownership: method and pattern copied; opts read during the call (NULL:
 *            defaults); user borrowed until the server is freed.
 * Threads: the thread owning r, before the server starts.
 * Errors: SVK_EINVAL (NULL r, fn or pattern, a bad method token, a bad
 *         pattern: not starting with '/', an empty or unterminated "{}",
 *         "*" not last, more than 16 parameters, a flag combination the
 *         route cannot have), SVK_EEXIST (the same method and pattern, or a
 *         pattern under a mounted prefix), SVK_ESTATE (the server started),
 *         SVK_ENOMEM.
 * Since: 0.1.0
 */
SVK_API int svk_http_router_handle(svk_http_router *r, const char *method, const char *pattern,
                                   svk_http_handler_fn fn, void *user,
                                   const svk_http_route_options *opts);

/*
 * svk_http_router_use — append a middleware to r's chain. Every request
 * routed to r (or to a router mounted under r) passes through r's chain, in
 * the order of the svk_http_router_use calls, the outer routers' chains
 * first.
 * Ownership: user borrowed until the server is freed.
 * Threads: the thread owning r, before the server starts.
 * Errors: SVK_EINVAL (NULL), SVK_ESTATE (started), SVK_ENOMEM.
 * Since: 0.1.0
 */
SVK_API int svk_http_router_use(svk_http_router *r, svk_http_middleware_fn fn, void *user);

/*
 * svk_http_router_mount_take — serve every path under prefix with sub, as
 * chi's Mount: sub sees the path without the prefix ("/v1/orders/42" →
 * "/42"; "/v1/orders" itself → "/"). Route patterns in logs and hooks are
 * the full ones ("/v1/orders/{id}").
 * Ownership: steals sub (it is freed with r); prefix copied. On failure sub
 *            stays the caller's.
 * Threads: the thread owning r and sub, before the server starts.
 * Errors: SVK_EINVAL (NULL, prefix not starting with '/' or ending with
 *         '/', parameters or "*" in prefix, sub == r, sub already mounted),
 *         SVK_EEXIST (routes or a mount already under prefix),
 *         SVK_ESTATE (started), SVK_ENOMEM.
 * Since: 0.1.0
 */
SVK_API int svk_http_router_mount_take(svk_http_router *r, const char *prefix,
                                       svk_http_router *sub);

/*
 * svk_http_router_use_cors — add a CORS middleware to r (svk_http_router_use
 * semantics). A request without Origin passes untouched; an allowed Origin
 * gets Access-Control-Allow-Origin (the origin, or "*" with a "*" list and
 * no credentials) and Vary: Origin; a preflight (OPTIONS with
 * Access-Control-Request-Method) from an allowed origin is answered 204 with
 * the allowed methods, headers and max age, and goes no further.
 * Ownership: opts copied (strings and arrays too).
 * Threads: the thread owning r, before the server starts.
 * Errors: SVK_EINVAL (NULL, size 0, no origin, a value with CR, LF or NUL),
 *         SVK_ESTATE (started), SVK_ENOMEM.
 * Since: 0.1.0
 */
SVK_API int svk_http_router_use_cors(svk_http_router *r, const svk_http_cors_options *opts);

/*
 * svk_http_next — run the rest of the middleware chain and the handler;
 * returns what they return. Call it at most once per middleware call.
 * Ownership: req and resp borrowed.
 * Threads: the thread running the middleware.
 * Errors: the handler's or the next middleware's; SVK_ESTATE if the chain
 *         has already run to its end.
 * Since: 0.1.0
 */
SVK_API int svk_http_next(svk_http_request *req, svk_http_response *resp);

/* ------------------------------------------------------------- request */

/*
 * svk_http_request_method / svk_http_request_path / svk_http_request_query_string — parts
 * of the request line: the method ("GET"), the path as sent (percent-encoded,
 * without the query; "*" for OPTIONS *) and the query as sent (NULL without '?').
 * Ownership: borrowed, NUL-terminated, valid until the handler returns.
 * Threads: the handler's thread (also the loop thread in hooks).
 * Errors: NULL for a NULL req.
 * Since: 0.1.0
 */
SVK_API const char *svk_http_request_method(const svk_http_request *req);
SVK_API const char *svk_http_request_path(const svk_http_request *req);
SVK_API const char *svk_http_request_query_string(const svk_http_request *req);

/*
 * svk_http_request_header — the value of the first field line named name
 * (ASCII case-insensitive), trimmed of surrounding whitespace; NULL if none.
 * Ownership: borrowed, NUL-terminated, valid until the handler returns.
 * Threads: as svk_http_request_method.
 * Errors: NULL for NULL arguments.
 * Since: 0.1.0
 */
SVK_API const char *svk_http_request_header(const svk_http_request *req, const char *name);

/*
 * svk_http_request_header_count / svk_http_request_header_at — every field
 * line in arrival order: name and value of line i (from 0).
 * Ownership: *name and *value borrowed as in svk_http_request_header.
 * Threads: as svk_http_request_method.
 * Errors: header_count: 0 for NULL. header_at: SVK_EINVAL (NULL argument),
 *         SVK_ERANGE (i out of range).
 * Since: 0.1.0
 */
SVK_API size_t svk_http_request_header_count(const svk_http_request *req);
SVK_API int svk_http_request_header_at(const svk_http_request *req, size_t i,
                                       const char **name, const char **value);

/*
 * svk_http_request_query — the first value of the query parameter name,
 * percent-decoded with '+' read as a space ("" for "?a" or "?a="); NULL if
 * absent. A decoded NUL byte ends the string early.
 * Ownership: borrowed, NUL-terminated, valid until the handler returns.
 * Threads: the handler's thread.
 * Errors: NULL when absent, for NULL arguments, or when out of memory.
 * Since: 0.1.0
 */
SVK_API const char *svk_http_request_query(svk_http_request *req, const char *name);

/*
 * svk_http_request_param — the path parameter name of the route ("id" for
 * "/v1/orders/{id}", "*" for the wildcard), percent-decoded; NULL if the
 * route has no such parameter.
 * Ownership, threads, errors: as svk_http_request_query.
 * Since: 0.1.0
 */
SVK_API const char *svk_http_request_param(svk_http_request *req, const char *name);

/*
 * svk_http_request_route — the full pattern of the matched route
 * ("/v1/orders/{id}"), or NULL (no route: 404, 405, probes).
 * Ownership: borrowed, valid until the server is freed.
 * Threads: as svk_http_request_method.
 * Errors: NULL for NULL req.
 * Since: 0.1.0
 */
SVK_API const char *svk_http_request_route(const svk_http_request *req);

/*
 * svk_http_request_ctx — the request's context: the handler deadline, the
 * cancel flag (set when the deadline passes or the server force-closes the
 * connection), the request id, the trace context and, unless the server
 * has SVK_HTTP_SERVER_NO_REQUEST_LOGGER, a logger bound to the ids. Pass it
 * to every blocking call.
 * Ownership: borrowed, valid until the handler returns. Do not set
 *            anything on it (it is shared with the loop thread).
 * Threads: the handler's thread; svk_ctx_err and svk_ctx_cancel from any.
 * Errors: NULL for NULL req.
 * Since: 0.1.0
 */
SVK_API svk_ctx *svk_http_request_ctx(const svk_http_request *req);

/*
 * svk_http_request_id — the request id (the valid incoming X-Request-Id or
 * a new UUIDv7), also in the ctx and echoed in the X-Request-Id response
 * header.
 * Ownership: borrowed, valid until the handler returns.
 * Threads: as svk_http_request_method.
 * Errors: NULL for NULL req.
 * Since: 0.1.0
 */
SVK_API const char *svk_http_request_id(const svk_http_request *req);

/*
 * svk_http_request_remote_ip / svk_http_request_peer_ip — the client's
 * address as text: remote_ip is taken from X-Forwarded-For (the right-most address that is not a trusted proxy) or
 * X-Real-IP when the peer is a trusted proxy, else the peer's address.
 * svk_http_request_peer_ip is always the peer's (the TCP connection's).
 * Ownership: borrowed, valid until the handler returns.
 * Threads: as svk_http_request_method.
 * Errors: NULL for NULL req.
 * Since: 0.1.0
 */
SVK_API const char *svk_http_request_remote_ip(svk_http_request *req);
SVK_API const char *svk_http_request_peer_ip(svk_http_request *req);

/*
 * svk_http_request_body — the whole request body, read before the handler
 * ran (len 0 and a non-NULL pointer when there is none). Not for routes
 * flagged SVK_HTTP_ROUTE_STREAM_BODY.
 * Ownership: borrowed (not NUL-terminated), valid until the handler returns.
 * Threads: the handler's thread.
 * Errors: SVK_EINVAL (NULL argument), SVK_ESTATE (a streaming route).
 * Since: 0.1.0
 */
SVK_API int svk_http_request_body(const svk_http_request *req, const char **data,
                                  size_t *len);

/*
 * svk_http_request_read — read up to cap bytes of the body of a route
 * flagged SVK_HTTP_ROUTE_STREAM_BODY (Content-Length or chunked, decoded),
 * waiting for the client as needed; *n is 0 at the end of the body. A
 * pending "Expect: 100-continue" is answered when the handler is called.
 * Ownership: req borrowed; buf is the caller's, cap bytes.
 * Threads: the handler's (worker) thread.
 * Errors: SVK_EINVAL (NULL argument), SVK_ESTATE (not a streaming route),
 *         SVK_ETIMEDOUT (the read timeout or the byte-rate floor cut the
 *         client; it was answered 408), SVK_ETOOBIG (over the body limit;
 *         answered 413), SVK_EPROTO (bad chunked framing; answered 400),
 *         SVK_ECLOSED (the client went away), SVK_ECANCELED (the ctx was
 *         cancelled). After an error the connection closes.
 * Since: 0.1.0
 */
SVK_API int svk_http_request_read(svk_http_request *req, void *buf, size_t cap, size_t *n);

/*
 * svk_http_request_set_hook_data / svk_http_request_hook_data — one pointer
 * of per-request state for the hooks (a tracing span): set it in
 * on_request_start, read it in on_request_end. NULL at the start of each
 * request.
 * Ownership: data belongs to the hook; the server never frees it.
 * Threads: the loop thread (in hooks) or the handler's thread.
 * Errors: none (get: NULL for NULL req; set: no-op for NULL req).
 * Since: 0.1.0
 */
SVK_API void svk_http_request_set_hook_data(svk_http_request *req, void *data);
SVK_API void *svk_http_request_hook_data(const svk_http_request *req);

/*
 * svk_http_request_on_loop — 1 when the caller runs on a loop thread (a
 * non-blocking route, or a 404/405/OPTIONS answer), where blocking is not
 * allowed; 0 on a worker.
 * Ownership: req borrowed. Threads: the handler's thread.
 * Errors: none (0 for NULL).
 * Since: 0.1.0
 */
SVK_API int svk_http_request_on_loop(const svk_http_request *req);

/* ------------------------------------------------------------ response */

/*
 * svk_http_response_set_status — the status to send (200-999; default 200).
 * 204 and 304 answers carry no body.
 * Ownership: resp borrowed.
 * Threads: the handler's thread.
 * Errors: SVK_EINVAL (NULL, status outside 200-999), SVK_ESTATE (the head
 *         was already sent by svk_http_response_flush).
 * Since: 0.1.0
 */
SVK_API int svk_http_response_set_status(svk_http_response *resp, int status);

/*
 * svk_http_response_status — the status set so far (200 if none).
 * Ownership: resp borrowed. Threads: the handler's thread (a middleware
 * after svk_http_next). Errors: 0 for NULL.
 * Since: 0.1.0
 */
SVK_API int svk_http_response_status(const svk_http_response *resp);

/*
 * svk_http_response_add_header — add a field line "name: value". The server
 * writes Date, Content-Length / Transfer-Encoding, Connection and
 * X-Request-Id itself: those names are refused.
 * Ownership: name and value copied.
 * Threads: the handler's thread.
 * Errors: SVK_EINVAL (NULL, name not a token, value with CR, LF, NUL or
 *         another control byte but HTAB, a reserved name), SVK_ESTATE (head
 *         sent), SVK_ENOMEM.
 * Since: 0.1.0
 */
SVK_API int svk_http_response_add_header(svk_http_response *resp, const char *name,
                                         const char *value);

/*
 * svk_http_response_write — append n bytes to the body (copied). After
 * svk_http_response_flush they go out as chunks (flushed by themselves
 * past 32 KiB buffered).
 * Ownership: data borrowed for the call.
 * Threads: the handler's thread.
 * Errors: SVK_EINVAL (NULL with n > 0), SVK_ENOMEM, and once streaming
 *         the errors of svk_http_response_flush.
 * Since: 0.1.0
 */
SVK_API int svk_http_response_write(svk_http_response *resp, const void *data, size_t n);

/*
 * svk_http_response_set_body_static — use data as the whole body without
 * copying (replaces what was written).
 * Ownership: data borrowed until the response is written: a string
 *            literal, or memory that outlives the server.
 * Threads: the handler's thread.
 * Errors: SVK_EINVAL (NULL with n > 0), SVK_ESTATE (streaming).
 * Since: 0.1.0
 */
SVK_API int svk_http_response_set_body_static(svk_http_response *resp, const void *data,
                                              size_t n);

/*
 * svk_http_response_text — set status, "Content-Type: text/plain;
 * charset=utf-8" and the body text (copied).
 * Ownership: text borrowed for the call.
 * Threads: the handler's thread.
 * Errors: as svk_http_response_set_status and svk_http_response_write.
 * Since: 0.1.0
 */
SVK_API int svk_http_response_text(svk_http_response *resp, int status, const char *text);

/*
 * svk_http_response_json — set status, "Content-Type: application/json" and
 * the body: value dumped compactly by jansson.
 * Ownership: value borrowed for the call (not stolen).
 * Threads: the handler's thread.
 * Errors: as svk_http_response_text, plus SVK_EINVAL when jansson cannot
 *         dump value.
 * Since: 0.1.0
 */
SVK_API int svk_http_response_json(svk_http_response *resp, int status,
                                   const struct json_t *value);

/*
 * svk_http_response_error — answer status with the server's JSON error body,
 * {"error":"<message>","status":<status>,"request_id":"<id>"}, replacing
 * the body and Content-Type written so far (other header fields stay).
 * Ownership: message borrowed for the call (escaped as JSON).
 * Threads: the handler's thread.
 * Errors: as svk_http_response_text.
 * Since: 0.1.0
 */
SVK_API int svk_http_response_error(svk_http_response *resp, int status, const char *message);

/*
 * svk_http_response_flush — start or continue a chunked response: the first
 * call sends the head (Transfer-Encoding: chunked), each call sends what was
 * written since as one chunk, and waits until the kernel took it (so a
 * slow client slows the handler, never the server's memory). The handler's
 * return ends the body. Worker handlers only.
 * Ownership: resp borrowed.
 * Threads: the handler's (worker) thread.
 * Errors: SVK_EINVAL (NULL), SVK_ENOTSUP (a non-blocking route: it cannot
 *         wait), SVK_ETIMEDOUT (the write timeout passed), SVK_ECLOSED (the
 *         client went away), SVK_ECANCELED (the deadline passed or the
 *         server is force-closing). After an error, return: the connection
 *         is closed.
 * Since: 0.1.0
 */
SVK_API int svk_http_response_flush(svk_http_response *resp);

/*
 * svk_http_response_close — send Connection: close and close the connection
 * after this response.
 * Ownership: resp borrowed; NULL is a no-op.
 * Threads: the handler's thread.
 * Errors: none.
 * Since: 0.1.0
 */
SVK_API void svk_http_response_close(svk_http_response *resp);

/* ---------------------------------------------------------------- json */

/*
 * svk_http_read_json — parse the request body as JSON (jansson). On failure
 * the answer is already set on resp and the handler should just return 0:
 * 415 when Content-Type is not application/json (parameters such as
 * charset=utf-8 allowed; "+json" suffixes too), 400 with jansson's message,
 * line and column when the body is not valid JSON (an empty body included).
 * Ownership: *out is new (json_decref it); req and resp borrowed.
 * Threads: the handler's thread.
 * Errors: SVK_EINVAL (bad JSON, or NULL argument), SVK_ENOTSUP (wrong
 *         Content-Type), SVK_ESTATE (a streaming route). *out is NULL on
 *         failure.
 * Since: 0.1.0
 */
SVK_API int svk_http_read_json(svk_http_request *req, svk_http_response *resp,
                               struct json_t **out);

/* -------------------------------------------------------------- checks */

/*
 * svk_http_check_failed — what SVK_HTTP_CHECK calls when its condition is
 * false: logs an error line with the expression and its place (through the
 * request's logger) and returns SVK_ESTATE, which the handler returns, so
 * the client gets the server's 500 answer with the request id.
 * Ownership: expr and file borrowed for the call (string literals).
 * Threads: the handler's thread.
 * Errors: always returns SVK_ESTATE.
 * Since: 0.1.0
 */
SVK_API int svk_http_check_failed(svk_http_request *req, const char *expr, const char *file,
                                  int line);

/*
 * SVK_HTTP_CHECK(req, cond) — inside a handler: when cond is false, return
 * the error that makes the server answer 500 (never abort the process).
 */
#define SVK_HTTP_CHECK(req, cond)                                                         \
    do {                                                                                  \
        if (!(cond))                                                                      \
            return svk_http_check_failed((req), #cond, __FILE__, __LINE__);               \
    } while (0)

#ifdef __cplusplus
}
#endif

#endif /* SVCKIT_HTTP_H */
