/* test_mailbox.c: the Maildir view for imapd (lib/storage/mailbox.h):
 * file name flags, sync (UIDs under the lock, new/ -> cur/, changes by
 * others, expunges in IMAP order), \Recent, flags, expunge, append,
 * copy, keywords, a busy lock, a malformed uidlist, and the cost of a
 * sync of 10,000 messages when nothing changed. */
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>

#include "storage/mailbox.h"
#include "storage/maildir.h"
#include "storage/maildir_flags.h"
#include "storage/uidlist.h"
#include "storage_util.h"
#include "unit.h"

static void test_file_name_flags(void)
{
    unsigned flags;
    uint32_t keywords;
    maildir_flags_parse("1.M1P1.h,S=35,W=40:2,FSab", &flags, &keywords);
    CHECK_INT(flags, MAILDIR_FLAG_FLAGGED | MAILDIR_FLAG_SEEN);
    CHECK_INT(keywords, 3);
    maildir_flags_parse("1.M1P1.h:2,DRTz,extra", &flags, &keywords);
    CHECK_INT(flags, MAILDIR_FLAG_DRAFT | MAILDIR_FLAG_ANSWERED |
                         MAILDIR_FLAG_DELETED);
    CHECK_INT(keywords, 1u << 25);
    maildir_flags_parse("1.M1P1.h", &flags, &keywords);
    CHECK_INT(flags, 0);
    maildir_flags_parse("1.M1P1.h:1,S", &flags, &keywords);
    CHECK_INT(flags, 0);
    CHECK_INT(maildir_base_len("1.M1P1.h,S=3:2,S"), 12);

    struct buf out = BUF_INIT;
    maildir_flags_info("", MAILDIR_FLAG_SEEN | MAILDIR_FLAG_DRAFT |
                               MAILDIR_FLAG_ANSWERED,
                       (1u << 2) | 1u, &out);
    CHECK_STR(out.data, ":2,DRSac");
    buf_reset(&out);
    /* unknown letters (P passed) stay, sorted in; ",..." is kept */
    maildir_flags_info(":2,PSb,x=1", MAILDIR_FLAG_FLAGGED, 0, &out);
    CHECK_STR(out.data, ":2,FP,x=1");
    buf_free(&out);
}

/* A file in DIR (new or cur) of the folder at path. */
static void put_file(const char *path, const char *sub, const char *name,
                     const char *text)
{
    char file[1024];
    snprintf(file, sizeof(file), "%s/%s/%s", path, sub, name);
    CHECK(write_whole(file, text) == 0);
}

static char *make_maildir(char *dir, const char *folder)
{
    struct maildir_options opts = {.path = dir, .folder = folder};
    struct store_status st;
    store_status_init(&st);
    CHECK(maildir_create(&opts, &st) == 0);
    store_status_free(&st);
    char *path = NULL;
    if (asprintf(&path, "%s%s%s", dir, folder ? "/." : "",
                 folder ? folder : "") < 0)
        abort();
    return path;
}

static struct mailbox *open_box(const char *root, const char *folder,
                                int readonly)
{
    struct mailbox_options opts = {.root = root, .folder = folder,
                                   .readonly = readonly,
                                   .hostname = "test.example"};
    struct mailbox *mb = NULL;
    struct buf err = BUF_INIT;
    enum mailbox_result rc = mailbox_open(&opts, &mb, &err);
    if (rc != MAILBOX_OK)
        printf("#   open: %s\n", buf_cstr(&err));
    buf_free(&err);
    return mb;
}

/* Records what a sync reports. */
struct seen {
    char text[512];
};

static void on_expunge(void *ctx, uint32_t seq, uint32_t uid)
{
    struct seen *seen = ctx;
    size_t len = strlen(seen->text);
    snprintf(seen->text + len, sizeof(seen->text) - len, "X%u/%u ", seq, uid);
}

static void on_flags(void *ctx, uint32_t seq, const struct mailbox_msg *msg)
{
    struct seen *seen = ctx;
    size_t len = strlen(seen->text);
    snprintf(seen->text + len, sizeof(seen->text) - len, "F%u=%x ", seq,
             msg->flags & 0x3f);
}

static enum mailbox_result sync_seen(struct mailbox *mb, unsigned flags,
                                     struct seen *seen)
{
    seen->text[0] = 0;
    struct mailbox_sync_events events = {seen, on_expunge, on_flags};
    enum mailbox_result rc = mailbox_sync(mb, flags | MAILBOX_SYNC_FULL,
                                          &events);
    if (rc != MAILBOX_OK)
        printf("#   sync: %s\n", mailbox_error(mb));
    return rc;
}

static void test_open(void)
{
    char *dir = scratch_dir();
    struct mailbox_options opts = {.root = dir, .folder = "Missing"};
    struct mailbox *mb = NULL;
    struct buf err = BUF_INIT;
    CHECK_INT(mailbox_open(&opts, &mb, &err), MAILBOX_NOTFOUND);
    CHECK(mb == NULL);
    opts.folder = "../etc";
    CHECK_INT(mailbox_open(&opts, &mb, &err), MAILBOX_NOTFOUND);
    opts.folder = "Sent";
    opts.create = 1;
    CHECK_INT(mailbox_open(&opts, &mb, &err), MAILBOX_OK);
    char path[600];
    snprintf(path, sizeof(path), "%s/.Sent/maildirfolder", dir);
    CHECK(access(path, F_OK) == 0);
    mailbox_close(mb);
    buf_free(&err);
    scratch_remove(dir);
}

static void test_sync_new_mail(void)
{
    char *dir = scratch_dir();
    char *inbox = make_maildir(dir, NULL);
    put_file(inbox, "new", "1700000002.M5P9.h,S=6,W=7", "b: 2\n\n");
    put_file(inbox, "new", "1700000001.M9P9.h", "a: 1\n\nbody\n");
    put_file(inbox, "cur", "1700000003.M1P9.h:2,S", "c: 3\n\n");
    put_file(inbox, "cur", ".hidden", "not mail");
    struct mailbox *a = open_box(dir, NULL, 0);
    struct seen seen;
    CHECK_INT(sync_seen(a, 0, &seen), MAILBOX_OK);
    CHECK_INT(mailbox_count(a), 3);
    CHECK(mailbox_uidvalidity(a) >= (uint32_t)time(NULL) - 5);
    CHECK_INT(mailbox_uidnext(a), 4);
    CHECK_INT(mailbox_recent_count(a), 3);
    /* delivery order gives the UIDs */
    struct buf name = BUF_INIT;
    mailbox_msg_file_name(a, 1, &name);
    CHECK_STR(name.data, "1700000001.M9P9.h:2,");
    CHECK_INT(mailbox_msg(a, 3)->flags & 0x3f,
              MAILBOX_FLAG_SEEN | MAILBOX_FLAG_RECENT);
    /* moved into cur/ as Dovecot does */
    CHECK_INT(list_dir(inbox, NULL) >= 3, 1);
    char sub[600];
    snprintf(sub, sizeof(sub), "%s/new", inbox);
    CHECK_INT(list_dir(sub, NULL), 0);
    /* the uidlist as Dovecot writes it */
    struct buf text = BUF_INIT;
    snprintf(sub, sizeof(sub), "%s/dovecot-uidlist", inbox);
    read_whole(sub, &text);
    CHECK(strstr(text.data, "\n1 :1700000001.M9P9.h\n"
                            "2 :1700000002.M5P9.h,S=6,W=7\n"
                            "3 :1700000003.M1P9.h\n") != NULL);
    /* sizes: from the name, else from the file */
    uint32_t size;
    CHECK_INT(mailbox_msg_vsize(a, 2, &size), MAILBOX_OK);
    CHECK_INT(size, 7);
    CHECK_INT(mailbox_msg_psize(a, 1, &size), MAILBOX_OK);
    CHECK_INT(size, 11);
    CHECK_INT(mailbox_msg_vsize(a, 1, &size), MAILBOX_OK);
    CHECK_INT(size, 14);

    /* a second session: same UIDs, nothing \Recent there */
    struct mailbox *b = open_box(dir, NULL, 1);
    CHECK_INT(sync_seen(b, 0, &seen), MAILBOX_OK);
    CHECK_INT(mailbox_count(b), 3);
    CHECK_INT(mailbox_recent_count(b), 0);
    CHECK_INT(mailbox_uidvalidity(b), mailbox_uidvalidity(a));
    CHECK_INT(mailbox_msg(b, 3)->uid, 3);

    /* more mail: the first session to sync gets \Recent */
    put_file(inbox, "new", "1700000009.M1P9.h", "d: 4\n\n");
    CHECK_INT(sync_seen(b, 0, &seen), MAILBOX_OK);
    CHECK_INT(mailbox_count(b), 4);
    CHECK_INT(mailbox_recent_count(b), 1);
    CHECK(mailbox_msg(b, 4)->flags & MAILBOX_MSG_IN_NEW); /* read-only */
    CHECK_INT(sync_seen(a, 0, &seen), MAILBOX_OK);
    CHECK_INT(mailbox_count(a), 4);
    CHECK_INT(mailbox_msg(a, 4)->uid, 4);
    CHECK(!(mailbox_msg(a, 4)->flags & MAILBOX_FLAG_RECENT));
    CHECK(!(mailbox_msg(a, 4)->flags & MAILBOX_MSG_IN_NEW)); /* moved */
    CHECK_INT(sync_seen(b, 0, &seen), MAILBOX_OK);
    CHECK(!(mailbox_msg(b, 4)->flags & MAILBOX_MSG_IN_NEW));
    CHECK_STR(seen.text, ""); /* the move changed no flags */
    buf_free(&name);
    buf_free(&text);
    mailbox_close(a);
    mailbox_close(b);
    free(inbox);
    scratch_remove(dir);
}

static void test_flags_and_expunge(void)
{
    char *dir = scratch_dir();
    char *inbox = make_maildir(dir, NULL);
    for (int i = 1; i <= 4; i++) {
        char name[64];
        snprintf(name, sizeof(name), "170000000%d.M1P1.h:2,", i);
        put_file(inbox, "cur", name, "x: y\n\n");
    }
    struct mailbox *a = open_box(dir, NULL, 0), *b = open_box(dir, NULL, 0);
    struct seen seen;
    CHECK_INT(sync_seen(a, 0, &seen), MAILBOX_OK);
    CHECK_INT(sync_seen(b, 0, &seen), MAILBOX_OK);

    /* keywords get letters; flags rename the file */
    const char *names[] = {"$Forwarded", "Work"};
    size_t lens[] = {10, 4};
    uint32_t mask = 0;
    CHECK_INT(mailbox_keywords_lookup(a, names, lens, 2, 1, &mask),
              MAILBOX_OK);
    CHECK_INT(mask, 3);
    CHECK_INT(mailbox_set_flags(a, 2, MAILBOX_FLAG_SEEN | MAILBOX_FLAG_FLAGGED,
                                2), MAILBOX_OK);
    struct buf name = BUF_INIT;
    mailbox_msg_file_name(a, 2, &name);
    CHECK_STR(name.data, "1700000002.M1P1.h:2,FSb");
    CHECK_INT(sync_seen(b, 0, &seen), MAILBOX_OK);
    CHECK_STR(seen.text, "F2=a ");
    CHECK_STR(mailbox_keyword_name(b, 1), "Work");
    CHECK_INT(mailbox_msg(b, 2)->keywords, 2);

    /* a file renamed by someone else is found again by its base name */
    char from[700], to[700];
    snprintf(from, sizeof(from), "%s/cur/1700000003.M1P1.h:2,", inbox);
    snprintf(to, sizeof(to), "%s/cur/1700000003.M1P1.h:2,R", inbox);
    CHECK(rename(from, to) == 0);
    CHECK_INT(mailbox_set_flags(a, 3, MAILBOX_FLAG_DELETED, 0), MAILBOX_OK);
    buf_reset(&name);
    mailbox_msg_file_name(a, 3, &name);
    CHECK_STR(name.data, "1700000003.M1P1.h:2,T");

    /* expunges: held back while a command may not report them */
    CHECK_INT(mailbox_expunge(a, 2), MAILBOX_OK);
    CHECK_INT(mailbox_expunge(a, 4), MAILBOX_OK);
    CHECK_INT(sync_seen(a, MAILBOX_SYNC_NO_EXPUNGE, &seen), MAILBOX_OK);
    CHECK_INT(mailbox_count(a), 4);
    CHECK(mailbox_needs_sync(a));
    CHECK_INT(mailbox_set_flags(a, 2, 0, 0), MAILBOX_EXPUNGED);
    CHECK_INT(sync_seen(a, 0, &seen), MAILBOX_OK);
    CHECK_STR(seen.text, "X2/2 X3/4 ");
    CHECK_INT(mailbox_count(a), 2);
    CHECK_INT(mailbox_seq_of_uid(a, 3), 2);
    /* the other session learns it from the directory */
    CHECK_INT(sync_seen(b, 0, &seen), MAILBOX_OK);
    CHECK_STR(seen.text, "F3=4 X2/2 X3/4 ");
    CHECK_INT(mailbox_count(b), 2);
    buf_free(&name);
    mailbox_close(a);
    mailbox_close(b);
    free(inbox);
    scratch_remove(dir);
}

static void test_append_and_copy(void)
{
    char *dir = scratch_dir();
    char *inbox = make_maildir(dir, NULL);
    char *sent = make_maildir(dir, "Sent");
    struct mailbox *a = open_box(dir, NULL, 0);
    struct seen seen;
    CHECK_INT(sync_seen(a, 0, &seen), MAILBOX_OK);
    const char *names[] = {"$Label1"};
    size_t lens[] = {7};
    uint32_t mask = 0;
    CHECK_INT(mailbox_keywords_lookup(a, names, lens, 1, 1, &mask),
              MAILBOX_OK);
    struct mailbox_save *save = mailbox_save_begin(a);
    CHECK_INT(mailbox_save_append_start(save), MAILBOX_OK);
    CHECK_INT(mailbox_save_append_write(save, "Subject: hi\r", 12),
              MAILBOX_OK);
    CHECK_INT(mailbox_save_append_write(save, "\n\r\nbody\r\n", 9),
              MAILBOX_OK);
    CHECK_INT(mailbox_save_append_finish(save, MAILBOX_FLAG_SEEN |
                                                   MAILBOX_FLAG_RECENT,
                                         mask, 1600000000),
              MAILBOX_OK);
    CHECK_INT(mailbox_save_append_start(save), MAILBOX_OK);
    CHECK_INT(mailbox_save_append_write(save, "x\n", 2), MAILBOX_OK);
    CHECK_INT(mailbox_save_append_finish(save, 0, 0, 0), MAILBOX_OK);
    CHECK_INT(mailbox_save_count(save), 2);
    uint32_t uids[2] = {0, 0};
    CHECK_INT(mailbox_save_commit(save, uids), MAILBOX_OK);
    CHECK_INT(uids[0], 1);
    CHECK_INT(uids[1], 2);
    char sub[600];
    snprintf(sub, sizeof(sub), "%s/tmp", inbox);
    CHECK_INT(list_dir(sub, NULL), 0);
    CHECK_INT(sync_seen(a, 0, &seen), MAILBOX_OK);
    CHECK_INT(mailbox_count(a), 2);
    CHECK_INT(mailbox_recent_count(a), 2); /* this session stored them */
    const struct mailbox_msg *msg = mailbox_msg(a, 1);
    CHECK_INT(msg->uid, 1);
    CHECK_INT(msg->flags & 0x3f, MAILBOX_FLAG_SEEN | MAILBOX_FLAG_RECENT);
    CHECK_INT(msg->keywords, mask);
    CHECK_INT(msg->psize, 18); /* CR LF stored as LF */
    CHECK_INT(msg->vsize, 21);
    time_t date = 0;
    CHECK_INT(mailbox_msg_internal_date(a, 1, &date), MAILBOX_OK);
    CHECK_INT(date, 1600000000);
    struct buf name = BUF_INIT;
    mailbox_msg_file_name(a, 1, &name);
    CHECK(str_has_suffix(name.data, ",S=18,W=21:2,Sa"));
    CHECK(strstr(name.data, ".test.example,") != NULL);
    struct mailbox_map map;
    CHECK_INT(mailbox_msg_map(a, 1, &map), MAILBOX_OK);
    CHECK(map.size == 18 && memcmp(map.data, "Subject: hi\n\nbody\n", 18) == 0);
    mailbox_map_release(&map);

    /* COPY: a hard link, flags and keywords (by name) kept */
    struct mailbox *s = open_box(dir, "Sent", 0);
    save = mailbox_save_begin(s);
    CHECK_INT(mailbox_save_copy(save, a, 1), MAILBOX_OK);
    CHECK_INT(mailbox_save_commit(save, uids), MAILBOX_OK);
    CHECK_INT(uids[0], 1);
    CHECK_INT(sync_seen(s, 0, &seen), MAILBOX_OK);
    CHECK_INT(mailbox_count(s), 1);
    msg = mailbox_msg(s, 1);
    CHECK_INT(msg->flags & 0x1f, MAILBOX_FLAG_SEEN);
    CHECK_STR(mailbox_keyword_name(s, 0), "$Label1");
    CHECK_INT(msg->keywords, 1);
    struct buf path = BUF_INIT;
    buf_appendf(&path, "%s/cur/", inbox);
    mailbox_msg_file_name(a, 1, &path);
    struct stat st_a, st_s;
    stat(path.data, &st_a);
    buf_reset(&path);
    buf_appendf(&path, "%s/cur/", sent);
    mailbox_msg_file_name(s, 1, &path);
    CHECK(stat(path.data, &st_s) == 0);
    CHECK(st_a.st_ino == st_s.st_ino);
    CHECK_INT(mailbox_msg_internal_date(s, 1, &date), MAILBOX_OK);
    CHECK_INT(date, 1600000000);

    /* an abandoned batch leaves nothing behind */
    save = mailbox_save_begin(s);
    mailbox_save_append_start(save);
    mailbox_save_append_write(save, "y\n", 2);
    mailbox_save_abort(save);
    snprintf(sub, sizeof(sub), "%s/tmp", sent);
    CHECK_INT(list_dir(sub, NULL), 0);
    buf_free(&name);
    buf_free(&path);
    mailbox_close(a);
    mailbox_close(s);
    free(inbox);
    free(sent);
    scratch_remove(dir);
}

static void test_lock_busy_and_malformed(void)
{
    char *dir = scratch_dir();
    char *inbox = make_maildir(dir, NULL);
    struct mailbox *a = open_box(dir, NULL, 0);
    struct seen seen;
    CHECK_INT(sync_seen(a, 0, &seen), MAILBOX_OK);
    uint32_t validity = mailbox_uidvalidity(a);
    struct uidlist_lock lock;
    struct buf err = BUF_INIT;
    CHECK_INT(uidlist_lock_take(inbox, 0, &lock, &err), 1);
    put_file(inbox, "new", "1700000001.M1P1.h", "a: b\n\n");
    CHECK_INT(sync_seen(a, 0, &seen), MAILBOX_OK);
    CHECK_INT(mailbox_count(a), 0); /* waits for the lock */
    CHECK(mailbox_needs_sync(a));
    CHECK(strstr(mailbox_warning(a), "held elsewhere") != NULL);
    struct mailbox_save *save = mailbox_save_begin(a);
    mailbox_save_append_start(save);
    mailbox_save_append_finish(save, 0, 0, 0);
    uint32_t uid = 0;
    CHECK_INT(mailbox_save_commit(save, &uid), MAILBOX_BUSY);
    uidlist_lock_release(&lock);
    CHECK_INT(mailbox_save_commit(save, &uid), MAILBOX_OK); /* retried */
    CHECK_INT(uid, 1);
    CHECK_INT(sync_seen(a, 0, &seen), MAILBOX_OK);
    CHECK_INT(mailbox_count(a), 2);
    CHECK_INT(mailbox_msg(a, 2)->uid, 2);
    mailbox_close(a);

    /* a malformed uidlist: reported, rebuilt with a new UIDVALIDITY */
    char path[600];
    snprintf(path, sizeof(path), "%s/dovecot-uidlist", inbox);
    struct buf text = BUF_INIT;
    read_whole(path, &text);
    buf_append_str(&text, "garbage line\n");
    write_whole(path, text.data);
    a = open_box(dir, NULL, 0);
    CHECK_INT(sync_seen(a, 0, &seen), MAILBOX_OK);
    CHECK(strstr(mailbox_warning(a), "invalid UID") != NULL);
    CHECK(mailbox_uidvalidity(a) != validity);
    CHECK_INT(mailbox_count(a), 2);
    struct uidlist ul;
    uidlist_init(&ul);
    CHECK_INT(uidlist_read(&ul, path, &err), UIDLIST_CHANGED);
    CHECK_INT(ul.count, 2);
    uidlist_free(&ul);
    buf_free(&text);
    buf_free(&err);
    mailbox_close(a);
    free(inbox);
    scratch_remove(dir);
}

/* A file back from a backup (its UID is below the view's highest) gets
 * a new UID; lines of expunged messages are dropped once they are a
 * quarter of the uidlist. */
static void test_restored_file_and_tidy(void)
{
    char *dir = scratch_dir();
    char *inbox = make_maildir(dir, NULL);
    char name[64];
    for (int i = 1; i <= 80; i++) {
        snprintf(name, sizeof(name), "17000%05d.M1P1.h:2,", i);
        put_file(inbox, "cur", name, "x: y\n\n");
    }
    struct mailbox *a = open_box(dir, NULL, 0);
    struct seen seen;
    CHECK_INT(sync_seen(a, 0, &seen), MAILBOX_OK);
    CHECK_INT(mailbox_count(a), 80);
    char from[700], to[700];
    snprintf(from, sizeof(from), "%s/cur/1700000002.M1P1.h:2,", inbox);
    snprintf(to, sizeof(to), "%s/backup", dir);
    CHECK(rename(from, to) == 0);
    CHECK_INT(sync_seen(a, 0, &seen), MAILBOX_OK);
    CHECK_STR(seen.text, "X2/2 ");
    put_file(inbox, "new", "1800000000.M1P1.h", "n: 1\n\n");
    CHECK_INT(sync_seen(a, 0, &seen), MAILBOX_OK);
    CHECK_INT(mailbox_msg(a, 80)->uid, 81);
    CHECK(rename(to, from) == 0);
    CHECK_INT(sync_seen(a, 0, &seen), MAILBOX_OK);
    CHECK_INT(mailbox_count(a), 81);
    CHECK_INT(mailbox_msg(a, 81)->uid, 82);
    char path[600];
    struct buf text = BUF_INIT;
    snprintf(path, sizeof(path), "%s/dovecot-uidlist", inbox);
    read_whole(path, &text);
    CHECK(strstr(text.data, "\n2 :") == NULL);
    CHECK(strstr(text.data, "\n82 :1700000002.M1P1.h\n") != NULL);

    for (uint32_t seq = 1; seq <= 30; seq++)
        CHECK_INT(mailbox_expunge(a, seq), MAILBOX_OK);
    CHECK_INT(sync_seen(a, 0, &seen), MAILBOX_OK);
    CHECK_INT(mailbox_count(a), 51);
    /* the next time the lock is taken the dead lines go */
    put_file(inbox, "new", "1800000001.M1P1.h", "n: 2\n\n");
    CHECK_INT(sync_seen(a, 0, &seen), MAILBOX_OK);
    CHECK_INT(mailbox_count(a), 52);
    struct uidlist ul;
    struct buf err = BUF_INIT;
    uidlist_init(&ul);
    CHECK_INT(uidlist_read(&ul, path, &err), UIDLIST_CHANGED);
    CHECK_INT(ul.count, 52);
    CHECK_INT(ul.next_uid, 84);
    uidlist_free(&ul);
    buf_free(&err);
    buf_free(&text);
    mailbox_close(a);
    free(inbox);
    scratch_remove(dir);
}

static double elapsed_ms(const struct timespec *start)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (double)(now.tv_sec - start->tv_sec) * 1000.0 +
           (double)(now.tv_nsec - start->tv_nsec) / 1e6;
}

static void age_dir(const char *path, const char *sub)
{
    char dir_path[600];
    snprintf(dir_path, sizeof(dir_path), "%s/%s", path, sub);
    struct timeval times[2];
    gettimeofday(&times[0], NULL);
    times[0].tv_sec -= 60;
    times[1] = times[0];
    utimes(dir_path, times);
}

/* 10,000 messages: a sync that finds nothing changed costs two stat()
 * calls; a full rescan is printed for the record. */
static void test_sync_10000_unchanged(void)
{
    char *dir = scratch_dir();
    char *inbox = make_maildir(dir, NULL);
    struct uidlist ul;
    uidlist_init(&ul);
    ul.uidvalidity = 12345;
    char name[128];
    for (int i = 1; i <= 10000; i++) {
        snprintf(name, sizeof(name), "%d.M%dP1.h,S=4000,W=4100", 1700000000 + i,
                 i);
        uidlist_add(&ul, (uint32_t)i, name, strlen(name), NULL);
        strcat(name, i % 3 ? ":2,S" : ":2,");
        put_file(inbox, "cur", name, "");
    }
    char path[600];
    struct buf err = BUF_INIT;
    snprintf(path, sizeof(path), "%s/dovecot-uidlist", inbox);
    CHECK_INT(uidlist_write(&ul, path, &err), 0);
    uidlist_free(&ul);
    age_dir(inbox, "cur");
    age_dir(inbox, "new");
    struct mailbox *mb = open_box(dir, NULL, 0);
    struct timespec start;
    clock_gettime(CLOCK_MONOTONIC, &start);
    CHECK_INT(mailbox_sync(mb, 0, NULL), MAILBOX_OK);
    double first = elapsed_ms(&start);
    CHECK_INT(mailbox_count(mb), 10000);
    CHECK_INT(mailbox_msg(mb, 10000)->uid, 10000);
    CHECK(!mailbox_needs_sync(mb));
    clock_gettime(CLOCK_MONOTONIC, &start);
    for (int i = 0; i < 100; i++)
        CHECK_INT(mailbox_sync(mb, 0, NULL), MAILBOX_OK);
    double quiet = elapsed_ms(&start) / 100;
    clock_gettime(CLOCK_MONOTONIC, &start);
    CHECK_INT(mailbox_sync(mb, MAILBOX_SYNC_FULL, NULL), MAILBOX_OK);
    double rescan = elapsed_ms(&start);
    printf("#   10000 messages: first sync %.1f ms, rescan %.1f ms, "
           "unchanged %.3f ms\n", first, rescan, quiet);
    buf_free(&err);
    mailbox_close(mb);
    free(inbox);
    scratch_remove(dir);
}

int main(void)
{
    UNIT_RUN(test_file_name_flags);
    UNIT_RUN(test_open);
    UNIT_RUN(test_sync_new_mail);
    UNIT_RUN(test_flags_and_expunge);
    UNIT_RUN(test_append_and_copy);
    UNIT_RUN(test_lock_busy_and_malformed);
    UNIT_RUN(test_restored_file_and_tidy);
    UNIT_RUN(test_sync_10000_unchanged);
    return unit_summary();
}
