/*
 * secret_test.c — a secret's value never appears in anything the config
 * module prints or leaves behind.
 *
 * 1. A child process (secret_child) loads a good config with secrets from the
 *    environment, a _FILE and a default, dumps it, prints help and the field
 *    texts, then loads a bad config through svk_config_load_or_exit. Its
 *    stdout and stderr are captured; none of the secrets may appear, and the
 *    exit status must be 78 with every bad variable named.
 * 2. In-process, an allocator that inspects each block as it is freed checks
 *    that no secret survives in freed heap memory (explicit_bzero on free).
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "svckit/config.h"

#ifndef SECRET_CHILD
#error "SECRET_CHILD must name the helper program"
#endif

static const char *const secrets[] = {
    "good-secret-AAA111", "url-secret-BBB222", "file-secret-CCC333", "bad-secret-DDD444",
    "bad-secret-EEE555", "bad-secret-FFF666", "file-secret-GGG777", "good-secret-HHH888",
    "default-secret-JJJ000",
};

static void write_file(char *path, size_t size, const char *content)
{
    snprintf(path, size, "/tmp/svk-secret-XXXXXX");
    int fd = mkstemp(path);
    cr_assert_geq(fd, 0);
    cr_assert_eq(write(fd, content, strlen(content)), (ssize_t)strlen(content));
    close(fd);
}

/* Run the child with envp; its stdout+stderr into out; returns the wait status. */
static int run_child(char *const envp[], char *out, size_t size)
{
    int fds[2];
    cr_assert_eq(pipe(fds), 0);
    pid_t pid = fork();
    cr_assert_geq(pid, 0);
    if (pid == 0) {
        dup2(fds[1], 1);
        dup2(fds[1], 2);
        close(fds[0]);
        execle(SECRET_CHILD, SECRET_CHILD, (char *)NULL, envp);
        _exit(127);
    }
    close(fds[1]);
    size_t used = 0;
    ssize_t n;
    while (used + 1 < size && (n = read(fds[0], out + used, size - 1 - used)) > 0)
        used += (size_t)n;
    out[used] = '\0';
    close(fds[0]);
    int status = 0;
    cr_assert_eq(waitpid(pid, &status, 0), pid);
    return status;
}

Test(secret, never_printed_by_a_failing_service)
{
    char good_file[64], bad_file[64], v1[128], v2[128];
    write_file(good_file, sizeof good_file, "file-secret-CCC333\n");
    write_file(bad_file, sizeof bad_file, "file-secret-GGG777\n");
    snprintf(v1, sizeof v1, "SVC_API_TOKEN_FILE=%s", good_file);
    snprintf(v2, sizeof v2, "BAD_TOKEN_FILE=%s", bad_file);
    char *envp[] = {
        "SVC_DB_PASSWORD=good-secret-AAA111",
        "SVC_DATABASE_URL=postgres://u:url-secret-BBB222@db:5432/orders",
        v1,
        "BAD_DATABASE_URL=mysql://u:bad-secret-DDD444@h/x",
        "BAD_PIN=bad-secret-EEE555",
        "BAD_KEY=bad-secret-FFF666",
        "BAD_TOKEN=x",
        v2,
        "BAD_GOOD=good-secret-HHH888",
        "BAD_PORT=http",
        "ASAN_OPTIONS=detect_leaks=1",
        NULL,
    };
    static char out[65536];
    int status = run_child(envp, out, sizeof out);
    cr_log_info("child output:\n%s", out);
    cr_assert(WIFEXITED(status), "child crashed:\n%s", out);
    cr_assert_eq(WEXITSTATUS(status), 78, "exit status %d:\n%s", WEXITSTATUS(status), out);
    for (size_t i = 0; i < sizeof secrets / sizeof secrets[0]; i++)
        cr_assert_null(strstr(out, secrets[i]), "secret %s leaked:\n%s", secrets[i], out);
    cr_assert_null(strstr(out, "secret-"), "part of a secret leaked:\n%s", out);
    const char *expected[] = {
        "SVC_PORT=8080 # default\n", "SVC_DB_PASSWORD=<redacted> # env\n",
        "SVC_DATABASE_URL=<redacted> # env\n", "SVC_API_TOKEN=<redacted> # file\n",
        "SVC_DEV_KEY=<redacted> # default\n", "field SVC_DB_PASSWORD=<redacted>\n",
        "config: 5 invalid variables: BAD_DATABASE_URL, BAD_PIN, BAD_KEY, BAD_TOKEN, BAD_PORT\n",
        "BAD_DATABASE_URL: invalid URL: scheme not allowed (allowed: postgres, postgresql) "
        "(value <redacted>)\n",
        "BAD_PIN: invalid integer: only an optional sign and digits 0-9 (value <redacted>)\n",
        "BAD_KEY: rejected by validator (value <redacted>)\n",
        "BAD_TOKEN: both BAD_TOKEN and BAD_TOKEN_FILE are set; set only one\n",
        "BAD_PORT: invalid integer: only an optional sign and digits 0-9 (value \"http\")\n",
    };
    for (size_t i = 0; i < sizeof expected / sizeof expected[0]; i++)
        cr_assert_not_null(strstr(out, expected[i]), "missing %s in:\n%s", expected[i], out);
    cr_assert_null(strstr(out, "load_or_exit returned"));
    unlink(good_file);
    unlink(bad_file);
}

/* ----------------------------------------------- nothing left in the heap */

static size_t leftovers;

static void *sized_malloc(size_t size, void *user)
{
    (void)user;
    size_t *p = malloc(size + sizeof(size_t) * 2);
    if (p == NULL)
        return NULL;
    p[0] = size;
    return p + 2;
}

static void sized_free(void *ptr, void *user)
{
    (void)user;
    if (ptr == NULL)
        return;
    size_t *p = (size_t *)ptr - 2;
    for (size_t i = 0; i < sizeof secrets / sizeof secrets[0]; i++)
        if (memmem(ptr, p[0], secrets[i], strlen(secrets[i])) != NULL)
            leftovers++;
    free(p);
}

static void *sized_realloc(void *ptr, size_t size, void *user)
{
    void *q = sized_malloc(size, user);
    if (q == NULL || ptr == NULL)
        return q;
    size_t old = ((size_t *)ptr - 2)[0];
    memcpy(q, ptr, old < size ? old : size);
    sized_free(ptr, user);
    return q;
}

Test(secret, wiped_from_freed_memory)
{
    char path[64], var[128];
    write_file(path, sizeof path, "file-secret-CCC333\n");
    snprintf(var, sizeof var, "W_TOKEN_FILE=%s", path);
    cr_assert_eq(svk_set_allocator(sized_malloc, sized_realloc, sized_free, NULL), 0);
    svk_config *c = NULL;
    cr_assert_eq(svk_config_new(&c, "W", NULL), 0);
    cr_assert_eq(svk_config_add_string(c, "PASSWORD", NULL, SVK_CONFIG_SECRET, NULL), 0);
    cr_assert_eq(svk_config_add_string(c, "TOKEN", NULL, SVK_CONFIG_SECRET, NULL), 0);
    cr_assert_eq(svk_config_add_list(c, "KEYS", NULL, SVK_CONFIG_SECRET, NULL), 0);
    cr_assert_eq(svk_config_add_string(c, "DEV", "default-secret-JJJ000", SVK_CONFIG_SECRET,
                                       NULL), 0);
    const char *env[] = {"W_PASSWORD=good-secret-AAA111", var,
                         "W_KEYS=url-secret-BBB222, good-secret-HHH888", NULL};
    cr_assert_eq(svk_config_load_env(c, env, NULL), 0);
    const char *s;
    cr_assert_eq(svk_config_get_string(c, "TOKEN", &s), 0);
    cr_assert_str_eq(s, "file-secret-CCC333");
    svk_buf b = SVK_BUF_INIT;
    cr_assert_eq(svk_config_dump(c, &b), 0);
    svk_buf_free(&b);
    svk_config_free(c);
    svk_set_allocator(NULL, NULL, NULL, NULL);
    cr_assert_eq(leftovers, 0, "%zu freed blocks still held a secret", leftovers);
    unlink(path);
}
