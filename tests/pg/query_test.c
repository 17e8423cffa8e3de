/*
 * query_test.c — parameterised statements: NULLs, bytea in binary, unicode,
 * the result accessors, errors that leave the connection usable, and the
 * ctx bounding a statement: a deadline or a cancel ends the wait AND the
 * statement on the server.
 */
#include <criterion/criterion.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "pg_env.h"

static svk_pg_pool *pool;
static svk_pg_conn *conn;

static void setup(void)
{
    pool = pgt_pool(pgt_dsn(), 2);
    cr_assert_eq(svk_pg_acquire(pool, NULL, &conn), 0);
}

static void teardown(void)
{
    svk_pg_release(conn);
    svk_pg_pool_free(pool);
}

TestSuite(pg_query, .init = setup, .fini = teardown, .timeout = 60);

static void expect_usable(void)
{
    svk_pg_result *res = NULL;
    cr_assert_eq(svk_pg_exec(conn, NULL, "SELECT 42", 0, NULL, NULL, NULL, &res), 0, "%s",
                 svk_pg_conn_last_error(conn));
    cr_expect_str_eq(svk_pg_result_value(res, 0, 0), "42");
    svk_pg_result_free(res);
}

Test(pg_query, null_and_text_parameters)
{
    const char *values[] = {"hello", NULL, "7"};
    svk_pg_result *res = NULL;
    cr_assert_eq(svk_pg_exec(conn, NULL,
                             "SELECT $1::text AS a, $2::text AS b, $3::int + 1 AS c", 3, values,
                             NULL, NULL, &res),
                 0, "%s", svk_pg_conn_last_error(conn));
    cr_expect_eq(svk_pg_result_rows(res), 1);
    cr_expect_eq(svk_pg_result_cols(res), 3);
    cr_expect_str_eq(svk_pg_result_colname(res, 1), "b");
    cr_expect_str_eq(svk_pg_result_value(res, 0, 0), "hello");
    cr_expect_eq(svk_pg_result_isnull(res, 0, 0), 0);
    cr_expect_eq(svk_pg_result_isnull(res, 0, 1), 1);
    cr_expect_str_eq(svk_pg_result_value(res, 0, 1), "");
    cr_expect_str_eq(svk_pg_result_value(res, 0, 2), "8");
    cr_expect_eq(svk_pg_result_length(res, 0, 0), 5);
    /* Out of range: no crash, NULL / 0 / "null". */
    cr_expect_null(svk_pg_result_value(res, 1, 0));
    cr_expect_null(svk_pg_result_value(res, 0, 3));
    cr_expect_null(svk_pg_result_value(res, -1, 0));
    cr_expect_eq(svk_pg_result_length(res, 5, 5), 0);
    cr_expect_eq(svk_pg_result_isnull(res, 9, 0), 1);
    cr_expect_null(svk_pg_result_colname(res, 3));
    cr_expect_eq(svk_pg_result_affected(res), 1);
    cr_expect_eq((void *)svk_pg_result_native(res), (void *)res);
    svk_pg_result_free(res);
    svk_pg_result_free(NULL);
    cr_expect_eq(svk_pg_result_rows(NULL), 0);
}

Test(pg_query, bytea_binary_round_trip)
{
    unsigned char bytes[256];
    for (int i = 0; i < 256; i++)
        bytes[i] = (unsigned char)i;
    const char *values[] = {(const char *)bytes};
    int lengths[] = {256};
    int formats[] = {SVK_PG_BINARY};
    svk_pg_result *res = NULL;
    /* Binary in, binary out: the bytes themselves, NUL included. */
    cr_assert_eq(svk_pg_exec_format(conn, NULL, "SELECT $1::bytea, length($1::bytea)", 1,
                                    values, lengths, formats, SVK_PG_BINARY, &res),
                 0, "%s", svk_pg_conn_last_error(conn));
    cr_assert_eq(svk_pg_result_length(res, 0, 0), 256);
    cr_expect_eq(memcmp(svk_pg_result_value(res, 0, 0), bytes, 256), 0);
    svk_pg_result_free(res);
    /* Binary in, text out: PostgreSQL's hex form. */
    cr_assert_eq(svk_pg_exec(conn, NULL, "SELECT $1::bytea", 1, values, lengths, formats, &res),
                 0);
    cr_expect_eq(strncmp(svk_pg_result_value(res, 0, 0), "\\x000102", 8), 0);
    cr_expect_eq(svk_pg_result_length(res, 0, 0), 2 + 512);
    svk_pg_result_free(res);
}

Test(pg_query, unicode_text_round_trip)
{
    const char *text = "z\xc3\xbcrich \xe6\x9d\xb1\xe4\xba\xac \xf0\x9f\x9a\x80 \xd0\xbc\xd0\xb8\xd1\x80";
    const char *values[] = {text};
    svk_pg_result *res = NULL;
    cr_assert_eq(svk_pg_exec(conn, NULL, "SELECT $1::text, char_length($1::text)", 1, values,
                             NULL, NULL, &res),
                 0, "%s", svk_pg_conn_last_error(conn));
    cr_expect_str_eq(svk_pg_result_value(res, 0, 0), text);
    cr_expect_str_eq(svk_pg_result_value(res, 0, 1), "15");
    svk_pg_result_free(res);
}

Test(pg_query, invalid_utf8_is_rejected_by_the_server)
{
    const char *values[] = {"\xff\xfe"};
    cr_expect_eq(svk_pg_exec(conn, NULL, "SELECT $1::text", 1, values, NULL, NULL, NULL),
                 SVK_EDB);
    cr_expect_str_eq(svk_pg_conn_last_sqlstate(conn), "22021");
    expect_usable();
}

Test(pg_query, affected_rows_and_no_result_wanted)
{
    svk_pg_result *res = NULL;
    cr_assert_eq(svk_pg_exec(conn, NULL, "CREATE TEMP TABLE t (v int)", 0, NULL, NULL, NULL,
                             &res),
                 0);
    cr_expect_eq(svk_pg_result_affected(res), -1);
    svk_pg_result_free(res);
    cr_assert_eq(svk_pg_exec(conn, NULL, "INSERT INTO t SELECT generate_series(1, 5)", 0, NULL,
                             NULL, NULL, &res),
                 0);
    cr_expect_eq(svk_pg_result_affected(res), 5);
    svk_pg_result_free(res);
    cr_expect_eq(svk_pg_exec(conn, NULL, "DELETE FROM t", 0, NULL, NULL, NULL, NULL), 0);
}

Test(pg_query, errors_leave_the_connection_usable)
{
    svk_pg_result *res = (svk_pg_result *)1;
    cr_expect_eq(svk_pg_exec(conn, NULL, "SELEC 1", 0, NULL, NULL, NULL, &res), SVK_EDB);
    cr_expect_null(res);
    cr_expect_str_eq(svk_pg_conn_last_sqlstate(conn), "42601");
    cr_expect_neq(strstr(svk_pg_conn_last_error(conn), "syntax error"), NULL, "%s",
                  svk_pg_conn_last_error(conn));
    /* One statement per call: the extended protocol refuses two. */
    cr_expect_eq(svk_pg_exec(conn, NULL, "SELECT 1; SELECT 2", 0, NULL, NULL, NULL, NULL),
                 SVK_EDB);
    cr_expect_str_eq(svk_pg_conn_last_sqlstate(conn), "42601");
    expect_usable();
    cr_expect_str_eq(svk_pg_conn_last_error(conn), "", "cleared by a success");
    cr_expect_str_eq(svk_pg_conn_last_sqlstate(conn), "");
}

Test(pg_query, bad_arguments_are_einval_before_sending)
{
    const char *values[] = {"x"};
    int bad_formats[] = {7};
    int binary[] = {SVK_PG_BINARY};
    cr_expect_eq(svk_pg_exec(NULL, NULL, "SELECT 1", 0, NULL, NULL, NULL, NULL), SVK_EINVAL);
    cr_expect_eq(svk_pg_exec(conn, NULL, NULL, 0, NULL, NULL, NULL, NULL), SVK_EINVAL);
    cr_expect_eq(svk_pg_exec(conn, NULL, "SELECT $1", -1, values, NULL, NULL, NULL),
                 SVK_EINVAL);
    cr_expect_eq(svk_pg_exec(conn, NULL, "SELECT $1", 1, NULL, NULL, NULL, NULL), SVK_EINVAL);
    cr_expect_eq(svk_pg_exec(conn, NULL, "SELECT $1", 1, values, NULL, bad_formats, NULL),
                 SVK_EINVAL);
    cr_expect_eq(svk_pg_exec(conn, NULL, "SELECT $1", 1, values, NULL, binary, NULL),
                 SVK_EINVAL, "binary parameter without a length");
    cr_expect_eq(svk_pg_exec_format(conn, NULL, "SELECT 1", 0, NULL, NULL, NULL, 2, NULL),
                 SVK_EINVAL);
    cr_expect_str_eq(svk_pg_conn_last_error(NULL), "");
    cr_expect_null(svk_pg_conn_native(NULL));
    expect_usable();
}

/* ---------------------------------------------------------------- deadlines */

static void expect_backend_idle(int pid)
{
    char state[32];
    pgt_backend_state(pid, state, sizeof state);
    cr_expect_str_eq(state, "idle", "backend %d is %s after the cancel", pid, state);
}

Test(pg_query, deadline_cancels_the_statement_on_the_server)
{
    int pid = pgt_pid(conn);
    svk_ctx *ctx = pgt_ctx(200 * PGT_MS);
    int64_t t0 = pgt_now_ms();
    int rc = svk_pg_exec(conn, ctx, "SELECT pg_sleep(10)", 0, NULL, NULL, NULL, NULL);
    int64_t took = pgt_now_ms() - t0;
    cr_expect_eq(rc, SVK_ETIMEDOUT, "%s: %s", svk_errname(rc), svk_pg_conn_last_error(conn));
    cr_expect(took >= 190 && took < 1000, "returned after %lld ms", (long long)took);
    cr_expect_str_eq(svk_pg_conn_last_sqlstate(conn), "57014", "the server's cancel confirmed");
    expect_backend_idle(pid);
    svk_ctx_free(ctx);
    expect_usable();
    cr_expect_eq(pgt_pid(conn), pid, "the same connection, still usable");
}

Test(pg_query, expired_ctx_sends_nothing)
{
    svk_ctx *ctx = pgt_ctx(0);
    cr_expect_eq(svk_pg_exec(conn, ctx, "SELECT 1", 0, NULL, NULL, NULL, NULL), SVK_ETIMEDOUT);
    svk_ctx_cancel(ctx);
    cr_expect_eq(svk_pg_exec(conn, ctx, "SELECT 1", 0, NULL, NULL, NULL, NULL), SVK_ECANCELED);
    svk_ctx_free(ctx);
    expect_usable();
}

struct canceller {
    svk_ctx *ctx;
    int64_t after_ms;
};

static void *cancel_later(void *arg)
{
    struct canceller *k = arg;
    usleep((useconds_t)k->after_ms * 1000);
    svk_ctx_cancel(k->ctx);
    return NULL;
}

Test(pg_query, cancel_from_another_thread)
{
    int pid = pgt_pid(conn);
    struct canceller k = {pgt_ctx(30 * PGT_SEC), 200};
    pthread_t t;
    pthread_create(&t, NULL, cancel_later, &k);
    int64_t t0 = pgt_now_ms();
    int rc = svk_pg_exec(conn, k.ctx, "SELECT pg_sleep(10)", 0, NULL, NULL, NULL, NULL);
    int64_t took = pgt_now_ms() - t0;
    pthread_join(t, NULL);
    cr_expect_eq(rc, SVK_ECANCELED, "%s", svk_errname(rc));
    cr_expect(took >= 190 && took < 1000, "returned after %lld ms", (long long)took);
    expect_backend_idle(pid);
    svk_ctx_free(k.ctx);
    expect_usable();
}

Test(pg_query, server_statement_timeout_is_etimedout)
{
    svk_pg_options o = SVK_PG_OPTIONS_INIT;
    o.conninfo = pgt_dsn();
    o.statement_timeout_ns = 300 * PGT_MS;
    svk_pg_pool *p = NULL;
    cr_assert_eq(svk_pg_pool_new(&p, &o, NULL), 0);
    svk_pg_conn *c = NULL;
    cr_assert_eq(svk_pg_acquire(p, NULL, &c), 0);
    int64_t t0 = pgt_now_ms();
    cr_expect_eq(svk_pg_exec(c, NULL, "SELECT pg_sleep(5)", 0, NULL, NULL, NULL, NULL),
                 SVK_ETIMEDOUT);
    cr_expect_lt(pgt_now_ms() - t0, 1500);
    cr_expect_str_eq(svk_pg_conn_last_sqlstate(c), "57014");
    svk_pg_release(c);
    svk_pg_pool_free(p);
}

static void *cancel_backend_when_active(void *arg)
{
    int pid = *(int *)arg;
    char sql[96];
    pgt_wait_active(pid);
    snprintf(sql, sizeof sql, "SELECT pg_cancel_backend(%d)", pid);
    pgt_admin_exec(sql);
    return NULL;
}

Test(pg_query, operator_cancel_is_ecanceled)
{
    int pid = pgt_pid(conn);
    pthread_t t;
    pthread_create(&t, NULL, cancel_backend_when_active, &pid);
    int rc = svk_pg_exec(conn, NULL, "SELECT pg_sleep(10)", 0, NULL, NULL, NULL, NULL);
    pthread_join(t, NULL);
    cr_expect_eq(rc, SVK_ECANCELED, "%s", svk_errname(rc));
    cr_expect_str_eq(svk_pg_conn_last_sqlstate(conn), "57014");
    expect_usable();
}
