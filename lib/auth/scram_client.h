/* scram_client.h: the client side of SCRAM-SHA-256 (RFC 5802, RFC 7677),
 * for the smtp daemon logging in to a smarthost (smtp_sasl_*), without
 * channel binding ("n,," : the -PLUS variant is not spoken).
 *
 *   client-first  "n,,n=USER,r=CNONCE"
 *   server-first  "r=CNONCE+SNONCE,s=SALT,i=COUNT"  (checked: our nonce
 *                 as prefix, a salt, 4096 <= COUNT <= SCRAM_MAX_ITERATIONS)
 *   client-final  "c=biws,r=NONCE,p=PROOF"
 *   server-final  "v=SIGNATURE" (checked against ServerKey: the server
 *                 proves it knows the password too), answered with an
 *                 empty response; "e=..." is the server's refusal.
 * The password never leaves the object; it is wiped when freed. The step
 * function has the shape of lib/smtpc's smtpc_sasl_step_fn. */
#ifndef POSTERN_SCRAM_CLIENT_H
#define POSTERN_SCRAM_CLIENT_H

#include <stddef.h>

#include "base/buf.h"

struct scram_client;

/* user and password are copied. */
struct scram_client *scram_client_new(const char *user, const char *password);
/* Wipes and frees; NULL is ignored. */
void scram_client_free(struct scram_client *c);

/* One step: challenge NULL for the initial response (client-first),
 * then each decoded server challenge. Appends the response to response
 * and returns 0, or returns -1 (cancel the exchange) with the reason in
 * the object (scram_client_error). */
int scram_client_step(void *client, const char *challenge, size_t len,
                      struct buf *response);

/* Why the last step failed ("" when none): never holds a secret. */
const char *scram_client_error(const struct scram_client *c);
/* 1 once the server's signature was checked (mutual authentication). */
int scram_client_verified(const struct scram_client *c);

#endif
