/*
 * vh-backend-selftest.h: prove what a device allows, through the backend
 *
 * The manager's half of `virt-hostdev device-selftest`: open the group and
 * the container (root), check the group is viable (naming the blockers),
 * start the unprivileged backend with those fds, and ask it, step by
 * step, over the protocol: who it runs as, the device report, config
 * space, every BAR; for QEMU's edu device also the ID and liveness
 * registers, an MSI raised by the device, a DMA round trip through the
 * IOMMU and a DMA to an unmapped IOVA that must not reach memory.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <glib.h>

#include "vh-backend-client.h"
#include "vh-sysfs.h"
#include "vh-vfio.h"

G_BEGIN_DECLS

/* One step's outcome. */
typedef struct {
    const char *name;           /* "config space", "edu MSI", ... */
    gboolean ok;
    const char *evidence;       /* what was measured, or why it failed */
} VhBackendStep;

typedef struct {
    const char *program;        /* virt-hostdev-backend */
    const char *device;         /* "0000:00:03.0" */
    int group_id;
    guint16 vendor;             /* from sysfs, to compare with config */
    guint16 device_id;
    uid_t uid;
    gid_t gid;
    guint64 memlock;            /* RLIMIT_MEMLOCK for the backend */
    VhBackendPass pass;
    const VhSysfs *sysfs;       /* to name a non-viable group's blockers */
    const VhVfioOps *ops;       /* the manager's kernel seam */
    gpointer ops_data;
    /* Called for each step as it ends. */
    void (*step)(gpointer data, const VhBackendStep *step);
    /* Called (when set) after the last check, while the backend is still
     * running, with its pid: the caller may look at it from outside. */
    void (*pause)(gpointer data, GPid pid);
    gpointer data;
} VhBackendSelftest;

/*
 * Run the steps.  FALSE with @error when it could not start (group not
 * viable, not root, backend failed to start); otherwise TRUE with the
 * number of failed steps in *ret_failed.
 */
gboolean vh_backend_selftest_run(const VhBackendSelftest *t,
                                 guint *ret_failed, GError **error);

G_END_DECLS
