/*
 * pgqueue_test.c — what the PostgreSQL queue promises beyond the broker
 * contract (svckit/pgqueue.h): its options, one NOTIFY per publishing
 * statement, the poll fallback, a subscription surviving the loss of its
 * connection and of the database, multi-topic subscriptions, the shape of
 * migration 2, and fetches that are HOT updates.
 *
 * White-box where it must be: the backend of a subscription's connection is
 * found through src/broker/pgqueue_impl.h to terminate it.
 */
#include <criterion/criterion.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "broker/pgqueue_impl.h"
#include "pg_env.h"
#include "svckit/pgqueue.h"

#define MS PGT_MS
#define SEC PGT_SEC

typedef struct env {
    char schema[64];
    char dsn[1024];
    svk_pg_pool *pool;
    svk_broker *broker;
} env;

static void open_broker(env *e, int64_t poll_interval_ns, int64_t vacuum_every)
{
    svk_pgqueue_options o = SVK_PGQUEUE_OPTIONS_INIT;
    o.pool = e->pool;
    o.poll_interval_ns = poll_interval_ns;
    o.vacuum_every = vacuum_every;
    o.notify_channel = e->schema;
    svk_error err;
    cr_assert_eq(svk_pgqueue_new(&e->broker, &o, &err), 0, "%s", err.message);
}

static void setup(env *e, const char *tag, int64_t poll_interval_ns)
{
    pgt_fresh_schema(tag, e->schema, e->dsn, sizeof e->dsn);
    e->pool = pgt_pool(e->dsn, 6);
    svk_error err;
    cr_assert_eq(svk_pg_migrate(e->pool, NULL, NULL, &err), 0, "%s", err.message);
    open_broker(e, poll_interval_ns, 0);
}

static void teardown(env *e)
{
    svk_broker_free(e->broker);
    svk_pg_pool_free(e->pool);
}

static svk_subscription *subscribe(env *e, const char *group, const char *const *topics,
                                   size_t n)
{
    svk_subscription *s = NULL;
    int rc = svk_broker_subscribe(e->broker, NULL, group, topics, n, NULL, &s);
    cr_assert_eq(rc, 0, "subscribe: %s: %s", svk_errname(rc), svk_broker_last_error(NULL));
    return s;
}

/* The usual start: a fresh schema, and group billing on orders.created. */
static svk_subscription *setup_billing(env *e, const char *tag, int64_t poll_interval_ns)
{
    static const char *const topics[] = {"orders.created"};
    setup(e, tag, poll_interval_ns);
    return subscribe(e, "billing", topics, 1);
}

static void publish_n(env *e, const char *topic, size_t n)
{
    svk_message *m = calloc(n, sizeof *m);
    cr_assert_not_null(m);
    for (size_t i = 0; i < n; i++) {
        m[i] = (svk_message)SVK_MESSAGE_INIT;
        svk_uuid_v7(&m[i].id);
        m[i].topic = topic;
        m[i].payload = "p";
        m[i].payload_len = 1;
    }
    int rc = svk_broker_publish(e->broker, NULL, m, n);
    cr_assert_eq(rc, 0, "publish: %s: %s", svk_errname(rc), svk_broker_last_error(NULL));
    free(m);
}

static long queue_rows(env *e)
{
    char sql[160], v[32];
    snprintf(sql, sizeof sql, "SELECT count(*) FROM %s.svk_queue", e->schema);
    pgt_admin_value(sql, v, sizeof v);
    return atol(v);
}

/* ---------------------------------------------------------------- options */

Test(pgqueue, options_are_checked)
{
    svk_pg_pool *pool = pgt_pool("host=/nonexistent dbname=x", 1); /* never connects */
    svk_broker *b = (svk_broker *)&b;
    svk_error err;
    cr_expect_eq(svk_pgqueue_new(NULL, NULL, &err), SVK_EINVAL);
    cr_expect_eq(svk_pgqueue_new(&b, NULL, &err), SVK_EINVAL);
    cr_expect_null(b);
    svk_pgqueue_options o = SVK_PGQUEUE_OPTIONS_INIT;
    cr_expect_eq(svk_pgqueue_new(&b, &o, &err), SVK_EINVAL, "no pool");
    cr_expect_eq(err.code, SVK_EINVAL);
    cr_expect(strstr(err.message, "pool") != NULL, "%s", err.message);
    o.pool = pool;
    o.size = sizeof o + 8;
    cr_expect_eq(svk_pgqueue_new(&b, &o, &err), SVK_EINVAL, "a size from the future");
    o.size = sizeof o;
    o.poll_interval_ns = -1;
    cr_expect_eq(svk_pgqueue_new(&b, &o, &err), SVK_EINVAL);
    o.poll_interval_ns = 0;
    o.notify_channel = "";
    cr_expect_eq(svk_pgqueue_new(&b, &o, &err), SVK_EINVAL);
    o.notify_channel = "c123456789012345678901234567890123456789012345678901234567890123";
    cr_expect_eq(svk_pgqueue_new(&b, &o, &err), SVK_EINVAL, "64 bytes");
    o.notify_channel = NULL;
    o.vacuum_every = -2;
    cr_expect_eq(svk_pgqueue_new(&b, &o, &err), SVK_EINVAL);
    o.vacuum_every = SVK_PGQUEUE_NO_VACUUM;
    cr_assert_eq(svk_pgqueue_new(&b, &o, &err), 0, "%s", err.message);
    cr_expect_str_eq(svk_broker_name(b), "pgqueue");
    svk_broker_free(b);
    svk_broker_free(NULL);
    svk_pg_pool_free(pool);
}

/* ----------------------------------------------------------------- notify */

/* Notifications arriving on c within ms milliseconds. */
static int count_notifications(PGconn *c, int ms)
{
    int n = 0;
    int64_t until = pgt_now_ms() + ms;
    for (int64_t left; (left = until - pgt_now_ms()) > 0;) {
        struct pollfd p = {.fd = PQsocket(c), .events = POLLIN};
        poll(&p, 1, (int)left);
        PQconsumeInput(c);
        PGnotify *note;
        while ((note = PQnotifies(c)) != NULL) {
            PQfreemem(note);
            n++;
        }
    }
    return n;
}

Test(pgqueue, one_notify_per_publish_and_none_for_no_subscriber)
{
    env e;
    svk_subscription *s = setup_billing(&e, "notify", 0);
    PGconn *listener = pgt_admin();
    char sql[128];
    snprintf(sql, sizeof sql, "LISTEN %s", e.schema);
    PQclear(PQexec(listener, sql));
    publish_n(&e, "orders.created", 100);
    cr_expect_eq(count_notifications(listener, 400), 1, "one NOTIFY for a 100-message batch");
    cr_expect_eq(queue_rows(&e), 100);
    publish_n(&e, "orders.nobody", 50);
    cr_expect_eq(count_notifications(listener, 400), 0, "nothing queued, nothing announced");
    cr_expect_eq(queue_rows(&e), 100, "no group subscribes to orders.nobody");
    PQfinish(listener);
    svk_subscription_free(s);
    teardown(&e);
}

typedef struct late_insert {
    env *e;
    int64_t delay_ms;
    int64_t inserted_at_ms;
} late_insert;

static void *insert_without_notify(void *arg)
{
    late_insert *l = arg;
    usleep((useconds_t)(l->delay_ms * 1000));
    char sql[256];
    snprintf(sql, sizeof sql,
             "INSERT INTO %s.svk_queue (group_name, message_id, topic, payload)"
             " VALUES ('billing', gen_random_uuid(), 'orders.created', '\\x00')",
             l->e->schema);
    pgt_admin_exec(sql);
    l->inserted_at_ms = pgt_now_ms();
    return NULL;
}

Test(pgqueue, poll_finds_rows_no_notify_announced)
{
    env e;
    svk_subscription *s = setup_billing(&e, "poll", 200 * MS);
    late_insert l = {&e, 300, 0};
    pthread_t t;
    cr_assert_eq(pthread_create(&t, NULL, insert_without_notify, &l), 0);
    svk_delivery *d = NULL;
    size_t n = 0;
    cr_assert_eq(svk_subscription_fetch(s, NULL, 1, 5 * SEC, &d, &n), 0);
    int64_t got_at = pgt_now_ms();
    pthread_join(t, NULL);
    cr_assert_eq(n, 1);
    int64_t lag = got_at - l.inserted_at_ms;
    fprintf(stderr, "pgqueue: poll fallback found an unannounced row after %lld ms "
                    "(interval 200 ms)\n", (long long)lag);
    cr_expect_lt(lag, 200 + 150, "found %lld ms after the insert", (long long)lag);
    cr_expect_eq(svk_delivery_ack(d, NULL), 0);
    svk_delivery_free(d);
    svk_subscription_free(s);
    teardown(&e);
}

/* ------------------------------------------------------------ failures */

static int subscription_backend(svk_subscription *s)
{
    svk__pgq_subscription *ps = (svk__pgq_subscription *)s;
    cr_assert_not_null(ps->conn);
    return pgt_pid(ps->conn);
}

Test(pgqueue, lost_connection_is_replaced_and_claims_still_settle)
{
    env e;
    svk_subscription *s = setup_billing(&e, "lost", 0);
    publish_n(&e, "orders.created", 2);
    svk_delivery *d = NULL;
    size_t n = 0;
    cr_assert_eq(svk_subscription_fetch(s, NULL, 1, 5 * SEC, &d, &n), 0);
    cr_assert_eq(n, 1);
    pgt_terminate(subscription_backend(s));
    int rc = svk_delivery_ack(d, NULL);
    cr_expect_eq(rc, SVK_EUNAVAIL, "on the dead connection: %s", svk_errname(rc));
    rc = svk_delivery_ack(d, NULL);
    cr_expect_eq(rc, 0, "on a new connection, fenced by row and attempt: %s: %s",
                 svk_errname(rc), svk_broker_last_error(NULL));
    svk_delivery_free(d);
    cr_assert_eq(svk_subscription_fetch(s, NULL, 1, 5 * SEC, &d, &n), 0);
    cr_assert_eq(n, 1, "the new connection listens and fetches");
    cr_expect_eq(svk_delivery_ack(d, NULL), 0);
    svk_delivery_free(d);
    svk_subscription_free(s);
    teardown(&e);
}

/* A role of our own lets one test make "the database" refuse it alone. */
static void make_role_env(env *e, char role[64])
{
    snprintf(role, 64, "svk_brk_%d", (int)getpid());
    snprintf(e->schema, sizeof e->schema, "%s", role);
    char sql[256];
    snprintf(sql, sizeof sql, "CREATE ROLE %s LOGIN", role);
    pgt_admin_exec(sql);
    snprintf(sql, sizeof sql, "CREATE SCHEMA %s AUTHORIZATION %s", role, role);
    pgt_admin_exec(sql);
    char dsn[512];
    snprintf(dsn, sizeof dsn, "%s", pgt_dsn());
    char *user = strstr(dsn, "user=");
    if (user != NULL)
        *user = '\0'; /* ours comes below */
    snprintf(e->dsn, sizeof e->dsn, "%s user=%s options='-c search_path=%s'", dsn, role, role);
    svk_pg_options o = SVK_PG_OPTIONS_INIT;
    o.conninfo = e->dsn;
    o.reconnect_min_ns = 50 * MS;
    o.reconnect_max_ns = 200 * MS;
    svk_error err;
    cr_assert_eq(svk_pg_pool_new(&e->pool, &o, &err), 0, "%s", err.message);
    cr_assert_eq(svk_pg_migrate(e->pool, NULL, NULL, &err), 0, "%s", err.message);
    open_broker(e, 0, 0);
}

static void set_login(const char *role, bool allowed)
{
    char sql[256];
    snprintf(sql, sizeof sql, "ALTER ROLE %s %s", role, allowed ? "LOGIN" : "NOLOGIN");
    pgt_admin_exec(sql);
    if (allowed)
        return;
    snprintf(sql, sizeof sql,
             "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE usename = '%s'",
             role);
    pgt_admin_exec(sql);
}

/* Each call on a database that refuses us: SVK_EUNAVAIL, within the deadline. */
static void expect_unavailable(env *e, svk_subscription *s, svk_delivery *d)
{
    for (int round = 0; round < 3; round++) {
        svk_ctx *ctx = pgt_ctx(2 * SEC);
        int64_t t0 = pgt_now_ms();
        svk_delivery *got = NULL;
        size_t n = 0;
        int rc = svk_subscription_fetch(s, ctx, 1, 5 * SEC, &got, &n);
        cr_expect_eq(rc, SVK_EUNAVAIL, "fetch: %s", svk_errname(rc));
        rc = svk_delivery_ack(d, ctx);
        cr_expect_eq(rc, SVK_EUNAVAIL, "ack: %s", svk_errname(rc));
        svk_message m = SVK_MESSAGE_INIT;
        svk_uuid_v7(&m.id);
        m.topic = "orders.created";
        rc = svk_broker_publish(e->broker, ctx, &m, 1);
        cr_expect_eq(rc, SVK_EUNAVAIL, "publish: %s", svk_errname(rc));
        cr_expect_lt(pgt_now_ms() - t0, 2500, "round %d", round);
        svk_ctx_free(ctx);
    }
}

Test(pgqueue, database_refusing_us_is_unavailable_then_recovers)
{
    env e;
    char role[64];
    make_role_env(&e, role);
    const char *topics[] = {"orders.created"};
    svk_subscription *s = subscribe(&e, "billing", topics, 1);
    publish_n(&e, "orders.created", 1);
    svk_delivery *d = NULL;
    size_t n = 0;
    cr_assert_eq(svk_subscription_fetch(s, NULL, 1, 5 * SEC, &d, &n), 0);
    cr_assert_eq(n, 1);
    set_login(role, false);
    expect_unavailable(&e, s, d);
    set_login(role, true);
    int rc = SVK_EUNAVAIL;
    for (int i = 0; i < 50 && rc == SVK_EUNAVAIL; i++, usleep(50000))
        rc = svk_delivery_ack(d, NULL);
    cr_expect_eq(rc, 0, "ack once the database lets us in again: %s", svk_errname(rc));
    svk_delivery_free(d);
    svk_subscription_free(s);
    teardown(&e);
}

/* -------------------------------------------------------------- semantics */

Test(pgqueue, subscription_fetches_only_its_topics)
{
    env e;
    setup(&e, "topics", 0);
    const char *both[] = {"orders.created", "orders.paid"};
    const char *paid[] = {"orders.paid"};
    svk_subscription *all = subscribe(&e, "billing", both, 2);
    svk_subscription *some = subscribe(&e, "billing", paid, 1);
    publish_n(&e, "orders.created", 3);
    svk_delivery *d[8];
    size_t n = 0;
    cr_assert_eq(svk_subscription_fetch(some, NULL, 8, 300 * MS, d, &n), 0);
    cr_expect_eq(n, 0, "orders.created is not this subscription's");
    publish_n(&e, "orders.paid", 2);
    cr_assert_eq(svk_subscription_fetch(some, NULL, 8, 2 * SEC, d, &n), 0);
    cr_expect_eq(n, 2);
    for (size_t i = 0; i < n; i++) {
        cr_expect_str_eq(svk_delivery_message(d[i])->topic, "orders.paid");
        svk_delivery_ack(d[i], NULL);
        svk_delivery_free(d[i]);
    }
    cr_assert_eq(svk_subscription_fetch(all, NULL, 8, 2 * SEC, d, &n), 0);
    cr_expect_eq(n, 3);
    for (size_t i = 0; i < n; i++) {
        svk_delivery_ack(d[i], NULL);
        svk_delivery_free(d[i]);
    }
    cr_expect_eq(queue_rows(&e), 0, "acks delete");
    svk_subscription_free(all);
    svk_subscription_free(some);
    teardown(&e);
}

Test(pgqueue, migration_2_shape)
{
    env e;
    setup(&e, "shape", 0);
    cr_expect_geq(svk_pg_schema_latest(), 2);
    char sql[512], v[256];
    snprintf(sql, sizeof sql,
             "SELECT string_agg(attname, ',' ORDER BY attname) FROM pg_attribute"
             " WHERE attrelid = '%s.svk_queue'::regclass AND attname IN ('id', 'locked_until')",
             e.schema);
    pgt_admin_value(sql, v, sizeof v);
    cr_expect_str_eq(v, "id,locked_until");
    snprintf(sql, sizeof sql,
             "SELECT array_to_string(reloptions, ',') FROM pg_class"
             " WHERE oid = '%s.svk_queue'::regclass", e.schema);
    pgt_admin_value(sql, v, sizeof v);
    cr_expect(strstr(v, "fillfactor=50") != NULL, "reloptions: %s", v);
    snprintf(sql, sizeof sql,
             "SELECT string_agg(indexname, ',' ORDER BY indexname) FROM pg_indexes"
             " WHERE schemaname = '%s' AND tablename = 'svk_queue'", e.schema);
    pgt_admin_value(sql, v, sizeof v);
    cr_expect_str_eq(v, "svk_queue_id_idx,svk_queue_pkey,svk_queue_ready_idx");
    teardown(&e);
}

Test(pgqueue, fetches_are_hot_updates)
{
    env e;
    svk_subscription *s = setup_billing(&e, "hot", 0);
    publish_n(&e, "orders.created", 200);
    size_t total = 0;
    svk_delivery *d[64];
    for (size_t n = 1; n > 0; total += n) {
        cr_assert_eq(svk_subscription_fetch(s, NULL, 64, 0, d, &n), 0);
        for (size_t i = 0; i < n; i++)
            svk_delivery_free(d[i]); /* unsettled: only the claims' updates count */
    }
    cr_assert_eq(total, 200);
    svk_subscription_free(s); /* its backend exits and flushes its statistics */
    char sql[256], v[64];
    snprintf(sql, sizeof sql,
             "SELECT n_tup_upd || '/' || n_tup_hot_upd FROM pg_stat_user_tables"
             " WHERE schemaname = '%s' AND relname = 'svk_queue'", e.schema);
    long upd = 0, hot = 0;
    for (int i = 0; i < 100 && upd < 200; i++, usleep(50000)) {
        pgt_admin_value(sql, v, sizeof v);
        sscanf(v, "%ld/%ld", &upd, &hot);
    }
    cr_expect_eq(upd, 200, "one update per claim");
    /* A claim rewrites every row of a page at once; fillfactor 50 leaves room
     * for that except on the odd page (docs/broker.md: 100% under load). */
    cr_expect_geq(hot * 10, upd * 9, "only %ld of %ld claims were HOT updates", hot, upd);
    teardown(&e);
}

/* Fetch and ack everything there is; returns how many. */
static size_t drain(svk_subscription *s)
{
    size_t total = 0;
    svk_delivery *d[64];
    for (size_t n = 1; n > 0; total += n) {
        cr_assert_eq(svk_subscription_fetch(s, NULL, 64, 0, d, &n), 0);
        for (size_t i = 0; i < n; i++) {
            cr_assert_eq(svk_delivery_ack(d[i], NULL), 0);
            svk_delivery_free(d[i]);
        }
    }
    return total;
}

static void vacuum_stats(env *e, char *out, size_t size)
{
    char sql[256];
    snprintf(sql, sizeof sql,
             "SELECT vacuum_count || '/' || autovacuum_count FROM pg_stat_user_tables"
             " WHERE schemaname = '%s' AND relname = 'svk_queue'", e->schema);
    pgt_admin_value(sql, out, size);
}

Test(pgqueue, broker_vacuums_its_table_every_n_settles)
{
    env e;
    pgt_fresh_schema("vacuum", e.schema, e.dsn, sizeof e.dsn);
    e.pool = pgt_pool(e.dsn, 4);
    cr_assert_eq(svk_pg_migrate(e.pool, NULL, NULL, NULL), 0);
    open_broker(&e, 0, 100);
    const char *topics[] = {"orders.created"};
    svk_subscription *s = subscribe(&e, "billing", topics, 1);
    publish_n(&e, "orders.created", 99);
    cr_assert_eq(drain(s), 99);
    char v[64];
    vacuum_stats(&e, v, sizeof v);
    cr_expect_str_eq(v, "0/0", "99 settles: not yet");
    publish_n(&e, "orders.created", 1);
    cr_assert_eq(drain(s), 1); /* the 100th settle; the fetch after it vacuums */
    svk_subscription_free(s);  /* the backend exits: its statistics are flushed */
    for (int i = 0; i < 100 && strcmp(v, "1/0") != 0; i++, usleep(50000))
        vacuum_stats(&e, v, sizeof v);
    cr_expect_str_eq(v, "1/0", "one VACUUM by the broker, none by autovacuum: %s", v);
    teardown(&e);
}

Test(pgqueue, unmigrated_database_is_a_database_error_then_publishes_once_migrated)
{
    env e;
    pgt_fresh_schema("pq_nomig", e.schema, e.dsn, sizeof e.dsn);
    e.pool = pgt_pool(e.dsn, 2);
    open_broker(&e, 0, 0);
    svk_message m = SVK_MESSAGE_INIT;
    svk_uuid_v7(&m.id);
    m.topic = "orders.placed";
    m.payload = "p";
    m.payload_len = 1;
    /* Its statement is prepared in the same round trip: the Prepare fails. */
    cr_expect_eq(svk_broker_publish(e.broker, NULL, &m, 1), SVK_EDB);
    const char *why = svk_broker_last_error(NULL);
    cr_expect(strstr(why, "svk_queue") != NULL && strstr(why, "sent ahead") == NULL,
              "the publish's own error, named as such: %s", why);
    svk_error err;
    cr_assert_eq(svk_pg_migrate(e.pool, NULL, NULL, &err), 0, "%s", err.message);
    svk_subscription_free(subscribe(&e, "billing", (const char *const[]){"orders.placed"}, 1));
    cr_expect_eq(svk_broker_publish(e.broker, NULL, &m, 1), 0,
                 "not prepared after the failure: prepared now: %s",
                 svk_broker_last_error(NULL));
    cr_expect_eq(queue_rows(&e), 1);
    teardown(&e);
}
