/*
 * vh-fake-sysfs.c: build a tree that looks like /sys from a table of devices
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#define G_LOG_DOMAIN "tests.fake-sysfs"

#include <errno.h>
#include <fcntl.h>
#include <dirent.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "vh-fake-sysfs.h"
#include "vh-pci-address.h"

struct _VhFakeSysfs {
    char *root;
    GHashTable *devdirs;    /* address -> device directory, relative */
    GHashTable *nvfs;       /* PF address -> number of VFs linked so far */
};

const char *
vh_fake_sysfs_root(const VhFakeSysfs *fake)
{
    return fake->root;
}

char *
vh_fake_sysfs_path(const VhFakeSysfs *fake, const char *relpath)
{
    return g_build_filename(fake->root, relpath, NULL);
}

/*
 * rm -r of @name in @dirfd, best effort (keeps removing the rest).  Tries
 * unlink first and reads a directory only when it is one, with the entry
 * types getdents gives: a third of nftw()'s syscalls, which counts when a
 * fuzzer builds and removes a tree per input.
 */
static void
vh_fake_sysfs_remove_at(int parent, const char *name)
{
    struct dirent *e;
    DIR *dir;
    int fd;

    if (unlinkat(parent, name, 0) == 0 || (errno != EISDIR && errno != EPERM))
        return;
    fd = openat(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0 || !(dir = fdopendir(fd))) {
        g_debug("cannot read %s: %s", name, g_strerror(errno));
        if (fd >= 0)
            close(fd);
        return;
    }
    while ((e = readdir(dir))) {
        if (g_str_equal(e->d_name, ".") || g_str_equal(e->d_name, ".."))
            continue;
        if (e->d_type == DT_DIR)
            vh_fake_sysfs_remove_at(dirfd(dir), e->d_name);
        else if (unlinkat(dirfd(dir), e->d_name, 0) < 0)
            vh_fake_sysfs_remove_at(dirfd(dir), e->d_name);
    }
    closedir(dir);
    if (unlinkat(parent, name, AT_REMOVEDIR) < 0)
        g_debug("cannot remove %s: %s", name, g_strerror(errno));
}

void
vh_fake_sysfs_free(VhFakeSysfs *fake)
{
    if (!fake)
        return;
    if (fake->root && !g_getenv("VH_FAKE_SYSFS_KEEP"))
        vh_fake_sysfs_remove_at(AT_FDCWD, fake->root);
    g_clear_pointer(&fake->devdirs, g_hash_table_unref);
    g_clear_pointer(&fake->nvfs, g_hash_table_unref);
    g_free(fake->root);
    g_free(fake);
}

/*
 * mkdir -p: tries the directory first and climbs only when its parent is
 * missing (most directories of a tree go below an existing one), which
 * costs one syscall where g_mkdir_with_parents() stats every component.
 */
static int
vh_fake_sysfs_mkdir_p(char *path)
{
    char *slash;
    int rc;

    if (mkdir(path, 0755) == 0 || errno == EEXIST)
        return 0;
    if (errno != ENOENT || !(slash = strrchr(path, '/')) || slash == path)
        return -1;
    *slash = '\0';
    rc = vh_fake_sysfs_mkdir_p(path);
    *slash = '/';
    if (rc < 0)
        return -1;
    return (mkdir(path, 0755) == 0 || errno == EEXIST) ? 0 : -1;
}

static gboolean
vh_fake_sysfs_mkdir(VhFakeSysfs *fake, const char *relpath, GError **error)
{
    g_autofree char *path = vh_fake_sysfs_path(fake, relpath);

    if (vh_fake_sysfs_mkdir_p(path) < 0) {
        int saved_errno = errno;
        g_set_error(error, G_FILE_ERROR, g_file_error_from_errno(saved_errno),
                    "cannot create %s: %s", path, g_strerror(saved_errno));
        return FALSE;
    }
    return TRUE;
}

static gboolean
vh_fake_sysfs_write(VhFakeSysfs *fake, const char *relpath, const void *data,
                    gssize len, GError **error)
{
    g_autofree char *path = vh_fake_sysfs_path(fake, relpath);

    gsize done = 0;
    int fd;

    if (len < 0)
        len = (gssize) strlen(data);
    /* A plain write, not g_file_set_contents()'s temporary file, fsync
     * and rename: four syscalls fewer per attribute.  A symlink in the
     * way is replaced, as the rename would replace it. */
    fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0644);
    if (fd < 0 && errno == ELOOP && unlink(path) == 0)
        fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC,
                  0644);
    while (fd >= 0 && done < (gsize) len) {
        ssize_t n = write(fd, (const char *) data + done, (gsize) len - done);

        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            int saved_errno = n < 0 ? errno : EIO;
            close(fd);
            fd = -1;
            errno = saved_errno;
            break;
        }
        done += (gsize) n;
    }
    if (fd < 0) {
        int saved_errno = errno;
        g_set_error(error, G_FILE_ERROR, g_file_error_from_errno(saved_errno),
                    "cannot write %s: %s", path, g_strerror(saved_errno));
        return FALSE;
    }
    close(fd);
    return TRUE;
}

/* A link at @link to @target, both relative to the root, made relative. */
static gboolean
vh_fake_sysfs_link(VhFakeSysfs *fake, const char *link, const char *target,
                   GError **error)
{
    g_autofree char *path = vh_fake_sysfs_path(fake, link);
    g_autoptr(GString) rel = g_string_new(NULL);
    const char *p;

    for (p = strchr(link, '/'); p; p = strchr(p + 1, '/'))
        g_string_append(rel, "../");
    g_string_append(rel, target);
    if (symlink(rel->str, path) < 0) {
        int saved_errno = errno;
        g_set_error(error, G_FILE_ERROR, g_file_error_from_errno(saved_errno),
                    "cannot link %s to %s: %s", path, rel->str,
                    g_strerror(saved_errno));
        return FALSE;
    }
    return TRUE;
}

/* PCI Local Bus 3.0, 6.1: the predefined header. */
static GBytes *
vh_fake_sysfs_config(const VhFakePciDevice *dev)
{
    guint8 cfg[64] = { 0 };
    gboolean bridge = (dev->class >> 8) == 0x0604;

    cfg[0x00] = dev->vendor & 0xff;
    cfg[0x01] = dev->vendor >> 8;
    cfg[0x02] = dev->device & 0xff;
    cfg[0x03] = dev->device >> 8;
    cfg[0x09] = dev->class & 0xff;              /* programming interface */
    cfg[0x0a] = (dev->class >> 8) & 0xff;       /* sub-class */
    cfg[0x0b] = (dev->class >> 16) & 0xff;      /* base class */
    cfg[0x0e] = bridge ? 0x01 : 0x00;           /* header type */
    if (!bridge) {
        cfg[0x2c] = dev->subsystem_vendor & 0xff;
        cfg[0x2d] = dev->subsystem_vendor >> 8;
        cfg[0x2e] = dev->subsystem_device & 0xff;
        cfg[0x2f] = dev->subsystem_device >> 8;
    }
    return g_bytes_new(cfg, sizeof(cfg));
}

static gboolean
vh_fake_sysfs_attrs(VhFakeSysfs *fake, const char *devdir,
                    const VhFakePciDevice *dev, GError **error)
{
    g_autoptr(GBytes) config = NULL;
    struct {
        const char *name;
        char *value;
    } attrs[] = {
        { "vendor", g_strdup_printf("0x%04x\n", dev->vendor) },
        { "device", g_strdup_printf("0x%04x\n", dev->device) },
        { "class", g_strdup_printf("0x%06x\n", dev->class) },
        { "subsystem_vendor", g_strdup_printf("0x%04x\n", dev->subsystem_vendor) },
        { "subsystem_device", g_strdup_printf("0x%04x\n", dev->subsystem_device) },
        { "numa_node", g_strdup_printf("%d\n", dev->numa_node) },
        /* pci_uevent()'s keys; no DRIVER=, which would go stale when a
         * simulated kernel moves the driver link. */
        { "uevent", g_strdup_printf("PCI_CLASS=%04X\nPCI_ID=%04X:%04X\n"
                                    "PCI_SUBSYS_ID=%04X:%04X\n"
                                    "PCI_SLOT_NAME=%s\n", dev->class,
                                    dev->vendor, dev->device,
                                    dev->subsystem_vendor,
                                    dev->subsystem_device, dev->address) },
        { "driver_override", g_strdup("(null)\n") },
        { "reset_method", dev->reset_method ?
          g_strdup_printf("%s\n", dev->reset_method) : NULL },
        /* Since 5.15 the kernel shows reset and reset_method together, when
         * it has a method (pci_reset_supported()); write-only, empty here. */
        { "reset", dev->reset_method && *dev->reset_method ? g_strdup("") : NULL },
        { "sriov_totalvfs", dev->sriov_totalvfs ?
          g_strdup_printf("%u\n", dev->sriov_totalvfs) : NULL },
        { "sriov_numvfs", dev->sriov_totalvfs ? g_strdup("0\n") : NULL },
    };
    gboolean ok = TRUE;
    gsize i;

    for (i = 0; i < G_N_ELEMENTS(attrs); i++) {
        g_autofree char *relpath = g_strdup_printf("%s/%s", devdir, attrs[i].name);
        if (ok && attrs[i].value)
            ok = vh_fake_sysfs_write(fake, relpath, attrs[i].value, -1, error);
        g_free(attrs[i].value);
    }
    if (!ok)
        return FALSE;

    if (dev->vpd) {
        g_autofree char *relpath = g_strdup_printf("%s/vpd", devdir);
        if (!vh_fake_sysfs_write(fake, relpath, dev->vpd,
                                 (gssize) dev->vpd_len, error))
            return FALSE;
    }
    if (dev->config)
        config = g_bytes_new(dev->config, dev->config_len);
    else
        config = vh_fake_sysfs_config(dev);
    {
        g_autofree char *relpath = g_strdup_printf("%s/config", devdir);
        gsize len = 0;
        const void *data = g_bytes_get_data(config, &len);
        return vh_fake_sysfs_write(fake, relpath, data, (gssize) len, error);
    }
}

static gboolean
vh_fake_sysfs_group(VhFakeSysfs *fake, const char *addr, const char *devdir,
                    int group, GError **error)
{
    g_autofree char *groupdir = g_strdup_printf("kernel/iommu_groups/%d", group);
    g_autofree char *members = g_strdup_printf("%s/devices", groupdir);
    g_autofree char *member = g_strdup_printf("%s/%s", members, addr);
    g_autofree char *link = g_strdup_printf("%s/iommu_group", devdir);

    return vh_fake_sysfs_mkdir(fake, members, error) &&
           vh_fake_sysfs_link(fake, link, groupdir, error) &&
           vh_fake_sysfs_link(fake, member, devdir, error);
}

gboolean
vh_fake_sysfs_add_driver(VhFakeSysfs *fake, const char *name, GError **error)
{
    static const char * const files[] = { "bind", "unbind", "new_id", "remove_id" };
    g_autofree char *drvdir = g_strdup_printf("bus/pci/drivers/%s", name);
    gsize i;

    if (!vh_fake_sysfs_mkdir(fake, drvdir, error))
        return FALSE;
    for (i = 0; i < G_N_ELEMENTS(files); i++) {
        g_autofree char *relpath = g_strdup_printf("%s/%s", drvdir, files[i]);
        if (!vh_fake_sysfs_write(fake, relpath, "", 0, error))
            return FALSE;
    }
    return TRUE;
}

gboolean
vh_fake_sysfs_add_link(VhFakeSysfs *fake, const char *relpath,
                       const char *target, GError **error)
{
    return vh_fake_sysfs_link(fake, relpath, target, error);
}

static gboolean
vh_fake_sysfs_driver(VhFakeSysfs *fake, const char *addr, const char *devdir,
                     const char *driver, GError **error)
{
    g_autofree char *drvdir = g_strdup_printf("bus/pci/drivers/%s", driver);
    g_autofree char *backlink = g_strdup_printf("%s/%s", drvdir, addr);
    g_autofree char *link = g_strdup_printf("%s/driver", devdir);

    return vh_fake_sysfs_add_driver(fake, driver, error) &&
           vh_fake_sysfs_link(fake, link, drvdir, error) &&
           vh_fake_sysfs_link(fake, backlink, devdir, error);
}

static gboolean
vh_fake_sysfs_physfn(VhFakeSysfs *fake, const VhFakePciDevice *dev,
                     const char *devdir, GError **error)
{
    const char *pfdir = g_hash_table_lookup(fake->devdirs, dev->physfn);
    guint n = GPOINTER_TO_UINT(g_hash_table_lookup(fake->nvfs, dev->physfn));
    g_autofree char *physfn = g_strdup_printf("%s/physfn", devdir);
    g_autofree char *virtfn = NULL;

    if (!pfdir) {
        g_set_error(error, G_FILE_ERROR, G_FILE_ERROR_INVAL,
                    "fake device %s: physfn %s is not listed before it",
                    dev->address, dev->physfn);
        return FALSE;
    }
    virtfn = g_strdup_printf("%s/virtfn%u", pfdir, n);
    g_hash_table_insert(fake->nvfs, g_strdup(dev->physfn), GUINT_TO_POINTER(n + 1));
    return vh_fake_sysfs_link(fake, physfn, pfdir, error) &&
           vh_fake_sysfs_link(fake, virtfn, devdir, error);
}

static gboolean
vh_fake_sysfs_add(VhFakeSysfs *fake, const VhFakePciDevice *dev, GError **error)
{
    g_autofree char *devdir = NULL;
    g_autofree char *buslink = NULL;
    char canon[VH_PCI_ADDRESS_BUFLEN];
    VhPciAddress addr;

    if (!vh_pci_address_parse(dev->address, &addr, error) ||
        !g_str_equal(vh_pci_address_format(&addr, canon), dev->address)) {
        g_clear_error(error);
        g_set_error(error, G_FILE_ERROR, G_FILE_ERROR_INVAL,
                    "fake device '%s': give the address as DDDD:BB:SS.F",
                    dev->address);
        return FALSE;
    }
    if (dev->parent) {
        const char *parentdir = g_hash_table_lookup(fake->devdirs, dev->parent);
        if (!parentdir) {
            g_set_error(error, G_FILE_ERROR, G_FILE_ERROR_INVAL,
                        "fake device %s: parent %s is not listed before it",
                        dev->address, dev->parent);
            return FALSE;
        }
        if (dev->parent_subdir)
            devdir = g_strdup_printf("%s/%s/%s", parentdir, dev->parent_subdir,
                                     dev->address);
        else
            devdir = g_strdup_printf("%s/%s", parentdir, dev->address);
    } else {
        devdir = g_strdup_printf("devices/pci%04x:%02x/%s", addr.domain,
                                 addr.bus, dev->address);
    }
    buslink = g_strdup_printf("bus/pci/devices/%s", dev->address);

    if (!vh_fake_sysfs_mkdir(fake, devdir, error) ||
        !vh_fake_sysfs_attrs(fake, devdir, dev, error) ||
        !vh_fake_sysfs_link(fake, buslink, devdir, error))
        return FALSE;
    if (dev->group != VH_FAKE_NO_GROUP &&
        !vh_fake_sysfs_group(fake, dev->address, devdir, dev->group, error))
        return FALSE;
    if (dev->driver &&
        !vh_fake_sysfs_driver(fake, dev->address, devdir, dev->driver, error))
        return FALSE;
    if (dev->physfn && !vh_fake_sysfs_physfn(fake, dev, devdir, error))
        return FALSE;

    g_hash_table_insert(fake->devdirs, g_strdup(dev->address),
                        g_steal_pointer(&devdir));
    return TRUE;
}

VhFakeSysfs *
vh_fake_sysfs_new(const VhFakePciDevice *devs, gsize ndevs, GError **error)
{
    g_autoptr(VhFakeSysfs) fake = g_new0(VhFakeSysfs, 1);
    gsize i;

    fake->devdirs = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    fake->nvfs = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    if (!(fake->root = g_dir_make_tmp("vh-fake-sysfs-XXXXXX", error)))
        return NULL;
    if (!vh_fake_sysfs_mkdir(fake, "bus/pci/devices", error) ||
        !vh_fake_sysfs_mkdir(fake, "bus/pci/drivers", error) ||
        !vh_fake_sysfs_mkdir(fake, "kernel", error) ||
        !vh_fake_sysfs_write(fake, "bus/pci/drivers_probe", "", 0, error))
        return NULL;
    for (i = 0; i < ndevs; i++) {
        if (!vh_fake_sysfs_add(fake, &devs[i], error))
            return NULL;
    }
    return g_steal_pointer(&fake);
}

/* ---- Class devices: block, net, graphics -------------------------------- */

gboolean
vh_fake_sysfs_add_file(VhFakeSysfs *fake, const char *relpath,
                       const char *contents, GError **error)
{
    g_autofree char *dir = g_path_get_dirname(relpath);

    if (!g_str_equal(dir, ".") && !vh_fake_sysfs_mkdir(fake, dir, error))
        return FALSE;
    return vh_fake_sysfs_write(fake, relpath, contents, -1, error);
}

gboolean
vh_fake_sysfs_add_raw_link(VhFakeSysfs *fake, const char *relpath,
                           const char *target, GError **error)
{
    g_autofree char *dir = g_path_get_dirname(relpath);
    g_autofree char *path = vh_fake_sysfs_path(fake, relpath);

    if (!g_str_equal(dir, ".") && !vh_fake_sysfs_mkdir(fake, dir, error))
        return FALSE;
    if (symlink(target, path) < 0) {
        int saved_errno = errno;
        g_set_error(error, G_FILE_ERROR, g_file_error_from_errno(saved_errno),
                    "cannot link %s to %s: %s", path, target,
                    g_strerror(saved_errno));
        return FALSE;
    }
    return TRUE;
}

/* The directory of class device @name: see VhFakeBlockDevice.path. */
static gboolean
vh_fake_sysfs_class_dir(VhFakeSysfs *fake, const char *parent,
                        const char *path, const char *pci_default,
                        const char *virtual_default, const char *name,
                        char **ret_dir, GError **error)
{
    const char *devdir;

    if (!parent) {
        *ret_dir = g_strdup_printf("%s/%s", path ? path : virtual_default,
                                   name);
        return TRUE;
    }
    devdir = g_hash_table_lookup(fake->devdirs, parent);
    if (!devdir) {
        g_set_error(error, G_FILE_ERROR, G_FILE_ERROR_INVAL,
                    "fake class device %s: PCI device %s is not in the tree",
                    name, parent);
        return FALSE;
    }
    *ret_dir = g_strdup_printf("%s/%s/%s", devdir, path ? path : pci_default,
                               name);
    return TRUE;
}

/* Where class/@cls/@name resolves to, relative to the root. */
static gboolean
vh_fake_sysfs_class_target(VhFakeSysfs *fake, const char *cls,
                           const char *name, char **ret_target,
                           GError **error)
{
    g_autofree char *relpath = g_strdup_printf("class/%s/%s", cls, name);
    g_autofree char *path = vh_fake_sysfs_path(fake, relpath);
    g_autofree char *real = realpath(path, NULL);
    g_autofree char *root = realpath(fake->root, NULL);

    if (!real || !root || !g_str_has_prefix(real, root) ||
        real[strlen(root)] != '/') {
        g_set_error(error, G_FILE_ERROR, G_FILE_ERROR_INVAL,
                    "fake class device %s/%s is not in the tree; add it first",
                    cls, name);
        return FALSE;
    }
    *ret_target = g_strdup(real + strlen(root) + 1);
    return TRUE;
}

/* A disk or partition at @dir with its dev number and class links. */
static gboolean
vh_fake_sysfs_block_node(VhFakeSysfs *fake, const char *dir, const char *name,
                         guint major, guint minor, guint partition,
                         GError **error)
{
    g_autofree char *holders = g_strdup_printf("%s/holders", dir);
    g_autofree char *slaves = g_strdup_printf("%s/slaves", dir);
    g_autofree char *devattr = g_strdup_printf("%s/dev", dir);
    g_autofree char *devnum = g_strdup_printf("%u:%u\n", major, minor);
    g_autofree char *classlink = g_strdup_printf("class/block/%s", name);
    g_autofree char *devlink = g_strdup_printf("dev/block/%u:%u", major,
                                               minor);

    if (!vh_fake_sysfs_mkdir(fake, holders, error) ||
        (!partition && !vh_fake_sysfs_mkdir(fake, slaves, error)) ||
        !vh_fake_sysfs_write(fake, devattr, devnum, -1, error) ||
        !vh_fake_sysfs_link(fake, classlink, dir, error) ||
        !vh_fake_sysfs_link(fake, devlink, dir, error))
        return FALSE;
    if (partition) {
        g_autofree char *attr = g_strdup_printf("%s/partition", dir);
        g_autofree char *value = g_strdup_printf("%u\n", partition);
        return vh_fake_sysfs_write(fake, attr, value, -1, error);
    }
    return TRUE;
}

/* @dir/@down/@lower -> @lower's directory and back with @up/@name. */
static gboolean
vh_fake_sysfs_stack(VhFakeSysfs *fake, const char *cls, const char *dir,
                    const char *name, const char *down, const char *up,
                    const char *lower, GError **error)
{
    g_autofree char *target = NULL;
    g_autofree char *link = NULL;
    g_autofree char *back = NULL;

    if (!vh_fake_sysfs_class_target(fake, cls, lower, &target, error))
        return FALSE;
    link = g_strdup_printf("%s/%s%s", dir, down, lower);
    back = g_strdup_printf("%s/%s%s", target, up, name);
    return vh_fake_sysfs_link(fake, link, target, error) &&
           vh_fake_sysfs_link(fake, back, dir, error);
}

gboolean
vh_fake_sysfs_add_block(VhFakeSysfs *fake, const VhFakeBlockDevice *blk,
                        GError **error)
{
    g_autofree char *dir = NULL;
    guint i;

    if (!vh_fake_sysfs_class_dir(fake, blk->parent, blk->path, "block",
                                 "devices/virtual/block", blk->name, &dir,
                                 error) ||
        !vh_fake_sysfs_mkdir(fake, "class/block", error) ||
        !vh_fake_sysfs_mkdir(fake, "dev/block", error) ||
        !vh_fake_sysfs_block_node(fake, dir, blk->name, blk->major,
                                  blk->minor, 0, error))
        return FALSE;
    if (blk->dm_name) {
        g_autofree char *attr = g_strdup_printf("%s/dm/name", dir);
        g_autofree char *value = g_strdup_printf("%s\n", blk->dm_name);
        if (!vh_fake_sysfs_add_file(fake, attr, value, error))
            return FALSE;
    }
    for (i = 0; i < VH_FAKE_MAX_STACK && blk->partitions[i]; i++) {
        g_autofree char *partdir = g_strdup_printf("%s/%s", dir,
                                                   blk->partitions[i]);
        if (!vh_fake_sysfs_block_node(fake, partdir, blk->partitions[i],
                                      blk->major, blk->minor + i + 1, i + 1,
                                      error))
            return FALSE;
    }
    for (i = 0; i < VH_FAKE_MAX_STACK && blk->slaves[i]; i++) {
        if (!vh_fake_sysfs_stack(fake, "block", dir, blk->name, "slaves/",
                                 "holders/", blk->slaves[i], error))
            return FALSE;
    }
    return TRUE;
}

gboolean
vh_fake_sysfs_add_net(VhFakeSysfs *fake, const VhFakeNetDevice *net,
                      GError **error)
{
    g_autofree char *dir = NULL;
    g_autofree char *classlink = NULL;
    guint i;

    if (!vh_fake_sysfs_class_dir(fake, net->parent, net->path, "net",
                                 "devices/virtual/net", net->name, &dir,
                                 error) ||
        !vh_fake_sysfs_mkdir(fake, "class/net", error) ||
        !vh_fake_sysfs_mkdir(fake, dir, error))
        return FALSE;
    classlink = g_strdup_printf("class/net/%s", net->name);
    if (!vh_fake_sysfs_link(fake, classlink, dir, error))
        return FALSE;
    if (net->parent) {
        g_autofree char *netdir = g_path_get_dirname(dir);
        g_autofree char *above = g_path_get_dirname(netdir);
        g_autofree char *link = g_strdup_printf("%s/device", dir);
        if (!vh_fake_sysfs_link(fake, link, above, error))
            return FALSE;
    }
    for (i = 0; i < VH_FAKE_MAX_STACK && net->lowers[i]; i++) {
        if (!vh_fake_sysfs_stack(fake, "net", dir, net->name, "lower_",
                                 "upper_", net->lowers[i], error))
            return FALSE;
    }
    return TRUE;
}

gboolean
vh_fake_sysfs_add_fb(VhFakeSysfs *fake, const char *parent, const char *name,
                     GError **error)
{
    g_autofree char *dir = NULL;
    g_autofree char *classlink = g_strdup_printf("class/graphics/%s", name);

    if (!vh_fake_sysfs_class_dir(fake, parent, NULL, "graphics",
                                 "devices/platform/efi-framebuffer.0/graphics",
                                 name, &dir, error) ||
        !vh_fake_sysfs_mkdir(fake, "class/graphics", error) ||
        !vh_fake_sysfs_mkdir(fake, dir, error) ||
        !vh_fake_sysfs_link(fake, classlink, dir, error))
        return FALSE;
    if (parent) {
        const char *devdir = g_hash_table_lookup(fake->devdirs, parent);
        g_autofree char *link = g_strdup_printf("%s/device", dir);
        return vh_fake_sysfs_link(fake, link, devdir, error);
    }
    return TRUE;
}
