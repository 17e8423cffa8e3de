/*
 * utf8.c — well-formed UTF-8 by Unicode's Table 3-7, and the "maximal
 * subpart" rule (Unicode §3.9, also WHATWG's decoder) for what to replace
 * when a sequence is ill-formed: the longest prefix that could still have
 * begun a well-formed sequence becomes one U+FFFD, and decoding resumes at
 * the byte that broke it. So "E0 80" is two replacements (E0 cannot be
 * followed by 80: overlong), "E2 82" at the end of input is one.
 */
#include "log/utf8.h"

int svk__utf8_next(const unsigned char *s, size_t n)
{
    unsigned c = s[0];
    unsigned lo = 0x80, hi = 0xBF;
    int need;
    if (c >= 0xC2 && c <= 0xDF) {
        need = 1;
    } else if (c >= 0xE0 && c <= 0xEF) {
        need = 2;
        lo = c == 0xE0 ? 0xA0 : lo; /* shorter forms are overlong */
        hi = c == 0xED ? 0x9F : hi; /* ED A0..BF would be a surrogate */
    } else if (c >= 0xF0 && c <= 0xF4) {
        need = 3;
        lo = c == 0xF0 ? 0x90 : lo; /* overlong */
        hi = c == 0xF4 ? 0x8F : hi; /* beyond U+10FFFF */
    } else {
        return -1; /* continuation byte, C0/C1 (overlong) or F5..FF */
    }
    for (int i = 1; i <= need; i++) {
        if ((size_t)i >= n || s[i] < lo || s[i] > hi)
            return -i;
        lo = 0x80;
        hi = 0xBF;
    }
    return need + 1;
}
