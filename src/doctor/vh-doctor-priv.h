/*
 * vh-doctor-priv.h: what the host checks (vh-doctor.c) and the domain
 * checks (vh-doctor-domain.c) share; not for callers of the library
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <glib.h>

#include "vh-doctor.h"
#include "vh-registry.h"

G_BEGIN_DECLS

/* What the host checks learnt that the domain checks use. */
typedef struct {
    guint n_groups;             /* in kernel/iommu_groups */
    VhRegistry *registry;       /* as read; empty when unreadable */
    gboolean registry_read;     /* FALSE: owners are unknown */
} VhDoctorHost;

/* Append a check; the summary is formatted.  Owned by @report. */
VhDoctorCheck *vh_doctor_add(VhDoctorReport *report, const char *id,
                             VhDoctorStatus status, const char *fmt, ...)
    G_GNUC_PRINTF(4, 5);
void vh_doctor_evidence(VhDoctorCheck *check, const char *fmt, ...)
    G_GNUC_PRINTF(2, 3);
/* Sets the one fix line (replacing an earlier one). */
void vh_doctor_fix(VhDoctorCheck *check, const char *fmt, ...)
    G_GNUC_PRINTF(2, 3);

/* The domain's checks (vh-doctor-domain.c). */
gboolean vh_doctor_check_domain(const VhDoctor *doctor,
                                const VhDoctorHost *host,
                                const VhDomainDef *def,
                                VhDoctorReport *report, GError **error);

G_END_DECLS
