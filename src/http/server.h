/*
 * server.h — internal: the structures the HTTP server's files share.
 *
 * Ownership in one picture:
 *
 *   svk_http_server ── loops[] ── svk__http_loop (one thread, one uv_loop_t,
 *        │                          one listener, pools, completion queue)
 *        │                              └── conns: svk__http_conn (per TCP
 *        │                                   connection: handles, read buffer
 *        │                                   while active, current request)
 *        ├── workers: svk__http_workers (threads + bounded queue of requests)
 *        └── root: svk_http_router (tree of nodes and routes, frozen at start)
 *
 * A request (struct svk_http_request, which embeds its svk_http_response) is
 * taken from its loop's pool when the first byte of a request arrives and
 * given back when the response has been written. It belongs to the loop
 * thread, except between the hand-over to a worker and the worker's
 * completion message; then the loop touches only the atomics and, under
 * stream_lock, the streaming fields.
 *
 * Times on the loop are milliseconds of loop time (uv_now); the ctx deadline
 * is monotonic nanoseconds (svk_clock_mono_ns). Names are svk__http_*.
 */
#ifndef SVK_HTTP_SERVER_H
#define SVK_HTTP_SERVER_H

#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <uv.h>

#include "http/parser.h"
#include "svckit/http.h"

#define SVK__HTTP_MAX_PARAMS 16
#define SVK__HTTP_RB_SIZE 8192            /* pooled read buffer */
#define SVK__HTTP_POOL_KEEP 64            /* free objects kept per pool */
#define SVK__HTTP_STREAM_WINDOW 65536     /* streamed body bytes buffered */
#define SVK__HTTP_STREAM_AUTOFLUSH 32768  /* streamed response bytes buffered */
#define SVK__HTTP_ARENA_INLINE 512        /* decoded params/query, before malloc */
#define SVK__HTTP_NEVER UINT64_MAX        /* a disabled timeout, in ms */
#define SVK__HTTP_IP_MAX 46               /* INET6_ADDRSTRLEN */

typedef struct svk__http_loop svk__http_loop;
typedef struct svk__http_conn svk__http_conn;
typedef struct svk__http_node svk__http_node;
typedef struct svk__http_workers svk__http_workers;

/* ------------------------------------------------------------- router */

typedef struct svk__http_mw {
    svk_http_middleware_fn fn;
    void *user;
} svk__http_mw;

/* Per-route settings after the server's defaults were applied (at start). */
typedef struct svk__http_route_cfg {
    unsigned flags;
    uint64_t body_limit;
    uint64_t read_ms, write_ms, handler_ms; /* SVK__HTTP_NEVER: off */
    uint64_t min_rate;                      /* bytes/s; 0: no floor */
} svk__http_route_cfg;

typedef struct svk__http_route {
    char *method;  /* NULL: any method */
    char *pattern; /* as registered; the full one after start */
    svk_http_handler_fn fn;
    void *user;
    svk_http_route_options opts; /* as given */
    svk__http_route_cfg cfg;     /* resolved at start */
    svk_http_router *router;
    struct svk__http_route *next_in_router;
} svk__http_route;

struct svk_http_router {
    svk__http_node *root;
    svk__http_mw *mws;
    size_t nmws;
    svk__http_route *routes; /* every route of this router, for start and free */
    svk_http_router *parent; /* set when mounted */
    char *prefix;            /* the full prefix of this router once started */
    svk_http_router *children; /* routers mounted here, singly linked */
    svk_http_router *next_sibling;
    svk__http_mw *chain; /* at start: the outer routers' middleware, then ours */
    size_t nchain;
    void *cors;          /* CORS option blocks to free (a linked list) */
    int frozen;
};

typedef struct svk__http_param {
    const char *name;
    const char *value; /* raw, in the request's path */
    size_t len;
} svk__http_param;

/* What a lookup found. status: 0 a route; 404 none; 405 path without this
 * method; 204 automatic OPTIONS. */
typedef struct svk__http_match {
    const svk__http_route *route;
    const svk_http_router *router; /* whose middleware chain applies */
    const char *allow;             /* for 405 and OPTIONS: "GET, HEAD, OPTIONS" */
    int status;
    int head_only; /* HEAD answered by the GET route */
    size_t nparams;
    svk__http_param params[SVK__HTTP_MAX_PARAMS];
} svk__http_match;

/* Resolve every route's settings and full pattern, compute Allow lists and
 * middleware chains; afterwards the tree is immutable. */
int svk__http_router_freeze(svk_http_router *r, const svk_http_server *srv);

/* Find the route for method and path (raw, percent-encoded). Allocates
 * nothing. */
void svk__http_router_lookup(const svk_http_router *r, const char *method, size_t method_len,
                             const char *path, size_t path_len, svk__http_match *m);

/* --------------------------------------------------------- server config */

typedef struct svk__http_cidr {
    int family; /* AF_INET or AF_INET6 */
    uint8_t addr[16];
    int bits;
} svk__http_cidr;

typedef struct svk__http_check {
    char *name;
    svk_http_check_fn fn;
    void *user;
} svk__http_check;

enum svk__http_state { SVK__HTTP_NEW, SVK__HTTP_RUNNING, SVK__HTTP_DRAINING, SVK__HTTP_STOPPED };

struct svk_http_server {
    svk_http_server_options opts; /* strings point at the copies below */
    char *host, *healthz, *readyz, *startupz;
    svk__http_limits limits;
    svk__http_route_cfg defaults;
    uint64_t read_header_ms, idle_ms, linger_ms, rate_grace_ms;
    uint64_t linger_clean_ms; /* after a complete exchange: Go's rstAvoidanceDelay */
    svk__http_cidr *proxies;
    size_t nproxies;
    svk_http_router *root;
    svk_http_hooks *hooks;
    size_t nhooks;
    svk__http_check *checks;
    size_t nchecks;
    struct svk_logger *logger;
    svk__http_loop *loops;
    int nloops;
    svk__http_workers *workers;
    int port;
    atomic_int state;
    atomic_int started, ready_gate;
    atomic_size_t conns_open;
    atomic_uint_fast64_t n_conns_total, n_refused, n_requests, n_active, n_timeouts,
        n_worker_rejections;
    pthread_mutex_t lock; /* guards loops_done and the drain hand-off */
    pthread_cond_t cond;
    int loops_done;  /* loops whose connections are all gone */
    int loops_exited;
    int drain_rc;
    int draining_now; /* one caller runs the drain, others wait for it */
    char last_error[256];
};

void svk__http_stop_threads(svk_http_server *srv);
void svk__http_server_set_error(svk_http_server *srv, const char *fmt, ...) SVK_PRINTF(2, 3);

/* Is ip (4 or 16 bytes as family says) inside one of the trusted proxies? */
int svk__http_trusted(const svk_http_server *srv, int family, const uint8_t *ip);
int svk__http_cidr_parse(const char *s, svk__http_cidr *out);

/* -------------------------------------------------------------- request */

struct svk_http_response {
    int status;
    int status_set;    /* set by the handler (the recoverer keeps a >= 400) */
    int close;         /* Connection: close after it */
    int head_sent;     /* streaming: the head went out */
    int streaming;     /* svk_http_response_flush was called */
    svk_buf headers;   /* "Name: value\r\n" lines added by the handler */
    svk_buf body;
    const void *static_body; /* set_body_static, used when non-NULL */
    size_t static_len;
};

/* Worker → loop events, queued on the loop (see svk__http_loop_post). */
enum { SVK__HTTP_EV_DONE = 1, SVK__HTTP_EV_FLUSH = 2, SVK__HTTP_EV_RESUME = 4 };

/* Stages of a request's body. */
enum { SVK__HTTP_BODY_READING, SVK__HTTP_BODY_COMPLETE, SVK__HTTP_BODY_UNREAD };

struct svk_http_request {
    svk__http_loop *loop;
    svk__http_conn *conn;
    struct svk_http_response resp;
    svk__http_parser parser;
    svk__http_request head; /* pointers into conn->rb */
    size_t head_len;
    svk__http_chunked chunked;
    int body_state;
    uint64_t body_len;     /* body bytes staged after the head (decoded) */
    uint64_t body_wire;    /* CL: bytes of the body received so far */
    int fail_status;       /* a body error: the status to answer, then close */
    const char *fail_reason;
    svk__http_match match;
    const svk__http_route_cfg *cfg;
    const svk__http_mw *chain;
    size_t nchain, chain_pos;
    svk_http_handler_fn handler;
    void *handler_user;
    int on_loop;
    int builtin;        /* answered by the server: probe, 404, 405, OPTIONS */
    int head_only;      /* HEAD: the body is not sent */
    int hooks_started;
    int counted;        /* in the requests_active counter */
    int continue_sent;
    int write_pending;  /* write_req is in libuv's hands */
    int flush_inflight; /* a streamed chunk is being written */
    uint64_t write_due; /* ms: a streamed response's write deadline */
    int handler_rc;
    char request_id[SVK_CTX_REQUEST_ID_MAX + 1];
    char remote_ip[SVK__HTTP_IP_MAX];
    char peer_ip[SVK__HTTP_IP_MAX];
    svk_ctx *ctx;
    struct svk_logger *log; /* bound to the ids; owned */
    void *hook_data;
    int64_t start_ns;       /* head arrival, monotonic */
    uint64_t bytes_out;
    int status_sent;
    /* arena for decoded strings */
    size_t arena_used;
    void *arena_blocks; /* overflow blocks, freed at the end */
    char arena[SVK__HTTP_ARENA_INLINE];
    /* the loop's output */
    svk_buf head_buf;
    uv_buf_t iov[2];
    uv_write_t write_req;
    /* worker hand-off */
    struct svk_http_request *next_posted; /* in the loop's queue, under loop->lock */
    struct svk_http_request *next_queued; /* the worker queue's link */
    struct svk_http_request *next_taken;  /* the loop's copy of next_posted */
    unsigned posted_events;               /* under loop->lock */
    unsigned taken_events;                /* loop thread */
    int posted;
    atomic_int abandoned; /* the loop answered (deadline) or closed: discard */
    /* streaming (under stream_lock) */
    pthread_mutex_t stream_lock;
    pthread_cond_t stream_cond;
    int stream_err;        /* 0, or the error a blocked worker call returns */
    int stream_body;       /* the route streams its body */
    uint64_t stream_read;  /* body bytes the worker took of body_len */
    int stream_paused;     /* the loop stopped reading: window full */
    int stream_eof;        /* body complete */
    int flush_pending;     /* a chunk waits for the loop's write */
    svk_buf stream_out;    /* worker → loop: head and chunks to write */
    svk_buf stream_wire;   /* what the loop is writing */
    size_t nheaders_cap;
    svk__http_header headers[]; /* nheaders_cap entries */
};

/* ------------------------------------------------------------------ loop */

enum svk__http_phase {
    SVK__HTTP_IDLE,    /* between requests, no buffer */
    SVK__HTTP_HEAD,    /* reading a head */
    SVK__HTTP_BODY,    /* reading a body before the handler */
    SVK__HTTP_HANDLER, /* a worker runs the handler */
    SVK__HTTP_WRITE,   /* the response is being written */
    SVK__HTTP_DISCARD, /* dropping an unread body */
    SVK__HTTP_LINGER,  /* the last response went out; waiting for the FIN */
    SVK__HTTP_CLOSED
};

struct svk__http_conn {
    uv_tcp_t tcp;
    uv_timer_t timer;
    svk__http_loop *loop;
    svk__http_conn *prev, *next;
    svk_http_request *req; /* the request in progress, or NULL */
    char *rb;              /* read buffer: NULL while idle */
    size_t rb_len, rb_cap;
    uint64_t io_due;       /* ms: the current phase's timeout */
    uint64_t handler_due;  /* ms: the request's deadline */
    uint64_t armed_due;    /* ms: when the timer fires, 0 when stopped */
    uint64_t phase_start;  /* ms: body rate floor origin */
    uint64_t discard_left; /* DISCARD: Content-Length bytes still to drop */
    char *aux;             /* a rare-path buffer (deadline 503, refusal) */
    uint32_t requests;
    uint8_t phase;
    uint8_t reading;
    uint8_t in_advance;
    uint8_t closing;        /* close after the current response */
    uint8_t handles_open;   /* tcp + timer not yet closed */
    uint8_t worker_holds;   /* a worker holds req: keep the memory */
    uint8_t discard_chunked;
    uint8_t peer_family;
    uint8_t is_reserve;
    uint8_t peer_addr[16];
};

struct svk__http_loop {
    svk_http_server *srv;
    int index;
    uv_loop_t uv;
    uv_tcp_t listener;
    uv_async_t wake;
    pthread_t thread;
    int thread_started;
    int uv_ready, wake_ready; /* initialised: uv_loop_t, the async handle */
    int listener_open;
    int fd; /* the listening socket until uv_tcp_open takes it */
    pthread_mutex_t lock; /* posted, cmd */
    svk_http_request *posted_head, *posted_tail;
    unsigned cmd; /* SVK__HTTP_CMD_* */
    svk__http_conn conns; /* list head (sentinel) */
    size_t nconns;
    /* Out of memory at accept: the reserve connection accepts and refuses
     * (libuv stops watching a listener whose connection was not accepted);
     * while it is busy, accept_pending says an accept is owed. */
    svk__http_conn *reserve;
    int reserve_busy, accept_pending;
    size_t worker_refs; /* requests held by workers */
    int draining, stopping, reported_empty;
    void **free_rb;
    size_t nfree_rb;
    svk_http_request **free_req;
    size_t nfree_req;
    int64_t date_sec;
    char date[64]; /* "Date: Tue, 15 Nov 1994 08:12:31 GMT\r\n" */
    size_t date_len;
};

enum { SVK__HTTP_CMD_DRAIN = 1, SVK__HTTP_CMD_STOP = 2 };

/* loop.c */
int svk__http_loop_init(svk__http_loop *l, svk_http_server *srv, int index, int fd);
int svk__http_loop_listen(svk__http_loop *l);
void svk__http_loop_destroy(svk__http_loop *l);
void *svk__http_loop_main(void *arg);
void svk__http_loop_command(svk__http_loop *l, unsigned cmd);
void svk__http_loop_post(svk_http_request *req, unsigned events);
const char *svk__http_loop_date(svk__http_loop *l, size_t *len);
char *svk__http_rb_get(svk__http_loop *l);
void svk__http_rb_put(svk__http_loop *l, char *rb, size_t cap);
svk_http_request *svk__http_req_get(svk__http_loop *l);
void svk__http_req_put(svk__http_loop *l, svk_http_request *req);
void svk__http_loop_conn_gone(svk__http_loop *l);
int svk__http_on_server_thread(void);
void svk__http_mark_server_thread(void);

/* conn.c */
void svk__http_conn_accept(svk__http_loop *l);
void svk__http_conn_close(svk__http_conn *c);
void svk__http_conn_drain(svk__http_conn *c);
void svk__http_conn_force(svk__http_conn *c);
void svk__http_conn_event(svk_http_request *req, unsigned events);

/* body.c */
int svk__http_body_step(svk__http_conn *c);
int svk__http_stream_prepare(svk__http_conn *c);
int svk__http_stream_step(svk__http_conn *c);
int svk__http_discard_step(svk__http_conn *c);
int svk__http_rb_reserve(svk__http_conn *c, size_t need);

/* request.c */
int svk__http_req_begin(svk_http_request *req, svk__http_conn *c);
void svk__http_req_end(svk_http_request *req);
int svk__http_req_route(svk_http_request *req);
void svk__http_req_set_deadline(svk_http_request *req, uint64_t ms);
void svk__http_hex(const uint8_t *bytes, size_t n, char *out);
const char *svk__http_req_remote_ip(svk_http_request *req);
void svk__http_req_mark_strings(svk_http_request *req);
int svk__http_decode(const char *in, size_t n, int plus, char *out);

/* response.c */
int svk__http_resp_build(svk_http_request *req);
int svk__http_resp_error_body(svk_http_request *req, int status, const char *message);
size_t svk__http_resp_canned(svk_http_request *req, int status, const char *message, char *out,
                             size_t cap, int close);
void svk__http_resp_reset(struct svk_http_response *resp);
int svk__http_resp_header_raw(svk_http_response *resp, const char *name, const char *value);
void svk__http_resp_add_retry_after(svk_http_request *req);
const char *svk__http_reason(int status);
size_t svk__http_json_escape(const char *s, char *out, size_t cap);

/* middleware.c */
int svk__http_run(svk_http_request *req);
void svk__http_finish_log(svk_http_request *req);
void svk__http_hooks_start(svk_http_request *req);
int svk__http_request_id(svk_http_request *req);

/* probes.c */
int svk__http_probe(svk_http_request *req);

/* worker.c */
int svk__http_workers_new(svk__http_workers **out, int threads, size_t queue);
int svk__http_workers_start(svk__http_workers *w);
int svk__http_workers_submit(svk__http_workers *w, svk_http_request *req);
void svk__http_workers_free(svk__http_workers *w);

/* cpus.c */
int svk__http_cpus_available(void);
int svk__http_cpus_from(const char *proc_self_cgroup, const char *cgroup_root, int affinity);

/* a thread that blocks every signal while it creates threads */
int svk__http_thread_create(pthread_t *t, void *(*fn)(void *), void *arg);

#endif
