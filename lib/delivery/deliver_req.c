/* deliver_req.c: encoding and decoding of deliver/1 requests and replies
 * (deliver_req.h, docs/mail-flow.md). */
#include "delivery/deliver_req.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "message/dsn.h"
#include "base/mem.h"
#include "queue/qfile.h"
#include "queue/qid.h"

const struct attr_limits deliver_attr_limits = {
    .max_attrs = 32 + 6 * DELIVER_MAX_RCPT,
    .max_name = 64,
    .max_value = 64 * 1024,
    .max_message = 8 * 1024 * 1024,
};

static char *opt_copy(struct attr_msg *msg, const char *name, struct buf *err,
                      int *bad)
{
    const char *value = attr_opt_str(msg, name, "");
    if (value == NULL) {
        buf_appendf(err, "attribute %s is not a text string", name);
        *bad = 1;
        return xstrdup("");
    }
    return xstrdup(value);
}

static long long opt_num(struct attr_msg *msg, const char *name,
                         struct buf *err, int *bad)
{
    const struct attr *a = attr_find(msg, name);
    if (a == NULL)
        return 0;
    if (a->type != ATTR_NUM || a->num < 0) {
        buf_appendf(err, "attribute %s is not a non-negative number", name);
        *bad = 1;
        return 0;
    }
    return a->num;
}

int deliver_request_parse(struct attr_msg *msg, struct deliver_request *req,
                          struct buf *err)
{
    memset(req, 0, sizeof(*req));
    if (attr_check_proto(msg, DELIVER_PROTO, DELIVER_VERSION, err) < 0)
        return -1;
    const char *s;
    if (attr_get_str(msg, "queue_name", &s, NULL, err) < 0)
        return -1;
    req->queue_name = xstrdup(s);
    if (attr_get_str(msg, "queue_id", &s, NULL, err) < 0)
        return -1;
    req->queue_id = xstrdup(s);
    if (!qid_valid(req->queue_id)) {
        buf_appendf(err, "invalid queue_id");
        return -1;
    }
    if (attr_get_str(msg, "sender", &s, NULL, err) < 0)
        return -1;
    req->sender = xstrdup(s);
    int bad = 0;
    req->transport = opt_copy(msg, "transport", err, &bad);
    req->nexthop = opt_copy(msg, "nexthop", err, &bad);
    req->encoding = opt_copy(msg, "encoding", err, &bad);
    req->dsn_envid = opt_copy(msg, "dsn_envid", err, &bad);
    req->dsn_ret = opt_copy(msg, "dsn_ret", err, &bad);
    req->client_name = opt_copy(msg, "client_name", err, &bad);
    req->client_address = opt_copy(msg, "client_address", err, &bad);
    req->log_ident = opt_copy(msg, "log_ident", err, &bad);
    req->arrival_time = opt_num(msg, "arrival_time", err, &bad);
    req->message_size = opt_num(msg, "message_size", err, &bad);
    req->content_offset = opt_num(msg, "content_offset", err, &bad);
    req->smtputf8 = opt_num(msg, "smtputf8", err, &bad) != 0;
    req->requiretls = opt_num(msg, "requiretls", err, &bad) != 0;
    if (bad)
        return -1;
    if (req->log_ident[0] == 0) {
        free(req->log_ident);
        req->log_ident = xstrdup(req->queue_id);
    }
    long long count;
    if (attr_get_num(msg, "rcpt_count", &count, err) < 0)
        return -1;
    if (count < 1 || count > DELIVER_MAX_RCPT) {
        buf_appendf(err, "rcpt_count %lld out of range 1..%d", count,
                    DELIVER_MAX_RCPT);
        return -1;
    }
    req->rcpts = xcalloc((size_t)count, sizeof(*req->rcpts));
    for (size_t i = 0; i < (size_t)count; i++) {
        struct deliver_rcpt *r = &req->rcpts[i];
        req->rcpt_count = i + 1; /* so free() sees what was filled */
        char name[64];
        snprintf(name, sizeof(name), "rcpt_address_%zu", i);
        if (attr_get_str(msg, name, &s, NULL, err) < 0)
            return -1;
        r->address = xstrdup(s);
        snprintf(name, sizeof(name), "rcpt_original_%zu", i);
        r->original = opt_copy(msg, name, err, &bad);
        snprintf(name, sizeof(name), "rcpt_orcpt_%zu", i);
        r->orcpt = opt_copy(msg, name, err, &bad);
        snprintf(name, sizeof(name), "rcpt_notify_%zu", i);
        long long notify = opt_num(msg, name, err, &bad);
        if (!bad && !qfile_notify_ok((unsigned)notify)) {
            buf_appendf(err, "attribute %s has invalid bits", name);
            return -1;
        }
        r->notify = (unsigned)notify;
        snprintf(name, sizeof(name), "rcpt_offset_%zu", i);
        long long offset;
        if (attr_get_num(msg, name, &offset, err) < 0)
            return -1;
        if (offset <= 0) {
            buf_appendf(err, "attribute %s out of range", name);
            return -1;
        }
        r->offset = (uint64_t)offset;
        if (bad)
            return -1;
    }
    return 0;
}

void deliver_request_free(struct deliver_request *req)
{
    free(req->queue_name);
    free(req->queue_id);
    free(req->transport);
    free(req->nexthop);
    free(req->sender);
    free(req->encoding);
    free(req->dsn_envid);
    free(req->dsn_ret);
    free(req->client_name);
    free(req->client_address);
    free(req->log_ident);
    for (size_t i = 0; i < req->rcpt_count; i++) {
        free(req->rcpts[i].address);
        free(req->rcpts[i].original);
        free(req->rcpts[i].orcpt);
    }
    free(req->rcpts);
    memset(req, 0, sizeof(*req));
}

static const char *nz(const char *s)
{
    return s ? s : "";
}

struct attr_msg *deliver_request_encode(const struct deliver_request *req)
{
    struct attr_msg *msg = attr_msg_new(DELIVER_PROTO, DELIVER_VERSION);
    attr_add_str(msg, "queue_name", nz(req->queue_name));
    attr_add_str(msg, "queue_id", nz(req->queue_id));
    attr_add_str(msg, "transport", nz(req->transport));
    attr_add_str(msg, "nexthop", nz(req->nexthop));
    attr_add_str(msg, "sender", nz(req->sender));
    attr_add_num(msg, "arrival_time", req->arrival_time);
    attr_add_num(msg, "message_size", req->message_size);
    attr_add_num(msg, "content_offset", req->content_offset);
    attr_add_str(msg, "encoding", nz(req->encoding));
    attr_add_num(msg, "smtputf8", req->smtputf8);
    if (req->requiretls)
        attr_add_num(msg, "requiretls", 1);
    attr_add_str(msg, "dsn_envid", nz(req->dsn_envid));
    attr_add_str(msg, "dsn_ret", nz(req->dsn_ret));
    attr_add_str(msg, "client_name", nz(req->client_name));
    attr_add_str(msg, "client_address", nz(req->client_address));
    attr_add_str(msg, "log_ident", nz(req->log_ident));
    attr_add_num(msg, "rcpt_count", (long long)req->rcpt_count);
    for (size_t i = 0; i < req->rcpt_count; i++) {
        const struct deliver_rcpt *r = &req->rcpts[i];
        char name[64];
        snprintf(name, sizeof(name), "rcpt_address_%zu", i);
        attr_add_str(msg, name, nz(r->address));
        snprintf(name, sizeof(name), "rcpt_original_%zu", i);
        attr_add_str(msg, name, nz(r->original));
        snprintf(name, sizeof(name), "rcpt_orcpt_%zu", i);
        attr_add_str(msg, name, nz(r->orcpt));
        snprintf(name, sizeof(name), "rcpt_notify_%zu", i);
        attr_add_num(msg, name, r->notify);
        snprintf(name, sizeof(name), "rcpt_offset_%zu", i);
        attr_add_num(msg, name, (long long)r->offset);
    }
    return msg;
}

const char *deliver_status_name(enum deliver_status status)
{
    switch (status) {
    case DELIVER_SENT:
        return "sent";
    case DELIVER_DEFERRED:
        return "deferred";
    case DELIVER_BOUNCED:
        return "bounced";
    }
    return "?";
}

int deliver_status_parse(const char *name)
{
    if (strcmp(name, "sent") == 0)
        return DELIVER_SENT;
    if (strcmp(name, "deferred") == 0)
        return DELIVER_DEFERRED;
    if (strcmp(name, "bounced") == 0)
        return DELIVER_BOUNCED;
    return -1;
}

/* NAME_i = "TYPE; VALUE", when both are set. */
static void add_typed(struct attr_msg *msg, const char *prefix, size_t i,
                      const char *type, const char *value)
{
    if (type == NULL || value == NULL || *type == '\0' || *value == '\0')
        return;
    char name[64];
    snprintf(name, sizeof(name), "%s_%zu", prefix, i);
    struct buf text = BUF_INIT;
    buf_appendf(&text, "%s; %s", type, value);
    attr_add_str(msg, name, buf_cstr(&text));
    buf_free(&text);
}

/* Reads NAME_i = "TYPE; VALUE" when present; anything else is ignored
 * (the fields only add detail to a notice). */
static void get_typed(struct attr_msg *msg, const char *prefix, size_t i,
                      char **type, char **value)
{
    char name[64];
    snprintf(name, sizeof(name), "%s_%zu", prefix, i);
    const char *text = attr_opt_str(msg, name, "");
    const char *sep = text ? strstr(text, "; ") : NULL;
    if (sep == NULL || sep == text || sep[2] == '\0')
        return;
    *type = xstrndup(text, (size_t)(sep - text));
    *value = xstrdup(sep + 2);
}

struct attr_msg *deliver_reply_encode(const struct deliver_result *results,
                                      size_t count)
{
    struct attr_msg *msg = attr_msg_new(DELIVER_PROTO, DELIVER_VERSION);
    attr_add_num(msg, "rcpt_count", (long long)count);
    for (size_t i = 0; i < count; i++) {
        char name[64];
        snprintf(name, sizeof(name), "status_%zu", i);
        attr_add_str(msg, name, deliver_status_name(results[i].status));
        snprintf(name, sizeof(name), "dsn_%zu", i);
        attr_add_str(msg, name, results[i].dsn);
        snprintf(name, sizeof(name), "reason_%zu", i);
        attr_add_str(msg, name, nz(results[i].reason));
        snprintf(name, sizeof(name), "relay_%zu", i);
        attr_add_str(msg, name, nz(results[i].relay));
        add_typed(msg, "mta", i, results[i].mta_type, results[i].mta_name);
        add_typed(msg, "diag", i, results[i].diag_type, results[i].diag_text);
    }
    return msg;
}

int deliver_reply_parse(struct attr_msg *msg, size_t expected,
                        struct deliver_result **out, struct buf *err)
{
    *out = NULL;
    if (attr_check_proto(msg, DELIVER_PROTO, DELIVER_VERSION, err) < 0)
        return -1;
    long long count;
    if (attr_get_num(msg, "rcpt_count", &count, err) < 0)
        return -1;
    if (count < 0 || (size_t)count != expected) {
        buf_appendf(err, "reply answers %lld recipients, expected %zu", count,
                    expected);
        return -1;
    }
    struct deliver_result *res = xcalloc(expected ? expected : 1, sizeof(*res));
    for (size_t i = 0; i < expected; i++) {
        char name[64];
        const char *s;
        snprintf(name, sizeof(name), "status_%zu", i);
        if (attr_get_str(msg, name, &s, NULL, err) < 0)
            goto fail;
        int status = deliver_status_parse(s);
        if (status < 0) {
            buf_appendf(err, "attribute %s: unknown status", name);
            goto fail;
        }
        res[i].status = (enum deliver_status)status;
        snprintf(name, sizeof(name), "dsn_%zu", i);
        if (attr_get_str(msg, name, &s, NULL, err) < 0)
            goto fail;
        if (!dsn_status_valid(s)) {
            buf_appendf(err, "attribute %s: invalid status code", name);
            goto fail;
        }
        snprintf(res[i].dsn, sizeof(res[i].dsn), "%s", s);
        snprintf(name, sizeof(name), "reason_%zu", i);
        res[i].reason = xstrdup(nz(attr_opt_str(msg, name, "")));
        snprintf(name, sizeof(name), "relay_%zu", i);
        res[i].relay = xstrdup(nz(attr_opt_str(msg, name, "")));
        get_typed(msg, "mta", i, &res[i].mta_type, &res[i].mta_name);
        get_typed(msg, "diag", i, &res[i].diag_type, &res[i].diag_text);
    }
    *out = res;
    return 0;
fail:
    deliver_results_free(res, expected);
    return -1;
}

void deliver_reply_set_retiring(struct attr_msg *reply)
{
    attr_add_num(reply, "retiring", 1);
}

int deliver_reply_retiring(struct attr_msg *reply)
{
    long long value;
    if (attr_find(reply, "retiring") == NULL)
        return 0;
    return attr_get_num(reply, "retiring", &value, NULL) == 0 && value == 1;
}

void deliver_reply_set_hop(struct attr_msg *reply, enum deliver_hop hop)
{
    attr_add_str(reply, "hop_status",
                 hop == DELIVER_HOP_FAILED      ? "failed"
                 : hop == DELIVER_HOP_THROTTLED ? "throttled"
                                                : "ok");
}

enum deliver_hop deliver_reply_hop(struct attr_msg *reply)
{
    const char *value = attr_opt_str(reply, "hop_status", "ok");
    if (!value)
        return DELIVER_HOP_OK;
    if (strcmp(value, "failed") == 0)
        return DELIVER_HOP_FAILED;
    if (strcmp(value, "throttled") == 0)
        return DELIVER_HOP_THROTTLED;
    return DELIVER_HOP_OK;
}

void deliver_results_free(struct deliver_result *results, size_t count)
{
    if (results == NULL)
        return;
    for (size_t i = 0; i < count; i++) {
        free(results[i].reason);
        free(results[i].relay);
        free(results[i].mta_type);
        free(results[i].mta_name);
        free(results[i].diag_type);
        free(results[i].diag_text);
    }
    free(results);
}
