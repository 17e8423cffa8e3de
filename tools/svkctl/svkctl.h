/*
 * svkctl.h — what svkctl's command files share: the command signature, the
 * exit statuses, flag parsing for database commands, and a description of
 * a connection target that is safe to print.
 */
#ifndef SVKCTL_H
#define SVKCTL_H

#include <stddef.h>
#include <stdint.h>

#define SVKCTL_NAME "svkctl"

/* Exit statuses: success, the operation failed, the command line is wrong. */
enum { SVKCTL_OK = 0, SVKCTL_FAILED = 1, SVKCTL_USAGE = 2 };

/* A command gets its own arguments (argv[0] is the command name). */
typedef int (*svkctl_command_fn)(int argc, char **argv);

int svkctl_migrate(int argc, char **argv);
int svkctl_outbox(int argc, char **argv);
int svkctl_version(int argc, char **argv);

/* The flags every database command takes. */
typedef struct svkctl_db_flags {
    const char *dsn;    /* --dsn, else $DATABASE_URL */
    int64_t timeout_ns; /* --timeout, default 60 s: bounds the whole command */
} svkctl_db_flags;

/*
 * Parse argv[1..] as --dsn DSN / --dsn=DSN / --timeout DURATION (or with =),
 * --help. Returns SVKCTL_OK, or SVKCTL_USAGE after printing why (or the
 * help, with *help_shown set) on stderr. usage is the command's usage line.
 */
int svkctl_parse_db_flags(int argc, char **argv, const char *usage, svkctl_db_flags *out,
                          int *help_shown);

/*
 * "user@host:port/dbname" for a conninfo (URL or key=value), for messages:
 * never the password, and nothing when conninfo does not parse.
 */
void svkctl_describe_target(const char *conninfo, char *out, size_t size);

struct svk_pg_pool;
struct svk_ctx;

/* The body of a database command: runs with an open pool and a ctx bounded
 * by --timeout; target is the printable connection description. */
typedef int (*svkctl_db_body)(struct svk_pg_pool *pool, struct svk_ctx *ctx,
                              const char *target);

/*
 * Parse the database flags, open a one-connection pool (statement_timeout_ns
 * as svk_pg_options takes it; 0: the pool's default), make the ctx, run
 * body, clean up. Returns an SVKCTL_* exit status.
 */
int svkctl_run_db_command(const char *command, int argc, char **argv, const char *usage,
                          int64_t statement_timeout_ns, svkctl_db_body body);

/* Print "svkctl COMMAND: TARGET: DOING: <error>[: DETAIL]"; returns SVKCTL_FAILED. */
int svkctl_fail(const char *command, const char *target, const char *doing, int rc,
                const char *detail);

#endif
