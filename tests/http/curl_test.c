/*
 * curl_test.c — differential check against a real client: curl sends a
 * variety of requests to a tiny listener on 127.0.0.1; the bytes are read
 * the way the server will read them (a growing buffer, the parser called
 * again after each read, the chunked decoder on the body) and what the
 * parser makes of them must be what curl was asked to send. The listener
 * answers 204 so that curl exits 0, which is checked too.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "feed.h"
#include "http/parser.h"

extern char **environ;

#define WAIT_MS 20000

static int listener(int *port)
{
    struct sockaddr_in a;
    socklen_t len = sizeof a;
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    cr_assert_geq(fd, 0);
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    cr_assert_eq(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
    cr_assert_eq(listen(fd, 4), 0);
    cr_assert_eq(getsockname(fd, (struct sockaddr *)&a, &len), 0);
    *port = ntohs(a.sin_port);
    return fd;
}

static pid_t spawn_curl(char *const argv[])
{
    posix_spawn_file_actions_t fa;
    pid_t pid;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
    int rc = posix_spawnp(&pid, "curl", &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    cr_assert_eq(rc, 0, "cannot run curl: %s", strerror(rc));
    return pid;
}

static void wait_readable(int fd)
{
    struct pollfd p = {fd, POLLIN, 0};
    cr_assert_eq(poll(&p, 1, WAIT_MS), 1, "nothing from curl within %d ms", WAIT_MS);
}

/* One connection as the server will hold it: a growing buffer. */
struct conn {
    int fd;
    char *buf;
    size_t len;
    size_t cap;
};

static void read_more(struct conn *c)
{
    if (c->cap - c->len < 4096) {
        c->cap = c->cap * 2 + 4096;
        c->buf = realloc(c->buf, c->cap); /* moves the head: the parser must cope */
        cr_assert_not_null(c->buf);
    }
    wait_readable(c->fd);
    ssize_t n = recv(c->fd, c->buf + c->len, c->cap - c->len, 0);
    cr_assert_gt(n, 0, "curl closed before the request was complete");
    c->len += (size_t)n;
}

static void send_all(int fd, const char *s)
{
    size_t n = strlen(s);
    cr_assert_eq(send(fd, s, n, MSG_NOSIGNAL), (ssize_t)n);
}

static int read_head(struct conn *c, svk__http_request *req, svk__http_header *h)
{
    svk__http_parser p;
    int rc;
    cr_assert_eq(svk__http_parser_init(&p, NULL), 0);
    while ((rc = svk__http_parse_request(&p, c->buf, c->len, req, h, 64)) == SVK_EAGAIN)
        read_more(c);
    cr_assert_gt(rc, 0, "curl's request rejected: %d %s", req->status, req->reason);
    return rc;
}

/* Reads and decodes the body after the head; returns it (new, malloc). */
static char *read_body(struct conn *c, size_t head, const svk__http_request *req,
                       size_t *body_len)
{
    char *body = malloc(c->len + (size_t)req->content_length + 1);
    *body_len = 0;
    if (req->body == SVK__HTTP_BODY_LENGTH) {
        while (c->len - head < req->content_length)
            read_more(c);
        memcpy(body, c->buf + head, (size_t)req->content_length);
        *body_len = (size_t)req->content_length;
        cr_assert_eq(c->len - head, *body_len, "bytes after the body");
    } else if (req->body == SVK__HTTP_BODY_CHUNKED) {
        svk__http_chunked d;
        size_t got, used, start = head;
        int rc;
        cr_assert_eq(svk__http_chunked_init(&d, NULL), 0);
        d.body_max = 64 << 20;
        while ((rc = svk__http_chunked_decode(&d, c->buf + start, c->len - start, &got,
                                              &used)) == SVK_EAGAIN) {
            body = realloc(body, *body_len + got + 1);
            memcpy(body + *body_len, c->buf + start, got);
            *body_len += got;
            memmove(c->buf + head, c->buf + start + used, c->len - start - used);
            c->len = head + (c->len - start - used);
            start = head;
            read_more(c);
        }
        cr_assert_eq(rc, 0, "curl's chunked body rejected: %s", d.reason);
        body = realloc(body, *body_len + got + 1);
        memcpy(body + *body_len, c->buf + start, got);
        *body_len += got;
        cr_assert_eq(used, c->len - start, "bytes after the chunked body");
    }
    return body;
}

/* What curl was asked to send. */
struct sent {
    const char *method;
    const char *target;
    const char *path;
    const char *query;
    int minor;
    int form;
    int body;
    const char *fields[8]; /* "Name: value" that must appear exactly once */
    const char *data;      /* NULL: none; "@": the random file */
    const char *host;      /* NULL: 127.0.0.1:PORT */
};

static const char *field(const svk__http_request *r, const char *name, int *count)
{
    const char *value = NULL;
    *count = 0;
    for (size_t i = 0; i < r->num_headers; i++) {
        if (r->headers[i].name_len == strlen(name) &&
            strncasecmp(r->headers[i].name, name, strlen(name)) == 0) {
            (*count)++;
            value = r->headers[i].value;
        }
    }
    return value;
}

static void expect_field(const svk__http_request *r, const char *line)
{
    char name[64];
    const char *colon = strchr(line, ':');
    int count;
    snprintf(name, sizeof name, "%.*s", (int)(colon - line), line);
    const char *want = colon + 2;
    const char *got = field(r, name, &count);
    cr_assert_eq(count, 1, "%s appears %d times", name, count);
    for (size_t i = 0; i < r->num_headers; i++)
        if (r->headers[i].value == got)
            cr_assert(r->headers[i].value_len == strlen(want) &&
                          memcmp(got, want, strlen(want)) == 0,
                      "%s: want [%s] got [%.*s]", name, want, (int)r->headers[i].value_len,
                      got);
}

static void expect_span(const char *what, const char *got, size_t len, const char *want)
{
    if (want == NULL) {
        cr_assert_null(got, "%s", what);
        return;
    }
    cr_assert(got != NULL && len == strlen(want) && memcmp(got, want, len) == 0,
              "%s: want [%s] got [%.*s]", what, want, (int)len, got ? got : "");
}

static void expect_request(const svk__http_request *r, const struct sent *s, int port)
{
    char host[64];
    int count;
    expect_span("method", r->method, r->method_len, s->method);
    expect_span("target", r->target, r->target_len, s->target);
    expect_span("path", r->path, r->path_len, s->path);
    expect_span("query", r->query, r->query_len, s->query);
    cr_assert_eq(r->minor_version, s->minor);
    cr_assert_eq(r->target_form, s->form);
    cr_assert_eq(r->body, s->body, "%s: body kind", s->target);
    snprintf(host, sizeof host, "127.0.0.1:%d", port);
    expect_span("host", r->host, r->host_len, s->host != NULL ? s->host : host);
    const char *ua = field(r, "User-Agent", &count);
    cr_assert(count == 1 && strncmp(ua, "curl/", 5) == 0, "User-Agent");
    for (int i = 0; i < 8 && s->fields[i] != NULL; i++)
        expect_field(r, s->fields[i]);
}

static char random_file[64];
static char *random_data;
static size_t random_len;

static void make_random_file(size_t n)
{
    strcpy(random_file, "/tmp/svk-curl-XXXXXX");
    int fd = mkstemp(random_file);
    cr_assert_geq(fd, 0);
    random_data = malloc(n);
    for (size_t i = 0; i < n; i++)
        random_data[i] = (char)((i * 2654435761u) >> 13); /* every byte value, CR, LF, NUL */
    cr_assert_eq(write(fd, random_data, n), (ssize_t)n);
    close(fd);
    random_len = n;
}

/* Runs curl with args ("%u..." = http://127.0.0.1:PORT..., "%f" = @ and the
 * random file, "%p" = its path), captures one request and checks it. */
static void exchange(const char *const *args, const struct sent *s)
{
    int port, status;
    int lfd = listener(&port);
    char *argv[40], url[64], file[80];
    size_t n = 0;
    snprintf(url, sizeof url, "http://127.0.0.1:%d", port);
    snprintf(file, sizeof file, "@%s", random_file);
    argv[n++] = "curl";
    argv[n++] = "-sS";
    argv[n++] = "--max-time";
    argv[n++] = "20";
    for (; args[n - 4] != NULL; n++) {
        static char expanded[40][256];
        const char *a = args[n - 4];
        if (strncmp(a, "%u", 2) == 0)
            snprintf(expanded[n], sizeof expanded[n], "%s%s", url, a + 2);
        else if (strcmp(a, "%f") == 0)
            snprintf(expanded[n], sizeof expanded[n], "%s", file);
        else if (strcmp(a, "%p") == 0)
            snprintf(expanded[n], sizeof expanded[n], "%s", random_file);
        else
            snprintf(expanded[n], sizeof expanded[n], "%s", a);
        argv[n] = expanded[n];
    }
    argv[n] = NULL;
    pid_t pid = spawn_curl(argv);

    wait_readable(lfd);
    struct conn c = {accept4(lfd, NULL, NULL, SOCK_CLOEXEC), NULL, 0, 0};
    cr_assert_geq(c.fd, 0);
    svk__http_request req;
    svk__http_header h[64];
    int head = read_head(&c, &req, h);
    if (req.expect_continue)
        send_all(c.fd, "HTTP/1.1 100 Continue\r\n\r\n");
    size_t body_len;
    char *body = read_body(&c, (size_t)head, &req, &body_len);
    send_all(c.fd, "HTTP/1.1 204 No Content\r\nContent-Length: 0\r\n\r\n");
    /* The head may have moved with the body reads: parse it once more from
     * the bytes still in the buffer before looking at pointers. */
    cr_assert_eq(read_head(&c, &req, h), head);
    expect_request(&req, s, port);
    if (s->data != NULL && s->data[0] == '@') {
        cr_assert_eq(body_len, random_len);
        cr_assert(memcmp(body, random_data, random_len) == 0, "body differs");
    } else if (s->data != NULL) {
        expect_span("body", body, body_len, s->data);
    } else {
        cr_assert_eq(body_len, 0);
    }
    cr_assert_eq(waitpid(pid, &status, 0), pid);
    cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "curl failed: %d", status);
    free(body);
    free(c.buf);
    close(c.fd);
    close(lfd);
}

#define ORIGIN SVK__HTTP_ORIGIN_FORM
#define NONE SVK__HTTP_BODY_NONE
#define LENGTH SVK__HTTP_BODY_LENGTH
#define CHUNKED SVK__HTTP_BODY_CHUNKED

Test(curl, requests_parse_as_curl_sent_them)
{
    make_random_file(300000);
    struct {
        const char *args[16];
        struct sent s;
    } cases[] = {
        {{"%u/a/b?x=1&y=%20z", NULL},
         {"GET", "/a/b?x=1&y=%20z", "/a/b", "x=1&y=%20z", 1, ORIGIN, NONE, {"Accept: */*"},
          NULL, NULL}},
        {{"-d", "a=1&b=2", "%u/form", NULL},
         {"POST", "/form", "/form", NULL, 1, ORIGIN, LENGTH,
          {"Content-Length: 7", "Content-Type: application/x-www-form-urlencoded"},
          "a=1&b=2", NULL}},
        {{"--data-binary", "%f", "-H", "Expect:", "%u/bin", NULL},
         {"POST", "/bin", "/bin", NULL, 1, ORIGIN, LENGTH, {"Content-Length: 300000"}, "@", NULL}},
        {{"-H", "X-Custom: hello  world", "-H", "X-Empty;", "-H", "X-Tab:\tv\t", "%u/h",
          NULL},
         {"GET", "/h", "/h", NULL, 1, ORIGIN, NONE,
          {"X-Custom: hello  world", "X-Empty: ", "X-Tab: v"}, NULL, NULL}},
        {{"-H", "Transfer-Encoding: chunked", "--data-binary", "%f", "%u/chunked", NULL},
         {"POST", "/chunked", "/chunked", NULL, 1, ORIGIN, CHUNKED,
          {"Transfer-Encoding: chunked"}, "@", NULL}},
        {{"--http1.0", "%u/old", NULL},
         {"GET", "/old", "/old", NULL, 0, ORIGIN, NONE, {NULL}, NULL, NULL}},
        {{"--http1.0", "-d", "x=y", "%u/old-post", NULL},
         {"POST", "/old-post", "/old-post", NULL, 0, ORIGIN, LENGTH, {"Content-Length: 3"},
          "x=y", NULL}},
        {{"-T", "%p", "%u/put-target", NULL},
         {"PUT", "/put-target", "/put-target", NULL, 1, ORIGIN, LENGTH, {NULL}, "@", NULL}},
        {{"-I", "%u/head?q", NULL},
         {"HEAD", "/head?q", "/head", "q", 1, ORIGIN, NONE, {NULL}, NULL, NULL}},
        {{"--request-target", "*", "-X", "OPTIONS", "%u", NULL},
         {"OPTIONS", "*", "*", NULL, 1, SVK__HTTP_ASTERISK_FORM, NONE, {NULL}, NULL, NULL}},
        {{"--get", "--data-urlencode", "q=a b&c", "%u/search", NULL},
         {"GET", "/search?q=a+b%26c", "/search", "q=a+b%26c", 1, ORIGIN, NONE, {NULL},
          NULL, NULL}},
        {{"-X", "PATCH", "-H", "Content-Type: application/json", "-d", "{\"a\":1}",
          "%u/v1/items/42", NULL},
         {"PATCH", "/v1/items/42", "/v1/items/42", NULL, 1, ORIGIN, LENGTH,
          {"Content-Type: application/json", "Content-Length: 7"}, "{\"a\":1}", NULL}},
        {{"-H", "Expect: 100-continue", "--data-binary", "%f", "%u/expect", NULL},
         {"POST", "/expect", "/expect", NULL, 1, ORIGIN, LENGTH, {"Expect: 100-continue"},
          "@", NULL}},
        {{"-H", "Connection: close", "-H", "Host: example.test", "%u/close", NULL},
         {"GET", "/close", "/close", NULL, 1, ORIGIN, NONE,
          {"Connection: close", "Host: example.test"}, NULL, "example.test"}},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        cr_log_info("curl case %zu: %s", i, cases[i].s.target);
        exchange(cases[i].args, &cases[i].s);
    }
    unlink(random_file);
    free(random_data);
}

/* Absolute-form, as curl sends it to a proxy. */
Test(curl, absolute_form_through_a_proxy)
{
    int port, status;
    int lfd = listener(&port);
    char proxy[64];
    snprintf(proxy, sizeof proxy, "http://127.0.0.1:%d", port);
    char *argv[] = {"curl", "-sS", "--max-time", "20", "-x", proxy,
                    "http://example.com:8080/abs?q=1", NULL};
    pid_t pid = spawn_curl(argv);
    wait_readable(lfd);
    struct conn c = {accept4(lfd, NULL, NULL, SOCK_CLOEXEC), NULL, 0, 0};
    svk__http_request req;
    svk__http_header h[64];
    read_head(&c, &req, h);
    send_all(c.fd, "HTTP/1.1 204 No Content\r\nContent-Length: 0\r\n\r\n");
    expect_span("target", req.target, req.target_len, "http://example.com:8080/abs?q=1");
    expect_span("host", req.host, req.host_len, "example.com:8080");
    expect_span("path", req.path, req.path_len, "/abs");
    expect_span("query", req.query, req.query_len, "q=1");
    cr_assert_eq(req.target_form, SVK__HTTP_ABSOLUTE_FORM);
    cr_assert_eq(waitpid(pid, &status, 0), pid);
    cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "curl failed: %d", status);
    free(c.buf);
    close(c.fd);
    close(lfd);
}
