/*
 * schema.c — declaring fields: svk_config_add_* and svk_config_set_validator.
 *
 * Every add call funnels into declare(), which validates the name, flags and
 * default (with the same rules load applies to the environment) and appends
 * the field. A declaration error is a programmer error: it is returned, and
 * also made sticky (kept in c->sticky, its line in c->errors) so that load
 * refuses to run with a schema that is not what the program meant.
 */
#include "svckit/config.h"
#include "config/field.h"
#include "core/error_detail.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

/* SVK_EINVAL for NULL, SVK_ESTATE once loaded (or failed to load), else 0. */
static int not_declaring(const svk_config *c)
{
    if (c == NULL)
        return SVK_EINVAL;
    return c->state == SVK__DECLARING ? 0 : SVK_ESTATE;
}

/* Record a declaration error (first one sticks) and return code. */
static int decl_error(svk_config *c, int code, const char *name, const char *fmt, ...)
    SVK_PRINTF(4, 5);

static int decl_error(svk_config *c, int code, const char *name, const char *fmt, ...)
{
    char what[SVK_CONFIG_REASON_SIZE];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    if (c->sticky == 0)
        c->sticky = code;
    /* A line that cannot be stored still leaves the sticky code behind. */
    (void)svk_buf_appendf(&c->errors, "%s%s: invalid declaration: %s\n", c->prefix,
                          name ? name : "(null)", what);
    return code;
}

static int check_flags(svk_config *c, const char *name, const char *def, unsigned flags,
                       enum svk_config_type type)
{
    if (flags & ~(unsigned)SVK_CONFIG_FLAGS_ALL)
        return decl_error(c, SVK_EINVAL, name, "unknown flag bits 0x%x",
                          flags & ~(unsigned)SVK_CONFIG_FLAGS_ALL);
    if ((flags & SVK_CONFIG_REQUIRED) && def != NULL)
        return decl_error(c, SVK_EINVAL, name, "a required field cannot have a default");
    if ((flags & SVK_CONFIG_ALLOW_EMPTY) && type != SVK_CONFIG_STRING &&
        type != SVK_CONFIG_URL && type != SVK_CONFIG_LIST)
        return decl_error(c, SVK_EINVAL, name, "ALLOW_EMPTY is only for string, url and list");
    if ((flags & SVK_CONFIG_ALLOW_NEGATIVE) && type != SVK_CONFIG_DURATION)
        return decl_error(c, SVK_EINVAL, name, "ALLOW_NEGATIVE is only for durations");
    return 0;
}

static int check_name(svk_config *c, const char *name)
{
    if (!svk__config_valid_name(name, false))
        return decl_error(c, SVK_EINVAL, name, "name must match [A-Za-z_][A-Za-z0-9_]*");
    if (svk__config_find(c, name) != NULL)
        return decl_error(c, SVK_EEXIST, name, "declared twice");
    return 0;
}

/* Fill the strings of f (NULL members on failure; the caller frees). */
static int copy_strings(svk_config *c, svk__config_field *f, const char *name,
                        const char *def, const char *help)
{
    f->name = svk__config_strdup(name);
    f->env_name = svk__config_concat(c->prefix, name);
    f->help = svk__config_strdup(help ? help : "");
    if (def != NULL)
        f->def = svk__config_strdup(def);
    if ((f->flags & (SVK_CONFIG_FILE | SVK_CONFIG_SECRET)) && f->env_name != NULL)
        f->file_env_name = svk__config_concat(f->env_name, "_FILE");
    int file = (f->flags & (SVK_CONFIG_FILE | SVK_CONFIG_SECRET)) != 0;
    if (!f->name || !f->env_name || !f->help || (def && !f->def) || (file && !f->file_env_name))
        return SVK_ENOMEM;
    return 0;
}

static int check_default(svk_config *c, const svk__config_field *f)
{
    if (f->def == NULL)
        return 0;
    char reason[SVK_CONFIG_REASON_SIZE];
    svk__config_value v;
    int rc = svk__config_check(f, f->def, strlen(f->def), &v, reason, sizeof reason);
    if (rc == 0)
        return 0;
    if (f->flags & SVK_CONFIG_SECRET)
        return decl_error(c, SVK_EINVAL, f->name, "default rejected: %s (value %s)", reason,
                          SVK_CONFIG_REDACTED);
    return decl_error(c, SVK_EINVAL, f->name, "default rejected: %s (value \"%.64s\")",
                      reason, f->def);
}

static int append_field(svk_config *c, const svk__config_field *f)
{
    if (c->field_count == c->field_cap) {
        size_t cap = c->field_cap ? c->field_cap * 2 : 8;
        svk__config_field *p = svk_realloc(c->fields, cap * sizeof *p);
        if (p == NULL)
            return SVK_ENOMEM;
        c->fields = p;
        c->field_cap = cap;
    }
    c->fields[c->field_count++] = *f;
    return 0;
}

/* Add the field described by tmpl (type, bounds, choices: taken over). */
static int declare(svk_config *c, const char *name, const char *def, unsigned flags,
                   const char *help, svk__config_field *tmpl)
{
    tmpl->flags = flags;
    tmpl->source = SVK_CONFIG_SOURCE_UNSET;
    int rc = check_name(c, name);
    if (rc == 0)
        rc = check_flags(c, name, def, flags, tmpl->type);
    if (rc == 0 && (rc = copy_strings(c, tmpl, name, def, help)) != 0)
        decl_error(c, rc, name, "out of memory");
    if (rc == 0)
        rc = check_default(c, tmpl);
    if (rc == 0 && (rc = append_field(c, tmpl)) != 0)
        decl_error(c, rc, name, "out of memory");
    if (rc != 0)
        svk__config_field_free(tmpl);
    return rc;
}

/* Copy a NULL-terminated string array into one block; count in *n. */
static char **copy_array(const char *const *src, size_t *n)
{
    size_t count = 0, bytes = 0;
    for (; src[count] != NULL; count++)
        bytes += strlen(src[count]) + 1;
    char **dst = svk_malloc((count + 1) * sizeof *dst + bytes);
    if (dst == NULL)
        return NULL;
    char *p = (char *)(dst + count + 1);
    for (size_t i = 0; i < count; i++) {
        size_t len = strlen(src[i]) + 1;
        dst[i] = memcpy(p, src[i], len);
        p += len;
    }
    dst[count] = NULL;
    *n = count;
    return dst;
}

static int check_choices(svk_config *c, const char *name, const char *const *choices)
{
    if (choices == NULL || choices[0] == NULL)
        return decl_error(c, SVK_EINVAL, name, "an enum needs at least one choice");
    for (size_t i = 0; choices[i] != NULL; i++) {
        if (choices[i][0] == '\0')
            return decl_error(c, SVK_EINVAL, name, "empty enum choice");
        for (size_t j = 0; j < i; j++)
            if (strcasecmp(choices[i], choices[j]) == 0)
                return decl_error(c, SVK_EINVAL, name, "enum choice \"%.32s\" listed twice",
                                  choices[i]);
    }
    return 0;
}

static int check_schemes(svk_config *c, const char *name, const char *const *schemes)
{
    if (schemes == NULL)
        return 0;
    if (schemes[0] == NULL)
        return decl_error(c, SVK_EINVAL, name, "empty scheme list (NULL allows any)");
    for (size_t i = 0; schemes[i] != NULL; i++) {
        const char *s = schemes[i];
        int ok = s[0] >= 'a' && s[0] <= 'z';
        for (const char *p = s; ok && *p; p++)
            ok = (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '+' ||
                 *p == '-' || *p == '.';
        if (!ok)
            return decl_error(c, SVK_EINVAL, name, "scheme \"%.32s\" is not a lowercase "
                              "scheme name", s);
    }
    return 0;
}

/* Declarations that need a list copied (enum choices, url schemes). */
static int declare_with_list(svk_config *c, const char *name, const char *def,
                             unsigned flags, const char *help, svk__config_field *tmpl,
                             const char *const *list)
{
    if (list != NULL) {
        size_t n;
        tmpl->choices = copy_array(list, &n);
        if (tmpl->choices == NULL)
            return decl_error(c, SVK_ENOMEM, name, "out of memory");
    }
    return declare(c, name, def, flags, help, tmpl);
}

SVK_API int svk_config_add_string(svk_config *c, const char *name, const char *def,
                                  unsigned flags, const char *help)
{
    int rc = not_declaring(c);
    if (rc != 0)
        return rc;
    svk__config_field f = {.type = SVK_CONFIG_STRING};
    return declare(c, name, def, flags, help, &f);
}

SVK_API int svk_config_add_int64(svk_config *c, const char *name, const char *def,
                                 int64_t min, int64_t max, unsigned flags,
                                 const char *help)
{
    int rc = not_declaring(c);
    if (rc != 0)
        return rc;
    if (min > max)
        return decl_error(c, SVK_EINVAL, name, "min > max");
    svk__config_field f = {.type = SVK_CONFIG_INT64, .imin = min, .imax = max};
    return declare(c, name, def, flags, help, &f);
}

SVK_API int svk_config_add_bool(svk_config *c, const char *name, const char *def,
                                unsigned flags, const char *help)
{
    int rc = not_declaring(c);
    if (rc != 0)
        return rc;
    svk__config_field f = {.type = SVK_CONFIG_BOOL};
    return declare(c, name, def, flags, help, &f);
}

SVK_API int svk_config_add_duration(svk_config *c, const char *name, const char *def,
                                    int64_t min_ns, int64_t max_ns, unsigned flags,
                                    const char *help)
{
    int rc = not_declaring(c);
    if (rc != 0)
        return rc;
    if (min_ns > max_ns)
        return decl_error(c, SVK_EINVAL, name, "min > max");
    svk__config_field f = {.type = SVK_CONFIG_DURATION, .imin = min_ns, .imax = max_ns};
    return declare(c, name, def, flags, help, &f);
}

SVK_API int svk_config_add_bytes(svk_config *c, const char *name, const char *def,
                                 uint64_t min, uint64_t max, unsigned flags,
                                 const char *help)
{
    int rc = not_declaring(c);
    if (rc != 0)
        return rc;
    if (min > max)
        return decl_error(c, SVK_EINVAL, name, "min > max");
    svk__config_field f = {.type = SVK_CONFIG_BYTES, .umin = min, .umax = max};
    return declare(c, name, def, flags, help, &f);
}

SVK_API int svk_config_add_enum(svk_config *c, const char *name, const char *def,
                                const char *const *choices, unsigned flags,
                                const char *help)
{
    int rc = not_declaring(c);
    if (rc == 0)
        rc = check_choices(c, name, choices);
    if (rc != 0)
        return rc;
    svk__config_field f = {.type = SVK_CONFIG_ENUM};
    return declare_with_list(c, name, def, flags, help, &f, choices);
}

SVK_API int svk_config_add_url(svk_config *c, const char *name, const char *def,
                               const char *const *schemes, unsigned flags,
                               const char *help)
{
    int rc = not_declaring(c);
    if (rc == 0)
        rc = check_schemes(c, name, schemes);
    if (rc != 0)
        return rc;
    svk__config_field f = {.type = SVK_CONFIG_URL};
    return declare_with_list(c, name, def, flags, help, &f, schemes);
}

SVK_API int svk_config_add_list(svk_config *c, const char *name, const char *def,
                                unsigned flags, const char *help)
{
    int rc = not_declaring(c);
    if (rc != 0)
        return rc;
    svk__config_field f = {.type = SVK_CONFIG_LIST};
    return declare(c, name, def, flags, help, &f);
}

SVK_API int svk_config_set_validator(svk_config *c, const char *name,
                                     svk_config_validator fn, void *user)
{
    if (c == NULL || name == NULL)
        return SVK_EINVAL;
    if (c->state != SVK__DECLARING)
        return SVK_ESTATE;
    svk__config_field *f = svk__config_find(c, name);
    if (f == NULL)
        return decl_error(c, SVK_ENOENT, name, "validator for a field never declared");
    f->validator = fn;
    f->validator_user = user;
    return 0;
}
