/*
 * test-sysfs.c: the sysfs seam stays below its root and treats absence as
 * an answer
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <string.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "vh-error.h"
#include "vh-sysfs.h"
#include "vh-test-topologies.h"

typedef struct {
    VhFakeSysfs *fake;
    VhSysfs *sysfs;
} Fixture;

static void
fixture_setup(Fixture *fx, gconstpointer data)
{
    g_autoptr(GError) err = NULL;

    fx->fake = vh_fake_sysfs_new(vh_test_testbed, G_N_ELEMENTS(vh_test_testbed),
                                 &err);
    g_assert_no_error(err);
    fx->sysfs = vh_sysfs_new(vh_fake_sysfs_root(fx->fake), &err);
    g_assert_no_error(err);
}

static void
fixture_teardown(Fixture *fx, gconstpointer data)
{
    vh_sysfs_free(fx->sysfs);
    vh_fake_sysfs_free(fx->fake);
}

static void
test_new_bad_root(void)
{
    g_autoptr(GError) err = NULL;
    g_autoptr(VhSysfs) sysfs = NULL;

    sysfs = vh_sysfs_new("/nonexistent/vh-sysfs-root", &err);
    g_assert_null(sysfs);
    g_assert_error(err, VH_SYSFS_ERROR, VH_SYSFS_ERROR_INVALID);
    g_assert_nonnull(strstr(err->message, "/nonexistent/vh-sysfs-root"));
    g_clear_error(&err);

    sysfs = vh_sysfs_new("", &err);
    g_assert_null(sysfs);
    g_assert_error(err, VH_SYSFS_ERROR, VH_SYSFS_ERROR_INVALID);
}

static void
test_relpath_validation(void)
{
    g_assert_true(vh_sysfs_relpath_is_valid("bus/pci/devices"));
    g_assert_true(vh_sysfs_relpath_is_valid("a"));
    g_assert_false(vh_sysfs_relpath_is_valid(""));
    g_assert_false(vh_sysfs_relpath_is_valid(NULL));
    g_assert_false(vh_sysfs_relpath_is_valid("/bus"));
    g_assert_false(vh_sysfs_relpath_is_valid("bus//pci"));
    g_assert_false(vh_sysfs_relpath_is_valid("bus/pci/"));
    g_assert_false(vh_sysfs_relpath_is_valid("../etc"));
    g_assert_false(vh_sysfs_relpath_is_valid("bus/../../etc"));
    g_assert_false(vh_sysfs_relpath_is_valid("bus/./pci"));
}

static void
test_read(Fixture *fx, gconstpointer data)
{
    g_autoptr(GError) err = NULL;
    g_autofree char *vendor = NULL;
    g_autofree char *absent = NULL;
    g_autofree char *unset = g_strdup("untouched");
    gint64 num = 0;
    gboolean present = FALSE;

    g_assert_true(vh_sysfs_read(fx->sysfs, "bus/pci/devices/0000:01:01.0/vendor",
                                &vendor, &err));
    g_assert_no_error(err);
    g_assert_cmpstr(vendor, ==, "0x8086");

    /* Absent is an answer: TRUE and NULL. */
    g_assert_true(vh_sysfs_read(fx->sysfs, "bus/pci/devices/0000:01:01.0/nope",
                                &absent, &err));
    g_assert_no_error(err);
    g_assert_null(absent);

    g_assert_true(vh_sysfs_read_int(fx->sysfs,
                                    "bus/pci/devices/0000:01:01.0/numa_node",
                                    &num, &present, &err));
    g_assert_true(present);
    g_assert_cmpint(num, ==, -1);
    g_assert_true(vh_sysfs_read_int(fx->sysfs,
                                    "bus/pci/devices/0000:01:01.0/class",
                                    &num, &present, &err));
    g_assert_cmpint(num, ==, 0x020000);

    /* A path with '..' is refused and the output stays untouched. */
    g_assert_false(vh_sysfs_read(fx->sysfs, "bus/../../etc/passwd", &unset, &err));
    g_assert_error(err, VH_SYSFS_ERROR, VH_SYSFS_ERROR_INVALID);
    g_assert_cmpstr(unset, ==, "untouched");
}

static void
test_read_not_a_number(Fixture *fx, gconstpointer data)
{
    g_autoptr(GError) err = NULL;
    g_autofree char *path = vh_fake_sysfs_path(fx->fake,
        "bus/pci/devices/0000:01:01.0/numa_node");
    gint64 num = 42;
    gboolean present = FALSE;

    g_assert_true(g_file_set_contents(path, "banana\n", -1, NULL));
    g_assert_false(vh_sysfs_read_int(fx->sysfs,
                                     "bus/pci/devices/0000:01:01.0/numa_node",
                                     &num, &present, &err));
    g_assert_error(err, VH_SYSFS_ERROR, VH_SYSFS_ERROR_FAILED);
    g_assert_nonnull(strstr(err->message, "not a number"));
    g_assert_cmpint(num, ==, 42);
}

static void
test_read_too_big(Fixture *fx, gconstpointer data)
{
    g_autoptr(GError) err = NULL;
    g_autofree char *path = vh_fake_sysfs_path(fx->fake,
        "bus/pci/devices/0000:01:01.0/vendor");
    g_autofree char *big = g_strnfill(VH_SYSFS_ATTR_MAX + 1, 'x');
    g_autofree char *value = NULL;

    g_assert_true(g_file_set_contents(path, big, -1, NULL));
    g_assert_false(vh_sysfs_read(fx->sysfs,
                                 "bus/pci/devices/0000:01:01.0/vendor",
                                 &value, &err));
    g_assert_error(err, VH_SYSFS_ERROR, VH_SYSFS_ERROR_TOO_BIG);
    g_assert_null(value);
}

static void
test_read_bytes(Fixture *fx, gconstpointer data)
{
    g_autoptr(GError) err = NULL;
    g_autoptr(GBytes) config = NULL;
    g_autoptr(GBytes) head = NULL;
    const guint8 *p;
    gsize len = 0;

    g_assert_true(vh_sysfs_read_bytes(fx->sysfs,
                                      "bus/pci/devices/0000:00:04.0/config",
                                      4096, &config, &err));
    g_assert_no_error(err);
    p = g_bytes_get_data(config, &len);
    g_assert_cmpuint(len, ==, 64);
    g_assert_cmpuint(p[0] | p[1] << 8, ==, 0x1b36);
    g_assert_cmpuint(p[0x0e], ==, 1);   /* a bridge: type 1 header */

    g_assert_true(vh_sysfs_read_bytes(fx->sysfs,
                                      "bus/pci/devices/0000:00:04.0/config",
                                      4, &head, &err));
    g_assert_cmpuint(g_bytes_get_size(head), ==, 4);
}

static void
test_links_and_lists(Fixture *fx, gconstpointer data)
{
    g_autoptr(GError) err = NULL;
    g_autofree char *driver = NULL;
    g_autofree char *nodriver = NULL;
    g_autofree char *group = NULL;
    g_autoptr(GPtrArray) members = NULL;
    g_autoptr(GPtrArray) absent = NULL;

    g_assert_true(vh_sysfs_read_link_name(fx->sysfs,
                                          "bus/pci/devices/0000:01:02.0/driver",
                                          &driver, &err));
    g_assert_cmpstr(driver, ==, "e1000");
    g_assert_true(vh_sysfs_read_link_name(fx->sysfs,
                                          "bus/pci/devices/0000:00:03.0/driver",
                                          &nodriver, &err));
    g_assert_null(nodriver);
    g_assert_true(vh_sysfs_read_link_name(fx->sysfs,
                                          "bus/pci/devices/0000:01:02.0/iommu_group",
                                          &group, &err));
    g_assert_cmpstr(group, ==, "4");

    g_assert_true(vh_sysfs_list(fx->sysfs, "kernel/iommu_groups/4/devices",
                                &members, &err));
    g_assert_no_error(err);
    g_assert_cmpuint(members->len, ==, 3);
    g_assert_cmpstr(g_ptr_array_index(members, 0), ==, "0000:00:04.0");
    g_assert_cmpstr(g_ptr_array_index(members, 1), ==, "0000:01:01.0");
    g_assert_cmpstr(g_ptr_array_index(members, 2), ==, "0000:01:02.0");

    g_assert_true(vh_sysfs_list(fx->sysfs, "kernel/iommu_groups/99/devices",
                                &absent, &err));
    g_assert_null(absent);
}

/* What /proc needs: the root's own listing and raw link targets. */
static void
test_root_list_and_raw_link(Fixture *fx, gconstpointer data)
{
    g_autoptr(GError) err = NULL;
    g_autoptr(GPtrArray) top = NULL;
    g_autoptr(GPtrArray) dot = NULL;
    g_autofree char *target = NULL;
    g_autofree char *abs = NULL;
    g_autofree char *none = NULL;

    g_assert_true(vh_sysfs_list(fx->sysfs, "", &top, &err));
    g_assert_no_error(err);
    g_assert_true(g_ptr_array_find_with_equal_func(top, "bus", g_str_equal,
                                                   NULL));
    g_assert_true(g_ptr_array_find_with_equal_func(top, "devices", g_str_equal,
                                                   NULL));
    /* "." stays refused as a component. */
    g_assert_false(vh_sysfs_list(fx->sysfs, ".", &dot, &err));
    g_assert_error(err, VH_SYSFS_ERROR, VH_SYSFS_ERROR_INVALID);
    g_assert_null(dot);
    g_clear_error(&err);

    g_assert_true(vh_sysfs_read_link(fx->sysfs,
                                     "bus/pci/devices/0000:01:02.0/driver",
                                     &target, &err));
    g_assert_cmpstr(target, ==, "../../../../bus/pci/drivers/e1000");
    /* Absolute targets are read, never followed. */
    g_assert_true(vh_fake_sysfs_add_raw_link(fx->fake, "42/fd/7",
                                             "/dev/vfio/4", &err));
    g_assert_true(vh_sysfs_read_link(fx->sysfs, "42/fd/7", &abs, &err));
    g_assert_no_error(err);
    g_assert_cmpstr(abs, ==, "/dev/vfio/4");
    g_assert_true(vh_sysfs_read_link(fx->sysfs, "42/fd/8", &none, &err));
    g_assert_no_error(err);
    g_assert_null(none);
}

static void
test_symlink_escape(Fixture *fx, gconstpointer data)
{
    g_autoptr(GError) err = NULL;
    g_autofree char *link = vh_fake_sysfs_path(fx->fake,
        "bus/pci/devices/0000:01:01.0/evil");
    g_autofree char *dirlink = vh_fake_sysfs_path(fx->fake, "bus/escape");
    g_autofree char *value = NULL;
    g_autoptr(GPtrArray) names = NULL;

    /* A symlink in the tree that leads outside the root is not followed. */
    g_assert_cmpint(symlink("/etc/hostname", link), ==, 0);
    g_assert_false(vh_sysfs_read(fx->sysfs, "bus/pci/devices/0000:01:01.0/evil",
                                 &value, &err));
    g_assert_nonnull(err);
    g_assert_null(value);
    g_clear_error(&err);

    g_assert_cmpint(symlink("../../../../../../../../etc", dirlink), ==, 0);
    g_assert_false(vh_sysfs_list(fx->sysfs, "bus/escape", &names, &err));
    g_assert_error(err, VH_SYSFS_ERROR, VH_SYSFS_ERROR_FAILED);
    g_assert_nonnull(strstr(err->message, "outside the sysfs root"));
    g_assert_null(names);
}

static void
test_write(Fixture *fx, gconstpointer data)
{
    g_autoptr(GError) err = NULL;
    g_autofree char *value = NULL;

    g_assert_true(vh_sysfs_write(fx->sysfs,
                                 "bus/pci/devices/0000:01:01.0/driver_override",
                                 "vfio-pci", &err));
    g_assert_no_error(err);
    g_assert_true(vh_sysfs_read(fx->sysfs,
                                "bus/pci/devices/0000:01:01.0/driver_override",
                                &value, &err));
    g_assert_cmpstr(value, ==, "vfio-pci");

    /* Writing never creates files. */
    g_assert_false(vh_sysfs_write(fx->sysfs, "bus/pci/devices/0000:01:01.0/new",
                                  "x", &err));
    g_assert_error(err, VH_SYSFS_ERROR, VH_SYSFS_ERROR_NOT_FOUND);
    g_assert_false(vh_sysfs_exists(fx->sysfs, "bus/pci/devices/0000:01:01.0/new"));
}

static void
test_resolve(Fixture *fx, gconstpointer data)
{
    g_autoptr(GError) err = NULL;
    g_autofree char *chain = vh_fake_sysfs_path(fx->fake, "class/net/eth0");
    g_autofree char *classdir = vh_fake_sysfs_path(fx->fake, "class/net");
    g_autofree char *loop = vh_fake_sysfs_path(fx->fake, "class/net/loop");
    g_autofree char *up = vh_fake_sysfs_path(fx->fake, "class/net/up");
    g_autofree char *one = NULL;
    g_autofree char *full = NULL;
    g_autofree char *through = NULL;
    /* Found nothing is success with NULL: the sentinels are replaced. */
    g_autofree char *sentinel1 = g_strdup("untouched");
    g_autofree char *sentinel2 = g_strdup("untouched");
    char *looped = sentinel1;
    char *escaped = sentinel2;

    /* class/net/eth0 -> bus/pci/devices/0000:01:01.0 -> devices/... */
    g_assert_cmpint(g_mkdir_with_parents(classdir, 0755), ==, 0);
    g_assert_cmpint(symlink("../../bus/pci/devices/0000:01:01.0", chain), ==, 0);
    g_assert_cmpint(symlink("loop", loop), ==, 0);
    g_assert_cmpint(symlink("../../..", up), ==, 0);

    /* One link, its target taken as text. */
    g_assert_true(vh_sysfs_resolve_link(fx->sysfs, "class/net/eth0", &one, &err));
    g_assert_cmpstr(one, ==, "bus/pci/devices/0000:01:01.0");
    /* Every link on the way. */
    g_assert_true(vh_sysfs_resolve_path(fx->sysfs, "class/net/eth0", &full, &err));
    g_assert_no_error(err);
    g_assert_cmpstr(full, ==, "devices/pci0000:00/0000:00:04.0/0000:01:01.0");
    g_assert_true(vh_sysfs_resolve_path(fx->sysfs, "class/net/eth0/driver",
                                        &through, &err));
    g_assert_cmpstr(through, ==, "bus/pci/drivers/e1000");

    /* Loops and climbs out of the root are not followed. */
    g_assert_true(vh_sysfs_resolve_path(fx->sysfs, "class/net/loop", &looped, &err));
    g_assert_null(looped);
    g_assert_true(vh_sysfs_resolve_path(fx->sysfs, "class/net/up/x", &escaped, &err));
    g_assert_null(escaped);
    g_assert_no_error(err);
}

/* A stream that returns short reads before its end (as a procfs seq_file
 * does) is read to the end by vh_sysfs_read_file() only. */
static void
test_read_file_stream(Fixture *fx, gconstpointer data)
{
    g_autoptr(GError) err = NULL;
    g_autoptr(GBytes) whole = NULL;
    g_autoptr(GBytes) big = NULL;
    g_autofree char *fifo = vh_fake_sysfs_path(fx->fake, "stream");
    g_autofree char *file = vh_fake_sysfs_path(fx->fake, "bigfile");
    g_autofree char *content = g_strnfill(100, 'y');
    GPid pid;
    gsize len = 0;
    int fd;

    g_assert_cmpint(mkfifo(fifo, 0600), ==, 0);
    /* The writer is there before the reader opens (O_RDWR never waits):
     * the seam opens a FIFO without blocking and would read no writer
     * as an empty file. */
    fd = open(fifo, O_RDWR);
    g_assert_cmpint(fd, >=, 0);
    pid = fork();
    g_assert_cmpint(pid, >=, 0);
    if (pid == 0) {
        if (write(fd, "first part\n", 11) != 11)
            _exit(1);
        g_usleep(50 * 1000);        /* the reader sees a short read here */
        if (write(fd, "second part\n", 12) != 12)
            _exit(1);
        _exit(0);
    }
    close(fd);
    g_assert_true(vh_sysfs_read_file(fx->sysfs, "stream", 4096, &whole, &err));
    g_assert_no_error(err);
    g_assert_cmpmem(g_bytes_get_data(whole, &len), len,
                    "first part\nsecond part\n", 23);
    waitpid(pid, NULL, 0);

    g_assert_true(g_file_set_contents(file, content, -1, NULL));
    g_assert_false(vh_sysfs_read_file(fx->sysfs, "bigfile", 99, &big, &err));
    g_assert_error(err, VH_SYSFS_ERROR, VH_SYSFS_ERROR_TOO_BIG);
    g_assert_null(big);
}

/* Links read through a kept-open subdirectory resolve against the root
 * of vh_sysfs_new(), and may not climb above it. */
static void
test_subdir_resolve_link(Fixture *fx, gconstpointer data)
{
    g_autoptr(GError) err = NULL;
    g_autoptr(VhSysfs) devices = NULL;
    g_autoptr(VhSysfs) dev = NULL;
    g_autofree char *devpath = NULL;
    g_autofree char *driver = NULL;
    g_autofree char *escaped = g_strdup("untouched");
    g_autofree char *out = vh_fake_sysfs_path(fx->fake,
                                              "bus/pci/devices/0000:99:00.0");
    g_autoptr(GPtrArray) names = NULL;

    devices = vh_sysfs_open_subdir(fx->sysfs, "bus/pci/devices", &err);
    g_assert_no_error(err);
    g_assert_true(vh_sysfs_list(devices, "", &names, &err));
    g_assert_cmpuint(names->len, ==, G_N_ELEMENTS(vh_test_testbed));

    g_assert_true(vh_sysfs_resolve_link(devices, "0000:01:01.0", &devpath, &err));
    g_assert_no_error(err);
    g_assert_cmpstr(devpath, ==, "devices/pci0000:00/0000:00:04.0/0000:01:01.0");

    /* A subdirectory of the device's, by that path: links there too. */
    dev = vh_sysfs_open_subdir(fx->sysfs, devpath, &err);
    g_assert_no_error(err);
    g_assert_true(vh_sysfs_resolve_link(dev, "driver", &driver, &err));
    g_assert_cmpstr(driver, ==, "bus/pci/drivers/e1000");

    /* Five levels up from bus/pci/devices is above the root. */
    g_assert_cmpint(symlink("../../../../../etc", out), ==, 0);
    g_assert_false(vh_sysfs_resolve_link(devices, "0000:99:00.0", &escaped, &err));
    g_assert_error(err, VH_SYSFS_ERROR, VH_SYSFS_ERROR_FAILED);
    g_assert_nonnull(strstr(err->message, "outside the sysfs root"));
    g_assert_cmpstr(escaped, ==, "untouched");
}

/* Reads at offsets: only the bytes asked for, short at the end. */
static void
test_file_read_at(Fixture *fx, gconstpointer data)
{
    g_autoptr(GError) err = NULL;
    g_autoptr(VhSysfsFile) file = NULL;
    g_autoptr(VhSysfsFile) absent = (VhSysfsFile *) 0x1;
    g_autofree char *path = vh_fake_sysfs_path(fx->fake, "bytes");
    guint8 content[100];
    guint8 buf[64];
    gsize got = 0;
    gsize i;

    for (i = 0; i < sizeof(content); i++)
        content[i] = (guint8) i;
    g_assert_true(g_file_set_contents(path, (const char *) content,
                                      sizeof(content), NULL));

    g_assert_true(vh_sysfs_file_open(fx->sysfs, "missing", &absent, &err));
    g_assert_no_error(err);
    g_assert_null(absent);

    g_assert_true(vh_sysfs_file_open(fx->sysfs, "bytes", &file, &err));
    g_assert_no_error(err);
    g_assert_nonnull(file);
    g_assert_true(vh_sysfs_file_read_at(file, buf, 20, 0x40, &got, &err));
    g_assert_cmpuint(got, ==, 20);
    g_assert_cmpmem(buf, got, content + 0x40, 20);
    g_assert_true(vh_sysfs_file_read_at(file, buf, 20, 90, &got, &err));
    g_assert_cmpuint(got, ==, 10);
    g_assert_cmpmem(buf, got, content + 90, 10);
    g_assert_true(vh_sysfs_file_read_at(file, buf, 20, 200, &got, &err));
    g_assert_cmpuint(got, ==, 0);
    g_assert_no_error(err);

    /* The seam's checks hold: no "..", no links out. */
    g_assert_false(vh_sysfs_file_open(fx->sysfs, "../bytes", &file, &err));
    g_assert_error(err, VH_SYSFS_ERROR, VH_SYSFS_ERROR_INVALID);
}

#define ADD(path, fn) \
    g_test_add(path, Fixture, NULL, fixture_setup, fn, fixture_teardown)

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_summary("The sysfs seam reads, lists and writes below its root only");
    g_test_add_func("/util/sysfs/new/bad-root", test_new_bad_root);
    g_test_add_func("/util/sysfs/relpath", test_relpath_validation);
    ADD("/util/sysfs/read/text", test_read);
    ADD("/util/sysfs/read/not-a-number", test_read_not_a_number);
    ADD("/util/sysfs/read/too-big", test_read_too_big);
    ADD("/util/sysfs/read/bytes", test_read_bytes);
    ADD("/util/sysfs/links-and-lists", test_links_and_lists);
    ADD("/util/sysfs/root-list-and-raw-link", test_root_list_and_raw_link);
    ADD("/util/sysfs/symlink-escape", test_symlink_escape);
    ADD("/util/sysfs/write", test_write);
    ADD("/util/sysfs/resolve", test_resolve);
    ADD("/util/sysfs/read-file/stream", test_read_file_stream);
    ADD("/util/sysfs/subdir/resolve-link", test_subdir_resolve_link);
    ADD("/util/sysfs/file/read-at", test_file_read_at);
    return g_test_run();
}
