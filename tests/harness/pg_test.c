/*
 * pg_test - smoke test of the PostgreSQL server that svk-testenv provides.
 *
 * Proves the two ways libsvckit tests reach the server work: the libpq
 * keyword DSN over the unix socket (SVK_TEST_PG_DSN) and the URL over TCP
 * (SVK_TEST_PG_URL). Run it as `svk-testenv -- pg_test` (or under ctest run
 * by svk-testenv); on its own it fails and says so.
 */
#include <criterion/criterion.h>
#include <libpq-fe.h>
#include <stdlib.h>
#include <string.h>

static PGconn *conn;

static void close_conn(void)
{
    /* Runs after a failed assertion too, so LeakSanitizer stays quiet. */
    if (conn)
        PQfinish(conn);
    conn = NULL;
}

static const char *env_or_fail(const char *name)
{
    const char *v = getenv(name);
    cr_assert(v && *v, "%s is not set: run under svk-testenv", name);
    return v;
}

static PGconn *connect_or_fail(const char *conninfo)
{
    conn = PQconnectdb(conninfo);
    cr_assert_not_null(conn, "PQconnectdb(%s) returned NULL (out of memory)", conninfo);
    cr_assert_eq(PQstatus(conn), CONNECTION_OK, "connect to %s failed: %s", conninfo,
                 PQerrorMessage(conn));
    return conn;
}

/* Checks a one-row, one-column result and hands back its text. */
static const char *single_value(PGresult *res)
{
    cr_assert_eq(PQresultStatus(res), PGRES_TUPLES_OK, "query failed: %s",
                 PQresultErrorMessage(res));
    cr_assert_eq(PQntuples(res), 1);
    cr_assert_eq(PQnfields(res), 1);
    return PQgetvalue(res, 0, 0);
}

TestSuite(harness_pg, .fini = close_conn, .timeout = 30);

Test(harness_pg, version_over_unix_socket)
{
    PGconn *c = connect_or_fail(env_or_fail("SVK_TEST_PG_DSN"));
    PGresult *res = PQexec(c, "SELECT version()");
    const char *v = single_value(res);
    int ok = strncmp(v, "PostgreSQL 15", 13) == 0;
    char copy[128];
    snprintf(copy, sizeof copy, "%s", v);
    PQclear(res);
    cr_expect(ok, "unexpected server version: %s", copy);
    cr_expect_eq(PQserverVersion(c) / 10000, 15);
    cr_expect_str_eq(PQdb(c), "svk_test");
    cr_expect_str_eq(PQuser(c), "svk");
}

Test(harness_pg, parameterised_query)
{
    PGconn *c = connect_or_fail(env_or_fail("SVK_TEST_PG_DSN"));
    const char *params[] = {"41"};
    PGresult *res = PQexecParams(c, "SELECT $1::int + 1", 1, NULL, params, NULL, NULL, 0);
    char got[32];
    snprintf(got, sizeof got, "%s", single_value(res));
    PQclear(res);
    cr_expect_str_eq(got, "42");
}

Test(harness_pg, url_over_tcp)
{
    PGconn *c = connect_or_fail(env_or_fail("SVK_TEST_PG_URL"));
    /* A TCP session has a client address; a unix-socket one has NULL. */
    PGresult *res = PQexec(c, "SELECT inet_client_addr()::text");
    char got[64];
    snprintf(got, sizeof got, "%s", single_value(res));
    PQclear(res);
    cr_expect_str_eq(got, "127.0.0.1/32");
}
