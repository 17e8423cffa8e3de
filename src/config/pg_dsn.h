/*
 * pg_dsn.h — internal: syntax check of libpq's keyword=value connection strings.
 */
#ifndef SVK_CONFIG_PG_DSN_H
#define SVK_CONFIG_PG_DSN_H

#include "svckit/core.h"

/*
 * Check s (len bytes) as libpq's conninfo_parse would read it: white-space
 * separated keyword=value pairs, at least one. 0 or SVK_EINVAL with err set;
 * the message never quotes s.
 */
int svk__pg_dsn_check(const char *s, size_t len, svk_error *err);

#endif
