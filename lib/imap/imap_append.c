/* imap_append.c: APPEND's arguments (see imap_append.h). */
#include "imap/imap_append.h"

#include <stdlib.h>
#include <string.h>

#include "base/mem.h"
#include "imap/imap_date.h"

void imap_append_init(struct imap_append *append)
{
    memset(append, 0, sizeof(*append));
}

void imap_append_free(struct imap_append *append)
{
    for (size_t i = 0; i < append->count; i++)
        imap_flag_list_free(&append->messages[i].flags);
    free(append->messages);
    memset(append, 0, sizeof(*append));
}

int imap_append_parse(const struct imap_arg *args, size_t count,
                      struct imap_append *append, const char **error)
{
    size_t i = 1;
    imap_append_free(append);
    if (count < 2) {
        *error = "Missing APPEND arguments";
        return -1;
    }
    while (i < count) {
        if (append->count == IMAP_APPEND_MESSAGES_MAX) {
            *error = "Too many messages in one APPEND";
            goto fail;
        }
        append->messages = xreallocarray(append->messages, append->count + 1,
                                         sizeof(*append->messages));
        struct imap_append_message *msg = &append->messages[append->count++];
        memset(msg, 0, sizeof(*msg));
        if (args[i].type == IMAP_ARG_LIST) {
            if (imap_flag_list_parse(&args[i], 0, &msg->flags, error) != 0)
                goto fail;
            i++;
        }
        if (i < count && args[i].type == IMAP_ARG_QUOTED) {
            if (imap_date_time_parse(args[i].str, args[i].len, &msg->date,
                                     &msg->zone_minutes) != 0) {
                *error = "Invalid date-time";
                goto fail;
            }
            msg->has_date = 1;
            i++;
        }
        if (i >= count || (args[i].type != IMAP_ARG_LITERAL &&
                           args[i].type != IMAP_ARG_LITERAL8)) {
            *error = "Missing message literal";
            goto fail;
        }
        msg->data = args[i].str;
        msg->len = args[i].len;
        msg->binary = args[i].type == IMAP_ARG_LITERAL8;
        i++;
    }
    return 0;
fail:
    imap_append_free(append);
    return -1;
}
