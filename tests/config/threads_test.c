/*
 * threads_test.c — a loaded config is read by many threads at once: getters,
 * dump, help, field iteration and is_secret give the same answers in every
 * thread and ThreadSanitizer sees no race. A plain program (label
 * `concurrency`): Criterion cannot run under TSan.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "svckit/config.h"

#define THREADS 8
#define ROUNDS 2000

static svk_config *cfg;
static char *expected_dump;

#define CHECK(cond)                                                               \
    do {                                                                          \
        if (!(cond)) {                                                            \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
            exit(1);                                                              \
        }                                                                         \
    } while (0)

static void read_everything(void)
{
    int64_t port, timeout;
    uint64_t limit;
    const char *url, *level, *item;
    size_t n;
    CHECK(svk_config_get_int64(cfg, "PORT", &port) == 0 && port == 9000);
    CHECK(svk_config_get_duration(cfg, "TIMEOUT", &timeout) == 0 && timeout == 1500000000);
    CHECK(svk_config_get_bytes(cfg, "LIMIT", &limit) == 0 && limit == 2048);
    CHECK(svk_config_get_string(cfg, "DB", &url) == 0 && strcmp(url, "postgres://db/x") == 0);
    CHECK(svk_config_get_enum(cfg, "LEVEL", NULL, &level) == 0 && strcmp(level, "warn") == 0);
    CHECK(svk_config_get_list_count(cfg, "PEERS", &n) == 0 && n == 3);
    CHECK(svk_config_get_list_item(cfg, "PEERS", 2, &item) == 0 && strcmp(item, "c") == 0);
    CHECK(svk_config_is_secret(cfg, "db") && !svk_config_is_secret(cfg, "PORT"));
    for (size_t i = 0; i < svk_config_field_count(cfg); i++)
        CHECK(svk_config_field_name(cfg, i) != NULL && svk_config_field_source(cfg, i) >= 0);
    svk_buf b = SVK_BUF_INIT;
    CHECK(svk_config_dump(cfg, &b) == 0 && strcmp((char *)b.data, expected_dump) == 0);
    svk_buf_reset(&b);
    CHECK(svk_config_help(cfg, &b) == 0);
    svk_buf_free(&b);
}

static void *reader(void *arg)
{
    (void)arg;
    for (int i = 0; i < ROUNDS; i++)
        read_everything();
    return NULL;
}

int main(void)
{
    static const char *const levels[] = {"info", "warn", NULL};
    static const char *const pg[] = {"postgres", NULL};
    CHECK(svk_config_new(&cfg, "T", NULL) == 0);
    svk_config_add_int64(cfg, "PORT", "1", 1, 65535, 0, NULL);
    svk_config_add_duration(cfg, "TIMEOUT", "1s", 0, INT64_MAX, 0, NULL);
    svk_config_add_bytes(cfg, "LIMIT", "1KiB", 0, UINT64_MAX, 0, NULL);
    svk_config_add_url(cfg, "DB", NULL, pg, SVK_CONFIG_SECRET | SVK_CONFIG_REQUIRED, NULL);
    svk_config_add_enum(cfg, "LEVEL", "info", levels, 0, NULL);
    svk_config_add_list(cfg, "PEERS", "a,b,c", 0, NULL);
    const char *env[] = {"T_PORT=9000", "T_TIMEOUT=1.5s", "T_LIMIT=2KiB", "T_DB=postgres://db/x",
                         "T_LEVEL=WARN", NULL};
    CHECK(svk_config_load_env(cfg, env, NULL) == 0);
    svk_buf b = SVK_BUF_INIT;
    CHECK(svk_config_dump(cfg, &b) == 0);
    expected_dump = svk_buf_detach(&b, NULL);
    pthread_t t[THREADS];
    for (int i = 0; i < THREADS; i++)
        CHECK(pthread_create(&t[i], NULL, reader, NULL) == 0);
    for (int i = 0; i < THREADS; i++)
        CHECK(pthread_join(t[i], NULL) == 0);
    svk_free(expected_dump);
    svk_config_free(cfg);
    printf("config threads: %d threads x %d rounds of every reader agree\n", THREADS, ROUNDS);
    return 0;
}
