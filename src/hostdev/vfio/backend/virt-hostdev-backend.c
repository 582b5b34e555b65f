/*
 * virt-hostdev-backend: holds one assigned device, unprivileged
 *
 * Started by the manager (root) with the device's VFIO group fd (and
 * container fd) and a control socket.  In this order it: closes every fd
 * it was not given, drops to --uid/--gid for good and sets no_new_privs,
 * opens the device from the group fd (VFIO_GROUP_GET_DEVICE_FD: no path
 * under /dev/vfio needed), then answers the JSON protocol on the socket
 * until "quit" or until the manager closes it.  With no --group-fd it
 * waits for a "handover" request carrying the fds (SCM_RIGHTS).
 *
 * Exit status: 0 after quit or end of stream, 1 failure, 2 bad usage.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#define G_LOG_DOMAIN "hostdev.vfio.backend"

#include <locale.h>
#include <stdio.h>
#include <unistd.h>

#include "vh-backend.h"
#include "vh-backend-fd.h"
#include "vh-backend-privs.h"
#include "vh-pci-address.h"

typedef struct {
    int socket_fd;
    int group_fd;
    int container_fd;
    int group_id;
    int uid;
    int gid;
    char *device;
} VhBackendOptions;

static gboolean
vh_backend_options_check(VhBackendOptions *o, GError **error)
{
    VhPciAddress addr;
    const int fds[] = { o->socket_fd, o->group_fd, o->container_fd };
    const char *names[] = { "--socket-fd", "--group-fd", "--container-fd" };
    guint i;

    if (!o->device || o->socket_fd < 0 || o->uid < 0 || o->gid < 0) {
        g_set_error(error, VH_BACKEND_ERROR, VH_BACKEND_ERROR_INVALID,
                    "--device, --socket-fd, --uid and --gid are required; see "
                    "--help");
        return FALSE;
    }
    if (!vh_pci_address_parse(o->device, &addr, error))
        return FALSE;
    if (o->container_fd >= 0 && o->group_fd < 0) {
        g_set_error(error, VH_BACKEND_ERROR, VH_BACKEND_ERROR_INVALID,
                    "--container-fd needs --group-fd");
        return FALSE;
    }
    for (i = 0; i < G_N_ELEMENTS(fds); i++) {
        if (fds[i] >= 0 && (fds[i] < 3 || !vh_backend_fd_is_open(fds[i]))) {
            g_set_error(error, VH_BACKEND_ERROR, VH_BACKEND_ERROR_INVALID,
                        "%s %d is not an open fd above 2 of this process",
                        names[i], fds[i]);
            return FALSE;
        }
    }
    /* The canonical form, as the kernel names the device. */
    g_free(o->device);
    o->device = g_malloc(VH_PCI_ADDRESS_BUFLEN);
    vh_pci_address_format(&addr, o->device);
    return TRUE;
}

static int
vh_backend_main(int argc, char **argv, GError **error)
{
    VhBackendOptions o = {
        .socket_fd = -1, .group_fd = -1, .container_fd = -1,
        .group_id = -1, .uid = -1, .gid = -1,
    };
    const GOptionEntry entries[] = {
        { "device", 0, 0, G_OPTION_ARG_STRING, &o.device,
          "The device (0000:00:03.0)", "ADDR" },
        { "socket-fd", 0, 0, G_OPTION_ARG_INT, &o.socket_fd,
          "The control socket (inherited)", "FD" },
        { "group-fd", 0, 0, G_OPTION_ARG_INT, &o.group_fd,
          "The VFIO group fd (inherited); without it, wait for \"handover\"",
          "FD" },
        { "group", 0, 0, G_OPTION_ARG_INT, &o.group_id,
          "The group's number, for messages", "N" },
        { "container-fd", 0, 0, G_OPTION_ARG_INT, &o.container_fd,
          "The VFIO container fd (inherited)", "FD" },
        { "uid", 0, 0, G_OPTION_ARG_INT, &o.uid,
          "Drop to this uid (not 0)", "UID" },
        { "gid", 0, 0, G_OPTION_ARG_INT, &o.gid, "Drop to this gid", "GID" },
        G_OPTION_ENTRY_NULL
    };
    g_autoptr(GOptionContext) ctx = g_option_context_new(NULL);
    g_autoptr(VhBackend) b = NULL;
    g_autofree char *device = NULL;
    int keep[3];

    g_option_context_set_summary(ctx, "Hold one VFIO device for the "
                                 "virt-hostdev manager, unprivileged, and "
                                 "answer its JSON control protocol on the "
                                 "socket (docs/backend.rst).");
    g_option_context_add_main_entries(ctx, entries, NULL);
    if (!g_option_context_parse(ctx, &argc, &argv, error))
        return 2;
    if (argc > 1) {
        g_set_error(error, VH_BACKEND_ERROR, VH_BACKEND_ERROR_INVALID,
                    "unexpected argument '%s'", argv[1]);
        return 2;
    }
    if (!vh_backend_options_check(&o, error)) {
        g_free(o.device);
        return 2;
    }
    device = o.device;

    /* Step 1: hold nothing but what we were given. */
    keep[0] = o.socket_fd;
    keep[1] = o.group_fd;
    keep[2] = o.container_fd;
    if (!vh_backend_fds_close_others(keep, G_N_ELEMENTS(keep), error))
        return 1;
    /* Step 2: root is gone before any device is touched. */
    if (!vh_backend_drop_privileges(o.uid, o.gid, error))
        return g_error_matches(*error, VH_BACKEND_ERROR,
                               VH_BACKEND_ERROR_INVALID) ? 2 : 1;
    /* Step 3: the device, from the passed fds only. */
    b = vh_backend_new(vh_vfio_ops_kernel(), NULL, o.socket_fd, device);
    if (o.group_fd >= 0 &&
        !vh_backend_open_device(b, o.group_fd, o.group_id, o.container_fd,
                                error))
        return 1;
    /* Step 4: serve the manager. */
    return vh_backend_serve(b, error) ? 0 : 1;
}

int
main(int argc, char **argv)
{
    g_autoptr(GError) error = NULL;
    int status;

    setlocale(LC_ALL, "");
    status = vh_backend_main(argc, argv, &error);
    if (status != 0) {
        g_autofree char *msg = g_strdup(error ? error->message : "failed");

        g_strdelimit(msg, "\n\r", ' ');
        fprintf(stderr, "virt-hostdev-backend: %s\n", msg);
    }
    return status;
}
