/*
 * vh-qemu-argv.c: QEMU -device arguments for a domain's PCI host devices
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#define G_LOG_DOMAIN "qemu.argv"

#include <string.h>

#include <yajl/yajl_gen.h>

#include "vh-error.h"
#include "vh-qemu-argv.h"

/* ---- device properties, in order ---------------------------------------- */

typedef enum {
    VH_PROP_STRING,
    VH_PROP_NUMBER,
    VH_PROP_BOOL,
} VhPropType;

typedef struct {
    const char *key;            /* static */
    VhPropType type;
    char *str;
    guint64 num;
    gboolean flag;
} VhProp;

static void
vh_prop_clear(VhProp *p)
{
    g_free(p->str);
}

static GArray *
vh_props_new(void)
{
    GArray *props = g_array_new(FALSE, TRUE, sizeof(VhProp));

    g_array_set_clear_func(props, (GDestroyNotify) vh_prop_clear);
    return props;
}

static void
vh_props_add_string(GArray *props, const char *key, const char *value)
{
    VhProp p = { .key = key, .type = VH_PROP_STRING, .str = g_strdup(value) };

    g_array_append_val(props, p);
}

static void
vh_props_add_number(GArray *props, const char *key, guint64 value)
{
    VhProp p = { .key = key, .type = VH_PROP_NUMBER, .num = value };

    g_array_append_val(props, p);
}

static void
vh_props_add_bool(GArray *props, const char *key, gboolean value)
{
    VhProp p = { .key = key, .type = VH_PROP_BOOL, .flag = value };

    g_array_append_val(props, p);
}

/* Compact JSON, as libvirt passes -device to QEMU >= 6.2. */
static char *
vh_props_to_json(GArray *props, GError **error)
{
    yajl_gen g = yajl_gen_alloc(NULL);
    const unsigned char *buf = NULL;
    size_t len = 0;
    char *out = NULL;
    guint i;

    yajl_gen_config(g, yajl_gen_validate_utf8, 1);
    yajl_gen_map_open(g);
    for (i = 0; i < props->len; i++) {
        const VhProp *p = &g_array_index(props, VhProp, i);

        yajl_gen_string(g, (const unsigned char *) p->key, strlen(p->key));
        switch (p->type) {
        case VH_PROP_STRING:
            if (yajl_gen_string(g, (const unsigned char *) p->str,
                                strlen(p->str)) != yajl_gen_status_ok) {
                /* Not UTF-8: shown with its bytes escaped, on one line. */
                g_autofree char *shown = g_strescape(p->str, NULL);

                g_set_error(error, VH_QEMU_ERROR, VH_QEMU_ERROR_INVALID,
                            "the value of %s, '%s', is not valid UTF-8",
                            p->key, shown);
                yajl_gen_free(g);
                return NULL;
            }
            break;
        case VH_PROP_NUMBER:
            yajl_gen_integer(g, (long long) p->num);
            break;
        case VH_PROP_BOOL:
            yajl_gen_bool(g, p->flag);
            break;
        }
    }
    yajl_gen_map_close(g);
    if (yajl_gen_get_buf(g, &buf, &len) == yajl_gen_status_ok)
        out = g_strndup((const char *) buf, len);
    else
        g_set_error(error, VH_QEMU_ERROR, VH_QEMU_ERROR_FAILED,
                    "cannot produce the JSON of a -device argument");
    yajl_gen_free(g);
    return out;
}

/* QEMU's key=value syntax: the driver first, bare; ',' in values doubled;
 * booleans on/off (libvirt's virQEMUBuildCommandLineJSON). */
static char *
vh_props_to_legacy(GArray *props)
{
    GString *out = g_string_new(NULL);
    guint i;

    for (i = 0; i < props->len; i++) {
        const VhProp *p = &g_array_index(props, VhProp, i);
        const char *c;

        if (i == 0 && g_str_equal(p->key, "driver")) {
            g_string_append(out, p->str);
            continue;
        }
        g_string_append_printf(out, ",%s=", p->key);
        switch (p->type) {
        case VH_PROP_STRING:
            for (c = p->str; *c; c++) {
                if (*c == ',')
                    g_string_append_c(out, ',');
                g_string_append_c(out, *c);
            }
            break;
        case VH_PROP_NUMBER:
            g_string_append_printf(out, "%" G_GUINT64_FORMAT, p->num);
            break;
        case VH_PROP_BOOL:
            g_string_append(out, p->flag ? "on" : "off");
            break;
        }
    }
    return g_string_free(out, FALSE);
}

char *
vh_qemu_shell_quote(const char *arg)
{
    static const char safe[] = "@%+=:,./-_";
    GString *out;
    const char *c;

    for (c = arg; *c; c++) {
        if (!g_ascii_isalnum(*c) && !strchr(safe, *c))
            break;
    }
    if (*arg && !*c)
        return g_strdup(arg);
    out = g_string_new("'");
    for (c = arg; *c; c++) {
        if (*c == '\'')
            g_string_append(out, "'\\''");
        else
            g_string_append_c(out, *c);
    }
    g_string_append_c(out, '\'');
    return g_string_free(out, FALSE);
}

/* ---- aliases and guest addresses ------------------------------------------ */

/* "host 0000:06:12.5" style name of a hostdev for messages. */
static const char *
vh_qemu_hostdev_name(const VhDomainHostdev *hd, char buf[VH_PCI_ADDRESS_BUFLEN])
{
    return vh_pci_address_format(&hd->source, buf);
}

/* Slots of pc's root bus a hostdev without address must not take: 00:00
 * the host bridge, 00:01 the PIIX3 (ISA, IDE, USB), 00:02 primary video. */
static gboolean
vh_qemu_root_slot_reserved(const VhDomainDef *def, guint slot)
{
    return slot <= 1 || (slot == 2 && def->has_video);
}

static gboolean
vh_qemu_slot_taken(const VhDomainDef *def, guint bus, guint slot)
{
    guint i;

    if (g_hash_table_contains(def->used_slots,
                              GUINT_TO_POINTER(bus << 8 | slot)))
        return TRUE;
    for (i = 0; i < def->hostdevs->len; i++) {
        const VhDomainHostdev *hd = g_ptr_array_index(def->hostdevs, i);

        if (hd->has_guest_address && hd->guest.bus == bus &&
            hd->guest.slot == slot)
            return TRUE;
    }
    return FALSE;
}

static gint
vh_qemu_compare_uint(gconstpointer a, gconstpointer b)
{
    guint x = *(const guint *) a;
    guint y = *(const guint *) b;

    return x < y ? -1 : x > y;
}

/* The bus name of guest bus @index: its controller's alias, or "pci.N" for
 * a controller libvirt adds because the XML lacks it. */
static char *
vh_qemu_bus_alias(const VhDomainDef *def, guint index)
{
    const VhDomainController *c = vh_domain_def_find_controller(def, index);

    return c ? g_strdup(c->alias) : g_strdup_printf("pci.%u", index);
}

/* An empty single-slot port of the XML: nothing has an address on its bus. */
static gboolean
vh_qemu_port_is_free(const VhDomainDef *def, const VhDomainController *c)
{
    guint i;

    if (!g_str_equal(c->model, "pcie-root-port") ||
        vh_qemu_slot_taken(def, c->index, 0))
        return FALSE;
    for (i = 0; i < def->controllers->len; i++) {
        const VhDomainController *o = g_ptr_array_index(def->controllers, i);

        if (o->has_address && o->address.bus == c->index)
            return FALSE;
    }
    return TRUE;
}

/*
 * q35: function 0 of slot 0 behind a root port.  As libvirt, the empty
 * pcie-root-ports of the XML are used first, in index order, then ports
 * libvirt adds, numbered after the highest index; the devices libvirt
 * places before host devices take theirs first.
 */
static void
vh_qemu_assign_q35(VhDomainDef *def)
{
    g_autoptr(GArray) free_ports = g_array_new(FALSE, FALSE, sizeof(guint));
    guint skip = def->auto_before_hostdevs;
    guint next = 0;
    guint used = 0;
    guint i;

    for (i = 0; i < def->controllers->len; i++) {
        const VhDomainController *c = g_ptr_array_index(def->controllers, i);

        next = MAX(next, c->index + 1);
        if (vh_qemu_port_is_free(def, c))
            g_array_append_val(free_ports, c->index);
    }
    for (i = 0; i < def->hostdevs->len; i++) {
        const VhDomainHostdev *hd = g_ptr_array_index(def->hostdevs, i);

        if (hd->has_guest_address)
            next = MAX(next, (guint) hd->guest.bus + 1);
    }
    g_array_sort(free_ports, (GCompareFunc) vh_qemu_compare_uint);
    for (i = 0; i < def->hostdevs->len; i++) {
        VhDomainHostdev *hd = g_ptr_array_index(def->hostdevs, i);
        guint bus;

        if (hd->has_guest_address || hd->unassigned)
            continue;
        for (;;) {
            bus = used < free_ports->len ?
                  g_array_index(free_ports, guint, used++) : next++;
            if (skip == 0)
                break;
            skip--;
        }
        memset(&hd->guest, 0, sizeof(hd->guest));
        hd->guest.bus = (guint8) MIN(bus, 0xff);
        hd->has_guest_address = TRUE;
    }
}

/*
 * The documented rule (docs/formatdomain-hostdev.rst): on pc, a hostdev
 * without <address> takes function 0 of the lowest free slot of the root
 * bus, after the slots libvirt gives first to the primary video card and to
 * the other devices without an address that libvirt places before host
 * devices.  On q35, see vh_qemu_assign_q35().
 */
static gboolean
vh_qemu_assign_addresses(VhDomainDef *def, GError **error)
{
    guint skip = def->auto_before_hostdevs;
    guint slot = 1;
    guint i;

    if (def->q35) {
        vh_qemu_assign_q35(def);
        return TRUE;
    }
    for (i = 0; i < def->hostdevs->len; i++) {
        VhDomainHostdev *hd = g_ptr_array_index(def->hostdevs, i);
        char buf[VH_PCI_ADDRESS_BUFLEN];

        if (hd->has_guest_address || hd->unassigned)
            continue;
        for (;; slot++) {
            if (slot > 0x1f) {
                g_set_error(error, VH_QEMU_ERROR, VH_QEMU_ERROR_INVALID,
                            "domain XML line %u: no free slot left on the "
                            "root bus for hostdev %s; give it an <address "
                            "type='pci'> behind a <controller type='pci'>",
                            hd->line, vh_qemu_hostdev_name(hd, buf));
                return FALSE;
            }
            if (vh_qemu_root_slot_reserved(def, slot) ||
                vh_qemu_slot_taken(def, 0, slot))
                continue;
            if (skip > 0) {
                skip--;
                continue;
            }
            break;
        }
        memset(&hd->guest, 0, sizeof(hd->guest));
        hd->guest.slot = (guint8) slot;
        hd->has_guest_address = TRUE;
        slot++;
    }
    return TRUE;
}

/* Single-slot downstream ports: only slot 0 behind them. */
static gboolean
vh_qemu_controller_single_slot(const VhDomainController *c)
{
    return g_str_equal(c->model, "pcie-root-port") ||
           g_str_equal(c->model, "pcie-switch-downstream-port");
}

/* The guest address of @hd names a controller that has that slot. */
static gboolean
vh_qemu_check_address(const VhDomainDef *def, const VhDomainHostdev *hd,
                      GError **error)
{
    const VhDomainController *c;
    char buf[VH_PCI_ADDRESS_BUFLEN];
    char gbuf[VH_PCI_ADDRESS_BUFLEN];
    guint i;

    /* No controller for the bus: libvirt adds one (pcie-root-port on q35,
     * pci-bridge on pc), named pci.N. */
    c = vh_domain_def_find_controller(def, hd->guest.bus);
    vh_qemu_hostdev_name(hd, buf);
    vh_pci_address_format(&hd->guest, gbuf);
    if (hd->guest.bus == 0 && hd->guest.slot == 0) {
        g_set_error(error, VH_QEMU_ERROR, VH_QEMU_ERROR_INVALID,
                    "domain XML line %u: hostdev %s: guest address %s is "
                    "the host bridge's slot; use another slot", hd->line,
                    buf, gbuf);
        return FALSE;
    }
    if (c && vh_qemu_controller_single_slot(c) && hd->guest.slot != 0) {
        g_set_error(error, VH_QEMU_ERROR, VH_QEMU_ERROR_INVALID,
                    "domain XML line %u: hostdev %s: guest address %s: a "
                    "%s has only slot 0", hd->line, buf, gbuf, c->model);
        return FALSE;
    }
    for (i = 0; i < def->hostdevs->len; i++) {
        const VhDomainHostdev *o = g_ptr_array_index(def->hostdevs, i);

        if (o == hd)
            break;
        if (o->has_guest_address && vh_pci_address_equal(&o->guest,
                                                         &hd->guest)) {
            char obuf[VH_PCI_ADDRESS_BUFLEN];

            g_set_error(error, VH_QEMU_ERROR, VH_QEMU_ERROR_INVALID,
                        "domain XML line %u: hostdev %s: Attempted double "
                        "use of PCI Address %s (also hostdev %s, line %u)",
                        hd->line, buf, gbuf,
                        vh_qemu_hostdev_name(o, obuf), o->line);
            return FALSE;
        }
    }
    return TRUE;
}

/* libvirt's virDomainPCIAddressSetAllMulti: function 0 of a slot whose
 * other functions are used gets multifunction=on unless the XML said. */
static void
vh_qemu_set_multi(VhDomainDef *def)
{
    guint i, j;

    for (i = 0; i < def->hostdevs->len; i++) {
        VhDomainHostdev *hd = g_ptr_array_index(def->hostdevs, i);
        guint mask;

        if (!hd->has_guest_address || hd->guest.function != 0 ||
            hd->multifunction != VH_TRISTATE_ABSENT)
            continue;
        mask = GPOINTER_TO_UINT(g_hash_table_lookup(
            def->used_slots,
            GUINT_TO_POINTER((guint) hd->guest.bus << 8 | hd->guest.slot)));
        for (j = 0; j < def->hostdevs->len; j++) {
            const VhDomainHostdev *o = g_ptr_array_index(def->hostdevs, j);

            if (o->has_guest_address && o->guest.bus == hd->guest.bus &&
                o->guest.slot == hd->guest.slot)
                mask |= 1u << o->guest.function;
        }
        if (mask & ~1u)
            hd->multifunction = VH_TRISTATE_ON;
    }
}

gboolean
vh_qemu_assign(VhDomainDef *def, GError **error)
{
    guint i;

    for (i = 0; i < def->hostdevs->len; i++) {
        const VhDomainHostdev *hd = g_ptr_array_index(def->hostdevs, i);

        if (hd->has_guest_address && !vh_qemu_check_address(def, hd, error))
            return FALSE;
    }
    if (!vh_qemu_assign_addresses(def, error))
        return FALSE;
    vh_qemu_set_multi(def);
    return TRUE;
}

/* ---- the -device properties ---------------------------------------------- */

/* Options QEMU refuses or that make no sense together. */
static gboolean
vh_qemu_check_options(const VhDomainHostdev *hd, GError **error)
{
    char buf[VH_PCI_ADDRESS_BUFLEN];

    if (hd->ramfb == VH_TRISTATE_ON && hd->display != VH_TRISTATE_ON) {
        g_set_error(error, VH_QEMU_ERROR, VH_QEMU_ERROR_INVALID,
                    "domain XML line %u: hostdev %s: ramfb='on' needs "
                    "display='on' (QEMU's ramfb shows the device's display)",
                    hd->line, vh_qemu_hostdev_name(hd, buf));
        return FALSE;
    }
    return TRUE;
}

/*
 * libvirt's key order: driver, host, id, [bootindex], [failover_pair_id],
 * [display], [ramfb], then the address (bus, [multifunction], addr,
 * [acpi-index]) and the ROM ([rombar], [romfile]).
 */
static GArray *
vh_qemu_hostdev_props(const VhDomainDef *def, const VhDomainHostdev *hd,
                      GError **error)
{
    g_autoptr(GArray) props = vh_props_new();
    g_autofree char *bus = vh_qemu_bus_alias(def, hd->guest.bus);
    char host[VH_PCI_ADDRESS_BUFLEN];
    g_autofree char *addr = NULL;

    if (!vh_qemu_check_options(hd, error))
        return NULL;

    vh_props_add_string(props, "driver", hd->ramfb == VH_TRISTATE_ON ?
                        "vfio-pci-nohotplug" : "vfio-pci");
    vh_props_add_string(props, "host", vh_pci_address_format(&hd->source,
                                                              host));
    vh_props_add_string(props, "id", hd->alias);
    if (hd->boot_order)
        vh_props_add_number(props, "bootindex", hd->boot_order);
    if (hd->failover_pair_id)
        vh_props_add_string(props, "failover_pair_id", hd->failover_pair_id);
    if (hd->display != VH_TRISTATE_ABSENT)
        vh_props_add_string(props, "display",
                            hd->display == VH_TRISTATE_ON ? "on" : "off");
    if (hd->ramfb == VH_TRISTATE_ON)
        vh_props_add_bool(props, "ramfb", TRUE);

    vh_props_add_string(props, "bus", bus);
    if (hd->multifunction != VH_TRISTATE_ABSENT)
        vh_props_add_bool(props, "multifunction",
                          hd->multifunction == VH_TRISTATE_ON);
    if (hd->guest.function != 0)
        addr = g_strdup_printf("0x%x.0x%x", hd->guest.slot,
                               hd->guest.function);
    else
        addr = g_strdup_printf("0x%x", hd->guest.slot);
    vh_props_add_string(props, "addr", addr);
    if (hd->acpi_index)
        vh_props_add_number(props, "acpi-index", hd->acpi_index);

    /* qemuBuildRomProps: enabled='no' is romfile="" and nothing else. */
    if (hd->rom_enabled == VH_TRISTATE_OFF) {
        vh_props_add_string(props, "romfile", "");
    } else {
        if (hd->rom_bar != VH_TRISTATE_ABSENT)
            vh_props_add_number(props, "rombar",
                                hd->rom_bar == VH_TRISTATE_ON ? 1 : 0);
        if (hd->rom_file)
            vh_props_add_string(props, "romfile", hd->rom_file);
    }
    return g_steal_pointer(&props);
}

GPtrArray *
vh_qemu_device_args(VhDomainDef *def, VhQemuSyntax syntax, GError **error)
{
    g_autoptr(GPtrArray) args = g_ptr_array_new_with_free_func(g_free);
    guint i;

    if (def->other_hostdevs->len > 0) {
        g_set_error(error, VH_QEMU_ERROR, VH_QEMU_ERROR_INVALID, "%s",
                    (const char *) g_ptr_array_index(def->other_hostdevs, 0));
        return NULL;
    }
    if (!vh_qemu_assign(def, error))
        return NULL;

    for (i = 0; i < def->hostdevs->len; i++) {
        const VhDomainHostdev *hd = g_ptr_array_index(def->hostdevs, i);
        g_autoptr(GArray) props = NULL;
        char *arg;

        /* libvirt's qemuBuildHostdevCommandLine skips these. */
        if (hd->unassigned)
            continue;
        props = vh_qemu_hostdev_props(def, hd, error);
        if (!props)
            return NULL;
        if (syntax == VH_QEMU_SYNTAX_LEGACY)
            arg = vh_props_to_legacy(props);
        else if (!(arg = vh_props_to_json(props, error)))
            return NULL;
        g_ptr_array_add(args, arg);
    }
    return g_steal_pointer(&args);
}
