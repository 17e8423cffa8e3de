/*
 * linebuf.h — internal: the calling thread's line buffer.
 */
#ifndef SVK_LOG_LINEBUF_H
#define SVK_LOG_LINEBUF_H

#include "svckit/core.h"

/* The calling thread's buffer, emptied; NULL only if registering the
 * thread-exit cleanup failed (then nothing is allocated). */
svk_buf *svk__line_buffer(void);

/* Done with the line: gives back memory after an unusually long one. */
void svk__line_buffer_done(svk_buf *b);

#endif
