/* test_dkim_parse.c: the DKIM tag list, DKIM-Signature and key record
 * parsers (lib/dkim/dkim_tags, dkim_sig, dkim_key). */
#include <string.h>

#include "dkim/dkim_key.h"
#include "dkim/dkim_sig.h"
#include "dkim/dkim_tags.h"
#include "unit.h"

#define RSA_SPKI                                                              \
    "MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQDkHlOQoBTzWRiGs5V6NpP3idY6Wk08a5q" \
    "hdR6wy5bdOKb2jLQiY/J16JYi0Qvx/byYzCNb3W91y3FutACDfzwQ/BC/e/8uBsCR+yz1L" \
    "xj+PL6lHvqMKrM3rG4hstT5QjvHO9PzoxZyVYLzBfO2EeC3Ip3G+2kryOTIKT+l/K4w3QI" \
    "DAQAB"
#define RSA_PKCS1                                                             \
    "MIGJAoGBALVI635dLK4cJJAH3Lx6upo3X/Lm1tQz3mezcWTA3BUBnyIsdnRf57aD5BtNmhP" \
    "rYYDlWlzw3UgnKisIxktkk5+iMQMlFtAS10JB8L3YadXNJY+JBcbeSi5TgJe4WFzNgW95FW" \
    "DAuSTRXSWZfA/8xjflbTLDx0euFZOM7C4T0GwLAgMBAAE="
#define ED_KEY "11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo="

static int tags_ok(const char *text)
{
    struct dkim_tag_list list;
    struct buf err = BUF_INIT;
    int rc = dkim_tags_parse(text, strlen(text), &list, &err);
    buf_free(&err);
    return rc == 0;
}

static void test_tags(void)
{
    struct dkim_tag_list list;
    struct buf err = BUF_INIT;
    const char *text = " a = b c ;\r\n\tbh=x;b=  Zm9v\r\n YmFy ; ";
    CHECK_INT(dkim_tags_parse(text, strlen(text), &list, &err), 0);
    CHECK_INT(list.count, 3);
    const struct dkim_tag *a = dkim_tags_find(&list, "a");
    CHECK(a && a->value_len == 3 && memcmp(a->value, "b c", 3) == 0);
    const struct dkim_tag *b = dkim_tags_find(&list, "b");
    CHECK(b != NULL && dkim_tags_find(&list, "B") == NULL);
    struct buf compact = BUF_INIT;
    dkim_tag_value_compact(b, &compact);
    CHECK_STR(buf_cstr(&compact), "Zm9vYmFy");
    /* raw covers everything between "=" and ";" */
    CHECK_INT(text[b->raw_start - 1], '=');
    CHECK_INT(text[b->raw_end], ';');
    buf_free(&compact);
    buf_free(&err);

    CHECK(tags_ok(""));
    CHECK(tags_ok("a=;"));
    CHECK(tags_ok("v=DKIM1: g=*; k=rsa")); /* "=" and ":" are VALCHARs */
    CHECK(!tags_ok("a=1; a=2"));           /* duplicate */
    CHECK(!tags_ok("1a=1"));               /* name starts with a digit */
    CHECK(!tags_ok("a-b=1"));
    CHECK(!tags_ok("a"));
    CHECK(!tags_ok("a=1;;"));
    CHECK(!tags_ok("a=1\nb=2"));  /* line break without folding */
    CHECK(!tags_ok("a=\x01"));
    CHECK(!tags_ok("a=1; b=2;\n"));
    char many[4 * DKIM_TAGS_MAX + 16] = "";
    for (int i = 0; i < DKIM_TAGS_MAX + 1; i++) {
        char one[8];
        snprintf(one, sizeof(one), "%c%c=;", 'a' + i / 26, 'a' + i % 26);
        strcat(many, one);
    }
    CHECK(!tags_ok(many));
}

static int sig_parse(const char *text, struct dkim_sig *sig,
                     enum dkim_result *result, struct buf *reason)
{
    dkim_sig_free(sig);
    dkim_sig_init(sig);
    *result = DKIM_RESULT_NONE;
    return dkim_sig_parse(text, strlen(text), sig, result, reason);
}

#define SIG_BASE "v=1; a=rsa-sha256; d=Example.COM; s=Sel; bh=Zm9v; b=YmFy;"

static void test_signature(void)
{
    struct dkim_sig sig;
    dkim_sig_init(&sig);
    enum dkim_result r;
    struct buf why = BUF_INIT;
    CHECK_INT(sig_parse(SIG_BASE " h=From : To: from;\r\n c=relaxed;"
                        " i=joe@sub.example.com; l=42; t=100; x=200;"
                        " q=dns/txt:other/x; z=From:a; unknown=1",
                        &sig, &r, &why), 0);
    CHECK_STR(sig.domain, "example.com");
    CHECK_STR(sig.selector, "sel");
    CHECK_INT(sig.alg, DKIM_ALG_RSA_SHA256);
    CHECK_INT(sig.header_canon, DKIM_CANON_RELAXED);
    CHECK_INT(sig.body_canon, DKIM_CANON_SIMPLE);
    CHECK_INT(sig.headers.count, 3);
    CHECK_STR(sig.headers.items[0], "from");
    CHECK_STR(sig.headers.items[1], "to");
    CHECK_STR(buf_cstr(&sig.identity), "joe@sub.example.com");
    CHECK(sig.has_length && sig.length == 42);
    CHECK(sig.timestamp == 100 && sig.expiration == 200);
    CHECK_INT(sig.body_hash_len, 3);
    CHECK_INT(sig.signature.len, 3);

    CHECK_INT(sig_parse(SIG_BASE " h=from; c=simple/relaxed", &sig, &r, &why), 0);
    CHECK_STR(buf_cstr(&sig.identity), "@example.com");
    CHECK_INT(sig.body_canon, DKIM_CANON_RELAXED);
    CHECK_INT(sig_parse("v=1; a=ed25519-sha256; d=a.b; s=x; bh=Zm9v; b=YmFy; h=from",
                        &sig, &r, &why), 0);
    CHECK_INT(sig.alg, DKIM_ALG_ED25519_SHA256);

    static const struct {
        const char *text;
        enum dkim_result result;
        const char *reason;
    } bad[] = {
        {SIG_BASE " h=to", DKIM_RESULT_PERMERROR, "From is not signed"},
        {"v=1; a=rsa-sha256; d=e.com; s=s; bh=Zm9v; h=from",
         DKIM_RESULT_NEUTRAL, "signature lacks b="},
        {"v=2; a=rsa-sha256; d=e.com; s=s; bh=Zm9v; b=YmFy; h=from",
         DKIM_RESULT_NEUTRAL, "signature version is not 1"},
        {"v=1; a=rsa-md5; d=e.com; s=s; bh=Zm9v; b=YmFy; h=from",
         DKIM_RESULT_NEUTRAL, "unknown signature algorithm"},
        {SIG_BASE " h=from; c=relaxed/strange", DKIM_RESULT_NEUTRAL,
         "unknown canonicalization"},
        {SIG_BASE " h=from; i=joe@other.com", DKIM_RESULT_NEUTRAL,
         "i= is not within d="},
        {SIG_BASE " h=from; i=joe@notexample.com", DKIM_RESULT_NEUTRAL,
         "i= is not within d="},
        {SIG_BASE " h=from; i=joe", DKIM_RESULT_NEUTRAL, "bad i= identity"},
        {SIG_BASE " h=from; l=-1", DKIM_RESULT_NEUTRAL, "bad l= length"},
        {SIG_BASE " h=from; l=99999999999999999999", DKIM_RESULT_NEUTRAL,
         "bad l= length"},
        {SIG_BASE " h=from; t=200; x=100", DKIM_RESULT_NEUTRAL,
         "x= is before t="},
        {SIG_BASE " h=from; t=1234567890123", DKIM_RESULT_NEUTRAL,
         "bad t= timestamp"},
        {SIG_BASE " h=from; q=http/well-known", DKIM_RESULT_NEUTRAL,
         "q= lacks dns/txt"},
        {SIG_BASE " h=from::to", DKIM_RESULT_NEUTRAL, "bad h= list"},
        {"v=1; a=rsa-sha256; d=e..com; s=s; bh=Zm9v; b=YmFy; h=from",
         DKIM_RESULT_NEUTRAL, "bad d= domain"},
        {"v=1; a=rsa-sha256; d=e.com; s=s s; bh=Zm9v; b=YmFy; h=from",
         DKIM_RESULT_NEUTRAL, "bad s= selector"},
        {"v=1; a=rsa-sha256; d=e.com; s=s; bh=Zm9v; b=Y!Fy; h=from",
         DKIM_RESULT_NEUTRAL, "bad b= value"},
        {"v=1; a=rsa-sha256; d=e.com; s=s; bh=; b=YmFy; h=from",
         DKIM_RESULT_NEUTRAL, "bad bh= value"},
        {SIG_BASE " h=from; h=to", DKIM_RESULT_NEUTRAL,
         "signature syntax error: duplicate tag"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        CHECK_INT(sig_parse(bad[i].text, &sig, &r, &why), -1);
        CHECK_INT(r, bad[i].result);
        CHECK_STR(buf_cstr(&why), bad[i].reason);
    }
    dkim_sig_free(&sig);
    buf_free(&why);
}

static int key_parse(const char *text, struct dkim_key *key, struct buf *why)
{
    return dkim_key_parse(text, strlen(text), key, why);
}

static void test_key(void)
{
    struct dkim_key key;
    dkim_key_init(&key);
    struct buf why = BUF_INIT;
    CHECK_INT(key_parse("v=DKIM1; k=rsa; p=" RSA_SPKI, &key, &why), 0);
    CHECK(key.pkey != NULL && key.type == DKIM_KEY_RSA && key.bits == 1024);
    CHECK_INT(key.hashes, DKIM_KEY_HASH_SHA1 | DKIM_KEY_HASH_SHA256);
    /* a bare PKCS#1 RSAPublicKey, k= defaulted */
    CHECK_INT(key_parse("v=DKIM1; p=" RSA_PKCS1, &key, &why), 0);
    CHECK(key.pkey != NULL && key.bits == 1024);
    CHECK_INT(key_parse("k=ed25519; t=y:s:x; h=sha256:sha512; s=email;"
                        " n=note; p=" ED_KEY, &key, &why), 0);
    CHECK(key.pkey != NULL && key.type == DKIM_KEY_ED25519);
    CHECK(key.testing && key.strict);
    CHECK_INT(key.hashes, DKIM_KEY_HASH_SHA256);
    CHECK_INT(key_parse("v=DKIM1; p=", &key, &why), 0);
    CHECK(key.revoked && key.pkey == NULL);
    CHECK_INT(key_parse("s=*; p=" RSA_SPKI, &key, &why), 0);

    static const struct {
        const char *text, *reason;
    } bad[] = {
        {"v=DKIM1: g=*; k=rsa; p=" RSA_SPKI, "key record version is not DKIM1"},
        {"k=rsa; v=DKIM1; p=" RSA_SPKI, "key record version is not DKIM1"},
        {"v=DKIM1; k=ed25519-sha256; p=" RSA_SPKI, "unknown key type"},
        {"v=DKIM1; k=rsa", "key record lacks p="},
        {"v=DKIM1; s=http; p=" RSA_SPKI, "key is not for email"},
        {"v=DKIM1; p=" ED_KEY, "key data does not parse"},       /* not RSA */
        {"k=ed25519; p=" RSA_SPKI, "key data does not parse"},   /* not 32 bytes */
        {"v=DKIM1; p=MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQDkHlOQ", "key data does not parse"},
        {"v=DKIM1; p=!!!!", "key data does not parse"},
        {"v=DKIM1; p=x; p=y", "key syntax error: duplicate tag"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        CHECK_INT(key_parse(bad[i].text, &key, &why), -1);
        CHECK_STR(buf_cstr(&why), bad[i].reason);
    }
    dkim_key_free(&key);
    buf_free(&why);
}

int main(void)
{
    UNIT_RUN(test_tags);
    UNIT_RUN(test_signature);
    UNIT_RUN(test_key);
    return unit_summary();
}
