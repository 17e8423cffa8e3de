/*
 * shortest.c — the shortest round-trip decimal of a double, exactly.
 *
 * For 1e-6 <= v < 1e21 (the range Go's encoding/json prints in plain
 * notation, so nearly every logged value) it works in 128-bit integers:
 * v = m x 2^e, and the doubles' rounding interval around v, scaled by
 * 10^k = 5^k 2^k with k <= 23 (or not at all when v is a large integer),
 * fits in 109 bits and is wide enough to hold integer candidates. The
 * interval's bounds are exact rationals over a power of two, so the integer
 * candidates inside it are known exactly, including whether a bound itself
 * reads back to v (round-half-even: only when m is even). Then the largest
 * power of ten j with a multiple inside the interval gives the shortest
 * digits, and of those multiples the one nearest v is taken (as Go does).
 * Outside that range (tiny and huge values, rare in logs) %.{p}e is tried
 * with p = 15, 16, 17 significant digits (1 up for subnormals).
 */
#include "log/shortest.h"
#include "log/number.h"

#include <float.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

__extension__ typedef unsigned __int128 u128;

static u128 pow5(int k)
{
    u128 p = 1;
    for (int i = 0; i < k; i++)
        p *= 5;
    return p;
}

/*
 * The k for v = m 2^e: just enough decimal digits that the interval, 2^e
 * 10^k scaled units wide, is >= 10 units (so every shortest candidate is an
 * integer) but not much more (each extra digit costs a 128-bit division
 * later). 78913 / 2^18 is log10(2) rounded down. For e >= -73 (v >= 1e-6),
 * k <= 23, so (4m + 2) 5^k < 2^55 2^54 fits, and t = 2 - e - k >= 0.
 */
static int scale_digits(int e)
{
    if (e >= 2)
        return 0; /* v is an integer: no scaling */
    if (e >= 0)
        return 2 - e;
    return 2 + (int)(((uint64_t)-e * 78913) >> 18);
}

/* Largest j with a multiple of 10^j in [lo, hi] (not empty), found from
 * the width upwards; lo and hi come back divided (ceil, floor) by 10^j. */
static int largest_power(u128 *lo, u128 *hi, u128 *pow)
{
    int j = 0;
    *pow = 1;
    for (u128 width = *hi - *lo; width >= 10; width /= 10) {
        *lo = (*lo + 9) / 10;
        *hi /= 10;
        *pow *= 10;
        j++;
    }
    while (*lo <= *hi) {
        u128 lo_next = (*lo + 9) / 10, hi_next = *hi / 10;
        if (lo_next > hi_next)
            break;
        *lo = lo_next;
        *hi = hi_next;
        *pow *= 10;
        j++;
    }
    return j;
}

/* round((whole + frac / 2^t) / pow), ties to even (as Go and printf do):
 * with r = whole % pow and f = frac / 2^t in [0, 1), up iff 2(r + f) > pow,
 * or == pow and the quotient is odd. */
static u128 round_scaled(u128 whole, u128 frac, int t, u128 pow)
{
    u128 c = whole / pow, twice = 2 * (whole % pow);
    u128 half = t > 0 ? (u128)1 << (t - 1) : 0; /* f == 1/2 */
    int cmp; /* 2(r + f) against pow */
    if (twice > pow)
        cmp = 1;
    else if (twice == pow)
        cmp = frac > 0;
    else if (twice + 1 == pow && t > 0)
        cmp = frac > half ? 1 : frac == half ? 0 : -1;
    else
        cmp = -1;
    return c + (cmp > 0 || (cmp == 0 && (c & 1)) ? 1 : 0);
}

/* c x 10^(j-k) as digits without trailing zeros and the exponent of the
 * first one. */
static int digits_of(uint64_t c, char d[20], int *exp10, int j, int k)
{
    int n = (int)(svk__put_u64(d, c) - d);
    *exp10 = n - 1 + j - k;
    while (n > 1 && d[n - 1] == '0')
        n--;
    return n;
}

/* Exact path, 1e-6 <= v < 1e21. */
static int exact_shortest(double v, char d[20], int *exp10)
{
    uint64_t bits;
    memcpy(&bits, &v, sizeof bits);
    uint64_t m = (bits & ((UINT64_C(1) << 52) - 1)) | (UINT64_C(1) << 52);
    int e = (int)((bits >> 52) & 0x7ff) - 1075; /* v = m x 2^e */
    int closer_below = (bits & ((UINT64_C(1) << 52) - 1)) == 0;
    /* In quarter units of 2^e: v = 4m, bounds 4m-2 (4m-1 below a power of
     * two, where the gap below is half) and 4m+2. */
    u128 lo = 4 * (u128)m - (closer_below ? 1 : 2), hi = 4 * (u128)m + 2, val = 4 * (u128)m;
    /* Scale by 10^k = 5^k 2^k: multiply by 5^k, shift right by t. */
    int k = scale_digits(e), t = e >= 2 ? 0 : 2 - e - k;
    u128 scale = e >= 2 ? (u128)1 << (e - 2) : pow5(k);
    lo *= scale;
    hi *= scale;
    val *= scale;
    u128 mask = t > 0 ? ((u128)1 << t) - 1 : 0;
    int even = (m & 1) == 0;
    u128 low = (lo >> t) + ((lo & mask) != 0 || !even);
    u128 high = (hi >> t) - ((hi & mask) == 0 && !even);
    u128 pow;
    int j = largest_power(&low, &high, &pow);
    u128 c = round_scaled(val >> t, val & mask, t, pow);
    c = c < low ? low : c > high ? high : c;
    return digits_of((uint64_t)c, d, exp10, j, k);
}

/* Fallback for tiny and huge values: the fewest of 15, 16, 17 digits
 * (from 1 for subnormals) that read back; correct for normal doubles since
 * a shortest form of <= 15 digits is also the correctly rounded 15-digit
 * one (it lies within 2^-53 of v, inside half the 10^-15 spacing). */
static int printf_shortest(double v, char d[20], int *exp10)
{
    char tmp[48];
    for (int prec = v < DBL_MIN ? 1 : 15; prec <= 17; prec++) {
        snprintf(tmp, sizeof tmp, "%.*e", prec - 1, v);
        if (prec == 17 || strtod(tmp, NULL) == v)
            break;
    }
    /* Only digits and the exponent are read: the decimal point may be a
     * locale's comma, which strtod above accepted the same way. */
    int nd = 0;
    const char *q = tmp;
    for (; *q != '\0' && *q != 'e'; q++)
        if (*q >= '0' && *q <= '9' && nd < 20)
            d[nd++] = *q;
    *exp10 = *q == 'e' ? atoi(q + 1) : 0;
    while (nd > 1 && d[nd - 1] == '0')
        nd--;
    return nd;
}

int svk__shortest_digits(double v, char d[20], int *exp10)
{
    if (v >= 1e-6 && v < 1e21)
        return exact_shortest(v, d, exp10);
    return printf_shortest(v, d, exp10);
}
