/*
 * feed.h — test helpers: hand an input to the request parser or the chunked
 * decoder in pieces, as the server's read loop will, and describe the
 * outcome as text, so that the outcomes of different splits compare with
 * one string comparison and print readably when they differ.
 *
 * Every call gets a fresh heap copy of exactly the bytes it may read, and
 * the previous copy is freed: AddressSanitizer then reports any read past
 * len and any pointer kept from an earlier call.
 */
#ifndef SVK_TESTS_HTTP_FEED_H
#define SVK_TESTS_HTTP_FEED_H

#include <stddef.h>

#include "http/parser.h"

#define FEED_TEXT_MAX 65536
#define FEED_MAX_HEADERS 128

/* Describe s[0..n) with non-printable bytes escaped, into out (size > 0). */
void feed_escape(const char *s, size_t n, char *out, size_t size);

/*
 * Parse the head at in[0..n): first a call with the first `first` bytes,
 * then with `step` more each time until n (or until the parser stops saying
 * SVK_EAGAIN). Writes the outcome as text; returns the last return value.
 * req, when not NULL, receives the request with its pointers shifted into
 * `in` (so the caller may inspect it after the copies are gone), and its
 * field lines in headers (req->headers is NULL when headers is NULL).
 */
int feed_request(const char *in, size_t n, const svk__http_limits *limits, size_t first,
                 size_t step, char *text, svk__http_request *req,
                 svk__http_header headers[FEED_MAX_HEADERS]);

/* Same for a chunked body at in[0..n): like the server, the bytes a call
 * did not use begin the next call's input. Text has the decoded data and
 * the bytes left after the body. */
int feed_chunked(const char *in, size_t n, const svk__http_limits *limits, size_t first,
                 size_t step, char *text);

/* Assert that feeding in[0..n) split at every byte boundary, and one byte at
 * a time, gives exactly the one-shot outcome; returns the one-shot rc. */
int feed_check_request_splits(const char *in, size_t n, const svk__http_limits *limits);
int feed_check_chunked_splits(const char *in, size_t n, const svk__http_limits *limits);

#endif
