/* mtasts.h: MTA-STS (RFC 8461) for the SMTP client: before connecting
 * to a destination domain, ask what its policy demands.
 *
 *   struct mtasts_client *sts = mtasts_client_new(loop, dns, &settings);
 *   mtasts_lookup_start(sts, "example.com", on_policy, ctx);
 *   ...on_policy(const struct mtasts_decision *d, ctx), from the loop:
 *   for each MX host: switch (mtasts_check_mx(d, host)) ...
 *
 * A lookup asks for the _mta-sts TXT record on the process's DNS client
 * (lib/dns, never blocking), then, in a worker thread (base/bgjob.h),
 * reads the domain's cache file, fetches the policy over HTTPS when the
 * RFC says so (lib/mtasts/mtasts_fetch), writes the cache, and reports
 * on the loop. The rules (RFC 8461 section 5.1), docs/mta-sts.md:
 *   TXT valid, cached policy fresh with the same id -> the cache;
 *   TXT valid otherwise -> fetch; on success cache and use it;
 *     on failure a fresh cached policy (any id), else no policy;
 *   TXT absent, invalid or not answered -> a fresh cached policy, else
 *     no policy.
 * A callback never runs before mtasts_lookup_start() returns. */
#ifndef POSTERN_MTASTS_H
#define POSTERN_MTASTS_H

#include "base/event.h"
#include "base/str.h"
#include "dns/dns.h"
#include "mtasts/mtasts_policy.h"

struct mtasts_settings {
    int enabled;             /* postern_mta_sts_enable */
    char *data_directory;    /* the cache lives in DIR/mta-sts */
    char *ca_file;           /* postern_mta_sts_ca_file; "" system store */
    struct strlist connect_to; /* postern_mta_sts_connect_to (tests) */
    long connect_timeout_s;  /* postern_mta_sts_connect_timeout */
    long fetch_timeout_s;    /* postern_mta_sts_fetch_timeout */
};

/* Defaults: enabled, /var/lib/postern, system CAs, 10 s and 30 s. */
void mtasts_settings_init(struct mtasts_settings *settings);
/* From main.cf (data_directory and the postern_mta_sts_* parameters). */
void mtasts_settings_from_config(struct mtasts_settings *settings);
void mtasts_settings_free(struct mtasts_settings *settings);

/* What the SMTP client must do for a domain. */
enum mtasts_result {
    MTASTS_NO_POLICY, /* no policy (or mode none): ordinary TLS rules */
    MTASTS_TESTING,   /* check, log failures, deliver anyway */
    MTASTS_ENFORCE,   /* matching MX only, TLS verified against it */
};

struct mtasts_decision {
    const char *domain;
    enum mtasts_result result;
    struct mtasts_policy policy; /* valid unless MTASTS_NO_POLICY (mode
                                    none still fills it) */
    char id[MTASTS_ID_MAX + 1];  /* the policy's id, "" when none */
    const char *source;          /* "fetched", "cache", "none" */
    char why[256];               /* what happened, for logs: "fetch
                                    failed: ...; using cached policy" */
};

/* For one MX host of a domain with a decision. */
enum mtasts_mx_verdict {
    MTASTS_MX_ANY,          /* no policy: the site's TLS rules apply */
    MTASTS_MX_VERIFY,       /* enforce, host matches: deliver only over TLS
                               with the certificate verified against the
                               MX host name (smtp_tls "secure"/"verify"
                               with the MX name as match); else defer */
    MTASTS_MX_SKIP,         /* enforce, host does not match: do not
                               connect to it */
    MTASTS_MX_TESTING_OK,   /* testing, host matches: try verified TLS,
                               log a failure, deliver anyway */
    MTASTS_MX_TESTING_MISMATCH, /* testing, no match: log, deliver anyway */
};

enum mtasts_mx_verdict mtasts_check_mx(const struct mtasts_decision *decision,
                                       const char *mx_host);
const char *mtasts_result_name(enum mtasts_result result);
const char *mtasts_mx_verdict_name(enum mtasts_mx_verdict verdict);

struct mtasts_client;
struct mtasts_lookup;

/* The decision lives until the callback returns. */
typedef void (*mtasts_cb)(const struct mtasts_decision *decision, void *ctx);

/* Creates the client on loop with the process's DNS client; settings
 * are copied. Call from the main thread (it initialises libcurl). */
struct mtasts_client *mtasts_client_new(struct event_loop *loop,
                                        struct dns_client *dns,
                                        const struct mtasts_settings *settings);
/* Waits for fetches already running, then frees; callbacks of lookups
 * still pending do not run. */
void mtasts_client_free(struct mtasts_client *client);

/* Starts the lookup for domain (a host name; lower-cased here). */
struct mtasts_lookup *mtasts_lookup_start(struct mtasts_client *client,
                                          const char *domain, mtasts_cb cb,
                                          void *ctx);
/* Stops a lookup whose callback has not run; no callback follows. */
void mtasts_lookup_cancel(struct mtasts_lookup *lookup);
/* Lookups started and not yet reported or cancelled. */
size_t mtasts_client_pending(const struct mtasts_client *client);

#endif
