/*
 * vh-pci-address.h: PCI addresses and libvirt node-device names
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct {
    guint32 domain;
    guint8 bus;
    guint8 slot;        /* 0x00-0x1f */
    guint8 function;    /* 0-7 */
} VhPciAddress;

/* Big enough for "ffffffff:ff:1f.7" and "pci_ffffffff_ff_1f_7". */
#define VH_PCI_ADDRESS_BUFLEN 24

/*
 * Parse @str, one of
 *   DDDD:BB:SS.F        (the kernel's form, 0000:01:02.3)
 *   BB:SS.F             (domain 0)
 *   pci_DDDD_BB_SS_F    (libvirt's node-device name, pci_0000_01_02_3)
 * Each part is hexadecimal.  Anything else, an out-of-range part or
 * trailing characters is refused with VH_ADDRESS_ERROR_INVALID and a
 * one-line message quoting the input.  Because the result is a set of
 * integers, every path later formatted from it stays inside the sysfs root.
 * @ret_addr is set only on success.
 */
gboolean vh_pci_address_parse(const char *str, VhPciAddress *ret_addr,
                              GError **error);

/* "0000:01:02.3" into @buf; returns @buf. */
const char *vh_pci_address_format(const VhPciAddress *addr,
                                  char buf[VH_PCI_ADDRESS_BUFLEN]);

/* "pci_0000_01_02_3" into @buf, as libvirt names node devices; returns @buf. */
const char *vh_pci_address_nodedev_name(const VhPciAddress *addr,
                                        char buf[VH_PCI_ADDRESS_BUFLEN]);

/* Newly allocated "0000:01:02.3"; free with g_free(). */
char *vh_pci_address_to_string(const VhPciAddress *addr);

gboolean vh_pci_address_equal(const VhPciAddress *a, const VhPciAddress *b);

/* Orders by domain, bus, slot, function: a GCompareFunc on VhPciAddress *. */
int vh_pci_address_compare(const VhPciAddress *a, const VhPciAddress *b);

G_END_DECLS
