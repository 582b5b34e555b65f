/*
 * vh-pci-vpd.h: a PCI device's Vital Product Data, as libvirt reads it
 *
 * A pure parser over the bytes of sysfs "vpd" (PCI 3.0 6.4 and
 * Appendix I; PCIe 4.0 6.28): no I/O, so it is tested and fuzzed directly.
 * It keeps what libvirt 9.0's virPCIVPDParse keeps and drops the whole VPD
 * where libvirt does, so that node-device XML shows the same
 * <capability type='vpd'>.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* A vendor (Vx) or system (Yx) specific keyword. */
typedef struct {
    char index;                 /* x: '0'-'9' or 'A'-'Z' */
    char *value;
} VhPciVpdField;

/* Text values are printable ASCII, trimmed, possibly empty. */
typedef struct {
    char *change_level;         /* EC; NULL: absent */
    char *manufacture_id;       /* MN */
    char *part_number;          /* PN */
    char *serial_number;        /* SN */
    GArray *vendor_fields;      /* VhPciVpdField, first seen first; not NULL */
} VhPciVpdReadOnly;

typedef struct {
    char *asset_tag;            /* YA; NULL: absent */
    GArray *vendor_fields;      /* VhPciVpdField, first seen first; not NULL */
    GArray *system_fields;      /* VhPciVpdField (Yx but YA), likewise */
} VhPciVpdReadWrite;

/*
 * The members are in libvirt's output order.  A section is there (not
 * NULL) from its first CP field or valid text field, even one that is then
 * not kept (CP, EC in VPD-W, YA in VPD-R): libvirt shows such a section as
 * an empty <fields> element, and so do we.
 */
typedef struct {
    char *name;                     /* identifier string; NULL: none */
    VhPciVpdReadOnly *read_only;    /* VPD-R */
    VhPciVpdReadWrite *read_write;  /* VPD-W; NULL as well when absent */
} VhPciVpd;

/*
 * The VPD in @data (@len bytes, any content), or NULL when libvirt would
 * show none: no VPD-R, a bad checksum, no end tag, a resource or field
 * past its bounds, an identifier string that is not printable ASCII.
 * Why is said with g_debug().  Free with vh_pci_vpd_free().
 */
VhPciVpd *vh_pci_vpd_parse(const guint8 *data, gsize len);

void vh_pci_vpd_free(VhPciVpd *vpd);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VhPciVpd, vh_pci_vpd_free)

G_END_DECLS
