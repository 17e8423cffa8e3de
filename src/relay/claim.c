/*
 * claim.c — the unordered claim: one READ COMMITTED transaction per batch.
 *
 *   BEGIN
 *   DELETE the oldest unlocked rows, returning them   (claim_timeout)
 *   publish them                                     (publish_timeout)
 *   COMMIT                                           (claim_timeout)
 *
 * The claim selects ids with FOR UPDATE SKIP LOCKED inside ARRAY(...), so
 * the selection runs once and concurrent relays skip each other's rows,
 * and deletes them in the same statement: the rows are gone for everyone
 * else at once, yet come back if the transaction never commits (a crash,
 * a lost connection, a failed publish), which is the at-least-once
 * guarantee. One statement rather than SELECT then DELETE: one round trip
 * and one write per row instead of a lock and then a delete.
 *
 * The same statement sets two things for its transaction only:
 *  - idle_in_transaction_session_timeout just above the publish deadline,
 *    so even a relay that hangs (stopped, swapping) cannot keep the rows
 *    locked for long: the server ends the session, the rows return, and
 *    the relay finds its connection gone;
 *  - synchronous_commit off: the commit that removes a published batch
 *    does not wait for its WAL flush. If PostgreSQL crashes before the
 *    flush, the removal is lost and the batch is published again — a
 *    duplicate, which at-least-once allows, never a loss (the broker's own
 *    commit is durable before the publish returns). It saves one fsync per
 *    batch: the relay's cycle then waits on one flush, the broker's.
 *
 * The floor. Deleted rows stay in the primary key until vacuum removes
 * them, and ORDER BY id LIMIT n walks the index from its left end: over a
 * long burn-down, or between two autovacuum runs under steady load, every
 * claim would walk all the rows deleted so far. So a claim starts at a
 * floor, the newest id claimed less 5 s of UUIDv7 time, and once a second
 * from the start. An event below the floor — committed more than 5 s after
 * its put, or given back by another relay's failed batch — waits for that
 * claim from the start: a second at most.
 */
#include "broker/pg_array.h"
#include "pg/conn.h"
#include "relay/relay_impl.h"

#include <stdio.h>
#include <string.h>

#define GRACE_MS 1000

static const char claim_sql[] = /* claim_stmt */
    "WITH cfg AS MATERIALIZED ("
    " SELECT set_config('idle_in_transaction_session_timeout', $2, true),"
    " set_config('synchronous_commit', 'off', true)),"
    " d AS (DELETE FROM svk_outbox WHERE id = ANY(ARRAY("
    " SELECT id FROM svk_outbox WHERE seq IS NULL AND id >= $3::uuid ORDER BY id LIMIT $1"
    " FOR UPDATE SKIP LOCKED))"
    " RETURNING id, topic, key, headers, payload, created_at)"
    " SELECT " SVK__RELAY_CLAIM_COLUMNS("d") " FROM d, cfg ORDER BY d.id";

/* Prepared once per connection: the server plans the CTEs once. */
static const svk__pg_stmt claim_stmt = {
    SVK__PG_STMT_RELAY_CLAIM, "svk_relay_claim_v1", "relay claim", claim_sql, 3,
};

void svk__relay_idle_timeout(const svk_relay *r, char out[24])
{
    snprintf(out, 24, "%lld", (long long)(r->cfg.publish_timeout_ns / 1000000 + GRACE_MS));
}

int svk__relay_commit(svk_relay *r, svk_tx *tx, int n)
{
    int rc = svk_tx_commit(tx, svk__relay_claim_ctx(r));
    if (rc != 0) {
        /* Published, but still in the outbox (or unknown): out again later. */
        svk__relay_count(&r->fig.duplicates, (uint64_t)n);
        svk__relay_fail(r, rc, "commit: %s: %s", svk_errname(rc),
                        svk_pg_conn_last_error(r->conn));
        svk__relay_conn_failed(r, rc);
        return rc;
    }
    if (n > 0) {
        svk__relay_count(&r->fig.batches, 1);
        svk__relay_count(&r->fig.published, (uint64_t)n);
    }
    return 0;
}

#define FLOOR_MARGIN_MS 5000
#define FULL_CLAIM_EVERY_NS INT64_C(1000000000)

/* The claim's floor: all zero (the start) once a second, else r->floor. */
static const svk_uuid *claim_floor(svk_relay *r)
{
    static const svk_uuid start;
    int64_t now = svk_clock_mono_ns();
    if (now < r->next_full_claim_ns)
        return &r->floor;
    r->next_full_claim_ns = now + FULL_CLAIM_EVERY_NS;
    return &start;
}

/* After a removal: the floor moves to the batch's newest id (the last) less the margin. */
static void raise_floor(svk_relay *r)
{
    if (r->batch.n == 0)
        return;
    int64_t ms = svk_uuid_v7_unix_ms(&r->batch.msgs[r->batch.n - 1].id) - FLOOR_MARGIN_MS;
    svk_uuid f = {{0}};
    for (int i = 0; i < 6; i++)
        f.bytes[i] = (uint8_t)((uint64_t)(ms > 0 ? ms : 0) >> (40 - 8 * i));
    if (svk_uuid_compare(&f, &r->floor) > 0)
        r->floor = f;
}

/* Run the claim statement of tx and decode its rows into r->batch. */
static int claim(svk_relay *r, int limit)
{
    char n[16], idle[24];
    snprintf(n, sizeof n, "%d", limit);
    svk__relay_idle_timeout(r, idle);
    const char *values[] = {n, idle, (const char *)claim_floor(r)->bytes};
    const int lengths[] = {0, 0, 16}, formats[] = {0, 0, SVK_PG_BINARY};
    PGresult *pg = NULL;
    svk__relay_count(&r->fig.claims, 1);
    int rc = svk__pg_exec_stmt(r->conn, svk__relay_claim_ctx(r), &claim_stmt, values, lengths,
                               formats, SVK_PG_BINARY, &pg);
    svk_pg_result *res = (svk_pg_result *)pg;
    if (rc != 0)
        return svk__relay_fail(r, rc, "claim: %s: %s", svk_errname(rc),
                               svk_pg_conn_last_error(r->conn)); /* the caller drops it if lost */
    rc = svk__relay_batch_decode(&r->batch, res, false);
    return rc == 0 ? 0 : svk__relay_fail(r, rc, "claim: unexpected result shape");
}

static const char dead_letter_sql[] =
    "INSERT INTO svk_dead_letters (message_id, group_name, topic, key, headers, payload,"
    " reason, attempts, first_failed_at)"
    " VALUES ($1::uuid, $2::text, $3::text, $4::text, coalesce(jsonb_object($5::text[]), '{}'),"
    " $6::bytea, $7::text, 1, now())";

/* "Never", as opposed to "not now": the broker cannot carry this batch. */
static bool refused_for_good(int rc)
{
    return rc == SVK_ETOOBIG || rc == SVK_EINVAL;
}

/* m's headers as a binary text[] (name, value, ...) in r->scratch. */
static int encode_headers(svk_relay *r, const svk_message *m)
{
    svk_buf *b = &r->scratch;
    b->len = 0;
    size_t size = svk__pg_pairs_size(m->headers, m->header_count, NULL);
    int rc = svk_buf_reserve(b, size);
    if (rc == 0) {
        svk__pg_pairs_write(b->data, m->headers, m->header_count, NULL);
        b->len = size;
    }
    return rc;
}

/* Move the batch's one event to svk_dead_letters inside tx, and commit. */
static int dead_letter(svk_relay *r, svk_tx *tx, int refusal)
{
    const svk_message *m = &r->batch.msgs[0];
    char reason[SVK__RELAY_ERROR_MAX + 64], detail[SVK__RELAY_ERROR_MAX];
    svk_relay_last_error(r, detail, sizeof detail);
    snprintf(reason, sizeof reason, "the broker refused it for good (%s): %s",
             svk_errname(refusal), detail);
    int rc = encode_headers(r, m);
    if (rc != 0) {
        svk_tx_rollback(tx);
        return svk__relay_fail(r, rc, "dead letter: out of memory");
    }
    const char *values[] = {(const char *)m->id.bytes, SVK_RELAY_DEAD_LETTER_GROUP, m->topic,
                            m->key, m->header_count ? (const char *)r->scratch.data : NULL,
                            m->payload != NULL ? m->payload : "", reason};
    const int lengths[] = {16, 0, 0, 0, (int)r->scratch.len, (int)m->payload_len, 0};
    const int formats[] = {SVK_PG_BINARY, 0, 0, 0, SVK_PG_BINARY, SVK_PG_BINARY, 0};
    rc = svk_tx_exec(tx, svk__relay_claim_ctx(r), dead_letter_sql, 7, values, lengths, formats,
                     NULL);
    if (rc == 0)
        rc = svk_tx_commit(tx, svk__relay_claim_ctx(r));
    else
        svk_tx_rollback(tx);
    if (rc != 0)
        return svk__relay_fail(r, rc, "dead letter: %s: %s", svk_errname(rc),
                               svk_pg_conn_last_error(r->conn));
    svk__relay_count(&r->fig.dead_lettered, 1);
    char id[SVK_UUID_STRLEN + 1];
    svk_uuid_format(&m->id, id);
    svk_log_error(r->log, "outbox relay: event moved to svk_dead_letters", SVK_STR("relay", r->id),
                  SVK_STR("id", id), SVK_STR("topic", m->topic), SVK_STR("reason", reason));
    return 0;
}

/*
 * The broker refused the batch for good. Several events: give them back
 * and claim half as many at once. One: it is the poison; set it aside.
 * *got is what counts as claimed for the loop.
 */
static int set_aside(svk_relay *r, svk_tx *tx, int refusal, int *got)
{
    int n = r->batch.n;
    if (n > 1) {
        svk_tx_rollback(tx);
        r->claim_limit = n / 2;
        r->again = true;
        return 0;
    }
    int rc = dead_letter(r, tx, refusal);
    if (rc != 0) {
        svk__relay_conn_failed(r, rc);
        return rc;
    }
    raise_floor(r);
    *got = 1;
    return 0;
}

int svk__relay_claim_unordered(svk_relay *r, int limit, int *got)
{
    *got = 0;
    if (r->claim_limit < limit)
        limit = r->claim_limit;
    svk_tx *tx = NULL;
    int rc = svk__tx_begin_ahead(r->conn, &tx); /* answered with the claim */
    if (rc != 0) {
        svk__relay_fail(r, rc, "begin: %s: %s", svk_errname(rc), svk_pg_conn_last_error(r->conn));
        svk__relay_conn_failed(r, rc);
        return rc;
    }
    rc = claim(r, limit);
    int n = rc == 0 ? r->batch.n : 0;
    if (rc != 0) {
        svk_tx_rollback(tx);
        svk__relay_conn_failed(r, rc);
    } else if (n > 0 && (rc = svk__relay_publish(r, svk__relay_publish_ctx(r), r->batch.msgs,
                                                 r->batch.age_ns, n)) != 0) {
        if (refused_for_good(rc)) {
            rc = set_aside(r, tx, rc, got);
        } else {
            svk_tx_rollback(tx); /* the broker's failure, not the connection's */
            svk__relay_conn_failed(r, 0);
        }
    } else if ((rc = svk__relay_commit(r, tx, n)) == 0) {
        raise_floor(r); /* only now: a batch rolled back must stay above it */
        *got = n;
        if (n > 0 && r->claim_limit < r->cfg.batch_size) /* back up after a split */
            r->claim_limit = r->claim_limit > r->cfg.batch_size / 2 ? r->cfg.batch_size
                                                                     : 2 * r->claim_limit;
    }
    svk__relay_batch_clear(&r->batch);
    return rc;
}
