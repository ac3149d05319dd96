#!/bin/sh
# authd faces the internet and must hold no PKCS#11 code: no keyd::p11::
# symbol, no C_* PKCS#11 entry point, no key generation. Fails if authd
# links keyd_custody (keyd's keyrings and HSM layer) again.
set -eu
bin=$1
found=$(nm -C "$bin" | grep -E 'keyd::p11::|[^_A-Za-z0-9]C_(Sign|Initialize|Login|GenerateKeyPair|GetFunctionList)|generate_signing_key|KeyringStore' || true)
if [ -n "$found" ]; then
  echo "$bin holds PKCS#11 code:"
  echo "$found" | cut -c1-160 | head -20
  exit 1
fi
echo "$bin: no PKCS#11 symbols"
