/*
 * vh-error.c: the project's GError domains
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <string.h>

#include "vh-error.h"

G_DEFINE_QUARK(vh-address-error-quark, vh_address_error)
G_DEFINE_QUARK(vh-sysfs-error-quark, vh_sysfs_error)
G_DEFINE_QUARK(vh-cli-error-quark, vh_cli_error)
G_DEFINE_QUARK(vh-daemon-error-quark, vh_daemon_error)
G_DEFINE_QUARK(vh-hostdev-error-quark, vh_hostdev_error)
G_DEFINE_QUARK(vh-qemu-error-quark, vh_qemu_error)
G_DEFINE_QUARK(vh-vfio-error-quark, vh_vfio_error)

char *
vh_error_one_line(const char *text)
{
    GString *out = g_string_sized_new(strlen(text));
    const char *p;

    for (p = text; *p; p++) {
        guchar c = (guchar) *p;

        if (c == '\n')
            g_string_append(out, "\\n");
        else if (c == '\t')
            g_string_append(out, "\\t");
        else if (c == '\r')
            g_string_append(out, "\\r");
        else if (c < 0x20 || c == 0x7f)
            g_string_append_printf(out, "\\x%02x", c);
        else
            g_string_append_c(out, (char) c);
    }
    return g_string_free(out, FALSE);
}

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
