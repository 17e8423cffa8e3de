/*
 * order_topics.c — svk_outbox_order_topics: declare topics ordered per key,
 * in svk_outbox_ordered_topics, where the writer's INSERT looks them up
 * (to number their events) and every relay finds them (to lease their key
 * partitions). The database, not each process's configuration, is the one
 * place that says which topics are ordered, so writers and relays cannot
 * disagree.
 */
#include "broker/broker_impl.h"
#include "broker/pg_array.h"
#include "core/error_detail.h"
#include "svckit/outbox.h"

#include <string.h>

static const char insert_sql[] =
    "INSERT INTO svk_outbox_ordered_topics (topic) SELECT unnest($1::text[])"
    " ON CONFLICT DO NOTHING";

static int encode(svk_buf *b, const char *const *topics, size_t n, svk_error *err)
{
    for (size_t i = 0; i < n; i++)
        if (!svk__broker_topic_valid(topics[i]))
            return svk__error_set(err, SVK_EINVAL, "topic %zu is not a topic name", i);
    int rc = svk__pg_array_begin(b, SVK__PG_OID_TEXT, n);
    for (size_t i = 0; i < n && rc == 0; i++)
        rc = svk__pg_array_add(b, topics[i], strlen(topics[i]));
    return rc == 0 ? 0 : svk__error_set(err, rc, "out of memory");
}

SVK_API int svk_outbox_order_topics(svk_pg_pool *pool, const svk_ctx *ctx,
                                    const char *const *topics, size_t n, svk_error *err)
{
    if (pool == NULL || (topics == NULL && n > 0))
        return svk__error_set(err, SVK_EINVAL, "pool NULL, or topics NULL with n > 0");
    if (n == 0)
        return 0;
    svk_buf b = SVK_BUF_INIT;
    svk_pg_conn *c = NULL;
    int rc = encode(&b, topics, n, err);
    if (rc == 0 && (rc = svk_pg_acquire(pool, ctx, &c)) != 0)
        svk__error_set(err, rc, "no connection: %s", svk_strerror(rc));
    if (rc == 0) {
        const char *values[] = {(const char *)b.data};
        const int lengths[] = {(int)b.len}, formats[] = {SVK_PG_BINARY};
        rc = svk_pg_exec(c, ctx, insert_sql, 1, values, lengths, formats, NULL);
        if (rc != 0)
            svk__error_set(err, rc, "declaring ordered topics: %s", svk_pg_conn_last_error(c));
    }
    svk_pg_release(c);
    svk_buf_free(&b);
    return rc;
}
