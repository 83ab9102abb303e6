/* dkim_lookup.h: the key lookups of a DKIM verification through lib/dns,
 * without blocking the event loop (smtpd) or blocking (tools).
 *
 * Once dkim_verify_headers_done(), dkim_lookup_start asks for the TXT
 * records of every key name the verifier needs, all at once, each name
 * once (a message signed twice with one key asks once), and gives every
 * answer to the verifier as it comes; the body can go on streaming
 * meanwhile. Each lookup is bounded by postern_dns_timeout (a timeout is
 * a temporary failure: temperror). */
#ifndef POSTERN_DKIM_LOOKUP_H
#define POSTERN_DKIM_LOOKUP_H

#include "dkim/dkim_verify.h"
#include "dns/dns.h"

struct dkim_lookup;
typedef void (*dkim_lookup_cb)(void *ctx);

/* Returns NULL when no key is needed (nothing to wait for); otherwise cb
 * runs once, from the loop and never before this returns, when every
 * answer has been given to v. The lookup frees itself after cb. */
struct dkim_lookup *dkim_lookup_start(struct dns_client *client,
                                      struct dkim_verify *v, dkim_lookup_cb cb,
                                      void *ctx);
/* Stops the lookups; cb is not called. v keeps the answers already in. */
void dkim_lookup_cancel(struct dkim_lookup *lookup);

/* The same, waiting for each answer (tools only). */
void dkim_lookup_sync(struct dns_client *client, struct dkim_verify *v);

#endif
