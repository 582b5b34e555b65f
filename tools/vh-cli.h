/*
 * vh-cli.h: the virt-hostdev command line, callable from a test binary
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <glib.h>

#include "vh-sysfs.h"
#include "vh-vfio.h"

G_BEGIN_DECLS

/*
 * For tests only: a simulated kernel.  With hooks, sysfs_opened() sees the
 * VhSysfs the verbs use (to attach a write hook), load_module() replaces
 * modprobe, and dev_root replaces /dev.  virt-hostdev itself passes NULL.
 */
typedef struct {
    void (*sysfs_opened)(gpointer data, VhSysfs *sysfs);
    gboolean (*load_module)(gpointer data, const char *module, GError **error);
    const char *dev_root;
    /* A simulated VFIO kernel for device-info; NULL: the real one.  Gets
     * @data as its ops_data. */
    const VhVfioOps *vfio_ops;
    gpointer data;
} VhCliHooks;

/* Run the command line; returns the exit status (0, 1 or 2) after printing
 * any error on one line. */
int vh_cli_run(int argc, char **argv, const VhCliHooks *hooks);

G_END_DECLS
