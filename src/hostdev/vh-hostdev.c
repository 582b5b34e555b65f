/*
 * vh-hostdev.c: the hostdev manager: group-aware detach, hold, reattach
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#define G_LOG_DOMAIN "hostdev.manager"

#include <string.h>

#include "vh-error.h"
#include "vh-holders.h"
#include "vh-host-usage.h"
#include "vh-hostdev.h"
#include "vh-hostdev-priv.h"
#include "vh-iommu-group.h"
#include "vh-node-device.h"

#define VH_HOLD_DRIVER "pci-stub"
#define VH_DEFAULT_OWNER "manual"
#define VH_OP_FORCE_REATTACH "force-reattach"

/* ---- plans -------------------------------------------------------------- */

static void
vh_plan_move_free(VhPlanMove *move)
{
    if (!move)
        return;
    g_free(move->from);
    g_free(move->to);
    g_free(move);
}

VhPlan *
vh_plan_new(void)
{
    VhPlan *plan = g_new0(VhPlan, 1);

    plan->moves = g_ptr_array_new_with_free_func((GDestroyNotify) vh_plan_move_free);
    plan->notes = g_ptr_array_new_with_free_func(g_free);
    return plan;
}

void
vh_plan_free(VhPlan *plan)
{
    if (!plan)
        return;
    g_ptr_array_unref(plan->moves);
    g_ptr_array_unref(plan->notes);
    g_free(plan);
}

void
vh_plan_add(VhPlan *plan, const VhPciAddress *addr, const char *from,
            const char *to, VhHostdevRole role)
{
    VhPlanMove *move = g_new0(VhPlanMove, 1);

    move->addr = *addr;
    move->from = g_strdup(from);
    move->to = g_strdup(to);
    move->role = role;
    g_ptr_array_add(plan->moves, move);
}

char *
vh_hostdev_driver_shown(const char *driver)
{
    return driver ? vh_error_one_line(driver) : g_strdup("no driver");
}

/* A note is one line: what it quotes from sysfs (driver names) has its
 * control characters escaped here, whoever formatted it. */
void
vh_plan_note(VhPlan *plan, const char *fmt, ...)
{
    g_autofree char *note = NULL;
    va_list ap;

    va_start(ap, fmt);
    note = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    g_ptr_array_add(plan->notes, vh_error_one_line(note));
}

char *
vh_plan_format(const VhPlan *plan)
{
    GString *s = g_string_new(NULL);
    guint i;

    for (i = 0; i < plan->moves->len; i++) {
        const VhPlanMove *m = g_ptr_array_index(plan->moves, i);
        g_autofree char *from = vh_hostdev_driver_shown(m->from);
        g_autofree char *to = vh_hostdev_driver_shown(m->to);
        char buf[VH_PCI_ADDRESS_BUFLEN];

        g_string_append_printf(s, "%s: %s -> %s (%s)\n",
                               vh_pci_address_format(&m->addr, buf),
                               from, to,
                               m->rollback ? "rolled back"
                               : m->forced ? "forced"
                                           : vh_hostdev_role_string(m->role));
    }
    for (i = 0; i < plan->notes->len; i++)
        g_string_append_printf(s, "%s\n", (char *) g_ptr_array_index(plan->notes, i));
    return g_string_free(s, FALSE);
}

/* ---- running steps --------------------------------------------------------- */

/*
 * The context for step @n of @op: h->fault is "OP:N" (abort before the
 * step) or "OP:N:PHASE" (abort inside it, at that write); the copy carries
 * only the PHASE for the binding code, or nothing.
 */
static VhHostdev
vh_hostdev_for_step(const VhHostdev *h, const char *op, guint n)
{
    VhHostdev step = *h;
    g_autofree char *prefix = g_strdup_printf("%s:%u", op, n);

    step.fault = NULL;
    if (!h->fault || !g_str_has_prefix(h->fault, prefix))
        return step;
    if (h->fault[strlen(prefix)] == '\0')
        vh_hostdev_fault_point(h, h->fault);
    else if (h->fault[strlen(prefix)] == ':')
        step.fault = h->fault + strlen(prefix) + 1;
    return step;
}

/* vfio-pci or pci-stub: a step to it takes the device from the host. */
static gboolean
vh_hostdev_driver_is_ours(const char *driver)
{
    return driver && (g_str_equal(driver, "vfio-pci") ||
                      g_str_equal(driver, VH_HOLD_DRIVER));
}

static gboolean
vh_hostdev_move(const VhHostdev *h, const VhPciAddress *addr, const char *to,
                GError **error)
{
    /* Towards our drivers a bind; away from them a restore. */
    if (vh_hostdev_driver_is_ours(to))
        return vh_pci_driver_bind(h, addr, to, error);
    return vh_pci_driver_restore(h, addr, to, error);
}

/* How a step of an operation runs. */
typedef gboolean (*VhStepFunc)(const VhHostdev *h, const VhJournalStep *step,
                               GError **error);

static gboolean
vh_hostdev_step_move(const VhHostdev *h, const VhJournalStep *step,
                     GError **error)
{
    return vh_hostdev_move(h, &step->addr, step->to_driver, error);
}

/* A force-reattach step: whichever host driver the kernel picks ("to" is
 * null in the journal: not known before). */
static gboolean
vh_hostdev_step_release(const VhHostdev *h, const VhJournalStep *step,
                        GError **error)
{
    return vh_pci_driver_release(h, &step->addr, NULL, error);
}

/* Put steps [0, @upto] back on their "from" drivers, last first. */
static gboolean
vh_hostdev_undo(const VhHostdev *h, const VhJournal *journal, guint upto,
                VhPlan *undone, GError **error)
{
    gboolean ok = TRUE;
    guint i;

    for (i = MIN(upto + 1, journal->steps->len); i > 0; i--) {
        const VhJournalStep *step = g_ptr_array_index(journal->steps, i - 1);
        g_autoptr(GError) err = NULL;
        g_autofree char *now = NULL;

        if (!vh_pci_driver_current(h, &step->addr, &now, &err)) {
            g_debug("undo: %s", err->message);
            g_clear_error(&err);
        }
        if (!vh_hostdev_move(h, &step->addr, step->from_driver, &err)) {
            /* Keep going: give back what can be given back. */
            if (ok)
                g_propagate_error(error, g_steal_pointer(&err));
            ok = FALSE;
            continue;
        }
        if (undone && g_strcmp0(now, step->from_driver) != 0) {
            vh_plan_add(undone, &step->addr, now, step->from_driver,
                        VH_ROLE_DETACHED);
            ((VhPlanMove *) g_ptr_array_index(undone->moves,
                                              undone->moves->len - 1))->rollback = TRUE;
        }
    }
    return ok;
}

/* ---- running lanes in parallel -------------------------------------------- */

/*
 * Steps that do not depend on each other run in lanes side by side, in
 * threads (vh_hostdev_lanes() says which); each lane's steps run in order.
 * The kernel work of a rebinding is mostly waiting (the old driver's
 * remove, power-state delays, RCU grace periods), so lanes overlap it.
 */
typedef struct {
    const VhHostdev *h;
    const VhJournal *journal;
    VhStepFunc run_step;
    GMutex lock;
    GError *failure;            /* the first failure, under @lock */
} VhLanes;

static void
vh_hostdev_lane_run(gpointer data, gpointer user_data)
{
    GArray *lane = data;
    VhLanes *all = user_data;
    guint i;

    for (i = 0; i < lane->len; i++) {
        guint n = g_array_index(lane, guint, i);
        const VhJournalStep *step = g_ptr_array_index(all->journal->steps, n);
        g_autoptr(GError) err = NULL;
        VhHostdev stepctx;
        gboolean stop;

        g_mutex_lock(&all->lock);
        stop = all->failure != NULL;
        g_mutex_unlock(&all->lock);
        if (stop)
            return;
        stepctx = vh_hostdev_for_step(all->h, all->journal->operation, n);
        if (!all->run_step(&stepctx, step, &err)) {
            g_mutex_lock(&all->lock);
            if (!all->failure)
                all->failure = g_steal_pointer(&err);
            g_mutex_unlock(&all->lock);
            return;
        }
    }
}

/* @addr is a VF (physfn) or a PF with VFs enabled (virtfn0): unbinding a
 * PF's driver removes its VFs, so their steps depend on each other even
 * across IOMMU groups. */
static gboolean
vh_hostdev_is_sriov(const VhHostdev *h, const VhPciAddress *addr)
{
    g_autofree char *physfn = vh_sysfs_pci_device_relpath(addr, "physfn");
    g_autofree char *virtfn = vh_sysfs_pci_device_relpath(addr, "virtfn0");

    return vh_sysfs_exists(h->sysfs, physfn) || vh_sysfs_exists(h->sysfs, virtfn);
}

/*
 * The steps' indexes by lane (GArray of guint each), in order of first
 * appearance.  The steps of an IOMMU group that only takes devices (to
 * vfio-pci or pci-stub) are a lane each: the kernel rebinds each device
 * under its own lock, and the group is viable only once all of them are
 * off the host anyway, so a NIC and the peer it holds move side by side.
 * A group that gives devices back is one lane, its steps in their order
 * (the assigned devices before the peers they held).  The groups with an
 * SR-IOV device (a PF with VFs, a VF) share one lane, in order.  A device
 * in no group is a lane of its own.
 */
GPtrArray *
vh_hostdev_lanes(const VhHostdev *h, const VhJournal *journal)
{
    g_autoptr(GHashTable) by_key = g_hash_table_new_full(g_str_hash, g_str_equal,
                                                         g_free, NULL);
    /* groups whose steps keep their order: one gives a device back */
    g_autoptr(GHashTable) ordered = g_hash_table_new(g_str_hash, g_str_equal);
    /* groups with an SR-IOV device */
    g_autoptr(GHashTable) sriov = g_hash_table_new(g_str_hash, g_str_equal);
    g_autoptr(GPtrArray) groups = g_ptr_array_new_with_free_func(g_free);
    GPtrArray *lanes = g_ptr_array_new_with_free_func((GDestroyNotify) g_array_unref);
    guint i;

    for (i = 0; i < journal->steps->len; i++) {
        const VhJournalStep *step = g_ptr_array_index(journal->steps, i);
        g_autofree char *link = vh_sysfs_pci_device_relpath(&step->addr, "iommu_group");
        char *group = NULL;
        char buf[VH_PCI_ADDRESS_BUFLEN];

        if (!vh_sysfs_read_link_name(h->sysfs, link, &group, NULL) || !group) {
            g_free(group);
            group = g_strdup_printf("device %s",
                                    vh_pci_address_format(&step->addr, buf));
        }
        if (!vh_hostdev_driver_is_ours(step->to_driver))
            g_hash_table_add(ordered, group);
        if (vh_hostdev_is_sriov(h, &step->addr))
            g_hash_table_add(sriov, group);
        g_ptr_array_add(groups, group);
    }
    for (i = 0; i < journal->steps->len; i++) {
        const VhJournalStep *step = g_ptr_array_index(journal->steps, i);
        const char *group = g_ptr_array_index(groups, i);
        char buf[VH_PCI_ADDRESS_BUFLEN];
        g_autofree char *key = NULL;
        GArray *lane;

        if (g_hash_table_contains(sriov, group))
            key = g_strdup("sr-iov");
        else if (g_hash_table_contains(ordered, group))
            key = g_strdup(group);
        else
            key = g_strdup_printf("device %s",
                                  vh_pci_address_format(&step->addr, buf));
        if (!(lane = g_hash_table_lookup(by_key, key))) {
            lane = g_array_new(FALSE, FALSE, sizeof(guint));
            g_ptr_array_add(lanes, lane);
            g_hash_table_insert(by_key, g_steal_pointer(&key), lane);
        }
        g_array_append_val(lane, i);
    }
    return lanes;
}

/*
 * Run @lanes side by side, at most h->threads at a time.  The journal is
 * written once before, with next at the last step: from then on every
 * step may have run, and recover undoes them all (undoing a step that did
 * not run changes nothing).  FALSE with @failure set when a step failed;
 * the other lanes stop before their next step.
 */
static gboolean
vh_hostdev_run_lanes(const VhHostdev *h, VhJournal *journal,
                     VhStepFunc run_step, GPtrArray *lanes, GError **failure)
{
    VhLanes all = { .h = h, .journal = journal, .run_step = run_step };
    GThreadPool *pool;
    guint i;

    journal->next = journal->steps->len - 1;
    if (!vh_journal_save(journal, h->state_dir, failure))
        return FALSE;
    g_mutex_init(&all.lock);
    pool = g_thread_pool_new(vh_hostdev_lane_run, &all,
                             (gint) MIN(h->threads, lanes->len), TRUE, NULL);
    for (i = 0; i < lanes->len; i++)
        g_thread_pool_push(pool, g_ptr_array_index(lanes, i), NULL);
    g_thread_pool_free(pool, FALSE, TRUE);      /* waits for every lane */
    g_mutex_clear(&all.lock);
    if (all.failure) {
        g_propagate_error(failure, all.failure);
        return FALSE;
    }
    return TRUE;
}

/*
 * Run @journal: persist it, then each step with its index persisted
 * before it (or, with h->threads > 1 and steps in several IOMMU groups,
 * the groups side by side, vh_hostdev_run_lanes()); commit the registry
 * and drop the journal at the end.  On a failed step, undo what ran and
 * leave the registry as it was.
 */
static gboolean
vh_hostdev_run_steps(const VhHostdev *h, VhJournal *journal,
                     VhStepFunc run_step, GError **error)
{
    g_autoptr(GError) failure = NULL;
    g_autoptr(GError) undo = NULL;
    g_autoptr(GPtrArray) lanes = NULL;
    guint i = 0;

    /* A driver link the kernel would not make (dangling, a loop, out of
     * the tree, a name no driver has), or a driver_override that is no
     * file (every step writes it), means sysfs is not what the plan was
     * made from: refuse before the journal, while nothing has been
     * touched.  Steps run side by side, so a step that cannot write would
     * otherwise fail while others of the group move. */
    for (i = 0; i < journal->steps->len; i++) {
        const VhJournalStep *step = g_ptr_array_index(journal->steps, i);
        g_autofree char *override = vh_sysfs_pci_device_relpath(&step->addr,
                                                                "driver_override");
        g_autofree char *driver = NULL;

        if (!vh_pci_driver_current(h, &step->addr, &driver, error)) {
            g_prefix_error(error, "refusing the %s, nothing changed: ",
                           journal->operation);
            return FALSE;
        }
        if (driver && !vh_registry_driver_is_valid(driver)) {
            g_autofree char *shown = vh_error_one_line(driver);
            char buf[VH_PCI_ADDRESS_BUFLEN];

            g_set_error(error, VH_HOSTDEV_ERROR, VH_HOSTDEV_ERROR_INVALID,
                        "refusing the %s, nothing changed: %s is on driver "
                        "'%s', a name no kernel driver has; sysfs looks "
                        "inconsistent: check the device's driver link",
                        journal->operation,
                        vh_pci_address_format(&step->addr, buf), shown);
            return FALSE;
        }
        if (!vh_sysfs_is_file(h->sysfs, override)) {
            g_autofree char *path = vh_sysfs_describe(h->sysfs, override);
            g_autofree char *shown = vh_hostdev_driver_shown(driver);
            char buf[VH_PCI_ADDRESS_BUFLEN];

            g_set_error(error, VH_HOSTDEV_ERROR, VH_HOSTDEV_ERROR_INVALID,
                        "refusing the %s, nothing changed: %s (%s): %s is "
                        "%s; virt-hostdev binds through it (Linux 3.16 and "
                        "later): check the kernel and its sysfs",
                        journal->operation,
                        vh_pci_address_format(&step->addr, buf), shown, path,
                        vh_sysfs_exists(h->sysfs, override)
                        ? "not a regular file" : "missing");
            return FALSE;
        }
    }
    i = 0;

    if (h->threads > 1 && journal->steps->len > 1 &&
        (lanes = vh_hostdev_lanes(h, journal))->len > 1) {
        /* A failure anywhere may leave any step run in part. */
        if (!vh_hostdev_run_lanes(h, journal, run_step, lanes, &failure))
            i = journal->steps->len - 1;
        else
            i = journal->steps->len;
    }
    for (; i < journal->steps->len && !failure; i++) {
        const VhJournalStep *step = g_ptr_array_index(journal->steps, i);
        VhHostdev stepctx;

        /* Persist the intent before the step, never after. */
        journal->next = i;
        if (!vh_journal_save(journal, h->state_dir, &failure))
            break;
        stepctx = vh_hostdev_for_step(h, journal->operation, i);
        if (!run_step(&stepctx, step, &failure))
            break;
    }
    if (!failure) {
        /* Every step ran: say so first, so that a crash while committing
         * is completed by recover, not rolled back under a new registry. */
        journal->next = journal->steps->len;
        if (vh_journal_save(journal, h->state_dir, &failure) &&
            vh_registry_save(journal->after, h->state_dir, &failure)) {
            g_autofree char *commit = g_strdup_printf("%s:commit",
                                                      journal->operation);
            vh_hostdev_fault_point(h, commit);
            return vh_journal_remove(h->state_dir, error);
        }
    }

    /* Undo what ran, the failed step included (it may have run in part). */
    if (!vh_hostdev_undo(h, journal, i, NULL, &undo) ||
        !vh_journal_remove(h->state_dir, &undo)) {
        g_set_error(error, VH_HOSTDEV_ERROR, VH_HOSTDEV_ERROR_FAILED,
                    "%s; undoing the %s failed too: %s; run `virt-hostdev "
                    "recover`", failure->message, journal->operation,
                    undo->message);
        return FALSE;
    }
    g_propagate_error(error, g_steal_pointer(&failure));
    return FALSE;
}

gboolean
vh_hostdev_run(const VhHostdev *h, VhJournal *journal, GError **error)
{
    return vh_hostdev_run_steps(h, journal, vh_hostdev_step_move, error);
}

/* ---- checks shared by operations ------------------------------------------------ */

void
vh_hostdev_state_clear(VhHostdevState *st)
{
    g_clear_pointer(&st->list, vh_node_device_list_free);
    g_clear_pointer(&st->registry, vh_registry_free);
    g_clear_pointer(&st->lock, vh_state_unlock);
}

/* Lock, refuse while an interrupted operation waits, read everything. */
gboolean
vh_hostdev_begin(const VhHostdev *h, VhHostdevState *st,
                 const VhPciAddress *addrs, guint n_addrs, GError **error)
{
    g_autoptr(VhJournal) pending = NULL;

    if (!(st->lock = vh_state_lock(h->state_dir, h->timeout_ms ? h->timeout_ms
                                                               : 30000, error)))
        return FALSE;
    if (!vh_journal_load(h->state_dir, &pending, error))
        return FALSE;
    if (pending) {
        g_set_error(error, VH_HOSTDEV_ERROR, VH_HOSTDEV_ERROR_FAILED,
                    "an interrupted %s for %s is pending in %s; run "
                    "`virt-hostdev recover` first", pending->operation,
                    pending->owner, h->state_dir);
        return FALSE;
    }
    if (!(st->registry = vh_registry_load(h->state_dir, error)))
        return FALSE;
    /* An operation on a few devices reads only their groups: the peers it
     * holds or gives back, and the blockers it names, are all in them. */
    st->list = addrs ? vh_node_device_list_scan_groups(h->sysfs, addrs, n_addrs,
                                                       0, error)
                     : vh_node_device_list_scan(h->sysfs, 0, error);
    return st->list != NULL;
}

/* Refuse when the host uses any device that would move (unless forced). */
gboolean
vh_hostdev_guard(const VhHostdev *h, const GPtrArray *moves, gboolean force,
                 GError **error)
{
    g_autoptr(VhHostUsage) usage = NULL;
    g_autoptr(GString) what = g_string_new(NULL);
    guint i;
    guint j;

    if (!(usage = vh_host_usage_scan(h->sysfs, h->proc, error)))
        return FALSE;
    for (i = 0; i < moves->len; i++) {
        const VhPlanMove *m = g_ptr_array_index(moves, i);
        g_autoptr(GPtrArray) uses = vh_host_usage_lookup(usage, &m->addr);

        for (j = 0; j < uses->len; j++) {
            g_autofree char *desc = vh_host_use_describe(g_ptr_array_index(uses, j));
            g_autofree char *from = vh_hostdev_driver_shown(m->from);
            char buf[VH_PCI_ADDRESS_BUFLEN];

            g_string_append_printf(what, "%s%s (%s, would be %s): %s",
                                   what->len ? "; " : "",
                                   vh_pci_address_format(&m->addr, buf),
                                   from,
                                   vh_hostdev_role_string(m->role), desc);
        }
    }
    if (what->len == 0 || force)
        return TRUE;
    g_set_error(error, VH_HOSTDEV_ERROR, VH_HOSTDEV_ERROR_CRITICAL,
                "refusing: the host uses what this would take: %s; free it "
                "first, choose another device, or pass --force", what->str);
    return FALSE;
}

/* ---- detach ------------------------------------------------------------------- */

/*
 * @dev was planned by an earlier device of the same request: named twice,
 * nothing to add; planned as a held peer, it is named itself now, so it
 * goes to @driver with the same role as the device that planned it.
 */
static gboolean
vh_hostdev_plan_upgrade(const VhNodeDevice *dev, const VhRegistryEntry *mine,
                        const VhDetachOptions *opts, const char *driver,
                        VhPlan *plan, VhJournal *journal)
{
    g_autoptr(VhRegistryEntry) entry = NULL;
    guint i;

    if (mine->role != VH_ROLE_HELD)
        return TRUE;
    entry = vh_registry_entry_copy(mine);
    entry->role = opts->hold ? VH_ROLE_ASSIGNED : VH_ROLE_DETACHED;
    g_free(entry->driver);
    entry->driver = g_strdup(driver);
    for (i = 0; i < journal->steps->len; i++) {
        VhJournalStep *step = g_ptr_array_index(journal->steps, i);
        VhPlanMove *move = g_ptr_array_index(plan->moves, i);

        if (!vh_pci_address_equal(&step->addr, &dev->addr))
            continue;
        g_free(step->to_driver);
        step->to_driver = g_strdup(driver);
        g_free(move->to);
        move->to = g_strdup(driver);
        move->role = entry->role;
    }
    vh_registry_set(journal->after, entry);
    return TRUE;
}

static gboolean
vh_hostdev_plan_detach(const VhHostdev *h, VhHostdevState *st,
                       const VhNodeDevice *dev, const VhDetachOptions *opts,
                       const char *owner, const char *driver, VhPlan *plan,
                       VhJournal *journal, GError **error)
{
    GPtrArray *members = vh_node_device_list_group(st->list, dev);
    const char *group_owner;
    /* Earlier devices of the same request are in journal->after already. */
    const VhRegistryEntry *mine = vh_registry_lookup(journal->after, &dev->addr);
    const VhRegistryEntry *before = vh_registry_lookup(st->registry, &dev->addr);
    gboolean mine_is_new = mine && !before;
    g_autofree char *shown = vh_hostdev_driver_shown(dev->driver);
    g_autoptr(GPtrArray) blockers = NULL;
    const char *hold;
    char buf[VH_PCI_ADDRESS_BUFLEN];
    guint i;

    vh_pci_address_format(&dev->addr, buf);
    if (vh_node_device_is_bridge(dev)) {
        g_set_error(error, VH_HOSTDEV_ERROR, VH_HOSTDEV_ERROR_INVALID,
                    "%s (%s) is a bridge: vfio-pci takes endpoints only; "
                    "detach the devices behind it", buf, shown);
        return FALSE;
    }
    if (!members) {
        g_set_error(error, VH_HOSTDEV_ERROR, VH_HOSTDEV_ERROR_INVALID,
                    "%s (%s) is in no IOMMU group: the IOMMU is off or does "
                    "not cover it; boot with intel_iommu=on or amd_iommu=on",
                    buf, shown);
        return FALSE;
    }
    group_owner = vh_registry_group_owner(journal->after, dev->group);
    if (group_owner && !g_str_equal(group_owner, owner)) {
        g_set_error(error, VH_HOSTDEV_ERROR, VH_HOSTDEV_ERROR_CONFLICT,
                    "%s (%s): IOMMU group %u belongs to %s; release it there "
                    "first (`virt-hostdev nodedev-reattach` of its devices)",
                    buf, shown, dev->group, group_owner);
        return FALSE;
    }
    if (mine_is_new)
        return vh_hostdev_plan_upgrade(dev, mine, opts, driver, plan, journal);
    if (mine && mine->role == VH_ROLE_HELD) {
        g_set_error(error, VH_HOSTDEV_ERROR, VH_HOSTDEV_ERROR_CONFLICT,
                    "%s is held on %s for %s as a peer of an assigned device; "
                    "reattach that device first", buf, mine->driver, mine->owner);
        return FALSE;
    }

    /* Step 1: the device itself. */
    {
        VhRegistryEntry entry = {
            .addr = dev->addr,
            .role = opts->hold ? VH_ROLE_ASSIGNED : VH_ROLE_DETACHED,
            .owner = (char *) owner,
            .driver = (char *) driver,
            /* From the registry as it was: vh_registry_set() below
             * replaces (frees) @mine in journal->after. */
            .original_driver = before ? before->original_driver : dev->driver,
            .group = dev->group,
        };
        if (g_strcmp0(dev->driver, driver) != 0) {
            vh_plan_add(plan, &dev->addr, dev->driver, driver, entry.role);
            vh_journal_add_step(journal, &dev->addr, dev->driver, driver);
        } else {
            vh_plan_note(plan, "%s is already on %s", buf, driver);
        }
        vh_registry_set(journal->after, &entry);
    }

    /* Step 2: every other endpoint on a host driver, held (pci-stub by
     * default: nothing can use a device there). */
    hold = opts->hold_driver ? opts->hold_driver : VH_HOLD_DRIVER;
    blockers = vh_iommu_group_blockers(st->list, dev->group);
    for (i = 0; i < blockers->len; i++) {
        const VhNodeDevice *peer = g_ptr_array_index(blockers, i);
        char pbuf[VH_PCI_ADDRESS_BUFLEN];

        if (peer == dev)
            continue;
        /* Planned by an earlier device of this request. */
        if (vh_registry_lookup(journal->after, &peer->addr) &&
            !vh_registry_lookup(st->registry, &peer->addr))
            continue;
        vh_pci_address_format(&peer->addr, pbuf);
        if (!opts->hold) {
            vh_plan_note(plan, "--no-hold: group %u stays not viable while "
                         "%s (%s) is on a host driver", dev->group, pbuf,
                         peer->driver);
            continue;
        }
        {
            VhRegistryEntry held = {
                .addr = peer->addr, .role = VH_ROLE_HELD, .owner = (char *) owner,
                .driver = (char *) hold, .original_driver = peer->driver,
                .group = dev->group,
            };
            vh_plan_add(plan, &peer->addr, peer->driver, hold,
                        VH_ROLE_HELD);
            vh_journal_add_step(journal, &peer->addr, peer->driver, hold);
            vh_registry_set(journal->after, &held);
        }
    }
    return TRUE;
}

gboolean
vh_hostdev_detach(const VhHostdev *h, const VhPciAddress *addr,
                  const VhDetachOptions *opts, VhPlan **ret_plan,
                  GError **error)
{
    return vh_hostdev_detach_many(h, addr, 1, opts, ret_plan, error);
}

gboolean
vh_hostdev_detach_many(const VhHostdev *h, const VhPciAddress *addrs,
                       guint n_addrs, const VhDetachOptions *opts,
                       VhPlan **ret_plan, GError **error)
{
    g_auto(VhHostdevState) st = { 0 };
    g_autoptr(VhPlan) plan = vh_plan_new();
    g_autoptr(VhJournal) journal = NULL;
    const char *owner = opts->owner ? opts->owner : VH_DEFAULT_OWNER;
    const char *driver = opts->driver ? opts->driver : "vfio-pci";
    const VhNodeDevice *dev;
    guint i;

    if (opts->hold_driver && !g_str_equal(opts->hold_driver, "vfio-pci") &&
        !g_str_equal(opts->hold_driver, VH_HOLD_DRIVER)) {
        g_autofree char *esc = vh_error_one_line(opts->hold_driver);
        g_set_error(error, VH_HOSTDEV_ERROR, VH_HOSTDEV_ERROR_INVALID,
                    "unknown hold driver '%s': use vfio (vfio-pci) or stub "
                    "(pci-stub)", esc);
        return FALSE;
    }
    if (!g_str_equal(driver, "vfio-pci") && !g_str_equal(driver, VH_HOLD_DRIVER)) {
        g_autofree char *esc = vh_error_one_line(driver);
        g_set_error(error, VH_HOSTDEV_ERROR, VH_HOSTDEV_ERROR_INVALID,
                    "unknown driver '%s': use vfio (vfio-pci) or stub (pci-stub)",
                    esc);
        return FALSE;
    }
    if (!vh_registry_owner_is_valid(owner)) {
        g_autofree char *esc = g_strescape(owner, NULL);
        g_set_error(error, VH_HOSTDEV_ERROR, VH_HOSTDEV_ERROR_INVALID,
                    "invalid owner '%.64s': give a domain name or UUID, at "
                    "most 256 bytes, no control characters", esc);
        return FALSE;
    }
    g_return_val_if_fail(n_addrs > 0, FALSE);
    if (!vh_hostdev_begin(h, &st, addrs, n_addrs, error))
        return FALSE;

    journal = vh_journal_new("detach", owner);
    /* The registry after the operation starts as the one before it. */
    {
        g_autoptr(GPtrArray) entries = vh_registry_entries(st.registry);
        for (i = 0; i < entries->len; i++)
            vh_registry_set(journal->after, g_ptr_array_index(entries, i));
    }
    /* One operation for every device: one lock, one scan, one journal;
     * all of it happens or none. */
    for (i = 0; i < n_addrs; i++) {
        if (!(dev = vh_node_device_list_find(st.list, &addrs[i], error)) ||
            !vh_hostdev_plan_detach(h, &st, dev, opts, owner, driver, plan,
                                    journal, error))
            return FALSE;
    }
    if (!vh_hostdev_guard(h, plan->moves, opts->force, error))
        return FALSE;
    if (!opts->dry_run && !vh_hostdev_run_steps(h, journal, vh_hostdev_step_move, error))
        return FALSE;
    *ret_plan = g_steal_pointer(&plan);
    return TRUE;
}

/* ---- reattach ----------------------------------------------------------------- */

gboolean
vh_hostdev_reattach(const VhHostdev *h, const VhPciAddress *addr,
                    gboolean dry_run, VhPlan **ret_plan, GError **error)
{
    return vh_hostdev_reattach_many(h, addr, 1, dry_run, ret_plan, error);
}

/* A device of @group in @after that is not held, or NULL. */
static const VhRegistryEntry *
vh_hostdev_group_user(const VhRegistry *after, guint group)
{
    g_autoptr(GPtrArray) entries = vh_registry_entries(after);
    guint i;

    for (i = 0; i < entries->len; i++) {
        const VhRegistryEntry *e = g_ptr_array_index(entries, i);
        if (e->group == group && e->role != VH_ROLE_HELD)
            return e;
    }
    return NULL;
}

/* Plan giving back @entry's device; when it was the last assigned device
 * of its group, the held peers too.  @groups collects the groups. */
static gboolean
vh_hostdev_plan_reattach(VhHostdevState *st, const VhNodeDevice *dev,
                         const VhRegistryEntry *entry, VhPlan *plan,
                         VhJournal *journal, GArray *groups, GError **error)
{
    g_autoptr(GPtrArray) entries = NULL;
    char buf[VH_PCI_ADDRESS_BUFLEN];
    guint group = entry->group;
    guint i;

    vh_pci_address_format(&dev->addr, buf);
    if (entry->role == VH_ROLE_HELD) {
        g_set_error(error, VH_HOSTDEV_ERROR, VH_HOSTDEV_ERROR_CONFLICT,
                    "%s is held on %s for %s as a peer of an assigned device "
                    "of group %u; reattach that device, which gives it back too",
                    buf, entry->driver, entry->owner, entry->group);
        return FALSE;
    }
    vh_plan_add(plan, &dev->addr, dev->driver, entry->original_driver,
                entry->role);
    vh_journal_add_step(journal, &dev->addr, dev->driver,
                        entry->original_driver);
    g_array_append_val(groups, group);
    vh_registry_remove(journal->after, &dev->addr);   /* frees @entry */
    if (vh_hostdev_group_user(journal->after, group))
        return TRUE;

    /* The last assigned device of the group gives the held peers back. */
    entries = vh_registry_entries(journal->after);
    for (i = 0; i < entries->len; i++) {
        const VhRegistryEntry *e = g_ptr_array_index(entries, i);
        const VhNodeDevice *peer;

        if (e->group != group || e->role != VH_ROLE_HELD)
            continue;
        peer = vh_node_device_list_lookup(st->list, &e->addr);
        vh_plan_add(plan, &e->addr, peer ? peer->driver : e->driver,
                    e->original_driver, VH_ROLE_HELD);
        vh_journal_add_step(journal, &e->addr, peer ? peer->driver : e->driver,
                            e->original_driver);
    }
    for (i = entries->len; i > 0; i--) {
        const VhRegistryEntry *e = g_ptr_array_index(entries, i - 1);

        if (e->group == group && e->role == VH_ROLE_HELD)
            vh_registry_remove(journal->after, &e->addr);
    }
    return TRUE;
}

gboolean
vh_hostdev_reattach_many(const VhHostdev *h, const VhPciAddress *addrs,
                         guint n_addrs, gboolean dry_run, VhPlan **ret_plan,
                         GError **error)
{
    g_auto(VhHostdevState) st = { 0 };
    g_autoptr(VhPlan) plan = vh_plan_new();
    g_autoptr(VhJournal) journal = NULL;
    g_autoptr(GArray) groups = g_array_new(FALSE, FALSE, sizeof(guint));
    g_autoptr(GPtrArray) entries = NULL;
    guint i;
    guint j;

    g_return_val_if_fail(n_addrs > 0, FALSE);
    if (!vh_hostdev_begin(h, &st, addrs, n_addrs, error))
        return FALSE;
    for (i = 0; i < n_addrs; i++) {
        const VhRegistryEntry *entry = vh_registry_lookup(st.registry, &addrs[i]);
        const VhNodeDevice *dev;
        char buf[VH_PCI_ADDRESS_BUFLEN];

        if (!(dev = vh_node_device_list_find(st.list, &addrs[i], error)))
            return FALSE;
        vh_pci_address_format(&addrs[i], buf);
        if (!entry) {
            vh_plan_note(plan, "%s (%s) was not detached by virt-hostdev: "
                         "left alone", buf,
                         dev->driver ? dev->driver : "no driver");
            continue;
        }
        if (!journal) {
            journal = vh_journal_new("reattach", entry->owner);
            entries = vh_registry_entries(st.registry);
            for (j = 0; j < entries->len; j++)
                vh_registry_set(journal->after, g_ptr_array_index(entries, j));
        }
        /* Given back already by an earlier device of this request. */
        if (!vh_registry_lookup(journal->after, &addrs[i]))
            continue;
        if (!vh_hostdev_plan_reattach(&st, dev, vh_registry_lookup(journal->after,
                                                                  &addrs[i]),
                                      plan, journal, groups, error))
            return FALSE;
    }
    for (i = 0; i < groups->len; i++) {
        guint group = g_array_index(groups, guint, i);
        const VhRegistryEntry *user = vh_hostdev_group_user(journal->after, group);
        gboolean seen = FALSE;

        for (j = 0; j < i; j++)
            seen = seen || g_array_index(groups, guint, j) == group;
        if (user && !seen)
            vh_plan_note(plan, "group %u stays held: other devices of it are "
                         "still assigned to %s", group, user->owner);
    }
    if (journal && !dry_run &&
        !vh_hostdev_run_steps(h, journal, vh_hostdev_step_move, error))
        return FALSE;
    *ret_plan = g_steal_pointer(&plan);
    return TRUE;
}

/* ---- reattach --force ---------------------------------------------------------- */

/* Nobody may have the group open: unbinding from vfio-pci would wait until
 * that process lets go, and the kernel keeps host drivers off a group that
 * userspace owns.  Partial knowledge is no answer: unreadable processes
 * refuse too. */
static gboolean
vh_hostdev_check_group_unused(const VhHostdev *h, const VhNodeDevice *dev,
                              GError **error)
{
    g_autoptr(GPtrArray) holders = NULL;
    g_autoptr(GString) who = g_string_new(NULL);
    g_autofree char *shown = vh_hostdev_driver_shown(dev->driver);
    guint unreadable = 0;
    char buf[VH_PCI_ADDRESS_BUFLEN];
    guint i;

    if (!dev->has_group)
        return TRUE;
    if (!vh_holders_scan(h->proc, dev->group, &holders, &unreadable, error))
        return FALSE;
    vh_pci_address_format(&dev->addr, buf);
    for (i = 0; i < holders->len; i++) {
        const VhHolder *p = g_ptr_array_index(holders, i);

        g_string_append_printf(who, "%spid %u (%s)", who->len ? ", " : "",
                               p->pid, p->comm ? p->comm : "?");
    }
    if (who->len) {
        g_set_error(error, VH_HOSTDEV_ERROR, VH_HOSTDEV_ERROR_CONFLICT,
                    "%s (%s): /dev/vfio/%u is open by %s; a guest or program "
                    "uses its group: stop it first (`virt-hostdev who-holds "
                    "%s`)", buf, shown, dev->group, who->str, buf);
        return FALSE;
    }
    if (unreadable) {
        g_set_error(error, VH_HOSTDEV_ERROR, VH_HOSTDEV_ERROR_CONFLICT,
                    "%s (%s): %u processes could not be inspected, so "
                    "/dev/vfio/%u may be in use; run as root", buf, shown,
                    unreadable, dev->group);
        return FALSE;
    }
    return TRUE;
}

gboolean
vh_hostdev_reattach_force(const VhHostdev *h, const VhPciAddress *addr,
                          gboolean dry_run, VhPlan **ret_plan, GError **error)
{
    g_auto(VhHostdevState) st = { 0 };
    g_autoptr(VhPlan) plan = vh_plan_new();
    g_autoptr(VhJournal) journal = NULL;
    g_autoptr(GPtrArray) entries = NULL;
    g_autofree char *now = NULL;
    const VhRegistryEntry *entry;
    const VhNodeDevice *dev;
    const char *owner;
    char buf[VH_PCI_ADDRESS_BUFLEN];
    guint i;

    if (!vh_hostdev_begin(h, &st, addr, 1, error))
        return FALSE;
    if (!(dev = vh_node_device_list_find(st.list, addr, error)))
        return FALSE;
    vh_pci_address_format(addr, buf);
    if ((entry = vh_registry_lookup(st.registry, addr))) {
        g_set_error(error, VH_HOSTDEV_ERROR, VH_HOSTDEV_ERROR_CONFLICT,
                    "%s belongs to %s (%s, on %s, was %s): --force is for "
                    "devices virt-hostdev did not detach; give it back with "
                    "`virt-hostdev nodedev-reattach %s`%s", buf, entry->owner,
                    vh_hostdev_role_string(entry->role),
                    entry->driver ? entry->driver : "no driver",
                    entry->original_driver ? entry->original_driver : "no driver",
                    buf, entry->role == VH_ROLE_HELD ?
                    " of the assigned device of its group" : " without --force");
        return FALSE;
    }
    if (dev->has_group &&
        (owner = vh_registry_group_owner(st.registry, dev->group))) {
        g_autofree char *shown = vh_hostdev_driver_shown(dev->driver);

        g_set_error(error, VH_HOSTDEV_ERROR, VH_HOSTDEV_ERROR_CONFLICT,
                    "%s (%s): IOMMU group %u belongs to %s, and a host driver "
                    "on %s would make it not viable; release the group first "
                    "(`virt-hostdev nodedev-reattach` of its devices)", buf,
                    shown, dev->group, owner, buf);
        return FALSE;
    }
    if (!vh_iommu_group_driver_is_safe(dev->driver)) {
        vh_plan_note(plan, "%s is on %s, a host driver: nothing to give back",
                     buf, dev->driver);
        *ret_plan = g_steal_pointer(&plan);
        return TRUE;
    }
    if (!vh_hostdev_check_group_unused(h, dev, error))
        return FALSE;
    if (dry_run) {
        vh_plan_note(plan, "%s: %s -> the host driver that claims it "
                     "(forced): clear driver_override, unbind, drivers_probe",
                     buf, dev->driver ? dev->driver : "no driver");
        *ret_plan = g_steal_pointer(&plan);
        return TRUE;
    }

    /* One step; the registry does not change (the device is in none). */
    journal = vh_journal_new(VH_OP_FORCE_REATTACH, VH_DEFAULT_OWNER);
    entries = vh_registry_entries(st.registry);
    for (i = 0; i < entries->len; i++)
        vh_registry_set(journal->after, g_ptr_array_index(entries, i));
    vh_journal_add_step(journal, addr, dev->driver, NULL);
    if (!vh_hostdev_run_steps(h, journal, vh_hostdev_step_release, error) ||
        !vh_pci_driver_current(h, addr, &now, error))
        return FALSE;
    vh_plan_add(plan, addr, dev->driver, now, VH_ROLE_DETACHED);
    ((VhPlanMove *) g_ptr_array_index(plan->moves, 0))->forced = TRUE;
    if (!now)
        vh_plan_note(plan, "no host driver claims %s: it stays on no driver "
                     "(load its driver's module and run this again)", buf);
    *ret_plan = g_steal_pointer(&plan);
    return TRUE;
}

/* ---- recover ------------------------------------------------------------------ */

gboolean
vh_hostdev_recover(const VhHostdev *h, VhPlan **ret_plan, GError **error)
{
    g_autoptr(VhStateLock) lock = NULL;
    g_autoptr(VhJournal) journal = NULL;
    g_autoptr(VhPlan) plan = vh_plan_new();

    if (!(lock = vh_state_lock(h->state_dir, h->timeout_ms ? h->timeout_ms
                                                           : 30000, error)))
        return FALSE;
    if (!vh_journal_load(h->state_dir, &journal, error))
        return FALSE;
    if (!journal) {
        g_autoptr(VhRegistry) registry = NULL;

        /* Nothing to replay, but "nothing to recover" would hide a
         * registry that every other verb refuses. */
        if (!(registry = vh_registry_load_for_recover(h->state_dir, error)))
            return FALSE;
        vh_plan_note(plan, "nothing to recover: no operation was interrupted");
        *ret_plan = g_steal_pointer(&plan);
        return TRUE;
    }
    if (journal->next >= journal->steps->len) {
        /* Every step had run: only the commit was cut short; finish it. */
        if (!vh_registry_save(journal->after, h->state_dir, error) ||
            !vh_journal_remove(h->state_dir, error))
            return FALSE;
        vh_plan_note(plan, "completed the interrupted %s for %s: all its "
                     "steps had run", journal->operation, journal->owner);
        *ret_plan = g_steal_pointer(&plan);
        return TRUE;
    }
    /* The step at journal->next may have run in part: undo it as well. */
    if (!vh_hostdev_undo(h, journal, journal->next, plan, error)) {
        g_prefix_error(error, "recovering the interrupted %s for %s: ",
                       journal->operation, journal->owner);
        return FALSE;
    }
    if (!vh_journal_remove(h->state_dir, error))
        return FALSE;
    vh_plan_note(plan, "rolled back the interrupted %s for %s",
                 journal->operation, journal->owner);
    *ret_plan = g_steal_pointer(&plan);
    return TRUE;
}
