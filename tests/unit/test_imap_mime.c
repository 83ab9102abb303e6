/* test_imap_mime.c: the IMAP MIME parser (lib/message/mime_tree,
 * imap_bodystructure, imap_envelope, imap_address) against Dovecot
 * 2.3.19's own answers for the conformance corpus in
 * ../shared/conformance/mime (RFC822.SIZE, ENVELOPE, BODY,
 * BODYSTRUCTURE of 127 messages), plus malformed inputs and the section
 * map. The deliberate differences from Dovecot are listed below and in
 * docs/imap-mime.md; any other difference fails. */
#include "unit.h"

#include <time.h>

#include "base/buf.h"
#include "base/file_read.h"
#include "message/imap_bodystructure.h"
#include "message/imap_envelope.h"
#include "message/mime_tree.h"
#include "message/mime_tree_blob.h"
#include "message/rfc2047.h"
#include "json_fixture.h"

/* Differences from Dovecot's answers that we keep on purpose (each one
 * explained in docs/imap-mime.md). Field: "size", "envelope", "body",
 * "bodystructure". A listed pair that matches fails too, so the list
 * stays true. */
static const struct {
    const char *file, *field;
} exceptions[] = {
    {NULL, NULL},
};

static int blob_round_trip(const char *data, size_t len, size_t *blob_len);

/* ---- a canonical form of IMAP data, to compare values not bytes ---- */

/* Reads one IMAP value list from text[*pos..len) into out: strings
 * (quoted or literal) as "..." with \ and " escaped, atoms and numbers
 * upper-cased (NIL), lists in parentheses, one space between items. */
static int canon(const char *t, size_t len, size_t *pos, struct buf *out)
{
    int depth = 0, first = 1;
    while (*pos < len) {
        char c = t[*pos];
        if (c == ' ') {
            (*pos)++;
            continue;
        }
        if (c == ')') {
            if (depth == 0)
                return -1;
            depth--;
            buf_append_char(out, ')');
            (*pos)++;
            first = 0;
            continue;
        }
        if (!first && out->len > 0 && out->data[out->len - 1] != '(')
            buf_append_char(out, ' ');
        first = 0;
        if (c == '(') {
            depth++;
            buf_append_char(out, '(');
            (*pos)++;
            first = 1;
        } else if (c == '"') {
            buf_append_char(out, '"');
            (*pos)++;
            while (*pos < len && t[*pos] != '"') {
                if (t[*pos] == '\\' && *pos + 1 < len)
                    (*pos)++;
                if (t[*pos] == '"' || t[*pos] == '\\')
                    buf_append_char(out, '\\');
                buf_append_char(out, t[*pos]);
                (*pos)++;
            }
            if (*pos >= len)
                return -1;
            (*pos)++;
            buf_append_char(out, '"');
        } else if (c == '{') {
            size_t n = 0;
            (*pos)++;
            while (*pos < len && t[*pos] >= '0' && t[*pos] <= '9')
                n = n * 10 + (size_t)(t[(*pos)++] - '0');
            if (*pos + 3 > len || t[*pos] != '}' || t[*pos + 1] != '\r' ||
                t[*pos + 2] != '\n')
                return -1;
            *pos += 3;
            if (*pos + n > len)
                return -1;
            buf_append_char(out, '"');
            for (size_t i = 0; i < n; i++) {
                char d = t[*pos + i];
                if (d == '"' || d == '\\')
                    buf_append_char(out, '\\');
                buf_append_char(out, d);
            }
            buf_append_char(out, '"');
            *pos += n;
        } else {
            while (*pos < len && t[*pos] != ' ' && t[*pos] != '(' &&
                   t[*pos] != ')') {
                char d = t[(*pos)++];
                buf_append_char(out, d >= 'a' && d <= 'z' ? d - 32 : d);
            }
        }
    }
    return depth == 0 ? 0 : -1;
}

static int canon_str(const char *t, size_t len, struct buf *out)
{
    size_t pos = 0;
    buf_reset(out);
    return canon(t, len, &pos, out);
}

static int is_exception(const char *file, const char *field)
{
    for (size_t i = 0; exceptions[i].file; i++)
        if (strcmp(exceptions[i].file, file) == 0 &&
            strcmp(exceptions[i].field, field) == 0)
            return 1;
    return 0;
}

static int compare(const char *file, const char *field, const char *ours,
                   size_t ours_len, const char *theirs, size_t theirs_len,
                   size_t *excepted)
{
    struct buf a = BUF_INIT, b = BUF_INIT;
    int same, listed = is_exception(file, field);
    canon_str(ours, ours_len, &a);
    canon_str(theirs, theirs_len, &b);
    same = a.len == b.len && memcmp(a.data, b.data, a.len) == 0;
    if (!same && !listed)
        printf("#   %s %s differs:\n#     ours:    %s\n#     dovecot: %s\n",
               file, field, a.data, b.data);
    if (same && listed)
        printf("#   %s %s matches but is listed as an exception\n", file,
               field);
    if (!same && listed)
        (*excepted)++;
    buf_free(&a);
    buf_free(&b);
    return same == listed;
}

static void conformance_dovecot_reference(void)
{
    char path[4096];
    FILE *fp;
    char *line = NULL;
    size_t cap = 0, messages = 0, failures = 0, excepted = 0;
    size_t bytes = 0, blob_bytes = 0;
    double parse_seconds = 0, envelope_seconds = 0;
    struct buf file = BUF_INIT, value = BUF_INIT, data = BUF_INIT,
               out = BUF_INIT, why = BUF_INIT;

    snprintf(path, sizeof(path), "%s/mime/dovecot-2.3.19-reference.jsonl",
             conformance_dir());
    fp = fopen(path, "r");
    if (fp == NULL)
        SKIP("../shared/conformance/mime is not present beside the source "
             "tree (set POSTERN_CONFORMANCE_DIR)");
    while (getline(&line, &cap, fp) > 0) {
        struct mime_tree tree;
        struct timespec t0, t1, t2;
        char msgpath[4096];
        if (json_get(line, "file", &file) < 0)
            continue;
        snprintf(msgpath, sizeof(msgpath), "%s/mime/%s", conformance_dir(),
                 file.data);
        if (file_read(msgpath, 64 * 1024 * 1024, &data, &why) < 0) {
            printf("#   cannot read %s: %s\n", msgpath, why.data);
            failures++;
            continue;
        }
        messages++;
        bytes += data.len;
        mime_tree_init(&tree);
        clock_gettime(CLOCK_MONOTONIC, &t0);
        mime_tree_parse(&tree, data.data, data.len);
        clock_gettime(CLOCK_MONOTONIC, &t1);
        buf_reset(&out);
        imap_envelope_write(&out, data.data,
                            imap_header_length(data.data, data.len));
        clock_gettime(CLOCK_MONOTONIC, &t2);
        parse_seconds += (double)(t1.tv_sec - t0.tv_sec) +
                         (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
        envelope_seconds += (double)(t2.tv_sec - t1.tv_sec) +
                            (double)(t2.tv_nsec - t1.tv_nsec) / 1e9;

        json_get(line, "envelope", &value);
        failures += (size_t)compare(file.data, "envelope", out.data, out.len,
                                    value.data, value.len, &excepted);

        buf_reset(&out);
        buf_appendf(&out, "%zu",
                    tree.parts[0].header_vsize + tree.parts[0].body_vsize);
        json_get(line, "rfc822_size", &value);
        failures += (size_t)compare(file.data, "size", out.data, out.len,
                                    value.data, value.len, &excepted);

        buf_reset(&out);
        imap_bodystructure_write(&out, &tree, 0, 0);
        json_get(line, "body", &value);
        failures += (size_t)compare(file.data, "body", out.data, out.len,
                                    value.data, value.len, &excepted);

        buf_reset(&out);
        imap_bodystructure_write(&out, &tree, 0, 1);
        json_get(line, "bodystructure", &value);
        failures += (size_t)compare(file.data, "bodystructure", out.data,
                                    out.len, value.data, value.len,
                                    &excepted);
        {
            size_t blob_len;
            if (!blob_round_trip(data.data, data.len, &blob_len)) {
                printf("#   %s: blob round trip differs\n", file.data);
                failures++;
            }
            blob_bytes += blob_len;
        }
        mime_tree_free(&tree);
    }
    fclose(fp);
    free(line);
    printf("#   %zu messages (%zu bytes): %zu differences outside the list, "
           "%zu listed ones\n", messages, bytes, failures, excepted);
    if (messages > 0)
        printf("#   time per message: structure %.2f us, envelope %.2f us\n",
               parse_seconds * 1e6 / (double)messages,
               envelope_seconds * 1e6 / (double)messages);
    if (messages > 0)
        printf("#   index blob: %zu bytes per message on average\n",
               blob_bytes / messages);
    CHECK(messages == 127);
    CHECK_INT(failures, 0);
    buf_free(&file);
    buf_free(&value);
    buf_free(&data);
    buf_free(&out);
    buf_free(&why);
}


/* ---- hand-made inputs: malformed structure, bounds, sections ---- */

static void parse_str(struct mime_tree *tree, const char *text)
{
    mime_tree_init(tree);
    mime_tree_parse(tree, text, strlen(text));
}

static const char *bodystructure(const struct mime_tree *tree, int ext)
{
    static struct buf out = BUF_INIT;
    buf_reset(&out);
    imap_bodystructure_write(&out, tree, 0, ext);
    return buf_cstr(&out);
}

/* Every part lies inside its parent and the message. */
static int tree_in_bounds(const struct mime_tree *tree)
{
    for (uint32_t i = 0; i < tree->count; i++) {
        const struct mime_part *p = &tree->parts[i];
        size_t end = p->offset + p->header_size + p->body_size;
        if (end > tree->len)
            return 0;
        if (p->parent != MIME_NONE) {
            const struct mime_part *q = &tree->parts[p->parent];
            if (p->offset < mime_part_body_offset(q) ||
                end > mime_part_body_offset(q) + q->body_size)
                return 0;
        }
    }
    return 1;
}

static void bare_lf_counts_as_crlf(void)
{
    struct mime_tree t;
    parse_str(&t, "Subject: x\n\nline 1\nline 2\n");
    CHECK_INT(t.count, 1);
    CHECK_INT(t.parts[0].header_size, 12);
    CHECK_INT(t.parts[0].header_vsize, 14);
    CHECK_INT(t.parts[0].body_size, 14);
    CHECK_INT(t.parts[0].body_vsize, 16);
    CHECK_INT(t.parts[0].body_lines, 2);
    CHECK_STR(bodystructure(&t, 0),
              "\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 16 2");
    mime_tree_free(&t);
}

static const char *two_parts =
    "Content-Type: multipart/mixed; boundary=\"b\"\r\n"
    "\r\n"
    "preamble\r\n"
    "--b\r\n"
    "Content-Type: text/plain; charset=utf-8\r\n"
    "\r\n"
    "one\r\n"
    "--b\r\n"
    "Content-Type: message/rfc822\r\n"
    "\r\n"
    "Subject: inner\r\n"
    "Content-Type: multipart/alternative; boundary=c\r\n"
    "\r\n"
    "--c\r\n"
    "\r\n"
    "plain\r\n"
    "--c\r\n"
    "Content-Type: text/html\r\n"
    "\r\n"
    "<p>html</p>\r\n"
    "--b--\r\n"
    "epilogue\r\n";

static void outer_boundary_closes_inner_parts(void)
{
    struct mime_tree t;
    const struct mime_part *p;
    parse_str(&t, two_parts);
    CHECK(tree_in_bounds(&t));
    /* message, 2 parts, the attached message, its 2 parts */
    CHECK_INT(t.count, 6);
    CHECK_STR(bodystructure(&t, 0),
              "(\"text\" \"plain\" (\"charset\" \"utf-8\") NIL NIL \"7bit\" 3 0)"
              "(\"message\" \"rfc822\" NIL NIL NIL \"7bit\" 124 "
              "(NIL \"inner\" NIL NIL NIL NIL NIL NIL NIL NIL) "
              "((\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 5 0)"
              "(\"text\" \"html\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 11 0)"
              " \"alternative\") 9) \"mixed\"");
    /* the html part ends before the CRLF of "--b--" */
    p = &t.parts[5];
    CHECK_INT(p->body_size, 11);
    CHECK(memcmp(t.data + mime_part_body_offset(p), "<p>html</p>", 11) == 0);
    mime_tree_free(&t);
}

static void tree_is_reusable(void)
{
    struct mime_tree t;
    parse_str(&t, two_parts);
    mime_tree_parse(&t, "Subject: x\n\nbody\n", 18);
    CHECK_INT(t.count, 1);
    mime_tree_parse(&t, two_parts, strlen(two_parts));
    CHECK_INT(t.count, 6);
    CHECK(tree_in_bounds(&t));
    mime_tree_free(&t);
}

static void sections_map_to_parts(void)
{
    struct mime_tree t;
    const struct mime_part *p;
    unsigned s1[] = {1}, s2[] = {2}, s21[] = {2, 1}, s22[] = {2, 2},
             s3[] = {3}, s211[] = {2, 1, 1};
    parse_str(&t, two_parts);
    p = mime_tree_section(&t, s1, 1);
    CHECK(p == &t.parts[1]);
    p = mime_tree_section(&t, s2, 1);
    CHECK(p == &t.parts[2]);
    CHECK(p != NULL && (p->flags & MIME_PART_MESSAGE));
    /* 2.HEADER is the attached message's header: parts[3] */
    CHECK(p != NULL && p->first_child == 3);
    CHECK(mime_tree_section(&t, s21, 2) == &t.parts[4]);
    CHECK(mime_tree_section(&t, s22, 2) == &t.parts[5]);
    CHECK(mime_tree_section(&t, s3, 1) == NULL);
    CHECK(mime_tree_section(&t, s211, 3) == &t.parts[4]);
    mime_tree_free(&t);
    /* part 1 of a single-part message is its body */
    parse_str(&t, "Subject: x\r\n\r\nbody\r\n");
    CHECK(mime_tree_section(&t, s1, 1) == &t.parts[0]);
    CHECK(mime_tree_section(&t, s2, 1) == NULL);
    mime_tree_free(&t);
}

static void missing_final_boundary_and_junk(void)
{
    struct mime_tree t;
    parse_str(&t, "Content-Type: multipart/mixed; boundary=zz\n\n"
                  "--zz\nContent-Type: text/plain\n\nfirst\n"
                  "--zzjunk after the boundary\n\nsecond\n"
                  "--zz \n");
    CHECK(tree_in_bounds(&t));
    CHECK_INT(t.count, 4);
    CHECK_INT(t.parts[1].body_size, 5);
    CHECK_INT(t.parts[2].body_size, 6);
    CHECK_INT(t.parts[3].header_size, 0);
    mime_tree_free(&t);
    /* a header with no empty line runs to the end of its part */
    parse_str(&t, "Content-Type: multipart/mixed; boundary=zz\n\n"
                  "--zz\nno colon here\n--zz--\n");
    CHECK_INT(t.count, 2);
    CHECK_INT(t.parts[1].header_size, 13);
    CHECK_INT(t.parts[1].body_size, 0);
    mime_tree_free(&t);
    /* a multipart without a boundary has one empty text part */
    parse_str(&t, "Content-Type: multipart/mixed\n\n--x\n\nbody\n");
    CHECK_INT(t.count, 1);
    CHECK_STR(bodystructure(&t, 0),
              "(\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 0 0) \"mixed\"");
    mime_tree_free(&t);
}

/* The line end after a closing boundary belongs to that line: an outer
 * boundary right after it takes none (Dovecot 2.3 counts it in the
 * message/rfc822 part, 2 bytes and a line more than before this rule). */
static void closing_boundary_keeps_its_line_end(void)
{
    struct mime_tree t;
    parse_str(&t, "Content-Type: multipart/mixed; boundary=out\n\n"
                  "--out\nContent-Type: message/rfc822\n\n"
                  "Content-Type: multipart/alternative; boundary=in\n\n"
                  "--in\n\ntext\n--in--\n--out--\n");
    CHECK(tree_in_bounds(&t));
    CHECK_INT(t.count, 4);
    /* the message/rfc822 part: header line, empty line, "--in", "",
     * "text", "--in--" and its line end */
    CHECK_INT(t.parts[1].body_size, 49 + 1 + 5 + 1 + 5 + 7);
    CHECK_INT(t.parts[1].body_lines, 6);
    /* with an epilogue, the line end before the outer boundary is the
     * boundary's as always */
    mime_tree_free(&t);
    parse_str(&t, "Content-Type: multipart/mixed; boundary=out\n\n"
                  "--out\nContent-Type: multipart/alternative; boundary=in\n\n"
                  "--in\n\ntext\n--in--\nepilogue\n--out--\n");
    CHECK_INT(t.count, 3);
    CHECK_INT(t.parts[1].body_size, 5 + 1 + 5 + 7 + 8);
    mime_tree_free(&t);
}

static void long_boundary_is_cut(void)
{
    struct buf msg = BUF_INIT, b = BUF_INIT;
    struct mime_tree t;
    for (int i = 0; i < 300; i++)
        buf_append_char(&b, (char)('a' + i % 26));
    buf_appendf(&msg, "Content-Type: multipart/mixed; boundary=\"%s\"\n\n"
                "--%s\n\none\n--%.*sX\n\ntwo\n--%s--\n",
                b.data, b.data, MIME_TREE_BOUNDARY_MAX, b.data, b.data);
    mime_tree_init(&t);
    mime_tree_parse(&t, msg.data, msg.len);
    CHECK(tree_in_bounds(&t));
    /* the cut boundary is a prefix of every line above: three parts */
    CHECK_INT(t.count, 4);
    mime_tree_free(&t);
    buf_free(&msg);
    buf_free(&b);
}

static void deep_nesting_is_bounded(void)
{
    struct buf msg = BUF_INIT, out = BUF_INIT;
    struct mime_tree t;
    int depth = 0;
    for (int i = 0; i < 300; i++)
        buf_append_str(&msg, "Content-Type: message/rfc822\n\n");
    buf_append_str(&msg, "Subject: bottom\n\ntext\n");
    mime_tree_init(&t);
    mime_tree_parse(&t, msg.data, msg.len);
    CHECK(t.limited);
    CHECK(tree_in_bounds(&t));
    for (uint32_t i = 0; i < t.count; i++)
        if (t.parts[i].depth > depth)
            depth = t.parts[i].depth;
    CHECK(depth < MIME_TREE_DEPTH_MAX);
    imap_bodystructure_write(&out, &t, 0, 1);
    CHECK(out.len > 0);
    mime_tree_free(&t);
    buf_free(&msg);
    buf_free(&out);
}

static void envelope_reads_broken_addresses(void)
{
    struct buf out = BUF_INIT;
    const char *h =
        "From: \"Doe, John\" <john@example.com>, (c) jane@example.org (Jane)\r\n"
        "To: team: a@x.example, <b@y.example>;, undisclosed recipients\r\n"
        "Cc: <broken@\r\n"
        "Subject: =?utf-8?q?caf=C3=A9?=\r\n"
        "\r\n";
    imap_envelope_write(&out, h, strlen(h));
    CHECK_STR(out.data,
              "NIL \"=?utf-8?q?caf=C3=A9?=\" "
              "((\"Doe, John\" NIL \"john\" \"example.com\")"
              "(\"Jane\" NIL \"jane\" \"example.org\")) "
              "((\"Doe, John\" NIL \"john\" \"example.com\")"
              "(\"Jane\" NIL \"jane\" \"example.org\")) "
              "((\"Doe, John\" NIL \"john\" \"example.com\")"
              "(\"Jane\" NIL \"jane\" \"example.org\")) "
              "((NIL NIL \"team\" NIL)(NIL NIL \"a\" \"x.example\")"
              "(NIL NIL \"b\" \"y.example\")(NIL NIL NIL NIL)"
              "(\"undisclosed recipients\" NIL \"MISSING_MAILBOX\" \"MISSING_DOMAIN\")) "
              "((NIL NIL \"broken\" \"SYNTAX_ERROR\")) NIL NIL NIL");
    buf_free(&out);
}

static const char *decode(const char *text)
{
    static struct buf out = BUF_INIT;
    buf_reset(&out);
    rfc2047_decode(text, strlen(text), &out);
    return buf_cstr(&out);
}

static void rfc2047_words_decode_to_utf8(void)
{
    CHECK_STR(decode("plain text"), "plain text");
    CHECK_STR(decode("=?iso-8859-1?q?caf=E9?="), "caf\xc3\xa9");
    CHECK_STR(decode("=?UTF-8?B?Y2Fmw6k=?="), "caf\xc3\xa9");
    /* padding left out */
    CHECK_STR(decode("=?UTF-8?B?Y2Fmw6k?="), "caf\xc3\xa9");
    /* white space between words vanishes, not around plain text */
    CHECK_STR(decode("=?utf-8?q?a?= =?utf-8?q?b?= c =?utf-8?q?d_e?="),
              "ab c d e");
    /* a character split across two words */
    CHECK_STR(decode("=?utf-8?b?w6k=?= =?utf-8?q?=C3?=\r\n =?utf-8?q?=A9?="),
              "\xc3\xa9\xc3\xa9");
    CHECK_STR(decode("=?koi8-r?b?8NLJ18XU?="),
              "\xd0\x9f\xd1\x80\xd0\xb8\xd0\xb2\xd0\xb5\xd1\x82");
    CHECK_STR(decode("=?iso-8859-1*fr?q?=E9t=E9?="), "\xc3\xa9t\xc3\xa9");
    /* broken words stay as written; folding is removed */
    CHECK_STR(decode("=?utf-8?x?abc?= and =?utf-8?q?no end"),
              "=?utf-8?x?abc?= and =?utf-8?q?no end");
    CHECK_STR(decode("a\r\n\tb"), "a\tb");
    /* an unknown charset keeps its ASCII; bad bytes become U+FFFD */
    CHECK_STR(decode("=?x-unknown?q?ok=FF?="), "ok\xef\xbf\xbd");
    CHECK_STR(decode("raw \xff byte"), "raw \xef\xbf\xbd byte");
}

/* The blob of a tree reads back to the same tree: every part field, and
 * the same BODYSTRUCTURE. */
static int blob_round_trip(const char *data, size_t len, size_t *blob_len)
{
    struct mime_tree a, b;
    struct buf blob = BUF_INIT, sa = BUF_INIT, sb = BUF_INIT;
    int ok = 1;
    mime_tree_init(&a);
    mime_tree_init(&b);
    mime_tree_parse(&a, data, len);
    mime_tree_blob_write(&a, &blob);
    *blob_len = blob.len;
    if (mime_tree_blob_read(&b, blob.data, blob.len, data, len) < 0 ||
        a.count != b.count) {
        ok = 0;
    } else {
        for (uint32_t i = 0; i < a.count; i++) {
            const struct mime_part *x = &a.parts[i], *y = &b.parts[i];
            if (x->parent != y->parent || x->first_child != y->first_child ||
                x->next_sibling != y->next_sibling || x->depth != y->depth ||
                x->flags != y->flags || x->fields != y->fields ||
                x->offset != y->offset || x->header_size != y->header_size ||
                x->header_vsize != y->header_vsize ||
                x->header_lines != y->header_lines ||
                x->body_size != y->body_size || x->body_vsize != y->body_vsize ||
                x->body_lines != y->body_lines)
                ok = 0;
            for (int f = 0; f < MIME_FIELD_COUNT; f++)
                if ((x->fields & (1u << f)) &&
                    (x->field[f].offset != y->field[f].offset ||
                     x->field[f].length != y->field[f].length))
                    ok = 0;
        }
        imap_bodystructure_write(&sa, &a, 0, 1);
        imap_bodystructure_write(&sb, &b, 0, 1);
        if (strcmp(sa.data, sb.data) != 0)
            ok = 0;
    }
    mime_tree_free(&a);
    mime_tree_free(&b);
    buf_free(&blob);
    buf_free(&sa);
    buf_free(&sb);
    return ok;
}

static void blob_round_trips(void)
{
    size_t blob_len;
    CHECK(blob_round_trip(two_parts, strlen(two_parts), &blob_len));
    printf("#   blob of a 6-part message: %zu bytes\n", blob_len);
    CHECK(blob_round_trip("", 0, &blob_len));
    CHECK(blob_round_trip("x", 1, &blob_len));
}

static void blob_rejects_damage(void)
{
    struct mime_tree a, b;
    struct buf blob = BUF_INIT;
    size_t len = strlen(two_parts);
    mime_tree_init(&a);
    mime_tree_init(&b);
    mime_tree_parse(&a, two_parts, len);
    mime_tree_blob_write(&a, &blob);
    CHECK_INT(mime_tree_blob_read(&b, blob.data, blob.len, two_parts, len), 0);
    /* every truncation fails */
    for (size_t cut = 0; cut < blob.len; cut++)
        CHECK_INT(mime_tree_blob_read(&b, blob.data, cut, two_parts, len), -1);
    /* a shorter message than the blob describes fails */
    CHECK_INT(mime_tree_blob_read(&b, blob.data, blob.len, two_parts, len - 1),
              -1);
    /* another version fails */
    blob.data[2] = 2;
    CHECK_INT(mime_tree_blob_read(&b, blob.data, blob.len, two_parts, len), -1);
    CHECK_INT(b.count, 0);
    /* flipping any byte never reads out of bounds (checked by the
     * tree's own bounds when it is accepted) */
    blob.data[2] = 1;
    for (size_t i = 0; i < blob.len; i++) {
        char saved = blob.data[i];
        blob.data[i] = (char)(saved ^ 0x41);
        if (mime_tree_blob_read(&b, blob.data, blob.len, two_parts, len) == 0)
            CHECK(tree_in_bounds(&b));
        blob.data[i] = saved;
    }
    mime_tree_free(&a);
    mime_tree_free(&b);
    buf_free(&blob);
}

int main(void)
{
    UNIT_RUN(bare_lf_counts_as_crlf);
    UNIT_RUN(outer_boundary_closes_inner_parts);
    UNIT_RUN(sections_map_to_parts);
    UNIT_RUN(tree_is_reusable);
    UNIT_RUN(missing_final_boundary_and_junk);
    UNIT_RUN(closing_boundary_keeps_its_line_end);
    UNIT_RUN(long_boundary_is_cut);
    UNIT_RUN(deep_nesting_is_bounded);
    UNIT_RUN(envelope_reads_broken_addresses);
    UNIT_RUN(rfc2047_words_decode_to_utf8);
    UNIT_RUN(blob_round_trips);
    UNIT_RUN(blob_rejects_damage);
    UNIT_RUN(conformance_dovecot_reference);
    return unit_summary();
}
