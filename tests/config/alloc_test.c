/*
 * alloc_test.c — every allocation the config module makes goes through the
 * library's hooks, and failing each one in turn (jansson's test_chaos idea)
 * gives SVK_ENOMEM from new, an add (then sticky into load), load, dump or
 * help, never a crash, a leak or a wrong success.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "svckit/config.h"
#include "support/chaos_alloc.h"

static const char *const levels[] = {"debug", "info", "warn", NULL};
static const char *const pg[] = {"postgres", "postgresql", NULL};
static char secret_path[64];
static char secret_var[128];

static void make_secret_file(void)
{
    snprintf(secret_path, sizeof secret_path, "/tmp/svk-config-alloc-XXXXXX");
    int fd = mkstemp(secret_path);
    cr_assert_geq(fd, 0);
    char big[1000];
    memset(big, 's', sizeof big); /* several buffer growths */
    cr_assert_eq(write(fd, big, sizeof big), (ssize_t)sizeof big);
    close(fd);
    snprintf(secret_var, sizeof secret_var, "APP_TOKEN_FILE=%s", secret_path);
}

static int first_error(int rc, int next) { return rc != 0 ? rc : next; }

static int declare_all(svk_config *c)
{
    int rc = svk_config_add_string(c, "NAME", "orders", 0, "the name");
    rc = first_error(rc, svk_config_add_int64(c, "PORT", "8080", 1, 65535, 0, "port"));
    rc = first_error(rc, svk_config_add_bool(c, "DEBUG", "no", 0, NULL));
    rc = first_error(rc, svk_config_add_duration(c, "TIMEOUT", "5s", 0, INT64_MAX, 0, NULL));
    rc = first_error(rc, svk_config_add_bytes(c, "LIMIT", "1MB", 0, UINT64_MAX, 0, NULL));
    rc = first_error(rc, svk_config_add_enum(c, "LEVEL", "info", levels, 0, NULL));
    rc = first_error(rc, svk_config_add_url(c, "DB", NULL, pg, SVK_CONFIG_SECRET, NULL));
    rc = first_error(rc, svk_config_add_list(c, "PEERS", "a,b,c", 0, NULL));
    rc = first_error(rc, svk_config_add_string(c, "TOKEN", NULL, SVK_CONFIG_SECRET, NULL));
    return rc;
}

/* new, declare, load (with bad values when bad), dump, help; first error. */
static int scenario(bool bad)
{
    const char *good_env[] = {"APP_PORT=9000", "APP_DB=host=db dbname=x", "APP_TYPO=1",
                              secret_var, "APP_PEERS=x, y", NULL};
    const char *bad_env[] = {"APP_PORT=0", "APP_DB=mysql://x", "APP_LEVEL=loud",
                             "APP_PEERS=,", secret_var, "APP_TOKEN=x", NULL};
    svk_config *c = NULL;
    int rc = svk_config_new(&c, "APP", NULL);
    if (rc != 0)
        return rc;
    rc = declare_all(c);
    int load_rc = svk_config_load_env(c, bad ? bad_env : good_env, NULL);
    rc = first_error(rc, load_rc);
    if (rc == 0 && load_rc == 0) {
        svk_buf b = SVK_BUF_INIT;
        rc = first_error(svk_config_dump(c, &b), svk_config_help(c, &b));
        svk_buf_free(&b);
    }
    svk_config_free(c);
    return rc;
}

static void fail_each_allocation(bool bad, int ok_rc)
{
    make_secret_file();
    install_chaos(-1);
    cr_assert_eq(scenario(bad), ok_rc);
    cr_assert_eq(chaos.live, 0);
    long total = chaos.calls;
    cr_assert_gt(total, 20);
    cr_log_info("%s environment: %ld allocations, each failed in turn", bad ? "bad" : "good",
                total);
    for (long k = 0; k < total; k++) {
        install_chaos(k);
        int rc = scenario(bad);
        cr_assert_eq(rc, SVK_ENOMEM, "allocation %ld of %ld: got %s", k, total,
                     svk_errname(rc));
        cr_assert_eq(chaos.live, 0, "leak after failing allocation %ld", k);
    }
    svk_set_allocator(NULL, NULL, NULL, NULL);
    unlink(secret_path);
}

Test(config_alloc, good_environment)
{
    fail_each_allocation(false, 0);
}

Test(config_alloc, bad_environment)
{
    fail_each_allocation(true, SVK_EINVAL);
}

Test(config_alloc, new_reports_enomem_in_err)
{
    install_chaos(0);
    svk_config *c = (svk_config *)1;
    svk_error err;
    cr_assert_eq(svk_config_new(&c, "X", &err), SVK_ENOMEM);
    cr_assert_null(c);
    cr_assert_eq(err.code, SVK_ENOMEM);
    cr_assert_eq(chaos.live, 0);
    svk_set_allocator(NULL, NULL, NULL, NULL);
}
