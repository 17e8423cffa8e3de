/*
 * nats_test - smoke test of the nats-server that svk-testenv provides.
 *
 * Proves JetStream is usable from cnats the way libsvckit uses it: a file
 * stream, js_Publish with its PubAck, and Nats-Msg-Id de-duplication. Run it
 * as `svk-testenv -- nats_test` (or under ctest run by svk-testenv).
 *
 * Everything is destroyed and nats_CloseAndWait() called in the suite's fini,
 * which also runs after a failed assertion, so LeakSanitizer stays quiet.
 */
#include <criterion/criterion.h>
#include <nats/nats.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#define DEDUP_WINDOW_NS (120LL * 1000 * 1000 * 1000)

static natsConnection *nc;
static jsCtx *js;
static char stream[64];
static bool stream_made;

static void cleanup(void)
{
    jsErrCode jerr = 0;
    if (stream_made)
        js_DeleteStream(js, stream, NULL, &jerr);
    stream_made = false;
    jsCtx_Destroy(js);
    natsConnection_Destroy(nc);
    js = NULL;
    nc = NULL;
    /* Frees the library's own threads and globals. */
    nats_CloseAndWait(5000);
}

static void connect_js(void)
{
    const char *url = getenv("SVK_TEST_NATS_URL");
    cr_assert(url && *url, "SVK_TEST_NATS_URL is not set: run under svk-testenv");
    natsStatus s = natsConnection_ConnectTo(&nc, url);
    cr_assert_eq(s, NATS_OK, "connect to %s: %s", url, natsStatus_GetText(s));
    s = natsConnection_JetStream(&js, nc, NULL);
    cr_assert_eq(s, NATS_OK, "JetStream context: %s", natsStatus_GetText(s));
}

static void add_stream(void)
{
    const char *subjects[] = {"harness.>"};
    jsStreamConfig cfg;
    jsStreamInfo *si = NULL;
    jsErrCode jerr = 0;
    /* Unique so reruns against a kept store never collide. */
    snprintf(stream, sizeof stream, "HARNESS_%ld_%ld", (long)getpid(), (long)time(NULL));
    jsStreamConfig_Init(&cfg);
    cfg.Name = stream;
    cfg.Subjects = subjects;
    cfg.SubjectsLen = 1;
    cfg.Storage = js_FileStorage;
    cfg.Duplicates = DEDUP_WINDOW_NS; /* explicit: the default has changed before */
    natsStatus s = js_AddStream(&si, js, &cfg, NULL, &jerr);
    cr_assert_eq(s, NATS_OK, "js_AddStream: %s (jerr %d)", natsStatus_GetText(s), (int)jerr);
    stream_made = true;
    jsStreamInfo_Destroy(si);
}

/* Publishes with a Nats-Msg-Id header; returns the ack's (seq, duplicate). */
static void publish_with_id(const char *id, uint64_t *seq, bool *dup)
{
    natsMsg *msg = NULL;
    jsPubAck *pa = NULL;
    jsErrCode jerr = 0;
    cr_assert_eq(natsMsg_Create(&msg, "harness.dedupe", NULL, "x", 1), NATS_OK);
    cr_assert_eq(natsMsgHeader_Set(msg, "Nats-Msg-Id", id), NATS_OK);
    natsStatus s = js_PublishMsg(&pa, js, msg, NULL, &jerr);
    natsMsg_Destroy(msg);
    cr_assert_eq(s, NATS_OK, "js_PublishMsg: %s (jerr %d)", natsStatus_GetText(s), (int)jerr);
    *seq = pa->Sequence;
    *dup = pa->Duplicate;
    jsPubAck_Destroy(pa);
}

TestSuite(harness_nats, .fini = cleanup, .timeout = 30);

Test(harness_nats, jetstream_publish_and_dedupe)
{
    jsPubAck *pa = NULL;
    jsErrCode jerr = 0;
    uint64_t seq;
    bool dup;

    connect_js();
    add_stream();

    natsStatus s = js_Publish(&pa, js, "harness.first", "hello", 5, NULL, &jerr);
    cr_assert_eq(s, NATS_OK, "js_Publish: %s (jerr %d)", natsStatus_GetText(s), (int)jerr);
    cr_expect_str_eq(pa->Stream, stream);
    cr_expect_eq(pa->Sequence, 1);
    cr_expect_not(pa->Duplicate);
    jsPubAck_Destroy(pa);

    publish_with_id("harness-msg-1", &seq, &dup);
    cr_expect_eq(seq, 2);
    cr_expect_not(dup, "first publish with a new Nats-Msg-Id reported as duplicate");

    publish_with_id("harness-msg-1", &seq, &dup);
    cr_expect(dup, "second publish with the same Nats-Msg-Id not reported as duplicate");
    cr_expect_eq(seq, 2, "duplicate should ack the original sequence");

    s = js_DeleteStream(js, stream, NULL, &jerr);
    cr_assert_eq(s, NATS_OK, "js_DeleteStream: %s (jerr %d)", natsStatus_GetText(s), (int)jerr);
    stream_made = false;
}
