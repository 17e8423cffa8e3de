/*
 * db_command.c — the frame every database command of svkctl shares: parse
 * --dsn/--timeout, open a one-connection pool, make a ctx bounded by
 * --timeout, run the command's body, clean up; and its error line.
 */
#include <stdio.h>

#include "svckit/ctx.h"
#include "svckit/pg.h"
#include "svkctl.h"

int svkctl_fail(const char *command, const char *target, const char *doing, int rc,
                const char *detail)
{
    fprintf(stderr, SVKCTL_NAME " %s: %s: %s: %s%s%s\n", command, target, doing,
            svk_strerror(rc), detail[0] ? ": " : "", detail);
    return SVKCTL_FAILED;
}

static int open_pool(const char *command, const svkctl_db_flags *f, const char *target,
                     int64_t statement_timeout_ns, svk_pg_pool **pool)
{
    svk_pg_options o = SVK_PG_OPTIONS_INIT;
    o.conninfo = f->dsn;
    o.max_conns = 1;
    o.application_name = SVKCTL_NAME;
    o.statement_timeout_ns = statement_timeout_ns;
    o.acquire_timeout_ns = f->timeout_ns;
    svk_error err;
    int rc = svk_pg_pool_new(pool, &o, &err);
    return rc == 0 ? SVKCTL_OK : svkctl_fail(command, target, "bad DSN", rc, err.message);
}

int svkctl_run_db_command(const char *command, int argc, char **argv, const char *usage,
                          int64_t statement_timeout_ns, svkctl_db_body body)
{
    svkctl_db_flags flags;
    int help = 0;
    int rc = svkctl_parse_db_flags(argc, argv, usage, &flags, &help);
    if (rc != SVKCTL_OK)
        return help ? SVKCTL_OK : rc;
    char target[256];
    svkctl_describe_target(flags.dsn, target, sizeof target);
    svk_pg_pool *pool = NULL;
    rc = open_pool(command, &flags, target, statement_timeout_ns, &pool);
    svk_ctx *ctx = NULL;
    if (rc == SVKCTL_OK && (svk_ctx_new(&ctx, NULL) != 0 ||
                            svk_ctx_set_timeout(ctx, flags.timeout_ns) != 0))
        rc = svkctl_fail(command, target, "setting up", SVK_ENOMEM, "");
    if (rc == SVKCTL_OK)
        rc = body(pool, ctx, target);
    svk_ctx_free(ctx);
    svk_pg_pool_free(pool);
    return rc;
}
