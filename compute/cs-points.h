#pragma once

#include <glib.h>

#include "cs-geometry.h"
#include "cs-tokenizer.h"

G_BEGIN_DECLS

/* A matrix of points for Mapper, with what each point is: a token of a
 * category (rows of g), a row of an HDF5 dataset, or a row of a CSV file. */
typedef struct
{
  gint64  n;
  int     d;
  double *X;             /* [n, d] */
  GStrv   labels;        /* [n]: the token, the CSV label, or "row i" */
  int    *group;         /* [n] index into group_names, or NULL */
  GStrv   group_names;   /* categories (most specific first match), or NULL */
  gint32 *token_ids;     /* [n] for points made of tokens, else NULL */
} CsPoints;

/* An HDF5 dataset of rank ≥ 2: its last axis is the point's coordinates and
 * every other axis indexes points (labels "[i, j]"). */
CsPoints *cs_points_from_h5       (const char        *path,
                                   const char        *dataset,
                                   GError           **error);
/* Comma-separated numbers, one point per line; a first line with any
 * non-number is a header; a first column that is not numeric is the label.
 * Labels naming a few classes (at most CS_POINTS_MAX_GROUPS distinct, each
 * on two points or more on average) are also the points' groups. */
#define CS_POINTS_MAX_GROUPS 12
CsPoints *cs_points_from_csv      (const char        *path,
                                   GError           **error);
/* The rows of g for the union of the tokens of the given categories (indices
 * into geometry->categories); each point's group is the most specific of
 * them that holds it. tok may be NULL (labels are then token ids). */
CsPoints *cs_points_from_geometry (CsGeometrySpace   *space,
                                   CsGeometry        *geometry,
                                   CsTokenizer       *tok,
                                   const int         *categories,
                                   int                n_categories,
                                   GError           **error);
/* The same without the rows (X NULL, d 0): which tokens, their labels and
 * groups. */
CsPoints *cs_points_of_categories (CsGeometry        *geometry,
                                   CsTokenizer       *tok,
                                   const int         *categories,
                                   int                n_categories,
                                   GError           **error);
void      cs_points_free          (CsPoints          *points);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (CsPoints, cs_points_free)

G_END_DECLS
