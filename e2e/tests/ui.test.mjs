// The responder web UI in a real browser, against a real server: one incident's life from
// triage to the post-incident review, live updates from the CLI, and what viewers and
// non-participants must not see or do. Waits are on page conditions, never on fixed sleeps.

import assert from "node:assert/strict";
import { after, before, test as nodeTest } from "node:test";

import { PASSWORD, Warroom, keepFailure, launchBrowser, logIn, screenshot } from "../lib/harness.mjs";

let warroom;
let browser;
let alice; // commander: runs the incident
let incidentUrl;
let incidentId;
const TITLE = "Checkout returns 503 for every customer";
const problems = [];

// Error pages the tests open on purpose are logged by Chromium as failed loads.
function expectedConsoleError(text) {
  return /Failed to load resource: the server responded with a status of (401|403|404)/.test(text);
}

before(async () => {
  warroom = await Warroom.start();
  warroom.createUser("alice", "commander");
  warroom.createUser("vic", "viewer");
  warroom.createUser("rita", "responder");
  browser = await launchBrowser();
  const context = await browser.newContext();
  context.setDefaultTimeout(10_000);
  await context.grantPermissions(["clipboard-read", "clipboard-write"], { origin: warroom.url });
  alice = await context.newPage();
  // Script errors and console errors (a CSP violation is one) are collected; the last test
  // asserts there were none.
  alice.on("pageerror", (e) => problems.push(`script error on ${alice.url()}: ${e.message}`));
  alice.on("console", (m) => {
    if (m.type() === "error" && !expectedConsoleError(m.text())) {
      problems.push(`console error on ${alice.url()}: ${m.text()}`);
    }
  });
});

/** A test that, when it fails, leaves a screenshot and the HTML of alice's page as artifacts. */
function test(name, body) {
  nodeTest(name, async (t) => {
    try {
      await body(t);
    } catch (e) {
      await keepFailure(alice, name);
      throw e;
    }
  });
}

after(async () => {
  await browser?.close();
  await warroom?.stop();
});

test("a wrong password is refused and the right one signs in", async () => {
  await alice.goto(`${warroom.url}/ui/`);
  // Not signed in: sent to the login form.
  assert.match(alice.url(), /\/ui\/login$/);
  await alice.getByLabel("User name").fill("alice");
  await alice.getByLabel("Password").fill("not the password at all");
  await alice.getByRole("button", { name: "Log in" }).click();
  await alice.getByRole("alert").filter({ hasText: "Wrong user name or password." }).waitFor();

  await logIn(alice, warroom.url, "alice");
  await alice.getByText("alice (commander)").waitFor();
  await screenshot(alice, "dashboard-empty");
});

test("triage suggests a severity and declares the incident", async () => {
  await alice.getByRole("navigation", { name: "Sections" }).getByRole("link", { name: "Triage" }).click();
  await alice.getByRole("heading", { level: 1, name: "Triage" }).waitFor();
  const down = alice.getByRole("group", { name: "Is the service completely down for customers?" });
  await down.getByLabel("Yes").check();
  await alice.getByRole("group", { name: "Does a workaround exist that customers can use now?" }).getByLabel("No").check();
  await alice.getByRole("button", { name: "Suggest a severity" }).click();
  const heading = alice.getByRole("heading", { level: 2, name: /^Suggested severity: P\d$/ });
  await heading.waitFor();
  const severity = (await heading.textContent()).match(/P\d/)[0];
  // The answers are kept, and the reasons say why.
  assert.equal(await down.getByLabel("Yes").isChecked(), true);
  assert.ok((await alice.locator("#suggestion li").count()) > 0, "the suggestion gives reasons");
  await screenshot(alice, "triage");

  await alice.getByLabel("What is wrong").fill(TITLE);
  await alice.getByLabel("Type").selectOption("outage");
  await alice.getByLabel("Services (comma-separated)").fill("payments");
  await alice.getByRole("button", { name: `Declare at ${severity}` }).click();
  await alice.waitForURL(/\/ui\/incidents\/INC-\d{8}-\d{3}$/);
  incidentUrl = alice.url();
  incidentId = incidentUrl.split("/").pop();
  await alice.getByRole("heading", { level: 1, name: `${incidentId}: ${TITLE}` }).waitFor();
  assert.equal(await alice.locator("#header dd.sev").textContent(), severity);
  await alice.locator("#timeline li").filter({ hasText: `Declared ${severity} outage: ${TITLE}` }).waitFor();

  // The dashboard lists it.
  await alice.goto(`${warroom.url}/ui/`);
  const row = alice.locator(`tr.incident[data-id="${incidentId}"]`);
  await row.waitFor();
  assert.match(await row.textContent(), /Checkout returns 503/);
  await alice.goto(incidentUrl);
});

test("acknowledge, assign a role, check off a playbook task", async () => {
  await alice.getByRole("button", { name: "Acknowledge" }).click();
  await alice.locator("#header dd").filter({ hasText: /by alice$/ }).waitFor();
  assert.equal(await alice.getByRole("button", { name: "Acknowledge" }).count(), 0);

  await alice.getByLabel("Role", { exact: true }).selectOption("communications-lead");
  await alice.getByLabel("Person", { exact: true }).fill("bob");
  await alice.getByRole("button", { name: "Assign" }).click();
  await alice.locator("#timeline li").filter({ hasText: "communications-lead: bob" }).waitFor();
  const header = await alice.locator("#header dl").first().textContent();
  assert.match(header, /Communications lead\s*bob/);

  // The outage matched the application-downtime playbook: its first task, checked off.
  const task = alice.locator("#checklist .task").first();
  const text = await task.locator("p").first().textContent();
  assert.match(text, /— open/);
  await task.getByRole("button", { name: "Done" }).click();
  await alice.locator("#checklist .task").first().filter({ hasText: "done by alice" }).waitFor();
  await alice.locator("#timeline li").filter({ hasText: /Task application-downtime\/\S+ done/ }).waitFor();

  // A playbook command, copied with its button (shown by the script; the CSP allows no inline
  // script, so this also proves the script file loads).
  const command = alice.locator("#checklist .command").first();
  const copyButton = command.getByRole("button", { name: "Copy command" });
  await copyButton.click();
  await command.getByRole("status").filter({ hasText: "Copied." }).waitFor();
  const copied = await alice.evaluate(() => navigator.clipboard.readText());
  assert.equal(copied, await command.locator("code").textContent());
  assert.ok(copied.length > 0);
  await screenshot(alice, "room");
});

test("an update sent from the composer is recorded with its template and recipients", async () => {
  await alice.getByLabel("Template").selectOption("internal-update");
  await alice.getByRole("button", { name: "Draft" }).click();
  const subject = alice.getByLabel("Subject");
  await subject.waitFor();
  const drafted = await subject.inputValue();
  assert.ok(drafted.length > 0, "the template drafted a subject");
  assert.ok((await alice.getByLabel(/^Message to /).inputValue()).includes(TITLE), "the draft names the incident");
  await alice.getByLabel(/^To \(/).fill("alice");
  await subject.fill(`${drafted} (edited)`);
  await alice.getByRole("button", { name: "Send" }).click();
  await alice.waitForURL(incidentUrl);
  await alice.getByRole("link", { name: "Messages" }).click();
  await alice.locator("#timeline li").filter({ hasText: `(internal-update): ${drafted} (edited) — sent to alice` }).waitFor();
  // The message history says what went out, from which template, to whom.
  const sent = alice.locator("#messages li").first();
  await sent.filter({ hasText: `Subject: ${drafted} (edited)` }).waitFor();
  assert.match(await sent.textContent(), /template internal-update[\s\S]*Recipients: alice/);
  await alice.goto(incidentUrl);
});

test("a note added with the CLI appears on the open page without a reload", async () => {
  // The page's live stream is open (its answer has started) before the change is made.
  const stream = alice.waitForResponse((r) => r.url().includes("/ui/events?since="));
  await alice.goto(incidentUrl);
  assert.equal((await stream).status(), 200);
  // A mark on this document: it survives only if the page is not reloaded.
  await alice.evaluate(() => {
    window.__notReloaded = true;
  });
  const note = "Rolled back checkout to v41 (from the terminal)";
  warroom.cli(["note", incidentId, note]);
  await alice.locator("#timeline li").filter({ hasText: note }).waitFor();
  assert.equal(await alice.evaluate(() => window.__notReloaded), true, "the page was not reloaded");

  // Another session's change to the header arrives the same way.
  warroom.cli(["status", incidentId, "contained"]);
  await alice.locator("#header dd").filter({ hasText: /^contained$/ }).waitFor();
  assert.equal(await alice.evaluate(() => window.__notReloaded), true);
});

test("resolving, then reading the post-incident review", async () => {
  await alice.getByLabel("Summary").fill("Rolled back the bad release; checkout healthy for 30 minutes");
  await alice.getByRole("button", { name: "Resolve" }).click();
  await alice.locator("#header dd").filter({ hasText: /^resolved$/ }).waitFor();
  // Resolved: the open-incident actions are gone, closing is offered.
  assert.equal(await alice.getByRole("button", { name: "Resolve" }).count(), 0);
  await alice.getByRole("button", { name: "Close" }).waitFor();

  await alice.getByRole("link", { name: "Post-incident review" }).click();
  await alice.getByRole("heading", { level: 1, name: `Post-incident review: ${TITLE}` }).waitFor();
  const doc = await alice.locator("pre.document").textContent();
  assert.ok(doc.includes(TITLE), doc);
  // Written from the incident's record: the resolution summary, the roles, the timeline.
  assert.match(doc, /## Resolution\s+Rolled back the bad release/);
  assert.match(doc, /Communications lead \| Bob Example/);
  assert.match(doc, /\| Acknowledged \| alice \|/);
  // Notes reach the review's timeline once marked as key moments.
  const cliNote = "Rolled back checkout to v41 (from the terminal)";
  assert.ok(!doc.includes(cliNote));
  const moment = alice.locator("#key-moments li").filter({ hasText: cliNote });
  await moment.getByRole("button", { name: "Mark as key moment" }).click();
  await alice.locator("#key-moments li").filter({ hasText: cliNote }).getByRole("button", { name: "Remove from the review" }).waitFor();
  assert.ok((await alice.locator("pre.document").textContent()).includes(cliNote));
  await screenshot(alice, "postmortem");
});

test("a viewer sees the room but has no action forms, the server refuses their posts, and disabling signs them out", async () => {
  const context = await browser.newContext();
  context.setDefaultTimeout(10_000);
  const vic = await context.newPage();
  await logIn(vic, warroom.url, "vic");
  await vic.goto(incidentUrl);
  await vic.getByRole("heading", { level: 1, name: `${incidentId}: ${TITLE}` }).waitFor();
  assert.equal(await vic.getByRole("heading", { name: "Actions" }).count(), 0);
  assert.equal(await vic.getByRole("heading", { name: "Send a message" }).count(), 0);
  // The only form that posts is the logout form.
  const posting = await vic.locator('form[method="post"]').evaluateAll((fs) => fs.map((f) => f.getAttribute("action")));
  assert.deepEqual(posting, ["/ui/logout"]);
  await vic.goto(`${warroom.url}/ui/triage`);
  assert.equal(await vic.getByRole("button", { name: /^Declare/ }).count(), 0);

  // Forged with the viewer's own valid CSRF token: refused by the server, not just hidden.
  const csrf = await vic.locator('form[action="/ui/logout"] input[name="csrf"]').inputValue();
  const answer = await vic.request.post(`${incidentUrl}/notes`, {
    form: { csrf, text: "a viewer should not be able to write this" },
    maxRedirects: 0,
  });
  assert.equal(answer.status(), 403);
  const timeline = warroom.cli(["timeline", incidentId]);
  assert.ok(!timeline.includes("a viewer should not"), timeline);

  // Disabled from the CLI: the open session ends, and the right password no longer signs in.
  warroom.cli(["user", "disable", "vic"]);
  await vic.reload();
  await vic.getByRole("heading", { level: 1, name: "Log in" }).waitFor();
  await vic.getByLabel("User name").fill("vic");
  await vic.getByLabel("Password").fill(PASSWORD);
  await vic.getByRole("button", { name: "Log in" }).click();
  await vic.getByRole("alert").filter({ hasText: "Wrong user name or password." }).waitFor();
  await context.close();
});

test("a restricted incident is invisible to a responder who is not a participant", async () => {
  await alice.goto(`${warroom.url}/ui/`);
  await alice.getByText("Declare an incident").click();
  const secret = "Suspicious admin logins from an unknown network";
  await alice.getByLabel("What is wrong").fill(secret);
  await alice.getByLabel("Severity").selectOption("P2");
  await alice.getByLabel("Type").selectOption("security-breach");
  await alice.getByRole("checkbox", { name: /Restricted/ }).check();
  await alice.getByRole("button", { name: "Declare", exact: true }).click();
  await alice.waitForURL(/\/ui\/incidents\/INC-\d{8}-\d{3}$/);
  const restrictedUrl = alice.url();
  await alice.locator("#header dd").filter({ hasText: /^restricted$/ }).waitFor();

  const context = await browser.newContext();
  context.setDefaultTimeout(10_000);
  const rita = await context.newPage();
  await logIn(rita, warroom.url, "rita");
  // The first incident is listed for her; the restricted one is not, nor its title anywhere.
  await rita.locator(`tr.incident, #resolved li`).filter({ hasText: TITLE }).waitFor();
  assert.ok(!(await rita.content()).includes(secret), "the dashboard leaked the restricted title");
  const answer = await rita.goto(restrictedUrl);
  assert.equal(answer.status(), 404);
  assert.ok(!(await rita.content()).includes(secret));
  const exported = await rita.request.get(`${restrictedUrl}/export?format=json`);
  assert.equal(exported.status(), 404);

  // Once made a participant (given a role), she sees it.
  await alice.getByLabel("Role", { exact: true }).selectOption("technical-lead");
  await alice.getByLabel("Person", { exact: true }).fill("rita");
  await alice.getByRole("button", { name: "Assign" }).click();
  await alice.locator("#timeline li").filter({ hasText: "technical-lead: rita" }).waitFor();
  await rita.goto(restrictedUrl);
  await rita.getByRole("heading", { level: 1, name: new RegExp(secret) }).waitFor();
  await context.close();
});

test("the on-call and reports pages, and every main page fits a 360 px wide screen", async () => {
  await alice.goto(`${warroom.url}/ui/oncall`);
  await alice.getByRole("heading", { level: 1, name: "On call" }).waitFor();
  assert.ok((await alice.locator("main section").count()) > 0, "the built-in schedules are shown");
  await alice.getByRole("heading", { level: 2, name: "Escalation policies" }).waitFor();
  // A commander covers the primary schedule for a day from the next full hour (the form's
  // default times), then takes it back.
  const primary = alice.locator("section").filter({ has: alice.getByRole("heading", { level: 2, name: "Primary on-call" }) });
  await primary.getByText("Add an override to Primary on-call").click();
  await primary.getByLabel("Who covers").selectOption("carol");
  await primary.getByRole("button", { name: "Add override" }).click();
  const override = alice.locator("li[data-override]").filter({ hasText: /^Carol/ });
  await override.waitFor();
  await screenshot(alice, "oncall");
  await override.getByRole("button", { name: /^Remove the override of Carol/ }).click();
  // The old page still shows it until the answer replaces the page.
  await override.waitFor({ state: "detached" });
  assert.match(await primary.textContent(), /Overrides\s+None\./);
  await alice.goto(`${warroom.url}/ui/`);
  await screenshot(alice, "dashboard");

  // Reports: the charts are drawn (non-empty boxes) and this week's numbers are in the table.
  await alice.getByRole("navigation", { name: "Sections" }).getByRole("link", { name: "Reports" }).click();
  await alice.getByRole("heading", { level: 1, name: "Reports" }).waitFor();
  for (const name of ["Incidents declared per week", /MTTA/, /MTTR/]) {
    const chart = alice.getByRole("img", { name });
    const box = await chart.boundingBox();
    assert.ok(box && box.width > 200 && box.height > 50, `chart ${name} is drawn`);
  }
  // Both incidents were declared this week; alice may see both.
  const thisWeek = alice.locator("#weeks tbody tr").first();
  assert.equal(await thisWeek.locator('td[data-label="Incidents"]').textContent(), "2");
  await screenshot(alice, "reports");

  const context = await browser.newContext({ viewport: { width: 360, height: 740 } });
  context.setDefaultTimeout(10_000);
  const phone = await context.newPage();
  await logIn(phone, warroom.url, "alice");
  const room = `/ui/incidents/${incidentId}`;
  for (const path of ["/ui/", room, "/ui/triage", "/ui/oncall", "/ui/reports", `${room}/postmortem`]) {
    await phone.goto(`${warroom.url}${path}`);
    await phone.locator("h1").first().waitFor();
    const width = await phone.evaluate(() => document.documentElement.scrollWidth);
    assert.ok(width <= 360, `${path} scrolls sideways at 360 px (${width} px wide)`);
    if (path === room) await screenshot(phone, "room-360px");
  }
  await context.close();
});

test("no page raised a script error or broke the content security policy", () => {
  assert.deepEqual(problems, []);
});
