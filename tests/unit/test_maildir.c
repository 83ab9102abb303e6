/* test_maildir.c: unit tests for lib/storage/maildir, lib/storage/maildir_quota and the
 * shared pieces of lib/storage/store: unique names, the tmp/ -> new/ delivery,
 * CRLF to LF, S=/W= sizes, folders, Maildir++ quota, and failures that
 * must come back with a precise reason. */
#include "unit.h"

#include <signal.h>
#include <sys/resource.h>
#include <time.h>

#include "storage/maildir.h"
#include "storage/maildir_quota.h"
#include "base/mem.h"
#include "storage_util.h"
#include "storage/store.h"

/* Delivers text in chunks of `chunk` bytes; returns the result and the
 * final path. */
static enum store_result deliver(const struct maildir_options *opts,
                                 const char *leading, const char *text,
                                 size_t chunk, struct store_status *st,
                                 struct buf *final_path)
{
    struct maildir_delivery *d = maildir_delivery_open(opts, leading, st);
    if (d == NULL)
        return st->result;
    size_t len = strlen(text);
    for (size_t off = 0; off < len; off += chunk) {
        size_t n = len - off < chunk ? len - off : chunk;
        if (maildir_delivery_write(d, text + off, n) < 0)
            break;
    }
    return maildir_delivery_commit(d, final_path);
}

static char *path_join(const char *a, const char *b)
{
    return xasprintf("%s/%s", a, b);
}

static int count_in(const char *dir, const char *sub)
{
    char *p = path_join(dir, sub);
    int n = list_dir(p, NULL);
    free(p);
    return n;
}

static void test_unique_names(void)
{
    enum { N = 20000 };
    struct strlist names;
    strlist_init(&names);
    for (int i = 0; i < N; i++) {
        struct buf b = BUF_INIT;
        maildir_unique_name("host", &b);
        strlist_add(&names, buf_cstr(&b));
        buf_free(&b);
    }
    qsort(names.items, names.count, sizeof(char *),
          (int (*)(const void *, const void *))strcmp);
    int dups = 0;
    for (size_t i = 1; i < names.count; i++)
        if (strcmp(names.items[i - 1], names.items[i]) == 0)
            dups++;
    CHECK_INT(dups, 0);
    /* <secs>.M<usecs>P<pid>Q<n>.<host> */
    long long secs;
    long usecs, pid;
    unsigned long q;
    char host[64];
    CHECK_INT(sscanf(names.items[0], "%lld.M%ldP%ldQ%lu.%63s", &secs, &usecs,
                     &pid, &q, host),
              5);
    CHECK_INT(pid, getpid());
    CHECK_STR(host, "host");
    CHECK(usecs >= 0 && usecs < 1000000);
    CHECK(llabs(secs - (long long)time(NULL)) < 60);
    strlist_free(&names);
}

static void test_hostname_escape(void)
{
    struct buf b = BUF_INIT;
    maildir_escape_hostname("mail/x:y,z.example", &b);
    CHECK_STR(buf_cstr(&b), "mail\\057x\\072y\\054z.example");
    buf_reset(&b);
    maildir_escape_hostname("plain.example.org", &b);
    CHECK_STR(buf_cstr(&b), "plain.example.org");
    buf_reset(&b);
    maildir_unique_name("h\\057x", &b);
    CHECK(strchr(buf_cstr(&b), '/') == NULL);
    buf_free(&b);
}

static void test_name_size(void)
{
    long long size = 0;
    CHECK_INT(maildir_name_size("1.M2P3.h,S=1234,W=1260:2,S", 'S', &size), 0);
    CHECK_INT(size, 1234);
    CHECK_INT(maildir_name_size("1.M2P3.h,S=1234,W=1260:2,S", 'W', &size), 0);
    CHECK_INT(size, 1260);
    CHECK_INT(maildir_name_size("1.M2P3.h,S=12x", 'S', &size), -1);
    CHECK_INT(maildir_name_size("1.M2P3.h", 'S', &size), -1);
    CHECK_INT(maildir_name_size("1.M2P3.h:2,S=5", 'S', &size), -1);
    CHECK_INT(maildir_name_size("1.h,S=99999999999999999999999", 'S', &size),
              -1);
}

static void test_deliver_content(void)
{
    char *dir = scratch_dir();
    char *root = path_join(dir, "Maildir");
    struct maildir_options opts = {.path = root, .hostname = "mx:1/a"};
    struct store_status st;
    store_status_init(&st);
    struct buf final = BUF_INIT, content = BUF_INIT;
    const char *text = "Subject: hi\r\n\r\nline one\r\nbare lf\nlone\rcr\r\n"
                       "From me\r\nend";
    /* Chunks of 1 byte split every CR LF pair across writes. */
    enum store_result r = deliver(
        &opts, "Return-Path: <a@b>\r\nDelivered-To: c@d", text, 1, &st, &final);
    CHECK_INT(r, STORE_OK);
    CHECK_STR(st.dsn, "2.0.0");
    const char *expected = "Return-Path: <a@b>\nDelivered-To: c@d\n"
                           "Subject: hi\n\nline one\nbare lf\nlone\rcr\n"
                           "From me\nend";
    CHECK_INT(read_whole(buf_cstr(&final), &content), 0);
    CHECK_STR(buf_cstr(&content), expected);
    /* In new/, named <base>,S=<bytes on disk>,W=<size with CRLF>. */
    char *newdir = path_join(root, "new");
    CHECK(str_has_prefix(buf_cstr(&final), newdir));
    long long s = -1, w = -1;
    const char *name = strrchr(buf_cstr(&final), '/') + 1;
    CHECK_INT(maildir_name_size(name, 'S', &s), 0);
    CHECK_INT(maildir_name_size(name, 'W', &w), 0);
    CHECK_INT(s, strlen(expected));
    CHECK_INT(w, strlen(expected) + 8); /* 8 LFs become CR LF */
    CHECK(strstr(name, ".mx\\0721\\057a,S=") != NULL);
    struct stat sb;
    CHECK_INT(stat(buf_cstr(&final), &sb), 0);
    CHECK_INT(sb.st_mode & 0777, 0600);
    CHECK_INT(sb.st_size, s);
    CHECK_INT(count_in(root, "tmp"), 0);
    CHECK_INT(count_in(root, "cur"), 0);
    CHECK_INT(count_in(root, "new"), 1);
    CHECK_INT(stat(root, &sb), 0);
    CHECK_INT(sb.st_mode & 0777, 0700);
    free(newdir);
    buf_free(&final);
    buf_free(&content);
    store_status_free(&st);
    free(root);
    scratch_remove(dir);
}

static void test_deliver_chunking_equal(void)
{
    /* The same message in any chunking gives the same file. */
    char *dir = scratch_dir();
    struct maildir_options opts = {.path = dir};
    struct store_status st;
    store_status_init(&st);
    struct buf text = BUF_INIT, a = BUF_INIT, b = BUF_INIT, pa = BUF_INIT,
               pb = BUF_INIT;
    for (int i = 0; i < 5000; i++)
        buf_appendf(&text, "line %d\r\n%s", i, i % 7 ? "" : "\r");
    CHECK_INT(deliver(&opts, NULL, buf_cstr(&text), 100000, &st, &pa),
              STORE_OK);
    CHECK_INT(deliver(&opts, NULL, buf_cstr(&text), 3, &st, &pb), STORE_OK);
    read_whole(buf_cstr(&pa), &a);
    read_whole(buf_cstr(&pb), &b);
    CHECK_INT(a.len, b.len);
    CHECK(a.len > 0 && memcmp(a.data, b.data, a.len) == 0);
    CHECK(memchr(a.data, '\n', a.len) != NULL);
    CHECK(strstr(a.data, "\r\n") == NULL);
    buf_free(&text);
    buf_free(&a);
    buf_free(&b);
    buf_free(&pa);
    buf_free(&pb);
    store_status_free(&st);
    scratch_remove(dir);
}

static void test_rapid_deliveries(void)
{
    char *dir = scratch_dir();
    struct maildir_options opts = {.path = dir};
    struct store_status st;
    store_status_init(&st);
    int ok = 0;
    for (int i = 0; i < 300; i++)
        ok += deliver(&opts, NULL, "x\n", 10, &st, NULL) == STORE_OK;
    CHECK_INT(ok, 300);
    CHECK_INT(count_in(dir, "new"), 300);
    CHECK_INT(count_in(dir, "tmp"), 0);
    store_status_free(&st);
    scratch_remove(dir);
}

static void test_creates_parents_and_folders(void)
{
    char *dir = scratch_dir();
    char *root = xasprintf("%s/example.com/user/Maildir", dir);
    struct maildir_options opts = {.path = root, .folder = "Lists.postern"};
    struct store_status st;
    store_status_init(&st);
    struct buf final = BUF_INIT;
    CHECK_INT(deliver(&opts, NULL, "hello\n", 64, &st, &final), STORE_OK);
    char *folder = path_join(root, ".Lists.postern");
    CHECK(str_has_prefix(buf_cstr(&final), folder));
    CHECK_INT(count_in(folder, "new"), 1);
    CHECK_INT(count_in(folder, "cur"), 0);
    char *marker = path_join(folder, "maildirfolder");
    CHECK_INT(access(marker, F_OK), 0);
    /* The root is a complete Maildir too. */
    CHECK_INT(count_in(root, "new"), 0);
    CHECK_INT(count_in(root, "cur"), 0);
    CHECK_INT(count_in(root, "tmp"), 0);
    /* "INBOX" means the root. */
    opts.folder = "INBOX";
    CHECK_INT(deliver(&opts, NULL, "hello\n", 64, &st, NULL), STORE_OK);
    CHECK_INT(count_in(root, "new"), 1);
    /* Names that would escape the Maildir are refused. */
    static const char *const bad[] = {"../x", "a/b", ".hidden",
                                      "a..b", "x.",  "tab\there"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        opts.folder = bad[i];
        CHECK_INT(maildir_folder_name_valid(bad[i]), -1);
        CHECK_INT(deliver(&opts, NULL, "x\n", 64, &st, NULL), STORE_DEFER);
        CHECK(strstr(buf_cstr(&st.reason), "invalid folder name") != NULL);
    }
    CHECK_INT(maildir_folder_name_valid("Sent"), 0);
    CHECK_INT(maildir_folder_name_valid("&AOQ-hnlich.sub"), 0);
    free(marker);
    free(folder);
    buf_free(&final);
    store_status_free(&st);
    free(root);
    scratch_remove(dir);
}

/* A maildirfolder name planted as a symlink (the mailbox owner can do
 * that) is left alone: never followed, nothing created where it points. */
static void test_maildirfolder_symlink_not_followed(void)
{
    char *dir = scratch_dir();
    char *root = path_join(dir, "Maildir");
    char *folder = path_join(root, ".Sent");
    char *target = path_join(dir, "elsewhere");
    char *marker = path_join(folder, "maildirfolder");
    CHECK_INT(mkdir(root, 0700), 0);
    CHECK_INT(mkdir(folder, 0700), 0);
    CHECK_INT(symlink(target, marker), 0);
    struct maildir_options opts = {.path = root, .folder = "Sent"};
    struct store_status st;
    store_status_init(&st);
    CHECK_INT(deliver(&opts, NULL, "hello\n", 64, &st, NULL), STORE_OK);
    CHECK_INT(count_in(folder, "new"), 1);
    CHECK(access(target, F_OK) != 0);
    /* A second delivery finds the marker there and is fine with it. */
    CHECK_INT(deliver(&opts, NULL, "again\n", 64, &st, NULL), STORE_OK);
    CHECK_INT(count_in(folder, "new"), 2);
    CHECK(access(target, F_OK) != 0);
    store_status_free(&st);
    free(marker);
    free(target);
    free(folder);
    free(root);
    scratch_remove(dir);
}

static void test_abort_leaves_nothing(void)
{
    char *dir = scratch_dir();
    struct maildir_options opts = {.path = dir};
    struct store_status st;
    store_status_init(&st);
    struct maildir_delivery *d = maildir_delivery_open(&opts, NULL, &st);
    CHECK(d != NULL);
    CHECK_INT(count_in(dir, "tmp"), 1);
    maildir_delivery_write(d, "data\n", 5);
    maildir_delivery_abort(d);
    CHECK_INT(count_in(dir, "tmp"), 0);
    CHECK_INT(count_in(dir, "new"), 0);
    store_status_free(&st);
    scratch_remove(dir);
}

static void test_size_limit(void)
{
    char *dir = scratch_dir();
    struct maildir_options opts = {.path = dir, .size_limit = 100};
    struct store_status st;
    store_status_init(&st);
    char big[201];
    memset(big, 'a', 200);
    big[200] = 0;
    CHECK_INT(deliver(&opts, NULL, big, 50, &st, NULL), STORE_BOUNCE);
    CHECK_STR(st.dsn, "5.2.2");
    CHECK(strstr(buf_cstr(&st.reason), "size limit of 100 bytes") != NULL);
    CHECK_INT(count_in(dir, "tmp"), 0);
    CHECK_INT(count_in(dir, "new"), 0);
    CHECK_INT(deliver(&opts, NULL, "small\n", 50, &st, NULL), STORE_OK);
    store_status_free(&st);
    scratch_remove(dir);
}

struct unwritable_ctx {
    const char *root;
};

static int try_unwritable(void *arg)
{
    struct unwritable_ctx *ctx = arg;
    struct maildir_options opts = {.path = ctx->root};
    struct store_status st;
    store_status_init(&st);
    enum store_result r = deliver(&opts, NULL, "x\n", 10, &st, NULL);
    const char *why = buf_cstr(&st.reason);
    int ok = r == STORE_DEFER && strcmp(st.dsn, "4.2.0") == 0 &&
             str_has_prefix(why, "maildir delivery failed: create ") &&
             strstr(why, "/tmp/") != NULL &&
             str_has_suffix(why, ": Permission denied");
    if (!ok)
        printf("#   result %d dsn %s reason %s\n", r, st.dsn, why);
    store_status_free(&st);
    return ok ? 0 : 1;
}

static void test_unwritable_dir(void)
{
    char *dir = scratch_dir();
    char *root = path_join(dir, "Maildir");
    struct maildir_options opts = {.path = root, .dir_mode = 0755};
    struct store_status st;
    store_status_init(&st);
    CHECK_INT(maildir_create(&opts, &st), 0);
    char *tmp = path_join(root, "tmp");
    CHECK_INT(chmod(tmp, 0555), 0);
    struct unwritable_ctx ctx = {root};
    CHECK_INT(run_unprivileged(try_unwritable, &ctx), 0);
    /* A tmp/ that is not a directory: fails for root too. */
    chmod(tmp, 0755);
    CHECK_INT(rmdir(tmp), 0);
    CHECK_INT(write_whole(tmp, "not a dir"), 0);
    CHECK_INT(deliver(&opts, NULL, "x\n", 10, &st, NULL), STORE_DEFER);
    CHECK(str_has_prefix(buf_cstr(&st.reason), "maildir delivery failed: "));
    CHECK(str_has_suffix(buf_cstr(&st.reason), ": Not a directory"));
    free(tmp);
    store_status_free(&st);
    free(root);
    scratch_remove(dir);
}

static int try_file_too_large(void *arg)
{
    const char *root = arg;
    struct rlimit rl = {4096, 4096};
    signal(SIGXFSZ, SIG_IGN);
    if (setrlimit(RLIMIT_FSIZE, &rl) < 0)
        return 2;
    struct maildir_options opts = {.path = root};
    struct store_status st;
    store_status_init(&st);
    char *big = xmalloc(300000);
    memset(big, 'x', 299999);
    big[299999] = 0;
    enum store_result r = deliver(&opts, NULL, big, 299999, &st, NULL);
    int ok = r == STORE_BOUNCE && strcmp(st.dsn, "5.2.2") == 0 &&
             str_has_prefix(buf_cstr(&st.reason),
                            "maildir delivery failed: write ") &&
             str_has_suffix(buf_cstr(&st.reason), ": File too large");
    if (!ok)
        printf("#   result %d dsn %s reason %s\n", r, st.dsn,
               buf_cstr(&st.reason));
    store_status_free(&st);
    free(big);
    return ok ? 0 : 1;
}

static void test_write_error_cleans_up(void)
{
    char *dir = scratch_dir();
    struct maildir_options opts = {.path = dir};
    struct store_status st;
    store_status_init(&st);
    CHECK_INT(maildir_create(&opts, &st), 0);
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0)
        _exit(try_file_too_large(dir));
    int status = 0;
    waitpid(pid, &status, 0);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    CHECK_INT(count_in(dir, "tmp"), 0);
    CHECK_INT(count_in(dir, "new"), 0);
    store_status_free(&st);
    scratch_remove(dir);
}

/* ---- quota ---- */

static void test_quota_parse(void)
{
    struct maildir_quota_usage u;
    const char *good = "1000S,10C\n100 1\n  250   2 \n-50 -1\n";
    CHECK_INT(maildir_quota_parse(good, strlen(good), &u), 1);
    CHECK_INT(u.limit_bytes, 1000);
    CHECK_INT(u.limit_count, 10);
    CHECK_INT(u.bytes, 300);
    CHECK_INT(u.count, 2);
    CHECK_INT(u.change_lines, 3);
    /* A last line still being written is ignored. */
    const char *partial = "0S\n10 1\n99";
    CHECK_INT(maildir_quota_parse(partial, strlen(partial), &u), 1);
    CHECK_INT(u.bytes, 10);
    CHECK_INT(u.limit_bytes, 0);
    /* Each of these asks for a recalculation. */
    static const char *const broken[] = {"",
                                         "100S",
                                         "100S\n",
                                         "100S\nabc 1\n",
                                         "100S\n10\n",
                                         "100S\n10 1 3\n",
                                         "100S\n-10 -1\n",
                                         "100S\n9223372036854775807 1\n1 1\n",
                                         "100S\n99999999999999999999 1\n"};
    for (size_t i = 0; i < sizeof(broken) / sizeof(broken[0]); i++)
        CHECK_INT(maildir_quota_parse(broken[i], strlen(broken[i]), &u), 0);
    const char nul[] = "100S\n1\0 1\n";
    CHECK_INT(maildir_quota_parse(nul, sizeof(nul) - 1, &u), 0);
    /* A file of 5120 bytes or more is recalculated. */
    struct buf big = BUF_INIT;
    buf_append_str(&big, "0S\n");
    while (big.len < MAILDIR_QUOTA_MAX_FILE)
        buf_append_str(&big, "1 1\n");
    CHECK_INT(maildir_quota_parse(big.data, big.len, &u), 0);
    buf_free(&big);
    long long b, c;
    CHECK_INT(maildir_quota_parse_limits("5000S", 5, &b, &c), 0);
    CHECK_INT(b, 5000);
    CHECK_INT(c, 0);
    CHECK_INT(maildir_quota_parse_limits("7C,x,9S", 7, &b, &c), -1);
    CHECK_INT(b, 9);
    CHECK_INT(c, 7);
    struct buf hdr = BUF_INIT;
    maildir_quota_format_limits(0, 0, &hdr);
    CHECK_STR(buf_cstr(&hdr), "0S");
    buf_reset(&hdr);
    maildir_quota_format_limits(0, 5, &hdr);
    CHECK_STR(buf_cstr(&hdr), "5C");
    buf_reset(&hdr);
    maildir_quota_format_limits(100, 5, &hdr);
    CHECK_STR(buf_cstr(&hdr), "100S,5C");
    buf_free(&hdr);
}

static void read_quota_file(const char *root, struct buf *out)
{
    char *p = path_join(root, MAILDIR_QUOTA_FILE_NAME);
    if (read_whole(p, out) < 0)
        buf_set_str(out, "(missing)");
    free(p);
}

static void test_quota_accounting(void)
{
    char *dir = scratch_dir();
    struct maildir_options opts = {.path = dir};
    opts.quota.mode = MAILDIR_QUOTA_LIMITS;
    opts.quota.bytes = 1000;
    struct store_status st;
    store_status_init(&st);
    struct buf file = BUF_INIT, msg = BUF_INIT;
    for (int i = 0; i < 399; i++)
        buf_append_char(&msg, 'm');
    buf_append_str(&msg, "\r\n"); /* stored as 400 bytes */
    CHECK_INT(deliver(&opts, NULL, buf_cstr(&msg), 128, &st, NULL), STORE_OK);
    read_quota_file(dir, &file);
    /* Created by recalculation before the first message, then updated. */
    CHECK_STR(buf_cstr(&file), "1000S\n0 0\n400 1\n");
    CHECK_INT(deliver(&opts, NULL, buf_cstr(&msg), 128, &st, NULL), STORE_OK);
    read_quota_file(dir, &file);
    CHECK_STR(buf_cstr(&file), "1000S\n0 0\n400 1\n400 1\n");
    /* 800 + 400 > 1000: over quota, a distinct result, nothing left. */
    CHECK_INT(deliver(&opts, NULL, buf_cstr(&msg), 128, &st, NULL),
              STORE_OVER_QUOTA);
    CHECK_STR(st.dsn, "5.2.2");
    CHECK(strstr(buf_cstr(&st.reason), "mailbox is full") != NULL);
    CHECK(strstr(buf_cstr(&st.reason), "800 of 1000 bytes") != NULL);
    CHECK_INT(count_in(dir, "new"), 2);
    CHECK_INT(count_in(dir, "tmp"), 0);
    /* Before refusing, a file of several change lines was checked
     * against the Maildir (recalculated). */
    read_quota_file(dir, &file);
    CHECK_STR(buf_cstr(&file), "1000S\n800 2\n");
    /* Exactly up to the limit fits. */
    buf_truncate(&msg, 199);
    buf_append_char(&msg, '\n');
    CHECK_INT(deliver(&opts, NULL, buf_cstr(&msg), 128, &st, NULL), STORE_OK);
    /* A raised limit rewrites the header with the recalculated usage. */
    opts.quota.bytes = 5000;
    opts.quota.count = 4;
    CHECK_INT(deliver(&opts, NULL, buf_cstr(&msg), 128, &st, NULL), STORE_OK);
    read_quota_file(dir, &file);
    CHECK_STR(buf_cstr(&file), "5000S,4C\n1000 3\n200 1\n");
    /* Now the message count limit (4) is reached. */
    CHECK_INT(deliver(&opts, NULL, "x\n", 128, &st, NULL), STORE_OVER_QUOTA);
    CHECK(strstr(buf_cstr(&st.reason), "4 of 4 messages") != NULL);
    buf_free(&file);
    buf_free(&msg);
    store_status_free(&st);
    scratch_remove(dir);
}

static void test_quota_recalculation(void)
{
    char *dir = scratch_dir();
    struct maildir_options opts = {.path = dir};
    struct store_status st;
    store_status_init(&st);
    struct buf file = BUF_INIT;
    /* Three messages of 6 bytes, one of them in a folder, one in cur/. */
    CHECK_INT(deliver(&opts, NULL, "12345\n", 64, &st, NULL), STORE_OK);
    opts.folder = "Sent";
    CHECK_INT(deliver(&opts, NULL, "12345\n", 64, &st, NULL), STORE_OK);
    opts.folder = NULL;
    struct buf final = BUF_INIT;
    CHECK_INT(deliver(&opts, NULL, "12345\n", 64, &st, &final), STORE_OK);
    char *cur = xasprintf("%s/cur/%s:2,S", dir, strrchr(final.data, '/') + 1);
    CHECK_INT(rename(final.data, cur), 0);
    long long bytes, count;
    CHECK_INT(maildir_quota_scan(dir, &bytes, &count, &st.reason), 0);
    CHECK_INT(bytes, 18);
    CHECK_INT(count, 3);
    /* No maildirsize yet: mode NONE does not create one. */
    read_quota_file(dir, &file);
    CHECK_STR(buf_cstr(&file), "(missing)");
    /* A broken file is recalculated (limits from its header kept). */
    char *qpath = path_join(dir, MAILDIR_QUOTA_FILE_NAME);
    CHECK_INT(write_whole(qpath, "100S\ngarbage\n"), 0);
    opts.quota.mode = MAILDIR_QUOTA_FROM_FILE;
    CHECK_INT(deliver(&opts, NULL, "12345\n", 64, &st, NULL), STORE_OK);
    read_quota_file(dir, &file);
    CHECK_STR(buf_cstr(&file), "100S\n18 3\n6 1\n");
    /* A stale over-quota verdict (several change lines) is rechecked
     * against the Maildir instead of bouncing. */
    CHECK_INT(write_whole(qpath, "100S\n50 1\n50 1\n"), 0);
    CHECK_INT(deliver(&opts, NULL, "12345\n", 64, &st, NULL), STORE_OK);
    read_quota_file(dir, &file);
    CHECK_STR(buf_cstr(&file), "100S\n24 4\n6 1\n");
    /* A fresh single-line verdict is trusted. */
    CHECK_INT(write_whole(qpath, "100S\n100 5\n"), 0);
    CHECK_INT(deliver(&opts, NULL, "12345\n", 64, &st, NULL), STORE_OVER_QUOTA);
    /* ... unless it is older than 15 minutes. */
    struct timespec old[2] = {{time(NULL) - 3600, 0}, {time(NULL) - 3600, 0}};
    CHECK_INT(utimensat(AT_FDCWD, qpath, old, 0), 0);
    CHECK_INT(deliver(&opts, NULL, "12345\n", 64, &st, NULL), STORE_OK);
    /* A file over 5120 bytes is recalculated. */
    struct buf big = BUF_INIT;
    buf_append_str(&big, "1000000S\n");
    while (big.len <= MAILDIR_QUOTA_MAX_FILE)
        buf_append_str(&big, "1 1\n");
    CHECK_INT(write_whole(qpath, buf_cstr(&big)), 0);
    CHECK_INT(deliver(&opts, NULL, "12345\n", 64, &st, NULL), STORE_OK);
    read_quota_file(dir, &file);
    CHECK_STR(buf_cstr(&file), "1000000S\n36 6\n6 1\n");
    /* FROM_FILE without a file: no quota, and no file is made. */
    unlink(qpath);
    CHECK_INT(deliver(&opts, NULL, "12345\n", 64, &st, NULL), STORE_OK);
    CHECK_INT(access(qpath, F_OK), -1);
    /* Mode NONE keeps an existing file current without enforcing it. */
    CHECK_INT(write_whole(qpath, "10S\n0 0\n"), 0);
    opts.quota.mode = MAILDIR_QUOTA_NONE;
    CHECK_INT(deliver(&opts, NULL, "12345\n", 64, &st, NULL), STORE_OK);
    read_quota_file(dir, &file);
    CHECK_STR(buf_cstr(&file), "10S\n0 0\n6 1\n");
    buf_free(&big);
    free(qpath);
    free(cur);
    buf_free(&final);
    buf_free(&file);
    store_status_free(&st);
    scratch_remove(dir);
}

static void test_status_errno_classes(void)
{
    struct store_status st;
    store_status_init(&st);
    store_status_errno(&st, ENOSPC, "maildir delivery failed: write %s", "/x");
    CHECK_INT(st.result, STORE_DEFER);
    CHECK_STR(st.dsn, "4.3.0");
    CHECK_STR(buf_cstr(&st.reason),
              "maildir delivery failed: write /x: No space left on device");
    store_status_errno(&st, EDQUOT, "w");
    CHECK_INT(st.result, STORE_BOUNCE);
    CHECK_STR(st.dsn, "5.2.2");
    store_status_errno(&st, EIO, "w");
    CHECK_INT(st.result, STORE_DEFER);
    CHECK_STR(st.dsn, "4.2.0");
    CHECK_STR(store_result_name(STORE_OVER_QUOTA), "over quota");
    store_status_free(&st);
}

int main(void)
{
    umask(022);
    UNIT_RUN(test_unique_names);
    UNIT_RUN(test_hostname_escape);
    UNIT_RUN(test_name_size);
    UNIT_RUN(test_deliver_content);
    UNIT_RUN(test_deliver_chunking_equal);
    UNIT_RUN(test_rapid_deliveries);
    UNIT_RUN(test_creates_parents_and_folders);
    UNIT_RUN(test_maildirfolder_symlink_not_followed);
    UNIT_RUN(test_abort_leaves_nothing);
    UNIT_RUN(test_size_limit);
    UNIT_RUN(test_unwritable_dir);
    UNIT_RUN(test_write_error_cleans_up);
    UNIT_RUN(test_quota_parse);
    UNIT_RUN(test_quota_accounting);
    UNIT_RUN(test_quota_recalculation);
    UNIT_RUN(test_status_errno_classes);
    return unit_summary();
}
