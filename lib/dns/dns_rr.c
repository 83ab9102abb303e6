/* dns_rr.c: DNS records and answers as plain data (dns_rr.h).
 *
 * The rdata handed to us by libunbound is wire format with names
 * uncompressed (unbound expands compression pointers when it stores a
 * record of a known type), so a compression pointer here is malformed.
 * Every read is checked against the rdata length first. */
#include "dns/dns_rr.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "message/address.h"
#include "base/buf.h"
#include "base/mem.h"
#include "base/str.h"

void dns_result_init(struct dns_result *res, int type)
{
    memset(res, 0, sizeof(*res));
    res->status = DNS_NOTFOUND;
    res->type = type;
}

void dns_record_free(struct dns_record *rec)
{
    if (rec->type == DNS_TYPE_TXT) {
        free(rec->u.txt.data);
        rec->u.txt.data = NULL;
        rec->u.txt.len = 0;
    } else if (rec->type == DNS_TYPE_TLSA) {
        free(rec->u.tlsa.data);
        rec->u.tlsa.data = NULL;
        rec->u.tlsa.len = 0;
    }
}

void dns_result_free(struct dns_result *res)
{
    for (size_t i = 0; i < res->count; i++)
        dns_record_free(&res->records[i]);
    free(res->records);
    dns_result_init(res, res->type);
}

void dns_result_move(struct dns_result *dst, struct dns_result *src)
{
    dns_result_free(dst);
    *dst = *src;
    src->records = NULL;
    src->count = 0;
    dns_result_free(src);
}

static int name_byte_ok(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           (c >= '0' && c <= '9') || c == '-' || c == '_';
}

int dns_name_decode(const unsigned char *data, size_t len, char *out,
                    size_t *used)
{
    size_t pos = 0, outlen = 0;
    out[0] = '\0';
    for (;;) {
        if (pos >= len)
            return -1; /* truncated: no root label */
        unsigned label = data[pos++];
        if (label == 0)
            break;
        if (label > 63)
            return -1; /* compression pointer or extended label type */
        if (label > len - pos || pos + label >= 255)
            return -1; /* truncated, or the name exceeds 255 bytes */
        if (outlen > 0)
            out[outlen++] = '.';
        for (unsigned i = 0; i < label; i++) {
            unsigned char c = data[pos + i];
            if (!name_byte_ok(c))
                return -1;
            out[outlen++] = (char)(c >= 'A' && c <= 'Z' ? c + 32 : c);
        }
        pos += label;
    }
    /* pos <= 255 on the wire means at most 253 characters here. */
    out[outlen] = '\0';
    if (outlen > 0 && !address_valid_hostname(out, 0))
        return -1;
    if (used)
        *used = pos;
    return 0;
}

static int parse_txt(const unsigned char *rdata, size_t len,
                     struct dns_record *out)
{
    if (len == 0)
        return -1; /* a TXT record holds at least one string */
    struct buf text = BUF_INIT;
    size_t pos = 0;
    while (pos < len) {
        size_t n = rdata[pos++];
        if (n > len - pos || text.len + n > DNS_TXT_MAX) {
            buf_free(&text);
            return -1;
        }
        buf_append(&text, rdata + pos, n);
        pos += n;
    }
    out->u.txt.len = text.len;
    out->u.txt.data = buf_detach(&text); /* never NULL, NUL-terminated */
    return 0;
}

int dns_rdata_parse(int type, const unsigned char *rdata, size_t len,
                    struct dns_record *out)
{
    memset(out, 0, sizeof(*out));
    out->type = type;
    size_t used = 0;
    switch (type) {
    case DNS_TYPE_A:
        if (len != 4)
            return -1;
        memcpy(out->u.a, rdata, 4);
        return 0;
    case DNS_TYPE_AAAA:
        if (len != 16)
            return -1;
        memcpy(out->u.aaaa, rdata, 16);
        return 0;
    case DNS_TYPE_MX:
        if (len < 3)
            return -1;
        out->u.mx.preference = (unsigned)rdata[0] << 8 | rdata[1];
        if (dns_name_decode(rdata + 2, len - 2, out->u.mx.host, &used) < 0 ||
            used != len - 2)
            return -1;
        return 0;
    case DNS_TYPE_PTR:
        if (dns_name_decode(rdata, len, out->u.ptr, &used) < 0 || used != len ||
            out->u.ptr[0] == '\0')
            return -1;
        return 0;
    case DNS_TYPE_TXT:
        return parse_txt(rdata, len, out);
    case DNS_TYPE_TLSA:
        /* Three one-byte fields and at least one byte of data. */
        if (len < 4 || len - 3 > DNS_TLSA_DATA_MAX)
            return -1;
        out->u.tlsa.usage = rdata[0];
        out->u.tlsa.selector = rdata[1];
        out->u.tlsa.mtype = rdata[2];
        out->u.tlsa.len = len - 3;
        out->u.tlsa.data = xmalloc(len - 3);
        memcpy(out->u.tlsa.data, rdata + 3, len - 3);
        return 0;
    default:
        return -1;
    }
}

static const char *rcode_name(int rcode)
{
    switch (rcode) {
    case 1:
        return "FORMERR";
    case 2:
        return "SERVFAIL";
    case 3:
        return "NXDOMAIN";
    case 4:
        return "NOTIMP";
    case 5:
        return "REFUSED";
    default:
        return NULL;
    }
}

void dns_result_from_rdata(struct dns_result *res, int type, int rcode,
                           const unsigned char *const *rdata,
                           const size_t *rdlen, size_t count)
{
    dns_result_free(res);
    res->type = type;
    if (rcode == 3) {
        res->status = DNS_NOTFOUND;
        res->nxdomain = 1;
        str_copy(res->why, "NXDOMAIN", sizeof(res->why));
        return;
    }
    if (rcode != 0) {
        const char *name = rcode_name(rcode);
        res->status = DNS_TEMPFAIL;
        if (name)
            str_copy(res->why, name, sizeof(res->why));
        else
            snprintf(res->why, sizeof(res->why), "rcode %d", rcode);
        return;
    }
    size_t keep = count < DNS_RECORDS_MAX ? count : DNS_RECORDS_MAX;
    if (keep)
        res->records = xcalloc(keep, sizeof(*res->records));
    for (size_t i = 0; i < count; i++) {
        if (res->count == DNS_RECORDS_MAX) {
            res->dropped++;
            continue;
        }
        struct dns_record *rec = &res->records[res->count];
        if (dns_rdata_parse(type, rdata[i], rdlen[i], rec) < 0) {
            dns_record_free(rec);
            res->malformed++;
            continue;
        }
        res->count++;
    }
    if (type == DNS_TYPE_MX) {
        /* RFC 7505: "0 ." alone means the domain takes no mail. A root
         * exchange beside real ones is an error; drop it. */
        size_t roots = 0;
        for (size_t i = 0; i < res->count; i++)
            roots += res->records[i].u.mx.host[0] == '\0';
        if (roots > 0 && roots == res->count) {
            res->null_mx = 1;
        } else if (roots > 0) {
            size_t out = 0;
            for (size_t i = 0; i < res->count; i++)
                if (res->records[i].u.mx.host[0] != '\0')
                    res->records[out++] = res->records[i];
            res->count = out;
            res->malformed += roots;
        }
    }
    if (res->count > 0) {
        res->status = DNS_FOUND;
    } else {
        res->status = DNS_NOTFOUND;
        str_copy(res->why,
                 res->malformed ? "malformed records" : "no records (NODATA)",
                 sizeof(res->why));
    }
}

void dns_record_format(const struct dns_record *rec, struct buf *out)
{
    char addr[INET6_ADDRSTRLEN];
    buf_reset(out);
    switch (rec->type) {
    case DNS_TYPE_A:
        inet_ntop(AF_INET, rec->u.a, addr, sizeof(addr));
        buf_append_str(out, addr);
        break;
    case DNS_TYPE_AAAA:
        inet_ntop(AF_INET6, rec->u.aaaa, addr, sizeof(addr));
        buf_append_str(out, addr);
        break;
    case DNS_TYPE_MX:
        buf_appendf(out, "%u %s", rec->u.mx.preference,
                    rec->u.mx.host[0] ? rec->u.mx.host : ".");
        break;
    case DNS_TYPE_PTR:
        buf_append_str(out, rec->u.ptr);
        break;
    case DNS_TYPE_TXT:
        for (size_t i = 0; i < rec->u.txt.len; i++) {
            unsigned char c = (unsigned char)rec->u.txt.data[i];
            if (c < 32 || c > 126 || c == '\\' || c == '"')
                buf_appendf(out, "\\%03u", c);
            else
                buf_append_char(out, (char)c);
        }
        break;
    case DNS_TYPE_TLSA:
        buf_appendf(out, "%u %u %u ", rec->u.tlsa.usage, rec->u.tlsa.selector,
                    rec->u.tlsa.mtype);
        for (size_t i = 0; i < rec->u.tlsa.len; i++)
            buf_appendf(out, "%02x", rec->u.tlsa.data[i]);
        break;
    default:
        break;
    }
}

static int found(const struct dns_result *r)
{
    return r && r->status == DNS_FOUND;
}

static int temp(const struct dns_result *r)
{
    return r && r->status == DNS_TEMPFAIL;
}

static int bad(const struct dns_result *r)
{
    return r && r->status == DNS_NOTFOUND && r->malformed > 0;
}

static int nxdomain(const struct dns_result *r)
{
    return r && r->status == DNS_NOTFOUND && r->nxdomain;
}

int dns_domain_combine(enum dns_domain_mode mode, const struct dns_result *mx,
                       const struct dns_result *a,
                       const struct dns_result *aaaa,
                       enum dns_domain_status *status)
{
    if (mode == DNS_DOMAIN_MAIL) {
        if (!mx)
            return 0; /* the MX answer comes first: a null MX wins */
        if (found(mx)) {
            *status = mx->null_mx ? DNS_DOMAIN_NULLMX : DNS_DOMAIN_FOUND;
            return 1;
        }
        if (bad(mx)) {
            *status = DNS_DOMAIN_MALFORMED;
            return 1;
        }
        if (nxdomain(mx)) {
            *status = DNS_DOMAIN_NOTFOUND;
            return 1;
        }
    } else {
        if (found(a) || found(aaaa) || (found(mx) && !mx->null_mx)) {
            *status = DNS_DOMAIN_FOUND;
            return 1;
        }
        if (nxdomain(mx) || nxdomain(a) || nxdomain(aaaa)) {
            *status = DNS_DOMAIN_NOTFOUND;
            return 1;
        }
        if (!mx)
            return 0;
    }
    /* No MX to decide by: the addresses do. */
    if (found(a) || found(aaaa)) {
        *status = DNS_DOMAIN_FOUND;
        return 1;
    }
    if (!a || !aaaa)
        return 0;
    if (temp(mx) || temp(a) || temp(aaaa))
        *status = DNS_DOMAIN_TEMPFAIL;
    else if (bad(mx) || bad(a) || bad(aaaa))
        *status = DNS_DOMAIN_MALFORMED;
    else
        *status = DNS_DOMAIN_NOTFOUND;
    return 1;
}

const char *dns_status_name(enum dns_status status)
{
    switch (status) {
    case DNS_FOUND:
        return "found";
    case DNS_NOTFOUND:
        return "notfound";
    case DNS_TEMPFAIL:
        return "tempfail";
    }
    return "?";
}

const char *dns_domain_status_name(enum dns_domain_status status)
{
    switch (status) {
    case DNS_DOMAIN_FOUND:
        return "found";
    case DNS_DOMAIN_NOTFOUND:
        return "notfound";
    case DNS_DOMAIN_NULLMX:
        return "nullmx";
    case DNS_DOMAIN_MALFORMED:
        return "malformed";
    case DNS_DOMAIN_TEMPFAIL:
        return "tempfail";
    }
    return "?";
}

static const struct {
    const char *name;
    int type;
} type_names[] = {
    {"A", DNS_TYPE_A},     {"PTR", DNS_TYPE_PTR},   {"MX", DNS_TYPE_MX},
    {"TXT", DNS_TYPE_TXT}, {"AAAA", DNS_TYPE_AAAA}, {"TLSA", DNS_TYPE_TLSA},
};

const char *dns_type_name(int type)
{
    for (size_t i = 0; i < sizeof(type_names) / sizeof(*type_names); i++)
        if (type_names[i].type == type)
            return type_names[i].name;
    return "?";
}

int dns_type_from_name(const char *name)
{
    for (size_t i = 0; i < sizeof(type_names) / sizeof(*type_names); i++)
        if (strcasecmp(type_names[i].name, name) == 0)
            return type_names[i].type;
    return 0;
}
