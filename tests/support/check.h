/*
 * check.h — CHECK(cond, fmt, ...) for the plain (non-Criterion) test
 * programs that run under ThreadSanitizer: print where and why, exit 1.
 */
#ifndef SVK_TESTS_CHECK_H
#define SVK_TESTS_CHECK_H

#include <stdio.h>
#include <stdlib.h>

#define CHECK(cond, ...)                                                                 \
    do {                                                                                 \
        if (!(cond)) {                                                                   \
            fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__);                         \
            fprintf(stderr, __VA_ARGS__);                                                \
            fputc('\n', stderr);                                                         \
            exit(1);                                                                     \
        }                                                                                \
    } while (0)

#endif
