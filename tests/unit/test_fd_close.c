/* test_fd_close.c: unit tests for lib/base/fd_close: every descriptor
 * from the given number up is closed (or marked close-on-exec), however
 * high, and the ones below are left alone. Run in forked children so the
 * test process keeps its descriptors. */
#include "unit.h"

#include <fcntl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/fd_close.h"

/* A descriptor above 1024 (a loop that stops there misses it), within
 * the limit. */
static int high_fd(void)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
        return -1;
    if (rl.rlim_cur <= 1500 && rl.rlim_max > 1500) {
        rl.rlim_cur = 1501;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
    return rl.rlim_cur > 1500 ? 1500 : (int)rl.rlim_cur - 1;
}

static int is_open(int fd)
{
    return fcntl(fd, F_GETFD) >= 0;
}

static int run_child(int cloexec)
{
    int high = high_fd();
    int low = open("/dev/null", O_RDONLY); /* 3 or so */
    int keep = open("/dev/null", O_RDONLY);
    if (low < 0 || keep < 0 || high <= keep || dup2(low, high) < 0 ||
        dup2(low, 20) < 0)
        return 50;
    int from = keep + 1;
    /* keep stays below `from`; low is moved above it. */
    if (dup2(low, from + 1) < 0)
        return 50;
    int failed = 0;
    if (cloexec) {
        fd_cloexec_from(from);
        failed += !(fcntl(high, F_GETFD) & FD_CLOEXEC);
        failed += !(fcntl(from + 1, F_GETFD) & FD_CLOEXEC);
        failed += (fcntl(keep, F_GETFD) & FD_CLOEXEC) != 0;
    } else {
        fd_close_from(from);
        failed += is_open(high) || is_open(20) || is_open(from + 1);
        failed += !is_open(keep) || !is_open(0) || !is_open(1);
    }
    return failed;
}

static int in_child(int cloexec)
{
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0)
        _exit(run_child(cloexec));
    int status = 0;
    waitpid(pid, &status, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 100;
}

static void test_close_from(void)
{
    if (high_fd() <= 1024)
        SKIP("descriptor limit too low for a descriptor above 1024");
    CHECK_INT(in_child(0), 0);
}

static void test_cloexec_from(void)
{
    CHECK_INT(in_child(1), 0);
}

int main(void)
{
    UNIT_RUN(test_close_from);
    UNIT_RUN(test_cloexec_from);
    return unit_summary();
}
