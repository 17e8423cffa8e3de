/*
 * pgqueue_settle.c — ack, nack and term of a PostgreSQL queue delivery.
 *
 * Each is one small autocommit statement on the row the fetch claimed,
 * fenced by (id, attempt): a fetch that takes the row again bumps attempt,
 * so a late settle by the previous holder matches nothing and reports
 * SVK_ETIMEDOUT instead of undoing the new holder's claim. The check and
 * the change are one statement, and in READ COMMITTED an UPDATE or DELETE
 * that waited on a concurrent claim re-reads the row before acting, so a
 * settle racing a re-fetch cannot both succeed.
 *
 * ack and term delete the row: the table holds only what is still to be
 * delivered, and each statement removes one row (no large DELETE ever runs;
 * docs/broker.md has the dead-tuple measurements). term does not keep the
 * row as "terminated": the consumer has already written it to
 * svk_dead_letters, which is where a terminated message belongs.
 */
#include "broker/pgqueue_impl.h"

#include <inttypes.h>
#include <stdio.h>

static const char delete_sql[] = "DELETE FROM svk_queue WHERE id = $1 AND attempt = $2";

static const char nack_sql[] =
    "UPDATE svk_queue SET available_at = now() + $3::bigint * interval '1 microsecond',"
    " locked_until = NULL WHERE id = $1 AND attempt = $2";

/* Run a fenced statement: 0 if it touched the row, SVK_ETIMEDOUT if not. */
static int fenced(svk_delivery *base, const svk_ctx *ctx, const char *sql, const char *delay_us,
                  const char *doing, bool *taken)
{
    svk__pgq_delivery *d = (svk__pgq_delivery *)base;
    svk__pgq_subscription *s = (svk__pgq_subscription *)base->sub;
    int rc = svk__pgq_conn(s, ctx);
    if (rc != 0)
        return rc;
    char id[24], attempt[16];
    snprintf(id, sizeof id, "%" PRId64, d->row_id);
    snprintf(attempt, sizeof attempt, "%" PRId32, d->attempt);
    const char *values[] = {id, attempt, delay_us};
    svk_pg_result *res = NULL;
    rc = svk_pg_exec(s->conn, ctx, sql, delay_us ? 3 : 2, values, NULL, NULL, &res);
    if (rc != 0)
        return svk__pgq_conn_fail(s, rc, doing);
    int64_t touched = svk_pg_result_affected(res);
    svk_pg_result_free(res);
    if (touched == 1) {
        atomic_fetch_add_explicit(&s->q->settles, 1, memory_order_relaxed);
        return 0;
    }
    *taken = true;
    return svk__broker_fail(SVK_ETIMEDOUT, "%s: the ack wait passed and the message was "
                            "fetched again (or is gone)", doing);
}

int svk__pgq_ack(svk_delivery *d, const svk_ctx *ctx, bool *taken)
{
    return fenced(d, ctx, delete_sql, NULL, "ack", taken);
}

int svk__pgq_term(svk_delivery *d, const svk_ctx *ctx, bool *taken)
{
    return fenced(d, ctx, delete_sql, NULL, "term", taken);
}

int svk__pgq_nack(svk_delivery *d, const svk_ctx *ctx, int64_t delay_ns, bool *taken)
{
    char delay_us[24];
    svk__pgq_us_text(delay_ns, delay_us);
    return fenced(d, ctx, nack_sql, delay_us, "nack", taken);
}
