/* error_test.c — SVK_E* names and descriptions, svk_error filling. */
#include <criterion/criterion.h>
#include <string.h>

#include "svckit/core.h"
#include "core/error_detail.h"

Test(error, every_code_has_a_distinct_name_and_description)
{
    for (int code = 0; code >= SVK_EDB; code--) {
        cr_assert_str_neq(svk_strerror(code), "unknown error", "code %d", code);
        cr_assert_str_neq(svk_errname(code), "SVK_E?", "code %d", code);
        for (int other = code - 1; other >= SVK_EDB; other--)
            cr_assert_str_neq(svk_strerror(code), svk_strerror(other));
    }
    cr_assert_str_eq(svk_errname(SVK_EINVAL), "SVK_EINVAL");
    cr_assert_str_eq(svk_errname(SVK_ENOMEM), "SVK_ENOMEM");
    cr_assert_str_eq(svk_strerror(0), "success");
}

Test(error, unknown_codes_are_named_as_such)
{
    int unknown[] = {1, 42, SVK_EDB - 1, -1000, (int)0x80000000};
    for (size_t i = 0; i < sizeof unknown / sizeof unknown[0]; i++) {
        cr_assert_str_eq(svk_strerror(unknown[i]), "unknown error");
        cr_assert_str_eq(svk_errname(unknown[i]), "SVK_E?");
    }
}

Test(error, detail_is_filled_and_truncated)
{
    svk_error err;
    svk_error_clear(&err);
    cr_assert_eq(err.code, 0);
    cr_assert_str_eq(err.message, "");
    int rc = svk__error_set(&err, SVK_ERANGE, "value %d too big", 7);
    cr_assert_eq(rc, SVK_ERANGE);
    cr_assert_eq(err.code, SVK_ERANGE);
    cr_assert_str_eq(err.message, "value 7 too big");

    char long_text[1000];
    memset(long_text, 'x', sizeof long_text - 1);
    long_text[sizeof long_text - 1] = '\0';
    svk__error_set(&err, SVK_EINVAL, "%s", long_text);
    cr_assert_eq(strlen(err.message), SVK_ERROR_MESSAGE_SIZE - 1);
}

Test(error, null_detail_is_allowed)
{
    cr_assert_eq(svk__error_set(NULL, SVK_EIO, "ignored"), SVK_EIO);
    svk_error_clear(NULL);
}

/* The enum is append-only ABI that abidiff cannot see (no signature uses it),
 * so the published values are pinned here. */
Test(error, published_values_never_change)
{
    cr_assert_eq(SVK_OK, 0);
    cr_assert_eq(SVK_EINVAL, -1);
    cr_assert_eq(SVK_ENOMEM, -2);
    cr_assert_eq(SVK_ERANGE, -3);
    cr_assert_eq(SVK_ENOENT, -4);
    cr_assert_eq(SVK_EEXIST, -5);
    cr_assert_eq(SVK_EAGAIN, -6);
    cr_assert_eq(SVK_ETIMEDOUT, -7);
    cr_assert_eq(SVK_ECANCELED, -8);
    cr_assert_eq(SVK_EIO, -9);
    cr_assert_eq(SVK_ECLOSED, -10);
    cr_assert_eq(SVK_EBUSY, -11);
    cr_assert_eq(SVK_ESTATE, -12);
    cr_assert_eq(SVK_ETOOBIG, -13);
    cr_assert_eq(SVK_EPROTO, -14);
    cr_assert_eq(SVK_EUNAVAIL, -15);
    cr_assert_eq(SVK_ESYS, -16);
    cr_assert_eq(SVK_ENOTSUP, -17);
    cr_assert_eq(SVK_ECONFLICT, -18);
    cr_assert_eq(SVK_ESERIALIZE, -19);
    cr_assert_eq(SVK_EDEADLOCK, -20);
    cr_assert_eq(SVK_EDB, -21);
}
