/*
 * vh-node-device.h: PCI devices as libvirt's node-device driver sees them
 *
 * One pass over <sysfs-root>/bus/pci/devices builds a VhNodeDeviceList:
 * every PCI device with the facts libvirt's node-device XML carries plus
 * what assignment needs (driver_override, reset methods).  Missing or odd
 * attribute files leave the field unset; they never drop the device.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <glib.h>

#include "vh-pci-address.h"
#include "vh-pci-config.h"
#include "vh-pci-names.h"
#include "vh-pci-vpd.h"
#include "vh-sysfs.h"

G_BEGIN_DECLS

typedef struct {
    VhPciAddress addr;
    char *name;                 /* libvirt's: pci_0000_01_02_0 */
    char *devpath;              /* relative to the root: devices/pci0000:00/... */
    char *parent;               /* node-device name of the parent, or "computer" */
    gboolean has_parent_addr;   /* the parent is a PCI device (a bridge) */
    VhPciAddress parent_addr;
    char *driver;               /* NULL: no driver bound */
    char *driver_override;      /* NULL: none set */

    gint64 klass;               /* 24-bit class code; -1 unknown */
    guint16 vendor;
    guint16 device;
    guint16 subsystem_vendor;
    guint16 subsystem_device;
    char *vendor_name;          /* NULL: not in the ID database */
    char *product_name;

    gboolean has_group;
    guint group;
    int numa_node;              /* -1: none */

    gboolean has_header_type;   /* false when config space is unreadable */
    VhPciHeaderType header_type;
    VhPcieInfo pcie;

    gboolean is_vf;             /* has a physfn link */
    VhPciAddress physfn;
    guint sriov_totalvfs;       /* 0: not an SR-IOV PF */
    GArray *vfs;                /* VhPciAddress, by virtfn index; never NULL */

    gboolean has_reset_method;  /* the kernel exposes reset_method */
    char **reset_methods;       /* NULL-terminated, may be empty */

    VhPciVpd *vpd;              /* NULL: no vpd file, or no valid VPD in it */
} VhNodeDevice;

typedef struct {
    GPtrArray *devices;         /* VhNodeDevice *, sorted by address */
    GHashTable *by_address;     /* "0000:01:02.0" -> VhNodeDevice * */
    GHashTable *groups;         /* group number -> GPtrArray of VhNodeDevice * */
    char *root;                 /* the sysfs root the list was read from */
} VhNodeDeviceList;

typedef enum {
    VH_NODE_DEVICE_SCAN_NAMES = 1 << 0,     /* look up vendor/product names */
    /* Only address, name, devpath and parent (nodedev-list): the rest of
     * each device is left as if its files were absent. */
    VH_NODE_DEVICE_SCAN_TOPOLOGY_ONLY = 1 << 1,
    /* Only what the node-device XML shows (nodedev-dumpxml): driver_override
     * and reset_method, which only assignment needs, are left as if their
     * files were absent. */
    VH_NODE_DEVICE_SCAN_XML = 1 << 2,
} VhNodeDeviceScanFlags;

void vh_node_device_free(VhNodeDevice *dev);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VhNodeDevice, vh_node_device_free)

/* A list is reference counted: vh_node_device_list_free() drops one
 * reference (a resident process hands out the one it keeps). */
VhNodeDeviceList *vh_node_device_list_ref(VhNodeDeviceList *list);
void vh_node_device_list_free(VhNodeDeviceList *list);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VhNodeDeviceList, vh_node_device_list_free)

/* Every PCI device below @sysfs. */
VhNodeDeviceList *vh_node_device_list_scan(const VhSysfs *sysfs,
                                           VhNodeDeviceScanFlags flags,
                                           GError **error);

/* The same with names from @names (NULL: a database opened for this
 * scan), so that a resident process reads pci.ids once. */
VhNodeDeviceList *vh_node_device_list_scan_names(const VhSysfs *sysfs,
                                                 VhNodeDeviceScanFlags flags,
                                                 VhPciNames *names,
                                                 GError **error);

/*
 * Only the IOMMU groups at stake: each of @addrs and every member of its
 * group (kernel/iommu_groups/N/devices), what an operation on @addrs
 * reads; a device without a group is read alone.  An address that does not
 * exist is simply not in the list (vh_node_device_list_find() says so).
 */
VhNodeDeviceList *vh_node_device_list_scan_groups(const VhSysfs *sysfs,
                                                  const VhPciAddress *addrs,
                                                  guint n_addrs,
                                                  VhNodeDeviceScanFlags flags,
                                                  GError **error);

/* The device at @addr, or NULL. Owned by @list. */
VhNodeDevice *vh_node_device_list_lookup(const VhNodeDeviceList *list,
                                         const VhPciAddress *addr);

/* The same, or VH_SYSFS_ERROR_NOT_FOUND with a message naming @addr. */
VhNodeDevice *vh_node_device_list_find(const VhNodeDeviceList *list,
                                       const VhPciAddress *addr,
                                       GError **error);

/* Members of @dev's group, sorted by address (including @dev), or NULL
 * when it has no group. Owned by @list. */
GPtrArray *vh_node_device_list_group(const VhNodeDeviceList *list,
                                     const VhNodeDevice *dev);

/* Sorted group numbers; free with g_array_unref(). */
GArray *vh_node_device_list_group_numbers(const VhNodeDeviceList *list);

/* TRUE for PCI-to-PCI and CardBus bridges (header type 1/2, or class 0x0604xx
 * / 0x0607xx when config space cannot be read). */
gboolean vh_node_device_is_bridge(const VhNodeDevice *dev);

G_END_DECLS
