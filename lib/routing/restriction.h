/* restriction.h: Postfix-style SMTP access restriction lists and access(5)
 * table results, parsed into plain data.
 *
 * A restriction list is what smtpd_client_restrictions and its siblings
 * hold: words such as permit_mynetworks or reject_unauth_destination,
 * some followed by a table (check_sender_access hash:/etc/access).
 * An access table's result is an action: OK, REJECT [text], DEFER
 * [text], HOLD [text], DISCARD [text], DUNNO, "NNN [X.Y.Z] text", WARN
 * and INFO [text], PREPEND header: value, REDIRECT and BCC user@domain,
 * FILTER transport:destination, or a restriction list to evaluate in
 * its place. local_header_rewrite_clients is parsed here too. Parsing is
 * pure (no tables are opened, no configuration is read), so the fuzz
 * target and other daemons can share it; smtpd evaluates the result
 * (smtpd/smtpd_check.c, smtpd_actions.c, smtpd_header.c). See
 * docs/smtpd.md for the list of restrictions and their replies. */
#ifndef POSTERN_RESTRICTION_H
#define POSTERN_RESTRICTION_H

#include <stddef.h>

#include "base/buf.h"
#include "base/str.h"

enum restriction_kind {
    RESTR_PERMIT,
    RESTR_REJECT,
    RESTR_DEFER,
    RESTR_PERMIT_MYNETWORKS,
    RESTR_PERMIT_SASL_AUTHENTICATED,
    RESTR_REJECT_UNAUTH_DESTINATION,
    RESTR_DEFER_UNAUTH_DESTINATION,
    RESTR_PERMIT_AUTH_DESTINATION,
    RESTR_REJECT_UNLISTED_RECIPIENT,
    RESTR_REJECT_UNLISTED_SENDER,
    RESTR_REJECT_UNKNOWN_RECIPIENT_DOMAIN,
    RESTR_REJECT_UNKNOWN_SENDER_DOMAIN,
    RESTR_REJECT_NON_FQDN_SENDER,
    RESTR_REJECT_NON_FQDN_RECIPIENT,
    RESTR_REJECT_NON_FQDN_HELO_HOSTNAME,
    RESTR_REJECT_INVALID_HELO_HOSTNAME,
    RESTR_REJECT_UNKNOWN_HELO_HOSTNAME,
    RESTR_CHECK_CLIENT_ACCESS, /* these four take a table */
    RESTR_CHECK_HELO_ACCESS,
    RESTR_CHECK_SENDER_ACCESS,
    RESTR_CHECK_RECIPIENT_ACCESS,
    /* smtpd_sender_login_maps: the sender must be owned by the SASL
     * login (authenticated), must not be one that needs a login
     * (unauthenticated), or both; "known": only senders in the map. */
    RESTR_REJECT_SENDER_LOGIN_MISMATCH,
    RESTR_REJECT_KNOWN_SENDER_LOGIN_MISMATCH,
    RESTR_REJECT_AUTHENTICATED_SENDER_LOGIN_MISMATCH,
    RESTR_REJECT_UNAUTHENTICATED_SENDER_LOGIN_MISMATCH,
    /* SPF (docs/spf.md): act on the MAIL FROM result, or the HELO one. */
    RESTR_REJECT_SPF_FAIL,
    RESTR_REJECT_SPF_SOFTFAIL,
    RESTR_REJECT_SPF_PERMERROR,
    RESTR_DEFER_SPF_TEMPERROR,
    RESTR_REJECT_SPF_HELO_FAIL,
};

struct restriction {
    enum restriction_kind kind;
    char *table; /* "type:name" for the check_*_access kinds, else NULL */
};

struct restriction_list {
    struct restriction *items;
    size_t count;
};

/* Parses the words of a list (as cfg_list or str_split_list give them).
 * Returns 0, or -1 with err naming the first unknown word or a
 * check_*_access without a table; out is then empty. Old names are
 * accepted as Postfix does (reject_unknown_hostname = ..._helo_hostname,
 * reject_non_fqdn_hostname, reject_invalid_hostname, check_recipient_maps
 * = reject_unlisted_recipient). */
int restriction_list_parse(const struct strlist *words,
                           struct restriction_list *out, struct buf *err);
void restriction_list_free(struct restriction_list *list);

/* The canonical name of a kind ("permit_mynetworks"). */
const char *restriction_name(enum restriction_kind kind);

enum access_action {
    ACCESS_OK,           /* OK, or an all-numeric result: permit */
    ACCESS_DUNNO,        /* go on with the next restriction */
    ACCESS_REJECT,       /* REJECT [text] */
    ACCESS_DEFER,        /* DEFER [text] */
    ACCESS_CODE,         /* NNN [X.Y.Z] text (4NN or 5NN) */
    ACCESS_HOLD,         /* HOLD [text]: accept, put in hold/ */
    ACCESS_DISCARD,      /* DISCARD [text]: accept, drop */
    ACCESS_RESTRICTIONS, /* a restriction list in place of an action */
    ACCESS_WARN,         /* WARN [text]: log "warn: ...", go on */
    ACCESS_INFO,         /* INFO [text]: log "info: ...", go on */
    ACCESS_PREPEND,      /* PREPEND name: value (text: the header) */
    ACCESS_REDIRECT,     /* REDIRECT user@domain (text: the address) */
    ACCESS_BCC,          /* BCC user@domain (text: the address) */
    ACCESS_FILTER,       /* FILTER transport:destination */
    ACCESS_DEFER_IF_REJECT, /* DEFER_IF_REJECT [text]: a later reject
                               becomes this deferral */
    ACCESS_DEFER_IF_PERMIT, /* DEFER_IF_PERMIT [text]: a later permit
                               (explicit or implicit) becomes it */
    ACCESS_UNSUPPORTED,  /* a known action we do not implement: logged by
                            the caller and treated as DUNNO (none now) */
    ACCESS_BAD,          /* malformed (e.g. 2NN or 6NN code) */
};

struct access_result {
    enum access_action action;
    int code;         /* ACCESS_CODE: the code; 0 otherwise */
    char dsn[12];     /* "5.7.1" when the text began with one; else "" */
    const char *text; /* the optional text (points into the value; "" when
                         none), after any code and enhanced status */
};

/* Parses an access table value (trailing whitespace ignored). Never
 * fails; malformed input yields ACCESS_BAD. The arguments of PREPEND,
 * REDIRECT, BCC and FILTER are not checked here: see the functions
 * below (Postfix logs a bad one and goes on, so the caller must too). */
void access_parse(const char *value, struct access_result *out);

/* The longest header PREPEND may add: one line of RFC 5322's 998. */
#define ACCESS_PREPEND_MAX 998

/* PREPEND's argument: "name: value" on one line, name as header.h's
 * header_name_length reads one, at most ACCESS_PREPEND_MAX bytes, no
 * control characters other than tab. 1 when valid, else 0 with the
 * reason in why (may be NULL). */
int access_prepend_valid(const char *text, struct buf *why);

/* REDIRECT's and BCC's argument: one address "user@domain" (angle
 * brackets allowed), parsed into its internal form in `address`. 1 when
 * valid, else 0 with the reason in why (may be NULL). */
int access_target_parse(const char *text, struct buf *address, struct buf *why);

/* FILTER's argument and content_filter: "transport:destination", the
 * transport a master.cf service name (letters, digits, '.', '_', '-'),
 * the destination possibly empty ([host]:port, a domain, ...) and free
 * of spaces and control characters. 1 when valid, else 0 with the reason
 * in why (may be NULL). */
int access_filter_valid(const char *text, struct buf *why);

/* local_header_rewrite_clients: who counts as a local client for header
 * address rewriting. Postfix's words, plus a bare "type:table", which
 * means check_address_map type:table (static:all, for instance). */
enum restriction_client_kind {
    RESTR_CLIENT_INET_INTERFACES,     /* permit_inet_interfaces */
    RESTR_CLIENT_MYNETWORKS,          /* permit_mynetworks */
    RESTR_CLIENT_SASL_AUTHENTICATED,  /* permit_sasl_authenticated */
    RESTR_CLIENT_TLS_CLIENTCERTS,     /* permit_tls_clientcerts */
    RESTR_CLIENT_TLS_ALL_CLIENTCERTS, /* permit_tls_all_clientcerts */
    RESTR_CLIENT_ADDRESS_MAP,         /* check_address_map type:table */
};

struct restriction_client {
    enum restriction_client_kind kind;
    char *table; /* RESTR_CLIENT_ADDRESS_MAP: "type:name"; else NULL */
};

struct restriction_client_list {
    struct restriction_client *items;
    size_t count;
};

/* Parses the words of local_header_rewrite_clients. Entries it does not
 * know (and check_address_map without a table) are left out and each
 * is described in err ("; "-separated). Returns the number left out
 * (0: the whole list was understood). */
size_t restriction_client_list_parse(const struct strlist *words,
                                     struct restriction_client_list *out,
                                     struct buf *err);
void restriction_client_list_free(struct restriction_client_list *list);

/* 1 when text[0..] starts with an enhanced status code "D.D{1,3}.D{1,3}"
 * whose class is one of `classes` ("245"), followed by a space or the
 * end; *len gets its length. */
int access_dsn_prefix(const char *text, const char *classes, size_t *len);

#endif
