#pragma once

#include "cs-figure.h"
#include "cs-steer.h"

G_BEGIN_DECLS

/* The steering figures, drawn from a report (a steering run or its saved
 * /steering group) by the shared cairo functions: the Steering page and
 * `conceptscope-cli figure steering-*` call the same code. */
typedef enum
{
  CS_STEER_FIGURE_BEHAVIOUR,   /* behaviour against multiplier, a line per layer */
  CS_STEER_FIGURE_HEATMAP,     /* layers × multipliers */
  CS_STEER_FIGURE_EFFECTS,     /* later layers × features moved downstream */
  CS_STEER_FIGURE_CONCEPTS,    /* cos(v_L, ℓ̄_c): layers × concepts */
  CS_STEER_FIGURE_SVD,         /* singular values of the differences, with tokens */
  CS_STEER_FIGURE_SAE,         /* the vector in SAE features */
  CS_STEER_FIGURE_SAMPLES,     /* a prompt continued under each multiplier */
  CS_STEER_FIGURE_HIERARCHY,   /* a concept's child, siblings, parent: log-mass change against multiplier */
  CS_STEER_FIGURE_FLOW,        /* with a set of SAEs: how the latents it moves drive each other */
  CS_STEER_FIGURE_N
} CsSteerFigureKind;

/* "steering-behaviour", "steering-heatmap", "steering-effects",
 * "steering-concepts", "svd", "sae-decomposition", "steering-samples",
 * "steering-hierarchy". */
const char *cs_steer_figure_name      (CsSteerFigureKind     kind);
gboolean    cs_steer_figure_parse     (const char           *name,
                                       CsSteerFigureKind    *kind);
/* Whether the report holds what the figure needs (else why not). */
gboolean    cs_steer_figure_available (const CsSteerReport  *report,
                                       CsSteerFigureKind     kind,
                                       GError              **error);
void        cs_steer_figure_draw      (cairo_t              *cr,
                                       double                x,
                                       double                y,
                                       double                width,
                                       double                height,
                                       const CsFigureStyle  *style,
                                       const CsSteerReport  *report,
                                       CsSteerFigureKind     kind);
/* The effects heatmap's cell under (px, py) as text (feature, layer,
 * value), for hover; NULL when none. */
char       *cs_steer_figure_effects_describe (double               x,
                                       double                y,
                                       double                width,
                                       double                height,
                                       const CsFigureStyle  *style,
                                       const CsSteerReport  *report,
                                       double                px,
                                       double                py);

/* The SAE decomposition's latent drawn under (px, py) (its bar's row),
 * with the layer of its SAE, for clicks. */
gboolean    cs_steer_figure_sae_latent_at (double            x,
                                       double                y,
                                       double                width,
                                       double                height,
                                       const CsFigureStyle  *style,
                                       const CsSteerReport  *report,
                                       double                px,
                                       double                py,
                                       int                  *layer,
                                       int                  *latent);
/* The effects heatmap's column under (px, py), for clicks. */
gboolean    cs_steer_figure_effects_column_at (double            x,
                                       double                y,
                                       double                width,
                                       double                height,
                                       const CsFigureStyle  *style,
                                       const CsSteerReport  *report,
                                       double                px,
                                       double                py,
                                       int                  *column);

G_END_DECLS
