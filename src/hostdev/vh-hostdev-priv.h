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
 * `recover`, read the registry and every PCI device.  @st is cleared by
 * vh_hostdev_state_clear() (g_auto) on success and failure alike. */
gboolean vh_hostdev_begin(const VhHostdev *h, VhHostdevState *st,
                          GError **error);

G_END_DECLS
