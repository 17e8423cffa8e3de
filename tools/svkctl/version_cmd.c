/*
 * version_cmd.c — `svkctl version`: what this svkctl is built from and
 * what it would migrate a database to. Touches no database.
 */
#include <libpq-fe.h>
#include <stdio.h>
#include <string.h>

#include <svckit/pg.h>

#include "svkctl.h"

int svkctl_version(int argc, char **argv)
{
    if (argc > 1) {
        int help = strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0;
        fprintf(help ? stdout : stderr, "usage: " SVKCTL_NAME " version\n");
        return help ? SVKCTL_OK : SVKCTL_USAGE;
    }
    int pq = PQlibVersion();
    printf(SVKCTL_NAME " %s\n", SVK_VERSION_STRING);
    printf("libsvckit %s\n", svk_version());
    printf("schema %d\n", svk_pg_schema_latest());
    printf("libpq %d.%d\n", pq / 10000, pq % 10000);
    return SVKCTL_OK;
}
