/*
 * level.c — slog's numeric levels: names, printing, parsing; and the names
 * of the output formats. A level between two named ones prints relative to
 * the one below it, exactly as slog's Level.String does ("INFO+2",
 * "DEBUG-1", "ERROR+4").
 */
#include "svckit/log.h"
#include "core/error_detail.h"
#include "log/level.h"
#include "log/number.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const struct {
    const char *name;
    int value;
} named_levels[] = {
    {"DEBUG", SVK_LOG_DEBUG},
    {"INFO", SVK_LOG_INFO},
    {"WARN", SVK_LOG_WARN},
    {"ERROR", SVK_LOG_ERROR},
};

char *svk__put_level(char *p, int level)
{
    size_t i = level < SVK_LOG_INFO ? 0 : level < SVK_LOG_WARN ? 1 : level < SVK_LOG_ERROR ? 2 : 3;
    size_t len = strlen(named_levels[i].name);
    memcpy(p, named_levels[i].name, len);
    p += len;
    int64_t delta = (int64_t)level - named_levels[i].value;
    if (delta != 0) {
        *p++ = delta > 0 ? '+' : '-';
        p = svk__put_u64(p, (uint64_t)(delta > 0 ? delta : -delta));
    }
    return p;
}

SVK_API const char *svk_log_level_string(int level, char buf[SVK_LOG_LEVEL_STRLEN])
{
    *svk__put_level(buf, level) = '\0';
    return buf;
}

/* [+-]?[0-9]+ and nothing after it; sign_required for an offset ("+2"). */
static int parse_integer(const char *s, int sign_required, long long *value)
{
    int signed_ = *s == '+' || *s == '-';
    if ((sign_required && !signed_) || s[signed_] < '0' || s[signed_] > '9')
        return SVK_EINVAL;
    char *end;
    errno = 0;
    *value = strtoll(s, &end, 10);
    if (*end != '\0')
        return SVK_EINVAL;
    return errno == ERANGE ? SVK_ERANGE : 0;
}

/* "warn" or "warning", any case, then an optional offset. */
static int parse_named(const char *s, long long *value)
{
    static const struct {
        const char *word;
        int value;
    } words[] = {{"debug", SVK_LOG_DEBUG}, {"info", SVK_LOG_INFO}, {"warning", SVK_LOG_WARN},
                 {"warn", SVK_LOG_WARN},   {"error", SVK_LOG_ERROR}};
    for (size_t i = 0; i < sizeof words / sizeof words[0]; i++) {
        size_t n = strlen(words[i].word);
        if (strncasecmp(s, words[i].word, n) != 0)
            continue;
        long long delta = 0;
        int rc = s[n] == '\0' ? 0 : parse_integer(s + n, 1, &delta);
        if (rc == 0 && (delta > INT_MAX || delta < INT_MIN))
            rc = SVK_ERANGE; /* and the sum below cannot overflow */
        if (rc == 0)
            *value = words[i].value + delta;
        return rc;
    }
    return SVK_EINVAL;
}

SVK_API int svk_log_level_parse(const char *s, int *level, svk_error *err)
{
    if (s == NULL || level == NULL)
        return svk__error_set(err, SVK_EINVAL, "log level: NULL argument");
    long long value = 0;
    int rc = (*s >= '0' && *s <= '9') || *s == '-' || *s == '+' ? parse_integer(s, 0, &value)
                                                                 : parse_named(s, &value);
    if (rc == 0 && (value < INT_MIN || value > INT_MAX))
        rc = SVK_ERANGE;
    if (rc == SVK_ERANGE)
        return svk__error_set(err, rc, "log level: out of range");
    if (rc != 0)
        return svk__error_set(err, rc,
                              "log level: want debug, info, warn or error, optionally "
                              "with +N or -N, or an integer");
    *level = (int)value;
    return 0;
}

SVK_API int svk_log_format_parse(const char *s, int *format, svk_error *err)
{
    if (s == NULL || format == NULL)
        return svk__error_set(err, SVK_EINVAL, "log format: NULL argument");
    if (strcasecmp(s, "json") == 0) {
        *format = SVK_LOG_JSON;
        return 0;
    }
    if (strcasecmp(s, "text") == 0 || strcasecmp(s, "logfmt") == 0) {
        *format = SVK_LOG_TEXT;
        return 0;
    }
    return svk__error_set(err, SVK_EINVAL, "log format: want json or text");
}
