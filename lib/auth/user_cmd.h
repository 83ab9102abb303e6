/* user_cmd.h: `postern user add|passwd|del|list`, which maintains a
 * Dovecot passwd-file (the table `passdb = passwd-file:PATH` names) for
 * administrators: the command line, the new password (terminal or
 * standard input, never an argument), its hash, and the locked atomic
 * edit (auth/passwd_edit.h). docs/postern.md describes it. */
#ifndef POSTERN_USER_CMD_H
#define POSTERN_USER_CMD_H

/* Runs the command; argv[0] is "user", argv[1] the subcommand. main.cf
 * is loaded (or config_loaded is 0 when it could not be, and only
 * --file can name the file). Messages go to the log (postern's, which
 * also writes stderr); `list` prints the names on stdout. Returns the
 * exit status: 0, 1 on an error, 2 on a bad command line. */
int user_cmd_run(int argc, char **argv, int config_loaded);

/* The path of the first `passwd-file:PATH` in the passdb parameter, as
 * a heap string, or NULL when there is none. */
char *user_cmd_default_file(void);

#endif
