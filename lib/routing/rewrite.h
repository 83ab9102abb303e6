/* rewrite.h: address rewriting as Postfix's cleanup and trivial-rewrite
 * do it, as library calls (smtpd calls them while it writes the queue
 * file; there is no cleanup daemon). See docs/addressing.md.
 *
 * Addresses are in internal form (address.h: local part unquoted, the
 * domain after the last '@'). The steps, in Postfix's order:
 *
 * 1. Canonical form (rewrite_canonical_form; trivial-rewrite's
 *    "canonicalize" in the local context): strip a source route
 *    (@a,@b:user@d -> user@d); for an address without '@', site!user ->
 *    user@site (swap_bangpath), else user%site -> user@site (rightmost
 *    '%', allow_percent_hack), else append @$myorigin
 *    (append_at_myorigin); append .$mydomain to a domain without a dot
 *    (append_dot_mydomain, default no); drop one trailing dot.
 * 2. Canonical maps, one-to-one (sender_canonical_maps or
 *    recipient_canonical_maps first, then canonical_maps, each only for
 *    the address classes its *_classes parameter names), repeated while
 *    the result changes, at most 10 times.
 * 3. For envelope recipients: virtual_alias_maps, one-to-many, recursive.
 *
 * Table lookups use Postfix's order (canonical(5), virtual(5)):
 * user+ext@domain, user@domain, then, only when domain is $myorigin or
 * local (mydestination, our interface literals), user+ext and user, then
 * @domain. Pattern tables (regexp:, pcre:) see only the full address.
 * The key is the address in external (quoted) form, then, when that
 * differs, in internal form. A result "@other" keeps the local part; a
 * bare result gets @$myorigin; with propagate_unmatched_extensions
 * (canonical, virtual) an extension that had to be dropped to match is
 * added to each result (user+ext -> alias+ext).
 *
 * A table error, a loop, or a limit reached is a temporary failure
 * ("4.6.0 Alias expansion error"), never "not found": the caller defers
 * (451 at SMTP time, deferred in qmgr). */
#ifndef POSTERN_REWRITE_H
#define POSTERN_REWRITE_H

#include "base/buf.h"
#include "tables/dict.h"
#include "tables/maps.h"
#include "base/str.h"

/* Settings, one field per main.cf parameter of the same name. Strings
 * are only read by rewrite_open (which copies what it keeps), so they
 * may point at cfg_str() results or literals. Lists are in main.cf
 * syntax. */
struct rewrite_settings {
    const char *myhostname;
    const char *myorigin;
    const char *mydomain;
    const char *mydestination;
    const char *inet_interfaces;
    const char *proxy_interfaces;
    int append_at_myorigin;
    int append_dot_mydomain;
    int swap_bangpath;
    int allow_percent_hack;
    const char *recipient_delimiter;
    const char *propagate_unmatched_extensions;
    const char *canonical_maps;
    const char *sender_canonical_maps;
    const char *recipient_canonical_maps;
    const char *canonical_classes;
    const char *sender_canonical_classes;
    const char *recipient_canonical_classes;
    const char *virtual_alias_maps;
    long virtual_alias_recursion_limit;
    long virtual_alias_expansion_limit;
    long virtual_alias_address_length_limit;
    const char *remote_header_rewrite_domain;
};

/* Fills s from the configuration (cfg_*). The strings stay valid until
 * the next config_load(). */
void rewrite_settings_from_config(struct rewrite_settings *s);

struct rewrite;

/* Opens the tables and lists. Returns NULL with the reason in err when a
 * list names an unreadable /file (tables that cannot be opened make
 * their lookups fail temporarily instead, see maps.h). */
struct rewrite *rewrite_open(const struct rewrite_settings *s, struct buf *err);
void rewrite_close(struct rewrite *rw);

/* Contexts for rewrite_canonical_form. */
#define REWRITE_LOCAL                                                          \
    0 /* envelope, and headers from local clients:                             \
         complete with $myorigin / $mydomain */
#define REWRITE_REMOTE                                                         \
    1 /* headers from other clients: complete with                             \
         $remote_header_rewrite_domain, or leave alone                         \
         when it is empty */

/* Step 1 above; replaces out. The empty address stays empty. */
void rewrite_canonical_form(struct rewrite *rw, const char *address,
                            int context, struct buf *out);

/* Address classes (canonical_classes and friends). */
#define REWRITE_ENVELOPE_SENDER 0x01
#define REWRITE_ENVELOPE_RECIPIENT 0x02
#define REWRITE_HEADER_SENDER 0x04
#define REWRITE_HEADER_RECIPIENT 0x08

/* The envelope sender: steps 1 and 2. The null sender stays null.
 * Returns 0, or -1 (temporary failure) with a reason ("4.6.0 ...") in
 * why; out then holds the address as far as it was rewritten. */
int rewrite_envelope_sender(struct rewrite *rw, const char *address,
                            struct buf *out, struct buf *why);

/* An envelope recipient: steps 1, 2 and 3. Appends the final recipients
 * to out (at least one on success, duplicates removed ignoring case).
 * Returns 0, or -1 with the reason in why (nothing appended). */
int rewrite_envelope_recipient(struct rewrite *rw, const char *address,
                               struct strlist *out, struct buf *why);

/* A header address (From:, To:, ...): step 1 in the given context and
 * step 2 for the header class. With REWRITE_REMOTE and no
 * remote_header_rewrite_domain the address is copied unchanged, as
 * Postfix leaves headers from remote clients alone. `sender` says
 * whether it is a sender header (From:, Sender:, Reply-To: ...).
 * Returns 0 or -1 as above. */
int rewrite_header_address(struct rewrite *rw, const char *address, int sender,
                           int context, struct buf *out, struct buf *why);

/* Step 3 alone, on an address already in canonical form: appends the
 * expansion to out (the address itself when no table matches). Returns
 * 0, or -1 with the reason in why. */
int rewrite_virtual_alias(struct rewrite *rw, const char *address,
                          struct strlist *out, struct buf *why);

/* Postfix's mail_addr_find: looks address up in maps in the order above.
 * On DICT_FOUND, value holds the table's value and, when extension is
 * not NULL, extension holds the delimiter and extension that had to be
 * dropped to match ("" when none). */
enum dict_result rewrite_addr_find(struct rewrite *rw, struct maps *maps,
                                   const char *address, struct buf *value,
                                   struct buf *extension);

/* Whether address matches canonical_maps, recipient_canonical_maps (for
 * envelope recipients) or virtual_alias_maps: reject_unlisted_recipient
 * counts such an address as known. 1, 0, or -1 (table error). */
int rewrite_recipient_is_mapped(struct rewrite *rw, const char *address);

/* Postfix's resolve_local: 1 when domain is local (mydestination or one
 * of our interface literals), 0 when not, -1 on a table error. */
int rewrite_local_domain(struct rewrite *rw, const char *domain);

/* The settings this object was opened with, for the resolver:
 * $myhostname, the recipient_delimiter characters, swap_bangpath and
 * allow_percent_hack. */
const char *rewrite_myhostname(const struct rewrite *rw);
const char *rewrite_delimiters(const struct rewrite *rw);
int rewrite_swap_bangpath(const struct rewrite *rw);
int rewrite_percent_hack(const struct rewrite *rw);

#endif
