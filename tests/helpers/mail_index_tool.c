/* mail_index_tool.c: a test helper that drives lib/storage/mail_index
 * on a real Maildir from the command line, for the end-to-end tests
 * that put the index beside Dovecot's files:
 *   mail_index_tool build DIR UIDVALIDITY
 *       indexes DIR/cur and DIR/new (UIDs 1.. in name order, flags from
 *       the ":2," suffix), with every rendering cached;
 *   mail_index_tool dump DIR
 *       prints the header and one line per message: UID, flags, base
 *       name and the cached ENVELOPE. Exit 1 when the index cannot be
 *       opened (the reason on stderr). */
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/buf.h"
#include "base/file_read.h"
#include "base/str.h"
#include "storage/mail_index.h"

static int by_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static unsigned flags_of(const char *name)
{
    const char *info = strstr(name, ":2,");
    unsigned flags = 0;
    for (const char *p = info ? info + 3 : ""; *p; p++)
        flags |= *p == 'R' ? 0x01 : *p == 'F' ? 0x02 : *p == 'T' ? 0x04
               : *p == 'S' ? 0x08 : *p == 'D' ? 0x10 : 0;
    return flags;
}

static int build(const char *dir, uint32_t uidvalidity)
{
    char **paths = NULL;
    size_t count = 0;
    const char *subdirs[] = {"cur", "new"};
    for (int i = 0; i < 2; i++) {
        char *sub = NULL;
        if (asprintf(&sub, "%s/%s", dir, subdirs[i]) < 0)
            return 2;
        DIR *d = opendir(sub);
        struct dirent *ent;
        while (d && (ent = readdir(d)) != NULL) {
            if (ent->d_name[0] == '.')
                continue;
            paths = realloc(paths, (count + 1) * sizeof(*paths));
            if (asprintf(&paths[count++], "%s/%s", sub, ent->d_name) < 0)
                return 2;
        }
        if (d)
            closedir(d);
        free(sub);
    }
    qsort(paths, count, sizeof(*paths), by_name);
    struct mail_index *idx = mail_index_alloc(dir);
    struct buf err = BUF_INIT, data = BUF_INIT;
    if (mail_index_create(idx, uidvalidity, 1, &err) < 0) {
        fprintf(stderr, "create: %s\n", buf_cstr(&err));
        return 1;
    }
    struct mail_index_txn *txn = mail_index_begin(idx, &err);
    if (txn == NULL) {
        fprintf(stderr, "begin: %s\n", buf_cstr(&err));
        return 1;
    }
    struct mail_index_parsed parsed;
    mail_index_parsed_init(&parsed);
    for (size_t i = 0; i < count; i++) {
        struct stat sb;
        if (stat(paths[i], &sb) < 0 ||
            file_read(paths[i], 64u << 20, &data, &err) < 0) {
            fprintf(stderr, "%s\n", buf_cstr(&err));
            return 1;
        }
        mail_index_parse_message(&parsed, data.data, data.len);
        struct mail_index_cached cached;
        mail_index_parsed_cached(&parsed, &cached);
        const char *name = strrchr(paths[i], '/') + 1;
        const char *colon = strchr(name, ':');
        struct mail_index_new msg = {
            .uid = (uint32_t)i + 1, .flags = (uint8_t)flags_of(name),
            .internal_date = sb.st_mtime, .rfc822_size = parsed.rfc822_size,
            .physical_size = (uint64_t)sb.st_size, .name = name,
            .name_len = colon ? (size_t)(colon - name) : strlen(name)};
        if (mail_index_txn_append(txn, &msg, &cached) < 0) {
            fprintf(stderr, "append %s refused\n", name);
            return 1;
        }
        free(paths[i]);
    }
    free(paths);
    if (mail_index_commit(txn, NULL, &err) < 0) {
        fprintf(stderr, "commit: %s\n", buf_cstr(&err));
        return 1;
    }
    mail_index_parsed_free(&parsed);
    mail_index_free(idx);
    buf_free(&err);
    buf_free(&data);
    return 0;
}

static int dump(const char *dir)
{
    struct mail_index *idx = mail_index_alloc(dir);
    struct buf err = BUF_INIT;
    enum mail_index_result r = mail_index_open(idx, 0, &err);
    if (r != MAIL_INDEX_OK) {
        fprintf(stderr, "open (%d): %s\n", (int)r, buf_cstr(&err));
        return 1;
    }
    const struct mail_index_header *hdr = mail_index_header(idx);
    printf("uidvalidity=%u next_uid=%u count=%u highestmodseq=%llu\n",
           hdr->uidvalidity, hdr->next_uid, mail_index_count(idx),
           (unsigned long long)hdr->highest_modseq);
    for (uint32_t i = 0; i < mail_index_count(idx); i++) {
        const struct mail_index_record *rec = mail_index_nth(idx, i);
        struct mail_index_cached cached;
        int has = mail_index_cached(idx, rec, &cached);
        printf("%u %u %.*s (%.*s)\n", rec->uid, rec->flags, (int)rec->name_len,
               mail_index_name(idx, rec), has ? (int)cached.envelope_len : 3,
               has ? cached.envelope : "NIL");
    }
    mail_index_free(idx);
    buf_free(&err);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc == 4 && strcmp(argv[1], "build") == 0)
        return build(argv[2], (uint32_t)strtoul(argv[3], NULL, 10));
    if (argc == 3 && strcmp(argv[1], "dump") == 0)
        return dump(argv[2]);
    fprintf(stderr, "usage: mail_index_tool build DIR UIDVALIDITY | dump DIR\n");
    return 2;
}
