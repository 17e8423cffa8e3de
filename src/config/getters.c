/*
 * getters.c — reading a loaded config: typed getters by field name and the
 * field iteration the logger and --print-config use.
 *
 * Everything here only reads, and a loaded config never changes, so these
 * functions are safe from any number of threads at once after load. Lookup
 * by name is a linear scan: configs have tens of fields, read at start-up.
 */
#include "svckit/config.h"
#include "config/field.h"

#include <string.h>

/* The loaded field name of one of the types in mask (1 << type). */
static int lookup(const svk_config *c, const char *name, unsigned mask,
                  const svk__config_field **out)
{
    if (c == NULL || name == NULL)
        return SVK_EINVAL;
    if (c->state != SVK__LOADED)
        return SVK_ESTATE;
    const svk__config_field *f = svk__config_find(c, name);
    if (f == NULL)
        return SVK_ENOENT;
    if (!(mask & (1u << f->type)))
        return SVK_EINVAL;
    *out = f;
    return 0;
}

#define TYPE(t) (1u << (t))

SVK_API int svk_config_get_string(const svk_config *c, const char *name, const char **out)
{
    const svk__config_field *f;
    int rc = lookup(c, name, TYPE(SVK_CONFIG_STRING) | TYPE(SVK_CONFIG_URL), &f);
    if (rc != 0 || out == NULL)
        return rc ? rc : SVK_EINVAL;
    *out = f->text ? f->text : "";
    return 0;
}

/* Copy the scalar member of a field of type t (all live at offset 0). */
static int get_scalar(const svk_config *c, const char *name, enum svk_config_type t,
                      void *out, size_t size)
{
    const svk__config_field *f;
    int rc = lookup(c, name, TYPE(t), &f);
    if (rc == 0 && out == NULL)
        rc = SVK_EINVAL;
    if (rc == 0)
        memcpy(out, &f->value, size);
    return rc;
}

SVK_API int svk_config_get_int64(const svk_config *c, const char *name, int64_t *out)
{
    return get_scalar(c, name, SVK_CONFIG_INT64, out, sizeof *out);
}

SVK_API int svk_config_get_bool(const svk_config *c, const char *name, bool *out)
{
    return get_scalar(c, name, SVK_CONFIG_BOOL, out, sizeof *out);
}

SVK_API int svk_config_get_duration(const svk_config *c, const char *name, int64_t *ns)
{
    return get_scalar(c, name, SVK_CONFIG_DURATION, ns, sizeof *ns);
}

SVK_API int svk_config_get_bytes(const svk_config *c, const char *name, uint64_t *out)
{
    return get_scalar(c, name, SVK_CONFIG_BYTES, out, sizeof *out);
}

SVK_API int svk_config_get_enum(const svk_config *c, const char *name, size_t *index,
                                const char **text)
{
    const svk__config_field *f;
    int rc = lookup(c, name, TYPE(SVK_CONFIG_ENUM), &f);
    if (rc != 0)
        return rc;
    int set = f->source != SVK_CONFIG_SOURCE_UNSET;
    if (index != NULL)
        *index = set ? f->value.choice : SIZE_MAX;
    if (text != NULL)
        *text = set ? f->choices[f->value.choice] : NULL;
    return 0;
}

SVK_API int svk_config_get_list_count(const svk_config *c, const char *name, size_t *count)
{
    const svk__config_field *f;
    int rc = lookup(c, name, TYPE(SVK_CONFIG_LIST), &f);
    if (rc != 0 || count == NULL)
        return rc ? rc : SVK_EINVAL;
    *count = f->item_count;
    return 0;
}

SVK_API int svk_config_get_list_item(const svk_config *c, const char *name, size_t i,
                                     const char **item)
{
    const svk__config_field *f;
    int rc = lookup(c, name, TYPE(SVK_CONFIG_LIST), &f);
    if (rc != 0 || item == NULL)
        return rc ? rc : SVK_EINVAL;
    if (i >= f->item_count)
        return SVK_ERANGE;
    *item = f->items[i];
    return 0;
}

SVK_API int svk_config_source(const svk_config *c, const char *name)
{
    const svk__config_field *f;
    int rc = lookup(c, name, ~0u, &f);
    return rc ? rc : (int)f->source;
}

/* ------------------------------------------------------------ iteration */

static const svk__config_field *field_at(const svk_config *c, size_t i)
{
    return c != NULL && i < c->field_count ? &c->fields[i] : NULL;
}

SVK_API size_t svk_config_field_count(const svk_config *c)
{
    return c != NULL ? c->field_count : 0;
}

SVK_API const char *svk_config_field_name(const svk_config *c, size_t i)
{
    const svk__config_field *f = field_at(c, i);
    return f ? f->name : NULL;
}

SVK_API const char *svk_config_field_env_name(const svk_config *c, size_t i)
{
    const svk__config_field *f = field_at(c, i);
    return f ? f->env_name : NULL;
}

SVK_API int svk_config_field_type(const svk_config *c, size_t i)
{
    const svk__config_field *f = field_at(c, i);
    return f ? (int)f->type : SVK_EINVAL;
}

SVK_API bool svk_config_field_is_secret(const svk_config *c, size_t i)
{
    const svk__config_field *f = field_at(c, i);
    return f != NULL && (f->flags & SVK_CONFIG_SECRET) != 0;
}

SVK_API const char *svk_config_field_value_text(const svk_config *c, size_t i)
{
    const svk__config_field *f = field_at(c, i);
    if (f == NULL || c->state != SVK__LOADED || f->text == NULL)
        return NULL;
    return (f->flags & SVK_CONFIG_SECRET) ? SVK_CONFIG_REDACTED : f->text;
}

SVK_API int svk_config_field_source(const svk_config *c, size_t i)
{
    const svk__config_field *f = field_at(c, i);
    if (f == NULL)
        return SVK_EINVAL;
    return c->state == SVK__LOADED ? (int)f->source : SVK_ESTATE;
}
