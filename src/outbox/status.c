/*
 * status.c — svk_outbox_status_read: the outbox backlog and the state of the
 * ordered partitions, counted exactly in one statement, for operators
 * (svkctl outbox status). The relay keeps cheaper estimates of its own
 * (src/relay/gauges.c); this is the figure to trust when they disagree.
 */
#include "core/error_detail.h"
#include "svckit/outbox.h"
#include "svckit/relay.h"

#include <stdlib.h>
#include <string.h>

static const char status_sql[] =
    "SELECT (SELECT count(*) FROM svk_outbox),"
    " coalesce((SELECT (extract(epoch FROM clock_timestamp() - min(created_at)) * 1e9)::int8"
    " FROM svk_outbox), 0),"
    " (SELECT count(*) FROM svk_outbox WHERE seq IS NOT NULL),"
    " (SELECT count(*) FROM svk_outbox_ordered_topics),"
    " (SELECT count(*) FROM svk_outbox_leases),"
    " (SELECT count(*) FROM svk_outbox_leases WHERE holder IS NOT NULL AND expires_at > now()),"
    " (SELECT count(*) FROM svk_outbox_relays WHERE expires_at > now()),"
    " (SELECT count(*) FROM svk_dead_letters WHERE group_name = '" SVK_RELAY_DEAD_LETTER_GROUP
    "' AND replayed_at IS NULL)";

static void fill(const svk_pg_result *res, svk_outbox_status *s)
{
    s->depth = strtoll(svk_pg_result_value(res, 0, 0), NULL, 10);
    s->oldest_age_ns = strtoll(svk_pg_result_value(res, 0, 1), NULL, 10);
    if (s->oldest_age_ns < 0)
        s->oldest_age_ns = 0; /* created_at from a client clock ahead of ours */
    s->ordered_depth = strtoll(svk_pg_result_value(res, 0, 2), NULL, 10);
    s->ordered_topics = atoi(svk_pg_result_value(res, 0, 3));
    s->partitions = atoi(svk_pg_result_value(res, 0, 4));
    s->partitions_held = atoi(svk_pg_result_value(res, 0, 5));
    s->relays = atoi(svk_pg_result_value(res, 0, 6));
    s->dead_letters = strtoll(svk_pg_result_value(res, 0, 7), NULL, 10);
}

SVK_API int svk_outbox_status_read(svk_pg_pool *pool, const svk_ctx *ctx,
                                   svk_outbox_status *out, svk_error *err)
{
    if (pool == NULL || out == NULL || out->size == 0 || out->size > sizeof *out)
        return svk__error_set(err, SVK_EINVAL, "pool or out NULL, or out->size unknown");
    svk_pg_conn *c = NULL;
    int rc = svk_pg_acquire(pool, ctx, &c);
    if (rc != 0)
        return svk__error_set(err, rc, "no connection: %s", svk_strerror(rc));
    svk_pg_result *res = NULL;
    rc = svk_pg_exec(c, ctx, status_sql, 0, NULL, NULL, NULL, &res);
    if (rc != 0) {
        svk__error_set(err, rc, "reading the outbox status: %s", svk_pg_conn_last_error(c));
    } else {
        svk_outbox_status s = SVK_OUTBOX_STATUS_INIT;
        fill(res, &s);
        memcpy((char *)out + sizeof out->size, (const char *)&s + sizeof s.size,
               out->size - sizeof out->size);
    }
    svk_pg_result_free(res);
    svk_pg_release(c);
    return rc;
}
