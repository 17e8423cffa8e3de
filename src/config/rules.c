/*
 * rules.c — what each field type accepts: svk__config_check runs the type's
 * parser, then the field's flags and bounds, and says which rule failed.
 *
 * The same check serves declared defaults (at add time) and loaded values,
 * so a default can never be something the environment could not say. A
 * reason names the rule, never the value: the caller decides whether the
 * value may be shown (it may not for secrets).
 */
#include "svckit/config.h"
#include "config/field.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#define TRIM(c) ((c) == ' ' || (c) == '\t')

/* Copy a parser's message into reason; returns rc. */
static int parser_reason(int rc, const svk_error *err, char *reason, size_t size)
{
    snprintf(reason, size, "%s", err->message);
    return rc;
}

static int check_int64(const svk__config_field *f, const char *text, size_t len,
                       svk__config_value *v, char *reason, size_t size)
{
    svk_error err;
    int rc = svk_parse_int64(text, len, &v->i, &err);
    if (rc != 0)
        return parser_reason(rc, &err, reason, size);
    if (v->i < f->imin || v->i > f->imax) {
        snprintf(reason, size, "must be between %" PRId64 " and %" PRId64, f->imin, f->imax);
        return SVK_ERANGE;
    }
    return 0;
}

static int check_duration(const svk__config_field *f, const char *text, size_t len,
                          svk__config_value *v, char *reason, size_t size)
{
    svk_error err;
    int rc = svk_parse_duration(text, len, &v->i, &err);
    if (rc != 0)
        return parser_reason(rc, &err, reason, size);
    if (v->i < 0 && !(f->flags & SVK_CONFIG_ALLOW_NEGATIVE)) {
        snprintf(reason, size, "must not be negative");
        return SVK_ERANGE;
    }
    if (v->i < f->imin || v->i > f->imax) {
        char lo[32], hi[32];
        svk__config_format_duration(f->imin, lo, sizeof lo);
        svk__config_format_duration(f->imax, hi, sizeof hi);
        snprintf(reason, size, "must be between %s and %s", lo, hi);
        return SVK_ERANGE;
    }
    return 0;
}

static int check_bytes(const svk__config_field *f, const char *text, size_t len,
                       svk__config_value *v, char *reason, size_t size)
{
    svk_error err;
    int rc = svk_parse_bytes(text, len, &v->u, &err);
    if (rc != 0)
        return parser_reason(rc, &err, reason, size);
    if (v->u < f->umin || v->u > f->umax) {
        char lo[32], hi[32];
        svk__config_format_bytes(f->umin, lo, sizeof lo);
        svk__config_format_bytes(f->umax, hi, sizeof hi);
        snprintf(reason, size, "must be between %s and %s", lo, hi);
        return SVK_ERANGE;
    }
    return 0;
}

/* "a, b, c" into out, cut (with "...") when it does not fit. */
static void join_list(char *const *items, const char *lead, char *out, size_t size)
{
    size_t used = (size_t)snprintf(out, size, "%s", lead);
    for (size_t i = 0; items[i] != NULL && used < size; i++)
        used += (size_t)snprintf(out + used, size - used, "%s%s", i ? ", " : "", items[i]);
    if (used >= size && size > 4)
        memcpy(out + size - 4, "...", 4);
}

static int check_enum(const svk__config_field *f, const char *text, size_t len,
                      svk__config_value *v, char *reason, size_t size)
{
    for (size_t i = 0; f->choices[i] != NULL; i++) {
        if (strlen(f->choices[i]) == len && strncasecmp(f->choices[i], text, len) == 0) {
            v->choice = i;
            return 0;
        }
    }
    join_list(f->choices, "must be one of: ", reason, size);
    return SVK_EINVAL;
}

static int check_url(const svk__config_field *f, const char *text, size_t len,
                     char *reason, size_t size)
{
    svk_error err;
    int rc = svk_check_url(text, len, (const char *const *)f->choices, &err);
    if (rc == 0)
        return 0;
    if (f->choices != NULL && strstr(err.message, "scheme not allowed") != NULL) {
        char allowed[SVK_CONFIG_REASON_SIZE];
        join_list(f->choices, "", allowed, sizeof allowed);
        snprintf(reason, size, "%.64s (allowed: %s)", err.message, allowed);
        return rc;
    }
    return parser_reason(rc, &err, reason, size);
}

/* Count the items of a list; -1 when one is empty after trimming. */
static long count_items(const char *text, size_t len)
{
    long n = 0;
    const char *p = text, *end = text + len;
    for (;;) {
        const char *comma = memchr(p, ',', (size_t)(end - p));
        const char *stop = comma ? comma : end;
        while (p < stop && TRIM(*p))
            p++;
        if (p == stop)
            return -1;
        n++;
        if (comma == NULL)
            return n;
        p = comma + 1;
    }
}

static int check_list(const char *text, size_t len, char *reason, size_t size)
{
    if (count_items(text, len) < 0) {
        snprintf(reason, size, "empty item in a comma-separated list");
        return SVK_EINVAL;
    }
    return 0;
}

int svk__config_check(const svk__config_field *f, const char *text, size_t len,
                      svk__config_value *v, char *reason, size_t reason_size)
{
    memset(v, 0, sizeof *v);
    if (len == 0) {
        if (f->flags & SVK_CONFIG_ALLOW_EMPTY)
            return 0;
        snprintf(reason, reason_size, "must not be empty");
        return SVK_EINVAL;
    }
    switch (f->type) {
    case SVK_CONFIG_INT64: return check_int64(f, text, len, v, reason, reason_size);
    case SVK_CONFIG_DURATION: return check_duration(f, text, len, v, reason, reason_size);
    case SVK_CONFIG_BYTES: return check_bytes(f, text, len, v, reason, reason_size);
    case SVK_CONFIG_ENUM: return check_enum(f, text, len, v, reason, reason_size);
    case SVK_CONFIG_URL: return check_url(f, text, len, reason, reason_size);
    case SVK_CONFIG_LIST: return check_list(text, len, reason, reason_size);
    case SVK_CONFIG_BOOL: {
        svk_error err;
        int rc = svk_parse_bool(text, len, &v->b, &err);
        return rc ? parser_reason(rc, &err, reason, reason_size) : 0;
    }
    case SVK_CONFIG_STRING: return 0;
    }
    snprintf(reason, reason_size, "unknown field type");
    return SVK_EINVAL;
}

int svk__config_split_list(svk__config_field *f)
{
    long n = f->text_len ? count_items(f->text, f->text_len) : 0;
    size_t size = (size_t)(n + 1) * sizeof(char *) + f->text_len + 1;
    char **items = svk_malloc(size);
    if (items == NULL)
        return SVK_ENOMEM;
    char *out = (char *)(items + n + 1);
    const char *p = f->text, *end = f->text + f->text_len;
    for (long i = 0; i < n; i++) {
        const char *comma = memchr(p, ',', (size_t)(end - p));
        const char *stop = comma ? comma : end;
        while (TRIM(*p))
            p++;
        while (stop > p && TRIM(stop[-1]))
            stop--;
        items[i] = memcpy(out, p, (size_t)(stop - p));
        out += stop - p;
        *out++ = '\0';
        p = comma ? comma + 1 : end;
    }
    items[n] = NULL;
    f->items = items;
    f->item_count = (size_t)n;
    f->items_size = size;
    return 0;
}
