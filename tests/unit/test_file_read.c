/* test_file_read.c: unit tests for lib/base/file_read, the bounded
 * whole-file reader: content read exactly, the cap is inclusive, a file
 * past it (or one that never ends) is refused with a message naming it
 * and the cap, and a missing file is told apart by errno. */
#include "unit.h"

#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include "base/buf.h"
#include "base/file_read.h"

static char *write_temp(const char *content, size_t len)
{
    static char path[64];
    snprintf(path, sizeof(path), "/tmp/test_file_read.XXXXXX");
    int fd = mkstemp(path);
    if (fd < 0 || write(fd, content, len) != (ssize_t)len)
        return NULL;
    close(fd);
    return path;
}

static void test_reads_whole_file(void)
{
    struct buf out = BUF_INIT, err = BUF_INIT;
    char *path = write_temp("a\0b\nline two\n", 13);
    CHECK(path != NULL);
    CHECK_INT(file_read(path, 100, &out, &err), 0);
    CHECK_INT(out.len, 13);
    CHECK(memcmp(out.data, "a\0b\nline two\n", 13) == 0);
    CHECK_INT(out.data[13], 0);
    /* Exactly at the cap is fine; old content is replaced. */
    CHECK_INT(file_read(path, 13, &out, &err), 0);
    CHECK_INT(out.len, 13);
    CHECK_INT(err.len, 0);
    unlink(path);
    /* Empty: a NUL-terminated empty string. */
    path = write_temp("", 0);
    CHECK_INT(file_read(path, 10, &out, &err), 0);
    CHECK_INT(out.len, 0);
    CHECK(out.data != NULL && out.data[0] == 0);
    unlink(path);
    buf_free(&out);
    buf_free(&err);
}

static void test_cap_and_errors(void)
{
    struct buf out = BUF_INIT, err = BUF_INIT, expected = BUF_INIT;
    char *path = write_temp("0123456789", 10);
    CHECK_INT(file_read(path, 9, &out, &err), -1);
    CHECK_INT(errno, EFBIG);
    buf_appendf(&expected, "%s: file is larger than 9 bytes", path);
    CHECK_STR(buf_cstr(&err), buf_cstr(&expected));
    unlink(path);
    /* Missing: ENOENT, so a caller may accept it. */
    buf_reset(&err);
    CHECK_INT(file_read("/nonexistent/x", 9, &out, &err), -1);
    CHECK_INT(errno, ENOENT);
    CHECK_STR(buf_cstr(&err),
              "/nonexistent/x: cannot open: No such file or directory");
    /* A directory cannot be read. */
    buf_reset(&err);
    CHECK_INT(file_read("/", 9, &out, &err), -1);
    CHECK(strstr(buf_cstr(&err), "/: cannot read: ") != NULL);
    /* A file that never ends stops at the cap. */
    CHECK_INT(file_read("/dev/zero", 100000, &out, NULL), -1);
    CHECK_INT(errno, EFBIG);
    buf_free(&out);
    buf_free(&err);
    buf_free(&expected);
}

static void test_from_descriptor(void)
{
    struct buf out = BUF_INIT, err = BUF_INIT;
    char *path = write_temp("hello\n", 6);
    int fd = open(path, O_RDONLY);
    CHECK_INT(file_read_fd(fd, "name shown", 6, &out, &err), 0);
    CHECK_STR(buf_cstr(&out), "hello\n");
    CHECK(fcntl(fd, F_GETFD) >= 0); /* left open */
    lseek(fd, 0, SEEK_SET);
    CHECK_INT(file_read_fd(fd, "name shown", 5, &out, &err), -1);
    CHECK_STR(buf_cstr(&err), "name shown: file is larger than 5 bytes");
    close(fd);
    unlink(path);
    buf_free(&out);
    buf_free(&err);
}

int main(void)
{
    UNIT_RUN(test_reads_whole_file);
    UNIT_RUN(test_cap_and_errors);
    UNIT_RUN(test_from_descriptor);
    return unit_summary();
}
