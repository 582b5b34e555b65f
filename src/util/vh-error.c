/*
 * vh-error.c: the project's GError domains
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "vh-error.h"

G_DEFINE_QUARK(vh-address-error-quark, vh_address_error)
G_DEFINE_QUARK(vh-sysfs-error-quark, vh_sysfs_error)
G_DEFINE_QUARK(vh-cli-error-quark, vh_cli_error)
G_DEFINE_QUARK(vh-hostdev-error-quark, vh_hostdev_error)
G_DEFINE_QUARK(vh-qemu-error-quark, vh_qemu_error)
G_DEFINE_QUARK(vh-vfio-error-quark, vh_vfio_error)

gboolean
vh_error_is_invalid_input(const GError *error)
{
    if (!error)
        return FALSE;
    if (error->domain == G_OPTION_ERROR)
        return TRUE;
    return g_error_matches(error, VH_ADDRESS_ERROR, VH_ADDRESS_ERROR_INVALID) ||
           g_error_matches(error, VH_SYSFS_ERROR, VH_SYSFS_ERROR_INVALID) ||
           g_error_matches(error, VH_CLI_ERROR, VH_CLI_ERROR_INVALID) ||
           g_error_matches(error, VH_HOSTDEV_ERROR, VH_HOSTDEV_ERROR_INVALID) ||
           g_error_matches(error, VH_QEMU_ERROR, VH_QEMU_ERROR_INVALID) ||
           g_error_matches(error, VH_VFIO_ERROR, VH_VFIO_ERROR_INVALID);
}
