/* chaos_alloc.c — the counting, failing allocator of chaos_alloc.h. */
#include "support/chaos_alloc.h"

#include <stdio.h>
#include <stdlib.h>

#include "svckit/core.h"

struct chaos_counts chaos;

static void *chaos_malloc(size_t size, void *user)
{
    (void)user;
    if (chaos.calls++ == chaos.fail_at)
        return NULL;
    chaos.live++;
    return malloc(size);
}

static void *chaos_realloc(void *ptr, size_t size, void *user)
{
    (void)user;
    if (chaos.calls++ == chaos.fail_at)
        return NULL;
    if (ptr == NULL)
        chaos.live++;
    return realloc(ptr, size);
}

static void chaos_free(void *ptr, void *user)
{
    (void)user;
    if (ptr != NULL)
        chaos.live--;
    free(ptr);
}

void install_chaos(long fail_at)
{
    chaos.calls = 0;
    chaos.fail_at = fail_at;
    chaos.live = 0;
    if (svk_set_allocator(chaos_malloc, chaos_realloc, chaos_free, &chaos) != 0) {
        fprintf(stderr, "install_chaos: svk_set_allocator refused the hooks\n");
        abort();
    }
}

void uninstall_chaos(void)
{
    svk_set_allocator(NULL, NULL, NULL, NULL);
}
