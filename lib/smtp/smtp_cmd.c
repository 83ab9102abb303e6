/* smtp_cmd.c: SMTP command line parser (see smtp_cmd.h).
 *
 * The line is first checked as a whole (length, control characters),
 * then split into the verb and the rest; each verb has its own small
 * grammar. All scanning is by index within [0, len), never past it. */
#include "smtp/smtp_cmd.h"

#include <stdarg.h>
#include <string.h>
#include <strings.h>

#include "message/address.h"
#include "base/xtext.h"

static const struct {
    const char *name;
    enum smtp_verb verb;
} verbs[] = {
    {"HELO", SMTP_VERB_HELO},         {"EHLO", SMTP_VERB_EHLO},
    {"MAIL", SMTP_VERB_MAIL},         {"RCPT", SMTP_VERB_RCPT},
    {"DATA", SMTP_VERB_DATA},         {"BDAT", SMTP_VERB_BDAT},
    {"RSET", SMTP_VERB_RSET},         {"NOOP", SMTP_VERB_NOOP},
    {"QUIT", SMTP_VERB_QUIT},         {"VRFY", SMTP_VERB_VRFY},
    {"EXPN", SMTP_VERB_EXPN},         {"HELP", SMTP_VERB_HELP},
    {"STARTTLS", SMTP_VERB_STARTTLS}, {"AUTH", SMTP_VERB_AUTH},
    {"LHLO", SMTP_VERB_LHLO},
};

/* A view of the line: bytes [pos, end) are what is left to parse. */
struct cursor {
    const char *p;
    size_t pos, end;
};

static int is_ws(char c)
{
    return c == ' ' || c == '\t';
}

static void skip_ws(struct cursor *cur)
{
    while (cur->pos < cur->end && is_ws(cur->p[cur->pos]))
        cur->pos++;
}

/* End of the word starting at cur->pos. */
static size_t word_end(const struct cursor *cur)
{
    size_t i = cur->pos;
    while (i < cur->end && !is_ws(cur->p[i]))
        i++;
    return i;
}

__attribute__((format(printf, 3, 4))) static int fail(struct smtp_cmd *cmd,
                                                      int code,
                                                      const char *fmt, ...)
{
    va_list ap;
    cmd->code = code;
    buf_reset(&cmd->reply);
    buf_appendf(&cmd->reply, "%d ", code);
    va_start(ap, fmt);
    buf_vappendf(&cmd->reply, fmt, ap);
    va_end(ap);
    return -1;
}

/* Client text echoed in a reply: printable ASCII only, bounded. */
static void printable(const char *text, size_t len, struct buf *out)
{
    buf_reset(out);
    for (size_t i = 0; i < len && i < 100; i++) {
        unsigned char c = (unsigned char)text[i];
        buf_append_char(out, c >= 32 && c < 127 ? (char)c : '?');
    }
}

void smtp_cmd_init(struct smtp_cmd *cmd)
{
    memset(cmd, 0, sizeof(*cmd));
    buf_init(&cmd->arg);
    buf_init(&cmd->arg2);
    buf_init(&cmd->addr);
    buf_init(&cmd->addr_raw);
    buf_init(&cmd->envid);
    buf_init(&cmd->auth);
    buf_init(&cmd->orcpt_type);
    buf_init(&cmd->orcpt_addr);
    buf_init(&cmd->reply);
}

void smtp_cmd_free(struct smtp_cmd *cmd)
{
    buf_free(&cmd->arg);
    buf_free(&cmd->arg2);
    buf_free(&cmd->addr);
    buf_free(&cmd->addr_raw);
    buf_free(&cmd->envid);
    buf_free(&cmd->auth);
    buf_free(&cmd->orcpt_type);
    buf_free(&cmd->orcpt_addr);
    buf_free(&cmd->reply);
}

static void reset(struct smtp_cmd *cmd)
{
    cmd->verb = SMTP_VERB_UNKNOWN;
    cmd->verb_text[0] = 0;
    buf_reset(&cmd->arg);
    buf_reset(&cmd->arg2);
    buf_reset(&cmd->addr);
    buf_reset(&cmd->addr_raw);
    cmd->addr_info = 0;
    cmd->source_route = 0;
    cmd->params = 0;
    cmd->size = 0;
    cmd->body = SMTP_BODY_NONE;
    cmd->smtputf8 = 0;
    cmd->requiretls = 0;
    cmd->ret = SMTP_RET_NONE;
    buf_reset(&cmd->envid);
    buf_reset(&cmd->auth);
    cmd->notify = 0;
    buf_reset(&cmd->orcpt_type);
    buf_reset(&cmd->orcpt_addr);
    cmd->chunk_size = 0;
    cmd->last = 0;
    cmd->code = 0;
    buf_reset(&cmd->reply);
}

const char *smtp_verb_name(enum smtp_verb verb)
{
    for (size_t i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++)
        if (verbs[i].verb == verb)
            return verbs[i].name;
    return "UNKNOWN";
}

enum count_parse { COUNT_OK, COUNT_BAD_SYNTAX, COUNT_TOO_LARGE };

/* Parses 1..19 decimal digits (at most 2^63 - 1). */
static enum count_parse parse_count(const char *text, size_t len,
                                    unsigned long long *out)
{
    unsigned long long value = 0;
    if (len == 0)
        return COUNT_BAD_SYNTAX;
    for (size_t i = 0; i < len; i++)
        if (text[i] < '0' || text[i] > '9')
            return COUNT_BAD_SYNTAX;
    if (len > 19)
        return COUNT_TOO_LARGE;
    for (size_t i = 0; i < len; i++)
        value = value * 10 + (unsigned long long)(text[i] - '0');
    if (value > 0x7fffffffffffffffull)
        return COUNT_TOO_LARGE;
    *out = value;
    return COUNT_OK;
}

static int keyword_is(const char *text, size_t len, const char *keyword)
{
    return strlen(keyword) == len && strncasecmp(text, keyword, len) == 0;
}

/* NOTIFY=NEVER or a list of SUCCESS, FAILURE, DELAY. */
static int parse_notify(const char *value, size_t len, unsigned *mask)
{
    size_t start = 0;
    *mask = 0;
    while (start <= len) {
        size_t stop = start;
        unsigned bit;
        while (stop < len && value[stop] != ',')
            stop++;
        if (keyword_is(value + start, stop - start, "NEVER"))
            bit = SMTP_NOTIFY_NEVER;
        else if (keyword_is(value + start, stop - start, "SUCCESS"))
            bit = SMTP_NOTIFY_SUCCESS;
        else if (keyword_is(value + start, stop - start, "FAILURE"))
            bit = SMTP_NOTIFY_FAILURE;
        else if (keyword_is(value + start, stop - start, "DELAY"))
            bit = SMTP_NOTIFY_DELAY;
        else
            return -1;
        if (*mask & bit)
            return -1;
        *mask |= bit;
        start = stop + 1;
    }
    if ((*mask & SMTP_NOTIFY_NEVER) && *mask != SMTP_NOTIFY_NEVER)
        return -1;
    return 0;
}

/* ORCPT=addr-type;xtext */
static int parse_orcpt(struct smtp_cmd *cmd, const char *value, size_t len)
{
    const char *semi = memchr(value, ';', len);
    if (len > SMTP_ORCPT_MAX || semi == NULL || semi == value)
        return -1;
    for (const char *t = value; t < semi; t++)
        if (!((*t >= 'a' && *t <= 'z') || (*t >= 'A' && *t <= 'Z') ||
              (*t >= '0' && *t <= '9') || *t == '-'))
            return -1;
    buf_set(&cmd->orcpt_type, value, (size_t)(semi - value));
    size_t coded_len = len - (size_t)(semi - value) - 1;
    if (coded_len == 0 || xtext_decode(semi + 1, coded_len, &cmd->orcpt_addr, 0) < 0)
        return -1;
    for (size_t i = 0; i < cmd->orcpt_addr.len; i++) {
        unsigned char c = (unsigned char)cmd->orcpt_addr.data[i];
        if (c < 32 || c == 127)
            return -1;
    }
    return 0;
}

/* One ESMTP parameter of MAIL (is_mail) or RCPT. */
static int parse_param(struct smtp_cmd *cmd, const char *word, size_t len,
                       int is_mail)
{
    const char *eq = memchr(word, '=', len);
    size_t key_len = eq ? (size_t)(eq - word) : len;
    const char *value = eq ? eq + 1 : NULL;
    size_t value_len = eq ? len - key_len - 1 : 0;
    struct buf shown = BUF_INIT;
    int rc;

#define KEY(name) keyword_is(word, key_len, name)
#define ONCE(bit, name)                                                       \
    do {                                                                      \
        if (cmd->params & (bit))                                              \
            return fail(cmd, 501, "5.5.4 Error: duplicate %s parameter", name); \
        cmd->params |= (bit);                                                 \
    } while (0)

    if (is_mail && KEY("SIZE") && value) {
        ONCE(SMTP_PARAM_SIZE, "SIZE");
        enum count_parse size_rc = parse_count(value, value_len, &cmd->size);
        if (size_rc == COUNT_BAD_SYNTAX)
            return fail(cmd, 501, "5.5.4 Bad message size syntax");
        if (size_rc == COUNT_TOO_LARGE)
            return fail(cmd, 552, "5.3.4 Message size exceeds file system imposed limit");
        return 0;
    }
    if (is_mail && KEY("BODY") && value) {
        enum smtp_body body;
        if (keyword_is(value, value_len, "7BIT"))
            body = SMTP_BODY_7BIT;
        else if (keyword_is(value, value_len, "8BITMIME"))
            body = SMTP_BODY_8BITMIME;
        else if (keyword_is(value, value_len, "BINARYMIME"))
            body = SMTP_BODY_BINARYMIME;
        else
            goto unsupported;
        ONCE(SMTP_PARAM_BODY, "BODY");
        cmd->body = body;
        return 0;
    }
    if (is_mail && KEY("SMTPUTF8") && !value) {
        ONCE(SMTP_PARAM_SMTPUTF8, "SMTPUTF8");
        cmd->smtputf8 = 1;
        return 0;
    }
    if (is_mail && KEY("REQUIRETLS") && !value) {
        ONCE(SMTP_PARAM_REQUIRETLS, "REQUIRETLS");
        cmd->requiretls = 1;
        return 0;
    }
    if (is_mail && KEY("RET") && value) {
        if (cmd->params & SMTP_PARAM_RET)
            return fail(cmd, 501, "5.5.4 Bad RET parameter syntax");
        if (keyword_is(value, value_len, "FULL"))
            cmd->ret = SMTP_RET_FULL;
        else if (keyword_is(value, value_len, "HDRS"))
            cmd->ret = SMTP_RET_HDRS;
        else
            return fail(cmd, 501, "5.5.4 Bad RET parameter syntax");
        cmd->params |= SMTP_PARAM_RET;
        return 0;
    }
    if (is_mail && KEY("ENVID") && value) {
        if ((cmd->params & SMTP_PARAM_ENVID) || value_len == 0 ||
            value_len > SMTP_ENVID_MAX ||
            xtext_decode(value, value_len, &cmd->envid, 0) < 0)
            return fail(cmd, 501, "5.5.4 Bad ENVID parameter syntax");
        for (size_t i = 0; i < cmd->envid.len; i++)
            if (cmd->envid.data[i] < 32 || cmd->envid.data[i] == 127)
                return fail(cmd, 501, "5.5.4 Bad ENVID parameter syntax");
        cmd->params |= SMTP_PARAM_ENVID;
        return 0;
    }
    if (is_mail && KEY("AUTH") && value) {
        ONCE(SMTP_PARAM_AUTH, "AUTH");
        if (value_len == 0 || value_len > SMTP_ORCPT_MAX ||
            xtext_decode(value, value_len, &cmd->auth, 0) < 0)
            return fail(cmd, 501, "5.5.4 Bad AUTH parameter syntax");
        for (size_t i = 0; i < cmd->auth.len; i++)
            if ((unsigned char)cmd->auth.data[i] < 32 || cmd->auth.data[i] == 127)
                return fail(cmd, 501, "5.5.4 Bad AUTH parameter syntax");
        return 0;
    }
    if (!is_mail && KEY("NOTIFY") && value) {
        if ((cmd->params & SMTP_PARAM_NOTIFY) ||
            parse_notify(value, value_len, &cmd->notify) < 0)
            return fail(cmd, 501, "5.5.4 Error: Bad NOTIFY parameter syntax");
        cmd->params |= SMTP_PARAM_NOTIFY;
        return 0;
    }
    if (!is_mail && KEY("ORCPT") && value) {
        if ((cmd->params & SMTP_PARAM_ORCPT) || parse_orcpt(cmd, value, value_len) < 0)
            return fail(cmd, 501, "5.5.4 Error: Bad ORCPT parameter syntax");
        cmd->params |= SMTP_PARAM_ORCPT;
        return 0;
    }
#undef KEY
#undef ONCE
unsupported:
    printable(word, len, &shown);
    rc = fail(cmd, 555, "5.5.4 Unsupported option: %s", shown.data);
    buf_free(&shown);
    return rc;
}

/* Finds the '>' closing a path that opens at cur->pos, skipping quoted
 * strings and their escapes. Returns its index or (size_t)-1. */
static size_t path_close(const struct cursor *cur)
{
    int quoted = 0;
    for (size_t i = cur->pos + 1; i < cur->end; i++) {
        char c = cur->p[i];
        if (quoted) {
            if (c == '\\')
                i++;
            else if (c == '"')
                quoted = 0;
        } else if (c == '"') {
            quoted = 1;
        } else if (c == '>') {
            return i;
        } else if (c == '<') {
            return (size_t)-1;
        }
    }
    return (size_t)-1;
}

/* Strips an RFC 5321 source route "@a,@b:" from the front of a path,
 * checking each hop's domain. Returns the index where the mailbox starts
 * or (size_t)-1. */
static size_t skip_source_route(const char *path, size_t len)
{
    struct buf hop = BUF_INIT;
    size_t i = 0, result = (size_t)-1;
    while (i < len && path[i] == '@') {
        size_t start = ++i;
        while (i < len && path[i] != ',' && path[i] != ':')
            i++;
        if (i == len)
            break;
        buf_set(&hop, path + start, i - start);
        if (hop.len == 0 || strlen(hop.data) != hop.len ||
            !address_valid_domain(hop.data, ADDRESS_FLAG_UTF8))
            break;
        if (path[i] == ':') {
            result = i + 1;
            break;
        }
        i++; /* the ',' */
    }
    buf_free(&hop);
    return result;
}

static int parse_path_command(struct smtp_cmd *cmd, struct cursor *cur,
                              unsigned flags, int is_mail)
{
    const char *keyword = is_mail ? "FROM:" : "TO:";
    size_t key_len = strlen(keyword);
    const char *syntax = is_mail ? "5.5.4 Syntax: MAIL FROM:<address>"
                                 : "5.5.4 Syntax: RCPT TO:<address>";
    int bad_code = 501;
    const char *bad = is_mail ? "5.1.7 Bad sender address syntax"
                              : "5.1.3 Bad recipient address syntax";
    size_t path_start, path_end, after;

    if (cur->end - cur->pos < key_len ||
        strncasecmp(cur->p + cur->pos, keyword, key_len) != 0)
        return fail(cmd, 501, "%s", syntax);
    cur->pos += key_len;
    skip_ws(cur); /* Postfix accepts "MAIL FROM: <addr>" */
    if (cur->pos == cur->end)
        return fail(cmd, 501, "%s", syntax);
    if (cur->p[cur->pos] == '<') {
        size_t close = path_close(cur);
        if (close == (size_t)-1)
            return fail(cmd, bad_code, "%s", bad);
        path_start = cur->pos + 1;
        path_end = close;
        after = close + 1;
        if (after < cur->end && !is_ws(cur->p[after]))
            return fail(cmd, bad_code, "%s", bad);
    } else {
        if (flags & SMTP_CMD_STRICT)
            return fail(cmd, bad_code, "%s", bad);
        path_start = cur->pos;
        after = path_end = word_end(cur);
        if (memchr(cur->p + path_start, '>', path_end - path_start) ||
            memchr(cur->p + path_start, '"', path_end - path_start))
            return fail(cmd, bad_code, "%s", bad);
    }
    buf_set(&cmd->addr_raw, cur->p + path_start, path_end - path_start);

    const char *path = cur->p + path_start;
    size_t path_len = path_end - path_start;
    if (path_len == 0) {
        if (!is_mail)
            return fail(cmd, bad_code, "%s", bad);
    } else {
        if (path[0] == '@') {
            size_t skip = skip_source_route(path, path_len);
            if (skip == (size_t)-1 || skip == path_len)
                return fail(cmd, bad_code, "%s", bad);
            cmd->source_route = 1;
            path += skip;
            path_len -= skip;
        }
        unsigned addr_flags = ADDRESS_FLAG_UTF8 | ADDRESS_FLAG_BARE;
        if (!(flags & SMTP_CMD_STRICT))
            addr_flags |= ADDRESS_FLAG_MULTI_AT;
        if (address_parse_mailbox(path, path_len, addr_flags, &cmd->addr,
                                  &cmd->addr_info, NULL) < 0)
            return fail(cmd, bad_code, "%s", bad);
    }

    /* ESMTP parameters: counted first, so a flood is refused unread. */
    struct cursor count_cur = {cur->p, after, cur->end};
    for (int count = 0;; count++) {
        skip_ws(&count_cur);
        if (count_cur.pos == count_cur.end)
            break;
        if (count == SMTP_CMD_PARAMS_MAX)
            return fail(cmd, 501, "5.5.4 Error: too many parameters");
        count_cur.pos = word_end(&count_cur);
    }
    cur->pos = after;
    for (;;) {
        skip_ws(cur);
        if (cur->pos == cur->end)
            break;
        size_t stop = word_end(cur);
        if (parse_param(cmd, cur->p + cur->pos, stop - cur->pos, is_mail) < 0)
            return -1;
        cur->pos = stop;
    }
    if (cmd->addr_info & ADDRESS_INFO_UTF8) {
        int declared = is_mail ? cmd->smtputf8 : (flags & SMTP_CMD_UTF8) != 0;
        if (!declared)
            return fail(cmd, 553, "5.6.7 Must declare SMTPUTF8 to send unicode address");
    }
    return 0;
}

static int parse_bdat(struct smtp_cmd *cmd, struct cursor *cur)
{
    size_t stop = word_end(cur);
    if (parse_count(cur->p + cur->pos, stop - cur->pos, &cmd->chunk_size) !=
        COUNT_OK)
        return fail(cmd, 501, "5.5.4 Syntax: BDAT count [LAST]");
    cur->pos = stop;
    skip_ws(cur);
    if (cur->pos < cur->end) {
        stop = word_end(cur);
        if (!keyword_is(cur->p + cur->pos, stop - cur->pos, "LAST"))
            return fail(cmd, 501, "5.5.4 Syntax: BDAT count [LAST]");
        cmd->last = 1;
        cur->pos = stop;
        skip_ws(cur);
        if (cur->pos < cur->end)
            return fail(cmd, 501, "5.5.4 Syntax: BDAT count [LAST]");
    }
    return 0;
}

static int parse_auth(struct smtp_cmd *cmd, struct cursor *cur)
{
    size_t stop = word_end(cur);
    size_t mech_len = stop - cur->pos;
    if (mech_len == 0 || mech_len > 20)
        return fail(cmd, 501, "5.5.4 Syntax: AUTH mechanism");
    for (size_t i = cur->pos; i < stop; i++) {
        char c = cur->p[i];
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
              (c >= '0' && c <= '9') || c == '-' || c == '_'))
            return fail(cmd, 501, "5.5.4 Syntax: AUTH mechanism");
    }
    buf_set(&cmd->arg, cur->p + cur->pos, mech_len);
    cur->pos = stop;
    skip_ws(cur);
    stop = word_end(cur);
    buf_set(&cmd->arg2, cur->p + cur->pos, stop - cur->pos);
    cur->pos = stop;
    skip_ws(cur);
    if (cur->pos < cur->end)
        return fail(cmd, 501, "5.5.4 Syntax: AUTH mechanism");
    return 0;
}

int smtp_cmd_parse(struct smtp_cmd *cmd, const char *line, size_t len,
                   unsigned flags)
{
    struct cursor cur = {line, 0, len};

    reset(cmd);
    if (len > SMTP_CMD_LINE_MAX)
        return fail(cmd, 500, "5.5.2 Error: line too long");
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)line[i];
        if ((c < 32 && c != '\t') || c == 127)
            return fail(cmd, 500, "5.5.2 Error: bad syntax");
    }
    /* Trailing whitespace is not part of any argument. */
    while (cur.end > 0 && is_ws(line[cur.end - 1]))
        cur.end--;
    skip_ws(&cur);
    size_t verb_end = word_end(&cur);
    size_t verb_len = verb_end - cur.pos;
    if (verb_len == 0)
        return fail(cmd, 500, "5.5.2 Error: bad syntax");
    for (size_t i = 0; i < verb_len && i < sizeof(cmd->verb_text) - 1; i++) {
        unsigned char c = (unsigned char)line[cur.pos + i];
        cmd->verb_text[i] = c >= 33 && c < 127 ? (char)c : '?';
        cmd->verb_text[i + 1] = 0;
    }
    for (size_t i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++)
        if (keyword_is(line + cur.pos, verb_len, verbs[i].name) &&
            (verbs[i].verb != SMTP_VERB_LHLO || (flags & SMTP_CMD_LMTP)))
            cmd->verb = verbs[i].verb;
    if (cmd->verb == SMTP_VERB_UNKNOWN)
        return fail(cmd, 502, "5.5.2 Error: command not recognized");
    cur.pos = verb_end;
    skip_ws(&cur);
    const char *rest = line + cur.pos;
    size_t rest_len = cur.end - cur.pos;

    switch (cmd->verb) {
    case SMTP_VERB_HELO:
    case SMTP_VERB_EHLO:
    case SMTP_VERB_LHLO:
        if (rest_len == 0 || rest_len > ADDRESS_DOMAIN_MAX)
            return fail(cmd, 501, "5.5.2 Syntax: %s hostname",
                        smtp_verb_name(cmd->verb));
        buf_set(&cmd->arg, rest, rest_len);
        return 0;
    case SMTP_VERB_MAIL:
        return parse_path_command(cmd, &cur, flags, 1);
    case SMTP_VERB_RCPT:
        return parse_path_command(cmd, &cur, flags, 0);
    case SMTP_VERB_BDAT:
        return parse_bdat(cmd, &cur);
    case SMTP_VERB_AUTH:
        return parse_auth(cmd, &cur);
    case SMTP_VERB_DATA:
    case SMTP_VERB_RSET:
    case SMTP_VERB_STARTTLS:
        if (rest_len)
            return fail(cmd, 501, "5.5.4 Syntax: %s", smtp_verb_name(cmd->verb));
        return 0;
    case SMTP_VERB_VRFY:
    case SMTP_VERB_EXPN:
        if (rest_len == 0)
            return fail(cmd, 501, "5.5.4 Syntax: %s %s", smtp_verb_name(cmd->verb),
                        cmd->verb == SMTP_VERB_VRFY ? "address" : "mailing-list");
        buf_set(&cmd->arg, rest, rest_len);
        return 0;
    case SMTP_VERB_NOOP:
    case SMTP_VERB_QUIT:
    case SMTP_VERB_HELP:
        /* RFC 5321 allows a string after NOOP and HELP; Postfix ignores
         * one after QUIT. */
        buf_set(&cmd->arg, rest, rest_len);
        return 0;
    case SMTP_VERB_UNKNOWN:
        break;
    }
    return fail(cmd, 502, "5.5.2 Error: command not recognized");
}
