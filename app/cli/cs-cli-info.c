#define G_LOG_DOMAIN "conceptscope-cli"

#include <stdio.h>

#include "cs-backend.h"
#include "cs-cli-commands.h"
#include "cs-model.h"

int
cs_cli_info (int argc, char **argv)
{
  gboolean json = FALSE;
  g_auto(GStrv) rest = NULL;
  GOptionEntry entries[] = {
    { "json", 0, 0, G_OPTION_ARG_NONE, &json, "Print JSON", NULL },
    { G_OPTION_REMAINING, 0, 0, G_OPTION_ARG_STRING_ARRAY, &rest, NULL, NULL },
    { NULL }
  };
  g_autoptr(GOptionContext) ctx = g_option_context_new ("[MODEL] — describe a model");
  g_autoptr(GError) error = NULL;
  g_autoptr(CsModel) model = NULL;
  g_autofree char *path = NULL;
  const CsModelConfig *c;

  g_option_context_add_main_entries (ctx, entries, NULL);
  if (!g_option_context_parse (ctx, &argc, &argv, &error))
    return cs_cli_fail (g_steal_pointer (&error));
  if (rest && g_strv_length (rest) > 1)
    {
      fprintf (stderr, "conceptscope-cli info: one MODEL at most\n");
      return 2;
    }
  model = cs_cli_open_model (rest, &path, NULL, &error);
  if (!model)
    return cs_cli_fail (g_steal_pointer (&error));
  c = cs_model_get_config (model);

  if (json)
    {
      g_autoptr(JsonBuilder) b = json_builder_new ();
      json_builder_begin_object (b);
      json_builder_set_member_name (b, "name");
      json_builder_add_string_value (b, cs_model_get_name (model));
      json_builder_set_member_name (b, "path");
      json_builder_add_string_value (b, cs_model_get_path (model));
      json_builder_set_member_name (b, "architecture");
      json_builder_add_string_value (b, c->architecture);
      json_builder_set_member_name (b, "family");
      json_builder_add_string_value (b, cs_arch_family (c->arch));
      json_builder_set_member_name (b, "layers");
      json_builder_add_int_value (b, c->n_layers);
      json_builder_set_member_name (b, "hidden_size");
      json_builder_add_int_value (b, c->hidden);
      json_builder_set_member_name (b, "heads");
      json_builder_add_int_value (b, c->n_heads);
      json_builder_set_member_name (b, "kv_heads");
      json_builder_add_int_value (b, c->n_kv_heads);
      json_builder_set_member_name (b, "head_dim");
      json_builder_add_int_value (b, c->head_dim);
      json_builder_set_member_name (b, "intermediate_size");
      json_builder_add_int_value (b, c->intermediate);
      json_builder_set_member_name (b, "vocab_size");
      json_builder_add_int_value (b, c->vocab);
      json_builder_set_member_name (b, "context_length");
      json_builder_add_int_value (b, c->max_positions);
      json_builder_set_member_name (b, "dtype");
      json_builder_add_string_value (b, cs_dtype_to_string (cs_model_get_dtype (model)));
      json_builder_set_member_name (b, "parameters");
      json_builder_add_int_value (b, cs_model_get_n_params (model));
      json_builder_set_member_name (b, "tied_embeddings");
      json_builder_add_boolean_value (b, cs_model_get_unembedding (model) == cs_model_get_embedding (model));
      json_builder_set_member_name (b, "file_bytes");
      json_builder_add_int_value (b, (gint64) cs_model_get_file_size (model));
      /* where work on this machine runs, and how */
      json_builder_set_member_name (b, "compute");
      json_builder_begin_object (b);
      json_builder_set_member_name (b, "description");
      {
        g_autofree char *d = cs_backend_describe (CS_DEVICE_AUTO);
        json_builder_add_string_value (b, d);
      }
      json_builder_set_member_name (b, "blas_kernels");
      json_builder_add_string_value (b, cs_backend_blas_core ());
      json_builder_set_member_name (b, "threads");
      json_builder_add_int_value (b, cs_backend_get_threads ());
      json_builder_set_member_name (b, "omp_wait_policy");
      json_builder_add_string_value (b, g_getenv ("OMP_WAIT_POLICY"));
      json_builder_end_object (b);
      json_builder_end_object (b);
      g_autoptr(JsonNode) root = json_builder_get_root (b);
      cs_cli_print_json (root);
    }
  else
    {
      printf ("%s\n", cs_model_get_name (model));
      printf ("  architecture   %s (%s)\n", c->architecture, cs_arch_family (c->arch));
      printf ("  layers         %d\n", c->n_layers);
      printf ("  hidden size    %d\n", c->hidden);
      printf ("  heads          %d (key/value %d, head size %d)\n", c->n_heads, c->n_kv_heads, c->head_dim);
      printf ("  MLP size       %d\n", c->intermediate);
      printf ("  vocabulary     %d\n", c->vocab);
      printf ("  context        %d\n", c->max_positions);
      printf ("  dtype          %s\n", cs_dtype_to_string (cs_model_get_dtype (model)));
      printf ("  parameters     %" G_GINT64_FORMAT " (%.2f M)\n", cs_model_get_n_params (model),
              cs_model_get_n_params (model) / 1e6);
      {
        g_autofree char *d = cs_backend_describe (CS_DEVICE_AUTO);
        printf ("  compute        %s\n", d);
      }
    }
  return 0;
}
