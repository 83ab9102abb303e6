/* test_group_commit.c: unit tests for lib/queue/group_commit: many queue
 * files committed by I/O threads, each reported once in the loop's
 * thread, durable names in place; a broken file reported as failed;
 * lib/base/bgjob's worker threads; and lib/base/peercred on a socketpair. */
#include <dirent.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/bgjob.h"
#include "base/event.h"
#include "queue/group_commit.h"
#include "base/peercred.h"
#include "queue/qfile_writer.h"
#include "unit.h"

#define JOBS 40

struct job {
    struct qfile_writer *w;
    char qid[64];
    int reported;
    int status;
    pthread_t thread;
};

static int done_count;
static pthread_t loop_thread;

static void on_done(void *ctx, int status, const char *err)
{
    (void)err;
    struct job *job = ctx;
    job->reported++;
    job->status = status;
    job->thread = pthread_self();
    done_count++;
}

static struct qfile_writer *make_writer(const char *dir, int complete)
{
    struct buf err = BUF_INIT;
    struct qfile_writer *w = qfile_writer_create(dir, &err);
    CHECK(w != NULL);
    if (complete) {
        struct qfile_recipient r;
        memset(&r, 0, sizeof(r));
        r.address = "user@example.test";
        CHECK_INT(qfile_writer_sender(w, "a@b.example", &err), 0);
        CHECK_INT(qfile_writer_recipient(w, &r, &err), 0);
    }
    CHECK_INT(qfile_writer_content_begin(w, &err), 0);
    CHECK_INT(qfile_writer_content_append(w, "Subject: x\n\nbody\n", 17, &err),
              0);
    CHECK_INT(qfile_writer_content_end(w, &err), 0);
    buf_free(&err);
    return w;
}

static int count_files(const char *dir, int hidden)
{
    DIR *d = opendir(dir);
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        if ((e->d_name[0] == '.') == hidden)
            n++;
    }
    closedir(d);
    return n;
}

static void test_commit_many(void)
{
    char dir[] = "/tmp/gc-test-XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    struct event_loop *loop = event_loop_new();
    struct group_commit *gc = group_commit_new(loop, 4);
    static struct job jobs[JOBS + 1];
    loop_thread = pthread_self();
    done_count = 0;
    for (int i = 0; i <= JOBS; i++) {
        jobs[i].w = make_writer(dir, i != JOBS); /* the last is broken */
        snprintf(jobs[i].qid, sizeof(jobs[i].qid), "%s",
                 qfile_writer_qid(jobs[i].w));
        group_commit_submit(gc, jobs[i].w, dir, on_done, &jobs[i]);
    }
    CHECK_INT(group_commit_pending(gc), JOBS + 1);
    for (int round = 0; round < 1000 && done_count < JOBS + 1; round++)
        event_loop_once(loop, 100);
    CHECK_INT(done_count, JOBS + 1);
    CHECK_INT(group_commit_pending(gc), 0);
    for (int i = 0; i <= JOBS; i++) {
        CHECK_INT(jobs[i].reported, 1);
        CHECK(pthread_equal(jobs[i].thread, loop_thread));
        CHECK_INT(jobs[i].status, i == JOBS ? -1 : 0);
        char path[256];
        snprintf(path, sizeof(path), "%s/%s", dir, jobs[i].qid);
        struct stat st;
        CHECK_INT(stat(path, &st) == 0, i != JOBS);
        qfile_writer_free(jobs[i].w);
    }
    CHECK_INT(count_files(dir, 0), JOBS);
    CHECK_INT(count_files(dir, 1), 0); /* the broken one's temp is gone */
    group_commit_free(gc);
    event_loop_free(loop);
    char cmd[300];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    CHECK_INT(system(cmd), 0);
}

/* A steady stream: a new file is submitted whenever one is reported, so
 * some file is nearly always between fdatasync and rename. The directory
 * sync waits for files in flight, but only so long: every file must still
 * be reported, and soon. */
static void test_commit_stream(void)
{
    char dir[] = "/tmp/gc-test-XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    struct event_loop *loop = event_loop_new();
    struct group_commit *gc = group_commit_new(loop, 4);
    static struct job jobs[JOBS];
    loop_thread = pthread_self();
    done_count = 0;
    int submitted = 0;
    for (; submitted < 4; submitted++) {
        jobs[submitted].w = make_writer(dir, 1);
        group_commit_submit(gc, jobs[submitted].w, dir, on_done,
                            &jobs[submitted]);
    }
    int rounds = 0;
    for (; rounds < 300 && done_count < JOBS; rounds++) {
        event_loop_once(loop, 100);
        while (submitted < JOBS && submitted - done_count < 4) {
            jobs[submitted].w = make_writer(dir, 1);
            group_commit_submit(gc, jobs[submitted].w, dir, on_done,
                                &jobs[submitted]);
            submitted++;
        }
    }
    CHECK_INT(done_count, JOBS);
    CHECK(rounds < 300); /* no stall of 100 ms rounds: 30 s in all */
    for (int i = 0; i < JOBS; i++) {
        CHECK_INT(jobs[i].status, 0);
        qfile_writer_free(jobs[i].w);
    }
    CHECK_INT(count_files(dir, 0), JOBS);
    group_commit_free(gc);
    event_loop_free(loop);
    char cmd[300];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    CHECK_INT(system(cmd), 0);
}

/* One file alone is synced at once: nothing is in flight to wait for. */
static void test_commit_alone_is_prompt(void)
{
    char dir[] = "/tmp/gc-test-XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    struct event_loop *loop = event_loop_new();
    struct group_commit *gc = group_commit_new(loop, 4);
    static struct job job;
    memset(&job, 0, sizeof(job));
    done_count = 0;
    job.w = make_writer(dir, 1);
    group_commit_submit(gc, job.w, dir, on_done, &job);
    for (int round = 0; round < 50 && done_count < 1; round++)
        event_loop_once(loop, 100);
    CHECK_INT(done_count, 1);
    CHECK_INT(job.status, 0);
    qfile_writer_free(job.w);
    group_commit_free(gc);
    event_loop_free(loop);
    char cmd[300];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    CHECK_INT(system(cmd), 0);
}

struct bg {
    int value;
    int worked_off_loop;
    int done;
};

static void bg_work(void *ctx)
{
    struct bg *b = ctx;
    b->value *= 2;
    b->worked_off_loop = !pthread_equal(pthread_self(), loop_thread);
}

static int bg_done_count;

static void bg_done(void *ctx)
{
    struct bg *b = ctx;
    b->done = pthread_equal(pthread_self(), loop_thread) ? 1 : -1;
    bg_done_count++;
}

static void test_bgjob(void)
{
    struct event_loop *loop = event_loop_new();
    struct bgjob_pool *pool = bgjob_pool_new(loop, 2);
    static struct bg jobs[20];
    loop_thread = pthread_self();
    bg_done_count = 0;
    for (int i = 0; i < 20; i++) {
        jobs[i].value = i;
        bgjob_submit(pool, bg_work, bg_done, &jobs[i]);
    }
    for (int round = 0; round < 1000 && bg_done_count < 20; round++)
        event_loop_once(loop, 100);
    CHECK_INT(bg_done_count, 20);
    CHECK_INT(bgjob_pending(pool), 0);
    for (int i = 0; i < 20; i++) {
        CHECK_INT(jobs[i].value, 2 * i);
        CHECK_INT(jobs[i].worked_off_loop, 1);
        CHECK_INT(jobs[i].done, 1);
    }
    /* Freeing the pool reports queued jobs too. */
    static struct bg late = {5, 0, 0};
    bgjob_submit(pool, bg_work, bg_done, &late);
    bgjob_pool_free(pool);
    CHECK_INT(late.value, 10);
    CHECK_INT(late.done, 1);
    event_loop_free(loop);
}

static void test_peercred(void)
{
    int sv[2];
    CHECK_INT(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    struct peercred cred;
    CHECK_INT(peercred_get(sv[0], &cred), 0);
    CHECK_INT(cred.uid, getuid());
    CHECK_INT(cred.gid, getgid());
    CHECK_INT(cred.pid, getpid());
    close(sv[0]);
    close(sv[1]);
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    CHECK_INT(peercred_get(fd, &cred), -1);
    close(fd);
}

int main(void)
{
    UNIT_RUN(test_commit_many);
    UNIT_RUN(test_commit_stream);
    UNIT_RUN(test_commit_alone_is_prompt);
    UNIT_RUN(test_bgjob);
    UNIT_RUN(test_peercred);
    return unit_summary();
}
