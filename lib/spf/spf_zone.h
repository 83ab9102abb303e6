/* spf_zone.h: an SPF resolver answered from zone data in memory, for the
 * unit tests, the RFC 7208/4408 conformance suites (tests/helpers/spfcheck)
 * and trying a record out without publishing it.
 *
 * Lines "NAME<tab>TYPE<tab>VALUE" (a name may hold spaces): A, AAAA, PTR
 * (a name), MX ("10 mx.example"), CNAME (followed, at most 8 links; a longer chain is a temporary error),
 * TXT (the rest of the line, as is), TXTHEX (the bytes in hex), and
 * "NAME<tab>TIMEOUT": a query for the name is a temporary error unless
 * the name has records of the asked type (as the suites' driver). Names
 * are case-insensitive; a trailing dot is ignored. A name listed with no
 * record of the asked type is NODATA, a name not listed NXDOMAIN. */
#ifndef POSTERN_SPF_ZONE_H
#define POSTERN_SPF_ZONE_H

#include "base/buf.h"
#include "spf/spf.h"

struct spf_zone;

struct spf_zone *spf_zone_new(void);
void spf_zone_free(struct spf_zone *zone);
/* Adds one line. Returns 0, or -1 with the reason in err. */
int spf_zone_add(struct spf_zone *zone, const char *line, struct buf *err);
/* Forgets every record and answer. */
void spf_zone_clear(struct spf_zone *zone);
/* With delay set, the first query for each name and type answers
 * SPF_DNS_PENDING (as a real resolver would) and later ones answer. */
void spf_zone_set_delay(struct spf_zone *zone, int delay);
/* The resolver for spf_check(). */
void spf_zone_dns(struct spf_zone *zone, struct spf_dns *dns);
/* Queries answered or started since the zone was made or cleared. */
unsigned spf_zone_queries(const struct spf_zone *zone);

#endif
