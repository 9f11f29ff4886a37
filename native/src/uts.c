/* UTS namespace: the lab's own hostname and NIS domain name (uts_namespaces(7)). The host's
 * names are untouched because the child already lives in a new UTS namespace. */
#include "internal.h"
#include <errno.h>
#include <unistd.h>

int uts_set_names(struct trace_buf *t, const char *hostname, const char *domainname) {
  struct trace_rec *r;
  if (hostname) {
    r = tr_begin(t, WHO_CHILD, "sethostname");
    tr_str(r, hostname);
    tr_int(r, (long long)s_len(hostname));
    if (tr_end(r, sethostname(hostname, s_len(hostname))) < 0) return -errno;
  }
  if (domainname) {
    r = tr_begin(t, WHO_CHILD, "setdomainname");
    tr_str(r, domainname);
    tr_int(r, (long long)s_len(domainname));
    if (tr_end(r, setdomainname(domainname, s_len(domainname))) < 0) return -errno;
  }
  return 0;
}
