/*
 * put_test.c — the outbox writer (svckit/outbox.h) against the harness's
 * PostgreSQL: an event commits and rolls back with the domain row, carries
 * the ctx's traceparent, is checked against the broker rules before
 * anything is sent, batches keep their order and ids, ordered topics get a
 * database sequence number, and a transaction notifies once while a relay
 * sleeps and none is awake (and not at all otherwise).
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libpq-fe.h>

#include "pg_env.h"
#include "svckit/outbox.h"

typedef struct env {
    char schema[64];
    char dsn[1024];
    svk_pg_pool *pool;
} env;

static void setup(env *e, const char *tag)
{
    pgt_fresh_schema(tag, e->schema, e->dsn, sizeof e->dsn);
    e->pool = pgt_pool(e->dsn, 4);
    svk_error err;
    cr_assert_eq(svk_pg_migrate(e->pool, NULL, NULL, &err), 0, "%s", err.message);
    svk_pg_conn *c = NULL;
    cr_assert_eq(svk_pg_acquire(e->pool, NULL, &c), 0);
    cr_assert_eq(svk_pg_exec(c, NULL, "CREATE TABLE orders (id int PRIMARY KEY)", 0, NULL,
                             NULL, NULL, NULL), 0);
    svk_pg_release(c);
}

static void teardown(env *e)
{
    svk_pg_pool_free(e->pool);
}

/* One text value of sql run on a pool connection ("" for NULL). */
static void value(env *e, const char *sql, char *out, size_t size)
{
    svk_pg_conn *c = NULL;
    svk_pg_result *r = NULL;
    cr_assert_eq(svk_pg_acquire(e->pool, NULL, &c), 0);
    int rc = svk_pg_exec(c, NULL, sql, 0, NULL, NULL, NULL, &r);
    cr_assert_eq(rc, 0, "%s: %s", sql, svk_pg_conn_last_error(c));
    snprintf(out, size, "%s", svk_pg_result_rows(r) ? svk_pg_result_value(r, 0, 0) : "");
    svk_pg_result_free(r);
    svk_pg_release(c);
}

static long count(env *e, const char *sql)
{
    char v[64];
    value(e, sql, v, sizeof v);
    return atol(v);
}

static svk_tx *begin(env *e)
{
    svk_tx *tx = NULL;
    cr_assert_eq(svk_tx_begin(e->pool, NULL, SVK_TX_READ_COMMITTED, &tx), 0);
    return tx;
}

static void insert_order(svk_tx *tx, int id)
{
    char v[16];
    snprintf(v, sizeof v, "%d", id);
    const char *values[] = {v};
    cr_assert_eq(svk_tx_exec(tx, NULL, "INSERT INTO orders VALUES ($1)", 1, values, NULL,
                             NULL, NULL), 0);
}

static int put(svk_tx *tx, const svk_ctx *ctx, const char *topic, const char *key)
{
    return svk_outbox_put(tx, ctx, topic, key, "{}", 2, NULL, 0, NULL);
}

Test(outbox_put, commits_with_the_domain_row)
{
    env e;
    setup(&e, "ob_commit");
    svk_ctx *ctx = pgt_ctx(10 * PGT_SEC);
    uint8_t trace[16] = {1, 2, 3}, span[8] = {4, 5, 6};
    cr_assert_eq(svk_ctx_set_trace(ctx, trace, span, 1), 0);
    svk_tx *tx = begin(&e);
    insert_order(tx, 1);
    const svk_header h[] = {{"content-type", "application/json"}};
    const unsigned char payload[] = {'a', 0, 'b', 0xff};
    svk_uuid id;
    int rc = svk_outbox_put(tx, ctx, "orders.placed", "order-1", payload, sizeof payload, h, 1,
                            &id);
    cr_assert_eq(rc, 0, "%s", svk_pg_conn_last_error(svk_tx_conn(tx)));
    cr_expect_eq(count(&e, "SELECT count(*) FROM svk_outbox"), 0, "invisible before commit");
    cr_assert_eq(svk_tx_commit(tx, NULL), 0);

    char got[512], want[512], uuid[SVK_UUID_STRLEN + 1];
    svk_uuid_format(&id, uuid);
    value(&e, "SELECT id FROM svk_outbox", got, sizeof got);
    cr_expect_str_eq(got, uuid);
    value(&e, "SELECT topic || '|' || key || '|' || encode(payload, 'hex') || '|' ||"
              " (seq IS NULL) FROM svk_outbox", got, sizeof got);
    cr_expect_str_eq(got, "orders.placed|order-1|610062ff|true");
    value(&e, "SELECT headers::text FROM svk_outbox", got, sizeof got);
    char tp[SVK_TRACEPARENT_LEN + 1];
    svk_ctx_traceparent(ctx, tp);
    snprintf(want, sizeof want, "{\"traceparent\": \"%s\", \"content-type\": "
             "\"application/json\"}", tp);
    cr_expect_str_eq(got, want);
    cr_expect_eq(count(&e, "SELECT count(*) FROM orders"), 1);
    svk_ctx_free(ctx);
    teardown(&e);
}

Test(outbox_put, rolls_back_with_the_domain_row)
{
    env e;
    setup(&e, "ob_rollback");
    svk_tx *tx = begin(&e);
    insert_order(tx, 1);
    cr_assert_eq(put(tx, NULL, "orders.placed", "k"), 0);
    cr_assert_eq(svk_tx_rollback(tx), 0);
    cr_expect_eq(count(&e, "SELECT count(*) FROM svk_outbox"), 0);
    cr_expect_eq(count(&e, "SELECT count(*) FROM orders"), 0);
    /* A failed domain statement: commit rolls back the event too. */
    tx = begin(&e);
    cr_assert_eq(put(tx, NULL, "orders.placed", "k"), 0);
    cr_expect_eq(svk_tx_exec(tx, NULL, "INSERT INTO orders VALUES (NULL)", 0, NULL, NULL,
                             NULL, NULL), SVK_EDB);
    cr_expect_eq(put(tx, NULL, "orders.placed", "k"), SVK_ESTATE);
    cr_expect_eq(svk_tx_commit(tx, NULL), SVK_EDB);
    cr_expect_eq(count(&e, "SELECT count(*) FROM svk_outbox"), 0);
    teardown(&e);
}

Test(outbox_put, caller_traceparent_wins_and_no_ctx_means_none)
{
    env e;
    setup(&e, "ob_trace");
    svk_ctx *ctx = pgt_ctx(10 * PGT_SEC);
    uint8_t trace[16] = {9}, span[8] = {9};
    cr_assert_eq(svk_ctx_set_trace(ctx, trace, span, 0), 0);
    svk_tx *tx = begin(&e);
    const svk_header mine[] = {{"TraceParent", "00-0af7651916cd43dd8448eb211c80319c-"
                                               "b7ad6b7169203331-01"}};
    cr_assert_eq(svk_outbox_put(tx, ctx, "a.b", NULL, "", 0, mine, 1, NULL), 0);
    cr_assert_eq(svk_outbox_put(tx, NULL, "a.c", NULL, NULL, 0, NULL, 0, NULL), 0);
    cr_assert_eq(svk_tx_commit(tx, NULL), 0);
    char got[256];
    value(&e, "SELECT headers::text FROM svk_outbox WHERE topic = 'a.b'", got, sizeof got);
    cr_expect_str_eq(got, "{\"TraceParent\": \"00-0af7651916cd43dd8448eb211c80319c-"
                          "b7ad6b7169203331-01\"}");
    value(&e, "SELECT headers::text || octet_length(payload) FROM svk_outbox"
              " WHERE topic = 'a.c'", got, sizeof got);
    cr_expect_str_eq(got, "{}0");
    svk_ctx_free(ctx);
    teardown(&e);
}

Test(outbox_put, refuses_what_no_broker_accepts_and_sends_nothing)
{
    env e;
    setup(&e, "ob_invalid");
    svk_ctx *ctx = pgt_ctx(10 * PGT_SEC);
    uint8_t trace[16] = {7}, span[8] = {7};
    cr_assert_eq(svk_ctx_set_trace(ctx, trace, span, 1), 0);
    svk_tx *tx = begin(&e);
    const svk_header reserved[] = {{"Svk-Attempt", "1"}};
    const svk_header twice[] = {{"a", "1"}, {"A", "2"}};
    const svk_header ctl[] = {{"a", "line\nbreak"}};
    svk_header many[64];
    char names[64][8];
    for (int i = 0; i < 64; i++) {
        snprintf(names[i], sizeof names[i], "h%d", i);
        many[i] = (svk_header){names[i], "v"};
    }
    cr_expect_eq(put(tx, NULL, "bad topic", NULL), SVK_EINVAL);
    cr_expect_eq(put(tx, NULL, "a..b", NULL), SVK_EINVAL);
    cr_expect_eq(put(tx, NULL, NULL, NULL), SVK_EINVAL);
    cr_expect_eq(put(tx, NULL, "a.b", ""), SVK_EINVAL, "empty key");
    cr_expect_eq(put(tx, NULL, "a.b", "tab\tkey"), SVK_EINVAL);
    cr_expect_eq(svk_outbox_put(tx, NULL, "a.b", NULL, NULL, 3, NULL, 0, NULL), SVK_EINVAL);
    cr_expect_eq(svk_outbox_put(tx, NULL, "a.b", NULL, "", 0, reserved, 1, NULL), SVK_EINVAL);
    cr_expect_eq(svk_outbox_put(tx, NULL, "a.b", NULL, "", 0, twice, 2, NULL), SVK_EINVAL);
    cr_expect_eq(svk_outbox_put(tx, NULL, "a.b", NULL, "", 0, ctl, 1, NULL), SVK_EINVAL);
    cr_expect_eq(svk_outbox_put(tx, NULL, "a.b", NULL, "", 0, NULL, 1, NULL), SVK_EINVAL);
    cr_expect_eq(svk_outbox_put(tx, NULL, "a.b", NULL, "", 0, many, 64, NULL), 0,
                 "64 headers and no trace context: the limit exactly");
    cr_expect_eq(svk_outbox_put(tx, ctx, "a.b", NULL, "", 0, many, 64, NULL), SVK_EINVAL,
                 "64 headers plus the traceparent: one too many");
    cr_expect(strstr(svk_pg_conn_last_error(svk_tx_conn(tx)), "outbox event 0") != NULL,
              "%s", svk_pg_conn_last_error(svk_tx_conn(tx)));
    cr_expect_eq(svk_tx_error(tx), 0, "refusals leave the transaction healthy");
    cr_assert_eq(put(tx, NULL, "a.b", "fine"), 0);
    cr_assert_eq(svk_tx_commit(tx, NULL), 0);
    cr_expect_eq(count(&e, "SELECT count(*) FROM svk_outbox"), 2);
    cr_expect_eq(svk_outbox_put(NULL, NULL, "a.b", NULL, "", 0, NULL, 0, NULL), SVK_EINVAL);
    svk_ctx_free(ctx);
    teardown(&e);
}

static svk_outbox_event event(const char *topic, const char *key, const char *payload,
                              const svk_header *h, size_t n)
{
    svk_outbox_event ev = SVK_OUTBOX_EVENT_INIT;
    ev.topic = topic;
    ev.key = key;
    ev.payload = payload;
    ev.payload_len = strlen(payload);
    ev.headers = h;
    ev.header_count = n;
    return ev;
}

Test(outbox_put, batch_keeps_order_ids_and_headers)
{
    env e;
    setup(&e, "ob_batch");
    enum { N = 1000 };
    static svk_outbox_event ev[N];
    static char payloads[N][16];
    const svk_header h1[] = {{"x-n", "one"}};
    const svk_header h2[] = {{"x-a", "1"}, {"x-b", "quote\" back\\slash"}};
    for (int i = 0; i < N; i++) {
        snprintf(payloads[i], sizeof payloads[i], "p%d", i);
        ev[i] = event(i % 2 ? "orders.b" : "orders.a", i % 3 ? "k" : NULL, payloads[i],
                      i % 5 == 0 ? h2 : h1, i % 5 == 0 ? 2 : 1);
    }
    svk_tx *tx = begin(&e);
    int rc = svk_outbox_put_batch(tx, NULL, ev, N);
    cr_assert_eq(rc, 0, "%s", svk_pg_conn_last_error(svk_tx_conn(tx)));
    cr_assert_eq(svk_outbox_put_batch(tx, NULL, ev, 0), 0);
    cr_assert_eq(svk_tx_commit(tx, NULL), 0);
    for (int i = 1; i < N; i++)
        cr_assert_lt(svk_uuid_compare(&ev[i - 1].id, &ev[i].id), 0, "ids ascend");
    char sql[512], got[512], uuid[SVK_UUID_STRLEN + 1];
    for (int i = 0; i < N; i += 137) {
        svk_uuid_format(&ev[i].id, uuid);
        snprintf(sql, sizeof sql, "SELECT topic || '|' || coalesce(key, '-') || '|' ||"
                 " convert_from(payload, 'UTF8') || '|' || headers::text FROM svk_outbox"
                 " WHERE id = '%s'", uuid);
        value(&e, sql, got, sizeof got);
        char want[256];
        snprintf(want, sizeof want, "%s|%s|%s|%s", ev[i].topic, ev[i].key ? "k" : "-",
                 payloads[i], i % 5 == 0 ? "{\"x-a\": \"1\", \"x-b\": \"quote\\\" back\\\\slash\"}"
                                         : "{\"x-n\": \"one\"}");
        cr_expect_str_eq(got, want, "event %d", i);
    }
    cr_expect_eq(count(&e, "SELECT count(*) FROM svk_outbox"), N);
    teardown(&e);
}

Test(outbox_put, batch_refuses_a_bad_event_whole)
{
    env e;
    setup(&e, "ob_batch_bad");
    svk_outbox_event ev[3] = {event("a.b", NULL, "1", NULL, 0), event("a.b", NULL, "2", NULL, 0),
                              event("a..b", NULL, "3", NULL, 0)};
    svk_uuid zero = {{0}};
    svk_tx *tx = begin(&e);
    cr_expect_eq(svk_outbox_put_batch(tx, NULL, ev, 3), SVK_EINVAL);
    cr_expect(strstr(svk_pg_conn_last_error(svk_tx_conn(tx)), "outbox event 2") != NULL);
    cr_expect_eq(memcmp(&ev[0].id, &zero, sizeof zero), 0, "ids untouched on failure");
    ev[2].topic = "a.c";
    ev[1].size = 8;
    cr_expect_eq(svk_outbox_put_batch(tx, NULL, ev, 3), SVK_EINVAL, "unknown element size");
    cr_expect_eq(svk_outbox_put_batch(tx, NULL, NULL, 3), SVK_EINVAL);
    cr_expect_eq(svk_outbox_put_batch(tx, NULL, ev, SVK_OUTBOX_BATCH_MAX + 1), SVK_EINVAL);
    cr_assert_eq(svk_tx_commit(tx, NULL), 0);
    cr_expect_eq(count(&e, "SELECT count(*) FROM svk_outbox"), 0);
    teardown(&e);
}

Test(outbox_put, ordered_topics_get_a_sequence_in_put_order)
{
    env e;
    setup(&e, "ob_seq");
    char sql[256];
    snprintf(sql, sizeof sql, "INSERT INTO %s.svk_outbox_ordered_topics VALUES ('o.t')",
             e.schema);
    pgt_admin_exec(sql);
    enum { N = 300 };
    static svk_outbox_event ev[N];
    static char payloads[N][16];
    for (int i = 0; i < N; i++) {
        snprintf(payloads[i], sizeof payloads[i], "%d", i);
        ev[i] = event(i % 3 ? "o.t" : "u.t", "k", payloads[i], NULL, 0);
    }
    svk_tx *tx = begin(&e);
    cr_assert_eq(put(tx, NULL, "o.t", "k"), 0);
    cr_assert_eq(svk_outbox_put_batch(tx, NULL, ev, N), 0);
    cr_assert_eq(svk_tx_commit(tx, NULL), 0);
    cr_expect_eq(count(&e, "SELECT count(*) FROM svk_outbox WHERE topic = 'u.t' AND"
                           " seq IS NOT NULL"), 0);
    cr_expect_eq(count(&e, "SELECT count(*) FROM svk_outbox WHERE topic = 'o.t' AND"
                           " seq IS NULL"), 0);
    /* Batch rows of the ordered topic: seq follows the array order. */
    cr_expect_eq(count(&e, "SELECT count(*) FROM (SELECT convert_from(payload, 'UTF8')::int"
                           " AS p, lag(convert_from(payload, 'UTF8')::int) OVER (ORDER BY seq)"
                           " AS prev FROM svk_outbox WHERE topic = 'o.t' AND payload <> '{}')"
                           " s WHERE prev >= p"), 0);
    cr_expect_eq(count(&e, "SELECT count(*) FROM svk_outbox WHERE topic = 'o.t'"),
                 1 + 2 * N / 3);
    teardown(&e);
}

/* Notifications received on a dedicated LISTEN connection within 300 ms. */
static int notifications(svk_pg_conn *listener)
{
    int total = 0, got = 0;
    do {
        cr_assert_eq(svk_pg_wait_notify(listener, NULL, 300 * PGT_MS, &got), 0);
        total += got;
    } while (got > 0);
    return total;
}

/* Mark a relay asleep (or awake) in svk_outbox_wakeups for `span` (an interval). */
static void mark(env *e, const char *holder, bool awake, const char *span)
{
    svk_pg_conn *c = NULL;
    cr_assert_eq(svk_pg_acquire(e->pool, NULL, &c), 0);
    const char *values[] = {holder, awake ? "true" : "false", span};
    cr_assert_eq(svk_pg_exec(c, NULL, "INSERT INTO svk_outbox_wakeups VALUES ($1, $2::boolean,"
                             " now() + $3::interval) ON CONFLICT (holder) DO UPDATE SET"
                             " awake = excluded.awake, until = excluded.until", 3, values, NULL,
                             NULL, NULL), 0);
    svk_pg_release(c);
}

Test(outbox_put, one_notification_per_transaction_while_relays_sleep)
{
    env e;
    setup(&e, "ob_notify");
    svk_pg_conn *l = NULL;
    cr_assert_eq(svk_pg_acquire(e.pool, NULL, &l), 0);
    char channel[128];
    snprintf(channel, sizeof channel, SVK_OUTBOX_CHANNEL_PREFIX "%s", e.schema);
    cr_assert_eq(svk_pg_listen(l, NULL, channel), 0);
    /* No relay asleep: writers send no NOTIFY (their commits skip its lock). */
    svk_tx *tx = begin(&e);
    cr_assert_eq(put(tx, NULL, "a.b", NULL), 0);
    cr_assert_eq(svk_tx_commit(tx, NULL), 0);
    cr_expect_eq(notifications(l), 0, "nobody sleeps, nobody is woken");
    mark(&e, "relay-a", false, "1 hour");
    tx = begin(&e);
    svk_outbox_event ev[2] = {event("a.b", NULL, "1", NULL, 0), event("a.b", NULL, "2", NULL, 0)};
    for (int i = 0; i < 3; i++)
        cr_assert_eq(put(tx, NULL, "a.b", NULL), 0);
    cr_assert_eq(svk_outbox_put_batch(tx, NULL, ev, 2), 0);
    cr_assert_eq(svk_tx_commit(tx, NULL), 0);
    cr_expect_eq(notifications(l), 1);

    tx = begin(&e);
    cr_assert_eq(put(tx, NULL, "a.b", NULL), 0);
    cr_assert_eq(svk_tx_rollback(tx), 0);
    cr_expect_eq(notifications(l), 0, "a rolled-back transaction notifies nobody");

    /* The NOTIFY queued inside a rolled-back savepoint is gone: the next put
     * must queue it again, or the commit would wake nobody. */
    tx = begin(&e);
    cr_assert_eq(svk_tx_savepoint(tx, NULL, "sp"), 0);
    cr_assert_eq(put(tx, NULL, "a.b", NULL), 0);
    cr_assert_eq(svk_tx_rollback_to(tx, NULL, "sp"), 0);
    cr_assert_eq(put(tx, NULL, "a.b", NULL), 0);
    cr_assert_eq(svk_tx_commit(tx, NULL), 0);
    cr_expect_eq(notifications(l), 1);

    /* Another relay awake claims anyway: no NOTIFY, though one sleeps. */
    mark(&e, "relay-b", true, "1 hour");
    tx = begin(&e);
    cr_assert_eq(put(tx, NULL, "a.b", NULL), 0);
    cr_assert_eq(svk_tx_commit(tx, NULL), 0);
    cr_expect_eq(notifications(l), 0, "a relay is awake: no wake-up needed");
    /* Marks that ran out (relays that died) count for nothing. */
    mark(&e, "relay-b", true, "-1 second");
    mark(&e, "relay-a", false, "-1 second");
    tx = begin(&e);
    cr_assert_eq(svk_outbox_put_batch(tx, NULL, ev, 2), 0);
    cr_assert_eq(svk_tx_commit(tx, NULL), 0);
    cr_expect_eq(notifications(l), 0);
    svk_pg_release(l);
    teardown(&e);
}

Test(outbox_put, unmigrated_database_is_a_database_error)
{
    char schema[64], dsn[1024];
    pgt_fresh_schema("ob_nomig", schema, dsn, sizeof dsn);
    svk_pg_pool *p = pgt_pool(dsn, 2);
    svk_pg_conn *c = NULL;
    cr_assert_eq(svk_pg_acquire(p, NULL, &c), 0);
    cr_assert_eq(svk_pg_exec(c, NULL, "CREATE TABLE orders (id int)", 0, NULL, NULL, NULL,
                             NULL), 0);
    svk_tx *tx = NULL;
    /* The INSERT goes ahead unanswered: the next statement reports it. */
    cr_assert_eq(svk_tx_begin_conn(c, NULL, SVK_TX_READ_COMMITTED, &tx), 0);
    cr_expect_eq(put(tx, NULL, "a.b", NULL), 0, "sent ahead, not yet answered");
    cr_expect_eq(svk_tx_exec(tx, NULL, "INSERT INTO orders VALUES (1)", 0, NULL, NULL, NULL,
                             NULL), SVK_EDB);
    cr_expect_str_eq(svk_pg_conn_last_sqlstate(c), "42P01", "no svk_outbox table");
    cr_expect(strstr(svk_pg_conn_last_error(c), "svk_outbox_put") != NULL, "%s",
              svk_pg_conn_last_error(c));
    cr_expect_eq(svk_tx_error(tx), SVK_EDB, "the transaction has failed");
    cr_expect_eq(put(tx, NULL, "a.b", NULL), SVK_ESTATE);
    cr_expect_eq(svk_tx_commit(tx, NULL), SVK_EDB);
    /* Straight to the commit: it fails, rolls back, and says why. */
    cr_assert_eq(svk_tx_begin_conn(c, NULL, SVK_TX_READ_COMMITTED, &tx), 0);
    cr_assert_eq(svk_tx_exec(tx, NULL, "INSERT INTO orders VALUES (2)", 0, NULL, NULL, NULL,
                             NULL), 0);
    cr_expect_eq(put(tx, NULL, "a.b", NULL), 0);
    cr_expect_eq(svk_tx_commit(tx, NULL), SVK_EDB);
    cr_expect_str_eq(svk_pg_conn_last_sqlstate(c), "42P01");
    cr_expect(strstr(svk_pg_conn_last_error(c), "svk_outbox_put") != NULL, "%s",
              svk_pg_conn_last_error(c));
    /* The connection is clean again, and nothing was committed. */
    svk_pg_result *r = NULL;
    cr_assert_eq(svk_pg_exec(c, NULL, "SELECT count(*) FROM orders", 0, NULL, NULL, NULL, &r),
                 0, "%s", svk_pg_conn_last_error(c));
    cr_expect_str_eq(svk_pg_result_value(r, 0, 0), "0");
    svk_pg_result_free(r);
    svk_pg_release(c);
    svk_outbox_status st = SVK_OUTBOX_STATUS_INIT;
    svk_error err;
    cr_expect_eq(svk_outbox_status_read(p, NULL, &st, &err), SVK_EDB);
    svk_pg_pool_free(p);
}

/* A pool connection of e's, and a transaction begun on a held connection. */
static svk_pg_conn *acquire(env *e)
{
    svk_pg_conn *c = NULL;
    cr_assert_eq(svk_pg_acquire(e->pool, NULL, &c), 0);
    return c;
}

static svk_tx *begin_on(svk_pg_conn *c)
{
    svk_tx *tx = NULL;
    cr_assert_eq(svk_tx_begin_conn(c, NULL, SVK_TX_READ_COMMITTED, &tx), 0);
    return tx;
}

/* Commit one put on c, in a transaction of its own. */
static int put_and_commit(svk_pg_conn *c)
{
    svk_tx *tx = begin_on(c);
    int rc = put(tx, NULL, "a.b", NULL);
    return rc != 0 ? rc : svk_tx_commit(tx, NULL);
}

Test(outbox_put, lost_prepared_statements_are_prepared_again)
{
    env e;
    setup(&e, "ob_dealloc");
    svk_pg_conn *c = acquire(&e);
    cr_assert_eq(put_and_commit(c), 0, "%s", svk_pg_conn_last_error(c));
    cr_assert_eq(put_and_commit(c), 0, "%s", svk_pg_conn_last_error(c));
    /* What DISCARD ALL, or a pooler handing over another server session, does. */
    cr_assert_eq(svk_pg_exec(c, NULL, "DEALLOCATE ALL", 0, NULL, NULL, NULL, NULL), 0);
    cr_expect_eq(put_and_commit(c), SVK_EDB, "the statement is gone: one failure");
    cr_expect_str_eq(svk_pg_conn_last_sqlstate(c), "26000");
    cr_expect_eq(put_and_commit(c), 0, "prepared again: %s", svk_pg_conn_last_error(c));
    svk_pg_release(c);
    cr_expect_eq(count(&e, "SELECT count(*) FROM svk_outbox"), 3);
    teardown(&e);
}

Test(outbox_put, many_puts_ride_one_round_trip)
{
    enum { N = 3000, SIZE = 4096 };
    env e;
    setup(&e, "ob_many");
    static char payload[SIZE];
    memset(payload, 'p', sizeof payload);
    svk_tx *tx = begin(&e);
    insert_order(tx, 7);
    for (int i = 0; i < N; i++)
        cr_assert_eq(svk_outbox_put(tx, NULL, "a.b", NULL, payload, sizeof payload, NULL, 0,
                                    NULL), 0, "put %d: %s", i,
                     svk_pg_conn_last_error(svk_tx_conn(tx)));
    cr_assert_eq(svk_tx_commit(tx, NULL), 0, "%s", svk_pg_conn_last_error(svk_tx_conn(tx)));
    cr_expect_eq(count(&e, "SELECT count(*) FROM svk_outbox WHERE length(payload) = 4096"), N);
    cr_expect_eq(count(&e, "SELECT count(*) FROM orders"), 1);
    teardown(&e);
}

Test(outbox_put, puts_sent_ahead_end_with_their_transaction)
{
    env e;
    setup(&e, "ob_ahead");
    svk_pg_conn *c = acquire(&e);
    /* Rolled back with answers still owed: they are read, then undone. */
    svk_tx *tx = begin_on(c);
    for (int i = 0; i < 3; i++)
        cr_assert_eq(put(tx, NULL, "a.b", NULL), 0);
    cr_expect_eq(svk_tx_rollback(tx), 0);
    cr_expect_eq(PQtransactionStatus(svk_pg_conn_native(c)), PQTRANS_IDLE);
    /* The native connection is handed over with everything answered. */
    tx = begin_on(c);
    cr_assert_eq(put(tx, NULL, "a.b", NULL), 0);
    PGconn *pg = svk_pg_conn_native(c);
    cr_expect_eq(PQpipelineStatus(pg), PQ_PIPELINE_OFF);
    cr_expect_eq(PQtransactionStatus(pg), PQTRANS_INTRANS);
    cr_assert_eq(svk_tx_commit(tx, NULL), 0);
    /* A ctx already cancelled: nothing is sent. */
    svk_ctx *gone = pgt_ctx(10 * PGT_SEC);
    svk_ctx_cancel(gone);
    tx = begin_on(c);
    cr_expect_eq(put(tx, gone, "a.b", NULL), SVK_ECANCELED);
    cr_assert_eq(svk_tx_commit(tx, NULL), 0, "a put refused before sending leaves it healthy");
    svk_ctx_free(gone);
    svk_pg_release(c);
    cr_expect_eq(count(&e, "SELECT count(*) FROM svk_outbox"), 1);
    teardown(&e);
}

Test(outbox_put, a_deadline_on_the_carrier_cancels_the_whole_pipeline)
{
    env e;
    setup(&e, "ob_cancel");
    svk_pg_conn *c = acquire(&e);
    svk_tx *tx = begin_on(c);
    cr_assert_eq(put(tx, NULL, "a.b", NULL), 0);
    svk_ctx *ctx = pgt_ctx(200 * PGT_MS);
    int64_t t0 = svk_clock_mono_ns();
    /* The put rides with a statement that outlives its deadline. */
    cr_expect_eq(svk_tx_exec(tx, ctx, "SELECT pg_sleep(5)", 0, NULL, NULL, NULL, NULL),
                 SVK_ETIMEDOUT, "%s", svk_pg_conn_last_error(c));
    cr_expect_lt(svk_clock_mono_ns() - t0, 2 * PGT_SEC, "cancelled on the server, not waited out");
    svk_ctx_free(ctx);
    cr_expect_eq(svk_tx_error(tx), SVK_ETIMEDOUT);
    cr_expect_eq(svk_tx_commit(tx, NULL), SVK_ETIMEDOUT, "the failed transaction rolls back");
    /* The connection is clean and out of pipeline mode: the next one works. */
    cr_expect_eq(PQpipelineStatus(svk_pg_conn_native(c)), PQ_PIPELINE_OFF);
    cr_assert_eq(put_and_commit(c), 0, "%s", svk_pg_conn_last_error(c));
    svk_pg_release(c);
    cr_expect_eq(count(&e, "SELECT count(*) FROM svk_outbox"), 1, "only the second put");
    teardown(&e);
}

Test(outbox_put, status_counts_the_backlog)
{
    env e;
    setup(&e, "ob_status");
    svk_outbox_status st = SVK_OUTBOX_STATUS_INIT;
    svk_error err;
    cr_assert_eq(svk_outbox_status_read(e.pool, NULL, &st, &err), 0, "%s", err.message);
    cr_expect_eq(st.depth, 0);
    cr_expect_eq(st.oldest_age_ns, 0);
    svk_tx *tx = begin(&e);
    for (int i = 0; i < 5; i++)
        cr_assert_eq(put(tx, NULL, "a.b", NULL), 0);
    cr_assert_eq(svk_tx_commit(tx, NULL), 0);
    usleep(20000);
    cr_assert_eq(svk_outbox_status_read(e.pool, NULL, &st, &err), 0, "%s", err.message);
    cr_expect_eq(st.depth, 5);
    cr_expect_geq(st.oldest_age_ns, 20 * PGT_MS);
    cr_expect_lt(st.oldest_age_ns, 10 * PGT_SEC);
    cr_expect_eq(st.partitions, 0);
    svk_outbox_status small = {.size = sizeof(size_t) + sizeof(int64_t), .oldest_age_ns = -7};
    cr_assert_eq(svk_outbox_status_read(e.pool, NULL, &small, NULL), 0);
    cr_expect_eq(small.depth, 5);
    cr_expect_eq(small.oldest_age_ns, -7, "only size bytes are written");
    svk_outbox_status bad = {.size = 0};
    cr_expect_eq(svk_outbox_status_read(e.pool, NULL, &bad, NULL), SVK_EINVAL);
    teardown(&e);
}
