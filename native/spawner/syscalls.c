/*
 * The system calls the helper makes for the agent, which Node cannot: mount(2) and umount2(2) of
 * overlay root file systems (M, U), and the overlayfs whiteouts of image layers — a character
 * device 0/0 where a layer deletes a path (W), the xattr trusted.overlay.opaque=y on a directory a
 * layer replaces (O), what containerd's and umoci's unpackers write for `.wh.` files.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdlib.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include "reply.h"
#include "syscalls.h"
#include "wire.h"

void syscall_request(char op, long id, char **f, int nf) {
  int need = op == 'M' ? 4 : 1;
  if (nf < need) { reply_fail(id, "bad request"); return; }
  char *a[4] = {0};
  for (int i = 0; i < need; i++) a[i] = unb64(f[i], NULL);
  int rc;
  switch (op) {
    case 'M': rc = mount(a[0], a[1], a[2], 0, *a[3] ? a[3] : NULL); break;
    case 'U': rc = umount2(a[0], nf > 1 ? atoi(f[1]) : 0); break;
    case 'W': rc = mknod(a[0], S_IFCHR, makedev(0, 0)); break;
    case 'O': rc = setxattr(a[0], "trusted.overlay.opaque", "y", 1, 0); break;
    default: rc = -1; errno = EINVAL; break;
  }
  int e = rc == 0 ? 0 : (errno ? errno : 1);
  for (int i = 0; i < need; i++) free(a[i]);
  reply_errno(id, e);
}
