/* smtpd_login.c: smtpd_sender_login_maps and the restrictions that use
 * it, with Postfix's semantics and replies.
 *
 * The map says which SASL logins own a sender address: the address is
 * looked up as Postfix's mail_addr_find does (user+ext@domain,
 * user@domain, user when the domain is ours, @domain), and the value is
 * a list of logins separated by commas or blanks, compared without
 * regard to case.
 *
 *   reject_authenticated_sender_login_mismatch   an authenticated client
 *       may use only a sender its login owns ("not owned by user NAME");
 *       a sender the map does not know is refused too
 *   reject_known_sender_login_mismatch   the same, but a sender the map
 *       does not know passes (and unauthenticated clients as below)
 *   reject_unauthenticated_sender_login_mismatch   a client that has not
 *       authenticated may not use a sender that the map knows ("not
 *       logged in")
 *   reject_sender_login_mismatch   the authenticated and the
 *       unauthenticated checks together
 *
 * The null sender is never checked. A table error defers (451 4.3.0). */
#include "smtpd_check_ctx.h"

#include <string.h>

#include "base/log.h"
#include "config/config.h"
#include "routing/rewrite.h"
#include "tables/maps.h"

static struct maps *login_maps;

void smtpd_login_init(void)
{
    const char *value = cfg_str("smtpd_sender_login_maps");
    if (*value)
        login_maps = maps_open("smtpd_sender_login_maps", value, 0);
}

/* The owners of sender: DICT_FOUND with them in owners. */
static enum dict_result owners_of(const char *sender, struct buf *owners)
{
    return rewrite_addr_find(smtpd_rewriter(), login_maps, sender, owners,
                             NULL);
}

/* 1 when login is one of the owners. */
static int owned_by(const char *owners, const char *login)
{
    struct strlist names;
    strlist_init(&names);
    str_split_list(owners, &names);
    int found = 0;
    for (size_t i = 0; i < names.count && !found; i++)
        found = str_equal_nocase(names.items[i], login);
    strlist_free(&names);
    return found;
}

enum smtpd_verdict check_login_mismatch(struct smtpd_session *s,
                                        enum restriction_kind kind,
                                        struct check_ctx *c)
{
    if (login_maps == NULL || c->sender == NULL || *c->sender == '\0')
        return SMTPD_NEXT;
    int check_auth = kind != RESTR_REJECT_UNAUTHENTICATED_SENDER_LOGIN_MISMATCH;
    int check_unauth =
        kind != RESTR_REJECT_AUTHENTICATED_SENDER_LOGIN_MISMATCH;
    if (s->sasl_authenticated ? !check_auth : !check_unauth)
        return SMTPD_NEXT;
    struct buf owners = BUF_INIT;
    enum dict_result found = owners_of(c->sender, &owners);
    enum smtpd_verdict v = SMTPD_NEXT;
    if (found == DICT_ERROR) {
        v = check_reject(s, c, 451, "4.3.0",
                         "<%s>: Sender address rejected: Temporary lookup "
                         "failure",
                         c->sender);
    } else if (s->sasl_authenticated) {
        int unknown_passes = kind == RESTR_REJECT_KNOWN_SENDER_LOGIN_MISMATCH;
        if (found == DICT_FOUND ? !owned_by(owners.data, s->sasl_username)
                                : !unknown_passes)
            v = check_reject(s, c, 553, "5.7.1",
                             "<%s>: Sender address rejected: not owned by "
                             "user %s",
                             c->sender, s->sasl_username);
    } else if (found == DICT_FOUND) {
        v = check_reject(s, c, 553, "5.7.1",
                         "<%s>: Sender address rejected: not logged in",
                         c->sender);
    }
    buf_free(&owners);
    return v;
}
