/*
 * batch.c — a claimed batch: the claim's rows decoded into broker messages,
 * and their publication.
 *
 * Both claim statements (claim.c, ordered.c) return, in binary format:
 *   0 id uuid, 1 topic text, 2 key text (NULL: none), 3 payload bytea,
 *   4 headers text[] (name, value, name, value, ...; NULL: none),
 *   5 age int8 (microseconds from the insert to the claim, database clock),
 *   6 partition int4 (ordered claims only).
 * The messages point into the PGresult (libpq ends every value with a NUL,
 * so topic and key are C strings as they stand); only header names and
 * values, which sit inside an array value, are copied out, into one buffer
 * reserved up front. The storage is kept from batch to batch: a relay in
 * steady state allocates only what libpq allocates for the result.
 */
#include "broker/pg_array.h"
#include "relay/relay_impl.h"

#include <libpq-fe.h>
#include <string.h>

enum { C_ID, C_TOPIC, C_KEY, C_PAYLOAD, C_HEADERS, C_AGE, C_PARTITION };

int svk__relay_batch_init(svk__relay_batch *b, int cap)
{
    memset(b, 0, sizeof *b);
    b->cap = cap;
    b->msgs = svk_malloc((size_t)cap * sizeof *b->msgs);
    b->partition = svk_malloc((size_t)cap * sizeof *b->partition);
    b->age_ns = svk_malloc((size_t)cap * sizeof *b->age_ns);
    b->group = svk_malloc((size_t)cap * sizeof *b->group);
    b->group_age = svk_malloc((size_t)cap * sizeof *b->group_age);
    b->ok = svk_malloc((size_t)cap * sizeof *b->ok);
    return b->msgs && b->partition && b->age_ns && b->group && b->group_age && b->ok
               ? 0 : SVK_ENOMEM;
}

void svk__relay_batch_clear(svk__relay_batch *b)
{
    svk_pg_result_free(b->res);
    b->res = NULL;
    b->n = 0;
}

void svk__relay_batch_free(svk__relay_batch *b)
{
    svk__relay_batch_clear(b);
    svk_free(b->msgs);
    svk_free(b->partition);
    svk_free(b->age_ns);
    svk_free(b->group);
    svk_free(b->group_age);
    svk_free(b->ok);
    svk_free(b->headers);
    svk_buf_free(&b->strings);
}

/* Headers and string bytes of all rows, to size the storage once. */
static int measure(const svk_pg_result *res, int rows, size_t *headers, size_t *bytes)
{
    *headers = *bytes = 0;
    for (int i = 0; i < rows; i++) {
        if (svk_pg_result_isnull(res, i, C_HEADERS))
            continue;
        svk__pg_array_reader rd;
        if (svk__pg_array_open(&rd, svk_pg_result_value(res, i, C_HEADERS),
                               (size_t)svk_pg_result_length(res, i, C_HEADERS),
                               SVK__PG_OID_TEXT) != 0 || rd.left % 2 != 0)
            return SVK_EPROTO;
        *headers += rd.left / 2;
        *bytes += (size_t)svk_pg_result_length(res, i, C_HEADERS) + rd.left;
    }
    return 0;
}

static int reserve(svk__relay_batch *b, size_t headers, size_t bytes)
{
    if (headers > b->headers_cap) {
        svk_header *h = svk_realloc(b->headers, headers * sizeof *h);
        if (h == NULL)
            return SVK_ENOMEM;
        b->headers = h;
        b->headers_cap = headers;
    }
    svk_buf_reset(&b->strings);
    return svk_buf_reserve(&b->strings, bytes);
}

/* A NUL-terminated copy in the reserved buffer (which never moves now). */
static const char *copy_string(svk__relay_batch *b, const unsigned char *p, size_t len)
{
    const char *s = (const char *)b->strings.data + b->strings.len;
    svk_buf_append(&b->strings, p, len);
    svk_buf_append(&b->strings, "", 1);
    return s;
}

static int decode_headers(svk__relay_batch *b, int row, size_t *used, svk_message *m)
{
    m->headers = NULL;
    m->header_count = 0;
    if (svk_pg_result_isnull(b->res, row, C_HEADERS))
        return 0;
    svk__pg_array_reader rd;
    svk__pg_array_open(&rd, svk_pg_result_value(b->res, row, C_HEADERS),
                       (size_t)svk_pg_result_length(b->res, row, C_HEADERS), SVK__PG_OID_TEXT);
    m->headers = b->headers + *used;
    while (rd.left > 0) {
        const unsigned char *name, *value;
        size_t name_len, value_len;
        if (svk__pg_array_next(&rd, &name, &name_len) != 0 || name == NULL ||
            svk__pg_array_next(&rd, &value, &value_len) != 0 || value == NULL)
            return SVK_EPROTO;
        svk_header *h = &b->headers[(*used)++];
        h->name = copy_string(b, name, name_len);
        h->value = copy_string(b, value, value_len);
        m->header_count++;
    }
    return 0;
}

static int decode_row(svk__relay_batch *b, int row, size_t *used, bool ordered)
{
    const svk_pg_result *res = b->res;
    svk_message *m = &b->msgs[row];
    *m = (svk_message)SVK_MESSAGE_INIT;
    if (svk_pg_result_length(res, row, C_ID) != 16 || svk_pg_result_length(res, row, C_AGE) != 8)
        return SVK_EPROTO;
    memcpy(m->id.bytes, svk_pg_result_value(res, row, C_ID), 16);
    m->topic = svk_pg_result_value(res, row, C_TOPIC);
    m->key = svk_pg_result_isnull(res, row, C_KEY) ? NULL : svk_pg_result_value(res, row, C_KEY);
    m->payload = svk_pg_result_value(res, row, C_PAYLOAD);
    m->payload_len = (size_t)svk_pg_result_length(res, row, C_PAYLOAD);
    b->age_ns[row] = svk__pg_get_int8(svk_pg_result_value(res, row, C_AGE)) * 1000;
    b->partition[row] = ordered ? svk__pg_get_int4(svk_pg_result_value(res, row, C_PARTITION))
                                : -1;
    return decode_headers(b, row, used, m);
}

int svk__relay_batch_decode(svk__relay_batch *b, svk_pg_result *res, bool ordered)
{
    svk__relay_batch_clear(b);
    b->res = res;
    b->claimed_ns = svk_clock_mono_ns();
    int rows = svk_pg_result_rows(res);
    size_t headers, bytes;
    if (rows > b->cap || svk_pg_result_cols(res) != C_PARTITION + (ordered ? 1 : 0))
        return SVK_EPROTO;
    int rc = measure(res, rows, &headers, &bytes);
    if (rc == 0)
        rc = reserve(b, headers, bytes);
    size_t used = 0;
    for (int i = 0; i < rows && rc == 0; i++)
        rc = decode_row(b, i, &used, ordered);
    b->n = rc == 0 ? rows : 0;
    return rc;
}

int svk__relay_publish(svk_relay *r, const svk_ctx *ctx, const svk_message *msgs,
                       const int64_t *age_ns, int n)
{
    int rc = svk_broker_publish(r->broker, ctx, msgs, (size_t)n);
    if (rc != 0) {
        svk__relay_count(&r->fig.publish_errors, 1);
        return svk__relay_fail(r, rc, "publish: %s: %s", svk_errname(rc),
                               svk_broker_last_error(r->broker));
    }
    int64_t since_claim = svk_clock_mono_ns() - r->batch.claimed_ns;
    for (int i = 0; i < n; i++)
        svk__relay_record_latency(r, age_ns[i] + since_claim);
    return 0;
}
