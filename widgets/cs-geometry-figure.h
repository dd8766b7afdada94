#pragma once

#include <glib.h>

#include "cs-figure.h"
#include "cs-geometry.h"

G_BEGIN_DECLS

/* The figures of a geometry (projection planes, cosine heatmap, validation,
 * orthogonality, the paper's Figure 2) built from the estimated vectors:
 * one adapter for the command line's figures and the Geometry page. */

/* "ℓ̄<sub>bird</sub> − ℓ̄<sub>mammal</sub>" (Pango markup, to free). */
char *cs_geometry_axis_markup (CsGeometry   *geometry,
                               CsAxis        axis);
/* The arrows of an axis, where the paper draws them: ℓ̄ from the origin;
 * for a difference, both vectors from the origin and the difference from
 * the subtrahend's tip. Labels are added to `strings`, which owns them. */
void  cs_geometry_axis_arrows (CsGeometry   *geometry,
                               CsProjection *projection,
                               CsAxis        axis,
                               GArray       *arrows,
                               GPtrArray    *strings);

/* Which categories a figure shows, per category (g_free it): the
 * estimated ones that are reliable (cs_category_set's rule), or every
 * estimated one with show_unreliable; of more than
 * CS_GEOMETRY_FIGURE_SHOWN_MAX (the whole WordNet), only the default
 * plane's x category and its children. A new geometry opens with these. */
#define CS_GEOMETRY_FIGURE_SHOWN_MAX 40
gboolean *cs_geometry_figure_shown  (CsGeometry *geometry,
                                     gboolean    show_unreliable);

/* The paper's Figure 2 planes: ℓ̄_animal × ℓ̄_mammal, ℓ̄_animal ×
 * ℓ̄_bird − ℓ̄_mammal, ℓ̄_bird − ℓ̄_mammal × ℓ̄_fish − ℓ̄_mammal; FALSE when a
 * category is missing. */
gboolean  cs_geometry_figure2_axes  (CsCategorySet *categories,
                                     CsAxis        *ax,
                                     CsAxis        *ay);
/* The plane a new geometry opens with: Figure 2's first panel, or for
 * another hierarchy its root and first reliable child; FALSE when none. */
gboolean  cs_geometry_default_axes  (CsGeometry    *geometry,
                                     CsAxis        *ax,
                                     CsAxis        *ay);

/* One projection plane ready to draw: `figure` points into the plane's own
 * arrays, valid until cs_geometry_plane_clear. */
typedef struct
{
  CsProjectionFigure figure;
  GArray            *groups;    /* CsFigureGroup */
  GArray            *arrows;    /* CsFigureArrow */
  GPtrArray         *strings;   /* what the labels point to */
} CsGeometryPlane;

/* The shown categories as coloured groups (with keep_hidden, the others
 * stay in the legend, greyed, so a click can bring them back), the axes'
 * arrows, and the axis labels; y_suffix (such as "(orthogonalised)") is
 * appended to the y label when not NULL. train: per category, which of its
 * tokens trained the vector (cs_geometry_train_mask), or NULL. */
void      cs_geometry_plane_init    (CsGeometryPlane      *plane,
                                     CsGeometry           *geometry,
                                     CsProjection         *projection,
                                     CsAxis                ax,
                                     CsAxis                ay,
                                     const char           *y_suffix,
                                     const gboolean       *shown,
                                     gboolean              keep_hidden,
                                     guint8 * const       *train);
void      cs_geometry_plane_clear   (CsGeometryPlane      *plane);

/* The 3-D view of three axes: the shown categories as groups, the axes'
 * single categories (ℓ̄_c, not differences) as the simplex's vertices (faces
 * from three on), the
 * axes' names as the triad's labels. `figure` points into the arrays. */
typedef struct
{
  CsSimplexFigure figure;
  GArray         *groups;    /* CsFigureGroup */
  GPtrArray      *strings;
} CsGeometrySimplex;

void      cs_geometry_simplex_init  (CsGeometrySimplex    *simplex,
                                     CsGeometry           *geometry,
                                     CsProjection3        *projection,
                                     const CsAxis         *axes,
                                     const gboolean       *shown);
void      cs_geometry_simplex_clear (CsGeometrySimplex    *simplex);

/* The shown categories' table: cosines, validation statistics, and the
 * children whose parent is estimated too (orthogonality). */
typedef struct
{
  guint      n;
  GPtrArray *names;       /* markup, NULL-terminated */
  double    *cos;         /* [n, n] */
  double    *mean, *std;  /* [n, 4]: train, held-out, random, held-out with shuffled g */
  guint      n_children;
  GPtrArray *child_names; /* NULL-terminated */
  double    *cos_plain;   /* cos(ℓ̄_c, ℓ̄_p) */
  double    *cos_diff;    /* cos(ℓ̄_c − ℓ̄_p, ℓ̄_p) */
  gint       extra_refs;  /* owners beyond the first: cs_geometry_table_ref */
} CsGeometryTable;

CsGeometryTable      *cs_geometry_table_new           (CsGeometry            *geometry,
                                                       const gboolean        *shown);
/* Several views may show one table; cs_geometry_table_free drops a reference. */
CsGeometryTable      *cs_geometry_table_ref           (CsGeometryTable       *table);
void                  cs_geometry_table_free          (CsGeometryTable       *table);
CsHeatmapFigure       cs_geometry_table_heatmap       (const CsGeometryTable *table,
                                                       const char            *title);
CsValidationFigure    cs_geometry_table_validation    (const CsGeometryTable *table,
                                                       const char            *title);
CsOrthogonalityFigure cs_geometry_table_orthogonality (const CsGeometryTable *table,
                                                       const char            *title);

/* The whole-WordNet figures of a geometry (any geometry whose categories
 * are in hierarchy order; the distance panel is blank without WordNet
 * distances): Figure 4's heatmaps and Figure 5's distributions. The
 * figures point into this and into the geometry, which it holds. */
typedef struct
{
  CsGeometry             *geometry;    /* a reference */
  CsWordNetHeatmapsFigure heatmaps;    /* the whole table; set first/count/selected to zoom */
  GPtrArray              *names;
  guint                  *block_end;
  double                 *diff_cos;
  /* cos(ℓ̄_c − ℓ̄_p, ℓ̄_p) over every estimated parent–child pair, and the same
   * for the vectors estimated from the shuffled g */
  double                 *pairs[2];
  guint                   n_pairs[2];
  CsHistogramsFigure      histograms;
  const char             *series[2];
  gint                    extra_refs;
} CsGeometryWordNet;

CsGeometryWordNet *cs_geometry_wordnet_new  (CsGeometry        *geometry);
CsGeometryWordNet *cs_geometry_wordnet_ref  (CsGeometryWordNet *wordnet);
void               cs_geometry_wordnet_free (CsGeometryWordNet *wordnet);
/* The block of the category named (its descendants in hierarchy order):
 * FALSE when there is no such category. */
gboolean           cs_geometry_wordnet_block (CsGeometryWordNet *wordnet,
                                              const char        *name,
                                              guint             *first,
                                              guint             *count);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (CsGeometryTable, cs_geometry_table_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (CsGeometryWordNet, cs_geometry_wordnet_free)

G_END_DECLS
