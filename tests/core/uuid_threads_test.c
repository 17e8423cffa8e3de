/*
 * uuid_threads_test.c — UUIDv7 ids from many threads and a forked child are
 * all distinct, and each thread sees its own ids strictly increasing; ids
 * taken one after another across threads (under a lock) also increase.
 * A plain program (no Criterion) so it runs under ThreadSanitizer.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "svckit/core.h"
#include "support/check.h"

#define THREADS 8
#define PER_THREAD 50000

static svk_uuid ids[THREADS][PER_THREAD];
static pthread_mutex_t order_lock = PTHREAD_MUTEX_INITIALIZER;
static svk_uuid last_in_order;
static int order_violations;

static void *generate(void *arg)
{
    svk_uuid *mine = arg;
    for (int i = 0; i < PER_THREAD; i++) {
        if (i % 100 == 0) {
            /* Taken under a lock, so "happens before" is well defined. */
            pthread_mutex_lock(&order_lock);
            svk_uuid u;
            CHECK(svk_uuid_v7(&u) == 0, "generate");
            order_violations += svk_uuid_compare(&last_in_order, &u) >= 0;
            last_in_order = u;
            pthread_mutex_unlock(&order_lock);
        }
        CHECK(svk_uuid_v7(&mine[i]) == 0, "generate");
    }
    return NULL;
}

static int compare_ids(const void *a, const void *b)
{
    return svk_uuid_compare(a, b);
}

static void check_threads(void)
{
    pthread_t t[THREADS];
    for (int i = 0; i < THREADS; i++)
        CHECK(pthread_create(&t[i], NULL, generate, ids[i]) == 0, "pthread_create");
    for (int i = 0; i < THREADS; i++)
        pthread_join(t[i], NULL);
    CHECK(order_violations == 0, "%d ids not after the previous one", order_violations);
    for (int t_i = 0; t_i < THREADS; t_i++)
        for (int i = 1; i < PER_THREAD; i++)
            CHECK(svk_uuid_compare(&ids[t_i][i - 1], &ids[t_i][i]) < 0,
                  "thread %d id %d not increasing", t_i, i);
    svk_uuid *all = &ids[0][0];
    qsort(all, (size_t)THREADS * PER_THREAD, sizeof *all, compare_ids);
    for (size_t i = 1; i < (size_t)THREADS * PER_THREAD; i++)
        CHECK(svk_uuid_compare(&all[i - 1], &all[i]) != 0, "duplicate id at %zu", i);
}

/* Parent and child generate in the same millisecond; no id may repeat. */
static void check_fork(void)
{
    enum { N = 2000 };
    int fds[2];
    CHECK(pipe(fds) == 0, "pipe");
    svk_uuid warm;
    svk_uuid_v7(&warm);
    pid_t pid = fork();
    CHECK(pid >= 0, "fork");
    svk_uuid batch[N];
    for (int i = 0; i < N; i++)
        CHECK(svk_uuid_v7(&batch[i]) == 0, "generate after fork");
    if (pid == 0) {
        ssize_t w = write(fds[1], batch, sizeof batch);
        _exit(w == (ssize_t)sizeof batch ? 0 : 1);
    }
    close(fds[1]);
    static svk_uuid both[2 * N];
    memcpy(both, batch, sizeof batch);
    size_t got = 0;
    while (got < sizeof batch) {
        ssize_t r = read(fds[0], (char *)&both[N] + got, sizeof batch - got);
        CHECK(r > 0, "read from child");
        got += (size_t)r;
    }
    int status;
    waitpid(pid, &status, 0);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0, "child failed");
    qsort(both, 2 * N, sizeof both[0], compare_ids);
    for (int i = 1; i < 2 * N; i++)
        CHECK(svk_uuid_compare(&both[i - 1], &both[i]) != 0, "parent and child share an id");
}

int main(void)
{
    check_threads();
    check_fork();
    printf("uuid_threads: %d threads x %d ids distinct and ordered; fork ok\n", THREADS,
           PER_THREAD);
    return 0;
}
