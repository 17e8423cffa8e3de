/*
 * conninfo.c — turn the caller's conninfo into the keyword/value arrays
 * each pooled connection is opened with.
 *
 * The string is parsed once (PQconninfoParse, URL or key=value), and the
 * pool's session settings are merged in: statement_timeout and
 * idle_in_transaction_session_timeout are appended to the caller's own
 * "options" as -c switches (so a search_path given there survives, and
 * ours win over a conflicting -c there), application_name and
 * client_encoding are added when the caller did not choose them. Setting
 * them at connect costs no round trip and cannot be undone by a RESET ALL.
 */
#include "pg/conninfo.h"
#include "core/error_detail.h"

#include <inttypes.h>
#include <libpq-fe.h>
#include <stdio.h>
#include <string.h>

#define MS_NS INT64_C(1000000)
#define MAX_EXTRA 4 /* options, application_name, fallback name, client_encoding */

typedef struct pair {
    const char *keyword;
    const char *value;
} pair;

/* A timeout as the server wants it: whole milliseconds, "0" meaning off. */
static int64_t to_ms(int64_t ns)
{
    if (ns <= 0)
        return 0;
    return (ns + MS_NS - 1) / MS_NS;
}

static const char *find_value(const PQconninfoOption *opts, const char *keyword)
{
    for (const PQconninfoOption *o = opts; o->keyword != NULL; o++)
        if (o->val != NULL && o->val[0] != '\0' && strcmp(o->keyword, keyword) == 0)
            return o->val;
    return NULL;
}

static void format_options(char *out, size_t size, const char *theirs,
                           const svk__pg_session *s)
{
    snprintf(out, size, "%s%s-c statement_timeout=%" PRId64
             " -c idle_in_transaction_session_timeout=%" PRId64,
             theirs ? theirs : "", theirs ? " " : "", to_ms(s->statement_timeout_ns),
             to_ms(s->idle_in_tx_timeout_ns));
}

/* Collect the pairs to pass: the caller's, minus what we replace, plus ours. */
static size_t collect_pairs(pair *pairs, const PQconninfoOption *opts, const char *options,
                            const svk__pg_session *s)
{
    size_t n = 0;
    for (const PQconninfoOption *o = opts; o->keyword != NULL; o++) {
        if (o->val == NULL || o->val[0] == '\0' || strcmp(o->keyword, "options") == 0)
            continue;
        if (s->application_name && strcmp(o->keyword, "application_name") == 0)
            continue;
        pairs[n++] = (pair){o->keyword, o->val};
    }
    pairs[n++] = (pair){"options", options};
    if (s->application_name)
        pairs[n++] = (pair){"application_name", s->application_name};
    else
        pairs[n++] = (pair){"fallback_application_name", "svckit"};
    if (find_value(opts, "client_encoding") == NULL)
        pairs[n++] = (pair){"client_encoding", "UTF8"};
    return n;
}

static size_t count_options(const PQconninfoOption *opts)
{
    size_t n = 0;
    while (opts[n].keyword != NULL)
        n++;
    return n;
}

/* Copy the pairs into one block: arrays first, then the strings. */
static int store_pairs(svk__pg_conninfo *ci, const pair *pairs, size_t n)
{
    size_t text = 0;
    for (size_t i = 0; i < n; i++)
        text += strlen(pairs[i].keyword) + strlen(pairs[i].value) + 2;
    const char **keywords = svk_malloc((n + 1) * sizeof *keywords);
    const char **values = svk_malloc((n + 1) * sizeof *values);
    char *storage = svk_malloc(text);
    if (keywords == NULL || values == NULL || storage == NULL) {
        svk_free(keywords);
        svk_free(values);
        svk_free(storage);
        return SVK_ENOMEM;
    }
    char *p = storage;
    for (size_t i = 0; i < n; i++) {
        size_t kl = strlen(pairs[i].keyword) + 1, vl = strlen(pairs[i].value) + 1;
        keywords[i] = memcpy(p, pairs[i].keyword, kl);
        values[i] = memcpy(p + kl, pairs[i].value, vl);
        p += kl + vl;
    }
    keywords[n] = values[n] = NULL;
    *ci = (svk__pg_conninfo){keywords, values, storage, text};
    return 0;
}

static int parse_failure(char *errmsg, svk_error *err)
{
    if (errmsg == NULL)
        return svk__error_set(err, SVK_ENOMEM, "out of memory parsing conninfo");
    PQfreemem(errmsg); /* it may quote the string, password and all */
    return svk__error_set(err, SVK_EINVAL,
                          "conninfo is neither a libpq key=value string nor a "
                          "postgres:// URL, or names an unknown parameter");
}

int svk__pg_conninfo_build(svk__pg_conninfo *ci, const char *conninfo,
                           const svk__pg_session *session, svk_error *err)
{
    char *errmsg = NULL;
    PQconninfoOption *opts = PQconninfoParse(conninfo, &errmsg);
    if (opts == NULL)
        return parse_failure(errmsg, err);
    const char *theirs = find_value(opts, "options");
    size_t options_size = (theirs ? strlen(theirs) : 0) + 128;
    char *options = svk_malloc(options_size);
    pair *pairs = svk_malloc((count_options(opts) + MAX_EXTRA) * sizeof *pairs);
    int rc = SVK_ENOMEM;
    if (options != NULL && pairs != NULL) {
        format_options(options, options_size, theirs, session);
        rc = store_pairs(ci, pairs, collect_pairs(pairs, opts, options, session));
    }
    svk_free(options);
    svk_free(pairs);
    PQconninfoFree(opts);
    if (rc != 0)
        return svk__error_set(err, rc, "out of memory building the connection parameters");
    return 0;
}

void svk__pg_conninfo_free(svk__pg_conninfo *ci)
{
    if (ci->storage != NULL)
        explicit_bzero(ci->storage, ci->storage_len);
    svk_free(ci->storage);
    svk_free(ci->keywords);
    svk_free(ci->values);
    *ci = (svk__pg_conninfo){NULL, NULL, NULL, 0};
}
