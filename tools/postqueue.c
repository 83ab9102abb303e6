/* postqueue.c: list and flush the mail queue, as Postfix's postqueue.
 *
 *   postqueue [-v] [-c DIR] -p          the listing (mailq)
 *   postqueue [-v] [-c DIR] -j          one JSON object per message
 *   postqueue [-v] [-c DIR] -f          retry all deferred mail now
 *   postqueue [-v] [-c DIR] -s site     retry deferred mail for a site now
 *   postqueue [-v] [-c DIR] -i queue_id retry one message now
 *
 * The listing comes from the showq service, $queue_directory/public/showq
 * (lib/queue/queue_show.h), which checks authorized_mailq_users; root and
 * mail_owner read the queue directly when the mail system is down.
 * Flushing asks qmgr over $queue_directory/public/qmgr
 * (lib/queue/qmgr_trigger.h), which checks authorized_flush_users. A refusal,
 * or a mail system that is down, is reported with Postfix's text and
 * exit status 69 (EX_UNAVAILABLE), as Postfix does. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#include "base/tool.h"
#include "base/buf.h"
#include "config/config.h"
#include "base/log.h"
#include "queue/qid.h"
#include "queue/qmgr_trigger.h"
#include "queue/qtool.h"
#include "queue/queue_show.h"

#define TRIGGER_TIMEOUT_MS 5000

static void usage(void)
{
    tool_usage(EX_USAGE,
               "postqueue [-v] [-c config_dir] -f | -i queue_id "
                    "| -j | -p | -s site");
}

static int trigger(const char *queue_directory, const struct buf *request)
{
    struct buf err = BUF_INIT;
    struct qmgr_trigger_refusal refusal = {BUF_INIT, -1};
    enum qmgr_trigger_result result =
        qmgr_trigger_request(queue_directory, request->data, request->len,
                             TRIGGER_TIMEOUT_MS, &refusal, &err);
    switch (result) {
    case QMGR_TRIGGER_OK:
        break;
    case QMGR_TRIGGER_BUSY: /* qmgr has the request and will get to it */
        log_debug("%s", buf_cstr(&err));
        break;
    case QMGR_TRIGGER_REFUSED:
        /* Postfix's text; its postqueue exits 69 for every fatal error. */
        tool_fatal(EX_UNAVAILABLE,
                    "User %s(%ld) is not allowed to flush the mail queue",
                    buf_cstr(&refusal.user), refusal.uid);
    case QMGR_TRIGGER_DOWN:
        log_debug("%s", buf_cstr(&err));
        tool_fatal(EX_UNAVAILABLE,
                    "Cannot flush mail queue - mail system is down");
    case QMGR_TRIGGER_ERROR:
        tool_fatal(EX_UNAVAILABLE, "Cannot flush mail queue: %s",
                    buf_cstr(&err));
    }
    buf_free(&refusal.user);
    buf_free(&err);
    return 0;
}

int main(int argc, char **argv)
{
    qtool_init("postqueue");
    const char *config_dir = NULL, *site = NULL, *qid = NULL;
    int mode = 0, c;
    while ((c = getopt(argc, argv, "c:fi:jps:v")) != -1) {
        switch (c) {
        case 'c':
            config_dir = optarg;
            break;
        case 'f':
        case 'j':
        case 'p':
            if (mode && mode != c)
                usage();
            mode = c;
            break;
        case 'i':
            if (mode && mode != c)
                usage();
            mode = c;
            qid = optarg;
            break;
        case 's':
            if (mode && mode != c)
                usage();
            mode = c;
            site = optarg;
            break;
        case 'v':
            log_set_verbose(log_verbose_level() + 1);
            break;
        default:
            usage();
        }
    }
    if (mode == 0 || optind != argc)
        usage();
    const char *queue_directory = qtool_config(config_dir);
    struct buf request = BUF_INIT;
    int status = 0;
    switch (mode) {
    case 'p':
        status = queue_show(queue_directory, QUEUE_LIST_TEXT);
        break;
    case 'j':
        status = queue_show(queue_directory, QUEUE_LIST_JSON);
        break;
    case 'f': {
        /* Forget dead destinations and retry all of deferred/ now; also
         * look at incoming/ in case a trigger was lost. */
        char flush[] = {QMGR_TRIGGER_FLUSH, QMGR_TRIGGER_NEW_MAIL};
        buf_set(&request, flush, sizeof(flush));
        status = trigger(queue_directory, &request);
        break;
    }
    case 's':
        if (qmgr_trigger_site(&request, site) < 0)
            tool_fatal(EX_USAGE, "Invalid request: \"%s\"", site);
        status = trigger(queue_directory, &request);
        break;
    case 'i': {
        if (qmgr_trigger_message(&request, qid) < 0)
            tool_fatal(EX_USAGE, "Invalid request: \"%s\"", qid);
        /* When we can see the queue, refuse an id that is in no queue
         * qmgr works from; when we cannot (no permission), qmgr checks. */
        static const enum queue_name queues[] = {QUEUE_INCOMING, QUEUE_ACTIVE,
                                                 QUEUE_DEFERRED, QUEUE_HOLD};
        enum queue_name found;
        struct buf dir = BUF_INIT;
        queue_dir_path(&dir, queue_directory, QUEUE_DEFERRED);
        if (access(buf_cstr(&dir), R_OK | X_OK) == 0 &&
            qtool_find(queue_directory, qid, queues, 4, &found) < 0)
            tool_fatal(EX_USAGE, "Invalid request: \"%s\": no such message",
                        qid);
        if (access(buf_cstr(&dir), R_OK | X_OK) == 0 && found == QUEUE_HOLD)
            tool_fatal(EX_USAGE,
                        "%s: message is on hold; release it with postsuper -H",
                        qid);
        buf_free(&dir);
        status = trigger(queue_directory, &request);
        break;
    }
    }
    buf_free(&request);
    return status;
}
