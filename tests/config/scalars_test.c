/* scalars_test.c — svk_parse_bool and svk_parse_int64: what they take, what they refuse. */
#include <criterion/criterion.h>
#include <string.h>

#include "svckit/config.h"

static int parse_bool(const char *s, bool *b) { return svk_parse_bool(s, strlen(s), b, NULL); }
static int parse_int(const char *s, int64_t *v) { return svk_parse_int64(s, strlen(s), v, NULL); }

Test(bool, eight_spellings_any_case)
{
    const char *yes[] = {"true", "TRUE", "True", "1", "yes", "YES", "on", "On"};
    const char *no[] = {"false", "FALSE", "0", "no", "No", "off", "OFF", "fAlSe"};
    for (size_t i = 0; i < 8; i++) {
        bool b = false;
        cr_assert_eq(parse_bool(yes[i], &b), 0, "%s", yes[i]);
        cr_assert(b, "%s", yes[i]);
        cr_assert_eq(parse_bool(no[i], &b), 0, "%s", no[i]);
        cr_assert_not(b, "%s", no[i]);
    }
}

Test(bool, nothing_else)
{
    const char *bad[] = {"", "y", "n", "t", "f", "2", "-1", "enabled", " true", "true ",
                         "truex", "yes!", "00", "o", "nope", "\xc2\xa0on"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        bool b = true;
        svk_error err;
        cr_assert_eq(svk_parse_bool(bad[i], strlen(bad[i]), &b, &err), SVK_EINVAL, "%s",
                     bad[i]);
        cr_assert(b, "out untouched");
        cr_assert_neq(err.message[0], '\0');
    }
    cr_assert_eq(svk_parse_bool("true", 4, NULL, NULL), SVK_EINVAL);
}

Test(int64, valid_forms)
{
    int64_t v;
    cr_assert_eq(parse_int("0", &v), 0);
    cr_assert_eq(v, 0);
    cr_assert_eq(parse_int("8080", &v), 0);
    cr_assert_eq(v, 8080);
    cr_assert_eq(parse_int("+42", &v), 0);
    cr_assert_eq(v, 42);
    cr_assert_eq(parse_int("-42", &v), 0);
    cr_assert_eq(v, -42);
    cr_assert_eq(parse_int("007", &v), 0);
    cr_assert_eq(v, 7);
    cr_assert_eq(parse_int("9223372036854775807", &v), 0);
    cr_assert_eq(v, INT64_MAX);
    cr_assert_eq(parse_int("-9223372036854775808", &v), 0);
    cr_assert_eq(v, INT64_MIN);
    cr_assert_eq(parse_int("-0", &v), 0);
    cr_assert_eq(v, 0);
}

Test(int64, invalid_forms)
{
    const char *bad[] = {"", "-", "+", "abc", "12a", "1 ", " 1", "0x10", "1_000", "1e3",
                         "1.0", "--1", "+-1", "١"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int64_t v = 5;
        cr_assert_eq(parse_int(bad[i], &v), SVK_EINVAL, "\"%s\"", bad[i]);
        cr_assert_eq(v, 5);
    }
    const char *range[] = {"9223372036854775808", "-9223372036854775809",
                           "99999999999999999999999999"};
    for (size_t i = 0; i < 3; i++) {
        int64_t v = 5;
        cr_assert_eq(parse_int(range[i], &v), SVK_ERANGE, "%s", range[i]);
        cr_assert_eq(v, 5);
    }
    int64_t v;
    cr_assert_eq(parse_int("99999999999999999999x", &v), SVK_EINVAL, "junk wins over range");
}
