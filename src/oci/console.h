/* Terminals (runtime-spec config.md process.terminal): a pty whose master
 * goes to the caller over --console-socket with SCM_RIGHTS, as runc does. */
#ifndef VESSEL_OCI_CONSOLE_H
#define VESSEL_OCI_CONSOLE_H

#include "base/err.h"

/* Connects to the AF_UNIX stream socket at path; returns the fd (CLOEXEC). */
int oci_console_connect(const char *path, struct verr **err);

/* Opens a new pty through /dev/ptmx (of the current mount namespace): *master
 * and *slave are CLOEXEC fds. Sets the window size if rows and cols > 0. */
int oci_pty_open(int *master, int *slave, unsigned rows, unsigned cols, struct verr **err);

/* Sends fd over the connected socket sock with SCM_RIGHTS; the payload is
 * name (the pty path), like runc's utils.SendFd. */
int oci_console_send(int sock, int fd, const char *name, struct verr **err);

/* Receives one fd sent with SCM_RIGHTS; returns it or -1. */
int oci_console_recv(int sock, struct verr **err);

#endif
