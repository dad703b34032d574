"""The dashboard end to end in a real Chromium against a real ``kakehashi serve`` (one worker).

One scenario (the states are only observable in order with one worker): sign in, start a long
job, submit an LP named ``<script>alert(1)</script>`` that waits behind it, cancel the long job,
watch the LP go QUEUED → RUNNING → SUCCEEDED on its page without a reload, read its convergence
chart, see usage change, refuse a form without its CSRF token, sign out; another project's job
URL is 404; every form control has a name in the accessibility tree; screenshots at 1280 and
390 px.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from kakehashi.examples import path as example
from kakehashi.service import jobs
from kakehashi.service.jobs import JobStatus
from tests.service.web.conftest import Served

pytestmark = [pytest.mark.network, pytest.mark.timeout(300)]

XSS = "<script>alert(1)</script>"
#: Roles of form controls that must carry an accessible name.
CONTROL_ROLES = {"textbox", "combobox", "checkbox", "spinbutton", "button", "searchbox", "listbox", "radio"}


def _sign_in(page: Any, served: Served, token: str) -> None:
    page.goto(served.url + "/")
    assert page.url.endswith("/signin")
    page.get_by_label("API token").fill(token)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(re.compile(r"/jobs$|/pool$"))


def _submit(page: Any, served: Served, file: str, backend: str, time_limit: str, name: str = "") -> str:
    """Upload ``file`` on the submit page, check the estimate, confirm; returns the job id."""
    page.goto(served.url + "/submit")
    page.get_by_label("File", exact=True).set_input_files(file)
    page.locator("#backend").fill(backend)
    page.get_by_label("Time limit (seconds)").fill(time_limit)
    if name:
        page.locator("#name").fill(name)
    page.get_by_role("button", name="Estimate").click()
    page.wait_for_url(re.compile(r"/submit$"))
    table = page.locator("table.estimates")
    assert table.locator("tbody tr").count() >= 1  # the estimate, before anything is submitted
    assert _unnamed_controls(page) == []
    page.get_by_role("button", name="Submit the job").click()
    page.wait_for_url(re.compile(r"/jobs/job_[0-9a-f]+$"))
    return str(page.url.rsplit("/", 1)[-1])


def _unnamed_controls(page: Any) -> list[str]:
    """Form controls without an accessible name, from Chromium's own accessibility tree (CDP)."""
    cdp = page.context.new_cdp_session(page)
    nodes = cdp.send("Accessibility.getFullAXTree")["nodes"]
    bad, seen = [], 0
    for n in nodes:
        role = (n.get("role") or {}).get("value")
        if role in CONTROL_ROLES and not n.get("ignored"):
            seen += 1
            name = ((n.get("name") or {}).get("value") or "").strip()
            if not name:
                bad.append(f"{page.url}: {role}")
    cdp.detach()
    assert seen >= 1, f"no form controls in the accessibility tree of {page.url}"
    return bad


def _usage_runs(page: Any, served: Served) -> int:
    page.goto(served.url + "/usage")
    return int(page.locator("#total-runs").inner_text())


def test_dashboard_scenario(browser: Any, served: Served, shots: Path) -> None:
    dialogs: list[str] = []
    ctx = browser.new_context(viewport={"width": 1280, "height": 900})
    ctx.set_default_timeout(60_000)  # generous: CI runs this beside other tests on few cores
    page = ctx.new_page()
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    unnamed: list[str] = []

    # sign in: a session cookie, HttpOnly and SameSite=Strict; the token is in no URL or page
    _sign_in(page, served, served.token_a)
    cookie = next(c for c in ctx.cookies() if c["name"] == "kh_session")
    assert cookie["httpOnly"] and cookie["sameSite"] == "Strict"
    assert served.token_a not in page.content() and cookie["value"] != served.token_a
    unnamed += _unnamed_controls(page)
    runs_before = _usage_runs(page, served)
    unnamed += _unnamed_controls(page)

    # a long job keeps the only worker busy
    page.goto(served.url + "/submit")
    unnamed += _unnamed_controls(page)
    long_id = _submit(page, served, example("maxcut40.txt"), "tabu", "60")
    page.locator("#job-state", has_text="RUNNING").wait_for(timeout=30_000)

    # the LP waits behind it: QUEUED on its page, then live changes without a reload
    lp_id = _submit(page, served, example("knapsack50.lp"), "sa,tabu", "2", name=XSS)
    assert page.locator("#job-state").inner_text() == "QUEUED"
    unnamed += _unnamed_controls(page)  # the job page, with its cancel button
    page.evaluate(
        """() => { window.__seen = [document.getElementById('job-state').textContent];
        window.__same_document = true;
        new MutationObserver(() => { const el = document.getElementById('job-state');
          if (el && window.__seen[window.__seen.length - 1] !== el.textContent) window.__seen.push(el.textContent); })
          .observe(document.body, {subtree: true, childList: true, characterData: true}); }"""
    )
    # the problem's name is text: the heading shows it, no script ran
    assert page.get_by_role("heading", level=1).inner_text() == XSS
    assert page.locator("main script").count() == 0

    # cancel the long job from its own page in a second tab
    other = ctx.new_page()
    other.goto(f"{served.url}/jobs/{long_id}")
    other.get_by_role("button", name="Cancel job").click()
    other.locator("#job-state", has_text="CANCELLED").wait_for(timeout=30_000)
    assert jobs.get(served.db, _project_id(served, "alpha"), long_id).status == JobStatus.CANCELLED
    # the list in that tab follows the LP too (polling), without a reload
    other.goto(served.url + "/jobs")
    other.evaluate("window.__same_document = true")

    page.locator("#job-state", has_text="SUCCEEDED").wait_for(timeout=60_000)
    seen = page.evaluate("window.__seen")
    assert page.evaluate("window.__same_document") is True  # no reload happened
    assert seen[0] == "QUEUED" and seen[-1] == "SUCCEEDED" and "RUNNING" in seen, seen
    # the answer and its chart arrived in place
    page.locator("#convergence svg").wait_for(timeout=10_000)
    series = page.locator("#convergence svg polyline").evaluate_all("els => els.map(e => e.dataset.series)")
    assert set(series) == {"sa", "tabu"}
    objective = float(page.locator("#objective").inner_text())
    job, result_json = jobs.get_result(served.db, _project_id(served, "alpha"), lp_id)
    assert job.status == JobStatus.SUCCEEDED and result_json is not None
    assert objective == pytest.approx(job.objective, rel=1e-6)
    page.screenshot(path=str(shots / "job-1280.png"), full_page=True)
    other.locator(f'tr[data-job="{lp_id}"] [data-field="status"]', has_text="SUCCEEDED").wait_for()
    assert other.evaluate("window.__same_document") is True
    other.close()

    # the jobs list shows both, with their final states
    page.goto(served.url + "/jobs")
    assert page.locator(f'tr[data-job="{lp_id}"] [data-field="status"]').inner_text() == "SUCCEEDED"
    assert page.locator(f'tr[data-job="{long_id}"] [data-field="status"]').inner_text() == "CANCELLED"
    assert page.get_by_role("link", name=XSS).count() == 1
    unnamed += _unnamed_controls(page)
    # filters: state
    page.get_by_label("CANCELLED").check()
    page.get_by_role("button", name="Filter").click()
    assert page.locator("tr[data-job]").count() == 1

    # usage changed
    assert _usage_runs(page, served) > runs_before

    # project sessions do not reach operator pages
    assert page.goto(served.url + "/admin").status == 403

    # keyboard: the first Tab reaches the skip link, Enter moves focus to the content
    page.goto(served.url + "/jobs")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Skip to content"
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "main"

    # a form posted without its CSRF token is refused (and the session survives)
    page.evaluate("document.querySelector('form.signout input[name=csrf]').remove()")
    with page.expect_navigation() as nav:
        page.get_by_role("button", name="Sign out").click()
    assert nav.value.status == 403
    assert page.goto(served.url + "/jobs").status == 200

    # the phone layout
    phone = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True)
    phone.add_cookies([{k: cookie[k] for k in ("name", "value", "domain", "path", "httpOnly", "sameSite")}])
    phone.set_default_timeout(60_000)
    ph = phone.new_page()
    ph.goto(f"{served.url}/jobs/{lp_id}")
    ph.screenshot(path=str(shots / "job-390.png"), full_page=True)
    ph.goto(served.url + "/jobs")
    ph.screenshot(path=str(shots / "jobs-390.png"), full_page=True)
    phone.close()

    # sign out: the cookie no longer works
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url(re.compile(r"/signin$"))
    assert page.goto(f"{served.url}/jobs/{lp_id}").url.endswith("/signin")

    # another project's job is 404 in the browser too
    beta = browser.new_context()
    beta.set_default_timeout(60_000)
    bp = beta.new_page()
    _sign_in(bp, served, served.token_b)
    response = bp.goto(f"{served.url}/jobs/{lp_id}")
    assert response is not None and response.status == 404
    assert "404" in bp.get_by_role("heading", level=1).inner_text() and XSS not in bp.content()
    beta.close()
    ctx.close()

    assert dialogs == []  # no alert ever ran
    assert unnamed == []
    log = served.log.read_text()
    assert served.token_a not in log and served.token_b not in log


def _project_id(served: Served, name: str) -> str:
    from kakehashi.service import tenancy

    return tenancy.find_project(served.db, name).id
