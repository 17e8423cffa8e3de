/*
 * pgqueue_publish.c — publish a batch to the PostgreSQL queue in one
 * statement: one round trip, one (implicit) transaction, one NOTIFY. The
 * statement is prepared once per connection (pg/pipeline.c), so the
 * server does not plan its CTEs for every batch.
 *
 * The batch travels as seven binary array parameters (pg_array.h): ids,
 * topics, keys, payloads, and the headers flattened into (message ordinal,
 * name, value) triples that the server folds back into one jsonb object per
 * message. The statement fans each message out to every group subscribed to
 * its topic, in batch order (so the identity column numbers same-key
 * messages in that order), skips (group, message id) pairs already queued,
 * and calls pg_notify once, only if it queued anything. The NOTIFY is sent
 * at commit, by the same implicit transaction: never per row, and never
 * from a trigger (a NOTIFY takes a global lock at commit, so one per
 * transaction is what keeps concurrent publishers from serialising).
 */
#include "broker/pg_array.h"
#include "broker/pgqueue_impl.h"
#include "pg/conn.h"

#include <string.h>

/* PostgreSQL's largest single value (MaxAllocSize): each array must fit. */
#define PG_VALUE_MAX ((size_t)0x3fffffff)

static const char publish_sql[] =
    "WITH m AS ("
    " SELECT * FROM unnest($1::uuid[], $2::text[], $3::text[], $4::bytea[])"
    " WITH ORDINALITY AS m(message_id, topic, key, payload, ord)),"
    " h AS ("
    " SELECT ord, jsonb_object_agg(name, value) AS headers"
    " FROM unnest($5::int4[], $6::text[], $7::text[]) AS h(ord, name, value) GROUP BY ord),"
    " ins AS ("
    " INSERT INTO svk_queue (group_name, message_id, topic, key, headers, payload)"
    " SELECT s.group_name, m.message_id, m.topic, m.key, coalesce(h.headers, '{}'), m.payload"
    " FROM m JOIN svk_queue_subscriptions s ON s.topic_pattern = m.topic"
    " LEFT JOIN h ON h.ord = m.ord"
    " ORDER BY m.ord, s.group_name"
    " ON CONFLICT (group_name, message_id) DO NOTHING RETURNING 1)"
    " SELECT pg_notify($8, '') FROM (SELECT count(*) AS n FROM ins) AS c WHERE c.n > 0";

/* Prepared once per connection: the server plans it once, not per batch. */
static const svk__pg_stmt publish_stmt = {
    SVK__PG_STMT_QUEUE_PUBLISH, "svk_queue_publish_v1", "pgqueue publish", publish_sql, 8,
};

enum { A_IDS, A_TOPICS, A_KEYS, A_PAYLOADS, A_HORDS, A_HNAMES, A_HVALUES, A_COUNT };

/* Each array's element count and data bytes. */
typedef struct layout {
    size_t count[A_COUNT];
    size_t data[A_COUNT];
    size_t size[A_COUNT];   /* encoded bytes */
    size_t offset[A_COUNT]; /* where it starts in the buffer */
} layout;

/* Adds without overflow; false (and *sum untouched) if it would. */
static bool add_size(size_t *sum, size_t v)
{
    if (v > SIZE_MAX - *sum)
        return false;
    *sum += v;
    return true;
}

static int measure(const svk_message *msgs, size_t n, layout *l)
{
    memset(l, 0, sizeof *l);
    for (size_t i = 0; i < n; i++) {
        const svk_message *m = &msgs[i];
        l->data[A_TOPICS] += strlen(m->topic);
        l->data[A_KEYS] += m->key ? strlen(m->key) : 0;
        if (!add_size(&l->data[A_PAYLOADS], m->payload_len))
            return svk__broker_fail(SVK_ETOOBIG, "the batch's payloads overflow size_t");
        for (size_t h = 0; h < m->header_count; h++) {
            l->data[A_HNAMES] += strlen(m->headers[h].name);
            l->data[A_HVALUES] += strlen(m->headers[h].value);
        }
        l->count[A_HORDS] += m->header_count;
    }
    l->count[A_IDS] = l->count[A_TOPICS] = l->count[A_KEYS] = l->count[A_PAYLOADS] = n;
    l->count[A_HNAMES] = l->count[A_HVALUES] = l->count[A_HORDS];
    l->data[A_IDS] = 16 * n;
    l->data[A_HORDS] = 4 * l->count[A_HORDS];
    for (int a = 0; a < A_COUNT; a++) {
        if (l->data[a] > PG_VALUE_MAX || l->count[a] > PG_VALUE_MAX / 4)
            return svk__broker_fail(SVK_ETOOBIG, "the batch exceeds PostgreSQL's 1 GiB value "
                                    "limit (array %d): publish it in smaller batches", a);
        l->size[a] = svk__pg_array_size(l->count[a], l->data[a]);
        if (l->size[a] > PG_VALUE_MAX)
            return svk__broker_fail(SVK_ETOOBIG, "the batch exceeds PostgreSQL's 1 GiB value "
                                    "limit (array %d): publish it in smaller batches", a);
    }
    return 0;
}

/* One message field as an array element (SQL NULL for a NULL key). */
static int put_field(svk_buf *b, const svk_message *m, int a)
{
    switch (a) {
    case A_IDS:
        return svk__pg_array_add(b, m->id.bytes, sizeof m->id.bytes);
    case A_TOPICS:
        return svk__pg_array_add(b, m->topic, strlen(m->topic));
    case A_KEYS:
        return svk__pg_array_add(b, m->key, m->key ? strlen(m->key) : SVK__PG_ARRAY_NULL);
    default:
        return svk__pg_array_add(b, m->payload, m->payload_len);
    }
}

/* The header triples of message i (ordinals count from 1, as ORDINALITY). */
static int put_headers(svk_buf *b, const svk_message *m, size_t i, int a)
{
    int rc = 0;
    for (size_t h = 0; h < m->header_count && rc == 0; h++) {
        const svk_header *hd = &m->headers[h];
        if (a == A_HORDS)
            rc = svk__pg_array_add_int4(b, (int32_t)(i + 1));
        else if (a == A_HNAMES)
            rc = svk__pg_array_add(b, hd->name, strlen(hd->name));
        else
            rc = svk__pg_array_add(b, hd->value, strlen(hd->value));
    }
    return rc;
}

static const uint32_t element_oid[A_COUNT] = {
    SVK__PG_OID_UUID, SVK__PG_OID_TEXT, SVK__PG_OID_TEXT, SVK__PG_OID_BYTEA,
    SVK__PG_OID_INT4, SVK__PG_OID_TEXT, SVK__PG_OID_TEXT,
};

static int encode(svk_buf *b, const svk_message *msgs, size_t n, layout *l)
{
    size_t total = 0;
    for (int a = 0; a < A_COUNT; a++)
        if (!add_size(&total, l->size[a]))
            return svk__broker_fail(SVK_ETOOBIG, "the batch overflows size_t");
    int rc = svk_buf_reserve(b, total);
    for (int a = 0; a < A_COUNT && rc == 0; a++) {
        l->offset[a] = b->len;
        rc = svk__pg_array_begin(b, element_oid[a], l->count[a]);
        for (size_t i = 0; i < n && rc == 0; i++)
            rc = a < A_HORDS ? put_field(b, &msgs[i], a) : put_headers(b, &msgs[i], i, a);
    }
    return rc != 0 ? svk__broker_fail(rc, "encoding the batch: %s", svk_strerror(rc)) : 0;
}

static int send_batch(svk__pgqueue *q, const svk_ctx *ctx, const svk_buf *b, const layout *l)
{
    const char *values[A_COUNT + 1];
    int lengths[A_COUNT + 1], formats[A_COUNT + 1];
    for (int a = 0; a < A_COUNT; a++) {
        values[a] = (const char *)b->data + l->offset[a];
        lengths[a] = (int)l->size[a];
        formats[a] = SVK_PG_BINARY;
    }
    values[A_COUNT] = q->channel;
    lengths[A_COUNT] = 0;
    formats[A_COUNT] = SVK_PG_TEXT;
    svk_pg_conn *c = NULL;
    int rc = svk__pgq_acquire(q, ctx, &c);
    if (rc != 0)
        return rc;
    rc = svk__pg_exec_stmt(c, ctx, &publish_stmt, values, lengths, formats, SVK_PG_TEXT, NULL);
    if (rc != 0)
        svk__broker_fail(rc, "publish: %s: %s", svk_strerror(rc), svk_pg_conn_last_error(c));
    svk_pg_release(c);
    return rc;
}

int svk__pgq_publish(svk_broker *base, const svk_ctx *ctx, const svk_message *msgs, size_t n)
{
    layout l;
    svk_buf b = SVK_BUF_INIT;
    int rc = measure(msgs, n, &l);
    if (rc == 0)
        rc = encode(&b, msgs, n, &l);
    if (rc == 0)
        rc = send_batch((svk__pgqueue *)base, ctx, &b, &l);
    svk_buf_free(&b);
    return rc;
}
