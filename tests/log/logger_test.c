/*
 * logger_test.c — the logger tree and its options: with/bind children and
 * their pre-rendered attributes, freeing in any order, option checks,
 * sampling, counters, errno, and svk_log_config's one line.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <errno.h>
#include <jansson.h>
#include <stdlib.h>

#include "capture.h"
#include "svckit/config.h"

#define HEAD "{\"time\":\"" CAPTURE_TIME_TEXT "\",\"level\":"

static capture cap;

Test(logger, with_and_bind_prepend_their_attributes)
{
    svk_logger *root = capture_logger(&cap, SVK_LOG_JSON);
    svk_logger *svc, *req;
    const svk_attr base[] = {SVK_STR("service", "orders"), SVK_INT("pid", 42)};
    cr_assert_eq(svk_logger_with(root, base, 2, &svc), 0);
    cr_assert_eq(svk_logger_bind(svc, "req-1", "4bf92f3577b34da6a3ce929d0e0e4736", NULL, &req), 0);
    svk_log_info(req, "handled", SVK_INT("status", 200));
    svk_log_info(svc, "idle");
    cr_assert_str_eq(cap.text, HEAD "\"INFO\",\"msg\":\"handled\",\"service\":\"orders\",\"pid\":42,"
                                    "\"request_id\":\"req-1\",\"trace_id\":"
                                    "\"4bf92f3577b34da6a3ce929d0e0e4736\",\"status\":200}\n" HEAD
                                    "\"INFO\",\"msg\":\"idle\",\"service\":\"orders\",\"pid\":42}\n");
    svk_logger_free(req);
    svk_logger_free(svc);
    svk_logger_free(root);
    capture_reset(&cap);
}

Test(logger, text_children_and_bound_strings_are_copied)
{
    svk_logger *root = capture_logger(&cap, SVK_LOG_TEXT);
    char id[] = "req 1";
    svk_logger *req;
    cr_assert_eq(svk_logger_bind(root, id, NULL, "00f067aa0ba902b7", &req), 0);
    strcpy(id, "XXXXX");
    svk_log_info(req, "m");
    cr_assert_str_eq(cap.text, "time=" CAPTURE_TIME_TEXT " level=INFO msg=m "
                               "request_id=\"req 1\" span_id=00f067aa0ba902b7\n");
    svk_logger_free(req);
    svk_logger_free(root);
    capture_reset(&cap);
}

Test(logger, children_outlive_their_parents)
{
    svk_logger *root = capture_logger(&cap, SVK_LOG_JSON);
    svk_logger *a, *b;
    cr_assert_eq(svk_logger_with(root, NULL, 0, &a), 0);
    cr_assert_eq(svk_logger_bind(a, NULL, NULL, NULL, &b), 0);
    svk_logger_free(root);
    svk_logger_free(a);
    svk_log_info(b, "still here");
    cr_assert_eq(cap.lines, 1);
    cr_assert_str_eq(cap.text, HEAD "\"INFO\",\"msg\":\"still here\"}\n");
    svk_logger_free(b);
    svk_logger_free(NULL);
    capture_reset(&cap);
}

Test(logger, bad_arguments)
{
    svk_logger *l = capture_logger(&cap, SVK_LOG_JSON);
    svk_logger *child = l;
    cr_assert_eq(svk_logger_with(NULL, NULL, 0, &child), SVK_EINVAL);
    cr_assert_null(child);
    cr_assert_eq(svk_logger_with(l, NULL, 1, &child), SVK_EINVAL);
    cr_assert_eq(svk_logger_with(l, NULL, 0, NULL), SVK_EINVAL);
    cr_assert_eq(svk_logger_flush(NULL), SVK_EINVAL);
    cr_assert_eq(svk_logger_stats(NULL, NULL, NULL, NULL, NULL), SVK_EINVAL);
    svk_logger_set_level(NULL, 0);
    svk_logger_free(l);
}

static int new_fails(svk_log_options o, const char *why)
{
    svk_logger *l = (svk_logger *)&o;
    svk_error err;
    int rc = svk_logger_new(&l, &o, &err);
    cr_assert_null(l, "%s", why);
    cr_assert_eq(err.code, rc);
    return rc;
}

Test(logger, options_are_checked)
{
    svk_log_options base = SVK_LOG_OPTIONS_INIT, o;
    cr_assert_eq(svk_logger_new(NULL, &base, NULL), SVK_EINVAL);
    o = base, o.size = 0;
    cr_assert_eq(new_fails(o, "size 0"), SVK_EINVAL);
    o = base, o.size = sizeof o + 8;
    cr_assert_eq(new_fails(o, "newer size"), SVK_EINVAL);
    o = base, o.format = 7;
    cr_assert_eq(new_fails(o, "format"), SVK_EINVAL);
    o = base, o.sink = 9;
    cr_assert_eq(new_fails(o, "sink"), SVK_EINVAL);
    o = base, o.fd = -1;
    cr_assert_eq(new_fails(o, "fd"), SVK_EINVAL);
    o = base, o.sink = SVK_LOG_SINK_CALLBACK;
    cr_assert_eq(new_fails(o, "no write_fn"), SVK_EINVAL);
    o = base, o.redact_count = 1;
    cr_assert_eq(new_fails(o, "redact_keys NULL"), SVK_EINVAL);
    o = base, o.sample_tick_ns = -1;
    cr_assert_eq(new_fails(o, "tick"), SVK_EINVAL);
}

Test(logger, null_options_and_older_sizes_get_defaults)
{
    svk_logger *l;
    cr_assert_eq(svk_logger_new(&l, NULL, NULL), 0);
    cr_assert_eq(svk_logger_level(l), SVK_LOG_INFO);
    svk_logger_free(l);
    /* A caller that knows only the first fields (an older header). */
    svk_log_options o = SVK_LOG_OPTIONS_INIT;
    o.size = offsetof(svk_log_options, buffer_size);
    o.level = SVK_LOG_WARN;
    o.redact_count = 5; /* beyond size: must be ignored */
    cr_assert_eq(svk_logger_new(&l, &o, NULL), 0);
    cr_assert_eq(svk_logger_level(l), SVK_LOG_WARN);
    svk_logger_free(l);
}

static int64_t fake_now;
static int64_t fake_clock(void *user)
{
    (void)user;
    return fake_now;
}

Test(logger, sampling_first_n_then_every_mth_per_tick_and_message)
{
    memset(&cap, 0, sizeof cap);
    svk_log_options o = capture_options(&cap, SVK_LOG_JSON);
    o.clock_fn = fake_clock;
    o.sample_first = 3;
    o.sample_thereafter = 5;
    svk_logger *l;
    cr_assert_eq(svk_logger_new(&l, &o, NULL), 0);
    fake_now = INT64_C(1000000000000);
    for (int i = 0; i < 23; i++)
        svk_log_info(l, "hot");
    cr_assert_eq(cap.lines, 3 + 4, "first 3, then the 5th, 10th, 15th, 20th after them");
    svk_log_info(l, "other");
    svk_log_warn(l, "hot");
    cr_assert_eq(cap.lines, 9, "another message or level has its own budget");
    fake_now += 1000000000;
    for (int i = 0; i < 3; i++)
        svk_log_info(l, "hot");
    cr_assert_eq(cap.lines, 12, "a new tick starts over");
    uint64_t written, sampled;
    cr_assert_eq(svk_logger_stats(l, &written, NULL, NULL, &sampled), 0);
    cr_assert_eq(written, 12);
    cr_assert_eq(sampled, 16);
    svk_logger_free(l);
    capture_reset(&cap);
}

Test(logger, sampling_with_no_thereafter_drops_the_rest)
{
    memset(&cap, 0, sizeof cap);
    svk_log_options o = capture_options(&cap, SVK_LOG_JSON);
    o.clock_fn = fake_clock;
    o.sample_first = 2;
    svk_logger *l, *child;
    cr_assert_eq(svk_logger_new(&l, &o, NULL), 0);
    cr_assert_eq(svk_logger_bind(l, "r", NULL, NULL, &child), 0);
    fake_now = 5;
    svk_log_info(l, "hot");
    svk_log_info(child, "hot"); /* children share the root's counters */
    for (int i = 0; i < 10; i++)
        svk_log_info(l, "hot");
    cr_assert_eq(cap.lines, 2);
    svk_logger_free(child);
    svk_logger_free(l);
    capture_reset(&cap);
}

Test(logger, errno_is_preserved)
{
    svk_logger *l = capture_logger(&cap, SVK_LOG_JSON);
    errno = ERANGE;
    svk_log_info(l, "m", SVK_STR("k", "v"));
    cr_assert_eq(errno, ERANGE);
    svk_logger_free(l);
    capture_reset(&cap);
}

Test(logger, config_is_logged_typed_with_secrets_redacted)
{
    svk_config *c;
    cr_assert_eq(svk_config_new(&c, "APP", NULL), 0);
    static const char *const schemes[] = {"postgres", NULL};
    static const char *const formats[] = {"json", "text", NULL};
    cr_assert_eq(svk_config_add_int64(c, "PORT", "8080", 1, 65535, 0, "port"), 0);
    cr_assert_eq(svk_config_add_bool(c, "DEBUG", "false", 0, NULL), 0);
    cr_assert_eq(svk_config_add_duration(c, "TIMEOUT", "1.5s", 0, INT64_MAX, 0, NULL), 0);
    cr_assert_eq(svk_config_add_bytes(c, "MAX_BODY", "1MiB", 0, UINT64_MAX, 0, NULL), 0);
    cr_assert_eq(svk_config_add_enum(c, "LOG_FORMAT", "json", formats, 0, NULL), 0);
    cr_assert_eq(svk_config_add_url(c, "DATABASE_URL", NULL, schemes, SVK_CONFIG_SECRET, NULL), 0);
    cr_assert_eq(svk_config_add_string(c, "REGION", NULL, 0, NULL), 0);
    static const char *const env[] = {"APP_DATABASE_URL=postgres://u:pw-12345@db/orders", NULL};
    cr_assert_eq(svk_config_load_env(c, env, NULL), 0);
    svk_logger *l = capture_logger(&cap, SVK_LOG_JSON);
    cr_assert_eq(svk_log_config(l, c), 0);
    cr_assert_str_eq(cap.text,
                     HEAD "\"INFO\",\"msg\":\"config\",\"config\":{\"APP_PORT\":8080,"
                          "\"APP_DEBUG\":false,\"APP_TIMEOUT\":1500000000,"
                          "\"APP_MAX_BODY\":1048576,\"APP_LOG_FORMAT\":\"json\","
                          "\"APP_DATABASE_URL\":\"<redacted>\",\"APP_REGION\":null}}\n");
    cr_assert_null(strstr(cap.text, "pw-12345"));
    cr_assert_eq(svk_log_config(NULL, c), SVK_EINVAL);
    svk_logger_free(l);
    svk_config_free(c);
    capture_reset(&cap);
}

Test(logger, config_not_loaded_is_an_error)
{
    svk_config *c;
    cr_assert_eq(svk_config_new(&c, NULL, NULL), 0);
    cr_assert_eq(svk_config_add_int64(c, "PORT", "8080", 1, 65535, 0, "port"), 0);
    svk_logger *l = capture_logger(&cap, SVK_LOG_JSON);
    cr_assert_eq(svk_log_config(l, c), SVK_ESTATE);
    cr_assert_eq(cap.lines, 0);
    svk_logger_free(l);
    svk_config_free(c);
}
