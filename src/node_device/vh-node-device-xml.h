/*
 * vh-node-device-xml.h: libvirt node-device XML for PCI devices
 *
 * The element order, number formats and indentation are libvirt's
 * (virNodeDeviceDefFormat), so consumers that parse libvirt's XML (virsh,
 * virt-manager, Nova) parse ours unchanged; every document validates
 * against libvirt's nodedev.rng.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <glib.h>

#include "vh-node-device.h"

G_BEGIN_DECLS

/* One <device> document for @dev.  Free with g_free(). */
char *vh_node_device_format_xml(const VhNodeDeviceList *list,
                                const VhNodeDevice *dev, GError **error);

/* Every device of @list in one <devices> document.  Free with g_free(). */
char *vh_node_device_list_format_xml(const VhNodeDeviceList *list,
                                     GError **error);

G_END_DECLS
