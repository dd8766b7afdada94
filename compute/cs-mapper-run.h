#pragma once

#include <gio/gio.h>

#include "cs-geometry.h"
#include "cs-mapper.h"

G_BEGIN_DECLS

/* One Mapper run, as the Mapper page and `conceptscope-cli mapper` both do
 * it: points → lens values (one or two lenses) → graph (cover, clustering,
 * nerve) → layout. The points are any matrix (rows of the whitened g of
 * category tokens, activations, a CSV); vector lenses ("vector:NAME") are
 * the estimated ℓ̄ of a geometry's category. */

typedef struct
{
  CsMapperParams    graph;       /* cs_mapper_params_init; n_lenses follows lens[1] */
  const char       *lens[2];     /* lens specs (cs_lens_parse); lens[1] NULL: one lens */
  guint             seed;        /* of the layout (0) */
  const CsGeometry *geometry;    /* resolves vector lenses; may be NULL */
  gboolean          concepts;    /* also every estimated concept's projection, to colour by */
} CsMapperRunParams;

void cs_mapper_run_params_init (CsMapperRunParams *params);

typedef struct
{
  CsMapperGraph *graph;       /* laid out */
  double        *lens;        /* [n, n_lenses] */
  char         **lens_names;  /* [n_lenses + 1] descriptions (cs_lens_describe) */
  int            n_concepts;  /* with params.concepts: the geometry's estimated categories */
  double        *concepts;    /* [n, n_concepts]: x·ℓ̄/‖ℓ̄‖² */
  char         **concept_names; /* [n_concepts + 1] */
  double         lens_seconds, graph_seconds, layout_seconds;
} CsMapperRun;

/* The values of one lens spec over the points (out [n]) and its
 * description; vector:NAME needs a geometry with NAME estimated. */
gboolean     cs_mapper_lens_values (const char              *spec,
                                    const double            *X,
                                    gint64                   n,
                                    int                      d,
                                    const CsGeometry        *geometry,
                                    double                  *out,
                                    char                   **description,
                                    GCancellable            *cancellable,
                                    GError                 **error);
/* progress: the graph's construction, [0, 1]. */
CsMapperRun *cs_mapper_run         (const double            *X,
                                    gint64                   n,
                                    int                      d,
                                    const CsMapperRunParams *params,
                                    CsProgressFunc           progress,
                                    gpointer                 progress_data,
                                    GCancellable            *cancellable,
                                    GError                 **error);
void         cs_mapper_run_free    (CsMapperRun             *run);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (CsMapperRun, cs_mapper_run_free)

G_END_DECLS
