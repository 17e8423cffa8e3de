/*
 * utf8.h — internal: recognise one UTF-8 sequence, for the escapers of the
 * JSON and text handlers (which replace ill-formed input with U+FFFD).
 */
#ifndef SVK_LOG_UTF8_H
#define SVK_LOG_UTF8_H

#include <stddef.h>

/* U+FFFD REPLACEMENT CHARACTER in UTF-8. */
#define SVK__UTF8_REPLACEMENT "\xEF\xBF\xBD"

/*
 * The sequence starting at s (n >= 1 bytes available, s[0] >= 0x80): its
 * length (2..4) when it is well-formed (Unicode Table 3-7), otherwise minus
 * the length of its maximal subpart (1..3), the bytes to replace with one
 * U+FFFD before looking again.
 */
int svk__utf8_next(const unsigned char *s, size_t n);

#endif
