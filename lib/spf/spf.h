/* spf.h: SPF (RFC 7208) for smtpd and whoever consumes its results
 * (Received-SPF now; DMARC, ARC and Authentication-Results later).
 *
 * spf_check() runs check_host() for the MAIL FROM or the HELO identity of
 * a client: the record (lib/spf/spf_record.h), every mechanism and
 * modifier, macros (lib/spf/spf_macro.h), the 10 DNS-mechanism and the 2
 * void-lookup limits, at most 10 MX names per "mx" and 10 PTR names per
 * "ptr", include/redirect recursion and the exp= explanation.
 *
 * DNS goes through struct spf_dns. An evaluation never waits: when the
 * resolver does not have an answer yet it starts the lookup and says
 * SPF_DNS_PENDING; spf_check() then returns with `pending` set, and the
 * caller runs it again once the answer is in. The evaluation is a pure
 * function of the answers, so every run takes the same path up to the
 * first missing answer (a replay, as smtpd's restrictions already work:
 * docs/dns.md). In smtpd the resolver is lib/dns (smtpd/smtpd_spf.c), in
 * tests an in-memory zone (lib/spf/spf_zone.h). docs/spf.md tells the
 * whole story. */
#ifndef POSTERN_SPF_H
#define POSTERN_SPF_H

#include "base/buf.h"
#include "dns/dns_rr.h"
#include "spf/spf_ip.h"

enum spf_result {
    SPF_NONE,
    SPF_NEUTRAL,
    SPF_PASS,
    SPF_FAIL,
    SPF_SOFTFAIL,
    SPF_TEMPERROR,
    SPF_PERMERROR,
};

/* The outcome's texts are cut to these many bytes (on a UTF-8 character
 * boundary), so they fit in a header line and an SMTP reply. */
#define SPF_MECHANISM_TEXT_MAX 200
#define SPF_PROBLEM_TEXT_MAX 200
#define SPF_EXPLANATION_TEXT_MAX 256

/* RFC 7208's limits (section 4.6.4). */
#define SPF_DNS_MECHANISMS_MAX 10
#define SPF_VOID_LOOKUPS_MAX 2
#define SPF_MX_NAMES_MAX 10
#define SPF_PTR_NAMES_MAX 10

#define SPF_DNS_READY 1
#define SPF_DNS_PENDING 0

/* The resolver. lookup() answers name/type (DNS_TYPE_TXT, A, AAAA, MX,
 * PTR; name without a trailing dot) with SPF_DNS_READY and *answer set
 * (owned by the resolver, valid until the spf_check() call returns), or
 * starts the lookup and returns SPF_DNS_PENDING. A name that follows a
 * CNAME is answered with the target's records. */
struct spf_dns {
    int (*lookup)(void *ctx, const char *name, int type,
                  const struct dns_result **answer);
    void *ctx;
};

enum spf_identity { SPF_IDENTITY_MAILFROM, SPF_IDENTITY_HELO };

struct spf_request {
    enum spf_identity identity;
    struct spf_ip ip;     /* the client */
    const char *sender;   /* MAIL FROM address; "" for the null sender */
    const char *helo;     /* HELO/EHLO argument ("" when none) */
    const char *receiver; /* our host name, for %{r} and headers */
    long long now;        /* for %{t} */
};

struct spf_outcome {
    enum spf_result result;
    int pending;            /* spf_check() must be run again */
    struct buf domain;      /* the domain checked */
    struct buf sender;      /* the sender as checked (postmaster@helo ...) */
    struct buf mechanism;   /* the directive that decided ("-all",
                               "include:_spf.example"), "default" when
                               none matched, "" for none and errors */
    struct buf explanation; /* fail: the exp= text, "" when none (printable
                               ASCII and spaces, but %{s} may add UTF-8) */
    struct buf problem;     /* temperror, permerror: what went wrong */
    unsigned dns_mechanisms; /* counted against the limits */
    unsigned void_lookups;
};

void spf_outcome_init(struct spf_outcome *out);
void spf_outcome_free(struct spf_outcome *out);

/* check_host() for the request's identity: MAIL FROM (the null sender
 * is checked as postmaster@HELO) or HELO. Returns 0 with out filled, or
 * 1 with out->pending set: run it again when the DNS has answered. */
int spf_check(const struct spf_request *req, const struct spf_dns *dns,
              struct spf_outcome *out);
/* RFC 7208's check_host(ip, domain, sender) itself. */
int spf_check_host(const struct spf_request *req, const char *domain,
                   const char *sender, const struct spf_dns *dns,
                   struct spf_outcome *out);

/* "pass", "fail", ... as RFC 7208 spells them. */
const char *spf_result_name(enum spf_result result);
/* The result for a name, or -1. */
int spf_result_from_name(const char *name);

#endif
