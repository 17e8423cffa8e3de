/*
 * conn.h — internal: a pooled connection, the transaction embedded in it,
 * and the calls the pool, the query path and the transactions share.
 *
 * A connection belongs to one thread between svk_pg_acquire and
 * svk_pg_release; none of these fields is touched by another thread then.
 * While idle in the pool only next_idle and idle_since_ns matter, and those
 * are guarded by the pool's lock.
 */
#ifndef SVK_PG_CONN_H
#define SVK_PG_CONN_H

#include <libpq-fe.h>
#include <stdbool.h>

#include "svckit/pg.h"

#define SVK_PG_CONN_MESSAGE_SIZE 512

/* The library's own prepared statements (svk__pg_stmt): one bit each. */
#define SVK__PG_STMTS_MAX 8

/*
 * How often a wait wakes to look at the ctx's cancel flag: the ctx has no
 * file descriptor to poll, so cancellation is noticed within this time.
 */
#define SVK_PG_CANCEL_CHECK_NS (50 * INT64_C(1000000))

/* How long cleanup (cancel drain, rollback at release, ping) may wait. */
#define SVK_PG_CLEANUP_NS (2 * INT64_C(1000000000))

struct svk_tx {
    svk_pg_conn *conn;
    bool active;    /* between begin and commit/rollback */
    bool owns_conn; /* begun by svk_tx_begin: finishing releases conn */
};

struct svk_pg_conn {
    svk_pg_pool *pool;
    PGconn *pg;
    svk_pg_conn *next_idle; /* in the pool's idle or pending list */
    int64_t idle_since_ns;
    /* While connecting: libpq's next wish, the time spent driving it, and
     * when the last caller parked it unfinished (see pool.c). */
    PostgresPollingStatusType connect_poll;
    int64_t connect_spent_ns;
    int64_t parked_at_ns;
    bool broken;    /* unusable: close it at release */
    bool listening; /* issued LISTEN: close it at release */
    bool fatal_seen; /* the server sent FATAL outside a query: it is closing */
    int tx_error;   /* first error of the current failed transaction, or 0 */
    /* Pipeline (pipeline.c): results owed for statements sent ahead, and
     * which svk__pg_stmt are prepared on this connection (bits), of them
     * which were prepared in the pipeline still open. */
    int pending;
    unsigned prepared;
    struct {
        int index;    /* of the Prepare's result among the pending ones */
        unsigned bit; /* the statement it prepares */
    } preparing[SVK__PG_STMTS_MAX];
    int npreparing;
    char deferred_name[48];
    struct svk_tx tx;
    char sqlstate[6];
    char message[SVK_PG_CONN_MESSAGE_SIZE];
    /* The failing statement's sqlstate and message, kept for the commit
     * that reports tx_error after later statements overwrote the above. */
    char tx_sqlstate[6];
    char tx_message[SVK_PG_CONN_MESSAGE_SIZE];
};

/*
 * A connection attempt, resumable: svk__pg_connect_start begins it (0, or
 * SVK_EUNAVAIL / SVK_ENOMEM with the reason in msg; c->pg may be set even
 * then). svk__pg_connect_drive carries it on until it completes or the
 * deadline (monotonic ns) or the ctx ends the wait: 0 (connected, in
 * non-blocking mode), SVK_EUNAVAIL (the server refused or failed us),
 * SVK_ETIMEDOUT (deadline: the attempt can be driven on later, by anyone),
 * SVK_ECANCELED (likewise), SVK_ESYS (poll). Time spent driving adds up in
 * c->connect_spent_ns, which the pool holds against connect_timeout.
 */
int svk__pg_connect_start(svk_pg_conn *c, char *msg, size_t msg_size);
int svk__pg_connect_drive(svk_pg_conn *c, const svk_ctx *ctx, int64_t deadline_ns, char *msg,
                          size_t msg_size);

/*
 * Whether an idle connection can be handed out: the server has not closed
 * it (checked without a round trip) and, if it has been idle longer than
 * the pool's health_check_idle_ns, it answers a ping before deadline_ns.
 */
bool svk__pg_conn_ready(svk_pg_conn *c, int64_t now_ns, int64_t deadline_ns);

/*
 * The poll() timeout in ms for a wait of wait_ns (rounded up; 0 when
 * nothing is left), cut to SVK_PG_CANCEL_CHECK_NS when ctx could be cancelled.
 */
int svk__pg_poll_ms(int64_t wait_ns, const svk_ctx *ctx);

/* Make the connection clean for the pool: roll back an open transaction. */
bool svk__pg_conn_reset(svk_pg_conn *c);

/* Forget the last error (each public call starts with this). */
void svk__pg_conn_clear_error(svk_pg_conn *c);

/* Record a failure of ours (not the server's): returns code. */
int svk__pg_conn_fail(svk_pg_conn *c, int code, const char *fmt, ...) SVK_PRINTF(3, 4);

/* One statement, as the arguments of svk_pg_exec_format. */
typedef struct svk__pg_query {
    const char *sql;
    int nparams;
    const char *const *values;
    const int *lengths;
    const int *formats;
    int result_format;
} svk__pg_query;

/*
 * Run q on c and wait for its result until the ctx deadline (capped by the
 * pool's statement_timeout plus a grace second), or until cap_ns (monotonic
 * ns; 0: none) if that is sooner, which counts as SVK_ETIMEDOUT. See
 * svk_pg_exec for the contract. Keeps c->tx_error in step with the
 * server's transaction state.
 */
int svk__pg_run(svk_pg_conn *c, const svk_ctx *ctx, int64_t cap_ns, const svk__pg_query *q,
                PGresult **out);

/* One wait for results, as exec.c and pipeline.c share it. */
typedef struct svk__pg_waiter {
    svk_pg_conn *c;
    const svk_ctx *ctx; /* NULL once the cancel went out: cleanup ignores it */
    int64_t deadline_ns;
    int64_t sent_ns;
    int cancel_reason; /* SVK_ETIMEDOUT or SVK_ECANCELED once we cancelled */
} svk__pg_waiter;

/* When a wait for a statement sent at sent_ns must end (see svk__pg_run). */
int64_t svk__pg_wait_deadline(const svk_pg_conn *c, const svk_ctx *ctx, int64_t cap_ns,
                              int64_t sent_ns);

/* Wait until libpq holds a whole result or nothing is pending: 0, or why not. */
int svk__pg_wait_ready(svk__pg_waiter *w);

/*
 * The wait stopped early (why): cancel on the server and keep draining (0),
 * or give up on the connection (the code to report; it is marked broken).
 */
int svk__pg_stop_waiting(svk__pg_waiter *w, int why);

/*
 * Take one result r (freed, unless kept): the first good one goes to *keep
 * when keep is not NULL and rc is 0; the first error becomes the code.
 * Returns the code so far.
 */
int svk__pg_absorb(svk__pg_waiter *w, PGresult *r, PGresult **keep, int rc);

/* Keep c->tx_error in step with the server's transaction state after rc. */
void svk__pg_track_transaction(svk_pg_conn *c, int rc);

/* The library's prepared statements, one bit each (svk_pg_conn.prepared). */
enum {
    SVK__PG_STMT_OUTBOX_PUT = 1u << 0,
    /* 1u << 1: free */
    SVK__PG_STMT_QUEUE_PUBLISH = 1u << 2,
    SVK__PG_STMT_BEGIN = 1u << 3,
    SVK__PG_STMT_RELAY_CLAIM = 1u << 4,
    SVK__PG_STMT_RELAY_CLAIM_ORDERED = 1u << 5,
};

/*
 * One of the library's own statements, prepared once per connection under
 * name (bit: its SVK__PG_STMT_* flag). what names it in errors
 * ("svk_outbox_put").
 */
typedef struct svk__pg_stmt {
    unsigned bit;
    const char *name;
    const char *what;
    const char *sql;
    int nparams;
} svk__pg_stmt;

/*
 * Send st now, in pipeline mode, without waiting for its result: the next
 * statement run on c (svk__pg_run) or svk__pg_flush collects it in the same
 * round trip, and reports its failure if it failed. Prepares st first on a
 * connection that has not (in the same pipeline). The parameters are
 * copied before this returns. 0, or SVK_EUNAVAIL / SVK_EPROTO (the
 * connection is marked broken), SVK_ESTATE (the transaction has failed).
 */
int svk__pg_defer(svk_pg_conn *c, const svk__pg_stmt *st, const char *const *values,
                  const int *lengths, const int *formats);

/*
 * Run st (prepared once per connection, in the same round trip the first
 * time) and wait for its result, as svk__pg_run does for a statement text,
 * statements sent ahead included.
 */
int svk__pg_exec_stmt(svk_pg_conn *c, const svk_ctx *ctx, const svk__pg_stmt *st,
                      const char *const *values, const int *lengths, const int *formats,
                      int result_format, PGresult **out);

/*
 * Begin a READ COMMITTED transaction on c (as svk_tx_begin_conn) without a
 * round trip: the BEGIN is sent ahead and answered with the next
 * statement. 0, or the errors of svk_tx_begin_conn and svk__pg_defer.
 */
int svk__tx_begin_ahead(svk_pg_conn *c, svk_tx **out);

/* 0 when a statement may be sent on c now (connection sound, ctx live). */
int svk__pg_preflight(svk_pg_conn *c, const svk_ctx *ctx);

/* svk__pg_run for a connection with deferred statements (pipeline.c). */
int svk__pg_run_pipelined(svk_pg_conn *c, const svk_ctx *ctx, int64_t cap_ns,
                          const svk__pg_query *q, PGresult **out);

/*
 * Collect the results of deferred statements, if any (and the connection
 * is not broken), with a Sync of their own, waiting SVK_PG_CLEANUP_NS at
 * most: the clean-up paths (rollback, release, svk_pg_conn_native) call
 * it. 0, or the first failure (as svk__pg_run reports it).
 */
int svk__pg_flush(svk_pg_conn *c);

/* A statement without parameters and without rows wanted. */
int svk__pg_run_simple(svk_pg_conn *c, const svk_ctx *ctx, int64_t cap_ns, const char *sql);

/*
 * The SVK_E* code for an error result of c. cancel_reason is the code of
 * a cancel this library sent (0: none); elapsed_ns how long the statement
 * ran, which tells a statement_timeout from an operator's cancel.
 */
int svk__pg_result_code(const svk_pg_conn *c, const PGresult *res, int cancel_reason,
                        int64_t elapsed_ns);

#endif
