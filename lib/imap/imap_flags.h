/* imap_flags.h: message flags and keywords as IMAP sends them, and the
 * STORE command's arguments (RFC 3501 6.4.6, CONDSTORE's UNCHANGEDSINCE
 * from RFC 7162).
 *
 * A system flag is one of \Answered \Flagged \Deleted \Seen \Draft
 * (\Recent only where allow_recent says: never in STORE or APPEND); any
 * other backslash word is refused. A keyword is an atom of ATOM-CHARs
 * ("$Junk", "NonJunk", "$label1") of at most IMAP_KEYWORD_MAX bytes, the
 * limit Dovecot applies (mail_max_keyword_length). Parsed keywords point
 * into the command's token tree; duplicates (ignoring case, as keywords
 * compare) are dropped. */
#ifndef POSTERN_IMAP_FLAGS_H
#define POSTERN_IMAP_FLAGS_H

#include <stddef.h>
#include <stdint.h>

#include "imap/imap_arg.h"

#define IMAP_FLAG_ANSWERED 0x01
#define IMAP_FLAG_FLAGGED 0x02
#define IMAP_FLAG_DELETED 0x04
#define IMAP_FLAG_SEEN 0x08
#define IMAP_FLAG_DRAFT 0x10
#define IMAP_FLAG_RECENT 0x20

#define IMAP_KEYWORD_MAX 50
#define IMAP_KEYWORDS_PER_COMMAND_MAX 256

struct imap_keyword {
    const char *name; /* into the token tree; not NUL-terminated here */
    size_t len;
};

struct imap_flag_list {
    unsigned system; /* IMAP_FLAG_* */
    struct imap_keyword *keywords; /* owned array */
    size_t keyword_count;
};

/* Classifies one flag: 1 and *system_flag set for a system flag, 0 for a
 * valid keyword, -1 for anything else (or \Recent without
 * allow_recent). */
int imap_flag_classify(const char *text, size_t len, int allow_recent,
                       unsigned *system_flag);

/* The name of a system flag bit ("\\Seen"); NULL for none. */
const char *imap_flag_name(unsigned system_flag);

void imap_flag_list_init(struct imap_flag_list *flags);
void imap_flag_list_free(struct imap_flag_list *flags);

/* Adds each of args[0..count) (atoms) to flags. 0, or -1 with *error. */
int imap_flag_list_add(struct imap_flag_list *flags,
                       const struct imap_arg *args, size_t count,
                       int allow_recent, const char **error);

/* APPEND's optional flag list: a LIST arg. 0 or -1 with *error. */
int imap_flag_list_parse(const struct imap_arg *list, int allow_recent,
                         struct imap_flag_list *flags, const char **error);

enum imap_store_op {
    IMAP_STORE_REPLACE, /* FLAGS */
    IMAP_STORE_ADD,     /* +FLAGS */
    IMAP_STORE_REMOVE,  /* -FLAGS */
};

struct imap_store {
    enum imap_store_op op;
    int silent;                   /* .SILENT */
    int has_unchangedsince;       /* (UNCHANGEDSINCE n) was given */
    uint64_t unchangedsince;
    struct imap_flag_list flags;
};

void imap_store_init(struct imap_store *store);
void imap_store_free(struct imap_store *store);

/* STORE's arguments after the sequence set:
 *   [(UNCHANGEDSINCE n)] (+|-)FLAGS[.SILENT] (flag-list | flag *(SP flag))
 * An empty flag list is valid (FLAGS () clears them). 0, or -1 with
 * *error for "BAD <error>". */
int imap_store_parse(const struct imap_arg *args, size_t count,
                     struct imap_store *store, const char **error);

#endif
