/*
 * pg_env.c — shared helpers of the pg tests (see pg_env.h).
 */
#include "pg_env.h"

#include <grp.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static void die(const char *fmt, ...) SVK_PRINTF(1, 2);

static void die(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "pg_env: ");
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    exit(1);
}

const char *pgt_dsn(void)
{
    const char *dsn = getenv("SVK_TEST_PG_DSN");
    if (dsn == NULL || *dsn == '\0')
        die("SVK_TEST_PG_DSN is not set: run under svk-testenv");
    return dsn;
}

int64_t pgt_now_ms(void)
{
    return svk_clock_mono_ns() / PGT_MS;
}

PGconn *pgt_admin(void)
{
    PGconn *c = PQconnectdb(pgt_dsn());
    if (c == NULL || PQstatus(c) != CONNECTION_OK)
        die("admin connect: %s", c ? PQerrorMessage(c) : "out of memory");
    return c;
}

static PGresult *admin_query(PGconn *c, const char *sql)
{
    PGresult *r = PQexec(c, sql);
    ExecStatusType st = PQresultStatus(r);
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK)
        die("admin query failed: %s: %s", sql, PQresultErrorMessage(r));
    return r;
}

void pgt_admin_exec(const char *sql)
{
    PGconn *c = pgt_admin();
    PQclear(admin_query(c, sql));
    PQfinish(c);
}

void pgt_admin_value(const char *sql, char *out, size_t size)
{
    PGconn *c = pgt_admin();
    PGresult *r = admin_query(c, sql);
    snprintf(out, size, "%s", PQntuples(r) > 0 ? PQgetvalue(r, 0, 0) : "");
    PQclear(r);
    PQfinish(c);
}

void pgt_fresh_schema(const char *tag, char name[64], char *dsn, size_t dsn_size)
{
    static atomic_int counter;
    snprintf(name, 64, "svk_t_%.30s_%d_%d", tag, (int)getpid(), atomic_fetch_add(&counter, 1));
    char sql[128];
    snprintf(sql, sizeof sql, "CREATE SCHEMA %s", name);
    pgt_admin_exec(sql);
    snprintf(dsn, dsn_size, "%s options='-c search_path=%s'", pgt_dsn(), name);
}

void pgt_backend_state(int pid, char *out, size_t size)
{
    char sql[128];
    snprintf(sql, sizeof sql,
             "SELECT coalesce((SELECT state FROM pg_stat_activity WHERE pid = %d), '')", pid);
    pgt_admin_value(sql, out, size);
}

void pgt_wait_active(int pid)
{
    char state[32];
    for (int i = 0; i < 500; i++) {
        pgt_backend_state(pid, state, sizeof state);
        if (strcmp(state, "active") == 0)
            return;
        usleep(5000);
    }
}

void pgt_terminate(int pid)
{
    char sql[128], state[32];
    snprintf(sql, sizeof sql, "SELECT pg_terminate_backend(%d)", pid);
    pgt_admin_exec(sql);
    for (int i = 0; i < 500; i++) {
        pgt_backend_state(pid, state, sizeof state);
        if (state[0] == '\0')
            return;
        usleep(10000);
    }
    die("backend %d did not exit after pg_terminate_backend", pid);
}

int pgt_pid(svk_pg_conn *c)
{
    return PQbackendPID(svk_pg_conn_native(c));
}

svk_pg_pool *pgt_pool(const char *conninfo, int max_conns)
{
    svk_pg_options o = SVK_PG_OPTIONS_INIT;
    o.conninfo = conninfo;
    o.max_conns = max_conns;
    svk_pg_pool *p = NULL;
    svk_error err;
    if (svk_pg_pool_new(&p, &o, &err) != 0)
        die("svk_pg_pool_new: %s", err.message);
    return p;
}

svk_pg_stats pgt_stats(svk_pg_pool *pool)
{
    svk_pg_stats s = SVK_PG_STATS_INIT;
    if (svk_pg_pool_stats(pool, &s) != 0)
        die("svk_pg_pool_stats failed");
    return s;
}

svk_ctx *pgt_ctx(int64_t timeout_ns)
{
    svk_ctx *ctx = NULL;
    if (svk_ctx_new(&ctx, NULL) != 0 || svk_ctx_set_timeout(ctx, timeout_ns) != 0)
        die("svk_ctx_new");
    return ctx;
}

/* In the child: become the postgres user if the harness runs as root. */
static void drop_privileges(void)
{
    const char *flag = getenv("SVK_TEST_PG_USER_IS_POSTGRES");
    if (flag == NULL || strcmp(flag, "1") != 0)
        return;
    struct passwd *pw = getpwnam("postgres");
    if (pw == NULL || setgid(pw->pw_gid) != 0 || initgroups("postgres", pw->pw_gid) != 0 ||
        setuid(pw->pw_uid) != 0)
        _exit(126);
}

static void exec_pg_ctl(const char *action)
{
    const char *bindir = getenv("SVK_TEST_PG_BINDIR");
    const char *data = getenv("SVK_TEST_PG_DATA");
    const char *log = getenv("SVK_TEST_PG_LOG");
    if (bindir == NULL || data == NULL || log == NULL)
        _exit(125);
    char path[4096];
    snprintf(path, sizeof path, "%s/pg_ctl", bindir);
    /* The postmaster must not inherit the test runner's pipes: a runner
     * waiting for EOF on them would wait for the server to exit. */
    closefrom(3);
    setsid();
    drop_privileges();
    execl(path, path, action, "-D", data, "-l", log, "-m", "fast", "-w", "-t", "60",
          (char *)NULL);
    _exit(127);
}

int pgt_pg_ctl(const char *action)
{
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0)
        exec_pg_ctl(action);
    int status = 0;
    while (waitpid(pid, &status, 0) < 0)
        ;
    return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -1;
}
