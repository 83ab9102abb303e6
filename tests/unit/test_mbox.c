/* test_mbox.c: unit tests for lib/storage/mbox: the From_ line, ">From "
 * quoting, locking against concurrent writers (dot lock and fcntl, with
 * forked processes), stale dot locks, and truncation on failure. */
#include "unit.h"

#include <signal.h>
#include <sys/file.h>
#include <sys/resource.h>
#include <time.h>

#include "storage/mbox.h"
#include "base/mem.h"
#include "storage_util.h"
#include "storage/store.h"

/* Short lock waits keep the failing cases fast. */
#define QUICK_ATTEMPTS 3
#define QUICK_DELAY_MS 10

static enum store_result deliver(const struct mbox_options *opts,
                                 const char *leading, const char *text,
                                 size_t chunk, struct store_status *st)
{
    struct mbox_delivery *d = mbox_delivery_open(opts, leading, st);
    if (d == NULL)
        return st->result;
    size_t len = strlen(text);
    for (size_t off = 0; off < len; off += chunk) {
        size_t n = len - off < chunk ? len - off : chunk;
        if (mbox_delivery_write(d, text + off, n) < 0)
            break;
    }
    return mbox_delivery_commit(d);
}

static long long file_size(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 ? (long long)st.st_size : -1;
}

static void test_from_line(void)
{
    struct buf b = BUF_INIT;
    setenv("TZ", "UTC0", 1);
    tzset();
    mbox_from_line("user@example.com", 1000000000, &b);
    CHECK_STR(buf_cstr(&b),
              "From user@example.com  Sun Sep  9 01:46:40 2001\n");
    buf_reset(&b);
    mbox_from_line("", 0, &b);
    CHECK_STR(buf_cstr(&b), "From MAILER-DAEMON  Thu Jan  1 00:00:00 1970\n");
    buf_reset(&b);
    mbox_from_line("evil\n@x\r", 0, &b);
    CHECK_STR(buf_cstr(&b), "From evil_@x_  Thu Jan  1 00:00:00 1970\n");
    buf_free(&b);
}

static void test_deliver_format_and_quoting(void)
{
    char *dir = scratch_dir();
    char *path = xasprintf("%s/user", dir);
    struct mbox_options opts = {
        .path = path, .sender = "a@b", .from_time = 1000000000};
    struct store_status st;
    store_status_init(&st);
    const char *text = "Subject: x\r\nFrom: header is not a From_ line\r\n\r\n"
                       "From here\r\n>From there\r\nFrom\r\nFromage\r\n"
                       " From indented\r\nFFrom \r\nFrom \r\nlast";
    /* One-byte chunks split every "From " and CR LF. */
    CHECK_INT(
        deliver(&opts, "Return-Path: <a@b>\r\nDelivered-To: u@h", text, 1, &st),
        STORE_OK);
    CHECK_STR(st.dsn, "2.0.0");
    opts.sender = NULL;
    CHECK_INT(deliver(&opts, NULL, "second\n\n", 4096, &st), STORE_OK);
    struct buf content = BUF_INIT;
    CHECK_INT(read_whole(path, &content), 0);
    CHECK_STR(buf_cstr(&content),
              "From a@b  Sun Sep  9 01:46:40 2001\n"
              "Return-Path: <a@b>\nDelivered-To: u@h\n"
              "Subject: x\nFrom: header is not a From_ line\n\n"
              ">From here\n>From there\nFrom\nFromage\n"
              " From indented\nFFrom \n>From \nlast\n"
              "\n"
              "From MAILER-DAEMON  Sun Sep  9 01:46:40 2001\n"
              "second\n\n\n");
    struct stat sb;
    CHECK_INT(stat(path, &sb), 0);
    CHECK_INT(sb.st_mode & 0777, 0600);
    /* The dot lock is gone after the delivery. */
    char *lock = xasprintf("%s.lock", path);
    CHECK_INT(access(lock, F_OK), -1);
    free(lock);
    buf_free(&content);
    store_status_free(&st);
    free(path);
    scratch_remove(dir);
}

/* ---- locking ---- */

struct holder {
    pid_t pid;
    int ready_fd; /* parent reads one byte when the child holds the lock */
    int go_fd;    /* parent writes one byte to let the child finish */
};

enum hold_kind { HOLD_DELIVERY, HOLD_FCNTL, HOLD_FLOCK };

static void start_holder(struct holder *h, enum hold_kind kind,
                         const char *path)
{
    int ready[2], go[2];
    if (pipe(ready) < 0 || pipe(go) < 0)
        exit(2);
    fflush(stdout);
    h->pid = fork();
    if (h->pid == 0) {
        close(ready[0]);
        close(go[1]);
        struct store_status st;
        store_status_init(&st);
        struct mbox_delivery *d = NULL;
        int fd = -1;
        if (kind == HOLD_DELIVERY) {
            struct mbox_options opts = {.path = path, .sender = "child@x"};
            d = mbox_delivery_open(&opts, NULL, &st);
            if (d == NULL)
                _exit(3);
            mbox_delivery_write(d, "from the child\n", 15);
        } else {
            /* A mail reader holding only a kernel lock. */
            fd = open(path, O_RDWR | O_CREAT, 0600);
            struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET};
            if (fd < 0 || (kind == HOLD_FCNTL ? fcntl(fd, F_SETLK, &fl)
                                              : flock(fd, LOCK_EX)) < 0)
                _exit(3);
        }
        char c = 'r';
        if (write(ready[1], &c, 1) != 1 || read(go[0], &c, 1) != 1)
            _exit(4);
        if (d && mbox_delivery_commit(d) != STORE_OK)
            _exit(5);
        _exit(0);
    }
    close(ready[1]);
    close(go[0]);
    h->ready_fd = ready[0];
    h->go_fd = go[1];
    char c;
    if (read(h->ready_fd, &c, 1) != 1)
        h->pid = -1;
}

static int finish_holder(struct holder *h)
{
    char c = 'g';
    int status = -1;
    if (write(h->go_fd, &c, 1) != 1)
        return -1;
    close(h->go_fd);
    close(h->ready_fd);
    if (waitpid(h->pid, &status, 0) < 0 || !WIFEXITED(status))
        return -1;
    return WEXITSTATUS(status);
}

static void test_lock_excludes_concurrent_writer(void)
{
    char *dir = scratch_dir();
    char *path = xasprintf("%s/user", dir);
    char *lock = xasprintf("%s.lock", path);
    struct mbox_options opts = {.path = path,
                                .sender = "parent@x",
                                .lock_attempts = QUICK_ATTEMPTS,
                                .lock_delay_ms = QUICK_DELAY_MS};
    struct store_status st;
    store_status_init(&st);

    /* A child in the middle of a delivery holds dot lock and fcntl. */
    struct holder h;
    start_holder(&h, HOLD_DELIVERY, path);
    CHECK(h.pid > 0);
    CHECK_INT(deliver(&opts, NULL, "from the parent\n", 100, &st), STORE_DEFER);
    CHECK_STR(st.dsn, "4.2.0");
    CHECK(strstr(buf_cstr(&st.reason), "mailbox is locked") != NULL);
    CHECK(strstr(buf_cstr(&st.reason), ".lock exists") != NULL);
    CHECK_INT(access(lock, F_OK), 0); /* the child's lock is left alone */
    CHECK_INT(finish_holder(&h), 0);
    CHECK_INT(access(lock, F_OK), -1);
    CHECK_INT(deliver(&opts, NULL, "from the parent\n", 100, &st), STORE_OK);
    struct buf content = BUF_INIT;
    read_whole(path, &content);
    CHECK(str_has_prefix(buf_cstr(&content), "From child@x  "));
    CHECK(strstr(buf_cstr(&content), "from the child\n\nFrom parent@x  ") !=
          NULL);
    CHECK(str_has_suffix(buf_cstr(&content), "from the parent\n\n"));

    /* A reader holding only an fcntl lock keeps us out too, and our dot
     * lock is released when we give up. */
    long long size = file_size(path);
    start_holder(&h, HOLD_FCNTL, path);
    CHECK(h.pid > 0);
    CHECK_INT(deliver(&opts, NULL, "blocked\n", 100, &st), STORE_DEFER);
    CHECK(strstr(buf_cstr(&st.reason), "fcntl lock held") != NULL);
    CHECK_INT(access(lock, F_OK), -1);
    CHECK_INT(file_size(path), size);
    CHECK_INT(finish_holder(&h), 0);

    /* flock, when asked for. */
    opts.lock_methods = MBOX_LOCK_FLOCK;
    start_holder(&h, HOLD_FLOCK, path);
    CHECK(h.pid > 0);
    CHECK_INT(deliver(&opts, NULL, "blocked\n", 100, &st), STORE_DEFER);
    CHECK(strstr(buf_cstr(&st.reason), "flock lock held") != NULL);
    CHECK_INT(finish_holder(&h), 0);
    CHECK_INT(deliver(&opts, NULL, "now\n", 100, &st), STORE_OK);

    buf_free(&content);
    store_status_free(&st);
    free(lock);
    free(path);
    scratch_remove(dir);
}

static void test_concurrent_writers_never_interleave(void)
{
    enum { WRITERS = 4, MESSAGES = 10, BODY_LINES = 6000 };
    char *dir = scratch_dir();
    char *path = xasprintf("%s/user", dir);
    pid_t pids[WRITERS];
    fflush(stdout);
    for (int w = 0; w < WRITERS; w++) {
        pids[w] = fork();
        if (pids[w] == 0) {
            struct mbox_options opts = {.path = path,
                                        .sender = "w@x",
                                        .lock_attempts = 5000,
                                        .lock_delay_ms = 1};
            struct store_status st;
            store_status_init(&st);
            struct buf text = BUF_INIT;
            for (int i = 0; i < BODY_LINES; i++)
                buf_appendf(&text, "%c%c%c%c%c%c%c%c%c%c%c%c\r\n", 'a' + w,
                            'a' + w, 'a' + w, 'a' + w, 'a' + w, 'a' + w,
                            'a' + w, 'a' + w, 'a' + w, 'a' + w, 'a' + w,
                            'a' + w);
            for (int m = 0; m < MESSAGES; m++)
                if (deliver(&opts, NULL, buf_cstr(&text), 97, &st) != STORE_OK)
                    _exit(1);
            _exit(0);
        }
    }
    int failures = 0;
    for (int w = 0; w < WRITERS; w++) {
        int status;
        if (waitpid(pids[w], &status, 0) < 0 || !WIFEXITED(status) ||
            WEXITSTATUS(status) != 0)
            failures++;
    }
    CHECK_INT(failures, 0);
    /* Every message is whole: a From_ line, BODY_LINES lines of one
     * writer's letter, a blank line. */
    struct buf content = BUF_INIT;
    read_whole(path, &content);
    int messages = 0, bad = 0;
    const char *p = content.data, *end = content.data + content.len;
    while (p < end) {
        if (!str_has_prefix(p, "From w@x  ")) {
            bad++;
            break;
        }
        p = strchr(p, '\n') + 1;
        char letter = *p;
        for (int i = 0; i < BODY_LINES && p < end; i++) {
            for (int k = 0; k < 12; k++)
                if (p[k] != letter)
                    bad++;
            if (p[12] != '\n')
                bad++;
            p += 13;
        }
        if (p >= end || *p != '\n') {
            bad++;
            break;
        }
        p++;
        messages++;
    }
    CHECK_INT(bad, 0);
    CHECK_INT(messages, WRITERS * MESSAGES);
    buf_free(&content);
    free(path);
    scratch_remove(dir);
}

static void test_stale_dotlock(void)
{
    char *dir = scratch_dir();
    char *path = xasprintf("%s/user", dir);
    char *lock = xasprintf("%s.lock", path);
    struct mbox_options opts = {.path = path,
                                .lock_attempts = QUICK_ATTEMPTS,
                                .lock_delay_ms = QUICK_DELAY_MS,
                                .stale_lock_secs = 300};
    struct store_status st;
    store_status_init(&st);
    /* A fresh lock of someone else's: wait, then give up. */
    CHECK_INT(write_whole(lock, "12345\n"), 0);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    CHECK_INT(deliver(&opts, NULL, "x\n", 100, &st), STORE_DEFER);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    long elapsed_ms =
        (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000;
    CHECK(elapsed_ms >= (QUICK_ATTEMPTS - 1) * QUICK_DELAY_MS);
    CHECK(elapsed_ms < 5000);
    CHECK(strstr(buf_cstr(&st.reason), "lock file") != NULL);
    CHECK_INT(access(lock, F_OK), 0);
    CHECK_INT(access(path, F_OK), -1); /* never opened */
    /* The same lock, older than the stale time: removed and taken. */
    struct timespec old[2] = {{time(NULL) - 301, 0}, {time(NULL) - 301, 0}};
    CHECK_INT(utimensat(AT_FDCWD, lock, old, 0), 0);
    CHECK_INT(deliver(&opts, NULL, "x\n", 100, &st), STORE_OK);
    CHECK_INT(access(lock, F_OK), -1);
    CHECK(file_size(path) > 0);
    store_status_free(&st);
    free(lock);
    free(path);
    scratch_remove(dir);
}

/* ---- failures ---- */

static const char first_message[] = "From a@b  Thu Jan  1 00:00:00 1970\n"
                                    "Subject: one\n\nbody\n\n";

static int deliver_too_large(void *arg)
{
    const char *path = arg;
    long long size = file_size(path);
    struct rlimit rl = {(rlim_t)size + 1000, (rlim_t)size + 1000};
    signal(SIGXFSZ, SIG_IGN);
    if (setrlimit(RLIMIT_FSIZE, &rl) < 0)
        return 2;
    struct mbox_options opts = {.path = path, .sender = "a@b"};
    struct store_status st;
    store_status_init(&st);
    char *big = xmalloc(200001);
    memset(big, 'y', 200000);
    big[200000] = 0;
    enum store_result r = deliver(&opts, NULL, big, 10000, &st);
    int ok =
        r == STORE_BOUNCE && strcmp(st.dsn, "5.2.2") == 0 &&
        str_has_prefix(buf_cstr(&st.reason), "mbox delivery failed: write ") &&
        str_has_suffix(buf_cstr(&st.reason), ": File too large");
    if (!ok)
        printf("#   result %d dsn %s reason %s\n", r, st.dsn,
               buf_cstr(&st.reason));
    free(big);
    store_status_free(&st);
    return ok ? 0 : 1;
}

static void test_truncates_on_failure(void)
{
    char *dir = scratch_dir();
    char *path = xasprintf("%s/user", dir);
    CHECK_INT(write_whole(path, first_message), 0);
    struct buf content = BUF_INIT;
    struct store_status st;
    store_status_init(&st);

    /* A write error part way (file size limit of the process). */
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0)
        _exit(deliver_too_large(path));
    int status = -1;
    waitpid(pid, &status, 0);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    read_whole(path, &content);
    CHECK_STR(buf_cstr(&content), first_message);

    /* mailbox_size_limit, after some of the message was written. */
    struct mbox_options opts = {
        .path = path, .sender = "a@b", .size_limit = file_size(path) + 150000};
    char *big = xmalloc(200001);
    memset(big, 'z', 200000);
    big[200000] = 0;
    CHECK_INT(deliver(&opts, NULL, big, 10000, &st), STORE_BOUNCE);
    CHECK_STR(st.dsn, "5.2.2");
    CHECK(strstr(buf_cstr(&st.reason), "exceeds the size limit") != NULL);
    read_whole(path, &content);
    CHECK_STR(buf_cstr(&content), first_message);

    /* Abort after writing more than one buffer's worth. */
    opts.size_limit = 0;
    struct mbox_delivery *d = mbox_delivery_open(&opts, NULL, &st);
    CHECK(d != NULL);
    if (d) {
        CHECK_INT(mbox_delivery_write(d, big, 200000), 0);
        CHECK(file_size(path) > (long long)strlen(first_message));
        mbox_delivery_abort(d);
    }
    read_whole(path, &content);
    CHECK_STR(buf_cstr(&content), first_message);
    free(big);
    buf_free(&content);
    store_status_free(&st);
    free(path);
    scratch_remove(dir);
}

static void test_refuses_unsafe_mailbox(void)
{
    char *dir = scratch_dir();
    char *path = xasprintf("%s/user", dir);
    char *target = xasprintf("%s/elsewhere", dir);
    struct mbox_options opts = {.path = path};
    struct store_status st;
    store_status_init(&st);
    CHECK_INT(write_whole(target, "precious\n"), 0);
    CHECK_INT(symlink(target, path), 0);
    CHECK_INT(deliver(&opts, NULL, "x\n", 100, &st), STORE_DEFER);
    CHECK(strstr(buf_cstr(&st.reason), "symbolic link") != NULL);
    CHECK_INT(file_size(target), 9);
    unlink(path);
    CHECK_INT(link(target, path), 0);
    CHECK_INT(deliver(&opts, NULL, "x\n", 100, &st), STORE_DEFER);
    CHECK(strstr(buf_cstr(&st.reason), "more than one hard link") != NULL);
    CHECK_INT(file_size(target), 9);
    unlink(path);
    CHECK_INT(mkdir(path, 0700), 0);
    CHECK_INT(deliver(&opts, NULL, "x\n", 100, &st), STORE_DEFER);
    CHECK(str_has_prefix(buf_cstr(&st.reason), "mbox delivery failed: "));
    store_status_free(&st);
    free(target);
    free(path);
    scratch_remove(dir);
}

struct spool_ctx {
    const char *path;
    int optional;
};

/* Returns 0 for "delivered", 1 for "deferred with Permission denied",
 * 2 for anything else. */
static int deliver_in_spool(void *arg)
{
    struct spool_ctx *ctx = arg;
    struct mbox_options opts = {.path = ctx->path,
                                .sender = "a@b",
                                .dotlock_optional = ctx->optional,
                                .lock_attempts = QUICK_ATTEMPTS,
                                .lock_delay_ms = QUICK_DELAY_MS};
    struct store_status st;
    store_status_init(&st);
    enum store_result r = deliver(&opts, NULL, "hello\n", 100, &st);
    int rc = 2;
    if (r == STORE_OK)
        rc = 0;
    else if (r == STORE_DEFER &&
             str_has_prefix(buf_cstr(&st.reason),
                            "mbox delivery failed: create lock file ") &&
             str_has_suffix(buf_cstr(&st.reason), ": Permission denied"))
        rc = 1;
    if (rc == 2)
        printf("#   result %d reason %s\n", r, buf_cstr(&st.reason));
    store_status_free(&st);
    return rc;
}

static void test_unwritable_spool_directory(void)
{
    char *dir = scratch_dir();
    char *spool = xasprintf("%s/spool", dir);
    char *path = xasprintf("%s/user", spool);
    CHECK_INT(mkdir(spool, 0755), 0);
    CHECK_INT(write_whole(path, ""), 0);
    if (geteuid() == 0)
        CHECK_INT(chown(path, 65534, 65534), 0);
    CHECK_INT(chmod(spool, 0555), 0);
    struct spool_ctx ctx = {path, 0};
    CHECK_INT(run_unprivileged(deliver_in_spool, &ctx), 1);
    CHECK_INT(file_size(path), 0);
    ctx.optional = 1;
    CHECK_INT(run_unprivileged(deliver_in_spool, &ctx), 0);
    CHECK(file_size(path) > 0);
    chmod(spool, 0755);
    free(path);
    free(spool);
    scratch_remove(dir);
}

int main(void)
{
    umask(022);
    UNIT_RUN(test_from_line);
    UNIT_RUN(test_deliver_format_and_quoting);
    UNIT_RUN(test_lock_excludes_concurrent_writer);
    UNIT_RUN(test_concurrent_writers_never_interleave);
    UNIT_RUN(test_stale_dotlock);
    UNIT_RUN(test_truncates_on_failure);
    UNIT_RUN(test_refuses_unsafe_mailbox);
    UNIT_RUN(test_unwritable_spool_directory);
    return unit_summary();
}
