/*
 * json_test.c — the JSON handler: exact lines for a fixed clock, every
 * attribute kind, and hostile input (every byte value in keys and values,
 * each class of ill-formed UTF-8, long values, quotes and backslashes) that
 * must still give lines jansson and jq accept, with the expected content.
 */
#include <criterion/criterion.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <unistd.h>

#include "capture.h"

#define FFFD "\xEF\xBF\xBD"
#define HEAD "{\"time\":\"" CAPTURE_TIME_TEXT "\",\"level\":"

static capture cap;

/* The one captured line, parsed; fails the test if it is not JSON. */
static json_t *parse_only_line(void)
{
    cr_assert_eq(cap.lines, 1, "want one line, got %zu", cap.lines);
    json_error_t e;
    json_t *j = json_loadb(cap.text, cap.len, JSON_ALLOW_NUL, &e);
    cr_assert_not_null(j, "not JSON (%s): %s", e.text, cap.text);
    return j;
}

/* The decoded string value of key in the one captured line. */
static char *decoded_value(const char *key, size_t *len)
{
    json_t *j = parse_only_line();
    json_t *v = json_object_get(j, key);
    cr_assert(json_is_string(v), "no string %s in %s", key, cap.text);
    *len = json_string_length(v);
    char *copy = malloc(*len + 1);
    memcpy(copy, json_string_value(v), *len + 1);
    json_decref(j);
    capture_reset(&cap);
    return copy;
}

Test(json, exact_line_with_every_kind)
{
    svk_logger *l = capture_logger(&cap, SVK_LOG_JSON);
    svk_log_info(l, "order created", SVK_STR("id", "o-1"), SVK_STRN("part", "abcdef", 3),
                 SVK_INT("n", -42), SVK_UINT("u", UINT64_MAX), SVK_FLOAT("f", 2.5),
                 SVK_BOOL("ok", 7), SVK_DUR("took", 1500000), SVK_TIME("at", 0),
                 SVK_ERR("err", SVK_ETIMEDOUT), SVK_SECRET("key", "hunter2"),
                 SVK_GROUP("db", SVK_STR("host", "pg"), SVK_INT("port", 5432)));
    cr_assert_str_eq(cap.text,
                     HEAD "\"INFO\",\"msg\":\"order created\",\"id\":\"o-1\",\"part\":\"abc\","
                          "\"n\":-42,\"u\":18446744073709551615,\"f\":2.5,\"ok\":true,"
                          "\"took\":1500000,\"at\":\"1970-01-01T00:00:00.000Z\","
                          "\"err\":\"SVK_ETIMEDOUT: timed out\",\"key\":\"<redacted>\","
                          "\"db\":{\"host\":\"pg\",\"port\":5432}}\n");
    svk_logger_free(l);
    capture_reset(&cap);
}

Test(json, zero_attributes_and_levels_between)
{
    svk_logger *l = capture_logger(&cap, SVK_LOG_JSON);
    svk_logger_set_level(l, -100);
    svk_log_warn(l, "plain");
    svk_log_at(l, SVK_LOG_INFO + 2, "between");
    svk_log(l, SVK_LOG_DEBUG - 1, NULL, NULL, 5);
    cr_assert_str_eq(cap.text, HEAD "\"WARN\",\"msg\":\"plain\"}\n" HEAD
                                    "\"INFO+2\",\"msg\":\"between\"}\n" HEAD
                                    "\"DEBUG-1\",\"msg\":\"\"}\n");
    svk_logger_free(l);
    capture_reset(&cap);
}

Test(json, floats_nan_infinities_null_and_bad_kinds)
{
    svk_logger *l = capture_logger(&cap, SVK_LOG_JSON);
    svk_attr odd = {"odd", 999, {.i64 = 1}};
    svk_log_info(l, "m", SVK_FLOAT("a", 0.1), SVK_FLOAT("b", 1e21), SVK_FLOAT("c", 1e-7),
                 SVK_FLOAT("nan", NAN), SVK_FLOAT("pinf", INFINITY), SVK_FLOAT("ninf", -INFINITY),
                 SVK_STR("null", NULL), SVK_STRN("empty", NULL, 0), odd,
                 SVK_ERR("unknown", 12345));
    cr_assert_str_eq(cap.text,
                     HEAD "\"INFO\",\"msg\":\"m\",\"a\":0.1,\"b\":1e+21,\"c\":1e-7,"
                          "\"nan\":\"NaN\",\"pinf\":\"+Inf\",\"ninf\":\"-Inf\",\"null\":null,"
                          "\"empty\":null,\"odd\":\"!BADKIND\","
                          "\"unknown\":\"SVK_E? 12345: unknown error\"}\n");
    json_decref(parse_only_line());
    svk_logger_free(l);
    capture_reset(&cap);
}

Test(json, groups_nest_empty_ones_vanish_keyless_ones_inline)
{
    svk_logger *l = capture_logger(&cap, SVK_LOG_JSON);
    svk_log_info(l, "g", SVK_GROUP("a", SVK_GROUP("b", SVK_INT("c", 1)), SVK_GROUP("none")),
                 SVK_GROUP("", SVK_INT("inlined", 2)), SVK_GROUP("empty"));
    cr_assert_str_eq(cap.text, HEAD "\"INFO\",\"msg\":\"g\",\"a\":{\"b\":{\"c\":1}},"
                                    "\"inlined\":2}\n");
    svk_logger_free(l);
    capture_reset(&cap);
}

Test(json, groups_deeper_than_the_limit_are_cut)
{
    svk_logger *l = capture_logger(&cap, SVK_LOG_JSON);
    svk_attr levels[40];
    levels[0] = (svk_attr)SVK_INT("leaf", 1);
    for (int i = 1; i < 40; i++)
        levels[i] = (svk_attr){"g", SVK_ATTR_GROUP, {.group = {&levels[i - 1], 1}}};
    svk_log(l, SVK_LOG_INFO, "deep", &levels[39], 1);
    cr_assert_not_null(strstr(cap.text, "\"!DEPTH\""));
    json_decref(parse_only_line());
    svk_logger_free(l);
    capture_reset(&cap);
}

Test(json, every_byte_value_in_values_and_keys)
{
    svk_logger *l = capture_logger(&cap, SVK_LOG_JSON);
    unsigned char all[257]; /* every byte, then a NUL for all + 1 as a C string */
    for (int i = 0; i < 257; i++)
        all[i] = (unsigned char)i;
    /* Bytes 0x80..0xFF in a row never form a sequence: each is its own
     * maximal subpart (lead bytes are followed by non-continuations). */
    char want[128 + 128 * 3];
    memcpy(want, all, 128);
    for (int i = 0; i < 128; i++)
        memcpy(want + 128 + 3 * i, FFFD, 3);

    svk_log_info(l, "bytes", SVK_STRN("v", (const char *)all, 256));
    size_t len;
    char *got = decoded_value("v", &len);
    cr_assert_eq(len, sizeof want);
    cr_assert(memcmp(got, want, len) == 0);
    free(got);

    svk_log_info(l, (const char *)all + 1, SVK_INT((const char *)all + 1, 1));
    json_t *j = parse_only_line();
    cr_assert_eq(json_object_size(j), 4);
    const char *key;
    size_t keylen = 0;
    void *it = json_object_iter(j);
    for (; it != NULL; it = json_object_iter_next(j, it)) {
        key = json_object_iter_key(it);
        if (strcmp(key, "time") && strcmp(key, "level") && strcmp(key, "msg"))
            keylen = json_object_iter_key_len(it);
    }
    cr_assert_eq(keylen, sizeof want - 1);
    json_t *msg = json_object_get(j, "msg");
    cr_assert_eq(json_string_length(msg), sizeof want - 1);
    cr_assert(memcmp(json_string_value(msg), want + 1, sizeof want - 1) == 0);
    json_decref(j);
    svk_logger_free(l);
    capture_reset(&cap);
}

/* Each class of ill-formed UTF-8, with the replacement per maximal subpart. */
static const struct {
    const char *in;
    const char *want;
} utf8_cases[] = {
    {"\x80", FFFD},                                 /* lone continuation */
    {"\xBF\x80", FFFD FFFD},                        /* two of them */
    {"\xC0\xAF", FFFD FFFD},                        /* overlong '/' (C0 never valid) */
    {"\xC1\xBF", FFFD FFFD},                        /* overlong */
    {"\xE0\x80\xAF", FFFD FFFD FFFD},               /* overlong 3-byte */
    {"\xF0\x80\x80\xAF", FFFD FFFD FFFD FFFD},      /* overlong 4-byte */
    {"\xED\xA0\x80", FFFD FFFD FFFD},               /* surrogate D800 */
    {"\xED\xBF\xBF", FFFD FFFD FFFD},               /* surrogate DFFF */
    {"\xF4\x90\x80\x80", FFFD FFFD FFFD FFFD},      /* U+110000 */
    {"\xF5\x80\x80\x80", FFFD FFFD FFFD FFFD},      /* F5 never valid */
    {"\xFE\xFF", FFFD FFFD},                        /* FE FF never valid */
    {"\xE2\x82", FFFD},                             /* truncated at the end */
    {"\xE2\x82" "A", FFFD "A"},                     /* truncated mid-string */
    {"\xF0\x9F\x98", FFFD},                         /* truncated 4-byte */
    {"\xF0\x9F\x98" "\xF0\x9F\x98\x80", FFFD "\xF0\x9F\x98\x80"},
    {"\xC3" "\xC3\xA9", FFFD "\xC3\xA9"},
    /* Unicode's own example (Table 3-8): */
    {"\x61\xF1\x80\x80\xE1\x80\xC2\x62\x80\x63\x80\xBF\x64",
     "a" FFFD FFFD FFFD "b" FFFD "c" FFFD FFFD "d"},
    /* Well-formed boundaries pass through untouched: */
    {"\xC2\x80\xDF\xBF\xE0\xA0\x80\xED\x9F\xBF\xEE\x80\x80\xEF\xBF\xBF",
     "\xC2\x80\xDF\xBF\xE0\xA0\x80\xED\x9F\xBF\xEE\x80\x80\xEF\xBF\xBF"},
    {"\xF0\x90\x80\x80\xF4\x8F\xBF\xBF", "\xF0\x90\x80\x80\xF4\x8F\xBF\xBF"},
    {"\x7F", "\x7F"}, /* DEL is fine in JSON */
};

Test(json, ill_formed_utf8_becomes_one_replacement_per_maximal_subpart)
{
    svk_logger *l = capture_logger(&cap, SVK_LOG_JSON);
    for (size_t i = 0; i < sizeof utf8_cases / sizeof utf8_cases[0]; i++) {
        svk_log_info(l, "u", SVK_STR("v", utf8_cases[i].in));
        size_t len;
        char *got = decoded_value("v", &len);
        cr_assert_eq(len, strlen(utf8_cases[i].want), "case %zu", i);
        cr_assert(memcmp(got, utf8_cases[i].want, len) == 0, "case %zu", i);
        free(got);
    }
    svk_logger_free(l);
    capture_reset(&cap);
}

Test(json, escapes_use_short_forms_and_u00xx)
{
    svk_logger *l = capture_logger(&cap, SVK_LOG_JSON);
    svk_log_info(l, "q\"b\\n\nr\rt\tb\bf\fz\x01\x1f\x7f");
    cr_assert_str_eq(cap.text, HEAD "\"INFO\",\"msg\":\"q\\\"b\\\\n\\nr\\rt\\tb\\bf\\fz"
                                    "\\u0001\\u001f\x7f\"}\n");
    svk_logger_free(l);
    capture_reset(&cap);
}

Test(json, long_values_survive_whole)
{
    svk_logger *l = capture_logger(&cap, SVK_LOG_JSON);
    size_t n = 3 * 1024 * 1024 + 7;
    char *big = malloc(n);
    for (size_t i = 0; i < n; i++)
        big[i] = "ab\"\\\n\xC3\xA9\xFF"[i % 8];
    svk_log_info(l, "big", SVK_STRN("v", big, n));
    size_t len;
    char *got = decoded_value("v", &len);
    /* Per 8 input bytes: a b " \ \n é(2) FFFD(3) = 10 decoded bytes; the
     * last 7 are the first 7 of the pattern, decoded as themselves. */
    cr_assert_eq(len, n / 8 * 10 + 7);
    cr_assert(memcmp(got, "ab\"\\\n\xC3\xA9" FFFD "ab", 12) == 0);
    free(got);
    free(big);
    svk_logger_free(l);
    capture_reset(&cap);
}

/* Random byte strings, biased toward the bytes that matter. */
static size_t random_hostile(unsigned *seed, char *out, size_t max)
{
    static const unsigned char pool[] = {'a', '"', '\\', '\n', 0, 0x1f, 0x7f, 0x80, 0xbf,
                                         0xc0, 0xc2, 0xdf, 0xe0, 0xe1, 0xed, 0xef, 0xf0,
                                         0xf4, 0xf5, 0xff, 0xa0, 0x90, 0x8f, 0x9f};
    size_t n = (size_t)rand_r(seed) % max;
    for (size_t i = 0; i < n; i++)
        out[i] = (char)pool[(size_t)rand_r(seed) % sizeof pool];
    return n;
}

/* Every line jansson parses (it rejects ill-formed UTF-8 itself). */
Test(json, random_hostile_strings_always_parse)
{
    svk_logger *l = capture_logger(&cap, SVK_LOG_JSON);
    unsigned seed = 12345;
    char buf[64];
    for (int i = 0; i < 20000; i++) {
        size_t n = random_hostile(&seed, buf, sizeof buf);
        char key[16];
        size_t kn = random_hostile(&seed, key, sizeof key);
        for (size_t k = 0; k < kn; k++)
            key[k] = key[k] == 0 ? 'z' : key[k];
        key[kn] = '\0';
        svk_log_info(l, "r", SVK_STRN(key, buf, n));
        json_decref(parse_only_line());
        capture_reset(&cap);
    }
    svk_logger_free(l);
}

/* jq is the second, independent parser: every hostile line, one file. */
Test(json, jq_accepts_every_hostile_line)
{
    svk_logger *l = capture_logger(&cap, SVK_LOG_JSON);
    unsigned char all[257]; /* every byte, then a NUL for all + 1 as a C string */
    for (int i = 0; i < 257; i++)
        all[i] = (unsigned char)i;
    svk_log_info(l, "all", SVK_STRN("v", (const char *)all, 256),
                 SVK_INT((const char *)all + 1, 1));
    for (size_t i = 0; i < sizeof utf8_cases / sizeof utf8_cases[0]; i++)
        svk_log_info(l, utf8_cases[i].in, SVK_STR(utf8_cases[i].in, utf8_cases[i].in));
    unsigned seed = 99;
    char buf[64];
    for (int i = 0; i < 2000; i++) {
        size_t n = random_hostile(&seed, buf, sizeof buf);
        svk_log_info(l, "r", SVK_STRN("v", buf, n), SVK_FLOAT("f", i / 7.0));
    }
    char path[] = "/tmp/svk-log-jq-XXXXXX";
    int fd = mkstemp(path);
    cr_assert_geq(fd, 0);
    cr_assert_eq(write(fd, cap.text, cap.len), (ssize_t)cap.len);
    close(fd);
    char cmd[256];
    snprintf(cmd, sizeof cmd, "jq -c '.msg | length' < %s | wc -l", path);
    FILE *p = popen(cmd, "r");
    cr_assert_not_null(p);
    size_t parsed = 0;
    cr_assert_eq(fscanf(p, "%zu", &parsed), 1);
    int status = pclose(p);
    snprintf(cmd, sizeof cmd, "jq -e . < %s > /dev/null", path);
    int jq_status = system(cmd);
    unlink(path);
    cr_assert_eq(status, 0);
    cr_assert_eq(jq_status, 0, "jq rejected a line");
    cr_assert_eq(parsed, cap.lines, "jq read %zu of %zu lines", parsed, cap.lines);
    svk_logger_free(l);
    capture_reset(&cap);
}
