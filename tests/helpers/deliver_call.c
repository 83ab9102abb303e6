/* deliver_call.c: sends deliver/1 requests to a delivery agent, as qmgr
 * does, for the agent tests.
 *
 *   deliver_call [-n COUNT] [-k] [-t TRANSPORT] [-h NEXTHOP] SOCKET
 *                QUEUE_DIRECTORY QUEUE QID [RCPT...]
 * Reads the envelope of QUEUE_DIRECTORY/QUEUE/QID, builds a request for
 * the named recipients (default: every recipient not yet done, in file
 * order) and sends it COUNT times (default 1) on one connection. For
 * each reply it prints one line per recipient:
 *   STATUS DSN RELAY REASON
 * and "eof" when the agent closed the connection instead of answering.
 * With -k, a recipient is named by file offset and address even when it
 * is already done (to test the agent's answer to a repeated request).
 * For tests of the agent's distrust of requests: -i ID sends another
 * queue id than the file read, -a ADDR another address for the first
 * recipient. -t and -h set the request's transport (default "test") and
 * next hop (default empty), for the smtp and lmtp client; -r marks the
 * request requiretls (RFC 8689), as qmgr does for such a message.
 * Exit status: 0 when every reply came, 1 otherwise. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ipc/attr.h"
#include "base/buf.h"
#include "delivery/deliver_req.h"
#include "base/mem.h"
#include "queue/qfile_reader.h"
#include "base/stream.h"

int main(int argc, char **argv)
{
    int count = 1, keep_done = 0, requiretls = 0, opt;
    const char *other_id = NULL, *other_addr = NULL;
    const char *transport = "test", *nexthop = "";
    while ((opt = getopt(argc, argv, "n:ki:a:t:h:r")) != -1) {
        if (opt == 'n')
            count = atoi(optarg);
        else if (opt == 'k')
            keep_done = 1;
        else if (opt == 'i')
            other_id = optarg;
        else if (opt == 'a')
            other_addr = optarg;
        else if (opt == 't')
            transport = optarg;
        else if (opt == 'h')
            nexthop = optarg;
        else if (opt == 'r')
            requiretls = 1;
        else
            return 2;
    }
    if (argc - optind < 4) {
        fprintf(stderr, "usage: deliver_call [-n COUNT] [-k] SOCKET QDIR "
                        "QUEUE QID [RCPT...]\n");
        return 2;
    }
    const char *sock = argv[optind], *qdir = argv[optind + 1],
               *queue = argv[optind + 2], *qid = argv[optind + 3];
    struct buf err = BUF_INIT, path = BUF_INIT;
    buf_appendf(&path, "%s/%s/%s", qdir, queue, qid);
    struct qfile_reader *r;
    struct qfile_envelope env;
    memset(&env, 0, sizeof(env));
    if (qfile_reader_open(buf_cstr(&path), 0, &r, &err) != QFILE_OK ||
        qfile_read_envelope(r, &env, &err) != QFILE_OK) {
        fprintf(stderr, "deliver_call: %s\n", buf_cstr(&err));
        return 1;
    }
    struct deliver_request req;
    memset(&req, 0, sizeof(req));
    req.queue_name = (char *)queue;
    req.queue_id = (char *)qid;
    req.transport = (char *)transport;
    req.nexthop = (char *)nexthop;
    req.sender = env.sender;
    req.arrival_time = (long long)env.arrival_sec;
    req.message_size = (long long)env.header.message_size;
    req.content_offset = (long long)env.header.content_offset;
    req.log_ident = (char *)qid;
    req.requiretls = requiretls;
    req.rcpts = xcalloc(env.recipient_count + 1, sizeof(*req.rcpts));
    for (size_t i = 0; i < env.recipient_count; i++) {
        const struct qfile_recipient *q = &env.recipients[i];
        int wanted = optind + 4 >= argc ? (!q->done || keep_done) : 0;
        for (int k = optind + 4; k < argc; k++)
            if (strcmp(argv[k], q->address) == 0)
                wanted = 1;
        if (!wanted)
            continue;
        struct deliver_rcpt *d = &req.rcpts[req.rcpt_count++];
        d->address = q->address;
        d->original = q->original;
        d->orcpt = q->orcpt;
        d->notify = q->notify;
        d->offset = q->offset;
    }
    if (req.rcpt_count == 0) {
        fprintf(stderr, "deliver_call: no recipients to deliver\n");
        return 1;
    }
    if (other_id)
        req.queue_id = (char *)other_id;
    if (other_addr)
        req.rcpts[0].address = (char *)other_addr;
    int fd = attr_connect(sock, 10000, &err);
    if (fd < 0) {
        fprintf(stderr, "deliver_call: %s\n", buf_cstr(&err));
        return 1;
    }
    struct stream *s = stream_open(fd);
    stream_set_timeout(s, 120 * 1000);
    struct attr_msg *msg = deliver_request_encode(&req);
    int rc = 0;
    for (int n = 0; n < count; n++) {
        if (attr_write(s, msg) != ATTR_OK) {
            printf("eof\n");
            rc = 1;
            break;
        }
        struct attr_msg *reply = NULL;
        enum attr_status st = attr_read(s, &deliver_attr_limits, &reply, &err);
        if (st != ATTR_OK) {
            printf("eof\n");
            rc = 1;
            break;
        }
        struct deliver_result *res;
        if (deliver_reply_parse(reply, req.rcpt_count, &res, &err) < 0) {
            fprintf(stderr, "deliver_call: bad reply: %s\n", buf_cstr(&err));
            return 1;
        }
        for (size_t i = 0; i < req.rcpt_count; i++)
            printf("%s %s %s %s\n", deliver_status_name(res[i].status),
                   res[i].dsn, res[i].relay, res[i].reason);
        /* "hop failed|throttled" after the results when the reply says
         * the destination was not reached well (deliver_req.h) */
        enum deliver_hop hop = deliver_reply_hop(reply);
        if (hop != DELIVER_HOP_OK)
            printf("hop %s\n",
                   hop == DELIVER_HOP_FAILED ? "failed" : "throttled");
        fflush(stdout);
        deliver_results_free(res, req.rcpt_count);
        attr_msg_free(reply);
    }
    attr_msg_free(msg);
    stream_close(s);
    free(req.rcpts);
    qfile_envelope_free(&env);
    qfile_reader_close(r);
    buf_free(&path);
    buf_free(&err);
    return rc;
}
