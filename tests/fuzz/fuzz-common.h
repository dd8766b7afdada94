/* Fuzz targets: each file defines LLVMFuzzerTestOneInput over one reader of
 * files a user hands the program. Built with libFuzzer (make fuzz, clang)
 * or with fuzz-driver.c, which runs saved inputs (the corpus and every
 * input that once crashed) in the ordinary test suite. A reader may refuse
 * an input; it must never crash, hang or trip a sanitizer. */
#pragma once

#include <glib.h>
#include <glib/gstdio.h>
#include <stdint.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

/* The input as a file with the given suffix, for readers that take paths;
 * g_free the path after g_unlink. */
static inline char *
fuzz_write_temp (const uint8_t *data, size_t size, const char *suffix)
{
  g_autofree char *name = g_strdup_printf ("cs-fuzz-XXXXXX%s", suffix);
  GError *error = NULL;
  char *path = NULL;
  int fd = g_file_open_tmp (name, &path, &error);
  if (fd < 0)
    {
      g_clear_error (&error);
      return NULL;
    }
  if (size > 0 && write (fd, data, size) != (ssize_t) size)
    {
      close (fd);
      g_unlink (path);
      g_free (path);
      return NULL;
    }
  close (fd);
  return path;
}
