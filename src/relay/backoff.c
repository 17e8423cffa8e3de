/*
 * backoff.c — how long the relay waits after failures: min doubling per
 * failure in a row up to max, with "equal jitter" (half fixed, half random)
 * so that relays restarted together do not retry in lockstep. A local,
 * small version until the retry module exists (issue 6 allows it).
 */
#include "relay/relay_impl.h"

/* xorshift64*: plenty for jitter, no locks, no syscalls. */
static uint64_t next_random(uint64_t *s)
{
    uint64_t x = *s;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *s = x;
    return x * UINT64_C(2685821657736338717);
}

void svk__backoff_init(svk__backoff *b, int64_t min_ns, int64_t max_ns, uint64_t seed)
{
    b->min_ns = min_ns;
    b->max_ns = max_ns;
    b->failures = 0;
    b->rng = seed != 0 ? seed : UINT64_C(0x9e3779b97f4a7c15);
}

int64_t svk__backoff_delay(svk__backoff *b, int failures)
{
    int64_t d = b->min_ns;
    for (int i = 1; i < failures && d < b->max_ns; i++)
        d = d > b->max_ns / 2 ? b->max_ns : d * 2;
    if (d > b->max_ns)
        d = b->max_ns;
    int64_t half = d / 2;
    return half + (half > 0 ? (int64_t)(next_random(&b->rng) % (uint64_t)(half + 1)) : 0);
}

int64_t svk__backoff_next(svk__backoff *b)
{
    if (b->failures < 1000000)
        b->failures++;
    return svk__backoff_delay(b, b->failures);
}

void svk__backoff_reset(svk__backoff *b)
{
    b->failures = 0;
}
