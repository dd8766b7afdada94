#define G_LOG_DOMAIN "conceptscope"

#include "cs-geometry-settings.h"

struct _CsGeometrySettings
{
  GObject  parent_instance;

  char    *hierarchy;
  char    *categories_json;
  double   train_fraction;
  guint    seed;
  int      min_tokens;
  char    *extra_name;
  char    *extra_words;
  gboolean wordnet_all;
  char    *pos;
};

G_DEFINE_FINAL_TYPE (CsGeometrySettings, cs_geometry_settings, G_TYPE_OBJECT)

enum
{
  PROP_0,
  PROP_HIERARCHY,
  PROP_CATEGORIES_JSON,
  PROP_TRAIN_FRACTION,
  PROP_SEED,
  PROP_MIN_TOKENS,
  PROP_EXTRA_NAME,
  PROP_EXTRA_WORDS,
  PROP_WORDNET_ALL,
  PROP_POS,
  N_PROPS
};

static GParamSpec *props[N_PROPS];

CsGeometrySettings *
cs_geometry_settings_new (void)
{
  return g_object_new (CS_TYPE_GEOMETRY_SETTINGS, NULL);
}

CsGeometrySettings *
cs_geometry_settings_copy (CsGeometrySettings *self)
{
  g_return_val_if_fail (CS_IS_GEOMETRY_SETTINGS (self), NULL);
  return g_object_new (CS_TYPE_GEOMETRY_SETTINGS, "hierarchy", self->hierarchy, "categories-json",
                       self->categories_json, "train-fraction", self->train_fraction, "seed", self->seed,
                       "min-tokens", self->min_tokens, "extra-name", self->extra_name, "extra-words",
                       self->extra_words, "wordnet-all", self->wordnet_all, "pos", self->pos, NULL);
}

void
cs_geometry_settings_to_params (CsGeometrySettings *self, CsGeometryParams *p)
{
  g_return_if_fail (CS_IS_GEOMETRY_SETTINGS (self));
  cs_geometry_params_init (p);
  if (self->hierarchy && *self->hierarchy)
    p->hierarchy = self->hierarchy;
  p->categories_json = self->categories_json;
  p->train_fraction = self->train_fraction;
  p->seed = self->seed;
  p->categories.min_tokens = self->min_tokens;
  p->extra_name = self->extra_name;
  p->extra_words = self->extra_words;
  p->wordnet_all = self->wordnet_all && !self->categories_json;
  p->categories.pos = cs_wordnet_pos_parse (self->pos) ? cs_wordnet_pos_parse (self->pos) : CS_WORDNET_NOUNS;
}

void
cs_geometry_settings_set_from (CsGeometrySettings *self, const CsGeometry *g)
{
  g_return_if_fail (CS_IS_GEOMETRY_SETTINGS (self));
  g_object_set (self, "train-fraction", g->train_fraction, "seed", g->seed, "min-tokens", g->categories->min_tokens,
                NULL);
}

static void
set_string (CsGeometrySettings *self, char **field, const char *value, guint prop)
{
  if (g_strcmp0 (*field, value) == 0)
    return;
  g_free (*field);
  *field = g_strdup (value);
  g_object_notify_by_pspec (G_OBJECT (self), props[prop]);
}

static void
cs_geometry_settings_get_property (GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
  CsGeometrySettings *self = CS_GEOMETRY_SETTINGS (object);
  switch (prop_id)
    {
    case PROP_HIERARCHY: g_value_set_string (value, self->hierarchy); break;
    case PROP_CATEGORIES_JSON: g_value_set_string (value, self->categories_json); break;
    case PROP_TRAIN_FRACTION: g_value_set_double (value, self->train_fraction); break;
    case PROP_SEED: g_value_set_uint (value, self->seed); break;
    case PROP_MIN_TOKENS: g_value_set_int (value, self->min_tokens); break;
    case PROP_EXTRA_NAME: g_value_set_string (value, self->extra_name); break;
    case PROP_EXTRA_WORDS: g_value_set_string (value, self->extra_words); break;
    case PROP_WORDNET_ALL: g_value_set_boolean (value, self->wordnet_all); break;
    case PROP_POS: g_value_set_string (value, self->pos); break;
    default: G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
cs_geometry_settings_set_property (GObject *object, guint prop_id, const GValue *value, GParamSpec *pspec)
{
  CsGeometrySettings *self = CS_GEOMETRY_SETTINGS (object);
  switch (prop_id)
    {
    case PROP_HIERARCHY:
      set_string (self, &self->hierarchy, g_value_get_string (value), prop_id);
      break;
    case PROP_CATEGORIES_JSON:
      set_string (self, &self->categories_json, g_value_get_string (value), prop_id);
      break;
    case PROP_EXTRA_NAME:
      set_string (self, &self->extra_name, g_value_get_string (value), prop_id);
      break;
    case PROP_EXTRA_WORDS:
      set_string (self, &self->extra_words, g_value_get_string (value), prop_id);
      break;
    case PROP_POS:
      set_string (self, &self->pos, cs_wordnet_pos_parse (g_value_get_string (value)) ? g_value_get_string (value)
                                                                                       : "noun", prop_id);
      break;
    case PROP_WORDNET_ALL:
      if (self->wordnet_all != g_value_get_boolean (value))
        {
          self->wordnet_all = g_value_get_boolean (value);
          g_object_notify_by_pspec (object, pspec);
        }
      break;
    case PROP_TRAIN_FRACTION:
      if (self->train_fraction != g_value_get_double (value))
        {
          self->train_fraction = g_value_get_double (value);
          g_object_notify_by_pspec (object, pspec);
        }
      break;
    case PROP_SEED:
      if (self->seed != g_value_get_uint (value))
        {
          self->seed = g_value_get_uint (value);
          g_object_notify_by_pspec (object, pspec);
        }
      break;
    case PROP_MIN_TOKENS:
      if (self->min_tokens != g_value_get_int (value))
        {
          self->min_tokens = g_value_get_int (value);
          g_object_notify_by_pspec (object, pspec);
        }
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
cs_geometry_settings_finalize (GObject *object)
{
  CsGeometrySettings *self = CS_GEOMETRY_SETTINGS (object);
  g_free (self->hierarchy);
  g_free (self->categories_json);
  g_free (self->extra_name);
  g_free (self->extra_words);
  g_free (self->pos);
  G_OBJECT_CLASS (cs_geometry_settings_parent_class)->finalize (object);
}

static void
cs_geometry_settings_class_init (CsGeometrySettingsClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GParamFlags f = G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS;
  CsGeometryParams d;

  cs_geometry_params_init (&d);
  object_class->get_property = cs_geometry_settings_get_property;
  object_class->set_property = cs_geometry_settings_set_property;
  object_class->finalize = cs_geometry_settings_finalize;
  props[PROP_HIERARCHY] = g_param_spec_string ("hierarchy", NULL, NULL, d.hierarchy, f);
  props[PROP_CATEGORIES_JSON] = g_param_spec_string ("categories-json", NULL, NULL, NULL, f);
  props[PROP_TRAIN_FRACTION] = g_param_spec_double ("train-fraction", NULL, NULL, 0.1, 1.0, d.train_fraction, f);
  props[PROP_SEED] = g_param_spec_uint ("seed", NULL, NULL, 0, 1000000, d.seed, f);
  props[PROP_MIN_TOKENS] = g_param_spec_int ("min-tokens", NULL, NULL, 2, 10000, d.categories.min_tokens, f);
  props[PROP_EXTRA_NAME] = g_param_spec_string ("extra-name", NULL, NULL, NULL, f);
  props[PROP_EXTRA_WORDS] = g_param_spec_string ("extra-words", NULL, NULL, NULL, f);
  /* every WordNet synset (of the parts of speech in "pos": noun, verb or both) instead of one hierarchy */
  props[PROP_WORDNET_ALL] = g_param_spec_boolean ("wordnet-all", NULL, NULL, FALSE, f);
  props[PROP_POS] = g_param_spec_string ("pos", NULL, NULL, "noun", f);
  g_object_class_install_properties (object_class, N_PROPS, props);
}

static void
cs_geometry_settings_init (CsGeometrySettings *self)
{
  CsGeometryParams d;
  cs_geometry_params_init (&d);
  self->hierarchy = g_strdup (d.hierarchy);
  self->train_fraction = d.train_fraction;
  self->seed = d.seed;
  self->min_tokens = d.categories.min_tokens;
  self->pos = g_strdup ("noun");
}
