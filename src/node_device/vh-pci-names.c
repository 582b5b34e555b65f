/*
 * vh-pci-names.c: vendor and device names from udev's hwdb, or pci.ids
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#define G_LOG_DOMAIN "node_device.pci-names"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <libudev.h>
#include <pci/pci.h>

#include "vh-pci-names.h"

struct _VhPciNames {
    /* Opened on the first lookup.  hwdb.bin is a trie that libudev maps:
     * opening it reads a header, a lookup walks a few nodes.  libpci is
     * the fallback without a hwdb; it parses all of pci.ids (1.4 MB) on
     * its first lookup. */
    gboolean opened;
    struct udev *udev;
    struct udev_hwdb *hwdb;
    struct pci_access *pacc;
    /* Answers already looked up by this handle (a scan asks about the same
     * few ids for thousands of VFs): key vendor << 48 | device << 32 |
     * subsystem vendor << 16 | subsystem device for devices, the vendor
     * alone in @vendors; value the name, NULL when unknown. */
    GHashTable *devices;
    GHashTable *vendors;
};

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

    names->devices = g_hash_table_new_full(g_int64_hash, g_int64_equal,
                                           g_free, g_free);
    names->vendors = g_hash_table_new_full(g_direct_hash, g_direct_equal,
                                           NULL, g_free);
    return names;
}

void
vh_pci_names_free(VhPciNames *names)
{
    if (!names)
        return;
    if (names->hwdb)
        udev_hwdb_unref(names->hwdb);
    if (names->udev)
        udev_unref(names->udev);
    if (names->pacc)
        pci_cleanup(names->pacc);
    if (names->devices)
        g_hash_table_unref(names->devices);
    if (names->vendors)
        g_hash_table_unref(names->vendors);
    g_free(names);
}

/* The hwdb when there is one (VIRT_HOSTDEV_PCI_NAMES=pci.ids skips it, for
 * tests and comparisons), else a libpci handle. */
static void
vh_pci_names_open(VhPciNames *names)
{
    const char *source = g_getenv("VIRT_HOSTDEV_PCI_NAMES");

    names->opened = TRUE;
    if (!g_strcmp0(source, "pci.ids")) {
        g_debug("VIRT_HOSTDEV_PCI_NAMES=pci.ids: names from libpci");
    } else if ((names->udev = udev_new()) &&
               (names->hwdb = udev_hwdb_new(names->udev))) {
        return;
    } else {
        g_debug("no udev hwdb (hwdb.bin); names from libpci");
    }
    /* No pci_init(): we need the name database, not an access method. */
    names->pacc = pci_alloc();
    names->pacc->error = vh_pci_names_error;
    names->pacc->warning = vh_pci_names_debug;
    names->pacc->debug = vh_pci_names_debug;
    names->pacc->id_lookup_mode = 0;     /* no DNS, no cache file */
}

/* The value of @key among the hwdb's properties for @modalias, or NULL. */
static char *
vh_pci_names_hwdb(VhPciNames *names, const char *modalias, const char *key)
{
    struct udev_list_entry *entry;

    udev_list_entry_foreach(entry,
                            udev_hwdb_get_properties_list_entry(names->hwdb,
                                                                modalias, 0)) {
        if (g_str_equal(udev_list_entry_get_name(entry), key))
            return g_strdup(udev_list_entry_get_value(entry));
    }
    return NULL;
}

static char *
vh_pci_names_libpci(VhPciNames *names, int flags, int vendor, int device)
{
    char buf[256];

    return g_strdup(pci_lookup_name(names->pacc, buf, sizeof(buf),
                                    flags | PCI_LOOKUP_NO_NUMBERS,
                                    vendor, device));
}

char *
vh_pci_names_vendor(VhPciNames *names, guint16 vendor)
{
    gpointer known = NULL;

    if (!g_hash_table_lookup_extended(names->vendors, GUINT_TO_POINTER(vendor),
                                      NULL, &known)) {
        if (!names->opened)
            vh_pci_names_open(names);
        if (names->hwdb) {
            char modalias[sizeof("pci:vXXXXXXXX")];

            g_snprintf(modalias, sizeof(modalias), "pci:v%08X", vendor);
            known = vh_pci_names_hwdb(names, modalias,
                                      "ID_VENDOR_FROM_DATABASE");
        } else {
            known = vh_pci_names_libpci(names, PCI_LOOKUP_VENDOR, vendor, 0);
        }
        g_hash_table_insert(names->vendors, GUINT_TO_POINTER(vendor), known);
    }
    return g_strdup(known);
}

char *
vh_pci_names_device(VhPciNames *names, guint16 vendor, guint16 device,
                    guint16 subsystem_vendor, guint16 subsystem_device)
{
    guint64 key = (guint64) vendor << 48 | (guint64) device << 32 |
                  (guint64) subsystem_vendor << 16 | subsystem_device;
    gpointer known = NULL;

    if (!g_hash_table_lookup_extended(names->devices, &key, NULL, &known)) {
        if (!names->opened)
            vh_pci_names_open(names);
        if (names->hwdb) {
            char modalias[sizeof("pci:vXXXXXXXXdXXXXXXXXsvXXXXXXXXsdXXXXXXXX")];

            /* The start of the kernel's MODALIAS, which udev looks up: the
             * class that follows it selects no name. */
            g_snprintf(modalias, sizeof(modalias), "pci:v%08Xd%08Xsv%08Xsd%08X",
                       vendor, device, subsystem_vendor, subsystem_device);
            known = vh_pci_names_hwdb(names, modalias,
                                      "ID_MODEL_FROM_DATABASE");
        } else {
            known = vh_pci_names_libpci(names, PCI_LOOKUP_DEVICE, vendor,
                                        device);
        }
        g_hash_table_insert(names->devices, g_memdup2(&key, sizeof(key)),
                            known);
    }
    return g_strdup(known);
}
