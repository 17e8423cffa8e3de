/*
 * svkctl_test.c — the admin CLI as an operator runs it: `svkctl migrate`
 * from --dsn or DATABASE_URL prints the version before and after and exits
 * 0 (also the second time), a database that is down exits 1 with a clear
 * message that never contains the password, a bad command line exits 2,
 * and `svkctl version` prints the versions.
 */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "pg_env.h"

TestSuite(pg_svkctl, .timeout = 60);

struct run {
    int status;
    char out[4096];
    char err[4096];
};

static void slurp(int fd, char *buf, size_t size)
{
    size_t n = 0;
    ssize_t r;
    while (n + 1 < size && (r = read(fd, buf + n, size - 1 - n)) > 0)
        n += (size_t)r;
    buf[n] = '\0';
}

/* Run svkctl with args (NULL-terminated); database_url NULL unsets it. */
static void svkctl(struct run *r, const char *database_url, const char *const *args)
{
    char outpath[] = "/tmp/svkctl-out-XXXXXX", errpath[] = "/tmp/svkctl-err-XXXXXX";
    int out = mkstemp(outpath), err = mkstemp(errpath);
    cr_assert(out >= 0 && err >= 0);
    fflush(NULL);
    pid_t pid = fork();
    cr_assert_geq(pid, 0);
    if (pid == 0) {
        dup2(out, 1);
        dup2(err, 2);
        if (database_url)
            setenv("DATABASE_URL", database_url, 1);
        else
            unsetenv("DATABASE_URL");
        char *argv[16] = {"svkctl"};
        for (int i = 0; args[i] != NULL && i < 14; i++)
            argv[i + 1] = (char *)args[i];
        execv(SVKCTL_PATH, argv);
        _exit(127);
    }
    int status = 0;
    waitpid(pid, &status, 0);
    r->status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    lseek(out, 0, SEEK_SET);
    lseek(err, 0, SEEK_SET);
    slurp(out, r->out, sizeof r->out);
    slurp(err, r->err, sizeof r->err);
    close(out);
    close(err);
    unlink(outpath);
    unlink(errpath);
}

Test(pg_svkctl, migrate_from_flag_then_from_environment)
{
    char schema[64], dsn[1024];
    pgt_fresh_schema("svkctl", schema, dsn, sizeof dsn);
    struct run r;
    const char *args[] = {"migrate", "--dsn", dsn, NULL};
    svkctl(&r, NULL, args);
    cr_expect_eq(r.status, 0, "stdout: %s\nstderr: %s", r.out, r.err);
    char want[64];
    snprintf(want, sizeof want, "schema version 0 -> %d", svk_pg_schema_latest());
    cr_expect_neq(strstr(r.out, want), NULL, "%s", r.out);
    cr_expect_neq(strstr(r.out, "svk@"), NULL, "names the target: %s", r.out);

    const char *again[] = {"migrate", "--timeout=30s", NULL};
    svkctl(&r, dsn, again);
    cr_expect_eq(r.status, 0, "stderr: %s", r.err);
    snprintf(want, sizeof want, "schema version %d, up to date", svk_pg_schema_latest());
    cr_expect_neq(strstr(r.out, want), NULL, "%s", r.out);
}

Test(pg_svkctl, database_down_fails_without_leaking_the_password)
{
    struct run r;
    const char *args[] = {"migrate", "--timeout", "5s", NULL};
    svkctl(&r, "postgresql://orders:s3cr3t-pa55@127.0.0.1:1/orders", args);
    cr_expect_eq(r.status, 1, "stderr: %s", r.err);
    cr_expect_neq(strstr(r.err, "orders@127.0.0.1:1/orders"), NULL, "%s", r.err);
    cr_expect_neq(strstr(r.err, "unavailable"), NULL, "%s", r.err);
    cr_expect_null(strstr(r.err, "s3cr3t"), "%s", r.err);
    cr_expect_null(strstr(r.out, "s3cr3t"), "%s", r.out);

    const char *kv[] = {"migrate", "--dsn", "host=127.0.0.1 port=1 password=s3cr3t-pa55 x", NULL};
    svkctl(&r, NULL, kv);
    cr_expect_eq(r.status, 1);
    cr_expect_null(strstr(r.err, "s3cr3t"), "%s", r.err);
}

Test(pg_svkctl, bad_command_lines_exit_2)
{
    struct run r;
    const char *none[] = {NULL};
    svkctl(&r, NULL, none);
    cr_expect_eq(r.status, 2);
    const char *unknown[] = {"frobnicate", NULL};
    svkctl(&r, NULL, unknown);
    cr_expect_eq(r.status, 2);
    cr_expect_neq(strstr(r.err, "unknown command"), NULL);
    const char *nodsn[] = {"migrate", NULL};
    svkctl(&r, NULL, nodsn);
    cr_expect_eq(r.status, 2);
    cr_expect_neq(strstr(r.err, "DATABASE_URL"), NULL, "%s", r.err);
    const char *badtimeout[] = {"migrate", "--dsn", "host=x", "--timeout", "soon", NULL};
    svkctl(&r, NULL, badtimeout);
    cr_expect_eq(r.status, 2);
    const char *dangling[] = {"migrate", "--dsn", NULL};
    svkctl(&r, NULL, dangling);
    cr_expect_eq(r.status, 2);
    const char *help[] = {"migrate", "--help", NULL};
    svkctl(&r, NULL, help);
    cr_expect_eq(r.status, 0);
    cr_expect_neq(strstr(r.out, "--dsn"), NULL);
}

Test(pg_svkctl, version)
{
    struct run r;
    const char *args[] = {"version", NULL};
    svkctl(&r, NULL, args);
    cr_expect_eq(r.status, 0);
    char want[64];
    snprintf(want, sizeof want, "libsvckit %s\n", svk_version());
    cr_expect_neq(strstr(r.out, want), NULL, "%s", r.out);
    snprintf(want, sizeof want, "schema %d\n", svk_pg_schema_latest());
    cr_expect_neq(strstr(r.out, want), NULL, "%s", r.out);
}
