/*
 * log_bench.c — our side of bench/log: nanoseconds per JSON line (Info, a
 * message and 5 fields: string, int, float, bool, duration) into a buffered
 * /dev/null sink, the same with a float that needs the slow shortest-digits
 * path, the cost of a disabled (Debug) line with the same fields, and
 * allocations per line.
 *
 *   bench-log [--rounds R] [--seconds S]
 *
 * Each figure: warm up, calibrate N so that a round lasts >= S seconds,
 * then R rounds; the median round is printed. Allocations are counted
 * during the timed rounds through the library's allocator hooks, which
 * every allocation of the library goes through. Output, one per line, for
 * run.sh to pair with zap's:
 *   ours <metric> <value>
 * CPU placement is the caller's business (run.sh uses taskset -c 0).
 */
#include "svckit/log.h"

#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static atomic_ulong hook_allocs;

/* The library's allocator hooks, counting. */
static void *hook_malloc(size_t size, void *user)
{
    (void)user;
    atomic_fetch_add_explicit(&hook_allocs, 1, memory_order_relaxed);
    return malloc(size);
}

static void *hook_realloc(void *ptr, size_t size, void *user)
{
    (void)user;
    atomic_fetch_add_explicit(&hook_allocs, 1, memory_order_relaxed);
    return realloc(ptr, size);
}

static void hook_free(void *ptr, void *user)
{
    (void)user;
    free(ptr);
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

typedef void (*workload)(svk_logger *l, long n);

/* The line of the issue: Info, message, 5 fields. */
static void json_5_fields(svk_logger *l, long n)
{
    for (long i = 0; i < n; i++)
        svk_log_info(l, "request handled", SVK_STR("path", "/v1/orders/42"),
                     SVK_INT("status", 200), SVK_FLOAT("ratio", 0.25), SVK_BOOL("cached", 1),
                     SVK_DUR("took", 1500000));
}

/* The same with i/3.0, whose shortest form needs 16-17 digits. */
static void json_5_fields_hard_float(svk_logger *l, long n)
{
    for (long i = 0; i < n; i++)
        svk_log_info(l, "request handled", SVK_STR("path", "/v1/orders/42"),
                     SVK_INT("status", 200), SVK_FLOAT("ratio", (double)i / 3.0),
                     SVK_BOOL("cached", 1), SVK_DUR("took", 1500000));
}

static void disabled(svk_logger *l, long n)
{
    for (long i = 0; i < n; i++)
        svk_log_debug(l, "request handled", SVK_STR("path", "/v1/orders/42"),
                      SVK_INT("status", 200), SVK_FLOAT("ratio", 0.25), SVK_BOOL("cached", 1),
                      SVK_DUR("took", 1500000));
}

static int compare_doubles(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double run_round(svk_logger *l, workload w, long n)
{
    double t0 = now_s();
    w(l, n);
    return (now_s() - t0) / (double)n * 1e9;
}

/* Median ns/op over rounds; allocations per op (hooks) into *allocs. */
static double measure(svk_logger *l, workload w, int rounds, double seconds, double *allocs)
{
    long n = 10000;
    w(l, n); /* warm up: the thread's line buffer grows here */
    for (double t = 0; t < seconds; n *= 2) {
        double t0 = now_s();
        w(l, n);
        t = now_s() - t0;
    }
    double ns[64];
    unsigned long hook0 = atomic_load(&hook_allocs);
    for (int r = 0; r < rounds; r++)
        ns[r] = run_round(l, w, n);
    double ops = (double)n * rounds;
    *allocs = (double)(atomic_load(&hook_allocs) - hook0) / ops;
    qsort(ns, (size_t)rounds, sizeof ns[0], compare_doubles);
    return ns[rounds / 2];
}

static svk_logger *bench_logger(int fd)
{
    svk_log_options o = SVK_LOG_OPTIONS_INIT;
    o.sink = SVK_LOG_SINK_BUFFERED_FD;
    o.fd = fd;
    o.buffer_size = 64 * 1024;
    svk_logger *l;
    svk_error err;
    if (svk_logger_new(&l, &o, &err) != 0) {
        fprintf(stderr, "bench-log: %s\n", err.message);
        exit(1);
    }
    return l;
}

int main(int argc, char **argv)
{
    int rounds = 5;
    double seconds = 0.5;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "--rounds") == 0)
            rounds = atoi(argv[i + 1]);
        else if (strcmp(argv[i], "--seconds") == 0)
            seconds = atof(argv[i + 1]);
    }
    rounds = rounds < 1 ? 1 : rounds > 64 ? 64 : rounds;
    svk_set_allocator(hook_malloc, hook_realloc, hook_free, NULL);
    int fd = open("/dev/null", O_WRONLY);
    svk_logger *l = bench_logger(fd);
    double allocs;
    double ns = measure(l, json_5_fields, rounds, seconds, &allocs);
    printf("ours json_5_fields %.1f\nours allocs_per_line %.4f\n", ns, allocs);
    ns = measure(l, json_5_fields_hard_float, rounds, seconds, &allocs);
    printf("ours json_5_fields_hard_float %.1f\n", ns);
    ns = measure(l, disabled, rounds, seconds, &allocs);
    printf("ours disabled %.2f\nours disabled_allocs %.4f\n", ns, allocs);
    svk_logger_free(l);
    close(fd);
    return 0;
}
