/*
 * vh-doctor-domain.c: the checks of `doctor` for a domain's host devices
 *
 * Per <hostdev>, in document order: hostdev/ADDR/exists, /group,
 * /host-critical, /reset, /owner and, with <rom file>, /rom.  Then for the
 * domain: domain/prepare (what prepare would move, from its own planner),
 * domain/memlock (libvirt 9.0's rule against the limit of the process
 * that will run QEMU), domain/iova (guest RAM against the IOMMU's address
 * width and the groups' reserved regions) and domain/bars (where the
 * devices' 64-bit BARs may land in the guest against the same width).
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#define G_LOG_DOMAIN "doctor.domain"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "vh-assign.h"
#include "vh-doctor-priv.h"
#include "vh-error.h"
#include "vh-host-usage.h"
#include "vh-hostdev.h"
#include "vh-iommu-group.h"
#include "vh-node-device.h"

#define VH_DOCTOR_GIB (G_GUINT64_CONSTANT(1) << 30)
#define VH_DOCTOR_4G (G_GUINT64_CONSTANT(4) << 30)

/* Intel VT-d 3.4, 11.4.2: Capability Register bits 21:16 MGAW, the
 * maximum guest address width minus one. */
#define VH_DOCTOR_CAP_MGAW(cap) ((guint) (((cap) >> 16) & 0x3f) + 1)

/* include/linux/ioport.h: the flags of a line of a device's resource. */
#define VH_DOCTOR_IORESOURCE_MEM 0x00000200
#define VH_DOCTOR_IORESOURCE_MEM_64 0x00100000

/* QEMU 7.2's default 64-bit PCI hole sizes (q35: 32 GiB; i440fx: 2 GiB). */
#define VH_DOCTOR_HOLE64_Q35 (G_GUINT64_CONSTANT(32) << 30)
#define VH_DOCTOR_HOLE64_PC (G_GUINT64_CONSTANT(2) << 30)

/* A domain's devices, the host as read once, and what the checks share. */
typedef struct {
    const VhDoctor *d;
    const VhDoctorHost *host;
    const VhDomainDef *def;
    VhNodeDeviceList *list;
    VhHostUsage *usage;         /* NULL: unreadable, see usage_why */
    char *usage_why;
    VhAssignOwners *owners;
    VhPlan *plan;               /* NULL: prepare would refuse, see plan_error */
    GError *plan_error;
} VhDoctorDomain;

static void
vh_doctor_domain_clear(VhDoctorDomain *dd)
{
    g_clear_pointer(&dd->list, vh_node_device_list_free);
    g_clear_pointer(&dd->usage, vh_host_usage_free);
    g_clear_pointer(&dd->usage_why, g_free);
    g_clear_pointer(&dd->owners, vh_assign_owners_free);
    g_clear_pointer(&dd->plan, vh_plan_free);
    g_clear_error(&dd->plan_error);
}
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(VhDoctorDomain, vh_doctor_domain_clear)

static const char *
vh_doctor_driver(const VhNodeDevice *dev)
{
    return dev->driver ? dev->driver : "no driver";
}

/* "1.1 GiB" for a size in bytes, with a plain space (GLib puts a
 * no-break space there).  Free with g_free(). */
static char *
vh_doctor_size(guint64 bytes)
{
    g_autofree char *text = g_format_size_full(bytes, G_FORMAT_SIZE_IEC_UNITS);
    GString *s = g_string_new(text);

    g_string_replace(s, "\u00a0", " ", 0);
    return g_string_free(s, FALSE);
}

/* The device is one of the domain's <hostdev>s. */
static gboolean
vh_doctor_is_hostdev(const VhDomainDef *def, const VhPciAddress *addr)
{
    guint i;

    for (i = 0; i < def->hostdevs->len; i++) {
        const VhDomainHostdev *hd = g_ptr_array_index(def->hostdevs, i);
        if (vh_pci_address_equal(&hd->source, addr))
            return TRUE;
    }
    return FALSE;
}

/* The device is in the group of one of the domain's <hostdev>s. */
static gboolean
vh_doctor_in_domain_groups(const VhDoctorDomain *dd, const VhPciAddress *addr)
{
    const VhNodeDevice *dev = vh_node_device_list_lookup(dd->list, addr);
    guint i;

    if (!dev || !dev->has_group)
        return vh_doctor_is_hostdev(dd->def, addr);
    for (i = 0; i < dd->def->hostdevs->len; i++) {
        const VhDomainHostdev *hd = g_ptr_array_index(dd->def->hostdevs, i);
        const VhNodeDevice *h = vh_node_device_list_lookup(dd->list, &hd->source);

        if (h && h->has_group && h->group == dev->group)
            return TRUE;
    }
    return FALSE;
}

/* ---- hostdev/ADDR/exists ------------------------------------------------- */

static const VhNodeDevice *
vh_doctor_check_exists(VhDoctorDomain *dd, const VhDomainHostdev *hd,
                       const char *prefix, VhDoctorReport *report)
{
    g_autofree char *id = g_strdup_printf("%s/exists", prefix);
    g_autofree char *rel = vh_sysfs_pci_device_relpath(&hd->source, NULL);
    g_autofree char *path = vh_sysfs_describe(dd->d->sysfs, rel);
    const VhNodeDevice *dev = vh_node_device_list_lookup(dd->list, &hd->source);
    char buf[VH_PCI_ADDRESS_BUFLEN];
    VhDoctorCheck *c;

    vh_pci_address_format(&hd->source, buf);
    if (!dev) {
        c = vh_doctor_add(report, id, VH_DOCTOR_FAIL, "%s is not on this "
                          "host: libvirt fails with \"Device %s not found\"",
                          buf, buf);
        vh_doctor_evidence(c, "%s: absent", path);
        vh_doctor_fix(c, "correct the <source><address> of the <hostdev> at "
                      "line %u (`virt-hostdev nodedev-list` shows the host's "
                      "devices)", hd->line);
        return NULL;
    }
    c = vh_doctor_add(report, id, VH_DOCTOR_OK, "%s exists (%04x:%04x, %s%s)",
                      buf, dev->vendor, dev->device, vh_doctor_driver(dev),
                      hd->managed ? ", managed" : ", unmanaged");
    vh_doctor_evidence(c, "%s: present", path);
    return dev;
}

/* ---- hostdev/ADDR/group --------------------------------------------------- */

/* The peers of @dev's group that prepare would hold: from its plan, or,
 * when prepare refuses, the group's blockers that are not the domain's. */
static GPtrArray *
vh_doctor_held_peers(const VhDoctorDomain *dd, const VhNodeDevice *dev)
{
    GPtrArray *held = g_ptr_array_new();
    g_autoptr(GPtrArray) blockers = NULL;
    guint i;

    if (dd->plan) {
        for (i = 0; i < dd->plan->moves->len; i++) {
            const VhPlanMove *m = g_ptr_array_index(dd->plan->moves, i);
            const VhNodeDevice *peer = vh_node_device_list_lookup(dd->list,
                                                                  &m->addr);

            if (m->role == VH_ROLE_HELD && peer && peer->has_group &&
                peer->group == dev->group)
                g_ptr_array_add(held, (gpointer) peer);
        }
        return held;
    }
    blockers = vh_iommu_group_blockers(dd->list, dev->group);
    for (i = 0; i < blockers->len; i++) {
        const VhNodeDevice *peer = g_ptr_array_index(blockers, i);
        if (!vh_doctor_is_hostdev(dd->def, &peer->addr))
            g_ptr_array_add(held, (gpointer) peer);
    }
    return held;
}

static void
vh_doctor_group_evidence(const VhDoctorDomain *dd, const VhNodeDevice *dev,
                         VhDoctorCheck *c)
{
    GPtrArray *members = vh_node_device_list_group(dd->list, dev);
    g_autofree char *rel = g_strdup_printf("kernel/iommu_groups/%u/devices",
                                           dev->group);
    g_autofree char *path = vh_sysfs_describe(dd->d->sysfs, rel);
    g_autoptr(GString) s = g_string_new(NULL);
    guint i;

    for (i = 0; members && i < members->len; i++) {
        const VhNodeDevice *m = g_ptr_array_index(members, i);
        char buf[VH_PCI_ADDRESS_BUFLEN];

        g_string_append_printf(s, "%s%s (%s%s)", i ? ", " : "",
                               vh_pci_address_format(&m->addr, buf),
                               vh_doctor_driver(m),
                               vh_node_device_is_bridge(m) ? ", bridge" : "");
    }
    vh_doctor_evidence(c, "%s: %s", path, s->str);
}

static void
vh_doctor_check_group(VhDoctorDomain *dd, const VhDomainHostdev *hd,
                      const VhNodeDevice *dev, const char *prefix,
                      VhDoctorReport *report)
{
    g_autofree char *id = g_strdup_printf("%s/group", prefix);
    g_autoptr(GPtrArray) held = NULL;
    g_autoptr(GString) names = g_string_new(NULL);
    char buf[VH_PCI_ADDRESS_BUFLEN];
    char name[VH_PCI_ADDRESS_BUFLEN];
    VhDoctorCheck *c;
    guint i;

    vh_pci_address_format(&dev->addr, buf);
    vh_pci_address_nodedev_name(&dev->addr, name);
    if (!dev->has_group) {
        g_autofree char *rel = vh_sysfs_pci_device_relpath(&dev->addr,
                                                           "iommu_group");
        g_autofree char *path = vh_sysfs_describe(dd->d->sysfs, rel);

        c = vh_doctor_add(report, id, VH_DOCTOR_FAIL, "%s is in no IOMMU "
                          "group: VFIO cannot take it", buf);
        vh_doctor_evidence(c, "%s: absent", path);
        vh_doctor_fix(c, "enable VT-d/AMD-Vi in the firmware and boot with "
                      "intel_iommu=on or amd_iommu=on");
        return;
    }
    if (vh_node_device_is_bridge(dev)) {
        c = vh_doctor_add(report, id, VH_DOCTOR_FAIL, "%s is a bridge: "
                          "vfio-pci takes endpoints only", buf);
        vh_doctor_group_evidence(dd, dev, c);
        vh_doctor_fix(c, "assign the devices behind it instead");
        return;
    }
    held = vh_doctor_held_peers(dd, dev);
    for (i = 0; i < held->len; i++) {
        const VhNodeDevice *p = g_ptr_array_index(held, i);
        char pbuf[VH_PCI_ADDRESS_BUFLEN];

        g_string_append_printf(names, "%s%s (%s)", i ? ", " : "",
                               vh_pci_address_format(&p->addr, pbuf),
                               vh_doctor_driver(p));
    }
    if (!hd->managed && !(dev->driver && strstr(dev->driver, "vfio"))) {
        c = vh_doctor_add(report, id, VH_DOCTOR_FAIL, "%s is unmanaged "
                          "(managed='no') but on %s, not vfio-pci", buf,
                          vh_doctor_driver(dev));
        vh_doctor_fix(c, "`virt-hostdev nodedev-detach %s` (which holds its "
                      "group) or set managed='yes'", name);
    } else if (!hd->managed && held->len > 0) {
        c = vh_doctor_add(report, id, VH_DOCTOR_FAIL, "IOMMU group %u of %s "
                          "(unmanaged) is not viable: %s on host drivers",
                          dev->group, buf, names->str);
        vh_doctor_fix(c, "`virt-hostdev nodedev-detach %s` holds the group, "
                      "or set managed='yes' so that prepare does", name);
    } else if (held->len > 0 && dd->d->libvirt) {
        c = vh_doctor_add(report, id, VH_DOCTOR_WARN, "IOMMU group %u: %s "
                          "must be held on pci-stub; libvirt alone does not "
                          "hold peers (\"group %u is not viable\")",
                          dev->group, names->str, dev->group);
        vh_doctor_fix(c, "install the hook (`virt-hostdev install-hook`) or "
                      "run `virt-hostdev prepare` before starting the guest");
    } else if (held->len > 0) {
        c = vh_doctor_add(report, id, VH_DOCTOR_OK, "IOMMU group %u: "
                          "prepare holds %s on pci-stub", dev->group,
                          names->str);
    } else {
        c = vh_doctor_add(report, id, VH_DOCTOR_OK, "IOMMU group %u: no "
                          "peer to hold", dev->group);
    }
    vh_doctor_group_evidence(dd, dev, c);
    for (i = 0; i < held->len; i++) {
        const VhNodeDevice *p = g_ptr_array_index(held, i);
        char pbuf[VH_PCI_ADDRESS_BUFLEN];

        vh_doctor_evidence(c, "%s (%s): an endpoint on a host driver; the "
                           "kernel lets QEMU use the group only when it is "
                           "on vfio-pci, pci-stub or no driver",
                           vh_pci_address_format(&p->addr, pbuf),
                           vh_doctor_driver(p));
    }
}

/* ---- hostdev/ADDR/host-critical ------------------------------------------ */

static void
vh_doctor_check_host_critical(VhDoctorDomain *dd, const VhNodeDevice *dev,
                              const char *prefix, VhDoctorReport *report)
{
    g_autofree char *id = g_strdup_printf("%s/host-critical", prefix);
    g_autoptr(VhAssignVerdict) verdict = NULL;
    g_autofree char *proc = vh_sysfs_describe(dd->d->proc, "");
    const VhAssignReason *critical = NULL;
    g_autoptr(GString) who = g_string_new(NULL);
    VhDoctorCheck *c;
    guint i;
    guint j;

    if (!dd->usage) {
        c = vh_doctor_add(report, id, VH_DOCTOR_WARN, "cannot tell what the "
                          "host uses: %s", dd->usage_why);
        vh_doctor_fix(c, "run doctor with the host's own /proc and /sys");
        return;
    }
    verdict = vh_assign_check(dd->list, dev, dd->usage, dd->d->sysfs, NULL);
    for (i = 0; i < verdict->reasons->len; i++) {
        const VhAssignReason *r = g_ptr_array_index(verdict->reasons, i);
        if (r->code == VH_ASSIGN_HOST_CRITICAL)
            critical = r;
    }
    if (!critical) {
        c = vh_doctor_add(report, id, VH_DOCTOR_OK, "the host uses no "
                          "device of %s",
                          dev->has_group ? "its IOMMU group" : "it");
        vh_doctor_evidence(c, "read mounts, swaps, routes and addresses "
                           "below %s, block, net and framebuffer devices "
                           "below %s", proc, vh_sysfs_get_root(dd->d->sysfs));
        return;
    }
    for (i = 0; i < critical->devices->len; i++) {
        const VhNodeDevice *m = g_ptr_array_index(critical->devices, i);
        char buf[VH_PCI_ADDRESS_BUFLEN];

        g_string_append_printf(who, "%s%s (%s%s)", i ? ", " : "",
                               vh_pci_address_format(&m->addr, buf),
                               vh_doctor_driver(m), m == dev ? "" : ", peer");
    }
    c = vh_doctor_add(report, id, VH_DOCTOR_FAIL, "the host uses %s: "
                      "taking it cuts the host off", who->str);
    for (i = 0; i < critical->devices->len; i++) {
        const VhNodeDevice *m = g_ptr_array_index(critical->devices, i);
        g_autoptr(GPtrArray) uses = vh_host_usage_lookup(dd->usage, &m->addr);
        char buf[VH_PCI_ADDRESS_BUFLEN];

        vh_pci_address_format(&m->addr, buf);
        for (j = 0; j < uses->len; j++) {
            g_autofree char *desc = vh_host_use_describe(g_ptr_array_index(uses, j));
            vh_doctor_evidence(c, "%s: %s", buf, desc);
        }
    }
    vh_doctor_fix(c, "free it first (unmount, move the route or address "
                  "elsewhere) or pick a device in another IOMMU group");
}

/* ---- hostdev/ADDR/reset ---------------------------------------------------- */

/* The devices @result reaches that are outside the domain's groups. */
static GPtrArray *
vh_doctor_reset_outsiders(const VhDoctorDomain *dd, const VhResetResult *result)
{
    GPtrArray *out = g_ptr_array_new();
    guint i;

    for (i = 0; i < result->also_reset->len; i++) {
        const char *item = g_ptr_array_index(result->also_reset, i);
        g_autofree char *head = g_strndup(item, strcspn(item, " "));
        VhPciAddress addr;

        if (!vh_pci_address_parse(head, &addr, NULL) ||
            !vh_doctor_in_domain_groups(dd, &addr))
            g_ptr_array_add(out, (gpointer) item);
    }
    return out;
}

static void
vh_doctor_check_reset(VhDoctorDomain *dd, const VhNodeDevice *dev,
                      const char *prefix, VhDoctorReport *report)
{
    g_autofree char *id = g_strdup_printf("%s/reset", prefix);
    g_autofree char *rel = vh_sysfs_pci_device_relpath(&dev->addr,
                                                       "reset_method");
    g_autofree char *path = vh_sysfs_describe(dd->d->sysfs, rel);
    g_autoptr(VhResetResult) result = NULL;
    g_autoptr(GError) err = NULL;
    g_autoptr(GPtrArray) outsiders = NULL;
    g_autofree char *methods = NULL;
    char buf[VH_PCI_ADDRESS_BUFLEN];
    char bbuf[VH_PCI_ADDRESS_BUFLEN];
    VhDoctorCheck *c;
    guint i;

    vh_pci_address_format(&dev->addr, buf);
    if (!vh_hostdev_reset_probe(dd->d->sysfs, dd->host->registry, dd->list,
                                &dev->addr, &result, &err)) {
        c = vh_doctor_add(report, id, VH_DOCTOR_WARN, "%s cannot be reset: "
                          "QEMU logs \"no available reset mechanism\" and "
                          "device state can leak from one guest to the next",
                          buf);
        vh_doctor_evidence(c, "%s", err->message);
        vh_doctor_evidence(c, "%s: %s", path, dev->has_reset_method
                           ? "empty" : "absent (no method, or a kernel "
                           "before 5.15)");
        vh_doctor_fix(c, "nothing in software resets it: give it to one "
                      "guest per host boot, or pick a device with FLR");
        return;
    }
    methods = result->methods ? g_strjoinv(" ", result->methods) : NULL;
    if (!result->bus_reset) {
        c = vh_doctor_add(report, id, VH_DOCTOR_OK, "%s can be reset (%s)",
                          buf, methods ? methods
                                       : "a method this kernel does not name");
    } else {
        outsiders = vh_doctor_reset_outsiders(dd, result);
        vh_pci_address_format(&result->bridge, bbuf);
        if (outsiders->len == 0) {
            c = vh_doctor_add(report, id, VH_DOCTOR_OK, "%s can be reset only "
                              "by a bus reset of %s, which reaches only this "
                              "domain's groups", buf, bbuf);
        } else {
            g_autofree char *who = NULL;

            g_ptr_array_add(outsiders, NULL);
            who = g_strjoinv(", ", (char **) outsiders->pdata);
            c = vh_doctor_add(report, id, VH_DOCTOR_WARN, "%s can be reset "
                              "only by a bus reset of %s, which also resets "
                              "%s: QEMU does that (a VFIO hot reset) only "
                              "when it owns every group it reaches", buf, bbuf,
                              who);
            vh_doctor_fix(c, "give the domain the other devices on that bus "
                          "too, or move %s to a slot of its own", buf);
        }
    }
    if (methods)
        vh_doctor_evidence(c, "%s: %s", path, methods);
    else
        vh_doctor_evidence(c, "%s: absent; the reset attribute is there "
                           "(a kernel before 5.15)", path);
    for (i = 0; i < result->also_reset->len; i++)
        vh_doctor_evidence(c, "a bus reset also resets %s",
                           (const char *) g_ptr_array_index(result->also_reset, i));
}

/* ---- hostdev/ADDR/owner ----------------------------------------------------- */

static void
vh_doctor_check_owner(VhDoctorDomain *dd, const VhDomainHostdev *hd,
                      const VhNodeDevice *dev, const char *prefix,
                      VhDoctorReport *report)
{
    g_autofree char *id = g_strdup_printf("%s/owner", prefix);
    const char *owner;
    VhDoctorCheck *c;

    if (!dd->host->registry_read) {
        vh_doctor_add(report, id, VH_DOCTOR_SKIP, "the registry is "
                      "unreadable (see host/state)");
        return;
    }
    if (!dev->has_group) {
        vh_doctor_add(report, id, VH_DOCTOR_SKIP, "in no IOMMU group");
        return;
    }
    owner = vh_registry_group_owner(dd->host->registry, dev->group);
    if (!owner) {
        c = vh_doctor_add(report, id, VH_DOCTOR_OK, "IOMMU group %u belongs "
                          "to nobody", dev->group);
    } else if (g_str_equal(owner, dd->def->name)) {
        c = vh_doctor_add(report, id, VH_DOCTOR_OK, "IOMMU group %u is "
                          "already %s's (prepared)", dev->group, owner);
    } else if (g_str_equal(owner, "manual") && !hd->managed) {
        /* Unmanaged devices are the user's to detach: "manual" is who did. */
        c = vh_doctor_add(report, id, VH_DOCTOR_OK, "IOMMU group %u was "
                          "detached by hand (manual), as an unmanaged "
                          "device's group is", dev->group);
    } else {
        c = vh_doctor_add(report, id, VH_DOCTOR_FAIL, "IOMMU group %u "
                          "belongs to %s: %s cannot have it", dev->group,
                          owner, dd->def->name);
        if (g_str_equal(owner, "manual"))
            vh_doctor_fix(c, "`virt-hostdev nodedev-reattach` the group's "
                          "devices first, or set managed='no' on the "
                          "<hostdev> at line %u", hd->line);
        else
            vh_doctor_fix(c, "stop and release %s first (`virt-hostdev "
                          "release` of its XML, or nodedev-reattach of its "
                          "devices)", owner);
    }
    vh_doctor_evidence(c, "%s/registry.json", dd->d->state_dir);
}

/* ---- hostdev/ADDR/rom ------------------------------------------------------- */

/* PCI Firmware 3.0, 5.1.1: an expansion ROM image starts with 55h AAh. */
static const guint8 vh_doctor_rom_signature[2] = { 0x55, 0xaa };

static void
vh_doctor_check_rom(const VhDomainHostdev *hd, const char *prefix,
                    VhDoctorReport *report)
{
    g_autofree char *id = g_strdup_printf("%s/rom", prefix);
    guint8 head[2] = { 0 };
    struct stat st;
    VhDoctorCheck *c;
    ssize_t n;
    int fd;

    fd = open(hd->rom_file, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
    if (fd < 0) {
        int saved_errno = errno;

        c = vh_doctor_add(report, id, VH_DOCTOR_FAIL, "<rom file='%s'> "
                          "cannot be read: %s; QEMU refuses to start",
                          hd->rom_file, g_strerror(saved_errno));
        vh_doctor_evidence(c, "open(%s): %s", hd->rom_file,
                           g_strerror(saved_errno));
        vh_doctor_fix(c, "fix the path at line %u or make the file readable "
                      "by the user QEMU runs as (and its SELinux/AppArmor "
                      "label)", hd->line);
        return;
    }
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size == 0) {
        c = vh_doctor_add(report, id, VH_DOCTOR_FAIL, "<rom file='%s'> is "
                          "not a non-empty regular file", hd->rom_file);
        vh_doctor_fix(c, "point <rom file> at line %u to the ROM image",
                      hd->line);
        close(fd);
        return;
    }
    n = read(fd, head, sizeof(head));
    close(fd);
    if (n == (ssize_t) sizeof(head) &&
        memcmp(head, vh_doctor_rom_signature, sizeof(head)) == 0) {
        c = vh_doctor_add(report, id, VH_DOCTOR_OK, "<rom file='%s'> is "
                          "readable (%lld bytes)", hd->rom_file,
                          (long long) st.st_size);
    } else {
        c = vh_doctor_add(report, id, VH_DOCTOR_WARN, "<rom file='%s'> does "
                          "not start with the ROM signature 55 AA: the guest "
                          "firmware will not run it", hd->rom_file);
        vh_doctor_fix(c, "use a PCI option ROM image (a dump of the device's "
                      "rom attribute, or the vendor's)");
    }
    vh_doctor_evidence(c, "%s: %lld bytes, first bytes %02x %02x (readable "
                       "by this user; libvirt's QEMU may run as another)",
                       hd->rom_file, (long long) st.st_size, head[0], head[1]);
}

/* ---- domain/prepare ------------------------------------------------------- */

static void
vh_doctor_check_prepare(VhDoctorDomain *dd, VhDoctorReport *report)
{
    VhDoctorCheck *c;
    guint i;

    if (!dd->plan) {
        c = vh_doctor_add(report, "domain/prepare", VH_DOCTOR_FAIL,
                          "prepare would refuse the domain");
        vh_doctor_evidence(c, "%s", dd->plan_error->message);
        vh_doctor_fix(c, "resolve the refusal above (the hostdev checks "
                      "say more); `virt-hostdev prepare --dry-run` shows "
                      "the same");
        return;
    }
    c = vh_doctor_add(report, "domain/prepare", VH_DOCTOR_OK,
                      "prepare would make %u move%s", dd->plan->moves->len,
                      dd->plan->moves->len == 1 ? "" : "s");
    for (i = 0; i < dd->plan->moves->len; i++) {
        const VhPlanMove *m = g_ptr_array_index(dd->plan->moves, i);
        char buf[VH_PCI_ADDRESS_BUFLEN];

        vh_doctor_evidence(c, "%s: %s -> %s (%s)",
                           vh_pci_address_format(&m->addr, buf),
                           m->from ? m->from : "no driver",
                           m->to ? m->to : "no driver",
                           vh_hostdev_role_string(m->role));
    }
    for (i = 0; i < dd->plan->notes->len; i++)
        vh_doctor_evidence(c, "%s", (const char *) g_ptr_array_index(dd->plan->notes, i));
}

/* ---- domain/memlock ------------------------------------------------------- */

static void
vh_doctor_check_memlock(const VhDoctorDomain *dd, VhDoctorReport *report)
{
    const VhDomainDef *def = dd->def;
    guint64 needed = vh_domain_def_memlock_bytes(def);
    guint64 limit = dd->d->memlock_limit;
    g_autofree char *need_text = NULL;
    g_autofree char *limit_text = NULL;
    g_autofree char *need_size = vh_doctor_size(needed);
    g_autofree char *limit_size = vh_doctor_size(limit);
    VhDoctorCheck *c;

    if (needed == 0) {
        vh_doctor_add(report, "domain/memlock", VH_DOCTOR_SKIP, "the domain "
                      "has no VFIO device: QEMU locks no memory for it");
        return;
    }
    need_text = needed == G_MAXUINT64 ? g_strdup("unlimited")
        : g_strdup_printf("%" G_GUINT64_FORMAT " bytes (%s)", needed,
                          need_size);
    limit_text = limit == G_MAXUINT64 ? g_strdup("unlimited")
        : g_strdup_printf("%" G_GUINT64_FORMAT " bytes (%s)", limit,
                          limit_size);
    if (limit == G_MAXUINT64 || (needed != G_MAXUINT64 && limit >= needed)) {
        c = vh_doctor_add(report, "domain/memlock", VH_DOCTOR_OK, "QEMU needs "
                          "%s of locked memory; the limit is %s", need_text,
                          limit_text);
    } else {
        c = vh_doctor_add(report, "domain/memlock",
                          dd->d->libvirt ? VH_DOCTOR_WARN : VH_DOCTOR_FAIL,
                          "QEMU needs %s of locked memory; the limit is %s%s",
                          need_text, limit_text, dd->d->libvirt
                          ? ", which libvirt (as root) raises for QEMU itself"
                          : ": VFIO_MAP_DMA would fail with \"Cannot allocate "
                            "memory\"");
        if (needed == G_MAXUINT64)
            vh_doctor_fix(c, "make RLIMIT_MEMLOCK of the process that starts "
                          "QEMU unlimited (`prlimit --memlock=unlimited`, "
                          "LimitMEMLOCK=infinity) or let libvirt as root "
                          "start the guest");
        else
            vh_doctor_fix(c, "raise RLIMIT_MEMLOCK of the process that starts "
                          "QEMU to at least %" G_GUINT64_FORMAT " bytes "
                          "(`prlimit --memlock=%" G_GUINT64_FORMAT ":%"
                          G_GUINT64_FORMAT "`, LimitMEMLOCK=), or let libvirt "
                          "as root start the guest", needed, needed, needed);
    }
    if (def->hard_limit_kib)
        vh_doctor_evidence(c, "<memtune><hard_limit> %" G_GUINT64_FORMAT
                           " KiB: libvirt 9.0 locks that much",
                           def->hard_limit_kib);
    else if (def->memory_locked)
        vh_doctor_evidence(c, "<memoryBacking><locked/>: libvirt 9.0 makes "
                           "the limit unlimited");
    else
        vh_doctor_evidence(c, "libvirt 9.0's rule: <memory> %" G_GUINT64_FORMAT
                           " KiB + 1 GiB for a domain with a VFIO device",
                           def->memory_kib);
    vh_doctor_evidence(c, "RLIMIT_MEMLOCK: %s, %s", limit_text,
                       dd->d->memlock_source);
    vh_doctor_evidence(c, "libvirt running as root raises QEMU's limit to the "
                       "need itself: under libvirt (--libvirt) a low limit "
                       "here is a warn; a process with CAP_IPC_LOCK is not "
                       "held to the limit");
}

/* ---- domain/iova and domain/bars -------------------------------------------- */

typedef struct {
    guint64 start;
    guint64 end;                /* inclusive */
} VhDoctorRange;

/*
 * Guest RAM as QEMU lays it out: below 4 GiB up to the PCI hole (q35:
 * all of it up to 2.75 GiB, else 2 GiB; pc: up to 3.5 GiB, else 3 GiB),
 * the rest from 4 GiB.  Guest physical addresses are the IOVAs QEMU maps.
 */
static guint
vh_doctor_ram_ranges(const VhDomainDef *def, VhDoctorRange ranges[2])
{
    guint64 ram = def->memory_kib * 1024;
    guint64 low;
    guint n = 0;

    if (def->q35)
        low = ram >= G_GUINT64_CONSTANT(0xb0000000) ? G_GUINT64_CONSTANT(0x80000000)
                                                     : ram;
    else
        low = ram >= G_GUINT64_CONSTANT(0xe0000000) ? G_GUINT64_CONSTANT(0xc0000000)
                                                     : ram;
    if (low > 0)
        ranges[n++] = (VhDoctorRange) { 0, low - 1 };
    if (ram > low)
        ranges[n++] = (VhDoctorRange) { VH_DOCTOR_4G, VH_DOCTOR_4G + (ram - low) - 1 };
    return n;
}

/* The address width of @dev's IOMMU (Intel: MGAW of its cap), 0 when
 * the kernel does not show it; evidence into @c. */
static guint
vh_doctor_iommu_width(const VhDoctorDomain *dd, const VhNodeDevice *dev,
                      VhDoctorCheck *c)
{
    g_autofree char *link = vh_sysfs_pci_device_relpath(&dev->addr, "iommu");
    g_autofree char *caprel = g_strdup_printf("%s/intel-iommu/cap", link);
    g_autofree char *iommu = NULL;
    g_autofree char *cap = NULL;
    g_autoptr(GError) err = NULL;
    char buf[VH_PCI_ADDRESS_BUFLEN];
    guint64 value;

    vh_pci_address_format(&dev->addr, buf);
    if (!vh_sysfs_read_link_name(dd->d->sysfs, link, &iommu, &err) || !iommu) {
        vh_doctor_evidence(c, "%s: no iommu link%s%s", buf, err ? ": " : "",
                           err ? err->message : "");
        return 0;
    }
    if (!vh_sysfs_read(dd->d->sysfs, caprel, &cap, &err) || !cap) {
        vh_doctor_evidence(c, "%s: IOMMU %s shows no address width", buf,
                           iommu);
        return 0;
    }
    value = g_ascii_strtoull(cap, NULL, 16);
    vh_doctor_evidence(c, "%s: IOMMU %s, intel-iommu/cap %s: MGAW %u bits",
                       buf, iommu, cap, VH_DOCTOR_CAP_MGAW(value));
    return VH_DOCTOR_CAP_MGAW(value);
}

/* Reserved regions of @group that overlap @ranges, as evidence; the
 * number of overlaps. */
static guint
vh_doctor_reserved_overlaps(const VhDoctorDomain *dd, guint group,
                            const VhDoctorRange *ranges, guint n_ranges,
                            VhDoctorCheck *c, GString *what)
{
    g_autofree char *rel = g_strdup_printf("kernel/iommu_groups/%u/reserved_regions",
                                           group);
    g_autofree char *path = vh_sysfs_describe(dd->d->sysfs, rel);
    g_autofree char *text = NULL;
    g_autoptr(GError) err = NULL;
    g_auto(GStrv) lines = NULL;
    guint overlaps = 0;
    guint i;
    guint r;

    if (!vh_sysfs_read(dd->d->sysfs, rel, &text, &err) || !text) {
        vh_doctor_evidence(c, "%s: %s", path, err ? err->message : "absent");
        return 0;
    }
    lines = g_strsplit(text, "\n", -1);
    for (i = 0; lines[i]; i++) {
        g_auto(GStrv) f = g_strsplit_set(g_strstrip(lines[i]), " \t", -1);
        guint64 start;
        guint64 end;

        if (g_strv_length(f) < 3)
            continue;
        start = g_ascii_strtoull(f[0], NULL, 16);
        end = g_ascii_strtoull(f[1], NULL, 16);
        vh_doctor_evidence(c, "%s: 0x%" G_GINT64_MODIFIER "x-0x%"
                           G_GINT64_MODIFIER "x %s", path, start, end, f[2]);
        for (r = 0; r < n_ranges; r++) {
            if (start <= ranges[r].end && end >= ranges[r].start) {
                g_string_append_printf(what, "%s0x%" G_GINT64_MODIFIER "x-0x%"
                                       G_GINT64_MODIFIER "x (%s, group %u)",
                                       what->len ? ", " : "", start, end,
                                       f[2], group);
                overlaps++;
            }
        }
    }
    return overlaps;
}

static void
vh_doctor_check_iova(VhDoctorDomain *dd, guint *ret_width,
                     VhDoctorReport *report)
{
    VhDoctorRange ranges[2];
    guint n_ranges = vh_doctor_ram_ranges(dd->def, ranges);
    g_autoptr(GArray) groups = g_array_new(FALSE, FALSE, sizeof(guint));
    g_autoptr(GString) overlap = g_string_new(NULL);
    g_autofree char *ram = vh_doctor_size(dd->def->memory_kib * 1024);
    guint64 top = n_ranges ? ranges[n_ranges - 1].end : 0;
    guint overlaps = 0;
    guint width = 0;
    VhDoctorCheck *c;
    guint i;
    guint j;

    *ret_width = 0;
    if (dd->host->n_groups == 0) {
        vh_doctor_add(report, "domain/iova", VH_DOCTOR_SKIP, "no IOMMU (see "
                      "host/iommu)");
        return;
    }
    c = vh_doctor_add(report, "domain/iova", VH_DOCTOR_OK, "%s", "");
    for (i = 0; i < dd->def->hostdevs->len; i++) {
        const VhDomainHostdev *hd = g_ptr_array_index(dd->def->hostdevs, i);
        const VhNodeDevice *dev = vh_node_device_list_lookup(dd->list, &hd->source);
        gboolean seen = FALSE;
        guint w;

        if (!dev || !dev->has_group)
            continue;
        w = vh_doctor_iommu_width(dd, dev, c);
        if (w && (!width || w < width))
            width = w;
        for (j = 0; j < groups->len; j++)
            seen = seen || g_array_index(groups, guint, j) == dev->group;
        if (!seen) {
            g_array_append_val(groups, dev->group);
            overlaps += vh_doctor_reserved_overlaps(dd, dev->group, ranges,
                                                    n_ranges, c, overlap);
        }
    }
    for (i = 0; i < n_ranges; i++)
        vh_doctor_evidence(c, "guest RAM %s (<memory>, %s machine): IOVA 0x%"
                           G_GINT64_MODIFIER "x-0x%" G_GINT64_MODIFIER "x",
                           ram, dd->def->q35 ? "q35" : "pc", ranges[i].start,
                           ranges[i].end);
    g_free(c->summary);
    if (width && width < 64 && top >= (G_GUINT64_CONSTANT(1) << width)) {
        g_autofree char *lim = vh_doctor_size(G_GUINT64_CONSTANT(1) << width);

        c->status = VH_DOCTOR_FAIL;
        c->summary = g_strdup_printf("guest RAM ends at 0x%" G_GINT64_MODIFIER
                                     "x, beyond the IOMMU's %u-bit address "
                                     "width (%s): QEMU's VFIO_MAP_DMA fails "
                                     "(vfio_dma_map = -22)", top, width, lim);
        vh_doctor_fix(c, "give the guest less memory (its RAM above 4 GiB "
                      "must end below %s) or use a host whose IOMMU has a "
                      "wider address width", lim);
    } else if (overlaps > 0) {
        c->status = VH_DOCTOR_FAIL;
        c->summary = g_strdup_printf("guest RAM overlaps reserved IOVA "
                                     "regions %s: VFIO refuses those maps "
                                     "(vfio_dma_map = -22)", overlap->str);
        vh_doctor_fix(c, "a firmware RMRR or MSI window sits in guest RAM: "
                      "move the device to another slot or give the guest "
                      "less memory below 4 GiB");
    } else if (groups->len == 0) {
        c->status = VH_DOCTOR_SKIP;
        c->summary = g_strdup("no device of the domain is in an IOMMU group");
    } else {
        g_autofree char *fits = width
            ? g_strdup_printf("fits the IOMMU's %u-bit address width", width)
            : g_strdup("(the IOMMU shows no address width)");

        c->summary = g_strdup_printf("guest RAM (%s) %s and is clear of the "
                                     "reserved regions of %u IOMMU group%s",
                                     ram, fits, groups->len,
                                     groups->len == 1 ? "" : "s");
        if (width)
            vh_doctor_evidence(c, "address width %u bits: IOVAs below 0x%"
                               G_GINT64_MODIFIER "x", width,
                               width < 64 ? G_GUINT64_CONSTANT(1) << width : 0);
    }
    *ret_width = width;
}

/* Sum of @dev's 64-bit memory BARs (resource lines 0-5); evidence of
 * each memory BAR into @c. */
static guint64
vh_doctor_bars64(const VhDoctorDomain *dd, const VhNodeDevice *dev,
                 VhDoctorCheck *c)
{
    g_autofree char *rel = vh_sysfs_pci_device_relpath(&dev->addr, "resource");
    g_autofree char *path = vh_sysfs_describe(dd->d->sysfs, rel);
    g_autofree char *text = NULL;
    g_autoptr(GError) err = NULL;
    g_auto(GStrv) lines = NULL;
    char buf[VH_PCI_ADDRESS_BUFLEN];
    guint64 sum = 0;
    guint i;

    vh_pci_address_format(&dev->addr, buf);
    if (!vh_sysfs_read(dd->d->sysfs, rel, &text, &err) || !text) {
        vh_doctor_evidence(c, "%s: %s", path, err ? err->message : "absent");
        return 0;
    }
    lines = g_strsplit(text, "\n", -1);
    for (i = 0; lines[i] && i < 6; i++) {
        g_auto(GStrv) f = g_strsplit(g_strstrip(lines[i]), " ", -1);
        guint64 start;
        guint64 end;
        guint64 flags;
        g_autofree char *size = NULL;

        if (g_strv_length(f) < 3)
            continue;
        start = g_ascii_strtoull(f[0], NULL, 16);
        end = g_ascii_strtoull(f[1], NULL, 16);
        flags = g_ascii_strtoull(f[2], NULL, 16);
        if (!(flags & VH_DOCTOR_IORESOURCE_MEM) || end <= start)
            continue;
        size = vh_doctor_size(end - start + 1);
        vh_doctor_evidence(c, "%s BAR %u: %s, %s-bit (%s line %u)", buf, i,
                           size, flags & VH_DOCTOR_IORESOURCE_MEM_64 ? "64"
                                                                      : "32",
                           path, i + 1);
        if (flags & VH_DOCTOR_IORESOURCE_MEM_64)
            sum += end - start + 1;
    }
    return sum;
}

static void
vh_doctor_check_bars(VhDoctorDomain *dd, guint width, VhDoctorReport *report)
{
    VhDoctorRange ranges[2];
    guint n_ranges = vh_doctor_ram_ranges(dd->def, ranges);
    guint64 hole_default = dd->def->q35 ? VH_DOCTOR_HOLE64_Q35 : VH_DOCTOR_HOLE64_PC;
    guint64 start = VH_DOCTOR_4G;
    guint64 sum = 0;
    guint64 end;
    guint found = 0;
    VhDoctorCheck *c;
    guint i;

    c = vh_doctor_add(report, "domain/bars", VH_DOCTOR_OK, "%s", "");
    for (i = 0; i < dd->def->hostdevs->len; i++) {
        const VhDomainHostdev *hd = g_ptr_array_index(dd->def->hostdevs, i);
        const VhNodeDevice *dev = vh_node_device_list_lookup(dd->list, &hd->source);

        if (!dev)
            continue;
        found++;
        sum += vh_doctor_bars64(dd, dev, c);
    }
    /* QEMU puts the 64-bit PCI window above RAM, 1 GiB aligned, at least
     * its default size. */
    if (n_ranges && ranges[n_ranges - 1].start == VH_DOCTOR_4G)
        start = ranges[n_ranges - 1].end + 1;
    start = (start + VH_DOCTOR_GIB - 1) & ~(VH_DOCTOR_GIB - 1);
    end = start + MAX(hole_default, sum) - 1;
    g_free(c->summary);
    if (found == 0) {
        c->status = VH_DOCTOR_SKIP;
        c->summary = g_strdup("no device of the domain is on this host");
        return;
    }
    vh_doctor_evidence(c, "the guest's 64-bit PCI window: 0x%" G_GINT64_MODIFIER
                       "x-0x%" G_GINT64_MODIFIER "x (above RAM, at least "
                       "QEMU's default %s)", start, end,
                       dd->def->q35 ? "32 GiB" : "2 GiB");
    if (sum == 0) {
        c->summary = g_strdup("no 64-bit BARs: the devices' BARs sit below "
                              "4 GiB in the guest");
    } else if (width && width < 64 && end >= (G_GUINT64_CONSTANT(1) << width)) {
        c->status = VH_DOCTOR_WARN;
        c->summary = g_strdup_printf("64-bit BARs may be placed up to 0x%"
                                     G_GINT64_MODIFIER "x, beyond the IOMMU's "
                                     "%u-bit address width: QEMU's maps of "
                                     "them fail with \"vfio_dma_map(...) = "
                                     "-22\" (the guest still runs; only "
                                     "peer-to-peer DMA is lost)", end, width);
        vh_doctor_fix(c, "harmless unless the devices DMA to each other; "
                      "else give the guest less memory or a smaller window "
                      "(-global q35-pcihost.pci-hole64-size=...)");
    } else {
        g_autofree char *size = vh_doctor_size(sum);
        c->summary = width
            ? g_strdup_printf("64-bit BARs (%s) fit the IOMMU's %u-bit "
                              "address width", size, width)
            : g_strdup_printf("64-bit BARs (%s); the IOMMU shows no address "
                              "width to check them against", size);
    }
}

/* ---- all of it ---------------------------------------------------------------- */

static void
vh_doctor_domain_plan(VhDoctorDomain *dd)
{
    const VhDomainDef *def = dd->def;
    g_autofree VhPrepareDevice *devs = g_new0(VhPrepareDevice,
                                              def->hostdevs->len + 1);
    guint i;

    for (i = 0; i < def->hostdevs->len; i++) {
        const VhDomainHostdev *hd = g_ptr_array_index(def->hostdevs, i);

        devs[i].addr = hd->source;
        devs[i].managed = hd->managed;
    }
    if (!vh_hostdev_prepare_plan(dd->host->registry, dd->list, def->name, devs,
                                 def->hostdevs->len, &dd->plan,
                                 &dd->plan_error))
        g_debug("prepare of %s would refuse: %s", def->name,
                dd->plan_error->message);
}

gboolean
vh_doctor_check_domain(const VhDoctor *doctor, const VhDoctorHost *host,
                       const VhDomainDef *def, VhDoctorReport *report,
                       GError **error)
{
    g_auto(VhDoctorDomain) dd = { .d = doctor, .host = host, .def = def };
    g_autoptr(GError) err = NULL;
    guint width = 0;
    guint i;

    if (!(dd.list = vh_node_device_list_scan(doctor->sysfs, 0, error)))
        return FALSE;
    if (!(dd.usage = vh_host_usage_scan(doctor->sysfs, doctor->proc, &err)))
        dd.usage_why = g_strdup(err->message);
    vh_doctor_domain_plan(&dd);

    for (i = 0; i < def->hostdevs->len; i++) {
        const VhDomainHostdev *hd = g_ptr_array_index(def->hostdevs, i);
        g_autofree char *prefix = NULL;
        const VhNodeDevice *dev;
        char buf[VH_PCI_ADDRESS_BUFLEN];

        prefix = g_strdup_printf("hostdev/%s",
                                 vh_pci_address_format(&hd->source, buf));
        if ((dev = vh_doctor_check_exists(&dd, hd, prefix, report))) {
            vh_doctor_check_group(&dd, hd, dev, prefix, report);
            vh_doctor_check_host_critical(&dd, dev, prefix, report);
            vh_doctor_check_reset(&dd, dev, prefix, report);
            vh_doctor_check_owner(&dd, hd, dev, prefix, report);
        }
        if (hd->rom_file)
            vh_doctor_check_rom(hd, prefix, report);
    }
    if (def->hostdevs->len == 0) {
        vh_doctor_add(report, "domain/prepare", VH_DOCTOR_SKIP, "the domain "
                      "has no PCI host device");
    } else {
        vh_doctor_check_prepare(&dd, report);
    }
    vh_doctor_check_memlock(&dd, report);
    if (def->hostdevs->len > 0) {
        vh_doctor_check_iova(&dd, &width, report);
        vh_doctor_check_bars(&dd, width, report);
    }
    return TRUE;
}
