#pragma once

#include <glib-object.h>

#include "cs-fv.h"
#include "cs-patch.h"

G_BEGIN_DECLS

/* The Patching page's side panel as values: the prompt pair and answers,
 * the target (a CsPatchTarget), the metric (a CsPatchMetric), noising and
 * heads-last; the function vector's task (an index into the shipped tasks,
 * or task-file, a JSON file, when set), shots, prompts, heads and eval.
 * Bound two-way to the panel; it starts from cs_patch_params_init and
 * cs_fv_params_init. */

#define CS_TYPE_PATCHING_SETTINGS (cs_patching_settings_get_type ())
G_DECLARE_FINAL_TYPE (CsPatchingSettings, cs_patching_settings, CS, PATCHING_SETTINGS, GObject)

/* The shipped tasks, in the order of the task property, NULL-terminated. */
extern const char *const cs_patching_settings_tasks[];

CsPatchingSettings *cs_patching_settings_new       (void);
/* Patching's parameters (the strings point into self). */
void                cs_patching_settings_to_patch  (CsPatchingSettings *self,
                                                    CsPatchParams      *params);
void                cs_patching_settings_to_fv     (CsPatchingSettings *self,
                                                    CsFvParams         *params);
/* The task to load: task-file when set, else the shipped task's name. */
const char         *cs_patching_settings_get_task  (CsPatchingSettings *self);

G_END_DECLS
