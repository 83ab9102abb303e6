/* test_targets.c: unit tests for lib/dns/targets_list: what an MX answer
 * means (failure, null MX, malformed, none), and the target list built
 * from address answers: preference order, equal preferences shuffled on
 * each lookup, the family preference, inet_protocols, loop detection
 * (loops back to myself / unable to find primary relay), the balance of
 * families, the address limit, and Postfix's texts when no host has an
 * address. The network side is tested in tests/e2e/test_targets.py. */
#include <arpa/inet.h>
#include <string.h>
#include <sys/socket.h>

#include "config/config.h"
#include "dns/targets.h"
#include "unit.h"

/* A result of addresses given as text ("192.0.2.1", "2001:db8::1"). */
static void answer(struct dns_result *r, int type, const char *const *addrs,
                   size_t count)
{
    dns_result_init(r, type);
    if (count == 0) {
        r->status = DNS_NOTFOUND;
        return;
    }
    r->status = DNS_FOUND;
    r->count = count;
    r->records = calloc(count, sizeof(*r->records));
    for (size_t i = 0; i < count; i++) {
        r->records[i].type = type;
        inet_pton(type == DNS_TYPE_A ? AF_INET : AF_INET6, addrs[i],
                  type == DNS_TYPE_A ? r->records[i].u.a
                                     : r->records[i].u.aaaa);
    }
}

static struct targets_settings settings;
static const char *own_address = "";

static int is_own(int family, const unsigned char *addr, void *ctx)
{
    char text[64];
    inet_ntop(family, addr, text, sizeof(text));
    return strcmp(text, own_address) == 0;
}

static unsigned fixed_random_value;
static unsigned fixed_random(unsigned bound)
{
    return fixed_random_value % bound;
}

static void setup(void)
{
    targets_settings_init(&settings);
    settings.randomize = 0;
    settings.is_own_address = is_own;
    own_address = "";
}

static void init_out(struct targets *out, const char *name, int from_mx,
                     unsigned best)
{
    targets_init(out);
    snprintf(out->name, sizeof(out->name), "%s", name);
    out->from_mx = from_mx;
    out->best_preference = best;
}

static void test_mx_step(void)
{
    struct dns_result mx;
    struct targets out;
    targets_init(&out);
    dns_result_init(&mx, DNS_TYPE_MX);
    mx.status = DNS_TEMPFAIL;
    CHECK_INT(targets_mx_step(&mx, "d.example", &out), -1);
    CHECK_INT(out.status, TARGETS_DEFER);
    CHECK_STR(out.dsn, "4.4.3");
    CHECK_STR(out.reason, "Host or domain name not found. Name service error "
                          "for name=d.example type=MX: Host not found, try "
                          "again");
    mx.status = DNS_FOUND;
    mx.null_mx = 1;
    CHECK_INT(targets_mx_step(&mx, "nullmx.example", &out), -1);
    CHECK_INT(out.status, TARGETS_BOUNCE);
    CHECK_STR(out.dsn, "5.1.0");
    CHECK_STR(out.reason, "Domain nullmx.example does not accept mail "
                          "(nullMX)");
    mx.null_mx = 0;
    CHECK_INT(targets_mx_step(&mx, "d.example", &out), 1);
    mx.status = DNS_NOTFOUND;
    mx.nxdomain = 1;
    CHECK_INT(targets_mx_step(&mx, "d.example", &out), 0);
    mx.nxdomain = 0;
    mx.malformed = 1;
    CHECK_INT(targets_mx_step(&mx, "d.example", &out), -1);
    CHECK_INT(out.status, TARGETS_BOUNCE);
    CHECK_STR(out.dsn, "5.4.4");
    targets_free(&out);
}

static void test_order_and_family(void)
{
    setup();
    const char *a1[] = {"192.0.2.1"}, *a2[] = {"192.0.2.2", "192.0.2.3"};
    const char *v6[] = {"2001:db8::1"};
    struct dns_result r1, r2, r2v6, none;
    answer(&r1, DNS_TYPE_A, a1, 1);
    answer(&r2, DNS_TYPE_A, a2, 2);
    answer(&r2v6, DNS_TYPE_AAAA, v6, 1);
    answer(&none, DNS_TYPE_AAAA, NULL, 0);
    struct targets_host hosts[] = {{"mx1.example", 10, &r1, &none},
                                   {"mx2.example", 20, &r2, &r2v6}};
    struct targets out;
    init_out(&out, "d.example", 1, 10);
    targets_assemble(&settings, 1, 25, hosts, 2, &out);
    CHECK_INT(out.status, TARGETS_OK);
    CHECK_INT(out.count, 4);
    CHECK_STR(out.list[0].host, "mx1.example");
    CHECK_STR(out.list[0].addr_text, "192.0.2.1");
    CHECK_INT(out.list[0].port, 25);
    CHECK_INT(out.list[0].preference, 10);
    CHECK_STR(out.list[1].addr_text, "192.0.2.2");
    CHECK_STR(out.list[3].addr_text, "2001:db8::1");
    /* ipv6 first among equal preferences. */
    settings.prefer = TARGETS_PREFER_IPV6;
    targets_assemble(&settings, 1, 25, hosts, 2, &out);
    CHECK_STR(out.list[1].addr_text, "2001:db8::1");
    CHECK_INT(out.list[1].family, AF_INET6);
    /* inet_protocols = ipv4. */
    settings.ipv6 = 0;
    targets_assemble(&settings, 1, 25, hosts, 2, &out);
    CHECK_INT(out.count, 3);
    /* The limit. */
    settings.ipv6 = 1;
    settings.address_limit = 2;
    targets_assemble(&settings, 1, 25, hosts, 2, &out);
    CHECK_INT(out.count, 2);
    targets_free(&out);
    dns_result_free(&r1);
    dns_result_free(&r2);
    dns_result_free(&r2v6);
}

static void test_shuffle(void)
{
    setup();
    settings.randomize = 1;
    settings.random_below = fixed_random;
    const char *a[] = {"192.0.2.1"}, *b[] = {"192.0.2.2"}, *c[] = {"192.0.2.3"};
    struct dns_result ra, rb, rc;
    answer(&ra, DNS_TYPE_A, a, 1);
    answer(&rb, DNS_TYPE_A, b, 1);
    answer(&rc, DNS_TYPE_A, c, 1);
    struct targets_host hosts[] = {{"a.example", 10, &ra, NULL},
                                   {"b.example", 10, &rb, NULL},
                                   {"c.example", 5, &rc, NULL}};
    struct targets out;
    init_out(&out, "d.example", 1, 5);
    /* Whatever the shuffle, the best preference comes first; the two of
     * preference 10 come in either order. */
    int seen_a_first = 0, seen_b_first = 0;
    for (unsigned r = 0; r < 6; r++) {
        fixed_random_value = r;
        targets_assemble(&settings, 1, 25, hosts, 3, &out);
        CHECK_INT(out.count, 3);
        CHECK_STR(out.list[0].host, "c.example");
        seen_a_first |= strcmp(out.list[1].host, "a.example") == 0;
        seen_b_first |= strcmp(out.list[1].host, "b.example") == 0;
    }
    CHECK(seen_a_first && seen_b_first);
    targets_free(&out);
    dns_result_free(&ra);
    dns_result_free(&rb);
    dns_result_free(&rc);
}

static void test_loops(void)
{
    setup();
    const char *a1[] = {"192.0.2.1"}, *a2[] = {"192.0.2.2"},
               *a3[] = {"192.0.2.3"};
    struct dns_result r1, r2, r3;
    answer(&r1, DNS_TYPE_A, a1, 1);
    answer(&r2, DNS_TYPE_A, a2, 1);
    answer(&r3, DNS_TYPE_A, a3, 1);
    struct targets_host hosts[] = {{"mx1.example", 10, &r1, NULL},
                                   {"us.example", 20, &r2, NULL},
                                   {"mx3.example", 30, &r3, NULL}};
    struct targets out;
    /* We are the second MX: only the first is left. */
    own_address = "192.0.2.2";
    init_out(&out, "d.example", 1, 10);
    targets_assemble(&settings, 1, 25, hosts, 3, &out);
    CHECK_INT(out.status, TARGETS_OK);
    CHECK_INT(out.count, 1);
    CHECK_STR(out.list[0].host, "mx1.example");
    CHECK_INT(out.found_myself, 1);
    /* Not on port 25 (loop_detect 0): everything stays. */
    targets_free(&out);
    init_out(&out, "d.example", 1, 10);
    targets_assemble(&settings, 0, 2525, hosts, 3, &out);
    CHECK_INT(out.count, 3);
    /* We are the best MX: a loop, bounced. */
    own_address = "192.0.2.1";
    targets_free(&out);
    init_out(&out, "d.example", 1, 10);
    targets_assemble(&settings, 1, 25, hosts, 3, &out);
    CHECK_INT(out.status, TARGETS_BOUNCE);
    CHECK_STR(out.dsn, "5.4.6");
    CHECK_STR(out.reason, "mail for d.example loops back to myself");
    /* We are the best MX with an address, but a better MX (preference 5)
     * had none: defer, it may come back. */
    targets_free(&out);
    init_out(&out, "d.example", 1, 5);
    targets_assemble(&settings, 1, 25, hosts, 3, &out);
    CHECK_INT(out.status, TARGETS_DEFER);
    CHECK_STR(out.dsn, "4.4.4");
    CHECK_STR(out.reason, "unable to find primary relay for d.example");
    /* A host next hop that is us. */
    targets_free(&out);
    init_out(&out, "us.example", 0, 0);
    own_address = "192.0.2.2";
    struct targets_host self[] = {{"us.example", 0, &r2, NULL}};
    targets_assemble(&settings, 1, 25, self, 1, &out);
    CHECK_INT(out.status, TARGETS_BOUNCE);
    CHECK_STR(out.reason, "mail for us.example loops back to myself");
    targets_free(&out);
    dns_result_free(&r1);
    dns_result_free(&r2);
    dns_result_free(&r3);
}

static void test_no_address(void)
{
    setup();
    struct dns_result nx_a, nx_aaaa, nodata_a, nodata_aaaa, temp;
    answer(&nx_a, DNS_TYPE_A, NULL, 0);
    nx_a.nxdomain = 1;
    answer(&nx_aaaa, DNS_TYPE_AAAA, NULL, 0);
    nx_aaaa.nxdomain = 1;
    answer(&nodata_a, DNS_TYPE_A, NULL, 0);
    answer(&nodata_aaaa, DNS_TYPE_AAAA, NULL, 0);
    dns_result_init(&temp, DNS_TYPE_A);
    temp.status = DNS_TEMPFAIL;
    struct targets out;
    /* NXDOMAIN: the last type asked speaks. */
    struct targets_host nx[] = {{"nx.example", 0, &nx_a, &nx_aaaa}};
    init_out(&out, "nx.example", 0, 0);
    targets_assemble(&settings, 1, 25, nx, 1, &out);
    CHECK_INT(out.status, TARGETS_BOUNCE);
    CHECK_STR(out.dsn, "5.4.4");
    CHECK_STR(out.reason, "Host or domain name not found. Name service error "
                          "for name=nx.example type=AAAA: Host not found");
    /* MX hosts without addresses, one failing: defer. */
    struct targets_host mx[] = {{"mx1.example", 10, &nodata_a, &nodata_aaaa},
                                {"mx2.example", 20, &temp, &nodata_aaaa}};
    targets_free(&out);
    init_out(&out, "d.example", 1, 10);
    targets_assemble(&settings, 1, 25, mx, 2, &out);
    CHECK_INT(out.status, TARGETS_DEFER);
    CHECK_STR(out.dsn, "4.4.3");
    CHECK_STR(out.reason, "Host or domain name not found. Name service error "
                          "for name=mx2.example type=A: Host not found, try "
                          "again");
    /* None failing: bounce, or defer with
     * smtp_defer_if_no_mx_address_found. */
    targets_free(&out);
    init_out(&out, "d.example", 1, 10);
    targets_assemble(&settings, 1, 25, mx, 1, &out);
    CHECK_INT(out.status, TARGETS_BOUNCE);
    CHECK_STR(out.reason, "Host or domain name not found. Name service error "
                          "for name=mx1.example type=AAAA: Host found but no "
                          "data record of requested type");
    settings.defer_if_no_mx_address = 1;
    targets_free(&out);
    init_out(&out, "d.example", 1, 10);
    targets_assemble(&settings, 1, 25, mx, 1, &out);
    CHECK_INT(out.status, TARGETS_DEFER);
    CHECK_STR(out.dsn, "4.4.4");
    targets_free(&out);
}

static void test_balance(void)
{
    setup();
    settings.address_limit = 4;
    const char *v4[] = {"192.0.2.1", "192.0.2.2", "192.0.2.3", "192.0.2.4",
                        "192.0.2.5"};
    const char *v6[] = {"2001:db8::1", "2001:db8::2"};
    struct dns_result r4, r6;
    answer(&r4, DNS_TYPE_A, v4, 5);
    answer(&r6, DNS_TYPE_AAAA, v6, 2);
    struct targets_host hosts[] = {{"mx.example", 10, &r4, &r6}};
    struct targets out;
    init_out(&out, "d.example", 1, 10);
    targets_assemble(&settings, 1, 25, hosts, 1, &out);
    CHECK_INT(out.count, 4);
    size_t six = 0;
    for (size_t i = 0; i < out.count; i++)
        six += out.list[i].family == AF_INET6;
    CHECK_INT(six, 2); /* without the balance the five IPv4 crowd them out */
    settings.balance = 0;
    targets_assemble(&settings, 1, 25, hosts, 1, &out);
    six = 0;
    for (size_t i = 0; i < out.count; i++)
        six += out.list[i].family == AF_INET6;
    CHECK_INT(six, 0);
    targets_free(&out);
    dns_result_free(&r4);
    dns_result_free(&r6);
}

/* main.cf text into settings; returns what targets_settings_from_config
 * returns, the reason in err. */
static int from_config(const char *text, const char *prefix, struct buf *err)
{
    config_reset();
    buf_reset(err);
    if (config_load_string(text, strlen(text), "/cfg", "/cfg/main.cf", err) < 0)
        return -2;
    return targets_settings_from_config(&settings, prefix, err);
}

static void test_settings(void)
{
    struct buf err = BUF_INIT;
    CHECK_INT(from_config("", "smtp", &err), 0);
    CHECK(settings.ipv4 && settings.ipv6);
    CHECK_INT(settings.prefer, TARGETS_PREFER_ANY);
    CHECK_INT(settings.address_limit, 5);
    CHECK(settings.randomize && settings.balance);
    CHECK(!settings.dnssec && !settings.lmtp &&
          !settings.defer_if_no_mx_address);
    CHECK_INT(from_config("inet_protocols = ipv4\n"
                          "smtp_address_preference = ipv6\n"
                          "smtp_mx_address_limit = 0\n"
                          "smtp_randomize_addresses = no\n"
                          "smtp_balance_inet_protocols = no\n"
                          "smtp_defer_if_no_mx_address_found = yes\n"
                          "smtp_dns_support_level = dnssec\n"
                          "smtp_host_lookup = dns, native\n",
                          "smtp", &err),
              0);
    CHECK(settings.ipv4 && !settings.ipv6);
    CHECK_INT(settings.prefer, TARGETS_PREFER_IPV6);
    CHECK_INT(settings.address_limit, 0);
    CHECK(!settings.randomize && !settings.balance);
    CHECK(settings.defer_if_no_mx_address && settings.dnssec);
    /* lmtp has its own parameters: ipv6 first by default. */
    CHECK_INT(from_config("smtp_address_preference = ipv4\n", "lmtp", &err), 0);
    CHECK_INT(settings.prefer, TARGETS_PREFER_IPV6);
    CHECK(settings.lmtp);
    /* What we cannot honour is refused, saying why. */
    CHECK_INT(from_config("smtp_dns_support_level = disabled\n", "smtp", &err),
              -1);
    CHECK(strstr(buf_cstr(&err), "smtp_dns_support_level") != NULL);
    CHECK_INT(from_config("smtp_host_lookup = native\n", "smtp", &err), -1);
    CHECK_INT(from_config("smtp_address_preference = both\n", "smtp", &err),
              -1);
    CHECK_INT(from_config("inet_protocols = ipv5\n", "smtp", &err), -1);
    /* The trust anchor is used only with dnssec, and only when readable. */
    struct dns_settings dns;
    dns_settings_init(&dns);
    CHECK_INT(from_config("postern_dns_trust_anchor_file = /dev/null\n", "smtp",
                          &err),
              0);
    targets_dns_settings(&settings, &dns);
    CHECK(dns.trust_anchor_file == NULL);
    CHECK_INT(from_config("postern_dns_trust_anchor_file = /dev/null\n"
                          "smtp_dns_support_level = dnssec\n",
                          "smtp", &err),
              0);
    targets_dns_settings(&settings, &dns);
    CHECK_STR(dns.trust_anchor_file, "/dev/null");
    dns.trust_anchor_file = NULL;
    CHECK_INT(from_config("postern_dns_trust_anchor_file = /nonexistent/k\n"
                          "smtp_dns_support_level = dnssec\n",
                          "smtp", &err),
              0);
    targets_dns_settings(&settings, &dns);
    CHECK(dns.trust_anchor_file == NULL);
    dns_settings_free(&dns);
    config_reset();
    buf_free(&err);
}

int main(void)
{
    UNIT_RUN(test_mx_step);
    UNIT_RUN(test_order_and_family);
    UNIT_RUN(test_shuffle);
    UNIT_RUN(test_loops);
    UNIT_RUN(test_no_address);
    UNIT_RUN(test_balance);
    UNIT_RUN(test_settings);
    return unit_summary();
}
