/*
 * text_test.c — the text (logfmt) handler: when values and keys are
 * quoted, Go-style escapes inside quotes, ill-formed UTF-8, dotted group
 * keys, Go duration strings, and that no line ever holds a raw newline.
 */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>

#include "capture.h"

#define FFFD "\xEF\xBF\xBD"
#define HEAD "time=" CAPTURE_TIME_TEXT " level="

static capture cap;

/* Log one attribute on l and expect the line to end in " k=<want>". */
static void expect_value(svk_logger *l, svk_attr a, const char *want, size_t i)
{
    svk_log(l, SVK_LOG_INFO, "m", &a, 1);
    char line[256];
    snprintf(line, sizeof line, HEAD "INFO msg=m %s=%s\n", a.key, want);
    cr_assert_str_eq(cap.text, line, "case %zu", i);
    capture_reset(&cap);
}

Test(text, exact_line_with_every_kind)
{
    svk_logger *l = capture_logger(&cap, SVK_LOG_TEXT);
    svk_log_info(l, "order created", SVK_STR("id", "o-1"), SVK_INT("n", -42),
                 SVK_UINT("u", 7), SVK_FLOAT("f", 2.5), SVK_BOOL("ok", 0),
                 SVK_DUR("took", 1500000), SVK_TIME("at", CAPTURE_TIME_NS),
                 SVK_ERR("err", SVK_EIO), SVK_SECRET("key", "hunter2"),
                 SVK_GROUP("db", SVK_STR("host", "pg"), SVK_GROUP("pool", SVK_INT("max", 8))),
                 SVK_STR("nil", NULL), SVK_FLOAT("nan", NAN), SVK_FLOAT("inf", -INFINITY));
    cr_assert_str_eq(cap.text, HEAD "INFO msg=\"order created\" id=o-1 n=-42 u=7 f=2.5 ok=false "
                                    "took=1.5ms at=" CAPTURE_TIME_TEXT " err=\"SVK_EIO: "
                                    "input/output error\" key=<redacted> db.host=pg "
                                    "db.pool.max=8 nil=<nil> nan=NaN inf=-Inf\n");
    svk_logger_free(l);
    capture_reset(&cap);
}

Test(text, quoting_rules)
{
    static const struct {
        const char *in;
        const char *out;
    } cases[] = {
        {"plain", "plain"},
        {"", "\"\""},
        {"a b", "\"a b\""},
        {"a=b", "\"a=b\""},
        {"say \"hi\"", "\"say \\\"hi\\\"\""},
        {"C:\\dir", "C:\\dir"}, /* a backslash alone needs no quotes */
        {"x\\\"", "\"x\\\\\\\"\""},
        {"l1\nl2", "\"l1\\nl2\""},
        {"\a\b\f\r\t\v", "\"\\a\\b\\f\\r\\t\\v\""},
        {"\x01\x7f", "\"\\x01\\x7f\""},
        {"caf\xC3\xA9", "caf\xC3\xA9"},
        {"bad\xFF", "\"bad" FFFD "\""},
        {"\xE0\x80", "\"" FFFD FFFD "\""},
    };
    svk_logger *l = capture_logger(&cap, SVK_LOG_TEXT);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        expect_value(l, (svk_attr)SVK_STR("k", cases[i].in), cases[i].out, i);
    svk_logger_free(l);
}

Test(text, keys_are_quoted_whole_with_their_groups)
{
    svk_logger *l = capture_logger(&cap, SVK_LOG_TEXT);
    svk_log_info(l, "m", SVK_INT("a key", 1), SVK_GROUP("g", SVK_INT("x=y", 2)),
                 SVK_GROUP("my group", SVK_INT("k", 3)), SVK_GROUP("", SVK_INT("in", 4)),
                 SVK_GROUP("empty"));
    cr_assert_str_eq(cap.text, HEAD "INFO msg=m \"a key\"=1 \"g.x=y\"=2 \"my group.k\"=3 in=4\n");
    svk_logger_free(l);
    capture_reset(&cap);
}

Test(text, go_duration_strings)
{
    static const struct {
        int64_t ns;
        const char *text;
    } cases[] = {
        {0, "0s"},
        {1, "1ns"},
        {1100, "1.1\xC2\xB5s"},
        {2200000, "2.2ms"},
        {3300000000, "3.3s"},
        {-1500000000, "-1.5s"},
        {245000000000, "4m5s"},
        {18367001000000, "5h6m7.001s"},
        {480000000001, "8m0.000000001s"},
        {INT64_MAX, "2562047h47m16.854775807s"},
        {INT64_MIN, "-2562047h47m16.854775808s"},
    };
    svk_logger *l = capture_logger(&cap, SVK_LOG_TEXT);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        expect_value(l, (svk_attr)SVK_DUR("d", cases[i].ns), cases[i].text, i);
    svk_logger_free(l);
}

Test(text, every_byte_value_stays_on_one_line)
{
    svk_logger *l = capture_logger(&cap, SVK_LOG_TEXT);
    char all[257]; /* every byte, then a NUL for all + 1 as a C string */
    for (int i = 0; i < 257; i++)
        all[i] = (char)i;
    svk_log_info(l, all + 1, SVK_STRN(all + 1, all, 256));
    cr_assert_eq(cap.lines, 1);
    cr_assert_eq(memchr(cap.text, '\n', cap.len), cap.text + cap.len - 1);
    cr_assert_null(memchr(cap.text, '\0', cap.len));
    cr_assert_null(memchr(cap.text, '\r', cap.len));
    svk_logger_free(l);
    capture_reset(&cap);
}
