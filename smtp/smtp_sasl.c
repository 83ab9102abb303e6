/* smtp_sasl.c: SASL authentication to the server, as Postfix's smtp(8)
 * does it for a smarthost (smtp_sasl_*; lmtp_sasl_* in LMTP mode):
 * after EHLO (and STARTTLS), when the server offers AUTH and
 * smtp_sasl_password_maps has credentials for this sender, host or
 * destination (smtp_sasl_policy.c), log in with the strongest mechanism
 * the server offers, the filter keeps and the security options allow:
 * smtp_sasl_security_options on a plain connection,
 * smtp_sasl_tls_security_options under TLS and
 * smtp_sasl_tls_verified_security_options under verified TLS. Their
 * default (noplaintext, noanonymous) keeps PLAIN and LOGIN off an
 * unencrypted connection: there only SCRAM-SHA-256 goes.
 *
 * A failure ends the session (QUIT) and the next server is tried, as in
 * Postfix: "SASL authentication failed; server H[A] said: 535 ...". A 5xx
 * defers the mail while smtp_sasl_auth_soft_bounce = yes (the default);
 * with no it bounces. No credentials, or a server that offers no AUTH:
 * the session goes on without authentication. The password never
 * reaches a log line; the engine wipes its copy. */
#include "smtp.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth/sasl_security.h"
#include "auth/scram_client.h"
#include "base/log.h"
#include "base/mem.h"
#include "config/config.h"
#include "smtp_sasl_policy.h"

static struct {
    int enable;
    int sender_dependent;
    int soft_bounce;
    unsigned options, tls_options, tls_verified_options;
    struct maps *passwords;
    struct domain_list *filter;
} sasl;

static const char *param(const char *suffix)
{
    static char name[128];
    snprintf(name, sizeof(name), "%s_%s", smtp_cfg.name, suffix);
    return name;
}

void smtp_sasl_init(void)
{
    sasl.enable = cfg_bool(param("sasl_auth_enable"));
    if (!sasl.enable)
        return;
    const char *maps = cfg_str(param("sasl_password_maps"));
    if (*maps == '\0')
        log_fatal("specify a password table via the `%s' configuration "
                  "parameter",
                  param("sasl_password_maps"));
    /* Opened now, before any chroot, as Postfix does: the table may stay
     * in the configuration directory, readable by root only. */
    sasl.passwords = maps_open(xstrdup(param("sasl_password_maps")), maps, 0);
    sasl.options = sasl_security_from_param(param("sasl_security_options"));
    sasl.tls_options =
        sasl_security_from_param(param("sasl_tls_security_options"));
    /* Postfix has the verified set for smtp only. */
    sasl.tls_verified_options =
        smtp_cfg.lmtp ? sasl.tls_options
                      : sasl_security_from_param(
                            "smtp_sasl_tls_verified_security_options");
    struct buf err = BUF_INIT;
    const char *filter = cfg_str(param("sasl_mechanism_filter"));
    if (*filter) {
        sasl.filter = domain_list_open(xstrdup(param("sasl_mechanism_filter")),
                                       filter, DOMAIN_LIST_STRING, &err);
        if (sasl.filter == NULL)
            log_fatal("%s", buf_cstr(&err));
    }
    buf_free(&err);
    sasl.soft_bounce = cfg_bool(param("sasl_auth_soft_bounce"));
    /* Per-sender credentials: a kept connection is logged in as someone,
     * so connections are not kept (Postfix turns caching off too). */
    sasl.sender_dependent =
        !smtp_cfg.lmtp && cfg_bool("smtp_sender_dependent_authentication");
    if (sasl.sender_dependent)
        smtp_cfg.cache_on_demand = 0;
}

/* ---- one login ---- */

struct login_wait {
    int done;
    struct smtpc_result result;
};

static void login_done(struct smtpc_session *session,
                       const struct smtpc_result *result, void *ctx)
{
    struct login_wait *w = ctx;
    smtpc_result_copy(&w->result, result);
    w->done = 1;
}

static void local_failure(struct smtpc_result *why, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* A failure decided here, not by the server's reply: 4.7.0, deferred. */
static void local_failure(struct smtpc_result *why, const char *fmt, ...)
{
    smtpc_result_free(why);
    memset(why, 0, sizeof(*why));
    why->outcome = SMTPC_DEFERRED;
    snprintf(why->status, sizeof(why->status), "4.7.0");
    why->failure = SMTPC_FAIL_POLICY;
    why->command = SMTPC_CMD_AUTH;
    va_list ap;
    va_start(ap, fmt);
    buf_vappendf(&why->reason, fmt, ap);
    va_end(ap);
}

int smtp_sasl_login(struct smtp_conn *c, const char *sender,
                    struct smtpc_result *why)
{
    if (!sasl.enable)
        return 0;
    const struct smtpc_caps *caps = smtpc_session_caps(c->session);
    if (!(caps->flags & SMTPC_CAP_AUTH))
        return 0; /* talk as strangers, as Postfix does */
    struct buf user = BUF_INIT, password = BUF_INIT, key = BUF_INIT;
    const char *peer = smtpc_session_peer(c->session);
    int rc = 0;
    enum dict_result found =
        smtp_sasl_find(sasl.passwords, sasl.sender_dependent ? sender : NULL,
                       c->addr.host, c->addr.dest, &user, &password, &key);
    if (found == DICT_NOTFOUND)
        goto out;
    if (found == DICT_ERROR) {
        log_warn("%s lookup error for %s", maps_title(sasl.passwords), peer);
        local_failure(why,
                      "SASL authentication failed; cannot authenticate "
                      "to server %s: %s",
                      peer, "password table lookup error");
        why->status[2] = '3'; /* 4.3.0: a local problem */
        rc = -1;
        goto out;
    }
    unsigned options = !c->tls_active    ? sasl.options
                       : c->tls_verified ? sasl.tls_verified_options
                                         : sasl.tls_options;
    const char *mech = NULL;
    switch (smtp_sasl_pick(&caps->auth_mechs, sasl.filter, options, &mech)) {
    case SMTP_SASL_PICKED:
        break;
    case SMTP_SASL_NONE_OFFERED:
        local_failure(why,
                      "SASL authentication failed: server %s offered "
                      "no compatible authentication mechanisms for "
                      "this type of connection security",
                      peer);
        rc = -1;
        goto out;
    case SMTP_SASL_NONE_ALLOWED:
        local_failure(why,
                      "SASL authentication failed; cannot authenticate "
                      "to server %s: %s",
                      peer, "no mechanism available");
        rc = -1;
        goto out;
    case SMTP_SASL_FILTER_ERROR:
        local_failure(why,
                      "SASL authentication failed; cannot authenticate "
                      "to server %s: %s lookup error",
                      peer, param("sasl_mechanism_filter"));
        rc = -1;
        goto out;
    }
    struct login_wait w;
    memset(&w, 0, sizeof(w));
    struct scram_client *scram = NULL;
    if (strcmp(mech, "SCRAM-SHA-256") == 0) {
        scram = scram_client_new(buf_cstr(&user), buf_cstr(&password));
        smtpc_auth(c->session, mech, scram_client_step, scram, login_done, &w);
    } else {
        smtpc_auth_password(c->session, mech, buf_cstr(&user),
                            buf_cstr(&password), login_done, &w);
    }
    smtp_loop_run_until(&w.done);
    if (w.result.outcome == SMTPC_SENT) {
        smtpc_result_free(&w.result);
    } else {
        smtpc_result_free(why);
        *why = w.result; /* moved */
        if (scram && *scram_client_error(scram)) {
            /* Our side gave up (a hostile or broken server): say why
             * rather than quote the server's answer to our "*". */
            local_failure(why,
                          "SASL authentication failed; cannot "
                          "authenticate to server %s: %s",
                          peer, scram_client_error(scram));
        } else if (why->outcome == SMTPC_BOUNCED && sasl.soft_bounce) {
            why->outcome = SMTPC_DEFERRED;
            why->status[0] = '4';
        }
        rc = -1;
    }
    scram_client_free(scram);
out:
    if (password.data)
        memset(password.data, 0, password.len);
    buf_free(&user);
    buf_free(&password);
    buf_free(&key);
    return rc;
}
