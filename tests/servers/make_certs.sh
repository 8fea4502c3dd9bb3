#!/usr/bin/env bash
# make_certs.sh: throwaway certificates for the TLS tests (openssl CLI).
#
#   tests/servers/make_certs.sh DIR
#
# Writes into DIR (created; previous files replaced):
#   ca.pem, ca.key              a test CA ("mmapurl test CA"), valid 7 days
#   server.pem, server.key      a leaf signed by it: CN localhost,
#                               subjectAltName DNS:localhost, IP:127.0.0.1,
#                               extendedKeyUsage serverAuth
#   wrong-ca.pem, wrong-ca.key  another self-signed CA with the same subject
#                               name as ca.pem but its own key: it must not
#                               verify server.pem (which has no authority
#                               key id, so the name match alone picks the
#                               issuer and the signature check must fail)
# EC P-256 keys (fast). Nothing here is secret; the keys are mode 600 anyway.
set -euo pipefail

(($# == 1)) || {
  echo "usage: $0 DIR" >&2
  exit 2
}
dir=$1
mkdir -p "$dir"
umask 077
tmp=$(mktemp -d "$dir/.make_certs.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

# A config of our own, so the system's openssl.cnf adds nothing.
cat >"$tmp/openssl.cnf" <<'EOF'
[req]
distinguished_name = dn
prompt = no
[dn]
[ca_ext]
basicConstraints = critical, CA:true
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
[leaf_ext]
basicConstraints = critical, CA:false
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth
subjectAltName = DNS:localhost, IP:127.0.0.1
authorityKeyIdentifier = none
subjectKeyIdentifier = hash
EOF

ca_subject="/O=mmapurl tests/CN=mmapurl test CA"

new_ca() {   # new_ca NAME
  openssl req -x509 -config "$tmp/openssl.cnf" -extensions ca_ext \
    -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
    -keyout "$tmp/$1.key" -out "$tmp/$1.pem" -days 7 -subj "$ca_subject" 2>/dev/null
}

new_ca ca
new_ca wrong-ca

openssl req -new -config "$tmp/openssl.cnf" \
  -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
  -keyout "$tmp/server.key" -out "$tmp/server.csr" \
  -subj "/O=mmapurl tests/CN=localhost" 2>/dev/null
openssl x509 -req -in "$tmp/server.csr" -CA "$tmp/ca.pem" -CAkey "$tmp/ca.key" \
  -set_serial "0x$(openssl rand -hex 8)" -days 7 \
  -extfile "$tmp/openssl.cnf" -extensions leaf_ext -out "$tmp/server.pem" 2>/dev/null

# Sanity: the leaf verifies against its CA, for 127.0.0.1 and localhost,
# and not against the other one.
openssl verify -CAfile "$tmp/ca.pem" -verify_ip 127.0.0.1 "$tmp/server.pem" >/dev/null
openssl verify -CAfile "$tmp/ca.pem" -verify_hostname localhost "$tmp/server.pem" >/dev/null
if openssl verify -CAfile "$tmp/wrong-ca.pem" "$tmp/server.pem" >/dev/null 2>&1; then
  echo "$0: server.pem verifies against wrong-ca.pem" >&2
  exit 1
fi

for f in ca wrong-ca server; do
  mv -f "$tmp/$f.key" "$dir/$f.key"
  chmod 644 "$tmp/$f.pem"
  mv -f "$tmp/$f.pem" "$dir/$f.pem"
done
echo "make_certs: CA $dir/ca.pem, leaf $dir/server.pem (localhost, 127.0.0.1)," \
  "other CA $dir/wrong-ca.pem" >&2
