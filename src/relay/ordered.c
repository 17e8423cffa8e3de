/*
 * ordered.c — the ordered claim: events of ordered topics, in seq order,
 * from the partitions this relay holds, one transaction per batch.
 *
 *   BEGIN
 *   SELECT ... FOR UPDATE OF the events, FOR SHARE OF their lease rows
 *   publish the batch; if that fails, each partition's events on their own
 *   DELETE the events of the partitions that were published
 *   COMMIT
 *
 * Fencing. The claim joins each event to its partition's lease row and
 * keeps it only if the row still names this relay with the token it was
 * granted and has not expired; the lease rows of the partitions it claims
 * from are then locked FOR SHARE until the commit. A takeover (lease.c)
 * updates a lease row with SKIP LOCKED, so it cannot take a partition in the
 * middle of a batch, and once it has taken one (new token), this relay's
 * claims no longer see its events. No lock waits: the events of a held
 * partition are locked by nobody else (a former holder's batch would have
 * kept the lease row locked, and with it the partition).
 *
 * Unlike the unordered claim this one locks first and deletes after the
 * publish, so that a partition whose events fail to publish keeps them
 * while the others are removed: a failing key holds only its partition,
 * which then backs off alone (blocked_until) and is left out of claims
 * until then. All retries of one batch share one publish deadline, so the
 * transaction stays inside its idle timeout however many partitions fail.
 */
#include "broker/pg_array.h"
#include "pg/conn.h"
#include "relay/relay_impl.h"

#include <stdio.h>
#include <string.h>

static const char claim_sql[] =
    "WITH cfg AS MATERIALIZED ("
    " SELECT set_config('idle_in_transaction_session_timeout', $2, true),"
    " set_config('synchronous_commit', 'off', true)),"
    " c AS (SELECT o.id, o.seq, o.topic, o.key, o.payload, o.headers, o.created_at,"
    " l.partition FROM svk_outbox o"
    " JOIN svk_outbox_leases l ON l.partition = svk_outbox_partition(o.key, $3::int4)"
    " JOIN unnest($4::int4[], $5::int8[]) AS m(partition, token)"
    " ON m.partition = l.partition AND m.token = l.token"
    " WHERE o.seq IS NOT NULL AND l.holder = $6 AND l.expires_at > now()"
    " ORDER BY o.seq LIMIT $1 FOR UPDATE OF o FOR SHARE OF l)"
    " SELECT " SVK__RELAY_CLAIM_COLUMNS("c") ", c.partition FROM c, cfg ORDER BY c.seq";

/* Prepared once per connection: the server plans the join once. */
static const svk__pg_stmt claim_stmt = {
    SVK__PG_STMT_RELAY_CLAIM_ORDERED, "svk_relay_claim_ordered_v1", "relay ordered claim",
    claim_sql, 6,
};

static const char delete_sql[] = "DELETE FROM svk_outbox WHERE id = ANY($1::uuid[])";

/* The partitions claimed from: held and not backing off (r->scratch). */
typedef struct partitions {
    size_t off[2], size[2];
    int count;
} partitions;

static int claim(svk_relay *r, const partitions *ps, int limit)
{
    char n[16], parts[16], idle[24];
    snprintf(n, sizeof n, "%d", limit);
    snprintf(parts, sizeof parts, "%d", r->cfg.partitions);
    svk__relay_idle_timeout(r, idle);
    const char *values[] = {n, idle, parts, (const char *)r->scratch.data + ps->off[0],
                            (const char *)r->scratch.data + ps->off[1], r->id};
    const int lengths[] = {0, 0, 0, (int)ps->size[0], (int)ps->size[1], 0};
    const int formats[] = {0, 0, 0, SVK_PG_BINARY, SVK_PG_BINARY, 0};
    PGresult *pg = NULL;
    svk__relay_count(&r->fig.claims, 1);
    int rc = svk__pg_exec_stmt(r->conn, svk__relay_claim_ctx(r), &claim_stmt, values, lengths,
                               formats, SVK_PG_BINARY, &pg);
    svk_pg_result *res = (svk_pg_result *)pg;
    if (rc != 0)
        return svk__relay_fail(r, rc, "ordered claim: %s: %s", svk_errname(rc),
                               svk_pg_conn_last_error(r->conn));
    rc = svk__relay_batch_decode(&r->batch, res, true);
    return rc == 0 ? 0 : svk__relay_fail(r, rc, "ordered claim: unexpected result shape");
}

/* Publish partition p's events of the batch on their own; ok[i] set on success. */
static int publish_partition(svk_relay *r, const svk_ctx *ctx, int p, bool *ok)
{
    svk__relay_batch *b = &r->batch;
    int k = 0;
    for (int i = 0; i < b->n; i++)
        if (b->partition[i] == p) {
            b->group[k] = b->msgs[i];
            b->group_age[k++] = b->age_ns[i];
        }
    int rc = svk__relay_publish(r, ctx, b->group, b->group_age, k);
    for (int i = 0; i < b->n; i++)
        if (b->partition[i] == p)
            ok[i] = rc == 0;
    return rc;
}

/* A partition's publish failed: keep it out of claims for its own backoff. */
static void block_partition(svk_relay *r, int p)
{
    svk__relay_leases *l = &r->leases;
    l->failures[p]++;
    l->blocked_until[p] = svk_clock_mono_ns() + svk__backoff_delay(&r->backoff, l->failures[p]);
}

/* The batch failed whole: try each partition on its own, same deadline. */
static void publish_by_partition(svk_relay *r, const svk_ctx *ctx, bool *ok)
{
    svk__relay_batch *b = &r->batch;
    for (int i = 0; i < b->n; i++) {
        int p = b->partition[i];
        bool first = true; /* the first event of its partition in the batch */
        for (int j = 0; j < i && first; j++)
            first = b->partition[j] != p;
        if (first && publish_partition(r, ctx, p, ok) != 0)
            block_partition(r, p);
    }
}

/* Publish the batch; ok[i] says which events the broker accepted. */
static void publish(svk_relay *r, bool *ok, int *published)
{
    svk__relay_batch *b = &r->batch;
    const svk_ctx *ctx = svk__relay_publish_ctx(r);
    if (svk__relay_publish(r, ctx, b->msgs, b->age_ns, b->n) == 0)
        memset(ok, 1, (size_t)b->n * sizeof *ok);
    else
        publish_by_partition(r, ctx, ok);
    *published = 0;
    for (int i = 0; i < b->n; i++) {
        *published += ok[i];
        if (ok[i])
            r->leases.failures[b->partition[i]] = 0;
    }
}

static int delete_published(svk_relay *r, svk_tx *tx, const bool *ok, int published)
{
    svk_buf_reset(&r->scratch);
    int rc = svk__pg_array_begin(&r->scratch, SVK__PG_OID_UUID, (size_t)published);
    for (int i = 0; i < r->batch.n && rc == 0; i++)
        if (ok[i])
            rc = svk__pg_array_add(&r->scratch, r->batch.msgs[i].id.bytes, 16);
    if (rc != 0)
        return svk__relay_fail(r, rc, "ordered removal: out of memory");
    const char *values[] = {(const char *)r->scratch.data};
    const int lengths[] = {(int)r->scratch.len};
    const int formats[] = {SVK_PG_BINARY};
    rc = svk_tx_exec(tx, svk__relay_claim_ctx(r), delete_sql, 1, values, lengths, formats, NULL);
    return rc == 0 ? 0 : svk__relay_fail(r, rc, "ordered removal: %s: %s", svk_errname(rc),
                                         svk_pg_conn_last_error(r->conn));
}

/* Claimed: publish, remove what was published, commit. */
static int finish(svk_relay *r, svk_tx *tx, int *got)
{
    bool *ok = r->batch.ok;
    int published = 0;
    publish(r, ok, &published);
    if (published == 0) {
        svk_tx_rollback(tx);
        svk__relay_conn_failed(r, 0);
        return 0; /* each failed partition backs off; the relay goes on */
    }
    int rc = delete_published(r, tx, ok, published);
    if (rc != 0) {
        svk__relay_count(&r->fig.duplicates, (uint64_t)published);
        svk_tx_rollback(tx);
        svk__relay_conn_failed(r, rc);
        return rc;
    }
    rc = svk__relay_commit(r, tx, published);
    if (rc == 0)
        *got = r->batch.n;
    return rc;
}

int svk__relay_claim_ordered(svk_relay *r, int limit, int *got)
{
    *got = 0;
    partitions ps;
    int rc = svk__relay_lease_params(r, ps.off, ps.size, &ps.count);
    if (rc != 0)
        return svk__relay_fail(r, rc, "ordered claim: out of memory");
    if (ps.count == 0)
        return 0; /* every partition held is backing off */
    svk_tx *tx = NULL;
    rc = svk__tx_begin_ahead(r->conn, &tx); /* answered with the claim */
    if (rc != 0) {
        svk__relay_fail(r, rc, "begin: %s: %s", svk_errname(rc), svk_pg_conn_last_error(r->conn));
        svk__relay_conn_failed(r, rc);
        return rc;
    }
    rc = claim(r, &ps, limit);
    if (rc == 0 && r->batch.n == 0)
        rc = svk_tx_commit(tx, svk__relay_claim_ctx(r));
    else if (rc == 0)
        rc = finish(r, tx, got); /* publish failures stay inside it */
    else
        svk_tx_rollback(tx);
    if (rc != 0)
        svk__relay_conn_failed(r, rc);
    svk__relay_batch_clear(&r->batch);
    return rc;
}
