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

static int fail(const char *target, const char *doing, int rc, const char *detail)
{
    fprintf(stderr, SVKCTL_NAME " migrate: %s: %s: %s%s%s\n", target, doing, svk_strerror(rc),
            detail[0] ? ": " : "", detail);
    return SVKCTL_FAILED;
}

static int open_pool(const svkctl_db_flags *f, const char *target, svk_pg_pool **pool)
{
    svk_pg_options o = SVK_PG_OPTIONS_INIT;
    o.conninfo = f->dsn;
    o.max_conns = 1;
    o.application_name = SVKCTL_NAME;
    /* The --timeout bounds the run; a long DDL is not cut by a server limit. */
    o.statement_timeout_ns = SVK_PG_NO_TIMEOUT;
    o.acquire_timeout_ns = f->timeout_ns;
    svk_error err;
    int rc = svk_pg_pool_new(pool, &o, &err);
    return rc == 0 ? SVKCTL_OK : fail(target, "bad DSN", rc, err.message);
}

static int run(svk_pg_pool *pool, svk_ctx *ctx, const char *target)
{
    svk_error err;
    int before = 0, after = 0;
    int rc = svk_pg_schema_version(pool, ctx, &before, &err);
    if (rc != 0)
        return fail(target, "reading the schema version", rc, err.message);
    rc = svk_pg_migrate(pool, ctx, &after, &err);
    if (rc != 0)
        return fail(target, "migrating", rc, err.message);
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
    svkctl_db_flags flags;
    int help = 0;
    int status = svkctl_parse_db_flags(argc, argv, USAGE, &flags, &help);
    if (status != SVKCTL_OK)
        return help ? SVKCTL_OK : status;
    char target[256];
    svkctl_describe_target(flags.dsn, target, sizeof target);
    svk_pg_pool *pool = NULL;
    status = open_pool(&flags, target, &pool);
    svk_ctx *ctx = NULL;
    if (status == SVKCTL_OK && (svk_ctx_new(&ctx, NULL) != 0 ||
                                svk_ctx_set_timeout(ctx, flags.timeout_ns) != 0))
        status = fail(target, "setting up", SVK_ENOMEM, "");
    if (status == SVKCTL_OK)
        status = run(pool, ctx, target);
    svk_ctx_free(ctx);
    svk_pg_pool_free(pool);
    return status;
}
