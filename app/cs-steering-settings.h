#pragma once

#include <glib-object.h>

#include "cs-steer.h"

G_BEGIN_DECLS

/* The Steering page's side panel as values: the sweep (layers and
 * multipliers as typed, the targets, the share held out, the position read,
 * the effects layer, where steering starts, normalisation), the prompt to
 * continue, the vector (the pairs' or a concept: concept and
 * concept-minus, category names or ""), and the order of the effects heatmap (columns: a CsSteerColumnOrder;
 * first-layer-top: 1 or 0). Bound two-way to the panel; it starts from
 * cs_steer_run_init and the engine's default layers and multipliers. */

#define CS_TYPE_STEERING_SETTINGS (cs_steering_settings_get_type ())
G_DECLARE_FINAL_TYPE (CsSteeringSettings, cs_steering_settings, CS, STEERING_SETTINGS, GObject)

CsSteeringSettings *cs_steering_settings_new    (void);
/* The run's scalar parameters (held out, position, effects layer, steering
 * start, normalisation, new tokens, and the prompt, which points into
 * self); the layers, multipliers and targets are parsed by the caller. */
void                cs_steering_settings_to_run (CsSteeringSettings *self,
                                                 CsSteerRun         *run);
const char         *cs_steering_settings_get    (CsSteeringSettings *self,
                                                 const char         *string_property);
/* The concept to steer with as cs_steer_concept_vector's spec ("bird" or
 * "bird-mammal"), or NULL for the pairs' vector. */
char               *cs_steering_settings_dup_concept (CsSteeringSettings *self);

G_END_DECLS
