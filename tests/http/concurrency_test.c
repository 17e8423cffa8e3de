/*
 * concurrency_test.c — many client threads against a server with two loops
 * and four workers: loop and worker routes, pipelined batches, streamed
 * request bodies and chunked responses, handler deadlines cut by the loop
 * while the worker runs, hooks counting on the loops, and a drain while
 * requests are in flight. A plain program (Criterion cannot run under
 * ThreadSanitizer): label `concurrency`; exits non-zero on any failure and
 * prints one summary line when it ran.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "peer.h"

#define CLIENTS 8
#define ROUNDS 150

static svk_http_server *srv;
static int port;
static atomic_int failures, hook_starts, hook_ends, responses;

#define CHECK(cond, ...)                                                                  \
    do {                                                                                  \
        if (!(cond)) {                                                                    \
            fprintf(stderr, "concurrency: %s:%d: ", __FILE__, __LINE__);                  \
            fprintf(stderr, __VA_ARGS__);                                                 \
            fprintf(stderr, "\n");                                                        \
            atomic_fetch_add(&failures, 1);                                               \
            return NULL;                                                                  \
        }                                                                                 \
    } while (0)

static void sleep_us(long us)
{
    struct timespec ts = {us / 1000000, (us % 1000000) * 1000};
    nanosleep(&ts, NULL);
}

/* ------------------------------------------------------------ handlers */

static int on_loop(svk_http_request *req, svk_http_response *resp, void *user)
{
    (void)user;
    return svk_http_response_text(resp, 200, svk_http_request_param(req, "n"));
}

static int on_worker(svk_http_request *req, svk_http_response *resp, void *user)
{
    (void)user;
    const char *data;
    size_t len;
    svk_http_request_body(req, &data, &len);
    sleep_us(len % 500);
    svk_http_response_write(resp, svk_http_request_param(req, "n"),
                            strlen(svk_http_request_param(req, "n")));
    return svk_http_response_write(resp, data, len);
}

/* Reads the body in pieces and flushes one short line per piece (not an
 * echo: a client that sends everything before reading would deadlock with
 * an echo once both socket buffers are full). */
static int streamer(svk_http_request *req, svk_http_response *resp, void *user)
{
    (void)user;
    char buf[4093], line[32];
    size_t n;
    int rc;
    while ((rc = svk_http_request_read(req, buf, sizeof buf, &n)) == 0 && n > 0) {
        snprintf(line, sizeof line, "%zu\n", n);
        if ((rc = svk_http_response_write(resp, line, strlen(line))) != 0 ||
            (rc = svk_http_response_flush(resp)) != 0)
            return rc;
    }
    return rc;
}

static size_t sum_lines(const char *s)
{
    size_t total = 0;
    for (char *end; *s != '\0'; s = end + 1) {
        total += strtoul(s, &end, 10);
        if (*end != '\n')
            break;
    }
    return total;
}

static int slow(svk_http_request *req, svk_http_response *resp, void *user)
{
    (void)user;
    svk_ctx *ctx = svk_http_request_ctx(req);
    while (svk_ctx_err(ctx) == 0)
        sleep_us(1000);
    return svk_http_response_text(resp, 200, "late");
}

static int linger(svk_http_request *req, svk_http_response *resp, void *user)
{
    (void)req;
    (void)user;
    sleep_us(300000);
    return svk_http_response_text(resp, 200, "finished");
}

static void hook_start(svk_http_request *req, void *user)
{
    (void)req;
    (void)user;
    atomic_fetch_add(&hook_starts, 1);
}

static void hook_end(svk_http_request *req, const char *route, int status, uint64_t bytes,
                     int64_t dur, void *user)
{
    (void)req, (void)route, (void)status, (void)bytes, (void)dur, (void)user;
    atomic_fetch_add(&hook_ends, 1);
}

/* -------------------------------------------------------------- clients */

static void *client(void *arg)
{
    int id = (int)(intptr_t)arg;
    ts_conn *c = malloc(sizeof *c);
    char batch[4096], want[64];
    CHECK(ts_open(c, port) == 0, "%s", ts_error);
    for (int round = 0; round < ROUNDS; round++) {
        size_t len = 0;
        for (int k = 0; k < 4; k++) {
            int n = id * 100000 + round * 10 + k;
            if (k % 2 == 0)
                len += (size_t)sprintf(batch + len, "GET /loop/%d HTTP/1.1\r\nHost: t\r\n\r\n", n);
            else
                len += (size_t)sprintf(batch + len, "POST /work/%d HTTP/1.1\r\nHost: t\r\n"
                                       "Content-Length: 3\r\n\r\nabc", n);
        }
        CHECK(ts_send_n(c, batch, len) == 0, "%s", ts_error);
        for (int k = 0; k < 4; k++) {
            ts_resp r;
            int n = id * 100000 + round * 10 + k;
            CHECK(ts_read(c, &r, 10000, 0) == 0, "client %d: %s", id, ts_error);
            snprintf(want, sizeof want, k % 2 ? "%dabc" : "%d", n);
            CHECK(r.status == 200 && strcmp(r.body, want) == 0, "got %d %s want %s", r.status,
                  r.body, want);
            ts_resp_free(&r);
            atomic_fetch_add(&responses, 1);
        }
        if (round % 50 == 49) { /* a fresh connection now and then */
            ts_close(c);
            CHECK(ts_open(c, port) == 0, "%s", ts_error);
        }
    }
    ts_close(c);
    free(c);
    return NULL;
}

static void *streaming_client(void *arg)
{
    (void)arg;
    static char body[200000];
    for (size_t i = 0; i < sizeof body; i++)
        body[i] = (char)('a' + i % 26);
    for (int i = 0; i < 10; i++) {
        ts_conn *c = malloc(sizeof *c);
        ts_resp r;
        char head[128];
        CHECK(ts_open(c, port) == 0, "%s", ts_error);
        snprintf(head, sizeof head, "POST /stream HTTP/1.1\r\nHost: t\r\nContent-Length: %zu\r\n\r\n",
                 sizeof body);
        CHECK(ts_send(c, head) == 0 && ts_send_n(c, body, sizeof body) == 0, "%s", ts_error);
        CHECK(ts_read(c, &r, 60000, 0) == 0, "stream: %s", ts_error);
        CHECK(r.chunked && sum_lines(r.body) == sizeof body, "stream read %zu",
              sum_lines(r.body));
        ts_resp_free(&r);
        ts_close(c);
        free(c);
    }
    return NULL;
}

static void *deadline_client(void *arg)
{
    (void)arg;
    for (int i = 0; i < 20; i++) {
        ts_resp r;
        CHECK(ts_exchange(port, "GET /slow HTTP/1.1\r\nHost: t\r\n\r\n", &r) == 0, "%s", ts_error);
        CHECK(r.status == 503, "deadline: %d", r.status);
        ts_resp_free(&r);
    }
    return NULL;
}

static void *lingering_client(void *arg)
{
    (void)arg;
    ts_resp r;
    CHECK(ts_exchange(port, "GET /linger HTTP/1.1\r\nHost: t\r\n\r\n", &r) == 0, "%s", ts_error);
    CHECK(r.status == 200 && strcmp(r.body, "finished") == 0, "in flight: %d", r.status);
    ts_resp_free(&r);
    return NULL;
}

/* ---------------------------------------------------------------- main */

static void build(void)
{
    svk_http_server_options o = ts_options();
    o.threads = 2;
    o.worker_threads = 4;
    o.handler_timeout = 2 * SVK_HTTP_SECOND;
    if (svk_http_server_new(&srv, &o, NULL) != 0)
        exit(1);
    svk_http_route_options loop = SVK_HTTP_ROUTE_OPTIONS_INIT, stream = loop, quick = loop;
    loop.flags = SVK_HTTP_ROUTE_NONBLOCKING;
    stream.flags = SVK_HTTP_ROUTE_STREAM_BODY;
    quick.handler_timeout = 30 * SVK_HTTP_MILLISECOND;
    /* ~50 flushes, each a round trip through a loop that 8 clients keep
     * busy, under a sanitizer on 2 cores: give it time. */
    stream.handler_timeout = 60 * SVK_HTTP_SECOND;
    svk_http_hooks hooks = SVK_HTTP_HOOKS_INIT;
    hooks.on_request_start = hook_start;
    hooks.on_request_end = hook_end;
    svk_http_router *r = svk_http_server_router(srv);
    if (svk_http_router_handle(r, "GET", "/loop/{n}", on_loop, NULL, &loop) != 0 ||
        svk_http_router_handle(r, "POST", "/work/{n}", on_worker, NULL, NULL) != 0 ||
        svk_http_router_handle(r, "POST", "/stream", streamer, NULL, &stream) != 0 ||
        svk_http_router_handle(r, "GET", "/slow", slow, NULL, &quick) != 0 ||
        svk_http_router_handle(r, "GET", "/linger", linger, NULL, NULL) != 0 ||
        svk_http_server_add_hooks(srv, &hooks) != 0)
        exit(1);
    port = ts_start(srv);
    if (port <= 0)
        exit(1);
}

int main(void)
{
    build();
    pthread_t t[CLIENTS + 2];
    for (int i = 0; i < CLIENTS; i++)
        pthread_create(&t[i], NULL, client, (void *)(intptr_t)i);
    pthread_create(&t[CLIENTS], NULL, streaming_client, NULL);
    pthread_create(&t[CLIENTS + 1], NULL, deadline_client, NULL);
    for (int i = 0; i < CLIENTS + 2; i++)
        pthread_join(t[i], NULL);
    /* A drain while requests are in flight: they finish. */
    pthread_t in_flight[4];
    for (int i = 0; i < 4; i++)
        pthread_create(&in_flight[i], NULL, lingering_client, NULL);
    sleep_us(100000);
    int rc = svk_http_server_drain(srv, svk_clock_mono_ns() + 5 * SVK_HTTP_SECOND);
    for (int i = 0; i < 4; i++)
        pthread_join(in_flight[i], NULL);
    if (rc != 0) {
        fprintf(stderr, "concurrency: drain: %s\n", svk_errname(rc));
        atomic_fetch_add(&failures, 1);
    }
    if (atomic_load(&hook_starts) != atomic_load(&hook_ends)) {
        fprintf(stderr, "concurrency: hooks %d starts, %d ends\n", atomic_load(&hook_starts),
                atomic_load(&hook_ends));
        atomic_fetch_add(&failures, 1);
    }
    svk_http_server_free(srv);
    printf("concurrency: %d responses, %d hook pairs, %d failures\n", atomic_load(&responses),
           atomic_load(&hook_ends), atomic_load(&failures));
    return atomic_load(&failures) == 0 && atomic_load(&responses) == CLIENTS * ROUNDS * 4 ? 0 : 1;
}
