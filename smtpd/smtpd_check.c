/* smtpd_check.c: SMTP access restrictions, evaluated as Postfix does.
 *
 * With smtpd_delay_reject = yes (the only mode implemented) the client,
 * HELO and sender restrictions are evaluated at RCPT time, followed by
 * smtpd_relay_restrictions and smtpd_recipient_restrictions; then the
 * recipient must be known (smtpd_reject_unlisted_recipient). Each list
 * ends in "no decision", which permits. A reject replies and logs
 * Postfix's "NOQUEUE: reject: RCPT from ..." line.
 *
 * Address classes (local, virtual alias, virtual mailbox, relay, other)
 * and the unknown-recipient decision are made here from mydestination,
 * virtual_alias_domains, virtual_mailbox_domains, relay_domains and the
 * maps that list users; see smtpd_addr_class(). */
#include "smtpd.h"

#include <ctype.h>
#include <netdb.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "address.h"
#include "config.h"
#include "log.h"
#include "mem.h"

/* ---- tables ---- */

struct table_slot {
    char *spec;
    struct dict *dict;
};
static struct table_slot *tables;
static size_t table_count;

static struct dict *table_get(const char *spec)
{
    for (size_t i = 0; i < table_count; i++)
        if (strcmp(tables[i].spec, spec) == 0)
            return tables[i].dict;
    struct buf err = BUF_INIT;
    struct dict *d = dict_open(spec, 0, &err);
    if (d == NULL)
        log_warn("table %s: %s", spec, buf_cstr(&err));
    buf_free(&err);
    tables = xreallocarray(tables, table_count + 1, sizeof(*tables));
    tables[table_count].spec = xstrdup(spec);
    tables[table_count].dict = d;
    table_count++;
    return d;
}

static enum dict_result table_lookup(const char *spec, const char *key,
                                     struct buf *value)
{
    struct dict *d = table_get(spec);
    if (d == NULL)
        return DICT_ERROR;
    return dict_lookup(d, key, value);
}

/* A list of table specs (virtual_alias_maps): first match wins. */
static enum dict_result maps_lookup(const char *param, const char *key,
                                    struct buf *value)
{
    struct strlist items;
    strlist_init(&items);
    cfg_list(param, &items);
    enum dict_result r = DICT_NOTFOUND;
    for (size_t i = 0; i < items.count && r == DICT_NOTFOUND; i++) {
        if (!strchr(items.items[i], ':'))
            continue;
        r = table_lookup(items.items[i], key, value);
    }
    strlist_free(&items);
    return r;
}

/* A domain list (mydestination, relay_domains, ...): names match
 * exactly (and, as Postfix's parent_domain_matches_subdomains does for
 * these, subdomains); type:table entries are looked up with the domain.
 * 1, 0, or -1 on a table error. */
static int domain_in_list(const char *param, const char *domain)
{
    struct strlist items;
    strlist_init(&items);
    cfg_list(param, &items);
    int result = 0;
    struct buf value = BUF_INIT;
    size_t dlen = strlen(domain);
    for (size_t i = 0; i < items.count && result == 0; i++) {
        const char *it = items.items[i];
        if (strchr(it, ':') && it[0] != '[') {
            enum dict_result r = table_lookup(it, domain, &value);
            if (r == DICT_FOUND)
                result = 1;
            else if (r == DICT_ERROR)
                result = -1;
            continue;
        }
        if (str_equal_nocase(it, domain)) {
            result = 1;
            continue;
        }
        size_t ilen = strlen(it);
        if (strcmp(param, "mydestination") != 0 && dlen > ilen + 1 &&
            domain[dlen - ilen - 1] == '.' &&
            str_equal_nocase(domain + dlen - ilen, it))
            result = 1;
    }
    buf_free(&value);
    strlist_free(&items);
    return result;
}

void smtpd_check_init(void)
{
}

void smtpd_canonical(const char *address, struct buf *out)
{
    buf_set_str(out, address);
    if (*address == '\0')
        return;
    if (!strchr(address, '@'))
        buf_appendf(out, "@%s", smtpd_var.myorigin);
    /* One trailing dot in the domain is dropped, as Postfix does. */
    if (out->len > 1 && out->data[out->len - 1] == '.')
        buf_truncate(out, out->len - 1);
}

/* ---- address classes ---- */

enum addr_class {
    CLASS_LOCAL,
    CLASS_ALIAS,
    CLASS_VIRTUAL,
    CLASS_RELAY,
    CLASS_DEFAULT,
    CLASS_ERROR /* a table failed */
};

static enum addr_class smtpd_addr_class(const char *address)
{
    const char *domain = address_domain(address);
    if (domain == NULL || *domain == '\0')
        return CLASS_LOCAL; /* made complete before; defensive */
    struct {
        const char *param;
        enum addr_class cls;
    } order[] = {
        {"mydestination", CLASS_LOCAL},
        {"virtual_alias_domains", CLASS_ALIAS},
        {"virtual_mailbox_domains", CLASS_VIRTUAL},
        {"relay_domains", CLASS_RELAY},
    };
    if (str_equal_nocase(domain, smtpd_var.myhostname))
        return CLASS_LOCAL;
    for (size_t i = 0; i < sizeof(order) / sizeof(order[0]); i++) {
        int r = domain_in_list(order[i].param, domain);
        if (r < 0)
            return CLASS_ERROR;
        if (r > 0)
            return order[i].cls;
    }
    return CLASS_DEFAULT;
}

/* reject_unauth_destination: 1 when the recipient is ours to accept. */
static int auth_destination(struct smtpd_session *s, const char *rcpt,
                            int *error)
{
    (void)s;
    *error = 0;
    enum addr_class cls = smtpd_addr_class(rcpt);
    if (cls == CLASS_ERROR) {
        *error = 1;
        return 0;
    }
    if (cls == CLASS_DEFAULT)
        return 0;
    /* user%other@ours, other!user@ours, user@other@ours: the next hop
     * would strip our domain and send the mail on. */
    if (address_routing(rcpt) != 0 && !smtpd_var.allow_untrusted_routing)
        return 0;
    return 1;
}

/* Looks address up the way Postfix's mail_addr_find does for user maps:
 * user+ext@domain, user@domain, then @domain (when at_domain) and, for
 * local domains, user+ext and user. */
static enum dict_result addr_find(const char *param, const char *address,
                                  int local, int at_domain, struct buf *value)
{
    struct buf local_part = BUF_INIT, domain = BUF_INIT, base = BUF_INIT,
               ext = BUF_INIT, key = BUF_INIT;
    address_split(address, &local_part, &domain);
    int split = *smtpd_var.recipient_delimiter &&
                address_split_delimiter(local_part.data,
                                        smtpd_var.recipient_delimiter, &base,
                                        &ext, NULL);
    enum dict_result r = maps_lookup(param, address, value);
    if (r == DICT_NOTFOUND && split) {
        buf_set_str(&key, base.data);
        buf_appendf(&key, "@%s", domain.data);
        r = maps_lookup(param, key.data, value);
    }
    if (r == DICT_NOTFOUND && local) {
        r = maps_lookup(param, local_part.data, value);
        if (r == DICT_NOTFOUND && split)
            r = maps_lookup(param, base.data, value);
    }
    if (r == DICT_NOTFOUND && at_domain) {
        buf_set_str(&key, "@");
        buf_append_str(&key, domain.data);
        r = maps_lookup(param, key.data, value);
    }
    buf_free(&local_part);
    buf_free(&domain);
    buf_free(&base);
    buf_free(&ext);
    buf_free(&key);
    return r;
}

/* local_recipient_maps, with Postfix's unix:passwd.byname. */
static enum dict_result local_user_known(const char *address)
{
    struct strlist items;
    strlist_init(&items);
    cfg_list("local_recipient_maps", &items);
    if (items.count == 0) {
        strlist_free(&items);
        return DICT_FOUND; /* empty: every local user is known */
    }
    struct buf local_part = BUF_INIT, base = BUF_INIT, ext = BUF_INIT,
               value = BUF_INIT;
    address_split(address, &local_part, NULL);
    if (!*smtpd_var.recipient_delimiter ||
        !address_split_delimiter(local_part.data,
                                 smtpd_var.recipient_delimiter, &base, &ext,
                                 NULL))
        buf_set_str(&base, local_part.data);
    enum dict_result r = DICT_NOTFOUND;
    for (size_t i = 0; i < items.count && r == DICT_NOTFOUND; i++) {
        const char *spec = items.items[i];
        if (str_equal_nocase(spec, "unix:passwd.byname")) {
            char *lower = str_lower(xstrdup(base.data));
            if (getpwnam(lower) != NULL)
                r = DICT_FOUND;
            free(lower);
            continue;
        }
        if (!strchr(spec, ':'))
            continue;
        r = table_lookup(spec, address, &value);
        if (r == DICT_NOTFOUND)
            r = table_lookup(spec, local_part.data, &value);
        if (r == DICT_NOTFOUND && strcmp(base.data, local_part.data) != 0)
            r = table_lookup(spec, base.data, &value);
    }
    buf_free(&local_part);
    buf_free(&base);
    buf_free(&ext);
    buf_free(&value);
    strlist_free(&items);
    return r;
}

/* ---- replies ---- */

struct check_ctx {
    const char *stage;  /* "RCPT", "DATA" */
    const char *sender; /* NULL when none yet */
    const char *rcpt;   /* NULL outside RCPT */
    int depth;
};

static void log_reject(struct smtpd_session *s, const struct check_ctx *c,
                       const char *what, const char *reply)
{
    struct buf line = BUF_INIT;
    buf_appendf(&line, "NOQUEUE: %s: %s from %s: %s;", what, c->stage,
                s->namaddr, reply);
    if (c->sender)
        buf_appendf(&line, " from=<%s>", c->sender);
    if (c->rcpt)
        buf_appendf(&line, " to=<%s>", c->rcpt);
    buf_appendf(&line, " proto=%s", s->esmtp ? "ESMTP" : "SMTP");
    if (s->helo)
        buf_appendf(&line, " helo=<%s>", s->helo);
    log_info("%s", buf_cstr(&line));
    buf_free(&line);
}

static enum smtpd_verdict reject(struct smtpd_session *s,
                                 const struct check_ctx *c, long code,
                                 const char *dsn, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

static enum smtpd_verdict reject(struct smtpd_session *s,
                                 const struct check_ctx *c, long code,
                                 const char *dsn, const char *fmt, ...)
{
    struct buf text = BUF_INIT;
    char fixed[12];
    /* The enhanced code's class follows the reply's (4xx vs 5xx). */
    str_copy(fixed, dsn, sizeof(fixed));
    fixed[0] = (char)('0' + code / 100);
    buf_appendf(&text, "%ld %s ", code, fixed);
    va_list ap;
    va_start(ap, fmt);
    buf_vappendf(&text, fmt, ap);
    va_end(ap);
    log_reject(s, c, "reject", text.data);
    smtpd_error_reply(s, "%s", text.data);
    buf_free(&text);
    return SMTPD_REJECT;
}

/* "<x@y>: Recipient address rejected" and friends. */
static void reply_subject(struct smtpd_session *s, enum restriction_kind kind,
                          const struct check_ctx *c, struct buf *out)
{
    switch (kind) {
    case RESTR_CHECK_CLIENT_ACCESS:
        buf_appendf(out, "<%s>: Client host rejected", s->namaddr);
        break;
    case RESTR_CHECK_HELO_ACCESS:
        buf_appendf(out, "<%s>: Helo command rejected",
                    s->helo ? s->helo : "");
        break;
    case RESTR_CHECK_SENDER_ACCESS:
        buf_appendf(out, "<%s>: Sender address rejected",
                    c->sender ? c->sender : "");
        break;
    default:
        if (c->rcpt)
            buf_appendf(out, "<%s>: Recipient address rejected", c->rcpt);
        else
            buf_appendf(out, "<%s>: Data command rejected", c->stage);
        break;
    }
}

static enum smtpd_verdict eval_list(struct smtpd_session *s,
                                    const struct restriction_list *list,
                                    struct check_ctx *c);

/* Applies an access table result. */
static enum smtpd_verdict access_result(struct smtpd_session *s,
                                        enum restriction_kind kind,
                                        struct check_ctx *c,
                                        const char *table, const char *value)
{
    struct access_result res;
    access_parse(value, &res);
    struct buf subject = BUF_INIT;
    reply_subject(s, kind, c, &subject);
    enum smtpd_verdict v = SMTPD_NEXT;
    switch (res.action) {
    case ACCESS_OK:
        v = SMTPD_PERMIT;
        break;
    case ACCESS_DUNNO:
        break;
    case ACCESS_REJECT:
        v = reject(s, c, smtpd_var.access_reject_code,
                   res.dsn[0] ? res.dsn : "5.7.1", "%s: %s", subject.data,
                   *res.text ? res.text : "Access denied");
        break;
    case ACCESS_DEFER:
        v = reject(s, c, smtpd_var.access_defer_code,
                   res.dsn[0] ? res.dsn : "4.7.1", "%s: %s", subject.data,
                   *res.text ? res.text : "Access denied");
        break;
    case ACCESS_CODE: {
        char dsn[12];
        if (res.dsn[0])
            str_copy(dsn, res.dsn, sizeof(dsn));
        else
            snprintf(dsn, sizeof(dsn), "%d.7.1", (res.code / 100) % 10);
        v = reject(s, c, res.code, dsn, "%s: %s", subject.data,
                   *res.text ? res.text : "Access denied");
        break;
    }
    case ACCESS_HOLD:
        s->hold = 1;
        free(s->hold_reason);
        s->hold_reason = xstrdup(*res.text ? res.text : "held");
        {
            struct buf why = BUF_INIT;
            buf_appendf(&why, "%s: %s", subject.data,
                        *res.text ? res.text : "triggers HOLD action");
            log_reject(s, c, "hold", why.data);
            buf_free(&why);
        }
        break;
    case ACCESS_DISCARD:
        s->discard = 1;
        {
            struct buf why = BUF_INIT;
            buf_appendf(&why, "%s: %s", subject.data,
                        *res.text ? res.text : "triggers DISCARD action");
            log_reject(s, c, "discard", why.data);
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
            v = reject(s, c, 451, "4.3.5", "Server configuration error");
        } else {
            c->depth++;
            v = eval_list(s, &sub, c);
            c->depth--;
            restriction_list_free(&sub);
        }
        buf_free(&err);
        strlist_free(&words);
        break;
    }
    case ACCESS_UNSUPPORTED:
        log_warn("%s: access action \"%s\" is not supported; ignored", table,
                 value);
        break;
    case ACCESS_BAD:
        log_warn("%s: malformed access result \"%s\"", table, value);
        v = reject(s, c, 451, "4.3.5", "Server configuration error");
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
        enum dict_result r = table_lookup(table, keys->items[i], &value);
        if (r == DICT_ERROR) {
            v = reject(s, c, 451, "4.3.0", "<%s>: Temporary lookup failure",
                       keys->items[0]);
            break;
        }
        if (r == DICT_FOUND) {
            v = access_result(s, kind, c, table, value.data);
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
    for (const char *p = strchr(domain, '.'); p && p[1]; p = strchr(p + 1, '.')) {
        strlist_add(keys, p + 1);
        strlist_add(keys, p);
    }
}

static enum smtpd_verdict check_access(struct smtpd_session *s,
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

static int domain_known(const char *domain)
{
    if (*domain == '[')
        return address_valid_literal(domain);
    struct addrinfo hints, *res = NULL;
    memset(&hints, 0, sizeof(hints));
    hints.ai_socktype = SOCK_STREAM;
    int rc = getaddrinfo(domain, NULL, &hints, &res);
    if (res)
        freeaddrinfo(res);
    return rc == 0;
}

/* Known (ours, or found in DNS: A/AAAA through the resolver). One
 * function, so the DNS client of a later release replaces only this. */
static int smtpd_domain_exists(const char *address)
{
    const char *domain = address_domain(address);
    if (domain == NULL)
        return 1;
    enum addr_class cls = smtpd_addr_class(address);
    if (cls != CLASS_DEFAULT && cls != CLASS_ERROR)
        return 1;
    return domain_known(domain);
}

/* reject_unlisted_recipient. */
static enum smtpd_verdict check_rcpt_known(struct smtpd_session *s,
                                           struct check_ctx *c)
{
    const char *rcpt = c->rcpt;
    enum addr_class cls = smtpd_addr_class(rcpt);
    struct buf value = BUF_INIT;
    enum dict_result r = DICT_FOUND;
    long code = 0;
    const char *table = NULL;
    if (cls == CLASS_ERROR) {
        r = DICT_ERROR;
    } else if (cls != CLASS_DEFAULT) {
        /* An address that virtual_alias_maps rewrites is known. */
        r = addr_find("virtual_alias_maps", rcpt, cls == CLASS_LOCAL, 1,
                      &value);
        if (r == DICT_NOTFOUND) {
            switch (cls) {
            case CLASS_LOCAL:
                r = local_user_known(rcpt);
                code = smtpd_var.unknown_local_code;
                table = "local recipient table";
                break;
            case CLASS_ALIAS:
                code = smtpd_var.unknown_alias_code;
                table = "virtual alias table";
                break;
            case CLASS_VIRTUAL:
                r = addr_find("virtual_mailbox_maps", rcpt, 0, 1, &value);
                code = smtpd_var.unknown_virtual_code;
                table = "virtual mailbox table";
                break;
            case CLASS_RELAY:
                if (*cfg_str("relay_recipient_maps")) {
                    r = addr_find("relay_recipient_maps", rcpt, 0, 1, &value);
                    code = smtpd_var.unknown_relay_code;
                    table = "relay recipient table";
                } else {
                    r = DICT_FOUND;
                }
                break;
            default:
                r = DICT_FOUND;
                break;
            }
        }
    }
    buf_free(&value);
    if (r == DICT_ERROR)
        return reject(s, c, 451, "4.3.0",
                      "<%s>: Recipient address rejected: Temporary lookup "
                      "failure",
                      rcpt);
    if (r == DICT_NOTFOUND)
        return reject(s, c, code, "5.1.1",
                      "<%s>: Recipient address rejected: User unknown in %s",
                      rcpt, table);
    return SMTPD_NEXT;
}

static enum smtpd_verdict eval_one(struct smtpd_session *s,
                                   const struct restriction *r,
                                   struct check_ctx *c)
{
    int error = 0;
    switch (r->kind) {
    case RESTR_PERMIT:
        return SMTPD_PERMIT;
    case RESTR_REJECT:
    case RESTR_DEFER: {
        struct buf subject = BUF_INIT;
        reply_subject(s, RESTR_CHECK_RECIPIENT_ACCESS, c, &subject);
        int rej = r->kind == RESTR_REJECT;
        enum smtpd_verdict v =
            reject(s, c, rej ? smtpd_var.reject_code : smtpd_var.defer_code,
                   rej ? "5.7.1" : "4.7.1", "%s: Access denied",
                   subject.data);
        buf_free(&subject);
        return v;
    }
    case RESTR_PERMIT_MYNETWORKS:
        return s->trusted ? SMTPD_PERMIT : SMTPD_NEXT;
    case RESTR_PERMIT_SASL_AUTHENTICATED:
        return SMTPD_NEXT; /* no SASL yet */
    case RESTR_REJECT_UNAUTH_DESTINATION:
    case RESTR_DEFER_UNAUTH_DESTINATION:
        if (!c->rcpt)
            return SMTPD_NEXT;
        if (auth_destination(s, c->rcpt, &error))
            return SMTPD_NEXT;
        if (error)
            return reject(s, c, 451, "4.3.0",
                          "<%s>: Temporary lookup failure", c->rcpt);
        return reject(s, c,
                      r->kind == RESTR_REJECT_UNAUTH_DESTINATION
                          ? smtpd_var.relay_reject_code
                          : 454,
                      "5.7.1", "<%s>: Relay access denied", c->rcpt);
    case RESTR_PERMIT_AUTH_DESTINATION:
        if (c->rcpt && auth_destination(s, c->rcpt, &error))
            return SMTPD_PERMIT;
        return SMTPD_NEXT;
    case RESTR_REJECT_UNLISTED_RECIPIENT:
        return c->rcpt ? check_rcpt_known(s, c) : SMTPD_NEXT;
    case RESTR_REJECT_UNLISTED_SENDER:
        return SMTPD_NEXT; /* documented: not implemented yet */
    case RESTR_REJECT_UNKNOWN_RECIPIENT_DOMAIN:
        if (c->rcpt && !smtpd_domain_exists(c->rcpt))
            return reject(s, c, smtpd_var.unknown_address_code, "4.1.2",
                          "<%s>: Recipient address rejected: Domain not "
                          "found",
                          c->rcpt);
        return SMTPD_NEXT;
    case RESTR_REJECT_UNKNOWN_SENDER_DOMAIN:
        if (c->sender && *c->sender && !smtpd_domain_exists(c->sender))
            return reject(s, c, smtpd_var.unknown_address_code, "4.1.8",
                          "<%s>: Sender address rejected: Domain not found",
                          c->sender);
        return SMTPD_NEXT;
    case RESTR_REJECT_NON_FQDN_SENDER:
        if (c->sender && *c->sender) {
            const char *d = address_domain(c->sender);
            if (!d || !address_domain_is_fqdn(d))
                return reject(s, c, smtpd_var.non_fqdn_code, "5.5.2",
                              "<%s>: Sender address rejected: need "
                              "fully-qualified address",
                              c->sender);
        }
        return SMTPD_NEXT;
    case RESTR_REJECT_NON_FQDN_RECIPIENT:
        if (c->rcpt) {
            const char *d = address_domain(c->rcpt);
            if (!d || !address_domain_is_fqdn(d))
                return reject(s, c, smtpd_var.non_fqdn_code, "5.5.2",
                              "<%s>: Recipient address rejected: need "
                              "fully-qualified address",
                              c->rcpt);
        }
        return SMTPD_NEXT;
    case RESTR_REJECT_NON_FQDN_HELO_HOSTNAME:
        if (s->helo && !address_helo_is_fqdn(s->helo))
            return reject(s, c, smtpd_var.non_fqdn_code, "5.5.2",
                          "<%s>: Helo command rejected: need "
                          "fully-qualified hostname",
                          s->helo);
        return SMTPD_NEXT;
    case RESTR_REJECT_INVALID_HELO_HOSTNAME:
        if (s->helo && !address_helo_valid(s->helo))
            return reject(s, c, smtpd_var.invalid_hostname_code, "5.5.2",
                          "<%s>: Helo command rejected: Invalid name",
                          s->helo);
        return SMTPD_NEXT;
    case RESTR_CHECK_CLIENT_ACCESS:
    case RESTR_CHECK_HELO_ACCESS:
    case RESTR_CHECK_SENDER_ACCESS:
    case RESTR_CHECK_RECIPIENT_ACCESS:
        return check_access(s, r, c);
    }
    return SMTPD_NEXT;
}

static enum smtpd_verdict eval_list(struct smtpd_session *s,
                                    const struct restriction_list *list,
                                    struct check_ctx *c)
{
    for (size_t i = 0; i < list->count; i++) {
        enum smtpd_verdict v = eval_one(s, &list->items[i], c);
        if (v != SMTPD_NEXT)
            return v;
    }
    return SMTPD_NEXT;
}

static enum smtpd_verdict eval_stage(struct smtpd_session *s,
                                     const struct restriction_list *list,
                                     int ok, struct check_ctx *c)
{
    if (!ok) {
        log_warn("restriction list is invalid; see earlier warning");
        return reject(s, c, 451, "4.3.5", "Server configuration error");
    }
    enum smtpd_verdict v = eval_list(s, list, c);
    return v == SMTPD_REJECT ? SMTPD_REJECT : SMTPD_PERMIT;
}

enum smtpd_verdict smtpd_check_client(struct smtpd_session *s)
{
    struct check_ctx c = {"CONNECT", NULL, NULL, 0};
    return eval_stage(s, &smtpd_var.client_r, smtpd_var.client_ok, &c);
}

enum smtpd_verdict smtpd_check_helo(struct smtpd_session *s)
{
    struct check_ctx c = {"HELO", NULL, NULL, 0};
    return eval_stage(s, &smtpd_var.helo_r, smtpd_var.helo_ok, &c);
}

enum smtpd_verdict smtpd_check_sender(struct smtpd_session *s,
                                      const char *sender)
{
    struct check_ctx c = {"MAIL", sender, NULL, 0};
    return eval_stage(s, &smtpd_var.sender_r, smtpd_var.sender_ok, &c);
}

enum smtpd_verdict smtpd_check_rcpt(struct smtpd_session *s, const char *rcpt)
{
    /* smtpd_delay_reject: every earlier stage is evaluated here. */
    struct check_ctx c = {"RCPT", s->sender, rcpt, 0};
    /* Local submission is trusted as Postfix trusts pickup: its mail
     * passes no restriction list, only the recipient validation. */
    if (!s->local) {
        if (eval_stage(s, &smtpd_var.client_r, smtpd_var.client_ok, &c) ==
                SMTPD_REJECT ||
            eval_stage(s, &smtpd_var.helo_r, smtpd_var.helo_ok, &c) ==
                SMTPD_REJECT ||
            eval_stage(s, &smtpd_var.sender_r, smtpd_var.sender_ok, &c) ==
                SMTPD_REJECT ||
            eval_stage(s, &smtpd_var.relay_r, smtpd_var.relay_ok, &c) ==
                SMTPD_REJECT ||
            eval_stage(s, &smtpd_var.rcpt_r, smtpd_var.rcpt_ok, &c) ==
                SMTPD_REJECT)
            return SMTPD_REJECT;
    }
    if (smtpd_var.reject_unlisted_recipient &&
        check_rcpt_known(s, &c) == SMTPD_REJECT)
        return SMTPD_REJECT;
    return SMTPD_PERMIT;
}

enum smtpd_verdict smtpd_check_data(struct smtpd_session *s)
{
    struct check_ctx c = {"DATA", s->sender, NULL, 0};
    return eval_stage(s, &smtpd_var.data_r, smtpd_var.data_ok, &c);
}
