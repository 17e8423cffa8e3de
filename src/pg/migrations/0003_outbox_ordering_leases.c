/*
 * 0003_outbox_ordering_leases.c — migration 3: what the outbox relay
 * (src/relay/) needs beyond migration 1's svk_outbox. docs/outbox.md
 * explains the design; the comments here say only what the SQL would make
 * a reader ask.
 *
 *  - Per-key ordering. Topics listed in svk_outbox_ordered_topics are
 *    relayed in the order of seq, a number the database assigns at insert
 *    (the writer's UUIDv7 is made on the client, so two processes writing
 *    the same key one after the other may produce ids in the other order).
 *    seq is NULL for every other topic, so the partial index costs nothing
 *    to writers of unordered topics.
 *  - svk_outbox_partition(key, n): the partition of a key, the one place the
 *    hash is defined (relays, svkctl and operators all call it).
 *  - Leases: one row per partition, held by one relay at a time until
 *    expires_at; token grows by one on every takeover and fences the old
 *    holder out (its claims name the token they hold).
 *  - svk_outbox_relays: one row per running relay with ordered topics, kept
 *    alive by its lease rounds, so that relays can share the partitions
 *    fairly.
 *  - svk_outbox_wakeups: each relay's state, awake (claiming) or asleep
 *    (waiting for a NOTIFY), until when. Writers notify only while some
 *    relay sleeps and none is awake: every committing transaction that
 *    notified takes one lock for the whole database and holds it through
 *    its WAL flush, so notifying commits run one at a time; while a relay
 *    is awake it will claim the event anyway, and writers commit in
 *    parallel. UNLOGGED: a change of state costs no WAL and no flush, and
 *    after a crash the table is empty, which means "nobody sleeps" until
 *    the relays mark themselves again (they poll meanwhile).
 *  - The writer's statements as PL/pgSQL functions, svk_outbox_put and
 *    svk_outbox_put_batch: PL/pgSQL keeps each statement's plan for the
 *    session, so a put costs what a plain INSERT costs (planning the INSERT
 *    with its lookups on every call cost the writer 65 us per event), and
 *    unlike client-side prepared statements this survives transaction-mode
 *    connection poolers. svk_outbox_channel() is the notify channel, the
 *    one definition writers and relays share.
 *  - Autovacuum for svk_outbox: every row is deleted soon after it is
 *    inserted, so vacuum after a fixed count of dead rows instead of a
 *    fraction of a table whose size swings with the backlog.
 */
#include "pg/migrations/migrations.h"

#include <stddef.h>

static const char *const statements[] = {
    "CREATE TABLE IF NOT EXISTS svk_outbox_ordered_topics ("
    " topic text PRIMARY KEY CHECK (topic <> ''),"
    " created_at timestamptz NOT NULL DEFAULT now())",
    "COMMENT ON TABLE svk_outbox_ordered_topics IS"
    " 'libsvckit: outbox topics relayed in order per key (per key partition, under a lease)'",
    "CREATE SEQUENCE IF NOT EXISTS svk_outbox_seq AS bigint",
    "ALTER TABLE svk_outbox ADD COLUMN IF NOT EXISTS seq bigint",
    "COMMENT ON COLUMN svk_outbox.seq IS"
    " 'libsvckit: relay order of an ordered topic (assigned at insert); NULL: unordered'",
    /* The ordered claim: WHERE seq IS NOT NULL AND partition held
     * ORDER BY seq LIMIT n FOR UPDATE. */
    "CREATE INDEX IF NOT EXISTS svk_outbox_ordered_idx ON svk_outbox (seq)"
    " WHERE seq IS NOT NULL",
    /* Inlined by the planner (a single-expression SQL function). hashtext
     * of a deterministic collation hashes the bytes. */
    "CREATE OR REPLACE FUNCTION svk_outbox_partition(key text, partitions integer)"
    " RETURNS integer LANGUAGE sql IMMUTABLE PARALLEL SAFE"
    " AS 'SELECT (hashtext(coalesce(key, '''')) & 2147483647) % partitions'",
    "CREATE TABLE IF NOT EXISTS svk_outbox_leases ("
    " partition integer PRIMARY KEY CHECK (partition >= 0),"
    " holder text,"
    " token bigint NOT NULL DEFAULT 0,"
    " expires_at timestamptz NOT NULL DEFAULT '-infinity',"
    " acquired_at timestamptz)",
    "COMMENT ON TABLE svk_outbox_leases IS"
    " 'libsvckit: which relay relays each key partition of the ordered topics, until when;"
    " token fences out a previous holder'",
    "CREATE TABLE IF NOT EXISTS svk_outbox_relays ("
    " holder text PRIMARY KEY,"
    " started_at timestamptz NOT NULL DEFAULT now(),"
    " expires_at timestamptz NOT NULL)",
    "COMMENT ON TABLE svk_outbox_relays IS"
    " 'libsvckit: relays sharing the ordered partitions; a row expires unless renewed'",
    "CREATE UNLOGGED TABLE IF NOT EXISTS svk_outbox_wakeups ("
    " holder text PRIMARY KEY,"
    " awake boolean NOT NULL,"
    " until timestamptz NOT NULL)",
    "COMMENT ON TABLE svk_outbox_wakeups IS"
    " 'libsvckit: relays awake or asleep, until when; writers notify only when all sleep'",
    /* 'svk_outbox.<schema>', at most 63 bytes (PostgreSQL's channel limit). */
    "CREATE OR REPLACE FUNCTION svk_outbox_channel() RETURNS text LANGUAGE sql STABLE"
    " AS $$SELECT 'svk_outbox.' || CASE WHEN octet_length(current_schema()) <= 52"
    " THEN current_schema() ELSE md5(current_schema()) END$$",
    /* The NOTIFY of a put: only while some relay sleeps and none is awake. */
    "CREATE OR REPLACE FUNCTION svk_outbox_wake() RETURNS void LANGUAGE plpgsql AS $$\n"
    "BEGIN\n"
    "  IF (SELECT bool_or(NOT awake) AND NOT bool_or(awake) FROM svk_outbox_wakeups\n"
    "      WHERE until > clock_timestamp()) THEN\n"
    "    PERFORM pg_notify(svk_outbox_channel(), '');\n"
    "  END IF;\n"
    "END$$",
    /* One event; headers as a flat name, value, ... array (NULL: none). */
    "CREATE OR REPLACE FUNCTION svk_outbox_put(p_id uuid, p_topic text, p_key text,"
    " p_payload bytea, p_headers text[]) RETURNS void LANGUAGE plpgsql AS $$\n"
    "BEGIN\n"
    "  INSERT INTO svk_outbox (id, topic, key, payload, seq, created_at, headers)\n"
    "  VALUES (p_id, p_topic, p_key, p_payload,\n"
    "          CASE WHEN EXISTS (SELECT 1 FROM svk_outbox_ordered_topics t"
    " WHERE t.topic = p_topic)\n"
    "               THEN nextval('svk_outbox_seq') END,\n"
    "          clock_timestamp(), coalesce(jsonb_object(p_headers), '{}'));\n"
    "  PERFORM svk_outbox_wake();\n"
    "END$$",
    /* Many events, in array order (nextval runs after the sort); headers as
     * (event ordinal, name, value) triples. */
    "CREATE OR REPLACE FUNCTION svk_outbox_put_batch(p_ids uuid[], p_topics text[],"
    " p_keys text[], p_payloads bytea[], p_hords integer[], p_hnames text[],"
    " p_hvalues text[]) RETURNS void LANGUAGE plpgsql AS $$\n"
    "BEGIN\n"
    "  INSERT INTO svk_outbox (id, topic, key, payload, seq, created_at, headers)\n"
    "  SELECT m.id, m.topic, m.key, m.payload,\n"
    "         CASE WHEN m.topic IN (SELECT topic FROM svk_outbox_ordered_topics)\n"
    "              THEN nextval('svk_outbox_seq') END,\n"
    "         clock_timestamp(), coalesce(h.headers, '{}')\n"
    "  FROM unnest(p_ids, p_topics, p_keys, p_payloads)"
    " WITH ORDINALITY AS m(id, topic, key, payload, ord)\n"
    "  LEFT JOIN (SELECT ord, jsonb_object_agg(name, value) AS headers\n"
    "             FROM unnest(p_hords, p_hnames, p_hvalues) AS h(ord, name, value)"
    " GROUP BY ord) h\n"
    "         ON h.ord = m.ord\n"
    "  ORDER BY m.ord;\n"
    "  PERFORM svk_outbox_wake();\n"
    "END$$",
    "ALTER TABLE svk_outbox SET ("
    " autovacuum_vacuum_scale_factor = 0, autovacuum_vacuum_threshold = 5000,"
    " autovacuum_vacuum_insert_scale_factor = 0, autovacuum_vacuum_insert_threshold = 5000,"
    " autovacuum_vacuum_cost_delay = 0)",
    NULL,
};

const svk__pg_migration svk__pg_migration_0003 = {
    3,
    "outbox: per-key order, partition leases, relay membership, sleepers, writer functions",
    statements,
};
