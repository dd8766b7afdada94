#define G_LOG_DOMAIN "cs-sae"

#include "cs-sae-card.h"
#include "cs-error.h"
#include "cs-forward.h"
#include "cs-hdf5.h"
#include "cs-steer.h"

#include <glib/gstdio.h>
#include <math.h>
#include <string.h>

#define CTX (2 * CS_SAE_SCAN_WINDOW + 1)
#define BATCH_CHUNKS 512    /* at most this many chunks a batch … */
#define BATCH_TOKENS 4096   /* … and about this many tokens */

void
cs_sae_scan_free (CsSaeScan *s)
{
  if (!s)
    return;
  g_free (s->fires);
  g_free (s->hist);
  g_free (s->top_act);
  g_free (s->top_where);
  g_free (s->top_ids);
  g_free (s->top_acts);
  g_free (s);
}

static CsSaeScan *
scan_new (int d_sae, int layer)
{
  CsSaeScan *s = g_new0 (CsSaeScan, 1);
  gsize k = (gsize) d_sae * CS_SAE_SCAN_TOP;
  s->d_sae = d_sae;
  s->layer = layer;
  s->fires = g_new0 (gint64, d_sae);
  s->hist = g_new0 (double, (gsize) d_sae * CS_SAE_SCAN_BINS);
  s->top_act = g_new0 (float, k);
  s->top_where = g_new0 (gint64, k);
  s->top_ids = g_new (gint32, k * CTX);
  s->top_acts = g_new0 (float, k * CTX);
  for (gsize i = 0; i < k * CTX; i++)
    s->top_ids[i] = -1;
  return s;
}

/* A chunk of a line: its token ids and where it starts. */
typedef struct
{
  gint32 ids[CS_SAE_SCAN_CHUNK];
  int    n;
  gint64 line;
  int    start;
} Chunk;

/* One batch of chunks through the model and the SAE, into the scan. */
static gboolean
scan_batch (CsSaeScan *s, CsModel *model, CsSae *sae, int layer, Chunk *chunks, int n_chunks, GCancellable *cancellable,
            GError **error)
{
  g_autofree char *hook = g_strdup_printf ("resid_post.%d", layer);
  const char *caps[] = { hook, NULL };
  CsForwardOptions opt = CS_FORWARD_OPTIONS_INIT;
  g_autoptr(CsForwardResult) res = NULL;
  g_autofree const gint32 **rows = g_new (const gint32 *, n_chunks);
  g_autofree int *lens = g_new (int, n_chunks);
  g_autofree float *x = NULL, *f = NULL;
  const float *cap;
  int d = sae->d_in, m = sae->d_sae, total = 0;

  for (int b = 0; b < n_chunks; b++)
    {
      rows[b] = chunks[b].ids;
      lens[b] = chunks[b].n;
      total += chunks[b].n;
    }
  opt.capture = caps;
  opt.logits = CS_LOGITS_NONE;
  opt.stop_layer = layer;
  if (!(res = cs_forward_run (model, rows, lens, n_chunks, &opt, cancellable, error)))
    return FALSE;
  cap = cs_forward_result_get_capture (res, hook);
  x = g_new (float, (gsize) total * d);
  f = g_new (float, (gsize) total * m);
  for (int b = 0, r = 0; b < n_chunks; b++)
    for (int t = 0; t < lens[b]; t++, r++)
      memcpy (x + (gsize) r * d, cap + ((gsize) b * res->seq + t) * d, sizeof (float) * d);
  cs_sae_encode (sae, x, total, f);
  for (int b = 0, r0 = 0; b < n_chunks; r0 += lens[b], b++)
    for (int t = 0; t < lens[b]; t++)
      {
        const float *row = f + (gsize) (r0 + t) * m;
        for (int k = 0; k < m; k++)
          {
            float v = row[k];
            float *top;
            int at;
            if (!(v > 0))
              continue;
            s->fires[k]++;
            {
              int bin = (int) floor ((log10 (v) + 3.0) / 6.0 * CS_SAE_SCAN_BINS);
              s->hist[(gsize) k * CS_SAE_SCAN_BINS + CLAMP (bin, 0, CS_SAE_SCAN_BINS - 1)] += 1;
            }
            top = s->top_act + (gsize) k * CS_SAE_SCAN_TOP;
            if (v <= top[CS_SAE_SCAN_TOP - 1])
              continue;
            /* into the descending list; ties keep the earlier token first */
            at = CS_SAE_SCAN_TOP - 1;
            while (at > 0 && top[at - 1] < v)
              at--;
            {
              gsize base = (gsize) k * CS_SAE_SCAN_TOP;
              memmove (top + at + 1, top + at, sizeof (float) * (CS_SAE_SCAN_TOP - 1 - at));
              memmove (s->top_where + base + at + 1, s->top_where + base + at,
                       sizeof (gint64) * (CS_SAE_SCAN_TOP - 1 - at));
              memmove (s->top_ids + (base + at + 1) * CTX, s->top_ids + (base + at) * CTX,
                       sizeof (gint32) * CTX * (CS_SAE_SCAN_TOP - 1 - at));
              memmove (s->top_acts + (base + at + 1) * CTX, s->top_acts + (base + at) * CTX,
                       sizeof (float) * CTX * (CS_SAE_SCAN_TOP - 1 - at));
              top[at] = v;
              s->top_where[base + at] = (chunks[b].line << 20) | (chunks[b].start + t);
              for (int w = 0; w < CTX; w++)
                {
                  int tt = t - CS_SAE_SCAN_WINDOW + w;
                  gboolean in = tt >= 0 && tt < lens[b];
                  s->top_ids[(base + at) * CTX + w] = in ? chunks[b].ids[tt] : -1;
                  s->top_acts[(base + at) * CTX + w] = in ? f[(gsize) (r0 + tt) * m + k] : 0;
                }
            }
          }
      }
  s->n_tokens += total;
  return TRUE;
}

static char *
cache_path (const char *sae_path, const char *corpus, int layer, gint64 max_tokens)
{
  g_autoptr(GString) key = g_string_new (NULL);
  const char *files[2] = { sae_path, corpus };
  g_autofree char *sum = NULL, *name = NULL;
  for (int i = 0; i < 2; i++)
    {
      g_autofree char *abs = g_canonicalize_filename (files[i], NULL);
      g_autofree char *weights = g_build_filename (abs, "sae_weights.safetensors", NULL);
      GStatBuf st;
      const char *probe = g_file_test (weights, G_FILE_TEST_EXISTS) ? weights : abs;
      g_string_append_printf (key, "%s|", abs);
      if (g_stat (probe, &st) == 0)
        g_string_append_printf (key, "%" G_GINT64_FORMAT "|%" G_GINT64_FORMAT "|", (gint64) st.st_size,
                                (gint64) st.st_mtime);
    }
  g_string_append_printf (key, "%d|%" G_GINT64_FORMAT "|%d|%d|%d|%d", layer, max_tokens, CS_SAE_SCAN_CHUNK,
                          CS_SAE_SCAN_TOP, CS_SAE_SCAN_WINDOW, CS_SAE_SCAN_BINS);
  sum = g_compute_checksum_for_string (G_CHECKSUM_SHA1, key->str, -1);
  name = g_strconcat (sum, ".h5", NULL);
  return g_build_filename (g_get_user_cache_dir (), "conceptscope", "sae-scans", name, NULL);
}

CsSaeScan *
cs_sae_scan_run (CsModel *model, CsTokenizer *tok, CsSae *sae, const char *sae_path, int layer, const char *corpus,
                 gint64 max_tokens, gboolean use_cache, CsProgressFunc progress, gpointer progress_data,
                 GCancellable *cancellable, GError **error)
{
  const CsModelConfig *cfg = cs_model_get_config (model);
  g_autofree char *cache = sae_path ? cache_path (sae_path, corpus, layer, max_tokens) : NULL;
  g_autoptr(GFile) file = g_file_new_for_path (corpus);
  g_autoptr(GFileInputStream) in = NULL;
  g_autoptr(GDataInputStream) data = NULL;
  g_autoptr(CsSaeScan) s = NULL;
  g_autofree Chunk *chunks = g_new0 (Chunk, BATCH_CHUNKS);
  GFileInfo *info;
  goffset size = 0;
  gint64 line_no = 0;
  int n_chunks = 0, batch_tokens = 0;
  char *line;
  gsize len;

  if (sae->d_in != cfg->hidden)
    {
      g_set_error (error, CS_ERROR, CS_ERROR_MISMATCH, "the SAE reads %d-dimensional activations, the model's are %d",
                   sae->d_in, cfg->hidden);
      return NULL;
    }
  if (layer < 0 || layer >= cfg->n_layers)
    {
      g_set_error (error, CS_ERROR, CS_ERROR_RANGE, "layer %d: this model has layers 0 to %d", layer,
                   cfg->n_layers - 1);
      return NULL;
    }
  if (use_cache && cache && g_file_test (cache, G_FILE_TEST_IS_REGULAR))
    {
      CsSaeScan *cached = cs_sae_scan_load (cache, NULL);
      if (cached && cached->d_sae == sae->d_sae && cached->layer == layer)
        {
          cached->from_cache = TRUE;
          return cached;
        }
      cs_sae_scan_free (cached);   /* damaged or another's: scanned again */
    }
  if (!(in = g_file_read (file, cancellable, error)))
    return NULL;
  if ((info = g_file_input_stream_query_info (in, G_FILE_ATTRIBUTE_STANDARD_SIZE, NULL, NULL)))
    {
      size = g_file_info_get_size (info);
      g_object_unref (info);
    }
  if (g_str_has_suffix (corpus, ".gz"))
    {
      /* a gzip'ed corpus is read through a decompressor (progress still
       * counts the compressed bytes read) */
      g_autoptr(GZlibDecompressor) gz = g_zlib_decompressor_new (G_ZLIB_COMPRESSOR_FORMAT_GZIP);
      g_autoptr(GInputStream) plain = g_converter_input_stream_new (G_INPUT_STREAM (in), G_CONVERTER (gz));
      data = g_data_input_stream_new (plain);
    }
  else
    data = g_data_input_stream_new (G_INPUT_STREAM (in));
  s = scan_new (sae->d_sae, layer);
  while ((line = g_data_input_stream_read_line_utf8 (data, &len, cancellable, error)))
    {
      g_autofree char *text = line;
      g_autoptr(GArray) ids = NULL;
      if (len > 0 && text[len - 1] == '\r')
        text[--len] = '\0';
      if (len == 0)
        {
          line_no++;
          continue;
        }
      if (!(ids = cs_tokenizer_encode (tok, text, TRUE, error)))
        return NULL;
      for (guint p = 0; p < ids->len; p += CS_SAE_SCAN_CHUNK)
        {
          Chunk *c = &chunks[n_chunks++];
          c->n = (int) MIN ((guint) CS_SAE_SCAN_CHUNK, ids->len - p);
          memcpy (c->ids, &g_array_index (ids, gint32, p), sizeof (gint32) * c->n);
          for (int t = 0; t < c->n; t++)
            if (c->ids[t] < 0 || c->ids[t] >= cfg->vocab)
              {
                g_set_error (error, CS_ERROR, CS_ERROR_RANGE, "line %" G_GINT64_FORMAT " of %s has a token outside "
                             "the model's vocabulary", line_no + 1, corpus);
                return NULL;
              }
          c->line = line_no;
          c->start = (int) p;
          batch_tokens += c->n;
          if (n_chunks == BATCH_CHUNKS || batch_tokens >= BATCH_TOKENS)
            {
              if (!scan_batch (s, model, sae, layer, chunks, n_chunks, cancellable, error))
                return NULL;
              n_chunks = 0;
              batch_tokens = 0;
              if (progress && size > 0)
                progress (MIN (0.999, (double) g_seekable_tell (G_SEEKABLE (in)) / size), progress_data);
            }
        }
      line_no++;
      if (max_tokens > 0 && s->n_tokens >= max_tokens)
        break;
    }
  if (error && *error)
    {
      if (g_error_matches (*error, G_IO_ERROR, G_IO_ERROR_PARTIAL_INPUT))
        {
          g_clear_error (error);
          g_set_error (error, CS_ERROR, CS_ERROR_FORMAT, "the compressed file ends early");
        }
      if (!g_error_matches (*error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        g_prefix_error (error, "%s, line %" G_GINT64_FORMAT ": ", corpus, line_no + 1);
      return NULL;
    }
  if (n_chunks > 0 && !scan_batch (s, model, sae, layer, chunks, n_chunks, cancellable, error))
    return NULL;
  if (s->n_tokens == 0)
    {
      g_set_error (error, CS_ERROR, CS_ERROR_RANGE, "%s holds no text to scan", corpus);
      return NULL;
    }
  if (cache)
    {
      g_autofree char *dir = g_path_get_dirname (cache);
      g_mkdir_with_parents (dir, 0755);
      cs_sae_scan_save (s, cache, NULL);   /* a cache that cannot be written is no error */
    }
  if (progress)
    progress (1.0, progress_data);
  return g_steal_pointer (&s);
}

/* The tables of a scan under prefix ("" or "/L2/") of an open writer. */
static gboolean
scan_write (CsH5Writer *w, const CsSaeScan *s, const char *prefix, GError **error)
{
  gsize m = (gsize) s->d_sae, k = m * CS_SAE_SCAN_TOP;
  gsize d1[1] = { m }, dh[2] = { m, CS_SAE_SCAN_BINS }, dt[2] = { m, CS_SAE_SCAN_TOP },
        dc[3] = { m, CS_SAE_SCAN_TOP, CTX }, one[1] = { 1 };
  g_autofree double *fires = g_new (double, m), *where = g_new (double, k);
  double n_tokens = (double) s->n_tokens, layer = s->layer;
#define NAME(x) g_autofree char *x##_name = g_strconcat (prefix, #x, NULL)
  NAME (fires); NAME (histogram); NAME (top_act); NAME (top_where); NAME (top_ids); NAME (top_acts);
  NAME (n_tokens); NAME (layer);
#undef NAME
  for (gsize i = 0; i < m; i++)
    fires[i] = (double) s->fires[i];
  for (gsize i = 0; i < k; i++)
    where[i] = (double) s->top_where[i];
  return cs_h5_writer_add_f64 (w, fires_name, 1, d1, fires, error) &&
         cs_h5_writer_add_f64 (w, histogram_name, 2, dh, s->hist, error) &&
         cs_h5_writer_add_f32 (w, top_act_name, 2, dt, s->top_act, error) &&
         cs_h5_writer_add_f64 (w, top_where_name, 2, dt, where, error) &&
         cs_h5_writer_add_i32 (w, top_ids_name, 3, dc, s->top_ids, error) &&
         cs_h5_writer_add_f32 (w, top_acts_name, 3, dc, s->top_acts, error) &&
         (*prefix == '\0' || (cs_h5_writer_add_f64 (w, n_tokens_name, 1, one, &n_tokens, error) &&
                               cs_h5_writer_add_f64 (w, layer_name, 1, one, &layer, error)));
}

gboolean
cs_sae_scans_save (CsSaeScan * const *scans, int n, const char *path, GError **error)
{
  g_autoptr(CsH5Writer) w = cs_h5_writer_new (path, error);
  if (!w)
    return FALSE;
  for (int i = 0; i < n; i++)
    {
      g_autofree char *prefix = g_strdup_printf ("/L%d/", scans[i]->layer);
      if (!scan_write (w, scans[i], prefix, error))
        return FALSE;
    }
  return cs_h5_writer_commit (w, error);
}

gboolean
cs_sae_scan_save (const CsSaeScan *s, const char *path, GError **error)
{
  g_autoptr(CsH5Writer) w = cs_h5_writer_new (path, error);

  if (!w)
    return FALSE;
  return cs_h5_writer_set_attr_double (w, "n_tokens", (double) s->n_tokens, error) &&
         cs_h5_writer_set_attr_double (w, "layer", s->layer, error) &&
         scan_write (w, s, "", error) &&
         cs_h5_writer_commit (w, error);
}

CsSaeScan *
cs_sae_scan_load (const char *path, GError **error)
{
  g_autoptr(CsH5Reader) rd = cs_h5_reader_open (path, error);
  g_autofree double *fires = NULL, *where = NULL;
  g_autoptr(CsSaeScan) s = NULL;
  gsize dims[8], n;
  int rank;
  double v;

  if (!rd)
    return NULL;
  if (!(fires = cs_h5_reader_f64 (rd, "fires", &rank, dims, error)))
    return NULL;
  if (rank != 1 || dims[0] == 0 || dims[0] > (1u << 24))
    goto bad;
  s = scan_new ((int) dims[0], 0);
  if (cs_h5_reader_attr_double (rd, "n_tokens", &v))
    s->n_tokens = (gint64) v;
  if (cs_h5_reader_attr_double (rd, "layer", &v))
    s->layer = (int) v;
  for (int i = 0; i < s->d_sae; i++)
    s->fires[i] = (gint64) fires[i];
  {
    g_autofree double *hist = cs_h5_reader_f64 (rd, "histogram", &rank, dims, error);
    g_autofree float *top = cs_h5_read_f32 (path, "top_act", &rank, dims, error);
    g_autofree float *acts = cs_h5_read_f32 (path, "top_acts", &rank, dims, error);
    g_autofree gint32 *ids = cs_h5_reader_i32 (rd, "top_ids", &n, error);
    gsize m = (gsize) s->d_sae, k = m * CS_SAE_SCAN_TOP;
    where = cs_h5_reader_f64 (rd, "top_where", &rank, dims, error);
    if (!hist || !top || !acts || !ids || !where || n != k * CTX)
      goto bad;
    memcpy (s->hist, hist, sizeof (double) * m * CS_SAE_SCAN_BINS);
    memcpy (s->top_act, top, sizeof (float) * k);
    memcpy (s->top_acts, acts, sizeof (float) * k * CTX);
    memcpy (s->top_ids, ids, sizeof (gint32) * k * CTX);
    for (gsize i = 0; i < k; i++)
      s->top_where[i] = (gint64) where[i];
  }
  return g_steal_pointer (&s);
bad:
  if (error && !*error)
    g_set_error (error, CS_ERROR, CS_ERROR_FORMAT, "%s is not a scan of feature cards", path);
  return NULL;
}

void
cs_sae_latent_logits (CsModel *model, CsSae *sae, int latent, int n, gint32 *raised, gint32 *lowered)
{
  const CsTensor *U = cs_model_get_unembedding (model);
  int d = sae->d_in, V = (int) U->shape[0];
  const float *w = sae->W_dec + (gsize) latent * d;
  g_autofree float *row = g_new (float, d);
  g_autofree double *score = g_new (double, V);

  for (int t = 0; t < V; t++)
    {
      double s2 = 0;
      cs_tensor_read_f32 (U, (gsize) t * d, d, row);
      for (int j = 0; j < d; j++)
        s2 += (double) row[j] * w[j];
      score[t] = s2;
    }
  for (int k = 0; k < n; k++)
    {
      int hi = -1, lo = -1;
      for (int t = 0; t < V; t++)
        {
          gboolean taken_hi = FALSE, taken_lo = FALSE;
          for (int j = 0; j < k; j++)
            {
              taken_hi = taken_hi || raised[j] == t;
              taken_lo = taken_lo || lowered[j] == t;
            }
          if (!taken_hi && (hi < 0 || score[t] > score[hi]))
            hi = t;
          if (!taken_lo && (lo < 0 || score[t] < score[lo]))
            lo = t;
        }
      raised[k] = hi;
      lowered[k] = lo;
    }
}

/* ---- a latent's card ---- */

void
cs_sae_card_free (CsSaeCard *c)
{
  if (!c)
    return;
  for (int i = 0; c->tokens && i < c->n_contexts * c->width; i++)
    g_free (c->tokens[i]);
  g_free (c->tokens);
  g_free (c->ids);
  g_free (c->acts);
  g_free (c->peak);
  g_free (c->where);
  g_free (c->raised);
  g_free (c->lowered);
  g_strfreev (c->raised_text);
  g_strfreev (c->lowered_text);
  g_strfreev (c->concepts);
  g_free (c->concept_cos);
  g_free (c);
}

CsSaeCard *
cs_sae_card_new (CsModel *model, CsTokenizer *tok, CsSae *sae, const CsSaeScan *scan, int latent, int n_logits)
{
  CsSaeCard *c;
  gsize base;
  g_return_val_if_fail (latent >= 0 && latent < scan->d_sae, NULL);
  g_return_val_if_fail (n_logits == 0 || (sae && latent < sae->d_sae), NULL);
  c = g_new0 (CsSaeCard, 1);
  base = (gsize) latent * CS_SAE_SCAN_TOP;
  c->layer = scan->layer;
  c->latent = latent;
  c->n_tokens = scan->n_tokens;
  c->fires = scan->fires[latent];
  c->from_cache = scan->from_cache;
  c->width = CTX;
  while (c->n_contexts < CS_SAE_SCAN_TOP && scan->top_act[base + c->n_contexts] > 0)
    c->n_contexts++;
  c->ids = g_memdup2 (scan->top_ids + base * CTX, sizeof (gint32) * c->n_contexts * CTX);
  c->acts = g_memdup2 (scan->top_acts + base * CTX, sizeof (float) * c->n_contexts * CTX);
  c->peak = g_memdup2 (scan->top_act + base, sizeof (float) * c->n_contexts);
  c->where = g_memdup2 (scan->top_where + base, sizeof (gint64) * c->n_contexts);
  c->tokens = g_new0 (char *, MAX (1, c->n_contexts * CTX));
  for (int i = 0; i < c->n_contexts * CTX; i++)
    if (c->ids[i] >= 0)
      c->tokens[i] = cs_tokenizer_id_to_text (tok, c->ids[i]);
  memcpy (c->hist, scan->hist + (gsize) latent * CS_SAE_SCAN_BINS, sizeof c->hist);
  c->n_logits = n_logits;
  c->raised = g_new (gint32, MAX (1, n_logits));
  c->lowered = g_new (gint32, MAX (1, n_logits));
  c->raised_text = g_new0 (char *, n_logits + 1);
  c->lowered_text = g_new0 (char *, n_logits + 1);
  if (n_logits > 0)
    cs_sae_latent_logits (model, sae, latent, n_logits, c->raised, c->lowered);
  for (int k = 0; k < n_logits; k++)
    {
      c->raised_text[k] = cs_tokenizer_id_to_text (tok, c->raised[k]);
      c->lowered_text[k] = cs_tokenizer_id_to_text (tok, c->lowered[k]);
    }
  c->concepts = g_new0 (char *, 1);
  return c;
}

gboolean
cs_sae_card_add_concepts (CsSaeCard *c, CsSae *sae, CsGeometrySpace *space, CsGeometry *geo, GError **error)
{
  g_autofree double *u = NULL;
  g_autoptr(GPtrArray) names = g_ptr_array_new ();
  g_autoptr(GArray) cos = g_array_new (FALSE, FALSE, sizeof (double));
  const float *w = sae->W_dec + (gsize) c->latent * sae->d_in;
  double wn = 0;

  if (space->d != sae->d_in)
    {
      g_set_error (error, CS_ERROR, CS_ERROR_MISMATCH, "the geometry's model has hidden size %d, the SAE %d",
                   space->d, sae->d_in);
      return FALSE;
    }
  if (!(u = cs_steer_concept_directions (space, geo, error)))
    return FALSE;
  for (int j = 0; j < sae->d_in; j++)
    wn += (double) w[j] * w[j];
  for (guint k = 0; k < geo->categories->items->len; k++)
    {
      const double *uk = u + (gsize) k * space->d;
      double dot = 0, un = 0, v;
      if (!geo->vectors[k].estimated || !cs_category_set_get (geo->categories, k)->reliable)
        continue;
      for (int j = 0; j < space->d; j++)
        {
          dot += w[j] * uk[j];
          un += uk[j] * uk[j];
        }
      v = wn > 0 && un > 0 ? dot / sqrt (wn * un) : NAN;
      g_ptr_array_add (names, g_strdup (cs_category_set_get (geo->categories, k)->name));
      g_array_append_val (cos, v);
    }
  g_ptr_array_add (names, NULL);
  g_strfreev (c->concepts);
  g_free (c->concept_cos);
  c->n_concepts = (int) cos->len;
  c->concepts = (char **) g_ptr_array_free (g_steal_pointer (&names), FALSE);
  c->concept_cos = (double *) g_array_free (g_steal_pointer (&cos), FALSE);
  return TRUE;
}

JsonNode *
cs_sae_card_to_json (const CsSaeCard *c)
{
  g_autoptr(JsonBuilder) b = json_builder_new ();
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "latent");
  json_builder_add_int_value (b, c->latent);
  json_builder_set_member_name (b, "layer");
  json_builder_add_int_value (b, c->layer);
  json_builder_set_member_name (b, "tokens_scanned");
  json_builder_add_int_value (b, c->n_tokens);
  json_builder_set_member_name (b, "fires");
  json_builder_add_int_value (b, c->fires);
  json_builder_set_member_name (b, "from_cache");
  json_builder_add_boolean_value (b, c->from_cache);
  json_builder_set_member_name (b, "contexts");
  json_builder_begin_array (b);
  for (int i = 0; i < c->n_contexts; i++)
    {
      json_builder_begin_object (b);
      json_builder_set_member_name (b, "activation");
      json_builder_add_double_value (b, c->peak[i]);
      json_builder_set_member_name (b, "line");
      json_builder_add_int_value (b, c->where[i] >> 20);
      json_builder_set_member_name (b, "position");
      json_builder_add_int_value (b, c->where[i] & ((1 << 20) - 1));
      json_builder_set_member_name (b, "tokens");
      json_builder_begin_array (b);
      for (int w = 0; w < c->width; w++)
        json_builder_add_int_value (b, c->ids[i * c->width + w]);
      json_builder_end_array (b);
      json_builder_set_member_name (b, "activations");
      json_builder_begin_array (b);
      for (int w = 0; w < c->width; w++)
        json_builder_add_double_value (b, c->acts[i * c->width + w]);
      json_builder_end_array (b);
      json_builder_end_object (b);
    }
  json_builder_end_array (b);
  json_builder_set_member_name (b, "histogram");
  json_builder_begin_array (b);
  for (int k = 0; k < CS_SAE_SCAN_BINS; k++)
    json_builder_add_double_value (b, c->hist[k]);
  json_builder_end_array (b);
  for (int k = 0; k < 2; k++)
    {
      json_builder_set_member_name (b, k ? "lowers" : "raises");
      json_builder_begin_array (b);
      for (int i = 0; i < c->n_logits; i++)
        json_builder_add_int_value (b, k ? c->lowered[i] : c->raised[i]);
      json_builder_end_array (b);
    }
  if (c->n_concepts > 0)
    {
      json_builder_set_member_name (b, "concept_cosines");
      json_builder_begin_object (b);
      for (int k = 0; k < c->n_concepts; k++)
        {
          json_builder_set_member_name (b, c->concepts[k]);
          json_builder_add_double_value (b, c->concept_cos[k]);
        }
      json_builder_end_object (b);
    }
  json_builder_end_object (b);
  return json_builder_get_root (b);
}

char *
cs_sae_card_summary (const CsSaeCard *c)
{
  g_autoptr(GString) s = g_string_new (NULL);
  g_string_append_printf (s, "fires on %.3g %% of %" G_GINT64_FORMAT " tokens", 100.0 * c->fires / MAX (1, c->n_tokens),
                          c->n_tokens);
  if (c->n_contexts > 0)
    {
      int mid = c->width / 2;
      g_string_append (s, "; most on “");
      for (int w = MAX (0, mid - 4); w <= mid; w++)
        if (c->tokens[w])
          {
            if (w == mid)
              g_string_append (s, "[");
            g_string_append (s, c->tokens[w]);
          }
      g_string_append_printf (s, "]” (%.3g)", c->peak[0]);
    }
  if (c->n_logits > 0)
    {
      g_string_append (s, "; writes");
      for (int k = 0; k < MIN (3, c->n_logits); k++)
        g_string_append_printf (s, "%s%s", k ? "," : " ", c->raised_text[k]);
    }
  return g_string_free (g_steal_pointer (&s), FALSE);
}

gboolean
cs_sae_latent_parse (const char *text, int *layer, int *latent)
{
  char *end;
  gint64 l, i;
  if (!text)
    return FALSE;
  while (g_ascii_isspace (*text))
    text++;
  if (*text == 'L' || *text == 'l')
    text++;
  if (!g_ascii_isdigit (*text))
    return FALSE;
  l = g_ascii_strtoll (text, &end, 10);
  if (*end != '/' || !g_ascii_isdigit (end[1]))
    return FALSE;
  i = g_ascii_strtoll (end + 1, &end, 10);
  while (g_ascii_isspace (*end))
    end++;
  if (*end || l > G_MAXINT || i > G_MAXINT)
    return FALSE;
  *layer = (int) l;
  *latent = (int) i;
  return TRUE;
}
