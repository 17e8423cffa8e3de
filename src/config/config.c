/*
 * config.c — the svk_config object: construction, destruction, field lookup,
 * and the small string helpers the other files of src/config/ share.
 *
 * Destruction wipes every value buffer (explicit_bzero) before freeing it, so
 * a secret does not outlive the config in freed heap memory that a later core
 * dump could show.
 */
#include "svckit/config.h"
#include "config/field.h"
#include "core/error_detail.h"

#include <string.h>
#include <strings.h>

char *svk__config_strdup(const char *s)
{
    size_t n = strlen(s) + 1;
    char *p = svk_malloc(n);
    if (p != NULL)
        memcpy(p, s, n);
    return p;
}

char *svk__config_concat(const char *a, const char *b)
{
    size_t na = strlen(a), nb = strlen(b);
    char *p = svk_malloc(na + nb + 1);
    if (p == NULL)
        return NULL;
    memcpy(p, a, na);
    memcpy(p + na, b, nb + 1);
    return p;
}

void svk__config_wipe_free(void *p, size_t n)
{
    if (p == NULL)
        return;
    explicit_bzero(p, n);
    svk_free(p);
}

static void wipe_string(char *s)
{
    if (s != NULL)
        svk__config_wipe_free(s, strlen(s));
}

/* [A-Za-z_][A-Za-z0-9_]*, the names a shell can export. */
int svk__config_valid_name(const char *s, bool allow_empty)
{
    if (s == NULL || *s == '\0')
        return allow_empty && s != NULL;
    for (const char *p = s; *p; p++) {
        int alpha = (*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || *p == '_';
        if (!alpha && !(p > s && *p >= '0' && *p <= '9'))
            return 0;
    }
    return 1;
}

svk__config_field *svk__config_find(const svk_config *c, const char *name)
{
    for (size_t i = 0; i < c->field_count; i++)
        if (strcmp(c->fields[i].name, name) == 0)
            return &c->fields[i];
    return NULL;
}

SVK_API int svk_config_new(svk_config **out, const char *prefix, svk_error *err)
{
    if (out == NULL)
        return svk__error_set(err, SVK_EINVAL, "svk_config_new: out is NULL");
    *out = NULL;
    if (prefix != NULL && !svk__config_valid_name(prefix, true))
        return svk__error_set(err, SVK_EINVAL,
                              "svk_config_new: prefix must match [A-Za-z_][A-Za-z0-9_]*");
    svk_config *c = svk_malloc(sizeof *c);
    if (c == NULL)
        return svk__error_set(err, SVK_ENOMEM, "svk_config_new: out of memory");
    memset(c, 0, sizeof *c);
    size_t n = prefix ? strlen(prefix) : 0;
    c->prefix = svk__config_concat(n ? prefix : "", n && prefix[n - 1] != '_' ? "_" : "");
    if (c->prefix == NULL) {
        svk_free(c);
        return svk__error_set(err, SVK_ENOMEM, "svk_config_new: out of memory");
    }
    c->state = SVK__DECLARING;
    *out = c;
    return 0;
}

void svk__config_field_free(svk__config_field *f)
{
    svk_free(f->name);
    svk_free(f->env_name);
    svk_free(f->file_env_name);
    svk_free(f->help);
    wipe_string(f->def);
    svk_free(f->choices);
    if (f->text != NULL)
        svk__config_wipe_free(f->text, f->text_len + 1);
    svk__config_wipe_free(f->items, f->items_size);
}

SVK_API void svk_config_free(svk_config *c)
{
    if (c == NULL)
        return;
    for (size_t i = 0; i < c->field_count; i++)
        svk__config_field_free(&c->fields[i]);
    svk_free(c->fields);
    svk_free(c->prefix);
    svk_buf_free(&c->errors);
    svk_buf_free(&c->warnings);
    svk_free(c);
}

SVK_API const char *svk_config_errors(const svk_config *c)
{
    return c != NULL && c->errors.data != NULL ? (const char *)c->errors.data : "";
}

SVK_API const char *svk_config_warnings(const svk_config *c)
{
    return c != NULL && c->warnings.data != NULL ? (const char *)c->warnings.data : "";
}

SVK_API bool svk_config_is_secret(const svk_config *c, const char *name)
{
    if (c == NULL || name == NULL)
        return false;
    for (size_t i = 0; i < c->field_count; i++) {
        const svk__config_field *f = &c->fields[i];
        if ((f->flags & SVK_CONFIG_SECRET) &&
            (strcasecmp(f->name, name) == 0 || strcasecmp(f->env_name, name) == 0))
            return true;
    }
    return false;
}
