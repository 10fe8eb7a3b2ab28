"""Each portal page's main flow in a real Chromium, against a real server; and what must be refused."""

import base64
import http.server
import os
import secrets
import subprocess
import tempfile
import threading
import time
import urllib.error
import urllib.request

import pytest
from selenium.common.exceptions import WebDriverException
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support import expected_conditions
from selenium.webdriver.support.ui import Select, WebDriverWait

from conftest import Registry, fingerprint, make_driver, ssh_keygen

HOSTILE = "<script>alert(1)</script>\"'&<b>x</b>"


def unique(prefix):
    return f"{prefix}-{secrets.token_hex(4)}"


def sign_in(driver, registry, token):
    driver.get(registry.url + "/")
    field = driver.find_element(By.ID, "token")
    field.send_keys(token)
    field.send_keys(Keys.ENTER)  # from the keyboard
    WebDriverWait(driver, 10).until(expected_conditions.presence_of_element_located((By.CSS_SELECTOR, "form.sign-out")))


def submit(driver, element, keys=None):
    """Clicks (or types `keys` into) `element` and waits for the page it sends the browser to."""
    driver.execute_script("window.__before = true")
    if keys is None:
        element.click()
    else:
        element.send_keys(keys)

    def new_page(d):
        # The old page's window carries the mark; the new one does not (mid-navigation, ask again).
        try:
            return d.execute_script("return document.readyState === 'complete' && window.__before === undefined")
        except WebDriverException:
            return False

    WebDriverWait(driver, 20).until(new_page)


def shot(driver, artifacts, name):
    driver.save_screenshot(os.path.join(artifacts, name + ".png"))


def page_error(driver):
    found = driver.find_elements(By.ID, "page-error")
    return found[0].text if found else ""


def no_script_ran(driver):
    """No alert opened and no console error from a blocked or injected script."""
    assert driver.execute_script("return window.__pwned === undefined")
    errors = [entry["message"] for entry in driver.get_log("browser") if entry["level"] == "SEVERE"]
    assert not errors, errors


def import_by_paste(driver, registry, name, text, project=None, sent=True):
    driver.get(registry.url + "/keys/new")
    driver.find_element(By.ID, "import-name").send_keys(name)
    area = driver.find_element(By.ID, "public-key")
    driver.execute_script("arguments[0].value = arguments[1];", area, text)
    if project:
        Select(driver.find_element(By.ID, "import-project")).select_by_visible_text(project)
    button = driver.find_element(By.CSS_SELECTOR, "#import-form button[type=submit]")
    if sent:
        submit(driver, button)
    else:
        button.click()


def project_with_key(registry, tmp_path, prefix):
    """A new project and a project key made by ssh-keygen: (project, key's identifier, key's name)."""
    _, project = registry.api("POST", "/v1/projects", {"name": unique(prefix)}, expect=201)
    path = ssh_keygen(tmp_path, prefix, "ed25519", "")
    name = unique(prefix)
    _, created = registry.api("POST", "/v1/ssh-keys", {"name": name, "public_key": open(path + ".pub").read(), "project": project["id"]},
                              expect=201)
    return project, created["key"]["id"], name


# MARK: Signing in and out


def test_sign_in_refuses_a_wrong_token_and_keeps_the_token_out_of_pages(registry, browser, artifacts):
    browser.get(registry.url + "/")
    shot(browser, artifacts, "sign-in")
    assert browser.find_element(By.ID, "token").get_attribute("type") == "password"
    submit(browser, browser.find_element(By.ID, "token"), "kft_" + "A" * 43 + Keys.ENTER)
    assert "unknown or revoked" in page_error(browser)
    sign_in(browser, registry, registry.admin)
    assert browser.current_url == registry.url + "/keys"
    assert registry.admin not in browser.page_source
    assert registry.admin not in browser.current_url
    cookie = browser.get_cookie("keyfleet-session")
    assert cookie["httpOnly"] and cookie["sameSite"] == "Strict"
    assert not cookie["value"].startswith("kft_")


def test_sign_out_ends_the_session_on_the_server(registry, browser):
    sign_in(browser, registry, registry.admin)
    cookie = browser.get_cookie("keyfleet-session")["value"]
    submit(browser, browser.find_element(By.CSS_SELECTOR, "form.sign-out button"))
    assert browser.find_elements(By.ID, "token")
    # The old cookie, replayed outside the browser, opens nothing.
    request = urllib.request.Request(registry.url + "/keys", headers={"Cookie": "keyfleet-session=" + cookie})
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request)
    assert refused.value.code == 401
    assert b"Sign in" in refused.value.read()


def test_an_idle_session_expires(artifacts):
    short = Registry("--session-idle-timeout", "2s")
    driver = make_driver()
    try:
        sign_in(driver, short, short.admin)
        time.sleep(3)
        driver.get(short.url + "/keys")
        assert driver.find_elements(By.ID, "token"), "the expired session still opened a page"
        assert "Sign in to continue" in driver.page_source
    finally:
        driver.quit()
        short.stop()


def test_revoking_the_session_token_ends_the_session(registry, browser):
    user, token = registry.user(unique("revoker"))
    sign_in(browser, registry, token)
    browser.get(registry.url + "/tokens")
    row = browser.find_element(By.XPATH, "//td[contains(., '(this session)')]/..")
    submit(browser, row.find_element(By.CSS_SELECTOR, "button"))
    assert browser.find_elements(By.ID, "token")
    status, _ = registry.api("GET", "/v1/users/me", token=token)
    assert status == 401


# MARK: SSH keys


def test_import_by_paste_lists_the_key_as_ssh_keygen_sees_it(registry, browser, artifacts, tmp_path):
    path = ssh_keygen(tmp_path, "laptop", "ecdsa", "alice@laptop", "-b", "384")
    name = unique("laptop")
    sign_in(browser, registry, registry.admin)
    shot(browser, artifacts, "key-new")
    import_by_paste(browser, registry, name, open(path + ".pub").read())
    assert f"Key {name} was imported" in browser.page_source
    browser.get(registry.url + "/keys?q=" + name)
    shot(browser, artifacts, "keys")
    cells = [cell.text for cell in browser.find_elements(By.CSS_SELECTOR, "tbody tr td")]
    assert cells[0] == name
    assert cells[1] == "ECDSA P-384"
    assert cells[2] == fingerprint(path + ".pub")
    assert cells[3] == "alice@laptop"
    # Filtering by type finds it; another type does not.
    browser.get(registry.url + "/keys?type=ecdsa-sha2-nistp384&q=" + name)
    assert len(browser.find_elements(By.CSS_SELECTOR, "tbody tr td a")) == 1
    browser.get(registry.url + "/keys?type=ssh-ed25519&q=" + name)
    assert "No keys match" in browser.page_source


@pytest.mark.parametrize("tool", ["openssh", "putty"])
def test_a_pasted_private_key_sends_only_its_public_half(registry, browser, tmp_path, tool):
    path = ssh_keygen(tmp_path, "secret", "ed25519", "mine")
    private_text = open(path).read()
    if tool == "putty":
        subprocess.run(["puttygen", path, "-O", "private", "-o", path + ".ppk", "--new-passphrase", "/dev/null"], check=True)
        private_text = open(path + ".ppk").read()
    name = unique("pasted")
    sign_in(browser, registry, registry.admin)
    import_by_paste(browser, registry, name, private_text)
    text = browser.page_source
    assert "this browser sent only its public half" in text
    # The server's own warning appears only when it receives a private key: it did not.
    assert "private key was submitted" not in text
    assert "PRIVATE KEY" not in text and "Private-Lines" not in text
    stored = registry.keys(name=name)
    assert [key["fingerprint_sha256"] for key in stored] == [fingerprint(path + ".pub")]


def test_a_private_key_without_a_readable_public_half_is_not_sent(registry, browser, tmp_path):
    path = ssh_keygen(tmp_path, "pem", "rsa", "", "-b", "2048", "-m", "PKCS8")
    name = unique("pkcs8")
    before = len(registry.keys())
    sign_in(browser, registry, registry.admin)
    import_by_paste(browser, registry, name, open(path).read(), sent=False)
    assert "choose the matching .pub file" in browser.find_element(By.ID, "private-key-note").text
    assert browser.current_url.endswith("/keys/new"), "the form was sent"
    assert browser.find_element(By.ID, "public-key").get_attribute("value") == ""
    assert len(registry.keys()) == before


def test_an_uploaded_ppk_is_read_in_the_browser(registry, browser, tmp_path):
    ppk = os.path.join(tmp_path, "putty.ppk")
    subprocess.run(["puttygen", "-t", "ed25519", "-C", "putty-made", "-o", ppk, "--new-passphrase", "/dev/null"], check=True)
    public = subprocess.run(["puttygen", ppk, "-O", "public-openssh"], check=True, capture_output=True, text=True).stdout
    open(ppk + ".pub", "w").write(public)
    name = unique("upload")
    sign_in(browser, registry, registry.admin)
    browser.get(registry.url + "/keys/new")
    browser.find_element(By.ID, "import-name").send_keys(name)
    browser.find_element(By.ID, "key-file").send_keys(ppk)
    WebDriverWait(browser, 10).until(lambda d: d.find_element(By.ID, "public-key").get_attribute("value").startswith("ssh-ed25519 "))
    submit(browser, browser.find_element(By.CSS_SELECTOR, "#import-form button[type=submit]"))
    assert f"Key {name} was imported" in browser.page_source
    assert [key["fingerprint_sha256"] for key in registry.keys(name=name)] == [fingerprint(ppk + ".pub")]


def test_without_script_the_server_keeps_only_the_public_half(registry, tmp_path):
    path = ssh_keygen(tmp_path, "noscript", "ed25519", "")
    name = unique("noscript")
    session, form_token = session_without_browser(registry, registry.admin)
    boundary = "----keyfleet" + secrets.token_hex(8)
    fields = {"csrf": form_token, "name": name, "public_key": open(path).read(), "project": "", "expires": ""}
    body = "".join(f"--{boundary}\r\nContent-Disposition: form-data; name=\"{k}\"\r\n\r\n{v}\r\n" for k, v in fields.items())
    body += f"--{boundary}--\r\n"
    status, page = post(registry, "/keys/import", body.encode(), session, "multipart/form-data; boundary=" + boundary, follow=True)
    assert status == 200, page
    assert "only its public key was kept" in page
    assert "PRIVATE KEY" not in page
    assert [key["fingerprint_sha256"] for key in registry.keys(name=name)] == [fingerprint(path + ".pub")]


def test_refusals_are_shown_next_to_the_field_and_nothing_is_stored(registry, browser, tmp_path):
    path = ssh_keygen(tmp_path, "weak", "rsa", "", "-b", "1024")
    sign_in(browser, registry, registry.admin)
    before = len(registry.keys())
    import_by_paste(browser, registry, unique("weak"), open(path + ".pub").read())
    assert "1024" in browser.find_element(By.ID, "public-key-error").text
    import_by_paste(browser, registry, unique("junk"), "ssh-ed25519 AAAAnotakey")
    assert browser.find_element(By.ID, "public-key-error").text
    good = ssh_keygen(tmp_path, "good", "ed25519", "")
    first = unique("first")
    import_by_paste(browser, registry, first, open(good + ".pub").read())
    import_by_paste(browser, registry, unique("again"), open(good + ".pub").read())
    assert first in browser.find_element(By.ID, "public-key-error").text, "the duplicate's refusal names the existing key"
    assert len(registry.keys()) == before + 1


def test_generate_offers_the_private_key_once(registry, browser, artifacts, tmp_path):
    sign_in(browser, registry, registry.admin)
    for key_format in ["openssh", "ppk"]:
        name = unique("generated")
        browser.get(registry.url + "/keys/new")
        browser.find_element(By.ID, "generate-name").send_keys(name)
        Select(browser.find_element(By.ID, "generate-type")).select_by_value("ecdsa-256")
        browser.find_element(By.CSS_SELECTOR, f"input[name=format][value={key_format}]").click()
        submit(browser, browser.find_element(By.CSS_SELECTOR, "form[action='/keys/generate'] button"))
        assert "Shown once" in browser.page_source
        shot(browser, artifacts, "key-generated-" + key_format)
        link = browser.find_element(By.ID, "private-key-download")
        private = base64.b64decode(link.get_attribute("href").split(",", 1)[1]).decode()
        key_file = os.path.join(tmp_path, name)
        with open(key_file, "w") as file:
            file.write(private)
        os.chmod(key_file, 0o600)
        if key_format == "ppk":
            assert link.get_attribute("download") == name + ".ppk"
            public = subprocess.run(["puttygen", key_file, "-O", "public-openssh"], check=True, capture_output=True, text=True).stdout
        else:
            public = subprocess.run(["ssh-keygen", "-y", "-f", key_file], check=True, capture_output=True, text=True).stdout
        shown = browser.find_element(By.ID, "public-key").get_attribute("value")
        assert public.split()[:2] == shown.split()[:2]
        # No later page shows it again.
        browser.get(registry.url + "/keys/" + registry.keys(name=name)[0]["id"])
        assert private.splitlines()[1] not in browser.page_source
        browser.back()
        assert "PRIVATE KEY" not in browser.page_source or "Shown once" not in browser.page_source


def test_delete_says_which_hosts_lose_access(registry, browser, artifacts, tmp_path):
    project, key_id, name = project_with_key(registry, tmp_path, "deploy")
    host_name = unique("web")
    registry.api("POST", "/v1/hosts", {"name": host_name, "project": project["id"], "logins": ["ubuntu"]}, expect=201)
    sign_in(browser, registry, registry.admin)
    browser.get(registry.url + "/keys/" + key_id)
    shot(browser, artifacts, "key")
    reached = browser.find_element(By.XPATH, "//h2[.='Hosts it reaches']/following-sibling::ul").text
    assert host_name in reached and "ubuntu" in reached
    assert "takes it off the hosts above" in browser.page_source
    submit(browser, browser.find_element(By.CSS_SELECTOR, "form.danger button"))
    assert f"Key {name} was deleted" in browser.page_source
    assert registry.keys(name=name) == []


def test_keys_are_paged(registry, browser, tmp_path):
    _, project = registry.api("POST", "/v1/projects", {"name": unique("many")}, expect=201)
    for index in range(55):
        path = ssh_keygen(tmp_path, f"k{index}", "ed25519", "")
        registry.api("POST", "/v1/ssh-keys", {"name": f"k{index}", "public_key": open(path + ".pub").read(), "project": project["id"]},
                     expect=201)
    sign_in(browser, registry, registry.admin)
    browser.get(registry.url + "/keys?project=" + project["id"])
    first = [a.text for a in browser.find_elements(By.CSS_SELECTOR, "tbody td a")]
    submit(browser, browser.find_element(By.CSS_SELECTOR, "a[rel=next]"))
    second = [a.text for a in browser.find_elements(By.CSS_SELECTOR, "tbody td a")]
    assert len(first) == 50 and len(second) == 5
    assert sorted(first + second) == sorted(f"k{index}" for index in range(55))


# MARK: Hostile text


def test_hostile_text_in_every_field_is_shown_as_text(registry, browser, artifacts, tmp_path):
    """Markup in names and comments is text on every page that shows it; no script runs."""
    hostile = HOSTILE.replace("1", "window.__pwned=1")[:60]
    _, project = registry.api("POST", "/v1/projects", {"name": hostile[:58] + "p"}, expect=201)
    user, _ = registry.user(hostile[:58] + "u")
    registry.api("PUT", f"/v1/projects/{project['id']}/members/{user['id']}", {"role": "member"}, expect=200)
    path = ssh_keygen(tmp_path, "hostile", "ed25519", hostile)
    _, key = registry.api("POST", "/v1/ssh-keys", {"name": hostile[:58] + "k", "public_key": open(path + ".pub").read(),
                                                   "project": project["id"]}, expect=201)
    _, created = registry.api("POST", "/v1/hosts", {"name": hostile[:58] + "h", "project": project["id"], "logins": ["ubuntu"]},
                              expect=201)
    _, cluster = registry.api("POST", "/v1/clusters", {"name": hostile[:58] + "c", "project": project["id"], "keys": [key["key"]["id"]]},
                              expect=201)
    sign_in(browser, registry, registry.admin)
    pages = {"keys": "/keys", "key": "/keys/" + key["key"]["id"], "project": "/projects/" + project["id"], "projects": "/projects",
             "host": "/hosts/" + created["host"]["id"], "hosts": "/hosts", "cluster": "/clusters/" + cluster["id"], "clusters": "/clusters",
             "audit": "/audit?object=" + project["id"]}
    for name, path in pages.items():
        browser.get(registry.url + path)
        assert hostile[:58] in browser.find_element(By.TAG_NAME, "main").text, f"{name} does not show the text as text"
        assert not browser.find_elements(By.CSS_SELECTOR, "main script, main b"), f"{name} made markup of it"
        no_script_ran(browser)
        shot(browser, artifacts, "hostile-" + name)


# MARK: Forged and cross-site posts


def session_without_browser(registry, token):
    """Signs in with urllib; returns the session cookie and the form token of its pages."""
    opener = urllib.request.build_opener(NoRedirect)
    request = urllib.request.Request(registry.url + "/sign-in", data=f"token={token}".encode(), method="POST")
    request.add_header("Content-Type", "application/x-www-form-urlencoded")
    with pytest.raises(urllib.error.HTTPError) as redirect:
        opener.open(request)
    assert redirect.value.code == 303
    cookie = redirect.value.headers["Set-Cookie"].split(";")[0]
    page = urllib.request.urlopen(urllib.request.Request(registry.url + "/tokens", headers={"Cookie": cookie})).read().decode()
    form_token = page.split('name="csrf" value="')[1].split('"')[0]
    return cookie, form_token


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def post(registry, path, body, cookie, content_type="application/x-www-form-urlencoded", headers=None, follow=False):
    request = urllib.request.Request(registry.url + path, data=body, method="POST")
    request.add_header("Content-Type", content_type)
    request.add_header("Cookie", cookie)
    for name, value in (headers or {}).items():
        request.add_header(name, value)
    opener = urllib.request.build_opener() if follow else urllib.request.build_opener(NoRedirect)
    try:
        with opener.open(request) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def test_a_cross_site_form_post_is_refused_and_stores_nothing(registry, browser, artifacts):
    """A page on another site (localhost, not 127.0.0.1) posts a form to the portal while the user is signed in."""
    name = unique("forged")
    attacker_page = f"""<!doctype html><form id=f method=post action="{registry.url}/projects">
        <input name=name value="{name}"><input name=csrf value=guess></form><script>document.getElementById('f').submit()</script>"""

    class Attacker(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.end_headers()
            self.wfile.write(attacker_page.encode())

        def log_message(self, *args):
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Attacker)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        sign_in(browser, registry, registry.admin)
        browser.get(f"http://localhost:{server.server_port}/")
        WebDriverWait(browser, 10).until(lambda d: d.current_url.startswith(registry.url))
        assert "sent from another site" in browser.page_source
        shot(browser, artifacts, "cross-site-refused")
    finally:
        server.shutdown()
    _, projects = registry.api("GET", "/v1/projects?limit=1000", expect=200)
    assert name not in [project["name"] for project in projects["items"]]
    # The same refusal for a same-site but cross-origin Origin, and for a forged form token.
    cookie, form_token = session_without_browser(registry, registry.admin)
    body = f"name={name}&csrf={form_token}".encode()
    assert post(registry, "/projects", body, cookie, headers={"Origin": "http://127.0.0.1:1"})[0] == 403
    assert post(registry, "/projects", body, cookie, headers={"Sec-Fetch-Site": "same-site"})[0] == 403
    assert post(registry, "/projects", f"name={name}&csrf=kff_guess".encode(), cookie)[0] == 403
    _, projects = registry.api("GET", "/v1/projects?limit=1000", expect=200)
    assert name not in [project["name"] for project in projects["items"]]


def test_a_viewer_sees_no_write_controls_and_a_forged_write_is_refused(registry, browser, artifacts):
    _, project = registry.api("POST", "/v1/projects", {"name": unique("watched")}, expect=201)
    viewer, token = registry.user(unique("viewer"))
    registry.api("PUT", f"/v1/projects/{project['id']}/members/{viewer['id']}", {"role": "viewer"}, expect=200)
    registry.api("POST", "/v1/hosts", {"name": unique("db"), "project": project["id"], "logins": ["postgres"]}, expect=201)
    sign_in(browser, registry, token)
    browser.get(registry.url + "/projects/" + project["id"])
    shot(browser, artifacts, "project-as-viewer")
    assert not browser.find_elements(By.CSS_SELECTOR, "main form"), "a viewer sees a write control"
    browser.get(registry.url + "/hosts")
    assert not browser.find_elements(By.CSS_SELECTOR, "form[action='/hosts']")
    # The forged write: the viewer's own session and form token, a post the page never offered.
    form_token = browser.find_element(By.CSS_SELECTOR, "form.sign-out input[name=csrf]").get_attribute("value")
    status = browser.execute_async_script(
        """const done = arguments[arguments.length - 1];
        fetch('/projects/' + arguments[0] + '/members', {method: 'POST', headers: {'Content-Type': 'application/x-www-form-urlencoded'},
          body: 'csrf=' + encodeURIComponent(arguments[1]) + '&user=' + encodeURIComponent(arguments[2]) + '&role=owner'})
          .then(r => done(r.status));""", project["id"], form_token, viewer["name"])
    assert status == 403
    _, after = registry.api("GET", "/v1/projects/" + project["id"], expect=200)
    assert [m["role"] for m in after["members"] if m["user"] == viewer["id"]] == ["viewer"]


def test_a_read_only_token_sees_no_write_controls(registry, browser):
    _, token = registry.user(unique("reader"), scope="read-only")
    sign_in(browser, registry, token)
    assert "(read-only)" in browser.find_element(By.CSS_SELECTOR, ".who").text
    assert not browser.find_elements(By.CSS_SELECTOR, "a[href='/keys/new']")
    cookie, form_token = session_without_browser(registry, token)
    status, page = post(registry, "/projects", f"name={unique('ro')}&csrf={form_token}".encode(), cookie)
    assert status == 403 and "may only read" in page


# MARK: Projects, hosts, clusters, audit, tokens


def test_projects_create_add_and_remove_a_member(registry, browser, artifacts):
    member, _ = registry.user(unique("bob"))
    name = unique("team")
    sign_in(browser, registry, registry.admin)
    browser.get(registry.url + "/projects")
    submit(browser, browser.find_element(By.ID, "project-name"), name + Keys.ENTER)
    assert f"Project {name}" in browser.find_element(By.TAG_NAME, "h1").text
    browser.find_element(By.ID, "member-name").send_keys(member["name"])
    Select(browser.find_element(By.ID, "member-role")).select_by_value("viewer")
    submit(browser, browser.find_element(By.CSS_SELECTOR, "form[action$='/members'] button"))
    assert f"{member['name']} is now viewer" in browser.page_source
    shot(browser, artifacts, "project")
    submit(browser, browser.find_element(By.CSS_SELECTOR, f"button[aria-label='Remove {member['name']}']"))
    assert "The member was removed" in browser.page_source
    browser.get(registry.url + "/projects")
    shot(browser, artifacts, "projects")
    assert name in browser.find_element(By.TAG_NAME, "table").text


def test_a_new_host_gets_user_data_that_cloud_init_accepts(registry, browser, artifacts, tmp_path):
    _, project = registry.api("POST", "/v1/projects", {"name": unique("fleet")}, expect=201)
    name = unique("app")
    sign_in(browser, registry, registry.admin)
    browser.get(registry.url + "/hosts")
    browser.find_element(By.ID, "host-name").send_keys(name)
    Select(browser.find_element(By.ID, "host-project")).select_by_visible_text(project["name"])
    browser.find_element(By.ID, "host-logins").send_keys("ubuntu deploy")
    submit(browser, browser.find_element(By.CSS_SELECTOR, "form[action='/hosts'] button"))
    assert "Shown once" in browser.page_source
    shot(browser, artifacts, "host-created")
    token = browser.find_element(By.ID, "enrollment-token").get_attribute("value")
    user_data = browser.find_element(By.ID, "user-data").get_attribute("value")
    assert token.startswith("kfe_") and token in user_data
    path = os.path.join(tmp_path, "user-data.yaml")
    open(path, "w").write(user_data)
    subprocess.run(["cloud-init", "schema", "--config-file", path], check=True, capture_output=True)
    submit(browser, browser.find_element(By.LINK_TEXT, "See the host"))
    shot(browser, artifacts, "host")
    logins = [section.get_attribute("aria-label") for section in browser.find_elements(By.CSS_SELECTOR, "section.login")]
    assert logins == ["Login ubuntu", "Login deploy"]
    assert "The project's keys apply" in browser.page_source
    agent = browser.find_element(By.XPATH, "//h2[.='Agent']/following-sibling::dl").text
    assert "Enrolled\nno" in agent and "not reported yet" in agent
    assert token not in browser.page_source
    browser.get(registry.url + "/hosts")
    shot(browser, artifacts, "hosts")


def test_cluster_page_shows_hosts_and_who_can_log_in(registry, browser, artifacts, tmp_path):
    project, key_id, key_name = project_with_key(registry, tmp_path, "ops")
    _, cluster = registry.api("POST", "/v1/clusters", {"name": unique("workers"), "project": project["id"], "keys": [key_id]},
                              expect=201)
    host_name = unique("worker")
    _, host = registry.api("POST", "/v1/hosts", {"name": host_name, "project": project["id"], "logins": ["root"], "cluster": cluster["id"]},
                           expect=201)
    sign_in(browser, registry, registry.admin)
    browser.get(registry.url + "/clusters")
    shot(browser, artifacts, "clusters")
    submit(browser, browser.find_element(By.LINK_TEXT, cluster["name"]))
    shot(browser, artifacts, "cluster")
    section = browser.find_element(By.CSS_SELECTOR, f"section[aria-label='Host {host_name}']").text
    assert "root" in section and key_name in section and "cluster" in section


def test_audit_log_filters_by_object_type(registry, browser, artifacts, tmp_path):
    path = ssh_keygen(tmp_path, "audited", "ed25519", "")
    registry.api("POST", "/v1/ssh-keys", {"name": unique("audited"), "public_key": open(path + ".pub").read()}, expect=201)
    sign_in(browser, registry, registry.admin)
    browser.get(registry.url + "/audit")
    Select(browser.find_element(By.ID, "object-type")).select_by_value("key")
    submit(browser, browser.find_element(By.CSS_SELECTOR, "form.filters button"))
    shot(browser, artifacts, "audit")
    actions = [cell.text for cell in browser.find_elements(By.CSS_SELECTOR, "tbody tr td:nth-child(4)")]
    assert actions and all(action.startswith("key.") for action in actions)
    browser.find_element(By.CSS_SELECTOR, "tbody details summary").click()
    assert "fingerprint" in browser.find_element(By.CSS_SELECTOR, "tbody details").text


def test_tokens_create_shows_the_secret_once_and_revoke_works(registry, browser, artifacts):
    sign_in(browser, registry, registry.admin)
    browser.get(registry.url + "/tokens")
    shot(browser, artifacts, "tokens")
    Select(browser.find_element(By.ID, "scope")).select_by_value("read-only")
    submit(browser, browser.find_element(By.CSS_SELECTOR, "form[action='/tokens'] button"))
    secret = browser.find_element(By.ID, "secret").get_attribute("value")
    token_id = browser.find_element(By.CSS_SELECTOR, "label[for=secret]").text.split()[3]
    shot(browser, artifacts, "token-created")
    status, me = registry.api("GET", "/v1/users/me", token=secret)
    assert status == 200
    browser.get(registry.url + "/tokens")
    assert secret not in browser.page_source
    submit(browser, browser.find_element(By.CSS_SELECTOR, f"button[aria-label='Revoke token {token_id}']"))
    assert f"Token {token_id} was revoked" in browser.page_source
    assert registry.api("GET", "/v1/users/me", token=secret)[0] == 401


# MARK: Headers, keyboard, phone


def test_every_page_has_the_strict_policy_and_fits_a_phone(registry, browser, artifacts):
    sign_in(browser, registry, registry.admin)
    browser.set_window_size(390, 844)
    cookie, _ = session_without_browser(registry, registry.admin)
    for path in ["/keys", "/keys/new", "/projects", "/hosts", "/clusters", "/audit", "/tokens"]:
        with urllib.request.urlopen(urllib.request.Request(registry.url + path, headers={"Cookie": cookie})) as response:
            headers = response.headers
        assert headers["Content-Security-Policy"] == (
            "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; "
            "form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
        assert headers["X-Content-Type-Options"] == "nosniff" and headers["Referrer-Policy"] == "same-origin"
        assert headers["Cache-Control"] == "no-store"
        browser.get(registry.url + path)
        overflow = browser.execute_script("return document.documentElement.scrollWidth - window.innerWidth")
        wide = browser.execute_script(
            """return [...document.querySelectorAll('body *')].filter(e => !e.closest('.table-wrap'))
                 .filter(e => e.getBoundingClientRect().right > window.innerWidth + 1).map(e => e.tagName + '#' + e.id + '.' + e.className)""")
        assert overflow <= 0, f"{path} is {overflow}px wider than a phone: {wide[:8]}"
        unlabeled = browser.execute_script(
            """return [...document.querySelectorAll('input:not([type=hidden]), select, textarea')]
                 .filter(e => !(e.labels && e.labels.length) && !e.closest('label')).map(e => e.name || e.id)""")
        assert unlabeled == [], f"{path}: fields without a label: {unlabeled}"
        no_script_ran(browser)
        shot(browser, artifacts, "phone" + path.replace("/", "-"))


def test_sign_in_and_navigation_work_from_the_keyboard(registry, browser):
    browser.get(registry.url + "/")
    body = browser.find_element(By.TAG_NAME, "body")
    body.send_keys(Keys.TAB)  # the skip link
    body.send_keys(Keys.TAB)
    active = browser.switch_to.active_element
    for _ in range(5):
        if active.get_attribute("id") == "token":
            break
        active.send_keys(Keys.TAB)
        active = browser.switch_to.active_element
    assert active.get_attribute("id") == "token"
    active.send_keys(registry.admin + Keys.ENTER)
    WebDriverWait(browser, 10).until(expected_conditions.url_contains("/keys"))
    links = browser.find_elements(By.CSS_SELECTOR, "header nav a")
    assert [link.text for link in links] == ["SSH keys", "Projects", "Hosts", "Clusters", "Audit log", "Tokens"]
    links[1].send_keys(Keys.ENTER)
    WebDriverWait(browser, 10).until(expected_conditions.url_contains("/projects"))


def test_keys_filter_by_owner_name(registry, browser, tmp_path):
    carol, token = registry.user(unique("carol"))
    path = ssh_keygen(tmp_path, "carol", "ed25519", "")
    name = unique("carols")
    registry.api("POST", "/v1/ssh-keys", {"name": name, "public_key": open(path + ".pub").read()}, token=token, expect=201)
    sign_in(browser, registry, registry.admin)
    browser.get(registry.url + "/keys?owner=" + carol["name"])
    assert [a.text for a in browser.find_elements(By.CSS_SELECTOR, "tbody td a")] == [name]
    browser.get(registry.url + "/keys?owner=nobody-" + secrets.token_hex(4))
    assert "No user is named" in page_error(browser)


def test_delete_confirmation_says_when_another_record_keeps_the_key(registry, browser, tmp_path):
    _, project = registry.api("POST", "/v1/projects", {"name": unique("shared")}, expect=201)
    member, token = registry.user(unique("dana"))
    registry.api("PUT", f"/v1/projects/{project['id']}/members/{member['id']}", {"role": "member"}, expect=200)
    path = ssh_keygen(tmp_path, "same", "ed25519", "")
    line = open(path + ".pub").read()
    _, project_key = registry.api("POST", "/v1/ssh-keys", {"name": unique("team"), "public_key": line, "project": project["id"]},
                                  expect=201)
    registry.api("POST", "/v1/ssh-keys", {"name": unique("own"), "public_key": line}, token=token, expect=201)
    host_name = unique("edge")
    registry.api("POST", "/v1/hosts", {"name": host_name, "project": project["id"], "logins": ["ubuntu"]}, expect=201)
    sign_in(browser, registry, registry.admin)
    browser.get(registry.url + "/keys/" + project_key["key"]["id"])
    reached = browser.find_element(By.XPATH, "//h2[.='Hosts it reaches']/following-sibling::ul").text
    assert host_name in reached and "this login keeps it" in reached


CONTRAST_SCRIPT = """
function channels(color) { return color.match(/[\\d.]+/g).map(Number); }
function luminance(rgb) {
  const [r, g, b] = rgb.slice(0, 3).map(v => { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); });
  return 0.2126 * r + 0.7152 * g + 0.0722 * b;
}
function background(element) {
  for (let e = element; e; e = e.parentElement) {
    const c = channels(getComputedStyle(e).backgroundColor);
    if (c.length < 4 || c[3] > 0) return c;
  }
  return [255, 255, 255];
}
const low = [];
for (const e of document.querySelectorAll('body *')) {
  if (![...e.childNodes].some(n => n.nodeType === 3 && n.textContent.trim())) continue;
  const box = e.getBoundingClientRect();
  if (box.width === 0 || box.height === 0 || getComputedStyle(e).visibility === 'hidden') continue;
  const a = luminance(channels(getComputedStyle(e).color)), b = luminance(background(e));
  const ratio = (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
  if (ratio < 4.5) low.push(e.tagName + ' ' + e.textContent.trim().slice(0, 30) + ' ' + ratio.toFixed(2));
}
return low;
"""


def test_every_page_has_readable_contrast(registry, browser):
    """WCAG AA for body text: at least 4.5:1 between each piece of text and what is behind it."""
    sign_in(browser, registry, registry.admin)
    for path in ["/keys", "/keys/new", "/projects", "/hosts", "/clusters", "/audit", "/tokens"]:
        browser.get(registry.url + path)
        low = browser.execute_script(CONTRAST_SCRIPT)
        assert low == [], f"{path}: text below 4.5:1: {low[:5]}"


def test_with_more_projects_than_a_list_holds_pages_take_a_project_name(tmp_path):
    """Past 200 projects, filters and forms ask for a project's name instead of listing every project."""
    crowded = Registry()
    driver = make_driver()
    try:
        names = [unique("p") for _ in range(201)]
        ids = {}
        for name in names:
            ids[name] = crowded.api("POST", "/v1/projects", {"name": name}, expect=201)[1]["id"]
        target = names[137]
        path = ssh_keygen(tmp_path, "crowd", "ed25519", "")
        sign_in(driver, crowded, crowded.admin)
        driver.get(crowded.url + "/keys/new")
        field = driver.find_element(By.ID, "import-project")
        assert field.tag_name == "input"
        driver.find_element(By.ID, "import-name").send_keys("crowded")
        driver.execute_script("arguments[0].value = arguments[1];", driver.find_element(By.ID, "public-key"), open(path + ".pub").read())
        field.send_keys(target)
        submit(driver, driver.find_element(By.CSS_SELECTOR, "#import-form button[type=submit]"))
        assert "Key crowded was imported" in driver.page_source
        assert [key["owner"]["id"] for key in crowded.keys(name="crowded")] == [ids[target]]
        # The filter by name finds it; an unknown name says so.
        driver.get(crowded.url + "/keys?project_name=" + target)
        assert [a.text for a in driver.find_elements(By.CSS_SELECTOR, "tbody td a")] == ["crowded"]
        driver.get(crowded.url + "/keys?project_name=" + names[0])
        assert "No keys match" in driver.page_source
        driver.get(crowded.url + "/keys?project_name=nothing-" + secrets.token_hex(4))
        assert "no project named" in page_error(driver)
        # A host is created in a project named by hand.
        driver.get(crowded.url + "/hosts")
        driver.find_element(By.ID, "host-name").send_keys("crowded-host")
        driver.find_element(By.ID, "host-project").send_keys(target)
        submit(driver, driver.find_element(By.CSS_SELECTOR, "form[action='/hosts'] button"))
        assert "Shown once" in driver.page_source
    finally:
        driver.quit()
        crowded.stop()
