/*
 * pgqueue_fetch.c — claim a batch of a group's messages, and wait for one
 * when there is none.
 *
 * The claim is one autocommit statement in READ COMMITTED (SKIP LOCKED
 * under REPEATABLE READ or SERIALIZABLE fails concurrent fetchers with
 * serialization errors): lock up to max ready rows in delivery order,
 * skipping rows other fetchers hold, and mark them claimed until now + the
 * ack wait, bumping attempt. Committed at once, so no transaction stays
 * open while the consumer works; the claim expires by itself if the
 * consumer dies (the visibility timeout), and the next fetch takes the row
 * again with attempt + 1.
 *
 * Waiting: LISTEN on the subscription's connection was issued before the
 * first claim, so a NOTIFY committed after a claim found nothing is
 * already queued on the socket and ends the wait at once: no lost wake-up.
 * The wait is also cut to the poll interval, which finds what no NOTIFY
 * announces (a nack delay or an ack wait running out, a NOTIFY lost with
 * a connection).
 *
 * Each delivery is one allocation holding the envelope, its header array,
 * its strings and its payload, so svk_delivery_free is one svk_free.
 */
#include "broker/pg_array.h"
#include "broker/pgqueue_impl.h"

#include <stdio.h>
#include <string.h>

static const char claim_sql[] =
    "WITH c AS ("
    " SELECT id FROM svk_queue"
    " WHERE group_name = $1 AND topic = ANY($2::text[]) AND available_at <= now()"
    " AND (locked_until IS NULL OR locked_until < now())"
    " ORDER BY available_at, id LIMIT $3 FOR UPDATE SKIP LOCKED),"
    " u AS ("
    " UPDATE svk_queue q SET attempt = q.attempt + 1,"
    " locked_until = now() + $4::bigint * interval '1 microsecond'"
    " FROM c WHERE q.id = c.id"
    " RETURNING q.id, q.attempt, q.message_id, q.topic, q.key, q.payload, q.headers,"
    " q.available_at)"
    " SELECT id, attempt, message_id, topic, key, payload,"
    " ARRAY(SELECT k FROM jsonb_each_text(headers) AS e(k, v) ORDER BY k COLLATE \"C\"),"
    " ARRAY(SELECT v FROM jsonb_each_text(headers) AS e(k, v) ORDER BY k COLLATE \"C\")"
    " FROM u ORDER BY available_at, id";

enum { C_ID, C_ATTEMPT, C_MESSAGE_ID, C_TOPIC, C_KEY, C_PAYLOAD, C_NAMES, C_VALUES, C_COUNT };

/* One claimed row, read in place from the binary result. */
typedef struct row_view {
    int64_t id;
    int32_t attempt;
    const unsigned char *uuid;
    const char *topic, *key; /* key NULL: none */
    size_t topic_len, key_len;
    const void *payload;
    size_t payload_len;
    svk__pg_array_reader names, values;
    size_t nheaders, header_bytes; /* names and values, without NULs */
} row_view;

static const void *column(const svk_pg_result *res, int row, int col, size_t *len)
{
    *len = (size_t)svk_pg_result_length(res, row, col);
    return svk_pg_result_value(res, row, col);
}

/* Count the headers and their bytes, checking both arrays pair up. */
static int measure_headers(row_view *v)
{
    svk__pg_array_reader n = v->names, val = v->values;
    if (n.left != val.left)
        return SVK_EPROTO;
    v->nheaders = n.left;
    v->header_bytes = 0;
    while (n.left > 0) {
        const unsigned char *p;
        size_t a, b;
        if (svk__pg_array_next(&n, &p, &a) != 0 || p == NULL ||
            svk__pg_array_next(&val, &p, &b) != 0 || p == NULL)
            return SVK_EPROTO;
        v->header_bytes += a + b;
    }
    return 0;
}

static int read_row(const svk_pg_result *res, int r, row_view *v)
{
    size_t len[C_COUNT];
    const void *val[C_COUNT];
    for (int c = 0; c < C_COUNT; c++)
        val[c] = column(res, r, c, &len[c]);
    if (svk_pg_result_cols(res) != C_COUNT || len[C_ID] != 8 || len[C_ATTEMPT] != 4 ||
        len[C_MESSAGE_ID] != 16)
        return SVK_EPROTO;
    v->id = svk__pg_get_int8(val[C_ID]);
    v->attempt = svk__pg_get_int4(val[C_ATTEMPT]);
    v->uuid = val[C_MESSAGE_ID];
    v->topic = val[C_TOPIC];
    v->topic_len = len[C_TOPIC];
    v->key = svk_pg_result_isnull(res, r, C_KEY) ? NULL : val[C_KEY];
    v->key_len = len[C_KEY];
    v->payload = val[C_PAYLOAD];
    v->payload_len = len[C_PAYLOAD];
    if (svk__pg_array_open(&v->names, val[C_NAMES], len[C_NAMES], SVK__PG_OID_TEXT) != 0 ||
        svk__pg_array_open(&v->values, val[C_VALUES], len[C_VALUES], SVK__PG_OID_TEXT) != 0)
        return SVK_EPROTO;
    return measure_headers(v);
}

/* Copy n bytes to *cursor as a NUL-terminated string; return where it went. */
static char *put_string(char **cursor, const void *p, size_t n)
{
    char *s = *cursor;
    memcpy(s, p, n);
    s[n] = '\0';
    *cursor += n + 1;
    return s;
}

static void copy_headers(row_view *v, svk_header *out, char **cursor)
{
    for (size_t h = 0; h < v->nheaders; h++) {
        const unsigned char *p;
        size_t n;
        svk__pg_array_next(&v->names, &p, &n); /* checked by measure_headers */
        out[h].name = put_string(cursor, p, n);
        svk__pg_array_next(&v->values, &p, &n);
        out[h].value = put_string(cursor, p, n);
    }
}

static int make_delivery(svk__pgq_subscription *s, row_view *v, svk_delivery **out)
{
    size_t size = sizeof(svk__pgq_delivery) + v->nheaders * sizeof(svk_header) +
                  v->topic_len + 1 + (v->key ? v->key_len + 1 : 0) + v->header_bytes +
                  2 * v->nheaders + v->payload_len;
    svk__pgq_delivery *d = svk_malloc(size);
    if (d == NULL)
        return SVK_ENOMEM;
    svk_header *headers = (svk_header *)(d + 1);
    char *cursor = (char *)(headers + v->nheaders);
    svk_message *m = &d->base.message;
    *m = (svk_message)SVK_MESSAGE_INIT;
    memcpy(m->id.bytes, v->uuid, sizeof m->id.bytes);
    m->topic = put_string(&cursor, v->topic, v->topic_len);
    m->key = v->key ? put_string(&cursor, v->key, v->key_len) : NULL;
    copy_headers(v, headers, &cursor);
    m->headers = headers;
    m->header_count = v->nheaders;
    memcpy(cursor, v->payload, v->payload_len);
    m->payload = cursor;
    m->payload_len = v->payload_len;
    m->attempt = v->attempt;
    d->base.sub = &s->base;
    d->base.state = SVK__DELIVERY_OPEN;
    d->row_id = v->id;
    d->attempt = v->attempt;
    *out = &d->base;
    return 0;
}

/* Turn every claimed row into a delivery, or none (the claims then expire). */
static int take_rows(svk__pgq_subscription *s, const svk_pg_result *res, svk_delivery **out,
                     size_t *count)
{
    int rows = svk_pg_result_rows(res);
    for (int r = 0; r < rows; r++) {
        row_view v;
        int rc = read_row(res, r, &v);
        if (rc == 0)
            rc = make_delivery(s, &v, &out[r]);
        if (rc != 0) {
            while (r-- > 0)
                svk_free(out[r]);
            return svk__broker_fail(rc, "fetch: %s; the %d claimed messages come back after "
                                    "the ack wait", svk_strerror(rc), rows);
        }
    }
    *count = (size_t)rows;
    return 0;
}

static int claim(svk__pgq_subscription *s, const svk_ctx *ctx, size_t max, svk_delivery **out,
                 size_t *count)
{
    char limit[24];
    snprintf(limit, sizeof limit, "%zu", max);
    const char *values[] = {s->group, (const char *)s->topics.data, limit, s->ack_wait_us};
    int lengths[] = {0, (int)s->topics.len, 0, 0};
    int formats[] = {SVK_PG_TEXT, SVK_PG_BINARY, SVK_PG_TEXT, SVK_PG_TEXT};
    svk_pg_result *res = NULL;
    int rc = svk_pg_exec_format(s->conn, ctx, claim_sql, 4, values, lengths, formats,
                                SVK_PG_BINARY, &res);
    if (rc != 0)
        return svk__pgq_conn_fail(s, rc, "fetch");
    rc = take_rows(s, res, out, count);
    svk_pg_result_free(res);
    return rc;
}

/* The ctx deadline ending a fetch is an empty fetch (svckit/broker.h). */
static int deadline_is_not_an_error(const svk_ctx *ctx, int rc)
{
    if (rc != SVK_ETIMEDOUT || svk_ctx_err(ctx) != SVK_ETIMEDOUT)
        return rc;
    return svk__broker_fail(0, "%s", "");
}

int svk__pgq_fetch(svk_subscription *base, const svk_ctx *ctx, size_t max, int64_t deadline_ns,
                   svk_delivery **out, size_t *count)
{
    svk__pgq_subscription *s = (svk__pgq_subscription *)base;
    for (;;) {
        int rc = svk__pgq_conn(s, ctx);
        if (rc == 0) {
            svk__pgq_maybe_vacuum(s, ctx);
            rc = svk__pgq_conn(s, ctx); /* the vacuum may have lost it */
        }
        if (rc == 0)
            rc = claim(s, ctx, max, out, count);
        if (rc != 0 || *count > 0)
            return deadline_is_not_an_error(ctx, rc);
        int64_t left = deadline_ns - svk_clock_mono_ns();
        if (left <= 0)
            return 0;
        int got = 0;
        int64_t poll = s->q->poll_interval_ns;
        rc = svk_pg_wait_notify(s->conn, ctx, left < poll ? left : poll, &got);
        if (rc != 0)
            return deadline_is_not_an_error(ctx, svk__pgq_conn_fail(s, rc, "waiting"));
    }
}

void svk__pgq_delivery_free(svk_delivery *d)
{
    svk_free(d);
}
