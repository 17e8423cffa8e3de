/*
 * cpus_test.c — the default number of loop threads: the affinity mask
 * capped by the cgroup CPU quota, v2 (cpu.max) and v1 (cfs_quota_us /
 * cfs_period_us, in "cpu" or "cpu,cpuacct"), read from a fake cgroup tree.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "http/server.h"

static char root[64];

static void setup(void)
{
    strcpy(root, "/tmp/svk-cpus-XXXXXX");
    cr_assert_not_null(mkdtemp(root));
}

static void teardown(void)
{
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", root);
    cr_assert_eq(system(cmd), 0);
}

static void put(const char *rel, const char *text)
{
    char path[256], cmd[300];
    snprintf(path, sizeof path, "%s/%s", root, rel);
    snprintf(cmd, sizeof cmd, "mkdir -p $(dirname %s)", path);
    cr_assert_eq(system(cmd), 0);
    FILE *f = fopen(path, "w");
    cr_assert_not_null(f);
    fputs(text, f);
    fclose(f);
}

TestSuite(cpus, .init = setup, .fini = teardown);

Test(cpus, cgroup_v2_quota_rounds_up)
{
    put("cpu.max", "150000 100000\n");
    cr_assert_eq(svk__http_cpus_from("0::/\n", root, 8), 2);
    put("cpu.max", "max 100000\n");
    cr_assert_eq(svk__http_cpus_from("0::/\n", root, 8), 8, "no limit");
    put("kubepods/pod1/cpu.max", "50000 100000\n");
    cr_assert_eq(svk__http_cpus_from("0::/kubepods/pod1\n", root, 8), 1);
}

Test(cpus, cgroup_v1_quota)
{
    put("cpu/cpu.cfs_quota_us", "300000\n");
    put("cpu/cpu.cfs_period_us", "100000\n");
    cr_assert_eq(svk__http_cpus_from("4:memory:/\n1:cpu:/\n0::/\n", root, 16), 3);
    put("cpu/cpu.cfs_quota_us", "-1\n");
    cr_assert_eq(svk__http_cpus_from("1:cpu:/\n", root, 16), 16);
    put("cpu,cpuacct/docker/abc/cpu.cfs_quota_us", "250000\n");
    put("cpu,cpuacct/docker/abc/cpu.cfs_period_us", "100000\n");
    cr_assert_eq(svk__http_cpus_from("3:cpu,cpuacct:/docker/abc\n", root, 16), 3);
}

Test(cpus, the_affinity_caps_a_larger_quota_and_nothing_is_zero)
{
    put("cpu.max", "800000 100000\n");
    cr_assert_eq(svk__http_cpus_from("0::/\n", root, 2), 2);
    cr_assert_eq(svk__http_cpus_from("", root, 0), 1);
    cr_assert_eq(svk__http_cpus_from("garbage\n0::/missing\n", root, 4), 4);
}

Test(cpus, this_machine)
{
    int n = svk__http_cpus_available();
    cr_assert(n >= 1 && n <= sysconf(_SC_NPROCESSORS_ONLN), "%d", n);
}
