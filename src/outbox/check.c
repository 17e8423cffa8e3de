/*
 * check.c — what every outbox event must be before it is written: exactly
 * what the brokers accept (broker/message.c decides, so the writer and the
 * brokers can never disagree), counting the traceparent header the writer
 * adds. An event that no broker accepts would otherwise sit at the head of
 * the outbox and stall its relay; refusing it here puts the error where it
 * can be handled, in the writer's transaction.
 *
 * Also the check that a transaction can take a statement.
 */
#include "broker/broker_impl.h"
#include "outbox/outbox_impl.h"

#include <string.h>
#include <strings.h>

#define TRACEPARENT "traceparent"

void svk__outbox_trace_init(svk__outbox_trace *t, const svk_ctx *ctx)
{
    if (svk_ctx_traceparent(ctx, t->value) != 0)
        t->value[0] = '\0';
}

bool svk__outbox_adds_trace(const svk__outbox_trace *t, const svk_header *h, size_t n)
{
    if (t->value[0] == '\0')
        return false;
    for (size_t i = 0; i < n; i++)
        if (h[i].name != NULL && strcasecmp(h[i].name, TRACEPARENT) == 0)
            return false;
    return true;
}

/* The broker's reason without its "message 0: " prefix (we check one at a time). */
static const char *broker_reason(void)
{
    const char *why = svk_broker_last_error(NULL);
    static const char prefix[] = "message 0";
    if (strncmp(why, prefix, sizeof prefix - 1) == 0)
        why += sizeof prefix - 1;
    return why[0] == ',' || why[0] == ':' ? why + 2 : why;
}

int svk__outbox_check(svk_pg_conn *c, size_t index, const svk_outbox_event *e,
                      const svk__outbox_trace *t)
{
    if (e->header_count > SVK__OUTBOX_HEADERS_MAX || (e->header_count > 0 && !e->headers))
        return svk__pg_conn_fail(c, SVK_EINVAL, "outbox event %zu: headers NULL, or more "
                                 "than %d", index, SVK__OUTBOX_HEADERS_MAX);
    svk_header all[SVK__OUTBOX_HEADERS_MAX + 1];
    size_t n = e->header_count;
    if (n > 0)
        memcpy(all, e->headers, n * sizeof all[0]);
    if (svk__outbox_adds_trace(t, e->headers, e->header_count))
        all[n++] = (svk_header){TRACEPARENT, t->value};
    svk_message m = SVK_MESSAGE_INIT;
    m.id = e->id;
    m.topic = e->topic;
    m.key = e->key;
    m.headers = all;
    m.header_count = n;
    m.payload = e->payload;
    m.payload_len = e->payload_len;
    if (svk__broker_check_batch(&m, 1) != 0)
        return svk__pg_conn_fail(c, SVK_EINVAL, "outbox event %zu: %s", index, broker_reason());
    return 0;
}

int svk__outbox_tx_usable(svk_tx *tx)
{
    if (tx == NULL || !tx->active)
        return SVK_EINVAL;
    if (tx->conn->tx_error != 0)
        return svk__pg_conn_fail(tx->conn, SVK_ESTATE,
                                 "the transaction is in the failed state: roll it back");
    return 0;
}
