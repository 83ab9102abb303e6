/* passwd_file.c: the Dovecot passwd-file reader (passwd_file.h). */
#include "auth/passwd_file.h"

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>

#include "base/file_read.h"
#include "base/idnum.h"
#include "base/mem.h"

/* Columns before the extra fields: user, password, uid, gid, gecos,
 * home, shell. */
#define PASSWD_COLUMNS 7

static void add_problem(struct passwd_file *file, int line, const char *what)
{
    struct buf text = BUF_INIT;
    buf_appendf(&text, "%s:%d: %s", file->name, line, what);
    strlist_add(&file->problems, buf_cstr(&text));
    buf_free(&text);
}

static char *dup_or_null(const char *start, size_t len)
{
    return len ? xstrndup(start, len) : NULL;
}

static void entry_free(struct passwd_entry *entry)
{
    free(entry->user);
    if (entry->password)
        memset(entry->password, 0, strlen(entry->password));
    free(entry->password);
    free(entry->gecos);
    free(entry->home);
    free(entry->shell);
    free(entry->mail);
    free(entry->quota_storage);
    for (size_t i = 0; i < entry->field_count; i++) {
        free(entry->fields[i].key);
        free(entry->fields[i].value);
    }
    free(entry->fields);
    memset(entry, 0, sizeof(*entry));
}

/* Looks a user name (is_user) or group name up in the system's
 * databases. 0 with *out set, or -1 when there is no such name. */
static int lookup_id_name(int is_user, const char *name, unsigned long *out)
{
    char scratch[16384];
    if (is_user) {
        struct passwd pwd, *found = NULL;
        if (getpwnam_r(name, &pwd, scratch, sizeof(scratch), &found) != 0 ||
            found == NULL)
            return -1;
        *out = (unsigned long)found->pw_uid;
    } else {
        struct group grp, *found = NULL;
        if (getgrnam_r(name, &grp, scratch, sizeof(scratch), &found) != 0 ||
            found == NULL)
            return -1;
        *out = (unsigned long)found->gr_gid;
    }
    return 0;
}

/* Parses a uid or gid column or field value (what is "uid" or "gid"):
 * a plain number, or, as Dovecot allows, a user or group name. 0, or -1
 * with why set. */
static int parse_id(const char *what, const char *text, unsigned long *out,
                    struct buf *why)
{
    enum idnum_result rc = idnum_parse(text, 1, out);
    if (rc == IDNUM_OK)
        return 0;
    int is_user = strcmp(what, "uid") == 0;
    if (rc == IDNUM_MALFORMED && *text != 0) {
        if (lookup_id_name(is_user, text, out) < 0) {
            buf_appendf(why, "%s '%.64s' is neither a number nor a known %s "
                             "(line skipped)",
                        what, text, is_user ? "user" : "group");
            return -1;
        }
        if (*out != 0 && *out <= IDNUM_MAX)
            return 0;
        rc = *out == 0 ? IDNUM_TOO_SMALL : IDNUM_TOO_LARGE;
    }
    buf_appendf(why, "%s '%.64s' %s (line skipped)", what, text,
                rc == IDNUM_TOO_SMALL ? "is 0, which a passwd-file may not give"
                                      : idnum_result_text(rc));
    return -1;
}

/* Replaces *slot with a copy of value ("" leaves it unset). */
static void set_text(char **slot, const char *value)
{
    free(*slot);
    *slot = *value ? xstrdup(value) : NULL;
}

/* Reads the extra fields into entry. 0, or -1 (line skipped) with why
 * set. */
static int parse_extra_fields(struct passwd_entry *entry, const char *extra,
                              struct buf *why)
{
    struct strlist tokens;
    strlist_init(&tokens);
    str_split_chars(extra, " \t", &tokens);
    int rc = 0;
    for (size_t i = 0; i < tokens.count && rc == 0; i++) {
        const char *token = tokens.items[i];
        const char *equals = strchr(token, '=');
        size_t key_len = equals ? (size_t)(equals - token) : strlen(token);
        if (key_len == 0) {
            buf_appendf(why, "extra field '%.64s' has no name (line skipped)",
                        token);
            rc = -1;
            break;
        }
        entry->fields = xreallocarray(entry->fields, entry->field_count + 1,
                                      sizeof(*entry->fields));
        struct passwd_field *field = &entry->fields[entry->field_count++];
        field->key = xstrndup(token, key_len);
        field->value = xstrdup(equals ? equals + 1 : "");

        const char *name = field->key;
        if (strncmp(name, "userdb_", 7) == 0)
            name += 7;
        unsigned long id;
        if (strcmp(name, "uid") == 0) {
            if ((rc = parse_id("uid", field->value, &id, why)) == 0) {
                entry->uid = (uid_t)id;
                entry->has_uid = 1;
            }
        } else if (strcmp(name, "gid") == 0) {
            if ((rc = parse_id("gid", field->value, &id, why)) == 0) {
                entry->gid = (gid_t)id;
                entry->has_gid = 1;
            }
        } else if (strcmp(name, "home") == 0) {
            set_text(&entry->home, field->value);
        } else if (strcmp(name, "mail") == 0) {
            set_text(&entry->mail, field->value);
        } else if (strcmp(name, "quota_storage") == 0) {
            set_text(&entry->quota_storage, field->value);
        }
    }
    strlist_free(&tokens);
    return rc;
}

/* Parses one line (no newline, NUL-free) into entry. 0, or -1 with why
 * set. */
static int parse_line(const char *line, size_t len, struct passwd_entry *entry,
                      struct buf *why)
{
    const char *column[PASSWD_COLUMNS];
    size_t column_len[PASSWD_COLUMNS];
    const char *extra = NULL;
    size_t columns = 0;
    const char *p = line, *end = line + len;
    while (columns < PASSWD_COLUMNS) {
        const char *colon = memchr(p, ':', (size_t)(end - p));
        column[columns] = p;
        column_len[columns] = colon ? (size_t)(colon - p) : (size_t)(end - p);
        columns++;
        if (colon == NULL)
            break;
        p = colon + 1;
        if (columns == PASSWD_COLUMNS)
            extra = p; /* the rest, colons and all */
    }
    for (size_t i = columns; i < PASSWD_COLUMNS; i++) {
        column[i] = end;
        column_len[i] = 0;
    }

    if (column_len[0] == 0) {
        buf_append_str(why, "no user name (line skipped)");
        return -1;
    }
    entry->user = xstrndup(column[0], column_len[0]);
    entry->password = xstrndup(column[1], column_len[1]);
    unsigned long id;
    if (column_len[2]) {
        char *text = xstrndup(column[2], column_len[2]);
        int rc = parse_id("uid", text, &id, why);
        free(text);
        if (rc < 0)
            return -1;
        entry->uid = (uid_t)id;
        entry->has_uid = 1;
    }
    if (column_len[3]) {
        char *text = xstrndup(column[3], column_len[3]);
        int rc = parse_id("gid", text, &id, why);
        free(text);
        if (rc < 0)
            return -1;
        entry->gid = (gid_t)id;
        entry->has_gid = 1;
    }
    entry->gecos = dup_or_null(column[4], column_len[4]);
    entry->home = dup_or_null(column[5], column_len[5]);
    entry->shell = dup_or_null(column[6], column_len[6]);
    if (extra != NULL) {
        char *text = xstrndup(extra, (size_t)(end - extra));
        int rc = parse_extra_fields(entry, text, why);
        free(text);
        if (rc < 0)
            return -1;
    }
    return 0;
}

/* Sorts by user, then by line, so the first line for a name comes
 * first among its duplicates. */
static int entry_compare(const void *a, const void *b)
{
    const struct passwd_entry *left = a, *right = b;
    int by_user = strcmp(left->user, right->user);
    if (by_user != 0)
        return by_user;
    return (left->line > right->line) - (left->line < right->line);
}

static int is_blank_or_comment(const char *line, size_t len)
{
    size_t i = 0;
    while (i < len && (line[i] == ' ' || line[i] == '\t'))
        i++;
    return i == len || line[i] == '#';
}

struct passwd_file *passwd_file_parse(const char *name, const char *text,
                                      size_t len)
{
    struct passwd_file *file = xcalloc(1, sizeof(*file));
    file->name = xstrdup(name);
    strlist_init(&file->problems);
    size_t cap = 0;
    struct buf why = BUF_INIT;
    const char *p = text, *end = text + len;
    int line_number = 0;
    while (p < end) {
        const char *newline = memchr(p, '\n', (size_t)(end - p));
        size_t line_len = newline ? (size_t)(newline - p) : (size_t)(end - p);
        const char *line = p;
        p = newline ? newline + 1 : end;
        line_number++;
        if (line_len > 0 && line[line_len - 1] == '\r')
            line_len--;
        if (is_blank_or_comment(line, line_len))
            continue;
        if (memchr(line, 0, line_len) != NULL) {
            add_problem(file, line_number, "holds a NUL byte (line skipped)");
            continue;
        }
        if (file->count == cap) {
            cap = cap ? cap * 2 : 16;
            file->entries =
                xreallocarray(file->entries, cap, sizeof(*file->entries));
        }
        struct passwd_entry *entry = &file->entries[file->count];
        memset(entry, 0, sizeof(*entry));
        entry->line = line_number;
        buf_reset(&why);
        if (parse_line(line, line_len, entry, &why) < 0) {
            add_problem(file, line_number, buf_cstr(&why));
            entry_free(entry);
            continue;
        }
        file->count++;
    }
    buf_free(&why);

    if (file->count > 1)
        qsort(file->entries, file->count, sizeof(*file->entries),
              entry_compare);
    /* Duplicates: keep the first line for each name. */
    size_t kept = 0;
    for (size_t i = 0; i < file->count; i++) {
        if (kept > 0 &&
            strcmp(file->entries[kept - 1].user, file->entries[i].user) == 0) {
            struct buf what = BUF_INIT;
            buf_appendf(&what,
                        "user %.64s is already on line %d (line skipped)",
                        file->entries[i].user, file->entries[kept - 1].line);
            add_problem(file, file->entries[i].line, buf_cstr(&what));
            buf_free(&what);
            entry_free(&file->entries[i]);
            continue;
        }
        if (kept != i)
            file->entries[kept] = file->entries[i];
        kept++;
    }
    file->count = kept;
    return file;
}

struct passwd_file *passwd_file_load(const char *path, size_t max_size,
                                     struct buf *err)
{
    struct buf content = BUF_INIT;
    if (file_read(path, max_size, &content, err) < 0) {
        int saved = errno;
        buf_free(&content);
        errno = saved;
        return NULL;
    }
    struct passwd_file *file =
        passwd_file_parse(path, content.data, content.len);
    /* The content holds password hashes: do not leave them in freed
     * memory longer than needed. */
    memset(content.data, 0, content.len);
    buf_free(&content);
    return file;
}

const struct passwd_entry *passwd_file_lookup(const struct passwd_file *file,
                                              const char *user)
{
    size_t low = 0, high = file->count;
    while (low < high) {
        size_t middle = low + (high - low) / 2;
        int order = strcmp(user, file->entries[middle].user);
        if (order == 0)
            return &file->entries[middle];
        if (order < 0)
            high = middle;
        else
            low = middle + 1;
    }
    return NULL;
}

int passwd_entry_is_virtual(const struct passwd_entry *entry)
{
    return !entry->has_uid && !entry->has_gid && entry->home == NULL;
}

const char *passwd_entry_field(const struct passwd_entry *entry,
                               const char *key)
{
    for (size_t i = 0; i < entry->field_count; i++)
        if (strcmp(entry->fields[i].key, key) == 0)
            return entry->fields[i].value;
    return NULL;
}

void passwd_file_free(struct passwd_file *file)
{
    if (file == NULL)
        return;
    for (size_t i = 0; i < file->count; i++)
        entry_free(&file->entries[i]);
    free(file->entries);
    strlist_free(&file->problems);
    free(file->name);
    free(file);
}
