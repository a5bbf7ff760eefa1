"""The KPI dashboard and the wallboard in a real browser, as supervisors
use them."""

from __future__ import annotations

import time
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from playwright.sync_api import expect

from hub.lib import clock
from hub.models import Conversation
from kpi import metrics, rollup, tables
from tests.browser.conftest import SCREENSHOTS, add_script, text_from_patient
from tests.conftest import build_world
from tests.kpi.scenario import history, this_morning

pytestmark = pytest.mark.django_db(transaction=True)
AXE = Path(__file__).parent / "node_modules" / "axe-core" / "axe.min.js"


@pytest.fixture
def open_kpi(browser, live_hub):
    """open_kpi(user, path) -> a page signed in as `user`, showing `path`."""
    contexts = []

    def open_as(user, path, width=1440, height=1000):
        context = browser.new_context(viewport={"width": width, "height": height})
        contexts.append(context)
        page = context.new_page()
        page.errors = []
        page.on("pageerror", lambda exc: page.errors.append(str(exc)))
        page.goto(live_hub.url + "/console/login/?next=" + path.replace("&", "%26").replace("?", "%3F"))
        page.fill("#id_username", user.username)
        page.fill("#id_password", f"{user.username}-password-1")
        page.click("button[type=submit]")
        page.wait_for_url(live_hub.url + path)
        return page

    yield open_as
    for context in contexts:
        context.close()


def serious_axe_violations(page) -> list[dict]:
    add_script(page, AXE)
    result = page.evaluate("""async () => {
      const r = await axe.run(document, {resultTypes: ['violations']});
      return r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
                                     nodes: v.nodes.slice(0, 3).map(n => n.target.join(' '))}));
    }""")
    return [v for v in result if v["impact"] in ("serious", "critical")]


def local_midnight(tz, days_ago: int = 0) -> datetime:
    day = clock.now().astimezone(tz).date() - timedelta(days=days_ago)
    return datetime.combine(day, datetime.min.time(), tzinfo=tz)


def waiting_now(world) -> int:
    return Conversation.objects.filter(practice=world.practice, status=Conversation.Status.QUEUED).count()


# --- the wallboard ----------------------------------------------------------------------


def test_the_wallboard_shows_a_new_text_within_3_seconds(live_beat, open_kpi, open_console):
    world = build_world()
    start = max(clock.now() - timedelta(minutes=30), local_midnight(world.practice.tz))
    this_morning(world, start)
    open_console(world.alice)  # Alice signs in: available
    page = open_kpi(world.sam, "/kpi/wallboard/", width=1920, height=1080)
    expect(page.locator("#wb-state")).to_have_attribute("data-state", "live", timeout=10000)
    before = waiting_now(world)
    expect(page.locator("#wb-waiting")).to_have_text(str(before), timeout=5000)
    available = page.locator('[data-presence="available"]')
    expect(available.locator("[data-names]")).to_contain_text("Alice Adams", timeout=5000)
    expect(page.locator('[data-presence="offline"] [data-names]')).to_contain_text("Bob Brown")

    started = time.monotonic()
    text_from_patient(live_beat, from_="+15555550161", body="Is the clinic open today?")
    expect(page.locator("#wb-waiting")).to_have_text(str(before + 1), timeout=3000)
    assert time.monotonic() - started < 3
    row = page.locator('#wb-queue tbody tr[data-channel="sms"]')
    expect(row).to_contain_text("Scheduling")
    expect(row.locator("td.wait")).not_to_have_text("", timeout=2000)

    # The longest wait ticks on the screen between pushes.
    first = page.locator("#wb-longest").inner_text()
    time.sleep(2.2)
    assert page.locator("#wb-longest").inner_text() != first
    assert page.locator("#wb-sl-tile").get_attribute("data-status") in ("good", "warn", "bad")
    assert page.locator("#wb-departments tbody tr").count() >= 1

    page.screenshot(path=str(SCREENSHOTS / "kpi-wallboard.png"))
    assert serious_axe_violations(page) == []
    assert page.errors == []


def test_the_wallboard_says_when_it_reconnects(live_hub, open_kpi):
    world = build_world()
    page = open_kpi(world.sam, "/kpi/wallboard/")
    expect(page.locator("#wb-state")).to_have_attribute("data-state", "live", timeout=10000)
    # Record what the screen showed: the server may be back (and the board
    # live again) before the test looks.
    page.evaluate("""() => {
        window.seen = [];
        const note = () => window.seen.push([document.getElementById("wb-state").dataset.state,
                                             !document.getElementById("wb-down").hidden]);
        new MutationObserver(note).observe(document.getElementById("wb-state"), {attributes: true});
    }""")
    live_hub.restart_web()
    expect(page.locator("#wb-state")).to_have_attribute("data-state", "live", timeout=20000)
    expect(page.locator("#wb-down")).to_be_hidden()
    seen = page.evaluate("window.seen")
    assert ["reconnecting", True] in seen, seen  # the banner was up while it was down


def test_an_agent_cannot_open_the_wallboard(live_hub, browser):
    world = build_world()
    context = browser.new_context()
    page = context.new_page()
    page.goto(live_hub.url + "/console/login/?next=/kpi/wallboard/")
    page.fill("#id_username", "alice")
    page.fill("#id_password", "alice-password-1")
    page.click("button[type=submit]")
    expect(page.get_by_text("for supervisors and practice admins")).to_be_visible()
    context.close()
    assert world


# --- the dashboard ------------------------------------------------------------------------


CHART_DATA = """() => Object.fromEntries([...document.querySelectorAll('canvas[data-chart]')].map(canvas => {
  const chart = Chart.getChart(canvas);
  return [canvas.dataset.chart, {type: chart.config.type, labels: chart.data.labels,
          datasets: chart.data.datasets.map(d => ({label: d.label, type: d.type || null, data: d.data}))}];
}))"""


def total(chart) -> int:
    return sum(v or 0 for d in chart["datasets"] for v in d["data"])


def test_the_dashboard_draws_its_charts_and_filters_work(live_hub, open_kpi):
    world = build_world()
    tz = world.practice.tz
    last = local_midnight(tz, days_ago=1)  # a history that ended yesterday
    history(world, last)
    rollup.rebuild()
    first = (last - timedelta(days=13)).date().isoformat()
    path = f"/kpi/?from={first}&to={last.date().isoformat()}"
    scope = tables.parse_scope(world.practice, {"from": first, "to": last.date().isoformat()})
    summary = metrics.summary(scope)

    page = open_kpi(world.sam, path)
    expect(page.locator("body")).to_have_attribute("data-charts", "ready", timeout=10000)
    charts = page.evaluate(CHART_DATA)
    assert set(charts) == {"volume", "wait", "service_level", "abandonment", "staffing"}

    volume = charts["volume"]
    assert volume["type"] == "bar" and len(volume["labels"]) == 14
    assert {d["label"] for d in volume["datasets"]} == {"Phone", "SMS", "Web chat", "API"}
    assert total(volume) == summary["contacts"]

    trend = charts["service_level"]
    expected = {r["day"]: r["service_level"] for r in metrics.service_level_trend(scope)}
    drawn = trend["datasets"][0]["data"]
    assert [d is None for d in drawn] == [expected.get(day) is None for day in trend["labels"]]
    assert [d for d in drawn if d is not None] == pytest.approx(
        [expected[day] for day in trend["labels"] if expected.get(day) is not None], abs=1e-4)
    assert trend["datasets"][1]["label"] == "Target 80%" and set(trend["datasets"][1]["data"]) == {0.8}

    assert total(charts["wait"]) == summary["answered"]
    assert len(charts["abandonment"]["labels"]) == 24

    staffing = {d["label"]: d for d in charts["staffing"]["datasets"]}
    assert staffing["Agents scheduled"]["data"][8] == 2 and staffing["Agents scheduled"]["data"][13] == 1
    assert staffing["Agents needed"]["type"] == "line"

    expect(page.locator('[data-card="contacts"] .value')).to_have_text(f"{summary['contacts']:,}")
    expect(page.locator('[data-card="service_level"] .value')).to_have_text(
        f"{summary['service_level'] * 100:.1f}".removesuffix(".0") + "%")
    # The training tables mark who is worse than the practice, in words too.
    expect(page.locator("#table-training-agents td.worse .note").first).to_contain_text("the practice")
    # A chart's numbers are one click away.
    page.locator("#figure-volume summary").click()
    expect(page.locator("#table-volume tbody tr")).to_have_count(14)

    # The contacts CSV streams through the real ASGI server, with the page's filters.
    href = page.locator('.exports a[href^="/kpi/export/contacts.csv"]').get_attribute("href")
    assert f"from={first}" in href
    download = page.request.get(live_hub.url + href)
    assert download.status == 200 and download.headers["content-type"] == "text/csv; charset=utf-8"
    assert len(download.text().strip().splitlines()) == 1 + summary["contacts"]

    page.screenshot(path=str(SCREENSHOTS / "kpi-dashboard.png"), full_page=True)
    assert serious_axe_violations(page) == []

    # Filter to Billing: every chart and card follows.
    page.select_option("#f-department", str(world.billing.pk))
    page.click("#apply-filters")
    page.wait_for_url(f"**department={world.billing.pk}**")
    expect(page.locator("body")).to_have_attribute("data-charts", "ready", timeout=10000)
    billing = metrics.summary(tables.parse_scope(world.practice, {"from": first, "to": last.date().isoformat(),
                                                                  "department": str(world.billing.pk)}))
    assert 0 < billing["contacts"] < summary["contacts"]
    assert total(page.evaluate(CHART_DATA)["volume"]) == billing["contacts"]
    expect(page.locator('[data-card="contacts"] .value')).to_have_text(f"{billing['contacts']:,}")
    expect(page.locator("#range")).to_contain_text("filtered")
    csv_link = page.locator('#table-by-department ~ .csv a, a[href^="/kpi/export/by-department.csv"]').first
    assert f"department={world.billing.pk}" in csv_link.get_attribute("href")
    assert page.errors == []


def test_a_bad_filter_is_explained_on_the_page(live_hub, open_kpi):
    world = build_world()
    page = open_kpi(world.sam, "/kpi/")
    page.fill("#f-from", "2025-03-20")
    page.fill("#f-to", "2025-03-01")
    page.click("#apply-filters")
    expect(page.locator("#filter-error")).to_contain_text("'from' is after 'to'.")
    assert serious_axe_violations(page) == []
