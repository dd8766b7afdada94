#define G_LOG_DOMAIN "conceptscope"

#include <stddef.h>

#include "cs-patching-settings.h"
#include "cs-settings-fields.h"

struct _CsPatchingSettings
{
  GObject   parent_instance;

  char     *clean, *corrupted, *answer, *wrong, *task_file;
  int       target, metric, task, shots, prompts, heads, n_eval;
  gboolean  noising, heads_last;
};

G_DEFINE_FINAL_TYPE (CsPatchingSettings, cs_patching_settings, G_TYPE_OBJECT)

const char *const cs_patching_settings_tasks[] = { "hypernym", "antonym", "plural", NULL };

/* The properties, each a field of the struct. */
#define F(name, type, field) { name, type, offsetof (CsPatchingSettings, field), 0, 0 }
static const CsSettingsField fields[] = {
  F ("clean", G_TYPE_STRING, clean),
  F ("corrupted", G_TYPE_STRING, corrupted),
  F ("answer", G_TYPE_STRING, answer),
  F ("wrong", G_TYPE_STRING, wrong),
  F ("task-file", G_TYPE_STRING, task_file),
  F ("target", G_TYPE_INT, target),
  F ("metric", G_TYPE_INT, metric),
  F ("task", G_TYPE_INT, task),
  F ("shots", G_TYPE_INT, shots),
  F ("prompts", G_TYPE_INT, prompts),
  F ("heads", G_TYPE_INT, heads),
  F ("eval", G_TYPE_INT, n_eval),
  F ("noising", G_TYPE_BOOLEAN, noising),
  F ("heads-last", G_TYPE_BOOLEAN, heads_last),
};
#undef F

CsPatchingSettings *
cs_patching_settings_new (void)
{
  return g_object_new (CS_TYPE_PATCHING_SETTINGS, NULL);
}

void
cs_patching_settings_to_patch (CsPatchingSettings *self, CsPatchParams *p)
{
  g_return_if_fail (CS_IS_PATCHING_SETTINGS (self));
  cs_patch_params_init (p);
  p->clean = self->clean;
  p->corrupted = self->corrupted;
  p->answer = self->answer;
  p->wrong = self->wrong && *self->wrong ? self->wrong : NULL;
  p->target = (CsPatchTarget) CLAMP (self->target, 0, CS_PATCH_HEADS);
  p->metric = self->metric == CS_PATCH_PROB ? CS_PATCH_PROB : CS_PATCH_LOGIT_DIFF;
  p->noising = self->noising;
  p->heads_last = self->heads_last;
}

void
cs_patching_settings_to_fv (CsPatchingSettings *self, CsFvParams *p)
{
  g_return_if_fail (CS_IS_PATCHING_SETTINGS (self));
  cs_fv_params_init (p);
  p->shots = self->shots;
  p->n_prompts = self->prompts;
  p->heads = self->heads;
  p->n_eval = self->n_eval;
}

const char *
cs_patching_settings_get_task (CsPatchingSettings *self)
{
  g_return_val_if_fail (CS_IS_PATCHING_SETTINGS (self), NULL);
  if (self->task_file && *self->task_file)
    return self->task_file;
  return cs_patching_settings_tasks[CLAMP (self->task, 0, (int) G_N_ELEMENTS (cs_patching_settings_tasks) - 2)];
}

static void
cs_patching_settings_get_property (GObject *object, guint id, GValue *value, GParamSpec *pspec)
{
  cs_settings_fields_get (object, fields, id, value);
}

static void
cs_patching_settings_set_property (GObject *object, guint id, const GValue *value, GParamSpec *pspec)
{
  cs_settings_fields_set (object, fields, id, value, pspec);
}

static void
cs_patching_settings_finalize (GObject *object)
{
  cs_settings_fields_free (object, fields, G_N_ELEMENTS (fields));
  G_OBJECT_CLASS (cs_patching_settings_parent_class)->finalize (object);
}

static void
cs_patching_settings_class_init (CsPatchingSettingsClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->get_property = cs_patching_settings_get_property;
  object_class->set_property = cs_patching_settings_set_property;
  object_class->finalize = cs_patching_settings_finalize;
  cs_settings_fields_install (object_class, fields, G_N_ELEMENTS (fields));
}

static void
cs_patching_settings_init (CsPatchingSettings *self)
{
  CsPatchParams p;
  CsFvParams f;
  cs_patch_params_init (&p);
  cs_fv_params_init (&f);
  /* the sample model's own example: a bird and a fish told apart */
  self->clean = g_strdup ("A sparrow is a kind of");
  self->corrupted = g_strdup ("A salmon is a kind of");
  self->answer = g_strdup ("bird");
  self->wrong = g_strdup ("fish");
  self->target = p.target;
  self->metric = p.metric;
  self->noising = p.noising;
  self->heads_last = p.heads_last;
  self->shots = f.shots;
  self->prompts = f.n_prompts;
  self->heads = f.heads;
  self->n_eval = f.n_eval;
}
