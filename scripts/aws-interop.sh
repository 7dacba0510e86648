#!/usr/bin/env bash
# Drives `scopegate issuer` with the real AWS clients: the AWS CLI (the
# README's commands) and boto3. Installs them in target/interop-venv if
# they are missing. Run by scripts/test.sh.
set -euo pipefail
cd "$(dirname "$0")/.."

venv=target/interop-venv
if [ ! -x "$venv/bin/aws" ] || ! "$venv/bin/python" -c 'import boto3' 2>/dev/null; then
  echo "installing boto3 and awscli into $venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check boto3 awscli
fi
export PATH="$PWD/$venv/bin:$PATH"

cargo build --locked --quiet --features cli --bin scopegate
log=$(mktemp)
target/debug/scopegate issuer --listen 127.0.0.1:0 >"$log" 2>&1 &
issuer=$!
trap 'kill $issuer 2>/dev/null || true; rm -f "$log" "${config:-}"' EXIT
for _ in $(seq 50); do
  endpoint=$(sed -n 's/^  management API *\(http:[^ ]*\).*/\1/p' "$log")
  [ -n "$endpoint" ] && break
  sleep 0.1
done
[ -n "$endpoint" ] || { cat "$log"; echo "the issuer did not start"; exit 1; }

python3 tests/interop/boto3_cognito.py "$endpoint"

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
echo "aws cli interop: ok"
