/*
 * vh-node-device-json.h: JSON views of node devices and IOMMU groups
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <glib.h>
#include <yajl/yajl_gen.h>

#include "vh-node-device.h"

G_BEGIN_DECLS

struct _VhAssignOwners;

/*
 * [{"number": 4, "viable": false, "owner": "manual" or null,
 *   "members": [DEVICE...],
 *   "blockers": [{"address": "0000:01:02.0", "driver": "e1000"}]}, ...]
 * for every group, or only group @only when @has_only.  DEVICE is the
 * object vh_node_device_json_write() writes.  "owner" comes from @owners
 * (NULL: unknown, every owner null).  Free with g_free().
 */
char *vh_iommu_groups_format_json(const VhNodeDeviceList *list,
                                  gboolean has_only, guint only,
                                  const struct _VhAssignOwners *owners,
                                  GError **error);

/* {"address", "name", "class", "vendor", "device", "vendor_name",
 *  "product_name", "driver", "bridge"} of @dev into @g. */
void vh_node_device_json_write(yajl_gen g, const VhNodeDevice *dev);

struct _VhAssignVerdict;

/*
 * {"device": DEVICE, "group": N or null, "owner": NAME or null,
 *  "role": ROLE or null, "numa_node": N or null,
 *  "parent": NAME, "reset_methods": [...] or null, "verdict": CODE,
 *  "assignable": BOOL, "reasons": [{"code", "blocks", "message",
 *  "devices": [{"address", "driver"}]}]}.  Free with g_free().
 */
char *vh_node_device_info_format_json(const VhNodeDevice *dev,
                                      const struct _VhAssignVerdict *verdict,
                                      GError **error);

/* Small helpers over yajl_gen for the other JSON writers. */
void vh_json_string(yajl_gen g, const char *s);          /* NULL: null */
void vh_json_key_string(yajl_gen g, const char *key, const char *value);
void vh_json_key_int(yajl_gen g, const char *key, gint64 value);
void vh_json_key_bool(yajl_gen g, const char *key, gboolean value);

/* A yajl generator for compact output, and its text (newline-terminated)
 * when done: NULL + error if yajl reported a failure on the way. */
yajl_gen vh_json_gen_new(void);
char *vh_json_gen_finish(yajl_gen g, GError **error);

G_END_DECLS
