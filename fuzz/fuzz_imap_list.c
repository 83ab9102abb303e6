/* fuzz_imap_list.c: fuzz target for LIST/LSUB argument parsing, the
 * pattern matcher and the LIST response writer (lib/imap/imap_list.c).
 *
 * The first byte picks the separator ('/' or '.') and UTF-8 mode; the
 * rest is one command line as a client sends it ("a LIST ..."), read by
 * the real command reader. Invariants: parsing either fails with an
 * error text or gives patterns within the limits; a pattern without
 * wildcards matches itself, "*" matches every pattern; the writer gives
 * one response line ending in CRLF for every pattern taken as a name. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "imap/imap_list.h"
#include "imap/imap_reader.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_patterns(const struct imap_list_args *args, char sep,
                           int utf8_mode)
{
    struct buf line = BUF_INIT;
    if (args->pattern_count > IMAP_LIST_PATTERNS_MAX)
        abort();
    for (size_t i = 0; i < args->pattern_count; i++) {
        const char *pattern = args->patterns[i];
        if (strlen(pattern) > 2 * IMAP_LIST_PATTERN_MAX)
            abort();
        if (!strpbrk(pattern, "*%") && !imap_list_match(pattern, pattern, sep))
            abort();
        if (!imap_list_match("*", pattern, sep))
            abort();
        (void)imap_list_match(pattern, "INBOX", sep);
        (void)imap_list_match(pattern, "a/b.c", sep);
        buf_reset(&line);
        imap_list_write(&line, args->lsub, IMAP_LIST_ATTR_HASCHILDREN, sep,
                        pattern, utf8_mode, (int)(i & 1));
        if (line.len < 2 || memcmp(line.data + line.len - 2, "\r\n", 2) != 0)
            abort();
    }
    buf_free(&line);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    char sep = (data[0] & 1) ? '.' : '/';
    int utf8_mode = (data[0] & 2) != 0;
    struct imap_reader reader;
    struct imap_reader_limits limits;
    imap_reader_limits_default(&limits);
    limits.nonsync_max = IMAP_NONSYNC_LITERAL_PLUS;
    imap_reader_init(&reader, &limits);

    const char *input = (const char *)data + 1;
    size_t avail = size - 1, used;
    while (avail > 0) {
        enum imap_reader_event ev =
            imap_reader_feed(&reader, input, avail, &used);
        input += used;
        avail -= used;
        if (ev == IMAP_READER_COMMAND) {
            const struct imap_command *cmd = &reader.command;
            int lsub = strcmp(cmd->name, "LSUB") == 0;
            struct imap_list_args args;
            const char *error = NULL;
            if (imap_list_args_parse(cmd->args, cmd->arg_count, lsub, sep,
                                     utf8_mode, &args, &error) == 0) {
                check_patterns(&args, sep, utf8_mode);
                imap_list_args_free(&args);
            } else if (error == NULL || error[0] == '\0') {
                abort();
            }
        } else if (ev == IMAP_READER_MORE) {
            break;
        }
    }
    imap_reader_free(&reader);
    return 0;
}
