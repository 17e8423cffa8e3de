/*
 * file_value.c — reading a value from the file named by NAME_FILE.
 *
 * Secrets arrive this way, so the buffer is grown by copy-wipe-free rather
 * than realloc (which could leave a copy of the secret in freed memory), and
 * the newline bytes stripped from the end are wiped too. Plain open/read keep
 * libc from allocating (stdio would) outside the library's allocator hooks.
 */
#include "svckit/config.h"
#include "config/field.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define FILE_VALUE_MAX (1024 * 1024) /* larger is surely not a config value */
#define FIRST_SIZE 256

/* Grow *buf from *cap to twice as many bytes; the old block is wiped. */
static int grow(char **buf, size_t *cap, size_t used)
{
    char *p = svk_malloc(*cap * 2);
    if (p == NULL)
        return SVK_ENOMEM;
    memcpy(p, *buf, used);
    svk__config_wipe_free(*buf, *cap);
    *buf = p;
    *cap *= 2;
    return 0;
}

static int read_all(int fd, char **buf, size_t *len, char *reason, size_t size)
{
    size_t cap = FIRST_SIZE, used = 0;
    char *p = svk_malloc(cap);
    if (p == NULL)
        return SVK_ENOMEM;
    for (;;) {
        if (used + 1 == cap) {
            int rc = cap > FILE_VALUE_MAX ? SVK_EIO : grow(&p, &cap, used);
            if (rc == SVK_EIO)
                snprintf(reason, size, "file is larger than %d bytes", FILE_VALUE_MAX);
            if (rc != 0) {
                svk__config_wipe_free(p, cap);
                return rc;
            }
        }
        ssize_t n = read(fd, p + used, cap - 1 - used);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            snprintf(reason, size, "cannot read file: %s", strerror(errno));
            svk__config_wipe_free(p, cap);
            return SVK_EIO;
        }
        if (n == 0)
            break;
        used += (size_t)n;
    }
    p[used] = '\0';
    *buf = p;
    *len = used;
    return 0;
}

int svk__config_read_file(const char *path, char **text, size_t *len, char *reason,
                          size_t reason_size)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
    if (fd < 0) {
        snprintf(reason, reason_size, "cannot open file \"%.128s\": %s", path,
                 strerror(errno));
        return SVK_EIO;
    }
    char *buf = NULL;
    size_t n = 0;
    int rc = read_all(fd, &buf, &n, reason, reason_size);
    close(fd);
    if (rc != 0)
        return rc;
    if (memchr(buf, '\0', n) != NULL) {
        svk__config_wipe_free(buf, n + 1);
        snprintf(reason, reason_size, "file \"%.128s\" contains a NUL byte", path);
        return SVK_EIO;
    }
    size_t kept = n;
    while (kept > 0 && (buf[kept - 1] == '\n' || buf[kept - 1] == '\r'))
        kept--;
    explicit_bzero(buf + kept, n - kept);
    *text = buf;
    *len = kept;
    return 0;
}
