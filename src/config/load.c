/*
 * load.c — loading a declared config from an environment, collecting every
 * error, and the exit-78 helper for main().
 *
 * Each field is read on its own (NAME, NAME_FILE, default, or nothing), then
 * checked by rules.c and its validator. A bad field adds one line to
 * c->errors and marks the field; loading goes on, so the operator sees all
 * problems at once. Only running out of memory stops early. svk_config_load
 * reads `environ` through the same code as svk_config_load_env, which finds
 * the first "NAME=" entry exactly as getenv does.
 */
#include "svckit/config.h"
#include "config/field.h"
#include "core/error_detail.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define VALUE_SHOWN_MAX 80 /* bytes of a bad value quoted in its error line */

static const char *env_lookup(const char *const *envp, const char *name)
{
    size_t n = strlen(name);
    for (; envp != NULL && *envp != NULL; envp++)
        if (strncmp(*envp, name, n) == 0 && (*envp)[n] == '=')
            return *envp + n + 1;
    return NULL;
}

/* Where f's text was read from: NAME, or NAME_FILE for a file. */
static const char *variable_of(const svk__config_field *f)
{
    return f->source == SVK_CONFIG_SOURCE_FILE ? f->file_env_name : f->env_name;
}

/* One error line "VAR: reason[ (value ...)]"; 0 or SVK_ENOMEM. */
static int report(svk_config *c, svk__config_field *f, const char *reason, int show_value)
{
    f->bad = true;
    svk_buf *b = &c->errors;
    int rc = svk_buf_appendf(b, "%s: %s", variable_of(f), reason);
    if (rc == 0 && show_value) {
        rc = svk_buf_append_str(b, " (value ");
        if (rc == 0 && (f->flags & SVK_CONFIG_SECRET))
            rc = svk_buf_append_str(b, SVK_CONFIG_REDACTED);
        else if (rc == 0)
            rc = svk__config_append_quoted(b, f->text, f->text_len, VALUE_SHOWN_MAX);
        if (rc == 0 && f->source == SVK_CONFIG_SOURCE_DEFAULT)
            rc = svk_buf_append_str(b, ", the default");
        if (rc == 0)
            rc = svk_buf_append_str(b, ")");
    }
    return rc == 0 ? svk_buf_append(b, "\n", 1) : rc;
}

static int copy_text(svk__config_field *f, const char *s, enum svk_config_source source)
{
    f->text = svk__config_strdup(s);
    if (f->text == NULL)
        return SVK_ENOMEM;
    f->text_len = strlen(s);
    f->source = source;
    return 0;
}

static int take_file(svk_config *c, svk__config_field *f, const char *path)
{
    char reason[SVK_CONFIG_REASON_SIZE];
    int rc = svk__config_read_file(path, &f->text, &f->text_len, reason, sizeof reason);
    f->source = SVK_CONFIG_SOURCE_FILE;
    if (rc == SVK_EIO)
        return report(c, f, reason, 0);
    return rc;
}

static int report_required(svk_config *c, svk__config_field *f)
{
    char reason[SVK_CONFIG_REASON_SIZE];
    if (f->file_env_name != NULL)
        snprintf(reason, sizeof reason, "required but not set (set %s or %s)", f->env_name,
                 f->file_env_name);
    else
        snprintf(reason, sizeof reason, "required but not set");
    return report(c, f, reason, 0);
}

/* Fill f->text and f->source from the environment, a file or the default. */
static int take_text(svk_config *c, svk__config_field *f, const char *const *envp)
{
    const char *env = env_lookup(envp, f->env_name);
    const char *path = f->file_env_name ? env_lookup(envp, f->file_env_name) : NULL;
    if (env != NULL && path != NULL) {
        char reason[SVK_CONFIG_REASON_SIZE];
        snprintf(reason, sizeof reason, "both %s and %s are set; set only one",
                 f->env_name, f->file_env_name);
        return report(c, f, reason, 0);
    }
    if (path != NULL)
        return take_file(c, f, path);
    if (env != NULL)
        return copy_text(f, env, SVK_CONFIG_SOURCE_ENV);
    if (f->def != NULL)
        return copy_text(f, f->def, SVK_CONFIG_SOURCE_DEFAULT);
    f->source = SVK_CONFIG_SOURCE_UNSET;
    return (f->flags & SVK_CONFIG_REQUIRED) ? report_required(c, f) : 0;
}

/* Control bytes would split the error line; a secret must not show. */
static void clean_reason(const svk__config_field *f, char *reason, size_t size)
{
    reason[size - 1] = '\0';
    for (char *p = reason; *p; p++)
        if ((unsigned char)*p < 0x20 || *p == 0x7f)
            *p = ' ';
    int leaks = (f->flags & SVK_CONFIG_SECRET) && f->text_len > 0 &&
                memmem(reason, strlen(reason), f->text, f->text_len) != NULL;
    if (reason[0] == '\0' || leaks)
        snprintf(reason, size, "rejected by validator");
}

static int run_validator(svk_config *c, svk__config_field *f)
{
    char reason[SVK_CONFIG_REASON_SIZE] = "";
    if (f->validator(f->env_name, f->text, f->text_len, reason, sizeof reason,
                     f->validator_user) == 0)
        return 0;
    clean_reason(f, reason, sizeof reason);
    return report(c, f, reason, 1);
}

static int load_field(svk_config *c, svk__config_field *f, const char *const *envp)
{
    int rc = take_text(c, f, envp);
    if (rc != 0 || f->bad || f->source == SVK_CONFIG_SOURCE_UNSET)
        return rc;
    char reason[SVK_CONFIG_REASON_SIZE];
    if (svk__config_check(f, f->text, f->text_len, &f->value, reason, sizeof reason) != 0)
        return report(c, f, reason, 1);
    if (f->type == SVK_CONFIG_LIST && (rc = svk__config_split_list(f)) != 0)
        return rc;
    return f->validator ? run_validator(c, f) : 0;
}

static int known_variable(const svk_config *c, const char *name, size_t n)
{
    for (size_t i = 0; i < c->field_count; i++) {
        const svk__config_field *f = &c->fields[i];
        if (strlen(f->env_name) == n && memcmp(f->env_name, name, n) == 0)
            return 1;
        if (f->file_env_name && strlen(f->file_env_name) == n &&
            memcmp(f->file_env_name, name, n) == 0)
            return 1;
    }
    return 0;
}

/* Variables with our prefix that no field reads are likely typos. */
static int warn_unknown(svk_config *c, const char *const *envp)
{
    size_t plen = strlen(c->prefix);
    for (; plen > 0 && envp != NULL && *envp != NULL; envp++) {
        const char *eq = strchr(*envp, '=');
        if (eq == NULL || strncmp(*envp, c->prefix, plen) != 0)
            continue;
        int n = (int)(eq - *envp);
        if (!known_variable(c, *envp, (size_t)n) &&
            svk_buf_appendf(&c->warnings, "%.*s: set, but no field reads it; ignored\n", n,
                            *envp) != 0)
            return SVK_ENOMEM;
    }
    return 0;
}

/* "config: 2 invalid variables: A, B" into err; SVK_EINVAL. */
static int summarise(const svk_config *c, size_t bad, svk_error *err)
{
    char msg[SVK_ERROR_MESSAGE_SIZE];
    size_t used = (size_t)snprintf(msg, sizeof msg, "config: %zu invalid variable%s:", bad,
                                   bad == 1 ? "" : "s");
    for (size_t i = 0, k = 0; i < c->field_count && used < sizeof msg; i++)
        if (c->fields[i].bad)
            used += (size_t)snprintf(msg + used, sizeof msg - used, "%s %s", k++ ? "," : "",
                                     c->fields[i].env_name);
    return svk__error_set(err, SVK_EINVAL, "%s", msg);
}

static int finish(svk_config *c, int rc, svk_error *err)
{
    c->state = SVK__FAILED;
    if (rc != 0)
        return svk__error_set(err, rc, "config: out of memory while loading");
    size_t bad = 0;
    for (size_t i = 0; i < c->field_count; i++)
        bad += c->fields[i].bad;
    if (bad > 0)
        return summarise(c, bad, err);
    c->state = SVK__LOADED;
    return 0;
}

SVK_API int svk_config_load_env(svk_config *c, const char *const *envp, svk_error *err)
{
    if (c == NULL)
        return svk__error_set(err, SVK_EINVAL, "svk_config_load: config is NULL");
    if (c->state != SVK__DECLARING)
        return svk__error_set(err, SVK_ESTATE, "svk_config_load: loaded once already");
    if (c->sticky != 0) {
        c->state = SVK__FAILED;
        return svk__error_set(err, c->sticky, "config: the schema has invalid declarations "
                              "(a programming error): %s", svk_strerror(c->sticky));
    }
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < c->field_count; i++)
        rc = load_field(c, &c->fields[i], envp);
    if (rc == 0)
        rc = warn_unknown(c, envp);
    return finish(c, rc, err);
}

SVK_API int svk_config_load(svk_config *c, svk_error *err)
{
    return svk_config_load_env(c, (const char *const *)environ, err);
}

/* Each line of text to stderr, after lead. */
static void print_lines(const char *lead, const char *text)
{
    while (*text != '\0') {
        const char *nl = strchr(text, '\n');
        int n = nl ? (int)(nl - text) : (int)strlen(text);
        fprintf(stderr, "%s%.*s\n", lead, n, text);
        text += n + (nl != NULL);
    }
}

SVK_API void svk_config_load_or_exit(svk_config *c)
{
    if (c == NULL) {
        fputs("config: no configuration to load (svk_config_new failed)\n", stderr);
        exit(SVK_CONFIG_EXIT_STATUS);
    }
    svk_error err;
    svk_error_clear(&err);
    if (svk_config_load(c, &err) == 0) {
        print_lines("config: warning: ", svk_config_warnings(c));
        return;
    }
    print_lines("", err.message);
    print_lines("", svk_config_errors(c));
    fflush(stderr);
    svk_config_free(c);
    exit(SVK_CONFIG_EXIT_STATUS);
}
