/*
 * timefmt.h — internal: RFC 3339 timestamps in UTC with milliseconds.
 */
#ifndef SVK_LOG_TIMEFMT_H
#define SVK_LOG_TIMEFMT_H

#include <stdint.h>

/* Length of "2026-11-25T08:28:52.123Z". */
#define SVK__TIME_LEN 24

/*
 * Write unix_ns as "YYYY-MM-DDTHH:MM:SS.mmmZ" (exactly SVK__TIME_LEN bytes,
 * no NUL) at p; return the end. Times before the epoch round down.
 */
char *svk__put_rfc3339_ms(char *p, int64_t unix_ns);

#endif
