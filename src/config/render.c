/*
 * render.c — how config values and bounds are written into messages: quoted
 * and escaped so one value stays on one line, durations and sizes in the
 * largest unit that states them exactly ("90m", "10MiB").
 */
#include "svckit/config.h"
#include "config/field.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

/* Append [s, s+len) escaped; quote adds "..." around it; at most max input
 * bytes are shown, a cut is marked with "...". */
static int append_escaped(svk_buf *b, const char *s, size_t len, size_t max, int quote)
{
    int rc = quote ? svk_buf_append(b, "\"", 1) : 0;
    size_t shown = len < max ? len : max;
    for (size_t i = 0; rc == 0 && i < shown; i++) {
        unsigned char ch = (unsigned char)s[i];
        if (ch == '"' || ch == '\\')
            rc = svk_buf_appendf(b, "\\%c", ch);
        else if (ch == '\n')
            rc = svk_buf_append(b, "\\n", 2);
        else if (ch == '\t')
            rc = svk_buf_append(b, "\\t", 2);
        else if (ch < 0x20 || ch >= 0x7f)
            rc = svk_buf_appendf(b, "\\x%02x", ch);
        else
            rc = svk_buf_append(b, s + i, 1);
    }
    if (rc == 0 && quote)
        rc = svk_buf_append(b, "\"", 1);
    if (rc == 0 && shown < len)
        rc = svk_buf_append(b, "...", 3);
    return rc;
}

int svk__config_append_quoted(svk_buf *b, const char *s, size_t len, size_t max)
{
    return append_escaped(b, s, len, max, 1);
}

int svk__config_append_escaped(svk_buf *b, const char *s, size_t len)
{
    return append_escaped(b, s, len, SIZE_MAX, 0);
}

void svk__config_format_duration(int64_t ns, char *out, size_t size)
{
    static const struct {
        uint64_t ns;
        const char *unit;
    } units[] = {
        {UINT64_C(3600000000000), "h"}, {UINT64_C(60000000000), "m"},
        {UINT64_C(1000000000), "s"},   {UINT64_C(1000000), "ms"},
        {UINT64_C(1000), "us"},        {1, "ns"},
    };
    if (ns == 0) {
        snprintf(out, size, "0s");
        return;
    }
    uint64_t mag = ns < 0 ? (uint64_t)(-(ns + 1)) + 1 : (uint64_t)ns;
    size_t i = 0;
    while (mag % units[i].ns != 0)
        i++;
    snprintf(out, size, "%s%" PRIu64 "%s", ns < 0 ? "-" : "", mag / units[i].ns,
             units[i].unit);
}

void svk__config_format_bytes(uint64_t n, char *out, size_t size)
{
    static const char *const iec[] = {"EiB", "PiB", "TiB", "GiB", "MiB", "KiB"};
    static const char *const si[] = {"EB", "PB", "TB", "GB", "MB", "kB"};
    for (int i = 0; n != 0 && i < 6; i++) {
        uint64_t m = UINT64_C(1) << (10 * (6 - i));
        if (n % m == 0) {
            snprintf(out, size, "%" PRIu64 "%s", n / m, iec[i]);
            return;
        }
    }
    uint64_t m = UINT64_C(1000000000000000000);
    for (int i = 0; n != 0 && i < 6; i++, m /= 1000) {
        if (n % m == 0) {
            snprintf(out, size, "%" PRIu64 "%s", n / m, si[i]);
            return;
        }
    }
    snprintf(out, size, "%" PRIu64 "B", n);
}

const char *svk__config_type_name(enum svk_config_type t)
{
    switch (t) {
    case SVK_CONFIG_STRING: return "string";
    case SVK_CONFIG_INT64: return "int64";
    case SVK_CONFIG_BOOL: return "bool";
    case SVK_CONFIG_DURATION: return "duration";
    case SVK_CONFIG_BYTES: return "bytes";
    case SVK_CONFIG_ENUM: return "enum";
    case SVK_CONFIG_URL: return "url";
    case SVK_CONFIG_LIST: return "list";
    }
    return "unknown";
}
