#define G_LOG_DOMAIN "cs-figure"

#include "cs-geometry-figure.h"

char *
cs_geometry_axis_markup (CsGeometry *g, CsAxis a)
{
  const char *p = cs_category_set_get (g->categories, a.plus)->name;
  if (a.minus < 0)
    return g_markup_printf_escaped ("ℓ̄<sub>%s</sub>", p);
  return g_markup_printf_escaped ("ℓ̄<sub>%s</sub> − ℓ̄<sub>%s</sub>", p,
                                  cs_category_set_get (g->categories, a.minus)->name);
}

static void
push (GArray *arrows, GPtrArray *strings, double x0, double y0, double x1, double y1, int colour, char *label)
{
  CsFigureArrow a = { x0, y0, x1, y1, (guint) colour, label };
  g_ptr_array_add (strings, label);
  g_array_append_val (arrows, a);
}

void
cs_geometry_axis_arrows (CsGeometry *g, CsProjection *p, CsAxis a, GArray *arrows, GPtrArray *strings)
{
  CsAxis single = { a.plus, -1 };
  if (a.minus >= 0)
    {
      CsAxis other = { a.minus, -1 };
      push (arrows, strings, p->cat_x[a.minus], p->cat_y[a.minus], p->cat_x[a.plus], p->cat_y[a.plus], a.plus,
            cs_geometry_axis_markup (g, a));
      push (arrows, strings, 0, 0, p->cat_x[a.minus], p->cat_y[a.minus], a.minus, cs_geometry_axis_markup (g, other));
    }
  push (arrows, strings, 0, 0, p->cat_x[a.plus], p->cat_y[a.plus], a.plus, cs_geometry_axis_markup (g, single));
}
