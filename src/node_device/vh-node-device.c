/*
 * vh-node-device.c: PCI devices as libvirt's node-device driver sees them
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#define G_LOG_DOMAIN "node_device.node-device"

#include <string.h>

#include "vh-error.h"
#include "vh-node-device.h"
#include "vh-pci-names.h"

/* PCIe SR-IOV allows 16 bits of VFs per PF. */
#define VH_SRIOV_MAX_VFS 65536
/* PCI 3.0 6.4: VPD addresses have 15 bits. */
#define VH_PCI_VPD_MAX (32 * 1024)

void
vh_node_device_free(VhNodeDevice *dev)
{
    if (!dev)
        return;
    g_free(dev->name);
    g_free(dev->devpath);
    g_free(dev->parent);
    g_free(dev->driver);
    g_free(dev->driver_override);
    g_free(dev->vendor_name);
    g_free(dev->product_name);
    if (dev->vfs)
        g_array_unref(dev->vfs);
    g_strfreev(dev->reset_methods);
    vh_pci_vpd_free(dev->vpd);
    g_free(dev);
}

static void
vh_node_device_list_clear(VhNodeDeviceList *list)
{
    g_clear_pointer(&list->groups, g_hash_table_unref);
    g_clear_pointer(&list->by_address, g_hash_table_unref);
    g_clear_pointer(&list->devices, g_ptr_array_unref);
    g_free(list->root);
}

void
vh_node_device_list_free(VhNodeDeviceList *list)
{
    if (list)
        g_rc_box_release_full(list, (GDestroyNotify) vh_node_device_list_clear);
}

VhNodeDeviceList *
vh_node_device_list_ref(VhNodeDeviceList *list)
{
    return g_rc_box_acquire(list);
}

/*
 * Optional attributes: absent or unreadable ones leave the default in
 * place, with a debug message, so one odd file never hides a device.
 */
static gint64
vh_node_device_read_int(const VhSysfs *dir, const char *attr, gint64 def)
{
    g_autoptr(GError) err = NULL;
    gboolean present = FALSE;
    gint64 value = def;

    if (!vh_sysfs_read_int(dir, attr, &value, &present, &err)) {
        g_debug("%s: %s", vh_sysfs_get_root(dir), err->message);
        return def;
    }
    return present ? value : def;
}

static char *
vh_node_device_read_text(const VhSysfs *dir, const char *attr)
{
    g_autoptr(GError) err = NULL;
    char *value = NULL;

    if (!vh_sysfs_read(dir, attr, &value, &err))
        g_debug("%s: %s", vh_sysfs_get_root(dir), err->message);
    return value;
}

static char *
vh_node_device_read_link(const VhSysfs *dir, const char *attr)
{
    g_autoptr(GError) err = NULL;
    char *value = NULL;

    if (!vh_sysfs_read_link_name(dir, attr, &value, &err))
        g_debug("%s: %s", vh_sysfs_get_root(dir), err->message);
    return value;
}

/* The entry of @dir the link @attr of the device at @devpath names ("driver"
 * in "bus/pci/drivers"), or NULL: absent, or a link the kernel would not
 * make (dangling, a loop, out of the tree), which a view leaves out. */
static char *
vh_node_device_read_entry(const VhSysfs *sysfs, const char *devpath,
                          const char *attr, const char *dir)
{
    g_autoptr(GError) err = NULL;
    g_autofree char *link = g_build_filename(devpath, attr, NULL);
    char *value = NULL;

    if (!vh_sysfs_read_link_entry(sysfs, link, dir, &value, &err))
        g_debug("%s", err->message);
    return value;
}

/* @value in lowercase hex, at least @width digits, at @p; returns the end. */
static char *
vh_node_device_put_hex(char *p, guint32 value, guint width)
{
    char digits[8];
    guint n = 0;

    do {
        digits[n++] = "0123456789abcdef"[value & 0xf];
        value >>= 4;
    } while (value);
    while (width > n) {
        *p++ = '0';
        width--;
    }
    while (n)
        *p++ = digits[--n];
    return p;
}

/* "0000:01:02.0", or with @nodedev "pci_0000_01_02_0", into @buf as
 * vh_pci_address_format() and vh_pci_address_nodedev_name() write them,
 * without printf: the scan formats a few per device. */
static const char *
vh_node_device_format_addr(const VhPciAddress *addr, gboolean nodedev,
                           char buf[VH_PCI_ADDRESS_BUFLEN])
{
    char *p = buf;

    if (nodedev) {
        memcpy(p, "pci_", 4);
        p += 4;
    }
    p = vh_node_device_put_hex(p, addr->domain, 4);
    *p++ = nodedev ? '_' : ':';
    p = vh_node_device_put_hex(p, addr->bus, 2);
    *p++ = nodedev ? '_' : ':';
    p = vh_node_device_put_hex(p, addr->slot, 2);
    *p++ = nodedev ? '_' : '.';
    p = vh_node_device_put_hex(p, addr->function, 1);
    *p = '\0';
    return buf;
}

/* A canonical address ("0000:01:02.0"), as sysfs names PCI devices. */
static gboolean
vh_node_device_parse_canonical(const char *name, VhPciAddress *ret_addr)
{
    char buf[VH_PCI_ADDRESS_BUFLEN];
    VhPciAddress addr;

    /* Cheap refusals first: a canonical name has a ':' and a '.'. */
    if (!name || !strchr(name, ':') || !strchr(name, '.') ||
        !vh_pci_address_parse(name, &addr, NULL) ||
        !g_str_equal(vh_node_device_format_addr(&addr, FALSE, buf), name))
        return FALSE;
    *ret_addr = addr;
    return TRUE;
}

/* Hex digits of @text up to @stop (or its end), as one number of at most
 * @max; FALSE for anything else (empty, a sign, spaces, too large). */
static gboolean
vh_node_device_parse_hex(const char *text, const char *stop, guint64 max,
                         guint64 *ret_value)
{
    guint64 value = 0;
    const char *p;

    if (!stop)
        stop = text + strlen(text);
    /* As g_ascii_string_to_unsigned() in base 16: an optional "0x". */
    if (stop - text > 2 && text[0] == '0' && (text[1] == 'x' || text[1] == 'X') &&
        g_ascii_isxdigit(text[2]))
        text += 2;
    if (stop == text)
        return FALSE;
    for (p = text; p < stop; p++) {
        int digit = g_ascii_xdigit_value(*p);

        if (digit < 0 || value > (max >> 4))
            return FALSE;
        value = value << 4 | (guint64) digit;
    }
    if (value > max)
        return FALSE;
    *ret_value = value;
    return TRUE;
}

/* "8086:100E" as the kernel's uevent writes ids (%04X:%04X). */
static gboolean
vh_node_device_parse_id_pair(const char *text, const char *end,
                             guint16 *ret_a, guint16 *ret_b)
{
    const char *colon = memchr(text, ':', (gsize) (end - text));
    guint64 a;
    guint64 b;

    if (!colon || memchr(colon + 1, ':', (gsize) (end - colon - 1)) ||
        !vh_node_device_parse_hex(text, colon, 0xffff, &a) ||
        !vh_node_device_parse_hex(colon + 1, end, 0xffff, &b))
        return FALSE;
    *ret_a = (guint16) a;
    *ret_b = (guint16) b;
    return TRUE;
}

/* @line (up to @end) starts with @key: where its value starts, else NULL. */
static const char *
vh_node_device_uevent_value(const char *line, const char *end, const char *key)
{
    gsize n = strlen(key);

    return (gsize) (end - line) >= n && memcmp(line, key, n) == 0 ? line + n
                                                                   : NULL;
}

/*
 * The ids from the uevent file, which carries in one read what five
 * attributes do (drivers/pci/pci-driver.c, pci_uevent(): PCI_CLASS=%04X,
 * PCI_ID=%04X:%04X, PCI_SUBSYS_ID=%04X:%04X).  FALSE when it is absent or
 * lacks one of them: the caller reads the attributes instead.
 */
static gboolean
vh_node_device_load_uevent(VhNodeDevice *dev, const VhSysfs *dir)
{
    g_autofree char *text = vh_node_device_read_text(dir, "uevent");
    guint found = 0;
    const char *line;

    if (!text)
        return FALSE;
    for (line = text; ; ) {
        const char *end = strchrnul(line, '\n');
        const char *value;
        guint64 klass;

        if ((value = vh_node_device_uevent_value(line, end, "PCI_CLASS=")) &&
            vh_node_device_parse_hex(value, end, 0xffffff, &klass)) {
            dev->klass = (gint64) klass;
            found |= 1;
        } else if ((value = vh_node_device_uevent_value(line, end, "PCI_ID=")) &&
                   vh_node_device_parse_id_pair(value, end, &dev->vendor,
                                                &dev->device)) {
            found |= 2;
        } else if ((value = vh_node_device_uevent_value(line, end,
                                                        "PCI_SUBSYS_ID=")) &&
                   vh_node_device_parse_id_pair(value, end,
                                                &dev->subsystem_vendor,
                                                &dev->subsystem_device)) {
            found |= 4;
        }
        if (!*end)
            break;
        line = end + 1;
    }
    if (found == 7)
        return TRUE;
    g_debug("%s/uevent lacks PCI_CLASS, PCI_ID or PCI_SUBSYS_ID; reading "
            "the attributes", vh_sysfs_get_root(dir));
    return FALSE;
}

static void
vh_node_device_load_names(VhNodeDevice *dev, VhPciNames *names)
{
    dev->vendor_name = vh_pci_names_vendor(names, dev->vendor);
    dev->product_name = vh_pci_names_device(names, dev->vendor, dev->device);
}

static void
vh_node_device_load_ids(VhNodeDevice *dev, const VhSysfs *dir,
                        VhPciNames *names)
{
    if (!vh_node_device_load_uevent(dev, dir)) {
        gint64 klass = vh_node_device_read_int(dir, "class", -1);

        dev->klass = klass >= 0 && klass <= 0xffffff ? klass : -1;
        dev->vendor = (guint16) vh_node_device_read_int(dir, "vendor", 0);
        dev->device = (guint16) vh_node_device_read_int(dir, "device", 0);
        dev->subsystem_vendor =
            (guint16) vh_node_device_read_int(dir, "subsystem_vendor", 0);
        dev->subsystem_device =
            (guint16) vh_node_device_read_int(dir, "subsystem_device", 0);
    }
    if (names)
        vh_node_device_load_names(dev, names);
}

static void
vh_node_device_load_group(VhNodeDevice *dev, const VhSysfs *sysfs)
{
    g_autofree char *group = vh_node_device_read_entry(sysfs, dev->devpath,
                                                       "iommu_group",
                                                       "kernel/iommu_groups");
    guint64 number = 0;

    if (group && g_ascii_string_to_unsigned(group, 10, 0, G_MAXUINT, &number,
                                            NULL)) {
        dev->has_group = TRUE;
        dev->group = (guint) number;
    }
}

static gssize
vh_node_device_read_config(gpointer data, guint8 *buf, gsize len, guint offset,
                           GError **error)
{
    gsize got = 0;

    if (!vh_sysfs_file_read_at(data, buf, len, offset, &got, error))
        return -1;
    return (gssize) got;
}

/* Only the header and the capabilities up to PCI Express: all the model
 * keeps from config space (vh_pci_config_fetch_pcie()). */
static void
vh_node_device_load_config(VhNodeDevice *dev, const VhSysfs *dir)
{
    g_autoptr(GError) err = NULL;
    g_autoptr(VhSysfsFile) config = NULL;
    guint8 cfg[VH_PCI_CONFIG_STD_SIZE];
    gsize len = 0;

    if (!vh_sysfs_file_open(dir, "config", &config, &err) ||
        (config && !vh_pci_config_fetch_pcie(vh_node_device_read_config,
                                             config, cfg, &len, &err))) {
        g_debug("%s: %s", vh_sysfs_get_root(dir), err->message);
        return;
    }
    if (!config)
        return;
    dev->has_header_type = vh_pci_config_header_type(cfg, len,
                                                     &dev->header_type);
    vh_pci_config_pcie_info(cfg, len, &dev->pcie);
}

/*
 * Only root can read vpd (mode 0600) and only devices with a VPD capability
 * have the file: for the others the failed open is the whole cost.  As in
 * libvirt, a VPD that does not parse is no VPD.
 */
static void
vh_node_device_load_vpd(VhNodeDevice *dev, const VhSysfs *dir)
{
    g_autoptr(GError) err = NULL;
    g_autoptr(GBytes) vpd = NULL;
    const guint8 *data;
    gsize len = 0;
    char buf[VH_PCI_ADDRESS_BUFLEN];

    if (!vh_sysfs_read_bytes(dir, "vpd", VH_PCI_VPD_MAX, &vpd, &err)) {
        g_debug("%s: %s", vh_sysfs_get_root(dir), err->message);
        return;
    }
    if (!vpd)
        return;
    data = g_bytes_get_data(vpd, &len);
    if (!(dev->vpd = vh_pci_vpd_parse(data, len)))
        g_debug("%s: no valid VPD in %" G_GSIZE_FORMAT " bytes of vpd",
                vh_pci_address_format(&dev->addr, buf), len);
}

/* "virtfn%u" into @buf without printf: a PF can have thousands. */
static const char *
vh_node_device_virtfn_name(guint index, char buf[sizeof("virtfn4294967295")])
{
    char digits[10];
    char *p = buf + strlen("virtfn");
    guint n = 0;

    memcpy(buf, "virtfn", strlen("virtfn"));
    do {
        digits[n++] = (char) ('0' + index % 10);
        index /= 10;
    } while (index);
    while (n)
        *p++ = digits[--n];
    *p = '\0';
    return buf;
}

static void
vh_node_device_load_sriov(VhNodeDevice *dev, const VhSysfs *dir)
{
    g_autofree char *physfn = vh_node_device_read_link(dir, "physfn");
    char link[sizeof("virtfn4294967295")];
    gint64 total;
    guint i;

    dev->is_vf = vh_node_device_parse_canonical(physfn, &dev->physfn);
    if (dev->is_vf)
        return;     /* a VF is never a PF itself */
    total = vh_node_device_read_int(dir, "sriov_totalvfs", 0);
    dev->sriov_totalvfs = total > 0 && total <= VH_SRIOV_MAX_VFS ? (guint) total : 0;
    if (dev->sriov_totalvfs == 0)
        return;
    /* virtfn0, virtfn1, ... as long as they exist, as the kernel numbers them */
    for (i = 0; i < VH_SRIOV_MAX_VFS; i++) {
        g_autofree char *vf = NULL;
        VhPciAddress addr;

        vf = vh_node_device_read_link(dir, vh_node_device_virtfn_name(i, link));

        if (!vf)
            break;
        if (vh_node_device_parse_canonical(vf, &addr))
            g_array_append_val(dev->vfs, addr);
    }
}

static void
vh_node_device_load_driver(VhNodeDevice *dev, const VhSysfs *sysfs,
                           const VhSysfs *dir, VhNodeDeviceScanFlags flags)
{
    g_autofree char *override = NULL;
    g_autofree char *reset = NULL;

    dev->driver = vh_node_device_read_entry(sysfs, dev->devpath, "driver",
                                            "bus/pci/drivers");
    /* Neither is in the node-device XML: only assignment needs them. */
    if (flags & VH_NODE_DEVICE_SCAN_XML)
        return;
    override = vh_node_device_read_text(dir, "driver_override");
    if (override && *override && !g_str_equal(override, "(null)"))
        dev->driver_override = g_steal_pointer(&override);

    /* Since Linux 5.15: the methods in the order the kernel tries them. */
    reset = vh_node_device_read_text(dir, "reset_method");
    if (reset) {
        g_auto(GStrv) words = g_strsplit_set(g_strstrip(reset), " ", -1);
        g_autoptr(GStrvBuilder) keep = g_strv_builder_new();
        guint i;

        /* The kernel's names are [a-z0-9_]; anything else is not a
         * method and must not reach a terminal or the XML. */
        for (i = 0; words[i]; i++) {
            if (*words[i] && strspn(words[i], "abcdefghijklmnopqrstuvwxyz"
                                    "0123456789_") == strlen(words[i]))
                g_strv_builder_add(keep, words[i]);
        }
        dev->has_reset_method = TRUE;
        dev->reset_methods = g_strv_builder_end(keep);
    }
}

/*
 * Where the device sits: its directory under devices/ and its parent, the
 * nearest PCI device above it, as libvirt walks up to the nearest node
 * device: behind an Intel VMD a "pci10000:e0" directory sits between the
 * VMD endpoint and the devices of its domain.  @devices is bus/pci/devices,
 * kept open: reading the link is one readlinkat() there.
 */
static void
vh_node_device_load_topology(VhNodeDevice *dev, const VhSysfs *devices,
                             const char *entry)
{
    g_autoptr(GError) err = NULL;
    char buf[VH_PCI_ADDRESS_BUFLEN];
    const char *slash;

    if (!vh_sysfs_resolve_link(devices, entry, &dev->devpath, &err) ||
        !dev->devpath) {
        g_debug("bus/pci/devices/%s: %s", entry,
                err ? err->message : "not a link");
        dev->devpath = g_strconcat("bus/pci/devices/", entry, NULL);
    }
    /* Each directory above the device's own, nearest first, as long as a
     * '/' is left in it (devices/ itself is never a device). */
    slash = strrchr(dev->devpath, '/');
    while (!dev->has_parent_addr && slash) {
        const char *start = slash;
        g_autofree char *name = NULL;

        while (start > dev->devpath && start[-1] != '/')
            start--;
        if (start == dev->devpath)
            break;
        name = g_strndup(start, (gsize) (slash - start));
        dev->has_parent_addr = vh_node_device_parse_canonical(name,
                                                              &dev->parent_addr);
        slash = start - 1;
    }
    if (dev->has_parent_addr)
        dev->parent = g_strdup(vh_node_device_format_addr(&dev->parent_addr,
                                                          TRUE, buf));
    else
        dev->parent = g_strdup("computer");
}

static VhNodeDevice *
vh_node_device_load(const VhSysfs *sysfs, const VhSysfs *devices,
                    const char *entry, const VhPciAddress *addr,
                    VhPciNames *names, VhNodeDeviceScanFlags flags,
                    GError **error)
{
    g_autoptr(VhNodeDevice) dev = g_new0(VhNodeDevice, 1);
    g_autoptr(VhSysfs) dir = NULL;
    char buf[VH_PCI_ADDRESS_BUFLEN];
    gint64 numa;

    dev->addr = *addr;
    dev->name = g_strdup(vh_node_device_format_addr(addr, TRUE, buf));
    dev->vfs = g_array_new(FALSE, FALSE, sizeof(VhPciAddress));
    dev->klass = -1;
    dev->numa_node = -1;
    vh_node_device_load_topology(dev, devices, entry);
    if (flags & VH_NODE_DEVICE_SCAN_TOPOLOGY_ONLY)
        return g_steal_pointer(&dev);

    /* The device's directory by its own path: one lookup from the root
     * without links, then every attribute is one name below it. */
    if (!(dir = vh_sysfs_open_subdir(sysfs, dev->devpath, error)))
        return NULL;
    numa = vh_node_device_read_int(dir, "numa_node", -1);
    dev->numa_node = (int) CLAMP(numa, -1, G_MAXINT);

    vh_node_device_load_ids(dev, dir, names);
    vh_node_device_load_driver(dev, sysfs, dir, flags);
    vh_node_device_load_group(dev, sysfs);
    vh_node_device_load_config(dev, dir);
    vh_node_device_load_sriov(dev, dir);
    vh_node_device_load_vpd(dev, dir);
    return g_steal_pointer(&dev);
}

static int
vh_node_device_compare(gconstpointer a, gconstpointer b)
{
    const VhNodeDevice *da = *(VhNodeDevice * const *) a;
    const VhNodeDevice *db = *(VhNodeDevice * const *) b;

    return vh_pci_address_compare(&da->addr, &db->addr);
}

static void
vh_node_device_list_index(VhNodeDeviceList *list)
{
    guint i;

    g_ptr_array_sort(list->devices, vh_node_device_compare);
    for (i = 0; i < list->devices->len; i++) {
        VhNodeDevice *dev = g_ptr_array_index(list->devices, i);
        char buf[VH_PCI_ADDRESS_BUFLEN];
        GPtrArray *members;

        g_hash_table_insert(list->by_address,
                            g_strdup(vh_pci_address_format(&dev->addr, buf)),
                            dev);
        if (!dev->has_group)
            continue;
        members = g_hash_table_lookup(list->groups, GUINT_TO_POINTER(dev->group));
        if (!members) {
            members = g_ptr_array_new();
            g_hash_table_insert(list->groups, GUINT_TO_POINTER(dev->group),
                                members);
        }
        g_ptr_array_add(members, dev);
    }
}

/* Devices per scanning thread at least: below that a thread's start costs
 * more than it saves.  More threads than processors only wait. */
#define VH_NODE_DEVICE_SCAN_PER_THREAD 64
#define VH_NODE_DEVICE_SCAN_MAX_THREADS 8

/* One thread's share of a scan: entries [start, end) of the listing. */
typedef struct {
    const VhSysfs *sysfs;
    const VhSysfs *devices;
    const GPtrArray *entries;
    guint start;
    guint end;
    VhNodeDeviceScanFlags flags;
    GPtrArray *found;           /* VhNodeDevice *, owned */
} VhNodeDeviceScanPart;

/* Reads the devices of @data (a VhNodeDeviceScanPart) without their names:
 * the name database is not shared between threads. */
static gpointer
vh_node_device_scan_part(gpointer data)
{
    VhNodeDeviceScanPart *part = data;
    guint i;

    for (i = part->start; i < part->end; i++) {
        const char *entry = g_ptr_array_index(part->entries, i);
        g_autoptr(GError) err = NULL;
        VhNodeDevice *dev;
        VhPciAddress addr;

        if (!vh_node_device_parse_canonical(entry, &addr)) {
            g_debug("skipping bus/pci/devices/%s: not a PCI address", entry);
            continue;
        }
        if (!(dev = vh_node_device_load(part->sysfs, part->devices, entry,
                                        &addr, NULL, part->flags, &err))) {
            /* Gone since the listing (hot unplug), or not a directory. */
            g_debug("skipping %s: %s", entry, err->message);
            continue;
        }
        g_ptr_array_add(part->found, dev);
    }
    return NULL;
}

/* How many threads read @n devices: the sysfs work is all syscalls, which
 * run side by side on as many processors as the caller may use. */
static guint
vh_node_device_scan_threads(guint n)
{
    guint threads = MIN(g_get_num_processors(), VH_NODE_DEVICE_SCAN_MAX_THREADS);

    return CLAMP(n / VH_NODE_DEVICE_SCAN_PER_THREAD, 1, MAX(threads, 1));
}

/* A list with no device yet, of the tree below @sysfs. */
static VhNodeDeviceList *
vh_node_device_list_new_empty(const VhSysfs *sysfs)
{
    VhNodeDeviceList *list = g_rc_box_new0(VhNodeDeviceList);

    list->root = g_strdup(vh_sysfs_get_root(sysfs));
    list->devices = g_ptr_array_new_with_free_func((GDestroyNotify) vh_node_device_free);
    list->by_address = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    list->groups = g_hash_table_new_full(g_direct_hash, g_direct_equal, NULL,
                                         (GDestroyNotify) g_ptr_array_unref);
    return list;
}

VhNodeDeviceList *
vh_node_device_list_scan(const VhSysfs *sysfs, VhNodeDeviceScanFlags flags,
                         GError **error)
{
    return vh_node_device_list_scan_names(sysfs, flags, NULL, error);
}

VhNodeDeviceList *
vh_node_device_list_scan_names(const VhSysfs *sysfs,
                               VhNodeDeviceScanFlags flags,
                               VhPciNames *names, GError **error)
{
    g_autoptr(VhNodeDeviceList) list = vh_node_device_list_new_empty(sysfs);
    g_autoptr(VhPciNames) own_names = NULL;
    g_autoptr(GPtrArray) entries = NULL;
    g_autoptr(VhSysfs) devices = NULL;
    g_autoptr(GError) err = NULL;
    VhNodeDeviceScanPart parts[VH_NODE_DEVICE_SCAN_MAX_THREADS];
    GThread *threads[VH_NODE_DEVICE_SCAN_MAX_THREADS] = { NULL };
    guint n_parts;
    guint i;
    guint j;


    /* Kept open for the whole scan: one readlinkat() per device there
     * instead of a walk from the root. */
    if (!(devices = vh_sysfs_open_subdir(sysfs, "bus/pci/devices", &err))) {
        if (!g_error_matches(err, VH_SYSFS_ERROR, VH_SYSFS_ERROR_NOT_FOUND)) {
            g_propagate_error(error, g_steal_pointer(&err));
            return NULL;
        }
        return g_steal_pointer(&list);
    }
    if (!vh_sysfs_list(devices, "", &entries, error))
        return NULL;
    if (!entries)               /* gone since it was opened */
        return g_steal_pointer(&list);

    /* The listing in contiguous parts, one thread each (the first is this
     * one); their devices are joined in listing order. */
    n_parts = vh_node_device_scan_threads(entries->len);
    for (i = 0; i < n_parts; i++) {
        parts[i] = (VhNodeDeviceScanPart) {
            .sysfs = sysfs,
            .devices = devices,
            .entries = entries,
            .start = (guint) ((guint64) entries->len * i / n_parts),
            .end = (guint) ((guint64) entries->len * (i + 1) / n_parts),
            .flags = flags,
            .found = g_ptr_array_new(),
        };
    }
    for (i = 1; i < n_parts; i++) {
        g_autoptr(GError) thread_err = NULL;

        threads[i] = g_thread_try_new("vh-scan", vh_node_device_scan_part,
                                      &parts[i], &thread_err);
        if (!threads[i])        /* no thread: this one reads that part too */
            g_debug("scanning in fewer threads: %s", thread_err->message);
    }
    vh_node_device_scan_part(&parts[0]);
    for (i = 1; i < n_parts; i++) {
        if (threads[i])
            g_thread_join(threads[i]);
        else
            vh_node_device_scan_part(&parts[i]);
    }
    for (i = 0; i < n_parts; i++) {
        for (j = 0; j < parts[i].found->len; j++)
            g_ptr_array_add(list->devices, g_ptr_array_index(parts[i].found, j));
        g_ptr_array_unref(parts[i].found);
    }

    /* Names in this thread: a scan asks about the same few ids again and
     * again, and the database answers from its cache. */
    if (flags & VH_NODE_DEVICE_SCAN_NAMES) {
        if (!names)
            names = own_names = vh_pci_names_new();
        for (i = 0; i < list->devices->len; i++)
            vh_node_device_load_names(g_ptr_array_index(list->devices, i), names);
    }
    vh_node_device_list_index(list);
    return g_steal_pointer(&list);
}

/*
 * Load bus/pci/devices/@name into @list unless it is there already.  A
 * device that cannot be read (gone, not a directory) is left out.
 */
static VhNodeDevice *
vh_node_device_list_add_named(VhNodeDeviceList *list, const VhSysfs *sysfs,
                              const VhSysfs *devices, const char *name,
                              VhPciNames *names, VhNodeDeviceScanFlags flags)
{
    g_autoptr(GError) err = NULL;
    VhNodeDevice *dev;
    VhPciAddress addr;

    if (g_hash_table_contains(list->by_address, name))
        return NULL;
    if (!vh_node_device_parse_canonical(name, &addr)) {
        g_debug("skipping %s: not a canonical PCI address", name);
        return NULL;
    }
    if (!(dev = vh_node_device_load(sysfs, devices, name, &addr, names, flags,
                                    &err))) {
        g_debug("skipping %s: %s", name, err->message);
        return NULL;
    }
    g_ptr_array_add(list->devices, dev);
    /* Indexed again, sorted, at the end; here only against repeats. */
    g_hash_table_insert(list->by_address, g_strdup(name), dev);
    return dev;
}

VhNodeDeviceList *
vh_node_device_list_scan_groups(const VhSysfs *sysfs,
                                const VhPciAddress *addrs, guint n_addrs,
                                VhNodeDeviceScanFlags flags, GError **error)
{
    g_autoptr(VhNodeDeviceList) list = vh_node_device_list_new_empty(sysfs);
    g_autoptr(VhPciNames) names = NULL;
    g_autoptr(VhSysfs) devices = NULL;
    g_autoptr(GError) err = NULL;
    guint i;
    guint j;

    if (flags & VH_NODE_DEVICE_SCAN_NAMES)
        names = vh_pci_names_new();

    if (!(devices = vh_sysfs_open_subdir(sysfs, "bus/pci/devices", &err))) {
        if (!g_error_matches(err, VH_SYSFS_ERROR, VH_SYSFS_ERROR_NOT_FOUND)) {
            g_propagate_error(error, g_steal_pointer(&err));
            return NULL;
        }
        return g_steal_pointer(&list);  /* no PCI bus: nothing is found */
    }
    for (i = 0; i < n_addrs; i++) {
        char name[VH_PCI_ADDRESS_BUFLEN];
        g_autofree char *members_dir = NULL;
        g_autoptr(GPtrArray) members = NULL;
        VhNodeDevice *dev;

        vh_pci_address_format(&addrs[i], name);
        if (!(dev = vh_node_device_list_add_named(list, sysfs, devices, name,
                                                  names, flags)) ||
            !dev->has_group)
            continue;
        members_dir = g_strdup_printf("kernel/iommu_groups/%u/devices",
                                      dev->group);
        if (!vh_sysfs_list(sysfs, members_dir, &members, error)) {
            g_prefix_error(error, "cannot list the IOMMU group of %s: ", name);
            return NULL;
        }
        for (j = 0; members && j < members->len; j++)
            vh_node_device_list_add_named(list, sysfs, devices,
                                          g_ptr_array_index(members, j),
                                          names, flags);
    }
    g_hash_table_remove_all(list->by_address);
    vh_node_device_list_index(list);
    return g_steal_pointer(&list);
}

VhNodeDevice *
vh_node_device_list_lookup(const VhNodeDeviceList *list,
                           const VhPciAddress *addr)
{
    char buf[VH_PCI_ADDRESS_BUFLEN];

    return g_hash_table_lookup(list->by_address,
                               vh_pci_address_format(addr, buf));
}

VhNodeDevice *
vh_node_device_list_find(const VhNodeDeviceList *list,
                         const VhPciAddress *addr, GError **error)
{
    VhNodeDevice *dev = vh_node_device_list_lookup(list, addr);
    char buf[VH_PCI_ADDRESS_BUFLEN];

    if (!dev) {
        g_set_error(error, VH_SYSFS_ERROR, VH_SYSFS_ERROR_NOT_FOUND,
                    "PCI device %s does not exist under %s/bus/pci/devices; "
                    "list devices with `virt-hostdev nodedev-list`",
                    vh_pci_address_format(addr, buf), list->root);
    }
    return dev;
}

GPtrArray *
vh_node_device_list_group(const VhNodeDeviceList *list, const VhNodeDevice *dev)
{
    if (!dev->has_group)
        return NULL;
    return g_hash_table_lookup(list->groups, GUINT_TO_POINTER(dev->group));
}

static int
vh_node_device_compare_uint(gconstpointer a, gconstpointer b)
{
    guint ua = *(const guint *) a;
    guint ub = *(const guint *) b;

    return ua < ub ? -1 : ua > ub;
}

GArray *
vh_node_device_list_group_numbers(const VhNodeDeviceList *list)
{
    GArray *numbers = g_array_new(FALSE, FALSE, sizeof(guint));
    GHashTableIter iter;
    gpointer key;

    g_hash_table_iter_init(&iter, list->groups);
    while (g_hash_table_iter_next(&iter, &key, NULL)) {
        guint number = GPOINTER_TO_UINT(key);
        g_array_append_val(numbers, number);
    }
    g_array_sort(numbers, vh_node_device_compare_uint);
    return numbers;
}

gboolean
vh_node_device_is_bridge(const VhNodeDevice *dev)
{
    if (dev->has_header_type)
        return dev->header_type != VH_PCI_HEADER_ENDPOINT;
    return dev->klass >= 0 &&
           ((dev->klass >> 8) == 0x0604 || (dev->klass >> 8) == 0x0607);
}
