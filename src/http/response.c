/*
 * response.c — building responses: the handler-facing setters, the head
 * formatted into the request's reused buffer (status line, cached Date,
 * Content-Length, the handler's fields, X-Request-Id, Connection), the
 * server's JSON error bodies, and chunked streaming from worker handlers.
 *
 * The head and the body go out together in one writev (two iovecs), so a
 * body is never copied into the head; a static body (a string literal) is
 * not copied at all. Formatting is plain memcpy and a digit loop: no
 * printf on the hot path.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "http/server.h"

#define REQ_OF(resp) ((svk_http_request *)((char *)(resp)-offsetof(svk_http_request, resp)))

const char *svk__http_reason(int status)
{
    switch (status) {
    case 200: return "OK";
    case 201: return "Created";
    case 202: return "Accepted";
    case 204: return "No Content";
    case 206: return "Partial Content";
    case 301: return "Moved Permanently";
    case 302: return "Found";
    case 303: return "See Other";
    case 304: return "Not Modified";
    case 307: return "Temporary Redirect";
    case 308: return "Permanent Redirect";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 406: return "Not Acceptable";
    case 408: return "Request Timeout";
    case 409: return "Conflict";
    case 410: return "Gone";
    case 411: return "Length Required";
    case 412: return "Precondition Failed";
    case 413: return "Content Too Large";
    case 414: return "URI Too Long";
    case 415: return "Unsupported Media Type";
    case 417: return "Expectation Failed";
    case 422: return "Unprocessable Content";
    case 425: return "Too Early";
    case 428: return "Precondition Required";
    case 429: return "Too Many Requests";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    case 505: return "HTTP Version Not Supported";
    default: return "Status";
    }
}

/* ------------------------------------------------------------- format */

static char *put(char *p, const void *s, size_t n)
{
    memcpy(p, s, n);
    return p + n;
}

#define PUT_LIT(p, s) put((p), (s), sizeof(s) - 1)

static char *put_u64(char *p, uint64_t v)
{
    char tmp[20];
    int i = 0;
    do
        tmp[i++] = (char)('0' + v % 10);
    while ((v /= 10) != 0);
    while (i > 0)
        *p++ = tmp[--i];
    return p;
}

static char *put_hex(char *p, uint64_t v)
{
    static const char digits[] = "0123456789abcdef";
    char tmp[16];
    int i = 0;
    do
        tmp[i++] = digits[v & 15];
    while ((v >>= 4) != 0);
    while (i > 0)
        *p++ = tmp[--i];
    return p;
}

/* Date for a worker thread (the loop's cache is the loop's). */
static size_t date_now(char *out, size_t cap)
{
    static const char days[] = "SunMonTueWedThuFriSat";
    static const char months[] = "JanFebMarAprMayJunJulAugSepOctNovDec";
    time_t t = (time_t)(svk_clock_wall_ns() / 1000000000);
    struct tm tm;
    gmtime_r(&t, &tm);
    int n = snprintf(out, cap, "Date: %.3s, %02d %.3s %04d %02d:%02d:%02d GMT\r\n",
                     days + 3 * tm.tm_wday, tm.tm_mday, months + 3 * tm.tm_mon,
                     tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
    return n > 0 ? (size_t)n : 0;
}

static void body_of(const struct svk_http_response *resp, const char **data, size_t *len)
{
    if (resp->static_body != NULL) {
        *data = resp->static_body;
        *len = resp->static_len;
    } else {
        *data = (const char *)resp->body.data;
        *len = resp->body.len;
    }
}

static int bodyless(int status)
{
    return status == 204 || status == 304;
}

/* The head, up to (not including) the blank line; length > 0 is the body
 * length, < 0 means chunked (or close-delimited on HTTP/1.0). */
static int format_head(svk_http_request *req, svk_buf *out, int64_t length, const char *date,
                       size_t date_len)
{
    const struct svk_http_response *resp = &req->resp;
    const char *reason = svk__http_reason(resp->status);
    size_t need = 96 + strlen(reason) + date_len + resp->headers.len +
                  strlen(req->request_id) + 64;
    if (svk_buf_reserve(out, need) != 0)
        return SVK_ENOMEM;
    char *p = (char *)out->data + out->len;
    p = PUT_LIT(p, "HTTP/1.1 ");
    p = put_u64(p, (uint64_t)resp->status);
    *p++ = ' ';
    p = put(p, reason, strlen(reason));
    p = PUT_LIT(p, "\r\n");
    p = put(p, date, date_len);
    if (length >= 0 && !bodyless(resp->status)) {
        p = PUT_LIT(p, "Content-Length: ");
        p = put_u64(p, (uint64_t)length);
        p = PUT_LIT(p, "\r\n");
    } else if (length < 0 && req->head.minor_version == 1) {
        p = PUT_LIT(p, "Transfer-Encoding: chunked\r\n");
    }
    if (resp->headers.len > 0)
        p = put(p, resp->headers.data, resp->headers.len);
    p = PUT_LIT(p, "X-Request-Id: ");
    p = put(p, req->request_id, strlen(req->request_id));
    p = PUT_LIT(p, "\r\n");
    if (resp->close)
        p = PUT_LIT(p, "Connection: close\r\n");
    else if (req->head.minor_version == 0)
        p = PUT_LIT(p, "Connection: keep-alive\r\n");
    p = PUT_LIT(p, "\r\n");
    out->len = (size_t)(p - (char *)out->data);
    return 0;
}

/* The end of a streamed body: the last data as a chunk, then the
 * zero-length chunk (HTTP/1.0: the data, then close). */
static int build_stream_end(svk_http_request *req)
{
    struct svk_http_response *resp = &req->resp;
    svk_buf *h = &req->head_buf;
    svk_buf_reset(h);
    const char *data;
    size_t len;
    body_of(resp, &data, &len);
    if (req->head_only)
        len = 0;
    int rc = svk_buf_reserve(h, len + 32);
    if (rc != 0)
        return rc;
    char *p = (char *)h->data;
    if (req->head.minor_version == 0) {
        p = put(p, data, len);
        resp->close = 1;
    } else if (!req->head_only) {
        if (len > 0) {
            p = put_hex(p, len);
            p = PUT_LIT(p, "\r\n");
            p = put(p, data, len);
            p = PUT_LIT(p, "\r\n");
        }
        p = PUT_LIT(p, "0\r\n\r\n");
    }
    h->len = (size_t)(p - (char *)h->data);
    req->iov[0] = uv_buf_init((char *)h->data, (unsigned)h->len);
    req->iov[1] = uv_buf_init(NULL, 0);
    return 0;
}

/* Apply the recoverer, then format the response the handler left in
 * req->resp into head_buf + iov. Loop thread. */
int svk__http_resp_build(svk_http_request *req)
{
    struct svk_http_response *resp = &req->resp;
    svk__http_conn *c = req->conn;
    if (req->fail_status != 0 && !resp->head_sent)
        svk__http_resp_error_body(req, req->fail_status, req->fail_reason);
    else if (req->handler_rc < 0 && !resp->head_sent && !(resp->status_set && resp->status >= 400))
        svk__http_resp_error_body(req, 500, "internal server error");
    if (c->closing || c->loop->draining)
        resp->close = 1;
    if (resp->head_sent)
        return build_stream_end(req);
    const char *data;
    size_t len, date_len;
    body_of(resp, &data, &len);
    const char *date = svk__http_loop_date(c->loop, &date_len);
    svk_buf_reset(&req->head_buf);
    int rc = format_head(req, &req->head_buf, (int64_t)len, date, date_len);
    if (rc != 0)
        return rc;
    req->status_sent = resp->status;
    req->iov[0] = uv_buf_init((char *)req->head_buf.data, (unsigned)req->head_buf.len);
    if (req->head_only || bodyless(resp->status))
        len = 0;
    req->iov[1] = uv_buf_init((char *)data, (unsigned)len);
    return 0;
}

/* ------------------------------------------------------------- errors */

/* JSON string content for ASCII text: quotes, backslashes, controls. */
size_t svk__http_json_escape(const char *s, char *out, size_t cap)
{
    size_t o = 0;
    for (; *s && o + 7 < cap; s++) {
        unsigned char ch = (unsigned char)*s;
        if (ch == '"' || ch == '\\') {
            out[o++] = '\\';
            out[o++] = (char)ch;
        } else if (ch < 0x20 || ch == 0x7f) {
            o += (size_t)snprintf(out + o, cap - o, "\\u%04x", ch);
        } else {
            out[o++] = (char)ch;
        }
    }
    out[o] = '\0';
    return o;
}

static size_t error_json(const svk_http_request *req, int status, const char *message,
                         char *out, size_t cap)
{
    char msg[256], id[2 * SVK_CTX_REQUEST_ID_MAX + 8];
    svk__http_json_escape(message ? message : svk__http_reason(status), msg, sizeof msg);
    svk__http_json_escape(req->request_id, id, sizeof id);
    int n = snprintf(out, cap, "{\"error\":\"%s\",\"status\":%d,\"request_id\":\"%s\"}\n", msg,
                     status, id);
    return n < 0 ? 0 : (size_t)n < cap ? (size_t)n : cap - 1;
}

/* Remove every field line named name from the handler's headers. */
static void drop_header(svk_buf *h, const char *name)
{
    size_t n = strlen(name), at = 0;
    while (at < h->len) {
        char *line = (char *)h->data + at;
        char *eol = memchr(line, '\n', h->len - at);
        size_t len = eol ? (size_t)(eol - line) + 1 : h->len - at;
        if (len > n && line[n] == ':' && strncasecmp(line, name, n) == 0) {
            memmove(line, line + len, h->len - at - len);
            h->len -= len;
        } else {
            at += len;
        }
    }
    if (h->data != NULL)
        h->data[h->len] = '\0';
}

/* Replace status, Content-Type and body with the JSON error; other fields
 * the handler or a middleware added (CORS, Allow) stay. */
int svk__http_resp_error_body(svk_http_request *req, int status, const char *message)
{
    struct svk_http_response *resp = &req->resp;
    char body[1024];
    size_t n = error_json(req, status, message, body, sizeof body);
    drop_header(&resp->headers, "Content-Type");
    svk_buf_reset(&resp->body);
    resp->static_body = NULL;
    resp->status = status;
    resp->status_set = 1;
    if (svk__http_resp_header_raw(resp, "Content-Type", "application/json") != 0)
        return SVK_ENOMEM;
    return svk_buf_append(&resp->body, body, n);
}

void svk__http_resp_add_retry_after(svk_http_request *req)
{
    svk__http_resp_header_raw(&req->resp, "Retry-After", "1");
}

/* A complete response in out for the loop's rare paths (the deadline 503). */
size_t svk__http_resp_canned(svk_http_request *req, int status, const char *message, char *out,
                             size_t cap, int close)
{
    char body[512], date[64];
    size_t blen = error_json(req, status, message, body, sizeof body);
    size_t dlen = date_now(date, sizeof date);
    int n = snprintf(out, cap,
                     "HTTP/1.1 %d %s\r\n%.*sContent-Type: application/json\r\n"
                     "Content-Length: %zu\r\nX-Request-Id: %s\r\n%s\r\n%s",
                     status, svk__http_reason(status), (int)dlen, date, blen, req->request_id,
                     close ? "Connection: close\r\n" : "", body);
    return n < 0 ? 0 : (size_t)n < cap ? (size_t)n : cap - 1;
}

void svk__http_resp_reset(struct svk_http_response *resp)
{
    resp->status = 200;
    resp->status_set = 0;
    resp->close = 0;
    resp->head_sent = 0;
    resp->streaming = 0;
    resp->static_body = NULL;
    resp->static_len = 0;
    svk_buf_reset(&resp->headers);
    svk_buf_reset(&resp->body);
}

/* ------------------------------------------------------------ setters */

int svk__http_resp_header_raw(svk_http_response *resp, const char *name, const char *value)
{
    svk_buf *h = &resp->headers;
    size_t a = strlen(name), b = strlen(value);
    if (svk_buf_reserve(h, a + b + 4) != 0)
        return SVK_ENOMEM;
    char *p = (char *)h->data + h->len;
    p = put(p, name, a);
    p = PUT_LIT(p, ": ");
    p = put(p, value, b);
    p = PUT_LIT(p, "\r\n");
    h->len = (size_t)(p - (char *)h->data);
    h->data[h->len] = '\0';
    return 0;
}

SVK_API int svk_http_response_set_status(svk_http_response *resp, int status)
{
    if (resp == NULL || status < 200 || status > 999)
        return SVK_EINVAL;
    if (resp->head_sent)
        return SVK_ESTATE;
    resp->status = status;
    resp->status_set = 1;
    return 0;
}

SVK_API int svk_http_response_status(const svk_http_response *resp)
{
    return resp != NULL ? resp->status : 0;
}

static int reserved_name(const char *name)
{
    static const char *const reserved[] = {"Date", "Content-Length", "Transfer-Encoding",
                                           "Connection", "X-Request-Id"};
    for (size_t i = 0; i < sizeof reserved / sizeof reserved[0]; i++)
        if (strcasecmp(name, reserved[i]) == 0)
            return 1;
    return 0;
}

static int valid_field(const char *name, const char *value)
{
    if (*name == '\0')
        return 0;
    for (const unsigned char *p = (const unsigned char *)name; *p; p++)
        if (!(svk__http_class[*p] & SVK__HTTP_TCHAR))
            return 0;
    for (const unsigned char *p = (const unsigned char *)value; *p; p++)
        if (*p != '\t' && (*p < 0x20 || *p == 0x7f))
            return 0;
    return 1;
}

SVK_API int svk_http_response_add_header(svk_http_response *resp, const char *name,
                                         const char *value)
{
    if (resp == NULL || name == NULL || value == NULL || !valid_field(name, value) ||
        reserved_name(name))
        return SVK_EINVAL;
    if (resp->head_sent)
        return SVK_ESTATE;
    return svk__http_resp_header_raw(resp, name, value);
}

SVK_API int svk_http_response_write(svk_http_response *resp, const void *data, size_t n)
{
    if (resp == NULL || (data == NULL && n > 0))
        return SVK_EINVAL;
    if (resp->static_body != NULL) {
        const void *s = resp->static_body;
        size_t len = resp->static_len;
        resp->static_body = NULL;
        if (svk_buf_append(&resp->body, s, len) != 0)
            return SVK_ENOMEM;
    }
    if (n > 0 && svk_buf_append(&resp->body, data, n) != 0)
        return SVK_ENOMEM;
    if (resp->streaming && resp->body.len >= SVK__HTTP_STREAM_AUTOFLUSH)
        return svk_http_response_flush(resp);
    return 0;
}

SVK_API int svk_http_response_set_body_static(svk_http_response *resp, const void *data,
                                              size_t n)
{
    if (resp == NULL || (data == NULL && n > 0))
        return SVK_EINVAL;
    if (resp->streaming)
        return SVK_ESTATE;
    svk_buf_reset(&resp->body);
    resp->static_body = n > 0 ? data : "";
    resp->static_len = n;
    return 0;
}

SVK_API int svk_http_response_text(svk_http_response *resp, int status, const char *text)
{
    if (resp == NULL || text == NULL)
        return SVK_EINVAL;
    int rc = svk_http_response_set_status(resp, status);
    if (rc == 0)
        rc = svk__http_resp_header_raw(resp, "Content-Type", "text/plain; charset=utf-8");
    if (rc == 0) {
        svk_buf_reset(&resp->body);
        resp->static_body = NULL;
        rc = svk_http_response_write(resp, text, strlen(text));
    }
    return rc;
}

SVK_API int svk_http_response_error(svk_http_response *resp, int status, const char *message)
{
    if (resp == NULL || status < 200 || status > 999)
        return SVK_EINVAL;
    if (resp->head_sent)
        return SVK_ESTATE;
    return svk__http_resp_error_body(REQ_OF(resp), status, message);
}

SVK_API void svk_http_response_close(svk_http_response *resp)
{
    if (resp != NULL)
        resp->close = 1;
}

/* ------------------------------------------------------------ streaming */

/* Append the head (first time) and the body written since as one chunk to
 * stream_out. Worker thread, under stream_lock. */
static int stage_chunk(svk_http_request *req)
{
    struct svk_http_response *resp = &req->resp;
    svk_buf *out = &req->stream_out;
    if (!resp->head_sent) {
        char date[64];
        size_t dlen = date_now(date, sizeof date);
        if (req->head.minor_version == 0)
            resp->close = 1;
        if (format_head(req, out, -1, date, dlen) != 0)
            return SVK_ENOMEM;
        resp->head_sent = 1;
    }
    size_t len = resp->body.len;
    if (len > 0 && !req->head_only) {
        char size_line[24], *p = put_hex(size_line, len);
        int chunked = req->head.minor_version == 1;
        if ((chunked && (svk_buf_append(out, size_line, (size_t)(p - size_line)) != 0 ||
                         svk_buf_append(out, "\r\n", 2) != 0)) ||
            svk_buf_append(out, resp->body.data, len) != 0 ||
            (chunked && svk_buf_append(out, "\r\n", 2) != 0))
            return SVK_ENOMEM;
    }
    svk_buf_reset(&resp->body);
    return 0;
}

SVK_API int svk_http_response_flush(svk_http_response *resp)
{
    if (resp == NULL)
        return SVK_EINVAL;
    svk_http_request *req = REQ_OF(resp);
    if (req->on_loop)
        return SVK_ENOTSUP;
    if (resp->static_body != NULL && svk_http_response_write(resp, NULL, 0) != 0)
        return SVK_ENOMEM;
    resp->streaming = 1;
    pthread_mutex_lock(&req->stream_lock);
    int rc = req->stream_err;
    if (rc == 0)
        rc = stage_chunk(req);
    int post = rc == 0 && req->stream_out.len > 0;
    if (post)
        req->flush_pending = 1;
    pthread_mutex_unlock(&req->stream_lock);
    if (!post)
        return rc;
    svk__http_loop_post(req, SVK__HTTP_EV_FLUSH);
    pthread_mutex_lock(&req->stream_lock);
    while (req->flush_pending && req->stream_err == 0)
        pthread_cond_wait(&req->stream_cond, &req->stream_lock);
    rc = req->stream_err;
    pthread_mutex_unlock(&req->stream_lock);
    return rc;
}
