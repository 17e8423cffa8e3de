/*
 * lease.c — lease rounds: which ordered partitions this relay relays.
 *
 * Every lease_ns / 3, between batches, the relay:
 *  1. renews its membership row (svk_outbox_relays) and reads how many
 *     relays are alive, how many partitions exist and whether any topic is
 *     ordered (no ordered topic: it holds nothing, and claims nothing
 *     ordered);
 *  2. renews the leases it holds, naming each one's token: a lease taken
 *     over meanwhile (new token) is not renewed and is forgotten here;
 *  3. keeps its fair share, ceil(partitions / relays): it releases its
 *     highest partitions above the share, or takes free or expired ones
 *     (lowest first, FOR UPDATE SKIP LOCKED, so relays taking at once get
 *     different ones, and a lease row that a batch holds FOR SHARE is never
 *     taken) with token + 1.
 * Partitions move only between batches of their holder, so per-key order
 * holds across a hand-over. A relay that stops releases its leases at once;
 * one that dies loses them when they expire.
 */
#include "broker/pg_array.h"
#include "relay/relay_impl.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char member_sql[] =
    "WITH me AS (INSERT INTO svk_outbox_relays (holder, expires_at)"
    " VALUES ($1, now() + $2::int8 * interval '1 microsecond')"
    " ON CONFLICT (holder) DO UPDATE SET expires_at = excluded.expires_at RETURNING 1),"
    " gc AS (DELETE FROM svk_outbox_relays WHERE expires_at < now() - interval '1 hour'"
    " AND holder <> $1 RETURNING 1)"
    " SELECT (SELECT count(*) FROM svk_outbox_relays WHERE expires_at > now()"
    " AND holder <> $1) + 1, (SELECT count(*) FROM svk_outbox_leases),"
    " EXISTS (SELECT 1 FROM svk_outbox_ordered_topics)";

static const char renew_sql[] =
    "UPDATE svk_outbox_leases l SET expires_at = now() + $2::int8 * interval '1 microsecond'"
    " FROM unnest($3::int4[], $4::int8[]) AS m(partition, token)"
    " WHERE l.partition = m.partition AND l.token = m.token AND l.holder = $1"
    " RETURNING l.partition, l.token";

/* $2 (the lease) is unused but sent, as to every lease statement. */
static const char release_sql[] =
    "UPDATE svk_outbox_leases l SET holder = NULL, expires_at = '-infinity'"
    " FROM unnest($3::int4[], $4::int8[]) AS m(partition, token)"
    " WHERE l.partition = m.partition AND l.token = m.token AND l.holder = $1"
    " AND $2::int8 IS NOT NULL RETURNING l.partition, l.token";

static const char acquire_sql[] =
    "UPDATE svk_outbox_leases l SET holder = $1, token = l.token + 1,"
    " expires_at = now() + $2::int8 * interval '1 microsecond', acquired_at = now()"
    " WHERE l.partition = ANY(ARRAY(SELECT partition FROM svk_outbox_leases"
    " WHERE holder IS NULL OR expires_at <= now() ORDER BY partition LIMIT $3"
    " FOR UPDATE SKIP LOCKED)) RETURNING l.partition, l.token";

static const char delete_member_sql[] = "DELETE FROM svk_outbox_relays WHERE holder = $1";

int svk__relay_leases_init(svk__relay_leases *l, int partitions)
{
    memset(l, 0, sizeof *l);
    size_t n = (size_t)partitions;
    l->holds = svk_malloc(n * sizeof *l->holds);
    l->token = svk_malloc(n * sizeof *l->token);
    l->blocked_until = svk_malloc(n * sizeof *l->blocked_until);
    l->failures = svk_malloc(n * sizeof *l->failures);
    if (!l->holds || !l->token || !l->blocked_until || !l->failures)
        return SVK_ENOMEM;
    memset(l->holds, 0, n * sizeof *l->holds);
    memset(l->blocked_until, 0, n * sizeof *l->blocked_until);
    memset(l->failures, 0, n * sizeof *l->failures);
    return 0;
}

void svk__relay_leases_free(svk__relay_leases *l)
{
    svk_free(l->holds);
    svk_free(l->token);
    svk_free(l->blocked_until);
    svk_free(l->failures);
}

static void put_int8(svk_buf *b, int64_t v)
{
    unsigned char e[8];
    for (int i = 0; i < 8; i++)
        e[i] = (unsigned char)((uint64_t)v >> (56 - 8 * i));
    svk__pg_array_add(b, e, sizeof e);
}

/* Partitions p with want(p) as int4[] and their tokens as int8[], in r->scratch. */
static int encode_partitions(svk_relay *r, bool (*want)(const svk_relay *, int, int64_t),
                             int64_t now, size_t off[2], size_t size[2], int *count)
{
    const svk__relay_leases *l = &r->leases;
    *count = 0;
    for (int p = 0; p < r->cfg.partitions; p++)
        *count += want(r, p, now);
    svk_buf_reset(&r->scratch);
    int rc = svk_buf_reserve(&r->scratch, 2 * svk__pg_array_size((size_t)*count, 8 * (size_t)*count));
    for (int a = 0; a < 2 && rc == 0; a++) {
        off[a] = r->scratch.len;
        svk__pg_array_begin(&r->scratch, a ? SVK__RELAY_OID_INT8 : SVK__PG_OID_INT4, (size_t)*count);
        for (int p = 0; p < r->cfg.partitions; p++)
            if (want(r, p, now)) {
                if (a == 0)
                    svk__pg_array_add_int4(&r->scratch, p);
                else
                    put_int8(&r->scratch, l->token[p]);
            }
        size[a] = r->scratch.len - off[a];
    }
    return rc;
}

static bool held(const svk_relay *r, int p, int64_t now)
{
    (void)now;
    return r->leases.holds[p];
}

static bool held_unblocked(const svk_relay *r, int p, int64_t now)
{
    return r->leases.holds[p] && r->leases.blocked_until[p] <= now;
}

int svk__relay_lease_params(svk_relay *r, size_t off[2], size_t size[2], int *count)
{
    return encode_partitions(r, held_unblocked, svk_clock_mono_ns(), off, size, count);
}

static void set_held(svk_relay *r, int p, bool holds, int64_t token)
{
    svk__relay_leases *l = &r->leases;
    if (l->holds[p] != holds)
        l->held += holds ? 1 : -1;
    l->holds[p] = holds;
    l->token[p] = token;
    l->blocked_until[p] = 0;
    l->failures[p] = 0;
}

/* Run a lease statement ($1 id, $2 lease us, then two extra parameters). */
static int lease_exec(svk_relay *r, const char *sql, const char *v3, int len3, int fmt3,
                      const char *v4, int len4, svk_pg_result **res)
{
    char lease_us[24];
    snprintf(lease_us, sizeof lease_us, "%lld", (long long)(r->cfg.lease_ns / 1000));
    const char *values[] = {r->id, lease_us, v3, v4};
    const int lengths[] = {0, 0, len3, len4};
    const int formats[] = {0, 0, fmt3, SVK_PG_BINARY};
    int n = v4 != NULL ? 4 : v3 != NULL ? 3 : 2;
    int rc = svk_pg_exec_format(r->conn, svk__relay_claim_ctx(r), sql, n, values, lengths,
                                formats, SVK_PG_BINARY, res);
    return rc == 0 ? 0 : svk__relay_fail(r, rc, "leases: %s: %s", svk_errname(rc),
                                         svk_pg_conn_last_error(r->conn));
}

/*
 * Renew (keep) or release the partitions which(r, p, arg) picks among those
 * held; afterwards this relay holds, of those, exactly the ones the
 * statement returned (renewed with their token), and loses the others.
 */
static int renew_or_release(svk_relay *r, const char *sql, bool keep,
                            bool (*which)(const svk_relay *, int, int64_t), int64_t arg)
{
    size_t off[2], size[2];
    int count;
    if (encode_partitions(r, which, arg, off, size, &count) != 0)
        return svk__relay_fail(r, SVK_ENOMEM, "leases: out of memory");
    if (count == 0)
        return 0;
    svk_pg_result *res = NULL;
    int rc = lease_exec(r, sql, (const char *)r->scratch.data + off[0], (int)size[0],
                        SVK_PG_BINARY, (const char *)r->scratch.data + off[1], (int)size[1], &res);
    if (rc != 0)
        return rc;
    bool back[SVK__RELAY_PARTITIONS_MAX] = {false};
    for (int i = 0; keep && i < svk_pg_result_rows(res); i++)
        back[svk__pg_get_int4(svk_pg_result_value(res, i, 0))] = true;
    svk_pg_result_free(res);
    for (int p = 0; p < r->cfg.partitions; p++)
        if (which(r, p, arg) && !back[p])
            set_held(r, p, false, 0);
    return 0;
}

static bool held_from(const svk_relay *r, int p, int64_t first)
{
    return r->leases.holds[p] && p >= first;
}

/* Release the highest held partitions above share. */
static int release_extras(svk_relay *r, int share)
{
    int extra = r->leases.held - share, first = r->cfg.partitions;
    while (extra > 0 && first > 0)
        extra -= r->leases.holds[--first];
    return renew_or_release(r, release_sql, false, held_from, first);
}

static int acquire(svk_relay *r, int want)
{
    char n[16];
    snprintf(n, sizeof n, "%d", want);
    svk_pg_result *res = NULL;
    int rc = lease_exec(r, acquire_sql, n, 0, SVK_PG_TEXT, NULL, 0, &res);
    for (int i = 0; rc == 0 && i < svk_pg_result_rows(res); i++) {
        int p = svk__pg_get_int4(svk_pg_result_value(res, i, 0));
        if (p < r->cfg.partitions) /* a larger count is refused by the round */
            set_held(r, p, true, svk__pg_get_int8(svk_pg_result_value(res, i, 1)));
        svk__relay_count(&r->fig.lease_takeovers, 1);
    }
    svk_pg_result_free(res);
    return rc;
}

/* Membership: relays alive, lease rows, and whether any topic is ordered. */
static int membership(svk_relay *r, int *relays, int *rows, bool *ordered)
{
    svk_pg_result *res = NULL;
    int rc = lease_exec(r, member_sql, NULL, 0, 0, NULL, 0, &res);
    if (rc != 0)
        return rc;
    *relays = (int)svk__pg_get_int8(svk_pg_result_value(res, 0, 0));
    *rows = (int)svk__pg_get_int8(svk_pg_result_value(res, 0, 1));
    *ordered = *svk_pg_result_value(res, 0, 2) != 0;
    svk_pg_result_free(res);
    return 0;
}

void svk__relay_lease_release_all(svk_relay *r)
{
    if (r->leases.held > 0)
        renew_or_release(r, release_sql, false, held, 0);
    atomic_store(&r->fig.leases_held, r->leases.held);
}

/* After the membership figures: hold the fair share of the partitions. */
static int balance(svk_relay *r, int relays)
{
    int rc = renew_or_release(r, renew_sql, true, held, 0);
    int share = (r->cfg.partitions + relays - 1) / relays;
    if (rc == 0 && r->leases.held > share)
        rc = release_extras(r, share);
    else if (rc == 0 && r->leases.held < share)
        rc = acquire(r, share - r->leases.held);
    return rc;
}

int svk__relay_lease_round(svk_relay *r)
{
    svk__relay_leases *l = &r->leases;
    int64_t now = svk_clock_mono_ns();
    if (now < l->next_round_ns)
        return 0;
    int relays, rows, rc = membership(r, &relays, &rows, &l->ordered);
    if (rc == 0 && l->ordered && rows != r->cfg.partitions) {
        svk__relay_lease_release_all(r);
        return svk__relay_fail(r, SVK_ECONFLICT, "leases: the database has %d partitions, "
                               "this relay %d: every relay must use the same count", rows,
                               r->cfg.partitions);
    }
    if (rc == 0 && !l->ordered)
        svk__relay_lease_release_all(r);
    else if (rc == 0)
        rc = balance(r, relays);
    if (rc == 0)
        l->next_round_ns = now + r->cfg.lease_ns / 3;
    atomic_store(&r->fig.leases_held, l->held);
    return rc;
}

void svk__relay_lease_leave(svk_relay *r)
{
    svk__relay_lease_release_all(r);
    const char *values[] = {r->id};
    svk_pg_exec(r->conn, svk__relay_claim_ctx(r), delete_member_sql, 1, values, NULL, NULL,
                NULL);
}
