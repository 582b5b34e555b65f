/*
 * vh-pci-names.h: vendor and device names from the PCI ID database
 *
 * Names come from udev's hwdb (libudev's udev_hwdb), where udev, and so
 * libvirt, take ID_VENDOR_FROM_DATABASE and ID_MODEL_FROM_DATABASE from;
 * the device is looked up by its modalias, subsystem ids included.  Only
 * without a hwdb (no hwdb.bin, or VIRT_HOSTDEV_PCI_NAMES=pci.ids) are they
 * libpci's pci_lookup_name() from pci.ids.  docs/formatnode-pci.rst says
 * where the two databases differ.
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
char *vh_pci_names_device(VhPciNames *names, guint16 vendor, guint16 device,
                          guint16 subsystem_vendor, guint16 subsystem_device);

G_END_DECLS
