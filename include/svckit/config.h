/*
 * svckit/config.h — a 12-factor configuration loader: typed fields read from
 * the environment, every error collected and reported at once, secrets kept
 * out of every message.
 *
 * A program declares a schema on a new svk_config (one svk_config_add_* call
 * per field: name, default, flags, help), loads it once from the environment,
 * then reads typed values by name:
 *
 *     svk_config *c;
 *     svk_config_new(&c, "ORDERS", NULL);
 *     svk_config_add_int64(c, "PORT", "8080", 1, 65535, 0, "HTTP listen port");
 *     svk_config_add_url(c, "DATABASE_URL", NULL, pg_schemes,
 *                        SVK_CONFIG_REQUIRED | SVK_CONFIG_SECRET, "PostgreSQL");
 *     svk_config_load_or_exit(c);   (exit status 78 and every error on stderr)
 *     svk_config_get_int64(c, "PORT", &port);
 *
 * Life cycle: an svk_config is declared, then loaded exactly once, then read.
 *  - Declaring (svk_config_add_*, svk_config_set_validator) belongs to one
 *    thread. A bad declaration (a default its own parser rejects, a duplicate
 *    name, min > max, ...) is a programmer error: the add call returns it, and
 *    it is also kept ("sticky") so that the next load fails with it too. A
 *    program may therefore declare without checking each call and still never
 *    run with a broken schema.
 *  - Loading reads every field, collects every error (one line per variable,
 *    available from svk_config_errors()) and fails if there was any.
 *  - After a successful load the object is immutable: the getters, the field
 *    iteration, svk_config_dump and svk_config_help are safe concurrently from
 *    any thread, until svk_config_free.
 *
 * Variable names: a field named "PORT" in a config with prefix "ORDERS" is read
 * from ORDERS_PORT (an underscore joins them unless the prefix already ends in
 * one). Names and prefixes use [A-Za-z_][A-Za-z0-9_]*.
 *
 * The _FILE convention: a field flagged SVK_CONFIG_FILE, and every field
 * flagged SVK_CONFIG_SECRET, may instead be given as NAME_FILE=/path; the
 * value is the file's content with all trailing '\n' and '\r' bytes removed
 * (much as the shell's $(< file) does); at most 1 MiB, no NUL byte. Setting
 * both NAME and NAME_FILE is an error. This is how Docker and Kubernetes
 * secrets arrive.
 *
 * Secrets: the value of a field flagged SVK_CONFIG_SECRET never appears in
 * any text this module produces (error lines, svk_error messages, dump, help,
 * warnings, field iteration): "<redacted>" stands in its place. Its buffers
 * are wiped (explicit_bzero) when freed. Only the getters hand it out.
 *
 * Grammars (docs/config.md has examples of each):
 *  - string: any bytes, kept as given (no trimming).
 *  - int64: [+-]?[0-9]+, decimal, within the field's [min, max].
 *  - bool: true false 1 0 yes no on off, ASCII case-insensitive, nothing else.
 *  - duration: exactly Go 1.19's time.ParseDuration; nanoseconds in int64.
 *  - bytes: exactly go-humanize's ParseBytes (see svk_parse_bytes).
 *  - enum: one of the declared choices, ASCII case-insensitive.
 *  - url: scheme://authority/path?query#fragment, scheme on an allow-list;
 *    for postgres also the libpq key=value form (see svk_check_url).
 *  - list: comma-separated items, each trimmed of spaces and tabs; an empty
 *    item ("a,,b", "a,") is an error; no quoting, so items hold no comma.
 *
 * Empty values: a variable set to "" is an error ("set but empty") unless the
 * field allows it (SVK_CONFIG_ALLOW_EMPTY, only for string, url and list
 * fields, where "" means the empty string or the empty list).
 */
#ifndef SVCKIT_CONFIG_H
#define SVCKIT_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "svckit/core.h"

#ifdef __cplusplus
extern "C" {
#endif

/* An opaque configuration: a schema of fields and, once loaded, their values. */
typedef struct svk_config svk_config;

/* Field flags, combined with |. Unknown bits are a declaration error. */
enum svk_config_flag {
    SVK_CONFIG_REQUIRED = 1u << 0,       /* unset is an error; no default allowed */
    SVK_CONFIG_SECRET = 1u << 1,         /* never printed; NAME_FILE accepted */
    SVK_CONFIG_ALLOW_EMPTY = 1u << 2,    /* "" is a value (string, url, list only) */
    SVK_CONFIG_ALLOW_NEGATIVE = 1u << 3, /* durations below zero (duration only) */
    SVK_CONFIG_FILE = 1u << 4            /* accept NAME_FILE (implied by SECRET) */
};

/* The type a field was declared with. Append-only. */
enum svk_config_type {
    SVK_CONFIG_STRING = 1,
    SVK_CONFIG_INT64 = 2,
    SVK_CONFIG_BOOL = 3,
    SVK_CONFIG_DURATION = 4,
    SVK_CONFIG_BYTES = 5,
    SVK_CONFIG_ENUM = 6,
    SVK_CONFIG_URL = 7,
    SVK_CONFIG_LIST = 8
};

/* Where a loaded field's value came from. Append-only. */
enum svk_config_source {
    SVK_CONFIG_SOURCE_UNSET = 0,   /* not set, no default: the getters give zero values */
    SVK_CONFIG_SOURCE_DEFAULT = 1, /* the declared default */
    SVK_CONFIG_SOURCE_ENV = 2,     /* the variable NAME */
    SVK_CONFIG_SOURCE_FILE = 3     /* the file named by NAME_FILE */
};

/* The text printed in place of a secret value. */
#define SVK_CONFIG_REDACTED "<redacted>"

/* The exit status of svk_config_load_or_exit on failure (sysexits.h EX_CONFIG). */
#define SVK_CONFIG_EXIT_STATUS 78

/*
 * svk_config_validator — a custom check run on a field's value after its
 * type's own parser accepted it (never on an unset field).
 *
 * name is the full variable name (with prefix); value is the effective text
 * (len bytes, NUL-terminated). Return 0 to accept; anything else rejects, and
 * the reason written to reason (reason_size bytes, NUL-terminated; may be left
 * empty) becomes the rule in the error line. For a secret, a reason that
 * contains the value is replaced by "rejected by validator".
 * Ownership: every pointer is borrowed for the call only.
 * Threads: called on the thread running svk_config_load.
 */
typedef int (*svk_config_validator)(const char *name, const char *value, size_t len,
                                    char *reason, size_t reason_size, void *user);

/* ---------------------------------------------------------------- lifecycle */

/*
 * svk_config_new — make an empty configuration whose variables carry prefix.
 *
 * prefix may be NULL or "" for none; otherwise "ORDERS" and "ORDERS_" both
 * make ORDERS_PORT out of a field named PORT. With a prefix, load warns about
 * set variables that start with it but match no field (typos).
 * Ownership: *out is new (free it with svk_config_free); prefix is copied;
 *            err is optional.
 * Threads: any thread; the new object belongs to it until loaded.
 * Errors: SVK_EINVAL (out NULL, prefix not [A-Za-z_][A-Za-z0-9_]*),
 *         SVK_ENOMEM. *out is NULL on failure.
 * Since: 0.1.0
 */
SVK_API int svk_config_new(svk_config **out, const char *prefix, svk_error *err);

/*
 * svk_config_free — release a configuration, wiping every secret buffer.
 *
 * Ownership: takes c back; NULL is a no-op. Every pointer the getters
 *            returned becomes invalid.
 * Threads: the owning thread, once no other thread reads c.
 * Errors: none.
 * Since: 0.1.0
 */
SVK_API void svk_config_free(svk_config *c);

/* ------------------------------------------------------------------ fields */

/*
 * svk_config_add_string — declare a text field.
 *
 * name: the variable name without prefix. def: the default (NULL for none),
 * checked by the same rules as an environment value. flags: SVK_CONFIG_*.
 * help: one line for svk_config_help (NULL allowed).
 * Ownership: every string is copied; c borrowed.
 * Threads: the thread owning c, before load.
 * Errors: SVK_EINVAL (bad name, flags, or default; REQUIRED with a default),
 *         SVK_EEXIST (name declared twice), SVK_ESTATE (after load),
 *         SVK_ENOMEM. The first error is also kept and returned by load;
 *         its text is in svk_config_errors(). The field is not added.
 * Since: 0.1.0
 */
SVK_API int svk_config_add_string(svk_config *c, const char *name, const char *def,
                                  unsigned flags, const char *help);

/*
 * svk_config_add_int64 — declare a decimal integer field within [min, max].
 *
 * Ownership: as svk_config_add_string. Threads: the thread owning c, before load.
 * Errors: as svk_config_add_string, plus SVK_EINVAL if min > max or the
 *         default is outside [min, max].
 * Since: 0.1.0
 */
SVK_API int svk_config_add_int64(svk_config *c, const char *name, const char *def,
                                 int64_t min, int64_t max, unsigned flags,
                                 const char *help);

/*
 * svk_config_add_bool — declare a boolean field (true/false/1/0/yes/no/on/off).
 *
 * Ownership: as svk_config_add_string. Threads: the thread owning c, before load.
 * Errors: as svk_config_add_string.
 * Since: 0.1.0
 */
SVK_API int svk_config_add_bool(svk_config *c, const char *name, const char *def,
                                unsigned flags, const char *help);

/*
 * svk_config_add_duration — declare a Go-style duration field, in nanoseconds
 * within [min_ns, max_ns] (INT64_MIN, INT64_MAX for no bound).
 *
 * Negative values are rejected unless flags has SVK_CONFIG_ALLOW_NEGATIVE.
 * Ownership: as svk_config_add_string. Threads: the thread owning c, before load.
 * Errors: as svk_config_add_string, plus SVK_EINVAL if min_ns > max_ns or
 *         the default breaks a bound.
 * Since: 0.1.0
 */
SVK_API int svk_config_add_duration(svk_config *c, const char *name, const char *def,
                                    int64_t min_ns, int64_t max_ns, unsigned flags,
                                    const char *help);

/*
 * svk_config_add_bytes — declare a byte-size field ("512KiB", "10 MB") within
 * [min, max] bytes (0, UINT64_MAX for no bound).
 *
 * Ownership: as svk_config_add_string. Threads: the thread owning c, before load.
 * Errors: as svk_config_add_duration.
 * Since: 0.1.0
 */
SVK_API int svk_config_add_bytes(svk_config *c, const char *name, const char *def,
                                 uint64_t min, uint64_t max, unsigned flags,
                                 const char *help);

/*
 * svk_config_add_enum — declare a field whose value is one of choices.
 *
 * choices is a NULL-terminated array of distinct (ASCII case-insensitively),
 * non-empty strings; values match case-insensitively and the getter returns
 * the choice as declared.
 * Ownership: choices and each string are copied; c borrowed.
 * Threads: the thread owning c, before load.
 * Errors: as svk_config_add_string, plus SVK_EINVAL for an empty or
 *         duplicated choice list.
 * Since: 0.1.0
 */
SVK_API int svk_config_add_enum(svk_config *c, const char *name, const char *def,
                                const char *const *choices, unsigned flags,
                                const char *help);

/*
 * svk_config_add_url — declare a URL field whose scheme is one of schemes.
 *
 * schemes is a NULL-terminated array of lowercase scheme names ("https",
 * "postgres"), or NULL to allow any scheme. When it holds "postgres" or
 * "postgresql", libpq's key=value form ("host=db dbname=orders") is accepted
 * too. See svk_check_url for the grammar.
 * Ownership: schemes and each string are copied; c borrowed.
 * Threads: the thread owning c, before load.
 * Errors: as svk_config_add_string, plus SVK_EINVAL for an empty scheme
 *         list or a malformed scheme name.
 * Since: 0.1.0
 */
SVK_API int svk_config_add_url(svk_config *c, const char *name, const char *def,
                               const char *const *schemes, unsigned flags,
                               const char *help);

/*
 * svk_config_add_list — declare a comma-separated list of strings.
 *
 * Items are trimmed of spaces and tabs; an empty item is an error. With
 * SVK_CONFIG_ALLOW_EMPTY the value "" is the empty list.
 * Ownership: as svk_config_add_string. Threads: the thread owning c, before load.
 * Errors: as svk_config_add_string.
 * Since: 0.1.0
 */
SVK_API int svk_config_add_list(svk_config *c, const char *name, const char *def,
                                unsigned flags, const char *help);

/*
 * svk_config_set_validator — attach a custom check to the declared field name
 * (replacing any earlier one; fn NULL removes it).
 *
 * Ownership: user is borrowed until c is freed; c borrowed.
 * Threads: the thread owning c, before load. fn runs on the loading thread.
 * Errors: SVK_ENOENT (no such field), SVK_ESTATE (after load), SVK_EINVAL
 *         (c or name NULL). Sticky like the add calls.
 * Since: 0.1.0
 */
SVK_API int svk_config_set_validator(svk_config *c, const char *name,
                                     svk_config_validator fn, void *user);

/* ------------------------------------------------------------------ loading */

/*
 * svk_config_load — read every field from the process environment (getenv).
 *
 * Reads all fields, collects every error (one line each in
 * svk_config_errors()) and fails if there was any, or if a declaration
 * failed earlier. err receives a one-line summary naming the bad variables.
 * Warnings (unknown variables with the prefix) never fail the load; they are
 * in svk_config_warnings().
 * Ownership: c borrowed; err optional.
 * Threads: the thread owning c. Reads the environment: no thread may call
 *          setenv/putenv meanwhile.
 * Errors: SVK_EINVAL (c NULL, a bad value, a missing required variable, a
 *         declaration error), SVK_ENOMEM, SVK_ESTATE (already loaded, or a
 *         load already failed). A failed config cannot be loaded again.
 * Since: 0.1.0
 */
SVK_API int svk_config_load(svk_config *c, svk_error *err);

/*
 * svk_config_load_env — as svk_config_load, from an explicit environment.
 *
 * envp is a NULL-terminated array of "NAME=value" strings, like environ
 * (NULL means an empty environment); when a name appears twice the first
 * entry wins, as with getenv. For tests and for embedding.
 * Ownership: envp and its strings borrowed for the call (values are copied).
 * Threads: the thread owning c.
 * Errors: as svk_config_load.
 * Since: 0.1.0
 */
SVK_API int svk_config_load_env(svk_config *c, const char *const *envp, svk_error *err);

/*
 * svk_config_load_or_exit — load from the environment, or die loudly.
 *
 * On success prints any warnings to stderr and returns. On failure writes
 * every error line to stderr (after a "config:" header line), frees c (wiping
 * its secrets) and calls exit(SVK_CONFIG_EXIT_STATUS), i.e. 78, EX_CONFIG.
 * A NULL c (svk_config_new failed) also exits 78.
 * Ownership: c borrowed on success; taken and freed on failure.
 * Threads: the thread owning c; exit() ends the whole process.
 * Errors: none returned: it exits instead.
 * Since: 0.1.0
 */
SVK_API void svk_config_load_or_exit(svk_config *c);

/*
 * svk_config_errors — the error lines of the last failed declaration or load,
 * each "VARIABLE: rule broken (value \"text\")" and "\n"-terminated; secret
 * values print as <redacted>. "" when there is no error.
 * Ownership: borrowed, valid until the next call on c or svk_config_free.
 * Threads: the thread owning c; after a successful load, any thread.
 * Errors: none ("" for NULL c).
 * Since: 0.1.0
 */
SVK_API const char *svk_config_errors(const svk_config *c);

/*
 * svk_config_warnings — the warning lines of the last load ("" for none):
 * set variables that carry the prefix but match no field (name only).
 * Ownership, threads, errors: as svk_config_errors.
 * Since: 0.1.0
 */
SVK_API const char *svk_config_warnings(const svk_config *c);

/* ------------------------------------------------------------------ getters */

/*
 * The getters read one loaded field by its declared name (without prefix).
 * An unset field without default gives the type's zero value ("", 0, false,
 * index SIZE_MAX and text NULL for an enum, an empty list) and returns 0;
 * svk_config_source() tells it apart. Lookup is a linear scan of the fields.
 *
 * svk_config_get_string — the value of a string or url field.
 *
 * Ownership: *out is borrowed, valid until svk_config_free(c). For a secret
 *            this is the secret itself: do not log it.
 * Threads: after a successful load, safe concurrently from any thread.
 * Errors: SVK_EINVAL (NULL argument, or the field is another type),
 *         SVK_ENOENT (no such field), SVK_ESTATE (not loaded). *out is
 *         untouched on failure.
 * Since: 0.1.0
 */
SVK_API int svk_config_get_string(const svk_config *c, const char *name, const char **out);

/*
 * svk_config_get_int64 — the value of an int64 field.
 * Ownership: out borrowed. Threads, errors: as svk_config_get_string.
 * Since: 0.1.0
 */
SVK_API int svk_config_get_int64(const svk_config *c, const char *name, int64_t *out);

/*
 * svk_config_get_bool — the value of a bool field.
 * Ownership: out borrowed. Threads, errors: as svk_config_get_string.
 * Since: 0.1.0
 */
SVK_API int svk_config_get_bool(const svk_config *c, const char *name, bool *out);

/*
 * svk_config_get_duration — the value of a duration field, in nanoseconds.
 * Ownership: out borrowed. Threads, errors: as svk_config_get_string.
 * Since: 0.1.0
 */
SVK_API int svk_config_get_duration(const svk_config *c, const char *name, int64_t *ns);

/*
 * svk_config_get_bytes — the value of a byte-size field, in bytes.
 * Ownership: out borrowed. Threads, errors: as svk_config_get_string.
 * Since: 0.1.0
 */
SVK_API int svk_config_get_bytes(const svk_config *c, const char *name, uint64_t *out);

/*
 * svk_config_get_enum — the value of an enum field: its index in the declared
 * choices and the choice text as declared. Either out-pointer may be NULL.
 * Ownership: *text borrowed until svk_config_free(c).
 * Threads, errors: as svk_config_get_string.
 * Since: 0.1.0
 */
SVK_API int svk_config_get_enum(const svk_config *c, const char *name, size_t *index,
                                const char **text);

/*
 * svk_config_get_list_count — the number of items of a list field.
 * Ownership: count borrowed. Threads, errors: as svk_config_get_string.
 * Since: 0.1.0
 */
SVK_API int svk_config_get_list_count(const svk_config *c, const char *name, size_t *count);

/*
 * svk_config_get_list_item — item i (from 0) of a list field, trimmed.
 * Ownership: *item borrowed until svk_config_free(c).
 * Threads: as svk_config_get_string.
 * Errors: as svk_config_get_string, plus SVK_ERANGE when i >= the count.
 * Since: 0.1.0
 */
SVK_API int svk_config_get_list_item(const svk_config *c, const char *name, size_t i,
                                     const char **item);

/*
 * svk_config_source — where the loaded field name got its value
 * (SVK_CONFIG_SOURCE_*), or a negative SVK_E* code.
 * Threads: as svk_config_get_string.
 * Errors: SVK_EINVAL (NULL argument), SVK_ENOENT, SVK_ESTATE (not loaded).
 * Since: 0.1.0
 */
SVK_API int svk_config_source(const svk_config *c, const char *name);

/*
 * svk_config_is_secret — whether name is a secret field of c. name matches
 * the declared name or the full variable name, ASCII case-insensitively
 * ("database_url", "ORDERS_DATABASE_URL"); for a logger's redaction.
 * Threads: after a successful load, safe concurrently from any thread.
 * Errors: none (false for NULL arguments or an unknown name).
 * Since: 0.1.0
 */
SVK_API bool svk_config_is_secret(const svk_config *c, const char *name);

/* --------------------------------------------------------- field iteration */

/*
 * svk_config_field_count — the number of declared fields; they are numbered
 * 0 .. count-1 in declaration order.
 * Threads: the thread owning c; after a successful load, any thread.
 * Errors: none (0 for NULL).
 * Since: 0.1.0
 */
SVK_API size_t svk_config_field_count(const svk_config *c);

/*
 * svk_config_field_name — the declared name of field i ("PORT").
 * Ownership: borrowed until svk_config_free(c).
 * Threads: as svk_config_field_count.
 * Errors: NULL if c is NULL or i is out of range.
 * Since: 0.1.0
 */
SVK_API const char *svk_config_field_name(const svk_config *c, size_t i);

/*
 * svk_config_field_env_name — the variable name of field i ("ORDERS_PORT").
 * Ownership, threads, errors: as svk_config_field_name.
 * Since: 0.1.0
 */
SVK_API const char *svk_config_field_env_name(const svk_config *c, size_t i);

/*
 * svk_config_field_type — the SVK_CONFIG_* type of field i, or SVK_EINVAL.
 * Threads: as svk_config_field_count. Errors: SVK_EINVAL (NULL, out of range).
 * Since: 0.1.0
 */
SVK_API int svk_config_field_type(const svk_config *c, size_t i);

/*
 * svk_config_field_is_secret — whether field i is flagged SVK_CONFIG_SECRET.
 * Threads: as svk_config_field_count. Errors: none (false when out of range).
 * Since: 0.1.0
 */
SVK_API bool svk_config_field_is_secret(const svk_config *c, size_t i);

/*
 * svk_config_field_value_text — the effective text of loaded field i, as it
 * was given (after _FILE newline stripping): SVK_CONFIG_REDACTED for a set
 * secret, NULL for an unset field. Safe to log.
 * Ownership: borrowed until svk_config_free(c).
 * Threads: after a successful load, safe concurrently from any thread.
 * Errors: NULL if c is NULL, not loaded, or i is out of range.
 * Since: 0.1.0
 */
SVK_API const char *svk_config_field_value_text(const svk_config *c, size_t i);

/*
 * svk_config_field_source — where loaded field i got its value
 * (SVK_CONFIG_SOURCE_*), or a negative SVK_E* code.
 * Threads: after a successful load, safe concurrently from any thread.
 * Errors: SVK_EINVAL (NULL, out of range), SVK_ESTATE (not loaded).
 * Since: 0.1.0
 */
SVK_API int svk_config_field_source(const svk_config *c, size_t i);

/*
 * svk_config_dump — append the effective configuration to out, one line per
 * field in declaration order: "ORDERS_PORT=8080 # env" (sources: env, file,
 * default, unset). Secrets print as <redacted>; control bytes and backslash
 * are escaped (\n, \t, \\, \xHH) so each field stays on one line.
 * Ownership: c borrowed; out borrowed (appended to, never reset).
 * Threads: after a successful load, safe concurrently from any thread (each
 *          with its own out).
 * Errors: SVK_EINVAL (NULL argument), SVK_ESTATE (not loaded), SVK_ENOMEM
 *         (out keeps what was appended before).
 * Since: 0.1.0
 */
SVK_API int svk_config_dump(const svk_config *c, svk_buf *out);

/*
 * svk_config_help — append a description of every field to out, for --help:
 * "  ORDERS_PORT  int64 [1, 65535], default 8080 — HTTP listen port". Secret
 * defaults print as <redacted>.
 * Ownership: c and out borrowed.
 * Threads: the thread owning c; after a successful load, any thread.
 * Errors: SVK_EINVAL (NULL argument), SVK_ENOMEM.
 * Since: 0.1.0
 */
SVK_API int svk_config_help(const svk_config *c, svk_buf *out);

/* --------------------------------------------------------- value parsers */

/*
 * svk_parse_duration — parse a duration with exactly the grammar and results
 * of Go 1.19's time.ParseDuration: [-+]?([0-9]*(\.[0-9]*)?UNIT)+ with UNIT
 * one of ns us µs (U+00B5) μs (U+03BC) ms s m h (case-sensitive), or the
 * bare "0" (also "-0", "+0"). Segments add up ("1h30m", "1.5h", ".5s",
 * "1.s"); a fraction is scaled with float64 arithmetic as Go does, and
 * fraction digits past the 19th are ignored. The result must fit in int64
 * nanoseconds (-9223372036854775808ns is accepted). No spaces anywhere.
 * s need not be NUL-terminated. Error messages never quote the input.
 * Ownership: s borrowed for len bytes; ns borrowed; err optional.
 * Threads: safe from any thread. Does not allocate.
 * Errors: SVK_EINVAL (malformed, missing or unknown unit), SVK_ERANGE
 *         (overflow). *ns is untouched on failure.
 * Since: 0.1.0
 */
SVK_API int svk_parse_duration(const char *s, size_t len, int64_t *ns, svk_error *err);

/*
 * svk_parse_bytes — parse a byte size with exactly the grammar and results of
 * go-humanize's ParseBytes (v1.0.0, Debian 12):
 *   number: the leading run of [0-9.,]; commas are dropped ("1,024"), the
 *     rest must be a decimal [0-9]*(\.[0-9]*)? with a digit ("1.", ".5");
 *     no sign, no exponent. It is rounded to a float64.
 *   unit: the rest, trimmed of Unicode white space at both ends and
 *     lowercased (Unicode simple folding, so U+212A KELVIN SIGN is a "k"):
 *     "" or b = 1; k kb = 1000, ki kib = 1024, and so on through m g t p e
 *     (up to 1000^6 and 1024^6). No zb/yb. "1e" is one exabyte.
 *   value: number * unit in float64, truncated toward zero ("1.5" is 1,
 *     "0.4kB" is 400); it must be below 2^64 (so the largest value accepted
 *     is 18446744073709549568, and "18446744073709551615" is rejected).
 * Leading white space and signs are rejected. s need not be NUL-terminated.
 * Ownership: s borrowed for len bytes; out borrowed; err optional.
 * Threads: safe from any thread. Does not allocate.
 * Errors: SVK_EINVAL (malformed number, unknown unit), SVK_ERANGE (too
 *         large). *out is untouched on failure.
 * Since: 0.1.0
 */
SVK_API int svk_parse_bytes(const char *s, size_t len, uint64_t *out, svk_error *err);

/*
 * svk_parse_bool — true/1/yes/on or false/0/no/off, ASCII case-insensitive.
 * Nothing else: no spaces, no "y", no "enabled".
 * Ownership: s borrowed for len bytes; out borrowed; err optional.
 * Threads: safe from any thread. Does not allocate.
 * Errors: SVK_EINVAL. *out is untouched on failure.
 * Since: 0.1.0
 */
SVK_API int svk_parse_bool(const char *s, size_t len, bool *out, svk_error *err);

/*
 * svk_parse_int64 — a decimal integer: [+-]?[0-9]+ (leading zeros allowed;
 * no spaces, no underscores, no hex).
 * Ownership: s borrowed for len bytes; out borrowed; err optional.
 * Threads: safe from any thread. Does not allocate.
 * Errors: SVK_EINVAL (malformed), SVK_ERANGE (outside int64). *out is
 *         untouched on failure.
 * Since: 0.1.0
 */
SVK_API int svk_parse_int64(const char *s, size_t len, int64_t *out, svk_error *err);

/*
 * svk_check_url — check that s is a URL whose scheme is in schemes.
 *
 * URL form: scheme "://" authority path ["?" query] ["#" fragment], with the
 * scheme [A-Za-z][A-Za-z0-9+.-]* (matched case-insensitively), authority
 * [userinfo "@"] host [":" port], host a name or a [bracketed] IP literal,
 * port 1 to 5 digits <= 65535, and every other byte an RFC 3986 character
 * or a valid %XX escape (no spaces, no control or non-ASCII bytes). The host
 * may be empty only for postgres/postgresql and file, and postgres URLs may
 * list hosts ("h1:5432,h2:5433").
 * When schemes holds "postgres" or "postgresql", a string without a scheme
 * is checked as a libpq key=value string: one or more keyword=value pairs
 * separated by white space, keyword among libpq's (host, port, dbname, user,
 * password, sslmode, ...), value bare (no white space, \ escapes) or
 * '-quoted. This is a syntax check, not a connection attempt.
 * schemes: NULL-terminated lowercase names, or NULL for any scheme.
 * Ownership: s borrowed for len bytes; schemes borrowed; err optional.
 * Threads: safe from any thread. Does not allocate.
 * Errors: SVK_EINVAL. Messages never quote the input.
 * Since: 0.1.0
 */
SVK_API int svk_check_url(const char *s, size_t len, const char *const *schemes,
                          svk_error *err);

#ifdef __cplusplus
}
#endif

#endif /* SVCKIT_CONFIG_H */
