/*
 * vh-hostdev.h: the hostdev manager: group-aware detach, hold, reattach
 *
 * Assigning a device means its whole IOMMU group: the device goes to
 * vfio-pci (or pci-stub), every other endpoint of the group that is on a
 * host driver is held on pci-stub, bridges stay as they are.  Each change
 * is a numbered step written to the journal before it runs, under a lock
 * on the state dir, so `recover` can undo an operation cut short.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <glib.h>

#include "vh-pci-address.h"
#include "vh-node-device.h"
#include "vh-registry.h"
#include "vh-sysfs.h"

G_BEGIN_DECLS

typedef gboolean (*VhLoadModuleFunc)(gpointer data, const char *module,
                                     GError **error);

/* What the manager works on; every kernel touchpoint is one of these. */
typedef struct {
    const VhSysfs *sysfs;
    const VhSysfs *proc;
    const VhSysfs *dev;         /* /dev: vfio/GROUP appears there */
    const char *state_dir;
    VhLoadModuleFunc load_module;   /* modprobe; tests simulate it */
    gpointer load_module_data;
    guint timeout_ms;           /* for the kernel to bind, and for the lock */
    /* Fault injection for tests ("detach:2", "detach:2:unbind",
     * "detach:commit"): abort() when the named step (or phase of it, or
     * the registry commit) is reached.  NULL: none. */
    const char *fault;
    /* Steps of different IOMMU groups run side by side in up to this many
     * threads; 0 or 1: one after the other.  The write hook of a fake
     * sysfs must be thread-safe for more. */
    guint threads;
} VhHostdev;

/* The real modprobe (/sbin/modprobe -q MODULE). */
gboolean vh_hostdev_modprobe(gpointer data, const char *module, GError **error);

/* ---- binding one device (vh-pci-driver.c) ---------------------------- */

/*
 * Bind @addr to @driver the way that does not grab other devices (never
 * new_id): load the module when the driver is missing, write
 * driver_override, unbind from the current driver, drivers_probe, then
 * wait (to the deadline) until the driver link names @driver and, for
 * vfio-pci, until /dev/vfio/GROUP exists.  Already on @driver: TRUE.
 */
gboolean vh_pci_driver_bind(const VhHostdev *h, const VhPciAddress *addr,
                            const char *driver, GError **error);

/*
 * Give @addr back: clear driver_override, unbind, and bind @driver
 * (NULL: leave it without one), then verify.  Already there: TRUE.
 */
gboolean vh_pci_driver_restore(const VhHostdev *h, const VhPciAddress *addr,
                               const char *driver, GError **error);

/*
 * Give @addr to whichever host driver claims it, for a device whose
 * original driver nobody recorded: clear driver_override, unbind from the
 * current driver, drivers_probe; when nothing took it, load the module of
 * its modalias (h->load_module) and probe again.  Fails when a vfio or
 * stub driver took it again (a dynamic id).  *@ret_driver (may be NULL):
 * the driver it is on now, NULL when no host driver claims it.  Free with
 * g_free().
 */
gboolean vh_pci_driver_release(const VhHostdev *h, const VhPciAddress *addr,
                               char **ret_driver, GError **error);

/* The driver @addr is bound to now, or NULL; VH_SYSFS_ERROR_NOT_FOUND
 * when the device does not exist. Free with g_free(). */
gboolean vh_pci_driver_current(const VhHostdev *h, const VhPciAddress *addr,
                               char **ret_driver, GError **error);

/* abort() when @h->fault names @point (tests only). */
void vh_hostdev_fault_point(const VhHostdev *h, const char *point);

/* ---- operations (vh-hostdev.c) -------------------------------------- */

typedef struct {
    const char *driver;         /* "vfio-pci" (default) or "pci-stub" */
    const char *owner;          /* default "manual" */
    gboolean hold;              /* hold group peers (default TRUE) */
    const char *hold_driver;    /* "pci-stub" (default) or "vfio-pci" */
    gboolean dry_run;
    gboolean force;             /* take what the host uses */
} VhDetachOptions;

/* One device's move in a plan. */
typedef struct {
    VhPciAddress addr;
    char *from;                 /* NULL: no driver */
    char *to;                   /* NULL: no driver */
    VhHostdevRole role;
    gboolean rollback;          /* undone by recover; role means nothing */
    gboolean forced;            /* nodedev-reattach --force; role means nothing */
} VhPlanMove;

typedef struct {
    GPtrArray *moves;           /* VhPlanMove *, in the order they run */
    GPtrArray *notes;           /* char *: what the user should know */
} VhPlan;

void vh_plan_free(VhPlan *plan);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VhPlan, vh_plan_free)

/* "0000:01:01.0: e1000 -> vfio-pci (assigned)" lines. Free with g_free(). */
char *vh_plan_format(const VhPlan *plan);

/* Detach @addr (and hold its group); *ret_plan says what was (or, with
 * dry_run, would be) done. */
gboolean vh_hostdev_detach(const VhHostdev *h, const VhPciAddress *addr,
                           const VhDetachOptions *opts, VhPlan **ret_plan,
                           GError **error);

/* Detach @n_addrs devices as one operation (one lock, one scan, one
 * journal: all of it or nothing), as if each were detached in turn with
 * @opts; a device that an earlier one would hold is taken as named.  The
 * plan covers them all. */
gboolean vh_hostdev_detach_many(const VhHostdev *h, const VhPciAddress *addrs,
                                guint n_addrs, const VhDetachOptions *opts,
                                VhPlan **ret_plan, GError **error);

/* Give @addr back to its original driver; when it was the last assigned
 * device of its group, give the held peers back too.  A device we did not
 * detach is left alone (*ret_plan has no moves and says so). */
gboolean vh_hostdev_reattach(const VhHostdev *h, const VhPciAddress *addr,
                             gboolean dry_run, VhPlan **ret_plan,
                             GError **error);

/* Reattach @n_addrs devices as one operation, as if in turn. */
gboolean vh_hostdev_reattach_many(const VhHostdev *h, const VhPciAddress *addrs,
                                  guint n_addrs, gboolean dry_run,
                                  VhPlan **ret_plan, GError **error);

/*
 * nodedev-reattach --force: give @addr, which virt-hostdev did not detach
 * (it is on vfio-pci, pci-stub, another vfio driver or none), to the host
 * driver the kernel picks (vh_pci_driver_release()), as a one-step
 * "force-reattach" journaled like the others.  Refused (CONFLICT) when
 * @addr is in the registry (the plain reattach gives it back), when its
 * IOMMU group belongs to an owner (the group would stop being viable
 * under it), and when a process has the group's /dev/vfio/N open (the
 * unbind would wait for it, and the kernel keeps host drivers off a group
 * that userspace owns).  A device on a host driver is left alone.
 */
gboolean vh_hostdev_reattach_force(const VhHostdev *h, const VhPciAddress *addr,
                                   gboolean dry_run, VhPlan **ret_plan,
                                   GError **error);

/* Finish an operation cut short: when all its steps had run (the crash
 * hit the commit) commit it; otherwise undo its steps in reverse, so that
 * every device is back on the driver it had and the registry holds.  No
 * journal: nothing to do (*ret_plan empty). */
gboolean vh_hostdev_recover(const VhHostdev *h, VhPlan **ret_plan,
                            GError **error);

/* ---- a domain's devices (vh-prepare.c) ------------------------------- */

/* One PCI device a domain uses, as its <hostdev> says. */
typedef struct {
    VhPciAddress addr;
    /* managed='yes': prepare detaches it (holding its group); otherwise
     * it must already be on vfio-pci with its group viable. */
    gboolean managed;
} VhPrepareDevice;

typedef enum {
    VH_PREPARE_DRY_RUN = 1 << 0,    /* plan and check, change nothing */
    VH_PREPARE_FORCE = 1 << 1,      /* take what the host uses */
    /*
     * libvirt's hook: libvirt binds the managed devices to vfio-pci and
     * gives them back itself.  prepare holds the other endpoints of their
     * groups and records the devices as assigned to the owner without
     * moving them; release gives the held peers back and drops the
     * records, leaving the assigned devices where libvirt put them.
     */
    VH_PREPARE_HOOK = 1 << 2,
} VhPrepareFlags;

/*
 * Prepare the @n devices of a domain for @owner (its name), all or
 * nothing, as one journaled operation "prepare": each managed device goes
 * to vfio-pci (not with VH_PREPARE_HOOK) and is recorded as assigned,
 * every other endpoint of its group on a host driver is held on pci-stub.
 * Refused before anything moves, naming the cause: a group that belongs
 * to another owner (VH_HOSTDEV_ERROR_CONFLICT), a bridge, a device in no
 * group or twice in @devs (VH_HOSTDEV_ERROR_INVALID), an unmanaged device
 * not on vfio-pci or whose group would not be viable, what the host uses
 * (VH_HOSTDEV_ERROR_CRITICAL unless VH_PREPARE_FORCE).  A failed step
 * undoes the earlier ones; a crash leaves the journal for recover.
 */
gboolean vh_hostdev_prepare(const VhHostdev *h, const char *owner,
                            const VhPrepareDevice *devs, guint n,
                            VhPrepareFlags flags, VhPlan **ret_plan,
                            GError **error);

/*
 * What vh_hostdev_prepare() of @devs for @owner would do, worked out from
 * @registry and @list as the caller read them: no lock, no guard (what
 * the host uses is not looked at), nothing changed.  The same refusals,
 * with the same errors, as prepare's steps 1-4.  For `doctor`.
 */
gboolean vh_hostdev_prepare_plan(const VhRegistry *registry,
                                 const VhNodeDeviceList *list,
                                 const char *owner,
                                 const VhPrepareDevice *devs, guint n,
                                 VhPlan **ret_plan, GError **error);

/*
 * Give back everything recorded for @owner (what its prepare took), as one
 * journaled operation "release": assigned devices to their original
 * drivers first (not with VH_PREPARE_HOOK: libvirt has done it), then the
 * held peers.  Nothing recorded: success with a note (libvirt calls the
 * release hook also after a start that failed).  Flags: DRY_RUN, HOOK.
 */
gboolean vh_hostdev_release(const VhHostdev *h, const char *owner,
                            VhPrepareFlags flags, VhPlan **ret_plan,
                            GError **error);

/* ---- reset (vh-reset.c) --------------------------------------------- */

/* What a reset did. */
typedef struct {
    VhPciAddress addr;
    char *driver;               /* bound during the reset; NULL: none */
    /* reset_method: what the kernel tries, in order, until one works;
     * NULL: this kernel (before 5.15) does not name them. */
    char **methods;
    /* Only a secondary bus reset of @bridge could reset it. */
    gboolean bus_reset;
    VhPciAddress bridge;
    /* char * "0000:01:02.0 (e1000)", never NULL: the other devices the
     * reset reached, those below @bridge for a bus reset and those below
     * @addr when it is a bridge. */
    GPtrArray *also_reset;
} VhResetResult;

void vh_reset_result_free(VhResetResult *result);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VhResetResult, vh_reset_result_free)

/*
 * Reset @addr through the kernel's reset attribute (pci_reset_function(),
 * as `virsh nodedev-reset` does for a device on a host driver), under the
 * state lock.  Refused (VH_HOSTDEV_ERROR_CONFLICT, naming each device with
 * its driver and owner) while @addr is on vfio-pci (its user resets it
 * through VFIO) or in the registry, and while a reset would reach a device
 * that is: a bus reset (when the kernel has nothing else for @addr)
 * reaches every device below the parent bridge, and resetting a bridge
 * every device below it.  VH_HOSTDEV_ERROR_FAILED when the kernel has no
 * reset for it (no reset file, no methods, or only a bus reset on a root
 * bus).  Free *ret_result with vh_reset_result_free().
 */
gboolean vh_hostdev_reset(const VhHostdev *h, const VhPciAddress *addr,
                          VhResetResult **ret_result, GError **error);

/*
 * What a reset of @addr would do, found as vh_hostdev_reset() finds it but
 * read-only and without the lock (for `doctor`): the methods, whether only
 * a bus reset of a bridge is left, and in also_reset every other device it
 * would reach ("0000:01:02.0 (e1000)", with the owner when someone has
 * it).  VH_HOSTDEV_ERROR_FAILED when the kernel has no reset for @addr,
 * VH_SYSFS_ERROR_NOT_FOUND when @addr is not in @list.
 */
gboolean vh_hostdev_reset_probe(const VhSysfs *sysfs,
                                const VhRegistry *registry,
                                const VhNodeDeviceList *list,
                                const VhPciAddress *addr,
                                VhResetResult **ret_result, GError **error);

G_END_DECLS
