/* test_bounce_msg.c: unit tests for lib/message/bounce_msg. Each notice is
 * parsed back (boundary, parts, fields) and checked against RFC 3464's
 * required fields, RET and size-limit handling, ORCPT/ENVID, line ends,
 * streaming, and header injection. */
#include "unit.h"

#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include "message/bounce_msg.h"
#include "base/buf.h"
#include "message/dsn.h"
#include "base/mem.h"
#include "base/str.h"

#define NOW 1795000000
#define ARRIVAL (NOW - 3 * 3600 - 60)

static const char original[] = "From: Alice <alice@example.com>\r\n"
                               "To: bob@example.org\r\n"
                               "Subject: hello\r\n"
                               "Message-ID: <1@example.com>\r\n"
                               "\r\n"
                               "Hello Bob,\r\n"
                               "the body is here.\r\n";

/* A parsed notice: the top header, then each part's header and body. */
struct part {
    char *header;
    char *body;
};
struct parsed {
    char *header;
    char boundary[128];
    struct part parts[8];
    int part_count;
    int closed; /* the closing delimiter was seen */
};

/* Unfolds header field `name` (case-insensitive) from a header block into
 * out; 0 when found. Fields are separated by "\n". */
static int field(const char *header, const char *name, struct buf *out)
{
    size_t name_len = strlen(name);
    const char *line = header;
    buf_reset(out);
    while (line && *line) {
        if (strncasecmp(line, name, name_len) == 0 && line[name_len] == ':') {
            const char *p = line + name_len + 1;
            while (*p == ' ')
                p++;
            for (;;) {
                const char *eol = strchr(p, '\n');
                size_t len = eol ? (size_t)(eol - p) : strlen(p);
                buf_append(out, p, len);
                if (!eol || (eol[1] != ' ' && eol[1] != '\t'))
                    break;
                p = eol + 1; /* unfolding keeps the leading space */
            }
            return 0;
        }
        line = strchr(line, '\n');
        if (line)
            line++;
    }
    return -1;
}

static const char *field_str(const char *header, const char *name)
{
    static struct buf value[4];
    static int next;
    struct buf *b = &value[next++ % 4];
    return field(header, name, b) == 0 ? buf_cstr(b) : NULL;
}

/* Splits text ("\n" line ends) at the first empty line. */
static void split_header(const char *text, char **header, char **body)
{
    const char *sep = strstr(text, "\n\n");
    if (strncmp(text, "\n", 1) == 0)
        sep = text - 1;
    if (!sep) {
        *header = xstrdup(text);
        *body = xstrdup("");
        return;
    }
    *header = xstrndup(text, (size_t)(sep - text) + 1);
    *body = xstrdup(sep + 2);
}

static void parse_notice(const char *text, struct parsed *p)
{
    char *body;
    memset(p, 0, sizeof(*p));
    split_header(text, &p->header, &body);
    const char *ct = field_str(p->header, "Content-Type");
    const char *b = ct ? strstr(ct, "boundary=\"") : NULL;
    if (b) {
        b += 10;
        size_t len = strcspn(b, "\"");
        if (len < sizeof(p->boundary))
            memcpy(p->boundary, b, len);
    }
    if (!p->boundary[0]) {
        free(body);
        return;
    }
    struct buf delim = BUF_INIT;
    buf_appendf(&delim, "\n--%s", p->boundary);
    /* Delimiters follow a line end; the body starts with a preamble. */
    const char *cur = strstr(body, buf_cstr(&delim));
    while (cur && p->part_count < 8) {
        cur += delim.len;
        if (strncmp(cur, "--", 2) == 0) {
            p->closed = 1;
            break;
        }
        if (*cur != '\n')
            break;
        cur++;
        const char *next = strstr(cur, buf_cstr(&delim));
        char *content =
            next ? xstrndup(cur, (size_t)(next - cur)) : xstrdup(cur);
        split_header(content, &p->parts[p->part_count].header,
                     &p->parts[p->part_count].body);
        p->part_count++;
        free(content);
        cur = next;
    }
    buf_free(&delim);
    free(body);
}

static void parsed_free(struct parsed *p)
{
    free(p->header);
    for (int i = 0; i < p->part_count; i++) {
        free(p->parts[i].header);
        free(p->parts[i].body);
    }
}

/* Standard fixture: two recipients, one with ORCPT and a remote reply. */
struct fixture {
    struct dsn dsn[2];
    struct bounce_rcpt rcpt[2];
    struct bounce_notice notice;
    struct bounce_mem_source source;
};

static void fixture_init(struct fixture *f, const char *status0,
                         const char *status1)
{
    memset(f, 0, sizeof(*f));
    dsn_set(&f->dsn[0], status0, -1,
            "host mx.example.org[192.0.2.1] said: 550 5.1.1 user unknown "
            "(in reply to RCPT TO command)",
            "dns", "mx.example.org", "smtp", "550 5.1.1 user unknown");
    dsn_set(&f->dsn[1], status1, -1, "mailbox is full", NULL, NULL, NULL, NULL);
    f->rcpt[0].address = "bob@example.org";
    f->rcpt[0].orcpt = "rfc822;Bob@Example.ORG";
    f->rcpt[0].dsn = &f->dsn[0];
    f->rcpt[1].address = "carol@example.org";
    f->rcpt[1].orig_address = "info@example.org";
    f->rcpt[1].dsn = &f->dsn[1];
    f->rcpt[1].last_attempt = NOW - 60;
    f->source.data = original;
    f->source.len = strlen(original);
    struct bounce_notice *n = &f->notice;
    n->kind = BOUNCE_FAILURE;
    n->myhostname = "mail.example.org";
    n->queue_id = "4XyZ12AbCd";
    n->sender = "alice@example.com";
    n->envid = "QQ314159";
    n->arrival = ARRIVAL;
    n->now = NOW;
    n->size_limit = BOUNCE_SIZE_LIMIT_DEFAULT;
    n->rcpts = f->rcpt;
    n->rcpt_count = 2;
    n->read_original = bounce_read_mem;
    n->original_ctx = &f->source;
    n->original_size = (long long)f->source.len;
}

static void fixture_free(struct fixture *f)
{
    dsn_free(&f->dsn[0]);
    dsn_free(&f->dsn[1]);
}

static int compose(struct fixture *f, struct buf *out)
{
    struct buf err = BUF_INIT;
    f->source.pos = 0;
    buf_reset(out);
    int status = bounce_msg_to_buf(&f->notice, out, &err);
    if (status != 0)
        printf("#   compose failed: %s\n", buf_cstr(&err));
    buf_free(&err);
    return status;
}

/* The recipient block that holds Final-Recipient for address. */
static char *recipient_block(const char *status_body, const char *address)
{
    struct buf want = BUF_INIT;
    buf_appendf(&want, "Final-Recipient: rfc822; %s\n", address);
    const char *hit = strstr(status_body, buf_cstr(&want));
    buf_free(&want);
    if (!hit)
        return NULL;
    const char *start = hit;
    while (start > status_body &&
           !(start[-1] == '\n' && start - 1 > status_body && start[-2] == '\n'))
        start--;
    const char *end = strstr(hit, "\n\n");
    return end ? xstrndup(start, (size_t)(end - start) + 1) : xstrdup(start);
}

static void test_failure_full_structure(void)
{
    struct fixture f;
    struct buf out = BUF_INIT;
    struct parsed p;
    fixture_init(&f, "5.1.1", "5.2.2");
    CHECK_INT(compose(&f, &out), 0);
    parse_notice(buf_cstr(&out), &p);

    CHECK_STR(field_str(p.header, "Subject"),
              "Undelivered Mail Returned to Sender");
    CHECK_STR(field_str(p.header, "From"),
              "MAILER-DAEMON (Mail Delivery System) "
              "<MAILER-DAEMON@mail.example.org>");
    CHECK_STR(field_str(p.header, "To"), "<alice@example.com>");
    CHECK_STR(field_str(p.header, "Auto-Submitted"), "auto-replied");
    CHECK_STR(field_str(p.header, "MIME-Version"), "1.0");
    CHECK_STR(field_str(p.header, "Content-Transfer-Encoding"), "7bit");
    CHECK(field_str(p.header, "Date") != NULL);
    const char *msgid = field_str(p.header, "Message-ID");
    CHECK(msgid && msgid[0] == '<' && strstr(msgid, "@mail.example.org>"));
    const char *ct = field_str(p.header, "Content-Type");
    CHECK(ct && str_has_prefix(ct, "multipart/report;"));
    CHECK(ct && strstr(ct, "report-type=delivery-status"));
    CHECK(strlen(p.boundary) > 10 && strlen(p.boundary) <= 70);
    CHECK(strstr(p.boundary, "4XyZ12AbCd") != NULL);

    CHECK_INT(p.part_count, 3);
    CHECK(p.closed);
    if (p.part_count != 3) {
        parsed_free(&p);
        buf_free(&out);
        fixture_free(&f);
        return;
    }
    /* Part 1: text for people. */
    CHECK_STR(field_str(p.parts[0].header, "Content-Type"),
              "text/plain; charset=us-ascii");
    CHECK(strstr(p.parts[0].body, "mail.example.org") != NULL);
    CHECK(strstr(p.parts[0].body, "<bob@example.org>: host mx.example.org") !=
          NULL);
    CHECK(strstr(p.parts[0].body,
                 "<carol@example.org> (expanded from "
                 "<info@example.org>): mailbox is full") != NULL);

    /* Part 2: per-message fields. */
    CHECK_STR(field_str(p.parts[1].header, "Content-Type"),
              "message/delivery-status");
    const char *ds = p.parts[1].body;
    CHECK(str_has_prefix(ds, "Original-Envelope-Id: QQ314159\n"));
    CHECK_STR(field_str(ds, "Reporting-MTA"), "dns; mail.example.org");
    CHECK_STR(field_str(ds, "X-Postern-Queue-ID"), "4XyZ12AbCd");
    CHECK_STR(field_str(ds, "X-Postern-Sender"), "rfc822; alice@example.com");
    CHECK(field_str(ds, "Arrival-Date") != NULL);

    /* Per-recipient fields. */
    char *bob = recipient_block(ds, "bob@example.org");
    CHECK(bob != NULL);
    if (bob) {
        CHECK(str_has_prefix(bob, "Original-Recipient: rfc822; "
                                  "Bob@Example.ORG\n"));
        CHECK_STR(field_str(bob, "Action"), "failed");
        CHECK_STR(field_str(bob, "Status"), "5.1.1");
        CHECK_STR(field_str(bob, "Remote-MTA"), "dns; mx.example.org");
        CHECK_STR(field_str(bob, "Diagnostic-Code"),
                  "smtp; 550 5.1.1 user unknown");
        CHECK(field_str(bob, "Last-Attempt-Date") != NULL);
        CHECK(field_str(bob, "Will-Retry-Until") == NULL);
        free(bob);
    }
    char *carol = recipient_block(ds, "carol@example.org");
    CHECK(carol != NULL);
    if (carol) {
        /* No ORCPT: no Original-Recipient, even though it was aliased. */
        CHECK(field_str(carol, "Original-Recipient") == NULL);
        CHECK_STR(field_str(carol, "Status"), "5.2.2");
        CHECK_STR(field_str(carol, "Diagnostic-Code"),
                  "X-Postern; mailbox is full");
        CHECK(field_str(carol, "Remote-MTA") == NULL);
        free(carol);
    }

    /* Part 3: the whole original, line ends normalised to LF. */
    CHECK_STR(field_str(p.parts[2].header, "Content-Type"), "message/rfc822");
    CHECK(field_str(p.parts[2].header, "Content-Transfer-Encoding") == NULL);
    CHECK(str_has_prefix(p.parts[2].body, "From: Alice <alice@example.com>\n"
                                          "To: bob@example.org\n"));
    CHECK(strstr(p.parts[2].body, "Message-ID: <1@example.com>\n\nHello Bob,\n"
                                  "the body is here.\n") != NULL);
    CHECK(strchr(buf_cstr(&out), '\r') == NULL);

    parsed_free(&p);
    buf_free(&out);
    fixture_free(&f);
}

static void test_ret_hdrs(void)
{
    struct fixture f;
    struct buf out = BUF_INIT;
    struct parsed p;
    fixture_init(&f, "5.1.1", "5.2.2");
    f.notice.ret = BOUNCE_RET_HDRS;
    CHECK_INT(compose(&f, &out), 0);
    parse_notice(buf_cstr(&out), &p);
    CHECK_INT(p.part_count, 3);
    if (p.part_count == 3) {
        CHECK_STR(field_str(p.parts[2].header, "Content-Type"),
                  "text/rfc822-headers");
        CHECK(strstr(p.parts[2].body, "Message-ID: <1@example.com>\n"));
        CHECK(strstr(p.parts[2].body, "Hello Bob") == NULL);
        CHECK(strstr(p.parts[0].body, "header of your message is attached"));
        CHECK(strstr(p.parts[0].body, "delete your own text") == NULL);
    }
    parsed_free(&p);
    buf_free(&out);
    fixture_free(&f);
}

static void test_size_limit(void)
{
    struct fixture f;
    struct buf out = BUF_INIT;
    struct parsed p;
    fixture_init(&f, "5.1.1", "5.2.2");

    /* Larger than bounce_size_limit: headers only, and the text says so. */
    f.notice.size_limit = 20;
    CHECK_INT(compose(&f, &out), 0);
    parse_notice(buf_cstr(&out), &p);
    CHECK_INT(p.part_count, 3);
    if (p.part_count == 3) {
        CHECK_STR(field_str(p.parts[2].header, "Content-Type"),
                  "text/rfc822-headers");
        CHECK(strstr(p.parts[2].body, "Hello Bob") == NULL);
        CHECK(strstr(p.parts[0].body, "too large to return in full"));
    }
    parsed_free(&p);

    /* Exactly at the limit: returned whole. */
    f.notice.size_limit = (long long)strlen(original);
    CHECK_INT(compose(&f, &out), 0);
    parse_notice(buf_cstr(&out), &p);
    CHECK(p.part_count == 3 && strstr(p.parts[2].body, "Hello Bob"));
    parsed_free(&p);

    /* Unknown size with a limit: headers only. No limit: whole. */
    f.notice.original_size = -1;
    CHECK_INT(compose(&f, &out), 0);
    CHECK(strstr(buf_cstr(&out), "text/rfc822-headers") != NULL);
    f.notice.size_limit = 0;
    CHECK_INT(compose(&f, &out), 0);
    CHECK(strstr(buf_cstr(&out), "Content-Type: message/rfc822") != NULL);
    CHECK(strstr(buf_cstr(&out), "Hello Bob") != NULL);

    /* No reader: two parts only. */
    f.notice.read_original = NULL;
    CHECK_INT(compose(&f, &out), 0);
    parse_notice(buf_cstr(&out), &p);
    CHECK_INT(p.part_count, 2);
    CHECK(p.closed);
    parsed_free(&p);

    buf_free(&out);
    fixture_free(&f);
}

static void test_delay_warning(void)
{
    struct fixture f;
    struct buf out = BUF_INIT;
    struct parsed p;
    fixture_init(&f, "4.4.1", "4.2.2");
    f.notice.kind = BOUNCE_DELAY;
    f.notice.retry_until = ARRIVAL + 5 * 86400;
    CHECK_INT(compose(&f, &out), 0);
    parse_notice(buf_cstr(&out), &p);
    CHECK_STR(field_str(p.header, "Subject"),
              "Delayed Mail (still being retried)");
    CHECK_INT(p.part_count, 3);
    if (p.part_count == 3) {
        CHECK(strstr(p.parts[0].body, "warning only"));
        CHECK(strstr(p.parts[0].body, "delayed for 3 hours"));
        char *bob = recipient_block(p.parts[1].body, "bob@example.org");
        CHECK(bob != NULL);
        if (bob) {
            CHECK_STR(field_str(bob, "Action"), "delayed");
            CHECK_STR(field_str(bob, "Status"), "4.4.1");
            CHECK(field_str(bob, "Will-Retry-Until") != NULL);
            free(bob);
        }
        /* Delay warnings never return the body, whatever RET says. */
        CHECK_STR(field_str(p.parts[2].header, "Content-Type"),
                  "text/rfc822-headers");
        CHECK_STR(field_str(p.parts[2].header, "Content-Description"),
                  "Delayed Message Headers");
    }
    parsed_free(&p);
    buf_free(&out);
    fixture_free(&f);
}

static void test_success_report(void)
{
    struct fixture f;
    struct buf out = BUF_INIT;
    struct parsed p;
    fixture_init(&f, "2.0.0", "2.0.0");
    dsn_free(&f.dsn[1]);
    dsn_set(&f.dsn[1], "2.0.0", DSN_ACTION_RELAYED,
            "relayed to non-DSN-aware mailer", NULL, NULL, NULL, NULL);
    f.notice.kind = BOUNCE_SUCCESS;
    CHECK_INT(compose(&f, &out), 0);
    parse_notice(buf_cstr(&out), &p);
    CHECK_STR(field_str(p.header, "Subject"),
              "Successful Mail Delivery Report");
    CHECK_INT(p.part_count, 3);
    if (p.part_count == 3) {
        char *bob = recipient_block(p.parts[1].body, "bob@example.org");
        char *carol = recipient_block(p.parts[1].body, "carol@example.org");
        CHECK(bob && carol);
        if (bob && carol) {
            CHECK_STR(field_str(bob, "Action"), "delivered");
            CHECK_STR(field_str(carol, "Action"), "relayed");
            CHECK_STR(field_str(carol, "Status"), "2.0.0");
        }
        free(bob);
        free(carol);
        CHECK_STR(field_str(p.parts[2].header, "Content-Type"),
                  "text/rfc822-headers");
    }
    parsed_free(&p);

    /* A postmaster copy says so in the subject and goes elsewhere. */
    f.notice.kind = BOUNCE_FAILURE;
    f.notice.postmaster_copy = 1;
    f.notice.notify_to = "postmaster@example.org";
    CHECK_INT(compose(&f, &out), 0);
    parse_notice(buf_cstr(&out), &p);
    CHECK_STR(field_str(p.header, "Subject"),
              "Postmaster Copy: Undelivered Mail Returned to Sender");
    CHECK_STR(field_str(p.header, "To"), "<postmaster@example.org>");
    parsed_free(&p);
    buf_free(&out);
    fixture_free(&f);
}

static void test_8bit_and_crlf(void)
{
    struct fixture f;
    struct buf out = BUF_INIT;
    static const char eight[] = "Subject: caf\xc3\xa9\n\nna\xc3\xafve\r\n"
                                "bare\rcr\nlast line without end";
    fixture_init(&f, "5.1.1", "5.2.2");
    f.source.data = eight;
    f.source.len = strlen(eight);
    f.notice.original_size = (long long)f.source.len;
    f.notice.original_8bit = 1;
    f.notice.crlf = 1;
    CHECK_INT(compose(&f, &out), 0);
    const char *text = buf_cstr(&out);
    /* Every LF is part of a CRLF; the bare CR is kept. */
    for (size_t i = 0; i < out.len; i++)
        if (text[i] == '\n' && (i == 0 || text[i - 1] != '\r')) {
            CHECK(!"bare LF in CRLF output");
            break;
        }
    CHECK(strstr(text, "Content-Transfer-Encoding: 8bit\r\n\r\nThis is a "
                       "MIME") != NULL);
    CHECK(strstr(text, "Content-Type: message/rfc822\r\n"
                       "Content-Description: Undelivered Message\r\n"
                       "Content-Transfer-Encoding: 8bit\r\n") != NULL);
    CHECK(strstr(text, "\r\n\r\nna\xc3\xafve\r\nbare\rcr\r\nlast line without "
                       "end\r\n\r\n--") != NULL);
    buf_free(&out);
    fixture_free(&f);
}

static void test_utf8_addresses(void)
{
    struct fixture f;
    struct buf out = BUF_INIT;
    struct parsed p;
    fixture_init(&f, "5.1.1", "5.2.2");
    f.rcpt[1].address = "j\xc3\xb6rg@example.org";
    CHECK_INT(compose(&f, &out), 0);
    parse_notice(buf_cstr(&out), &p);
    CHECK_STR(field_str(p.header, "Content-Transfer-Encoding"), "8bit");
    CHECK(p.part_count >= 2);
    if (p.part_count >= 2) {
        CHECK_STR(field_str(p.parts[0].header, "Content-Type"),
                  "text/plain; charset=utf-8");
        CHECK_STR(field_str(p.parts[1].header, "Content-Type"),
                  "message/global-delivery-status");
        CHECK(strstr(p.parts[1].body,
                     "Final-Recipient: utf-8; j\xc3\xb6rg@example.org\n"));
        CHECK(strstr(p.parts[1].body,
                     "Final-Recipient: rfc822; bob@example.org\n"));
    }
    parsed_free(&p);
    buf_free(&out);
    fixture_free(&f);
}

/* A reader that hands out one byte at a time and counts its calls. */
struct trickle {
    const char *data;
    size_t len, pos;
    size_t calls, fail_after;
};

static ssize_t trickle_read(void *ctx, char *dst, size_t cap)
{
    struct trickle *t = ctx;
    t->calls++;
    if (t->fail_after && t->calls > t->fail_after)
        return -1;
    if (t->pos >= t->len || cap == 0)
        return 0;
    dst[0] = t->data[t->pos++];
    return 1;
}

static void test_streaming_reader(void)
{
    struct fixture f;
    struct buf whole = BUF_INIT, trickled = BUF_INIT, err = BUF_INIT;
    fixture_init(&f, "5.1.1", "5.2.2");
    CHECK_INT(compose(&f, &whole), 0);

    /* One byte per read (CRLF split across reads) gives the same body. */
    struct trickle t = {original, strlen(original), 0, 0, 0};
    f.notice.read_original = trickle_read;
    f.notice.original_ctx = &t;
    CHECK_INT(bounce_msg_to_buf(&f.notice, &trickled, &err), 0);
    const char *a = strstr(buf_cstr(&whole), "From: Alice");
    const char *b = strstr(buf_cstr(&trickled), "From: Alice");
    CHECK(a && b);
    if (a && b) {
        /* The bodies match up to the (random) closing boundary. */
        size_t len = strcspn(a, "-");
        CHECK(strncmp(a, b, len) == 0);
    }

    /* Headers only: reading stops at the end of the header. */
    t.pos = t.calls = 0;
    f.notice.ret = BOUNCE_RET_HDRS;
    buf_reset(&trickled);
    CHECK_INT(bounce_msg_to_buf(&f.notice, &trickled, &err), 0);
    CHECK(t.calls < strlen(original) - 10);

    /* A failing reader fails the notice with a reason. */
    t.pos = t.calls = 0;
    t.fail_after = 5;
    f.notice.ret = BOUNCE_RET_FULL;
    buf_reset(&trickled);
    CHECK_INT(bounce_msg_to_buf(&f.notice, &trickled, &err), -1);
    CHECK(strstr(buf_cstr(&err), "original") != NULL);

    buf_free(&whole);
    buf_free(&trickled);
    buf_free(&err);
    fixture_free(&f);
}

/* Counts the output and never keeps it: a large message streams through
 * with bounded memory (staging is flushed in 16 KiB writes). */
struct counter {
    size_t bytes, writes, largest;
    int fail;
};

static int count_write(void *ctx, const char *data, size_t len)
{
    struct counter *c = ctx;
    c->bytes += len;
    c->writes++;
    if (len > c->largest)
        c->largest = len;
    return c->fail ? -1 : 0;
}

static void test_large_original_from_fd(void)
{
    char path[] = "/tmp/test_bounce_msgXXXXXX";
    int fd = mkstemp(path);
    CHECK(fd >= 0);
    if (fd < 0)
        return;
    unlink(path);
    const char *prefix = "JUNK BEFORE THE MESSAGE\n";
    CHECK(write(fd, prefix, strlen(prefix)) == (ssize_t)strlen(prefix));
    const char *head = "Subject: big\n\n";
    CHECK(write(fd, head, strlen(head)) == (ssize_t)strlen(head));
    char line[100];
    memset(line, 'x', sizeof(line) - 1);
    line[sizeof(line) - 1] = '\n';
    for (int i = 0; i < 40000; i++) /* 4 MB of body */
        CHECK(write(fd, line, sizeof(line)) == (ssize_t)sizeof(line));
    CHECK(write(fd, "TRAILER\n", 8) == 8);
    off_t end = lseek(fd, 0, SEEK_END);

    struct fixture f;
    fixture_init(&f, "5.1.1", "5.2.2");
    struct bounce_fd_source src = {fd, (off_t)strlen(prefix), end - 8};
    f.notice.read_original = bounce_read_fd;
    f.notice.original_ctx = &src;
    f.notice.original_size = (long long)(end - 8 - src.offset);
    f.notice.size_limit = 0;
    struct counter c = {0, 0, 0, 0};
    struct buf err = BUF_INIT;
    CHECK_INT(bounce_msg_write(&f.notice, count_write, &c, &err), 0);
    CHECK(c.bytes > 4000000);
    CHECK(c.bytes < 4000000 + 4000);
    CHECK(c.largest < 64 * 1024);
    CHECK(c.writes > 100);
    CHECK(src.offset == end - 8); /* read up to the range's end only */

    /* The same with the default limit: headers only, little read. */
    src.offset = (off_t)strlen(prefix);
    f.notice.size_limit = BOUNCE_SIZE_LIMIT_DEFAULT;
    struct buf out = BUF_INIT;
    CHECK_INT(bounce_msg_to_buf(&f.notice, &out, &err), 0);
    CHECK(strstr(buf_cstr(&out), "JUNK") == NULL);
    CHECK(strstr(buf_cstr(&out), "text/rfc822-headers\nContent-Description: "
                                 "Undelivered Message Headers\n\n"
                                 "Subject: big\n\n--"));
    CHECK(strstr(buf_cstr(&out), "xxxx") == NULL);
    CHECK(src.offset < (off_t)strlen(prefix) + 64 * 1024);

    /* A failing writer fails the notice. */
    src.offset = (off_t)strlen(prefix);
    c.fail = 1;
    CHECK_INT(bounce_msg_write(&f.notice, count_write, &c, &err), -1);
    CHECK(strstr(buf_cstr(&err), "write") != NULL);

    buf_free(&out);
    buf_free(&err);
    fixture_free(&f);
    close(fd);
}

static void test_header_only_limit(void)
{
    struct buf big = BUF_INIT, out = BUF_INIT;
    for (int i = 0; i < 5000; i++)
        buf_appendf(&big, "X-Filler-%d: %s\n", i,
                    "0123456789012345678901234567890123456789");
    buf_append_str(&big, "\nbody\n");
    struct fixture f;
    fixture_init(&f, "5.1.1", "5.2.2");
    f.source.data = big.data;
    f.source.len = big.len;
    f.notice.original_size = (long long)big.len;
    CHECK_INT(compose(&f, &out), 0);
    const char *part = strstr(buf_cstr(&out), "Message Headers\n\n");
    CHECK(part != NULL);
    if (part) {
        const char *end = strstr(part, "\n\n--");
        CHECK(end != NULL);
        size_t returned = end ? (size_t)(end - part) : 0;
        CHECK(returned >= BOUNCE_HEADER_LIMIT);
        CHECK(returned < BOUNCE_HEADER_LIMIT + 200);
    }
    buf_free(&big);
    buf_free(&out);
    fixture_free(&f);
}

static void test_no_header_injection(void)
{
    struct fixture f;
    struct buf out = BUF_INIT;
    fixture_init(&f, "5.1.1", "5.2.2");
    f.notice.sender = "alice@example.com\r\nBcc: victim@example.net";
    f.notice.envid = "E1\nX-Evil: 1";
    f.rcpt[0].address = "bob@example.org\nX-Evil: 2";
    dsn_free(&f.dsn[0]);
    dsn_set(&f.dsn[0], "5.1.1", -1, "bad\r\nX-Evil: 3", "dns", "mx\nX-Evil: 4",
            "smtp", "550 x\r\n\r\n--boundary");
    CHECK_INT(compose(&f, &out), 0);
    const char *text = buf_cstr(&out);
    CHECK(strstr(text, "\nBcc:") == NULL);
    CHECK(strstr(text, "\nX-Evil") == NULL);
    CHECK(strstr(text, "\n--boundary") == NULL);
    buf_free(&out);
    fixture_free(&f);
}

static void test_folding_and_line_lengths(void)
{
    struct fixture f;
    struct buf out = BUF_INIT, diag = BUF_INIT, token = BUF_INIT;
    fixture_init(&f, "5.1.1", "5.2.2");
    for (int i = 0; i < 40; i++)
        buf_appendf(&diag, "word%d ", i);
    for (int i = 0; i < 2000; i++)
        buf_append_char(&token, 'T');
    buf_append_str(&diag, buf_cstr(&token));
    dsn_free(&f.dsn[0]);
    dsn_set(&f.dsn[0], "5.1.1", -1, buf_cstr(&diag), "dns", "mx", "smtp",
            buf_cstr(&diag));
    CHECK_INT(compose(&f, &out), 0);
    const char *line = buf_cstr(&out);
    size_t longest = 0, long_lines = 0;
    while (*line) {
        size_t len = strcspn(line, "\n");
        if (len > longest)
            longest = len;
        if (len > 78)
            long_lines++;
        line += len + (line[len] == '\n');
    }
    CHECK(longest <= 998);
    /* Only pieces of the 2000-byte token may exceed 78 columns
     * (plus the boundary parameter line). */
    CHECK(long_lines <= 8);
    /* Unfolding gives the words back. */
    struct parsed p;
    parse_notice(buf_cstr(&out), &p);
    if (p.part_count >= 2) {
        char *bob = recipient_block(p.parts[1].body, "bob@example.org");
        const char *dc = bob ? field_str(bob, "Diagnostic-Code") : NULL;
        CHECK(dc && str_has_prefix(dc, "smtp; word0 word1 word2"));
        CHECK(dc && strstr(dc, "word38 word39 TTTT"));
        free(bob);
    } else {
        CHECK(!"parts missing");
    }
    parsed_free(&p);
    buf_free(&out);
    buf_free(&diag);
    buf_free(&token);
    fixture_free(&f);
}

static void test_unique_boundary(void)
{
    struct fixture f;
    struct buf one = BUF_INIT, two = BUF_INIT;
    struct parsed p1, p2;
    fixture_init(&f, "5.1.1", "5.2.2");
    f.notice.myhostname = "a-very-long-host-name.with.many.labels.example."
                          "org.that.goes.on.and.on";
    CHECK_INT(compose(&f, &one), 0);
    CHECK_INT(compose(&f, &two), 0);
    parse_notice(buf_cstr(&one), &p1);
    parse_notice(buf_cstr(&two), &p2);
    CHECK(p1.boundary[0] && p2.boundary[0]);
    CHECK(strcmp(p1.boundary, p2.boundary) != 0);
    CHECK(strlen(p1.boundary) <= 70);
    CHECK(strcmp(field_str(p1.header, "Message-ID"),
                 field_str(p2.header, "Message-ID")) != 0);
    CHECK_INT(p1.part_count, 3);
    parsed_free(&p1);
    parsed_free(&p2);
    buf_free(&one);
    buf_free(&two);
    fixture_free(&f);
}

static void test_bad_arguments(void)
{
    struct fixture f;
    struct buf out = BUF_INIT, err = BUF_INIT;
    fixture_init(&f, "5.1.1", "5.2.2");
    f.notice.sender = "";
    CHECK_INT(bounce_msg_to_buf(&f.notice, &out, &err), -1);
    CHECK(strstr(buf_cstr(&err), "null sender") != NULL);
    f.notice.notify_to = "postmaster@example.org";
    CHECK_INT(bounce_msg_to_buf(&f.notice, &out, &err), 0);
    f.notice.rcpt_count = 0;
    CHECK_INT(bounce_msg_to_buf(&f.notice, &out, &err), -1);
    f.notice.rcpt_count = 2;
    f.notice.myhostname = "";
    CHECK_INT(bounce_msg_to_buf(&f.notice, &out, &err), -1);
    buf_free(&out);
    buf_free(&err);
    fixture_free(&f);
}

static void test_format_date(void)
{
    struct buf b = BUF_INIT;
    setenv("TZ", "UTC", 1);
    tzset();
    bounce_format_date(&b, 1795000000);
    CHECK_STR(buf_cstr(&b), "Wed, 18 Nov 2026 11:06:40 +0000 (UTC)");
    buf_reset(&b);
    setenv("TZ", "EST5EDT", 1);
    tzset();
    bounce_format_date(&b, 1795000000);
    CHECK_STR(buf_cstr(&b), "Wed, 18 Nov 2026 06:06:40 -0500 (EST)");
    buf_reset(&b);
    setenv("TZ", "IST-5:30", 1);
    tzset();
    bounce_format_date(&b, 0);
    CHECK_STR(buf_cstr(&b), "Thu, 1 Jan 1970 05:30:00 +0530 (IST)");
    buf_free(&b);
    setenv("TZ", "UTC", 1);
    tzset();
}

int main(void)
{
    UNIT_RUN(test_failure_full_structure);
    UNIT_RUN(test_ret_hdrs);
    UNIT_RUN(test_size_limit);
    UNIT_RUN(test_delay_warning);
    UNIT_RUN(test_success_report);
    UNIT_RUN(test_8bit_and_crlf);
    UNIT_RUN(test_utf8_addresses);
    UNIT_RUN(test_streaming_reader);
    UNIT_RUN(test_large_original_from_fd);
    UNIT_RUN(test_header_only_limit);
    UNIT_RUN(test_no_header_injection);
    UNIT_RUN(test_folding_and_line_lengths);
    UNIT_RUN(test_unique_boundary);
    UNIT_RUN(test_bad_arguments);
    UNIT_RUN(test_format_date);
    return unit_summary();
}
