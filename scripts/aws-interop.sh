#!/usr/bin/env bash
# Drives `scopegate issuer` with the real AWS clients: the AWS CLI (the
# README's commands) and boto3. Installs them (and pycognito, for
# tests/interop/srp_check.py) in target/interop-venv if they are missing.
# Run by scripts/test.sh.
set -euo pipefail
cd "$(dirname "$0")/.."

venv=target/interop-venv
bin=${CARGO_TARGET_DIR:-target}/debug/scopegate
if [ ! -x "$venv/bin/aws" ] || ! "$venv/bin/python" -c 'import boto3, pycognito, authlib, joserfc, requests' 2>/dev/null; then
  echo "installing boto3, awscli, pycognito, authlib, joserfc and requests into $venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check boto3 awscli pycognito authlib joserfc requests
fi
export PATH="$PWD/$venv/bin:$PATH"

cargo build --locked --quiet --features cli --bin scopegate
log=$(mktemp)
"$bin" issuer --listen 127.0.0.1:0 >"$log" 2>&1 &
issuer=$!
trap 'kill $issuer 2>/dev/null || true; rm -f "$log" "${config:-}"' EXIT
for _ in $(seq 50); do
  endpoint=$(sed -n 's/^  management API *\(http:[^ ]*\).*/\1/p' "$log")
  [ -n "$endpoint" ] && break
  sleep 0.1
done
[ -n "$endpoint" ] || { cat "$log"; echo "the issuer did not start"; exit 1; }

python3 tests/interop/boto3_cognito.py "$endpoint"

# The hosted sign-in with an ordinary OIDC client library (authlib), every
# endpoint discovered from the issuer URL.
read -r OIDC_POOL OIDC_CLIENT OIDC_USER OIDC_PASSWORD <<<"$(python3 tests/interop/oidc_setup.py "$endpoint")"
python3 tests/interop/oidc_code_flow.py "$endpoint/$OIDC_POOL" "$OIDC_CLIENT" "$OIDC_USER" "$OIDC_PASSWORD"

# The README's AWS CLI commands. (AWS CLI v1 would fetch URL-looking
# parameters such as the identifier; v2 does not. This turns that off.)
config=$(mktemp)
printf '[default]\ncli_follow_urlparam = false\nregion = us-east-1\n' >"$config"
export AWS_CONFIG_FILE=$config AWS_ACCESS_KEY_ID=local AWS_SECRET_ACCESS_KEY=local
E="--endpoint-url $endpoint"
POOL=$(aws cognito-idp create-user-pool --pool-name Photos $E --query UserPool.Id --output text)
aws cognito-idp create-resource-server $E --user-pool-id "$POOL" \
  --identifier https://photos.example.com --name "Photo API" \
  --scopes ScopeName=photos.read,ScopeDescription="Read your photos" \
           ScopeName=photos.write,ScopeDescription="Add and delete your photos" >/dev/null
aws cognito-idp describe-resource-server $E --user-pool-id "$POOL" --identifier https://photos.example.com >/dev/null
aws cognito-idp list-resource-servers $E --user-pool-id "$POOL" --max-results 10 >/dev/null
aws cognito-idp update-resource-server $E --user-pool-id "$POOL" \
  --identifier https://photos.example.com --name "Photo API" \
  --scopes ScopeName=photos.read,ScopeDescription="Read your photos" >/dev/null
CLIENT=$(aws cognito-idp create-user-pool-client $E --user-pool-id "$POOL" --client-name viewer \
  --generate-secret --allowed-o-auth-flows client_credentials --allowed-o-auth-flows-user-pool-client \
  --allowed-o-auth-scopes https://photos.example.com/photos.read \
  --query 'UserPoolClient.[ClientId,ClientSecret]' --output text)
read -r ID SECRET <<<"$CLIENT"
curl -sf -u "$ID:$SECRET" -d grant_type=client_credentials "$endpoint/oauth2/token" | grep -q '"access_token"'
aws cognito-idp delete-resource-server $E --user-pool-id "$POOL" --identifier https://photos.example.com
if aws cognito-idp describe-resource-server $E --user-pool-id "$POOL" --identifier https://photos.example.com 2>/dev/null; then
  echo "a deleted resource server was still described"; exit 1
fi
# Users and sign-in with the CLI.
UPOOL=$(aws cognito-idp create-user-pool --pool-name CliUsers $E --query UserPool.Id --output text)
UCLIENT=$(aws cognito-idp create-user-pool-client $E --user-pool-id "$UPOOL" --client-name cli \
  --explicit-auth-flows ALLOW_ADMIN_USER_PASSWORD_AUTH ALLOW_REFRESH_TOKEN_AUTH --query UserPoolClient.ClientId --output text)
aws cognito-idp admin-create-user $E --user-pool-id "$UPOOL" --username carol \
  --user-attributes Name=email,Value=carol@example.com --message-action SUPPRESS >/dev/null
aws cognito-idp admin-set-user-password $E --user-pool-id "$UPOOL" --username carol --password 'Carols-passw0rd!' --permanent
aws cognito-idp admin-initiate-auth $E --user-pool-id "$UPOOL" --client-id "$UCLIENT" --auth-flow ADMIN_USER_PASSWORD_AUTH \
  --auth-parameters 'USERNAME=carol,PASSWORD=Carols-passw0rd!' --query AuthenticationResult.AccessToken --output text | grep -q '^eyJ'
[ "$(aws cognito-idp list-users $E --user-pool-id "$UPOOL" --filter 'email = "carol@example.com"' --query 'Users[0].Username' --output text)" = carol ] \
  || { echo "list-users --filter did not find carol"; exit 1; }
echo "aws cli interop: ok"

# "Run as a sidecar" from the README: the proxy in front of a plain HTTP
# server, against this issuer, with the example config.
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
UPSTREAM_PORT=$(free_port); PROXY_PORT=$(free_port); ADMIN_PORT=$(free_port)
site=$(mktemp -d)
echo '[{"id":1}]' >"$site/photos"
python3 -m http.server "$UPSTREAM_PORT" --bind 127.0.0.1 --directory "$site" >/dev/null 2>&1 &
upstream_pid=$!
POOL2=$(aws cognito-idp create-user-pool --pool-name Sidecar $E --query UserPool.Id --output text)
aws cognito-idp create-resource-server $E --user-pool-id "$POOL2" \
  --identifier https://photos.example.com --name "Photo API" \
  --scopes ScopeName=photos.read,ScopeDescription="Read your photos" \
           ScopeName=photos.write,ScopeDescription="Add and delete your photos" >/dev/null
read -r VID VSECRET <<<"$(aws cognito-idp create-user-pool-client $E --user-pool-id "$POOL2" --client-name viewer \
  --generate-secret --allowed-o-auth-flows client_credentials --allowed-o-auth-flows-user-pool-client \
  --allowed-o-auth-scopes https://photos.example.com/photos.read \
  --query 'UserPoolClient.[ClientId,ClientSecret]' --output text)"
host=${endpoint#http://}
sed -e "s/POOL_ID/$POOL2/g" -e "s/CLIENT_ID/$VID/" -e "s/127.0.0.1:9229/$host/g" \
    -e "s/127.0.0.1:8080/127.0.0.1:$PROXY_PORT/" -e "s/127.0.0.1:9000/127.0.0.1:$UPSTREAM_PORT/" \
    -e "s/127.0.0.1:9901/127.0.0.1:$ADMIN_PORT/" examples/sidecar.toml >"$site/sidecar.toml"
"$bin" proxy --config "$site/sidecar.toml" 2>"$site/proxy.log" &
proxy_pid=$!
trap 'kill $issuer $upstream_pid $proxy_pid 2>/dev/null || true; rm -rf "$log" "${config:-}" "$site"' EXIT
for _ in $(seq 50); do
  curl -sf "http://127.0.0.1:$ADMIN_PORT/readyz" >/dev/null && break
  sleep 0.1
done
TOKEN=$(curl -s -u "$VID:$VSECRET" -d grant_type=client_credentials "$endpoint/oauth2/token" \
  | python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])')
status() { curl -s -o /dev/null -w '%{http_code}' "$@"; }
[ "$(status "http://127.0.0.1:$PROXY_PORT/photos")" = 401 ] || { cat "$site/proxy.log"; echo "no token: not 401"; exit 1; }
[ "$(status -H "Authorization: Bearer $TOKEN" "http://127.0.0.1:$PROXY_PORT/photos")" = 200 ] || { cat "$site/proxy.log"; echo "viewer GET: not 200"; exit 1; }
[ "$(status -X POST -H "Authorization: Bearer $TOKEN" "http://127.0.0.1:$PROXY_PORT/photos")" = 403 ] || { echo "viewer POST: not 403"; exit 1; }
[ "$(status "http://127.0.0.1:$PROXY_PORT/elsewhere")" = 404 ] || { echo "no route: not 404"; exit 1; }
curl -sf "http://127.0.0.1:$ADMIN_PORT/metrics" | grep -q 'scopegate_requests_total{outcome="forwarded"} 1'
echo "sidecar: ok"

# DPoP (RFC 9449) through the same sidecar config with a [dpop] table, proofs
# made by joserfc.
DPOP_PORT=$(free_port); DPOP_ADMIN=$(free_port)
sed -e "s/127.0.0.1:$PROXY_PORT/127.0.0.1:$DPOP_PORT/" -e "s/127.0.0.1:$ADMIN_PORT/127.0.0.1:$DPOP_ADMIN/" \
    "$site/sidecar.toml" >"$site/dpop.toml"
printf '\n[dpop]\norigin = "http://127.0.0.1:%s"\n' "$DPOP_PORT" >>"$site/dpop.toml"
"$bin" proxy --config "$site/dpop.toml" 2>"$site/dpop.log" &
dpop_pid=$!
trap 'kill $issuer $upstream_pid $proxy_pid $dpop_pid 2>/dev/null || true; rm -rf "$log" "${config:-}" "$site"' EXIT
for _ in $(seq 50); do
  curl -sf "http://127.0.0.1:$DPOP_ADMIN/readyz" >/dev/null && break
  sleep 0.1
done
python3 tests/interop/dpop_client.py "$endpoint" "http://127.0.0.1:$DPOP_PORT" "http://127.0.0.1:$DPOP_ADMIN" "$VID" "$VSECRET" \
  || { cat "$site/dpop.log"; exit 1; }
