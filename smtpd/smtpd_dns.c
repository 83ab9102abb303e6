/* smtpd_dns.c: the DNS lookups smtpd's restrictions need
 * (reject_unknown_sender_domain, reject_unknown_recipient_domain,
 * reject_unknown_helo_hostname), made without blocking the process.
 *
 * One process serves many sessions, so a restriction never waits for
 * DNS in place. When it needs an answer the session does not have, it
 * starts the lookup (lib/dns/dns: MX, A and AAAA in parallel, bounded by
 * postern_dns_timeout) and the command's CHECK step suspends
 * (lib/smtp/smtp_phase): the session stops reading its input and nothing
 * is replied. When the answer comes it is remembered in the session and
 * smtpd_command_resume carries the command on: the restriction
 * evaluation continues at the restriction that asked (smtpd_check.c
 * keeps its place), which now finds the answer. Nothing evaluated before
 * the wait runs again, so what it logged or added is done once.
 *
 * Answers live for the transaction (smtpd_dns_forget at its end), at
 * most SMTPD_DNS_ANSWERS of them; libunbound keeps its own cache for the
 * process. */
#include "smtpd.h"

#include <stdlib.h>
#include <string.h>

#include "dns/dns.h"
#include "base/log.h"
#include "base/mem.h"
#include "ipc/server.h"

/* One evaluation needs at most three names (HELO, sender, recipient). */
#define SMTPD_DNS_ANSWERS 8
/* More lookups than that for one command means a bug: stop. */
#define SMTPD_DNS_SUSPEND_MAX 6

struct smtpd_dns_answer {
    char *name;
    enum dns_domain_mode mode;
    enum dns_domain_status status;
};

static struct dns_client *dns_client;

void smtpd_dns_init(void)
{
    struct dns_settings settings;
    struct buf err = BUF_INIT;
    dns_settings_from_config(&settings);
    dns_client = dns_client_new(server_loop(), &settings, &err);
    if (dns_client == NULL)
        log_warn("DNS client unavailable, DNS restrictions will defer: %s",
                 buf_cstr(&err));
    dns_settings_free(&settings);
    buf_free(&err);
}

struct dns_client *smtpd_dns_client(void)
{
    return dns_client;
}

void smtpd_dns_exit(void)
{
    dns_client_free(dns_client);
    dns_client = NULL;
}

static void remember(struct smtpd_session *s, const char *name,
                     enum dns_domain_mode mode, enum dns_domain_status status)
{
    if (s->dns_answers == NULL)
        s->dns_answers = xcalloc(SMTPD_DNS_ANSWERS, sizeof(*s->dns_answers));
    if (s->dns_answer_count == SMTPD_DNS_ANSWERS) {
        /* Forget the oldest: the current evaluation needs the newest. */
        free(s->dns_answers[0].name);
        memmove(&s->dns_answers[0], &s->dns_answers[1],
                (SMTPD_DNS_ANSWERS - 1) * sizeof(*s->dns_answers));
        s->dns_answer_count--;
    }
    struct smtpd_dns_answer *a = &s->dns_answers[s->dns_answer_count++];
    a->name = xstrdup(name);
    a->mode = mode;
    a->status = status;
}

static void on_answer(enum dns_domain_status status, const char *why, void *ctx)
{
    struct smtpd_session *s = ctx;
    const char *name = s->dns_pending_name;
    s->dns_lookup = NULL;
    if (status == DNS_DOMAIN_TEMPFAIL)
        log_warn("%s: DNS lookup of %s failed: %s", s->namaddr, name, why);
    else if (log_verbose_level() > 0)
        log_debug("%s: DNS %s: %s", s->namaddr, name,
                  dns_domain_status_name(status));
    remember(s, name, s->dns_pending_mode, status);
    free(s->dns_pending_name);
    s->dns_pending_name = NULL;
    smtpd_command_resume(s);
}

int smtpd_dns_domain(struct smtpd_session *s, const char *name,
                     enum dns_domain_mode mode, enum dns_domain_status *status)
{
    for (size_t i = s->dns_answer_count; i-- > 0;) {
        const struct smtpd_dns_answer *a = &s->dns_answers[i];
        if (a->mode == mode && str_equal_nocase(a->name, name)) {
            *status = a->status;
            return 1;
        }
    }
    if (dns_client == NULL || s->dns_suspends >= SMTPD_DNS_SUSPEND_MAX) {
        if (dns_client)
            log_warn("%s: too many DNS lookups for one command", s->namaddr);
        *status = DNS_DOMAIN_TEMPFAIL;
        remember(s, name, mode, *status);
        return 1;
    }
    s->dns_suspends++;
    s->dns_pending_name = xstrdup(name);
    s->dns_pending_mode = mode;
    s->dns_lookup = dns_domain_start(dns_client, name, mode, on_answer, s);
    return 0;
}

void smtpd_dns_new_check(struct smtpd_session *s)
{
    s->dns_suspends = 0;
}

enum smtpd_unknown_act
smtpd_dns_unknown_reply(enum smtpd_unknown_what what, const char *subject,
                        const char *name, enum dns_domain_status status,
                        struct smtpd_unknown_reply *reply, struct buf *text)
{
    const char *class = what == UNKNOWN_SENDER      ? "Sender address"
                        : what == UNKNOWN_RECIPIENT ? "Recipient address"
                                                    : "Helo command";
    int helo = what == UNKNOWN_HELO;
    const char *not_found = helo ? "Host not found" : "Domain not found";
    reply->dsn = helo ? "4.7.1" : what == UNKNOWN_SENDER ? "4.1.8" : "4.1.2";
    reply->code =
        helo ? smtpd_var.unknown_hostname_code : smtpd_var.unknown_address_code;
    reply->defer_now = helo ? smtpd_var.unknown_helo_tempfail_defer
                            : smtpd_var.unknown_address_tempfail_defer;
    buf_appendf(text, "<%s>: %s rejected: ", subject, class);
    switch (status) {
    case DNS_DOMAIN_FOUND:
        return SMTPD_UNKNOWN_PASS;
    case DNS_DOMAIN_TEMPFAIL:
        reply->code = 450;
        buf_append_str(text, not_found);
        return SMTPD_UNKNOWN_TEMPFAIL;
    case DNS_DOMAIN_MALFORMED:
        buf_append_str(text, "Malformed DNS server reply");
        return SMTPD_UNKNOWN_REJECT;
    case DNS_DOMAIN_NULLMX:
        /* RFC 7505; a HELO name with a null MX has no address either. */
        if (!helo) {
            reply->code = what == UNKNOWN_SENDER ? 550 : 556;
            reply->dsn = what == UNKNOWN_SENDER ? "5.7.27" : "5.1.10";
            buf_appendf(text, "Domain %s does not accept mail (nullMX)", name);
            return SMTPD_UNKNOWN_REJECT;
        }
        break;
    case DNS_DOMAIN_NOTFOUND:
        break;
    }
    buf_append_str(text, not_found);
    return SMTPD_UNKNOWN_REJECT;
}

void smtpd_dns_forget(struct smtpd_session *s)
{
    for (size_t i = 0; i < s->dns_answer_count; i++)
        free(s->dns_answers[i].name);
    free(s->dns_answers);
    s->dns_answers = NULL;
    s->dns_answer_count = 0;
}

void smtpd_dns_cancel(struct smtpd_session *s)
{
    dns_domain_cancel(s->dns_lookup);
    s->dns_lookup = NULL;
    free(s->dns_pending_name);
    s->dns_pending_name = NULL;
}

void smtpd_dns_session_end(struct smtpd_session *s)
{
    smtpd_dns_cancel(s);
    smtpd_dns_forget(s);
}
