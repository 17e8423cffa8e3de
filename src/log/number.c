/*
 * number.c — integers, floats and Go durations as log text.
 *
 * Floats must be short and exact (the shortest decimal that reads back to
 * the same double) yet cheap: snprintf("%.17g") costs ~150 ns and prints
 * 0.1 as 0.10000000000000001. Most logged floats have few decimals, so the
 * fast path tries k = 0, 1, 2, ... decimals: m = round(v * 10^k) is exact
 * below 2^53 and so is 10^k, hence m / 10^k is the correctly rounded value
 * of the decimal "m e-k", the same double strtod would read; the first k
 * that gives back v is the shortest fixed form. Anything else (values with
 * many digits, tiny or huge ones) goes to shortest.c, then is laid out in
 * Go's style here.
 */
#include "log/number.h"
#include "log/shortest.h"

#include <math.h>
#include <string.h>

static const char digit_pairs[] =
    "00010203040506070809101112131415161718192021222324252627282930313233343536373839"
    "40414243444546474849505152535455565758596061626364656667686970717273747576777879"
    "8081828384858687888990919293949596979899";

static const double pow10_exact[] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                     1e8,  1e9,  1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
                                     1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};

/* Below 2^50, v * 10^k is within 1/8 of its exact value and the exact value
 * within 1/8 of the nearest decimal that reads back, so rounding it finds
 * that decimal at the smallest k: the fast path is shortest, not just exact. */
#define FAST_LIMIT 1125899906842624.0
#define FAST_MAX_DECIMALS 8 /* beyond, the exact path of shortest.c is cheaper */

static int decimal_length(uint64_t v)
{
    int n = 1;
    for (; v >= 10000; v /= 10000)
        n += 4;
    return n + (v >= 10) + (v >= 100) + (v >= 1000);
}

/* Digits written backwards, two at a time, straight into place. */
char *svk__put_u64(char *p, uint64_t v)
{
    char *end = p + decimal_length(v), *q = end;
    while (v >= 100) {
        q -= 2;
        memcpy(q, digit_pairs + (v % 100) * 2, 2);
        v /= 100;
    }
    if (v >= 10) {
        q -= 2;
        memcpy(q, digit_pairs + v * 2, 2);
    } else {
        *--q = (char)('0' + v);
    }
    return end;
}

char *svk__put_i64(char *p, int64_t v)
{
    if (v >= 0)
        return svk__put_u64(p, (uint64_t)v);
    *p++ = '-';
    return svk__put_u64(p, 0 - (uint64_t)v); /* INT64_MIN has no positive twin */
}

/* The fewest decimals k such that round(v * 10^k) / 10^k == v, if any. */
static int fast_decimal(double v, uint64_t *mantissa, int *decimals)
{
    for (int k = 0; k <= FAST_MAX_DECIMALS; k++) {
        double scaled = v * pow10_exact[k];
        if (scaled >= FAST_LIMIT)
            return 0;
        uint64_t m = (uint64_t)(scaled + 0.5);
        if ((double)m / pow10_exact[k] == v) {
            *mantissa = m;
            *decimals = k;
            return 1;
        }
    }
    return 0;
}

static char *put_zeros(char *p, int n)
{
    for (int i = 0; i < n; i++)
        *p++ = '0';
    return p;
}

/* The decimal m * 10^-k in plain notation. */
static char *put_fixed(char *p, uint64_t m, int k)
{
    while (k > 0 && m % 10 == 0) {
        m /= 10;
        k--;
    }
    char digits[20];
    int nd = (int)(svk__put_u64(digits, m) - digits);
    if (k == 0) {
        memcpy(p, digits, (size_t)nd);
        return p + nd;
    }
    if (nd > k) {
        memcpy(p, digits, (size_t)(nd - k));
        p += nd - k;
        *p++ = '.';
        memcpy(p, digits + nd - k, (size_t)k);
        return p + k;
    }
    memcpy(p, "0.", 2);
    p = put_zeros(p + 2, k - nd);
    memcpy(p, digits, (size_t)nd);
    return p + nd;
}

/* d[0].d[1..nd) x 10^e in Go's exponent form: "1e+21", "1.5e-7". */
static char *put_exponent(char *p, const char *d, int nd, int e)
{
    *p++ = d[0];
    if (nd > 1) {
        *p++ = '.';
        memcpy(p, d + 1, (size_t)(nd - 1));
        p += nd - 1;
    }
    *p++ = 'e';
    *p++ = e < 0 ? '-' : '+';
    unsigned ue = (unsigned)(e < 0 ? -e : e);
    if (e >= 0 && ue < 10)
        *p++ = '0'; /* Go pads positive exponents to two digits... */
    return svk__put_u64(p, ue); /* ...and encoding/json trims "e-07" to "e-7" */
}

/* d[0].d[1..nd) x 10^e, plain, for 1e-6 <= value < 1e21. */
static char *put_plain(char *p, const char *d, int nd, int e)
{
    if (e < 0) {
        memcpy(p, "0.", 2);
        p = put_zeros(p + 2, -e - 1);
        memcpy(p, d, (size_t)nd);
        return p + nd;
    }
    int whole = e + 1;
    int copied = nd < whole ? nd : whole;
    memcpy(p, d, (size_t)copied);
    p = put_zeros(p + copied, whole - copied);
    if (nd > whole) {
        *p++ = '.';
        memcpy(p, d + whole, (size_t)(nd - whole));
        p += nd - whole;
    }
    return p;
}

char *svk__put_f64(char *p, double v)
{
    if (signbit(v)) {
        *p++ = '-';
        v = -v;
    }
    if (v == 0) {
        *p++ = '0';
        return p;
    }
    uint64_t m;
    int k;
    if (v >= 1e-6 && fast_decimal(v, &m, &k))
        return put_fixed(p, m, k);
    char d[20];
    int e;
    int nd = svk__shortest_digits(v, d, &e);
    if (v < 1e-6 || v >= 1e21)
        return put_exponent(p, d, nd, e);
    return put_plain(p, d, nd, e);
}

/* Go's fmtFrac: v's last prec digits as a fraction, trailing zeros (and the
 * point) omitted; writes backwards ending at end, returns v without them. */
static uint64_t put_fraction_back(char **end, uint64_t v, int prec)
{
    char *w = *end;
    int print = 0;
    for (int i = 0; i < prec; i++) {
        unsigned digit = (unsigned)(v % 10);
        print = print || digit != 0;
        if (print)
            *--w = (char)('0' + digit);
        v /= 10;
    }
    if (print)
        *--w = '.';
    *end = w;
    return v;
}

static char *put_int_back(char *w, uint64_t v)
{
    do {
        *--w = (char)('0' + v % 10);
        v /= 10;
    } while (v > 0);
    return w;
}

/* Below one second: "0s", "15ns", "1.5µs", "250ms". */
static char *put_subsecond_back(char *w, uint64_t u)
{
    *--w = 's';
    if (u < 1000) {
        *--w = 'n';
        return put_int_back(w, u);
    }
    if (u < 1000000) {
        w -= 2;
        memcpy(w, "\xC2\xB5", 2); /* U+00B5 MICRO SIGN, as Go prints it */
        u = put_fraction_back(&w, u, 3);
        return put_int_back(w, u);
    }
    *--w = 'm';
    u = put_fraction_back(&w, u, 6);
    return put_int_back(w, u);
}

char *svk__put_go_duration(char *p, int64_t ns)
{
    if (ns == 0) {
        memcpy(p, "0s", 2);
        return p + 2;
    }
    char buf[32];
    char *end = buf + sizeof buf, *w = end;
    uint64_t u = ns < 0 ? 0 - (uint64_t)ns : (uint64_t)ns;
    if (u < 1000000000) {
        w = put_subsecond_back(w, u);
    } else {
        *--w = 's';
        u = put_fraction_back(&w, u, 9);
        w = put_int_back(w, u % 60);
        u /= 60;
        if (u > 0) {
            *--w = 'm';
            w = put_int_back(w, u % 60);
            u /= 60;
            if (u > 0) {
                *--w = 'h';
                w = put_int_back(w, u);
            }
        }
    }
    if (ns < 0)
        *--w = '-';
    memcpy(p, w, (size_t)(end - w));
    return p + (end - w);
}
