/*
 * error_detail.h — internal: fill an optional svk_error on a failure path.
 */
#ifndef SVK_CORE_ERROR_DETAIL_H
#define SVK_CORE_ERROR_DETAIL_H

#include "svckit/core.h"

/*
 * Fill err (if not NULL) with code and a formatted message, truncated to fit.
 * Returns code, so a failure path reads: return svk__error_set(err, ...).
 */
int svk__error_set(svk_error *err, int code, const char *fmt, ...) SVK_PRINTF(3, 4);

#endif
