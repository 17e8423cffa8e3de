/*
 * level_test.c — numeric levels: parsing LOG_LEVEL / LOG_FORMAT values,
 * printing levels as slog does, and the tree-wide level changed at runtime
 * (also from another thread while lines are being logged).
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <limits.h>
#include <pthread.h>

#include "capture.h"

static capture cap;

Test(level, parse_accepts_names_offsets_and_numbers)
{
    static const struct {
        const char *in;
        int want;
    } ok[] = {
        {"debug", -4},   {"INFO", 0},      {"Warn", 4},    {"warning", 4}, {"error", 8},
        {"INFO+2", 2},   {"error-1", 7},   {"debug+0", -4}, {"-4", -4},    {"12", 12},
        {"+3", 3},       {"WARN+100", 104}, {"2147483647", INT_MAX},
    };
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        int level = 99;
        cr_assert_eq(svk_log_level_parse(ok[i].in, &level, NULL), 0, "%s", ok[i].in);
        cr_assert_eq(level, ok[i].want, "%s", ok[i].in);
    }
}

Test(level, parse_rejects_junk_and_overflow)
{
    static const char *const bad[] = {"", "inf", "infoo", "info+", "info+x", "info 2",
                                      " info", "info+ 2", "1.5", "0x10", "warn--1", "+",
                                      "info+2x"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int level = 99;
        svk_error err;
        cr_assert_eq(svk_log_level_parse(bad[i], &level, &err), SVK_EINVAL, "%s", bad[i]);
        cr_assert_eq(level, 99);
        cr_assert_neq(err.message[0], '\0');
    }
    int level = 99;
    cr_assert_eq(svk_log_level_parse("2147483648", &level, NULL), SVK_ERANGE);
    cr_assert_eq(svk_log_level_parse("error+9223372036854775807", &level, NULL), SVK_ERANGE);
    cr_assert_eq(svk_log_level_parse("99999999999999999999", &level, NULL), SVK_ERANGE);
    cr_assert_eq(svk_log_level_parse(NULL, &level, NULL), SVK_EINVAL);
    cr_assert_eq(level, 99);
}

Test(level, strings_as_slog_prints_them)
{
    static const struct {
        int level;
        const char *want;
    } cases[] = {{-4, "DEBUG"}, {-5, "DEBUG-1"}, {-1, "DEBUG+3"}, {0, "INFO"},
                 {3, "INFO+3"}, {4, "WARN"},     {7, "WARN+3"},   {8, "ERROR"},
                 {100, "ERROR+92"}, {INT_MIN, "DEBUG-2147483644"},
                 {INT_MAX, "ERROR+2147483639"}};
    char buf[SVK_LOG_LEVEL_STRLEN];
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        cr_assert_str_eq(svk_log_level_string(cases[i].level, buf), cases[i].want);
}

Test(level, format_names)
{
    int f = -1;
    cr_assert_eq(svk_log_format_parse("JSON", &f, NULL), 0);
    cr_assert_eq(f, SVK_LOG_JSON);
    cr_assert_eq(svk_log_format_parse("text", &f, NULL), 0);
    cr_assert_eq(f, SVK_LOG_TEXT);
    cr_assert_eq(svk_log_format_parse("logfmt", &f, NULL), 0);
    cr_assert_eq(svk_log_format_parse("yaml", &f, NULL), SVK_EINVAL);
    cr_assert_eq(svk_log_format_parse(NULL, &f, NULL), SVK_EINVAL);
}

static int evaluated;
static int count_evaluation(void)
{
    return ++evaluated;
}

Test(level, disabled_lines_evaluate_nothing)
{
    svk_logger *l = capture_logger(&cap, SVK_LOG_JSON);
    svk_logger_set_level(l, SVK_LOG_WARN);
    svk_log_info(l, "no", SVK_INT("n", count_evaluation()));
    svk_log_debug(l, "no", SVK_INT("n", count_evaluation()));
    cr_assert_eq(evaluated, 0);
    cr_assert_eq(cap.lines, 0);
    svk_log_warn(l, "yes", SVK_INT("n", count_evaluation()));
    cr_assert_eq(evaluated, 1);
    cr_assert_eq(cap.lines, 1);
    cr_assert_eq(svk_log_enabled(NULL, SVK_LOG_ERROR), 0);
    svk_log_error(NULL, "nothing happens", SVK_INT("n", count_evaluation()));
    cr_assert_eq(evaluated, 1);
    cr_assert_eq(svk_logger_level(NULL), SVK_LOG_ERROR + 1000);
    svk_logger_free(l);
    capture_reset(&cap);
}

Test(level, one_level_for_the_whole_tree)
{
    svk_logger *root = capture_logger(&cap, SVK_LOG_JSON);
    svk_logger *child, *grandchild;
    cr_assert_eq(svk_logger_bind(root, "r", NULL, NULL, &child), 0);
    cr_assert_eq(svk_logger_bind(child, NULL, "t", NULL, &grandchild), 0);
    svk_logger_set_level(root, SVK_LOG_ERROR);
    cr_assert_eq(svk_logger_level(grandchild), SVK_LOG_ERROR);
    svk_log_warn(grandchild, "hidden");
    cr_assert_eq(cap.lines, 0);
    svk_logger_set_level(grandchild, SVK_LOG_DEBUG);
    cr_assert_eq(svk_logger_level(root), SVK_LOG_DEBUG);
    svk_log_debug(root, "shown");
    cr_assert_eq(cap.lines, 1);
    svk_logger_free(grandchild);
    svk_logger_free(child);
    svk_logger_free(root);
    capture_reset(&cap);
}

static void *flip_to_error(void *arg)
{
    svk_logger_set_level(arg, SVK_LOG_ERROR);
    return NULL;
}

Test(level, change_from_another_thread_is_seen)
{
    svk_logger *l = capture_logger(&cap, SVK_LOG_JSON);
    pthread_t t;
    cr_assert_eq(pthread_create(&t, NULL, flip_to_error, l), 0);
    pthread_join(t, NULL);
    svk_log_warn(l, "hidden");
    svk_log_error(l, "shown");
    cr_assert_eq(cap.lines, 1);
    cr_assert_not_null(strstr(cap.text, "\"msg\":\"shown\""));
    svk_logger_free(l);
    capture_reset(&cap);
}
