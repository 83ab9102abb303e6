/* imap_search.h: the SEARCH command's criteria as a tree (RFC 3501
 * 6.4.4, RFC 9051 6.4.4), with CHARSET, CONDSTORE's MODSEQ key
 * (RFC 7162), WITHIN's OLDER/YOUNGER (RFC 5032), SEARCHRES's "$"
 * (RFC 5182) and ESEARCH's RETURN options (RFC 4731).
 *
 * The top-level keys are the children of an AND root; NOT has one
 * child, OR two, a parenthesized list is an AND. Nesting (NOT, OR and
 * parentheses together) is bounded by IMAP_SEARCH_DEPTH_MAX and the
 * number of keys by IMAP_SEARCH_KEYS_MAX, so "NOT NOT NOT ..." cannot
 * exhaust the stack. Strings point into the command's token tree; they
 * are astrings and must be well-formed UTF-8 (the charsets accepted are
 * UTF-8 and US-ASCII, whose text is UTF-8 too). */
#ifndef POSTERN_IMAP_SEARCH_H
#define POSTERN_IMAP_SEARCH_H

#include <stddef.h>
#include <stdint.h>

#include "imap/imap_arg.h"
#include "imap/imap_date.h"
#include "imap/imap_seqset.h"

#define IMAP_SEARCH_DEPTH_MAX 64
#define IMAP_SEARCH_KEYS_MAX 1000

enum imap_search_op {
    /* no argument */
    IMAP_SEARCH_ALL,
    IMAP_SEARCH_ANSWERED,
    IMAP_SEARCH_DELETED,
    IMAP_SEARCH_DRAFT,
    IMAP_SEARCH_FLAGGED,
    IMAP_SEARCH_NEW,
    IMAP_SEARCH_OLD,
    IMAP_SEARCH_RECENT,
    IMAP_SEARCH_SEEN,
    IMAP_SEARCH_UNANSWERED,
    IMAP_SEARCH_UNDELETED,
    IMAP_SEARCH_UNDRAFT,
    IMAP_SEARCH_UNFLAGGED,
    IMAP_SEARCH_UNSEEN,
    /* str: a keyword */
    IMAP_SEARCH_KEYWORD,
    IMAP_SEARCH_UNKEYWORD,
    /* str: text to find */
    IMAP_SEARCH_BCC,
    IMAP_SEARCH_BODY,
    IMAP_SEARCH_CC,
    IMAP_SEARCH_FROM,
    IMAP_SEARCH_SUBJECT,
    IMAP_SEARCH_TEXT,
    IMAP_SEARCH_TO,
    IMAP_SEARCH_HEADER, /* field, and str (may be empty) */
    /* date */
    IMAP_SEARCH_BEFORE,
    IMAP_SEARCH_ON,
    IMAP_SEARCH_SINCE,
    IMAP_SEARCH_SENTBEFORE,
    IMAP_SEARCH_SENTON,
    IMAP_SEARCH_SENTSINCE,
    /* number */
    IMAP_SEARCH_LARGER,
    IMAP_SEARCH_SMALLER,
    IMAP_SEARCH_OLDER,   /* seconds (WITHIN) */
    IMAP_SEARCH_YOUNGER, /* seconds (WITHIN) */
    IMAP_SEARCH_MODSEQ,  /* number, and optionally the entry */
    /* set */
    IMAP_SEARCH_UID,
    IMAP_SEARCH_SEQSET,
    /* children */
    IMAP_SEARCH_NOT,
    IMAP_SEARCH_OR,
    IMAP_SEARCH_AND,
};

enum imap_search_entry_type {
    IMAP_SEARCH_ENTRY_NONE = 0,
    IMAP_SEARCH_ENTRY_PRIV,
    IMAP_SEARCH_ENTRY_SHARED,
    IMAP_SEARCH_ENTRY_ALL,
};

struct imap_search_key {
    enum imap_search_op op;
    const char *str;            /* text keys, KEYWORD, HEADER's value */
    size_t len;
    const char *field;          /* HEADER: the field name */
    size_t field_len;
    struct imap_date date;      /* date keys */
    uint64_t number;            /* LARGER, SMALLER, OLDER, YOUNGER, MODSEQ */
    struct imap_seqset set;     /* UID, SEQSET (set.searchres for "$") */
    const char *entry_flag;     /* MODSEQ "/flags/\\Seen": the flag part */
    size_t entry_flag_len;
    enum imap_search_entry_type entry_type;
    struct imap_search_key *children; /* owned */
    size_t child_count;
};

/* RETURN options (ESEARCH). */
#define IMAP_SEARCH_RETURN_MIN 0x01
#define IMAP_SEARCH_RETURN_MAX 0x02
#define IMAP_SEARCH_RETURN_ALL 0x04
#define IMAP_SEARCH_RETURN_COUNT 0x08
#define IMAP_SEARCH_RETURN_SAVE 0x10

struct imap_search {
    struct imap_search_key root; /* an AND */
    int has_return;              /* RETURN (...) was given */
    unsigned return_opts;        /* IMAP_SEARCH_RETURN_*; ALL for "()" */
    int uses_modseq;             /* a MODSEQ key: answer with (MODSEQ n) */
    int uses_searchres;          /* "$" somewhere */
    int error_no;                /* the error is a NO (BADCHARSET) */
    size_t key_count;
};

/* Flags for imap_search_parse(). */
#define IMAP_SEARCH_PARSE_RETURN 0x01 /* ESEARCH advertised: RETURN ok */

void imap_search_init(struct imap_search *search);
void imap_search_free(struct imap_search *search);

/* SEARCH's arguments (after "SEARCH"): [RETURN (...)] [CHARSET name]
 * key... 0, or -1 with *error: "BAD <error>", or when
 * search->error_no, "NO <error>" (an unknown charset, with its
 * [BADCHARSET (US-ASCII UTF-8)] response code). */
int imap_search_parse(const struct imap_arg *args, size_t count,
                      unsigned flags, struct imap_search *search,
                      const char **error);

#endif
