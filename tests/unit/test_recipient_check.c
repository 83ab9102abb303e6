/* test_recipient_check.c: unit tests for lib/routing/recipient_check
 * (reject_unauth_destination with every relay trick, reject_unlisted_
 * recipient for each class, Postfix's reply texts, table errors as 451)
 * and for unix:passwd.byname. */
#include "unit.h"

#include <pwd.h>
#include <unistd.h>

#include "addr_fixture.h"
#include "config/config.h"
#include "tables/dict.h"
#include "base/log.h"

struct checker {
    struct rewrite *rw;
    struct resolver *r;
    struct recipient_check *rc;
};

static struct rewrite_settings rs;
static struct resolve_settings ss;
static struct recipient_check_settings cs;

static void settings_reset(void)
{
    fixture_rewrite_settings(&rs);
    fixture_resolve_settings(&ss);
    memset(&cs, 0, sizeof(cs));
    rs.virtual_alias_maps =
        fixture_table("texthash", "virtual",
                      "alias@alias.test known@vmail.test\n"
                      "info@example.com root@example.com\n");
    cs.local_recipient_maps = "inline:{ root=x, alice=x }";
    cs.virtual_mailbox_maps = fixture_table(
        "texthash", "vmailbox", "known@vmail.test vmail.test/known/\n");
    cs.relay_recipient_maps =
        fixture_table("texthash", "relay_rcpt", "ok@relay.test OK\n");
    cs.double_bounce_sender = "double-bounce";
    cs.relay_domains_reject_code = 554;
    cs.unknown_local_recipient_reject_code = 550;
    cs.unknown_virtual_mailbox_reject_code = 550;
    cs.unknown_virtual_alias_reject_code = 550;
    cs.unknown_relay_recipient_reject_code = 550;
    cs.show_user_unknown_table_name = 1;
}

static int checker_open(struct checker *c)
{
    memset(c, 0, sizeof(*c));
    c->rw = fixture_rewrite(&rs);
    if (c->rw == NULL)
        return -1;
    struct buf err = BUF_INIT;
    c->r = resolve_open(&ss, c->rw, &err);
    buf_free(&err);
    if (c->r == NULL)
        return -1;
    c->rc = recipient_check_open(&cs, c->rw, c->r);
    return 0;
}

static void checker_close(struct checker *c)
{
    recipient_check_close(c->rc);
    resolve_close(c->r);
    rewrite_close(c->rw);
}

/* "OK", or the reply line. */
static const char *unauth(struct checker *c, const char *rcpt, int defer)
{
    static char out[1024];
    struct recipient_reply reply;
    recipient_reply_init(&reply);
    enum recipient_status st =
        recipient_check_unauth_destination(c->rc, rcpt, defer, &reply);
    if (st == RECIPIENT_OK) {
        snprintf(out, sizeof(out), "OK");
    } else {
        struct buf line = BUF_INIT;
        recipient_reply_format(&reply, &line);
        snprintf(out, sizeof(out), "%s%s",
                 st == RECIPIENT_DEFER ? "defer " : "", line.data);
        buf_free(&line);
    }
    recipient_reply_free(&reply);
    return out;
}

static const char *unlisted(struct checker *c, const char *rcpt)
{
    static char out[1024];
    struct recipient_reply reply;
    recipient_reply_init(&reply);
    enum recipient_status st = recipient_check_unlisted(c->rc, rcpt, &reply);
    if (st == RECIPIENT_OK) {
        snprintf(out, sizeof(out), "OK");
    } else {
        struct buf line = BUF_INIT;
        recipient_reply_format(&reply, &line);
        snprintf(out, sizeof(out), "%s%s",
                 st == RECIPIENT_DEFER ? "defer " : "", line.data);
        buf_free(&line);
    }
    recipient_reply_free(&reply);
    return out;
}

#define DENIED(rcpt) "554 5.7.1 <" rcpt ">: Relay access denied"

static void test_unauth_destination(void)
{
    settings_reset();
    struct checker c;
    CHECK(checker_open(&c) == 0);
    if (c.rc == NULL)
        return;
    CHECK_STR(unauth(&c, "user@example.com", 0), "OK");
    CHECK_STR(unauth(&c, "user@localhost", 0), "OK");
    CHECK_STR(unauth(&c, "user@[127.0.0.1]", 0), "OK");
    CHECK_STR(unauth(&c, "postmaster", 0), "OK");
    CHECK_STR(unauth(&c, "anyone@vmail.test", 0), "OK");
    CHECK_STR(unauth(&c, "anyone@alias.test", 0), "OK");
    CHECK_STR(unauth(&c, "anyone@relay.test", 0), "OK");
    CHECK_STR(unauth(&c, "anyone@sub.relay.test", 0), "OK");
    CHECK_STR(unauth(&c, "x@other.test", 0), DENIED("x@other.test"));
    CHECK_STR(unauth(&c, "x@[192.0.2.99]", 0), DENIED("x@[192.0.2.99]"));
    /* defer_unauth_destination: the same code minus 100, a 4.7.1. */
    CHECK_STR(unauth(&c, "x@other.test", 1),
              "defer 454 4.7.1 <x@other.test>: Relay access denied");
    /* The relay tricks, every one refused. */
    const char *tricks[] = {
        "user%other.test@example.com",  "user@other.test@example.com",
        "@example.com:user@other.test", "other.test!user@example.com",
        "user%other.test@vmail.test",   "user%other.test@relay.test",
        "user@other.test@alias.test",   "other.test!user@relay.test",
        "a%b%other.test@localhost",     "user%other.test@[127.0.0.1]",
        "user%other.test@EXAMPLE.COM.",
    };
    for (size_t i = 0; i < sizeof(tricks) / sizeof(tricks[0]); i++) {
        const char *got = unauth(&c, tricks[i], 0);
        if (strncmp(got, "554 5.7.1 <", 11) != 0)
            printf("#   trick %s: %s\n", tricks[i], got);
        CHECK(strncmp(got, "554 5.7.1 <", 11) == 0);
        CHECK(strstr(got, ">: Relay access denied") != NULL);
    }
    /* Local after every stripping: fine. */
    CHECK_STR(unauth(&c, "user%localhost@example.com", 0), "OK");
    /* A bad domain is not ours either. */
    CHECK_STR(unauth(&c, "user@192.0.2.1", 0), DENIED("user@192.0.2.1"));
    /* The client's text is echoed safely. */
    CHECK_STR(unauth(&c, "x\x01y@other.test", 0), DENIED("x?y@other.test"));
    checker_close(&c);

    /* Without the percent hack and bang swapping, the address stays ours
     * but routed: still refused. */
    rs.allow_percent_hack = 0;
    rs.swap_bangpath = 0;
    CHECK(checker_open(&c) == 0);
    CHECK_STR(unauth(&c, "user%other.test@example.com", 0),
              DENIED("user%other.test@example.com"));
    CHECK_STR(unauth(&c, "other.test!user@example.com", 0),
              DENIED("other.test!user@example.com"));
    checker_close(&c);

    /* allow_untrusted_routing = yes admits routed addresses in our own
     * domains, never those that resolve to a foreign one. */
    settings_reset();
    cs.allow_untrusted_routing = 1;
    CHECK(checker_open(&c) == 0);
    CHECK_STR(unauth(&c, "user%other.test@vmail.test", 0), "OK");
    CHECK_STR(unauth(&c, "user%other.test@example.com", 0),
              DENIED("user%other.test@example.com"));
    checker_close(&c);

    /* A configured reject code. */
    settings_reset();
    cs.relay_domains_reject_code = 550;
    CHECK(checker_open(&c) == 0);
    CHECK_STR(unauth(&c, "x@other.test", 0),
              "550 5.7.1 <x@other.test>: Relay access denied");
    CHECK_STR(unauth(&c, "x@other.test", 1),
              "defer 450 4.7.1 <x@other.test>: Relay access denied");
    checker_close(&c);
}

#define UNKNOWN(rcpt, table)                                                   \
    "550 5.1.1 <" rcpt ">: Recipient address rejected: User unknown in " table

static void test_unlisted(void)
{
    settings_reset();
    struct checker c;
    CHECK(checker_open(&c) == 0);
    if (c.rc == NULL)
        return;
    /* Local: local_recipient_maps, "user" form. */
    CHECK_STR(unlisted(&c, "alice@example.com"), "OK");
    CHECK_STR(unlisted(&c, "Alice@mail.example.com"), "OK");
    CHECK_STR(unlisted(&c, "alice+tag@example.com"), "OK");
    CHECK_STR(unlisted(&c, "alice"), "OK");
    CHECK_STR(unlisted(&c, "bob@example.com"),
              UNKNOWN("bob@example.com", "local recipient table"));
    /* Always known in local domains. */
    CHECK_STR(unlisted(&c, "postmaster@example.com"), "OK");
    CHECK_STR(unlisted(&c, "MAILER-DAEMON@example.com"), "OK");
    CHECK_STR(unlisted(&c, "double-bounce@example.com"), "OK");
    CHECK_STR(unlisted(&c, "postmaster"), "OK");
    /* A virtual alias for a local address counts. */
    CHECK_STR(unlisted(&c, "info@example.com"), "OK");
    /* Virtual mailbox domain. */
    CHECK_STR(unlisted(&c, "known@vmail.test"), "OK");
    CHECK_STR(unlisted(&c, "nobody@vmail.test"),
              UNKNOWN("nobody@vmail.test", "virtual mailbox table"));
    /* Virtual alias domain. */
    CHECK_STR(unlisted(&c, "alias@alias.test"), "OK");
    CHECK_STR(unlisted(&c, "nobody@alias.test"),
              UNKNOWN("nobody@alias.test", "virtual alias table"));
    /* Relay domain with relay_recipient_maps. */
    CHECK_STR(unlisted(&c, "ok@relay.test"), "OK");
    CHECK_STR(unlisted(&c, "no@relay.test"),
              UNKNOWN("no@relay.test", "relay recipient table"));
    /* Not ours: nothing to say here (relay control decides). */
    CHECK_STR(unlisted(&c, "x@other.test"), "OK");
    /* Malformed domain. */
    CHECK_STR(unlisted(&c, "user@192.0.2.1"),
              "501 5.1.3 <user@192.0.2.1>: Recipient address rejected: bad "
              "address syntax");
    checker_close(&c);

    /* Empty tables accept everyone in their class. */
    settings_reset();
    cs.local_recipient_maps = "";
    cs.virtual_mailbox_maps = "";
    cs.relay_recipient_maps = "";
    CHECK(checker_open(&c) == 0);
    CHECK_STR(unlisted(&c, "bob@example.com"), "OK");
    CHECK_STR(unlisted(&c, "nobody@vmail.test"), "OK");
    CHECK_STR(unlisted(&c, "no@relay.test"), "OK");
    CHECK_STR(unlisted(&c, "nobody@alias.test"),
              UNKNOWN("nobody@alias.test", "virtual alias table"));
    checker_close(&c);

    /* show_user_unknown_table_name = no, and a configured code. */
    settings_reset();
    cs.show_user_unknown_table_name = 0;
    ss.show_user_unknown_table_name = 0;
    cs.unknown_virtual_mailbox_reject_code = 450;
    CHECK(checker_open(&c) == 0);
    CHECK_STR(unlisted(&c, "bob@example.com"),
              "550 5.1.1 <bob@example.com>: Recipient address rejected: User "
              "unknown");
    CHECK_STR(unlisted(&c, "nobody@alias.test"),
              "550 5.1.1 <nobody@alias.test>: Recipient address rejected: User "
              "unknown");
    CHECK_STR(
        unlisted(&c, "nobody@vmail.test"),
        "defer 450 4.1.1 <nobody@vmail.test>: Recipient address rejected: "
        "User unknown");
    checker_close(&c);

    /* transport_maps sending a recipient to error: rejects with its text. */
    settings_reset();
    ss.transport_maps = fixture_table("texthash", "transport",
                                      "gone@relay.test error:5.1.6 moved away\n"
                                      "err.test error:no mail here\n");
    ss.relay_domains = "relay.test, err.test";
    cs.relay_recipient_maps = "";
    CHECK(checker_open(&c) == 0);
    CHECK_STR(
        unlisted(&c, "gone@relay.test"),
        "550 5.1.6 <gone@relay.test>: Recipient address rejected: moved away");
    CHECK_STR(
        unlisted(&c, "x@err.test"),
        "550 5.1.1 <x@err.test>: Recipient address rejected: no mail here");
    checker_close(&c);
}

#define TEMPFAIL(rcpt) "defer 451 4.3.0 <" rcpt ">: Temporary lookup failure"

static void test_table_errors_defer(void)
{
    struct checker c;
    settings_reset();
    cs.virtual_mailbox_maps = fixture_missing("texthash");
    CHECK(checker_open(&c) == 0);
    CHECK_STR(unlisted(&c, "nobody@vmail.test"), TEMPFAIL("nobody@vmail.test"));
    CHECK_STR(unlisted(&c, "known@vmail.test"), TEMPFAIL("known@vmail.test"));
    /* Other classes are not affected. */
    CHECK_STR(unlisted(&c, "alice@example.com"), "OK");
    checker_close(&c);

    settings_reset();
    rs.virtual_alias_maps = "fail:virtual";
    CHECK(checker_open(&c) == 0);
    CHECK_STR(unlisted(&c, "bob@example.com"), TEMPFAIL("bob@example.com"));
    checker_close(&c);

    settings_reset();
    /* Each key is asked of every table before the next key (Postfix's
     * maps_find): a broken table answers before "root" is tried, but not
     * before the full address is found. */
    cs.local_recipient_maps =
        "inline:{ root=x, alice@example.com=x }, fail:aliases";
    CHECK(checker_open(&c) == 0);
    CHECK_STR(unlisted(&c, "alice@example.com"), "OK");
    CHECK_STR(unlisted(&c, "root@example.com"), TEMPFAIL("root@example.com"));
    CHECK_STR(unlisted(&c, "bob@example.com"), TEMPFAIL("bob@example.com"));
    checker_close(&c);

    settings_reset();
    cs.relay_recipient_maps = "fail:relay";
    CHECK(checker_open(&c) == 0);
    CHECK_STR(unlisted(&c, "no@relay.test"), TEMPFAIL("no@relay.test"));
    checker_close(&c);

    /* Relay control: never a reject because a table is broken. */
    settings_reset();
    ss.relay_domains = "fail:relay_domains";
    CHECK(checker_open(&c) == 0);
    CHECK_STR(unauth(&c, "x@other.test", 0), TEMPFAIL("x@other.test"));
    CHECK_STR(unauth(&c, "x@other.test", 1), TEMPFAIL("x@other.test"));
    CHECK_STR(unauth(&c, "user@example.com", 0), "OK");
    struct recipient_reply reply;
    recipient_reply_init(&reply);
    CHECK_INT(recipient_check_is_ours(c.rc, "x@other.test", &reply), -1);
    CHECK_INT(reply.code, 451);
    CHECK_INT(recipient_check_is_ours(c.rc, "user@example.com", &reply), 1);
    recipient_reply_free(&reply);
    checker_close(&c);

    settings_reset();
    rs.mydestination = "fail:mydestination";
    CHECK(checker_open(&c) == 0);
    CHECK_STR(unauth(&c, "user%other.test@example.com", 0),
              TEMPFAIL("user%other.test@example.com"));
    CHECK_STR(unlisted(&c, "user@example.com"), TEMPFAIL("user@example.com"));
    checker_close(&c);
}

static void test_unix_passwd(void)
{
    struct passwd *me = getpwuid(getuid());
    if (me == NULL)
        SKIP("no passwd entry for this uid");
    char *name = xstrdup(me->pw_name);
    struct buf err = BUF_INIT, value = BUF_INIT;
    struct dict *d = dict_open("unix:passwd.byname", 0, &err);
    CHECK(d != NULL);
    if (d) {
        CHECK_INT(dict_lookup(d, name, &value), DICT_FOUND);
        CHECK(strncmp(value.data, name, strlen(name)) == 0);
        CHECK(strstr(value.data, me->pw_dir ? me->pw_dir : "") != NULL);
        CHECK_INT(dict_lookup(d, "no-such-user-postern-test", &value),
                  DICT_NOTFOUND);
        dict_close(d);
    }
    CHECK(dict_open("unix:group.byname", 0, &err) == NULL);

    /* As local_recipient_maps, through proxy: as Postfix's default. */
    settings_reset();
    char *maps = xasprintf("proxy:unix:passwd.byname");
    cs.local_recipient_maps = maps;
    struct checker c;
    CHECK(checker_open(&c) == 0);
    char *address = xasprintf("%s@example.com", name);
    CHECK_STR(unlisted(&c, address), "OK");
    CHECK_STR(unlisted(&c, "no-such-user-postern-test@example.com"),
              UNKNOWN("no-such-user-postern-test@example.com",
                      "local recipient table"));
    checker_close(&c);
    free(address);
    free(maps);
    free(name);
    buf_free(&err);
    buf_free(&value);
}

/* The loaders read main.cf parameters with Postfix's names and
 * defaults: a small main.cf gives a working checker. */
static void test_settings_from_config(void)
{
    const char *vmailbox = fixture_table("texthash", "cfg_vmailbox",
                                         "u@vmail.test vmail.test/u/\n");
    char *text =
        xasprintf("myhostname = mx.example.org\n"
                  "mydomain = example.org\n"
                  "inet_interfaces = loopback-only\n"
                  "virtual_mailbox_domains = vmail.test\n"
                  "virtual_mailbox_maps = %s\n"
                  "local_recipient_maps =\n"
                  "transport_maps = inline:{ slow.test=smtp:[slowgw] }\n"
                  "relayhost = [smarthost.test]\n",
                  vmailbox);
    struct buf err = BUF_INIT;
    config_reset();
    CHECK_INT(
        config_load_string(text, strlen(text), "/cfg", "/cfg/main.cf", &err),
        0);
    struct rewrite_settings rws;
    struct resolve_settings rss;
    struct recipient_check_settings rcs;
    rewrite_settings_from_config(&rws);
    resolve_settings_from_config(&rss);
    recipient_check_settings_from_config(&rcs);
    /* Postfix's defaults. */
    CHECK_STR(rws.myorigin, "mx.example.org");
    CHECK_INT(rws.append_dot_mydomain, 0);
    CHECK_INT(rws.virtual_alias_recursion_limit, 1000);
    CHECK_INT(rws.virtual_alias_address_length_limit, 1000);
    CHECK_STR(rss.local_transport, "local:mx.example.org");
    CHECK_INT(rcs.relay_domains_reject_code, 554);
    CHECK_INT(rcs.allow_untrusted_routing, 0);
    CHECK_INT(rcs.show_user_unknown_table_name, 1);

    struct rewrite *rw = rewrite_open(&rws, &err);
    CHECK(rw != NULL);
    struct resolver *r = rw ? resolve_open(&rss, rw, &err) : NULL;
    CHECK(r != NULL);
    if (r) {
        struct recipient_check *rc = recipient_check_open(&rcs, rw, r);
        struct checker c = {rw, r, rc};
        CHECK_STR(unauth(&c, "user@localhost.example.org", 0), "OK");
        CHECK_STR(unauth(&c, "user@[127.0.0.1]", 0), "OK");
        CHECK_STR(unauth(&c, "user%x.test@mx.example.org", 0),
                  DENIED("user%x.test@mx.example.org"));
        CHECK_STR(unlisted(&c, "u@vmail.test"), "OK");
        CHECK_STR(unlisted(&c, "v@vmail.test"),
                  UNKNOWN("v@vmail.test", "virtual mailbox table"));
        struct resolve_result res;
        resolve_result_init(&res);
        CHECK_INT(resolve_address(r, "a@far.test", &res), 0);
        CHECK_STR(res.transport.data, "smtp");
        CHECK_STR(res.nexthop.data, "[smarthost.test]");
        CHECK_INT(resolve_address(r, "a@slow.test", &res), 0);
        CHECK_STR(res.nexthop.data, "[slowgw]");
        CHECK_INT(resolve_address(r, "a@vmail.test", &res), 0);
        CHECK_STR(res.transport.data, "virtual");
        resolve_result_free(&res);
        recipient_check_close(rc);
    }
    resolve_close(r);
    rewrite_close(rw);
    config_reset();
    buf_free(&err);
    free(text);
}

int main(void)
{
    if (fixture_init("test_recipient_check") < 0)
        return 1;
    log_set_program("test_recipient_check");
    UNIT_RUN(test_unauth_destination);
    UNIT_RUN(test_unlisted);
    UNIT_RUN(test_table_errors_defer);
    UNIT_RUN(test_unix_passwd);
    UNIT_RUN(test_settings_from_config);
    fixture_cleanup();
    return unit_summary();
}
