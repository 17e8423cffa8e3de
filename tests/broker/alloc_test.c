/*
 * alloc_test.c — the broker's allocations all go through the library's
 * hooks, and failing each one in turn (jansson's test_chaos) gives
 * SVK_ENOMEM, never a crash, a leak or a wrong success: first for
 * svk_pgqueue_new alone, then for a whole life against the database
 * (subscribe, publish, fetch, ack, free), including the pool's own blocks.
 *
 * The chaos allocator (tests/support/chaos_alloc.h) is installed before
 * anything is allocated and stays for the whole test, as svk_set_allocator
 * requires; fail_at -1 means "fail nothing". Re-installing the same hooks
 * to fail another allocation is allowed: earlier blocks are freed by the
 * same functions.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>

#include "pg_env.h"
#include "support/chaos_alloc.h"
#include "svckit/pgqueue.h"

static void arm_never(void)
{
    install_chaos(-1);
}

TestSuite(broker_alloc, .init = arm_never, .fini = uninstall_chaos, .timeout = 240);

Test(broker_alloc, pgqueue_new)
{
    svk_pg_pool *pool = pgt_pool("host=/nonexistent dbname=x", 1);
    long n = 0;
    for (;; n++) {
        install_chaos(n);
        svk_pgqueue_options o = SVK_PGQUEUE_OPTIONS_INIT;
        o.pool = pool;
        svk_broker *b = NULL;
        svk_error err;
        int rc = svk_pgqueue_new(&b, &o, &err);
        svk_broker_free(b);
        if (rc == 0)
            break;
        cr_expect_eq(rc, SVK_ENOMEM, "allocation %ld: %s", n, svk_errname(rc));
        cr_expect_null(b);
        cr_expect_eq(chaos.live, 0, "allocation %ld: %ld blocks leaked", n, chaos.live);
    }
    cr_expect_eq(chaos.live, 0);
    cr_expect_geq(n, 1, "svk_pgqueue_new allocates");
    install_chaos(-1);
    svk_pg_pool_free(pool);
}

static int first(int rc, int next)
{
    return rc != 0 ? rc : next;
}

/* Fetch what was published and settle it; 0 or the first error. */
static int drain(svk_subscription *s)
{
    svk_delivery *d[8];
    size_t n = 0;
    int rc = svk_subscription_fetch(s, NULL, 8, 0, d, &n);
    for (size_t i = 0; i < n; i++) {
        rc = first(rc, svk_delivery_ack(d[i], NULL));
        svk_delivery_free(d[i]);
    }
    return rc;
}

/* A whole life on a fresh group and topic; returns the first error. */
static int lifetime(const char *dsn, long round)
{
    char group[32], topic[32];
    snprintf(group, sizeof group, "g%ld", round);
    snprintf(topic, sizeof topic, "t.%ld", round);
    svk_pg_pool *pool = NULL;
    svk_pg_options po = SVK_PG_OPTIONS_INIT;
    po.conninfo = dsn;
    int rc = svk_pg_pool_new(&pool, &po, NULL);
    svk_broker *b = NULL;
    svk_pgqueue_options o = SVK_PGQUEUE_OPTIONS_INIT;
    o.pool = pool;
    rc = first(rc, rc == 0 ? svk_pgqueue_new(&b, &o, NULL) : 0);
    svk_subscription *s = NULL;
    const char *topics[] = {topic};
    rc = first(rc, b ? svk_broker_subscribe(b, NULL, group, topics, 1, NULL, &s) : 0);
    svk_header h[] = {{"traceparent", "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"}};
    svk_message m[3];
    for (int i = 0; i < 3; i++) {
        m[i] = (svk_message)SVK_MESSAGE_INIT;
        svk_uuid_v7(&m[i].id);
        m[i].topic = topic;
        m[i].headers = h;
        m[i].header_count = 1;
        m[i].payload = "payload";
        m[i].payload_len = 7;
    }
    rc = first(rc, s ? svk_broker_publish(b, NULL, m, 3) : 0);
    rc = first(rc, s ? drain(s) : 0);
    svk_subscription_free(s);
    svk_broker_free(b);
    svk_pg_pool_free(pool);
    return rc;
}

Test(broker_alloc, subscribe_publish_fetch_ack)
{
    char schema[64], dsn[1024];
    pgt_fresh_schema("alloc", schema, dsn, sizeof dsn);
    svk_pg_pool *pool = pgt_pool(dsn, 1);
    cr_assert_eq(svk_pg_migrate(pool, NULL, NULL, NULL), 0);
    svk_pg_pool_free(pool);
    long n = 0;
    int rc;
    while (install_chaos(n), (rc = lifetime(dsn, n)) != 0) {
        cr_expect_eq(rc, SVK_ENOMEM, "allocation %ld failed as %s", n, svk_errname(rc));
        cr_expect_eq(chaos.live, 0, "allocation %ld: %ld blocks leaked", n, chaos.live);
        cr_assert_lt(++n, 500);
    }
    cr_expect_eq(chaos.live, 0);
    fprintf(stderr, "broker_alloc: a lifetime makes %ld allocations, each failed once\n", n);
    install_chaos(-1);
}
