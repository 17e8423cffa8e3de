/*
 * pg_env.h — what the pg tests share: the harness's PostgreSQL (from
 * SVK_TEST_PG_*), a private schema per test so tests can run in parallel
 * against one database, an admin connection that bypasses the library, and
 * pg_ctl for the tests that restart or stop the server.
 *
 * Criterion-free, so the plain (TSan) programs use it too: a failure here
 * prints why and exits 1, which either runner reports as a failed test.
 */
#ifndef SVK_TESTS_PG_ENV_H
#define SVK_TESTS_PG_ENV_H

#include <libpq-fe.h>
#include <stddef.h>
#include <stdint.h>

#include "svckit/ctx.h"
#include "svckit/pg.h"

#define PGT_MS INT64_C(1000000)
#define PGT_SEC INT64_C(1000000000)

/* SVK_TEST_PG_DSN (unix socket, key=value); exits when not under svk-testenv. */
const char *pgt_dsn(void);

/* Create a new, empty schema; name gets it (<= 63 bytes) and dsn gets a
 * conninfo whose search_path is that schema. */
void pgt_fresh_schema(const char *tag, char name[64], char *dsn, size_t dsn_size);

/* A direct libpq connection to the test database (PQfinish it). */
PGconn *pgt_admin(void);

/* Run sql on a fresh admin connection; exits on failure. */
void pgt_admin_exec(const char *sql);

/* One text value from sql on a fresh admin connection (copied into out). */
void pgt_admin_value(const char *sql, char *out, size_t size);

/* pg_stat_activity.state of backend pid ("" when it is gone). */
void pgt_backend_state(int pid, char *out, size_t size);

/* Wait (up to 2.5 s) until backend pid is running a statement. */
void pgt_wait_active(int pid);

/* Terminate backend pid and wait until it has left pg_stat_activity. */
void pgt_terminate(int pid);

/* The backend pid behind a pooled connection. */
int pgt_pid(svk_pg_conn *c);

/* A pool on conninfo with max_conns, other options default; exits on error. */
svk_pg_pool *pgt_pool(const char *conninfo, int max_conns);

/* A snapshot of pool's counters; exits on error. */
svk_pg_stats pgt_stats(svk_pg_pool *pool);

/* A root ctx with a timeout (ns); exits on error. */
svk_ctx *pgt_ctx(int64_t timeout_ns);

/* Run pg_ctl ACTION (restart, stop, start) on the harness's cluster, as the
 * postgres user when the harness says so; 0 on success. Waits (-w). */
int pgt_pg_ctl(const char *action);

/* Monotonic milliseconds, for timing assertions. */
int64_t pgt_now_ms(void);

#endif
