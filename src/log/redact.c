/*
 * redact.c — the deny-list. Matching runs for every attribute of every
 * line, so it starts (inline, in redact.h) with a bitmap test of the key's
 * last byte: most keys ("id", "status", "took") end in a byte no word ends
 * in and cost one load.
 * Suffix matching after a separator catches the usual spellings
 * ("db_password", "X-Auth-Token", "http.cookie") without catching words
 * that merely contain one ("tokens", "token_count").
 */
#include "log/redact.h"

#include "svckit/core.h"

#include <string.h>

static const char *const default_words[] = {"password", "secret", "token", "authorization",
                                            "cookie"};
#define N_DEFAULT (sizeof default_words / sizeof default_words[0])

static unsigned char lower(unsigned char c)
{
    return c >= 'A' && c <= 'Z' ? (unsigned char)(c + ('a' - 'A')) : c;
}

static const char *word_at(const char *const *extra, size_t i)
{
    return i < N_DEFAULT ? default_words[i] : extra[i - N_DEFAULT];
}

static void mark_last_byte(svk__redactor *r, unsigned char c)
{
    r->last_byte[c >> 3] |= (uint8_t)(1u << (c & 7));
}

int svk__redactor_init(svk__redactor *r, const char *const *extra, size_t n_extra)
{
    memset(r, 0, sizeof *r);
    if (n_extra > 0 && extra == NULL)
        return SVK_EINVAL;
    size_t n = N_DEFAULT + n_extra, bytes = n * sizeof(svk__redact_word);
    for (size_t i = 0; i < n; i++) {
        const char *w = word_at(extra, i);
        if (w == NULL || *w == '\0')
            return SVK_EINVAL;
        bytes += strlen(w) + 1;
    }
    svk__redact_word *words = svk_malloc(bytes);
    if (words == NULL)
        return SVK_ENOMEM;
    char *text = (char *)(words + n);
    for (size_t i = 0; i < n; i++) {
        const char *w = word_at(extra, i);
        words[i].word = text;
        words[i].len = strlen(w);
        for (size_t j = 0; j <= words[i].len; j++)
            *text++ = (char)lower((unsigned char)w[j]);
        unsigned char last = (unsigned char)words[i].word[words[i].len - 1];
        mark_last_byte(r, last);
        if (last >= 'a' && last <= 'z')
            mark_last_byte(r, (unsigned char)(last - ('a' - 'A')));
    }
    r->words = words;
    r->n = n;
    return 0;
}

void svk__redactor_free(svk__redactor *r)
{
    svk_free(r->words);
    memset(r, 0, sizeof *r);
}

static int tail_equals(const char *key, const svk__redact_word *w)
{
    for (size_t i = 0; i < w->len; i++)
        if (lower((unsigned char)key[i]) != (unsigned char)w->word[i])
            return 0;
    return 1;
}

int svk__redactor_match_words(const svk__redactor *r, const char *key, size_t klen)
{
    for (size_t i = 0; i < r->n; i++) {
        const svk__redact_word *w = &r->words[i];
        if (klen < w->len || !tail_equals(key + klen - w->len, w))
            continue;
        if (klen == w->len)
            return 1;
        char sep = key[klen - w->len - 1];
        if (sep == '_' || sep == '-' || sep == '.')
            return 1;
    }
    return 0;
}
