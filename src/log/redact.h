/*
 * redact.h — internal: the deny-list of attribute keys whose values are
 * never printed. Immutable after svk__redactor_init, so shared by all
 * threads without a lock.
 */
#ifndef SVK_LOG_REDACT_H
#define SVK_LOG_REDACT_H

#include <stddef.h>
#include <stdint.h>

/* The text printed instead of a redacted value. */
#define SVK__REDACTED "<redacted>"

typedef struct svk__redact_word {
    const char *word; /* lowercase */
    size_t len;
} svk__redact_word;

typedef struct svk__redactor {
    svk__redact_word *words; /* one allocation: the array, then the strings */
    size_t n;
    uint8_t last_byte[32]; /* bitmap of the words' last bytes, both cases */
} svk__redactor;

/*
 * The default words plus extra (n_extra lowercase-insensitive keys, each
 * non-empty). Returns 0, SVK_EINVAL (a NULL or empty key) or SVK_ENOMEM;
 * on failure r holds nothing to free.
 */
int svk__redactor_init(svk__redactor *r, const char *const *extra, size_t n_extra);
void svk__redactor_free(svk__redactor *r);

int svk__redactor_match_words(const svk__redactor *r, const char *key, size_t klen);

/* Whether key (klen bytes) is on the list: equal to a word, or ending in
 * '_', '-' or '.' and the word; ASCII case-insensitive. Inline for the
 * common answer: no word ends in the key's last byte. */
static inline int svk__redactor_match(const svk__redactor *r, const char *key, size_t klen)
{
    if (klen == 0)
        return 0;
    unsigned char last = (unsigned char)key[klen - 1];
    if (!(r->last_byte[last >> 3] & (1u << (last & 7))))
        return 0;
    return svk__redactor_match_words(r, key, klen);
}

#endif
