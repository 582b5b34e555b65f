/*
 * vh-assign.c: can this PCI device be given to a guest, and how?
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#define G_LOG_DOMAIN "node_device.assign"

#include "vh-assign.h"
#include "vh-iommu-group.h"

static const char * const vh_assign_codes[] = {
    [VH_ASSIGN_NO_IOMMU] = "no-iommu",
    [VH_ASSIGN_BRIDGE] = "bridge",
    [VH_ASSIGN_HOST_CRITICAL] = "host-critical",
    [VH_ASSIGN_NEEDS_GROUP] = "needs-group",
    [VH_ASSIGN_NO_RESET] = "no-reset",
    [VH_ASSIGN_IN_USE] = "in-use",
};

struct _VhAssignOwners {
    GPtrArray *entries;         /* VhAssignOwner *, in the order added */
};

static void
vh_assign_owner_free(VhAssignOwner *entry)
{
    if (!entry)
        return;
    g_free(entry->owner);
    g_free(entry->role);
    g_free(entry->driver);
    g_free(entry);
}

VhAssignOwners *
vh_assign_owners_new(void)
{
    VhAssignOwners *owners = g_new0(VhAssignOwners, 1);

    owners->entries = g_ptr_array_new_with_free_func((GDestroyNotify) vh_assign_owner_free);
    return owners;
}

void
vh_assign_owners_free(VhAssignOwners *owners)
{
    if (!owners)
        return;
    if (owners->entries)
        g_ptr_array_unref(owners->entries);
    g_free(owners);
}

static gboolean
vh_assign_owners_find(const VhAssignOwners *owners, const VhPciAddress *addr,
                      guint *ret_index)
{
    guint i;

    for (i = 0; i < owners->entries->len; i++) {
        const VhAssignOwner *e = g_ptr_array_index(owners->entries, i);

        if (vh_pci_address_equal(&e->addr, addr)) {
            *ret_index = i;
            return TRUE;
        }
    }
    return FALSE;
}

void
vh_assign_owners_add(VhAssignOwners *owners, const VhPciAddress *addr,
                     const char *owner, const char *role, const char *driver,
                     guint group)
{
    VhAssignOwner *entry = g_new0(VhAssignOwner, 1);
    guint i;

    entry->addr = *addr;
    entry->owner = g_strdup(owner);
    entry->role = g_strdup(role);
    entry->driver = g_strdup(driver);
    entry->group = group;
    if (vh_assign_owners_find(owners, addr, &i)) {
        vh_assign_owner_free(g_ptr_array_index(owners->entries, i));
        g_ptr_array_index(owners->entries, i) = entry;
        return;
    }
    g_ptr_array_add(owners->entries, entry);
}

const VhAssignOwner *
vh_assign_owners_lookup(const VhAssignOwners *owners, const VhPciAddress *addr)
{
    guint i;

    if (!vh_assign_owners_find(owners, addr, &i))
        return NULL;
    return g_ptr_array_index(owners->entries, i);
}

const char *
vh_assign_owners_group_owner(const VhAssignOwners *owners, guint group)
{
    guint i;

    for (i = 0; i < owners->entries->len; i++) {
        const VhAssignOwner *e = g_ptr_array_index(owners->entries, i);

        if (e->group == group)
            return e->owner;
    }
    return NULL;
}

const char *
vh_assign_code_string(VhAssignCode code)
{
    return vh_assign_codes[code];
}

static void
vh_assign_reason_free(VhAssignReason *reason)
{
    if (!reason)
        return;
    g_free(reason->message);
    if (reason->devices)
        g_ptr_array_unref(reason->devices);
    g_free(reason);
}

void
vh_assign_verdict_free(VhAssignVerdict *verdict)
{
    if (!verdict)
        return;
    if (verdict->reasons)
        g_ptr_array_unref(verdict->reasons);
    g_strfreev(verdict->reset_methods);
    g_free(verdict->owner);
    g_free(verdict->role);
    g_free(verdict);
}

const char *
vh_assign_verdict_code(const VhAssignVerdict *verdict)
{
    const VhAssignReason *first;

    if (verdict->reasons->len == 0)
        return "ok";
    first = g_ptr_array_index(verdict->reasons, 0);
    return vh_assign_code_string(first->code);
}

static VhAssignReason *
vh_assign_add(VhAssignVerdict *verdict, VhAssignCode code, gboolean blocks,
              GPtrArray *devices, char *message)
{
    VhAssignReason *reason = g_new0(VhAssignReason, 1);

    reason->code = code;
    reason->blocks = blocks;
    reason->message = message;
    reason->devices = devices ? devices : g_ptr_array_new();
    g_ptr_array_add(verdict->reasons, reason);
    if (blocks)
        verdict->assignable = FALSE;
    return reason;
}

/* "0000:01:02.0 (e1000), 0000:01:03.0 (igb)" */
static char *
vh_assign_list_devices(GPtrArray *devices)
{
    GString *s = g_string_new(NULL);
    guint i;

    for (i = 0; i < devices->len; i++) {
        const VhNodeDevice *dev = g_ptr_array_index(devices, i);
        char buf[VH_PCI_ADDRESS_BUFLEN];

        g_string_append_printf(s, "%s%s (%s)", i ? ", " : "",
                               vh_pci_address_format(&dev->addr, buf),
                               dev->driver ? dev->driver : "no driver");
    }
    return g_string_free(s, FALSE);
}

/*
 * The devices of @group recorded as assigned or detached (what held peers
 * are held for): "0000:01:01.0 (assigned)" in *@ret_text, and those of them
 * that @list has in *@ret_devices.
 */
static void
vh_assign_group_users(const VhNodeDeviceList *list,
                      const VhAssignOwners *owners, guint group,
                      GPtrArray **ret_devices, char **ret_text)
{
    g_autoptr(GPtrArray) devices = g_ptr_array_new();
    GString *s = g_string_new(NULL);
    guint i;

    for (i = 0; i < owners->entries->len; i++) {
        const VhAssignOwner *e = g_ptr_array_index(owners->entries, i);
        VhNodeDevice *d;
        char buf[VH_PCI_ADDRESS_BUFLEN];

        if (e->group != group || g_str_equal(e->role, "held"))
            continue;
        g_string_append_printf(s, "%s%s (%s)", s->len ? ", " : "",
                               vh_pci_address_format(&e->addr, buf), e->role);
        if ((d = vh_node_device_list_lookup(list, &e->addr)))
            g_ptr_array_add(devices, d);
    }
    *ret_devices = g_steal_pointer(&devices);
    *ret_text = g_string_free(s, FALSE);
}

/*
 * The device is recorded (assigned, detached, held), or its group belongs
 * to someone: one owner per group, so no member can go to anyone else.
 */
static void
vh_assign_check_owner(VhAssignVerdict *verdict, const VhNodeDeviceList *list,
                      const VhNodeDevice *dev, const VhAssignOwners *owners)
{
    const VhAssignOwner *mine = vh_assign_owners_lookup(owners, &dev->addr);
    const char *group_owner = NULL;
    g_autoptr(GPtrArray) users = NULL;
    g_autofree char *users_text = NULL;
    char buf[VH_PCI_ADDRESS_BUFLEN];
    char *message;

    if (!mine && dev->has_group)
        group_owner = vh_assign_owners_group_owner(owners, dev->group);
    if (!mine && !group_owner)
        return;
    verdict->owner = g_strdup(mine ? mine->owner : group_owner);
    verdict->role = mine ? g_strdup(mine->role) : NULL;
    vh_pci_address_format(&dev->addr, buf);

    if (mine && !g_str_equal(mine->role, "held")) {
        users = g_ptr_array_new();
        g_ptr_array_add(users, (gpointer) dev);
        message = g_strdup_printf("%s is %s %s %s (%s); `virt-hostdev "
                                  "nodedev-reattach` it first", buf,
                                  mine->role,
                                  g_str_equal(mine->role, "assigned") ? "to" : "for",
                                  mine->owner, mine->driver);
    } else if (mine) {
        vh_assign_group_users(list, owners, mine->group, &users, &users_text);
        message = g_strdup_printf("%s is held on %s for %s as a peer of %s; it "
                                  "goes back to the host with the group "
                                  "(`virt-hostdev nodedev-reattach` of the "
                                  "assigned device)",
                                  buf, mine->driver, mine->owner,
                                  *users_text ? users_text : "an assigned device");
    } else {
        vh_assign_group_users(list, owners, dev->group, &users, &users_text);
        message = g_strdup_printf("%s is in IOMMU group %u, which belongs to %s"
                                  "%s%s; release the group first "
                                  "(`virt-hostdev nodedev-reattach` of its "
                                  "devices)", buf, dev->group, group_owner,
                                  *users_text ? ": " : "", users_text);
    }
    vh_assign_add(verdict, VH_ASSIGN_IN_USE, TRUE, g_steal_pointer(&users),
                  message);
}

/* Everything the host uses on @dev or any other member of its group. */
static void
vh_assign_check_host(VhAssignVerdict *verdict, const VhNodeDevice *dev,
                     GPtrArray *members, const VhHostUsage *usage)
{
    g_autoptr(GPtrArray) critical = g_ptr_array_new();
    g_autoptr(GString) what = g_string_new(NULL);
    char buf[VH_PCI_ADDRESS_BUFLEN];
    char abuf[VH_PCI_ADDRESS_BUFLEN];
    guint i;
    guint j;

    for (i = 0; i < members->len; i++) {
        VhNodeDevice *m = g_ptr_array_index(members, i);
        g_autoptr(GPtrArray) uses = NULL;

        /* A bridge's uses belong to the endpoints below it, which are
         * members themselves when they share its group. */
        if (vh_node_device_is_bridge(m))
            continue;
        uses = vh_host_usage_lookup(usage, &m->addr);
        if (uses->len == 0)
            continue;
        g_ptr_array_add(critical, m);
        for (j = 0; j < uses->len; j++) {
            g_autofree char *desc = vh_host_use_describe(g_ptr_array_index(uses, j));
            g_string_append_printf(what, "%s%s: %s", what->len ? "; " : "",
                                   vh_pci_address_format(&m->addr, abuf), desc);
        }
    }
    if (critical->len == 0)
        return;
    vh_assign_add(verdict, VH_ASSIGN_HOST_CRITICAL, TRUE,
                  g_steal_pointer(&critical),
                  g_strdup_printf("%s cannot be taken from the host: %s; "
                                  "free it first (unmount, move the route or "
                                  "address) or pick another device",
                                  vh_pci_address_format(&dev->addr, buf),
                                  what->str));
}

static void
vh_assign_check_group(VhAssignVerdict *verdict, const VhNodeDevice *dev,
                      GPtrArray *members)
{
    g_autoptr(GPtrArray) peers = g_ptr_array_new();
    g_autofree char *list = NULL;
    char buf[VH_PCI_ADDRESS_BUFLEN];
    guint i;

    for (i = 0; i < members->len; i++) {
        VhNodeDevice *m = g_ptr_array_index(members, i);
        if (m != dev && vh_iommu_group_member_blocks(m))
            g_ptr_array_add(peers, m);
    }
    if (peers->len == 0)
        return;
    list = vh_assign_list_devices(peers);
    vh_assign_add(verdict, VH_ASSIGN_NEEDS_GROUP, FALSE,
                  g_steal_pointer(&peers),
                  g_strdup_printf("%s shares IOMMU group %u with %s on host "
                                  "drivers: they must be held (pci-stub) while "
                                  "it is assigned; `virt-hostdev nodedev-detach` "
                                  "and `prepare` hold them",
                                  vh_pci_address_format(&dev->addr, buf),
                                  dev->group, list));
}

/*
 * Since Linux 5.15 reset_method lists the methods and is hidden when there
 * is none; before it, the reset attribute exists only when some reset
 * works.  Neither file: the kernel cannot reset the device.
 */
static void
vh_assign_check_reset(VhAssignVerdict *verdict, const VhNodeDevice *dev,
                      const VhSysfs *sysfs)
{
    g_autofree char *resetpath = vh_sysfs_pci_device_relpath(&dev->addr, "reset");
    char buf[VH_PCI_ADDRESS_BUFLEN];

    if (dev->has_reset_method && dev->reset_methods[0]) {
        verdict->reset_methods = g_strdupv(dev->reset_methods);
        return;
    }
    if (!dev->has_reset_method && vh_sysfs_exists(sysfs, resetpath))
        return;     /* resettable, by methods this kernel does not name */
    verdict->reset_methods = g_new0(char *, 1);
    vh_assign_add(verdict, VH_ASSIGN_NO_RESET, FALSE, NULL,
                  g_strdup_printf("%s has no reset method (no FLR, PM or bus "
                                  "reset): state can leak between guests and "
                                  "QEMU logs \"no available reset mechanism\"",
                                  vh_pci_address_format(&dev->addr, buf)));
}

VhAssignVerdict *
vh_assign_check(const VhNodeDeviceList *list, const VhNodeDevice *dev,
                const VhHostUsage *usage, const VhSysfs *sysfs,
                const VhAssignOwners *owners)
{
    g_autoptr(VhAssignVerdict) verdict = g_new0(VhAssignVerdict, 1);
    GPtrArray *members = vh_node_device_list_group(list, dev);
    char buf[VH_PCI_ADDRESS_BUFLEN];

    verdict->assignable = TRUE;
    verdict->reasons = g_ptr_array_new_with_free_func((GDestroyNotify) vh_assign_reason_free);

    /* Blocking reasons first, in the order a user fixes them. */
    if (!members) {
        vh_assign_add(verdict, VH_ASSIGN_NO_IOMMU, TRUE, NULL,
                      g_strdup_printf("%s is in no IOMMU group: enable VT-d/"
                                      "AMD-Vi in the firmware and boot with "
                                      "intel_iommu=on or amd_iommu=on",
                                      vh_pci_address_format(&dev->addr, buf)));
    }
    if (vh_node_device_is_bridge(dev)) {
        vh_assign_add(verdict, VH_ASSIGN_BRIDGE, TRUE, NULL,
                      g_strdup_printf("%s is a bridge: vfio-pci takes endpoints "
                                      "only; assign the devices behind it",
                                      vh_pci_address_format(&dev->addr, buf)));
    }
    if (owners)
        vh_assign_check_owner(verdict, list, dev, owners);
    if (usage) {
        g_autoptr(GPtrArray) self = g_ptr_array_new();
        g_ptr_array_add(self, (gpointer) dev);
        vh_assign_check_host(verdict, dev, members ? members : self, usage);
    }
    if (members && !vh_node_device_is_bridge(dev))
        vh_assign_check_group(verdict, dev, members);
    vh_assign_check_reset(verdict, dev, sysfs);
    return g_steal_pointer(&verdict);
}
