/* test_mastersvc.c: master.cf semantics (lib/config/mastersvc.c). */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config/mastercf.h"
#include "config/mastersvc.h"
#include "base/mem.h"
#include "unit.h"

static void parse_ok(const char *text, const char *host, int port)
{
    struct buf err = BUF_INIT;
    buf_init(&err);
    char *got_host = (char *)"unset";
    int got_port = 0;
    int rc = mastersvc_parse_inet(text, &got_host, &got_port, &err);
    CHECK_INT(rc, 0);
    CHECK_STR(got_host, host);
    CHECK_INT(got_port, port);
    if (rc == 0)
        free(got_host);
    buf_free(&err);
}

static int parse_fails(const char *text, const char *why)
{
    struct buf err = BUF_INIT;
    buf_init(&err);
    char *host;
    int port;
    int rc = mastersvc_parse_inet(text, &host, &port, &err);
    int ok = rc == -1 && strstr(buf_cstr(&err), why) != NULL;
    if (!ok)
        printf("#   %s: rc %d, err \"%s\"\n", text, rc, buf_cstr(&err));
    buf_free(&err);
    return ok;
}

static void test_parse_inet_forms(void)
{
    parse_ok("25", NULL, 25);
    parse_ok("127.0.0.1:2525", "127.0.0.1", 2525);
    parse_ok("[::1]:587", "::1", 587);
    parse_ok("localhost:10025", "localhost", 10025);
    parse_ok("*:25", "*", 25);
    CHECK(parse_fails("0", "bad port number"));
    CHECK(parse_fails("65536", "bad port number"));
    CHECK(parse_fails("127.0.0.1:", "expected host:port"));
    CHECK(parse_fails(":25", "expected host:port"));
    CHECK(parse_fails("::1:25", "expected host:port"));
    CHECK(parse_fails("[::1]25", "expected [address]:port"));
    CHECK(parse_fails("no-such-service-xyz", "unknown service name"));
}

static void test_parse_inet_service_names(void)
{
    /* Postfix names inet services by /etc/services entries. */
    if (access("/etc/services", R_OK) != 0)
        SKIP("no /etc/services");
    parse_ok("smtp", NULL, 25);
    parse_ok("submission", NULL, 587);
    parse_ok("127.0.0.1:smtp", "127.0.0.1", 25);
}

static void test_parse_inet_builtin_names(void)
{
    /* Names /etc/services may lack (Debian's has no lmtp), or a system
     * without the file: the built-in mail ports. */
    parse_ok("lmtp", NULL, 24);
    parse_ok("127.0.0.1:submissions", "127.0.0.1", 465);
    parse_ok("[::1]:smtps", "::1", 465);
}

static void test_types_and_paths(void)
{
    CHECK_INT(mastersvc_type("inet"), MASTERSVC_INET);
    CHECK_INT(mastersvc_type("unix"), MASTERSVC_UNIX);
    CHECK_INT(mastersvc_type("fifo"), MASTERSVC_FIFO);
    CHECK_INT(mastersvc_type("pass"), MASTERSVC_PASS);
    CHECK_INT(mastersvc_type("unix-dgram"), MASTERSVC_UNIX_DGRAM);
    CHECK_INT(mastersvc_type("inte"), MASTERSVC_UNKNOWN);
    char *path = mastersvc_command_path("smtpd", "/usr/libexec/postern");
    CHECK_STR(path, "/usr/libexec/postern/smtpd");
    free(path);
    path = mastersvc_command_path("/bin/true", "/usr/libexec/postern");
    CHECK_STR(path, "/bin/true");
    free(path);
}

static size_t check_text(const char *text, const char *daemon_dir,
                         struct strlist *errors)
{
    struct master_entry *entries = NULL;
    size_t count = 0;
    struct buf err = BUF_INIT;
    buf_init(&err);
    size_t problems = 0;
    if (mastercf_parse(text, strlen(text), "master.cf", &entries, &count,
                       &err) < 0) {
        strlist_add(errors, buf_cstr(&err));
        problems = 1;
    } else {
        problems = mastersvc_check(entries, count, daemon_dir, errors);
        mastercf_free(entries, count);
    }
    buf_free(&err);
    return problems;
}

static void test_check_entries(void)
{
    char dir[] = "/tmp/test_mastersvc.XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    char *program = xasprintf("%s/svc", dir);
    FILE *fp = fopen(program, "w");
    CHECK(fp != NULL);
    if (fp)
        fclose(fp);
    chmod(program, 0755);
    char *plain = xasprintf("%s/notexec", dir);
    fp = fopen(plain, "w");
    if (fp)
        fclose(fp);
    chmod(plain, 0644);

    struct strlist errors;
    strlist_init(&errors);
    CHECK_INT(check_text("a unix - - n - - svc\n"
                         "127.0.0.1:2525 inet n - n - 2 svc -o x=y\n",
                         dir, &errors),
              0);
    strlist_free(&errors);

    strlist_init(&errors);
    CHECK_INT(check_text("a unix - - n - - svc\n"
                         "b unix - - n - - missing\n"
                         "c unix - - n - - notexec\n"
                         "no-such-service-xyz inet n - n - - svc\n",
                         dir, &errors),
              3);
    if (errors.count == 3) {
        CHECK(strstr(errors.items[0], "master.cf, line 2: command ") != NULL);
        CHECK(strstr(errors.items[0], "No such file") != NULL);
        CHECK(strstr(errors.items[1], "line 3: command ") != NULL);
        CHECK(strstr(errors.items[1], "not executable") != NULL);
        CHECK(strstr(errors.items[2], "line 4: unknown service name") != NULL);
    }
    strlist_free(&errors);

    /* The parser refuses duplicates too; entries built by hand must be
     * refused here all the same. */
    struct master_entry twins[2];
    memset(twins, 0, sizeof(twins));
    for (int i = 0; i < 2; i++) {
        twins[i].service = (char *)"a";
        twins[i].type = (char *)"unix";
        twins[i].maxproc = -1;
        twins[i].command = (char *)"svc";
        twins[i].file = (char *)"master.cf";
        twins[i].line = i + 1;
        strlist_init(&twins[i].args);
    }
    strlist_init(&errors);
    CHECK_INT(mastersvc_check(twins, 2, dir, &errors), 1);
    if (errors.count == 1)
        CHECK_STR(errors.items[0], "master.cf, line 2: duplicate service "
                                   "a/unix (first defined at line 1)");
    strlist_free(&errors);

    /* Without a daemon directory commands are not looked at. */
    strlist_init(&errors);
    CHECK_INT(check_text("b unix - - n - - missing\n", NULL, &errors), 0);
    strlist_free(&errors);

    unlink(program);
    unlink(plain);
    rmdir(dir);
    free(program);
    free(plain);
}

int main(void)
{
    UNIT_RUN(test_parse_inet_forms);
    UNIT_RUN(test_parse_inet_service_names);
    UNIT_RUN(test_parse_inet_builtin_names);
    UNIT_RUN(test_types_and_paths);
    UNIT_RUN(test_check_entries);
    return unit_summary();
}
