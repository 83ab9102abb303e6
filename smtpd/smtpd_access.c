/* smtpd_access.c: the access(5) restrictions (check_client_access,
 * check_helo_access, check_sender_access, check_recipient_access): which
 * keys are looked up, in Postfix's order, and what the result found
 * does: OK, REJECT, DEFER, numeric codes, HOLD, DISCARD, restriction
 * classes, DEFER_IF_PERMIT, DEFER_IF_REJECT, and the actions handed to
 * smtpd_actions.c (WARN, INFO, PREPEND, REDIRECT, BCC, FILTER). */
#include "smtpd_check_ctx.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "message/address.h"
#include "base/log.h"
#include "base/mem.h"

/* Applies an access table result. */
static enum smtpd_verdict access_result(struct smtpd_session *s,
                                        enum restriction_kind kind,
                                        struct check_ctx *c, const char *table,
                                        const char *value)
{
    struct access_result res;
    access_parse(value, &res);
    struct buf subject = BUF_INIT;
    check_reply_subject(s, kind, c, &subject);
    enum smtpd_verdict v = SMTPD_NEXT;
    switch (res.action) {
    case ACCESS_OK:
        v = SMTPD_PERMIT;
        break;
    case ACCESS_DUNNO:
        break;
    case ACCESS_REJECT:
        v = check_reject(s, c, smtpd_var.access_reject_code,
                         res.dsn[0] ? res.dsn : "5.7.1", "%s rejected: %s",
                         subject.data, *res.text ? res.text : "Access denied");
        break;
    case ACCESS_DEFER:
        v = check_reject(s, c, smtpd_var.access_defer_code,
                         res.dsn[0] ? res.dsn : "4.7.1", "%s rejected: %s",
                         subject.data, *res.text ? res.text : "Access denied");
        break;
    case ACCESS_CODE: {
        char dsn[12];
        if (res.dsn[0])
            str_copy(dsn, res.dsn, sizeof(dsn));
        else
            snprintf(dsn, sizeof(dsn), "%d.7.1", (res.code / 100) % 10);
        v = check_reject(s, c, res.code, dsn, "%s rejected: %s", subject.data,
                         *res.text ? res.text : "Access denied");
        break;
    }
    case ACCESS_HOLD:
        /* Once per transaction, as Postfix. */
        if (s->hold)
            break;
        s->hold = 1;
        free(s->hold_reason);
        s->hold_reason = xstrdup(*res.text ? res.text : "held");
        {
            struct buf why = BUF_INIT;
            buf_appendf(&why, "%s %s", subject.data,
                        *res.text ? res.text : "triggers HOLD action");
            check_log(s, c, "hold", why.data);
            buf_free(&why);
        }
        break;
    case ACCESS_DISCARD:
        s->discard = 1;
        {
            struct buf why = BUF_INIT;
            buf_appendf(&why, "%s %s", subject.data,
                        *res.text ? res.text : "triggers DISCARD action");
            check_log(s, c, "discard", why.data);
            buf_free(&why);
        }
        v = SMTPD_PERMIT;
        break;
    case ACCESS_RESTRICTIONS: {
        struct strlist words;
        strlist_init(&words);
        str_split_list(res.text, &words);
        struct restriction_list sub;
        struct buf err = BUF_INIT;
        if (c->depth > 3 || restriction_list_parse(&words, &sub, &err) < 0) {
            log_warn("%s: bad access result \"%s\": %s", table, value,
                     c->depth > 3 ? "nested too deep" : err.data);
            v = check_reject(s, c, 451, "4.3.5", "Server configuration error");
        } else {
            c->depth++;
            v = check_eval_list(s, &sub, c);
            if (v == SMTPD_SUSPEND)
                check_keep_class(s, c->depth, &sub); /* it waits */
            else
                restriction_list_free(&sub);
            c->depth--;
        }
        buf_free(&err);
        strlist_free(&words);
        break;
    }
    case ACCESS_WARN:
    case ACCESS_INFO:
    case ACCESS_PREPEND:
    case ACCESS_REDIRECT:
    case ACCESS_BCC:
    case ACCESS_FILTER:
        smtpd_action_apply(s, c->stage, c->sender, c->rcpt, &res, table, value,
                           subject.data);
        break;
    case ACCESS_DEFER_IF_PERMIT:
        v = check_defer_if_permit(s, c, 0, smtpd_var.access_defer_code,
                                  res.dsn[0] ? res.dsn : "4.7.1",
                                  "%s rejected: %s", subject.data,
                                  *res.text ? res.text : "Service unavailable");
        break;
    case ACCESS_DEFER_IF_REJECT:
        if (!c->dir_active) {
            c->dir_active = 1;
            c->dir_code = smtpd_var.access_defer_code;
            str_copy(c->dir_dsn, res.dsn[0] ? res.dsn : "4.7.1",
                     sizeof(c->dir_dsn));
            buf_reset(&c->dir_text);
            buf_appendf(&c->dir_text, "%s rejected: %s", subject.data,
                        *res.text ? res.text : "Service unavailable");
        }
        break;
    case ACCESS_UNSUPPORTED:
        log_warn("%s: access action \"%s\" is not supported; ignored", table,
                 value);
        break;
    case ACCESS_BAD:
        log_warn("%s: malformed access result \"%s\"", table, value);
        v = check_reject(s, c, 451, "4.3.5", "Server configuration error");
        break;
    }
    buf_free(&subject);
    return v;
}

/* Looks keys up in order; the first found decides. */
static enum smtpd_verdict access_keys(struct smtpd_session *s,
                                      enum restriction_kind kind,
                                      struct check_ctx *c, const char *table,
                                      const struct strlist *keys)
{
    struct buf value = BUF_INIT;
    enum smtpd_verdict v = SMTPD_NEXT;
    for (size_t i = 0; i < keys->count; i++) {
        enum dict_result r = smtpd_table_lookup(table, keys->items[i], &value);
        if (r == DICT_ERROR) {
            v = check_reject(s, c, 451, "4.3.0",
                             "<%s>: Temporary lookup failure", keys->items[0]);
            break;
        }
        if (r == DICT_FOUND) {
            v = access_result(s, kind, c, table, buf_cstr(&value));
            break;
        }
    }
    buf_free(&value);
    return v;
}

/* name, then its parent domains (as Postfix's access maps do with
 * parent_domain_matches_subdomains): a.b.c, b.c, c, and .b.c, .c. */
static void domain_keys(const char *domain, struct strlist *keys)
{
    strlist_add(keys, domain);
    for (const char *p = strchr(domain, '.'); p && p[1];
         p = strchr(p + 1, '.')) {
        strlist_add(keys, p + 1);
        strlist_add(keys, p);
    }
}

enum smtpd_verdict check_access_table(struct smtpd_session *s,
                                      const struct restriction *r,
                                      struct check_ctx *c)
{
    struct strlist keys;
    strlist_init(&keys);
    const char *address = NULL;
    switch (r->kind) {
    case RESTR_CHECK_CLIENT_ACCESS: {
        if (strcmp(s->name, "unknown") != 0)
            domain_keys(s->name, &keys);
        strlist_add(&keys, s->addr);
        /* 1.2.3.4, 1.2.3, 1.2, 1 (IPv4; ':'-separated for IPv6). */
        char tmp[64];
        str_copy(tmp, s->addr, sizeof(tmp));
        char sep = strchr(tmp, ':') ? ':' : '.';
        char *p;
        while ((p = strrchr(tmp, sep)) != NULL) {
            *p = '\0';
            if (*tmp)
                strlist_add(&keys, tmp);
        }
        break;
    }
    case RESTR_CHECK_HELO_ACCESS:
        if (!s->helo)
            break;
        domain_keys(s->helo, &keys);
        break;
    case RESTR_CHECK_SENDER_ACCESS:
        address = c->sender;
        break;
    case RESTR_CHECK_RECIPIENT_ACCESS:
        address = c->rcpt;
        break;
    default:
        break;
    }
    if (address) {
        if (*address == '\0') {
            strlist_add(&keys, smtpd_var.null_access_key);
        } else {
            strlist_add(&keys, address);
            const char *domain = address_domain(address);
            struct buf local = BUF_INIT;
            address_split(address, &local, NULL);
            if (domain)
                domain_keys(domain, &keys);
            buf_append_char(&local, '@');
            strlist_add(&keys, local.data);
            buf_free(&local);
        }
    }
    enum smtpd_verdict v = SMTPD_NEXT;
    if (keys.count)
        v = access_keys(s, r->kind, c, r->table, &keys);
    strlist_free(&keys);
    return v;
}
