"""What the browser tests share (tests/interop/browser_login.py and
tests/interop/console_walk.py, run by scripts/browser-check.sh): headless
Chromium through chromedriver, boto3's cognito-idp client for the issuer,
one-line failures with the secrets scrubbed, and the page as a failure line
shows it.

Nothing here reads a test's globals: each piece takes the driver, the test's
fail (prints one line and exits 1) and what to scrub as parameters.
"""

import base64
import contextlib
import http.server
import json
import os
import re
import shutil
import sys
import tempfile
import threading
import urllib.parse

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError
from selenium import webdriver
from selenium.common.exceptions import StaleElementReferenceException, TimeoutException, WebDriverException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

WAIT = 20  # seconds, for every wait on the browser and every request

JWT = re.compile(r"eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+")


# -- reporting --


class Reporter:
    """A test's failure line: `<name>: FAILED: <message>`, with every secret
    in secrets (a set the test keeps adding to) replaced by <redacted>, and,
    with hide_jwts, anything shaped like a JWT by <token>."""

    def __init__(self, name, secrets, hide_jwts=False):
        self.name = name
        self.secrets = secrets
        self.hide_jwts = hide_jwts

    def scrub(self, text):
        """text without the secrets (longest first, so none leaves a part)."""
        for s in sorted(self.secrets, key=len, reverse=True):
            if s:
                text = text.replace(s, "<redacted>")
        return JWT.sub("<token>", text) if self.hide_jwts else text

    def fail(self, message):
        """Prints the failure line to stderr and exits 1 (a finally around
        the browser part still quits the browser)."""
        print(f"{self.name}: FAILED: {self.scrub(message)}", file=sys.stderr, flush=True)
        sys.exit(1)


def first_line(e):
    """The first line of a WebDriverException's message, or its type's name."""
    return ((e.msg or "").strip().splitlines() or [type(e).__name__])[0]


def b64url_json(part):
    """The JSON in one base64url part of a JWT (padding optional); raises
    ValueError when it is not base64url JSON."""
    return json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))


def redacted_url(url):
    """The URL with the values of code and token parameters hidden."""
    parts = urllib.parse.urlsplit(url)
    hidden = {"code", "access_token", "id_token", "refresh_token", "code_verifier", "password"}
    query = [
        (k, "<redacted>" if k in hidden else v)
        for k, v in urllib.parse.parse_qsl(parts.query, keep_blank_values=True)
    ]
    return urllib.parse.urlunsplit(parts._replace(query=urllib.parse.urlencode(query, safe="<>/:")))


# -- the issuer's management API --


def cognito_idp(endpoint):
    """boto3's cognito-idp client for the issuer at endpoint: any credentials,
    one attempt, answers within WAIT seconds."""
    return boto3.client(
        "cognito-idp",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="local",
        aws_secret_access_key="local",
        config=Config(retries={"max_attempts": 1, "mode": "standard"}, connect_timeout=5, read_timeout=WAIT),
    )


def method_name(action):
    """boto3's name for an action: AdminCreateUser -> admin_create_user."""
    return "".join("_" + c.lower() if c.isupper() else c for c in action).lstrip("_")


class Api:
    """Management calls on the issuer at endpoint. api("CreateUserPool",
    PoolName=...) is the answer; any error fails the test in one line naming
    the action (with name_unknown, an UnknownOperationException is said to be
    an action the issuer does not implement)."""

    def __init__(self, endpoint, fail, name_unknown=True):
        self.endpoint = endpoint
        self.fail = fail
        self.name_unknown = name_unknown
        self.idp = cognito_idp(endpoint)

    def __call__(self, action, **params):
        """One management call; any error is one line naming the action."""
        try:
            return getattr(self.idp, method_name(action))(**params)
        except ClientError as e:
            error = e.response.get("Error", {})
            code, message = error.get("Code", "?"), error.get("Message", "")
            hint = ""
            if self.name_unknown and code == "UnknownOperationException":
                hint = " (the issuer does not implement this action)"
            self.fail(f"{action}: expected success, the issuer answered {code}: {message}{hint}")
        except BotoCoreError as e:
            self.fail(f"{action}: expected an answer from the issuer at {self.endpoint}: {e}")

    def refusal(self, action, **params):
        """The message of an action expected to fail; it failing to fail
        fails the test."""
        try:
            getattr(self.idp, method_name(action))(**params)
        except ClientError as e:
            return e.response.get("Error", {}).get("Message", "")
        self.fail(f"{action}: expected the issuer to refuse it; it accepted it")


# -- the browser --


def page_summary(driver, headings=False, limit=200, redact=True):
    """What the browser shows, for a failure line: the URL (its code and
    token parameters hidden, with redact), the title (or, with headings, the
    <h2>s) and the first limit characters of the text."""
    try:
        url = redacted_url(driver.current_url) if redact else driver.current_url
        if headings:
            label = f"(h2 {[h.text for h in driver.find_elements(By.TAG_NAME, 'h2')]})"
        else:
            label = f"titled {driver.title!r}"
        text = " ".join(driver.find_element(By.TAG_NAME, "body").text.split())
    except WebDriverException as e:
        return f"(the page could not be read: {e.msg})"
    if len(text) > limit:
        text = text[:limit] + "..."
    return f"the browser showed {url} {label}: {text!r}"


class Browser:
    """A started Chromium as one test sees it: the driver, the test's fail,
    how the test describes the page (page_summary's headings, limit and
    redact) and which exceptions a wait reads past."""

    def __init__(self, driver, fail, headings=False, limit=200, redact=True,
                 ignored=(StaleElementReferenceException,)):
        self.driver = driver
        self.fail = fail
        self.summary = {"headings": headings, "limit": limit, "redact": redact}
        self.ignored = ignored

    def shown(self):
        """What the browser shows (page_summary)."""
        return page_summary(self.driver, **self.summary)

    def wait_for(self, what, condition, timeout=WAIT):
        """Waits up to timeout seconds for condition(driver) to be truthy and
        returns it; else fails with what was expected and what is shown. A
        page replaced while it is read is read again at the next poll."""
        try:
            wait = WebDriverWait(self.driver, timeout, ignored_exceptions=self.ignored)
            return wait.until(lambda d: condition(d))
        except TimeoutException:
            self.fail(f"expected {what} within {timeout} s; {self.shown()}")


def children(pid):
    """The processes whose parent is pid (from /proc)."""
    found = []
    for entry in os.listdir("/proc"):
        try:
            with open(f"/proc/{entry}/stat") as f:
                stat = f.read()
        except OSError:
            continue
        if entry.isdigit() and stat.rpartition(")")[2].split()[1] == str(pid):
            found.append(entry)
    return found


def start_chromium(fail, browser_log=False):
    """Headless Chromium ($CHROMIUM) through chromedriver ($CHROMEDRIVER),
    1280x900, with a fresh profile in $BROWSER_WORK_DIR (or the temp dir),
    and with browser_log its console kept for driver.get_log("browser").
    Returns (driver, service, profile); if it does not start, fails."""
    profile = tempfile.mkdtemp(prefix="chromium-", dir=os.environ.get("BROWSER_WORK_DIR"))
    options = webdriver.ChromeOptions()
    options.binary_location = os.environ.get("CHROMIUM", "/usr/bin/chromium")
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage",
                f"--user-data-dir={profile}", "--window-size=1280,900"):
        options.add_argument(arg)
    if browser_log:
        options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    service = Service(executable_path=os.environ.get("CHROMEDRIVER", "/usr/bin/chromedriver"))
    try:
        driver = webdriver.Chrome(service=service, options=options)
    except WebDriverException as e:
        fail(f"expected headless Chromium to start through {service.path}: {first_line(e)}")
    return driver, service, profile


def record_pids(service):
    """Adds chromedriver's and Chromium's pids to $BROWSER_WORK_DIR/browser.pids,
    for browser-check.sh's trap, should this process die before it quits
    them. Returns the file (None without $BROWSER_WORK_DIR or /proc)."""
    work = os.environ.get("BROWSER_WORK_DIR")
    if not work or service.process is None or not os.path.isdir("/proc"):
        return None
    pidfile = os.path.join(work, "browser.pids")
    with open(pidfile, "a") as f:
        f.write(" ".join([str(service.process.pid)] + children(service.process.pid)) + "\n")
    return pidfile


def quit_chromium(driver, pidfile, profile):
    """Quits the browser, then removes its pid file and its profile."""
    try:
        driver.quit()
    except Exception:
        pass
    if pidfile and os.path.exists(pidfile):
        os.remove(pidfile)
    shutil.rmtree(profile, ignore_errors=True)


@contextlib.contextmanager
def chromium(fail, browser_log=False, **page):
    """Starts Chromium (start_chromium), records its pids, and yields a
    Browser (page: its headings, limit, redact and ignored). A
    WebDriverException from the block fails in one line with what the page
    shows; the browser is quit however the block ends."""
    driver, service, profile = start_chromium(fail, browser_log)
    browser = Browser(driver, fail, **page)
    pidfile = None
    try:
        pidfile = record_pids(service)
        driver.set_page_load_timeout(WAIT)
        yield browser
    except WebDriverException as e:
        fail(f"the browser failed: {first_line(e)}; {browser.shown()}")
    finally:
        quit_chromium(driver, pidfile, profile)


# -- another site --


@contextlib.contextmanager
def serving(page):
    """A server on a free loopback port, in a thread, answering every GET
    with the HTML page; yields its origin (http://127.0.0.1:PORT)."""
    body = page.encode()

    class Page(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Page)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
