/*
 * migrations.h — internal: the schema migrations the library ships.
 *
 * Each migration is a list of statements, run one by one (the extended
 * protocol takes one statement per call) inside migrate.c's transaction.
 * Statements are written to be idempotent (IF NOT EXISTS), so a database
 * whose tables were created by hand, or by a run that recorded nothing,
 * migrates cleanly. A published migration never changes: fix forward with
 * a new number. One file per migration, named after its number and content.
 */
#ifndef SVK_PG_MIGRATIONS_H
#define SVK_PG_MIGRATIONS_H

typedef struct svk__pg_migration {
    int version;
    const char *description;
    const char *const *statements; /* NULL-terminated */
} svk__pg_migration;

extern const svk__pg_migration svk__pg_migration_0001;
extern const svk__pg_migration svk__pg_migration_0002;
extern const svk__pg_migration svk__pg_migration_0003;

#endif
