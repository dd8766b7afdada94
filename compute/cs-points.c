#define G_LOG_DOMAIN "cs-points"

#include "cs-points.h"
#include "cs-error.h"
#include "cs-hdf5.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

void
cs_points_free (CsPoints *p)
{
  if (!p)
    return;
  g_free (p->X);
  g_strfreev (p->labels);
  g_free (p->group);
  g_strfreev (p->group_names);
  g_free (p->token_ids);
  g_free (p);
}

static gboolean
check_finite (CsPoints *p, const char *what, GError **error)
{
  for (gint64 i = 0; i < p->n * p->d; i++)
    if (!isfinite (p->X[i]))
      {
        g_set_error (error, CS_ERROR, CS_ERROR_RANGE, "%s: point %" G_GINT64_FORMAT " (%s) has a value that is not finite",
                     what, i / p->d, p->labels[i / p->d]);
        return FALSE;
      }
  return TRUE;
}

CsPoints *
cs_points_from_h5 (const char *path, const char *dataset, GError **error)
{
  g_autoptr(CsH5Reader) r = cs_h5_reader_open (path, error);
  g_autoptr(CsPoints) p = NULL;
  gsize dims[8];
  int rank = 0;
  gint64 n = 1;

  if (!r)
    return NULL;
  if (!cs_h5_reader_has (r, dataset))
    {
      g_set_error (error, CS_ERROR, CS_ERROR_MISSING, "%s has no dataset '%s'", path, dataset);
      return NULL;
    }
  p = g_new0 (CsPoints, 1);
  p->X = cs_h5_reader_f64 (r, dataset, &rank, dims, error);
  if (!p->X)
    return NULL;
  if (rank < 2)
    {
      g_set_error (error, CS_ERROR, CS_ERROR_FORMAT,
                   "%s:%s has rank %d; points need a matrix (points × coordinates) or more axes", path, dataset, rank);
      return NULL;
    }
  for (int k = 0; k < rank - 1; k++)
    n *= (gint64) dims[k];
  p->n = n;
  p->d = (int) dims[rank - 1];
  if (n < 1 || p->d < 1)
    {
      g_set_error (error, CS_ERROR, CS_ERROR_FORMAT, "%s:%s is empty", path, dataset);
      return NULL;
    }
  p->labels = g_new0 (char *, n + 1);
  for (gint64 i = 0; i < n; i++)
    {
      GString *s = g_string_new ("[");
      gint64 rest = i, stride = n;
      for (int k = 0; k < rank - 1; k++)
        {
          stride /= (gint64) dims[k];
          g_string_append_printf (s, "%s%" G_GINT64_FORMAT, k ? ", " : "", rest / stride);
          rest %= stride;
        }
      g_string_append_c (s, ']');
      p->labels[i] = g_string_free (s, FALSE);
    }
  /* `forward` pads shorter prompts: its /input_ids [batch, seq] hold −1
   * there and the captures zeros, which are no points. The rest keep their
   * token ids. */
  if (rank == 3 && cs_h5_reader_has (r, "/input_ids"))
    {
      gsize idims[8];
      int irank = 0;
      gsize n_ids = 0;
      g_autofree gint32 *ids = NULL;
      if (cs_h5_reader_shape (r, "/input_ids", &irank, idims, NULL) && irank == 2 && idims[0] == dims[0] &&
          idims[1] == dims[1] && (ids = cs_h5_reader_i32 (r, "/input_ids", &n_ids, NULL)) && (gint64) n_ids == n)
        {
          gint64 kept = 0;
          p->token_ids = g_new (gint32, n);
          for (gint64 i = 0; i < n; i++)
            {
              if (ids[i] < 0)
                {
                  g_free (p->labels[i]);
                  continue;
                }
              if (kept != i)
                memmove (p->X + kept * p->d, p->X + i * p->d, sizeof (double) * p->d);
              p->labels[kept] = p->labels[i];
              p->token_ids[kept] = ids[i];
              kept++;
            }
          p->labels[kept] = NULL;
          p->n = kept;
          if (kept == 0)
            {
              g_set_error (error, CS_ERROR, CS_ERROR_FORMAT, "%s:%s holds only padding", path, dataset);
              return NULL;
            }
        }
    }
  if (!check_finite (p, dataset, error))
    return NULL;
  return g_steal_pointer (&p);
}

/* s cut at every sep, in one pass. (g_strsplit searches with strstr, which
 * AddressSanitizer's interceptor makes measure the rest of the string each
 * time: a CSV row of 10⁶ fields took half an hour under the sanitizers.) */
static char **
split_on (const char *s, char sep)
{
  GPtrArray *parts = g_ptr_array_new ();
  const char *start = s;

  for (const char *p = s;; p++)
    if (*p == sep || *p == '\0')
      {
        g_ptr_array_add (parts, g_strndup (start, (gsize) (p - start)));
        if (*p == '\0')
          break;
        start = p + 1;
      }
  g_ptr_array_add (parts, NULL);
  return (char **) g_ptr_array_free (parts, FALSE);
}

static gboolean
parse_number (const char *s, double *v)
{
  char *end;
  while (g_ascii_isspace (*s))
    s++;
  if (!*s)
    return FALSE;
  errno = 0;
  *v = g_ascii_strtod (s, &end);
  while (g_ascii_isspace (*end))
    end++;
  return *end == '\0' && errno != ERANGE;
}

/* A label column that names a few classes ("animal", "plant") rather than
 * each point: at most CS_POINTS_MAX_GROUPS distinct labels, each on two
 * points or more on average. They become the points' groups (in order of
 * first appearance), so a Mapper graph can show its nodes' composition. */
static void
label_groups (CsPoints *p)
{
  g_autoptr(GHashTable) index = g_hash_table_new (g_str_hash, g_str_equal);
  g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
  g_autofree int *group = g_new (int, p->n);

  for (gint64 i = 0; i < p->n; i++)
    {
      gpointer at;
      if (!g_hash_table_lookup_extended (index, p->labels[i], NULL, &at))
        {
          if (names->len == CS_POINTS_MAX_GROUPS)
            return;
          at = GINT_TO_POINTER (names->len);
          g_hash_table_insert (index, p->labels[i], at);
          g_ptr_array_add (names, g_strdup (p->labels[i]));
        }
      group[i] = GPOINTER_TO_INT (at);
    }
  if (names->len * 2 > (guint) p->n)
    return;
  g_ptr_array_add (names, NULL);
  p->group_names = (GStrv) g_ptr_array_steal (names, NULL);
  p->group = g_steal_pointer (&group);
}

CsPoints *
cs_points_from_csv (const char *path, GError **error)
{
  g_autofree char *text = NULL;
  gsize len = 0;
  g_auto(GStrv) lines = NULL;
  g_autoptr(CsPoints) p = NULL;
  GArray *values = g_array_new (FALSE, FALSE, sizeof (double));
  GPtrArray *labels = g_ptr_array_new ();
  int fields = -1, first = 0;
  gboolean label_col = FALSE, header_checked = FALSE;

  if (!g_file_get_contents (path, &text, &len, error))
    goto fail;
  if (!g_utf8_validate (text, len, NULL))
    {
      g_set_error (error, CS_ERROR, CS_ERROR_FORMAT, "%s is not UTF-8 text", path);
      goto fail;
    }
  lines = split_on (text, '\n');
  for (guint li = 0; lines[li]; li++)
    {
      g_auto(GStrv) f = NULL;
      char *line = g_strstrip (lines[li]);
      int nf;
      double v;
      if (!*line || line[0] == '#')
        continue;
      f = split_on (line, ',');
      nf = (int) g_strv_length (f);
      if (!header_checked)
        {
          /* a header has a non-number somewhere after the first field, or
           * its first field is not a number while the next line's is */
          gboolean any_text = FALSE;
          header_checked = TRUE;
          for (int k = 1; k < nf; k++)
            if (!parse_number (f[k], &v))
              any_text = TRUE;
          if (any_text)
            continue;
        }
      if (fields < 0)
        {
          fields = nf;
          label_col = !parse_number (f[0], &v);
          first = label_col ? 1 : 0;
          if (fields - first < 1)
            {
              g_set_error (error, CS_ERROR, CS_ERROR_FORMAT, "%s, line %u: no numeric columns", path, li + 1);
              goto fail;
            }
        }
      if (nf != fields)
        {
          g_set_error (error, CS_ERROR, CS_ERROR_FORMAT, "%s, line %u has %d fields, the first row has %d",
                       path, li + 1, nf, fields);
          goto fail;
        }
      for (int k = first; k < nf; k++)
        {
          if (!parse_number (f[k], &v) || !isfinite (v))
            {
              g_set_error (error, CS_ERROR, CS_ERROR_FORMAT, "%s, line %u, column %d: '%s' is not a finite number",
                           path, li + 1, k + 1, g_strstrip (f[k]));
              goto fail;
            }
          g_array_append_val (values, v);
        }
      g_ptr_array_add (labels, label_col ? g_strdup (g_strstrip (f[0])) : g_strdup_printf ("row %u", labels->len));
    }
  if (labels->len == 0)
    {
      g_set_error (error, CS_ERROR, CS_ERROR_FORMAT, "%s holds no rows of numbers", path);
      goto fail;
    }
  p = g_new0 (CsPoints, 1);
  p->n = labels->len;
  p->d = fields - first;
  p->X = (double *) g_array_free (values, FALSE);
  g_ptr_array_add (labels, NULL);
  p->labels = (GStrv) g_ptr_array_free (labels, FALSE);
  if (label_col)
    label_groups (p);
  return g_steal_pointer (&p);

fail:
  g_array_free (values, TRUE);
  g_ptr_array_add (labels, NULL);
  g_strfreev ((GStrv) g_ptr_array_free (labels, FALSE));
  return NULL;
}

static int
cmp_i32 (gconstpointer a, gconstpointer b)
{
  gint32 x = *(const gint32 *) a, y = *(const gint32 *) b;
  return (x > y) - (x < y);
}

CsPoints *
cs_points_of_categories (CsGeometry *geometry, CsTokenizer *tok, const int *cats, int n_cats, GError **error)
{
  g_autoptr(GHashTable) seen = g_hash_table_new (g_direct_hash, g_direct_equal);
  g_autoptr(GArray) ids = g_array_new (FALSE, FALSE, sizeof (gint32));
  g_autoptr(CsPoints) p = NULL;
  int ncat = (int) geometry->categories->items->len;

  if (n_cats < 1)
    {
      g_set_error (error, CS_ERROR, CS_ERROR_RANGE, "no categories chosen");
      return NULL;
    }
  for (int c = 0; c < n_cats; c++)
    {
      CsCategory *cat;
      if (cats[c] < 0 || cats[c] >= ncat)
        {
          g_set_error (error, CS_ERROR, CS_ERROR_RANGE, "category index %d out of range", cats[c]);
          return NULL;
        }
      cat = cs_category_set_get (geometry->categories, cats[c]);
      for (guint t = 0; t < cat->tokens->len; t++)
        {
          gint32 id = g_array_index (cat->tokens, gint32, t);
          if (!g_hash_table_contains (seen, GINT_TO_POINTER (id + 1)))
            {
              g_hash_table_add (seen, GINT_TO_POINTER (id + 1));
              g_array_append_val (ids, id);
            }
        }
    }
  if (ids->len == 0)
    {
      g_set_error (error, CS_ERROR, CS_ERROR_RANGE, "the chosen categories hold no tokens");
      return NULL;
    }
  g_array_sort (ids, cmp_i32);
  p = g_new0 (CsPoints, 1);
  p->n = ids->len;
  p->token_ids = g_memdup2 (ids->data, sizeof (gint32) * ids->len);
  p->labels = g_new0 (char *, p->n + 1);
  p->group = g_new (int, p->n);
  p->group_names = g_new0 (char *, n_cats + 1);
  for (int c = 0; c < n_cats; c++)
    p->group_names[c] = g_strdup (cs_category_set_get (geometry->categories, cats[c])->name);
  for (gint64 i = 0; i < p->n; i++)
    {
      gint32 id = p->token_ids[i];
      int best = -1, best_idx = -1;
      p->labels[i] = tok ? cs_tokenizer_id_to_text (tok, id) : g_strdup_printf ("%d", id);
      /* categories are stored parents first: the highest index is the most specific */
      for (int c = 0; c < n_cats; c++)
        {
          CsCategory *cat = cs_category_set_get (geometry->categories, cats[c]);
          gint32 *data = (gint32 *) cat->tokens->data;
          int lo = 0, hi = (int) cat->tokens->len;
          while (lo < hi)
            {
              int mid = (lo + hi) / 2;
              if (data[mid] < id)
                lo = mid + 1;
              else
                hi = mid;
            }
          if (lo < (int) cat->tokens->len && data[lo] == id && cats[c] > best_idx)
            {
              best_idx = cats[c];
              best = c;
            }
        }
      p->group[i] = best;
    }
  return g_steal_pointer (&p);
}

CsPoints *
cs_points_from_geometry (CsGeometrySpace *space, CsGeometry *geometry, CsTokenizer *tok,
                         const int *cats, int n_cats, GError **error)
{
  CsPoints *p = cs_points_of_categories (geometry, tok, cats, n_cats, error);
  if (!p)
    return NULL;
  p->d = space->d;
  p->X = g_new (double, (gsize) p->n * p->d);
  cs_geometry_g_rows (space, p->token_ids, (int) p->n, p->X);
  return p;
}
