/*
 * dsn.c — name a database in messages without leaking its password.
 *
 * The DSN itself is never printed: it is parsed with libpq's own parser and
 * only user, host, port and database name are shown. A DSN that does not
 * parse is described as such, since libpq's parse error may quote it.
 */
#include <libpq-fe.h>
#include <stdio.h>
#include <string.h>

#include "svkctl.h"

static const char *field(const PQconninfoOption *opts, const char *keyword)
{
    for (const PQconninfoOption *o = opts; o->keyword != NULL; o++)
        if (strcmp(o->keyword, keyword) == 0 && o->val != NULL && o->val[0] != '\0')
            return o->val;
    return NULL;
}

void svkctl_describe_target(const char *conninfo, char *out, size_t size)
{
    char *errmsg = NULL;
    PQconninfoOption *opts = PQconninfoParse(conninfo, &errmsg);
    if (opts == NULL) {
        PQfreemem(errmsg);
        snprintf(out, size, "(a DSN that does not parse)");
        return;
    }
    const char *user = field(opts, "user");
    const char *host = field(opts, "host");
    const char *port = field(opts, "port");
    const char *db = field(opts, "dbname");
    snprintf(out, size, "%s%s%s%s%s/%s", user ? user : "", user ? "@" : "",
             host ? host : "(default host)", port ? ":" : "", port ? port : "",
             db ? db : "(default database)");
    PQconninfoFree(opts);
}
