/*
 * vh-cli.h: the virt-hostdev command line, callable from a test binary
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <glib.h>

#include "vh-node-device.h"
#include "vh-sysfs.h"
#include "vh-vfio.h"

G_BEGIN_DECLS

/*
 * For tests: a simulated kernel.  With hooks, sysfs_opened() sees the
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
    /*
     * For virt-hostdevd (tools/vh-daemon.c), which runs verbs for clients.
     * serve(): a verb runs only when it returns TRUE for the verb's name and
     * the sysfs root the command line resolves to; otherwise, and for any
     * command line that does not reach a verb (bad usage, --version),
     * vh_cli_run() prints nothing and returns VH_CLI_DECLINED, so that the
     * client runs it itself.  inventory(): the devices the daemon keeps in
     * memory, a reference to a scan of @sysfs's root that read at least
     * @flags, or NULL to make the verb scan itself.
     */
    gboolean (*serve)(gpointer data, const char *verb, const char *sysfs_root);
    VhNodeDeviceList *(*inventory)(gpointer data, const VhSysfs *sysfs,
                                   VhNodeDeviceScanFlags flags);
    gpointer data;
} VhCliHooks;

/* vh_cli_run()'s answer when VhCliHooks.serve() declined the command. */
#define VH_CLI_DECLINED (-1)

/* Run the command line; returns the exit status (0, 1 or 2) after printing
 * any error on one line, or VH_CLI_DECLINED (see VhCliHooks). */
int vh_cli_run(int argc, char **argv, const VhCliHooks *hooks);

G_END_DECLS
