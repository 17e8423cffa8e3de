/*
 * url.c — svk_check_url: a strict RFC 3986 syntax check with a scheme allow-list.
 *
 * Only hierarchical URLs with an authority ("scheme://...") are accepted:
 * those are what services are configured with (http, https, postgres, nats,
 * amqp, redis). The check refuses what would surprise later: spaces, control
 * and non-ASCII bytes, bad %XX escapes, a second '#', an unescaped '@' in the
 * user info, a port that is not a number up to 65535. postgres URLs may list
 * several hosts and omit the host (a Unix socket); libpq's key=value form is
 * handed to pg_dsn.c when the allow-list names postgres.
 */
#include "svckit/config.h"
#include "config/pg_dsn.h"
#include "core/error_detail.h"

#include <string.h>
#include <strings.h>

enum { HOST_REQUIRED = 1, HOST_LIST = 2, HOST_OPTIONAL = 4 };

struct span {
    const char *p;
    const char *end;
};

static int is_alpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
static int is_digit(char c) { return c >= '0' && c <= '9'; }
static int is_hex(char c)
{
    return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

static int is_unreserved(char c)
{
    return is_alpha(c) || is_digit(c) || c == '-' || c == '.' || c == '_' || c == '~';
}

static int is_sub_delim(char c) { return c != '\0' && strchr("!$&'()*+,;=", c) != NULL; }

/* Characters of [p, end) all in the class (plus valid %XX); extra adds some. */
static int all_chars(const char *p, const char *end, const char *extra, int allow_comma)
{
    for (; p < end; p++) {
        if (*p == '%') {
            if (end - p < 3 || !is_hex(p[1]) || !is_hex(p[2]))
                return 0;
            p += 2;
        } else if (*p == ',' && !allow_comma) {
            return 0;
        } else if (!is_unreserved(*p) && !is_sub_delim(*p) &&
                   (*p == '\0' || strchr(extra, *p) == NULL)) {
            return 0;
        }
    }
    return 1;
}

/* Length of "scheme" when s starts with "scheme:", else 0. */
static size_t scheme_length(const char *s, size_t len)
{
    if (len == 0 || !is_alpha(s[0]))
        return 0;
    size_t i = 1;
    while (i < len && (is_alpha(s[i]) || is_digit(s[i]) || s[i] == '+' || s[i] == '-' ||
                       s[i] == '.'))
        i++;
    return i < len && s[i] == ':' ? i : 0;
}

static int scheme_in(const char *s, size_t n, const char *const *schemes)
{
    for (size_t i = 0; schemes[i] != NULL; i++)
        if (strlen(schemes[i]) == n && strncasecmp(schemes[i], s, n) == 0)
            return 1;
    return 0;
}

static int allows_postgres(const char *const *schemes)
{
    return schemes != NULL && (scheme_in("postgres", 8, schemes) ||
                               scheme_in("postgresql", 10, schemes));
}

static int host_rules(const char *scheme, size_t n)
{
    if ((n == 8 && strncasecmp(scheme, "postgres", 8) == 0) ||
        (n == 10 && strncasecmp(scheme, "postgresql", 10) == 0))
        return HOST_LIST | HOST_OPTIONAL;
    if (n == 4 && strncasecmp(scheme, "file", 4) == 0)
        return HOST_OPTIONAL;
    return HOST_REQUIRED;
}

static int check_port(const char *p, const char *end)
{
    if (p == end || end - p > 5)
        return 0;
    long v = 0;
    for (; p < end; p++) {
        if (!is_digit(*p))
            return 0;
        v = v * 10 + (*p - '0');
    }
    return v <= 65535;
}

/* One "host[:port]" (the host a name or a [bracketed] IP literal). */
static int check_host_port(struct span h, int rules, svk_error *err)
{
    const char *colon = NULL;
    if (h.p < h.end && *h.p == '[') {
        const char *close = memchr(h.p, ']', (size_t)(h.end - h.p));
        if (close == NULL || close == h.p + 1 || !all_chars(h.p + 1, close, ":", 0) ||
            memchr(h.p, ':', (size_t)(close - h.p)) == NULL)
            return svk__error_set(err, SVK_EINVAL, "invalid URL: bad [IP literal] host");
        if (close + 1 < h.end && close[1] != ':')
            return svk__error_set(err, SVK_EINVAL, "invalid URL: junk after ']'");
        colon = close + 1 < h.end ? close + 1 : NULL;
    } else {
        colon = memchr(h.p, ':', (size_t)(h.end - h.p));
        const char *host_end = colon ? colon : h.end;
        if (host_end == h.p && !(rules & HOST_OPTIONAL))
            return svk__error_set(err, SVK_EINVAL, "invalid URL: missing host");
        if (!all_chars(h.p, host_end, "", 0))
            return svk__error_set(err, SVK_EINVAL, "invalid URL: bad character in host");
    }
    if (colon != NULL && !check_port(colon + 1, h.end))
        return svk__error_set(err, SVK_EINVAL, "invalid URL: port must be 0-65535");
    return 0;
}

static int check_authority(struct span a, int rules, svk_error *err)
{
    const char *at = memchr(a.p, '@', (size_t)(a.end - a.p));
    if (at != NULL) {
        if (!all_chars(a.p, at, ":", 1))
            return svk__error_set(err, SVK_EINVAL, "invalid URL: bad character in user info");
        if (memchr(at + 1, '@', (size_t)(a.end - at - 1)) != NULL)
            return svk__error_set(err, SVK_EINVAL,
                                  "invalid URL: '@' in user info must be written %%40");
        a.p = at + 1;
    }
    const char *p = a.p;
    for (;;) {
        const char *comma = (rules & HOST_LIST) ? memchr(p, ',', (size_t)(a.end - p)) : NULL;
        struct span h = {p, comma ? comma : a.end};
        int rc = check_host_port(h, rules, err);
        if (rc != 0 || comma == NULL)
            return rc;
        p = comma + 1;
    }
}

/* Path, query and fragment: RFC 3986 pchar, '/', '?', then at most one '#'. */
static int check_rest(const char *p, const char *end, svk_error *err)
{
    const char *hash = memchr(p, '#', (size_t)(end - p));
    if (hash != NULL && memchr(hash + 1, '#', (size_t)(end - hash - 1)) != NULL)
        return svk__error_set(err, SVK_EINVAL, "invalid URL: more than one '#'");
    const char *stop = hash ? hash : end;
    if (!all_chars(p, stop, ":@/?", 1) || (hash && !all_chars(hash + 1, end, ":@/?", 1)))
        return svk__error_set(err, SVK_EINVAL,
                              "invalid URL: bad character or %%XX escape in path or query "
                              "(spaces and non-ASCII must be %%-escaped)");
    return 0;
}

static int check_hierarchical(const char *s, size_t len, size_t slen, svk_error *err)
{
    if (len - slen < 3 || memcmp(s + slen, "://", 3) != 0)
        return svk__error_set(err, SVK_EINVAL, "invalid URL: expected \"://\" after the scheme");
    const char *end = s + len;
    struct span a = {s + slen + 3, s + slen + 3};
    while (a.end < end && *a.end != '/' && *a.end != '?' && *a.end != '#')
        a.end++;
    int rc = check_authority(a, host_rules(s, slen), err);
    return rc != 0 ? rc : check_rest(a.end, end, err);
}

SVK_API int svk_check_url(const char *s, size_t len, const char *const *schemes,
                          svk_error *err)
{
    if (s == NULL && len > 0)
        return svk__error_set(err, SVK_EINVAL, "invalid URL: NULL argument");
    if (s == NULL)
        s = "";
    size_t slen = scheme_length(s, len);
    if (slen == 0) {
        if (allows_postgres(schemes))
            return svk__pg_dsn_check(s, len, err);
        return svk__error_set(err, SVK_EINVAL, "invalid URL: expected scheme://host...");
    }
    if (schemes != NULL && !scheme_in(s, slen, schemes))
        return svk__error_set(err, SVK_EINVAL, "invalid URL: scheme not allowed");
    return check_hierarchical(s, len, slen, err);
}
