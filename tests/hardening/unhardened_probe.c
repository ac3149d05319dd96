/* Built with every hardening flag turned off: check_elf.sh must reject it,
   which shows that the checker can fail. */
#include <stdio.h>
#include <string.h>

int main(int argc, char **argv) {
  char buf[16];
  strcpy(buf, argc > 1 ? argv[1] : "x");
  printf("%s\n", buf);
  return 0;
}
