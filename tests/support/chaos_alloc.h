/*
 * chaos_alloc.h — a counting allocator for tests, installed through
 * svk_set_allocator, that can fail the Nth allocation (jansson's test_chaos,
 * nghttp2's failmalloc). Tests fail each allocation of a scenario in turn and
 * check the call returns SVK_ENOMEM and that chaos.live is back to zero.
 */
#ifndef SVK_TESTS_CHAOS_ALLOC_H
#define SVK_TESTS_CHAOS_ALLOC_H

struct chaos_counts {
    long calls;   /* allocations attempted since install_chaos */
    long fail_at; /* index of the allocation to fail; -1 never */
    long live;    /* allocations made and not yet freed */
};

extern struct chaos_counts chaos;

/* Reset the counts and install the chaos allocator; fail_at -1 fails none.
 * The hooks' user pointer is &chaos. */
void install_chaos(long fail_at);

/* Put libc's allocator back. */
void uninstall_chaos(void);

#endif
