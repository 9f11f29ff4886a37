/* libFuzzer target for the lab spec parser (src/spec.c), which reads text the server builds from
 * configuration and the lab's own paths. `make fuzz` runs it under ASan and UBSan. Every input
 * must either parse or be refused with a message, never crash, read out of bounds, or leave a
 * parsed destination that is relative or holds "..". */
#include "../src/internal.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  char *text = malloc(size + 1);
  if (!text) return 0;
  memcpy(text, data, size);
  text[size] = 0; /* the server passes a C string: NULs end it */
  struct spec s;
  char err[256] = "";
  int rc = spec_parse(&s, text, err, sizeof err);
  if (rc < 0) {
    if (!err[0] && rc == -EINVAL) abort(); /* a refusal always says why */
  } else {
    for (int i = 0; i < s.n_ops; i++)
      if (s.ops[i].dst[0] != '/' || strstr(s.ops[i].dst, "..")) abort();
    if (s.argc > MAX_ARGS || s.envc > MAX_ENV || s.n_cgroups > MAX_CGROUPS) abort();
    if (s.argv[s.argc] || s.envp[s.envc]) abort();
  }
  spec_free(&s);
  free(text);
  return 0;
}
