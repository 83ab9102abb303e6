/* test_pidlock.c: the one-master-per-queue lock (lib/base/pidlock.c). */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/mem.h"
#include "base/pidlock.h"
#include "unit.h"

static void test_lock_holder_and_release(void)
{
    char dir[] = "/tmp/test_pidlock.XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    char *path = xasprintf("%s/master.pid", dir);
    struct buf err = BUF_INIT;
    buf_init(&err);

    CHECK_INT(pidlock_holder(path, &err), 0); /* no file: nobody */

    /* fcntl locks belong to processes: the holder must be another one. */
    int ready[2], release[2];
    CHECK(pipe(ready) == 0 && pipe(release) == 0);
    pid_t child = fork();
    if (child == 0) {
        pid_t holder;
        int fd = pidlock_acquire(path, &holder, &err);
        char byte = fd >= 0 ? 'y' : 'n';
        (void)!write(ready[1], &byte, 1);
        (void)!read(release[0], &byte, 1);
        _exit(0);
    }
    char byte = 0;
    CHECK(read(ready[0], &byte, 1) == 1 && byte == 'y');

    CHECK_INT(pidlock_holder(path, &err), child);
    pid_t holder = 0;
    CHECK_INT(pidlock_acquire(path, &holder, &err), PIDLOCK_HELD);
    CHECK_INT(holder, child);
    CHECK(strstr(buf_cstr(&err), "held by process") != NULL);

    /* The pid is in the file, right-aligned as Postfix writes it. */
    FILE *fp = fopen(path, "r");
    char line[64] = "";
    if (fp) {
        if (!fgets(line, sizeof(line), fp))
            line[0] = 0;
        fclose(fp);
    }
    char expect[64];
    snprintf(expect, sizeof(expect), "%10ld\n", (long)child);
    CHECK_STR(line, expect);

    (void)!write(release[1], "x", 1);
    waitpid(child, NULL, 0);
    CHECK_INT(pidlock_holder(path, &err), 0); /* exit releases it */

    int fd = pidlock_acquire(path, &holder, &err);
    CHECK(fd >= 0);
    close(fd);

    /* A directory that does not exist is an error, not "not running". */
    char *missing = xasprintf("%s/nodir/master.pid", dir);
    CHECK_INT(pidlock_acquire(missing, &holder, &err), PIDLOCK_FAILED);
    CHECK(strstr(buf_cstr(&err), "No such file") != NULL);
    free(missing);

    unlink(path);
    rmdir(dir);
    free(path);
    buf_free(&err);
}

int main(void)
{
    UNIT_RUN(test_lock_holder_and_release);
    return unit_summary();
}
