/*
 * vh-pci-names.h: vendor and device names from the PCI ID database
 *
 * A thin owner of a libpci handle, used only for pci_lookup_name().  libpci
 * looks in pci.ids first and asks udev's hwdb (where libvirt takes its
 * names from) only for ids pci.ids lacks; docs/formatnode-pci.rst lists
 * where the two databases give different names.
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
