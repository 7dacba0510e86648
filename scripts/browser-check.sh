#!/usr/bin/env bash
# Signs in to `scopegate issuer`'s hosted login with a real browser: headless
# Chromium driven by selenium through chromedriver, against the issuer set up
# with boto3 (tests/interop/browser_login.py). Installs Debian's chromium and
# chromium-driver with apt-get when they are missing, and selenium, boto3 and
# requests into target/browser-venv. The login page's screenshot lands in
# target/screenshots/login.png. Then walks the web console at /console
# (tests/interop/console_walk.py; screenshots in target/screenshots/console-*.png).
# Run by scripts/test.sh.
#
# SCOPEGATE_BIN=path runs a binary built elsewhere and skips the build.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v chromium >/dev/null || ! command -v chromedriver >/dev/null; then
  echo "installing chromium and chromium-driver (Debian packages)"
  sudo=""
  if [ "$(id -u)" != 0 ]; then sudo="sudo -n"; fi
  export DEBIAN_FRONTEND=noninteractive
  { $sudo apt-get update -qq && $sudo apt-get install -y -qq --no-install-recommends chromium chromium-driver; } >/dev/null \
    || { echo "chromium or chromedriver is missing and could not be installed (apt-get install chromium chromium-driver)" >&2; exit 1; }
fi
export CHROMEDRIVER=${CHROMEDRIVER:-$(command -v chromedriver)}

venv=target/browser-venv
if ! "$venv/bin/python" -c 'import selenium, boto3, requests' 2>/dev/null; then
  echo "installing selenium, boto3 and requests into $venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check selenium boto3 requests
fi
python=$venv/bin/python

if [ -n "${SCOPEGATE_BIN:-}" ]; then
  bin=$SCOPEGATE_BIN
else
  bin=${CARGO_TARGET_DIR:-target}/debug/scopegate
  cargo build --locked --quiet --features cli --bin scopegate
  # The README's demo API, run against the pool the browser signs in to.
  cargo build --locked --quiet --example photo_api
  export PHOTO_API=${CARGO_TARGET_DIR:-target}/debug/examples/photo_api
fi
[ -x "$bin" ] || { echo "no scopegate binary at $bin (cargo build --features cli --bin scopegate)" >&2; exit 1; }

work=$(mktemp -d)
issuer="" callback=""
cleanup() {
  # chromedriver and the Chromium it started, if the test died before quitting them.
  if [ -s "$work/browser.pids" ]; then
    pids=$(cat "$work/browser.pids")
    kill $pids 2>/dev/null || true
    for _ in $(seq 50); do
      alive=""
      for pid in $pids; do kill -0 "$pid" 2>/dev/null && alive=1; done
      [ -n "$alive" ] || break
      sleep 0.1
    done
  fi
  for pid in $callback $issuer; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work" 2>/dev/null || true
}
trap cleanup EXIT

"$bin" issuer --listen 127.0.0.1:0 >"$work/issuer.log" 2>&1 &
issuer=$!
endpoint=""
for _ in $(seq 50); do
  endpoint=$(sed -n 's/^  management API *\(http:[^ ]*\).*/\1/p' "$work/issuer.log")
  [ -n "$endpoint" ] && break
  sleep 0.1
done
[ -n "$endpoint" ] || { cat "$work/issuer.log"; echo "the issuer did not start" >&2; exit 1; }

# The app's redirect URI: a page that says "signed in". It binds a free port
# itself and writes it to a file, so no other process can take it between.
"$python" - "$work/callback.port" >"$work/callback.log" 2>&1 <<'EOF' &
import http.server, os, sys, urllib.parse

class Callback(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        if urllib.parse.urlsplit(self.path).path != "/callback":
            self.send_error(404)
            return
        body = b"<!doctype html><title>signed in</title><h1>signed in</h1>\n"
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass

server = http.server.HTTPServer(("127.0.0.1", 0), Callback)
with open(sys.argv[1] + ".tmp", "w") as f:
    f.write(str(server.server_address[1]))
os.rename(sys.argv[1] + ".tmp", sys.argv[1])
server.serve_forever()
EOF
callback=$!
for _ in $(seq 50); do
  [ -s "$work/callback.port" ] && break
  sleep 0.1
done
[ -s "$work/callback.port" ] || { cat "$work/callback.log"; echo "the callback server did not start" >&2; exit 1; }
callback_url="http://127.0.0.1:$(cat "$work/callback.port")/callback"

if ! BROWSER_WORK_DIR=$work "$python" tests/interop/browser_login.py "$endpoint" "$callback_url"; then
  if ! kill -0 "$issuer" 2>/dev/null; then
    echo "the issuer exited during the test; the end of its log:" >&2
    tail -n 20 "$work/issuer.log" >&2
  fi
  exit 1
fi
echo "browser sign-in: ok"

# The web console at /console, walked through the page (the seed's console
# steps, the token workbench, keys, users, and cross-site requests from a page
# on another loopback port); screenshots in target/screenshots/console-*.png.
if ! BROWSER_WORK_DIR=$work "$python" tests/interop/console_walk.py "$endpoint"; then
  if ! kill -0 "$issuer" 2>/dev/null; then
    echo "the issuer exited during the console walk; the end of its log:" >&2
    tail -n 20 "$work/issuer.log" >&2
  fi
  exit 1
fi
echo "browser console walk: ok"
