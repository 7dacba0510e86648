#!/usr/bin/env bash
# The end-to-end load benchmark: one machine, one run, interleaved rounds.
#
#   bench/run.sh            # everything (about 15 minutes on 2 cores)
#   ROUNDS=1 DURATION=5 MEMORY_SECONDS=20 bench/run.sh   # a quick look
#   PEERS=0 ONLY='bare|proxy|nginx' bench/run.sh         # the proxy rows only
#
# Configurations, each against `GET /hello` answering "hello":
#   bare                         axum, no auth (the ceiling)
#   scopegate hit                behind scopegate, one token repeated
#   scopegate miss               behind scopegate, distinct tokens, cache off
#   scopegate proxy hit          `scopegate proxy` in front of the bare route
#   scopegate DPoP (... store)   DPoP-bound token, a fresh ES256 proof per
#                                request, proof ids in process or in Redis
#   <peer> one token / distinct  the peers, same tokens and key set
# Results: bench/.work/results.csv, bench/results.svg, and the table printed
# at the end (copied into BENCHMARKS.md).
set -euo pipefail
cd "$(dirname "$0")/.."

ROUNDS=${ROUNDS:-3}
DURATION=${DURATION:-8}
CONNECTIONS=${CONNECTIONS:-32}
THREADS=${THREADS:-2}
TOKENS=${TOKENS:-100000}
MEMORY_SECONDS=${MEMORY_SECONDS:-60}
RELOADS=${RELOADS:-10}
RELOAD_SECONDS=${RELOAD_SECONDS:-12}
PEERS=${PEERS:-1}           # 0: leave the peers out
EXTRA=${EXTRA:-1}           # 0: leave out the HTTP/2 and WebSocket rows
DPOP=${DPOP:-1}             # 0: leave out the DPoP rows (and redis-server)
DPOP_PROOFS=${DPOP_PROOFS:-150000}  # proofs per DPoP server and round (each is used once)
ONLY=${ONLY:-}              # a regular expression: measure only the matching configurations
PROXY_BASELINE=${PROXY_BASELINE:-}  # another scopegate binary: its proxy measured beside this one
WORK=bench/.work
mkdir -p "$WORK"

# wrk drives the load; nginx (a reverse proxy without auth) is the
# reference for what any proxy costs on this machine.
missing=()
command -v wrk >/dev/null || missing+=(wrk)
command -v h2load >/dev/null || missing+=(nghttp2-client)
command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] || missing+=(nginx-light)
[ "$DPOP" = 0 ] || command -v redis-server >/dev/null || missing+=(redis-server)
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing ${missing[*]}"
  sudo=; [ "$(id -u)" = 0 ] || sudo=sudo
  $sudo apt-get update -qq && $sudo apt-get install -y -qq "${missing[@]}"
fi
NGINX=$(command -v nginx || echo /usr/sbin/nginx)

echo "== building (release)"
cargo build --release --locked --quiet --features cli --bin scopegate
export CARGO_TARGET_DIR=$PWD/bench/target
cargo build --release --quiet --manifest-path bench/servers/scopegate/Cargo.toml
BENCH=bench/target/release/scopegate-bench
peers=()
# Each crate under bench/peers is built once, or once per line of its
# `variants` file (`label|cargo arguments`).
build_peer() { # label dir binary cargo-args...
  local label=$1 dir=$2 bin=$3; shift 3
  local slug; slug=$(tr -c 'a-zA-Z0-9\n' '-' <<<"$label")
  if cargo build --release --quiet --manifest-path "$dir/Cargo.toml" "$@" 2>"$WORK/build-$slug.log"; then
    cp "bench/target/release/$bin" "bench/target/peer-$slug"
    peers+=("$label")
    bins[$label]="bench/target/peer-$slug"
  else
    echo "   $label did not build (see $WORK/build-$slug.log); left out"
  fi
}
declare -A bins
for dir in bench/peers/*/; do
  [ "$PEERS" = 1 ] || break
  dir=${dir%/}
  bin=$(sed -n 's/^name = "\(.*\)"/\1/p' "$dir/Cargo.toml" | head -1)
  if [ -f "$dir/variants" ]; then
    while IFS='|' read -r label args; do
      # shellcheck disable=SC2086
      build_peer "$label" "$dir" "$bin" $args
    done <"$dir/variants"
  else
    build_peer "$(basename "$dir")" "$dir" "$bin"
  fi
done

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; }
trap cleanup EXIT
wait_for() { for _ in $(seq 100); do curl -s -o /dev/null "$1" && return 0; sleep 0.1; done; echo "no answer from $1"; exit 1; }

echo "== issuer, pool, client, tokens"
ISSUER_PORT=$(free_port)
rm -f "$WORK/issuer.json"
target/release/scopegate issuer --listen "127.0.0.1:$ISSUER_PORT" --state "$WORK/issuer.json" >"$WORK/issuer.log" 2>&1 &
pids+=($!)
BASE="http://127.0.0.1:$ISSUER_PORT"
wait_for "$BASE/"
cognito() { curl -sf "$BASE/" -H "x-amz-target: AWSCognitoIdentityProviderService.$1" -H 'content-type: application/x-amz-json-1.1' -d "$2"; }
json() { python3 -c "import json,sys; print(json.load(sys.stdin)$1)"; }
POOL=$(cognito CreateUserPool '{"PoolName":"Bench"}' | json '["UserPool"]["Id"]')
cognito CreateResourceServer "{\"UserPoolId\":\"$POOL\",\"Identifier\":\"https://photos.example.com\",\"Name\":\"Photo API\",\"Scopes\":[{\"ScopeName\":\"photos.read\",\"ScopeDescription\":\"Read\"}]}" >/dev/null
CLIENT=$(cognito CreateUserPoolClient "{\"UserPoolId\":\"$POOL\",\"ClientName\":\"bench\",\"GenerateSecret\":true,\"AllowedOAuthFlows\":[\"client_credentials\"],\"AllowedOAuthScopes\":[\"https://photos.example.com/photos.read\"],\"AllowedOAuthFlowsUserPoolClient\":true}" | json '["UserPoolClient"]["ClientId"]')
ISSUER="$BASE/$POOL"
# Cognito access tokens have no `aud`; one peer (oauth-resource-server)
# requires one, so every token carries this (scopegate checks client_id).
AUDIENCE=https://photos.example.com
JWKS="$ISSUER/.well-known/jwks.json"
start=$(date +%s)
$BENCH mint --state "$WORK/issuer.json" --pool "$POOL" --issuer "$ISSUER" --client "$CLIENT" \
  --scope https://photos.example.com/photos.read --audience "$AUDIENCE" --count "$TOKENS" --out "$WORK/tokens.txt"
TOKEN=$(head -1 "$WORK/tokens.txt")
echo "   $TOKENS tokens minted in $(( $(date +%s) - start )) s"

cat >"$WORK/distinct.lua" <<'LUA'
local tokens = {}
local i = 0
init = function(args)
  for line in io.lines(args[1]) do tokens[#tokens + 1] = line end
  i = math.random(#tokens)
end
request = function()
  i = i % #tokens + 1
  return wrk.format("GET", "/hello", { ["Authorization"] = "Bearer " .. tokens[i] })
end
LUA

echo "== servers"
declare -A url
serve() { # name command...
  local name=$1; shift
  local port; port=$(free_port)
  PORT=$port ISSUER=$ISSUER JWKS_URL=$JWKS "$@" --port "$port" >"$WORK/server-$name.log" 2>&1 &
  pids+=($!)
  url[$name]="http://127.0.0.1:$port/hello"
}
serve bare $BENCH serve --mode bare
serve grpc $BENCH serve --mode grpc
serve gate $BENCH serve --mode gate --issuer "$ISSUER" --jwks "$JWKS" --client "$CLIENT"
serve gate-nocache $BENCH serve --mode gate-nocache --issuer "$ISSUER" --jwks "$JWKS" --client "$CLIENT"
dpop_servers=()
if [ "$DPOP" = 1 ]; then
  REDIS_PORT=$(free_port)
  redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save "" --appendonly no >"$WORK/redis.log" 2>&1 &
  pids+=($!)
  for _ in $(seq 50); do redis-cli -p "$REDIS_PORT" ping >/dev/null 2>&1 && break; sleep 0.1; done
  serve gate-dpop $BENCH serve --mode gate-dpop --issuer "$ISSUER" --jwks "$JWKS" --client "$CLIENT"
  serve gate-dpop-redis $BENCH serve --mode gate-dpop-redis --issuer "$ISSUER" --jwks "$JWKS" --client "$CLIENT" \
    --redis "redis://127.0.0.1:$REDIS_PORT"
  dpop_servers=(gate-dpop gate-dpop-redis)
  start=$(date +%s)
  for server in "${dpop_servers[@]}"; do
    for round in $(seq "$ROUNDS"); do
      $BENCH dpop-mint --state "$WORK/issuer.json" --pool "$POOL" --issuer "$ISSUER" --client "$CLIENT" \
        --scope https://photos.example.com/photos.read --htu "${url[$server]}" --count "$DPOP_PROOFS" \
        --out-token "$WORK/dpop-token-$server-$round.txt" --out-proofs "$WORK/dpop-proofs-$server-$round.txt"
    done
  done
  echo "   DPoP proofs made in $(( $(date +%s) - start )) s"
fi
cat >"$WORK/dpop.lua" <<'LUA'
-- Each wrk thread takes every n-th proof of the file, and uses each once.
local proofs = {}
local token
local i = 0
local threads_seen = 0
function setup(thread)
  thread:set("id", threads_seen)
  threads_seen = threads_seen + 1
end
function init(args)
  local file = io.open(args[1])
  token = file:read("*l")
  file:close()
  local threads, k = tonumber(args[3]), 0
  for line in io.lines(args[2]) do
    if k % threads == id then proofs[#proofs + 1] = line end
    k = k + 1
  end
end
function request()
  i = i % #proofs + 1
  return wrk.format("GET", "/hello", { ["Authorization"] = "DPoP " .. token, ["DPoP"] = proofs[i] })
end
LUA
for peer in "${peers[@]}"; do
  port=$(free_port)
  PORT=$port ISSUER=$ISSUER JWKS_URL=$JWKS AUDIENCE=$AUDIENCE "${bins[$peer]}" >"$WORK/server-${port}.log" 2>&1 &
  pids+=($!)
  url[$peer]="http://127.0.0.1:$port/hello"
done
PROXY_PORT=$(free_port)
cat >"$WORK/proxy.toml" <<TOML
listen = "127.0.0.1:$PROXY_PORT"
upstream = "${url[bare]%/hello}"
log_format = "json"
[issuer]
url = "$ISSUER"
jwks_url = "$JWKS"
token_use = "access"
client_ids = ["$CLIENT"]
[[routes]]
methods = ["GET"]
path = "/hello"
require = ["https://photos.example.com/photos.read"]
[[routes]]
methods = ["GET"]
path = "/ws"
require = ["https://photos.example.com/photos.read"]
TOML
RUST_LOG=warn,scopegate::proxy::live=info target/release/scopegate proxy --config "$WORK/proxy.toml" >"$WORK/server-proxy.log" 2>&1 &
PROXY_PID=$!
pids+=($PROXY_PID)
url[proxy]="http://127.0.0.1:$PROXY_PORT/hello"
if [ -n "$PROXY_BASELINE" ]; then
  BASELINE_PORT=$(free_port)
  sed "s/127.0.0.1:$PROXY_PORT/127.0.0.1:$BASELINE_PORT/" "$WORK/proxy.toml" >"$WORK/proxy-baseline.toml"
  RUST_LOG=warn "$PROXY_BASELINE" proxy --config "$WORK/proxy-baseline.toml" >"$WORK/server-proxy-baseline.log" 2>&1 &
  pids+=($!)
  url[proxy-baseline]="http://127.0.0.1:$BASELINE_PORT/hello"
fi
# gRPC: the same proxy rules in front of an h2c gRPC echo.
GRPC_PROXY_PORT=$(free_port)
grpc_addr=${url[grpc]#http://}
grpc_addr=${grpc_addr%/hello}
sed -e "s/127.0.0.1:$PROXY_PORT/127.0.0.1:$GRPC_PROXY_PORT/" -e "s|^upstream = .*|upstream = \"http://$grpc_addr\"\nupstream_protocol = \"h2c\"|" \
  "$WORK/proxy.toml" >"$WORK/proxy-grpc.toml"
printf '[[routes]]\nmethods = ["POST"]\npath = "/bench.Bench/Echo"\nrequire = ["https://photos.example.com/photos.read"]\n' >>"$WORK/proxy-grpc.toml"
RUST_LOG=warn target/release/scopegate proxy --config "$WORK/proxy-grpc.toml" >"$WORK/server-proxy-grpc.log" 2>&1 &
pids+=($!)
NGINX_PORT=$(free_port)
NGINX_H2_PORT=$(free_port)
NGINX_GRPC_PORT=$(free_port)
bare_addr=${url[bare]#http://}
bare_addr=${bare_addr%/hello}
mkdir -p "$WORK/nginx"
cat >"$WORK/nginx/nginx.conf" <<NGINX
worker_processes 2;
daemon off;
pid $PWD/$WORK/nginx/nginx.pid;
error_log $PWD/$WORK/nginx/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  # nginx closes an HTTP/2 connection after 1,000 requests by default,
  # failing the streams in flight; the proxy does not.
  keepalive_requests 100000000;
  client_body_temp_path $PWD/$WORK/nginx;
  proxy_temp_path $PWD/$WORK/nginx;
  upstream app { server $bare_addr; keepalive 64; }
  server {
    listen 127.0.0.1:$NGINX_PORT;
    location / { proxy_pass http://app; proxy_http_version 1.1; proxy_set_header Connection ""; }
    location /ws {
      proxy_pass http://app; proxy_http_version 1.1;
      proxy_set_header Upgrade \$http_upgrade; proxy_set_header Connection "upgrade";
    }
  }
  server {
    listen 127.0.0.1:$NGINX_GRPC_PORT http2;
    location / { grpc_pass grpc://$grpc_addr; }
  }
  server {
    listen 127.0.0.1:$NGINX_H2_PORT http2;
    location / { proxy_pass http://app; proxy_http_version 1.1; proxy_set_header Connection ""; }
  }
}
NGINX
"$NGINX" -c "$PWD/$WORK/nginx/nginx.conf" >"$WORK/server-nginx.log" 2>&1 &
pids+=($!)
url[nginx]="http://127.0.0.1:$NGINX_PORT/hello"
for name in "${!url[@]}"; do [ "$name" = grpc ] || wait_for "${url[$name]}"; done
# Every protected server must accept the token before it is measured.
for name in gate gate-nocache proxy "${peers[@]}"; do
  code=$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $TOKEN" "${url[$name]}")
  # Some peers load keys in the background: give them a few seconds.
  for _ in $(seq 50); do
    code=$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $TOKEN" "${url[$name]}")
    [ "$code" = 200 ] && break
    sleep 0.1
  done
  [ "$code" = 200 ] || { echo "   $name answered $code to a valid token"; exit 1; }
  code=$(curl -s -o /dev/null -w '%{http_code}' "${url[$name]}")
  [ "$code" = 401 ] || { echo "   $name answered $code without a token"; exit 1; }
done

# config label | server | workload (one|distinct|none)
# "bare + token" sends the same requests as the protected runs (a ~900-byte
# Authorization header included) to the bare route: the fair ceiling.
configs=("bare|bare|none" "bare + token|bare|one" "scopegate hit|gate|one"
         "scopegate miss (cache off)|gate-nocache|distinct" "scopegate proxy hit|proxy|one"
         "nginx proxy without auth (reference)|nginx|one")
[ -z "$PROXY_BASELINE" ] || configs+=("scopegate proxy hit (baseline build)|proxy-baseline|one")
[ "$DPOP" = 0 ] || configs+=("scopegate DPoP (in-process store)|gate-dpop|dpop" "scopegate DPoP (Redis store)|gate-dpop-redis|dpop")
for peer in "${peers[@]}"; do configs+=("$peer one token|$peer|one" "$peer distinct|$peer|distinct"); done

measure() { # label server workload round
  local label=$1 server=$2 workload=$3 round=$4 out
  case $workload in
    none) out=$(wrk -t"$THREADS" -c"$CONNECTIONS" -d"${DURATION}s" --latency "${url[$server]}") ;;
    one) out=$(wrk -t"$THREADS" -c"$CONNECTIONS" -d"${DURATION}s" --latency -H "Authorization: Bearer $TOKEN" "${url[$server]}") ;;
    distinct) out=$(wrk -t"$THREADS" -c"$CONNECTIONS" -d"${DURATION}s" --latency -s "$WORK/distinct.lua" "${url[$server]}" -- "$WORK/tokens.txt") ;;
    dpop) out=$(wrk -t"$THREADS" -c"$CONNECTIONS" -d"${DURATION}s" --latency -s "$WORK/dpop.lua" "${url[$server]}" -- \
      "$WORK/dpop-token-$server-$round.txt" "$WORK/dpop-proofs-$server-$round.txt" "$THREADS") ;;
  esac
  local rps p50 p99 non2xx
  rps=$(awk '/^Requests\/sec/ {print $2}' <<<"$out")
  p50=$(awk '$1=="50%" {print $2}' <<<"$out")
  p99=$(awk '$1=="99%" {print $2}' <<<"$out")
  non2xx=$(awk '/Non-2xx/ {print $5}' <<<"$out")
  if [ -n "$non2xx" ] && [ "$non2xx" != 0 ]; then
    echo "   $label: $non2xx non-2xx responses; not a valid measurement"; exit 1
  fi
  to_ms() { python3 -c "s='$1'; u={'us':0.001,'ms':1,'s':1000}; n=s.rstrip('usm'); print(float(n)*u[s[len(n):]])"; }
  echo "$label,$round,$rps,$(to_ms "$p50"),$(to_ms "$p99")" >>"$WORK/results.csv"
  printf '   round %s  %-40s %10s req/s  p50 %-8s p99 %s\n' "$round" "$label" "$rps" "$p50" "$p99"
}

echo "== load: $ROUNDS interleaved rounds of ${DURATION}s, $THREADS wrk threads, $CONNECTIONS connections"
echo "config,round,rps,p50_ms,p99_ms" >"$WORK/results.csv"
for round in $(seq "$ROUNDS"); do
  for config in "${configs[@]}"; do
    IFS='|' read -r label server workload <<<"$config"
    [ -z "$ONLY" ] || [[ $label =~ $ONLY ]] || [[ $label == bare* ]] || continue
    measure "$label" "$server" "$workload" "$round"
  done
done

# HTTP/2 (h2c, prior knowledge) with h2load, and WebSocket echo round trips,
# each beside nginx doing the same without auth, in interleaved rounds.
h2_url() { echo "http://127.0.0.1:$1/hello"; }
declare -A h2 ws
h2[bare]=$(h2_url "${bare_addr#*:}"); h2[proxy]=$(h2_url "$PROXY_PORT"); h2[nginx]=$(h2_url "$NGINX_H2_PORT")
ws[bare]="ws://$bare_addr/ws"; ws[proxy]="ws://127.0.0.1:$PROXY_PORT/ws"; ws[nginx]="ws://127.0.0.1:$NGINX_PORT/ws"
declare -A grpc
grpc[bare]="http://$grpc_addr/bench.Bench/Echo"; grpc[proxy]="http://127.0.0.1:$GRPC_PROXY_PORT/bench.Bench/Echo"
grpc[nginx]="http://127.0.0.1:$NGINX_GRPC_PORT/bench.Bench/Echo"
printf '\x00\x00\x00\x00\x05hello' >"$WORK/grpc-message.bin"   # one gRPC message frame
# h2load: requests/s, after checking that none failed and all were 2xx.
h2load_rate() { # label args...
  local label=$1; shift
  local out failed not2xx
  out=$(h2load -c"$CONNECTIONS" -m10 -t"$THREADS" -D"$DURATION" -H "authorization: Bearer $TOKEN" "$@")
  failed=$(awk '/^requests:/ {print $10}' <<<"$out")
  not2xx=$(awk '/^status codes:/ {print $5 + $7 + $9}' <<<"$out")
  [ "$failed" = 0 ] && [ "$not2xx" = 0 ] || { echo "   $label: $failed failed, $not2xx not 2xx; not a valid measurement" >&2; exit 1; }
  awk '/^finished in/ {print $4}' <<<"$out"
}
echo "kind,config,round,rate" >"$WORK/h2ws.csv"
if [ "$EXTRA" = 1 ]; then
  echo "== HTTP/2 and unary gRPC (h2load: $CONNECTIONS connections, 10 streams each), WebSocket echo ($CONNECTIONS connections)"
  for round in $(seq "$ROUNDS"); do
    for name in bare proxy nginx; do
      rps=$(h2load_rate "http2 $name" "${h2[$name]}")
      echo "http2,$name,$round,$rps" >>"$WORK/h2ws.csv"
      printf '   round %s  %-8s HTTP/2     %12s req/s\n' "$round" "$name" "$rps"
      rate=$($BENCH ws-load --url "${ws[$name]}" --connections "$CONNECTIONS" --seconds "$DURATION" --token "$TOKEN")
      echo "websocket,$name,$round,$rate" >>"$WORK/h2ws.csv"
      printf '   round %s  %-8s WebSocket  %12s messages/s\n' "$round" "$name" "$rate"
      rate=$(h2load_rate "grpc $name" -d "$WORK/grpc-message.bin" -H "content-type: application/grpc" -H "te: trailers" "${grpc[$name]}")
      echo "grpc,$name,$round,$rate" >>"$WORK/h2ws.csv"
      printf '   round %s  %-8s gRPC       %12s calls/s\n' "$round" "$name" "$rate"
    done
  done
fi

echo "== reloads: $RELOADS SIGHUPs to scopegate proxy during ${RELOAD_SECONDS}s of load"
wrk -t"$THREADS" -c"$CONNECTIONS" -d"${RELOAD_SECONDS}s" -H "Authorization: Bearer $TOKEN" "${url[proxy]}" >"$WORK/reload-wrk.txt" &
wrk_pid=$!
for n in $(seq "$RELOADS"); do
  sleep "$(python3 -c "print(($RELOAD_SECONDS - 2) / $RELOADS)")"
  # Each reload changes the routes (one more public route), so each builds
  # and swaps in a new configuration.
  printf '[[routes]]\npath = "/reload-%s"\npublic = true\n' "$n" >>"$WORK/proxy.toml"
  kill -HUP "$PROXY_PID"
done
wait $wrk_pid || true
reloaded=$(grep -c "configuration reloaded" "$WORK/server-proxy.log" || true)
requests=$(awk '/requests in/ {print $1}' "$WORK/reload-wrk.txt")
non2xx=$(awk '/Non-2xx/ {print $5}' "$WORK/reload-wrk.txt")
socket=$(awk '/Socket errors/ {print $3, $5, $7, $9}' "$WORK/reload-wrk.txt")
echo "   $requests requests, ${non2xx:-0} non-2xx, socket errors (connect read write timeout): ${socket:-0 0 0 0}; reloads logged: $reloaded"

echo "== memory: scopegate (cache on, 10,000 entries), $TOKENS distinct tokens for ${MEMORY_SECONDS}s"
gate_pid=$(pgrep -f "scopegate-bench serve --mode gate --issuer" | head -1)
wrk -t"$THREADS" -c"$CONNECTIONS" -d"${MEMORY_SECONDS}s" -s "$WORK/distinct.lua" "${url[gate]}" -- "$WORK/tokens.txt" >"$WORK/memory-wrk.txt" &
wrk_pid=$!
: >"$WORK/memory.csv"
for s in $(seq 5 5 "$MEMORY_SECONDS"); do
  sleep 5
  echo "$s,$(awk '/VmRSS/ {print $2}' "/proc/$gate_pid/status")" >>"$WORK/memory.csv"
done
wait $wrk_pid || true
echo "   RSS (KiB) every 5 s: $(cut -d, -f2 "$WORK/memory.csv" | tr '\n' ' ')"

$BENCH chart --csv "$WORK/results.csv" --out bench/results.svg

echo "== results (median requests/s of the rounds; ratios to bare in the same round)"
python3 - "$WORK/results.csv" "$WORK/memory.csv" "$WORK/h2ws.csv" <<'PY'
import csv, statistics, sys
rows = list(csv.DictReader(open(sys.argv[1])))
configs = list(dict.fromkeys(r["config"] for r in rows))
bare = {r["round"]: float(r["rps"]) for r in rows if r["config"] == "bare"}
same = {r["round"]: float(r["rps"]) for r in rows if r["config"] == "bare + token"}
print("| configuration | requests/s | ratio to bare | ratio to bare + token | p50 ms | p99 ms |")
print("| --- | ---: | ---: | ---: | ---: | ---: |")
for c in configs:
    rs = [r for r in rows if r["config"] == c]
    rps = statistics.median(float(r["rps"]) for r in rs)
    ratio = statistics.median(float(r["rps"]) / bare[r["round"]] for r in rs)
    ratio_same = statistics.median(float(r["rps"]) / same[r["round"]] for r in rs)
    p50 = statistics.median(float(r["p50_ms"]) for r in rs)
    p99 = statistics.median(float(r["p99_ms"]) for r in rs)
    print(f"| {c} | {rps:,.0f} | {ratio:.2f} | {ratio_same:.2f} | {p50:.3f} | {p99:.3f} |")
extra = list(csv.DictReader(open(sys.argv[3])))
if extra:
    print("\n| protocol | configuration | rate (median) | ratio to nginx |")
    print("| --- | --- | ---: | ---: |")
    for kind, unit in (("http2", "req/s"), ("grpc", "calls/s"), ("websocket", "messages/s")):
        for name in ("bare", "proxy", "nginx"):
            rs = [r for r in extra if r["kind"] == kind and r["config"] == name]
            ng = {r["round"]: float(r["rate"]) for r in extra if r["kind"] == kind and r["config"] == "nginx"}
            if not rs:
                continue
            rate = statistics.median(float(r["rate"]) for r in rs)
            ratio = statistics.median(float(r["rate"]) / ng[r["round"]] for r in rs)
            print(f"| {kind} | {name} | {rate:,.0f} {unit} | {ratio:.2f} |")
mem = [int(l.split(",")[1]) for l in open(sys.argv[2]) if l.strip()]
if mem:
    print(f"\nmemory (RSS, KiB, every 5 s): min {min(mem)}, max {max(mem)}, last/first {mem[-1]/mem[0]:.3f}")
PY
