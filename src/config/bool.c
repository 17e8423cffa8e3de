/*
 * bool.c — svk_parse_bool: the eight spellings operators use, nothing else.
 *
 * "true/false/1/0/yes/no/on/off", ASCII case-insensitive. Anything looser
 * ("y", "enabled", " true") is rejected so that a typo fails at start-up
 * instead of silently meaning false.
 */
#include "svckit/config.h"
#include "core/error_detail.h"

#include <string.h>
#include <strings.h>

static const struct {
    const char *text;
    bool value;
} spellings[] = {
    {"true", true}, {"false", false}, {"1", true},  {"0", false},
    {"yes", true},  {"no", false},    {"on", true}, {"off", false},
};

SVK_API int svk_parse_bool(const char *s, size_t len, bool *out, svk_error *err)
{
    if ((s == NULL && len > 0) || out == NULL)
        return svk__error_set(err, SVK_EINVAL, "invalid boolean: NULL argument");
    for (size_t i = 0; i < sizeof spellings / sizeof spellings[0]; i++) {
        const char *t = spellings[i].text;
        if (strlen(t) == len && strncasecmp(t, s, len) == 0) {
            *out = spellings[i].value;
            return 0;
        }
    }
    return svk__error_set(err, SVK_EINVAL,
                          "invalid boolean: use true/false, 1/0, yes/no or on/off");
}
