/*
 * sqlstate_test.c — SQLSTATE classes map to distinct SVK_E* codes: the
 * table itself, then each class provoked for real on the server (unique
 * violation, serialization failure between two SERIALIZABLE transactions,
 * a deadlock between two threads, NOWAIT on a locked row, a connection
 * terminated while idle and while running).
 */
#include <criterion/criterion.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "pg_env.h"

static svk_pg_pool *pool;
static char dsn[1024];

static void setup(void)
{
    char schema[64];
    pgt_fresh_schema("sqlstate", schema, dsn, sizeof dsn);
    pool = pgt_pool(dsn, 4);
}

static void teardown(void)
{
    svk_pg_pool_free(pool);
}

TestSuite(pg_sqlstate, .init = setup, .fini = teardown, .timeout = 60);

static void exec_ok(svk_pg_conn *c, const char *sql)
{
    cr_assert_eq(svk_pg_exec(c, NULL, sql, 0, NULL, NULL, NULL, NULL), 0, "%s: %s", sql,
                 svk_pg_conn_last_error(c));
}

static void tx_exec_ok(svk_tx *tx, const char *sql)
{
    cr_assert_eq(svk_tx_exec(tx, NULL, sql, 0, NULL, NULL, NULL, NULL), 0, "%s: %s", sql,
                 svk_pg_conn_last_error(svk_tx_conn(tx)));
}

Test(pg_sqlstate, table)
{
    static const struct {
        const char *state;
        int code;
    } cases[] = {
        {"23505", SVK_ECONFLICT},  {"23P01", SVK_ECONFLICT}, {"40001", SVK_ESERIALIZE},
        {"40P01", SVK_EDEADLOCK},  {"57014", SVK_ECANCELED}, {"08006", SVK_EUNAVAIL},
        {"08001", SVK_EUNAVAIL},   {"57P01", SVK_EUNAVAIL},  {"57P02", SVK_EUNAVAIL},
        {"57P03", SVK_EUNAVAIL},   {"57P05", SVK_EUNAVAIL},  {"25P03", SVK_ETIMEDOUT},
        {"25P02", SVK_ESTATE},     {"53300", SVK_EBUSY},     {"53100", SVK_EBUSY},
        {"55P03", SVK_EAGAIN},     {"23503", SVK_EDB},       {"23502", SVK_EDB},
        {"42601", SVK_EDB},        {"22021", SVK_EDB},       {"40002", SVK_EDB},
        {"XX000", SVK_EDB},        {"", SVK_EDB},            {"2350", SVK_EDB},
        {"235055", SVK_EDB},       {"23a05", SVK_EDB},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        cr_expect_eq(svk_pg_sqlstate_code(cases[i].state), cases[i].code, "%s -> %s",
                     cases[i].state, svk_errname(svk_pg_sqlstate_code(cases[i].state)));
    cr_expect_eq(svk_pg_sqlstate_code(NULL), SVK_EDB);
}

Test(pg_sqlstate, unique_violation_is_econflict)
{
    svk_pg_conn *c = NULL;
    cr_assert_eq(svk_pg_acquire(pool, NULL, &c), 0);
    exec_ok(c, "CREATE TABLE u (id int PRIMARY KEY)");
    exec_ok(c, "INSERT INTO u VALUES (1)");
    const char *values[] = {"1"};
    cr_expect_eq(svk_pg_exec(c, NULL, "INSERT INTO u VALUES ($1)", 1, values, NULL, NULL, NULL),
                 SVK_ECONFLICT);
    cr_expect_str_eq(svk_pg_conn_last_sqlstate(c), "23505");
    cr_expect_neq(strstr(svk_pg_conn_last_error(c), "u_pkey"), NULL, "%s",
                  svk_pg_conn_last_error(c));
    /* Other constraints are plain database errors. */
    cr_expect_eq(svk_pg_exec(c, NULL, "INSERT INTO u VALUES (NULL)", 0, NULL, NULL, NULL, NULL),
                 SVK_EDB);
    cr_expect_str_eq(svk_pg_conn_last_sqlstate(c), "23502");
    svk_pg_release(c);
}

Test(pg_sqlstate, write_skew_under_serializable_is_eserialize)
{
    svk_pg_conn *c = NULL;
    cr_assert_eq(svk_pg_acquire(pool, NULL, &c), 0);
    exec_ok(c, "CREATE TABLE doctors (name text PRIMARY KEY, on_call bool NOT NULL)");
    exec_ok(c, "INSERT INTO doctors VALUES ('alice', true), ('bob', true)");
    svk_pg_release(c);
    svk_tx *a = NULL, *b = NULL;
    cr_assert_eq(svk_tx_begin(pool, NULL, SVK_TX_SERIALIZABLE, &a), 0);
    cr_assert_eq(svk_tx_begin(pool, NULL, SVK_TX_SERIALIZABLE, &b), 0);
    /* Each sees two on call and takes one off: a write skew. */
    tx_exec_ok(a, "SELECT count(*) FROM doctors WHERE on_call");
    tx_exec_ok(b, "SELECT count(*) FROM doctors WHERE on_call");
    tx_exec_ok(a, "UPDATE doctors SET on_call = false WHERE name = 'alice'");
    /* The server may refuse b here or at its commit: either way the
     * failed transaction's commit reports it. */
    svk_tx_exec(b, NULL, "UPDATE doctors SET on_call = false WHERE name = 'bob'", 0, NULL, NULL,
                NULL, NULL);
    cr_expect_eq(svk_tx_commit(a, NULL), 0);
    int rc = svk_tx_commit(b, NULL);
    cr_expect_eq(rc, SVK_ESERIALIZE, "%s", svk_errname(rc));
    svk_pg_stats s = pgt_stats(pool);
    cr_expect_eq(s.idle, s.open, "both transactions gave their connection back");
}

struct locker {
    const char *first, *second;
    pthread_barrier_t *barrier;
    int rc;
};

static void *lock_two_rows(void *arg)
{
    struct locker *l = arg;
    svk_tx *tx = NULL;
    svk_ctx *ctx = pgt_ctx(20 * PGT_SEC);
    l->rc = svk_tx_begin(pool, ctx, SVK_TX_READ_COMMITTED, &tx);
    if (l->rc == 0)
        l->rc = svk_tx_exec(tx, ctx, l->first, 0, NULL, NULL, NULL, NULL);
    pthread_barrier_wait(l->barrier);
    if (l->rc == 0)
        l->rc = svk_tx_exec(tx, ctx, l->second, 0, NULL, NULL, NULL, NULL);
    if (tx != NULL) {
        int commit = svk_tx_commit(tx, ctx);
        if (l->rc == 0)
            l->rc = commit;
    }
    svk_ctx_free(ctx);
    return NULL;
}

Test(pg_sqlstate, deadlock_is_edeadlock)
{
    svk_pg_conn *c = NULL;
    cr_assert_eq(svk_pg_acquire(pool, NULL, &c), 0);
    exec_ok(c, "CREATE TABLE rows2 (id int PRIMARY KEY, v int)");
    exec_ok(c, "INSERT INTO rows2 VALUES (1, 0), (2, 0)");
    svk_pg_release(c);
    pthread_barrier_t barrier;
    pthread_barrier_init(&barrier, NULL, 2);
    struct locker l1 = {"UPDATE rows2 SET v = 1 WHERE id = 1",
                        "UPDATE rows2 SET v = 1 WHERE id = 2", &barrier, -1};
    struct locker l2 = {"UPDATE rows2 SET v = 2 WHERE id = 2",
                        "UPDATE rows2 SET v = 2 WHERE id = 1", &barrier, -1};
    pthread_t t1, t2;
    pthread_create(&t1, NULL, lock_two_rows, &l1);
    pthread_create(&t2, NULL, lock_two_rows, &l2);
    pthread_join(t1, NULL);
    pthread_join(t2, NULL);
    pthread_barrier_destroy(&barrier);
    cr_expect((l1.rc == 0 && l2.rc == SVK_EDEADLOCK) || (l2.rc == 0 && l1.rc == SVK_EDEADLOCK),
              "one victim, one winner: %s / %s", svk_errname(l1.rc), svk_errname(l2.rc));
}

Test(pg_sqlstate, nowait_on_a_locked_row_is_eagain)
{
    svk_pg_conn *c = NULL;
    cr_assert_eq(svk_pg_acquire(pool, NULL, &c), 0);
    exec_ok(c, "CREATE TABLE locked (id int PRIMARY KEY)");
    exec_ok(c, "INSERT INTO locked VALUES (1)");
    svk_pg_release(c);
    svk_tx *holder = NULL, *other = NULL;
    cr_assert_eq(svk_tx_begin(pool, NULL, 0, &holder), 0);
    tx_exec_ok(holder, "SELECT * FROM locked WHERE id = 1 FOR UPDATE");
    cr_assert_eq(svk_tx_begin(pool, NULL, 0, &other), 0);
    cr_expect_eq(svk_tx_exec(other, NULL, "SELECT * FROM locked WHERE id = 1 FOR UPDATE NOWAIT",
                             0, NULL, NULL, NULL, NULL),
                 SVK_EAGAIN);
    cr_expect_str_eq(svk_pg_conn_last_sqlstate(svk_tx_conn(other)), "55P03");
    svk_tx_rollback(other);
    svk_tx_rollback(holder);
}

Test(pg_sqlstate, connection_terminated_while_idle_is_eunavail)
{
    svk_pg_conn *c = NULL;
    cr_assert_eq(svk_pg_acquire(pool, NULL, &c), 0);
    pgt_terminate(pgt_pid(c));
    int rc = svk_pg_exec(c, NULL, "SELECT 1", 0, NULL, NULL, NULL, NULL);
    cr_expect_eq(rc, SVK_EUNAVAIL, "%s: %s", svk_errname(rc), svk_pg_conn_last_error(c));
    cr_expect_eq(svk_pg_exec(c, NULL, "SELECT 1", 0, NULL, NULL, NULL, NULL), SVK_EUNAVAIL,
                 "stays broken");
    svk_pg_release(c); /* closed, not pooled */
    svk_pg_stats s = pgt_stats(pool);
    cr_expect_eq(s.discarded, 1);
    cr_expect_eq(s.open, 0);
}

static void *terminate_when_active(void *arg)
{
    int pid = *(int *)arg;
    pgt_wait_active(pid);
    pgt_terminate(pid);
    return NULL;
}

Test(pg_sqlstate, connection_terminated_mid_statement_is_eunavail)
{
    svk_pg_conn *c = NULL;
    cr_assert_eq(svk_pg_acquire(pool, NULL, &c), 0);
    int pid = pgt_pid(c);
    pthread_t t;
    pthread_create(&t, NULL, terminate_when_active, &pid);
    int64_t t0 = pgt_now_ms();
    int rc = svk_pg_exec(c, NULL, "SELECT pg_sleep(10)", 0, NULL, NULL, NULL, NULL);
    pthread_join(t, NULL);
    cr_expect_eq(rc, SVK_EUNAVAIL, "%s: %s", svk_errname(rc), svk_pg_conn_last_error(c));
    cr_expect_lt(pgt_now_ms() - t0, 5000);
    svk_pg_release(c);
}
