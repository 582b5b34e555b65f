/*
 * test-doctor.c: the read-only preflight on fake hosts (the test bed's
 * topology: edu 00:03.0 alone in group 3; bridge 00:04.0 with e1000s
 * 01:01.0 and 01:02.0 in group 4), through the library and the binary
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <string.h>

#include <glib/gstdio.h>

#include "vh-doctor.h"
#include "vh-domain.h"
#include "vh-error.h"
#include "vh-fake-sysfs.h"
#include "vh-registry.h"
#include "vh-test-run.h"
#include "vh-test-topologies.h"

/* libvirt 9.0's rule for 64 MiB of guest RAM: 64 MiB + 1 GiB. */
#define NEED_64M "1140850688"

typedef struct {
    VhFakeSysfs *fake;          /* /sys */
    VhFakeSysfs *fakeproc;      /* /proc */
    VhFakeSysfs *fakedev;       /* /dev */
    VhFakeSysfs *fakemods;      /* /lib/modules/VERSION */
    VhSysfs *sysfs;
    VhSysfs *proc;
    VhSysfs *dev;
    VhSysfs *modules;
    char *state_dir;
    VhDoctor d;
} Host;

static VhFakeSysfs *
empty_tree(void)
{
    g_autoptr(GError) err = NULL;
    VhFakeSysfs *fake = vh_fake_sysfs_new(NULL, 0, &err);

    g_assert_no_error(err);
    return fake;
}

static void
add_file(VhFakeSysfs *fake, const char *relpath, const char *contents)
{
    g_autoptr(GError) err = NULL;

    g_assert_true(vh_fake_sysfs_add_file(fake, relpath, contents, &err));
    g_assert_no_error(err);
}

static void
add_link(VhFakeSysfs *fake, const char *relpath, const char *target)
{
    g_autoptr(GError) err = NULL;

    g_assert_true(vh_fake_sysfs_add_link(fake, relpath, target, &err));
    g_assert_no_error(err);
}

static void
host_init(Host *host, const VhFakePciDevice *devs, gsize n)
{
    g_autoptr(GError) err = NULL;

    host->fake = vh_fake_sysfs_new(devs, n, &err);
    g_assert_no_error(err);
    host->fakeproc = empty_tree();
    host->fakedev = empty_tree();
    host->fakemods = empty_tree();
    host->sysfs = vh_sysfs_new(vh_fake_sysfs_root(host->fake), &err);
    g_assert_no_error(err);
    host->proc = vh_sysfs_new(vh_fake_sysfs_root(host->fakeproc), &err);
    g_assert_no_error(err);
    host->dev = vh_sysfs_new(vh_fake_sysfs_root(host->fakedev), &err);
    g_assert_no_error(err);
    host->modules = vh_sysfs_new(vh_fake_sysfs_root(host->fakemods), &err);
    g_assert_no_error(err);
    host->state_dir = g_dir_make_tmp("vh-doctor-XXXXXX", &err);
    g_assert_no_error(err);
    host->d = (VhDoctor) {
        .sysfs = host->sysfs, .proc = host->proc, .dev = host->dev,
        .modules = host->modules, .state_dir = host->state_dir,
        .memlock_limit = G_MAXUINT64, .memlock_source = "the test's",
    };
}

/*
 * The test bed's host as the guest kernel shows it: an Intel IOMMU with a
 * 39-bit address width and interrupt remapping, the VFIO modules loaded,
 * /dev/vfio/vfio, the MSI window as each group's reserved region.
 */
static void
host_setup_good(Host *host, gconstpointer data)
{
    static const char *const groups[] = { "0", "3", "4", "6" };
    static const char *const devices[] = {
        "devices/pci0000:00/0000:00:03.0",
        "devices/pci0000:00/0000:00:04.0/0000:01:01.0",
        "devices/pci0000:00/0000:00:04.0/0000:01:02.0",
    };
    gsize i;

    host_init(host, vh_test_testbed, G_N_ELEMENTS(vh_test_testbed));
    /* cap: MGAW (bits 21:16) 38, i.e. 39 bits; ecap: IR (bit 3). */
    add_file(host->fake, "devices/virtual/iommu/dmar0/intel-iommu/cap",
             "d2008c22260286\n");
    add_file(host->fake, "devices/virtual/iommu/dmar0/intel-iommu/ecap",
             "f00f5e\n");
    {
        g_autofree char *dir = vh_fake_sysfs_path(host->fake, "class/iommu");
        g_assert_cmpint(g_mkdir_with_parents(dir, 0755), ==, 0);
    }
    add_link(host->fake, "class/iommu/dmar0", "devices/virtual/iommu/dmar0");
    for (i = 0; i < G_N_ELEMENTS(devices); i++) {
        g_autofree char *link = g_strdup_printf("%s/iommu", devices[i]);
        add_link(host->fake, link, "devices/virtual/iommu/dmar0");
    }
    for (i = 0; i < G_N_ELEMENTS(groups); i++) {
        g_autofree char *rel = g_strdup_printf("kernel/iommu_groups/%s/"
                                               "reserved_regions", groups[i]);
        add_file(host->fake, rel, "0x00000000fee00000 0x00000000feefffff msi\n");
    }
    add_file(host->fake, "devices/pci0000:00/0000:00:03.0/resource",
             "0x00000000fea00000 0x00000000feafffff 0x0000000000040200\n");
    add_file(host->fake, "module/vfio/refcnt", "1\n");
    add_file(host->fake, "module/vfio_pci/refcnt", "0\n");
    add_file(host->fake, "module/vfio_iommu_type1/parameters/"
             "allow_unsafe_interrupts", "N\n");
    add_file(host->fake, "module/pci_stub/parameters/ids", "\n");
    add_file(host->fakeproc, "cmdline", "console=ttyS0 intel_iommu=on\n");
    add_file(host->fakeproc, "interrupts",
             "            CPU0       CPU1\n"
             "   0:         44          0  IR-IO-APIC    2-edge      timer\n"
             "  24:          0          0  DMAR-MSI    0-edge      dmar0\n"
             "  25:         10          0  IR-PCI-MSI 49152-edge      edu\n");
    add_file(host->fakedev, "vfio/vfio", "");
}

/* A host without an IOMMU, with nothing of VFIO. */
static void
host_setup_bare(Host *host, gconstpointer data)
{
    host_init(host, vh_test_no_iommu, G_N_ELEMENTS(vh_test_no_iommu));
}

static void
host_teardown(Host *host, gconstpointer data)
{
    g_autoptr(GDir) dir = g_dir_open(host->state_dir, 0, NULL);

    /* doctor writes nothing: not even the lock file. */
    g_assert_nonnull(dir);
    g_assert_null(g_dir_read_name(dir));
    g_rmdir(host->state_dir);
    g_free(host->state_dir);
    vh_sysfs_free(host->modules);
    vh_sysfs_free(host->dev);
    vh_sysfs_free(host->proc);
    vh_sysfs_free(host->sysfs);
    vh_fake_sysfs_free(host->fakemods);
    vh_fake_sysfs_free(host->fakedev);
    vh_fake_sysfs_free(host->fakeproc);
    vh_fake_sysfs_free(host->fake);
}

/* A domain XML: RAM in MiB, then "ADDR[,rom=FILE][,unmanaged]" per device. */
static VhDomainDef *
domain(guint64 mib, ...)
{
    g_autoptr(GString) xml = g_string_new(NULL);
    g_autoptr(GError) err = NULL;
    const char *dev;
    VhDomainDef *def;
    va_list ap;

    g_string_append_printf(xml, "<domain type='qemu'><name>vm1</name>"
                           "<memory unit='MiB'>%" G_GUINT64_FORMAT "</memory>"
                           "<os><type arch='x86_64' machine='q35'>hvm</type>"
                           "</os><devices>", mib);
    va_start(ap, mib);
    while ((dev = va_arg(ap, const char *))) {
        g_auto(GStrv) parts = g_strsplit(dev, ",", -1);
        VhPciAddress a;
        guint i;

        g_assert_true(vh_pci_address_parse(parts[0], &a, NULL));
        g_string_append_printf(xml, "<hostdev mode='subsystem' type='pci' "
                               "managed='%s'><source><address domain='%u' "
                               "bus='%u' slot='%u' function='%u'/></source>",
                               strstr(dev, "unmanaged") ? "no" : "yes",
                               a.domain, a.bus, a.slot, a.function);
        for (i = 1; parts[i]; i++) {
            if (g_str_has_prefix(parts[i], "rom="))
                g_string_append_printf(xml, "<rom file='%s'/>", parts[i] + 4);
        }
        g_string_append(xml, "</hostdev>");
    }
    va_end(ap);
    g_string_append(xml, "</devices></domain>");
    def = vh_domain_def_parse(xml->str, xml->len, &err);
    g_assert_no_error(err);
    return def;
}

static VhDoctorReport *
run(Host *host, const VhDomainDef *def)
{
    g_autoptr(GError) err = NULL;
    VhDoctorReport *report = NULL;

    g_assert_true(vh_doctor_run(&host->d, def, &report, &err));
    g_assert_no_error(err);
    g_assert_nonnull(report);
    return report;
}

static const VhDoctorCheck *
check(const VhDoctorReport *report, const char *id)
{
    const VhDoctorCheck *c = vh_doctor_report_find(report, id);

    if (!c) {
        g_autofree char *text = vh_doctor_report_format(report);
        g_test_message("no check %s in:\n%s", id, text);
    }
    g_assert_nonnull(c);
    return c;
}

#define assert_status(report, id, st) G_STMT_START { \
    const VhDoctorCheck *_c = check(report, id); \
    g_assert_cmpstr(vh_doctor_status_string(_c->status), ==, \
                    vh_doctor_status_string(st)); \
} G_STMT_END

/* @needle is in the summary, an evidence line or the fix of @id. */
static gboolean
check_says(const VhDoctorReport *report, const char *id, const char *needle)
{
    const VhDoctorCheck *c = check(report, id);
    guint i;

    if (strstr(c->summary, needle) || (c->fix && strstr(c->fix, needle)))
        return TRUE;
    for (i = 0; i < c->evidence->len; i++) {
        if (strstr(g_ptr_array_index(c->evidence, i), needle))
            return TRUE;
    }
    return FALSE;
}

/* ---- host ------------------------------------------------------------------ */

static void
test_no_iommu(Host *host, gconstpointer data)
{
    g_autoptr(VhDoctorReport) report = run(host, NULL);
    const VhDoctorCheck *c = check(report, "host/iommu");

    g_assert_false(vh_doctor_report_ok(report));
    assert_status(report, "host/iommu", VH_DOCTOR_FAIL);
    g_assert_nonnull(strstr(c->summary, "no IOMMU"));
    g_assert_nonnull(c->fix);
    g_assert_nonnull(strstr(c->fix, "intel_iommu=on"));
    g_assert_nonnull(strstr(c->fix, "amd_iommu=on"));
    g_assert_nonnull(strstr(c->fix, "VT-d"));
    assert_status(report, "host/interrupt-remapping", VH_DOCTOR_SKIP);
    assert_status(report, "host/vfio", VH_DOCTOR_FAIL);
    assert_status(report, "host/vfio-pci", VH_DOCTOR_FAIL);
    assert_status(report, "host/pci-stub", VH_DOCTOR_WARN);
    assert_status(report, "host/dev-vfio", VH_DOCTOR_WARN);
}

static void
test_host_green(Host *host, gconstpointer data)
{
    g_autoptr(VhDoctorReport) report = run(host, NULL);
    g_autofree char *text = vh_doctor_report_format(report);
    guint i;

    g_test_message("%s", text);
    g_assert_true(vh_doctor_report_ok(report));
    for (i = 0; i < report->checks->len; i++) {
        const VhDoctorCheck *c = g_ptr_array_index(report->checks, i);
        g_assert_cmpstr(vh_doctor_status_string(c->status), ==, "ok");
        g_assert_null(c->fix);
    }
    g_assert_cmpuint(report->checks->len, ==, 8);
    g_assert_true(check_says(report, "host/iommu", "4 IOMMU groups"));
    g_assert_true(check_says(report, "host/interrupt-remapping",
                             "2 interrupts through remapping"));
    g_assert_true(check_says(report, "host/interrupt-remapping",
                             "IR (bit 3, interrupt remapping) supported"));
}

static void
test_irq_remap_off(Host *host, gconstpointer data)
{
    g_autoptr(VhDoctorReport) report = NULL;
    g_autoptr(VhDoctorReport) unsafe = NULL;

    add_file(host->fakeproc, "interrupts",
             "            CPU0\n"
             "   0:         44  IO-APIC    2-edge      timer\n"
             "  25:         10  PCI-MSI 49152-edge      edu\n");
    report = run(host, NULL);
    assert_status(report, "host/interrupt-remapping", VH_DOCTOR_FAIL);
    g_assert_true(check_says(report, "host/interrupt-remapping",
                             "0 interrupts through remapping"));
    /* The hardware has IR: the fix says the kernel turned it off. */
    g_assert_true(check_says(report, "host/interrupt-remapping",
                             "intremap=off"));
    g_assert_false(vh_doctor_report_ok(report));

    add_file(host->fake, "module/vfio_iommu_type1/parameters/"
             "allow_unsafe_interrupts", "Y\n");
    unsafe = run(host, NULL);
    assert_status(unsafe, "host/interrupt-remapping", VH_DOCTOR_WARN);
    g_assert_true(vh_doctor_report_ok(unsafe));
}

static void
test_modules_on_disk(Host *host, gconstpointer data)
{
    g_autoptr(VhDoctorReport) report = NULL;
    g_autoptr(VhDoctorReport) none = NULL;

    /* Nothing loaded: only the modules index says where they are. */
    add_file(host->fakemods, "modules.dep",
             "kernel/drivers/vfio/vfio.ko.xz:\n"
             "kernel/drivers/vfio/pci/vfio-pci.ko.xz: kernel/drivers/vfio/"
             "pci/vfio-pci-core.ko.xz kernel/drivers/vfio/vfio.ko.xz\n"
             "kernel/drivers/net/ethernet/intel/e1000/e1000.ko.xz:\n");
    add_file(host->fakemods, "modules.builtin",
             "kernel/drivers/pci/pci-stub.ko\n");
    report = run(host, NULL);
    assert_status(report, "host/vfio", VH_DOCTOR_OK);
    g_assert_true(check_says(report, "host/vfio-pci",
                             "kernel/drivers/vfio/pci/vfio-pci.ko.xz"));
    assert_status(report, "host/vfio-pci", VH_DOCTOR_OK);
    assert_status(report, "host/pci-stub", VH_DOCTOR_OK);
    g_assert_true(check_says(report, "host/pci-stub", "built into"));
    /* vfio_iommu_type1 is nowhere (vfio-pci-core is not it either). */
    assert_status(report, "host/vfio-iommu-type1", VH_DOCTOR_FAIL);
    g_assert_true(check_says(report, "host/vfio-iommu-type1",
                             "CONFIG_VFIO_IOMMU_TYPE1"));

    host->d.modules = NULL;
    host->d.modules_dir = "/lib/modules/test";
    none = run(host, NULL);
    assert_status(none, "host/vfio", VH_DOCTOR_FAIL);
    g_assert_true(check_says(none, "host/vfio", "/lib/modules/test: absent"));
}

static void
test_dev_vfio_missing(Host *host, gconstpointer data)
{
    g_autoptr(VhDoctorReport) report = NULL;
    g_autofree char *path = vh_fake_sysfs_path(host->fakedev, "vfio/vfio");

    g_assert_cmpint(g_unlink(path), ==, 0);
    report = run(host, NULL);
    /* vfio is loaded: the node should be there. */
    assert_status(report, "host/dev-vfio", VH_DOCTOR_FAIL);
    g_assert_true(check_says(report, "host/dev-vfio", "mknod"));
}

static void
test_pending_journal(Host *host, gconstpointer data)
{
    g_autoptr(GError) err = NULL;
    g_autoptr(VhJournal) journal = vh_journal_new("prepare", "vm9");
    g_autoptr(VhDoctorReport) report = NULL;
    g_autofree char *path = g_build_filename(host->state_dir, "journal.json",
                                             NULL);

    g_assert_true(vh_journal_save(journal, host->state_dir, &err));
    g_assert_no_error(err);
    report = run(host, NULL);
    assert_status(report, "host/state", VH_DOCTOR_FAIL);
    g_assert_true(check_says(report, "host/state", "virt-hostdev recover"));
    g_assert_true(check_says(report, "host/state", "vm9"));
    g_unlink(path);
}

/* ---- domain ---------------------------------------------------------------- */

static void
test_edu_green(Host *host, gconstpointer data)
{
    g_autoptr(VhDomainDef) def = domain(64, "0000:00:03.0", NULL);
    g_autoptr(VhDoctorReport) report = run(host, def);
    g_autofree char *text = vh_doctor_report_format(report);

    g_test_message("%s", text);
    g_assert_true(vh_doctor_report_ok(report));
    assert_status(report, "hostdev/0000:00:03.0/exists", VH_DOCTOR_OK);
    assert_status(report, "hostdev/0000:00:03.0/group", VH_DOCTOR_OK);
    g_assert_true(check_says(report, "hostdev/0000:00:03.0/group",
                             "IOMMU group 3: no peer to hold"));
    assert_status(report, "hostdev/0000:00:03.0/host-critical", VH_DOCTOR_OK);
    /* edu has no reset method, as in the test bed: a warning only. */
    assert_status(report, "hostdev/0000:00:03.0/reset", VH_DOCTOR_WARN);
    g_assert_true(check_says(report, "hostdev/0000:00:03.0/reset",
                             "no available reset mechanism"));
    assert_status(report, "hostdev/0000:00:03.0/owner", VH_DOCTOR_OK);
    assert_status(report, "domain/prepare", VH_DOCTOR_OK);
    g_assert_true(check_says(report, "domain/prepare",
                             "0000:00:03.0: no driver -> vfio-pci (assigned)"));
    assert_status(report, "domain/memlock", VH_DOCTOR_OK);
    assert_status(report, "domain/iova", VH_DOCTOR_OK);
    g_assert_true(check_says(report, "domain/iova", "39-bit"));
    assert_status(report, "domain/bars", VH_DOCTOR_OK);
    g_assert_true(check_says(report, "domain/bars", "BAR 0: 1.0 MiB, 32-bit"));
    g_assert_null(vh_doctor_report_find(report, "hostdev/0000:00:03.0/rom"));
}

static void
test_peer_held(Host *host, gconstpointer data)
{
    g_autoptr(VhDomainDef) def = domain(64, "0000:01:01.0", NULL);
    g_autoptr(VhDoctorReport) report = run(host, def);
    g_autoptr(VhDoctorReport) libvirt = NULL;
    const char *id = "hostdev/0000:01:01.0/group";

    g_assert_true(vh_doctor_report_ok(report));
    assert_status(report, id, VH_DOCTOR_OK);
    g_assert_true(check_says(report, id, "prepare holds 0000:01:02.0 (e1000) "
                             "on pci-stub"));
    /* The bridge is a member but is not held. */
    g_assert_true(check_says(report, id, "0000:00:04.0 (no driver, bridge)"));
    g_assert_false(check_says(report, id, "0000:00:04.0 (no driver): an "
                              "endpoint"));
    g_assert_true(check_says(report, "domain/prepare",
                             "0000:01:02.0: e1000 -> pci-stub (held)"));

    /* libvirt alone holds no peers. */
    host->d.libvirt = TRUE;
    libvirt = run(host, def);
    assert_status(libvirt, id, VH_DOCTOR_WARN);
    g_assert_true(check_says(libvirt, id, "install-hook"));
}

/* A driver link named with control bytes (a broken tree): the report
 * quotes it escaped, and every line of it stays one line. */
static void
test_driver_name_control(Host *host, gconstpointer data)
{
    g_autoptr(VhDomainDef) def = domain(64, "0000:01:01.0", NULL);
    g_autoptr(VhDoctorReport) report = NULL;
    g_autoptr(GError) err = NULL;
    g_autofree char *text = NULL;
    g_autofree char *old = vh_fake_sysfs_path(host->fake,
        "devices/pci0000:00/0000:00:04.0/0000:01:02.0/driver");

    g_assert_true(vh_fake_sysfs_add_driver(host->fake, "e1\n000\x1b", &err));
    g_assert_no_error(err);
    g_assert_cmpint(g_unlink(old), ==, 0);
    add_link(host->fake, "devices/pci0000:00/0000:00:04.0/0000:01:02.0/driver",
             "bus/pci/drivers/e1\n000\x1b");

    report = run(host, def);
    text = vh_doctor_report_format(report);
    g_test_message("%s", text);
    g_assert_true(check_says(report, "domain/prepare",
                             "0000:01:02.0: e1\n000\x1b -> pci-stub (held)"));
    g_assert_nonnull(strstr(text, "0000:01:02.0 (e1\\n000\\x1b)"));
    g_assert_nonnull(strstr(text, "0000:01:02.0: e1\\n000\\x1b -> pci-stub (held)"));
    g_assert_null(strstr(text, "e1\n000"));
    g_assert_null(strchr(text, '\x1b'));
}

static void
test_peer_host_critical(Host *host, gconstpointer data)
{
    g_autoptr(GError) err = NULL;
    g_autoptr(VhDomainDef) def = domain(64, "0000:01:01.0", NULL);
    g_autoptr(VhDoctorReport) report = NULL;
    const char *id = "hostdev/0000:01:01.0/host-critical";

    g_assert_true(vh_fake_sysfs_add_net(host->fake, &(VhFakeNetDevice) {
        .name = "eth1", .parent = "0000:01:02.0" }, &err));
    g_assert_no_error(err);
    add_file(host->fakeproc, "net/if_inet6",
             "20010db8000000000000000000000010 02 40 00 80     eth1\n");
    report = run(host, def);
    g_assert_false(vh_doctor_report_ok(report));
    assert_status(report, id, VH_DOCTOR_FAIL);
    g_assert_true(check_says(report, id, "the host uses 0000:01:02.0 (e1000, "
                             "peer)"));
    g_assert_true(check_says(report, id, "interface eth1 has address "
                             "2001:db8::10/64"));
}

static void
test_memlock_tiny(Host *host, gconstpointer data)
{
    g_autoptr(VhDomainDef) def = domain(64, "0000:00:03.0", NULL);
    g_autoptr(VhDoctorReport) report = NULL;
    g_autoptr(VhDoctorReport) libvirt = NULL;
    g_autoptr(VhDoctorReport) enough = NULL;

    host->d.memlock_limit = 65536;
    report = run(host, def);
    g_assert_false(vh_doctor_report_ok(report));
    assert_status(report, "domain/memlock", VH_DOCTOR_FAIL);
    g_assert_true(check_says(report, "domain/memlock", "needs " NEED_64M
                             " bytes"));
    g_assert_true(check_says(report, "domain/memlock", "the limit is 65536 "
                             "bytes"));
    g_assert_true(check_says(report, "domain/memlock", "--memlock="
                             NEED_64M ":" NEED_64M));

    host->d.libvirt = TRUE;
    libvirt = run(host, def);
    assert_status(libvirt, "domain/memlock", VH_DOCTOR_WARN);

    host->d.libvirt = FALSE;
    host->d.memlock_limit = G_GUINT64_CONSTANT(1140850688);
    enough = run(host, def);
    assert_status(enough, "domain/memlock", VH_DOCTOR_OK);
}

static void
test_missing_device(Host *host, gconstpointer data)
{
    g_autoptr(VhDomainDef) def = domain(64, "0000:00:07.0", NULL);
    g_autoptr(VhDoctorReport) report = run(host, def);

    g_assert_false(vh_doctor_report_ok(report));
    assert_status(report, "hostdev/0000:00:07.0/exists", VH_DOCTOR_FAIL);
    g_assert_true(check_says(report, "hostdev/0000:00:07.0/exists",
                             "0000:00:07.0 is not on this host"));
    g_assert_null(vh_doctor_report_find(report, "hostdev/0000:00:07.0/group"));
    assert_status(report, "domain/prepare", VH_DOCTOR_FAIL);
}

static void
test_rom(Host *host, gconstpointer data)
{
    g_autoptr(GError) err = NULL;
    g_autofree char *dir = g_dir_make_tmp("vh-doctor-rom-XXXXXX", &err);
    g_autofree char *good = g_build_filename(dir, "good.rom", NULL);
    g_autofree char *bad = g_build_filename(dir, "missing.rom", NULL);
    g_autofree char *good_arg = g_strdup_printf("0000:00:03.0,rom=%s", good);
    g_autofree char *bad_arg = g_strdup_printf("0000:01:01.0,rom=%s", bad);
    g_autoptr(VhDomainDef) def = NULL;
    g_autoptr(VhDoctorReport) report = NULL;
    static const char rom[] = { 0x55, (char) 0xaa, 0x10, 0x00 };

    g_assert_no_error(err);
    g_assert_true(g_file_set_contents(good, rom, sizeof(rom), &err));
    def = domain(64, good_arg, bad_arg, NULL);
    report = run(host, def);
    assert_status(report, "hostdev/0000:00:03.0/rom", VH_DOCTOR_OK);
    assert_status(report, "hostdev/0000:01:01.0/rom", VH_DOCTOR_FAIL);
    g_assert_true(check_says(report, "hostdev/0000:01:01.0/rom",
                             "No such file or directory"));
    g_assert_false(vh_doctor_report_ok(report));
    g_unlink(good);
    g_rmdir(dir);
}

static void
test_owned_by_another(Host *host, gconstpointer data)
{
    g_autoptr(GError) err = NULL;
    g_autoptr(VhRegistry) reg = vh_registry_new();
    g_autoptr(VhDomainDef) def = domain(64, "0000:01:01.0", NULL);
    g_autoptr(VhDoctorReport) report = NULL;
    g_autofree char *path = g_build_filename(host->state_dir, "registry.json",
                                             NULL);
    VhRegistryEntry entry = {
        .addr = { 0, 0x01, 0x02, 0 }, .role = VH_ROLE_ASSIGNED,
        .owner = (char *) "vm2", .driver = (char *) "vfio-pci",
        .original_driver = (char *) "e1000", .group = 4,
    };

    vh_registry_set(reg, &entry);
    g_assert_true(vh_registry_save(reg, host->state_dir, &err));
    g_assert_no_error(err);
    report = run(host, def);
    g_assert_false(vh_doctor_report_ok(report));
    assert_status(report, "hostdev/0000:01:01.0/owner", VH_DOCTOR_FAIL);
    g_assert_true(check_says(report, "hostdev/0000:01:01.0/owner",
                             "IOMMU group 4 belongs to vm2"));
    assert_status(report, "domain/prepare", VH_DOCTOR_FAIL);
    g_unlink(path);
}

static void
test_ram_beyond_width(Host *host, gconstpointer data)
{
    /* 1 TiB: RAM above 4 GiB ends past 2^39 (512 GiB). */
    g_autoptr(VhDomainDef) big = domain(1024 * 1024, "0000:00:03.0", NULL);
    g_autoptr(VhDomainDef) fits = domain(256 * 1024, "0000:00:03.0", NULL);
    g_autoptr(VhDoctorReport) report = run(host, big);
    g_autoptr(VhDoctorReport) ok = run(host, fits);

    g_assert_false(vh_doctor_report_ok(report));
    assert_status(report, "domain/iova", VH_DOCTOR_FAIL);
    g_assert_true(check_says(report, "domain/iova", "39-bit address width"));
    g_assert_true(check_says(report, "domain/iova", "MGAW 39 bits"));
    /* 256 GiB ends at 258 GiB: below 512 GiB. */
    assert_status(ok, "domain/iova", VH_DOCTOR_OK);
}

static void
test_reserved_overlap(Host *host, gconstpointer data)
{
    g_autoptr(VhDomainDef) def = domain(64, "0000:00:03.0", NULL);
    g_autoptr(VhDoctorReport) report = NULL;

    /* An RMRR in low guest RAM. */
    add_file(host->fake, "kernel/iommu_groups/3/reserved_regions",
             "0x0000000000e8000 0x0000000000e8fff direct\n"
             "0x00000000fee00000 0x00000000feefffff msi\n");
    report = run(host, def);
    assert_status(report, "domain/iova", VH_DOCTOR_FAIL);
    g_assert_true(check_says(report, "domain/iova", "(direct, group 3)"));
}

/* ---- the binary ------------------------------------------------------------ */

static void
run_bin(VhTestRun *r, const Host *host, const char *input, ...)
{
    g_autoptr(GPtrArray) argv = g_ptr_array_new();
    const char *arg;
    va_list ap;

    g_ptr_array_add(argv, (char *) g_getenv("VH_CLI"));
    g_ptr_array_add(argv, (char *) "--sysfs-root");
    g_ptr_array_add(argv, (char *) vh_fake_sysfs_root(host->fake));
    g_ptr_array_add(argv, (char *) "--proc-root");
    g_ptr_array_add(argv, (char *) vh_fake_sysfs_root(host->fakeproc));
    g_ptr_array_add(argv, (char *) "--state-dir");
    g_ptr_array_add(argv, host->state_dir);
    g_ptr_array_add(argv, (char *) "doctor");
    g_ptr_array_add(argv, (char *) "--dev-root");
    g_ptr_array_add(argv, (char *) vh_fake_sysfs_root(host->fakedev));
    g_ptr_array_add(argv, (char *) "--modules-dir");
    g_ptr_array_add(argv, (char *) vh_fake_sysfs_root(host->fakemods));
    va_start(ap, input);
    while ((arg = va_arg(ap, const char *)))
        g_ptr_array_add(argv, (char *) arg);
    va_end(ap);
    g_ptr_array_add(argv, NULL);
    vh_test_run(r, (const char *const *) argv->pdata, NULL, NULL, input);
}

static void
test_cli_no_iommu(Host *host, gconstpointer data)
{
    g_auto(VhTestRun) r = { 0 };
    g_auto(VhTestRun) j = { 0 };

    run_bin(&r, host, NULL, NULL);
    g_assert_cmpint(r.status, ==, 1);
    g_assert_nonnull(strstr(r.out, "FAIL  host/iommu: no IOMMU"));
    g_assert_nonnull(strstr(r.out, "      fix: enable VT-d"));
    g_assert_cmpuint(vh_test_count_lines(r.err), ==, 1);
    g_assert_nonnull(strstr(r.err, "doctor: "));

    run_bin(&j, host, NULL, "--json", NULL);
    g_assert_cmpint(j.status, ==, 1);
    g_assert_true(g_str_has_prefix(j.out, "{\"ok\":false,\"checks\":[{\"id\":"
                                   "\"host/iommu\",\"status\":\"fail\""));
}

static void
test_cli_green(Host *host, gconstpointer data)
{
    g_auto(VhTestRun) r = { 0 };
    g_auto(VhTestRun) j = { 0 };
    g_auto(VhTestRun) tiny = { 0 };
    static const char xml[] =
        "<domain type='qemu'><name>vm1</name><memory unit='MiB'>64</memory>"
        "<os><type arch='x86_64' machine='q35'>hvm</type></os><devices>"
        "<hostdev mode='subsystem' type='pci' managed='yes'><source>"
        "<address domain='0' bus='1' slot='1' function='0'/></source>"
        "</hostdev></devices></domain>";

    run_bin(&r, host, xml, "-", "--memlock-limit", "unlimited", NULL);
    g_assert_cmpstr(r.err, ==, "");
    g_assert_cmpint(r.status, ==, 0);
    g_assert_nonnull(strstr(r.out, "OK    hostdev/0000:01:01.0/group: IOMMU "
                            "group 4: prepare holds 0000:01:02.0 (e1000) on "
                            "pci-stub\n"));

    run_bin(&j, host, xml, "-", "--json", "--memlock-limit", "unlimited", NULL);
    g_assert_cmpint(j.status, ==, 0);
    g_assert_true(g_str_has_prefix(j.out, "{\"ok\":true,"));

    run_bin(&tiny, host, xml, "-", "--memlock-limit", "65536", NULL);
    g_assert_cmpint(tiny.status, ==, 1);
    g_assert_nonnull(strstr(tiny.out, "FAIL  domain/memlock: QEMU needs "
                            NEED_64M " bytes"));
}

static void
test_cli_bad_input(Host *host, gconstpointer data)
{
    g_auto(VhTestRun) xml = { 0 };
    g_auto(VhTestRun) limit = { 0 };
    g_auto(VhTestRun) args = { 0 };

    run_bin(&xml, host, "<domain><name>x</name", "-", NULL);
    g_assert_cmpint(xml.status, ==, 2);
    g_assert_cmpstr(xml.out, ==, "");
    g_assert_cmpuint(vh_test_count_lines(xml.err), ==, 1);

    run_bin(&limit, host, NULL, "--memlock-limit", "lots", NULL);
    g_assert_cmpint(limit.status, ==, 2);
    g_assert_nonnull(strstr(limit.err, "--memlock-limit 'lots'"));
    g_assert_cmpuint(vh_test_count_lines(limit.err), ==, 1);

    run_bin(&args, host, NULL, "a.xml", "b.xml", NULL);
    g_assert_cmpint(args.status, ==, 2);
    g_assert_cmpuint(vh_test_count_lines(args.err), ==, 1);
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_summary("doctor: the read-only preflight's checks on fake hosts");

#define ADD(path, setup, fn) \
    g_test_add(path, Host, NULL, setup, fn, host_teardown)
    ADD("/doctor/host/no-iommu", host_setup_bare, test_no_iommu);
    ADD("/doctor/host/green", host_setup_good, test_host_green);
    ADD("/doctor/host/irq-remap-off", host_setup_good, test_irq_remap_off);
    ADD("/doctor/host/modules-on-disk", host_setup_bare, test_modules_on_disk);
    ADD("/doctor/host/dev-vfio-missing", host_setup_good, test_dev_vfio_missing);
    ADD("/doctor/host/pending-journal", host_setup_good, test_pending_journal);
    ADD("/doctor/domain/edu-green", host_setup_good, test_edu_green);
    ADD("/doctor/domain/peer-held", host_setup_good, test_peer_held);
    ADD("/doctor/domain/driver-name-control", host_setup_good,
        test_driver_name_control);
    ADD("/doctor/domain/peer-host-critical", host_setup_good,
        test_peer_host_critical);
    ADD("/doctor/domain/memlock-tiny", host_setup_good, test_memlock_tiny);
    ADD("/doctor/domain/missing-device", host_setup_good, test_missing_device);
    ADD("/doctor/domain/rom", host_setup_good, test_rom);
    ADD("/doctor/domain/owned-by-another", host_setup_good,
        test_owned_by_another);
    ADD("/doctor/domain/ram-beyond-width", host_setup_good,
        test_ram_beyond_width);
    ADD("/doctor/domain/reserved-overlap", host_setup_good,
        test_reserved_overlap);
    ADD("/doctor/cli/no-iommu", host_setup_bare, test_cli_no_iommu);
    ADD("/doctor/cli/green", host_setup_good, test_cli_green);
    ADD("/doctor/cli/bad-input", host_setup_good, test_cli_bad_input);
#undef ADD
    return g_test_run();
}
