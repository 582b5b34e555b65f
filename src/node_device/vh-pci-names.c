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

    /* No pci_init(): we need the name database, not an access method. */
    names->pacc = pci_alloc();
    names->pacc->error = vh_pci_names_error;
    names->pacc->warning = vh_pci_names_debug;
    names->pacc->debug = vh_pci_names_debug;
    names->pacc->id_lookup_mode = 0;     /* no DNS, no cache file */
    return names;
}

void
vh_pci_names_free(VhPciNames *names)
{
    if (!names)
        return;
    if (names->pacc)
        pci_cleanup(names->pacc);
    g_free(names);
}

char *
vh_pci_names_vendor(VhPciNames *names, guint16 vendor)
{
    char buf[256];
    const char *name = pci_lookup_name(names->pacc, buf, sizeof(buf),
                                       PCI_LOOKUP_VENDOR | PCI_LOOKUP_NO_NUMBERS,
                                       (int) vendor);

    return name ? g_strdup(name) : NULL;
}

char *
vh_pci_names_device(VhPciNames *names, guint16 vendor, guint16 device)
{
    char buf[256];
    const char *name = pci_lookup_name(names->pacc, buf, sizeof(buf),
                                       PCI_LOOKUP_DEVICE | PCI_LOOKUP_NO_NUMBERS,
                                       (int) vendor, (int) device);

    return name ? g_strdup(name) : NULL;
}
