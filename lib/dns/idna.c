/* idna.c: UTF-8 domain names to A-labels for DNS lookups (idna.h). */
#include "dns/idna.h"

#include <idn2.h>
#include <stdlib.h>

int idna_is_utf8(const char *name)
{
    for (const unsigned char *p = (const unsigned char *)name; *p; p++)
        if (*p >= 0x80)
            return 1;
    return 0;
}

int idna_to_ascii(const char *name, struct buf *out)
{
    buf_reset(out);
    if (!idna_is_utf8(name)) {
        buf_append_str(out, name);
        return 0;
    }
    char *ascii = NULL;
    int rc =
        idn2_to_ascii_8z(name, &ascii, IDN2_NFC_INPUT | IDN2_NONTRANSITIONAL);
    if (rc != IDN2_OK) {
        buf_append_str(out, idn2_strerror(rc));
        return -1;
    }
    buf_append_str(out, ascii);
    idn2_free(ascii);
    return 0;
}
