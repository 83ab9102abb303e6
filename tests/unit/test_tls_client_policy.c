/* test_tls_client_policy.c: the SMTP client's TLS levels and
 * smtp_tls_policy_maps values (lib/tls/tls_policy): every level, the
 * attributes each takes, the errors that must defer, and the lookup by
 * next hop with its parent domains. */
#include "unit.h"

#include <stdio.h>
#include <unistd.h>

#include "base/buf.h"
#include "tables/maps.h"
#include "tls/tls_policy.h"

/* The parsed policy as "level [protocols=..] [ciphers=..] [match=a|b]",
 * or "error: ..." */
static const char *parse(const char *value)
{
    static struct buf out;
    buf_free(&out);
    buf_init(&out);
    struct tls_policy p;
    tls_policy_init(&p);
    struct buf err = BUF_INIT;
    if (tls_policy_parse(value, &p, &err) < 0) {
        buf_appendf(&out, "error: %s", buf_cstr(&err));
    } else {
        buf_append_str(&out, tls_client_level_name(p.level));
        if (p.protocols)
            buf_appendf(&out, " protocols=%s", p.protocols);
        if (p.ciphers)
            buf_appendf(&out, " ciphers=%s", p.ciphers);
        if (p.exclude)
            buf_appendf(&out, " exclude=%s", p.exclude);
        if (p.servername)
            buf_appendf(&out, " servername=%s", p.servername);
        if (p.connection_reuse >= 0)
            buf_appendf(&out, " reuse=%d", p.connection_reuse);
        for (size_t i = 0; i < p.match.count; i++)
            buf_appendf(&out, "%s%s", i ? "|" : " match=", p.match.items[i]);
    }
    tls_policy_free(&p);
    buf_free(&err);
    return buf_cstr(&out);
}

static void test_levels(void)
{
    CHECK_STR(parse("none"), "none");
    CHECK_STR(parse("may"), "may");
    CHECK_STR(parse("encrypt"), "encrypt");
    CHECK_STR(parse("verify"), "verify");
    CHECK_STR(parse("secure"), "secure");
    CHECK_STR(parse("dane"), "dane");
    CHECK_STR(parse("DANE-only"), "dane-only");
    CHECK_STR(parse("fingerprint match=AA:bb"), "fingerprint match=aabb");
    CHECK_STR(parse("  may  "), "may");
    CHECK_STR(parse("bogus"), "error: invalid TLS security level \"bogus\"");
    CHECK_STR(parse(""), "error: empty TLS policy");
    CHECK(tls_client_level_mandatory(TLS_CLIENT_ENCRYPT));
    CHECK(tls_client_level_mandatory(TLS_CLIENT_DANE));
    CHECK(!tls_client_level_mandatory(TLS_CLIENT_MAY));
    enum tls_client_level level = TLS_CLIENT_SECURE;
    CHECK_INT(tls_client_level_parse("", &level), 0);
    CHECK_INT(level, TLS_CLIENT_NONE);
}

static void test_attributes(void)
{
    CHECK_STR(parse("encrypt protocols=!SSLv2:!SSLv3:!TLSv1 ciphers=high"),
              "encrypt protocols=!SSLv2:!SSLv3:!TLSv1 ciphers=high");
    CHECK_STR(parse("may, protocols=>=TLSv1.2,ciphers=medium"),
              "may protocols=>=TLSv1.2 ciphers=medium");
    CHECK_STR(parse("verify match=hostname:nexthop"),
              "verify match=hostname|nexthop");
    CHECK_STR(
        parse("secure match=.Example.COM:example.com servername=hostname"),
        "secure servername=hostname match=.example.com|example.com");
    CHECK_STR(parse("dane connection_reuse=yes exclude=3DES:RC4"),
              "dane exclude=3DES:RC4 reuse=1");
    /* Fingerprints: colons optional, "|" or repeated match= add up. */
    CHECK_STR(parse("fingerprint match=b6:b4:72|51E9AF2E match=0a:0B"),
              "fingerprint match=b6b472|51e9af2e|0a0b");
}

static void test_errors(void)
{
    CHECK_STR(parse("none ciphers=high"),
              "error: level \"none\" takes no attributes");
    CHECK_STR(parse("may match=nexthop"),
              "error: attribute \"match\" is not valid with level \"may\"");
    CHECK_STR(parse("dane match=hostname"),
              "error: attribute \"match\" is not valid with level \"dane\"");
    CHECK_STR(parse("verify match="),
              "error: attribute \"match\" has an empty value");
    CHECK_STR(parse("verify match"), "error: \"match\" is not name=value");
    CHECK_STR(parse("verify =x"), "error: \"=x\" is not name=value");
    CHECK_STR(parse("verify colour=blue"),
              "error: unknown attribute \"colour\"");
    CHECK_STR(parse("encrypt ciphers=high ciphers=medium"),
              "error: duplicate attribute \"ciphers\"");
    CHECK_STR(parse("encrypt ciphers=strong"),
              "error: invalid cipher grade \"strong\"");
    CHECK_STR(parse("encrypt protocols=TLSv9"),
              "error: protocols: unknown TLS protocol \"TLSv9\"");
    CHECK_STR(parse("encrypt connection_reuse=maybe"),
              "error: connection_reuse must be yes or no, not \"maybe\"");
    CHECK_STR(parse("secure tafile=/etc/ta.pem"),
              "error: attribute \"tafile\" is not supported");
    CHECK_STR(parse("fingerprint match=xyz"),
              "error: malformed fingerprint \"xyz\"");
    CHECK_STR(parse("fingerprint match=abc"),
              "error: malformed fingerprint \"abc\"");
    CHECK_STR(parse("secure match=example..com"),
              "error: malformed match pattern \"example..com\"");
    CHECK_STR(parse("secure match=a/b"),
              "error: malformed match pattern \"a/b\"");
}

/* The lookup by next hop: the whole next hop, then parent domains with a
 * leading dot for a bare domain only; a bad value is an error. */
static void test_lookup(void)
{
    char path[] = "/tmp/tlspolicy-XXXXXX";
    int fd = mkstemp(path);
    if (fd < 0)
        SKIP("cannot create a temporary file");
    FILE *f = fdopen(fd, "w");
    fputs("example.com secure match=.example.com\n"
          ".example.net verify\n"
          "[mx.example.org]:587 encrypt protocols=>=TLSv1.3\n"
          "broken.example bogus\n",
          f);
    fclose(f);
    char spec[64];
    snprintf(spec, sizeof(spec), "texthash:%s", path);
    struct maps *maps = maps_open("smtp_tls_policy_maps", spec, 0);
    struct tls_policy p;
    struct buf err = BUF_INIT;

    tls_policy_init(&p);
    CHECK_INT(tls_policy_lookup(maps, "Example.COM", &p, &err), 1);
    CHECK_INT(p.level, TLS_CLIENT_SECURE);
    CHECK_INT(p.match.count, 1);
    tls_policy_free(&p);

    CHECK_INT(tls_policy_lookup(maps, "mail.sub.example.net", &p, &err), 1);
    CHECK_INT(p.level, TLS_CLIENT_VERIFY);
    tls_policy_free(&p);
    /* ".example.com" is not in the table: no parent match for it. */
    CHECK_INT(tls_policy_lookup(maps, "sub.example.com", &p, &err), 0);
    CHECK_INT(tls_policy_lookup(maps, "[mx.example.org]:587", &p, &err), 1);
    CHECK_INT(p.level, TLS_CLIENT_ENCRYPT);
    CHECK_STR(p.protocols, ">=TLSv1.3");
    tls_policy_free(&p);
    /* Brackets and ports are part of the key, with no parent search. */
    CHECK_INT(tls_policy_lookup(maps, "[mx.example.org]", &p, &err), 0);
    CHECK_INT(tls_policy_lookup(maps, "[a.example.net]", &p, &err), 0);
    CHECK_INT(err.len, 0);
    CHECK_INT(tls_policy_lookup(maps, "broken.example", &p, &err), -1);
    CHECK_STR(buf_cstr(&err), "TLS policy lookup for broken.example: "
                              "invalid TLS security level \"bogus\"");
    tls_policy_free(&p);
    CHECK_INT(tls_policy_lookup(NULL, "example.com", &p, &err), 0);
    buf_free(&err);
    maps_close(maps);
    unlink(path);
}

int main(void)
{
    UNIT_RUN(test_levels);
    UNIT_RUN(test_attributes);
    UNIT_RUN(test_errors);
    UNIT_RUN(test_lookup);
    return unit_summary();
}
