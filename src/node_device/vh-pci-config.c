/*
 * vh-pci-config.c: facts read from a PCI device's configuration space
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#define G_LOG_DOMAIN "node_device.pci-config"

#include <string.h>

#include "vh-pci-config.h"

#define PCI_STATUS              0x06    /* PCI 3.0, 6.2.3 */
#define PCI_STATUS_CAP_LIST     0x10
#define PCI_HEADER_TYPE         0x0e    /* PCI 3.0, 6.2.1 */
#define PCI_CAPABILITY_LIST     0x34    /* PCI 3.0, 6.7 (type 0 and 1) */
#define PCI_CB_CAPABILITY_LIST  0x14    /* cardbus bridges */
#define PCI_CAP_ID_PM           0x01
#define PCI_CAP_ID_EXP          0x10
#define PCI_CAP_ID_AF           0x13    /* Advanced Features ECN */

/* PCI PM 1.2, 3.2.4: PMCSR, and its No_Soft_Reset bit. */
#define PCI_PM_CTRL             0x04
#define PCI_PM_CTRL_NO_SOFT_RESET 0x0008

/* Advanced Features ECN: AF Capabilities, Transactions Pending and FLR. */
#define PCI_AF_CAP              0x03
#define PCI_AF_CAP_TP           0x01
#define PCI_AF_CAP_FLR          0x02

/* PCIe 6.0, 7.5.3: offsets within the PCI Express capability. */
#define PCI_EXP_FLAGS           0x02
#define PCI_EXP_FLAGS_TYPE      0x00f0
#define PCI_EXP_TYPE_RC_END     0x9     /* root complex integrated endpoint */
#define PCI_EXP_TYPE_RC_EC      0xa     /* root complex event collector */
#define PCI_EXP_DEVCAP          0x04    /* 7.5.3.3 */
#define PCI_EXP_DEVCAP_FLR      0x10000000
#define PCI_EXP_LNKCAP          0x0c
#define PCI_EXP_LNKSTA          0x12
/* The bytes of the PCI Express capability vh_pci_config_pcie_info() reads:
 * up to the end of Link Status. */
#define PCI_EXP_READ_SIZE       (PCI_EXP_LNKSTA + 2)
#define PCI_STD_HEADER_SIZE     0x40    /* PCI 3.0, 6.1 */

static guint16
vh_pci_config_read16(const guint8 *cfg, guint off)
{
    return (guint16) (cfg[off] | cfg[off + 1] << 8);
}

static guint32
vh_pci_config_read32(const guint8 *cfg, guint off)
{
    return (guint32) cfg[off] | (guint32) cfg[off + 1] << 8 |
           (guint32) cfg[off + 2] << 16 | (guint32) cfg[off + 3] << 24;
}

gboolean
vh_pci_config_header_type(const guint8 *cfg, gsize len,
                          VhPciHeaderType *ret_type)
{
    guint8 type;

    if (len <= PCI_HEADER_TYPE)
        return FALSE;
    type = cfg[PCI_HEADER_TYPE] & 0x7f;     /* bit 7: multi-function */
    if (type > VH_PCI_HEADER_CARDBUS_BRIDGE)
        return FALSE;
    *ret_type = (VhPciHeaderType) type;
    return TRUE;
}

guint
vh_pci_config_find_capability(const guint8 *cfg, gsize len, guint8 cap_id)
{
    VhPciHeaderType type;
    guint8 seen[256 / 4] = { 0 };
    guint pos;

    if (len < 0x40 || !(vh_pci_config_read16(cfg, PCI_STATUS) & PCI_STATUS_CAP_LIST))
        return 0;
    if (!vh_pci_config_header_type(cfg, len, &type))
        return 0;
    pos = cfg[type == VH_PCI_HEADER_CARDBUS_BRIDGE ? PCI_CB_CAPABILITY_LIST
                                                   : PCI_CAPABILITY_LIST];
    /* Capabilities live in 0x40-0xff, dword aligned (low 2 bits reserved). */
    while ((pos &= ~3u) >= 0x40) {
        if (pos + 2 > len || pos + 2 > 256)
            return 0;
        if (seen[pos / 4]++)
            return 0;       /* the list loops */
        if (cfg[pos] == cap_id)
            return pos;
        pos = cfg[pos + 1];
    }
    return 0;
}

void
vh_pci_config_pcie_info(const guint8 *cfg, gsize len, VhPcieInfo *ret_info)
{
    VhPcieInfo info = { .cap.port = -1, .sta.port = -1 };
    guint pos = vh_pci_config_find_capability(cfg, len, PCI_CAP_ID_EXP);

    if (pos == 0 || pos + PCI_EXP_READ_SIZE > len) {
        /* A capability we cannot read to its link status says nothing. */
        *ret_info = (VhPcieInfo) { .cap.port = -1, .sta.port = -1 };
        return;
    }
    info.present = TRUE;
    info.port_type = (vh_pci_config_read16(cfg, pos + PCI_EXP_FLAGS) &
                      PCI_EXP_FLAGS_TYPE) >> 4;
    info.has_link = info.port_type != PCI_EXP_TYPE_RC_END &&
                    info.port_type != PCI_EXP_TYPE_RC_EC;
    if (info.has_link) {
        guint32 lnkcap = vh_pci_config_read32(cfg, pos + PCI_EXP_LNKCAP);
        guint16 lnksta = vh_pci_config_read16(cfg, pos + PCI_EXP_LNKSTA);

        info.cap.port = (int) (lnkcap >> 24);
        info.cap.speed = lnkcap & 0xf;
        info.cap.width = (lnkcap >> 4) & 0x3f;
        info.sta.port = -1;     /* a status link has no port */
        info.sta.speed = lnksta & 0xf;
        info.sta.width = (lnksta >> 4) & 0x3f;
    }
    *ret_info = info;
}

gboolean
vh_pci_config_has_function_reset(const guint8 *cfg, gsize len)
{
    guint exp = vh_pci_config_find_capability(cfg, len, PCI_CAP_ID_EXP);
    guint af = vh_pci_config_find_capability(cfg, len, PCI_CAP_ID_AF);
    guint pm = vh_pci_config_find_capability(cfg, len, PCI_CAP_ID_PM);

    /* The same tests as pcie_has_flr(), pci_af_flr() and pci_pm_reset(). */
    if (exp && exp + PCI_EXP_DEVCAP + 4 <= len &&
        (vh_pci_config_read32(cfg, exp + PCI_EXP_DEVCAP) & PCI_EXP_DEVCAP_FLR))
        return TRUE;
    if (af && af + PCI_AF_CAP + 1 <= len &&
        (cfg[af + PCI_AF_CAP] & (PCI_AF_CAP_TP | PCI_AF_CAP_FLR)) ==
        (PCI_AF_CAP_TP | PCI_AF_CAP_FLR))
        return TRUE;
    return pm && pm + PCI_PM_CTRL + 2 <= len &&
           !(vh_pci_config_read16(cfg, pm + PCI_PM_CTRL) &
             PCI_PM_CTRL_NO_SOFT_RESET);
}

typedef struct {
    VhPciConfigReadFunc read;
    gpointer data;
    guint8 *cfg;
    gboolean have[VH_PCI_CONFIG_STD_SIZE];
    guint end;          /* where the file ends, as far as known */
} VhPciConfigFetch;

/* Make [@off, @off + @len) of config space present in f->cfg, up to the
 * end of the file, in one read of what is missing. */
static gboolean
vh_pci_config_fetch(VhPciConfigFetch *f, guint off, guint len, GError **error)
{
    guint stop = MIN(off + len, f->end);
    gssize n;

    while (off < stop && f->have[off])
        off++;
    if (off >= stop)
        return TRUE;
    n = f->read(f->data, f->cfg + off, stop - off, off, error);
    if (n < 0)
        return FALSE;
    n = MIN(n, (gssize) (stop - off));
    memset(f->have + off, TRUE, (gsize) n * sizeof(f->have[0]));
    if ((guint) n < stop - off)
        f->end = off + (guint) n;
    return TRUE;
}

gboolean
vh_pci_config_fetch_pcie(VhPciConfigReadFunc read, gpointer data,
                         guint8 cfg[VH_PCI_CONFIG_STD_SIZE], gsize *ret_len,
                         GError **error)
{
    VhPciConfigFetch f = {
        .read = read, .data = data, .cfg = cfg,
        .end = VH_PCI_CONFIG_STD_SIZE,
    };
    VhPciHeaderType type;
    guint8 seen[VH_PCI_CONFIG_STD_SIZE / 4] = { 0 };
    guint pos;

    memset(cfg, 0, VH_PCI_CONFIG_STD_SIZE);
    if (!vh_pci_config_fetch(&f, 0, PCI_STD_HEADER_SIZE, error))
        return FALSE;
    /* The walk of vh_pci_config_find_capability(), fetching as it goes. */
    if (f.end >= PCI_STD_HEADER_SIZE &&
        (vh_pci_config_read16(cfg, PCI_STATUS) & PCI_STATUS_CAP_LIST) &&
        vh_pci_config_header_type(cfg, f.end, &type)) {
        pos = cfg[type == VH_PCI_HEADER_CARDBUS_BRIDGE ? PCI_CB_CAPABILITY_LIST
                                                       : PCI_CAPABILITY_LIST];
        while ((pos &= ~3u) >= PCI_STD_HEADER_SIZE) {
            if (!vh_pci_config_fetch(&f, pos, PCI_EXP_READ_SIZE, error))
                return FALSE;
            if (pos + 2 > f.end || seen[pos / 4]++ || cfg[pos] == PCI_CAP_ID_EXP)
                break;
            pos = cfg[pos + 1];
        }
    }
    *ret_len = f.end;
    return TRUE;
}

const char *
vh_pcie_link_speed_string(guint speed)
{
    /* PCIe 6.0, 7.5.3.18: Supported Link Speeds vector bit N-1 <-> N. */
    static const char * const speeds[] = {
        NULL, "2.5", "5", "8", "16", "32", "64",
    };

    return speed < G_N_ELEMENTS(speeds) ? speeds[speed] : NULL;
}
