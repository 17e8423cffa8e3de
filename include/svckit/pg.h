/*
 * svckit/pg.h — PostgreSQL: a bounded connection pool over libpq, queries
 * bounded by the caller's svk_ctx, transactions with savepoints, SQLSTATE
 * mapped to SVK_E*, LISTEN/NOTIFY, and the library's own schema migrations.
 *
 * The pieces:
 *
 *  - svk_pg_pool: at most max_conns connections to one database, opened on
 *    demand (no background thread). svk_pg_acquire hands one connection to
 *    one thread; svk_pg_release gives it back. Each connection is set up at
 *    connect time with statement_timeout, idle_in_transaction_session_timeout
 *    and application_name (through libpq's "options"; nothing is SET later).
 *  - svk_pg_conn: a checked-out connection. Queries are parameterised only
 *    (one statement per call, extended protocol, so no SQL is ever built by
 *    pasting values). Each call waits at most until the ctx deadline (and the
 *    pool's statement_timeout plus a grace second); past it, or when the ctx
 *    is cancelled, the query is cancelled on the server and the call returns
 *    SVK_ETIMEDOUT or SVK_ECANCELED with the connection still usable.
 *  - svk_pg_result: the rows of one query: borrowed accessors over libpq's
 *    PGresult, freed with svk_pg_result_free.
 *  - svk_tx: a transaction holding one connection until commit or rollback.
 *    A failed statement puts it in the failed state; commit then rolls back
 *    and returns the first error. Savepoints undo part of it.
 *  - Notifications: svk_pg_listen / svk_pg_wait_notify / svk_pg_notify, the
 *    wake-up channel of the outbox relay and the PostgreSQL queue.
 *  - Migrations: svk_pg_migrate brings the svk_* tables (outbox, processed
 *    messages, dead letters, queue) to the version this library ships, under
 *    a transaction-scoped advisory lock so that services starting together
 *    do not race. docs/pg.md describes the tables.
 *
 * Errors. Each SQLSTATE class the caller can act on has its own code:
 *    23505, 23P01 (unique/exclusion violation) -> SVK_ECONFLICT
 *    40001 (serialization failure: retry the transaction) -> SVK_ESERIALIZE
 *    40P01 (deadlock detected: retry the transaction)     -> SVK_EDEADLOCK
 *    08xxx, 57P01-57P05, a lost connection                -> SVK_EUNAVAIL
 *    57014 after our deadline or statement_timeout        -> SVK_ETIMEDOUT
 *    57014 after svk_ctx_cancel or pg_cancel_backend       -> SVK_ECANCELED
 *    25P03 (idle_in_transaction_session_timeout)          -> SVK_ETIMEDOUT
 *    53xxx (too many connections, out of memory, disk full) -> SVK_EBUSY
 *    55P03 (lock_not_available: NOWAIT, lock_timeout)      -> SVK_EAGAIN
 *    25P02 (in failed transaction)                         -> SVK_ESTATE
 *    any other error reported by the server                -> SVK_EDB
 * SVK_EINVAL is kept for arguments this library rejects before sending
 * anything. The SQLSTATE and the server's message stay on the connection
 * (svk_pg_conn_last_sqlstate, svk_pg_conn_last_error) until its next call.
 *
 * Argument order: constructors take the out-parameter first; operations on
 * a handle take the handle, then the ctx, then inputs, and outputs last.
 *
 * Threads: the pool functions (acquire, release, stats, last error) are
 * safe from any thread. A connection, a result and a transaction belong to
 * one thread at a time. libpq's own allocations do not go through the
 * svk_set_allocator hooks (libpq has none); the library's own do.
 */
#ifndef SVCKIT_PG_H
#define SVCKIT_PG_H

#include <stddef.h>
#include <stdint.h>

#include "svckit/core.h"
#include "svckit/ctx.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct svk_pg_pool svk_pg_pool;
typedef struct svk_pg_conn svk_pg_conn;
typedef struct svk_pg_result svk_pg_result;
typedef struct svk_tx svk_tx;

/* libpq's types, for the escape hatches; include <libpq-fe.h> to use them. */
struct pg_conn;
struct pg_result;

/* A timeout field set to this turns the timeout off. */
#define SVK_PG_NO_TIMEOUT (-1)

/* Query parameter and result formats (libpq's: 0 text, 1 binary). */
#define SVK_PG_TEXT 0
#define SVK_PG_BINARY 1

/*
 * svk_pg_options — how svk_pg_pool_new builds a pool. Start from
 * SVK_PG_OPTIONS_INIT and set conninfo. size lets later versions append
 * fields; zero in any other field means its default. Durations are in
 * nanoseconds; SVK_PG_NO_TIMEOUT turns the ones marked "off-able" off.
 */
typedef struct svk_pg_options {
    size_t size;          /* sizeof(svk_pg_options) of the caller's header */
    const char *conninfo; /* libpq URL or key=value string; copied; required */
    int max_conns;        /* connections open at most; default 10 */
    int64_t connect_timeout_ns;  /* one connection attempt; default 5 s */
    int64_t acquire_timeout_ns;  /* longest svk_pg_acquire wait; default 5 s */
    int64_t statement_timeout_ns; /* server statement_timeout; 30 s; off-able */
    int64_t idle_in_tx_timeout_ns; /* idle_in_transaction_session_timeout;
                                      default 60 s; off-able */
    const char *application_name;  /* copied; NULL: conninfo's, else "svckit" */
    int64_t health_check_idle_ns;  /* a connection idle longer than this is
                                      pinged at checkout; 30 s; off-able */
    int64_t reconnect_min_ns; /* first delay after a failed connect; 100 ms */
    int64_t reconnect_max_ns; /* cap of the doubling delay; default 10 s */
} svk_pg_options;

#define SVK_PG_OPTIONS_INIT {.size = sizeof(svk_pg_options)}

/*
 * svk_pg_stats — a snapshot of a pool's counters (svk_pg_pool_stats). size
 * is set by the caller (SVK_PG_STATS_INIT) so later versions can append.
 */
typedef struct svk_pg_stats {
    size_t size;
    int open;                  /* connections open or being opened */
    int idle;                  /* of which idle in the pool */
    int waiting;               /* threads waiting in svk_pg_acquire */
    uint64_t connects;         /* successful connection attempts */
    uint64_t connect_failures; /* failed connection attempts */
    uint64_t discarded;        /* connections closed as broken or unclean */
    uint64_t acquire_timeouts; /* acquires that gave up waiting */
} svk_pg_stats;

#define SVK_PG_STATS_INIT {.size = sizeof(svk_pg_stats)}

/* ------------------------------------------------------------------- pool */

/*
 * svk_pg_pool_new — make a pool for the database opts->conninfo names.
 *
 * No connection is opened here: the first svk_pg_acquire opens one, so a
 * service may start before its database. conninfo is checked now (a
 * malformed string fails here, with a message that never quotes it). The
 * per-connection settings are merged into conninfo's own "options", so a
 * search_path given there is kept.
 * Ownership: *out is new, free it with svk_pg_pool_free; opts and its
 *            strings are read during the call only; err optional.
 * Threads: any thread.
 * Errors: SVK_EINVAL (out or opts NULL, opts->size 0 or larger than this
 *         library knows, conninfo NULL or malformed, a negative count or
 *         timeout other than SVK_PG_NO_TIMEOUT where allowed,
 *         reconnect_min_ns > reconnect_max_ns), SVK_ENOMEM, SVK_ESYS (mutex
 *         or condition variable). *out is NULL on failure.
 * Since: 0.1.0
 */
SVK_API int svk_pg_pool_new(svk_pg_pool **out, const svk_pg_options *opts, svk_error *err);

/*
 * svk_pg_pool_free — close every connection and free the pool. NULL is a no-op.
 *
 * Ownership: takes pool back. Every connection must have been released and
 *            every transaction finished first (asserted in debug builds).
 * Threads: any thread, once no other thread uses the pool.
 * Errors: none.
 * Since: 0.1.0
 */
SVK_API void svk_pg_pool_free(svk_pg_pool *pool);

/*
 * svk_pg_acquire — check a connection out of the pool.
 *
 * Takes an idle connection if there is one, else opens a new one while
 * fewer than max_conns are open, else waits for a release. A connection
 * that the server closed while it sat idle (restart, pg_terminate_backend)
 * is noticed without a round trip and replaced; one idle longer than
 * health_check_idle_ns is pinged first. Waits at most until the ctx
 * deadline or acquire_timeout_ns, whichever comes first.
 *
 * When the database is down, connection attempts back off: after a failed
 * attempt no new one starts for reconnect_min_ns, doubling up to
 * reconnect_max_ns, with jitter, and one caller at a time probes. A caller
 * arriving inside that window waits for its end if it comes before the
 * caller's own deadline, else fails at once with SVK_EUNAVAIL. Each call
 * makes at most one attempt. The attempts therefore stay a handful per
 * second however hard callers loop; svk_pg_pool_last_error says why the
 * last one failed. An attempt that the caller's deadline interrupts is not
 * thrown away: the next caller needing a connection carries it on, so
 * callers with short deadlines still let the pool grow, and a database
 * that hangs on connect earns its verdict after connect_timeout_ns of
 * trying rather than one new attempt per caller.
 * Ownership: *out is new, give it back with svk_pg_release; pool and ctx
 *            borrowed for the call; the pool must outlive the connection.
 * Threads: safe from any thread.
 * Errors: SVK_EINVAL (pool or out NULL); SVK_ETIMEDOUT (the ctx deadline
 *         passed first, waiting or connecting) or SVK_EBUSY
 *         (acquire_timeout_ns passed first while the pool was full);
 *         SVK_ECANCELED (ctx cancelled); SVK_EUNAVAIL (connecting failed or
 *         took all of acquire_timeout_ns, or the database is in its backoff
 *         window); SVK_ENOMEM; SVK_ESYS (poll failed). *out is NULL on
 *         failure.
 * Since: 0.1.0
 */
SVK_API int svk_pg_acquire(svk_pg_pool *pool, const svk_ctx *ctx, svk_pg_conn **out);

/*
 * svk_pg_release — give a connection back to its pool. NULL is a no-op.
 *
 * A connection left inside a transaction is rolled back first (waiting at
 * most a couple of seconds). One that is broken, still busy, or that issued
 * LISTEN (so that no later user inherits its notifications) is closed
 * instead, and its place freed.
 * Ownership: takes conn back; it must not be used afterwards. A transaction
 *            begun with svk_tx_begin_conn on it is abandoned (rolled back).
 * Threads: any thread (the one holding conn).
 * Errors: none.
 * Since: 0.1.0
 */
SVK_API void svk_pg_release(svk_pg_conn *conn);

/*
 * svk_pg_pool_stats — copy the pool's counters into *out.
 *
 * Ownership: pool borrowed; out is the caller's, with out->size set
 *            (SVK_PG_STATS_INIT); only that many bytes are written.
 * Threads: safe from any thread.
 * Errors: SVK_EINVAL (NULL argument, out->size 0 or too large).
 * Since: 0.1.0
 */
SVK_API int svk_pg_pool_stats(svk_pg_pool *pool, svk_pg_stats *out);

/*
 * svk_pg_pool_last_error — why the pool's last connection attempt failed.
 *
 * Returns the code of that failure, or 0 when the last attempt succeeded
 * (or none was made), and copies libpq's message into buf (NUL-terminated,
 * truncated to size; "" when none). libpq's connect messages name the host
 * and user, never the password.
 * Ownership: pool borrowed; buf is the caller's (may be NULL if size is 0).
 * Threads: safe from any thread.
 * Errors: the return value is the answer, not a failure of this call.
 * Since: 0.1.0
 */
SVK_API int svk_pg_pool_last_error(svk_pg_pool *pool, char *buf, size_t size);

/* ------------------------------------------------------------------ query */

/*
 * svk_pg_exec — run one parameterised statement and wait for its result
 * (result columns in text format).
 *
 * The statement goes out with the extended protocol: $1..$n stand for the
 * parameters, and a string with several statements is refused by the
 * server. values[i] NULL is SQL NULL; lengths[i] is the byte length of a
 * binary parameter (ignored for text); formats[i] is SVK_PG_TEXT or
 * SVK_PG_BINARY (formats NULL: all text; lengths may be NULL when all are
 * text). Types are inferred by the server: cast where it cannot ($1::bytea).
 *
 * The wait ends at the ctx deadline (at the latest statement_timeout plus a
 * second): then, or when the ctx is cancelled (noticed within 50 ms), the
 * query is cancelled on the server (PQcancel), the connection drained and
 * SVK_ETIMEDOUT or SVK_ECANCELED returned; the backend is idle afterwards
 * and the connection reusable. If the statement completed before the
 * cancel reached the server, its result is returned as usual. COPY is not
 * supported (use svk_pg_conn_native).
 * Ownership: conn and ctx borrowed; sql, values, lengths and formats
 *            borrowed for the call; *res (when res is not NULL) is new, free
 *            it with svk_pg_result_free — pass res NULL to discard rows.
 * Threads: the thread holding conn.
 * Errors: SVK_EINVAL (conn or sql NULL, nparams negative, values NULL with
 *         nparams > 0, a bad format); SVK_ETIMEDOUT; SVK_ECANCELED;
 *         SVK_EUNAVAIL (connection lost: release it); SVK_ENOTSUP (COPY);
 *         SVK_ENOMEM; the SQLSTATE mapping of the file comment (SVK_ECONFLICT,
 *         SVK_ESERIALIZE, SVK_EDEADLOCK, SVK_EBUSY, SVK_EAGAIN, SVK_ESTATE,
 *         SVK_EDB); SVK_EPROTO (libpq reported a client-side error with the
 *         connection still up). *res is NULL on failure.
 * Since: 0.1.0
 */
SVK_API int svk_pg_exec(svk_pg_conn *conn, const svk_ctx *ctx, const char *sql, int nparams,
                        const char *const *values, const int *lengths, const int *formats,
                        svk_pg_result **res);

/*
 * svk_pg_exec_format — svk_pg_exec with the result columns in
 * result_format (SVK_PG_TEXT or SVK_PG_BINARY: bytea as raw bytes, int8 as
 * 8 big-endian bytes, ...).
 *
 * Ownership, threads: as svk_pg_exec.
 * Errors: as svk_pg_exec; SVK_EINVAL also for an unknown result_format.
 * Since: 0.1.0
 */
SVK_API int svk_pg_exec_format(svk_pg_conn *conn, const svk_ctx *ctx, const char *sql,
                               int nparams, const char *const *values, const int *lengths,
                               const int *formats, int result_format, svk_pg_result **res);

/*
 * svk_pg_conn_last_error — the message of conn's last failed call: the
 * server's error (severity, message, DETAIL, HINT as libpq formats it) or
 * libpq's or this library's description. "" after a successful call.
 *
 * Ownership: borrowed, valid until the next call on conn or its release.
 * Threads: the thread holding conn.
 * Errors: none (NULL conn gives "").
 * Since: 0.1.0
 */
SVK_API const char *svk_pg_conn_last_error(const svk_pg_conn *conn);

/*
 * svk_pg_conn_last_sqlstate — the five-character SQLSTATE of conn's last
 * failed call, or "" when the failure did not come from the server.
 *
 * Ownership: borrowed, valid until the next call on conn or its release.
 * Threads: the thread holding conn.
 * Errors: none (NULL conn gives "").
 * Since: 0.1.0
 */
SVK_API const char *svk_pg_conn_last_sqlstate(const svk_pg_conn *conn);

/*
 * svk_pg_conn_native — the libpq connection under conn, for what this API
 * does not cover (COPY, pipeline mode, PQescape*, PQbackendPID).
 *
 * The connection is in non-blocking mode (PQsetnonblocking) and out of
 * pipeline mode: statements this library sent ahead (svk_outbox_put) are
 * answered first, waiting up to a couple of seconds; if one failed, the
 * transaction is in the failed state (svk_tx_error). Leave it idle (no
 * query in flight, results consumed) and in the transaction state you
 * found it, or call svk_pg_conn_mark_broken so the pool closes it.
 * Ownership: borrowed, valid until conn is released; never PQfinish it.
 * Threads: the thread holding conn.
 * Errors: none (NULL conn gives NULL).
 * Since: 0.1.0
 */
SVK_API struct pg_conn *svk_pg_conn_native(svk_pg_conn *conn);

/*
 * svk_pg_conn_mark_broken — tell the pool not to reuse conn: it is closed
 * at release. For code that left the native connection in an unknown state.
 *
 * Ownership: conn borrowed; NULL is a no-op.
 * Threads: the thread holding conn.
 * Errors: none.
 * Since: 0.1.0
 */
SVK_API void svk_pg_conn_mark_broken(svk_pg_conn *conn);

/*
 * svk_pg_sqlstate_code — the SVK_E* code for a SQLSTATE, as the file
 * comment maps them; 57014 maps to SVK_ECANCELED here (the query calls know
 * when it was a timeout). NULL, "" or a malformed state give SVK_EDB.
 *
 * Ownership: sqlstate borrowed for the call.
 * Threads: safe from any thread.
 * Errors: the return value is the answer (never 0).
 * Since: 0.1.0
 */
SVK_API int svk_pg_sqlstate_code(const char *sqlstate);

/* ----------------------------------------------------------------- result */

/*
 * svk_pg_result_rows / svk_pg_result_cols — the number of rows and columns
 * (0 for a statement that returns no rows, or a NULL res).
 *
 * Ownership: res borrowed. Threads: the thread owning res. Errors: none.
 * Since: 0.1.0
 */
SVK_API int svk_pg_result_rows(const svk_pg_result *res);
SVK_API int svk_pg_result_cols(const svk_pg_result *res);

/*
 * svk_pg_result_value — the value at (row, col): NUL-terminated text in text
 * format, the raw bytes (still followed by a NUL) in binary format; "" for
 * SQL NULL (tell it apart with svk_pg_result_isnull). NULL when row or col
 * is out of range.
 *
 * Ownership: borrowed, valid until svk_pg_result_free(res).
 * Threads: the thread owning res.
 * Errors: none.
 * Since: 0.1.0
 */
SVK_API const char *svk_pg_result_value(const svk_pg_result *res, int row, int col);

/*
 * svk_pg_result_length — the value's length in bytes (0 for NULL or out of
 * range). Ownership: res borrowed. Threads: the thread owning res.
 * Errors: none. Since: 0.1.0
 */
SVK_API int svk_pg_result_length(const svk_pg_result *res, int row, int col);

/*
 * svk_pg_result_isnull — 1 if the value is SQL NULL (or out of range), else 0.
 * Ownership: res borrowed. Threads: the thread owning res. Errors: none.
 * Since: 0.1.0
 */
SVK_API int svk_pg_result_isnull(const svk_pg_result *res, int row, int col);

/*
 * svk_pg_result_colname — the name of column col, or NULL when out of range.
 * Ownership: borrowed, valid until svk_pg_result_free(res).
 * Threads: the thread owning res. Errors: none. Since: 0.1.0
 */
SVK_API const char *svk_pg_result_colname(const svk_pg_result *res, int col);

/*
 * svk_pg_result_affected — the rows an INSERT, UPDATE, DELETE, MERGE,
 * SELECT, MOVE, FETCH or COPY touched (its command tag), or -1 when the
 * statement reports none. Ownership: res borrowed.
 * Threads: the thread owning res. Errors: none. Since: 0.1.0
 */
SVK_API int64_t svk_pg_result_affected(const svk_pg_result *res);

/*
 * svk_pg_result_native — the libpq PGresult behind res (the same pointer),
 * for PQftype, PQfformat and friends.
 *
 * Ownership: borrowed; never PQclear it — free res instead.
 * Threads: the thread owning res. Errors: none (NULL res gives NULL).
 * Since: 0.1.0
 */
SVK_API struct pg_result *svk_pg_result_native(svk_pg_result *res);

/*
 * svk_pg_result_free — free a result. NULL is a no-op.
 * Ownership: takes res back. Threads: the thread owning res. Errors: none.
 * Since: 0.1.0
 */
SVK_API void svk_pg_result_free(svk_pg_result *res);

/* ------------------------------------------------------------ transactions */

/* Flags of svk_tx_begin: one isolation level, or'ed with the modifiers. */
enum svk_tx_flag {
    SVK_TX_READ_COMMITTED = 0, /* the default; the right one for SKIP LOCKED */
    SVK_TX_REPEATABLE_READ = 1,
    SVK_TX_SERIALIZABLE = 2,
    SVK_TX_READ_ONLY = 1 << 4,
    SVK_TX_DEFERRABLE = 1 << 5 /* with SERIALIZABLE | READ_ONLY only */
};

/*
 * svk_tx_begin — check a connection out of pool and begin a transaction on it.
 *
 * The transaction holds the connection until svk_tx_commit or
 * svk_tx_rollback, which give it back. No memory is allocated per
 * transaction.
 * Ownership: *out is new, finished (and freed) by svk_tx_commit or
 *            svk_tx_rollback; pool and ctx borrowed.
 * Threads: safe from any thread; the transaction then belongs to it.
 * Errors: SVK_EINVAL (NULL argument, unknown flags); those of
 *         svk_pg_acquire and svk_pg_exec. *out is NULL on failure.
 * Since: 0.1.0
 */
SVK_API int svk_tx_begin(svk_pg_pool *pool, const svk_ctx *ctx, int flags, svk_tx **out);

/*
 * svk_tx_begin_conn — begin a transaction on a connection the caller holds.
 *
 * Commit and rollback leave the connection with the caller.
 * Ownership: *out is new, finished by svk_tx_commit or svk_tx_rollback; it
 *            lives inside conn, so conn must not be released before then.
 * Threads: the thread holding conn.
 * Errors: SVK_EINVAL (NULL argument, unknown flags); SVK_ESTATE (conn is
 *         already in a transaction); those of svk_pg_exec. *out is NULL on
 *         failure.
 * Since: 0.1.0
 */
SVK_API int svk_tx_begin_conn(svk_pg_conn *conn, const svk_ctx *ctx, int flags, svk_tx **out);

/*
 * svk_tx_commit — commit, and finish the transaction.
 *
 * A transaction in the failed state (a statement failed and no savepoint
 * undid it) is rolled back instead and its first error returned. If ctx is
 * already done nothing is committed: the transaction is rolled back and
 * SVK_ETIMEDOUT or SVK_ECANCELED returned. A COMMIT that was sent but not
 * answered in time has an unknown outcome (SVK_ETIMEDOUT or SVK_EUNAVAIL),
 * as with any database. Under SERIALIZABLE, COMMIT itself may fail with
 * SVK_ESERIALIZE: retry the whole transaction.
 * Ownership: takes tx back whatever the result; a connection from
 *            svk_tx_begin goes back to the pool.
 * Threads: the thread owning tx.
 * Errors: SVK_EINVAL (tx NULL or finished); the failed statement's code;
 *         those of svk_pg_exec.
 * Since: 0.1.0
 */
SVK_API int svk_tx_commit(svk_tx *tx, const svk_ctx *ctx);

/*
 * svk_tx_rollback — roll back, and finish the transaction. NULL is a no-op.
 *
 * Takes no ctx: it is the clean-up path, run after the caller's deadline
 * too, and waits a couple of seconds at most; a connection that cannot roll
 * back in that time is closed, which rolls back on the server.
 * Ownership: takes tx back; a connection from svk_tx_begin goes back to
 *            the pool.
 * Threads: the thread owning tx.
 * Errors: SVK_EUNAVAIL or SVK_ETIMEDOUT when the rollback could not be
 *         confirmed (the transaction is finished either way).
 * Since: 0.1.0
 */
SVK_API int svk_tx_rollback(svk_tx *tx);

/*
 * svk_tx_exec — svk_pg_exec inside the transaction.
 *
 * A failure puts the transaction in the failed state (svk_tx_error); later
 * statements fail with SVK_ESTATE until svk_tx_rollback_to a savepoint.
 * Statements the library sent ahead in this transaction (svk_outbox_put)
 * travel in the same round trip; if one of them failed, this call returns
 * its error (its message names it) and the statement itself is skipped.
 * The same holds for svk_tx_commit and every statement run on svk_tx_conn.
 * Ownership: as svk_pg_exec; tx borrowed.
 * Threads: the thread owning tx.
 * Errors: as svk_pg_exec; SVK_EINVAL (tx finished).
 * Since: 0.1.0
 */
SVK_API int svk_tx_exec(svk_tx *tx, const svk_ctx *ctx, const char *sql, int nparams,
                        const char *const *values, const int *lengths, const int *formats,
                        svk_pg_result **res);

/*
 * svk_tx_savepoint / svk_tx_rollback_to / svk_tx_release — set a savepoint,
 * roll back to it (leaving the failed state; the savepoint stays), or
 * forget it (keeping its work).
 *
 * name is an SQL identifier: 1 to 63 of [A-Za-z0-9_], not starting with a
 * digit (so it is safe to put in the statement).
 * Ownership: tx, ctx and name borrowed.
 * Threads: the thread owning tx.
 * Errors: SVK_EINVAL (NULL argument, finished tx, bad name); those of
 *         svk_pg_exec (SVK_EDB for an unknown savepoint).
 * Since: 0.1.0
 */
SVK_API int svk_tx_savepoint(svk_tx *tx, const svk_ctx *ctx, const char *name);
SVK_API int svk_tx_rollback_to(svk_tx *tx, const svk_ctx *ctx, const char *name);
SVK_API int svk_tx_release(svk_tx *tx, const svk_ctx *ctx, const char *name);

/*
 * svk_tx_conn — the connection the transaction runs on, for svk_pg_exec_format,
 * svk_pg_notify and the error accessors.
 *
 * Statements run on it directly count for the transaction exactly as
 * svk_tx_exec's do. Never release it yourself.
 * Ownership: borrowed until the transaction finishes.
 * Threads: the thread owning tx.
 * Errors: none (NULL tx gives NULL).
 * Since: 0.1.0
 */
SVK_API svk_pg_conn *svk_tx_conn(svk_tx *tx);

/*
 * svk_tx_error — 0 while the transaction is healthy, else the code of the
 * statement that put it in the failed state.
 *
 * Ownership: tx borrowed. Threads: the thread owning tx.
 * Errors: the return value is the answer (SVK_EINVAL for a NULL tx).
 * Since: 0.1.0
 */
SVK_API int svk_tx_error(const svk_tx *tx);

/* ---------------------------------------------------------- notifications */

/*
 * svk_pg_listen / svk_pg_unlisten — LISTEN on a channel, or UNLISTEN one
 * (channel NULL: all).
 *
 * The channel name is quoted as an identifier (any text is safe). A
 * connection that has listened is closed at release rather than reused, so
 * keep a dedicated connection for listening. Notifications are delivered
 * only between transactions (PostgreSQL's rule).
 * Ownership: conn, ctx and channel borrowed.
 * Threads: the thread holding conn.
 * Errors: SVK_EINVAL (conn NULL, channel NULL for listen, or empty); those
 *         of svk_pg_exec.
 * Since: 0.1.0
 */
SVK_API int svk_pg_listen(svk_pg_conn *conn, const svk_ctx *ctx, const char *channel);
SVK_API int svk_pg_unlisten(svk_pg_conn *conn, const svk_ctx *ctx, const char *channel);

/*
 * svk_pg_wait_notify — wait until a notification arrives on a listening
 * connection, then consume every one queued and count them in *got.
 *
 * Returns at once when some are already queued. timeout_ns bounds the wait
 * (0: only look; SVK_PG_NO_TIMEOUT: only the ctx bounds it); running out of
 * it is not an error: *got is 0. Notifications carry no data this API
 * returns: they are wake-ups (the outbox writer sends channel-only NOTIFYs);
 * read channels and payloads with PQnotifies on svk_pg_conn_native instead
 * if needed.
 * Ownership: conn and ctx borrowed; got is the caller's.
 * Threads: the thread holding conn.
 * Errors: SVK_EINVAL (NULL argument, timeout_ns < -1); SVK_ETIMEDOUT (the
 *         ctx deadline passed), SVK_ECANCELED; SVK_EUNAVAIL (connection
 *         lost); SVK_ESYS (poll failed). *got is 0 on failure.
 * Since: 0.1.0
 */
SVK_API int svk_pg_wait_notify(svk_pg_conn *conn, const svk_ctx *ctx, int64_t timeout_ns,
                               int *got);

/*
 * svk_pg_notify — send a notification: SELECT pg_notify(channel, payload).
 *
 * Inside a transaction it is delivered at commit, and identical ones fold
 * into one (so one channel-only NOTIFY per transaction costs one delivery).
 * Payloads must stay under 8000 bytes (PostgreSQL's limit).
 * Ownership: conn, ctx, channel and payload borrowed (payload NULL: "").
 * Threads: the thread holding conn.
 * Errors: SVK_EINVAL (conn or channel NULL, channel empty); those of
 *         svk_pg_exec.
 * Since: 0.1.0
 */
SVK_API int svk_pg_notify(svk_pg_conn *conn, const svk_ctx *ctx, const char *channel,
                          const char *payload);

/* ------------------------------------------------------------- migrations */

/*
 * svk_pg_migrate — bring the svk_* tables to the newest schema version this
 * library ships, and store that version in *version (when not NULL).
 *
 * Runs in one transaction holding pg_advisory_xact_lock(SVK_PG_MIGRATE_LOCK):
 * concurrent callers (threads, processes, services) queue on the lock, and
 * the first applies what is missing while the others then find nothing to
 * do. Applied versions are recorded in svk_schema_version. Each migration
 * is idempotent (IF NOT EXISTS), so tables created by hand are adopted. A
 * database already at a newer version (a newer release migrated it) is left
 * alone and its version reported. Tables go to the first schema of the
 * connection's search_path.
 * Ownership: pool and ctx borrowed; version and err are the caller's.
 * Threads: safe from any thread.
 * Errors: those of svk_tx_begin and svk_pg_exec, with the server's message
 *         in err. Nothing is applied on failure.
 * Since: 0.1.0
 */
SVK_API int svk_pg_migrate(svk_pg_pool *pool, const svk_ctx *ctx, int *version, svk_error *err);

/* The advisory lock key svk_pg_migrate holds ("svkmigr" in ASCII). */
#define SVK_PG_MIGRATE_LOCK INT64_C(0x73766b6d696772)

/*
 * svk_pg_schema_version — the schema version the database is at: the
 * highest row of svk_schema_version, 0 when that table does not exist.
 *
 * Ownership: pool and ctx borrowed; version and err are the caller's.
 * Threads: safe from any thread.
 * Errors: SVK_EINVAL (pool or version NULL); those of svk_pg_acquire and
 *         svk_pg_exec, with the message in err.
 * Since: 0.1.0
 */
SVK_API int svk_pg_schema_version(svk_pg_pool *pool, const svk_ctx *ctx, int *version,
                                  svk_error *err);

/*
 * svk_pg_schema_latest — the newest schema version this library ships.
 *
 * Ownership: none. Threads: safe from any thread. Errors: none.
 * Since: 0.1.0
 */
SVK_API int svk_pg_schema_latest(void);

#ifdef __cplusplus
}
#endif

#endif /* SVCKIT_PG_H */
