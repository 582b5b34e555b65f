/*
 * vh-registry.h: who owns which device, and the journal of the operation
 * under way, kept in the state dir (default /run/virt-hostdev)
 *
 * Files, all written atomically (temp file, fsync, rename, fsync of the
 * directory) so that a crash leaves either the old or the new content:
 *   STATE/lock          flock()ed for the length of every operation
 *   STATE/registry.json the devices we moved: role, owner, drivers, group
 *   STATE/journal.json  the intent of the multi-step operation under way;
 *                       present only while one runs or after a crash
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <glib.h>

#include "vh-assign.h"
#include "vh-pci-address.h"

G_BEGIN_DECLS

typedef enum {
    VH_ROLE_ASSIGNED,   /* given to its owner (vfio-pci) */
    VH_ROLE_HELD,       /* a group peer kept off host drivers (pci-stub) */
    VH_ROLE_DETACHED,   /* detached alone, --no-hold */
} VhHostdevRole;

/* "assigned", "held", "detached" */
const char *vh_hostdev_role_string(VhHostdevRole role);

typedef struct {
    VhPciAddress addr;
    VhHostdevRole role;
    char *owner;            /* a domain name or UUID, or "manual" */
    char *driver;           /* what we bound it to: "vfio-pci", "pci-stub" */
    char *original_driver;  /* what it had before we touched it; NULL: none */
    guint group;
} VhRegistryEntry;

void vh_registry_entry_free(VhRegistryEntry *entry);
VhRegistryEntry *vh_registry_entry_copy(const VhRegistryEntry *entry);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VhRegistryEntry, vh_registry_entry_free)

typedef struct _VhRegistry VhRegistry;

VhRegistry *vh_registry_new(void);
void vh_registry_free(VhRegistry *registry);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VhRegistry, vh_registry_free)

/* STATE/registry.json; a missing file (or state dir) is an empty registry.
 * Unreadable or malformed content is VH_HOSTDEV_ERROR_CORRUPT, naming the
 * file and what to do; nothing is changed. */
VhRegistry *vh_registry_load(const char *state_dir, GError **error);
/* vh_registry_load() for `recover` when no interrupted operation is
 * pending: a corrupt registry's error says what to do without recover,
 * which has nothing to rebuild it from. */
VhRegistry *vh_registry_load_for_recover(const char *state_dir,
                                         GError **error);
/* Creates the state dir (0700) when missing. */
gboolean vh_registry_save(const VhRegistry *registry, const char *state_dir,
                          GError **error);

/* The entry of @addr, or NULL; owned by @registry. */
const VhRegistryEntry *vh_registry_lookup(const VhRegistry *registry,
                                          const VhPciAddress *addr);
/* Add or replace (a copy of @entry). */
void vh_registry_set(VhRegistry *registry, const VhRegistryEntry *entry);
/* TRUE when there was an entry. */
gboolean vh_registry_remove(VhRegistry *registry, const VhPciAddress *addr);
/* An owner is 1-256 bytes of UTF-8 without control characters; callers
 * check user input with this, vh_registry_set() assumes it. */
gboolean vh_registry_owner_is_valid(const char *owner);
/* A driver name becomes a sysfs path component: 1-255 printable ASCII
 * characters, no space, no '/', neither "." nor "..". */
gboolean vh_registry_driver_is_valid(const char *driver);
/* The owner of any entry in @group, or NULL: one owner per group. */
const char *vh_registry_group_owner(const VhRegistry *registry, guint group);
/* Entries sorted by address, owned by @registry.
 * Free the array with g_ptr_array_unref(). */
GPtrArray *vh_registry_entries(const VhRegistry *registry);
/* Who owns which device and group, as node_device's verdicts and views
 * take it (they cannot read the registry themselves).
 * Free with vh_assign_owners_free(). */
VhAssignOwners *vh_registry_assign_owners(const VhRegistry *registry);

/*
 * The journal: an operation as numbered steps, each moving one device from
 * one driver to another, and the registry as it will be when all are done.
 * Written before the first step and again before each later one (with
 * @next, the first step not known to be done), so recovery knows every
 * device the operation may have touched.
 */
typedef struct {
    VhPciAddress addr;
    char *from_driver;      /* NULL: none */
    char *to_driver;        /* NULL: leave it without a driver */
} VhJournalStep;

typedef struct {
    char *operation;        /* "detach", "reattach", "prepare", "release" */
    char *owner;
    GPtrArray *steps;       /* VhJournalStep * */
    guint next;
    VhRegistry *after;      /* committed when every step is done */
} VhJournal;

void vh_journal_free(VhJournal *journal);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VhJournal, vh_journal_free)
VhJournal *vh_journal_new(const char *operation, const char *owner);
void vh_journal_add_step(VhJournal *journal, const VhPciAddress *addr,
                         const char *from_driver, const char *to_driver);

gboolean vh_journal_save(const VhJournal *journal, const char *state_dir,
                         GError **error);
/* *ret_journal NULL when there is none. */
gboolean vh_journal_load(const char *state_dir, VhJournal **ret_journal,
                         GError **error);
gboolean vh_journal_remove(const char *state_dir, GError **error);

/* An exclusive flock() on STATE/lock, held until freed; waits for another
 * process's operation to end, at most @timeout_ms, then
 * VH_HOSTDEV_ERROR_TIMEOUT naming the lock file. */
typedef struct _VhStateLock VhStateLock;
VhStateLock *vh_state_lock(const char *state_dir, guint timeout_ms,
                           GError **error);
void vh_state_unlock(VhStateLock *lock);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VhStateLock, vh_state_unlock)

G_END_DECLS
