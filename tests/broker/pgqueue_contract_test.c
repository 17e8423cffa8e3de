/*
 * pgqueue_contract_test.c — the broker contract suite (contract.c) run
 * against the PostgreSQL queue.
 *
 * The factory gives each test a schema of its own (migrated to the latest
 * version), a pool on it and a notify channel named after it, so tests run
 * in parallel on the harness's one server without waking or seeing each
 * other. The dead broker's pool points at a local TCP port nobody listens
 * on: the harness's server stays up for the tests running beside it.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "contract.h"
#include "pg_env.h"
#include "svckit/pgqueue.h"

static void open_on(contract_env *env, const char *conninfo, const char *channel)
{
    svk_pg_pool *pool = pgt_pool(conninfo, 8);
    svk_pgqueue_options o = SVK_PGQUEUE_OPTIONS_INIT;
    o.pool = pool;
    o.notify_channel = channel;
    svk_error err;
    cr_assert_eq(svk_pgqueue_new(&env->broker, &o, &err), 0, "%s", err.message);
    env->state = pool;
}

static void open_pgqueue(contract_env *env)
{
    char schema[64], dsn[1024];
    pgt_fresh_schema("brk", schema, dsn, sizeof dsn);
    open_on(env, dsn, schema);
    svk_error err;
    cr_assert_eq(svk_pg_migrate(env->state, NULL, NULL, &err), 0, "%s", err.message);
    snprintf(env->prefix, sizeof env->prefix, "c%d", (int)getpid());
}

/* A loopback port with nothing listening: bound once, then closed. */
static int closed_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof a;
    cr_assert(fd >= 0 && bind(fd, (struct sockaddr *)&a, sizeof a) == 0 &&
              getsockname(fd, (struct sockaddr *)&a, &len) == 0);
    close(fd);
    return ntohs(a.sin_port);
}

static void open_dead_pgqueue(contract_env *env)
{
    char dsn[256];
    snprintf(dsn, sizeof dsn, "host=127.0.0.1 port=%d dbname=svk_test user=svk", closed_port());
    open_on(env, dsn, NULL);
    snprintf(env->prefix, sizeof env->prefix, "dead%d", (int)getpid());
}

static void close_pgqueue(contract_env *env)
{
    svk_broker_free(env->broker);
    svk_pg_pool_free(env->state);
    env->broker = NULL;
    env->state = NULL;
}

static const contract_factory pgqueue_factory = {
    "pgqueue", open_pgqueue, open_dead_pgqueue, close_pgqueue,
};

SVK_CONTRACT_TESTS(pgqueue_contract, pgqueue_factory)
