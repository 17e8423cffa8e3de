/*
 * cpus.c — how many CPUs this process may really use: the affinity mask
 * (sched_getaffinity: taskset, cpusets) capped by the cgroup CPU quota
 * (cgroup v2 cpu.max, or v1 cpu.cfs_quota_us / cpu.cfs_period_us), rounded
 * up. A container limited to 1.5 CPUs on a 64-core host gets 2, not 64.
 *
 * The server uses it for its default number of loop threads. It is kept
 * internal for now; the shutdown runner (a later issue) will want the same
 * number for its own pools, at which point it belongs in core.
 */
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http/server.h"

/* Read the first line of a file into buf; 0 or -1. */
static int read_line(const char *path, char *buf, size_t size)
{
    FILE *f = fopen(path, "re");
    if (f == NULL)
        return -1;
    char *got = fgets(buf, (int)size, f);
    fclose(f);
    if (got == NULL)
        return -1;
    buf[strcspn(buf, "\n")] = '\0';
    return 0;
}

static int ceil_div(long long quota, long long period)
{
    if (quota <= 0 || period <= 0)
        return 0;
    long long n = (quota + period - 1) / period;
    return n > 4096 ? 4096 : (int)n;
}

/* cgroup v2: "max 100000" (no limit) or "150000 100000". */
static int quota_v2(const char *root, const char *path)
{
    char file[4096], line[128];
    long long quota, period;
    snprintf(file, sizeof file, "%s%s/cpu.max", root, path);
    if (read_line(file, line, sizeof line) != 0)
        return 0;
    if (sscanf(line, "%lld %lld", &quota, &period) != 2)
        return 0;
    return ceil_div(quota, period);
}

/* cgroup v1: cpu.cfs_quota_us is -1 without a limit. */
static int quota_v1(const char *root, const char *path)
{
    char file[4096], line[64];
    snprintf(file, sizeof file, "%s/cpu%s/cpu.cfs_quota_us", root, path);
    if (read_line(file, line, sizeof line) != 0) {
        snprintf(file, sizeof file, "%s/cpu,cpuacct%s/cpu.cfs_quota_us", root, path);
        if (read_line(file, line, sizeof line) != 0)
            return 0;
    }
    long long quota = atoll(line);
    char *q = strrchr(file, '/');
    snprintf(q, sizeof file - (size_t)(q - file), "/cpu.cfs_period_us");
    if (read_line(file, line, sizeof line) != 0)
        return 0;
    return ceil_div(quota, atoll(line));
}

/* The quota named by one /proc/self/cgroup line, or 0. */
static int quota_of_line(char *line, const char *cgroup_root)
{
    char *c1 = strchr(line, ':');
    char *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
    if (c2 == NULL)
        return 0;
    *c1 = *c2 = '\0';
    const char *controllers = c1 + 1, *path = c2 + 1;
    if (strcmp(line, "0") == 0 && *controllers == '\0')
        return quota_v2(cgroup_root, strcmp(path, "/") == 0 ? "" : path);
    char list[256];
    snprintf(list, sizeof list, ",%s,", controllers);
    if (strstr(list, ",cpu,") == NULL)
        return 0;
    return quota_v1(cgroup_root, strcmp(path, "/") == 0 ? "" : path);
}

/*
 * The CPUs available given the text of /proc/self/cgroup, the cgroup mount
 * root (normally /sys/fs/cgroup) and the affinity count: the smallest of
 * the affinity and any quota found, at least 1. Separate for tests.
 */
int svk__http_cpus_from(const char *proc_self_cgroup, const char *cgroup_root, int affinity)
{
    int best = affinity > 0 ? affinity : 1;
    char line[4096];
    const char *p = proc_self_cgroup;
    while (p != NULL && *p != '\0') {
        size_t len = strcspn(p, "\n");
        if (len < sizeof line) {
            memcpy(line, p, len);
            line[len] = '\0';
            int q = quota_of_line(line, cgroup_root);
            if (q > 0 && q < best)
                best = q;
        }
        p += len;
        if (*p == '\n')
            p++;
    }
    return best;
}

int svk__http_cpus_available(void)
{
    cpu_set_t set;
    int affinity = 0;
    if (sched_getaffinity(0, sizeof set, &set) == 0)
        affinity = CPU_COUNT(&set);
    char text[8192];
    size_t n = 0;
    FILE *f = fopen("/proc/self/cgroup", "re");
    if (f != NULL) {
        n = fread(text, 1, sizeof text - 1, f);
        fclose(f);
    }
    text[n] = '\0';
    return svk__http_cpus_from(text, "/sys/fs/cgroup", affinity);
}
