/* addrlist.h: RFC 5322 address lists as found in To:, Cc:, Bcc:, From:,
 * Reply-To: and Sender: headers, for `sendmail -t` and for rewriting.
 *
 * Understands display names (atoms and quoted strings, obs-phrase dots),
 * angle addresses, comments (nested, dropped), groups ("team: a@x, b@y;"
 * and "undisclosed-recipients:;"), quoted local parts, domain literals,
 * source routes inside angle brackets (<@a,@b:user@c>, ignored, as RFC
 * 5322's obs-route), empty list items ("a@x, , b@y") and header folding.
 * A bare local part ("root") is accepted and reported without
 * ADDRESS_INFO_DOMAIN, so the caller can append myorigin as Postfix does.
 * Anything else malformed fails the whole list with a reason: a list we
 * cannot read is not guessed at. */
#ifndef POSTERN_ADDRLIST_H
#define POSTERN_ADDRLIST_H

#include <stddef.h>

#include "base/buf.h"

#define ADDRLIST_INPUT_MAX (1024 * 1024) /* bytes of header value */
#define ADDRLIST_ENTRIES_MAX 10000       /* addresses in one list */
#define ADDRLIST_COMMENT_DEPTH 32        /* nesting of (comments) */
/* Words and specials in one list: room for 16 per address, so memory
 * stays proportional to what a real list needs, not to its bytes. */
#define ADDRLIST_TOKENS_MAX (16 * ADDRLIST_ENTRIES_MAX)

struct addrlist_entry {
    char *address; /* internal form (see address.h) */
    char *display; /* display name, unquoted; "" when none */
    char *group;   /* name of the enclosing group, or NULL */
    unsigned info; /* ADDRESS_INFO_* facts about the address */
    /* Where the address stands in the text given to addrlist_parse, so
     * it can be replaced in place (lib/message/header_rewrite): from its first
     * to its last byte, quotes and brackets of a domain literal
     * included; for <angle> addresses the text between the brackets
     * (a source route included, whitespace around it not); anything
     * between those bytes (folding, a comment inside the address) is
     * part of the span. */
    size_t offset, length;
};

struct addrlist {
    struct addrlist_entry *items;
    size_t count;
    size_t cap;
};

void addrlist_init(struct addrlist *list);
void addrlist_free(struct addrlist *list);

/* Parses the value of an address header (after "To:", folded or not)
 * and appends its addresses to `list`. `flags` takes ADDRESS_FLAG_UTF8
 * (RFC 6532 headers). Returns 0, or -1 with a reason in `why` (may be
 * NULL); on failure nothing is appended. */
int addrlist_parse(const char *text, size_t len, unsigned flags,
                   struct addrlist *list, struct buf *why);

#endif
