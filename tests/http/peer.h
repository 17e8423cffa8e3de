/*
 * peer.h — test helpers for the HTTP server: a raw-socket client that
 * writes exact bytes and reads responses back (Content-Length, chunked or
 * close-delimited bodies; several pipelined responses from one buffer),
 * detects a closed connection, and a server fixture on 127.0.0.1 with an
 * ephemeral port and a log sink that keeps lines for assertions.
 *
 * Everything fails the test (Criterion or plain abort) only through the
 * caller's asserts: functions return -1 and say why in ts_error.
 */
#ifndef SVK_TESTS_HTTP_PEER_H
#define SVK_TESTS_HTTP_PEER_H

#include <stddef.h>
#include <stdint.h>

#include "svckit/http.h"
#include "svckit/log.h"

extern char ts_error[256];

typedef struct ts_conn {
    int fd;
    size_t len;
    char buf[1 << 16];
} ts_conn;

typedef struct ts_resp {
    int status;
    char head[16384]; /* status line and fields, NUL-terminated */
    char *body;       /* malloc'd, NUL-terminated */
    size_t body_len;
    int chunked;
} ts_resp;

/* Connect to 127.0.0.1:port; 0 or -1. */
int ts_open(ts_conn *c, int port);
void ts_close(ts_conn *c);
int ts_send(ts_conn *c, const char *s);
int ts_send_n(ts_conn *c, const void *s, size_t n);

/* Read one response (head_only: a HEAD request's, no body); 0 or -1 on
 * timeout, EOF or a malformed response. */
int ts_read(ts_conn *c, ts_resp *r, int timeout_ms, int head_only);
void ts_resp_free(ts_resp *r);
/* The value of a field of r (first match, case-insensitive), copied into a
 * static buffer, or NULL. */
const char *ts_header(const ts_resp *r, const char *name);

/* 1 when the server closed the connection (EOF or reset) within
 * timeout_ms, reading and dropping any bytes before it; 0 if still open. */
int ts_closed(ts_conn *c, int timeout_ms);

/* One request on a fresh connection: send raw, read the response. */
int ts_exchange(int port, const char *raw, ts_resp *r);

/* Options for a test server: 127.0.0.1, ephemeral port, one loop, two
 * workers, and the log sink below. */
svk_http_server_options ts_options(void);
/* Start srv (configured by the caller) and return its port, or -1. */
int ts_start(svk_http_server *srv);

/* A logger whose lines are kept in memory (JSON), for assertions. */
svk_logger *ts_logger(void);
/* Everything logged so far (a copy to free), or NULL. */
char *ts_log_text(void);

/* A handler that answers the request body as it came (buffered routes). */
int ts_echo(svk_http_request *req, svk_http_response *resp, void *user);

/* Sleep ms milliseconds. */
void ts_sleep_ms(int ms);

/* Milliseconds on the monotonic clock. */
int64_t ts_now_ms(void);
/* Number of open file descriptors of this process. */
int ts_fd_count(void);

#endif
