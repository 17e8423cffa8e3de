/*
 * uuid_parse_fuzz.c — libFuzzer target for svk_uuid_parse.
 *
 * The input is copied into a heap buffer of exactly its size, so ASan
 * reports any read past len. Beyond memory errors it checks the contract in
 * core.h, aborting so libFuzzer saves the input:
 *   - success only for 36 bytes, and then format(parse(s)) is s lowercased,
 *     the version is 7 and the variant 10, and parsing the text again gives
 *     the same 16 bytes;
 *   - failure is SVK_EINVAL, leaves out untouched and fills err with the
 *     same code and a NUL-terminated message.
 */
#include "svckit/core.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char ascii_lower(char c)
{
    return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

static void check_success(const char *s, size_t len, const svk_uuid *u)
{
    char text[SVK_UUID_STRLEN + 1];
    svk_uuid again;
    if (len != SVK_UUID_STRLEN)
        abort();
    if ((u->bytes[6] >> 4) != 7 || (u->bytes[8] & 0xc0) != 0x80)
        abort();
    svk_uuid_format(u, text);
    if (strlen(text) != SVK_UUID_STRLEN)
        abort();
    for (size_t i = 0; i < len; i++)
        if (text[i] != ascii_lower(s[i]))
            abort();
    if (svk_uuid_parse(text, SVK_UUID_STRLEN, &again, NULL) != 0)
        abort();
    if (svk_uuid_compare(u, &again) != 0)
        abort();
}

static void check_failure(int rc, const svk_uuid *u, const svk_error *err)
{
    static const svk_uuid untouched = {{0xa5, 0xa5, 0xa5, 0xa5, 0xa5, 0xa5, 0xa5, 0xa5,
                                        0xa5, 0xa5, 0xa5, 0xa5, 0xa5, 0xa5, 0xa5, 0xa5}};
    if (rc != SVK_EINVAL || err->code != rc)
        abort();
    if (memchr(err->message, '\0', sizeof err->message) == NULL || err->message[0] == '\0')
        abort();
    if (svk_uuid_compare(u, &untouched) != 0)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = malloc(size);
    if (s == NULL && size != 0)
        return 0;
    if (size != 0)
        memcpy(s, data, size);
    svk_uuid u;
    memset(u.bytes, 0xa5, sizeof u.bytes);
    svk_error err;
    svk_error_clear(&err);
    /* An empty input gives the parser a valid pointer (malloc(0) is unique
     * under ASan) or, from another allocator, NULL: both must be rejected. */
    int rc = svk_uuid_parse(s, size, &u, &err);
    if (rc == 0)
        check_success(s, size, &u);
    else
        check_failure(rc, &u, &err);
    free(s);
    return 0;
}
