/* smtp_tlsrpt.c: the smtp client's TLS outcomes, recorded per
 * destination and day for the TLS reports of RFC 8460 (lib/tlsrpt,
 * docs/tls-rpt.md): for a domain reached by MX, each session's TLS
 * result (success, or the RFC's failure type) with the policy applied,
 * an MX host an enforce policy refused, and a policy that could not be
 * fetched. postern_tls_report_records = no turns it off. Days older
 * than postern_tls_report_retention are removed by the writers, at most
 * once a day (lib/tlsrpt/tlsrpt_expire). */
#include "smtp.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "base/log.h"
#include "config/config.h"
#include "tlsrpt/tlsrpt_expire.h"
#include "tlsrpt/tlsrpt_record.h"
#include "tls/tls_client.h"

static int enabled;
static const char *data_dir;
static int write_failed; /* logged once per process */
static long retention_s;  /* postern_tls_report_retention; 0: keep all */
static time_t next_expiry; /* the next UTC midnight after the last check */

void smtp_tlsrpt_init(void)
{
    enabled = !smtp_cfg.lmtp && cfg_bool("postern_tls_report_records");
    data_dir = cfg_str("data_directory");
    retention_s = cfg_time("postern_tls_report_retention");
}

/* Old day files go, once per process and UTC day (the stamp makes it
 * once a day for all the processes together). */
static void expire_old_days(time_t now)
{
    if (retention_s <= 0 || now < next_expiry)
        return;
    next_expiry = now - now % 86400 + 86400;
    struct buf err = BUF_INIT;
    long removed = tlsrpt_expire_daily(data_dir, now, retention_s, &err);
    if (err.len)
        log_warn("TLS report records: %s", buf_cstr(&err));
    if (removed > 0)
        log_info("removed %ld TLS report record file%s older than "
                 "postern_tls_report_retention", removed,
                 removed == 1 ? "" : "s");
    buf_free(&err);
}

/* The policy part of r from the domain's MTA-STS decision. */
static void policy_of(struct tlsrpt_record *r,
                      const struct mtasts_decision *dec)
{
    snprintf(r->domain, sizeof(r->domain), "%s", dec->domain);
    if (dec->result == MTASTS_NO_POLICY) {
        r->policy = TLSRPT_POLICY_NONE;
        return;
    }
    r->policy = TLSRPT_POLICY_STS;
    snprintf(r->policy_id, sizeof(r->policy_id), "%s", dec->id);
    snprintf(r->mode, sizeof(r->mode), "%s", mtasts_mode_name(dec->policy.mode));
    r->max_age = dec->policy.max_age;
    size_t used = 0;
    for (size_t i = 0; i < dec->policy.mx_count; i++) {
        size_t len = strlen(dec->policy.mx[i]);
        if (used + len + 1 > TLSRPT_MX_MAX) {
            snprintf(r->mx + used, sizeof(r->mx) - used, ",...");
            break;
        }
        used += (size_t)snprintf(r->mx + used, sizeof(r->mx) - used, "%s%s",
                                 i ? "," : "", dec->policy.mx[i]);
    }
}

static void put(struct tlsrpt_record *r)
{
    expire_old_days(r->when);
    struct buf err = BUF_INIT;
    if (tlsrpt_record_append(data_dir, r, &err) < 0 && !write_failed) {
        write_failed = 1;
        log_warn("TLS report record not written: %s", buf_cstr(&err));
    }
    buf_free(&err);
}

static void begin(struct tlsrpt_record *r, const struct mtasts_decision *dec,
                  const struct smtp_addr *a, const char *result)
{
    memset(r, 0, sizeof(*r));
    r->when = time(NULL);
    policy_of(r, dec);
    snprintf(r->result, sizeof(r->result), "%s", result);
    if (a) {
        snprintf(r->host, sizeof(r->host), "%s", a->host);
        snprintf(r->addr, sizeof(r->addr), "%.47s", a->addr);
    }
}

/* RFC 8460 section 4.3's result type for a TLS failure, from the
 * reason smtp_tls.c and lib/tls word it in (Postfix's words, with
 * "(certificate has expired)" after "not trusted" for an expired
 * chain). */
static const char *failure_type(const char *reason)
{
    if (strstr(reason, "was not offered") || strstr(reason, "refused to start TLS"))
        return "starttls-not-supported";
    if (strstr(reason, "certificate not verified"))
        return "certificate-host-mismatch";
    if (strstr(reason, "certificate not trusted (") &&
        strstr(reason, "has expired)"))
        return "certificate-expired";
    if (strstr(reason, "certificate not trusted"))
        return "certificate-not-trusted";
    return "validation-failure";
}

/* The same for a host DANE decided for: RFC 8460's DANE result types. */
static const char *dane_failure_type(const char *reason)
{
    if (strstr(reason, "TLSA lookup error"))
        return "dnssec-invalid";
    if (strstr(reason, "certificate not verified"))
        return "tlsa-invalid";
    return failure_type(reason);
}

void smtp_tlsrpt_session(size_t i, const struct smtp_addr *a,
                         const struct smtp_tls_hop *hop,
                         const struct smtp_conn *c,
                         const struct smtpc_result *why)
{
    const struct mtasts_decision *dec = smtp_mtasts_decision(i);
    if (!enabled || dec == NULL)
        return;
    /* Nothing to report where the site sends in plain text and no
     * policy asks for more. */
    if (hop->policy.level == TLS_CLIENT_NONE && dec->result == MTASTS_NO_POLICY)
        return;
    struct tlsrpt_record r;
    const char *result;
    const struct smtpc_caps *caps = c ? smtpc_session_caps(c->session) : NULL;
    if (c) {
        result = c->tls_active                         ? "success"
                 : (caps->flags & SMTPC_CAP_STARTTLS) ? "validation-failure"
                                                      : "starttls-not-supported";
    } else if (why->failure == SMTPC_FAIL_TLS) {
        result = smtp_mtasts_dane(i) ? dane_failure_type(buf_cstr(&why->reason))
                                     : failure_type(buf_cstr(&why->reason));
    } else {
        return; /* no session: not a TLS outcome */
    }
    begin(&r, dec, a, result);
    /* A session authenticated by DANE under no MTA-STS policy. */
    enum tls_client_level used =
        c && c->tls ? tls_client_conn_level(c->tls) : TLS_CLIENT_NONE;
    int dane_session = (used == TLS_CLIENT_DANE ||
                        used == TLS_CLIENT_DANE_ONLY) &&
                       dec->result == MTASTS_NO_POLICY;
    if (smtp_mtasts_dane(i) || dane_session) {
        /* DANE decided for this host, not the domain's MTA-STS policy
         * (smtp_mtasts.c), or no such policy exists: the report is about
         * its TLSA policy. */
        r.policy = TLSRPT_POLICY_TLSA;
        r.policy_id[0] = r.mode[0] = r.mx[0] = '\0';
        r.max_age = 0;
    }
    if (c) {
        struct sockaddr_storage ss;
        socklen_t len = sizeof(ss);
        if (getsockname(stream_fd(c->stream), (struct sockaddr *)&ss, &len) == 0) {
            if (ss.ss_family == AF_INET)
                inet_ntop(AF_INET, &((struct sockaddr_in *)&ss)->sin_addr,
                          r.sender, sizeof(r.sender));
            else if (ss.ss_family == AF_INET6)
                inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&ss)->sin6_addr,
                          r.sender, sizeof(r.sender));
        }
        if (!c->tls_active)
            snprintf(r.reason, sizeof(r.reason), "%s",
                     caps->flags & SMTPC_CAP_STARTTLS
                         ? "TLS handshake failed; sent in plain text"
                         : "STARTTLS not offered");
    } else {
        snprintf(r.reason, sizeof(r.reason), "%s", buf_cstr(&why->reason));
    }
    put(&r);
}

void smtp_tlsrpt_skipped(const struct mtasts_decision *dec,
                         const struct smtp_addr *a)
{
    if (!enabled)
        return;
    struct tlsrpt_record r;
    begin(&r, dec, a, "validation-failure");
    snprintf(r.reason, sizeof(r.reason),
             "MX host not allowed by the MTA-STS policy");
    put(&r);
}

void smtp_tlsrpt_policy(const struct mtasts_decision *dec)
{
    const char *fail = strstr(dec->why, "policy fetch failed: ");
    if (!enabled || fail == NULL)
        return;
    struct tlsrpt_record r;
    const char *text = fail + strlen("policy fetch failed: ");
    /* lib/mtasts/mtasts_policy's parse errors, then the HTTPS
     * certificate's, then the rest. */
    const char *result =
        strncmp(text, "line ", 5) == 0 || strncmp(text, "missing ", 8) == 0 ||
                strncmp(text, "no mx pattern", 13) == 0 ||
                strncmp(text, "policy holds", 12) == 0
            ? "sts-policy-invalid"
        : strstr(text, "certificate") || strstr(text, "SSL")
            ? "sts-webpki-invalid"
            : "sts-policy-fetch-error";
    begin(&r, dec, NULL, result);
    /* Whatever was used instead (a cached policy, or none), the domain
     * publishes MTA-STS: the report is about its sts policy. */
    r.policy = TLSRPT_POLICY_STS;
    snprintf(r.reason, sizeof(r.reason), "%s", fail);
    put(&r);
}
