/*
 * vh-domain.h: the PCI host devices of a libvirt domain XML
 *
 * Reads what QEMU's vfio-pci arguments and a domain's prepare/release need
 * from libvirt domain XML: <hostdev mode='subsystem' type='pci'>,
 * <interface type='hostdev'>, the PCI controllers their guest addresses
 * name, and the guest's memory.  The XML is read as libvirt reads an
 * inactive definition (virsh define, domxml-to-native): aliases other than
 * user aliases ("ua-...") are ignored.  docs/formatdomain-hostdev.rst lists
 * every element and attribute read, and what is refused.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <glib.h>

#include "vh-pci-address.h"

G_BEGIN_DECLS

/* An on/off or yes/no attribute that may be absent (libvirt's tristates). */
typedef enum {
    VH_TRISTATE_ABSENT = 0,
    VH_TRISTATE_ON,         /* 'on' or 'yes' */
    VH_TRISTATE_OFF,        /* 'off' or 'no' */
} VhTristate;

typedef struct {
    VhPciAddress source;        /* host address, any PCI domain */
    gboolean managed;           /* managed='yes' */
    gboolean interface;         /* came from <interface type='hostdev'> */
    gboolean unassigned;        /* <address type='unassigned'/> */
    /* "hostdevN" or the XML's <alias name> (ua-...), set by the parser with
     * libvirt's numbering: <interface type='hostdev'> first, then <hostdev>;
     * a user alias takes no number, an unassigned hostdev takes one. */
    char *alias;

    /* Guest side.  has_guest_address is FALSE when the XML gave no
     * <address type='pci'>; vh_qemu_argv assigns one then. */
    gboolean has_guest_address;
    VhPciAddress guest;         /* domain is always 0 */
    VhTristate multifunction;   /* <address multifunction> */
    guint boot_order;           /* <boot order>, 0 when absent */
    guint acpi_index;           /* <acpi index>, 0 when absent */
    VhTristate rom_bar;         /* <rom bar> */
    VhTristate rom_enabled;     /* <rom enabled> */
    char *rom_file;             /* <rom file>, NULL when absent */
    VhTristate display;         /* hostdev display='on|off' */
    VhTristate ramfb;           /* hostdev ramfb='on|off' */
    char *failover_pair_id;     /* <teaming type='transient' persistent> */
    guint line;                 /* of the element, for messages */
} VhDomainHostdev;

typedef struct {
    guint index;                /* <controller type='pci' index> */
    char *model;                /* "pci-root", "pcie-root-port", ... */
    char *alias;                /* its QEMU id: "pci.0", "pcie.0", "pci.N", "ua-..." */
    gboolean has_address;       /* its own <address type='pci'> */
    VhPciAddress address;
    VhTristate multifunction;
    guint line;
} VhDomainController;

typedef struct {
    char *name;
    char *uuid;                 /* NULL when absent */
    char *machine;              /* <os><type machine>, NULL when absent */
    gboolean q35;               /* machine is q35: the root bus is pcie.0 */
    guint64 memory_kib;         /* <memory>, converted from its unit */
    guint64 hard_limit_kib;     /* <memtune><hard_limit>, 0 when absent */
    gboolean memory_locked;     /* <memoryBacking><locked/> */
    GPtrArray *hostdevs;        /* VhDomainHostdev *, document order, PCI ones only */
    GPtrArray *controllers;     /* VhDomainController *, PCI ones, document order */
    /* One line per <hostdev> that is not PCI (usb, scsi, mdev, ...): the
     * parser keeps them out of @hostdevs; vh_qemu_argv refuses them,
     * prepare/release and the hook may leave them to libvirt. */
    GPtrArray *other_hostdevs;  /* char * */
    /* Guest PCI slots that other devices' <address type='pci'> take:
     * keys "bus << 8 | slot", values the bit mask of functions used
     * (GUINT_TO_POINTER both): what address assignment avoids. */
    GHashTable *used_slots;
    /* Devices without a guest address that libvirt places on PCI slots
     * before host devices (NICs, PCI sound cards, SCSI/virtio-serial/USB
     * controllers, virtio disks, filesystems, PCI bridges), and whether
     * the guest has a primary video card (libvirt gives it slot 2 on pc). */
    guint auto_before_hostdevs;
    gboolean has_video;
    gboolean has_os_boot;       /* <os><boot dev=...> */
    /* Other devices that make QEMU use VFIO (an mdev <hostdev>, a
     * <disk type='nvme'>): they too need the locked memory. */
    gboolean other_vfio;
} VhDomainDef;

/*
 * Parse libvirt domain XML.  Bad or unsupported XML: VH_QEMU_ERROR_INVALID
 * with one line saying what and where (the line number in the XML).
 * Free the result with vh_domain_def_free().
 */
VhDomainDef *vh_domain_def_parse(const char *xml, gsize len, GError **error);

void vh_domain_def_free(VhDomainDef *def);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VhDomainDef, vh_domain_def_free)

/*
 * The locked memory QEMU needs for this domain's VFIO devices, in bytes,
 * as libvirt 9.0 computes it (qemuDomainGetMemLockLimitBytes): the
 * <memtune><hard_limit> when set; else G_MAXUINT64 ("unlimited") when
 * <memoryBacking><locked/>; else guest RAM (<memory>) + 1 GiB when the
 * domain has a PCI hostdev (assigned or not), an mdev hostdev or an NVMe
 * disk; else 0 (no limit needed).
 */
guint64 vh_domain_def_memlock_bytes(const VhDomainDef *def);

/* The controller with @index, or NULL. */
const VhDomainController *vh_domain_def_find_controller(const VhDomainDef *def,
                                                        guint index);

G_END_DECLS
