/* auth.h: the auth daemon's files.
 *   auth.c         the daemon: the unix socket's connections on the event
 *                  loop, each driving an auth_conn (lib/auth/auth_server.h,
 *                  Dovecot's auth protocol) or, when the service name
 *                  ends in "userdb", an auth_master_conn
 *                  (lib/auth/auth_master.h); the passdb and the settings
 *   auth_userdb.c  a virtual user's uid, gid, home and mail from the
 *                  virtual maps, as the virtual delivery agent finds them
 * docs/auth.md is the way in. */
#ifndef POSTERN_AUTH_DAEMON_H
#define POSTERN_AUTH_DAEMON_H

#include "auth/passdb.h"
#include "base/buf.h"

/* Opens the virtual maps (before privileges are dropped). */
void auth_userdb_init(void);
/* auth_server_settings.complete_user: see auth_userdb.c. */
int auth_userdb_complete(const char *user, struct passdb_user *u,
                         struct buf *err);

#endif
