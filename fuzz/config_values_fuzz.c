/*
 * config_values_fuzz.c — libFuzzer target for the config module's value
 * parsers (duration, bytes, bool, int64, URL) and for loading a config whose
 * every field gets the input as its value.
 *
 * The input is copied into a heap buffer of exactly its size, so ASan
 * reports any read past len. Beyond memory errors it checks the contracts of
 * config.h, aborting so libFuzzer saves the input:
 *   - a failing parser returns SVK_EINVAL or SVK_ERANGE, fills err with the
 *     same code and a non-empty message, and leaves *out untouched;
 *   - a success agrees with the grammar: int64 prints back to the same
 *     number, bool is one of eight words, a size starts with [0-9.,], a
 *     negative duration starts with '-';
 *   - loading a config of secret fields never puts the value in the errors,
 *     the dump or the help text.
 */
#include "svckit/config.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define UNTOUCHED 0x5a5a5a5a5a5a5a5aULL
#define MARKER "Zq9#" /* no message or escape of the library contains it */

static void check_failure(int rc, const svk_error *err, uint64_t out)
{
    if ((rc != SVK_EINVAL && rc != SVK_ERANGE) || err->code != rc)
        abort();
    if (memchr(err->message, '\0', sizeof err->message) == NULL || err->message[0] == '\0')
        abort();
    if (out != UNTOUCHED)
        abort();
}

static void fuzz_duration(const char *s, size_t len)
{
    int64_t ns = (int64_t)UNTOUCHED;
    svk_error err;
    int rc = svk_parse_duration(s, len, &ns, &err);
    if (rc != 0)
        check_failure(rc, &err, (uint64_t)ns);
    else if (ns < 0 && s[0] != '-')
        abort();
}

static void fuzz_bytes(const char *s, size_t len)
{
    uint64_t n = UNTOUCHED;
    svk_error err;
    int rc = svk_parse_bytes(s, len, &n, &err);
    if (rc != 0)
        check_failure(rc, &err, n);
    else if (len == 0 || !strchr("0123456789.,", s[0]) || s[0] == '\0')
        abort();
}

static void fuzz_bool(const char *s, size_t len)
{
    bool b = false;
    svk_error err;
    int rc = svk_parse_bool(s, len, &b, &err);
    if (rc != 0)
        check_failure(rc, &err, UNTOUCHED);
    else if (len == 0 || len > 5)
        abort();
}

/* v must print as the input without '+' and leading zeros ("-0" is "0"). */
static void check_int64(const char *s, size_t len, int64_t v)
{
    char text[32], want[32];
    size_t i = s[0] == '-' || s[0] == '+';
    while (i + 1 < len && s[i] == '0')
        i++;
    if (len - i >= sizeof want - 1)
        abort();
    int neg = s[0] == '-' && !(len - i == 1 && s[i] == '0');
    snprintf(want, sizeof want, "%s%.*s", neg ? "-" : "", (int)(len - i), s + i);
    snprintf(text, sizeof text, "%" PRId64, v);
    if (strcmp(text, want) != 0)
        abort();
}

static void fuzz_int64(const char *s, size_t len)
{
    int64_t v = (int64_t)UNTOUCHED;
    svk_error err;
    int rc = svk_parse_int64(s, len, &v, &err);
    if (rc != 0)
        check_failure(rc, &err, (uint64_t)v);
    else
        check_int64(s, len, v);
}

static void fuzz_url(const char *s, size_t len)
{
    static const char *const pg[] = {"postgres", "postgresql", NULL};
    static const char *const web[] = {"http", "https", NULL};
    const char *const *lists[] = {NULL, pg, web};
    for (size_t i = 0; i < 3; i++) {
        svk_error err;
        int rc = svk_check_url(s, len, lists[i], &err);
        if (rc != 0 && rc != SVK_EINVAL)
            abort();
        if (rc != 0)
            check_failure(rc, &err, UNTOUCHED);
        else if (i == 2 && (len < 7 || (s[0] | 0x20) != 'h'))
            abort();
    }
}

static void must_not_hold(const char *text, const char *secret)
{
    if (text != NULL && strstr(text, secret) != NULL)
        abort();
}

/* Every type of field, all secret, all given the input (as a C string). */
static void fuzz_config(const char *s)
{
    static const char *const levels[] = {"debug", "info", NULL};
    static const char *const pg[] = {"postgres", NULL};
    const char *names[] = {"S", "I", "B", "D", "Y", "E", "U", "L"};
    size_t n = strlen(s);
    char *secret = malloc(n + sizeof MARKER);
    memcpy(secret, MARKER, sizeof MARKER - 1);
    memcpy(secret + sizeof MARKER - 1, s, n + 1);
    char vars[8][16 + 8];
    char *env[9];
    for (size_t i = 0; i < 8; i++) {
        snprintf(vars[i], sizeof vars[i], "F_%s=", names[i]);
        size_t vl = strlen(vars[i]) + strlen(secret) + 1;
        env[i] = malloc(vl);
        snprintf(env[i], vl, "%s%s", vars[i], secret);
    }
    env[8] = NULL;
    svk_config *c = NULL;
    if (svk_config_new(&c, "F", NULL) != 0)
        abort();
    unsigned f = SVK_CONFIG_SECRET;
    svk_config_add_string(c, "S", NULL, f, NULL);
    svk_config_add_int64(c, "I", NULL, -5, 5, f, NULL);
    svk_config_add_bool(c, "B", NULL, f, NULL);
    svk_config_add_duration(c, "D", NULL, INT64_MIN, INT64_MAX, f | SVK_CONFIG_ALLOW_NEGATIVE,
                            NULL);
    svk_config_add_bytes(c, "Y", NULL, 0, 1000, f, NULL);
    svk_config_add_enum(c, "E", NULL, levels, f, NULL);
    svk_config_add_url(c, "U", NULL, pg, f, NULL);
    svk_config_add_list(c, "L", NULL, f, NULL);
    svk_error err;
    int rc = svk_config_load_env(c, (const char *const *)env, &err);
    must_not_hold(svk_config_errors(c), MARKER);
    must_not_hold(svk_config_warnings(c), MARKER);
    if (rc != 0)
        must_not_hold(err.message, MARKER);
    svk_buf b = SVK_BUF_INIT;
    if (rc == 0 && svk_config_dump(c, &b) == 0 && svk_config_help(c, &b) == 0)
        must_not_hold((const char *)b.data, MARKER);
    svk_buf_free(&b);
    svk_config_free(c);
    for (size_t i = 0; i < 8; i++)
        free(env[i]);
    free(secret);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* Exactly size bytes, so ASan catches a parser reading past len. */
    char *s = malloc(size ? size : 1);
    if (s == NULL)
        return 0;
    memcpy(s, data, size);
    fuzz_duration(s, size);
    fuzz_bytes(s, size);
    fuzz_bool(s, size);
    fuzz_int64(s, size);
    fuzz_url(s, size);
    free(s);
    if (size < 4096) {
        char *z = malloc(size + 1);
        if (z == NULL)
            return 0;
        memcpy(z, data, size);
        z[size] = '\0';
        fuzz_config(z);
        free(z);
    }
    return 0;
}
