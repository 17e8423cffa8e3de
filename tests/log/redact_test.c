/*
 * redact_test.c — the deny-list: default and configured keys, whole-key
 * and separator-suffix matches, any case, any depth, bound attributes,
 * whole groups, SVK_SECRET; and that the secret text appears nowhere.
 */
#include <criterion/criterion.h>
#include <stdio.h>

#include "capture.h"

#define SECRET "s3cr3t-value"

static capture cap;

static svk_logger *logger_with_extra_keys(int format)
{
    static const char *const extra[] = {"Pin", "x-api-key"};
    memset(&cap, 0, sizeof cap);
    svk_log_options o = capture_options(&cap, format);
    o.redact_keys = extra;
    o.redact_count = 2;
    svk_logger *l;
    cr_assert_eq(svk_logger_new(&l, &o, NULL), 0);
    return l;
}

Test(redact, deny_list_matches_whole_keys_and_suffixes_in_any_case)
{
    svk_logger *l = logger_with_extra_keys(SVK_LOG_JSON);
    static const char *const hidden[] = {
        "password", "PASSWORD", "secret", "token", "Authorization", "cookie", "db_password",
        "X-Auth-Token", "set-cookie", "http.cookie", "client_secret", "pin", "user_PIN",
        "X-API-KEY"};
    static const char *const shown[] = {"tokens", "token_count", "passwords", "mysecret",
                                         "cookies", "spin", "id", "", "api-key"};
    for (size_t i = 0; i < sizeof hidden / sizeof hidden[0]; i++)
        svk_log_info(l, "m", SVK_STR(hidden[i], SECRET));
    cr_assert_null(strstr(cap.text, SECRET), "%s", cap.text);
    capture_reset(&cap);
    for (size_t i = 0; i < sizeof shown / sizeof shown[0]; i++) {
        svk_log_info(l, "m", SVK_STR(shown[i], SECRET));
        cr_assert_not_null(strstr(cap.text, SECRET), "%s was redacted", shown[i]);
        capture_reset(&cap);
    }
    svk_logger_free(l);
}

Test(redact, nested_groups_bound_attributes_and_secrets)
{
    for (int format = SVK_LOG_JSON; format <= SVK_LOG_TEXT; format++) {
        svk_logger *l = logger_with_extra_keys(format);
        svk_logger *child;
        const svk_attr bound[] = {SVK_STR("session_token", SECRET), SVK_STR("ok", "v1")};
        cr_assert_eq(svk_logger_with(l, bound, 2, &child), 0);
        svk_log_info(child, "m",
                     SVK_GROUP("a", SVK_GROUP("b", SVK_STR("Password", SECRET), SVK_INT("n", 1))),
                     SVK_GROUP("cookie", SVK_STR("inner", SECRET)),
                     SVK_SECRET("anything", SECRET), SVK_STRN("pin", SECRET, 4));
        cr_assert_null(strstr(cap.text, SECRET), "%s", cap.text);
        cr_assert_null(strstr(cap.text, "s3cr"), "%s", cap.text);
        cr_assert_not_null(strstr(cap.text, "v1"));
        cr_assert_not_null(strstr(cap.text, format == SVK_LOG_JSON ? "\"n\":1" : "a.b.n=1"));
        const char *want = format == SVK_LOG_JSON ? "\"cookie\":\"<redacted>\""
                                                  : "cookie=<redacted>";
        cr_assert_not_null(strstr(cap.text, want), "%s", cap.text);
        svk_logger_free(child);
        svk_logger_free(l);
        capture_reset(&cap);
    }
}

Test(redact, empty_configured_key_is_rejected)
{
    static const char *const extra[] = {"ok", ""};
    svk_log_options o = capture_options(&cap, SVK_LOG_JSON);
    o.redact_keys = extra;
    o.redact_count = 2;
    svk_logger *l = (svk_logger *)&o;
    svk_error err;
    cr_assert_eq(svk_logger_new(&l, &o, &err), SVK_EINVAL);
    cr_assert_null(l);
    cr_assert_not_null(strstr(err.message, "redact"));
}
