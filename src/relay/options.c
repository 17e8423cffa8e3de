/*
 * options.c — svk_relay_options read, checked and turned into the relay's
 * configuration, and the relay's id.
 *
 * The timeouts must leave the leases room: a lease is renewed every third
 * of its duration, between batches, and one batch may take a claim, a
 * publish and a removal plus the commit; so lease_ns must cover a third of
 * itself plus all of that, with a margin.
 */
#include "broker/broker_impl.h"
#include "broker/pg_array.h"
#include "core/error_detail.h"
#include "relay/relay_impl.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define MS INT64_C(1000000)
#define SEC INT64_C(1000000000)
#define NAME_MAX_LEN 64

static void defaults(svk_relay_options *o)
{
    if (o->batch_size == 0)
        o->batch_size = 500;
    if (o->poll_interval_ns == 0)
        o->poll_interval_ns = 250 * MS;
    if (o->claim_timeout_ns == 0)
        o->claim_timeout_ns = 5 * SEC;
    if (o->publish_timeout_ns == 0)
        o->publish_timeout_ns = 5 * SEC;
    if (o->backoff_min_ns == 0)
        o->backoff_min_ns = 100 * MS;
    if (o->backoff_max_ns == 0)
        o->backoff_max_ns = 10 * SEC;
    if (o->breaker_threshold == 0)
        o->breaker_threshold = 5;
    if (o->partitions == 0)
        o->partitions = 16;
    if (o->lease_ns == 0)
        o->lease_ns = 30 * SEC;
    if (o->stats_interval_ns == 0)
        o->stats_interval_ns = SEC;
}

static bool any_negative(const svk_relay_options *o)
{
    return o->batch_size < 0 || o->poll_interval_ns < 0 || o->claim_timeout_ns < 0 ||
           o->publish_timeout_ns < 0 || o->backoff_min_ns < 0 || o->backoff_max_ns < 0 ||
           o->breaker_threshold < 0 || o->partitions < 0 || o->lease_ns < 0 ||
           o->stats_interval_ns < 0;
}

static int check_ranges(const svk_relay_options *o, svk_error *err)
{
    if (o->batch_size > 10000 || o->partitions > SVK__RELAY_PARTITIONS_MAX)
        return svk__error_set(err, SVK_EINVAL, "batch_size must be 1..10000 and partitions "
                              "1..%d", SVK__RELAY_PARTITIONS_MAX);
    if (o->backoff_min_ns > o->backoff_max_ns)
        return svk__error_set(err, SVK_EINVAL, "backoff_min_ns is above backoff_max_ns");
    /* lease/3 + 2 claims + publish (+ commit, a claim) must stay under the lease. */
    int64_t batch_ns = 2 * o->claim_timeout_ns + o->publish_timeout_ns;
    if (batch_ns > INT64_MAX / 3 || 2 * o->lease_ns < 3 * batch_ns)
        return svk__error_set(err, SVK_EINVAL, "lease_ns must be at least 1.5 x (2 x "
                              "claim_timeout_ns + publish_timeout_ns)");
    return 0;
}

static int copy_topics(svk__relay_config *cfg, const svk_relay_options *o, svk_error *err)
{
    if (o->ordered_topic_count > 0 && o->ordered_topics == NULL)
        return svk__error_set(err, SVK_EINVAL, "ordered_topics NULL with a count");
    for (size_t i = 0; i < o->ordered_topic_count; i++)
        if (!svk__broker_topic_valid(o->ordered_topics[i]))
            return svk__error_set(err, SVK_EINVAL, "ordered topic %zu is not a topic name", i);
    if (o->ordered_topic_count == 0)
        return 0;
    int rc = svk__pg_array_begin(&cfg->ordered_topics, SVK__PG_OID_TEXT, o->ordered_topic_count);
    for (size_t i = 0; i < o->ordered_topic_count && rc == 0; i++)
        rc = svk__pg_array_add(&cfg->ordered_topics, o->ordered_topics[i],
                               strlen(o->ordered_topics[i]));
    return rc == 0 ? 0 : svk__error_set(err, rc, "copying the ordered topics");
}

int svk__relay_config_read(svk__relay_config *cfg, const svk_relay_options *opts,
                           svk_error *err)
{
    svk_relay_options o = *opts; /* svk_relay_new made it a whole one */
    if (any_negative(&o))
        return svk__error_set(err, SVK_EINVAL, "a negative count or duration in the options");
    defaults(&o);
    int rc = check_ranges(&o, err);
    if (rc != 0)
        return rc;
    *cfg = (svk__relay_config){o.batch_size, o.poll_interval_ns, o.claim_timeout_ns,
                               o.publish_timeout_ns, o.backoff_min_ns, o.backoff_max_ns,
                               o.breaker_threshold, o.partitions, o.lease_ns,
                               o.stats_interval_ns, SVK_BUF_INIT};
    return copy_topics(cfg, &o, err);
}

void svk__relay_config_free(svk__relay_config *cfg)
{
    svk_buf_free(&cfg->ordered_topics);
}

static bool name_valid(const char *name)
{
    size_t n = strnlen(name, NAME_MAX_LEN + 1);
    if (n == 0 || n > NAME_MAX_LEN)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = name[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '-'))
            return false;
    }
    return true;
}

/* "name:host:pid:8 hex": unique per relay, readable in the lease table. */
int svk__relay_make_id(svk_relay *r, const char *name, svk_error *err)
{
    if (name == NULL)
        name = "relay";
    if (!name_valid(name))
        return svk__error_set(err, SVK_EINVAL, "name must be 1..%d of [A-Za-z0-9._-]",
                              NAME_MAX_LEN);
    char host[65] = "";
    if (gethostname(host, sizeof host - 1) != 0)
        return svk__error_set(err, SVK_ESYS, "gethostname failed");
    svk_uuid u;
    if (svk_uuid_v7(&u) != 0)
        return svk__error_set(err, SVK_ESYS, "no random bytes for the relay id");
    snprintf(r->id, sizeof r->id, "%s:%.64s:%ld:%02x%02x%02x%02x", name, host, (long)getpid(),
             u.bytes[12], u.bytes[13], u.bytes[14], u.bytes[15]);
    return 0;
}
