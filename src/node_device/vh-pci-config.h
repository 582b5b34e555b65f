/*
 * vh-pci-config.h: facts read from a PCI device's configuration space
 *
 * Pure functions over bytes (what sysfs "config" returned, which may be
 * only the first 64 bytes for an unprivileged reader): no I/O, so they are
 * tested and fuzzed directly.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef enum {
    VH_PCI_HEADER_ENDPOINT = 0,
    VH_PCI_HEADER_PCI_BRIDGE = 1,
    VH_PCI_HEADER_CARDBUS_BRIDGE = 2,
} VhPciHeaderType;

/* PCIe 6.0, 7.5.3.6 (Link Capabilities) and 7.5.3.8 (Link Status). */
typedef struct {
    int port;           /* -1: not reported (status links) */
    guint speed;        /* encoded: 1 = 2.5 GT/s, 2 = 5, 3 = 8, ... 0 unknown */
    guint width;
} VhPcieLink;

typedef struct {
    gboolean present;   /* the device has a PCI Express capability */
    gboolean has_link;  /* not a root-complex integrated endpoint/event collector */
    VhPcieLink cap;
    VhPcieLink sta;
    guint8 port_type;   /* Device/Port Type, PCIe 6.0 7.5.3.2 */
} VhPcieInfo;

/*
 * The header type (0x0e, low 7 bits).  FALSE when @len is too short or the
 * type is not one PCI defines; *ret_type is set only on success.
 */
gboolean vh_pci_config_header_type(const guint8 *cfg, gsize len,
                                   VhPciHeaderType *ret_type);

/*
 * Offset of the standard capability @cap_id (PCI 3.0, 6.7), or 0 if the
 * device has none, the list leaves @len bytes, or the list loops.
 */
guint vh_pci_config_find_capability(const guint8 *cfg, gsize len,
                                    guint8 cap_id);

/* The PCI Express capability and its link registers, if readable. */
void vh_pci_config_pcie_info(const guint8 *cfg, gsize len,
                             VhPcieInfo *ret_info);

/*
 * Reads @len bytes of config space at @offset into @buf for
 * vh_pci_config_fetch_pcie(); returns how many it read (fewer only at the
 * end of the file), or -1 with @error set.
 */
typedef gssize (*VhPciConfigReadFunc)(gpointer data, guint8 *buf, gsize len,
                                      guint offset, GError **error);

/* What vh_pci_config_fetch_pcie() fills: the standard config space. */
#define VH_PCI_CONFIG_STD_SIZE 256

/*
 * Fetches through @read only the parts of config space that
 * vh_pci_config_header_type() and vh_pci_config_pcie_info() look at: the
 * standard header (64 bytes), then the capability list, 20 bytes of each
 * capability (enough for the PCI Express capability's link status), up to
 * the PCI Express capability.  On real hardware every dword of a sysfs
 * config read is a config cycle (a trap to the hypervisor in a VM), so
 * this reads some 20-30 dwords where the whole standard space is 64.
 * @cfg is zeroed first; the rest of it stays zero.  *ret_len is the length
 * to give those two functions: their answers are the same as on the first
 * VH_PCI_CONFIG_STD_SIZE bytes of the file read whole.  On error @cfg
 * holds what was read so far and *ret_len is not set.
 */
gboolean vh_pci_config_fetch_pcie(VhPciConfigReadFunc read, gpointer data,
                                  guint8 cfg[VH_PCI_CONFIG_STD_SIZE],
                                  gsize *ret_len, GError **error);

/*
 * Whether the function can be reset alone, as the kernel's flr, af_flr
 * and pm methods do: Function Level Reset in the PCI Express capability,
 * FLR in the Advanced Features capability, or a PM capability whose
 * D3hot->D0 transition resets (No_Soft_Reset clear).  FALSE when none is
 * readable in @len bytes: then only a bus reset is left.
 */
gboolean vh_pci_config_has_function_reset(const guint8 *cfg, gsize len);

/* libvirt's spelling of an encoded link speed ("2.5", "5", "8", ...),
 * NULL for 0 or an encoding PCIe does not define. */
const char *vh_pcie_link_speed_string(guint speed);

G_END_DECLS
