/*
 * uuid_bench.c — ids per second of svk_uuid_v7 against libuuid's time-based
 * generator (uuid_generate_time), both measured in this process in one run,
 * and allocations per id.
 *
 *   bench-uuid [--threads 1|2] [--rounds R] [--seconds S]
 *
 * One thread (default): warm up and calibrate each generator, then R rounds
 * (order alternating) of N ids each, N chosen so a round lasts >= S seconds;
 * the figure is the median round. uuid_generate_time_safe is timed as extra
 * information. Allocations are counted twice: by the library's allocator
 * hooks (svk_set_allocator, what the library promises) and by malloc, calloc
 * and realloc defined in this binary, which count every heap allocation in
 * the process (so libuuid's too, and any of ours that bypassed the hooks).
 * Two threads: each generator is called from two threads for S seconds per
 * round; the figure is total ids/s (median round), i.e. the cost of the lock.
 *
 * CPU placement is the caller's business (run.sh uses taskset); the CPUs
 * this process may run on are printed beside the figures.
 */
#include "svckit/core.h"

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <uuid/uuid.h>

/* ------------------------------------------------- allocation counting */

extern void *__libc_malloc(size_t size);
extern void *__libc_calloc(size_t n, size_t size);
extern void *__libc_realloc(void *ptr, size_t size);
extern void __libc_free(void *ptr);

static atomic_ulong libc_allocs;
static atomic_ulong hook_allocs;

void *malloc(size_t size)
{
    atomic_fetch_add_explicit(&libc_allocs, 1, memory_order_relaxed);
    return __libc_malloc(size);
}

void *calloc(size_t n, size_t size)
{
    atomic_fetch_add_explicit(&libc_allocs, 1, memory_order_relaxed);
    return __libc_calloc(n, size);
}

void *realloc(void *ptr, size_t size)
{
    atomic_fetch_add_explicit(&libc_allocs, 1, memory_order_relaxed);
    return __libc_realloc(ptr, size);
}

void free(void *ptr)
{
    __libc_free(ptr);
}

static void *hook_malloc(size_t size, void *user)
{
    (void)user;
    atomic_fetch_add_explicit(&hook_allocs, 1, memory_order_relaxed);
    return __libc_malloc(size);
}

static void *hook_realloc(void *ptr, size_t size, void *user)
{
    (void)user;
    atomic_fetch_add_explicit(&hook_allocs, 1, memory_order_relaxed);
    return __libc_realloc(ptr, size);
}

static void hook_free(void *ptr, void *user)
{
    (void)user;
    __libc_free(ptr);
}

static unsigned long count_of(atomic_ulong *c)
{
    return atomic_load_explicit(c, memory_order_relaxed);
}

/* ------------------------------------------------------------ generators */

typedef int (*gen_fn)(svk_uuid *out);

static int gen_ours(svk_uuid *out)
{
    return svk_uuid_v7(out);
}

static int gen_libuuid(svk_uuid *out)
{
    uuid_generate_time(out->bytes);
    return 0;
}

/* Returns -1 when libuuid could not guarantee uniqueness (no uuidd): counted
 * as information only, the id is still made. */
static int gen_libuuid_safe(svk_uuid *out)
{
    return uuid_generate_time_safe(out->bytes) == 0 ? 0 : 1;
}

struct generator {
    const char *name;
    gen_fn fn;
    uint64_t n;           /* ids per round, from calibration */
    double rate[16];      /* ids/s of each round */
    double shortest;      /* seconds of the shortest round */
    uint64_t ids;         /* ids made in timed rounds */
    uint64_t nonzero;     /* calls that returned non-zero */
    unsigned long hooked; /* allocations through the svk hooks */
    unsigned long heap;   /* allocations seen by malloc/calloc/realloc */
};

static volatile uint8_t sink;

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Make n ids; returns the seconds taken and adds failures to *nonzero. */
static double run_n(gen_fn fn, uint64_t n, uint64_t *nonzero)
{
    svk_uuid u;
    uint8_t acc = 0;
    uint64_t bad = 0;
    double t0 = now_s();
    for (uint64_t i = 0; i < n; i++) {
        bad += fn(&u) != 0;
        acc ^= u.bytes[15];
    }
    double dt = now_s() - t0;
    sink = acc;
    *nonzero += bad;
    return dt;
}

/* Warm up for >= 0.2 s, doubling the batch, and size a round to last
 * seconds * 1.2 at the rate seen. */
static void calibrate(struct generator *g, double seconds)
{
    uint64_t n = 1024, ignored = 0;
    double dt;
    while ((dt = run_n(g->fn, n, &ignored)) < 0.2)
        n *= 2;
    g->n = (uint64_t)((double)n / dt * seconds * 1.2) + 1;
    g->shortest = 1e9;
}

static void timed_round(struct generator *g, int round)
{
    unsigned long hooked0 = count_of(&hook_allocs), heap0 = count_of(&libc_allocs);
    double dt = run_n(g->fn, g->n, &g->nonzero);
    g->hooked += count_of(&hook_allocs) - hooked0;
    g->heap += count_of(&libc_allocs) - heap0;
    g->ids += g->n;
    g->rate[round] = (double)g->n / dt;
    if (dt < g->shortest)
        g->shortest = dt;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(const double *v, int n)
{
    double s[16];
    memcpy(s, v, (size_t)n * sizeof *s);
    qsort(s, (size_t)n, sizeof *s, cmp_double);
    return n % 2 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
}

static void print_rounds(const char *name, const double *rate, int rounds)
{
    printf("#   %-24s rounds ids/s:", name);
    for (int r = 0; r < rounds; r++)
        printf(" %.0f", rate[r]);
    printf("  median %.0f\n", median(rate, rounds));
}

/* ------------------------------------------------------------ two threads */

struct shared {
    gen_fn fn;
    pthread_barrier_t start;
    atomic_int stop;
    atomic_ullong ids;
    double first_start, last_end; /* under lock */
    pthread_mutex_t lock;
};

static void *worker(void *arg)
{
    struct shared *sh = arg;
    svk_uuid u;
    uint8_t acc = 0;
    uint64_t n = 0;
    pthread_barrier_wait(&sh->start);
    double t0 = now_s();
    while (!atomic_load_explicit(&sh->stop, memory_order_relaxed)) {
        for (int i = 0; i < 256; i++, n++) {
            sh->fn(&u);
            acc ^= u.bytes[15];
        }
    }
    double t1 = now_s();
    sink = acc;
    atomic_fetch_add(&sh->ids, n);
    pthread_mutex_lock(&sh->lock);
    if (t0 < sh->first_start)
        sh->first_start = t0;
    if (t1 > sh->last_end)
        sh->last_end = t1;
    pthread_mutex_unlock(&sh->lock);
    return NULL;
}

/* Total ids/s of nthreads threads calling fn for `seconds`. */
static double threaded_round(gen_fn fn, int nthreads, double seconds)
{
    struct shared sh = {.fn = fn, .first_start = 1e18, .last_end = 0};
    pthread_t tid[8];
    pthread_mutex_init(&sh.lock, NULL);
    pthread_barrier_init(&sh.start, NULL, (unsigned)nthreads + 1);
    for (int i = 0; i < nthreads; i++)
        pthread_create(&tid[i], NULL, worker, &sh);
    pthread_barrier_wait(&sh.start);
    struct timespec pause = {(time_t)seconds,
                             (long)((seconds - (double)(time_t)seconds) * 1e9)};
    nanosleep(&pause, NULL);
    atomic_store(&sh.stop, 1);
    for (int i = 0; i < nthreads; i++)
        pthread_join(tid[i], NULL);
    pthread_barrier_destroy(&sh.start);
    pthread_mutex_destroy(&sh.lock);
    return (double)atomic_load(&sh.ids) / (sh.last_end - sh.first_start);
}

/* ------------------------------------------------------------------ main */

struct options {
    int threads;
    int rounds;
    double seconds;
};

static void print_cpus(void)
{
    cpu_set_t set;
    printf("# CPUs this process may run on:");
    if (sched_getaffinity(0, sizeof set, &set) != 0) {
        printf(" unknown\n");
        return;
    }
    for (int c = 0; c < CPU_SETSIZE; c++)
        if (CPU_ISSET(c, &set))
            printf(" %d", c);
    printf(" (%d)\n", CPU_COUNT(&set));
}

static const char *per_id(unsigned long allocs, uint64_t ids, char buf[32])
{
    if (allocs == 0)
        return "0";
    snprintf(buf, 32, "%.6f", (double)allocs / (double)ids);
    return buf;
}

static int report_single(struct generator *g, int rounds)
{
    struct generator *ours = &g[0], *lib = &g[1], *safe = &g[2];
    double r_ours = median(ours->rate, rounds), r_lib = median(lib->rate, rounds);
    for (int i = 0; i < 3; i++)
        print_rounds(g[i].name, g[i].rate, rounds);
    printf("#   shortest round: %s %.2f s, %s %.2f s, %s %.2f s\n", ours->name,
           ours->shortest, lib->name, lib->shortest, safe->name, safe->shortest);
    printf("#   uuid_generate_time_safe returned -1 (uniqueness not guaranteed, "
           "no uuidd) for %llu of %llu ids\n",
           (unsigned long long)safe->nonzero, (unsigned long long)safe->ids);
    printf("bench: uuid.v7_generate ours=%.0f libuuid=%.0f unit=ids/s ratio=%.2f "
           "goal=>=1.0\n", r_ours, r_lib, r_ours / r_lib);
    char a[32], b[32], c[32];
    printf("#   allocations over all timed ids: ours %lu via svk hooks, %lu seen by "
           "malloc/calloc/realloc; libuuid %lu seen by malloc/calloc/realloc\n",
           ours->hooked, ours->heap, lib->heap);
    printf("#   ours per id via malloc/calloc/realloc (hooks bypassed?): %s\n",
           per_id(ours->heap, ours->ids, c));
    printf("bench: uuid.v7_allocs_per_id ours=%s libuuid=%s unit=allocs/id ratio=n/a "
           "goal=<=0\n", per_id(ours->hooked, ours->ids, a), per_id(lib->heap, lib->ids, b));
    if (ours->nonzero != 0)
        fprintf(stderr, "bench-uuid: svk_uuid_v7 failed %llu times\n",
                (unsigned long long)ours->nonzero);
    return ours->hooked == 0 && ours->heap == 0 && ours->nonzero == 0 ? 0 : 1;
}

static int bench_single(const struct options *o)
{
    struct generator g[3] = {
        {.name = "svk_uuid_v7", .fn = gen_ours},
        {.name = "uuid_generate_time", .fn = gen_libuuid},
        {.name = "uuid_generate_time_safe", .fn = gen_libuuid_safe},
    };
    for (int i = 0; i < 3; i++)
        calibrate(&g[i], o->seconds);
    printf("# one thread; ids per round: %s %llu, %s %llu, %s %llu; %d rounds, "
           "median taken\n", g[0].name, (unsigned long long)g[0].n, g[1].name,
           (unsigned long long)g[1].n, g[2].name, (unsigned long long)g[2].n,
           o->rounds);
    for (int r = 0; r < o->rounds; r++) {
        /* Alternate the order so neither always runs on a warmer cache. */
        int first = r % 2 == 0 ? 0 : 1;
        timed_round(&g[first], r);
        timed_round(&g[1 - first], r);
        timed_round(&g[2], r);
    }
    return report_single(g, o->rounds);
}

static int bench_threads(const struct options *o)
{
    double ours[16], lib[16];
    threaded_round(gen_ours, o->threads, 0.2); /* warm-up */
    threaded_round(gen_libuuid, o->threads, 0.2);
    for (int r = 0; r < o->rounds; r++) {
        ours[r] = threaded_round(gen_ours, o->threads, o->seconds);
        lib[r] = threaded_round(gen_libuuid, o->threads, o->seconds);
    }
    printf("# %d threads calling the same generator, %.1f s per round, %d rounds, "
           "median of total ids/s taken\n", o->threads, o->seconds, o->rounds);
    print_rounds("svk_uuid_v7", ours, o->rounds);
    print_rounds("uuid_generate_time", lib, o->rounds);
    double r_ours = median(ours, o->rounds), r_lib = median(lib, o->rounds);
    printf("bench: uuid.v7_generate_%dthreads ours=%.0f libuuid=%.0f unit=ids/s "
           "ratio=%.2f goal=>=1.0\n", o->threads, r_ours, r_lib, r_ours / r_lib);
    return 0;
}

static int parse_options(int argc, char **argv, struct options *o)
{
    *o = (struct options){.threads = 1, .rounds = 5, .seconds = 1.0};
    for (int i = 1; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "--threads") == 0)
            o->threads = atoi(argv[i + 1]);
        else if (strcmp(argv[i], "--rounds") == 0)
            o->rounds = atoi(argv[i + 1]);
        else if (strcmp(argv[i], "--seconds") == 0)
            o->seconds = atof(argv[i + 1]);
        else
            return -1;
    }
    if (argc % 2 == 0 || o->threads < 1 || o->threads > 8 || o->rounds < 1 ||
        o->rounds > 16 || !(o->seconds > 0))
        return -1;
    return 0;
}

int main(int argc, char **argv)
{
    struct options o;
    if (parse_options(argc, argv, &o) != 0) {
        fprintf(stderr, "usage: bench-uuid [--threads 1-8] [--rounds 1-16] "
                        "[--seconds S]\n");
        return 2;
    }
    /* Must precede every other libsvckit call (see svk_set_allocator). */
    if (svk_set_allocator(hook_malloc, hook_realloc, hook_free, NULL) != 0)
        return 1;
    printf("# bench-uuid: libsvckit %s against libuuid (util-linux)\n", svk_version());
    print_cpus();
    fflush(stdout);
    int rc = o.threads == 1 ? bench_single(&o) : bench_threads(&o);
    fflush(stdout);
    return rc;
}
