/* test_queue_list.c: unit tests for lib/queue/queue_list's JSON string quoting
 * (postqueue -j must print valid JSON whatever bytes a queue file holds)
 * and for listing an empty queue. */
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/buf.h"
#include "queue/queue_list.h"
#include "unit.h"

static const char *quoted(struct buf *out, const char *text)
{
    buf_reset(out);
    queue_list_json_quote(out, text);
    return buf_cstr(out);
}

static void test_escapes(void)
{
    struct buf out = BUF_INIT;
    CHECK_STR(quoted(&out, "plain@example.com"), "plain@example.com");
    CHECK_STR(quoted(&out, "a\"b\\c"), "a\\\"b\\\\c");
    CHECK_STR(quoted(&out, "tab\there\nnl\x7f"),
              "tab\\u0009here\\u000anl\\u007f");
    CHECK_STR(quoted(&out, ""), "");
    buf_free(&out);
}

static void test_utf8(void)
{
    struct buf out = BUF_INIT;
    /* Valid UTF-8 passes through: 2, 3 and 4 byte sequences. */
    CHECK_STR(quoted(&out, "j\xc3\xb6rg@\xe4\xbe\x8b.\xf0\x9f\x93\xa7"),
              "j\xc3\xb6rg@\xe4\xbe\x8b.\xf0\x9f\x93\xa7");
    /* Invalid: a lone continuation byte, a truncated sequence, an
     * overlong encoding, a surrogate, a code point above U+10FFFF. */
    CHECK_STR(quoted(&out, "a\x80z"), "a?z");
    CHECK_STR(quoted(&out, "a\xc3"), "a?");
    CHECK_STR(quoted(&out, "\xc0\xafx"), "??x");
    CHECK_STR(quoted(&out, "\xed\xa0\x80"), "???");
    CHECK_STR(quoted(&out, "\xf4\x90\x80\x80"), "????");
    CHECK_STR(quoted(&out, "\xff"), "?");
    buf_free(&out);
}

/* An empty queue lists as empty. (It once passed NULL to qsort, which
 * the sanitizer build reports as undefined behaviour.) */
static void test_empty_queue(void)
{
    char root[] = "/tmp/test_queue_list.XXXXXX";
    CHECK(mkdtemp(root) != NULL);
    static const char *const names[] = {"incoming", "active", "deferred",
                                        "hold"};
    struct buf path = BUF_INIT, err = BUF_INIT;
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        buf_reset(&path);
        buf_appendf(&path, "%s/%s", root, names[i]);
        CHECK(mkdir(buf_cstr(&path), 0700) == 0);
    }
    char *text = NULL;
    size_t text_len = 0;
    FILE *out = open_memstream(&text, &text_len);
    CHECK(out != NULL);
    CHECK_INT(queue_list(root, QUEUE_LIST_TEXT, "MAILER-DAEMON", out, &err), 0);
    CHECK_INT(queue_list(root, QUEUE_LIST_JSON, "MAILER-DAEMON", out, &err), 0);
    fclose(out);
    CHECK_STR(text, "Mail queue is empty\n");
    free(text);
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        buf_reset(&path);
        buf_appendf(&path, "%s/%s", root, names[i]);
        rmdir(buf_cstr(&path));
    }
    rmdir(root);
    buf_free(&path);
    buf_free(&err);
}

int main(void)
{
    UNIT_RUN(test_escapes);
    UNIT_RUN(test_utf8);
    UNIT_RUN(test_empty_queue);
    return unit_summary();
}
