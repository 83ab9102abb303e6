/* test_dict.c: unit tests for lib/tables/dict (every table type, the three
 * outcomes, case folding, pattern syntax, cidr, writes, reload). */
#include "unit.h"

#include <fcntl.h>
#include <stdarg.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include "base/buf.h"
#include "tables/dict.h"
#include "base/log.h"
#include "base/mem.h"

static char tmpdir[256];

static char *tmp_path(const char *name)
{
    return xasprintf("%s/%s", tmpdir, name);
}

static void write_file(const char *path, const char *text)
{
    FILE *fp = fopen(path, "w");
    fputs(text, fp);
    fclose(fp);
}

/* Looks key up; returns the result and leaves the value in *out. */
static enum dict_result look(struct dict *d, const char *key, struct buf *out)
{
    buf_reset(out);
    return dict_lookup(d, key, out);
}

#define CHECK_FOUND(d, key, expected)                                       \
    do {                                                                    \
        struct buf value_ = BUF_INIT;                                       \
        CHECK_INT(look((d), (key), &value_), DICT_FOUND);                   \
        CHECK_STR(buf_cstr(&value_), (expected));                           \
        buf_free(&value_);                                                  \
    } while (0)

#define CHECK_RESULT(d, key, expected)                                      \
    do {                                                                    \
        struct buf value_ = BUF_INIT;                                       \
        CHECK_INT(look((d), (key), &value_), (expected));                   \
        buf_free(&value_);                                                  \
    } while (0)

/* Opens a text table from memory, failing the case when it does not. */
static struct dict *text_table(const char *type, const char *text, int flags)
{
    struct buf err = BUF_INIT;
    struct dict *d = dict_open_text(type, "test", text, strlen(text), flags, &err);
    if (d == NULL)
        printf("#   %s table failed: %s\n", type, buf_cstr(&err));
    buf_free(&err);
    return d;
}

/* Expects a text table to be refused with a message containing `why`. */
static int text_table_fails(const char *type, const char *text, int flags,
                            const char *why)
{
    struct buf err = BUF_INIT;
    struct dict *d = dict_open_text(type, "test", text, strlen(text), flags, &err);
    int ok = d == NULL && strstr(buf_cstr(&err), why) != NULL;
    if (!ok)
        printf("#   %s: expected error \"%s\", got \"%s\"\n", type, why,
               buf_cstr(&err));
    dict_close(d);
    buf_free(&err);
    return ok;
}

static void test_static_inline_fail(void)
{
    struct buf err = BUF_INIT;
    struct dict *d = dict_open("static:OK", 0, &err);
    CHECK(d != NULL);
    CHECK_FOUND(d, "anything", "OK");
    dict_close(d);

    d = dict_open("static:{ two words }", 0, &err);
    CHECK_FOUND(d, "x", "two words");
    dict_close(d);

    d = dict_open("inline:{ a=1, B=2 , { c = three words } }", 0, &err);
    CHECK(d != NULL);
    CHECK_FOUND(d, "a", "1");
    CHECK_FOUND(d, "b", "2");
    CHECK_FOUND(d, "A", "1"); /* folded */
    CHECK_FOUND(d, "c", "three words");
    CHECK_RESULT(d, "d", DICT_NOTFOUND);
    dict_close(d);

    CHECK(dict_open("inline:{ a }", 0, &err) == NULL);
    CHECK(strstr(err.data, "missing '='") != NULL);
    CHECK(dict_open("inline:a=b", 0, &err) == NULL);
    CHECK(dict_open("nosuch:x", 0, &err) == NULL);
    CHECK(strstr(err.data, "unsupported table type") != NULL);
    CHECK(dict_open("hash", 0, &err) == NULL);

    d = dict_open("fail:test", 0, &err);
    CHECK(d != NULL);
    CHECK_RESULT(d, "x", DICT_ERROR);
    CHECK(strstr(dict_last_error(d), "configured to fail") != NULL);
    dict_close(d);
    buf_free(&err);
}

static void test_texthash(void)
{
    char *path = tmp_path("texthash");
    write_file(path, "# comment\n"
                     "Alice   alice@example.com\n"
                     "\n"
                     "bob bob@example.com,\n"
                     "    bob2@example.com\n"
                     "  # indented comment\n"
                     "alice duplicate-ignored\n");
    char *spec = xasprintf("texthash:%s", path);
    struct buf err = BUF_INIT;
    struct dict *d = dict_open(spec, 0, &err);
    CHECK(d != NULL);
    CHECK_FOUND(d, "alice", "alice@example.com");
    CHECK_FOUND(d, "ALICE", "alice@example.com");
    CHECK_FOUND(d, "bob", "bob@example.com,    bob2@example.com");
    CHECK_RESULT(d, "carol", DICT_NOTFOUND);
    dict_close(d);

    /* Without folding the upper-case key stays as written. */
    d = dict_open(spec, DICT_FLAG_NO_FOLD, &err);
    CHECK_FOUND(d, "Alice", "alice@example.com");
    CHECK_RESULT(d, "alice", DICT_FOUND); /* the duplicate line */
    dict_close(d);

    /* A malformed line: strict open names file and line; a normal open
     * gives a table that answers DICT_ERROR. */
    write_file(path, "ok value\nkeyonly\n");
    CHECK(dict_open(spec, DICT_FLAG_STRICT, &err) == NULL);
    char *where = xasprintf("%s, line 2:", path);
    CHECK(strstr(err.data, where) != NULL);
    d = dict_open(spec, 0, &err);
    CHECK(d != NULL);
    CHECK(strstr(err.data, where) != NULL);
    CHECK_RESULT(d, "ok", DICT_ERROR);
    /* Fixing the file makes the table work again. */
    write_file(path, "ok value\nkeyonly now-fixed\n");
    CHECK_FOUND(d, "keyonly", "now-fixed");
    dict_close(d);
    free(where);
    free(spec);
    free(path);
    buf_free(&err);
}

static void test_quoted_keys(void)
{
    /* Postfix 3.2: a key in double quotes may hold whitespace. */
    char *path = tmp_path("quoted");
    write_file(path, "\"with space\"   one\n"
                     "\"say \\\"hi\\\" \\\\ ok\" two\n"
                     "\"\tindented\"\tthree\n"
                     "plain\"quote four\n");
    char *spec = xasprintf("texthash:%s", path);
    struct buf err = BUF_INIT;
    struct dict *d = dict_open(spec, DICT_FLAG_STRICT, &err);
    CHECK(d != NULL);
    CHECK_FOUND(d, "with space", "one");
    CHECK_FOUND(d, "say \"hi\" \\ ok", "two");
    CHECK_FOUND(d, "\tindented", "three");
    CHECK_FOUND(d, "plain\"quote", "four");
    dict_close(d);
    const char *bad[] = {"\"no end quote\n", "\"glued\"value x\n",
                         "\"no value\"\n", "\"no value\"   \n"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
        write_file(path, bad[i]);
        buf_reset(&err);
        CHECK(dict_open(spec, DICT_FLAG_STRICT, &err) == NULL);
        CHECK(strstr(buf_cstr(&err), "line 1: expected format") != NULL);
    }
    free(spec);
    free(path);
    buf_free(&err);
}

static int collect_entry(void *ctx, const char *key, const char *value,
                         int line, struct buf *err)
{
    buf_appendf(ctx, "[%s|%s|%d]", key, value, line);
    return 0;
}

/* fuzz/corpus/table_text/empty-quoted-key: "" is no empty key but the
 * two-character key "", as Postfix's postmap stores it. */
static void test_empty_quoted_key(void)
{
    struct buf err = BUF_INIT, seen = BUF_INIT;
    const char text[] = "\"\" e\n\"\"\tf\n\"\\\"\" g\n";
    CHECK_INT(dict_text_parse("t", text, strlen(text), collect_entry, &seen,
                              &err),
              0);
    CHECK_STR(buf_cstr(&seen), "[\"\"|e|1][\"\"|f|2][\"|g|3]");
    struct dict *d =
        dict_open_text("texthash", "t", text, strlen(text), 0, &err);
    CHECK(d != NULL);
    CHECK_FOUND(d, "\"\"", "e");
    CHECK_RESULT(d, "", DICT_NOTFOUND);
    dict_close(d);
    const char *bad[] = {"\"\"\n", "\"\"x y\n", "\"\"   \n"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
        buf_reset(&err);
        CHECK_INT(dict_text_parse("t", bad[i], strlen(bad[i]), collect_entry,
                                  &seen, &err),
                  -1);
        CHECK_STR(buf_cstr(&err), "t, line 1: expected format: key "
                                  "whitespace value");
    }
    buf_free(&err);
    buf_free(&seen);
}

static void test_missing_and_unreadable(void)
{
    const char *types[] = {"hash", "btree", "lmdb", "regexp", "pcre", "cidr",
                           "texthash"};
    for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
        char *spec = xasprintf("%s:%s/does-not-exist", types[i], tmpdir);
        struct buf err = BUF_INIT;
        struct dict *d = dict_open(spec, 0, &err);
        CHECK(d != NULL);
        CHECK(err.len > 0);
        CHECK_RESULT(d, "key", DICT_ERROR);
        dict_close(d);
        CHECK(dict_open(spec, DICT_FLAG_STRICT, &err) == NULL);
        free(spec);
        buf_free(&err);
    }
    /* A corrupt database file is a lookup error, not "not found". */
    char *path = tmp_path("corrupt.db");
    write_file(path, "this is not a Berkeley DB file, not at all, no.\n");
    char *spec = xasprintf("hash:%s/corrupt", tmpdir);
    struct dict *d = dict_open(spec, 0, NULL);
    CHECK_RESULT(d, "key", DICT_ERROR);
    dict_close(d);
    free(spec);
    free(path);
    path = tmp_path("corrupt.lmdb");
    write_file(path, "garbage garbage garbage\n");
    spec = xasprintf("lmdb:%s/corrupt", tmpdir);
    d = dict_open(spec, 0, NULL);
    CHECK_RESULT(d, "key", DICT_ERROR);
    dict_close(d);
    free(spec);
    free(path);
    /* Unreadable file (meaningless as root, who reads everything). */
    if (geteuid() != 0) {
        path = tmp_path("secret");
        write_file(path, "/x/ y\n");
        chmod(path, 0);
        spec = xasprintf("regexp:%s", path);
        d = dict_open(spec, 0, NULL);
        CHECK_RESULT(d, "x", DICT_ERROR);
        dict_close(d);
        free(spec);
        free(path);
    }
}

static void test_regexp(void)
{
    struct dict *d = text_table("regexp",
        "/^(.*)@example\\.com$/   local:$1\n"
        "/^postmaster@/           ${0}-whole\n"
        "/^CaSe$/i                sensitive\n"
        "/^dollar$/               cost $$5 and $ alone\n"
        "!/\\./                   no-dot\n"
        "if /^user-/\n"
        "/-admin$/              admin\n"
        "if !/-x/\n"
        "/^user-(a|b)(c)?\\.$/   user $1[$2]\n"
        "endif\n"
        "endif\n"
        "#/ignored/ comment\n"
        "%^a/pi\\.pe$%            delimiter-ok\n"
        "/multi/ first part\n"
        "   second part\n",
        0);
    CHECK(d != NULL);
    if (d == NULL)
        return;
    CHECK_FOUND(d, "joe@example.com", "local:joe");
    CHECK_FOUND(d, "JOE@EXAMPLE.COM", "local:JOE"); /* case-insensitive */
    CHECK_FOUND(d, "postmaster@x.org", "postmaster@-whole");
    CHECK_FOUND(d, "case", "no-dot"); /* 'i' is a toggle */
    CHECK_FOUND(d, "CaSe", "sensitive");
    CHECK_RESULT(d, "CASE", DICT_FOUND); /* no dot -> "no-dot" */
    CHECK_FOUND(d, "CASE", "no-dot");
    CHECK_FOUND(d, "dollar", "cost $5 and $ alone");
    CHECK_FOUND(d, "user-b.q-admin", "admin");
    CHECK_FOUND(d, "user-a.", "user a[]"); /* "." keeps it from no-dot */
    CHECK_RESULT(d, "user-x.a.", DICT_NOTFOUND);
    CHECK_FOUND(d, "user-ac", "no-dot");
    CHECK(text_table_fails("regexp", "if /a/\n  /b/ c\nendif\n", 0,
                           "line 1: text after if"));
    CHECK_RESULT(d, "other.example", DICT_NOTFOUND);
    CHECK_FOUND(d, "a/pi.pe", "delimiter-ok");
    CHECK_FOUND(d, "multi.", "first part   second part");
    dict_close(d);

    /* Syntax errors name the line. */
    CHECK(text_table_fails("regexp", "/a/ x\n/(b/ y\n", 0, "test, line 2: bad pattern"));
    CHECK(text_table_fails("regexp", "/a(b)/ $2\n", 0, "test, line 1: substitution $2 is out of range"));
    CHECK(text_table_fails("regexp", "/a/ x\nif /b/\n/c/ d\n", 0, "test, line 2: if without endif"));
    CHECK(text_table_fails("regexp", "/a/ x\nendif\n", 0, "test, line 2: endif without if"));
    CHECK(text_table_fails("regexp", "/a/q x\n", 0, "unknown regexp flag 'q'"));
    CHECK(text_table_fails("regexp", "/a\\++++++++++++++++++++++++++++++++++++/ x\n", 0,
                           "repetition operators"));
    d = text_table("regexp", "/[+*?]+x{2}?\\+\\+\\+/ ok\n", 0);
    CHECK(d != NULL);
    CHECK_FOUND(d, "*xx+++", "ok");
    dict_close(d);
    CHECK(text_table_fails("regexp", "/abc x\n", 0, "missing closing '/'"));
    CHECK(text_table_fails("regexp", "abc x\n", 0, "expected /pattern/"));
    CHECK(text_table_fails("regexp", "!/(a)/ $1\n", 0, "negated pattern"));
    CHECK(text_table_fails("regexp", "/(a)/ $name\n", 0, "non-numeric"));
    /* Tables whose results become paths or commands refuse $N. */
    CHECK(text_table_fails("regexp", "/(.*)/ /var/mail/${1}\n",
                           DICT_FLAG_NO_REGSUB, "not allowed"));
    d = text_table("regexp", "/(.*)/ /var/mail/fixed $$\n", DICT_FLAG_NO_REGSUB);
    CHECK(d != NULL);
    dict_close(d);
    /* A NUL byte in the text is refused, not silently cut. */
    struct buf err = BUF_INIT;
    CHECK(dict_open_text("regexp", "test", "/a/ b\n/c/ \0d\n", 13, 0, &err) == NULL);
    CHECK(strstr(buf_cstr(&err), "line 2: NUL byte") != NULL);
    buf_free(&err);
}

static void test_pcre(void)
{
    struct dict *d = text_table("pcre",
        "/^(?<user>[^@]+)@(example\\.(com|org))$/  $1 at ${2}\n"
        "/^Exact$/i                               exact\n"
        "/^a.b$/s                                 dotall\n"
        "/^y$/E                                   endonly\n"
        "/^(a+?)(a*)$/U                           [$1][$2]\n"
        "/ s p a c e d /x                         extended\n"
        "/start/A                                 anchored\n"
        "/^opt(ional)?$/                          opt[$1]\n"
        "if !/^skip/\n"
        "/^(\\d+)$/                               number $1\n"
        "endif\n"
        "/^X$/X                                   extra-ignored\n",
        0);
    CHECK(d != NULL);
    if (d == NULL)
        return;
    CHECK_FOUND(d, "Joe@Example.COM", "Joe at Example.COM");
    CHECK_FOUND(d, "Exact", "exact");
    CHECK_RESULT(d, "exact", DICT_NOTFOUND);
    CHECK_FOUND(d, "a\nb", "dotall");
    CHECK_FOUND(d, "y", "endonly");
    CHECK_RESULT(d, "y\n", DICT_NOTFOUND);
    CHECK_FOUND(d, "aaa", "[aaa][]"); /* U inverts greediness */
    CHECK_FOUND(d, "spaced", "extended");
    CHECK_FOUND(d, "start-here", "anchored");
    CHECK_RESULT(d, "not-start", DICT_NOTFOUND);
    CHECK_FOUND(d, "opt", "opt[]");
    CHECK_FOUND(d, "12345", "number 12345");
    CHECK_FOUND(d, "x", "extra-ignored");
    dict_close(d);

    CHECK(text_table_fails("pcre", "/a/ x\n/(?<bad/ y\n", 0, "test, line 2: bad pattern"));
    CHECK(text_table_fails("pcre", "/a/Z x\n", 0, "unknown pcre flag 'Z'"));
    CHECK(text_table_fails("pcre", "/(a)/ $3\n", 0, "out of range"));
    CHECK(text_table_fails("pcre", "/(a)/ $1\n", DICT_FLAG_NO_REGSUB, "not allowed"));

    /* Catastrophic backtracking is a temporary error, never "no match". */
    d = text_table("pcre", "/^(a+)+$/ slow\n", 0);
    char subject[64];
    memset(subject, 'a', 40);
    subject[40] = 'b';
    subject[41] = 0;
    CHECK_RESULT(d, subject, DICT_ERROR);
    dict_close(d);
}

static void test_cidr(void)
{
    struct dict *d = text_table("cidr",
        "192.168.1.1          host\n"
        "192.168.0.0/16       private-v4\n"
        "[2001:db8::1]        host6\n"
        "2001:db8::/32        doc-v6\n"
        "if 10.0.0.0/8\n"
        "10.1.0.0/16          ten-one\n"
        "!10.2.0.0/16         ten-not-two\n"
        "endif\n"
        "0.0.0.0/0            any-v4\n",
        0);
    CHECK(d != NULL);
    if (d == NULL)
        return;
    CHECK_FOUND(d, "192.168.1.1", "host");
    CHECK_FOUND(d, "192.168.7.9", "private-v4");
    CHECK_FOUND(d, "2001:db8::1", "host6");
    CHECK_FOUND(d, "2001:DB8:0:0::99", "doc-v6");
    CHECK_FOUND(d, "10.1.2.3", "ten-one");
    CHECK_FOUND(d, "10.3.0.1", "ten-not-two");
    CHECK_FOUND(d, "10.2.0.1", "any-v4");
    CHECK_FOUND(d, "8.8.8.8", "any-v4");
    CHECK_RESULT(d, "2001:db9::1", DICT_NOTFOUND);
    CHECK_RESULT(d, "::ffff:192.168.1.1", DICT_NOTFOUND);
    CHECK_RESULT(d, "not-an-address", DICT_NOTFOUND);
    CHECK_RESULT(d, "", DICT_NOTFOUND);
    dict_close(d);

    CHECK(text_table_fails("cidr", "1.2.3.4/24 x\n", 0, "perhaps you should use \"1.2.3.0/24\""));
    CHECK(text_table_fails("cidr", "1.2.3.0/33 x\n", 0, "longer than 32"));
    CHECK(text_table_fails("cidr", "1.2.3.0/24\n", 0, "line 1: no result"));
    CHECK(text_table_fails("cidr", "a.b.c.d x\n", 0, "bad address"));
    CHECK(text_table_fails("cidr", "if 1.0.0.0/8\n", 0, "if without endif"));
    CHECK(text_table_fails("cidr", "::/0 a\n1.2.3.0/x y\n", 0, "line 2: bad network mask"));
}

/* Builds type:name with entries (NULL-terminated key, value pairs). */
static int build_table(const char *spec, int flags, ...)
{
    struct buf err = BUF_INIT;
    struct dict *d = dict_open(spec, DICT_FLAG_CREATE | flags, &err);
    if (d == NULL) {
        printf("#   create %s: %s\n", spec, buf_cstr(&err));
        buf_free(&err);
        return -1;
    }
    va_list ap;
    va_start(ap, flags);
    const char *key;
    while ((key = va_arg(ap, const char *)) != NULL) {
        const char *value = va_arg(ap, const char *);
        dict_put(d, key, value, &err);
    }
    va_end(ap);
    int status = dict_commit(d, &err);
    if (status < 0)
        printf("#   commit %s: %s\n", spec, buf_cstr(&err));
    dict_close(d);
    buf_free(&err);
    return status;
}

struct collected {
    struct buf text;
};

static int collect(void *ctx, const char *key, const char *value)
{
    struct collected *c = ctx;
    buf_appendf(&c->text, "%s=%s;", key, value);
    return 0;
}

static void indexed_roundtrip(const char *type)
{
    char *spec = xasprintf("%s:%s/%s-table", type, tmpdir, type);
    CHECK_INT(build_table(spec, 0, "Alice", "alice@example.com", "bob",
                          "bob@example.com", "alice", "dup-ignored", NULL),
              0);
    struct buf err = BUF_INIT;
    struct dict *d = dict_open(spec, 0, &err);
    CHECK(d != NULL && err.len == 0);
    CHECK_FOUND(d, "alice", "alice@example.com");
    CHECK_FOUND(d, "ALICE", "alice@example.com");
    CHECK_FOUND(d, "bob", "bob@example.com");
    CHECK_RESULT(d, "carol", DICT_NOTFOUND);
    struct collected c = {BUF_INIT};
    CHECK_INT(dict_iterate(d, collect, &c, &err), 0);
    CHECK(strstr(buf_cstr(&c.text), "alice=alice@example.com;") != NULL);
    CHECK(strstr(buf_cstr(&c.text), "bob=bob@example.com;") != NULL);
    buf_free(&c.text);

    /* Update a copy (postmap -i / -d); the open reader sees the change
     * on its next lookup because the file was replaced. */
    struct dict *w = dict_open(spec, DICT_FLAG_WRITE | DICT_FLAG_DUP_REPLACE, &err);
    CHECK(w != NULL);
    if (w) {
        CHECK_INT(dict_put(w, "carol", "carol@example.com", &err), 0);
        CHECK_INT(dict_put(w, "bob", "bob@new.example", &err), 0);
        CHECK_INT(dict_delete(w, "ALICE", &err), 0);
        CHECK_INT(dict_delete(w, "nobody", &err), 1);
        CHECK_FOUND(d, "alice", "alice@example.com"); /* not yet */
        CHECK_INT(dict_commit(w, &err), 0);
        dict_close(w);
    }
    CHECK_FOUND(d, "carol", "carol@example.com");
    CHECK_FOUND(d, "bob", "bob@new.example");
    CHECK_RESULT(d, "alice", DICT_NOTFOUND);
    dict_close(d);

    /* An abandoned write leaves the table and no temporary file. */
    w = dict_open(spec, DICT_FLAG_CREATE, &err);
    CHECK(w != NULL);
    dict_put(w, "zed", "z", &err);
    dict_close(w);
    d = dict_open(spec, 0, &err);
    CHECK_FOUND(d, "carol", "carol@example.com");
    CHECK_RESULT(d, "zed", DICT_NOTFOUND);
    dict_close(d);
    char *listing = xasprintf("ls %s | grep -c tmp > /dev/null", tmpdir);
    CHECK(system(listing) != 0);
    free(listing);

    /* No-NUL entries (postmap -n) are read by the default reader; -f
     * keeps case. */
    CHECK_INT(build_table(spec, DICT_FLAG_NO_NUL | DICT_FLAG_NO_FOLD, "MiXed",
                          "v1", NULL),
              0);
    d = dict_open(spec, 0, &err);
    CHECK_RESULT(d, "mixed", DICT_NOTFOUND);
    dict_close(d);
    d = dict_open(spec, DICT_FLAG_NO_FOLD, &err);
    CHECK_FOUND(d, "MiXed", "v1");
    dict_close(d);
    d = dict_open(spec, DICT_FLAG_NO_FOLD | DICT_FLAG_NUL_ONLY, &err);
    CHECK_RESULT(d, "MiXed", DICT_NOTFOUND);
    dict_close(d);
    free(spec);
    buf_free(&err);
}

static void test_hash(void) { indexed_roundtrip("hash"); }
static void test_btree(void) { indexed_roundtrip("btree"); }
static void test_lmdb(void) { indexed_roundtrip("lmdb"); }

static void test_lmdb_grows(void)
{
    /* More data than the initial map holds: the writer must grow it. */
    char *spec = xasprintf("lmdb:%s/big", tmpdir);
    struct buf err = BUF_INIT, key = BUF_INIT, value = BUF_INIT;
    struct dict *w = dict_open(spec, DICT_FLAG_CREATE, &err);
    CHECK(w != NULL);
    char big[1000];
    memset(big, 'v', sizeof(big) - 1);
    big[sizeof(big) - 1] = 0;
    for (int i = 0; i < 20000 && w; i++) {
        buf_reset(&key);
        buf_appendf(&key, "key%d", i);
        if (dict_put(w, key.data, big, &err) != 0) {
            printf("#   put %d: %s\n", i, buf_cstr(&err));
            CHECK(0);
            break;
        }
    }
    CHECK_INT(dict_commit(w, &err), 0);
    dict_close(w);
    struct dict *d = dict_open(spec, 0, &err);
    CHECK_INT(look(d, "key19999", &value), DICT_FOUND);
    CHECK_INT(value.len, sizeof(big) - 1);
    CHECK_INT(look(d, "key0", &value), DICT_FOUND);
    dict_close(d);
    free(spec);
    buf_free(&err);
    buf_free(&key);
    buf_free(&value);
}

static void test_reload_on_change(void)
{
    char *path = tmp_path("reload.regexp");
    char *spec = xasprintf("regexp:%s", path);
    write_file(path, "/^a$/ one\n");
    struct dict *d = dict_open(spec, 0, NULL);
    CHECK_FOUND(d, "a", "one");
    write_file(path, "/^a$/ two-changed\n");
    CHECK_FOUND(d, "a", "two-changed");
    /* Same size, same second: the nanosecond mtime still tells. */
    write_file(path, "/^a$/ three-chngd\n");
    struct timespec times[2] = {{0, UTIME_OMIT}, {1000, 5}};
    utimensat(AT_FDCWD, path, times, 0);
    CHECK_FOUND(d, "a", "three-chngd");
    /* Broken, then removed, then back. */
    write_file(path, "/^a$ broken\n");
    CHECK_RESULT(d, "a", DICT_ERROR);
    CHECK_RESULT(d, "a", DICT_ERROR);
    unlink(path);
    CHECK_RESULT(d, "a", DICT_ERROR);
    write_file(path, "/^a$/ back\n");
    CHECK_FOUND(d, "a", "back");
    dict_close(d);
    free(spec);
    free(path);
}

static void test_file_path(void)
{
    char *p = dict_file_path("hash:/etc/x");
    CHECK_STR(p, "/etc/x.db");
    free(p);
    p = dict_file_path("lmdb:/etc/x");
    CHECK_STR(p, "/etc/x.lmdb");
    free(p);
    p = dict_file_path("regexp:/etc/x");
    CHECK_STR(p, "/etc/x");
    free(p);
    CHECK(dict_file_path("static:x") == NULL);
    CHECK(dict_type_writable("btree"));
    CHECK(!dict_type_writable("regexp"));
    struct buf err = BUF_INIT;
    CHECK(dict_open("regexp:/x", DICT_FLAG_CREATE, &err) == NULL);
    CHECK(strstr(err.data, "read-only") != NULL);
    buf_free(&err);
}

int main(void)
{
    snprintf(tmpdir, sizeof(tmpdir), "/tmp/test_dict.XXXXXX");
    if (mkdtemp(tmpdir) == NULL) {
        perror("mkdtemp");
        return 1;
    }
    log_set_program("test_dict");
    UNIT_RUN(test_static_inline_fail);
    UNIT_RUN(test_texthash);
    UNIT_RUN(test_quoted_keys);
    UNIT_RUN(test_empty_quoted_key);
    UNIT_RUN(test_missing_and_unreadable);
    UNIT_RUN(test_regexp);
    UNIT_RUN(test_pcre);
    UNIT_RUN(test_cidr);
    UNIT_RUN(test_hash);
    UNIT_RUN(test_btree);
    UNIT_RUN(test_lmdb);
    UNIT_RUN(test_lmdb_grows);
    UNIT_RUN(test_reload_on_change);
    UNIT_RUN(test_file_path);
    char *cleanup = xasprintf("rm -rf %s", tmpdir);
    if (system(cleanup) != 0)
        printf("# could not remove %s\n", tmpdir);
    free(cleanup);
    return unit_summary();
}
