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
#include "pg/conn.h"
#include "relay/relay_impl.h"

#include <stdio.h>

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

int svk__relay_claim_unordered(svk_relay *r, int limit, int *got)
{
    *got = 0;
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
        svk_tx_rollback(tx); /* the broker's failure, not the connection's */
        svk__relay_conn_failed(r, 0);
    } else if ((rc = svk__relay_commit(r, tx, n)) == 0) {
        raise_floor(r); /* only now: a batch rolled back must stay above it */
        *got = n;
    }
    svk__relay_batch_clear(&r->batch);
    return rc;
}
