/*
 * json.c — JSON request and response bodies through jansson.
 *
 * svk_http_read_json answers the client's mistakes itself, with the status
 * RFC 9110 gives each: 415 for a body that is not declared as JSON, 400
 * with jansson's message and position for one that does not parse. The
 * handler only has to return. Responses are dumped compactly straight into
 * the response's reused body buffer (json_dumpb, no intermediate string).
 * jansson's own allocations go through jansson's allocator, not
 * svk_set_allocator's hooks (json_set_alloc_funcs is the application's call).
 */
#include <jansson.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "http/server.h"

/* application/json or application/<anything>+json, any parameters. */
static int is_json_type(const char *ct)
{
    if (ct == NULL)
        return 0;
    size_t len = strcspn(ct, ";");
    while (len > 0 && (ct[len - 1] == ' ' || ct[len - 1] == '\t'))
        len--;
    if (len < 16 || strncasecmp(ct, "application/", 12) != 0)
        return 0;
    const char *sub = ct + 12;
    size_t sub_len = len - 12;
    if (sub_len == 4 && strncasecmp(sub, "json", 4) == 0)
        return 1;
    return sub_len > 5 && strncasecmp(sub + sub_len - 5, "+json", 5) == 0 &&
           memchr(sub, '/', sub_len) == NULL;
}

SVK_API int svk_http_read_json(svk_http_request *req, svk_http_response *resp,
                               struct json_t **out)
{
    if (out != NULL)
        *out = NULL;
    if (req == NULL || resp == NULL || out == NULL)
        return SVK_EINVAL;
    if (req->stream_body)
        return SVK_ESTATE;
    if (!is_json_type(svk_http_request_header(req, "Content-Type"))) {
        svk_http_response_error(resp, 415, "Content-Type must be application/json");
        return SVK_ENOTSUP;
    }
    const char *data;
    size_t len;
    svk_http_request_body(req, &data, &len);
    json_error_t jerr;
    json_t *value = json_loadb(data, len, JSON_DECODE_ANY | JSON_REJECT_DUPLICATES, &jerr);
    if (value == NULL) {
        char msg[256];
        snprintf(msg, sizeof msg, "invalid JSON: %s (line %d, column %d)",
                 len == 0 ? "empty body" : jerr.text, jerr.line, jerr.column);
        svk_http_response_error(resp, 400, msg);
        return SVK_EINVAL;
    }
    *out = value;
    return 0;
}

SVK_API int svk_http_response_json(svk_http_response *resp, int status,
                                   const struct json_t *value)
{
    if (resp == NULL || value == NULL)
        return SVK_EINVAL;
    const size_t flags = JSON_COMPACT | JSON_ENCODE_ANY;
    int rc = svk_http_response_set_status(resp, status);
    if (rc == 0)
        rc = svk__http_resp_header_raw(resp, "Content-Type", "application/json");
    if (rc != 0)
        return rc;
    svk_buf *b = &resp->body;
    svk_buf_reset(b);
    resp->static_body = NULL;
    /* One pass into the buffer the pooled request kept from earlier
     * answers; a second only when it was too small. */
    if (svk_buf_reserve(b, 256) != 0)
        return SVK_ENOMEM;
    size_t need = json_dumpb(value, (char *)b->data, b->cap - 1, flags);
    if (need == 0)
        return SVK_EINVAL;
    if (need > b->cap - 1) {
        if (svk_buf_reserve(b, need) != 0)
            return SVK_ENOMEM;
        json_dumpb(value, (char *)b->data, need, flags);
    }
    b->len = need;
    b->data[need] = '\0';
    return 0;
}
