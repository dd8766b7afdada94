#define G_LOG_DOMAIN "cs-geometry"

#include <math.h>

#include "cs-geometry-run.h"
#include "cs-error.h"
#include "cs-wordnet.h"

int
cs_geometry_wordnet_all_min_tokens (gint64 vocab)
{
  /* the paper's 50 for Gemma's 256,000 tokens, in proportion, within 10 … 50 */
  return (int) CLAMP (round (50.0 * vocab / 256000), 10, 50);
}

void
cs_geometry_params_init (CsGeometryParams *p)
{
  CsCategoryOptions co = CS_CATEGORY_OPTIONS_INIT;

  g_return_if_fail (p != NULL);
  *p = (CsGeometryParams) { 0 };
  p->hierarchy = "animal";
  p->train_fraction = 0.7;
  p->seed = 0;
  p->categories = co;
  p->device = CS_DEVICE_AUTO;
  p->use_cache = TRUE;
}

void
cs_geometry_run_free (CsGeometryRun *run)
{
  if (!run)
    return;
  g_clear_pointer (&run->tokenizer, cs_tokenizer_free);
  g_clear_pointer (&run->space, cs_geometry_space_free);
  g_clear_pointer (&run->geometry, cs_geometry_free);
  g_free (run->description);
  g_free (run);
}

typedef struct
{
  CsModel         *model;
  const CsGeometryParams *params;
  GCancellable    *cancellable;
  CsProgressFunc   progress;
  gpointer         progress_data;
  CsGeometrySpace *space;
  gboolean         cached;
  GError          *error;
} Whitening;

static void
whitening_progress (double fraction, gpointer data)
{
  Whitening *w = data;
  /* the first half of the run */
  if (w->progress)
    w->progress (MIN (0.499, fraction * 0.5), w->progress_data);
}

static gpointer
whitening_thread (gpointer data)
{
  Whitening *w = data;
  const CsTensor *u = cs_model_get_unembedding (w->model);
  if (w->params->use_cache)
    {
      g_autofree char *key = cs_model_get_cache_key (w->model);
      w->space = cs_geometry_space_new_cached_with_progress (u, key, w->params->device, &w->cached,
                                                             whitening_progress, w, w->cancellable, &w->error);
    }
  else
    w->space = cs_geometry_space_new (u, w->params->device, w->cancellable, &w->error);
  return NULL;
}

static void
cancel_too (GCancellable *cancellable, gpointer other)
{
  g_cancellable_cancel (other);
}

/* The user's words as a category: a new one under the root, or an existing
 * one with its words replaced. */
static void
add_extra (CsCategorySet *cats, CsTokenizer *tok, const char *name, const char *words_text)
{
  g_auto(GStrv) words = g_strsplit_set (words_text, ",;\n", -1);
  int existing = cs_category_set_find (cats, name);

  for (guint i = 0; words[i]; i++)
    g_strstrip (words[i]);
  if (existing >= 0)
    {
      CsCategory *old = cs_category_set_get (cats, existing);
      g_autoptr(CsCategorySet) tmp = cs_category_set_new (cats->min_tokens);
      CsCategory *fresh = cs_category_set_add_words (tmp, tok, name, -1, (const char * const *) words, FALSE);
      g_array_set_size (old->tokens, 0);
      g_array_append_vals (old->tokens, fresh->tokens->data, fresh->tokens->len);
      old->reliable = (int) old->tokens->len >= MAX (cats->min_tokens, 2);
    }
  else
    cs_category_set_add_words (cats, tok, name, 0, (const char * const *) words, FALSE);
}

typedef struct
{
  CsProgressFunc progress;
  gpointer       data;
} Half;

static void
estimation_progress (double fraction, gpointer data)
{
  Half *h = data;
  if (h->progress)
    h->progress (0.5 + 0.5 * fraction, h->data);
}

CsGeometryRun *
cs_geometry_run (CsModel *model, const CsGeometryParams *p, CsGeometrySpace *space, CsProgressFunc progress,
                 gpointer progress_data, GCancellable *cancellable, GError **error)
{
  g_autoptr(CsGeometryRun) run = g_new0 (CsGeometryRun, 1);
  g_autoptr(CsWordNet) wn = NULL;
  g_autoptr(CsCategorySet) cats = NULL;
  g_autoptr(GCancellable) own = g_cancellable_new ();
  GError *local = NULL;
  Whitening w = { model, p, own, progress, progress_data, NULL, FALSE, NULL };
  GThread *thread = NULL;
  gulong chained = 0;
  gint64 t0 = g_get_monotonic_time (), t1;

  g_return_val_if_fail (CS_IS_MODEL (model), NULL);
  g_return_val_if_fail (p != NULL, NULL);
  if (!cs_model_get_tokenizer_path (model))
    {
      g_set_error (error, CS_ERROR, CS_ERROR_MISSING,
                   "%s has no tokenizer.json, so its tokens cannot be matched to words", cs_model_get_path (model));
      return NULL;
    }
  /* the whitening has its own cancellable, so that a failure on this side
   * stops it without marking the caller's cancelled (which would hide the
   * failure's message) */
  if (cancellable)
    chained = g_cancellable_connect (cancellable, G_CALLBACK (cancel_too), own, NULL);
  if (!space)
    thread = g_thread_new ("whitening", whitening_thread, &w);
  if (!(run->tokenizer = cs_model_open_tokenizer (model, &local)) ||
      (p->categories_json ? !(cats = cs_category_set_from_json (p->categories_json, run->tokenizer, &p->categories,
                                                                 &local))
                          : (!(wn = cs_wordnet_open (p->wordnet_dir, &local)) ||
                             !(cats = p->wordnet_all
                                        ? cs_category_set_from_wordnet_all (wn, run->tokenizer, &p->categories, &local)
                                        : cs_category_set_from_wordnet (wn, p->hierarchy ? p->hierarchy : "animal",
                                                                        run->tokenizer, &p->categories, &local)))))
    g_cancellable_cancel (own);
  if (thread)
    {
      g_thread_join (thread);
      run->space = w.space;
      run->whitening_cached = w.cached;
    }
  else
    {
      run->space = cs_geometry_space_ref (space);
      run->whitening_cached = TRUE;
    }
  if (chained)
    g_cancellable_disconnect (cancellable, chained);
  if (local)
    {
      g_clear_error (&w.error);
      g_propagate_error (error, local);
      return NULL;
    }
  if (!run->space)
    {
      g_propagate_error (error, w.error);
      return NULL;
    }
  t1 = g_get_monotonic_time ();
  run->whitening_seconds = (t1 - t0) / 1e6;
  run->description = p->categories_json ? g_strdup_printf ("categories from %s", p->categories_json)
                     : p->wordnet_all   ? g_strdup_printf ("every WordNet %s synset with %d or more tokens (%s)",
                                                           p->categories.pos == CS_WORDNET_VERBS  ? "verb"
                                                           : p->categories.pos == CS_WORDNET_BOTH ? "noun and verb"
                                                                                                  : "noun",
                                                           p->categories.min_tokens, cs_wordnet_get_dir (wn))
                                        : g_strdup_printf ("WordNet %s (%s)", p->hierarchy ? p->hierarchy : "animal",
                                                           cs_wordnet_get_dir (wn));
  if (p->extra_name && *p->extra_name && p->extra_words)
    add_extra (cats, run->tokenizer, p->extra_name, p->extra_words);
  if (progress)
    progress (0.5, progress_data);
  {
    Half h = { progress, progress_data };
    run->geometry = cs_geometry_estimate_with_progress (run->space, g_steal_pointer (&cats), p->train_fraction,
                                                        p->seed, estimation_progress, &h, cancellable, error);
  }
  if (!run->geometry)
    return NULL;
  if (wn)
    cs_geometry_set_wordnet_distances (run->geometry, wn);
  run->estimation_seconds = (g_get_monotonic_time () - t1) / 1e6;
  return g_steal_pointer (&run);
}
