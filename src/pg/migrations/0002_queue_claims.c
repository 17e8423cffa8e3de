/*
 * 0002_queue_claims.c — migration 2: what the PostgreSQL queue broker
 * (src/broker/pgqueue*.c) needs of svk_queue beyond migration 1.
 *
 *  - id, a bigint identity: the delivery order within a group (a batch is
 *    inserted in its order, so same-key messages keep it whatever their
 *    message ids), and the small key that fetch, ack, nack and term use.
 *    Together with attempt it fences settles: a delivery settles only the
 *    row (id) it claimed, and only while no later fetch (attempt) took it.
 *  - locked_until, the visibility timeout of a fetched row, kept apart from
 *    available_at. A fetch then updates only unindexed columns (attempt,
 *    locked_until), so it can be a HOT update that adds no index entries, if
 *    the page has room for the new versions: a claim updates every row of a
 *    page at once, hence fillfactor 50 (70 left room for 45% of them).
 *  - The fetch index on (group_name, available_at, id) replaces migration
 *    1's (group_name, available_at, message_id): the fetch orders by id.
 *  - Autovacuum settings for a table whose rows all die young: vacuum after
 *    a fixed number of dead rows rather than a fraction of a table whose
 *    size swings with the backlog. docs/broker.md has the measurements.
 */
#include "pg/migrations/migrations.h"

#include <stddef.h>

static const char *const statements[] = {
    "ALTER TABLE svk_queue ADD COLUMN IF NOT EXISTS id bigint GENERATED ALWAYS AS IDENTITY",
    "ALTER TABLE svk_queue ADD COLUMN IF NOT EXISTS locked_until timestamptz",
    "CREATE UNIQUE INDEX IF NOT EXISTS svk_queue_id_idx ON svk_queue (id)",
    "DROP INDEX IF EXISTS svk_queue_fetch_idx",
    /* The fetch: WHERE group_name = $1 AND available_at <= now() AND
     * (locked_until IS NULL OR locked_until < now()) ORDER BY available_at, id
     * LIMIT n FOR UPDATE SKIP LOCKED. */
    "CREATE INDEX IF NOT EXISTS svk_queue_ready_idx"
    " ON svk_queue (group_name, available_at, id)",
    "ALTER TABLE svk_queue SET (fillfactor = 50,"
    " autovacuum_vacuum_scale_factor = 0, autovacuum_vacuum_threshold = 2000,"
    " autovacuum_vacuum_insert_scale_factor = 0, autovacuum_vacuum_insert_threshold = 2000,"
    " autovacuum_vacuum_cost_delay = 0)",
    "COMMENT ON COLUMN svk_queue.available_at IS"
    " 'libsvckit: not delivered before this (publish time, or a nack''s redelivery time)'",
    "COMMENT ON COLUMN svk_queue.locked_until IS"
    " 'libsvckit: a fetch claimed the row until then (visibility timeout); NULL: unclaimed'",
    "COMMENT ON COLUMN svk_queue.attempt IS"
    " 'libsvckit: fetches so far; a settle names the attempt it claimed (fencing)'",
    NULL,
};

const svk__pg_migration svk__pg_migration_0002 = {
    2,
    "queue: delivery order, claims apart from availability, autovacuum settings",
    statements,
};
