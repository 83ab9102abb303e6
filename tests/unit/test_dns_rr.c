/* test_dns_rr.c: unit tests for lib/dns/dns_rr: names and rdata parsed from
 * wire format, answers built from rdata (NXDOMAIN, NODATA, SERVFAIL,
 * null MX, malformed and surplus records), the MX/A/AAAA verdicts of
 * both modes, and the presentation form. lib/dns/dns's network side is
 * tested against real servers in tests/e2e/test_dns.py. */
#include <string.h>

#include "dns/dns_rr.h"
#include "unit.h"

/* Wire name from "a.b" ("" is the root). */
static size_t wire(const char *name, unsigned char *out)
{
    size_t len = 0;
    while (*name) {
        const char *dot = strchr(name, '.');
        size_t n = dot ? (size_t)(dot - name) : strlen(name);
        out[len++] = (unsigned char)n;
        memcpy(out + len, name, n);
        len += n;
        name += n + (dot ? 1 : 0);
    }
    out[len++] = 0;
    return len;
}

static size_t mx_rdata(unsigned pref, const char *host, unsigned char *out)
{
    out[0] = (unsigned char)(pref >> 8);
    out[1] = (unsigned char)pref;
    return 2 + wire(host, out + 2);
}

static void test_names(void)
{
    unsigned char w[300];
    char name[DNS_NAME_MAX + 1];
    size_t used = 0;
    size_t len = wire("Mail.Example.COM", w);
    CHECK_INT(dns_name_decode(w, len, name, &used), 0);
    CHECK_STR(name, "mail.example.com");
    CHECK_INT(used, len);
    len = wire("", w);
    CHECK_INT(dns_name_decode(w, len, name, &used), 0);
    CHECK_STR(name, "");
    CHECK_INT(used, 1);
    len = wire("_dmarc.example.com", w);
    CHECK_INT(dns_name_decode(w, len, name, NULL), 0);
    /* Truncated, missing root label, compression pointer. */
    len = wire("mail.example.com", w);
    CHECK_INT(dns_name_decode(w, len - 1, name, NULL), -1);
    CHECK_INT(dns_name_decode(w, 3, name, NULL), -1);
    CHECK_INT(dns_name_decode((const unsigned char *)"\xc0\x0c", 2, name, NULL),
              -1);
    CHECK_INT(dns_name_decode(w, 0, name, NULL), -1);
    /* Not a host name: bad bytes, leading hyphen, all numeric. */
    len = wire("b!c.example", w);
    CHECK_INT(dns_name_decode(w, len, name, NULL), -1);
    len = wire("a b.example", w);
    CHECK_INT(dns_name_decode(w, len, name, NULL), -1);
    len = wire("-a.example", w);
    CHECK_INT(dns_name_decode(w, len, name, NULL), -1);
    len = wire("192.0.2.1", w);
    CHECK_INT(dns_name_decode(w, len, name, NULL), -1);
    /* A label of 64 bytes; a name of 255 wire bytes fits, 256 not. */
    char label[70];
    memset(label, 'a', 64);
    label[64] = '\0';
    len = wire(label, w);
    CHECK_INT(dns_name_decode(w, len, name, NULL), -1);
    char longname[300];
    /* 4 labels of 62 + ".x": 4*63 + 2 + 1 = 255 wire bytes. */
    memset(longname, 0, sizeof(longname));
    for (int i = 0; i < 4; i++) {
        memset(longname + i * 63, 'a' + i, 62);
        longname[i * 63 + 62] = '.';
    }
    strcat(longname, "x");
    len = wire(longname, w);
    CHECK_INT(len, 255);
    CHECK_INT(dns_name_decode(w, len, name, NULL), 0);
    CHECK_INT(strlen(name), 253);
    strcat(longname, "y"); /* 256 wire bytes */
    len = wire(longname, w);
    CHECK_INT(dns_name_decode(w, len, name, NULL), -1);
}

static void test_rdata(void)
{
    struct dns_record rec;
    unsigned char r[300];
    CHECK_INT(dns_rdata_parse(DNS_TYPE_A, (const unsigned char *)"\x7f\0\0\1",
                              4, &rec),
              0);
    CHECK_INT(rec.u.a[0], 127);
    CHECK_INT(rec.u.a[3], 1);
    CHECK_INT(dns_rdata_parse(DNS_TYPE_A, r, 3, &rec), -1);
    CHECK_INT(dns_rdata_parse(DNS_TYPE_A, r, 5, &rec), -1);
    memset(r, 0, 16);
    r[15] = 1;
    CHECK_INT(dns_rdata_parse(DNS_TYPE_AAAA, r, 16, &rec), 0);
    CHECK_INT(rec.u.aaaa[15], 1);
    CHECK_INT(dns_rdata_parse(DNS_TYPE_AAAA, r, 4, &rec), -1);

    size_t len = mx_rdata(10, "mx.Example", r);
    CHECK_INT(dns_rdata_parse(DNS_TYPE_MX, r, len, &rec), 0);
    CHECK_INT(rec.u.mx.preference, 10);
    CHECK_STR(rec.u.mx.host, "mx.example");
    len = mx_rdata(65535, "", r);
    CHECK_INT(dns_rdata_parse(DNS_TYPE_MX, r, len, &rec), 0);
    CHECK_INT(rec.u.mx.preference, 65535);
    CHECK_STR(rec.u.mx.host, "");
    len = mx_rdata(10, "mx.example", r);
    CHECK_INT(dns_rdata_parse(DNS_TYPE_MX, r, len + 1, &rec), -1); /* extra */
    CHECK_INT(dns_rdata_parse(DNS_TYPE_MX, r, len - 1, &rec), -1);
    CHECK_INT(dns_rdata_parse(DNS_TYPE_MX, r, 2, &rec), -1);

    len = wire("host.example", r);
    CHECK_INT(dns_rdata_parse(DNS_TYPE_PTR, r, len, &rec), 0);
    CHECK_STR(rec.u.ptr, "host.example");
    len = wire("", r);
    CHECK_INT(dns_rdata_parse(DNS_TYPE_PTR, r, len, &rec), -1);

    /* TXT: strings concatenated; NUL bytes kept; bad lengths refused. */
    memcpy(r, "\3v=1\0\2a\0", 8);
    CHECK_INT(dns_rdata_parse(DNS_TYPE_TXT, r, 8, &rec), 0);
    CHECK_INT(rec.u.txt.len, 5);
    CHECK(memcmp(rec.u.txt.data, "v=1a\0", 5) == 0);
    CHECK_INT(rec.u.txt.data[5], 0);
    dns_record_free(&rec);
    CHECK_INT(dns_rdata_parse(DNS_TYPE_TXT, r, 2, &rec), -1);
    CHECK_INT(dns_rdata_parse(DNS_TYPE_TXT, r, 0, &rec), -1);
    CHECK_INT(
        dns_rdata_parse(DNS_TYPE_TXT, (const unsigned char *)"\0", 1, &rec), 0);
    CHECK_INT(rec.u.txt.len, 0);
    CHECK_STR(rec.u.txt.data, "");
    dns_record_free(&rec);
    /* More than DNS_TXT_MAX bytes in one record. */
    unsigned char big[256 * 17]; /* 17 * 255 = 4335 text bytes */
    size_t pos = 0;
    while (pos + 256 <= sizeof(big)) {
        big[pos] = 255;
        memset(big + pos + 1, 'x', 255);
        pos += 256;
    }
    CHECK_INT(dns_rdata_parse(DNS_TYPE_TXT, big, pos, &rec), -1);
    CHECK_INT(dns_rdata_parse(DNS_TYPE_TXT, big, 256 * 16, &rec), 0);
    CHECK_INT(rec.u.txt.len, 255 * 16);
    dns_record_free(&rec);
    CHECK_INT(dns_rdata_parse(99, r, 4, &rec), -1);
}

static void test_results(void)
{
    struct dns_result res;
    dns_result_init(&res, DNS_TYPE_MX);
    unsigned char a[64], b[64], c[64];
    const unsigned char *rd[3] = {a, b, c};
    size_t len[3];
    len[0] = mx_rdata(10, "mx1.example", a);
    len[1] = mx_rdata(20, "b!d.example", b);
    len[2] = mx_rdata(30, "mx3.example", c);
    dns_result_from_rdata(&res, DNS_TYPE_MX, 0, rd, len, 3);
    CHECK_INT(res.status, DNS_FOUND);
    CHECK_INT(res.count, 2);
    CHECK_INT(res.malformed, 1);
    CHECK_INT(res.null_mx, 0);
    CHECK_STR(res.records[1].u.mx.host, "mx3.example");

    /* Null MX alone; beside a real exchange the root is dropped. */
    len[0] = mx_rdata(0, "", a);
    dns_result_from_rdata(&res, DNS_TYPE_MX, 0, rd, len, 1);
    CHECK_INT(res.status, DNS_FOUND);
    CHECK_INT(res.null_mx, 1);
    CHECK_INT(res.count, 1);
    len[1] = mx_rdata(10, "mx.example", b);
    dns_result_from_rdata(&res, DNS_TYPE_MX, 0, rd, len, 2);
    CHECK_INT(res.null_mx, 0);
    CHECK_INT(res.count, 1);
    CHECK_STR(res.records[0].u.mx.host, "mx.example");
    CHECK_INT(res.malformed, 1);

    /* Only malformed records: not found, but said so. */
    len[0] = mx_rdata(10, "b!c.example", a);
    dns_result_from_rdata(&res, DNS_TYPE_MX, 0, rd, len, 1);
    CHECK_INT(res.status, DNS_NOTFOUND);
    CHECK_INT(res.malformed, 1);
    CHECK_INT(res.nxdomain, 0);
    CHECK_STR(res.why, "malformed records");

    dns_result_from_rdata(&res, DNS_TYPE_MX, 0, rd, len, 0);
    CHECK_INT(res.status, DNS_NOTFOUND);
    CHECK_INT(res.nxdomain, 0);
    CHECK_STR(res.why, "no records (NODATA)");
    dns_result_from_rdata(&res, DNS_TYPE_MX, 3, rd, len, 0);
    CHECK_INT(res.status, DNS_NOTFOUND);
    CHECK_INT(res.nxdomain, 1);
    dns_result_from_rdata(&res, DNS_TYPE_MX, 2, rd, len, 0);
    CHECK_INT(res.status, DNS_TEMPFAIL);
    CHECK_STR(res.why, "SERVFAIL");
    dns_result_from_rdata(&res, DNS_TYPE_MX, 5, rd, len, 0);
    CHECK_STR(res.why, "REFUSED");
    dns_result_from_rdata(&res, DNS_TYPE_MX, 9, rd, len, 0);
    CHECK_INT(res.status, DNS_TEMPFAIL);
    CHECK_STR(res.why, "rcode 9");

    /* At most DNS_RECORDS_MAX records are kept. */
    static unsigned char addrs[100][4];
    const unsigned char *many[100];
    size_t many_len[100];
    for (int i = 0; i < 100; i++) {
        addrs[i][0] = 10;
        addrs[i][3] = (unsigned char)i;
        many[i] = addrs[i];
        many_len[i] = 4;
    }
    dns_result_from_rdata(&res, DNS_TYPE_A, 0, many, many_len, 100);
    CHECK_INT(res.count, DNS_RECORDS_MAX);
    CHECK_INT(res.dropped, 100 - DNS_RECORDS_MAX);
    CHECK_INT(res.type, DNS_TYPE_A);

    struct dns_result moved;
    dns_result_init(&moved, 0);
    dns_result_move(&moved, &res);
    CHECK_INT(moved.count, DNS_RECORDS_MAX);
    CHECK_INT(res.count, 0);
    CHECK(res.records == NULL);
    dns_result_free(&moved);
    dns_result_free(&res);
}

static struct dns_result make(int type, enum dns_status status, int flag)
{
    struct dns_result r;
    dns_result_init(&r, type);
    r.status = status;
    if (status == DNS_NOTFOUND && flag == 1)
        r.nxdomain = 1;
    if (status == DNS_NOTFOUND && flag == 2)
        r.malformed = 1;
    if (status == DNS_FOUND && flag == 1)
        r.null_mx = 1;
    return r;
}

static void test_combine(void)
{
    enum dns_domain_status st = DNS_DOMAIN_FOUND;
    struct dns_result mx = make(DNS_TYPE_MX, DNS_FOUND, 0);
    struct dns_result nullmx = make(DNS_TYPE_MX, DNS_FOUND, 1);
    struct dns_result nodata = make(DNS_TYPE_A, DNS_NOTFOUND, 0);
    struct dns_result nx = make(DNS_TYPE_A, DNS_NOTFOUND, 1);
    struct dns_result bad = make(DNS_TYPE_MX, DNS_NOTFOUND, 2);
    struct dns_result temp = make(DNS_TYPE_A, DNS_TEMPFAIL, 0);
    struct dns_result addr = make(DNS_TYPE_A, DNS_FOUND, 0);

    /* Mail: nothing is decided before the MX answer. */
    CHECK_INT(dns_domain_combine(DNS_DOMAIN_MAIL, NULL, &addr, &addr, &st), 0);
    CHECK_INT(dns_domain_combine(DNS_DOMAIN_MAIL, &mx, NULL, NULL, &st), 1);
    CHECK_INT(st, DNS_DOMAIN_FOUND);
    CHECK_INT(dns_domain_combine(DNS_DOMAIN_MAIL, &nullmx, &addr, NULL, &st),
              1);
    CHECK_INT(st, DNS_DOMAIN_NULLMX);
    CHECK_INT(dns_domain_combine(DNS_DOMAIN_MAIL, &bad, NULL, NULL, &st), 1);
    CHECK_INT(st, DNS_DOMAIN_MALFORMED);
    CHECK_INT(dns_domain_combine(DNS_DOMAIN_MAIL, &nx, NULL, NULL, &st), 1);
    CHECK_INT(st, DNS_DOMAIN_NOTFOUND);
    /* No MX: an address decides at once, else wait for both. */
    CHECK_INT(dns_domain_combine(DNS_DOMAIN_MAIL, &nodata, NULL, &addr, &st),
              1);
    CHECK_INT(st, DNS_DOMAIN_FOUND);
    CHECK_INT(dns_domain_combine(DNS_DOMAIN_MAIL, &nodata, &nodata, NULL, &st),
              0);
    CHECK_INT(
        dns_domain_combine(DNS_DOMAIN_MAIL, &nodata, &nodata, &nodata, &st), 1);
    CHECK_INT(st, DNS_DOMAIN_NOTFOUND);
    /* A temporary error anywhere, and nothing found: temporary. */
    CHECK_INT(dns_domain_combine(DNS_DOMAIN_MAIL, &temp, &nodata, &nodata, &st),
              1);
    CHECK_INT(st, DNS_DOMAIN_TEMPFAIL);
    CHECK_INT(dns_domain_combine(DNS_DOMAIN_MAIL, &nodata, &nodata, &temp, &st),
              1);
    CHECK_INT(st, DNS_DOMAIN_TEMPFAIL);
    CHECK_INT(dns_domain_combine(DNS_DOMAIN_MAIL, &temp, &addr, &temp, &st), 1);
    CHECK_INT(st, DNS_DOMAIN_FOUND);

    /* Host: addresses first; a null MX is no address. */
    CHECK_INT(dns_domain_combine(DNS_DOMAIN_HOST, NULL, &addr, NULL, &st), 1);
    CHECK_INT(st, DNS_DOMAIN_FOUND);
    CHECK_INT(dns_domain_combine(DNS_DOMAIN_HOST, &mx, NULL, NULL, &st), 1);
    CHECK_INT(st, DNS_DOMAIN_FOUND);
    CHECK_INT(dns_domain_combine(DNS_DOMAIN_HOST, &nullmx, NULL, NULL, &st), 0);
    CHECK_INT(
        dns_domain_combine(DNS_DOMAIN_HOST, &nullmx, &nodata, &nodata, &st), 1);
    CHECK_INT(st, DNS_DOMAIN_NOTFOUND);
    CHECK_INT(dns_domain_combine(DNS_DOMAIN_HOST, &nullmx, &addr, NULL, &st),
              1);
    CHECK_INT(st, DNS_DOMAIN_FOUND);
    CHECK_INT(dns_domain_combine(DNS_DOMAIN_HOST, NULL, &nx, NULL, &st), 1);
    CHECK_INT(st, DNS_DOMAIN_NOTFOUND);
    CHECK_INT(dns_domain_combine(DNS_DOMAIN_HOST, &bad, &nodata, &nodata, &st),
              1);
    CHECK_INT(st, DNS_DOMAIN_MALFORMED);
    CHECK_INT(dns_domain_combine(DNS_DOMAIN_HOST, &bad, &temp, &nodata, &st),
              1);
    CHECK_INT(st, DNS_DOMAIN_TEMPFAIL);
    CHECK_INT(dns_domain_combine(DNS_DOMAIN_HOST, NULL, NULL, NULL, &st), 0);
}

static void test_format(void)
{
    struct dns_record rec;
    struct buf out = BUF_INIT;
    unsigned char r[64];
    size_t len = mx_rdata(5, "mx.example", r);
    CHECK_INT(dns_rdata_parse(DNS_TYPE_MX, r, len, &rec), 0);
    dns_record_format(&rec, &out);
    CHECK_STR(out.data, "5 mx.example");
    len = mx_rdata(0, "", r);
    CHECK_INT(dns_rdata_parse(DNS_TYPE_MX, r, len, &rec), 0);
    dns_record_format(&rec, &out);
    CHECK_STR(out.data, "0 .");
    unsigned char v6[16] = {0x20, 0x01, 0x0d, 0xb8, [15] = 1};
    CHECK_INT(dns_rdata_parse(DNS_TYPE_AAAA, v6, 16, &rec), 0);
    dns_record_format(&rec, &out);
    CHECK_STR(out.data, "2001:db8::1");
    CHECK_INT(dns_rdata_parse(DNS_TYPE_TXT, (const unsigned char *)"\4a\"\\\n",
                              5, &rec),
              0);
    dns_record_format(&rec, &out);
    CHECK_STR(out.data, "a\\034\\092\\010");
    dns_record_free(&rec);
    CHECK_STR(dns_type_name(DNS_TYPE_AAAA), "AAAA");
    CHECK_STR(dns_type_name(255), "?");
    CHECK_INT(dns_type_from_name("mx"), DNS_TYPE_MX);
    CHECK_INT(dns_type_from_name("SRV"), 0);
    buf_free(&out);
}

/* TLSA (RFC 6698): three one-byte fields and the data, kept whatever
 * the field values; no data, or too much, is malformed. */
static void test_tlsa(void)
{
    struct dns_record rec;
    const unsigned char r[] = {3, 1, 1, 0xde, 0xad, 0xbe, 0xef};
    CHECK_INT(dns_rdata_parse(DNS_TYPE_TLSA, r, sizeof(r), &rec), 0);
    CHECK_INT(rec.u.tlsa.usage, 3);
    CHECK_INT(rec.u.tlsa.selector, 1);
    CHECK_INT(rec.u.tlsa.mtype, 1);
    CHECK_INT(rec.u.tlsa.len, 4);
    CHECK(memcmp(rec.u.tlsa.data, r + 3, 4) == 0);
    struct buf text = BUF_INIT;
    dns_record_format(&rec, &text);
    CHECK_STR(buf_cstr(&text), "3 1 1 deadbeef");
    dns_record_free(&rec);
    CHECK(rec.u.tlsa.data == NULL);
    /* Unknown usages are data for the caller to judge. */
    const unsigned char odd[] = {255, 9, 7, 0};
    CHECK_INT(dns_rdata_parse(DNS_TYPE_TLSA, odd, sizeof(odd), &rec), 0);
    dns_record_format(&rec, &text);
    CHECK_STR(buf_cstr(&text), "255 9 7 00");
    dns_record_free(&rec);
    CHECK_INT(dns_rdata_parse(DNS_TYPE_TLSA, r, 3, &rec), -1);
    CHECK_INT(dns_rdata_parse(DNS_TYPE_TLSA, r, 0, &rec), -1);
    static unsigned char big[3 + DNS_TLSA_DATA_MAX + 1];
    CHECK_INT(dns_rdata_parse(DNS_TYPE_TLSA, big, sizeof(big), &rec), -1);
    CHECK_INT(dns_rdata_parse(DNS_TYPE_TLSA, big, sizeof(big) - 1, &rec), 0);
    dns_record_free(&rec);
    /* An answer of two records, one malformed. */
    const unsigned char *rdata[2] = {r, r};
    size_t rdlen[2] = {sizeof(r), 2};
    struct dns_result res;
    dns_result_init(&res, DNS_TYPE_TLSA);
    dns_result_from_rdata(&res, DNS_TYPE_TLSA, 0, rdata, rdlen, 2);
    CHECK_INT(res.status, DNS_FOUND);
    CHECK_INT(res.count, 1);
    CHECK_INT(res.malformed, 1);
    dns_result_free(&res);
    CHECK_INT(dns_type_from_name("tlsa"), DNS_TYPE_TLSA);
    CHECK_STR(dns_type_name(DNS_TYPE_TLSA), "TLSA");
    buf_free(&text);
}

int main(void)
{
    UNIT_RUN(test_names);
    UNIT_RUN(test_rdata);
    UNIT_RUN(test_results);
    UNIT_RUN(test_combine);
    UNIT_RUN(test_format);
    UNIT_RUN(test_tlsa);
    return unit_summary();
}
