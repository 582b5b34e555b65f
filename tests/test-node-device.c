/*
 * test-node-device.c: the node-device model, group viability, libvirt XML
 * (golden files, validated against libvirt's nodedev.rng) and JSON
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <string.h>

#include <glib/gstdio.h>
#include <libxml/parser.h>
#include <libxml/relaxng.h>
#include <libxml/tree.h>
#include <yajl/yajl_tree.h>

#include "vh-error.h"
#include "vh-iommu-group.h"
#include "vh-node-device-json.h"
#include "vh-node-device-xml.h"
#include "vh-node-device.h"
#include "vh-pci-config.h"
#include "vh-test-topologies.h"

#define NODEDEV_RNG "/usr/share/libvirt/schemas/nodedev.rng"

typedef struct {
    VhFakeSysfs *fake;
    VhSysfs *sysfs;
    VhNodeDeviceList *list;
} Tree;

static void
tree_load(Tree *t, const VhFakePciDevice *devs, gsize n,
          VhNodeDeviceScanFlags flags)
{
    g_autoptr(GError) err = NULL;

    t->fake = vh_fake_sysfs_new(devs, n, &err);
    g_assert_no_error(err);
    t->sysfs = vh_sysfs_new(vh_fake_sysfs_root(t->fake), &err);
    g_assert_no_error(err);
    t->list = vh_node_device_list_scan(t->sysfs, flags, &err);
    g_assert_no_error(err);
    g_assert_nonnull(t->list);
}

static void
tree_clear(Tree *t)
{
    g_clear_pointer(&t->list, vh_node_device_list_free);
    g_clear_pointer(&t->sysfs, vh_sysfs_free);
    g_clear_pointer(&t->fake, vh_fake_sysfs_free);
}
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(Tree, tree_clear)

static const VhNodeDevice *
tree_dev(const Tree *t, const char *addr)
{
    VhPciAddress a;
    const VhNodeDevice *dev;

    g_assert_true(vh_pci_address_parse(addr, &a, NULL));
    dev = vh_node_device_list_lookup(t->list, &a);
    g_assert_nonnull(dev);
    return dev;
}

static void
test_scan_testbed(void)
{
    g_auto(Tree) t = { 0 };
    const VhNodeDevice *nic;
    const VhNodeDevice *bridge;
    const VhNodeDevice *edu;
    GPtrArray *g4;

    tree_load(&t, vh_test_testbed, G_N_ELEMENTS(vh_test_testbed), 0);
    g_assert_cmpuint(t.list->devices->len, ==, G_N_ELEMENTS(vh_test_testbed));

    nic = tree_dev(&t, "0000:01:02.0");
    g_assert_cmpstr(nic->name, ==, "pci_0000_01_02_0");
    g_assert_cmpstr(nic->devpath, ==,
                    "devices/pci0000:00/0000:00:04.0/0000:01:02.0");
    g_assert_cmpstr(nic->parent, ==, "pci_0000_00_04_0");
    g_assert_true(nic->has_parent_addr);
    g_assert_cmpstr(nic->driver, ==, "e1000");
    g_assert_null(nic->driver_override);
    g_assert_cmpint(nic->klass, ==, 0x020000);
    g_assert_cmphex(nic->vendor, ==, 0x8086);
    g_assert_cmphex(nic->device, ==, 0x100e);
    g_assert_cmphex(nic->subsystem_vendor, ==, 0x1af4);
    g_assert_true(nic->has_group);
    g_assert_cmpuint(nic->group, ==, 4);
    g_assert_cmpint(nic->numa_node, ==, -1);
    g_assert_false(nic->has_reset_method);
    g_assert_false(vh_node_device_is_bridge(nic));
    g_assert_null(nic->vendor_name);        /* no names without the flag */

    bridge = tree_dev(&t, "0000:00:04.0");
    g_assert_cmpstr(bridge->parent, ==, "computer");
    g_assert_true(bridge->has_header_type);
    g_assert_cmpint(bridge->header_type, ==, VH_PCI_HEADER_PCI_BRIDGE);
    g_assert_true(vh_node_device_is_bridge(bridge));

    edu = tree_dev(&t, "0000:00:03.0");
    g_assert_null(edu->driver);
    g_assert_false(edu->pcie.present);

    g4 = vh_node_device_list_group(t.list, nic);
    g_assert_cmpuint(g4->len, ==, 3);
    g_assert_true(g_ptr_array_index(g4, 0) == bridge);
    g_assert_true(g_ptr_array_index(g4, 2) == nic);
}

static void
test_scan_names(void)
{
    g_auto(Tree) t = { 0 };
    const VhNodeDevice *nic;

    tree_load(&t, vh_test_testbed, G_N_ELEMENTS(vh_test_testbed),
              VH_NODE_DEVICE_SCAN_NAMES);
    nic = tree_dev(&t, "0000:01:01.0");
    /* pci.ids / hwdb: Intel's 82540EM, which QEMU's e1000 models. */
    g_assert_cmpstr(nic->vendor_name, ==, "Intel Corporation");
    g_assert_nonnull(nic->product_name);
    g_assert_nonnull(strstr(nic->product_name, "82540EM"));
}

static void
test_scan_sriov(void)
{
    g_auto(Tree) t = { 0 };
    const VhNodeDevice *pf;
    const VhNodeDevice *vf;
    char buf[VH_PCI_ADDRESS_BUFLEN];

    tree_load(&t, vh_test_sriov, G_N_ELEMENTS(vh_test_sriov), 0);
    pf = tree_dev(&t, "0001:00:00.0");
    g_assert_cmpuint(pf->sriov_totalvfs, ==, 64);
    g_assert_cmpuint(pf->vfs->len, ==, 2);
    g_assert_cmpstr(vh_pci_address_format(&g_array_index(pf->vfs, VhPciAddress, 1), buf),
                    ==, "0001:00:02.1");
    g_assert_false(pf->is_vf);
    g_assert_cmpint(pf->numa_node, ==, 1);
    g_assert_true(pf->has_reset_method);
    g_assert_cmpstrv(pf->reset_methods, ((const char *[]) { "flr", "bus", NULL }));

    vf = tree_dev(&t, "0001:00:02.1");
    g_assert_true(vf->is_vf);
    g_assert_cmpstr(vh_pci_address_format(&vf->physfn, buf), ==, "0001:00:00.0");
    g_assert_cmpuint(vf->sriov_totalvfs, ==, 0);
    g_assert_cmpstr(vf->name, ==, "pci_0001_00_02_1");
    g_assert_cmpstr(vf->devpath, ==, "devices/pci0001:00/0001:00:02.1");
}

/* Enough devices for the scan to split the listing between threads (when
 * the machine has two processors or more): every device is read once, the
 * list comes out sorted, groups and names are whole. */
static void
test_scan_many(void)
{
    g_auto(Tree) t = { 0 };
    g_autoptr(GPtrArray) addrs = g_ptr_array_new_with_free_func(g_free);
    g_autofree VhFakePciDevice *devs = g_new0(VhFakePciDevice, 256);
    guint i;

    for (i = 0; i < 256; i++) {
        char *addr = g_strdup_printf("0000:00:%02x.%x", i / 8, i % 8);

        g_ptr_array_add(addrs, addr);
        devs[i] = (VhFakePciDevice) VH_FAKE_PCI(addr, 0x8086, 0x10d3, 0x020000,
                                                .group = (int) (i / 2),
                                                .numa_node = (int) (i % 2),
                                                .driver = "e1000e");
    }
    tree_load(&t, devs, 256, VH_NODE_DEVICE_SCAN_NAMES);
    g_assert_cmpuint(t.list->devices->len, ==, 256);
    for (i = 0; i < 256; i++) {
        const VhNodeDevice *dev = g_ptr_array_index(t.list->devices, i);
        char buf[VH_PCI_ADDRESS_BUFLEN];
        GPtrArray *members;

        g_assert_cmpstr(vh_pci_address_format(&dev->addr, buf), ==,
                        g_ptr_array_index(addrs, i));
        g_assert_true(dev == tree_dev(&t, g_ptr_array_index(addrs, i)));
        g_assert_cmpuint(dev->group, ==, i / 2);
        g_assert_cmpint(dev->numa_node, ==, (int) (i % 2));
        g_assert_cmpstr(dev->driver, ==, "e1000e");
        members = vh_node_device_list_group(t.list, dev);
        g_assert_nonnull(members);
        g_assert_cmpuint(members->len, ==, 2);
        g_assert_true(g_ptr_array_index(members, i % 2) == dev);
        /* The same name from the database for every device, or none. */
        g_assert_cmpstr(dev->vendor_name, ==,
                        ((const VhNodeDevice *) g_ptr_array_index(t.list->devices, 0))->vendor_name);
    }
}

/* An operation reads only the groups of its devices. */
static void
test_scan_groups(void)
{
    g_auto(Tree) t = { 0 };
    g_autoptr(VhNodeDeviceList) list = NULL;
    g_autoptr(GError) err = NULL;
    VhPciAddress addrs[3];
    char buf[VH_PCI_ADDRESS_BUFLEN];
    guint i;

    tree_load(&t, vh_test_testbed, G_N_ELEMENTS(vh_test_testbed), 0);
    g_assert_true(vh_pci_address_parse("0000:01:01.0", &addrs[0], NULL));
    g_assert_true(vh_pci_address_parse("0000:00:03.0", &addrs[1], NULL));
    g_assert_true(vh_pci_address_parse("0000:07:00.0", &addrs[2], NULL));
    list = vh_node_device_list_scan_groups(t.sysfs, addrs, G_N_ELEMENTS(addrs),
                                           0, &err);
    g_assert_no_error(err);
    g_assert_nonnull(list);
    /* Group 4 (bridge 00:04.0, 01:01.0, 01:02.0) and 00:03.0's group 3;
     * 07:00.0 does not exist. */
    {
        const char *expect[] = { "0000:00:03.0", "0000:00:04.0",
                                 "0000:01:01.0", "0000:01:02.0" };

        g_assert_cmpuint(list->devices->len, ==, G_N_ELEMENTS(expect));
        for (i = 0; i < G_N_ELEMENTS(expect); i++) {
            const VhNodeDevice *dev = g_ptr_array_index(list->devices, i);
            const VhNodeDevice *full = vh_node_device_list_lookup(t.list, &dev->addr);

            g_assert_cmpstr(vh_pci_address_format(&dev->addr, buf), ==, expect[i]);
            g_assert_nonnull(full);
            g_assert_cmpstr(dev->driver, ==, full->driver);
            g_assert_cmpuint(dev->group, ==, full->group);
            g_assert_cmpuint(vh_node_device_list_group(list, dev)->len, ==,
                             vh_node_device_list_group(t.list, full)->len);
        }
    }
    g_assert_null(vh_node_device_list_find(list, &addrs[2], &err));
    g_assert_error(err, VH_SYSFS_ERROR, VH_SYSFS_ERROR_NOT_FOUND);
}

/* Odd and missing files: the device stays listed, the field is left out. */
static void
test_scan_odd_files(void)
{
    g_autoptr(GError) err = NULL;
    g_auto(Tree) t = { 0 };
    const char *edits[][2] = {
        /* Without uevent the ids come from the attributes below. */
        { "bus/pci/devices/0000:01:01.0/uevent", NULL },
        { "bus/pci/devices/0000:01:01.0/class", "not a number\n" },
        { "bus/pci/devices/0000:01:01.0/numa_node", "banana" },
        { "bus/pci/devices/0000:01:01.0/iommu_group", NULL },    /* removed */
        { "bus/pci/devices/0000:01:01.0/config", "" },
        { "bus/pci/devices/0000:01:01.0/vendor", NULL },
        { "bus/pci/devices/0000:00:03.0/sriov_totalvfs", "99999999999" },
    };
    g_autoptr(VhNodeDeviceList) list = NULL;
    VhNodeDevice *dev;
    VhPciAddress addr;
    g_autofree char *junk = NULL;
    gsize i;

    t.fake = vh_fake_sysfs_new(vh_test_testbed, G_N_ELEMENTS(vh_test_testbed), &err);
    g_assert_no_error(err);
    for (i = 0; i < G_N_ELEMENTS(edits); i++) {
        g_autofree char *path = vh_fake_sysfs_path(t.fake, edits[i][0]);
        if (edits[i][1])
            g_assert_true(g_file_set_contents(path, edits[i][1], -1, NULL));
        else
            g_assert_cmpint(g_unlink(path), ==, 0);
    }
    /* A stray entry that is no PCI address is passed over. */
    junk = vh_fake_sysfs_path(t.fake, "bus/pci/devices/not-a-device");
    g_assert_true(g_file_set_contents(junk, "", 0, NULL));

    t.sysfs = vh_sysfs_new(vh_fake_sysfs_root(t.fake), &err);
    list = vh_node_device_list_scan(t.sysfs, 0, &err);
    g_assert_no_error(err);
    g_assert_cmpuint(list->devices->len, ==, G_N_ELEMENTS(vh_test_testbed));

    g_assert_true(vh_pci_address_parse("0000:01:01.0", &addr, NULL));
    dev = vh_node_device_list_lookup(list, &addr);
    g_assert_nonnull(dev);
    g_assert_cmpint(dev->klass, ==, -1);
    g_assert_cmpint(dev->numa_node, ==, -1);
    g_assert_false(dev->has_group);
    g_assert_false(dev->has_header_type);
    g_assert_cmphex(dev->vendor, ==, 0);
    g_assert_cmpstr(dev->driver, ==, "e1000");

    g_assert_true(vh_pci_address_parse("0000:00:03.0", &addr, NULL));
    dev = vh_node_device_list_lookup(list, &addr);
    g_assert_cmpuint(dev->sriov_totalvfs, ==, 0);
}

static void
test_viability(void)
{
    VhFakePciDevice devs[G_N_ELEMENTS(vh_test_testbed)];
    g_auto(Tree) before = { 0 };
    g_auto(Tree) after = { 0 };
    g_autoptr(GPtrArray) b4 = NULL;
    g_autoptr(GPtrArray) a4 = NULL;
    g_autoptr(GPtrArray) a3 = NULL;
    g_autoptr(GPtrArray) a6 = NULL;
    g_autofree char *names = NULL;
    g_autofree char *none = NULL;
    char buf[VH_PCI_ADDRESS_BUFLEN];
    gsize i;

    tree_load(&before, vh_test_testbed, G_N_ELEMENTS(vh_test_testbed), 0);
    b4 = vh_iommu_group_blockers(before.list, 4);
    g_assert_cmpuint(b4->len, ==, 2);
    names = vh_iommu_group_blockers_describe(b4);
    g_assert_cmpstr(names, ==, "0000:01:01.0 (e1000), 0000:01:02.0 (e1000)");
    /* Found by fuzz-nodedev-sysfs: a driver link named with a newline
     * broke the one-line message the description goes into. */
    {
        VhNodeDevice *odd = g_ptr_array_index(b4, 1);
        g_autofree char *escaped = NULL;

        g_free(odd->driver);
        odd->driver = g_strdup("e1\n000");
        escaped = vh_iommu_group_blockers_describe(b4);
        g_assert_cmpstr(escaped, ==,
                        "0000:01:01.0 (e1000), 0000:01:02.0 (e1\\n000)");
    }

    /* 01:01.0 alone on vfio-pci, the edu on pci-stub: what libvirt leaves. */
    memcpy(devs, vh_test_testbed, sizeof(devs));
    for (i = 0; i < G_N_ELEMENTS(devs); i++) {
        if (g_str_equal(devs[i].address, "0000:01:01.0"))
            devs[i].driver = "vfio-pci";
        if (g_str_equal(devs[i].address, "0000:00:03.0"))
            devs[i].driver = "pci-stub";
    }
    tree_load(&after, devs, G_N_ELEMENTS(devs), 0);
    a4 = vh_iommu_group_blockers(after.list, 4);
    g_assert_cmpuint(a4->len, ==, 1);
    g_assert_cmpstr(vh_pci_address_format(&((VhNodeDevice *) g_ptr_array_index(a4, 0))->addr, buf),
                    ==, "0000:01:02.0");
    a3 = vh_iommu_group_blockers(after.list, 3);
    g_assert_cmpuint(a3->len, ==, 0);
    none = vh_iommu_group_blockers_describe(a3);
    g_assert_cmpstr(none, ==, "");
    /* The ICH9 functions are all endpoints on host drivers. */
    a6 = vh_iommu_group_blockers(after.list, 6);
    g_assert_cmpuint(a6->len, ==, 3);

    g_assert_true(vh_iommu_group_driver_is_safe(NULL));
    g_assert_true(vh_iommu_group_driver_is_safe("vfio-pci"));
    g_assert_true(vh_iommu_group_driver_is_safe("mlx5_vfio_pci"));
    g_assert_true(vh_iommu_group_driver_is_safe("pci-stub"));
    g_assert_false(vh_iommu_group_driver_is_safe("e1000"));
    g_assert_false(vh_iommu_group_driver_is_safe("pcieport"));
}

static void
test_config_space(void)
{
    guint8 loop[256];
    guint8 cardbus[256] = { 0 };
    VhPcieInfo info;
    VhPciHeaderType type;

    vh_pci_config_pcie_info(vh_test_nvme_config, 256, &info);
    g_assert_true(info.present);
    g_assert_true(info.has_link);
    g_assert_cmpint(info.cap.port, ==, 1);
    g_assert_cmpuint(info.cap.speed, ==, 3);
    g_assert_cmpuint(info.cap.width, ==, 4);
    g_assert_cmpint(info.sta.port, ==, -1);
    g_assert_cmpuint(info.sta.speed, ==, 2);
    g_assert_cmpuint(info.sta.width, ==, 4);
    g_assert_cmpstr(vh_pcie_link_speed_string(info.cap.speed), ==, "8");
    g_assert_null(vh_pcie_link_speed_string(0));
    g_assert_null(vh_pcie_link_speed_string(15));

    vh_pci_config_pcie_info(vh_test_rciep_config, 256, &info);
    g_assert_true(info.present);
    g_assert_false(info.has_link);

    /* Only the first 64 bytes readable (unprivileged): no capability. */
    vh_pci_config_pcie_info(vh_test_nvme_config, 64, &info);
    g_assert_false(info.present);
    g_assert_cmpuint(vh_pci_config_find_capability(vh_test_nvme_config, 0x41, 0x10),
                     ==, 0);

    /* A capability list that loops ends without an answer. */
    memcpy(loop, vh_test_nvme_config, sizeof(loop));
    loop[0x40] = 0x05;          /* MSI, next -> 0x50 */
    loop[0x41] = 0x50;
    loop[0x50] = 0x01;          /* PM, next -> 0x40 */
    loop[0x51] = 0x40;
    g_assert_cmpuint(vh_pci_config_find_capability(loop, 256, 0x10), ==, 0);
    g_assert_cmpuint(vh_pci_config_find_capability(loop, 256, 0x01), ==, 0x50);

    /* Header types; a pointer below 0x40 ends the list. */
    g_assert_false(vh_pci_config_header_type(cardbus, 14, &type));
    cardbus[0x0e] = 0x82;       /* multi-function CardBus bridge */
    g_assert_true(vh_pci_config_header_type(cardbus, 64, &type));
    g_assert_cmpint(type, ==, VH_PCI_HEADER_CARDBUS_BRIDGE);
    cardbus[0x0e] = 0x03;
    type = VH_PCI_HEADER_ENDPOINT;
    g_assert_false(vh_pci_config_header_type(cardbus, 64, &type));
    g_assert_cmpint(type, ==, VH_PCI_HEADER_ENDPOINT);
}

/* ---- XML ------------------------------------------------------------- */

static char *
format_all(const Tree *t)
{
    g_autoptr(GError) err = NULL;
    g_autofree char *xml = vh_node_device_list_format_xml(t->list, &err);
    g_autofree char *root = NULL;
    g_auto(GStrv) parts = NULL;

    g_assert_no_error(err);
    /* Golden files show the tree as if it were /sys. */
    root = g_strdup_printf("<path>%s/", vh_fake_sysfs_root(t->fake));
    parts = g_strsplit(xml, root, -1);
    return g_strjoinv("<path>/sys/", parts);
}

static void
validate_devices(const char *xml)
{
    xmlRelaxNGParserCtxtPtr pctxt = NULL;
    xmlRelaxNGPtr schema = NULL;
    xmlRelaxNGValidCtxtPtr vctxt = NULL;
    xmlDocPtr doc;
    xmlNodePtr node;
    guint ndevices = 0;

    if (!g_file_test(NODEDEV_RNG, G_FILE_TEST_EXISTS)) {
        if (g_getenv("CI"))
            g_error("%s missing: tools/install-deps --testbed installs libvirt0",
                    NODEDEV_RNG);
        g_test_skip("libvirt's nodedev.rng is not installed (package libvirt0)");
        return;
    }
    pctxt = xmlRelaxNGNewParserCtxt(NODEDEV_RNG);
    schema = xmlRelaxNGParse(pctxt);
    g_assert_nonnull(schema);
    vctxt = xmlRelaxNGNewValidCtxt(schema);

    doc = xmlReadMemory(xml, (int) strlen(xml), "devices.xml", NULL, 0);
    g_assert_nonnull(doc);
    /* The schema describes one <device>: validate each on its own. */
    for (node = xmlDocGetRootElement(doc)->children; node; node = node->next) {
        xmlDocPtr one;

        if (node->type != XML_ELEMENT_NODE)
            continue;
        one = xmlNewDoc((const xmlChar *) "1.0");
        xmlDocSetRootElement(one, xmlDocCopyNode(node, one, 1));
        g_assert_cmpint(xmlRelaxNGValidateDoc(vctxt, one), ==, 0);
        xmlFreeDoc(one);
        ndevices++;
    }
    g_assert_cmpuint(ndevices, >, 0);
    xmlFreeDoc(doc);
    xmlRelaxNGFreeValidCtxt(vctxt);
    xmlRelaxNGFree(schema);
    xmlRelaxNGFreeParserCtxt(pctxt);
}

typedef struct {
    const char *name;
    const VhFakePciDevice *devs;
    gsize ndevs;
} GoldenCase;

static void
test_xml_golden(gconstpointer data)
{
    const GoldenCase *c = data;
    g_autoptr(GError) err = NULL;
    g_auto(Tree) t = { 0 };
    g_autofree char *xml = NULL;
    g_autofree char *path = NULL;
    g_autofree char *expected = NULL;

    tree_load(&t, c->devs, c->ndevs, VH_NODE_DEVICE_SCAN_NAMES);
    xml = format_all(&t);
    path = g_test_build_filename(G_TEST_DIST, "nodedevxml", c->name, NULL);
    if (g_getenv("VIRT_HOSTDEV_REGENERATE_OUTPUT")) {
        g_assert_true(g_file_set_contents(path, xml, -1, &err));
        g_assert_no_error(err);
    }
    g_assert_true(g_file_get_contents(path, &expected, NULL, &err));
    g_assert_no_error(err);
    g_assert_cmpstr(xml, ==, expected);
    validate_devices(xml);
}

static void
test_xml_single(void)
{
    g_autoptr(GError) err = NULL;
    g_auto(Tree) t = { 0 };
    g_autofree char *xml = NULL;

    tree_load(&t, vh_test_testbed, G_N_ELEMENTS(vh_test_testbed), 0);
    xml = vh_node_device_format_xml(t.list, tree_dev(&t, "0000:00:03.0"), &err);
    g_assert_no_error(err);
    /* No names: empty id elements; no driver: no <driver>. */
    g_assert_true(g_str_has_prefix(xml, "<device>\n  <name>pci_0000_00_03_0</name>\n"));
    g_assert_nonnull(strstr(xml, "    <product id='0x11e8'/>\n"
                                 "    <vendor id='0x1234'/>\n"
                                 "    <iommuGroup number='3'>\n"
                                 "      <address domain='0x0000' bus='0x00' "
                                 "slot='0x03' function='0x0'/>\n"
                                 "    </iommuGroup>\n"));
    g_assert_null(strstr(xml, "<driver>"));
    g_assert_null(strstr(xml, "<numa"));
}

/* The ids come from uevent when it is whole, else from the attributes. */
static void
test_scan_uevent(void)
{
    g_autoptr(GError) err = NULL;
    g_autoptr(VhFakeSysfs) fake = NULL;
    g_autoptr(VhSysfs) sysfs = NULL;
    g_autoptr(VhNodeDeviceList) list = NULL;
    g_autofree char *bad = NULL;
    g_autofree char *attr = NULL;
    const VhNodeDevice *dev;
    VhPciAddress addr;

    fake = vh_fake_sysfs_new(vh_test_testbed, G_N_ELEMENTS(vh_test_testbed), &err);
    g_assert_no_error(err);
    /* 01:01.0: uevent wins over a contradicting attribute. */
    attr = vh_fake_sysfs_path(fake, "bus/pci/devices/0000:01:01.0/vendor");
    g_assert_true(g_file_set_contents(attr, "0x1234\n", -1, NULL));
    /* 01:02.0: a uevent with a bad PCI_ID is not used at all. */
    bad = vh_fake_sysfs_path(fake, "bus/pci/devices/0000:01:02.0/uevent");
    g_assert_true(g_file_set_contents(bad, "PCI_CLASS=20000\nPCI_ID=8086\n"
                                      "PCI_SUBSYS_ID=1AF4:1100\n", -1, NULL));
    sysfs = vh_sysfs_new(vh_fake_sysfs_root(fake), &err);
    list = vh_node_device_list_scan(sysfs, 0, &err);
    g_assert_no_error(err);

    g_assert_true(vh_pci_address_parse("0000:01:01.0", &addr, NULL));
    dev = vh_node_device_list_lookup(list, &addr);
    g_assert_cmphex(dev->vendor, ==, 0x8086);
    g_assert_cmphex(dev->device, ==, 0x100e);
    g_assert_cmpint(dev->klass, ==, 0x020000);
    g_assert_cmphex(dev->subsystem_vendor, ==, 0x1af4);
    g_assert_cmphex(dev->subsystem_device, ==, 0x1100);

    g_assert_true(vh_pci_address_parse("0000:01:02.0", &addr, NULL));
    dev = vh_node_device_list_lookup(list, &addr);
    g_assert_cmphex(dev->vendor, ==, 0x8086);       /* from the attribute */
    g_assert_cmphex(dev->device, ==, 0x100e);
}

/* Behind an Intel VMD: the parent is the nearest PCI device above. */
static void
test_scan_vmd(void)
{
    const VhFakePciDevice devs[] = {
        VH_FAKE_PCI("0000:00:0e.0", 0x8086, 0x467f, 0x010400, .group = 7,
                    .driver = "vmd"),
        VH_FAKE_PCI("10000:e0:1d.0", 0x8086, 0x7ab0, 0x060400, .group = 7,
                    .parent = "0000:00:0e.0", .parent_subdir = "pci10000:e0",
                    .driver = "pcieport"),
        VH_FAKE_PCI("10000:e1:00.0", 0x144d, 0xa80a, 0x010802, .group = 7,
                    .parent = "10000:e0:1d.0", .driver = "nvme"),
    };
    g_auto(Tree) t = { 0 };

    tree_load(&t, devs, G_N_ELEMENTS(devs), 0);
    g_assert_cmpstr(tree_dev(&t, "10000:e0:1d.0")->parent, ==, "pci_0000_00_0e_0");
    g_assert_cmpstr(tree_dev(&t, "10000:e0:1d.0")->devpath, ==,
                    "devices/pci0000:00/0000:00:0e.0/pci10000:e0/10000:e0:1d.0");
    g_assert_cmpstr(tree_dev(&t, "10000:e1:00.0")->parent, ==, "pci_10000_e0_1d_0");
    g_assert_cmpstr(tree_dev(&t, "0000:00:0e.0")->parent, ==, "computer");
}

/* Text is escaped as libvirt's virBufferEscapeString() does. */
static void
test_xml_escaping(void)
{
    g_autoptr(GError) err = NULL;
    g_auto(Tree) t = { 0 };
    g_autofree char *xml = NULL;
    VhNodeDevice *dev;

    tree_load(&t, vh_test_testbed, G_N_ELEMENTS(vh_test_testbed), 0);
    dev = (VhNodeDevice *) tree_dev(&t, "0000:00:1f.3");
    dev->product_name = g_strdup("AC'97 \"Audio\" <rev A> & B");
    dev->vendor_name = g_strdup("O'Vendor");
    xml = vh_node_device_format_xml(t.list, dev, &err);
    g_assert_no_error(err);
    g_assert_nonnull(strstr(xml, "<product id='0x2930'>AC&apos;97 &quot;Audio&quot; "
                                 "&lt;rev A&gt; &amp; B</product>\n"));
    g_assert_nonnull(strstr(xml, "<vendor id='0x8086'>O&apos;Vendor</vendor>\n"));
}

/*
 * Found by fuzz-nodedev-sysfs: a driver link whose name is not UTF-8 made
 * a document no XML parser reads.  Bytes that are not UTF-8 become U+FFFD,
 * characters XML forbids are dropped, "]]>" is not left in text.
 */
static void
test_xml_well_formed(void)
{
    g_autoptr(GError) err = NULL;
    g_auto(Tree) t = { 0 };
    g_autofree char *xml = NULL;
    VhNodeDevice *dev;
    xmlDocPtr doc;

    tree_load(&t, vh_test_testbed, G_N_ELEMENTS(vh_test_testbed), 0);
    dev = (VhNodeDevice *) tree_dev(&t, "0000:00:1f.3");
    g_free(dev->driver);
    dev->driver = g_strdup("\xfc\x7f" "a\x01" "b\tc\xc3\xa9");
    g_free(dev->product_name);
    dev->product_name = g_strdup("x]]>y\xef\xbf\xbe");
    xml = vh_node_device_format_xml(t.list, dev, &err);
    g_assert_no_error(err);
    g_assert_nonnull(strstr(xml, "<name>\xef\xbf\xbd\x7f" "ab\tc\xc3\xa9</name>"));
    g_assert_nonnull(strstr(xml, ">x]]&gt;y</product>"));
    doc = xmlReadMemory(xml, (int) strlen(xml), "device.xml", NULL,
                        XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
    g_assert_nonnull(doc);
    xmlFreeDoc(doc);
}

/* ---- JSON ------------------------------------------------------------ */

static void
test_json_groups(void)
{
    g_autoptr(GError) err = NULL;
    g_auto(Tree) t = { 0 };
    g_autofree char *json = NULL;
    char errbuf[256];
    yajl_val root;
    yajl_val g4 = NULL;
    size_t i;
    const char *number_path[] = { "number", NULL };
    const char *viable_path[] = { "viable", NULL };
    const char *members_path[] = { "members", NULL };
    const char *blockers_path[] = { "blockers", NULL };
    const char *addr_path[] = { "address", NULL };
    const char *driver_path[] = { "driver", NULL };
    yajl_val blockers;

    tree_load(&t, vh_test_testbed, G_N_ELEMENTS(vh_test_testbed), 0);
    json = vh_iommu_groups_format_json(t.list, FALSE, 0, NULL, &err);
    g_assert_no_error(err);
    root = yajl_tree_parse(json, errbuf, sizeof(errbuf));
    g_assert_nonnull(root);
    g_assert_true(YAJL_IS_ARRAY(root));
    g_assert_cmpuint(root->u.array.len, ==, 4);
    for (i = 0; i < root->u.array.len; i++) {
        yajl_val g = root->u.array.values[i];
        if (YAJL_GET_INTEGER(yajl_tree_get(g, number_path, yajl_t_number)) == 4)
            g4 = g;
    }
    g_assert_nonnull(g4);
    g_assert_true(YAJL_IS_FALSE(yajl_tree_get(g4, viable_path, yajl_t_any)));
    g_assert_cmpuint(YAJL_GET_ARRAY(yajl_tree_get(g4, members_path, yajl_t_array))->len,
                     ==, 3);
    blockers = yajl_tree_get(g4, blockers_path, yajl_t_array);
    g_assert_cmpuint(blockers->u.array.len, ==, 2);
    g_assert_cmpstr(YAJL_GET_STRING(yajl_tree_get(blockers->u.array.values[1],
                                                  addr_path, yajl_t_string)),
                    ==, "0000:01:02.0");
    g_assert_cmpstr(YAJL_GET_STRING(yajl_tree_get(blockers->u.array.values[1],
                                                  driver_path, yajl_t_string)),
                    ==, "e1000");
    yajl_tree_free(root);
}

/* Found by fuzz-nodedev-sysfs: a driver name that is not UTF-8 left
 * '"driver"' without a value, and the JSON did not parse. */
static void
test_json_not_utf8(void)
{
    g_autoptr(GError) err = NULL;
    g_auto(Tree) t = { 0 };
    g_autofree char *json = NULL;
    char errbuf[256];
    yajl_val root;
    VhNodeDevice *dev;

    tree_load(&t, vh_test_testbed, G_N_ELEMENTS(vh_test_testbed), 0);
    dev = (VhNodeDevice *) tree_dev(&t, "0000:01:02.0");
    g_free(dev->driver);
    dev->driver = g_strdup("e1\xfc" "000");
    json = vh_iommu_groups_format_json(t.list, FALSE, 0, NULL, &err);
    g_assert_no_error(err);
    g_assert_nonnull(strstr(json, "\"driver\":\"e1\xef\xbf\xbd" "000\""));
    root = yajl_tree_parse(json, errbuf, sizeof(errbuf));
    g_assert_nonnull(root);
    yajl_tree_free(root);
}

/* A config file of @len bytes for vh_pci_config_fetch_pcie(): counts the
 * dwords read, as the kernel reads them one config cycle each. */
typedef struct {
    const guint8 *bytes;
    gsize len;
    guint reads;
    guint dwords;
} FakeConfig;

static gssize
fake_config_read(gpointer data, guint8 *buf, gsize len, guint offset,
                 GError **error)
{
    FakeConfig *c = data;
    gsize n = offset >= c->len ? 0 : MIN(len, c->len - offset);

    memcpy(buf, c->bytes + offset, n);
    c->reads++;
    c->dwords += n ? (guint) ((offset + n + 3) / 4 - offset / 4) : 0;
    return (gssize) n;
}

static gssize
fake_config_fail(gpointer data, guint8 *buf, gsize len, guint offset,
                 GError **error)
{
    g_set_error(error, VH_SYSFS_ERROR, VH_SYSFS_ERROR_FAILED, "EIO at %u",
                offset);
    return -1;
}

/* What the scan keeps from config space is the same whether it reads the
 * whole 256 bytes or only the parts vh_pci_config_fetch_pcie() fetches,
 * for every length the file may have. */
static void
check_fetch_same(const guint8 *full, gsize len, guint *ret_dwords)
{
    g_autoptr(GError) err = NULL;
    FakeConfig c = { .bytes = full, .len = len };
    guint8 cfg[VH_PCI_CONFIG_STD_SIZE];
    gsize flen = 0;
    gsize wlen = MIN(len, VH_PCI_CONFIG_STD_SIZE);
    VhPciHeaderType wtype = VH_PCI_HEADER_ENDPOINT;
    VhPciHeaderType ftype = VH_PCI_HEADER_ENDPOINT;
    VhPcieInfo want;
    VhPcieInfo got;

    g_assert_true(vh_pci_config_fetch_pcie(fake_config_read, &c, cfg, &flen,
                                           &err));
    g_assert_no_error(err);
    g_assert_cmpint(vh_pci_config_header_type(full, wlen, &wtype), ==,
                    vh_pci_config_header_type(cfg, flen, &ftype));
    g_assert_cmpint(wtype, ==, ftype);
    vh_pci_config_pcie_info(full, wlen, &want);
    vh_pci_config_pcie_info(cfg, flen, &got);
    g_assert_cmpint(want.present, ==, got.present);
    g_assert_cmpint(want.has_link, ==, got.has_link);
    g_assert_cmpuint(want.port_type, ==, got.port_type);
    g_assert_cmpint(want.cap.port, ==, got.cap.port);
    g_assert_cmpuint(want.cap.speed, ==, got.cap.speed);
    g_assert_cmpuint(want.cap.width, ==, got.cap.width);
    g_assert_cmpint(want.sta.port, ==, got.sta.port);
    g_assert_cmpuint(want.sta.speed, ==, got.sta.speed);
    g_assert_cmpuint(want.sta.width, ==, got.sta.width);
    if (ret_dwords)
        *ret_dwords = c.dwords;
}

static void
test_config_fetch(void)
{
    guint8 loop[256];
    guint8 chain[256];
    guint8 none[256];
    guint8 bridge[4096] = { 0 };
    guint8 cfg[VH_PCI_CONFIG_STD_SIZE];
    g_autoptr(GError) err = NULL;
    gsize len = 0;
    guint dwords = 0;
    gsize n;

    memcpy(loop, vh_test_nvme_config, sizeof(loop));
    loop[0x40] = 0x05;          /* MSI, next -> 0x50 */
    loop[0x41] = 0x50;
    loop[0x50] = 0x01;          /* PM, next -> 0x40 */
    loop[0x51] = 0x40;
    /* PM at 0xf4 -> MSI at 0x48 -> PCIe at 0x40 (NVMe's own capability). */
    memcpy(chain, vh_test_nvme_config, sizeof(chain));
    chain[0x34] = 0xf4;
    chain[0xf4] = 0x01;
    chain[0xf5] = 0x48;
    chain[0x48] = 0x05;
    chain[0x49] = 0x40;
    chain[0x41] = 0x00;
    /* A capability list without PCI Express: walked to its end. */
    memcpy(none, chain, sizeof(none));
    none[0x40] = 0x11;
    memcpy(bridge, vh_test_nvme_config, 256);
    bridge[0x0e] = 0x81;        /* multi-function PCI bridge */

    for (n = 0; n <= 256; n++) {
        check_fetch_same(vh_test_nvme_config, n, NULL);
        check_fetch_same(vh_test_rciep_config, n, NULL);
        check_fetch_same(loop, n, NULL);
        check_fetch_same(chain, n, NULL);
        check_fetch_same(none, n, NULL);
        check_fetch_same(bridge, n, NULL);
    }
    check_fetch_same(bridge, sizeof(bridge), NULL);

    /* The header and one capability: 16 + 5 dwords of 64. */
    check_fetch_same(vh_test_nvme_config, 256, &dwords);
    g_assert_cmpuint(dwords, <=, 21);
    check_fetch_same(chain, 256, &dwords);
    g_assert_cmpuint(dwords, <=, 16 + 3 * 5);

    g_assert_false(vh_pci_config_fetch_pcie(fake_config_fail, NULL, cfg, &len,
                                            &err));
    g_assert_error(err, VH_SYSFS_ERROR, VH_SYSFS_ERROR_FAILED);
    g_assert_cmpuint(len, ==, 0);
}

/* nodedev-dumpxml's scan reads what the XML shows, not what only
 * assignment needs. */
static void
test_scan_xml_only(void)
{
    g_auto(Tree) full = { 0 };
    g_auto(Tree) xml = { 0 };
    g_autofree char *a = NULL;
    g_autofree char *b = NULL;
    const VhNodeDevice *pf;

    tree_load(&full, vh_test_sriov, G_N_ELEMENTS(vh_test_sriov),
              VH_NODE_DEVICE_SCAN_NAMES);
    tree_load(&xml, vh_test_sriov, G_N_ELEMENTS(vh_test_sriov),
              VH_NODE_DEVICE_SCAN_NAMES | VH_NODE_DEVICE_SCAN_XML);
    pf = tree_dev(&xml, "0001:00:00.0");
    g_assert_false(pf->has_reset_method);
    g_assert_null(pf->reset_methods);
    g_assert_true(tree_dev(&full, "0001:00:00.0")->has_reset_method);
    /* The same document (each tree's root shown as /sys). */
    a = format_all(&full);
    b = format_all(&xml);
    g_assert_cmpstr(a, ==, b);
}

/* The golden files again, from the scan nodedev-dumpxml makes. */
static void
test_xml_golden_xml_scan(gconstpointer data)
{
    const GoldenCase *c = data;
    g_autoptr(GError) err = NULL;
    g_auto(Tree) t = { 0 };
    g_autofree char *xml = NULL;
    g_autofree char *path = NULL;
    g_autofree char *expected = NULL;

    tree_load(&t, c->devs, c->ndevs,
              VH_NODE_DEVICE_SCAN_NAMES | VH_NODE_DEVICE_SCAN_XML);
    xml = format_all(&t);
    path = g_test_build_filename(G_TEST_DIST, "nodedevxml", c->name, NULL);
    g_assert_true(g_file_get_contents(path, &expected, NULL, &err));
    g_assert_no_error(err);
    g_assert_cmpstr(xml, ==, expected);
}

static const GoldenCase golden_cases[] = {
    { "testbed.xml", vh_test_testbed, G_N_ELEMENTS(vh_test_testbed) },
    { "sriov.xml", vh_test_sriov, G_N_ELEMENTS(vh_test_sriov) },
    { "pcie.xml", vh_test_pcie, G_N_ELEMENTS(vh_test_pcie) },
    { "no-iommu.xml", vh_test_no_iommu, G_N_ELEMENTS(vh_test_no_iommu) },
    { "vpd.xml", vh_test_vpd, G_N_ELEMENTS(vh_test_vpd) },
};

int
main(int argc, char **argv)
{
    gsize i;

    g_test_init(&argc, &argv, NULL);
    g_test_summary("Node devices read in one pass; libvirt XML and JSON views");
    g_test_add_func("/node-device/scan/testbed", test_scan_testbed);
    g_test_add_func("/node-device/scan/names", test_scan_names);
    g_test_add_func("/node-device/scan/sriov", test_scan_sriov);
    g_test_add_func("/node-device/scan/many", test_scan_many);
    g_test_add_func("/node-device/scan/groups", test_scan_groups);
    g_test_add_func("/node-device/scan/odd-files", test_scan_odd_files);
    g_test_add_func("/node-device/iommu-group/viability", test_viability);
    g_test_add_func("/node-device/config-space", test_config_space);
    g_test_add_func("/node-device/config-space/fetch", test_config_fetch);
    g_test_add_func("/node-device/scan/xml-only", test_scan_xml_only);
    g_test_add_func("/node-device/xml/single", test_xml_single);
    g_test_add_func("/node-device/xml/escaping", test_xml_escaping);
    g_test_add_func("/node-device/xml/well-formed", test_xml_well_formed);
    g_test_add_func("/node-device/scan/vmd", test_scan_vmd);
    g_test_add_func("/node-device/scan/uevent", test_scan_uevent);
    for (i = 0; i < G_N_ELEMENTS(golden_cases); i++) {
        g_autofree char *path = g_strdup_printf("/node-device/xml/golden/%s",
                                                golden_cases[i].name);
        g_test_add_data_func(path, &golden_cases[i], test_xml_golden);
    }
    for (i = 0; i < G_N_ELEMENTS(golden_cases); i++) {
        g_autofree char *path = g_strdup_printf("/node-device/xml/golden-xml-scan/%s",
                                                golden_cases[i].name);
        g_test_add_data_func(path, &golden_cases[i], test_xml_golden_xml_scan);
    }
    g_test_add_func("/node-device/json/groups", test_json_groups);
    g_test_add_func("/node-device/json/not-utf8", test_json_not_utf8);
    return g_test_run();
}
