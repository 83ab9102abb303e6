/* imap_mailbox_fixture.h: a mailbox that gen_dovecot_search.py gave
 * Dovecot (tests/unit/data/imap/dovecot-*.jsonl), rebuilt as message
 * views in sequence order, for comparing SEARCH, SORT and THREAD with
 * Dovecot's answers recorded in the same file. */
#ifndef POSTERN_TEST_IMAP_MAILBOX_FIXTURE_H
#define POSTERN_TEST_IMAP_MAILBOX_FIXTURE_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "imap/imap_date.h"
#include "imap/imap_flags.h"
#include "imap_message_fixture.h"
#include "json_fixture.h"

#define TEST_MAILBOX_MAX 64
#define TEST_KEYWORDS_MAX 8

struct test_mailbox {
    struct test_message msgs[TEST_MAILBOX_MAX];
    struct imap_message *views[TEST_MAILBOX_MAX];
    char *keywords[TEST_MAILBOX_MAX][TEST_KEYWORDS_MAX];
    size_t count;
    char **lines; /* the command records, in order */
    size_t line_count;
};

/* Flags as APPEND gave them: system flags and keywords. */
static inline void test_mailbox_flags(struct test_mailbox *mb, size_t i,
                                      const char *text)
{
    struct imap_message *v = &mb->msgs[i].view;
    char *copy = strdup(text), *save = NULL;
    size_t kw = 0;
    for (char *w = strtok_r(copy, " ", &save); w; w = strtok_r(NULL, " ", &save)) {
        unsigned bit;
        int r = imap_flag_classify(w, strlen(w), 1, &bit);
        if (r == 1)
            v->flags |= bit;
        else if (r == 0 && kw < TEST_KEYWORDS_MAX)
            mb->keywords[i][kw++] = strdup(w);
    }
    v->keywords = (const char *const *)mb->keywords[i];
    v->keyword_count = kw;
    free(copy);
}

/* Loads tests/unit/data/imap/NAME; 0, or -1 when it cannot be read. */
static inline int test_mailbox_load(struct test_mailbox *mb, const char *file)
{
    char path[256];
    FILE *fp;
    char *line = NULL;
    size_t cap = 0;
    struct buf name = BUF_INIT, value = BUF_INIT, data = BUF_INIT;

    memset(mb, 0, sizeof(*mb));
    snprintf(path, sizeof(path), "%s/%s", IMAP_TEST_DATA, file);
    if ((fp = fopen(path, "r")) == NULL)
        return -1;
    while (getline(&line, &cap, fp) > 0) {
        if (json_get(line, "message", &name) == 0 &&
            mb->count < TEST_MAILBOX_MAX) {
            size_t i = mb->count++;
            time_t when = 0;
            int zone = 0;
            if (test_message_file(name.data, &data) < 0)
                buf_reset(&data);
            test_message_init(&mb->msgs[i], data.data, data.len);
            mb->msgs[i].view.seq = (uint32_t)(i + 1);
            mb->msgs[i].view.uid = (uint32_t)(i + 1);
            mb->msgs[i].view.modseq = i + 1;
            json_get(line, "flags", &value);
            test_mailbox_flags(mb, i, value.data);
            json_get(line, "internaldate", &value);
            imap_date_time_parse(value.data, value.len, &when, &zone);
            mb->msgs[i].view.internal_date = when;
            mb->msgs[i].view.internal_zone = 0; /* Dovecot's TZ was UTC */
            mb->views[i] = &mb->msgs[i].view;
        } else {
            mb->lines = realloc(mb->lines, (mb->line_count + 1) * sizeof(char *));
            mb->lines[mb->line_count++] = strdup(line);
        }
    }
    free(line);
    fclose(fp);
    buf_free(&name);
    buf_free(&value);
    buf_free(&data);
    return 0;
}

static inline void test_mailbox_free(struct test_mailbox *mb)
{
    for (size_t i = 0; i < mb->count; i++) {
        test_message_free(&mb->msgs[i]);
        for (size_t k = 0; k < TEST_KEYWORDS_MAX; k++)
            free(mb->keywords[i][k]);
    }
    for (size_t i = 0; i < mb->line_count; i++)
        free(mb->lines[i]);
    free(mb->lines);
}

#endif
