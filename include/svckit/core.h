/*
 * svckit/core.h — the base every other libsvckit module stands on.
 *
 * Errors, version, allocator hooks, clocks, UUIDv7 and a growable byte buffer.
 *
 * Conventions for the whole library (said once here, exceptions on each function):
 *
 *  - Threads: a function is NOT thread-safe unless its comment says so. Objects
 *    may be handed between threads, but only one thread may use one at a time.
 *  - Errors: functions return int: 0 on success or a negative SVK_E* code
 *    (svk_strerror() names it). Calls without a handle accept an optional
 *    svk_error * for a human-readable detail; pass NULL when not wanted.
 *  - Ownership words: "new" means the caller owns the result and frees it with
 *    the named function; "borrowed" means valid until the stated event;
 *    "steals" means the callee takes ownership (such functions end in _take).
 *  - Memory: every allocation made by the library goes through the hooks set
 *    by svk_set_allocator(). Destructors accept NULL and do nothing.
 *  - ABI: handles are opaque. The few public structs (svk_error, svk_uuid,
 *    svk_buf) have a layout frozen for the lifetime of SONAME libsvckit.so.0.
 */
#ifndef SVCKIT_CORE_H
#define SVCKIT_CORE_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(SVK_BUILDING_LIBRARY)
#define SVK_API __attribute__((visibility("default")))
#else
#define SVK_API
#endif

#if defined(__GNUC__)
#define SVK_PRINTF(fmt, args) __attribute__((format(printf, fmt, args)))
#else
#define SVK_PRINTF(fmt, args)
#endif

/* ---------------------------------------------------------------- version */

#define SVK_VERSION_MAJOR 0
#define SVK_VERSION_MINOR 1
#define SVK_VERSION_PATCH 0
#define SVK_VERSION_STRING "0.1.0"
/* One number that compares in release order: 0xMMmmpp. */
#define SVK_VERSION_NUM \
    ((SVK_VERSION_MAJOR << 16) | (SVK_VERSION_MINOR << 8) | SVK_VERSION_PATCH)

/*
 * svk_version — the version of the library actually linked, "MAJOR.MINOR.PATCH".
 *
 * Compare with SVK_VERSION_STRING to detect a header/library mismatch.
 * Ownership: the string is static; never free it.
 * Threads: safe from any thread.
 * Errors: none.
 * Since: 0.1.0
 */
SVK_API const char *svk_version(void);

/*
 * svk_version_num — the linked library's version as SVK_VERSION_NUM encodes it.
 *
 * Ownership: none.
 * Threads: safe from any thread.
 * Errors: none.
 * Since: 0.1.0
 */
SVK_API unsigned svk_version_num(void);

/* ----------------------------------------------------------------- errors */

/*
 * Error codes. Every failing call returns one of these (always negative).
 * The list is append-only: a value, once published, never changes meaning.
 */
enum svk_errcode {
    SVK_OK = 0,
    SVK_EINVAL = -1,     /* an argument or an input is malformed */
    SVK_ENOMEM = -2,     /* the allocator returned NULL */
    SVK_ERANGE = -3,     /* a value is out of range or overflows */
    SVK_ENOENT = -4,     /* the thing asked for does not exist */
    SVK_EEXIST = -5,     /* the thing to create already exists */
    SVK_EAGAIN = -6,     /* not possible now; try again later */
    SVK_ETIMEDOUT = -7,  /* a deadline passed */
    SVK_ECANCELED = -8,  /* the operation was cancelled */
    SVK_EIO = -9,        /* an I/O error from the system */
    SVK_ECLOSED = -10,   /* the object or peer is closed or shutting down */
    SVK_EBUSY = -11,     /* a limit was reached (connections, pool, queue) */
    SVK_ESTATE = -12,    /* call not valid in the object's current state */
    SVK_ETOOBIG = -13,   /* an input exceeds a configured size limit */
    SVK_EPROTO = -14,    /* a peer broke its protocol */
    SVK_EUNAVAIL = -15,  /* a dependency (database, broker, host) is down */
    SVK_ESYS = -16,      /* another system call failed; detail says which */
    SVK_ENOTSUP = -17,   /* not supported by this build or this peer */
    SVK_ECONFLICT = -18, /* a uniqueness or exclusion rule was violated */
    SVK_ESERIALIZE = -19,/* a serialization failure: retry the transaction */
    SVK_EDEADLOCK = -20, /* chosen as a deadlock victim: retry the transaction */
    SVK_EDB = -21        /* the database rejected the statement; detail says why */
};

/*
 * svk_strerror — a short English description of an error code.
 *
 * Accepts any int: 0 gives "success", an unknown code gives "unknown error".
 * Ownership: the string is static; never free it.
 * Threads: safe from any thread.
 * Errors: none.
 * Since: 0.1.0
 */
SVK_API const char *svk_strerror(int code);

/*
 * svk_errname — the symbolic name of an error code, e.g. "SVK_EINVAL".
 *
 * Unknown codes give "SVK_E?". Useful in logs and test output.
 * Ownership: static string. Threads: safe from any thread. Errors: none.
 * Since: 0.1.0
 */
SVK_API const char *svk_errname(int code);

#define SVK_ERROR_MESSAGE_SIZE 256

/*
 * svk_error — optional detail for a failed call that has no handle to carry it.
 *
 * The caller owns the struct (usually on its stack) and passes its address;
 * the library fills it only on failure: code is the returned SVK_E* value and
 * message a NUL-terminated sentence, truncated to fit. The layout is frozen.
 */
typedef struct svk_error {
    int code;
    char message[SVK_ERROR_MESSAGE_SIZE];
} svk_error;

/*
 * svk_error_clear — reset an svk_error to "no error" (code 0, empty message).
 *
 * Ownership: err is borrowed for the call; NULL is a no-op.
 * Threads: any thread that owns err. Errors: none.
 * Since: 0.1.0
 */
SVK_API void svk_error_clear(svk_error *err);

/* -------------------------------------------------------------- allocator */

/*
 * Allocator hooks. The library calls these for every allocation it makes.
 * They must behave like malloc/realloc/free (realloc(NULL, n) allocates,
 * free(NULL) is a no-op) and may be called from any thread. user is passed
 * back unchanged. A NULL from malloc_fn or realloc_fn is reported to the
 * caller of the library function as SVK_ENOMEM.
 */
typedef void *(*svk_malloc_fn)(size_t size, void *user);
typedef void *(*svk_realloc_fn)(void *ptr, size_t size, void *user);
typedef void (*svk_free_fn)(void *ptr, void *user);

/*
 * svk_set_allocator — replace the library's allocator (default: libc).
 *
 * Pass all three functions, or all three NULL to restore libc's.
 * Ownership: user is borrowed until the allocator is replaced again.
 * Threads: NOT thread-safe. Call it once, before any other libsvckit call and
 *          before any thread uses the library; memory allocated under one
 *          allocator must not be freed after switching to another.
 * Errors: SVK_EINVAL if only some of the functions are NULL.
 * Since: 0.1.0
 */
SVK_API int svk_set_allocator(svk_malloc_fn malloc_fn, svk_realloc_fn realloc_fn,
                              svk_free_fn free_fn, void *user);

/*
 * svk_malloc / svk_realloc / svk_free — allocate through the library's hooks.
 *
 * Use svk_free for every "new" pointer the library hands you that has no
 * dedicated destructor (strings, detached buffers). svk_malloc(0) returns a
 * unique pointer (never NULL on success).
 * Ownership: svk_malloc/svk_realloc return new memory; svk_free takes it back
 *            (NULL is a no-op).
 * Threads: safe from any thread.
 * Errors: NULL when the hook fails; on failure svk_realloc leaves ptr intact.
 * Since: 0.1.0
 */
SVK_API void *svk_malloc(size_t size);
SVK_API void *svk_realloc(void *ptr, size_t size);
SVK_API void svk_free(void *ptr);

/* ----------------------------------------------------------------- clocks */

/*
 * svk_clock_mono_ns — nanoseconds on the monotonic clock (CLOCK_MONOTONIC).
 *
 * Never goes backwards; the origin is arbitrary (boot). Use it for timeouts,
 * deadlines and durations.
 * Threads: safe from any thread. Errors: none.
 * Since: 0.1.0
 */
SVK_API int64_t svk_clock_mono_ns(void);

/*
 * svk_clock_wall_ns — nanoseconds since the Unix epoch (CLOCK_REALTIME).
 *
 * May jump when the system clock is set; use it for timestamps, never for
 * measuring time.
 * Threads: safe from any thread. Errors: none.
 * Since: 0.1.0
 */
SVK_API int64_t svk_clock_wall_ns(void);

/* ------------------------------------------------------------------- uuid */

#define SVK_UUID_STRLEN 36 /* "xxxxxxxx-xxxx-7xxx-Vxxx-xxxxxxxxxxxx" */

/*
 * svk_uuid — 16 bytes in network order (RFC 9562). Layout frozen. Ordering
 * the bytes with memcmp orders UUIDv7 values by creation time.
 */
typedef struct svk_uuid {
    uint8_t bytes[16];
} svk_uuid;

/*
 * svk_uuid_v7 — make a new UUIDv7 (RFC 9562 §5.7).
 *
 * 48-bit Unix time in ms, version 7, variant 10, then a 42-bit counter
 * (RFC 9562 §6.2 method 1, seeded randomly each new millisecond) and 32
 * random bits from the kernel's CSPRNG. Values are strictly increasing
 * within a process, across threads, even many per millisecond and even if
 * the wall clock steps back (the last timestamp is reused until the clock
 * catches up). A child process after fork() starts a fresh sequence.
 * Ownership: out is borrowed for the call.
 * Threads: safe from any thread (one short internal lock).
 * Errors: SVK_EINVAL if out is NULL; SVK_ESYS if the kernel refuses random
 *         bytes (getrandom); out is untouched on failure.
 * Since: 0.1.0
 */
SVK_API int svk_uuid_v7(svk_uuid *out);

/*
 * svk_uuid_format — write u as 36 lowercase characters plus a NUL.
 *
 * Ownership: u borrowed; out is the caller's buffer of at least
 *            SVK_UUID_STRLEN + 1 bytes.
 * Threads: safe from any thread. Errors: none.
 * Since: 0.1.0
 */
SVK_API void svk_uuid_format(const svk_uuid *u, char out[SVK_UUID_STRLEN + 1]);

/*
 * svk_uuid_parse — parse the canonical text form of a UUIDv7.
 *
 * Accepts exactly 36 characters, 8-4-4-4-12 hex digits (either case) with
 * hyphens, version nibble 7 and RFC 9562 variant (10xx). Anything else —
 * wrong length, braces, "urn:uuid:", missing or misplaced hyphens, non-hex,
 * another version or variant — is rejected. s need not be NUL-terminated.
 * Ownership: s borrowed for len bytes; out borrowed; err optional.
 * Threads: safe from any thread.
 * Errors: SVK_EINVAL (with the reason in err); out is untouched on failure.
 * Since: 0.1.0
 */
SVK_API int svk_uuid_parse(const char *s, size_t len, svk_uuid *out, svk_error *err);

/*
 * svk_uuid_v7_unix_ms — the Unix time in milliseconds stored in a UUIDv7.
 *
 * Ownership: u borrowed. Threads: safe from any thread.
 * Errors: none (the caller passes a valid UUIDv7).
 * Since: 0.1.0
 */
SVK_API int64_t svk_uuid_v7_unix_ms(const svk_uuid *u);

/*
 * svk_uuid_compare — memcmp-style order: <0, 0, >0 as a sorts before,
 * equals or after b. Threads: safe. Errors: none. Since: 0.1.0
 */
SVK_API int svk_uuid_compare(const svk_uuid *a, const svk_uuid *b);

/* -------------------------------------------------------------------- buf */

/*
 * svk_buf — a growable byte buffer. Zero-initialise it (SVK_BUF_INIT) and
 * append; after any successful append data[len] is a NUL (not counted in
 * len), so text can be used as a C string. Layout frozen.
 *
 * The caller owns the struct; the library owns data until svk_buf_free or
 * svk_buf_detach. Not thread-safe: one thread at a time per buffer.
 */
typedef struct svk_buf {
    unsigned char *data; /* NULL until the first allocation */
    size_t len;          /* bytes in use */
    size_t cap;          /* bytes allocated (including room for the NUL) */
} svk_buf;

#define SVK_BUF_INIT {NULL, 0, 0}

/*
 * svk_buf_reserve — make room for at least extra more bytes (plus the NUL).
 *
 * Growth is geometric, so repeated appends cost amortised O(1).
 * Ownership: b borrowed. Threads: the thread owning b.
 * Errors: SVK_EINVAL (b NULL), SVK_ERANGE (size overflow), SVK_ENOMEM; on
 *         failure b is unchanged.
 * Since: 0.1.0
 */
SVK_API int svk_buf_reserve(svk_buf *b, size_t extra);

/*
 * svk_buf_append — append n bytes copied from p (p may be NULL when n == 0).
 *
 * Ownership: b borrowed; p borrowed for the call (it may point into b itself).
 * Threads: the thread owning b.
 * Errors: as svk_buf_reserve; on failure b is unchanged.
 * Since: 0.1.0
 */
SVK_API int svk_buf_append(svk_buf *b, const void *p, size_t n);

/*
 * svk_buf_append_str — append the NUL-terminated string s (without its NUL).
 * Ownership, threads, errors: as svk_buf_append. Since: 0.1.0
 */
SVK_API int svk_buf_append_str(svk_buf *b, const char *s);

/*
 * svk_buf_appendf — append printf-style formatted text.
 *
 * Ownership: b borrowed; fmt and arguments borrowed for the call.
 * Threads: the thread owning b.
 * Errors: as svk_buf_append, plus SVK_EINVAL if fmt is invalid for vsnprintf;
 *         on failure b is unchanged.
 * Since: 0.1.0
 */
SVK_API int svk_buf_appendf(svk_buf *b, const char *fmt, ...) SVK_PRINTF(2, 3);

/*
 * svk_buf_reset — forget the contents (len = 0) but keep the memory for reuse.
 * Ownership: b borrowed; NULL is a no-op. Threads: owner of b. Errors: none.
 * Since: 0.1.0
 */
SVK_API void svk_buf_reset(svk_buf *b);

/*
 * svk_buf_free — release the memory and return b to SVK_BUF_INIT.
 * Ownership: b borrowed; NULL is a no-op. Threads: owner of b. Errors: none.
 * Since: 0.1.0
 */
SVK_API void svk_buf_free(svk_buf *b);

/*
 * svk_buf_detach — take the contents out of b as a NUL-terminated string.
 *
 * Returns the data (new: free it with svk_free) and stores its length in
 * *len_out when len_out is not NULL; b is left as SVK_BUF_INIT. An empty
 * buffer yields a new empty string.
 * Ownership: b borrowed. Threads: owner of b.
 * Errors: NULL if b is NULL or an empty string cannot be allocated (ENOMEM).
 * Since: 0.1.0
 */
SVK_API char *svk_buf_detach(svk_buf *b, size_t *len_out);

#ifdef __cplusplus
}
#endif

#endif /* SVCKIT_CORE_H */
