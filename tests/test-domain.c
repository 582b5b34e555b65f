/*
 * test-domain.c: reading the PCI host devices of libvirt domain XML
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <string.h>

#include "vh-domain.h"
#include "vh-error.h"

#define DOMAIN(devices) \
    "<domain type='kvm'>\n" \
    "  <name>guest1</name>\n" \
    "  <uuid>C7A5FDBD-EDAF-9455-926A-D65C16DB1809</uuid>\n" \
    "  <memory unit='MiB'>512</memory>\n" \
    "  <os><type arch='x86_64' machine='pc-q35-7.2'>hvm</type></os>\n" \
    "  <devices>\n" devices "  </devices>\n" \
    "</domain>\n"

static VhDomainDef *
parse_ok(const char *xml)
{
    g_autoptr(GError) err = NULL;
    VhDomainDef *def = vh_domain_def_parse(xml, strlen(xml), &err);

    g_assert_no_error(err);
    g_assert_nonnull(def);
    return def;
}

static void
test_header(void)
{
    g_autoptr(VhDomainDef) def = parse_ok(DOMAIN(""));

    g_assert_cmpstr(def->name, ==, "guest1");
    g_assert_cmpstr(def->uuid, ==, "c7a5fdbd-edaf-9455-926a-d65c16db1809");
    g_assert_cmpstr(def->machine, ==, "pc-q35-7.2");
    g_assert_true(def->q35);
    g_assert_cmpuint(def->memory_kib, ==, 512 * 1024);
    g_assert_cmpuint(def->hard_limit_kib, ==, 0);
    g_assert_cmpuint(def->hostdevs->len, ==, 0);
    /* The implicit root controller. */
    g_assert_cmpuint(def->controllers->len, ==, 1);
    g_assert_cmpstr(vh_domain_def_find_controller(def, 0)->alias, ==,
                    "pcie.0");
    /* No VFIO device, no limit to raise. */
    g_assert_cmpuint(vh_domain_def_memlock_bytes(def), ==, 0);
}

static void
test_no_uuid(void)
{
    const char *xml = "<domain type='kvm'><name>a</name>"
                      "<uuid>c7a5fdbdedaf9455926ad65c16db1809</uuid>"
                      "<memory>1024</memory></domain>";
    const char *xml2 = "<domain type='kvm'><name>b</name>"
                       "<memory>1024</memory></domain>";
    g_autoptr(VhDomainDef) def = parse_ok(xml);
    g_autoptr(VhDomainDef) def2 = parse_ok(xml2);

    g_assert_cmpstr(def->uuid, ==, "c7a5fdbd-edaf-9455-926a-d65c16db1809");
    g_assert_null(def2->uuid);
    g_assert_null(def2->machine);
    g_assert_false(def2->q35);
    g_assert_cmpstr(vh_domain_def_find_controller(def2, 0)->alias, ==,
                    "pci.0");
    /* Default unit: KiB. */
    g_assert_cmpuint(def2->memory_kib, ==, 1024);
}

typedef struct {
    const char *unit;
    const char *value;
    guint64 kib;
} MemoryCase;

static void
test_memory_units(void)
{
    static const MemoryCase cases[] = {
        { "KiB", "1048576", 1048576 },
        { "k", "4", 4 },
        { "KB", "4096", 4000 },
        { "MiB", "64", 65536 },
        { "M", "64", 65536 },
        { "MB", "1", 977 },         /* 1000000 bytes, rounded up */
        { "GiB", "2", 2097152 },
        { "G", "1", 1048576 },
        { "GB", "1", 976563 },
        { "TiB", "1", 1073741824ULL },
        { "b", "1025", 2 },
        { "bytes", "1024", 1 },
    };
    gsize i;

    for (i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autofree char *xml = g_strdup_printf(
            "<domain><name>m</name><memory unit='%s'>%s</memory>"
            "<memtune><hard_limit unit='%s'>%s</hard_limit></memtune>"
            "</domain>", cases[i].unit, cases[i].value, cases[i].unit,
            cases[i].value);
        g_autoptr(VhDomainDef) def = parse_ok(xml);

        g_test_message("%s %s", cases[i].value, cases[i].unit);
        g_assert_cmpuint(def->memory_kib, ==, cases[i].kib);
        g_assert_cmpuint(def->hard_limit_kib, ==, cases[i].kib);
        g_assert_cmpuint(vh_domain_def_memlock_bytes(def), ==,
                         cases[i].kib * 1024);
    }
}

static void
test_memlock(void)
{
    g_autoptr(VhDomainDef) plain = parse_ok(DOMAIN(
        "<hostdev mode='subsystem' type='pci' managed='yes'>"
        "<source><address domain='0x0000' bus='0x00' slot='0x03' "
        "function='0x0'/></source></hostdev>\n"));
    g_autoptr(VhDomainDef) hard = parse_ok(
        "<domain><name>h</name><memory unit='GiB'>4</memory>"
        "<memtune><hard_limit unit='GiB'>6</hard_limit></memtune>"
        "<devices><hostdev mode='subsystem' type='pci'><source>"
        "<address bus='1' slot='2'/></source></hostdev></devices></domain>");
    g_autoptr(VhDomainDef) unlimited = parse_ok(
        "<domain><name>u</name><memory unit='GiB'>4</memory>"
        "<memtune><hard_limit>9007199254740991</hard_limit></memtune>"
        "<devices><hostdev mode='subsystem' type='pci'><source>"
        "<address bus='1' slot='2'/></source></hostdev></devices></domain>");
    g_autoptr(VhDomainDef) locked = parse_ok(
        "<domain><name>l</name><memory unit='GiB'>4</memory>"
        "<memoryBacking><locked/></memoryBacking></domain>");

    /* 512 MiB + 1 GiB */
    g_assert_cmpuint(vh_domain_def_memlock_bytes(plain), ==,
                     (512ULL + 1024) * 1024 * 1024);
    g_assert_cmpuint(vh_domain_def_memlock_bytes(hard), ==,
                     6ULL * 1024 * 1024 * 1024);
    /* "unlimited" hard_limit: not set, so RAM + 1 GiB. */
    g_assert_cmpuint(unlimited->hard_limit_kib, ==, 0);
    g_assert_cmpuint(vh_domain_def_memlock_bytes(unlimited), ==,
                     5ULL * 1024 * 1024 * 1024);
    g_assert_cmpuint(vh_domain_def_memlock_bytes(locked), ==, G_MAXUINT64);
}

/* libvirt's qemuDomainNeedsVFIO: mdev host devices and NVMe disks too. */
static void
test_memlock_other_vfio(void)
{
    g_autoptr(VhDomainDef) mdev = parse_ok(
        "<domain><name>m</name><memory unit='MiB'>100</memory><devices>"
        "<hostdev mode='subsystem' type='mdev' model='vfio-pci'><source>"
        "<address uuid='c2177883-f1bb-47f0-914d-32a22e3a8804'/></source>"
        "</hostdev></devices></domain>");
    g_autoptr(VhDomainDef) nvme = parse_ok(
        "<domain><name>n</name><memory unit='MiB'>100</memory><devices>"
        "<disk type='nvme' device='disk'><source type='pci' managed='yes' "
        "namespace='1'><address domain='0' bus='1' slot='0' function='0'/>"
        "</source><target dev='vda' bus='virtio'/></disk></devices>"
        "</domain>");
    g_autoptr(VhDomainDef) usb = parse_ok(
        "<domain><name>u</name><memory unit='MiB'>100</memory><devices>"
        "<hostdev mode='subsystem' type='usb'><source><vendor id='0x1'/>"
        "<product id='0x2'/></source></hostdev></devices></domain>");

    g_assert_cmpuint(mdev->hostdevs->len, ==, 0);
    g_assert_cmpuint(vh_domain_def_memlock_bytes(mdev), ==,
                     (100ULL + 1024) * 1024 * 1024);
    g_assert_cmpuint(vh_domain_def_memlock_bytes(nvme), ==,
                     (100ULL + 1024) * 1024 * 1024);
    g_assert_cmpuint(vh_domain_def_memlock_bytes(usb), ==, 0);
}

static void
test_hostdevs(void)
{
    g_autoptr(VhDomainDef) def = parse_ok(DOMAIN(
        "<controller type='pci' index='0' model='pcie-root'/>\n"
        "<controller type='pci' index='3' model='pcie-root-port'>"
        "<address type='pci' bus='0' slot='2' function='2'/></controller>\n"
        "<controller type='pci' index='4' model='pcie-root-port'>"
        "<alias name='ua-port4'/></controller>\n"
        "<hostdev mode='subsystem' type='pci' managed='yes'>"
        "<driver name='vfio'/>"
        "<source><address domain='0x0000' bus='0x00' slot='0x03' "
        "function='0x0'/></source>"
        "<address type='pci' domain='0x0000' bus='0x03' slot='0x00' "
        "function='0x1' multifunction='on'/>"
        "<alias name='hostdev7'/>"
        "<boot order='2'/><rom bar='off' file='/x.rom'/><acpi index='5'/>"
        "</hostdev>\n"
        "<hostdev mode='subsystem' type='pci' display='on' ramfb='off'>"
        "<source><address domain='0x10000' bus='225' slot='0x1f' "
        "function='7'/></source><address type='unassigned'/>"
        "<alias name='ua-gpu'/><rom enabled='no'/></hostdev>\n"
        "<hostdev mode='subsystem' type='usb'><source><vendor id='0x1'/>"
        "<product id='0x2'/></source></hostdev>\n"
        "<interface type='hostdev' managed='yes'>"
        "<source><address type='pci' domain='0x0000' bus='0x01' slot='0x10' "
        "function='0x2'/></source><mac address='52:54:00:6d:90:02'/>"
        "<teaming type='transient' persistent='ua-net0'/></interface>\n"
        "<interface type='network'><source network='default'/>"
        "<address type='pci' bus='0' slot='5'/></interface>\n"));
    const VhDomainHostdev *hd;

    g_assert_cmpuint(def->hostdevs->len, ==, 3);
    g_assert_cmpuint(def->other_hostdevs->len, ==, 1);
    g_assert_nonnull(strstr(g_ptr_array_index(def->other_hostdevs, 0),
                            "<hostdev type='usb'> is not a PCI device"));

    /* The interface comes first, as in libvirt's hostdev list. */
    hd = g_ptr_array_index(def->hostdevs, 0);
    g_assert_true(hd->interface);
    g_assert_true(hd->managed);
    g_assert_cmpuint(hd->source.bus, ==, 1);
    g_assert_cmpuint(hd->source.slot, ==, 0x10);
    g_assert_cmpuint(hd->source.function, ==, 2);
    g_assert_false(hd->has_guest_address);
    g_assert_cmpstr(hd->failover_pair_id, ==, "ua-net0");
    g_assert_cmpstr(hd->alias, ==, "hostdev0");

    hd = g_ptr_array_index(def->hostdevs, 1);
    g_assert_false(hd->interface);
    g_assert_true(hd->managed);
    g_assert_cmpuint(hd->source.domain, ==, 0);
    g_assert_cmpuint(hd->source.slot, ==, 3);
    g_assert_true(hd->has_guest_address);
    g_assert_cmpuint(hd->guest.bus, ==, 3);
    g_assert_cmpuint(hd->guest.function, ==, 1);
    g_assert_cmpint(hd->multifunction, ==, VH_TRISTATE_ON);
    /* hostdev7 is not a user alias: dropped, like libvirt, and numbered. */
    g_assert_cmpstr(hd->alias, ==, "hostdev1");
    g_assert_cmpuint(hd->boot_order, ==, 2);
    g_assert_cmpint(hd->rom_bar, ==, VH_TRISTATE_OFF);
    g_assert_cmpstr(hd->rom_file, ==, "/x.rom");
    g_assert_cmpuint(hd->acpi_index, ==, 5);
    g_assert_cmpint(hd->display, ==, VH_TRISTATE_ABSENT);

    hd = g_ptr_array_index(def->hostdevs, 2);
    g_assert_false(hd->managed);
    g_assert_cmpuint(hd->source.domain, ==, 0x10000);
    g_assert_cmpuint(hd->source.bus, ==, 225);
    g_assert_cmpuint(hd->source.function, ==, 7);
    g_assert_true(hd->unassigned);
    g_assert_false(hd->has_guest_address);
    g_assert_cmpstr(hd->alias, ==, "ua-gpu");
    g_assert_cmpint(hd->rom_enabled, ==, VH_TRISTATE_OFF);
    g_assert_cmpint(hd->display, ==, VH_TRISTATE_ON);
    g_assert_cmpint(hd->ramfb, ==, VH_TRISTATE_OFF);

    g_assert_cmpuint(def->controllers->len, ==, 3);
    g_assert_cmpstr(vh_domain_def_find_controller(def, 0)->alias, ==,
                    "pcie.0");
    g_assert_cmpstr(vh_domain_def_find_controller(def, 3)->alias, ==,
                    "pci.3");
    g_assert_cmpstr(vh_domain_def_find_controller(def, 4)->alias, ==,
                    "ua-port4");
    g_assert_null(vh_domain_def_find_controller(def, 5));
    /* The root port at 00:02.2 and the network interface at 00:05. */
    g_assert_true(g_hash_table_contains(def->used_slots,
                                        GUINT_TO_POINTER(0x02)));
    g_assert_true(g_hash_table_contains(def->used_slots,
                                        GUINT_TO_POINTER(0x05)));
    g_assert_cmpuint(g_hash_table_size(def->used_slots), ==, 2);
}

typedef struct {
    const char *name;
    const char *xml;
    const char *message;    /* must appear in the error */
} BadCase;

#define HOSTDEV(inner) \
    DOMAIN("<hostdev mode='subsystem' type='pci' managed='yes'>" inner \
           "</hostdev>\n")
#define SRC(attrs) "<source><address " attrs "/></source>"

static const BadCase bad_cases[] = {
    { "not-xml", "<domain><name>x</name>", "not well-formed XML" },
    /* Found by fuzz-domain-xml: libxml2's message for bytes that are not
     * UTF-8 spans two lines ("indicate encoding !\nBytes: 0x8E ...");
     * such input is now refused before libxml2 sees it, on one line. */
    { "not-utf8", "<domain><name>x</name><uuid>1</\x8e\x8a\x96\x9b"
      "</domain>", "invalid UTF-8 at byte 31: domain XML must be UTF-8 text" },
    { "root", "<network><name>x</name></network>", "not <domain>" },
    /* Found by fuzz-domain-xml: a quoted value that holds a newline. */
    { "newline-in-value", "<domain><name>x</name><uuid>6f1b2c3d-4e5f\n"
      "4a6b-8c7d-9e0f1a2b3c4d</uuid><memory>1</memory></domain>",
      "<uuid> '6f1b2c3d-4e5f\\n4a6b-8c7d-9e0f1a2b3c4d' is not a UUID" },
    { "no-name", "<domain><memory>1</memory></domain>", "has no <name>" },
    { "no-memory", "<domain><name>x</name></domain>", "has no <memory>" },
    { "bad-unit", "<domain><name>x</name><memory unit='parsec'>1</memory>"
      "</domain>", "unit='parsec'> is not a unit" },
    { "bad-memory", "<domain><name>x</name><memory>-1</memory></domain>",
      "<memory> '-1' is not a number" },
    { "bad-uuid", "<domain><name>x</name><uuid>1234</uuid><memory>1</memory>"
      "</domain>", "'1234' is not a UUID" },
    { "no-source", HOSTDEV(""), "has no <source><address" },
    { "no-source-address", HOSTDEV("<source/>"), "has no <source><address" },
    { "empty-source-address", HOSTDEV("<source><address uuid='x'/></source>"),
      "has none of domain, bus, slot, function" },
    { "bad-bus", HOSTDEV(SRC("bus='0x100' slot='0'")),
      "bus='0x100' is out of range" },
    { "bad-slot", HOSTDEV(SRC("bus='0' slot='32'")),
      "slot='32' is out of range" },
    { "bad-function", HOSTDEV(SRC("bus='0' slot='1' function='8'")),
      "function='8' is out of range" },
    { "bad-domain", HOSTDEV(SRC("domain='0x100000000' bus='0' slot='1'")),
      "domain='0x100000000' is out of range" },
    { "not-number", HOSTDEV(SRC("bus='zz' slot='1'")),
      "bus='zz' is not a number" },
    { "negative", HOSTDEV(SRC("bus='-1' slot='1'")),
      "bus='-1' is not a number" },
    { "empty-attr", HOSTDEV(SRC("bus='' slot='1'")),
      "bus='' is not a number" },
    { "kvm", HOSTDEV(SRC("bus='1' slot='1'") "<driver name='kvm'/>"),
      "<driver name='kvm'/> (legacy KVM device assignment) is not supported" },
    { "xen", HOSTDEV(SRC("bus='1' slot='1'") "<driver name='xen'/>"),
      "<driver name='xen'/> (Xen pciback)" },
    { "unknown-driver", HOSTDEV(SRC("bus='1' slot='1'") "<driver name='x'/>"),
      "unknown <driver name='x'/>" },
    { "bad-managed", DOMAIN("<hostdev mode='subsystem' type='pci' "
                            "managed='maybe'>" SRC("bus='1' slot='1'")
                            "</hostdev>"), "managed='maybe' is invalid" },
    { "capabilities", DOMAIN("<hostdev mode='capabilities' type='storage'>"
                             "</hostdev>"), "<hostdev mode='capabilities'>" },
    { "no-type", DOMAIN("<hostdev mode='subsystem'/>"), "has no type" },
    { "usb-source", HOSTDEV("<source><address type='usb' bus='1' "
                            "device='2'/></source>"),
      "address type='usb'; it is not a PCI device" },
    { "guest-domain", HOSTDEV(SRC("bus='1' slot='1'")
                              "<address type='pci' domain='1' bus='0' "
                              "slot='3'/>"), "PCI domain 0 only" },
    { "guest-type", HOSTDEV(SRC("bus='1' slot='1'")
                            "<address type='drive' controller='0'/>"),
      "address type='drive'; a PCI device needs type='pci'" },
    { "multifunction", HOSTDEV(SRC("bus='1' slot='1'")
                               "<address type='pci' bus='0' slot='3' "
                               "multifunction='yes'/>"),
      "multifunction='yes' is invalid; expected 'on' or 'off'" },
    { "boot-zero", HOSTDEV(SRC("bus='1' slot='1'") "<boot order='0'/>"),
      "<boot> needs order='N'" },
    { "rom-disabled-bar", HOSTDEV(SRC("bus='1' slot='1'")
                                  "<rom enabled='no' bar='on'/>"),
      "ROM tuning is not supported when ROM is disabled" },
    { "rom-bar", HOSTDEV(SRC("bus='1' slot='1'") "<rom bar='yes'/>"),
      "<rom> bar='yes' is invalid" },
    { "acpi-zero", HOSTDEV(SRC("bus='1' slot='1'") "<acpi index='0'/>"),
      "index='N' with N from 1 to 16383" },
    { "acpi-big", HOSTDEV(SRC("bus='1' slot='1'") "<acpi index='16384'/>"),
      "index='N' with N from 1 to 16383" },
    { "teaming-persistent", HOSTDEV(SRC("bus='1' slot='1'")
                                    "<teaming type='persistent'/>"),
      "can only be the transient member" },
    { "teaming-no-pair", HOSTDEV(SRC("bus='1' slot='1'")
                                 "<teaming type='transient'/>"),
      "needs persistent='ALIAS'" },
    { "bad-alias", HOSTDEV(SRC("bus='1' slot='1'")
                           "<alias name='ua-a,b'/>"),
      "only letters, digits" },
    { "display", DOMAIN("<hostdev mode='subsystem' type='pci' "
                        "display='yes'>" SRC("bus='1' slot='1'")
                        "</hostdev>"), "display='yes' is invalid" },
    { "duplicate", DOMAIN("<hostdev mode='subsystem' type='pci'>"
                          SRC("bus='1' slot='1'") "</hostdev>\n"
                          "<interface type='hostdev'>"
                          "<source><address type='pci' domain='0' bus='0x1' "
                          "slot='0x01' function='0'/></source></interface>\n"),
      "Hostdev already exists in the domain configuration: 0000:01:01.0" },
    { "duplicate-alias", DOMAIN("<hostdev mode='subsystem' type='pci'>"
                                SRC("bus='1' slot='1'")
                                "<alias name='ua-x'/></hostdev>\n"
                                "<hostdev mode='subsystem' type='pci'>"
                                SRC("bus='1' slot='2'")
                                "<alias name='ua-x'/></hostdev>\n"),
      "non unique alias detected: 'ua-x'" },
    { "duplicate-boot", DOMAIN("<hostdev mode='subsystem' type='pci'>"
                               SRC("bus='1' slot='1'")
                               "<boot order='1'/></hostdev>\n"
                               "<hostdev mode='subsystem' type='pci'>"
                               SRC("bus='1' slot='2'")
                               "<boot order='1'/></hostdev>\n"),
      "boot order 1 is also used" },
    { "controller-no-model", DOMAIN("<controller type='pci' index='1'/>"),
      "has no model" },
    { "controller-no-index", DOMAIN("<controller type='pci' "
                                    "model='pcie-root-port'/>"),
      "has no index" },
    { "controller-twice", DOMAIN("<controller type='pci' index='1' "
                                 "model='pcie-root-port'/>"
                                 "<controller type='pci' index='1' "
                                 "model='pcie-root-port'/>"),
      "index='1' is defined twice" },
    { "root-mismatch", DOMAIN("<controller type='pci' index='0' "
                              "model='pci-root'/>"),
      "does not match machine 'pc-q35-7.2', which has a pcie-root" },
};

static void
test_bad(gconstpointer data)
{
    const BadCase *c = data;
    g_autoptr(GError) err = NULL;
    g_autoptr(VhDomainDef) def = NULL;

    def = vh_domain_def_parse(c->xml, strlen(c->xml), &err);
    g_assert_null(def);
    g_assert_error(err, VH_QEMU_ERROR, VH_QEMU_ERROR_INVALID);
    g_test_message("%s", err->message);
    g_assert_nonnull(strstr(err->message, c->message));
    g_assert_true(g_str_has_prefix(err->message, "domain XML"));
    g_assert_null(strchr(err->message, '\n'));
    g_assert_true(vh_error_is_invalid_input(err));
}

/* Found by fuzz-domain-xml: values quoted in messages stay on one line. */
static void
test_one_line(void)
{
    const char *xml = DOMAIN("<hostdev mode='subsystem' type='a&#10;b'/>\n");
    g_autoptr(VhDomainDef) def = parse_ok(xml);
    g_autofree char *esc = vh_error_one_line("a\nb\tc\r\x01\x7f\xc3\xa9'");

    g_assert_cmpuint(def->other_hostdevs->len, ==, 1);
    g_assert_cmpstr(def->other_hostdevs->pdata[0], ==,
                    "domain XML line 7: <hostdev type='a\\nb'> is not a PCI "
                    "device; virt-hostdev assigns PCI functions only");
    /* Control characters escaped, UTF-8 and quotes kept. */
    g_assert_cmpstr(esc, ==, "a\\nb\\tc\\r\\x01\\x7f\xc3\xa9'");
}

static void
test_line_numbers(void)
{
    const char *xml = HOSTDEV(SRC("bus='0x100' slot='0'"));
    g_autoptr(GError) err = NULL;
    g_autoptr(VhDomainDef) def = vh_domain_def_parse(xml, strlen(xml), &err);

    g_assert_null(def);
    g_assert_nonnull(err);
    /* The hostdev sits on line 7 of DOMAIN(). */
    g_assert_true(g_str_has_prefix(err->message, "domain XML line 7: "));
}

static void
test_no_entities(void)
{
    /* An external entity must not be fetched or expanded into the name. */
    const char *xml =
        "<?xml version='1.0'?>\n"
        "<!DOCTYPE domain [<!ENTITY e SYSTEM 'file:///etc/passwd'>]>\n"
        "<domain><name>&e;</name><memory>1</memory></domain>";
    g_autoptr(GError) err = NULL;
    g_autoptr(VhDomainDef) def = vh_domain_def_parse(xml, strlen(xml), &err);

    if (def)
        g_assert_null(strstr(def->name, "root:"));
}

int
main(int argc, char **argv)
{
    gsize i;

    g_test_init(&argc, &argv, NULL);
    g_test_summary("vh_domain_def_parse() reads what vfio-pci arguments and "
                   "prepare need from libvirt domain XML, and refuses bad "
                   "input with one line naming where");
    g_test_add_func("/qemu/domain/header", test_header);
    g_test_add_func("/qemu/domain/no-uuid", test_no_uuid);
    g_test_add_func("/qemu/domain/memory-units", test_memory_units);
    g_test_add_func("/qemu/domain/memlock", test_memlock);
    g_test_add_func("/qemu/domain/memlock-other-vfio", test_memlock_other_vfio);
    g_test_add_func("/qemu/domain/hostdevs", test_hostdevs);
    g_test_add_func("/qemu/domain/line-numbers", test_line_numbers);
    g_test_add_func("/qemu/domain/one-line", test_one_line);
    g_test_add_func("/qemu/domain/no-entities", test_no_entities);
    for (i = 0; i < G_N_ELEMENTS(bad_cases); i++) {
        g_autofree char *path = g_strdup_printf("/qemu/domain/bad/%s",
                                                bad_cases[i].name);
        g_test_add_data_func(path, &bad_cases[i], test_bad);
    }
    return g_test_run();
}
