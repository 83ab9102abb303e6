/* mailq.c: the Sendmail-compatible queue listing; the same as
 * `postqueue -p` (Postfix's mailq is `sendmail -bp`, which runs it).
 *
 *   mailq [-v] [-C file | -c DIR]
 *
 * -C names a main.cf (its directory is used), as Sendmail's -C does for
 * sendmail.cf; -c names the directory, as every Postern command. Other
 * Sendmail options are accepted and ignored, as Postfix does. The listing
 * comes from the showq service (lib/queue/queue_show.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "base/mem.h"
#include "queue/qtool.h"
#include "queue/queue_show.h"

int main(int argc, char **argv)
{
    qtool_init("mailq");
    char *config_dir = NULL;
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        if ((strcmp(arg, "-c") == 0 || strcmp(arg, "-C") == 0) &&
            i + 1 < argc) {
            free(config_dir);
            config_dir = xstrdup(argv[++i]);
            if (arg[1] == 'C') { /* a file: use its directory */
                char *slash = strrchr(config_dir, '/');
                if (slash && slash != config_dir)
                    *slash = '\0';
                else if (slash == NULL) {
                    free(config_dir);
                    config_dir = xstrdup(".");
                }
            }
        } else if (strcmp(arg, "-v") == 0) {
            log_set_verbose(log_verbose_level() + 1);
        }
    }
    const char *queue_directory = qtool_config(config_dir);
    int status = queue_show(queue_directory, QUEUE_LIST_TEXT);
    free(config_dir);
    return status;
}
