#define G_LOG_DOMAIN "cs-mapper"

#include <string.h>

#include "cs-mapper-run.h"
#include "cs-categories.h"
#include "cs-error.h"

void
cs_mapper_run_params_init (CsMapperRunParams *p)
{
  memset (p, 0, sizeof *p);
  cs_mapper_params_init (&p->graph);
}

gboolean
cs_mapper_lens_values (const char *text, const double *X, gint64 n, int d, const CsGeometry *geo, double *out,
                       char **description, GCancellable *cancellable, GError **error)
{
  CsLensSpec spec;
  const double *vec = NULL;
  gboolean ok;

  if (!cs_lens_parse (text, &spec, error))
    return FALSE;
  if (spec.kind == CS_LENS_VECTOR)
    {
      int c = geo ? cs_category_set_find (geo->categories, spec.name) : -1;
      if (!geo)
        g_set_error (error, CS_ERROR, CS_ERROR_MISSING, "lens %s: vector lenses are concept vectors, and there are none",
                     text);
      else if (c < 0 || !geo->vectors[c].estimated)
        g_set_error (error, CS_ERROR, CS_ERROR_MISSING, "lens %s: no estimated vector '%s'", text, spec.name);
      else if (geo->d != d)
        g_set_error (error, CS_ERROR, CS_ERROR_MISMATCH, "lens %s: the vector has %d dimensions, the points %d", text,
                     geo->d, d);
      else
        vec = geo->vectors[c].lbar;
      if (!vec)
        {
          cs_lens_clear (&spec);
          return FALSE;
        }
    }
  ok = cs_lens_compute (&spec, X, n, d, vec, out, cancellable, error);
  if (ok && description)
    *description = cs_lens_describe (&spec);
  cs_lens_clear (&spec);
  return ok;
}

CsMapperRun *
cs_mapper_run (const double *X, gint64 n, int d, const CsMapperRunParams *p, CsProgressFunc progress,
               gpointer progress_data, GCancellable *cancellable, GError **error)
{
  g_autoptr(CsMapperRun) run = g_new0 (CsMapperRun, 1);
  CsMapperParams graph = p->graph;
  int nl = p->lens[1] ? 2 : 1;
  g_autofree double *col = g_new (double, MAX (1, n));
  gint64 t0 = g_get_monotonic_time (), t1, t2;

  g_return_val_if_fail (p->lens[0] != NULL, NULL);
  graph.n_lenses = nl;
  run->lens = g_new (double, MAX (1, n) * nl);
  run->lens_names = g_new0 (char *, nl + 1);
  for (int l = 0; l < nl; l++)
    {
      if (!cs_mapper_lens_values (p->lens[l], X, n, d, p->geometry, col, &run->lens_names[l], cancellable, error))
        return NULL;
      for (gint64 i = 0; i < n; i++)
        run->lens[i * nl + l] = col[i];
    }
  t1 = g_get_monotonic_time ();
  run->graph = cs_mapper_build (X, n, d, run->lens, &graph, progress, progress_data, cancellable, error);
  if (!run->graph)
    return NULL;
  t2 = g_get_monotonic_time ();
  cs_mapper_layout (run->graph, p->seed);
  if (p->concepts && p->geometry)
    {
      CsCategorySet *cats = p->geometry->categories;
      GPtrArray *names = g_ptr_array_new ();
      int n_est = 0;
      for (guint c = 0; c < cats->items->len; c++)
        n_est += p->geometry->vectors[c].estimated ? 1 : 0;
      run->concepts = g_new (double, MAX (1, n) * MAX (1, n_est));
      for (guint c = 0; c < cats->items->len; c++)
        if (p->geometry->vectors[c].estimated)
          {
            g_autofree char *spec = g_strdup_printf ("vector:%s", cs_category_set_get (cats, c)->name);
            if (!cs_mapper_lens_values (spec, X, n, d, p->geometry, col, NULL, cancellable, NULL))
              continue;
            for (gint64 i = 0; i < n; i++)
              run->concepts[i * n_est + run->n_concepts] = col[i];
            g_ptr_array_add (names, g_strdup (cs_category_set_get (cats, c)->name));
            run->n_concepts++;
          }
      /* rows of n_concepts values (fewer than n_est when one failed) */
      for (gint64 i = 0; i < n && run->n_concepts < n_est; i++)
        memmove (run->concepts + i * run->n_concepts, run->concepts + i * n_est, sizeof (double) * run->n_concepts);
      g_ptr_array_add (names, NULL);
      run->concept_names = (char **) g_ptr_array_free (names, FALSE);
    }
  run->lens_seconds = (t1 - t0) / 1e6;
  run->graph_seconds = (t2 - t1) / 1e6;
  run->layout_seconds = (g_get_monotonic_time () - t2) / 1e6;
  return g_steal_pointer (&run);
}

void
cs_mapper_run_free (CsMapperRun *run)
{
  if (!run)
    return;
  cs_mapper_graph_free (run->graph);
  g_free (run->lens);
  g_strfreev (run->lens_names);
  g_free (run->concepts);
  g_strfreev (run->concept_names);
  g_free (run);
}
