/*
 * svkctl_test.c — `svkctl outbox status` as an operator runs it: the
 * backlog and the leases of a running relay (whose broker is down, so the
 * events stay put), a database without the tables (exit 1), and a wrong
 * command line (exit 2).
 */
#include <criterion/criterion.h>
#include <spawn.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "relay_env.h"

TestSuite(relay_svkctl, .timeout = 60);

extern char **environ;

/* Run svkctl with args; its stdout and stderr together in out. Exit status. */
static int run_svkctl(const char *const *args, char *out, size_t size)
{
    char path[] = "/tmp/svkctl-outbox-XXXXXX";
    int fd = mkstemp(path);
    cr_assert_geq(fd, 0);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, fd, 1);
    posix_spawn_file_actions_adddup2(&fa, fd, 2);
    char *argv[12] = {"svkctl"};
    for (int i = 0; args[i] != NULL && i < 10; i++)
        argv[i + 1] = (char *)args[i];
    pid_t pid;
    cr_assert_eq(posix_spawn(&pid, SVKCTL_PATH, &fa, NULL, argv, environ), 0);
    posix_spawn_file_actions_destroy(&fa);
    int status = 0;
    waitpid(pid, &status, 0);
    ssize_t n = pread(fd, out, size - 1, 0);
    out[n > 0 ? n : 0] = '\0';
    close(fd);
    unlink(path);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
}

Test(relay_svkctl, status_shows_backlog_and_leases)
{
    rt_env e;
    rt_setup(&e, "rl_svkctl", 6, 10);
    e.broker = rt_recorder(&e, NULL);
    atomic_store(&e.shared->down, 1);
    const char *topics[] = {"orders.ordered"};
    cr_assert_eq(svk_outbox_order_topics(e.pool, NULL, topics, 1, NULL), 0);
    rt_put(&e, "orders.placed", 0, 5, 0, 5);
    rt_put(&e, "orders.ordered", 0, 3, 3, 3);
    svk_relay_options o = rt_relay_options(&e, e.broker);
    o.partitions = 4;
    o.name = "ctl-test";
    svk_relay *r = rt_relay(&o);
    int64_t until = svk_clock_mono_ns() + 10 * PGT_SEC;
    while (rt_stats(r).leases_held < 4 && svk_clock_mono_ns() < until)
        usleep(10000);
    char out[8192];
    const char *args[] = {"outbox", "status", "--dsn", e.dsn, NULL};
    int status = run_svkctl(args, out, sizeof out);
    cr_expect_eq(status, 0, "%s", out);
    cr_expect(strstr(out, "outbox 8 events waiting, oldest ") != NULL, "%s", out);
    cr_expect(strstr(out, "ordered: 1 topics, 3 events waiting; 4 partitions, 4 held,"
                          " 1 relays") != NULL, "%s", out);
    cr_expect(strstr(out, "dead letters: 0 events") != NULL, "%s", out);
    cr_expect(strstr(out, "partition  holder") != NULL, "%s", out);
    cr_expect(strstr(out, "ctl-test:") != NULL, "the holder is named: %s", out);
    cr_expect(strstr(out, e.dsn) == NULL, "the DSN itself is never printed");
    svk_relay_free(r);
    rt_teardown(&e);
}

Test(relay_svkctl, failures_and_usage)
{
    char schema[64], dsn[1024], out[4096];
    pgt_fresh_schema("rl_svkctl_bare", schema, dsn, sizeof dsn);
    const char *bare[] = {"outbox", "status", "--dsn", dsn, NULL};
    cr_expect_eq(run_svkctl(bare, out, sizeof out), 1, "%s", out);
    cr_expect(strstr(out, "reading the outbox") != NULL, "%s", out);
    const char *nosub[] = {"outbox", NULL};
    cr_expect_eq(run_svkctl(nosub, out, sizeof out), 2);
    const char *badsub[] = {"outbox", "purge", NULL};
    cr_expect_eq(run_svkctl(badsub, out, sizeof out), 2);
    const char *help[] = {"outbox", "--help", NULL};
    cr_expect_eq(run_svkctl(help, out, sizeof out), 0);
    cr_expect(strstr(out, "usage: svkctl outbox status") != NULL, "%s", out);
    const char *badflag[] = {"outbox", "status", "--bogus", NULL};
    cr_expect_eq(run_svkctl(badflag, out, sizeof out), 2);
}
