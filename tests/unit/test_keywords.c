/* test_keywords.c: dovecot-keywords reading (lenient as Dovecot, but
 * only valid IMAP atoms kept), lookups, adding, and the atomic write
 * whose mtime always moves forward. */
#include <sys/stat.h>

#include "storage/keywords.h"
#include "storage_util.h"
#include "unit.h"

static void test_parse(void)
{
    struct keywords kw;
    keywords_init(&kw);
    const char *text = "0 $Label1\n1 Junk\n"
                       "nospace\n"        /* skipped */
                       "26 TooHigh\n"     /* skipped: only a..z */
                       "2 bad name\n"     /* skipped: not an atom */
                       "3 junk\n"         /* skipped: Junk again */
                       "1 Again\n"        /* skipped: index 1 again */
                       "4 (paren\n"       /* skipped */
                       "5 \\Seen\n"       /* skipped: a system flag */
                       "x1 NotANumber\n"  /* skipped */
                       "25 $Last\r\n"     /* CR LF is fine */
                       "7 NoNewline";
    unsigned skipped = 0;
    keywords_parse(&kw, text, strlen(text), &skipped);
    CHECK_INT(skipped, 8);
    CHECK_STR(keywords_name(&kw, 0), "$Label1");
    CHECK_STR(keywords_name(&kw, 1), "Junk");
    CHECK_STR(keywords_name(&kw, 25), "$Last");
    CHECK_STR(keywords_name(&kw, 7), "NoNewline");
    CHECK(keywords_name(&kw, 2) == NULL);
    CHECK(keywords_name(&kw, 26) == NULL);
    CHECK_INT(keywords_lookup(&kw, "JUNK", 4), 1);
    CHECK_INT(keywords_lookup(&kw, "Junky", 5), -1);
    CHECK_INT(keywords_lookup_or_add(&kw, "NonJunk", 7), 2);
    CHECK_INT(keywords_lookup_or_add(&kw, "nonjunk", 7), 2);
    CHECK_INT(keywords_lookup_or_add(&kw, "bad]", 4), -1);
    struct buf out = BUF_INIT;
    keywords_format(&kw, &out);
    CHECK_STR(out.data,
              "0 $Label1\n1 Junk\n2 NonJunk\n7 NoNewline\n25 $Last\n");
    buf_free(&out);
    keywords_free(&kw);
}

static void test_full(void)
{
    struct keywords kw;
    keywords_init(&kw);
    char name[16];
    for (int i = 0; i < KEYWORDS_MAX; i++) {
        snprintf(name, sizeof(name), "k%d", i);
        CHECK_INT(keywords_lookup_or_add(&kw, name, strlen(name)), i);
    }
    CHECK_INT(keywords_lookup_or_add(&kw, "one-more", 8), -1);
    CHECK_INT(keywords_lookup_or_add(&kw, "k3", 2), 3);
    keywords_free(&kw);
}

static void test_read_write(void)
{
    char *dir = scratch_dir();
    char path[512];
    snprintf(path, sizeof(path), "%s/dovecot-keywords", dir);
    struct keywords kw, other;
    keywords_init(&kw);
    keywords_init(&other);
    struct buf err = BUF_INIT, text = BUF_INIT;
    CHECK_INT(keywords_read(&kw, path, &err), KEYWORDS_UNCHANGED);
    CHECK_INT(keywords_lookup_or_add(&kw, "$Forwarded", 10), 0);
    CHECK_INT(keywords_write(&kw, path, &err), 0);
    read_whole(path, &text);
    CHECK_STR(text.data, "0 $Forwarded\n");
    char lock[600];
    snprintf(lock, sizeof(lock), "%s.lock", path);
    CHECK(access(lock, F_OK) < 0);
    CHECK_INT(keywords_read(&other, path, &err), KEYWORDS_CHANGED);
    CHECK_STR(keywords_name(&other, 0), "$Forwarded");
    CHECK_INT(keywords_read(&other, path, &err), KEYWORDS_UNCHANGED);

    /* a second write in the same second still moves the mtime on */
    struct stat before, after;
    stat(path, &before);
    CHECK_INT(keywords_lookup_or_add(&kw, "Work", 4), 1);
    CHECK_INT(keywords_write(&kw, path, &err), 0);
    stat(path, &after);
    CHECK(after.st_mtime > before.st_mtime);
    CHECK_INT(keywords_read(&other, path, &err), KEYWORDS_CHANGED);
    CHECK_STR(keywords_name(&other, 1), "Work");

    unlink(path);
    CHECK_INT(keywords_read(&other, path, &err), KEYWORDS_MISSING);
    CHECK(keywords_name(&other, 0) == NULL);
    buf_free(&err);
    buf_free(&text);
    keywords_free(&kw);
    keywords_free(&other);
    scratch_remove(dir);
}

int main(void)
{
    UNIT_RUN(test_parse);
    UNIT_RUN(test_full);
    UNIT_RUN(test_read_write);
    return unit_summary();
}
