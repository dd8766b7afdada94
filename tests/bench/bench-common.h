/* What the benchmark programs share. */
#pragma once

#include <glib.h>
#include <string.h>

/* Peak resident set of this process image (VmHWM); unlike getrusage's
 * ru_maxrss it is not inherited from the parent across exec. */
static inline double
peak_rss_mb (void)
{
  g_autofree char *status = NULL;
  if (g_file_get_contents ("/proc/self/status", &status, NULL, NULL))
    {
      const char *p = strstr (status, "VmHWM:");
      if (p)
        return g_ascii_strtod (p + 6, NULL) / 1024.0;
    }
  return -1;
}
