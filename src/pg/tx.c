/*
 * tx.c — transactions and savepoints.
 *
 * An svk_tx lives inside its connection (conn->tx), so beginning one
 * allocates nothing. The failed state is not tracked here but by the query
 * path (conn->tx_error follows PQtransactionStatus after every statement),
 * so statements run on svk_tx_conn directly, and a ROLLBACK TO SAVEPOINT
 * issued by hand, keep the bookkeeping right too.
 */
#include "pg/conn.h"
#include "pg/pool.h"

#include <stdio.h>
#include <string.h>

#define MAX_IDENTIFIER 63 /* PostgreSQL's NAMEDATALEN - 1 */

static const char *begin_statement(int flags)
{
    /* Every valid combination, spelled out: nothing is built at run time. */
    static const char *const statements[3][4] = {
        {"BEGIN ISOLATION LEVEL READ COMMITTED", "BEGIN ISOLATION LEVEL READ COMMITTED READ ONLY",
         NULL, NULL},
        {"BEGIN ISOLATION LEVEL REPEATABLE READ",
         "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", NULL, NULL},
        {"BEGIN ISOLATION LEVEL SERIALIZABLE", "BEGIN ISOLATION LEVEL SERIALIZABLE READ ONLY",
         NULL, "BEGIN ISOLATION LEVEL SERIALIZABLE READ ONLY DEFERRABLE"},
    };
    int level = flags & 0xf;
    int modifiers = flags >> 4;
    if ((flags & ~(0xf | SVK_TX_READ_ONLY | SVK_TX_DEFERRABLE)) != 0 || level > 2)
        return NULL;
    return statements[level][modifiers];
}

/* The transaction object of c, begun (its BEGIN sent). */
static svk_tx *open_tx(svk_pg_conn *c, bool owns)
{
    c->tx = (struct svk_tx){c, true, owns};
    c->tx_error = 0;
    return &c->tx;
}

static int start(svk_pg_conn *c, const svk_ctx *ctx, const char *begin, bool owns, svk_tx **out)
{
    int rc = svk__pg_run_simple(c, ctx, 0, begin);
    if (rc == 0)
        *out = open_tx(c, owns);
    return rc;
}

SVK_API int svk_tx_begin_conn(svk_pg_conn *conn, const svk_ctx *ctx, int flags, svk_tx **out)
{
    if (out != NULL)
        *out = NULL;
    if (conn == NULL || out == NULL)
        return SVK_EINVAL;
    const char *begin = begin_statement(flags);
    if (begin == NULL)
        return svk__pg_conn_fail(conn, SVK_EINVAL, "unknown transaction flags 0x%x", flags);
    if (conn->tx.active || PQtransactionStatus(conn->pg) != PQTRANS_IDLE)
        return svk__pg_conn_fail(conn, SVK_ESTATE, "the connection is in a transaction");
    return start(conn, ctx, begin, false, out);
}

static const svk__pg_stmt begin_rc_stmt = {
    SVK__PG_STMT_BEGIN, "svk_begin_read_committed_v1", "BEGIN",
    "BEGIN ISOLATION LEVEL READ COMMITTED", 0,
};

int svk__tx_begin_ahead(svk_pg_conn *c, svk_tx **out)
{
    *out = NULL;
    if (c->tx.active || (c->pending == 0 && PQtransactionStatus(c->pg) != PQTRANS_IDLE))
        return svk__pg_conn_fail(c, SVK_ESTATE, "the connection is in a transaction");
    int rc = svk__pg_defer(c, &begin_rc_stmt, NULL, NULL, NULL);
    if (rc == 0)
        *out = open_tx(c, false);
    return rc;
}

SVK_API int svk_tx_begin(svk_pg_pool *pool, const svk_ctx *ctx, int flags, svk_tx **out)
{
    if (out != NULL)
        *out = NULL;
    if (pool == NULL || out == NULL)
        return SVK_EINVAL;
    const char *begin = begin_statement(flags);
    if (begin == NULL)
        return SVK_EINVAL;
    svk_pg_conn *c = NULL;
    int rc = svk_pg_acquire(pool, ctx, &c);
    if (rc == 0 && (rc = start(c, ctx, begin, true, out)) != 0)
        svk_pg_release(c);
    return rc;
}

/* End the transaction object; hand the connection back if it was ours. */
static int finish(svk_tx *tx, int rc)
{
    svk_pg_conn *c = tx->conn;
    bool owns = tx->owns_conn;
    tx->active = false;
    c->tx_error = 0;
    if (owns)
        svk_pg_release(c);
    return rc;
}

static int roll_back(svk_pg_conn *c)
{
    svk__pg_flush(c); /* their results first; an error is rolled back too */
    if (c->broken || PQstatus(c->pg) != CONNECTION_OK)
        return SVK_EUNAVAIL;
    if (PQtransactionStatus(c->pg) == PQTRANS_IDLE)
        return 0;
    return svk__pg_run_simple(c, NULL, svk_clock_mono_ns() + SVK_PG_CLEANUP_NS, "ROLLBACK");
}

/* After a rollback: the failed statement's error is the one to report. */
static void restore_failure(svk_pg_conn *c)
{
    memcpy(c->message, c->tx_message, sizeof c->message);
    memcpy(c->sqlstate, c->tx_sqlstate, sizeof c->sqlstate);
}

SVK_API int svk_tx_rollback(svk_tx *tx)
{
    if (tx == NULL || !tx->active)
        return tx == NULL ? 0 : SVK_EINVAL;
    return finish(tx, roll_back(tx->conn));
}

/* The error a commit must report instead of committing, or 0. */
static int commit_blocker(svk_pg_conn *c, const svk_ctx *ctx)
{
    if (c->tx_error != 0)
        return c->tx_error;
    if (c->broken || PQstatus(c->pg) != CONNECTION_OK)
        return SVK_EUNAVAIL;
    if (PQtransactionStatus(c->pg) == PQTRANS_INERROR)
        return SVK_ESTATE; /* failed through the native connection */
    return svk_ctx_err(ctx);
}

SVK_API int svk_tx_commit(svk_tx *tx, const svk_ctx *ctx)
{
    if (tx == NULL || !tx->active)
        return SVK_EINVAL;
    svk_pg_conn *c = tx->conn;
    int blocker = commit_blocker(c, ctx);
    if (blocker != 0) {
        bool failed_statement = c->tx_error != 0;
        roll_back(c);
        /* Report the statement that failed, not the rollback. */
        if (failed_statement) {
            restore_failure(c);
        } else {
            svk__pg_conn_fail(c, blocker, "%s before COMMIT: rolled back",
                              svk_strerror(blocker));
        }
        return finish(tx, blocker);
    }
    /* Statements sent ahead (svk__pg_defer) go in the same round trip: if
     * one of them failed, the server skips the COMMIT and rc is its error. */
    int rc = svk__pg_run_simple(c, ctx, 0, "COMMIT");
    if (rc != 0 && !c->broken && PQtransactionStatus(c->pg) != PQTRANS_IDLE) {
        bool failed_statement = c->tx_error != 0;
        roll_back(c); /* COMMIT refused (deferred constraint, 40001, a deferred statement) */
        if (failed_statement)
            restore_failure(c);
    }
    return finish(tx, rc);
}

SVK_API int svk_tx_exec(svk_tx *tx, const svk_ctx *ctx, const char *sql, int nparams,
                        const char *const *values, const int *lengths, const int *formats,
                        svk_pg_result **res)
{
    if (res != NULL)
        *res = NULL;
    if (tx == NULL || !tx->active)
        return SVK_EINVAL;
    return svk_pg_exec(tx->conn, ctx, sql, nparams, values, lengths, formats, res);
}

static bool valid_identifier(const char *name)
{
    size_t n = name ? strlen(name) : 0;
    if (n == 0 || n > MAX_IDENTIFIER || (name[0] >= '0' && name[0] <= '9'))
        return false;
    for (size_t i = 0; i < n; i++) {
        char ch = name[i];
        if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
              (ch >= '0' && ch <= '9') || ch == '_'))
            return false;
    }
    return true;
}

/* SAVEPOINT, ROLLBACK TO SAVEPOINT, RELEASE SAVEPOINT: name checked first. */
static int savepoint_statement(svk_tx *tx, const svk_ctx *ctx, const char *verb,
                               const char *name)
{
    if (tx == NULL || !tx->active)
        return SVK_EINVAL;
    if (!valid_identifier(name))
        return svk__pg_conn_fail(tx->conn, SVK_EINVAL, "invalid savepoint name");
    char sql[sizeof "ROLLBACK TO SAVEPOINT " + MAX_IDENTIFIER + 2];
    snprintf(sql, sizeof sql, "%s \"%s\"", verb, name);
    return svk__pg_run_simple(tx->conn, ctx, 0, sql);
}

SVK_API int svk_tx_savepoint(svk_tx *tx, const svk_ctx *ctx, const char *name)
{
    return savepoint_statement(tx, ctx, "SAVEPOINT", name);
}

SVK_API int svk_tx_rollback_to(svk_tx *tx, const svk_ctx *ctx, const char *name)
{
    return savepoint_statement(tx, ctx, "ROLLBACK TO SAVEPOINT", name);
}

SVK_API int svk_tx_release(svk_tx *tx, const svk_ctx *ctx, const char *name)
{
    return savepoint_statement(tx, ctx, "RELEASE SAVEPOINT", name);
}

SVK_API svk_pg_conn *svk_tx_conn(svk_tx *tx)
{
    return tx ? tx->conn : NULL;
}

SVK_API int svk_tx_error(const svk_tx *tx)
{
    if (tx == NULL)
        return SVK_EINVAL;
    return tx->active ? tx->conn->tx_error : 0;
}
