/* tls_protocols.h: Postfix's TLS protocol lists ("smtpd_tls_protocols").
 *
 * A list names protocols to include ("TLSv1.2 TLSv1.3"), to exclude
 * ("!SSLv2, !SSLv3, !TLSv1, !TLSv1.1") and, as in Postfix 3.6, bounds
 * (">=TLSv1.2", "<=TLSv1.3"), separated by whitespace, commas or colons.
 * Names are SSLv2, SSLv3, TLSv1, TLSv1.1, TLSv1.2 and TLSv1.3, in any
 * case. Without an included name every protocol is a candidate; the
 * exclusions and bounds then take protocols away. SSLv2 and SSLv3 are
 * never enabled, whatever the list says. An excluded name we do not know
 * is ignored (a list written for another TLS library still works); an
 * included or bounding name we do not know is an error.
 *
 * Pure text in, a bit set out: lib/tls/tls_server turns it into the TLS
 * library's settings. Fuzzed by fuzz/fuzz_tls_protocols.c. */
#ifndef POSTERN_TLS_PROTOCOLS_H
#define POSTERN_TLS_PROTOCOLS_H

#include "base/buf.h"

#define TLS_PROTO_SSLV2 0x01u
#define TLS_PROTO_SSLV3 0x02u
#define TLS_PROTO_TLSV1 0x04u
#define TLS_PROTO_TLSV1_1 0x08u
#define TLS_PROTO_TLSV1_2 0x10u
#define TLS_PROTO_TLSV1_3 0x20u
#define TLS_PROTO_KNOWN 0x3fu
/* What may ever be enabled. */
#define TLS_PROTO_USABLE                                                       \
    (TLS_PROTO_TLSV1 | TLS_PROTO_TLSV1_1 | TLS_PROTO_TLSV1_2 |                 \
     TLS_PROTO_TLSV1_3)

/* Parses list into the set of protocols it leaves enabled: 0 with
 * *enabled a non-empty subset of TLS_PROTO_USABLE, or -1 with the reason
 * in err (an unknown name, a malformed bound, nothing left enabled). */
int tls_protocols_parse(const char *list, unsigned *enabled, struct buf *err);

/* The protocol's name ("TLSv1.2") for one bit, or NULL. */
const char *tls_protocol_name(unsigned bit);

/* Appends the names of the protocols in set, separated by spaces. */
void tls_protocols_format(unsigned set, struct buf *out);

#endif
