/*
 * pg_array.h — internal: PostgreSQL one-dimensional arrays in the binary
 * wire format (array_send / array_recv), for the PostgreSQL queue.
 *
 * A whole publish batch goes to the server as a handful of array
 * parameters, so the statement text never changes with the batch size and
 * payloads travel as raw bytes, neither hex-encoded nor escaped. The
 * format: int32 ndim, int32 has-nulls, uint32 element type OID, then per
 * dimension int32 length and int32 lower bound, then per element an int32
 * byte length (-1 for NULL) and the bytes. All integers are big-endian.
 */
#ifndef SVK_BROKER_PG_ARRAY_H
#define SVK_BROKER_PG_ARRAY_H

#include <stddef.h>
#include <stdint.h>

#include "svckit/broker.h"
#include "svckit/core.h"

/* Element type OIDs (pg_type.dat; fixed since PostgreSQL 8.3). */
#define SVK__PG_OID_BYTEA 17u
#define SVK__PG_OID_INT4 23u
#define SVK__PG_OID_TEXT 25u
#define SVK__PG_OID_UUID 2950u

/* Bytes of an array with count elements totalling data bytes (no overflow check). */
size_t svk__pg_array_size(size_t count, size_t data);

/*
 * Append an array header for count elements of type oid to b. The caller
 * then appends exactly count elements with svk__pg_array_add (NULL p and
 * len SIZE_MAX for SQL NULL). Reserve svk__pg_array_size first and these
 * never fail; otherwise they return svk_buf_append's errors.
 */
int svk__pg_array_begin(svk_buf *b, uint32_t oid, size_t count);
int svk__pg_array_add(svk_buf *b, const void *p, size_t len);
int svk__pg_array_add_int4(svk_buf *b, int32_t v);

#define SVK__PG_ARRAY_NULL SIZE_MAX

/*
 * Headers as one text[] of name, value, name, value, ...: h's n pairs, then
 * extra when it is not NULL. svk__pg_pairs_size is its byte size;
 * svk__pg_pairs_write writes it into dst, which holds at least that many
 * bytes. The caller keeps every string under 2 GiB (the broker rules do).
 */
size_t svk__pg_pairs_size(const svk_header *h, size_t n, const svk_header *extra);
void svk__pg_pairs_write(unsigned char *dst, const svk_header *h, size_t n,
                         const svk_header *extra);

/* A cursor over a received array's elements. */
typedef struct svk__pg_array_reader {
    const unsigned char *p, *end;
    size_t left; /* elements not read yet */
} svk__pg_array_reader;

/*
 * Start reading data (len bytes) as a one-dimensional array of oid (an
 * empty array has zero dimensions). SVK_EPROTO if it is anything else.
 */
int svk__pg_array_open(svk__pg_array_reader *r, const void *data, size_t len, uint32_t oid);

/*
 * The next element: 0 with *p and *len set (*p NULL for SQL NULL), or
 * SVK_EPROTO when the array is truncated or already exhausted.
 */
int svk__pg_array_next(svk__pg_array_reader *r, const unsigned char **p, size_t *len);

/* Big-endian integers, as the binary result format gives them. */
int64_t svk__pg_get_int8(const void *p);
int32_t svk__pg_get_int4(const void *p);

#endif
