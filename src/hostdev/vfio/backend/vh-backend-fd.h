/*
 * vh-backend-fd.h: fd handover between the manager and the backend
 *
 * The manager hands the backend its VFIO group and container fds either as
 * inherited fd numbers or over the control socket with SCM_RIGHTS; both
 * ends of that, and the backend's "hold nothing else" step, live here.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* At most this many fds travel with one message. */
#define VH_BACKEND_MAX_FDS 4

/*
 * Send @len bytes of @data (at least one) on the stream socket @sock with
 * @n_fds fds attached (SCM_RIGHTS).  The fds stay open in the caller.
 */
gboolean vh_backend_fds_send(int sock, const void *data, gsize len,
                             const int *fds, guint n_fds, GError **error);

/*
 * Read up to @len bytes from @sock into @buf; fds that arrive with them are
 * appended to @fds (GArray of int, opened close-on-exec).  A message that
 * carried more fds than fit is refused (the fds that did arrive are
 * closed).  Returns the byte count (0 at end of stream) or -1 with @error.
 */
gssize vh_backend_fds_recv(int sock, void *buf, gsize len, GArray *fds,
                           GError **error);

/* Close every fd of this process but @keep (and 0, 1, 2). */
gboolean vh_backend_fds_close_others(const int *keep, guint n_keep,
                                     GError **error);

/* TRUE when @fd is an open fd of this process. */
gboolean vh_backend_fd_is_open(int fd);

G_END_DECLS
