/*
 * vh-doctor.h: a read-only preflight for VFIO device assignment
 *
 * `virt-hostdev doctor` asks, before a guest starts, what QEMU or libvirt
 * would otherwise find out late and cryptically: is there an IOMMU with
 * interrupt remapping, are the VFIO drivers there, and, for a domain, does
 * every <hostdev> exist, which group peers would be held, what the host
 * uses, how each device can be reset, whether the locked-memory limit
 * covers libvirt's rule, whether guest RAM fits the IOVA space the IOMMU
 * offers, whether a <rom file> is readable and who owns the groups.
 *
 * Every check has a stable id, a status, the evidence (what was read, from
 * where) and, when not ok, one line on how to fix it.  Nothing is written:
 * the registry is read without the lock, the prepare plan and the reset
 * are worked out with vh_hostdev_prepare_plan() and
 * vh_hostdev_reset_probe().  docs/doctor.rst lists the ids.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <glib.h>

#include "vh-domain.h"
#include "vh-sysfs.h"

G_BEGIN_DECLS

typedef enum {
    VH_DOCTOR_OK,
    VH_DOCTOR_WARN,             /* works, with a cost or a risk */
    VH_DOCTOR_FAIL,             /* the guest cannot start (or VFIO not work) */
    VH_DOCTOR_SKIP,             /* not applicable: what it needs is missing */
} VhDoctorStatus;

/* "ok", "warn", "fail", "skip" */
const char *vh_doctor_status_string(VhDoctorStatus status);

typedef struct {
    char *id;                   /* "host/iommu", "hostdev/0000:00:03.0/reset" */
    VhDoctorStatus status;
    char *summary;              /* one line */
    GPtrArray *evidence;        /* char *: what was read, from where */
    char *fix;                  /* one line; NULL when ok or skip */
} VhDoctorCheck;

typedef struct {
    GPtrArray *checks;          /* VhDoctorCheck *, in the order run */
} VhDoctorReport;

void vh_doctor_report_free(VhDoctorReport *report);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VhDoctorReport, vh_doctor_report_free)

/* What the checks read; every root is a seam tests fake. */
typedef struct {
    const VhSysfs *sysfs;       /* /sys */
    const VhSysfs *proc;        /* /proc: cmdline, interrupts, mounts */
    const VhSysfs *dev;         /* /dev: vfio/vfio */
    /* /lib/modules/$(uname -r): modules.dep, modules.builtin; NULL when
     * it does not exist (only loaded modules count then). */
    const VhSysfs *modules;
    const char *modules_dir;    /* its path, for messages when absent */
    const char *state_dir;      /* the registry and journal, read only */
    /* RLIMIT_MEMLOCK of the process that will run QEMU, in bytes;
     * G_MAXUINT64: unlimited.  @memlock_source says where it came from. */
    guint64 memlock_limit;
    const char *memlock_source;
    /* libvirt (as root) starts QEMU: it raises QEMU's RLIMIT_MEMLOCK to
     * what its rule needs, so a low limit here is a warn, not a fail. */
    gboolean libvirt;
} VhDoctor;

/*
 * Run the host checks and, with @def, the domain's.  Failing checks are
 * results, not errors: the error is only for a host that cannot be read
 * at all (the sysfs root).  Free *@ret_report with vh_doctor_report_free().
 */
gboolean vh_doctor_run(const VhDoctor *doctor, const VhDomainDef *def,
                       VhDoctorReport **ret_report, GError **error);

/* No check failed. */
gboolean vh_doctor_report_ok(const VhDoctorReport *report);

/* The number of checks with @status. */
guint vh_doctor_report_count(const VhDoctorReport *report,
                             VhDoctorStatus status);

/* The check @id, or NULL; owned by @report. */
const VhDoctorCheck *vh_doctor_report_find(const VhDoctorReport *report,
                                           const char *id);

/* "STATUS  id: summary" per check, evidence and fix indented below.
 * Free with g_free(). */
char *vh_doctor_report_format(const VhDoctorReport *report);

/* {"ok": bool, "checks": [{"id", "status", "summary", "evidence": [...],
 * "fix": str|null}]}.  Free with g_free(). */
char *vh_doctor_report_json(const VhDoctorReport *report, GError **error);

G_END_DECLS
