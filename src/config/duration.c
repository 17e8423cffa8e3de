/*
 * duration.c — svk_parse_duration: Go 1.19's time.ParseDuration, step for step.
 *
 * Operators paste Go durations, so "same accept/reject, same value" is the
 * contract, checked against Go itself by tests/config/go_crosscheck. The code
 * therefore follows Go's algorithm rather than a cleaner one: the integer part
 * overflows above 2^63, fraction digits past the point where they would
 * overflow are skipped, the fraction is scaled in float64 exactly as Go does
 * (f * (unit / scale), truncated), and the sum may reach 2^63 only when the
 * result is negative. Units are compared as bytes, so both micro signs
 * (U+00B5, U+03BC) are plain UTF-8 byte strings here.
 */
#include "svckit/config.h"
#include "core/error_detail.h"

#include <string.h>

#define TWO63 (UINT64_C(1) << 63)

struct cursor {
    const char *p;
    const char *end;
};

static int is_digit(char c) { return c >= '0' && c <= '9'; }

/* Go's leadingInt: digits into *x; -1 when the value passes 2^63. */
static int leading_int(struct cursor *cur, uint64_t *x)
{
    uint64_t v = 0;
    for (; cur->p < cur->end && is_digit(*cur->p); cur->p++) {
        if (v > TWO63 / 10)
            return -1;
        v = v * 10 + (uint64_t)(*cur->p - '0');
        if (v > TWO63)
            return -1;
    }
    *x = v;
    return 0;
}

/* Go's leadingFraction: digits that still fit are kept, later ones skipped. */
static void leading_fraction(struct cursor *cur, uint64_t *x, double *scale)
{
    uint64_t v = 0;
    double sc = 1;
    int overflow = 0;
    for (; cur->p < cur->end && is_digit(*cur->p); cur->p++) {
        if (overflow)
            continue;
        if (v > (TWO63 - 1) / 10) {
            overflow = 1;
            continue;
        }
        uint64_t y = v * 10 + (uint64_t)(*cur->p - '0');
        if (y > TWO63) {
            overflow = 1;
            continue;
        }
        v = y;
        sc *= 10;
    }
    *x = v;
    *scale = sc;
}

static uint64_t unit_ns(const char *u, size_t n)
{
    static const struct {
        const char *name;
        uint64_t ns;
    } units[] = {
        {"ns", 1},
        {"us", 1000},
        {"\xc2\xb5s", 1000}, /* U+00B5 MICRO SIGN */
        {"\xce\xbcs", 1000}, /* U+03BC GREEK SMALL LETTER MU */
        {"ms", 1000000},
        {"s", UINT64_C(1000000000)},
        {"m", UINT64_C(60000000000)},
        {"h", UINT64_C(3600000000000)},
    };
    for (size_t i = 0; i < sizeof units / sizeof units[0]; i++)
        if (strlen(units[i].name) == n && memcmp(units[i].name, u, n) == 0)
            return units[i].ns;
    return 0;
}

/* One segment "12.5ms" added to *total; 0 or an SVK_E* code with err set. */
static int parse_segment(struct cursor *cur, uint64_t *total, svk_error *err)
{
    if (!(*cur->p == '.' || is_digit(*cur->p)))
        return svk__error_set(err, SVK_EINVAL, "invalid duration: expected a number");
    const char *start = cur->p;
    uint64_t v = 0, f = 0;
    double scale = 1;
    if (leading_int(cur, &v) != 0)
        return svk__error_set(err, SVK_ERANGE, "invalid duration: number too large");
    int pre = cur->p != start;
    int post = 0;
    if (cur->p < cur->end && *cur->p == '.') {
        const char *frac = ++cur->p;
        leading_fraction(cur, &f, &scale);
        post = cur->p != frac;
    }
    if (!pre && !post)
        return svk__error_set(err, SVK_EINVAL, "invalid duration: a dot without digits");
    const char *u = cur->p;
    while (cur->p < cur->end && *cur->p != '.' && !is_digit(*cur->p))
        cur->p++;
    if (cur->p == u)
        return svk__error_set(err, SVK_EINVAL, "invalid duration: missing unit");
    uint64_t unit = unit_ns(u, (size_t)(cur->p - u));
    if (unit == 0)
        return svk__error_set(err, SVK_EINVAL,
                              "invalid duration: unknown unit (use ns, us, ms, s, m, h)");
    if (v > TWO63 / unit)
        return svk__error_set(err, SVK_ERANGE, "invalid duration: overflows int64 nanoseconds");
    v *= unit;
    if (f > 0) {
        /* Go: "float64 is needed to be nanosecond accurate for fractions of hours". */
        v += (uint64_t)((double)f * ((double)unit / scale));
        if (v > TWO63)
            return svk__error_set(err, SVK_ERANGE, "invalid duration: overflows int64 nanoseconds");
    }
    *total += v;
    if (*total > TWO63)
        return svk__error_set(err, SVK_ERANGE, "invalid duration: overflows int64 nanoseconds");
    return 0;
}

SVK_API int svk_parse_duration(const char *s, size_t len, int64_t *ns, svk_error *err)
{
    if ((s == NULL && len > 0) || ns == NULL)
        return svk__error_set(err, SVK_EINVAL, "invalid duration: NULL argument");
    struct cursor cur = {s, s + len};
    int neg = 0;
    if (cur.p < cur.end && (*cur.p == '-' || *cur.p == '+'))
        neg = *cur.p++ == '-';
    if (cur.end - cur.p == 1 && *cur.p == '0') {
        *ns = 0;
        return 0;
    }
    if (cur.p == cur.end)
        return svk__error_set(err, SVK_EINVAL, "invalid duration: empty");
    uint64_t total = 0;
    while (cur.p < cur.end) {
        int rc = parse_segment(&cur, &total, err);
        if (rc != 0)
            return rc;
    }
    if (!neg && total > TWO63 - 1)
        return svk__error_set(err, SVK_ERANGE, "invalid duration: overflows int64 nanoseconds");
    /* total <= 2^63 here: -(2^63) is INT64_MIN, reached without signed overflow. */
    *ns = neg && total > 0 ? -(int64_t)(total - 1) - 1 : (int64_t)total;
    return 0;
}
