/*
 * test-host-usage.c: which PCI devices the host lives on, found in fake
 * sysfs and proc trees
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "vh-error.h"
#include "vh-fake-sysfs.h"
#include "vh-host-usage.h"
#include "vh-sysfs.h"

/* An AHCI controller with its ICH9 group peers, two NICs behind a bridge,
 * a VGA device, two NVMe controllers. */
static const VhFakePciDevice host_devs[] = {
    VH_FAKE_PCI("0000:00:00.0", 0x8086, 0x29c0, 0x060000, .group = 0),
    VH_FAKE_PCI("0000:00:01.0", 0x1234, 0x1111, 0x030000, .group = 1,
                .driver = "bochs-drm"),
    VH_FAKE_PCI("0000:00:04.0", 0x1b36, 0x000e, 0x060400, .group = 4),
    VH_FAKE_PCI("0000:01:01.0", 0x8086, 0x100e, 0x020000, .group = 4,
                .parent = "0000:00:04.0", .driver = "e1000"),
    VH_FAKE_PCI("0000:01:02.0", 0x8086, 0x100e, 0x020000, .group = 4,
                .parent = "0000:00:04.0", .driver = "e1000"),
    VH_FAKE_PCI("0000:00:05.0", 0x1b36, 0x0010, 0x010802, .group = 5,
                .driver = "nvme"),
    VH_FAKE_PCI("0000:00:06.0", 0x1b36, 0x0010, 0x010802, .group = 7,
                .driver = "nvme"),
    VH_FAKE_PCI("0000:00:1f.0", 0x8086, 0x2918, 0x060100, .group = 6,
                .driver = "lpc_ich"),
    VH_FAKE_PCI("0000:00:1f.2", 0x8086, 0x2922, 0x010601, .group = 6,
                .driver = "ahci"),
    VH_FAKE_PCI("0000:00:1f.3", 0x8086, 0x2930, 0x0c0500, .group = 6,
                .driver = "i801_smbus"),
};

#define SATA_PATH "ata1/host0/target0:0:0/0:0:0:0/block"

/* What mountinfo always has and no device carries. */
#define PSEUDO_MOUNTS \
    "22 1 0:21 / /proc rw,relatime shared:5 - proc proc rw\n" \
    "23 1 0:22 / /sys rw,relatime shared:6 - sysfs sysfs rw\n" \
    "24 1 0:23 / /run rw,nosuid shared:7 - tmpfs tmpfs rw,mode=755\n"

typedef struct {
    VhFakeSysfs *fake;
    VhSysfs *sysfs;
    char *procdir;
    VhSysfs *proc;
} Fixture;

static int
remove_one(const char *path, const struct stat *st, int flag,
           struct FTW *ftw)
{
    if (remove(path) < 0)
        g_debug("cannot remove %s: %s", path, g_strerror(errno));
    return 0;
}

static void
fixture_setup(Fixture *fx, gconstpointer data)
{
    g_autoptr(GError) err = NULL;

    fx->fake = vh_fake_sysfs_new(host_devs, G_N_ELEMENTS(host_devs), &err);
    g_assert_no_error(err);
    fx->sysfs = vh_sysfs_new(vh_fake_sysfs_root(fx->fake), &err);
    g_assert_no_error(err);
    fx->procdir = g_dir_make_tmp("vh-fake-proc-XXXXXX", &err);
    g_assert_no_error(err);
    fx->proc = vh_sysfs_new(fx->procdir, &err);
    g_assert_no_error(err);
}

static void
fixture_teardown(Fixture *fx, gconstpointer data)
{
    vh_sysfs_free(fx->proc);
    if (!g_getenv("VH_FAKE_SYSFS_KEEP"))
        nftw(fx->procdir, remove_one, 16, FTW_DEPTH | FTW_PHYS);
    g_free(fx->procdir);
    vh_sysfs_free(fx->sysfs);
    vh_fake_sysfs_free(fx->fake);
}

/* Write @len bytes of @text (-1: all) to @relpath of the fake proc. */
static void
proc_write_len(Fixture *fx, const char *relpath, const char *text,
               gssize len)
{
    g_autofree char *path = g_build_filename(fx->procdir, relpath, NULL);
    g_autofree char *dir = g_path_get_dirname(path);
    g_autoptr(GError) err = NULL;

    g_assert_cmpint(g_mkdir_with_parents(dir, 0755), ==, 0);
    g_file_set_contents(path, text, len, &err);
    g_assert_no_error(err);
}

static void
proc_write(Fixture *fx, const char *relpath, const char *text)
{
    proc_write_len(fx, relpath, text, -1);
}

static void
fake_file(Fixture *fx, const char *relpath, const char *contents)
{
    g_autoptr(GError) err = NULL;

    g_assert_true(vh_fake_sysfs_add_file(fx->fake, relpath, contents, &err));
    g_assert_no_error(err);
}

static void
fake_link(Fixture *fx, const char *relpath, const char *target)
{
    g_autoptr(GError) err = NULL;

    g_assert_true(vh_fake_sysfs_add_raw_link(fx->fake, relpath, target, &err));
    g_assert_no_error(err);
}

static void
add_block(Fixture *fx, const VhFakeBlockDevice *blk)
{
    g_autoptr(GError) err = NULL;

    g_assert_true(vh_fake_sysfs_add_block(fx->fake, blk, &err));
    g_assert_no_error(err);
}

static void
add_net(Fixture *fx, const VhFakeNetDevice *net)
{
    g_autoptr(GError) err = NULL;

    g_assert_true(vh_fake_sysfs_add_net(fx->fake, net, &err));
    g_assert_no_error(err);
}

/* sda on the AHCI controller, partitions sda1-3 (8:1-8:3). */
static void
add_sata_disk(Fixture *fx)
{
    add_block(fx, &(VhFakeBlockDevice) {
        .name = "sda", .parent = "0000:00:1f.2", .path = SATA_PATH,
        .major = 8, .minor = 0, .partitions = { "sda1", "sda2", "sda3" },
    });
}

/* eth0 on 01:01.0, eth1 on 01:02.0, both behind the bridge 00:04.0. */
static void
add_nics(Fixture *fx)
{
    add_net(fx, &(VhFakeNetDevice) { .name = "eth0",
                                     .parent = "0000:01:01.0" });
    add_net(fx, &(VhFakeNetDevice) { .name = "eth1",
                                     .parent = "0000:01:02.0" });
    add_net(fx, &(VhFakeNetDevice) { .name = "lo" });
}

static VhHostUsage *
scan(Fixture *fx)
{
    g_autoptr(GError) err = NULL;
    VhHostUsage *usage = vh_host_usage_scan(fx->sysfs, fx->proc, &err);

    g_assert_no_error(err);
    g_assert_nonnull(usage);
    return usage;
}

/* "ADDR: description" for each use in @uses, one a line. */
static char *
describe_all(GPtrArray *uses)
{
    GString *out = g_string_new(NULL);
    guint i;

    for (i = 0; i < uses->len; i++) {
        const VhHostUse *use = uses->pdata[i];
        g_autofree char *addr = vh_pci_address_to_string(&use->addr);
        g_autofree char *text = vh_host_use_describe(use);
        g_string_append_printf(out, "%s: %s\n", addr, text);
    }
    return g_string_free(out, FALSE);
}

/* describe_all() of vh_host_usage_lookup() for @addr. */
static char *
uses_of(const VhHostUsage *usage, const char *addr)
{
    g_autoptr(GPtrArray) uses = NULL;
    VhPciAddress pci;

    g_assert_true(vh_pci_address_parse(addr, &pci, NULL));
    uses = vh_host_usage_lookup(usage, &pci);
    g_assert_nonnull(uses);
    return describe_all(uses);
}

static char *
all_uses(const VhHostUsage *usage)
{
    g_autoptr(GPtrArray) uses = vh_host_usage_list(usage);

    return describe_all(uses);
}

#define assert_uses(usage, addr, expected) \
    do { \
        g_autofree char *got_ = uses_of((usage), (addr)); \
        g_assert_cmpstr(got_, ==, (expected)); \
    } while (0)

#define assert_all_uses(usage, expected) \
    do { \
        g_autofree char *got_ = all_uses(usage); \
        g_assert_cmpstr(got_, ==, (expected)); \
    } while (0)

/* An IPv4 address as /proc/net/route prints it: the __be32 with %08X. */
static char *
route_hex(const char *dotted)
{
    return g_strdup_printf("%08X", (guint32) inet_addr(dotted));
}

/* One /proc/net/route line, padded as the kernel pads it. */
static char *
route_line(const char *iface, const char *dest, const char *gw, guint flags,
           const char *mask)
{
    g_autofree char *d = route_hex(dest);
    g_autofree char *g = route_hex(gw);
    g_autofree char *m = route_hex(mask);

    return g_strdup_printf("%s\t%s\t%s\t%04X\t0\t0\t100\t%s\t0\t0\t0"
                           "                                     \n",
                           iface, d, g, flags, m);
}

#define ROUTE_HEADER \
    "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU" \
    "\tWindow\tIRTT                                                       \n"

/* RTF_* from linux/route.h, spelled out so the test does not share the
 * module's reading of them. */
#define UP 0x0001
#define GW 0x0002
#define REJECT 0x0200

/* ---- Block devices ------------------------------------------------------ */

static void
test_mount_partition(Fixture *fx, gconstpointer data)
{
    g_autoptr(VhHostUsage) usage = NULL;
    g_autoptr(GPtrArray) uses = NULL;
    const VhHostUse *use;
    VhPciAddress ahci;

    g_test_summary("A root filesystem on a partition of a SATA disk makes "
                   "the AHCI controller critical, not its group peers");
    add_sata_disk(fx);
    proc_write(fx, "self/mountinfo",
               PSEUDO_MOUNTS
               "27 1 8:2 / / rw,relatime shared:1 - ext4 /dev/sda2 rw\n"
               "30 27 8:1 / /boot rw shared:9 - ext4 /dev/sda1 rw\n"
               "31 27 8:3 / /mnt/my\\040disk rw - xfs /dev/sda3 rw\n"
               "32 30 8:1 / /boot rw shared:9 - ext4 /dev/sda1 rw\n");
    usage = scan(fx);

    assert_uses(usage, "0000:00:1f.2",
                "0000:00:1f.2: mounted filesystem / on sda2\n"
                "0000:00:1f.2: mounted filesystem /boot on sda1\n"
                "0000:00:1f.2: mounted filesystem /mnt/my disk on sda3\n");
    assert_uses(usage, "0000:00:1f.0", "");
    assert_uses(usage, "0000:00:1f.3", "");
    assert_uses(usage, "0000:01:01.0", "");

    g_assert_true(vh_pci_address_parse("0000:00:1f.2", &ahci, NULL));
    uses = vh_host_usage_lookup(usage, &ahci);
    g_assert_cmpuint(uses->len, ==, 3);
    use = uses->pdata[0];
    g_assert_true(vh_pci_address_equal(&use->addr, &ahci));
    g_assert_cmpint(use->kind, ==, VH_HOST_USE_MOUNT);
    g_assert_cmpstr(use->what, ==, "/");
    g_assert_cmpstr(use->detail, ==, "sda2");
    g_assert_null(use->via);
    use = uses->pdata[2];
    g_assert_cmpstr(use->what, ==, "/mnt/my disk");
}

static void
test_mount_source(Fixture *fx, gconstpointer data)
{
    g_autoptr(VhHostUsage) usage = NULL;

    g_test_summary("The device number finds the disk when the source does "
                   "not name it (/dev/root); the source finds it when the "
                   "number is anonymous (btrfs)");
    add_sata_disk(fx);
    add_block(fx, &(VhFakeBlockDevice) {
        .name = "nvme0n1", .parent = "0000:00:05.0", .path = "nvme/nvme0",
        .major = 259, .minor = 0, .partitions = { "nvme0n1p1" },
    });
    proc_write(fx, "self/mountinfo",
               PSEUDO_MOUNTS
               "27 1 8:2 / / rw - ext4 /dev/root rw\n"
               "40 27 0:45 /@home /home rw - btrfs /dev/nvme0n1p1 rw\n"
               "41 27 0:46 / /srv rw - btrfs /dev/disk/by-id/x rw\n");
    usage = scan(fx);

    assert_all_uses(usage,
                    "0000:00:1f.2: mounted filesystem / on sda2\n"
                    "0000:00:05.0: mounted filesystem /home on nvme0n1p1\n");
}

static void
test_mount_stacked(Fixture *fx, gconstpointer data)
{
    g_autoptr(VhHostUsage) usage = NULL;
    g_autoptr(GPtrArray) uses = NULL;
    const VhHostUse *use;

    g_test_summary("LVM over a partition and md RAID1 over two controllers "
                   "make every disk's controller critical, through slaves");
    add_sata_disk(fx);
    add_block(fx, &(VhFakeBlockDevice) {
        .name = "nvme0n1", .parent = "0000:00:05.0", .path = "nvme/nvme0",
        .major = 259, .minor = 0, .partitions = { "nvme0n1p1" },
    });
    add_block(fx, &(VhFakeBlockDevice) {
        .name = "dm-0", .major = 253, .minor = 0, .dm_name = "vg0-root",
        .slaves = { "sda2" },
    });
    add_block(fx, &(VhFakeBlockDevice) {
        .name = "dm-2", .major = 253, .minor = 2, .dm_name = "vg0-home",
        .slaves = { "dm-0" },
    });
    add_block(fx, &(VhFakeBlockDevice) {
        .name = "md0", .major = 9, .minor = 0,
        .slaves = { "sda1", "nvme0n1p1" },
    });
    proc_write(fx, "self/mountinfo",
               PSEUDO_MOUNTS
               "27 1 253:0 / / rw - ext4 /dev/mapper/vg0-root rw\n"
               "30 27 9:0 / /boot rw - ext4 /dev/md0 rw\n"
               "31 27 0:50 / /home rw - btrfs /dev/mapper/vg0-home rw\n");
    usage = scan(fx);

    assert_uses(usage, "0000:00:1f.2",
                "0000:00:1f.2: mounted filesystem / on dm-0, through sda2\n"
                "0000:00:1f.2: mounted filesystem /boot on md0, "
                "through sda1\n"
                "0000:00:1f.2: mounted filesystem /home on dm-2, "
                "through sda2\n");
    assert_uses(usage, "0000:00:05.0",
                "0000:00:05.0: mounted filesystem /boot on md0, "
                "through nvme0n1p1\n");
    assert_uses(usage, "0000:00:06.0", "");

    uses = vh_host_usage_list(usage);
    use = uses->pdata[0];
    g_assert_cmpint(use->kind, ==, VH_HOST_USE_MOUNT);
    g_assert_cmpstr(use->what, ==, "/");
    g_assert_cmpstr(use->detail, ==, "dm-0");
    g_assert_cmpstr(use->via, ==, "sda2");
}

static void
test_mount_nvme_multipath(Fixture *fx, gconstpointer data)
{
    g_autoptr(VhHostUsage) usage = NULL;
    static const char subsys[] = "devices/virtual/nvme-subsystem/nvme-subsys0";

    g_test_summary("A disk behind native NVMe multipath sits on its "
                   "subsystem; every controller of it is critical");
    fake_file(fx, "bus/pci/devices/0000:00:05.0/nvme/nvme0/dev", "241:0\n");
    fake_file(fx, "bus/pci/devices/0000:00:06.0/nvme/nvme1/dev", "241:1\n");
    fake_link(fx, "devices/virtual/nvme-subsystem/nvme-subsys0/nvme0",
              "../../../pci0000:00/0000:00:05.0/nvme/nvme0");
    fake_link(fx, "devices/virtual/nvme-subsystem/nvme-subsys0/nvme1",
              "../../../pci0000:00/0000:00:06.0/nvme/nvme1");
    add_block(fx, &(VhFakeBlockDevice) {
        .name = "nvme0n1", .path = subsys, .major = 259, .minor = 0,
        .partitions = { "nvme0n1p1", "nvme0n1p2" },
    });
    proc_write(fx, "self/mountinfo",
               PSEUDO_MOUNTS
               "27 1 259:2 / / rw - xfs /dev/nvme0n1p2 rw\n");
    usage = scan(fx);

    assert_all_uses(usage,
                    "0000:00:05.0: mounted filesystem / on nvme0n1p2, "
                    "through nvme0\n"
                    "0000:00:06.0: mounted filesystem / on nvme0n1p2, "
                    "through nvme1\n");
}

/* Writes the pseudo mounts, pauses, then the root mount, into a FIFO. */
static gpointer
mountinfo_writer(gpointer data)
{
    int fd = GPOINTER_TO_INT(data);
    g_autoptr(GString) head = g_string_new(NULL);
    static const char root[] = "200 1 8:2 / / rw - ext4 /dev/sda2 rw\n";
    guint i;

    g_assert_cmpint(fd, >=, 0);
    for (i = 0; i < 120; i++)
        g_string_append_printf(head, "%u 1 0:%u / /run/t%u rw - tmpfs t rw\n",
                               100 + i, 100 + i, i);
    g_assert_cmpuint(head->len, >, 4096);
    g_assert_cmpint(write(fd, head->str, head->len), ==, (gssize) head->len);
    g_usleep(100 * 1000);
    /* The scan's result tells whether the reader stopped early. */
    if (write(fd, root, strlen(root)) < 0)
        g_test_message("second write: %s", g_strerror(errno));
    close(fd);
    return NULL;
}

static void
test_mount_short_reads(Fixture *fx, gconstpointer data)
{
    g_autoptr(VhHostUsage) usage = NULL;
    g_autofree char *dir = g_build_filename(fx->procdir, "self", NULL);
    g_autofree char *path = g_build_filename(dir, "mountinfo", NULL);
    GThread *writer;
    int fd;

    g_test_summary("A proc file that arrives in pieces, as a seq_file's "
                   "does one page at a time, is read to its end");
    add_sata_disk(fx);
    g_assert_cmpint(g_mkdir_with_parents(dir, 0755), ==, 0);
    g_assert_cmpint(mkfifo(path, 0600), ==, 0);
    /* The writer is there before the scan opens the FIFO (O_RDWR never
     * waits): the seam opens without blocking and reads a FIFO with no
     * writer as empty. */
    fd = open(path, O_RDWR | O_CLOEXEC);
    g_assert_cmpint(fd, >=, 0);
    writer = g_thread_new("mountinfo", mountinfo_writer, GINT_TO_POINTER(fd));
    usage = scan(fx);
    g_thread_join(writer);

    assert_all_uses(usage, "0000:00:1f.2: mounted filesystem / on sda2\n");
}

static void
test_swap(Fixture *fx, gconstpointer data)
{
    g_autoptr(VhHostUsage) usage = NULL;
    g_autoptr(GPtrArray) uses = NULL;
    const VhHostUse *use;

    g_test_summary("Swap on a partition or on dm over one counts; swap "
                   "files and zram do not");
    add_sata_disk(fx);
    add_block(fx, &(VhFakeBlockDevice) {
        .name = "dm-1", .major = 253, .minor = 1, .dm_name = "vg0-swap",
        .slaves = { "sda3" },
    });
    add_block(fx, &(VhFakeBlockDevice) { .name = "zram0", .major = 252 });
    proc_write(fx, "swaps",
               "Filename\t\t\t\tType\t\tSize\t\tUsed\t\tPriority\n"
               "/dev/dm-1                               partition\t8388604"
               "\t\t0\t\t-2\n"
               "/dev/sda1                               partition\t1024"
               "\t\t0\t\t-3\n"
               "/swap\\040file                           file\t\t1048572"
               "\t\t0\t\t-4\n"
               "/dev/zram0                              partition\t4194300"
               "\t\t0\t\t100\n");
    usage = scan(fx);

    assert_all_uses(usage,
                    "0000:00:1f.2: active swap on dm-1, through sda3\n"
                    "0000:00:1f.2: active swap on sda1\n");
    uses = vh_host_usage_list(usage);
    use = uses->pdata[0];
    g_assert_cmpint(use->kind, ==, VH_HOST_USE_SWAP);
    g_assert_cmpstr(use->what, ==, "/dev/dm-1");
    g_assert_cmpstr(use->detail, ==, "dm-1");
    g_assert_cmpstr(use->via, ==, "sda3");
}

/* ---- Network ------------------------------------------------------------ */

static void
test_default_route_behind_bridge(Fixture *fx, gconstpointer data)
{
    g_autoptr(VhHostUsage) usage = NULL;
    g_autofree char *r1 = route_line("eth0", "0.0.0.0", "192.0.2.1", UP | GW,
                                     "0.0.0.0");
    g_autofree char *routes = g_strconcat(ROUTE_HEADER, r1, NULL);
    g_autoptr(GPtrArray) uses = NULL;
    const VhHostUse *use;

    g_test_summary("The NIC with the default route is critical, and the "
                   "bridge it is behind reports it; its sibling does not");
    add_nics(fx);
    proc_write(fx, "net/route", routes);
    usage = scan(fx);

    assert_uses(usage, "0000:01:01.0",
                "0000:01:01.0: default route via eth0 (gateway 192.0.2.1)\n");
    assert_uses(usage, "0000:00:04.0",
                "0000:01:01.0: default route via eth0 (gateway 192.0.2.1)\n");
    assert_uses(usage, "0000:01:02.0", "");
    assert_uses(usage, "0000:00:00.0", "");

    uses = vh_host_usage_list(usage);
    g_assert_cmpuint(uses->len, ==, 1);
    use = uses->pdata[0];
    g_assert_cmpint(use->kind, ==, VH_HOST_USE_DEFAULT_ROUTE);
    g_assert_cmpstr(use->what, ==, "eth0");
    g_assert_cmpstr(use->detail, ==, "192.0.2.1");
    g_assert_null(use->via);
}

static void
test_addressed_nic(Fixture *fx, gconstpointer data)
{
    g_autoptr(VhHostUsage) usage = NULL;
    g_autofree char *r1 = route_line("eth0", "0.0.0.0", "192.0.2.1", UP | GW,
                                     "0.0.0.0");
    g_autofree char *r2 = route_line("eth0", "192.0.2.0", "0.0.0.0", UP,
                                     "255.255.255.0");
    g_autofree char *r3 = route_line("eth1", "198.51.100.0", "0.0.0.0", UP,
                                     "255.255.254.0");
    /* Not addresses: a route through a gateway, one down, one rejecting. */
    g_autofree char *r4 = route_line("eth1", "203.0.113.0", "198.51.100.1",
                                     UP | GW, "255.255.255.0");
    g_autofree char *r5 = route_line("eth1", "10.0.0.0", "0.0.0.0", 0,
                                     "255.0.0.0");
    g_autofree char *r6 = route_line("eth1", "10.1.0.0", "0.0.0.0",
                                     UP | REJECT, "255.255.0.0");
    g_autofree char *r7 = route_line("lo", "127.0.0.0", "0.0.0.0", UP,
                                     "255.0.0.0");
    g_autofree char *routes = g_strconcat(ROUTE_HEADER, r1, r2, r3, r4, r5,
                                          r6, r7, NULL);

    g_test_summary("A NIC with a connected route counts as addressed even "
                   "without the default route; gateway, down and reject "
                   "routes do not");
    add_nics(fx);
    proc_write(fx, "net/route", routes);
    usage = scan(fx);

    assert_uses(usage, "0000:01:01.0",
                "0000:01:01.0: default route via eth0 (gateway 192.0.2.1)\n"
                "0000:01:01.0: interface eth0 has connected route "
                "192.0.2.0/24\n");
    assert_uses(usage, "0000:01:02.0",
                "0000:01:02.0: interface eth1 has connected route "
                "198.51.100.0/23\n");
}

static void
test_ipv6(Fixture *fx, gconstpointer data)
{
    g_autoptr(VhHostUsage) usage = NULL;

    g_test_summary("A global IPv6 address and an IPv6 default route count; "
                   "link-local and host addresses and lo's unreachable "
                   "default do not");
    add_nics(fx);
    proc_write(fx, "net/if_inet6",
               "20010db8000000000000000000000010 02 40 00 80     eth0\n"
               "fe800000000000000211223344556677 02 40 20 80     eth0\n"
               "fe800000000000000211223344556688 03 40 20 80     eth1\n"
               "00000000000000000000000000000001 01 80 10 80       lo\n");
    proc_write(fx, "net/ipv6_route",
               "fe800000000000000000000000000000 40 "
               "00000000000000000000000000000000 00 "
               "00000000000000000000000000000000 00000100 00000001 "
               "00000000 00000001     eth1\n"
               "00000000000000000000000000000000 00 "
               "00000000000000000000000000000000 00 "
               "fe800000000000000000000000000001 00000400 00000002 "
               "00000000 00000003     eth0\n"
               "00000000000000000000000000000000 00 "
               "00000000000000000000000000000000 00 "
               "00000000000000000000000000000000 ffffffff 00000001 "
               "00000000 00200200       lo\n"
               "00000000000000000000000000000000 00 "
               "00000000000000000000000000000000 00 "
               "00000000000000000000000000000000 ffffffff 00000001 "
               "00000000 00000201     eth1\n");
    usage = scan(fx);

    assert_uses(usage, "0000:01:01.0",
                "0000:01:01.0: default route via eth0 (gateway fe80::1)\n"
                "0000:01:01.0: interface eth0 has address "
                "2001:db8::10/64\n");
    assert_uses(usage, "0000:01:02.0", "");
}

static void
test_net_stacked(Fixture *fx, gconstpointer data)
{
    g_autoptr(VhHostUsage) usage = NULL;
    g_autofree char *r1 = route_line("br0", "0.0.0.0", "192.0.2.1", UP | GW,
                                     "0.0.0.0");
    g_autofree char *r2 = route_line("eth0.100", "198.51.100.0", "0.0.0.0",
                                     UP, "255.255.255.0");
    g_autofree char *routes = g_strconcat(ROUTE_HEADER, r1, r2, NULL);

    g_test_summary("A route on a bridge over a bond reaches both NICs "
                   "through lower_* links; one on a VLAN reaches its NIC");
    add_nics(fx);
    add_net(fx, &(VhFakeNetDevice) { .name = "bond0",
                                     .lowers = { "eth0", "eth1" } });
    add_net(fx, &(VhFakeNetDevice) { .name = "br0", .lowers = { "bond0" } });
    add_net(fx, &(VhFakeNetDevice) { .name = "eth0.100",
                                     .lowers = { "eth0" } });
    proc_write(fx, "net/route", routes);
    usage = scan(fx);

    assert_uses(usage, "0000:00:04.0",
                "0000:01:01.0: default route via br0 (gateway 192.0.2.1), "
                "through eth0\n"
                "0000:01:02.0: default route via br0 (gateway 192.0.2.1), "
                "through eth1\n"
                "0000:01:01.0: interface eth0.100 has connected route "
                "198.51.100.0/24, through eth0\n");
    assert_uses(usage, "0000:01:02.0",
                "0000:01:02.0: default route via br0 (gateway 192.0.2.1), "
                "through eth1\n");
}

/* ---- Console ------------------------------------------------------------ */

static void
test_console_drm(Fixture *fx, gconstpointer data)
{
    g_autoptr(VhHostUsage) usage = NULL;
    g_autoptr(GError) err = NULL;

    g_test_summary("A framebuffer under a PCI device makes it critical; "
                   "fbcon is not a framebuffer, even with a boot VGA");
    g_assert_true(vh_fake_sysfs_add_fb(fx->fake, "0000:00:01.0", "fb0", &err));
    g_assert_no_error(err);
    fake_file(fx, "bus/pci/devices/0000:00:01.0/boot_vga", "1\n");
    fake_file(fx, "devices/virtual/graphics/fbcon/rotate", "0\n");
    fake_link(fx, "class/graphics/fbcon",
              "../../devices/virtual/graphics/fbcon");
    usage = scan(fx);

    assert_all_uses(usage, "0000:00:01.0: console framebuffer fb0\n");
}

static void
test_console_firmware(Fixture *fx, gconstpointer data)
{
    g_autoptr(VhHostUsage) usage = NULL;
    g_autoptr(VhHostUsage) without = NULL;
    g_autoptr(GError) err = NULL;

    g_test_summary("A firmware framebuffer (efifb) belongs to the boot VGA "
                   "device, and to nothing when there is none");
    g_assert_true(vh_fake_sysfs_add_fb(fx->fake, NULL, "fb0", &err));
    g_assert_no_error(err);
    without = scan(fx);
    assert_all_uses(without, "");

    fake_file(fx, "bus/pci/devices/0000:00:01.0/boot_vga", "1\n");
    fake_file(fx, "bus/pci/devices/0000:00:00.0/boot_vga", "0\n");
    usage = scan(fx);
    assert_all_uses(usage,
                    "0000:00:01.0: console framebuffer fb0 (firmware "
                    "framebuffer on the boot VGA device)\n");
}

/* ---- Absence, garbage, escapes, errors ---------------------------------- */

static void
test_nothing(Fixture *fx, gconstpointer data)
{
    g_autoptr(VhHostUsage) usage = NULL;
    g_autoptr(GPtrArray) unknown = NULL;
    g_autofree char *lo = NULL;
    g_autofree char *routes = NULL;
    VhPciAddress addr = { .domain = 0x10, .bus = 1 };
    gsize i;

    g_test_summary("Nothing mounted, no routes: no device is critical, and "
                   "an address not in the tree has no uses");
    add_sata_disk(fx);
    add_nics(fx);
    lo = route_line("lo", "127.0.0.0", "0.0.0.0", UP, "255.0.0.0");
    routes = g_strconcat(ROUTE_HEADER, lo, NULL);
    proc_write(fx, "self/mountinfo", PSEUDO_MOUNTS);
    proc_write(fx, "swaps", "Filename\tType\tSize\tUsed\tPriority\n");
    proc_write(fx, "net/route", routes);
    proc_write(fx, "net/ipv6_route", "");
    proc_write(fx, "net/if_inet6",
               "00000000000000000000000000000001 01 80 10 80       lo\n");
    usage = scan(fx);

    assert_all_uses(usage, "");
    for (i = 0; i < G_N_ELEMENTS(host_devs); i++)
        assert_uses(usage, host_devs[i].address, "");
    unknown = vh_host_usage_lookup(usage, &addr);
    g_assert_nonnull(unknown);
    g_assert_cmpuint(unknown->len, ==, 0);
}

static void
test_missing_proc(Fixture *fx, gconstpointer data)
{
    g_autoptr(VhHostUsage) usage = NULL;
    g_autoptr(GError) err = NULL;
    g_autoptr(VhFakeSysfs) bare = NULL;
    g_autoptr(VhSysfs) bare_sysfs = NULL;

    g_test_summary("Missing proc files, a missing net/ and a sysfs without "
                   "class/ directories mean no uses, not errors");
    add_sata_disk(fx);
    add_nics(fx);
    proc_write(fx, "self/mountinfo",
               "27 1 8:2 / / rw - ext4 /dev/sda2 rw\n");
    usage = scan(fx);
    assert_all_uses(usage, "0000:00:1f.2: mounted filesystem / on sda2\n");
    g_clear_pointer(&usage, vh_host_usage_free);

    bare = vh_fake_sysfs_new(host_devs, 1, &err);
    g_assert_no_error(err);
    bare_sysfs = vh_sysfs_new(vh_fake_sysfs_root(bare), &err);
    g_assert_no_error(err);
    usage = vh_host_usage_scan(bare_sysfs, fx->proc, &err);
    g_assert_no_error(err);
    assert_all_uses(usage, "");
}

static void
test_malformed(Fixture *fx, gconstpointer data)
{
    g_autoptr(VhHostUsage) usage = NULL;
    g_autofree char *good = route_line("eth0", "0.0.0.0", "192.0.2.1",
                                       UP | GW, "0.0.0.0");
    g_autofree char *holes = route_line("eth1", "10.0.0.0", "0.0.0.0", UP,
                                        "255.0.255.0");
    g_autofree char *escape = route_line("../../../etc", "0.0.0.0", "0.0.0.0",
                                         UP, "0.0.0.0");
    g_autofree char *routes = NULL;
    static const char mounts[] =
        "garbage\n"
        "\n"
        "27 1 8:2 / / rw - ext4\n"                      /* no source */
        "28 1 8 / /a rw - ext4 /dev/sda1 rw\n"          /* bad devnum */
        "29 1 x:y / /b rw - ext4 /dev/sda1 rw\n"
        "30 1 99999999999:1 / /c rw - ext4 /dev/sda1 rw\n"
        "31 1 8:1 / /d rw no-separator ext4 /dev/sda1 rw\n"
        "32 1 0:60 / /e rw - ext4 /dev/../../etc/passwd rw\n"
        "33 1 0:61 / /f rw - ext4 /dev/mapper/../sda1 rw\n"
        "34 1 0:62 / /g\\ rw - ext4 /dev/sda1\\ rw\n"   /* stray backslash */
        "35 1 8:3 / /h\\000i rw - ext4 /dev/sda3 rw\n"  /* \000 kept */
        "36 1 8:2 / / rw,relatime - ext4 /dev/sda2 rw\n";
    static const char swaps[] =
        "Filename Type Size Used Priority\n"
        "/dev/sda1\n"
        "partition\n";
    static const char if_inet6[] =
        "2001db8 02 40 00 80 eth0\n"
        "20010db800000000000000000000zz10 02 40 00 80 eth0\n"
        "20010db8000000000000000000000010 02 40 00\n"
        "20010db8000000000000000000000010 02 40 xx 80 eth0\n"
        "20010db8000000000000000000000010 02 40 00 80 ..\n"
        "20010db8000000000000000000000011 02 40 00 80 eth1\n";
    static const char with_nul[] =
        "27 1 8:1 / /boot\0rw - ext4 /dev/sda1 rw\n"
        "28 1 8:2 / / rw - ext4 /dev/sda2 rw\n";

    g_test_summary("Malformed proc lines are skipped one by one; the good "
                   "lines around them still count");
    add_sata_disk(fx);
    add_nics(fx);
    routes = g_strconcat(ROUTE_HEADER, "eth0 00000000\n",
                         "eth0\tnothex\t00000000\t0003\t0\t0\t0\t00000000\n",
                         holes, escape, good, NULL);
    proc_write(fx, "self/mountinfo", mounts);
    proc_write(fx, "swaps", swaps);
    proc_write(fx, "net/route", routes);
    proc_write(fx, "net/ipv6_route", "00 00 00\nnot a route at all\n");
    proc_write(fx, "net/if_inet6", if_inet6);
    usage = scan(fx);

    assert_all_uses(usage,
                    "0000:00:1f.2: mounted filesystem /h\\000i on sda3\n"
                    "0000:00:1f.2: mounted filesystem / on sda2\n"
                    "0000:01:01.0: default route via eth0 (gateway 192.0.2.1)\n"
                    "0000:01:02.0: interface eth1 has address "
                    "2001:db8::11/64\n");
    g_clear_pointer(&usage, vh_host_usage_free);

    /* A NUL byte drops its line, not the file. */
    proc_write_len(fx, "self/mountinfo", with_nul, sizeof(with_nul) - 1);
    usage = scan(fx);
    assert_all_uses(usage,
                    "0000:00:1f.2: mounted filesystem / on sda2\n"
                    "0000:01:01.0: default route via eth0 (gateway 192.0.2.1)\n"
                    "0000:01:02.0: interface eth1 has address "
                    "2001:db8::11/64\n");
}

#define SDX "devices/pci0000:00/0000:00:1f.2/ata1/block/sdx"

static void
test_escaping_links(Fixture *fx, gconstpointer data)
{
    g_autoptr(VhHostUsage) usage = NULL;
    g_autofree char *sys_ahci = NULL;
    g_autofree char *routes = NULL;
    g_autofree char *r1 = route_line("eth8", "0.0.0.0", "192.0.2.1", UP | GW,
                                     "0.0.0.0");
    g_autofree char *r2 = route_line("eth9", "198.51.100.0", "0.0.0.0", UP,
                                     "255.255.255.0");

    g_test_summary("class links that leave the root (by .., absolute, or a "
                   "loop) are not followed, even when they would land on a "
                   "PCI device's path");
    /* Climbs out, then back into a path that looks like the AHCI's. */
    fake_file(fx, SDX "/dev", "8:16\n");
    fake_link(fx, "class/block/sdx", "../../../../" SDX);
    fake_link(fx, "dev/block/8:16", "../../../../etc");
    /* Absolute: the fake's own AHCI directory, spelled from outside. */
    sys_ahci = vh_fake_sysfs_path(fx->fake, SDX);
    fake_link(fx, "class/block/sdy", sys_ahci);
    /* Absolute again, as if the root were / (RESOLVE_IN_ROOT would take it). */
    fake_link(fx, "class/block/sdz", "/" SDX);
    /* A loop. */
    fake_link(fx, "class/net/eth8", "eth9");
    fake_link(fx, "class/net/eth9", "eth8");
    routes = g_strconcat(ROUTE_HEADER, r1, r2, NULL);
    proc_write(fx, "self/mountinfo",
               "27 1 8:16 / / rw - ext4 /dev/sdx rw\n"
               "28 1 0:40 / /y rw - ext4 /dev/sdy rw\n"
               "29 1 0:41 / /z rw - ext4 /dev/sdz rw\n");
    proc_write(fx, "net/route", routes);
    usage = scan(fx);

    assert_all_uses(usage, "");
}

static void
test_io_error(Fixture *fx, gconstpointer data)
{
    g_autoptr(VhHostUsage) usage = NULL;
    g_autoptr(GError) err = NULL;
    g_autofree char *dir = g_build_filename(fx->procdir, "swaps", NULL);

    g_test_summary("A proc file that exists but cannot be read is an "
                   "error naming it, not an empty answer");
    g_assert_cmpint(g_mkdir(dir, 0755), ==, 0);
    usage = vh_host_usage_scan(fx->sysfs, fx->proc, &err);
    g_assert_null(usage);
    g_assert_error(err, VH_SYSFS_ERROR, VH_SYSFS_ERROR_FAILED);
    g_assert_nonnull(strstr(err->message, "swaps"));
    g_assert_true(g_str_has_prefix(err->message, "cannot tell which "
                                   "devices the host uses: "));
}

/* ---- Descriptions ------------------------------------------------------- */

static void
test_describe(void)
{
    static const struct {
        VhHostUse use;
        const char *text;
    } cases[] = {
        { { .kind = VH_HOST_USE_MOUNT, .what = "/", .detail = "vda1" },
          "mounted filesystem / on vda1" },
        { { .kind = VH_HOST_USE_MOUNT, .what = "/a\nb", .detail = "dm-0",
            .via = "sda2" },
          "mounted filesystem /a?b on dm-0, through sda2" },
        { { .kind = VH_HOST_USE_SWAP, .what = "/dev/sda3", .detail = "sda3" },
          "active swap on sda3" },
        { { .kind = VH_HOST_USE_DEFAULT_ROUTE, .what = "eth0" },
          "default route via eth0" },
        { { .kind = VH_HOST_USE_DEFAULT_ROUTE, .what = "br0",
            .detail = "192.0.2.1", .via = "eth0" },
          "default route via br0 (gateway 192.0.2.1), through eth0" },
        { { .kind = VH_HOST_USE_ADDRESS, .what = "eth0",
            .detail = "fd00::2/64" },
          "interface eth0 has address fd00::2/64" },
        { { .kind = VH_HOST_USE_ADDRESS, .what = "eth0",
            .detail = "connected route 192.0.2.0/24" },
          "interface eth0 has connected route 192.0.2.0/24" },
        { { .kind = VH_HOST_USE_CONSOLE, .what = "fb0" },
          "console framebuffer fb0" },
    };
    gsize i;

    g_test_summary("One line per use, in words a user reads");
    for (i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autofree char *text = vh_host_use_describe(&cases[i].use);
        g_assert_cmpstr(text, ==, cases[i].text);
    }
}

/* ---- The machine the tests run on --------------------------------------- */

static void
test_real_host(void)
{
    g_autoptr(GError) err = NULL;
    g_autoptr(VhSysfs) sysfs = NULL;
    g_autoptr(VhSysfs) proc = NULL;
    g_autoptr(VhHostUsage) usage = NULL;
    g_autofree char *text = NULL;

    g_test_summary("Read-only scan of this machine's /sys and /proc");
    if (g_strcmp0(g_getenv("VH_TEST_REAL_HOST"), "1") != 0) {
        g_test_skip("set VH_TEST_REAL_HOST=1 to scan this machine (read-only)");
        return;
    }
    sysfs = vh_sysfs_new("/sys", &err);
    g_assert_no_error(err);
    proc = vh_sysfs_new("/proc", &err);
    g_assert_no_error(err);
    usage = vh_host_usage_scan(sysfs, proc, &err);
    g_assert_no_error(err);
    text = all_uses(usage);
    g_test_message("host uses:\n%s", text);
}

#define ADD(path, func) \
    g_test_add("/node-device/host-usage/" path, Fixture, NULL, \
               fixture_setup, func, fixture_teardown)

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    signal(SIGPIPE, SIG_IGN);

    ADD("mount/partition", test_mount_partition);
    ADD("mount/source", test_mount_source);
    ADD("mount/stacked", test_mount_stacked);
    ADD("mount/nvme-multipath", test_mount_nvme_multipath);
    ADD("mount/short-reads", test_mount_short_reads);
    ADD("swap", test_swap);
    ADD("net/default-route-behind-bridge", test_default_route_behind_bridge);
    ADD("net/addressed", test_addressed_nic);
    ADD("net/ipv6", test_ipv6);
    ADD("net/stacked", test_net_stacked);
    ADD("console/drm", test_console_drm);
    ADD("console/firmware", test_console_firmware);
    ADD("nothing", test_nothing);
    ADD("missing-proc", test_missing_proc);
    ADD("malformed", test_malformed);
    ADD("escaping-links", test_escaping_links);
    ADD("io-error", test_io_error);
    g_test_add_func("/node-device/host-usage/describe", test_describe);
    g_test_add_func("/node-device/host-usage/real-host", test_real_host);

    return g_test_run();
}
