/*
 * hello_test.c — examples/hello (svk-hello) end to end with curl: its
 * routes, its probes, its configuration from the environment (exit 78 on a
 * bad value), its access log, and SIGTERM during a request in flight: the
 * request completes, new connections are refused, the process exits 0.
 * The binary's path comes from SVK_HELLO (set by CMake).
 */
#include <criterion/criterion.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "peer.h"

typedef struct hello {
    pid_t pid;
    int out; /* its stdout */
    int port;
    pthread_t reader;
    pthread_mutex_t lock;
    char log[1 << 20];
    size_t len;
} hello;

static hello h;

static void *read_log(void *arg)
{
    hello *p = arg;
    char buf[4096];
    ssize_t n;
    while ((n = read(p->out, buf, sizeof buf)) > 0) {
        pthread_mutex_lock(&p->lock);
        size_t k = (size_t)n < sizeof p->log - 1 - p->len ? (size_t)n : sizeof p->log - 1 - p->len;
        memcpy(p->log + p->len, buf, k);
        p->len += k;
        p->log[p->len] = '\0';
        pthread_mutex_unlock(&p->lock);
    }
    return NULL;
}

/* Start svk-hello with extra NAME=value settings (NULL-terminated). */
static pid_t spawn(const char *const *env, int *out_fd, int *err_fd)
{
    const char *bin = getenv("SVK_HELLO");
    cr_assert_not_null(bin, "SVK_HELLO is not set");
    int out[2], err[2];
    cr_assert_eq(pipe(out), 0);
    cr_assert_eq(pipe(err), 0);
    pid_t pid = fork();
    cr_assert_geq(pid, 0);
    if (pid == 0) {
        dup2(out[1], 1);
        dup2(err_fd != NULL ? err[1] : out[1], 2); /* sanitizer reports join the log */
        close(out[0]);
        close(err[0]);
        clearenv();
        for (size_t i = 0; env[i] != NULL; i++)
            putenv((char *)env[i]);
        execl(bin, "svk-hello", (char *)NULL);
        _exit(127);
    }
    close(out[1]);
    close(err[1]);
    *out_fd = out[0];
    if (err_fd != NULL)
        *err_fd = err[0];
    else
        close(err[0]);
    return pid;
}

static int find_port(void)
{
    for (int i = 0; i < 500; i++) {
        pthread_mutex_lock(&h.lock);
        const char *json = strstr(h.log, "\"msg\":\"listening\",\"port\":");
        const char *text = strstr(h.log, "msg=listening port=");
        int port = json ? atoi(json + strlen("\"msg\":\"listening\",\"port\":"))
                   : text ? atoi(text + strlen("msg=listening port="))
                          : 0;
        pthread_mutex_unlock(&h.lock);
        if (port > 0)
            return port;
        struct timespec ts = {0, 10 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    return 0;
}

static void start_with(const char *const *env)
{
    pthread_mutex_init(&h.lock, NULL);
    h.pid = spawn(env, &h.out, NULL);
    pthread_create(&h.reader, NULL, read_log, &h);
    h.port = find_port();
    cr_assert_gt(h.port, 0, "svk-hello did not start: %s", h.log);
}

static void start(void)
{
    static const char *const env[] = {"PORT=0", "HTTP_THREADS=2", "LOG_LEVEL=info", NULL};
    start_with(env);
}

static int stop_process(void)
{
    int status = 0;
    if (h.pid > 0) {
        kill(h.pid, SIGTERM);
        waitpid(h.pid, &status, 0);
        pthread_join(h.reader, NULL);
        close(h.out);
        h.pid = 0;
        cr_assert_null(strstr(h.log, "Sanitizer"), "%s", h.log);
        cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "status %d", status);
    }
    return status;
}

static void stop(void)
{
    stop_process();
}

TestSuite(hello, .init = start, .fini = stop);

/* Run curl with args (a shell fragment ending with the path); the output
 * is "<body>|<status>". */
static char *curl(const char *args)
{
    char cmd[1024];
    const char *path = strrchr(args, ' ') ? strrchr(args, ' ') + 1 : args;
    snprintf(cmd, sizeof cmd, "curl -sS --max-time 10 -w '|%%{http_code}' %.*s "
             "'http://127.0.0.1:%d%s'", (int)(path - args), args, h.port, path);
    FILE *p = popen(cmd, "r");
    cr_assert_not_null(p);
    char *out = calloc(1, 65536);
    size_t n = fread(out, 1, 65535, p);
    out[n] = '\0';
    pclose(p);
    return out;
}

static void expect_curl(const char *args, const char *want)
{
    char *got = curl(args);
    int same = strcmp(got, want) == 0;
    free(got);
    cr_assert(same, "curl %s", args);
}

Test(hello, the_routes)
{
    expect_curl("/hello", "hello, world\n|200");
    expect_curl("-H 'Content-Type: application/json' -d '{\"n\": [1, 2]}' /v1/echo",
                "{\"n\":[1,2]}|200");
    char *bad = curl("-H 'Content-Type: application/json' -d '{\"n\": ' /v1/echo");
    cr_assert(strstr(bad, "invalid JSON") != NULL && strstr(bad, "|400") != NULL, "%s", bad);
    free(bad);
    char *type = curl("-H 'Content-Type: text/plain' -d '{}' /v1/echo");
    cr_assert(strstr(type, "|415") != NULL, "%s", type);
    free(type);
    expect_curl("/v1/items/42", "{\"id\":\"42\",\"name\":\"item\"}|200");
    char *nf = curl("/v1/nothing");
    cr_assert(strstr(nf, "|404") != NULL, "%s", nf);
    free(nf);
}

Test(hello, the_probes)
{
    expect_curl("/healthz", "{\"status\":\"ok\"}\n|200");
    expect_curl("/startupz", "{\"status\":\"started\"}\n|200");
    expect_curl("/readyz", "{\"status\":\"ready\",\"checks\":{}}\n|200");
}

Test(hello, sigterm_lets_the_request_in_flight_finish_and_exits_0)
{
    char cmd[256];
    snprintf(cmd, sizeof cmd, "curl -sS --max-time 10 -w '|%%{http_code}' "
             "'http://127.0.0.1:%d/v1/items/7?delay=600ms'", h.port);
    FILE *slow = popen(cmd, "r");
    struct timespec ts = {0, 200 * 1000 * 1000};
    nanosleep(&ts, NULL);
    kill(h.pid, SIGTERM);
    nanosleep(&ts, NULL);
    char *refused = curl("/hello");
    cr_assert(strstr(refused, "|000") != NULL, "new connections are refused: %s", refused);
    free(refused);
    char out[256] = "";
    size_t n = fread(out, 1, sizeof out - 1, slow);
    out[n] = '\0';
    pclose(slow);
    cr_assert_str_eq(out, "{\"id\":\"7\",\"name\":\"item\"}|200");
    int status;
    waitpid(h.pid, &status, 0);
    h.pid = 0;
    pthread_join(h.reader, NULL);
    close(h.out);
    cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "status %d", status);
    cr_assert_null(strstr(h.log, "Sanitizer"), "%s", h.log);
    cr_assert(strstr(h.log, "\"msg\":\"draining\"") != NULL, "%s", h.log);
    cr_assert(strstr(h.log, "\"route\":\"/v1/items/{id}\",\"status\":200") != NULL, "%s", h.log);
}

Test(hello_config, bad_configuration_exits_78, .init = NULL, .fini = NULL)
{
    static const char *const cases[][3] = {
        {"PORT=eighty", NULL, "PORT"},
        {"HTTP_READ_TIMEOUT=5", NULL, "HTTP_READ_TIMEOUT"},
        {"HTTP_BODY_LIMIT=lots", NULL, "HTTP_BODY_LIMIT"},
        {"LOG_LEVEL=loud", NULL, "LOG_LEVEL"},
        {"LOG_FORMAT=xml", NULL, "LOG_FORMAT"},
        {"HTTP_THREADS=-1", NULL, "HTTP_THREADS"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int out, err, status;
        pid_t pid = spawn(cases[i], &out, &err);
        char text[4096] = "";
        ssize_t n = read(err, text, sizeof text - 1);
        text[n > 0 ? n : 0] = '\0';
        waitpid(pid, &status, 0);
        close(out);
        close(err);
        cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 78, "%s: status %d", cases[i][0],
                  status);
        cr_assert(strstr(text, cases[i][2]) != NULL, "%s: %s", cases[i][0], text);
    }
}

Test(hello_limits, the_environment_configures_the_server, .init = NULL)
{
    static const char *const env[] = {"PORT=0", "HTTP_THREADS=1", "HTTP_BODY_LIMIT=16",
                                      "HTTP_IDLE_TIMEOUT=200ms", "LOG_FORMAT=text", NULL};
    start_with(env);
    char *big = curl("-H 'Content-Type: application/json' -d '{\"a\":\"0123456789abcdef\"}' "
                     "/v1/echo");
    cr_assert(strstr(big, "|413") != NULL, "%s", big);
    free(big);
    ts_conn c;
    ts_resp r;
    cr_assert_eq(ts_open(&c, h.port), 0);
    cr_assert_eq(ts_send(&c, "GET /hello HTTP/1.1\r\nHost: t\r\n\r\n"), 0);
    cr_assert_eq(ts_read(&c, &r, 2000, 0), 0, "%s", ts_error);
    ts_resp_free(&r);
    int64_t t0 = ts_now_ms();
    cr_assert(ts_closed(&c, 2000));
    cr_assert_lt(ts_now_ms() - t0, 800, "HTTP_IDLE_TIMEOUT=200ms");
    ts_close(&c);
    cr_assert(strstr(h.log, "msg=\"http request\"") != NULL, "text format: %s", h.log);
}
