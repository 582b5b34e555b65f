/*
 * vh-sysfs.c: the one seam through which the project reads and writes sysfs
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#define G_LOG_DOMAIN "util.sysfs"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <linux/netlink.h>
#include <linux/openat2.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "vh-error.h"
#include "vh-sysfs.h"

/* How long a read waits for a FIFO's writer (trees made by hand, tests). */
#define VH_SYSFS_STREAM_WAIT_MS 5000

struct _VhSysfs {
    char *root;
    int root_fd;        /* O_PATH directory */
    /* A subdirectory's path below the root of vh_sysfs_new() ("" there):
     * links read through it resolve against that root. */
    char *base;
    VhSysfsWriteHook write_hook;
    gpointer write_hook_data;
};

void
vh_sysfs_set_write_hook(VhSysfs *sysfs, VhSysfsWriteHook hook, gpointer data)
{
    sysfs->write_hook = hook;
    sysfs->write_hook_data = data;
}

VhSysfs *
vh_sysfs_new(const char *root, GError **error)
{
    g_autoptr(VhSysfs) sysfs = g_new0(VhSysfs, 1);
    int saved_errno;

    sysfs->root_fd = -1;
    sysfs->root = g_strdup(root);
    sysfs->base = g_strdup("");
    if (!root || !*root) {
        g_set_error(error, VH_SYSFS_ERROR, VH_SYSFS_ERROR_INVALID,
                    "the sysfs root is empty; give a directory such as /sys");
        return NULL;
    }
    sysfs->root_fd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (sysfs->root_fd < 0) {
        saved_errno = errno;
        g_set_error(error, VH_SYSFS_ERROR, VH_SYSFS_ERROR_INVALID,
                    "sysfs root '%s' is not a usable directory: %s",
                    root, g_strerror(saved_errno));
        return NULL;
    }
    return g_steal_pointer(&sysfs);
}

static int vh_sysfs_openat(const VhSysfs *sysfs, const char *relpath, int flags);
static gboolean vh_sysfs_check_relpath(const VhSysfs *sysfs,
                                       const char *relpath, GError **error);
static void vh_sysfs_set_errno_error(const VhSysfs *sysfs, const char *relpath,
                                     const char *action, int err,
                                     GError **error);

VhSysfs *
vh_sysfs_open_subdir(const VhSysfs *sysfs, const char *relpath, GError **error)
{
    g_autoptr(VhSysfs) sub = NULL;
    int fd;

    if (!vh_sysfs_check_relpath(sysfs, relpath, error))
        return NULL;
    fd = vh_sysfs_openat(sysfs, relpath, O_PATH | O_DIRECTORY);
    if (fd < 0) {
        vh_sysfs_set_errno_error(sysfs, relpath, "open the directory", -fd,
                                 error);
        return NULL;
    }
    sub = g_new0(VhSysfs, 1);
    sub->root_fd = fd;
    sub->root = vh_sysfs_describe(sysfs, relpath);
    sub->base = *sysfs->base ? g_strconcat(sysfs->base, "/", relpath, NULL)
                             : g_strdup(relpath);
    return g_steal_pointer(&sub);
}

void
vh_sysfs_free(VhSysfs *sysfs)
{
    if (!sysfs)
        return;
    if (sysfs->root_fd >= 0)
        close(sysfs->root_fd);
    g_free(sysfs->root);
    g_free(sysfs->base);
    g_free(sysfs);
}

const char *
vh_sysfs_get_root(const VhSysfs *sysfs)
{
    return sysfs->root;
}

char *
vh_sysfs_pci_device_relpath(const VhPciAddress *addr, const char *attr)
{
    char buf[VH_PCI_ADDRESS_BUFLEN];

    vh_pci_address_format(addr, buf);
    if (attr)
        return g_strdup_printf("bus/pci/devices/%s/%s", buf, attr);
    return g_strdup_printf("bus/pci/devices/%s", buf);
}

gboolean
vh_sysfs_relpath_is_valid(const char *relpath)
{
    const char *p;

    if (!relpath || !*relpath || relpath[0] == '/')
        return FALSE;
    /* Every component: not empty, not "." and not "..". */
    for (p = relpath; ; ) {
        const char *end = strchrnul(p, '/');
        gsize n = (gsize) (end - p);

        if (n == 0 || (n == 1 && p[0] == '.') ||
            (n == 2 && p[0] == '.' && p[1] == '.'))
            return FALSE;
        if (!*end)
            return TRUE;
        p = end + 1;
    }
}

char *
vh_sysfs_describe(const VhSysfs *sysfs, const char *relpath)
{
    if (g_str_has_suffix(sysfs->root, "/"))
        return g_strconcat(sysfs->root, relpath, NULL);
    return g_strconcat(sysfs->root, "/", relpath, NULL);
}

static gboolean
vh_sysfs_check_relpath(const VhSysfs *sysfs, const char *relpath,
                       GError **error)
{
    g_autofree char *esc = NULL;

    if (vh_sysfs_relpath_is_valid(relpath))
        return TRUE;
    esc = g_strescape(relpath ? relpath : "", NULL);
    g_set_error(error, VH_SYSFS_ERROR, VH_SYSFS_ERROR_INVALID,
                "refusing sysfs path '%s' below %s: it must be relative "
                "and must not contain '.' or '..' components",
                esc, sysfs->root);
    return FALSE;
}

/*
 * openat2(RESOLVE_BENEATH) on the root fd; falls back to openat() only on
 * kernels without openat2 (ENOSYS), where the relpath check still holds.
 * Returns the fd or -errno.
 */
static int
vh_sysfs_openat(const VhSysfs *sysfs, const char *relpath, int flags)
{
    struct open_how how = {
        .flags = (guint64) (flags | O_CLOEXEC),
        .resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS,
    };
    int attempts = 0;
    int fd;

    /*
     * EAGAIN: a rename or mount anywhere in the system raced with a ".."
     * in the lookup, and the kernel could not prove it stayed beneath
     * (openat2(2)).  Sysfs links are full of "..", so retry a while.
     */
    do {
        fd = (int) syscall(SYS_openat2, sysfs->root_fd, relpath, &how,
                           sizeof(how));
    } while (fd < 0 && errno == EAGAIN && ++attempts < 64);
    if (fd < 0 && errno == ENOSYS)
        fd = openat(sysfs->root_fd, relpath, flags | O_CLOEXEC);
    return fd < 0 ? -errno : fd;
}

static void
vh_sysfs_set_errno_error(const VhSysfs *sysfs, const char *relpath,
                         const char *action, int err, GError **error)
{
    g_autofree char *path = vh_sysfs_describe(sysfs, relpath);

    if (err == EXDEV || err == ELOOP) {
        g_set_error(error, VH_SYSFS_ERROR, VH_SYSFS_ERROR_FAILED,
                    "cannot %s %s: it resolves outside the sysfs root %s",
                    action, path, sysfs->root);
        return;
    }
    g_set_error(error, VH_SYSFS_ERROR,
                err == ENOENT ? VH_SYSFS_ERROR_NOT_FOUND : VH_SYSFS_ERROR_FAILED,
                "cannot %s %s: %s", action, path, g_strerror(err));
}

gboolean
vh_sysfs_exists(const VhSysfs *sysfs, const char *relpath)
{
    int fd;

    if (!vh_sysfs_relpath_is_valid(relpath))
        return FALSE;
    fd = vh_sysfs_openat(sysfs, relpath, O_PATH);
    if (fd < 0)
        return FALSE;
    close(fd);
    return TRUE;
}

gboolean
vh_sysfs_is_file(const VhSysfs *sysfs, const char *relpath)
{
    struct stat st;
    gboolean ok;
    int fd;

    if (!vh_sysfs_relpath_is_valid(relpath))
        return FALSE;
    fd = vh_sysfs_openat(sysfs, relpath, O_PATH | O_NOFOLLOW);
    if (fd < 0)
        return FALSE;
    ok = fstat(fd, &st) == 0 && S_ISREG(st.st_mode);
    close(fd);
    return ok;
}

/*
 * Open the file @relpath read-only, not following a final symlink.
 * Returns FALSE with error; TRUE with *@ret_fd the descriptor (the caller
 * closes it), or -1 when the file is absent.
 */
static gboolean
vh_sysfs_open_read(const VhSysfs *sysfs, const char *relpath, int *ret_fd,
                   GError **error)
{
    int fd;

    if (!vh_sysfs_check_relpath(sysfs, relpath, error))
        return FALSE;
    /* O_NONBLOCK: sysfs and proc ignore it, but a FIFO planted in a tree
     * opens at once and reads as empty instead of waiting for a writer. */
    fd = vh_sysfs_openat(sysfs, relpath, O_RDONLY | O_NOFOLLOW | O_NONBLOCK);
    if (fd == -ENOENT) {
        *ret_fd = -1;
        return TRUE;
    }
    if (fd < 0) {
        vh_sysfs_set_errno_error(sysfs, relpath, "open", -fd, error);
        return FALSE;
    }
    *ret_fd = fd;
    return TRUE;
}

/*
 * Read at most @max bytes; *@ret_truncated says whether more was there.
 * Returns FALSE with error; TRUE with *ret_bytes NULL when absent.
 */
static gboolean
vh_sysfs_read_limited(const VhSysfs *sysfs, const char *relpath, gsize max,
                      gboolean short_read_ends, GByteArray **ret_bytes,
                      gboolean *ret_truncated, GError **error)
{
    g_autoptr(GByteArray) buf = NULL;
    gsize want = max + 1;
    int fd;

    if (!vh_sysfs_open_read(sysfs, relpath, &fd, error))
        return FALSE;
    if (fd < 0) {
        *ret_bytes = NULL;
        *ret_truncated = FALSE;
        return TRUE;
    }

    /* Read straight into the array: most attributes take one read. */
    buf = g_byte_array_sized_new((guint) MIN(want, 4096));
    while (buf->len < want) {
        gsize have = buf->len;
        gsize ask = MIN((gsize) 4096, want - have);
        ssize_t n;

        g_byte_array_set_size(buf, (guint) (have + ask));
        n = read(fd, buf->data + have, ask);
        if (n < 0) {
            int saved_errno = errno;
            g_byte_array_set_size(buf, (guint) have);
            if (saved_errno == EINTR)
                continue;
            /* Only a FIFO (opened O_NONBLOCK) says "not yet": wait for
             * its writer a bounded time, never forever. */
            if (saved_errno == EAGAIN) {
                struct pollfd pfd = { .fd = fd, .events = POLLIN };
                int ready = poll(&pfd, 1, VH_SYSFS_STREAM_WAIT_MS);

                if (ready > 0 || (ready < 0 && errno == EINTR))
                    continue;
                saved_errno = ready < 0 ? errno : ETIMEDOUT;
            }
            close(fd);
            vh_sysfs_set_errno_error(sysfs, relpath, "read", saved_errno, error);
            return FALSE;
        }
        g_byte_array_set_size(buf, (guint) (have + (gsize) n));
        if (n == 0)
            break;
        /* A short read of a regular or sysfs file is its end: save the
         * read that would return 0 (one syscall per attribute counts). */
        if (short_read_ends && (gsize) n < ask)
            break;
    }
    close(fd);

    *ret_truncated = buf->len > max;
    if (*ret_truncated)
        g_byte_array_set_size(buf, (guint) max);
    *ret_bytes = g_steal_pointer(&buf);
    return TRUE;
}

gboolean
vh_sysfs_read(const VhSysfs *sysfs, const char *relpath, char **ret_value,
              GError **error)
{
    g_autoptr(GByteArray) buf = NULL;
    gboolean truncated = FALSE;
    char *text;
    gsize len;

    if (!vh_sysfs_read_limited(sysfs, relpath, VH_SYSFS_ATTR_MAX, TRUE, &buf,
                               &truncated, error))
        return FALSE;
    if (!buf) {
        *ret_value = NULL;
        return TRUE;
    }
    if (truncated) {
        g_autofree char *path = vh_sysfs_describe(sysfs, relpath);
        g_set_error(error, VH_SYSFS_ERROR, VH_SYSFS_ERROR_TOO_BIG,
                    "%s is larger than %d bytes; not a sysfs attribute",
                    path, VH_SYSFS_ATTR_MAX);
        return FALSE;
    }
    len = buf->len;
    text = (char *) g_byte_array_free(g_steal_pointer(&buf), FALSE);
    text = g_realloc(text, len + 1);
    text[len] = '\0';
    if (strlen(text) != len) {
        g_autofree char *path = vh_sysfs_describe(sysfs, relpath);
        g_free(text);
        g_set_error(error, VH_SYSFS_ERROR, VH_SYSFS_ERROR_FAILED,
                    "%s holds binary data where text was expected", path);
        return FALSE;
    }
    while (len > 0 && text[len - 1] == '\n')
        text[--len] = '\0';
    *ret_value = text;
    return TRUE;
}

gboolean
vh_sysfs_read_bytes(const VhSysfs *sysfs, const char *relpath, gsize max,
                    GBytes **ret_bytes, GError **error)
{
    g_autoptr(GByteArray) buf = NULL;
    gboolean truncated = FALSE;

    if (!vh_sysfs_read_limited(sysfs, relpath, max, TRUE, &buf, &truncated,
                               error))
        return FALSE;
    *ret_bytes = buf ? g_byte_array_free_to_bytes(g_steal_pointer(&buf)) : NULL;
    return TRUE;
}

gboolean
vh_sysfs_read_file(const VhSysfs *sysfs, const char *relpath, gsize max,
                   GBytes **ret_bytes, GError **error)
{
    g_autoptr(GByteArray) buf = NULL;
    gboolean truncated = FALSE;

    if (!vh_sysfs_read_limited(sysfs, relpath, max, FALSE, &buf, &truncated,
                               error))
        return FALSE;
    if (truncated) {
        g_autofree char *path = vh_sysfs_describe(sysfs, relpath);
        g_set_error(error, VH_SYSFS_ERROR, VH_SYSFS_ERROR_TOO_BIG,
                    "%s is larger than %" G_GSIZE_FORMAT " bytes; refusing to "
                    "work from part of it", path, max);
        return FALSE;
    }
    *ret_bytes = buf ? g_byte_array_free_to_bytes(g_steal_pointer(&buf)) : NULL;
    return TRUE;
}

gboolean
vh_sysfs_read_int(const VhSysfs *sysfs, const char *relpath,
                  gint64 *ret_value, gboolean *ret_present, GError **error)
{
    g_autofree char *text = NULL;
    char *end = NULL;
    gint64 value;

    if (!vh_sysfs_read(sysfs, relpath, &text, error))
        return FALSE;
    if (!text) {
        *ret_present = FALSE;
        return TRUE;
    }
    errno = 0;
    value = g_ascii_strtoll(text, &end, 0);
    if (errno != 0 || end == text || *end != '\0') {
        g_autofree char *path = vh_sysfs_describe(sysfs, relpath);
        g_autofree char *esc = g_strescape(text, NULL);
        g_set_error(error, VH_SYSFS_ERROR, VH_SYSFS_ERROR_FAILED,
                    "%s holds '%.40s', not a number", path, esc);
        return FALSE;
    }
    *ret_value = value;
    *ret_present = TRUE;
    return TRUE;
}

/*
 * Split @relpath into an opened parent directory and its last component.
 * Returns the directory fd or -errno; *ret_owned says whether the caller
 * must close it (not when it is the root's own fd).
 */
static int
vh_sysfs_open_parent(const VhSysfs *sysfs, const char *relpath,
                     const char **ret_base, gboolean *ret_owned)
{
    g_autofree char *dir = NULL;
    const char *slash = strrchr(relpath, '/');

    if (!slash) {
        *ret_base = relpath;
        *ret_owned = FALSE;
        return sysfs->root_fd;
    }
    *ret_base = slash + 1;
    *ret_owned = TRUE;
    dir = g_strndup(relpath, (gsize) (slash - relpath));
    return vh_sysfs_openat(sysfs, dir, O_PATH | O_DIRECTORY);
}

/* readlinkat() of @relpath: the raw target, or -errno. */
static int
vh_sysfs_readlink(const VhSysfs *sysfs, const char *relpath,
                  char target[PATH_MAX])
{
    const char *base = NULL;
    gboolean owned = FALSE;
    int saved_errno;
    ssize_t n;
    int dirfd;

    dirfd = vh_sysfs_open_parent(sysfs, relpath, &base, &owned);
    if (dirfd < 0)
        return dirfd == -ENOTDIR ? -ENOENT : dirfd;
    n = readlinkat(dirfd, base, target, PATH_MAX - 1);
    saved_errno = errno;
    if (owned)
        close(dirfd);
    if (n < 0)
        return -saved_errno;
    target[n] = '\0';
    return 0;
}

/* The raw target of the link @relpath; *ret_absent when there is none. */
static gboolean
vh_sysfs_read_target(const VhSysfs *sysfs, const char *relpath,
                     char target[PATH_MAX], gboolean *ret_absent,
                     GError **error)
{
    int rc;

    if (!vh_sysfs_check_relpath(sysfs, relpath, error))
        return FALSE;
    rc = vh_sysfs_readlink(sysfs, relpath, target);
    *ret_absent = rc == -ENOENT;
    if (rc < 0 && rc != -ENOENT) {
        vh_sysfs_set_errno_error(sysfs, relpath, "read the link", -rc, error);
        return FALSE;
    }
    return TRUE;
}

gboolean
vh_sysfs_read_link_name(const VhSysfs *sysfs, const char *relpath,
                        char **ret_name, GError **error)
{
    char target[PATH_MAX];
    gboolean absent = FALSE;
    const char *name;
    gsize n;

    if (!vh_sysfs_read_target(sysfs, relpath, target, &absent, error))
        return FALSE;
    if (absent) {
        *ret_name = NULL;
        return TRUE;
    }
    n = strlen(target);
    while (n > 1 && target[n - 1] == '/')
        target[--n] = '\0';
    name = strrchr(target, '/');
    name = name ? name + 1 : target;
    if (!*name || g_str_equal(name, ".") || g_str_equal(name, "..")) {
        g_autofree char *path = vh_sysfs_describe(sysfs, relpath);
        g_set_error(error, VH_SYSFS_ERROR, VH_SYSFS_ERROR_FAILED,
                    "link %s points to '%s', which names nothing", path, target);
        return FALSE;
    }
    *ret_name = g_strdup(name);
    return TRUE;
}

gboolean
vh_sysfs_read_link(const VhSysfs *sysfs, const char *relpath,
                   char **ret_target, GError **error)
{
    char target[PATH_MAX];
    gboolean absent = FALSE;

    if (!vh_sysfs_read_target(sysfs, relpath, target, &absent, error))
        return FALSE;
    *ret_target = absent ? NULL : g_strdup(target);
    return TRUE;
}

gboolean
vh_sysfs_read_link_entry(const VhSysfs *sysfs, const char *relpath,
                         const char *dir, char **ret_name, GError **error)
{
    g_autofree char *target = NULL;
    gsize n = strlen(dir);
    const char *name;

    if (!vh_sysfs_resolve_link(sysfs, relpath, &target, error))
        return FALSE;
    if (!target) {
        *ret_name = NULL;
        return TRUE;
    }
    name = target + n;
    if (strncmp(target, dir, n) != 0 || name[0] != '/' || !name[1] ||
        strchr(name + 1, '/') || !vh_sysfs_exists(sysfs, target)) {
        g_autofree char *path = vh_sysfs_describe(sysfs, relpath);
        g_set_error(error, VH_SYSFS_ERROR, VH_SYSFS_ERROR_FAILED,
                    "link %s points to %s, not to an entry of %s/%s: sysfs "
                    "is inconsistent", path, target,
                    vh_sysfs_get_root(sysfs), dir);
        return FALSE;
    }
    *ret_name = g_strdup(name + 1);
    return TRUE;
}

gboolean
vh_sysfs_resolve_link(const VhSysfs *sysfs, const char *relpath,
                      char **ret_relpath, GError **error)
{
    g_autoptr(GString) path = NULL;
    char target[PATH_MAX];
    gboolean absent = FALSE;
    const char *slash;
    const char *p;

    if (!vh_sysfs_read_target(sysfs, relpath, target, &absent, error))
        return FALSE;
    if (absent) {
        *ret_relpath = NULL;
        return TRUE;
    }

    /* Start from the link's directory (below the root of vh_sysfs_new()),
     * then apply the target's components; ".." may not climb above it. */
    path = g_string_sized_new(strlen(sysfs->base) + strlen(relpath) +
                              strlen(target) + 2);
    g_string_append(path, sysfs->base);
    slash = strrchr(relpath, '/');
    if (slash) {
        if (path->len)
            g_string_append_c(path, '/');
        g_string_append_len(path, relpath, slash - relpath);
    }
    for (p = target; target[0] != '/' && *p; ) {
        const char *end = strchrnul(p, '/');
        gsize n = (gsize) (end - p);

        if (n == 2 && p[0] == '.' && p[1] == '.') {
            const char *last;

            if (path->len == 0)
                break;
            last = strrchr(path->str, '/');
            g_string_truncate(path, last ? (gsize) (last - path->str) : 0);
        } else if (n > 0 && !(n == 1 && p[0] == '.')) {
            if (path->len)
                g_string_append_c(path, '/');
            g_string_append_len(path, p, (gssize) n);
        }
        p = *end ? end + 1 : end;
    }
    if (target[0] == '/' || *p || path->len == 0) {
        g_autofree char *desc = vh_sysfs_describe(sysfs, relpath);
        g_set_error(error, VH_SYSFS_ERROR, VH_SYSFS_ERROR_FAILED,
                    "link %s points to '%s', outside the sysfs root %s",
                    desc, target, sysfs->root);
        return FALSE;
    }
    *ret_relpath = g_string_free(g_steal_pointer(&path), FALSE);
    return TRUE;
}

/* As many links as Linux follows for one lookup (MAXSYMLINKS). */
#define VH_SYSFS_MAX_LINKS 40

/* Push the components of @path on @todo so that the first is popped first. */
static void
vh_sysfs_push_components(GPtrArray *todo, const char *path)
{
    g_auto(GStrv) parts = g_strsplit(path, "/", -1);
    guint i;

    for (i = g_strv_length(parts); i > 0; i--)
        g_ptr_array_add(todo, g_strdup(parts[i - 1]));
}

static char *
vh_sysfs_join(GPtrArray *parts)
{
    g_ptr_array_add(parts, NULL);
    g_autofree char *joined = g_strjoinv("/", (char **) parts->pdata);
    g_ptr_array_set_size(parts, parts->len - 1);
    return g_steal_pointer(&joined);
}

static gboolean
vh_sysfs_unresolved(const VhSysfs *sysfs, const char *relpath,
                    const char *why, char **ret_relpath)
{
    g_autofree char *path = vh_sysfs_describe(sysfs, relpath);

    g_debug("%s %s; not followed", path, why);
    *ret_relpath = NULL;
    return TRUE;
}

gboolean
vh_sysfs_resolve_path(const VhSysfs *sysfs, const char *relpath,
                      char **ret_relpath, GError **error)
{
    g_autoptr(GPtrArray) todo = g_ptr_array_new_with_free_func(g_free);
    g_autoptr(GPtrArray) done = g_ptr_array_new_with_free_func(g_free);
    guint links = 0;

    if (!vh_sysfs_check_relpath(sysfs, relpath, error))
        return FALSE;
    vh_sysfs_push_components(todo, relpath);
    while (todo->len > 0) {
        g_autofree char *part = g_ptr_array_steal_index(todo, todo->len - 1);
        g_autofree char *sofar = NULL;
        char target[PATH_MAX];
        int rc;

        if (!*part || g_str_equal(part, "."))
            continue;
        if (g_str_equal(part, "..")) {
            if (done->len == 0)
                return vh_sysfs_unresolved(sysfs, relpath,
                                           "leads above the root", ret_relpath);
            g_ptr_array_set_size(done, done->len - 1);
            continue;
        }
        g_ptr_array_add(done, g_steal_pointer(&part));
        sofar = vh_sysfs_join(done);
        rc = vh_sysfs_readlink(sysfs, sofar, target);
        if (rc == -EINVAL)
            continue;               /* a directory or file, not a link */
        if (rc == -ENOENT) {
            *ret_relpath = NULL;
            return TRUE;
        }
        if (rc < 0) {
            vh_sysfs_set_errno_error(sysfs, sofar, "read the link", -rc, error);
            return FALSE;
        }
        if (++links > VH_SYSFS_MAX_LINKS)
            return vh_sysfs_unresolved(sysfs, relpath,
                                       "has too many levels of links",
                                       ret_relpath);
        if (target[0] == '/')
            return vh_sysfs_unresolved(sysfs, relpath,
                                       "goes through an absolute link",
                                       ret_relpath);
        g_ptr_array_set_size(done, done->len - 1);
        vh_sysfs_push_components(todo, target);
    }
    if (done->len == 0)
        return vh_sysfs_unresolved(sysfs, relpath, "is the root itself",
                                   ret_relpath);
    *ret_relpath = vh_sysfs_join(done);
    return TRUE;
}

static int
vh_sysfs_compare_names(gconstpointer a, gconstpointer b)
{
    return strcmp(*(const char * const *) a, *(const char * const *) b);
}

gboolean
vh_sysfs_list(const VhSysfs *sysfs, const char *relpath,
              GPtrArray **ret_names, GError **error)
{
    g_autoptr(GPtrArray) names = NULL;
    struct dirent *ent;
    DIR *dir;
    int fd;

    /* "" is the root itself; "." stays refused as a path component. */
    if (relpath && !*relpath)
        relpath = ".";
    else if (!vh_sysfs_check_relpath(sysfs, relpath, error))
        return FALSE;
    fd = vh_sysfs_openat(sysfs, relpath, O_RDONLY | O_DIRECTORY);
    if (fd == -ENOENT) {
        *ret_names = NULL;
        return TRUE;
    }
    if (fd < 0) {
        vh_sysfs_set_errno_error(sysfs, relpath, "open the directory", -fd,
                                 error);
        return FALSE;
    }
    dir = fdopendir(fd);
    if (!dir) {
        int saved_errno = errno;
        close(fd);
        vh_sysfs_set_errno_error(sysfs, relpath, "list", saved_errno, error);
        return FALSE;
    }
    names = g_ptr_array_new_with_free_func(g_free);
    errno = 0;
    while ((ent = readdir(dir))) {
        if (g_str_equal(ent->d_name, ".") || g_str_equal(ent->d_name, ".."))
            continue;
        g_ptr_array_add(names, g_strdup(ent->d_name));
    }
    if (errno != 0) {
        int saved_errno = errno;
        closedir(dir);
        vh_sysfs_set_errno_error(sysfs, relpath, "list", saved_errno, error);
        return FALSE;
    }
    closedir(dir);
    g_ptr_array_sort(names, vh_sysfs_compare_names);
    *ret_names = g_steal_pointer(&names);
    return TRUE;
}

struct _VhSysfsFile {
    int fd;
    char *path;         /* for messages */
};

gboolean
vh_sysfs_file_open(const VhSysfs *sysfs, const char *relpath,
                   VhSysfsFile **ret_file, GError **error)
{
    VhSysfsFile *file;
    int fd;

    if (!vh_sysfs_open_read(sysfs, relpath, &fd, error))
        return FALSE;
    if (fd < 0) {
        *ret_file = NULL;
        return TRUE;
    }
    file = g_new0(VhSysfsFile, 1);
    file->fd = fd;
    file->path = vh_sysfs_describe(sysfs, relpath);
    *ret_file = file;
    return TRUE;
}

gboolean
vh_sysfs_file_read_at(VhSysfsFile *file, guint8 *buf, gsize len,
                      goffset offset, gsize *ret_read, GError **error)
{
    gsize got = 0;

    while (got < len) {
        ssize_t n = pread(file->fd, buf + got, len - got,
                          (off_t) (offset + (goffset) got));
        if (n < 0) {
            int saved_errno = errno;
            if (saved_errno == EINTR)
                continue;
            g_set_error(error, VH_SYSFS_ERROR, VH_SYSFS_ERROR_FAILED,
                        "cannot read %" G_GSIZE_FORMAT " bytes at offset %"
                        G_GOFFSET_FORMAT " of %s: %s", len, offset,
                        file->path, g_strerror(saved_errno));
            return FALSE;
        }
        got += (gsize) n;
        /* As for attributes: a short read is the end of the file. */
        if (n == 0 || got < len)
            break;
    }
    *ret_read = got;
    return TRUE;
}

void
vh_sysfs_file_free(VhSysfsFile *file)
{
    if (!file)
        return;
    if (file->fd >= 0)
        close(file->fd);
    g_free(file->path);
    g_free(file);
}

gboolean
vh_sysfs_write(const VhSysfs *sysfs, const char *relpath, const char *value,
               GError **error)
{
    gsize len = strlen(value);
    ssize_t n;
    int saved_errno;
    int fd;

    if (!vh_sysfs_check_relpath(sysfs, relpath, error))
        return FALSE;
    /* O_NONBLOCK: a FIFO without a reader fails (ENXIO), never hangs. */
    fd = vh_sysfs_openat(sysfs, relpath,
                         O_WRONLY | O_NOFOLLOW | O_TRUNC | O_NONBLOCK);
    if (fd < 0) {
        vh_sysfs_set_errno_error(sysfs, relpath, "open for writing", -fd, error);
        return FALSE;
    }
    do {
        n = write(fd, value, len);
    } while (n < 0 && errno == EINTR);
    saved_errno = errno;
    if (n >= 0 && (gsize) n != len)
        saved_errno = EIO;
    if (close(fd) < 0 && n >= 0 && (gsize) n == len) {
        /* sysfs reports some store() failures only at close. */
        n = -1;
        saved_errno = errno;
    }
    if (n < 0 || (gsize) n != len) {
        g_autofree char *path = vh_sysfs_describe(sysfs, relpath);
        g_autofree char *esc = g_strescape(value, NULL);
        g_set_error(error, VH_SYSFS_ERROR, VH_SYSFS_ERROR_FAILED,
                    "cannot write '%s' to %s: %s", esc, path,
                    g_strerror(saved_errno));
        return FALSE;
    }
    if (sysfs->write_hook &&
        !sysfs->write_hook(sysfs->write_hook_data, relpath, value, error)) {
        g_autofree char *path = vh_sysfs_describe(sysfs, relpath);
        g_autofree char *esc = g_strescape(value, NULL);
        g_prefix_error(error, "cannot write '%s' to %s: ", esc, path);
        return FALSE;
    }
    return TRUE;
}

/* ---- uevents ------------------------------------------------------------ */

/* The kernel's own multicast group of NETLINK_KOBJECT_UEVENT (udevd's
 * relayed copies go to group 2). */
#define VH_SYSFS_UEVENT_KERNEL_GROUP 1
/* A kernel uevent is at most UEVENT_BUFFER_SIZE (2048) bytes. */
#define VH_SYSFS_UEVENT_MAX 8192
/* Room for a burst (a detach of many devices) before events are lost. */
#define VH_SYSFS_UEVENT_RCVBUF (4 * 1024 * 1024)

struct _VhSysfsEvents {
    int fd;
};

VhSysfsEvents *
vh_sysfs_events_new(const VhSysfs *sysfs, GError **error)
{
    g_autoptr(VhSysfsEvents) events = g_new0(VhSysfsEvents, 1);
    struct sockaddr_nl addr = {
        .nl_family = AF_NETLINK,
        .nl_groups = VH_SYSFS_UEVENT_KERNEL_GROUP,
    };
    int rcvbuf = VH_SYSFS_UEVENT_RCVBUF;
    struct statfs st;
    int saved_errno;

    events->fd = -1;
    if (fstatfs(sysfs->root_fd, &st) < 0) {
        saved_errno = errno;
        g_set_error(error, VH_SYSFS_ERROR, VH_SYSFS_ERROR_FAILED,
                    "cannot tell what '%s' is: %s", sysfs->root,
                    g_strerror(saved_errno));
        return NULL;
    }
    if (st.f_type != SYSFS_MAGIC) {
        g_set_error(error, VH_SYSFS_ERROR, VH_SYSFS_ERROR_INVALID,
                    "'%s' is not the kernel's sysfs: it has no device events",
                    sysfs->root);
        return NULL;
    }
    events->fd = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK,
                        NETLINK_KOBJECT_UEVENT);
    if (events->fd < 0 ||
        bind(events->fd, (struct sockaddr *) &addr, sizeof(addr)) < 0) {
        saved_errno = errno;
        g_set_error(error, VH_SYSFS_ERROR, VH_SYSFS_ERROR_FAILED,
                    "cannot listen to the kernel's device events "
                    "(NETLINK_KOBJECT_UEVENT): %s", g_strerror(saved_errno));
        return NULL;
    }
    /* Beyond rmem_max needs CAP_NET_ADMIN; the default is the fallback. */
    if (setsockopt(events->fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf,
                   sizeof(rcvbuf)) < 0)
        (void) setsockopt(events->fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf,
                          sizeof(rcvbuf));
    return g_steal_pointer(&events);
}

int
vh_sysfs_events_get_fd(const VhSysfsEvents *events)
{
    return events->fd;
}

void
vh_sysfs_events_free(VhSysfsEvents *events)
{
    if (!events)
        return;
    if (events->fd >= 0)
        close(events->fd);
    g_free(events);
}

/* TRUE when the uevent @buf (ACTION@DEVPATH, then KEY=VALUE, each ended by
 * a NUL) names SUBSYSTEM=pci. */
static gboolean
vh_sysfs_uevent_is_pci(const char *buf, gsize len)
{
    gsize pos = strnlen(buf, len) + 1;

    while (pos < len) {
        const char *field = buf + pos;
        gsize flen = strnlen(field, len - pos);

        if (flen == strlen("SUBSYSTEM=pci") &&
            memcmp(field, "SUBSYSTEM=pci", flen) == 0)
            return TRUE;
        pos += flen + 1;
    }
    return FALSE;
}

gboolean
vh_sysfs_events_drain(VhSysfsEvents *events, gboolean *ret_pci, GError **error)
{
    g_autofree char *buf = g_malloc(VH_SYSFS_UEVENT_MAX);
    gboolean pci = FALSE;

    for (;;) {
        struct sockaddr_nl from = { 0 };
        socklen_t fromlen = sizeof(from);
        ssize_t n = recvfrom(events->fd, buf, VH_SYSFS_UEVENT_MAX, MSG_DONTWAIT,
                             (struct sockaddr *) &from, &fromlen);
        int saved_errno = errno;

        if (n < 0 && saved_errno == EINTR)
            continue;
        if (n < 0 && (saved_errno == EAGAIN || saved_errno == EWOULDBLOCK))
            break;
        if (n < 0 && saved_errno == ENOBUFS) {
            /* The queue overflowed: some events are lost. */
            g_debug("device events were lost (ENOBUFS): rescanning");
            pci = TRUE;
            continue;
        }
        if (n < 0) {
            g_set_error(error, VH_SYSFS_ERROR, VH_SYSFS_ERROR_FAILED,
                        "cannot read the kernel's device events: %s",
                        g_strerror(saved_errno));
            return FALSE;
        }
        /* Only the kernel speaks on its group; anything else is noise. */
        if (from.nl_pid != 0 || n == 0)
            continue;
        if (vh_sysfs_uevent_is_pci(buf, (gsize) n))
            pci = TRUE;
    }
    *ret_pci = pci;
    return TRUE;
}
