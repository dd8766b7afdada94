#pragma once

#include <glib.h>

#include "cs-figure.h"
#include "cs-geometry.h"

G_BEGIN_DECLS

/* The pieces of a projection figure that come from the geometry, shared by
 * the command line's figures and the Geometry page. */

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

G_END_DECLS
