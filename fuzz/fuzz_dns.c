/* fuzz_dns.c: fuzz target for lib/dns/dns_rr, which parses the rdata of DNS
 * answers (from any name server on the network, relayed by libunbound).
 *
 * Input: byte 0 picks the type (A, AAAA, MX, PTR, TXT, TLSA), byte 1 the
 * rcode (mod 6), then records, each a 2-byte big-endian length and that
 * many bytes (a length running past the end takes what is left). The
 * whole input is also decoded as one name. Checks the promises of
 * dns_rr.h: every record is counted once (kept, malformed or dropped),
 * status FOUND exactly when records were kept under NOERROR, names are
 * host names (or "" for a null MX) within DNS_NAME_MAX, a null MX answer
 * holds only root exchanges, TXT data within DNS_TXT_MAX, TLSA data of
 * 1..DNS_TLSA_DATA_MAX bytes, and the domain
 * verdict is decided once all three answers are in. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "message/address.h"
#include "base/buf.h"
#include "dns/dns_rr.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_RECORDS 200

static void check_name(const char *name, int may_be_root)
{
    size_t len = strlen(name);
    if (len > DNS_NAME_MAX)
        abort();
    if (len == 0 ? !may_be_root : !address_valid_hostname(name, 0))
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const int types[] = {DNS_TYPE_A,   DNS_TYPE_AAAA, DNS_TYPE_MX,
                                DNS_TYPE_PTR, DNS_TYPE_TXT,  DNS_TYPE_TLSA};
    char name[DNS_NAME_MAX + 1];
    size_t used = 0;
    if (dns_name_decode(data, size, name, &used) == 0) {
        check_name(name, 1);
        if (used > size || used > 255)
            abort();
    }
    if (size < 2)
        return 0;
    int type = types[data[0] % (sizeof(types) / sizeof(*types))];
    int rcode = data[1] % 6;
    const unsigned char *rdata[MAX_RECORDS];
    size_t rdlen[MAX_RECORDS];
    size_t count = 0, pos = 2;
    while (pos + 2 <= size && count < MAX_RECORDS) {
        size_t len = (size_t)data[pos] << 8 | data[pos + 1];
        pos += 2;
        if (len > size - pos)
            len = size - pos;
        rdata[count] = data + pos;
        rdlen[count] = len;
        count++;
        pos += len;
    }
    struct dns_result res;
    dns_result_init(&res, type);
    dns_result_from_rdata(&res, type, rcode, rdata, rdlen, count);
    if (rcode != 0) {
        if (res.count != 0 || res.status == DNS_FOUND)
            abort();
        if ((rcode == 3) != (res.status == DNS_NOTFOUND && res.nxdomain))
            abort();
    } else {
        if (res.count + res.malformed + res.dropped != count)
            abort();
        if ((res.status == DNS_FOUND) != (res.count > 0))
            abort();
        if (res.count > DNS_RECORDS_MAX || res.nxdomain)
            abort();
    }
    struct buf text = BUF_INIT;
    for (size_t i = 0; i < res.count; i++) {
        const struct dns_record *rec = &res.records[i];
        if (rec->type != type)
            abort();
        if (type == DNS_TYPE_MX) {
            check_name(rec->u.mx.host, 1);
            if (res.null_mx != (rec->u.mx.host[0] == '\0'))
                abort();
        } else if (type == DNS_TYPE_PTR) {
            check_name(rec->u.ptr, 0);
        } else if (type == DNS_TYPE_TXT) {
            if (rec->u.txt.len > DNS_TXT_MAX ||
                rec->u.txt.data[rec->u.txt.len] != '\0')
                abort();
        } else if (type == DNS_TYPE_TLSA) {
            if (rec->u.tlsa.len < 1 || rec->u.tlsa.len > DNS_TLSA_DATA_MAX ||
                rec->u.tlsa.data == NULL)
                abort();
        }
        dns_record_format(rec, &text);
    }
    buf_free(&text);
    /* The same answer in every slot: both modes decide. */
    enum dns_domain_status status;
    if (!dns_domain_combine(DNS_DOMAIN_MAIL, &res, &res, &res, &status) ||
        !dns_domain_combine(DNS_DOMAIN_HOST, &res, &res, &res, &status))
        abort();
    struct dns_result copy;
    dns_result_init(&copy, 0);
    dns_result_move(&copy, &res);
    dns_result_free(&copy);
    dns_result_free(&res);
    return 0;
}
