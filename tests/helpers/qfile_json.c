/* qfile_json.c: prints a queue file as one JSON object, for end-to-end
 * tests that check what smtpd queued (tests/e2e/test_smtpd*.py):
 *   qfile_json PATH
 * {"sender": ..., "ret": "F"|"H"|"", "envid": ..., "encoding": N,
 *  "attrs": {...}, "recipients": [{"address","original","orcpt",
 *  "notify","done"}], "message_size": N, "content": "..."}
 * Exit 0, or 1 with the reader's error on stderr (a corrupt file). */
#include <stdio.h>
#include <string.h>

#include "base/buf.h"
#include "queue/qfile_reader.h"

static void json_string(const char *data, size_t len)
{
    putchar('"');
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)data[i];
        if (c == '"' || c == '\\')
            printf("\\%c", c);
        else if (c < 0x20 || c >= 0x7f)
            printf("\\u%04x", c);
        else
            putchar(c);
    }
    putchar('"');
}

static void json_cstr(const char *s)
{
    json_string(s ? s : "", s ? strlen(s) : 0);
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: qfile_json PATH\n");
        return 2;
    }
    struct buf err = BUF_INIT;
    struct qfile_reader *r;
    struct qfile_envelope env;
    if (qfile_reader_open(argv[1], 0, &r, &err) != QFILE_OK) {
        fprintf(stderr, "%s\n", buf_cstr(&err));
        return 1;
    }
    if (qfile_read_envelope(r, &env, &err) != QFILE_OK) {
        fprintf(stderr, "%s\n", buf_cstr(&err));
        return 1;
    }
    printf("{\"sender\": ");
    json_cstr(env.sender);
    char ret[2] = {env.dsn_ret, 0};
    printf(", \"ret\": ");
    json_cstr(ret);
    printf(", \"envid\": ");
    json_cstr(env.envid);
    printf(", \"encoding\": %u, \"message_size\": %llu, \"attrs\": {",
           env.encoding, (unsigned long long)env.header.message_size);
    for (size_t i = 0; i < env.attr_count; i++) {
        printf(i ? ", " : "");
        json_cstr(env.attrs[i].name);
        printf(": ");
        json_cstr(env.attrs[i].value);
    }
    printf("}, \"recipients\": [");
    for (size_t i = 0; i < env.recipient_count; i++) {
        const struct qfile_recipient *rc = &env.recipients[i];
        printf("%s{\"address\": ", i ? ", " : "");
        json_cstr(rc->address);
        printf(", \"original\": ");
        json_cstr(rc->original);
        printf(", \"orcpt\": ");
        json_cstr(rc->orcpt);
        printf(", \"notify\": %u, \"done\": %d}", rc->notify, rc->done);
    }
    printf("], \"content\": ");
    struct buf content = BUF_INIT, chunk = BUF_INIT;
    for (;;) {
        buf_reset(&chunk);
        if (qfile_content_read(r, &chunk, 65536, &err) != QFILE_OK) {
            fprintf(stderr, "%s\n", buf_cstr(&err));
            return 1;
        }
        if (chunk.len == 0)
            break;
        buf_append(&content, chunk.data, chunk.len);
    }
    json_string(content.data ? content.data : "", content.len);
    printf("}\n");
    qfile_envelope_free(&env);
    qfile_reader_close(r);
    buf_free(&content);
    buf_free(&chunk);
    buf_free(&err);
    return 0;
}
