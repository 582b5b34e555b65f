/*
 * vh-daemon.h: virt-hostdevd, node-device queries answered from memory
 *
 * The daemon keeps one scan of the PCI devices of its sysfs root, with
 * the PCI ID database open, and refreshes it when the kernel reports a
 * change to a PCI device (a uevent: add, remove, bind, unbind).  Clients
 * (virt-hostdev's front, tools/virt-hostdev.c) send their command line
 * over a Unix socket (tools/vh-daemon-proto.h); the daemon runs it in a
 * child process, forked with the inventory in memory, which writes to the
 * client's own standard output and error.  It answers only nodedev-list
 * and nodedev-dumpxml, and only its own user (root); the client runs
 * anything else itself.  The inventory serves its own sysfs root; a
 * command for another root reads that one in the child.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct _VhDaemon VhDaemon;

/*
 * Listen on @socket_path (created with its directory; a stale socket is
 * replaced, a live one is an error) for the devices below @sysfs_root.
 * @verbose: one line on standard error per request.
 */
VhDaemon *vh_daemon_new(const char *sysfs_root, const char *socket_path,
                        gboolean verbose, GError **error);
void vh_daemon_free(VhDaemon *daemon);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VhDaemon, vh_daemon_free)

/* Serve until SIGTERM or SIGINT, then stop listening, remove the socket
 * and return once the commands running have answered; SIGHUP opens the PCI
 * ID database again and reads the devices again. */
void vh_daemon_run(VhDaemon *daemon);

G_END_DECLS
