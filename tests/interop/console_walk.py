"""The issuer's web console, in a real browser: headless Chromium driven by
selenium through chromedriver walks the seed's console steps 3-9 and the
screens around them, through the page only.

Run by scripts/browser-check.sh against a running `scopegate issuer`:
    python tests/interop/console_walk.py http://127.0.0.1:PORT

What it does, each step asserted on what the page shows (the API is read
afterwards only to double-check):
 1. /console shows the development-only notice; a user pool is created, and
    opened from the list.
 2. The seed's steps 3-9: Resource servers, "Add a resource server", Photo
    Server / com.example.photos, scopes read ("view your photos") and write
    ("update your photos", with "Add another scope"), "Save changes"; first an
    identifier with a space, whose Cognito message shows next to the field.
 3. An app client with a secret and the client-credentials flow; both custom
    scopes are offered as identifier/scope checkboxes under "OAuth2.0 Allowed
    Custom Scopes"; read is ticked; "Save changes".
 4. The token workbench's client-credentials token carries exactly
    com.example.photos/read; the project's verifier accepts it for read and
    refuses it for write (403 insufficient_scope).
 5. read is removed from Photo Server: the client shows it "inactive" (list
    and form), and the next token has no custom scope (the issuer leaves
    inactive scopes out: src/local/oauth/scopes.rs; the client's only scope
    being inactive, the token has no scope claim at all).
 6. read is added back: active again, and in the next token.
 7. Keys: the grace period is required (empty is invalid, never 0);
    rotating gives two keys, the old one with a retire time.
 8. Groups and users: a group; a user with a temporary password, whose
    invitation is on the Messages screen; the user added to the group; a
    permanent password the pool refuses shows AdminSetUserPassword's message
    at the Password field and leaves no user; a user with a permanent
    password, who then signs in on the hosted page opened by the workbench
    (a client given the console's callback), and the workbench shows that
    token. "Get token" for that client (no secret) shows the token
    endpoint's own refusal. A forged /console/callback shows only the
    console's words (never the link's error_description).
 9. Cross-site: a page on another loopback port, in the same browser, tries
    a management call, a text/plain form post, a key rotation, reading the
    messages, and framing the console; none has an effect (the fetches fail
    with TypeError, the frame shows no console), and a request with that
    Origin is refused with 403.
10. Through the page: an UNCONFIRMED user (signed up through the API) is
    confirmed, a user removed from a group, a user deleted, the web client,
    Photo Server and finally the pool deleted; the lists show it.
11. Screenshots of every screen in target/screenshots/console-*.png.

Each failure prints one line, what was expected and what the page showed
(never a token, a secret or a password), and exits 1.
"""

import json
import os
import re
import secrets
import sys

import requests
from selenium.common.exceptions import NoSuchElementException, StaleElementReferenceException, WebDriverException
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions
from selenium.webdriver.support.ui import Select

from browser_support import WAIT, Api, Reporter, b64url_json, chromium, serving

SHOTS = "target/screenshots"
NOTICE = ("Development only: this issuer accepts any AWS signature and has no "
          "authentication of its own. Never expose it to a network.")
IDENTIFIER = "com.example.photos"
READ, WRITE = f"{IDENTIFIER}/read", f"{IDENTIFIER}/write"
INACTIVE_HINT = "deleted from its resource server: left out of tokens until it is re-added"

base = sys.argv[1].rstrip("/")
pool_name = "Console walk " + secrets.token_hex(3)
temporary_password = "Tmp-" + secrets.token_urlsafe(10) + "1a!"
permanent_password = "Per-" + secrets.token_urlsafe(10) + "1a!"
secrets_seen = {temporary_password, permanent_password}  # scrubbed from everything printed
driver = None  # and shown() and wait_for(what, condition, timeout): the browser's, once it has started
screenshots = []


# -- reporting --

fail = Reporter("console walk", secrets_seen, hide_jwts=True).fail


def step(text):
    print(f"console walk: {text}", flush=True)


def shot(name, focus=None):
    """A screenshot of the window, scrolled to focus (an element) if given."""
    if focus is not None:
        driver.execute_script("arguments[0].scrollIntoView({block: 'start'}); window.scrollBy(0, -12);", focus)
    else:
        driver.execute_script("window.scrollTo(0, 0);")
    path = os.path.join(SHOTS, f"console-{name}.png")
    if not driver.save_screenshot(path):
        fail(f"expected a screenshot at {path}; it could not be saved")
    screenshots.append(path)


# -- the page --


def text_of(element):
    return " ".join(element.text.split())


def is_stale(element):
    if element is None:
        return True
    try:
        element.is_enabled()
        return False
    except StaleElementReferenceException:
        return True


def current_screen():
    found = driver.find_elements(By.ID, "screen")
    return found[0] if found else None


def screen_ready(name, heading):
    """The #screen of that name, rendered, with that <h2>; else None."""
    for screen in driver.find_elements(By.CSS_SELECTOR, f"#screen[data-screen='{name}'][data-ready='true']"):
        h2 = screen.find_elements(By.TAG_NAME, "h2")
        if h2 and text_of(h2[0]) == heading:
            return screen
    return None


def goes_to(what, name, heading, action):
    """Runs action (a click), then waits for a new rendering of the screen."""
    old = current_screen()
    action()
    return wait_for(f"{what}: the screen {heading!r}",
                    lambda d: is_stale(old) and screen_ready(name, heading))


def by_text(root, tag, text):
    """The visible <tag> whose text is exactly text."""
    for element in root.find_elements(By.TAG_NAME, tag):
        if text_of(element) == text and element.is_displayed():
            return element
    fail(f"expected a <{tag}> reading {text!r}; {shown()}")


def tab(name, heading, screen):
    link = by_text(driver, "a", name)
    if link.get_attribute("href") == driver.current_url:  # already there
        return wait_for(f"the screen {heading!r}", lambda d: screen_ready(screen, heading))
    return goes_to(f"the {name!r} tab", screen, heading, link.click)


def input_labelled(root, label):
    """The input, textarea or select in the .field whose label reads label."""
    for f in root.find_elements(By.CSS_SELECTOR, ".field"):
        labels = f.find_elements(By.XPATH, "./label")
        if labels and text_of(labels[0]) == label:
            return f.find_element(By.CSS_SELECTOR, "input, textarea, select")
    fail(f"expected a field labelled {label!r}; {shown()}")


def type_into(element, text):
    element.clear()
    element.send_keys(text)


def tick(root, label_text):
    """Ticks the checkbox or radio whose <label> reads label_text."""
    for label in root.find_elements(By.CSS_SELECTOR, "label.check"):
        if text_of(label) == label_text:
            box = label.find_element(By.CSS_SELECTOR, "input")
            if not box.is_selected():
                box.click()
            return box
    fail(f"expected a checkbox labelled {label_text!r}; {shown()}")


def fieldset(root, legend):
    for f in root.find_elements(By.TAG_NAME, "fieldset"):
        legends = f.find_elements(By.TAG_NAME, "legend")
        if legends and text_of(legends[0]) == legend:
            return f
    fail(f"expected a group headed {legend!r}; {shown()}")


def resource_server_card(screen, name):
    for card in screen.find_elements(By.CSS_SELECTOR, "[data-testid=resource-server]"):
        if text_of(card.find_element(By.TAG_NAME, "h3")) == name:
            return card
    fail(f"expected a resource server named {name!r} on the list; {shown()}")


def scope_table(card):
    """[(scope name, description)] as the card shows them."""
    rows = []
    for tr in card.find_elements(By.CSS_SELECTOR, "tbody tr"):
        cells = [text_of(td) for td in tr.find_elements(By.TAG_NAME, "td")]
        rows.append(tuple(cells[:2]))
    return rows


def client_row(screen, name):
    for row in screen.find_elements(By.CSS_SELECTOR, "[data-testid=client-row]"):
        if text_of(row.find_element(By.TAG_NAME, "td")) == name:
            return row
    fail(f"expected an app client named {name!r} on the list; {shown()}")


def listed_scope(row, scope):
    """The text of the scope's item in a client row, or None."""
    for li in row.find_elements(By.CSS_SELECTOR, ".client-scopes li"):
        if text_of(li).split(" ")[0] == scope:
            return text_of(li)
    return None


# -- the API, to double-check what the page did --

api = Api(base, fail)
api_error = api.refusal


def keys_of(pool_id):
    r = requests.get(f"{base}/_local/{pool_id}/keys", timeout=WAIT)
    if r.status_code != 200:
        fail(f"GET /_local/{pool_id}/keys: expected 200, got {r.status_code}")
    return r.json().get("Keys", [])


# -- the steps --


def open_console():
    driver.get(f"{base}/console")
    screen = wait_for("the User pools screen", lambda d: screen_ready("pools", "User pools"))
    notice = driver.find_element(By.ID, "dev-notice")
    if text_of(notice) != NOTICE or not notice.is_displayed():
        fail(f"expected the notice {NOTICE!r}; it reads {text_of(notice)!r}")
    if not driver.current_url.endswith("#/pools"):
        fail(f"expected /console to open #/pools; {shown()}")
    return screen


def create_pool(screen):
    type_into(input_labelled(screen, "Pool name"), pool_name)
    goes_to("Create user pool", "resource-servers", "Resource servers",
            by_text(screen, "button", "Create user pool").click)
    # Back to the list, and open the pool from it.
    screen = goes_to("the User pools link", "pools", "User pools", by_text(driver, "a", "User pools").click)
    rows = [r for r in screen.find_elements(By.CSS_SELECTOR, "[data-testid=pool-row]") if pool_name in r.text]
    if len(rows) != 1:
        fail(f"expected one row for the pool {pool_name!r}; {shown()}")
    pool_id = rows[0].get_attribute("data-pool-id")
    if pool_id not in rows[0].text:
        fail(f"expected the pool's row to show its id {pool_id}; it shows {text_of(rows[0])!r}")
    shot("pools")
    goes_to("the pool's link", "resource-servers", "Resource servers", by_text(rows[0], "a", pool_name).click)
    if not driver.find_element(By.ID, "dev-notice").is_displayed():
        fail("expected the development notice on the pool's screens too")
    for name in ["Resource servers", "App clients", "Users", "Groups", "Messages", "Token workbench", "Keys"]:
        if not driver.find_elements(By.XPATH, f"//nav//a[normalize-space()='{name}']"):
            fail(f"expected a tab link {name!r}; {shown()}")
    return pool_id


def seed_resource_server(pool_id):
    """The seed's steps 3-9, with a validation error first."""
    screen = tab("Resource servers", "Resource servers", "resource-servers")  # step 3
    screen = goes_to("Add a resource server", "resource-servers", "Add a resource server",
                     by_text(screen, "button", "Add a resource server").click)  # step 4
    type_into(input_labelled(screen, "Name"), "Photo Server")  # step 5
    bad = "com example photos"
    type_into(input_labelled(screen, "Identifier"), bad)  # step 6, wrongly
    row = screen.find_elements(By.CSS_SELECTOR, ".scope-row")[0]
    type_into(input_labelled(row, "Scope name"), "read")  # step 7
    type_into(input_labelled(row, "Description"), "view your photos")  # step 8
    by_text(screen, "button", "Save changes").click()
    identifier_field = input_labelled(screen, "Identifier").find_element(By.XPATH, "./ancestor::div[contains(@class,'field')][1]")
    error = wait_for("Cognito's message next to the Identifier field",
                     lambda d: identifier_field.find_elements(By.CSS_SELECTOR, ".field-error"))[0]
    expected = api_error("CreateResourceServer", UserPoolId=pool_id, Identifier=bad, Name="Photo Server",
                         Scopes=[{"ScopeName": "read", "ScopeDescription": "view your photos"}])
    if text_of(error) != " ".join(expected.split()) or "at 'identifier'" not in text_of(error):
        fail(f"expected the Identifier field's error to be the issuer's message {expected!r}; it is {text_of(error)!r}")
    shot("resource-server-form")

    type_into(input_labelled(screen, "Identifier"), IDENTIFIER)  # step 6
    by_text(screen, "button", "Add another scope").click()  # step 7, the second scope
    rows = wait_for("a second scope row", lambda d: len(screen.find_elements(By.CSS_SELECTOR, ".scope-row")) == 2
                    and screen.find_elements(By.CSS_SELECTOR, ".scope-row"))
    # A duplicated scope name: a message naming no field, at the top of the form.
    type_into(input_labelled(rows[1], "Scope name"), "read")
    type_into(input_labelled(rows[1], "Description"), "update your photos")
    by_text(screen, "button", "Save changes").click()
    error = wait_for("the duplicated scope's message at the top of the form",
                     lambda d: screen.find_elements(By.CSS_SELECTOR, "form > .form-error"))[0]
    if text_of(error) != "Scope name read is duplicated." or screen.find_elements(By.CSS_SELECTOR, ".field-error"):
        fail(f"expected only the form error 'Scope name read is duplicated.'; it reads {text_of(error)!r}")
    type_into(input_labelled(rows[1], "Scope name"), "write")  # step 7
    screen = goes_to("Save changes", "resource-servers", "Resource servers",
                     by_text(screen, "button", "Save changes").click)  # step 9
    card = resource_server_card(screen, "Photo Server")
    if IDENTIFIER not in card.text:
        fail(f"expected Photo Server's card to show {IDENTIFIER}; it shows {text_of(card)!r}")
    wanted = [("read", "view your photos"), ("write", "update your photos")]
    if scope_table(card) != wanted:
        fail(f"expected Photo Server's scopes {wanted}; the page shows {scope_table(card)}")
    shot("resource-servers")
    server = api("DescribeResourceServer", UserPoolId=pool_id, Identifier=IDENTIFIER)["ResourceServer"]
    if [(s["ScopeName"], s["ScopeDescription"]) for s in server["Scopes"]] != wanted:
        fail(f"expected the issuer to hold the scopes {wanted}; it holds {server['Scopes']}")


def create_client(pool_id):
    screen = tab("App clients", "App clients", "clients")
    screen = goes_to("Create app client", "clients", "Create app client",
                     by_text(screen, "button", "Create app client").click)
    type_into(input_labelled(screen, "App client name"), "photo-worker")
    tick(screen, "Generate a client secret")
    tick(fieldset(screen, "Allowed OAuth Flows"), "Client credentials")
    custom = fieldset(screen, "OAuth2.0 Allowed Custom Scopes")
    labels = [text_of(label) for label in custom.find_elements(By.CSS_SELECTOR, "label.check")]
    if labels != [READ, WRITE]:
        fail(f"expected the custom scopes {[READ, WRITE]} under 'OAuth2.0 Allowed Custom Scopes'; the page shows {labels}")
    for scope, description in [(READ, "view your photos"), (WRITE, "update your photos")]:
        choice = custom.find_element(By.CSS_SELECTOR, f".scope-choice[data-scope='{scope}']")
        if description not in choice.text:
            fail(f"expected {scope}'s description {description!r} beside it; it shows {text_of(choice)!r}")
    tick(custom, READ)
    screen = goes_to("Save changes", "clients", "App client: photo-worker", by_text(screen, "button", "Save changes").click)
    if "Changes saved." not in screen.text:
        fail(f"expected 'Changes saved.' after creating the client; {shown()}")
    client_id = screen.find_element(By.ID, "client-id").get_attribute("value")
    secret = screen.find_element(By.ID, "client-secret").get_attribute("value")
    secrets_seen.add(secret)
    if not client_id or not secret:
        fail("expected the client's page to show its Client ID and Client secret")
    for label in ("Client ID", "Client secret"):
        copy_field = input_labelled(screen, label).find_element(By.XPATH, "./ancestor::div[contains(@class,'field')][1]")
        if not [b for b in copy_field.find_elements(By.TAG_NAME, "button") if text_of(b) == "Copy"]:
            fail(f"expected a Copy button beside the {label}")
    client = api("DescribeUserPoolClient", UserPoolId=pool_id, ClientId=client_id)["UserPoolClient"]
    if client.get("AllowedOAuthScopes") != [READ] or client.get("AllowedOAuthFlows") != ["client_credentials"]:
        fail(f"expected the issuer to hold the client with scopes [{READ}] and flow client_credentials; "
             f"it holds {client.get('AllowedOAuthScopes')} and {client.get('AllowedOAuthFlows')}")
    return client_id


def workbench_token(client_id, what):
    """The workbench's client-credentials token: (scopes listed, claims shown)."""
    screen = tab("Token workbench", "Token workbench", "workbench")
    Select(screen.find_element(By.ID, "wb-client")).select_by_value(client_id)
    get = wait_for("the Get token button", lambda d: d.find_element(By.ID, "wb-get-token"))
    if text_of(get) != "Get token" or not get.is_enabled():
        fail(f"expected an enabled 'Get token' button for a client with a secret and client_credentials; {shown()}")
    old = driver.find_elements(By.ID, "token-card")
    get.click()
    card = wait_for(f"{what}: a new token on the workbench",
                    lambda d: (not old or is_stale(old[0])) and (d.find_elements(By.ID, "token-card")
                                                                 or d.find_elements(By.ID, "token-error")))[0]
    if card.get_attribute("id") == "token-error":
        fail(f"{what}: expected a token; the page shows {text_of(card)!r}")
    token = card.find_element(By.ID, "token-raw").get_attribute("value")
    secrets_seen.add(token)
    header = json.loads(card.find_element(By.ID, "token-header").text)
    claims = json.loads(card.find_element(By.ID, "token-claims").text)
    parts = token.split(".")
    if header != b64url_json(parts[0]) or claims != b64url_json(parts[1]):
        fail(f"{what}: expected the page's decoded header and claims to be the token's")
    if "kid" not in header or claims.get("client_id") != client_id:
        fail(f"{what}: expected a header with kid and claims with client_id; got {sorted(header)} / {sorted(claims)}")
    scopes = [text_of(li) for li in card.find_elements(By.CSS_SELECTOR, "#token-scopes li")]
    expiry = card.find_element(By.ID, "token-expiry")
    first = text_of(expiry)
    if not re.fullmatch(r"expires in (\d+h )?\d+m \d+s", first):
        fail(f"{what}: expected the expiry to read 'expires in ...m ...s'; it reads {first!r}")
    wait_for(f"{what}: the expiry to count down", lambda d: text_of(expiry) != first, timeout=5)
    return screen, card, scopes, claims


def verify(card, scope, expected_prefix):
    Select(card.find_element(By.ID, "wb-verify-scope")).select_by_value(scope)
    by_text(card, "button", "Verify").click()
    result = card.find_element(By.ID, "verify-result")
    wait_for(f"the verifier's answer for {scope or 'any valid token'} to start with {expected_prefix!r}",
             lambda d: text_of(result).startswith(expected_prefix))
    return text_of(result)


def first_token(client_id):
    _, card, scopes, claims = workbench_token(client_id, "the first token")
    if scopes != [READ]:
        fail(f"expected the token's scopes to be exactly [{READ}]; the page lists {scopes}")
    if claims.get("scope") != READ:
        fail(f"expected the scope claim {READ!r}; it is {claims.get('scope')!r}")
    verify(card, READ, "Accepted by the verifier")
    refused = verify(card, WRITE, "Refused: 403 insufficient_scope")
    if "WWW-Authenticate: Bearer" not in refused or "insufficient_scope" not in refused.split("WWW-Authenticate:")[1]:
        fail(f"expected the refusal to show the WWW-Authenticate value with insufficient_scope; it shows {refused!r}")
    verify(card, "", "Accepted by the verifier")
    shot("workbench", card)


def edit_photo_server():
    screen = tab("Resource servers", "Resource servers", "resource-servers")
    card = resource_server_card(screen, "Photo Server")
    screen = goes_to("Edit", "resource-servers", "Edit resource server", by_text(card, "button", "Edit").click)
    identifier = input_labelled(screen, "Identifier")
    if identifier.get_attribute("value") != IDENTIFIER or identifier.get_attribute("readonly") is None:
        fail(f"expected the edit form's Identifier to be {IDENTIFIER}, read-only; {shown()}")
    return screen


def remove_read(pool_id, client_id):
    screen = edit_photo_server()
    rows = screen.find_elements(By.CSS_SELECTOR, ".scope-row")
    read_rows = [r for r in rows if input_labelled(r, "Scope name").get_attribute("value") == "read"]
    if len(rows) != 2 or len(read_rows) != 1:
        fail(f"expected the edit form to show the scopes read and write; {shown()}")
    by_text(read_rows[0], "button", "Remove").click()
    screen = goes_to("Save changes", "resource-servers", "Resource servers", by_text(screen, "button", "Save changes").click)
    if scope_table(resource_server_card(screen, "Photo Server")) != [("write", "update your photos")]:
        fail(f"expected Photo Server to list only write after removing read; {shown()}")

    screen = tab("App clients", "App clients", "clients")
    row = client_row(screen, "photo-worker")
    item = listed_scope(row, READ)
    if item != f"{READ} inactive":
        fail(f"expected the client list to show '{READ} inactive'; its row reads {text_of(row)!r}")
    shot("clients-inactive")
    screen = goes_to("the client's link", "clients", "App client: photo-worker",
                     by_text(client_row(screen, "photo-worker"), "a", "photo-worker").click)
    custom = fieldset(screen, "OAuth2.0 Allowed Custom Scopes")
    row = custom.find_element(By.CSS_SELECTOR, f".scope-choice[data-scope='{READ}']")
    box = row.find_element(By.CSS_SELECTOR, "input[type=checkbox]")
    if "inactive" not in row.text or INACTIVE_HINT not in row.text or not box.is_selected() or box.is_enabled():
        fail(f"expected {READ} on the client's form as inactive (checked, disabled, with the hint); it shows {text_of(row)!r}")
    write_box = custom.find_element(By.CSS_SELECTOR, f".scope-choice[data-scope='{WRITE}'] input")
    if write_box.is_selected() or "inactive" in custom.find_element(By.CSS_SELECTOR, f".scope-choice[data-scope='{WRITE}']").text:
        fail(f"expected {WRITE} offered, active and not ticked; {shown()}")
    shot("client-inactive", custom)

    # The issuer leaves an inactive scope out (scopes.rs); the client's only
    # custom scope being inactive, the token has no scope claim.
    screen, card, scopes, claims = workbench_token(client_id, "the token with read inactive")
    panel = screen.find_element(By.ID, "wb-scopes")
    if panel.find_elements(By.CSS_SELECTOR, "input[name=wb-scope]") or "inactive" not in panel.text:
        fail(f"expected the workbench to offer no active scope and to show {READ} inactive; it shows {text_of(panel)!r}")
    if scopes or "scope" in claims:
        fail(f"expected a token without {READ} (no scope claim at all); the page lists {scopes}, claim {claims.get('scope')!r}")
    if text_of(card.find_element(By.ID, "token-no-scope")) != "The token has no scope claim.":
        fail("expected the workbench to say 'The token has no scope claim.'")
    options = [o.get_attribute("value") for o in card.find_elements(By.CSS_SELECTOR, "#wb-verify-scope option")]
    if options != ["", WRITE]:
        fail(f"expected the verifier's scope choice to be (any valid token) and {WRITE} only; it offers {options}")
    verify(card, WRITE, "Refused: 403 insufficient_scope")
    verify(card, "", "Accepted by the verifier")
    shot("workbench-inactive", screen.find_element(By.ID, "wb-scopes"))


def re_add_read(client_id):
    screen = edit_photo_server()
    by_text(screen, "button", "Add another scope").click()
    rows = wait_for("a new scope row", lambda d: len(screen.find_elements(By.CSS_SELECTOR, ".scope-row")) == 2
                    and screen.find_elements(By.CSS_SELECTOR, ".scope-row"))
    type_into(input_labelled(rows[1], "Scope name"), "read")
    type_into(input_labelled(rows[1], "Description"), "view your photos")
    screen = goes_to("Save changes", "resource-servers", "Resource servers", by_text(screen, "button", "Save changes").click)
    listed = sorted(scope_table(resource_server_card(screen, "Photo Server")))
    if listed != [("read", "view your photos"), ("write", "update your photos")]:
        fail(f"expected Photo Server to list read and write again; it lists {listed}")
    screen = tab("App clients", "App clients", "clients")
    shot("clients")
    item = listed_scope(client_row(screen, "photo-worker"), READ)
    if item != READ:
        fail(f"expected the client list to show {READ} active again (no 'inactive'); it shows {item!r}")
    screen = goes_to("the client's link", "clients", "App client: photo-worker",
                     by_text(client_row(screen, "photo-worker"), "a", "photo-worker").click)
    custom = fieldset(screen, "OAuth2.0 Allowed Custom Scopes")
    row = custom.find_element(By.CSS_SELECTOR, f".scope-choice[data-scope='{READ}']")
    box = row.find_element(By.CSS_SELECTOR, "input")
    if "inactive" in row.text or not box.is_selected() or not box.is_enabled():
        fail(f"expected {READ} ticked and active on the client's form; it shows {text_of(row)!r}")
    shot("client-form", fieldset(screen, "Allowed OAuth Flows"))
    _, _, scopes, _ = workbench_token(client_id, "the token with read re-added")
    if scopes != [READ]:
        fail(f"expected the token's scopes to be [{READ}] again; the page lists {scopes}")


def rotate_keys(pool_id):
    screen = tab("Keys", "Keys", "keys")
    rows = screen.find_elements(By.CSS_SELECTOR, "[data-testid=key-row]")
    if len(rows) != 1 or text_of(rows[0].find_element(By.CSS_SELECTOR, ".signing")) != "yes":
        fail(f"expected one signing key before the rotation; {shown()}")
    old_kid = rows[0].get_attribute("data-kid")
    grace = input_labelled(screen, "Grace period (seconds)")
    if grace.get_attribute("value") != "3600":
        fail(f"expected the grace period to default to 3600 s; it is {grace.get_attribute('value')!r}")
    if grace.get_attribute("required") is None or grace.get_attribute("min") != "0":
        fail("expected the grace period to be required, at least 0")
    grace.clear()
    if not driver.execute_script("return arguments[0].matches(':invalid') && !arguments[0].form.checkValidity();", grace):
        fail("expected an empty grace period to make the rotation form invalid (no rotation with 0)")
    type_into(grace, "3600")
    screen = goes_to("Rotate signing key", "keys", "Keys", by_text(screen, "button", "Rotate signing key").click)
    rows = {r.get_attribute("data-kid"): r for r in screen.find_elements(By.CSS_SELECTOR, "[data-testid=key-row]")}
    if len(rows) != 2 or old_kid not in rows:
        fail(f"expected two keys after the rotation, the old one among them; {shown()}")
    old = rows.pop(old_kid)
    new = next(iter(rows.values()))
    if text_of(old.find_element(By.CSS_SELECTOR, ".signing")) != "no" or text_of(old.find_element(By.CSS_SELECTOR, ".retires")) in ("", "—"):
        fail(f"expected the old key to be not signing, with a retire time; its row reads {text_of(old)!r}")
    if text_of(new.find_element(By.CSS_SELECTOR, ".signing")) != "yes" or text_of(new.find_element(By.CSS_SELECTOR, ".retires")) != "—":
        fail(f"expected the new key to be signing, retiring never ('—'); its row reads {text_of(new)!r}")
    if old_kid not in old.text:
        fail("expected the key rows to show their kid")
    shot("keys")
    return sorted(k["kid"] for k in keys_of(pool_id))


def users_and_groups(pool_id):
    screen = tab("Groups", "Groups", "groups")
    type_into(input_labelled(screen, "Group name"), "editors")
    # The description is markup: the page must show it as text (no XSS).
    markup = 'People who edit photos <img id="injected" src="x">'
    type_into(input_labelled(screen, "Description"), markup)
    screen = goes_to("Create group", "groups", "Groups", by_text(screen, "button", "Create group").click)
    if not [r for r in screen.find_elements(By.CSS_SELECTOR, "[data-testid=group-row]") if "editors" in r.text
            and markup in r.text]:
        fail(f"expected the group editors on the list, its description shown as text; {shown()}")
    if driver.find_elements(By.ID, "injected"):
        fail("expected the group's description to be shown as text; the page made an element of it")

    screen = tab("Users", "Users", "users")
    type_into(input_labelled(screen, "Username"), "carol")
    type_into(input_labelled(screen, "Email (optional)"), "carol@example.com")
    type_into(input_labelled(screen, "Password"), temporary_password)
    if not tick(screen, "Temporary password").is_selected():
        fail("expected the 'Temporary password' radio to be chosen")
    screen = goes_to("Create user", "users", "Users", by_text(screen, "button", "Create user").click)
    row = wait_for("carol on the users list", lambda d: d.find_element(By.CSS_SELECTOR, "[data-testid=user-row][data-username=carol]"))
    if "FORCE_CHANGE_PASSWORD" not in row.text or "carol@example.com" not in row.text or "enabled" not in row.text:
        fail(f"expected carol FORCE_CHANGE_PASSWORD, enabled, with her email; the row reads {text_of(row)!r}")

    screen = tab("Messages", "Messages", "messages")
    messages = [r for r in screen.find_elements(By.CSS_SELECTOR, "[data-testid=message-row]") if "carol" in r.text]
    if not messages or "AdminCreateUser" not in messages[0].text or "carol@example.com" not in messages[0].text:
        fail(f"expected carol's AdminCreateUser message to carol@example.com on the Messages screen; {shown()}")
    if temporary_password not in messages[0].text:
        fail("expected carol's message to show the temporary password")
    shot("messages")

    screen = tab("Users", "Users", "users")
    row = screen.find_element(By.CSS_SELECTOR, "[data-testid=user-row][data-username=carol]")
    Select(row.find_element(By.CSS_SELECTOR, "select.group-select")).select_by_value("editors")
    screen = goes_to("Add to group", "users", "Users", by_text(row, "button", "Add to group").click)
    row = screen.find_element(By.CSS_SELECTOR, "[data-testid=user-row][data-username=carol]")
    if "editors" not in text_of(row.find_element(By.CSS_SELECTOR, ".groups")):
        fail(f"expected carol's groups to show editors; the row reads {text_of(row)!r}")
    shot("users")
    for action, state in (("Disable", "disabled"), ("Enable", "enabled")):
        screen = goes_to(action, "users", "Users", by_text(row, "button", action).click)
        row = screen.find_element(By.CSS_SELECTOR, "[data-testid=user-row][data-username=carol]")
        if text_of(row.find_element(By.CSS_SELECTOR, ".enabled")) != state:
            fail(f"expected carol {state} after {action}; the row reads {text_of(row)!r}")
    screen = tab("Groups", "Groups", "groups")
    group = screen.find_element(By.CSS_SELECTOR, "[data-testid=group-row][data-group=editors]")
    if text_of(group.find_element(By.CSS_SELECTOR, ".members")) != "carol":
        fail(f"expected the group editors to list carol; it reads {text_of(group)!r}")
    shot("groups")
    groups = api("AdminListGroupsForUser", UserPoolId=pool_id, Username="carol")["Groups"]
    if [g["GroupName"] for g in groups] != ["editors"]:
        fail(f"expected the issuer to hold carol in editors; it holds {groups}")

    # A permanent password the pool refuses: AdminSetUserPassword's message at
    # the Password field, and no half-made user left behind.
    screen = tab("Users", "Users", "users")
    type_into(input_labelled(screen, "Username"), "frank")
    type_into(input_labelled(screen, "Password"), "x")
    tick(screen, "Permanent password")
    by_text(screen, "button", "Create user").click()
    password_field = input_labelled(screen, "Password").find_element(By.XPATH, "./ancestor::div[contains(@class,'field')][1]")
    error = wait_for("AdminSetUserPassword's message next to the Password field",
                     lambda d: password_field.find_elements(By.CSS_SELECTOR, ".field-error"))[0]
    if not text_of(error):
        fail("expected the refused password's message next to the Password field; it is empty")
    if "frank" in [u["Username"] for u in api("ListUsers", UserPoolId=pool_id)["Users"]]:
        fail(f"expected frank deleted again after AdminSetUserPassword failed (the page showed {text_of(error)!r})")
    step(f"8a. a refused permanent password: {text_of(error)!r} at the Password field; the user was removed")
    screen = goes_to("the Users tab", "users", "Users", lambda: driver.refresh())
    type_into(input_labelled(screen, "Username"), "dave")
    type_into(input_labelled(screen, "Password"), permanent_password)
    tick(screen, "Permanent password")
    screen = goes_to("Create user (permanent password)", "users", "Users", by_text(screen, "button", "Create user").click)
    row = screen.find_element(By.CSS_SELECTOR, "[data-testid=user-row][data-username=dave]")
    if text_of(row.find_element(By.CSS_SELECTOR, ".status")) != "CONFIRMED":
        fail(f"expected dave CONFIRMED after a permanent password; the row reads {text_of(row)!r}")


def hosted_sign_in(pool_id):
    """A web client with the console's callback; the workbench's "Open hosted
    sign-in" opens the hosted page in a new tab, dave signs in, and that tab's
    workbench shows dave's access token."""
    screen = tab("App clients", "App clients", "clients")
    screen = goes_to("Create app client", "clients", "Create app client",
                     by_text(screen, "button", "Create app client").click)
    type_into(input_labelled(screen, "App client name"), "web")
    tick(fieldset(screen, "Allowed OAuth Flows"), "Authorization code grant")
    by_text(screen, "button", "Add the console's callback").click()
    callbacks = input_labelled(screen, "Callback URL(s)").get_attribute("value")
    if callbacks != f"{base}/console/callback":
        fail(f"expected 'Add the console's callback' to add {base}/console/callback; the field holds {callbacks!r}")
    tick(fieldset(screen, "OpenID Connect scopes"), "openid")
    tick(fieldset(screen, "OAuth2.0 Allowed Custom Scopes"), READ)
    screen = goes_to("Save changes", "clients", "App client: web", by_text(screen, "button", "Save changes").click)
    web_id = screen.find_element(By.ID, "client-id").get_attribute("value")
    if screen.find_elements(By.ID, "client-secret") or "This client has no secret." not in screen.text:
        fail(f"expected the web client to have no secret, and the page to say so; {shown()}")
    # An edit: UpdateUserPoolClient resets what it is not given, so the page
    # must send back everything it does not edit.
    type_into(input_labelled(screen, "Sign out URL(s)"), "http://localhost:3000/signed-out")
    screen = goes_to("Save changes (edit)", "clients", "App client: web", by_text(screen, "button", "Save changes").click)
    if "Changes saved." not in screen.text:
        fail(f"expected 'Changes saved.' after editing the client; {shown()}")
    web = api("DescribeUserPoolClient", UserPoolId=pool_id, ClientId=web_id)["UserPoolClient"]
    held = (web.get("LogoutURLs"), web.get("CallbackURLs"), web.get("AllowedOAuthFlows"), sorted(web.get("AllowedOAuthScopes", [])))
    wanted = (["http://localhost:3000/signed-out"], [f"{base}/console/callback"], ["code"], sorted(["openid", READ]))
    if held != wanted:
        fail(f"expected the edited web client to hold (sign-out, callbacks, flows, scopes) {wanted}; it holds {held}")

    screen = tab("Token workbench", "Token workbench", "workbench")
    Select(screen.find_element(By.ID, "wb-client")).select_by_value(web_id)
    hosted = wait_for("the 'Open hosted sign-in' button", lambda d: d.find_element(By.ID, "wb-hosted"))
    # The page decides nothing: 'Get token' is offered, and the token
    # endpoint's own refusal (a client without a secret) is what it shows.
    get = driver.find_element(By.ID, "wb-get-token")
    if not get.is_enabled() or driver.find_elements(By.ID, "wb-get-token-note"):
        fail(f"expected 'Get token' enabled for every client, with no note of the page's own; {shown()}")
    get.click()
    refusal = text_of(wait_for("the token endpoint's refusal on the workbench", lambda d: d.find_element(By.ID, "token-error")))
    if not refusal.startswith("The token endpoint refused: unauthorized_client: "):
        fail(f"expected the token endpoint's refusal (unauthorized_client and its description) for a client without a secret; "
             f"the page shows {refusal!r}")
    console_tab = driver.current_window_handle
    handles = set(driver.window_handles)
    hosted.click()
    new = wait_for("the hosted sign-in to open in a new tab", lambda d: set(d.window_handles) - handles)
    driver.switch_to.window(new.pop())
    try:
        form = wait_for("the hosted login form", lambda d: d.find_element(By.CSS_SELECTOR, "form input[name=username]"))
        form.send_keys("dave")
        driver.find_element(By.CSS_SELECTOR, "input[name=password]").send_keys(permanent_password)
        driver.find_element(By.CSS_SELECTOR, "button[name=signin]").click()
        screen = wait_for("the callback to end on the workbench", lambda d: screen_ready("workbench", "Token workbench"))
        if not driver.current_url.startswith(f"{base}/console#/pools/{pool_id}/workbench"):
            fail(f"expected the callback to go on to the workbench; {shown()}")
        card = wait_for("the hosted sign-in's token", lambda d: d.find_element(By.ID, "token-card"))
        secrets_seen.add(card.find_element(By.ID, "token-raw").get_attribute("value"))
        title = text_of(card.find_element(By.TAG_NAME, "h3"))
        claims = json.loads(card.find_element(By.ID, "token-claims").text)
        scopes = sorted(text_of(li) for li in card.find_elements(By.CSS_SELECTOR, "#token-scopes li"))
        if title != "Token (hosted sign-in)" or claims.get("username") != "dave" or scopes != sorted(["openid", READ]):
            fail(f"expected dave's token from the hosted sign-in with scopes openid and {READ}; "
                 f"the page shows {title!r}, username {claims.get('username')!r}, scopes {scopes}")
        verify(card, READ, "Accepted by the verifier")
        shot("workbench-hosted", card)
        left = driver.execute_script("return Object.keys(localStorage).filter((k) => k.startsWith('scopegate.pkce.'));")
        if left:
            fail(f"expected the sign-in's PKCE data removed from localStorage once used; it still holds {left}")
    finally:
        if driver.current_window_handle != console_tab:
            driver.close()
        driver.switch_to.window(console_tab)
    return web_id


def forged_callback(pool_id):
    """A link from anywhere to /console/callback: with a state this console
    did not start, the page shows its generic message, never the link's text."""
    driver.get(f"{base}/console/callback?error=access_denied&error_description=Call%20evil.example%20now&state=forged")
    error = wait_for("the callback's message", lambda d: d.find_element(By.ID, "callback-error"))
    if text_of(error) != "This sign-in was not started by this console." or "evil.example" in driver.page_source:
        fail(f"expected a forged callback to show only 'This sign-in was not started by this console.'; {shown()}")
    # A started sign-in (its state saved) whose error is not one of RFC 6749's codes.
    driver.execute_script("localStorage.setItem('scopegate.pkce.s1', JSON.stringify({verifier: 'v', pool: arguments[0], "
                          "client: 'c', redirect: location.origin + '/console/callback'}));", pool_id)
    driver.get(f"{base}/console/callback?error=%3Cb%3Eyour%20account%20is%20locked%3C%2Fb%3E&error_description=call%20us&state=s1")
    error = wait_for("the callback's message", lambda d: d.find_element(By.ID, "callback-error"))
    if text_of(error) != "The sign-in ended with an error." or "locked" in text_of(driver.find_element(By.TAG_NAME, "body")):
        fail(f"expected an unknown error code to show only 'The sign-in ended with an error.'; {shown()}")
    if driver.execute_script("return localStorage.getItem('scopegate.pkce.s1');") is not None:
        fail("expected a failed callback to remove its PKCE data from localStorage")
    driver.execute_script("localStorage.setItem('scopegate.pkce.s2', '{\"verifier\":\"v\",\"pool\":\"p\",\"client\":\"c\"}');")
    driver.get(f"{base}/console/callback?error=access_denied&error_description=call%20us&state=s2")
    error = wait_for("the callback's message", lambda d: d.find_element(By.ID, "callback-error"))
    if text_of(error) != "The sign-in ended with the error access_denied." or "call us" in text_of(driver.find_element(By.TAG_NAME, "body")):
        fail(f"expected an RFC 6749 error code shown without its description; {shown()}")
    driver.get(f"{base}/console#/pools/{pool_id}/resource-servers")
    wait_for("the console again", lambda d: screen_ready("resource-servers", "Resource servers"))


ATTACK = """<!doctype html><title>another site</title>
<h1>another site</h1>
<p>fetch: <span id="a">pending</span></p>
<p>form: <span id="b">pending</span></p>
<p>rotate: <span id="c">pending</span></p>
<p>read messages: <span id="e">pending</span></p>
<p>frame: <span id="d">pending</span></p>
<p id="done"></p>
<iframe id="console-frame" title="the console, framed"></iframe>
<form id="f" method="POST" action="ENDPOINT/" enctype="text/plain" target="sink">
<input type="hidden" name='{"PoolName":"evil-form","x":"' value='"}'>
</form>
<iframe name="sink" id="sink"></iframe>
<script>
const ep = "ENDPOINT", pool = "POOL";
const out = (id, v) => { document.getElementById(id).textContent = v; };
async function viaFetch() {
  try {
    const r = await fetch(ep + "/", {method: "POST", body: JSON.stringify({PoolName: "evil-fetch"}),
      headers: {"X-Amz-Target": "AWSCognitoIdentityProviderService.CreateUserPool",
                "Content-Type": "application/x-amz-json-1.1"}});
    out("a", "answered " + r.status);
  } catch (e) { out("a", e.name); }
}
async function rotate() {
  try {
    const r = await fetch(ep + "/_local/" + pool + "/rotate-key?grace_seconds=0", {method: "POST"});
    out("c", "answered " + r.status);
  } catch (e) { out("c", e.name); }
}
function viaForm() {
  return new Promise((resolve) => {
    document.getElementById("sink").addEventListener("load", () => { out("b", "submitted"); resolve(); }, {once: true});
    document.getElementById("f").submit();
  });
}
async function readMessages() {
  try {
    const r = await fetch(ep + "/_local/" + pool + "/messages");
    out("e", "read " + (await r.text()).length + " characters");
  } catch (e) { out("e", e.name); }
}
function viaFrame() {
  return new Promise((resolve) => {
    const frame = document.getElementById("console-frame");
    frame.addEventListener("load", () => {
      let doc = null;
      try { doc = frame.contentDocument; } catch (e) { doc = null; }
      out("d", doc === null ? "no access" : "document readable: " + (doc.getElementById("dev-notice") ? "console" : "other"));
      resolve();
    }, {once: true});
    frame.src = ep + "/console";
  });
}
Promise.all([viaFetch(), rotate(), viaForm(), readMessages(), viaFrame()]).then(() => out("done", "done"));
</script>
"""


def cross_site(pool_id, kids_before):
    pools_before = sorted(p["Id"] for p in api("ListUserPools", MaxResults=60)["UserPools"])
    with serving(ATTACK.replace("ENDPOINT", base).replace("POOL", pool_id)) as origin:
        driver.get(origin + "/")
        wait_for("the other site's page to finish its five attempts",
                 lambda d: text_of(d.find_element(By.ID, "done")) == "done")
        results = {k: text_of(driver.find_element(By.ID, k)) for k in "abcde"}
        shot("cross-site")
        if results["a"] != "TypeError" or results["c"] != "TypeError" or results["e"] != "TypeError":
            fail(f"expected the other site's fetches to fail (TypeError, no CORS); they gave {results}")
        if results["d"] != "no access":
            fail(f"expected the other site to have no access to a framed console; it gave {results['d']!r}")
        # The frame itself must not show the console (frame-ancestors 'none').
        driver.switch_to.frame(driver.find_element(By.ID, "console-frame"))
        try:
            framed = driver.find_elements(By.ID, "dev-notice")
        finally:
            driver.switch_to.default_content()
        if framed:
            fail("expected the console not to render inside another site's frame; the frame shows its notice")
        pools_after = sorted(p["Id"] for p in api("ListUserPools", MaxResults=60)["UserPools"])
        names = [p["Name"] for p in api("ListUserPools", MaxResults=60)["UserPools"]]
        if pools_after != pools_before or any(n.startswith("evil") for n in names):
            fail(f"expected no user pool created by the other site; the pools went from {pools_before} to {pools_after}")
        kids_after = sorted(k["kid"] for k in keys_of(pool_id))
        if kids_after != kids_before:
            fail(f"expected the other site's rotation to have no effect; the kids went from {kids_before} to {kids_after}")
        # The same, from python, with the other site's Origin: refused.
        r = requests.post(f"{base}/", data=json.dumps({"MaxResults": 60}), timeout=WAIT, headers={
            "X-Amz-Target": "AWSCognitoIdentityProviderService.ListUserPools",
            "Content-Type": "application/x-amz-json-1.1", "Origin": origin})
        if r.status_code != 403:
            fail(f"expected the management API to refuse Origin {origin} with 403; it answered {r.status_code}")
        r = requests.post(f"{base}/_local/{pool_id}/rotate-key?grace_seconds=0", timeout=WAIT, headers={"Origin": origin})
        if r.status_code != 403 or sorted(k["kid"] for k in keys_of(pool_id)) != kids_before:
            fail(f"expected rotate-key to refuse Origin {origin} with 403, rotating nothing; it answered {r.status_code}")
        if "access-control-allow-origin" in {k.lower() for k in r.headers}:
            fail("expected no CORS header on the refusal")
        return results


def confirmed(click):
    """A click that opens the page's confirm(), then accepting it."""
    def action():
        click()
        wait_for("the page's confirmation dialog", expected_conditions.alert_is_present()).accept()
    return action


def delete_through_ui(pool_id, web_id):
    """Confirm, remove from a group, and delete: a user, the web client, the
    resource server Photo Server, and the pool, each through the page."""
    # erin signs up herself (the API, as an app would): UNCONFIRMED.
    signed = api("SignUp", ClientId=web_id, Username="erin", Password=permanent_password)
    if signed.get("UserConfirmed"):
        fail("expected erin UNCONFIRMED after SignUp")
    driver.get(f"{base}/console#/pools/{pool_id}/users")
    screen = wait_for("the Users screen", lambda d: screen_ready("users", "Users"))
    row = screen.find_element(By.CSS_SELECTOR, "[data-testid=user-row][data-username=erin]")
    if text_of(row.find_element(By.CSS_SELECTOR, ".status")) != "UNCONFIRMED":
        fail(f"expected erin UNCONFIRMED on the list; the row reads {text_of(row)!r}")
    screen = goes_to("Confirm", "users", "Users", by_text(row, "button", "Confirm").click)
    row = screen.find_element(By.CSS_SELECTOR, "[data-testid=user-row][data-username=erin]")
    if text_of(row.find_element(By.CSS_SELECTOR, ".status")) != "CONFIRMED" or row.find_elements(By.XPATH, ".//button[normalize-space()='Confirm']"):
        fail(f"expected erin CONFIRMED after Confirm, with no Confirm button; the row reads {text_of(row)!r}")

    row = screen.find_element(By.CSS_SELECTOR, "[data-testid=user-row][data-username=carol]")
    badge = row.find_element(By.CSS_SELECTOR, ".groups [data-group=editors]")
    screen = goes_to("Remove (from editors)", "users", "Users", by_text(badge, "button", "Remove").click)
    row = screen.find_element(By.CSS_SELECTOR, "[data-testid=user-row][data-username=carol]")
    if text_of(row.find_element(By.CSS_SELECTOR, ".groups")) != "":
        fail(f"expected carol in no group after Remove; the row reads {text_of(row)!r}")
    if api("AdminListGroupsForUser", UserPoolId=pool_id, Username="carol")["Groups"]:
        fail("expected the issuer to hold carol in no group after Remove")

    row = screen.find_element(By.CSS_SELECTOR, "[data-testid=user-row][data-username=erin]")
    screen = goes_to("Delete (erin)", "users", "Users", confirmed(by_text(row, "button", "Delete").click))
    if screen.find_elements(By.CSS_SELECTOR, "[data-testid=user-row][data-username=erin]"):
        fail(f"expected erin gone from the list after Delete; {shown()}")
    users = sorted(u["Username"] for u in api("ListUsers", UserPoolId=pool_id)["Users"])
    if users != ["carol", "dave"]:
        fail(f"expected the issuer to hold carol and dave after deleting erin; it holds {users}")

    screen = tab("App clients", "App clients", "clients")
    screen = goes_to("Delete (web)", "clients", "App clients", confirmed(by_text(client_row(screen, "web"), "button", "Delete").click))
    names = [text_of(r.find_element(By.TAG_NAME, "td")) for r in screen.find_elements(By.CSS_SELECTOR, "[data-testid=client-row]")]
    if names != ["photo-worker"]:
        fail(f"expected only photo-worker on the list after deleting web; it lists {names}")

    screen = tab("Resource servers", "Resource servers", "resource-servers")
    card = resource_server_card(screen, "Photo Server")
    screen = goes_to("Delete (Photo Server)", "resource-servers", "Resource servers", confirmed(by_text(card, "button", "Delete").click))
    if screen.find_elements(By.CSS_SELECTOR, "[data-testid=resource-server]") or "Photo Server" in screen.text \
            or "No resource servers yet." not in screen.text:
        fail(f"expected no resource server on the list after deleting Photo Server; {shown()}")
    if api("ListResourceServers", UserPoolId=pool_id, MaxResults=50)["ResourceServers"]:
        fail("expected the issuer to hold no resource server after the deletion")

    screen = goes_to("the User pools link", "pools", "User pools", by_text(driver, "a", "User pools").click)
    row = screen.find_element(By.CSS_SELECTOR, f"[data-testid=pool-row][data-pool-id='{pool_id}']")
    screen = goes_to("Delete (the pool)", "pools", "User pools", confirmed(by_text(row, "button", "Delete").click))
    if screen.find_elements(By.CSS_SELECTOR, f"[data-testid=pool-row][data-pool-id='{pool_id}']") or pool_name in screen.text:
        fail(f"expected the pool {pool_name!r} gone from the list after Delete; {shown()}")
    if pool_id in [p["Id"] for p in api("ListUserPools", MaxResults=60)["UserPools"]]:
        fail("expected the issuer to hold no such pool after the deletion")


def no_console_errors():
    """The browser's console has no error from the console's own pages (a CSP
    violation, an exception)."""
    try:
        entries = driver.get_log("browser")
    except WebDriverException:
        return
    # The API's answers to the form the walk got wrong on purpose (400) are
    # logged as failed loads; they are expected.
    errors = [e for e in entries if e.get("level") == "SEVERE" and e.get("message", "").startswith(base)
              and "the server responded with a status of 400" not in e.get("message", "")]
    if errors:
        fail(f"expected no errors in the browser's console; the first is {errors[0].get('message', '')[:300]!r}")


# -- the browser --

os.makedirs(SHOTS, exist_ok=True)
with chromium(fail, browser_log=True, headings=True, limit=300, redact=True,
              ignored=(StaleElementReferenceException, NoSuchElementException)) as browser:
    driver, shown, wait_for = browser.driver, browser.shown, browser.wait_for

    pool_id = create_pool(open_console())
    step(f"1. the console opened with its notice; pool {pool_id} created and opened")
    seed_resource_server(pool_id)
    step("2. Photo Server saved with read/view your photos and write/update your photos; "
         "a bad identifier showed Cognito's message at the Identifier field, a duplicated scope at the top of the form")
    client_id = create_client(pool_id)
    step(f"3. app client photo-worker with {READ} ticked under 'OAuth2.0 Allowed Custom Scopes'")
    first_token(client_id)
    step(f"4. the workbench's token carries exactly {READ}; the verifier accepts it for read, refuses write with 403")
    remove_read(pool_id, client_id)
    step(f"5. read removed: {READ} shown inactive on the list and the form; the next token has no scope claim")
    re_add_read(client_id)
    step(f"6. read re-added: active again, and back in the token")
    kids = rotate_keys(pool_id)
    step("7. keys rotated: two keys, the old one retiring")
    users_and_groups(pool_id)
    step("8. group editors, user carol (temporary password) on Messages and in editors; dave (permanent password)")
    web_id = hosted_sign_in(pool_id)
    step("8b. web client with the console's callback: hosted sign-in from the workbench, dave's token shown and verified")
    forged_callback(pool_id)
    step("8c. a forged callback (state not started here, or an unknown error code) shows only the console's own words")
    no_console_errors()
    results = cross_site(pool_id, kids)
    step(f"9. the other site's attempts: fetch {results['a']}, form {results['b']}, rotate {results['c']}, "
         f"read messages {results['e']}, frame {results['d']} (console not rendered in it); "
         "nothing changed; Origin of that site refused with 403")
    driver.get_log("browser")  # the other site's refusals are its own errors
    delete_through_ui(pool_id, web_id)
    step("10. through the page: erin confirmed, carol out of editors, erin deleted, the web client, "
         "Photo Server and the pool deleted")
    no_console_errors()
    step(f"11. {len(screenshots)} screenshots: {' '.join(sorted(os.path.basename(s) for s in screenshots))}")
