/*
 * vh-host-usage.c: which PCI devices the host itself lives on
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#define G_LOG_DOMAIN "node_device.host-usage"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <net/route.h>
#include <netinet/in.h>
#include <string.h>
#include <unistd.h>

#include "vh-error.h"
#include "vh-host-usage.h"

/* A routing table or mount list larger than this is refused, not half read:
 * the part left out could hold the very use we look for. */
#define VH_HOST_USAGE_PROC_MAX (64 * 1024 * 1024)
/* Symlinks followed while resolving one path, as the kernel's MAXSYMLINKS. */
/* Stacks of dm/md/bridges/bonds deeper than this are taken for a loop. */
#define VH_HOST_USAGE_MAX_DEPTH 16

typedef struct {
    VhPciAddress addr;
    char *devdir;           /* resolved: "devices/pci0000:00/0000:00:1f.2" */
} VhHostUsageDevice;

typedef struct {
    VhHostUse pub;          /* lookups hand out &entry->pub */
    char *owner_devdir;     /* "devices/pci0000:00/0000:00:1c.0/0000:02:00.0" */
} VhHostUseEntry;

struct _VhHostUsage {
    /* VhHostUsageDevice, every PCI device; read only when a firmware
     * framebuffer needs the boot VGA device (NULL until then). */
    GPtrArray *devices;
    GPtrArray *uses;        /* VhHostUseEntry, in scan order */
};

typedef struct {
    const VhSysfs *sysfs;
    const VhSysfs *proc;
    VhHostUsage *usage;
    GHashTable *seen;       /* keys of the uses added, against duplicates */
} VhHostUsageScan;

/* What lies below a device in a stack: block "slaves", net "lower_*". */
typedef enum {
    VH_HOST_USAGE_STACK_BLOCK,
    VH_HOST_USAGE_STACK_NET,
} VhHostUsageStack;

static void
vh_host_usage_device_free(gpointer data)
{
    VhHostUsageDevice *dev = data;

    g_free(dev->devdir);
    g_free(dev);
}

static void
vh_host_use_entry_free(gpointer data)
{
    VhHostUseEntry *entry = data;

    g_free(entry->pub.what);
    g_free(entry->pub.detail);
    g_free(entry->pub.via);
    g_free(entry->owner_devdir);
    g_free(entry);
}

void
vh_host_usage_free(VhHostUsage *usage)
{
    if (!usage)
        return;
    if (usage->uses)
        g_ptr_array_unref(usage->uses);
    if (usage->devices)
        g_ptr_array_unref(usage->devices);
    g_free(usage);
}

/* ---- Paths -------------------------------------------------------------- */

/* A name from /proc that we turn into one sysfs path component. */
static gboolean
vh_host_usage_name_is_safe(const char *name)
{
    return name && *name && strlen(name) < NAME_MAX && !strchr(name, '/') &&
           !g_str_equal(name, ".") && !g_str_equal(name, "..");
}

static const char *
vh_host_usage_basename(const char *path)
{
    const char *slash = strrchr(path, '/');

    return slash ? slash + 1 : path;
}

/* ---- Reading /proc ------------------------------------------------------ */

/*
 * The lines of a proc file, NULL when it is absent.  A line holding a NUL
 * byte is dropped: no proc file we read has one.
 * Free with g_ptr_array_unref().
 */
static gboolean
vh_host_usage_read_lines(const VhSysfs *proc, const char *relpath,
                         GPtrArray **ret_lines, GError **error)
{
    g_autoptr(GBytes) data = NULL;
    g_autoptr(GPtrArray) lines = NULL;
    const char *p;
    const char *end;
    gsize len = 0;

    /* Read to the end: a seq_file returns a page per read. */
    if (!vh_sysfs_read_file(proc, relpath, VH_HOST_USAGE_PROC_MAX, &data, error))
        return FALSE;
    if (!data) {
        g_debug("%s is absent; nothing of that kind", relpath);
        *ret_lines = NULL;
        return TRUE;
    }

    lines = g_ptr_array_new_with_free_func(g_free);
    p = g_bytes_get_data(data, &len);
    if (len == 0) {
        *ret_lines = g_steal_pointer(&lines);
        return TRUE;
    }
    end = p + len;
    while (p < end) {
        const char *nl = memchr(p, '\n', (gsize) (end - p));
        const char *eol = nl ? nl : end;

        if (memchr(p, '\0', (gsize) (eol - p)))
            g_debug("%s: skipping a line with a NUL byte", relpath);
        else
            g_ptr_array_add(lines, g_strndup(p, (gsize) (eol - p)));
        p = eol + 1;
    }
    *ret_lines = g_steal_pointer(&lines);
    return TRUE;
}

/* Whitespace-separated fields, empty ones dropped.  Free with g_strfreev(). */
static GStrv
vh_host_usage_split(const char *line)
{
    g_auto(GStrv) raw = g_strsplit_set(line, " \t", -1);
    g_autoptr(GStrvBuilder) fields = g_strv_builder_new();
    guint i;

    for (i = 0; raw[i]; i++) {
        if (*raw[i])
            g_strv_builder_add(fields, raw[i]);
    }
    return g_strv_builder_end(fields);
}

static gboolean
vh_host_usage_is_odigit(char c)
{
    return c >= '0' && c <= '7';
}

/* Undo the kernel's octal escapes in mountinfo and swaps ("\040" for a
 * space).  Anything else, and "\000", is kept as it is. */
static char *
vh_host_usage_unescape(const char *str)
{
    GString *out = g_string_sized_new(strlen(str));
    const char *p = str;

    while (*p) {
        if (p[0] == '\\' && vh_host_usage_is_odigit(p[1]) &&
            vh_host_usage_is_odigit(p[2]) && vh_host_usage_is_odigit(p[3])) {
            int value = (p[1] - '0') * 64 + (p[2] - '0') * 8 + (p[3] - '0');
            if (value > 0 && value <= 0xff) {
                g_string_append_c(out, (char) value);
                p += 4;
                continue;
            }
        }
        g_string_append_c(out, *p++);
    }
    return g_string_free(out, FALSE);
}

static gboolean
vh_host_usage_parse_hex(const char *str, guint64 max, guint64 *ret_value)
{
    return g_ascii_string_to_unsigned(str, 16, 0, max, ret_value, NULL);
}

/* 32 hex digits, as /proc/net/ipv6_route and if_inet6 print addresses. */
static gboolean
vh_host_usage_parse_in6(const char *str, struct in6_addr *ret_addr)
{
    struct in6_addr addr;
    guint i;

    if (strlen(str) != 32)
        return FALSE;
    for (i = 0; i < 16; i++) {
        int hi = g_ascii_xdigit_value(str[2 * i]);
        int lo = g_ascii_xdigit_value(str[2 * i + 1]);
        if (hi < 0 || lo < 0)
            return FALSE;
        addr.s6_addr[i] = (guint8) (hi << 4 | lo);
    }
    *ret_addr = addr;
    return TRUE;
}

static char *
vh_host_usage_format_in6(const struct in6_addr *addr)
{
    char buf[INET6_ADDRSTRLEN];

    return g_strdup(inet_ntop(AF_INET6, addr, buf, sizeof(buf)));
}

/* /proc/net/route prints each __be32 with %08X, reading its bytes as a
 * host-order integer; parsing the text back gives those bytes again, so
 * @be_addr is in network order on hosts of either byte order. */
static char *
vh_host_usage_format_in4(guint32 be_addr)
{
    struct in_addr addr = { .s_addr = be_addr };
    char buf[INET_ADDRSTRLEN];

    return g_strdup(inet_ntop(AF_INET, &addr, buf, sizeof(buf)));
}

typedef gboolean (*VhHostUsageLineFunc)(VhHostUsageScan *scan,
                                        const char *line, GError **error);

static gboolean
vh_host_usage_scan_file(VhHostUsageScan *scan, const char *relpath,
                        VhHostUsageLineFunc func, GError **error)
{
    g_autoptr(GPtrArray) lines = NULL;
    guint i;

    if (!vh_host_usage_read_lines(scan->proc, relpath, &lines, error))
        return FALSE;
    for (i = 0; lines && i < lines->len; i++) {
        if (!func(scan, lines->pdata[i], error))
            return FALSE;
    }
    return TRUE;
}

/* ---- Attributing uses --------------------------------------------------- */

static gboolean
vh_host_usage_load_devices(VhHostUsageScan *scan, GError **error)
{
    g_autoptr(GPtrArray) names = NULL;
    guint i;

    if (!vh_sysfs_list(scan->sysfs, "bus/pci/devices", &names, error))
        return FALSE;
    for (i = 0; names && i < names->len; i++) {
        g_autofree char *relpath = NULL;
        g_autofree char *devdir = NULL;
        VhHostUsageDevice *dev;
        VhPciAddress addr;

        if (!vh_pci_address_parse(names->pdata[i], &addr, NULL)) {
            g_debug("bus/pci/devices/%s is not a PCI address; skipped",
                    (char *) names->pdata[i]);
            continue;
        }
        relpath = vh_sysfs_pci_device_relpath(&addr, NULL);
        if (!vh_sysfs_resolve_path(scan->sysfs, relpath, &devdir, error))
            return FALSE;
        if (!devdir)
            continue;
        dev = g_new0(VhHostUsageDevice, 1);
        dev->addr = addr;
        dev->devdir = g_steal_pointer(&devdir);
        g_ptr_array_add(scan->usage->devices, dev);
    }
    return TRUE;
}

/*
 * The component at @comp (@len bytes) of a device path is a PCI device's
 * directory: the kernel names those by their canonical address
 * ("0000:02:00.0"), which nothing else in devices/ is named like.
 */
static gboolean
vh_host_usage_component_address(const char *comp, gsize len,
                                VhPciAddress *ret_addr)
{
    char name[VH_PCI_ADDRESS_BUFLEN];
    char canonical[VH_PCI_ADDRESS_BUFLEN];
    VhPciAddress addr;

    if (len == 0 || len >= sizeof(name))
        return FALSE;
    memcpy(name, comp, len);
    name[len] = '\0';
    if (!vh_pci_address_parse(name, &addr, NULL) ||
        !g_str_equal(vh_pci_address_format(&addr, canonical), name))
        return FALSE;
    *ret_addr = addr;
    return TRUE;
}

/*
 * The deepest PCI device @devpath (resolved, "devices/...") lies under: its
 * address and the length of its directory's path in @devpath.  Read from
 * the path itself, since a PCI device's children (and a bridge's devices)
 * are directories below its own: no PCI device is listed for this.
 */
static gboolean
vh_host_usage_owner(const char *devpath, VhPciAddress *ret_addr,
                    gsize *ret_len)
{
    const char *p = devpath;
    gboolean found = FALSE;

    if (!g_str_has_prefix(devpath, "devices/"))
        return FALSE;
    while (*p) {
        const char *end = strchrnul(p, '/');
        VhPciAddress addr;

        if (vh_host_usage_component_address(p, (gsize) (end - p), &addr)) {
            *ret_addr = addr;
            *ret_len = (gsize) (end - devpath);
            found = TRUE;
        }
        p = *end ? end + 1 : end;
    }
    return found;
}

/* TRUE when @addr is a component of @devdir: the device at @devdir is
 * @addr or sits below it (behind it, for a bridge). */
static gboolean
vh_host_usage_path_has(const char *devdir, const VhPciAddress *addr)
{
    const char *p = devdir;

    while (*p) {
        const char *end = strchrnul(p, '/');
        VhPciAddress comp;

        if (vh_host_usage_component_address(p, (gsize) (end - p), &comp) &&
            vh_pci_address_equal(&comp, addr))
            return TRUE;
        p = *end ? end + 1 : end;
    }
    return FALSE;
}

/* Record a use carried by the sysfs node @devpath, if a PCI device holds
 * it.  Takes nothing: the strings are copied. */
static void
vh_host_usage_add(VhHostUsageScan *scan, const char *devpath,
                  VhHostUseKind kind, const char *what, const char *detail,
                  const char *via)
{
    char addrbuf[VH_PCI_ADDRESS_BUFLEN];
    g_autofree char *text = NULL;
    VhHostUseEntry *entry;
    VhPciAddress owner;
    gsize owner_len = 0;
    char *key;

    if (!vh_host_usage_owner(devpath, &owner, &owner_len)) {
        g_debug("%s is on no PCI device", devpath);
        return;
    }
    vh_pci_address_format(&owner, addrbuf);
    key = g_strdup_printf("%s\t%d\t%s\t%s\t%s", addrbuf, kind, what,
                          detail ? detail : "", via ? via : "");
    if (!g_hash_table_add(scan->seen, key))
        return;

    entry = g_new0(VhHostUseEntry, 1);
    entry->owner_devdir = g_strndup(devpath, owner_len);
    entry->pub.addr = owner;
    entry->pub.kind = kind;
    entry->pub.what = g_strdup(what);
    entry->pub.detail = g_strdup(detail);
    entry->pub.via = g_strdup(via);
    g_ptr_array_add(scan->usage->uses, entry);
    text = vh_host_use_describe(&entry->pub);
    g_debug("%s: %s", addrbuf, text);
}

/* TRUE for "nvme0", the name of an NVMe controller; "nvme0n1" is not. */
static gboolean
vh_host_usage_is_nvme_ctrl(const char *name)
{
    return g_str_has_prefix(name, "nvme") && name[4] &&
           strspn(name + 4, "0123456789") == strlen(name + 4);
}

/*
 * Links from @devpath to the devices it is stacked on, relative to the root:
 * a dm/md device's slaves; a bridge's, bond's or VLAN's lower_* devices;
 * and for a disk (or partition) behind native NVMe multipath, which the
 * kernel parents on its subsystem, not on a controller
 * (devices/virtual/nvme-subsystem/nvme-subsysN/nvmeXnY), the subsystem's
 * links to its controllers.
 * Free with g_ptr_array_unref().
 */
static gboolean
vh_host_usage_lowers(const VhSysfs *sysfs, const char *devpath,
                     VhHostUsageStack stack, GPtrArray **ret_links,
                     GError **error)
{
    static const char nvme_subsys[] = "devices/virtual/nvme-subsystem/";
    g_autoptr(GPtrArray) links = g_ptr_array_new_with_free_func(g_free);
    g_autoptr(GPtrArray) names = NULL;
    g_autofree char *dir = NULL;
    gboolean nvme = FALSE;
    guint i;

    if (stack == VH_HOST_USAGE_STACK_NET) {
        dir = g_strdup(devpath);
    } else if (g_str_has_prefix(devpath, nvme_subsys) &&
               strchr(devpath + strlen(nvme_subsys), '/')) {
        /* The subsystem, whether @devpath is its disk or a partition. */
        const char *end = strchr(devpath + strlen(nvme_subsys), '/');
        dir = g_strndup(devpath, (gsize) (end - devpath));
        nvme = TRUE;
    } else {
        dir = g_strdup_printf("%s/slaves", devpath);
    }

    if (!vh_sysfs_list(sysfs, dir, &names, error))
        return FALSE;
    for (i = 0; names && i < names->len; i++) {
        const char *name = names->pdata[i];

        if (stack == VH_HOST_USAGE_STACK_NET &&
            !g_str_has_prefix(name, "lower_"))
            continue;
        if (nvme && !vh_host_usage_is_nvme_ctrl(name))
            continue;
        g_ptr_array_add(links, g_strdup_printf("%s/%s", dir, name));
    }
    *ret_links = g_steal_pointer(&links);
    return TRUE;
}

/* @devpath and, recursively, every device it is stacked on, into
 * @carriers; @visited stops loops. */
static gboolean
vh_host_usage_walk(VhHostUsageScan *scan, const char *devpath,
                   VhHostUsageStack stack, guint depth, GHashTable *visited,
                   GPtrArray *carriers, GError **error)
{
    g_autoptr(GPtrArray) links = NULL;
    guint i;

    if (!g_hash_table_add(visited, g_strdup(devpath)))
        return TRUE;
    g_ptr_array_add(carriers, g_strdup(devpath));
    if (depth >= VH_HOST_USAGE_MAX_DEPTH) {
        g_debug("%s: stacked deeper than %d devices; not followed further",
                devpath, VH_HOST_USAGE_MAX_DEPTH);
        return TRUE;
    }
    if (!vh_host_usage_lowers(scan->sysfs, devpath, stack, &links, error))
        return FALSE;
    for (i = 0; i < links->len; i++) {
        g_autofree char *lower = NULL;

        if (!vh_sysfs_resolve_path(scan->sysfs, links->pdata[i], &lower,
                                   error))
            return FALSE;
        if (lower && !vh_host_usage_walk(scan, lower, stack, depth + 1,
                                         visited, carriers, error))
            return FALSE;
    }
    return TRUE;
}

/* A use of the device at @devpath, attributed to the PCI device it is on
 * and to those under every device it is stacked on, which become @via. */
static gboolean
vh_host_usage_add_stacked(VhHostUsageScan *scan, const char *devpath,
                          VhHostUsageStack stack, VhHostUseKind kind,
                          const char *what, const char *detail,
                          GError **error)
{
    g_autoptr(GHashTable) visited = g_hash_table_new_full(g_str_hash,
                                                          g_str_equal,
                                                          g_free, NULL);
    g_autoptr(GPtrArray) carriers = g_ptr_array_new_with_free_func(g_free);
    const char *top = vh_host_usage_basename(devpath);
    guint i;

    if (!vh_host_usage_walk(scan, devpath, stack, 0, visited, carriers,
                            error))
        return FALSE;
    for (i = 0; i < carriers->len; i++) {
        const char *carrier = carriers->pdata[i];
        const char *name = vh_host_usage_basename(carrier);

        vh_host_usage_add(scan, carrier, kind, what, detail,
                          g_str_equal(name, top) ? NULL : name);
    }
    return TRUE;
}

/* ---- Block devices: mounts and swap ------------------------------------ */

/* The dm device named @name (as in /dev/mapper/@name); NULL if none. */
static gboolean
vh_host_usage_find_dm(VhHostUsageScan *scan, const char *name,
                      char **ret_devpath, GError **error)
{
    g_autoptr(GPtrArray) blocks = NULL;
    guint i;

    if (!vh_sysfs_list(scan->sysfs, "class/block", &blocks, error))
        return FALSE;
    for (i = 0; blocks && i < blocks->len; i++) {
        const char *block = blocks->pdata[i];
        g_autofree char *relpath = NULL;
        g_autofree char *dmname = NULL;

        if (!g_str_has_prefix(block, "dm-"))
            continue;
        relpath = g_strdup_printf("class/block/%s/dm/name", block);
        if (!vh_sysfs_read(scan->sysfs, relpath, &dmname, error))
            return FALSE;
        if (dmname && g_str_equal(dmname, name)) {
            g_autofree char *link = g_strdup_printf("class/block/%s", block);
            return vh_sysfs_resolve_path(scan->sysfs, link, ret_devpath,
                                         error);
        }
    }
    *ret_devpath = NULL;
    return TRUE;
}

/*
 * The sysfs node of a block device: by its number when @major is not 0
 * (dev/block/MAJ:MIN, which also covers "/dev/root" and /dev/disk/by-*
 * sources), else by the name in @source ("/dev/sda1", "/dev/mapper/NAME").
 * NULL when neither names a block device in the tree.
 */
static gboolean
vh_host_usage_find_block(VhHostUsageScan *scan, guint major, guint minor,
                         const char *source, char **ret_devpath,
                         GError **error)
{
    g_autofree char *relpath = NULL;
    const char *name;

    if (major != 0) {
        g_autofree char *devpath = NULL;

        relpath = g_strdup_printf("dev/block/%u:%u", major, minor);
        if (!vh_sysfs_resolve_path(scan->sysfs, relpath, &devpath, error))
            return FALSE;
        if (devpath) {
            *ret_devpath = g_steal_pointer(&devpath);
            return TRUE;
        }
        g_clear_pointer(&relpath, g_free);
    }
    *ret_devpath = NULL;
    if (!g_str_has_prefix(source, "/dev/"))
        return TRUE;
    name = source + strlen("/dev/");
    if (g_str_has_prefix(name, "mapper/") &&
        vh_host_usage_name_is_safe(name + strlen("mapper/")))
        return vh_host_usage_find_dm(scan, name + strlen("mapper/"),
                                     ret_devpath, error);
    if (!vh_host_usage_name_is_safe(name)) {
        g_debug("%s does not name a block device directly; skipped", source);
        return TRUE;
    }
    relpath = g_strdup_printf("class/block/%s", name);
    return vh_sysfs_resolve_path(scan->sysfs, relpath, ret_devpath, error);
}

static gboolean
vh_host_usage_parse_devnum(const char *str, guint *ret_major,
                           guint *ret_minor)
{
    g_auto(GStrv) parts = g_strsplit(str, ":", -1);
    guint64 major = 0;
    guint64 minor = 0;

    if (g_strv_length(parts) != 2 ||
        !g_ascii_string_to_unsigned(parts[0], 10, 0, G_MAXUINT32, &major,
                                    NULL) ||
        !g_ascii_string_to_unsigned(parts[1], 10, 0, G_MAXUINT32, &minor,
                                    NULL))
        return FALSE;
    *ret_major = (guint) major;
    *ret_minor = (guint) minor;
    return TRUE;
}

/*
 * One mountinfo line (proc(5)):
 *   ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTIONS [OPTIONAL...] - TYPE SOURCE SUPER
 * mountinfo rather than mounts: its device number finds the block device
 * even when the source does not name it ("/dev/root" for a root mounted
 * without an initramfs, /dev/disk/by-uuid/... links).
 */
static gboolean
vh_host_usage_scan_mount(VhHostUsageScan *scan, const char *line,
                         GError **error)
{
    g_auto(GStrv) f = vh_host_usage_split(line);
    g_autofree char *mountpoint = NULL;
    g_autofree char *source = NULL;
    g_autofree char *devpath = NULL;
    guint n = g_strv_length(f);
    guint major = 0;
    guint minor = 0;
    guint sep;

    for (sep = 6; sep < n && !g_str_equal(f[sep], "-"); sep++)
        ;
    if (sep + 2 >= n || !vh_host_usage_parse_devnum(f[2], &major, &minor)) {
        g_debug("self/mountinfo: skipping malformed line '%s'", line);
        return TRUE;
    }
    mountpoint = vh_host_usage_unescape(f[4]);
    source = vh_host_usage_unescape(f[sep + 2]);
    if (!vh_host_usage_find_block(scan, major, minor, source, &devpath, error))
        return FALSE;
    if (!devpath)
        return TRUE;
    return vh_host_usage_add_stacked(scan, devpath, VH_HOST_USAGE_STACK_BLOCK,
                                     VH_HOST_USE_MOUNT, mountpoint,
                                     vh_host_usage_basename(devpath), error);
}

/*
 * One /proc/swaps line: "Filename Type Size Used Priority".  Swap files are
 * skipped: the filesystem holding them is a mount, found as such.  Swaps
 * lists the device by the path the kernel resolved ("/dev/dm-1"), so the
 * name is enough.
 */
static gboolean
vh_host_usage_scan_swap(VhHostUsageScan *scan, const char *line,
                        GError **error)
{
    g_auto(GStrv) f = vh_host_usage_split(line);
    g_autofree char *path = NULL;
    g_autofree char *devpath = NULL;

    if (g_strv_length(f) < 2) {
        if (f[0])
            g_debug("swaps: skipping malformed line '%s'", line);
        return TRUE;
    }
    if (g_str_equal(f[0], "Filename") || !g_str_equal(f[1], "partition"))
        return TRUE;
    path = vh_host_usage_unescape(f[0]);
    if (!vh_host_usage_find_block(scan, 0, 0, path, &devpath, error))
        return FALSE;
    if (!devpath)
        return TRUE;
    return vh_host_usage_add_stacked(scan, devpath, VH_HOST_USAGE_STACK_BLOCK,
                                     VH_HOST_USE_SWAP, path,
                                     vh_host_usage_basename(devpath), error);
}

/* ---- Network interfaces ------------------------------------------------- */

static gboolean
vh_host_usage_add_net(VhHostUsageScan *scan, const char *ifname,
                      VhHostUseKind kind, const char *detail, GError **error)
{
    g_autofree char *relpath = NULL;
    g_autofree char *devpath = NULL;

    if (!vh_host_usage_name_is_safe(ifname)) {
        g_debug("'%s' is not an interface name; skipped", ifname);
        return TRUE;
    }
    relpath = g_strdup_printf("class/net/%s", ifname);
    if (!vh_sysfs_resolve_path(scan->sysfs, relpath, &devpath, error))
        return FALSE;
    if (!devpath)
        return TRUE;
    return vh_host_usage_add_stacked(scan, devpath, VH_HOST_USAGE_STACK_NET,
                                     kind, ifname, detail, error);
}

/* Prefix length of a contiguous netmask in network byte order; -1 if the
 * mask has holes. */
static int
vh_host_usage_mask_len(guint32 be_mask)
{
    guint32 mask = ntohl(be_mask);
    int len = __builtin_popcount(mask);
    guint32 want = len == 0 ? 0 : G_MAXUINT32 << (32 - len);

    return mask == want ? len : -1;
}

/*
 * One /proc/net/route line (fib_route_seq_show()):
 *   Iface Destination Gateway Flags RefCnt Use Metric Mask MTU Window IRTT
 * The default route is the one with destination and mask 0.  Any other
 * route without a gateway is a connected route, which stands for the
 * interface's address (see vh_host_usage_scan()).
 */
static gboolean
vh_host_usage_scan_route4(VhHostUsageScan *scan, const char *line,
                          GError **error)
{
    g_auto(GStrv) f = vh_host_usage_split(line);
    g_autofree char *detail = NULL;
    guint64 dest = 0;
    guint64 gw = 0;
    guint64 flags = 0;
    guint64 mask = 0;
    int len;

    if (f[0] && g_str_equal(f[0], "Iface"))
        return TRUE;
    if (g_strv_length(f) < 8 ||
        !vh_host_usage_parse_hex(f[1], G_MAXUINT32, &dest) ||
        !vh_host_usage_parse_hex(f[2], G_MAXUINT32, &gw) ||
        !vh_host_usage_parse_hex(f[3], G_MAXUINT32, &flags) ||
        !vh_host_usage_parse_hex(f[7], G_MAXUINT32, &mask) ||
        (len = vh_host_usage_mask_len((guint32) mask)) < 0) {
        g_debug("net/route: skipping malformed line '%s'", line);
        return TRUE;
    }
    if (!(flags & RTF_UP) || (flags & RTF_REJECT))
        return TRUE;
    if (dest == 0 && mask == 0) {
        if (gw != 0)
            detail = vh_host_usage_format_in4((guint32) gw);
        return vh_host_usage_add_net(scan, f[0], VH_HOST_USE_DEFAULT_ROUTE,
                                     detail, error);
    }
    if (flags & RTF_GATEWAY)
        return TRUE;
    {
        g_autofree char *net = NULL;

        net = vh_host_usage_format_in4((guint32) (dest & mask));
        detail = g_strdup_printf("connected route %s/%d", net, len);
    }
    return vh_host_usage_add_net(scan, f[0], VH_HOST_USE_ADDRESS, detail,
                                 error);
}

/*
 * One /proc/net/ipv6_route line (ipv6_route_native_seq_show()):
 *   DEST PLEN SRC SRCPLEN NEXTHOP METRIC REFCNT USE FLAGS IFACE
 * Only default routes count: every interface has fe80::/64, and addresses
 * come from if_inet6.  The "unreachable" default on lo has RTF_REJECT set.
 */
static gboolean
vh_host_usage_scan_route6(VhHostUsageScan *scan, const char *line,
                          GError **error)
{
    static const struct in6_addr any = IN6ADDR_ANY_INIT;
    g_auto(GStrv) f = vh_host_usage_split(line);
    g_autofree char *detail = NULL;
    struct in6_addr dest;
    struct in6_addr nexthop;
    guint64 plen = 0;
    guint64 flags = 0;

    if (g_strv_length(f) < 10 ||
        !vh_host_usage_parse_in6(f[0], &dest) ||
        !vh_host_usage_parse_hex(f[1], 128, &plen) ||
        !vh_host_usage_parse_in6(f[4], &nexthop) ||
        !vh_host_usage_parse_hex(f[8], G_MAXUINT32, &flags)) {
        g_debug("net/ipv6_route: skipping malformed line '%s'", line);
        return TRUE;
    }
    if (plen != 0 || memcmp(&dest, &any, sizeof(dest)) != 0 ||
        !(flags & RTF_UP) || (flags & RTF_REJECT))
        return TRUE;
    if (memcmp(&nexthop, &any, sizeof(nexthop)) != 0)
        detail = vh_host_usage_format_in6(&nexthop);
    return vh_host_usage_add_net(scan, f[9], VH_HOST_USE_DEFAULT_ROUTE, detail,
                                 error);
}

/*
 * One /proc/net/if_inet6 line (if6_seq_show()):
 *   ADDRESS IFINDEX PLEN SCOPE FLAGS IFACE
 * Scope 00 is global (a ULA such as fd00::/8 included); link-local (20) and
 * host (10) addresses do not make an interface one the host is reached by.
 */
static gboolean
vh_host_usage_scan_inet6(VhHostUsageScan *scan, const char *line,
                         GError **error)
{
    g_auto(GStrv) f = vh_host_usage_split(line);
    g_autofree char *addr = NULL;
    g_autofree char *detail = NULL;
    struct in6_addr in6;
    guint64 plen = 0;
    guint64 scope = 0;

    if (g_strv_length(f) < 6 ||
        !vh_host_usage_parse_in6(f[0], &in6) ||
        !vh_host_usage_parse_hex(f[2], 128, &plen) ||
        !vh_host_usage_parse_hex(f[3], G_MAXUINT32, &scope)) {
        g_debug("net/if_inet6: skipping malformed line '%s'", line);
        return TRUE;
    }
    if (scope != 0)
        return TRUE;
    addr = vh_host_usage_format_in6(&in6);
    detail = g_strdup_printf("%s/%u", addr, (guint) plen);
    return vh_host_usage_add_net(scan, f[5], VH_HOST_USE_ADDRESS, detail,
                                 error);
}

/* ---- Framebuffers ------------------------------------------------------- */

static gboolean
vh_host_usage_boot_vga(VhHostUsageScan *scan,
                       const VhHostUsageDevice **ret_dev, GError **error)
{
    guint i;

    if (!scan->usage->devices) {
        scan->usage->devices = g_ptr_array_new_with_free_func(vh_host_usage_device_free);
        if (!vh_host_usage_load_devices(scan, error))
            return FALSE;
    }
    for (i = 0; i < scan->usage->devices->len; i++) {
        const VhHostUsageDevice *dev = scan->usage->devices->pdata[i];
        g_autofree char *relpath = g_strdup_printf("%s/boot_vga", dev->devdir);
        gboolean present = FALSE;
        gint64 value = 0;

        if (!vh_sysfs_read_int(scan->sysfs, relpath, &value, &present, error))
            return FALSE;
        if (present && value == 1) {
            *ret_dev = dev;
            return TRUE;
        }
    }
    *ret_dev = NULL;
    return TRUE;
}

/* See vh_host_usage_scan() for the rule. */
static gboolean
vh_host_usage_scan_consoles(VhHostUsageScan *scan, GError **error)
{
    g_autoptr(GPtrArray) names = NULL;
    guint i;

    if (!vh_sysfs_list(scan->sysfs, "class/graphics", &names, error))
        return FALSE;
    for (i = 0; names && i < names->len; i++) {
        const char *name = names->pdata[i];
        g_autofree char *relpath = NULL;
        g_autofree char *devpath = NULL;
        const VhHostUsageDevice *vga = NULL;
        VhPciAddress owner;
        gsize owner_len;

        /* fbcon lives here too and is no framebuffer. */
        if (!g_str_has_prefix(name, "fb") || !name[2] ||
            strspn(name + 2, "0123456789") != strlen(name + 2))
            continue;
        relpath = g_strdup_printf("class/graphics/%s", name);
        if (!vh_sysfs_resolve_path(scan->sysfs, relpath, &devpath, error))
            return FALSE;
        if (!devpath)
            continue;
        if (vh_host_usage_owner(devpath, &owner, &owner_len)) {
            vh_host_usage_add(scan, devpath, VH_HOST_USE_CONSOLE, name, NULL,
                              NULL);
            continue;
        }
        if (!vh_host_usage_boot_vga(scan, &vga, error))
            return FALSE;
        if (vga)
            vh_host_usage_add(scan, vga->devdir, VH_HOST_USE_CONSOLE, name,
                              "firmware framebuffer on the boot VGA device",
                              NULL);
        else
            g_debug("%s is on no PCI device and there is no boot VGA", name);
    }
    return TRUE;
}

/* ---- Public ------------------------------------------------------------- */

VhHostUsage *
vh_host_usage_scan(const VhSysfs *sysfs, const VhSysfs *proc, GError **error)
{
    g_autoptr(VhHostUsage) usage = g_new0(VhHostUsage, 1);
    g_autoptr(GHashTable) seen = g_hash_table_new_full(g_str_hash,
                                                       g_str_equal,
                                                       g_free, NULL);
    VhHostUsageScan scan = {
        .sysfs = sysfs,
        .proc = proc,
        .usage = usage,
        .seen = seen,
    };

    usage->uses = g_ptr_array_new_with_free_func(vh_host_use_entry_free);

    /* Each use is attributed to the PCI devices on its resolved sysfs
     * path (vh_host_usage_owner()): no PCI device is read for that. */
    /* Step 1: block devices the host has mounted or swaps on. */
    if (!vh_host_usage_scan_file(&scan, "self/mountinfo",
                                 vh_host_usage_scan_mount, error) ||
        !vh_host_usage_scan_file(&scan, "swaps",
                                 vh_host_usage_scan_swap, error) ||
        /* Step 2: interfaces the host is reached by. */
        !vh_host_usage_scan_file(&scan, "net/route",
                                 vh_host_usage_scan_route4, error) ||
        !vh_host_usage_scan_file(&scan, "net/ipv6_route",
                                 vh_host_usage_scan_route6, error) ||
        !vh_host_usage_scan_file(&scan, "net/if_inet6",
                                 vh_host_usage_scan_inet6, error) ||
        /* Step 3: the console. */
        !vh_host_usage_scan_consoles(&scan, error)) {
        g_prefix_error(error, "cannot tell which devices the host uses: ");
        return NULL;
    }
    return g_steal_pointer(&usage);
}

GPtrArray *
vh_host_usage_lookup(const VhHostUsage *usage, const VhPciAddress *addr)
{
    GPtrArray *uses = g_ptr_array_new();
    guint i;

    for (i = 0; i < usage->uses->len; i++) {
        VhHostUseEntry *entry = usage->uses->pdata[i];

        if (vh_host_usage_path_has(entry->owner_devdir, addr))
            g_ptr_array_add(uses, &entry->pub);
    }
    return uses;
}

GPtrArray *
vh_host_usage_list(const VhHostUsage *usage)
{
    GPtrArray *uses = g_ptr_array_sized_new(usage->uses->len);
    guint i;

    for (i = 0; i < usage->uses->len; i++) {
        VhHostUseEntry *entry = usage->uses->pdata[i];
        g_ptr_array_add(uses, &entry->pub);
    }
    return uses;
}

/* Mount points may hold any byte but '/' and NUL; keep the line one line. */
static void
vh_host_usage_append_printable(GString *out, const char *str)
{
    const char *p;

    for (p = str ? str : "?"; *p; p++)
        g_string_append_c(out, g_ascii_iscntrl(*p) ? '?' : *p);
}

char *
vh_host_use_describe(const VhHostUse *use)
{
    GString *out = g_string_new(NULL);

    switch (use->kind) {
    case VH_HOST_USE_MOUNT:
        g_string_append(out, "mounted filesystem ");
        vh_host_usage_append_printable(out, use->what);
        g_string_append(out, " on ");
        vh_host_usage_append_printable(out, use->detail);
        break;
    case VH_HOST_USE_SWAP:
        g_string_append(out, "active swap on ");
        vh_host_usage_append_printable(out, use->detail);
        break;
    case VH_HOST_USE_DEFAULT_ROUTE:
        g_string_append(out, "default route via ");
        vh_host_usage_append_printable(out, use->what);
        if (use->detail) {
            g_string_append(out, " (gateway ");
            vh_host_usage_append_printable(out, use->detail);
            g_string_append(out, ")");
        }
        break;
    case VH_HOST_USE_ADDRESS:
        g_string_append(out, "interface ");
        vh_host_usage_append_printable(out, use->what);
        if (use->detail && g_str_has_prefix(use->detail, "connected route "))
            g_string_append(out, " has ");
        else
            g_string_append(out, " has address ");
        vh_host_usage_append_printable(out, use->detail);
        break;
    case VH_HOST_USE_CONSOLE:
        g_string_append(out, "console framebuffer ");
        vh_host_usage_append_printable(out, use->what);
        if (use->detail) {
            g_string_append(out, " (");
            vh_host_usage_append_printable(out, use->detail);
            g_string_append(out, ")");
        }
        break;
    default:
        g_string_append_printf(out, "host use of kind %d", (int) use->kind);
        break;
    }
    if (use->via) {
        g_string_append(out, ", through ");
        vh_host_usage_append_printable(out, use->via);
    }
    return g_string_free(out, FALSE);
}
