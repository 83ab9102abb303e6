/* test_mastercf.c: unit tests for lib/config/mastercf (master.cf parsing and
 * the normalised one-line form postconf -M prints). */
#include "unit.h"

#include <unistd.h>

#include "base/buf.h"
#include "config/mastercf.h"
#include "base/mem.h"

static struct master_entry *entries;
static size_t count;

static int parse(const char *text, struct buf *err)
{
    mastercf_free(entries, count);
    entries = NULL;
    count = 0;
    buf_reset(err);
    return mastercf_parse(text, strlen(text), "/cfg/master.cf", &entries,
                          &count, err);
}

static void test_default_style_file(void)
{
    struct buf err = BUF_INIT;
    CHECK_INT(parse("# service type  private unpriv  chroot  wakeup  maxproc command + args\n"
                    "#               (yes)   (yes)   (no)    (never) (100)\n"
                    "smtp      inet  n       -       y       -       -       smtpd\n"
                    "127.0.0.1:2525 inet n   -       n       -       5       smtpd\n"
                    "  -o syslog_name=postfix/alt\n"
                    "# a comment between continuation lines\n"
                    "  -o smtpd_tls_security_level=encrypt\n"
                    "pickup    unix  n       -       y       60      1       pickup\n"
                    "qmgr      unix  n       -       n       300?    1       qmgr\n"
                    "cleanup   unix-dgram n  y       -       0       0       cleanup -v\n"
                    "qmgr      fifo  n       -       n       300     1       qmgr\n"
                    "relay     pass  -       -       -       -       -       smtp\n",
                    &err),
              0);
    CHECK_STR(buf_cstr(&err), "");
    CHECK_INT(count, 7);
    if (count < 7)
        return;
    CHECK_STR(entries[0].service, "smtp");
    CHECK_STR(entries[0].type, "inet");
    CHECK_INT(entries[0].private_, 0);
    CHECK_INT(entries[0].unpriv, 1);
    CHECK_INT(entries[0].chroot, 1);
    CHECK_INT(entries[0].wakeup, 0);
    CHECK_INT(entries[0].maxproc, -1);
    CHECK_STR(entries[0].command, "smtpd");
    CHECK_INT(entries[0].args.count, 0);
    CHECK_INT(entries[0].line, 3);
    CHECK_STR(entries[0].file, "/cfg/master.cf");

    CHECK_STR(entries[1].service, "127.0.0.1:2525");
    CHECK_INT(entries[1].maxproc, 5);
    CHECK_INT(entries[1].line, 4);
    CHECK_INT(entries[1].args.count, 4);
    CHECK_STR(entries[1].args.items[0], "-o");
    CHECK_STR(entries[1].args.items[1], "syslog_name=postfix/alt");
    CHECK_STR(mastercf_override(&entries[1], "smtpd_tls_security_level"),
              "encrypt");
    CHECK(mastercf_override(&entries[1], "syslog") == NULL);

    CHECK_INT(entries[2].wakeup, 60);
    CHECK_INT(entries[2].wakeup_if_used, 0);
    CHECK_INT(entries[3].wakeup, 300);
    CHECK_INT(entries[3].wakeup_if_used, 1);
    CHECK_INT(entries[3].chroot, 0);
    CHECK_STR(entries[4].type, "unix-dgram");
    CHECK_INT(entries[4].maxproc, 0);
    CHECK_STR(entries[4].args.items[0], "-v");
    /* Same service name, other type: not a duplicate. */
    CHECK_STR(entries[5].type, "fifo");
    /* "-" defaults: private y, unpriv y, chroot n. */
    CHECK_INT(entries[6].private_, 1);
    CHECK_INT(entries[6].unpriv, 1);
    CHECK_INT(entries[6].chroot, 0);
    buf_free(&err);
}

static void test_braced_arguments(void)
{
    struct buf err = BUF_INIT, out = BUF_INIT;
    CHECK_INT(parse("submission inet n - y - - smtpd\n"
                    " -o { smtpd_client_restrictions = permit_sasl_authenticated, reject }\n"
                    " -o {smtpd_tls_security_level=encrypt}\n"
                    " -o smtpd_recipient_restrictions=inline:{a=b}\n"
                    " { an argument }\n",
                    &err),
              0);
    CHECK_STR(buf_cstr(&err), "");
    if (count != 1)
        return;
    CHECK_INT(entries[0].args.count, 7);
    CHECK_STR(entries[0].args.items[1],
              "smtpd_client_restrictions=permit_sasl_authenticated, reject");
    CHECK_STR(entries[0].args.items[3], "smtpd_tls_security_level=encrypt");
    CHECK_STR(entries[0].args.items[5],
              "smtpd_recipient_restrictions=inline:{a=b}");
    CHECK_STR(entries[0].args.items[6], "an argument");
    mastercf_format(&entries[0], &out);
    CHECK_STR(buf_cstr(&out),
              "submission inet  n       -       y       -       -       smtpd "
              "-o { smtpd_client_restrictions = permit_sasl_authenticated, "
              "reject } -o smtpd_tls_security_level=encrypt -o "
              "smtpd_recipient_restrictions=inline:{a=b} { an argument }");
    /* The printed form reads back to the same entry. */
    char *again = xstrdup(buf_cstr(&out));
    CHECK_INT(parse(again, &err), 0);
    CHECK_INT(count, 1);
    if (count == 1)
        CHECK_STR(entries[0].args.items[1],
                  "smtpd_client_restrictions=permit_sasl_authenticated, "
                  "reject");
    free(again);
    buf_free(&err);
    buf_free(&out);
}

static void test_format(void)
{
    struct buf err = BUF_INIT, out = BUF_INIT;
    CHECK_INT(parse("smtp inet n - y - - smtpd\n"
                    "pickup unix n - y 60 1 pickup\n",
                    &err),
              0);
    if (count != 2)
        return;
    mastercf_format(&entries[0], &out);
    CHECK_STR(buf_cstr(&out),
              "smtp       inet  n       -       y       -       -       smtpd");
    buf_reset(&out);
    mastercf_format(&entries[1], &out);
    CHECK_STR(buf_cstr(&out),
              "pickup     unix  n       -       y       60      1       pickup");
    char *key = mastercf_key(&entries[1]);
    CHECK_STR(key, "pickup/unix");
    free(key);
    buf_free(&err);
    buf_free(&out);
}

static void check_error(const char *text, const char *expected)
{
    struct buf err = BUF_INIT;
    CHECK_INT(parse(text, &err), -1);
    CHECK(entries == NULL && count == 0);
    if (strstr(buf_cstr(&err), expected) == NULL) {
        printf("#   error \"%s\" lacks \"%s\"\n", buf_cstr(&err), expected);
        unit_case_failed = 1;
    }
    buf_free(&err);
}

static void test_errors_name_file_and_line(void)
{
    check_error("smtp inet n - y - - smtpd\n\nbad  tcp n - y - - smtpd\n",
                "/cfg/master.cf, line 3: field \"type\": bad value \"tcp\"");
    check_error("# c\nsmtp inet n - y -\n",
                "/cfg/master.cf, line 2: expected at least 8 fields");
    check_error("smtp inet n - y - -\n  \n", "line 1: expected at least 8");
    check_error("smtp inet x - y - - smtpd\n",
                "line 1: field \"private\": bad value \"x\"");
    check_error("smtp inet n - maybe - - smtpd\n",
                "line 1: field \"chroot\": bad value \"maybe\"");
    check_error("smtp inet n - y soon - smtpd\n",
                "line 1: field \"wakeup\": bad value \"soon\"");
    check_error("smtp inet n - y 5?? - smtpd\n", "field \"wakeup\"");
    check_error("smtp inet n - y - -3 smtpd\n",
                "line 1: field \"maxproc\": bad value \"-3\"");
    check_error("smtp inet n - y - 99999999999 smtpd\n", "field \"maxproc\"");
    check_error("smtp inet n - y - - smtpd -o\n", "line 1: -o without");
    check_error("smtp inet n - y - - smtpd -o novalue\n", "missing '='");
    check_error("smtp inet n - y - - smtpd -o { a b = c }\n",
                "bad parameter name");
    check_error("smtp inet n - y - - smtpd -o { a = b\n", "missing '}'");
    check_error("smtp inet n - y - - smtpd {a}b\n", "text after '}'");
    check_error("a/b unix n - y - - smtpd\n", "no '/' allowed");
    /* Braced columns: postconf -M could not print them back (libFuzzer,
     * fuzz/corpus/mastercf/regress-braced-command). */
    check_error("y inet n - y - - {}\n", "field \"command\": bad value \"\"");
    check_error("x unix n - y - - { my prog } arg\n",
                "field \"command\": bad value \"my prog\"");
    check_error("{} unix n - y - - prog\n", "field \"service\": bad value");
    check_error("{a b} unix n - y - - prog\n", "field \"service\"");
    check_error("y inet n - y - - { {}} arg\n",
                "field \"command\": bad value \"{}\"");
    check_error("host: inet n - y - - smtpd\n", "bad inet service");
    check_error(" smtp inet n - y - - smtpd\n",
                "line 1: text starts with whitespace");
    check_error("smtp inet n - y - - smtpd\nx unix - - - - - x\n"
                "smtp inet n - n - - smtpd\n",
                "line 3: duplicate service smtp/inet (first at line 1)");
    static const char with_nul[] = "smtp inet n - y - - smtpd\nx unix - - - - - x\0y\n";
    struct buf err = BUF_INIT;
    struct master_entry *got = NULL;
    size_t got_count = 0;
    CHECK_INT(mastercf_parse(with_nul, sizeof(with_nul) - 1, "m.cf", &got,
                             &got_count, &err),
              -1);
    CHECK(strstr(buf_cstr(&err), "m.cf, line 2: NUL character") != NULL);
    buf_free(&err);
}

static void test_load_file(void)
{
    struct buf err = BUF_INIT;
    struct master_entry *loaded = NULL;
    size_t loaded_count = 5;
    CHECK_INT(mastercf_load("/nonexistent/master.cf", &loaded, &loaded_count,
                            &err),
              -1);
    CHECK(strstr(buf_cstr(&err), "/nonexistent/master.cf: cannot open") != NULL);
    CHECK_INT(loaded_count, 0);
    char path[] = "/tmp/test_mastercf.XXXXXX";
    int fd = mkstemp(path);
    CHECK(fd >= 0);
    const char *text = "smtp inet n - y - - smtpd\nlocal unix - n n - - local";
    CHECK(write(fd, text, strlen(text)) == (ssize_t)strlen(text));
    close(fd);
    buf_reset(&err);
    CHECK_INT(mastercf_load(path, &loaded, &loaded_count, &err), 0);
    CHECK_INT(loaded_count, 2);
    if (loaded_count == 2) {
        CHECK_STR(loaded[1].command, "local");
        CHECK_STR(loaded[1].file, path);
        CHECK_INT(loaded[1].unpriv, 0);
    }
    mastercf_free(loaded, loaded_count);
    unlink(path);
    buf_free(&err);
}

static void collect(const char *name, const char *value, void *arg)
{
    buf_appendf(arg, "[%s|%s]", name, value);
}

static void test_foreach_override(void)
{
    struct buf err = BUF_INIT, seen = BUF_INIT;
    CHECK_INT(parse("s unix - - - - - cmd -v -o a=1 -o {b = two words} -o a=3\n",
                    &err),
              0);
    if (count != 1)
        return;
    mastercf_foreach_override(&entries[0], collect, &seen);
    CHECK_STR(buf_cstr(&seen), "[a|1][b|two words][a|3]");
    CHECK_STR(mastercf_override(&entries[0], "a"), "3");
    buf_free(&err);
    buf_free(&seen);
}

static const char *line_of(const struct master_entry *e, int folded,
                           struct buf *out)
{
    buf_reset(out);
    if (folded)
        mastercf_format_folded(e, out);
    else
        mastercf_format(e, out);
    return buf_cstr(out);
}

static void test_fields(void)
{
    struct buf err = BUF_INIT, value = BUF_INIT;
    CHECK_INT(parse("sub inet n - y 60? 5 smtpd -o a=1 -o { b = x y }\n", &err),
              0);
    const char *expected[] = {"sub", "inet", "n", "-", "y", "60?", "5",
                              "smtpd -o a=1 -o { b = x y }"};
    for (int f = 0; f < MASTERCF_FIELD_COUNT; f++) {
        buf_reset(&value);
        mastercf_field_value(&entries[0], f, &value);
        CHECK_STR(buf_cstr(&value), expected[f]);
    }
    CHECK_STR(mastercf_field_name(3), "unprivileged");
    CHECK_STR(mastercf_field_name(6), "process_limit");
    CHECK(mastercf_field_name(8) == NULL);
    CHECK_INT(mastercf_field_index("command"), 7);
    CHECK_INT(mastercf_field_index("maxproc"), -1);

    /* Setting a field checks it as master.cf does. */
    CHECK_INT(mastercf_set_field(&entries[0], 4, "n", &err), 0);
    CHECK_INT(entries[0].chroot, 0);
    CHECK_INT(mastercf_set_field(&entries[0], 6, "-", &err), 0);
    CHECK_INT(entries[0].maxproc, -1);
    buf_reset(&err);
    CHECK_INT(mastercf_set_field(&entries[0], 4, "maybe", &err), -1);
    CHECK_STR(buf_cstr(&err),
              "field \"chroot\": bad value \"maybe\" (use y, n or -)");
    buf_reset(&err);
    CHECK_INT(mastercf_set_field(&entries[0], 1, "tcp", &err), -1);
    CHECK(strstr(buf_cstr(&err), "bad value \"tcp\"") != NULL);
    buf_reset(&err);
    CHECK_INT(mastercf_set_field(&entries[0], 5, "1 2", &err), -1);
    CHECK_INT(mastercf_set_field(&entries[0], 7, "", &err), -1);
    CHECK_INT(mastercf_set_field(&entries[0], 7, "smtpd -o", &err), -1);
    /* Failed sets changed nothing. */
    CHECK_STR(line_of(&entries[0], 0, &value),
              "sub        inet  n       -       n       60?     -       smtpd "
              "-o a=1 -o { b = x y }");
    CHECK_INT(mastercf_set_field(&entries[0], 7,
                                 "local -v -o { c = 1 2 } -o d=3", &err),
              0);
    CHECK_STR(entries[0].command, "local");
    CHECK_STR(mastercf_override(&entries[0], "c"), "1 2");
    CHECK_INT(mastercf_set_field(&entries[0], 0, "other", &err), 0);
    CHECK_STR(entries[0].service, "other");
    CHECK_STR(entries[0].file, "/cfg/master.cf");
    buf_free(&err);
    buf_free(&value);
}

static void test_overrides_edit_and_fold(void)
{
    struct buf err = BUF_INIT, line = BUF_INIT;
    CHECK_INT(parse("p unix - n n - - pipe flags=R argv=/bin/x ${user}\n"
                    "s inet n - n - - smtpd -v -o a=1 -o b=2 -o a=3\n",
                    &err),
              0);
    /* A new -o goes before a command's own arguments. */
    mastercf_set_override(&entries[0], "x", "one two");
    CHECK_STR(line_of(&entries[0], 0, &line),
              "p          unix  -       n       n       -       -       pipe "
              "-o { x = one two } flags=R argv=/bin/x ${user}");
    CHECK_STR(line_of(&entries[0], 1, &line),
              "p          unix  -       n       n       -       -       pipe\n"
              "  -o { x = one two }\n"
              "  flags=R argv=/bin/x ${user}");
    /* The last -o for a name is changed, earlier ones go. */
    mastercf_set_override(&entries[1], "a", "4");
    CHECK_STR(line_of(&entries[1], 0, &line),
              "s          inet  n       -       n       -       -       smtpd "
              "-v -o b=2 -o a=4");
    mastercf_set_override(&entries[1], "c", "5");
    CHECK_STR(line_of(&entries[1], 1, &line),
              "s          inet  n       -       n       -       -       smtpd -v\n"
              "  -o b=2\n"
              "  -o a=4\n"
              "  -o c=5");
    CHECK_INT(mastercf_remove_override(&entries[1], "b"), 1);
    CHECK_INT(mastercf_remove_override(&entries[1], "b"), 0);
    CHECK_INT(mastercf_remove_override(&entries[1], "a"), 1);
    CHECK_INT(mastercf_remove_override(&entries[1], "c"), 1);
    CHECK_STR(line_of(&entries[1], 1, &line),
              "s          inet  n       -       n       -       -       smtpd -v");
    CHECK(entries[1].args.items[entries[1].args.count] == NULL);
    /* The folded form reads back as the same entry. */
    CHECK_INT(parse("q unix - - n - - cmd a -o x=1 -o { y = 2 3 } b { c d }\n",
                    &err),
              0);
    char *folded = xstrdup(line_of(&entries[0], 1, &line));
    char *flat = xstrdup(line_of(&entries[0], 0, &line));
    CHECK_STR(folded, "q          unix  -       -       n       -       -       "
                      "cmd a\n  -o x=1\n  -o { y = 2 3 }\n  b { c d }");
    CHECK_INT(parse(folded, &err), 0);
    CHECK_STR(line_of(&entries[0], 0, &line), flat);
    free(folded);
    free(flat);
    buf_free(&err);
    buf_free(&line);
}

/* fuzz/corpus/mastercf/roundtrip-hash-arg: '#' is a comment only as a
 * line's first text, so a '#' argument after an -o must not begin a
 * continuation line bare (it would read back as a comment). */
static void test_fold_hash_argument(void)
{
    struct buf err = BUF_INIT, line = BUF_INIT;
    CHECK_INT(parse("t inet n - y - - d # #b", &err), 0);
    CHECK_INT(entries[0].args.count, 2);
    CHECK_STR(entries[0].args.items[0], "#");
    CHECK_STR(line_of(&entries[0], 0, &line),
              "t          inet  n       -       y       -       -       d # #b");
    mastercf_set_override(&entries[0], "syslog_name", "x");
    char *flat = xstrdup(line_of(&entries[0], 0, &line));
    char *folded = xstrdup(line_of(&entries[0], 1, &line));
    CHECK_STR(folded, "t          inet  n       -       y       -       -       "
                      "d\n  -o syslog_name=x # #b");
    CHECK_INT(parse(folded, &err), 0);
    CHECK_INT(count, 1);
    CHECK_STR(line_of(&entries[0], 0, &line), flat);
    free(flat);
    free(folded);
    /* fuzz/corpus/mastercf/roundtrip-hash-brace: "#}" cannot be braced,
     * so it too stays on the -o line. */
    CHECK_INT(parse("a unix n y - 0 0 } #}", &err), 0);
    mastercf_set_override(&entries[0], "syslog_name", "a { b } c");
    flat = xstrdup(line_of(&entries[0], 0, &line));
    folded = xstrdup(line_of(&entries[0], 1, &line));
    CHECK_STR(folded, "a          unix  n       y       -       0       0       "
                      "}\n  -o { syslog_name = a { b } c } #}");
    CHECK_INT(parse(folded, &err), 0);
    CHECK_STR(line_of(&entries[0], 0, &line), flat);
    /* fuzz/corpus/mastercf/roundtrip-formfeed: the reader splits at
     * every isspace() byte, so one with \f is printed braced. */
    CHECK_INT(parse("y inet n y - 0 1 - { a\fb }", &err), 0);
    CHECK_INT(entries[0].args.count, 1);
    CHECK_STR(line_of(&entries[0], 0, &line),
              "y          inet  n       y       -       0       1       - "
              "{ a\fb }");
    /* A continuation line that starts with '#' stays a comment. */
    CHECK_INT(parse("u inet n - y - - d\n  # x\n  -o a=b\n", &err), 0);
    CHECK_STR(line_of(&entries[0], 0, &line),
              "u          inet  n       -       y       -       -       d "
              "-o a=b");
    free(flat);
    free(folded);
    buf_free(&err);
    buf_free(&line);
}

int main(void)
{
    UNIT_RUN(test_default_style_file);
    UNIT_RUN(test_braced_arguments);
    UNIT_RUN(test_format);
    UNIT_RUN(test_errors_name_file_and_line);
    UNIT_RUN(test_load_file);
    UNIT_RUN(test_foreach_override);
    UNIT_RUN(test_fields);
    UNIT_RUN(test_overrides_edit_and_fold);
    UNIT_RUN(test_fold_hash_argument);
    mastercf_free(entries, count);
    return unit_summary();
}
