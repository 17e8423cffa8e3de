/*
 * put.c — svk_outbox_put: one event, one statement, one round trip, and no
 * heap allocation (the statement and its parameters live on the stack).
 *
 * The statement calls svk_outbox_put() (migration 3), whose PL/pgSQL body
 * keeps its plan for the session: it inserts the row (the database adds
 * the ordering sequence number for ordered topics and the insert time,
 * clock_timestamp(), where the relay's latency figure starts) and queues
 * the NOTIFY while some relay sleeps. The headers travel as individual text
 * parameters gathered by an ARRAY constructor (name, value, name, ...), so
 * the statement text depends only on the header count, never on a value,
 * and no JSON is built or escaped here. The id and the payload go binary.
 */
#include "outbox/outbox_impl.h"

#include <stdio.h>
#include <string.h>

enum { P_ID, P_TOPIC, P_KEY, P_PAYLOAD, P_FIXED };
#define MAX_PARAMS (P_FIXED + 2 * (SVK__OUTBOX_HEADERS_MAX + 1))
/* Longest statement: the fixed part plus ", $134::text" per header string. */
#define SQL_MAX (256 + 12 * 2 * (SVK__OUTBOX_HEADERS_MAX + 1))

static const char call_sql[] =
    "SELECT svk_outbox_put($1::uuid, $2::text, $3::text, $4::bytea, ";

typedef struct statement {
    char sql[SQL_MAX];
    const char *values[MAX_PARAMS];
    int lengths[MAX_PARAMS];
    int formats[MAX_PARAMS];
    int n;
} statement;

static void add_param(statement *s, const void *value, size_t len, int format)
{
    s->values[s->n] = value;
    s->lengths[s->n] = (int)len;
    s->formats[s->n] = format;
    s->n++;
}

/* The call, with the headers as ARRAY[$5::text, $6::text, ...] (or NULL). */
static void build_sql(statement *s, int params)
{
    size_t room = sizeof s->sql;
    size_t used = (size_t)snprintf(s->sql, room, "%s%s", call_sql, params ? "ARRAY[" : "NULL");
    for (int i = 0; i < params; i++)
        used += (size_t)snprintf(s->sql + used, room - used, "%s$%d::text", i ? ", " : "",
                                 P_FIXED + 1 + i);
    snprintf(s->sql + used, room - used, "%s", params ? "]::text[])" : ")");
}

static void add_headers(statement *s, const svk_outbox_event *e, const svk__outbox_trace *t)
{
    for (size_t i = 0; i < e->header_count; i++) {
        add_param(s, e->headers[i].name, 0, SVK_PG_TEXT);
        add_param(s, e->headers[i].value, 0, SVK_PG_TEXT);
    }
    if (svk__outbox_adds_trace(t, e->headers, e->header_count)) {
        add_param(s, "traceparent", 0, SVK_PG_TEXT);
        add_param(s, t->value, 0, SVK_PG_TEXT);
    }
}

static int insert(svk_tx *tx, const svk_ctx *ctx, const svk_outbox_event *e,
                  const svk__outbox_trace *t)
{
    statement s;
    s.n = 0;
    add_param(&s, e->id.bytes, sizeof e->id.bytes, SVK_PG_BINARY);
    add_param(&s, e->topic, 0, SVK_PG_TEXT);
    add_param(&s, e->key, 0, SVK_PG_TEXT);
    add_param(&s, e->payload != NULL ? e->payload : "", e->payload_len, SVK_PG_BINARY);
    add_headers(&s, e, t);
    build_sql(&s, s.n - P_FIXED);
    return svk_tx_exec(tx, ctx, s.sql, s.n, s.values, s.lengths, s.formats, NULL);
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
    rc = insert(tx, ctx, &e, &t);
    if (rc == 0 && id_out != NULL)
        *id_out = e.id;
    return rc;
}
