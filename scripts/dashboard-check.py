"""The coordinator dashboard (examples/server, /dashboard) driven in headless Chromium.

Run by scripts/dashboard-check.sh against a demo server. Reads the demo program's figures from
the JSON API first, then signs in through the page as the demo coordinator and checks that:

- the page loads with no Content-Security-Policy violation, console error or failed request
  (the dashboard's own CSP allows nothing inline and nothing from another origin);
- the labels follow the coordinator's `language`;
- every chart is drawn, the funnel with exactly the API's counts per status (read back from
  `Chart.getChart(canvas).data`) and the reviewer workload with the API's done/owed, on a
  canvas that is not blank;
- the applications CSV downloads (fetched with the bearer token, saved from a blob: URL) with
  the export's header row;
- the layout fits a phone's width without horizontal scrolling;

and saves a screenshot. Exits non-zero with the reason on the first failed check.
"""

import argparse
import json
import sys
import urllib.request

from playwright.sync_api import sync_playwright

# icosistem-http/src/routes/analytics.rs: APPLICATION_COLUMNS (the demo program is not blind).
APPLICATION_HEADER = (
    "application_id,status,submitted_at,decided_at,project_id,project_name,"
    "applicant_id,applicant_name,applicant_email,mean_score,decision_note"
)
TITLES = {"es": "Panel de coordinación", "en": "Coordinator dashboard"}
CHARTS = ["funnel", "reviewers", "scores", "decision", "mentors"]
DEMO_PROGRAM = "Andes Accelerator — Demo Cohort"


def fail(message):
    print(f"dashboard check FAILED: {message}", file=sys.stderr)
    sys.exit(1)


def check(condition, message):
    if not condition:
        fail(message)


def api(base, path, token=None, body=None):
    headers = {"Accept": "application/json"}
    data = None
    if body is not None:
        headers["Content-Type"] = "application/json"
        data = json.dumps(body).encode()
    if token:
        headers["Authorization"] = f"Bearer {token}"
    request = urllib.request.Request(base + path, data=data, headers=headers)
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.load(response)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--base", required=True)
    parser.add_argument("--chromium", required=True)
    parser.add_argument("--screenshot", required=True)
    parser.add_argument("--email", required=True)
    parser.add_argument("--password", required=True)
    parser.add_argument("--downloads", required=True)
    args = parser.parse_args()
    base = args.base

    # What the page must show, from the API itself.
    login = api(base, "/api/v2/auth/login", body={"email": args.email, "password": args.password})
    token, me = login["access_token"], login["user"]
    programs = api(base, "/api/v2/programs?limit=100", token)["items"]
    program = next((p for p in programs if p["name"] == DEMO_PROGRAM), None)
    check(program is not None, f"the demo program {DEMO_PROGRAM!r} is not listed: {programs}")
    figures = api(base, f"/api/v2/programs/{program['id']}/analytics", token)
    funnel = figures["applications"]["funnel"]
    reviewers = figures["reviews"]["reviewers"]
    check(sum(row["count"] for row in funnel) > 0, f"the demo program has no applications: {funnel}")
    language = "es" if me["language"].lower().startswith("es") else "en"

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=args.chromium, headless=True)
        context = browser.new_context(viewport={"width": 1280, "height": 900}, accept_downloads=True)
        # Before any page script: CSP violations are reported as events, not thrown.
        context.add_init_script(
            "window.__csp = [];"
            "document.addEventListener('securitypolicyviolation', e =>"
            " window.__csp.push(e.violatedDirective + ' ' + e.blockedURI));"
        )
        page = context.new_page()
        problems = []
        page.on("console", lambda m: m.type == "error" and problems.append(f"console: {m.text}"))
        page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
        page.on(
            "response",
            lambda r: r.status >= 400 and not r.url.endswith(".map") and problems.append(f"{r.status} {r.url}"),
        )
        page.on("requestfailed", lambda r: problems.append(f"failed request: {r.url} {r.failure}"))

        response = page.goto(base + "/dashboard")
        check(response is not None and response.ok, "GET /dashboard failed")
        csp = response.headers.get("content-security-policy", "")
        check("script-src 'self'" in csp and "unsafe-inline" not in csp, f"unexpected CSP: {csp!r}")

        page.fill("#email", args.email)
        page.fill("#password", args.password)
        page.click("#sign-in")
        # Selector waits, not wait_for_function: that evaluates a string in the page, which the
        # dashboard's CSP (no 'unsafe-eval') rightly refuses.
        page.wait_for_selector("#dashboard-view[data-program]:not([data-program=''])", timeout=30000)
        check(
            page.evaluate("sessionStorage.getItem('icosistem.dashboard.token')"),
            "the access token is not in sessionStorage",
        )

        # The coordinator's language, not the browser's.
        check(page.evaluate("document.documentElement.lang") == language, "the page's lang is not the user's")
        title = page.text_content("h1")
        check(title == TITLES[language], f"heading {title!r}, expected {TITLES[language]!r}")

        page.select_option("#program", program["id"])
        page.wait_for_selector(f"#dashboard-view[data-program='{program['id']}']", timeout=30000)

        drawn = page.evaluate(
            """charts => Object.fromEntries(charts.map(name => {
                const canvas = document.getElementById(name + '-chart');
                const chart = Chart.getChart(canvas);
                if (!chart) return [name, null];
                const pixels = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
                let painted = 0;
                for (let i = 3; i < pixels.length; i += 4) if (pixels[i] > 0) painted += 1;
                return [name, {
                    statuses: chart.$statuses || null,
                    datasets: chart.data.datasets.map(d => d.data),
                    labels: chart.data.labels,
                    painted,
                    area: canvas.width * canvas.height,
                }];
            }))""",
            CHARTS,
        )
        for name in CHARTS:
            check(drawn[name] is not None, f"the {name} chart is not drawn")
            # Axes and labels paint every chart; a blank canvas would have no pixel.
            check(drawn[name]["painted"] > drawn[name]["area"] * 0.005, f"the {name} canvas is blank")
        shown = dict(zip(drawn["funnel"]["statuses"], drawn["funnel"]["datasets"][0]))
        expected = {row["status"]: row["count"] for row in funnel}
        check(shown == expected, f"funnel chart {shown} != API {expected}")
        check(
            drawn["reviewers"]["datasets"] == [[r["done"] for r in reviewers], [r["owed"] for r in reviewers]],
            f"reviewer chart {drawn['reviewers']['datasets']} != API {reviewers}",
        )

        with page.expect_download(timeout=30000) as started:
            page.click("#download-applications")
        download = started.value
        saved = f"{args.downloads}/{download.suggested_filename}"
        download.save_as(saved)
        with open(saved, encoding="utf-8-sig") as f:
            rows = f.read().splitlines()
        check(rows and rows[0] == APPLICATION_HEADER, f"applications CSV header {rows[:1]}")
        check(download.suggested_filename.endswith(".csv"), f"file name {download.suggested_filename!r}")

        page.screenshot(path=args.screenshot, full_page=True)

        # A phone: one column, nothing wider than the screen.
        page.set_viewport_size({"width": 390, "height": 844})
        page.wait_for_timeout(300)
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        check(overflow <= 0, f"the page is {overflow}px wider than a phone's screen")
        phone = args.screenshot.rsplit(".", 1)[0] + "-phone.png"
        page.screenshot(path=phone, full_page=True)

        violations = page.evaluate("window.__csp")
        check(not violations, f"Content-Security-Policy violations: {violations}")
        check(not problems, "browser problems:\n  " + "\n  ".join(problems))
        browser.close()

    counts = ", ".join(f"{row['status']} {row['count']}" for row in funnel if row["count"])
    print(f"dashboard: signed in as {args.email} ({language}); program {program['name']!r}")
    print(f"dashboard: funnel chart = API ({counts}); reviewer chart = API ({len(reviewers)} reviewer(s))")
    print(f"dashboard: 5 charts drawn, applications CSV {download.suggested_filename} ({len(rows) - 1} rows)")
    print("dashboard: no CSP violation, console error or failed request; fits a 390 px phone")
    print(f"dashboard: screenshot {args.screenshot} (phone: {phone})")


if __name__ == "__main__":
    main()
