/*
 * consumer — an external program built against an INSTALLED libsvckit.
 *
 * tests/build/consumer.sh builds it three ways (pkg-config + shared library,
 * pkg-config + static library, find_package(svckit) in CMake) to prove the
 * installed headers, library, svckit.pc and svckitConfig.cmake work together.
 * Only public headers are used. Exit status 0 when every check holds, 1 on
 * the first mismatch (with a message on stderr).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <svckit/svckit.h>

static int failures;

#define CHECK(cond, ...)                                                       \
    do {                                                                       \
        if (!(cond)) {                                                         \
            fprintf(stderr, "consumer: %s:%d: check failed: %s: ", __FILE__,   \
                    __LINE__, #cond);                                          \
            fprintf(stderr, __VA_ARGS__);                                      \
            fputc('\n', stderr);                                               \
            failures++;                                                        \
        }                                                                      \
    } while (0)

static void check_version(void)
{
    const char *v = svk_version();
    CHECK(v != NULL, "svk_version() returned NULL");
    if (v == NULL)
        return;
    CHECK(strcmp(v, SVK_VERSION_STRING) == 0, "header %s but library %s",
          SVK_VERSION_STRING, v);
    CHECK(svk_version_num() == (unsigned)SVK_VERSION_NUM,
          "header 0x%06x but library 0x%06x", (unsigned)SVK_VERSION_NUM,
          svk_version_num());
}

static void check_uuid(void)
{
    svk_uuid a, b, parsed;
    int rc = svk_uuid_v7(&a);
    CHECK(rc == 0, "svk_uuid_v7: %s", svk_strerror(rc));
    rc = svk_uuid_v7(&b);
    CHECK(rc == 0, "svk_uuid_v7: %s", svk_strerror(rc));
    CHECK(svk_uuid_compare(&a, &b) < 0, "second UUIDv7 does not sort after the first");

    char text[SVK_UUID_STRLEN + 1];
    memset(text, 'x', sizeof text);
    svk_uuid_format(&a, text);
    CHECK(strlen(text) == SVK_UUID_STRLEN, "formatted length %zu", strlen(text));
    CHECK(text[14] == '7', "version nibble '%c' in %s", text[14], text);

    svk_error err;
    svk_error_clear(&err);
    memset(&parsed, 0, sizeof parsed);
    rc = svk_uuid_parse(text, strlen(text), &parsed, &err);
    CHECK(rc == 0, "svk_uuid_parse(%s): %s (%s)", text, svk_strerror(rc), err.message);
    CHECK(svk_uuid_compare(&a, &parsed) == 0, "round trip changed %s", text);
    CHECK(memcmp(a.bytes, parsed.bytes, sizeof a.bytes) == 0, "round trip bytes differ");

    char again[SVK_UUID_STRLEN + 1];
    svk_uuid_format(&parsed, again);
    CHECK(strcmp(text, again) == 0, "%s formatted back as %s", text, again);

    /* A malformed id is rejected with SVK_EINVAL and a message in err. */
    svk_error_clear(&err);
    rc = svk_uuid_parse("not-a-uuid", 10, &parsed, &err);
    CHECK(rc == SVK_EINVAL, "malformed id gave %d (%s)", rc, svk_errname(rc));
    CHECK(err.code == SVK_EINVAL && err.message[0] != '\0',
          "svk_error not filled: code %d message '%s'", err.code, err.message);
}

static void check_buf(void)
{
    svk_buf b = SVK_BUF_INIT;
    int rc = svk_buf_appendf(&b, "%s-%d", "svckit", 42);
    CHECK(rc == 0, "svk_buf_appendf: %s", svk_strerror(rc));
    rc = svk_buf_append_str(&b, "!");
    CHECK(rc == 0, "svk_buf_append_str: %s", svk_strerror(rc));
    CHECK(b.len == 10, "len %zu, expected 10", b.len);
    CHECK(b.data != NULL && strcmp((const char *)b.data, "svckit-42!") == 0,
          "contents '%s'", b.data ? (const char *)b.data : "(null)");
    size_t n = 0;
    char *s = svk_buf_detach(&b, &n);
    CHECK(s != NULL && n == 10 && strcmp(s, "svckit-42!") == 0, "detach gave '%s'",
          s ? s : "(null)");
    CHECK(b.data == NULL && b.len == 0 && b.cap == 0, "detach left the buffer non-empty");
    svk_free(s);
    svk_buf_free(&b);
}

static void check_strerror(void)
{
    CHECK(strcmp(svk_strerror(SVK_OK), "success") == 0, "svk_strerror(0) = '%s'",
          svk_strerror(SVK_OK));
    const char *e = svk_strerror(SVK_EINVAL);
    CHECK(e != NULL && *e != '\0' && strcmp(e, "unknown error") != 0,
          "svk_strerror(SVK_EINVAL) = '%s'", e ? e : "(null)");
    CHECK(strcmp(svk_strerror(12345), "unknown error") == 0, "svk_strerror(12345) = '%s'",
          svk_strerror(12345));
    CHECK(strcmp(svk_errname(SVK_ENOTSUP), "SVK_ENOTSUP") == 0, "svk_errname = '%s'",
          svk_errname(SVK_ENOTSUP));
}

int main(void)
{
    check_version();
    check_uuid();
    check_buf();
    check_strerror();
    if (failures != 0) {
        fprintf(stderr, "consumer: %d check(s) failed\n", failures);
        return 1;
    }
    printf("consumer: libsvckit %s ok\n", svk_version());
    return 0;
}
