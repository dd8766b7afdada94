#pragma once

#include <glib-object.h>

#include "cs-geometry-run.h"

G_BEGIN_DECLS

/* The Geometry page's side panel as values: where the categories come from
 * and how they are estimated. Its properties are bound to the panel's
 * widgets; it starts from cs_geometry_params_init, and a snapshot of it is
 * what a computation runs with. */

#define CS_TYPE_GEOMETRY_SETTINGS (cs_geometry_settings_get_type ())
G_DECLARE_FINAL_TYPE (CsGeometrySettings, cs_geometry_settings, CS, GEOMETRY_SETTINGS, GObject)

CsGeometrySettings *cs_geometry_settings_new       (void);
/* A copy to hand to a job: later edits of the panel do not reach it. */
CsGeometrySettings *cs_geometry_settings_copy      (CsGeometrySettings *self);
/* The run's parameters; the strings point into self. */
void                cs_geometry_settings_to_params (CsGeometrySettings *self,
                                                    CsGeometryParams   *params);
/* Shows what a geometry was estimated with (after a failed run, the panel
 * says again what is drawn): its split, seed and threshold. */
void                cs_geometry_settings_set_from  (CsGeometrySettings *self,
                                                    const CsGeometry   *geometry);

G_END_DECLS
