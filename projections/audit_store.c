/* The audit projector's files under <data>/audit (audit.h): checkpoint,
 * masking key, lock, and the appended audit.log. */
#include "projections/audit_int.h"
#include "projections/proj_int.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#define CHECKPOINT_FILE "checkpoint"
#define KEY_FILE "mask.key"
#define LOCK_FILE "lock"

static char *path_join(const char *dir, const char *name)
{
    size_t n = strlen(dir), m = strlen(name);
    char *p = malloc(n + m + 2);
    if (!p)
        abort();
    memcpy(p, dir, n);
    p[n] = '/';
    memcpy(p + n + 1, name, m + 1);
    return p;
}

/* Reads the whole (small) file at path into buf (NUL-terminated).
 * -1 with errno on an error, else the length; E2BIG when it does not fit. */
static ssize_t read_small(const char *path, char *buf, size_t cap)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    size_t len = 0;
    for (;;) {
        ssize_t r = read(fd, buf + len, cap - 1 - len);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            int e = errno;
            close(fd);
            errno = e;
            return -1;
        }
        if (r == 0)
            break;
        len += (size_t)r;
        if (len == cap - 1) {
            close(fd);
            errno = E2BIG;
            return -1;
        }
    }
    close(fd);
    buf[len] = '\0';
    return (ssize_t)len;
}

static int write_all(int fd, const void *p, size_t n)
{
    const char *c = p;
    while (n > 0) {
        ssize_t w = write(fd, c, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0)
            return -1;
        c += w;
        n -= (size_t)w;
    }
    return 0;
}

static int fsync_dir(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    int rc = fsync(fd);
    close(fd);
    return rc;
}

/* ---- checkpoint ---- */

ts_status proj__audit_checkpoint_read(const char *dir, uint64_t *seq)
{
    char buf[64], *end = NULL;
    char *path = path_join(dir, CHECKPOINT_FILE);
    ssize_t n = read_small(path, buf, sizeof buf);
    ts_status rc = TS_OK;
    if (n < 0 && errno == ENOENT) {
        *seq = 0;
    } else if (n < 0) {
        proj__log("audit: cannot read %s: %s", path, strerror(errno));
        rc = errno == E2BIG ? TS_ERR_CORRUPT : TS_ERR_IO;
    } else {
        errno = 0;
        unsigned long long v = strtoull(buf, &end, 10);
        if (buf[0] < '0' || buf[0] > '9' || errno || (*end && strcmp(end, "\n") != 0)) {
            proj__log("audit: %s does not hold a sequence number", path);
            rc = TS_ERR_CORRUPT;
        } else {
            *seq = v;
        }
    }
    free(path);
    return rc;
}

ts_status proj__audit_checkpoint_write(const char *dir, uint64_t seq)
{
    char buf[32];
    char *path = path_join(dir, CHECKPOINT_FILE);
    char *tmp = path_join(dir, CHECKPOINT_FILE ".tmp");
    ts_status rc = TS_ERR_IO;
    int n = snprintf(buf, sizeof buf, "%" PRIu64 "\n", seq);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0 || write_all(fd, buf, (size_t)n) != 0 || fsync(fd) != 0) {
        proj__log("audit: cannot write %s: %s", tmp, strerror(errno));
        goto done;
    }
    close(fd);
    fd = -1;
    /* rename is atomic: a reader (or a restart) sees the old number or the
     * new one; the directory's fsync makes the rename itself durable. */
    if (rename(tmp, path) != 0 || fsync_dir(dir) != 0) {
        proj__log("audit: cannot replace %s: %s", path, strerror(errno));
        goto done;
    }
    rc = TS_OK;
done:
    if (fd >= 0)
        close(fd);
    free(path);
    free(tmp);
    return rc;
}

/* ---- the masking key ---- */

/* Creates <dir>/mask.key with a fresh key unless it exists (O_EXCL: two
 * processes starting at once agree on one file; the loser reads it). The
 * key is written to a temporary file and linked into place, so nobody ever
 * reads a half-written key. */
static ts_status key_create(const char *dir, const char *path)
{
    uint8_t raw[32];
    char hex[2 * sizeof raw + 2];
    char *tmp = NULL;
    ts_status rc = TS_ERR_IO;
    int fd = -1;
    if (RAND_bytes(raw, sizeof raw) != 1) {
        proj__log("audit: no random bytes for the masking key");
        return TS_ERR_IO;
    }
    ts_hex(raw, sizeof raw, hex);
    strcat(hex, "\n");
    char name[64];
    snprintf(name, sizeof name, KEY_FILE ".%ld.tmp", (long)getpid());
    tmp = path_join(dir, name);
    fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0 || write_all(fd, hex, strlen(hex)) != 0 || fsync(fd) != 0) {
        proj__log("audit: cannot write %s: %s", tmp, strerror(errno));
        goto done;
    }
    if (link(tmp, path) != 0 && errno != EEXIST) {
        proj__log("audit: cannot create %s: %s", path, strerror(errno));
        goto done;
    }
    fsync_dir(dir);
    rc = TS_OK;
done:
    if (fd >= 0)
        close(fd);
    unlink(tmp);
    free(tmp);
    return rc;
}

ts_status proj__audit_key_load(const char *dir, const char *env_key, uint8_t **out, size_t *len)
{
    char buf[4096];
    ts_status rc = TS_OK;
    char *path = NULL;
    const char *key = env_key;
    size_t n = env_key ? strlen(env_key) : 0;

    if (n == 0) {
        path = path_join(dir, KEY_FILE);
        ssize_t r = read_small(path, buf, sizeof buf);
        if (r < 0 && errno == ENOENT) {
            if ((rc = key_create(dir, path)) == TS_OK) {
                proj__log("audit: generated the masking key %s (keep it: hashes depend on it)",
                          path);
                r = read_small(path, buf, sizeof buf);
            }
        }
        if (rc == TS_OK && r < 0) {
            proj__log("audit: cannot read %s: %s", path, strerror(errno));
            rc = TS_ERR_IO;
        }
        if (rc != TS_OK)
            goto done;
        n = (size_t)r;
        while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
            n--;
        if (n == 0) {
            proj__log("audit: %s is empty", path);
            rc = TS_ERR_CORRUPT;
            goto done;
        }
        key = buf;
    }
    uint8_t *copy = malloc(n);
    if (!copy) {
        rc = TS_ERR_NOMEM;
        goto done;
    }
    memcpy(copy, key, n);
    *out = copy;
    *len = n;
done:
    free(path);
    return rc;
}

/* ---- the lock ---- */

ts_status proj__audit_lock(const char *dir, int *fd)
{
    char *path = path_join(dir, LOCK_FILE);
    int f = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    ts_status rc = TS_OK;
    if (f < 0) {
        proj__log("audit: cannot open %s: %s", path, strerror(errno));
        rc = TS_ERR_IO;
    } else if (flock(f, LOCK_EX | LOCK_NB) != 0) {
        rc = errno == EWOULDBLOCK ? TS_ERR_CONFLICT : TS_ERR_IO;
        if (rc == TS_ERR_IO)
            proj__log("audit: cannot lock %s: %s", path, strerror(errno));
        close(f);
    } else {
        *fd = f;
    }
    free(path);
    return rc;
}

/* ---- audit.log ---- */

ts_status proj__audit_file_append(const char *path, const void *bytes, size_t len)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
    if (fd < 0 || write_all(fd, bytes, len) != 0 || fsync(fd) != 0) {
        int e = errno;
        if (fd >= 0)
            close(fd);
        errno = e;
        return TS_ERR_IO;
    }
    close(fd);
    return TS_OK;
}

ts_status proj__audit_file_repair(const char *path, size_t *cut)
{
    char buf[4096];
    struct stat st;
    *cut = 0;
    int fd = open(path, O_RDWR | O_CLOEXEC);
    if (fd < 0)
        return errno == ENOENT ? TS_OK : TS_ERR_IO;
    ts_status rc = TS_ERR_IO;
    if (fstat(fd, &st) != 0)
        goto done;
    /* Walk back from the end to the last '\n'. */
    off_t end = st.st_size;
    while (end > 0) {
        size_t want = end < (off_t)sizeof buf ? (size_t)end : sizeof buf;
        ssize_t r = pread(fd, buf, want, end - (off_t)want);
        if (r != (ssize_t)want)
            goto done;
        size_t i = want;
        while (i > 0 && buf[i - 1] != '\n')
            i--;
        if (i > 0) {
            end = end - (off_t)want + (off_t)i;
            break;
        }
        end -= (off_t)want;
    }
    if (end < st.st_size) {
        if (ftruncate(fd, end) != 0 || fsync(fd) != 0)
            goto done;
        *cut = (size_t)(st.st_size - end);
    }
    rc = TS_OK;
done:
    close(fd);
    return rc;
}
