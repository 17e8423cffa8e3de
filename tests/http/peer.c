/*
 * peer.c — the raw-socket HTTP client and the server fixture of peer.h.
 */
#include "peer.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

char ts_error[256];

static int fail(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(ts_error, sizeof ts_error, fmt, ap);
    va_end(ap);
    return -1;
}

void ts_sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

int ts_echo(svk_http_request *req, svk_http_response *resp, void *user)
{
    const char *data;
    size_t len;
    (void)user;
    SVK_HTTP_CHECK(req, svk_http_request_body(req, &data, &len) == 0);
    return svk_http_response_write(resp, data, len);
}

int64_t ts_now_ms(void)
{
    return svk_clock_mono_ns() / 1000000;
}

int ts_open(ts_conn *c, int port)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    c->len = 0;
    c->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (c->fd < 0)
        return fail("socket: %s", strerror(errno));
    int one = 1;
    setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (connect(c->fd, (struct sockaddr *)&a, sizeof a) != 0) {
        close(c->fd);
        c->fd = -1;
        return fail("connect: %s", strerror(errno));
    }
    return 0;
}

void ts_close(ts_conn *c)
{
    if (c->fd >= 0)
        close(c->fd);
    c->fd = -1;
}

int ts_send_n(ts_conn *c, const void *s, size_t n)
{
    const char *p = s;
    while (n > 0) {
        ssize_t k = send(c->fd, p, n, MSG_NOSIGNAL);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            return fail("send: %s", strerror(errno));
        p += k;
        n -= (size_t)k;
    }
    return 0;
}

int ts_send(ts_conn *c, const char *s)
{
    return ts_send_n(c, s, strlen(s));
}

/* Read more bytes into c->buf before deadline; >0 bytes, 0 EOF, -1. */
static int fill(ts_conn *c, int64_t deadline)
{
    if (c->len == sizeof c->buf)
        return fail("response larger than the test buffer");
    int64_t left = deadline - ts_now_ms();
    if (left <= 0)
        return fail("timed out");
    struct pollfd p = {c->fd, POLLIN, 0};
    int rc = poll(&p, 1, (int)left);
    if (rc == 0)
        return fail("timed out");
    if (rc < 0)
        return fail("poll: %s", strerror(errno));
    ssize_t n = recv(c->fd, c->buf + c->len, sizeof c->buf - c->len, 0);
    if (n < 0)
        return errno == ECONNRESET ? 0 : fail("recv: %s", strerror(errno));
    c->len += (size_t)n;
    return (int)n;
}

static void take(ts_conn *c, size_t n)
{
    memmove(c->buf, c->buf + n, c->len - n);
    c->len -= n;
}

static int append_body(ts_resp *r, const char *p, size_t n)
{
    char *b = realloc(r->body, r->body_len + n + 1);
    if (b == NULL)
        return fail("out of memory");
    memcpy(b + r->body_len, p, n);
    r->body = b;
    r->body_len += n;
    b[r->body_len] = '\0';
    return 0;
}

/* Bytes of c->buf until the n-th: wait for them. */
static int need(ts_conn *c, size_t n, int64_t deadline)
{
    while (c->len < n) {
        int rc = fill(c, deadline);
        if (rc <= 0)
            return rc == 0 ? fail("EOF in the body") : -1;
    }
    return 0;
}

static int read_line(ts_conn *c, char *out, size_t cap, int64_t deadline)
{
    for (;;) {
        char *eol = memmem(c->buf, c->len, "\r\n", 2);
        if (eol != NULL) {
            size_t n = (size_t)(eol - c->buf);
            if (n >= cap)
                return fail("line too long");
            memcpy(out, c->buf, n);
            out[n] = '\0';
            take(c, n + 2);
            return 0;
        }
        int rc = fill(c, deadline);
        if (rc <= 0)
            return rc == 0 ? fail("EOF in a chunk line") : -1;
    }
}

static int read_chunked(ts_conn *c, ts_resp *r, int64_t deadline)
{
    char line[128];
    for (;;) {
        if (read_line(c, line, sizeof line, deadline) != 0)
            return -1;
        size_t n = strtoul(line, NULL, 16);
        if (n == 0)
            return read_line(c, line, sizeof line, deadline);
        if (need(c, n + 2, deadline) != 0 || append_body(r, c->buf, n) != 0)
            return -1;
        take(c, n + 2);
    }
}

static int read_until_eof(ts_conn *c, ts_resp *r, int64_t deadline)
{
    for (;;) {
        if (append_body(r, c->buf, c->len) != 0)
            return -1;
        c->len = 0;
        int rc = fill(c, deadline);
        if (rc == 0)
            return 0;
        if (rc < 0)
            return -1;
    }
}

static int read_head(ts_conn *c, ts_resp *r, int64_t deadline)
{
    char *end;
    while ((end = memmem(c->buf, c->len, "\r\n\r\n", 4)) == NULL) {
        int rc = fill(c, deadline);
        if (rc <= 0)
            return rc == 0 ? fail("EOF before a response head (%zu bytes)", c->len) : -1;
    }
    size_t n = (size_t)(end - c->buf) + 4;
    if (n >= sizeof r->head)
        return fail("head too large");
    memcpy(r->head, c->buf, n);
    r->head[n] = '\0';
    take(c, n);
    if (sscanf(r->head, "HTTP/1.%*d %d", &r->status) != 1)
        return fail("bad status line: %.40s", r->head);
    return 0;
}

static int read_response(ts_conn *c, ts_resp *r, int timeout_ms, int head_only)
{
    int64_t deadline = ts_now_ms() + timeout_ms;
    if (read_head(c, r, deadline) != 0 || append_body(r, "", 0) != 0)
        return -1;
    const char *cl = ts_header(r, "Content-Length");
    const char *te = ts_header(r, "Transfer-Encoding");
    if (head_only || r->status == 204 || r->status == 304 || r->status < 200)
        return 0;
    if (te != NULL && strcasecmp(te, "chunked") == 0) {
        r->chunked = 1;
        return read_chunked(c, r, deadline);
    }
    if (cl == NULL)
        return read_until_eof(c, r, deadline);
    size_t left = strtoul(cl, NULL, 10);
    for (;;) {
        size_t k = c->len < left ? c->len : left;
        if (append_body(r, c->buf, k) != 0)
            return -1;
        take(c, k);
        left -= k;
        if (left == 0)
            return 0;
        int rc = fill(c, deadline);
        if (rc <= 0)
            return rc == 0 ? fail("EOF in the body") : -1;
    }
}

int ts_read(ts_conn *c, ts_resp *r, int timeout_ms, int head_only)
{
    memset(r, 0, sizeof *r);
    int rc = read_response(c, r, timeout_ms, head_only);
    if (rc != 0)
        ts_resp_free(r);
    return rc;
}

void ts_resp_free(ts_resp *r)
{
    free(r->body);
    r->body = NULL;
}

const char *ts_header(const ts_resp *r, const char *name)
{
    static __thread char value[1024];
    size_t n = strlen(name);
    const char *line = strstr(r->head, "\r\n");
    while (line != NULL && line[2] != '\r') {
        line += 2;
        if (strncasecmp(line, name, n) == 0 && line[n] == ':') {
            const char *v = line + n + 1;
            while (*v == ' ')
                v++;
            size_t len = strcspn(v, "\r");
            snprintf(value, sizeof value, "%.*s", (int)len, v);
            return value;
        }
        line = strstr(line, "\r\n");
    }
    return NULL;
}

int ts_closed(ts_conn *c, int timeout_ms)
{
    int64_t deadline = ts_now_ms() + timeout_ms;
    for (;;) {
        c->len = 0;
        int rc = fill(c, deadline);
        if (rc == 0)
            return 1;
        if (rc < 0)
            return strcmp(ts_error, "timed out") == 0 ? 0 : 1;
    }
}

int ts_exchange(int port, const char *raw, ts_resp *r)
{
    ts_conn *c = malloc(sizeof *c);
    if (c == NULL || ts_open(c, port) != 0) {
        free(c);
        return -1;
    }
    int head_only = strncmp(raw, "HEAD ", 5) == 0;
    int rc = ts_send(c, raw) == 0 ? ts_read(c, r, 5000, head_only) : -1;
    ts_close(c);
    free(c);
    return rc;
}

/* ------------------------------------------------------------- server */

svk_http_server_options ts_options(void)
{
    svk_http_server_options o = SVK_HTTP_SERVER_OPTIONS_INIT;
    o.host = "127.0.0.1";
    o.threads = 1;
    o.worker_threads = 2;
    o.logger = ts_logger();
    return o;
}

int ts_start(svk_http_server *srv)
{
    int rc = svk_http_server_start(srv);
    if (rc != 0)
        return fail("start: %s (%s)", svk_strerror(rc), svk_http_server_last_error(srv));
    return svk_http_server_port(srv);
}

/* --------------------------------------------------------------- logs */

static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;
static char *log_text;
static size_t log_len;
static svk_logger *log_root;

static int keep_line(const char *line, size_t len, void *user)
{
    (void)user;
    pthread_mutex_lock(&log_lock);
    char *grown = realloc(log_text, log_len + len + 1);
    if (grown != NULL) {
        memcpy(grown + log_len, line, len);
        log_len += len;
        grown[log_len] = '\0';
        log_text = grown;
    }
    pthread_mutex_unlock(&log_lock);
    return 0;
}

static void free_logger(void)
{
    svk_logger_free(log_root);
    free(log_text);
}

svk_logger *ts_logger(void)
{
    if (log_root == NULL) {
        svk_log_options o = SVK_LOG_OPTIONS_INIT;
        o.sink = SVK_LOG_SINK_CALLBACK;
        o.write_fn = keep_line;
        o.level = SVK_LOG_DEBUG;
        if (svk_logger_new(&log_root, &o, NULL) == 0)
            atexit(free_logger);
    }
    return log_root;
}

char *ts_log_text(void)
{
    pthread_mutex_lock(&log_lock);
    char *copy = log_text ? strdup(log_text) : NULL;
    pthread_mutex_unlock(&log_lock);
    return copy;
}

int ts_fd_count(void)
{
    int n = 0;
    DIR *d = opendir("/proc/self/fd");
    if (d == NULL)
        return -1;
    while (readdir(d) != NULL)
        n++;
    closedir(d);
    return n - 3; /* ".", ".." and the directory's own fd */
}
