/* test_dkim_verify.c: DKIM canonicalization and verification
 * (lib/dkim/dkim_canon, dkim_reader, dkim_verify): the RFC 6376 examples,
 * streaming in chunks, l=, x= and t=, key record checks, and every
 * vector of ../shared/conformance/dkim/vectors.tsv with its expected
 * result. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "dkim/dkim_canon.h"
#include "dkim_fixture.h"
#include "unit.h"

/* ---- canonicalization ---- */

static void body_hash_of(enum dkim_canon canon, const char *body, size_t chunk,
                         uint64_t limit, struct buf *canonical_sha)
{
    struct dkim_body b;
    dkim_body_init(&b, canon, EVP_sha256(), limit);
    size_t len = strlen(body), step = chunk ? chunk : len ? len : 1;
    for (size_t off = 0; off < len; off += step)
        dkim_body_feed(&b, body + off, off + step > len ? len - off : step);
    unsigned char d[EVP_MAX_MD_SIZE];
    unsigned dlen = 0;
    dkim_body_end(&b, d, &dlen);
    buf_set(canonical_sha, d, dlen);
    dkim_body_free(&b);
}

/* The body's hash equals SHA-256 of `canonical`, at every chunk size. */
static int body_is(enum dkim_canon canon, const char *body,
                   const char *canonical, uint64_t limit)
{
    unsigned char want[EVP_MAX_MD_SIZE];
    unsigned wlen = 0;
    size_t clen = strlen(canonical);
    if (limit < clen)
        clen = (size_t)limit;
    EVP_Digest(canonical, clen, want, &wlen, EVP_sha256(), NULL);
    static const size_t chunks[] = {0, 1, 2, 3, 5};
    int ok = 1;
    struct buf got = BUF_INIT;
    for (size_t i = 0; i < sizeof(chunks) / sizeof(chunks[0]); i++) {
        body_hash_of(canon, body, chunks[i], limit, &got);
        if (got.len != wlen || memcmp(got.data, want, wlen) != 0) {
            printf("#   body %s (%s, chunk %zu) differs\n", body,
                   dkim_canon_name(canon), chunks[i]);
            ok = 0;
        }
    }
    buf_free(&got);
    return ok;
}

static void test_canon_rfc6376_example(void)
{
    /* RFC 6376 3.4.5 */
    struct buf out = BUF_INIT;
    dkim_canon_header(DKIM_CANON_RELAXED, "A: X", 4, &out);
    dkim_canon_header(DKIM_CANON_RELAXED, "B : Y\t\n\tZ  ", 11, &out);
    CHECK_STR(buf_cstr(&out), "a:X\r\nb:Y Z\r\n");
    buf_reset(&out);
    dkim_canon_header(DKIM_CANON_SIMPLE, "B : Y\t\n\tZ  ", 11, &out);
    CHECK_STR(buf_cstr(&out), "B : Y\t\r\n\tZ  \r\n");
    buf_free(&out);
    const char *body = " C \r\nD \t E\r\n\r\n\r\n";
    CHECK(body_is(DKIM_CANON_RELAXED, body, " C\r\nD E\r\n", UINT64_MAX));
    CHECK(body_is(DKIM_CANON_SIMPLE, body, " C \r\nD \t E\r\n", UINT64_MAX));
}

static void test_canon_body_edges(void)
{
    CHECK(body_is(DKIM_CANON_SIMPLE, "", "\r\n", UINT64_MAX));
    CHECK(body_is(DKIM_CANON_RELAXED, "", "", UINT64_MAX));
    CHECK(body_is(DKIM_CANON_SIMPLE, "\r\n\r\n", "\r\n", UINT64_MAX));
    CHECK(body_is(DKIM_CANON_RELAXED, " \t\r\n\r\n", "", UINT64_MAX));
    CHECK(body_is(DKIM_CANON_SIMPLE, " \r\n", " \r\n", UINT64_MAX));
    /* bare LF line ends are line ends; a last line gets its CRLF */
    CHECK(body_is(DKIM_CANON_SIMPLE, "a\nb", "a\r\nb\r\n", UINT64_MAX));
    CHECK(body_is(DKIM_CANON_RELAXED, "a  \n\n b \t", "a\r\n\r\n b\r\n",
                  UINT64_MAX));
    /* a CR not before LF is data */
    CHECK(body_is(DKIM_CANON_SIMPLE, "a\rb\r\n\r", "a\rb\r\n\r\r\n", UINT64_MAX));
    /* empty lines inside the body stay */
    CHECK(body_is(DKIM_CANON_RELAXED, "a\r\n\r\n  \r\nb\r\n\r\n",
                  "a\r\n\r\n\r\nb\r\n", UINT64_MAX));
    /* l= counts canonical bytes */
    CHECK(body_is(DKIM_CANON_SIMPLE, "hello\r\nworld\r\n", "hello\r\nworld\r\n", 7));
    CHECK(body_is(DKIM_CANON_RELAXED, "a  b\r\n", "a b\r\n", 3));
}

static void test_header_selection(void)
{
    struct header_block hb;
    const char *msg = "From: a\r\nTo: one\r\nTo: two\r\nSubject: s\r\n\r\n";
    header_block_init(&hb, 0, 0, 0);
    header_parse(&hb, msg, strlen(msg));
    struct strlist names;
    strlist_init(&names);
    strlist_add(&names, "to");
    strlist_add(&names, "from");
    strlist_add(&names, "to");
    strlist_add(&names, "to"); /* no third To: adds nothing */
    strlist_add(&names, "x-none");
    struct buf out = BUF_INIT;
    dkim_canon_signed_headers(&hb, &names, DKIM_CANON_SIMPLE, &out);
    CHECK_STR(buf_cstr(&out), "To: two\r\nFrom: a\r\nTo: one\r\n");
    buf_free(&out);
    strlist_free(&names);
    header_block_free(&hb);
}

/* ---- checks around the signature: keys, times ---- */

#define ED_P "11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo="
#define BRISBANE "brisbane._domainkey.football.example.com"

/* rfc6376.signed.msg (ed25519 first, rsa second) with brisbane's record
 * set to `record` (NULL: none); returns the first signature's result. */
static enum dkim_result ed_result(const char *record, time_t now,
                                  struct buf *reason)
{
    struct buf raw = BUF_INIT, msg = BUF_INIT;
    struct key_table keys = {0};
    if (record)
        key_set(&keys, BRISBANE, strlen(BRISBANE), record, strlen(record));
    read_vector("dkimpy/rfc6376.signed.msg", &raw);
    to_crlf(raw.data, raw.len, &msg);
    struct dkim_verify *v = verify_with(&keys, msg.data, msg.len, 0, now);
    const struct dkim_verify_result *r = dkim_verify_result(v, 0);
    enum dkim_result result = r ? r->result : DKIM_RESULT_NONE;
    buf_set_str(reason, r ? r->reason : "");
    dkim_verify_free(v);
    key_table_free(&keys);
    buf_free(&raw);
    buf_free(&msg);
    return result;
}

static void test_verify_key_checks(void)
{
    struct buf raw = BUF_INIT, why = BUF_INIT;
    if (read_vector("dkimpy/rfc6376.signed.msg", &raw) != 0)
        SKIP("no ../shared/conformance/dkim (set POSTERN_CONFORMANCE_DIR)");
    time_t now = 1700000000;
    CHECK_INT(ed_result("v=DKIM1; k=ed25519; p=" ED_P, now, &why), DKIM_RESULT_PASS);
    CHECK_INT(ed_result("v=DKIM1; k=ed25519; t=y:s; h=sha256; s=email; p=" ED_P,
                        now, &why), DKIM_RESULT_PASS);
    CHECK_INT(ed_result(NULL, now, &why), DKIM_RESULT_PERMERROR);
    CHECK_STR(buf_cstr(&why), "no key for signature");
    CHECK_INT(ed_result("v=DKIM1; k=ed25519; p=", now, &why), DKIM_RESULT_PERMERROR);
    CHECK_STR(buf_cstr(&why), "key revoked");
    CHECK_INT(ed_result("v=DKIM1; k=ed25519; h=sha1; p=" ED_P, now, &why),
              DKIM_RESULT_PERMERROR);
    CHECK_STR(buf_cstr(&why), "key does not allow sha256");
    CHECK_INT(ed_result("v=DKIM1; k=ed25519; s=http; p=" ED_P, now, &why),
              DKIM_RESULT_PERMERROR);
    CHECK_STR(buf_cstr(&why), "key is not for email");
    /* the RSA key under the ed25519 selector */
    CHECK_INT(ed_result("v=DKIM1; p=MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQDkHlOQ"
                        "oBTzWRiGs5V6NpP3idY6Wk08a5qhdR6wy5bdOKb2jLQiY/J16JYi0Qvx/"
                        "byYzCNb3W91y3FutACDfzwQ/BC/e/8uBsCR+yz1Lxj+PL6lHvqMKrM3rG4"
                        "hstT5QjvHO9PzoxZyVYLzBfO2EeC3Ip3G+2kryOTIKT+l/K4w3QIDAQAB",
                        now, &why), DKIM_RESULT_PERMERROR);
    CHECK_STR(buf_cstr(&why), "key type does not match a=");
    /* another ed25519 key: the signature does not verify */
    CHECK_INT(ed_result("k=ed25519; p=yi50DjK5O9pqbFpNHklsv9lqaS0ArSYu02qp1S0DW1Y=",
                        now, &why), DKIM_RESULT_FAIL);
    CHECK_STR(buf_cstr(&why), "signature did not verify");
    /* t=1518460054: a clock more than an hour before it */
    CHECK_INT(ed_result("k=ed25519; p=" ED_P, 1518460054 - 3601, &why),
              DKIM_RESULT_POLICY);
    CHECK_STR(buf_cstr(&why), "signature timestamp in the future");
    CHECK_INT(ed_result("k=ed25519; p=" ED_P, 1518460054 - 3600, &why),
              DKIM_RESULT_PASS);

    /* no answer, a failed lookup */
    struct buf msg = BUF_INIT;
    to_crlf(raw.data, raw.len, &msg);
    struct dkim_verify *v = dkim_verify_new(now);
    dkim_verify_feed(v, msg.data, msg.len);
    CHECK(dkim_verify_headers_done(v));
    CHECK_STR(dkim_verify_key_name(v, 0), BRISBANE);
    dkim_verify_key_answer(v, 1, DNS_TEMPFAIL, NULL, NULL, 0);
    dkim_verify_finish(v);
    CHECK_INT(dkim_verify_result(v, 0)->result, DKIM_RESULT_TEMPERROR);
    CHECK_STR(dkim_verify_result(v, 0)->reason, "key not looked up");
    CHECK_INT(dkim_verify_result(v, 1)->result, DKIM_RESULT_TEMPERROR);
    CHECK_STR(dkim_verify_result(v, 1)->reason, "key lookup failed");
    CHECK_STR(dkim_verify_result(v, 1)->identity, "@football.example.com");
    CHECK_STR(dkim_verify_result(v, 1)->algorithm, "rsa-sha256");
    dkim_verify_free(v);
    buf_free(&msg);
    buf_free(&raw);
    buf_free(&why);
}

static void test_verify_expiry(void)
{
    /* 005.txt has x=1667930064 */
    struct buf raw = BUF_INIT, msg = BUF_INIT;
    if (read_vector("stalwart-mail-auth/005.txt", &raw) != 0)
        SKIP("no ../shared/conformance/dkim (set POSTERN_CONFORMANCE_DIR)");
    struct key_table keys = {0};
    size_t off = key_lines(&keys, raw.data, raw.len, 1);
    to_crlf(raw.data + off, raw.len - off, &msg);
    struct dkim_verify *v = verify_with(&keys, msg.data, msg.len, 0, 1667930064);
    CHECK_INT(dkim_verify_result(v, 0)->result, DKIM_RESULT_PASS);
    CHECK_INT(dkim_verify_result(v, 0)->key_bits, 1024);
    dkim_verify_free(v);
    v = verify_with(&keys, msg.data, msg.len, 0, 1667930065);
    CHECK_INT(dkim_verify_result(v, 0)->result, DKIM_RESULT_FAIL);
    CHECK_STR(dkim_verify_result(v, 0)->reason, "signature expired");
    CHECK(dkim_verify_key_name(v, 0) == NULL); /* no lookup needed */
    dkim_verify_free(v);
    /* the body cut short: the body hash fails */
    v = verify_with(&keys, msg.data, msg.len - 40, 0, 1667843664);
    CHECK_INT(dkim_verify_result(v, 0)->result, DKIM_RESULT_FAIL);
    CHECK_STR(dkim_verify_result(v, 0)->reason, "body hash did not verify");
    dkim_verify_free(v);
    key_table_free(&keys);
    buf_free(&raw);
    buf_free(&msg);
}

/* ---- the conformance vectors ---- */

static struct key_table base_keys;
static size_t vectors_run, signatures_checked;

/* The expected result of one signature, as the manifest says it. */
static int matches(const struct dkim_verify_result *r, const char *expected)
{
    if (strcmp(expected, "pass") == 0)
        return r->result == DKIM_RESULT_PASS;
    if (strcmp(expected, "fail (permerror)") == 0)
        return r->result == DKIM_RESULT_PERMERROR;
    if (strcmp(expected, "fail (body hash mismatch)") == 0)
        return r->result == DKIM_RESULT_FAIL &&
               strcmp(r->reason, "body hash did not verify") == 0;
    if (strcmp(expected, "fail (signature mismatch)") == 0)
        return r->result == DKIM_RESULT_FAIL &&
               strcmp(r->reason, "signature did not verify") == 0;
    if (strcmp(expected, "fail") == 0) /* dkimpy's "not valid" */
        return r->result == DKIM_RESULT_FAIL ||
               r->result == DKIM_RESULT_PERMERROR;
    return 0;
}

/* Replaces the first `what` in msg's body (after the header) or in its
 * Subject line. Returns 0, or -1 when it is not there. */
static int change(struct buf *msg, const char *what, int in_body)
{
    const char *start = msg->data;
    if (in_body) {
        start = strstr(msg->data, "\r\n\r\n");
        if (start == NULL)
            return -1;
    }
    char *at = strstr(start, what);
    if (at == NULL)
        return -1;
    at[0] = at[0] == 'X' ? 'Y' : 'X';
    return 0;
}

/* One manifest row: file column, format, signatures, expected, time. */
static void run_row(char **col)
{
    struct key_table keys = {0};
    for (size_t i = 0; i < base_keys.count; i++)
        key_set(&keys, base_keys.owner[i], strlen(base_keys.owner[i]),
                base_keys.value[i], strlen(base_keys.value[i]));
    char path[256], owner[256], keyfile[256], text[256];
    enum { PLAIN, KEY, BODY, SUBJECT } kind = PLAIN;
    if (sscanf(col[0], "%255s + %255s := %255s", path, owner, keyfile) == 3)
        kind = KEY;
    else if (sscanf(col[0], "%255s with body text \"%255[^\"]\" changed", path,
                    text) == 2)
        kind = BODY;
    else if (sscanf(col[0], "%255s with Subject changed", path) == 1 &&
             strstr(col[0], " with Subject changed"))
        kind = SUBJECT;
    else if (sscanf(col[0], "%255s", path) != 1 || strchr(col[0], ' ')) {
        printf("#   manifest row not understood: %s\n", col[0]);
        CHECK(0);
        return;
    }
    struct buf raw = BUF_INIT, msg = BUF_INIT;
    CHECK_INT(read_vector(path, &raw), 0);
    size_t body_off = 0;
    if (strcmp(col[1], "stalwart") == 0)
        body_off = key_lines(&keys, raw.data, raw.len, 1);
    to_crlf(raw.data + body_off, raw.len - body_off, &msg);
    if (kind == KEY) {
        struct buf rec = BUF_INIT;
        CHECK_INT(read_vector(keyfile, &rec), 0);
        while (rec.len && (rec.data[rec.len - 1] == '\n' || rec.data[rec.len - 1] == '\r'))
            rec.len--;
        key_set(&keys, owner, strlen(owner), rec.data, rec.len);
        buf_free(&rec);
    } else if (kind == BODY) {
        CHECK_INT(change(&msg, text, 1), 0);
    } else if (kind == SUBJECT) {
        CHECK_INT(change(&msg, "Subject: ", 0) == 0 &&
                      change(&msg, "dinner", 0) == 0 ? 0 : -1, 0);
    }
    time_t now = strcmp(col[4], "any") == 0 ? time(NULL) : (time_t)atoll(col[4]);

    /* expected results per signature, in header order */
    char expected[4][64];
    size_t n_expected = 0;
    const char *sigs = col[2];
    if (kind == PLAIN) {
        char copy[256];
        snprintf(copy, sizeof(copy), "%s", col[3]);
        for (char *tok = strtok(copy, ","); tok && n_expected < 4;
             tok = strtok(NULL, ","))
            snprintf(expected[n_expected++], 64, "%s", tok);
    } else if (strstr(sigs, "(2nd signature)")) {
        snprintf(expected[0], 64, "pass");
        snprintf(expected[1], 64, "%s", col[3]);
        n_expected = 2;
    } else if (strcmp(sigs, "both") == 0) {
        snprintf(expected[0], 64, "%s", col[3]);
        snprintf(expected[1], 64, "%s", col[3]);
        n_expected = 2;
    }
    static const size_t chunks[] = {0, 1, 7, 512};
    for (size_t c = 0; c < sizeof(chunks) / sizeof(chunks[0]); c++) {
        struct dkim_verify *v = verify_with(&keys, msg.data, msg.len, chunks[c], now);
        CHECK_INT(dkim_verify_count(v), n_expected);
        for (size_t i = 0; i < dkim_verify_count(v) && i < n_expected; i++) {
            const struct dkim_verify_result *r = dkim_verify_result(v, i);
            if (!matches(r, expected[i])) {
                printf("#   %s: signature %zu (d=%s s=%s, chunk %zu) is %s (%s),"
                       " expected %s\n", col[0], i + 1, r->domain, r->selector,
                       chunks[c], dkim_result_name(r->result), r->reason,
                       expected[i]);
                CHECK(0);
            } else if (c == 0) {
                printf("#   %s: d=%s s=%s %s: %s%s%s\n", path, r->domain,
                       r->selector, r->algorithm, dkim_result_name(r->result),
                       r->reason[0] ? " " : "", r->reason);
                signatures_checked++;
            }
        }
        dkim_verify_free(v);
    }
    vectors_run++;
    key_table_free(&keys);
    buf_free(&raw);
    buf_free(&msg);
}

static void test_conformance_vectors(void)
{
    struct buf manifest = BUF_INIT, records = BUF_INIT;
    if (read_vector("vectors.tsv", &manifest) != 0)
        SKIP("no ../shared/conformance/dkim (set POSTERN_CONFORMANCE_DIR)");
    CHECK_INT(read_vector("dns-records.txt", &records), 0);
    key_lines(&base_keys, records.data, records.len, 0);
    char *save = NULL;
    for (char *line = strtok_r(manifest.data, "\n", &save); line;
         line = strtok_r(NULL, "\n", &save)) {
        if (line[0] == '#' || line[0] == '\0')
            continue;
        char *col[6] = {0};
        size_t n = 0;
        for (char *p = line; n < 6; n++) {
            col[n] = p;
            char *tab = strchr(p, '\t');
            if (tab == NULL) {
                n++;
                break;
            }
            *tab = '\0';
            p = tab + 1;
        }
        CHECK(n >= 5);
        if (n >= 5)
            run_row(col);
    }
    printf("# conformance: %zu vectors, %zu signatures as expected\n",
           vectors_run, signatures_checked);
    CHECK_INT(vectors_run, 14);
    CHECK_INT(signatures_checked, 22);
    buf_free(&manifest);
    buf_free(&records);
}

int main(void)
{
    UNIT_RUN(test_canon_rfc6376_example);
    UNIT_RUN(test_canon_body_edges);
    UNIT_RUN(test_header_selection);
    UNIT_RUN(test_verify_key_checks);
    UNIT_RUN(test_verify_expiry);
    UNIT_RUN(test_conformance_vectors);
    key_table_free(&base_keys);
    return unit_summary();
}
