#define G_LOG_DOMAIN "conceptscope"

#include "cs-mapper-settings.h"

struct _CsMapperSettings
{
  GObject  parent_instance;

  GStrv    categories;
  char    *lens[2];
  int      intervals;
  double   overlap;
  int      cover, cluster;
  double   eps;
  int      min_samples, min_intersection;
  char    *colour;
};

G_DEFINE_FINAL_TYPE (CsMapperSettings, cs_mapper_settings, G_TYPE_OBJECT)

enum
{
  PROP_0,
  PROP_CATEGORIES,
  PROP_LENS1,
  PROP_LENS2,
  PROP_INTERVALS,
  PROP_OVERLAP,
  PROP_COVER,
  PROP_CLUSTER,
  PROP_EPS,
  PROP_MIN_SAMPLES,
  PROP_MIN_INTERSECTION,
  PROP_COLOUR,
  N_PROPS
};

static GParamSpec *props[N_PROPS];

CsMapperSettings *
cs_mapper_settings_new (void)
{
  return g_object_new (CS_TYPE_MAPPER_SETTINGS, NULL);
}

CsMapperSettings *
cs_mapper_settings_copy (CsMapperSettings *self)
{
  g_return_val_if_fail (CS_IS_MAPPER_SETTINGS (self), NULL);
  return g_object_new (CS_TYPE_MAPPER_SETTINGS, "categories", self->categories, "lens1", self->lens[0], "lens2",
                       self->lens[1], "intervals", self->intervals, "overlap", self->overlap, "cover", self->cover,
                       "cluster", self->cluster, "eps", self->eps, "min-samples", self->min_samples,
                       "min-intersection", self->min_intersection, "colour", self->colour, NULL);
}

static gboolean
strv_equal (const char * const *a, const char * const *b)
{
  guint na = a ? g_strv_length ((GStrv) a) : 0, nb = b ? g_strv_length ((GStrv) b) : 0;
  if (na != nb)
    return FALSE;
  for (guint i = 0; i < na; i++)
    if (!g_str_equal (a[i], b[i]))
      return FALSE;
  return TRUE;
}

gboolean
cs_mapper_settings_equal (CsMapperSettings *a, CsMapperSettings *b)
{
  return a && b && strv_equal ((const char * const *) a->categories, (const char * const *) b->categories) &&
         g_strcmp0 (a->lens[0], b->lens[0]) == 0 && g_strcmp0 (a->lens[1], b->lens[1]) == 0 &&
         a->intervals == b->intervals && a->overlap == b->overlap && a->cover == b->cover &&
         a->cluster == b->cluster && a->eps == b->eps && a->min_samples == b->min_samples &&
         a->min_intersection == b->min_intersection;
}

void
cs_mapper_settings_to_params (CsMapperSettings *self, CsMapperRunParams *p)
{
  g_return_if_fail (CS_IS_MAPPER_SETTINGS (self));
  cs_mapper_run_params_init (p);
  p->lens[0] = self->lens[0];
  p->lens[1] = self->lens[1] && *self->lens[1] ? self->lens[1] : NULL;
  p->graph.n_lenses = p->lens[1] ? 2 : 1;
  p->graph.intervals = self->intervals;
  p->graph.overlap = self->overlap;
  p->graph.cover = (CsCoverKind) self->cover;
  p->graph.cluster = (CsClusterKind) self->cluster;
  p->graph.eps = self->eps;
  p->graph.min_samples = self->min_samples;
  p->graph.min_intersection = self->min_intersection;
}

void
cs_mapper_settings_set_from (CsMapperSettings *self, const CsMapperParams *p)
{
  g_return_if_fail (CS_IS_MAPPER_SETTINGS (self));
  g_object_set (self, "intervals", p->intervals, "overlap", p->overlap, "cover", (int) p->cover, "cluster",
                (int) p->cluster, "eps", p->eps, "min-samples", p->min_samples, "min-intersection",
                p->min_intersection, NULL);
}

const char * const *
cs_mapper_settings_get_categories (CsMapperSettings *self)
{
  g_return_val_if_fail (CS_IS_MAPPER_SETTINGS (self), NULL);
  return (const char * const *) self->categories;
}

const char *
cs_mapper_settings_get_colour (CsMapperSettings *self)
{
  g_return_val_if_fail (CS_IS_MAPPER_SETTINGS (self), NULL);
  return self->colour;
}

static void
set_string (GObject *object, char **field, const GValue *value, GParamSpec *pspec)
{
  const char *v = g_value_get_string (value);
  if (g_strcmp0 (*field, v) == 0)
    return;
  g_free (*field);
  *field = g_strdup (v);
  g_object_notify_by_pspec (object, pspec);
}

static void
set_int (GObject *object, int *field, const GValue *value, GParamSpec *pspec)
{
  if (*field == g_value_get_int (value))
    return;
  *field = g_value_get_int (value);
  g_object_notify_by_pspec (object, pspec);
}

static void
set_double (GObject *object, double *field, const GValue *value, GParamSpec *pspec)
{
  if (*field == g_value_get_double (value))
    return;
  *field = g_value_get_double (value);
  g_object_notify_by_pspec (object, pspec);
}

static void
cs_mapper_settings_get_property (GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
  CsMapperSettings *self = CS_MAPPER_SETTINGS (object);
  switch (prop_id)
    {
    case PROP_CATEGORIES: g_value_set_boxed (value, self->categories); break;
    case PROP_LENS1: g_value_set_string (value, self->lens[0]); break;
    case PROP_LENS2: g_value_set_string (value, self->lens[1]); break;
    case PROP_INTERVALS: g_value_set_int (value, self->intervals); break;
    case PROP_OVERLAP: g_value_set_double (value, self->overlap); break;
    case PROP_COVER: g_value_set_int (value, self->cover); break;
    case PROP_CLUSTER: g_value_set_int (value, self->cluster); break;
    case PROP_EPS: g_value_set_double (value, self->eps); break;
    case PROP_MIN_SAMPLES: g_value_set_int (value, self->min_samples); break;
    case PROP_MIN_INTERSECTION: g_value_set_int (value, self->min_intersection); break;
    case PROP_COLOUR: g_value_set_string (value, self->colour); break;
    default: G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
cs_mapper_settings_set_property (GObject *object, guint prop_id, const GValue *value, GParamSpec *pspec)
{
  CsMapperSettings *self = CS_MAPPER_SETTINGS (object);
  switch (prop_id)
    {
    case PROP_CATEGORIES:
      if (!strv_equal ((const char * const *) self->categories, g_value_get_boxed (value)))
        {
          g_strfreev (self->categories);
          self->categories = g_value_dup_boxed (value);
          g_object_notify_by_pspec (object, pspec);
        }
      break;
    case PROP_LENS1: set_string (object, &self->lens[0], value, pspec); break;
    case PROP_LENS2: set_string (object, &self->lens[1], value, pspec); break;
    case PROP_INTERVALS: set_int (object, &self->intervals, value, pspec); break;
    case PROP_OVERLAP: set_double (object, &self->overlap, value, pspec); break;
    case PROP_COVER: set_int (object, &self->cover, value, pspec); break;
    case PROP_CLUSTER: set_int (object, &self->cluster, value, pspec); break;
    case PROP_EPS: set_double (object, &self->eps, value, pspec); break;
    case PROP_MIN_SAMPLES: set_int (object, &self->min_samples, value, pspec); break;
    case PROP_MIN_INTERSECTION: set_int (object, &self->min_intersection, value, pspec); break;
    case PROP_COLOUR: set_string (object, &self->colour, value, pspec); break;
    default: G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
cs_mapper_settings_finalize (GObject *object)
{
  CsMapperSettings *self = CS_MAPPER_SETTINGS (object);
  g_strfreev (self->categories);
  g_free (self->lens[0]);
  g_free (self->lens[1]);
  g_free (self->colour);
  G_OBJECT_CLASS (cs_mapper_settings_parent_class)->finalize (object);
}

static void
cs_mapper_settings_class_init (CsMapperSettingsClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GParamFlags f = G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS;
  CsMapperParams d;

  cs_mapper_params_init (&d);
  object_class->get_property = cs_mapper_settings_get_property;
  object_class->set_property = cs_mapper_settings_set_property;
  object_class->finalize = cs_mapper_settings_finalize;
  props[PROP_CATEGORIES] = g_param_spec_boxed ("categories", NULL, NULL, G_TYPE_STRV, f);
  props[PROP_LENS1] = g_param_spec_string ("lens1", NULL, NULL, NULL, f);
  props[PROP_LENS2] = g_param_spec_string ("lens2", NULL, NULL, NULL, f);
  props[PROP_INTERVALS] = g_param_spec_int ("intervals", NULL, NULL, 1, 200, d.intervals, f);
  props[PROP_OVERLAP] = g_param_spec_double ("overlap", NULL, NULL, 0, 0.95, d.overlap, f);
  props[PROP_COVER] = g_param_spec_int ("cover", NULL, NULL, CS_COVER_UNIFORM, CS_COVER_BALANCED, d.cover, f);
  props[PROP_CLUSTER] = g_param_spec_int ("cluster", NULL, NULL, CS_CLUSTER_SINGLE_LINKAGE, CS_CLUSTER_DBSCAN,
                                          d.cluster, f);
  props[PROP_EPS] = g_param_spec_double ("eps", NULL, NULL, 0, 1000, MAX (d.eps, 0), f);
  props[PROP_MIN_SAMPLES] = g_param_spec_int ("min-samples", NULL, NULL, 1, 1000, d.min_samples, f);
  props[PROP_MIN_INTERSECTION] = g_param_spec_int ("min-intersection", NULL, NULL, 1, 1000, d.min_intersection, f);
  props[PROP_COLOUR] = g_param_spec_string ("colour", NULL, NULL, "categories", f);
  g_object_class_install_properties (object_class, N_PROPS, props);
}

static void
cs_mapper_settings_init (CsMapperSettings *self)
{
  CsMapperParams d;
  cs_mapper_params_init (&d);
  self->categories = g_new0 (char *, 1);
  self->intervals = d.intervals;
  self->overlap = d.overlap;
  self->cover = d.cover;
  self->cluster = d.cluster;
  self->eps = MAX (d.eps, 0);
  self->min_samples = d.min_samples;
  self->min_intersection = d.min_intersection;
  self->colour = g_strdup ("categories");
}
