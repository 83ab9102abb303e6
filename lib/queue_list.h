/* queue_list.h: the mail queue listing of `postqueue -p`, `mailq` and
 * `postqueue -j`, in Postfix's formats.
 *
 * Listing (Postfix's format for long queue ids, which is the shape of
 * every Postern id; `-- N Kbytes in M Requests.` or `Mail queue is
 * empty` at the end):
 *
 *   ----Queue ID----- --Size-- ---Arrival Time---- --Sender/Recipient------
 *   0TOXM6U5YKZz6JA9D*    1234 Mon Nov 23 01:44:54 sender@example.com
 *                                                  rcpt@example.org
 *
 * `*` after the id marks a message in active/, `!` one in hold/. A
 * recipient's deferral reason from defer/ID is shown in parentheses,
 * right-aligned, above the first recipient it applies to. Only
 * recipients still to be delivered are shown; the null sender is shown
 * as empty_address_recipient (MAILER-DAEMON).
 *
 * JSON (-j): one object per message per line, Postfix's field names:
 *   {"queue_name": "deferred", "queue_id": "...", "arrival_time": 1732321234,
 *    "message_size": 1234, "forced_expire": false, "sender": "...",
 *    "recipients": [{"address": "...", "delay_reason": "..."}]}
 * delay_reason is present only when there is one. Strings are valid
 * JSON: control characters are escaped, invalid UTF-8 becomes '?'.
 *
 * Queues are listed in the order incoming, active, deferred, hold, each
 * sorted by id (that is, by arrival time). A file that vanishes while it
 * is listed is left out silently; one that fails to parse is left out
 * with a warning on stderr. */
#ifndef POSTERN_QUEUE_LIST_H
#define POSTERN_QUEUE_LIST_H

#include <stdio.h>

#include "buf.h"

enum queue_list_format { QUEUE_LIST_TEXT, QUEUE_LIST_JSON };

/* Writes the listing of queue_directory to out. empty_sender is how the
 * null sender is shown. Returns 0, or -1 with err set when a queue
 * directory cannot be read at all (what was listed so far is written). */
int queue_list(const char *queue_directory, enum queue_list_format format,
               const char *empty_sender, FILE *out, struct buf *err);

/* Appends text as the contents of a JSON string (without the quotes). */
void queue_list_json_quote(struct buf *out, const char *text);

#endif
