#define G_LOG_DOMAIN "cs-fv"

#include "cs-fv.h"
#include "cs-error.h"
#include "cs-forward.h"
#include "cs-hdf5.h"
#include "cs-json.h"
#include "cs-paths.h"

#include <hdf5.h>
#include <json-glib/json-glib.h>
#include <math.h>
#include <string.h>

/* Activations kept at once (captures of a batch over several layers). */
#define CAPTURE_BUDGET ((gsize) 768 << 20)
/* Prompts per patched batch. */
#define MAX_BATCH 256

void
cs_fv_params_init (CsFvParams *p)
{
  p->shots = 10;
  p->n_prompts = 25;
  p->heads = 10;
  p->n_eval = 50;
  p->seed = 0;
  p->device = CS_DEVICE_AUTO;
}

void
cs_fv_task_free (CsFvTask *t)
{
  if (!t)
    return;
  g_free (t->name);
  g_free (t->template);
  g_free (t->separator);
  g_clear_pointer (&t->inputs, g_ptr_array_unref);
  g_clear_pointer (&t->outputs, g_ptr_array_unref);
  g_free (t);
}

CsFvTask *
cs_fv_task_load (const char *file_or_name, GError **error)
{
  static const char *const shipped[] = { "antonym", "hypernym", "plural" };
  g_autofree char *path = NULL;
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(CsFvTask) t = NULL;
  JsonObject *o;
  JsonArray *pairs;

  for (guint i = 0; i < G_N_ELEMENTS (shipped) && !path; i++)
    if (g_str_equal (file_or_name, shipped[i]))
      {
        g_autofree char *name = g_strconcat (shipped[i], ".json", NULL);
        path = g_build_filename (cs_paths_get_datadir (), "tasks", name, NULL);
      }
  if (!path)
    path = g_strdup (file_or_name);
  if (!cs_json_parse_file (parser, path, error))
    return NULL;
  o = cs_json_root_object (parser);
  if (!o || !json_object_has_member (o, "pairs") ||
      !JSON_NODE_HOLDS_ARRAY (json_object_get_member (o, "pairs")))
    {
      g_set_error (error, CS_ERROR, CS_ERROR_FORMAT, "%s: a task is {\"pairs\": [[\"hot\", \"cold\"], …]} with an "
                   "optional \"template\" (\"{x}: {y}\") and \"separator\"", path);
      return NULL;
    }
  t = g_new0 (CsFvTask, 1);
  t->name = g_strdup (cs_json_string (o, "name", file_or_name));
  t->template = g_strdup (cs_json_string (o, "template", "{x}: {y}"));
  t->separator = g_strdup (cs_json_string (o, "separator", ". "));
  t->inputs = g_ptr_array_new_with_free_func (g_free);
  t->outputs = g_ptr_array_new_with_free_func (g_free);
  {
    const char *x = strstr (t->template, "{x}"), *y = strstr (t->template, "{y}");
    if (!x || !y || y < x || strstr (y + 3, "{y}") || strstr (x + 3, "{x}") || y[3] != '\0')
      {
        g_set_error (error, CS_ERROR, CS_ERROR_FORMAT, "%s: the template must hold {x} once and end with {y} "
                     "(\"{x}: {y}\"), not \"%s\"", path, t->template);
        return NULL;
      }
  }
  pairs = json_object_get_array_member (o, "pairs");
  for (guint i = 0; i < json_array_get_length (pairs); i++)
    {
      JsonNode *n = json_array_get_element (pairs, i);
      JsonArray *pair = JSON_NODE_HOLDS_ARRAY (n) ? json_node_get_array (n) : NULL;
      const char *a, *b;
      if (!pair || json_array_get_length (pair) != 2 ||
          json_node_get_value_type (json_array_get_element (pair, 0)) != G_TYPE_STRING ||
          json_node_get_value_type (json_array_get_element (pair, 1)) != G_TYPE_STRING)
        {
          g_set_error (error, CS_ERROR, CS_ERROR_FORMAT, "%s: pair %u is not two strings", path, i + 1);
          return NULL;
        }
      a = json_array_get_string_element (pair, 0);
      b = json_array_get_string_element (pair, 1);
      if (!*a || !*b)
        {
          g_set_error (error, CS_ERROR, CS_ERROR_FORMAT, "%s: pair %u has an empty side", path, i + 1);
          return NULL;
        }
      g_ptr_array_add (t->inputs, g_strdup (a));
      g_ptr_array_add (t->outputs, g_strdup (b));
    }
  return g_steal_pointer (&t);
}

void
cs_fv_result_free (CsFvResult *r)
{
  if (!r)
    return;
  g_free (r->task);
  g_free (r->aie);
  g_free (r->top_layer);
  g_free (r->top_head);
  g_free (r->vector);
  g_free (r->mean_z);
  g_free (r->layer_prob);
  g_free (r->layer_acc);
  g_clear_pointer (&r->clean_ids, g_ptr_array_unref);
  g_clear_pointer (&r->shuffled_ids, g_ptr_array_unref);
  g_clear_pointer (&r->eval_ids, g_ptr_array_unref);
  g_free (r->answers);
  g_free (r->eval_answers);
  g_free (r);
}

/* ------------------------------------------------------------ prompts */

/* "{x}: {y}" with x and y; the query is the part before {y} (its trailing
 * space left to the answer, which then starts with one). */
static void
append_demo (GString *s, const char *template, const char *x, const char *y)
{
  const char *px = strstr (template, "{x}"), *py = strstr (template, "{y}");
  g_string_append_len (s, template, px - template);
  g_string_append (s, x);
  g_string_append_len (s, px + 3, py - (px + 3));
  if (y)
    g_string_append (s, y);
}

static char *
query_text (const CsFvTask *t, const char *x, gboolean *space)
{
  GString *s = g_string_new (NULL);
  append_demo (s, t->template, x, NULL);
  *space = s->len > 0 && s->str[s->len - 1] == ' ';
  while (s->len > 0 && s->str[s->len - 1] == ' ')
    g_string_truncate (s, s->len - 1);
  return g_string_free (s, FALSE);
}

/* The answer: the first token of the output as it follows the query. */
static gint32
answer_token (CsTokenizer *tok, const char *y, gboolean space)
{
  g_autofree char *text = space ? g_strconcat (" ", y, NULL) : g_strdup (y);
  g_autoptr(GArray) ids = cs_tokenizer_encode (tok, text, FALSE, NULL);
  return ids && ids->len > 0 ? g_array_index (ids, gint32, 0) : -1;
}

static GArray *
encode (CsTokenizer *tok, const char *text, int max_len, GError **error)
{
  GArray *ids = cs_tokenizer_encode (tok, text, TRUE, error);
  if (ids && ((int) ids->len > max_len || ids->len == 0))
    {
      g_set_error (error, CS_ERROR, CS_ERROR_RANGE, "an in-context prompt has %u tokens, more than the model's "
                   "context of %d: ask for fewer demonstrations", ids->len, max_len);
      g_array_unref (ids);
      return NULL;
    }
  return ids;
}

/* ------------------------------------------------------------ runs */

typedef struct
{
  double prob;
  gboolean top;
} Outcome;

static Outcome
outcome (const float *logits, int V, gint32 answer)
{
  double mx = -INFINITY, sum = 0;
  int best = 0;
  for (int i = 0; i < V; i++)
    if (logits[i] > mx)
      {
        mx = logits[i];
        best = i;
      }
  for (int i = 0; i < V; i++)
    sum += exp ((double) logits[i] - mx);
  return (Outcome) { exp ((double) logits[answer] - mx) / sum, best == answer };
}

/* The prompts of a list as rows and lengths for cs_forward_run. */
static void
rows_of (GPtrArray *list, const gint32 **rows, int *lens)
{
  for (guint i = 0; i < list->len; i++)
    {
      GArray *a = g_ptr_array_index (list, i);
      rows[i] = (const gint32 *) a->data;
      lens[i] = (int) a->len;
    }
}

CsFvResult *
cs_fv_run (CsModel *model, CsTokenizer *tok, const CsFvTask *task, const CsFvParams *prm,
           CsProgressFunc progress, gpointer progress_data, GCancellable *cancellable, GError **error)
{
  const CsModelConfig *cfg = cs_model_get_config (model);
  int L = cfg->n_layers, H = cfg->n_heads, hd = cfg->head_dim, d = cfg->hidden, V = cfg->vocab;
  int qd = H * hd, N = prm->n_prompts, S = prm->shots, n_pairs = (int) task->inputs->len;
  g_autoptr(CsFvResult) r = g_new0 (CsFvResult, 1);
  g_autofree int *order = NULL;
  g_autofree double *mean_z = NULL;   /* [L, qd] at the last token */
  g_autofree const gint32 **rows = NULL;
  g_autofree int *lens = NULL;
  g_autofree float **shuffled_post = NULL;   /* [L] resid_post.l of the shuffled prompts, or NULL */
  g_autoptr(CsForwardCache) shuffled_kv = NULL;   /* their keys and values, or NULL */
  double shuffled_p[1024];
  int n_train, maxlen = 0, shuffled_seq = 0, steps, step = 0;
  gboolean space;
  GRand *rand;
  gint64 t0 = g_get_monotonic_time ();

  if (S < 1 || N < 1 || N > 1024 || prm->heads < 1 || prm->n_eval < 1)
    {
      g_set_error (error, CS_ERROR, CS_ERROR_RANGE, "function vectors need at least one demonstration, prompt, head "
                   "and zero-shot query (and at most 1024 prompts)");
      return NULL;
    }
  n_train = n_pairs - prm->n_eval;
  if (n_train < S + 1)
    {
      g_set_error (error, CS_ERROR, CS_ERROR_RANGE, "the task has %d pairs: %d demonstrations and a query per prompt "
                   "plus %d held-out queries need at least %d", n_pairs, S, prm->n_eval, S + 1 + prm->n_eval);
      return NULL;
    }
  r->task = g_strdup (task->name);
  r->n_layers = L;
  r->n_heads = H;
  r->hidden = d;
  r->shots = S;
  r->n_prompts = N;
  r->n_eval = prm->n_eval;
  r->clean_ids = g_ptr_array_new_with_free_func ((GDestroyNotify) g_array_unref);
  r->shuffled_ids = g_ptr_array_new_with_free_func ((GDestroyNotify) g_array_unref);
  r->eval_ids = g_ptr_array_new_with_free_func ((GDestroyNotify) g_array_unref);
  r->answers = g_new (gint32, N);
  r->eval_answers = g_new (gint32, prm->n_eval);

  /* the pairs in a seeded order: held-out queries at the end */
  rand = g_rand_new_with_seed (prm->seed);
  order = g_new (int, n_pairs);
  for (int i = 0; i < n_pairs; i++)
    order[i] = i;
  for (int i = n_pairs - 1; i > 0; i--)
    {
      int j = g_rand_int_range (rand, 0, i + 1), t = order[i];
      order[i] = order[j];
      order[j] = t;
    }
  for (int p = 0; p < N; p++)
    {
      g_autofree int *pick = g_new (int, S + 1);
      GString *clean = g_string_new (NULL), *shuf = g_string_new (NULL);
      g_autofree char *q = NULL;
      GArray *ci, *si;
      for (int k = 0; k <= S; k++)
        {
          gboolean again;
          do
            {
              pick[k] = order[g_rand_int_range (rand, 0, n_train)];
              again = FALSE;
              for (int j = 0; j < k; j++)
                again = again || pick[j] == pick[k];
            }
          while (again);
        }
      for (int k = 0; k < S; k++)
        {
          /* the shuffled prompt: each demonstration answered with the next one's output */
          append_demo (clean, task->template, task->inputs->pdata[pick[k]], task->outputs->pdata[pick[k]]);
          append_demo (shuf, task->template, task->inputs->pdata[pick[k]], task->outputs->pdata[pick[(k + 1) % S]]);
          g_string_append (clean, task->separator);
          g_string_append (shuf, task->separator);
        }
      q = query_text (task, task->inputs->pdata[pick[S]], &space);
      g_string_append (clean, q);
      g_string_append (shuf, q);
      ci = encode (tok, clean->str, cfg->max_positions, error);
      si = ci ? encode (tok, shuf->str, cfg->max_positions, error) : NULL;
      g_string_free (clean, TRUE);
      g_string_free (shuf, TRUE);
      if (!ci || !si)
        {
          if (ci)
            g_array_unref (ci);
          g_rand_free (rand);
          return NULL;
        }
      g_ptr_array_add (r->clean_ids, ci);
      g_ptr_array_add (r->shuffled_ids, si);
      maxlen = MAX (maxlen, (int) MAX (ci->len, si->len));
      r->answers[p] = answer_token (tok, task->outputs->pdata[pick[S]], space);
    }
  for (int e = 0; e < prm->n_eval; e++)
    {
      int i = order[n_train + e];
      g_autofree char *q = query_text (task, task->inputs->pdata[i], &space);
      GArray *ids = encode (tok, q, cfg->max_positions, error);
      if (!ids)
        {
          g_rand_free (rand);
          return NULL;
        }
      g_ptr_array_add (r->eval_ids, ids);
      r->eval_answers[e] = answer_token (tok, task->outputs->pdata[i], space);
    }
  g_rand_free (rand);
  for (int p = 0; p < N; p++)
    if (r->answers[p] < 0 || r->answers[p] >= V)
      {
        g_set_error (error, CS_ERROR, CS_ERROR_RANGE, "an answer of the task is empty after tokenisation");
        return NULL;
      }
  for (int e = 0; e < prm->n_eval; e++)
    if (r->eval_answers[e] < 0 || r->eval_answers[e] >= V)
      {
        g_set_error (error, CS_ERROR, CS_ERROR_RANGE, "an answer of the task is empty after tokenisation");
        return NULL;
      }

  steps = 2 + 2 * L;
  rows = g_new (const gint32 *, MAX (MAX (N, prm->n_eval), MAX_BATCH));
  lens = g_new (int, MAX (MAX (N, prm->n_eval), MAX_BATCH));
  mean_z = g_new0 (double, (gsize) L * qd);
  shuffled_post = g_new0 (float *, L);

  /* the clean prompts: each head's mean z at the last token, layers in
   * groups whose captures fit the budget */
  {
    gsize per_layer = (gsize) N * maxlen * qd * sizeof (float);
    int group = (int) CLAMP (CAPTURE_BUDGET / MAX (per_layer, 1), 1, (gsize) L);
    rows_of (r->clean_ids, rows, lens);
    for (int l0 = 0; l0 < L; l0 += group)
      {
        int l1 = MIN (L, l0 + group);
        g_autoptr(GPtrArray) caps = g_ptr_array_new_with_free_func (g_free);
        g_autoptr(CsForwardResult) res = NULL;
        CsForwardOptions opt = CS_FORWARD_OPTIONS_INIT;
        for (int l = l0; l < l1; l++)
          g_ptr_array_add (caps, g_strdup_printf ("attn_z.%d", l));
        g_ptr_array_add (caps, NULL);
        opt.capture = (const char * const *) caps->pdata;
        opt.device = CS_DEVICE_CPU;
        opt.logits = l1 == L ? CS_LOGITS_LAST : CS_LOGITS_NONE;
        opt.stop_layer = l1 == L ? -1 : l1 - 1;
        if (!(res = cs_forward_run (model, rows, lens, N, &opt, cancellable, error)))
          return NULL;
        for (int l = l0; l < l1; l++)
          {
            const float *z = g_ptr_array_index (res->captures, l - l0);
            for (int p = 0; p < N; p++)
              for (int j = 0; j < qd; j++)
                mean_z[(gsize) l * qd + j] += z[((gsize) p * res->seq + lens[p] - 1) * qd + j] / (double) N;
          }
        if (l1 == L)
          for (int p = 0; p < N; p++)
            {
              Outcome o = outcome (res->logits + (gsize) p * V, V, r->answers[p]);
              r->icl_prob += o.prob / N;
              r->icl_acc += (double) o.top / N;
            }
      }
    if (progress)
      progress (++step / (double) steps, progress_data);
  }

  /* the shuffled prompts: their p(answer), and the streams to resume from when they fit */
  {
    gboolean keep = (gsize) N * maxlen * d * sizeof (float) * L <= CAPTURE_BUDGET;
    g_autoptr(GPtrArray) caps = g_ptr_array_new_with_free_func (g_free);
    g_autoptr(CsForwardResult) res = NULL;
    CsForwardOptions opt = CS_FORWARD_OPTIONS_INIT;
    for (int l = 0; keep && l < L - 1; l++)
      g_ptr_array_add (caps, g_strdup_printf ("resid_post.%d", l));
    g_ptr_array_add (caps, NULL);
    rows_of (r->shuffled_ids, rows, lens);
    opt.capture = (const char * const *) caps->pdata;
    opt.device = CS_DEVICE_CPU;
    opt.logits = CS_LOGITS_LAST;
    /* their keys and values too, when they fit: a head patched at the last
     * token leaves every earlier token as it was, so the patched runs need
     * only their last token computed (from these) */
    if (keep && (gsize) N * maxlen * cfg->n_kv_heads * hd * 2 * sizeof (float) * L <= CAPTURE_BUDGET)
      shuffled_kv = cs_forward_cache_new (model, N, maxlen);
    opt.cache = shuffled_kv;
    if (!(res = cs_forward_run (model, rows, lens, N, &opt, cancellable, error)))
      return NULL;
    for (int p = 0; p < N; p++)
      {
        Outcome o = outcome (res->logits + (gsize) p * V, V, r->answers[p]);
        shuffled_p[p] = o.prob;
        r->shuffled_prob += o.prob / N;
        r->shuffled_acc += (double) o.top / N;
      }
    shuffled_seq = res->seq;
    for (int l = 0; keep && l < L - 1; l++)
      shuffled_post[l] = g_steal_pointer (&res->captures->pdata[l]);
    if (progress)
      progress (++step / (double) steps, progress_data);
  }

  /* each head's average indirect effect: its mean z put into the shuffled
   * prompts at the last token, a layer's heads × prompts in batches */
  r->aie = g_new0 (double, (gsize) L * H);
  for (int l = 0; l < L; l++)
    {
      g_autofree char *hook = g_strdup_printf ("attn_z.%d", l);
      int total = H * N, per_batch = MAX_BATCH;
      if (shuffled_kv)
        {
          /* the batch's copies of the prompts' keys and values within the budget */
          gsize row = (gsize) maxlen * cfg->n_kv_heads * hd * 2 * sizeof (float) * (L - l);
          per_batch = (int) CLAMP (CAPTURE_BUDGET / MAX (row, 1), 1, (gsize) MAX_BATCH);
        }
      for (int b0 = 0; b0 < total; b0 += per_batch)
        {
          int nb = MIN (per_batch, total - b0);
          g_autoptr(CsForwardCache) kv = NULL;
          g_autofree CsForwardPatch *patches = g_new0 (CsForwardPatch, nb);
          g_autofree float *zf = g_new (float, (gsize) H * hd);
          g_autofree float *resume = NULL;
          g_autoptr(CsForwardResult) res = NULL;
          CsForwardOptions opt = CS_FORWARD_OPTIONS_INIT;
          g_autofree const gint32 **brows = g_new (const gint32 *, nb);
          g_autofree int *blens = g_new (int, nb);
          int blen = 0;
          if (g_cancellable_set_error_if_cancelled (cancellable, error))
            return NULL;
          for (int j = 0; j < H * hd; j++)
            zf[j] = (float) mean_z[(gsize) l * qd + j];
          for (int i = 0; i < nb; i++)
            {
              int h = (b0 + i) / N, p = (b0 + i) % N;
              GArray *a = g_ptr_array_index (r->shuffled_ids, p);
              brows[i] = (const gint32 *) a->data;
              blens[i] = (int) a->len;
              blen = MAX (blen, blens[i]);
              patches[i] = (CsForwardPatch) { hook, i, blens[i] - 1, h, zf + (gsize) h * hd, FALSE };
            }
          if (shuffled_kv)
            {
              /* the last token alone, after the prompt's own keys and values */
              if (!(kv = cs_forward_cache_new_from (model, nb, maxlen, l)))
                {
                  g_set_error (error, CS_ERROR, CS_ERROR_NO_MEMORY, "not enough memory for the patched prompts");
                  return NULL;
                }
              resume = l > 0 ? g_try_malloc ((gsize) nb * d * sizeof (float)) : NULL;
              if (l > 0 && !resume)
                {
                  g_set_error (error, CS_ERROR, CS_ERROR_NO_MEMORY, "not enough memory for the patched prompts");
                  return NULL;
                }
              for (int i = 0; i < nb; i++)
                {
                  int p = (b0 + i) % N;
                  cs_forward_cache_copy (kv, i, shuffled_kv, p, blens[i] - 1);
                  if (l > 0)
                    memcpy (resume + (gsize) i * d,
                            shuffled_post[l - 1] + ((gsize) p * shuffled_seq + blens[i] - 1) * d, sizeof (float) * d);
                  brows[i] += blens[i] - 1;
                  blens[i] = 1;
                  patches[i].position = 0;
                }
              opt.cache = kv;
              if (l > 0)
                {
                  opt.resume_layer = l - 1;
                  opt.resume_from = resume;
                }
            }
          else if (l > 0 && shuffled_post[l - 1])
            {
              resume = g_try_malloc0 ((gsize) nb * blen * d * sizeof (float));
              if (!resume)
                {
                  g_set_error (error, CS_ERROR, CS_ERROR_NO_MEMORY, "not enough memory for the patched prompts");
                  return NULL;
                }
              for (int i = 0; i < nb; i++)
                {
                  int p = (b0 + i) % N;
                  memcpy (resume + (gsize) i * blen * d, shuffled_post[l - 1] + (gsize) p * shuffled_seq * d,
                          sizeof (float) * blens[i] * d);
                }
              opt.resume_layer = l - 1;
              opt.resume_from = resume;
            }
          opt.device = CS_DEVICE_CPU;
          opt.logits = CS_LOGITS_LAST;
          opt.patches = patches;
          opt.n_patches = nb;
          if (!(res = cs_forward_run (model, brows, blens, nb, &opt, cancellable, error)))
            return NULL;
          for (int i = 0; i < nb; i++)
            {
              int h = (b0 + i) / N, p = (b0 + i) % N;
              Outcome o = outcome (res->logits + (gsize) i * V, V, r->answers[p]);
              r->aie[(gsize) l * H + h] += (o.prob - shuffled_p[p]) / N;
            }
        }
      if (progress)
        progress (++step / (double) steps, progress_data);
    }

  r->mean_z = g_new (float, (gsize) L * qd);
  r->mean_z_width = qd;
  for (gsize i = 0; i < (gsize) L * qd; i++)
    r->mean_z[i] = (float) mean_z[i];

  /* the top heads and their summed mean outputs */
  r->k = MIN (prm->heads, L * H);
  r->top_layer = g_new (int, r->k);
  r->top_head = g_new (int, r->k);
  r->vector = g_new0 (float, d);
  {
    g_autofree gboolean *taken = g_new0 (gboolean, (gsize) L * H);
    g_autofree float *out = g_new (float, d), *zh = g_new (float, hd);
    for (int k = 0; k < r->k; k++)
      {
        int best = -1;
        for (int i = 0; i < L * H; i++)
          if (!taken[i] && (best < 0 || r->aie[i] > r->aie[best]))
            best = i;
        taken[best] = TRUE;
        r->top_layer[k] = best / H;
        r->top_head[k] = best % H;
        for (int j = 0; j < hd; j++)
          zh[j] = (float) mean_z[(gsize) r->top_layer[k] * qd + (gsize) r->top_head[k] * hd + j];
        if (!cs_forward_head_output (model, r->top_layer[k], r->top_head[k], zh, out))
          {
            g_set_error (error, CS_ERROR, CS_ERROR_NO_MEMORY, "not enough memory for a head's output");
            return NULL;
          }
        for (int j = 0; j < d; j++)
          r->vector[j] += out[j];
      }
  }

  /* zero-shot: without the vector, then with it added after each layer at the last token */
  {
    int M = prm->n_eval;
    g_autoptr(CsForwardResult) base = NULL;
    CsForwardOptions opt = CS_FORWARD_OPTIONS_INIT;
    rows_of (r->eval_ids, rows, lens);
    opt.device = CS_DEVICE_CPU;
    opt.logits = CS_LOGITS_LAST;
    if (!(base = cs_forward_run (model, rows, lens, M, &opt, cancellable, error)))
      return NULL;
    for (int e = 0; e < M; e++)
      {
        Outcome o = outcome (base->logits + (gsize) e * V, V, r->eval_answers[e]);
        r->zs_prob += o.prob / M;
        r->zs_acc += (double) o.top / M;
      }
    r->layer_prob = g_new0 (double, L);
    r->layer_acc = g_new0 (double, L);
    for (int l = 0; l < L; l++)
      {
        g_autofree char *hook = g_strdup_printf ("resid_post.%d", l);
        g_autofree CsForwardPatch *patches = g_new0 (CsForwardPatch, M);
        g_autoptr(CsForwardResult) res = NULL;
        CsForwardOptions po = CS_FORWARD_OPTIONS_INIT;
        for (int e = 0; e < M; e++)
          patches[e] = (CsForwardPatch) { hook, e, lens[e] - 1, -1, r->vector, TRUE };
        po.device = CS_DEVICE_CPU;
        po.logits = CS_LOGITS_LAST;
        po.patches = patches;
        po.n_patches = M;
        if (!(res = cs_forward_run (model, rows, lens, M, &po, cancellable, error)))
          return NULL;
        for (int e = 0; e < M; e++)
          {
            Outcome o = outcome (res->logits + (gsize) e * V, V, r->eval_answers[e]);
            r->layer_prob[l] += o.prob / M;
            r->layer_acc[l] += (double) o.top / M;
          }
        if (progress)
          progress (++step / (double) steps, progress_data);
      }
    r->best_layer = 0;
    for (int l = 1; l < L; l++)
      if (r->layer_prob[l] > r->layer_prob[r->best_layer])
        r->best_layer = l;
  }
  for (int l = 0; l < L; l++)
    g_free (shuffled_post[l]);
  r->seconds = (g_get_monotonic_time () - t0) / 1e6;
  return g_steal_pointer (&r);
}

/* ------------------------------------------------------------ workspace */

void
cs_fv_result_add_summary (const CsFvResult *r, JsonBuilder *b)
{
#define STR(k, v) json_builder_set_member_name (b, k); json_builder_add_string_value (b, v)
#define NUM(k, v) json_builder_set_member_name (b, k); json_builder_add_double_value (b, v)
#define INT(k, v) json_builder_set_member_name (b, k); json_builder_add_int_value (b, v)
  STR ("task", r->task);
  INT ("shots", r->shots);
  INT ("prompts", r->n_prompts);
  INT ("eval", r->n_eval);
  NUM ("icl_prob", r->icl_prob);
  NUM ("icl_acc", r->icl_acc);
  NUM ("shuffled_prob", r->shuffled_prob);
  NUM ("shuffled_acc", r->shuffled_acc);
  NUM ("zero_shot_prob", r->zs_prob);
  NUM ("zero_shot_acc", r->zs_acc);
  INT ("best_layer", r->best_layer);
#undef STR
#undef NUM
#undef INT
}

gboolean
cs_fv_result_save (const CsFvResult *r, const char *path, GError **error)
{
  g_autoptr(CsH5Writer) w = NULL;
  g_autoptr(JsonBuilder) b = json_builder_new ();
  g_autoptr(JsonNode) root = NULL;
  g_autofree gint32 *heads = g_new (gint32, 2 * MAX (r->k, 1));
  gsize lh[2] = { (gsize) r->n_layers, (gsize) r->n_heads }, k2[2] = { (gsize) r->k, 2 }, dd[1] = { (gsize) r->hidden },
        ll[1] = { (gsize) r->n_layers }, lz[2] = { (gsize) r->n_layers, (gsize) r->mean_z_width };

  if (!(w = cs_h5_writer_for_group (path, "/function_vector", error)))
    return FALSE;
  json_builder_begin_object (b);
  cs_fv_result_add_summary (r, b);
  json_builder_end_object (b);
  root = json_builder_get_root (b);
  for (int k = 0; k < r->k; k++)
    {
      heads[2 * k] = r->top_layer[k];
      heads[2 * k + 1] = r->top_head[k];
    }
  if (!cs_json_h5_write (w, "/function_vector/parameters", root, error) ||
      !cs_h5_writer_add_f64 (w, "/function_vector/aie", 2, lh, r->aie, error) ||
      !cs_h5_writer_add_i32 (w, "/function_vector/heads", 2, k2, heads, error) ||
      !cs_h5_writer_add_f32 (w, "/function_vector/vector", 1, dd, r->vector, error) ||
      (r->mean_z && !cs_h5_writer_add_f32 (w, "/function_vector/mean_z", 2, lz, r->mean_z, error)) ||
      !cs_h5_writer_add_f64 (w, "/function_vector/layer_prob", 1, ll, r->layer_prob, error) ||
      !cs_h5_writer_add_f64 (w, "/function_vector/layer_acc", 1, ll, r->layer_acc, error))
    return FALSE;
  return cs_h5_writer_commit (w, error);
}

CsFvResult *
cs_fv_result_load (const char *path, GError **error)
{
  g_autoptr(CsH5Reader) rd = cs_h5_reader_open (path, error);
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(CsFvResult) r = NULL;
  g_autofree gint32 *heads = NULL;
  g_autofree double *lp = NULL, *la = NULL;
  JsonObject *o;
  gsize dims[8], n = 0;
  int rank;

  if (!rd || !(o = cs_json_h5_read (rd, parser, "/function_vector/parameters", path, "function vector", "one", "fv",
                                     "function vector's", error)))
    return NULL;
  r = g_new0 (CsFvResult, 1);
  r->task = g_strdup (cs_json_string (o, "task", ""));
  r->shots = (int) cs_json_int (o, "shots", 0);
  r->n_prompts = (int) cs_json_int (o, "prompts", 0);
  r->n_eval = (int) cs_json_int (o, "eval", 0);
  r->icl_prob = cs_json_double (o, "icl_prob", NAN);
  r->icl_acc = cs_json_double (o, "icl_acc", NAN);
  r->shuffled_prob = cs_json_double (o, "shuffled_prob", NAN);
  r->shuffled_acc = cs_json_double (o, "shuffled_acc", NAN);
  r->zs_prob = cs_json_double (o, "zero_shot_prob", NAN);
  r->zs_acc = cs_json_double (o, "zero_shot_acc", NAN);
  r->best_layer = (int) cs_json_int (o, "best_layer", 0);
  if (!(r->aie = cs_h5_reader_f64 (rd, "/function_vector/aie", &rank, dims, error)))
    return NULL;
  if (rank != 2 || dims[0] == 0 || dims[1] == 0 || dims[0] > 4096 || dims[1] > 4096)
    {
      g_set_error (error, CS_ERROR, CS_ERROR_FORMAT, "%s: /function_vector/aie is not a layers × heads table", path);
      return NULL;
    }
  r->n_layers = (int) dims[0];
  r->n_heads = (int) dims[1];
  if (!(heads = cs_h5_reader_i32 (rd, "/function_vector/heads", &n, error)) ||
      !(lp = cs_h5_reader_f64 (rd, "/function_vector/layer_prob", &rank, dims, error)) || dims[0] != (gsize) r->n_layers ||
      !(la = cs_h5_reader_f64 (rd, "/function_vector/layer_acc", &rank, dims, error)) || dims[0] != (gsize) r->n_layers ||
      !(r->vector = cs_h5_read_f32 (path, "/function_vector/vector", &rank, dims, error)))
    {
      if (error && !*error)
        g_set_error (error, CS_ERROR, CS_ERROR_FORMAT, "%s: the function vector's tables do not match", path);
      return NULL;
    }
  r->hidden = (int) dims[0];
  r->k = (int) (n / 2);
  r->top_layer = g_new (int, MAX (r->k, 1));
  r->top_head = g_new (int, MAX (r->k, 1));
  for (int k = 0; k < r->k; k++)
    {
      r->top_layer[k] = heads[2 * k];
      r->top_head[k] = heads[2 * k + 1];
      if (r->top_layer[k] < 0 || r->top_layer[k] >= r->n_layers || r->top_head[k] < 0 || r->top_head[k] >= r->n_heads)
        {
          g_set_error (error, CS_ERROR, CS_ERROR_FORMAT, "%s: a chosen head lies outside the table", path);
          return NULL;
        }
    }
  r->layer_prob = g_steal_pointer (&lp);
  r->layer_acc = g_steal_pointer (&la);
  if (cs_h5_reader_has (rd, "/function_vector/mean_z"))
    {
      gsize zd[8];
      int zr;
      r->mean_z = cs_h5_read_f32 (path, "/function_vector/mean_z", &zr, zd, error);
      if (!r->mean_z || zr != 2 || zd[0] != (gsize) r->n_layers || zd[1] % r->n_heads != 0)
        {
          if (error && !*error)
            g_set_error (error, CS_ERROR, CS_ERROR_FORMAT, "%s: /function_vector/mean_z does not match", path);
          return NULL;
        }
      r->mean_z_width = (int) zd[1];
    }
  if (r->best_layer < 0 || r->best_layer >= r->n_layers)
    r->best_layer = 0;
  return g_steal_pointer (&r);
}
