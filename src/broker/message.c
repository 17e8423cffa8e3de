/*
 * message.c — what a valid envelope is, checked once for every broker,
 * and the header lookup of a delivered one.
 *
 * The rules (svckit/broker.h, "Names") are the intersection of what the
 * PostgreSQL queue and NATS JetStream carry unchanged: a topic becomes a
 * NATS subject, so it has no empty dot-separated segment and no wildcard
 * characters; a group becomes a durable consumer name, so it has no dot;
 * headers become NATS (HTTP-like) header lines, so names are tokens,
 * values carry no CR or LF, and the brokers' own prefixes are reserved.
 * Everything text must be UTF-8, which PostgreSQL's text and jsonb insist
 * on. A batch is checked whole before anything is sent, so a bad message
 * publishes nothing.
 */
#include "broker/broker_impl.h"
#include "log/utf8.h"

#include <stdbool.h>
#include <string.h>
#include <strings.h>

#define TOPIC_MAX 200
#define GROUP_MAX 100
#define KEY_MAX 1024
#define HEADER_NAME_MAX 128
#define HEADER_VALUE_MAX 8192
#define HEADERS_MAX 64

static bool is_alnum(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

bool svk__broker_topic_valid(const char *topic)
{
    if (topic == NULL)
        return false;
    size_t len = strnlen(topic, TOPIC_MAX + 1);
    if (len == 0 || len > TOPIC_MAX || topic[0] == '.' || topic[len - 1] == '.')
        return false;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)topic[i];
        if (c == '.' && topic[i + 1] == '.')
            return false;
        if (!is_alnum(c) && c != '.' && c != '_' && c != '-')
            return false;
    }
    return true;
}

bool svk__broker_group_valid(const char *group)
{
    if (group == NULL)
        return false;
    size_t len = strnlen(group, GROUP_MAX + 1);
    if (len == 0 || len > GROUP_MAX)
        return false;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)group[i];
        if (!is_alnum(c) && c != '_' && c != '-')
            return false;
    }
    return true;
}

/* RFC 9110 tchar: the characters of an HTTP field name. */
static bool is_tchar(unsigned char c)
{
    return is_alnum(c) || (c != 0 && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

/* UTF-8 without C0, DEL or C1 controls; a tab passes only if tab_ok. */
static bool clean_text(const char *s, size_t len, bool tab_ok)
{
    const unsigned char *p = (const unsigned char *)s;
    for (size_t i = 0; i < len;) {
        if (p[i] < 0x80) {
            if ((p[i] < 0x20 && !(tab_ok && p[i] == '\t')) || p[i] == 0x7f)
                return false;
            i++;
            continue;
        }
        int n = svk__utf8_next(p + i, len - i);
        if (n < 0 || (p[i] == 0xc2 && p[i + 1] < 0xa0)) /* U+0080..U+009F */
            return false;
        i += (size_t)n;
    }
    return true;
}

static int check_key(const char *key, size_t i)
{
    if (key == NULL)
        return 0;
    size_t len = strnlen(key, KEY_MAX + 1);
    if (len == 0 || len > KEY_MAX || !clean_text(key, len, false))
        return svk__broker_fail(SVK_EINVAL, "message %zu: the key must be NULL or 1..%d bytes "
                                "of UTF-8 without control characters", i, KEY_MAX);
    return 0;
}

static bool reserved_name(const char *name)
{
    return strncasecmp(name, "Nats-", 5) == 0 || strncasecmp(name, "Svk-", 4) == 0;
}

static bool header_name_valid(const char *name)
{
    size_t len = name ? strnlen(name, HEADER_NAME_MAX + 1) : 0;
    if (len == 0 || len > HEADER_NAME_MAX || reserved_name(name))
        return false;
    for (size_t i = 0; i < len; i++)
        if (!is_tchar((unsigned char)name[i]))
            return false;
    return true;
}

static bool header_value_valid(const char *value)
{
    size_t len = value ? strnlen(value, HEADER_VALUE_MAX + 1) : HEADER_VALUE_MAX + 1;
    return len <= HEADER_VALUE_MAX && clean_text(value, len, true);
}

static int check_headers(const svk_message *m, size_t i)
{
    if (m->header_count > HEADERS_MAX || (m->header_count > 0 && m->headers == NULL))
        return svk__broker_fail(SVK_EINVAL, "message %zu: headers NULL, or more than %d",
                                i, HEADERS_MAX);
    for (size_t h = 0; h < m->header_count; h++) {
        const svk_header *hd = &m->headers[h];
        if (!header_name_valid(hd->name))
            return svk__broker_fail(SVK_EINVAL, "message %zu, header %zu: the name must be "
                                    "1..%d token characters, not Nats-* or Svk-*", i, h,
                                    HEADER_NAME_MAX);
        if (!header_value_valid(hd->value))
            return svk__broker_fail(SVK_EINVAL, "message %zu, header %zu (%s): the value must "
                                    "be at most %d bytes of UTF-8 without control characters",
                                    i, h, hd->name, HEADER_VALUE_MAX);
        for (size_t k = 0; k < h; k++)
            if (strcasecmp(m->headers[k].name, hd->name) == 0)
                return svk__broker_fail(SVK_EINVAL, "message %zu: header %s appears twice",
                                        i, hd->name);
    }
    return 0;
}

static bool uuid_is_zero(const svk_uuid *u)
{
    static const svk_uuid zero;
    return memcmp(u->bytes, zero.bytes, sizeof zero.bytes) == 0;
}

static int check_message(const svk_message *m, size_t i)
{
    if (m->size != sizeof(svk_message))
        return svk__broker_fail(SVK_EINVAL, "message %zu: size %zu is not sizeof(svk_message) "
                                "of this library (%zu)", i, m->size, sizeof(svk_message));
    if (uuid_is_zero(&m->id))
        return svk__broker_fail(SVK_EINVAL, "message %zu: the id is all zero", i);
    if (!svk__broker_topic_valid(m->topic))
        return svk__broker_fail(SVK_EINVAL, "message %zu: the topic is missing or not 1..%d "
                                "bytes of [A-Za-z0-9._-] in non-empty segments", i, TOPIC_MAX);
    if (m->payload == NULL && m->payload_len > 0)
        return svk__broker_fail(SVK_EINVAL, "message %zu: payload NULL with length %zu", i,
                                m->payload_len);
    int rc = check_key(m->key, i);
    return rc != 0 ? rc : check_headers(m, i);
}

int svk__broker_check_batch(const svk_message *msgs, size_t n)
{
    if (msgs == NULL)
        return svk__broker_fail(SVK_EINVAL, "msgs is NULL with n = %zu", n);
    for (size_t i = 0; i < n; i++) {
        int rc = check_message(&msgs[i], i);
        if (rc != 0)
            return rc;
    }
    return 0;
}

SVK_API const char *svk_message_header(const svk_message *m, const char *name)
{
    if (m == NULL || name == NULL || m->headers == NULL)
        return NULL;
    for (size_t i = 0; i < m->header_count; i++)
        if (m->headers[i].name != NULL && strcasecmp(m->headers[i].name, name) == 0)
            return m->headers[i].value;
    return NULL;
}
