/* maildir_flags.c: flags and keywords in Maildir file names
 * (maildir_flags.h). */
#include "storage/maildir_flags.h"

#include <string.h>

size_t maildir_base_len(const char *name)
{
    return strcspn(name, ":");
}

/* The flags part after ":2,", or NULL. Dovecot takes the last ':'. */
static const char *info_flags(const char *name)
{
    const char *info = strrchr(name, ':');
    if (info == NULL || info[1] != '2' || info[2] != ',')
        return NULL;
    return info + 3;
}

static unsigned letter_flag(char c)
{
    switch (c) {
    case 'D': return MAILDIR_FLAG_DRAFT;
    case 'F': return MAILDIR_FLAG_FLAGGED;
    case 'R': return MAILDIR_FLAG_ANSWERED;
    case 'S': return MAILDIR_FLAG_SEEN;
    case 'T': return MAILDIR_FLAG_DELETED;
    default: return 0;
    }
}

void maildir_flags_parse(const char *name, unsigned *flags,
                         uint32_t *keywords)
{
    *flags = 0;
    *keywords = 0;
    const char *p = info_flags(name);
    if (p == NULL)
        return;
    for (; *p && *p != ','; p++) {
        if (*p >= 'a' && *p <= 'z')
            *keywords |= 1u << (*p - 'a');
        else
            *flags |= letter_flag(*p);
    }
}

void maildir_flags_info(const char *name, unsigned flags, uint32_t keywords,
                        struct buf *out)
{
    /* every letter that will be there: ours and the unknown old ones */
    unsigned char present[128] = {0};
    static const char system_letters[] = "DFRST";
    for (const char *s = system_letters; *s; s++)
        if (flags & letter_flag(*s))
            present[(unsigned char)*s] = 1;
    for (int i = 0; i < 26; i++)
        if (keywords & (1u << i))
            present['a' + i] = 1;
    const char *old = info_flags(name), *rest = NULL;
    if (old) {
        for (; *old && *old != ','; old++) {
            unsigned char c = (unsigned char)*old;
            if (c < 128 && !letter_flag((char)c) && !(c >= 'a' && c <= 'z') &&
                c > 0x20 && c != ':' && c != '/')
                present[c] = 1;
        }
        if (*old == ',')
            rest = old;
    }
    buf_append_str(out, ":2,");
    for (int c = 0x21; c < 127; c++)
        if (present[c])
            buf_append_char(out, (char)c);
    if (rest)
        buf_append_str(out, rest);
}
