/* imap_message_fixture.h: for the unit tests of lib/imap's renderers and
 * evaluators: a message view (imap_message.h) over bytes held in memory,
 * whose read callback counts how often the message was opened, and
 * reading message files of tests/unit/data/imap. */
#ifndef POSTERN_TEST_IMAP_MESSAGE_FIXTURE_H
#define POSTERN_TEST_IMAP_MESSAGE_FIXTURE_H

#include <stdio.h>
#include <string.h>

#include "base/buf.h"
#include "base/file_read.h"
#include "imap/imap_message.h"

#define IMAP_TEST_DATA "tests/unit/data/imap"

struct test_message {
    struct imap_message view;
    struct buf data;
    int reads; /* calls of the read callback */
};

static int test_message_read(void *context, struct imap_message *msg,
                             const char **data, size_t *len)
{
    struct test_message *t = context;
    (void)msg;
    t->reads++;
    *data = t->data.data;
    *len = t->data.len;
    return 0;
}

/* A view of data[0..len): seq 1, uid 1, no flags, size unknown. */
static inline void test_message_init(struct test_message *t, const char *data,
                                     size_t len)
{
    memset(t, 0, sizeof(*t));
    buf_init(&t->data);
    buf_append(&t->data, data, len);
    imap_message_init(&t->view);
    t->view.seq = 1;
    t->view.uid = 1;
    t->view.read = test_message_read;
    t->view.context = t;
}

static inline void test_message_free(struct test_message *t)
{
    imap_message_done(&t->view);
    buf_free(&t->data);
}

/* Reads tests/unit/data/imap/NAME (or NAME itself when it starts with
 * '/' or '.') into out. */
static inline int test_message_file(const char *name, struct buf *out)
{
    struct buf path = BUF_INIT, why = BUF_INIT;
    int ret;
    if (name[0] == '/' || name[0] == '.')
        buf_append_str(&path, name);
    else
        buf_appendf(&path, "%s/%s", IMAP_TEST_DATA, name);
    buf_reset(out);
    ret = file_read(path.data, 64 * 1024 * 1024, out, &why);
    if (ret < 0)
        printf("#   cannot read %s: %s\n", path.data, why.data);
    buf_free(&path);
    buf_free(&why);
    return ret;
}

/* data with every bare LF made CRLF. */
static inline void test_to_crlf(const char *data, size_t len, struct buf *out)
{
    buf_reset(out);
    for (size_t i = 0; i < len; i++) {
        if (data[i] == '\n' && (i == 0 || data[i - 1] != '\r'))
            buf_append_char(out, '\r');
        buf_append_char(out, data[i]);
    }
}

#endif
