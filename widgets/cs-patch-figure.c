#define G_LOG_DOMAIN "cs-figure"

#include "cs-patch-figure.h"

/* The matrix figure of a result: its labels live as long as the call. */
typedef struct
{
  CsMatrixFigure fig;
  GPtrArray     *rows;
  char          *title, *col_title, *value_label;
} PatchMatrix;

static void
patch_matrix_init (PatchMatrix *m, const CsPatchResult *r, const char *title)
{
  m->rows = g_ptr_array_new_with_free_func (g_free);
  for (int l = 0; l < r->n_layers; l++)
    g_ptr_array_add (m->rows, g_strdup_printf ("layer %d", l));
  g_ptr_array_add (m->rows, NULL);
  m->title = title ? g_strdup (title)
                   : g_markup_printf_escaped ("%s patching: %s", r->noising ? "Noising" : "Denoising",
                                              r->target == CS_PATCH_HEADS ? (r->heads_last ? "heads at the last token"
                                                                                            : "heads")
                                                                          : cs_patch_target_name (r->target));
  m->col_title = g_strdup (r->target == CS_PATCH_HEADS ? "head" : "position (token of the patched run)");
  m->value_label = g_strdup (r->metric == CS_PATCH_PROB ? "p(answer): 0 corrupted, 1 clean"
                                                        : "logit diff.: 0 corrupted, 1 clean");
  m->fig = (CsMatrixFigure) {
    (guint) r->n_layers, (guint) r->n_cols, (const char * const *) m->rows->pdata,
    (const char * const *) r->col_labels, r->values, TRUE, TRUE, "layer", m->col_title, m->value_label, m->title,
    NULL, "%.2f", 1.0,
  };
}

static void
patch_matrix_clear (PatchMatrix *m)
{
  g_ptr_array_unref (m->rows);
  g_free (m->title);
  g_free (m->col_title);
  g_free (m->value_label);
}

void
cs_patch_figure_draw (cairo_t *cr, double x, double y, double width, double height, const CsFigureStyle *s,
                      const CsPatchResult *r, const char *title)
{
  PatchMatrix m;
  if (!r || r->n_layers == 0 || r->n_cols == 0)
    return;
  patch_matrix_init (&m, r, title);
  cs_figure_draw_matrix (cr, x, y, width, height, s, &m.fig);
  patch_matrix_clear (&m);
}

gboolean
cs_patch_figure_cell_at (double x, double y, double width, double height, const CsFigureStyle *s,
                         const CsPatchResult *r, double px, double py, int *layer, int *column)
{
  PatchMatrix m;
  guint row, col;
  gboolean hit;
  if (!r || r->n_layers == 0 || r->n_cols == 0)
    return FALSE;
  patch_matrix_init (&m, r, NULL);
  hit = cs_figure_matrix_cell_at (x, y, width, height, s, &m.fig, px, py, &row, &col);
  patch_matrix_clear (&m);
  if (hit)
    {
      *layer = (int) row;
      *column = (int) col;
    }
  return hit;
}
