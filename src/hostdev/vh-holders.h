/*
 * vh-holders.h: the processes that have an IOMMU group's /dev/vfio/N open
 *
 * Read from a /proc (or a fake one in tests) through the sysfs seam: the
 * links PID/fd/FD whose target is "/dev/vfio/GROUP".  Such a link names the
 * node as it was opened, always below the real /dev, whatever root the
 * manager checks nodes under.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <glib.h>

#include "vh-sysfs.h"

G_BEGIN_DECLS

typedef struct {
    guint pid;
    char *comm;     /* PID/comm, in printable ASCII; NULL: unreadable */
} VhHolder;

void vh_holder_free(VhHolder *holder);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VhHolder, vh_holder_free)

/*
 * The processes below @proc that have /dev/vfio/@group open, each once,
 * sorted by pid: VhHolder * in *@ret_holders (free with
 * g_ptr_array_unref()).  A process whose fds cannot be read (another
 * user's, when not root) is skipped and counted in *@ret_unreadable; one
 * that exits during the scan is skipped.  Fails only when @proc itself
 * cannot be listed.
 */
gboolean vh_holders_scan(const VhSysfs *proc, guint group,
                         GPtrArray **ret_holders, guint *ret_unreadable,
                         GError **error);

G_END_DECLS
