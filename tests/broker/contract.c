/*
 * contract.c — the cases of the broker contract suite (see contract.h).
 *
 * Each case opens a broker through the factory, uses only svckit/broker.h,
 * and closes it. Timings are generous where the contract gives a lower
 * bound (a nack delay, an ack wait) and tight only where it promises speed
 * (a NOTIFY-class wake-up), so a loaded CI machine does not flake them.
 */
#include "contract.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MS INT64_C(1000000)
#define SEC INT64_C(1000000000)

typedef struct fixture {
    const contract_factory *f;
    contract_env env;
    char topic[96], topic2[96], group[96], group2[96];
} fixture;

static void begin(fixture *x, const contract_factory *f)
{
    memset(x, 0, sizeof *x);
    x->f = f;
    f->open(&x->env);
    cr_assert_not_null(x->env.broker, "%s: open made no broker", f->name);
    snprintf(x->topic, sizeof x->topic, "%s.orders.created", x->env.prefix);
    snprintf(x->topic2, sizeof x->topic2, "%s.orders.paid", x->env.prefix);
    snprintf(x->group, sizeof x->group, "%s_billing", x->env.prefix);
    snprintf(x->group2, sizeof x->group2, "%s_audit", x->env.prefix);
}

static void end(fixture *x)
{
    x->f->close(&x->env);
}

static int64_t now_ns(void)
{
    return svk_clock_mono_ns();
}

static void sleep_ns(int64_t ns)
{
    struct timespec ts = {ns / SEC, ns % SEC};
    while (nanosleep(&ts, &ts) != 0)
        ;
}

static svk_message make_msg(const char *topic, const char *key, const void *payload, size_t len)
{
    svk_message m = SVK_MESSAGE_INIT;
    cr_assert_eq(svk_uuid_v7(&m.id), 0);
    m.topic = topic;
    m.key = key;
    m.payload = payload;
    m.payload_len = len;
    return m;
}

static void publish(fixture *x, const svk_message *msgs, size_t n)
{
    int rc = svk_broker_publish(x->env.broker, NULL, msgs, n);
    cr_assert_eq(rc, 0, "publish: %s: %s", svk_errname(rc), svk_broker_last_error(NULL));
}

/* Publish one message carrying text to the test's topic; returns it. */
static svk_message publish_text(fixture *x, const char *text)
{
    svk_message m = make_msg(x->topic, NULL, text, strlen(text));
    publish(x, &m, 1);
    return m;
}

static svk_subscription *subscribe_opts(fixture *x, const char *group, const char *topic,
                                        int64_t ack_wait_ns, int max_batch)
{
    svk_subscribe_options o = SVK_SUBSCRIBE_OPTIONS_INIT;
    o.ack_wait_ns = ack_wait_ns;
    o.max_batch = max_batch;
    const char *topics[] = {topic};
    svk_subscription *s = NULL;
    int rc = svk_broker_subscribe(x->env.broker, NULL, group, topics, 1, &o, &s);
    cr_assert_eq(rc, 0, "subscribe: %s: %s", svk_errname(rc), svk_broker_last_error(NULL));
    return s;
}

static svk_subscription *subscribe(fixture *x, const char *group, const char *topic,
                                   int64_t ack_wait_ns)
{
    return subscribe_opts(x, group, topic, ack_wait_ns, 0);
}

static size_t fetch(svk_subscription *s, size_t max, int64_t wait_ns, svk_delivery **out)
{
    size_t n = 99;
    int rc = svk_subscription_fetch(s, NULL, max, wait_ns, out, &n);
    cr_assert_eq(rc, 0, "fetch: %s: %s", svk_errname(rc), svk_broker_last_error(NULL));
    return n;
}

static svk_delivery *fetch_one(svk_subscription *s, int64_t wait_ns)
{
    svk_delivery *d = NULL;
    cr_assert_eq(fetch(s, 1, wait_ns, &d), 1, "no delivery within %lld ms",
                 (long long)(wait_ns / MS));
    return d;
}

/* publish_text, then the delivery of it (the only message expected). */
static svk_delivery *publish_and_fetch(fixture *x, svk_subscription *s, const char *text,
                                       svk_message *sent)
{
    svk_message m = publish_text(x, text);
    if (sent != NULL)
        *sent = m;
    svk_delivery *d = fetch_one(s, 5 * SEC);
    cr_expect(svk_uuid_compare(&svk_delivery_message(d)->id, &m.id) == 0, "another message");
    return d;
}

/* Fetch until want deliveries arrived (or the time is up); returns how many. */
static size_t fetch_all(svk_subscription *s, size_t want, int64_t wait_ns, svk_delivery **out)
{
    size_t got = 0;
    int64_t until = now_ns() + wait_ns;
    while (got < want && now_ns() < until) {
        size_t max = want - got < 16 ? want - got : 16;
        got += fetch(s, max, until - now_ns(), out + got);
    }
    return got;
}

static void expect_none(svk_subscription *s, int64_t wait_ns)
{
    svk_delivery *d[8];
    size_t n = fetch(s, 8, wait_ns, d);
    for (size_t i = 0; i < n; i++)
        svk_delivery_free(d[i]);
    cr_assert_eq(n, 0, "%zu unexpected deliveries", n);
}

/*
 * Nothing for s while a claim made at claimed_ns (by s or another
 * subscription) with ack wait ack_wait_ns still holds: at most wait_ns, and
 * never closer than 100 ms to the claim's end. A slow machine may have used
 * the claim up already; then a delivery would be right, and the check is
 * skipped with a warning rather than failed.
 */
static void expect_none_while_claimed(svk_subscription *s, int64_t claimed_ns,
                                      int64_t ack_wait_ns, int64_t wait_ns)
{
    int64_t left = claimed_ns + ack_wait_ns - 100 * MS - now_ns();
    if (left < 50 * MS) {
        cr_log_warn("%lld ms left of the claim: no-redelivery check skipped",
                    (long long)(left / MS));
        return;
    }
    expect_none(s, left < wait_ns ? left : wait_ns);
}

static void settle_ok(int rc, const char *what)
{
    cr_assert_eq(rc, 0, "%s: %s: %s", what, svk_errname(rc), svk_broker_last_error(NULL));
}

static void ack_free(svk_delivery *d)
{
    settle_ok(svk_delivery_ack(d, NULL), "ack");
    svk_delivery_free(d);
}

static bool same_id(const svk_message *a, const svk_message *b)
{
    return svk_uuid_compare(&a->id, &b->id) == 0;
}

/* ------------------------------------------------------------- envelope */

static void expect_envelope(const svk_message *got, const svk_message *sent)
{
    cr_expect_geq(got->size, sizeof(svk_message));
    cr_expect(same_id(got, sent), "id");
    cr_expect_str_eq(got->topic, sent->topic);
    if (sent->key == NULL)
        cr_expect_null(got->key, "key");
    else
        cr_expect_str_eq(got->key, sent->key);
    cr_expect_eq(got->payload_len, sent->payload_len);
    if (sent->payload_len > 0)
        cr_expect(memcmp(got->payload, sent->payload, sent->payload_len) == 0, "payload");
    cr_expect_eq(got->attempt, 1);
    cr_expect_eq(got->header_count, sent->header_count);
    for (size_t i = 0; i < sent->header_count; i++) {
        const char *v = svk_message_header(got, sent->headers[i].name);
        cr_expect_not_null(v, "header %s", sent->headers[i].name);
        if (v != NULL)
            cr_expect_str_eq(v, sent->headers[i].value);
    }
}

void contract_round_trip_every_field(const contract_factory *f)
{
    fixture x;
    begin(&x, f);
    svk_subscription *s = subscribe(&x, x.group, x.topic, 0);
    static const unsigned char payload[] = {0x00, 0x01, 0xff, 0x00, 'a', 0x00, 0x80, 0x00};
    static const svk_header headers[] = {
        {"traceparent", "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"},
        {"Content-Type", "application/octet-stream"},
        {"x-text", "gr\xc3\xbc\xc3\x9f" "e \xe2\x9c\x93\tok"},
        {"x-empty", ""},
    };
    svk_message m[2];
    m[0] = make_msg(x.topic, "order-42", payload, sizeof payload);
    m[0].headers = headers;
    m[0].header_count = 4;
    m[1] = make_msg(x.topic, NULL, "plain", 5);
    publish(&x, m, 2);
    svk_delivery *d[2];
    cr_assert_eq(fetch_all(s, 2, 5 * SEC, d), 2);
    expect_envelope(svk_delivery_message(d[0]), &m[0]);
    expect_envelope(svk_delivery_message(d[1]), &m[1]);
    const svk_message *got = svk_delivery_message(d[0]);
    cr_expect_str_eq(svk_message_header(got, "TRACEPARENT"), headers[0].value,
                     "names compare ignoring case");
    cr_expect_null(svk_message_header(got, "missing"));
    ack_free(d[0]);
    ack_free(d[1]);
    expect_none(s, 300 * MS);
    svk_subscription_free(s);
    end(&x);
}

void contract_empty_and_large_payloads(const contract_factory *f)
{
    fixture x;
    begin(&x, f);
    svk_subscription *s = subscribe(&x, x.group, x.topic, 0);
    size_t big_len = 1024 * 1024;
    unsigned char *big = malloc(big_len);
    cr_assert_not_null(big);
    for (size_t i = 0; i < big_len; i++)
        big[i] = (unsigned char)((i * 31) ^ (i >> 8)); /* NULs included */
    svk_message m[2] = {make_msg(x.topic, "k", NULL, 0), make_msg(x.topic, "k", big, big_len)};
    publish(&x, m, 2);
    svk_delivery *d[2];
    cr_assert_eq(fetch_all(s, 2, 10 * SEC, d), 2);
    expect_envelope(svk_delivery_message(d[0]), &m[0]);
    expect_envelope(svk_delivery_message(d[1]), &m[1]);
    ack_free(d[0]);
    ack_free(d[1]);
    free(big);
    svk_subscription_free(s);
    end(&x);
}

/* ------------------------------------------------------------- delivery */

void contract_attempt_increments_on_redelivery(const contract_factory *f)
{
    fixture x;
    begin(&x, f);
    svk_subscription *s = subscribe(&x, x.group, x.topic, 0);
    svk_message m = publish_text(&x, "x");
    for (int attempt = 1; attempt <= 3; attempt++) {
        svk_delivery *d = fetch_one(s, 5 * SEC);
        cr_expect(same_id(svk_delivery_message(d), &m));
        cr_expect_eq(svk_delivery_message(d)->attempt, attempt);
        if (attempt < 3)
            settle_ok(svk_delivery_nack(d, NULL, 0), "nack");
        else
            settle_ok(svk_delivery_ack(d, NULL), "ack");
        svk_delivery_free(d);
    }
    expect_none(s, 300 * MS);
    svk_subscription_free(s);
    end(&x);
}

void contract_fan_out_to_two_groups(const contract_factory *f)
{
    fixture x;
    begin(&x, f);
    svk_subscription *a = subscribe(&x, x.group, x.topic, 0);
    svk_subscription *b = subscribe(&x, x.group2, x.topic, 0);
    svk_message m[3] = {make_msg(x.topic, "1", "a", 1), make_msg(x.topic, "2", "b", 1),
                        make_msg(x.topic, "3", "c", 1)};
    publish(&x, m, 3);
    svk_delivery *da[3], *db[3];
    cr_assert_eq(fetch_all(a, 3, 5 * SEC, da), 3);
    for (int i = 0; i < 3; i++)
        ack_free(da[i]);
    expect_none(a, 200 * MS);
    cr_assert_eq(fetch_all(b, 3, 5 * SEC, db), 3, "acks in one group leave the other's");
    for (int i = 0; i < 3; i++) {
        cr_expect(same_id(svk_delivery_message(db[i]), &m[i]));
        ack_free(db[i]);
    }
    svk_subscription_free(a);
    svk_subscription_free(b);
    end(&x);
}

void contract_durable_interest_without_subscription(const contract_factory *f)
{
    fixture x;
    begin(&x, f);
    svk_subscription_free(subscribe(&x, x.group, x.topic, 0));
    svk_message m[2] = {make_msg(x.topic, NULL, "kept", 4), make_msg(x.topic2, NULL, "no", 2)};
    publish(&x, m, 2);
    svk_subscription *s = subscribe(&x, x.group, x.topic, 0);
    svk_delivery *d = fetch_one(s, 5 * SEC);
    cr_expect(same_id(svk_delivery_message(d), &m[0]), "kept while nobody was fetching");
    ack_free(d);
    expect_none(s, 300 * MS); /* topic2 is not the group's */
    svk_subscription_free(s);
    end(&x);
}

/* ---------------------------------------------------- competing fetchers */

#define COMPETE_N 10000

typedef struct competitor {
    svk_subscription *s;
    atomic_int *state; /* per message: 0 waiting, 1 being handled, 2 acked */
    atomic_long *acked;
    long got, violations, errors;
    char error[256];
} competitor;

static void handle_competing(competitor *c, svk_delivery *d)
{
    const svk_message *m = svk_delivery_message(d);
    uint32_t idx = 0;
    if (m->payload_len == sizeof idx)
        memcpy(&idx, m->payload, sizeof idx);
    if (m->payload_len != sizeof idx || idx >= COMPETE_N || m->attempt != 1) {
        c->violations++;
    } else if (atomic_exchange(&c->state[idx], 1) != 0) {
        c->violations++; /* held by the other fetcher, or delivered after its ack */
    } else {
        int rc = svk_delivery_ack(d, NULL);
        atomic_store(&c->state[idx], rc == 0 ? 2 : 0);
        if (rc == 0)
            atomic_fetch_add(c->acked, 1);
        else if (c->errors++ == 0)
            snprintf(c->error, sizeof c->error, "ack: %s", svk_broker_last_error(NULL));
    }
    c->got++;
    svk_delivery_free(d);
}

static void *compete(void *arg)
{
    competitor *c = arg;
    int64_t until = now_ns() + 180 * SEC;
    while (atomic_load(c->acked) < COMPETE_N && now_ns() < until) {
        svk_delivery *d[64];
        size_t n = 0;
        if (svk_subscription_fetch(c->s, NULL, 64, 200 * MS, d, &n) != 0) {
            if (c->errors++ == 0)
                snprintf(c->error, sizeof c->error, "fetch: %s", svk_broker_last_error(NULL));
            continue;
        }
        for (size_t i = 0; i < n; i++)
            handle_competing(c, d[i]);
    }
    return NULL;
}

static void publish_numbered(fixture *x, uint32_t n)
{
    enum { BATCH = 500 };
    static svk_message m[BATCH];
    static uint32_t idx[BATCH];
    for (uint32_t start = 0; start < n; start += BATCH) {
        uint32_t k = n - start < BATCH ? n - start : BATCH;
        for (uint32_t i = 0; i < k; i++) {
            idx[i] = start + i;
            m[i] = make_msg(x->topic, NULL, &idx[i], sizeof idx[i]);
        }
        publish(x, m, k);
    }
}

void contract_competing_fetchers_exactly_once(const contract_factory *f)
{
    fixture x;
    begin(&x, f);
    static atomic_int state[COMPETE_N];
    atomic_long acked = 0;
    competitor c[2];
    for (int i = 0; i < 2; i++)
        c[i] = (competitor){subscribe(&x, x.group, x.topic, 0), state, &acked, 0, 0, 0, ""};
    publish_numbered(&x, COMPETE_N);
    pthread_t t[2];
    for (int i = 0; i < 2; i++)
        cr_assert_eq(pthread_create(&t[i], NULL, compete, &c[i]), 0);
    for (int i = 0; i < 2; i++)
        pthread_join(t[i], NULL);
    for (int i = 0; i < 2; i++) {
        cr_expect_eq(c[i].violations, 0, "fetcher %d: %ld double or bad deliveries", i,
                     c[i].violations);
        cr_expect_eq(c[i].errors, 0, "fetcher %d: %ld errors, first: %s", i, c[i].errors,
                     c[i].error);
        cr_expect_gt(c[i].got, 0, "fetcher %d got nothing: no competition happened", i);
    }
    cr_expect_eq(atomic_load(&acked), COMPETE_N);
    long missing = 0;
    for (int i = 0; i < COMPETE_N; i++)
        missing += atomic_load(&state[i]) != 2;
    cr_expect_eq(missing, 0, "%ld messages never acked", missing);
    fprintf(stderr, "contract[%s]: competing fetchers got %ld + %ld of %d\n", f->name, c[0].got,
            c[1].got, COMPETE_N);
    expect_none(c[0].s, 200 * MS);
    svk_subscription_free(c[0].s);
    svk_subscription_free(c[1].s);
    end(&x);
}

/* --------------------------------------------------------------- settle */

void contract_nack_with_delay(const contract_factory *f)
{
    fixture x;
    begin(&x, f);
    svk_subscription *s = subscribe(&x, x.group, x.topic, 0);
    svk_delivery *d = publish_and_fetch(&x, s, "later", NULL);
    int64_t t0 = now_ns();
    settle_ok(svk_delivery_nack(d, NULL, 800 * MS), "nack");
    svk_delivery_free(d);
    d = fetch_one(s, 10 * SEC);
    int64_t waited = now_ns() - t0;
    cr_expect_geq(waited, 800 * MS, "redelivered %lld ms after a nack of 800 ms",
                  (long long)(waited / MS));
    cr_expect_eq(svk_delivery_message(d)->attempt, 2);
    ack_free(d);
    svk_subscription_free(s);
    end(&x);
}

void contract_ack_wait_expiry_redelivers(const contract_factory *f)
{
    fixture x;
    begin(&x, f);
    svk_subscription *s = subscribe(&x, x.group, x.topic, 500 * MS);
    svk_message m;
    int64_t before = now_ns();
    svk_delivery *d = publish_and_fetch(&x, s, "crash", &m);
    int64_t t0 = now_ns();
    svk_delivery_free(d); /* the consumer "crashed": never settled */
    expect_none_while_claimed(s, before, 500 * MS, 200 * MS);
    d = fetch_one(s, 10 * SEC);
    /* The claim was made between before and t0: no redelivery before it
     * is 500 ms old. */
    int64_t waited = now_ns() - t0;
    cr_expect_geq(waited, 500 * MS - (t0 - before), "redelivered %lld ms after the fetch"
                  " returned (%lld ms after the publish), ack wait 500 ms",
                  (long long)(waited / MS), (long long)((now_ns() - before) / MS));
    cr_expect(same_id(svk_delivery_message(d), &m));
    cr_expect_eq(svk_delivery_message(d)->attempt, 2);
    ack_free(d);
    svk_subscription_free(s);
    end(&x);
}

void contract_settle_after_refetch_is_timedout(const contract_factory *f)
{
    fixture x;
    begin(&x, f);
    svk_subscription *s1 = subscribe(&x, x.group, x.topic, 400 * MS);
    svk_subscription *s2 = subscribe(&x, x.group, x.topic, 400 * MS);
    svk_message m[2] = {make_msg(x.topic, NULL, "a", 1), make_msg(x.topic, NULL, "b", 1)};
    publish(&x, m, 1);
    svk_delivery *old = fetch_one(s1, 5 * SEC);
    svk_delivery *now = fetch_one(s2, 10 * SEC); /* after the ack wait */
    cr_expect_eq(svk_delivery_message(now)->attempt, 2);
    cr_expect_eq(svk_delivery_ack(old, NULL), SVK_ETIMEDOUT);
    cr_expect_eq(svk_delivery_ack(old, NULL), SVK_ESTATE);
    cr_expect_eq(svk_delivery_nack(old, NULL, 0), SVK_ESTATE);
    svk_delivery_free(old);
    ack_free(now);
    expect_none(s1, 700 * MS); /* the late ack undid nothing: nothing comes back */

    publish(&x, &m[1], 1);
    old = fetch_one(s1, 5 * SEC);
    now = fetch_one(s2, 10 * SEC);
    int64_t claimed = now_ns();
    cr_expect_eq(svk_delivery_nack(old, NULL, 0), SVK_ETIMEDOUT, "a late nack");
    cr_expect_eq(svk_delivery_term(old, NULL), SVK_ESTATE);
    svk_delivery_free(old);
    expect_none_while_claimed(s1, claimed, 400 * MS, 200 * MS); /* still s2's claim */
    settle_ok(svk_delivery_term(now, NULL), "term");
    svk_delivery_free(now);
    svk_subscription_free(s1);
    svk_subscription_free(s2);
    end(&x);
}

void contract_term_never_again(const contract_factory *f)
{
    fixture x;
    begin(&x, f);
    svk_subscription *s = subscribe(&x, x.group, x.topic, 300 * MS);
    svk_delivery *d = publish_and_fetch(&x, s, "poison", NULL);
    settle_ok(svk_delivery_term(d, NULL), "term");
    svk_delivery_free(d);
    expect_none(s, 900 * MS); /* three ack waits */
    svk_subscription_free(s);
    end(&x);
}

void contract_settle_twice_is_estate(const contract_factory *f)
{
    fixture x;
    begin(&x, f);
    svk_subscription *s = subscribe(&x, x.group, x.topic, 0);
    enum { ACK, NACK, TERM };
    static const int pairs[][2] = {{ACK, ACK}, {ACK, NACK}, {NACK, TERM}, {TERM, ACK}};
    for (size_t i = 0; i < sizeof pairs / sizeof pairs[0]; i++) {
        svk_delivery *d = publish_and_fetch(&x, s, "twice", NULL);
        for (int k = 0; k < 2; k++) {
            int op = pairs[i][k];
            int rc = op == ACK    ? svk_delivery_ack(d, NULL)
                     : op == NACK ? svk_delivery_nack(d, NULL, 0)
                                  : svk_delivery_term(d, NULL);
            cr_expect_eq(rc, k == 0 ? 0 : SVK_ESTATE, "pair %zu, settle %d: %s", i, k,
                         svk_errname(rc));
        }
        svk_delivery_free(d);
        if (pairs[i][0] == NACK)
            ack_free(fetch_one(s, 5 * SEC));
    }
    expect_none(s, 200 * MS);
    svk_subscription_free(s);
    end(&x);
}

void contract_duplicate_id_once_per_group(const contract_factory *f)
{
    fixture x;
    begin(&x, f);
    svk_subscription *a = subscribe(&x, x.group, x.topic, 0);
    svk_subscription *b = subscribe(&x, x.group2, x.topic, 0);
    svk_message m = make_msg(x.topic, NULL, "once", 4);
    svk_message twin[2] = {make_msg(x.topic, NULL, "twin", 4)};
    twin[1] = twin[0];
    publish(&x, &m, 1);
    publish(&x, &m, 1);
    publish(&x, twin, 2);
    svk_subscription *subs[] = {a, b};
    for (int g = 0; g < 2; g++) {
        svk_delivery *d[4];
        size_t n = fetch_all(subs[g], 4, 1500 * MS, d);
        cr_expect_eq(n, 2, "group %d: %zu deliveries of 2 distinct ids", g, n);
        for (size_t i = 0; i < n; i++)
            ack_free(d[i]);
    }
    svk_subscription_free(a);
    svk_subscription_free(b);
    end(&x);
}

/* ------------------------------------------------------------ validation */

/* A batch of one good message and one broken by breaker: nothing goes out. */
static void expect_rejected(fixture *x, void (*breaker)(svk_message *, const char *),
                            const char *what)
{
    svk_message m[2] = {make_msg(x->topic, NULL, "ok", 2), make_msg(x->topic, NULL, "bad", 3)};
    breaker(&m[1], what);
    int rc = svk_broker_publish(x->env.broker, NULL, m, 2);
    const char *name = what ? what : "(NULL)";
    cr_expect_eq(rc, SVK_EINVAL, "%s: got %s", name, svk_errname(rc));
    cr_expect_neq(svk_broker_last_error(NULL)[0], '\0', "%s: no detail", name);
}

static void bad_topic(svk_message *m, const char *topic)
{
    m->topic = topic;
}

static void bad_key(svk_message *m, const char *key)
{
    m->key = key;
}

static void zero_id(svk_message *m, const char *unused)
{
    (void)unused;
    memset(&m->id, 0, sizeof m->id);
}

static void bad_payload(svk_message *m, const char *unused)
{
    (void)unused;
    m->payload = NULL;
    m->payload_len = 5;
}

static void bad_size(svk_message *m, const char *unused)
{
    (void)unused;
    m->size = sizeof(size_t);
}

/* what names the header set: two headers "<name1>:<value1>|<name2>:<value2>". */
static void bad_headers(svk_message *m, const char *what)
{
    static svk_header h[2];
    static const struct {
        const char *what;
        svk_header h[2];
    } sets[] = {
        {"duplicate", {{"X-Id", "1"}, {"x-id", "2"}}},
        {"space in name", {{"X Id", "1"}, {"ok", "2"}}},
        {"empty name", {{"", "1"}, {"ok", "2"}}},
        {"NULL name", {{NULL, "1"}, {"ok", "2"}}},
        {"NULL value", {{"a", NULL}, {"ok", "2"}}},
        {"CRLF in value", {{"a", "x\r\nInjected: 1"}, {"ok", "2"}}},
        {"invalid UTF-8", {{"a", "\xff\xfe"}, {"ok", "2"}}},
        {"reserved Nats-", {{"Nats-Msg-Id", "x"}, {"ok", "2"}}},
        {"reserved Svk-", {{"svk-key", "x"}, {"ok", "2"}}},
    };
    for (size_t i = 0; i < sizeof sets / sizeof sets[0]; i++)
        if (strcmp(sets[i].what, what) == 0)
            memcpy(h, sets[i].h, sizeof h);
    m->headers = h;
    m->header_count = 2;
}

static void null_headers(svk_message *m, const char *unused)
{
    (void)unused;
    m->headers = NULL;
    m->header_count = 1;
}

static void too_many_headers(svk_message *m, const char *unused)
{
    (void)unused;
    static svk_header h[65];
    static char names[65][8];
    for (int i = 0; i < 65; i++) {
        snprintf(names[i], sizeof names[i], "h%d", i);
        h[i] = (svk_header){names[i], "v"};
    }
    m->headers = h;
    m->header_count = 65;
}

void contract_publish_validation_publishes_nothing(const contract_factory *f)
{
    fixture x;
    begin(&x, f);
    svk_subscription *s = subscribe(&x, x.group, x.topic, 0);
    char long_topic[202];
    memset(long_topic, 'a', 201);
    long_topic[201] = '\0';
    const char *topics[] = {NULL, "", "a..b", ".a", "a.", "a b", "a*", "a>", "a/b", long_topic};
    for (size_t i = 0; i < sizeof topics / sizeof topics[0]; i++)
        expect_rejected(&x, bad_topic, topics[i]);
    const char *keys[] = {"", "line\nbreak", "\xc3", "bell\a"};
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
        expect_rejected(&x, bad_key, keys[i]);
    const char *header_sets[] = {"duplicate",     "space in name", "empty name",
                                 "NULL name",     "NULL value",    "CRLF in value",
                                 "invalid UTF-8", "reserved Nats-", "reserved Svk-"};
    for (size_t i = 0; i < sizeof header_sets / sizeof header_sets[0]; i++)
        expect_rejected(&x, bad_headers, header_sets[i]);
    expect_rejected(&x, null_headers, "headers NULL, count 1");
    expect_rejected(&x, too_many_headers, "65 headers");
    expect_rejected(&x, zero_id, "zero id");
    expect_rejected(&x, bad_payload, "payload NULL, length 5");
    expect_rejected(&x, bad_size, "unknown size");
    cr_expect_eq(svk_broker_publish(x.env.broker, NULL, NULL, 1), SVK_EINVAL);
    cr_expect_eq(svk_broker_publish(x.env.broker, NULL, NULL, 0), 0, "an empty batch");
    cr_expect_eq(svk_broker_publish(NULL, NULL, NULL, 0), SVK_EINVAL);
    expect_none(s, 300 * MS);
    svk_subscription_free(s);
    end(&x);
}

static int try_subscribe(fixture *x, const char *group, const char *const *topics, size_t n,
                         const svk_subscribe_options *o)
{
    svk_subscription *s = (svk_subscription *)&s; /* must come back NULL */
    int rc = svk_broker_subscribe(x->env.broker, NULL, group, topics, n, o, &s);
    cr_expect_null(s);
    return rc;
}

void contract_subscribe_and_fetch_validation(const contract_factory *f)
{
    fixture x;
    begin(&x, f);
    const char *topics[] = {x.topic};
    const char *bad_topics[] = {x.topic, "x..y"};
    char long_group[102];
    memset(long_group, 'g', 101);
    long_group[101] = '\0';
    const char *groups[] = {NULL, "", "a.b", "a b", "a*", long_group};
    for (size_t i = 0; i < sizeof groups / sizeof groups[0]; i++)
        cr_expect_eq(try_subscribe(&x, groups[i], topics, 1, NULL), SVK_EINVAL, "group %zu", i);
    cr_expect_eq(try_subscribe(&x, x.group, NULL, 1, NULL), SVK_EINVAL);
    cr_expect_eq(try_subscribe(&x, x.group, topics, 0, NULL), SVK_EINVAL);
    cr_expect_eq(try_subscribe(&x, x.group, bad_topics, 2, NULL), SVK_EINVAL);
    svk_subscribe_options o = SVK_SUBSCRIBE_OPTIONS_INIT;
    o.size = 0;
    cr_expect_eq(try_subscribe(&x, x.group, topics, 1, &o), SVK_EINVAL);
    o = (svk_subscribe_options)SVK_SUBSCRIBE_OPTIONS_INIT;
    o.ack_wait_ns = -1;
    cr_expect_eq(try_subscribe(&x, x.group, topics, 1, &o), SVK_EINVAL);
    cr_expect_eq(svk_broker_subscribe(x.env.broker, NULL, x.group, topics, 1, NULL, NULL),
                 SVK_EINVAL);

    svk_subscription *s = subscribe_opts(&x, x.group, x.topic, 0, 8);
    svk_delivery *d[16];
    size_t n = 7;
    cr_expect_eq(svk_subscription_fetch(s, NULL, 0, 0, d, &n), SVK_EINVAL);
    cr_expect_eq(n, 0);
    cr_expect_eq(svk_subscription_fetch(s, NULL, 9, 0, d, &n), SVK_EINVAL, "max > max_batch");
    cr_expect_eq(svk_subscription_fetch(s, NULL, 8, -1, d, &n), SVK_EINVAL);
    cr_expect_eq(svk_subscription_fetch(s, NULL, 8, 0, NULL, &n), SVK_EINVAL);
    cr_expect_eq(svk_subscription_fetch(s, NULL, 8, 0, d, NULL), SVK_EINVAL);
    cr_expect_eq(svk_subscription_fetch(s, NULL, 8, 0, d, &n), 0, "max == max_batch is fine");
    cr_expect_eq(svk_delivery_ack(NULL, NULL), SVK_EINVAL);
    svk_subscription_free(s);
    end(&x);
}

/* --------------------------------------------------------------- waiting */

typedef struct canceller {
    svk_ctx *ctx;
    int64_t after_ns;
} canceller;

static void *cancel_later(void *arg)
{
    canceller *c = arg;
    sleep_ns(c->after_ns);
    svk_ctx_cancel(c->ctx);
    return NULL;
}

void contract_fetch_cancelled(const contract_factory *f)
{
    fixture x;
    begin(&x, f);
    svk_subscription *s = subscribe(&x, x.group, x.topic, 0);
    svk_ctx *ctx = NULL;
    cr_assert_eq(svk_ctx_new(&ctx, NULL), 0);
    svk_ctx_cancel(ctx);
    svk_delivery *d[1];
    size_t n = 5;
    cr_expect_eq(svk_subscription_fetch(s, ctx, 1, 5 * SEC, d, &n), SVK_ECANCELED);
    cr_expect_eq(n, 0);
    svk_ctx_free(ctx);

    cr_assert_eq(svk_ctx_new(&ctx, NULL), 0);
    canceller c = {ctx, 200 * MS};
    pthread_t t;
    cr_assert_eq(pthread_create(&t, NULL, cancel_later, &c), 0);
    int64_t t0 = now_ns();
    int rc = svk_subscription_fetch(s, ctx, 1, 10 * SEC, d, &n);
    int64_t took = now_ns() - t0;
    pthread_join(t, NULL);
    cr_expect_eq(rc, SVK_ECANCELED, "got %s", svk_errname(rc));
    cr_expect_lt(took, 1 * SEC, "a cancel 200 ms in ended the wait after %lld ms",
                 (long long)(took / MS));
    svk_ctx_free(ctx);
    svk_subscription_free(s);
    end(&x);
}

void contract_fetch_deadline_is_empty_not_error(const contract_factory *f)
{
    fixture x;
    begin(&x, f);
    svk_subscription *s = subscribe(&x, x.group, x.topic, 0);
    svk_ctx *ctx = NULL;
    cr_assert_eq(svk_ctx_new(&ctx, NULL), 0);
    cr_assert_eq(svk_ctx_set_timeout(ctx, 300 * MS), 0);
    svk_delivery *d[1];
    size_t n = 5;
    int64_t t0 = now_ns();
    cr_expect_eq(svk_subscription_fetch(s, ctx, 1, 10 * SEC, d, &n), 0);
    int64_t took = now_ns() - t0;
    cr_expect_eq(n, 0);
    cr_expect(took >= 250 * MS && took < 2 * SEC, "the 300 ms deadline ended it after %lld ms",
              (long long)(took / MS));
    n = 5;
    cr_expect_eq(svk_subscription_fetch(s, ctx, 1, 10 * SEC, d, &n), 0, "already expired");
    cr_expect_eq(n, 0);
    svk_ctx_free(ctx);
    svk_subscription_free(s);
    end(&x);
}

#define WAKE_ROUNDS 7

typedef struct waker {
    svk_subscription *s;
    int64_t got_at[WAKE_ROUNDS];
    int failures;
} waker;

static void *wait_for_rounds(void *arg)
{
    waker *w = arg;
    for (int r = 0; r < WAKE_ROUNDS; r++) {
        svk_delivery *d = NULL;
        size_t n = 0;
        int rc = svk_subscription_fetch(w->s, NULL, 1, 5 * SEC, &d, &n);
        w->got_at[r] = now_ns();
        if (rc != 0 || n != 1 || svk_delivery_ack(d, NULL) != 0)
            w->failures++;
        svk_delivery_free(d);
    }
    return NULL;
}

static int compare_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

void contract_wake_up_latency(const contract_factory *f)
{
    fixture x;
    begin(&x, f);
    waker w = {subscribe(&x, x.group, x.topic, 0), {0}, 0};
    pthread_t t;
    cr_assert_eq(pthread_create(&t, NULL, wait_for_rounds, &w), 0);
    int64_t published_at[WAKE_ROUNDS];
    for (int r = 0; r < WAKE_ROUNDS; r++) {
        sleep_ns(300 * MS); /* the fetcher is waiting by now */
        publish_text(&x, "wake");
        published_at[r] = now_ns();
    }
    pthread_join(t, NULL);
    cr_assert_eq(w.failures, 0);
    int64_t lat[WAKE_ROUNDS];
    fprintf(stderr, "contract[%s]: wake-up latency after publish returned, ms:", f->name);
    for (int r = 0; r < WAKE_ROUNDS; r++) {
        lat[r] = w.got_at[r] > published_at[r] ? w.got_at[r] - published_at[r] : 0;
        fprintf(stderr, " %.2f", (double)lat[r] / MS);
    }
    qsort(lat, WAKE_ROUNDS, sizeof lat[0], compare_i64);
    fprintf(stderr, " (median %.2f)\n", (double)lat[WAKE_ROUNDS / 2] / MS);
    cr_expect_lt(lat[WAKE_ROUNDS / 2], 50 * MS, "median wake-up %lld ms",
                 (long long)(lat[WAKE_ROUNDS / 2] / MS));
    svk_subscription_free(w.s);
    end(&x);
}

/* ----------------------------------------------------------------- order */

void contract_same_key_order_within_batch(const contract_factory *f)
{
    fixture x;
    begin(&x, f);
    svk_subscription *s = subscribe(&x, x.group, x.topic, 0);
    enum { N = 60, KEYS = 4 };
    static const char *const keys[KEYS] = {"k0", "k1", "k2", "k3"};
    svk_message m[N];
    uint32_t seq[N];
    for (uint32_t i = 0; i < N; i++) {
        seq[i] = i;
        m[i] = make_msg(x.topic, keys[i % KEYS], &seq[i], sizeof seq[i]);
    }
    /* Ids that sort against the batch order: order must come from the batch. */
    for (uint32_t i = 0; i < N / 2; i++) {
        svk_uuid tmp = m[i].id;
        m[i].id = m[N - 1 - i].id;
        m[N - 1 - i].id = tmp;
    }
    publish(&x, m, N);
    int64_t last[KEYS] = {-1, -1, -1, -1};
    size_t got = 0;
    int64_t until = now_ns() + 20 * SEC;
    while (got < N && now_ns() < until) {
        svk_delivery *d[7];
        size_t n = fetch(s, 7, 2 * SEC, d);
        for (size_t i = 0; i < n; i++) {
            const svk_message *dm = svk_delivery_message(d[i]);
            uint32_t v;
            memcpy(&v, dm->payload, sizeof v);
            int k = dm->key[1] - '0';
            cr_expect_gt((int64_t)v, last[k], "key %s: %u after %lld", dm->key, v,
                         (long long)last[k]);
            last[k] = v;
            ack_free(d[i]);
        }
        got += n;
    }
    cr_expect_eq(got, N);
    svk_subscription_free(s);
    end(&x);
}

/* ---------------------------------------------------------------- failure */

void contract_dead_server_unavailable(const contract_factory *f)
{
    contract_env env;
    memset(&env, 0, sizeof env);
    f->open_dead(&env);
    char topic[96], group[96];
    snprintf(topic, sizeof topic, "%s.orders", env.prefix);
    snprintf(group, sizeof group, "%s_billing", env.prefix);
    const char *topics[] = {topic};
    for (int round = 0; round < 3; round++) {
        svk_ctx *ctx = NULL;
        cr_assert_eq(svk_ctx_new(&ctx, NULL), 0);
        cr_assert_eq(svk_ctx_set_timeout(ctx, 2 * SEC), 0);
        svk_message m = make_msg(topic, NULL, "x", 1);
        int64_t t0 = now_ns();
        int rc = svk_broker_publish(env.broker, ctx, &m, 1);
        cr_expect_eq(rc, SVK_EUNAVAIL, "publish: %s", svk_errname(rc));
        svk_subscription *s = NULL;
        rc = svk_broker_subscribe(env.broker, ctx, group, topics, 1, NULL, &s);
        cr_expect_eq(rc, SVK_EUNAVAIL, "subscribe: %s", svk_errname(rc));
        int64_t took = now_ns() - t0;
        cr_expect_lt(took, 2500 * MS, "round %d took %lld ms past a 2 s deadline", round,
                     (long long)(took / MS));
        svk_ctx_free(ctx);
    }
    f->close(&env);
}

typedef struct other_thread {
    fixture *x;
    char before[64], after[64];
    int rc;
} other_thread;

static void *publish_elsewhere(void *arg)
{
    other_thread *o = arg;
    snprintf(o->before, sizeof o->before, "%s", svk_broker_last_error(NULL));
    svk_message m = make_msg(o->x->topic, NULL, "t", 1);
    o->rc = svk_broker_publish(o->x->env.broker, NULL, &m, 1);
    snprintf(o->after, sizeof o->after, "%s", svk_broker_last_error(NULL));
    return NULL;
}

void contract_last_error_per_thread(const contract_factory *f)
{
    fixture x;
    begin(&x, f);
    cr_expect_str_eq(svk_broker_name(x.env.broker), f->name);
    svk_message bad = make_msg("no..good", NULL, "x", 1);
    cr_assert_eq(svk_broker_publish(x.env.broker, NULL, &bad, 1), SVK_EINVAL);
    cr_expect_neq(svk_broker_last_error(x.env.broker)[0], '\0');
    other_thread o = {&x, "?", "?", -1};
    pthread_t t;
    cr_assert_eq(pthread_create(&t, NULL, publish_elsewhere, &o), 0);
    pthread_join(t, NULL);
    cr_expect_str_eq(o.before, "", "another thread sees its own (empty) error");
    cr_expect_eq(o.rc, 0);
    cr_expect_str_eq(o.after, "");
    cr_expect_neq(svk_broker_last_error(NULL)[0], '\0', "ours is still there");
    publish_text(&x, "x");
    cr_expect_str_eq(svk_broker_last_error(NULL), "", "a success clears it");
    end(&x);
}
