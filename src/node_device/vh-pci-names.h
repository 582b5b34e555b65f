/*
 * vh-pci-names.h: vendor and device names from the PCI ID database
 *
 * A thin owner of a libpci handle, used only for pci_lookup_name(), by
 * vendor and device in pci.ids alone: what libvirt's node-device driver
 * shows (libpciaccess's pci_get_strings() with any subsystem).  Not udev's
 * hwdb, whose names differ (docs/formatnode-pci.rst).
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct _VhPciNames VhPciNames;

VhPciNames *vh_pci_names_new(void);
void vh_pci_names_free(VhPciNames *names);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VhPciNames, vh_pci_names_free)

/* Newly allocated names, or NULL when the database does not know the id.
 * Free with g_free(). */
char *vh_pci_names_vendor(VhPciNames *names, guint16 vendor);
char *vh_pci_names_device(VhPciNames *names, guint16 vendor, guint16 device);

G_END_DECLS
