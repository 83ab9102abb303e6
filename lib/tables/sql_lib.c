/* sql_lib.c: loading an SQL client library on first use (sql_lib.h). */
#include "tables/sql_lib.h"

#include <dlfcn.h>

int sql_lib_load(const char *soname, const struct sql_lib_symbol *symbols,
                 size_t count, int *loaded, struct buf *err)
{
    if (*loaded)
        return 0;
    void *handle = dlopen(soname, RTLD_NOW | RTLD_LOCAL);
    if (handle == NULL) {
        const char *why = dlerror();
        buf_appendf(err, "cannot load %s: %s", soname,
                    why ? why : "unknown error");
        return -1;
    }
    for (size_t i = 0; i < count; i++) {
        dlerror();
        void *address = dlsym(handle, symbols[i].name);
        if (address == NULL) {
            const char *why = dlerror();
            buf_appendf(err, "%s: no function %s: %s", soname,
                        symbols[i].name, why ? why : "null address");
            dlclose(handle);
            return -1;
        }
        *symbols[i].slot = address;
    }
    *loaded = 1;
    return 0;
}
