/* smtp.h: the smtp and lmtp delivery agent (Postfix's smtp(8) and
 * lmtp(8), one program): its settings and the interfaces between its
 * files.
 *
 *   smtp.c          main, mode (smtp or lmtp), settings, the agent hooks
 *   smtp_deliver.c  one deliver/1 request: the next hop, a cached or new
 *                   session, one transaction for all the recipients, each
 *                   recipient's outcome
 *   smtp_connect.c  a non-blocking connect with smtp_connect_timeout, the
 *                   greeting and EHLO/LHLO, then STARTTLS (smtp_tls.c)
 *   smtp_tls.c      TLS: the policy of a next hop (level, smtp_tls_policy_maps)
 *                   and STARTTLS with lib/tls's client on a connection
 *   smtp_cache.c    connections kept after a delivery for the next request
 *                   to the same next hop (smtp_connection_cache_*)
 *   smtp_content.c  the message content, read from the queue file as the
 *                   engine sends it, or converted to 7 bits for a server
 *                   without 8BITMIME
 *   smtp_nexthop.c  next-hop syntax and literal addresses (the DNS
 *                   resolver plugs in there)
 *   smtp_mtasts.c   MTA-STS: the policy lookup beside the MX lookup, MX
 *                   hosts an enforce policy refuses, its TLS demand
 *   smtp_tlsrpt.c   TLS outcomes per destination and day (RFC 8460)
 *   smtp_sasl.c     SASL login to the server (smtp_sasl_*), on the
 *                   credentials and mechanism smtp_sasl_policy.c picks
 *
 * The protocol itself is lib/smtpc (smtpc_session.h). Each request runs
 * the engine on a private event loop of this process (smtp_loop), which
 * runs only while a request or an idle-cache QUIT is in hand: a process
 * serves one request at a time, as every delivery agent does, and
 * several processes give the concurrency. See docs/smtp.md. */
#ifndef POSTERN_SMTP_H
#define POSTERN_SMTP_H

#include <stddef.h>
#include <stdint.h>
#include <sys/time.h>

#include "base/buf.h"
#include "base/event.h"
#include "base/stream.h"
#include "delivery/agent.h"
#include "dns/dns_rr.h"
#include "dns/dns.h"
#include "mtasts/mtasts.h"
#include "smtp_nexthop.h"
#include "smtpc/smtpc_session.h"
#include "smtpc/smtpc_settings.h"
#include "tls/tls_conn.h"
#include "tls/tls_policy.h"

/* What main.cf says, read once at start (the smtp_* parameters, or the
 * lmtp_* ones in lmtp mode). */
struct smtp_settings {
    int lmtp;                      /* 1: LMTP (program or service lmtp) */
    const char *name;              /* "smtp" or "lmtp": parameter prefix */
    struct smtpc_settings engine;  /* lib/smtpc's timeouts and switches */
    int connect_timeout_ms;        /* 0: the kernel's own limit */
    long mx_address_limit;         /* addresses tried per request; 0: all */
    long mx_session_limit;         /* sessions per request; 0: no limit */
    int cache_on_demand;           /* keep connections for reuse */
    uint64_t cache_time_limit_ms;  /* idle time a kept connection may wait */
    long reuse_count_limit;        /* transactions per connection; 0: any */
    uint64_t reuse_time_limit_ms;  /* age after which a connection is not
                                      reused; 0: any */
    const char *tls_security_level; /* main.cf's level (smtp_tls.c) */
    int mime_output_conversion;    /* 8-bit content to quoted-printable
                                      for a server without 8BITMIME (not
                                      disable_mime_output_conversion) */
    const char *queue_dir;
    const char *myhostname;
    const char *fallback_relay;    /* smtp_fallback_relay; "" for lmtp */
};

extern struct smtp_settings smtp_cfg;

/* The process's private event loop for the engine. */
struct event_loop *smtp_loop(void);

/* ---- smtp_dns.c ---- */

/* Makes the DNS client on the private loop and plugs the lookup of
 * names into smtp_nexthop (at init, before any chroot). */
void smtp_dns_init(void);
/* The TLSA records of _PORT._tcp.HOST, on the private loop; out is
 * initialized here (free it with dns_result_free). Its status is
 * DNS_TEMPFAIL for a failed or bogus lookup; out->secure says whether
 * the answer was validated. */
void smtp_dns_tlsa(const char *host, unsigned port, struct dns_result *out);

/* One connection with its session. */
struct smtp_conn {
    struct stream *stream;
    struct smtpc_session *session;
    struct smtp_addr addr;   /* the peer */
    char *key;               /* the next hop it was opened for */
    struct buf relay;        /* "host[addr]:port", for relay= */
    uint64_t opened_ms;      /* monotonic: when it was connected */
    uint64_t idle_since_ms;  /* monotonic: when it was cached */
    unsigned transactions;   /* transactions sent on it */
    int tls_active;          /* 1 after a completed STARTTLS handshake */
    int tls_verified;        /* 1 when the peer's certificate was verified */
    struct tls_conn *tls;    /* the TLS layer under stream, or NULL */
    char *tls_signature;     /* the TLS demands it was opened under
                                (smtp_tls_hop.signature): reused only for
                                a hop with the same */
};

/* ---- smtp_tls.c ---- */

/* What a next hop asks of TLS, for every connection made for it. */
struct smtp_tls_hop {
    struct tls_policy policy; /* smtp_tls_policy_for's */
    char domain[SMTP_HOST_MAX + 1]; /* the next-hop domain: no brackets,
                                       no port, no inet: */
    struct buf signature;     /* level and attributes as text: kept
                                 connections are reused only for the same */
    /* RFC 8689 REQUIRETLS: only a verified connection whose server offers
     * REQUIRETLS may carry the message; below a verifying level the
     * connection is made at verify_policy (verify, match=hostname). */
    int requiretls;
    struct tls_policy verify_policy;
    /* "TLS-Required: No": the level was lowered to may for this message. */
    int policy_waived;
};

/* The TLS client context (PREFIX_tls_*), when a level or
 * smtp_tls_policy_maps asks for TLS, and the policy tables; at init. */
void smtp_tls_init(void);
/* The policy for a next hop: main.cf's level, then smtp_tls_policy_maps
 * keyed by nexthop_key ("[host]:port", "domain" as Postfix keys it).
 * out must be initialized (tls_policy_init); 0, or -1 with the reason in
 * err (a table error, a value that does not parse, an invalid level):
 * the delivery defers. */
int smtp_tls_policy_for(const char *nexthop_domain, const char *nexthop_key,
                        struct tls_policy *out, struct buf *err);
/* hop for a request's next hop: smtp_tls_policy_for with the key and
 * domain taken from nexthop; requiretls for a REQUIRETLS message. 0, or
 * -1 with why set (4.3.0 deferral). Free with smtp_tls_hop_free either
 * way. */
int smtp_tls_hop_init(struct smtp_tls_hop *hop, const char *nexthop,
                      int requiretls, struct smtpc_result *why);
/* For a message with "TLS-Required: No" (never with REQUIRETLS, as RFC
 * 8689 section 5 says): a level above may becomes may. 1 when the
 * policy was lowered. */
int smtp_tls_hop_waive(struct smtp_tls_hop *hop);
void smtp_tls_hop_free(struct smtp_tls_hop *hop);

/* After EHLO on c: STARTTLS as hop's policy says (plain: as level none,
 * the retry after a failed opportunistic handshake). 0 when c may carry
 * mail (over TLS, or in plain text where the level allows it); -1 with
 * why set when it may not (c is then unusable or must be closed with
 * QUIT), and *retry_plain 1 when Postfix would try the same server again
 * without TLS (level may, failed handshake). */
int smtp_tls_start(struct smtp_conn *c, const struct smtp_tls_hop *hop,
                   int plain, struct smtpc_result *why, int *retry_plain);

/* Whether DANE decides for server a under hop's policy, which MTA-STS
 * must then leave alone (RFC 8461 section 2). Looks the TLSA records up
 * (levels dane and dane-only, a->tlsa_allowed), as smtp_tls_start
 * will again at the connect (the resolver's cache answers it). */
enum smtp_dane_state {
    SMTP_DANE_NONE,          /* not dane, or no usable validated records */
    SMTP_DANE_USABLE,        /* usable DNSSEC-validated TLSA records */
    SMTP_DANE_LOOKUP_FAILED, /* a failed or bogus lookup: the server fails */
};
enum smtp_dane_state smtp_tls_dane_state(const struct smtp_tls_hop *hop,
                                         const struct smtp_addr *a);

/* ---- smtp_connect.c ---- */

/* Connects to a, runs the greeting and EHLO/LHLO on the private loop,
 * then STARTTLS as hop says (a failed opportunistic handshake is tried
 * once more in plain text, on a new connection, as Postfix does).
 * Returns the connection, or NULL with why filled (why must be zeroed or
 * hold a result; it is replaced): Postfix's wording for the log and the
 * notice ("connect to H[A]:P: Connection refused", the engine's greeting
 * or EHLO failure, "TLS is required, but was not offered by host H[A]"),
 * outcome BOUNCED when the peer refused HELO for good. */
struct smtp_conn *smtp_conn_open(const struct smtp_addr *a, const char *key,
                                 const struct smtp_tls_hop *hop,
                                 struct smtpc_result *why);
/* Sends QUIT (when the session is still usable) and frees everything. */
void smtp_conn_close(struct smtp_conn *c, int quit);
/* Frees without QUIT (a broken connection). */
void smtp_conn_drop(struct smtp_conn *c);
/* Runs the private loop until *done is set (the engine's callbacks set
 * it). */
void smtp_loop_run_until(int *done);
/* The monotonic clock in milliseconds. */
uint64_t smtp_now_ms(void);

/* ---- smtp_sasl.c ---- */

/* Reads the smtp_sasl_* (lmtp_sasl_*) settings and opens the password
 * table (at init, before any chroot). */
void smtp_sasl_init(void);
/* Logs in to c's server when SASL is enabled, the server offers AUTH and
 * there are credentials for sender (with sender-dependent
 * authentication), the host or c's destination. Returns 0 (logged in, or
 * nothing to do), or -1 with why filled: the session must not carry
 * mail (close it and try the next server). */
int smtp_sasl_login(struct smtp_conn *c, const char *sender,
                    struct smtpc_result *why);

/* ---- smtp_cache.c ---- */

/* A kept connection for key, opened under the same TLS demands
 * (tls_signature), that may still be used (not past the time limits), or
 * NULL; the cache forgets it (the caller owns it now). */
struct smtp_conn *smtp_cache_take(const char *key, const char *tls_signature);
/* Keeps c for later (or closes it when caching is off or c is past its
 * limits). */
void smtp_cache_put(struct smtp_conn *c);
/* Milliseconds until the oldest kept connection expires; -1: none. */
long smtp_cache_due_ms(void);
/* Closes (with QUIT) the connections past their idle time. */
void smtp_cache_expire(void);
/* Closes every kept connection (process exit). */
void smtp_cache_close_all(void);

/* ---- smtp_content.c ---- */

/* The engine's content callback over the request's queue file. */
void smtp_content_init(struct smtpc_content *content,
                       struct agent_delivery *d);
/* The engine's content_7bit callback: the same content through
 * lib/message/mime_downgrade. One at a time: a second init replaces the
 * first; smtp_content_done frees what the conversion holds. */
void smtp_content_init_7bit(struct smtpc_content *content,
                            struct agent_delivery *d);
void smtp_content_done(void);
/* 1 when the content has a byte >= 0x80 (or cannot be read: the sending
 * will say why), 0 when it is 7-bit. Reads the whole content. */
int smtp_content_has_8bit(struct agent_delivery *d);
/* Fills m's content for a transaction over session: the queue file's
 * content, and the 7-bit form when the server lacks 8BITMIME, the message
 * is 8-bit (declared BODY=8BITMIME, or 8-bit bytes in it) and
 * disable_mime_output_conversion is off. Call smtp_content_done after. */
void smtp_content_prepare(struct smtpc_message *m, struct agent_delivery *d,
                          const struct smtpc_session *session);
/* 1 when the message's header has "TLS-Required: No" (RFC 8689 section
 * 5; the first such field, its value compared without case). */
int smtp_content_tls_required_no(struct agent_delivery *d);

/* ---- smtp_mtasts.c ---- */

/* Creates the MTA-STS client on the private loop with the process's DNS
 * client (smtp mode, postern_mta_sts_enable = yes); else none. */
void smtp_mtasts_init(struct dns_client *dns);
/* Forgets the previous request's decisions (before its next hop is
 * resolved). */
void smtp_mtasts_request_begin(void);
struct smtp_mtasts_pending;
/* Starts the policy lookup of domain (an MX next hop); when MTA-STS
 * is off, an already finished "no policy". */
struct smtp_mtasts_pending *smtp_mtasts_start(const char *domain);
/* Stops it (the MX lookup failed); p may be NULL. */
void smtp_mtasts_cancel(struct smtp_mtasts_pending *p);
/* Waits (bounded) for the decision and gives it to the addresses
 * nh->addrs[first..count) that the domain's MX lookup added; p may be
 * NULL. A lookup that does not end in time refuses those addresses. */
void smtp_mtasts_finish(struct smtp_mtasts_pending *p,
                        const struct smtp_nexthop *nh, size_t first);
/* 1 when an enforce policy skips or demands verified TLS of some
 * address of the request. */
int smtp_mtasts_demands(void);
/* Drops those demands for this request (a message with "TLS-Required:
 * No"). */
void smtp_mtasts_waive(void);
/* Logs the decisions, gives DANE the addresses it decides for (site:
 * the next hop's TLS; RFC 8461 section 2) and removes the addresses an
 * enforce policy does not allow. -1 when that left none (why: deferred,
 * 4.7.5). */
int smtp_mtasts_filter(struct agent_delivery *d, struct smtp_nexthop *nh,
                       const struct smtp_tls_hop *site,
                       struct smtpc_result *why);
/* For address i of the filtered next hop: the verdict, and the
 * decision behind it (NULL: none). */
enum mtasts_mx_verdict smtp_mtasts_verdict(size_t i);
/* 1 when DANE decides for address i instead of its domain's policy. */
int smtp_mtasts_dane(size_t i);
const struct mtasts_decision *smtp_mtasts_decision(size_t i);
/* 1 when an enforce policy demands verified TLS of some address of the
 * request and no smtp_tls_policy_maps entry for the next hop says
 * otherwise: out (free with smtp_tls_hop_free) is the TLS those
 * addresses (verdict MTASTS_MX_VERIFY) are reached with: level secure,
 * the MX host name as the match. 0: site applies. */
int smtp_mtasts_tls_hop(struct agent_delivery *d,
                        const struct smtp_tls_hop *site,
                        struct smtp_tls_hop *out);
/* 0 when a kept connection goes to a host the request's enforce policy
 * no longer allows (nh: the filtered addresses). */
int smtp_mtasts_conn_allowed(const struct smtp_nexthop *nh,
                             const struct smtp_conn *c);
/* After the session to address i came up: testing mode's log lines. */
void smtp_mtasts_connected(struct agent_delivery *d, size_t i,
                           const struct smtp_conn *c);

/* ---- smtp_tlsrpt.c ---- */

/* Reads postern_tls_report_records and data_directory (smtp mode). */
void smtp_tlsrpt_init(void);
/* After smtp_conn_open for address i (a) of the filtered next hop, made
 * with hop: records the session's TLS outcome (c, or the failure in why)
 * when the address came from an MX lookup. */
void smtp_tlsrpt_session(size_t i, const struct smtp_addr *a,
                         const struct smtp_tls_hop *hop,
                         const struct smtp_conn *c,
                         const struct smtpc_result *why);
/* An MX host an enforce policy refused. */
void smtp_tlsrpt_skipped(const struct mtasts_decision *dec,
                         const struct smtp_addr *a);
/* A policy that could not be fetched or parsed (dec->why says so). */
void smtp_tlsrpt_policy(const struct mtasts_decision *dec);

/* ---- smtp_deliver.c ---- */

/* agent_request_ops.deliver. */
void smtp_deliver(struct agent_delivery *d);

#endif
