#!/usr/bin/env bash
# make_certs.sh DIR - a throw-away PKI for the TLS tests, made with the openssl command (EC P-256
# keys: fast). Writes into DIR:
#   ca.pem ca.key                 the test CA (trusted by the tests, by nobody else)
#   cadir/                        the CA as a hashed directory (openssl rehash)
#   server.pem server.key         signed by the CA for localhost, 127.0.0.1 and ::1
#   expired.pem expired.key       signed by the CA for the same names, expired a day ago
#   wronghost.pem wronghost.key   signed by the CA for wrong.example only
#   selfsigned.pem selfsigned.key self-signed for localhost and 127.0.0.1 (trusted by nobody)
# Exits non-zero with openssl's message when anything fails.
set -euo pipefail
dir=${1:?usage: make_certs.sh DIR}
mkdir -p "$dir"
cd "$dir"
quiet() { "$@" 2>openssl.err || { cat openssl.err >&2; exit 1; }; }
key() { quiet openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1"; }

key ca.key
quiet openssl req -x509 -new -key ca.key -out ca.pem -days 2 -subj "/CN=wsk test CA" \
  -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign"

# sign NAME SAN DAYS: NAME.key and NAME.pem for the subjectAltName SAN, signed by the CA, valid for
# DAYS days from now (negative: it ended that long ago).
sign() {
  key "$1.key"
  quiet openssl req -new -key "$1.key" -out "$1.csr" -subj "/CN=$1"
  printf 'subjectAltName=%s\nextendedKeyUsage=serverAuth\n' "$2" >"$1.ext"
  quiet openssl x509 -req -in "$1.csr" -CA ca.pem -CAkey ca.key -CAcreateserial -days "$3" \
    -extfile "$1.ext" -out "$1.pem"
  rm -f "$1.csr" "$1.ext"
}
sign server "DNS:localhost,IP:127.0.0.1,IP:::1" 2
sign expired "DNS:localhost,IP:127.0.0.1" -1
sign wronghost "DNS:wrong.example" 2

key selfsigned.key
quiet openssl req -x509 -new -key selfsigned.key -out selfsigned.pem -days 2 -subj "/CN=localhost" \
  -addext "subjectAltName=DNS:localhost,IP:127.0.0.1"
mkdir -p cadir
cp ca.pem cadir/
quiet openssl rehash cadir
rm -f openssl.err ca.srl
