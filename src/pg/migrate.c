/*
 * migrate.c — apply the library's schema migrations, once, even when many
 * processes start at the same moment.
 *
 * Everything happens in one READ COMMITTED transaction that first takes
 * pg_advisory_xact_lock(SVK_PG_MIGRATE_LOCK): a second migrator blocks on
 * the lock until the first commits, then (each statement seeing the latest
 * committed catalog in READ COMMITTED) finds the tables and the versions
 * already there and applies nothing. The lock is released by the commit or
 * rollback, so a crashed migrator never leaves it held.
 */
#include "core/error_detail.h"
#include "pg/conn.h"
#include "pg/migrations/migrations.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

static const svk__pg_migration *const migrations[] = {
    &svk__pg_migration_0001,
    &svk__pg_migration_0002,
    &svk__pg_migration_0003,
};

#define MIGRATION_COUNT (sizeof migrations / sizeof migrations[0])

static const char create_version_table[] =
    "CREATE TABLE IF NOT EXISTS svk_schema_version ("
    " version integer PRIMARY KEY,"
    " applied_at timestamptz NOT NULL DEFAULT now(),"
    " description text NOT NULL)";

SVK_API int svk_pg_schema_latest(void)
{
    return migrations[MIGRATION_COUNT - 1]->version;
}

/* A one-row, one-column integer query. */
static int query_int(svk_pg_conn *c, const svk_ctx *ctx, const char *sql, int *out)
{
    svk_pg_result *res = NULL;
    int rc = svk_pg_exec(c, ctx, sql, 0, NULL, NULL, NULL, &res);
    if (rc == 0 && (svk_pg_result_rows(res) != 1 || svk_pg_result_cols(res) != 1))
        rc = svk__pg_conn_fail(c, SVK_EPROTO, "expected one value from: %s", sql);
    if (rc == 0)
        *out = atoi(svk_pg_result_value(res, 0, 0));
    svk_pg_result_free(res);
    return rc;
}

static int take_lock(svk_tx *tx, const svk_ctx *ctx)
{
    char key[24];
    snprintf(key, sizeof key, "%" PRId64, (int64_t)SVK_PG_MIGRATE_LOCK);
    const char *values[] = {key};
    return svk_tx_exec(tx, ctx, "SELECT pg_advisory_xact_lock($1::bigint)", 1, values, NULL,
                       NULL, NULL);
}

static int apply(svk_tx *tx, const svk_ctx *ctx, const svk__pg_migration *m, svk_error *err)
{
    for (int i = 0; m->statements[i] != NULL; i++) {
        int rc = svk_tx_exec(tx, ctx, m->statements[i], 0, NULL, NULL, NULL, NULL);
        if (rc != 0)
            return svk__error_set(err, rc, "migration %d, statement %d: %s", m->version, i + 1,
                                  svk_pg_conn_last_error(svk_tx_conn(tx)));
    }
    char version[16];
    snprintf(version, sizeof version, "%d", m->version);
    const char *values[] = {version, m->description};
    int rc = svk_tx_exec(tx, ctx,
                         "INSERT INTO svk_schema_version (version, description) VALUES ($1, $2)",
                         2, values, NULL, NULL, NULL);
    if (rc != 0)
        return svk__error_set(err, rc, "recording migration %d: %s", m->version,
                              svk_pg_conn_last_error(svk_tx_conn(tx)));
    return 0;
}

/* Inside the locked transaction: apply what is missing; *version the result. */
static int migrate_locked(svk_tx *tx, const svk_ctx *ctx, int *version, svk_error *err)
{
    svk_pg_conn *c = svk_tx_conn(tx);
    int rc = svk_tx_exec(tx, ctx, create_version_table, 0, NULL, NULL, NULL, NULL);
    if (rc == 0)
        rc = query_int(c, ctx, "SELECT coalesce(max(version), 0) FROM svk_schema_version",
                       version);
    if (rc != 0)
        return svk__error_set(err, rc, "reading svk_schema_version: %s",
                              svk_pg_conn_last_error(c));
    for (size_t i = 0; i < MIGRATION_COUNT && rc == 0; i++) {
        if (migrations[i]->version <= *version)
            continue;
        rc = apply(tx, ctx, migrations[i], err);
        if (rc == 0)
            *version = migrations[i]->version;
    }
    return rc;
}

/* No connection: the pool's last connect error says why, if there was one. */
static int no_connection(svk_pg_pool *pool, int rc, const char *doing, svk_error *err)
{
    char msg[SVK_ERROR_MESSAGE_SIZE];
    svk_pg_pool_last_error(pool, msg, sizeof msg);
    return svk__error_set(err, rc, "cannot %s: %s%s%s", doing, svk_strerror(rc),
                          msg[0] ? ": " : "", msg);
}

SVK_API int svk_pg_migrate(svk_pg_pool *pool, const svk_ctx *ctx, int *version, svk_error *err)
{
    if (pool == NULL)
        return svk__error_set(err, SVK_EINVAL, "pool is NULL");
    svk_tx *tx = NULL;
    int rc = svk_tx_begin(pool, ctx, SVK_TX_READ_COMMITTED, &tx);
    if (rc != 0)
        return no_connection(pool, rc, "begin the migration transaction", err);
    rc = take_lock(tx, ctx);
    if (rc != 0)
        svk__error_set(err, rc, "taking the migration lock: %s",
                       svk_pg_conn_last_error(svk_tx_conn(tx)));
    int reached = 0;
    if (rc == 0)
        rc = migrate_locked(tx, ctx, &reached, err);
    if (rc != 0) {
        svk_tx_rollback(tx);
        return rc;
    }
    rc = svk_tx_commit(tx, ctx);
    if (rc != 0)
        return svk__error_set(err, rc, "committing the migration: %s", svk_strerror(rc));
    if (version != NULL)
        *version = reached;
    return 0;
}

SVK_API int svk_pg_schema_version(svk_pg_pool *pool, const svk_ctx *ctx, int *version,
                                  svk_error *err)
{
    if (pool == NULL || version == NULL)
        return svk__error_set(err, SVK_EINVAL, "pool or version is NULL");
    svk_pg_conn *c = NULL;
    int rc = svk_pg_acquire(pool, ctx, &c);
    if (rc != 0)
        return no_connection(pool, rc, "get a connection", err);
    int exists = 0;
    rc = query_int(c, ctx, "SELECT (to_regclass('svk_schema_version') IS NOT NULL)::int",
                   &exists);
    *version = 0;
    if (rc == 0 && exists)
        rc = query_int(c, ctx, "SELECT coalesce(max(version), 0) FROM svk_schema_version",
                       version);
    if (rc != 0)
        svk__error_set(err, rc, "reading svk_schema_version: %s", svk_pg_conn_last_error(c));
    svk_pg_release(c);
    return rc;
}
