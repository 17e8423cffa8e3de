/*
 * contract.h — the broker contract suite: what every implementation of
 * svckit/broker.h must do, written once and run against each broker.
 *
 * A broker's test file provides a factory (how to open a broker on a fresh,
 * empty namespace, and one whose server cannot be reached) and expands
 * SVK_CONTRACT_TESTS into one Criterion test per case:
 *
 *     static const contract_factory factory = {"pgqueue", open, open_dead, close};
 *     SVK_CONTRACT_TESTS(pgqueue_contract, factory)
 *
 * and links contract.c. Nothing in the cases knows which broker runs them:
 * a case that needs something only one broker can do belongs in that
 * broker's own tests. Cases never assert from a helper thread (Criterion
 * cannot fail a test from there): threads record, the test thread asserts.
 */
#ifndef SVK_TESTS_BROKER_CONTRACT_H
#define SVK_TESTS_BROKER_CONTRACT_H

#include <criterion/criterion.h>

#include "svckit/broker.h"

/* One test's broker and its isolation. */
typedef struct contract_env {
    svk_broker *broker;
    /* Every topic and group of the test starts with this ([A-Za-z0-9_],
     * 1..40 bytes), so tests sharing one server never see each other. */
    char prefix[48];
    void *state; /* the factory's own */
} contract_env;

typedef struct contract_factory {
    const char *name;
    /* A broker on a fresh, empty namespace; fail the test if impossible. */
    void (*open)(contract_env *env);
    /* A broker whose server cannot be reached (nothing listens there). */
    void (*open_dead)(contract_env *env);
    /* Free what open or open_dead made, the broker included. */
    void (*close)(contract_env *env);
} contract_factory;

/* The cases, in the order they are reported. X(suite, factory, case). */
#define SVK_CONTRACT_CASES(X, s, f)                                                          \
    X(s, f, round_trip_every_field)                                                          \
    X(s, f, empty_and_large_payloads)                                                        \
    X(s, f, attempt_increments_on_redelivery)                                                \
    X(s, f, fan_out_to_two_groups)                                                           \
    X(s, f, durable_interest_without_subscription)                                           \
    X(s, f, competing_fetchers_exactly_once)                                                 \
    X(s, f, nack_with_delay)                                                                 \
    X(s, f, ack_wait_expiry_redelivers)                                                      \
    X(s, f, settle_after_refetch_is_timedout)                                                \
    X(s, f, term_never_again)                                                                \
    X(s, f, settle_twice_is_estate)                                                          \
    X(s, f, duplicate_id_once_per_group)                                                     \
    X(s, f, publish_validation_publishes_nothing)                                            \
    X(s, f, subscribe_and_fetch_validation)                                                  \
    X(s, f, fetch_cancelled)                                                                 \
    X(s, f, fetch_deadline_is_empty_not_error)                                               \
    X(s, f, wake_up_latency)                                                                 \
    X(s, f, same_key_order_within_batch)                                                     \
    X(s, f, dead_server_unavailable)                                                         \
    X(s, f, last_error_per_thread)

#define SVK_CONTRACT_DECLARE(s, f, name) void contract_##name(const contract_factory *factory);
SVK_CONTRACT_CASES(SVK_CONTRACT_DECLARE, _, _)

#define SVK_CONTRACT_TEST(s, f, name)                                                        \
    Test(s, name, .timeout = 240)                                                            \
    {                                                                                        \
        contract_##name(&(f));                                                               \
    }

/* One Criterion test per case, in suite s, against factory f. */
#define SVK_CONTRACT_TESTS(s, f) SVK_CONTRACT_CASES(SVK_CONTRACT_TEST, s, f)

#endif
