/*
 * parser_cases.h — the parser's tables of request heads it rejects (with
 * the status each gets) and of chunked bodies (valid and rejected), shared
 * by the parser's own tests (parser_test.c, chunked_test.c) and the
 * server's, which send every row over a socket (rejection_test.c).
 */
#ifndef SVK_TESTS_HTTP_PARSER_CASES_H
#define SVK_TESTS_HTTP_PARSER_CASES_H

#include <stddef.h>

#include "http/parser.h"

struct invalid_case {
    const char *name;
    const char *raw;
    size_t len; /* 0: strlen(raw) */
    int status;
};

struct chunked_case {
    const char *name;
    const char *raw;
    size_t len;
    const svk__http_limits *limits; /* NULL: the defaults */
    int status;        /* 0: valid */
    const char *data;  /* valid: decoded data, escaped as feed_escape does */
    const char *left;  /* valid: bytes after the body */
};

extern const struct invalid_case invalid_cases[];
extern const size_t invalid_case_count;
extern const struct chunked_case chunked_cases[];
extern const size_t chunked_case_count;

#endif
