/*
 * realip.c — the client's address behind reverse proxies, believed only
 * from trusted ones.
 *
 * When the TCP peer is inside one of the configured trusted-proxy CIDRs,
 * X-Forwarded-For is read from the right (the addresses the closest proxies
 * appended) and the first address that is not itself a trusted proxy is the
 * client; all trusted means the left-most one. Without X-Forwarded-For,
 * X-Real-IP is taken. A peer that is not trusted is the client, whatever
 * the headers say: anyone can send them. Every address is parsed and
 * printed again (inet_pton/inet_ntop), so what reaches logs is an address,
 * never arbitrary header text. Computed on first use and kept with the
 * request.
 */
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "http/server.h"

int svk__http_cidr_parse(const char *s, svk__http_cidr *out)
{
    char addr[64];
    const char *slash = strchr(s, '/');
    size_t len = slash ? (size_t)(slash - s) : strlen(s);
    if (len == 0 || len >= sizeof addr)
        return SVK_EINVAL;
    memcpy(addr, s, len);
    addr[len] = '\0';
    memset(out, 0, sizeof *out);
    if (inet_pton(AF_INET, addr, out->addr) == 1)
        out->family = AF_INET;
    else if (inet_pton(AF_INET6, addr, out->addr) == 1)
        out->family = AF_INET6;
    else
        return SVK_EINVAL;
    int max = out->family == AF_INET ? 32 : 128;
    out->bits = max;
    if (slash != NULL) {
        char *end;
        long bits = strtol(slash + 1, &end, 10);
        if (slash[1] < '0' || slash[1] > '9' || *end != '\0' || bits < 0 || bits > max)
            return SVK_EINVAL;
        out->bits = (int)bits;
    }
    return 0;
}

static int prefix_equal(const uint8_t *a, const uint8_t *b, int bits)
{
    int whole = bits / 8, rest = bits % 8;
    if (memcmp(a, b, (size_t)whole) != 0)
        return 0;
    if (rest == 0)
        return 1;
    uint8_t mask = (uint8_t)(0xff << (8 - rest));
    return (a[whole] & mask) == (b[whole] & mask);
}

static int is_v4_mapped(const uint8_t *ip)
{
    static const uint8_t prefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    return memcmp(ip, prefix, 12) == 0;
}

int svk__http_trusted(const svk_http_server *srv, int family, const uint8_t *ip)
{
    if (family == AF_INET6 && is_v4_mapped(ip)) {
        family = AF_INET;
        ip += 12;
    }
    for (size_t i = 0; i < srv->nproxies; i++) {
        const svk__http_cidr *c = &srv->proxies[i];
        if (c->family == family && prefix_equal(c->addr, ip, c->bits))
            return 1;
    }
    return 0;
}

/* Parse one address of a forwarding header (trimmed), as family + bytes. */
static int parse_ip(const char *s, size_t n, int *family, uint8_t ip[16])
{
    char buf[64];
    while (n > 0 && (*s == ' ' || *s == '\t'))
        s++, n--;
    while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t'))
        n--;
    if (n == 0 || n >= sizeof buf)
        return 0;
    memcpy(buf, s, n);
    buf[n] = '\0';
    if (inet_pton(AF_INET, buf, ip) == 1)
        *family = AF_INET;
    else if (inet_pton(AF_INET6, buf, ip) == 1)
        *family = AF_INET6;
    else
        return 0;
    return 1;
}

/* Walk one X-Forwarded-For line from the right. 1: found the client (in
 * *family/ip); 0: all trusted so far (the left-most kept in *family/ip);
 * -1: a malformed element. */
static int walk_xff_line(const svk_http_server *srv, const char *v, int *family, uint8_t *ip)
{
    size_t end = strlen(v);
    while (end > 0) {
        size_t start = end;
        while (start > 0 && v[start - 1] != ',')
            start--;
        int f;
        uint8_t a[16];
        if (!parse_ip(v + start, end - start, &f, a))
            return -1;
        *family = f;
        memcpy(ip, a, 16);
        if (!svk__http_trusted(srv, f, a))
            return 1;
        end = start > 0 ? start - 1 : 0;
    }
    return 0;
}

static int from_forwarded_for(const svk_http_request *req, int *family, uint8_t *ip)
{
    const svk_http_server *srv = req->loop->srv;
    int seen = 0;
    for (size_t i = req->head.num_headers; i-- > 0;) {
        const svk__http_header *h = &req->head.headers[i];
        if (h->name_len != 15 || strncasecmp(h->name, "X-Forwarded-For", 15) != 0)
            continue;
        int rc = walk_xff_line(srv, h->value, family, ip);
        if (rc != 0)
            return rc > 0;
        seen = 1;
    }
    return seen;
}

const char *svk__http_req_remote_ip(svk_http_request *req)
{
    if (req->remote_ip[0] != '\0')
        return req->remote_ip;
    const svk__http_conn *c = req->conn;
    int family = 0;
    uint8_t ip[16];
    if (req->loop->srv->nproxies > 0 && c->peer_family != 0 &&
        svk__http_trusted(req->loop->srv, c->peer_family, c->peer_addr) &&
        req->head_len > 0) {
        const char *real = svk_http_request_header(req, "X-Real-IP");
        if (!from_forwarded_for(req, &family, ip) &&
            (real == NULL || !parse_ip(real, strlen(real), &family, ip)))
            family = 0;
    }
    if (family == 0) {
        const char *peer = svk_http_request_peer_ip(req);
        strcpy(req->remote_ip, peer);
        return req->remote_ip;
    }
    if (inet_ntop(family, ip, req->remote_ip, sizeof req->remote_ip) == NULL)
        strcpy(req->remote_ip, "unknown");
    return req->remote_ip;
}
