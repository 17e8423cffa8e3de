/*
 * sample.c — sampling as zap's sampler does it: (level, message) is hashed
 * into a fixed table of counters; in each tick (1 s by default) the first N
 * lines of a counter pass, then every Mth. Two messages that share a slot
 * share a budget, which is the price of a fixed, allocation-free table.
 *
 * Lock-free: a counter is (reset_at, count). The thread that sees the tick
 * expired stores count = 1 and moves reset_at with a CAS; a thread that
 * loses that race counts again on the fresh tick (zap's
 * counter.IncCheckReset). Counts may be off by a few lines at the edge of a
 * tick, which sampling tolerates.
 */
#include "log/sample.h"

#include "svckit/core.h"

#include <stdatomic.h>

#define SLOTS 1024 /* power of two */

struct counter {
    _Atomic int64_t reset_at;
    _Atomic uint64_t count;
};

struct svk__sampler {
    uint32_t first;
    uint32_t thereafter;
    int64_t tick_ns;
    struct counter slots[SLOTS];
};

svk__sampler *svk__sampler_new(uint32_t first, uint32_t thereafter, int64_t tick_ns)
{
    svk__sampler *s = svk_malloc(sizeof *s);
    if (s == NULL)
        return NULL;
    s->first = first;
    s->thereafter = thereafter;
    s->tick_ns = tick_ns;
    for (size_t i = 0; i < SLOTS; i++) {
        atomic_init(&s->slots[i].reset_at, INT64_MIN);
        atomic_init(&s->slots[i].count, 0);
    }
    return s;
}

void svk__sampler_free(svk__sampler *s)
{
    svk_free(s);
}

/* FNV-1a over the message, seeded with the level. */
static uint32_t slot_of(int level, const char *msg)
{
    uint32_t h = 2166136261u ^ (uint32_t)level;
    h *= 16777619u;
    for (const unsigned char *p = (const unsigned char *)msg; *p != '\0'; p++) {
        h ^= *p;
        h *= 16777619u;
    }
    return h & (SLOTS - 1);
}

static uint64_t count_in_tick(struct counter *c, int64_t now, int64_t tick)
{
    int64_t reset_at = atomic_load_explicit(&c->reset_at, memory_order_acquire);
    uint64_t n = atomic_fetch_add_explicit(&c->count, 1, memory_order_relaxed) + 1;
    if (now < reset_at)
        return n;
    atomic_store_explicit(&c->count, 1, memory_order_relaxed);
    int64_t next = now > INT64_MAX - tick ? INT64_MAX : now + tick;
    if (!atomic_compare_exchange_strong(&c->reset_at, &reset_at, next))
        return atomic_fetch_add_explicit(&c->count, 1, memory_order_relaxed) + 1;
    return 1;
}

int svk__sampler_allow(svk__sampler *s, int level, const char *msg, int64_t now_ns)
{
    struct counter *c = &s->slots[slot_of(level, msg != NULL ? msg : "")];
    uint64_t n = count_in_tick(c, now_ns, s->tick_ns);
    if (n <= s->first)
        return 1;
    return s->thereafter > 0 && (n - s->first) % s->thereafter == 0;
}
