/*
 * svk-testenv - run a command inside a throw-away PostgreSQL 15 + nats-server
 * environment, then tear the environment down whatever happens.
 *
 *   svk-testenv [--no-pg] [--no-nats] [--keep] -- CMD [ARGS...]
 *
 * Every test run of libsvckit goes through this program. It creates
 * $TMPDIR/svk-testenv-XXXXXX, starts a private PostgreSQL cluster (database
 * svk_test, superuser svk, trust auth, unix socket + 127.0.0.1) and a private
 * nats-server with JetStream, exports SVK_TEST_* variables describing them,
 * runs CMD and exits with CMD's status (128+N if CMD died of signal N, 2 if
 * the environment could not be set up).
 *
 * Exported to CMD (a variable is unset when its server is disabled):
 *   SVK_TEST_TMPDIR
 *   SVK_TEST_PG_DSN      host=DIR/sock port=P dbname=svk_test user=svk
 *   SVK_TEST_PG_URL      postgresql://svk@127.0.0.1:P/svk_test
 *   SVK_TEST_PG_PORT, SVK_TEST_PG_DATA, SVK_TEST_PG_BINDIR, SVK_TEST_PG_SOCKDIR,
 *   SVK_TEST_PG_LOG      (pass it to `pg_ctl restart -l`)
 *   SVK_TEST_PG_USER_IS_POSTGRES=1  pg_ctl must run as `postgres` (we are root)
 *   SVK_TEST_NATS_URL    nats://127.0.0.1:P
 *   SVK_TEST_NATS_MONITOR_URL, SVK_TEST_NATS_STORE
 * Read: TMPDIR, SVK_PG_BINDIR (default /usr/lib/postgresql/15/bin),
 *   SVK_NATS_SERVER (default: /usr/sbin/nats-server if present, else nats-server from PATH).
 *
 * Process layout:
 *
 *   svk-testenv (harness; child subreaper)
 *    |-- watchdog (own session; child subreaper)
 *    |    |-- nats-server
 *    |    `-- postgres (adopted when pg_ctl exits)
 *    `-- CMD
 *
 * The watchdog, not the harness, starts and owns the servers. It holds the
 * read end of a pipe whose write end only the harness holds, so it sees EOF
 * when the harness exits for any reason, SIGKILL included, and then stops
 * both servers and removes the temp dir. It is a subreaper because pg_ctl
 * orphans the postmaster by design, and on machines whose PID 1 does not reap
 * (containers) an orphan would otherwise linger as a zombie after shutdown.
 * It runs in its own session so a terminal ^C does not kill it before it has
 * cleaned up. The harness is a subreaper too, so that a postmaster which a
 * test restarted itself with pg_ctl is reaped here rather than by PID 1.
 *
 * initdb and pg_ctl refuse to run as root; as root they run as the
 * `postgres` user in a forked child that drops privileges itself (no runuser
 * dependency), and the temp dir is chowned to that user.
 *
 * No shell is involved anywhere: every program is run with fork/exec, so
 * paths containing spaces are passed through intact. Server settings go into
 * postgresql.conf rather than pg_ctl -o, because pg_ctl hands -o to /bin/sh.
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <grp.h>
#include <limits.h>
#include <netinet/in.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define PROG "svk-testenv"
#define EXIT_SETUP 2
#define DEFAULT_PG_BINDIR "/usr/lib/postgresql/15/bin"
/* Debian installs nats-server in /usr/sbin, which is not on a non-root PATH. */
#define DEFAULT_NATS_SERVER "/usr/sbin/nats-server"
#define PG_USER "svk"
#define PG_DB "svk_test"
#define PG_START_TIMEOUT_S "60"
#define PG_STOP_TIMEOUT_S "30"
#define NATS_READY_TIMEOUT_MS 30000
#define NATS_STOP_GRACE_MS 3000
#define REAP_GRACE_MS 3000
#define LOG_TAIL_LINES 20

struct runas {
    bool drop; /* true: setgid/initgroups/setuid to this user before exec */
    uid_t uid;
    gid_t gid;
    char name[64];
};

struct env {
    bool use_pg, use_nats, keep;
    char **cmd;
    char dir[PATH_MAX];
    char pgdata[PATH_MAX], sockdir[PATH_MAX], pglog[PATH_MAX];
    char setuplog[PATH_MAX], natsstore[PATH_MAX], natslog[PATH_MAX];
    char bindir[PATH_MAX];
    int pg_port, nats_port, nats_mon_port;
    struct runas pg_as;
};

/* What the watchdog knows about the processes it must clean up after. */
struct wdstate {
    int life_fd;
    pid_t nats_pid;
    pid_t cmd_pid; /* CMD, told by the harness; -1 once it has exited */
    unsigned long long cmd_start;
    bool cmd_done;
    char buf[256];
    size_t buflen;
};

struct spawn_opts {
    const struct runas *as; /* NULL: keep our identity */
    int out_fd;             /* -1: inherit stdout/stderr */
    const char *cwd;        /* NULL: inherit */
    bool null_stdin;
    bool own_pgrp; /* keep terminal ^C away from servers */
};

struct procinfo {
    char state;
    int ppid;
    unsigned long long start;
};

static volatile sig_atomic_t g_cmd_pid;

/* ---------------------------------------------------------------- utils */

static void say(const char *fmt, ...)
{
    char line[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    /* One write per line so the harness and watchdog do not interleave. */
    dprintf(STDERR_FILENO, PROG ": %s\n", line);
}

static long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
        ;
}

static bool join(char *out, const char *dir, const char *name)
{
    int n = snprintf(out, PATH_MAX, "%s/%s", dir, name);
    return n > 0 && n < PATH_MAX;
}

/* Shows the end of a log, ignoring what was there before byte `since`. */
static void print_log_tail(const char *path, off_t since, int lines)
{
    char buf[4096];
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    off_t size = fd < 0 ? 0 : lseek(fd, 0, SEEK_END);
    off_t from = size - since > (off_t)sizeof buf - 1 ? size - ((off_t)sizeof buf - 1) : since;
    ssize_t n = fd < 0 ? 0 : pread(fd, buf, sizeof buf - 1, from);
    if (fd >= 0)
        close(fd);
    if (n <= 0) {
        dprintf(STDERR_FILENO, "----- %s: nothing logged -----\n", path);
        return;
    }
    buf[n] = '\0';
    char *p = buf + n - 1; /* skip the final newline: it ends the last line */
    for (int seen = 0; p > buf; p--)
        if (p[-1] == '\n' && ++seen == lines)
            break;
    dprintf(STDERR_FILENO, "----- last lines of %s -----\n%s%s-----\n", path, p,
            buf[n - 1] == '\n' ? "" : "\n");
}

static bool proc_info(pid_t pid, struct procinfo *pi)
{
    char path[64], buf[1024];
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return false;
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n <= 0)
        return false;
    buf[n] = '\0';
    /* comm may contain spaces and parens: fields restart after the last ')'. */
    char *p = strrchr(buf, ')');
    return p && sscanf(p + 1,
                       " %c %d %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s"
                       " %*s %*s %*s %*s %*s %*s %*s %llu",
                       &pi->state, &pi->ppid, &pi->start) == 3;
}

/* ----------------------------------------------------- processes & exec */

static int drop_privileges(const struct runas *as)
{
    if (!as || !as->drop)
        return 0;
    /* Groups first: after setuid we no longer may change them. */
    if (initgroups(as->name, as->gid) || setgid(as->gid) || setuid(as->uid))
        return -1;
    return 0;
}

static void reset_signals(void)
{
    /* Ignored dispositions and the mask survive exec; handlers do not. */
    static const int sigs[] = {SIGPIPE, SIGINT, SIGTERM, SIGHUP, SIGQUIT};
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++)
        signal(sigs[i], SIG_DFL);
}

static void child_exec(char *const argv[], const struct spawn_opts *o)
{
    reset_signals();
    if (o->null_stdin) {
        int fd = open("/dev/null", O_RDONLY);
        if (fd >= 0 && fd != STDIN_FILENO) {
            dup2(fd, STDIN_FILENO);
            close(fd);
        }
    }
    if (o->out_fd >= 0) {
        dup2(o->out_fd, STDOUT_FILENO);
        dup2(o->out_fd, STDERR_FILENO);
    }
    if (o->own_pgrp)
        setpgid(0, 0);
    if (o->cwd && chdir(o->cwd) < 0)
        dprintf(STDERR_FILENO, PROG ": chdir %s: %s\n", o->cwd, strerror(errno));
    else if (drop_privileges(o->as) < 0)
        dprintf(STDERR_FILENO, PROG ": cannot become %s: %s\n", o->as->name, strerror(errno));
    else {
        execvp(argv[0], argv);
        dprintf(STDERR_FILENO, PROG ": cannot run %s: %s\n", argv[0], strerror(errno));
    }
    _exit(127);
}

static pid_t spawn(char *const argv[], const struct spawn_opts *o)
{
    pid_t pid = fork();
    if (pid == 0)
        child_exec(argv, o);
    if (pid < 0)
        say("fork: %s", strerror(errno));
    return pid;
}

static int wait_status(pid_t pid)
{
    int st;
    while (waitpid(pid, &st, 0) < 0)
        if (errno != EINTR)
            return -1;
    return st;
}

static int exit_code(int st)
{
    if (st == -1)
        return EXIT_SETUP;
    if (WIFSIGNALED(st))
        return 128 + WTERMSIG(st);
    return WEXITSTATUS(st);
}

/* Runs a setup/teardown helper to completion, its output going to setup.log. */
static bool run_helper(const struct env *e, char *const argv[], const struct runas *as,
                       const char *what)
{
    int fd = open(e->setuplog, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    off_t since = fd < 0 ? 0 : lseek(fd, 0, SEEK_END); /* show only this helper's output */
    struct spawn_opts o = {.as = as, .out_fd = fd, .cwd = e->dir, .null_stdin = true};
    pid_t pid = spawn(argv, &o);
    if (fd >= 0)
        close(fd);
    int code = pid < 0 ? -1 : exit_code(wait_status(pid));
    if (code == 0)
        return true;
    say("%s failed (exit status %d)", what, code);
    print_log_tail(e->setuplog, since, LOG_TAIL_LINES);
    return false;
}

/* ------------------------------------------------------------- cleanup */

static int rm_entry(const char *path, const struct stat *sb, int type, struct FTW *ftw)
{
    (void)sb;
    (void)type;
    (void)ftw;
    if (remove(path) < 0 && errno != ENOENT)
        say("cannot remove %s: %s", path, strerror(errno));
    return 0; /* keep going: remove as much as we can */
}

static void remove_tree(const char *dir)
{
    nftw(dir, rm_entry, 32, FTW_DEPTH | FTW_PHYS);
}

/* Last resort for children we adopted without knowing their pid. */
static void kill_own_children(int sig)
{
    DIR *d = opendir("/proc");
    struct dirent *de;
    if (!d)
        return;
    while ((de = readdir(d)) != NULL) {
        char *end;
        long pid = strtol(de->d_name, &end, 10);
        struct procinfo pi;
        if (*end == '\0' && pid > 0 && proc_info((pid_t)pid, &pi) && pi.ppid == getpid())
            kill((pid_t)pid, sig);
    }
    closedir(d);
}

/* Reaps every child; those still alive after grace_ms are SIGKILLed. */
static void reap_all(int grace_ms)
{
    long long deadline = now_ms() + grace_ms;
    for (;;) {
        pid_t p = waitpid(-1, NULL, WNOHANG);
        if (p > 0)
            continue;
        if (p < 0 && errno != EINTR)
            return; /* ECHILD: nothing left */
        if (now_ms() >= deadline)
            break;
        sleep_ms(10);
    }
    kill_own_children(SIGKILL);
    while (waitpid(-1, NULL, 0) > 0 || errno == EINTR)
        ;
}

/* ----------------------------------------------------------- postgres */

static bool pg_tool(char *out, const struct env *e, const char *name)
{
    return join(out, e->bindir, name);
}

static bool pg_initdb(const struct env *e)
{
    char initdb[PATH_MAX];
    pg_tool(initdb, e, "initdb");
    /* C locale: deterministic ORDER BY on text and the fastest initdb. */
    char *argv[] = {initdb, "-D", (char *)e->pgdata, "-A", "trust", "-U", PG_USER,
                    "-E", "UTF8", "--locale=C", "--no-sync", "--no-instructions", NULL};
    return run_helper(e, argv, &e->pg_as, "initdb");
}

static void put_conf_string(FILE *f, const char *s)
{
    fputc('\'', f);
    for (; *s; s++) {
        if (*s == '\'' || *s == '\\')
            fputc(*s, f); /* postgresql.conf escapes by doubling */
        fputc(*s, f);
    }
    fputs("'\n", f);
}

static bool pg_configure(const struct env *e)
{
    char conf[PATH_MAX];
    join(conf, e->pgdata, "postgresql.conf");
    FILE *f = fopen(conf, "a");
    if (!f) {
        say("cannot open %s: %s", conf, strerror(errno));
        return false;
    }
    /* Durability is pointless for a server that lives for one test run. */
    fprintf(f, "\n# added by " PROG "\nlisten_addresses = '127.0.0.1'\nport = %d\n"
               "fsync = off\nsynchronous_commit = off\nfull_page_writes = off\n"
               "max_connections = 200\nunix_socket_directories = ",
            e->pg_port);
    put_conf_string(f, e->sockdir);
    return fclose(f) == 0;
}

static bool pg_start(const struct env *e)
{
    char pg_ctl[PATH_MAX];
    pg_tool(pg_ctl, e, "pg_ctl");
    char *argv[] = {pg_ctl, "start", "-w", "-t", PG_START_TIMEOUT_S, "-D", (char *)e->pgdata,
                    "-l", (char *)e->pglog, NULL};
    if (run_helper(e, argv, &e->pg_as, "pg_ctl start"))
        return true;
    print_log_tail(e->pglog, 0, LOG_TAIL_LINES);
    return false;
}

static bool pg_createdb(const struct env *e)
{
    char createdb[PATH_MAX], port[16];
    pg_tool(createdb, e, "createdb");
    snprintf(port, sizeof port, "%d", e->pg_port);
    char *argv[] = {createdb, "-h", (char *)e->sockdir, "-p", port, "-U", PG_USER, PG_DB, NULL};
    return run_helper(e, argv, NULL, "createdb " PG_DB);
}

static void pg_announce(const struct env *e)
{
    char path[PATH_MAX], ver[16] = "?";
    join(path, e->pgdata, "PG_VERSION");
    FILE *f = fopen(path, "r");
    if (f) {
        if (fscanf(f, "%15s", ver) != 1)
            strcpy(ver, "?");
        fclose(f);
    }
    say("postgres %s on 127.0.0.1:%d (socket %s)", ver, e->pg_port, e->sockdir);
}

static void pg_kill_from_pidfile(const struct env *e)
{
    char path[PATH_MAX];
    long pid = 0;
    join(path, e->pgdata, "postmaster.pid");
    FILE *f = fopen(path, "r");
    if (!f)
        return;
    if (fscanf(f, "%ld", &pid) == 1 && pid > 0)
        kill((pid_t)pid, SIGKILL);
    fclose(f);
}

static void pg_stop(const struct env *e)
{
    char pidfile[PATH_MAX], pg_ctl[PATH_MAX];
    join(pidfile, e->pgdata, "postmaster.pid");
    if (access(pidfile, F_OK) < 0)
        return; /* never started, or already stopped by a test */
    pg_tool(pg_ctl, e, "pg_ctl");
    char *argv[] = {pg_ctl, "stop", "-D", (char *)e->pgdata, "-m", "immediate", "-w",
                    "-t", PG_STOP_TIMEOUT_S, NULL};
    if (!run_helper(e, argv, &e->pg_as, "pg_ctl stop"))
        pg_kill_from_pidfile(e);
}

/* ---------------------------------------------------------- nats-server */

static bool nats_start(const struct env *e, struct wdstate *st)
{
    char port[16], mport[16];
    const char *bin = getenv("SVK_NATS_SERVER");
    if (!bin || !*bin)
        bin = access(DEFAULT_NATS_SERVER, X_OK) == 0 ? DEFAULT_NATS_SERVER : "nats-server";
    snprintf(port, sizeof port, "%d", e->nats_port);
    snprintf(mport, sizeof mport, "%d", e->nats_mon_port);
    char *argv[] = {(char *)bin, "-js", "-a", "127.0.0.1",
                    "-p", port, "-m", mport, "-sd", (char *)e->natsstore,
                    "-n", PROG, "-l", (char *)e->natslog, NULL};
    /* Anything printed before -l takes effect lands in the same log. */
    int fd = open(e->natslog, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    struct spawn_opts o = {.out_fd = fd, .cwd = e->dir, .null_stdin = true, .own_pgrp = true};
    st->nats_pid = spawn(argv, &o);
    if (fd >= 0)
        close(fd);
    return st->nats_pid > 0;
}

static int connect_local(int port)
{
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    struct timeval tv = {1, 0};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    if (connect(fd, (struct sockaddr *)&sa, sizeof sa) == 0)
        return fd;
    close(fd);
    return -1;
}

/* 200 from /healthz?js-enabled-only=true means JetStream is up, not just TCP. */
static bool nats_healthy(const struct env *e)
{
    static const char req[] = "GET /healthz?js-enabled-only=true HTTP/1.0\r\n\r\n";
    char resp[64] = "";
    int fd = connect_local(e->nats_mon_port);
    if (fd < 0)
        return false;
    ssize_t n = -1;
    if (write(fd, req, sizeof req - 1) == (ssize_t)sizeof req - 1)
        n = read(fd, resp, sizeof resp - 1);
    close(fd);
    if (n <= 0)
        return false;
    resp[n] = '\0';
    return strncmp(resp, "HTTP/1.", 7) == 0 && strstr(resp, " 200 ") != NULL;
}

static bool nats_accepts(const struct env *e)
{
    int fd = connect_local(e->nats_port);
    if (fd < 0)
        return false;
    close(fd);
    return true;
}

static bool harness_gone(const struct wdstate *st);

static bool nats_exited(const struct env *e, struct wdstate *st)
{
    int status;
    if (waitpid(st->nats_pid, &status, WNOHANG) != st->nats_pid)
        return false;
    st->nats_pid = -1;
    say("nats-server exited during startup (exit status %d)", exit_code(status));
    print_log_tail(e->natslog, 0, LOG_TAIL_LINES);
    return true;
}

static bool nats_wait_ready(const struct env *e, struct wdstate *st)
{
    long long deadline = now_ms() + NATS_READY_TIMEOUT_MS;
    while (now_ms() < deadline) {
        if (harness_gone(st) || nats_exited(e, st))
            return false;
        if (nats_healthy(e) && nats_accepts(e)) {
            say("nats-server on 127.0.0.1:%d (JetStream)", e->nats_port);
            return true;
        }
        sleep_ms(10);
    }
    say("nats-server not ready after %d ms", NATS_READY_TIMEOUT_MS);
    print_log_tail(e->natslog, 0, LOG_TAIL_LINES);
    return false;
}

static void nats_stop(struct wdstate *st)
{
    long long deadline = now_ms() + NATS_STOP_GRACE_MS;
    while (waitpid(st->nats_pid, NULL, WNOHANG) == 0) {
        if (now_ms() >= deadline) {
            kill(st->nats_pid, SIGKILL);
            wait_status(st->nats_pid);
            break;
        }
        sleep_ms(5);
    }
    st->nats_pid = -1;
}

/* ------------------------------------------------------------- watchdog */

static bool harness_gone(const struct wdstate *st)
{
    /* During setup the harness writes nothing, so HUP alone means it died. */
    struct pollfd p = {.fd = st->life_fd, .events = POLLIN};
    return poll(&p, 1, 0) > 0 && (p.revents & (POLLHUP | POLLERR));
}

static bool mkdir_for(const char *path, const struct runas *as)
{
    if (mkdir(path, 0700) < 0) {
        say("mkdir %s: %s", path, strerror(errno));
        return false;
    }
    if (as && as->drop && chown(path, as->uid, as->gid) < 0) {
        say("chown %s: %s", path, strerror(errno));
        return false;
    }
    return true;
}

static bool make_dirs(const struct env *e)
{
    const struct runas *as = &e->pg_as;
    /* postgres must be able to create pg.log next to its data directory. */
    if (e->use_pg && as->drop && chown(e->dir, as->uid, as->gid) < 0) {
        say("chown %s: %s", e->dir, strerror(errno));
        return false;
    }
    if (e->use_pg && !(mkdir_for(e->pgdata, as) && mkdir_for(e->sockdir, as)))
        return false;
    return !e->use_nats || mkdir_for(e->natsstore, NULL);
}

static bool pg_setup(const struct env *e, const struct wdstate *st)
{
    if (!pg_initdb(e) || harness_gone(st) || !pg_configure(e))
        return false;
    if (!pg_start(e) || harness_gone(st) || !pg_createdb(e))
        return false;
    pg_announce(e);
    return true;
}

static bool setup_servers(const struct env *e, struct wdstate *st)
{
    if (!make_dirs(e))
        return false;
    /* nats-server boots while initdb runs: the two are independent. */
    if (e->use_nats && !nats_start(e, st))
        return false;
    if (e->use_pg && !pg_setup(e, st))
        return false;
    return !e->use_nats || nats_wait_ready(e, st);
}

static void handle_msg(struct wdstate *st, const char *line)
{
    long pid;
    struct procinfo pi;
    if (sscanf(line, "C %ld", &pid) == 1) {
        st->cmd_pid = (pid_t)pid;
        /* Remember its start time so we never signal a recycled pid. */
        st->cmd_start = proc_info(st->cmd_pid, &pi) ? pi.start : 0;
    } else if (strcmp(line, "D") == 0) {
        st->cmd_done = true;
    }
}

/* Returns false on EOF: the harness has exited. */
static bool read_msgs(struct wdstate *st)
{
    ssize_t n = read(st->life_fd, st->buf + st->buflen, sizeof st->buf - 1 - st->buflen);
    if (n < 0)
        return errno == EINTR;
    if (n == 0)
        return false;
    st->buflen += (size_t)n;
    st->buf[st->buflen] = '\0';
    char *line = st->buf, *nl;
    while ((nl = strchr(line, '\n')) != NULL) {
        *nl = '\0';
        handle_msg(st, line);
        line = nl + 1;
    }
    st->buflen = strlen(line);
    memmove(st->buf, line, st->buflen + 1);
    if (st->buflen == sizeof st->buf - 1)
        st->buflen = 0; /* garbage: no message is this long */
    return true;
}

static void reap_while_running(const struct env *e, struct wdstate *st)
{
    int status;
    pid_t p;
    while ((p = waitpid(-1, &status, WNOHANG)) > 0) {
        if (p != st->nats_pid)
            continue; /* e.g. a postmaster a test restarted */
        st->nats_pid = -1;
        say("nats-server exited unexpectedly (exit status %d), see %s", exit_code(status),
            e->natslog);
    }
}

static void supervise(const struct env *e, struct wdstate *st)
{
    for (;;) {
        struct pollfd p = {.fd = st->life_fd, .events = POLLIN};
        int n = poll(&p, 1, 1000);
        if (n < 0 && errno != EINTR)
            return;
        if (n > 0 && !read_msgs(st))
            return;
        reap_while_running(e, st);
    }
}

static void stop_orphaned_cmd(const struct wdstate *st)
{
    struct procinfo pi;
    if (st->cmd_pid <= 0 || st->cmd_done)
        return;
    say("harness went away while CMD was running; tearing down");
    if (proc_info(st->cmd_pid, &pi) && pi.start == st->cmd_start && pi.state != 'Z')
        kill(st->cmd_pid, SIGTERM);
}

static void teardown(const struct env *e, struct wdstate *st)
{
    stop_orphaned_cmd(st);
    if (st->nats_pid > 0)
        kill(st->nats_pid, SIGTERM); /* stops while pg_ctl runs */
    if (e->use_pg)
        pg_stop(e);
    if (st->nats_pid > 0)
        nats_stop(st);
    reap_all(REAP_GRACE_MS);
    if (e->keep)
        say("kept %s", e->dir);
    else
        remove_tree(e->dir);
}

/* Out of the terminal's reach: only EOF on the life pipe ends the watchdog. */
static void detach_watchdog(void)
{
    setsid();
    prctl(PR_SET_CHILD_SUBREAPER, 1);
    signal(SIGINT, SIG_IGN);
    signal(SIGHUP, SIG_IGN);
    signal(SIGQUIT, SIG_IGN);
    signal(SIGPIPE, SIG_IGN);
    int devnull = open("/dev/null", O_RDONLY);
    if (devnull >= 0) {
        dup2(devnull, STDIN_FILENO);
        close(devnull);
    }
}

static int watchdog_main(const struct env *e, int life_fd, int status_fd)
{
    struct wdstate st = {.life_fd = life_fd, .nats_pid = -1, .cmd_pid = -1};
    detach_watchdog();
    bool ok = setup_servers(e, &st);
    char verdict = ok ? 'R' : 'F';
    if (write(status_fd, &verdict, 1) < 0) {
        /* harness already gone: teardown below is all that is left */
    }
    close(status_fd);
    if (ok)
        supervise(e, &st);
    teardown(e, &st);
    return ok ? 0 : 1;
}

/* -------------------------------------------------------------- harness */

struct watchdog {
    pid_t pid;
    int life_fd;   /* write end: closing it (or dying) starts teardown */
    int status_fd; /* read end: one byte, 'R' ready or 'F' failed */
};

static bool start_watchdog(const struct env *e, struct watchdog *wd)
{
    int life[2], status[2];
    /* CLOEXEC: no server or CMD may hold the life pipe open. */
    if (pipe2(life, O_CLOEXEC) < 0 || pipe2(status, O_CLOEXEC) < 0) {
        say("pipe: %s", strerror(errno));
        return false;
    }
    wd->pid = fork();
    if (wd->pid == 0) {
        close(life[1]);
        close(status[0]);
        _exit(watchdog_main(e, life[0], status[1]));
    }
    close(life[0]);
    close(status[1]);
    wd->life_fd = life[1];
    wd->status_fd = status[0];
    if (wd->pid < 0)
        say("fork: %s", strerror(errno));
    return wd->pid > 0;
}

static bool wait_ready(const struct watchdog *wd)
{
    char c = 'F';
    ssize_t n;
    while ((n = read(wd->status_fd, &c, 1)) < 0 && errno == EINTR)
        ;
    close(wd->status_fd);
    return n == 1 && c == 'R';
}

static void tell_watchdog(const struct watchdog *wd, const char *fmt, ...)
{
    char msg[64];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    /* < PIPE_BUF, so the line arrives whole. Failure means it is gone. */
    if (n > 0 && write(wd->life_fd, msg, (size_t)n) < 0) {
    }
}

static void finish(const struct watchdog *wd)
{
    close(wd->life_fd);
    wait_status(wd->pid);
    /* Orphans a test left us: a postmaster it restarted (stopped by the
     * watchdog, maybe not exited yet) or a daemon it forgot. */
    reap_all(REAP_GRACE_MS);
}

static void forward_signal(int sig)
{
    pid_t pid = (pid_t)g_cmd_pid;
    if (pid > 0)
        kill(pid, sig);
}

static int run_cmd(const struct env *e, const struct watchdog *wd)
{
    static const int sigs[] = {SIGINT, SIGTERM, SIGHUP};
    struct sigaction sa = {.sa_handler = forward_signal, .sa_flags = SA_RESTART};
    sigset_t block, old;
    sigemptyset(&block);
    for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++) {
        sigaddset(&block, sigs[i]);
        sigaction(sigs[i], &sa, NULL);
    }
    /* Blocked until g_cmd_pid is set, so an early ^C is forwarded, not lost. */
    sigprocmask(SIG_BLOCK, &block, &old);
    struct spawn_opts o = {.out_fd = -1};
    pid_t pid = spawn(e->cmd, &o);
    g_cmd_pid = pid;
    sigprocmask(SIG_SETMASK, &old, NULL);
    if (pid < 0)
        return EXIT_SETUP;
    tell_watchdog(wd, "C %ld\n", (long)pid);
    int st = wait_status(pid);
    g_cmd_pid = 0;
    tell_watchdog(wd, "D\n");
    return exit_code(st);
}

static void setenv_fmt(const char *name, const char *fmt, ...)
{
    char val[PATH_MAX + 256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(val, sizeof val, fmt, ap);
    va_end(ap);
    setenv(name, val, 1);
}

/* libpq keyword values with spaces, quotes or backslashes need quoting. */
static void conninfo_value(char *out, size_t cap, const char *v)
{
    size_t o = 0;
    bool quote = *v == '\0' || strpbrk(v, " '\\\t") != NULL;
    if (quote && o < cap - 1)
        out[o++] = '\'';
    for (; *v && o < cap - 3; v++) {
        if (quote && (*v == '\'' || *v == '\\'))
            out[o++] = '\\';
        out[o++] = *v;
    }
    if (quote)
        out[o++] = '\'';
    out[o] = '\0';
}

static void export_pg(const struct env *e)
{
    static const char *vars[] = {"SVK_TEST_PG_DSN",  "SVK_TEST_PG_URL",     "SVK_TEST_PG_DATA",
                                 "SVK_TEST_PG_BINDIR", "SVK_TEST_PG_PORT",  "SVK_TEST_PG_SOCKDIR",
                                 "SVK_TEST_PG_LOG",  "SVK_TEST_PG_USER_IS_POSTGRES"};
    char host[2 * PATH_MAX + 3];
    /* Never let values inherited from an outer run leak into this one. */
    for (size_t i = 0; i < sizeof vars / sizeof vars[0]; i++)
        unsetenv(vars[i]);
    if (!e->use_pg)
        return;
    conninfo_value(host, sizeof host, e->sockdir);
    setenv_fmt("SVK_TEST_PG_DSN", "host=%s port=%d dbname=" PG_DB " user=" PG_USER, host,
               e->pg_port);
    setenv_fmt("SVK_TEST_PG_URL", "postgresql://" PG_USER "@127.0.0.1:%d/" PG_DB, e->pg_port);
    setenv_fmt("SVK_TEST_PG_PORT", "%d", e->pg_port);
    setenv("SVK_TEST_PG_DATA", e->pgdata, 1);
    setenv("SVK_TEST_PG_BINDIR", e->bindir, 1);
    setenv("SVK_TEST_PG_SOCKDIR", e->sockdir, 1);
    setenv("SVK_TEST_PG_LOG", e->pglog, 1);
    if (e->pg_as.drop)
        setenv("SVK_TEST_PG_USER_IS_POSTGRES", "1", 1);
}

static void export_nats(const struct env *e)
{
    unsetenv("SVK_TEST_NATS_URL");
    unsetenv("SVK_TEST_NATS_STORE");
    unsetenv("SVK_TEST_NATS_MONITOR_URL");
    if (!e->use_nats)
        return;
    setenv_fmt("SVK_TEST_NATS_URL", "nats://127.0.0.1:%d", e->nats_port);
    setenv_fmt("SVK_TEST_NATS_MONITOR_URL", "http://127.0.0.1:%d", e->nats_mon_port);
    setenv("SVK_TEST_NATS_STORE", e->natsstore, 1);
}

/* ------------------------------------------------------------- prepare */

static void usage(FILE *f)
{
    fprintf(f, "usage: " PROG " [--no-pg] [--no-nats] [--keep] -- CMD [ARGS...]\n");
}

static bool parse_args(struct env *e, int argc, char **argv)
{
    e->use_pg = e->use_nats = true;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--") == 0) {
            e->cmd = i + 1 < argc ? &argv[i + 1] : NULL;
            break;
        } else if (strcmp(argv[i], "--no-pg") == 0) {
            e->use_pg = false;
        } else if (strcmp(argv[i], "--no-nats") == 0) {
            e->use_nats = false;
        } else if (strcmp(argv[i], "--keep") == 0) {
            e->keep = true;
        } else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            usage(stdout);
            exit(0);
        } else {
            say("unknown option %s", argv[i]);
            break;
        }
    }
    if (!e->cmd)
        usage(stderr);
    return e->cmd != NULL;
}

/* Ports are held open together so the three we get are distinct. */
static bool reserve_ports(int *ports, int n)
{
    int fds[8];
    bool ok = true;
    for (int i = 0; i < n; i++) {
        struct sockaddr_in sa = {.sin_family = AF_INET};
        socklen_t len = sizeof sa;
        sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        fds[i] = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        ok = ok && fds[i] >= 0 && bind(fds[i], (struct sockaddr *)&sa, sizeof sa) == 0 &&
             getsockname(fds[i], (struct sockaddr *)&sa, &len) == 0;
        ports[i] = ntohs(sa.sin_port);
    }
    for (int i = 0; i < n; i++)
        if (fds[i] >= 0)
            close(fds[i]);
    if (!ok)
        say("cannot find a free TCP port on 127.0.0.1: %s", strerror(errno));
    return ok;
}

static bool resolve_pg_user(struct runas *as)
{
    struct passwd *pw;
    as->drop = geteuid() == 0;
    if (!as->drop)
        return true;
    if ((pw = getpwnam("postgres")) == NULL) {
        say("running as root, but there is no 'postgres' user to run initdb/pg_ctl as");
        return false;
    }
    as->uid = pw->pw_uid;
    as->gid = pw->pw_gid;
    snprintf(as->name, sizeof as->name, "%s", pw->pw_name);
    return true;
}

static bool resolve_bindir(struct env *e)
{
    const char *dir = getenv("SVK_PG_BINDIR");
    char initdb[PATH_MAX];
    snprintf(e->bindir, sizeof e->bindir, "%s", dir && *dir ? dir : DEFAULT_PG_BINDIR);
    if (join(initdb, e->bindir, "initdb") && access(initdb, X_OK) == 0)
        return true;
    say("no executable initdb in %s (set SVK_PG_BINDIR)", e->bindir);
    return false;
}

static bool make_paths(struct env *e)
{
    bool ok = join(e->pgdata, e->dir, "pg") && join(e->sockdir, e->dir, "sock") &&
              join(e->pglog, e->dir, "pg.log") && join(e->setuplog, e->dir, "setup.log") &&
              join(e->natsstore, e->dir, "nats") && join(e->natslog, e->dir, "nats.log");
    /* The server's socket DIR/sock/.s.PGSQL.PORT must fit in sockaddr_un. */
    size_t socklen = strlen(e->sockdir) + sizeof "/.s.PGSQL.65535";
    if (ok && socklen > sizeof(((struct sockaddr_un *)0)->sun_path)) {
        say("socket dir %s is too long for a unix socket: use a shorter TMPDIR", e->sockdir);
        return false;
    }
    if (!ok || strchr(e->dir, '\n'))
        say("unusable temp dir path %s", e->dir);
    return ok && !strchr(e->dir, '\n');
}

static bool make_tmpdir(struct env *e)
{
    const char *tmp = getenv("TMPDIR");
    int n = snprintf(e->dir, sizeof e->dir, "%s/" PROG "-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (n <= 0 || n >= (int)sizeof e->dir || !mkdtemp(e->dir)) {
        say("cannot create temp dir in %s: %s", tmp && *tmp ? tmp : "/tmp", strerror(errno));
        return false;
    }
    return true;
}

static bool prepare(struct env *e)
{
    int ports[3];
    if (e->use_pg && !(resolve_bindir(e) && resolve_pg_user(&e->pg_as)))
        return false;
    if (!reserve_ports(ports, 3))
        return false;
    e->pg_port = ports[0];
    e->nats_port = ports[1];
    e->nats_mon_port = ports[2];
    if (!make_tmpdir(e))
        return false;
    if (make_paths(e))
        return true;
    remove_tree(e->dir);
    return false;
}

int main(int argc, char **argv)
{
    struct env e = {0};
    struct watchdog wd;
    if (!parse_args(&e, argc, argv) || !prepare(&e))
        return EXIT_SETUP;
    prctl(PR_SET_CHILD_SUBREAPER, 1);
    signal(SIGPIPE, SIG_IGN);
    if (!start_watchdog(&e, &wd)) {
        remove_tree(e.dir);
        return EXIT_SETUP;
    }
    int rc = EXIT_SETUP;
    if (wait_ready(&wd)) {
        setenv("SVK_TEST_TMPDIR", e.dir, 1);
        export_pg(&e);
        export_nats(&e);
        rc = run_cmd(&e, &wd);
    }
    finish(&wd);
    return rc;
}
