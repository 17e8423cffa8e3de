/*
 * migrate_cmd.c — `svkctl migrate`: bring a database's svk_* tables to the
 * schema version this build of the library ships, printing the version
 * before and after. Safe to run while services start (the library takes an
 * advisory lock) and to run again (nothing left to do is success).
 */
#include <stdio.h>

#include <svckit/pg.h>

#include "svkctl.h"

#define USAGE SVKCTL_NAME " migrate [--dsn DSN] [--timeout DURATION]"

static int run(svk_pg_pool *pool, svk_ctx *ctx, const char *target)
{
    svk_error err;
    int before = 0, after = 0;
    int rc = svk_pg_schema_version(pool, ctx, &before, &err);
    if (rc != 0)
        return svkctl_fail("migrate", target, "reading the schema version", rc, err.message);
    rc = svk_pg_migrate(pool, ctx, &after, &err);
    if (rc != 0)
        return svkctl_fail("migrate", target, "migrating", rc, err.message);
    if (after == before)
        printf("%s: schema version %d, up to date\n", target, after);
    else
        printf("%s: schema version %d -> %d\n", target, before, after);
    if (after > svk_pg_schema_latest())
        printf("note: the database is newer than this svkctl (it knows up to %d)\n",
               svk_pg_schema_latest());
    return SVKCTL_OK;
}

int svkctl_migrate(int argc, char **argv)
{
    /* --timeout bounds the run; a long DDL is not cut by a server limit. */
    return svkctl_run_db_command("migrate", argc, argv, USAGE, SVK_PG_NO_TIMEOUT, run);
}
