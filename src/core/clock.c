/*
 * clock.c — monotonic and wall clocks in nanoseconds.
 *
 * clock_gettime on these two clocks cannot fail on Linux with a valid
 * pointer, so the functions return the value directly.
 */
#include "svckit/core.h"

#include <time.h>

static int64_t read_clock(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

SVK_API int64_t svk_clock_mono_ns(void)
{
    return read_clock(CLOCK_MONOTONIC);
}

SVK_API int64_t svk_clock_wall_ns(void)
{
    return read_clock(CLOCK_REALTIME);
}
