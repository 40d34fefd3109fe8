"""The web pages: server-rendered checks with the test client, then the whole applicant and
reviewer flow in Debian's chromium (Playwright) against the real API served by uvicorn, a
real worker on Redis db 9 and the real OCR pipeline. The browser test saves the screenshots
in docs/screenshots/ that the README shows."""

from __future__ import annotations

import base64
import re
import socket
import threading
import time
from html.parser import HTMLParser
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from redis import Redis

from loandocs.api import auth, create_app
from loandocs.config import Settings
from loandocs.samplegen.bundle import application_bundle
from loandocs.services import Services, set_services
from loandocs.worker.runner import run_worker

from .helpers import staff_token
from .test_review_api import ACCOUNT, ID_NUMBER, REDIS_URL, front, materials, seed_application, statement

ROOT = Path(__file__).resolve().parent.parent
SHOTS = ROOT / "docs" / "screenshots"
CHROMIUM = "/usr/bin/chromium"
MASKED_ID = ID_NUMBER[:6] + "********" + ID_NUMBER[-4:]


@pytest.fixture
def site(tmp_path):
    r = Redis.from_url(REDIS_URL)
    r.flushdb()
    services = Services(Settings(data_dir=tmp_path / "data", redis_url=REDIS_URL))
    tokens = {"reviewer": staff_token(services, "reviewer", name="李审核"),
              "admin": staff_token(services, "admin", name="管理员甲")}
    with TestClient(create_app(services), raise_server_exceptions=False, follow_redirects=False) as client:
        yield services, client, tokens
    services.engine.dispose()
    r.flushdb()


def _signed_in(client: TestClient, token: str) -> str:
    client.cookies.set(auth.SESSION_COOKIE, token)
    return auth.csrf_token_for(token)


class _Controls(HTMLParser):
    """Form controls and the ids that <label for> names."""

    def __init__(self) -> None:
        super().__init__()
        self.controls: list[dict] = []
        self.labelled: set[str] = set()

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag in ("input", "select", "textarea") and a.get("type") != "hidden":
            self.controls.append(a)
        if tag == "label" and a.get("for"):
            self.labelled.add(a["for"])


def _unlabelled(html: str) -> list[dict]:
    p = _Controls()
    p.feed(html)
    return [c for c in p.controls if c.get("id") not in p.labelled]


def test_pages_send_strangers_to_sign_in(site):
    services, client, tokens = site
    app = seed_application(services, materials())
    for path in ("/review", f"/review/applications/{app['id']}"):
        r = client.get(path)
        assert r.status_code == 303 and r.headers["location"].startswith("/review/login?next=" + path), path
    r = client.get(f"/apply/{app['id']}")
    assert r.status_code == 303 and r.headers["location"].startswith("/apply/login")
    # An applicant's session on a reviewer page: sent to sign in as a reviewer, not shown JSON.
    _signed_in(client, app["token"])
    r = client.get("/review")
    assert r.status_code == 303 and "wrong_role=1" in r.headers["location"]
    # The JSON API keeps answering JSON.
    client.cookies.clear()
    assert client.get("/v1/review/queue").json()["error"]["code"] == "auth_required"


def test_sign_in_forms(site):
    services, client, tokens = site
    r = client.post("/review/login", data={"token": "nope", "next": "/review"})
    assert r.status_code == 401 and "令牌无效" in r.text
    r = client.post("/review/login", data={"token": tokens["reviewer"], "next": "https://evil.example/"})
    assert r.status_code == 303 and r.headers["location"] == "/review"  # no open redirect
    assert "httponly" in r.headers["set-cookie"].lower() and "samesite=strict" in r.headers["set-cookie"].lower()
    # Another site cannot sign a visitor in (login CSRF).
    r = client.post("/review/login", data={"token": tokens["reviewer"]}, headers={"Origin": "https://evil.example"})
    assert r.status_code == 403 and r.json()["error"]["code"] == "csrf_failed"
    app = seed_application(services, None)
    r = client.post("/apply/login", data={"token": tokens["reviewer"]})
    assert r.status_code == 401  # a staff token is not an applicant's key
    r = client.post("/apply/login", data={"token": app["token"]})
    assert r.status_code == 303 and r.headers["location"] == f"/apply/{app['id']}"
    r = client.post("/apply", data={"applicant_name": "王芳", "loan_type": "personal_consumer", "amount": "1000",
                                    "term_months": "12"})
    assert r.status_code == 422 and "勾选同意" in r.text  # no consent, no application

    # Signing out is a change: a cookie session needs its CSRF token for it too.
    client.cookies.set(auth.SESSION_COOKIE, tokens["reviewer"])
    assert client.post("/review/logout").json()["error"]["code"] == "csrf_failed"
    r = client.post("/review/logout", data={"csrf_token": auth.csrf_token_for(tokens["reviewer"])})
    assert r.status_code == 303 and r.headers["location"] == "/review/login"
    assert f'{auth.SESSION_COOKIE}=""' in r.headers["set-cookie"] and "Max-Age=0" in r.headers["set-cookie"]


def test_review_page_shows_boxes_broken_rows_income_and_masks_for_admins(site):
    services, client, tokens = site
    app = seed_application(services, materials(front=front(name_confidence=0.5), statement=statement(broken_row=3)))
    _signed_in(client, tokens["reviewer"])
    page = client.get(f"/review/applications/{app['id']}")
    assert page.headers["content-security-policy"].startswith("default-src 'self'")
    html = page.text
    assert not _unlabelled(html)
    front_doc = app["docs"][0]
    # Every field of the ID card has its box on the page image, keyed like the field row.
    for name in ("name", "sex", "ethnicity", "birth_date", "address", "id_number"):
        key = f"{front_doc}-0-{name}"
        assert '<rect class="box field' in html and f'data-key="{key}"' in html
        assert re.search(rf'<li class="field[^"]*" data-key="{key}"', html), name
    assert f'src="/v1/documents/{front_doc}/pages/0/1.jpg"' in html and 'viewBox="0 0 1100 694"' in html
    # The low-confidence name is marked; the broken statement row is highlighted.
    assert re.search(rf'<li class="field low" data-key="{front_doc}-0-name"', html)
    rows = re.findall(r'<tr class="txn( broken)?" data-key="[^"]+-t(\d+)"', html)
    # A tampered balance breaks its own row and the next one (which follows from it).
    assert len(rows) == 14 and [int(i) for flag, i in rows if flag] == [3, 4]
    assert "2 行余额不连贯" in html
    income = re.search(r'id="income".*?</section>', html, re.S).group(0)
    assert "20,000.00" in income and "17,000.00" in income and "15%" in income
    assert ID_NUMBER in html and ACCOUNT in html  # reviewers see identifiers in full
    assert "领取审核" in html and "审核通过" not in html.split('id="decision"')[1].split("</section>")[0]

    client.cookies.clear()
    _signed_in(client, tokens["admin"])
    admin = client.get(f"/review/applications/{app['id']}").text
    assert ID_NUMBER not in admin and ACCOUNT not in admin and MASKED_ID in admin
    assert 'id="decision"' not in admin and "修改</button>" not in admin  # admins look, reviewers act

    queue = client.get("/review").text
    assert MASKED_ID in queue and ID_NUMBER not in queue and not _unlabelled(queue)
    assert client.get("/review?flag=balance_inconsistent").text.count("/review/applications/") == 1


def test_pages_name_checks_in_chinese_with_iso_dates_and_zoned_times(site):
    services, client, tokens = site
    app = seed_application(services, materials(front=front(name_confidence=0.5), statement=statement(broken_row=3)))
    _signed_in(client, tokens["reviewer"])
    html = client.get(f"/review/applications/{app['id']}").text
    # Check codes show by their Chinese names, the code on hover; never as bare text.
    for code, name in (("balance_inconsistent", "流水余额不连贯"), ("low_confidence", "识别置信度低")):
        assert f'<span class="flag" title="{code}" data-code="{code}">{name}</span>' in html, code
        assert f">{code}<" not in html
    # Times say their zone: China time, as UTC+8 (the API answers in UTC).
    times = re.findall(r'<time datetime="([^"]+)"[^>]*>([^<]+)</time>', html)
    assert times and all(at.endswith("+08:00") and re.fullmatch(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2} UTC\+8", shown)
                         for at, shown in times), times
    assert "北京时间 UTC+8" in html
    assert 'class="mono appno"' in html

    queue = client.get("/review?date_from=2026-11-01&date_to=2026-11-30").text
    row = re.search(rf'<tr data-app="{app["id"]}">.*?</tr>', queue, re.S).group(0)
    assert '<span class="flag" title="balance_inconsistent" data-code="balance_inconsistent">流水余额不连贯</span>' in row
    assert 'class="appno"' in row
    # Dates are ISO text fields, not the browser's date widget (which shows mm/dd/yyyy in en-US).
    for name, value in (("date_from", "2026-11-01"), ("date_to", "2026-11-30")):
        field = re.search(rf'<input [^>]*name="{name}"[^>]*>', queue).group(0)
        assert 'type="text"' in field and 'placeholder="YYYY-MM-DD"' in field and f'value="{value}"' in field
        assert 'pattern="\\d{4}-\\d{2}-\\d{2}"' in field
    assert 'type="date"' not in queue and 'type="date"' not in html
    options = dict(re.findall(r'<option value="([a-z_]+)" title="[a-z_]+"[^>]*>([^<]+)</option>', queue))
    from loandocs.rules.catalog import CATALOG, NAMES_ZH

    assert set(CATALOG) <= set(NAMES_ZH)
    assert options == {code: NAMES_ZH[code] for code in CATALOG}


def test_cookie_session_changes_need_the_csrf_token(site):
    services, client, tokens = site
    app = seed_application(services, materials())
    csrf = _signed_in(client, tokens["reviewer"])
    url = f"/v1/applications/{app['id']}/claim"
    r = client.post(url, json={})
    assert r.status_code == 403 and r.json()["error"]["code"] == "csrf_failed"
    page = client.get(f"/review/applications/{app['id']}").text
    assert f'<meta name="csrf-token" content="{csrf}">' in page
    r = client.post(url, json={}, headers={"X-CSRF-Token": csrf})
    assert r.status_code == 200 and r.json()["status"] == "under_review"


# -- the browser --------------------------------------------------------------------------

def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def server(tmp_path):
    """The real API on a free port (uvicorn in a thread), SQLite, Redis db 9."""
    import uvicorn

    r = Redis.from_url(REDIS_URL)
    r.flushdb()
    services = Services(Settings(data_dir=tmp_path / "data", redis_url=REDIS_URL))
    set_services(services)  # the worker's jobs look the services up
    port = _free_port()
    srv = uvicorn.Server(uvicorn.Config(create_app(services), host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not srv.started:
        assert time.monotonic() < deadline and thread.is_alive(), "uvicorn did not start"
        time.sleep(0.05)
    yield services, f"http://127.0.0.1:{port}"
    srv.should_exit = True
    thread.join(10)
    set_services(None)
    services.engine.dispose()
    r.flushdb()


def _browser(p):
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: apt-get install chromium (.ci/run does)", pytrace=False)
    return p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"])


def _check_page(page) -> None:
    """Every visible form control has a label, and nothing is wider than the window."""
    unlabelled = page.evaluate("""() => Array.from(document.querySelectorAll(
        'input:not([type=hidden]), select, textarea')).filter(el => !el.labels || el.labels.length === 0)
        .map(el => el.outerHTML)""")
    assert unlabelled == [], unlabelled
    width = page.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]")
    assert width[0] <= width[1], f"{page.url} is {width[0]} px wide in a {width[1]} px window"
    # Application numbers stay on one line; each drop-down shows its chosen option in full.
    wrapped = page.evaluate("""() => Array.from(document.querySelectorAll('.appno'))
        .filter(el => el.getClientRects().length > 1).map(el => el.textContent)""")
    assert wrapped == [], wrapped
    cut = page.evaluate("""() => {
        const ctx = document.createElement('canvas').getContext('2d');
        return Array.from(document.querySelectorAll('select')).filter(sel => {
            const st = getComputedStyle(sel);
            ctx.font = st.font;
            const text = sel.options[sel.selectedIndex] ? sel.options[sel.selectedIndex].text : '';
            const room = sel.clientWidth - parseFloat(st.paddingLeft) - parseFloat(st.paddingRight);
            return ctx.measureText(text).width > room;
        }).map(sel => sel.id);
    }""")
    assert cut == [], f"{page.url}: the chosen option does not fit in {cut}"


@pytest.mark.browser
def test_applicant_and_reviewer_in_a_real_browser(server, tmp_path):
    from playwright.sync_api import expect, sync_playwright

    services, base = server
    token = staff_token(services, "reviewer", name="李审核")
    files = application_bundle(tmp_path / "bundle", seed=3)
    SHOTS.mkdir(parents=True, exist_ok=True)
    requests: list[str] = []
    problems: list[str] = []

    def watch(context):
        context.on("request", lambda req: requests.append(req.url))
        context.on("page", lambda pg: pg.on("console", lambda m: problems.append(m.text) if m.type == "error" else None))
        context.on("weberror", lambda e: problems.append(str(e.error)))

    with sync_playwright() as p:
        browser = _browser(p)
        phone = browser.new_context(viewport={"width": 375, "height": 812}, is_mobile=True, has_touch=True,
                                    device_scale_factor=2, locale="zh-CN")
        desk = browser.new_context(viewport={"width": 1440, "height": 1000}, locale="zh-CN")
        watch(phone)
        watch(desk)
        applicant, reviewer = phone.new_page(), desk.new_page()
        expect.set_options(timeout=30_000)

        # 1. The applicant creates an application on a phone.
        applicant.goto(f"{base}/apply")
        _check_page(applicant)
        applicant.get_by_label("姓名").fill("邹轩海")
        applicant.get_by_label("贷款类型").select_option("personal_consumer")
        applicant.get_by_label("申请金额（元）").fill("80000")
        applicant.get_by_label("期限（月）").fill("24")
        applicant.get_by_label("用途").fill("装修")
        # The sample materials are made for this day (certificate and statement ages).
        applicant.locator("#application_date").evaluate("el => el.value = '2026-11-29'")
        applicant.get_by_label("我已阅读并同意《个人信息授权书》").check()
        applicant.screenshot(path=SHOTS / "apply-new-375.png", full_page=True)
        applicant.get_by_role("button", name="提交申请").click()
        application_no = applicant.locator("#created-no").inner_text()
        assert re.fullmatch(r"LD\d{8}-\d{6}", application_no)
        assert len(applicant.locator("#created-token").inner_text()) > 30
        applicant.get_by_role("link", name="上传材料").click()
        app_id = applicant.url.rsplit("/", 1)[1]
        # The four required materials and the credit report, which personal_consumer accepts but does not require.
        expect(applicant.locator("#checklist li")).to_have_count(5)
        _check_page(applicant)

        # 2. Uploads: all four files at once from the file picker, with progress.
        applicant.locator("#files").set_input_files([str(f) for f in files])
        expect(applicant.locator("#uploads li.done")).to_have_count(4)
        expect(applicant.locator("#uploads progress")).to_have_count(4)
        assert applicant.locator("#uploads progress").evaluate_all("els => els.map(e => e.value)") == [100] * 4
        run_worker(services, burst=True)
        # The page was not reloaded: polling brings the checklist up to date.
        expect(applicant.locator("#status")).to_have_attribute("data-status", "collected")
        expect(applicant.locator("#checklist li.ok")).to_have_count(4)
        expect(applicant.locator("#documents li[data-status=extracted]")).to_have_count(4)
        expect(applicant.locator("#uploads .note")).to_have_text([" 已上传，已识别"] * 4)
        applicant.screenshot(path=SHOTS / "apply-collected-375.png", full_page=True)

        # 3. The reviewer signs in with a token and finds the application in the queue.
        reviewer.goto(f"{base}/review")
        assert "/review/login" in reviewer.url
        reviewer.get_by_label("令牌 Token").fill(token)
        reviewer.get_by_role("button", name="登录").click()
        row = reviewer.locator(f'tr[data-app="{app_id}"]')
        expect(row).to_contain_text(application_no)
        expect(row).to_contain_text("采集完成")
        assert re.search(r"\d{6}\*{8}\d{3}[\dX]", row.inner_text())  # masked in the list
        # Dates are typed and shown as ISO, whatever the browser's locale; flags by Chinese name.
        assert reviewer.locator("#f-from").get_attribute("type") == "text"
        reviewer.locator("#f-from").fill("2026-11-29")
        reviewer.locator("#f-to").fill("2026-11-29")
        reviewer.get_by_role("button", name="筛选").click()
        expect(reviewer.locator("#f-from")).to_have_value("2026-11-29")
        expect(row).to_contain_text(application_no)
        expect(reviewer.locator('#f-flag option[value="image_unreadable"]')).to_have_text("图片无法识别")
        _check_page(reviewer)
        reviewer.screenshot(path=SHOTS / "review-queue.png")
        row.get_by_role("link").click()

        # 4. Boxes on the ID card image, and field <-> box highlighting both ways.
        card = reviewer.locator('article[data-doc-type="id_card_front"]')
        image = card.locator(".page img")
        expect(image).to_be_visible()
        assert image.evaluate("img => img.complete && img.naturalWidth > 0")
        boxes = card.locator("rect.box.field")
        assert boxes.count() >= 6
        name_row = card.locator('li.field[data-field="name"]')
        key = name_row.get_attribute("data-key")
        name_row.locator(".f-label").click()
        expect(card.locator(f'rect[data-key="{key}"]')).to_have_class(re.compile(r"\bactive\b"))
        box = card.locator(f'rect[data-key="{card.locator("li.field[data-field=address]").get_attribute("data-key")}"]')
        box.click()
        expect(card.locator('li.field[data-field="address"]')).to_have_class(re.compile(r"\bactive\b"))
        # The box is drawn where the image shows it: same place relative to the image's size.
        img_box, rect_box = image.bounding_box(), box.bounding_box()
        assert img_box["x"] <= rect_box["x"] and rect_box["x"] + rect_box["width"] <= img_box["x"] + img_box["width"] + 1
        _check_page(reviewer)
        history = reviewer.locator(".history-list li time").all_inner_texts()
        assert history and all(re.fullmatch(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2} UTC\+8", t) for t in history), history
        reviewer.screenshot(path=SHOTS / "review-application.png")
        card.screenshot(path=SHOTS / "review-idcard-boxes.png")

        # 5. Claim, correct a field, request a supplement.
        reviewer.get_by_role("button", name="领取审核").click()
        expect(reviewer.locator("#app-status")).to_have_attribute("data-status", "under_review")
        card = reviewer.locator('article[data-doc-type="id_card_front"]')
        address = card.locator('li.field[data-field="address"]')
        expect(address.locator("form.correct")).to_be_hidden()
        address.get_by_role("button", name="修改").click()
        expect(address.locator("form.correct")).to_be_visible()
        new_address = "安徽省合肥市蜀山区光明路684号9栋1单元2002室"
        address.get_by_label("住址 新值").fill(new_address)
        address.get_by_label("修改原因").fill("对照原件，室号识别有误")
        address.get_by_role("button", name="保存").click()
        address = reviewer.locator('article[data-doc-type="id_card_front"] li.field[data-field="address"]')
        expect(address.locator(".f-value")).to_have_text(new_address)
        expect(address.locator(".badge.reviewer")).to_have_text("审核员修改")
        address.locator("summary").click()
        expect(address.locator("details.history")).to_contain_text("对照原件，室号识别有误")
        expect(address.locator("details.history")).to_contain_text("李审核")

        reviewer.get_by_label("请重新上传清晰、完整的收入证明。", exact=False).check()
        reviewer.get_by_label("补充说明（可选，申请人可见）").fill("收入证明请加盖公章后重新拍照。")
        reviewer.get_by_role("button", name="要求补充材料").click()
        expect(reviewer.locator("#app-status")).to_have_attribute("data-status", "needs_supplement")

        # 6. The applicant sees the request, in plain Chinese, on their page and by lookup.
        expect(applicant.locator("#supplement")).to_be_visible()
        expect(applicant.locator("#supplement-list li")).to_have_text(
            ["请重新上传清晰、完整的收入证明。", "收入证明请加盖公章后重新拍照。"])
        expect(applicant.locator("#status")).to_have_text("待补充")
        expect(applicant.locator("#checklist li[data-material=income_certificate]")).to_have_class("redo")
        expect(applicant.locator("#checklist li.ok")).to_have_count(3)
        applicant.screenshot(path=SHOTS / "apply-supplement-375.png", full_page=True)
        lookup = phone.new_page()
        lookup.goto(f"{base}/apply/status?application_no={application_no}")
        expect(lookup.locator("#lookup-status")).to_have_text("待补充")
        expect(lookup.locator("#lookup-supplement li")).to_have_count(2)
        _check_page(lookup)
        lookup.close()

        # 7. The new upload, dropped on the page (drag and drop), moves it on.
        income = next(f for f in files if f.name == "income.pdf")
        applicant.locator("#dropzone").evaluate(
            """(zone, data) => {
                const bytes = Uint8Array.from(atob(data), c => c.charCodeAt(0));
                const dt = new DataTransfer();
                dt.items.add(new File([bytes], "income-sealed.pdf", {type: "application/pdf"}));
                zone.dispatchEvent(new DragEvent("drop", {dataTransfer: dt, bubbles: true, cancelable: true}));
            }""", base64.b64encode(income.read_bytes()).decode())
        expect(applicant.locator("#uploads li.done")).to_have_count(5)
        expect(applicant.locator("#status")).to_have_attribute("data-status", "accepted")
        run_worker(services, burst=True)
        expect(applicant.locator("#status")).to_have_attribute("data-status", "collected")
        expect(applicant.locator("#supplement")).to_be_hidden()

        # 8. The reviewer claims it again and approves.
        reviewer.reload()
        reviewer.get_by_role("button", name="领取审核").click()
        expect(reviewer.locator("#app-status")).to_have_attribute("data-status", "under_review")
        expect(reviewer.get_by_role("button", name="要求补充材料")).to_be_visible()
        reviewer.get_by_label("审核意见 Opinion").fill("补充材料已核实，同意放款。")
        reviewer.get_by_role("button", name="审核通过").click()
        expect(reviewer.locator("#app-status")).to_have_attribute("data-status", "approved")
        expect(reviewer.locator("#opinion-text")).to_have_text("补充材料已核实，同意放款。")
        expect(reviewer.get_by_role("button", name="登记放款")).to_be_visible()
        expect(reviewer.get_by_role("button", name="审核不通过")).to_have_count(0)  # illegal now: not offered
        expect(applicant.locator("#status")).to_have_text("审核通过")

        # 9. The reviewer's pages at phone width.
        small = browser.new_context(viewport={"width": 375, "height": 812}, is_mobile=True, has_touch=True,
                                    device_scale_factor=2, locale="zh-CN")
        watch(small)
        small.add_cookies(desk.cookies())
        narrow = small.new_page()
        narrow.goto(f"{base}/review?status=all")
        _check_page(narrow)
        narrow.screenshot(path=SHOTS / "review-queue-375.png", full_page=True)
        narrow.goto(f"{base}/review/applications/{app_id}")
        _check_page(narrow)
        browser.close()

    outside = [u for u in requests if not (u.startswith(base + "/") or u.startswith(("data:", "blob:")))]
    assert outside == [], outside
    assert problems == [], problems
    with services.sessions() as s:
        from loandocs.store import repository as repo

        history = [(h.to_status, h.actor) for h in repo.status_history(s, app_id)]
        corrections = repo.list_corrections(s, repo.list_documents(s, app_id)[0].id)
    assert [h for h, _ in history] == ["submitted", "accepted", "collected", "under_review", "needs_supplement",
                                       "accepted", "collected", "under_review", "approved"]
    assert ("approved", "李审核") in history
    assert [(c.field, c.value, c.corrected_by) for c in corrections] == [("address", new_address, "李审核")]
