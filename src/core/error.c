/*
 * error.c — names and descriptions of SVK_E* codes, and filling svk_error.
 *
 * The tables are indexed by -code, so adding a code means appending one row
 * to each; a static assertion keeps them the same length.
 */
#include "svckit/core.h"
#include "core/error_detail.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static const char *const descriptions[] = {
    "success",
    "invalid argument or input",
    "out of memory",
    "value out of range",
    "not found",
    "already exists",
    "temporarily unavailable, try again",
    "timed out",
    "cancelled",
    "input/output error",
    "closed",
    "limit reached",
    "invalid in the current state",
    "too big",
    "protocol error",
    "dependency unavailable",
    "system call failed",
    "not supported",
    "conflict with existing data",
    "serialization failure, retry the transaction",
    "deadlock detected, retry the transaction",
    "database error",
};

static const char *const names[] = {
    "SVK_OK",       "SVK_EINVAL",    "SVK_ENOMEM", "SVK_ERANGE",  "SVK_ENOENT",
    "SVK_EEXIST",   "SVK_EAGAIN",    "SVK_ETIMEDOUT", "SVK_ECANCELED", "SVK_EIO",
    "SVK_ECLOSED",  "SVK_EBUSY",     "SVK_ESTATE", "SVK_ETOOBIG", "SVK_EPROTO",
    "SVK_EUNAVAIL", "SVK_ESYS",      "SVK_ENOTSUP", "SVK_ECONFLICT", "SVK_ESERIALIZE",
    "SVK_EDEADLOCK", "SVK_EDB",
};

#define NCODES (sizeof descriptions / sizeof descriptions[0])
_Static_assert(sizeof names / sizeof names[0] == NCODES, "one name per description");
_Static_assert(-SVK_EDB == NCODES - 1, "tables end at the last code");

SVK_API const char *svk_strerror(int code)
{
    if (code > 0 || (size_t)-(long)code >= NCODES)
        return "unknown error";
    return descriptions[-code];
}

SVK_API const char *svk_errname(int code)
{
    if (code > 0 || (size_t)-(long)code >= NCODES)
        return "SVK_E?";
    return names[-code];
}

SVK_API void svk_error_clear(svk_error *err)
{
    if (err == NULL)
        return;
    err->code = 0;
    err->message[0] = '\0';
}

int svk__error_set(svk_error *err, int code, const char *fmt, ...)
{
    if (err == NULL)
        return code;
    err->code = code;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(err->message, sizeof err->message, fmt, ap);
    va_end(ap);
    if (n < 0)
        snprintf(err->message, sizeof err->message, "%s", svk_strerror(code));
    return code;
}
