#!/usr/bin/env bash
# Makes the TLS material of a raftmq cluster with the JDK's keytool: a certificate authority (CA),
# a truststore holding it, a keystore per node and per client. Every node's Raft port uses mutual
# TLS with these (README: "TLS material"); deploy/cluster.sh and docker-compose.yml call this script.
#
#   deploy/certs.sh DIR [--nodes 1,2,3] [--clients admin,alice] [--days N]
#
# In DIR (created with mode 700):
#   store-password        one random password (mode 600) for every store below, and for each key
#   ca.p12, ca.crt        the CA's key and certificate (PKCS12), and the certificate as PEM; the key
#                         stays here to issue more certificates later
#   truststore.p12        the CA certificate, for ssl.truststore.location
#   node-N.p12            node N's key and chain (CA-signed certificate, then the CA), for
#                         ssl.keystore.location: subject CN=node-N, SAN DNS:localhost,
#                         IP:127.0.0.1, DNS:nodeN
#   client-NAME.p12       client NAME's key and chain, subject CN=NAME (kafka-clients' ssl.keystore.*)
#   client-NAME.key/.crt  the same key (unencrypted PKCS#8 PEM, mode 600) and certificate as PEM, with
#                         ca.crt for kcat / librdkafka (ssl.key.location, ssl.certificate.location,
#                         ssl.ca.location)
#
# --nodes    node ids, comma-separated (default 1,2,3); --clients  client names, comma-separated
# (letters, digits, '.', '_', '-'; default none); --days  validity of the certificates this run
# issues (default 825; the CA, when made, gets at least 3650).
#
# Run it again at will: an existing CA and password are reused, existing node and client stores are
# kept, missing ones are added (delete a store to issue it anew). Needs bash and keytool (any Java 17
# runtime has it). keytool cannot write a private key as PEM: client-NAME.key is written with
# openssl when it is installed, else with the JDK's source launcher (a full JDK); with neither, the
# PKCS12 client store is made and the PEM key is skipped with a warning.
set -euo pipefail

usage() {
  awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0" >&2
  exit 2
}

die() {
  echo "certs.sh: $*" >&2
  exit 1
}

DIR=""
NODES_ARG="1,2,3"
CLIENTS_ARG=""
DAYS=825
while (($#)); do
  case "$1" in
    --nodes) NODES_ARG="${2:?--nodes needs a value, e.g. --nodes 1,2,3}"; shift 2 ;;
    --nodes=*) NODES_ARG="${1#*=}"; shift ;;
    --clients) CLIENTS_ARG="${2?--clients needs a value, e.g. --clients admin,alice}"; shift 2 ;;
    --clients=*) CLIENTS_ARG="${1#*=}"; shift ;;
    --days) DAYS="${2:?--days needs a value, e.g. --days 825}"; shift 2 ;;
    --days=*) DAYS="${1#*=}"; shift ;;
    -h|--help) usage ;;
    -*) echo "certs.sh: unknown option '$1'" >&2; usage ;;
    *)
      [[ -z "$DIR" ]] || die "one directory only (got '$DIR' and '$1')"
      DIR="$1"; shift ;;
  esac
done
[[ -n "$DIR" ]] || usage

[[ "$DAYS" =~ ^[1-9][0-9]{0,4}$ ]] || die "--days must be a whole number of days from 1 to 99999, got '$DAYS'"
IFS=',' read -r -a NODES <<< "$NODES_ARG"
((${#NODES[@]})) || die "--nodes names no node"
for n in "${NODES[@]}"; do
  # node.id is 0..2147483647 (NodeConfig); a leading zero would give node-01, a name no node has.
  [[ "$n" =~ ^(0|[1-9][0-9]{0,9})$ ]] && ((n <= 2147483647)) \
    || die "bad node id '$n' in --nodes '$NODES_ARG': node ids are whole numbers 0..2147483647 without leading zeros"
done
CLIENTS=()
if [[ -n "$CLIENTS_ARG" ]]; then
  IFS=',' read -r -a CLIENTS <<< "$CLIENTS_ARG"
fi
for c in "${CLIENTS[@]}"; do
  [[ "$c" =~ ^[A-Za-z0-9._-]{1,64}$ ]] \
    || die "bad client name '$c' in --clients '$CLIENTS_ARG': use 1-64 letters, digits, '.', '_' or '-'"
done

command -v keytool >/dev/null \
  || die "keytool not found on PATH: it comes with every Java runtime (install Java 17, or add \$JAVA_HOME/bin to PATH)"

umask 077
mkdir -p "$DIR"
chmod 700 "$DIR"
DIR="$(cd "$DIR" && pwd)"

PASSWORD_FILE="$DIR/store-password"
if [[ -f "$PASSWORD_FILE" ]]; then
  CERTS_STORE_PASSWORD="$(cat "$PASSWORD_FILE")"
  [[ -n "$CERTS_STORE_PASSWORD" ]] || die "$PASSWORD_FILE is empty; delete $DIR to start over"
elif [[ -f "$DIR/ca.p12" ]]; then
  die "$DIR/ca.p12 exists but $PASSWORD_FILE, its password, does not; restore it or delete $DIR to start over"
else
  # 24 random bytes, base64url: 32 characters that need no quoting in a properties file or a shell.
  CERTS_STORE_PASSWORD="$(head -c 24 /dev/urandom | base64 | tr '+/' '-_')"
  printf '%s\n' "$CERTS_STORE_PASSWORD" > "$PASSWORD_FILE"
  chmod 600 "$PASSWORD_FILE"
fi
# keytool and openssl read the password from the environment, so it is never on a command line (ps).
export CERTS_STORE_PASSWORD

# Each keytool run is a short JVM: the serial collector and C1 alone start it with less CPU.
kt() {
  local out
  if ! out="$(keytool -J-XX:+UseSerialGC -J-XX:TieredStopAtLevel=1 "$@" 2>&1)"; then
    die "keytool $1 failed: $out"
  fi
}

# Drops the temporary files of one issue, also when it fails half-way.
TMP_FILES=()
cleanup() { ((${#TMP_FILES[@]})) && rm -f "${TMP_FILES[@]}"; return 0; }
trap cleanup EXIT

CA_DAYS=$((DAYS > 3650 ? DAYS : 3650))
if [[ ! -f "$DIR/ca.p12" ]]; then
  kt -genkeypair -keystore "$DIR/ca.p12" -storetype PKCS12 -storepass:env CERTS_STORE_PASSWORD \
    -alias ca -dname "CN=raftmq-ca" -keyalg RSA -keysize 3072 -validity "$CA_DAYS" \
    -ext bc:c=ca:true,pathlen:0 -ext ku:c=keyCertSign,cRLSign
  rm -f "$DIR/ca.crt" "$DIR/truststore.p12"
  echo "certs.sh: made the CA $DIR/ca.p12 (CN=raftmq-ca, valid $CA_DAYS days)"
fi
if [[ ! -f "$DIR/ca.crt" ]]; then
  kt -exportcert -rfc -keystore "$DIR/ca.p12" -storepass:env CERTS_STORE_PASSWORD -alias ca -file "$DIR/ca.crt"
  chmod 644 "$DIR/ca.crt"
fi
if [[ ! -f "$DIR/truststore.p12" ]]; then
  kt -importcert -noprompt -keystore "$DIR/truststore.p12" -storetype PKCS12 -storepass:env CERTS_STORE_PASSWORD \
    -alias ca -file "$DIR/ca.crt"
fi

# issue STORE CN EXTENSIONS...: a key pair in STORE (alias = CN) with a certificate signed by the CA,
# and the chain (certificate, CA) in the key entry. Built in a temporary file, moved in place at the
# end: an interrupted run leaves no half-made store behind for the next run to keep.
issue() {
  local store="$1" cn="$2"; shift 2
  local tmp="$store.tmp" csr="$store.csr" crt="$store.crt.tmp"
  TMP_FILES+=("$tmp" "$csr" "$crt")
  rm -f "$tmp" "$csr" "$crt"
  kt -genkeypair -keystore "$tmp" -storetype PKCS12 -storepass:env CERTS_STORE_PASSWORD -alias "$cn" \
    -dname "CN=$cn" -keyalg RSA -keysize 2048 -validity "$DAYS"
  kt -certreq -keystore "$tmp" -storepass:env CERTS_STORE_PASSWORD -alias "$cn" -file "$csr"
  kt -gencert -keystore "$DIR/ca.p12" -storepass:env CERTS_STORE_PASSWORD -alias ca -infile "$csr" -outfile "$crt" \
    -rfc -validity "$DAYS" "$@"
  # The reply's chain is completed from the CA entry imported first; the CA entry is then removed
  # so the store holds one entry, the key with its chain.
  kt -importcert -noprompt -keystore "$tmp" -storepass:env CERTS_STORE_PASSWORD -alias ca -file "$DIR/ca.crt"
  kt -importcert -noprompt -keystore "$tmp" -storepass:env CERTS_STORE_PASSWORD -alias "$cn" -file "$crt"
  kt -delete -keystore "$tmp" -storepass:env CERTS_STORE_PASSWORD -alias ca
  rm -f "$csr" "$crt"
  chmod 600 "$tmp"
  mv "$tmp" "$store"
}

for n in "${NODES[@]}"; do
  store="$DIR/node-$n.p12"
  [[ -f "$store" ]] && continue
  issue "$store" "node-$n" -ext "san=dns:localhost,ip:127.0.0.1,dns:node$n" \
    -ext ku:c=digitalSignature,keyEncipherment -ext eku=serverAuth,clientAuth
  echo "certs.sh: issued $store (CN=node-$n, valid $DAYS days)"
done

# The key of client-NAME.p12 as unencrypted PKCS#8 PEM, for librdkafka's ssl.key.location.
export_key_pem() {
  local store="$1" alias="$2" out="$3"
  if command -v openssl >/dev/null; then
    # OpenSSL 3 reads the JDK's current PKCS12 algorithms; -legacy for stores an older JDK wrote.
    openssl pkcs12 -in "$store" -passin env:CERTS_STORE_PASSWORD -nocerts -nodes 2>/dev/null \
        | openssl pkey -out "$out" 2>/dev/null \
      || openssl pkcs12 -legacy -in "$store" -passin env:CERTS_STORE_PASSWORD -nocerts -nodes 2>/dev/null \
        | openssl pkey -out "$out" 2>/dev/null \
      || die "openssl could not read the key of $store"
  elif java --list-modules 2>/dev/null | grep -q '^jdk.compiler@'; then
    local src="$out.java"
    TMP_FILES+=("$src")
    cat > "$src" <<'JAVA'
import java.io.FileInputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.util.Base64;

class KeyToPem {
    public static void main(String[] args) throws Exception {
        char[] password = System.getenv("CERTS_STORE_PASSWORD").toCharArray();
        KeyStore store = KeyStore.getInstance("PKCS12");
        try (FileInputStream in = new FileInputStream(args[0])) {
            store.load(in, password);
        }
        byte[] pkcs8 = store.getKey(args[1], password).getEncoded();
        String body = Base64.getMimeEncoder(64, "\n".getBytes()).encodeToString(pkcs8);
        Files.writeString(Path.of(args[2]), "-----BEGIN PRIVATE KEY-----\n" + body + "\n-----END PRIVATE KEY-----\n");
    }
}
JAVA
    java "$src" "$store" "$alias" "$out" || die "could not write the key of $store as PEM"
    rm -f "$src"
  else
    echo "certs.sh: warning: neither openssl nor a JDK compiler found: $out (the PEM key kcat needs) not written;" \
      "make it elsewhere with: openssl pkcs12 -in $store -nocerts -nodes | openssl pkey -out $out" >&2
    return 0
  fi
  chmod 600 "$out"
}

for c in "${CLIENTS[@]}"; do
  store="$DIR/client-$c.p12"
  if [[ ! -f "$store" ]]; then
    issue "$store" "$c" -ext ku:c=digitalSignature,keyEncipherment -ext eku=clientAuth
    rm -f "$DIR/client-$c.key" "$DIR/client-$c.crt"
    echo "certs.sh: issued $store (CN=$c, valid $DAYS days)"
  fi
  if [[ ! -f "$DIR/client-$c.crt" ]]; then
    kt -exportcert -rfc -keystore "$store" -storepass:env CERTS_STORE_PASSWORD -alias "$c" -file "$DIR/client-$c.crt"
    chmod 644 "$DIR/client-$c.crt"
  fi
  [[ -f "$DIR/client-$c.key" ]] || export_key_pem "$store" "$c" "$DIR/client-$c.key"
done
