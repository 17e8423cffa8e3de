/*
 * outbox_impl.h — internal: what the outbox writer's files share.
 *
 * put.c (one event, svk_outbox_put) and put_batch.c (svk_outbox_put_batch)
 * both check events with check.c, which applies the broker's own rules
 * (broker/broker_impl.h) to the event as it will be published: with the
 * traceparent header the writer adds. Both call a PL/pgSQL function that
 * migration 3 creates (svk_outbox_put, svk_outbox_put_batch): it inserts
 * and, while some relay sleeps, queues the channel-only NOTIFY.
 */
#ifndef SVK_OUTBOX_IMPL_H
#define SVK_OUTBOX_IMPL_H

#include <stdbool.h>

#include "pg/conn.h"
#include "svckit/outbox.h"

/* The broker's limit on headers per message (svckit/broker.h). */
#define SVK__OUTBOX_HEADERS_MAX 64

/* The ctx's trace context as a header value, "" when it carries none. */
typedef struct svk__outbox_trace {
    char value[SVK_TRACEPARENT_LEN + 1];
} svk__outbox_trace;

void svk__outbox_trace_init(svk__outbox_trace *t, const svk_ctx *ctx);

/* Whether the event's own headers lack "traceparent" while the ctx has one. */
bool svk__outbox_adds_trace(const svk__outbox_trace *t, const svk_header *h, size_t n);

/*
 * Check event index (as svk_outbox_put documents), with the traceparent
 * that will be added: 0, or SVK_EINVAL recorded on c with the reason.
 */
int svk__outbox_check(svk_pg_conn *c, size_t index, const svk_outbox_event *e,
                      const svk__outbox_trace *t);

/*
 * 0 when statements may run in tx: SVK_EINVAL (NULL or finished) or
 * SVK_ESTATE (failed state, recorded on its connection) otherwise.
 */
int svk__outbox_tx_usable(svk_tx *tx);

#endif
