/*
 * config_line.c — svk_log_config: the effective configuration as one INFO
 * line, {"msg":"config","config":{"ORDERS_PORT":8080,...}}, typed where the
 * config module knows the type, secrets "<redacted>", unset fields null.
 *
 * Only the config module's public field iteration is used, and secrets are
 * never read: a secret field becomes an SVK_SECRET attribute without its
 * value ever leaving the config object.
 */
#include "svckit/config.h"
#include "log/logger.h"

/* Typed value of loaded field i, read by its declared name. */
static void typed_value(const svk_config *c, size_t i, svk_attr *a)
{
    const char *name = svk_config_field_name(c, i);
    int64_t i64;
    uint64_t u64;
    bool b;
    switch (svk_config_field_type(c, i)) {
    case SVK_CONFIG_INT64:
        if (svk_config_get_int64(c, name, &i64) == 0)
            *a = (svk_attr)SVK_INT(a->key, i64);
        break;
    case SVK_CONFIG_BOOL:
        if (svk_config_get_bool(c, name, &b) == 0)
            *a = (svk_attr)SVK_BOOL(a->key, b);
        break;
    case SVK_CONFIG_DURATION:
        if (svk_config_get_duration(c, name, &i64) == 0)
            *a = (svk_attr)SVK_DUR(a->key, i64);
        break;
    case SVK_CONFIG_BYTES:
        if (svk_config_get_bytes(c, name, &u64) == 0)
            *a = (svk_attr)SVK_UINT(a->key, u64);
        break;
    default:
        break; /* the text already in *a */
    }
}

static int field_attr(const svk_config *c, size_t i, svk_attr *a)
{
    int source = svk_config_field_source(c, i);
    if (source < 0)
        return source;
    const char *key = svk_config_field_env_name(c, i);
    if (svk_config_field_is_secret(c, i) && source != SVK_CONFIG_SOURCE_UNSET) {
        *a = (svk_attr)SVK_SECRET(key, SVK_CONFIG_REDACTED);
        return 0;
    }
    *a = (svk_attr)SVK_STR(key, svk_config_field_value_text(c, i)); /* NULL: unset */
    if (source != SVK_CONFIG_SOURCE_UNSET)
        typed_value(c, i, a);
    return 0;
}

SVK_API int svk_log_config(svk_logger *l, const struct svk_config *c)
{
    if (l == NULL || c == NULL)
        return SVK_EINVAL;
    if (!svk_log_enabled(l, SVK_LOG_INFO))
        return 0;
    size_t n = svk_config_field_count(c);
    svk_attr *fields = svk_malloc(n * sizeof *fields);
    if (fields == NULL)
        return SVK_ENOMEM;
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < n; i++)
        rc = field_attr(c, i, &fields[i]);
    if (rc == 0) {
        svk_attr group = {"config", SVK_ATTR_GROUP, {.group = {fields, n}}};
        svk_log(l, SVK_LOG_INFO, "config", &group, 1);
    }
    svk_free(fields);
    return rc;
}
