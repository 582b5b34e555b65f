/*
 * vh-node-device-json.c: JSON views of node devices and IOMMU groups
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#define G_LOG_DOMAIN "node_device.json"

#include <string.h>

#include "vh-assign.h"
#include "vh-error.h"
#include "vh-iommu-group.h"
#include "vh-node-device-json.h"

static void vh_json_address_driver(yajl_gen g, const VhNodeDevice *dev);

void
vh_json_string(yajl_gen g, const char *s)
{
    g_autofree char *valid = NULL;

    if (!s) {
        yajl_gen_null(g);
        return;
    }
    /* A name read from sysfs may be any bytes.  yajl refuses a string that
     * is not UTF-8 by writing nothing, which leaves a key without its value
     * in the document: such bytes become U+FFFD, as in the XML. */
    if (!g_utf8_validate(s, -1, NULL))
        s = valid = g_utf8_make_valid(s, -1);
    yajl_gen_string(g, (const unsigned char *) s, strlen(s));
}

void
vh_json_key_string(yajl_gen g, const char *key, const char *value)
{
    vh_json_string(g, key);
    vh_json_string(g, value);
}

void
vh_json_key_int(yajl_gen g, const char *key, gint64 value)
{
    vh_json_string(g, key);
    yajl_gen_integer(g, value);
}

void
vh_json_key_bool(yajl_gen g, const char *key, gboolean value)
{
    vh_json_string(g, key);
    yajl_gen_bool(g, value);
}

yajl_gen
vh_json_gen_new(void)
{
    yajl_gen g = yajl_gen_alloc(NULL);

    /* yajl escapes '/' only when asked; names never need it. */
    yajl_gen_config(g, yajl_gen_validate_utf8, 1);
    return g;
}

char *
vh_json_gen_finish(yajl_gen g, GError **error)
{
    const unsigned char *buf = NULL;
    size_t len = 0;
    char *out;

    if (yajl_gen_get_buf(g, &buf, &len) != yajl_gen_status_ok) {
        g_set_error(error, VH_SYSFS_ERROR, VH_SYSFS_ERROR_FAILED,
                    "cannot produce JSON: the generator failed");
        yajl_gen_free(g);
        return NULL;
    }
    out = g_strdup_printf("%.*s\n", (int) len, (const char *) buf);
    yajl_gen_free(g);
    return out;
}

void
vh_node_device_json_write(yajl_gen g, const VhNodeDevice *dev)
{
    char addr[VH_PCI_ADDRESS_BUFLEN];
    char id[16];

    yajl_gen_map_open(g);
    vh_json_key_string(g, "address", vh_pci_address_format(&dev->addr, addr));
    vh_json_key_string(g, "name", dev->name);
    if (dev->klass >= 0) {
        g_snprintf(id, sizeof(id), "0x%06x", (guint) dev->klass);
        vh_json_key_string(g, "class", id);
    } else {
        vh_json_key_string(g, "class", NULL);
    }
    g_snprintf(id, sizeof(id), "0x%04x", dev->vendor);
    vh_json_key_string(g, "vendor", id);
    g_snprintf(id, sizeof(id), "0x%04x", dev->device);
    vh_json_key_string(g, "device", id);
    vh_json_key_string(g, "vendor_name", dev->vendor_name);
    vh_json_key_string(g, "product_name", dev->product_name);
    vh_json_key_string(g, "driver", dev->driver);
    vh_json_key_bool(g, "bridge", vh_node_device_is_bridge(dev));
    yajl_gen_map_close(g);
}

static void
vh_iommu_group_json_write(yajl_gen g, const VhNodeDeviceList *list,
                          guint number, const VhAssignOwners *owners)
{
    GPtrArray *members = vh_iommu_group_members(list, number);
    g_autoptr(GPtrArray) blockers = vh_iommu_group_blockers(list, number);
    guint i;

    yajl_gen_map_open(g);
    vh_json_key_int(g, "number", number);
    vh_json_key_bool(g, "viable", blockers->len == 0);
    vh_json_key_string(g, "owner",
                       owners ? vh_assign_owners_group_owner(owners, number)
                              : NULL);
    vh_json_string(g, "members");
    yajl_gen_array_open(g);
    for (i = 0; members && i < members->len; i++)
        vh_node_device_json_write(g, g_ptr_array_index(members, i));
    yajl_gen_array_close(g);
    vh_json_string(g, "blockers");
    yajl_gen_array_open(g);
    for (i = 0; i < blockers->len; i++)
        vh_json_address_driver(g, g_ptr_array_index(blockers, i));
    yajl_gen_array_close(g);
    yajl_gen_map_close(g);
}

char *
vh_iommu_groups_format_json(const VhNodeDeviceList *list, gboolean has_only,
                            guint only, const VhAssignOwners *owners,
                            GError **error)
{
    g_autoptr(GArray) numbers = vh_node_device_list_group_numbers(list);
    yajl_gen g = vh_json_gen_new();
    guint i;

    yajl_gen_array_open(g);
    for (i = 0; i < numbers->len; i++) {
        guint number = g_array_index(numbers, guint, i);
        if (!has_only || number == only)
            vh_iommu_group_json_write(g, list, number, owners);
    }
    yajl_gen_array_close(g);
    return vh_json_gen_finish(g, error);
}

static void
vh_json_address_driver(yajl_gen g, const VhNodeDevice *dev)
{
    char addr[VH_PCI_ADDRESS_BUFLEN];

    yajl_gen_map_open(g);
    vh_json_key_string(g, "address", vh_pci_address_format(&dev->addr, addr));
    vh_json_key_string(g, "driver", dev->driver);
    yajl_gen_map_close(g);
}

char *
vh_node_device_info_format_json(const VhNodeDevice *dev,
                                const VhAssignVerdict *verdict, GError **error)
{
    yajl_gen g = vh_json_gen_new();
    guint i;
    guint j;

    yajl_gen_map_open(g);
    vh_json_string(g, "device");
    vh_node_device_json_write(g, dev);
    vh_json_string(g, "group");
    if (dev->has_group)
        yajl_gen_integer(g, dev->group);
    else
        yajl_gen_null(g);
    vh_json_key_string(g, "owner", verdict->owner);
    vh_json_key_string(g, "role", verdict->role);
    vh_json_string(g, "numa_node");
    if (dev->numa_node >= 0)
        yajl_gen_integer(g, dev->numa_node);
    else
        yajl_gen_null(g);
    vh_json_key_string(g, "parent", dev->parent);
    vh_json_string(g, "reset_methods");
    if (verdict->reset_methods) {
        yajl_gen_array_open(g);
        for (i = 0; verdict->reset_methods[i]; i++)
            vh_json_string(g, verdict->reset_methods[i]);
        yajl_gen_array_close(g);
    } else {
        yajl_gen_null(g);
    }
    vh_json_key_string(g, "verdict", vh_assign_verdict_code(verdict));
    vh_json_key_bool(g, "assignable", verdict->assignable);
    vh_json_string(g, "reasons");
    yajl_gen_array_open(g);
    for (i = 0; i < verdict->reasons->len; i++) {
        const VhAssignReason *r = g_ptr_array_index(verdict->reasons, i);

        yajl_gen_map_open(g);
        vh_json_key_string(g, "code", vh_assign_code_string(r->code));
        vh_json_key_bool(g, "blocks", r->blocks);
        vh_json_key_string(g, "message", r->message);
        vh_json_string(g, "devices");
        yajl_gen_array_open(g);
        for (j = 0; j < r->devices->len; j++)
            vh_json_address_driver(g, g_ptr_array_index(r->devices, j));
        yajl_gen_array_close(g);
        yajl_gen_map_close(g);
    }
    yajl_gen_array_close(g);
    yajl_gen_map_close(g);
    return vh_json_gen_finish(g, error);
}
