/*
 * attr.c — attribute values that read the same in both formats: floats,
 * and the text of an error attribute, "SVK_EIO: input/output error" (the
 * code's name so that logs can be grepped, its description so that they
 * can be read).
 */
#include "log/handler.h"
#include "log/number.h"

#include <math.h>
#include <string.h>

size_t svk__error_text(char *tmp, size_t size, int64_t code)
{
    int known = code >= INT32_MIN && code <= 0 && strcmp(svk_errname((int)code), "SVK_E?") != 0;
    const char *name = known ? svk_errname((int)code) : "SVK_E?";
    const char *what = known ? svk_strerror((int)code) : "unknown error";
    size_t nlen = strlen(name), wlen = strlen(what);
    if (size < nlen + wlen + SVK__NUMBER_MAX + 4)
        return 0;
    char *p = tmp;
    memcpy(p, name, nlen);
    p += nlen;
    if (!known) {
        *p++ = ' ';
        p = svk__put_i64(p, code);
    }
    memcpy(p, ": ", 2);
    memcpy(p + 2, what, wlen);
    return (size_t)(p + 2 + wlen - tmp);
}

int svk__put_float(svk_buf *b, double v, int quoted)
{
    const char *special = isnan(v) ? "NaN" : isinf(v) ? (v > 0 ? "+Inf" : "-Inf") : NULL;
    int rc = svk__room(b, SVK__NUMBER_MAX);
    if (rc != 0)
        return rc;
    char *p = svk__end(b);
    if (special == NULL) {
        p = svk__put_f64(p, v);
    } else {
        size_t n = strlen(special);
        if (quoted)
            *p++ = '"';
        memcpy(p, special, n);
        p += n;
        if (quoted)
            *p++ = '"';
    }
    svk__commit(b, p);
    return 0;
}
