#pragma once

#include "cs-figure.h"
#include "cs-sae-card.h"

G_BEGIN_DECLS

/* A feature card: the contexts where a latent fires most (each token's
 * background shaded by the latent's activation on it, the firing token in
 * bold), the histogram of its non-zero activations with how often it
 * fires, and the tokens its decoder row raises and lowers most. */
typedef struct
{
  const char         *title;        /* markup: "L1/419" */
  int                 n_contexts;
  int                 width;        /* tokens per context; the firing one in the middle */
  const char * const *tokens;       /* [n_contexts, width] token texts, NULL past a context's ends */
  const float        *acts;         /* [n_contexts, width] */
  const float        *peak;         /* [n_contexts] the firing token's activation */
  const double       *hist;         /* [bins] counts over log10 activation */
  int                 bins;
  double              hist_lo, hist_hi;   /* log10 range of the bins */
  double              frequency;    /* fraction of tokens it fires on */
  gint64              n_tokens;
  const char * const *raised;       /* NULL-terminated */
  const char * const *lowered;
  int                 n_concepts;   /* its decoder row's cosine with concept directions (0: none shown) */
  const char * const *concepts;
  const double       *concept_cos;
} CsSaeCardFigure;

/* The figure of an assembled card; title is kept by the caller (NULL:
 * "L{layer}/{latent}" is not set — give one). The card must outlive fig. */
void cs_sae_card_figure_init (CsSaeCardFigure       *fig,
                              const CsSaeCard       *card,
                              const char            *title);

void cs_sae_card_figure_draw (cairo_t               *cr,
                              double                 x,
                              double                 y,
                              double                 width,
                              double                 height,
                              const CsFigureStyle   *style,
                              const CsSaeCardFigure *fig);

G_END_DECLS
