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

/* The heads' table of a function vector as a matrix figure; its labels
 * live in rows and cols (to unref). */
static CsMatrixFigure
fv_heads_matrix (const CsFvResult *r, const char *title, GPtrArray **rows, GPtrArray **cols)
{
  *rows = g_ptr_array_new_with_free_func (g_free);
  *cols = g_ptr_array_new_with_free_func (g_free);
  for (int l = 0; l < r->n_layers; l++)
    g_ptr_array_add (*rows, g_strdup_printf ("layer %d", l));
  g_ptr_array_add (*rows, NULL);
  for (int h = 0; h < r->n_heads; h++)
    g_ptr_array_add (*cols, g_strdup_printf ("H%d", h));
  g_ptr_array_add (*cols, NULL);
  return (CsMatrixFigure) {
    (guint) r->n_layers, (guint) r->n_heads, (const char * const *) (*rows)->pdata,
    (const char * const *) (*cols)->pdata, r->aie, TRUE, TRUE, "layer", "head", "Δ p(answer)", title, NULL, "%.3f", 0,
  };
}

void
cs_fv_figure_draw (cairo_t *cr, double x, double y, double width, double height, const CsFigureStyle *s,
                   const CsFvResult *r, CsFvFigureKind kind, const char *title)
{
  if (!r || r->n_layers == 0)
    return;
  if (kind == CS_FV_FIGURE_HEADS)
    {
      g_autoptr(GPtrArray) rows = NULL;
      g_autoptr(GPtrArray) cols = NULL;
      g_autofree char *t = title ? g_strdup (title)
                                 : g_markup_printf_escaped ("Average indirect effect of each head (%s); "
                                                            "the vector's %d heads outlined", r->task, r->k);
      CsMatrixFigure fig = fv_heads_matrix (r, t, &rows, &cols);
      cs_figure_draw_matrix (cr, x, y, width, height, s, &fig);
      /* the chosen heads: a ring of the text colour round their cells */
      for (int k = 0; k < r->k; k++)
        {
          double rect[4];
          if (!cs_figure_matrix_cell_rect (x, y, width, height, s, &fig, (guint) r->top_layer[k],
                                           (guint) r->top_head[k], rect))
            continue;
          cairo_save (cr);
          cairo_set_line_width (cr, MAX (1.0, s->font_size * 0.12));
          if (s->theme == CS_THEME_DARK)
            cairo_set_source_rgb (cr, 0.95, 0.95, 0.95);
          else
            cairo_set_source_rgb (cr, 0.1, 0.1, 0.1);
          cairo_rectangle (cr, rect[0] + 1, rect[1] + 1, rect[2] - 2, rect[3] - 2);
          cairo_stroke (cr);
          cairo_restore (cr);
        }
    }
  else
    {
      int L = r->n_layers;
      g_autofree double *xs = g_new (double, L), *ys = g_new (double, (gsize) 4 * L);
      const char *names[4] = { "with the vector added after layer L", "zero-shot, no vector", "in context",
                               "in context, answers shuffled" };
      g_autofree char *t = title ? g_strdup (title)
                                 : g_markup_printf_escaped ("The function vector of %s on held-out zero-shot queries",
                                                            r->task);
      CsLinesFigure fig;
      for (int l = 0; l < L; l++)
        {
          xs[l] = l;
          ys[l] = r->layer_prob[l];
          ys[L + l] = r->zs_prob;
          ys[2 * L + l] = r->icl_prob;
          ys[3 * L + l] = r->shuffled_prob;
        }
      fig = (CsLinesFigure) { (guint) L, xs, 4, names, ys, NULL, "layer L", "mean p(answer)", t };
      cs_figure_draw_lines (cr, x, y, width, height, s, &fig);
    }
}

gboolean
cs_fv_figure_cell_at (double x, double y, double width, double height, const CsFigureStyle *s, const CsFvResult *r,
                      double px, double py, int *layer, int *head)
{
  g_autoptr(GPtrArray) rows = NULL;
  g_autoptr(GPtrArray) cols = NULL;
  CsMatrixFigure fig;
  guint row, col;
  if (!r || r->n_layers == 0)
    return FALSE;
  /* the layout cs_fv_figure_draw gives the heads' table (a title of one line, as there) */
  fig = fv_heads_matrix (r, "title", &rows, &cols);
  if (!cs_figure_matrix_cell_at (x, y, width, height, s, &fig, px, py, &row, &col))
    return FALSE;
  *layer = (int) row;
  *head = (int) col;
  return TRUE;
}
