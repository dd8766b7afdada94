#define G_LOG_DOMAIN "cs-sae"

#include "cs-sae-set.h"
#include "cs-error.h"
#include "cs-json.h"

#include <json-glib/json-glib.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

static void
member_free (gpointer p)
{
  CsSaeSetMember *m = p;
  g_free (m->path);
  g_free (m->hook);
  g_free (m->variant);
  cs_sae_free (m->sae);
  g_free (m);
}

void
cs_sae_set_free (CsSaeSet *set)
{
  if (!set)
    return;
  g_free (set->root);
  g_clear_pointer (&set->chosen, g_ptr_array_unref);
  g_clear_pointer (&set->others, g_ptr_array_unref);
  g_clear_pointer (&set->skipped, g_ptr_array_unref);
  g_free (set);
}

CsSae *
cs_sae_set_at_layer (CsSaeSet *set, int layer)
{
  for (guint i = 0; set && i < set->chosen->len; i++)
    {
      CsSaeSetMember *m = g_ptr_array_index (set->chosen, i);
      if (m->layer == layer)
        return m->sae;
    }
  return NULL;
}

/* A path part "layer_12", "width_16k" or "average_l0_71": its number. */
static gboolean
part_number (const char *part, const char *prefix, double *v)
{
  char *end;
  if (!g_str_has_prefix (part, prefix))
    return FALSE;
  *v = g_ascii_strtod (part + strlen (prefix), &end);
  if (end == part + strlen (prefix))
    return FALSE;
  if (*end == 'k' || *end == 'K')
    *v *= 1000, end++;
  else if (*end == 'm' || *end == 'M')
    *v *= 1000000, end++;
  return *end == '\0';
}

typedef struct
{
  CsSaeSetMember *m;
  double width, l0;   /* for the choice among variants */
} Found;

static void
add_skipped (CsSaeSet *set, const char *path, const char *why)
{
  g_autofree char *rel = g_str_has_prefix (path, set->root) && strlen (path) > strlen (set->root)
                           ? g_strdup (path + strlen (set->root) + (path[strlen (set->root)] == '/' ? 1 : 0))
                           : g_strdup (path);
  g_ptr_array_add (set->skipped, g_strdup_printf ("%s: %s", rel, why));
}

/* A SAELens folder: its cfg.json says the hook and the sizes. */
static void
found_saelens (CsSaeSet *set, GArray *found, const char *dir, int d_model, int n_layers)
{
  g_autofree char *cfg = g_build_filename (dir, "cfg.json", NULL);
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(GError) error = NULL;
  gboolean pre = FALSE;
  JsonObject *o;
  int layer = -1, d_in;
  Found f = { 0 };

  if (!cs_json_parse_file (parser, cfg, &error) || !(o = cs_json_root_object (parser)))
    {
      add_skipped (set, dir, error ? error->message : "cfg.json is not a JSON object");
      return;
    }
  d_in = (int) cs_json_int (o, "d_in", -1);
  if (!cs_sae_hook_parse (cs_json_string (o, "hook_name", NULL), &pre, &layer))
    {
      g_autofree char *why = g_strdup_printf ("hook %s is not the residual stream (blocks.L.hook_resid_post or "
                                              "hook_resid_pre); other hooks are not read yet",
                                              cs_json_string (o, "hook_name", "(none)"));
      add_skipped (set, dir, why);
      return;
    }
  if (d_in != d_model)
    {
      g_autofree char *why = g_strdup_printf ("d_in %d does not fit this model's hidden size %d", d_in, d_model);
      add_skipped (set, dir, why);
      return;
    }
  /* resid_pre.L is what layer L − 1 leaves: the stream the effects read there */
  if (pre)
    {
      if (layer == 0)
        {
          add_skipped (set, dir, "hook_resid_pre of layer 0 reads the embeddings, before any layer the effects read");
          return;
        }
      layer -= 1;
    }
  if (layer >= n_layers)
    {
      g_autofree char *why = g_strdup_printf ("layer %d: this model has layers 0 to %d", layer, n_layers - 1);
      add_skipped (set, dir, why);
      return;
    }
  f.m = g_new0 (CsSaeSetMember, 1);
  f.m->path = g_strdup (dir);
  f.m->hook = pre ? g_strdup_printf ("resid_pre.%d", layer + 1) : g_strdup_printf ("resid_post.%d", layer);
  f.m->layer = layer;
  f.m->variant = g_path_get_basename (dir);
  f.m->d_sae = (int) cs_json_int (o, "d_sae", -1);
  f.width = f.m->d_sae;
  f.l0 = NAN;
  g_array_append_val (found, f);
}

/* A Gemma Scope params.npz: layer, width and L0 from the path. */
static void
found_npz (CsSaeSet *set, GArray *found, const char *file, int n_layers)
{
  g_autofree char *rel = g_strdup (file + strlen (set->root));
  g_auto(GStrv) parts = g_strsplit (rel, "/", -1);
  double layer = -1, width = 0, l0 = NAN, v;
  Found f = { 0 };

  for (guint i = 0; parts[i]; i++)
    {
      if (part_number (parts[i], "layer_", &v))
        layer = v;
      else if (part_number (parts[i], "width_", &v))
        width = v;
      else if (part_number (parts[i], "average_l0_", &v))
        l0 = v;
    }
  if (layer < 0 || layer != floor (layer))
    {
      add_skipped (set, file, "no layer_N in its path says which layer it reads");
      return;
    }
  if (layer >= n_layers)
    {
      g_autofree char *why = g_strdup_printf ("layer %d: this model has layers 0 to %d", (int) layer, n_layers - 1);
      add_skipped (set, file, why);
      return;
    }
  f.m = g_new0 (CsSaeSetMember, 1);
  f.m->path = g_strdup (file);
  f.m->hook = g_strdup_printf ("resid_post.%d", (int) layer);
  f.m->layer = (int) layer;
  {
    g_autofree char *dir = g_path_get_dirname (file);
    g_autofree char *up = g_path_get_dirname (dir);
    g_autofree char *a = g_path_get_basename (up), *b = g_path_get_basename (dir);
    f.m->variant = g_strdup_printf ("%s/%s", a, b);
  }
  f.m->d_sae = (int) width;
  f.width = width;
  f.l0 = l0;
  g_array_append_val (found, f);
}

static int
compare_names (gconstpointer a, gconstpointer b)
{
  return g_strcmp0 (*(const char * const *) a, *(const char * const *) b);
}

static void
walk (CsSaeSet *set, GArray *found, const char *dir, int depth, int d_model, int n_layers)
{
  g_autoptr(GDir) d = NULL;
  g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
  g_autofree char *cfg = g_build_filename (dir, "cfg.json", NULL);
  g_autofree char *weights = g_build_filename (dir, "sae_weights.safetensors", NULL);
  const char *name;

  if (g_file_test (cfg, G_FILE_TEST_IS_REGULAR) && g_file_test (weights, G_FILE_TEST_IS_REGULAR))
    {
      found_saelens (set, found, dir, d_model, n_layers);
      return;
    }
  if (depth > 5 || !(d = g_dir_open (dir, 0, NULL)))
    return;
  while ((name = g_dir_read_name (d)))
    g_ptr_array_add (names, g_strdup (name));
  g_ptr_array_sort (names, compare_names);
  for (guint i = 0; i < names->len; i++)
    {
      g_autofree char *path = g_build_filename (dir, (const char *) names->pdata[i], NULL);
      if (g_file_test (path, G_FILE_TEST_IS_DIR))
        walk (set, found, path, depth + 1, d_model, n_layers);
      else if (g_str_equal (names->pdata[i], "params.npz"))
        found_npz (set, found, path, n_layers);
    }
}

/* Among one layer's variants: the first width, then the L0 nearest 100. */
static int
compare_found (gconstpointer a, gconstpointer b)
{
  const Found *x = a, *y = b;
  double dx = isnan (x->l0) ? 1e9 : fabs (x->l0 - 100), dy = isnan (y->l0) ? 1e9 : fabs (y->l0 - 100);
  if (x->m->layer != y->m->layer)
    return x->m->layer - y->m->layer;
  if (x->width != y->width)
    return x->width < y->width ? -1 : 1;
  if (dx != dy)
    return dx < dy ? -1 : 1;
  return g_strcmp0 (x->m->variant, y->m->variant);
}

CsSaeSet *
cs_sae_set_open (const char *dir, int d_model, int n_layers, const char * const *choices, GError **error)
{
  g_autoptr(CsSaeSet) set = g_new0 (CsSaeSet, 1);
  g_autoptr(GArray) found = g_array_new (FALSE, FALSE, sizeof (Found));

  if (!g_file_test (dir, G_FILE_TEST_IS_DIR))
    {
      g_set_error (error, CS_ERROR, CS_ERROR_MISSING, "%s is not a folder of SAEs", dir);
      return NULL;
    }
  set->root = g_canonicalize_filename (dir, NULL);
  set->chosen = g_ptr_array_new_with_free_func (member_free);
  set->others = g_ptr_array_new_with_free_func (member_free);
  set->skipped = g_ptr_array_new_with_free_func (g_free);
  walk (set, found, set->root, 0, d_model, n_layers);
  g_array_sort (found, compare_found);
  for (guint i = 0; i < found->len; i++)
    {
      Found *f = &g_array_index (found, Found, i);
      gboolean first = i == 0 || g_array_index (found, Found, i - 1).m->layer != f->m->layer;
      gboolean asked = FALSE, other_asked = FALSE;
      for (guint c = 0; choices && choices[c]; c++)
        {
          g_autofree char *prefix = g_strdup_printf ("%d=", f->m->layer);
          if (g_str_has_prefix (choices[c], prefix))
            {
              if (g_str_equal (choices[c] + strlen (prefix), f->m->variant))
                asked = TRUE;
              else
                other_asked = TRUE;
            }
        }
      /* the first of a layer unless another is asked for; the one asked for */
      if (asked || (first && !other_asked && !cs_sae_set_at_layer (set, f->m->layer)))
        {
          g_autoptr(GError) local = NULL;
          if (cs_sae_set_at_layer (set, f->m->layer))
            {
              /* a default taken before the one asked for came: it becomes an alternative */
              for (guint k = 0; k < set->chosen->len; k++)
                if (((CsSaeSetMember *) set->chosen->pdata[k])->layer == f->m->layer)
                  {
                    CsSaeSetMember *old = g_ptr_array_steal_index (set->chosen, k);
                    g_clear_pointer (&old->sae, cs_sae_free);
                    g_ptr_array_add (set->others, old);
                    break;
                  }
            }
          if (!(f->m->sae = cs_sae_load (f->m->path, &local)))
            {
              add_skipped (set, f->m->path, local->message);
              member_free (f->m);
              continue;
            }
          if (f->m->sae->d_in != d_model)
            {
              g_autofree char *why = g_strdup_printf ("d_in %d does not fit this model's hidden size %d",
                                                      f->m->sae->d_in, d_model);
              add_skipped (set, f->m->path, why);
              member_free (f->m);
              continue;
            }
          f->m->d_sae = f->m->sae->d_sae;
          g_ptr_array_add (set->chosen, f->m);
        }
      else
        g_ptr_array_add (set->others, f->m);
    }
  g_ptr_array_sort (set->skipped, compare_names);
  /* a choice that named no SAE of the folder is an error, not a layer left out */
  for (guint c = 0; choices && choices[c]; c++)
    {
      char *end;
      long layer = strtol (choices[c], &end, 10);
      gboolean met = FALSE;
      if (end == choices[c] || *end != '=')
        {
          g_set_error (error, CS_ERROR, CS_ERROR_RANGE, "'%s': choose an SAE as LAYER=VARIANT", choices[c]);
          return NULL;
        }
      for (guint i = 0; i < set->chosen->len; i++)
        {
          CsSaeSetMember *m = g_ptr_array_index (set->chosen, i);
          met = met || (m->layer == layer && g_str_equal (m->variant, end + 1));
        }
      if (!met)
        {
          g_auto(GStrv) there = cs_sae_set_variants (set, (int) layer);
          g_autofree char *list = g_strjoinv (", ", there);
          g_set_error (error, CS_ERROR, CS_ERROR_MISSING, "%s has no SAE %s at layer %ld%s%s", dir, end + 1, layer,
                       there[0] ? "; there: " : "", list);
          return NULL;
        }
    }
  if (set->chosen->len == 0)
    {
      g_autoptr(GString) why = g_string_new (NULL);
      for (guint i = 0; i < set->skipped->len && i < 5; i++)
        g_string_append_printf (why, "; %s", (const char *) set->skipped->pdata[i]);
      g_set_error (error, CS_ERROR, CS_ERROR_MISSING, "%s holds no SAE that fits this model%s", dir, why->str);
      return NULL;
    }
  return g_steal_pointer (&set);
}

GStrv
cs_sae_set_choices (const CsSaeSet *set)
{
  GStrvBuilder *b = g_strv_builder_new ();
  GStrv out;
  for (guint i = 0; set && i < set->chosen->len; i++)
    {
      CsSaeSetMember *m = g_ptr_array_index (set->chosen, i);
      g_autofree char *c = g_strdup_printf ("%d=%s", m->layer, m->variant);
      g_strv_builder_add (b, c);
    }
  out = g_strv_builder_end (b);
  g_strv_builder_unref (b);
  return out;
}

GStrv
cs_sae_set_variants (const CsSaeSet *set, int layer)
{
  GStrvBuilder *b = g_strv_builder_new ();
  GStrv out;
  for (int pass = 0; set && pass < 2; pass++)
    {
      GPtrArray *a = pass == 0 ? set->chosen : set->others;
      for (guint i = 0; i < a->len; i++)
        {
          CsSaeSetMember *m = g_ptr_array_index (a, i);
          if (m->layer == layer)
            g_strv_builder_add (b, m->variant);
        }
    }
  out = g_strv_builder_end (b);
  g_strv_builder_unref (b);
  return out;
}

const char *
cs_sae_set_variant_path (const CsSaeSet *set, int layer, const char *variant)
{
  for (int pass = 0; set && pass < 2; pass++)
    {
      GPtrArray *a = pass == 0 ? set->chosen : set->others;
      for (guint i = 0; i < a->len; i++)
        {
          CsSaeSetMember *m = g_ptr_array_index (a, i);
          if (m->layer == layer && g_str_equal (m->variant, variant))
            return m->path;
        }
    }
  return NULL;
}

gboolean
cs_sae_set_put (CsSaeSet *set, int layer, const char *variant, CsSae *sae, GError **error)
{
  CsSaeSetMember *want = NULL;
  guint at = 0;
  for (guint i = 0; i < set->chosen->len; i++)
    {
      CsSaeSetMember *m = g_ptr_array_index (set->chosen, i);
      if (m->layer == layer && g_str_equal (m->variant, variant))
        {
          cs_sae_free (sae);   /* already in use */
          return TRUE;
        }
    }
  for (guint i = 0; i < set->others->len && !want; i++)
    {
      CsSaeSetMember *m = g_ptr_array_index (set->others, i);
      if (m->layer == layer && g_str_equal (m->variant, variant))
        {
          want = m;
          at = i;
        }
    }
  if (!want)
    {
      g_set_error (error, CS_ERROR, CS_ERROR_MISSING, "%s has no SAE %s at layer %d", set->root, variant, layer);
      cs_sae_free (sae);
      return FALSE;
    }
  if (set->chosen->len > 0 && sae->d_in != ((CsSaeSetMember *) set->chosen->pdata[0])->sae->d_in)
    {
      g_set_error (error, CS_ERROR, CS_ERROR_MISMATCH, "%s reads %d-dimensional activations, the set's others %d",
                   want->path, sae->d_in, ((CsSaeSetMember *) set->chosen->pdata[0])->sae->d_in);
      cs_sae_free (sae);
      return FALSE;
    }
  want->sae = sae;
  want->d_sae = sae->d_sae;
  g_ptr_array_steal_index (set->others, at);
  /* the one it replaces becomes an alternative again, unloaded */
  for (guint i = 0; i < set->chosen->len; i++)
    {
      CsSaeSetMember *m = g_ptr_array_index (set->chosen, i);
      if (m->layer == layer)
        {
          g_ptr_array_steal_index (set->chosen, i);
          g_clear_pointer (&m->sae, cs_sae_free);
          g_ptr_array_add (set->others, m);
          break;
        }
    }
  /* chosen stays ordered by layer */
  for (at = 0; at < set->chosen->len && ((CsSaeSetMember *) set->chosen->pdata[at])->layer < layer; at++)
    ;
  g_ptr_array_insert (set->chosen, (gint) at, want);
  return TRUE;
}

gboolean
cs_sae_set_choose (CsSaeSet *set, int layer, const char *variant, GError **error)
{
  const char *path = cs_sae_set_variant_path (set, layer, variant);
  CsSae *sae;
  if (!path)
    {
      g_set_error (error, CS_ERROR, CS_ERROR_MISSING, "%s has no SAE %s at layer %d", set->root, variant, layer);
      return FALSE;
    }
  for (guint i = 0; i < set->chosen->len; i++)
    {
      CsSaeSetMember *m = g_ptr_array_index (set->chosen, i);
      if (m->layer == layer && g_str_equal (m->variant, variant))
        return TRUE;   /* already in use: nothing to load */
    }
  if (!(sae = cs_sae_load (path, error)))
    return FALSE;
  return cs_sae_set_put (set, layer, variant, sae, error);
}
