/*
 * alloc.c — the allocator hooks every allocation in the library goes through.
 *
 * The hooks are plain globals: svk_set_allocator is documented as callable
 * only before the library is used, so readers never race with the writer.
 */
#include "svckit/core.h"

#include <stdlib.h>

static void *libc_malloc(size_t size, void *user)
{
    (void)user;
    return malloc(size);
}

static void *libc_realloc(void *ptr, size_t size, void *user)
{
    (void)user;
    return realloc(ptr, size);
}

static void libc_free(void *ptr, void *user)
{
    (void)user;
    free(ptr);
}

static svk_malloc_fn hook_malloc = libc_malloc;
static svk_realloc_fn hook_realloc = libc_realloc;
static svk_free_fn hook_free = libc_free;
static void *hook_user;

SVK_API int svk_set_allocator(svk_malloc_fn malloc_fn, svk_realloc_fn realloc_fn,
                              svk_free_fn free_fn, void *user)
{
    int given = (malloc_fn != NULL) + (realloc_fn != NULL) + (free_fn != NULL);
    if (given == 0) {
        hook_malloc = libc_malloc;
        hook_realloc = libc_realloc;
        hook_free = libc_free;
        hook_user = NULL;
        return 0;
    }
    if (given != 3)
        return SVK_EINVAL;
    hook_malloc = malloc_fn;
    hook_realloc = realloc_fn;
    hook_free = free_fn;
    hook_user = user;
    return 0;
}

SVK_API void *svk_malloc(size_t size)
{
    /* malloc(0) may return NULL, which callers would read as ENOMEM. */
    return hook_malloc(size ? size : 1, hook_user);
}

SVK_API void *svk_realloc(void *ptr, size_t size)
{
    return hook_realloc(ptr, size ? size : 1, hook_user);
}

SVK_API void svk_free(void *ptr)
{
    if (ptr != NULL)
        hook_free(ptr, hook_user);
}
