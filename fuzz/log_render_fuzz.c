/*
 * log_render_fuzz.c — libFuzzer target for the logger's renderers: the
 * input becomes a message, a key and a string value (plus a float, an int
 * and a duration made of its first bytes) logged in both formats; and the
 * level parser reads it. Beyond memory errors it checks, aborting so
 * libFuzzer saves the input:
 *   - a JSON line is one line and parses with jansson (which rejects
 *     ill-formed UTF-8; integers read as reals, since a float such as
 *     -3.6893488147419103e19 prints as an integer too big for int64, as in
 *     Go);
 *   - a text line is one line, with no control byte but the final newline,
 *     and is well-formed UTF-8;
 *   - a float prints as a decimal that reads back to the same double;
 *   - a level that parses prints as a string that parses to it again.
 */
#include "svckit/log.h"
#include "log/number.h"
#include "log/utf8.h"

#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char line[1 << 20];
static size_t line_len;

static int keep_line(const char *l, size_t len, void *user)
{
    (void)user;
    if (len > sizeof line)
        abort();
    memcpy(line, l, len);
    line_len = len;
    return 0;
}

static void check_json(void)
{
    json_error_t e;
    json_t *j = json_loadb(line, line_len, JSON_ALLOW_NUL | JSON_DECODE_INT_AS_REAL, &e);
    if (j == NULL || memchr(line, '\n', line_len) != line + line_len - 1)
        abort();
    json_decref(j);
}

static void check_text(void)
{
    const unsigned char *s = (const unsigned char *)line;
    for (size_t i = 0; i < line_len;) {
        if (s[i] < 0x20 && !(s[i] == '\n' && i == line_len - 1))
            abort();
        if (s[i] < 0x80) {
            i++;
            continue;
        }
        int n = svk__utf8_next(s + i, line_len - i);
        if (n < 0)
            abort();
        i += (size_t)n;
    }
}

static void log_both_formats(const char *text, const uint8_t *data, size_t size)
{
    int64_t i64 = 0;
    double f = 0;
    memcpy(&i64, data, size < 8 ? size : 8);
    memcpy(&f, data, size < 8 ? size : 8);
    for (int format = SVK_LOG_JSON; format <= SVK_LOG_TEXT; format++) {
        svk_log_options o = SVK_LOG_OPTIONS_INIT;
        o.format = format;
        o.sink = SVK_LOG_SINK_CALLBACK;
        o.write_fn = keep_line;
        svk_logger *l;
        if (svk_logger_new(&l, &o, NULL) != 0)
            abort();
        line_len = 0;
        svk_log_info(l, text, SVK_STRN("v", (const char *)data, size), SVK_STR(text, text),
                     SVK_FLOAT("f", f), SVK_INT("i", i64), SVK_DUR("d", i64),
                     SVK_GROUP(text, SVK_STR("password", text)));
        if (line_len == 0)
            abort();
        format == SVK_LOG_JSON ? check_json() : check_text();
        svk_logger_free(l);
    }
}

static void check_float(const uint8_t *data, size_t size)
{
    double v;
    if (size < sizeof v)
        return;
    memcpy(&v, data, sizeof v);
    if (!isfinite(v))
        return;
    char buf[SVK__NUMBER_MAX + 1];
    *svk__put_f64(buf, v) = '\0';
    if (strtod(buf, NULL) != v)
        abort();
}

static void check_level(const char *text)
{
    int level, again;
    char buf[SVK_LOG_LEVEL_STRLEN];
    if (svk_log_level_parse(text, &level, NULL) != 0)
        return;
    if (svk_log_level_parse(svk_log_level_string(level, buf), &again, NULL) != 0 ||
        again != level)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 65536)
        return 0;
    char *text = malloc(size + 1); /* NUL-free copy for keys and the message */
    for (size_t i = 0; i < size; i++)
        text[i] = data[i] != 0 ? (char)data[i] : '0';
    text[size] = '\0';
    log_both_formats(text, data, size);
    check_float(data, size);
    check_level(text);
    free(text);
    return 0;
}
