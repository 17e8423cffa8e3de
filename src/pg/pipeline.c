/*
 * pipeline.c — statements sent now and answered with the next one.
 *
 * A deferred statement (svk__pg_defer) goes into libpq's pipeline mode
 * without waiting for its result: libpq copies it, parameters and all,
 * into its output buffer at once, so the caller's memory is free again
 * when svk__pg_defer returns. The next statement run on the connection
 * (svk__pg_run: a domain INSERT, or the COMMIT) is sent behind it, then a
 * Sync, and one round trip answers them all. The first failure among them
 * is the one reported, by the statement that carried them, and the
 * transaction is then in the failed state as after any failed statement:
 * the server skips everything after an error up to the Sync.
 *
 * The library's own hot statements go as named prepared statements
 * (svk__pg_stmt): prepared once per connection, inside the same pipeline
 * as their first use (no round trip of their own), so the server parses
 * and plans them once per connection instead of once per call. A
 * connection that lost them (DISCARD ALL, a pooler handing us another
 * server connection) reports SQLSTATE 26000 once, and they are prepared
 * again on its next use.
 */
#include "pg/conn.h"
#include "pg/pool.h"

#include <limits.h>
#include <string.h>

/*
 * What each result of the pipeline is, by its query's index: sent ahead
 * earlier (its errors named as such), or the caller's own statement (from
 * own_from on: its Prepare, if sent with it, and the statement, whose
 * result, at keep_at, is kept).
 */
typedef struct collector {
    svk__pg_waiter w;
    int own_from;
    int keep_at;
    int seen; /* queries whose results ended (a NULL from PQgetResult) */
} collector;

#define NO_CARRIER INT_MAX

/*
 * Result index of the pipeline came back with status st: if it answers a
 * Prepare that did not succeed, that statement is not prepared after all.
 */
static void note_prepare(svk_pg_conn *c, int index, ExecStatusType st)
{
    for (int i = 0; i < c->npreparing; i++)
        if (c->preparing[i].index == index && st != PGRES_COMMAND_OK)
            c->prepared &= ~c->preparing[i].bit;
}

/* The pipeline is over: Prepares it never answered did not happen. */
static void end_prepares(svk_pg_conn *c, int answered, int rc)
{
    for (int i = 0; i < c->npreparing; i++)
        if (c->preparing[i].index >= answered)
            c->prepared &= ~c->preparing[i].bit;
    c->npreparing = 0;
    /* 26000: the server no longer has our statements (DISCARD ALL, a
     * pooler's other connection): prepare them again on their next use. */
    if (rc != 0 && strcmp(c->sqlstate, "26000") == 0)
        c->prepared = 0;
}

/* The error a deferred statement reported, said as such. */
static void name_deferred_error(svk_pg_conn *c)
{
    char msg[SVK_PG_CONN_MESSAGE_SIZE];
    int n = snprintf(msg, sizeof msg, "%s (sent ahead, failed): ",
                     c->deferred_name[0] ? c->deferred_name : "a deferred statement");
    size_t used = n > 0 && (size_t)n < sizeof msg ? (size_t)n : 0;
    size_t len = strnlen(c->message, sizeof msg - 1 - used);
    memcpy(msg + used, c->message, len);
    msg[used + len] = '\0';
    memcpy(c->message, msg, sizeof c->message);
}

static int take(collector *k, PGresult *r, PGresult **keep, int rc)
{
    ExecStatusType st = PQresultStatus(r);
    bool mine = k->seen >= k->own_from;
    note_prepare(k->w.c, k->seen, st);
    if (st == PGRES_PIPELINE_ABORTED) {
        PQclear(r);
        /* Skipped after an earlier error: that error is already rc. */
        return rc != 0 ? rc
                       : svk__pg_conn_fail(k->w.c, SVK_ESTATE, "the pipeline was aborted");
    }
    int before = rc;
    rc = svk__pg_absorb(&k->w, r, k->seen == k->keep_at ? keep : NULL, rc);
    if (before == 0 && rc != 0 && !mine)
        name_deferred_error(k->w.c);
    return rc;
}

/* Read every result up to and including the Sync's. */
static int collect_pipeline(collector *k, PGresult **keep)
{
    svk_pg_conn *c = k->w.c;
    int rc = 0;
    for (;;) {
        int why = svk__pg_wait_ready(&k->w);
        if (why != 0) {
            why = svk__pg_stop_waiting(&k->w, why);
            if (why != 0)
                return why;
            continue;
        }
        PGresult *r = PQgetResult(c->pg);
        if (r == NULL) {
            k->seen++;
            continue;
        }
        if (PQresultStatus(r) == PGRES_PIPELINE_SYNC) {
            PQclear(r);
            return rc;
        }
        rc = take(k, r, keep, rc);
        if (c->broken)
            return rc;
    }
}

/* Sync, read it all, and leave pipeline mode: the connection is plain again. */
/*
 * The caller's own statement is queries own_from.. of the pipeline, its
 * result the one at keep_at (NO_CARRIER for both when it has none).
 */
static int finish_pipeline(svk_pg_conn *c, const svk_ctx *ctx, int64_t cap_ns, int own_from,
                           int keep_at, PGresult **keep)
{
    int rc, answered = 0;
    if (PQpipelineSync(c->pg) != 1) {
        c->broken = true;
        rc = svk__pg_conn_fail(c, SVK_EUNAVAIL, "pipeline sync: %s", PQerrorMessage(c->pg));
    } else {
        int64_t now = svk_clock_mono_ns();
        collector k = {{c, ctx, svk__pg_wait_deadline(c, ctx, cap_ns, now), now, 0},
                       own_from, keep_at, 0};
        rc = collect_pipeline(&k, keep);
        answered = k.seen;
    }
    c->pending = 0;
    c->deferred_name[0] = '\0';
    if (!c->broken && PQexitPipelineMode(c->pg) != 1) {
        c->broken = true;
        if (rc == 0)
            rc = svk__pg_conn_fail(c, SVK_EPROTO, "pipeline not drained: %s",
                                   PQerrorMessage(c->pg));
    }
    end_prepares(c, answered, rc);
    if (rc == SVK_EUNAVAIL)
        c->broken = true;
    svk__pg_track_transaction(c, rc);
    return rc;
}

static int send_failed(svk_pg_conn *c)
{
    c->broken = true; /* half a pipeline in libpq's buffer: nothing to resume */
    return svk__pg_conn_fail(c, PQstatus(c->pg) == CONNECTION_BAD ? SVK_EUNAVAIL : SVK_EPROTO,
                             "%s", PQerrorMessage(c->pg));
}

/* Prepare st if this connection has not, and send it: its result is owed. */
static int send_stmt(svk_pg_conn *c, const svk__pg_stmt *st, const char *const *values,
                     const int *lengths, const int *formats, int result_format)
{
    if (PQpipelineStatus(c->pg) == PQ_PIPELINE_OFF && PQenterPipelineMode(c->pg) != 1)
        return send_failed(c);
    if ((c->prepared & st->bit) == 0) {
        if (PQsendPrepare(c->pg, st->name, st->sql, st->nparams, NULL) != 1)
            return send_failed(c);
        /* Taken as prepared for the rest of this pipeline; its result says. */
        c->prepared |= st->bit;
        c->preparing[c->npreparing].index = c->pending;
        c->preparing[c->npreparing].bit = st->bit;
        c->npreparing++;
        c->pending++;
    }
    if (PQsendQueryPrepared(c->pg, st->name, st->nparams, values, lengths, formats,
                            result_format) != 1)
        return send_failed(c);
    c->pending++;
    return 0;
}

int svk__pg_defer(svk_pg_conn *c, const svk__pg_stmt *st, const char *const *values,
                  const int *lengths, const int *formats)
{
    svk__pg_conn_clear_error(c);
    int rc = svk__pg_preflight(c, NULL);
    if (rc != 0)
        return rc;
    if (c->tx_error != 0)
        return svk__pg_conn_fail(c, SVK_ESTATE, "the transaction has failed: %s",
                                 svk_strerror(c->tx_error));
    rc = send_stmt(c, st, values, lengths, formats, SVK_PG_TEXT);
    if (rc == 0 && c->deferred_name[0] == '\0')
        snprintf(c->deferred_name, sizeof c->deferred_name, "%s", st->what);
    return rc;
}

int svk__pg_exec_stmt(svk_pg_conn *c, const svk_ctx *ctx, const svk__pg_stmt *st,
                      const char *const *values, const int *lengths, const int *formats,
                      int result_format, PGresult **out)
{
    svk__pg_conn_clear_error(c);
    int rc = svk__pg_preflight(c, ctx);
    if (rc != 0)
        return rc;
    PGresult *keep = NULL;
    int first = c->pending; /* its Prepare, if it needs one, then itself */
    rc = send_stmt(c, st, values, lengths, formats, result_format);
    if (rc == 0)
        rc = finish_pipeline(c, ctx, 0, first, c->pending - 1, &keep);
    if (rc != 0 || out == NULL)
        PQclear(keep);
    else
        *out = keep;
    return rc;
}

int svk__pg_run_pipelined(svk_pg_conn *c, const svk_ctx *ctx, int64_t cap_ns,
                          const svk__pg_query *q, PGresult **out)
{
    PGresult *keep = NULL;
    int rc;
    if (PQsendQueryParams(c->pg, q->sql, q->nparams, NULL, q->values, q->lengths, q->formats,
                          q->result_format) != 1)
        rc = send_failed(c);
    else
        rc = finish_pipeline(c, ctx, cap_ns, c->pending, c->pending, &keep);
    if (rc != 0 || out == NULL)
        PQclear(keep);
    else
        *out = keep;
    return rc;
}

int svk__pg_flush(svk_pg_conn *c)
{
    if (c->pending == 0 || c->broken)
        return 0;
    svk__pg_conn_clear_error(c);
    return finish_pipeline(c, NULL, svk_clock_mono_ns() + SVK_PG_CLEANUP_NS, NO_CARRIER,
                           NO_CARRIER, NULL);
}
