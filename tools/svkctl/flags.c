/*
 * flags.c — the flags every database command of svkctl takes: where the
 * database is (--dsn, else $DATABASE_URL, as 12-factor services read it)
 * and how long the whole command may take (--timeout).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "svkctl.h"

#define SEC INT64_C(1000000000)
#define DEFAULT_TIMEOUT (60 * SEC)

/* "250ms", "30s", "2m", "1h": a count and one unit, as an operator types it. */
static int parse_duration(const char *s, int64_t *ns)
{
    static const struct {
        const char *unit;
        int64_t ns;
    } units[] = {{"ms", SEC / 1000}, {"s", SEC}, {"m", 60 * SEC}, {"h", 3600 * SEC}};
    char *end = NULL;
    long long n = strtoll(s, &end, 10);
    if (end == s || n <= 0 || s[0] == '+' || s[0] == '-')
        return -1;
    for (size_t i = 0; i < sizeof units / sizeof units[0]; i++) {
        if (strcmp(end, units[i].unit) == 0) {
            if (n > INT64_MAX / units[i].ns)
                return -1;
            *ns = n * units[i].ns;
            return 0;
        }
    }
    return -1;
}

/* The value of --name VALUE or --name=VALUE at argv[*i], or NULL. */
static const char *flag_value(int argc, char **argv, int *i, const char *name, int *missing)
{
    size_t n = strlen(name);
    if (strncmp(argv[*i], name, n) != 0)
        return NULL;
    if (argv[*i][n] == '=')
        return argv[*i] + n + 1;
    if (argv[*i][n] != '\0')
        return NULL;
    if (*i + 1 >= argc) {
        *missing = 1;
        return NULL;
    }
    return argv[++*i];
}

static int usage_error(const char *usage, const char *message)
{
    fprintf(stderr, SVKCTL_NAME ": %s\nusage: %s\n", message, usage);
    return SVKCTL_USAGE;
}

static void print_help(const char *usage)
{
    printf("usage: %s\n\n"
           "  --dsn DSN           the database: a postgres:// URL or libpq key=value string;\n"
           "                      default $DATABASE_URL\n"
           "  --timeout DURATION  give up after this long (e.g. 30s, 2m); default 60s\n",
           usage);
}

int svkctl_parse_db_flags(int argc, char **argv, const char *usage, svkctl_db_flags *out,
                          int *help_shown)
{
    *help_shown = 0;
    out->dsn = getenv("DATABASE_URL");
    out->timeout_ns = DEFAULT_TIMEOUT;
    char why[256];
    for (int i = 1; i < argc; i++) {
        int missing = 0;
        const char *v;
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            print_help(usage);
            *help_shown = 1;
            return SVKCTL_USAGE;
        } else if ((v = flag_value(argc, argv, &i, "--dsn", &missing)) != NULL) {
            out->dsn = v;
        } else if ((v = flag_value(argc, argv, &i, "--timeout", &missing)) != NULL) {
            if (parse_duration(v, &out->timeout_ns) == 0)
                continue;
            snprintf(why, sizeof why, "--timeout: '%.64s' is not a duration like 30s", v);
            return usage_error(usage, why);
        } else {
            /* Never echo what might be a DSN: only flag names are quoted. */
            snprintf(why, sizeof why, missing ? "%.64s needs a value" : "unknown argument '%.64s'",
                     argv[i][0] == '-' ? argv[i] : "(not a flag)");
            return usage_error(usage, why);
        }
    }
    if (out->dsn == NULL || out->dsn[0] == '\0')
        return usage_error(usage, "no database: pass --dsn or set DATABASE_URL");
    return SVKCTL_OK;
}
