/*
 * conninfo.h — internal: the keyword/value arrays every pooled connection
 * is opened with (the caller's conninfo plus the pool's session settings).
 */
#ifndef SVK_PG_CONNINFO_H
#define SVK_PG_CONNINFO_H

#include "svckit/pg.h"

/* Session settings merged into the connection's "options" (-c name=value). */
typedef struct svk__pg_session {
    int64_t statement_timeout_ns;  /* <= 0: off */
    int64_t idle_in_tx_timeout_ns; /* <= 0: off */
    const char *application_name;  /* NULL: conninfo's, else "svckit" */
} svk__pg_session;

/*
 * Immutable once built, so connecting threads read it without a lock.
 * keywords and values are NULL-terminated, ready for PQconnectStartParams
 * with expand_dbname 0; every string lives in one block (storage) that is
 * wiped when freed, because it may hold a password.
 */
typedef struct svk__pg_conninfo {
    const char **keywords;
    const char **values;
    char *storage;
    size_t storage_len;
} svk__pg_conninfo;

/*
 * Parse conninfo (URL or key=value) and build ci. 0, SVK_EINVAL (malformed;
 * the message never quotes conninfo, which may hold a password) or
 * SVK_ENOMEM, with err set. ci is untouched on failure.
 */
int svk__pg_conninfo_build(svk__pg_conninfo *ci, const char *conninfo,
                           const svk__pg_session *session, svk_error *err);

/* Wipe and free what svk__pg_conninfo_build made. NULL members are fine. */
void svk__pg_conninfo_free(svk__pg_conninfo *ci);

#endif
