/*
 * corpus.c — the C side of the Go cross-check: generate a corpus of duration
 * and byte-size strings (valid, edge and junk), have the Go program answer
 * each with time.ParseDuration / humanize.ParseBytes, and require our
 * svk_parse_duration / svk_parse_bytes to agree on every one: same accept or
 * reject, same value.
 *
 * Usage: corpus GO_PROGRAM TMPDIR. Deterministic: a fixed PRNG seed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "svckit/config.h"

struct entry {
    char kind; /* 'd' duration, 'b' bytes */
    char *text;
    size_t len;
};

static struct {
    struct entry *v;
    size_t n, cap;
} corpus;

static uint64_t rng = 0x9e3779b97f4a7c15u;

static uint64_t next_random(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

static size_t pick(size_t n) { return (size_t)(next_random() % n); }

static void add(char kind, const char *s, size_t len)
{
    if (corpus.n == corpus.cap) {
        corpus.cap = corpus.cap ? corpus.cap * 2 : 1024;
        corpus.v = realloc(corpus.v, corpus.cap * sizeof *corpus.v);
        if (corpus.v == NULL)
            abort();
    }
    char *copy = malloc(len + 1);
    if (copy == NULL)
        abort();
    memcpy(copy, s, len);
    copy[len] = '\0';
    corpus.v[corpus.n++] = (struct entry){kind, copy, len};
}

static void add3(char kind, const char *a, const char *b, const char *c)
{
    char buf[2048];
    int n = snprintf(buf, sizeof buf, "%s%s%s", a, b, c);
    if (n > 0 && (size_t)n < sizeof buf)
        add(kind, buf, (size_t)n);
}

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

/* ------------------------------------------------------------ durations */

static const char *const dur_numbers[] = {
    "0", "1", "5", "00", "01", "10", "123", "0.5", ".5", "5.", ".", "", "1.5", "1.0",
    "0.000000001", "0.0000000001", "1.123456789", "12345678901234567890",
    "9223372036854775807", "9223372036854775808", "9223372036854775806",
    "18446744073709551615", "18446744073709551616", "99999999999999999999999",
    "0.99999999999999999999999", "1.00000000000000000000001",
    "3.0000000000000000000000000000001", "2562047", "2562048", "153722867", "153722868",
    "9223372036", "9223372037", "9223372036854775", "9223372036854776",
    "0.3333333333333333", ".0000000000000000001", "1.9999999999999999999",
    "2562047.788015215", "2562047.7880152155", "106751.99116730064", "1..5", "1.5.5",
};

static const char *const dur_units[] = {
    "ns", "us", "\xc2\xb5s", "\xce\xbcs", "ms", "s", "m", "h", "", "S", "H", "NS", "Ms",
    "mS", "sec", "d", "y", "\xc2\xb5", "\xce\xbc", "u", "n", "hh", "mss", "s ", "\xc2",
    "\xb5s", "e", "x", " s", "_s", "s\n", "\xc2\xb5S",
};

static const char *const dur_edges[] = {
    "2562047h47m16.854775807s", "2562047h47m16.854775808s", "-2562047h47m16.854775808s",
    "-2562047h47m16.854775809s", "9223372036854775807ns", "9223372036854775808ns",
    "-9223372036854775808ns", "-9223372036854775809ns",
    "9223372036854775808ns9223372036854775808ns", "4611686018427387904ns4611686018427387904ns",
    "2562047h47m16s854775807ns", "2562047h47m16s854775808ns", "153722867m16.854775807s",
    "9223372036s854775807ns", "9223372036.854775807s", "9223372036.854775808s",
    "-9223372036.854775808s", "5124095576030431h", "2562047.788015215h", "106751d",
    "", " ", "-", "+", "0", "-0", "+0", "00", "0.0", "-0s", "+-1s", "--1s", "1s ", " 1s",
    "1 s", "1e3s", "0x10s", "1_000s", "\t1s", "1s\n", "1s\x00", "1.2.3s", "1..2s", "..s",
    "-.s", ".s", "1h-1m", "1h+1m", "1h.5m", "1h.m", "1.h1.m", "\xe2\x88\x9e", "1\xc2\xb5",
    "1\xc2\xb5\xc2\xb5s", "1mus", "1ns1", "1h2", "-1h-1h", "1000000000000000000000ns",
    "0.000000000000000000000000000000000000000001h",
};

static void random_duration_segment(char *buf, size_t size)
{
    char digits[64], frac[64];
    size_t nd = pick(22), nf = pick(3) ? pick(26) : 0;
    for (size_t i = 0; i < nd; i++)
        digits[i] = (char)('0' + (i == 0 && pick(4) ? 1 + pick(9) : pick(10)));
    digits[nd] = '\0';
    for (size_t i = 0; i < nf; i++)
        frac[i] = (char)('0' + pick(10));
    frac[nf] = '\0';
    const char *unit = dur_units[pick(8)];
    snprintf(buf, size, "%s%s%s%s", digits, nf || pick(8) == 0 ? "." : "", frac, unit);
}

static void random_durations(size_t count)
{
    static const char *const alphabet[] = {"0", "1", "5", "9", ".", "+", "-", "n", "s",
                                           "u", "\xc2\xb5", "\xce\xbc", "m", "h", " ", "e"};
    for (size_t k = 0; k < count; k++) {
        char buf[512] = "", seg[128];
        size_t segs = 1 + pick(4);
        strcat(buf, pick(4) == 0 ? "-" : "");
        for (size_t i = 0; i < segs; i++) {
            random_duration_segment(seg, sizeof seg);
            strcat(buf, seg);
        }
        add('d', buf, strlen(buf));
        size_t n = 1 + pick(10);
        buf[0] = '\0';
        for (size_t i = 0; i < n; i++)
            strcat(buf, alphabet[pick(COUNT(alphabet))]);
        add('d', buf, strlen(buf));
    }
}

static void gen_durations(void)
{
    static const char *const signs[] = {"", "-", "+"};
    for (size_t s = 0; s < COUNT(signs); s++)
        for (size_t n = 0; n < COUNT(dur_numbers); n++)
            for (size_t u = 0; u < COUNT(dur_units); u++)
                add3('d', signs[s], dur_numbers[n], dur_units[u]);
    for (size_t a = 0; a < 12; a++)
        for (size_t b = 0; b < 12; b++) {
            char seg[128];
            snprintf(seg, sizeof seg, "%s%s", dur_numbers[b], dur_units[(a + b) % 8]);
            add3('d', dur_numbers[a], dur_units[a % 8], seg);
        }
    for (size_t i = 0; i < COUNT(dur_edges); i++)
        add('d', dur_edges[i], strlen(dur_edges[i]));
    add('d', "1s\0", 3);
    random_durations(1500);
}

/* ----------------------------------------------------------------- bytes */

static const char *const byte_numbers[] = {
    "0", "1", "42", "4.2", ".5", "5.", ".", "", "1,000", "1,,0", ",", ",1", "1,", "1.2.3",
    "00042", "0.0000001", "18446744073709551615", "18446744073709551616",
    "18446744073709549568", "18446744073709549569", "18446744073709550591",
    "18446744073709550592", "18446744073709551000", "9223372036854775807", "1e3", "0x10",
    "-1", "+1", "99999999999999999999", "0.1", "0.3", "1.1", "2.5", "1000000000000000000000",
    "18.446744073709551615", "18.446744073709551616", "16", "15.999999999999999",
    "17179869184", "17179869183.99999", "16384", "16383.999999999998", "1,024.5", "0.0",
    "4,294,967,296", "1.000000000000000000000000000001",
};

static const char *const byte_units[] = {
    "", "b", "k", "kb", "ki", "kib", "m", "mb", "mi", "mib", "g", "gb", "gi", "gib", "t",
    "tb", "ti", "tib", "p", "pb", "pi", "pib", "e", "eb", "ei", "eib", "zb", "zib", "yb",
    "bytes", "byte", "kbit", "kb/s", "i", "bb", "kk", "mbb",
};

static const char *const byte_wraps[][2] = {
    {"", ""}, {" ", ""}, {"  ", "  "}, {"\t", "\n"}, {"", " "}, {"\xc2\xa0", ""},
    {"\xe3\x80\x80", "\xe3\x80\x80"}, {"\xc2\x85", "\xe2\x80\xa8"}, {"_", ""}, {"", "x"},
    {"\xe2\x80\x8b", ""}, {"\x0b", "\x0c"},
};

/* Every upper/lower spelling of unit (at most 8). */
static void add_case_variants(const char *num, const char *unit)
{
    size_t n = strlen(unit);
    for (unsigned mask = 0; mask < (1u << n) && n <= 3; mask++) {
        char u[8];
        for (size_t i = 0; i < n; i++)
            u[i] = (mask >> i) & 1 ? (char)(unit[i] - 'a' + 'A') : unit[i];
        u[n] = '\0';
        add3('b', num, "", u);
    }
}

static void gen_byte_units(void)
{
    for (size_t u = 0; u < COUNT(byte_units); u++) {
        for (size_t n = 0; n < COUNT(byte_numbers); n++)
            add3('b', byte_numbers[n], "", byte_units[u]);
        add_case_variants("7", byte_units[u]);
        add_case_variants("1.5", byte_units[u]);
        for (size_t w = 0; w < COUNT(byte_wraps); w++) {
            char unit[64];
            snprintf(unit, sizeof unit, "%s%s", byte_units[u], byte_wraps[w][1]);
            add3('b', "3", byte_wraps[w][0], unit);
        }
    }
}

static const char *const byte_edges[] = {
    "1\xe2\x84\xaa" "B", "1\xe2\x84\xaa" "iB", "1k\xc4\xb0" "b", "1K\xc4\xb0", "1\xc4\xb1" "b",
    "1\xd9\xa3", "\xd9\xa3", "1\xef\xbc\x91", "1\xff", "1 \xff", "1\xc2", "1 MB\xc2",
    " 1", "\t1", "-0", "+0", "1 M B", "1MBx", "1..", "..1", "1.e3", "1e", "1E", "1ei",
    "1EiB ", "1.5e", "0.5eb", "16eib", "15.99999999999999eib", "16.000000000000001EiB",
    "18.446744073709551615eb", "18446744073709551.615kb", "17592186044416 MiB",
    "17592186044415.999 MiB",
};

static void gen_long_numbers(void)
{
    char buf[1400];
    memset(buf, '9', 400);
    strcpy(buf + 400, "B");
    add('b', buf, strlen(buf));
    memset(buf, '0', 1300);
    buf[1] = '.';
    strcpy(buf + 1300, "1");
    add('b', buf, strlen(buf));
    strcpy(buf + 330, "1 EB");
    add('b', buf, strlen(buf));
    strcpy(buf + 20, "1 EB");
    add('b', buf, strlen(buf));
    buf[0] = '1';
    buf[1] = '0';
    strcpy(buf + 309, "");
    add('b', buf, strlen(buf));
    strcpy(buf + 308, "");
    add('b', buf, strlen(buf));
    /* A float64 halfway case needing hundreds of digits to round right. */
    const char *half = "9007199254740993";
    snprintf(buf, sizeof buf, "%s", half);
    add('b', buf, strlen(buf));
    snprintf(buf, sizeof buf, "%s.%0800d1", half, 0);
    add('b', buf, strlen(buf));
    snprintf(buf, sizeof buf, "%s.%0800d", half, 0);
    add('b', buf, strlen(buf));
}

static void random_bytes(size_t count)
{
    static const char *const alphabet[] = {"0", "1", "4", "9", ".", ",", "k", "K", "m", "M",
                                           "g", "t", "p", "e", "E", "i", "I", "b", "B", " ",
                                           "\xc2\xa0", "\xe2\x84\xaa", "-"};
    for (size_t k = 0; k < count; k++) {
        char buf[256] = "";
        size_t n = 1 + pick(12);
        for (size_t i = 0; i < n; i++)
            strcat(buf, alphabet[pick(COUNT(alphabet))]);
        add('b', buf, strlen(buf));
        char num[96] = "";
        size_t nd = 1 + pick(21), dot = pick(nd + 4);
        for (size_t i = 0; i < nd; i++) {
            char d[3] = {(char)('0' + pick(10)), i == dot ? '.' : '\0', '\0'};
            strcat(num, d);
        }
        add3('b', num, pick(2) ? " " : "", byte_units[pick(26)]);
    }
}

static void gen_bytes(void)
{
    gen_byte_units();
    for (size_t i = 0; i < COUNT(byte_edges); i++)
        add('b', byte_edges[i], strlen(byte_edges[i]));
    gen_long_numbers();
    random_bytes(1500);
}

/* ------------------------------------------------------------- the check */

static void write_corpus(const char *path)
{
    FILE *f = fopen(path, "w");
    if (f == NULL) {
        perror(path);
        exit(2);
    }
    for (size_t i = 0; i < corpus.n; i++) {
        fprintf(f, "%c ", corpus.v[i].kind);
        for (size_t j = 0; j < corpus.v[i].len; j++)
            fprintf(f, "%02x", (unsigned char)corpus.v[i].text[j]);
        fputc('\n', f);
    }
    if (fclose(f) != 0)
        exit(2);
}

static void run_go(const char *prog, const char *in, const char *out)
{
    pid_t pid = fork();
    if (pid == 0) {
        int i = open(in, O_RDONLY), o = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        if (i < 0 || o < 0 || dup2(i, 0) < 0 || dup2(o, 1) < 0)
            _exit(127);
        execl(prog, prog, (char *)NULL);
        _exit(127);
    }
    int status = 0;
    if (pid < 0 || waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) ||
        WEXITSTATUS(status) != 0) {
        fprintf(stderr, "go_crosscheck: the Go program failed (status %d)\n", status);
        exit(1);
    }
}

static void ours(const struct entry *e, char *line, size_t size)
{
    int rc;
    if (e->kind == 'd') {
        int64_t ns;
        rc = svk_parse_duration(e->text, e->len, &ns, NULL);
        snprintf(line, size, rc ? "err" : "ok %lld", (long long)ns);
    } else {
        uint64_t n;
        rc = svk_parse_bytes(e->text, e->len, &n, NULL);
        snprintf(line, size, rc ? "err" : "ok %llu", (unsigned long long)n);
    }
}

static void show(const struct entry *e)
{
    fprintf(stderr, "  %s \"", e->kind == 'd' ? "duration" : "bytes");
    for (size_t i = 0; i < e->len && i < 120; i++) {
        unsigned char c = (unsigned char)e->text[i];
        fprintf(stderr, c >= 0x20 && c < 0x7f && c != '"' ? "%c" : "\\x%02x", c);
    }
    fprintf(stderr, "%s\"", e->len > 120 ? "..." : "");
}

/* Compare our answers with Go's; returns the number of disagreements. */
static size_t compare(const char *out_path, size_t counts[2][2])
{
    FILE *f = fopen(out_path, "r");
    if (f == NULL)
        exit(2);
    char go[128], me[128];
    size_t bad = 0, i = 0;
    for (; i < corpus.n && fgets(go, sizeof go, f) != NULL; i++) {
        go[strcspn(go, "\n")] = '\0';
        ours(&corpus.v[i], me, sizeof me);
        counts[corpus.v[i].kind == 'b'][strcmp(go, "err") == 0]++;
        if (strcmp(go, me) != 0 && bad++ < 40) {
            show(&corpus.v[i]);
            fprintf(stderr, ": go=%s ours=%s\n", go, me);
        }
    }
    fclose(f);
    if (i != corpus.n) {
        fprintf(stderr, "go_crosscheck: Go answered %zu of %zu lines\n", i, corpus.n);
        bad++;
    }
    return bad;
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: %s GO_PROGRAM TMPDIR\n", argv[0]);
        return 2;
    }
    gen_durations();
    gen_bytes();
    char in[4096], out[4096];
    snprintf(in, sizeof in, "%s/corpus.txt", argv[2]);
    snprintf(out, sizeof out, "%s/go-answers.txt", argv[2]);
    write_corpus(in);
    run_go(argv[1], in, out);
    size_t counts[2][2] = {{0, 0}, {0, 0}};
    size_t bad = compare(out, counts);
    printf("go_crosscheck: duration %zu inputs (%zu accepted, %zu rejected), "
           "bytes %zu inputs (%zu accepted, %zu rejected): %zu disagreements\n",
           counts[0][0] + counts[0][1], counts[0][0], counts[0][1],
           counts[1][0] + counts[1][1], counts[1][0], counts[1][1], bad);
    for (size_t i = 0; i < corpus.n; i++)
        free(corpus.v[i].text);
    free(corpus.v);
    return bad == 0 ? 0 : 1;
}
