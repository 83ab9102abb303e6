/* queue_list.h: the mail queue listing of `postqueue -p`, `mailq` and
 * `postqueue -j`, in Postfix's formats; the scan behind it is shared by
 * the showq daemon (which sends what it finds to the client, see
 * lib/queue/showq.h) and by postqueue's direct reading when the mail system
 * is down.
 *
 * Two halves:
 *   queue_list_scan    reads the queues and hands each message, as a
 *                      struct queue_list_entry, to a callback;
 *   queue_list_print   formats entries, from the scan or from showq,
 *                      into the listing or JSON lines.
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
 * Queues are scanned in the order incoming, active, deferred, hold, each
 * sorted by id (that is, by arrival time). A file that vanishes while it
 * is scanned is left out silently; one that fails to parse is left out
 * with a warning. */
#ifndef POSTERN_QUEUE_LIST_H
#define POSTERN_QUEUE_LIST_H

#include <stdint.h>
#include <stdio.h>

#include "base/buf.h"
#include "queue/queue_dirs.h"

enum queue_list_format { QUEUE_LIST_TEXT, QUEUE_LIST_JSON };

/* A recipient still to be delivered. delay_reason is NULL or "" when
 * defer/ID has none for it. */
struct queue_list_recipient {
    const char *address;
    const char *delay_reason;
};

/* One message as listed. The strings belong to whoever made the entry
 * and live as long as the callback or print call that receives it. */
struct queue_list_entry {
    enum queue_name queue; /* incoming, active, deferred or hold */
    const char *queue_id;
    uint64_t arrival_time; /* Unix seconds */
    uint64_t message_size; /* bytes of content */
    const char *sender;    /* "" for the null sender */
    const struct queue_list_recipient *recipients;
    size_t recipient_count;
};

/* What queue_list_scan calls. entry returns 0 to go on, -1 to stop the
 * scan (the reader went away). warning gets a text such as
 * "deferred/ID: corrupt queue file: ..." (may be NULL: warnings are
 * dropped). */
struct queue_list_scan_ops {
    int (*entry)(const struct queue_list_entry *entry, void *ctx);
    void (*warning)(const char *text, void *ctx);
    void *ctx;
};

/* Scans the queues under queue_directory. Returns 0; 1 when the entry
 * callback stopped it; -1 with err set when a queue directory cannot be
 * read at all (the other queues are still scanned). */
int queue_list_scan(const char *queue_directory,
                    const struct queue_list_scan_ops *ops, struct buf *err);

/* The formatter: one per listing. */
struct queue_list_printer {
    enum queue_list_format format;
    const char *empty_sender; /* how the null sender is shown */
    FILE *out;
    unsigned long count;
    unsigned long long total_size;
};

void queue_list_printer_init(struct queue_list_printer *p,
                             enum queue_list_format format,
                             const char *empty_sender, FILE *out);
/* Writes one message (the heading before the first, in text format). */
void queue_list_print(struct queue_list_printer *p,
                      const struct queue_list_entry *entry);
/* Writes the last line (text format) and flushes. */
void queue_list_print_end(struct queue_list_printer *p);

/* Scan and print in one: the listing of queue_directory to out, with
 * warnings on stderr and in the log (lib/queue/qtool). Returns 0, or -1 with
 * err set when a queue directory cannot be read at all (what was listed
 * is written, with the last line). */
int queue_list(const char *queue_directory, enum queue_list_format format,
               const char *empty_sender, FILE *out, struct buf *err);

/* Appends text as the contents of a JSON string (without the quotes). */
void queue_list_json_quote(struct buf *out, const char *text);

#endif
