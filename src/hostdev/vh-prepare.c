/*
 * vh-prepare.c: a domain's devices, prepared and released as one operation
 *
 * prepare takes every managed device of a domain and holds the other
 * endpoints of their groups in ONE journaled operation, so that it happens
 * all or nothing: a failed step undoes the earlier ones (also those of
 * other devices), a crash is undone by `recover`.  release gives back
 * exactly what the registry records for the domain.  In libvirt's hook
 * (VH_PREPARE_HOOK) libvirt binds and gives back the assigned devices
 * itself; we hold and give back their peers and keep the records.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#define G_LOG_DOMAIN "hostdev.prepare"

#include <string.h>

#include "vh-error.h"
#include "vh-holders.h"
#include "vh-hostdev.h"
#include "vh-hostdev-priv.h"
#include "vh-iommu-group.h"
#include "vh-node-device.h"

#define VH_ASSIGN_DRIVER "vfio-pci"
#define VH_HOLD_DRIVER "pci-stub"

static gboolean
vh_prepare_check_owner(const char *owner, GError **error)
{
    g_autofree char *esc = NULL;

    if (vh_registry_owner_is_valid(owner))
        return TRUE;
    esc = g_strescape(owner ? owner : "", NULL);
    g_set_error(error, VH_HOSTDEV_ERROR, VH_HOSTDEV_ERROR_INVALID,
                "invalid domain name '%.64s' as owner: 1-256 bytes of UTF-8 "
                "without control characters", esc);
    return FALSE;
}

/* The registry after the operation starts as the one before it. */
static VhJournal *
vh_prepare_journal_new(const char *operation, const char *owner,
                       const VhRegistry *registry)
{
    VhJournal *journal = vh_journal_new(operation, owner);
    g_autoptr(GPtrArray) entries = vh_registry_entries(registry);
    guint i;

    for (i = 0; i < entries->len; i++)
        vh_registry_set(journal->after, g_ptr_array_index(entries, i));
    return journal;
}

static void
vh_prepare_move_free(VhPlanMove *move)
{
    if (!move)
        return;
    g_free(move->from);
    g_free(move->to);
    g_free(move);
}

/* A move for the guard only: a device libvirt will take (hook mode). */
static void
vh_prepare_add_checked(GPtrArray *checked, const VhNodeDevice *dev)
{
    VhPlanMove *move = g_new0(VhPlanMove, 1);

    move->addr = dev->addr;
    move->from = g_strdup(dev->driver);
    move->to = g_strdup(VH_ASSIGN_DRIVER);
    move->role = VH_ROLE_ASSIGNED;
    g_ptr_array_add(checked, move);
}

/* Step 1: look at every device; refuse before anything is planned. */
static gboolean
vh_prepare_sort_devices(const VhHostdevState *st, const char *owner,
                        const VhPrepareDevice *devs, guint n,
                        GPtrArray *managed, GPtrArray *unmanaged,
                        GArray *groups, GError **error)
{
    g_autoptr(GHashTable) seen = g_hash_table_new_full(g_str_hash, g_str_equal,
                                                       g_free, NULL);
    guint i;
    guint j;

    /* Bad input first, whatever the state of the devices. */
    for (i = 0; i < n; i++) {
        char buf[VH_PCI_ADDRESS_BUFLEN];

        vh_pci_address_format(&devs[i].addr, buf);
        if (!g_hash_table_add(seen, g_strdup(buf))) {
            g_set_error(error, VH_HOSTDEV_ERROR, VH_HOSTDEV_ERROR_INVALID,
                        "%s is given twice for %s; list each device once",
                        buf, owner);
            return FALSE;
        }
    }
    for (i = 0; i < n; i++) {
        const VhNodeDevice *dev;
        const char *group_owner;
        g_autofree char *shown = NULL;
        char buf[VH_PCI_ADDRESS_BUFLEN];
        gboolean known = FALSE;

        vh_pci_address_format(&devs[i].addr, buf);
        if (!(dev = vh_node_device_list_find(st->list, &devs[i].addr, error)))
            return FALSE;
        shown = vh_hostdev_driver_shown(dev->driver);
        if (vh_node_device_is_bridge(dev)) {
            g_set_error(error, VH_HOSTDEV_ERROR, VH_HOSTDEV_ERROR_INVALID,
                        "%s (%s) is a bridge: vfio-pci takes endpoints only; "
                        "give %s the devices behind it", buf,
                        shown, owner);
            return FALSE;
        }
        if (!dev->has_group) {
            g_set_error(error, VH_HOSTDEV_ERROR, VH_HOSTDEV_ERROR_INVALID,
                        "%s (%s) is in no IOMMU group: the IOMMU is off or "
                        "does not cover it; boot with intel_iommu=on or "
                        "amd_iommu=on", buf, shown);
            return FALSE;
        }
        group_owner = vh_registry_group_owner(st->registry, dev->group);
        if (!devs[i].managed) {
            /* The user binds an unmanaged device; "manual" is who did. */
            if (group_owner && !g_str_equal(group_owner, owner) &&
                !g_str_equal(group_owner, "manual")) {
                g_set_error(error, VH_HOSTDEV_ERROR, VH_HOSTDEV_ERROR_CONFLICT,
                            "%s (%s): IOMMU group %u belongs to %s; %s cannot "
                            "use it until %s releases it", buf,
                            shown, dev->group,
                            group_owner, owner, group_owner);
                return FALSE;
            }
            g_ptr_array_add(unmanaged, (gpointer) dev);
            continue;
        }
        if (group_owner && !g_str_equal(group_owner, owner)) {
            g_set_error(error, VH_HOSTDEV_ERROR, VH_HOSTDEV_ERROR_CONFLICT,
                        "%s (%s): IOMMU group %u belongs to %s; %s cannot "
                        "use it until %s releases it (`virt-hostdev release` "
                        "of that domain, or `virt-hostdev nodedev-reattach` "
                        "of its devices)", buf, shown,
                        dev->group, group_owner, owner, group_owner);
            return FALSE;
        }
        g_ptr_array_add(managed, (gpointer) dev);
        for (j = 0; j < groups->len; j++)
            known = known || g_array_index(groups, guint, j) == dev->group;
        if (!known)
            g_array_append_val(groups, dev->group);
    }
    return TRUE;
}

static gboolean
vh_prepare_is_managed(const GPtrArray *managed, const VhNodeDevice *dev)
{
    guint i;

    for (i = 0; i < managed->len; i++) {
        if (g_ptr_array_index(managed, i) == dev)
            return TRUE;
    }
    return FALSE;
}

/* Step 2: the managed devices themselves, in the order given. */
static void
vh_prepare_plan_assigned(const VhHostdevState *st, const char *owner,
                         const GPtrArray *managed, VhPrepareFlags flags,
                         VhPlan *plan, VhJournal *journal, GPtrArray *checked)
{
    guint i;

    for (i = 0; i < managed->len; i++) {
        const VhNodeDevice *dev = g_ptr_array_index(managed, i);
        const VhRegistryEntry *mine = vh_registry_lookup(st->registry,
                                                         &dev->addr);
        VhRegistryEntry entry = {
            .addr = dev->addr,
            .role = VH_ROLE_ASSIGNED,
            .owner = (char *) owner,
            .driver = (char *) VH_ASSIGN_DRIVER,
            /* Taken before (held for the same owner): keep what it had. */
            .original_driver = mine ? mine->original_driver : dev->driver,
            .group = dev->group,
        };
        char buf[VH_PCI_ADDRESS_BUFLEN];

        vh_pci_address_format(&dev->addr, buf);
        if (flags & VH_PREPARE_HOOK) {
            vh_plan_note(plan, "%s (%s): assigned to %s; libvirt binds it "
                         "to %s", buf, dev->driver ? dev->driver : "no driver",
                         owner, VH_ASSIGN_DRIVER);
            vh_prepare_add_checked(checked, dev);
        } else if (g_strcmp0(dev->driver, VH_ASSIGN_DRIVER) != 0) {
            vh_plan_add(plan, &dev->addr, dev->driver, VH_ASSIGN_DRIVER,
                        VH_ROLE_ASSIGNED);
            vh_journal_add_step(journal, &dev->addr, dev->driver,
                                VH_ASSIGN_DRIVER);
        } else {
            vh_plan_note(plan, "%s is already on %s", buf, VH_ASSIGN_DRIVER);
        }
        vh_registry_set(journal->after, &entry);
    }
}

/* Step 3: every other endpoint of those groups that is on a host driver. */
static void
vh_prepare_plan_held(const VhHostdevState *st, const char *owner,
                     const GPtrArray *managed, const GArray *groups,
                     VhPlan *plan, VhJournal *journal)
{
    guint g;
    guint i;

    for (g = 0; g < groups->len; g++) {
        guint group = g_array_index(groups, guint, g);
        g_autoptr(GPtrArray) blockers = vh_iommu_group_blockers(st->list, group);

        for (i = 0; i < blockers->len; i++) {
            const VhNodeDevice *peer = g_ptr_array_index(blockers, i);
            const VhRegistryEntry *mine;
            VhRegistryEntry held = {
                .addr = peer->addr, .role = VH_ROLE_HELD,
                .owner = (char *) owner, .driver = (char *) VH_HOLD_DRIVER,
                .original_driver = peer->driver, .group = group,
            };

            if (vh_prepare_is_managed(managed, peer))
                continue;
            mine = vh_registry_lookup(st->registry, &peer->addr);
            if (mine)
                held.original_driver = mine->original_driver;
            vh_plan_add(plan, &peer->addr, peer->driver, VH_HOLD_DRIVER,
                        VH_ROLE_HELD);
            vh_journal_add_step(journal, &peer->addr, peer->driver,
                                VH_HOLD_DRIVER);
            vh_registry_set(journal->after, &held);
        }
    }
}

static gboolean
vh_prepare_group_planned(const GArray *groups, guint group)
{
    guint i;

    for (i = 0; i < groups->len; i++) {
        if (g_array_index(groups, guint, i) == group)
            return TRUE;
    }
    return FALSE;
}

/* Step 4: unmanaged devices are the user's to bind; check they are ready. */
static gboolean
vh_prepare_check_unmanaged(const VhHostdevState *st, const char *owner,
                           const GPtrArray *unmanaged, const GArray *groups,
                           VhPlan *plan, GError **error)
{
    guint i;

    for (i = 0; i < unmanaged->len; i++) {
        const VhNodeDevice *dev = g_ptr_array_index(unmanaged, i);
        g_autoptr(GPtrArray) blockers = NULL;
        g_autofree char *names = NULL;
        g_autofree char *shown = vh_hostdev_driver_shown(dev->driver);
        char buf[VH_PCI_ADDRESS_BUFLEN];
        char name[VH_PCI_ADDRESS_BUFLEN];

        vh_pci_address_format(&dev->addr, buf);
        vh_pci_address_nodedev_name(&dev->addr, name);
        if (!dev->driver || !strstr(dev->driver, "vfio")) {
            g_set_error(error, VH_HOSTDEV_ERROR, VH_HOSTDEV_ERROR_FAILED,
                        "%s (%s) is unmanaged (managed='no') in %s but not "
                        "on vfio-pci; detach it first (`virt-hostdev "
                        "nodedev-detach %s`, which holds its group) or set "
                        "managed='yes'", buf, shown, owner, name);
            return FALSE;
        }
        /* Its group is held by this prepare when a managed device shares it. */
        if (vh_prepare_group_planned(groups, dev->group)) {
            vh_plan_note(plan, "%s: unmanaged, on %s; IOMMU group %u is held "
                         "with the managed devices", buf, dev->driver,
                         dev->group);
            continue;
        }
        blockers = vh_iommu_group_blockers(st->list, dev->group);
        if (blockers->len == 0) {
            vh_plan_note(plan, "%s: unmanaged, on %s; IOMMU group %u is "
                         "viable", buf, dev->driver, dev->group);
            continue;
        }
        names = vh_iommu_group_blockers_describe(blockers);
        g_set_error(error, VH_HOSTDEV_ERROR, VH_HOSTDEV_ERROR_FAILED,
                    "IOMMU group %u of %s (unmanaged, %s) is not viable: %s "
                    "%s still bound to a host driver; hold %s with "
                    "`virt-hostdev nodedev-detach %s` (which holds the "
                    "group), or set managed='yes' so that prepare does",
                    dev->group, buf, shown, names,
                    blockers->len == 1 ? "is" : "are",
                    blockers->len == 1 ? "it" : "them", name);
        return FALSE;
    }
    return TRUE;
}

/*
 * Steps 1-4 over what @st holds: the plan, the journal that would carry
 * it out, and the moves the guard must see (those libvirt makes in hook
 * mode too).  Refuses as vh_hostdev_prepare() documents.
 */
static gboolean
vh_prepare_build(const VhHostdevState *st, const char *owner,
                 const VhPrepareDevice *devs, guint n, VhPrepareFlags flags,
                 VhPlan **ret_plan, VhJournal **ret_journal,
                 GPtrArray **ret_checked, GError **error)
{
    g_autoptr(VhPlan) plan = NULL;
    g_autoptr(VhJournal) journal = NULL;
    g_autoptr(GPtrArray) managed = g_ptr_array_new();
    g_autoptr(GPtrArray) unmanaged = g_ptr_array_new();
    g_autoptr(GArray) groups = g_array_new(FALSE, FALSE, sizeof(guint));
    g_autoptr(GPtrArray) checked = NULL;

    if (!vh_prepare_sort_devices(st, owner, devs, n, managed, unmanaged,
                                 groups, error))
        return FALSE;

    plan = vh_plan_new();
    journal = vh_prepare_journal_new("prepare", owner, st->registry);
    checked = g_ptr_array_new_with_free_func((GDestroyNotify) vh_prepare_move_free);
    vh_prepare_plan_assigned(st, owner, managed, flags, plan, journal, checked);
    vh_prepare_plan_held(st, owner, managed, groups, plan, journal);
    if (!vh_prepare_check_unmanaged(st, owner, unmanaged, groups, plan, error))
        return FALSE;
    if (n == 0)
        vh_plan_note(plan, "%s has no PCI host devices: nothing to prepare",
                     owner);
    *ret_plan = g_steal_pointer(&plan);
    *ret_journal = g_steal_pointer(&journal);
    *ret_checked = g_steal_pointer(&checked);
    return TRUE;
}

gboolean
vh_hostdev_prepare_plan(const VhRegistry *registry,
                        const VhNodeDeviceList *list, const char *owner,
                        const VhPrepareDevice *devs, guint n,
                        VhPlan **ret_plan, GError **error)
{
    /* Borrowed, not owned: no lock, nothing to clear. */
    VhHostdevState st = {
        .registry = (VhRegistry *) registry,
        .list = (VhNodeDeviceList *) list,
    };
    g_autoptr(VhPlan) plan = NULL;
    g_autoptr(VhJournal) journal = NULL;
    g_autoptr(GPtrArray) checked = NULL;

    if (!vh_prepare_check_owner(owner, error))
        return FALSE;
    if (!vh_prepare_build(&st, owner, devs, n, 0, &plan, &journal, &checked,
                          error))
        return FALSE;
    *ret_plan = g_steal_pointer(&plan);
    return TRUE;
}

gboolean
vh_hostdev_prepare(const VhHostdev *h, const char *owner,
                   const VhPrepareDevice *devs, guint n, VhPrepareFlags flags,
                   VhPlan **ret_plan, GError **error)
{
    g_auto(VhHostdevState) st = { 0 };
    g_autoptr(VhPlan) plan = NULL;
    g_autoptr(VhJournal) journal = NULL;
    g_autoptr(GPtrArray) checked = NULL;
    g_autofree VhPciAddress *addrs = g_new0(VhPciAddress, MAX(n, 1));
    guint i;

    if (!vh_prepare_check_owner(owner, error))
        return FALSE;
    for (i = 0; i < n; i++)
        addrs[i] = devs[i].addr;
    /* Only the groups of the domain's devices are read. */
    if (!vh_hostdev_begin(h, &st, addrs, n, error))
        return FALSE;
    if (!vh_prepare_build(&st, owner, devs, n, flags, &plan, &journal,
                          &checked, error))
        return FALSE;

    /* The guard sees what we move and, in the hook, what libvirt will. */
    for (i = 0; i < plan->moves->len; i++) {
        const VhPlanMove *m = g_ptr_array_index(plan->moves, i);
        VhPlanMove *copy = g_new0(VhPlanMove, 1);

        *copy = *m;
        copy->from = g_strdup(m->from);
        copy->to = g_strdup(m->to);
        g_ptr_array_add(checked, copy);
    }
    if (!vh_hostdev_guard(h, checked, (flags & VH_PREPARE_FORCE) != 0, error))
        return FALSE;
    if (!(flags & VH_PREPARE_DRY_RUN) && n > 0 &&
        !vh_hostdev_run(h, journal, error)) {
        g_prefix_error(error, "preparing %s: ", owner);
        return FALSE;
    }
    *ret_plan = g_steal_pointer(&plan);
    return TRUE;
}

/* ---- release ------------------------------------------------------------ */

/* Refuse to take a vfio-pci device from under a process that uses it:
 * the kernel's unbind would wait for that process to let go. */
static gboolean
vh_release_check_holders(const VhHostdev *h, const char *owner, guint group,
                         GError **error)
{
    g_autoptr(GPtrArray) holders = NULL;
    g_autoptr(GString) who = g_string_new(NULL);
    guint unreadable = 0;
    guint i;

    if (!h->proc)
        return TRUE;
    if (!vh_holders_scan(h->proc, group, &holders, &unreadable, error))
        return FALSE;
    if (holders->len == 0)
        return TRUE;
    for (i = 0; i < holders->len; i++) {
        const VhHolder *holder = g_ptr_array_index(holders, i);

        g_string_append_printf(who, "%spid %u (%s)", i ? ", " : "",
                               holder->pid,
                               holder->comm ? holder->comm : "name unreadable");
    }
    g_set_error(error, VH_HOSTDEV_ERROR, VH_HOSTDEV_ERROR_CONFLICT,
                "cannot release %s: /dev/vfio/%u is open by %s; stop the "
                "guest first", owner, group, who->str);
    return FALSE;
}

/* In the hook: a group stays held while a device of the owner is kept. */
static gboolean
vh_release_group_kept(const GPtrArray *kept, guint group)
{
    guint i;

    for (i = 0; i < kept->len; i++) {
        const VhRegistryEntry *e = g_ptr_array_index(kept, i);
        if (e->group == group)
            return TRUE;
    }
    return FALSE;
}

/*
 * Step 1: the owner's assigned (and detached) devices go back first, as a
 * reattach orders them.  In the hook, libvirt has given them back before
 * "release end": only their records go; one it left on vfio-pci stays
 * recorded (in @kept), its group held.
 */
static gboolean
vh_release_plan_assigned(const VhHostdev *h, const VhHostdevState *st,
                         const char *owner, const GPtrArray *entries,
                         gboolean hook, VhPlan *plan, VhJournal *journal,
                         GPtrArray *kept, guint *recorded, GError **error)
{
    g_autoptr(GArray) checked = g_array_new(FALSE, FALSE, sizeof(guint));
    guint i;
    guint j;

    for (i = 0; i < entries->len; i++) {
        const VhRegistryEntry *e = g_ptr_array_index(entries, i);
        const VhNodeDevice *dev;
        gboolean on_vfio;
        gboolean seen = FALSE;
        char buf[VH_PCI_ADDRESS_BUFLEN];

        if (!g_str_equal(e->owner, owner) || e->role == VH_ROLE_HELD)
            continue;
        (*recorded)++;
        vh_pci_address_format(&e->addr, buf);
        if (!(dev = vh_node_device_list_lookup(st->list, &e->addr))) {
            vh_plan_note(plan, "%s is gone from the host: its record is "
                         "dropped", buf);
            vh_registry_remove(journal->after, &e->addr);
            continue;
        }
        on_vfio = dev->driver && strstr(dev->driver, "vfio");
        if (hook && on_vfio) {
            vh_plan_note(plan, "%s is still on %s: libvirt did not give it "
                         "back; it stays %s to %s with its group held "
                         "(`virt-hostdev nodedev-reattach %s` gives it back)",
                         buf, dev->driver, vh_hostdev_role_string(e->role),
                         owner, buf);
            g_ptr_array_add(kept, (gpointer) e);
            continue;
        }
        if (!hook && on_vfio) {
            for (j = 0; j < checked->len; j++)
                seen = seen || g_array_index(checked, guint, j) == e->group;
            if (!seen && !vh_release_check_holders(h, owner, e->group, error))
                return FALSE;
            g_array_append_val(checked, e->group);
        }
        if (!hook && g_strcmp0(dev->driver, e->original_driver) != 0) {
            vh_plan_add(plan, &e->addr, dev->driver, e->original_driver,
                        e->role);
            vh_journal_add_step(journal, &e->addr, dev->driver,
                                e->original_driver);
        }
        vh_registry_remove(journal->after, &e->addr);
    }
    return TRUE;
}

/* Step 2: the held peers, but not those of a group still kept. */
static void
vh_release_plan_held(const VhHostdevState *st, const char *owner,
                     const GPtrArray *entries, const GPtrArray *kept,
                     VhPlan *plan, VhJournal *journal, guint *recorded)
{
    guint i;

    for (i = 0; i < entries->len; i++) {
        const VhRegistryEntry *e = g_ptr_array_index(entries, i);
        const VhNodeDevice *dev;

        if (!g_str_equal(e->owner, owner) || e->role != VH_ROLE_HELD)
            continue;
        (*recorded)++;
        if (vh_release_group_kept(kept, e->group))
            continue;
        dev = vh_node_device_list_lookup(st->list, &e->addr);
        if (dev && g_strcmp0(dev->driver, e->original_driver) != 0) {
            vh_plan_add(plan, &e->addr, dev->driver, e->original_driver,
                        VH_ROLE_HELD);
            vh_journal_add_step(journal, &e->addr, dev->driver,
                                e->original_driver);
        }
        vh_registry_remove(journal->after, &e->addr);
    }
}

gboolean
vh_hostdev_release(const VhHostdev *h, const char *owner, VhPrepareFlags flags,
                   VhPlan **ret_plan, GError **error)
{
    g_auto(VhHostdevState) st = { 0 };
    g_autoptr(VhPlan) plan = NULL;
    g_autoptr(VhJournal) journal = NULL;
    g_autoptr(GPtrArray) entries = NULL;
    g_autoptr(GPtrArray) kept = g_ptr_array_new();
    gboolean hook = (flags & VH_PREPARE_HOOK) != 0;
    guint recorded = 0;

    if (!vh_prepare_check_owner(owner, error))
        return FALSE;
    if (!vh_hostdev_begin(h, &st, NULL, 0, error))
        return FALSE;
    plan = vh_plan_new();
    journal = vh_prepare_journal_new("release", owner, st.registry);
    entries = vh_registry_entries(st.registry);
    if (!vh_release_plan_assigned(h, &st, owner, entries, hook, plan, journal,
                                  kept, &recorded, error))
        return FALSE;
    vh_release_plan_held(&st, owner, entries, kept, plan, journal, &recorded);

    if (recorded == 0) {
        vh_plan_note(plan, "nothing is recorded for %s: nothing to give back",
                     owner);
        *ret_plan = g_steal_pointer(&plan);
        return TRUE;
    }
    if (!(flags & VH_PREPARE_DRY_RUN) && !vh_hostdev_run(h, journal, error)) {
        g_prefix_error(error, "releasing %s: ", owner);
        return FALSE;
    }
    *ret_plan = g_steal_pointer(&plan);
    return TRUE;
}
