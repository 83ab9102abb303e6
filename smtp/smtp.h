/* smtp.h: the smtp and lmtp delivery agent (Postfix's smtp(8) and
 * lmtp(8), one program): its settings and the interfaces between its
 * files.
 *
 *   smtp.c          main, mode (smtp or lmtp), settings, the agent hooks
 *   smtp_deliver.c  one deliver/1 request: the next hop, a cached or new
 *                   session, one transaction for all the recipients, each
 *                   recipient's outcome
 *   smtp_connect.c  a non-blocking connect with smtp_connect_timeout, the
 *                   greeting and EHLO/LHLO, STARTTLS's place
 *   smtp_cache.c    connections kept after a delivery for the next request
 *                   to the same next hop (smtp_connection_cache_*)
 *   smtp_content.c  the message content, read from the queue file as the
 *                   engine sends it
 *   smtp_nexthop.c  next-hop syntax and literal addresses (the DNS
 *                   resolver plugs in there)
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
#include "smtp_nexthop.h"
#include "smtpc/smtpc_session.h"
#include "smtpc/smtpc_settings.h"

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
    const char *tls_security_level; /* none, may (STARTTLS not built yet) */
    const char *queue_dir;
    const char *myhostname;
};

extern struct smtp_settings smtp_cfg;

/* The process's private event loop for the engine. */
struct event_loop *smtp_loop(void);

/* ---- smtp_dns.c ---- */

/* Makes the DNS client on the private loop and plugs the lookup of
 * names into smtp_nexthop (at init, before any chroot). */
void smtp_dns_init(void);

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
};

/* ---- smtp_connect.c ---- */

/* Connects to a and runs the greeting and EHLO/LHLO on the private loop.
 * Returns the connection, or NULL with why filled (why must be zeroed or
 * hold a result; it is replaced): Postfix's wording for the log and the
 * notice ("connect to H[A]:P: Connection refused", the engine's greeting
 * or EHLO failure), outcome BOUNCED when the peer refused HELO for good. */
struct smtp_conn *smtp_conn_open(const struct smtp_addr *a, const char *key,
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

/* A kept connection for key that may still be used (not past the time
 * limits), or NULL; the cache forgets it (the caller owns it now). */
struct smtp_conn *smtp_cache_take(const char *key);
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

/* ---- smtp_deliver.c ---- */

/* agent_request_ops.deliver. */
void smtp_deliver(struct agent_delivery *d);

#endif
