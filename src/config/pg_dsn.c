/*
 * pg_dsn.c — libpq's keyword=value connection strings ("host=db dbname=orders").
 *
 * Mirrors conninfo_parse() of libpq 15 (fe-connect.c): blanks separate pairs
 * and may surround '='; a value is bare (up to the next blank, '\' escapes
 * the next byte) or single-quoted ('\' escapes, must be closed); "host= x=y"
 * gives host the value "x=y", as in libpq. Keywords must be libpq's; those
 * added by libpq 16 and 17 are accepted too, since the library linked at run
 * time may be newer. Values are not interpreted: libpq has the last word.
 */
#include "config/pg_dsn.h"
#include "core/error_detail.h"

#include <string.h>

static const char *const keywords[] = {
    "service", "user", "password", "passfile", "channel_binding", "connect_timeout",
    "dbname", "host", "hostaddr", "port", "client_encoding", "options",
    "application_name", "fallback_application_name", "keepalives", "keepalives_idle",
    "keepalives_interval", "keepalives_count", "tcp_user_timeout", "sslmode",
    "sslcompression", "sslcert", "sslkey", "sslpassword", "sslrootcert", "sslcrl",
    "sslcrldir", "sslsni", "requirepeer", "ssl_min_protocol_version",
    "ssl_max_protocol_version", "gssencmode", "krbsrvname", "gsslib", "replication",
    "target_session_attrs", "requiressl",
    /* libpq 16 and 17 */
    "load_balance_hosts", "require_auth", "sslcertmode", "gssdelegation",
    "sslnegotiation",
};

struct cursor {
    const char *p;
    const char *end;
};

/* libpq uses isspace() in the C locale. */
static int is_blank(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r';
}

static void skip_blanks(struct cursor *cur)
{
    while (cur->p < cur->end && is_blank(*cur->p))
        cur->p++;
}

static int known_keyword(const char *k, size_t n)
{
    for (size_t i = 0; i < sizeof keywords / sizeof keywords[0]; i++)
        if (strlen(keywords[i]) == n && memcmp(keywords[i], k, n) == 0)
            return 1;
    return 0;
}

static int read_keyword(struct cursor *cur, svk_error *err)
{
    const char *k = cur->p;
    while (cur->p < cur->end && *cur->p != '=' && !is_blank(*cur->p))
        cur->p++;
    size_t n = (size_t)(cur->p - k);
    skip_blanks(cur);
    if (cur->p == cur->end || *cur->p != '=')
        return svk__error_set(err, SVK_EINVAL,
                              "invalid connection string: missing \"=\" after a keyword");
    if (!known_keyword(k, n))
        return svk__error_set(err, SVK_EINVAL,
                              "invalid connection string: unknown keyword (libpq has "
                              "host, port, dbname, user, password, sslmode, ...)");
    cur->p++;
    skip_blanks(cur);
    return 0;
}

static int read_value(struct cursor *cur, svk_error *err)
{
    if (cur->p == cur->end || *cur->p != '\'') {
        while (cur->p < cur->end && !is_blank(*cur->p))
            cur->p += *cur->p == '\\' && cur->p + 1 < cur->end ? 2 : 1;
        return 0;
    }
    for (cur->p++; cur->p < cur->end; cur->p++) {
        if (*cur->p == '\\' && cur->p + 1 < cur->end)
            cur->p++;
        else if (*cur->p == '\'')
            break;
    }
    if (cur->p == cur->end)
        return svk__error_set(err, SVK_EINVAL,
                              "invalid connection string: unterminated quoted value");
    cur->p++;
    return 0;
}

int svk__pg_dsn_check(const char *s, size_t len, svk_error *err)
{
    if (memchr(s, '\0', len) != NULL)
        return svk__error_set(err, SVK_EINVAL, "invalid connection string: NUL byte");
    struct cursor cur = {s, s + len};
    int pairs = 0;
    for (skip_blanks(&cur); cur.p < cur.end; skip_blanks(&cur)) {
        int rc = read_keyword(&cur, err);
        if (rc == 0)
            rc = read_value(&cur, err);
        if (rc != 0)
            return rc;
        pairs++;
    }
    if (pairs == 0)
        return svk__error_set(err, SVK_EINVAL,
                              "invalid connection string: no keyword=value pair");
    return 0;
}
