/*
 * migrate_test.c — migrations: a fresh schema goes from 0 to the latest
 * version, running again changes nothing, tables made by hand are adopted,
 * and 4 threads (each its own pool, as separate services) and 4 processes
 * migrating one fresh schema at once all succeed at the same version with
 * each migration recorded once.
 */
#include <criterion/criterion.h>
#include <pthread.h>
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

#include "pg_env.h"

TestSuite(pg_migrate, .timeout = 120);

static char schema[64], dsn[1024];

static svk_pg_pool *fresh_pool(const char *tag)
{
    pgt_fresh_schema(tag, schema, dsn, sizeof dsn);
    return pgt_pool(dsn, 2);
}

static int version_of(svk_pg_pool *p)
{
    int v = -1;
    svk_error err;
    cr_assert_eq(svk_pg_schema_version(p, NULL, &v, &err), 0, "%s", err.message);
    return v;
}

static void expect_recorded_once(void)
{
    char sql[256], got[32];
    snprintf(sql, sizeof sql,
             "SELECT count(*) = count(DISTINCT version) AND count(*) = %d"
             " FROM %s.svk_schema_version",
             svk_pg_schema_latest(), schema);
    pgt_admin_value(sql, got, sizeof got);
    cr_expect_str_eq(got, "t", "each migration recorded exactly once");
}

static void expect_table(const char *table)
{
    char sql[256], got[32];
    snprintf(sql, sizeof sql, "SELECT to_regclass('%s.%s') IS NOT NULL", schema, table);
    pgt_admin_value(sql, got, sizeof got);
    cr_expect_str_eq(got, "t", "table %s exists", table);
}

Test(pg_migrate, fresh_schema_to_latest_then_idempotent)
{
    svk_pg_pool *p = fresh_pool("fresh");
    cr_expect_eq(version_of(p), 0, "no svk_schema_version yet");
    cr_expect_geq(svk_pg_schema_latest(), 1);
    int v = -1;
    svk_error err;
    cr_assert_eq(svk_pg_migrate(p, NULL, &v, &err), 0, "%s", err.message);
    cr_expect_eq(v, svk_pg_schema_latest());
    cr_expect_eq(version_of(p), v);
    const char *tables[] = {"svk_schema_version", "svk_outbox", "svk_processed",
                            "svk_dead_letters", "svk_queue", "svk_queue_subscriptions"};
    for (size_t i = 0; i < sizeof tables / sizeof tables[0]; i++)
        expect_table(tables[i]);
    int again = -1;
    cr_assert_eq(svk_pg_migrate(p, NULL, &again, &err), 0, "%s", err.message);
    cr_expect_eq(again, v, "a second run changes nothing");
    expect_recorded_once();
    svk_pg_pool_free(p);
}

Test(pg_migrate, tables_work_as_the_relay_and_queue_will_use_them)
{
    svk_pg_pool *p = fresh_pool("usage");
    cr_assert_eq(svk_pg_migrate(p, NULL, NULL, NULL), 0);
    svk_tx *tx = NULL;
    cr_assert_eq(svk_tx_begin(p, NULL, 0, &tx), 0);
    static const char *const statements[] = {
        "INSERT INTO svk_outbox (id, topic, key, headers, payload) VALUES"
        " ('01890a5d-ac96-774b-bcce-b302099a8057', 'orders.created', 'o-1',"
        " '{\"traceparent\": \"00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01\"}',"
        " '\\x0102')",
        "INSERT INTO svk_queue_subscriptions VALUES ('billing', 'orders.created', now())",
        "INSERT INTO svk_queue (group_name, message_id, topic, key, headers, payload)"
        " SELECT s.group_name, o.id, o.topic, o.key, o.headers, o.payload"
        " FROM svk_outbox o JOIN svk_queue_subscriptions s ON s.topic_pattern = o.topic"
        " ON CONFLICT (group_name, message_id) DO NOTHING",
        "WITH claimed AS (SELECT id FROM svk_outbox ORDER BY id LIMIT 100"
        " FOR UPDATE SKIP LOCKED) DELETE FROM svk_outbox o USING claimed WHERE o.id = claimed.id",
        "UPDATE svk_queue SET attempt = attempt + 1,"
        " available_at = now() + interval '30 seconds'"
        " WHERE (group_name, message_id) IN (SELECT group_name, message_id FROM svk_queue"
        " WHERE group_name = 'billing' AND available_at <= now()"
        " ORDER BY available_at, message_id LIMIT 10 FOR UPDATE SKIP LOCKED)",
        "INSERT INTO svk_processed (group_name, message_id)"
        " VALUES ('billing', '01890a5d-ac96-774b-bcce-b302099a8057')",
        "INSERT INTO svk_dead_letters (message_id, group_name, topic, payload, reason, attempts)"
        " VALUES ('01890a5d-ac96-774b-bcce-b302099a8057', 'billing', 'orders.created',"
        " '\\x01', 'handler: permanent', 5)",
        NULL,
    };
    for (int i = 0; statements[i] != NULL; i++)
        cr_assert_eq(svk_tx_exec(tx, NULL, statements[i], 0, NULL, NULL, NULL, NULL), 0,
                     "%s: %s", statements[i], svk_pg_conn_last_error(svk_tx_conn(tx)));
    cr_expect_eq(svk_tx_exec(tx, NULL,
                             "INSERT INTO svk_processed (group_name, message_id) VALUES"
                             " ('billing', '01890a5d-ac96-774b-bcce-b302099a8057')",
                             0, NULL, NULL, NULL, NULL),
                 SVK_ECONFLICT, "the consumer's duplicate check");
    svk_tx_rollback(tx);
    svk_pg_pool_free(p);
}

Test(pg_migrate, tables_created_by_hand_are_adopted)
{
    svk_pg_pool *p = fresh_pool("adopt");
    char sql[512];
    snprintf(sql, sizeof sql,
             "CREATE TABLE %s.svk_outbox (id uuid PRIMARY KEY, topic text NOT NULL,"
             " key text, headers jsonb NOT NULL DEFAULT '{}', payload bytea NOT NULL,"
             " created_at timestamptz NOT NULL DEFAULT now())",
             schema);
    pgt_admin_exec(sql);
    int v = -1;
    svk_error err;
    cr_expect_eq(svk_pg_migrate(p, NULL, &v, &err), 0, "%s", err.message);
    cr_expect_eq(v, svk_pg_schema_latest());
    svk_pg_pool_free(p);
}

Test(pg_migrate, newer_database_is_left_alone)
{
    svk_pg_pool *p = fresh_pool("newer");
    cr_assert_eq(svk_pg_migrate(p, NULL, NULL, NULL), 0);
    char sql[256];
    snprintf(sql, sizeof sql,
             "INSERT INTO %s.svk_schema_version (version, description) VALUES (999, 'future')",
             schema);
    pgt_admin_exec(sql);
    int v = -1;
    cr_expect_eq(svk_pg_migrate(p, NULL, &v, NULL), 0);
    cr_expect_eq(v, 999);
    svk_pg_pool_free(p);
}

Test(pg_migrate, failure_reports_why)
{
    svk_pg_options o = SVK_PG_OPTIONS_INIT;
    o.conninfo = "host=127.0.0.1 port=1 dbname=x connect_timeout=2";
    svk_pg_pool *p = NULL;
    cr_assert_eq(svk_pg_pool_new(&p, &o, NULL), 0);
    svk_error err;
    cr_expect_eq(svk_pg_migrate(p, NULL, NULL, &err), SVK_EUNAVAIL);
    cr_expect_neq(err.message[0], '\0');
    cr_expect_eq(svk_pg_schema_version(p, NULL, NULL, &err), SVK_EINVAL);
    cr_expect_eq(svk_pg_migrate(NULL, NULL, NULL, &err), SVK_EINVAL);
    svk_pg_pool_free(p);
}

/* ------------------------------------------------------------ concurrent */

#define RACERS 4

struct racer {
    pthread_barrier_t *start;
    int rc;
    int version;
    char message[SVK_ERROR_MESSAGE_SIZE];
};

static void *migrate_racing(void *arg)
{
    struct racer *r = arg;
    svk_pg_pool *p = pgt_pool(dsn, 1); /* one pool each: separate services */
    svk_error err = {0, ""};
    pthread_barrier_wait(r->start);
    r->rc = svk_pg_migrate(p, NULL, &r->version, &err);
    snprintf(r->message, sizeof r->message, "%s", err.message);
    svk_pg_pool_free(p);
    return NULL;
}

Test(pg_migrate, four_threads_at_once)
{
    pgt_fresh_schema("threads", schema, dsn, sizeof dsn);
    pthread_barrier_t start;
    pthread_barrier_init(&start, NULL, RACERS);
    struct racer r[RACERS];
    pthread_t t[RACERS];
    for (int i = 0; i < RACERS; i++) {
        r[i] = (struct racer){&start, -1, -1, ""};
        pthread_create(&t[i], NULL, migrate_racing, &r[i]);
    }
    for (int i = 0; i < RACERS; i++)
        pthread_join(t[i], NULL);
    pthread_barrier_destroy(&start);
    for (int i = 0; i < RACERS; i++) {
        cr_expect_eq(r[i].rc, 0, "racer %d: %s: %s", i, svk_errname(r[i].rc), r[i].message);
        cr_expect_eq(r[i].version, svk_pg_schema_latest(), "racer %d", i);
    }
    expect_recorded_once();
}

/* In a child process: migrate once and exit 0 (ok, right version) or 1. */
static void migrate_in_child(void)
{
    svk_pg_pool *p = pgt_pool(dsn, 1);
    int v = -1;
    svk_error err;
    int rc = svk_pg_migrate(p, NULL, &v, &err);
    if (rc != 0)
        fprintf(stderr, "child %d: %s: %s\n", (int)getpid(), svk_errname(rc), err.message);
    svk_pg_pool_free(p);
    _exit(rc == 0 && v == svk_pg_schema_latest() ? 0 : 1);
}

Test(pg_migrate, four_processes_at_once)
{
    pgt_fresh_schema("procs", schema, dsn, sizeof dsn);
    int gate[2];
    cr_assert_eq(pipe(gate), 0);
    pid_t kids[RACERS];
    for (int i = 0; i < RACERS; i++) {
        kids[i] = fork();
        cr_assert_geq(kids[i], 0);
        if (kids[i] == 0) {
            char go;
            close(gate[1]);
            (void)!read(gate[0], &go, 1); /* all start when the gate closes */
            migrate_in_child();
        }
    }
    close(gate[0]);
    close(gate[1]);
    for (int i = 0; i < RACERS; i++) {
        int status = 0;
        waitpid(kids[i], &status, 0);
        cr_expect(WIFEXITED(status) && WEXITSTATUS(status) == 0, "child %d failed", i);
    }
    expect_recorded_once();
}
