/* test_mime_scan.c: unit tests for lib/message/mime_scan (the header and body
 * pieces that postmap -h/-b query, with and without MIME). */
#include "unit.h"

#include "base/buf.h"
#include "message/mime_scan.h"
#include "base/str.h"

/* Each piece as "H0:text", "H1:..", "H2:.." (header class) or "B:text",
 * one per line, newlines inside a header shown as "|". */
static void on_header(void *ctx, enum mime_header_class cls, const char *text,
                      size_t len)
{
    struct buf *out = ctx;
    buf_appendf(out, "H%d:", (int)cls);
    for (size_t i = 0; i < len; i++)
        buf_append_char(out, text[i] == '\n' ? '|' : text[i]);
    buf_append_char(out, '\n');
}

static void on_body(void *ctx, const char *line, size_t len)
{
    struct buf *out = ctx;
    buf_append_str(out, "B:");
    buf_append(out, line, len);
    buf_append_char(out, '\n');
}

static const char *scan(int mime, const char *message, struct buf *out)
{
    buf_reset(out);
    struct mime_scan *ms = mime_scan_new(mime, on_header, on_body, out);
    const char *p = message;
    while (*p) {
        const char *nl = strchr(p, '\n');
        size_t len = nl ? (size_t)(nl - p) : strlen(p);
        mime_scan_line(ms, p, len);
        p += len + (nl ? 1 : 0);
    }
    mime_scan_end(ms);
    mime_scan_free(ms);
    return buf_cstr(out);
}

static const char *multipart =
    "From: a@example.com\r\n"
    "Subject: two\r\n"
    "  lines\n"
    "Content-Type: multipart/mixed;\n"
    "\tboundary=\"outer b\" (comment)\n"
    "\n"
    "preamble\n"
    "--outer b\n"
    "Content-Type: text/plain\n"
    "\n"
    "hello\n"
    "Not-A-Header: in the body\n"
    "--outer b\n"
    "Content-Type: message/rfc822\n"
    "\n"
    "Subject: inner\n"
    "Content-Type: multipart/alternative; boundary=in\n"
    "\n"
    "--in\n"
    "X-Part: 1\n"
    "\n"
    "inner text\n"
    "--in--\n"
    "--outer b--\n"
    "epilogue\n";

static void test_plain_message(void)
{
    struct buf out = BUF_INIT;
    /* Without MIME: one header section, then body; CR dropped. */
    CHECK_STR(scan(0, multipart, &out),
              "H0:From: a@example.com\n"
              "H0:Subject: two|  lines\n"
              "H0:Content-Type: multipart/mixed;|\tboundary=\"outer b\" "
              "(comment)\n"
              "B:preamble\n"
              "B:--outer b\n"
              "B:Content-Type: text/plain\n"
              "B:\n"
              "B:hello\n"
              "B:Not-A-Header: in the body\n"
              "B:--outer b\n"
              "B:Content-Type: message/rfc822\n"
              "B:\n"
              "B:Subject: inner\n"
              "B:Content-Type: multipart/alternative; boundary=in\n"
              "B:\n"
              "B:--in\n"
              "B:X-Part: 1\n"
              "B:\n"
              "B:inner text\n"
              "B:--in--\n"
              "B:--outer b--\n"
              "B:epilogue\n");
    /* A header without an empty line after it: the first non-header
     * line is body; a leading continuation line is body too. */
    CHECK_STR(scan(0, "A: 1\nbody: x y\nno colon here\n", &out),
              "H0:A: 1\nH0:body: x y\nB:no colon here\n");
    CHECK_STR(scan(0, " starts with space\nA: 1\n", &out),
              "B: starts with space\nB:A: 1\n");
    CHECK_STR(scan(0, "Subject: only a header", &out),
              "H0:Subject: only a header\n");
    CHECK_STR(scan(0, "", &out), "");
    buf_free(&out);
}

static void test_mime_message(void)
{
    struct buf out = BUF_INIT;
    CHECK_STR(scan(1, multipart, &out),
              "H0:From: a@example.com\n"
              "H0:Subject: two|  lines\n"
              "H0:Content-Type: multipart/mixed;|\tboundary=\"outer b\" "
              "(comment)\n"
              "B:preamble\n"
              "B:--outer b\n"
              "H1:Content-Type: text/plain\n"
              "B:hello\n"
              "B:Not-A-Header: in the body\n"
              "B:--outer b\n"
              "H1:Content-Type: message/rfc822\n"
              "H2:Subject: inner\n"
              "H2:Content-Type: multipart/alternative; boundary=in\n"
              "B:--in\n"
              "H1:X-Part: 1\n"
              "B:inner text\n"
              "B:--in--\n"
              "B:--outer b--\n"
              "B:epilogue\n");
    /* multipart/digest parts are messages by default; an unclosed inner
     * multipart ends at the outer boundary; "--b  " with trailing
     * spaces is a boundary, "--bx" is not. */
    CHECK_STR(scan(1,
                   "Content-Type: multipart/digest; boundary=b\n"
                   "\n"
                   "--b  \n"
                   "\n"
                   "Subject: digest member\n"
                   "\n"
                   "member body\n"
                   "--bx\n"
                   "--b\n"
                   "Content-Type: multipart/mixed; boundary=c\n"
                   "\n"
                   "--c\n"
                   "\n"
                   "c part\n"
                   "--b--\n"
                   "--c\n"
                   "after\n",
                   &out),
              "H0:Content-Type: multipart/digest; boundary=b\n"
              "B:--b  \n"
              "H2:Subject: digest member\n"
              "B:member body\n"
              "B:--bx\n"
              "B:--b\n"
              "H1:Content-Type: multipart/mixed; boundary=c\n"
              "B:--c\n"
              "B:c part\n"
              "B:--b--\n"
              "B:--c\n"
              "B:after\n");
    /* multipart without a boundary is not followed. */
    CHECK_STR(scan(1, "Content-Type: multipart/mixed\n\n--x\nA: b\n", &out),
              "H0:Content-Type: multipart/mixed\nB:--x\nB:A: b\n");
    buf_free(&out);
}

static void test_bounds(void)
{
    struct buf msg = BUF_INIT, out = BUF_INIT;
    /* A huge header keeps MIME_SCAN_HEADER_LIMIT bytes. */
    buf_append_str(&msg, "Subject: x\n");
    for (int i = 0; i < 5000; i++)
        buf_append_str(&msg, " continuation line of some length here\n");
    buf_append_str(&msg, "\nbody\n");
    scan(0, buf_cstr(&msg), &out);
    CHECK(out.len < MIME_SCAN_HEADER_LIMIT + 64);
    CHECK(str_has_suffix(buf_cstr(&out), "\nB:body\n"));
    /* Nesting past the limit is not followed (and does not crash). */
    buf_reset(&msg);
    for (int i = 0; i < MIME_SCAN_NESTING_LIMIT + 50; i++)
        buf_appendf(&msg, "Content-Type: multipart/mixed; boundary=b%d\n\n"
                          "--b%d\n", i, i);
    buf_append_str(&msg, "\nlast\n");
    scan(1, buf_cstr(&msg), &out);
    CHECK(str_has_suffix(buf_cstr(&out), "B:last\n"));
    /* A boundary longer than the limit is not followed. */
    buf_reset(&msg);
    buf_append_str(&msg, "Content-Type: multipart/mixed; boundary=");
    for (int i = 0; i <= MIME_SCAN_BOUNDARY_MAX; i++)
        buf_append_char(&msg, 'x');
    buf_append_str(&msg, "\n\nA: b\n");
    CHECK(str_has_suffix(scan(1, buf_cstr(&msg), &out), "\nB:A: b\n"));
    buf_free(&msg);
    buf_free(&out);
}

/* Structure events (for mime_downgrade), one letter each: L M G (leaf,
 * multipart, message) P C (part, close), "." after each line. */
static void on_event(void *ctx, enum mime_event event)
{
    buf_append_char(ctx, "LMGPC"[event]);
}

static void test_events(void)
{
    struct buf out = BUF_INIT;
    buf_init(&out);
    struct mime_scan *ms = mime_scan_new(1, NULL, NULL, &out);
    mime_scan_set_events(ms, on_event);
    const char *lines[] = {
        "Content-Type: multipart/mixed; boundary=b", "", "preamble", "--b",
        "Content-Type: message/rfc822", "", "Subject: inner", "", "text",
        "--b", "no header line", "--b--", "epilogue"};
    for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]); i++) {
        mime_scan_line(ms, lines[i], strlen(lines[i]));
        buf_append_char(&out, '.');
    }
    mime_scan_end(ms);
    mime_scan_free(ms);
    CHECK_STR(buf_cstr(&out), ".M..P..G..L..P.L.C..");
    buf_free(&out);
}

int main(void)
{
    UNIT_RUN(test_plain_message);
    UNIT_RUN(test_mime_message);
    UNIT_RUN(test_bounds);
    UNIT_RUN(test_events);
    return unit_summary();
}
