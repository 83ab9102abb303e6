/* keywords.h: Dovecot's `dovecot-keywords`, the names of a Maildir
 * folder's IMAP keywords.
 *
 * A message file carries its keywords as the letters a..z after the
 * system flags in its ":2," info (`...:2,Sab`); the letter's index (a=0)
 * is a line of this file:
 *
 *     0 $Label1
 *     1 Junk
 *
 * So a folder holds at most 26 keywords in its file names. Names are
 * compared without regard to case, as Dovecot does. Reading is lenient
 * in the way Dovecot's is (a line it cannot use is skipped), but every
 * name kept is a valid IMAP atom, so nothing read from the file can
 * break a FLAGS response. The file is replaced, never edited: written
 * as `dovecot-keywords.lock`, fsynced and renamed over, with the
 * uidlist lock held (uidlist.h), and its mtime always moves forward so
 * readers that compare it notice. */
#ifndef POSTERN_KEYWORDS_H
#define POSTERN_KEYWORDS_H

#include <stddef.h>
#include <sys/types.h>
#include <time.h>

#include "base/buf.h"

#define KEYWORDS_FILE "dovecot-keywords"
#define KEYWORDS_MAX 26
/* Largest file read, and the longest name kept. */
#define KEYWORDS_MAX_FILE_SIZE (64 * 1024)
#define KEYWORDS_MAX_NAME 255

struct keywords {
    char *names[KEYWORDS_MAX]; /* NULL: the letter is unused */
    /* the file as last read or written */
    dev_t dev;
    ino_t ino;
    off_t size;
    struct timespec mtime;
    int seen; /* a read or write happened (a missing file counts) */
};

void keywords_init(struct keywords *kw);
void keywords_free(struct keywords *kw);

/* 1 when name can be a keyword: an IMAP atom (no space, control
 * character, ( ) { % * " \ ]), not starting with '\', at most
 * KEYWORDS_MAX_NAME bytes. */
int keywords_name_valid(const char *name, size_t len);

/* Replaces kw's names with the file's text. Lines that cannot be used
 * (no space, an index outside 0..25, an invalid or repeated name, a
 * repeated index) are skipped and counted in *skipped (may be NULL). */
void keywords_parse(struct keywords *kw, const char *data, size_t len,
                    unsigned *skipped);
/* Appends the file's text for kw to out ("0 $Label1\n..."). */
void keywords_format(const struct keywords *kw, struct buf *out);

enum keywords_read_result {
    KEYWORDS_UNCHANGED = 0,
    KEYWORDS_CHANGED,
    KEYWORDS_MISSING, /* no file: no names */
    KEYWORDS_FAILED,  /* err says why; kw unchanged */
};
/* Rereads the file at path when it changed since the last read. */
enum keywords_read_result keywords_read(struct keywords *kw, const char *path,
                                        struct buf *err);

/* The index (0..25) of name, case-insensitively, or -1. */
int keywords_lookup(const struct keywords *kw, const char *name, size_t len);
/* The index of name, giving it the first free letter when it has none
 * (the caller then writes the file). -1 when the name is invalid or all
 * 26 letters are taken. */
int keywords_lookup_or_add(struct keywords *kw, const char *name, size_t len);
/* The name of index, or NULL when the letter is unused. */
const char *keywords_name(const struct keywords *kw, int index);

/* Writes the file at path (see above). Call with the uidlist lock held.
 * 0, or -1 with err set. */
int keywords_write(struct keywords *kw, const char *path, struct buf *err);

#endif
