/*
 * stats.c — the relay's figures: counters, a latency histogram that never
 * allocates, svk_relay_stats_read, and the depth gauges refreshed by the relay
 * thread.
 *
 * The histogram is log-linear: bucket 0 holds everything under 1024 ns,
 * then each power of two is cut into 8 buckets, so a bucket is at most
 * 12.5% wide and 257 of them reach past an hour. Every bucket is an atomic
 * counter: the relay thread adds, any thread reads. A quantile is the
 * upper bound of the bucket holding it.
 *
 * The gauges come from one cheap statement: the count of waiting rows up
 * to 10000 (stopping there), PostgreSQL's live-row estimate beyond, and the
 * age of the row at the head of the primary key, which is the oldest (ids
 * are UUIDv7). svk_outbox_status_read counts exactly, for operators.
 */
#include "relay/relay_impl.h"

#include <stdlib.h>
#include <string.h>

#define EXACT_LIMIT 10000

static const char gauges_sql[] =
    "SELECT (SELECT count(*) FROM (SELECT 1 FROM svk_outbox LIMIT 10001) s),"
    " coalesce((SELECT n_live_tup FROM pg_stat_user_tables"
    " WHERE relid = 'svk_outbox'::regclass), 0),"
    " coalesce((SELECT (extract(epoch FROM clock_timestamp() - created_at) * 1e9)::int8"
    " FROM svk_outbox ORDER BY id LIMIT 1), 0)";

static int bucket_of(int64_t ns)
{
    if (ns < 1024)
        return 0;
    int e = 63 - __builtin_clzll((unsigned long long)ns); /* >= 10 */
    int sub = (int)((ns >> (e - 3)) & 7);
    int b = 1 + (e - 10) * SVK__RELAY_LAT_SUB + sub;
    return b < SVK__RELAY_LAT_BUCKETS ? b : SVK__RELAY_LAT_BUCKETS - 1;
}

static int64_t bucket_upper(int b)
{
    if (b == 0)
        return 1024;
    int e = (b - 1) / SVK__RELAY_LAT_SUB + 10;
    int sub = (b - 1) % SVK__RELAY_LAT_SUB;
    return (int64_t)(8 + sub + 1) << (e - 3);
}

void svk__relay_record_latency(svk_relay *r, int64_t ns)
{
    if (ns < 0)
        ns = 0; /* an insert stamped by a database clock that stepped */
    atomic_fetch_add_explicit(&r->fig.latency[bucket_of(ns)], 1, memory_order_relaxed);
    long long max = atomic_load_explicit(&r->fig.latency_max_ns, memory_order_relaxed);
    while (ns > max && !atomic_compare_exchange_weak(&r->fig.latency_max_ns, &max, ns))
        ;
}

void svk__relay_count(atomic_ullong *counter, uint64_t n)
{
    atomic_fetch_add_explicit(counter, n, memory_order_relaxed);
}

/* The quantiles of the histogram (a snapshot of each bucket in turn). */
static void latency_figures(const svk_relay *r, svk_relay_stats *s)
{
    uint64_t counts[SVK__RELAY_LAT_BUCKETS], total = 0;
    for (int b = 0; b < SVK__RELAY_LAT_BUCKETS; b++)
        total += counts[b] = atomic_load_explicit(&r->fig.latency[b], memory_order_relaxed);
    s->latency_count = total;
    const double q[3] = {0.50, 0.90, 0.99};
    int64_t *out[3] = {&s->latency_p50_ns, &s->latency_p90_ns, &s->latency_p99_ns};
    for (int i = 0; i < 3; i++) {
        uint64_t rank = (uint64_t)(q[i] * (double)total + 0.999999), seen = 0;
        *out[i] = 0;
        for (int b = 0; b < SVK__RELAY_LAT_BUCKETS && total > 0; b++)
            if ((seen += counts[b]) >= rank) {
                *out[i] = bucket_upper(b);
                break;
            }
    }
    s->latency_max_ns = atomic_load(&r->fig.latency_max_ns);
}

static void fill(const svk_relay *r, svk_relay_stats *s)
{
    const svk__relay_figures *f = &r->fig;
    s->ready = svk_relay_ready(r);
    s->breaker_open = atomic_load(&f->breaker_open);
    s->leases_held = atomic_load(&f->leases_held);
    s->partitions_blocked = atomic_load(&f->partitions_blocked);
    s->last_error = atomic_load(&f->last_error);
    s->outbox_depth = atomic_load(&f->outbox_depth);
    s->oldest_age_ns = atomic_load(&f->oldest_age_ns);
    s->claims = atomic_load(&f->claims);
    s->batches = atomic_load(&f->batches);
    s->published = atomic_load(&f->published);
    s->errors = atomic_load(&f->errors);
    s->publish_errors = atomic_load(&f->publish_errors);
    s->duplicates = atomic_load(&f->duplicates);
    s->lease_takeovers = atomic_load(&f->lease_takeovers);
    s->dead_lettered = atomic_load(&f->dead_lettered);
    latency_figures(r, s);
}

SVK_API int svk_relay_stats_read(const svk_relay *relay, svk_relay_stats *out)
{
    if (relay == NULL || out == NULL || out->size == 0 || out->size > sizeof *out)
        return SVK_EINVAL;
    svk_relay_stats s = SVK_RELAY_STATS_INIT;
    fill(relay, &s);
    memcpy((char *)out + sizeof out->size, (const char *)&s + sizeof s.size,
           out->size - sizeof out->size);
    return 0;
}

void svk__relay_refresh_gauges(svk_relay *r)
{
    svk_pg_result *res = NULL;
    int rc = svk_pg_exec(r->conn, svk__relay_claim_ctx(r), gauges_sql, 0, NULL, NULL, NULL,
                         &res);
    if (rc != 0) {
        svk__relay_conn_failed(r, rc);
        return; /* the figures stay as they were; the next round tries again */
    }
    int64_t exact = strtoll(svk_pg_result_value(res, 0, 0), NULL, 10);
    int64_t estimate = strtoll(svk_pg_result_value(res, 0, 1), NULL, 10);
    int64_t age = strtoll(svk_pg_result_value(res, 0, 2), NULL, 10);
    svk_pg_result_free(res);
    int64_t depth = exact <= EXACT_LIMIT ? exact : (estimate > exact ? estimate : exact);
    atomic_store(&r->fig.outbox_depth, depth);
    atomic_store(&r->fig.oldest_age_ns, exact == 0 ? 0 : (age > 0 ? age : 0));
}
