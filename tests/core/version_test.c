/* version_test.c — header macros agree with the linked library. */
#include <criterion/criterion.h>
#include <stdio.h>

#include "svckit/core.h"

Test(version, library_matches_header)
{
    cr_assert_str_eq(svk_version(), SVK_VERSION_STRING);
    cr_assert_eq(svk_version_num(), (unsigned)SVK_VERSION_NUM);
    char expect[32];
    snprintf(expect, sizeof expect, "%d.%d.%d", SVK_VERSION_MAJOR, SVK_VERSION_MINOR,
             SVK_VERSION_PATCH);
    cr_assert_str_eq(svk_version(), expect);
}
