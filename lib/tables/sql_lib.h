/* sql_lib.h: loads an SQL client library (libpq for pgsql: tables,
 * libmariadb for mysql: tables) when the first such table connects,
 * instead of linking it into every program.
 *
 * Linked in, libpq and libmariadb (with the Kerberos, LDAP, GnuTLS and
 * p11-kit libraries they pull in) cost every start of every daemon about
 * 13 ms of CPU, whether or not a table uses SQL; smtpd and virtual start
 * again every max_use (100) sessions or deliveries. Postfix loads its
 * mysql and pgsql tables as plug-ins for the same reason
 * (dynamicmaps.cf). The library is found by its soname, as the dynamic
 * linker would find a linked-in one (ld.so.cache, the system
 * directories), and stays loaded for the life of the process. */
#ifndef POSTERN_SQL_LIB_H
#define POSTERN_SQL_LIB_H

#include <stddef.h>

#include "base/buf.h"

/* One function of the library and where its address goes. */
struct sql_lib_symbol {
    const char *name;
    void **slot;
};

/* Opens the library soname (once per process; later calls return at
 * once) and fills every slot. Returns 0, or -1 with the reason in err
 * ("cannot load libpq.so.5: ..."); a failed load is tried again on the
 * next call. */
int sql_lib_load(const char *soname, const struct sql_lib_symbol *symbols,
                 size_t count, int *loaded, struct buf *err);

#endif
