/* fd_close.h: closing every descriptor from a number up, before exec,
 * so that nothing of ours (queue files, sockets to master, the log)
 * reaches a program we start. */
#ifndef POSTERN_FD_CLOSE_H
#define POSTERN_FD_CLOSE_H

/* Closes every descriptor >= lowest: close_range(2) where the kernel has
 * it, else a close() loop up to the descriptor limit. Safe after fork in
 * a threaded process (no allocation, no locks). */
void fd_close_from(int lowest);

/* The same, but marks them close-on-exec instead of closing them (a
 * child that still logs until exec). */
void fd_cloexec_from(int lowest);

#endif
