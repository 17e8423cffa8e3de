/*
 * timefmt.c — RFC 3339 UTC timestamps with milliseconds, for every line.
 *
 * gmtime_r is slow (it takes a lock for the time zone in glibc) and most
 * lines of a thread fall in the same second as its previous line, so each
 * thread keeps the text of the last second it formatted and only appends
 * the milliseconds. A new second is converted with Howard Hinnant's
 * days-to-civil algorithm (proleptic Gregorian, no tables, no locks).
 */
#include "log/timefmt.h"

#include <string.h>

#define SECONDS_TEXT_LEN 19 /* "YYYY-MM-DDTHH:MM:SS" */

static _Thread_local struct {
    int valid;
    int64_t second;
    char text[SECONDS_TEXT_LEN];
} cache;

static void put2(char *p, unsigned v)
{
    p[0] = (char)('0' + v / 10);
    p[1] = (char)('0' + v % 10);
}

/* Days since 1970-01-01 to year/month/day (Hinnant, "chrono-compatible
 * low-level date algorithms"). */
static void civil_from_days(int64_t z, int64_t *year, unsigned *month, unsigned *day)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    unsigned doe = (unsigned)(z - era * 146097);
    unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    unsigned mp = (5 * doy + 2) / 153;
    *day = doy - (153 * mp + 2) / 5 + 1;
    *month = mp < 10 ? mp + 3 : mp - 9;
    *year = (int64_t)yoe + era * 400 + (*month <= 2);
}

/* int64 nanoseconds span the years 1677..2262, so the year has 4 digits. */
static void format_second(char *p, int64_t second)
{
    int64_t days = second / 86400, rem = second % 86400;
    if (rem < 0) {
        rem += 86400;
        days--;
    }
    int64_t year;
    unsigned month, day;
    civil_from_days(days, &year, &month, &day);
    put2(p, (unsigned)(year / 100));
    put2(p + 2, (unsigned)(year % 100));
    p[4] = '-';
    put2(p + 5, month);
    p[7] = '-';
    put2(p + 8, day);
    p[10] = 'T';
    put2(p + 11, (unsigned)(rem / 3600));
    p[13] = ':';
    put2(p + 14, (unsigned)(rem / 60 % 60));
    p[16] = ':';
    put2(p + 17, (unsigned)(rem % 60));
}

char *svk__put_rfc3339_ms(char *p, int64_t unix_ns)
{
    int64_t second = unix_ns / 1000000000, ns = unix_ns % 1000000000;
    if (ns < 0) {
        ns += 1000000000;
        second--;
    }
    if (!cache.valid || cache.second != second) {
        format_second(cache.text, second);
        cache.second = second;
        cache.valid = 1;
    }
    memcpy(p, cache.text, SECONDS_TEXT_LEN);
    unsigned ms = (unsigned)(ns / 1000000);
    p[19] = '.';
    p[20] = (char)('0' + ms / 100);
    put2(p + 21, ms % 100);
    p[23] = 'Z';
    return p + SVK__TIME_LEN;
}
