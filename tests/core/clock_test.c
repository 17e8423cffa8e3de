/* clock_test.c — the two clocks have the right origin and direction. */
#include <criterion/criterion.h>
#include <time.h>

#include "svckit/core.h"

Test(clock, wall_is_unix_epoch_nanoseconds)
{
    int64_t ours = svk_clock_wall_ns();
    int64_t libc = (int64_t)time(NULL) * 1000000000;
    cr_assert(ours > libc - 2000000000 && ours < libc + 2000000000);
}

Test(clock, monotonic_never_goes_back_and_advances)
{
    int64_t prev = svk_clock_mono_ns();
    for (int i = 0; i < 100000; i++) {
        int64_t now = svk_clock_mono_ns();
        cr_assert_geq(now, prev);
        prev = now;
    }
    struct timespec pause = {0, 2000000};
    int64_t before = svk_clock_mono_ns();
    nanosleep(&pause, NULL);
    cr_assert_geq(svk_clock_mono_ns() - before, 2000000);
}
