/*
 * notify.c — LISTEN/NOTIFY: the wake-up bell of the outbox relay and the
 * PostgreSQL queue.
 *
 * Waiting happens on the connection's socket: a notification is a message
 * the server pushes between transactions, which PQconsumeInput queues and
 * PQnotifies hands out. Notifications are wake-ups, not data (DESIGN.md:
 * one channel-only NOTIFY per transaction), so the waiter only counts them;
 * a missed one costs a poll interval, never a message.
 */
#include "pg/conn.h"
#include "pg/pool.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>

static int drain_notifications(PGconn *pg)
{
    int n = 0;
    PGnotify *note;
    while ((note = PQnotifies(pg)) != NULL) {
        PQfreemem(note);
        n++;
    }
    return n;
}

/* LISTEN or UNLISTEN, the channel quoted by libpq as an identifier. */
static int listen_statement(svk_pg_conn *c, const svk_ctx *ctx, const char *verb,
                            const char *channel)
{
    char *quoted = PQescapeIdentifier(c->pg, channel, strlen(channel));
    if (quoted == NULL)
        return svk__pg_conn_fail(c, SVK_ENOMEM, "cannot quote the channel name");
    size_t size = strlen(verb) + strlen(quoted) + 2;
    char *sql = svk_malloc(size);
    int rc = SVK_ENOMEM;
    if (sql != NULL) {
        snprintf(sql, size, "%s %s", verb, quoted);
        rc = svk__pg_run_simple(c, ctx, 0, sql);
    } else {
        svk__pg_conn_fail(c, rc, "out of memory");
    }
    svk_free(sql);
    PQfreemem(quoted);
    return rc;
}

SVK_API int svk_pg_listen(svk_pg_conn *conn, const svk_ctx *ctx, const char *channel)
{
    if (conn == NULL)
        return SVK_EINVAL;
    if (channel == NULL || channel[0] == '\0')
        return svk__pg_conn_fail(conn, SVK_EINVAL, "channel name missing");
    /* Marked before the round trip: even a failed LISTEN may have registered. */
    conn->listening = true;
    return listen_statement(conn, ctx, "LISTEN", channel);
}

SVK_API int svk_pg_unlisten(svk_pg_conn *conn, const svk_ctx *ctx, const char *channel)
{
    if (conn == NULL)
        return SVK_EINVAL;
    if (channel == NULL)
        return svk__pg_run_simple(conn, ctx, 0, "UNLISTEN *");
    if (channel[0] == '\0')
        return svk__pg_conn_fail(conn, SVK_EINVAL, "channel name missing");
    return listen_statement(conn, ctx, "UNLISTEN", channel);
}

/* Read what arrived and count the notifications; <0 when the link is gone. */
static int take_input(svk_pg_conn *c)
{
    if (PQconsumeInput(c->pg) == 0) {
        c->broken = true;
        return svk__pg_conn_fail(c, SVK_EUNAVAIL, "%s", PQerrorMessage(c->pg));
    }
    return drain_notifications(c->pg);
}

static int wait_readable(svk_pg_conn *c, const svk_ctx *ctx, int64_t left_ns)
{
    struct pollfd p = {.fd = PQsocket(c->pg), .events = POLLIN};
    if (poll(&p, 1, svk__pg_poll_ms(left_ns, ctx)) < 0 && errno != EINTR)
        return svk__pg_conn_fail(c, SVK_ESYS, "poll: %s", strerror(errno));
    return 0;
}

static int64_t notify_deadline(const svk_ctx *ctx, int64_t timeout_ns, bool *ctx_binding)
{
    int64_t theirs = svk_ctx_deadline(ctx);
    int64_t now = svk_clock_mono_ns();
    int64_t own = timeout_ns < 0 || timeout_ns > INT64_MAX - now ? INT64_MAX : now + timeout_ns;
    *ctx_binding = theirs <= own && theirs != SVK_CTX_NO_DEADLINE;
    return theirs < own ? theirs : own;
}

SVK_API int svk_pg_wait_notify(svk_pg_conn *conn, const svk_ctx *ctx, int64_t timeout_ns,
                               int *got)
{
    if (got != NULL)
        *got = 0;
    if (conn == NULL || got == NULL || timeout_ns < SVK_PG_NO_TIMEOUT)
        return SVK_EINVAL;
    svk__pg_conn_clear_error(conn);
    if (conn->broken || PQstatus(conn->pg) != CONNECTION_OK)
        return svk__pg_conn_fail(conn, SVK_EUNAVAIL, "the connection is broken; release it");
    bool ctx_binding;
    int64_t deadline = notify_deadline(ctx, timeout_ns, &ctx_binding);
    for (;;) {
        int n = take_input(conn);
        if (n != 0) {
            *got = n > 0 ? n : 0;
            return n > 0 ? 0 : n;
        }
        int why = svk_ctx_err(ctx);
        if (why != 0)
            return svk__pg_conn_fail(conn, why, "%s", svk_strerror(why));
        int64_t left = deadline - svk_clock_mono_ns();
        if (left <= 0)
            return ctx_binding ? svk__pg_conn_fail(conn, SVK_ETIMEDOUT, "deadline passed") : 0;
        int rc = wait_readable(conn, ctx, left);
        if (rc != 0)
            return rc;
    }
}

SVK_API int svk_pg_notify(svk_pg_conn *conn, const svk_ctx *ctx, const char *channel,
                          const char *payload)
{
    if (conn == NULL)
        return SVK_EINVAL;
    if (channel == NULL || channel[0] == '\0')
        return svk__pg_conn_fail(conn, SVK_EINVAL, "channel name missing");
    const char *values[2] = {channel, payload ? payload : ""};
    return svk_pg_exec(conn, ctx, "SELECT pg_notify($1, $2)", 2, values, NULL, NULL, NULL);
}
