/*
 * result.c — the accessors of svk_pg_result.
 *
 * An svk_pg_result * is libpq's PGresult * under an opaque name: no wrapper
 * is allocated per query, and the escape hatch is a cast. Unlike libpq's
 * accessors these check their indexes, so a wrong row number gives NULL or
 * 0 instead of reading out of bounds.
 */
#include "svckit/pg.h"

#include <libpq-fe.h>
#include <stdlib.h>

static const PGresult *pq(const svk_pg_result *res)
{
    return (const PGresult *)res;
}

static int in_range(const svk_pg_result *res, int row, int col)
{
    return res != NULL && row >= 0 && col >= 0 && row < PQntuples(pq(res)) &&
           col < PQnfields(pq(res));
}

SVK_API int svk_pg_result_rows(const svk_pg_result *res)
{
    return res ? PQntuples(pq(res)) : 0;
}

SVK_API int svk_pg_result_cols(const svk_pg_result *res)
{
    return res ? PQnfields(pq(res)) : 0;
}

SVK_API const char *svk_pg_result_value(const svk_pg_result *res, int row, int col)
{
    return in_range(res, row, col) ? PQgetvalue(pq(res), row, col) : NULL;
}

SVK_API int svk_pg_result_length(const svk_pg_result *res, int row, int col)
{
    return in_range(res, row, col) ? PQgetlength(pq(res), row, col) : 0;
}

SVK_API int svk_pg_result_isnull(const svk_pg_result *res, int row, int col)
{
    return in_range(res, row, col) ? PQgetisnull(pq(res), row, col) : 1;
}

SVK_API const char *svk_pg_result_colname(const svk_pg_result *res, int col)
{
    if (res == NULL || col < 0 || col >= PQnfields(pq(res)))
        return NULL;
    return PQfname(pq(res), col);
}

SVK_API int64_t svk_pg_result_affected(const svk_pg_result *res)
{
    if (res == NULL)
        return -1;
    /* PQcmdTuples takes a non-const pointer but does not modify the result. */
    const char *tag = PQcmdTuples((PGresult *)pq(res));
    if (tag[0] == '\0')
        return -1;
    return strtoll(tag, NULL, 10);
}

SVK_API struct pg_result *svk_pg_result_native(svk_pg_result *res)
{
    return (PGresult *)res;
}

SVK_API void svk_pg_result_free(svk_pg_result *res)
{
    PQclear((PGresult *)res);
}
