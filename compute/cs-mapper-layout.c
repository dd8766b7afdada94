#define G_LOG_DOMAIN "cs-mapper"

#include "cs-mapper.h"
#include "cs-mapper-private.h"

#include <math.h>
#include <omp.h>

/* ------------------------------------------------------------------ layout */

typedef struct
{
  double x0, y0, size;     /* square cell */
  double cx, cy, mass;
  int    child[4];         /* −1: none */
  int    point;            /* leaf: the node it holds; −1 otherwise */
} QCell;

typedef struct
{
  QCell *cells;
  int    n, cap;
} QTree;

static int
qtree_new_cell (QTree *t, double x0, double y0, double size)
{
  QCell *c;
  if (t->n == t->cap)
    {
      t->cap = MAX (64, t->cap * 2);
      t->cells = g_renew (QCell, t->cells, t->cap);
    }
  c = &t->cells[t->n];
  c->x0 = x0;
  c->y0 = y0;
  c->size = size;
  c->cx = c->cy = c->mass = 0;
  c->child[0] = c->child[1] = c->child[2] = c->child[3] = -1;
  c->point = -1;
  return t->n++;
}

static void
qtree_insert (QTree *t, int cell, int pt, const double *x, const double *y, int depth)
{
  for (;;)
    {
      QCell *c = &t->cells[cell];
      double m = c->mass;
      int q;
      c->cx = (c->cx * m + x[pt]) / (m + 1);
      c->cy = (c->cy * m + y[pt]) / (m + 1);
      c->mass = m + 1;
      if (m == 0)
        {
          c->point = pt;
          return;
        }
      if (depth > 40)
        return;   /* coincident points: the mass is counted, that is enough */
      if (c->point >= 0)
        {
          /* push the resident point one level down */
          int old = c->point;
          double h = c->size / 2;
          int oq = (x[old] >= c->x0 + h) + 2 * (y[old] >= c->y0 + h);
          int nc;
          c->point = -1;
          nc = qtree_new_cell (t, c->x0 + (oq & 1) * h, c->y0 + (oq >> 1) * h, h);
          c = &t->cells[cell];
          c->child[oq] = nc;
          t->cells[nc].cx = x[old];
          t->cells[nc].cy = y[old];
          t->cells[nc].mass = 1;
          t->cells[nc].point = old;
        }
      {
        double h = c->size / 2;
        q = (x[pt] >= c->x0 + h) + 2 * (y[pt] >= c->y0 + h);
        if (c->child[q] < 0)
          {
            int nc = qtree_new_cell (t, c->x0 + (q & 1) * h, c->y0 + (q >> 1) * h, h);
            t->cells[cell].child[q] = nc;
          }
        cell = t->cells[cell].child[q];
        depth++;
      }
    }
}

static void
qtree_force (const QTree *t, int cell, double px, double py, int self, double k2, double theta2,
             double *fx, double *fy)
{
  const QCell *c = &t->cells[cell];
  double dx = px - c->cx, dy = py - c->cy, d2 = dx * dx + dy * dy;

  if (c->mass == 0 || (c->point == self && c->mass == 1))
    return;
  if (c->point >= 0 || c->size * c->size < theta2 * d2)
    {
      double f;
      if (d2 < 1e-12)
        return;
      f = k2 * c->mass / d2;   /* (k²/d) along the unit vector = k² Δ / d² */
      *fx += dx * f;
      *fy += dy * f;
      return;
    }
  for (int q = 0; q < 4; q++)
    if (c->child[q] >= 0)
      qtree_force (t, c->child[q], px, py, self, k2, theta2, fx, fy);
}

void
cs_mapper_layout (CsMapperGraph *g, guint seed)
{
  int n = g->n_nodes, iters;
  g_autoptr(GRand) rand = g_rand_new_with_seed (seed);
  g_autofree double *dx = NULL, *dy = NULL;
  double k = 1.0, k2 = 1.0, t0, side = sqrt ((double) MAX (1, n));
  gboolean bh = n > 500;
  QTree tree = { 0 };

  g_free (g->x);
  g_free (g->y);
  g->x = g_new (double, MAX (1, n));
  g->y = g_new (double, MAX (1, n));
  for (int i = 0; i < n; i++)
    {
      g->x[i] = g_rand_double (rand) * side;
      g->y[i] = g_rand_double (rand) * side;
    }
  if (n <= 1)
    {
      if (n == 1)
        g->x[0] = g->y[0] = 0.5;
      return;
    }
  dx = g_new (double, n);
  dy = g_new (double, n);
  iters = n > 5000 ? 150 : n > 1000 ? 250 : 400;
  t0 = side / 10;
  for (int it = 0; it < iters; it++)
    {
      double temp = t0 * (1.0 - (double) it / iters) + 1e-3;
      double cxm = 0, cym = 0;
      if (bh)
        {
          double xmin = INFINITY, ymin = INFINITY, xmax = -INFINITY, ymax = -INFINITY;
          for (int i = 0; i < n; i++)
            {
              xmin = MIN (xmin, g->x[i]);
              xmax = MAX (xmax, g->x[i]);
              ymin = MIN (ymin, g->y[i]);
              ymax = MAX (ymax, g->y[i]);
            }
          tree.n = 0;
          qtree_new_cell (&tree, xmin, ymin, MAX (xmax - xmin, ymax - ymin) * (1 + 1e-9) + 1e-9);
          for (int i = 0; i < n; i++)
            qtree_insert (&tree, 0, i, g->x, g->y, 0);
        }
      for (int i = 0; i < n; i++)
        {
          cxm += g->x[i];
          cym += g->y[i];
        }
      cxm /= n;
      cym /= n;
#pragma omp parallel for schedule(static)
      for (int i = 0; i < n; i++)
        {
          double fx = 0, fy = 0;
          if (bh)
            qtree_force (&tree, 0, g->x[i], g->y[i], i, k2, 0.81, &fx, &fy);
          else
            for (int j = 0; j < n; j++)
              {
                double ex = g->x[i] - g->x[j], ey = g->y[i] - g->y[j], d2 = ex * ex + ey * ey;
                if (j == i || d2 < 1e-12)
                  continue;
                fx += ex * k2 / d2;
                fy += ey * k2 / d2;
              }
          /* gravity keeps separate components in view */
          fx -= 0.05 * (g->x[i] - cxm);
          fy -= 0.05 * (g->y[i] - cym);
          dx[i] = fx;
          dy[i] = fy;
        }
      for (int e = 0; e < g->n_edges; e++)
        {
          int a = g->edges[e].source, b = g->edges[e].target;
          double ex = g->x[a] - g->x[b], ey = g->y[a] - g->y[b];
          double dist = sqrt (ex * ex + ey * ey);
          double f = dist / k * (0.5 + g->edges[e].weight);   /* d²/k along the unit vector */
          dx[a] -= ex * f;
          dy[a] -= ey * f;
          dx[b] += ex * f;
          dy[b] += ey * f;
        }
      for (int i = 0; i < n; i++)
        {
          double len = sqrt (dx[i] * dx[i] + dy[i] * dy[i]);
          /* a tiny deterministic jitter separates coincident nodes */
          if (len < 1e-12)
            {
              g->x[i] += 1e-6 * ((i % 7) - 3);
              g->y[i] += 1e-6 * ((i % 5) - 2);
              continue;
            }
          g->x[i] += dx[i] / len * MIN (len, temp);
          g->y[i] += dy[i] / len * MIN (len, temp);
        }
    }
  g_free (tree.cells);
  /* into [0, 1]², the same scale on both axes, centred */
  {
    double xmin = INFINITY, ymin = INFINITY, xmax = -INFINITY, ymax = -INFINITY, s;
    for (int i = 0; i < n; i++)
      {
        xmin = MIN (xmin, g->x[i]);
        xmax = MAX (xmax, g->x[i]);
        ymin = MIN (ymin, g->y[i]);
        ymax = MAX (ymax, g->y[i]);
      }
    s = MAX (xmax - xmin, ymax - ymin);
    if (!(s > 0))
      s = 1;
    for (int i = 0; i < n; i++)
      {
        g->x[i] = 0.5 + (g->x[i] - (xmin + xmax) / 2) / s;
        g->y[i] = 0.5 + (g->y[i] - (ymin + ymax) / 2) / s;
      }
  }
}
