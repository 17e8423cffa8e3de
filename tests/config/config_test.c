/*
 * config_test.c — the loader: declaring fields, loading from an explicit
 * environment, every error reported at once, the _FILE convention, prefixes,
 * warnings, getters, dump and help.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "svckit/config.h"

static const char *const levels[] = {"debug", "info", "warn", "error", NULL};
static const char *const pg[] = {"postgres", "postgresql", NULL};

static svk_config *make(const char *prefix)
{
    svk_config *c = NULL;
    cr_assert_eq(svk_config_new(&c, prefix, NULL), 0);
    return c;
}

/* One field of every type, all with defaults. */
static svk_config *every_type(void)
{
    svk_config *c = make("APP");
    cr_assert_eq(svk_config_add_string(c, "NAME", "orders", 0, "service name"), 0);
    cr_assert_eq(svk_config_add_int64(c, "PORT", "8080", 1, 65535, 0, "listen port"), 0);
    cr_assert_eq(svk_config_add_bool(c, "DEBUG", "off", 0, NULL), 0);
    cr_assert_eq(svk_config_add_duration(c, "TIMEOUT", "1m30s", 0, INT64_MAX, 0, NULL), 0);
    cr_assert_eq(svk_config_add_bytes(c, "BODY_LIMIT", "1MiB", 1, UINT64_MAX, 0, NULL), 0);
    cr_assert_eq(svk_config_add_enum(c, "LOG_LEVEL", "info", levels, 0, NULL), 0);
    cr_assert_eq(svk_config_add_url(c, "DATABASE_URL", "postgres://db/orders", pg,
                                    SVK_CONFIG_SECRET, NULL), 0);
    cr_assert_eq(svk_config_add_list(c, "PEERS", "a, b ,c", 0, NULL), 0);
    return c;
}

static int load(svk_config *c, const char *const *envp)
{
    svk_error err;
    svk_error_clear(&err);
    int rc = svk_config_load_env(c, envp, &err);
    cr_assert_eq(err.code, rc);
    return rc;
}

static size_t count_lines(const char *s)
{
    size_t n = 0;
    for (; *s; s++)
        n += *s == '\n';
    return n;
}

Test(config, defaults_fill_every_type)
{
    svk_config *c = every_type();
    cr_assert_eq(load(c, NULL), 0);
    const char *s;
    int64_t i;
    bool b = true;
    uint64_t u;
    size_t idx, n;
    cr_assert_eq(svk_config_get_string(c, "NAME", &s), 0);
    cr_assert_str_eq(s, "orders");
    cr_assert_eq(svk_config_get_int64(c, "PORT", &i), 0);
    cr_assert_eq(i, 8080);
    cr_assert_eq(svk_config_get_bool(c, "DEBUG", &b), 0);
    cr_assert_not(b);
    cr_assert_eq(svk_config_get_duration(c, "TIMEOUT", &i), 0);
    cr_assert_eq(i, INT64_C(90000000000));
    cr_assert_eq(svk_config_get_bytes(c, "BODY_LIMIT", &u), 0);
    cr_assert_eq(u, 1048576);
    cr_assert_eq(svk_config_get_enum(c, "LOG_LEVEL", &idx, &s), 0);
    cr_assert_eq(idx, 1);
    cr_assert_str_eq(s, "info");
    cr_assert_eq(svk_config_get_string(c, "DATABASE_URL", &s), 0);
    cr_assert_str_eq(s, "postgres://db/orders");
    cr_assert_eq(svk_config_get_list_count(c, "PEERS", &n), 0);
    cr_assert_eq(n, 3);
    cr_assert_eq(svk_config_get_list_item(c, "PEERS", 1, &s), 0);
    cr_assert_str_eq(s, "b");
    cr_assert_eq(svk_config_source(c, "PORT"), SVK_CONFIG_SOURCE_DEFAULT);
    cr_assert_str_eq(svk_config_errors(c), "");
    svk_config_free(c);
}

Test(config, environment_overrides_with_prefix)
{
    svk_config *c = every_type();
    const char *env[] = {"APP_PORT=9090", "APP_DEBUG=YES", "APP_TIMEOUT=250ms",
                         "APP_BODY_LIMIT=4.2 kB", "APP_LOG_LEVEL=WARN", "PORT=1",
                         "APP_PEERS=x", "APP_DATABASE_URL=host=db dbname=o", NULL};
    cr_assert_eq(load(c, env), 0);
    int64_t i;
    bool b = false;
    uint64_t u;
    const char *s;
    size_t n;
    cr_assert_eq(svk_config_get_int64(c, "PORT", &i), 0);
    cr_assert_eq(i, 9090);
    cr_assert_eq(svk_config_get_bool(c, "DEBUG", &b), 0);
    cr_assert(b);
    cr_assert_eq(svk_config_get_duration(c, "TIMEOUT", &i), 0);
    cr_assert_eq(i, 250000000);
    cr_assert_eq(svk_config_get_bytes(c, "BODY_LIMIT", &u), 0);
    cr_assert_eq(u, 4200);
    cr_assert_eq(svk_config_get_enum(c, "LOG_LEVEL", NULL, &s), 0);
    cr_assert_str_eq(s, "warn", "the declared spelling comes back");
    cr_assert_eq(svk_config_get_list_count(c, "PEERS", &n), 0);
    cr_assert_eq(n, 1);
    cr_assert_eq(svk_config_source(c, "PORT"), SVK_CONFIG_SOURCE_ENV);
    cr_assert_eq(svk_config_source(c, "NAME"), SVK_CONFIG_SOURCE_DEFAULT);
    svk_config_free(c);
}

Test(config, prefix_spellings)
{
    const char *prefixes[] = {"ORDERS", "ORDERS_"};
    for (int k = 0; k < 2; k++) {
        svk_config *c = make(prefixes[k]);
        cr_assert_eq(svk_config_add_int64(c, "PORT", "1", 1, 9, 0, NULL), 0);
        cr_assert_str_eq(svk_config_field_env_name(c, 0), "ORDERS_PORT");
        const char *env[] = {"ORDERS_PORT=7", NULL};
        cr_assert_eq(load(c, env), 0);
        int64_t v;
        cr_assert_eq(svk_config_get_int64(c, "PORT", &v), 0);
        cr_assert_eq(v, 7);
        svk_config_free(c);
    }
    svk_config *c = make(NULL);
    cr_assert_eq(svk_config_add_int64(c, "PORT", "1", 1, 9, 0, NULL), 0);
    cr_assert_str_eq(svk_config_field_env_name(c, 0), "PORT");
    svk_config_free(c);
    svk_error err;
    cr_assert_eq(svk_config_new(&c, "1BAD", &err), SVK_EINVAL);
    cr_assert_null(c);
    cr_assert_eq(svk_config_new(&c, "BAD-PREFIX", &err), SVK_EINVAL);
    cr_assert_eq(svk_config_new(NULL, "X", &err), SVK_EINVAL);
    cr_assert_eq(svk_config_new(&c, "", &err), 0);
    svk_config_free(c);
    svk_config_free(NULL);
}

Test(config, every_error_reported_at_once)
{
    svk_config *c = every_type();
    cr_assert_eq(svk_config_add_string(c, "REQUIRED_ONE", NULL, SVK_CONFIG_REQUIRED, NULL), 0);
    cr_assert_eq(svk_config_add_string(c, "NOT_EMPTY", "x", 0, NULL), 0);
    const char *env[] = {"APP_PORT=99999", "APP_DEBUG=maybe", "APP_TIMEOUT=-5s",
                         "APP_BODY_LIMIT=12 parsecs", "APP_LOG_LEVEL=loud", "APP_PEERS=a,,b",
                         "APP_DATABASE_URL=mysql://u:pw@h/x", "APP_NOT_EMPTY=", "APP_NAME=ok",
                         NULL};
    svk_error err;
    cr_assert_eq(svk_config_load_env(c, env, &err), SVK_EINVAL);
    const char *text = svk_config_errors(c);
    cr_assert_eq(count_lines(text), 9, "%s", text);
    const char *names[] = {"APP_PORT:", "APP_DEBUG:", "APP_TIMEOUT:", "APP_BODY_LIMIT:",
                           "APP_LOG_LEVEL:", "APP_PEERS:", "APP_DATABASE_URL:",
                           "APP_NOT_EMPTY:", "APP_REQUIRED_ONE:"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        cr_assert_not_null(strstr(text, names[i]), "%s missing from:\n%s", names[i], text);
    cr_assert_null(strstr(text, "APP_NAME"));
    cr_assert_not_null(strstr(text, "must be between 1 and 65535 (value \"99999\")"), "%s", text);
    cr_assert_not_null(strstr(text, "must not be negative"), "%s", text);
    cr_assert_not_null(strstr(text, "must be one of: debug, info, warn, error"), "%s", text);
    cr_assert_not_null(strstr(text, "APP_NOT_EMPTY: must not be empty"), "%s", text);
    cr_assert_not_null(strstr(text, "allowed: postgres, postgresql"), "%s", text);
    cr_assert_null(strstr(text, "mysql"), "secret URL shown:\n%s", text);
    cr_assert_not_null(strstr(text, "APP_DATABASE_URL: invalid URL: scheme not allowed"));
    cr_assert_not_null(strstr(err.message, "config: 9 invalid variables: APP_PORT, APP_DEBUG"),
                       "%s", err.message);
    int64_t v;
    cr_assert_eq(svk_config_get_int64(c, "PORT", &v), SVK_ESTATE);
    cr_assert_eq(svk_config_load_env(c, env, NULL), SVK_ESTATE, "a failed config stays failed");
    svk_buf b = SVK_BUF_INIT;
    cr_assert_eq(svk_config_dump(c, &b), SVK_ESTATE);
    svk_config_free(c);
}

Test(config, required_missing_and_empty_values)
{
    svk_config *c = make("X");
    cr_assert_eq(svk_config_add_string(c, "A", NULL, SVK_CONFIG_REQUIRED, NULL), 0);
    cr_assert_eq(svk_config_add_string(c, "B", NULL, SVK_CONFIG_REQUIRED | SVK_CONFIG_SECRET,
                                       NULL), 0);
    cr_assert_eq(svk_config_add_string(c, "C", "d", SVK_CONFIG_ALLOW_EMPTY, NULL), 0);
    cr_assert_eq(svk_config_add_list(c, "D", NULL, SVK_CONFIG_ALLOW_EMPTY, NULL), 0);
    cr_assert_eq(svk_config_add_int64(c, "E", NULL, 0, 5, SVK_CONFIG_REQUIRED, NULL), 0);
    const char *env[] = {"X_C=", "X_D=", "X_E=", NULL};
    cr_assert_eq(load(c, env), SVK_EINVAL);
    const char *text = svk_config_errors(c);
    cr_assert_eq(count_lines(text), 3, "%s", text);
    cr_assert_not_null(strstr(text, "X_A: required but not set\n"), "%s", text);
    cr_assert_not_null(strstr(text, "X_B: required but not set (set X_B or X_B_FILE)"), "%s",
                       text);
    cr_assert_not_null(strstr(text, "X_E: must not be empty (value \"\")"), "%s", text);
    svk_config_free(c);

    c = make("X");
    cr_assert_eq(svk_config_add_string(c, "C", "d", SVK_CONFIG_ALLOW_EMPTY, NULL), 0);
    cr_assert_eq(svk_config_add_list(c, "D", "a", SVK_CONFIG_ALLOW_EMPTY, NULL), 0);
    cr_assert_eq(svk_config_add_string(c, "UNSET", NULL, 0, NULL), 0);
    cr_assert_eq(svk_config_add_enum(c, "LEVEL", NULL, levels, 0, NULL), 0);
    cr_assert_eq(svk_config_add_int64(c, "N", NULL, 5, 9, 0, NULL), 0);
    const char *env2[] = {"X_C=", "X_D=", NULL};
    cr_assert_eq(load(c, env2), 0);
    const char *s = "junk";
    size_t n = 99, idx = 0;
    int64_t v = 42;
    cr_assert_eq(svk_config_get_string(c, "C", &s), 0);
    cr_assert_str_eq(s, "");
    cr_assert_eq(svk_config_get_list_count(c, "D", &n), 0);
    cr_assert_eq(n, 0);
    cr_assert_eq(svk_config_get_list_item(c, "D", 0, &s), SVK_ERANGE);
    cr_assert_eq(svk_config_get_string(c, "UNSET", &s), 0);
    cr_assert_str_eq(s, "");
    cr_assert_eq(svk_config_source(c, "UNSET"), SVK_CONFIG_SOURCE_UNSET);
    cr_assert_eq(svk_config_get_enum(c, "LEVEL", &idx, &s), 0);
    cr_assert_eq(idx, SIZE_MAX);
    cr_assert_null(s);
    cr_assert_eq(svk_config_get_int64(c, "N", &v), 0);
    cr_assert_eq(v, 0, "unset gives the zero value even outside [min, max]");
    svk_config_free(c);
}

Test(config, type_rules_in_context)
{
    svk_config *c = make("T");
    cr_assert_eq(svk_config_add_duration(c, "NEG", "0s", INT64_MIN, INT64_MAX,
                                         SVK_CONFIG_ALLOW_NEGATIVE, NULL), 0);
    cr_assert_eq(svk_config_add_duration(c, "BOUNDED", "1s", INT64_C(1000000000),
                                         INT64_C(3600000000000), 0, NULL), 0);
    cr_assert_eq(svk_config_add_bytes(c, "SIZE", "1KiB", 1024, 10 * 1048576, 0, NULL), 0);
    cr_assert_eq(svk_config_add_list(c, "HOSTS", "a", 0, NULL), 0);
    cr_assert_eq(svk_config_add_url(c, "HOOK", "https://x", (const char *const[]){"https", NULL},
                                    0, NULL), 0);
    const char *env[] = {"T_NEG=-1h30m", "T_BOUNDED=2h", "T_SIZE=12MiB", "T_HOSTS= a ,b\t, c ",
                         "T_HOOK=https://hooks.example.com/x?y=1", NULL};
    cr_assert_eq(load(c, env), SVK_EINVAL);
    const char *text = svk_config_errors(c);
    cr_assert_eq(count_lines(text), 2, "%s", text);
    cr_assert_not_null(strstr(text, "T_SIZE: must be between 1KiB and 10MiB (value \"12MiB\")"),
                       "%s", text);
    svk_config_free(c);

    c = make("T");
    cr_assert_eq(svk_config_add_duration(c, "BOUNDED", "1s", INT64_C(1000000000),
                                         INT64_C(3600000000000), 0, NULL), 0);
    cr_assert_eq(svk_config_add_list(c, "HOSTS", "a", 0, NULL), 0);
    const char *env2[] = {"T_BOUNDED=2h", "T_HOSTS= a ,b\t, c ", NULL};
    cr_assert_eq(load(c, env2), SVK_EINVAL);
    cr_assert_str_eq(svk_config_errors(c),
                     "T_BOUNDED: must be between 1s and 1h (value \"2h\")\n");
    svk_config_free(c);

    c = make("T");
    cr_assert_eq(svk_config_add_list(c, "HOSTS", "a", 0, NULL), 0);
    const char *env3[] = {"T_HOSTS= a ,b\t, c ", NULL};
    cr_assert_eq(load(c, env3), 0);
    const char *item;
    size_t n;
    cr_assert_eq(svk_config_get_list_count(c, "HOSTS", &n), 0);
    cr_assert_eq(n, 3);
    const char *want[] = {"a", "b", "c"};
    for (size_t i = 0; i < 3; i++) {
        cr_assert_eq(svk_config_get_list_item(c, "HOSTS", i, &item), 0);
        cr_assert_str_eq(item, want[i]);
    }
    svk_config_free(c);
}

Test(config, bad_lists)
{
    const char *bad[] = {"a,,b", "a,", ",a", " , ", ",", "a, ,b"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        svk_config *c = make("L");
        cr_assert_eq(svk_config_add_list(c, "ITEMS", NULL, 0, NULL), 0);
        char var[64];
        snprintf(var, sizeof var, "L_ITEMS=%s", bad[i]);
        const char *env[] = {var, NULL};
        cr_assert_eq(load(c, env), SVK_EINVAL, "%s", bad[i]);
        cr_assert_not_null(strstr(svk_config_errors(c), "empty item"));
        svk_config_free(c);
    }
}

Test(config, declaration_errors_are_returned_and_sticky)
{
    svk_config *c = make("D");
    cr_assert_eq(svk_config_add_int64(c, "PORT", "http", 1, 65535, 0, NULL), SVK_EINVAL);
    cr_assert_eq(svk_config_add_int64(c, "PORT2", "0", 1, 65535, 0, NULL), SVK_EINVAL);
    cr_assert_eq(svk_config_add_int64(c, "OK", "1", 1, 65535, 0, NULL), 0);
    cr_assert_eq(svk_config_add_int64(c, "OK", "1", 1, 65535, 0, NULL), SVK_EEXIST);
    cr_assert_eq(svk_config_add_string(c, "R", "x", SVK_CONFIG_REQUIRED, NULL), SVK_EINVAL);
    cr_assert_eq(svk_config_add_int64(c, "E", "1", 0, 9, SVK_CONFIG_ALLOW_EMPTY, NULL),
                 SVK_EINVAL);
    cr_assert_eq(svk_config_add_int64(c, "N", "1", 0, 9, SVK_CONFIG_ALLOW_NEGATIVE, NULL),
                 SVK_EINVAL);
    cr_assert_eq(svk_config_add_bool(c, "F", "1", 1u << 20, NULL), SVK_EINVAL);
    cr_assert_eq(svk_config_add_int64(c, "M", "1", 9, 0, 0, NULL), SVK_EINVAL);
    cr_assert_eq(svk_config_add_duration(c, "DM", "1s", 9, 0, 0, NULL), SVK_EINVAL);
    cr_assert_eq(svk_config_add_bytes(c, "BM", "1", 9, 0, 0, NULL), SVK_EINVAL);
    cr_assert_eq(svk_config_add_string(c, "bad-name", NULL, 0, NULL), SVK_EINVAL);
    cr_assert_eq(svk_config_add_string(c, NULL, NULL, 0, NULL), SVK_EINVAL);
    cr_assert_eq(svk_config_add_string(c, "", NULL, 0, NULL), SVK_EINVAL);
    cr_assert_eq(svk_config_add_enum(c, "EN", NULL, (const char *const[]){NULL}, 0, NULL),
                 SVK_EINVAL);
    cr_assert_eq(svk_config_add_enum(c, "EN", NULL, NULL, 0, NULL), SVK_EINVAL);
    cr_assert_eq(svk_config_add_enum(c, "EN", NULL, (const char *const[]){"a", "A", NULL}, 0,
                                     NULL), SVK_EINVAL);
    cr_assert_eq(svk_config_add_enum(c, "EN", NULL, (const char *const[]){"a", "", NULL}, 0,
                                     NULL), SVK_EINVAL);
    cr_assert_eq(svk_config_add_url(c, "U", NULL, (const char *const[]){NULL}, 0, NULL),
                 SVK_EINVAL);
    cr_assert_eq(svk_config_add_url(c, "U", NULL, (const char *const[]){"HTTP", NULL}, 0, NULL),
                 SVK_EINVAL);
    cr_assert_eq(svk_config_add_string(c, "SEC", "", SVK_CONFIG_SECRET, NULL), SVK_EINVAL);
    cr_assert_eq(svk_config_add_string(c, "SEC", "hunter2x", SVK_CONFIG_SECRET | 1u << 9, NULL),
                 SVK_EINVAL);
    cr_assert_eq(svk_config_add_int64(c, "SEC2", "hunter2", 0, 1, SVK_CONFIG_SECRET, NULL),
                 SVK_EINVAL);
    cr_assert_eq(svk_config_set_validator(c, "NOPE", NULL, NULL), SVK_ENOENT);
    cr_assert_eq(svk_config_field_count(c), 1, "only OK was added");
    const char *text = svk_config_errors(c);
    cr_assert_not_null(strstr(text, "D_PORT: invalid declaration: default rejected: invalid "
                                    "integer"), "%s", text);
    cr_assert_not_null(strstr(text, "D_OK: invalid declaration: declared twice"), "%s", text);
    cr_assert_null(strstr(text, "hunter2"), "a secret default was shown:\n%s", text);
    svk_error err;
    cr_assert_eq(svk_config_load_env(c, NULL, &err), SVK_EINVAL, "the first error sticks");
    cr_assert_not_null(strstr(err.message, "invalid declarations"), "%s", err.message);
    cr_assert_eq(svk_config_add_string(NULL, "X", NULL, 0, NULL), SVK_EINVAL);
    svk_config_free(c);
}

Test(config, no_declarations_after_load)
{
    svk_config *c = make("S");
    cr_assert_eq(load(c, NULL), 0);
    cr_assert_eq(svk_config_add_string(c, "LATE", NULL, 0, NULL), SVK_ESTATE);
    cr_assert_eq(svk_config_set_validator(c, "LATE", NULL, NULL), SVK_ESTATE);
    cr_assert_eq(svk_config_load_env(c, NULL, NULL), SVK_ESTATE);
    cr_assert_eq(svk_config_load_env(NULL, NULL, NULL), SVK_EINVAL);
    svk_config_free(c);
}

/* A temp file holding content; the path is written to path. */
static void temp_file(char *path, size_t size, const char *content, size_t len)
{
    snprintf(path, size, "/tmp/svk-config-test-XXXXXX");
    int fd = mkstemp(path);
    cr_assert_geq(fd, 0);
    cr_assert_eq(write(fd, content, len), (ssize_t)len);
    close(fd);
}

Test(config, file_convention)
{
    char path[64], var[128];
    temp_file(path, sizeof path, "s3cr3t-value\r\n\n", 15);
    svk_config *c = make("F");
    cr_assert_eq(svk_config_add_string(c, "TOKEN", NULL, SVK_CONFIG_SECRET | SVK_CONFIG_REQUIRED,
                                       NULL), 0);
    cr_assert_eq(svk_config_add_int64(c, "PORT", "1", 0, 99, SVK_CONFIG_FILE, NULL), 0);
    snprintf(var, sizeof var, "F_TOKEN_FILE=%s", path);
    const char *env[] = {var, NULL};
    cr_assert_eq(load(c, env), 0);
    const char *s;
    cr_assert_eq(svk_config_get_string(c, "TOKEN", &s), 0);
    cr_assert_str_eq(s, "s3cr3t-value");
    cr_assert_eq(svk_config_source(c, "TOKEN"), SVK_CONFIG_SOURCE_FILE);
    svk_buf b = SVK_BUF_INIT;
    cr_assert_eq(svk_config_dump(c, &b), 0);
    cr_assert_str_eq((char *)b.data, "F_TOKEN=<redacted> # file\nF_PORT=1 # default\n");
    svk_buf_free(&b);
    svk_config_free(c);
    unlink(path);
}

Test(config, file_convention_errors)
{
    char path[64], var[128], var2[128];
    temp_file(path, sizeof path, "42x\n", 4);
    svk_config *c = make("F");
    cr_assert_eq(svk_config_add_string(c, "TOKEN", NULL, SVK_CONFIG_SECRET, NULL), 0);
    cr_assert_eq(svk_config_add_string(c, "KEY", NULL, SVK_CONFIG_SECRET, NULL), 0);
    cr_assert_eq(svk_config_add_int64(c, "PORT", "1", 0, 99, SVK_CONFIG_FILE, NULL), 0);
    cr_assert_eq(svk_config_add_int64(c, "PLAIN", "1", 0, 99, 0, NULL), 0);
    snprintf(var, sizeof var, "F_PORT_FILE=%s", path);
    snprintf(var2, sizeof var2, "F_PLAIN_FILE=%s", path);
    const char *env[] = {"F_TOKEN=a", "F_TOKEN_FILE=/nonexistent", "F_KEY_FILE=/nonexistent/k",
                         var, var2, NULL};
    cr_assert_eq(load(c, env), SVK_EINVAL);
    const char *text = svk_config_errors(c);
    cr_assert_eq(count_lines(text), 3, "%s", text);
    cr_assert_not_null(strstr(text, "F_TOKEN: both F_TOKEN and F_TOKEN_FILE are set"), "%s",
                       text);
    cr_assert_not_null(strstr(text, "F_KEY_FILE: cannot open file \"/nonexistent/k\": No such"),
                       "%s", text);
    cr_assert_not_null(strstr(text, "F_PORT_FILE: invalid integer"), "%s", text);
    cr_assert_not_null(strstr(text, "(value \"42x\")"), "%s", text);
    cr_assert_not_null(strstr(svk_config_warnings(c), "F_PLAIN_FILE: set, but no field reads "
                                                      "it; ignored"), "%s",
                       svk_config_warnings(c));
    svk_config_free(c);
    unlink(path);
}

Test(config, empty_and_nul_files)
{
    char path[64], var[128];
    temp_file(path, sizeof path, "\n", 1);
    svk_config *c = make("F");
    cr_assert_eq(svk_config_add_string(c, "TOKEN", NULL, SVK_CONFIG_SECRET, NULL), 0);
    snprintf(var, sizeof var, "F_TOKEN_FILE=%s", path);
    const char *env[] = {var, NULL};
    cr_assert_eq(load(c, env), SVK_EINVAL);
    cr_assert_str_eq(svk_config_errors(c), "F_TOKEN_FILE: must not be empty (value <redacted>)\n");
    svk_config_free(c);
    unlink(path);
    temp_file(path, sizeof path, "ab\0cd", 5);
    c = make("F");
    cr_assert_eq(svk_config_add_string(c, "TOKEN", NULL, SVK_CONFIG_SECRET, NULL), 0);
    snprintf(var, sizeof var, "F_TOKEN_FILE=%s", path);
    cr_assert_eq(load(c, env), SVK_EINVAL);
    cr_assert_not_null(strstr(svk_config_errors(c), "contains a NUL byte"));
    svk_config_free(c);
    unlink(path);
}

Test(config, big_file_values)
{
    static char big[300000];
    memset(big, 'k', sizeof big);
    char path[64], var[128];
    temp_file(path, sizeof path, big, sizeof big);
    svk_config *c = make("F");
    cr_assert_eq(svk_config_add_string(c, "CERT", NULL, SVK_CONFIG_FILE, NULL), 0);
    snprintf(var, sizeof var, "F_CERT_FILE=%s", path);
    const char *env[] = {var, NULL};
    cr_assert_eq(load(c, env), 0);
    const char *s;
    cr_assert_eq(svk_config_get_string(c, "CERT", &s), 0);
    cr_assert_eq(strlen(s), sizeof big);
    svk_config_free(c);
    unlink(path);
}

Test(config, unknown_prefixed_variables_warn_but_do_not_fail)
{
    svk_config *c = every_type();
    const char *env[] = {"APP_PROT=1", "APP_PORT=2", "APPLE=1", "APP_DATABASE_URL_FILE_X=1",
                         "OTHER=1", NULL};
    cr_assert_eq(load(c, env), 0);
    cr_assert_str_eq(svk_config_warnings(c),
                     "APP_PROT: set, but no field reads it; ignored\n"
                     "APP_DATABASE_URL_FILE_X: set, but no field reads it; ignored\n");
    svk_config_free(c);
    c = make(NULL);
    cr_assert_eq(load(c, env), 0);
    cr_assert_str_eq(svk_config_warnings(c), "", "no prefix, no warnings");
    svk_config_free(c);
}

Test(config, dump_and_field_iteration)
{
    svk_config *c = every_type();
    cr_assert_eq(svk_config_add_string(c, "MOTD", NULL, 0, NULL), 0);
    cr_assert_eq(svk_config_add_string(c, "BANNER", NULL, 0, NULL), 0);
    const char *env[] = {"APP_PORT=9000", "APP_BANNER=two\nlines \"q\" \\ \x01", NULL};
    cr_assert_eq(load(c, env), 0);
    svk_buf b = SVK_BUF_INIT;
    cr_assert_eq(svk_config_dump(c, &b), 0);
    cr_assert_str_eq((char *)b.data,
                     "APP_NAME=orders # default\n"
                     "APP_PORT=9000 # env\n"
                     "APP_DEBUG=off # default\n"
                     "APP_TIMEOUT=1m30s # default\n"
                     "APP_BODY_LIMIT=1MiB # default\n"
                     "APP_LOG_LEVEL=info # default\n"
                     "APP_DATABASE_URL=<redacted> # default\n"
                     "APP_PEERS=a, b ,c # default\n"
                     "APP_MOTD= # unset\n"
                     "APP_BANNER=two\\nlines \\\"q\\\" \\\\ \\x01 # env\n");
    svk_buf_free(&b);
    cr_assert_eq(svk_config_field_count(c), 10);
    cr_assert_str_eq(svk_config_field_name(c, 6), "DATABASE_URL");
    cr_assert(svk_config_field_is_secret(c, 6));
    cr_assert_not(svk_config_field_is_secret(c, 1));
    cr_assert_not(svk_config_field_is_secret(c, 99));
    cr_assert_str_eq(svk_config_field_value_text(c, 6), SVK_CONFIG_REDACTED);
    cr_assert_str_eq(svk_config_field_value_text(c, 1), "9000");
    cr_assert_null(svk_config_field_value_text(c, 8));
    cr_assert_null(svk_config_field_name(c, 10));
    cr_assert_eq(svk_config_field_type(c, 3), SVK_CONFIG_DURATION);
    cr_assert_eq(svk_config_field_type(c, 30), SVK_EINVAL);
    cr_assert_eq(svk_config_field_source(c, 1), SVK_CONFIG_SOURCE_ENV);
    cr_assert(svk_config_is_secret(c, "DATABASE_URL"));
    cr_assert(svk_config_is_secret(c, "database_url"));
    cr_assert(svk_config_is_secret(c, "APP_DATABASE_URL"));
    cr_assert_not(svk_config_is_secret(c, "PORT"));
    cr_assert_not(svk_config_is_secret(c, "nope"));
    cr_assert_not(svk_config_is_secret(NULL, "nope"));
    svk_config_free(c);
}

Test(config, help_lists_every_field)
{
    svk_config *c = every_type();
    cr_assert_eq(svk_config_add_string(c, "TOKEN", NULL, SVK_CONFIG_SECRET | SVK_CONFIG_REQUIRED,
                                       "API token"), 0);
    svk_buf b = SVK_BUF_INIT;
    cr_assert_eq(svk_config_help(c, &b), 0);
    const char *h = (char *)b.data;
    cr_assert_not_null(strstr(h, "  APP_PORT  int64 [1, 65535], default \"8080\"\n"
                                 "      listen port\n"), "%s", h);
    cr_assert_not_null(strstr(h, "  APP_LOG_LEVEL  enum (debug|info|warn|error), default "
                                 "\"info\"\n"), "%s", h);
    cr_assert_not_null(strstr(h, "  APP_DATABASE_URL  url (postgres|postgresql), default "
                                 "<redacted>, secret, or APP_DATABASE_URL_FILE=path\n"), "%s", h);
    cr_assert_not_null(strstr(h, "  APP_TOKEN  string, required, secret, or APP_TOKEN_FILE=path"
                                 "\n      API token\n"), "%s", h);
    cr_assert_null(strstr(h, "postgres://db/orders"), "%s", h);
    svk_buf_free(&b);
    svk_config_free(c);
}

Test(config, getter_errors)
{
    svk_config *c = every_type();
    int64_t v = 5;
    const char *s = NULL;
    cr_assert_eq(svk_config_get_int64(c, "PORT", &v), SVK_ESTATE, "not loaded yet");
    cr_assert_eq(svk_config_source(c, "PORT"), SVK_ESTATE);
    cr_assert_eq(svk_config_field_source(c, 0), SVK_ESTATE);
    cr_assert_null(svk_config_field_value_text(c, 0));
    cr_assert_eq(load(c, NULL), 0);
    cr_assert_eq(svk_config_get_int64(c, "NOPE", &v), SVK_ENOENT);
    cr_assert_eq(svk_config_get_int64(c, "NAME", &v), SVK_EINVAL, "type mismatch");
    cr_assert_eq(svk_config_get_string(c, "PORT", &s), SVK_EINVAL);
    cr_assert_eq(svk_config_get_bool(c, "PORT", NULL), SVK_EINVAL);
    cr_assert_eq(svk_config_get_int64(c, "PORT", NULL), SVK_EINVAL);
    cr_assert_eq(svk_config_get_int64(NULL, "PORT", &v), SVK_EINVAL);
    cr_assert_eq(svk_config_get_int64(c, NULL, &v), SVK_EINVAL);
    cr_assert_eq(svk_config_get_list_item(c, "PEERS", 3, &s), SVK_ERANGE);
    cr_assert_eq(svk_config_source(c, "NOPE"), SVK_ENOENT);
    cr_assert_eq(v, 5, "untouched on failure");
    cr_assert_null(s);
    svk_buf b = SVK_BUF_INIT;
    cr_assert_eq(svk_config_dump(NULL, &b), SVK_EINVAL);
    cr_assert_eq(svk_config_dump(c, NULL), SVK_EINVAL);
    cr_assert_eq(svk_config_help(NULL, &b), SVK_EINVAL);
    cr_assert_str_eq(svk_config_errors(NULL), "");
    cr_assert_str_eq(svk_config_warnings(NULL), "");
    cr_assert_eq(svk_config_field_count(NULL), 0);
    svk_config_free(c);
}

static int even_port(const char *name, const char *value, size_t len, char *reason,
                     size_t size, void *user)
{
    (void)len;
    cr_assert_str_eq(name, "V_PORT");
    ++*(int *)user;
    if (atoi(value) % 2 == 0)
        return 0;
    snprintf(reason, size, "must be even");
    return -1;
}

static int echo_value(const char *name, const char *value, size_t len, char *reason,
                      size_t size, void *user)
{
    (void)name, (void)len, (void)user;
    snprintf(reason, size, "I do not like %s\nat all", value);
    return 1;
}

static int silent_no(const char *name, const char *value, size_t len, char *reason,
                     size_t size, void *user)
{
    (void)name, (void)value, (void)len, (void)reason, (void)size, (void)user;
    return 1;
}

Test(config, validators)
{
    int calls = 0;
    svk_config *c = make("V");
    cr_assert_eq(svk_config_add_int64(c, "PORT", "8080", 1, 65535, 0, NULL), 0);
    cr_assert_eq(svk_config_set_validator(c, "PORT", even_port, &calls), 0);
    cr_assert_eq(svk_config_add_string(c, "KEY", NULL, SVK_CONFIG_SECRET, NULL), 0);
    cr_assert_eq(svk_config_set_validator(c, "KEY", echo_value, NULL), 0);
    cr_assert_eq(svk_config_add_string(c, "NAME", "n", 0, NULL), 0);
    cr_assert_eq(svk_config_set_validator(c, "NAME", echo_value, NULL), 0);
    cr_assert_eq(svk_config_add_string(c, "QUIET", "q", 0, NULL), 0);
    cr_assert_eq(svk_config_set_validator(c, "QUIET", silent_no, NULL), 0);
    cr_assert_eq(svk_config_add_string(c, "UNSET", NULL, 0, NULL), 0);
    cr_assert_eq(svk_config_set_validator(c, "UNSET", silent_no, NULL), 0);
    const char *env[] = {"V_PORT=8081", "V_KEY=hunter2", NULL};
    cr_assert_eq(load(c, env), SVK_EINVAL);
    cr_assert_eq(calls, 1);
    const char *text = svk_config_errors(c);
    cr_assert_eq(count_lines(text), 4, "%s", text);
    cr_assert_not_null(strstr(text, "V_PORT: must be even (value \"8081\")"), "%s", text);
    cr_assert_not_null(strstr(text, "V_KEY: rejected by validator (value <redacted>)"), "%s",
                       text);
    cr_assert_not_null(strstr(text, "V_NAME: I do not like n at all (value \"n\", the default)"),
                       "%s", text);
    cr_assert_not_null(strstr(text, "V_QUIET: rejected by validator"), "%s", text);
    cr_assert_null(strstr(text, "hunter2"));
    svk_config_free(c);
}

Test(config, error_values_are_escaped_and_cut)
{
    svk_config *c = make("E");
    cr_assert_eq(svk_config_add_int64(c, "N", NULL, 0, 9, 0, NULL), 0);
    cr_assert_eq(svk_config_add_int64(c, "M", NULL, 0, 9, 0, NULL), 0);
    char longv[300];
    memset(longv, '7', sizeof longv);
    memcpy(longv, "E_M=", 4);
    longv[sizeof longv - 1] = '\0';
    const char *env[] = {"E_N=1\n2\"\x7f", longv, NULL};
    cr_assert_eq(load(c, env), SVK_EINVAL);
    const char *text = svk_config_errors(c);
    cr_assert_eq(count_lines(text), 2, "%s", text);
    cr_assert_not_null(strstr(text, "(value \"1\\n2\\\"\\x7f\")"), "%s", text);
    cr_assert_not_null(strstr(text, "77777\"...)"), "%s", text);
    svk_config_free(c);
}

Test(config, first_of_duplicate_variables_wins)
{
    svk_config *c = make("D");
    cr_assert_eq(svk_config_add_int64(c, "N", NULL, 0, 9, 0, NULL), 0);
    const char *env[] = {"D_NX=5", "D_N=3", "D_N=4", NULL};
    cr_assert_eq(load(c, env), 0);
    int64_t v;
    cr_assert_eq(svk_config_get_int64(c, "N", &v), 0);
    cr_assert_eq(v, 3);
    svk_config_free(c);
}

Test(config, load_reads_the_process_environment)
{
    cr_assert_eq(setenv("SVKTEST_PORT", "4242", 1), 0);
    cr_assert_eq(setenv("SVKTEST_TYPO", "1", 1), 0);
    svk_config *c = make("SVKTEST");
    cr_assert_eq(svk_config_add_int64(c, "PORT", "1", 1, 65535, 0, NULL), 0);
    cr_assert_eq(svk_config_load(c, NULL), 0);
    int64_t v;
    cr_assert_eq(svk_config_get_int64(c, "PORT", &v), 0);
    cr_assert_eq(v, 4242);
    cr_assert_str_eq(svk_config_warnings(c), "SVKTEST_TYPO: set, but no field reads it; ignored\n");
    svk_config_free(c);
    unsetenv("SVKTEST_PORT");
    unsetenv("SVKTEST_TYPO");
}
