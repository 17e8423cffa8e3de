/*
 * bytesize.c — svk_parse_bytes: go-humanize's ParseBytes (v1.0.0), quirks and all.
 *
 * Go's algorithm: take the leading run of [0-9.,], drop the commas, parse the
 * rest with strconv.ParseFloat; trim the remainder with strings.TrimSpace
 * (Unicode white space), lowercase it with strings.ToLower and look it up in
 * a unit table; multiply in float64, reject >= 2^64, truncate. We do the same:
 *
 *  - The number is only ever [0-9]*(\.[0-9]*)?, so it is rewritten without a
 *    decimal point ("DIGITSe-N", at most 780 significant digits plus a sticky
 *    '1' when nonzero digits were cut, which keeps the rounding exact) and
 *    handed to strtod, which, like ParseFloat, rounds correctly. Without a
 *    decimal point the locale cannot change the result.
 *  - A non-ASCII Unicode digit right after the number makes Go fail; here it
 *    fails the unit lookup instead: same answer, no digit tables.
 *  - ToLower can only turn two non-ASCII code points into table letters:
 *    U+0130 (to 'i') and U+212A KELVIN SIGN (to 'k'). Everything else
 *    non-ASCII stays non-ASCII and so matches no unit.
 */
#include "svckit/config.h"
#include "core/error_detail.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_SIG_DIGITS 780  /* > 767, the most a float64 halfway point needs */
#define MAX_INT_DIGITS 400  /* 10^400 overflows float64 whatever follows */
#define MAX_UNIT_LEN 3      /* "kib" */
#define TWO64 18446744073709551616.0

/* Unicode White_Space as Go's unicode.IsSpace sees it, UTF-8 encoded. */
static const char *const spaces[] = {
    "\t", "\n", "\v", "\f", "\r", " ", "\xc2\x85", "\xc2\xa0", "\xe1\x9a\x80",
    "\xe2\x80\x80", "\xe2\x80\x81", "\xe2\x80\x82", "\xe2\x80\x83", "\xe2\x80\x84",
    "\xe2\x80\x85", "\xe2\x80\x86", "\xe2\x80\x87", "\xe2\x80\x88", "\xe2\x80\x89",
    "\xe2\x80\x8a", "\xe2\x80\xa8", "\xe2\x80\xa9", "\xe2\x80\xaf", "\xe2\x81\x9f",
    "\xe3\x80\x80",
};
#define NSPACES (sizeof spaces / sizeof spaces[0])

static const struct {
    const char *name;
    uint64_t mult;
} units[] = {
    {"", 1}, {"b", 1},
    {"k", UINT64_C(1000)}, {"kb", UINT64_C(1000)},
    {"ki", UINT64_C(1) << 10}, {"kib", UINT64_C(1) << 10},
    {"m", UINT64_C(1000000)}, {"mb", UINT64_C(1000000)},
    {"mi", UINT64_C(1) << 20}, {"mib", UINT64_C(1) << 20},
    {"g", UINT64_C(1000000000)}, {"gb", UINT64_C(1000000000)},
    {"gi", UINT64_C(1) << 30}, {"gib", UINT64_C(1) << 30},
    {"t", UINT64_C(1000000000000)}, {"tb", UINT64_C(1000000000000)},
    {"ti", UINT64_C(1) << 40}, {"tib", UINT64_C(1) << 40},
    {"p", UINT64_C(1000000000000000)}, {"pb", UINT64_C(1000000000000000)},
    {"pi", UINT64_C(1) << 50}, {"pib", UINT64_C(1) << 50},
    {"e", UINT64_C(1000000000000000000)}, {"eb", UINT64_C(1000000000000000000)},
    {"ei", UINT64_C(1) << 60}, {"eib", UINT64_C(1) << 60},
};

static int is_digit(char c) { return c >= '0' && c <= '9'; }

/* Length of the white space encoded at s (forward) or ending at end (back). */
static size_t space_at(const char *s, const char *end, int backward)
{
    for (size_t i = 0; i < NSPACES; i++) {
        size_t n = strlen(spaces[i]);
        if ((size_t)(end - s) < n)
            continue;
        if (memcmp(backward ? end - n : s, spaces[i], n) == 0)
            return n;
    }
    return 0;
}

/* Lowercase [s, end) as strings.ToLower would; -1 unless it can be a unit. */
static int lower_unit(const char *s, const char *end, char *out)
{
    size_t n = 0;
    while (s < end) {
        char c;
        if ((unsigned char)*s < 0x80) {
            c = *s >= 'A' && *s <= 'Z' ? (char)(*s - 'A' + 'a') : *s;
            s++;
        } else if (end - s >= 2 && memcmp(s, "\xc4\xb0", 2) == 0) {
            c = 'i';
            s += 2;
        } else if (end - s >= 3 && memcmp(s, "\xe2\x84\xaa", 3) == 0) {
            c = 'k';
            s += 3;
        } else {
            return -1;
        }
        if (n == MAX_UNIT_LEN)
            return -1;
        out[n++] = c;
    }
    out[n] = '\0';
    return 0;
}

static int unit_multiplier(const char *s, const char *end, uint64_t *mult)
{
    while (s < end) {
        size_t n = space_at(s, end, 0);
        if (n == 0)
            break;
        s += n;
    }
    while (end > s) {
        size_t n = space_at(s, end, 1);
        if (n == 0)
            break;
        end -= n;
    }
    char name[MAX_UNIT_LEN + 1];
    if (lower_unit(s, end, name) != 0)
        return -1;
    for (size_t i = 0; i < sizeof units / sizeof units[0]; i++) {
        if (strcmp(units[i].name, name) == 0) {
            *mult = units[i].mult;
            return 0;
        }
    }
    return -1;
}

/*
 * Significant digits of [s, end) ([0-9.,]) into digits, as 0.DIGITS x 10^*point.
 * Returns the digit count, or -1 if the text is not [0-9]*(\.[0-9]*)? with a
 * digit once commas are dropped. *cut is set when nonzero digits were dropped.
 */
static long significant_digits(const char *s, const char *end, char *digits,
                               long *point, int *cut)
{
    long n = 0, int_digits = 0, lead_zeros = 0;
    int dot = 0, any = 0;
    *cut = 0;
    for (; s < end; s++) {
        if (*s == ',')
            continue;
        if (*s == '.') {
            if (dot++)
                return -1;
            continue;
        }
        any = 1;
        if (n == 0 && *s == '0') {
            lead_zeros += dot && lead_zeros < MAX_INT_DIGITS * 2;
            continue;
        }
        if (!dot)
            int_digits += int_digits <= MAX_INT_DIGITS;
        if (n < MAX_SIG_DIGITS)
            digits[n++] = *s;
        else if (*s != '0')
            *cut = 1;
    }
    if (!any)
        return -1;
    *point = int_digits > 0 ? int_digits : -lead_zeros;
    return n;
}

/* ParseFloat of the number part: 0, SVK_EINVAL or SVK_ERANGE (infinite). */
static int parse_number(const char *s, const char *end, double *value)
{
    char buf[MAX_SIG_DIGITS + 16];
    long point = 0;
    int cut = 0;
    long n = significant_digits(s, end, buf, &point, &cut);
    if (n < 0)
        return SVK_EINVAL;
    if (point > MAX_INT_DIGITS)
        return SVK_ERANGE;
    if (n == 0 || point < -MAX_INT_DIGITS) {
        *value = 0; /* zero, or below the smallest subnormal */
        return 0;
    }
    if (cut)
        buf[n++] = '1';
    snprintf(buf + n, sizeof buf - (size_t)n, "e%ld", point - n);
    *value = strtod(buf, NULL);
    return isinf(*value) ? SVK_ERANGE : 0;
}

SVK_API int svk_parse_bytes(const char *s, size_t len, uint64_t *out, svk_error *err)
{
    if ((s == NULL && len > 0) || out == NULL)
        return svk__error_set(err, SVK_EINVAL, "invalid size: NULL argument");
    const char *end = s + len;
    const char *num_end = s;
    while (num_end < end && (is_digit(*num_end) || *num_end == '.' || *num_end == ','))
        num_end++;
    double f;
    int rc = parse_number(s, num_end, &f);
    if (rc == SVK_ERANGE)
        return svk__error_set(err, rc, "invalid size: number too large");
    if (rc != 0)
        return svk__error_set(err, rc, "invalid size: expected a number like 42, 1.5 or 1,024");
    uint64_t mult;
    if (unit_multiplier(num_end, end, &mult) != 0)
        return svk__error_set(err, SVK_EINVAL,
                              "invalid size: unknown unit (use B, kB..EB or KiB..EiB)");
    f *= (double)mult;
    if (f >= TWO64)
        return svk__error_set(err, SVK_ERANGE, "invalid size: 2^64 bytes or more");
    *out = (uint64_t)f;
    return 0;
}
