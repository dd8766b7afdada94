#define G_LOG_DOMAIN "cs-patch"

#include "cs-patch.h"
#include "cs-error.h"
#include "cs-forward.h"
#include "cs-hdf5.h"
#include "cs-json.h"

#include <hdf5.h>
#include <json-glib/json-glib.h>
#include <math.h>
#include <string.h>

static const char *const target_names[] = { "resid_pre", "resid_post", "attn_out", "mlp_out", "heads" };

void
cs_patch_params_init (CsPatchParams *p)
{
  memset (p, 0, sizeof *p);
  p->target = CS_PATCH_RESID_PRE;
  p->metric = CS_PATCH_LOGIT_DIFF;
  p->device = CS_DEVICE_AUTO;
}

gboolean
cs_patch_target_parse (const char *name, CsPatchTarget *target)
{
  for (guint i = 0; name && i < G_N_ELEMENTS (target_names); i++)
    if (g_str_equal (name, target_names[i]))
      {
        *target = (CsPatchTarget) i;
        return TRUE;
      }
  return FALSE;
}

const char *
cs_patch_target_name (CsPatchTarget target)
{
  return (guint) target < G_N_ELEMENTS (target_names) ? target_names[target] : "?";
}

void
cs_patch_result_free (CsPatchResult *r)
{
  if (!r)
    return;
  g_free (r->clean);
  g_free (r->corrupted);
  g_free (r->answer);
  g_free (r->wrong);
  g_strfreev (r->clean_tokens);
  g_strfreev (r->corrupted_tokens);
  g_strfreev (r->col_labels);
  g_free (r->raw);
  g_free (r->values);
  g_free (r);
}

/* The one token a word is: with a leading space first (as it follows
 * other words), then as written. */
static gint32
one_token (CsTokenizer *tok, const char *text, const char *what, GError **error)
{
  g_autofree char *spaced = g_strconcat (" ", text, NULL);
  const char *tries[2] = { text[0] == ' ' ? text : spaced, text };
  guint got = 0;

  if (!*text)
    {
      g_set_error (error, CS_ERROR, CS_ERROR_RANGE, "the %s token is empty", what);
      return -1;
    }
  for (int k = 0; k < 2; k++)
    {
      g_autoptr(GArray) ids = cs_tokenizer_encode (tok, tries[k], FALSE, NULL);
      if (ids && ids->len == 1)
        return g_array_index (ids, gint32, 0);
      if (ids && k == 0)
        got = ids->len;
    }
  g_set_error (error, CS_ERROR, CS_ERROR_RANGE, "the %s '%s' is not one token of this vocabulary (it is %u): "
               "choose a word that is", what, text, got);
  return -1;
}

static double
metric_of (const float *logits, int V, gint32 a, gint32 w, CsPatchMetric metric)
{
  if (metric == CS_PATCH_LOGIT_DIFF)
    return (double) logits[a] - logits[w];
  {
    double mx = -INFINITY, sum = 0;
    for (int i = 0; i < V; i++)
      mx = MAX (mx, logits[i]);
    for (int i = 0; i < V; i++)
      sum += exp ((double) logits[i] - mx);
    return exp ((double) logits[a] - mx) / sum;
  }
}

static char *
hook_name (CsPatchTarget target, int layer)
{
  static const char *const hooks[] = { "resid_pre", "resid_post", "attn_out", "mlp_out", "attn_z" };
  return g_strdup_printf ("%s.%d", hooks[target], layer);
}

static char **
token_texts (CsTokenizer *tok, const GArray *ids)
{
  char **out = g_new0 (char *, ids->len + 1);
  for (guint i = 0; i < ids->len; i++)
    out[i] = cs_tokenizer_id_to_text (tok, g_array_index (ids, gint32, i));
  return out;
}

CsPatchResult *
cs_patch_run (CsModel *model, CsTokenizer *tok, const CsPatchParams *p, CsProgressFunc progress,
              gpointer progress_data, GCancellable *cancellable, GError **error)
{
  const CsModelConfig *cfg = cs_model_get_config (model);
  g_autoptr(CsPatchResult) r = g_new0 (CsPatchResult, 1);
  g_autoptr(GArray) clean = NULL, corrupt = NULL;
  g_autoptr(GPtrArray) caps = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(CsForwardResult) base_run = NULL;
  g_autoptr(CsForwardCache) base_kv = NULL;   /* the patched run's keys and values, unpatched */
  CsForwardOptions opt = CS_FORWARD_OPTIONS_INIT;
  const gint32 *rows[2];
  int lens[2], n, d = cfg->hidden, H = cfg->n_heads, hd = cfg->head_dim, V = cfg->vocab, L = cfg->n_layers;
  int base, donor, shift, S;
  gint64 t0 = g_get_monotonic_time ();

  if (!p->clean || !p->corrupted || !p->answer || (p->metric == CS_PATCH_LOGIT_DIFF && !p->wrong))
    {
      g_set_error (error, CS_ERROR, CS_ERROR_RANGE, "patching needs a clean and a corrupted prompt, the right answer "
                   "and, for the logit difference, a wrong one");
      return NULL;
    }
  if (!(clean = cs_tokenizer_encode (tok, p->clean, TRUE, error)) ||
      !(corrupt = cs_tokenizer_encode (tok, p->corrupted, TRUE, error)))
    return NULL;
  if (clean->len == 0 || corrupt->len == 0)
    {
      g_set_error (error, CS_ERROR, CS_ERROR_RANGE, "a prompt is empty after tokenisation");
      return NULL;
    }
  if ((int) MAX (clean->len, corrupt->len) > cfg->max_positions)
    {
      g_set_error (error, CS_ERROR, CS_ERROR_RANGE, "the prompts have %u and %u tokens, more than the model's context "
                   "of %d", clean->len, corrupt->len, cfg->max_positions);
      return NULL;
    }
  base = p->noising ? 0 : 1;
  donor = 1 - base;
  /* prompts of different lengths are aligned on their last tokens: base
   * position t takes the donor's t − shift */
  lens[0] = (int) clean->len;
  lens[1] = (int) corrupt->len;
  n = lens[base];
  shift = lens[base] - lens[donor];
  if ((r->answer_id = one_token (tok, p->answer, "answer", error)) < 0)
    return NULL;
  r->wrong_id = -1;
  if (p->wrong && *p->wrong && (r->wrong_id = one_token (tok, p->wrong, "wrong answer", error)) < 0)
    return NULL;
  if (r->answer_id >= V || r->wrong_id >= V)
    {
      g_set_error (error, CS_ERROR, CS_ERROR_RANGE, "the answer tokens lie outside the model's vocabulary");
      return NULL;
    }
  if (r->wrong_id < 0)
    r->wrong_id = r->answer_id;

  r->clean = g_strdup (p->clean);
  r->corrupted = g_strdup (p->corrupted);
  r->answer = g_strdup (p->answer);
  r->wrong = g_strdup (p->wrong ? p->wrong : "");
  r->target = p->target;
  r->metric = p->metric;
  r->noising = p->noising;
  r->heads_last = p->heads_last;
  r->n_tokens = n;
  r->shift = shift;
  r->clean_tokens = token_texts (tok, clean);
  r->corrupted_tokens = token_texts (tok, corrupt);
  r->n_layers = L;
  r->n_cols = p->target == CS_PATCH_HEADS ? H : n;
  r->col_labels = g_new0 (char *, r->n_cols + 1);
  for (int c = 0; c < r->n_cols; c++)
    r->col_labels[c] = p->target == CS_PATCH_HEADS ? g_strdup_printf ("H%d", c)   /* the run patched: its tokens */
                                                   : g_strdup_printf ("%d %s", c, (p->noising ? r->clean_tokens
                                                                                              : r->corrupted_tokens)[c]);
  r->raw = g_new (double, (gsize) L * r->n_cols);
  r->values = g_new (double, (gsize) L * r->n_cols);

  /* both prompts once: the metric at each end, the activations to patch
   * and the streams to resume from */
  for (int l = 0; l < L; l++)
    {
      g_ptr_array_add (caps, hook_name (p->target, l));
      if (p->target != CS_PATCH_RESID_POST)
        g_ptr_array_add (caps, g_strdup_printf ("resid_post.%d", l));
    }
  g_ptr_array_add (caps, NULL);
  rows[0] = (const gint32 *) clean->data;
  rows[1] = (const gint32 *) corrupt->data;
  opt.capture = (const char * const *) caps->pdata;
  opt.logits = CS_LOGITS_LAST;
  opt.device = p->device == CS_DEVICE_CUDA ? CS_DEVICE_CUDA : CS_DEVICE_CPU;
  /* on the CPU their keys and values are kept too: a patch at position t
   * leaves the positions before it as they were, so the patched runs take
   * those from here (not for heads patched at every position) */
  if (opt.device == CS_DEVICE_CPU && (p->target != CS_PATCH_HEADS || p->heads_last))
    opt.cache = base_kv = cs_forward_cache_new (model, 2, MAX (lens[0], lens[1]));
  base_run = cs_forward_run (model, rows, lens, 2, &opt, cancellable, error);
  if (!base_run)
    return NULL;
  r->clean_metric = metric_of (base_run->logits, V, r->answer_id, r->wrong_id, p->metric);
  r->corrupted_metric = metric_of (base_run->logits + V, V, r->answer_id, r->wrong_id, p->metric);
  if (!(fabs (r->clean_metric - r->corrupted_metric) > 1e-6 * MAX (1.0, fabs (r->clean_metric))))
    {
      g_set_error (error, CS_ERROR, CS_ERROR_RANGE, "the clean and the corrupted prompt give the same %s (%.6g): "
                   "there is no difference for patching to restore; choose prompts or answers that differ",
                   p->metric == CS_PATCH_PROB ? "probability" : "logit difference", r->clean_metric);
      return NULL;
    }
  S = base_run->seq;   /* the captures' rows per prompt: the longer prompt's length */

  for (int l = 0; l < L; l++)
    {
      g_autofree char *hook = hook_name (p->target, l);
      const float *src = cs_forward_result_get_capture (base_run, hook);
      int width = cs_forward_hook_width (model, hook), cols = 0;
      g_autofree const gint32 **batch_rows = g_new (const gint32 *, r->n_cols);
      g_autofree int *batch_lens = g_new (int, r->n_cols);
      g_autofree int *col_of = g_new (int, r->n_cols);
      g_autofree CsForwardPatch *patches = g_new0 (CsForwardPatch, r->n_cols);
      g_autofree float *head_rows = NULL, *resume = NULL;
      g_autofree int *prefix = g_new0 (int, r->n_cols);
      g_autoptr(CsForwardResult) res = NULL;
      g_autoptr(CsForwardCache) kv = NULL;
      int longest = 0;
      CsForwardOptions po = CS_FORWARD_OPTIONS_INIT;
      int resume_layer = p->target == CS_PATCH_RESID_POST ? l : l - 1;

      if (g_cancellable_set_error_if_cancelled (cancellable, error))
        return NULL;
      if (p->target == CS_PATCH_HEADS && !p->heads_last)
        {
          /* each head's z at every position, contiguous: the donor's where
           * it has a counterpart, the run's own where it has none */
          head_rows = g_new (float, (gsize) H * n * hd);
          for (int h = 0; h < H; h++)
            for (int t = 0; t < n; t++)
              {
                int k = t - shift >= 0 && t - shift < lens[donor] ? donor : base, tt = k == donor ? t - shift : t;
                memcpy (head_rows + ((gsize) h * n + t) * hd, src + ((gsize) k * S + tt) * width + (gsize) h * hd,
                        sizeof (float) * hd);
              }
        }
      /* the columns that can be patched (a position of the run patched
       * without a counterpart in the other prompt gets NaN). A patch at
       * position t leaves the positions before it as they were in the
       * unpatched run (attention is causal): those come from its keys and
       * values (prefix[b] tokens), and only the tokens from t on are run. */
      for (int c = 0, b = 0; c < r->n_cols; c++)
        {
          gboolean has = p->target == CS_PATCH_HEADS || (c - shift >= 0 && c - shift < lens[donor]);
          col_of[b] = c;
          if (!has)
            {
              r->raw[(gsize) l * r->n_cols + c] = r->values[(gsize) l * r->n_cols + c] = NAN;
              continue;
            }
          prefix[b] = !base_kv ? 0 : p->target == CS_PATCH_HEADS ? n - 1 : c;
          batch_rows[b] = rows[base] + prefix[b];
          batch_lens[b] = n - prefix[b];
          longest = MAX (longest, batch_lens[b]);
          patches[b].hook = hook;
          patches[b].prompt = b;
          if (p->target == CS_PATCH_HEADS)
            {
              patches[b].head = c;
              patches[b].position = p->heads_last ? n - 1 - prefix[b] : -1;
              patches[b].values = p->heads_last ? src + ((gsize) donor * S + lens[donor] - 1) * width + (gsize) c * hd
                                                : head_rows + (gsize) c * n * hd;
            }
          else
            {
              patches[b].head = -1;
              patches[b].position = c - prefix[b];
              patches[b].values = src + ((gsize) donor * S + c - shift) * width;
            }
          cols = ++b;
        }
      if (resume_layer >= 0 && cols > 0)
        {
          g_autofree char *post = g_strdup_printf ("resid_post.%d", resume_layer);
          const float *stream = cs_forward_result_get_capture (base_run, post);
          resume = g_try_malloc ((gsize) cols * longest * d * sizeof (float));
          if (!resume)
            {
              g_set_error (error, CS_ERROR, CS_ERROR_NO_MEMORY, "not enough memory for %d patched runs of %d tokens",
                           cols, n);
              return NULL;
            }
          for (int b = 0; b < cols; b++)
            memcpy (resume + (gsize) b * longest * d, stream + ((gsize) base * S + prefix[b]) * d,
                    sizeof (float) * batch_lens[b] * d);
          po.resume_layer = resume_layer;
          po.resume_from = resume;
        }
      if (base_kv && cols > 0)
        {
          if (!(kv = cs_forward_cache_new_from (model, cols, n, resume_layer + 1)))
            {
              g_set_error (error, CS_ERROR, CS_ERROR_NO_MEMORY, "not enough memory for the keys and values of %d "
                           "patched runs", cols);
              return NULL;
            }
          for (int b = 0; b < cols; b++)
            cs_forward_cache_copy (kv, b, base_kv, base, prefix[b]);
          po.cache = kv;
        }
      po.logits = CS_LOGITS_LAST;
      po.device = CS_DEVICE_CPU;
      po.patches = patches;
      po.n_patches = cols;
      if (cols > 0)
        {
          res = cs_forward_run (model, batch_rows, batch_lens, cols, &po, cancellable, error);
          if (!res)
            return NULL;
        }
      for (int b = 0; b < cols; b++)
        {
          double m = metric_of (res->logits + (gsize) b * V, V, r->answer_id, r->wrong_id, p->metric);
          gsize at = (gsize) l * r->n_cols + col_of[b];
          r->raw[at] = m;
          r->values[at] = (m - r->corrupted_metric) / (r->clean_metric - r->corrupted_metric);
        }
      r->n_runs += cols;
      if (progress)
        progress ((l + 1.0) / L, progress_data);
    }
  r->seconds = (g_get_monotonic_time () - t0) / 1e6;
  return g_steal_pointer (&r);
}

/* ------------------------------------------------------------ workspace */

gboolean
cs_patch_result_save (const CsPatchResult *r, const char *path, GError **error)
{
  g_autoptr(CsH5Writer) w = NULL;
  g_autoptr(JsonBuilder) b = json_builder_new ();
  g_autoptr(JsonNode) root = NULL;
  gsize dims[2] = { (gsize) r->n_layers, (gsize) r->n_cols };

  if (!(w = cs_h5_writer_for_group (path, "/patching", error)))
    return FALSE;
  json_builder_begin_object (b);
#define STR(k, v) json_builder_set_member_name (b, k); json_builder_add_string_value (b, v)
#define NUM(k, v) json_builder_set_member_name (b, k); json_builder_add_double_value (b, v)
#define INT(k, v) json_builder_set_member_name (b, k); json_builder_add_int_value (b, v)
  STR ("clean", r->clean);
  STR ("corrupted", r->corrupted);
  STR ("answer", r->answer);
  STR ("wrong", r->wrong);
  STR ("target", cs_patch_target_name (r->target));
  STR ("metric", r->metric == CS_PATCH_PROB ? "prob" : "logit_diff");
  STR ("direction", r->noising ? "noising" : "denoising");
  INT ("heads_last", r->heads_last);
  INT ("answer_id", r->answer_id);
  INT ("wrong_id", r->wrong_id);
  NUM ("clean_metric", r->clean_metric);
  NUM ("corrupted_metric", r->corrupted_metric);
#undef STR
#undef NUM
#undef INT
  json_builder_end_object (b);
  root = json_builder_get_root (b);
  if (!cs_json_h5_write (w, "/patching/parameters", root, error) ||
      !cs_h5_writer_add_f64 (w, "/patching/values", 2, dims, r->values, error) ||
      !cs_h5_writer_add_f64 (w, "/patching/raw", 2, dims, r->raw, error) ||
      !cs_h5_writer_add_strings (w, "/patching/columns", (const char * const *) r->col_labels, r->n_cols, error) ||
      !cs_h5_writer_add_strings (w, "/patching/clean_tokens", (const char * const *) r->clean_tokens,
                                 g_strv_length (r->clean_tokens), error) ||
      !cs_h5_writer_add_strings (w, "/patching/corrupted_tokens", (const char * const *) r->corrupted_tokens,
                                 g_strv_length (r->corrupted_tokens), error))
    return FALSE;
  return cs_h5_writer_commit (w, error);
}

CsPatchResult *
cs_patch_result_load (const char *path, GError **error)
{
  g_autoptr(CsH5Reader) rd = cs_h5_reader_open (path, error);
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(CsPatchResult) r = NULL;
  JsonObject *o;
  gsize dims[8];
  int rank;

  if (!rd || !(o = cs_json_h5_read (rd, parser, "/patching/parameters", path, "patching results", "them", "patch",
                                     "patching", error)))
    return NULL;
  r = g_new0 (CsPatchResult, 1);
  r->clean = g_strdup (cs_json_string (o, "clean", ""));
  r->corrupted = g_strdup (cs_json_string (o, "corrupted", ""));
  r->answer = g_strdup (cs_json_string (o, "answer", ""));
  r->wrong = g_strdup (cs_json_string (o, "wrong", ""));
  if (!cs_patch_target_parse (cs_json_string (o, "target", ""), &r->target))
    {
      g_set_error (error, CS_ERROR, CS_ERROR_FORMAT, "%s: unknown patching target", path);
      return NULL;
    }
  r->metric = g_str_equal (cs_json_string (o, "metric", ""), "prob") ? CS_PATCH_PROB : CS_PATCH_LOGIT_DIFF;
  r->noising = g_str_equal (cs_json_string (o, "direction", ""), "noising");
  r->heads_last = cs_json_int (o, "heads_last", 0) != 0;
  r->answer_id = (gint32) cs_json_int (o, "answer_id", -1);
  r->wrong_id = (gint32) cs_json_int (o, "wrong_id", -1);
  r->clean_metric = cs_json_double (o, "clean_metric", NAN);
  r->corrupted_metric = cs_json_double (o, "corrupted_metric", NAN);
  if (!(r->values = cs_h5_reader_f64 (rd, "/patching/values", &rank, dims, error)))
    return NULL;
  if (rank != 2 || dims[0] == 0 || dims[1] == 0 || dims[0] > 100000 || dims[1] > 100000)
    {
      g_set_error (error, CS_ERROR, CS_ERROR_FORMAT, "%s: /patching/values is not a layers × columns table", path);
      return NULL;
    }
  r->n_layers = (int) dims[0];
  r->n_cols = (int) dims[1];
  if (!(r->raw = cs_h5_reader_f64 (rd, "/patching/raw", &rank, dims, error)))
    return NULL;
  if (rank != 2 || (int) dims[0] != r->n_layers || (int) dims[1] != r->n_cols)
    {
      g_set_error (error, CS_ERROR, CS_ERROR_FORMAT, "%s: /patching/raw does not match /patching/values", path);
      return NULL;
    }
  if (!(r->col_labels = cs_h5_reader_strings (rd, "/patching/columns", error)) ||
      !(r->clean_tokens = cs_h5_reader_strings (rd, "/patching/clean_tokens", error)) ||
      !(r->corrupted_tokens = cs_h5_reader_strings (rd, "/patching/corrupted_tokens", error)))
    return NULL;
  r->n_tokens = (int) g_strv_length (r->noising ? r->clean_tokens : r->corrupted_tokens);
  r->shift = r->n_tokens - (int) g_strv_length (r->noising ? r->corrupted_tokens : r->clean_tokens);
  if ((int) g_strv_length (r->col_labels) != r->n_cols ||
      (r->target != CS_PATCH_HEADS && r->n_cols != r->n_tokens))
    {
      g_set_error (error, CS_ERROR, CS_ERROR_FORMAT, "%s: the patching labels do not match the table", path);
      return NULL;
    }
  return g_steal_pointer (&r);
}
