/* recipient_check.h: the RCPT TO decisions smtpd takes about a
 * recipient's destination, Postfix's permit_auth_destination,
 * reject_unauth_destination / defer_unauth_destination and
 * reject_unlisted_recipient (smtpd_check.c). smtpd's restriction engine
 * calls these; the reply texts are Postfix's, so logs and fail2ban
 * filters keep working. See docs/addressing.md.
 *
 * The recipient is taken as the client gave it (internal form, source
 * route already dropped by the command parser); it is put in canonical
 * form (rewrite.h) and resolved (resolve.h) here, and the reply text
 * quotes it as given.
 *
 * Authorised destinations: the resolved recipient is in the local,
 * virtual alias, virtual mailbox or relay class, AND its local part has
 * no routing operator left (RESOLVE_FLAG_ROUTED) unless
 * allow_untrusted_routing = yes. So user%other@ours, user@other@ours,
 * @ours:user@other and other!user@ours are never authorised: they
 * resolve to the foreign domain, or stay routed.
 *
 * Every table error is a temporary failure: 451 4.3.0, never a reject. */
#ifndef POSTERN_RECIPIENT_CHECK_H
#define POSTERN_RECIPIENT_CHECK_H

#include "base/buf.h"
#include "routing/resolve.h"
#include "routing/rewrite.h"

struct recipient_check_settings {
    int allow_untrusted_routing;
    const char *local_recipient_maps;
    const char *virtual_mailbox_maps;
    const char *relay_recipient_maps;
    const char *double_bounce_sender;
    int relay_domains_reject_code;
    int unknown_local_recipient_reject_code;
    int unknown_virtual_mailbox_reject_code;
    int unknown_virtual_alias_reject_code;
    int unknown_relay_recipient_reject_code;
    int show_user_unknown_table_name;
};

/* Fills s from the configuration (strings valid until config_load). */
void recipient_check_settings_from_config(struct recipient_check_settings *s);

struct recipient_check;

/* rw and r must outlive the checker. Never NULL. */
struct recipient_check *
recipient_check_open(const struct recipient_check_settings *s,
                     struct rewrite *rw, struct resolver *r);
void recipient_check_close(struct recipient_check *rc);

enum recipient_status {
    RECIPIENT_OK,     /* authorised / known: go on with the restrictions */
    RECIPIENT_REJECT, /* reply filled with a 5xx (or the configured code) */
    RECIPIENT_DEFER   /* reply filled with a 4xx */
};

/* An SMTP reply: code, enhanced status code, text. The line to send is
 * "CODE DSN TEXT", e.g. "554 5.7.1 <u@x>: Relay access denied". */
struct recipient_reply {
    int code;
    char dsn[16];
    struct buf text;
};
void recipient_reply_init(struct recipient_reply *reply);
void recipient_reply_free(struct recipient_reply *reply);
/* Replaces out with "CODE DSN TEXT". */
void recipient_reply_format(const struct recipient_reply *reply,
                            struct buf *out);

/* permit_auth_destination: 1 when the recipient is one of ours (see
 * above), 0 when not, -1 on a table error (reply holds 451 4.3.0). */
int recipient_check_is_ours(struct recipient_check *rc, const char *recipient,
                            struct recipient_reply *reply);

/* reject_unauth_destination (defer = 0: relay_domains_reject_code, 554
 * 5.7.1 "<rcpt>: Relay access denied") or defer_unauth_destination
 * (defer = 1: that code minus 100, 454 4.7.1). RECIPIENT_OK when the
 * destination is ours; a table error gives RECIPIENT_DEFER with 451
 * 4.3.0 "<rcpt>: Temporary lookup failure". */
enum recipient_status
recipient_check_unauth_destination(struct recipient_check *rc,
                                   const char *recipient, int defer,
                                   struct recipient_reply *reply);

/* reject_unlisted_recipient. RECIPIENT_OK when the recipient is known or
 * its class is not checked (default class, an empty recipient table);
 * RECIPIENT_REJECT with "550 5.1.1 <rcpt>: Recipient address rejected:
 * User unknown in local recipient table" (virtual mailbox table, virtual
 * alias table, relay recipient table), or with the error transport's
 * text when transport_maps sends the recipient to error:, or "501 5.1.3
 * <rcpt>: Recipient address rejected: bad address syntax";
 * RECIPIENT_DEFER with 451 4.3.0 on a table error. A recipient that
 * matches canonical_maps, recipient_canonical_maps or virtual_alias_maps
 * is known, and so are postmaster, MAILER-DAEMON and
 * $double_bounce_sender in local domains. */
enum recipient_status recipient_check_unlisted(struct recipient_check *rc,
                                               const char *recipient,
                                               struct recipient_reply *reply);

#endif
