/*
 * dump.c — the configuration as text for people: svk_config_dump (effective
 * values, for --print-config and the start-up log) and svk_config_help (the
 * schema, for --help). A secret's value or default prints as <redacted>.
 */
#include "svckit/config.h"
#include "config/field.h"

#include <inttypes.h>
#include <string.h>

static const char *source_name(enum svk_config_source s)
{
    switch (s) {
    case SVK_CONFIG_SOURCE_DEFAULT: return "default";
    case SVK_CONFIG_SOURCE_ENV: return "env";
    case SVK_CONFIG_SOURCE_FILE: return "file";
    case SVK_CONFIG_SOURCE_UNSET: break;
    }
    return "unset";
}

static int dump_field(const svk__config_field *f, svk_buf *out)
{
    int rc = svk_buf_appendf(out, "%s=", f->env_name);
    if (rc == 0 && f->text != NULL) {
        if (f->flags & SVK_CONFIG_SECRET)
            rc = svk_buf_append_str(out, SVK_CONFIG_REDACTED);
        else
            rc = svk__config_append_escaped(out, f->text, f->text_len);
    }
    return rc ? rc : svk_buf_appendf(out, " # %s\n", source_name(f->source));
}

/* Run fn on every field in order; the first error stops. */
static int each_field(const svk_config *c, svk_buf *out,
                      int (*fn)(const svk__config_field *, svk_buf *))
{
    for (size_t i = 0; i < c->field_count; i++) {
        int rc = fn(&c->fields[i], out);
        if (rc != 0)
            return rc;
    }
    return 0;
}

SVK_API int svk_config_dump(const svk_config *c, svk_buf *out)
{
    if (c == NULL || out == NULL)
        return SVK_EINVAL;
    if (c->state != SVK__LOADED)
        return SVK_ESTATE;
    return each_field(c, out, dump_field);
}

/* " [min, max]" for the types that have bounds and only when one is set. */
static int help_bounds(const svk__config_field *f, svk_buf *out)
{
    char lo[32], hi[32];
    if (f->type == SVK_CONFIG_INT64 && (f->imin != INT64_MIN || f->imax != INT64_MAX))
        return svk_buf_appendf(out, " [%" PRId64 ", %" PRId64 "]", f->imin, f->imax);
    if (f->type == SVK_CONFIG_DURATION && (f->imin != INT64_MIN || f->imax != INT64_MAX)) {
        svk__config_format_duration(f->imin, lo, sizeof lo);
        svk__config_format_duration(f->imax, hi, sizeof hi);
        return svk_buf_appendf(out, " [%s, %s]", lo, hi);
    }
    if (f->type == SVK_CONFIG_BYTES && (f->umin != 0 || f->umax != UINT64_MAX)) {
        svk__config_format_bytes(f->umin, lo, sizeof lo);
        svk__config_format_bytes(f->umax, hi, sizeof hi);
        return svk_buf_appendf(out, " [%s, %s]", lo, hi);
    }
    return 0;
}

/* " (a|b|c)" for enum choices and url schemes. */
static int help_choices(const svk__config_field *f, svk_buf *out)
{
    int rc = 0;
    for (size_t i = 0; rc == 0 && f->choices && f->choices[i]; i++)
        rc = svk_buf_appendf(out, "%s%s", i ? "|" : " (", f->choices[i]);
    return rc == 0 && f->choices ? svk_buf_append_str(out, ")") : rc;
}

static int help_default(const svk__config_field *f, svk_buf *out)
{
    if (f->flags & SVK_CONFIG_REQUIRED)
        return svk_buf_append_str(out, ", required");
    if (f->def == NULL)
        return 0;
    if (f->flags & SVK_CONFIG_SECRET)
        return svk_buf_append_str(out, ", default " SVK_CONFIG_REDACTED);
    int rc = svk_buf_append_str(out, ", default ");
    return rc ? rc : svk__config_append_quoted(out, f->def, strlen(f->def), SIZE_MAX);
}

static int help_field(const svk__config_field *f, svk_buf *out)
{
    int rc = svk_buf_appendf(out, "  %s  %s", f->env_name, svk__config_type_name(f->type));
    if (rc == 0)
        rc = help_bounds(f, out);
    if (rc == 0)
        rc = help_choices(f, out);
    if (rc == 0)
        rc = help_default(f, out);
    if (rc == 0 && (f->flags & SVK_CONFIG_SECRET))
        rc = svk_buf_append_str(out, ", secret");
    if (rc == 0 && f->file_env_name)
        rc = svk_buf_appendf(out, ", or %s=path", f->file_env_name);
    if (rc == 0 && f->help[0])
        rc = svk_buf_appendf(out, "\n      %s", f->help);
    return rc ? rc : svk_buf_append(out, "\n", 1);
}

SVK_API int svk_config_help(const svk_config *c, svk_buf *out)
{
    if (c == NULL || out == NULL)
        return SVK_EINVAL;
    return each_field(c, out, help_field);
}
