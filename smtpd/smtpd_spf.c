/* smtpd_spf.c: SPF in smtpd (lib/spf, docs/spf.md): the MAIL FROM and
 * HELO identities of clients that are neither in mynetworks nor
 * authenticated, checked without blocking the process; the results for
 * the reject_spf_* restrictions, the "client=" log line and the
 * Received-SPF: header.
 *
 * The check starts at MAIL FROM (smtpd_spf_enable) or at the first
 * restriction that needs it, and runs in the background while the client
 * sends its recipients. lib/spf evaluates as a replay: each run asks the
 * resolver below; an answer not yet in starts its lookup (lib/dns, on
 * the process's event loop, through smtpd_dns.c's client) and the run
 * says "pending". Every answer that comes in runs the check again, which
 * goes further or starts new lookups, until both identities are decided.
 * A restriction or the DATA command that needs the result meanwhile
 * suspends its command (the session stops reading, as for smtpd's other
 * DNS lookups, docs/dns.md) and is resumed when the check is done.
 *
 * Answers live for the transaction; at most SMTPD_SPF_QUERIES_MAX lookups
 * per transaction (beyond, a temporary error), each bounded by
 * postern_dns_timeout. */
#include "smtpd.h"
#include "smtpd_check_ctx.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/log.h"
#include "base/mem.h"
#include "dns/dns.h"
#include "dns/idna.h"
#include "spf/spf.h"
#include "spf/spf_header.h"

/* Far more than one evaluation of two identities can need (10 DNS
 * mechanisms, 10 names each, includes). */
#define SMTPD_SPF_QUERIES_MAX 256

struct spf_answer {
    struct smtpd_spf *owner;
    char *name;
    int type;
    int done;
    struct dns_query *query; /* while in flight */
    struct dns_result result;
};

struct smtpd_spf {
    struct smtpd_session *session;
    struct spf_request mail_req, helo_req;
    struct spf_outcome mail, helo;
    int mail_done, helo_done; /* decided (or not to be checked) */
    int helo_checked;
    int waiting; /* a command is suspended until the check is done */
    char *sender, *helo_name;
    struct spf_answer **answers;
    size_t answer_count;
};

static const struct dns_result too_many = {.status = DNS_TEMPFAIL};

static int resolver_lookup(void *ctx, const char *name, int type,
                           const struct dns_result **answer);
static void on_answer(struct dns_result *result, void *ctx);

/* Runs what is left of the check; 1 when both identities are decided. */
static int run(struct smtpd_spf *spf)
{
    struct spf_dns dns = {resolver_lookup, spf};
    if (!spf->mail_done)
        spf->mail_done = !spf_check(&spf->mail_req, &dns, &spf->mail);
    if (!spf->helo_done)
        spf->helo_done = !spf_check(&spf->helo_req, &dns, &spf->helo);
    return spf->mail_done && spf->helo_done;
}

static int resolver_lookup(void *ctx, const char *name, int type,
                           const struct dns_result **answer)
{
    struct smtpd_spf *spf = ctx;
    for (size_t i = 0; i < spf->answer_count; i++) {
        struct spf_answer *a = spf->answers[i];
        if (a->type == type && strcmp(a->name, name) == 0) {
            *answer = &a->result;
            return a->done ? SPF_DNS_READY : SPF_DNS_PENDING;
        }
    }
    struct dns_client *client = smtpd_dns_client();
    if (client == NULL || spf->answer_count == SMTPD_SPF_QUERIES_MAX) {
        *answer = &too_many;
        return SPF_DNS_READY;
    }
    struct spf_answer *a = xcalloc(1, sizeof(*a));
    a->owner = spf;
    a->name = xstrdup(name);
    a->type = type;
    dns_result_init(&a->result, type);
    spf->answers = xreallocarray(spf->answers, spf->answer_count + 1,
                                 sizeof(*spf->answers));
    spf->answers[spf->answer_count++] = a;
    a->query = dns_query_start(client, name, type, on_answer, a);
    return SPF_DNS_PENDING;
}

static void on_answer(struct dns_result *result, void *ctx)
{
    struct spf_answer *a = ctx;
    struct smtpd_spf *spf = a->owner;
    a->query = NULL;
    a->done = 1;
    dns_result_move(&a->result, result);
    if (a->result.status == DNS_TEMPFAIL)
        log_warn("%s: SPF: DNS lookup of %s/%s failed: %s",
                 spf->session->namaddr, a->name, dns_type_name(a->type),
                 a->result.why);
    if (run(spf) && spf->waiting) {
        spf->waiting = 0;
        smtpd_command_resume(spf->session);
    }
}

static int client_is_checked(const struct smtpd_session *s)
{
    return !s->trusted && !s->sasl_authenticated && !s->local;
}

/* A UTF-8 domain (SMTPUTF8 mail, a UTF-8 HELO) is checked in its A-label
 * form, as the DNS knows it; one IDNA refuses stays as it is (and finds
 * no record). text is "local@domain" or a bare domain. */
static char *ascii_domain(const char *text)
{
    if (!idna_is_utf8(text))
        return xstrdup(text);
    const char *at = strrchr(text, '@');
    const char *domain = at ? at + 1 : text;
    struct buf ascii = BUF_INIT, out = BUF_INIT;
    if (idna_to_ascii(domain, &ascii) < 0)
        buf_set_str(&ascii, domain);
    buf_append(&out, text, (size_t)(domain - text));
    buf_append_str(&out, buf_cstr(&ascii));
    buf_free(&ascii);
    return buf_detach(&out);
}

/* Starts the check for this transaction unless it runs already. */
static struct smtpd_spf *spf_begin(struct smtpd_session *s)
{
    if (s->spf || !client_is_checked(s) || !s->in_mail)
        return s->spf;
    struct smtpd_spf *spf = xcalloc(1, sizeof(*spf));
    spf->session = s;
    spf_outcome_init(&spf->mail);
    spf_outcome_init(&spf->helo);
    spf->sender = ascii_domain(s->sender_raw ? s->sender_raw : "");
    spf->helo_name = ascii_domain(s->helo ? s->helo : "");
    struct spf_request req = {
        .identity = SPF_IDENTITY_MAILFROM,
        .sender = spf->sender,
        .helo = spf->helo_name,
        .receiver = smtpd_var.myhostname,
        .now = (long long)time(NULL),
    };
    if (spf_ip_parse(s->addr, &req.ip) < 0) {
        spf_outcome_free(&spf->mail);
        spf_outcome_free(&spf->helo);
        free(spf->sender);
        free(spf->helo_name);
        free(spf);
        return NULL;
    }
    spf->mail_req = req;
    spf->helo_req = req;
    spf->helo_req.identity = SPF_IDENTITY_HELO;
    /* An address literal or a missing HELO names no domain to check. */
    spf->helo_checked = spf->helo_name[0] && spf->helo_name[0] != '[';
    spf->helo_done = !spf->helo_checked;
    s->spf = spf;
    run(spf);
    return spf;
}

void smtpd_spf_start(struct smtpd_session *s)
{
    if (smtpd_var.spf_enable)
        spf_begin(s);
}

int smtpd_spf_wait(struct smtpd_session *s)
{
    struct smtpd_spf *spf = s->spf;
    if (spf == NULL || (spf->mail_done && spf->helo_done))
        return 0;
    spf->waiting = 1;
    return 1;
}

static const char *result_or_none(const struct smtpd_spf *spf, int helo)
{
    if (helo && !spf->helo_checked)
        return "none";
    return spf_result_name(helo ? spf->helo.result : spf->mail.result);
}

void smtpd_spf_log_fields(const struct smtpd_session *s, struct buf *out)
{
    const struct smtpd_spf *spf = s->spf;
    if (spf == NULL || !spf->mail_done || !spf->helo_done)
        return;
    buf_appendf(out, ", spf=%s, spf_helo=%s", result_or_none(spf, 0),
                result_or_none(spf, 1));
}

void smtpd_spf_header(const struct smtpd_session *s, struct buf *out)
{
    const struct smtpd_spf *spf = s->spf;
    if (spf == NULL || !spf->mail_done || !smtpd_var.spf_enable)
        return;
    struct buf field = BUF_INIT;
    spf_received_spf(&spf->mail_req, &spf->mail, &field);
    /* One line per key=value pair after the result and its comment. */
    buf_append_str(out, "Received-SPF: ");
    const char *p = field.data;
    const char *pairs = strstr(p, ") client-ip=");
    if (pairs) {
        buf_append(out, p, (size_t)(pairs - p) + 1);
        p = pairs + 2;
        buf_append_str(out, "\n\t");
    }
    for (const char *sep; (sep = strstr(p, "; ")) != NULL; p = sep + 2) {
        buf_append(out, p, (size_t)(sep - p) + 1);
        buf_append_str(out, "\n\t");
    }
    buf_append_str(out, p);
    buf_append_char(out, '\n');
    buf_free(&field);
}

enum smtpd_verdict check_spf(struct smtpd_session *s,
                             enum restriction_kind kind, struct check_ctx *c)
{
    struct smtpd_spf *spf = spf_begin(s);
    if (spf == NULL)
        return SMTPD_NEXT; /* trusted, authenticated, or not an IP client */
    if (smtpd_spf_wait(s))
        return SMTPD_SUSPEND;
    int helo = kind == RESTR_REJECT_SPF_HELO_FAIL;
    if (helo && !spf->helo_checked)
        return SMTPD_NEXT;
    const struct spf_request *req = helo ? &spf->helo_req : &spf->mail_req;
    const struct spf_outcome *out = helo ? &spf->helo : &spf->mail;
    enum spf_result want = kind == RESTR_REJECT_SPF_SOFTFAIL    ? SPF_SOFTFAIL
                           : kind == RESTR_REJECT_SPF_PERMERROR ? SPF_PERMERROR
                           : kind == RESTR_DEFER_SPF_TEMPERROR  ? SPF_TEMPERROR
                                                                : SPF_FAIL;
    if (out->result != want)
        return SMTPD_NEXT;
    struct buf why = BUF_INIT;
    if (out->explanation.len)
        buf_append_str(&why, buf_cstr(&out->explanation));
    else
        spf_result_comment(req, out, &why);
    const char *subject = helo ? "Helo command" : "Sender address";
    const char *name = helo ? spf->helo_name : spf->sender;
    enum smtpd_verdict v;
    /* RFC 7372: X.7.23 SPF validation failed, X.7.24 SPF validation error */
    if (want == SPF_TEMPERROR)
        v = check_reject(s, c, 451, "4.7.24",
                         "<%s>: %s rejected: SPF temporary error: %s", name,
                         subject, buf_cstr(&why));
    else
        v = check_reject(s, c, 550, want == SPF_PERMERROR ? "5.7.24" : "5.7.23",
                         "<%s>: %s rejected: SPF %s: %s", name, subject,
                         spf_result_name(want), buf_cstr(&why));
    buf_free(&why);
    return v;
}

void smtpd_spf_forget(struct smtpd_session *s)
{
    struct smtpd_spf *spf = s->spf;
    if (spf == NULL)
        return;
    for (size_t i = 0; i < spf->answer_count; i++) {
        struct spf_answer *a = spf->answers[i];
        if (a->query)
            dns_query_cancel(a->query);
        dns_result_free(&a->result);
        free(a->name);
        free(a);
    }
    free(spf->answers);
    spf_outcome_free(&spf->mail);
    spf_outcome_free(&spf->helo);
    free(spf->sender);
    free(spf->helo_name);
    free(spf);
    s->spf = NULL;
}
