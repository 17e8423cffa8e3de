/*
 * uuid.c — UUIDv7 generation (RFC 9562 §5.7, §6.2 method 1), parse, format.
 *
 * Bit layout of what svk_uuid_v7 makes:
 *   48 unix_ts_ms | 4 ver=7 | 12 counter[41:30] | 2 var=10 | 6 counter[29:24]
 *   | 24 counter[23:0] | 32 random
 * The 42-bit counter is seeded with 41 random bits each new millisecond (the
 * top bit clear leaves room to count) and incremented within one; if it ever
 * overflows, the timestamp is advanced by one ms, as §6.2 allows. One lock
 * guards (last_ms, counter, random pool), which makes ids strictly increasing
 * across all threads of the process. Random bytes come from getrandom() in
 * blocks, so a syscall is paid once per 25 to 64 ids, not once per id.
 */
#include "svckit/core.h"
#include "core/error_detail.h"

#include <errno.h>
#include <pthread.h>
#include <string.h>
#include <sys/random.h>

#define COUNTER_BITS 42
#define COUNTER_MAX ((UINT64_C(1) << COUNTER_BITS) - 1)
#define SEED_MASK (COUNTER_MAX >> 1)
#define POOL_SIZE 256
#define DRAW_SIZE 10 /* 6 bytes of counter seed + 4 random tail bytes */

static struct {
    pthread_mutex_t lock;
    int64_t last_ms;
    uint64_t counter;
    uint8_t pool[POOL_SIZE];
    size_t pool_pos;
} gen = {.lock = PTHREAD_MUTEX_INITIALIZER, .pool_pos = POOL_SIZE};

static pthread_once_t atfork_once = PTHREAD_ONCE_INIT;

static void before_fork(void) { pthread_mutex_lock(&gen.lock); }
static void after_fork_parent(void) { pthread_mutex_unlock(&gen.lock); }

/* The child must not reuse the parent's random pool or counter: both
 * processes would otherwise make the same ids in the same millisecond. */
static void after_fork_child(void)
{
    memset(gen.pool, 0, sizeof gen.pool);
    gen.pool_pos = POOL_SIZE;
    gen.last_ms = 0;
    gen.counter = 0;
    pthread_mutex_unlock(&gen.lock);
}

static void register_atfork(void)
{
    pthread_atfork(before_fork, after_fork_parent, after_fork_child);
}

static int refill_pool(void)
{
    size_t got = 0;
    while (got < POOL_SIZE) {
        ssize_t n = getrandom(gen.pool + got, POOL_SIZE - got, 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return SVK_ESYS;
        got += (size_t)n;
    }
    gen.pool_pos = 0;
    return 0;
}

static uint64_t take_bytes(size_t n)
{
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++)
        v = (v << 8) | gen.pool[gen.pool_pos++];
    return v;
}

static void advance_sequence(int64_t now_ms)
{
    if (now_ms <= gen.last_ms && gen.counter < COUNTER_MAX) {
        gen.counter++;
        return;
    }
    gen.last_ms = now_ms > gen.last_ms ? now_ms : gen.last_ms + 1;
    gen.counter = take_bytes(6) & SEED_MASK;
}

static void encode(svk_uuid *out, int64_t ms, uint64_t counter, uint32_t tail)
{
    uint8_t *b = out->bytes;
    for (int i = 0; i < 6; i++)
        b[i] = (uint8_t)((uint64_t)ms >> (40 - 8 * i));
    b[6] = (uint8_t)(0x70 | ((counter >> 38) & 0x0f));
    b[7] = (uint8_t)(counter >> 30);
    b[8] = (uint8_t)(0x80 | ((counter >> 24) & 0x3f));
    b[9] = (uint8_t)(counter >> 16);
    b[10] = (uint8_t)(counter >> 8);
    b[11] = (uint8_t)counter;
    b[12] = (uint8_t)(tail >> 24);
    b[13] = (uint8_t)(tail >> 16);
    b[14] = (uint8_t)(tail >> 8);
    b[15] = (uint8_t)tail;
}

SVK_API int svk_uuid_v7(svk_uuid *out)
{
    if (out == NULL)
        return SVK_EINVAL;
    pthread_once(&atfork_once, register_atfork);
    int64_t now_ms = svk_clock_wall_ns() / 1000000;
    pthread_mutex_lock(&gen.lock);
    int rc = 0;
    if (gen.pool_pos + DRAW_SIZE > POOL_SIZE)
        rc = refill_pool();
    if (rc == 0) {
        advance_sequence(now_ms);
        uint32_t tail = (uint32_t)take_bytes(4);
        encode(out, gen.last_ms, gen.counter, tail);
    }
    pthread_mutex_unlock(&gen.lock);
    return rc;
}

SVK_API void svk_uuid_format(const svk_uuid *u, char out[SVK_UUID_STRLEN + 1])
{
    static const char hex[] = "0123456789abcdef";
    char *p = out;
    for (int i = 0; i < 16; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10)
            *p++ = '-';
        *p++ = hex[u->bytes[i] >> 4];
        *p++ = hex[u->bytes[i] & 0x0f];
    }
    *p = '\0';
}

static int hex_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

static int is_hyphen_position(size_t i)
{
    return i == 8 || i == 13 || i == 18 || i == 23;
}

SVK_API int svk_uuid_parse(const char *s, size_t len, svk_uuid *out, svk_error *err)
{
    if (s == NULL || out == NULL)
        return svk__error_set(err, SVK_EINVAL, "uuid: NULL argument");
    if (len != SVK_UUID_STRLEN)
        return svk__error_set(err, SVK_EINVAL, "uuid: length %zu, want 36", len);
    svk_uuid u;
    size_t nibble = 0;
    for (size_t i = 0; i < len; i++) {
        if (is_hyphen_position(i)) {
            if (s[i] != '-')
                return svk__error_set(err, SVK_EINVAL, "uuid: want '-' at offset %zu", i);
            continue;
        }
        int v = hex_value(s[i]);
        if (v < 0)
            return svk__error_set(err, SVK_EINVAL, "uuid: non-hex character at offset %zu", i);
        if (nibble % 2 == 0)
            u.bytes[nibble / 2] = (uint8_t)(v << 4);
        else
            u.bytes[nibble / 2] |= (uint8_t)v;
        nibble++;
    }
    if ((u.bytes[6] >> 4) != 7)
        return svk__error_set(err, SVK_EINVAL, "uuid: version %d, want 7", u.bytes[6] >> 4);
    if ((u.bytes[8] & 0xc0) != 0x80)
        return svk__error_set(err, SVK_EINVAL, "uuid: variant is not RFC 9562 (10xx)");
    *out = u;
    return 0;
}

SVK_API int64_t svk_uuid_v7_unix_ms(const svk_uuid *u)
{
    int64_t ms = 0;
    for (int i = 0; i < 6; i++)
        ms = (ms << 8) | u->bytes[i];
    return ms;
}

SVK_API int svk_uuid_compare(const svk_uuid *a, const svk_uuid *b)
{
    return memcmp(a->bytes, b->bytes, sizeof a->bytes);
}
