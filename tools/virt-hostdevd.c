/*
 * virt-hostdevd: answers virt-hostdev's node-device queries from memory
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <locale.h>
#include <stdlib.h>

#include <glib.h>

#include "vh-config.h"
#include "vh-daemon-proto.h"
#include "vh-daemon.h"

int
main(int argc, char **argv)
{
    g_autoptr(GOptionContext) ctx = NULL;
    g_autoptr(GError) error = NULL;
    g_autoptr(VhDaemon) daemon = NULL;
    g_autofree char *socket_path = NULL;
    g_autofree char *sysfs_root = NULL;
    gboolean verbose = FALSE;
    gboolean version = FALSE;
    const GOptionEntry entries[] = {
        { "socket", 0, 0, G_OPTION_ARG_FILENAME, &socket_path,
          "Listen on PATH (default " VH_DEFAULT_SOCKET ", or $"
          VH_DAEMON_SOCKET_ENV ")", "PATH" },
        { "sysfs-root", 0, 0, G_OPTION_ARG_FILENAME, &sysfs_root,
          "Keep the devices below DIR (default " VH_DEFAULT_SYSFS_ROOT
          ", or $VIRT_HOSTDEV_SYSFS_ROOT)", "DIR" },
        { "verbose", 'v', 0, G_OPTION_ARG_NONE, &verbose,
          "One line on standard error per request", NULL },
        { "version", 'V', 0, G_OPTION_ARG_NONE, &version,
          "Print the version and exit", NULL },
        G_OPTION_ENTRY_NULL
    };
    const char *env;

    setlocale(LC_ALL, "");
    ctx = g_option_context_new(NULL);
    g_option_context_set_summary(ctx, "Answers virt-hostdev's node-device "
                                 "queries (nodedev-list, nodedev-dumpxml) "
                                 "from memory, kept current by the kernel's "
                                 "device events.");
    g_option_context_add_main_entries(ctx, entries, NULL);
    if (!g_option_context_parse(ctx, &argc, &argv, &error)) {
        g_printerr("virt-hostdevd: %s\n", error->message);
        return 2;
    }
    if (argc > 1) {
        g_printerr("virt-hostdevd: unexpected argument '%s'; see "
                   "`virt-hostdevd --help`\n", argv[1]);
        return 2;
    }
    if (version) {
        g_print("virt-hostdevd %s\n", VH_VERSION);
        return 0;
    }
    if (!socket_path) {
        env = g_getenv(VH_DAEMON_SOCKET_ENV);
        socket_path = g_strdup(env && *env ? env : VH_DEFAULT_SOCKET);
    }
    if (!sysfs_root) {
        env = g_getenv("VIRT_HOSTDEV_SYSFS_ROOT");
        sysfs_root = g_strdup(env && *env ? env : VH_DEFAULT_SYSFS_ROOT);
    }
    if (!(daemon = vh_daemon_new(sysfs_root, socket_path, verbose, &error))) {
        g_printerr("virt-hostdevd: %s\n", error->message);
        return 1;
    }
    vh_daemon_run(daemon);
    return 0;
}
