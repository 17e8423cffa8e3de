/*
 * exec.c — one parameterised statement, bounded by the caller's ctx.
 *
 * The statement is sent with PQsendQueryParams on a non-blocking connection
 * and the result awaited with poll(), so the wait ends at the ctx deadline
 * (or its cancellation) instead of whenever the server answers. Ending a
 * wait early is not the end of the statement, though: the server would go
 * on running it and the connection would stay busy. So we ask the server to
 * cancel it (PQcancel, on a separate short-lived connection), then keep
 * reading, for at most SVK_PG_CLEANUP_NS, until the server confirms. A
 * connection whose statement could not be cancelled and drained is marked
 * broken and closed at release.
 */
#include "pg/conn.h"
#include "pg/pool.h"

#include <errno.h>
#include <poll.h>
#include <string.h>

/* How long past statement_timeout we wait for the server to enforce it. */
#define STATEMENT_GRACE_NS INT64_C(1000000000)
#define MAX_PARAMS 65535 /* the protocol's limit */

typedef svk__pg_waiter waiter;

int64_t svk__pg_wait_deadline(const svk_pg_conn *c, const svk_ctx *ctx, int64_t cap_ns,
                             int64_t sent_ns)
{
    int64_t d = svk_ctx_deadline(ctx);
    int64_t st = c->pool->statement_timeout_ns;
    if (st > 0 && sent_ns + st + STATEMENT_GRACE_NS < d)
        d = sent_ns + st + STATEMENT_GRACE_NS;
    if (cap_ns > 0 && cap_ns < d)
        d = cap_ns;
    return d;
}

int svk__pg_wait_ready(waiter *w)
{
    PGconn *pg = w->c->pg;
    for (;;) {
        int unsent = PQflush(pg);
        if (unsent < 0 || PQconsumeInput(pg) == 0)
            return SVK_EUNAVAIL;
        if (unsent == 0 && !PQisBusy(pg))
            return 0;
        int why = svk_ctx_err(w->ctx);
        if (why != 0)
            return why;
        int64_t left = w->deadline_ns - svk_clock_mono_ns();
        if (left <= 0)
            return SVK_ETIMEDOUT;
        struct pollfd p = {.fd = PQsocket(pg), .events = POLLIN | (unsent ? POLLOUT : 0)};
        if (poll(&p, 1, svk__pg_poll_ms(left, w->ctx)) < 0 && errno != EINTR)
            return SVK_ESYS;
    }
}

static bool send_cancel(PGconn *pg)
{
    char errbuf[256];
    PGcancel *k = PQgetCancel(pg);
    bool sent = k != NULL && PQcancel(k, errbuf, sizeof errbuf) == 1;
    PQfreeCancel(k);
    return sent;
}

static void copy_text(char *dst, size_t size, const char *text)
{
    size_t len = strlen(text);
    while (len > 0 && (text[len - 1] == '\n' || text[len - 1] == ' '))
        len--;
    if (len >= size)
        len = size - 1;
    memcpy(dst, text, len);
    dst[len] = '\0';
}

int svk__pg_stop_waiting(waiter *w, int why)
{
    svk_pg_conn *c = w->c;
    if (why == SVK_EUNAVAIL) {
        c->broken = true;
        copy_text(c->message, sizeof c->message, PQerrorMessage(c->pg));
        return why;
    }
    if (w->cancel_reason != 0 || why == SVK_ESYS || !send_cancel(c->pg)) {
        c->broken = true;
        int code = w->cancel_reason ? w->cancel_reason : why;
        return svk__pg_conn_fail(c, code, "%s; the statement could not be cancelled and "
                                 "the connection will be closed", svk_strerror(code));
    }
    w->cancel_reason = why;
    w->ctx = NULL;
    w->deadline_ns = svk_clock_mono_ns() + SVK_PG_CLEANUP_NS;
    return 0;
}

static int record_error(waiter *w, const PGresult *r)
{
    svk_pg_conn *c = w->c;
    const char *state = PQresultErrorField(r, PG_DIAG_SQLSTATE);
    copy_text(c->sqlstate, sizeof c->sqlstate, state ? state : "");
    copy_text(c->message, sizeof c->message, PQresultErrorMessage(r));
    return svk__pg_result_code(c, r, w->cancel_reason, svk_clock_mono_ns() - w->sent_ns);
}

int svk__pg_absorb(waiter *w, PGresult *r, PGresult **keep, int rc)
{
    ExecStatusType st = PQresultStatus(r);
    if (st == PGRES_TUPLES_OK || st == PGRES_COMMAND_OK || st == PGRES_EMPTY_QUERY) {
        if (rc == 0 && keep != NULL && *keep == NULL) {
            *keep = r;
            return 0;
        }
    } else if (rc == 0 && st == PGRES_FATAL_ERROR) {
        rc = record_error(w, r);
    } else if (st == PGRES_COPY_IN || st == PGRES_COPY_OUT || st == PGRES_COPY_BOTH) {
        /* libpq stays in COPY mode until the caller ends it: unrecoverable here. */
        w->c->broken = true;
        if (rc == 0)
            rc = svk__pg_conn_fail(w->c, SVK_ENOTSUP, "COPY is not supported by "
                                   "svk_pg_exec; use svk_pg_conn_native");
    } else if (rc == 0 && st != PGRES_FATAL_ERROR) {
        rc = svk__pg_conn_fail(w->c, SVK_EPROTO, "unexpected result: %s", PQresStatus(st));
    }
    PQclear(r);
    return rc;
}

static int collect(waiter *w, PGresult **keep)
{
    int rc = 0;
    for (;;) {
        int why = svk__pg_wait_ready(w);
        if (why != 0) {
            why = svk__pg_stop_waiting(w, why);
            if (why != 0)
                return why;
            continue;
        }
        PGresult *r = PQgetResult(w->c->pg);
        if (r == NULL)
            return rc;
        rc = svk__pg_absorb(w, r, keep, rc);
        if (w->c->broken)
            return rc;
    }
}

/* The first failure of a transaction is the one its commit reports. */
static void remember_tx_failure(svk_pg_conn *c, int code)
{
    if (c->tx_error != 0)
        return;
    c->tx_error = code;
    memcpy(c->tx_sqlstate, c->sqlstate, sizeof c->tx_sqlstate);
    memcpy(c->tx_message, c->message, sizeof c->tx_message);
}

void svk__pg_track_transaction(svk_pg_conn *c, int rc)
{
    switch (PQtransactionStatus(c->pg)) {
    case PQTRANS_INERROR:
        remember_tx_failure(c, rc != 0 ? rc : SVK_ESTATE);
        break;
    case PQTRANS_IDLE:
    case PQTRANS_INTRANS:
        c->tx_error = 0;
        break;
    default: /* still busy or gone: the transaction cannot go on */
        c->broken = true;
        remember_tx_failure(c, rc != 0 ? rc : SVK_EUNAVAIL);
    }
}

int svk__pg_preflight(svk_pg_conn *c, const svk_ctx *ctx)
{
    if (c->broken || c->fatal_seen || PQstatus(c->pg) != CONNECTION_OK) {
        c->broken = true;
        return svk__pg_conn_fail(c, SVK_EUNAVAIL, "the connection is broken; release it");
    }
    int why = svk_ctx_err(ctx);
    if (why != 0)
        return svk__pg_conn_fail(c, why, "%s before the statement was sent",
                                 svk_strerror(why));
    return 0;
}

int svk__pg_run(svk_pg_conn *c, const svk_ctx *ctx, int64_t cap_ns, const svk__pg_query *q,
                PGresult **out)
{
    svk__pg_conn_clear_error(c);
    int rc = svk__pg_preflight(c, ctx);
    if (rc != 0)
        return rc;
    if (c->pending > 0)
        return svk__pg_run_pipelined(c, ctx, cap_ns, q, out);
    PGresult *keep = NULL;
    if (PQsendQueryParams(c->pg, q->sql, q->nparams, NULL, q->values, q->lengths, q->formats,
                          q->result_format)) {
        int64_t now = svk_clock_mono_ns();
        waiter w = {c, ctx, svk__pg_wait_deadline(c, ctx, cap_ns, now), now, 0};
        rc = collect(&w, &keep);
    } else {
        copy_text(c->message, sizeof c->message, PQerrorMessage(c->pg));
        rc = PQstatus(c->pg) == CONNECTION_BAD ? SVK_EUNAVAIL : SVK_EPROTO;
    }
    if (rc == SVK_EUNAVAIL)
        c->broken = true;
    svk__pg_track_transaction(c, rc);
    if (rc != 0 || out == NULL)
        PQclear(keep);
    else
        *out = keep;
    return rc;
}

int svk__pg_run_simple(svk_pg_conn *c, const svk_ctx *ctx, int64_t cap_ns, const char *sql)
{
    svk__pg_query q = {sql, 0, NULL, NULL, NULL, SVK_PG_TEXT};
    return svk__pg_run(c, ctx, cap_ns, &q, NULL);
}

static bool valid_formats(int nparams, const char *const *values, const int *lengths,
                          const int *formats)
{
    for (int i = 0; formats != NULL && i < nparams; i++) {
        if (formats[i] != SVK_PG_TEXT && formats[i] != SVK_PG_BINARY)
            return false;
        if (formats[i] == SVK_PG_BINARY && values[i] != NULL &&
            (lengths == NULL || lengths[i] < 0))
            return false;
    }
    return true;
}

SVK_API int svk_pg_exec_format(svk_pg_conn *conn, const svk_ctx *ctx, const char *sql,
                               int nparams, const char *const *values, const int *lengths,
                               const int *formats, int result_format, svk_pg_result **res)
{
    if (res != NULL)
        *res = NULL;
    if (conn == NULL)
        return SVK_EINVAL;
    if (sql == NULL || nparams < 0 || nparams > MAX_PARAMS || (nparams > 0 && values == NULL) ||
        (result_format != SVK_PG_TEXT && result_format != SVK_PG_BINARY) ||
        !valid_formats(nparams, values, lengths, formats))
        return svk__pg_conn_fail(conn, SVK_EINVAL, "invalid statement arguments");
    svk__pg_query q = {sql, nparams, values, lengths, formats, result_format};
    PGresult *r = NULL;
    int rc = svk__pg_run(conn, ctx, 0, &q, res ? &r : NULL);
    if (res != NULL)
        *res = (svk_pg_result *)r;
    return rc;
}

SVK_API int svk_pg_exec(svk_pg_conn *conn, const svk_ctx *ctx, const char *sql, int nparams,
                        const char *const *values, const int *lengths, const int *formats,
                        svk_pg_result **res)
{
    return svk_pg_exec_format(conn, ctx, sql, nparams, values, lengths, formats, SVK_PG_TEXT,
                              res);
}
