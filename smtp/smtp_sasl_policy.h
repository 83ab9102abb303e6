/* smtp_sasl_policy.h: the two decisions behind SASL to a smarthost,
 * kept apart from the session code so that a unit test can include them
 * (tests/unit/test_smtp_sasl_policy.c): which user name and password
 * (smtp_sasl_password_maps) and which mechanism.
 *
 * Credentials, in Postfix's order (its smtp_sasl_passwd_lookup), the
 * first key found winning:
 *   1. the envelope sender, with smtp_sender_dependent_authentication
 *      (SMTP only, not the null sender): the address, the address
 *      without its extension, then "@domain" (agent_maps_find_address);
 *   2. the remote host's name (the MX host, or the name in [host]);
 *   3. the next-hop destination as written in relayhost or the
 *      transport ("[mail.isp.example]:587", "example.com");
 *   4. Postern's addition: when that destination carries a port, the
 *      destination without it ("[mail.isp.example]").
 * The value is "user:password" (split at the first ':'; no ':' means an
 * empty password). A table error stops the search: the mail defers.
 *
 * Mechanism: of those the server offered, the ones smtp_sasl_mechanism_
 * filter keeps (a Postfix string list: names, !names, /file, type:table;
 * empty keeps all); of those, the first this client speaks, strongest
 * first (SCRAM-SHA-256, PLAIN, LOGIN), that the security options in
 * force allow (sasl_security_allows). */
#ifndef POSTERN_SMTP_SASL_POLICY_H
#define POSTERN_SMTP_SASL_POLICY_H

#include "base/buf.h"
#include "base/str.h"
#include "tables/dict.h"
#include "tables/domain_list.h"
#include "tables/maps.h"

/* Looks up the credentials (sender NULL or "": no sender lookup). On
 * DICT_FOUND user and password hold them and key the table key that
 * matched (for the log: never the value). */
enum dict_result smtp_sasl_find(struct maps *passwords, const char *sender,
                                const char *host, const char *dest,
                                struct buf *user, struct buf *password,
                                struct buf *key);

enum smtp_sasl_pick_result {
    SMTP_SASL_PICKED,      /* *mech is the mechanism to use */
    SMTP_SASL_NONE_OFFERED,/* nothing left after the filter */
    SMTP_SASL_NONE_ALLOWED,/* none we speak, or the options forbid them */
    SMTP_SASL_FILTER_ERROR,/* a table of the filter failed */
};

/* Picks a mechanism from offered (names as the server gave them) under
 * filter (NULL: none) and options (SASL_SEC_*). */
enum smtp_sasl_pick_result smtp_sasl_pick(const struct strlist *offered,
                                          struct domain_list *filter,
                                          unsigned options, const char **mech);

#endif
