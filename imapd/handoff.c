/* handoff.c: the record imap-login sends to imapd after a login, and
 * the dispatcher forwards to a worker unchanged (docs/imapd.md, "Handoff"):
 * an attribute record (lib/ipc/attr.h) with the client's descriptor
 * beside it. */
#include "imapd.h"

#include <string.h>

static const struct attr_limits limits = {
    .max_attrs = 32,
    .max_name = 64,
    .max_value = HANDOFF_INPUT_MAX,
    .max_message = HANDOFF_MAX,
};

const struct attr_limits *handoff_limits(void)
{
    return &limits;
}

int handoff_parse(struct attr_msg *msg, struct handoff *h, struct buf *err)
{
    memset(h, 0, sizeof(*h));
    long long tls = 0;
    if (attr_check_proto(msg, HANDOFF_PROTO, 1, err) < 0 ||
        attr_get_str(msg, "user", &h->user, NULL, err) < 0 ||
        attr_get_num(msg, "uid", &h->uid, err) < 0 ||
        attr_get_num(msg, "gid", &h->gid, err) < 0 ||
        attr_get_str(msg, "session", &h->session, NULL, err) < 0 ||
        attr_get_str(msg, "tag", &h->tag, NULL, err) < 0 ||
        attr_get_str(msg, "method", &h->method, NULL, err) < 0 ||
        attr_get_num(msg, "tls", &tls, err) < 0 ||
        attr_get_str(msg, "input", &h->input, &h->input_len, err) < 0)
        return -1;
    h->home = attr_opt_str(msg, "home", "");
    h->mail = attr_opt_str(msg, "mail", "");
    h->enabled = attr_opt_str(msg, "enabled", "");
    h->rip = attr_opt_str(msg, "rip", "");
    h->rport = attr_opt_str(msg, "rport", "");
    h->lip = attr_opt_str(msg, "lip", "");
    h->lport = attr_opt_str(msg, "lport", "");
    h->tls = tls != 0;
    if (!h->home || !h->mail || !h->enabled || !h->rip || !h->rport ||
        !h->lip || !h->lport) {
        buf_set_str(err, "a string attribute holds a NUL byte");
        return -1;
    }
    if (attr_check_all_used(msg, err) < 0)
        return -1;
    if (*h->user == '\0' || *h->tag == '\0') {
        buf_set_str(err, "empty user or tag");
        return -1;
    }
    return 0;
}
