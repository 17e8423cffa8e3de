/* uuid_test.c — UUIDv7 layout, ordering, format/parse round trip, rejection. */
#include <criterion/criterion.h>
#include <string.h>

#include "svckit/core.h"

Test(uuid, layout_is_rfc9562_v7)
{
    svk_uuid u;
    int64_t before = svk_clock_wall_ns() / 1000000;
    cr_assert_eq(svk_uuid_v7(&u), 0);
    int64_t after = svk_clock_wall_ns() / 1000000;
    cr_assert_eq(u.bytes[6] >> 4, 7, "version nibble");
    cr_assert_eq(u.bytes[8] & 0xc0, 0x80, "variant bits");
    int64_t ms = svk_uuid_v7_unix_ms(&u);
    cr_assert(ms >= before && ms <= after + 1, "timestamp %lld not in [%lld,%lld]",
              (long long)ms, (long long)before, (long long)after);
}

Test(uuid, strictly_increasing_within_a_millisecond)
{
    enum { N = 200000 };
    static svk_uuid ids[N];
    for (int i = 0; i < N; i++)
        cr_assert_eq(svk_uuid_v7(&ids[i]), 0);
    int same_ms_pairs = 0;
    for (int i = 1; i < N; i++) {
        cr_assert_lt(svk_uuid_compare(&ids[i - 1], &ids[i]), 0, "id %d not after id %d", i,
                     i - 1);
        same_ms_pairs += svk_uuid_v7_unix_ms(&ids[i]) == svk_uuid_v7_unix_ms(&ids[i - 1]);
    }
    /* The test only means something if many ids shared a millisecond. */
    cr_assert_gt(same_ms_pairs, N / 2);
}

Test(uuid, null_output_is_einval)
{
    cr_assert_eq(svk_uuid_v7(NULL), SVK_EINVAL);
}

Test(uuid, format_then_parse_round_trips)
{
    for (int i = 0; i < 1000; i++) {
        svk_uuid u, back;
        char text[SVK_UUID_STRLEN + 1];
        cr_assert_eq(svk_uuid_v7(&u), 0);
        svk_uuid_format(&u, text);
        cr_assert_eq(strlen(text), SVK_UUID_STRLEN);
        cr_assert_eq(text[14], '7');
        cr_assert_eq(svk_uuid_parse(text, strlen(text), &back, NULL), 0);
        cr_assert_eq(svk_uuid_compare(&u, &back), 0);
    }
}

Test(uuid, parse_known_value_in_either_case)
{
    /* The RFC 9562 Appendix A.6 example UUIDv7. */
    const char *lower = "017f22e2-79b0-7cc3-98c4-dc0c0c07398f";
    const char *upper = "017F22E2-79B0-7CC3-98C4-DC0C0C07398F";
    svk_uuid a, b;
    cr_assert_eq(svk_uuid_parse(lower, 36, &a, NULL), 0);
    cr_assert_eq(svk_uuid_parse(upper, 36, &b, NULL), 0);
    cr_assert_eq(svk_uuid_compare(&a, &b), 0);
    cr_assert_eq(svk_uuid_v7_unix_ms(&a), 0x017F22E279B0);
    char text[SVK_UUID_STRLEN + 1];
    svk_uuid_format(&a, text);
    cr_assert_str_eq(text, lower);
}

Test(uuid, parse_needs_no_terminator)
{
    char text[40] = "017f22e2-79b0-7cc3-98c4-dc0c0c07398fXYZ";
    svk_uuid u;
    cr_assert_eq(svk_uuid_parse(text, 36, &u, NULL), 0);
}

static void expect_rejected(const char *s, size_t len, const char *why)
{
    svk_uuid u;
    memset(&u, 0xAB, sizeof u);
    svk_error err;
    svk_error_clear(&err);
    cr_assert_eq(svk_uuid_parse(s, len, &u, &err), SVK_EINVAL, "accepted %s: %.*s", why,
                 (int)len, s);
    cr_assert_eq(err.code, SVK_EINVAL);
    cr_assert_neq(err.message[0], '\0', "no detail for %s", why);
    for (size_t i = 0; i < sizeof u.bytes; i++)
        cr_assert_eq(u.bytes[i], 0xAB, "output touched for %s", why);
}

Test(uuid, malformed_strings_are_rejected)
{
    struct {
        const char *s;
        const char *why;
    } cases[] = {
        {"", "empty"},
        {"017f22e2-79b0-7cc3-98c4-dc0c0c07398", "too short"},
        {"017f22e2-79b0-7cc3-98c4-dc0c0c07398f0", "too long"},
        {"017f22e279b07cc398c4dc0c0c07398f", "no hyphens"},
        {"{017f22e2-79b0-7cc3-98c4-dc0c0c0739}", "braces"},
        {"017f22e2x79b0-7cc3-98c4-dc0c0c07398f", "bad separator"},
        {"017f22e-279b0-7cc3-98c4-dc0c0c07398f", "misplaced hyphen"},
        {"017f22g2-79b0-7cc3-98c4-dc0c0c07398f", "non-hex g"},
        {"017f22e2-79b0-7cc3-98c4-dc0c0c07398 ", "trailing space"},
        {" 17f22e2-79b0-7cc3-98c4-dc0c0c07398f", "leading space"},
        {"017f22e2-79b0-7cc3-98c4-dc0c0c0739-f", "hyphen for hex"},
        {"017f22e2-79b0-4cc3-98c4-dc0c0c07398f", "version 4"},
        {"017f22e2-79b0-1cc3-98c4-dc0c0c07398f", "version 1"},
        {"017f22e2-79b0-8cc3-98c4-dc0c0c07398f", "version 8"},
        {"017f22e2-79b0-7cc3-08c4-dc0c0c07398f", "NCS variant"},
        {"017f22e2-79b0-7cc3-c8c4-dc0c0c07398f", "Microsoft variant"},
        {"017f22e2-79b0-7cc3-f8c4-dc0c0c07398f", "reserved variant"},
        {"00000000-0000-0000-0000-000000000000", "nil uuid"},
        {"ffffffff-ffff-ffff-ffff-ffffffffffff", "max uuid"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        expect_rejected(cases[i].s, strlen(cases[i].s), cases[i].why);

    char with_nul[37] = "017f22e2-79b0-7cc3-98c4-dc0c0c07398f";
    with_nul[20] = '\0';
    expect_rejected(with_nul, 36, "embedded NUL");
    svk_uuid u;
    cr_assert_eq(svk_uuid_parse(NULL, 36, &u, NULL), SVK_EINVAL);
    cr_assert_eq(svk_uuid_parse(with_nul, 36, NULL, NULL), SVK_EINVAL);
}
