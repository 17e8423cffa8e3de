/*
 * pool.h — internal: the pool's state, shared by pool.c (checkout, backoff),
 * conn.c (connect, health), exec.c (timeouts) and tx.c.
 *
 * Locking: the fields under "immutable" are written by svk_pg_pool_new only
 * and read without the lock. Everything under "guarded by lock" is read and
 * written with lock held, and nothing slow (network, libpq) runs while
 * holding it: a connect or a ping happens after a slot or a connection has
 * been taken out under the lock.
 */
#ifndef SVK_PG_POOL_H
#define SVK_PG_POOL_H

#include <pthread.h>
#include <stdbool.h>

#include "pg/conninfo.h"
#include "svckit/pg.h"

#define SVK_PG_POOL_MESSAGE_SIZE 256

struct svk_pg_pool {
    /* immutable */
    int max_conns;
    int64_t connect_timeout_ns;
    int64_t acquire_timeout_ns;
    int64_t statement_timeout_ns; /* <= 0: off */
    int64_t health_check_idle_ns; /* <= 0: never ping */
    int64_t reconnect_min_ns;
    int64_t reconnect_max_ns;
    svk__pg_conninfo conninfo;

    /* guarded by lock */
    pthread_mutex_t lock;
    pthread_cond_t changed; /* a connection came back, a slot freed, a probe ended */
    svk_pg_conn *idle;      /* LIFO: the warmest connection goes out first */
    svk_pg_conn *pending;   /* attempts parked unfinished (see pool.c) */
    int open;               /* connections open or being opened (<= max_conns) */
    int idle_count;
    int pending_count;
    int waiting;
    bool probing;        /* one caller is testing a database in backoff */
    int64_t retry_at_ns; /* no new connection before this; 0: not backing off */
    int64_t backoff_ns;  /* the current delay; 0 after a success */
    uint64_t jitter_state;
    int last_code;
    char last_message[SVK_PG_POOL_MESSAGE_SIZE];
    svk_pg_stats stats;
};

/* The connection state pool.c needs when taking one back. */
void svk__pg_pool_discard(svk_pg_pool *pool, svk_pg_conn *conn);

#endif
