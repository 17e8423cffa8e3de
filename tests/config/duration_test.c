/*
 * duration_test.c — svk_parse_duration against Go's time.ParseDuration
 * results (values taken from Go 1.19; go_crosscheck/ checks thousands more).
 */
#include <criterion/criterion.h>
#include <string.h>

#include "svckit/config.h"

#define NS INT64_C(1)
#define US (1000 * NS)
#define MS (1000 * US)
#define SEC (1000 * MS)
#define MIN (60 * SEC)
#define HOUR (60 * MIN)

static int parse(const char *s, int64_t *ns)
{
    return svk_parse_duration(s, strlen(s), ns, NULL);
}

static void accepts(const char *s, int64_t want)
{
    int64_t got = 12345;
    svk_error err;
    int rc = svk_parse_duration(s, strlen(s), &got, &err);
    cr_assert_eq(rc, 0, "\"%s\" rejected: %s", s, err.message);
    cr_assert_eq(got, want, "\"%s\": got %lld, want %lld", s, (long long)got,
                 (long long)want);
}

static void rejects(const char *s, int want_rc)
{
    int64_t got = 777;
    svk_error err;
    int rc = svk_parse_duration(s, strlen(s), &got, &err);
    cr_assert_eq(rc, want_rc, "\"%s\": got %s", s, svk_errname(rc));
    cr_assert_eq(got, 777, "\"%s\": out changed on failure", s);
    cr_assert_eq(err.code, want_rc);
    cr_assert_neq(err.message[0], '\0');
}

Test(duration, every_unit)
{
    accepts("1ns", NS);
    accepts("1us", US);
    accepts("1\xc2\xb5s", US); /* U+00B5 micro sign */
    accepts("1\xce\xbcs", US); /* U+03BC greek mu */
    accepts("1ms", MS);
    accepts("1s", SEC);
    accepts("1m", MIN);
    accepts("1h", HOUR);
}

Test(duration, go_examples)
{
    accepts("0", 0);
    accepts("-0", 0);
    accepts("+0", 0);
    accepts("0s", 0);
    accepts("250ms", 250 * MS);
    accepts("1m30s", 90 * SEC);
    accepts("1.5h", 90 * MIN);
    accepts("-2h45m", -(2 * HOUR + 45 * MIN));
    accepts("+5s", 5 * SEC);
    accepts(".5s", 500 * MS);
    accepts("1.s", SEC);
    accepts("1h1h", 2 * HOUR);
    accepts("3h2m1s4ms5us6ns", 3 * HOUR + 2 * MIN + SEC + 4 * MS + 5 * US + 6 * NS);
    accepts("1.0000000001s", SEC);              /* float64 scaling, as Go */
    accepts("0.3333333333333333333h", 1200 * SEC); /* extra digits are dropped */
    accepts("100.00100s", 100 * SEC + MS);
    accepts("0.100000000000000000000h", 6 * MIN);
}

Test(duration, int64_boundaries)
{
    accepts("9223372036854775807ns", INT64_MAX);
    accepts("-9223372036854775808ns", INT64_MIN);
    accepts("2562047h47m16.854775807s", INT64_MAX);
    accepts("-2562047h47m16.854775808s", INT64_MIN);
    rejects("9223372036854775808ns", SVK_ERANGE);
    rejects("2562047h47m16.854775808s", SVK_ERANGE);
    rejects("-9223372036854775809ns", SVK_ERANGE);
    rejects("2562048h", SVK_ERANGE);
    rejects("99999999999999999999s", SVK_ERANGE);
}

Test(duration, invalid_forms)
{
    rejects("", SVK_EINVAL);                 /* empty */
    rejects("-", SVK_EINVAL);
    rejects(".", SVK_EINVAL);
    rejects("abc", SVK_EINVAL);              /* junk */
    rejects("5", SVK_EINVAL);                /* missing unit */
    rejects("00", SVK_EINVAL);
    rejects("5d", SVK_EINVAL);               /* wrong unit */
    rejects("5S", SVK_EINVAL);
    rejects("5sec", SVK_EINVAL);
    rejects("5\xc2\xb5", SVK_EINVAL);
    rejects("1s ", SVK_EINVAL);              /* trailing garbage */
    rejects(" 1s", SVK_EINVAL);
    rejects("1 s", SVK_EINVAL);
    rejects("1sx", SVK_EINVAL);
    rejects("1e3s", SVK_EINVAL);
    rejects("--1s", SVK_EINVAL);
    rejects("1h-5m", SVK_EINVAL);
    rejects(".s", SVK_EINVAL);
    rejects("0x10s", SVK_EINVAL);
}

Test(duration, not_nul_terminated_and_bad_arguments)
{
    int64_t ns = 0;
    cr_assert_eq(svk_parse_duration("15sXXX", 3, &ns, NULL), 0);
    cr_assert_eq(ns, 15 * SEC);
    cr_assert_eq(svk_parse_duration(NULL, 0, &ns, NULL), SVK_EINVAL);
    cr_assert_eq(svk_parse_duration(NULL, 3, &ns, NULL), SVK_EINVAL);
    cr_assert_eq(svk_parse_duration("1s", 2, NULL, NULL), SVK_EINVAL);
    cr_assert_eq(parse("1s", &ns), 0);
}

Test(duration, messages_never_quote_the_input)
{
    const char *inputs[] = {"hunter2s", "5hunter2", "1.5zzqx", "99999999999999999999zzqx"};
    for (size_t i = 0; i < sizeof inputs / sizeof inputs[0]; i++) {
        svk_error err;
        int64_t ns;
        cr_assert_neq(parse(inputs[i], &ns), 0);
        cr_assert_eq(svk_parse_duration(inputs[i], strlen(inputs[i]), &ns, &err), err.code);
        cr_assert_null(strstr(err.message, "hunter2"), "%s", err.message);
        cr_assert_null(strstr(err.message, "zzqx"), "%s", err.message);
    }
}
