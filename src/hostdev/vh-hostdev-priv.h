/*
 * vh-hostdev-priv.h: what the manager's operations share inside
 * src/hostdev/ (vh-hostdev.c, vh-reset.c); not for callers of the library
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <glib.h>

#include "vh-hostdev.h"
#include "vh-node-device.h"
#include "vh-registry.h"

G_BEGIN_DECLS

/* What an operation holds from its start to its end. */
typedef struct {
    VhRegistry *registry;
    VhNodeDeviceList *list;
    VhStateLock *lock;
} VhHostdevState;

void vh_hostdev_state_clear(VhHostdevState *st);
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(VhHostdevState, vh_hostdev_state_clear)

/* Lock the state dir, refuse while an interrupted operation waits for
 * `recover`, read the registry and the PCI devices: with @addrs, only the
 * IOMMU groups of those @n_addrs devices (vh_node_device_list_scan_groups());
 * with NULL, every one.  @st is cleared by vh_hostdev_state_clear() (g_auto)
 * on success and failure alike. */
gboolean vh_hostdev_begin(const VhHostdev *h, VhHostdevState *st,
                          const VhPciAddress *addrs, guint n_addrs,
                          GError **error);

/* @driver, the name of a driver link (which a broken sysfs tree can make
 * any bytes but NUL and '/'), as a one-line message quotes it: control
 * characters escaped (vh_error_one_line()), "no driver" for NULL.  Free
 * with g_free(). */
char *vh_hostdev_driver_shown(const char *driver);

/* Plans (vh-hostdev.c). */
VhPlan *vh_plan_new(void);
void vh_plan_add(VhPlan *plan, const VhPciAddress *addr, const char *from,
                 const char *to, VhHostdevRole role);
void vh_plan_note(VhPlan *plan, const char *fmt, ...) G_GNUC_PRINTF(2, 3);

/* Run @journal's moves, each persisted before it runs (IOMMU groups side
 * by side when h->threads > 1); commit the registry it carries at the
 * end.  A failed step undoes what ran (the registry stays as it was); a
 * crash leaves the journal for recover. */
gboolean vh_hostdev_run(const VhHostdev *h, VhJournal *journal,
                        GError **error);

/* How vh_hostdev_run() splits @journal's steps into lanes that run side
 * by side: a GPtrArray of GArray (guint step indexes, in order), one per
 * device whose IOMMU group only takes devices, one per group that gives
 * any back. */
GPtrArray *vh_hostdev_lanes(const VhHostdev *h, const VhJournal *journal);

/* Refuse (VH_HOSTDEV_ERROR_CRITICAL) when the host uses a device of
 * @moves (VhPlanMove *), unless @force. */
gboolean vh_hostdev_guard(const VhHostdev *h, const GPtrArray *moves,
                          gboolean force, GError **error);

G_END_DECLS
