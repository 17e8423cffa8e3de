/*
 * sqlstate.c — SQLSTATE to SVK_E*, and the code for a failed result.
 *
 * Only the states a caller acts on differently get their own code: a
 * conflict to report, a transaction to retry, a connection to replace, a
 * deadline that passed. Everything else the server reports is SVK_EDB, with
 * the SQLSTATE itself kept on the connection for whoever needs more.
 */
#include "pg/conn.h"
#include "pg/pool.h"

#include <string.h>

typedef struct mapping {
    const char *state; /* five characters, or a two-character class */
    int code;
} mapping;

/* Exact states first; the class table catches the rest of a class. */
static const mapping exact[] = {
    {"23505", SVK_ECONFLICT},  /* unique_violation */
    {"23P01", SVK_ECONFLICT},  /* exclusion_violation */
    {"40001", SVK_ESERIALIZE}, /* serialization_failure */
    {"40P01", SVK_EDEADLOCK},  /* deadlock_detected */
    {"57014", SVK_ECANCELED},  /* query_canceled: refined by the caller */
    {"57P01", SVK_EUNAVAIL},   /* admin_shutdown (also pg_terminate_backend) */
    {"57P02", SVK_EUNAVAIL},   /* crash_shutdown */
    {"57P03", SVK_EUNAVAIL},   /* cannot_connect_now (starting up) */
    {"57P04", SVK_EUNAVAIL},   /* database_dropped */
    {"57P05", SVK_EUNAVAIL},   /* idle_session_timeout: the session is gone */
    {"25P03", SVK_ETIMEDOUT},  /* idle_in_transaction_session_timeout */
    {"25P02", SVK_ESTATE},     /* in_failed_sql_transaction */
    {"55P03", SVK_EAGAIN},     /* lock_not_available: NOWAIT, lock_timeout */
};

static const mapping classes[] = {
    {"08", SVK_EUNAVAIL}, /* connection exception */
    {"53", SVK_EBUSY},    /* insufficient resources */
};

static int well_formed(const char *s)
{
    if (s == NULL || strlen(s) != 5)
        return 0;
    for (int i = 0; i < 5; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'A' && s[i] <= 'Z')))
            return 0;
    return 1;
}

SVK_API int svk_pg_sqlstate_code(const char *sqlstate)
{
    if (!well_formed(sqlstate))
        return SVK_EDB;
    for (size_t i = 0; i < sizeof exact / sizeof exact[0]; i++)
        if (memcmp(sqlstate, exact[i].state, 5) == 0)
            return exact[i].code;
    for (size_t i = 0; i < sizeof classes / sizeof classes[0]; i++)
        if (memcmp(sqlstate, classes[i].state, 2) == 0)
            return classes[i].code;
    return SVK_EDB;
}

/*
 * 57014 says only "cancelled". When we sent the cancel we know why; when we
 * did not, the server's statement_timeout is the usual cause, told apart
 * from an operator's pg_cancel_backend by how long the statement ran (the
 * message text is translated, so it cannot be matched).
 */
static int query_canceled_code(const svk_pg_conn *c, int cancel_reason, int64_t elapsed_ns)
{
    if (cancel_reason != 0)
        return cancel_reason;
    int64_t limit = c->pool->statement_timeout_ns;
    if (limit > 0 && elapsed_ns >= limit - limit / 100)
        return SVK_ETIMEDOUT;
    return SVK_ECANCELED;
}

int svk__pg_result_code(const svk_pg_conn *c, const PGresult *res, int cancel_reason,
                        int64_t elapsed_ns)
{
    const char *state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
    if (state == NULL || state[0] == '\0') {
        /* libpq's own error: a lost connection unless the socket is fine. */
        return PQstatus(c->pg) == CONNECTION_BAD ? SVK_EUNAVAIL : SVK_EPROTO;
    }
    if (strcmp(state, "57014") == 0)
        return query_canceled_code(c, cancel_reason, elapsed_ns);
    return svk_pg_sqlstate_code(state);
}
