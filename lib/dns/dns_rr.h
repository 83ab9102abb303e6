/* dns_rr.h: DNS answers as plain data: records parsed from wire-format
 * rdata, the three-way outcome of one query, and the rules that combine
 * the MX, A and AAAA answers for one domain into the verdict the mail
 * restrictions need.
 *
 * Everything here is pure (no network, no resolver state), so the
 * parsers are unit-tested and fuzzed on their own (fuzz/fuzz_dns.c);
 * lib/dns/dns.c fills these structures from libunbound's answers.
 *
 * Names are checked as Postfix checks the names in MX and PTR records:
 * letters, digits, '-' and '_' in labels of 1..63 bytes (address.h's
 * address_valid_hostname). A record whose rdata does not parse, or whose
 * name is not a host name, is dropped and counted in `malformed`, never
 * passed on half-read. Sizes are bounded: at most DNS_RECORDS_MAX records
 * per answer (the rest counted in `dropped`), names of at most
 * DNS_NAME_MAX characters, TXT data of at most DNS_TXT_MAX bytes per
 * record. */
#ifndef POSTERN_DNS_RR_H
#define POSTERN_DNS_RR_H

#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"

/* Record types we parse (RFC 1035, RFC 3596). */
#define DNS_TYPE_A 1
#define DNS_TYPE_PTR 12
#define DNS_TYPE_MX 15
#define DNS_TYPE_TXT 16
#define DNS_TYPE_AAAA 28
#define DNS_TYPE_TLSA 52 /* RFC 6698 */

/* Longest name in presentation form, without the trailing dot. */
#define DNS_NAME_MAX 253
/* Most records kept from one answer. */
#define DNS_RECORDS_MAX 64
/* Most bytes of one TXT record (its strings concatenated). */
#define DNS_TXT_MAX 4096
/* Most bytes of one TLSA record's association data (a full certificate
 * fits; a SHA-512 digest is 64). */
#define DNS_TLSA_DATA_MAX 8192

/* The outcome of one query. */
enum dns_status {
    DNS_FOUND,    /* at least one usable record */
    DNS_NOTFOUND, /* NXDOMAIN, or the name exists without such records
                     (NODATA), or every record was malformed */
    DNS_TEMPFAIL, /* timeout, SERVFAIL, REFUSED, DNSSEC bogus, no resolver */
};

struct dns_mx {
    unsigned preference;
    /* The exchange, lower case, no trailing dot; "" is the root: a null
     * MX (RFC 7505) when it is the domain's only MX record. */
    char host[DNS_NAME_MAX + 1];
};

struct dns_record {
    int type;
    union {
        struct dns_mx mx;
        unsigned char a[4];
        unsigned char aaaa[16];
        char ptr[DNS_NAME_MAX + 1]; /* lower case, no trailing dot */
        struct {
            char *data; /* the strings concatenated, NUL-terminated;
                           may hold NUL bytes: use len */
            size_t len;
        } txt;
        struct {
            unsigned char usage;    /* 0 PKIX-TA .. 3 DANE-EE */
            unsigned char selector; /* 0 full certificate, 1 public key */
            unsigned char mtype;    /* 0 exact, 1 SHA-256, 2 SHA-512 */
            unsigned char *data;    /* len bytes (heap), len >= 1 */
            size_t len;
        } tlsa;
    } u;
};

struct dns_result {
    enum dns_status status;
    int type;
    int nxdomain;     /* NOTFOUND because the name does not exist */
    int null_mx;      /* MX: the domain's only MX is "0 ." (RFC 7505) */
    int secure;       /* DNSSEC-validated answer */
    int bogus;        /* DNSSEC validation failed (status TEMPFAIL) */
    unsigned ttl;     /* of the answer, seconds */
    size_t malformed; /* records dropped because they did not parse */
    size_t dropped;   /* records beyond DNS_RECORDS_MAX */
    size_t count;
    struct dns_record *records; /* count of them, or NULL */
    char why[128];              /* TEMPFAIL/NOTFOUND: a short reason for logs */
    /* The name the records belong to after CNAMEs were followed (lower
     * case, no trailing dot); "" when no CNAME was followed or unknown. */
    char canonical[DNS_NAME_MAX + 1];
};

/* An empty result (NOTFOUND, no records). */
void dns_result_init(struct dns_result *res, int type);
/* Releases the records; the result is empty again. */
void dns_result_free(struct dns_result *res);
/* Moves src (records included) into dst, freeing what dst held; src is
 * left empty. */
void dns_result_move(struct dns_result *dst, struct dns_result *src);

/* Decodes an uncompressed wire-format name from data[0..len) into out
 * (size >= DNS_NAME_MAX + 1): lower case, labels joined by '.', no
 * trailing dot, "" for the root. *used gets the wire length. Returns 0,
 * or -1 when the name is truncated, compressed, longer than 255 bytes on
 * the wire, or not a host name (see above). */
int dns_name_decode(const unsigned char *data, size_t len, char *out,
                    size_t *used);

/* Parses one record's rdata of the given type. Returns 0, or -1 when it
 * is malformed (wrong length, bad name, trailing bytes, TXT too long,
 * TLSA without data or with more than DNS_TLSA_DATA_MAX bytes). On
 * success TXT and TLSA records own heap memory: free them with
 * dns_record_free. TLSA fields are kept whatever their values (RFC 7671:
 * the user decides which usages it supports). */
int dns_rdata_parse(int type, const unsigned char *rdata, size_t len,
                    struct dns_record *out);
void dns_record_free(struct dns_record *rec);

/* Builds a result from an answer's rdata: rdata[i] of rdlen[i] bytes,
 * count of them. rcode is the DNS response code (0 NOERROR, 2 SERVFAIL,
 * 3 NXDOMAIN, ...). Sets status, the records, null_mx, malformed and
 * dropped. The caller sets secure/bogus/ttl. */
void dns_result_from_rdata(struct dns_result *res, int type, int rcode,
                           const unsigned char *const *rdata,
                           const size_t *rdlen, size_t count);

/* The presentation form of a record for logs and tests ("10 mx.example",
 * "192.0.2.1", "2001:db8::1", "host.example", TXT with non-printable
 * bytes as \DDD, TLSA as "3 1 1 HEX" with lower-case hex), replacing
 * out's contents. */
void dns_record_format(const struct dns_record *rec, struct buf *out);

/* What the DNS says about a mail domain or a host name, from its MX, A
 * and AAAA answers. */
enum dns_domain_status {
    DNS_DOMAIN_FOUND,     /* an MX (not null), A or AAAA record */
    DNS_DOMAIN_NOTFOUND,  /* no such name, or none of those records */
    DNS_DOMAIN_NULLMX,    /* mail mode: the domain has a null MX */
    DNS_DOMAIN_MALFORMED, /* records that did not parse and nothing else */
    DNS_DOMAIN_TEMPFAIL,  /* a lookup failed and nothing was found */
};

/* How the three answers are weighed, after Postfix's smtpd:
 * DNS_DOMAIN_MAIL (reject_unknown_sender/recipient_domain): the MX
 * answer first; a null MX or malformed MX decides; without MX records an
 * A or AAAA record makes the domain known.
 * DNS_DOMAIN_HOST (reject_unknown_helo_hostname): an A or AAAA record,
 * else an MX record (a null MX does not count). */
enum dns_domain_mode {
    DNS_DOMAIN_MAIL,
    DNS_DOMAIN_HOST,
};

/* Combines the answers that are in (NULL for one still pending).
 * Returns 1 and sets *status when the verdict no longer depends on the
 * pending ones, else 0. With all three given it always decides. A
 * result the caller gave up on (timeout) is passed as TEMPFAIL. */
int dns_domain_combine(enum dns_domain_mode mode, const struct dns_result *mx,
                       const struct dns_result *a,
                       const struct dns_result *aaaa,
                       enum dns_domain_status *status);

const char *dns_status_name(enum dns_status status);
const char *dns_domain_status_name(enum dns_domain_status status);
/* "MX", "A", ... or "?" for a type not listed above. */
const char *dns_type_name(int type);
/* The type for a name ("mx", "A", ...; case-insensitive), or 0. */
int dns_type_from_name(const char *name);

#endif
