/*
 * idle_conns.c — the client half of bench/http's RSS-per-idle-connection
 * figure: open N keep-alive connections to one server, send one request on
 * each and read its whole response, then hold them all idle until SIGTERM
 * or SIGINT, when it resets them (SO_LINGER 0, so no TIME_WAIT is left).
 *
 *   idle-conns --port P [--host 127.0.0.1] [--count N] [--path /hello]
 *
 * Prints `held N` on stdout once every connection is idle (run.sh waits for
 * that line, reads the server's RSS, then stops this process, which prints
 * `still open K of N`: those the server had not closed meanwhile), or
 * `failed after K of N: reason` and exits 1 if a connection could not be
 * made or did not get a complete 200 response (a server with a connection
 * limit below N). Raises its own RLIMIT_NOFILE to fit N. One request at a time:
 * the server is idle apart from the connection being set up.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

struct options {
    const char *host;
    const char *path;
    int port;
    int count;
};

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
    (void)sig;
    stop = 1;
}

static int raise_fd_limit(int count)
{
    struct rlimit rl;
    rlim_t want = (rlim_t)count + 64;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
        return -1;
    if (rl.rlim_cur >= want)
        return 0;
    rl.rlim_cur = want;
    if (rl.rlim_max < want)
        rl.rlim_max = want; /* needs root (CAP_SYS_RESOURCE) */
    return setrlimit(RLIMIT_NOFILE, &rl);
}

/* Length of the response in buf[0..len) if complete, 0 if more is needed,
 * -1 if it is not a 200 with a Content-Length. */
static long complete_response(const char *buf, size_t len)
{
    const char *end = memmem(buf, len, "\r\n\r\n", 4);
    if (end == NULL)
        return 0;
    if (len < 12 || memcmp(buf, "HTTP/1.1 200", 12) != 0)
        return -1;
    size_t head = (size_t)(end - buf) + 4;
    for (const char *p = buf; p < end; p++) {
        if (p[0] == '\n' && strncasecmp(p + 1, "content-length:", 15) == 0) {
            long body = strtol(p + 16, NULL, 10);
            return head + (size_t)body <= len ? (long)(head + (size_t)body) : 0;
        }
    }
    return -1;
}

/* Connect, send one GET and read its response; the fd stays open. */
static int open_one(const struct sockaddr_in *addr, const char *req, size_t req_len,
                    const char **why)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        *why = strerror(errno);
        return -1;
    }
    struct timeval tv = {.tv_sec = 5};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    if (connect(fd, (const struct sockaddr *)addr, sizeof *addr) != 0 ||
        send(fd, req, req_len, MSG_NOSIGNAL) != (ssize_t)req_len) {
        *why = strerror(errno);
        close(fd);
        return -1;
    }
    char buf[4096];
    size_t len = 0;
    long done = 0;
    while (done == 0 && len < sizeof buf) {
        ssize_t n = recv(fd, buf + len, sizeof buf - len, 0);
        if (n <= 0) {
            *why = n == 0 ? "server closed the connection" : strerror(errno);
            close(fd);
            return -1;
        }
        len += (size_t)n;
        done = complete_response(buf, len);
    }
    if (done <= 0) {
        *why = "response was not a complete 200 with Content-Length";
        close(fd);
        return -1;
    }
    return fd;
}

/* How many of the n connections the server has not closed: a server that
 * sheds idle connections under a limit (nginx's "worker_connections are
 * not enough, reusing connections") shows up here, not at connect time. */
static int count_open(const int *fds, int n)
{
    int open = 0;
    for (int i = 0; i < n; i++) {
        struct pollfd p = {.fd = fds[i], .events = POLLIN | POLLRDHUP};
        open += poll(&p, 1, 0) == 0;
    }
    return open;
}

static void reset_all(const int *fds, int n)
{
    struct linger lg = {.l_onoff = 1, .l_linger = 0};
    for (int i = 0; i < n; i++) {
        setsockopt(fds[i], SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
        close(fds[i]);
    }
}

static int parse_options(int argc, char **argv, struct options *o)
{
    *o = (struct options){.host = "127.0.0.1", .path = "/hello", .count = 10000};
    for (int i = 1; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "--port") == 0)
            o->port = atoi(argv[i + 1]);
        else if (strcmp(argv[i], "--host") == 0)
            o->host = argv[i + 1];
        else if (strcmp(argv[i], "--count") == 0)
            o->count = atoi(argv[i + 1]);
        else if (strcmp(argv[i], "--path") == 0)
            o->path = argv[i + 1];
        else
            return -1;
    }
    return argc % 2 == 1 && o->port > 0 && o->port < 65536 && o->count > 0 ? 0 : -1;
}

int main(int argc, char **argv)
{
    struct options o;
    if (parse_options(argc, argv, &o) != 0) {
        fprintf(stderr, "usage: idle-conns --port P [--host A] [--count N] [--path P]\n");
        return 2;
    }
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons((uint16_t)o.port)};
    if (inet_pton(AF_INET, o.host, &addr.sin_addr) != 1) {
        fprintf(stderr, "idle-conns: bad IPv4 address %s\n", o.host);
        return 2;
    }
    if (raise_fd_limit(o.count) != 0) {
        printf("failed after 0 of %d: cannot raise RLIMIT_NOFILE: %s\n", o.count,
               strerror(errno));
        return 1;
    }
    signal(SIGTERM, on_signal);
    signal(SIGINT, on_signal);
    char req[512];
    int req_len = snprintf(req, sizeof req, "GET %s HTTP/1.1\r\nHost: %s:%d\r\n\r\n",
                           o.path, o.host, o.port);
    int *fds = calloc((size_t)o.count, sizeof *fds);
    if (fds == NULL || req_len <= 0 || (size_t)req_len >= sizeof req)
        return 1;
    int held = 0;
    const char *why = NULL;
    while (held < o.count && !stop) {
        int fd = open_one(&addr, req, (size_t)req_len, &why);
        if (fd < 0)
            break;
        fds[held++] = fd;
    }
    if (held < o.count) {
        printf("failed after %d of %d: %s\n", held, o.count, why ? why : "interrupted");
        reset_all(fds, held);
        return 1;
    }
    /* Block the signals while testing the flag, so one that arrives between
     * the test and the wait is not lost. */
    sigset_t block, old;
    sigemptyset(&block);
    sigaddset(&block, SIGTERM);
    sigaddset(&block, SIGINT);
    sigprocmask(SIG_BLOCK, &block, &old);
    printf("held %d\n", held);
    fflush(stdout);
    while (!stop)
        sigsuspend(&old);
    printf("still open %d of %d\n", count_open(fds, held), held);
    reset_all(fds, held);
    free(fds);
    return 0;
}
