/*
 * vh-pci-address.c: PCI addresses and libvirt node-device names
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#define G_LOG_DOMAIN "util.pci-address"

#include <string.h>

#include "vh-error.h"
#include "vh-pci-address.h"

#define VH_PCI_ADDRESS_FORMS \
    "expected DOMAIN:BUS:SLOT.FUNCTION such as 0000:01:02.0, " \
    "BUS:SLOT.FUNCTION, or a node device name such as pci_0000_01_02_0"

typedef struct {
    const char *what;   /* "domain", "bus", ... */
    guint64 max;
    const char *range;  /* for the message */
} VhPciAddressPart;

/* PCI Local Bus 3.0, 3.2.2.3.2: 8-bit bus, 5-bit device, 3-bit function. */
static const VhPciAddressPart vh_pci_parts[] = {
    { "domain",   0xffffffff, "0-ffffffff" },
    { "bus",      0xff,       "00-ff" },
    { "slot",     0x1f,       "00-1f" },
    { "function", 0x7,        "0-7" },
};

/*
 * Read the hexadecimal part @part at *@p, which must end with @sep ('\0'
 * for the last part).  Returns NULL and advances *@p past the separator,
 * or returns a newly allocated description of the problem.
 */
static char *
vh_pci_address_parse_part(const char **p, const VhPciAddressPart *part,
                          const char *next, char sep, guint64 *ret_value)
{
    const char *start = *p;
    const char *q = start;
    guint64 value = 0;
    gsize ndigits = 0;

    while (g_ascii_isxdigit(*q)) {
        /* Count all digits but stop accumulating before overflow. */
        if (ndigits < 16)
            value = value * 16 + g_ascii_xdigit_value(*q);
        ndigits++;
        q++;
    }

    if (ndigits == 0) {
        if (*q == sep || *q == '\0')
            return g_strdup_printf("the %s is missing", part->what);
        return g_strdup_printf("unexpected character '%c' in the %s",
                               g_ascii_isprint(*q) ? *q : '?', part->what);
    }
    if (ndigits > 8 || value > part->max) {
        return g_strdup_printf("%s %.*s is out of range (%s)", part->what,
                               (int) MIN(ndigits, 16), start, part->range);
    }
    if (*q != sep) {
        if (sep == '\0')
            return g_strdup_printf("trailing characters after the %s",
                                   part->what);
        if (*q == '\0')
            return g_strdup_printf("the %s is missing", next);
        return g_strdup_printf("unexpected character '%c' after the %s",
                               g_ascii_isprint(*q) ? *q : '?', part->what);
    }
    if (*q != '\0')
        q++;
    *p = q;
    *ret_value = value;
    return NULL;
}

/* The input as it can be quoted on one line: escaped and shortened. */
static char *
vh_pci_address_quote(const char *str)
{
    g_autofree char *shown = NULL;

    if (strlen(str) > 64) {
        g_autofree char *head = g_strndup(str, 64);
        g_autofree char *esc = g_strescape(head, NULL);
        return g_strdup_printf("%s...", esc);
    }
    shown = g_strescape(str, NULL);
    return g_steal_pointer(&shown);
}

gboolean
vh_pci_address_parse(const char *str, VhPciAddress *ret_addr, GError **error)
{
    g_autofree char *problem = NULL;
    g_autofree char *quoted = NULL;
    guint64 values[G_N_ELEMENTS(vh_pci_parts)] = { 0 };
    const char *p = str;
    const char *kind = "PCI address";
    char seps[4];
    gsize first = 0;
    gsize i;

    g_return_val_if_fail(str != NULL, FALSE);

    if (g_str_has_prefix(str, "pci_")) {
        kind = "PCI device name";
        p = str + strlen("pci_");
        memcpy(seps, "___\0", 4);
    } else {
        /* Two colons: full address; one colon: BUS:SLOT.FUNCTION. */
        const char *c1 = strchr(str, ':');
        const char *c2 = c1 ? strchr(c1 + 1, ':') : NULL;

        if (!c1)
            problem = g_strdup(*str ? "not a PCI address" : "empty");
        else if (!c2)
            first = 1;
        memcpy(seps, "::.\0", 4);
    }

    for (i = first; !problem && i < G_N_ELEMENTS(vh_pci_parts); i++)
        problem = vh_pci_address_parse_part(&p, &vh_pci_parts[i],
                                            i + 1 < G_N_ELEMENTS(vh_pci_parts) ?
                                            vh_pci_parts[i + 1].what : NULL,
                                            seps[i], &values[i]);

    if (problem) {
        quoted = vh_pci_address_quote(str);
        g_set_error(error, VH_ADDRESS_ERROR, VH_ADDRESS_ERROR_INVALID,
                    "invalid %s '%s': %s; %s", kind, quoted, problem,
                    VH_PCI_ADDRESS_FORMS);
        return FALSE;
    }

    ret_addr->domain = (guint32) values[0];
    ret_addr->bus = (guint8) values[1];
    ret_addr->slot = (guint8) values[2];
    ret_addr->function = (guint8) values[3];
    return TRUE;
}

const char *
vh_pci_address_format(const VhPciAddress *addr, char buf[VH_PCI_ADDRESS_BUFLEN])
{
    g_snprintf(buf, VH_PCI_ADDRESS_BUFLEN, "%04x:%02x:%02x.%x",
               addr->domain, addr->bus, addr->slot, addr->function);
    return buf;
}

const char *
vh_pci_address_nodedev_name(const VhPciAddress *addr,
                            char buf[VH_PCI_ADDRESS_BUFLEN])
{
    g_snprintf(buf, VH_PCI_ADDRESS_BUFLEN, "pci_%04x_%02x_%02x_%x",
               addr->domain, addr->bus, addr->slot, addr->function);
    return buf;
}

char *
vh_pci_address_to_string(const VhPciAddress *addr)
{
    char buf[VH_PCI_ADDRESS_BUFLEN];

    return g_strdup(vh_pci_address_format(addr, buf));
}

gboolean
vh_pci_address_equal(const VhPciAddress *a, const VhPciAddress *b)
{
    return vh_pci_address_compare(a, b) == 0;
}

int
vh_pci_address_compare(const VhPciAddress *a, const VhPciAddress *b)
{
    if (a->domain != b->domain)
        return a->domain < b->domain ? -1 : 1;
    if (a->bus != b->bus)
        return a->bus < b->bus ? -1 : 1;
    if (a->slot != b->slot)
        return a->slot < b->slot ? -1 : 1;
    if (a->function != b->function)
        return a->function < b->function ? -1 : 1;
    return 0;
}
