/* address.h: mail address syntax: RFC 5321 mailboxes (SMTP envelopes),
 * internal vs external (quoted) forms, routing-operator detection for
 * relay control, recipient_delimiter splitting, and domain/hostname
 * validation for the reject_non_fqdn_* and reject_invalid_* checks.
 * RFC 5322 header address lists live in addrlist.h.
 *
 * Forms. The INTERNAL form of an address is what Postfix calls internal:
 * the local part unquoted ("john doe@example.com", a"b@x), the domain as
 * written. It is what tables are keyed on and what the queue stores. The
 * EXTERNAL form is what goes on the wire: the local part quoted when it is
 * not a dot-atom ("\"john doe\"@example.com"). The domain of an address is
 * what follows its LAST '@' (a quoted "@" inside the local part stays in
 * the local part), so "user@other"@ours and user@other@ours both have the
 * local part user@other and the domain ours.
 *
 * Everything here is pure: no configuration, no logging, no I/O. Every
 * parser bounds its input and fails closed with a reason in `why`.
 * See docs/addresses.md for the rules and where we follow Postfix. */
#ifndef POSTERN_ADDRESS_H
#define POSTERN_ADDRESS_H

#include <stddef.h>

#include "base/buf.h"

/* Bounds. RFC 5321 says 64 octets of local part; real VERP and SRS
 * addresses exceed that and Postfix enforces no limit, so we allow more
 * but still bound it. DNS bounds the domain. */
#define ADDRESS_LOCAL_MAX 255  /* bytes of local part (internal form) */
#define ADDRESS_DOMAIN_MAX 255 /* bytes of domain */
#define ADDRESS_LABEL_MAX 63   /* bytes of one ASCII domain label */
#define ADDRESS_MAX 512        /* bytes of a whole internal address */

/* Flags for address_parse_mailbox(). */
#define ADDRESS_FLAG_UTF8 0x01 /* accept UTF-8 (SMTPUTF8, RFC 6531) */
#define ADDRESS_FLAG_BARE 0x02 /* accept a local part without @domain */
/* Postfix leniency: accept more than one unquoted '@' (user@other@ours),
 * splitting at the last one; the extra '@' then belongs to the local part
 * and address_routing() reports it. Without it such input is an error. */
#define ADDRESS_FLAG_MULTI_AT 0x04

/* Facts reported by address_parse_mailbox() in *info. */
#define ADDRESS_INFO_DOMAIN 0x01  /* has @domain */
#define ADDRESS_INFO_LITERAL 0x02 /* domain is an address literal [..] */
#define ADDRESS_INFO_UTF8 0x04    /* contains non-ASCII bytes */
#define ADDRESS_INFO_QUOTED 0x08  /* local part was a quoted string */

/* Parses an RFC 5321 Mailbox (no angle brackets, no source route):
 * Local-part "@" (Domain / address-literal), where Local-part is a
 * dot-string or a quoted string with backslash escapes. On success writes
 * the internal form to `internal` (replacing its contents), sets *info
 * (may be NULL) and returns 0. On failure returns -1 and writes a short
 * reason to `why` (may be NULL). `text` need not be NUL-terminated. */
int address_parse_mailbox(const char *text, size_t len, unsigned flags,
                          struct buf *internal, unsigned *info,
                          struct buf *why);

/* Splits an internal address at its last '@'. `local` gets the local
 * part; `domain` gets the domain, or is emptied when there is no '@'.
 * Returns 1 when there was an '@', 0 when not. Either output may be NULL. */
int address_split(const char *internal, struct buf *local,
                  struct buf *domain);
/* The domain of an internal address (after the last '@'), or NULL. */
const char *address_domain(const char *internal);

/* Appends the external form of an internal local part to `out`: as is
 * when it is a valid dot-atom (UTF-8 allowed), else in double quotes with
 * '"' and '\' escaped, as Postfix's quote_822_local does. An empty local
 * part becomes "". */
void address_quote_local(const char *local, size_t len, struct buf *out);
/* Replaces `out` with the external form of a whole internal address:
 * the local part (before the last '@') quoted as needed, then @domain.
 * The empty address (null sender) stays empty. */
void address_externalize(const char *internal, struct buf *out);

/* Routing operators in an address, as seen by relay control. Postfix
 * flags these "routed" and, with allow_untrusted_routing = no, never
 * treats such an address as local for reject_unauth_destination: the
 * next hop would strip our domain and relay to "other". */
#define ADDRESS_ROUTE_AT 0x01      /* user@other@ours, "user@other"@ours */
#define ADDRESS_ROUTE_PERCENT 0x02 /* user%other@ours */
#define ADDRESS_ROUTE_BANG 0x04    /* other!user@ours (UUCP) */
#define ADDRESS_ROUTE_SOURCE 0x08  /* @ours:user@other (RFC 821 route) */

/* Returns the ADDRESS_ROUTE_* operators found in the local part of an
 * internal address (0 when none). An internal address that begins with
 * "@...:" is a source route that was not stripped. */
unsigned address_routing(const char *internal);

/* Splits a local part at the first of the recipient_delimiter characters
 * in `delimiters` (several allowed, e.g. "+-"), as Postfix does: no split
 * when the delimiter is the first character or absent, nor for
 * postmaster, MAILER-DAEMON, and, when '-' is a delimiter, owner-* and
 * *-request. On a split writes the base (user) and the extension (tag,
 * without the delimiter), sets *delimiter (may be NULL) and returns 1;
 * otherwise copies the local part to `base`, empties `extension` and
 * returns 0. Case of the input is kept. */
int address_split_delimiter(const char *local, const char *delimiters,
                            struct buf *base, struct buf *extension,
                            char *delimiter);

/* Domain checks. These take a domain without the '@'. */

/* A hostname in DNS syntax: labels of letters, digits, '-' and '_' (as
 * Postfix's valid_hostname; '_' occurs in real names), no label starting
 * or ending with '-', labels 1..63 bytes, total <= 255, no empty label,
 * not all-numeric (that is an address, not a name). One trailing dot is
 * NOT accepted here; callers that allow it strip it first. With
 * ADDRESS_FLAG_UTF8, labels may also hold well-formed UTF-8. */
int address_valid_hostname(const char *name, unsigned flags);
/* An address literal: "[1.2.3.4]" or "[IPv6:...]" with a valid address
 * (inet_pton). General-address-literals (tag:content) are refused. */
int address_valid_literal(const char *text);
/* A bare IPv4 or IPv6 address (no brackets). */
int address_valid_ip(const char *text);
/* A domain valid in a mail address: a hostname or an address literal. */
int address_valid_domain(const char *domain, unsigned flags);
/* True when `domain` is fully qualified for reject_non_fqdn_sender/
 * recipient: a valid hostname containing a dot, or an address literal. */
int address_domain_is_fqdn(const char *domain);

/* HELO/EHLO argument checks, following Postfix's
 * reject_invalid_helo_hostname (a hostname, an address literal, or a bare
 * IP address; one trailing dot tolerated) and
 * reject_non_fqdn_helo_hostname (a hostname with a dot, or a literal). */
int address_helo_valid(const char *helo);
int address_helo_is_fqdn(const char *helo);


#endif
