/*
 * alloc_test.c — the writer's memory: svk_outbox_put allocates nothing
 * through the library's hooks, and svk_outbox_put_batch, failing each of
 * its allocations in turn (tests/support/chaos_alloc.h), returns
 * SVK_ENOMEM, leaks nothing and leaves the transaction usable.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "pg_env.h"
#include "support/chaos_alloc.h"
#include "svckit/outbox.h"

TestSuite(outbox_alloc, .fini = uninstall_chaos, .timeout = 120);

static svk_pg_pool *setup(void)
{
    char schema[64], dsn[1024];
    pgt_fresh_schema("ob_alloc", schema, dsn, sizeof dsn);
    svk_pg_pool *p = pgt_pool(dsn, 2);
    svk_error err;
    cr_assert_eq(svk_pg_migrate(p, NULL, NULL, &err), 0, "%s", err.message);
    return p;
}

Test(outbox_alloc, single_put_allocates_nothing)
{
    svk_pg_pool *p = setup();
    svk_tx *tx = NULL;
    cr_assert_eq(svk_tx_begin(p, NULL, SVK_TX_READ_COMMITTED, &tx), 0);
    const svk_header h[] = {{"a", "1"}, {"b", "2"}};
    install_chaos(-1);
    for (int i = 0; i < 10; i++)
        cr_assert_eq(svk_outbox_put(tx, NULL, "a.b", "k", "x", 1, h, 2, NULL), 0);
    long calls = chaos.calls;
    uninstall_chaos();
    cr_expect_eq(calls, 0, "svk_outbox_put made %ld allocations", calls);
    cr_assert_eq(svk_tx_commit(tx, NULL), 0);
    svk_pg_pool_free(p);
}

Test(outbox_alloc, batch_fails_each_allocation_cleanly)
{
    svk_pg_pool *p = setup();
    enum { N = 200 };
    static svk_outbox_event ev[N];
    const svk_header h[] = {{"a", "1"}};
    for (int i = 0; i < N; i++) {
        ev[i] = (svk_outbox_event)SVK_OUTBOX_EVENT_INIT;
        ev[i].topic = "a.b";
        ev[i].payload = "0123456789abcdef0123456789abcdef";
        ev[i].payload_len = 32;
        ev[i].headers = h;
        ev[i].header_count = 1;
    }
    svk_tx *tx = NULL;
    cr_assert_eq(svk_tx_begin(p, NULL, SVK_TX_READ_COMMITTED, &tx), 0);
    long n = 0;
    int rc;
    for (;; n++) {
        install_chaos(n);
        rc = svk_outbox_put_batch(tx, NULL, ev, N);
        long live = chaos.live;
        uninstall_chaos();
        cr_assert_eq(live, 0, "allocation %ld: %ld blocks leaked", n, live);
        if (rc == 0)
            break;
        cr_assert_eq(rc, SVK_ENOMEM, "allocation %ld: %s", n, svk_errname(rc));
        cr_assert_eq(svk_tx_error(tx), 0, "an allocation failure sends nothing");
    }
    cr_expect_gt(n, 0, "the batch allocates");
    cr_assert_eq(svk_tx_commit(tx, NULL), 0);
    svk_pg_pool_free(p);
}
