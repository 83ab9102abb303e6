/* idnum.h: strict parsing of a numeric uid or gid that came from a table
 * or a file (virtual_uid_maps, virtual_gid_maps, ...), before it is ever
 * handed to seteuid/setegid.
 *
 * Only a plain decimal number is an id: one or more ASCII digits, nothing
 * else (no sign, no blanks, no 0x, no exponent), in [minimum, IDNUM_MAX].
 * atol()-style parsing turns "4294967296" into uid 0 once it is cast to
 * uid_t, and "4294967295" into (uid_t)-1, which set*id(2) read as "leave
 * unchanged": either way a process that meant to drop root keeps it. */
#ifndef POSTERN_IDNUM_H
#define POSTERN_IDNUM_H

/* 2^32 - 2: the largest id that is a real id. 2^32 - 1 is (uid_t)-1. */
#define IDNUM_MAX 4294967294UL

enum idnum_result {
    IDNUM_OK = 0,
    IDNUM_MALFORMED, /* empty, or not only decimal digits */
    IDNUM_TOO_LARGE, /* a number above IDNUM_MAX */
    IDNUM_TOO_SMALL, /* a number below the caller's minimum */
};

/* Parses `text` as an id no smaller than `minimum`; stores it in *out
 * only on IDNUM_OK. */
enum idnum_result idnum_parse(const char *text, unsigned long minimum,
                              unsigned long *out);

/* A few words saying what was wrong ("is not a plain decimal number",
 * ...), for log lines and DSN texts. */
const char *idnum_result_text(enum idnum_result result);

#endif
