/*
 * vh-cli.c: the verbs of virt-hostdev, virsh-style
 *
 * The CLI is thin: it parses options with GOption, calls the libraries and
 * decides what the user sees.  Exit status: 0 ok, 1 the operation failed,
 * 2 bad usage or bad input.  virt-hostdev.c is its main(); tests run the
 * same code over a simulated kernel through VhCliHooks.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#define G_LOG_DOMAIN "tools.virt-hostdev"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "vh-cli.h"
#include "vh-config.h"
#include "vh-assign.h"
#include "vh-doctor.h"
#include "vh-domain.h"
#include "vh-backend-selftest.h"
#include "vh-error.h"
#include "vh-holders.h"
#include "vh-host-usage.h"
#include "vh-hostdev.h"
#include "vh-iommu-group.h"
#include "vh-node-device-json.h"
#include "vh-node-device-xml.h"
#include "vh-node-device.h"
#include "vh-pci-address.h"
#include "vh-qemu-argv.h"
#include "vh-sysfs.h"
#include "vh-vfio.h"

/* Threads for the lanes of one operation (VIRT_HOSTDEV_THREADS). */
#define VH_CLI_THREADS 16

enum {
    VH_EXIT_OK = 0,
    VH_EXIT_FAILED = 1,
    VH_EXIT_USAGE = 2,
};

/* Options every verb accepts, before or after the verb name. */
typedef struct {
    char *sysfs_root;
    char *proc_root;
    char *state_dir;
} VhCliGlobals;

typedef struct {
    VhCliGlobals opts;          /* resolved: command line > env > default */
    const VhCliHooks *hooks;    /* NULL: the real kernel */
    VhSysfs *sysfs;             /* opened on first use */
    VhSysfs *proc;
    VhSysfs *dev;
    /* help --options VERB: vh_cli_parse_verb() lists the verb's options
     * instead of parsing, sets @listed and stops the verb. */
    gboolean list_options;
    gboolean listed;
} VhCli;

typedef struct _VhCliVerb VhCliVerb;
struct _VhCliVerb {
    const char *name;
    const char *params;         /* e.g. "[DEVICE]", for --help */
    const char *summary;
    gboolean (*run)(VhCli *cli, const VhCliVerb *verb, int argc, char **argv,
                    GError **error);
};

static void
vh_cli_globals_clear(VhCliGlobals *g)
{
    g_clear_pointer(&g->sysfs_root, g_free);
    g_clear_pointer(&g->proc_root, g_free);
    g_clear_pointer(&g->state_dir, g_free);
}

/* The global options, bound to @g, in @entries (4 slots, NULL-ended). */
static void
vh_cli_globals_entries(VhCliGlobals *g, GOptionEntry *entries)
{
    const GOptionEntry e[] = {
        { "sysfs-root", 0, 0, G_OPTION_ARG_FILENAME, &g->sysfs_root,
          "Read and write sysfs below DIR (default /sys, or "
          "$VIRT_HOSTDEV_SYSFS_ROOT)", "DIR" },
        { "proc-root", 0, 0, G_OPTION_ARG_FILENAME, &g->proc_root,
          "Read what the host uses (mounts, routes) below DIR (default "
          "/proc, or $VIRT_HOSTDEV_PROC_ROOT)", "DIR" },
        { "state-dir", 0, 0, G_OPTION_ARG_FILENAME, &g->state_dir,
          "Keep the ownership registry and journal in DIR (default "
          VH_DEFAULT_STATE_DIR ")", "DIR" },
        G_OPTION_ENTRY_NULL
    };

    G_STATIC_ASSERT(G_N_ELEMENTS(e) == 4);
    memcpy(entries, e, sizeof(e));
}

static GOptionGroup *
vh_cli_globals_group(VhCliGlobals *g)
{
    GOptionEntry entries[4];
    GOptionGroup *group = g_option_group_new("global", "Global options:",
                                             "Show global options", NULL, NULL);

    vh_cli_globals_entries(g, entries);
    g_option_group_add_entries(group, entries);
    return group;
}

/* The options only accepted before the verb, bound to @version. */
static void
vh_cli_main_entries(gboolean *version, GOptionEntry *entries)
{
    const GOptionEntry e[] = {
        { "version", 'V', 0, G_OPTION_ARG_NONE, version,
          "Print the version and exit", NULL },
        G_OPTION_ENTRY_NULL
    };

    G_STATIC_ASSERT(G_N_ELEMENTS(e) == 2);
    memcpy(entries, e, sizeof(e));
}

/* Later values win: @over's set fields replace @into's. */
static void
vh_cli_globals_merge(VhCliGlobals *into, VhCliGlobals *over)
{
    if (over->sysfs_root) {
        g_free(into->sysfs_root);
        into->sysfs_root = g_steal_pointer(&over->sysfs_root);
    }
    if (over->proc_root) {
        g_free(into->proc_root);
        into->proc_root = g_steal_pointer(&over->proc_root);
    }
    if (over->state_dir) {
        g_free(into->state_dir);
        into->state_dir = g_steal_pointer(&over->state_dir);
    }
}

static void
vh_cli_clear(VhCli *cli)
{
    vh_cli_globals_clear(&cli->opts);
    g_clear_pointer(&cli->sysfs, vh_sysfs_free);
    g_clear_pointer(&cli->proc, vh_sysfs_free);
    g_clear_pointer(&cli->dev, vh_sysfs_free);
}

static const VhSysfs *
vh_cli_sysfs(VhCli *cli, GError **error)
{
    if (!cli->sysfs) {
        cli->sysfs = vh_sysfs_new(cli->opts.sysfs_root, error);
        if (cli->sysfs && cli->hooks && cli->hooks->sysfs_opened)
            cli->hooks->sysfs_opened(cli->hooks->data, cli->sysfs);
    }
    return cli->sysfs;
}

/* The proc root, opened on first use. */
static const VhSysfs *
vh_cli_proc(VhCli *cli, GError **error)
{
    if (!cli->proc && !(cli->proc = vh_sysfs_new(cli->opts.proc_root, error)))
        g_prefix_error(error, "--proc-root: ");
    return cli->proc;
}

/* What the host lives on, read from the proc root (and sysfs). */
static VhHostUsage *
vh_cli_host_usage(VhCli *cli, GError **error)
{
    const VhSysfs *sysfs = vh_cli_sysfs(cli, error);

    if (!sysfs || !vh_cli_proc(cli, error))
        return NULL;
    return vh_host_usage_scan(sysfs, cli->proc, error);
}

/*
 * Who owns what, for the views (iommu-groups, nodedev-info), from the
 * registry in the state dir.  A view still works when the registry cannot
 * be read (a user without access to /run/virt-hostdev): it warns, and the
 * owners are unknown (NULL).
 */
static VhAssignOwners *
vh_cli_view_owners(VhCli *cli)
{
    g_autoptr(VhRegistry) registry = NULL;
    g_autoptr(GError) local = NULL;

    if (!(registry = vh_registry_load(cli->opts.state_dir, &local))) {
        g_autofree char *msg = vh_error_one_line(local->message);
        g_printerr("virt-hostdev: warning: owners not shown: %s\n", msg);
        return NULL;
    }
    return vh_registry_assign_owners(registry);
}

/*
 * One line per option of @entries for scripts (the man page test, the bash
 * completion): "--NAME<TAB>ARG", ARG empty for an option without a value.
 */
static void
vh_cli_print_options(const GOptionEntry *entries)
{
    gsize i;

    for (i = 0; entries && entries[i].long_name; i++) {
        const char *arg = entries[i].arg_description;

        if (entries[i].arg == G_OPTION_ARG_NONE)
            arg = "";
        else if (!arg)
            arg = entries[i].arg == G_OPTION_ARG_FILENAME ? "FILE" : "VALUE";
        g_print("--%s\t%s\n", entries[i].long_name, arg);
    }
}

/*
 * Parse a verb's own options plus the global ones, and check that between
 * @min_args and @max_args positional arguments remain (max -1: no limit).
 * On success argc and argv hold the verb name followed by the positionals.
 */
static gboolean
vh_cli_parse_verb(VhCli *cli, const VhCliVerb *verb, const GOptionEntry *entries,
                  int *argc, char ***argv, int min_args, int max_args,
                  GError **error)
{
    g_autoptr(GOptionContext) ctx = NULL;
    g_autofree char *params = NULL;
    VhCliGlobals late = { 0 };
    int npos;

    if (cli->list_options) {
        /* Not an error: vh_cli_help() sees @listed and succeeds. */
        vh_cli_print_options(entries);
        cli->listed = TRUE;
        g_set_error(error, VH_CLI_ERROR, VH_CLI_ERROR_FAILED,
                    "%s: options listed", verb->name);
        return FALSE;
    }

    params = g_strdup_printf("%s %s", verb->name, verb->params);
    ctx = g_option_context_new(params);
    g_option_context_set_summary(ctx, verb->summary);
    if (entries)
        g_option_context_add_main_entries(ctx, entries, NULL);
    g_option_context_add_group(ctx, vh_cli_globals_group(&late));
    if (!g_option_context_parse(ctx, argc, argv, error)) {
        g_prefix_error(error, "%s: ", verb->name);
        vh_cli_globals_clear(&late);
        return FALSE;
    }
    vh_cli_globals_merge(&cli->opts, &late);
    /* GOption keeps the "--" that ends options ("nodedev-info -- -1:0.0");
     * what follows it is positional, the "--" itself is not. */
    if (*argc >= 2 && g_str_equal((*argv)[1], "--")) {
        memmove(&(*argv)[1], &(*argv)[2], (gsize) (*argc - 2) * sizeof(char *));
        (*argc)--;
        (*argv)[*argc] = NULL;
    }

    npos = *argc - 1;
    if (npos < min_args || (max_args >= 0 && npos > max_args)) {
        g_set_error(error, VH_CLI_ERROR, VH_CLI_ERROR_INVALID,
                    "%s: expected %s, got %d argument%s; see "
                    "`virt-hostdev %s --help`", verb->name,
                    *verb->params ? verb->params : "no arguments", npos,
                    npos == 1 ? "" : "s", verb->name);
        return FALSE;
    }
    return TRUE;
}

/* ---- verbs ------------------------------------------------------------- */

static VhNodeDeviceList *vh_cli_scan(VhCli *cli, VhNodeDeviceScanFlags flags,
                                     GError **error);

static const char *
vh_cli_or(const char *s, const char *fallback)
{
    return s ? s : fallback;
}

/* A driver link's name, which a broken sysfs tree can make any bytes but
 * NUL and '/', as one line shows it (control characters escaped), or
 * @fallback for none.  Free with g_free(). */
static char *
vh_cli_driver_shown(const char *driver, const char *fallback)
{
    return driver ? vh_error_one_line(driver) : g_strdup(fallback);
}

/* "not viable: 0000:01:02.0 (e1000), ... on a host driver" or "viable" */
/* A verb's --json output: prints @out (taken over) and returns TRUE, or
 * FALSE when it is NULL (its formatter set the error). */
static gboolean
vh_cli_print_json(char *out)
{
    g_autofree char *text = out;

    if (!text)
        return FALSE;
    g_print("%s", text);
    return TRUE;
}

static char *
vh_cli_group_status(const VhNodeDeviceList *list, guint number)
{
    g_autoptr(GPtrArray) blockers = vh_iommu_group_blockers(list, number);
    g_autofree char *names = NULL;

    if (blockers->len == 0)
        return g_strdup("viable");
    names = vh_iommu_group_blockers_describe(blockers);
    return g_strconcat("not viable, blocked by ", names, NULL);
}

/* "group 4: viable, owned by manual" and a line per member. */
static void
vh_cli_print_group(const VhNodeDeviceList *list, guint number,
                   const VhHostUsage *usage, const VhSysfs *sysfs,
                   const VhAssignOwners *owners)
{
    GPtrArray *members = vh_iommu_group_members(list, number);
    g_autofree char *status = vh_cli_group_status(list, number);
    const char *owner = owners ? vh_assign_owners_group_owner(owners, number)
                               : NULL;
    guint i;

    g_print("group %u: %s%s%s\n", number, status,
            owner ? ", owned by " : "", vh_cli_or(owner, ""));
    for (i = 0; i < members->len; i++) {
        const VhNodeDevice *dev = g_ptr_array_index(members, i);
        g_autoptr(VhAssignVerdict) verdict = vh_assign_check(list, dev, usage,
                                                             sysfs, owners);
        g_autofree char *driver = vh_cli_driver_shown(dev->driver,
                                                      "(no driver)");
        char buf[VH_PCI_ADDRESS_BUFLEN];

        g_print("  %s  %-13s  %-8s  %04x:%04x  %-12s  %s%s%s%s\n",
                vh_pci_address_format(&dev->addr, buf),
                vh_assign_verdict_code(verdict),
                vh_node_device_is_bridge(dev) ? "bridge" : "endpoint",
                dev->vendor, dev->device, driver,
                vh_cli_or(dev->vendor_name, ""),
                dev->vendor_name && dev->product_name ? " " : "",
                vh_cli_or(dev->product_name, ""),
                vh_iommu_group_member_blocks(dev) ? "  <- blocks" : "");
    }
}

/* Refuse what has no group before printing anything. */
static gboolean
vh_cli_require_groups(const VhNodeDeviceList *list, const VhNodeDevice *dev,
                      GError **error)
{
    char buf[VH_PCI_ADDRESS_BUFLEN];

    if (g_hash_table_size(list->groups) == 0) {
        g_set_error(error, VH_SYSFS_ERROR, VH_SYSFS_ERROR_FAILED,
                    "no IOMMU groups under %s/kernel/iommu_groups: the IOMMU "
                    "is off or absent; enable VT-d/AMD-Vi in the firmware and "
                    "boot with intel_iommu=on or amd_iommu=on", list->root);
        return FALSE;
    }
    if (dev && !dev->has_group) {
        g_set_error(error, VH_SYSFS_ERROR, VH_SYSFS_ERROR_FAILED,
                    "%s is in no IOMMU group while others are: the IOMMU does "
                    "not cover it, so it cannot be assigned",
                    vh_pci_address_format(&dev->addr, buf));
        return FALSE;
    }
    return TRUE;
}

static gboolean
vh_cli_iommu_groups(VhCli *cli, const VhCliVerb *verb, int argc, char **argv,
                    GError **error)
{
    g_autoptr(VhNodeDeviceList) list = NULL;
    g_autoptr(VhHostUsage) usage = NULL;
    g_autoptr(VhAssignOwners) owners = NULL;
    g_autoptr(GArray) numbers = NULL;
    gboolean json = FALSE;
    const GOptionEntry entries[] = {
        { "json", 0, 0, G_OPTION_ARG_NONE, &json,
          "Print a JSON array of groups with number, viable, owner, members "
          "and blockers", NULL },
        G_OPTION_ENTRY_NULL
    };
    const VhNodeDevice *dev = NULL;
    VhPciAddress addr;
    guint i;

    if (!vh_cli_parse_verb(cli, verb, entries, &argc, &argv, 0, 1, error))
        return FALSE;
    /* Validate user input before touching the system. */
    if (argc == 2 && !vh_pci_address_parse(argv[1], &addr, error))
        return FALSE;
    if (!(list = vh_cli_scan(cli, VH_NODE_DEVICE_SCAN_NAMES, error)))
        return FALSE;
    if (argc == 2 && !(dev = vh_node_device_list_find(list, &addr, error)))
        return FALSE;
    if (!vh_cli_require_groups(list, dev, error))
        return FALSE;
    owners = vh_cli_view_owners(cli);

    if (json)
        return vh_cli_print_json(
            vh_iommu_groups_format_json(list, dev != NULL,
                                        dev ? dev->group : 0, owners, error));
    if (!(usage = vh_cli_host_usage(cli, error)))
        return FALSE;
    numbers = vh_node_device_list_group_numbers(list);
    for (i = 0; i < numbers->len; i++) {
        guint number = g_array_index(numbers, guint, i);
        if (!dev || number == dev->group)
            vh_cli_print_group(list, number, usage, cli->sysfs, owners);
    }
    return TRUE;
}

/* Scan every PCI device once, reading what the output needs. */
static VhNodeDeviceList *
vh_cli_scan(VhCli *cli, VhNodeDeviceScanFlags flags, GError **error)
{
    const VhSysfs *sysfs = vh_cli_sysfs(cli, error);
    VhNodeDeviceList *kept;

    if (!sysfs)
        return NULL;
    if (cli->hooks && cli->hooks->inventory &&
        (kept = cli->hooks->inventory(cli->hooks->data, sysfs, flags)))
        return kept;
    return vh_node_device_list_scan(sysfs, flags, error);
}

static void
vh_cli_print_tree(const VhNodeDeviceList *list, const VhNodeDevice *parent,
                  const char *indent)
{
    guint i;

    for (i = 0; i < list->devices->len; i++) {
        const VhNodeDevice *dev = g_ptr_array_index(list->devices, i);
        g_autofree char *deeper = NULL;

        if (parent ? !(dev->has_parent_addr &&
                       vh_pci_address_equal(&dev->parent_addr, &parent->addr))
                   : dev->has_parent_addr)
            continue;
        g_print("%s+- %s\n", indent, dev->name);
        deeper = g_strconcat(indent, "|  ", NULL);
        vh_cli_print_tree(list, dev, deeper);
    }
}

static gboolean
vh_cli_nodedev_list(VhCli *cli, const VhCliVerb *verb, int argc, char **argv,
                    GError **error)
{
    g_autoptr(VhNodeDeviceList) list = NULL;
    g_autofree char *cap = NULL;
    gboolean tree = FALSE;
    gboolean json = FALSE;
    const GOptionEntry entries[] = {
        { "cap", 0, 0, G_OPTION_ARG_STRING, &cap,
          "Only devices with this capability (only 'pci' is known)", "TYPE" },
        { "tree", 0, 0, G_OPTION_ARG_NONE, &tree,
          "Show devices as a tree by parent, as virsh nodedev-list --tree", NULL },
        { "json", 0, 0, G_OPTION_ARG_NONE, &json, "Print a JSON array", NULL },
        G_OPTION_ENTRY_NULL
    };
    guint i;

    if (!vh_cli_parse_verb(cli, verb, entries, &argc, &argv, 0, 0, error))
        return FALSE;
    if (cap && !g_str_equal(cap, "pci")) {
        g_autofree char *esc = g_strescape(cap, NULL);
        g_set_error(error, VH_CLI_ERROR, VH_CLI_ERROR_INVALID,
                    "nodedev-list: unknown capability '%s'; virt-hostdev "
                    "knows only PCI devices (--cap pci)", esc);
        return FALSE;
    }
    if (tree && json) {
        g_set_error(error, VH_CLI_ERROR, VH_CLI_ERROR_INVALID,
                    "nodedev-list: --tree and --json do not go together");
        return FALSE;
    }
    if (!(list = vh_cli_scan(cli, VH_NODE_DEVICE_SCAN_TOPOLOGY_ONLY, error)))
        return FALSE;
    if (tree) {
        g_print("computer\n");
        vh_cli_print_tree(list, NULL, "  ");
        return TRUE;
    }
    if (json) {
        g_print("[");
        for (i = 0; i < list->devices->len; i++) {
            const VhNodeDevice *dev = g_ptr_array_index(list->devices, i);
            g_print("%s\"%s\"", i ? "," : "", dev->name);
        }
        g_print("]\n");
        return TRUE;
    }
    for (i = 0; i < list->devices->len; i++) {
        const VhNodeDevice *dev = g_ptr_array_index(list->devices, i);
        g_print("%s\n", dev->name);
    }
    return TRUE;
}

static gboolean
vh_cli_nodedev_dumpxml(VhCli *cli, const VhCliVerb *verb, int argc,
                       char **argv, GError **error)
{
    g_autoptr(VhNodeDeviceList) list = NULL;
    g_autofree char *xml = NULL;
    gboolean all = FALSE;
    const GOptionEntry entries[] = {
        { "all", 0, 0, G_OPTION_ARG_NONE, &all,
          "Every PCI device in one <devices> document", NULL },
        G_OPTION_ENTRY_NULL
    };
    const VhNodeDevice *dev = NULL;
    VhPciAddress addr;

    if (!vh_cli_parse_verb(cli, verb, entries, &argc, &argv, 0, 1, error))
        return FALSE;
    if (all == (argc == 2)) {
        g_set_error(error, VH_CLI_ERROR, VH_CLI_ERROR_INVALID,
                    "nodedev-dumpxml: give either a DEVICE or --all");
        return FALSE;
    }
    if (!all && !vh_pci_address_parse(argv[1], &addr, error))
        return FALSE;
    if (!(list = vh_cli_scan(cli, VH_NODE_DEVICE_SCAN_NAMES |
                             VH_NODE_DEVICE_SCAN_XML, error)))
        return FALSE;
    if (!all && !(dev = vh_node_device_list_find(list, &addr, error)))
        return FALSE;
    xml = dev ? vh_node_device_format_xml(list, dev, error)
              : vh_node_device_list_format_xml(list, error);
    if (!xml)
        return FALSE;
    g_print("%s", xml);
    return TRUE;
}

/* @owners_known: the registry was read (else the owner is unknown). */
static void
vh_cli_print_info(const VhNodeDeviceList *list, const VhNodeDevice *dev,
                  const VhAssignVerdict *verdict, gboolean owners_known)
{
    GPtrArray *members = vh_node_device_list_group(list, dev);
    g_autofree char *group = NULL;
    g_autofree char *reset = NULL;
    g_autofree char *owner = NULL;
    g_autofree char *driver = vh_cli_driver_shown(dev->driver, "(none)");
    char buf[VH_PCI_ADDRESS_BUFLEN];
    guint i;

    if (members) {
        g_autofree char *status = vh_cli_group_status(list, dev->group);
        GString *s = g_string_new(NULL);

        for (i = 0; i < members->len; i++) {
            const VhNodeDevice *m = g_ptr_array_index(members, i);
            g_string_append_printf(s, "%s%s", i ? " " : "",
                                   vh_pci_address_format(&m->addr, buf));
        }
        group = g_strdup_printf("%u (%s): %s", dev->group, s->str, status);
        g_string_free(s, TRUE);
    }
    if (verdict->reset_methods)
        reset = *verdict->reset_methods ? g_strjoinv(" ", verdict->reset_methods)
                                        : g_strdup("none");
    if (verdict->owner && verdict->role)
        owner = g_strdup_printf("%s (%s)", verdict->owner, verdict->role);
    else if (verdict->owner)
        owner = g_strdup_printf("%s (owns IOMMU group %u)", verdict->owner,
                                dev->group);
    else
        owner = g_strdup(owners_known ? "(none)" : "(unknown)");
    g_print("Name:         %s\n", dev->name);
    g_print("Address:      %s\n", vh_pci_address_format(&dev->addr, buf));
    g_print("Vendor:       0x%04x %s\n", dev->vendor, vh_cli_or(dev->vendor_name, ""));
    g_print("Product:      0x%04x %s\n", dev->device, vh_cli_or(dev->product_name, ""));
    if (dev->klass >= 0)
        g_print("Class:        0x%06x\n", (guint) dev->klass);
    g_print("Type:         %s\n", vh_node_device_is_bridge(dev) ? "bridge" : "endpoint");
    g_print("Driver:       %s\n", driver);
    g_print("Owner:        %s\n", owner);
    g_print("Parent:       %s\n", dev->parent);
    g_print("IOMMU group:  %s\n", vh_cli_or(group, "(none)"));
    if (dev->numa_node >= 0)
        g_print("NUMA node:    %d\n", dev->numa_node);
    g_print("Reset:        %s\n", vh_cli_or(reset, "(kernel does not name methods)"));
    g_print("Verdict:      %s (%s)\n", vh_assign_verdict_code(verdict),
            verdict->assignable ? "assignable" : "not assignable");
    for (i = 0; i < verdict->reasons->len; i++) {
        const VhAssignReason *r = g_ptr_array_index(verdict->reasons, i);
        g_print("  %s: %s\n", vh_assign_code_string(r->code), r->message);
    }
}

static gboolean
vh_cli_nodedev_info(VhCli *cli, const VhCliVerb *verb, int argc, char **argv,
                    GError **error)
{
    g_autoptr(VhNodeDeviceList) list = NULL;
    g_autoptr(VhHostUsage) usage = NULL;
    g_autoptr(VhAssignOwners) owners = NULL;
    g_autoptr(VhAssignVerdict) verdict = NULL;
    gboolean json = FALSE;
    const GOptionEntry entries[] = {
        { "json", 0, 0, G_OPTION_ARG_NONE, &json,
          "Print a JSON object with the device, its group, its owner and the "
          "verdict", NULL },
        G_OPTION_ENTRY_NULL
    };
    const VhNodeDevice *dev;
    VhPciAddress addr;

    if (!vh_cli_parse_verb(cli, verb, entries, &argc, &argv, 1, 1, error))
        return FALSE;
    if (!vh_pci_address_parse(argv[1], &addr, error))
        return FALSE;
    if (!(list = vh_cli_scan(cli, VH_NODE_DEVICE_SCAN_NAMES, error)))
        return FALSE;
    if (!(dev = vh_node_device_list_find(list, &addr, error)))
        return FALSE;
    if (!(usage = vh_cli_host_usage(cli, error)))
        return FALSE;
    owners = vh_cli_view_owners(cli);
    verdict = vh_assign_check(list, dev, usage, cli->sysfs, owners);
    if (json)
        return vh_cli_print_json(
            vh_node_device_info_format_json(dev, verdict, error));
    vh_cli_print_info(list, dev, verdict, owners != NULL);
    return TRUE;
}

/* ---- hostdev manager verbs ---------------------------------------------- */

/* Loading modules changes the running kernel: only for the real /sys. */
static gboolean
vh_cli_no_modprobe(gpointer data, const char *module, GError **error)
{
    g_set_error(error, VH_HOSTDEV_ERROR, VH_HOSTDEV_ERROR_FAILED,
                "driver %s is not loaded below --sysfs-root %s, and modules "
                "are loaded only for /sys", module, (const char *) data);
    return FALSE;
}

static gboolean
vh_cli_hostdev(VhCli *cli, VhHostdev *ret_h, GError **error)
{
    const char *dev_root = cli->hooks && cli->hooks->dev_root ?
                           cli->hooks->dev_root : "/dev";
    const char *timeout = g_getenv("VIRT_HOSTDEV_TIMEOUT_MS");
    const char *threads = g_getenv("VIRT_HOSTDEV_THREADS");
    VhHostdev h = { 0 };

    if (!(h.sysfs = vh_cli_sysfs(cli, error)) || !vh_cli_proc(cli, error))
        return FALSE;
    if (!cli->dev && !(cli->dev = vh_sysfs_new(dev_root, error)))
        return FALSE;
    h.proc = cli->proc;
    h.dev = cli->dev;
    h.state_dir = cli->opts.state_dir;
    if (cli->hooks && cli->hooks->load_module) {
        h.load_module = cli->hooks->load_module;
        h.load_module_data = cli->hooks->data;
    } else if (g_str_equal(cli->opts.sysfs_root, "/sys")) {
        h.load_module = vh_hostdev_modprobe;
    } else {
        h.load_module = vh_cli_no_modprobe;
        h.load_module_data = cli->opts.sysfs_root;
    }
    h.fault = g_getenv("VIRT_HOSTDEV_FAULT");
    /* Lanes (devices, IOMMU groups) side by side; a test's simulated
     * kernel takes writes one at a time anyway. */
    h.threads = threads ? (guint) g_ascii_strtoull(threads, NULL, 10)
                        : VH_CLI_THREADS;
    h.timeout_ms = timeout ? (guint) g_ascii_strtoull(timeout, NULL, 10) : 0;
    *ret_h = h;
    return TRUE;
}

static void
vh_cli_print_plan(const VhPlan *plan, const char *indent)
{
    g_autofree char *text = vh_plan_format(plan);
    g_auto(GStrv) lines = g_strsplit(text, "\n", -1);
    guint i;

    for (i = 0; lines[i]; i++) {
        if (*lines[i])
            g_print("%s%s\n", indent, lines[i]);
    }
}

/* vfio / vfio-pci / stub / pci-stub, or @def when not given. */
static gboolean
vh_cli_driver_name(const char *given, const char *def, const char *option,
                   const char **ret_driver, GError **error)
{
    if (!given) {
        *ret_driver = def;
    } else if (g_str_equal(given, "vfio") || g_str_equal(given, "vfio-pci")) {
        *ret_driver = "vfio-pci";
    } else if (g_str_equal(given, "stub") || g_str_equal(given, "pci-stub")) {
        *ret_driver = "pci-stub";
    } else {
        g_autofree char *esc = g_strescape(given, NULL);
        g_set_error(error, VH_CLI_ERROR, VH_CLI_ERROR_INVALID,
                    "nodedev-detach: unknown %s '%s': use vfio or stub",
                    option, esc);
        return FALSE;
    }
    return TRUE;
}

/* The devices named on the command line (argv[1..argc-1]), in order, each
 * once, and their virsh names joined for messages. */
static gboolean
vh_cli_parse_devices(int argc, char **argv, GArray **ret_addrs,
                     char **ret_names, GError **error)
{
    g_autoptr(GArray) addrs = g_array_new(FALSE, FALSE, sizeof(VhPciAddress));
    g_autoptr(GString) names = g_string_new(NULL);
    int i;
    guint j;

    for (i = 1; i < argc; i++) {
        VhPciAddress addr;
        gboolean seen = FALSE;
        char buf[VH_PCI_ADDRESS_BUFLEN];

        if (!vh_pci_address_parse(argv[i], &addr, error))
            return FALSE;
        for (j = 0; j < addrs->len; j++)
            seen = seen || vh_pci_address_equal(&g_array_index(addrs, VhPciAddress, j),
                                                &addr);
        if (seen)
            continue;
        g_array_append_val(addrs, addr);
        g_string_append_printf(names, "%s%s", names->len ? ", " : "",
                               vh_pci_address_nodedev_name(&addr, buf));
    }
    *ret_addrs = g_steal_pointer(&addrs);
    *ret_names = g_string_free(g_steal_pointer(&names), FALSE);
    return TRUE;
}

static gboolean
vh_cli_nodedev_detach(VhCli *cli, const VhCliVerb *verb, int argc,
                      char **argv, GError **error)
{
    g_autofree char *driver = NULL;
    g_autofree char *hold_driver = NULL;
    g_autofree char *owner = NULL;
    g_autoptr(VhPlan) plan = NULL;
    gboolean no_hold = FALSE;
    gboolean dry_run = FALSE;
    gboolean force = FALSE;
    const GOptionEntry entries[] = {
        { "driver", 0, 0, G_OPTION_ARG_STRING, &driver,
          "vfio (vfio-pci, the default) or stub (pci-stub)", "vfio|stub" },
        { "owner", 0, 0, G_OPTION_ARG_STRING, &owner,
          "Who the group belongs to: a domain name or UUID (default manual)",
          "NAME" },
        { "hold-driver", 0, 0, G_OPTION_ARG_STRING, &hold_driver,
          "Hold the group's other endpoints on stub (pci-stub, the default) "
          "or vfio (vfio-pci)", "stub|vfio" },
        { "no-hold", 0, 0, G_OPTION_ARG_NONE, &no_hold,
          "Do not hold the group's other endpoints (the group stays not "
          "viable)", NULL },
        { "dry-run", 0, 0, G_OPTION_ARG_NONE, &dry_run,
          "Print the plan and change nothing", NULL },
        { "force", 0, 0, G_OPTION_ARG_NONE, &force,
          "Take devices the host uses (mounts, routes, console)", NULL },
        G_OPTION_ENTRY_NULL
    };
    VhDetachOptions opts = { 0 };
    VhHostdev h;
    g_autoptr(GArray) addrs = NULL;
    g_autofree char *names = NULL;
    guint i;
    char buf[VH_PCI_ADDRESS_BUFLEN];

    if (!vh_cli_parse_verb(cli, verb, entries, &argc, &argv, 1, -1, error))
        return FALSE;
    if (!vh_cli_parse_devices(argc, argv, &addrs, &names, error))
        return FALSE;
    if (!vh_cli_driver_name(driver, "vfio-pci", "--driver", &opts.driver,
                            error))
        return FALSE;
    if (!vh_cli_driver_name(hold_driver, "pci-stub", "--hold-driver",
                            &opts.hold_driver, error))
        return FALSE;
    opts.owner = owner;
    opts.hold = !no_hold;
    opts.dry_run = dry_run;
    opts.force = force;
    if (!vh_cli_hostdev(cli, &h, error) ||
        !vh_hostdev_detach_many(&h, (VhPciAddress *) addrs->data, addrs->len,
                                &opts, &plan, error))
        return FALSE;
    if (dry_run) {
        g_print("Plan to detach %s (nothing changed):\n", names);
    } else {
        for (i = 0; i < addrs->len; i++)
            g_print("Device %s detached\n", vh_pci_address_nodedev_name(
                        &g_array_index(addrs, VhPciAddress, i), buf));
    }
    vh_cli_print_plan(plan, "  ");
    return TRUE;
}

/* "Device NAME re-attached" for each named device that moved, then the
 * plan. */
static void
vh_cli_print_reattached(const VhPlan *plan, const GArray *addrs,
                        const char *names, gboolean dry_run)
{
    char buf[VH_PCI_ADDRESS_BUFLEN];
    guint i;
    guint j;

    if (dry_run)
        g_print("Plan to re-attach %s (nothing changed):\n", names);
    for (i = 0; !dry_run && i < addrs->len; i++) {
        const VhPciAddress *addr = &g_array_index(addrs, VhPciAddress, i);

        for (j = 0; j < plan->moves->len; j++) {
            const VhPlanMove *m = g_ptr_array_index(plan->moves, j);
            if (vh_pci_address_equal(&m->addr, addr)) {
                g_print("Device %s re-attached\n",
                        vh_pci_address_nodedev_name(addr, buf));
                break;
            }
        }
    }
    vh_cli_print_plan(plan, plan->moves->len > 0 || dry_run ? "  " : "");
}

static gboolean
vh_cli_nodedev_reattach(VhCli *cli, const VhCliVerb *verb, int argc,
                        char **argv, GError **error)
{
    g_autoptr(VhPlan) plan = NULL;
    gboolean dry_run = FALSE;
    gboolean force = FALSE;
    const GOptionEntry entries[] = {
        { "dry-run", 0, 0, G_OPTION_ARG_NONE, &dry_run,
          "Print the plan and change nothing", NULL },
        { "force", 0, 0, G_OPTION_ARG_NONE, &force,
          "Give a device virt-hostdev did not detach (on vfio-pci, pci-stub "
          "or none) to the host driver that claims it", NULL },
        G_OPTION_ENTRY_NULL
    };
    VhHostdev h;
    g_autoptr(GArray) addrs = NULL;
    g_autofree char *names = NULL;
    char buf[VH_PCI_ADDRESS_BUFLEN];
    guint i;

    if (!vh_cli_parse_verb(cli, verb, entries, &argc, &argv, 1, -1, error))
        return FALSE;
    if (!vh_cli_parse_devices(argc, argv, &addrs, &names, error))
        return FALSE;
    if (!vh_cli_hostdev(cli, &h, error))
        return FALSE;
    if (!force) {
        if (!vh_hostdev_reattach_many(&h, (VhPciAddress *) addrs->data,
                                      addrs->len, dry_run, &plan, error))
            return FALSE;
        vh_cli_print_reattached(plan, addrs, names, dry_run);
        return TRUE;
    }
    /* --force: one operation per device, each checked on its own. */
    for (i = 0; i < addrs->len; i++) {
        g_autoptr(VhPlan) one = NULL;
        g_autoptr(GArray) single = g_array_new(FALSE, FALSE, sizeof(VhPciAddress));
        VhPciAddress *addr = &g_array_index(addrs, VhPciAddress, i);

        if (!vh_hostdev_reattach_force(&h, addr, dry_run, &one, error))
            return FALSE;
        g_array_append_val(single, *addr);
        vh_cli_print_reattached(one, single,
                                vh_pci_address_nodedev_name(addr, buf), dry_run);
    }
    return TRUE;
}

static gboolean
vh_cli_nodedev_reset(VhCli *cli, const VhCliVerb *verb, int argc,
                     char **argv, GError **error)
{
    g_autoptr(VhResetResult) result = NULL;
    g_autofree char *methods = NULL;
    VhHostdev h;
    VhPciAddress addr;
    char buf[VH_PCI_ADDRESS_BUFLEN];
    guint i;

    if (!vh_cli_parse_verb(cli, verb, NULL, &argc, &argv, 1, 1, error))
        return FALSE;
    if (!vh_pci_address_parse(argv[1], &addr, error))
        return FALSE;
    if (!vh_cli_hostdev(cli, &h, error) ||
        !vh_hostdev_reset(&h, &addr, &result, error))
        return FALSE;
    g_print("Device %s reset\n", vh_pci_address_nodedev_name(&addr, buf));
    methods = result->methods ? g_strjoinv(" ", result->methods) : NULL;
    g_print("  methods tried in order: %s\n",
            vh_cli_or(methods, "not named by this kernel (no reset_method)"));
    if (result->bus_reset)
        g_print("  by a secondary bus reset of %s\n",
                vh_pci_address_format(&result->bridge, buf));
    for (i = 0; i < result->also_reset->len; i++)
        g_print("  also reset: %s\n",
                (const char *) g_ptr_array_index(result->also_reset, i));
    return TRUE;
}

static gboolean
vh_cli_recover(VhCli *cli, const VhCliVerb *verb, int argc, char **argv,
               GError **error)
{
    g_autoptr(VhPlan) plan = NULL;
    VhHostdev h;

    if (!vh_cli_parse_verb(cli, verb, NULL, &argc, &argv, 0, 0, error))
        return FALSE;
    if (!vh_cli_hostdev(cli, &h, error) ||
        !vh_hostdev_recover(&h, &plan, error))
        return FALSE;
    vh_cli_print_plan(plan, "");
    return TRUE;
}

/* What who-holds found out about one device. */
typedef struct {
    const VhNodeDevice *dev;
    const VhRegistryEntry *entry;   /* NULL: not recorded */
    const char *group_owner;        /* of the device's group; NULL: none */
    GPtrArray *holders;             /* VhHolder *; NULL: in no group */
    guint unreadable;               /* processes whose fds were not read */
} VhCliHolding;

static char *
vh_cli_who_holds_json(const VhCliHolding *w, GError **error)
{
    yajl_gen g = vh_json_gen_new();
    char buf[VH_PCI_ADDRESS_BUFLEN];
    guint i;

    yajl_gen_map_open(g);
    vh_json_key_string(g, "address", vh_pci_address_format(&w->dev->addr, buf));
    vh_json_key_string(g, "owner", w->entry ? w->entry->owner : w->group_owner);
    vh_json_key_string(g, "role",
                       w->entry ? vh_hostdev_role_string(w->entry->role) : NULL);
    vh_json_key_string(g, "driver", w->dev->driver);
    vh_json_key_string(g, "original_driver",
                       w->entry ? w->entry->original_driver : NULL);
    vh_json_string(g, "group");
    if (w->dev->has_group)
        yajl_gen_integer(g, w->dev->group);
    else
        yajl_gen_null(g);
    vh_json_string(g, "holders");
    yajl_gen_array_open(g);
    for (i = 0; w->holders && i < w->holders->len; i++) {
        const VhHolder *holder = g_ptr_array_index(w->holders, i);

        yajl_gen_map_open(g);
        vh_json_key_int(g, "pid", holder->pid);
        vh_json_key_string(g, "comm", holder->comm);
        yajl_gen_map_close(g);
    }
    yajl_gen_array_close(g);
    vh_json_key_int(g, "unreadable_processes", w->unreadable);
    yajl_gen_map_close(g);
    return vh_json_gen_finish(g, error);
}

/*
 * "0000:01:01.0: assigned to manual (vfio-pci, was e1000), IOMMU group 4"
 * or "0000:01:01.0 (e1000): not held by virt-hostdev", then who has the
 * group's node open.
 */
static void
vh_cli_who_holds_print(const VhCliHolding *w)
{
    const VhNodeDevice *dev = w->dev;
    g_autofree char *driver = vh_cli_driver_shown(dev->driver, "no driver");
    g_autoptr(GString) s = g_string_new(NULL);
    char buf[VH_PCI_ADDRESS_BUFLEN];
    guint i;

    vh_pci_address_format(&dev->addr, buf);
    if (w->entry) {
        const VhRegistryEntry *e = w->entry;

        g_string_printf(s, "%s: %s %s %s (%s", buf,
                        vh_hostdev_role_string(e->role),
                        e->role == VH_ROLE_ASSIGNED ? "to" : "for", e->owner,
                        driver);
        if (g_strcmp0(dev->driver, e->driver) != 0)
            g_string_append_printf(s, ", recorded on %s", e->driver);
        if (e->original_driver)
            g_string_append_printf(s, ", was %s)", e->original_driver);
        else
            g_string_append(s, ", had no driver)");
    } else {
        g_string_printf(s, "%s (%s): not held by virt-hostdev", buf, driver);
    }

    if (!dev->has_group) {
        g_print("%s; in no IOMMU group\n", s->str);
        return;
    }
    if (!w->entry && w->group_owner) {
        g_string_append_printf(s, "; IOMMU group %u belongs to %s",
                               dev->group, w->group_owner);
    } else if (!w->entry && w->holders->len == 0 && w->unreadable == 0) {
        /* Nothing more to say: one line. */
        g_print("%s; /dev/vfio/%u not open\n", s->str, dev->group);
        return;
    } else {
        g_string_append_printf(s, "%sIOMMU group %u", w->entry ? ", " : "; ",
                               dev->group);
    }
    g_print("%s\n", s->str);
    for (i = 0; i < w->holders->len; i++) {
        const VhHolder *holder = g_ptr_array_index(w->holders, i);

        g_print("  /dev/vfio/%u open by pid %u (%s)\n", dev->group,
                holder->pid, vh_cli_or(holder->comm, "name unreadable"));
    }
    if (w->holders->len == 0)
        g_print("  /dev/vfio/%u not open%s\n", dev->group,
                w->unreadable ? " by any process that could be inspected" : "");
    if (w->unreadable)
        g_print("  %u process%s could not be inspected; run as root to see "
                "every holder\n", w->unreadable, w->unreadable == 1 ? "" : "es");
}

static gboolean
vh_cli_who_holds(VhCli *cli, const VhCliVerb *verb, int argc, char **argv,
                 GError **error)
{
    g_autoptr(VhNodeDeviceList) list = NULL;
    g_autoptr(VhRegistry) registry = NULL;
    g_autoptr(GPtrArray) holders = NULL;
    gboolean json = FALSE;
    const GOptionEntry entries[] = {
        { "json", 0, 0, G_OPTION_ARG_NONE, &json,
          "Print a JSON object with address, owner, role, driver, "
          "original_driver, group and holders", NULL },
        G_OPTION_ENTRY_NULL
    };
    VhCliHolding w = { 0 };
    const VhSysfs *proc;
    VhPciAddress addr;

    if (!vh_cli_parse_verb(cli, verb, entries, &argc, &argv, 1, 1, error))
        return FALSE;
    if (!vh_pci_address_parse(argv[1], &addr, error))
        return FALSE;
    if (!(list = vh_cli_scan(cli, 0, error)))
        return FALSE;
    if (!(w.dev = vh_node_device_list_find(list, &addr, error)))
        return FALSE;
    /* Read-only: the registry is replaced atomically, no lock needed. */
    if (!(registry = vh_registry_load(cli->opts.state_dir, error)))
        return FALSE;
    w.entry = vh_registry_lookup(registry, &addr);
    if (w.dev->has_group) {
        if (!(proc = vh_cli_proc(cli, error)) ||
            !vh_holders_scan(proc, w.dev->group, &holders, &w.unreadable,
                             error))
            return FALSE;
        w.holders = holders;
        w.group_owner = vh_registry_group_owner(registry, w.dev->group);
    }
    if (json)
        return vh_cli_print_json(vh_cli_who_holds_json(&w, error));
    vh_cli_who_holds_print(&w);
    return TRUE;
}

/* ---- a domain's devices: prepare, release, libvirt's hook -------------- */

/* Domain XML larger than this is refused (libvirt's own limit is 10 MiB). */
#define VH_CLI_DOMAIN_XML_MAX (16 * 1024 * 1024)

/* All of standard input (the domain XML libvirt writes to its hooks). */
static gboolean
vh_cli_read_stdin(const char *verb, char **ret_text, gsize *ret_len,
                  GError **error)
{
    g_autoptr(GString) s = g_string_new(NULL);
    char buf[65536];

    for (;;) {
        ssize_t n = read(STDIN_FILENO, buf, sizeof(buf));

        if (n < 0) {
            int saved_errno = errno;
            if (saved_errno == EINTR)
                continue;
            g_set_error(error, VH_CLI_ERROR, VH_CLI_ERROR_FAILED,
                        "%s: cannot read the domain XML from standard "
                        "input: %s", verb, g_strerror(saved_errno));
            return FALSE;
        }
        if (n == 0)
            break;
        if (s->len + (gsize) n > VH_CLI_DOMAIN_XML_MAX) {
            g_set_error(error, VH_CLI_ERROR, VH_CLI_ERROR_INVALID,
                        "%s: the domain XML on standard input is larger "
                        "than %d bytes", verb, VH_CLI_DOMAIN_XML_MAX);
            return FALSE;
        }
        g_string_append_len(s, buf, n);
    }
    *ret_len = s->len;
    *ret_text = g_string_free(g_steal_pointer(&s), FALSE);
    return TRUE;
}

/* The whole of @path, or of stdin for "-", at most VH_CLI_DOMAIN_XML_MAX
 * bytes either way.  @path must be a regular file: a FIFO or a device
 * would block or never end.  Free with g_free(). */
static char *
vh_cli_read_input(const char *verb, const char *path, gsize *ret_len,
                  GError **error)
{
    g_autoptr(GString) s = NULL;
    char buf[65536];
    struct stat st;
    int fd;

    if (g_str_equal(path, "-")) {
        char *contents = NULL;

        return vh_cli_read_stdin(verb, &contents, ret_len, error) ?
               contents : NULL;
    }
    /* O_NONBLOCK: opening a FIFO without a writer must not wait. */
    fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
    if (fd < 0) {
        int saved_errno = errno;
        g_set_error(error, VH_CLI_ERROR, VH_CLI_ERROR_INVALID,
                    "%s: cannot read the domain XML %s: %s", verb, path,
                    g_strerror(saved_errno));
        return NULL;
    }
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        g_set_error(error, VH_CLI_ERROR, VH_CLI_ERROR_INVALID,
                    "%s: %s is not a regular file; give the domain XML as "
                    "a file or on standard input (-)", verb, path);
        return NULL;
    }
    if (st.st_size > VH_CLI_DOMAIN_XML_MAX) {
        close(fd);
        g_set_error(error, VH_CLI_ERROR, VH_CLI_ERROR_INVALID,
                    "%s: %s is larger than %d bytes; that is no domain XML",
                    verb, path, VH_CLI_DOMAIN_XML_MAX);
        return NULL;
    }
    s = g_string_sized_new((gsize) st.st_size + 1);
    for (;;) {
        ssize_t n = read(fd, buf, sizeof(buf));

        if (n < 0) {
            int saved_errno = errno;
            if (saved_errno == EINTR)
                continue;
            close(fd);
            g_set_error(error, VH_CLI_ERROR, VH_CLI_ERROR_INVALID,
                        "%s: cannot read the domain XML %s: %s", verb, path,
                        g_strerror(saved_errno));
            return NULL;
        }
        if (n == 0)
            break;
        /* The file may grow while we read it. */
        if (s->len + (gsize) n > VH_CLI_DOMAIN_XML_MAX) {
            close(fd);
            g_set_error(error, VH_CLI_ERROR, VH_CLI_ERROR_INVALID,
                        "%s: %s is larger than %d bytes; that is no domain "
                        "XML", verb, path, VH_CLI_DOMAIN_XML_MAX);
            return NULL;
        }
        g_string_append_len(s, buf, n);
    }
    close(fd);
    *ret_len = s->len;
    return g_string_free(g_steal_pointer(&s), FALSE);
}

static VhDomainDef *
vh_cli_domain_parse(const char *what, const char *xml, gsize len,
                    GError **error)
{
    VhDomainDef *def = vh_domain_def_parse(xml, len, error);

    if (!def)
        g_prefix_error(error, "%s: ", what);
    return def;
}

static VhDomainDef *
vh_cli_domain_load(const char *verb, const char *path, GError **error)
{
    g_autofree char *xml = NULL;
    gsize len = 0;

    if (!(xml = vh_cli_read_input(verb, path, &len, error)))
        return NULL;
    return vh_cli_domain_parse(path, xml, len, error);
}

/* Every PCI host device of @def, managed or not, in document order (an
 * unassigned one too: libvirt detaches it as well).  Free with g_free(). */
static VhPrepareDevice *
vh_cli_domain_devices(const VhDomainDef *def, guint *ret_n)
{
    VhPrepareDevice *devs = g_new0(VhPrepareDevice, def->hostdevs->len + 1);
    guint i;

    for (i = 0; i < def->hostdevs->len; i++) {
        const VhDomainHostdev *hd = g_ptr_array_index(def->hostdevs, i);

        devs[i].addr = hd->source;
        devs[i].managed = hd->managed;
    }
    *ret_n = def->hostdevs->len;
    return devs;
}

static void
vh_cli_print_memlock(const VhDomainDef *def)
{
    guint64 bytes = vh_domain_def_memlock_bytes(def);

    if (bytes == G_MAXUINT64)
        g_print("locked memory: unlimited (RLIMIT_MEMLOCK for the QEMU "
                "process; <memoryBacking><locked/>)\n");
    else
        g_print("locked memory: %" G_GUINT64_FORMAT " bytes (RLIMIT_MEMLOCK "
                "for the QEMU process)\n", bytes);
}

static gboolean
vh_cli_prepare(VhCli *cli, const VhCliVerb *verb, int argc, char **argv,
               GError **error)
{
    g_autoptr(VhDomainDef) def = NULL;
    g_autoptr(VhPlan) plan = NULL;
    g_autofree VhPrepareDevice *devs = NULL;
    gboolean dry_run = FALSE;
    gboolean force = FALSE;
    const GOptionEntry entries[] = {
        { "dry-run", 0, 0, G_OPTION_ARG_NONE, &dry_run,
          "Print the plan and change nothing", NULL },
        { "force", 0, 0, G_OPTION_ARG_NONE, &force,
          "Take devices the host uses (mounts, routes, console)", NULL },
        G_OPTION_ENTRY_NULL
    };
    VhPrepareFlags flags = 0;
    VhHostdev h;
    guint n = 0;
    guint i;

    if (!vh_cli_parse_verb(cli, verb, entries, &argc, &argv, 1, 1, error))
        return FALSE;
    if (!(def = vh_cli_domain_load(verb->name, argv[1], error)))
        return FALSE;
    devs = vh_cli_domain_devices(def, &n);
    flags |= dry_run ? VH_PREPARE_DRY_RUN : 0;
    flags |= force ? VH_PREPARE_FORCE : 0;
    if (!vh_cli_hostdev(cli, &h, error) ||
        !vh_hostdev_prepare(&h, def->name, devs, n, flags, &plan, error))
        return FALSE;
    if (dry_run)
        g_print("Plan to prepare domain %s (nothing changed):\n", def->name);
    else
        g_print("Domain %s prepared\n", def->name);
    vh_cli_print_plan(plan, "  ");
    for (i = 0; i < def->other_hostdevs->len; i++)
        g_print("  %s: left alone\n",
                (const char *) g_ptr_array_index(def->other_hostdevs, i));
    vh_cli_print_memlock(def);
    return TRUE;
}

static gboolean
vh_cli_release(VhCli *cli, const VhCliVerb *verb, int argc, char **argv,
               GError **error)
{
    g_autoptr(VhDomainDef) def = NULL;
    g_autoptr(VhPlan) plan = NULL;
    gboolean dry_run = FALSE;
    const GOptionEntry entries[] = {
        { "dry-run", 0, 0, G_OPTION_ARG_NONE, &dry_run,
          "Print the plan and change nothing", NULL },
        G_OPTION_ENTRY_NULL
    };
    VhHostdev h;

    if (!vh_cli_parse_verb(cli, verb, entries, &argc, &argv, 1, 1, error))
        return FALSE;
    if (!(def = vh_cli_domain_load(verb->name, argv[1], error)))
        return FALSE;
    if (!vh_cli_hostdev(cli, &h, error) ||
        !vh_hostdev_release(&h, def->name, dry_run ? VH_PREPARE_DRY_RUN : 0,
                            &plan, error))
        return FALSE;
    if (dry_run)
        g_print("Plan to release domain %s (nothing changed):\n", def->name);
    else if (plan->moves->len > 0)
        g_print("Domain %s released\n", def->name);
    vh_cli_print_plan(plan, plan->moves->len > 0 || dry_run ? "  " : "");
    return TRUE;
}

/*
 * libvirt runs /etc/libvirt/hooks/qemu.d/virt-hostdev DOMAIN OPERATION
 * SUBOPERATION EXTRA with the domain XML on standard input; the script
 * execs `virt-hostdev hook qemu "$@"`.  The arguments are taken as they
 * come, not through GOption: a domain name may start with "-".
 */
static gboolean
vh_cli_hook(VhCli *cli, const VhCliVerb *verb, int argc, char **argv,
            GError **error)
{
    g_autoptr(VhDomainDef) def = NULL;
    g_autoptr(VhPlan) plan = NULL;
    g_autofree VhPrepareDevice *devs = NULL;
    g_autofree char *xml = NULL;
    g_autoptr(GError) local = NULL;
    const char *domain;
    const char *op;
    const char *subop;
    gboolean prepare;
    gboolean release;
    gsize len = 0;
    VhHostdev h;
    guint n = 0;

    if (argc == 2 && (g_str_equal(argv[1], "--help") ||
                      g_str_equal(argv[1], "-h")))
        return vh_cli_parse_verb(cli, verb, NULL, &argc, &argv, 4, 5, error);
    if (argc - 1 < 4 || argc - 1 > 5) {
        g_set_error(error, VH_CLI_ERROR, VH_CLI_ERROR_INVALID,
                    "hook: expected qemu DOMAIN OPERATION SUBOPERATION "
                    "[EXTRA] as libvirt calls its qemu hook, got %d "
                    "argument%s", argc - 1, argc == 2 ? "" : "s");
        return FALSE;
    }
    if (!g_str_equal(argv[1], "qemu")) {
        g_autofree char *esc = g_strescape(argv[1], NULL);
        g_set_error(error, VH_CLI_ERROR, VH_CLI_ERROR_INVALID,
                    "hook: only libvirt's qemu hook is handled, not '%.64s'; "
                    "install it with `virt-hostdev install-hook`", esc);
        return FALSE;
    }
    domain = argv[2];
    op = argv[3];
    subop = argv[4];
    prepare = g_str_equal(op, "prepare") && g_str_equal(subop, "begin");
    release = g_str_equal(op, "release") && g_str_equal(subop, "end");

    /* Read what libvirt writes in every case, so that its write never
     * fails; every other operation is none of ours: exit 0, print
     * nothing (libvirt takes the output of some as new XML). */
    if (!vh_cli_read_stdin("hook", &xml, &len, &local)) {
        if (!prepare && !release)
            return TRUE;
        g_propagate_error(error, g_steal_pointer(&local));
        return FALSE;
    }
    if (!prepare && !release)
        return TRUE;

    if (!vh_cli_hostdev(cli, &h, error))
        return FALSE;
    if (release) {
        /* By name: what prepare recorded for the domain goes back, even
         * when the XML has changed or does not parse. */
        return vh_hostdev_release(&h, domain, VH_PREPARE_HOOK, &plan, error);
    }
    if (!(def = vh_cli_domain_parse("hook: the domain XML on standard input",
                                    xml, len, error)))
        return FALSE;
    if (!g_str_equal(def->name, domain)) {
        g_autofree char *esc = g_strescape(domain, NULL);
        g_set_error(error, VH_CLI_ERROR, VH_CLI_ERROR_INVALID,
                    "hook: the domain XML on standard input is for '%s', "
                    "not '%.64s'", def->name, esc);
        return FALSE;
    }
    devs = vh_cli_domain_devices(def, &n);
    return vh_hostdev_prepare(&h, domain, devs, n, VH_PREPARE_HOOK, &plan,
                              error);
}

#define VH_CLI_HOOK_MARKER "# virt-hostdev: libvirt qemu hook"

static char *
vh_cli_hook_script(const char *binary, const char *state_dir)
{
    g_autofree char *qbin = g_shell_quote(binary);
    g_autofree char *qstate = NULL;

    if (!g_str_equal(state_dir, VH_DEFAULT_STATE_DIR)) {
        g_autofree char *q = g_shell_quote(state_dir);
        qstate = g_strdup_printf(" --state-dir %s", q);
    }
    return g_strdup_printf("#!/bin/sh\n"
                           VH_CLI_HOOK_MARKER " (written by `virt-hostdev "
                           "install-hook`; docs/libvirt-hook.rst).\n"
                           "# libvirt runs it as: virt-hostdev DOMAIN "
                           "OPERATION SUBOPERATION EXTRA, the domain XML on "
                           "stdin.\n"
                           "exec %s%s hook qemu \"$@\"\n", qbin,
                           qstate ? qstate : "");
}

/* What is at @path now: TRUE and *ret_text NULL when nothing. */
static gboolean
vh_cli_hook_read_existing(const char *path, char **ret_text, GError **error)
{
    g_autoptr(GError) local = NULL;
    g_autofree char *text = NULL;
    GStatBuf st;

    if (g_lstat(path, &st) < 0) {
        int saved_errno = errno;
        if (saved_errno == ENOENT) {
            *ret_text = NULL;
            return TRUE;
        }
        g_set_error(error, VH_CLI_ERROR, VH_CLI_ERROR_FAILED,
                    "install-hook: cannot look at %s: %s", path,
                    g_strerror(saved_errno));
        return FALSE;
    }
    if (!S_ISREG(st.st_mode) || !g_file_get_contents(path, &text, NULL, &local)) {
        g_set_error(error, VH_CLI_ERROR, VH_CLI_ERROR_FAILED,
                    "install-hook: %s exists and is not a hook virt-hostdev "
                    "wrote; move it away or choose another --dir", path);
        return FALSE;
    }
    *ret_text = g_steal_pointer(&text);
    return TRUE;
}

static gboolean
vh_cli_install_hook(VhCli *cli, const VhCliVerb *verb, int argc, char **argv,
                    GError **error)
{
    g_autofree char *dir = NULL;
    g_autofree char *binary = NULL;
    g_autofree char *qemu_d = NULL;
    g_autofree char *path = NULL;
    g_autofree char *tmp = NULL;
    g_autofree char *script = NULL;
    g_autofree char *existing = NULL;
    g_autoptr(GError) local = NULL;
    const GOptionEntry entries[] = {
        { "dir", 0, 0, G_OPTION_ARG_FILENAME, &dir,
          "libvirt's hooks directory (default /etc/libvirt/hooks)", "DIR" },
        { "binary", 0, 0, G_OPTION_ARG_FILENAME, &binary,
          "The virt-hostdev the hook runs (default: this one)", "PATH" },
        G_OPTION_ENTRY_NULL
    };
    int saved_errno = 0;
    ssize_t n = 0;
    gsize len;
    int fd;

    if (!vh_cli_parse_verb(cli, verb, entries, &argc, &argv, 0, 0, error))
        return FALSE;
    if (!dir)
        dir = g_strdup("/etc/libvirt/hooks");
    if (!binary && !(binary = g_file_read_link("/proc/self/exe", &local))) {
        g_set_error(error, VH_CLI_ERROR, VH_CLI_ERROR_FAILED,
                    "install-hook: cannot tell where this virt-hostdev is "
                    "(%s); give --binary PATH", local->message);
        return FALSE;
    }
    if (!g_path_is_absolute(binary)) {
        g_set_error(error, VH_CLI_ERROR, VH_CLI_ERROR_INVALID,
                    "install-hook: --binary must be an absolute path, not "
                    "'%s'", binary);
        return FALSE;
    }
    qemu_d = g_build_filename(dir, "qemu.d", NULL);
    path = g_build_filename(qemu_d, "virt-hostdev", NULL);
    script = vh_cli_hook_script(binary, cli->opts.state_dir);

    if (!vh_cli_hook_read_existing(path, &existing, error))
        return FALSE;
    if (existing && g_str_equal(existing, script)) {
        g_print("already installed: %s\n", path);
        return TRUE;
    }
    if (existing && !strstr(existing, "\n" VH_CLI_HOOK_MARKER " ")) {
        g_set_error(error, VH_CLI_ERROR, VH_CLI_ERROR_FAILED,
                    "install-hook: %s exists and is not a hook virt-hostdev "
                    "wrote; move it away or choose another --dir", path);
        return FALSE;
    }
    if (g_mkdir_with_parents(qemu_d, 0755) < 0) {
        saved_errno = errno;
        g_set_error(error, VH_CLI_ERROR, VH_CLI_ERROR_FAILED,
                    "install-hook: cannot create %s: %s", qemu_d,
                    g_strerror(saved_errno));
        return FALSE;
    }
    /* The temp file goes beside qemu.d, not in it: libvirt runs every
     * executable file in qemu.d. */
    tmp = g_build_filename(dir, ".virt-hostdev-hook.XXXXXX", NULL);
    if ((fd = g_mkstemp_full(tmp, O_RDWR | O_CLOEXEC, 0755)) < 0) {
        saved_errno = errno;
        g_set_error(error, VH_CLI_ERROR, VH_CLI_ERROR_FAILED,
                    "install-hook: cannot write %s: %s", path,
                    g_strerror(saved_errno));
        return FALSE;
    }
    /* The descriptor is closed and the temp file removed on every
     * failure; a short write with no errno is EIO. */
    len = strlen(script);
    if (fchmod(fd, 0755) < 0 || (n = write(fd, script, len)) < 0 ||
        fsync(fd) < 0)
        saved_errno = errno;
    else if ((gsize) n != len)
        saved_errno = EIO;
    if (close(fd) < 0 && saved_errno == 0)
        saved_errno = errno;
    if (saved_errno == 0 && rename(tmp, path) < 0)
        saved_errno = errno;
    if (saved_errno != 0) {
        g_unlink(tmp);
        g_set_error(error, VH_CLI_ERROR, VH_CLI_ERROR_FAILED,
                    "install-hook: cannot write %s: %s", path,
                    g_strerror(saved_errno));
        return FALSE;
    }
    g_print("%s %s: libvirt runs `%s hook qemu DOMAIN OPERATION ...`\n",
            existing ? "updated" : "installed", path, binary);
    g_print("restart libvirtd (or virtqemud) so that it sees the hook\n");
    return TRUE;
}

/* ---- domain XML to QEMU arguments (issue 5) ---------------------------- */

static gboolean
vh_cli_domxml_to_native(VhCli *cli, const VhCliVerb *verb, int argc,
                        char **argv, GError **error)
{
    g_autoptr(VhDomainDef) def = NULL;
    g_autoptr(GPtrArray) args = NULL;
    g_autofree char *xml = NULL;
    gboolean legacy = FALSE;
    const GOptionEntry entries[] = {
        { "legacy", 0, 0, G_OPTION_ARG_NONE, &legacy,
          "Print -device in QEMU's key=value syntax "
          "(vfio-pci,host=...,id=...) instead of JSON", NULL },
        G_OPTION_ENTRY_NULL
    };
    gsize len = 0;
    guint i;

    if (!vh_cli_parse_verb(cli, verb, entries, &argc, &argv, 2, 2, error))
        return FALSE;
    if (!g_str_equal(argv[1], "qemu-argv")) {
        g_autofree char *esc = g_strescape(argv[1], NULL);
        g_set_error(error, VH_CLI_ERROR, VH_CLI_ERROR_INVALID,
                    "domxml-to-native: unknown format '%s'; the only format "
                    "is qemu-argv", esc);
        return FALSE;
    }
    if (!(xml = vh_cli_read_input(verb->name, argv[2], &len, error)))
        return FALSE;
    if (!(def = vh_domain_def_parse(xml, len, error)) ||
        !(args = vh_qemu_device_args(def, legacy ? VH_QEMU_SYNTAX_LEGACY :
                                     VH_QEMU_SYNTAX_JSON, error))) {
        g_prefix_error(error, "%s: ", argv[2]);
        return FALSE;
    }
    for (i = 0; i < args->len; i++) {
        g_autofree char *quoted =
            vh_qemu_shell_quote(g_ptr_array_index(args, i));

        g_print("-device %s\n", quoted);
    }
    return TRUE;
}

/* ---- VFIO device verbs (issue 6, the userspace VFIO library) ----------- */

static const char *const vh_cli_region_names[] = {
    "BAR0", "BAR1", "BAR2", "BAR3", "BAR4", "BAR5", "ROM", "CONFIG", "VGA",
};
static const char *const vh_cli_irq_names[] = {
    "INTx", "MSI", "MSI-X", "ERR", "REQ",
};

/* What device-info reports, gathered before printing. */
typedef struct {
    VhVfioDevice *dev;
    char *driver;
    GPtrArray *regions;             /* const VhVfioRegion *, owned by dev */
    GPtrArray *areas;               /* GArray of VhVfioArea per region */
    GPtrArray *irqs;                /* const VhVfioIrqInfo *, owned by dev */
    VhVfioResetMethod reset;
    GPtrArray *reset_blocked;       /* char * */
    guint64 pgsizes;
    GArray *iova_ranges;            /* VhVfioIovaRange */
    guint32 dma_avail;              /* G_MAXUINT32: not reported */
} VhCliDeviceReport;

static void
vh_cli_device_report_clear(VhCliDeviceReport *r)
{
    g_clear_pointer(&r->regions, g_ptr_array_unref);
    g_clear_pointer(&r->areas, g_ptr_array_unref);
    g_clear_pointer(&r->irqs, g_ptr_array_unref);
    g_clear_pointer(&r->reset_blocked, g_ptr_array_unref);
    g_clear_pointer(&r->iova_ranges, g_array_unref);
    g_clear_pointer(&r->driver, g_free);
    g_clear_pointer(&r->dev, vh_vfio_device_unref);
}
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(VhCliDeviceReport, vh_cli_device_report_clear)

static const char *
vh_cli_region_name(guint32 index)
{
    return index < G_N_ELEMENTS(vh_cli_region_names) ?
           vh_cli_region_names[index] : "device-specific";
}

static const char *
vh_cli_irq_name(guint32 index)
{
    return index < G_N_ELEMENTS(vh_cli_irq_names) ?
           vh_cli_irq_names[index] : "device-specific";
}

/* Flag words, in a fixed order. */
static GPtrArray *
vh_cli_region_flags(const VhVfioRegion *r)
{
    GPtrArray *out = g_ptr_array_new();

    if (r->flags & VFIO_REGION_INFO_FLAG_READ)
        g_ptr_array_add(out, "read");
    if (r->flags & VFIO_REGION_INFO_FLAG_WRITE)
        g_ptr_array_add(out, "write");
    if (r->flags & VFIO_REGION_INFO_FLAG_MMAP)
        g_ptr_array_add(out, "mmap");
    if (r->has_sparse)
        g_ptr_array_add(out, "sparse-mmap");
    if (r->msix_mappable)
        g_ptr_array_add(out, "msix-mappable");
    return out;
}

static GPtrArray *
vh_cli_irq_flags(const VhVfioIrqInfo *info)
{
    GPtrArray *out = g_ptr_array_new();

    if (info->flags & VFIO_IRQ_INFO_EVENTFD)
        g_ptr_array_add(out, "eventfd");
    if (info->flags & VFIO_IRQ_INFO_MASKABLE)
        g_ptr_array_add(out, "maskable");
    if (info->flags & VFIO_IRQ_INFO_AUTOMASKED)
        g_ptr_array_add(out, "automasked");
    if (info->flags & VFIO_IRQ_INFO_NORESIZE)
        g_ptr_array_add(out, "noresize");
    return out;
}

static gboolean
vh_cli_device_report(VhCli *cli, const VhPciAddress *addr,
                     VhCliDeviceReport *r, GError **error)
{
    const VhVfioOps *ops = vh_vfio_ops_kernel();
    gpointer ops_data = NULL;
    g_autofree char *driver_rel = vh_sysfs_pci_device_relpath(addr, "driver");
    const VhVfioDeviceInfo *info;
    VhVfioContainer *container;
    const VhSysfs *sysfs;
    guint32 i;

    if (cli->hooks && cli->hooks->vfio_ops) {
        ops = cli->hooks->vfio_ops;
        ops_data = cli->hooks->data;
    }
    if (!(sysfs = vh_cli_sysfs(cli, error)) ||
        !vh_sysfs_read_link_name(sysfs, driver_rel, &r->driver, error))
        return FALSE;
    r->dev = vh_vfio_device_open_address(ops, ops_data, sysfs, addr, NULL,
                                         error);
    if (!r->dev)
        return FALSE;
    info = vh_vfio_device_get_info(r->dev);

    r->regions = g_ptr_array_new();
    r->areas = g_ptr_array_new_with_free_func((GDestroyNotify) g_array_unref);
    for (i = 0; i < info->num_regions; i++) {
        g_autoptr(GError) local = NULL;
        const VhVfioRegion *region;
        GArray *areas = NULL;

        if (!vh_vfio_device_get_region(r->dev, i, &region, &local)) {
            /* VGA and other absent indexes: not listed. */
            if (g_error_matches(local, VH_VFIO_ERROR, VH_VFIO_ERROR_NOT_FOUND))
                continue;
            g_propagate_error(error, g_steal_pointer(&local));
            return FALSE;
        }
        if (!vh_vfio_device_region_mmap_areas(r->dev, i, &areas, error))
            return FALSE;
        g_ptr_array_add(r->regions, (gpointer) region);
        g_ptr_array_add(r->areas, areas);
    }
    r->irqs = g_ptr_array_new();
    for (i = 0; i < info->num_irqs; i++) {
        const VhVfioIrqInfo *irq;

        if (!vh_vfio_device_get_irq_info(r->dev, i, &irq, error))
            return FALSE;
        g_ptr_array_add(r->irqs, (gpointer) irq);
    }
    if (!vh_vfio_device_get_reset_method(r->dev, NULL, 0, &r->reset,
                                         &r->reset_blocked, error))
        return FALSE;
    container = vh_vfio_group_get_container(vh_vfio_device_get_group(r->dev));
    return vh_vfio_container_get_iommu_info(container, &r->pgsizes,
                                            &r->iova_ranges, &r->dma_avail,
                                            error);
}

static void
vh_cli_json_key_u64(yajl_gen g, const char *key, guint64 value)
{
    char num[32];
    int len = g_snprintf(num, sizeof(num), "%" G_GUINT64_FORMAT, value);

    vh_json_string(g, key);
    yajl_gen_number(g, num, len);
}

static void
vh_cli_json_words(yajl_gen g, const char *key, GPtrArray *words)
{
    guint i;

    vh_json_string(g, key);
    yajl_gen_array_open(g);
    for (i = 0; i < words->len; i++)
        vh_json_string(g, g_ptr_array_index(words, i));
    yajl_gen_array_close(g);
}

static char *
vh_cli_device_report_json(const VhCliDeviceReport *r, GError **error)
{
    yajl_gen g = vh_json_gen_new();
    VhVfioGroup *group = vh_vfio_device_get_group(r->dev);
    const VhVfioDeviceInfo *info = vh_vfio_device_get_info(r->dev);
    const VhVfioMsix *msix = vh_vfio_device_get_msix(r->dev);
    guint i, j;

    yajl_gen_map_open(g);
    vh_json_key_string(g, "address", vh_vfio_device_get_name(r->dev));
    vh_json_key_string(g, "driver", r->driver);
    vh_json_key_int(g, "group", vh_vfio_group_get_id(group));
    vh_json_key_bool(g, "pci", (info->flags & VFIO_DEVICE_FLAGS_PCI) != 0);
    vh_json_string(g, "regions");
    yajl_gen_array_open(g);
    for (i = 0; i < r->regions->len; i++) {
        const VhVfioRegion *region = g_ptr_array_index(r->regions, i);
        const GArray *areas = g_ptr_array_index(r->areas, i);
        g_autoptr(GPtrArray) flags = vh_cli_region_flags(region);

        yajl_gen_map_open(g);
        vh_json_key_int(g, "index", region->index);
        vh_json_key_string(g, "name", vh_cli_region_name(region->index));
        vh_cli_json_key_u64(g, "size", region->size);
        vh_cli_json_key_u64(g, "offset", region->offset);
        vh_cli_json_words(g, "flags", flags);
        vh_json_string(g, "mmap_areas");
        yajl_gen_array_open(g);
        for (j = 0; j < areas->len; j++) {
            const VhVfioArea *a = &g_array_index(areas, VhVfioArea, j);

            yajl_gen_map_open(g);
            vh_cli_json_key_u64(g, "offset", a->offset);
            vh_cli_json_key_u64(g, "size", a->size);
            yajl_gen_map_close(g);
        }
        yajl_gen_array_close(g);
        if (region->has_type) {
            vh_json_key_int(g, "type", region->type);
            vh_json_key_int(g, "subtype", region->subtype);
        }
        yajl_gen_map_close(g);
    }
    yajl_gen_array_close(g);

    vh_json_string(g, "interrupts");
    yajl_gen_array_open(g);
    for (i = 0; i < r->irqs->len; i++) {
        const VhVfioIrqInfo *irq = g_ptr_array_index(r->irqs, i);
        g_autoptr(GPtrArray) flags = vh_cli_irq_flags(irq);

        yajl_gen_map_open(g);
        vh_json_key_int(g, "index", irq->index);
        vh_json_key_string(g, "name", vh_cli_irq_name(irq->index));
        vh_json_key_int(g, "count", irq->count);
        vh_cli_json_words(g, "flags", flags);
        yajl_gen_map_close(g);
    }
    yajl_gen_array_close(g);

    vh_json_string(g, "msix");
    if (msix->present) {
        yajl_gen_map_open(g);
        vh_json_key_int(g, "vectors", msix->entries);
        vh_json_key_int(g, "table_bar", msix->table_bar);
        vh_cli_json_key_u64(g, "table_offset", msix->table_offset);
        vh_json_key_int(g, "pba_bar", msix->pba_bar);
        vh_cli_json_key_u64(g, "pba_offset", msix->pba_offset);
        yajl_gen_map_close(g);
    } else {
        yajl_gen_null(g);
    }

    vh_json_string(g, "reset");
    yajl_gen_map_open(g);
    vh_json_key_string(g, "method", vh_vfio_reset_method_to_string(r->reset));
    vh_cli_json_words(g, "blocked_by", r->reset_blocked);
    yajl_gen_map_close(g);

    vh_cli_json_key_u64(g, "iommu_page_sizes", r->pgsizes);
    vh_json_string(g, "iova_ranges");
    yajl_gen_array_open(g);
    for (i = 0; i < r->iova_ranges->len; i++) {
        const VhVfioIovaRange *ir = &g_array_index(r->iova_ranges,
                                                   VhVfioIovaRange, i);
        yajl_gen_map_open(g);
        vh_cli_json_key_u64(g, "start", ir->start);
        vh_cli_json_key_u64(g, "end", ir->end);
        yajl_gen_map_close(g);
    }
    yajl_gen_array_close(g);
    vh_json_string(g, "dma_avail");
    if (r->dma_avail == G_MAXUINT32)
        yajl_gen_null(g);
    else
        yajl_gen_integer(g, r->dma_avail);
    yajl_gen_map_close(g);
    return vh_json_gen_finish(g, error);
}

static char *
vh_cli_join_words(GPtrArray *words)
{
    g_autoptr(GString) s = g_string_new(NULL);
    guint i;

    for (i = 0; i < words->len; i++)
        g_string_append_printf(s, "%s%s", i ? " " : "",
                               (const char *) g_ptr_array_index(words, i));
    return g_strdup(s->len ? s->str : "-");
}

static void
vh_cli_device_report_print(const VhCliDeviceReport *r)
{
    VhVfioGroup *group = vh_vfio_device_get_group(r->dev);
    const VhVfioMsix *msix = vh_vfio_device_get_msix(r->dev);
    g_autofree char *driver = vh_cli_driver_shown(r->driver, "no driver");
    g_autoptr(GString) pg = g_string_new(NULL);
    guint i, j;

    g_print("Device:       %s (%s), IOMMU group %d\n",
            vh_vfio_device_get_name(r->dev), driver,
            vh_vfio_group_get_id(group));
    g_print("Regions:\n");
    for (i = 0; i < r->regions->len; i++) {
        const VhVfioRegion *region = g_ptr_array_index(r->regions, i);
        const GArray *areas = g_ptr_array_index(r->areas, i);
        g_autoptr(GPtrArray) words = vh_cli_region_flags(region);
        g_autofree char *flags = vh_cli_join_words(words);
        g_autofree char *size = vh_vfio_format_size(region->size);
        g_autoptr(GString) mm = g_string_new(NULL);

        for (j = 0; j < areas->len; j++) {
            const VhVfioArea *a = &g_array_index(areas, VhVfioArea, j);
            g_string_append_printf(mm, " [0x%" G_GINT64_MODIFIER "x, +0x%" G_GINT64_MODIFIER "x)",
                                   a->offset, a->size);
        }
        g_print("  %-8s size 0x%-8" G_GINT64_MODIFIER "x %-9s %s%s%s\n",
                vh_cli_region_name(region->index), region->size, size, flags,
                mm->len ? "  mmap:" : "", mm->str);
    }
    if (msix->present)
        g_print("MSI-X table:  %u vectors in BAR%u at 0x%" G_GINT64_MODIFIER "x (PBA BAR%u at 0x%" G_GINT64_MODIFIER "x)\n",
                msix->entries, msix->table_bar, msix->table_offset,
                msix->pba_bar, msix->pba_offset);
    g_print("Interrupts:\n");
    for (i = 0; i < r->irqs->len; i++) {
        const VhVfioIrqInfo *irq = g_ptr_array_index(r->irqs, i);
        g_autoptr(GPtrArray) words = vh_cli_irq_flags(irq);
        g_autofree char *flags = vh_cli_join_words(words);

        g_print("  %-8s count %-5u %s\n", vh_cli_irq_name(irq->index),
                irq->count, irq->count ? flags : "-");
    }
    g_print("Reset:        %s", vh_vfio_reset_method_to_string(r->reset));
    switch (r->reset) {
    case VH_VFIO_RESET_DEVICE:
        g_print(" (VFIO_DEVICE_RESET: FLR, PM or a device-specific reset)\n");
        break;
    case VH_VFIO_RESET_HOT:
        if (r->reset_blocked->len) {
            g_autofree char *who = NULL;

            g_ptr_array_add(r->reset_blocked, NULL);
            who = g_strjoinv(", ", (char **) r->reset_blocked->pdata);
            g_ptr_array_remove_index(r->reset_blocked,
                                     r->reset_blocked->len - 1);
            g_print(" (bus reset; also hits %s, not held by this process)\n", who);
        } else {
            g_print(" (bus reset; every affected group is held)\n");
        }
        break;
    default:
        g_print(" (no FLR or PM reset and no bus reset)\n");
        break;
    }
    for (i = 0; i < 64; i++) {
        if (r->pgsizes & (1ULL << i)) {
            g_autofree char *s = vh_vfio_format_size(1ULL << i);
            g_string_append_printf(pg, "%s%s", pg->len ? " " : "", s);
        }
    }
    g_print("IOMMU pages:  %s\n", pg->len ? pg->str : "not reported");
    g_print("IOVA ranges: ");
    for (i = 0; i < r->iova_ranges->len; i++) {
        const VhVfioIovaRange *ir = &g_array_index(r->iova_ranges,
                                                   VhVfioIovaRange, i);
        g_print(" [0x%" G_GINT64_MODIFIER "x, 0x%" G_GINT64_MODIFIER "x]",
                ir->start, ir->end);
    }
    g_print("\n");
    if (r->dma_avail == G_MAXUINT32)
        g_print("dma_avail:    not reported\n");
    else
        g_print("dma_avail:    %u\n", r->dma_avail);
}

static gboolean
vh_cli_device_info(VhCli *cli, const VhCliVerb *verb, int argc, char **argv,
                   GError **error)
{
    g_auto(VhCliDeviceReport) report = { 0 };
    gboolean json = FALSE;
    const GOptionEntry entries[] = {
        { "json", 0, 0, G_OPTION_ARG_NONE, &json,
          "Print a JSON object with regions, interrupts, MSI-X, reset, IOVA "
          "ranges and dma_avail", NULL },
        G_OPTION_ENTRY_NULL
    };
    VhPciAddress addr;

    if (!vh_cli_parse_verb(cli, verb, entries, &argc, &argv, 1, 1, error))
        return FALSE;
    if (!vh_pci_address_parse(argv[1], &addr, error))
        return FALSE;
    if (!vh_cli_device_report(cli, &addr, &report, error))
        return FALSE;
    if (json)
        return vh_cli_print_json(vh_cli_device_report_json(&report, error));
    vh_cli_device_report_print(&report);
    return TRUE;
}

/* ---- end of VFIO device verbs ------------------------------------------- */

/* ---- device backend verbs (issue 6) ------------------------------------- */

/* virt-hostdev-backend: $VIRT_HOSTDEV_BACKEND, next to this program,
 * where it is installed, or where the build tree made it. */
static char *
vh_cli_backend_program(void)
{
    const char *env = g_getenv("VIRT_HOSTDEV_BACKEND");
    g_autofree char *self = g_file_read_link("/proc/self/exe", NULL);
    g_autofree char *dir = NULL;
    g_autofree char *sibling = NULL;

    if (env && *env)
        return g_strdup(env);
    if (self) {
        dir = g_path_get_dirname(self);
        sibling = g_build_filename(dir, "virt-hostdev-backend", NULL);
        if (g_file_test(sibling, G_FILE_TEST_IS_EXECUTABLE))
            return g_steal_pointer(&sibling);
    }
    /* virt-hostdev-cli is installed in libexecdir, the backend in bindir. */
    if (g_file_test(VH_BACKEND_INSTALLED, G_FILE_TEST_IS_EXECUTABLE))
        return g_strdup(VH_BACKEND_INSTALLED);
    return g_strdup(VH_BACKEND_UNINSTALLED);
}

static void
vh_cli_selftest_step(gpointer data, const VhBackendStep *step)
{
    guint *count = data;

    (*count)++;
    g_print("%-7s %s: %s\n", step->ok ? "ok" : "FAILED", step->name,
            step->evidence);
}

/* --pause: the backend stays up until standard input says go on. */
static void
vh_cli_selftest_pause(gpointer data, GPid pid)
{
    char buf[256];

    g_print("paused: backend pid %d is running; inspect /proc/%d, then press "
            "Enter or close standard input\n", pid, pid);
    fflush(stdout);
    while (fgets(buf, sizeof(buf), stdin) && !strchr(buf, '\n'))
        ;
}

static gboolean
vh_cli_device_selftest(VhCli *cli, const VhCliVerb *verb, int argc,
                       char **argv, GError **error)
{
    g_autoptr(VhNodeDeviceList) list = NULL;
    g_autofree char *pass = NULL;
    g_autofree char *program = NULL;
    gint64 uid = 65534, gid = 65534, memlock = 64 << 20;
    gboolean pause = FALSE;
    const GOptionEntry entries[] = {
        { "uid", 0, 0, G_OPTION_ARG_INT64, &uid,
          "Run the backend as this uid (default 65534, nobody)", "UID" },
        { "gid", 0, 0, G_OPTION_ARG_INT64, &gid,
          "Run the backend as this gid (default 65534, nogroup)", "GID" },
        { "pass", 0, 0, G_OPTION_ARG_STRING, &pass,
          "Hand the fds over as inherited fd numbers (inherit, the default) "
          "or over the backend's socket (socket, SCM_RIGHTS)", "inherit|socket" },
        { "memlock", 0, 0, G_OPTION_ARG_INT64, &memlock,
          "RLIMIT_MEMLOCK of the backend in bytes (default 64 MiB)", "BYTES" },
        { "pause", 0, 0, G_OPTION_ARG_NONE, &pause,
          "After the checks, keep the backend running until standard input "
          "has a line or ends (to inspect it from outside)", NULL },
        G_OPTION_ENTRY_NULL
    };
    VhBackendSelftest t = { 0 };
    const VhNodeDevice *dev;
    VhPciAddress addr;
    char buf[VH_PCI_ADDRESS_BUFLEN];
    guint steps = 0, failed = 0;

    if (!vh_cli_parse_verb(cli, verb, entries, &argc, &argv, 1, 1, error))
        return FALSE;
    if (!vh_pci_address_parse(argv[1], &addr, error))
        return FALSE;
    if (uid == 0) {
        g_set_error(error, VH_CLI_ERROR, VH_CLI_ERROR_INVALID,
                    "device-selftest: --uid 0 would leave the backend root; "
                    "give an unprivileged uid (default 65534)");
        return FALSE;
    }
    if (uid < 0 || uid > G_MAXUINT32 - 1 || gid < 0 ||
        gid > G_MAXUINT32 - 1 || memlock < 0) {
        g_set_error(error, VH_CLI_ERROR, VH_CLI_ERROR_INVALID,
                    "device-selftest: --uid must be 1 to 4294967294, --gid 0 "
                    "to 4294967294 and --memlock at least 0");
        return FALSE;
    }
    if (pass && !g_str_equal(pass, "inherit") && !g_str_equal(pass, "socket")) {
        g_autofree char *esc = g_strescape(pass, NULL);
        g_set_error(error, VH_CLI_ERROR, VH_CLI_ERROR_INVALID,
                    "device-selftest: unknown --pass '%s': use inherit or "
                    "socket", esc);
        return FALSE;
    }
    if (!(list = vh_cli_scan(cli, 0, error)) ||
        !(dev = vh_node_device_list_find(list, &addr, error)) ||
        !vh_cli_require_groups(list, dev, error))
        return FALSE;
    vh_pci_address_format(&addr, buf);
    if (g_strcmp0(dev->driver, "vfio-pci") != 0) {
        g_autofree char *driver = vh_cli_driver_shown(dev->driver,
                                                      "no driver");

        g_set_error(error, VH_HOSTDEV_ERROR, VH_HOSTDEV_ERROR_FAILED,
                    "%s is on %s, not vfio-pci; run `virt-hostdev "
                    "nodedev-detach %s` first", buf, driver, buf);
        return FALSE;
    }
    if (geteuid() != 0) {
        g_set_error(error, VH_HOSTDEV_ERROR, VH_HOSTDEV_ERROR_FAILED,
                    "device-selftest opens /dev/vfio/%u and starts the "
                    "backend as uid %" G_GINT64_FORMAT ": run it as root",
                    dev->group, uid);
        return FALSE;
    }
    program = vh_cli_backend_program();
    t.program = program;
    t.device = buf;
    t.group_id = dev->group;
    t.vendor = dev->vendor;
    t.device_id = dev->device;
    t.uid = uid;
    t.gid = gid;
    t.memlock = memlock;
    t.pass = pass && g_str_equal(pass, "socket") ? VH_BACKEND_PASS_SOCKET
                                                  : VH_BACKEND_PASS_INHERIT;
    t.sysfs = cli->sysfs;
    t.ops = vh_vfio_ops_kernel();
    t.step = vh_cli_selftest_step;
    t.pause = pause ? vh_cli_selftest_pause : NULL;
    t.data = &steps;
    g_print("device-selftest %s (%04x:%04x, IOMMU group %u) through %s\n",
            buf, dev->vendor, dev->device, dev->group, program);
    if (!vh_backend_selftest_run(&t, &failed, error))
        return FALSE;
    if (failed) {
        g_set_error(error, VH_HOSTDEV_ERROR, VH_HOSTDEV_ERROR_FAILED,
                    "device-selftest %s: %u of %u steps FAILED", buf, failed,
                    steps);
        return FALSE;
    }
    g_print("device-selftest %s: all %u steps passed\n", buf, steps);
    return TRUE;
}

static gboolean vh_cli_help(VhCli *cli, const VhCliVerb *verb, int argc,
                            char **argv, GError **error);

/* ---- doctor: a read-only preflight (issue 7) ----------------------------- */

/* --memlock-limit BYTES or "unlimited" into *@ret_limit. */
static gboolean
vh_cli_doctor_memlock(const char *given, guint64 *ret_limit,
                      const char **ret_source, GError **error)
{
    struct rlimit rl;
    guint64 value;

    if (given) {
        if (g_str_equal(given, "unlimited") || g_str_equal(given, "infinity")) {
            *ret_limit = G_MAXUINT64;
        } else if (!g_ascii_string_to_unsigned(given, 10, 0, G_MAXUINT64 - 1,
                                               &value, NULL)) {
            g_autofree char *esc = g_strescape(given, NULL);
            g_set_error(error, VH_CLI_ERROR, VH_CLI_ERROR_INVALID,
                        "doctor: --memlock-limit '%.64s' is not a number of "
                        "bytes or 'unlimited'", esc);
            return FALSE;
        } else {
            *ret_limit = value;
        }
        *ret_source = "given with --memlock-limit as the limit of the "
                      "process that will run QEMU";
        return TRUE;
    }
    if (getrlimit(RLIMIT_MEMLOCK, &rl) < 0) {
        int saved_errno = errno;
        g_set_error(error, VH_CLI_ERROR, VH_CLI_ERROR_FAILED,
                    "doctor: cannot read RLIMIT_MEMLOCK: %s",
                    g_strerror(saved_errno));
        return FALSE;
    }
    *ret_limit = rl.rlim_cur == RLIM_INFINITY ? G_MAXUINT64 : rl.rlim_cur;
    *ret_source = "the soft limit of doctor itself, which a QEMU it starts "
                  "inherits (--memlock-limit names another)";
    return TRUE;
}

/* /lib/modules/$(uname -r), or --modules-dir; NULL when the default one
 * does not exist. */
static gboolean
vh_cli_doctor_modules(const char *given, VhSysfs **ret_modules,
                      char **ret_dir, GError **error)
{
    g_autofree char *dir = NULL;
    struct utsname uts;

    if (given) {
        if (!(*ret_modules = vh_sysfs_new(given, error))) {
            g_prefix_error(error, "doctor: --modules-dir: ");
            return FALSE;
        }
        *ret_dir = g_strdup(given);
        return TRUE;
    }
    *ret_modules = NULL;
    dir = uname(&uts) < 0 ? g_strdup("/lib/modules")
                          : g_build_filename("/lib/modules", uts.release, NULL);
    if (g_file_test(dir, G_FILE_TEST_IS_DIR))
        *ret_modules = vh_sysfs_new(dir, NULL);
    *ret_dir = g_steal_pointer(&dir);
    return TRUE;
}

static gboolean
vh_cli_doctor(VhCli *cli, const VhCliVerb *verb, int argc, char **argv,
              GError **error)
{
    g_autoptr(VhDomainDef) def = NULL;
    g_autoptr(VhDoctorReport) report = NULL;
    g_autoptr(VhSysfs) modules = NULL;
    g_autoptr(VhSysfs) dev = NULL;
    g_autofree char *memlock = NULL;
    g_autofree char *dev_root = NULL;
    g_autofree char *modules_dir = NULL;
    g_autofree char *modules_path = NULL;
    gboolean json = FALSE;
    gboolean libvirt = FALSE;
    const GOptionEntry entries[] = {
        { "json", 0, 0, G_OPTION_ARG_NONE, &json,
          "Print {\"ok\": bool, \"checks\": [...]} as JSON", NULL },
        { "libvirt", 0, 0, G_OPTION_ARG_NONE, &libvirt,
          "libvirt (as root) will start QEMU: it raises QEMU's locked-memory "
          "limit itself (a low limit warns) but holds no group peers", NULL },
        { "memlock-limit", 0, 0, G_OPTION_ARG_STRING, &memlock,
          "RLIMIT_MEMLOCK of the process that will run QEMU, in bytes or "
          "'unlimited' (default: doctor's own)", "BYTES" },
        { "dev-root", 0, 0, G_OPTION_ARG_FILENAME, &dev_root,
          "Look for vfio/vfio below DIR (default /dev)", "DIR" },
        { "modules-dir", 0, 0, G_OPTION_ARG_FILENAME, &modules_dir,
          "The kernel's modules directory (default /lib/modules/$(uname -r))",
          "DIR" },
        G_OPTION_ENTRY_NULL
    };
    VhDoctor d = { 0 };
    guint failed;

    if (!vh_cli_parse_verb(cli, verb, entries, &argc, &argv, 0, 1, error))
        return FALSE;
    if (!vh_cli_doctor_memlock(memlock, &d.memlock_limit, &d.memlock_source,
                               error))
        return FALSE;
    if (argc == 2 && !(def = vh_cli_domain_load(verb->name, argv[1], error)))
        return FALSE;
    if (!dev_root && cli->hooks && cli->hooks->dev_root)
        dev_root = g_strdup(cli->hooks->dev_root);
    if (!(dev = vh_sysfs_new(dev_root ? dev_root : "/dev", error))) {
        g_prefix_error(error, "doctor: --dev-root: ");
        return FALSE;
    }
    if (!vh_cli_doctor_modules(modules_dir, &modules, &modules_path, error))
        return FALSE;
    if (!(d.sysfs = vh_cli_sysfs(cli, error)) ||
        !(d.proc = vh_cli_proc(cli, error)))
        return FALSE;
    d.dev = dev;
    d.modules = modules;
    d.modules_dir = modules_path;
    d.state_dir = cli->opts.state_dir;
    d.libvirt = libvirt;
    if (!vh_doctor_run(&d, def, &report, error))
        return FALSE;

    if (json) {
        if (!vh_cli_print_json(vh_doctor_report_json(report, error)))
            return FALSE;
    } else {
        g_autofree char *text = vh_doctor_report_format(report);
        g_print("%s", text);
    }
    if ((failed = vh_doctor_report_count(report, VH_DOCTOR_FAIL)) > 0) {
        g_set_error(error, VH_CLI_ERROR, VH_CLI_ERROR_FAILED,
                    "doctor: %u check%s failed: %s", failed,
                    failed == 1 ? "" : "s", def
                    ? "the domain cannot start as it is; each FAIL says how "
                      "to fix it"
                    : "this host cannot assign devices with VFIO as it is; "
                      "each FAIL says how to fix it");
        return FALSE;
    }
    return TRUE;
}

static const VhCliVerb vh_cli_verbs[] = {
    { "help", "[VERB]", "Show the verbs, or the options of one verb.",
      vh_cli_help },
    { "iommu-groups", "[DEVICE]",
      "List IOMMU groups, whether each is viable for VFIO and which members "
      "block it; with DEVICE (0000:01:02.0, 01:02.0 or pci_0000_01_02_0) "
      "only its group.",
      vh_cli_iommu_groups },
    { "nodedev-list", "",
      "List PCI node devices by libvirt name (pci_0000_01_02_0).",
      vh_cli_nodedev_list },
    { "nodedev-info", "DEVICE",
      "Show a device's facts, its owner and whether and how it can be "
      "assigned: ok, needs-group (peers to hold), bridge, no-iommu, "
      "in-use (owned by someone), host-critical (what the host uses on it), "
      "no-reset (a warning).",
      vh_cli_nodedev_info },
    { "nodedev-detach", "DEVICE...",
      "Detach DEVICE for assignment (vfio-pci) and hold the other endpoints "
      "of its IOMMU group on pci-stub, recording the owner; refuses what the "
      "host uses unless --force.  Several devices are one operation.",
      vh_cli_nodedev_detach },
    { "nodedev-reattach", "DEVICE...",
      "Give DEVICE back to the driver it had; the last assigned device of a "
      "group gives the held peers back too.  A device virt-hostdev did not "
      "detach is left alone, unless --force: then the host driver that "
      "claims it takes it.",
      vh_cli_nodedev_reattach },
    { "nodedev-reset", "DEVICE",
      "Reset DEVICE through the kernel (its reset attribute) and show the "
      "methods the kernel tries; refuses a device on vfio-pci or owned, and "
      "a bus reset that would reach one, naming them.",
      vh_cli_nodedev_reset },
    { "recover", "",
      "Roll back an operation that was cut short (crash, kill), so that every "
      "device is on a consistent driver and the registry holds.",
      vh_cli_recover },
    { "who-holds", "DEVICE",
      "Show who holds DEVICE: its owner, role and drivers from the registry, "
      "and the processes that have its group's /dev/vfio/N open.",
      vh_cli_who_holds },
    { "nodedev-dumpxml", "DEVICE | --all",
      "Print libvirt node-device XML for DEVICE, or every PCI device in one "
      "<devices> document with --all.",
      vh_cli_nodedev_dumpxml },
    { "prepare", "DOMAIN.xml",
      "Prepare a domain's PCI host devices, all or nothing: each managed one "
      "to vfio-pci with its IOMMU group held, owned by the domain; unmanaged "
      "ones checked; prints the locked memory QEMU needs (- reads stdin).",
      vh_cli_prepare },
    { "release", "DOMAIN.xml",
      "Give back everything prepare took for the domain (- reads stdin).",
      vh_cli_release },
    { "hook", "qemu DOMAIN OPERATION SUBOPERATION [EXTRA]",
      "libvirt's qemu hook (domain XML on stdin): 'prepare begin' holds the "
      "groups of the domain's devices and records it as their owner, "
      "'release end' gives the held devices back; other operations do "
      "nothing.",
      vh_cli_hook },
    { "install-hook", "",
      "Install the hook as libvirt's qemu.d/virt-hostdev (idempotent; never "
      "overwrites a file it did not write).",
      vh_cli_install_hook },
    { "domxml-to-native", "qemu-argv DOMAIN.xml",
      "Print the QEMU -device arguments libvirt 9.0 gives the PCI host "
      "devices of a libvirt domain XML (- reads stdin), one per line, in "
      "JSON or with --legacy in key=value syntax.",
      vh_cli_domxml_to_native },
    { "doctor", "[DOMAIN.xml]",
      "Check, changing nothing, whether this host can assign devices with "
      "VFIO and, with DOMAIN.xml (- reads stdin), whether the domain can "
      "start: one line per check (ok, warn, fail, skip) with its evidence "
      "and a fix; exit 0 only when no check fails.",
      vh_cli_doctor },
    { "device-info", "DEVICE",
      "Open DEVICE (on vfio-pci) through VFIO and show its regions with "
      "sizes, flags and mmap-able areas, interrupts with counts and flags, "
      "MSI-X table, reset ability, IOVA ranges and dma_avail.  Needs root.",
      vh_cli_device_info },
    { "device-selftest", "DEVICE",
      "Prove what a device on vfio-pci allows, through the unprivileged "
      "backend holding passed fds: config space, BARs; for QEMU's edu also "
      "ID, liveness, MSI, a DMA round trip and DMA to an unmapped IOVA.  "
      "One line per step; root.",
      vh_cli_device_selftest },
};

static const VhCliVerb *
vh_cli_find_verb(const char *name)
{
    gsize i;

    for (i = 0; i < G_N_ELEMENTS(vh_cli_verbs); i++) {
        if (g_str_equal(vh_cli_verbs[i].name, name))
            return &vh_cli_verbs[i];
    }
    return NULL;
}

static char *
vh_cli_verb_list(void)
{
    GString *s = g_string_new("Verbs:\n");
    gsize i;

    for (i = 0; i < G_N_ELEMENTS(vh_cli_verbs); i++) {
        g_string_append_printf(s, "  %-16s %s\n", vh_cli_verbs[i].name,
                               vh_cli_verbs[i].params);
    }
    g_string_append(s, "\nRun `virt-hostdev VERB --help` for the options of "
                    "a verb.\nExit status: 0 ok, 1 operation failed, 2 bad "
                    "usage or bad input.");
    return g_string_free(s, FALSE);
}

/*
 * help --verbs: "NAME<TAB>PARAMS" per verb; help --options [VERB]: the
 * options of VERB (without it: those accepted before the verb) as
 * vh_cli_print_options() prints them.  Stable, for scripts: the man page
 * test and the bash completion read them.
 */
static gboolean
vh_cli_help_list(VhCli *cli, gboolean verbs, const char *name, GError **error)
{
    g_autoptr(GError) local = NULL;
    const VhCliVerb *target;
    char *list_argv[] = { NULL, (char *) "--help", NULL };
    GOptionEntry entries[4];
    VhCliGlobals unused = { 0 };
    gboolean version = FALSE;
    gsize i;

    if (verbs && name) {
        g_set_error(error, VH_CLI_ERROR, VH_CLI_ERROR_INVALID,
                    "help: --verbs takes no VERB; see `virt-hostdev help "
                    "help`");
        return FALSE;
    }
    if (verbs) {
        for (i = 0; i < G_N_ELEMENTS(vh_cli_verbs); i++)
            g_print("%s\t%s\n", vh_cli_verbs[i].name, vh_cli_verbs[i].params);
        return TRUE;
    }
    if (!name) {
        vh_cli_main_entries(&version, entries);
        vh_cli_print_options(entries);
        vh_cli_globals_entries(&unused, entries);
        vh_cli_print_options(entries);
        return TRUE;
    }
    if (!(target = vh_cli_find_verb(name))) {
        g_autofree char *esc = g_strescape(name, NULL);
        g_set_error(error, VH_CLI_ERROR, VH_CLI_ERROR_INVALID,
                    "help: unknown verb '%s'; run `virt-hostdev help` for "
                    "the list", esc);
        return FALSE;
    }
    /* Every verb parses its options first: vh_cli_parse_verb() lists them
     * and stops it before it does anything. */
    list_argv[0] = (char *) target->name;
    cli->list_options = TRUE;
    if (!target->run(cli, target, 2, list_argv, &local) && !cli->listed) {
        g_propagate_error(error, g_steal_pointer(&local));
        return FALSE;
    }
    if (!cli->listed) {
        g_set_error(error, VH_CLI_ERROR, VH_CLI_ERROR_FAILED,
                    "help: verb '%s' did not list its options", name);
        return FALSE;
    }
    return TRUE;
}

static gboolean
vh_cli_help(VhCli *cli, const VhCliVerb *verb, int argc, char **argv,
            GError **error)
{
    const VhCliVerb *target;
    g_autofree char *list = NULL;
    char *help_argv[] = { NULL, (char *) "--help", NULL };
    char **pargv = help_argv;
    int pargc = 2;
    gboolean verbs = FALSE;
    gboolean options = FALSE;
    const GOptionEntry entries[] = {
        { "verbs", 0, G_OPTION_FLAG_HIDDEN, G_OPTION_ARG_NONE, &verbs,
          "List the verbs for scripts: NAME<TAB>PARAMS per line", NULL },
        { "options", 0, G_OPTION_FLAG_HIDDEN, G_OPTION_ARG_NONE, &options,
          "List VERB's options (without VERB: those taken before the verb) "
          "for scripts: --NAME<TAB>ARG per line", NULL },
        G_OPTION_ENTRY_NULL
    };

    if (!vh_cli_parse_verb(cli, verb, entries, &argc, &argv, 0, 1, error))
        return FALSE;
    if (verbs && options) {
        g_set_error(error, VH_CLI_ERROR, VH_CLI_ERROR_INVALID,
                    "help: --verbs and --options do not go together");
        return FALSE;
    }
    if (verbs || options)
        return vh_cli_help_list(cli, verbs, argc == 2 ? argv[1] : NULL, error);
    if (argc == 1) {
        list = vh_cli_verb_list();
        g_print("Usage: virt-hostdev [--sysfs-root=DIR] [--state-dir=DIR] "
                "VERB [OPTIONS] [ARGS]\n\n%s\n", list);
        return TRUE;
    }
    if (!(target = vh_cli_find_verb(argv[1]))) {
        g_set_error(error, VH_CLI_ERROR, VH_CLI_ERROR_INVALID,
                    "help: unknown verb '%s'; run `virt-hostdev help` for "
                    "the list", argv[1]);
        return FALSE;
    }
    /* GOption prints the verb's help and exits 0. */
    help_argv[0] = (char *) target->name;
    return target->run(cli, target, pargc, pargv, error);
}

/* ---- main -------------------------------------------------------------- */

static int
vh_cli_main(int argc, char **argv, const VhCliHooks *hooks, GError **error)
{
    g_autoptr(GOptionContext) ctx = NULL;
    g_autofree char *list = NULL;
    VhCli cli = { 0 };
    VhCliGlobals early = { 0 };
    gboolean version = FALSE;
    GOptionEntry entries[2];
    const VhCliVerb *verb;
    gboolean ok;

    ctx = g_option_context_new("VERB [OPTIONS] [ARGS]");
    g_option_context_set_summary(ctx, "Group-aware PCI device assignment "
                                 "for virtual machines (VFIO).");
    list = vh_cli_verb_list();
    g_option_context_set_description(ctx, list);
    vh_cli_main_entries(&version, entries);
    g_option_context_add_main_entries(ctx, entries, NULL);
    g_option_context_add_group(ctx, vh_cli_globals_group(&early));
    /* Stop at the verb: what follows belongs to it. */
    g_option_context_set_strict_posix(ctx, TRUE);
    /* For a daemon: what does not reach a verb, the client runs itself. */
    if (hooks && hooks->serve) {
        g_option_context_set_help_enabled(ctx, FALSE);
        if (!g_option_context_parse(ctx, &argc, &argv, NULL) || version ||
            argc < 2 || !vh_cli_find_verb(argv[1])) {
            vh_cli_globals_clear(&early);
            return VH_CLI_DECLINED;
        }
    } else if (!g_option_context_parse(ctx, &argc, &argv, error)) {
        return VH_EXIT_USAGE;
    }

    if (version) {
        g_print("virt-hostdev %s\n", VH_VERSION);
        vh_cli_globals_clear(&early);
        return VH_EXIT_OK;
    }
    if (argc < 2) {
        g_set_error(error, VH_CLI_ERROR, VH_CLI_ERROR_INVALID,
                    "no verb given; run `virt-hostdev help` for the list");
        vh_cli_globals_clear(&early);
        return VH_EXIT_USAGE;
    }
    if (!(verb = vh_cli_find_verb(argv[1]))) {
        g_autofree char *esc = g_strescape(argv[1], NULL);
        g_set_error(error, VH_CLI_ERROR, VH_CLI_ERROR_INVALID,
                    "unknown verb '%s'; run `virt-hostdev help` for the list",
                    esc);
        vh_cli_globals_clear(&early);
        return VH_EXIT_USAGE;
    }

    cli.opts.sysfs_root = g_strdup(g_getenv("VIRT_HOSTDEV_SYSFS_ROOT"));
    if (!cli.opts.sysfs_root || !*cli.opts.sysfs_root) {
        g_free(cli.opts.sysfs_root);
        cli.opts.sysfs_root = g_strdup(VH_DEFAULT_SYSFS_ROOT);
    }
    cli.opts.proc_root = g_strdup(g_getenv("VIRT_HOSTDEV_PROC_ROOT"));
    if (!cli.opts.proc_root || !*cli.opts.proc_root) {
        g_free(cli.opts.proc_root);
        cli.opts.proc_root = g_strdup("/proc");
    }
    cli.opts.state_dir = g_strdup(VH_DEFAULT_STATE_DIR);
    vh_cli_globals_merge(&cli.opts, &early);
    if (hooks && hooks->serve &&
        !hooks->serve(hooks->data, verb->name, cli.opts.sysfs_root)) {
        vh_cli_clear(&cli);
        return VH_CLI_DECLINED;
    }

    cli.hooks = hooks;
    ok = verb->run(&cli, verb, argc - 1, argv + 1, error);
    vh_cli_clear(&cli);
    if (ok)
        return VH_EXIT_OK;
    return vh_error_is_invalid_input(*error) ? VH_EXIT_USAGE : VH_EXIT_FAILED;
}

int
vh_cli_run(int argc, char **argv, const VhCliHooks *hooks)
{
    g_autoptr(GError) error = NULL;
    int status;

    status = vh_cli_main(argc, argv, hooks, &error);
    if (status != VH_EXIT_OK && status != VH_CLI_DECLINED) {
        /* One line: messages are built unbroken and escape what they
         * quote; be sure of it (no control byte reaches the terminal). */
        g_autofree char *msg = vh_error_one_line(error ? error->message
                                                       : "failed");
        g_printerr("virt-hostdev: %s\n", msg);
    }
    return status;
}
