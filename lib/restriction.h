/* restriction.h: Postfix-style SMTP access restriction lists and access(5)
 * table results, parsed into plain data.
 *
 * A restriction list is what smtpd_client_restrictions and its siblings
 * hold: words such as permit_mynetworks or reject_unauth_destination,
 * some followed by a table (check_sender_access hash:/etc/access).
 * An access table's result is an action: OK, REJECT [text], DEFER
 * [text], HOLD [text], DISCARD [text], DUNNO, "NNN [X.Y.Z] text", or a
 * restriction list to evaluate in its place. Parsing is pure (no tables
 * are opened, no configuration is read), so the fuzz target and other
 * daemons can share it; smtpd evaluates the result (smtpd/smtpd_check.c).
 * See docs/smtpd.md for the list of restrictions and their replies. */
#ifndef POSTERN_RESTRICTION_H
#define POSTERN_RESTRICTION_H

#include <stddef.h>

#include "buf.h"
#include "str.h"

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
    ACCESS_UNSUPPORTED,  /* a known action we do not implement (WARN, ...):
                            logged by the caller and treated as DUNNO */
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
 * fails; malformed input yields ACCESS_BAD. */
void access_parse(const char *value, struct access_result *out);

/* 1 when text[0..] starts with an enhanced status code "D.D{1,3}.D{1,3}"
 * whose class is one of `classes` ("245"), followed by a space or the
 * end; *len gets its length. */
int access_dsn_prefix(const char *text, const char *classes, size_t *len);

#endif
