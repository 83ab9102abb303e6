/* test_config.c: unit tests for lib/config/config (main.cf reading, expansion,
 * typed values, overrides) and the parameter table in lib/config/params.c. */
#include "unit.h"

#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/buf.h"
#include "config/config.h"
#include "base/mem.h"
#include "config/params.h"
#include "base/str.h"

static struct strlist warnings;

/* How many warnings contain text. */
static int warned_about(const char *text)
{
    int found = 0;
    for (size_t i = 0; i < warnings.count; i++)
        if (strstr(warnings.items[i], text))
            found++;
    return found;
}

static void catch_warning(const char *message)
{
    strlist_add(&warnings, message);
}

/* Loads text as main.cf; returns the load status, error text in err. */
static int load(const char *text, struct buf *err)
{
    config_reset();
    strlist_free(&warnings);
    config_set_warning_handler(catch_warning);
    config_set_unused_warnings(1);
    buf_reset(err);
    return config_load_string(text, strlen(text), "/cfg", "/cfg/main.cf", err);
}

static void test_basic_syntax(void)
{
    struct buf err = BUF_INIT;
    CHECK_INT(load("# comment\n"
                   "myhostname = mail.example.com\n"
                   "\n"
                   "   # indented comment\n"
                   "mydestination = a,\n"
                   "   b,\n"
                   "# comment inside a continued value\n"
                   "\tc\n"
                   "relayhost=[smart.example]:587   \n"
                   "relayhost = [other.example]\n"
                   "empty =\n",
                   &err),
              0);
    CHECK_STR(buf_cstr(&err), "");
    CHECK_STR(cfg_str("myhostname"), "mail.example.com");
    CHECK_STR(cfg_str("mydestination"), "a, b, c");
    CHECK_STR(cfg_str("relayhost"), "[other.example]"); /* last one wins */
    CHECK_INT(config_line("relayhost"), 10);
    CHECK_INT(config_line("mydestination"), 5);
    CHECK_STR(cfg_str("empty"), "");
    CHECK(config_is_set("empty"));
    CHECK(!config_is_set("relay_domains"));
    struct strlist list;
    strlist_init(&list);
    cfg_list("mydestination", &list);
    CHECK_INT(list.count, 3);
    CHECK_STR(list.items[2], "c");
    strlist_free(&list);
    buf_free(&err);
}

static void test_syntax_errors(void)
{
    struct buf err = BUF_INIT;
    CHECK_INT(load("a = 1\n\nthis line has no equals sign\n", &err), -1);
    CHECK_STR(buf_cstr(&err), "/cfg/main.cf, line 3: missing '=' after "
                              "parameter name: \"this\"");
    CHECK_INT(load("  leading = space\n", &err), -1);
    CHECK(strstr(buf_cstr(&err), "line 1: text starts with whitespace") != NULL);
    CHECK_INT(load("a = 1\nbad name = 2\n", &err), -1);
    CHECK(strstr(buf_cstr(&err), "line 2: parameter name contains whitespace") != NULL);
    CHECK_INT(load("x = 1\n= 2\n", &err), -1);
    CHECK(strstr(buf_cstr(&err), "line 2: missing parameter name") != NULL);
    CHECK_INT(load("b@d = 2\n", &err), -1);
    CHECK(strstr(buf_cstr(&err), "line 1: bad parameter name") != NULL);
    /* The error names the first line of a continued definition. */
    CHECK_INT(load("a = 1\nnoequals\n  more\n", &err), -1);
    CHECK(strstr(buf_cstr(&err), "line 2:") != NULL);
    buf_free(&err);
}

static void test_failed_load_keeps_previous(void)
{
    struct buf err = BUF_INIT;
    CHECK_INT(load("myhostname = one.example\n", &err), 0);
    CHECK_INT(config_load_string("broken\n", 7, "/cfg", "/cfg/main.cf", &err),
              -1);
    CHECK_STR(cfg_str("myhostname"), "one.example");
    buf_free(&err);
}

static void test_expansion(void)
{
    struct buf err = BUF_INIT;
    CHECK_INT(load("myhostname = mail.example.com\n"
                   "a = [$myhostname]\n"
                   "b = <${myhostname}>\n"
                   "c = ($(myhostname))\n"
                   "d = cost $$5 and $$myhostname\n"
                   "e = $undefined_thing.x\n"
                   "late = $later\n"
                   "later = defined after use\n",
                   &err),
              0);
    CHECK_STR(cfg_str("a"), "[mail.example.com]");
    CHECK_STR(cfg_str("b"), "<mail.example.com>");
    CHECK_STR(cfg_str("c"), "(mail.example.com)");
    CHECK_STR(cfg_str("d"), "cost $5 and $myhostname");
    CHECK_STR(cfg_str("e"), ".x");
    CHECK_STR(cfg_str("late"), "defined after use");
    /* Defaults expand through main.cf values. */
    CHECK_STR(cfg_str("myorigin"), "mail.example.com");
    CHECK_STR(cfg_str("mydomain"), "example.com");
    CHECK_STR(cfg_str("mydestination"),
              "mail.example.com, localhost.example.com, localhost");
    CHECK_STR(cfg_str("smtpd_banner"), "mail.example.com ESMTP Postern");
    CHECK_STR(cfg_str("local_transport"), "local:mail.example.com");
    /* Raw values stay as written. */
    CHECK_STR(config_raw("a", NULL), "[$myhostname]");
    CHECK_STR(config_raw("myorigin", NULL), "$myhostname");
    /* a..e and late are set but nothing refers to them. */
    CHECK_INT(warnings.count, 6);
    buf_free(&err);
}

static void test_conditionals(void)
{
    struct buf err = BUF_INIT;
    CHECK_INT(load("full = x\n"
                   "none =\n"
                   "t1 = ${full?yes}\n"
                   "t2 = ${none?yes}\n"
                   "t3 = ${full:no}\n"
                   "t4 = ${none:no}\n"
                   "t5 = ${unset:fallback $full}\n"
                   "t6 = ${full?{a, b}:{c}}\n"
                   "t7 = ${none?{a}:{c, d}}\n"
                   "t8 = ${full?{}}\n"
                   "t9 = ${none:{x${full}y}}\n"
                   "t10 = ${full?${none:nested}}\n"
                   "t11 = ${none?{a}  :  {b c}}\n"
                   "t12 = ${full?{a}:{b}{c}}\n"
                   "t13 = ${full?{a}:b}\n"
                   "t14 = ${none?{a}:b, c}\n"
                   "t15 = ${full:{a}:{b}}\n"
                   "t16 = ${none? {a} : {b} }\n",
                   &err),
              0);
    CHECK_STR(cfg_str("t1"), "yes");
    CHECK_STR(cfg_str("t2"), "");
    CHECK_STR(cfg_str("t3"), "");
    CHECK_STR(cfg_str("t4"), "no");
    CHECK_STR(cfg_str("t5"), "fallback x");
    CHECK_STR(cfg_str("t6"), "a, b");
    CHECK_STR(cfg_str("t7"), "c, d");
    CHECK_STR(cfg_str("t8"), "");
    CHECK_STR(cfg_str("t9"), "xxy");
    CHECK_STR(cfg_str("t10"), "nested");
    CHECK_STR(cfg_str("t11"), "b c");
    CHECK_INT(warned_about("parameter t11:"), 0);
    CHECK_STR(cfg_str("t12"), "");
    CHECK_INT(warned_about("line 14: parameter t12: bad text after ${full?{...}"), 1);
    /* Postfix: the braces are required for the first text, optional
     * for the second. */
    CHECK_STR(cfg_str("t13"), "a");
    CHECK_STR(cfg_str("t14"), "b, c");
    CHECK_STR(cfg_str("t15"), "");
    CHECK_INT(warned_about("parameter t15: bad text after ${full:{...}"), 1);
    CHECK_STR(cfg_str("t16"), "b");
    CHECK_INT(warned_about("parameter t16:"), 0);
    /* A table default using the ':' form. */
    CHECK_STR(cfg_str("smtpd_client_event_limit_exceptions"),
              cfg_str("mynetworks"));
    buf_free(&err);
}

static void test_relational_expressions(void)
{
    struct buf err = BUF_INIT, out = BUF_INIT;
    CHECK_INT(load("level = 3.6\n"
                   "count = 10\n"
                   "small = 9\n"
                   "empty =\n"
                   "r1 = ${{$count} == {10}?{ten}:{other}}\n"
                   "r2 = ${{$count} != {10}?{differ}:{same}}\n"
                   "r3 = ${{$small} < {$count}?{less}:{not less}}\n"
                   "r4 = ${{9} < {10} ? yes}\n"
                   "r5 = ${{b9} < {b10}?{numeric}:{text}}\n"
                   "r6 = ${{007} == {7}?{same number}}\n"
                   "r7 = ${{$count} <= {10}?{le}}${{$count} >= {11}?{ge}}\n"
                   "r8 = ${{$count} > {$small}:{not greater}}\n"
                   "r9 = ${ {$empty} == {} ? {empty} : {set} }\n"
                   "r10 = ${{$level} == {3.6}?{x${{a}!={b}?{y}}z}}\n"
                   "r11 = ${{99999999999999999999999} > "
                   "{99999999999999999999998}?{big}}\n",
                   &err),
              0);
    CHECK_STR(cfg_str("r1"), "ten");
    CHECK_STR(cfg_str("r2"), "same");
    CHECK_STR(cfg_str("r3"), "less");
    CHECK_STR(cfg_str("r4"), " yes");
    /* Not all digits: text order, where "b10" sorts before "b9". */
    CHECK_STR(cfg_str("r5"), "text");
    CHECK_STR(cfg_str("r6"), "same number");
    CHECK_STR(cfg_str("r7"), "le");
    CHECK_STR(cfg_str("r8"), "");
    CHECK_STR(cfg_str("r9"), "empty");
    CHECK_STR(cfg_str("r10"), "xyz");
    CHECK_STR(cfg_str("r11"), "big");
    CHECK_INT(warned_about("parameter r"), 0);
    /* count and small are referenced; level too. */
    CHECK_INT(warned_about("unused parameter: count"), 0);
    /* Malformed forms are errors, never crashes. */
    const char *bad[] = {"${{a} = {b}?x}", "${{a} == b?x}", "${{a} == {b}}",
                         "${{a} == {b} x}", "${{a == {b}?x}", "${{a}}",
                         "${ {a} <> {b}?x}"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
        buf_reset(&out);
        buf_reset(&err);
        CHECK_INT(config_expand(bad[i], 0, &out, &err), -1);
        CHECK(err.len > 0);
    }
    buf_reset(&out);
    CHECK_INT(config_expand("[${{1}<{2}?{a}:{b}}${{2}<{1}?{a}:{b}}]", 0, &out,
                            NULL),
              0);
    CHECK_STR(buf_cstr(&out), "[ab]");
    buf_free(&err);
    buf_free(&out);
}

static void test_unused_warnings_off(void)
{
    /* Daemons load main.cf without the unused-parameter warning, but
     * still hear about broken expansions. */
    struct buf err = BUF_INIT;
    config_reset();
    strlist_free(&warnings);
    config_set_warning_handler(catch_warning);
    config_set_unused_warnings(0);
    const char *text = "typo_parametr = 1\nloop = $loop\n";
    CHECK_INT(config_load_string(text, strlen(text), "/cfg", "/cfg/main.cf",
                                 &err),
              0);
    CHECK_INT(warned_about("unused parameter"), 0);
    CHECK_STR(cfg_str("loop"), "");
    CHECK_INT(warned_about("refers to itself"), 1);
    config_set_unused_warnings(1);
    config_reset(); /* keeps the setting */
    CHECK_INT(config_load_string(text, strlen(text), "/cfg", "/cfg/main.cf",
                                 &err),
              0);
    CHECK_INT(warned_about("unused parameter: typo_parametr=1"), 1);
    buf_free(&err);
}

static void test_loops_and_bad_references(void)
{
    struct buf err = BUF_INIT, out = BUF_INIT;
    CHECK_INT(load("a = x $b\nb = y $c\nc = z $a\nself = $self\n"
                   "open = ${a\nnoname = ${?x}\n",
                   &err),
              0);
    /* Loops are errors, reported once, and never crash. */
    CHECK_STR(cfg_str("a"), "x y z ");
    CHECK_STR(cfg_str("a"), "x y z ");
    CHECK_INT(warned_about("refers to itself"), 1);
    CHECK_INT(warned_about("/cfg/main.cf, line 1: parameter a refers to "
                           "itself through $a"), 1);
    CHECK_STR(cfg_str("self"), "");
    CHECK_INT(config_expand("$self", 0, &out, &err), -1);
    buf_reset(&err);
    buf_reset(&out);
    CHECK_INT(config_expand("${a", 0, &out, &err), -1);
    CHECK(strstr(buf_cstr(&err), "missing '}'") != NULL);
    buf_reset(&err);
    buf_reset(&out);
    CHECK_INT(config_expand("${?x}", 0, &out, &err), -1);
    buf_reset(&err);
    buf_reset(&out);
    CHECK_INT(config_expand("ends in $", 0, &out, &err), -1);
    CHECK_STR(buf_cstr(&out), "ends in $");
    /* config_check reports every broken parameter with its line. */
    buf_reset(&err);
    CHECK(config_check(&err) >= 4);
    CHECK(strstr(buf_cstr(&err), "/cfg/main.cf, line 5: parameter open: "
                                 "missing '}'") != NULL);
    buf_free(&err);
    buf_free(&out);
}

static void test_loop_through_computed_default(void)
{
    /* mydomain's default is computed from myhostname. */
    struct buf err = BUF_INIT;
    CHECK_INT(load("myhostname = $mydomain\n", &err), 0);
    CHECK_STR(cfg_str("mydomain"), "localdomain");
    CHECK_INT(warned_about("refers to itself"), 1);
    CHECK(config_raw("mydomain", NULL) != NULL);
    CHECK(config_check(&err) >= 1);
    buf_free(&err);
}

static void test_expansion_bombs(void)
{
    /* Each level doubles: 2^40 bytes if unbounded. */
    struct buf text = BUF_INIT, err = BUF_INIT;
    for (int i = 0; i < 40; i++)
        buf_appendf(&text, "p%d = $p%d$p%d\n", i, i + 1, i + 1);
    buf_appendf(&text, "p40 = xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\n");
    CHECK_INT(load(buf_cstr(&text), &err), 0);
    CHECK(strlen(cfg_str("p0")) <= 2 * 1024 * 1024);
    CHECK_INT(warned_about("p0: expansion longer than") +
                  warned_about("p0: too many parameter references"),
              1);
    /* Deep but loop-free chains stop at the nesting limit. */
    buf_reset(&text);
    for (int i = 0; i < 300; i++)
        buf_appendf(&text, "q%d = $q%d\n", i, i + 1);
    CHECK_INT(load(buf_cstr(&text), &err), 0);
    CHECK_STR(cfg_str("q0"), "");
    CHECK_INT(warned_about("nests too deep"), 1);
    buf_free(&text);
    buf_free(&err);
}

static void test_time_units_and_bounds(void)
{
    struct buf err = BUF_INIT;
    CHECK_INT(load("minimal_backoff_time = 2m\n"
                   "maximal_backoff_time = 1h\n"
                   "maximal_queue_lifetime = 3\n" /* bare: unit of "5d" */
                   "queue_run_delay = 1w\n"
                   "smtpd_timeout = 45\n"
                   "max_idle = 10s\n",
                   &err),
              0);
    CHECK_INT(cfg_time("minimal_backoff_time"), 120);
    CHECK_INT(cfg_time("maximal_backoff_time"), 3600);
    CHECK_INT(cfg_time("maximal_queue_lifetime"), 3 * 86400);
    CHECK_INT(cfg_time("queue_run_delay"), 7 * 86400);
    CHECK_INT(cfg_time("smtpd_timeout"), 45);
    CHECK_INT(cfg_time("max_idle"), 10);
    CHECK_INT(cfg_time("bounce_queue_lifetime"), 5 * 86400);
    CHECK_INT(cfg_time("delay_warning_time"), 0);
    long seconds = -1;
    CHECK_INT(config_parse_time("10x", 's', &seconds), -1);
    CHECK_INT(config_parse_time("-1s", 's', &seconds), -1);
    CHECK_INT(config_parse_time("1ss", 's', &seconds), -1);
    CHECK_INT(config_parse_time("", 's', &seconds), -1);
    CHECK_INT(config_parse_time("99999999999999999999w", 's', &seconds), -1);
    CHECK_INT(config_parse_time("2d", 's', &seconds), 0);
    CHECK_INT(seconds, 172800);

    const struct param_def *def = param_find("maximal_queue_lifetime");
    CHECK(def != NULL);
    buf_reset(&err);
    CHECK_INT(config_check_value(def, "101d", &err), -1);
    CHECK(strstr(buf_cstr(&err), "larger than") != NULL);
    def = param_find("smtpd_timeout");
    buf_reset(&err);
    CHECK_INT(config_check_value(def, "0", &err), -1);
    CHECK(strstr(buf_cstr(&err), "smaller than") != NULL);
    buf_reset(&err);
    CHECK_INT(config_check_value(def, "5 minutes", &err), -1);
    CHECK(strstr(buf_cstr(&err), "bad time value") != NULL);
    buf_free(&err);
}

static void test_numbers_and_booleans(void)
{
    struct buf err = BUF_INIT;
    CHECK_INT(load("message_size_limit = 52428800\n"
                   "smtpd_recipient_limit = ${message_size_limit?7}00\n"
                   "smtpd_helo_required = yes\n"
                   "disable_vrfy_command = TRUE\n"
                   "biff = false\n"
                   "default_process_limit = 0\n"
                   "max_use = ten\n",
                   &err),
              0);
    CHECK_INT(cfg_size("message_size_limit"), 52428800LL);
    CHECK_INT(cfg_int("smtpd_recipient_limit"), 700);
    CHECK_INT(cfg_bool("smtpd_helo_required"), 1);
    CHECK_INT(cfg_bool("disable_vrfy_command"), 1);
    CHECK_INT(cfg_bool("biff"), 0);
    CHECK_INT(cfg_bool("append_dot_mydomain"), 0);
    CHECK_INT(cfg_int("hopcount_limit"), 50);
    CHECK_INT(cfg_size("virtual_mailbox_limit"), 51200000);
    /* Bad values are found by config_check with file and line. */
    buf_reset(&err);
    CHECK_INT(config_check(&err), 2);
    CHECK(strstr(buf_cstr(&err), "/cfg/main.cf, line 6: parameter "
                                 "default_process_limit: value 0 is smaller "
                                 "than 1") != NULL);
    CHECK(strstr(buf_cstr(&err), "/cfg/main.cf, line 7: parameter max_use: "
                                 "bad numerical value \"ten\"") != NULL);
    const struct param_def *def = param_find("smtpd_helo_required");
    buf_reset(&err);
    CHECK_INT(config_check_value(def, "maybe", &err), -1);
    buf_free(&err);
}

static void test_overrides(void)
{
    struct buf err = BUF_INIT;
    CHECK_INT(load("myhostname = host.example\nsyslog_name = postfix\n", &err),
              0);
    const char *before = cfg_str("smtpd_banner");
    CHECK_STR(before, "host.example ESMTP Postern");
    config_override("myhostname", "other.example");
    CHECK_INT(config_override_arg("syslog_name = postfix/submission"), 0);
    CHECK_INT(config_override_arg("no equals sign"), -1);
    CHECK_INT(config_override_arg("bad name=1"), -1);
    CHECK_STR(cfg_str("smtpd_banner"), "other.example ESMTP Postern");
    CHECK_STR(cfg_str("syslog_name"), "postfix/submission");
    CHECK_STR(before, "host.example ESMTP Postern"); /* still valid */
    enum config_source source;
    CHECK_STR(config_raw("myhostname", &source), "other.example");
    CHECK_INT(source, CONFIG_OVERRIDE);
    /* Overrides survive a reload of main.cf. */
    CHECK_INT(config_load_string("myhostname = third.example\n", 27, "/cfg",
                                 "/cfg/main.cf", &err),
              0);
    CHECK_STR(cfg_str("myhostname"), "other.example");
    CHECK(!config_is_set("syslog_name") == 0);
    buf_free(&err);
}

static void test_unused_parameter_warnings(void)
{
    struct buf err = BUF_INIT;
    CHECK_INT(load("myhostname = h.example\n"
                   "helper_list = a, b\n"
                   "smtpd_client_restrictions = $helper_list\n"
                   "typo_parametr = 1\n"
                   "smtp_destination_concurrency_limit = 5\n",
                   &err),
              0);
    CHECK_INT(warnings.count, 1);
    CHECK(warnings.count &&
          strcmp(warnings.items[0],
                 "/cfg/main.cf: unused parameter: typo_parametr=1") == 0);
    CHECK_STR(cfg_str("typo_parametr"), "1"); /* still readable */
    CHECK_STR(cfg_str("never_mentioned"), "");
    CHECK(config_raw("never_mentioned", NULL) == NULL);
    buf_free(&err);
}

static void test_load_from_directory(void)
{
    char dir[] = "/tmp/test_config.XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    char *path = xasprintf("%s/main.cf", dir);
    struct buf err = BUF_INIT;
    config_reset();
    CHECK_INT(config_load(dir, &err), -1);
    CHECK(str_has_prefix(buf_cstr(&err), path));
    CHECK(strstr(buf_cstr(&err), "cannot open") != NULL);
    FILE *fp = fopen(path, "w");
    CHECK(fp != NULL);
    if (fp) {
        fputs("queue_directory = /tmp/q\nmailbox_command = $$HOME\n", fp);
        fclose(fp);
    }
    buf_reset(&err);
    CHECK_INT(config_load(dir, &err), 0);
    CHECK_STR(config_directory(), dir);
    CHECK_STR(cfg_str("config_directory"), dir);
    CHECK_STR(cfg_str("queue_directory"), "/tmp/q");
    CHECK_STR(cfg_str("mailbox_command"), "$HOME");
    unlink(path);
    rmdir(dir);
    free(path);
    buf_free(&err);
}

static void test_resolve_dir(void)
{
    unsetenv("MAIL_CONFIG");
    CHECK_STR(config_resolve_dir(NULL), POSTERN_CONFIG_DIR);
    CHECK_STR(config_resolve_dir("/x"), "/x");
    setenv("MAIL_CONFIG", "/from/env", 1);
    CHECK_STR(config_resolve_dir(NULL), "/from/env");
    CHECK_STR(config_resolve_dir(""), "/from/env");
    CHECK_STR(config_resolve_dir("/cli"), "/cli");
    unsetenv("MAIL_CONFIG");
}

static void test_defaults_and_computed(void)
{
    struct buf err = BUF_INIT, out = BUF_INIT;
    CHECK_INT(load("", &err), 0);
    CHECK_INT(cfg_size("message_size_limit"), 10240000);
    CHECK_INT(cfg_int("default_process_limit"), 100);
    CHECK_INT(cfg_int("max_use"), 100);
    CHECK_INT(cfg_time("max_idle"), 100);
    CHECK_INT(cfg_time("service_throttle_time"), 60);
    CHECK_STR(cfg_str("queue_directory"), "/var/spool/postern");
    CHECK_STR(cfg_str("mail_owner"), "postern");
    CHECK_STR(cfg_str("syslog_name"), "postern");
    CHECK_STR(cfg_str("maillog_file"), "");
    CHECK_STR(cfg_str("default_database_type"), "hash");
    CHECK_STR(cfg_str("process_id_directory"), "pid");
    CHECK_STR(cfg_str("relay_domains"), "");
    CHECK_STR(cfg_str("alias_maps"), "hash:/etc/aliases");
    CHECK_STR(cfg_str("mail_version"), POSTERN_VERSION);
    /* myhostname has a dot; mydomain is what follows the first one. */
    char *host = xstrdup(cfg_str("myhostname"));
    CHECK(strchr(host, '.') != NULL);
    CHECK_STR(cfg_str("mydomain"), strchr(host, '.') + 1);
    CHECK(strstr(cfg_str("mynetworks"), "127.0.0.0/8") != NULL);
    CHECK_STR(config_default("myorigin"), "$myhostname");
    CHECK(config_default("no_such_thing") == NULL);
    CHECK(config_compat_level_at_least("3.6"));
    CHECK(config_compat_level_at_least("2"));
    CHECK(!config_compat_level_at_least("3.10"));
    /* -dx ignores main.cf. */
    CHECK_INT(load("myhostname = set.example\n", &err), 0);
    CHECK_INT(config_expand("$myorigin", 1, &out, &err), 0);
    CHECK_STR(buf_cstr(&out), host);
    free(host);
    buf_free(&err);
    buf_free(&out);
}

static void test_table_is_consistent(void)
{
    struct buf err = BUF_INIT;
    CHECK_INT(load("", &err), 0);
    for (size_t i = 0; i < param_table_count; i++) {
        const struct param_def *def = &param_table[i];
        /* Names are unique: the lookup finds this very row. */
        if (param_find(def->name) != def) {
            printf("#   duplicate or unsorted name %s\n", def->name);
            unit_case_failed = 1;
        }
        /* Every default expands and fits its own type and bounds. */
        buf_reset(&err);
        const char *value = cfg_str(def->name);
        if (config_check_value(def, value, &err) != 0) {
            printf("#   default of %s: %s\n", def->name, buf_cstr(&err));
            unit_case_failed = 1;
        }
        CHECK(def->doc != NULL && def->doc[0] != 0);
    }
    CHECK_INT(warnings.count, 0);
    CHECK(param_find("message_size_limit") != NULL);
    CHECK(param_find("nonexistent") == NULL);
    CHECK(param_is_per_transport("smtp_destination_concurrency_limit"));
    CHECK(!param_is_per_transport("_destination_concurrency_limit"));
    buf_free(&err);
}

int main(void)
{
    strlist_init(&warnings);
    UNIT_RUN(test_basic_syntax);
    UNIT_RUN(test_syntax_errors);
    UNIT_RUN(test_failed_load_keeps_previous);
    UNIT_RUN(test_expansion);
    UNIT_RUN(test_conditionals);
    UNIT_RUN(test_relational_expressions);
    UNIT_RUN(test_unused_warnings_off);
    UNIT_RUN(test_loops_and_bad_references);
    UNIT_RUN(test_loop_through_computed_default);
    UNIT_RUN(test_expansion_bombs);
    UNIT_RUN(test_time_units_and_bounds);
    UNIT_RUN(test_numbers_and_booleans);
    UNIT_RUN(test_overrides);
    UNIT_RUN(test_unused_parameter_warnings);
    UNIT_RUN(test_load_from_directory);
    UNIT_RUN(test_resolve_dir);
    UNIT_RUN(test_defaults_and_computed);
    UNIT_RUN(test_table_is_consistent);
    config_reset();
    strlist_free(&warnings);
    return unit_summary();
}
