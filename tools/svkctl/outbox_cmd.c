/*
 * outbox_cmd.c — `svkctl outbox status`: the outbox backlog and the ordered
 * partitions' leases, straight from the database, whether any relay runs
 * or not (svk_outbox_status_read, svk_relay_leases).
 *
 *   orders@db:5432/orders: outbox 1520 events waiting, oldest 2.4s
 *   ordered: 2 topics, 310 events waiting; 16 partitions, 16 held, 2 relays
 *   partition  holder                          token  expires  waiting
 *           0  relay:web-1:4242:9f0c1a2b           3     8.1s        0
 */
#include <stdio.h>
#include <string.h>

#include <svckit/outbox.h>
#include <svckit/relay.h>

#include "svkctl.h"

#define USAGE SVKCTL_NAME " outbox status [--dsn DSN] [--timeout DURATION]"
#define SEC 1e9

/* "250ms", "2.4s", "3m12s", "expired": short, as an operator reads them. */
static void format_duration(int64_t ns, char *out, size_t size)
{
    if (ns < 0)
        snprintf(out, size, "expired");
    else if (ns < 1000000000)
        snprintf(out, size, "%lldms", (long long)(ns / 1000000));
    else if (ns < 60 * INT64_C(1000000000))
        snprintf(out, size, "%.1fs", (double)ns / SEC);
    else
        snprintf(out, size, "%lldm%02llds", (long long)(ns / 60000000000),
                 (long long)(ns / 1000000000 % 60));
}

static int print_lease(const svk_relay_lease *l, void *user)
{
    int *rows = user;
    char expires[32];
    if (l->holder == NULL)
        snprintf(expires, sizeof expires, "-");
    else
        format_duration(l->expires_in_ns, expires, sizeof expires);
    if ((*rows)++ == 0)
        printf("%9s  %-40s %6s %8s %8s\n", "partition", "holder", "token", "expires", "waiting");
    printf("%9d  %-40s %6lld %8s %8lld\n", l->partition, l->holder ? l->holder : "(free)",
           (long long)l->token, expires, (long long)l->depth);
    return 0;
}

static int status(svk_pg_pool *pool, svk_ctx *ctx, const char *target)
{
    svk_outbox_status s = SVK_OUTBOX_STATUS_INIT;
    svk_error err;
    int rc = svk_outbox_status_read(pool, ctx, &s, &err);
    if (rc != 0)
        return svkctl_fail("outbox", target, "reading the outbox", rc, err.message);
    char age[32];
    format_duration(s.oldest_age_ns, age, sizeof age);
    printf("%s: outbox %lld events waiting%s%s\n", target, (long long)s.depth,
           s.depth > 0 ? ", oldest " : "", s.depth > 0 ? age : "");
    printf("ordered: %d topics, %lld events waiting; %d partitions, %d held, %d relays\n",
           s.ordered_topics, (long long)s.ordered_depth, s.partitions, s.partitions_held,
           s.relays);
    printf("dead letters: %lld events the broker refused for good (svk_dead_letters, group %s)\n",
           (long long)s.dead_letters, SVK_RELAY_DEAD_LETTER_GROUP);
    int rows = 0;
    rc = svk_relay_leases(pool, ctx, print_lease, &rows, &err);
    return rc == 0 ? SVKCTL_OK : svkctl_fail("outbox", target, "reading the leases", rc, err.message);
}

static int subcommand_usage(const char *sub)
{
    if (sub != NULL && (strcmp(sub, "--help") == 0 || strcmp(sub, "-h") == 0)) {
        printf("usage: %s\n\nstatus: events waiting, the oldest one's age, and the leases of"
               " the ordered partitions\n", USAGE);
        return SVKCTL_OK;
    }
    fprintf(stderr, SVKCTL_NAME " outbox: %s\nusage: %s\n",
            sub ? "unknown subcommand" : "a subcommand is needed", USAGE);
    return SVKCTL_USAGE;
}

int svkctl_outbox(int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[1], "status") != 0)
        return subcommand_usage(argc < 2 ? NULL : argv[1]);
    return svkctl_run_db_command("outbox", argc - 1, argv + 1, USAGE, 0, status);
}
