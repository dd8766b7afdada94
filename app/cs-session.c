#define G_LOG_DOMAIN "conceptscope"

#include <string.h>

#include "cs-session.h"

struct _CsSession
{
  GObject          parent_instance;

  CsModel         *model;
  CsTokenizer     *tokenizer;
  CsGeometrySpace *space;
  CsGeometry      *geometry;
  GArray          *selection;   /* gint32 */
  GArray          *marked;      /* gint32 */
  char            *workspace_path;
  char            *axes;        /* "x;y", each "A" or "A-B" */
};

G_DEFINE_FINAL_TYPE (CsSession, cs_session, G_TYPE_OBJECT)

enum
{
  PROP_0,
  PROP_MODEL,
  PROP_TOKENIZER,
  PROP_SPACE,
  PROP_GEOMETRY,
  PROP_SELECTION,
  PROP_MARKED,
  PROP_WORKSPACE_PATH,
  PROP_AXES,
  N_PROPS
};

static GParamSpec *props[N_PROPS];

CsSession *
cs_session_new (void)
{
  return g_object_new (CS_TYPE_SESSION, NULL);
}

CsModel *
cs_session_get_model (CsSession *self)
{
  g_return_val_if_fail (CS_IS_SESSION (self), NULL);
  return self->model;
}

void
cs_session_set_model (CsSession *self, CsModel *model)
{
  g_return_if_fail (CS_IS_SESSION (self));
  if (g_set_object (&self->model, model))
    g_object_notify_by_pspec (G_OBJECT (self), props[PROP_MODEL]);
}

CsTokenizer *
cs_session_get_tokenizer (CsSession *self)
{
  g_return_val_if_fail (CS_IS_SESSION (self), NULL);
  return self->tokenizer;
}

void
cs_session_set_tokenizer (CsSession *self, CsTokenizer *tokenizer)
{
  g_return_if_fail (CS_IS_SESSION (self));
  if (self->tokenizer == tokenizer)
    return;
  g_clear_pointer (&self->tokenizer, cs_tokenizer_free);
  self->tokenizer = tokenizer ? cs_tokenizer_ref (tokenizer) : NULL;
  g_object_notify_by_pspec (G_OBJECT (self), props[PROP_TOKENIZER]);
}

CsGeometrySpace *
cs_session_get_space (CsSession *self)
{
  g_return_val_if_fail (CS_IS_SESSION (self), NULL);
  return self->space;
}

void
cs_session_set_space (CsSession *self, CsGeometrySpace *space)
{
  g_return_if_fail (CS_IS_SESSION (self));
  if (self->space == space)
    return;
  g_clear_pointer (&self->space, cs_geometry_space_free);
  self->space = space ? cs_geometry_space_ref (space) : NULL;
  g_object_notify_by_pspec (G_OBJECT (self), props[PROP_SPACE]);
}

CsGeometry *
cs_session_get_geometry (CsSession *self)
{
  g_return_val_if_fail (CS_IS_SESSION (self), NULL);
  return self->geometry;
}

void
cs_session_set_geometry (CsSession *self, CsGeometry *geometry)
{
  g_return_if_fail (CS_IS_SESSION (self));
  if (self->geometry == geometry)
    return;
  g_clear_pointer (&self->geometry, cs_geometry_free);
  self->geometry = geometry ? cs_geometry_ref (geometry) : NULL;
  g_object_notify_by_pspec (G_OBJECT (self), props[PROP_GEOMETRY]);
}

/* Replaces a's contents; FALSE when they were the same already. */
static gboolean
set_ids (GArray *a, const gint32 *ids, guint n)
{
  if (a->len == n && (n == 0 || memcmp (a->data, ids, n * sizeof (gint32)) == 0))
    return FALSE;
  g_array_set_size (a, 0);
  if (n)
    g_array_append_vals (a, ids, n);
  return TRUE;
}

const GArray *
cs_session_get_selection (CsSession *self)
{
  g_return_val_if_fail (CS_IS_SESSION (self), NULL);
  return self->selection;
}

void
cs_session_set_selection (CsSession *self, const gint32 *ids, guint n)
{
  g_return_if_fail (CS_IS_SESSION (self));
  g_return_if_fail (ids != NULL || n == 0);
  if (set_ids (self->selection, ids, n))
    g_object_notify_by_pspec (G_OBJECT (self), props[PROP_SELECTION]);
}

const GArray *
cs_session_get_marked (CsSession *self)
{
  g_return_val_if_fail (CS_IS_SESSION (self), NULL);
  return self->marked;
}

void
cs_session_set_marked (CsSession *self, const gint32 *ids, guint n)
{
  g_return_if_fail (CS_IS_SESSION (self));
  g_return_if_fail (ids != NULL || n == 0);
  if (set_ids (self->marked, ids, n))
    g_object_notify_by_pspec (G_OBJECT (self), props[PROP_MARKED]);
}

const char *
cs_session_get_workspace_path (CsSession *self)
{
  g_return_val_if_fail (CS_IS_SESSION (self), NULL);
  return self->workspace_path;
}

void
cs_session_set_workspace_path (CsSession *self, const char *path)
{
  g_return_if_fail (CS_IS_SESSION (self));
  if (g_strcmp0 (self->workspace_path, path) == 0)
    return;
  g_free (self->workspace_path);
  self->workspace_path = g_strdup (path);
  g_object_notify_by_pspec (G_OBJECT (self), props[PROP_WORKSPACE_PATH]);
}

const char *
cs_session_get_axes (CsSession *self)
{
  g_return_val_if_fail (CS_IS_SESSION (self), NULL);
  return self->axes;
}

void
cs_session_set_axes (CsSession *self, const char *x, const char *y)
{
  g_autofree char *axes = x && y ? g_strdup_printf ("%s;%s", x, y) : NULL;
  g_return_if_fail (CS_IS_SESSION (self));
  if (g_strcmp0 (self->axes, axes) == 0)
    return;
  g_free (self->axes);
  self->axes = g_steal_pointer (&axes);
  g_object_notify_by_pspec (G_OBJECT (self), props[PROP_AXES]);
}

static void
cs_session_get_property (GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
  CsSession *self = CS_SESSION (object);
  switch (prop_id)
    {
    case PROP_MODEL:
      g_value_set_object (value, self->model);
      break;
    case PROP_TOKENIZER:
      g_value_set_pointer (value, self->tokenizer);
      break;
    case PROP_SPACE:
      g_value_set_pointer (value, self->space);
      break;
    case PROP_GEOMETRY:
      g_value_set_pointer (value, self->geometry);
      break;
    case PROP_SELECTION:
      g_value_set_boxed (value, self->selection);
      break;
    case PROP_MARKED:
      g_value_set_boxed (value, self->marked);
      break;
    case PROP_WORKSPACE_PATH:
      g_value_set_string (value, self->workspace_path);
      break;
    case PROP_AXES:
      g_value_set_string (value, self->axes);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
cs_session_set_property (GObject *object, guint prop_id, const GValue *value, GParamSpec *pspec)
{
  CsSession *self = CS_SESSION (object);
  switch (prop_id)
    {
    case PROP_MODEL:
      cs_session_set_model (self, g_value_get_object (value));
      break;
    case PROP_WORKSPACE_PATH:
      cs_session_set_workspace_path (self, g_value_get_string (value));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
cs_session_finalize (GObject *object)
{
  CsSession *self = CS_SESSION (object);
  g_clear_object (&self->model);
  g_clear_pointer (&self->tokenizer, cs_tokenizer_free);
  g_clear_pointer (&self->space, cs_geometry_space_free);
  g_clear_pointer (&self->geometry, cs_geometry_free);
  g_clear_pointer (&self->selection, g_array_unref);
  g_clear_pointer (&self->marked, g_array_unref);
  g_clear_pointer (&self->workspace_path, g_free);
  g_clear_pointer (&self->axes, g_free);
  G_OBJECT_CLASS (cs_session_parent_class)->finalize (object);
}

static void
cs_session_class_init (CsSessionClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GParamFlags ro = G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS;
  GParamFlags rw = G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS;

  object_class->get_property = cs_session_get_property;
  object_class->set_property = cs_session_set_property;
  object_class->finalize = cs_session_finalize;
  props[PROP_MODEL] = g_param_spec_object ("model", NULL, NULL, CS_TYPE_MODEL, rw);
  /* plain C values (CsTokenizer, CsGeometrySpace, CsGeometry): set through
   * the typed setters, which take references */
  props[PROP_TOKENIZER] = g_param_spec_pointer ("tokenizer", NULL, NULL, ro);
  props[PROP_SPACE] = g_param_spec_pointer ("space", NULL, NULL, ro);
  props[PROP_GEOMETRY] = g_param_spec_pointer ("geometry", NULL, NULL, ro);
  props[PROP_SELECTION] = g_param_spec_boxed ("selection", NULL, NULL, G_TYPE_ARRAY, ro);
  props[PROP_MARKED] = g_param_spec_boxed ("marked", NULL, NULL, G_TYPE_ARRAY, ro);
  props[PROP_WORKSPACE_PATH] = g_param_spec_string ("workspace-path", NULL, NULL, NULL, rw);
  /* the Geometry view's projection axes, "x;y" (each "A" or "A-B"): set
   * through cs_session_set_axes */
  props[PROP_AXES] = g_param_spec_string ("axes", NULL, NULL, NULL, ro);
  g_object_class_install_properties (object_class, N_PROPS, props);
}

static void
cs_session_init (CsSession *self)
{
  self->selection = g_array_new (FALSE, FALSE, sizeof (gint32));
  self->marked = g_array_new (FALSE, FALSE, sizeof (gint32));
}
