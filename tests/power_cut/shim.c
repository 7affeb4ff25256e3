/*
 * A power cut below the file system, for tests/power_cut.rs (loaded with LD_PRELOAD into
 * the kapchart process under test; never part of kapchart itself).
 *
 * Every write to a file whose path begins with $POWERCUT_TRACK (the chart, its -wal and
 * -journal; not its -shm, which a reboot clears anyway) first appends to the undo log
 * $POWERCUT_UNDO what that range held before (and the file's size), and every fsync or
 * fdatasync of such a file appends a mark once it has returned. After the process is killed,
 * the test rolls each file back to its state at its last mark: what the disk would hold
 * after a power cut at that moment, had nothing reached it but what was synced. Writes the
 * process made but never synced are lost; writes it synced are kept.
 *
 * Records: 'W' u32 path_len, path, u64 offset, u64 size_before, u64 n, n old bytes;
 *          'S' u32 path_len, path.
 * A record cut short by the kill is the last one, and its write never happened (the record
 * is written before the write it describes).
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#define MAX_FD 4096

static char *tracked[MAX_FD];
static int undo_fd = -1;

static ssize_t (*real_pwrite64)(int, const void *, size_t, off64_t);
static ssize_t (*real_write)(int, const void *, size_t);
static ssize_t (*real_pread64)(int, void *, size_t, off64_t);
static int (*real_fsync)(int);
static int (*real_fdatasync)(int);
static int (*real_ftruncate64)(int, off64_t);
static int (*real_close)(int);

static void init(void) {
    if (real_pwrite64) return;
    real_pwrite64 = dlsym(RTLD_NEXT, "pwrite64");
    real_write = dlsym(RTLD_NEXT, "write");
    real_pread64 = dlsym(RTLD_NEXT, "pread64");
    real_fsync = dlsym(RTLD_NEXT, "fsync");
    real_fdatasync = dlsym(RTLD_NEXT, "fdatasync");
    real_ftruncate64 = dlsym(RTLD_NEXT, "ftruncate64");
    real_close = dlsym(RTLD_NEXT, "close");
    const char *undo = getenv("POWERCUT_UNDO");
    if (undo) {
        int (*real_open)(const char *, int, ...) = dlsym(RTLD_NEXT, "open");
        undo_fd = real_open(undo, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    }
}

static void put(const void *buf, size_t n) {
    const char *p = buf;
    while (n > 0) {
        ssize_t w = real_write(undo_fd, p, n);
        if (w < 0) {
            if (errno == EINTR) continue;
            abort(); /* an undo log that cannot be written would fake a durable disk */
        }
        p += w;
        n -= (size_t)w;
    }
}

static int is_tracked_path(const char *path) {
    const char *prefix = getenv("POWERCUT_TRACK");
    if (!prefix || !path) return 0;
    size_t n = strlen(prefix);
    if (strncmp(path, prefix, n) != 0) return 0;
    const char *rest = path + n;
    return strcmp(rest, "") == 0 || strcmp(rest, "-wal") == 0 || strcmp(rest, "-journal") == 0;
}

static void track(int fd, const char *path) {
    init();
    if (fd < 0 || fd >= MAX_FD) return;
    free(tracked[fd]);
    tracked[fd] = NULL;
    if (undo_fd >= 0 && is_tracked_path(path)) tracked[fd] = strdup(path);
}

static void put_header(char kind, const char *path) {
    uint32_t len = (uint32_t)strlen(path);
    put(&kind, 1);
    put(&len, sizeof len);
    put(path, len);
}

/* Records what [offset, offset + n) and the file's size were before a write or truncate. */
static void remember(int fd, off64_t offset, size_t n) {
    struct stat st;
    if (fstat(fd, &st) != 0) abort();
    uint64_t before = (uint64_t)st.st_size;
    uint64_t off = (uint64_t)offset;
    uint64_t old_n = 0;
    if (off < before) old_n = (before - off < n) ? before - off : n;
    char *old = malloc(old_n ? old_n : 1);
    if (!old) abort();
    size_t got = 0;
    while (got < old_n) {
        ssize_t r = real_pread64(fd, old + got, old_n - got, (off64_t)(off + got));
        if (r <= 0) {
            if (r < 0 && errno == EINTR) continue;
            abort();
        }
        got += (size_t)r;
    }
    put_header('W', tracked[fd]);
    put(&off, sizeof off);
    put(&before, sizeof before);
    put(&old_n, sizeof old_n);
    put(old, old_n);
    free(old);
}

int open(const char *path, int flags, ...) {
    init();
    mode_t mode = 0;
    if (flags & (O_CREAT | O_TMPFILE)) {
        va_list ap;
        va_start(ap, flags);
        mode = va_arg(ap, mode_t);
        va_end(ap);
    }
    int (*real)(const char *, int, ...) = dlsym(RTLD_NEXT, "open");
    int fd = real(path, flags, mode);
    track(fd, path);
    return fd;
}

int open64(const char *path, int flags, ...) {
    init();
    mode_t mode = 0;
    if (flags & (O_CREAT | O_TMPFILE)) {
        va_list ap;
        va_start(ap, flags);
        mode = va_arg(ap, mode_t);
        va_end(ap);
    }
    int (*real)(const char *, int, ...) = dlsym(RTLD_NEXT, "open64");
    int fd = real(path, flags, mode);
    track(fd, path);
    return fd;
}

int openat(int dir, const char *path, int flags, ...) {
    init();
    mode_t mode = 0;
    if (flags & (O_CREAT | O_TMPFILE)) {
        va_list ap;
        va_start(ap, flags);
        mode = va_arg(ap, mode_t);
        va_end(ap);
    }
    int (*real)(int, const char *, int, ...) = dlsym(RTLD_NEXT, "openat");
    int fd = real(dir, path, flags, mode);
    /* kapchart names the chart by an absolute path; a relative one is not tracked. */
    track(fd, path[0] == '/' ? path : NULL);
    return fd;
}

int close(int fd) {
    init();
    if (fd >= 0 && fd < MAX_FD) {
        free(tracked[fd]);
        tracked[fd] = NULL;
    }
    return real_close(fd);
}

ssize_t pwrite64(int fd, const void *buf, size_t n, off64_t offset) {
    init();
    if (fd >= 0 && fd < MAX_FD && tracked[fd]) remember(fd, offset, n);
    return real_pwrite64(fd, buf, n, offset);
}

ssize_t pwrite(int fd, const void *buf, size_t n, off_t offset) {
    return pwrite64(fd, buf, n, (off64_t)offset);
}

ssize_t write(int fd, const void *buf, size_t n) {
    init();
    if (fd >= 0 && fd < MAX_FD && tracked[fd]) remember(fd, lseek(fd, 0, SEEK_CUR), n);
    return real_write(fd, buf, n);
}

int ftruncate64(int fd, off64_t length) {
    init();
    if (fd >= 0 && fd < MAX_FD && tracked[fd]) {
        struct stat st;
        if (fstat(fd, &st) != 0) abort();
        if (length < st.st_size) remember(fd, length, (size_t)(st.st_size - length));
        else remember(fd, st.st_size, 0);
    }
    return real_ftruncate64(fd, length);
}

int ftruncate(int fd, off_t length) { return ftruncate64(fd, (off64_t)length); }

static int synced(int fd, int result) {
    if (result == 0 && fd >= 0 && fd < MAX_FD && tracked[fd]) put_header('S', tracked[fd]);
    return result;
}

int fsync(int fd) {
    init();
    return synced(fd, real_fsync(fd));
}

int fdatasync(int fd) {
    init();
    return synced(fd, real_fdatasync(fd));
}
