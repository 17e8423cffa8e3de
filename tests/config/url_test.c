/* url_test.c — svk_check_url: URL grammar, scheme allow-list, libpq key=value strings. */
#include <criterion/criterion.h>
#include <string.h>

#include "svckit/config.h"

static const char *const pg[] = {"postgres", "postgresql", NULL};
static const char *const web[] = {"http", "https", NULL};

static int check(const char *s, const char *const *schemes)
{
    svk_error err;
    int rc = svk_check_url(s, strlen(s), schemes, &err);
    if (rc != 0)
        cr_assert_eq(err.code, rc);
    return rc;
}

Test(url, valid_urls)
{
    const char *ok[] = {
        "http://example.com", "https://example.com/", "HTTPS://Example.COM:8443/a/b?x=1&y=%20#top",
        "http://user:p%40ss@host:80/path", "http://[::1]:8080/", "http://127.0.0.1",
        "https://h/a;b=c/d@e:f?q=/?#frag/?", "http://h:0", "http://h:65535",
    };
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++)
        cr_assert_eq(check(ok[i], web), 0, "%s", ok[i]);
    cr_assert_eq(check("nats://broker:4222", NULL), 0, "NULL allows any scheme");
    cr_assert_eq(check("file:///etc/passwd", NULL), 0);
}

Test(url, postgres_urls_and_dsns)
{
    const char *ok[] = {
        "postgres://u:secret@db:5432/orders?sslmode=require",
        "postgresql://db1:5432,db2:5433/orders?target_session_attrs=read-write",
        "postgresql:///orders?host=/var/run/postgresql",
        "postgresql://",
        "host=db dbname=orders",
        "host = db  port=5432 user=u password='it\\'s' sslmode=require",
        "password='a b \\' c' dbname=x",
        "password=a\\ b",
        "host= dbname=x",
        "  dbname=orders  ",
    };
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++)
        cr_assert_eq(check(ok[i], pg), 0, "%s", ok[i]);
}

Test(url, invalid)
{
    const char *bad_web[] = {
        "", "example.com", "http:/example.com", "http//x", "ftp://example.com",
        "http://", "http://:80", "http://h:port", "http://h:65536", "http://h:123456",
        "http://h/a b", "http://h/%zz", "http://h/%4", "http://a@b@c", "http://h/#a#b",
        "http://h/\xc3\xa9", "http://h/\n", " http://h", "http://h ", "1http://h",
        "http://[::1", "http://[]/", "http://[::1]x", "http://h,i/",
        "host=db dbname=x",
    };
    for (size_t i = 0; i < sizeof bad_web / sizeof bad_web[0]; i++)
        cr_assert_eq(check(bad_web[i], web), SVK_EINVAL, "%s", bad_web[i]);
    const char *bad_pg[] = {
        "", "   ", "host", "host db", "password='it''s'", "hots=db", "=db", "dbname='x", "dbname=x junk",
        "mysql://db/x", "postgres://db:99999/x",
    };
    for (size_t i = 0; i < sizeof bad_pg / sizeof bad_pg[0]; i++)
        cr_assert_eq(check(bad_pg[i], pg), SVK_EINVAL, "%s", bad_pg[i]);
    cr_assert_eq(svk_check_url("x", 1, NULL, NULL), SVK_EINVAL);
    cr_assert_eq(svk_check_url(NULL, 1, NULL, NULL), SVK_EINVAL);
}

Test(url, messages_never_quote_the_input)
{
    const char *inputs[] = {"postgres://u:hunter2@db:99999/x", "password=hunter2 bogus=1",
                            "password='hunter2", "mysql://u:hunter2@h/x"};
    for (size_t i = 0; i < sizeof inputs / sizeof inputs[0]; i++) {
        svk_error err;
        cr_assert_eq(svk_check_url(inputs[i], strlen(inputs[i]), pg, &err), SVK_EINVAL);
        cr_assert_null(strstr(err.message, "hunter2"), "%s", err.message);
    }
}
