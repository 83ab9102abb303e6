/* test_resolve.c: unit tests for lib/routing/resolve (address classes,
 * transports, relayhost, transport_maps lookup order, special
 * transports, routing operators, malformed domains, table errors). */
#include "unit.h"

#include "addr_fixture.h"
#include "base/log.h"

struct site {
    struct rewrite *rw;
    struct resolver *r;
};

static int site_open(struct site *site, const struct rewrite_settings *rs,
                     const struct resolve_settings *ss)
{
    site->rw = fixture_rewrite(rs);
    site->r = NULL;
    if (site->rw == NULL)
        return -1;
    struct buf err = BUF_INIT;
    site->r = resolve_open(ss, site->rw, &err);
    if (site->r == NULL)
        printf("#   resolve_open: %s\n", err.data);
    buf_free(&err);
    return site->r ? 0 : -1;
}

static void site_close(struct site *site)
{
    resolve_close(site->r);
    rewrite_close(site->rw);
}

/* "class transport nexthop recipient [routed]" or "TEMPFAIL". */
static const char *res(struct site *site, const char *address)
{
    static char out[1024];
    struct resolve_result result;
    resolve_result_init(&result);
    if (resolve_address(site->r, address, &result) < 0) {
        snprintf(out, sizeof(out), "TEMPFAIL");
    } else {
        snprintf(out, sizeof(out), "%s %s %s %s%s%s",
                 resolve_class_name(result.addr_class), result.transport.data,
                 result.nexthop.data, result.recipient.data,
                 result.flags & RESOLVE_FLAG_ROUTED ? " routed" : "",
                 result.flags & RESOLVE_FLAG_ERROR ? " error" : "");
    }
    resolve_result_free(&result);
    return out;
}

/* The next hop for address with mail from sender. */
static const char *hop_for(struct site *site, const char *address,
                           const char *sender)
{
    static char out[256];
    struct resolve_result result;
    resolve_result_init(&result);
    if (resolve_address_sender(site->r, address, sender, &result) < 0)
        snprintf(out, sizeof(out), "TEMPFAIL");
    else
        snprintf(out, sizeof(out), "%s %s", result.transport.data,
                 result.nexthop.data);
    resolve_result_free(&result);
    return out;
}

static void test_sender_dependent_relayhost(void)
{
    struct rewrite_settings rs;
    struct resolve_settings ss;
    fixture_rewrite_settings(&rs);
    fixture_resolve_settings(&ss);
    ss.relayhost = "[gw.test]";
    ss.sender_dependent_relayhost_maps = "inline:{ "
        "alice@a.test=[alice-gw.test]:587, @a.test=[a-gw.test], "
        "bob@b.test=DUNNO, @b.test=[b-gw.test], bare=[bare-gw.test], "
        "<>=[null-gw.test] }";
    ss.empty_address_relayhost_maps_lookup_key = "<>";
    struct site site;
    CHECK(site_open(&site, &rs, &ss) == 0);
    /* The whole address, without its extension, then @domain. */
    CHECK_STR(hop_for(&site, "x@other.test", "alice@a.test"),
              "smtp [alice-gw.test]:587");
    CHECK_STR(hop_for(&site, "x@other.test", "alice+list@a.test"),
              "smtp [alice-gw.test]:587");
    CHECK_STR(hop_for(&site, "x@other.test", "carol@a.test"),
              "smtp [a-gw.test]");
    /* DUNNO ends the search: relayhost, not @b.test's. */
    CHECK_STR(hop_for(&site, "x@other.test", "bob@b.test"), "smtp [gw.test]");
    CHECK_STR(hop_for(&site, "x@other.test", "dave@b.test"),
              "smtp [b-gw.test]");
    /* Not found: relayhost. The null sender has its own key. */
    CHECK_STR(hop_for(&site, "x@other.test", "eve@c.test"), "smtp [gw.test]");
    CHECK_STR(hop_for(&site, "x@other.test", ""), "smtp [null-gw.test]");
    /* Relay class too; not final classes; transport_maps still wins. */
    CHECK_STR(hop_for(&site, "x@relay.test", "carol@a.test"),
              "relay [a-gw.test]");
    CHECK_STR(hop_for(&site, "x@vmail.test", "carol@a.test"),
              "virtual vmail.test");
    /* Without a sender (smtpd's checks): relayhost. */
    CHECK_STR(hop_for(&site, "x@other.test", NULL), "smtp [gw.test]");
    site_close(&site);

    ss.transport_maps = "inline:{ other.test=smtp:[tm.test] }";
    ss.empty_address_relayhost_maps_lookup_key = "null-sender";
    CHECK(site_open(&site, &rs, &ss) == 0);
    CHECK_STR(hop_for(&site, "x@other.test", "carol@a.test"),
              "smtp [tm.test]");
    CHECK_STR(hop_for(&site, "x@else.test", ""), "smtp [gw.test]");
    site_close(&site);

    ss.transport_maps = "";
    ss.sender_dependent_relayhost_maps = "fail:broken";
    CHECK(site_open(&site, &rs, &ss) == 0);
    CHECK_STR(hop_for(&site, "x@other.test", "carol@a.test"), "TEMPFAIL");
    site_close(&site);
}

static void test_classes(void)
{
    struct rewrite_settings rs;
    struct resolve_settings ss;
    fixture_rewrite_settings(&rs);
    fixture_resolve_settings(&ss);
    struct site site;
    CHECK(site_open(&site, &rs, &ss) == 0);
    if (site.r == NULL)
        return;
    CHECK_STR(res(&site, "user@example.com"),
              "local local mail.example.com user@example.com");
    CHECK_STR(res(&site, "user@localhost"),
              "local local mail.example.com user@localhost");
    CHECK_STR(res(&site, "user@EXAMPLE.COM."),
              "local local mail.example.com user@EXAMPLE.COM");
    CHECK_STR(res(&site, "user@[127.0.0.1]"),
              "local local mail.example.com user@[127.0.0.1]");
    CHECK_STR(res(&site, "user@[192.0.2.25]"),
              "local local mail.example.com user@[192.0.2.25]");
    CHECK_STR(res(&site, "user@[192.0.2.99]"),
              "default smtp [192.0.2.99] user@[192.0.2.99]");
    CHECK_STR(res(&site, "x@alias.test"),
              "alias error User unknown in virtual alias table x@alias.test");
    CHECK_STR(res(&site, "x@vmail.test"),
              "virtual virtual vmail.test x@vmail.test");
    CHECK_STR(res(&site, "x@relay.test"),
              "relay relay relay.test x@relay.test");
    /* relay_domains is in parent_domain_matches_subdomains here. */
    CHECK_STR(res(&site, "x@sub.relay.test"),
              "relay relay sub.relay.test x@sub.relay.test");
    CHECK_STR(res(&site, "x@other.test"),
              "default smtp other.test x@other.test");
    /* The null recipient and an empty local part. */
    CHECK_STR(res(&site, ""),
              "local local mail.example.com MAILER-DAEMON@mail.example.com");
    CHECK_STR(res(&site, "@example.com"),
              "local local mail.example.com MAILER-DAEMON@example.com");
    /* A bare name is ours (it should have been canonicalised first). */
    CHECK_STR(res(&site, "user"),
              "local local mail.example.com user@mail.example.com");
    site_close(&site);

    /* Without parent matching only ".relay.test" would cover subdomains. */
    ss.parent_domain_matches_subdomains = "";
    CHECK(site_open(&site, &rs, &ss) == 0);
    CHECK_STR(res(&site, "x@sub.relay.test"),
              "default smtp sub.relay.test x@sub.relay.test");
    site_close(&site);
    ss.relay_domains = "relay.test, .relay.test";
    CHECK(site_open(&site, &rs, &ss) == 0);
    CHECK_STR(res(&site, "x@sub.relay.test"),
              "relay relay sub.relay.test x@sub.relay.test");
    site_close(&site);

    /* relayhost for relay and default classes, not for final ones; a
     * transport with a next hop wins over it. */
    fixture_resolve_settings(&ss);
    ss.relayhost = "[gw.test]:587";
    ss.relay_transport = "relay:[relaygw.test]";
    CHECK(site_open(&site, &rs, &ss) == 0);
    CHECK_STR(res(&site, "x@other.test"),
              "default smtp [gw.test]:587 x@other.test");
    CHECK_STR(res(&site, "x@relay.test"),
              "relay relay [relaygw.test] x@relay.test");
    CHECK_STR(res(&site, "x@vmail.test"),
              "virtual virtual vmail.test x@vmail.test");
    CHECK_STR(res(&site, "user@example.com"),
              "local local mail.example.com user@example.com");
    site_close(&site);

    /* Tables as domain lists: virtual_alias_domains = $virtual_alias_maps
     * looks the domain up as a key. */
    fixture_resolve_settings(&ss);
    ss.virtual_alias_domains =
        fixture_table("texthash", "valias", "tabled.test anything\n");
    CHECK(site_open(&site, &rs, &ss) == 0);
    CHECK_STR(res(&site, "x@tabled.test"),
              "alias error User unknown in virtual alias table x@tabled.test");
    CHECK_STR(res(&site, "x@alias.test"),
              "default smtp alias.test x@alias.test");
    site_close(&site);
}

static void test_relay_tricks(void)
{
    struct rewrite_settings rs;
    struct resolve_settings ss;
    fixture_rewrite_settings(&rs);
    fixture_resolve_settings(&ss);
    struct site site;
    CHECK(site_open(&site, &rs, &ss) == 0);
    if (site.r == NULL)
        return;
    /* Each resolves to the foreign domain: the default class. */
    CHECK_STR(res(&site, "user%other.test@example.com"),
              "default smtp other.test user@other.test");
    CHECK_STR(res(&site, "user@other.test@example.com"),
              "default smtp other.test user@other.test");
    CHECK_STR(res(&site, "@example.com:user@other.test"),
              "default smtp other.test user@other.test");
    CHECK_STR(res(&site, "@example.com,@localhost:user@other.test"),
              "default smtp other.test user@other.test");
    CHECK_STR(res(&site, "other.test!user@example.com"),
              "default smtp other.test user@other.test");
    CHECK_STR(res(&site, "a%b%other.test@example.com"),
              "default smtp other.test a%b@other.test routed");
    CHECK_STR(res(&site, "user@other.test@localhost@example.com"),
              "default smtp other.test user@other.test");
    /* Layers of local domains are all stripped. */
    CHECK_STR(res(&site, "user%localhost@example.com"),
              "local local mail.example.com user@localhost");
    CHECK_STR(res(&site, "user@example.com@example.com"),
              "local local mail.example.com user@example.com");
    /* Through a domain that is ours but not local, the operators stay
     * and the address is routed. */
    CHECK_STR(res(&site, "user%other.test@vmail.test"),
              "virtual virtual vmail.test user%other.test@vmail.test routed");
    CHECK_STR(res(&site, "user@other.test@relay.test"),
              "relay relay relay.test user@other.test@relay.test routed");
    CHECK_STR(res(&site, "other.test!user@relay.test"),
              "relay relay relay.test other.test!user@relay.test routed");
    site_close(&site);

    /* Operators we do not honour are still routing for the next hop. */
    rs.allow_percent_hack = 0;
    rs.swap_bangpath = 0;
    CHECK(site_open(&site, &rs, &ss) == 0);
    CHECK_STR(
        res(&site, "user%other.test@example.com"),
        "local local mail.example.com user%other.test@example.com routed");
    CHECK_STR(
        res(&site, "other.test!user@example.com"),
        "local local mail.example.com other.test!user@example.com routed");
    CHECK_STR(res(&site, "user@other.test@example.com"),
              "default smtp other.test user@other.test");
    site_close(&site);
}

static void test_malformed(void)
{
    struct rewrite_settings rs;
    struct resolve_settings ss;
    fixture_rewrite_settings(&rs);
    fixture_resolve_settings(&ss);
    struct site site;
    CHECK(site_open(&site, &rs, &ss) == 0);
    if (site.r == NULL)
        return;
    CHECK_STR(res(&site, "user@192.0.2.1"),
              "default error 5.1.3 bad address syntax user@192.0.2.1 error");
    CHECK_STR(res(&site, "user@bad..test"),
              "default error 5.1.3 bad address syntax user@bad..test error");
    CHECK_STR(res(&site, "user@"),
              "default error 5.1.3 bad address syntax user@ error");
    CHECK_STR(res(&site, "user@[300.1.1.1]"),
              "default error 5.1.3 bad address syntax user@[300.1.1.1] error");
    site_close(&site);

    ss.resolve_numeric_domain = 1;
    ss.resolve_null_domain = 1;
    CHECK(site_open(&site, &rs, &ss) == 0);
    CHECK_STR(res(&site, "user@192.0.2.1"),
              "default smtp [192.0.2.1] user@[192.0.2.1]");
    CHECK_STR(res(&site, "user@127.0.0.1"),
              "local local mail.example.com user@[127.0.0.1]");
    CHECK_STR(res(&site, "user@"),
              "local local mail.example.com user@mail.example.com");
    site_close(&site);
}

static const char *transport_table =
    "special@other.test      smtp:[special.host]\n"
    "user+x@fancy.test       error:5.1.2 no such\n"
    "fancy.test              smtp:fancy.relay\n"
    ".sub.test               relay:[subrelay]\n"
    "sub.test                :[justhost]\n"
    "discard.test            discard:\n"
    "err.test                error:\n"
    "keep.test               :\n"
    "*                       smtp:[wild]\n";

static void test_transport_maps(void)
{
    struct rewrite_settings rs;
    struct resolve_settings ss;
    fixture_rewrite_settings(&rs);
    fixture_resolve_settings(&ss);
    ss.transport_maps = fixture_table("texthash", "transport", transport_table);
    struct site site;
    CHECK(site_open(&site, &rs, &ss) == 0);
    if (site.r == NULL)
        return;
    /* Full address, then without the extension. */
    CHECK_STR(res(&site, "special@other.test"),
              "default smtp [special.host] special@other.test");
    CHECK_STR(res(&site, "special+tag@other.test"),
              "default smtp [special.host] special+tag@other.test");
    CHECK_STR(res(&site, "user+x@fancy.test"),
              "default error 5.1.2 no such user+x@fancy.test");
    /* Domain. */
    CHECK_STR(res(&site, "other@fancy.test"),
              "default smtp fancy.relay other@fancy.test");
    /* Parent domains as ".parent" (transport_maps is not in
     * parent_domain_matches_subdomains). */
    CHECK_STR(res(&site, "a@x.sub.test"),
              "default relay [subrelay] a@x.sub.test");
    CHECK_STR(res(&site, "a@y.x.sub.test"),
              "default relay [subrelay] a@y.x.sub.test");
    /* ":nexthop" keeps the transport; "transport:" resets the next hop. */
    CHECK_STR(res(&site, "a@sub.test"), "default smtp [justhost] a@sub.test");
    CHECK_STR(res(&site, "a@discard.test"),
              "default discard discard.test a@discard.test");
    CHECK_STR(res(&site, "a@err.test"),
              "default error Address is undeliverable a@err.test");
    CHECK_STR(res(&site, "a@keep.test"), "default smtp keep.test a@keep.test");
    /* "*" last, for every class but virtual alias. */
    CHECK_STR(res(&site, "a@random.test"), "default smtp [wild] a@random.test");
    CHECK_STR(res(&site, "user@example.com"),
              "local smtp [wild] user@example.com");
    CHECK_STR(res(&site, "x@alias.test"),
              "alias error User unknown in virtual alias table x@alias.test");
    site_close(&site);

    /* With transport_maps in parent_domain_matches_subdomains, "sub.test"
     * covers its subdomains. */
    ss.parent_domain_matches_subdomains = "relay_domains, transport_maps";
    CHECK(site_open(&site, &rs, &ss) == 0);
    CHECK_STR(res(&site, "a@x.sub.test"),
              "default smtp [justhost] a@x.sub.test");
    site_close(&site);

    /* A regexp transport table sees the full address only. */
    fixture_resolve_settings(&ss);
    ss.transport_maps = fixture_table("regexp", "transport.re",
                                      "/^other\\.test$/ smtp:[wrong]\n"
                                      "/@re\\.test$/ smtp:[right]\n");
    CHECK(site_open(&site, &rs, &ss) == 0);
    CHECK_STR(res(&site, "a@re.test"), "default smtp [right] a@re.test");
    CHECK_STR(res(&site, "a@other.test"),
              "default smtp other.test a@other.test");
    site_close(&site);
}

static void test_table_errors(void)
{
    struct rewrite_settings rs;
    struct resolve_settings ss;
    fixture_rewrite_settings(&rs);
    fixture_resolve_settings(&ss);
    struct site site;

    ss.transport_maps = "fail:transport";
    CHECK(site_open(&site, &rs, &ss) == 0);
    CHECK_STR(res(&site, "a@other.test"), "TEMPFAIL");
    CHECK_STR(res(&site, "user@example.com"), "TEMPFAIL");
    site_close(&site);

    fixture_resolve_settings(&ss);
    ss.relay_domains = fixture_missing("texthash");
    CHECK(site_open(&site, &rs, &ss) == 0);
    CHECK_STR(res(&site, "a@other.test"), "TEMPFAIL");
    /* Classes decided before relay_domains is asked are fine. */
    CHECK_STR(res(&site, "a@vmail.test"),
              "virtual virtual vmail.test a@vmail.test");
    CHECK_STR(res(&site, "user@example.com"),
              "local local mail.example.com user@example.com");
    site_close(&site);

    fixture_resolve_settings(&ss);
    ss.virtual_alias_domains = "fail:valias";
    CHECK(site_open(&site, &rs, &ss) == 0);
    CHECK_STR(res(&site, "a@other.test"), "TEMPFAIL");
    site_close(&site);

    fixture_resolve_settings(&ss);
    ss.virtual_mailbox_domains = "fail:vmail";
    CHECK(site_open(&site, &rs, &ss) == 0);
    CHECK_STR(res(&site, "a@other.test"), "TEMPFAIL");
    CHECK_STR(res(&site, "x@alias.test"),
              "alias error User unknown in virtual alias table x@alias.test");
    site_close(&site);

    /* mydestination broken: even the relay-trick loop stops with an error,
     * never treats our domain as foreign. */
    fixture_resolve_settings(&ss);
    rs.mydestination = "fail:mydest";
    CHECK(site_open(&site, &rs, &ss) == 0);
    CHECK_STR(res(&site, "user%other.test@example.com"), "TEMPFAIL");
    CHECK_STR(res(&site, "user@example.com"), "TEMPFAIL");
    site_close(&site);

    /* A null transport is a configuration error: tempfail. */
    fixture_rewrite_settings(&rs);
    fixture_resolve_settings(&ss);
    ss.default_transport = "";
    CHECK(site_open(&site, &rs, &ss) == 0);
    CHECK_STR(res(&site, "a@other.test"), "TEMPFAIL");
    site_close(&site);
}

int main(void)
{
    if (fixture_init("test_resolve") < 0)
        return 1;
    log_set_program("test_resolve");
    UNIT_RUN(test_classes);
    UNIT_RUN(test_relay_tricks);
    UNIT_RUN(test_malformed);
    UNIT_RUN(test_transport_maps);
    UNIT_RUN(test_table_errors);
    UNIT_RUN(test_sender_dependent_relayhost);
    fixture_cleanup();
    return unit_summary();
}
