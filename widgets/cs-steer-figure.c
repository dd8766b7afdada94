#define G_LOG_DOMAIN "cs-figure"

#include "cs-steer-figure.h"
#include "cs-error.h"
#include "cs-sae-flow-figure.h"

#include <math.h>
#include <string.h>

static const char *names[CS_STEER_FIGURE_N] = {
  "steering-behaviour", "steering-heatmap", "steering-effects", "steering-concepts", "svd", "sae-decomposition",
  "steering-samples", "steering-hierarchy", "steering-flow",
};

const char *
cs_steer_figure_name (CsSteerFigureKind kind)
{
  return kind < CS_STEER_FIGURE_N ? names[kind] : "";
}

gboolean
cs_steer_figure_parse (const char *name, CsSteerFigureKind *kind)
{
  for (int k = 0; k < CS_STEER_FIGURE_N; k++)
    if (g_strcmp0 (name, names[k]) == 0)
      {
        *kind = (CsSteerFigureKind) k;
        return TRUE;
      }
  return FALSE;
}

gboolean
cs_steer_figure_available (const CsSteerReport *r, CsSteerFigureKind kind, GError **error)
{
  const char *why = NULL;
  switch (kind)
    {
    case CS_STEER_FIGURE_BEHAVIOUR:
    case CS_STEER_FIGURE_HEATMAP:
      why = r->sweep ? NULL : "no sweep was run";
      break;
    case CS_STEER_FIGURE_EFFECTS:
      why = r->effects && r->effects->n_cols > 0 ? NULL : "no downstream effects were measured";
      break;
    case CS_STEER_FIGURE_CONCEPTS:
      why = r->n_concepts > 0 ? NULL : "no concept vectors were given (steer with --workspace WS.h5)";
      break;
    case CS_STEER_FIGURE_SVD:
      why = r->svd ? NULL : r->concept ? "a concept vector has no pairs' differences to decompose" : "no SVD was computed";
      break;
    case CS_STEER_FIGURE_SAE:
      why = r->sae_k > 0 ? NULL : "no SAE was given (steer with --sae DIR)";
      break;
    case CS_STEER_FIGURE_SAMPLES:
      why = r->gen_prompt && r->gen_n > 0 ? NULL : "no prompt was continued (steer with --generate PROMPT)";
      break;
    case CS_STEER_FIGURE_HIERARCHY:
      why = r->hier_n > 0 && r->sweep ? NULL : "no hierarchy check was run (steer with --concept A-B --workspace WS.h5)";
      break;
    case CS_STEER_FIGURE_FLOW:
      why = r->flow && r->flow->n_nodes > 0 ? NULL : "no feature flow was traced (steer with --saes DIR)";
      break;
    default:
      why = "unknown figure";
    }
  if (why)
    g_set_error (error, CS_ERROR, CS_ERROR_MISSING, "%s: %s", cs_steer_figure_name (kind), why);
  return why == NULL;
}

static char *
title_of (const CsSteerReport *r, const char *what)
{
  g_autofree char *base = r->dataset && *r->dataset ? g_path_get_basename (r->dataset) : g_strdup ("steering");
  char *dot = strrchr (base, '.');
  if (dot)
    *dot = 0;
  g_autofree char *esc = g_markup_escape_text (base, -1);
  return g_strdup_printf ("%s · %s", esc, what);   /* what is markup */
}

static void
draw_behaviour (cairo_t *cr, double x, double y, double w, double h, const CsFigureStyle *s, const CsSteerReport *r)
{
  const CsSteerSweep *sw = r->sweep;
  g_autoptr(GPtrArray) series = g_ptr_array_new_with_free_func (g_free);
  g_autofree char *title = title_of (r, "behaviour against multiplier");
  gboolean ab = g_strcmp0 (r->position, "answer") == 0 || !r->targets || !*r->targets;
  g_autofree char *ylabel = ab ? g_strdup ("p(matching) / (p(A) + p(B))")
                               : g_markup_printf_escaped ("p(next token is %s)", r->targets);
  CsLinesFigure fig = { 0 };
  for (int a = 0; a < sw->n_layers; a++)
    g_ptr_array_add (series, g_strdup_printf ("layer %d", sw->layers[a]));
  fig.n_x = sw->n_mult;
  fig.x = sw->multipliers;
  fig.n_series = sw->n_layers;
  fig.series_names = (const char * const *) series->pdata;
  fig.y = sw->behaviour;
  fig.x_label = "multiplier m (m × v added at resid_post)";
  fig.y_label = ylabel;
  fig.title = title;
  cs_figure_draw_lines (cr, x, y, w, h, s, &fig);
}

/* "ℓ̄_bird − ℓ̄_mammal" as markup, the names as subscripts. */
static char *
concept_markup (const char *concept)
{
  g_autofree char *esc = g_markup_escape_text (concept, -1);
  GString *m = g_string_new (NULL);
  gboolean sub = FALSE;
  for (const char *p = esc; *p; p++)
    {
      if (g_str_has_prefix (p, "ℓ̄_"))
        {
          g_string_append (m, "ℓ̄<sub>");
          p += strlen ("ℓ̄_") - 1;
          sub = TRUE;
          continue;
        }
      if (sub && *p == ' ')
        {
          g_string_append (m, "</sub>");
          sub = FALSE;
        }
      g_string_append_c (m, *p);
    }
  if (sub)
    g_string_append (m, "</sub>");
  return g_string_free (m, FALSE);
}

/* The hierarchy check: a line per category, its role in the name. */
static void
draw_hierarchy (cairo_t *cr, double x, double y, double w, double h, const CsFigureStyle *s, const CsSteerReport *r)
{
  g_autoptr(GPtrArray) series = g_ptr_array_new_with_free_func (g_free);
  g_autofree char *concept = concept_markup (r->concept ? r->concept : "the vector");
  g_autofree char *what = g_strdup_printf ("%s at layer %d: which categories move", concept, r->hier_layer);
  g_autofree char *title = title_of (r, what);
  CsLinesFigure fig = { 0 };
  for (int k = 0; k < r->hier_n; k++)
    g_ptr_array_add (series, g_markup_printf_escaped ("%s (%s)", r->hier_names[k], r->hier_roles[k]));
  fig.n_x = r->sweep->n_mult;
  fig.x = r->sweep->multipliers;
  fig.n_series = r->hier_n;
  fig.series_names = (const char * const *) series->pdata;
  fig.y = r->hier_change;
  fig.x_label = "multiplier m (m × v added at resid_post)";
  fig.y_label = "Δ log p(next token in the category)";
  fig.title = title;
  cs_figure_draw_lines (cr, x, y, w, h, s, &fig);
}

static void
draw_heatmap (cairo_t *cr, double x, double y, double w, double h, const CsFigureStyle *s, const CsSteerReport *r)
{
  const CsSteerSweep *sw = r->sweep;
  g_autoptr(GPtrArray) rows = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GPtrArray) cols = g_ptr_array_new_with_free_func (g_free);
  g_autofree char *title = title_of (r, "behaviour, layers × multipliers");
  CsMatrixFigure fig = { 0 };
  for (int a = 0; a < sw->n_layers; a++)
    g_ptr_array_add (rows, g_strdup_printf ("layer %d", sw->layers[a]));
  for (int m = 0; m < sw->n_mult; m++)
    g_ptr_array_add (cols, g_strdup_printf ("%g", sw->multipliers[m]));
  fig.n_rows = sw->n_layers;
  fig.n_cols = sw->n_mult;
  fig.row_labels = (const char * const *) rows->pdata;
  fig.col_labels = (const char * const *) cols->pdata;
  fig.values = sw->behaviour;
  fig.annotate = TRUE;
  fig.col_title = "multiplier";
  fig.value_label = "behaviour";
  fig.title = title;
  cs_figure_draw_matrix (cr, x, y, w, h, s, &fig);
}

static void
effects_figure (const CsSteerReport *r, CsMatrixFigure *fig, GPtrArray *rows, char **title)
{
  const CsSteerEffects *e = r->effects;
  for (int i = 0; i < e->n_rows; i++)
    g_ptr_array_add (rows, g_strdup_printf ("layer %d", e->row_layers[i]));
  *title = g_markup_printf_escaped ("%g × v at layer %d: change downstream (steered − unsteered)",
                                    e->multiplier, e->steer_layer);
  memset (fig, 0, sizeof *fig);
  fig->n_rows = e->n_rows;
  fig->n_cols = e->n_cols;
  fig->row_labels = (const char * const *) rows->pdata;
  fig->col_labels = (const char * const *) e->col_labels;
  fig->values = e->values;
  fig->diverging = TRUE;
  fig->annotate = e->n_cols <= 12;
  fig->col_group = e->col_kind;
  fig->value_label = "Δ / largest |Δ| of its kind";
  fig->title = *title;
}

static void
draw_effects (cairo_t *cr, double x, double y, double w, double h, const CsFigureStyle *s, const CsSteerReport *r)
{
  g_autoptr(GPtrArray) rows = g_ptr_array_new_with_free_func (g_free);
  g_autofree char *title = NULL;
  CsMatrixFigure fig;
  effects_figure (r, &fig, rows, &title);
  cs_figure_draw_matrix (cr, x, y, w, h, s, &fig);
}

char *
cs_steer_figure_effects_describe (double x, double y, double w, double h, const CsFigureStyle *s,
                                  const CsSteerReport *r, double px, double py)
{
  g_autoptr(GPtrArray) rows = g_ptr_array_new_with_free_func (g_free);
  g_autofree char *title = NULL;
  CsMatrixFigure fig;
  guint row, col;
  if (!r->effects || r->effects->n_cols == 0)
    return NULL;
  effects_figure (r, &fig, rows, &title);
  if (!cs_figure_matrix_cell_at (x, y, w, h, s, &fig, px, py, &row, &col))
    return NULL;
  return g_strdup_printf ("%s at layer %d: %+.4g", r->effects->col_labels[col], r->effects->row_layers[row],
                          r->effects->values[row * r->effects->n_cols + col]);
}

gboolean
cs_steer_figure_effects_column_at (double x, double y, double w, double h, const CsFigureStyle *s,
                                   const CsSteerReport *r, double px, double py, int *column)
{
  g_autoptr(GPtrArray) rows = g_ptr_array_new_with_free_func (g_free);
  g_autofree char *title = NULL;
  CsMatrixFigure fig;
  guint row, col;
  if (!r->effects || r->effects->n_cols == 0)
    return FALSE;
  effects_figure (r, &fig, rows, &title);
  if (!cs_figure_matrix_cell_at (x, y, w, h, s, &fig, px, py, &row, &col))
    return FALSE;
  *column = (int) col;
  return TRUE;
}

static void
draw_concepts (cairo_t *cr, double x, double y, double w, double h, const CsFigureStyle *s, const CsSteerReport *r)
{
  g_autoptr(GPtrArray) rows = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GPtrArray) cols = g_ptr_array_new_with_free_func (g_free);
  g_autofree char *title = title_of (r, "cos(v, ℓ̄) in the whitened space");
  CsMatrixFigure fig = { 0 };
  for (int l = 0; l < r->n_layers; l++)
    g_ptr_array_add (rows, g_strdup_printf ("layer %d", l));
  for (int c = 0; c < r->n_concepts; c++)
    g_ptr_array_add (cols, g_strdup_printf ("ℓ̄ %s", r->concept_names[c]));
  fig.n_rows = r->n_layers;
  fig.n_cols = r->n_concepts;
  fig.row_labels = (const char * const *) rows->pdata;
  fig.col_labels = (const char * const *) cols->pdata;
  fig.values = r->concept_cos;
  fig.diverging = TRUE;
  fig.annotate = TRUE;
  fig.value_label = "cosine";
  fig.title = title;
  cs_figure_draw_matrix (cr, x, y, w, h, s, &fig);
}

static void
draw_svd (cairo_t *cr, double x, double y, double w, double h, const CsFigureStyle *s, const CsSteerReport *r)
{
  const CsSteerSvd *sv = r->svd;
  int n = MIN (sv->n_values, 10);
  g_autoptr(GPtrArray) labels = g_ptr_array_new_with_free_func (g_free);
  g_autofree char *what = g_strdup_printf ("singular values of the %d differences at layer %d", r->n_pairs,
                                           r->svd_layer);
  g_autofree char *title = title_of (r, what);
  CsBarsFigure fig = { 0 };
  for (int i = 0; i < n; i++)
    {
      GString *l = g_string_new (NULL);
      g_string_append_printf (l, "σ%d (%.0f %%)", i + 1, 100 * sv->explained[i]);
      if (i < sv->k && r->svd_top)
        {
          g_string_append (l, ": +");
          for (int t = 0; t < MIN (3, sv->n_tokens); t++)
            g_string_append_printf (l, "%s%s", t ? "," : "", g_strstrip (r->svd_top[i * sv->n_tokens + t]));
          g_string_append (l, " / −");
          for (int t = 0; t < MIN (3, sv->n_tokens); t++)
            g_string_append_printf (l, "%s%s", t ? "," : "", g_strstrip (r->svd_bottom[i * sv->n_tokens + t]));
        }
      g_ptr_array_add (labels, g_string_free (l, FALSE));
    }
  fig.n = n;
  fig.labels = (const char * const *) labels->pdata;
  fig.values = sv->values;
  fig.value_label = "singular value";
  fig.title = title;
  cs_figure_draw_bars (cr, x, y, w, h, s, &fig);
}

/* The decomposition: a row per layer (the vector at its layer, then with a
 * set its effect propagated to each later layer), the encoder's response
 * on the left and the decoder cosines on the right; drawn and hit-tested
 * through the same layout. */
typedef struct
{
  int           n, shown;
  double        row_h;
  CsFigureStyle rs;
} SaeLayout;

static void
sae_layout (const CsSteerReport *r, double h, const CsFigureStyle *s, SaeLayout *o)
{
  o->n = MAX (1, r->sae_n);
  /* several rows: the three strongest each way, in smaller type */
  o->shown = o->n > 2 ? MIN (r->sae_k, 3) : r->sae_k;
  o->row_h = h / o->n;
  o->rs = *s;
  if (o->n > 2)
    o->rs.font_size = s->font_size * 0.8;
}

/* One panel of a row: its bars (part 0 the encoder's response, 1 the
 * decoder cosines), the latent of each, and its box in the figure. */
typedef struct
{
  GPtrArray   *labels;
  double      *values;
  int         *latents;
  char        *title;
  CsBarsFigure fig;
  double       x, y, w, h;
} SaePanel;

static void
sae_panel_init (SaePanel *p, const CsSteerReport *r, const SaeLayout *o, int row, int part, double x, double y,
                double w)
{
  int k = r->sae_k;
  gsize base = (gsize) row * 2 * k;
  int layer = r->sae_layers ? r->sae_layers[row] : r->sae_layer;
  const int *idx = part ? r->sae_dec_idx : r->sae_enc_idx;
  const double *val = part ? r->sae_dec_val : r->sae_enc_val;
  GStrv names = part ? r->sae_dec_labels : r->sae_enc_labels;
  p->labels = g_ptr_array_new_with_free_func (g_free);
  p->values = g_new (double, 2 * o->shown);
  p->latents = g_new (int, 2 * o->shown);
  for (int j = 0; j < 2 * o->shown; j++)
    {
      int i = j < o->shown ? j : k + (j - o->shown);   /* the first of the positive, then of the negative */
      g_ptr_array_add (p->labels, names ? g_strdup (names[base + i]) : g_strdup_printf ("feature %d", idx[base + i]));
      p->values[j] = val[base + i];
      p->latents[j] = idx[base + i];
    }
  if (part == 0)
    p->title = row == 0 ? g_strdup_printf ("SAE at layer %d: W<sub>enc</sub>ᵀv", layer)
                        : g_strdup_printf ("layer %d, the change it causes: W<sub>enc</sub>ᵀΔh", layer);
  else
    p->title = g_strdup_printf ("cos(%s, W<sub>dec</sub>[i])", row == 0 ? "v" : "Δh");
  memset (&p->fig, 0, sizeof p->fig);
  p->fig.n = 2 * o->shown;
  p->fig.labels = (const char * const *) p->labels->pdata;
  p->fig.values = p->values;
  p->fig.title = p->title;
  p->fig.value_label = row == o->n - 1 ? (part ? "cosine" : "encoder response") : NULL;
  p->x = part ? x + w * 0.55 : x;
  p->w = part ? w * 0.45 : w * 0.55;
  p->y = y + row * o->row_h;
  p->h = o->row_h;
}

static void
sae_panel_clear (SaePanel *p)
{
  g_ptr_array_unref (p->labels);
  g_free (p->values);
  g_free (p->latents);
  g_free (p->title);
}

static void
draw_sae (cairo_t *cr, double x, double y, double w, double h, const CsFigureStyle *s, const CsSteerReport *r)
{
  SaeLayout o;
  sae_layout (r, h, s, &o);
  for (int row = 0; row < o.n; row++)
    for (int part = 0; part < 2; part++)
      {
        SaePanel p;
        sae_panel_init (&p, r, &o, row, part, x, y, w);
        cs_figure_draw_bars (cr, p.x, p.y, p.w, p.h, &o.rs, &p.fig);
        sae_panel_clear (&p);
      }
}

gboolean
cs_steer_figure_sae_latent_at (double x, double y, double w, double h, const CsFigureStyle *s,
                               const CsSteerReport *r, double px, double py, int *layer, int *latent)
{
  SaeLayout o;
  if (r->sae_k <= 0)
    return FALSE;
  sae_layout (r, h, s, &o);
  for (int row = 0; row < o.n; row++)
    for (int part = 0; part < 2; part++)
      {
        SaePanel p;
        int i;
        sae_panel_init (&p, r, &o, row, part, x, y, w);
        i = cs_figure_bars_index_at (p.x, p.y, p.w, p.h, &o.rs, &p.fig, px, py);
        if (i >= 0)
          {
            *layer = r->sae_layers ? r->sae_layers[row] : r->sae_layer;
            *latent = p.latents[i];
          }
        sae_panel_clear (&p);
        if (i >= 0)
          return TRUE;
      }
  return FALSE;
}

static void
draw_samples (cairo_t *cr, double x, double y, double w, double h, const CsFigureStyle *s, const CsSteerReport *r)
{
  g_autoptr(GPtrArray) labels = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GPtrArray) texts = g_ptr_array_new_with_free_func (g_free);
  g_autofree char *what = g_strdup_printf ("continued with m × v at layer %d", r->gen_layer);
  g_autofree char *title = title_of (r, what);
  CsTextsFigure fig = { 0 };
  for (int m = 0; m < r->gen_n; m++)
    {
      g_autofree char *one_line = g_strdup (r->gen_texts[m]);
      g_strdelimit (one_line, "\n\r\t", ' ');
      double v = r->gen_mult[m];
      g_ptr_array_add (labels, v == 0 ? g_strdup ("m = 0") : g_strdup_printf ("m = %s%g", v < 0 ? "−" : "+", fabs (v)));
      g_ptr_array_add (texts, g_steal_pointer (&one_line));
    }
  fig.n = (guint) r->gen_n;
  fig.labels = (const char * const *) labels->pdata;
  fig.texts = (const char * const *) texts->pdata;
  fig.tone = r->gen_mult;
  fig.lead = r->gen_prompt;
  fig.title = title;
  cs_figure_draw_texts (cr, x, y, w, h, s, &fig);
}

void
cs_steer_figure_draw (cairo_t *cr, double x, double y, double w, double h, const CsFigureStyle *s,
                      const CsSteerReport *r, CsSteerFigureKind kind)
{
  if (!cs_steer_figure_available (r, kind, NULL))
    return;
  switch (kind)
    {
    case CS_STEER_FIGURE_BEHAVIOUR: draw_behaviour (cr, x, y, w, h, s, r); break;
    case CS_STEER_FIGURE_HEATMAP: draw_heatmap (cr, x, y, w, h, s, r); break;
    case CS_STEER_FIGURE_EFFECTS: draw_effects (cr, x, y, w, h, s, r); break;
    case CS_STEER_FIGURE_CONCEPTS: draw_concepts (cr, x, y, w, h, s, r); break;
    case CS_STEER_FIGURE_SVD: draw_svd (cr, x, y, w, h, s, r); break;
    case CS_STEER_FIGURE_SAE: draw_sae (cr, x, y, w, h, s, r); break;
    case CS_STEER_FIGURE_SAMPLES: draw_samples (cr, x, y, w, h, s, r); break;
    case CS_STEER_FIGURE_HIERARCHY: draw_hierarchy (cr, x, y, w, h, s, r); break;
    case CS_STEER_FIGURE_FLOW: cs_sae_flow_figure_draw (cr, x, y, w, h, s, r->flow, 0.2, NULL); break;
    default: break;
    }
}
