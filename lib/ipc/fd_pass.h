/* fd_pass.h: one message and one file descriptor over a unix socket
 * (SCM_RIGHTS), for handing a client connection from one process to
 * another (imap-login to imapd, imapd's dispatcher to its workers).
 *
 * The descriptor travels with the first byte of the message. On a
 * SOCK_SEQPACKET socket a message is one record; on a SOCK_STREAM socket
 * the reader collects bytes until its own framing (an attribute record,
 * lib/ipc/attr.h) says the message is complete. */
#ifndef POSTERN_FD_PASS_H
#define POSTERN_FD_PASS_H

#include <stddef.h>
#include <sys/types.h>

/* Sends data[0..len) (len >= 1) with fd attached (fd < 0: none). The
 * whole message goes in one sendmsg; a short write is an error (the
 * socket buffer of a fresh connection or a seqpacket pair always takes a
 * message of the sizes we send). Returns 0, or -1 with errno. */
int fd_pass_send(int sock, const void *data, size_t len, int fd);

/* One recvmsg of at most size bytes into data (MSG_DONTWAIT when
 * nonblocking). A descriptor that came with the bytes is stored in *fd
 * (close-on-exec; set *fd to -1 before the first call), else *fd is left
 * alone. A second descriptor (in this message or after one received
 * earlier into *fd) is refused: every one is closed, *fd is -1 again and
 * the result is -1 with errno EPROTO. Returns the byte count (0 at
 * EOF), or -1 with errno (EAGAIN included). */
ssize_t fd_pass_recv(int sock, void *data, size_t size, int *fd,
                     int nonblocking);

#endif
