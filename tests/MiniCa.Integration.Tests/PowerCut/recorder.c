/*
 * The power-cut test's write recorder, preloaded (LD_PRELOAD) into the CA process under test.
 *
 * It records, in the order they happen, every change the process makes to the files whose absolute paths start
 * with $POWERCUT_PREFIX (the issuance database, its write-ahead log and journal; the shared-memory index is left
 * out, as SQLite rebuilds it after a crash), every flush of those files to the disk (fsync, fdatasync) once it has
 * returned, and what the process writes to its standard output (through any descriptor of it: .NET writes to a
 * duplicate). The log, $POWERCUT_LOG, is a sequence of records:
 *
 *   u8 kind ('W' write, 'T' truncate, 'S' flushed, 'U' unlinked, 'O' standard output)
 *   u16 path length, the path, i64 offset (write) or length (truncate), u32 data length, the data (write, output)
 *
 * A lock around each recorded operation and its record makes the log's order the order in which the operations
 * completed, so the test can rebuild what the disk would hold if the power failed at any point of the log: the
 * writes a later flush of their file covered, and nothing else. The recorder only watches; every call goes on to
 * the C library unchanged.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <unistd.h>

#define MAX_FDS 65536

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static char *watched[MAX_FDS];
/* Per descriptor: 0 not looked at yet, 1 the standard output (the same open file as descriptor 1 at start), 2 not. */
static unsigned char output[MAX_FDS];
static struct stat standard_output;
static int has_standard_output;
static const char *prefix;
static size_t prefix_length;
static int log_fd = -1;

static int (*real_open)(const char *, int, ...);
static int (*real_open64)(const char *, int, ...);
static int (*real_openat)(int, const char *, int, ...);
static int (*real_openat64)(int, const char *, int, ...);
static int (*real_close)(int);
static ssize_t (*real_write)(int, const void *, size_t);
static ssize_t (*real_pwrite)(int, const void *, size_t, off_t);
static ssize_t (*real_pwrite64)(int, const void *, size_t, off_t);
static int (*real_ftruncate)(int, off_t);
static int (*real_ftruncate64)(int, off_t);
static int (*real_fsync)(int);
static int (*real_fdatasync)(int);
static int (*real_unlink)(const char *);

__attribute__((constructor)) static void start(void)
{
    real_open = dlsym(RTLD_NEXT, "open");
    real_open64 = dlsym(RTLD_NEXT, "open64");
    real_openat = dlsym(RTLD_NEXT, "openat");
    real_openat64 = dlsym(RTLD_NEXT, "openat64");
    real_close = dlsym(RTLD_NEXT, "close");
    real_write = dlsym(RTLD_NEXT, "write");
    real_pwrite = dlsym(RTLD_NEXT, "pwrite");
    real_pwrite64 = dlsym(RTLD_NEXT, "pwrite64");
    real_ftruncate = dlsym(RTLD_NEXT, "ftruncate");
    real_ftruncate64 = dlsym(RTLD_NEXT, "ftruncate64");
    real_fsync = dlsym(RTLD_NEXT, "fsync");
    real_fdatasync = dlsym(RTLD_NEXT, "fdatasync");
    real_unlink = dlsym(RTLD_NEXT, "unlink");
    prefix = getenv("POWERCUT_PREFIX");
    const char *log = getenv("POWERCUT_LOG");
    if (prefix != NULL && log != NULL) {
        prefix_length = strlen(prefix);
        log_fd = (int)syscall(SYS_openat, AT_FDCWD, log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
        has_standard_output = fstat(1, &standard_output) == 0;
    }
}

/* Writes all of buffer to the log; the recorder cannot report a failure, so it ends the process instead. */
static void put(const void *buffer, size_t length)
{
    const char *p = buffer;
    while (length > 0) {
        ssize_t n = syscall(SYS_write, log_fd, p, length);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            _exit(99);
        }
        p += n;
        length -= (size_t)n;
    }
}

static void record(char kind, const char *path, int64_t offset, const void *data, uint32_t length)
{
    uint16_t path_length = (uint16_t)strlen(path);
    put(&kind, 1);
    put(&path_length, sizeof path_length);
    put(path, path_length);
    put(&offset, sizeof offset);
    put(&length, sizeof length);
    if (length > 0) {
        put(data, length);
    }
}

/* The absolute form of path if it is a watched file (under the prefix, not the shared-memory index), else NULL. */
static char *watch_path(int dirfd, const char *path)
{
    if (log_fd < 0 || path == NULL) {
        return NULL;
    }
    char absolute[4096];
    if (path[0] == '/') {
        strncpy(absolute, path, sizeof absolute - 1);
        absolute[sizeof absolute - 1] = 0;
    } else if (dirfd == AT_FDCWD) {
        if (getcwd(absolute, sizeof absolute - 256) == NULL) {
            return NULL;
        }
        strncat(absolute, "/", sizeof absolute - strlen(absolute) - 1);
        strncat(absolute, path, sizeof absolute - strlen(absolute) - 1);
    } else {
        return NULL;
    }
    size_t length = strlen(absolute);
    if (strncmp(absolute, prefix, prefix_length) != 0 || (length >= 4 && strcmp(absolute + length - 4, "-shm") == 0)) {
        return NULL;
    }
    return strdup(absolute);
}

static int opened(int fd, char *path, int flags)
{
    if (path == NULL) {
        return fd;
    }
    if (fd < 0 || fd >= MAX_FDS) {
        free(path);
        return fd;
    }
    pthread_mutex_lock(&lock);
    free(watched[fd]);
    watched[fd] = path;
    if (flags & O_TRUNC) {
        record('T', path, 0, NULL, 0);
    }
    pthread_mutex_unlock(&lock);
    return fd;
}

/* Declares mode: the third argument of an open call when its flags say there is one. */
#define MODE_OF(flags)                                                          \
    mode_t mode = 0;                                                            \
    if (((flags) & O_CREAT) || ((flags) & O_TMPFILE) == O_TMPFILE) {            \
        va_list arguments;                                                      \
        va_start(arguments, flags);                                             \
        mode = (mode_t)va_arg(arguments, int);                                  \
        va_end(arguments);                                                      \
    }

int open(const char *path, int flags, ...)
{
    MODE_OF(flags);
    return opened(real_open(path, flags, mode), watch_path(AT_FDCWD, path), flags);
}

int open64(const char *path, int flags, ...)
{
    MODE_OF(flags);
    return opened(real_open64(path, flags, mode), watch_path(AT_FDCWD, path), flags);
}

int openat(int dirfd, const char *path, int flags, ...)
{
    MODE_OF(flags);
    return opened(real_openat(dirfd, path, flags, mode), watch_path(dirfd, path), flags);
}

int openat64(int dirfd, const char *path, int flags, ...)
{
    MODE_OF(flags);
    return opened(real_openat64(dirfd, path, flags, mode), watch_path(dirfd, path), flags);
}

int close(int fd)
{
    if (fd >= 0 && fd < MAX_FDS) {
        output[fd] = 0;
    }
    if (fd >= 0 && fd < MAX_FDS && watched[fd] != NULL) {
        pthread_mutex_lock(&lock);
        free(watched[fd]);
        watched[fd] = NULL;
        int result = real_close(fd);
        pthread_mutex_unlock(&lock);
        return result;
    }
    return real_close(fd);
}

static int is_watched(int fd)
{
    return fd >= 0 && fd < MAX_FDS && watched[fd] != NULL;
}

static ssize_t positioned_write(ssize_t (*call)(int, const void *, size_t, off_t), int fd, const void *buffer, size_t count, off_t offset)
{
    if (!is_watched(fd)) {
        return call(fd, buffer, count, offset);
    }
    pthread_mutex_lock(&lock);
    ssize_t written = call(fd, buffer, count, offset);
    if (written > 0 && watched[fd] != NULL) {
        record('W', watched[fd], offset, buffer, (uint32_t)written);
    }
    pthread_mutex_unlock(&lock);
    return written;
}

ssize_t pwrite(int fd, const void *buffer, size_t count, off_t offset)
{
    return positioned_write(real_pwrite, fd, buffer, count, offset);
}

ssize_t pwrite64(int fd, const void *buffer, size_t count, off_t offset)
{
    return positioned_write(real_pwrite64, fd, buffer, count, offset);
}

static int is_output(int fd)
{
    if (log_fd < 0 || !has_standard_output || fd < 0 || fd >= MAX_FDS) {
        return 0;
    }
    if (output[fd] == 0) {
        struct stat file;
        output[fd] = fstat(fd, &file) == 0 && file.st_dev == standard_output.st_dev && file.st_ino == standard_output.st_ino ? 1 : 2;
    }
    return output[fd] == 1;
}

ssize_t write(int fd, const void *buffer, size_t count)
{
    if (is_output(fd)) {
        pthread_mutex_lock(&lock);
        ssize_t written = real_write(fd, buffer, count);
        if (written > 0) {
            record('O', "", 0, buffer, (uint32_t)written);
        }
        pthread_mutex_unlock(&lock);
        return written;
    }
    if (!is_watched(fd)) {
        return real_write(fd, buffer, count);
    }
    pthread_mutex_lock(&lock);
    off_t offset = lseek(fd, 0, SEEK_CUR);
    ssize_t written = real_write(fd, buffer, count);
    if (written > 0 && watched[fd] != NULL) {
        record('W', watched[fd], offset, buffer, (uint32_t)written);
    }
    pthread_mutex_unlock(&lock);
    return written;
}

static int truncated(int (*call)(int, off_t), int fd, off_t length)
{
    if (!is_watched(fd)) {
        return call(fd, length);
    }
    pthread_mutex_lock(&lock);
    int result = call(fd, length);
    if (result == 0 && watched[fd] != NULL) {
        record('T', watched[fd], length, NULL, 0);
    }
    pthread_mutex_unlock(&lock);
    return result;
}

int ftruncate(int fd, off_t length)
{
    return truncated(real_ftruncate, fd, length);
}

int ftruncate64(int fd, off_t length)
{
    return truncated(real_ftruncate64, fd, length);
}

static int flushed(int (*call)(int), int fd)
{
    if (!is_watched(fd)) {
        return call(fd);
    }
    pthread_mutex_lock(&lock);
    int result = call(fd);
    if (result == 0 && watched[fd] != NULL) {
        record('S', watched[fd], 0, NULL, 0);
    }
    pthread_mutex_unlock(&lock);
    return result;
}

int fsync(int fd)
{
    return flushed(real_fsync, fd);
}

int fdatasync(int fd)
{
    return flushed(real_fdatasync, fd);
}

int unlink(const char *path)
{
    char *watch = watch_path(AT_FDCWD, path);
    if (watch == NULL) {
        return real_unlink(path);
    }
    pthread_mutex_lock(&lock);
    int result = real_unlink(path);
    if (result == 0) {
        record('U', watch, 0, NULL, 0);
    }
    pthread_mutex_unlock(&lock);
    free(watch);
    return result;
}
