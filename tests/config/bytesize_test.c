/*
 * bytesize_test.c — svk_parse_bytes against go-humanize's ParseBytes results
 * (values from Go; go_crosscheck/ checks thousands more), quirks included.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "svckit/config.h"

static void accepts(const char *s, uint64_t want)
{
    uint64_t got = 12345;
    svk_error err;
    int rc = svk_parse_bytes(s, strlen(s), &got, &err);
    cr_assert_eq(rc, 0, "\"%s\" rejected: %s", s, err.message);
    cr_assert_eq(got, want, "\"%s\": got %llu, want %llu", s, (unsigned long long)got,
                 (unsigned long long)want);
}

static void rejects(const char *s, int want_rc)
{
    uint64_t got = 777;
    svk_error err;
    int rc = svk_parse_bytes(s, strlen(s), &got, &err);
    cr_assert_eq(rc, want_rc, "\"%s\": got %s", s, svk_errname(rc));
    cr_assert_eq(got, 777, "\"%s\": out changed on failure", s);
    cr_assert_neq(err.message[0], '\0');
}

Test(bytes, plain_and_units)
{
    accepts("0", 0);
    accepts("42", 42);
    accepts("42b", 42);
    accepts("42 B", 42);
    accepts("42MB", 42000000);
    accepts("42 MiB", 42 * 1048576);
    accepts("42 mib", 42 * 1048576);
    accepts("4.2 kB", 4200);
    accepts("1kib", 1024);
    accepts("1 KiB", 1024);
    accepts("1GB", 1000000000);
    accepts("1GiB", UINT64_C(1) << 30);
    accepts("1TB", UINT64_C(1000000000000));
    accepts("1TiB", UINT64_C(1) << 40);
    accepts("1PB", UINT64_C(1000000000000000));
    accepts("1PiB", UINT64_C(1) << 50);
    accepts("1EB", UINT64_C(1000000000000000000));
    accepts("1EiB", UINT64_C(1) << 60);
}

Test(bytes, go_quirks)
{
    accepts("1k", 1000);          /* unit letter alone */
    accepts("1Ki", 1024);
    accepts("1e", UINT64_C(1000000000000000000)); /* "e" is exa, not an exponent */
    accepts("1,024", 1024);       /* commas dropped */
    accepts("1,,0,2,4", 1024);
    accepts("1.5", 1);            /* truncated toward zero */
    accepts("0.4kB", 400);
    accepts(".5k", 500);
    accepts("5.", 5);
    accepts("1MB  ", 1000000);    /* trailing white space trimmed */
    accepts("1\tMB\n", 1000000);
    accepts("1\xc2\xa0MB", 1000000);        /* U+00A0 is Unicode white space */
    accepts("1\xe3\x80\x80kb\xe3\x80\x80", 1000); /* U+3000 */
    accepts("1\xe2\x84\xaa" "B", 1000);     /* U+212A KELVIN SIGN lowercases to k */
    accepts("1K\xc4\xb0" "B", 1024);        /* U+0130 lowercases to i */
    accepts("18446744073709549568", UINT64_C(18446744073709549568));
    accepts("15.99 EiB", UINT64_C(18435214858663483392)); /* float64 product */
}

Test(bytes, invalid_forms)
{
    rejects("", SVK_EINVAL);                   /* empty */
    rejects("MB", SVK_EINVAL);
    rejects(".", SVK_EINVAL);
    rejects("abc", SVK_EINVAL);                /* junk */
    rejects("1.2.3", SVK_EINVAL);
    rejects("-1", SVK_EINVAL);                 /* negative */
    rejects("+1", SVK_EINVAL);
    rejects(" 1", SVK_EINVAL);                 /* leading space */
    rejects("1 ZB", SVK_EINVAL);               /* wrong unit */
    rejects("1YiB", SVK_EINVAL);
    rejects("1 bytes", SVK_EINVAL);
    rejects("1e3", SVK_EINVAL);
    rejects("1MBx", SVK_EINVAL);               /* trailing garbage */
    rejects("1 M B", SVK_EINVAL);
    rejects("1\xd9\xa3", SVK_EINVAL);          /* a non-ASCII digit */
    rejects("16EiB", SVK_ERANGE);              /* overflow: 2^64 */
    rejects("18446744073709551615", SVK_ERANGE); /* rounds to 2^64 in float64 */
    rejects("18.446744073709551616EB", SVK_ERANGE);
    rejects("99999999999999999999999", SVK_ERANGE);
}

Test(bytes, long_numbers_round_like_go)
{
    char big[1200];
    memset(big, '0', sizeof big);
    big[0] = '0';
    big[1] = '.';
    big[sizeof big - 3] = '1';
    big[sizeof big - 2] = 'E';
    big[sizeof big - 1] = '\0';
    accepts(big, 0);                 /* tiny: underflows to 0 */
    memset(big, '9', 500);
    strcpy(big + 500, "B");
    rejects(big, SVK_ERANGE);        /* 500 digits */
    memset(big, '0', 1000);
    strcpy(big + 1000, "1,5");
    accepts(big, 15);                /* leading zeros */
}

Test(bytes, bad_arguments)
{
    uint64_t v;
    cr_assert_eq(svk_parse_bytes(NULL, 1, &v, NULL), SVK_EINVAL);
    cr_assert_eq(svk_parse_bytes("1", 1, NULL, NULL), SVK_EINVAL);
    cr_assert_eq(svk_parse_bytes("12MBjunk", 4, &v, NULL), 0);
    cr_assert_eq(v, 12000000);
}
