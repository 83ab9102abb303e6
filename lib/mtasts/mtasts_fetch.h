/* mtasts_fetch.h: fetching one MTA-STS policy file over HTTPS with
 * libcurl (RFC 8461 section 3.3): GET
 * https://mta-sts.DOMAIN/.well-known/mta-sts.txt, the certificate
 * verified (system CAs or ca_file) against the host name, no redirect
 * followed, HTTP 200 and Content-Type text/plain only, at most
 * MTASTS_POLICY_MAX bytes, connect and total timeouts.
 *
 * The call blocks: lib/mtasts/mtasts.c runs it in a worker thread
 * (base/bgjob.h), never in the event loop. It touches only its
 * arguments, so several may run at once. */
#ifndef POSTERN_MTASTS_FETCH_H
#define POSTERN_MTASTS_FETCH_H

#include "base/buf.h"
#include "base/str.h"

struct mtasts_fetch_settings {
    const char *ca_file;             /* NULL or "": the system store */
    const struct strlist *connect_to; /* libcurl CONNECT_TO entries, tests */
    /* The addresses of mta-sts.DOMAIN as the process's DNS client found
     * them (numeric text, IPv4 or IPv6), given to libcurl with
     * CURLOPT_RESOLVE so that it never asks the system's resolver. NULL:
     * libcurl resolves the name itself; empty: the fetch fails with
     * resolve_why. */
    const struct strlist *resolve;
    const char *resolve_why;
    long connect_timeout_s;
    long total_timeout_s;
};

/* Calls curl_global_init once; call it from the main thread before any
 * worker thread fetches. */
void mtasts_fetch_global_init(void);

/* Fetches the policy of domain into body. Returns 0, or -1 with a short
 * reason in err ("HTTP status 301", "Content-Type text/html", "SSL
 * peer certificate ... : ..."). */
int mtasts_fetch(const char *domain, const struct mtasts_fetch_settings *s,
                 struct buf *body, struct buf *err);

#endif
