"""The issuer's hosted sign-in, in a real browser: headless Chromium driven by
selenium through chromedriver, with the pool, client and user set up by boto3.

Run by scripts/browser-check.sh against a running `scopegate issuer` and a
callback page that says "signed in":
    python tests/interop/browser_login.py http://127.0.0.1:PORT http://127.0.0.1:PORT2/callback

The page contract: GET /oauth2/authorize redirects to /login, a
<form method="post"> with inputs `username`, `password` and a hidden `_csrf`,
and <button type="submit" name="signin">; errors in <p class="error"
role="alert">; a good sign-in ends on redirect_uri?code=...&state=..., and a
second authorize in the same browser goes straight there (session cookie).

Each failure prints one line, what was expected and what the page showed
(never a token, a code or a password), and exits 1.
"""

import base64
import hashlib
import os
import secrets
import sys
import urllib.parse

import requests
from selenium.common.exceptions import StaleElementReferenceException, TimeoutException
from selenium.webdriver.common.by import By

from browser_support import WAIT, Api, Reporter, b64url_json, chromium

SCREENSHOT = "target/screenshots/login.png"
RESOURCE = "https://photos.example.com"
READ = f"{RESOURCE}/photos.read"
EMAIL = "alice@example.com"

base, callback = sys.argv[1].rstrip("/"), sys.argv[2]
password = "Aa1!" + secrets.token_urlsafe(12)
wrong_password = "Zz9?" + secrets.token_urlsafe(12)
secrets_seen = {password, wrong_password}  # scrubbed from everything printed
fail = Reporter("browser sign-in", secrets_seen).fail
driver = None  # and shown() and wait_for(what, condition): the browser's, once it has started


def payload(token, name):
    parts = token.split(".") if isinstance(token, str) else []
    try:
        claims = b64url_json(parts[1]) if len(parts) == 3 else None
    except ValueError:
        claims = None
    if not isinstance(claims, dict):
        fail(f"expected the {name} to be a JWT with a JSON payload; it was not")
    return claims


# -- the pool, the resource server, the app client and alice, with boto3 --

api = Api(base, fail)

pool_id = api("CreateUserPool", PoolName="Browser")["UserPool"]["Id"]
api(
    "CreateResourceServer",
    UserPoolId=pool_id,
    Identifier=RESOURCE,
    Name="Photo API",
    Scopes=[
        {"ScopeName": "photos.read", "ScopeDescription": "Read your photos"},
        {"ScopeName": "photos.write", "ScopeDescription": "Add and delete your photos"},
    ],
)
app = api(
    "CreateUserPoolClient",
    UserPoolId=pool_id,
    ClientName="web",
    GenerateSecret=False,
    AllowedOAuthFlows=["code"],
    AllowedOAuthFlowsUserPoolClient=True,
    AllowedOAuthScopes=["openid", "email", READ],
    CallbackURLs=[callback],
    SupportedIdentityProviders=["COGNITO"],
)["UserPoolClient"]
client_id = app["ClientId"]
if app.get("ClientSecret"):
    fail("CreateUserPoolClient: expected a client without a secret (GenerateSecret=False); it has one")
api(
    "AdminCreateUser",
    UserPoolId=pool_id,
    Username="alice",
    UserAttributes=[
        {"Name": "email", "Value": EMAIL},
        {"Name": "email_verified", "Value": "true"},
    ],
    MessageAction="SUPPRESS",
)
api("AdminSetUserPassword", UserPoolId=pool_id, Username="alice", Password=password, Permanent=True)


# -- the photo API --


def check_photo_api(binary, access_token):
    """Runs the photo_api example against this pool and calls it with the
    token the browser sign-in got: reading is allowed, writing is not (the
    sign-in asked for photos.read only), no token is 401."""
    import subprocess

    api = subprocess.Popen(
        [binary, "--issuer", f"{base}/{pool_id}", "--client-id", client_id],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        line = api.stdout.readline()
        if not line.startswith("photo API"):
            fail(f"photo_api: expected it to print its address; it printed {line.strip()!r}")
        api_base = line.split()[-1]
        auth = {"Authorization": f"Bearer {access_token}"}
        checks = [
            ("GET /photos with alice's token", requests.get(f"{api_base}/photos", headers=auth, timeout=WAIT), 200),
            ("GET /photos without a token", requests.get(f"{api_base}/photos", timeout=WAIT), 401),
            ("POST /photos with alice's read-only token",
             requests.post(f"{api_base}/photos", headers=auth, json={"title": "beach"}, timeout=WAIT), 403),
        ]
        for what, response, expected in checks:
            if response.status_code != expected:
                fail(f"photo_api: {what}: expected {expected}, got {response.status_code}")
    finally:
        api.terminate()
        api.wait(timeout=WAIT)


# -- the browser --


def authorize_url():
    """A fresh authorize URL, with its state and PKCE verifier."""
    state = secrets.token_urlsafe(16)
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    query = urllib.parse.urlencode(
        {
            "response_type": "code",
            "client_id": client_id,
            "redirect_uri": callback,
            "scope": f"openid email {READ}",
            "state": state,
            "code_challenge": challenge,
            "code_challenge_method": "S256",
        }
    )
    return f"{base}/oauth2/authorize?{query}", state, verifier


def on_callback(d):
    return d.current_url.startswith(callback + "?") or d.current_url == callback


def login_form(d):
    return d.find_elements(By.CSS_SELECTOR, "form input[name=username]")


def visible_error(d):
    """The text of a shown <p class="error" role="alert">, or None."""
    for p in d.find_elements(By.CSS_SELECTOR, "p.error"):
        text = " ".join(p.text.split())
        if p.is_displayed() and text:
            return text, p.get_attribute("role")
    return None


def check_form(when):
    """The page is the contract's login form; returns its fields."""
    forms = driver.find_elements(By.CSS_SELECTOR, "form")
    form = next((f for f in forms if f.find_elements(By.CSS_SELECTOR, "input[name=username]")), None)
    if form is None:
        fail(f"{when}: expected the login form (input name=username); {shown()}")
    if (form.get_attribute("method") or "").lower() != "post":
        fail(f"{when}: expected <form method=\"post\">, it has method={form.get_attribute('method')!r}")
    fields = {}
    for name, css in [
        ("username", "input[name=username]"),
        ("password", "input[name=password]"),
        ("_csrf", "input[name=_csrf]"),
        ("signin", "button[type=submit][name=signin]"),
    ]:
        found = form.find_elements(By.CSS_SELECTOR, css)
        if not found:
            fail(f"{when}: expected {css} in the login form; {shown()}")
        fields[name] = found[0]
    if fields["password"].get_attribute("type") != "password":
        fail(f"{when}: expected the password input to be type=password, it is {fields['password'].get_attribute('type')!r}")
    if fields["_csrf"].get_attribute("type") != "hidden" or not fields["_csrf"].get_attribute("value"):
        fail(f"{when}: expected a hidden _csrf input with a value")
    if fields["signin"].text.strip() != "Sign in":
        fail(f"{when}: expected the submit button to read 'Sign in', it reads {fields['signin'].text.strip()!r}")
    return fields


def _stale(element):
    """True once the page that held element has been replaced."""
    try:
        element.is_enabled()
        return False
    except StaleElementReferenceException:
        return True


def sign_in(fields, secret):
    fields["username"].clear()
    fields["username"].send_keys("alice")
    fields["password"].clear()
    fields["password"].send_keys(secret)
    fields["signin"].click()


def callback_params(when, state):
    """The callback page after a redirect: it says "signed in"; code and state."""
    wait_for(f"{when}: the callback page to say 'signed in'",
             lambda d: "signed in" in d.find_element(By.TAG_NAME, "body").text)
    params = urllib.parse.parse_qs(urllib.parse.urlsplit(driver.current_url).query)
    if "error" in params:
        fail(f"{when}: expected a code at the callback, got error={params['error'][0]!r} "
             f"({params.get('error_description', [''])[0]!r})")
    code = params.get("code", [""])[0]
    if not code:
        fail(f"{when}: expected ?code= at the callback; {shown()}")
    secrets_seen.add(code)
    if params.get("state", [""])[0] != state:
        fail(f"{when}: expected the callback's state to be the one sent; it was not")
    return code


def exchange(when, code, verifier):
    """The code for tokens at /oauth2/token, as a public client with PKCE."""
    try:
        r = requests.post(
            f"{base}/oauth2/token",
            data={
                "grant_type": "authorization_code",
                "code": code,
                "redirect_uri": callback,
                "client_id": client_id,
                "code_verifier": verifier,
            },
            timeout=WAIT,
        )
    except requests.RequestException as e:
        fail(f"{when}: expected an answer from {base}/oauth2/token: {type(e).__name__}")
    try:
        body = r.json()
    except ValueError:
        body = None
    if r.status_code != 200 or not isinstance(body, dict):
        error = body.get("error") if isinstance(body, dict) else None
        fail(f"{when}: expected 200 with JSON from /oauth2/token, got {r.status_code} (error={error!r})")
    for name in ("access_token", "id_token", "refresh_token"):
        if not isinstance(body.get(name), str) or not body[name]:
            fail(f"{when}: expected {name} in the token response; it has {sorted(body)}")
        secrets_seen.add(body[name])
    return body


def check_claims(when, tokens):
    access = payload(tokens["access_token"], "access token")
    if READ not in str(access.get("scope", "")).split():
        fail(f"{when}: expected the access token's scope to contain {READ}, it is {access.get('scope')!r}")
    if access.get("username") != "alice":
        fail(f"{when}: expected the access token's username 'alice', it is {access.get('username')!r}")
    if access.get("token_use") != "access":
        fail(f"{when}: expected the access token's token_use 'access', it is {access.get('token_use')!r}")
    id_claims = payload(tokens["id_token"], "ID token")
    if id_claims.get("aud") != client_id:
        fail(f"{when}: expected the ID token's aud to be the client id, it is {id_claims.get('aud')!r}")
    if id_claims.get("email") != EMAIL:
        fail(f"{when}: expected the ID token's email {EMAIL!r}, it is {id_claims.get('email')!r}")


with chromium(fail) as browser:
    driver, shown, wait_for = browser.driver, browser.shown, browser.wait_for

    # 1. The authorize URL leads to the login form.
    url, state, verifier = authorize_url()
    try:
        driver.get(url)
    except TimeoutException:
        fail(f"expected the authorize URL to load within {WAIT} s; {shown()}")
    wait_for("the authorize URL to show the login form (input name=username)",
             lambda d: login_form(d) or on_callback(d))
    if on_callback(driver):
        fail("expected the login form on the first visit; the browser went straight to the callback")
    if not urllib.parse.urlsplit(driver.current_url).path.endswith("/login"):
        fail(f"expected the authorize URL to redirect to /login; {shown()}")
    fields = check_form("the login page")
    if visible_error(driver):
        fail(f"expected no error on the fresh login page, it shows {visible_error(driver)[0]!r}")
    os.makedirs(os.path.dirname(SCREENSHOT), exist_ok=True)
    if not driver.save_screenshot(SCREENSHOT):
        fail(f"expected a screenshot of the login page at {SCREENSHOT}; it could not be saved")

    # 2. A wrong password: the form again, with an error, and no code.
    sign_in(fields, wrong_password)
    outcome = wait_for(
        "a wrong password to show an error in p.error",
        lambda d: "callback" if on_callback(d) else (_stale(fields["signin"]) and visible_error(d)),
    )
    if outcome == "callback":
        fail("expected a wrong password to be refused; the browser went on to the callback")
    text, role = outcome
    if role != "alert":
        fail(f"expected the error paragraph to have role=\"alert\", it has {role!r}")
    if "code" in urllib.parse.parse_qs(urllib.parse.urlsplit(driver.current_url).query):
        fail(f"expected no code in the URL after a wrong password; {shown()}")
    fields = check_form(f"after a wrong password (error shown: {text!r})")

    # 3. The right password: the callback, with a code that buys tokens.
    sign_in(fields, password)
    outcome = wait_for(
        "the right password to redirect to the callback URL",
        lambda d: "callback" if on_callback(d) else (_stale(fields["signin"]) and visible_error(d)),
    )
    if outcome != "callback":
        fail(f"expected the right password to redirect to the callback, the page shows the error {outcome[0]!r}")
    code = callback_params("after signing in", state)
    tokens = exchange("the first code", code, verifier)
    check_claims("the first sign-in", tokens)

    # 4. A second authorize in the same browser: the session skips the form.
    url, state, verifier = authorize_url()
    try:
        driver.get(url)
    except TimeoutException:
        fail(f"expected the second authorize URL to load within {WAIT} s; {shown()}")
    outcome = wait_for("the second authorize to go straight to the callback",
                       lambda d: "callback" if on_callback(d) else ("form" if login_form(d) else None))
    if outcome == "form":
        fail(f"expected the session to skip the login form on the second authorize; {shown()}")
    second = callback_params("the second authorize", state)
    if second == code:
        fail("expected the second authorize to give a new code; it gave the first one again")
    check_claims("the second sign-in", exchange("the second code", second, verifier))

    # 5. The photo_api example, serving for this pool, accepts alice's token.
    if os.environ.get("PHOTO_API"):
        check_photo_api(os.environ["PHOTO_API"], tokens["access_token"])
