/* smtpc_caps.h: the service extensions a server announced in its EHLO
 * (or LHLO) reply.
 *
 * The first reply line is the server's greeting name; each following
 * line is a keyword and its parameters (RFC 5321, section 4.1.1.1).
 * Keywords are matched without regard to case; unknown ones are ignored.
 * After STARTTLS the session forgets them all and reads them anew
 * (RFC 3207, section 4.2). */
#ifndef POSTERN_SMTPC_CAPS_H
#define POSTERN_SMTPC_CAPS_H

#include "base/str.h"
#include "smtpc/smtpc_reply.h"

/* Extension bits. */
#define SMTPC_CAP_PIPELINING 0x001u          /* RFC 2920 */
#define SMTPC_CAP_SIZE 0x002u                /* RFC 1870; limit below */
#define SMTPC_CAP_8BITMIME 0x004u            /* RFC 6152 */
#define SMTPC_CAP_SMTPUTF8 0x008u            /* RFC 6531 */
#define SMTPC_CAP_DSN 0x010u                 /* RFC 3461 */
#define SMTPC_CAP_CHUNKING 0x020u            /* RFC 3030 (BDAT) */
#define SMTPC_CAP_STARTTLS 0x040u            /* RFC 3207 */
#define SMTPC_CAP_AUTH 0x080u                /* RFC 4954; mechanisms below */
#define SMTPC_CAP_ENHANCEDSTATUSCODES 0x100u /* RFC 2034 */
#define SMTPC_CAP_REQUIRETLS 0x200u          /* RFC 8689 */

struct smtpc_caps {
    unsigned flags;            /* SMTPC_CAP_* */
    long long size_limit;      /* SIZE's parameter; 0 = none given or 0
                                  (no fixed limit, RFC 1870) */
    struct strlist auth_mechs; /* AUTH's mechanisms, upper-cased; AUTH=
                                  (old form) lines are merged in */
    char *server_name;         /* the name on the first line, or NULL */
};

void smtpc_caps_init(struct smtpc_caps *caps);
/* Forgets everything (after STARTTLS, or for a HELO peer). */
void smtpc_caps_clear(struct smtpc_caps *caps);
void smtpc_caps_free(struct smtpc_caps *caps);

/* Reads the extensions out of a complete 2xx EHLO/LHLO reply (replacing
 * what caps held). */
void smtpc_caps_parse(struct smtpc_caps *caps, const struct smtpc_reply *reply);

/* The SMTPC_CAP_* bit of an EHLO keyword ("pipelining", any case), or 0
 * for one the engine does not use. For smtp_discard_ehlo_keywords. */
unsigned smtpc_caps_bit(const char *keyword);

/* 1 when the server offered AUTH mechanism mech (case-insensitive). */
int smtpc_caps_has_auth(const struct smtpc_caps *caps, const char *mech);

#endif
