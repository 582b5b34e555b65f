/*
 * fuzz-nodedev-sysfs.c: libFuzzer target for the node-device producer fed
 * with fuzzed fake sysfs trees
 *
 * Each input is decoded into a small tree built with the tests' own builder
 * (tests/fake/vh-fake-sysfs.h) in a fresh directory under $TMPDIR (set to
 * the tmpfs /dev/shm unless already set), then mangled, then read the way
 * `virt-hostdev nodedev-dumpxml --all`, `nodedev-dumpxml DEVICE` and
 * `iommu-groups --json` read it; the tree is removed after each input.
 *
 * Input, byte by byte (missing bytes read as 0):
 *   1      number of devices - 1 (low 2 bits: 1 to 4 devices); bit 7:
 *          also scan as `nodedev-list` does (topology only)
 *   per device:
 *     1    bus (high 3 bits) and slot (low 5 bits), domain 0
 *     1    function (low 3 bits); bit 3 iommu group, bit 4 driver,
 *          bit 5 behind an earlier device, bit 6 VF of an earlier device,
 *          bit 7 SR-IOV PF
 *     1    group (low 3 bits), driver (high 4 bits: index into a table)
 *     2+2  vendor, device (little endian)
 *     1    class (index into a table; past it, 3 raw bytes follow)
 *     1    reset_method (index into a table) and numa_node (high 4 bits - 1)
 *     2    config space length (little endian, at most 4096; 0: the
 *          builder's 64-byte header), then that many bytes
 *     1    vpd length (0: no vpd file), then that many bytes
 *   then operations until the input ends, each one byte op (low 3 bits: the
 *   kind, the rest: which device), then its operands:
 *     0    write attribute (1 byte name index, 1 byte length, the bytes)
 *     1    remove attribute (1 byte name index)
 *     2    replace a link (1 byte link index, 1 byte target index; past the
 *          table: 1 byte length and the target's bytes)
 *     3    an extra bus/pci/devices entry (1 byte length, its name; 1 byte
 *          target index as in 2)
 *     4    attribute becomes a directory (1 byte name index)
 *     5    an odd kernel/iommu_groups/N/devices link (1 byte group, 1 byte
 *          target index as in 2)
 *     6    attribute becomes larger than the readers' limit (name index)
 *     7    bus/pci/devices/ADDR becomes a file or a directory (1 byte)
 *
 * Vendor and product names (libpci's pci.ids) are not looked up: they come
 * from the ID database, not from sysfs, and loading it costs more than the
 * rest of an execution.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#define G_LOG_DOMAIN "fuzz.nodedev-sysfs"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <libxml/parser.h>
#include <yajl/yajl_tree.h>

#include "vh-fake-sysfs.h"
#include "vh-iommu-group.h"
#include "vh-node-device.h"
#include "vh-node-device-json.h"
#include "vh-node-device-xml.h"
#include "vh-sysfs.h"
#include "vh-fuzz-input.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_MAX_DEVICES 4

/* A length byte and that many bytes, as a string (cut at a NUL). */
static char *
fuzz_string(FuzzInput *in)
{
    gsize len;
    const guint8 *p = fuzz_bytes(in, fuzz_u8(in), &len);

    return g_strndup((const char *) p, len);
}

static const guint32 fuzz_classes[] = {
    0x020000, 0x060400, 0x030000, 0x010802, 0x0c0330, 0x060000, 0x050000,
    0x060700, 0x088000, 0x0c0500,
};

static const char *const fuzz_drivers[] = {
    "vfio-pci", "e1000e", "pci-stub", "pcieport", "nvme", "xhci_hcd",
    "i915", "mlx5_core", "vfio", "ixgbevf", "virtio-pci", "ahci",
    "shpchp", "igb", "x", "snd_hda_intel",
};

static const char *const fuzz_resets[] = {
    NULL, "", "flr", "flr bus", "pm bus", "bus", "device_specific", "flr pm",
};

static const char *const fuzz_attrs[] = {
    "vendor", "device", "class", "subsystem_vendor", "subsystem_device",
    "numa_node", "driver_override", "config", "vpd", "reset_method",
    "sriov_totalvfs", "sriov_numvfs", "current_link_speed",
    "current_link_width", "max_link_speed", "max_link_width", "uevent",
    "reset", "irq", "enable", "local_cpulist", "iommu_group", "driver",
    "physfn", "virtfn0", "virtfn1", "d3cold_allowed", "rom",
};

static const char *const fuzz_links[] = {
    "iommu_group", "driver", "physfn", "virtfn0", "virtfn1", "virtfn2",
    "subsystem", "firmware_node", "config", "vendor",
};

/* Where an odd link points; past the table, the input gives the target. */
static const char *const fuzz_targets[] = {
    "../../../kernel/iommu_groups/3",
    "../../../../kernel/iommu_groups/3",
    "../../../../kernel/iommu_groups/x",
    "../../../../kernel/iommu_groups/99999999999999999999",
    "../../../../kernel/iommu_groups/-1",
    "../../../../bus/pci/drivers/vfio-pci",
    "../../../../bus/pci/drivers/",
    "../../../bus/pci/drivers/e1000e",
    "/sys/kernel/iommu_groups/1",
    "/etc",
    "/",
    "..",
    ".",
    "../../../../../../../../../../..",
    "../../../../../../../../../../../etc/passwd",
    "iommu_group",
    "driver",
    "./physfn",
    "../0000:00:00.0",
    "../0000:00:01.0",
    "../../pci0000:00/0000:00:01.0",
    "../../../devices/pci0000:00/0000:00:00.0",
    "../../../devices/pci0000:00/0000:00:01.0",
    "../../../devices/pci0000:00/0000:00:02.0/0000:01:00.0",
    "",
    "nonexistent",
    "config",
    "../../../bus/pci/devices",
    "../../../../devices/pci0000:00/0000:00:01.0/virtfn0/physfn",
};

typedef struct {
    VhFakePciDevice devs[FUZZ_MAX_DEVICES];
    char addrs[FUZZ_MAX_DEVICES][VH_PCI_ADDRESS_BUFLEN];
    guint8 *configs[FUZZ_MAX_DEVICES];
    guint8 *vpds[FUZZ_MAX_DEVICES];
    guint32 class_raw[FUZZ_MAX_DEVICES];
    gsize n;
} FuzzTable;

static void
fuzz_table_clear(FuzzTable *t)
{
    gsize i;

    for (i = 0; i < FUZZ_MAX_DEVICES; i++) {
        g_free(t->configs[i]);
        g_free(t->vpds[i]);
    }
}

/* Decodes the devices; duplicates of an earlier address are dropped. */
static void
fuzz_table_decode(FuzzTable *t, FuzzInput *in, guint8 header)
{
    guint want = (header & 3) + 1;
    guint i;

    for (i = 0; i < want; i++) {
        VhFakePciDevice *d = &t->devs[t->n];
        guint8 bs = fuzz_u8(in);
        guint8 fl = fuzz_u8(in);
        guint8 gd = fuzz_u8(in);
        guint8 cls, rn;
        guint16 cfg_len;
        gsize vpd_want, got;
        const guint8 *bytes;
        VhPciAddress addr = {
            .domain = 0, .bus = bs >> 5, .slot = bs & 0x1f, .function = fl & 7,
        };
        gsize j;
        gboolean dup = FALSE;

        memset(d, 0, sizeof(*d));
        vh_pci_address_format(&addr, t->addrs[t->n]);
        for (j = 0; j < t->n; j++)
            dup |= g_str_equal(t->addrs[j], t->addrs[t->n]);
        d->address = t->addrs[t->n];
        d->group = (fl & 0x08) ? (gd & 7) : VH_FAKE_NO_GROUP;
        d->driver = (fl & 0x10) ? fuzz_drivers[gd >> 4] : NULL;
        if ((fl & 0x20) && t->n > 0)
            d->parent = t->addrs[gd % t->n];
        if ((fl & 0x40) && t->n > 0)
            d->physfn = t->addrs[(gd >> 3) % t->n];
        d->vendor = fuzz_u16(in);
        d->device = fuzz_u16(in);
        cls = fuzz_u8(in);
        if (cls < G_N_ELEMENTS(fuzz_classes)) {
            d->class = fuzz_classes[cls];
        } else {
            d->class = fuzz_u8(in);
            d->class |= (guint32) fuzz_u8(in) << 8;
            d->class |= (guint32) fuzz_u8(in) << 16;
        }
        if (fl & 0x80)
            d->sriov_totalvfs = 1 + (gd & 7);
        rn = fuzz_u8(in);
        d->reset_method = fuzz_resets[rn & 7];
        d->numa_node = (int) (rn >> 4) - 1;
        cfg_len = MIN(fuzz_u16(in), 4096);
        if (cfg_len) {
            bytes = fuzz_bytes(in, cfg_len, &got);
            t->configs[t->n] = g_memdup2(bytes, got);
            d->config = t->configs[t->n];
            d->config_len = got;
        }
        vpd_want = fuzz_u8(in);
        if (vpd_want) {
            bytes = fuzz_bytes(in, vpd_want, &got);
            t->vpds[t->n] = g_memdup2(bytes, got);
            d->vpd = t->vpds[t->n];
            d->vpd_len = got;
        }
        if (dup) {
            g_clear_pointer(&t->configs[t->n], g_free);
            g_clear_pointer(&t->vpds[t->n], g_free);
            continue;
        }
        t->n++;
    }
}

static char *
fuzz_target(FuzzInput *in)
{
    guint8 i = fuzz_u8(in);

    if (i < G_N_ELEMENTS(fuzz_targets))
        return g_strdup(fuzz_targets[i]);
    return fuzz_string(in);
}

/* Whatever is at @relpath goes (file, link or empty directory). */
static void
fuzz_remove(const VhFakeSysfs *fake, const char *relpath)
{
    g_autofree char *path = vh_fake_sysfs_path(fake, relpath);

    if (unlink(path) < 0 && (errno == EISDIR || errno == EPERM))
        (void) rmdir(path);
}

static void
fuzz_link(VhFakeSysfs *fake, const char *relpath, const char *target)
{
    fuzz_remove(fake, relpath);
    (void) vh_fake_sysfs_add_raw_link(fake, relpath, target, NULL);
}

/* One mangling operation; failures (a path that no longer exists) are
 * part of the game and ignored. */
static void
fuzz_mangle(VhFakeSysfs *fake, const FuzzTable *t, FuzzInput *in)
{
    guint8 op = fuzz_u8(in);
    const char *addr = t->addrs[(op >> 3) % t->n];
    g_autofree char *relpath = NULL;
    g_autofree char *path = NULL;
    g_autofree char *name = NULL;
    g_autofree char *target = NULL;

    switch (op & 7) {
    case 0: {
        const char *attr = fuzz_attrs[fuzz_u8(in) % G_N_ELEMENTS(fuzz_attrs)];
        gsize len;
        const guint8 *bytes = fuzz_bytes(in, fuzz_u8(in), &len);

        relpath = g_strdup_printf("bus/pci/devices/%s/%s", addr, attr);
        fuzz_remove(fake, relpath);
        path = vh_fake_sysfs_path(fake, relpath);
        (void) g_file_set_contents(path, (const char *) bytes, len, NULL);
        break;
    }
    case 1:
        relpath = g_strdup_printf("bus/pci/devices/%s/%s", addr,
                                  fuzz_attrs[fuzz_u8(in) %
                                             G_N_ELEMENTS(fuzz_attrs)]);
        fuzz_remove(fake, relpath);
        break;
    case 2:
        relpath = g_strdup_printf("bus/pci/devices/%s/%s", addr,
                                  fuzz_links[fuzz_u8(in) %
                                             G_N_ELEMENTS(fuzz_links)]);
        target = fuzz_target(in);
        fuzz_link(fake, relpath, target);
        break;
    case 3:
        name = fuzz_string(in);
        g_strdelimit(name, "/", '_');
        if (!*name || g_str_equal(name, ".") || g_str_equal(name, ".."))
            break;
        relpath = g_strdup_printf("bus/pci/devices/%s", name);
        target = fuzz_target(in);
        fuzz_link(fake, relpath, target);
        break;
    case 4:
        relpath = g_strdup_printf("bus/pci/devices/%s/%s", addr,
                                  fuzz_attrs[fuzz_u8(in) %
                                             G_N_ELEMENTS(fuzz_attrs)]);
        fuzz_remove(fake, relpath);
        path = vh_fake_sysfs_path(fake, relpath);
        (void) mkdir(path, 0755);
        break;
    case 5:
        relpath = g_strdup_printf("kernel/iommu_groups/%u/devices/%s",
                                  fuzz_u8(in) & 7, addr);
        target = fuzz_target(in);
        fuzz_link(fake, relpath, target);
        break;
    case 6: {
        g_autofree char *big = NULL;

        relpath = g_strdup_printf("bus/pci/devices/%s/%s", addr,
                                  fuzz_attrs[fuzz_u8(in) %
                                             G_N_ELEMENTS(fuzz_attrs)]);
        fuzz_remove(fake, relpath);
        path = vh_fake_sysfs_path(fake, relpath);
        big = g_malloc(VH_SYSFS_ATTR_MAX + 1);
        memset(big, '1', VH_SYSFS_ATTR_MAX + 1);
        (void) g_file_set_contents(path, big, VH_SYSFS_ATTR_MAX + 1, NULL);
        break;
    }
    default:
        relpath = g_strdup_printf("bus/pci/devices/%s", addr);
        fuzz_remove(fake, relpath);
        path = vh_fake_sysfs_path(fake, relpath);
        if (fuzz_u8(in) & 1)
            (void) mkdir(path, 0755);
        else
            (void) g_file_set_contents(path, "0x8086\n", -1, NULL);
        break;
    }
}

static void G_GNUC_NORETURN
fuzz_fail(const char *what, const char *text)
{
    fprintf(stderr, "fuzz-nodedev-sysfs: %s:\n%s\n", what, text);
    abort();
}

static void
fuzz_check_xml(const char *xml)
{
    xmlDoc *doc = xmlReadMemory(xml, (int) strlen(xml), "nodedev.xml", NULL,
                                XML_PARSE_NONET | XML_PARSE_NOERROR |
                                XML_PARSE_NOWARNING);

    if (!doc)
        fuzz_fail("the node-device XML is not well-formed", xml);
    xmlFreeDoc(doc);
}

static void
fuzz_check_json(const char *json)
{
    char errbuf[256];
    yajl_val v = yajl_tree_parse(json, errbuf, sizeof(errbuf));

    if (!v)
        fuzz_fail("the iommu-groups JSON does not parse", json);
    yajl_tree_free(v);
}

/* What the CLI's node-device views do with the tree. */
static void
fuzz_read_tree(const char *root, gboolean topology)
{
    g_autoptr(VhSysfs) sysfs = NULL;
    g_autoptr(VhNodeDeviceList) list = NULL;
    g_autoptr(VhNodeDeviceList) topo = NULL;
    g_autoptr(GArray) numbers = NULL;
    g_autofree char *xml = NULL;
    g_autofree char *json = NULL;
    g_autoptr(GError) err = NULL;
    guint i;

    if (!(sysfs = vh_sysfs_new(root, &err)))
        abort();
    if (topology &&
        (topo = vh_node_device_list_scan(sysfs,
                                         VH_NODE_DEVICE_SCAN_TOPOLOGY_ONLY,
                                         NULL)))
        g_clear_pointer(&topo, vh_node_device_list_free);
    if (!(list = vh_node_device_list_scan(sysfs, 0, &err)))
        return;
    /* What the producers emit must parse, whatever sysfs held. */
    xml = vh_node_device_list_format_xml(list, NULL);
    if (xml)
        fuzz_check_xml(xml);
    json = vh_iommu_groups_format_json(list, FALSE, 0, NULL, NULL);
    if (json)
        fuzz_check_json(json);
    for (i = 0; i < list->devices->len; i++) {
        const VhNodeDevice *dev = list->devices->pdata[i];
        g_autofree char *one = vh_node_device_format_xml(list, dev, NULL);
        g_autofree char *grp = NULL;

        /* Same writer as --all (checked above); only run it. */
        (void) one;
        (void) vh_node_device_is_bridge(dev);
        (void) vh_node_device_list_group(list, dev);
        if (dev->has_group)
            grp = vh_iommu_groups_format_json(list, TRUE, dev->group, NULL,
                                              NULL);
    }
    numbers = vh_node_device_list_group_numbers(list);
    for (i = 0; i < numbers->len; i++) {
        guint number = g_array_index(numbers, guint, i);
        g_autoptr(GPtrArray) blockers = vh_iommu_group_blockers(list, number);
        g_autofree char *names = vh_iommu_group_blockers_describe(blockers);

        if (strchr(names, '\n'))
            fuzz_fail("group blockers span lines", names);
    }
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
    /* Before GLib reads it: trees on tmpfs. */
    if (!g_getenv("TMPDIR") && g_file_test("/dev/shm", G_FILE_TEST_IS_DIR))
        g_setenv("TMPDIR", "/dev/shm", TRUE);
    return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    FuzzInput in = { .p = data, .left = size };
    g_autoptr(VhFakeSysfs) fake = NULL;
    guint8 header = fuzz_u8(&in);
    FuzzTable t;

    memset(&t, 0, sizeof(t));
    fuzz_table_decode(&t, &in, header);
    fake = vh_fake_sysfs_new(t.devs, t.n, NULL);
    if (fake) {
        while (in.left)
            fuzz_mangle(fake, &t, &in);
        fuzz_read_tree(vh_fake_sysfs_root(fake), header & 0x80);
    }
    fuzz_table_clear(&t);
    return 0;
}
