/*
 * linebuf.c — one line buffer per thread, so that logging allocates nothing
 * in steady state and threads never share a buffer.
 *
 * The buffer is a _Thread_local svk_buf; a pthread key whose value points
 * at it makes its memory go back (through svk_free) when the thread exits.
 * After a line longer than KEEP_MAX the memory is released at once, so one
 * huge line does not pin megabytes for the thread's lifetime.
 */
#include "log/linebuf.h"

#include <pthread.h>

#define KEEP_MAX (256 * 1024)

static _Thread_local svk_buf line;
static _Thread_local int registered;
static pthread_key_t cleanup_key;
static pthread_once_t key_once = PTHREAD_ONCE_INIT;
static int key_ok;

static void free_line(void *p)
{
    svk_buf_free(p);
}

static void make_key(void)
{
    key_ok = pthread_key_create(&cleanup_key, free_line) == 0;
}

svk_buf *svk__line_buffer(void)
{
    if (!registered) {
        pthread_once(&key_once, make_key);
        if (!key_ok || pthread_setspecific(cleanup_key, &line) != 0)
            return NULL;
        registered = 1;
    }
    line.len = 0;
    return &line;
}

void svk__line_buffer_done(svk_buf *b)
{
    if (b->cap > KEEP_MAX)
        svk_buf_free(b);
}
