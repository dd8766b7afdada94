#pragma once

#include "cs-figure.h"
#include "cs-mapper.h"

G_BEGIN_DECLS

/* The plain drawing data of a Mapper graph (shared by the Mapper page and
 * the command line): node sizes, edges, colour values (the mean of a
 * per-point value) or pie fractions of per-point groups. */
typedef struct
{
  CsGraphFigure fig;
  int          *size;
  int          *edges;
  double       *weights;
  double       *values;
  double       *fractions;
  char         *caption;
} CsMapperFigure;

/* point_values [n_points] colours nodes by their mean (NULL: no colours);
 * point_group [n_points] (−1: none) with n_groups names draws pies instead. */
void cs_mapper_figure_init  (CsMapperFigure       *mf,
                             const CsMapperGraph  *graph,
                             const double         *point_values,
                             const char           *value_label,
                             const int            *point_group,
                             guint                 n_groups,
                             const char * const   *group_names);
void cs_mapper_figure_clear (CsMapperFigure       *mf);

/* A lens spec as figure text (markup): vector:mammal → ℓ̄ with a subscript. */
char *cs_mapper_lens_markup  (const char           *lens);
/* "Mapper graph · lens 1 × lens 2" */
char *cs_mapper_title_markup (const char * const   *lens_names,
                              int                   n_lenses);

G_END_DECLS
