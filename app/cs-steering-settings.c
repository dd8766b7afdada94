#define G_LOG_DOMAIN "conceptscope"

#include <stddef.h>

#include "cs-steering-settings.h"
#include "cs-settings-fields.h"

struct _CsSteeringSettings
{
  GObject   parent_instance;

  char     *layers, *multipliers, *targets, *gen_prompt;
  char     *concept, *concept_minus;   /* "": the pairs' vector; a category name: Cov^½ ℓ̄ */
  double    held_out;
  int       position, effects_layer, steer_from, gen_tokens, columns;
  int       first_layer_top;   /* 1 or 0: the effects heatmap's row order */
  gboolean  normalise;
};

G_DEFINE_FINAL_TYPE (CsSteeringSettings, cs_steering_settings, G_TYPE_OBJECT)

/* The properties, each a field of the struct. */
#define F(name, type, field) { name, type, offsetof (CsSteeringSettings, field), 0, 0 }
static const CsSettingsField fields[] = {
  F ("layers", G_TYPE_STRING, layers),
  F ("multipliers", G_TYPE_STRING, multipliers),
  F ("targets", G_TYPE_STRING, targets),
  F ("gen-prompt", G_TYPE_STRING, gen_prompt),
  F ("concept", G_TYPE_STRING, concept),
  F ("concept-minus", G_TYPE_STRING, concept_minus),
  { "held-out", G_TYPE_DOUBLE, offsetof (CsSteeringSettings, held_out), 0, 1 },
  F ("position", G_TYPE_INT, position),
  F ("effects-layer", G_TYPE_INT, effects_layer),
  F ("steer-from", G_TYPE_INT, steer_from),
  F ("gen-tokens", G_TYPE_INT, gen_tokens),
  F ("columns", G_TYPE_INT, columns),
  F ("normalise", G_TYPE_BOOLEAN, normalise),
  F ("first-layer-top", G_TYPE_INT, first_layer_top),
};
#undef F

CsSteeringSettings *
cs_steering_settings_new (void)
{
  return g_object_new (CS_TYPE_STEERING_SETTINGS, NULL);
}

void
cs_steering_settings_to_run (CsSteeringSettings *self, CsSteerRun *run)
{
  g_return_if_fail (CS_IS_STEERING_SETTINGS (self));
  cs_steer_run_init (run);
  run->held_out = self->held_out;
  run->position = (CsSteerPosition) self->position;
  run->effects_layer = self->effects_layer;
  run->steer_from = self->steer_from;
  run->normalise = self->normalise;
  run->gen_prompt = self->gen_prompt;
  run->gen_tokens = self->gen_tokens;
}

char *
cs_steering_settings_dup_concept (CsSteeringSettings *self)
{
  g_return_val_if_fail (CS_IS_STEERING_SETTINGS (self), NULL);
  if (!self->concept || !*self->concept)
    return NULL;
  if (self->concept_minus && *self->concept_minus && !g_str_equal (self->concept_minus, self->concept))
    return g_strdup_printf ("%s-%s", self->concept, self->concept_minus);
  return g_strdup (self->concept);
}

const char *
cs_steering_settings_get (CsSteeringSettings *self, const char *prop)
{
  g_return_val_if_fail (CS_IS_STEERING_SETTINGS (self), NULL);
  for (guint i = 0; i < G_N_ELEMENTS (fields); i++)
    if (fields[i].type == G_TYPE_STRING && g_str_equal (fields[i].name, prop))
      return *(char **) G_STRUCT_MEMBER_P (self, fields[i].offset);
  g_return_val_if_reached (NULL);
}

static void
cs_steering_settings_get_property (GObject *object, guint id, GValue *value, GParamSpec *pspec)
{
  cs_settings_fields_get (object, fields, id, value);
}

static void
cs_steering_settings_set_property (GObject *object, guint id, const GValue *value, GParamSpec *pspec)
{
  cs_settings_fields_set (object, fields, id, value, pspec);
}

static void
cs_steering_settings_finalize (GObject *object)
{
  cs_settings_fields_free (object, fields, G_N_ELEMENTS (fields));
  G_OBJECT_CLASS (cs_steering_settings_parent_class)->finalize (object);
}

static void
cs_steering_settings_class_init (CsSteeringSettingsClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->get_property = cs_steering_settings_get_property;
  object_class->set_property = cs_steering_settings_set_property;
  object_class->finalize = cs_steering_settings_finalize;
  cs_settings_fields_install (object_class, fields, G_N_ELEMENTS (fields));
}

static void
cs_steering_settings_init (CsSteeringSettings *self)
{
  CsSteerRun d;
  cs_steer_run_init (&d);
  self->layers = g_strdup (CS_STEER_DEFAULT_LAYERS);
  self->multipliers = g_strdup (CS_STEER_DEFAULT_MULTIPLIERS);
  /* the sample model's own example: the animal − plant set's targets and
   * a plant prompt to push towards animals */
  self->targets = g_strdup ("animal");
  self->gen_prompt = g_strdup ("A fern is a kind of");
  self->concept = g_strdup ("");
  self->concept_minus = g_strdup ("");
  self->held_out = d.held_out;
  self->position = d.position;
  self->effects_layer = d.effects_layer;
  self->steer_from = d.steer_from;
  self->gen_tokens = d.gen_tokens;
  self->normalise = d.normalise;
  self->columns = CS_STEER_SORT_KIND;
  self->first_layer_top = TRUE;
}
