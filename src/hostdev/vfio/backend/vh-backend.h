/*
 * vh-backend.h: the backend's side of the control protocol
 *
 * A VhBackend serves one control socket for one device: it answers the
 * requests of vh-backend-proto.h through the VFIO library.  It is what
 * virt-hostdev-backend runs after dropping privileges; tests run it over
 * the library's fake ops.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <glib.h>

#include "vh-backend-proto.h"
#include "vh-vfio.h"

G_BEGIN_DECLS

typedef struct _VhBackend VhBackend;

/*
 * A backend for device @name ("0000:00:03.0") on the control socket @sock
 * (owned from now on).  The device is opened by vh_backend_open_device()
 * (fds given on the command line) or by a "handover" request carrying the
 * fds (SCM_RIGHTS).  @ops/@ops_data: the kernel seam (tests: a fake).
 */
VhBackend *vh_backend_new(const VhVfioOps *ops, gpointer ops_data, int sock,
                          const char *name);
void vh_backend_free(VhBackend *b);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VhBackend, vh_backend_free)

/* Open the device from @group_fd (and @container_fd, -1: none), which
 * belong to the library from the call on. */
gboolean vh_backend_open_device(VhBackend *b, int group_fd, int group_id,
                                int container_fd, GError **error);

/* The opened device, or NULL. */
VhVfioDevice *vh_backend_get_device(const VhBackend *b);

/*
 * Answer one request line (no newline) whose message brought @fds (GArray
 * of int, may be NULL; taken and emptied: used by "handover", closed
 * otherwise).  Returns the reply line (newline-terminated, free with
 * g_free()); *ret_quit becomes TRUE after "quit".  Never fails: a bad
 * request gets an error reply.
 */
char *vh_backend_handle_line(VhBackend *b, const char *line, GArray *fds,
                             gboolean *ret_quit);

/*
 * Serve the socket until "quit" or the peer closes it.  A line longer than
 * VH_BACKEND_MAX_LINE gets an error reply and is skipped.  FALSE with
 * @error when the socket fails.
 */
gboolean vh_backend_serve(VhBackend *b, GError **error);

G_END_DECLS
