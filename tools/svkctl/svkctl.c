/*
 * svkctl.c — the admin CLI's entry point: find the command, run it.
 *
 *   svkctl migrate [--dsn DSN] [--timeout DURATION]
 *   svkctl outbox status [--dsn DSN] [--timeout DURATION]
 *   svkctl version
 *
 * Later issues add commands (outbox status, dlq list/show/replay/purge) as
 * one file each plus a row in the table below.
 */
#include <stdio.h>
#include <string.h>

#include "svkctl.h"

static const struct {
    const char *name;
    svkctl_command_fn run;
    const char *summary;
} commands[] = {
    {"migrate", svkctl_migrate, "apply libsvckit's schema migrations to a database"},
    {"outbox", svkctl_outbox, "outbox status: events waiting, oldest age, partition leases"},
    {"version", svkctl_version, "print the versions of svkctl, the library and its schema"},
};

#define COMMAND_COUNT (sizeof commands / sizeof commands[0])

static void usage(FILE *out)
{
    fprintf(out, "usage: " SVKCTL_NAME " COMMAND [ARGS]\n\ncommands:\n");
    for (size_t i = 0; i < COMMAND_COUNT; i++)
        fprintf(out, "  %-10s %s\n", commands[i].name, commands[i].summary);
    fprintf(out, "\n" SVKCTL_NAME " COMMAND --help describes a command. Exit status: 0 done,"
                 " 1 failed, 2 bad command line.\n");
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return SVKCTL_USAGE;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
        strcmp(argv[1], "help") == 0) {
        usage(stdout);
        return SVKCTL_OK;
    }
    for (size_t i = 0; i < COMMAND_COUNT; i++)
        if (strcmp(argv[1], commands[i].name) == 0)
            return commands[i].run(argc - 1, argv + 1);
    fprintf(stderr, SVKCTL_NAME ": unknown command '%s'\n", argv[1]);
    usage(stderr);
    return SVKCTL_USAGE;
}
