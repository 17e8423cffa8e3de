/*
 * sample.h — internal: zap-style sampling of hot repeated lines.
 */
#ifndef SVK_LOG_SAMPLE_H
#define SVK_LOG_SAMPLE_H

#include <stdint.h>

typedef struct svk__sampler svk__sampler;

/* A new sampler (svk_free it with svk__sampler_free), or NULL (ENOMEM). */
svk__sampler *svk__sampler_new(uint32_t first, uint32_t thereafter, int64_t tick_ns);
void svk__sampler_free(svk__sampler *s);

/* Whether the line (level, msg) at time now_ns passes. Thread-safe. */
int svk__sampler_allow(svk__sampler *s, int level, const char *msg, int64_t now_ns);

#endif
