#define G_LOG_DOMAIN "cs-workspace"

#include "cs-workspace.h"
#include "cs-error.h"
#include "cs-hdf5.h"
#include "cs-json.h"

#include <math.h>
#include <string.h>

/* Columns of /vectors/stats, in this order. */
static const char *stat_columns =
  "train_mean,train_std,test_mean,test_std,random_mean,random_std,"
  "shuffled_train_mean,shuffled_train_std,shuffled_test_mean,shuffled_test_std,"
  "shuffled_random_mean,shuffled_random_std";
#define N_STATS 12

void
cs_workspace_free (CsWorkspace *ws)
{
  if (!ws)
    return;
  g_free (ws->model_path);
  g_free (ws->model_identity);
  g_free (ws->hierarchy);
  g_free (ws->mean);
  g_free (ws->inv_sqrt);
  cs_geometry_free (ws->geometry);
  g_clear_pointer (&ws->view, g_hash_table_unref);
  g_free (ws);
}

gboolean
cs_workspace_save (const char *path, CsModel *model, CsGeometrySpace *space, CsGeometry *g,
                   const char *hierarchy, GError **error)
{
  return cs_workspace_save_with_view (path, model, space, g, hierarchy, NULL, error);
}

gboolean
cs_workspace_save_with_view (const char *path, CsModel *model, CsGeometrySpace *space, CsGeometry *g,
                             const char *hierarchy, GHashTable *view, GError **error)
{
  g_autoptr(CsH5Writer) w = cs_h5_writer_new (path, error);
  int d = space->d;
  gsize dd[2] = { (gsize) d, (gsize) d }, d1[1] = { (gsize) d };

  if (!w)
    return FALSE;
  if (!cs_h5_writer_set_attr (w, "format", "conceptscope-workspace", error) ||
      !cs_h5_writer_set_attr_double (w, "version", CS_WORKSPACE_VERSION, error) ||
      !cs_h5_writer_set_attr (w, "model_path", cs_model_get_path (model), error) ||
      !cs_h5_writer_set_attr (w, "model_identity", cs_model_get_identity (model), error) ||
      !cs_h5_writer_set_attr (w, "hierarchy", hierarchy ? hierarchy : "", error) ||
      !cs_h5_writer_set_attr (w, "stats_columns", stat_columns, error) ||
      !cs_h5_writer_set_attr_double (w, "vocab", (double) space->vocab, error) ||
      !cs_h5_writer_set_attr_double (w, "n_floored", space->n_floored, error) ||
      !cs_h5_writer_add_f64 (w, "whitening/mean", 1, d1, space->mean, error) ||
      !cs_h5_writer_add_f64 (w, "whitening/inv_sqrt_cov", 2, dd, space->inv_sqrt, error))
    return FALSE;
  if (view)
    {
      GHashTableIter it;
      gpointer k, v;
      g_hash_table_iter_init (&it, view);
      while (g_hash_table_iter_next (&it, &k, &v))
        {
          g_autofree char *key = g_strconcat ("view_", (const char *) k, NULL);
          if (!cs_h5_writer_set_attr (w, key, v ? v : "", error))
            return FALSE;
        }
    }

  if (g)
    {
      CsCategorySet *cats = g->categories;
      guint n = cats->items->len;
      g_autofree const char **names = g_new0 (const char *, n + 1);
      g_autofree const char **sources = g_new0 (const char *, n + 1);
      g_autofree gint32 *parent = g_new (gint32, n);
      g_autofree gint32 *reliable = g_new (gint32, n);
      g_autofree gint32 *estimated = g_new (gint32, n);
      g_autofree gint32 *offsets = g_new (gint32, n + 1);
      g_autofree gint32 *ntt = g_new (gint32, 2 * n);
      g_autofree double *lbar = g_new (double, (gsize) n * d);
      g_autofree double *stats = g_new (double, (gsize) n * N_STATS);
      g_autofree double *hier = g_new (double, (gsize) n * 3);
      g_autofree double *shuf_parent = g_new (double, MAX (n, 1));
      g_autoptr(GArray) tokens = g_array_new (FALSE, FALSE, sizeof (gint32));
      gsize nd[1] = { n }, nn[2] = { n, n }, nD[2] = { n, (gsize) d }, nS[2] = { n, N_STATS },
            n3[2] = { n, 3 }, n2[2] = { n, 2 }, no[1] = { n + 1 }, nt[1];

      for (guint i = 0; i < n; i++)
        {
          CsCategory *c = cs_category_set_get (cats, i);
          CsCategoryVector *v = &g->vectors[i];
          CsStat s[6] = { v->train, v->test, v->random, v->shuffled_train, v->shuffled_test, v->shuffled_random };
          names[i] = c->name;
          sources[i] = c->source;
          parent[i] = c->parent;
          reliable[i] = c->reliable;
          estimated[i] = v->estimated;
          offsets[i] = (gint32) tokens->len;
          g_array_append_vals (tokens, c->tokens->data, c->tokens->len);
          ntt[2 * i] = v->n_train;
          ntt[2 * i + 1] = v->n_test;
          memcpy (lbar + (gsize) i * d, v->lbar, sizeof (double) * d);
          for (int k = 0; k < 6; k++)
            {
              stats[i * N_STATS + 2 * k] = s[k].mean;
              stats[i * N_STATS + 2 * k + 1] = s[k].std;
            }
          hier[i * 3] = v->norm;
          hier[i * 3 + 1] = v->cos_parent;
          hier[i * 3 + 2] = v->cos_grandparent;
          shuf_parent[i] = v->cos_parent_shuffled;
        }
      offsets[n] = (gint32) tokens->len;
      nt[0] = MAX (tokens->len, 1);
      if (tokens->len == 0)
        {
          gint32 none = -1;
          g_array_append_val (tokens, none);
        }
      if (!cs_h5_writer_set_attr_double (w, "train_fraction", g->train_fraction, error) ||
          !cs_h5_writer_set_attr_double (w, "seed", g->seed, error) ||
          !cs_h5_writer_set_attr_double (w, "n_random", g->n_random, error) ||
          !cs_h5_writer_set_attr_double (w, "min_tokens", cats->min_tokens, error) ||
          !cs_h5_writer_add_strings (w, "categories/names", names, n, error) ||
          !cs_h5_writer_add_strings (w, "categories/sources", sources, n, error) ||
          !cs_h5_writer_add_i32 (w, "categories/parent", 1, nd, parent, error) ||
          !cs_h5_writer_add_i32 (w, "categories/reliable", 1, nd, reliable, error) ||
          !cs_h5_writer_add_i32 (w, "categories/token_offsets", 1, no, offsets, error) ||
          !cs_h5_writer_add_i32 (w, "categories/tokens", 1, nt, (gint32 *) tokens->data, error) ||
          !cs_h5_writer_add_i32 (w, "vectors/estimated", 1, nd, estimated, error) ||
          !cs_h5_writer_add_i32 (w, "vectors/n_train_test", 2, n2, ntt, error) ||
          !cs_h5_writer_add_f64 (w, "vectors/lbar", 2, nD, lbar, error) ||
          !cs_h5_writer_add_f64 (w, "vectors/stats", 2, nS, stats, error) ||
          !cs_h5_writer_add_f64 (w, "vectors/norm_cos_parent_cos_grandparent", 2, n3, hier, error) ||
          !cs_h5_writer_add_f64 (w, "cosines/matrix", 2, nn, g->cos, error) ||
          !cs_h5_writer_add_f64 (w, "cosines/shuffled", 2, nn, g->cos_shuffled, error) ||
          !cs_h5_writer_add_f64 (w, "vectors/cos_parent_shuffled", 1, nd, shuf_parent, error) ||
          (g->wordnet_distance &&
           !cs_h5_writer_add_i32 (w, "wordnet/distance", 2, nn, g->wordnet_distance, error)))
        return FALSE;
    }
  return cs_h5_writer_commit (w, error);
}

static gboolean
check_len (const char *path, const char *what, gsize got, gsize want, GError **error)
{
  if (got == want)
    return TRUE;
  g_set_error (error, CS_ERROR, CS_ERROR_FORMAT, "%s: '%s' has %" G_GSIZE_FORMAT " entries, expected %" G_GSIZE_FORMAT,
               path, what, got, want);
  return FALSE;
}

CsWorkspace *
cs_workspace_load (const char *path, GError **error)
{
  g_autoptr(CsH5Reader) r = cs_h5_reader_open (path, error);
  g_autoptr(CsWorkspace) ws = NULL;
  g_autofree char *format = NULL;
  double version = 0, v;
  int rank;
  gsize dims[8];

  if (!r)
    return NULL;
  format = cs_h5_reader_attr (r, "format");
  if (g_strcmp0 (format, "conceptscope-workspace") != 0)
    {
      g_set_error (error, CS_ERROR, CS_ERROR_FORMAT, "%s is an HDF5 file but not a ConceptScope workspace", path);
      return NULL;
    }
  cs_h5_reader_attr_double (r, "version", &version);
  if (version > CS_WORKSPACE_VERSION)
    {
      g_set_error (error, CS_ERROR, CS_ERROR_UNSUPPORTED,
                   "%s was written by a newer ConceptScope (workspace version %g; this one reads up to %d): "
                   "update ConceptScope to open it", path, version, CS_WORKSPACE_VERSION);
      return NULL;
    }
  ws = g_new0 (CsWorkspace, 1);
  ws->model_path = cs_h5_reader_attr (r, "model_path");
  ws->model_identity = cs_h5_reader_attr (r, "model_identity");
  ws->hierarchy = cs_h5_reader_attr (r, "hierarchy");
  ws->view = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  {
    static const char *keys[] = { "x", "x_minus", "y", "y_minus", "orthogonal", "hidden", NULL };
    for (guint i = 0; keys[i]; i++)
      {
        g_autofree char *key = g_strconcat ("view_", keys[i], NULL);
        char *v = cs_h5_reader_attr (r, key);
        if (v)
          g_hash_table_insert (ws->view, g_strdup (keys[i]), v);
      }
  }
  {
    gint64 k;
    if (cs_h5_reader_attr_double (r, "vocab", &v))
      {
        if (!cs_whole_number (v, 0, G_MAXINT32, &k))
          {
            g_set_error (error, CS_ERROR, CS_ERROR_FORMAT, "%s: the workspace's vocabulary size (%g) is not a whole "
                         "number of tokens", path, v);
            return NULL;
          }
        ws->vocab = k;
      }
    if (cs_h5_reader_attr_double (r, "n_floored", &v) && cs_whole_number (v, 0, G_MAXINT32, &k))
      ws->n_floored = (int) k;
  }
  ws->mean = cs_h5_reader_f64 (r, "whitening/mean", &rank, dims, error);
  if (!ws->mean)
    return NULL;
  ws->d = (int) dims[0];
  ws->inv_sqrt = cs_h5_reader_f64 (r, "whitening/inv_sqrt_cov", &rank, dims, error);
  if (!ws->inv_sqrt || !check_len (path, "whitening/inv_sqrt_cov", dims[0] * dims[1], (gsize) ws->d * ws->d, error))
    return NULL;

  if (cs_h5_reader_has (r, "categories/names"))
    {
      g_auto(GStrv) names = cs_h5_reader_strings (r, "categories/names", error);
      g_auto(GStrv) sources = names ? cs_h5_reader_strings (r, "categories/sources", error) : NULL;
      gsize n = names ? g_strv_length (names) : 0, k, n_tok = 0;
      g_autofree gint32 *parent = NULL, *reliable = NULL, *offsets = NULL, *tokens = NULL, *estimated = NULL,
                        *ntt = NULL;
      g_autofree double *lbar = NULL, *stats = NULL, *hier = NULL;
      CsGeometry *g;
      int d = ws->d;

      if (!sources ||
          !(parent = cs_h5_reader_i32 (r, "categories/parent", &k, error)) || !check_len (path, "parent", k, n, error) ||
          !(reliable = cs_h5_reader_i32 (r, "categories/reliable", &k, error)) || !check_len (path, "reliable", k, n, error) ||
          !(offsets = cs_h5_reader_i32 (r, "categories/token_offsets", &k, error)) || !check_len (path, "token_offsets", k, n + 1, error) ||
          !(tokens = cs_h5_reader_i32 (r, "categories/tokens", &n_tok, error)) ||
          !(estimated = cs_h5_reader_i32 (r, "vectors/estimated", &k, error)) || !check_len (path, "estimated", k, n, error) ||
          !(ntt = cs_h5_reader_i32 (r, "vectors/n_train_test", &k, error)) || !check_len (path, "n_train_test", k, 2 * n, error) ||
          !(lbar = cs_h5_reader_f64 (r, "vectors/lbar", &rank, dims, error)) || !check_len (path, "lbar", dims[0] * dims[1], n * d, error) ||
          !(stats = cs_h5_reader_f64 (r, "vectors/stats", &rank, dims, error)) || !check_len (path, "stats", dims[0] * dims[1], n * N_STATS, error) ||
          !(hier = cs_h5_reader_f64 (r, "vectors/norm_cos_parent_cos_grandparent", &rank, dims, error)) ||
          !check_len (path, "norm_cos_parent_cos_grandparent", dims[0] * dims[1], n * 3, error))
        return NULL;
      for (gsize t = 0; t < n_tok && offsets[n] > 0; t++)
        if (tokens[t] < 0 || (ws->vocab > 0 && tokens[t] >= ws->vocab))
          {
            g_set_error (error, CS_ERROR, CS_ERROR_FORMAT, "%s: a category token id lies outside the vocabulary", path);
            return NULL;
          }
      for (gsize i = 0; i < n; i++)
        if (offsets[i] < 0 || offsets[i] > offsets[i + 1] || (gsize) offsets[i + 1] > n_tok ||
            parent[i] >= (gint32) i)
          {
            g_set_error (error, CS_ERROR, CS_ERROR_FORMAT, "%s: the category tables are inconsistent", path);
            return NULL;
          }

      g = g_new0 (CsGeometry, 1);
      g->categories = cs_category_set_new (10);
      g->d = d;
      g->vectors = g_new0 (CsCategoryVector, n);
      if (cs_h5_reader_attr_double (r, "min_tokens", &v))
        g->categories->min_tokens = (int) v;
      if (cs_h5_reader_attr_double (r, "train_fraction", &v))
        g->train_fraction = v;
      if (cs_h5_reader_attr_double (r, "seed", &v))
        g->seed = (guint) v;
      if (cs_h5_reader_attr_double (r, "n_random", &v))
        g->n_random = (int) v;
      ws->geometry = g;   /* freed with the workspace from here on */
      for (gsize i = 0; i < n; i++)
        {
          CsCategory *c = cs_category_set_add (g->categories, names[i], sources[i], parent[i]);
          CsCategoryVector *cv = &g->vectors[i];
          double *s = stats + i * N_STATS;
          c->reliable = reliable[i] != 0;
          g_array_append_vals (c->tokens, tokens + offsets[i], offsets[i + 1] - offsets[i]);
          cv->lbar = g_memdup2 (lbar + i * d, sizeof (double) * d);
          cv->estimated = estimated[i] != 0;
          cv->n_train = ntt[2 * i];
          cv->n_test = ntt[2 * i + 1];
          cv->train = (CsStat) { s[0], s[1] };
          cv->test = (CsStat) { s[2], s[3] };
          cv->random = (CsStat) { s[4], s[5] };
          cv->shuffled_train = (CsStat) { s[6], s[7] };
          cv->shuffled_test = (CsStat) { s[8], s[9] };
          cv->shuffled_random = (CsStat) { s[10], s[11] };
          cv->norm = hier[i * 3];
          cv->cos_parent = hier[i * 3 + 1];
          cv->cos_grandparent = hier[i * 3 + 2];
        }
      g->cos = cs_h5_reader_f64 (r, "cosines/matrix", &rank, dims, error);
      if (!g->cos || !check_len (path, "cosines/matrix", dims[0] * dims[1], n * n, error))
        return NULL;
      g->cos_shuffled = cs_h5_reader_f64 (r, "cosines/shuffled", &rank, dims, error);
      if (!g->cos_shuffled || !check_len (path, "cosines/shuffled", dims[0] * dims[1], n * n, error))
        return NULL;
      /* newer tables: absent from older workspaces */
      for (gsize i = 0; i < n; i++)
        g->vectors[i].cos_parent_shuffled = NAN;
      if (cs_h5_reader_has (r, "vectors/cos_parent_shuffled"))
        {
          g_autofree double *sp = cs_h5_reader_f64 (r, "vectors/cos_parent_shuffled", &rank, dims, error);
          if (!sp || !check_len (path, "cos_parent_shuffled", dims[0], n, error))
            return NULL;
          for (gsize i = 0; i < n; i++)
            g->vectors[i].cos_parent_shuffled = sp[i];
        }
      if (cs_h5_reader_has (r, "wordnet/distance"))
        {
          g->wordnet_distance = cs_h5_reader_i32 (r, "wordnet/distance", &k, error);
          if (!g->wordnet_distance || !check_len (path, "wordnet/distance", k, n * n, error))
            return NULL;
          for (gsize i = 0; i < n * n; i++)
            if (g->wordnet_distance[i] < -1)
              {
                g_set_error (error, CS_ERROR, CS_ERROR_FORMAT, "%s: a WordNet distance is negative", path);
                return NULL;
              }
        }
    }
  return g_steal_pointer (&ws);
}
