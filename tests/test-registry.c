/*
 * test-registry.c: the ownership registry, the operation journal and the
 * state-dir lock: round trips, atomic writes, strict loading, locking
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "vh-error.h"
#include "vh-registry.h"

typedef struct {
    char *root;     /* a fresh temp dir */
    char *state;    /* ROOT/state, not created */
} Fixture;

static void
remove_tree(const char *path)
{
    struct stat st;

    if (lstat(path, &st) < 0)
        return;
    if (S_ISDIR(st.st_mode)) {
        g_autoptr(GDir) dir = g_dir_open(path, 0, NULL);
        const char *name;

        while (dir && (name = g_dir_read_name(dir))) {
            g_autofree char *child = g_build_filename(path, name, NULL);
            remove_tree(child);
        }
        g_rmdir(path);
    } else {
        g_unlink(path);
    }
}

static void
fixture_setup(Fixture *fx, gconstpointer data)
{
    g_autoptr(GError) err = NULL;

    fx->root = g_dir_make_tmp("vh-registry-XXXXXX", &err);
    g_assert_no_error(err);
    fx->state = g_build_filename(fx->root, "state", NULL);
}

static void
fixture_teardown(Fixture *fx, gconstpointer data)
{
    remove_tree(fx->root);
    g_free(fx->state);
    g_free(fx->root);
}

static VhPciAddress
addr_of(const char *str)
{
    VhPciAddress addr = { 0 };
    g_autoptr(GError) err = NULL;

    g_assert_true(vh_pci_address_parse(str, &addr, &err));
    g_assert_no_error(err);
    return addr;
}

static void
set_entry(VhRegistry *reg, const char *addr, VhHostdevRole role,
          const char *owner, const char *driver, const char *original,
          guint group)
{
    VhRegistryEntry e = {
        .addr = addr_of(addr),
        .role = role,
        .owner = (char *) owner,
        .driver = (char *) driver,
        .original_driver = (char *) original,
        .group = group,
    };

    vh_registry_set(reg, &e);
}

static char *
state_path(const Fixture *fx, const char *name)
{
    return g_build_filename(fx->state, name, NULL);
}

static void
write_state_file(const Fixture *fx, const char *name, const char *text,
                 gssize len)
{
    g_autofree char *path = state_path(fx, name);
    g_autoptr(GError) err = NULL;

    g_assert_cmpint(g_mkdir_with_parents(fx->state, 0700), ==, 0);
    g_assert_true(g_file_set_contents(path, text, len, &err));
    g_assert_no_error(err);
}

static char *
read_state_file(const Fixture *fx, const char *name, gsize *ret_len)
{
    g_autofree char *path = state_path(fx, name);
    g_autoptr(GError) err = NULL;
    char *text = NULL;

    g_assert_true(g_file_get_contents(path, &text, ret_len, &err));
    g_assert_no_error(err);
    return text;
}

/* The names in the state dir, sorted, joined by ' '. */
static char *
list_state_dir(const Fixture *fx)
{
    g_autoptr(GDir) dir = g_dir_open(fx->state, 0, NULL);
    g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func(g_free);
    const char *name;

    g_assert_nonnull(dir);
    while ((name = g_dir_read_name(dir)))
        g_ptr_array_add(names, g_strdup(name));
    g_ptr_array_sort(names, (GCompareFunc) g_strcmp0);
    g_ptr_array_add(names, NULL);
    return g_strjoinv(" ", (char **) names->pdata);
}

static void
assert_one_line(const char *message)
{
    const char *p;

    for (p = message; *p; p++)
        g_assert_cmpint((guchar) *p, >=, 0x20);
}

static void
assert_corrupt(const GError *err, const char *path, const char *expect)
{
    g_assert_error(err, VH_HOSTDEV_ERROR, VH_HOSTDEV_ERROR_CORRUPT);
    g_test_message("%s", err->message);
    assert_one_line(err->message);
    if (!strstr(err->message, path) || !strstr(err->message, expect) ||
        !strstr(err->message, "run `virt-hostdev recover` or remove it"))
        g_error("message '%s' does not name %s, '%s' and what to do",
                err->message, path, expect);
}

/* ---- the registry ------------------------------------------------------- */

/* Three roles, a null original driver, a domain above 0xffff, group 0. */
static VhRegistry *
sample_registry(void)
{
    VhRegistry *reg = vh_registry_new();

    set_entry(reg, "0000:01:02.0", VH_ROLE_HELD, "vm-1", "pci-stub", "e1000",
              4);
    set_entry(reg, "10000:00:01.0", VH_ROLE_DETACHED, "manual", "vfio-pci",
              NULL, 0);
    set_entry(reg, "0000:01:01.0", VH_ROLE_ASSIGNED, "vm-1", "vfio-pci",
              "e1000", 4);
    return reg;
}

static const char sample_registry_json[] =
    "{\n"
    "  \"version\": 1,\n"
    "  \"devices\": [\n"
    "    {\n"
    "      \"address\": \"0000:01:01.0\",\n"
    "      \"role\": \"assigned\",\n"
    "      \"owner\": \"vm-1\",\n"
    "      \"driver\": \"vfio-pci\",\n"
    "      \"original_driver\": \"e1000\",\n"
    "      \"group\": 4\n"
    "    },\n"
    "    {\n"
    "      \"address\": \"0000:01:02.0\",\n"
    "      \"role\": \"held\",\n"
    "      \"owner\": \"vm-1\",\n"
    "      \"driver\": \"pci-stub\",\n"
    "      \"original_driver\": \"e1000\",\n"
    "      \"group\": 4\n"
    "    },\n"
    "    {\n"
    "      \"address\": \"10000:00:01.0\",\n"
    "      \"role\": \"detached\",\n"
    "      \"owner\": \"manual\",\n"
    "      \"driver\": \"vfio-pci\",\n"
    "      \"original_driver\": null,\n"
    "      \"group\": 0\n"
    "    }\n"
    "  ]\n"
    "}\n";

static void
assert_entry(const VhRegistryEntry *e, const char *addr, VhHostdevRole role,
             const char *owner, const char *driver, const char *original,
             guint group)
{
    char buf[VH_PCI_ADDRESS_BUFLEN];

    g_assert_nonnull(e);
    g_assert_cmpstr(vh_pci_address_format(&e->addr, buf), ==, addr);
    g_assert_cmpint(e->role, ==, role);
    g_assert_cmpstr(e->owner, ==, owner);
    g_assert_cmpstr(e->driver, ==, driver);
    g_assert_cmpstr(e->original_driver, ==, original);
    g_assert_cmpuint(e->group, ==, group);
}

static void
assert_sample_registry(const VhRegistry *reg)
{
    g_autoptr(GPtrArray) entries = vh_registry_entries(reg);

    g_assert_cmpuint(entries->len, ==, 3);
    assert_entry(g_ptr_array_index(entries, 0), "0000:01:01.0",
                 VH_ROLE_ASSIGNED, "vm-1", "vfio-pci", "e1000", 4);
    assert_entry(g_ptr_array_index(entries, 1), "0000:01:02.0",
                 VH_ROLE_HELD, "vm-1", "pci-stub", "e1000", 4);
    assert_entry(g_ptr_array_index(entries, 2), "10000:00:01.0",
                 VH_ROLE_DETACHED, "manual", "vfio-pci", NULL, 0);
}

static void
test_missing(Fixture *fx, gconstpointer data)
{
    g_autoptr(GError) err = NULL;
    g_autoptr(VhRegistry) reg = NULL;
    g_autoptr(VhRegistry) reg2 = NULL;
    g_autoptr(GPtrArray) entries = NULL;
    VhJournal *journal = (VhJournal *) &journal;

    /* No state dir at all. */
    reg = vh_registry_load(fx->state, &err);
    g_assert_no_error(err);
    g_assert_nonnull(reg);
    entries = vh_registry_entries(reg);
    g_assert_cmpuint(entries->len, ==, 0);
    g_assert_true(vh_journal_load(fx->state, &journal, &err));
    g_assert_no_error(err);
    g_assert_null(journal);
    /* Loading creates nothing. */
    g_assert_false(g_file_test(fx->state, G_FILE_TEST_EXISTS));

    /* An empty state dir. */
    g_assert_cmpint(g_mkdir(fx->state, 0700), ==, 0);
    reg2 = vh_registry_load(fx->state, &err);
    g_assert_no_error(err);
    g_assert_nonnull(reg2);
    g_assert_null(vh_registry_group_owner(reg2, 0));
    g_assert_true(vh_journal_remove(fx->state, &err));
    g_assert_no_error(err);
}

static void
test_round_trip(Fixture *fx, gconstpointer data)
{
    g_autoptr(GError) err = NULL;
    g_autoptr(VhRegistry) reg = sample_registry();
    g_autoptr(VhRegistry) loaded = NULL;
    g_autofree char *text = NULL;

    g_assert_true(vh_registry_save(reg, fx->state, &err));
    g_assert_no_error(err);
    text = read_state_file(fx, "registry.json", NULL);
    g_assert_cmpstr(text, ==, sample_registry_json);

    loaded = vh_registry_load(fx->state, &err);
    g_assert_no_error(err);
    assert_sample_registry(loaded);
}

static void
test_save_modes(Fixture *fx, gconstpointer data)
{
    g_autoptr(GError) err = NULL;
    g_autoptr(VhRegistry) reg = sample_registry();
    g_autoptr(VhJournal) journal = vh_journal_new("detach", "vm-1");
    g_autofree char *deep = g_build_filename(fx->state, "a", "b", NULL);
    g_autofree char *reg_path = g_build_filename(deep, "registry.json", NULL);
    g_autofree char *journal_path = g_build_filename(deep, "journal.json",
                                                     NULL);
    struct stat st;
    mode_t old_umask = umask(0);

    g_assert_true(vh_registry_save(reg, deep, &err));
    g_assert_no_error(err);
    g_assert_true(vh_journal_save(journal, deep, &err));
    g_assert_no_error(err);
    umask(old_umask);

    g_assert_cmpint(stat(deep, &st), ==, 0);
    g_assert_true(S_ISDIR(st.st_mode));
    g_assert_cmpint(st.st_mode & 07777, ==, 0700);
    g_assert_cmpint(lstat(reg_path, &st), ==, 0);
    g_assert_true(S_ISREG(st.st_mode));
    g_assert_cmpint(st.st_mode & 07777, ==, 0600);
    g_assert_cmpint(lstat(journal_path, &st), ==, 0);
    g_assert_cmpint(st.st_mode & 07777, ==, 0600);
}

static void
test_atomic(Fixture *fx, gconstpointer data)
{
    g_autoptr(GError) err = NULL;
    g_autoptr(VhRegistry) reg = sample_registry();
    g_autoptr(GString) garbage = g_string_new(NULL);
    g_autofree char *text = NULL;
    g_autofree char *names = NULL;
    g_autofree char *outside = g_build_filename(fx->root, "outside", NULL);
    g_autofree char *link = state_path(fx, "registry.json");
    g_autofree char *outside_text = NULL;
    gsize len = 0;
    struct stat st;
    guint i;

    /* A longer garbage file is replaced whole, no tail left behind. */
    for (i = 0; i < 1000; i++)
        g_string_append(garbage, "garbage garbage garbage\n");
    write_state_file(fx, "registry.json", garbage->str, garbage->len);
    g_assert_true(vh_registry_save(reg, fx->state, &err));
    g_assert_no_error(err);
    text = read_state_file(fx, "registry.json", &len);
    g_assert_cmpuint(len, ==, strlen(sample_registry_json));
    g_assert_cmpstr(text, ==, sample_registry_json);

    /* No temp file remains. */
    names = list_state_dir(fx);
    g_assert_cmpstr(names, ==, "registry.json");

    /* A symlink in place of the file is replaced, its target untouched. */
    g_assert_true(g_file_set_contents(outside, "precious\n", -1, NULL));
    g_assert_cmpint(g_unlink(link), ==, 0);
    g_assert_cmpint(symlink(outside, link), ==, 0);
    g_assert_true(vh_registry_save(reg, fx->state, &err));
    g_assert_no_error(err);
    g_assert_cmpint(lstat(link, &st), ==, 0);
    g_assert_true(S_ISREG(st.st_mode));
    g_assert_true(g_file_get_contents(outside, &outside_text, NULL, NULL));
    g_assert_cmpstr(outside_text, ==, "precious\n");
}

static void
test_save_failure(Fixture *fx, gconstpointer data)
{
    g_autoptr(GError) err = NULL;
    g_autoptr(VhRegistry) reg = sample_registry();
    g_autofree char *dir = state_path(fx, "registry.json");
    g_autofree char *inner = g_build_filename(dir, "x", NULL);
    g_autofree char *names = NULL;

    /* The rename fails over a non-empty directory: an error, and the temp
     * file is gone. */
    g_assert_cmpint(g_mkdir_with_parents(dir, 0700), ==, 0);
    g_assert_true(g_file_set_contents(inner, "x", -1, NULL));
    g_assert_false(vh_registry_save(reg, fx->state, &err));
    g_assert_error(err, VH_HOSTDEV_ERROR, VH_HOSTDEV_ERROR_FAILED);
    g_assert_nonnull(strstr(err->message, dir));
    assert_one_line(err->message);
    names = list_state_dir(fx);
    g_assert_cmpstr(names, ==, "registry.json");
}

static void
test_save_invalid(Fixture *fx, gconstpointer data)
{
    g_autoptr(GError) err = NULL;
    g_autoptr(VhRegistry) reg = vh_registry_new();
    g_autoptr(VhRegistry) reg2 = vh_registry_new();
    g_autofree char *path = state_path(fx, "registry.json");

    /* What save writes must load again, so it refuses what load would. */
    set_entry(reg, "0000:01:01.0", VH_ROLE_ASSIGNED, "bad\nowner", "vfio-pci",
              NULL, 4);
    g_assert_false(vh_registry_save(reg, fx->state, &err));
    g_assert_error(err, VH_HOSTDEV_ERROR, VH_HOSTDEV_ERROR_INVALID);
    g_assert_false(g_file_test(path, G_FILE_TEST_EXISTS));
    g_clear_error(&err);

    set_entry(reg2, "0000:01:01.0", VH_ROLE_ASSIGNED, "vm", "../../x",
              NULL, 4);
    g_assert_false(vh_registry_save(reg2, fx->state, &err));
    g_assert_error(err, VH_HOSTDEV_ERROR, VH_HOSTDEV_ERROR_INVALID);
    g_assert_false(g_file_test(path, G_FILE_TEST_EXISTS));
}

static void
test_sorted(void)
{
    g_autoptr(VhRegistry) reg = vh_registry_new();
    g_autoptr(GPtrArray) entries = NULL;
    const char *const order[] = {
        "0000:00:1f.2", "0000:01:01.0", "0000:01:01.1", "0000:02:00.0",
        "0001:00:00.0",
    };
    char buf[VH_PCI_ADDRESS_BUFLEN];
    guint i;

    set_entry(reg, "0000:02:00.0", VH_ROLE_ASSIGNED, "a", "vfio-pci", NULL, 1);
    set_entry(reg, "0001:00:00.0", VH_ROLE_ASSIGNED, "a", "vfio-pci", NULL, 2);
    set_entry(reg, "0000:01:01.1", VH_ROLE_ASSIGNED, "a", "vfio-pci", NULL, 3);
    set_entry(reg, "0000:00:1f.2", VH_ROLE_ASSIGNED, "a", "vfio-pci", NULL, 4);
    set_entry(reg, "0000:01:01.0", VH_ROLE_ASSIGNED, "a", "vfio-pci", NULL, 3);
    /* Setting an address again replaces its entry. */
    set_entry(reg, "0000:02:00.0", VH_ROLE_HELD, "b", "pci-stub", "e1000", 1);

    entries = vh_registry_entries(reg);
    g_assert_cmpuint(entries->len, ==, G_N_ELEMENTS(order));
    for (i = 0; i < entries->len; i++) {
        const VhRegistryEntry *e = g_ptr_array_index(entries, i);
        g_assert_cmpstr(vh_pci_address_format(&e->addr, buf), ==, order[i]);
    }
    assert_entry(g_ptr_array_index(entries, 3), "0000:02:00.0", VH_ROLE_HELD,
                 "b", "pci-stub", "e1000", 1);
}

static void
test_lookup_remove(void)
{
    g_autoptr(VhRegistry) reg = sample_registry();
    g_autoptr(VhRegistryEntry) copy = NULL;
    g_autoptr(GPtrArray) entries = NULL;
    VhPciAddress a = addr_of("0000:01:01.0");
    VhPciAddress absent = addr_of("0000:07:00.0");
    const VhRegistryEntry *e;

    e = vh_registry_lookup(reg, &a);
    assert_entry(e, "0000:01:01.0", VH_ROLE_ASSIGNED, "vm-1", "vfio-pci",
                 "e1000", 4);
    copy = vh_registry_entry_copy(e);
    assert_entry(copy, "0000:01:01.0", VH_ROLE_ASSIGNED, "vm-1", "vfio-pci",
                 "e1000", 4);
    g_assert_true(copy->owner != e->owner);
    g_assert_null(vh_registry_lookup(reg, &absent));

    g_assert_true(vh_registry_remove(reg, &a));
    g_assert_null(vh_registry_lookup(reg, &a));
    g_assert_false(vh_registry_remove(reg, &a));
    g_assert_false(vh_registry_remove(reg, &absent));
    entries = vh_registry_entries(reg);
    g_assert_cmpuint(entries->len, ==, 2);

    /* The copy outlives the entry it came from. */
    g_assert_cmpstr(copy->owner, ==, "vm-1");
    vh_registry_entry_free(NULL);
    vh_registry_free(NULL);
}

static void
test_group_owner(void)
{
    g_autoptr(VhRegistry) reg = vh_registry_new();
    VhPciAddress a = addr_of("0000:01:01.0");

    set_entry(reg, "0000:01:01.0", VH_ROLE_ASSIGNED, "vm-1", "vfio-pci",
              "e1000", 4);
    set_entry(reg, "0000:01:02.0", VH_ROLE_HELD, "vm-1", "pci-stub", "e1000",
              4);
    set_entry(reg, "0000:00:1f.2", VH_ROLE_DETACHED, "manual", "vfio-pci",
              "ahci", 6);
    g_assert_cmpstr(vh_registry_group_owner(reg, 4), ==, "vm-1");
    g_assert_cmpstr(vh_registry_group_owner(reg, 6), ==, "manual");
    g_assert_null(vh_registry_group_owner(reg, 5));
    g_assert_null(vh_registry_group_owner(reg, 0));

    /* Any entry of the group names its owner: the held peer still does. */
    g_assert_true(vh_registry_remove(reg, &a));
    g_assert_cmpstr(vh_registry_group_owner(reg, 4), ==, "vm-1");
}

static void
test_names(void)
{
    g_autofree char *max = g_strnfill(256, 'x');
    g_autofree char *over = g_strnfill(257, 'x');

    g_assert_cmpstr(vh_hostdev_role_string(VH_ROLE_ASSIGNED), ==, "assigned");
    g_assert_cmpstr(vh_hostdev_role_string(VH_ROLE_HELD), ==, "held");
    g_assert_cmpstr(vh_hostdev_role_string(VH_ROLE_DETACHED), ==, "detached");

    g_assert_true(vh_registry_owner_is_valid("manual"));
    g_assert_true(vh_registry_owner_is_valid("my vm (test) 🙂"));
    g_assert_true(vh_registry_owner_is_valid(
        "4f6b8a2e-1c3d-4e5f-9a8b-7c6d5e4f3a2b"));
    g_assert_true(vh_registry_owner_is_valid(max));
    g_assert_false(vh_registry_owner_is_valid(over));
    g_assert_false(vh_registry_owner_is_valid(""));
    g_assert_false(vh_registry_owner_is_valid(NULL));
    g_assert_false(vh_registry_owner_is_valid("vm\n1"));
    g_assert_false(vh_registry_owner_is_valid("vm\t1"));
    g_assert_false(vh_registry_owner_is_valid("vm\x7f"));
    g_assert_false(vh_registry_owner_is_valid("vm\xc2\x85"));   /* U+0085 */
    g_assert_false(vh_registry_owner_is_valid("vm\xff"));

    g_assert_true(vh_registry_driver_is_valid("vfio-pci"));
    g_assert_true(vh_registry_driver_is_valid("snd_hda_intel"));
    g_assert_false(vh_registry_driver_is_valid(""));
    g_assert_false(vh_registry_driver_is_valid(NULL));
    g_assert_false(vh_registry_driver_is_valid("."));
    g_assert_false(vh_registry_driver_is_valid(".."));
    g_assert_false(vh_registry_driver_is_valid("../e1000"));
    g_assert_false(vh_registry_driver_is_valid("e1000/bind"));
    g_assert_false(vh_registry_driver_is_valid("e 1000"));
    g_assert_false(vh_registry_driver_is_valid("e1000\n"));
}

/* ---- corrupt files ------------------------------------------------------ */

typedef struct {
    const char *name;
    const char *text;
    const char *expect;     /* in the message */
} CorruptCase;

#define DEV_FIELDS(addr, role, owner, driver, orig, group) \
    "\"address\": " addr ", \"role\": " role ", \"owner\": " owner \
    ", \"driver\": " driver ", \"original_driver\": " orig \
    ", \"group\": " group
#define DEV(addr, role, owner, driver, orig, group) \
    "{" DEV_FIELDS(addr, role, owner, driver, orig, group) "}"
#define GOOD_DEV \
    DEV("\"0000:01:01.0\"", "\"assigned\"", "\"vm-1\"", "\"vfio-pci\"", \
        "\"e1000\"", "4")
#define REG(devices) "{\"version\": 1, \"devices\": [" devices "]}"

static const CorruptCase registry_cases[] = {
    { "empty", "", "not valid JSON" },
    { "not-json", "hello", "not valid JSON" },
    { "truncated", "{\"version\": 1, \"devices\": [", "not valid JSON" },
    { "trailing", REG(GOOD_DEV) " {}", "not valid JSON" },
    { "comment", "{\"version\": 1, /* hi */ \"devices\": []}", "comment" },
    { "array", "[]", "the top level is not an object" },
    { "no-version", "{\"devices\": []}", "has no \"version\"" },
    { "version-string", "{\"version\": \"1\", \"devices\": []}",
      "version is not an integer" },
    { "version-double", "{\"version\": 1.0, \"devices\": []}",
      "version is not an integer" },
    { "version-2", "{\"version\": 2, \"devices\": []}",
      "version 2 is unknown" },
    { "version-0", "{\"version\": 0, \"devices\": []}",
      "version 0 is unknown" },
    { "version-twice", "{\"version\": 1, \"version\": 1, \"devices\": []}",
      "\"version\" twice" },
    { "unknown-key", "{\"version\": 1, \"devices\": [], \"extra\": 0}",
      "unknown key \"extra\"" },
    { "no-devices", "{\"version\": 1}", "has no \"devices\"" },
    { "devices-object", "{\"version\": 1, \"devices\": {}}",
      "devices is not an array" },
    { "device-number", REG("1"), "devices[0] is not an object" },
    { "device-missing-group",
      REG("{\"address\": \"0000:01:01.0\", \"role\": \"assigned\", "
          "\"owner\": \"vm-1\", \"driver\": \"vfio-pci\", "
          "\"original_driver\": null}"),
      "devices[0] has no \"group\"" },
    { "device-extra-key",
      REG("{" DEV_FIELDS("\"0000:01:01.0\"", "\"assigned\"", "\"vm-1\"",
                         "\"vfio-pci\"", "null", "4") ", \"color\": 1}"),
      "unknown key \"color\"" },
    { "device-key-twice",
      REG("{" DEV_FIELDS("\"0000:01:01.0\"", "\"assigned\"", "\"vm-1\"",
                         "\"vfio-pci\"", "null", "4") ", \"owner\": \"x\"}"),
      "\"owner\" twice" },
    { "address-number",
      REG(DEV("1", "\"assigned\"", "\"vm\"", "\"vfio-pci\"", "null", "4")),
      "devices[0].address is not a string" },
    { "address-bad-function",
      REG(DEV("\"0000:01:01.8\"", "\"assigned\"", "\"vm\"", "\"vfio-pci\"",
              "null", "4")),
      "devices[0].address \"0000:01:01.8\" is not a PCI address" },
    { "address-short",
      REG(DEV("\"01:01.0\"", "\"assigned\"", "\"vm\"", "\"vfio-pci\"",
              "null", "4")),
      "is not a PCI address" },
    { "address-upper",
      REG(DEV("\"0000:0A:01.0\"", "\"assigned\"", "\"vm\"", "\"vfio-pci\"",
              "null", "4")),
      "is not a PCI address" },
    { "address-nodedev",
      REG(DEV("\"pci_0000_01_01_0\"", "\"assigned\"", "\"vm\"",
              "\"vfio-pci\"", "null", "4")),
      "is not a PCI address" },
    { "address-space",
      REG(DEV("\"0000:01:01.0 \"", "\"assigned\"", "\"vm\"", "\"vfio-pci\"",
              "null", "4")),
      "is not a PCI address" },
    { "address-twice",
      REG(GOOD_DEV ", " DEV("\"0000:01:01.0\"", "\"held\"", "\"vm-1\"",
                            "\"pci-stub\"", "null", "4")),
      "devices[1].address 0000:01:01.0 appears more than once" },
    { "role-unknown",
      REG(DEV("\"0000:01:01.0\"", "\"borrowed\"", "\"vm\"", "\"vfio-pci\"",
              "null", "4")),
      "role \"borrowed\" is not" },
    { "role-number",
      REG(DEV("\"0000:01:01.0\"", "0", "\"vm\"", "\"vfio-pci\"", "null",
              "4")),
      "devices[0].role is not a string" },
    { "owner-empty",
      REG(DEV("\"0000:01:01.0\"", "\"assigned\"", "\"\"", "\"vfio-pci\"",
              "null", "4")),
      "devices[0].owner \"\" is not" },
    { "owner-null",
      REG(DEV("\"0000:01:01.0\"", "\"assigned\"", "null", "\"vfio-pci\"",
              "null", "4")),
      "devices[0].owner is not a string" },
    { "owner-newline",
      REG(DEV("\"0000:01:01.0\"", "\"assigned\"", "\"vm\\nrm -rf\"",
              "\"vfio-pci\"", "null", "4")),
      "devices[0].owner \"vm\\nrm -rf\" is not" },
    { "owner-nul",
      REG(DEV("\"0000:01:01.0\"", "\"assigned\"", "\"vm\\u0000x\"",
              "\"vfio-pci\"", "null", "4")),
      "NUL character" },
    { "owner-long",
      REG(DEV("\"0000:01:01.0\"", "\"assigned\"",
              "\"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
              "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
              "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
              "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
              "x\"",
              "\"vfio-pci\"", "null", "4")),
      "devices[0].owner \"xxxx" },
    { "driver-traversal",
      REG(DEV("\"0000:01:01.0\"", "\"assigned\"", "\"vm\"",
              "\"../../../../tmp/evil\"", "null", "4")),
      "devices[0].driver \"../../../../tmp/evil\" is not a driver name" },
    { "driver-empty",
      REG(DEV("\"0000:01:01.0\"", "\"assigned\"", "\"vm\"", "\"\"", "null",
              "4")),
      "devices[0].driver \"\" is not a driver name" },
    { "driver-number",
      REG(DEV("\"0000:01:01.0\"", "\"assigned\"", "\"vm\"", "7", "null",
              "4")),
      "devices[0].driver is not a string or null" },
    { "original-array",
      REG(DEV("\"0000:01:01.0\"", "\"assigned\"", "\"vm\"", "\"vfio-pci\"",
              "[]", "4")),
      "devices[0].original_driver is not a string or null" },
    { "original-dotdot",
      REG(DEV("\"0000:01:01.0\"", "\"assigned\"", "\"vm\"", "\"vfio-pci\"",
              "\"..\"", "4")),
      "devices[0].original_driver \"..\" is not a driver name" },
    { "group-negative",
      REG(DEV("\"0000:01:01.0\"", "\"assigned\"", "\"vm\"", "\"vfio-pci\"",
              "null", "-1")),
      "devices[0].group -1 is out of range" },
    { "group-big",
      REG(DEV("\"0000:01:01.0\"", "\"assigned\"", "\"vm\"", "\"vfio-pci\"",
              "null", "2147483648")),
      "devices[0].group 2147483648 is out of range" },
    { "group-overflow",
      REG(DEV("\"0000:01:01.0\"", "\"assigned\"", "\"vm\"", "\"vfio-pci\"",
              "null", "123456789012345678901234567890")),
      "devices[0].group 123456789012345678901234567890 is out of range" },
    { "group-string",
      REG(DEV("\"0000:01:01.0\"", "\"assigned\"", "\"vm\"", "\"vfio-pci\"",
              "null", "\"4\"")),
      "devices[0].group is not an integer" },
    { "group-double",
      REG(DEV("\"0000:01:01.0\"", "\"assigned\"", "\"vm\"", "\"vfio-pci\"",
              "null", "4.5")),
      "devices[0].group is not an integer" },
    { "group-exponent",
      REG(DEV("\"0000:01:01.0\"", "\"assigned\"", "\"vm\"", "\"vfio-pci\"",
              "null", "4e0")),
      "devices[0].group is not an integer" },
    { "not-utf8",
      REG(DEV("\"0000:01:01.0\"", "\"assigned\"", "\"vm\xff\xfe\"",
              "\"vfio-pci\"", "null", "4")),
      "not UTF-8" },
    { "nested",
      "{\"version\": 1, \"devices\": [[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]}",
      "nests deeper" },
};

/* The template of the cases above, unbroken, loads: each case tests the
 * one thing it changes. */
static void
test_corrupt_baseline(Fixture *fx, gconstpointer data)
{
    g_autoptr(GError) err = NULL;
    g_autoptr(VhRegistry) reg = NULL;
    VhPciAddress a = addr_of("0000:01:01.0");

    write_state_file(fx, "registry.json",
                     REG(GOOD_DEV ", " DEV("\"0000:01:02.0\"", "\"held\"",
                                           "\"vm-1\"", "null", "null", "0")),
                     -1);
    reg = vh_registry_load(fx->state, &err);
    g_assert_no_error(err);
    assert_entry(vh_registry_lookup(reg, &a), "0000:01:01.0",
                 VH_ROLE_ASSIGNED, "vm-1", "vfio-pci", "e1000", 4);
}

/* Load @name after @setup put something in its place; expect CORRUPT with
 * @expect, and the thing in place untouched. */
static void
check_corrupt_file(Fixture *fx, const char *name, const char *text,
                   gssize len, const char *expect)
{
    g_autoptr(GError) err = NULL;
    g_autofree char *path = state_path(fx, name);
    g_autofree char *before = NULL;
    g_autofree char *after = NULL;
    gsize before_len = 0;
    gsize after_len = 0;

    write_state_file(fx, name, text, len);
    before = read_state_file(fx, name, &before_len);

    if (g_str_equal(name, "registry.json")) {
        g_autoptr(VhRegistry) reg = vh_registry_load(fx->state, &err);
        g_assert_null(reg);
    } else {
        VhJournal *journal = (VhJournal *) &journal;
        g_assert_false(vh_journal_load(fx->state, &journal, &err));
        /* ret_journal untouched on failure */
        g_assert_true(journal == (VhJournal *) &journal);
    }
    assert_corrupt(err, path, expect);

    after = read_state_file(fx, name, &after_len);
    g_assert_cmpmem(before, before_len, after, after_len);
}

static void
test_corrupt_registry(Fixture *fx, gconstpointer data)
{
    guint i;

    for (i = 0; i < G_N_ELEMENTS(registry_cases); i++) {
        g_test_message("case %s", registry_cases[i].name);
        check_corrupt_file(fx, "registry.json", registry_cases[i].text, -1,
                           registry_cases[i].expect);
    }
}

static void
test_corrupt_too_big(Fixture *fx, gconstpointer data)
{
    g_autoptr(GString) big = g_string_new("{\"version\": 1, \"devices\": []}");
    g_autoptr(GString) deep = g_string_new(NULL);

    /* Valid JSON, only too large. */
    while (big->len <= 1024 * 1024)
        g_string_append_c(big, ' ');
    check_corrupt_file(fx, "registry.json", big->str, big->len,
                       "larger than 1 MiB");

    /* Nesting that would overflow the stack of a recursive free. */
    while (deep->len < 1000 * 1000)
        g_string_append(deep, "[[[[[[[[[[");
    check_corrupt_file(fx, "registry.json", deep->str, deep->len,
                       "nests deeper");
}

static void
test_corrupt_not_a_file(Fixture *fx, gconstpointer data)
{
    g_autoptr(GError) err = NULL;
    g_autoptr(VhRegistry) reg = NULL;
    g_autoptr(VhRegistry) reg2 = NULL;
    g_autoptr(VhRegistry) reg3 = NULL;
    g_autofree char *path = state_path(fx, "registry.json");
    g_autofree char *valid = g_build_filename(fx->root, "valid.json", NULL);
    g_autofree char *target = NULL;
    VhJournal *journal = NULL;
    g_autofree char *jpath = state_path(fx, "journal.json");
    struct stat st;

    /* A symlink to a perfectly valid registry is still refused. */
    g_assert_cmpint(g_mkdir(fx->state, 0700), ==, 0);
    g_assert_true(g_file_set_contents(valid, REG(GOOD_DEV), -1, NULL));
    g_assert_cmpint(symlink(valid, path), ==, 0);
    reg = vh_registry_load(fx->state, &err);
    g_assert_null(reg);
    assert_corrupt(err, path, "symbolic link");
    g_clear_error(&err);
    target = g_file_read_link(path, NULL);
    g_assert_cmpstr(target, ==, valid);
    g_assert_cmpint(g_unlink(path), ==, 0);

    /* A FIFO must not hang the load. */
    g_assert_cmpint(mkfifo(path, 0600), ==, 0);
    reg2 = vh_registry_load(fx->state, &err);
    g_assert_null(reg2);
    assert_corrupt(err, path, "not a regular file");
    g_clear_error(&err);
    g_assert_cmpint(g_unlink(path), ==, 0);

    /* A directory. */
    g_assert_cmpint(g_mkdir(path, 0700), ==, 0);
    reg3 = vh_registry_load(fx->state, &err);
    g_assert_null(reg3);
    assert_corrupt(err, path, "not a regular file");
    g_clear_error(&err);
    g_assert_cmpint(lstat(path, &st), ==, 0);
    g_assert_true(S_ISDIR(st.st_mode));

    /* The journal too. */
    g_assert_cmpint(symlink(valid, jpath), ==, 0);
    g_assert_false(vh_journal_load(fx->state, &journal, &err));
    assert_corrupt(err, jpath, "symbolic link");
    g_assert_null(journal);
}

/* ---- the journal -------------------------------------------------------- */

static VhJournal *
sample_journal(void)
{
    VhJournal *journal = vh_journal_new("detach", "vm-1");
    VhPciAddress a = addr_of("0000:01:01.0");
    VhPciAddress b = addr_of("0000:01:02.0");

    vh_journal_add_step(journal, &a, "e1000", NULL);
    vh_journal_add_step(journal, &a, NULL, "vfio-pci");
    vh_journal_add_step(journal, &b, "e1000", "pci-stub");
    journal->next = 2;
    set_entry(journal->after, "0000:01:02.0", VH_ROLE_HELD, "vm-1",
              "pci-stub", "e1000", 4);
    set_entry(journal->after, "0000:01:01.0", VH_ROLE_ASSIGNED, "vm-1",
              "vfio-pci", NULL, 4);
    return journal;
}

static const char sample_journal_json[] =
    "{\n"
    "  \"version\": 1,\n"
    "  \"operation\": \"detach\",\n"
    "  \"owner\": \"vm-1\",\n"
    "  \"next\": 2,\n"
    "  \"steps\": [\n"
    "    {\n"
    "      \"address\": \"0000:01:01.0\",\n"
    "      \"from\": \"e1000\",\n"
    "      \"to\": null\n"
    "    },\n"
    "    {\n"
    "      \"address\": \"0000:01:01.0\",\n"
    "      \"from\": null,\n"
    "      \"to\": \"vfio-pci\"\n"
    "    },\n"
    "    {\n"
    "      \"address\": \"0000:01:02.0\",\n"
    "      \"from\": \"e1000\",\n"
    "      \"to\": \"pci-stub\"\n"
    "    }\n"
    "  ],\n"
    "  \"after\": {\n"
    "    \"version\": 1,\n"
    "    \"devices\": [\n"
    "      {\n"
    "        \"address\": \"0000:01:01.0\",\n"
    "        \"role\": \"assigned\",\n"
    "        \"owner\": \"vm-1\",\n"
    "        \"driver\": \"vfio-pci\",\n"
    "        \"original_driver\": null,\n"
    "        \"group\": 4\n"
    "      },\n"
    "      {\n"
    "        \"address\": \"0000:01:02.0\",\n"
    "        \"role\": \"held\",\n"
    "        \"owner\": \"vm-1\",\n"
    "        \"driver\": \"pci-stub\",\n"
    "        \"original_driver\": \"e1000\",\n"
    "        \"group\": 4\n"
    "      }\n"
    "    ]\n"
    "  }\n"
    "}\n";

static void
assert_step(const VhJournal *journal, guint i, const char *addr,
            const char *from, const char *to)
{
    const VhJournalStep *step = g_ptr_array_index(journal->steps, i);
    char buf[VH_PCI_ADDRESS_BUFLEN];

    g_assert_cmpstr(vh_pci_address_format(&step->addr, buf), ==, addr);
    g_assert_cmpstr(step->from_driver, ==, from);
    g_assert_cmpstr(step->to_driver, ==, to);
}

static void
test_journal_round_trip(Fixture *fx, gconstpointer data)
{
    g_autoptr(GError) err = NULL;
    g_autoptr(VhJournal) journal = sample_journal();
    g_autoptr(VhJournal) loaded = NULL;
    g_autoptr(VhJournal) gone = NULL;
    g_autoptr(GPtrArray) after = NULL;
    g_autofree char *text = NULL;
    g_autofree char *names = NULL;

    g_assert_true(vh_journal_save(journal, fx->state, &err));
    g_assert_no_error(err);
    text = read_state_file(fx, "journal.json", NULL);
    g_assert_cmpstr(text, ==, sample_journal_json);
    names = list_state_dir(fx);
    g_assert_cmpstr(names, ==, "journal.json");

    g_assert_true(vh_journal_load(fx->state, &loaded, &err));
    g_assert_no_error(err);
    g_assert_nonnull(loaded);
    g_assert_cmpstr(loaded->operation, ==, "detach");
    g_assert_cmpstr(loaded->owner, ==, "vm-1");
    g_assert_cmpuint(loaded->next, ==, 2);
    g_assert_cmpuint(loaded->steps->len, ==, 3);
    assert_step(loaded, 0, "0000:01:01.0", "e1000", NULL);
    assert_step(loaded, 1, "0000:01:01.0", NULL, "vfio-pci");
    assert_step(loaded, 2, "0000:01:02.0", "e1000", "pci-stub");
    after = vh_registry_entries(loaded->after);
    g_assert_cmpuint(after->len, ==, 2);
    assert_entry(g_ptr_array_index(after, 0), "0000:01:01.0",
                 VH_ROLE_ASSIGNED, "vm-1", "vfio-pci", NULL, 4);
    assert_entry(g_ptr_array_index(after, 1), "0000:01:02.0", VH_ROLE_HELD,
                 "vm-1", "pci-stub", "e1000", 4);

    /* Saved again with a later step: replaced whole. */
    loaded->next = 3;
    g_assert_true(vh_journal_save(loaded, fx->state, &err));
    g_assert_no_error(err);
    g_clear_pointer(&loaded, vh_journal_free);
    g_assert_true(vh_journal_load(fx->state, &loaded, &err));
    g_assert_cmpuint(loaded->next, ==, 3);

    g_assert_true(vh_journal_remove(fx->state, &err));
    g_assert_no_error(err);
    g_assert_true(vh_journal_load(fx->state, &gone, &err));
    g_assert_no_error(err);
    g_assert_null(gone);
    g_assert_true(vh_journal_remove(fx->state, &err));
    g_assert_no_error(err);
    vh_journal_free(NULL);
}

static void
test_journal_empty(Fixture *fx, gconstpointer data)
{
    g_autoptr(GError) err = NULL;
    g_autoptr(VhJournal) journal = vh_journal_new("reattach", "manual");
    g_autoptr(VhJournal) loaded = NULL;
    g_autoptr(GPtrArray) after = NULL;

    /* A new journal has an empty "after" registry to fill. */
    g_assert_nonnull(journal->after);
    g_assert_cmpuint(journal->steps->len, ==, 0);
    g_assert_true(vh_journal_save(journal, fx->state, &err));
    g_assert_no_error(err);
    g_assert_true(vh_journal_load(fx->state, &loaded, &err));
    g_assert_no_error(err);
    g_assert_cmpstr(loaded->operation, ==, "reattach");
    g_assert_cmpuint(loaded->next, ==, 0);
    g_assert_cmpuint(loaded->steps->len, ==, 0);
    after = vh_registry_entries(loaded->after);
    g_assert_cmpuint(after->len, ==, 0);
}

static void
test_journal_save_invalid(Fixture *fx, gconstpointer data)
{
    g_autoptr(GError) err = NULL;
    g_autoptr(VhJournal) journal = sample_journal();
    g_autofree char *path = state_path(fx, "journal.json");

    journal->next = 4;
    g_assert_false(vh_journal_save(journal, fx->state, &err));
    g_assert_error(err, VH_HOSTDEV_ERROR, VH_HOSTDEV_ERROR_INVALID);
    g_assert_false(g_file_test(path, G_FILE_TEST_EXISTS));
}

#define STEP(addr, from, to) \
    "{\"address\": " addr ", \"from\": " from ", \"to\": " to "}"
#define GOOD_STEP STEP("\"0000:01:01.0\"", "\"e1000\"", "\"vfio-pci\"")
#define JRN_FIELDS(version, op, owner, next, steps, after) \
    "\"version\": " version ", \"operation\": " op ", \"owner\": " owner \
    ", \"next\": " next ", \"steps\": " steps ", \"after\": " after
#define JRN(version, op, owner, next, steps, after) \
    "{" JRN_FIELDS(version, op, owner, next, steps, after) "}"
#define GOOD_AFTER REG(GOOD_DEV)

static const CorruptCase journal_cases[] = {
    { "not-json", "{\"version\": 1,", "not valid JSON" },
    { "array", "[1]", "the top level is not an object" },
    { "version-unknown",
      JRN("3", "\"detach\"", "\"vm\"", "0", "[]", GOOD_AFTER),
      "version 3 is unknown" },
    { "operation-number",
      JRN("1", "5", "\"vm\"", "0", "[]", GOOD_AFTER),
      "operation is not a string" },
    { "operation-bad",
      JRN("1", "\"de tach\"", "\"vm\"", "0", "[]", GOOD_AFTER),
      "operation \"de tach\" is not" },
    { "owner-control",
      JRN("1", "\"detach\"", "\"vm\\u001b[31m\"", "0", "[]", GOOD_AFTER),
      "owner \"vm\\033[31m\" is not" },
    { "next-over",
      JRN("1", "\"detach\"", "\"vm\"", "2", "[" GOOD_STEP "]", GOOD_AFTER),
      "next 2 is out of range (0-1)" },
    { "next-negative",
      JRN("1", "\"detach\"", "\"vm\"", "-1", "[" GOOD_STEP "]", GOOD_AFTER),
      "next -1 is out of range" },
    { "next-null",
      JRN("1", "\"detach\"", "\"vm\"", "null", "[]", GOOD_AFTER),
      "next is not an integer" },
    { "steps-object",
      JRN("1", "\"detach\"", "\"vm\"", "0", "{}", GOOD_AFTER),
      "steps is not an array" },
    { "step-missing-to",
      JRN("1", "\"detach\"", "\"vm\"", "0",
          "[{\"address\": \"0000:01:01.0\", \"from\": null}]", GOOD_AFTER),
      "steps[0] has no \"to\"" },
    { "step-from-number",
      JRN("1", "\"detach\"", "\"vm\"", "0",
          "[" GOOD_STEP ", " STEP("\"0000:01:02.0\"", "1", "null") "]",
          GOOD_AFTER),
      "steps[1].from is not a string or null" },
    { "step-to-slash",
      JRN("1", "\"detach\"", "\"vm\"", "0",
          "[" STEP("\"0000:01:02.0\"", "null", "\"vfio-pci/../x\"") "]",
          GOOD_AFTER),
      "steps[0].to \"vfio-pci/../x\" is not a driver name" },
    { "step-address",
      JRN("1", "\"detach\"", "\"vm\"", "0",
          "[" STEP("\"0000:01:20.0\"", "null", "null") "]", GOOD_AFTER),
      "steps[0].address \"0000:01:20.0\" is not a PCI address" },
    { "no-after",
      "{\"version\": 1, \"operation\": \"detach\", \"owner\": \"vm\", "
      "\"next\": 0, \"steps\": []}",
      "has no \"after\"" },
    { "after-null",
      JRN("1", "\"detach\"", "\"vm\"", "0", "[]", "null"),
      "after is not an object" },
    { "after-version",
      JRN("1", "\"detach\"", "\"vm\"", "0", "[]",
          "{\"version\": 7, \"devices\": []}"),
      "after.version 7 is unknown" },
    { "after-bad-group",
      JRN("1", "\"detach\"", "\"vm\"", "0", "[]",
          REG(DEV("\"0000:01:01.0\"", "\"assigned\"", "\"vm\"",
                  "\"vfio-pci\"", "null", "-4"))),
      "after.devices[0].group -4 is out of range" },
    { "after-twice",
      JRN("1", "\"detach\"", "\"vm\"", "0", "[]",
          REG(GOOD_DEV ", " GOOD_DEV)),
      "after.devices[1].address 0000:01:01.0 appears more than once" },
    { "unknown-key",
      "{" JRN_FIELDS("1", "\"detach\"", "\"vm\"", "0", "[]", GOOD_AFTER)
      ", \"force\": true}",
      "unknown key \"force\"" },
};

static void
test_corrupt_journal(Fixture *fx, gconstpointer data)
{
    g_autoptr(GError) err = NULL;
    g_autoptr(VhJournal) journal = NULL;
    guint i;

    /* The template, unbroken, loads. */
    write_state_file(fx, "journal.json",
                     JRN("1", "\"detach\"", "\"vm\"", "1",
                         "[" GOOD_STEP "]", GOOD_AFTER), -1);
    g_assert_true(vh_journal_load(fx->state, &journal, &err));
    g_assert_no_error(err);
    g_assert_cmpuint(journal->next, ==, 1);

    for (i = 0; i < G_N_ELEMENTS(journal_cases); i++) {
        g_test_message("case %s", journal_cases[i].name);
        check_corrupt_file(fx, "journal.json", journal_cases[i].text, -1,
                           journal_cases[i].expect);
    }
}

/* ---- the lock ----------------------------------------------------------- */

static void
test_lock(Fixture *fx, gconstpointer data)
{
    g_autoptr(GError) err = NULL;
    g_autoptr(VhStateLock) first = NULL;
    g_autoptr(VhStateLock) second = NULL;
    g_autoptr(VhStateLock) third = NULL;
    g_autofree char *path = state_path(fx, "lock");
    struct stat st;
    gint64 start;

    first = vh_state_lock(fx->state, 0, &err);
    g_assert_no_error(err);
    g_assert_nonnull(first);
    g_assert_cmpint(stat(fx->state, &st), ==, 0);
    g_assert_cmpint(st.st_mode & 07777, ==, 0700);
    g_assert_cmpint(lstat(path, &st), ==, 0);
    g_assert_true(S_ISREG(st.st_mode));
    g_assert_cmpint(st.st_mode & 07777, ==, 0600);

    /* flock() locks belong to the open file description: a second open in
     * this process conflicts like another process would. */
    start = g_get_monotonic_time();
    second = vh_state_lock(fx->state, 150, &err);
    g_assert_null(second);
    g_assert_error(err, VH_HOSTDEV_ERROR, VH_HOSTDEV_ERROR_TIMEOUT);
    g_assert_cmpint(g_get_monotonic_time() - start, >=, 150 * 1000);
    g_assert_nonnull(strstr(err->message, path));
    g_assert_nonnull(strstr(err->message, "another virt-hostdev"));
    assert_one_line(err->message);
    g_clear_error(&err);

    g_clear_pointer(&first, vh_state_unlock);
    third = vh_state_lock(fx->state, 0, &err);
    g_assert_no_error(err);
    g_assert_nonnull(third);
    vh_state_unlock(NULL);
}

/* A child process holds the lock until told to release it. */
static void
test_lock_other_process(Fixture *fx, gconstpointer data)
{
    g_autoptr(GError) err = NULL;
    g_autoptr(VhStateLock) mine = NULL;
    int held[2];
    int release[2];
    int status = 0;
    char c = 0;
    pid_t pid;

    g_assert_cmpint(pipe(held), ==, 0);
    g_assert_cmpint(pipe(release), ==, 0);
    pid = fork();
    g_assert_cmpint(pid, >=, 0);
    if (pid == 0) {
        VhStateLock *lock = vh_state_lock(fx->state, 0, NULL);

        if (!lock || write(held[1], "L", 1) != 1 ||
            read(release[0], &c, 1) != 1)
            _exit(1);
        /* Let the parent start waiting before the lock goes. */
        g_usleep(100 * 1000);
        vh_state_unlock(lock);
        _exit(0);
    }
    close(held[1]);
    close(release[0]);
    g_assert_cmpint(read(held[0], &c, 1), ==, 1);

    mine = vh_state_lock(fx->state, 50, &err);
    g_assert_null(mine);
    g_assert_error(err, VH_HOSTDEV_ERROR, VH_HOSTDEV_ERROR_TIMEOUT);
    g_clear_error(&err);

    /* Released while we wait: we get it well before the deadline. */
    g_assert_cmpint(write(release[1], "R", 1), ==, 1);
    mine = vh_state_lock(fx->state, 10 * 1000, &err);
    g_assert_no_error(err);
    g_assert_nonnull(mine);

    g_assert_cmpint(waitpid(pid, &status, 0), ==, pid);
    g_assert_true(WIFEXITED(status));
    g_assert_cmpint(WEXITSTATUS(status), ==, 0);
    close(held[0]);
    close(release[1]);
}

static void
test_lock_symlink(Fixture *fx, gconstpointer data)
{
    g_autoptr(GError) err = NULL;
    g_autoptr(VhStateLock) lock = NULL;
    g_autofree char *path = state_path(fx, "lock");
    g_autofree char *target = g_build_filename(fx->root, "elsewhere", NULL);

    g_assert_cmpint(g_mkdir(fx->state, 0700), ==, 0);
    g_assert_cmpint(symlink(target, path), ==, 0);
    lock = vh_state_lock(fx->state, 0, &err);
    g_assert_null(lock);
    g_assert_error(err, VH_HOSTDEV_ERROR, VH_HOSTDEV_ERROR_CORRUPT);
    g_assert_nonnull(strstr(err->message, path));
    /* Not followed: nothing created at the target. */
    g_assert_false(g_file_test(target, G_FILE_TEST_EXISTS));
}

#define ADD(path, fn) \
    g_test_add(path, Fixture, NULL, fixture_setup, fn, fixture_teardown)

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_summary("The registry, the journal and the lock of the state dir: "
                   "atomic writes, strict loads, one operation at a time");
    ADD("/hostdev/registry/missing", test_missing);
    ADD("/hostdev/registry/round-trip", test_round_trip);
    ADD("/hostdev/registry/save-modes", test_save_modes);
    ADD("/hostdev/registry/atomic", test_atomic);
    ADD("/hostdev/registry/save-failure", test_save_failure);
    ADD("/hostdev/registry/save-invalid", test_save_invalid);
    g_test_add_func("/hostdev/registry/sorted", test_sorted);
    g_test_add_func("/hostdev/registry/lookup-remove", test_lookup_remove);
    g_test_add_func("/hostdev/registry/group-owner", test_group_owner);
    g_test_add_func("/hostdev/registry/names", test_names);
    ADD("/hostdev/registry/corrupt/baseline", test_corrupt_baseline);
    ADD("/hostdev/registry/corrupt/registry", test_corrupt_registry);
    ADD("/hostdev/registry/corrupt/too-big", test_corrupt_too_big);
    ADD("/hostdev/registry/corrupt/not-a-file", test_corrupt_not_a_file);
    ADD("/hostdev/registry/corrupt/journal", test_corrupt_journal);
    ADD("/hostdev/registry/journal/round-trip", test_journal_round_trip);
    ADD("/hostdev/registry/journal/empty", test_journal_empty);
    ADD("/hostdev/registry/journal/save-invalid", test_journal_save_invalid);
    ADD("/hostdev/registry/lock/held", test_lock);
    ADD("/hostdev/registry/lock/other-process", test_lock_other_process);
    ADD("/hostdev/registry/lock/symlink", test_lock_symlink);
    return g_test_run();
}
