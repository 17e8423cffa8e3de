/*
 * put.c — svk_outbox_put: one event, no round trip of its own, and no heap
 * allocation for ordinary events.
 *
 * The INSERT goes ahead in the transaction's pipeline (pg/pipeline.c): it
 * is sent at once and answered together with the transaction's next
 * statement, usually its COMMIT, so a put costs the server its INSERT and
 * the writer nothing it waits for. It is a prepared statement (prepared
 * once per connection, inside that same pipeline), so the server neither
 * parses nor plans it per call. The database adds the ordering sequence
 * number for ordered topics and the insert time, clock_timestamp(), where
 * the relay's latency figure starts. The headers travel as one binary
 * text[] parameter (name, value, name, ...), so the statement never
 * changes and no JSON is built or escaped here; the id and the payload go
 * binary too.
 *
 * The same statement queues the wake-up: svk_outbox_wake() of migration 3
 * written out (no PL/pgSQL call), a channel-only NOTIFY while some relay
 * sleeps and none is awake. PostgreSQL folds a transaction's identical
 * notifications into one, and each put queues it again, so a ROLLBACK TO
 * SAVEPOINT that undid one is covered by the next put.
 */
#include "broker/pg_array.h"
#include "outbox/outbox_impl.h"

#include <stdio.h>
#include <string.h>

enum { P_ID, P_TOPIC, P_KEY, P_PAYLOAD, P_HEADERS, P_COUNT };

/* The INSERT, then the wake-up's condition over svk_outbox_wakeups. */
static const svk__pg_stmt put_stmt = {
    SVK__PG_STMT_OUTBOX_PUT, "svk_outbox_put_v1", "svk_outbox_put",
    "WITH ins AS (INSERT INTO svk_outbox (id, topic, key, payload, seq, created_at, headers)"
    " VALUES ($1::uuid, $2::text, $3::text, $4::bytea,"
    " CASE WHEN EXISTS (SELECT 1 FROM svk_outbox_ordered_topics t WHERE t.topic = $2::text)"
    " THEN nextval('svk_outbox_seq') END,"
    " clock_timestamp(), coalesce(jsonb_object($5::text[]), '{}')))"
    " SELECT pg_notify(svk_outbox_channel(), '') FROM svk_outbox_wakeups"
    " WHERE until > clock_timestamp() HAVING bool_or(NOT awake) AND NOT bool_or(awake)",
    P_COUNT,
};

/* Headers that fit here are encoded on the stack; larger ones on the heap. */
#define HEADERS_ON_STACK 2048

typedef struct headers_param {
    unsigned char stack[HEADERS_ON_STACK];
    unsigned char *data; /* stack, or svk_malloc'ed */
    size_t len;
} headers_param;

/*
 * The event's headers, and the traceparent added from the ctx, as one
 * binary text[] (broker/pg_array.h); h->data NULL when there are none.
 * 0 or SVK_ENOMEM.
 */
static int encode_headers(headers_param *h, const svk_outbox_event *e,
                          const svk__outbox_trace *t)
{
    svk_header trace = {"traceparent", t->value};
    const svk_header *extra = svk__outbox_adds_trace(t, e->headers, e->header_count) ? &trace
                                                                                      : NULL;
    h->data = NULL;
    h->len = 0;
    if (e->header_count == 0 && extra == NULL)
        return 0;
    h->len = svk__pg_pairs_size(e->headers, e->header_count, extra);
    h->data = h->len <= sizeof h->stack ? h->stack : svk_malloc(h->len);
    if (h->data == NULL)
        return SVK_ENOMEM;
    svk__pg_pairs_write(h->data, e->headers, e->header_count, extra);
    return 0;
}

static void free_headers(headers_param *h)
{
    if (h->data != NULL && h->data != h->stack)
        svk_free(h->data);
}

static int insert(svk_tx *tx, const svk_outbox_event *e, const svk__outbox_trace *t)
{
    headers_param h;
    int rc = encode_headers(&h, e, t);
    if (rc != 0)
        return svk__pg_conn_fail(tx->conn, rc, "outbox event: no memory for its headers");
    const char *values[P_COUNT] = {(const char *)e->id.bytes, e->topic, e->key,
                                   e->payload != NULL ? e->payload : "",
                                   (const char *)h.data};
    const int lengths[P_COUNT] = {sizeof e->id.bytes, 0, 0, (int)e->payload_len, (int)h.len};
    const int formats[P_COUNT] = {SVK_PG_BINARY, SVK_PG_TEXT, SVK_PG_TEXT, SVK_PG_BINARY,
                                  SVK_PG_BINARY};
    rc = svk__pg_defer(tx->conn, &put_stmt, values, lengths, formats);
    free_headers(&h); /* libpq has copied it */
    return rc;
}

SVK_API int svk_outbox_put(svk_tx *tx, const svk_ctx *ctx, const char *topic, const char *key,
                           const void *payload, size_t len, const svk_header *headers,
                           size_t n, svk_uuid *id_out)
{
    int rc = svk__outbox_tx_usable(tx);
    if (rc != 0)
        return rc;
    if (len > INT32_MAX)
        return svk__pg_conn_fail(tx->conn, SVK_EINVAL, "outbox event: payload over 2 GiB");
    svk_outbox_event e = SVK_OUTBOX_EVENT_INIT;
    e.topic = topic;
    e.key = key;
    e.payload = payload;
    e.payload_len = len;
    e.headers = headers;
    e.header_count = n;
    svk__outbox_trace t;
    svk__outbox_trace_init(&t, ctx);
    if ((rc = svk_uuid_v7(&e.id)) != 0)
        return svk__pg_conn_fail(tx->conn, rc, "outbox event: no random bytes for the id");
    if ((rc = svk__outbox_check(tx->conn, 0, &e, &t)) != 0)
        return rc;
    if ((rc = svk_ctx_err(ctx)) != 0)
        return svk__pg_conn_fail(tx->conn, rc, "%s before the outbox event was sent",
                                 svk_strerror(rc));
    rc = insert(tx, &e, &t);
    if (rc == 0 && id_out != NULL)
        *id_out = e.id;
    return rc;
}
