/* fuzz_idnum.c: fuzz target for the uid/gid parser (lib/base/idnum.c),
 * whose input is a table result (virtual_uid_maps, virtual_gid_maps).
 * Checks its promises: an accepted id is all digits, within
 * [minimum, IDNUM_MAX], and prints back as the same number. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/idnum.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 64)
        size = 64;
    char text[65];
    memcpy(text, data, size);
    text[size] = 0;
    size = strlen(text); /* a NUL ends the value, as in a table result */
    unsigned long minimum = size > 0 ? data[0] : 0;
    unsigned long id = 0;
    enum idnum_result r = idnum_parse(text, minimum, &id);
    if (r != IDNUM_OK)
        return 0;
    if (id < minimum || id > IDNUM_MAX)
        abort();
    for (size_t i = 0; i < size; i++)
        if (text[i] < '0' || text[i] > '9')
            abort();
    char back[32];
    snprintf(back, sizeof(back), "%lu", id);
    const char *digits = text;
    while (digits[0] == '0' && digits[1])
        digits++;
    if (strcmp(back, digits) != 0)
        abort();
    return 0;
}
