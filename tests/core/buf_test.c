/* buf_test.c — svk_buf growth, NUL termination, formatting and detach. */
#include <criterion/criterion.h>
#include <string.h>

#include "svckit/core.h"

Test(buf, starts_empty_and_appends)
{
    svk_buf b = SVK_BUF_INIT;
    cr_assert_eq(svk_buf_append(&b, NULL, 0), 0);
    cr_assert_eq(svk_buf_append_str(&b, "hello"), 0);
    cr_assert_eq(svk_buf_append(&b, ", world", 7), 0);
    cr_assert_eq(b.len, 12);
    cr_assert_str_eq((char *)b.data, "hello, world");
    cr_assert_gt(b.cap, b.len);
    svk_buf_free(&b);
    cr_assert_null(b.data);
    cr_assert_eq(b.len, 0);
    cr_assert_eq(b.cap, 0);
}

Test(buf, grows_across_many_appends_and_keeps_bytes)
{
    svk_buf b = SVK_BUF_INIT;
    for (int i = 0; i < 100000; i++) {
        unsigned char c = (unsigned char)i;
        cr_assert_eq(svk_buf_append(&b, &c, 1), 0);
    }
    cr_assert_eq(b.len, 100000);
    for (int i = 0; i < 100000; i++)
        cr_assert_eq(b.data[i], (unsigned char)i);
    cr_assert_eq(b.data[b.len], 0);
    svk_buf_free(&b);
}

Test(buf, append_from_itself_survives_reallocation)
{
    svk_buf b = SVK_BUF_INIT;
    cr_assert_eq(svk_buf_append_str(&b, "abcdefgh"), 0);
    for (int i = 0; i < 12; i++)
        cr_assert_eq(svk_buf_append(&b, b.data, b.len), 0);
    cr_assert_eq(b.len, 8u << 12);
    for (size_t i = 0; i < b.len; i++)
        cr_assert_eq(b.data[i], "abcdefgh"[i % 8]);
    svk_buf_free(&b);
}

Test(buf, appendf_formats_short_and_long_text)
{
    svk_buf b = SVK_BUF_INIT;
    cr_assert_eq(svk_buf_appendf(&b, "%d-%s", 42, "x"), 0);
    cr_assert_str_eq((char *)b.data, "42-x");
    char big[5000];
    memset(big, 'q', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    cr_assert_eq(svk_buf_appendf(&b, "[%s]", big), 0);
    cr_assert_eq(b.len, 4 + 2 + sizeof big - 1);
    cr_assert_eq(b.data[4], '[');
    cr_assert_eq(b.data[b.len - 1], ']');
    cr_assert_eq(b.data[b.len], '\0');
    svk_buf_free(&b);
}

Test(buf, reset_keeps_memory)
{
    svk_buf b = SVK_BUF_INIT;
    cr_assert_eq(svk_buf_append_str(&b, "some text"), 0);
    unsigned char *data = b.data;
    size_t cap = b.cap;
    svk_buf_reset(&b);
    cr_assert_eq(b.len, 0);
    cr_assert_eq(b.data, data);
    cr_assert_eq(b.cap, cap);
    cr_assert_str_eq((char *)b.data, "");
    svk_buf_free(&b);
}

Test(buf, detach_hands_over_a_string)
{
    svk_buf b = SVK_BUF_INIT;
    size_t len = 99;
    char *empty = svk_buf_detach(&b, &len);
    cr_assert_not_null(empty);
    cr_assert_str_eq(empty, "");
    cr_assert_eq(len, 0);
    svk_free(empty);

    cr_assert_eq(svk_buf_append_str(&b, "kept"), 0);
    char *s = svk_buf_detach(&b, &len);
    cr_assert_str_eq(s, "kept");
    cr_assert_eq(len, 4);
    cr_assert_null(b.data);
    cr_assert_eq(b.len, 0);
    svk_free(s);
}

Test(buf, bad_arguments_are_rejected)
{
    svk_buf b = SVK_BUF_INIT;
    cr_assert_eq(svk_buf_append(NULL, "x", 1), SVK_EINVAL);
    cr_assert_eq(svk_buf_append(&b, NULL, 3), SVK_EINVAL);
    cr_assert_eq(svk_buf_append_str(&b, NULL), SVK_EINVAL);
    cr_assert_eq(svk_buf_appendf(&b, NULL), SVK_EINVAL);
    cr_assert_eq(svk_buf_reserve(NULL, 1), SVK_EINVAL);
    cr_assert_null(svk_buf_detach(NULL, NULL));
    svk_buf_reset(NULL);
    svk_buf_free(NULL);
}

Test(buf, size_overflow_is_erange_and_changes_nothing)
{
    svk_buf b = SVK_BUF_INIT;
    cr_assert_eq(svk_buf_append_str(&b, "abc"), 0);
    cr_assert_eq(svk_buf_reserve(&b, SIZE_MAX), SVK_ERANGE);
    cr_assert_eq(svk_buf_reserve(&b, SIZE_MAX - 3), SVK_ERANGE);
    cr_assert_eq(b.len, 3);
    cr_assert_str_eq((char *)b.data, "abc");
    svk_buf_free(&b);
}
