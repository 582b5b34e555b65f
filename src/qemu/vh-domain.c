/*
 * vh-domain.c: the PCI host devices of a libvirt domain XML
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#define G_LOG_DOMAIN "qemu.domain"

#include <errno.h>
#include <stdarg.h>
#include <string.h>

#include <libxml/SAX2.h>
#include <libxml/parser.h>
#include <libxml/tree.h>

#include "vh-domain.h"
#include "vh-error.h"

/* libvirt's VIR_DOMAIN_MEMORY_PARAM_UNLIMITED: a limit this big is no limit. */
#define VH_MEMORY_UNLIMITED_KIB 9007199254740991ULL

/* libvirt 9.0 qemuValidateDomainDeviceInfo: QEMU's acpi-index maximum. */
#define VH_ACPI_INDEX_MAX 16383

G_DEFINE_AUTOPTR_CLEANUP_FUNC(xmlDoc, xmlFreeDoc)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(xmlParserCtxt, xmlFreeParserCtxt)

typedef char VhXmlChar;
static void vh_xml_free(VhXmlChar *s) { xmlFree(s); }
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VhXmlChar, vh_xml_free)

static void
vh_domain_hostdev_free(VhDomainHostdev *hd)
{
    if (!hd)
        return;
    g_free(hd->alias);
    g_free(hd->rom_file);
    g_free(hd->failover_pair_id);
    g_free(hd);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VhDomainHostdev, vh_domain_hostdev_free)

static void
vh_domain_controller_free(VhDomainController *c)
{
    if (!c)
        return;
    g_free(c->model);
    g_free(c->alias);
    g_free(c);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VhDomainController, vh_domain_controller_free)

void
vh_domain_def_free(VhDomainDef *def)
{
    if (!def)
        return;
    g_free(def->name);
    g_free(def->uuid);
    g_free(def->machine);
    g_clear_pointer(&def->hostdevs, g_ptr_array_unref);
    g_clear_pointer(&def->controllers, g_ptr_array_unref);
    g_clear_pointer(&def->other_hostdevs, g_ptr_array_unref);
    g_clear_pointer(&def->used_slots, g_hash_table_unref);
    g_free(def);
}

static VhDomainDef *
vh_domain_def_new(void)
{
    VhDomainDef *def = g_new0(VhDomainDef, 1);

    def->hostdevs = g_ptr_array_new_with_free_func(
        (GDestroyNotify) vh_domain_hostdev_free);
    def->controllers = g_ptr_array_new_with_free_func(
        (GDestroyNotify) vh_domain_controller_free);
    def->other_hostdevs = g_ptr_array_new_with_free_func(g_free);
    def->used_slots = g_hash_table_new(g_direct_hash, g_direct_equal);
    return def;
}

/* ---- small XML helpers ------------------------------------------------ */

static G_GNUC_PRINTF(3, 4) void
vh_xml_error(GError **error, const xmlNode *node, const char *fmt, ...)
{
    g_autofree char *raw = NULL;
    g_autofree char *msg = NULL;
    va_list ap;

    va_start(ap, fmt);
    raw = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    /* Values quoted from the XML may hold newlines (&#10;, text). */
    msg = vh_error_one_line(raw);
    if (node)
        g_set_error(error, VH_QEMU_ERROR, VH_QEMU_ERROR_INVALID,
                    "domain XML line %ld: %s", xmlGetLineNo(node), msg);
    else
        g_set_error(error, VH_QEMU_ERROR, VH_QEMU_ERROR_INVALID,
                    "domain XML: %s", msg);
}

/* libvirt's domain XML has no namespace; elements in one (qemu:commandline,
 * metadata) are someone else's and never match. */
static gboolean
vh_xml_is(const xmlNode *node, const char *name)
{
    return node->type == XML_ELEMENT_NODE && !node->ns &&
           xmlStrEqual(node->name, (const xmlChar *) name);
}

/* The first child element named @name, or NULL. */
static xmlNode *
vh_xml_child(const xmlNode *node, const char *name)
{
    xmlNode *c;

    for (c = node->children; c; c = c->next) {
        if (vh_xml_is(c, name))
            return c;
    }
    return NULL;
}

/* Newly allocated attribute value (g_free), or NULL when absent. */
static char *
vh_xml_prop(const xmlNode *node, const char *name)
{
    g_autoptr(VhXmlChar) v = NULL;

    v = (VhXmlChar *) xmlGetNoNsProp(node, (const xmlChar *) name);
    return v ? g_strdup(v) : NULL;
}

/* Newly allocated, whitespace-trimmed text content of @node (g_free). */
static char *
vh_xml_text(const xmlNode *node)
{
    g_autoptr(VhXmlChar) v = NULL;

    v = (VhXmlChar *) xmlNodeGetContent(node);
    return g_strstrip(g_strdup(v ? v : ""));
}

/*
 * An unsigned attribute in C notation, as libvirt reads them
 * (virXMLPropUInt, base 0): "0x1f" hexadecimal, "31" decimal, a leading 0
 * octal.  Absent: *@ret_present FALSE.  Above @max: refused.
 */
static gboolean
vh_xml_prop_uint(const xmlNode *node, const char *elem, const char *name,
                 guint64 max, gboolean *ret_present, guint64 *ret_value,
                 GError **error)
{
    g_autofree char *str = vh_xml_prop(node, name);
    const char *p;
    char *end = NULL;
    guint64 value;

    if (!str) {
        *ret_present = FALSE;
        *ret_value = 0;
        return TRUE;
    }
    p = str;
    while (g_ascii_isspace(*p))
        p++;
    errno = 0;
    value = g_ascii_strtoull(p, &end, 0);
    if (*p == '\0' || *p == '-' || *p == '+' || end == p || *end != '\0' ||
        errno == ERANGE) {
        vh_xml_error(error, node, "%s %s='%s' is not a number; write it "
                     "in hexadecimal such as '0x1f' or in decimal",
                     elem, name, str);
        return FALSE;
    }
    if (value > max) {
        vh_xml_error(error, node, "%s %s='%s' is out of range (at most 0x%"
                     G_GINT64_MODIFIER "x)", elem, name, str, max);
        return FALSE;
    }
    *ret_present = TRUE;
    *ret_value = value;
    return TRUE;
}

/* 'on'/'off' (or 'yes'/'no' when @yesno) attribute into a tristate. */
static gboolean
vh_xml_prop_tristate(const xmlNode *node, const char *elem, const char *name,
                     gboolean yesno, VhTristate *ret_value, GError **error)
{
    g_autofree char *str = vh_xml_prop(node, name);
    const char *on = yesno ? "yes" : "on";
    const char *off = yesno ? "no" : "off";

    if (!str) {
        *ret_value = VH_TRISTATE_ABSENT;
    } else if (g_str_equal(str, on)) {
        *ret_value = VH_TRISTATE_ON;
    } else if (g_str_equal(str, off)) {
        *ret_value = VH_TRISTATE_OFF;
    } else {
        vh_xml_error(error, node, "%s %s='%s' is invalid; expected '%s' or "
                     "'%s'", elem, name, str, on, off);
        return FALSE;
    }
    return TRUE;
}

/* ---- memory ------------------------------------------------------------ */

/*
 * libvirt's virScaleInteger: b/bytes, k/KiB (1024), KB (1000), M/MiB, MB,
 * G/GiB, GB, T/TiB, TB, P/PiB, PB, E/EiB, EB; the default for memory is KiB.
 */
static gboolean
vh_memory_unit_scale(const char *unit, guint64 *ret_scale)
{
    static const char prefixes[] = "kmgtpe";
    const char *pos;
    guint64 base;
    guint64 scale = 1;
    int power;

    if (!unit || !*unit) {
        *ret_scale = 1024;
        return TRUE;
    }
    if (g_ascii_strcasecmp(unit, "b") == 0 ||
        g_ascii_strcasecmp(unit, "byte") == 0 ||
        g_ascii_strcasecmp(unit, "bytes") == 0) {
        *ret_scale = 1;
        return TRUE;
    }
    pos = strchr(prefixes, g_ascii_tolower(unit[0]));
    if (!pos || unit[0] == '\0')
        return FALSE;
    power = (int) (pos - prefixes) + 1;
    if (unit[1] == '\0')
        base = 1024;
    else if (g_ascii_strcasecmp(unit + 1, "ib") == 0)
        base = 1024;
    else if (g_ascii_strcasecmp(unit + 1, "b") == 0)
        base = 1000;
    else
        return FALSE;
    while (power--)
        scale *= base;
    *ret_scale = scale;
    return TRUE;
}

/* <memory unit='...'>N</memory> (and hard_limit) in KiB, rounded up. */
static gboolean
vh_xml_memory_kib(const xmlNode *node, guint64 *ret_kib, GError **error)
{
    g_autofree char *unit = vh_xml_prop(node, "unit");
    g_autofree char *text = vh_xml_text(node);
    const char *name = (const char *) node->name;
    char *end = NULL;
    guint64 scale;
    guint64 value;

    if (!vh_memory_unit_scale(unit, &scale)) {
        vh_xml_error(error, node, "<%s unit='%s'> is not a unit; use b, KiB, "
                     "MiB, GiB, TiB (or KB, MB, GB, TB)", name, unit);
        return FALSE;
    }
    errno = 0;
    value = g_ascii_strtoull(text, &end, 10);
    if (!g_ascii_isdigit(text[0]) || *end != '\0' || errno == ERANGE) {
        vh_xml_error(error, node, "<%s> '%s' is not a number", name, text);
        return FALSE;
    }
    if (value > G_MAXUINT64 / scale) {
        vh_xml_error(error, node, "<%s> %s %s is too large", name, text,
                     unit ? unit : "KiB");
        return FALSE;
    }
    value *= scale;
    *ret_kib = value / 1024 + (value % 1024 ? 1 : 0);
    return TRUE;
}

static gboolean
vh_domain_parse_memory(VhDomainDef *def, const xmlNode *root, GError **error)
{
    const xmlNode *mem = vh_xml_child(root, "memory");
    const xmlNode *tune = vh_xml_child(root, "memtune");
    const xmlNode *backing = vh_xml_child(root, "memoryBacking");

    if (!mem) {
        vh_xml_error(error, root, "<domain> has no <memory>; give the guest "
                     "RAM as <memory unit='MiB'>N</memory>");
        return FALSE;
    }
    if (!vh_xml_memory_kib(mem, &def->memory_kib, error))
        return FALSE;

    if (tune) {
        const xmlNode *hard = vh_xml_child(tune, "hard_limit");
        guint64 kib = 0;

        if (hard && !vh_xml_memory_kib(hard, &kib, error))
            return FALSE;
        /* libvirt's virMemoryLimitIsSet: "unlimited" is no limit. */
        if (kib < VH_MEMORY_UNLIMITED_KIB)
            def->hard_limit_kib = kib;
    }
    if (backing && vh_xml_child(backing, "locked"))
        def->memory_locked = TRUE;
    return TRUE;
}

guint64
vh_domain_def_memlock_bytes(const VhDomainDef *def)
{
    if (def->hard_limit_kib)
        return def->hard_limit_kib * 1024;
    if (def->memory_locked)
        return G_MAXUINT64;
    if (def->hostdevs->len == 0 && !def->other_vfio)
        return 0;
    return (def->memory_kib + 1024 * 1024) * 1024;
}

/* ---- addresses ---------------------------------------------------------- */

/*
 * <address domain bus slot function>, each optional and 0 when absent, as
 * libvirt's virPCIDeviceAddressParseXML.  @elem names the element for
 * messages.
 */
static gboolean
vh_xml_pci_address(const xmlNode *node, const char *elem,
                   VhPciAddress *ret_addr, VhTristate *ret_multi,
                   GError **error)
{
    static const struct {
        const char *name;
        guint64 max;
    } parts[] = {
        { "domain", 0xffffffff },
        { "bus", 0xff },
        { "slot", 0x1f },
        { "function", 0x7 },
    };
    guint64 values[G_N_ELEMENTS(parts)] = { 0 };
    VhTristate multi = VH_TRISTATE_ABSENT;
    gsize i;

    for (i = 0; i < G_N_ELEMENTS(parts); i++) {
        gboolean present;

        if (!vh_xml_prop_uint(node, elem, parts[i].name, parts[i].max,
                              &present, &values[i], error))
            return FALSE;
    }
    if (!vh_xml_prop_tristate(node, elem, "multifunction", FALSE, &multi,
                              error))
        return FALSE;
    if (ret_multi)
        *ret_multi = multi;
    ret_addr->domain = (guint32) values[0];
    ret_addr->bus = (guint8) values[1];
    ret_addr->slot = (guint8) values[2];
    ret_addr->function = (guint8) values[3];
    return TRUE;
}

/* Where a device sits in the guest, from its own <address>. */
typedef struct {
    gboolean present;           /* an <address type='pci'> */
    gboolean unassigned;        /* an <address type='unassigned'/> */
    VhPciAddress addr;
    VhTristate multi;
} VhGuestAddress;

/*
 * A device's own guest <address> (a direct child) into *@ret.  Type
 * 'unassigned' is accepted when @allow_unassigned; other types (drive, ccw,
 * ...) are refused for PCI devices.  *@ret is set only on success.
 */
static gboolean
vh_xml_guest_address(const xmlNode *dev, const char *what,
                     gboolean allow_unassigned, VhGuestAddress *ret,
                     GError **error)
{
    const xmlNode *addr = vh_xml_child(dev, "address");
    VhGuestAddress ga = { 0 };
    g_autofree char *type = NULL;
    g_autofree char *elem = NULL;

    if (!addr) {
        *ret = ga;
        return TRUE;
    }
    type = vh_xml_prop(addr, "type");
    elem = g_strdup_printf("%s <address>", what);
    if (type && g_str_equal(type, "unassigned") && allow_unassigned) {
        ga.unassigned = TRUE;
        *ret = ga;
        return TRUE;
    }
    if (!type || !g_str_equal(type, "pci")) {
        vh_xml_error(error, addr, "%s has address type='%s'; a PCI device "
                     "needs type='pci'%s", what, type ? type : "",
                     allow_unassigned ? " or type='unassigned'" : "");
        return FALSE;
    }
    if (vh_xml_child(addr, "zpci")) {
        vh_xml_error(error, addr, "%s has a <zpci> part: s390 zPCI addresses "
                     "are not supported (virt-hostdev builds x86 QEMU "
                     "arguments)", elem);
        return FALSE;
    }
    if (!vh_xml_pci_address(addr, elem, &ga.addr, &ga.multi, error))
        return FALSE;
    /* libvirt's virPCIDeviceAddressIsEmpty: 0000:00:00.0 means "pick one". */
    if (ga.addr.domain == 0 && ga.addr.bus == 0 && ga.addr.slot == 0 &&
        ga.addr.function == 0) {
        VhGuestAddress none = { 0 };

        *ret = none;
        return TRUE;
    }
    if (ga.addr.domain != 0) {
        vh_xml_error(error, addr, "%s domain='0x%04x': QEMU guests have PCI "
                     "domain 0 only; use domain='0x0000'", elem,
                     ga.addr.domain);
        return FALSE;
    }
    ga.present = TRUE;
    *ret = ga;
    return TRUE;
}

/* ---- hostdev -------------------------------------------------------------- */

/* Pretty "0000:06:12.5" of the hostdev for messages, in @buf. */
static const char *
vh_hostdev_name(const VhDomainHostdev *hd, char buf[VH_PCI_ADDRESS_BUFLEN])
{
    return vh_pci_address_format(&hd->source, buf);
}

/* <driver name='vfio'/> or no name: vfio.  Others are refused. */
static gboolean
vh_hostdev_parse_driver(const xmlNode *dev, const VhDomainHostdev *hd,
                        const char *what, GError **error)
{
    const xmlNode *drv = vh_xml_child(dev, "driver");
    g_autofree char *name = drv ? vh_xml_prop(drv, "name") : NULL;
    char buf[VH_PCI_ADDRESS_BUFLEN];

    if (!name || g_str_equal(name, "vfio"))
        return TRUE;
    if (g_str_equal(name, "kvm")) {
        vh_xml_error(error, drv, "%s %s: <driver name='kvm'/> (legacy KVM "
                     "device assignment) is not supported by QEMU 7.2 or "
                     "virt-hostdev; use <driver name='vfio'/> or omit "
                     "<driver>", what, vh_hostdev_name(hd, buf));
    } else if (g_str_equal(name, "xen")) {
        vh_xml_error(error, drv, "%s %s: <driver name='xen'/> (Xen pciback) "
                     "is for Xen guests, not QEMU/KVM; use <driver "
                     "name='vfio'/> or omit <driver>", what,
                     vh_hostdev_name(hd, buf));
    } else {
        vh_xml_error(error, drv, "%s %s: unknown <driver name='%s'/>; the "
                     "only PCI assignment backend is 'vfio'", what,
                     vh_hostdev_name(hd, buf), name);
    }
    return FALSE;
}

/* <source><address .../></source>: the host device, required. */
static gboolean
vh_hostdev_parse_source(const xmlNode *dev, VhDomainHostdev *hd,
                        const char *what, GError **error)
{
    const xmlNode *src = vh_xml_child(dev, "source");
    const xmlNode *addr = src ? vh_xml_child(src, "address") : NULL;
    g_autofree char *type = NULL;
    g_autofree char *elem = NULL;
    const xmlNode *c;

    for (c = addr ? addr->next : NULL; c; c = c->next) {
        if (vh_xml_is(c, "address")) {
            vh_xml_error(error, c, "%s <source> has a second <address>: a "
                         "hostdev is one host PCI device; give one <address> "
                         "per <hostdev>", what);
            return FALSE;
        }
    }
    if (!addr) {
        vh_xml_error(error, src ? src : dev, "%s has no <source><address "
                     "domain= bus= slot= function=/></source>: name the host "
                     "PCI device to assign", what);
        return FALSE;
    }
    type = vh_xml_prop(addr, "type");
    if (type && !g_str_equal(type, "pci")) {
        vh_xml_error(error, addr, "%s <source> has address type='%s'; it is "
                     "not a PCI device (expected type='pci')", what, type);
        return FALSE;
    }
    if (!xmlHasProp(addr, (const xmlChar *) "domain") &&
        !xmlHasProp(addr, (const xmlChar *) "bus") &&
        !xmlHasProp(addr, (const xmlChar *) "slot") &&
        !xmlHasProp(addr, (const xmlChar *) "function")) {
        vh_xml_error(error, addr, "%s <source><address> has none of domain, "
                     "bus, slot, function: name the host PCI device to "
                     "assign", what);
        return FALSE;
    }
    elem = g_strdup_printf("%s <source><address>", what);
    return vh_xml_pci_address(addr, elem, &hd->source, NULL, error);
}

/* The user alias ("ua-" + letters, digits, '-', '_', '.'), or NULL. */
static gboolean
vh_xml_user_alias(const xmlNode *dev, const char *what, char **ret_alias,
                  GError **error)
{
    const xmlNode *node = vh_xml_child(dev, "alias");
    g_autofree char *name = node ? vh_xml_prop(node, "name") : NULL;
    const char *p;

    /* libvirt drops other aliases when it reads an inactive definition. */
    if (!name || !g_str_has_prefix(name, "ua-")) {
        *ret_alias = NULL;
        return TRUE;
    }
    for (p = name; *p; p++) {
        if (!g_ascii_isalnum(*p) && !strchr("-_.", *p)) {
            vh_xml_error(error, node, "%s <alias name='%s'>: only letters, "
                         "digits, '-', '_' and '.' may follow 'ua-'", what,
                         name);
            return FALSE;
        }
    }
    *ret_alias = g_steal_pointer(&name);
    return TRUE;
}

/* <boot order>, <rom>, <acpi index>, <teaming>: the device's options. */
static gboolean
vh_hostdev_parse_options(const xmlNode *dev, VhDomainHostdev *hd,
                         const char *what, GError **error)
{
    const xmlNode *boot = vh_xml_child(dev, "boot");
    const xmlNode *rom = vh_xml_child(dev, "rom");
    const xmlNode *acpi = vh_xml_child(dev, "acpi");
    const xmlNode *teaming = vh_xml_child(dev, "teaming");
    gboolean present;
    guint64 v;

    if (boot) {
        if (!vh_xml_prop_uint(boot, "<boot>", "order", G_MAXINT, &present,
                              &v, error))
            return FALSE;
        if (!present || v == 0) {
            vh_xml_error(error, boot, "%s <boot> needs order='N' with N "
                         "at least 1", what);
            return FALSE;
        }
        hd->boot_order = (guint) v;
    }
    if (rom) {
        g_autofree char *file = vh_xml_prop(rom, "file");

        if (!vh_xml_prop_tristate(rom, "<rom>", "bar", FALSE, &hd->rom_bar,
                                  error) ||
            !vh_xml_prop_tristate(rom, "<rom>", "enabled", TRUE,
                                  &hd->rom_enabled, error))
            return FALSE;
        if (hd->rom_enabled == VH_TRISTATE_OFF &&
            (hd->rom_bar != VH_TRISTATE_ABSENT || file)) {
            vh_xml_error(error, rom, "%s <rom enabled='no'> cannot have bar "
                         "or file (libvirt: ROM tuning is not supported when "
                         "ROM is disabled)", what);
            return FALSE;
        }
        hd->rom_file = g_steal_pointer(&file);
    }
    if (acpi) {
        if (!vh_xml_prop_uint(acpi, "<acpi>", "index", G_MAXUINT, &present,
                              &v, error))
            return FALSE;
        if (!present || v == 0 || v > VH_ACPI_INDEX_MAX) {
            vh_xml_error(error, acpi, "%s <acpi> needs index='N' with N from "
                         "1 to %d", what, VH_ACPI_INDEX_MAX);
            return FALSE;
        }
        hd->acpi_index = (guint) v;
    }
    if (teaming) {
        g_autofree char *type = vh_xml_prop(teaming, "type");
        g_autofree char *persistent = vh_xml_prop(teaming, "persistent");

        if (!type || !g_str_equal(type, "transient")) {
            vh_xml_error(error, teaming, "%s <teaming type='%s'>: a host "
                         "device can only be the transient member; use "
                         "<teaming type='transient' persistent='ALIAS'/>",
                         what, type ? type : "");
            return FALSE;
        }
        if (!persistent || !*persistent) {
            vh_xml_error(error, teaming, "%s <teaming type='transient'> needs "
                         "persistent='ALIAS', the alias of the virtio "
                         "interface it backs up", what);
            return FALSE;
        }
        hd->failover_pair_id = g_steal_pointer(&persistent);
    }
    return TRUE;
}

/* The parts <hostdev type='pci'> and <interface type='hostdev'> share. */
static VhDomainHostdev *
vh_hostdev_parse_common(const xmlNode *dev, const char *what,
                        gboolean interface, GError **error)
{
    g_autoptr(VhDomainHostdev) hd = g_new0(VhDomainHostdev, 1);
    g_autofree char *managed = vh_xml_prop(dev, "managed");
    VhGuestAddress ga = { 0 };

    hd->interface = interface;
    hd->line = (guint) xmlGetLineNo(dev);
    if (managed && !g_str_equal(managed, "yes") &&
        !g_str_equal(managed, "no")) {
        vh_xml_error(error, dev, "%s managed='%s' is invalid; expected "
                     "'yes' or 'no'", what, managed);
        return NULL;
    }
    hd->managed = managed && g_str_equal(managed, "yes");

    if (!vh_hostdev_parse_source(dev, hd, what, error) ||
        !vh_hostdev_parse_driver(dev, hd, what, error) ||
        !vh_xml_guest_address(dev, what, TRUE, &ga, error) ||
        !vh_xml_user_alias(dev, what, &hd->alias, error) ||
        !vh_hostdev_parse_options(dev, hd, what, error))
        return NULL;
    hd->has_guest_address = ga.present;
    hd->unassigned = ga.unassigned;
    hd->guest = ga.addr;
    hd->multifunction = ga.multi;
    return g_steal_pointer(&hd);
}

static gboolean
vh_domain_parse_hostdev(VhDomainDef *def, const xmlNode *dev, GError **error)
{
    g_autofree char *mode = vh_xml_prop(dev, "mode");
    g_autofree char *type = vh_xml_prop(dev, "type");
    VhDomainHostdev *hd;

    if (mode && !g_str_equal(mode, "subsystem")) {
        vh_xml_error(error, dev, "<hostdev mode='%s'> is not supported; PCI "
                     "assignment uses mode='subsystem'", mode);
        return FALSE;
    }
    if (!type) {
        vh_xml_error(error, dev, "<hostdev> has no type; PCI assignment "
                     "uses <hostdev mode='subsystem' type='pci'>");
        return FALSE;
    }
    if (g_str_equal(type, "mdev")) {
        def->other_vfio = TRUE;
        g_ptr_array_add(def->other_hostdevs,
                        g_strdup_printf("domain XML line %ld: <hostdev "
                                        "type='mdev'> is a mediated device, "
                                        "not a PCI device; virt-hostdev "
                                        "assigns whole PCI functions only",
                                        xmlGetLineNo(dev)));
        return TRUE;
    }
    if (!g_str_equal(type, "pci")) {
        g_autofree char *shown = vh_error_one_line(type);

        g_ptr_array_add(def->other_hostdevs,
                        g_strdup_printf("domain XML line %ld: <hostdev "
                                        "type='%s'> is not a PCI device; "
                                        "virt-hostdev assigns PCI functions "
                                        "only", xmlGetLineNo(dev), shown));
        return TRUE;
    }

    hd = vh_hostdev_parse_common(dev, "<hostdev>", FALSE, error);
    if (!hd)
        return FALSE;
    g_ptr_array_add(def->hostdevs, hd);
    if (!vh_xml_prop_tristate(dev, "<hostdev>", "display", FALSE,
                              &hd->display, error) ||
        !vh_xml_prop_tristate(dev, "<hostdev>", "ramfb", FALSE, &hd->ramfb,
                              error))
        return FALSE;
    return TRUE;
}

/*
 * libvirt inserts the hostdev of every <interface type='hostdev'> into the
 * domain's hostdev list as it reads the interfaces; plain <hostdev>
 * elements come after, whatever the document order.  We keep the two in
 * separate arrays and join them in that order.
 */
static gboolean
vh_domain_parse_interface(VhDomainDef *def, GPtrArray *ifaces,
                          const xmlNode *dev, GError **error)
{
    g_autofree char *type = vh_xml_prop(dev, "type");
    VhDomainHostdev *hd;

    if (!type || !g_str_equal(type, "hostdev"))
        return TRUE;
    hd = vh_hostdev_parse_common(dev, "<interface type='hostdev'>", TRUE,
                                 error);
    if (!hd)
        return FALSE;
    g_ptr_array_add(ifaces, hd);
    return TRUE;
}

/* ---- controllers ---------------------------------------------------------- */

static gboolean
vh_domain_parse_controller(VhDomainDef *def, const xmlNode *dev,
                           GError **error)
{
    g_autoptr(VhDomainController) c = g_new0(VhDomainController, 1);
    g_autofree char *type = vh_xml_prop(dev, "type");
    g_autofree char *ualias = NULL;
    VhGuestAddress ga = { 0 };
    gboolean present;
    guint64 index;

    if (!type || !g_str_equal(type, "pci"))
        return TRUE;
    c->line = (guint) xmlGetLineNo(dev);
    c->model = vh_xml_prop(dev, "model");
    if (!c->model) {
        vh_xml_error(error, dev, "<controller type='pci'> has no model; "
                     "give model='pcie-root-port' (or pci-root, pcie-root, "
                     "pci-bridge, ...)");
        return FALSE;
    }
    if (!vh_xml_prop_uint(dev, "<controller type='pci'>", "index", 0xff,
                          &present, &index, error))
        return FALSE;
    if (!present) {
        vh_xml_error(error, dev, "<controller type='pci' model='%s'> has no "
                     "index; the index is the guest bus number it provides",
                     c->model);
        return FALSE;
    }
    c->index = (guint) index;
    if (vh_domain_def_find_controller(def, c->index)) {
        vh_xml_error(error, dev, "<controller type='pci'> index='%u' is "
                     "defined twice", c->index);
        return FALSE;
    }
    if (!vh_xml_guest_address(dev, "<controller type='pci'>", FALSE, &ga,
                              error) ||
        !vh_xml_user_alias(dev, "<controller type='pci'>", &ualias, error))
        return FALSE;
    c->has_address = ga.present;
    c->address = ga.addr;
    c->multifunction = ga.multi;

    /* libvirt's qemuAssignDeviceControllerAlias: the root bus keeps QEMU's
     * name, other controllers are "pci.<index>" unless the user named them. */
    if (g_str_equal(c->model, "pci-root") || g_str_equal(c->model, "pcie-root")) {
        if (c->index != 0) {
            vh_xml_error(error, dev, "<controller type='pci' model='%s'> "
                         "must have index='0'", c->model);
            return FALSE;
        }
        c->alias = g_strdup(g_str_equal(c->model, "pci-root") ?
                            "pci.0" : "pcie.0");
    } else if (c->index == 0) {
        vh_xml_error(error, dev, "<controller type='pci' index='0'> must be "
                     "model='pci-root' or model='pcie-root'");
        return FALSE;
    } else if (ualias) {
        c->alias = g_steal_pointer(&ualias);
    } else {
        c->alias = g_strdup_printf("pci.%u", c->index);
    }
    g_ptr_array_add(def->controllers, g_steal_pointer(&c));
    return TRUE;
}

const VhDomainController *
vh_domain_def_find_controller(const VhDomainDef *def, guint index)
{
    guint i;

    for (i = 0; i < def->controllers->len; i++) {
        const VhDomainController *c = g_ptr_array_index(def->controllers, i);

        if (c->index == index)
            return c;
    }
    return NULL;
}

/* libvirt adds the root controller a machine always has when it is absent. */
static gboolean
vh_domain_add_root_controller(VhDomainDef *def, GError **error)
{
    const VhDomainController *root_c = vh_domain_def_find_controller(def, 0);
    const char *want = def->q35 ? "pcie-root" : "pci-root";
    VhDomainController *c;

    if (root_c) {
        if (!g_str_equal(root_c->model, want)) {
            g_set_error(error, VH_QEMU_ERROR, VH_QEMU_ERROR_INVALID,
                        "domain XML line %u: <controller type='pci' "
                        "index='0' model='%s'> does not match machine '%s', "
                        "which has a %s", root_c->line, root_c->model,
                        def->machine ? def->machine : "pc", want);
            return FALSE;
        }
        return TRUE;
    }
    c = g_new0(VhDomainController, 1);
    c->index = 0;
    c->model = g_strdup(want);
    c->alias = g_strdup(def->q35 ? "pcie.0" : "pci.0");
    g_ptr_array_insert(def->controllers, 0, c);
    return TRUE;
}

/* ---- the domain ------------------------------------------------------------ */

static gboolean
vh_domain_parse_header(VhDomainDef *def, const xmlNode *root, GError **error)
{
    const xmlNode *name = vh_xml_child(root, "name");
    const xmlNode *uuid = vh_xml_child(root, "uuid");
    const xmlNode *os = vh_xml_child(root, "os");
    const xmlNode *ostype = os ? vh_xml_child(os, "type") : NULL;
    g_autofree char *lower = NULL;

    if (!name) {
        vh_xml_error(error, root, "<domain> has no <name>");
        return FALSE;
    }
    def->name = vh_xml_text(name);
    if (!*def->name) {
        vh_xml_error(error, name, "<name> is empty");
        return FALSE;
    }
    if (uuid) {
        def->uuid = vh_xml_text(uuid);
        if (!g_uuid_string_is_valid(def->uuid)) {
            g_autofree char *dashed = NULL;

            /* libvirt also takes the 32 hex digits without dashes. */
            if (strlen(def->uuid) == 32)
                dashed = g_strdup_printf("%.8s-%.4s-%.4s-%.4s-%.12s",
                                         def->uuid, def->uuid + 8,
                                         def->uuid + 12, def->uuid + 16,
                                         def->uuid + 20);
            if (!dashed || !g_uuid_string_is_valid(dashed)) {
                vh_xml_error(error, uuid, "<uuid> '%s' is not a UUID such as "
                             "c7a5fdbd-edaf-9455-926a-d65c16db1809",
                             def->uuid);
                return FALSE;
            }
            g_free(def->uuid);
            def->uuid = g_steal_pointer(&dashed);
        }
        lower = g_ascii_strdown(def->uuid, -1);
        g_free(def->uuid);
        def->uuid = g_steal_pointer(&lower);
    }
    if (ostype)
        def->machine = vh_xml_prop(ostype, "machine");
    def->has_os_boot = os && vh_xml_child(os, "boot");
    def->q35 = def->machine && strstr(def->machine, "q35") != NULL;
    return TRUE;
}

/* TRUE when libvirt gives @dev, which has no address, a PCI slot before
 * it places host devices (qemuDomainAssignDevicePCISlots order). */
static gboolean
vh_domain_placed_before_hostdevs(const VhDomainDef *def, const xmlNode *dev)
{
    static const char *const pci_sound[] = {
        "ich6", "ich7", "ich9", "ac97", "es1370", NULL
    };
    static const char *const slotless_usb[] = {
        "piix3-uhci", "none", "ich9-uhci1", "ich9-uhci2", "ich9-uhci3", NULL
    };
    g_autofree char *type = vh_xml_prop(dev, "type");
    g_autofree char *model = vh_xml_prop(dev, "model");

    if (vh_xml_is(dev, "interface"))
        return !type || !g_str_equal(type, "hostdev");
    if (vh_xml_is(dev, "filesystem"))
        return TRUE;
    if (vh_xml_is(dev, "sound"))
        return model && g_strv_contains(pci_sound, model);
    if (vh_xml_is(dev, "disk")) {
        const xmlNode *target = vh_xml_child(dev, "target");
        g_autofree char *bus = target ? vh_xml_prop(target, "bus") : NULL;

        return bus && g_str_equal(bus, "virtio");
    }
    if (vh_xml_is(dev, "controller") && type) {
        if (g_str_equal(type, "scsi") || g_str_equal(type, "virtio-serial"))
            return TRUE;
        /* q35 has its SATA controller built in at 00:1f.2. */
        if (g_str_equal(type, "sata"))
            return !def->q35;
        /* The default USB controller of pc sits at 00:01.2 of the PIIX3;
         * q35's default is a qemu-xhci of its own. */
        if (g_str_equal(type, "usb"))
            return model ? !g_strv_contains(slotless_usb, model) : def->q35;
        if (g_str_equal(type, "pci"))
            return model && !g_str_equal(model, "pci-root") &&
                   !g_str_equal(model, "pcie-root");
    }
    return FALSE;
}

/* Remember the guest slot a non-hostdev device's <address type='pci'> takes,
 * or count it among those libvirt places before host devices. */
static void
vh_domain_note_slot(VhDomainDef *def, const xmlNode *dev)
{
    const xmlNode *addr = vh_xml_child(dev, "address");
    g_autofree char *type = addr ? vh_xml_prop(addr, "type") : NULL;
    VhPciAddress a = { 0 };
    gpointer key;
    guint mask;

    if (!addr) {
        if (vh_domain_placed_before_hostdevs(def, dev))
            def->auto_before_hostdevs++;
        return;
    }
    if (!type || !g_str_equal(type, "pci"))
        return;
    if (!vh_xml_pci_address(addr, "<address>", &a, NULL, NULL))
        return;     /* libvirt will complain about that device, not us */
    key = GUINT_TO_POINTER((guint) a.bus << 8 | a.slot);
    mask = GPOINTER_TO_UINT(g_hash_table_lookup(def->used_slots, key));
    g_hash_table_insert(def->used_slots, key,
                        GUINT_TO_POINTER(mask | 1u << a.function));
}

/* Note the disk buses and the controllers of @dev: [0] sata, [1] scsi,
 * [2] usb (controllers only). */
static void
vh_domain_note_implicit(const xmlNode *dev, gboolean disk_bus[3],
                        gboolean controller[3])
{
    static const char *const kinds[] = { "sata", "scsi", "usb" };
    g_autofree char *type = vh_xml_prop(dev, "type");
    gsize i;

    if (vh_xml_is(dev, "disk")) {
        const xmlNode *target = vh_xml_child(dev, "target");
        g_autofree char *bus = target ? vh_xml_prop(target, "bus") : NULL;

        for (i = 0; bus && i < 2; i++)
            disk_bus[i] |= g_str_equal(bus, kinds[i]);
    } else if (vh_xml_is(dev, "controller") && type) {
        for (i = 0; i < G_N_ELEMENTS(kinds); i++)
            controller[i] |= g_str_equal(type, kinds[i]);
    }
}

static gboolean
vh_domain_parse_devices(VhDomainDef *def, const xmlNode *devices,
                        GError **error)
{
    g_autoptr(GPtrArray) ifaces = g_ptr_array_new_with_free_func(
        (GDestroyNotify) vh_domain_hostdev_free);
    const xmlNode *first_video = NULL;
    gboolean graphics = FALSE;
    /* Disk buses and controllers, for the controllers libvirt adds. */
    gboolean disk_bus[3] = { FALSE };       /* sata, scsi ([2] unused) */
    gboolean controller[3] = { FALSE };     /* sata, scsi, usb */
    xmlNode *dev;
    guint i;

    for (dev = devices ? devices->children : NULL; dev; dev = dev->next) {
        if (dev->type != XML_ELEMENT_NODE)
            continue;
        if (vh_xml_is(dev, "video") && !first_video)
            first_video = dev;
        if (vh_xml_is(dev, "graphics"))
            graphics = TRUE;
        vh_domain_note_implicit(dev, disk_bus, controller);
        if (vh_xml_is(dev, "hostdev")) {
            if (!vh_domain_parse_hostdev(def, dev, error))
                return FALSE;
        } else if (vh_xml_is(dev, "interface")) {
            if (!vh_domain_parse_interface(def, ifaces, dev, error))
                return FALSE;
            vh_domain_note_slot(def, dev);
        } else if (vh_xml_is(dev, "controller")) {
            if (!vh_domain_parse_controller(def, dev, error))
                return FALSE;
            vh_domain_note_slot(def, dev);
        } else {
            g_autofree char *type = vh_xml_prop(dev, "type");

            if (vh_xml_is(dev, "disk") && type && g_str_equal(type, "nvme"))
                def->other_vfio = TRUE;
            vh_domain_note_slot(def, dev);
        }
    }
    /* Controllers libvirt adds when the XML lacks them, each on a PCI
     * slot (pc) or root port (q35) taken before the host devices. */
    if (disk_bus[0] && !controller[0] && !def->q35)
        def->auto_before_hostdevs++;        /* ahci for SATA disks */
    if (disk_bus[1] && !controller[1])
        def->auto_before_hostdevs++;        /* lsilogic for SCSI disks */
    if (!controller[2] && def->q35)
        def->auto_before_hostdevs++;        /* q35's default qemu-xhci */

    /* The primary video card libvirt places first (a <graphics> without
     * <video> gets a default one); none when its model is 'none' or it
     * has its own address. */
    if (first_video) {
        const xmlNode *model = vh_xml_child(first_video, "model");
        g_autofree char *mtype = model ? vh_xml_prop(model, "type") : NULL;

        def->has_video = !(mtype && g_str_equal(mtype, "none")) &&
                         !vh_xml_child(first_video, "address");
    } else {
        def->has_video = graphics;
    }

    /* Interfaces first, as libvirt orders them (see above). */
    for (i = 0; i < ifaces->len; i++)
        g_ptr_array_insert(def->hostdevs, (int) i, ifaces->pdata[i]);
    g_ptr_array_set_free_func(ifaces, NULL);
    return TRUE;
}

/* Duplicate sources, aliases, boot orders and ACPI indexes are refused. */
static gboolean
vh_domain_check_unique(VhDomainDef *def, GError **error)
{
    guint i, j;

    for (i = 0; i < def->hostdevs->len; i++) {
        const VhDomainHostdev *a = g_ptr_array_index(def->hostdevs, i);
        char buf[VH_PCI_ADDRESS_BUFLEN];

        if (a->boot_order && def->has_os_boot) {
            g_set_error(error, VH_QEMU_ERROR, VH_QEMU_ERROR_INVALID,
                        "domain XML line %u: per-device boot elements cannot "
                        "be used together with os/boot elements; remove "
                        "<os><boot dev=...> or the device's <boot order>",
                        a->line);
            return FALSE;
        }

        for (j = 0; j < i; j++) {
            const VhDomainHostdev *b = g_ptr_array_index(def->hostdevs, j);

            if (vh_pci_address_equal(&a->source, &b->source)) {
                g_set_error(error, VH_QEMU_ERROR, VH_QEMU_ERROR_INVALID,
                            "domain XML line %u: Hostdev already exists in "
                            "the domain configuration: %s is also assigned "
                            "at line %u", a->line,
                            vh_pci_address_format(&a->source, buf), b->line);
                return FALSE;
            }
            if (a->alias && b->alias && g_str_equal(a->alias, b->alias)) {
                g_set_error(error, VH_QEMU_ERROR, VH_QEMU_ERROR_INVALID,
                            "domain XML line %u: non unique alias detected: "
                            "'%s' is also used at line %u", a->line,
                            a->alias, b->line);
                return FALSE;
            }
            if (a->boot_order && a->boot_order == b->boot_order) {
                g_set_error(error, VH_QEMU_ERROR, VH_QEMU_ERROR_INVALID,
                            "domain XML line %u: boot order %u is also used "
                            "at line %u", a->line, a->boot_order, b->line);
                return FALSE;
            }
            if (a->acpi_index && a->acpi_index == b->acpi_index) {
                g_set_error(error, VH_QEMU_ERROR, VH_QEMU_ERROR_INVALID,
                            "domain XML line %u: non unique acpi index "
                            "'%u': also used at line %u", a->line,
                            a->acpi_index, b->line);
                return FALSE;
            }
        }
    }
    return TRUE;
}

/*
 * libvirt's qemuAssignDeviceHostdevAlias gives one past the highest
 * hostdevN so far.  An inactive definition has only user aliases ("ua-..."),
 * which take no number, so that is a count of the hostdevs without one, in
 * list order (interfaces first).
 */
static void
vh_domain_assign_aliases(VhDomainDef *def)
{
    guint next = 0;
    guint i;

    for (i = 0; i < def->hostdevs->len; i++) {
        VhDomainHostdev *hd = g_ptr_array_index(def->hostdevs, i);

        if (!hd->alias)
            hd->alias = g_strdup_printf("hostdev%u", next++);
    }
}

/* libxml2 reports every error of a parse; the first one says what broke. */
typedef struct {
    char *message;
    int line;
    gboolean doctype;       /* a <!DOCTYPE> was seen: parse stopped there */
} VhXmlFirstError;

/*
 * libxml2's message as one line: some span two ("Input is not proper
 * UTF-8, indicate encoding !\nBytes: 0x8E 0x8A ..."), and the CLI prints
 * an error as one line.  Newlines become "; ".  Free with g_free().
 */
static char *
vh_xml_message_one_line(const char *message)
{
    g_auto(GStrv) lines = g_strsplit(message, "\n", -1);
    GString *out = g_string_new(NULL);
    guint i;

    for (i = 0; lines[i]; i++) {
        g_strstrip(lines[i]);
        if (!*lines[i])
            continue;
        if (out->len)
            g_string_append(out, "; ");
        g_string_append(out, lines[i]);
    }
    return g_string_free(out, FALSE);
}

/* libvirt writes domain XML without a DTD; one here can only declare
 * entities (billion laughs, quadratic blowup, XXE).  Stop at it, before
 * anything it declares is parsed. */
static void
vh_xml_doctype(void *data, const xmlChar *name, const xmlChar *external_id,
               const xmlChar *system_id)
{
    xmlParserCtxt *ctxt = data;
    VhXmlFirstError *first = ctxt->_private;

    if (first && !first->doctype) {
        first->doctype = TRUE;
        first->line = xmlSAX2GetLineNumber(ctxt);
    }
    xmlStopParser(ctxt);
}

static void
vh_xml_first_error(void *data, xmlErrorPtr e)
{
    xmlParserCtxt *ctxt = data;
    VhXmlFirstError *first = ctxt ? ctxt->_private : NULL;

    if (!first || first->message || !e || e->level < XML_ERR_ERROR)
        return;
    first->message = vh_xml_message_one_line(e->message ? e->message : "");
    first->line = e->line;
}

static xmlDoc *
vh_domain_read_xml(const char *xml, gsize len, GError **error)
{
    g_autoptr(xmlParserCtxt) ctxt = NULL;
    g_autoptr(xmlDoc) doc = NULL;
    VhXmlFirstError first = { 0 };
    const char *bad = NULL;

    if (len > G_MAXINT) {
        vh_xml_error(error, NULL, "the document is too large (%" G_GSIZE_FORMAT
                     " bytes)", len);
        return NULL;
    }
    /* libvirt writes UTF-8; libxml2 would read bad bytes as Latin-1 and a
     * NUL ends what a C string of the values holds. */
    if (!g_utf8_validate(xml, (gssize) len, &bad)) {
        vh_xml_error(error, NULL, "%s at byte %" G_GSIZE_FORMAT ": domain "
                     "XML must be UTF-8 text",
                     *bad ? "invalid UTF-8" : "a NUL byte",
                     (gsize) (bad - xml));
        return NULL;
    }
    ctxt = xmlNewParserCtxt();
    if (!ctxt) {
        g_set_error(error, VH_QEMU_ERROR, VH_QEMU_ERROR_FAILED,
                    "cannot allocate an XML parser");
        return NULL;
    }
    /* Errors go to this parse only (no global handler), first one kept. */
    ctxt->_private = &first;
    ctxt->sax->serror = vh_xml_first_error;
    ctxt->sax->internalSubset = vh_xml_doctype;
    /* No network, no entity expansion: the XML may come from anyone. */
    doc = xmlCtxtReadMemory(ctxt, xml, (int) len, "domain.xml", NULL,
                            XML_PARSE_NONET | XML_PARSE_NOERROR |
                            XML_PARSE_NOWARNING);
    ctxt->_private = NULL;
    if (first.doctype) {
        g_free(first.message);
        g_set_error(error, VH_QEMU_ERROR, VH_QEMU_ERROR_INVALID,
                    "domain XML line %d: a <!DOCTYPE> is not accepted (it "
                    "can declare entities); give the XML as libvirt writes "
                    "it, without one", first.line);
        return NULL;
    }
    if (!doc || !ctxt->wellFormed) {
        const xmlError *e = xmlCtxtGetLastError(ctxt);

        if (!first.message) {
            first.message = vh_xml_message_one_line(e && e->message ?
                                                     e->message :
                                                     "not well-formed");
            first.line = e ? e->line : 0;
        }
        g_set_error(error, VH_QEMU_ERROR, VH_QEMU_ERROR_INVALID,
                    "domain XML line %d: not well-formed XML: %s",
                    first.line, first.message);
        g_free(first.message);
        return NULL;
    }
    g_free(first.message);
    return g_steal_pointer(&doc);
}

VhDomainDef *
vh_domain_def_parse(const char *xml, gsize len, GError **error)
{
    g_autoptr(VhDomainDef) def = vh_domain_def_new();
    g_autoptr(xmlDoc) doc = NULL;
    xmlNode *root;

    g_return_val_if_fail(xml != NULL, NULL);

    doc = vh_domain_read_xml(xml, len, error);
    if (!doc)
        return NULL;
    root = xmlDocGetRootElement(doc);
    if (root && root->ns) {
        vh_xml_error(error, root, "the root element <%s> is in namespace "
                     "'%s'; libvirt's <domain> has none",
                     (const char *) root->name,
                     root->ns->href ? (const char *) root->ns->href : "");
        return NULL;
    }
    if (!root || !vh_xml_is(root, "domain")) {
        vh_xml_error(error, root, "the root element is <%s>, not <domain>",
                     root ? (const char *) root->name : "");
        return NULL;
    }

    if (!vh_domain_parse_header(def, root, error) ||
        !vh_domain_parse_memory(def, root, error) ||
        !vh_domain_parse_devices(def, vh_xml_child(root, "devices"), error) ||
        !vh_domain_add_root_controller(def, error) ||
        !vh_domain_check_unique(def, error))
        return NULL;
    vh_domain_assign_aliases(def);
    return g_steal_pointer(&def);
}
