/* idnum.c: strict uid/gid parsing (see idnum.h for the rules and why). */
#include "base/idnum.h"

#include <sys/types.h>

_Static_assert(sizeof(uid_t) >= 4 && sizeof(gid_t) >= 4,
               "IDNUM_MAX assumes 32-bit uid_t and gid_t");

enum idnum_result idnum_parse(const char *text, unsigned long minimum,
                              unsigned long *out)
{
    if (text == 0 || *text == 0)
        return IDNUM_MALFORMED;
    unsigned long long value = 0;
    int too_large = 0;
    for (const char *p = text; *p; p++) {
        if (*p < '0' || *p > '9')
            return IDNUM_MALFORMED;
        if (!too_large) {
            value = value * 10 + (unsigned)(*p - '0');
            if (value > IDNUM_MAX)
                too_large = 1; /* keep checking the rest is digits */
        }
    }
    if (too_large)
        return IDNUM_TOO_LARGE;
    if (value < minimum)
        return IDNUM_TOO_SMALL;
    *out = (unsigned long)value;
    return IDNUM_OK;
}

const char *idnum_result_text(enum idnum_result result)
{
    switch (result) {
    case IDNUM_OK:
        return "is valid";
    case IDNUM_MALFORMED:
        return "is not a plain decimal number";
    case IDNUM_TOO_LARGE:
        return "is above 4294967294";
    case IDNUM_TOO_SMALL:
        return "is below the minimum";
    }
    return "is invalid";
}
