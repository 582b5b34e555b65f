/*
 * vh-pci-names.c: vendor and device names from the PCI ID database
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#define G_LOG_DOMAIN "node_device.pci-names"

#include <stdarg.h>
#include <stdio.h>
#include <pci/pci.h>

#include "vh-pci-names.h"

struct _VhPciNames {
    struct pci_access *pacc;
    /* Answers already looked up by this handle (a scan asks about the same
     * few ids for thousands of VFs): key vendor << 16 | device, or
     * VH_PCI_NAMES_VENDOR_KEY(vendor); value the name, NULL when unknown. */
    GHashTable *seen;
};

/* Vendor keys: above every vendor << 16 | device key. */
#define VH_PCI_NAMES_VENDOR_KEY(vendor) ((guint64) 1 << 32 | (vendor))

/* libpci calls error() only for what it cannot survive (out of memory). */
static void G_GNUC_NORETURN G_GNUC_PRINTF(1, 2)
vh_pci_names_error(char *msg, ...)
{
    va_list ap;
    g_autofree char *text = NULL;

    va_start(ap, msg);
    text = g_strdup_vprintf(msg, ap);
    va_end(ap);
    g_error("libpci: %s", text);
}

static void G_GNUC_PRINTF(1, 2)
vh_pci_names_debug(char *msg, ...)
{
    va_list ap;
    g_autofree char *text = NULL;

    va_start(ap, msg);
    text = g_strdup_vprintf(msg, ap);
    va_end(ap);
    g_debug("libpci: %s", text);
}

VhPciNames *
vh_pci_names_new(void)
{
    VhPciNames *names = g_new0(VhPciNames, 1);

    /* No pci_init(): we need the name database, not an access method. */
    names->pacc = pci_alloc();
    names->pacc->error = vh_pci_names_error;
    names->pacc->warning = vh_pci_names_debug;
    names->pacc->debug = vh_pci_names_debug;
    names->pacc->id_lookup_mode = 0;     /* no DNS, no cache file */
    names->seen = g_hash_table_new_full(g_int64_hash, g_int64_equal, g_free,
                                        g_free);
    return names;
}

void
vh_pci_names_free(VhPciNames *names)
{
    if (!names)
        return;
    if (names->pacc)
        pci_cleanup(names->pacc);
    if (names->seen)
        g_hash_table_unref(names->seen);
    g_free(names);
}

/* The remembered answer for @key, or the one libpci gives (NULL: unknown). */
static char *
vh_pci_names_lookup(VhPciNames *names, guint64 key, int flags, int vendor,
                    int device)
{
    gpointer known = NULL;
    char buf[256];
    const char *name;

    if (!g_hash_table_lookup_extended(names->seen, &key, NULL, &known)) {
        /* pci.ids only, as libvirt's libpciaccess (pci_get_strings()):
         * libpci would ask udev's hwdb for ids pci.ids lacks. */
        name = pci_lookup_name(names->pacc, buf, sizeof(buf),
                               flags | PCI_LOOKUP_NO_NUMBERS |
                               PCI_LOOKUP_NO_HWDB, vendor, device);
        known = g_strdup(name);
        g_hash_table_insert(names->seen, g_memdup2(&key, sizeof(key)), known);
    }
    return g_strdup(known);
}

char *
vh_pci_names_vendor(VhPciNames *names, guint16 vendor)
{
    return vh_pci_names_lookup(names, VH_PCI_NAMES_VENDOR_KEY(vendor),
                               PCI_LOOKUP_VENDOR, vendor, 0);
}

char *
vh_pci_names_device(VhPciNames *names, guint16 vendor, guint16 device)
{
    return vh_pci_names_lookup(names, (guint64) vendor << 16 | device,
                               PCI_LOOKUP_DEVICE, vendor, device);
}
