/* test_dkim_sign.c: DKIM signing (lib/dkim/dkim_sign): the conformance
 * private keys reproduce the published signatures byte for byte
 * (RSA PKCS#1 v1.5 and Ed25519 are deterministic), and what we sign
 * verifies with our verifier, streamed, with the header choice of RFC
 * 6376 5.4.1 and From over-signed. */
#include <string.h>

#include "dkim/dkim_sign.h"
#include "dkim_fixture.h"
#include "unit.h"

static int load_key(const char *name, struct dkim_sign_key *key)
{
    struct buf text = BUF_INIT, err = BUF_INIT;
    int rc = read_vector(name, &text);
    if (rc == 0)
        rc = dkim_sign_key_load(text.data, text.len, key, &err);
    if (rc != 0)
        printf("#   %s: %s\n", name, buf_cstr(&err));
    buf_free(&text);
    buf_free(&err);
    return rc;
}

/* The DKIM-Signature fields of a message (raw text up to the next
 * field), in order, with CRLF line ends. */
static size_t signature_fields(const char *msg, struct buf *fields, size_t max)
{
    size_t n = 0;
    const char *p = msg;
    while (n < max && (p = strstr(p, "DKIM-Signature:")) != NULL) {
        const char *end = p;
        for (;;) {
            end = strstr(end, "\r\n");
            if (end == NULL || (end[2] != ' ' && end[2] != '\t'))
                break;
            end += 2;
        }
        buf_set(&fields[n++], p, (size_t)(end - p));
        p = end;
    }
    return n;
}

static void b_value(const char *field, struct buf *out)
{
    const char *b = strstr(field, " b=");
    buf_reset(out);
    for (b = b ? b + 3 : ""; *b && *b != ';'; b++)
        if (*b != ' ' && *b != '\t' && *b != '\r' && *b != '\n')
            buf_append_char(out, *b);
}

static void test_reproduce_published_signatures(void)
{
    struct dkim_sign_key ed, rsa;
    if (load_key("dkimpy/rfc8032_7_1.key", &ed) != 0)
        SKIP("no ../shared/conformance/dkim (set POSTERN_CONFORMANCE_DIR)");
    CHECK_INT(load_key("dkimpy/test.private", &rsa), 0);
    CHECK_INT(ed.alg, DKIM_ALG_ED25519_SHA256);
    CHECK_INT(rsa.alg, DKIM_ALG_RSA_SHA256);
    /* dkimpy's simple/simple pair over rfc6376.msg, and RFC 8463's
     * relaxed/relaxed pair (stalwart 001.txt) over the same message */
    static const struct {
        const char *signed_file, *plain_file;
        enum dkim_canon canon;
        size_t skip_key_lines;
    } cases[] = {
        {"dkimpy/rfc6376.signed.msg", "dkimpy/rfc6376.msg", DKIM_CANON_SIMPLE, 0},
        {"stalwart-mail-auth/001.txt", "dkimpy/rfc6376.msg", DKIM_CANON_RELAXED, 1},
    };
    for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
        struct buf raw = BUF_INIT, signed_msg = BUF_INIT, plain = BUF_INIT;
        struct buf fields[2] = {BUF_INIT, BUF_INIT}, b64 = BUF_INIT,
                   want = BUF_INIT, err = BUF_INIT;
        CHECK_INT(read_vector(cases[c].signed_file, &raw), 0);
        size_t off = 0;
        if (cases[c].skip_key_lines) {
            struct key_table unused = {0};
            off = key_lines(&unused, raw.data, raw.len, 1);
            key_table_free(&unused);
        }
        to_crlf(raw.data + off, raw.len - off, &signed_msg);
        CHECK_INT(read_vector(cases[c].plain_file, &raw), 0);
        to_crlf(raw.data, raw.len, &plain);
        CHECK_INT(signature_fields(signed_msg.data, fields, 2), 2);
        struct dkim_sign_params params;
        dkim_sign_params_init(&params);
        params.domain = "football.example.com";
        params.selector = "brisbane";
        params.header_canon = params.body_canon = cases[c].canon;
        const struct dkim_sign_key *keys[2] = {&ed, &rsa};
        const char *selectors[2] = {"brisbane", "test"};
        struct dkim_signer *s = dkim_signer_new(&params, keys, selectors, 2, &err);
        CHECK(s != NULL);
        for (size_t i = 0; i < plain.len; i += 10)
            dkim_signer_feed(s, plain.data + i, plain.len - i < 10 ? plain.len - i : 10);
        for (size_t k = 0; k < 2; k++) {
            CHECK_INT(dkim_signer_sign_field(s, k, fields[k].data, fields[k].len,
                                             &b64, &err), 0);
            b_value(buf_cstr(&fields[k]), &want);
            CHECK_STR(buf_cstr(&b64), buf_cstr(&want));
        }
        dkim_signer_free(s);
        for (size_t k = 0; k < 2; k++)
            buf_free(&fields[k]);
        buf_free(&raw);
        buf_free(&signed_msg);
        buf_free(&plain);
        buf_free(&b64);
        buf_free(&want);
        buf_free(&err);
    }
    dkim_sign_key_free(&ed);
    dkim_sign_key_free(&rsa);
}

#define TEST_P                                                                \
    "MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQDkHlOQoBTzWRiGs5V6NpP3idY6Wk08a5q" \
    "hdR6wy5bdOKb2jLQiY/J16JYi0Qvx/byYzCNb3W91y3FutACDfzwQ/BC/e/8uBsCR+yz1L" \
    "xj+PL6lHvqMKrM3rG4hstT5QjvHO9PzoxZyVYLzBfO2EeC3Ip3G+2kryOTIKT+l/K4w3QI" \
    "DAQAB"

/* Signs msg with rsa (selector "r") and ed25519 (selector "e") for
 * example.org, in chunks of `chunk`; out gets the signed message. */
static int sign_both(const char *msg, size_t chunk, struct dkim_sign_params *params,
                     struct buf *out)
{
    struct dkim_sign_key ed, rsa;
    if (load_key("dkimpy/ed25519test.key", &ed) != 0 ||
        load_key("dkimpy/test.private", &rsa) != 0)
        return -1;
    const struct dkim_sign_key *keys[2] = {&rsa, &ed};
    const char *selectors[2] = {"r", "e"};
    struct buf err = BUF_INIT;
    struct dkim_signer *s = dkim_signer_new(params, keys, selectors, 2, &err);
    size_t len = strlen(msg);
    for (size_t i = 0; i < len; i += chunk)
        dkim_signer_feed(s, msg + i, len - i < chunk ? len - i : chunk);
    buf_reset(out);
    int rc = dkim_signer_finish(s, out, &err);
    buf_append_str(out, msg);
    dkim_signer_free(s);
    dkim_sign_key_free(&ed);
    dkim_sign_key_free(&rsa);
    buf_free(&err);
    return rc;
}

static void test_sign_and_verify(void)
{
    struct buf dns = BUF_INIT;
    if (read_vector("dkimpy/ed25519test.dns", &dns) != 0)
        SKIP("no ../shared/conformance/dkim (set POSTERN_CONFORMANCE_DIR)");
    while (dns.len && (dns.data[dns.len - 1] == '\n'))
        dns.len--;
    struct key_table keys = {0};
    key_set(&keys, "e._domainkey.example.org", 24, dns.data, dns.len);
    const char *rsa_rec = "v=DKIM1; k=rsa; p=" TEST_P;
    key_set(&keys, "r._domainkey.example.org", 24, rsa_rec, strlen(rsa_rec));
    const char *msg =
        "Received: from x\r\nFrom: A <a@example.org>\r\nTo: b@example.net,\r\n"
        "  c@example.net\r\nCc: d@example.net\r\nSubject:   spaced   out  \r\n"
        "Date: Mon, 7 Dec 2026 21:00:00 +0000\r\nMessage-ID: <1@example.org>\r\n"
        "X-Other: not signed\r\n\r\nbody  line \r\n\r\nlast\r\n\r\n\r\n";
    struct dkim_sign_params params;
    dkim_sign_params_init(&params);
    params.domain = "example.org";
    params.identity = "a@mail.example.org";
    params.timestamp = 1700000000;
    params.expiration = 1700086400;
    struct buf out = BUF_INIT;
    static const size_t chunks[] = {1, 13, 4096};
    for (size_t c = 0; c < 3; c++) {
        CHECK_INT(sign_both(msg, chunks[c], &params, &out), 0);
        struct dkim_verify *v = verify_with(&keys, out.data, out.len, 5, 1700000100);
        CHECK_INT(dkim_verify_count(v), 2);
        for (size_t i = 0; i < dkim_verify_count(v); i++) {
            const struct dkim_verify_result *r = dkim_verify_result(v, i);
            if (r->result != DKIM_RESULT_PASS)
                printf("#   %s: %s\n%s", dkim_result_name(r->result), r->reason,
                       buf_cstr(&out));
            CHECK_INT(r->result, DKIM_RESULT_PASS);
            CHECK_STR(r->identity, "a@mail.example.org");
        }
        CHECK_STR(dkim_verify_result(v, 0)->algorithm, "rsa-sha256");
        CHECK_STR(dkim_verify_result(v, 1)->algorithm, "ed25519-sha256");
        dkim_verify_free(v);
    }
    /* what is signed: the RFC 6376 5.4.1 fields present, From twice */
    struct buf compact = BUF_INIT;
    for (size_t i = 0; i < out.len; i++)
        if (!strchr(" \t\r\n", out.data[i]))
            buf_append_char(&compact, out.data[i]);
    CHECK(strstr(compact.data, "h=from:from:subject:date:to:cc:message-id;") != NULL);
    buf_free(&compact);
    CHECK(strstr(out.data, "c=relaxed/relaxed;") != NULL);
    CHECK(strstr(out.data, "t=1700000000;") && strstr(out.data, "x=1700086400;"));
    /* no line of the fields passes 78 characters */
    for (const char *line = out.data; line < strstr(out.data, "Received:");) {
        const char *end = strstr(line, "\r\n");
        CHECK(end - line <= 78);
        line = end + 2;
    }
    /* a From added after signing breaks both signatures */
    struct buf forged = BUF_INIT;
    buf_append_str(&forged, "From: evil@example.com\r\n");
    buf_append(&forged, out.data, out.len);
    struct dkim_verify *v = verify_with(&keys, forged.data, forged.len, 0, 1700000100);
    CHECK_INT(dkim_verify_result(v, 0)->result, DKIM_RESULT_FAIL);
    CHECK_INT(dkim_verify_result(v, 1)->result, DKIM_RESULT_FAIL);
    dkim_verify_free(v);
    /* after x=, expired */
    v = verify_with(&keys, out.data, out.len, 0, 1700086401);
    CHECK_STR(dkim_verify_result(v, 0)->reason, "signature expired");
    dkim_verify_free(v);

    /* simple/simple and LF line ends */
    params.header_canon = params.body_canon = DKIM_CANON_SIMPLE;
    params.identity = NULL;
    params.eol = "\n";
    const char *lf_msg = "From: a@example.org\nSubject: x\n\nhi\n";
    CHECK_INT(sign_both(lf_msg, 3, &params, &out), 0);
    CHECK(strstr(out.data, "\r") == NULL);
    v = verify_with(&keys, out.data, out.len, 0, 1700000100);
    CHECK_INT(dkim_verify_result(v, 0)->result, DKIM_RESULT_PASS);
    CHECK_INT(dkim_verify_result(v, 1)->result, DKIM_RESULT_PASS);
    dkim_verify_free(v);
    buf_free(&forged);
    buf_free(&out);
    buf_free(&dns);
    key_table_free(&keys);
}

static void test_sign_refusals(void)
{
    struct dkim_sign_key key;
    struct buf err = BUF_INIT;
    CHECK_INT(dkim_sign_key_load("nonsense", 8, &key, &err), -1);
    struct dkim_sign_key ed;
    if (load_key("dkimpy/ed25519test.key", &ed) != 0)
        SKIP("no ../shared/conformance/dkim (set POSTERN_CONFORMANCE_DIR)");
    const struct dkim_sign_key *keys[1] = {&ed};
    struct dkim_sign_params params;
    dkim_sign_params_init(&params);
    params.domain = "example.org";
    params.selector = "bad selector";
    CHECK(dkim_signer_new(&params, keys, NULL, 1, &err) == NULL);
    params.selector = "s";
    params.identity = "a@notexample.org";
    CHECK(dkim_signer_new(&params, keys, NULL, 1, &err) == NULL);
    CHECK_STR(buf_cstr(&err), "i= is not within d=");
    params.identity = NULL;
    params.domain = "exa mple.org";
    CHECK(dkim_signer_new(&params, keys, NULL, 1, &err) == NULL);
    params.domain = "example.org";

    /* 30 To: fields: the last 10 are signed */
    struct buf msg = BUF_INIT, out = BUF_INIT;
    buf_append_str(&msg, "From: a@example.org\r\n");
    for (int i = 0; i < 30; i++)
        buf_appendf(&msg, "To: r%d@example.net\r\n", i);
    buf_append_str(&msg, "\r\nbody\r\n");
    struct dkim_signer *s = dkim_signer_new(&params, keys, NULL, 1, &err);
    dkim_signer_feed(s, msg.data, msg.len);
    CHECK_INT(dkim_signer_finish(s, &out, &err), 0);
    size_t to_count = 0;
    for (const char *p = out.data; (p = strstr(p, ":to")) != NULL; p++)
        to_count++;
    CHECK_INT(to_count, 10);
    dkim_signer_free(s);

    /* a field over header_size_limit is not signed */
    buf_set_str(&msg, "From: a@example.org\r\nSubject: ");
    for (int i = 0; i < 110000; i++)
        buf_append_char(&msg, 'x');
    buf_append_str(&msg, "\r\n\r\nbody\r\n");
    s = dkim_signer_new(&params, keys, NULL, 1, &err);
    dkim_signer_feed(s, msg.data, msg.len);
    buf_reset(&out);
    CHECK_INT(dkim_signer_finish(s, &out, &err), -1);
    CHECK_STR(buf_cstr(&err), "header section over limits, not signed");
    dkim_signer_free(s);

    /* a first line that begins with whitespace would continue our field */
    buf_set_str(&msg, " SixPack <joe@example.org>\r\nTo: x\r\n\r\nHi.\r\n");
    s = dkim_signer_new(&params, keys, NULL, 1, &err);
    dkim_signer_feed(s, msg.data, msg.len);
    CHECK_INT(dkim_signer_finish(s, &out, &err), -1);
    CHECK_STR(buf_cstr(&err), "message begins with whitespace, not signed");
    dkim_signer_free(s);
    buf_free(&msg);
    buf_free(&out);
    dkim_sign_key_free(&ed);
    buf_free(&err);
}

int main(void)
{
    UNIT_RUN(test_reproduce_published_signatures);
    UNIT_RUN(test_sign_and_verify);
    UNIT_RUN(test_sign_refusals);
    return unit_summary();
}
