#!/usr/bin/env python3
"""The field app in headless Chromium, driven by the HTTP tests (crates/web/tests/http/field_app.rs).

    field_app.py SCENARIO.json MODE

The Rust test starts the server on a fresh database (SQLite or PostgreSQL), writes the
scenario (the address, the accounts, the households) and runs one MODE; the last line this
prints is a JSON object the test checks the database against:

- record: signs in, loads the app (the service worker takes it), checks it is installable,
  goes offline (DevTools network emulation), records four visits and one feedback item,
  reloads the page offline, and checks the queue survived; the browser profile is kept.
- sync: the same profile, after the test ended the account's sessions and moved a household
  out of the team's area: the app asks to log in again with the queue intact; the first send
  of the visits is answered but the answer is lost (aborted); the next sync sends again; the
  visit to the moved household stays, refused with the server's reason, and is discarded;
  every record is sent once more by hand, and a sync repeated, to show nothing doubles.
- logout: a member records a visit that cannot be sent (the server is out of reach for
  visits), signs out from a page of the site, and opens the app again: the area's
  households, names and addresses are gone from the phone, the visit is still there; signed
  in again, the visit is sent.
- conflict-ab / conflict-ba: two phones (two browser contexts, two members) visit the same
  household offline with different outcomes and sync one after the other in the order given,
  then both again; prints what each phone shows of the household.
"""
import json
import re
import shutil
import sys

from playwright.sync_api import sync_playwright

VIEWPORT = {"width": 360, "height": 740}
# The visit uploads, whatever their query (the app adds its language).
VISITS = re.compile(r"/api/v1/visits(\?|$)")


def chromium_path():
    path = shutil.which("chromium") or shutil.which("chromium-browser")
    if not path:
        sys.exit("Debian's chromium is needed (apt-get install chromium chromium-driver)")
    return path


def state(page):
    return page.evaluate(
        "() => { const s = window.ngosoField.state(); return {queue: s.queue, syncing: s.syncing, "
        "needLogin: s.needLogin, error: s.error && s.error.message, households: Array.from(s.households.values()), "
        "sent: s.sent, account: s.account}; }"
    )


def wait_idle(page):
    page.wait_for_function("() => window.ngosoField && !window.ngosoField.state().syncing")


def login(page, base, username, password):
    page.goto(f"{base}/login?next=/app/field/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click("form button[type=submit]")
    page.wait_for_url(f"{base}/app/field/")
    page.wait_for_selector("html[data-ready]")
    wait_idle(page)


def ready(page, households):
    page.wait_for_function(f"() => window.ngosoField && window.ngosoField.state().households.size === {households}")
    # The service worker controls the page: the app opens with no connection from now on.
    page.wait_for_function("() => navigator.serviceWorker.controller !== null")


def record_visit(page, household_id, result="met", outcomes=(), barriers=(), note="", taps=1):
    page.evaluate(f"location.hash = '#/h/{household_id}'")
    page.wait_for_selector("#visit-form")
    page.check(f"input[name=result][value={result}]")
    for b in barriers:
        page.check(f"input[name=barrier][value={b}]")
    for service, resident, status in outcomes:
        page.select_option(f"#o-{service}-{resident}", status)
    if note:
        page.fill("#note", note)
    # Tapped twice (an impatient thumb): still one visit.
    page.click("#save-visit", click_count=taps)
    page.wait_for_selector("#walk")


def waiting(page):
    return [q for q in state(page)["queue"] if q["state"] == "waiting"]


def record(sc):
    base, hh = sc["base"], sc["households"]
    with sync_playwright() as p:
        ctx = p.chromium.launch_persistent_context(
            sc["profile"], executable_path=chromium_path(), args=["--no-sandbox"], viewport=VIEWPORT
        )
        page = ctx.pages[0] if ctx.pages else ctx.new_page()
        login(page, base, sc["users"][0], sc["password"])
        ready(page, len(hh))
        cdp = ctx.new_cdp_session(page)
        installability = cdp.send("Page.getInstallabilityErrors")["installabilityErrors"]
        width = page.evaluate("document.documentElement.scrollWidth")

        # A sync while the member fills in a form leaves the form as it is.
        page.evaluate(f"location.hash = '#/h/{hh[0]['id']}'")
        page.wait_for_selector("#visit-form")
        page.select_option("#o-citizen_app-0", "installed")
        page.fill("#note", "đang ghi")
        page.evaluate("window.ngosoField.sync()")
        wait_idle(page)
        assert page.input_value("#o-citizen_app-0") == "installed" and page.input_value("#note") == "đang ghi"
        page.evaluate("location.hash = '#/'")

        ctx.set_offline(True)
        page.wait_for_function("() => !navigator.onLine")
        record_visit(page, hh[0]["id"], "met", [("citizen_app", 0, "installed")], note="Đã cài ứng dụng 📱", taps=2)
        record_visit(page, hh[1]["id"], "not_home", barriers=["no_smartphone"])
        record_visit(page, hh[2]["id"], "met", [("vneid_l2", hh[2]["resident"], "collected")])
        record_visit(page, hh[3]["id"], "met", [("citizen_app", 0, "installed")])
        page.click("#new-feedback")
        page.wait_for_selector("#feedback-form")
        page.select_option("#category", sc["category"])
        page.select_option("#f-kind", "pothole")
        page.fill("#description", "Ổ gà trước nhà văn hoá ấp 🕳️ — xin sửa trước mùa mưa")
        page.fill("#contact_name", "Trần Thị Bé")
        page.fill("#contact_phone", "0901234567")
        page.check("#consent")
        page.click("#save-feedback")
        page.wait_for_selector("#walk")
        assert len(waiting(page)) == 5, state(page)["queue"]
        assert "5" in page.inner_text("#queue-count"), page.inner_text("#queue-count")

        # Reloaded with no connection: the worker serves the app, the queue is still there.
        page.reload()
        page.wait_for_selector("html[data-ready]")
        queue = waiting(page)
        assert len(queue) == 5, queue
        assert "5" in page.inner_text("#queue-count")
        page.click("#queue-count")
        page.wait_for_selector("#queue")
        assert page.locator("#queue li").count() == 5
        page.screenshot(path=sc["shots"] + "/field-queue-offline.png", full_page=True)
        ctx.close()
        return {
            "installability": installability,
            "width": width,
            "visits": [q["body"] for q in queue if q["kind"] == "visit"],
            "feedback": [q["body"] for q in queue if q["kind"] == "feedback"],
        }


def sync(sc):
    base = sc["base"]
    with sync_playwright() as p:
        ctx = p.chromium.launch_persistent_context(
            sc["profile"], executable_path=chromium_path(), args=["--no-sandbox"], viewport=VIEWPORT
        )
        page = ctx.pages[0] if ctx.pages else ctx.new_page()
        # The session ended while the phone was away: the app asks to log in again and keeps
        # the queue.
        page.goto(f"{base}/app/field/")
        page.wait_for_selector("html[data-ready]")
        page.wait_for_selector("#login-banner")
        assert len(waiting(page)) == 5

        # The first send of the visits reaches the server, but its answer is lost.
        lost = {"n": 0}

        def lose_answer(route):
            if lost["n"] == 0:
                lost["n"] += 1
                route.fetch()
                route.abort()
            else:
                route.continue_()

        page.route("**/api/v1/visits*", lose_answer)
        page.click("#login-banner a")
        page.wait_for_url(lambda u: "/login" in u)
        page.fill("input[name=username]", sc["users"][0])
        page.fill("input[name=password]", sc["password"])
        page.click("form button[type=submit]")
        page.wait_for_url(f"{base}/app/field/")
        page.wait_for_selector("html[data-ready]")
        wait_idle(page)
        assert lost["n"] == 1, "the app sent the queue after logging in"
        s = state(page)
        assert len([q for q in s["queue"] if q["state"] == "waiting"]) == 5, s["queue"]
        assert s["error"], "the lost answer is shown"

        # Sent again: the server already has four; one is refused; the feedback goes.
        page.click("#sync")
        page.wait_for_function("() => !window.ngosoField.state().syncing && window.ngosoField.state().queue.every(q => q.state !== 'waiting')")
        s = state(page)
        refused = [q for q in s["queue"] if q["state"] == "refused"]
        assert len(refused) == 1 and len(s["queue"]) == 1, s["queue"]
        page.click("#queue-count")
        page.wait_for_selector("#queue li.refused .reason")
        reason = page.inner_text("#queue li.refused .reason")
        page.screenshot(path=sc["shots"] + "/field-queue-refused.png", full_page=True)

        # Every record sent once more, by hand, and a sync repeated: nothing doubles.
        replay = page.evaluate(
            """async (r) => {
                const post = (url, body) => fetch(url, {method: 'POST', headers: {'Content-Type': 'application/json'}, body: JSON.stringify(body)})
                    .then(async res => ({status: res.status, body: await res.json()}));
                const visits = await post('/api/v1/visits', {visits: r.visits});
                const feedback = await Promise.all(r.feedback.map(f => post('/api/v1/feedback', f)));
                return {visits, feedback};
            }""",
            sc["recorded"],
        )
        page.click("#sync")
        wait_idle(page)

        # The member fixes the refused visit (it goes back to the queue, the same id, and is
        # refused again: the household is still elsewhere), then discards it.
        page.evaluate("location.hash = '#/queue'")
        page.click("#queue li.refused a.button")
        page.wait_for_selector("#visit-form")
        page.check("input[name=result][value=not_home]")
        page.click("#save-visit")
        page.wait_for_function("() => !window.ngosoField.state().syncing && window.ngosoField.state().queue.length === 1 && window.ngosoField.state().queue[0].state === 'refused' && window.ngosoField.state().queue[0].body.result === 'not_home'")
        fixed = state(page)["queue"][0]
        assert fixed["id"] == refused[0]["id"] and fixed["body"]["result"] == "not_home", fixed
        page.evaluate("location.hash = '#/queue'")
        page.wait_for_selector("#queue li.refused")
        page.once("dialog", lambda d: d.accept())
        page.click("#queue li.refused button")
        page.wait_for_selector("#queue-empty")
        s = state(page)
        ctx.close()
        return {
            "refused": refused[0]["error"],
            "reason": reason,
            "replay": replay,
            "sent": s["sent"],
            "queue_after": len(s["queue"]),
        }


def conflict(sc, order):
    base, hh = sc["base"], sc["households"]
    target, resident = hh[0]["id"], hh[0]["resident"]
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium_path(), args=["--no-sandbox"])
        phones = {}
        for name, user in zip("ab", sc["users"]):
            ctx = browser.new_context(viewport=VIEWPORT)
            page = ctx.new_page()
            login(page, base, user, sc["password"])
            ready(page, len(hh))
            phones[name] = (ctx, page)
        for ctx, page in phones.values():
            ctx.set_offline(True)
            page.wait_for_function("() => !navigator.onLine")
        a, b = phones["a"][1], phones["b"][1]
        record_visit(a, target, "met", [("vneid_l2", resident, "activated"), ("vssid", resident, "installed")])
        record_visit(b, target, "met", [("vneid_l2", resident, "collected"), ("cashless", resident, "opened")])
        for name in order + order[0]:
            ctx, page = phones[name]
            ctx.set_offline(False)
            page.wait_for_function("() => navigator.onLine")
            wait_idle(page)
            page.click("#sync")
            page.wait_for_function("() => !window.ngosoField.state().syncing && window.ngosoField.state().queue.length === 0")
        out = {}
        for name, (ctx, page) in phones.items():
            h = [x for x in state(page)["households"] if x["id"] == target][0]
            out[name] = {"statuses": sorted(h["statuses"], key=lambda s: (s["service_id"], s["resident_id"])), "visit_count": h["visit_count"]}
            page.evaluate(f"location.hash = '#/h/{target}'")
            page.wait_for_selector("#visit-form")
            page.screenshot(path=f"{sc['shots']}/field-merged-{name}.png", full_page=True)
        browser.close()
        return out


def logout(sc):
    base, hh = sc["base"], sc["households"]
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium_path(), args=["--no-sandbox"])
        # Without the service worker, whose requests Playwright's routes do not see: the
        # route below keeps the visit from reaching the server.
        ctx = browser.new_context(viewport=VIEWPORT, service_workers="block")
        page = ctx.new_page()
        households = f"() => window.ngosoField && window.ngosoField.state().households.size === {len(hh)}"
        login(page, base, sc["users"][0], sc["password"])
        page.wait_for_function(households)
        page.route(VISITS, lambda route: route.abort())
        record_visit(page, hh[0]["id"], "met", [("citizen_app", 0, "installed")], note="chờ gửi")
        wait_idle(page)
        before = state(page)
        assert len(waiting(page)) == 1, before["queue"]

        page.goto(f"{base}/app/account")
        page.click("header form[action='/logout'] button")
        page.wait_for_url(f"{base}/")
        page.goto(f"{base}/app/field/")
        page.wait_for_selector("html[data-ready]")
        wait_idle(page)
        after = state(page)
        text = page.inner_text("body")
        banner = page.inner_text("#login-banner")
        shown = [w for x in hh for w in (x["code"], "Trần Thị Bé", "Số " + x["code"]) if w in text]
        page.screenshot(path=sc["shots"] + "/field-after-logout.png", full_page=True)

        page.unroute(VISITS)
        login(page, base, sc["users"][0], sc["password"])
        page.wait_for_function(households)
        page.wait_for_function("() => !window.ngosoField.state().syncing && window.ngosoField.state().queue.length === 0")
        again = state(page)
        browser.close()
        return {
            "before": {"households": len(before["households"]), "queue": len(before["queue"])},
            "after": {
                "households": len(after["households"]),
                "queue": [q["id"] for q in after["queue"]],
                "account": after["account"],
                "need_login": after["needLogin"],
                "shown": shown,
                "banner": banner,
            },
            "again": {"households": len(again["households"]), "queue": len(again["queue"])},
            "visit": before["queue"][0]["id"],
        }


def main():
    sc = json.load(open(sys.argv[1]))
    mode = sys.argv[2]
    if mode == "record":
        out = record(sc)
    elif mode == "sync":
        out = sync(sc)
    elif mode == "logout":
        out = logout(sc)
    elif mode.startswith("conflict-"):
        out = conflict(sc, mode.split("-", 1)[1])
    else:
        sys.exit(f"unknown mode {mode}")
    print(json.dumps(out, ensure_ascii=False))


if __name__ == "__main__":
    main()
