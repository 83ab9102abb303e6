/* recipient_check.c: RCPT-time destination and recipient checks (see
 * recipient_check.h). */
#include "routing/recipient_check.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/config.h"
#include "base/log.h"
#include "tables/maps.h"
#include "base/mem.h"
#include "base/str.h"

#define REPLY_NAME_MAX 512 /* bytes of the client's address quoted back */

struct recipient_check {
    struct rewrite *rw;
    struct resolver *resolver;
    struct maps *local_maps, *mailbox_maps, *relay_maps;
    char *double_bounce;
    int untrusted_routing, show_table;
    int relay_code, local_code, mailbox_code, alias_code, relay_rcpt_code;
};

void recipient_check_settings_from_config(struct recipient_check_settings *s)
{
    memset(s, 0, sizeof(*s));
    s->allow_untrusted_routing = cfg_bool("allow_untrusted_routing");
    s->local_recipient_maps = cfg_str("local_recipient_maps");
    s->virtual_mailbox_maps = cfg_str("virtual_mailbox_maps");
    s->relay_recipient_maps = cfg_str("relay_recipient_maps");
    s->double_bounce_sender = cfg_str("double_bounce_sender");
    s->relay_domains_reject_code = (int)cfg_int("relay_domains_reject_code");
    s->unknown_local_recipient_reject_code =
        (int)cfg_int("unknown_local_recipient_reject_code");
    s->unknown_virtual_mailbox_reject_code =
        (int)cfg_int("unknown_virtual_mailbox_reject_code");
    s->unknown_virtual_alias_reject_code =
        (int)cfg_int("unknown_virtual_alias_reject_code");
    s->unknown_relay_recipient_reject_code =
        (int)cfg_int("unknown_relay_recipient_reject_code");
    s->show_user_unknown_table_name = cfg_bool("show_user_unknown_table_name");
}

static int code_or(int code, int fallback)
{
    return code >= 400 && code <= 599 ? code : fallback;
}

struct recipient_check *
recipient_check_open(const struct recipient_check_settings *s,
                     struct rewrite *rw, struct resolver *r)
{
    struct recipient_check *rc = xcalloc(1, sizeof(*rc));
    rc->rw = rw;
    rc->resolver = r;
    rc->local_maps =
        maps_open("local_recipient_maps", s->local_recipient_maps, 0);
    rc->mailbox_maps =
        maps_open("virtual_mailbox_maps", s->virtual_mailbox_maps, 0);
    rc->relay_maps =
        maps_open("relay_recipient_maps", s->relay_recipient_maps, 0);
    rc->double_bounce =
        xstrdup(s->double_bounce_sender && *s->double_bounce_sender
                    ? s->double_bounce_sender
                    : "double-bounce");
    rc->untrusted_routing = s->allow_untrusted_routing;
    rc->show_table = s->show_user_unknown_table_name;
    rc->relay_code = code_or(s->relay_domains_reject_code, 554);
    rc->local_code = code_or(s->unknown_local_recipient_reject_code, 550);
    rc->mailbox_code = code_or(s->unknown_virtual_mailbox_reject_code, 550);
    rc->alias_code = code_or(s->unknown_virtual_alias_reject_code, 550);
    rc->relay_rcpt_code = code_or(s->unknown_relay_recipient_reject_code, 550);
    return rc;
}

void recipient_check_close(struct recipient_check *rc)
{
    if (rc == NULL)
        return;
    maps_close(rc->local_maps);
    maps_close(rc->mailbox_maps);
    maps_close(rc->relay_maps);
    free(rc->double_bounce);
    free(rc);
}

void recipient_reply_init(struct recipient_reply *reply)
{
    reply->code = 0;
    reply->dsn[0] = 0;
    buf_init(&reply->text);
}

void recipient_reply_free(struct recipient_reply *reply)
{
    buf_free(&reply->text);
}

void recipient_reply_format(const struct recipient_reply *reply,
                            struct buf *out)
{
    buf_reset(out);
    buf_appendf(out, "%d %s %s", reply->code, reply->dsn,
                buf_cstr(&reply->text));
}

/* Sets the reply. The DSN class follows the code (4.x.x for 4xx), as
 * Postfix's smtpd_dsn_fix does. The client's address is echoed as
 * printable ASCII only, bounded. */
static void reply_set(struct recipient_reply *reply, int code, const char *dsn,
                      const char *recipient, const char *prefix,
                      const char *text)
{
    reply->code = code;
    snprintf(reply->dsn, sizeof(reply->dsn), "%s", dsn);
    reply->dsn[0] = code >= 500 ? '5' : '4';
    buf_reset(&reply->text);
    buf_append_char(&reply->text, '<');
    for (size_t i = 0; recipient[i] && i < REPLY_NAME_MAX; i++) {
        unsigned char c = (unsigned char)recipient[i];
        buf_append_char(&reply->text, c >= 0x20 && c < 0x7f ? (char)c : '?');
    }
    buf_append_str(&reply->text, ">: ");
    buf_append_str(&reply->text, prefix);
    buf_append_str(&reply->text, text);
}

static void reply_tempfail(struct recipient_reply *reply, const char *recipient)
{
    reply_set(reply, 451, "4.3.0", recipient, "", "Temporary lookup failure");
}

/* Canonical form, then resolve. 0, or -1 with the tempfail reply set. */
static int check_resolve(struct recipient_check *rc, const char *recipient,
                         struct resolve_result *res,
                         struct recipient_reply *reply)
{
    struct buf canon = BUF_INIT;
    rewrite_canonical_form(rc->rw, recipient, REWRITE_LOCAL, &canon);
    int status = resolve_address(rc->resolver, canon.data, res);
    buf_free(&canon);
    if (status < 0) {
        reply_tempfail(reply, recipient);
        return -1;
    }
    return 0;
}

static int resolved_is_ours(const struct recipient_check *rc,
                            const struct resolve_result *res)
{
    if (res->flags & RESOLVE_FLAG_ERROR)
        return 0;
    if ((res->flags & RESOLVE_FLAG_ROUTED) && !rc->untrusted_routing)
        return 0;
    return res->addr_class != RESOLVE_CLASS_DEFAULT;
}

int recipient_check_is_ours(struct recipient_check *rc, const char *recipient,
                            struct recipient_reply *reply)
{
    struct resolve_result res;
    resolve_result_init(&res);
    int ours = -1;
    if (check_resolve(rc, recipient, &res, reply) == 0)
        ours = resolved_is_ours(rc, &res);
    resolve_result_free(&res);
    return ours;
}

enum recipient_status
recipient_check_unauth_destination(struct recipient_check *rc,
                                   const char *recipient, int defer,
                                   struct recipient_reply *reply)
{
    int ours = recipient_check_is_ours(rc, recipient, reply);
    if (ours < 0)
        return RECIPIENT_DEFER;
    if (ours)
        return RECIPIENT_OK;
    int code = defer ? rc->relay_code - 100 : rc->relay_code;
    reply_set(reply, code, "5.7.1", recipient, "", "Relay access denied");
    return code < 500 ? RECIPIENT_DEFER : RECIPIENT_REJECT;
}

/* postmaster@, MAILER-DAEMON@, double-bounce@ in a local domain. */
static int local_special(const struct recipient_check *rc, const char *address)
{
    const char *names[] = {"postmaster", "MAILER-DAEMON", rc->double_bounce};
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        size_t n = strlen(names[i]);
        if (strncasecmp(address, names[i], n) == 0 && address[n] == '@')
            return 1;
    }
    return 0;
}

/* NOTFOUND in maps -> reject with the table's name; ERROR -> defer. */
static enum recipient_status check_table(struct recipient_check *rc,
                                         struct maps *maps, const char *address,
                                         const char *recipient, int code,
                                         const char *table,
                                         struct recipient_reply *reply)
{
    struct buf value = BUF_INIT;
    enum dict_result r = rewrite_addr_find(rc->rw, maps, address, &value, NULL);
    buf_free(&value);
    if (r == DICT_FOUND)
        return RECIPIENT_OK;
    if (r == DICT_ERROR) {
        reply_tempfail(reply, recipient);
        return RECIPIENT_DEFER;
    }
    char text[128];
    snprintf(text, sizeof(text), "User unknown%s%s",
             rc->show_table ? " in " : "", rc->show_table ? table : "");
    reply_set(reply, code, "5.1.1", recipient,
              "Recipient address rejected: ", text);
    return code < 500 ? RECIPIENT_DEFER : RECIPIENT_REJECT;
}

enum recipient_status recipient_check_unlisted(struct recipient_check *rc,
                                               const char *recipient,
                                               struct recipient_reply *reply)
{
    struct resolve_result res;
    resolve_result_init(&res);
    enum recipient_status status = RECIPIENT_OK;
    if (check_resolve(rc, recipient, &res, reply) < 0) {
        status = RECIPIENT_DEFER;
        goto done;
    }
    const char *address = res.recipient.data;
    if (res.flags & RESOLVE_FLAG_ERROR) {
        reply_set(reply, 501, "5.1.3", recipient,
                  "Recipient address rejected: ", "bad address syntax");
        status = RECIPIENT_REJECT;
        goto done;
    }
    /* Rewritten by canonical or virtual alias tables: known. */
    int mapped = rewrite_recipient_is_mapped(rc->rw, address);
    if (mapped < 0) {
        reply_tempfail(reply, recipient);
        status = RECIPIENT_DEFER;
        goto done;
    }
    if (mapped > 0)
        goto done;
    /* Anything that resolves to error: is known to be undeliverable. */
    if (strcmp(res.transport.data, "error") == 0) {
        const char *text = res.nexthop.data;
        char dsn[16] = "5.1.1";
        /* A leading "5.X.Y " in the reason is its status code. */
        size_t span = strspn(text, "0123456789.");
        if (span >= 5 && span < sizeof(dsn) && text[span] == ' ' &&
            (text[0] == '4' || text[0] == '5') && text[1] == '.') {
            memcpy(dsn, text, span);
            dsn[span] = 0;
            text += span + 1;
        }
        int code = res.addr_class == RESOLVE_CLASS_ALIAS ? rc->alias_code : 550;
        reply_set(reply, code, dsn, recipient,
                  "Recipient address rejected: ", text);
        status = code < 500 ? RECIPIENT_DEFER : RECIPIENT_REJECT;
        goto done;
    }
    switch (res.addr_class) {
    case RESOLVE_CLASS_LOCAL:
        if (!maps_empty(rc->local_maps) && !local_special(rc, address))
            status =
                check_table(rc, rc->local_maps, address, recipient,
                            rc->local_code, "local recipient table", reply);
        break;
    case RESOLVE_CLASS_VIRTUAL:
        if (!maps_empty(rc->mailbox_maps))
            status =
                check_table(rc, rc->mailbox_maps, address, recipient,
                            rc->mailbox_code, "virtual mailbox table", reply);
        break;
    case RESOLVE_CLASS_RELAY:
        if (!maps_empty(rc->relay_maps))
            status = check_table(rc, rc->relay_maps, address, recipient,
                                 rc->relay_rcpt_code, "relay recipient table",
                                 reply);
        break;
    case RESOLVE_CLASS_ALIAS:   /* handled by the error transport above */
    case RESOLVE_CLASS_DEFAULT: /* not ours to know */
        break;
    }
done:
    resolve_result_free(&res);
    return status;
}
