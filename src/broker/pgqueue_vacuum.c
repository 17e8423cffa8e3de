/*
 * pgqueue_vacuum.c — the PostgreSQL queue vacuums its own table.
 *
 * Every message leaves dead tuples behind: the fetch's new row version (a
 * HOT update, pruned within its page but whose space the free space map
 * only learns from VACUUM) and the ack's deleted row, with its entries in
 * three indexes. Autovacuum wakes once per autovacuum_naptime — one minute
 * by default, a server-wide setting a library cannot change per table — so
 * at a few thousand messages a second the table grows by hundreds of
 * megabytes between runs and every fetch walks the dead head of the fetch
 * index (docs/broker.md has the figures). Vacuuming every vacuum_every
 * settles instead keeps the table at the size of its backlog, which makes
 * each VACUUM take milliseconds. It is what PgQ's pgqd does for its queues.
 *
 * One fetch per broker does it: the thread whose compare-exchange resets
 * the counter. SKIP_LOCKED makes a VACUUM another process (or autovacuum) is
 * already running a no-op rather than a wait. Failures are not the
 * fetch's: the counter starts over and the next round tries again.
 */
#include "broker/pgqueue_impl.h"

void svk__pgq_maybe_vacuum(svk__pgq_subscription *s, const svk_ctx *ctx)
{
    svk__pgqueue *q = s->q;
    long long seen = atomic_load_explicit(&q->settles, memory_order_relaxed);
    if (q->vacuum_every == 0 || seen < q->vacuum_every ||
        !atomic_compare_exchange_strong(&q->settles, &seen, 0))
        return; /* not due, or another fetch took this round */
    int rc = svk_pg_exec(s->conn, ctx, "VACUUM (SKIP_LOCKED) svk_queue", 0, NULL, NULL, NULL,
                         NULL);
    if (rc == SVK_EUNAVAIL) {
        svk_pg_release(s->conn);
        s->conn = NULL;
    }
}
