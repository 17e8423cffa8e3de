/*
 * secret_child.c — the program secret_test.c runs as a child process. It
 * loads a good config from the real environment (prefix SVC), prints
 * everything the module can print about it, then loads a bad one (prefix
 * BAD) with svk_config_load_or_exit, which must exit with status 78. The
 * parent searches all of its stdout and stderr for the secret values.
 */
#include <stdio.h>
#include <string.h>

#include "svckit/config.h"

static const char *const pg[] = {"postgres", "postgresql", NULL};

static int echo_value(const char *name, const char *value, size_t len, char *reason,
                      size_t size, void *user)
{
    (void)name, (void)len, (void)user;
    snprintf(reason, size, "value %s is not acceptable", value);
    return 1;
}

static void print_good(void)
{
    svk_config *c = NULL;
    svk_config_new(&c, "SVC", NULL);
    svk_config_add_int64(c, "PORT", "8080", 1, 65535, 0, "port");
    svk_config_add_string(c, "DB_PASSWORD", NULL, SVK_CONFIG_SECRET | SVK_CONFIG_REQUIRED, NULL);
    svk_config_add_url(c, "DATABASE_URL", NULL, pg, SVK_CONFIG_SECRET, "database");
    svk_config_add_string(c, "API_TOKEN", NULL, SVK_CONFIG_SECRET, NULL);
    svk_config_add_string(c, "DEV_KEY", "default-secret-JJJ000", SVK_CONFIG_SECRET, NULL);
    svk_config_load_or_exit(c);
    svk_buf b = SVK_BUF_INIT;
    svk_config_dump(c, &b);
    svk_config_help(c, &b);
    for (size_t i = 0; i < svk_config_field_count(c); i++)
        svk_buf_appendf(&b, "field %s=%s\n", svk_config_field_env_name(c, i),
                        svk_config_field_value_text(c, i));
    printf("%s%s%s", (char *)b.data, svk_config_errors(c), svk_config_warnings(c));
    svk_buf_free(&b);
    svk_config_free(c);
}

static void load_bad(void)
{
    svk_config *c = NULL;
    svk_config_new(&c, "BAD", NULL);
    svk_config_add_url(c, "DATABASE_URL", NULL, pg, SVK_CONFIG_SECRET, NULL);
    svk_config_add_int64(c, "PIN", NULL, 0, 9999, SVK_CONFIG_SECRET, NULL);
    svk_config_add_string(c, "KEY", NULL, SVK_CONFIG_SECRET, NULL);
    svk_config_set_validator(c, "KEY", echo_value, NULL);
    svk_config_add_string(c, "TOKEN", NULL, SVK_CONFIG_SECRET, NULL);
    svk_config_add_string(c, "GOOD", NULL, SVK_CONFIG_SECRET, NULL);
    svk_config_add_int64(c, "PORT", NULL, 1, 65535, 0, NULL);
    svk_config_load_or_exit(c);
    puts("load_or_exit returned on a bad config");
}

int main(void)
{
    print_good();
    fflush(stdout);
    load_bad();
    return 0;
}
