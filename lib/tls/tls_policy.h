/* tls_policy.h: the SMTP client's TLS security levels and the values of
 * Postfix's smtp_tls_policy_maps ("secure match=.example.com:example.com
 * protocols=>=TLSv1.2").
 *
 * A table value is a level, then optional name=value attributes
 * separated by whitespace or commas. Inside a value the separator of a
 * list is the colon (match=nexthop:hostname, protocols=!TLSv1:!TLSv1.1),
 * for fingerprint the "|" (match=AB:CD...|EF:01...), and several match=
 * attributes add up. The attributes are Postfix's: protocols, ciphers
 * and exclude at levels may and up, match at verify, secure and
 * fingerprint, servername and connection_reuse. Anything else (also
 * Postfix's tafile, which we do not implement: ignoring it would trust
 * more than the site asked for),
 * an attribute at a level that has no use for it, a repeated
 * single-valued attribute or an empty value is an error, which the
 * caller turns into a deferral (a damaged policy must never lower the
 * protection a site asked for).
 *
 * tls_policy_parse is a pure function of its text (fuzzed by
 * fuzz/fuzz_tls_policy.c); tls_policy_lookup searches the tables. */
#ifndef POSTERN_TLS_POLICY_H
#define POSTERN_TLS_POLICY_H

#include "base/buf.h"
#include "base/str.h"

struct maps;

/* In order of increasing protection, as Postfix ranks them. */
enum tls_client_level {
    TLS_CLIENT_NONE,        /* no TLS */
    TLS_CLIENT_MAY,         /* STARTTLS when offered, plain otherwise */
    TLS_CLIENT_ENCRYPT,     /* TLS required, the peer not authenticated */
    TLS_CLIENT_FINGERPRINT, /* the certificate or key digest must match */
    TLS_CLIENT_DANE,        /* DANE when validated TLSA records exist */
    TLS_CLIENT_DANE_ONLY,   /* DANE required */
    TLS_CLIENT_VERIFY,      /* chain to the CAs, and the MX host name */
    TLS_CLIENT_SECURE,      /* chain to the CAs, and the next-hop names */
};

struct tls_policy {
    enum tls_client_level level;
    /* Attribute values; NULL when the table left them to main.cf. */
    char *protocols;      /* a protocol list, colons between items */
    char *ciphers;        /* a cipher grade */
    char *exclude;        /* OpenSSL cipher names to leave out, colon list */
    char *servername;     /* SNI: "hostname", "nexthop" or a DNS name */
    int connection_reuse; /* -1 unset, 0 no, 1 yes */
    /* match= items: for verify and secure strategies ("hostname",
     * "nexthop", "dot-nexthop") and patterns ("example.com",
     * ".example.com"); for fingerprint, lower-case hex digests without
     * colons. match_set says whether the table gave any. */
    struct strlist match;
    int match_set;
};

void tls_policy_init(struct tls_policy *policy);
void tls_policy_free(struct tls_policy *policy);

/* The level's name ("dane-only"), and its value for a name ("" is none,
 * as for an empty smtp_tls_security_level); -1 when unknown. Case does
 * not matter. */
const char *tls_client_level_name(enum tls_client_level level);
int tls_client_level_parse(const char *name, enum tls_client_level *level);

/* 1 when the level refuses to send in plain text (encrypt and up). */
int tls_client_level_mandatory(enum tls_client_level level);

/* Parses a table value into policy (initialized by the caller, freed
 * with tls_policy_free whatever the result): 0, or -1 with the reason
 * in err. */
int tls_policy_parse(const char *value, struct tls_policy *policy,
                     struct buf *err);

/* Splits a match list (main.cf's smtp_tls_*_cert_match, separators
 * whitespace, commas and colons) into policy->match, checking each
 * item; for fingerprints (fingerprint != 0) the separators are
 * whitespace, commas and "|", and each item is a hex digest. 0 or -1
 * with the reason in err. */
int tls_policy_add_match(struct tls_policy *policy, const char *list,
                         const char *separators, int fingerprint,
                         struct buf *err);

/* smtp_tls_policy_maps for a next hop, as Postfix keys it: the whole
 * next hop first ("[mx.example.com]:587", "example.com"); then, for a
 * bare domain, its parents with a leading dot (".example.com", ".com").
 * 1 found (policy filled), 0 not found, -1 a table error or a value
 * that does not parse (err says which; the delivery should defer). */
int tls_policy_lookup(struct maps *maps, const char *nexthop,
                      struct tls_policy *policy, struct buf *err);

#endif
