#!/usr/bin/env bash
# check_elf.sh BINARY...: fails unless every binary is PIE, has full RELRO
# (GNU_RELRO + BIND_NOW), a non-executable stack, the stack protector and
# fortified libc calls. Reads the ELF file only (readelf), runs nothing.
#   --no-fortify-symbols: skip the fortify check (for a binary that makes no
#   libc call FORTIFY rewrites, where no __*_chk symbol can appear).
set -u
status=0
fortify=1
if [ "${1:-}" = --no-fortify-symbols ]; then fortify=0; shift; fi
for bin in "$@"; do
  problems=()
  header=$(readelf -h "$bin" 2>/dev/null) || { echo "$bin: not an ELF file"; status=1; continue; }
  segments=$(readelf -lW "$bin")
  dynamic=$(readelf -dW "$bin")
  symbols=$(readelf --dyn-syms -W "$bin")
  grep -q 'Type:[[:space:]]*DYN' <<<"$header" || problems+=("not PIE (ELF type is not DYN)")
  grep -q 'FLAGS_1.*PIE' <<<"$dynamic" || problems+=("not PIE (no DF_1_PIE)")
  grep -q 'GNU_RELRO' <<<"$segments" || problems+=("no RELRO segment")
  grep -Eq 'BIND_NOW|FLAGS_1.*NOW' <<<"$dynamic" || problems+=("partial RELRO only (no BIND_NOW)")
  stack=$(grep 'GNU_STACK' <<<"$segments")
  [ -n "$stack" ] || problems+=("no GNU_STACK header (executable stack by default)")
  grep -q 'RWE' <<<"$stack" && problems+=("executable stack")
  grep -q '__stack_chk_fail' <<<"$symbols" || problems+=("no stack protector (__stack_chk_fail not referenced)")
  if [ $fortify = 1 ]; then
    grep -Eq ' __[a-z_]+_chk(@|$)' <<<"$(grep -v __stack_chk_fail <<<"$symbols")" ||
      problems+=("not fortified (no __*_chk libc calls)")
  fi
  if [ ${#problems[@]} -eq 0 ]; then
    echo "$bin: PIE, full RELRO, NX stack, stack protector$([ $fortify = 1 ] && echo ", fortified")"
  else
    for p in "${problems[@]}"; do echo "$bin: $p"; done
    status=1
  fi
done
exit $status
