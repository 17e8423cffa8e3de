/*
 * conn.c — one connection's life outside of queries: opening it without
 * blocking past a deadline, deciding whether an idle one may be handed out,
 * cleaning it for the pool, and its last-error strings.
 *
 * Connecting uses PQconnectStartParams and PQconnectPoll with our own poll()
 * so the wait is bounded by the caller's deadline and its ctx, rather than
 * by libpq's connect_timeout alone (which counts per host, in whole seconds,
 * and knows nothing of cancellation). Name resolution inside libpq still
 * blocks; use an IP address or a local resolver when that matters.
 */
#include "pg/conn.h"
#include "pg/pool.h"

#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define MS_NS INT64_C(1000000)

int svk__pg_poll_ms(int64_t wait_ns, const svk_ctx *ctx)
{
    if (ctx != NULL && wait_ns > SVK_PG_CANCEL_CHECK_NS)
        wait_ns = SVK_PG_CANCEL_CHECK_NS;
    if (wait_ns <= 0)
        return 0;
    int64_t ms = (wait_ns + MS_NS - 1) / MS_NS;
    return ms > 1000000 ? 1000000 : (int)ms;
}

static int copy_message(char *msg, size_t size, const char *text)
{
    size_t len = strlen(text);
    while (len > 0 && (text[len - 1] == '\n' || text[len - 1] == ' '))
        len--;
    snprintf(msg, size, "%.*s", (int)len, text);
    return SVK_EUNAVAIL;
}

/* Wait for the socket as PQconnectPoll asked; 0, or why we stopped. */
static int wait_connect_step(PGconn *pg, PostgresPollingStatusType want,
                             const svk_ctx *ctx, int64_t deadline_ns)
{
    for (;;) {
        int why = svk_ctx_err(ctx);
        if (why != 0)
            return why;
        int64_t left = deadline_ns - svk_clock_mono_ns();
        if (left <= 0)
            return SVK_ETIMEDOUT;
        struct pollfd p = {.fd = PQsocket(pg),
                           .events = want == PGRES_POLLING_READING ? POLLIN : POLLOUT};
        int n = poll(&p, 1, svk__pg_poll_ms(left, ctx));
        if (n > 0)
            return 0;
        if (n < 0 && errno != EINTR)
            return SVK_ESYS;
    }
}

/*
 * libpq hands notices to a receiver that by default prints them on stderr
 * ("relation already exists, skipping"); a library must not write to its
 * host's stderr. Ours drops them, except that it remembers a FATAL: libpq
 * delivers the server's FATAL for an idle connection (restart, terminate)
 * as a notice, and it may arrive well before the EOF that follows it.
 */
static void watch_notice(void *arg, const PGresult *res)
{
    svk_pg_conn *c = arg;
    const char *severity = PQresultErrorField(res, PG_DIAG_SEVERITY_NONLOCALIZED);
    if (severity != NULL && strcmp(severity, "FATAL") == 0)
        c->fatal_seen = true;
}

int svk__pg_connect_start(svk_pg_conn *c, char *msg, size_t msg_size)
{
    const svk__pg_conninfo *ci = &c->pool->conninfo;
    c->pg = PQconnectStartParams(ci->keywords, ci->values, 0);
    c->connect_poll = PGRES_POLLING_WRITING; /* as libpq says to begin */
    c->connect_spent_ns = 0;
    c->pending = 0; /* a new server session: nothing owed, nothing prepared */
    c->prepared = 0;
    c->npreparing = 0;
    c->deferred_name[0] = '\0';
    if (c->pg == NULL) {
        snprintf(msg, msg_size, "out of memory in libpq");
        return SVK_ENOMEM;
    }
    if (PQstatus(c->pg) == CONNECTION_BAD)
        return copy_message(msg, msg_size, PQerrorMessage(c->pg));
    PQsetNoticeReceiver(c->pg, watch_notice, c);
    return 0;
}

static int finish_setup(svk_pg_conn *c, char *msg, size_t msg_size)
{
    /* Non-blocking, so a large parameter never blocks a send past the deadline. */
    if (PQsetnonblocking(c->pg, 1) != 0)
        return copy_message(msg, msg_size, PQerrorMessage(c->pg));
    c->idle_since_ns = svk_clock_mono_ns();
    return 0;
}

int svk__pg_connect_drive(svk_pg_conn *c, const svk_ctx *ctx, int64_t deadline_ns, char *msg,
                          size_t msg_size)
{
    int64_t started = svk_clock_mono_ns();
    int rc = 0;
    while (rc == 0 && c->connect_poll != PGRES_POLLING_OK) {
        if (c->connect_poll == PGRES_POLLING_FAILED) {
            rc = copy_message(msg, msg_size, PQerrorMessage(c->pg));
            break;
        }
        rc = wait_connect_step(c->pg, c->connect_poll, ctx, deadline_ns);
        if (rc == 0)
            c->connect_poll = PQconnectPoll(c->pg);
        else
            snprintf(msg, msg_size, "connection attempt: %s", svk_strerror(rc));
    }
    c->connect_spent_ns += svk_clock_mono_ns() - started;
    return rc == 0 ? finish_setup(c, msg, msg_size) : rc;
}

/*
 * A server that closes a connection (restart, pg_terminate_backend, idle
 * timeouts) first sends a FATAL message, then EOF: either makes an idle
 * socket readable. libpq passes the FATAL of an idle connection to the
 * notice receiver (watch_notice sets fatal_seen) and sees the EOF only on a
 * later read, so read until the socket is quiet (a few rounds at most: an
 * idle connection has nothing else to say). System calls, no round trip.
 */
static bool closed_by_server(svk_pg_conn *c)
{
    for (int round = 0; round < 4; round++) {
        struct pollfd p = {.fd = PQsocket(c->pg), .events = POLLIN};
        if (p.fd < 0 || c->fatal_seen)
            return true;
        if (poll(&p, 1, 0) == 0)
            return false;
        if (PQconsumeInput(c->pg) == 0 || PQstatus(c->pg) != CONNECTION_OK ||
            PQisBusy(c->pg))
            return true;
    }
    return true; /* still talking while idle: not a connection to trust */
}

bool svk__pg_conn_ready(svk_pg_conn *c, int64_t now_ns, int64_t deadline_ns)
{
    if (c->broken || PQstatus(c->pg) != CONNECTION_OK || closed_by_server(c))
        return false;
    int64_t idle_limit = c->pool->health_check_idle_ns;
    if (idle_limit <= 0 || now_ns - c->idle_since_ns <= idle_limit)
        return true;
    int64_t cap = now_ns + SVK_PG_CLEANUP_NS;
    /* An empty statement: the cheapest full round trip there is. */
    return svk__pg_run_simple(c, NULL, deadline_ns < cap ? deadline_ns : cap, "") == 0;
}

bool svk__pg_conn_reset(svk_pg_conn *c)
{
    if (c->broken || c->listening || PQstatus(c->pg) != CONNECTION_OK)
        return false;
    svk__pg_flush(c); /* sent ahead and never collected (no commit, no rollback) */
    if (c->broken)
        return false;
    switch (PQtransactionStatus(c->pg)) {
    case PQTRANS_IDLE:
        return true;
    case PQTRANS_INTRANS:
    case PQTRANS_INERROR:
        return svk__pg_run_simple(c, NULL, svk_clock_mono_ns() + SVK_PG_CLEANUP_NS,
                                  "ROLLBACK") == 0;
    default: /* a query still running, or the state is unknown */
        return false;
    }
}

void svk__pg_conn_clear_error(svk_pg_conn *c)
{
    c->sqlstate[0] = '\0';
    c->message[0] = '\0';
}

int svk__pg_conn_fail(svk_pg_conn *c, int code, const char *fmt, ...)
{
    c->sqlstate[0] = '\0';
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->message, sizeof c->message, fmt, ap);
    va_end(ap);
    return code;
}

SVK_API const char *svk_pg_conn_last_error(const svk_pg_conn *conn)
{
    return conn ? conn->message : "";
}

SVK_API const char *svk_pg_conn_last_sqlstate(const svk_pg_conn *conn)
{
    return conn ? conn->sqlstate : "";
}

SVK_API struct pg_conn *svk_pg_conn_native(svk_pg_conn *conn)
{
    if (conn == NULL)
        return NULL;
    svk__pg_flush(conn); /* hand it over out of pipeline mode, results read */
    return conn->pg;
}

SVK_API void svk_pg_conn_mark_broken(svk_pg_conn *conn)
{
    if (conn != NULL)
        conn->broken = true;
}
