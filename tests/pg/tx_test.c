/*
 * tx_test.c — transactions: commit and rollback, the failed state (commit
 * then rolls back and returns the first error), savepoints, isolation
 * flags, a ctx that expires before COMMIT, and transactions on a held
 * connection.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "pg_env.h"

static svk_pg_pool *pool;

static void setup(void)
{
    char schema[64], dsn[1024];
    pgt_fresh_schema("tx", schema, dsn, sizeof dsn);
    pool = pgt_pool(dsn, 3);
    svk_pg_conn *c = NULL;
    cr_assert_eq(svk_pg_acquire(pool, NULL, &c), 0);
    cr_assert_eq(svk_pg_exec(c, NULL, "CREATE TABLE t (id int PRIMARY KEY)", 0, NULL, NULL,
                             NULL, NULL),
                 0);
    svk_pg_release(c);
}

static void teardown(void)
{
    svk_pg_pool_free(pool);
}

TestSuite(pg_tx, .init = setup, .fini = teardown, .timeout = 60);

static void insert(svk_tx *tx, int id, int expect)
{
    char v[16];
    snprintf(v, sizeof v, "%d", id);
    const char *values[] = {v};
    int rc = svk_tx_exec(tx, NULL, "INSERT INTO t VALUES ($1)", 1, values, NULL, NULL, NULL);
    cr_assert_eq(rc, expect, "insert %d: %s, %s", id, svk_errname(rc),
                 svk_pg_conn_last_error(svk_tx_conn(tx)));
}

static int count_rows(void)
{
    svk_pg_conn *c = NULL;
    cr_assert_eq(svk_pg_acquire(pool, NULL, &c), 0);
    svk_pg_result *res = NULL;
    cr_assert_eq(svk_pg_exec(c, NULL, "SELECT count(*) FROM t", 0, NULL, NULL, NULL, &res), 0);
    int n = atoi(svk_pg_result_value(res, 0, 0));
    svk_pg_result_free(res);
    svk_pg_release(c);
    return n;
}

static void expect_all_idle(void)
{
    svk_pg_stats s = pgt_stats(pool);
    cr_expect_eq(s.idle, s.open, "every connection is back in the pool");
}

Test(pg_tx, commit_makes_rows_visible)
{
    svk_tx *tx = NULL;
    cr_assert_eq(svk_tx_begin(pool, NULL, SVK_TX_READ_COMMITTED, &tx), 0);
    insert(tx, 1, 0);
    insert(tx, 2, 0);
    cr_expect_eq(count_rows(), 0, "invisible before commit");
    cr_expect_eq(svk_tx_error(tx), 0);
    cr_assert_eq(svk_tx_commit(tx, NULL), 0);
    cr_expect_eq(count_rows(), 2);
    expect_all_idle();
}

Test(pg_tx, rollback_discards_rows)
{
    svk_tx *tx = NULL;
    cr_assert_eq(svk_tx_begin(pool, NULL, 0, &tx), 0);
    insert(tx, 1, 0);
    cr_expect_eq(svk_tx_rollback(tx), 0);
    cr_expect_eq(count_rows(), 0);
    cr_expect_eq(svk_tx_rollback(NULL), 0);
    expect_all_idle();
}

Test(pg_tx, failed_statement_fails_the_commit_and_rolls_back)
{
    svk_tx *tx = NULL;
    cr_assert_eq(svk_tx_begin(pool, NULL, 0, &tx), 0);
    insert(tx, 1, 0);
    insert(tx, 1, SVK_ECONFLICT);
    cr_expect_eq(svk_tx_error(tx), SVK_ECONFLICT);
    insert(tx, 2, SVK_ESTATE); /* 25P02: the transaction is aborted */
    cr_expect_eq(svk_tx_error(tx), SVK_ECONFLICT, "the first error is kept");
    svk_pg_conn *c = svk_tx_conn(tx);
    cr_expect_eq(svk_tx_commit(tx, NULL), SVK_ECONFLICT);
    cr_expect_str_eq(svk_pg_conn_last_sqlstate(c), "23505", "the failing statement's state");
    cr_expect_eq(count_rows(), 0, "nothing committed");
    expect_all_idle();
}

Test(pg_tx, savepoints_undo_part_of_a_transaction)
{
    svk_tx *tx = NULL;
    cr_assert_eq(svk_tx_begin(pool, NULL, 0, &tx), 0);
    insert(tx, 1, 0);
    cr_assert_eq(svk_tx_savepoint(tx, NULL, "before_dup"), 0);
    insert(tx, 1, SVK_ECONFLICT);
    cr_assert_eq(svk_tx_rollback_to(tx, NULL, "before_dup"), 0);
    cr_expect_eq(svk_tx_error(tx), 0, "the failed state is left");
    insert(tx, 2, 0);
    cr_assert_eq(svk_tx_savepoint(tx, NULL, "sp2"), 0);
    insert(tx, 3, 0);
    cr_assert_eq(svk_tx_release(tx, NULL, "sp2"), 0, "keeps row 3");
    cr_expect_eq(svk_tx_rollback_to(tx, NULL, "sp2"), SVK_EDB, "released: gone");
    cr_expect_str_eq(svk_pg_conn_last_sqlstate(svk_tx_conn(tx)), "3B001");
    cr_assert_eq(svk_tx_rollback_to(tx, NULL, "before_dup"), 0);
    insert(tx, 4, 0);
    cr_assert_eq(svk_tx_commit(tx, NULL), 0);
    cr_expect_eq(count_rows(), 2, "rows 1 and 4");
}

Test(pg_tx, savepoint_names_are_checked)
{
    svk_tx *tx = NULL;
    cr_assert_eq(svk_tx_begin(pool, NULL, 0, &tx), 0);
    const char *bad[] = {"", "1abc", "a b", "x\"; DROP TABLE t; --",
                         "a234567890123456789012345678901234567890123456789012345678901234"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        cr_expect_eq(svk_tx_savepoint(tx, NULL, bad[i]), SVK_EINVAL, "%s", bad[i]);
    cr_expect_eq(svk_tx_savepoint(tx, NULL, NULL), SVK_EINVAL);
    cr_expect_eq(svk_tx_error(tx), 0, "nothing was sent");
    cr_expect_eq(svk_tx_savepoint(tx, NULL, "Mixed_Case_9"), 0);
    cr_expect_eq(svk_tx_rollback_to(tx, NULL, "Mixed_Case_9"), 0);
    svk_tx_rollback(tx);
}

Test(pg_tx, isolation_and_read_only_flags)
{
    svk_tx *tx = NULL;
    cr_expect_eq(svk_tx_begin(pool, NULL, 3, &tx), SVK_EINVAL);
    cr_expect_eq(svk_tx_begin(pool, NULL, SVK_TX_DEFERRABLE, &tx), SVK_EINVAL);
    cr_expect_eq(svk_tx_begin(pool, NULL, 1 << 9, &tx), SVK_EINVAL);
    cr_expect_null(tx);
    cr_assert_eq(svk_tx_begin(pool, NULL,
                              SVK_TX_SERIALIZABLE | SVK_TX_READ_ONLY | SVK_TX_DEFERRABLE, &tx),
                 0);
    svk_pg_result *res = NULL;
    cr_assert_eq(svk_tx_exec(tx, NULL, "SHOW transaction_isolation", 0, NULL, NULL, NULL, &res),
                 0);
    cr_expect_str_eq(svk_pg_result_value(res, 0, 0), "serializable");
    svk_pg_result_free(res);
    insert(tx, 1, SVK_EDB);
    cr_expect_str_eq(svk_pg_conn_last_sqlstate(svk_tx_conn(tx)), "25006");
    cr_expect_eq(svk_tx_commit(tx, NULL), SVK_EDB);
    cr_assert_eq(svk_tx_begin(pool, NULL, SVK_TX_REPEATABLE_READ, &tx), 0);
    cr_assert_eq(svk_tx_exec(tx, NULL, "SHOW transaction_isolation", 0, NULL, NULL, NULL, &res),
                 0);
    cr_expect_str_eq(svk_pg_result_value(res, 0, 0), "repeatable read");
    svk_pg_result_free(res);
    cr_expect_eq(svk_tx_commit(tx, NULL), 0);
}

Test(pg_tx, expired_ctx_at_commit_rolls_back)
{
    svk_tx *tx = NULL;
    cr_assert_eq(svk_tx_begin(pool, NULL, 0, &tx), 0);
    insert(tx, 1, 0);
    svk_ctx *ctx = pgt_ctx(0);
    cr_expect_eq(svk_tx_commit(tx, ctx), SVK_ETIMEDOUT);
    svk_ctx_free(ctx);
    cr_expect_eq(count_rows(), 0);
    expect_all_idle();
}

Test(pg_tx, transaction_on_a_held_connection)
{
    svk_pg_conn *c = NULL;
    cr_assert_eq(svk_pg_acquire(pool, NULL, &c), 0);
    svk_tx *tx = NULL, *again = NULL;
    cr_assert_eq(svk_tx_begin_conn(c, NULL, 0, &tx), 0);
    cr_expect_eq(svk_tx_conn(tx), c);
    cr_expect_eq(svk_tx_begin_conn(c, NULL, 0, &again), SVK_ESTATE);
    insert(tx, 7, 0);
    /* Statements run on the connection directly count for the transaction. */
    cr_expect_eq(svk_pg_exec(c, NULL, "INSERT INTO t VALUES (7)", 0, NULL, NULL, NULL, NULL),
                 SVK_ECONFLICT);
    cr_expect_eq(svk_tx_error(tx), SVK_ECONFLICT);
    cr_expect_eq(svk_tx_commit(tx, NULL), SVK_ECONFLICT);
    cr_expect_eq(PQtransactionStatus(svk_pg_conn_native(c)), PQTRANS_IDLE);
    cr_assert_eq(svk_tx_begin_conn(c, NULL, 0, &tx), 0, "the connection is still ours");
    insert(tx, 8, 0);
    cr_assert_eq(svk_tx_commit(tx, NULL), 0);
    cr_assert_eq(svk_tx_begin_conn(c, NULL, 0, &tx), 0);
    insert(tx, 9, 0);
    svk_pg_release(c); /* abandons the transaction: rolled back */
    cr_expect_eq(count_rows(), 1, "only row 8");
}

Test(pg_tx, null_arguments)
{
    svk_tx *tx = NULL;
    cr_expect_eq(svk_tx_begin(NULL, NULL, 0, &tx), SVK_EINVAL);
    cr_expect_eq(svk_tx_begin(pool, NULL, 0, NULL), SVK_EINVAL);
    cr_expect_eq(svk_tx_begin_conn(NULL, NULL, 0, &tx), SVK_EINVAL);
    cr_expect_eq(svk_tx_commit(NULL, NULL), SVK_EINVAL);
    cr_expect_eq(svk_tx_exec(NULL, NULL, "SELECT 1", 0, NULL, NULL, NULL, NULL), SVK_EINVAL);
    cr_expect_null(svk_tx_conn(NULL));
    cr_expect_eq(svk_tx_error(NULL), SVK_EINVAL);
}
