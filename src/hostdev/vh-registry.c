/*
 * vh-registry.c: who owns which device, and the journal of the operation
 * under way, kept in the state dir
 *
 * The two files are JSON, written by this file only (beautified, 2-space
 * indent, a final newline):
 *
 * STATE/registry.json
 *   {"version": 1,
 *    "devices": [{"address": "0000:01:01.0",   canonical DDDD:BB:SS.F
 *                 "role": "assigned",          "assigned", "held", "detached"
 *                 "owner": "manual",           1-256 bytes of UTF-8, no
 *                                              control characters
 *                 "driver": "vfio-pci",        DRIVER or null
 *                 "original_driver": "e1000",  DRIVER or null: none
 *                 "group": 4},                 0-2147483647
 *                ...]}                         sorted by address, unique
 *
 * STATE/journal.json
 *   {"version": 1,
 *    "operation": "detach",                    1-64 of [a-z0-9_-]
 *    "owner": "manual",                        as above
 *    "next": 2,                                0 to the number of steps
 *    "steps": [{"address": "0000:01:01.0",     as above
 *               "from": "e1000",               DRIVER or null
 *               "to": "vfio-pci"},             DRIVER or null
 *              ...],                           in order, repeats allowed
 *    "after": {registry object as above}}
 *
 * DRIVER: 1-255 printable ASCII characters, no space and no '/', neither
 * "." nor ".." -- it becomes a sysfs path component when we rebind.
 *
 * Loading is strict because the files outlive us and anyone with access to
 * the state dir may have edited them: every key is required, unknown or
 * repeated keys are refused, and so are files over 1 MiB, anything but a
 * regular file (O_NOFOLLOW: no symlinks), non-UTF-8 text, JSON comments
 * (yajl_tree allows them), a "\u0000" escape (yajl_tree would cut the
 * string there) and nesting deeper than VH_STATE_MAX_DEPTH (yajl_tree_free
 * recurses).  Every refusal is VH_HOSTDEV_ERROR_CORRUPT on one line.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#define G_LOG_DOMAIN "hostdev.registry"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib/gstdio.h>
#include <yajl/yajl_gen.h>
#include <yajl/yajl_tree.h>

#include "vh-error.h"
#include "vh-registry.h"

#define VH_STATE_VERSION 1
#define VH_STATE_FILE_MAX (1024 * 1024)
#define VH_STATE_MAX_DEPTH 16
#define VH_OWNER_MAX 256
#define VH_DRIVER_MAX 255
#define VH_OPERATION_MAX 64
#define VH_LOCK_POLL_US (10 * 1000)

#define VH_REGISTRY_FILE "registry.json"
#define VH_JOURNAL_FILE "journal.json"
#define VH_LOCK_FILE "lock"

#define VH_CORRUPT_ADVICE \
    "run `virt-hostdev recover` or remove it after checking the devices' drivers"
/* For recover itself, when no operation is pending: it has nothing to
 * rebuild the registry from. */
#define VH_CORRUPT_ADVICE_RECOVER \
    "no interrupted operation is pending, so recover cannot rebuild it: " \
    "move it aside after checking which devices are on vfio-pci or " \
    "pci-stub, then give those back with `virt-hostdev nodedev-reattach " \
    "--force`"

struct _VhRegistry {
    GPtrArray *entries;     /* VhRegistryEntry *, sorted by address, unique */
};

struct _VhStateLock {
    int fd;
    char *path;
};

static const char *const vh_role_names[] = {
    [VH_ROLE_ASSIGNED] = "assigned",
    [VH_ROLE_HELD] = "held",
    [VH_ROLE_DETACHED] = "detached",
};

/* ---- names and values ---------------------------------------------------- */

const char *
vh_hostdev_role_string(VhHostdevRole role)
{
    g_return_val_if_fail((guint) role < G_N_ELEMENTS(vh_role_names), NULL);
    return vh_role_names[role];
}

static gboolean
vh_hostdev_role_from_string(const char *str, VhHostdevRole *ret_role)
{
    guint i;

    for (i = 0; i < G_N_ELEMENTS(vh_role_names); i++) {
        if (g_str_equal(str, vh_role_names[i])) {
            *ret_role = (VhHostdevRole) i;
            return TRUE;
        }
    }
    return FALSE;
}

gboolean
vh_registry_owner_is_valid(const char *owner)
{
    const char *p;
    gsize len;

    if (!owner)
        return FALSE;
    len = strlen(owner);
    if (len == 0 || len > VH_OWNER_MAX || !g_utf8_validate(owner, len, NULL))
        return FALSE;
    for (p = owner; *p; p = g_utf8_next_char(p)) {
        if (g_unichar_iscntrl(g_utf8_get_char(p)))
            return FALSE;
    }
    return TRUE;
}

gboolean
vh_registry_driver_is_valid(const char *driver)
{
    const char *p;
    gsize len;

    if (!driver)
        return FALSE;
    len = strlen(driver);
    if (len == 0 || len > VH_DRIVER_MAX ||
        g_str_equal(driver, ".") || g_str_equal(driver, ".."))
        return FALSE;
    for (p = driver; *p; p++) {
        if (*p <= ' ' || *p > '~' || *p == '/')
            return FALSE;
    }
    return TRUE;
}

static gboolean
vh_operation_is_valid(const char *operation)
{
    const char *p;

    if (!operation || !*operation || strlen(operation) > VH_OPERATION_MAX)
        return FALSE;
    for (p = operation; *p; p++) {
        if (!g_ascii_islower(*p) && !g_ascii_isdigit(*p) &&
            *p != '-' && *p != '_')
            return FALSE;
    }
    return TRUE;
}

/* A value from the file as it can be quoted on one line. */
static char *
vh_state_quote(const char *str)
{
    g_autofree char *head = g_strndup(str, 64);
    g_autofree char *esc = g_strescape(head, NULL);

    return g_strdup_printf("\"%s\"%s", esc, strlen(str) > 64 ? "..." : "");
}

/* ---- entries and the registry ------------------------------------------- */

void
vh_registry_entry_free(VhRegistryEntry *entry)
{
    if (!entry)
        return;
    g_free(entry->owner);
    g_free(entry->driver);
    g_free(entry->original_driver);
    g_free(entry);
}

VhRegistryEntry *
vh_registry_entry_copy(const VhRegistryEntry *entry)
{
    VhRegistryEntry *copy;

    g_return_val_if_fail(entry != NULL, NULL);
    copy = g_new0(VhRegistryEntry, 1);
    copy->addr = entry->addr;
    copy->role = entry->role;
    copy->owner = g_strdup(entry->owner);
    copy->driver = g_strdup(entry->driver);
    copy->original_driver = g_strdup(entry->original_driver);
    copy->group = entry->group;
    return copy;
}

VhRegistry *
vh_registry_new(void)
{
    VhRegistry *registry = g_new0(VhRegistry, 1);

    registry->entries = g_ptr_array_new_with_free_func(
        (GDestroyNotify) vh_registry_entry_free);
    return registry;
}

void
vh_registry_free(VhRegistry *registry)
{
    if (!registry)
        return;
    if (registry->entries)
        g_ptr_array_unref(registry->entries);
    g_free(registry);
}

/* Binary search: TRUE and the index of @addr, or FALSE and where it would
 * be inserted. */
static gboolean
vh_registry_find(const VhRegistry *registry, const VhPciAddress *addr,
                 guint *ret_index)
{
    guint lo = 0;
    guint hi = registry->entries->len;

    while (lo < hi) {
        guint mid = lo + (hi - lo) / 2;
        const VhRegistryEntry *e = g_ptr_array_index(registry->entries, mid);
        int cmp = vh_pci_address_compare(addr, &e->addr);

        if (cmp == 0) {
            *ret_index = mid;
            return TRUE;
        }
        if (cmp < 0)
            hi = mid;
        else
            lo = mid + 1;
    }
    *ret_index = lo;
    return FALSE;
}

const VhRegistryEntry *
vh_registry_lookup(const VhRegistry *registry, const VhPciAddress *addr)
{
    guint i;

    g_return_val_if_fail(registry != NULL && addr != NULL, NULL);
    if (!vh_registry_find(registry, addr, &i))
        return NULL;
    return g_ptr_array_index(registry->entries, i);
}

/* Takes @entry, whose address must not be there yet. */
static void
vh_registry_insert(VhRegistry *registry, VhRegistryEntry *entry)
{
    guint i;

    if (vh_registry_find(registry, &entry->addr, &i))
        g_assert_not_reached();
    g_ptr_array_insert(registry->entries, (gint) i, entry);
}

void
vh_registry_set(VhRegistry *registry, const VhRegistryEntry *entry)
{
    guint i;

    g_return_if_fail(registry != NULL && entry != NULL);
    if (vh_registry_find(registry, &entry->addr, &i)) {
        vh_registry_entry_free(g_ptr_array_index(registry->entries, i));
        g_ptr_array_index(registry->entries, i) = vh_registry_entry_copy(entry);
        return;
    }
    g_ptr_array_insert(registry->entries, (gint) i,
                       vh_registry_entry_copy(entry));
}

gboolean
vh_registry_remove(VhRegistry *registry, const VhPciAddress *addr)
{
    guint i;

    g_return_val_if_fail(registry != NULL && addr != NULL, FALSE);
    if (!vh_registry_find(registry, addr, &i))
        return FALSE;
    g_ptr_array_remove_index(registry->entries, i);
    return TRUE;
}

const char *
vh_registry_group_owner(const VhRegistry *registry, guint group)
{
    guint i;

    g_return_val_if_fail(registry != NULL, NULL);
    for (i = 0; i < registry->entries->len; i++) {
        const VhRegistryEntry *e = g_ptr_array_index(registry->entries, i);

        if (e->group == group)
            return e->owner;
    }
    return NULL;
}

GPtrArray *
vh_registry_entries(const VhRegistry *registry)
{
    GPtrArray *out;
    guint i;

    g_return_val_if_fail(registry != NULL, NULL);
    out = g_ptr_array_sized_new(registry->entries->len);
    for (i = 0; i < registry->entries->len; i++)
        g_ptr_array_add(out, g_ptr_array_index(registry->entries, i));
    return out;
}

VhAssignOwners *
vh_registry_assign_owners(const VhRegistry *registry)
{
    VhAssignOwners *owners;
    guint i;

    g_return_val_if_fail(registry != NULL, NULL);
    owners = vh_assign_owners_new();
    for (i = 0; i < registry->entries->len; i++) {
        const VhRegistryEntry *e = g_ptr_array_index(registry->entries, i);

        vh_assign_owners_add(owners, &e->addr, e->owner,
                             vh_hostdev_role_string(e->role), e->driver,
                             e->group);
    }
    return owners;
}

/* ---- the journal -------------------------------------------------------- */

static void
vh_journal_step_free(VhJournalStep *step)
{
    if (!step)
        return;
    g_free(step->from_driver);
    g_free(step->to_driver);
    g_free(step);
}

VhJournal *
vh_journal_new(const char *operation, const char *owner)
{
    VhJournal *journal;

    g_return_val_if_fail(operation != NULL && owner != NULL, NULL);
    journal = g_new0(VhJournal, 1);
    journal->operation = g_strdup(operation);
    journal->owner = g_strdup(owner);
    journal->steps = g_ptr_array_new_with_free_func(
        (GDestroyNotify) vh_journal_step_free);
    journal->after = vh_registry_new();
    return journal;
}

void
vh_journal_free(VhJournal *journal)
{
    if (!journal)
        return;
    g_free(journal->operation);
    g_free(journal->owner);
    if (journal->steps)
        g_ptr_array_unref(journal->steps);
    vh_registry_free(journal->after);
    g_free(journal);
}

void
vh_journal_add_step(VhJournal *journal, const VhPciAddress *addr,
                    const char *from_driver, const char *to_driver)
{
    VhJournalStep *step;

    g_return_if_fail(journal != NULL && addr != NULL);
    step = g_new0(VhJournalStep, 1);
    step->addr = *addr;
    step->from_driver = g_strdup(from_driver);
    step->to_driver = g_strdup(to_driver);
    g_ptr_array_add(journal->steps, step);
}

/* ---- files in the state dir --------------------------------------------- */

/* The CORRUPT error naming @path; the loader adds what to do
 * (vh_state_advise()), which depends on who reads the file. */
static void G_GNUC_PRINTF(3, 4)
vh_state_set_corrupt(GError **error, const char *path, const char *fmt, ...)
{
    g_autofree char *what = NULL;
    va_list ap;

    va_start(ap, fmt);
    what = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    g_set_error(error, VH_HOSTDEV_ERROR, VH_HOSTDEV_ERROR_CORRUPT,
                "state file %s is corrupt: %s", path, what);
}

/* End a CORRUPT error with "; @advice", as g_prefix_error() adds before. */
static void
vh_state_advise(GError *error, const char *advice)
{
    char *old;

    if (!g_error_matches(error, VH_HOSTDEV_ERROR, VH_HOSTDEV_ERROR_CORRUPT))
        return;
    old = error->message;
    error->message = g_strdup_printf("%s; %s", old, advice);
    g_free(old);
}

static gboolean
vh_state_ensure_dir(const char *state_dir, GError **error)
{
    if (g_mkdir_with_parents(state_dir, 0700) < 0) {
        int saved_errno = errno;
        g_set_error(error, VH_HOSTDEV_ERROR, VH_HOSTDEV_ERROR_FAILED,
                    "cannot create the state dir %s: %s", state_dir,
                    g_strerror(saved_errno));
        return FALSE;
    }
    return TRUE;
}

static gboolean
vh_state_sync_dir(const char *state_dir, GError **error)
{
    int fd = open(state_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

    if (fd < 0) {
        int saved_errno = errno;
        g_set_error(error, VH_HOSTDEV_ERROR, VH_HOSTDEV_ERROR_FAILED,
                    "cannot open the state dir %s to sync it: %s", state_dir,
                    g_strerror(saved_errno));
        return FALSE;
    }
    if (fsync(fd) < 0) {
        int saved_errno = errno;
        g_set_error(error, VH_HOSTDEV_ERROR, VH_HOSTDEV_ERROR_FAILED,
                    "cannot sync the state dir %s: %s", state_dir,
                    g_strerror(saved_errno));
        close(fd);
        return FALSE;
    }
    close(fd);
    return TRUE;
}

static gboolean
vh_state_write_all(int fd, const char *path, const char *text, gsize len,
                   GError **error)
{
    while (len > 0) {
        ssize_t n = write(fd, text, len);

        if (n < 0) {
            int saved_errno = errno;
            if (saved_errno == EINTR)
                continue;
            g_set_error(error, VH_HOSTDEV_ERROR, VH_HOSTDEV_ERROR_FAILED,
                        "cannot write %s: %s", path, g_strerror(saved_errno));
            return FALSE;
        }
        text += n;
        len -= (gsize) n;
    }
    return TRUE;
}

/* Fill, sync and close @fd, the temp file @tmp. */
static gboolean
vh_state_fill_temp(int fd, const char *tmp, const char *text, GError **error)
{
    if (fchmod(fd, 0600) < 0) {
        int saved_errno = errno;
        g_set_error(error, VH_HOSTDEV_ERROR, VH_HOSTDEV_ERROR_FAILED,
                    "cannot set the mode of %s: %s", tmp,
                    g_strerror(saved_errno));
        close(fd);
        return FALSE;
    }
    if (!vh_state_write_all(fd, tmp, text, strlen(text), error)) {
        close(fd);
        return FALSE;
    }
    if (fsync(fd) < 0) {
        int saved_errno = errno;
        g_set_error(error, VH_HOSTDEV_ERROR, VH_HOSTDEV_ERROR_FAILED,
                    "cannot sync %s: %s", tmp, g_strerror(saved_errno));
        close(fd);
        return FALSE;
    }
    if (close(fd) < 0) {
        int saved_errno = errno;
        g_set_error(error, VH_HOSTDEV_ERROR, VH_HOSTDEV_ERROR_FAILED,
                    "cannot close %s: %s", tmp, g_strerror(saved_errno));
        return FALSE;
    }
    return TRUE;
}

/*
 * Replace STATE/@name by @text so that a crash leaves the old or the new
 * content, never a mix: a temp file beside it, synced, renamed over it,
 * and the directory synced so that the rename itself is durable.
 */
static gboolean
vh_state_write_file(const char *state_dir, const char *name, const char *text,
                    GError **error)
{
    g_autofree char *path = g_build_filename(state_dir, name, NULL);
    g_autofree char *base = g_strdup_printf(".%s.tmp-XXXXXX", name);
    g_autofree char *tmp = g_build_filename(state_dir, base, NULL);
    int fd;

    if (!vh_state_ensure_dir(state_dir, error))
        return FALSE;
    fd = g_mkstemp_full(tmp, O_RDWR | O_CLOEXEC, 0600);
    if (fd < 0) {
        int saved_errno = errno;
        g_set_error(error, VH_HOSTDEV_ERROR, VH_HOSTDEV_ERROR_FAILED,
                    "cannot create a temp file for %s: %s", path,
                    g_strerror(saved_errno));
        return FALSE;
    }
    if (!vh_state_fill_temp(fd, tmp, text, error)) {
        unlink(tmp);
        return FALSE;
    }
    if (rename(tmp, path) < 0) {
        int saved_errno = errno;
        g_set_error(error, VH_HOSTDEV_ERROR, VH_HOSTDEV_ERROR_FAILED,
                    "cannot rename %s to %s: %s", tmp, path,
                    g_strerror(saved_errno));
        unlink(tmp);
        return FALSE;
    }
    g_debug("%s: written", path);
    return vh_state_sync_dir(state_dir, error);
}

/*
 * Open @path if it is a regular file of at most VH_STATE_FILE_MAX bytes:
 * TRUE and the descriptor, or TRUE and -1 when neither the file nor the
 * state dir exists.
 */
static gboolean
vh_state_open_file(const char *path, int *ret_fd, GError **error)
{
    struct stat st;
    int fd;

    /* O_NONBLOCK: a FIFO planted here must not hang us before fstat. */
    fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY | O_NONBLOCK);
    if (fd < 0) {
        int saved_errno = errno;
        if (saved_errno == ENOENT) {
            *ret_fd = -1;
            return TRUE;
        }
        if (saved_errno == ELOOP) {
            vh_state_set_corrupt(error, path, "it is a symbolic link, not a "
                                 "regular file");
        } else if (saved_errno == ENOTDIR) {
            vh_state_set_corrupt(error, path, "the state dir is not a "
                                 "directory");
        } else {
            g_set_error(error, VH_HOSTDEV_ERROR, VH_HOSTDEV_ERROR_FAILED,
                        "cannot open %s: %s", path, g_strerror(saved_errno));
        }
        return FALSE;
    }
    if (fstat(fd, &st) < 0) {
        int saved_errno = errno;
        g_set_error(error, VH_HOSTDEV_ERROR, VH_HOSTDEV_ERROR_FAILED,
                    "cannot stat %s: %s", path, g_strerror(saved_errno));
        close(fd);
        return FALSE;
    }
    if (!S_ISREG(st.st_mode)) {
        vh_state_set_corrupt(error, path, "it is not a regular file");
        close(fd);
        return FALSE;
    }
    if (st.st_size > VH_STATE_FILE_MAX) {
        vh_state_set_corrupt(error, path, "it is larger than 1 MiB "
                             "(%lld bytes)", (long long) st.st_size);
        close(fd);
        return FALSE;
    }
    *ret_fd = fd;
    return TRUE;
}

/*
 * The content of @path, at most VH_STATE_FILE_MAX bytes, NUL-terminated;
 * *@ret_text NULL when the file (or the state dir) does not exist.
 */
static gboolean
vh_state_read_file(const char *path, char **ret_text, gsize *ret_len,
                   GError **error)
{
    g_autofree char *buf = NULL;
    gsize len = 0;
    int fd = -1;

    if (!vh_state_open_file(path, &fd, error))
        return FALSE;
    if (fd < 0) {
        *ret_text = NULL;
        *ret_len = 0;
        return TRUE;
    }

    /* One byte more than allowed tells a file that grew since fstat. */
    buf = g_malloc(VH_STATE_FILE_MAX + 2);
    while (len < VH_STATE_FILE_MAX + 1) {
        ssize_t n = read(fd, buf + len, VH_STATE_FILE_MAX + 1 - len);

        if (n < 0) {
            int saved_errno = errno;
            if (saved_errno == EINTR)
                continue;
            g_set_error(error, VH_HOSTDEV_ERROR, VH_HOSTDEV_ERROR_FAILED,
                        "cannot read %s: %s", path, g_strerror(saved_errno));
            close(fd);
            return FALSE;
        }
        if (n == 0)
            break;
        len += (gsize) n;
    }
    close(fd);
    if (len > VH_STATE_FILE_MAX) {
        vh_state_set_corrupt(error, path, "it is larger than 1 MiB");
        return FALSE;
    }
    buf[len] = '\0';
    *ret_text = g_steal_pointer(&buf);
    *ret_len = len;
    return TRUE;
}

/* ---- JSON in ------------------------------------------------------------ */

/*
 * What yajl_tree does not refuse but we must: a comment, a "\u0000" escape
 * and deep nesting.  Sets a plain description of the problem.
 */
static gboolean
vh_json_prescan(const char *text, gsize len, GError **error)
{
    gboolean in_string = FALSE;
    gboolean escape = FALSE;
    guint depth = 0;
    gsize i;

    for (i = 0; i < len; i++) {
        char c = text[i];

        if (in_string) {
            if (escape) {
                escape = FALSE;
                if (c == 'u' && len - i > 4 &&
                    strncmp(text + i + 1, "0000", 4) == 0) {
                    g_set_error(error, VH_HOSTDEV_ERROR,
                                VH_HOSTDEV_ERROR_CORRUPT,
                                "a string holds a NUL character (\\u0000)");
                    return FALSE;
                }
            } else if (c == '\\') {
                escape = TRUE;
            } else if (c == '"') {
                in_string = FALSE;
            }
            continue;
        }
        switch (c) {
        case '"':
            in_string = TRUE;
            break;
        case '[':
        case '{':
            if (++depth > VH_STATE_MAX_DEPTH) {
                g_set_error(error, VH_HOSTDEV_ERROR, VH_HOSTDEV_ERROR_CORRUPT,
                            "it nests deeper than %d levels",
                            VH_STATE_MAX_DEPTH);
                return FALSE;
            }
            break;
        case ']':
        case '}':
            if (depth > 0)
                depth--;
            break;
        case '/':
            g_set_error(error, VH_HOSTDEV_ERROR, VH_HOSTDEV_ERROR_CORRUPT,
                        "it holds a comment, which JSON does not allow");
            return FALSE;
        default:
            break;
        }
    }
    return TRUE;
}

/* Parse @text; sets a plain, one-line description of the problem. */
static yajl_val
vh_json_parse(const char *text, gsize len, GError **error)
{
    char errbuf[256] = "";
    yajl_val top;
    char *nl;

    if (!g_utf8_validate_len(text, len, NULL)) {
        g_set_error(error, VH_HOSTDEV_ERROR, VH_HOSTDEV_ERROR_CORRUPT,
                    "it is not UTF-8 text");
        return NULL;
    }
    if (!vh_json_prescan(text, len, error))
        return NULL;
    top = yajl_tree_parse(text, errbuf, sizeof(errbuf));
    if (!top) {
        /* yajl's verbose message quotes the input on further lines. */
        if ((nl = strchr(errbuf, '\n')))
            *nl = '\0';
        g_strstrip(errbuf);
        g_set_error(error, VH_HOSTDEV_ERROR, VH_HOSTDEV_ERROR_CORRUPT,
                    "it is not valid JSON (%s)",
                    *errbuf ? errbuf : "no details");
        return NULL;
    }
    return top;
}

/*
 * Messages name what is wrong by its place in the file: "steps[1].to",
 * "after.devices[0].group"; @where is "" for the top-level object.
 */
static const char *
vh_json_object_name(const char *where)
{
    return *where ? where : "the top level";
}

static char *
vh_json_field_name(const char *where, const char *key)
{
    return *where ? g_strdup_printf("%s.%s", where, key) : g_strdup(key);
}

/* The value of @key in the object @obj, or NULL. */
static yajl_val
vh_json_get(yajl_val obj, const char *key)
{
    gsize i;

    for (i = 0; i < obj->u.object.len; i++) {
        if (g_str_equal(obj->u.object.keys[i], key))
            return obj->u.object.values[i];
    }
    return NULL;
}

/* @v is an object with exactly the keys @keys (NULL-terminated), once each. */
static gboolean
vh_json_check_object(yajl_val v, const char *where, const char *const *keys,
                     GError **error)
{
    gsize i;
    gsize j;

    if (!YAJL_IS_OBJECT(v)) {
        g_set_error(error, VH_HOSTDEV_ERROR, VH_HOSTDEV_ERROR_CORRUPT,
                    "%s is not an object",
                    vh_json_object_name(where));
        return FALSE;
    }
    for (i = 0; i < v->u.object.len; i++) {
        const char *key = v->u.object.keys[i];

        if (!g_strv_contains(keys, key)) {
            g_autofree char *q = vh_state_quote(key);
            g_set_error(error, VH_HOSTDEV_ERROR, VH_HOSTDEV_ERROR_CORRUPT,
                        "%s has an unknown key %s",
                        vh_json_object_name(where), q);
            return FALSE;
        }
        for (j = 0; j < i; j++) {
            if (g_str_equal(v->u.object.keys[j], key)) {
                g_set_error(error, VH_HOSTDEV_ERROR, VH_HOSTDEV_ERROR_CORRUPT,
                            "%s has the key \"%s\" twice",
                            vh_json_object_name(where), key);
                return FALSE;
            }
        }
    }
    for (i = 0; keys[i]; i++) {
        if (!vh_json_get(v, keys[i])) {
            g_set_error(error, VH_HOSTDEV_ERROR, VH_HOSTDEV_ERROR_CORRUPT,
                        "%s has no \"%s\"",
                        vh_json_object_name(where), keys[i]);
            return FALSE;
        }
    }
    return TRUE;
}

/* A string, or NULL for null when @nullable; borrowed from @obj. */
static gboolean
vh_json_get_string(yajl_val obj, const char *where, const char *key,
                   gboolean nullable, const char **ret_str, GError **error)
{
    yajl_val v = vh_json_get(obj, key);

    if (nullable && YAJL_IS_NULL(v)) {
        *ret_str = NULL;
        return TRUE;
    }
    if (!YAJL_IS_STRING(v)) {
        g_autofree char *name = vh_json_field_name(where, key);
        g_set_error(error, VH_HOSTDEV_ERROR, VH_HOSTDEV_ERROR_CORRUPT,
                    "%s is not a string%s", name, nullable ? " or null" : "");
        return FALSE;
    }
    *ret_str = v->u.string;
    return TRUE;
}

static gboolean
vh_json_get_int(yajl_val obj, const char *where, const char *key,
                gint64 min, gint64 max, gint64 *ret_value, GError **error)
{
    yajl_val v = vh_json_get(obj, key);
    g_autofree char *name = NULL;

    if (YAJL_IS_INTEGER(v) && v->u.number.i >= min && v->u.number.i <= max) {
        *ret_value = v->u.number.i;
        return TRUE;
    }
    name = vh_json_field_name(where, key);
    /* An integer that overflows long long is not YAJL_IS_INTEGER: say that
     * it is out of range, not that it is no integer. */
    if (!YAJL_IS_NUMBER(v) || strpbrk(v->u.number.r, ".eE")) {
        g_set_error(error, VH_HOSTDEV_ERROR, VH_HOSTDEV_ERROR_CORRUPT,
                    "%s is not an integer", name);
        return FALSE;
    }
    g_set_error(error, VH_HOSTDEV_ERROR, VH_HOSTDEV_ERROR_CORRUPT,
                "%s %.32s is out of range (%lld-%lld)", name, v->u.number.r,
                (long long) min, (long long) max);
    return FALSE;
}

static gboolean
vh_json_get_version(yajl_val obj, const char *where, GError **error)
{
    gint64 version = 0;

    if (!vh_json_get_int(obj, where, "version", G_MININT64, G_MAXINT64,
                         &version, error))
        return FALSE;
    if (version != VH_STATE_VERSION) {
        g_autofree char *name = vh_json_field_name(where, "version");
        g_set_error(error, VH_HOSTDEV_ERROR, VH_HOSTDEV_ERROR_CORRUPT,
                    "%s %lld is unknown (this virt-hostdev knows version %d "
                    "only)", name, (long long) version, VH_STATE_VERSION);
        return FALSE;
    }
    return TRUE;
}

/* A PCI address in its canonical form, as we write it. */
static gboolean
vh_json_get_address(yajl_val obj, const char *where, VhPciAddress *ret_addr,
                    GError **error)
{
    char buf[VH_PCI_ADDRESS_BUFLEN];
    const char *str = NULL;
    VhPciAddress addr;

    if (!vh_json_get_string(obj, where, "address", FALSE, &str, error))
        return FALSE;
    if (!vh_pci_address_parse(str, &addr, NULL) ||
        !g_str_equal(vh_pci_address_format(&addr, buf), str)) {
        g_autofree char *name = vh_json_field_name(where, "address");
        g_autofree char *q = vh_state_quote(str);
        g_set_error(error, VH_HOSTDEV_ERROR, VH_HOSTDEV_ERROR_CORRUPT,
                    "%s %s is not a PCI address in the form 0000:01:02.0",
                    name, q);
        return FALSE;
    }
    *ret_addr = addr;
    return TRUE;
}

static gboolean
vh_json_get_owner(yajl_val obj, const char *where, const char **ret_owner,
                  GError **error)
{
    const char *owner = NULL;

    if (!vh_json_get_string(obj, where, "owner", FALSE, &owner, error))
        return FALSE;
    if (!vh_registry_owner_is_valid(owner)) {
        g_autofree char *name = vh_json_field_name(where, "owner");
        g_autofree char *q = vh_state_quote(owner);
        g_set_error(error, VH_HOSTDEV_ERROR, VH_HOSTDEV_ERROR_CORRUPT,
                    "%s %s is not 1-%d bytes without control characters",
                    name, q, VH_OWNER_MAX);
        return FALSE;
    }
    *ret_owner = owner;
    return TRUE;
}

/* A driver name or NULL. */
static gboolean
vh_json_get_driver(yajl_val obj, const char *where, const char *key,
                   const char **ret_driver, GError **error)
{
    const char *driver = NULL;

    if (!vh_json_get_string(obj, where, key, TRUE, &driver, error))
        return FALSE;
    if (driver && !vh_registry_driver_is_valid(driver)) {
        g_autofree char *name = vh_json_field_name(where, key);
        g_autofree char *q = vh_state_quote(driver);
        g_set_error(error, VH_HOSTDEV_ERROR, VH_HOSTDEV_ERROR_CORRUPT,
                    "%s %s is not a driver name", name, q);
        return FALSE;
    }
    *ret_driver = driver;
    return TRUE;
}

static gboolean
vh_json_get_role(yajl_val obj, const char *where, VhHostdevRole *ret_role,
                 GError **error)
{
    const char *role = NULL;

    if (!vh_json_get_string(obj, where, "role", FALSE, &role, error))
        return FALSE;
    if (!vh_hostdev_role_from_string(role, ret_role)) {
        g_autofree char *name = vh_json_field_name(where, "role");
        g_autofree char *q = vh_state_quote(role);
        g_set_error(error, VH_HOSTDEV_ERROR, VH_HOSTDEV_ERROR_CORRUPT,
                    "%s %s is not \"assigned\", \"held\" or \"detached\"",
                    name, q);
        return FALSE;
    }
    return TRUE;
}

static VhRegistryEntry *
vh_registry_entry_from_json(yajl_val v, const char *where, GError **error)
{
    static const char *const keys[] = {
        "address", "role", "owner", "driver", "original_driver", "group", NULL
    };
    g_autoptr(VhRegistryEntry) entry = g_new0(VhRegistryEntry, 1);
    const char *owner = NULL;
    const char *driver = NULL;
    const char *original = NULL;
    gint64 group = 0;

    if (!vh_json_check_object(v, where, keys, error) ||
        !vh_json_get_address(v, where, &entry->addr, error) ||
        !vh_json_get_role(v, where, &entry->role, error) ||
        !vh_json_get_owner(v, where, &owner, error) ||
        !vh_json_get_driver(v, where, "driver", &driver, error) ||
        !vh_json_get_driver(v, where, "original_driver", &original, error) ||
        !vh_json_get_int(v, where, "group", 0, G_MAXINT, &group, error))
        return NULL;
    entry->owner = g_strdup(owner);
    entry->driver = g_strdup(driver);
    entry->original_driver = g_strdup(original);
    entry->group = (guint) group;
    return g_steal_pointer(&entry);
}

/* @where: "" for registry.json, "after" in the journal. */
static VhRegistry *
vh_registry_from_json(yajl_val v, const char *where, GError **error)
{
    static const char *const keys[] = { "version", "devices", NULL };
    g_autoptr(VhRegistry) registry = vh_registry_new();
    g_autofree char *list = vh_json_field_name(where, "devices");
    yajl_val devices;
    gsize i;

    if (!vh_json_check_object(v, where, keys, error) ||
        !vh_json_get_version(v, where, error))
        return NULL;
    devices = vh_json_get(v, "devices");
    if (!YAJL_IS_ARRAY(devices)) {
        g_set_error(error, VH_HOSTDEV_ERROR, VH_HOSTDEV_ERROR_CORRUPT,
                    "%s is not an array", list);
        return NULL;
    }
    for (i = 0; i < devices->u.array.len; i++) {
        g_autofree char *item = g_strdup_printf("%s[%zu]", list, i);
        g_autoptr(VhRegistryEntry) entry = NULL;
        char buf[VH_PCI_ADDRESS_BUFLEN];

        entry = vh_registry_entry_from_json(devices->u.array.values[i], item,
                                            error);
        if (!entry)
            return NULL;
        if (vh_registry_lookup(registry, &entry->addr)) {
            g_set_error(error, VH_HOSTDEV_ERROR, VH_HOSTDEV_ERROR_CORRUPT,
                        "%s.address %s appears more than once", item,
                        vh_pci_address_format(&entry->addr, buf));
            return NULL;
        }
        vh_registry_insert(registry, g_steal_pointer(&entry));
    }
    return g_steal_pointer(&registry);
}

static VhJournalStep *
vh_journal_step_from_json(yajl_val v, const char *where, GError **error)
{
    static const char *const keys[] = { "address", "from", "to", NULL };
    VhJournalStep *step;
    VhPciAddress addr;
    const char *from = NULL;
    const char *to = NULL;

    if (!vh_json_check_object(v, where, keys, error) ||
        !vh_json_get_address(v, where, &addr, error) ||
        !vh_json_get_driver(v, where, "from", &from, error) ||
        !vh_json_get_driver(v, where, "to", &to, error))
        return NULL;
    step = g_new0(VhJournalStep, 1);
    step->addr = addr;
    step->from_driver = g_strdup(from);
    step->to_driver = g_strdup(to);
    return step;
}

static gboolean
vh_journal_steps_from_json(yajl_val steps, GPtrArray *out, GError **error)
{
    gsize i;

    if (!YAJL_IS_ARRAY(steps)) {
        g_set_error(error, VH_HOSTDEV_ERROR, VH_HOSTDEV_ERROR_CORRUPT,
                    "steps is not an array");
        return FALSE;
    }
    for (i = 0; i < steps->u.array.len; i++) {
        g_autofree char *item = g_strdup_printf("steps[%zu]", i);
        VhJournalStep *step;

        step = vh_journal_step_from_json(steps->u.array.values[i], item, error);
        if (!step)
            return FALSE;
        g_ptr_array_add(out, step);
    }
    return TRUE;
}

static VhJournal *
vh_journal_from_json(yajl_val v, GError **error)
{
    static const char *const keys[] = {
        "version", "operation", "owner", "next", "steps", "after", NULL
    };
    g_autoptr(VhJournal) journal = NULL;
    const char *operation = NULL;
    const char *owner = NULL;
    gint64 next = 0;

    if (!vh_json_check_object(v, "", keys, error) ||
        !vh_json_get_version(v, "", error) ||
        !vh_json_get_string(v, "", "operation", FALSE, &operation, error) ||
        !vh_json_get_owner(v, "", &owner, error))
        return NULL;
    if (!vh_operation_is_valid(operation)) {
        g_autofree char *q = vh_state_quote(operation);
        g_set_error(error, VH_HOSTDEV_ERROR, VH_HOSTDEV_ERROR_CORRUPT,
                    "operation %s is not 1-%d of [a-z0-9_-]", q,
                    VH_OPERATION_MAX);
        return NULL;
    }
    journal = vh_journal_new(operation, owner);
    if (!vh_journal_steps_from_json(vh_json_get(v, "steps"), journal->steps,
                                    error) ||
        !vh_json_get_int(v, "", "next", 0, journal->steps->len, &next, error))
        return NULL;
    journal->next = (guint) next;

    vh_registry_free(journal->after);
    journal->after = vh_registry_from_json(vh_json_get(v, "after"), "after",
                                           error);
    if (!journal->after)
        return NULL;
    return g_steal_pointer(&journal);
}

/*
 * Read STATE/@name into a tree: TRUE and *@ret_top NULL when absent.  Every
 * problem is the one-line CORRUPT error naming the file.
 */
static gboolean
vh_state_load_json(const char *state_dir, const char *name, char **ret_path,
                   yajl_val *ret_top, GError **error)
{
    g_autofree char *path = g_build_filename(state_dir, name, NULL);
    g_autofree char *text = NULL;
    g_autoptr(GError) local = NULL;
    gsize len = 0;
    yajl_val top;

    if (!vh_state_read_file(path, &text, &len, error))
        return FALSE;
    if (!text) {
        *ret_top = NULL;
        *ret_path = g_steal_pointer(&path);
        return TRUE;
    }
    if (!(top = vh_json_parse(text, len, &local))) {
        vh_state_set_corrupt(error, path, "%s", local->message);
        return FALSE;
    }
    *ret_top = top;
    *ret_path = g_steal_pointer(&path);
    return TRUE;
}

/* STATE/registry.json; a CORRUPT error ends with @advice. */
static VhRegistry *
vh_registry_load_advised(const char *state_dir, const char *advice,
                         GError **error)
{
    g_autofree char *path = NULL;
    g_autoptr(GError) local = NULL;
    g_autoptr(GError) corrupt = NULL;
    VhRegistry *registry;
    yajl_val top = NULL;

    g_return_val_if_fail(state_dir != NULL, NULL);
    if (!vh_state_load_json(state_dir, VH_REGISTRY_FILE, &path, &top,
                            &corrupt)) {
        vh_state_advise(corrupt, advice);
        g_propagate_error(error, g_steal_pointer(&corrupt));
        return NULL;
    }
    if (!top)
        return vh_registry_new();
    registry = vh_registry_from_json(top, "", &local);
    yajl_tree_free(top);
    if (!registry) {
        vh_state_set_corrupt(&corrupt, path, "%s", local->message);
        vh_state_advise(corrupt, advice);
        g_propagate_error(error, g_steal_pointer(&corrupt));
        return NULL;
    }
    g_debug("%s: %u devices", path, registry->entries->len);
    return registry;
}

VhRegistry *
vh_registry_load(const char *state_dir, GError **error)
{
    return vh_registry_load_advised(state_dir, VH_CORRUPT_ADVICE, error);
}

VhRegistry *
vh_registry_load_for_recover(const char *state_dir, GError **error)
{
    return vh_registry_load_advised(state_dir, VH_CORRUPT_ADVICE_RECOVER,
                                    error);
}

gboolean
vh_journal_load(const char *state_dir, VhJournal **ret_journal,
                GError **error)
{
    g_autofree char *path = NULL;
    g_autoptr(GError) local = NULL;
    g_autoptr(GError) corrupt = NULL;
    VhJournal *journal;
    yajl_val top = NULL;

    g_return_val_if_fail(state_dir != NULL && ret_journal != NULL, FALSE);
    if (!vh_state_load_json(state_dir, VH_JOURNAL_FILE, &path, &top,
                            &corrupt)) {
        vh_state_advise(corrupt, VH_CORRUPT_ADVICE);
        g_propagate_error(error, g_steal_pointer(&corrupt));
        return FALSE;
    }
    if (!top) {
        *ret_journal = NULL;
        return TRUE;
    }
    journal = vh_journal_from_json(top, &local);
    yajl_tree_free(top);
    if (!journal) {
        vh_state_set_corrupt(&corrupt, path, "%s", local->message);
        vh_state_advise(corrupt, VH_CORRUPT_ADVICE);
        g_propagate_error(error, g_steal_pointer(&corrupt));
        return FALSE;
    }
    g_debug("%s: %s for %s, step %u of %u", path, journal->operation,
            journal->owner, journal->next, journal->steps->len);
    *ret_journal = journal;
    return TRUE;
}

/* ---- JSON out ----------------------------------------------------------- */

static void
vh_json_out_string(yajl_gen g, const char *s)
{
    g_autofree char *valid = NULL;

    if (!s) {
        yajl_gen_null(g);
        return;
    }
    /* yajl refuses bytes that are not UTF-8 and writes nothing; a driver
     * name read from a hostile tree must not leave a key without value. */
    if (!g_utf8_validate(s, -1, NULL))
        s = valid = g_utf8_make_valid(s, -1);
    yajl_gen_string(g, (const unsigned char *) s, strlen(s));
}

static void
vh_json_out_key_string(yajl_gen g, const char *key, const char *value)
{
    vh_json_out_string(g, key);
    vh_json_out_string(g, value);
}

static void
vh_json_out_key_int(yajl_gen g, const char *key, gint64 value)
{
    vh_json_out_string(g, key);
    yajl_gen_integer(g, value);
}

static void
vh_registry_write_json(yajl_gen g, const VhRegistry *registry)
{
    char buf[VH_PCI_ADDRESS_BUFLEN];
    guint i;

    yajl_gen_map_open(g);
    vh_json_out_key_int(g, "version", VH_STATE_VERSION);
    vh_json_out_string(g, "devices");
    yajl_gen_array_open(g);
    for (i = 0; registry && i < registry->entries->len; i++) {
        const VhRegistryEntry *e = g_ptr_array_index(registry->entries, i);

        yajl_gen_map_open(g);
        vh_json_out_key_string(g, "address",
                               vh_pci_address_format(&e->addr, buf));
        vh_json_out_key_string(g, "role", vh_hostdev_role_string(e->role));
        vh_json_out_key_string(g, "owner", e->owner);
        vh_json_out_key_string(g, "driver", e->driver);
        vh_json_out_key_string(g, "original_driver", e->original_driver);
        vh_json_out_key_int(g, "group", e->group);
        yajl_gen_map_close(g);
    }
    yajl_gen_array_close(g);
    yajl_gen_map_close(g);
}

static yajl_gen
vh_json_out_new(void)
{
    yajl_gen g = yajl_gen_alloc(NULL);

    yajl_gen_config(g, yajl_gen_beautify, 1);
    yajl_gen_config(g, yajl_gen_indent_string, "  ");
    yajl_gen_config(g, yajl_gen_validate_utf8, 1);
    return g;
}

/* The text of @g, newline-terminated; frees @g. */
static char *
vh_json_out_finish(yajl_gen g, const char *path, GError **error)
{
    g_autofree char *text = NULL;
    const unsigned char *buf = NULL;
    size_t len = 0;

    if (yajl_gen_get_buf(g, &buf, &len) != yajl_gen_status_ok) {
        g_set_error(error, VH_HOSTDEV_ERROR, VH_HOSTDEV_ERROR_FAILED,
                    "cannot write %s: the JSON generator failed", path);
        yajl_gen_free(g);
        return NULL;
    }
    /* Beautified yajl output may or may not end with a newline. */
    text = g_strndup((const char *) buf, len);
    yajl_gen_free(g);
    g_strchomp(text);
    return g_strconcat(text, "\n", NULL);
}

/*
 * What we write must load again: check the values loading would refuse
 * (yajl would also drop a non-UTF-8 string silently).  Sets INVALID.
 */
static gboolean
vh_registry_check(const VhRegistry *registry, const char *path,
                  GError **error)
{
    char buf[VH_PCI_ADDRESS_BUFLEN];
    guint i;

    for (i = 0; registry && i < registry->entries->len; i++) {
        const VhRegistryEntry *e = g_ptr_array_index(registry->entries, i);
        const char *bad = NULL;

        if ((guint) e->role >= G_N_ELEMENTS(vh_role_names))
            bad = "role";
        else if (!vh_registry_owner_is_valid(e->owner))
            bad = "owner";
        else if (e->driver && !vh_registry_driver_is_valid(e->driver))
            bad = "driver";
        else if (e->original_driver &&
                 !vh_registry_driver_is_valid(e->original_driver))
            bad = "original driver";
        else if (e->group > G_MAXINT)
            bad = "group";
        if (bad) {
            g_set_error(error, VH_HOSTDEV_ERROR, VH_HOSTDEV_ERROR_INVALID,
                        "refusing to write %s: %s has an invalid %s",
                        path, vh_pci_address_format(&e->addr, buf), bad);
            return FALSE;
        }
    }
    return TRUE;
}

static gboolean
vh_journal_check(const VhJournal *journal, const char *path, GError **error)
{
    char buf[VH_PCI_ADDRESS_BUFLEN];
    guint i;

    if (!vh_operation_is_valid(journal->operation) ||
        !vh_registry_owner_is_valid(journal->owner) ||
        journal->next > journal->steps->len) {
        g_set_error(error, VH_HOSTDEV_ERROR, VH_HOSTDEV_ERROR_INVALID,
                    "refusing to write %s: invalid operation, owner or next "
                    "step", path);
        return FALSE;
    }
    for (i = 0; i < journal->steps->len; i++) {
        const VhJournalStep *s = g_ptr_array_index(journal->steps, i);

        if ((s->from_driver && !vh_registry_driver_is_valid(s->from_driver)) ||
            (s->to_driver && !vh_registry_driver_is_valid(s->to_driver))) {
            g_set_error(error, VH_HOSTDEV_ERROR, VH_HOSTDEV_ERROR_INVALID,
                        "refusing to write %s: step %u (%s) has an invalid "
                        "driver name", path, i,
                        vh_pci_address_format(&s->addr, buf));
            return FALSE;
        }
    }
    return vh_registry_check(journal->after, path, error);
}

gboolean
vh_registry_save(const VhRegistry *registry, const char *state_dir,
                 GError **error)
{
    g_autofree char *path = NULL;
    g_autofree char *text = NULL;
    yajl_gen g;

    g_return_val_if_fail(registry != NULL && state_dir != NULL, FALSE);
    path = g_build_filename(state_dir, VH_REGISTRY_FILE, NULL);
    if (!vh_registry_check(registry, path, error))
        return FALSE;
    g = vh_json_out_new();
    vh_registry_write_json(g, registry);
    if (!(text = vh_json_out_finish(g, path, error)))
        return FALSE;
    return vh_state_write_file(state_dir, VH_REGISTRY_FILE, text, error);
}

gboolean
vh_journal_save(const VhJournal *journal, const char *state_dir,
                GError **error)
{
    g_autofree char *path = NULL;
    g_autofree char *text = NULL;
    char buf[VH_PCI_ADDRESS_BUFLEN];
    yajl_gen g;
    guint i;

    g_return_val_if_fail(journal != NULL && state_dir != NULL, FALSE);
    path = g_build_filename(state_dir, VH_JOURNAL_FILE, NULL);
    if (!vh_journal_check(journal, path, error))
        return FALSE;

    g = vh_json_out_new();
    yajl_gen_map_open(g);
    vh_json_out_key_int(g, "version", VH_STATE_VERSION);
    vh_json_out_key_string(g, "operation", journal->operation);
    vh_json_out_key_string(g, "owner", journal->owner);
    vh_json_out_key_int(g, "next", journal->next);
    vh_json_out_string(g, "steps");
    yajl_gen_array_open(g);
    for (i = 0; i < journal->steps->len; i++) {
        const VhJournalStep *s = g_ptr_array_index(journal->steps, i);

        yajl_gen_map_open(g);
        vh_json_out_key_string(g, "address",
                               vh_pci_address_format(&s->addr, buf));
        vh_json_out_key_string(g, "from", s->from_driver);
        vh_json_out_key_string(g, "to", s->to_driver);
        yajl_gen_map_close(g);
    }
    yajl_gen_array_close(g);
    vh_json_out_string(g, "after");
    vh_registry_write_json(g, journal->after);
    yajl_gen_map_close(g);
    if (!(text = vh_json_out_finish(g, path, error)))
        return FALSE;
    return vh_state_write_file(state_dir, VH_JOURNAL_FILE, text, error);
}

gboolean
vh_journal_remove(const char *state_dir, GError **error)
{
    g_autofree char *path = NULL;

    g_return_val_if_fail(state_dir != NULL, FALSE);
    path = g_build_filename(state_dir, VH_JOURNAL_FILE, NULL);
    if (unlink(path) < 0) {
        int saved_errno = errno;
        if (saved_errno == ENOENT)
            return TRUE;
        g_set_error(error, VH_HOSTDEV_ERROR, VH_HOSTDEV_ERROR_FAILED,
                    "cannot remove %s: %s", path, g_strerror(saved_errno));
        return FALSE;
    }
    g_debug("%s: removed", path);
    return vh_state_sync_dir(state_dir, error);
}

/* ---- the lock ----------------------------------------------------------- */

static int
vh_state_lock_open(const char *path, GError **error)
{
    struct stat st;
    int fd;

    /* O_NONBLOCK: never hang on a FIFO planted here. */
    fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY |
              O_NONBLOCK, 0600);
    if (fd < 0) {
        int saved_errno = errno;
        if (saved_errno == ELOOP) {
            g_set_error(error, VH_HOSTDEV_ERROR, VH_HOSTDEV_ERROR_CORRUPT,
                        "lock file %s is a symbolic link; remove it, "
                        "virt-hostdev creates it", path);
        } else if (saved_errno == EISDIR) {
            g_set_error(error, VH_HOSTDEV_ERROR, VH_HOSTDEV_ERROR_CORRUPT,
                        "lock file %s is a directory; remove it, "
                        "virt-hostdev creates it", path);
        } else {
            g_set_error(error, VH_HOSTDEV_ERROR, VH_HOSTDEV_ERROR_FAILED,
                        "cannot open the lock file %s: %s", path,
                        g_strerror(saved_errno));
        }
        return -1;
    }
    if (fstat(fd, &st) < 0) {
        int saved_errno = errno;
        g_set_error(error, VH_HOSTDEV_ERROR, VH_HOSTDEV_ERROR_FAILED,
                    "cannot stat the lock file %s: %s", path,
                    g_strerror(saved_errno));
        close(fd);
        return -1;
    }
    if (!S_ISREG(st.st_mode)) {
        g_set_error(error, VH_HOSTDEV_ERROR, VH_HOSTDEV_ERROR_CORRUPT,
                    "lock file %s is not a regular file; remove it, "
                    "virt-hostdev creates it", path);
        close(fd);
        return -1;
    }
    return fd;
}

VhStateLock *
vh_state_lock(const char *state_dir, guint timeout_ms, GError **error)
{
    g_autofree char *path = NULL;
    VhStateLock *lock;
    gint64 deadline;
    int fd;

    g_return_val_if_fail(state_dir != NULL, NULL);
    if (!vh_state_ensure_dir(state_dir, error))
        return NULL;
    path = g_build_filename(state_dir, VH_LOCK_FILE, NULL);
    if ((fd = vh_state_lock_open(path, error)) < 0)
        return NULL;

    deadline = g_get_monotonic_time() + (gint64) timeout_ms * 1000;
    while (flock(fd, LOCK_EX | LOCK_NB) < 0) {
        int saved_errno = errno;
        gint64 left;

        if (saved_errno == EINTR)
            continue;
        if (saved_errno != EWOULDBLOCK) {
            g_set_error(error, VH_HOSTDEV_ERROR, VH_HOSTDEV_ERROR_FAILED,
                        "cannot lock %s: %s", path, g_strerror(saved_errno));
            close(fd);
            return NULL;
        }
        left = deadline - g_get_monotonic_time();
        if (left <= 0) {
            g_set_error(error, VH_HOSTDEV_ERROR, VH_HOSTDEV_ERROR_TIMEOUT,
                        "another virt-hostdev holds the lock %s and did not "
                        "release it within %u ms; wait for its operation to "
                        "end and try again", path, timeout_ms);
            close(fd);
            return NULL;
        }
        g_usleep((gulong) MIN(left, VH_LOCK_POLL_US));
    }

    g_debug("%s: locked", path);
    lock = g_new0(VhStateLock, 1);
    lock->fd = fd;
    lock->path = g_steal_pointer(&path);
    return lock;
}

void
vh_state_unlock(VhStateLock *lock)
{
    if (!lock)
        return;
    /* Closing the only descriptor of the open file drops the flock. */
    if (lock->fd >= 0)
        close(lock->fd);
    g_debug("%s: unlocked", lock->path);
    g_free(lock->path);
    g_free(lock);
}
