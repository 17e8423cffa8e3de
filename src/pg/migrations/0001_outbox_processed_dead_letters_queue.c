/*
 * 0001_outbox_processed_dead_letters_queue.c — migration 1: the tables of
 * DESIGN.md (outbox, processed messages, dead letters, the PostgreSQL
 * queue and its subscriptions). docs/pg.md explains each choice; the
 * comments here say only what a reader of the SQL would ask.
 */
#include "pg/migrations/migrations.h"

#include <stddef.h>

static const char *const statements[] = {
    /* Rows live from the writer's commit until the relay has published
     * them, then are deleted: no published_at, and the table stays as
     * small as the backlog. id is a UUIDv7, so the primary key is also the
     * claim order (oldest first) and the broker's message id. */
    "CREATE TABLE IF NOT EXISTS svk_outbox ("
    " id uuid PRIMARY KEY,"
    " topic text NOT NULL CHECK (topic <> ''),"
    " key text,"
    " headers jsonb NOT NULL DEFAULT '{}'::jsonb,"
    " payload bytea NOT NULL,"
    " created_at timestamptz NOT NULL DEFAULT now())",
    "COMMENT ON TABLE svk_outbox IS"
    " 'libsvckit: events written in the caller''s transaction, deleted once published'",

    /* The consumer's dedupe table: a conflict on the key is a duplicate. */
    "CREATE TABLE IF NOT EXISTS svk_processed ("
    " group_name text NOT NULL,"
    " message_id uuid NOT NULL,"
    " processed_at timestamptz NOT NULL DEFAULT now(),"
    " PRIMARY KEY (group_name, message_id))",
    /* Retention deletes the oldest rows in small batches, in this order. */
    "CREATE INDEX IF NOT EXISTS svk_processed_processed_at_idx"
    " ON svk_processed (processed_at)",
    "COMMENT ON TABLE svk_processed IS"
    " 'libsvckit: (consumer group, message id) pairs already handled; pruned by age'",

    /* One row per message given up on by one group. The same message may
     * die again after a replay, hence a surrogate key; the bigint keeps
     * svkctl dlq show/replay easy to type. */
    "CREATE TABLE IF NOT EXISTS svk_dead_letters ("
    " id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,"
    " message_id uuid NOT NULL,"
    " group_name text NOT NULL,"
    " topic text NOT NULL,"
    " key text,"
    " headers jsonb NOT NULL DEFAULT '{}'::jsonb,"
    " payload bytea NOT NULL,"
    " reason text NOT NULL,"
    " attempts integer NOT NULL CHECK (attempts >= 0),"
    " first_failed_at timestamptz,"
    " dead_at timestamptz NOT NULL DEFAULT now(),"
    " replayed_at timestamptz)",
    "CREATE INDEX IF NOT EXISTS svk_dead_letters_group_dead_at_idx"
    " ON svk_dead_letters (group_name, dead_at)",
    "CREATE INDEX IF NOT EXISTS svk_dead_letters_message_id_idx"
    " ON svk_dead_letters (message_id)",
    "COMMENT ON TABLE svk_dead_letters IS"
    " 'libsvckit: messages a consumer group gave up on, with the reason; replayable'",

    /* Which consumer groups receive which topics (pgqueue fan-out). */
    "CREATE TABLE IF NOT EXISTS svk_queue_subscriptions ("
    " group_name text NOT NULL,"
    " topic_pattern text NOT NULL,"
    " created_at timestamptz NOT NULL DEFAULT now(),"
    " PRIMARY KEY (group_name, topic_pattern))",
    "COMMENT ON TABLE svk_queue_subscriptions IS"
    " 'libsvckit: consumer groups and the topics (patterns) each receives'",

    /* One row per (group, message): publishing fans out to every matching
     * group, and re-publishing the same id is absorbed by the key.
     * available_at is the only visibility column: a fetch moves it forward
     * by the visibility timeout (so a crashed consumer's rows come back),
     * a nack by the redelivery delay, an ack deletes the row. attempt
     * counts deliveries and fences late acks. */
    "CREATE TABLE IF NOT EXISTS svk_queue ("
    " group_name text NOT NULL,"
    " message_id uuid NOT NULL,"
    " topic text NOT NULL,"
    " key text,"
    " headers jsonb NOT NULL DEFAULT '{}'::jsonb,"
    " payload bytea NOT NULL,"
    " attempt integer NOT NULL DEFAULT 0,"
    " enqueued_at timestamptz NOT NULL DEFAULT now(),"
    " available_at timestamptz NOT NULL DEFAULT now(),"
    " PRIMARY KEY (group_name, message_id))",
    /* The fetch: WHERE group_name = $1 AND available_at <= now()
     * ORDER BY available_at, message_id LIMIT n FOR UPDATE SKIP LOCKED. */
    "CREATE INDEX IF NOT EXISTS svk_queue_fetch_idx"
    " ON svk_queue (group_name, available_at, message_id)",
    "COMMENT ON TABLE svk_queue IS"
    " 'libsvckit: the PostgreSQL queue broker, one row per message per consumer group'",
    NULL,
};

const svk__pg_migration svk__pg_migration_0001 = {
    1,
    "outbox, processed messages, dead letters, queue and subscriptions",
    statements,
};
