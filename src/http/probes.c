/*
 * probes.c — the Kubernetes probes, answered on the loop thread before
 * routing (no router middleware: an authentication middleware must not
 * make the kubelet fail liveness):
 *
 *   /healthz   liveness: 200 whenever the process can answer at all; it
 *              never looks at a dependency (a database outage must not get
 *              the pod restarted).
 *   /startupz  200 once svk_http_server_set_started was called, else 503.
 *   /readyz    200 only when started, not draining, the application's gate
 *              (svk_http_server_set_ready) is open and every registered
 *              check returns 0; else 503 with the reason and each check's
 *              result in the JSON body.
 *
 * GET and HEAD only (405 otherwise). Answers carry Cache-Control: no-store.
 */
#include <stdio.h>
#include <string.h>

#include "http/server.h"

enum { PROBE_HEALTH = 1, PROBE_READY = 2, PROBE_STARTUP = 3 };

static int append_check(svk_buf *b, const svk__http_check *c, int first, int *all_ok)
{
    char detail[256] = "", name[256], text[600];
    int rc = c->fn(c->user, detail, sizeof detail);
    detail[sizeof detail - 1] = '\0';
    svk__http_json_escape(c->name, name, sizeof name);
    if (rc == 0) {
        snprintf(text, sizeof text, "%s\"%s\":\"ok\"", first ? "" : ",", name);
    } else {
        char esc[300];
        svk__http_json_escape(detail[0] ? detail : svk_strerror(rc), esc, sizeof esc);
        snprintf(text, sizeof text, "%s\"%s\":\"%s: %s\"", first ? "" : ",", name,
                 svk_errname(rc), esc);
        *all_ok = 0;
    }
    return svk_buf_append_str(b, text);
}

static const char *gate(const svk_http_server *srv)
{
    if (atomic_load(&srv->state) >= SVK__HTTP_DRAINING)
        return "draining";
    if (!atomic_load(&srv->started))
        return "starting";
    if (!atomic_load(&srv->ready_gate))
        return "not ready";
    return NULL;
}

static int ready(svk_http_request *req, svk_http_response *resp)
{
    const svk_http_server *srv = req->loop->srv;
    const char *why = gate(srv);
    svk_buf checks = SVK_BUF_INIT;
    int ok = why == NULL, rc = svk_buf_append_str(&checks, "");
    for (size_t i = 0; i < srv->nchecks && rc == 0; i++)
        rc = append_check(&checks, &srv->checks[i], i == 0, &ok);
    const char *word = ok ? "ready" : why != NULL ? why : "not ready";
    if (rc == 0)
        rc = svk_buf_appendf(&resp->body, "{\"status\":\"%s\",\"checks\":{%s}}\n", word,
                             (const char *)checks.data);
    svk_buf_free(&checks);
    if (rc != 0)
        return rc;
    return svk_http_response_set_status(resp, ok ? 200 : 503);
}

static int probe_answer(svk_http_request *req, svk_http_response *resp, void *user)
{
    static const char healthy[] = "{\"status\":\"ok\"}\n";
    static const char started[] = "{\"status\":\"started\"}\n";
    static const char starting[] = "{\"status\":\"starting\"}\n";
    int which = (int)(intptr_t)user;
    const char *m = svk_http_request_method(req);
    svk__http_resp_header_raw(resp, "Cache-Control", "no-store");
    if (strcmp(m, "GET") != 0 && strcmp(m, "HEAD") != 0) {
        svk__http_resp_header_raw(resp, "Allow", "GET, HEAD");
        return svk_http_response_error(resp, 405, "method not allowed");
    }
    svk__http_resp_header_raw(resp, "Content-Type", "application/json");
    if (which == PROBE_HEALTH)
        return svk_http_response_set_body_static(resp, healthy, sizeof healthy - 1);
    if (which == PROBE_READY)
        return ready(req, resp);
    if (atomic_load(&req->loop->srv->started))
        return svk_http_response_set_body_static(resp, started, sizeof started - 1);
    svk_http_response_set_status(resp, 503);
    return svk_http_response_set_body_static(resp, starting, sizeof starting - 1);
}

/* Claim the request if its path is a probe's. */
int svk__http_probe(svk_http_request *req)
{
    const svk_http_server *srv = req->loop->srv;
    const char *path = req->head.path;
    int which = 0;
    if ((srv->opts.flags & SVK_HTTP_SERVER_NO_PROBES) ||
        req->head.target_form == SVK__HTTP_ASTERISK_FORM)
        return 0;
    if (strcmp(path, srv->healthz) == 0)
        which = PROBE_HEALTH;
    else if (strcmp(path, srv->readyz) == 0)
        which = PROBE_READY;
    else if (strcmp(path, srv->startupz) == 0)
        which = PROBE_STARTUP;
    if (which == 0)
        return 0;
    req->builtin = 1;
    req->handler = probe_answer;
    req->handler_user = (void *)(intptr_t)which;
    return 1;
}
