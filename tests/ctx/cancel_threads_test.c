/*
 * cancel_threads_test.c — svk_ctx_cancel from one thread is seen by readers of
 * descendant contexts on other threads. A plain program so it runs under TSan.
 */
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "svckit/ctx.h"

#define READERS 4

static svk_ctx *root;
static svk_ctx *leaves[READERS];

static void *wait_for_cancel(void *arg)
{
    svk_ctx *leaf = arg;
    while (svk_ctx_err(leaf) == 0)
        sched_yield();
    return (void *)(long)(svk_ctx_err(leaf) == SVK_ECANCELED);
}

int main(void)
{
    svk_ctx *mid;
    if (svk_ctx_new(&root, NULL) != 0 || svk_ctx_new(&mid, root) != 0)
        return 1;
    for (int i = 0; i < READERS; i++)
        if (svk_ctx_new(&leaves[i], mid) != 0 || svk_ctx_set_request_id(leaves[i], "r", 1) != 0)
            return 1;
    pthread_t t[READERS];
    for (int i = 0; i < READERS; i++)
        pthread_create(&t[i], NULL, wait_for_cancel, leaves[i]);
    struct timespec pause = {0, 10 * 1000000};
    nanosleep(&pause, NULL);
    svk_ctx_cancel(root);
    int ok = 1;
    for (int i = 0; i < READERS; i++) {
        void *seen;
        pthread_join(t[i], &seen);
        ok &= seen != NULL;
    }
    for (int i = 0; i < READERS; i++)
        svk_ctx_free(leaves[i]);
    svk_ctx_free(mid);
    svk_ctx_free(root);
    if (!ok) {
        fprintf(stderr, "FAIL: a reader did not see the cancellation as SVK_ECANCELED\n");
        return 1;
    }
    printf("cancel_threads: %d readers saw the root's cancel\n", READERS);
    return 0;
}
