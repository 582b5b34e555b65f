/*
 * test-qemu-argv.c: aliases, guest addresses and -device values
 *
 * The golden files (test-hostdevxml2argv.c) check whole outputs; these
 * check the pieces the files cannot show.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <string.h>

#include "vh-error.h"
#include "vh-qemu-argv.h"

#define DOMAIN(machine, devices) \
    "<domain type='kvm'><name>g</name><memory unit='MiB'>64</memory>" \
    "<os><type arch='x86_64' machine='" machine "'>hvm</type></os>" \
    "<devices>" devices "</devices></domain>"
#define HOSTDEV(bus, slot, fn, inner) \
    "<hostdev mode='subsystem' type='pci' managed='yes'><source>" \
    "<address domain='0' bus='" bus "' slot='" slot "' function='" fn "'/>" \
    "</source>" inner "</hostdev>"

static VhDomainDef *
parse(const char *xml)
{
    g_autoptr(GError) err = NULL;
    VhDomainDef *def = vh_domain_def_parse(xml, strlen(xml), &err);

    g_assert_no_error(err);
    return def;
}

static void
test_shell_quote(void)
{
    static const struct {
        const char *in, *out;
    } cases[] = {
        { "vfio-pci,host=0000:00:03.0,id=hostdev0", NULL },
        { "{\"driver\":\"vfio-pci\"}", "'{\"driver\":\"vfio-pci\"}'" },
        { "romfile=/a b", "'romfile=/a b'" },
        { "it's", "'it'\\''s'" },
        { "", "''" },
        { "a$(b)", "'a$(b)'" },
    };
    gsize i;

    for (i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autofree char *q = vh_qemu_shell_quote(cases[i].in);

        g_assert_cmpstr(q, ==, cases[i].out ? cases[i].out : cases[i].in);
    }
}

/* Assigning twice changes nothing; the args are the same. */
static void
test_assign_idempotent(void)
{
    g_autoptr(VhDomainDef) def = parse(DOMAIN("pc",
        HOSTDEV("1", "2", "0", "") HOSTDEV("1", "2", "1", "")));
    g_autoptr(GError) err = NULL;
    g_autoptr(GPtrArray) a1 = NULL;
    g_autoptr(GPtrArray) a2 = NULL;
    const VhDomainHostdev *hd;

    a1 = vh_qemu_device_args(def, VH_QEMU_SYNTAX_JSON, &err);
    g_assert_no_error(err);
    a2 = vh_qemu_device_args(def, VH_QEMU_SYNTAX_JSON, &err);
    g_assert_no_error(err);
    g_assert_cmpuint(a1->len, ==, 2);
    g_assert_cmpuint(a2->len, ==, 2);
    g_assert_cmpstr(g_ptr_array_index(a1, 0), ==, g_ptr_array_index(a2, 0));
    g_assert_cmpstr(g_ptr_array_index(a1, 1), ==, g_ptr_array_index(a2, 1));
    hd = g_ptr_array_index(def->hostdevs, 1);
    g_assert_true(hd->has_guest_address);
    g_assert_cmpuint(hd->guest.slot, ==, 3);
    g_assert_cmpstr(hd->alias, ==, "hostdev1");
}

/* Function 0 gets multifunction when another device uses the slot. */
static void
test_multi_from_other_device(void)
{
    g_autoptr(VhDomainDef) def = parse(DOMAIN("pc",
        "<interface type='user'><model type='virtio'/>"
        "<address type='pci' bus='0' slot='6' function='1'/></interface>"
        HOSTDEV("1", "2", "0",
                "<address type='pci' bus='0' slot='6' function='0'/>")));
    g_autoptr(GError) err = NULL;
    g_autoptr(GPtrArray) args = NULL;

    args = vh_qemu_device_args(def, VH_QEMU_SYNTAX_LEGACY, &err);
    g_assert_no_error(err);
    g_assert_cmpstr(g_ptr_array_index(args, 0), ==,
                    "vfio-pci,host=0000:01:02.0,id=hostdev0,bus=pci.0,"
                    "multifunction=on,addr=0x6");
}

/* USB is kept out of the PCI list by the parser, refused for argv. */
static void
test_other_hostdevs(void)
{
    g_autoptr(VhDomainDef) def = parse(DOMAIN("pc",
        HOSTDEV("1", "2", "0", "")
        "<hostdev mode='subsystem' type='usb'><source><vendor id='0x1'/>"
        "<product id='0x2'/></source></hostdev>"));
    g_autoptr(GError) err = NULL;
    g_autoptr(GPtrArray) args = NULL;

    g_assert_cmpuint(def->hostdevs->len, ==, 1);
    g_assert_cmpuint(def->other_hostdevs->len, ==, 1);
    args = vh_qemu_device_args(def, VH_QEMU_SYNTAX_JSON, &err);
    g_assert_null(args);
    g_assert_error(err, VH_QEMU_ERROR, VH_QEMU_ERROR_INVALID);
    g_assert_nonnull(strstr(err->message, "type='usb'> is not a PCI device"));
}

/* The root bus fills up: one clear refusal, not a bad address. */
static void
test_no_free_slot(void)
{
    g_autoptr(GString) xml = g_string_new(
        "<domain><name>g</name><memory>1</memory><devices>");
    g_autoptr(VhDomainDef) def = NULL;
    g_autoptr(GError) err = NULL;
    g_autoptr(GPtrArray) args = NULL;
    guint i;

    /* pc: slots 2..0x1f are 30 free slots; ask for 31. */
    for (i = 0; i < 31; i++)
        g_string_append_printf(xml, "<hostdev mode='subsystem' type='pci'>"
                               "<source><address bus='2' slot='%u' "
                               "function='%u'/></source></hostdev>",
                               i / 8, i % 8);
    g_string_append(xml, "</devices></domain>");
    def = parse(xml->str);
    args = vh_qemu_device_args(def, VH_QEMU_SYNTAX_JSON, &err);
    g_assert_null(args);
    g_assert_error(err, VH_QEMU_ERROR, VH_QEMU_ERROR_INVALID);
    g_assert_nonnull(strstr(err->message, "no free slot left on the root "
                            "bus for hostdev 0000:02:03.6"));
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_summary("vh_qemu_assign() and vh_qemu_device_args(): what the "
                   "golden files cannot show");
    g_test_add_func("/qemu/argv/shell-quote", test_shell_quote);
    g_test_add_func("/qemu/argv/assign-idempotent", test_assign_idempotent);
    g_test_add_func("/qemu/argv/multi-from-other-device",
                    test_multi_from_other_device);
    g_test_add_func("/qemu/argv/other-hostdevs", test_other_hostdevs);
    g_test_add_func("/qemu/argv/no-free-slot", test_no_free_slot);
    return g_test_run();
}
