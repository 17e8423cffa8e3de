/*
 * number_test.c — the number and time writers: integers, floats printed as
 * Go's encoding/json prints them (shortest round-trip decimal) checked on a
 * table and against brute force on random doubles, and RFC 3339 times
 * checked against gmtime_r.
 */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log/number.h"
#include "log/shortest.h"
#include "log/timefmt.h"

static const char *f64(double v, char *buf)
{
    *svk__put_f64(buf, v) = '\0';
    return buf;
}

Test(number, integers)
{
    char buf[SVK__NUMBER_MAX + 1];
    *svk__put_i64(buf, INT64_MIN) = '\0';
    cr_assert_str_eq(buf, "-9223372036854775808");
    *svk__put_i64(buf, INT64_MAX) = '\0';
    cr_assert_str_eq(buf, "9223372036854775807");
    *svk__put_u64(buf, UINT64_MAX) = '\0';
    cr_assert_str_eq(buf, "18446744073709551615");
    for (int64_t v = -1000; v <= 1000; v++) {
        char want[32];
        snprintf(want, sizeof want, "%lld", (long long)v);
        *svk__put_i64(buf, v) = '\0';
        cr_assert_str_eq(buf, want);
    }
}

/* Expected strings are what Go 1.19's json.Marshal prints. */
Test(number, floats_as_go_prints_them)
{
    static const struct {
        double v;
        const char *want;
    } cases[] = {
        {0.0, "0"},
        {-0.0, "-0"},
        {1, "1"},
        {-2.5, "-2.5"},
        {0.1, "0.1"},
        {3.14, "3.14"},
        {100, "100"},
        {0.30000000000000004, "0.30000000000000004"},
        {1.0 / 3, "0.3333333333333333"},
        {123456789.125, "123456789.125"},
        {9007199254740992.0, "9007199254740992"},
        {1e20, "100000000000000000000"},
        {12345678901234567890.0, "12345678901234567000"},
        {1e21, "1e+21"},
        {1.5e300, "1.5e+300"},
        {1.7976931348623157e308, "1.7976931348623157e+308"},
        {1e-6, "0.000001"},
        {1.5e-6, "0.0000015"},
        {1e-7, "1e-7"},
        {1e-10, "1e-10"},
        {1.25e-100, "1.25e-100"},
        {5e-324, "5e-324"},
    };
    char buf[SVK__NUMBER_MAX + 1];
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        cr_assert_str_eq(f64(cases[i].v, buf), cases[i].want, "case %zu", i);
}

static double random_double(unsigned *seed)
{
    for (;;) {
        uint64_t bits = ((uint64_t)rand_r(seed) << 33) ^ ((uint64_t)rand_r(seed) << 11) ^
                        (uint64_t)rand_r(seed);
        double v;
        memcpy(&v, &bits, sizeof v);
        if (isfinite(v))
            return v;
    }
}

/* The fewest significant digits that read back to v, by brute force. */
static int shortest_digits(double v)
{
    char tmp[64];
    for (int p = 1; p <= 17; p++) {
        snprintf(tmp, sizeof tmp, "%.*e", p - 1, v);
        if (strtod(tmp, NULL) == v)
            return p;
    }
    return 17;
}

static int significant_digits(const char *s)
{
    int n = 0, started = 0, zeros = 0;
    for (; *s != '\0' && *s != 'e'; s++) {
        if (*s < '0' || *s > '9')
            continue;
        if (*s == '0' && !started)
            continue;
        started = 1;
        if (*s == '0') {
            zeros++;
        } else {
            n += zeros + 1;
            zeros = 0;
        }
    }
    return n == 0 ? 1 : n;
}

static void check_round_trip(double v)
{
    char buf[SVK__NUMBER_MAX + 1];
    f64(v, buf);
    cr_assert_eq(strtod(buf, NULL), v, "%s does not read back to %.17g", buf, v);
    cr_assert_eq(significant_digits(buf), shortest_digits(v), "%s is not shortest for %.17g",
                 buf, v);
}

Test(number, random_doubles_round_trip_with_shortest_digits)
{
    unsigned seed = 7;
    for (int i = 0; i < 200000; i++)
        check_round_trip(random_double(&seed));
}

Test(number, decimal_looking_doubles_round_trip_with_shortest_digits)
{
    unsigned seed = 11;
    for (int i = 0; i < 200000; i++) {
        double scale = pow(10, rand_r(&seed) % 12);
        check_round_trip((rand_r(&seed) % 2000000 - 1000000) / scale);
    }
}

/* Random doubles in the plain-notation range, where shortest.c does exact
 * 128-bit arithmetic: digits straight from it, against brute force, and the
 * nearest of the shortest candidates (as %.{p}e picks it). */
static void check_exact_path(double v)
{
    char d[21];
    int e;
    int nd = svk__shortest_digits(v, d, &e);
    d[nd] = '\0';
    int want = shortest_digits(v);
    cr_assert_eq(nd, want, "%.17g: %d digits, want %d", v, nd, want);
    char theirs[64], digits[32];
    snprintf(theirs, sizeof theirs, "%.*e", want - 1, v);
    int n = 0;
    const char *q = theirs;
    for (; *q != 'e'; q++)
        if (*q != '.')
            digits[n++] = *q;
    while (n > 1 && digits[n - 1] == '0')
        n--;
    digits[n] = '\0';
    cr_assert_str_eq(d, digits, "%.17g: digits %s, nearest %s", v, d, digits);
    cr_assert_eq(e, atoi(q + 1), "%.17g: exponent %d, want %s", v, e, q + 1);
}

Test(number, exact_shortest_path_against_brute_force)
{
    unsigned seed = 5;
    for (int i = 0; i < 300000; i++) {
        uint64_t mant = (((uint64_t)rand_r(&seed) << 31) ^ (uint64_t)rand_r(&seed)) &
                        ((UINT64_C(1) << 52) - 1);
        int exp2 = rand_r(&seed) % 90 - 19; /* 2^-20 .. 2^70 */
        double v = ldexp(1.0 + (double)mant / 4503599627370496.0, exp2);
        if (v >= 1e-6 && v < 1e21)
            check_exact_path(v);
    }
    for (int p = -19; p < 70; p++) { /* powers of two: the interval is lopsided */
        check_exact_path(ldexp(1, p));
        check_exact_path(nextafter(ldexp(1, p), 0));
        check_exact_path(nextafter(ldexp(1, p), INFINITY));
    }
    for (int p = -6; p < 21; p++)
        check_exact_path(pow(10, p));
}

Test(timefmt, matches_gmtime_and_rounds_down)
{
    char buf[SVK__TIME_LEN + 1];
    *svk__put_rfc3339_ms(buf, 0) = '\0';
    cr_assert_str_eq(buf, "1970-01-01T00:00:00.000Z");
    *svk__put_rfc3339_ms(buf, -1) = '\0';
    cr_assert_str_eq(buf, "1969-12-31T23:59:59.999Z");
    *svk__put_rfc3339_ms(buf, INT64_C(1709164800999999999)) = '\0';
    cr_assert_str_eq(buf, "2024-02-29T00:00:00.999Z");
    unsigned seed = 3;
    for (int i = 0; i < 100000; i++) {
        int64_t sec = (int64_t)((((uint64_t)rand_r(&seed) << 31) ^ (uint64_t)rand_r(&seed)) %
                                UINT64_C(18000000000)) - INT64_C(9000000000);
        int ms = rand_r(&seed) % 1000;
        time_t t = (time_t)sec;
        struct tm tm;
        gmtime_r(&t, &tm);
        char want[64];
        snprintf(want, sizeof want, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ms);
        *svk__put_rfc3339_ms(buf, sec * 1000000000 + ms * 1000000 + 999) = '\0';
        cr_assert_str_eq(buf, want);
    }
}
