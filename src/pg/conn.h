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
