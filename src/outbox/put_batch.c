/*
 * put_batch.c — svk_outbox_put_batch: many events in one INSERT.
 *
 * The events travel as seven binary array parameters (broker/pg_array.h)
 * of one call to svk_outbox_put_batch() (migration 3): ids, topics, keys,
 * payloads, and the headers flattened into (event ordinal, name, value)
 * triples that the function folds back into one jsonb object per event. So
 * the statement never changes with the batch, payloads go as raw bytes,
 * and nothing is escaped. The rows, and the sequence numbers of ordered
 * topics, follow the array order.
 *
 * The ids are made while encoding, straight into the buffer, and copied
 * out to the events only once the INSERT succeeded.
 */
#include "broker/pg_array.h"
#include "outbox/outbox_impl.h"

#include <string.h>

/* PostgreSQL's largest single value (MaxAllocSize): each array must fit. */
#define PG_VALUE_MAX ((size_t)0x3fffffff)

static const char batch_sql[] =
    "SELECT svk_outbox_put_batch($1::uuid[], $2::text[], $3::text[], $4::bytea[],"
    " $5::int4[], $6::text[], $7::text[])";

enum { A_IDS, A_TOPICS, A_KEYS, A_PAYLOADS, A_HORDS, A_HNAMES, A_HVALUES, A_COUNT };

static const uint32_t element_oid[A_COUNT] = {
    SVK__PG_OID_UUID, SVK__PG_OID_TEXT, SVK__PG_OID_TEXT, SVK__PG_OID_BYTEA,
    SVK__PG_OID_INT4, SVK__PG_OID_TEXT, SVK__PG_OID_TEXT,
};

typedef struct batch {
    const svk_outbox_event *events;
    size_t n;
    svk__outbox_trace trace;
    size_t header_rows; /* (ordinal, name, value) triples, traceparents included */
    svk_buf buf;
    size_t offset[A_COUNT];
    size_t size[A_COUNT];
} batch;

static const svk_outbox_event *event_at(const batch *b, size_t i)
{
    return (const svk_outbox_event *)((const char *)b->events + i * b->events[0].size);
}

/* Check every event (with a fresh id, as it will be written) and count headers. */
static int check_all(svk_pg_conn *c, batch *b)
{
    b->header_rows = 0;
    for (size_t i = 0; i < b->n; i++) {
        svk_outbox_event e = *event_at(b, i);
        if (e.size != sizeof(svk_outbox_event))
            return svk__pg_conn_fail(c, SVK_EINVAL, "outbox event %zu: size %zu is not "
                                     "sizeof(svk_outbox_event) of this library", i, e.size);
        memset(e.id.bytes, 0x77, sizeof e.id.bytes); /* any non-zero id checks the same */
        int rc = svk__outbox_check(c, i, &e, &b->trace);
        if (rc != 0)
            return rc;
        b->header_rows += e.header_count + svk__outbox_adds_trace(&b->trace, e.headers,
                                                                  e.header_count);
    }
    return 0;
}

static int add_field(batch *b, const svk_outbox_event *e, int a)
{
    svk_uuid id;
    int rc;
    switch (a) {
    case A_IDS:
        rc = svk_uuid_v7(&id);
        return rc != 0 ? rc : svk__pg_array_add(&b->buf, id.bytes, sizeof id.bytes);
    case A_TOPICS:
        return svk__pg_array_add(&b->buf, e->topic, strlen(e->topic));
    case A_KEYS:
        return svk__pg_array_add(&b->buf, e->key, e->key ? strlen(e->key) : SVK__PG_ARRAY_NULL);
    default:
        return svk__pg_array_add(&b->buf, e->payload, e->payload_len);
    }
}

/* One header triple's element of array a. */
static int add_header(batch *b, int32_t ord, const char *name, const char *value, int a)
{
    if (a == A_HORDS)
        return svk__pg_array_add_int4(&b->buf, ord);
    const char *s = a == A_HNAMES ? name : value;
    return svk__pg_array_add(&b->buf, s, strlen(s));
}

static int add_headers(batch *b, const svk_outbox_event *e, size_t i, int a)
{
    int rc = 0;
    int32_t ord = (int32_t)(i + 1); /* as WITH ORDINALITY counts */
    for (size_t h = 0; h < e->header_count && rc == 0; h++)
        rc = add_header(b, ord, e->headers[h].name, e->headers[h].value, a);
    if (rc == 0 && svk__outbox_adds_trace(&b->trace, e->headers, e->header_count))
        rc = add_header(b, ord, "traceparent", b->trace.value, a);
    return rc;
}

static int encode_array(batch *b, int a)
{
    b->offset[a] = b->buf.len;
    int rc = svk__pg_array_begin(&b->buf, element_oid[a], a < A_HORDS ? b->n : b->header_rows);
    for (size_t i = 0; i < b->n && rc == 0; i++)
        rc = a < A_HORDS ? add_field(b, event_at(b, i), a) : add_headers(b, event_at(b, i), i, a);
    b->size[a] = b->buf.len - b->offset[a];
    return rc;
}

static int encode(svk_pg_conn *c, batch *b)
{
    for (int a = 0; a < A_COUNT; a++) {
        int rc = encode_array(b, a);
        if (rc == SVK_ETOOBIG || (rc == 0 && b->size[a] > PG_VALUE_MAX))
            return svk__pg_conn_fail(c, SVK_ETOOBIG, "the outbox batch exceeds PostgreSQL's"
                                     " 1 GiB value limit: put it in smaller batches");
        if (rc != 0)
            return svk__pg_conn_fail(c, rc, "encoding the outbox batch: %s", svk_strerror(rc));
    }
    return 0;
}

static int send_batch(svk_tx *tx, const svk_ctx *ctx, const batch *b)
{
    const char *values[A_COUNT];
    int lengths[A_COUNT], formats[A_COUNT];
    for (int a = 0; a < A_COUNT; a++) {
        values[a] = (const char *)b->buf.data + b->offset[a];
        lengths[a] = (int)b->size[a];
        formats[a] = SVK_PG_BINARY;
    }
    return svk_tx_exec(tx, ctx, batch_sql, A_COUNT, values, lengths, formats, NULL);
}

/* After the INSERT: hand the ids made in the buffer to the events. */
static void copy_ids(const batch *b, svk_outbox_event *events)
{
    svk__pg_array_reader r;
    svk__pg_array_open(&r, b->buf.data + b->offset[A_IDS], b->size[A_IDS], SVK__PG_OID_UUID);
    for (size_t i = 0; i < b->n; i++) {
        const unsigned char *p;
        size_t len;
        svk__pg_array_next(&r, &p, &len);
        svk_outbox_event *e = (svk_outbox_event *)((char *)events + i * events[0].size);
        memcpy(e->id.bytes, p, sizeof e->id.bytes);
    }
}

SVK_API int svk_outbox_put_batch(svk_tx *tx, const svk_ctx *ctx, svk_outbox_event *events,
                                 size_t n)
{
    int rc = svk__outbox_tx_usable(tx);
    if (rc != 0 || n == 0)
        return rc;
    if (events == NULL || n > SVK_OUTBOX_BATCH_MAX)
        return svk__pg_conn_fail(tx->conn, SVK_EINVAL, "outbox batch: events NULL, or more "
                                 "than %d", SVK_OUTBOX_BATCH_MAX);
    batch b = {.events = events, .n = n, .buf = SVK_BUF_INIT};
    svk__outbox_trace_init(&b.trace, ctx);
    rc = check_all(tx->conn, &b);
    if (rc == 0)
        rc = encode(tx->conn, &b);
    if (rc == 0)
        rc = send_batch(tx, ctx, &b);
    if (rc == 0)
        copy_ids(&b, events);
    svk_buf_free(&b.buf);
    return rc;
}
