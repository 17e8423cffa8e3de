/*
 * int64.c — svk_parse_int64: a signed decimal integer, strictly.
 *
 * [+-]?[0-9]+ and nothing else: no white space, no hex or octal prefix, no
 * digit separators. The magnitude is accumulated as uint64 so that
 * -9223372036854775808 is reached without signed overflow.
 */
#include "svckit/config.h"
#include "core/error_detail.h"

#define TWO63 (UINT64_C(1) << 63)

SVK_API int svk_parse_int64(const char *s, size_t len, int64_t *out, svk_error *err)
{
    if ((s == NULL && len > 0) || out == NULL)
        return svk__error_set(err, SVK_EINVAL, "invalid integer: NULL argument");
    size_t i = 0;
    int neg = 0;
    if (len > 0 && (s[0] == '-' || s[0] == '+'))
        neg = s[i++] == '-';
    if (i == len)
        return svk__error_set(err, SVK_EINVAL, "invalid integer: no digits");
    uint64_t v = 0;
    for (; i < len; i++) {
        if (s[i] < '0' || s[i] > '9')
            return svk__error_set(err, SVK_EINVAL,
                                  "invalid integer: only an optional sign and digits 0-9");
        unsigned d = (unsigned)(s[i] - '0');
        if (v > (TWO63 - d) / 10)
            v = TWO63 + 1; /* saturate; keep scanning for junk */
        else
            v = v * 10 + d;
    }
    if (v > (neg ? TWO63 : TWO63 - 1))
        return svk__error_set(err, SVK_ERANGE, "invalid integer: outside the int64 range");
    *out = neg && v > 0 ? -(int64_t)(v - 1) - 1 : (int64_t)v;
    return 0;
}
