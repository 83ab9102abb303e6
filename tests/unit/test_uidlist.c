/* test_uidlist.c: dovecot-uidlist reading (strict, incremental),
 * writing (atomic replace, append), the dot lock with Dovecot's stale
 * rules, and the UIDVALIDITY counter shared with Dovecot. */
#include <errno.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>

#include "storage/uidlist.h"
#include "storage_util.h"
#include "unit.h"

/* What Dovecot 2.3.19 wrote after APPENDs and an EXPUNGE: the header's
 * N is stale (lines were appended after it) and UID 2 is expunged but
 * still listed. */
static const char dovecot_sample[] =
    "3 V1796677241 N1 G78320c03781e176be035000083ecc375\n"
    "1 :1796677240.M50390P13792.vm,S=35,W=40\n"
    "2 :1796677240.M53484P13792.vm,S=35,W=40\n"
    "4 W2481 S2400 :1796677240.M57431P13792.vm\n";

static void test_parse_dovecot_file(void)
{
    struct uidlist ul;
    uidlist_init(&ul);
    struct buf err = BUF_INIT;
    size_t used = 0;
    CHECK_INT(uidlist_parse(&ul, dovecot_sample, strlen(dovecot_sample),
                            &used, &err), 0);
    CHECK_INT(used, strlen(dovecot_sample));
    CHECK_INT(ul.version, 3);
    CHECK_INT(ul.uidvalidity, 1796677241u);
    CHECK_INT(ul.hdr_next_uid, 1);
    CHECK_INT(ul.next_uid, 5); /* last UID + 1 beats the stale N1 */
    CHECK_STR(ul.guid, "78320c03781e176be035000083ecc375");
    CHECK_INT(ul.count, 3);
    CHECK_INT(ul.recs[2].uid, 4);
    CHECK_STR(uidlist_rec_base(&ul, &ul.recs[2]),
              "1796677240.M57431P13792.vm");
    size_t len = 0;
    const char *w = uidlist_rec_ext(&ul, &ul.recs[2], 'W', &len);
    CHECK(w && len == 4 && memcmp(w, "2481", 4) == 0);
    CHECK(uidlist_rec_ext(&ul, &ul.recs[0], 'W', &len) == NULL);
    const struct uidlist_rec *rec =
        uidlist_find(&ul, "1796677240.M53484P13792.vm,S=35,W=40", 36);
    CHECK(rec && rec->uid == 2);
    CHECK(uidlist_find(&ul, "1796677240.M53484P13792.vm", 26) == NULL);
    CHECK(uidlist_find_uid(&ul, 4) == &ul.recs[2]);
    CHECK(uidlist_find_uid(&ul, 3) == NULL);
    CHECK(!ul.want_rewrite);
    buf_free(&err);
    uidlist_free(&ul);
}

static void test_parse_version1_and_info(void)
{
    struct uidlist ul;
    uidlist_init(&ul);
    struct buf err = BUF_INIT;
    const char *text = "1 1234 10\n3 1.M1P1.h:2,S\n7 2.M1P1.h\n";
    CHECK_INT(uidlist_parse(&ul, text, strlen(text), NULL, &err), 0);
    CHECK_INT(ul.version, 1);
    CHECK_INT(ul.uidvalidity, 1234);
    CHECK_INT(ul.next_uid, 10);
    CHECK_INT(ul.count, 2);
    CHECK_STR(uidlist_rec_base(&ul, &ul.recs[0]), "1.M1P1.h"); /* no :2,S */
    CHECK(ul.want_rewrite); /* old versions are rewritten as 3 */
    buf_free(&err);
    uidlist_free(&ul);
}

/* Each malformed text is reported with its line; the good records
 * before it stay. */
static void test_parse_malformed(void)
{
    static const struct {
        const char *text;
        size_t len; /* 0: strlen */
        size_t good;
        const char *why;
    } cases[] = {
        {"", 0, 0, NULL},
        {"2 V1 N1\n", 0, 0, "line 1: unsupported"},
        {"3 N5\n", 0, 0, "line 1: header without"},
        {"3 V0 N5\n", 0, 0, "line 1: invalid UIDVALIDITY"},
        {"3 V1 N99999999999\n", 0, 0, "line 1: invalid next UID"},
        {"3 V1 N2 Gxyz\n", 0, 0, "line 1: invalid mailbox GUID"},
        {"3 V1 N2\n1 :a\n1 :b\n", 0, 1, "line 3: UIDs not ascending"},
        {"3 V1 N2\n1 :a\n0 :b\n", 0, 1, "line 3: invalid UID"},
        {"3 V1 N2\n1 :a\n4294967295 :b\n", 0, 1, "line 3: invalid UID"},
        {"3 V1 N2\n1 :a\n2 W1\n", 0, 1, "line 3: no file name"},
        {"3 V1 N2\n1 :a\n2 :x/y\n", 0, 1, "line 3: invalid file name"},
        {"3 V1 N2\n1 :a\n2 :\n", 0, 1, "line 3: invalid file name"},
        {"3 V1 N2\n1 :a\n2 :..\n", 0, 1, "line 3: invalid file name"},
        {"3 V1 N2\n1 :a\n2 :b\rc\n", 0, 1, "line 3: control character"},
        {"3 V1 N2\n1 :a\n2 :b\0c\n", 20, 1, "line 3: NUL byte"},
        {"3 V1 N2\n1 :a\n-2 :b\n", 0, 1, "line 3: invalid UID"},
        {"3 V1 N2\n1 :a\n\n", 0, 1, "line 3: invalid UID"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct uidlist ul;
        uidlist_init(&ul);
        struct buf err = BUF_INIT;
        size_t len = cases[i].len ? cases[i].len : strlen(cases[i].text);
        int rc = uidlist_parse(&ul, cases[i].text, len, NULL, &err);
        if (cases[i].why == NULL) {
            CHECK_INT(rc, 0);
        } else {
            CHECK_INT(rc, -1);
            if (strncmp(buf_cstr(&err), cases[i].why,
                        strlen(cases[i].why)) != 0) {
                printf("#   case %zu: error \"%s\"\n", i, buf_cstr(&err));
                CHECK(0);
            }
        }
        CHECK_INT(ul.count, cases[i].good);
        buf_free(&err);
        uidlist_free(&ul);
    }
}

static void test_parse_partial_and_duplicates(void)
{
    struct uidlist ul;
    uidlist_init(&ul);
    struct buf err = BUF_INIT;
    /* a line still being appended is not judged yet */
    const char *text = "3 V7 N3 Xfuture\n1 :a\n5 :b\n6 :a\n7 :c";
    size_t used = 0;
    CHECK_INT(uidlist_parse(&ul, text, strlen(text), &used, &err), 0);
    CHECK_INT(used, strlen(text) - 4);
    CHECK_INT(ul.count, 2); /* the later "a" replaced the first */
    CHECK_INT(uidlist_find(&ul, "a", 1)->uid, 6);
    CHECK(ul.want_rewrite);
    CHECK_STR(ul.hdr_ext.data, "Xfuture"); /* unknown fields are kept */
    struct buf out = BUF_INIT;
    strcpy(ul.guid, "00112233445566778899aabbccddeeff");
    uidlist_format(&ul, &out);
    CHECK_STR(out.data, "3 V7 N7 G00112233445566778899aabbccddeeff Xfuture\n"
                        "5 :b\n6 :a\n");
    /* a line longer than the limit, even unterminated, is malformed */
    struct buf big = BUF_INIT;
    buf_append_str(&big, "3 V1 N1\n");
    for (int i = 0; i < UIDLIST_MAX_LINE + 10; i++)
        buf_append_char(&big, 'x');
    CHECK_INT(uidlist_parse(&ul, big.data, big.len, NULL, &err), -1);
    buf_free(&big);
    buf_free(&out);
    buf_free(&err);
    uidlist_free(&ul);
}

static void test_write_read_append(void)
{
    char *dir = scratch_dir();
    char path[512];
    snprintf(path, sizeof(path), "%s/dovecot-uidlist", dir);
    struct uidlist ul, reader;
    uidlist_init(&ul);
    uidlist_init(&reader);
    struct buf err = BUF_INIT;
    CHECK_INT(uidlist_read(&reader, path, &err), UIDLIST_MISSING);
    ul.uidvalidity = 42;
    uidlist_add(&ul, 1, "one", 3, NULL);
    uidlist_add(&ul, 2, "two", 3, "W100");
    CHECK_INT(uidlist_write(&ul, path, &err), 0);
    struct buf text = BUF_INIT;
    read_whole(path, &text);
    CHECK(strncmp(text.data, "3 V42 N3 G", 10) == 0);
    CHECK(strstr(text.data, "\n1 :one\n2 W100 :two\n") != NULL);
    CHECK_INT(uidlist_read(&reader, path, &err), UIDLIST_CHANGED);
    CHECK_INT(reader.count, 2);
    CHECK_INT(uidlist_read(&reader, path, &err), UIDLIST_UNCHANGED);

    /* appended lines are read incrementally */
    uidlist_add(&ul, 5, "five", 4, NULL);
    CHECK_INT(uidlist_append(&ul, path, 2, &err), 0);
    read_whole(path, &text);
    CHECK(str_has_suffix(text.data, "2 W100 :two\n5 :five\n"));
    CHECK_INT(uidlist_read(&reader, path, &err), UIDLIST_CHANGED);
    CHECK_INT(reader.count, 3);
    CHECK_INT(reader.next_uid, 6);
    CHECK(uidlist_find(&reader, "five", 4) != NULL);

    /* a partial line from a crashed writer: append rewrites instead */
    int fd = open(path, O_WRONLY | O_APPEND);
    CHECK(write(fd, "6 :hal", 6) == 6);
    close(fd);
    CHECK_INT(uidlist_read(&reader, path, &err), UIDLIST_CHANGED);
    CHECK_INT(reader.count, 3);
    uidlist_add(&reader, 7, "seven", 5, NULL);
    CHECK_INT(uidlist_append(&reader, path, 3, &err), 0);
    read_whole(path, &text);
    CHECK(strstr(text.data, ":hal") == NULL);
    CHECK(str_has_suffix(text.data, "5 :five\n7 :seven\n"));
    CHECK(strstr(text.data, "N8 ") != NULL);

    /* a replaced file is read whole again */
    CHECK_INT(uidlist_read(&ul, path, &err), UIDLIST_CHANGED);
    CHECK_INT(ul.count, 4);
    write_whole(path, "3 V42 N20\n9 :nine\n");
    CHECK_INT(uidlist_read(&ul, path, &err), UIDLIST_CHANGED);
    CHECK_INT(ul.count, 1);
    CHECK_INT(ul.next_uid, 20);

    /* malformed on disk: reported, the good part kept */
    char tmp[600];
    snprintf(tmp, sizeof(tmp), "%s.new", path);
    write_whole(tmp, "3 V42 N20\n9 :nine\nten :x\n");
    rename(tmp, path);
    buf_reset(&err);
    CHECK_INT(uidlist_read(&ul, path, &err), UIDLIST_MALFORMED);
    CHECK(strstr(err.data, "line 3: invalid UID") != NULL);
    CHECK_INT(ul.count, 1);
    write_whole(path, "junk");
    CHECK_INT(uidlist_read(&ul, path, &err), UIDLIST_CHANGED);
    CHECK_INT(ul.count, 0);
    CHECK_INT(ul.uidvalidity, 0);
    buf_free(&text);
    buf_free(&err);
    uidlist_free(&ul);
    uidlist_free(&reader);
    scratch_remove(dir);
}

static void set_age(const char *path, int seconds)
{
    struct timeval times[2];
    gettimeofday(&times[0], NULL);
    times[0].tv_sec -= seconds;
    times[1] = times[0];
    utimes(path, times);
}

static void test_lock(void)
{
    char *dir = scratch_dir();
    char lock_path[512], host[256] = "";
    snprintf(lock_path, sizeof(lock_path), "%s/dovecot-uidlist.lock", dir);
    gethostname(host, sizeof(host) - 1);
    struct buf err = BUF_INIT, text = BUF_INIT;
    struct uidlist_lock a, b;
    CHECK_INT(uidlist_lock_take(dir, 0, &a, &err), 1);
    read_whole(lock_path, &text);
    char expect[300];
    snprintf(expect, sizeof(expect), "%ld:%s", (long)getpid(), host);
    CHECK_STR(text.data, expect);
    CHECK_INT(uidlist_lock_take(dir, 0, &b, &err), 0);
    CHECK_INT(uidlist_lock_take(dir, 30, &b, &err), 0); /* waits, then busy */
    uidlist_lock_release(&a);
    CHECK(access(lock_path, F_OK) < 0);

    /* a lock of a process that is gone, older than 2 s: taken over */
    pid_t child = fork();
    if (child == 0)
        _exit(0);
    waitpid(child, NULL, 0);
    snprintf(expect, sizeof(expect), "%ld:%s", (long)child, host);
    write_whole(lock_path, expect);
    set_age(lock_path, 5);
    CHECK_INT(uidlist_lock_take(dir, 0, &a, &err), 1);
    uidlist_lock_release(&a);

    /* the same but fresh (under 2 s): Dovecot waits, so do we */
    write_whole(lock_path, expect);
    CHECK_INT(uidlist_lock_take(dir, 0, &a, &err), 0);
    /* a live process's lock, or another host's, is respected ... */
    write_whole(lock_path, "1:otherhost");
    set_age(lock_path, 60);
    CHECK_INT(uidlist_lock_take(dir, 0, &a, &err), 0);
    /* ... until nothing changed for 120 s */
    CHECK(!uidlist_lock_is_stale(dir, time(NULL) + 100));
    CHECK(uidlist_lock_is_stale(dir, time(NULL) + 200));
    unlink(lock_path);
    CHECK_INT(uidlist_lock_take(dir, 0, &a, &err), 1);
    /* a takeover by someone else is not undone by our release */
    char other[600];
    snprintf(other, sizeof(other), "%s.other", lock_path);
    write_whole(other, "1:otherhost");
    rename(other, lock_path);
    uidlist_lock_release(&a);
    CHECK(access(lock_path, F_OK) == 0);
    buf_free(&err);
    buf_free(&text);
    scratch_remove(dir);
}

static void test_uidvalidity_counter(void)
{
    char *dir = scratch_dir();
    uint32_t now = (uint32_t)time(NULL);
    uint32_t first = uidlist_uidvalidity_next(dir);
    CHECK(first >= now && first <= now + 5);
    CHECK_INT(uidlist_uidvalidity_next(dir), first + 1);
    scratch_remove(dir);

    /* Dovecot's files, as it left them: we continue its counter */
    dir = scratch_dir();
    char path[512];
    snprintf(path, sizeof(path), "%s/dovecot-uidvalidity", dir);
    write_whole(path, "6b171e79");
    snprintf(path, sizeof(path), "%s/dovecot-uidvalidity.6b171e79", dir);
    write_whole(path, "");
    CHECK_INT(uidlist_uidvalidity_next(dir), 0x6b171e7au);
    snprintf(path, sizeof(path), "%s/dovecot-uidvalidity.6b171e7a", dir);
    CHECK(access(path, F_OK) == 0);
    struct buf text = BUF_INIT;
    snprintf(path, sizeof(path), "%s/dovecot-uidvalidity", dir);
    read_whole(path, &text);
    CHECK_STR(text.data, "6b171e7a");
    /* a broken cache file: the rescan of the .<hex> files still works */
    write_whole(path, "zz");
    CHECK_INT(uidlist_uidvalidity_next(dir), 0x6b171e7bu);
    buf_free(&text);
    scratch_remove(dir);
}

int main(void)
{
    UNIT_RUN(test_parse_dovecot_file);
    UNIT_RUN(test_parse_version1_and_info);
    UNIT_RUN(test_parse_malformed);
    UNIT_RUN(test_parse_partial_and_duplicates);
    UNIT_RUN(test_write_read_append);
    UNIT_RUN(test_lock);
    UNIT_RUN(test_uidvalidity_counter);
    return unit_summary();
}
