/* imap_append.h: the APPEND command's arguments (RFC 3501 6.3.11),
 * with MULTIAPPEND (RFC 3502: several messages in one command) and
 * BINARY's literal8 (RFC 3516):
 *   APPEND mailbox 1*( [flag-list] [date-time] (literal / literal8) )
 * The mailbox is args[0], for imap_mailbox_name(). Message bytes and
 * keywords point into the command's token tree. */
#ifndef POSTERN_IMAP_APPEND_H
#define POSTERN_IMAP_APPEND_H

#include <stddef.h>
#include <time.h>

#include "imap/imap_arg.h"
#include "imap/imap_flags.h"

#define IMAP_APPEND_MESSAGES_MAX 1000

struct imap_append_message {
    struct imap_flag_list flags; /* \Recent refused */
    int has_date;                /* a date-time was given */
    time_t date;                 /* UTC */
    int zone_minutes;            /* its zone, for INTERNALDATE */
    const char *data;            /* the message */
    size_t len;
    int binary;                  /* sent as literal8: may hold NUL */
};

struct imap_append {
    struct imap_append_message *messages; /* owned */
    size_t count;
};

void imap_append_init(struct imap_append *append);
void imap_append_free(struct imap_append *append);

/* Parses args[1..count) (args[0] is the mailbox). 0, or -1 with
 * *error for "BAD <error>". */
int imap_append_parse(const struct imap_arg *args, size_t count,
                      struct imap_append *append, const char **error);

#endif
