#pragma once

#include <glib-object.h>

#include "cs-mapper-run.h"

G_BEGIN_DECLS

/* The Mapper page's side panel as values: which categories' tokens are the
 * points, the lenses (specs such as "vector:mammal" or "pca1"; lens2 "" for
 * one lens), the cover and the clustering (cover and cluster hold a
 * CsCoverKind and a CsClusterKind), and what colours the nodes
 * ("categories", "lens1", "lens2" or "vector:NAME"). Its properties are
 * bound to the panel's widgets; it starts from cs_mapper_params_init, and
 * a copy of it is what a build runs with and what undo goes back to. */

#define CS_TYPE_MAPPER_SETTINGS (cs_mapper_settings_get_type ())
G_DECLARE_FINAL_TYPE (CsMapperSettings, cs_mapper_settings, CS, MAPPER_SETTINGS, GObject)

CsMapperSettings *cs_mapper_settings_new        (void);
CsMapperSettings *cs_mapper_settings_copy       (CsMapperSettings       *self);
/* The same graph would be built (the colour aside). */
gboolean          cs_mapper_settings_equal      (CsMapperSettings       *a,
                                                 CsMapperSettings       *b);
/* The run's parameters; the strings point into self. */
void              cs_mapper_settings_to_params  (CsMapperSettings       *self,
                                                 CsMapperRunParams      *params);
/* Shows what built a graph: its cover and clustering parameters. */
void              cs_mapper_settings_set_from   (CsMapperSettings       *self,
                                                 const CsMapperParams   *params);
const char * const *cs_mapper_settings_get_categories (CsMapperSettings *self);
const char       *cs_mapper_settings_get_colour (CsMapperSettings       *self);

G_END_DECLS
