/* Reading safetensors files and model folders: values against the files that
 * PyTorch wrote, and every kind of broken input against its message. */
#include <glib/gstdio.h>
#include <math.h>
#include <string.h>

#include "cs-error.h"
#include "cs-model.h"
#include "cs-safetensors.h"

static char *
ref_path (const char *model, const char *file)
{
  return g_build_filename (g_getenv ("CS_TEST_DATA"), "reference", model, file, NULL);
}

static void
test_f16_bf16_conversion (void)
{
  /* Hand-computed IEEE half-precision values. */
  g_assert_cmpfloat (cs_f16_to_f32 (0x3c00), ==, 1.0f);
  g_assert_cmpfloat (cs_f16_to_f32 (0xc000), ==, -2.0f);
  g_assert_cmpfloat (cs_f16_to_f32 (0x7bff), ==, 65504.0f);
  g_assert_cmpfloat (cs_f16_to_f32 (0x0001), ==, ldexpf (1.0f, -24));
  g_assert_cmpfloat (cs_f16_to_f32 (0x03ff), ==, 1023 * ldexpf (1.0f, -24));
  g_assert_cmpfloat (cs_f16_to_f32 (0x3555), ==, 0.333251953125f);
  g_assert_true (isinf (cs_f16_to_f32 (0x7c00)));
  g_assert_true (signbit (cs_f16_to_f32 (0x8000)));
  g_assert_cmpuint (cs_f32_to_f16 (1.0f), ==, 0x3c00);
  g_assert_cmpuint (cs_f32_to_f16 (0.333333333f), ==, 0x3555);
  g_assert_cmpuint (cs_f32_to_f16 (65504.0f), ==, 0x7bff);
  g_assert_cmpuint (cs_f32_to_f16 (ldexpf (1.0f, -24)), ==, 0x0001);
  g_assert_cmpfloat (cs_bf16_to_f32 (0x3f80), ==, 1.0f);
  g_assert_cmpfloat (cs_bf16_to_f32 (0xc0a0), ==, -5.0f);
  g_assert_cmpuint (cs_f32_to_bf16 (1.0f), ==, 0x3f80);
  /* 1 + 2^-8 lies halfway between two bf16 values: ties go to even. */
  g_assert_cmpuint (cs_f32_to_bf16 (1.0f + ldexpf (1.0f, -8)), ==, 0x3f80);
  g_assert_cmpuint (cs_f32_to_bf16 (1.0f + 3 * ldexpf (1.0f, -8)), ==, 0x3f82);

  /* A tensor's read (the processor's F16C conversion, eight at a time,
   * with the scalar one for the rest) gives every one of the 65,536 half
   * values bit for bit as the scalar conversion does, whatever the start
   * and length (NaNs: a NaN each); the scalar one against the formula
   * (−1)^s · 2^(e−15) · (1 + m/1024), 2^−14 · m/1024 for subnormals. */
  {
    g_autofree guint16 *all = g_new (guint16, 65536 + 1);
    g_autofree float *got = g_new (float, 65536);
    CsTensor t = { 0 };
    for (guint i = 0; i < 65536; i++)
      {
        guint32 e = (i >> 10) & 0x1f, m = i & 0x3ff;
        float want = e == 0 ? ldexpf ((float) m / 1024.0f, -14) : ldexpf (1.0f + (float) m / 1024.0f, (int) e - 15);
        all[i] = (guint16) i;
        if (i & 0x8000)
          want = -want;
        if (e < 31)
          g_assert_cmpfloat (cs_f16_to_f32 ((guint16) i), ==, want);
      }
    t.dtype = CS_DTYPE_F16;
    t.ndim = 1;
    t.shape[0] = 65536;
    t.data = all;
    for (gsize first = 0; first < 4; first++)
      {
        gsize n = 65536 - first - (first == 3 ? 5 : 0);
        cs_tensor_read_f32 (&t, first, n, got);
        for (gsize i = 0; i < n; i++)
          {
            float want = cs_f16_to_f32 (all[first + i]);
            if (isnan (want))
              g_assert_true (isnan (got[i]));
            else
              g_assert_cmpint (memcmp (&got[i], &want, 4), ==, 0);
          }
      }
  }
}

/* PyTorch wrote gpt2-bf16 by rounding gpt2's float32 weights: reading both
 * and rounding ours must give the same values, tensor by tensor. */
static void
test_bf16_file_matches_f32_file (void)
{
  g_autofree char *p32 = ref_path ("gpt2", "model.safetensors");
  g_autofree char *p16 = ref_path ("gpt2-bf16", "model.safetensors");
  g_autoptr(GError) error = NULL;
  g_autoptr(CsSafetensors) a = cs_safetensors_open (p32, &error);
  g_assert_no_error (error);
  g_autoptr(CsSafetensors) b = cs_safetensors_open (p16, &error);
  g_assert_no_error (error);
  guint compared = 0;

  for (guint i = 0; i < cs_safetensors_get_n_tensors (b); i++)
    {
      const CsTensor *tb = cs_safetensors_get_nth (b, i);
      const CsTensor *ta = cs_safetensors_lookup (a, tb->name);
      if (!ta || tb->dtype != CS_DTYPE_BF16)
        continue;
      g_assert_cmpint (ta->dtype, ==, CS_DTYPE_F32);
      g_assert_cmpint (cs_tensor_numel (ta), ==, cs_tensor_numel (tb));
      gsize n = (gsize) cs_tensor_numel (ta);
      g_autofree float *fa = g_new (float, n);
      g_autofree float *fb = g_new (float, n);
      cs_tensor_read_f32 (ta, 0, n, fa);
      cs_tensor_read_f32 (tb, 0, n, fb);
      for (gsize k = 0; k < n; k++)
        g_assert_cmpfloat (cs_bf16_to_f32 (cs_f32_to_bf16 (fa[k])), ==, fb[k]);
      compared++;
    }
  g_assert_cmpuint (compared, >=, 20);
}

typedef struct
{
  const char *folder;
  const char *arch;
  int         layers, hidden, heads, kv_heads, head_dim, vocab;
  const char *dtype;
  gboolean    tied;
} ModelCase;

static const ModelCase model_cases[] = {
  { "gpt2", "GPT2LMHeadModel", 3, 64, 4, 4, 16, 512, "F32", TRUE },
  { "gpt2-bf16", "GPT2LMHeadModel", 3, 64, 4, 4, 16, 512, "BF16", TRUE },
  { "gpt2-hubstyle", "GPT2LMHeadModel", 3, 64, 4, 4, 16, 512, "F32", TRUE },
  { "llama", "LlamaForCausalLM", 3, 64, 4, 2, 16, 512, "F32", FALSE },
  { "gemma", "GemmaForCausalLM", 3, 64, 4, 1, 16, 512, "F32", TRUE },
  { "gemma2", "Gemma2ForCausalLM", 3, 64, 4, 2, 16, 512, "F32", TRUE },
};

static void
test_reference_models_open (void)
{
  for (guint i = 0; i < G_N_ELEMENTS (model_cases); i++)
    {
      const ModelCase *mc = &model_cases[i];
      g_autofree char *dir = g_build_filename (g_getenv ("CS_TEST_DATA"), "reference", mc->folder, NULL);
      g_autoptr(GError) error = NULL;
      g_autoptr(CsModel) m = cs_model_open (dir, &error);
      g_assert_no_error (error);
      const CsModelConfig *c = cs_model_get_config (m);
      g_assert_cmpstr (c->architecture, ==, mc->arch);
      g_assert_cmpint (c->n_layers, ==, mc->layers);
      g_assert_cmpint (c->hidden, ==, mc->hidden);
      g_assert_cmpint (c->n_heads, ==, mc->heads);
      g_assert_cmpint (c->n_kv_heads, ==, mc->kv_heads);
      g_assert_cmpint (c->head_dim, ==, mc->head_dim);
      g_assert_cmpint (c->vocab, ==, mc->vocab);
      g_assert_cmpstr (cs_dtype_to_string (cs_model_get_dtype (m)), ==, mc->dtype);
      g_assert_cmpint (cs_model_get_unembedding (m) == cs_model_get_embedding (m), ==, mc->tied);
    }
}

static void
test_gemma2_config (void)
{
  g_autofree char *dir = g_build_filename (g_getenv ("CS_TEST_DATA"), "reference", "gemma2", NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(CsModel) m = cs_model_open (dir, &error);
  g_assert_no_error (error);
  const CsModelConfig *c = cs_model_get_config (m);
  g_assert_cmpfloat (c->attn_softcap, ==, 50.0);
  g_assert_cmpfloat (c->final_softcap, ==, 30.0);
  g_assert_cmpfloat (c->query_pre_attn_scalar, ==, 16.0);
  g_assert_cmpfloat (c->rope_theta, ==, 10000.0);
  g_assert_cmpint (c->sliding_window, ==, 8);
  g_assert_true (c->layer_sliding[0]);
  g_assert_false (c->layer_sliding[1]);
  g_assert_true (c->layer_sliding[2]);
  g_assert_cmpint (c->activation, ==, CS_ACT_GELU_TANH);
}

/* The sample model's parameter count is the one its training recorded. */
static void
test_sample_model_params (void)
{
  g_autofree char *dir = g_build_filename (g_getenv ("CONCEPTSCOPE_DATADIR"), "sample-model", NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(CsModel) m = cs_model_open (dir, &error);
  g_assert_no_error (error);
  g_assert_cmpint (cs_model_get_n_params (m), ==, 6338048);
  g_assert_cmpint (cs_model_get_dtype (m), ==, CS_DTYPE_F16);
}

/* ---- broken input ---- */

static char *
tmp_file (const char *name)
{
  static char *dir;
  if (!dir)
    dir = g_dir_make_tmp ("cs-test-XXXXXX", NULL);
  return g_build_filename (dir, name, NULL);
}

static void
write_raw (const char *path, const char *header, const guint8 *data, gsize data_len)
{
  gsize hl = strlen (header);
  g_autoptr(GByteArray) b = g_byte_array_new ();
  guint8 len[8];
  for (int i = 0; i < 8; i++)
    len[i] = (guint8) ((guint64) hl >> (8 * i));
  g_byte_array_append (b, len, 8);
  g_byte_array_append (b, (const guint8 *) header, (guint) hl);
  if (data_len)
    g_byte_array_append (b, data, (guint) data_len);
  g_assert_true (g_file_set_contents (path, (const char *) b->data, b->len, NULL));
}

static void
expect_open_error (const char *path, const char *fragment)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(CsSafetensors) st = cs_safetensors_open (path, &error);
  g_assert_null (st);
  g_assert_error (error, CS_ERROR, error->code);
  g_test_message ("%s", error->message);
  if (!strstr (error->message, fragment))
    g_error ("message '%s' lacks '%s'", error->message, fragment);
}

static void
test_broken_safetensors (void)
{
  guint8 data[64] = { 0 };
  g_autofree char *p = tmp_file ("broken.safetensors");

  /* shorter than the length field */
  g_assert_true (g_file_set_contents (p, "abc", 3, NULL));
  expect_open_error (p, "too short");

  /* header length past the end of the file */
  {
    guint8 bytes[16] = { 0xff, 0xff, 0, 0, 0, 0, 0, 0, '{', '}' };
    g_assert_true (g_file_set_contents (p, (char *) bytes, 10, NULL));
    expect_open_error (p, "truncated or not a safetensors file");
  }

  /* header that is not JSON */
  write_raw (p, "{\"a\": [", NULL, 0);
  expect_open_error (p, "not valid JSON");

  /* data offsets that leave the file (a truncated download) */
  write_raw (p, "{\"w\":{\"dtype\":\"F32\",\"shape\":[4,4],\"data_offsets\":[0,64]}}", data, 40);
  expect_open_error (p, "truncated or corrupt");

  /* overlapping tensors */
  write_raw (p, "{\"a\":{\"dtype\":\"F32\",\"shape\":[8],\"data_offsets\":[0,32]},"
                "\"b\":{\"dtype\":\"F32\",\"shape\":[8],\"data_offsets\":[16,48]}}", data, 64);
  expect_open_error (p, "overlap");

  /* a dtype that is not a string */
  write_raw (p, "{\"w\":{\"dtype\":{\"x\":1},\"shape\":[4],\"data_offsets\":[0,4]}}", data, 4);
  expect_open_error (p, "has no dtype");

  /* unknown dtype */
  write_raw (p, "{\"w\":{\"dtype\":\"F8_E4M3\",\"shape\":[4],\"data_offsets\":[0,4]}}", data, 4);
  expect_open_error (p, "'F8_E4M3'");

  /* size disagrees with shape × dtype */
  write_raw (p, "{\"w\":{\"dtype\":\"F32\",\"shape\":[4,4],\"data_offsets\":[0,32]}}", data, 64);
  expect_open_error (p, "span 32 bytes");

  /* negative dimension */
  write_raw (p, "{\"w\":{\"dtype\":\"F32\",\"shape\":[-1],\"data_offsets\":[0,4]}}", data, 4);
  expect_open_error (p, "invalid dimension");

  /* dimensions written as doubles: whole ones are read, a huge one (4e32:
   * converting it to an integer was undefined behaviour, found by fuzzing)
   * and a fraction are refused */
  write_raw (p, "{\"w\":{\"dtype\":\"F32\",\"shape\":[6,4E32],\"data_offsets\":[0,4]}}", data, 4);
  expect_open_error (p, "invalid dimension");
  write_raw (p, "{\"w\":{\"dtype\":\"F32\",\"shape\":[1.5],\"data_offsets\":[0,4]}}", data, 4);
  expect_open_error (p, "invalid dimension");
  write_raw (p, "{\"w\":{\"dtype\":\"F32\",\"shape\":[1e0],\"data_offsets\":[0,4]}}", data, 4);
  {
    g_autoptr(GError) error = NULL;
    g_autoptr(CsSafetensors) st = cs_safetensors_open (p, &error);
    g_assert_no_error (error);
    g_assert_cmpint (cs_tensor_numel (cs_safetensors_lookup (st, "w")), ==, 1);
  }

  /* a valid one still opens, with its metadata */
  write_raw (p, "{\"__metadata__\":{\"format\":\"pt\"},\"w\":{\"dtype\":\"F32\",\"shape\":[2,2],\"data_offsets\":[0,16]}}",
             data, 16);
  {
    g_autoptr(GError) error = NULL;
    g_autoptr(CsSafetensors) st = cs_safetensors_open (p, &error);
    g_assert_no_error (error);
    g_assert_cmpstr (cs_safetensors_get_metadata (st, "format"), ==, "pt");
    g_assert_cmpint (cs_tensor_numel (cs_safetensors_lookup (st, "w")), ==, 4);
  }
}

/* Builds a model folder from the gpt2 reference, with a config and a tensor
 * filter that break it in one way. */
static char *
make_model_dir (const char *name, const char *config_edit_from, const char *config_edit_to,
                const char *drop_tensor)
{
  g_autofree char *src_cfg = ref_path ("gpt2", "config.json");
  g_autofree char *src_st = ref_path ("gpt2", "model.safetensors");
  char *dir = tmp_file (name);
  g_autofree char *cfg_path = g_build_filename (dir, "config.json", NULL);
  g_autofree char *st_path = g_build_filename (dir, "model.safetensors", NULL);
  g_autofree char *cfg = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(CsSafetensors) st = cs_safetensors_open (src_st, &error);
  g_autoptr(GArray) keep = g_array_new (FALSE, FALSE, sizeof (CsTensor));

  g_assert_no_error (error);
  g_mkdir_with_parents (dir, 0755);
  g_assert_true (g_file_get_contents (src_cfg, &cfg, NULL, NULL));
  if (config_edit_from)
    {
      g_assert_nonnull (strstr (cfg, config_edit_from));
      g_autoptr(GString) s = g_string_new (cfg);
      g_string_replace (s, config_edit_from, config_edit_to, 1);
      g_free (cfg);
      cfg = g_string_free (g_steal_pointer (&s), FALSE);
    }
  g_assert_true (g_file_set_contents (cfg_path, cfg, -1, NULL));
  for (guint i = 0; i < cs_safetensors_get_n_tensors (st); i++)
    {
      const CsTensor *t = cs_safetensors_get_nth (st, i);
      if (drop_tensor && g_str_equal (t->name, drop_tensor))
        continue;
      g_array_append_val (keep, *t);
    }
  g_assert_true (cs_safetensors_write (st_path, (CsTensor *) keep->data, keep->len, NULL, &error));
  g_assert_no_error (error);
  return dir;
}

static void
expect_model_error (const char *dir, const char *fragment)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(CsModel) m = cs_model_open (dir, &error);
  g_assert_null (m);
  g_assert_nonnull (error);
  g_test_message ("%s", error->message);
  if (!strstr (error->message, fragment))
    g_error ("message '%s' lacks '%s'", error->message, fragment);
}

static void
test_broken_model_folders (void)
{
  g_autofree char *ok = make_model_dir ("ok", NULL, NULL, NULL);
  g_autofree char *missing = make_model_dir ("missing", NULL, NULL, "transformer.ln_f.bias");
  g_autofree char *shape = make_model_dir ("shape", "\"vocab_size\": 512", "\"vocab_size\": 500", NULL);
  g_autofree char *arch = make_model_dir ("arch", "GPT2LMHeadModel", "BertForMaskedLM", NULL);
  g_autofree char *nojson = tmp_file ("nojson");
  g_autofree char *nojson_cfg = g_build_filename (nojson, "config.json", NULL);
  g_autofree char *noweights = tmp_file ("noweights");
  g_autofree char *noweights_cfg = g_build_filename (noweights, "config.json", NULL);
  g_autofree char *src_cfg = ref_path ("gpt2", "config.json");
  g_autofree char *cfg = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(CsModel) m = cs_model_open (ok, &error);

  g_assert_no_error (error);
  g_assert_nonnull (m);

  expect_model_error (missing, "'ln_f.bias' is missing");
  expect_model_error (shape, "tensor 'transformer.wte.weight' is F32 [512, 64] but config.json implies [500, 64]");
  expect_model_error (arch, "'BertForMaskedLM' is not supported; ConceptScope supports GPT2LMHeadModel, LlamaForCausalLM");

  g_mkdir_with_parents (nojson, 0755);
  g_assert_true (g_file_set_contents (nojson_cfg, "{ not json", -1, NULL));
  expect_model_error (nojson, "not valid JSON");

  g_mkdir_with_parents (noweights, 0755);
  g_assert_true (g_file_get_contents (src_cfg, &cfg, NULL, NULL));
  g_assert_true (g_file_set_contents (noweights_cfg, cfg, -1, NULL));
  expect_model_error (noweights, "has no model.safetensors");

  expect_model_error ("/nonexistent/folder", "is not a folder");
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/safetensors/f16-bf16", test_f16_bf16_conversion);
  g_test_add_func ("/safetensors/bf16-file", test_bf16_file_matches_f32_file);
  g_test_add_func ("/safetensors/broken", test_broken_safetensors);
  g_test_add_func ("/model/reference-folders", test_reference_models_open);
  g_test_add_func ("/model/gemma2-config", test_gemma2_config);
  g_test_add_func ("/model/sample-params", test_sample_model_params);
  g_test_add_func ("/model/broken-folders", test_broken_model_folders);
  return g_test_run ();
}
