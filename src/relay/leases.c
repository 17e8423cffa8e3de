/*
 * leases.c — svk_relay_leases: the partition leases as the database holds
 * them, for operators (svkctl outbox status) and tests; no relay needed.
 */
#include "core/error_detail.h"
#include "relay/relay_impl.h"

#include <stdlib.h>

static const char leases_sql[] =
    "WITH n AS (SELECT count(*)::int4 AS c FROM svk_outbox_leases),"
    " d AS (SELECT svk_outbox_partition(o.key, n.c) AS p, count(*) AS depth"
    " FROM svk_outbox o, n WHERE o.seq IS NOT NULL GROUP BY 1)"
    " SELECT l.partition, l.holder, l.token,"
    " CASE WHEN isfinite(l.expires_at)"
    " THEN (extract(epoch FROM l.expires_at - now()) * 1e9)::int8"
    " ELSE -9223372036854775807 END, coalesce(d.depth, 0)"
    " FROM svk_outbox_leases l LEFT JOIN d ON d.p = l.partition ORDER BY l.partition";

static int walk(const svk_pg_result *res, svk_relay_lease_fn fn, void *user)
{
    for (int i = 0; i < svk_pg_result_rows(res); i++) {
        svk_relay_lease l = {.size = sizeof l};
        l.partition = atoi(svk_pg_result_value(res, i, 0));
        l.holder = svk_pg_result_isnull(res, i, 1) ? NULL : svk_pg_result_value(res, i, 1);
        l.token = strtoll(svk_pg_result_value(res, i, 2), NULL, 10);
        l.expires_in_ns = strtoll(svk_pg_result_value(res, i, 3), NULL, 10);
        l.depth = strtoll(svk_pg_result_value(res, i, 4), NULL, 10);
        int rc = fn(&l, user);
        if (rc != 0)
            return rc;
    }
    return 0;
}

SVK_API int svk_relay_leases(svk_pg_pool *pool, const svk_ctx *ctx, svk_relay_lease_fn fn,
                             void *user, svk_error *err)
{
    if (pool == NULL || fn == NULL)
        return svk__error_set(err, SVK_EINVAL, "pool or fn is NULL");
    svk_pg_conn *c = NULL;
    int rc = svk_pg_acquire(pool, ctx, &c);
    if (rc != 0)
        return svk__error_set(err, rc, "no connection: %s", svk_strerror(rc));
    svk_pg_result *res = NULL;
    rc = svk_pg_exec(c, ctx, leases_sql, 0, NULL, NULL, NULL, &res);
    if (rc != 0)
        svk__error_set(err, rc, "reading the leases: %s", svk_pg_conn_last_error(c));
    svk_pg_release(c); /* before the callbacks: they may take a while */
    if (rc == 0)
        rc = walk(res, fn, user);
    svk_pg_result_free(res);
    return rc;
}
