/* spf_record.h: the SPF record parser (RFC 7208 sections 4.5, 4.6, 5, 6
 * and 12): recognising an SPF record among a name's TXT records, and
 * reading one into terms, strictly: any syntax error anywhere in the
 * record is a permerror before anything is evaluated (section 4.6).
 *
 * Bounded: at most SPF_TERMS_MAX terms. Domain-specs and modifier values
 * are kept unexpanded (and checked: lib/spf/spf_macro.h); the evaluator
 * (lib/spf/spf.c) expands them. Fuzzed by fuzz/fuzz_spf_record.c. */
#ifndef POSTERN_SPF_RECORD_H
#define POSTERN_SPF_RECORD_H

#include <stddef.h>

#include "base/buf.h"
#include "spf/spf_ip.h"

#define SPF_TERMS_MAX 256

enum spf_mechanism {
    SPF_MECH_ALL,
    SPF_MECH_INCLUDE,
    SPF_MECH_A,
    SPF_MECH_MX,
    SPF_MECH_PTR,
    SPF_MECH_IP4,
    SPF_MECH_IP6,
    SPF_MECH_EXISTS,
};

/* A directive: qualifier and mechanism. */
struct spf_term {
    char qualifier; /* '+', '-', '~' or '?' */
    enum spf_mechanism mechanism;
    char *domain_spec; /* include, a, mx, ptr, exists; NULL: none given */
    struct spf_ip ip;  /* ip4, ip6 */
    int cidr4, cidr6;  /* prefix lengths (32/128 when not given) */
    char *text;        /* the term as written, for mechanism= and logs */
};

struct spf_record {
    struct spf_term *terms;
    size_t term_count;
    char *redirect; /* the unexpanded domain-spec, or NULL */
    char *exp;      /* the unexpanded domain-spec, or NULL */
    int has_all;    /* an "all" directive: redirect= is ignored */
};

/* Whether one TXT record is an SPF record: "v=spf1" (any case) alone or
 * followed by a space. */
int spf_record_is_spf(const char *txt, size_t len);
/* Parses an SPF record (starting with its version). Returns 0, or -1
 * with the reason appended to err (a permerror). rec is empty after a
 * failure; free it with spf_record_free in any case. */
int spf_record_parse(const char *txt, size_t len, struct spf_record *rec,
                     struct buf *err);
void spf_record_free(struct spf_record *rec);
/* Whether a domain-spec ends as RFC 7208's domain-end requires: a macro,
 * or "." and a top label (not all digits) and an optional dot. */
int spf_domain_end_valid(const char *spec);

#endif
