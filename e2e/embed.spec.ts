// <hbg-booking> in an agency's page on another origin: events, several
// elements, attribute changes, and host CSS that tries its worst.
import { test, expect, type Page, type Request } from "@playwright/test";
import { startStack, type Stack } from "./support/stack";
import {
  AGENCY,
  book,
  bookCheckingEachStep,
  heardEvents,
  recordEvents,
  serveHostPage,
  type HeardEvent,
} from "./support/embed";
import { gate, stepChecker } from "./support/steps";
import { afterNextFrames } from "./support/widget";

// The gateway listens on 127.0.0.1 here but on a public address in real
// life: let the agency's (public) page reach it, as it would reach a public one.
test.use({ permissions: ["local-network-access"] });

let stack: Stack;

test.beforeAll(async () => {
  stack = await startStack({ gatewayArgs: ["--allowed-origins", AGENCY] });
});

test.afterAll(async () => {
  await stack?.stop();
});

/** An agency page loading the widget from the gateway. */
function agencyPage(body: string, head = ""): string {
  return `<!DOCTYPE html>
<html lang="en-GB">
  <head>
    <meta charset="utf-8">
    <title>Training at Northwest Care Staffing</title>
    ${head}
    <script type="module" src="${stack.gateway.url}/widget.js"></script>
  </head>
  <body>${body}</body>
</html>`;
}

/** Opens an agency page with `body`, recording the widget's events. */
async function openAgencyPage(page: Page, body: string, head = ""): Promise<void> {
  await recordEvents(page);
  await serveHostPage(page, `${AGENCY}/training`, agencyPage(body, head));
  await page.goto(`${AGENCY}/training`);
}

/** The booking as the sandbox has it. */
async function sandboxBooking(id: number): Promise<{
  id: number;
  booking_status: string;
  pay_option: string;
  course: { id: number };
  start_date: string;
  candidate: { name: string };
}> {
  const response = await stack.sandboxApi(`/bookings/${id}`);
  expect(response.status).toBe(200);
  const body = await response.json();
  return body.data ?? body;
}

/** The detail keys each documented event carries (README, "Events"). */
const PAYLOAD_KEYS: Record<string, string[]> = {
  "hbg:ready": ["product"],
  "hbg:course-chosen": ["course_id", "product"],
  "hbg:location-chosen": ["location_id"],
  "hbg:event-chosen": ["event_id", "product", "start"],
  "hbg:hold-created": ["event_id", "expires_in_seconds", "hold_expires_at", "product"],
  "hbg:submit-started": ["event_id", "pay_option", "product"],
  "hbg:booking-created": ["booking_id", "booking_status", "pay_status", "product"],
  "hbg:booking-confirmed": ["booking_id", "manage_url", "product"],
};

test("every event of a booking reaches the host page in order, with its documented payload and no personal data", async ({
  page,
}) => {
  await openAgencyPage(
    page,
    `<hbg-booking id="widget" first-name="Priya" last-name="Patel"
       email="priya.patel@carestaff.example" phone="07700 900123" job-role="Healthcare Assistant"></hbg-booking>`,
  );
  const widget = page.locator("hbg-booking#widget");
  await book(widget, {
    course: "CSTF Mandatory Practical Skills",
    location: /^Any location/,
    payOption: "Use a booking credit",
  });

  const heard = await heardEvents(page);
  expect(heard.map((event) => event.type)).toEqual([
    "hbg:ready",
    "hbg:course-chosen",
    "hbg:location-chosen",
    "hbg:event-chosen",
    "hbg:hold-created",
    "hbg:submit-started",
    "hbg:booking-created",
    "hbg:booking-confirmed",
  ]);
  for (const event of heard) {
    expect(event.target, event.type).toBe("widget");
    expect(event.bubbles && event.composed, event.type).toBe(true);
    expect(Object.keys(event.detail).sort(), event.type).toEqual(PAYLOAD_KEYS[event.type]);
  }
  const detail = (type: string) => heard.find((event) => event.type === type)!.detail;
  expect(detail("hbg:course-chosen").course_id).toBe(1);
  expect(detail("hbg:location-chosen").location_id).toBeNull();
  const eventId = detail("hbg:event-chosen").event_id as number;
  expect(eventId).toBeGreaterThan(0);
  expect(Date.parse(detail("hbg:event-chosen").start as string)).toBeGreaterThan(Date.now());
  expect(detail("hbg:hold-created")).toMatchObject({ event_id: eventId, expires_in_seconds: 1800 });
  expect(Date.parse(detail("hbg:hold-created").hold_expires_at as string)).toBeGreaterThan(Date.now());
  expect(detail("hbg:submit-started")).toEqual({ product: "practical", event_id: eventId, pay_option: "credits" });
  const bookingId = detail("hbg:booking-created").booking_id as number;
  expect(detail("hbg:booking-created")).toEqual({
    product: "practical",
    booking_id: bookingId,
    booking_status: "booked",
    pay_status: "completed",
  });
  // The address of the booking's own page, for the agency to send: this page with the booking's link.
  const here = page.url().split(/[?#]/)[0].replace(/[.*+?^$()|[\]\\{}]/g, "\\$&");
  expect(detail("hbg:booking-confirmed")).toEqual({
    product: "practical",
    booking_id: bookingId,
    manage_url: expect.stringMatching(new RegExp(`^${here}\\?hbg-booking=pt\\.${bookingId}\\.`)),
  });

  // Ids, times and statuses only: nothing the candidate typed or the host prefilled.
  const all = JSON.stringify(heard);
  for (const personal of ["Priya", "Patel", "carestaff", "@", "07700", "900123", "Healthcare"]) {
    expect(all).not.toContain(personal);
  }

  // The booking itself has the candidate; the events only pointed at it.
  const booked = await sandboxBooking(bookingId);
  expect(booked).toMatchObject({ booking_status: "booked", pay_option: "credits", course: { id: 1 } });
  expect(Date.parse(booked.start_date)).toBe(Date.parse(detail("hbg:event-chosen").start as string));
  expect(booked.candidate.name).toContain("Priya");
});

for (const width of [320, 1280]) {
  test.describe(`at ${width} px`, () => {
    test.use({ viewport: { width, height: 800 } });

    test("axe-core finds nothing on the agency's page at any step of a booking, the widget's shadow root included", async ({
      page,
    }, testInfo) => {
      await openAgencyPage(page, `<h1>Book your training</h1>\n<hbg-booking id="widget"></hbg-booking>`);
      await bookCheckingEachStep(page.locator("hbg-booking#widget"), stepChecker(page, testInfo));
    });
  });
}

// A field in error is checked again when it loses focus; pressing Continue is
// what takes the focus away. If a corrected field's message went only then,
// the form would move up under the pointer between pressing and releasing
// (on a page that goes on below the widget, as agency pages do), and the
// click would land beside the button. The message goes as the field is typed
// right instead, so nothing moves at the press.
test("Continue answers the first click after the last field in error is corrected", async ({ page }) => {
  await openAgencyPage(
    page,
    `<h1>Book your training</h1>
     <hbg-booking id="widget" course="1"></hbg-booking>
     <footer style="height: 150vh">About us</footer>`,
  );
  const widget = page.locator("hbg-booking#widget");
  const heading = widget.getByRole("heading", { level: 2 });
  await widget.getByRole("button", { name: /^Any location/ }).click();
  await widget.getByRole("button", { name: /seats? left/ }).first().click();
  await expect(heading).toHaveText("Your details");
  const continueButton = widget.getByRole("button", { name: "Continue" });
  await continueButton.click();
  await expect(widget.getByRole("heading", { name: "There is a problem" })).toBeVisible();
  await widget.getByLabel("First name", { exact: true }).fill("Priya");
  await widget.getByLabel("Last name", { exact: true }).fill("Patel");
  await widget.getByLabel("Email address", { exact: true }).fill("priya.patel@carestaff.example");
  // A person's click: press in the middle of the button, release a moment later.
  await continueButton.scrollIntoViewIfNeeded();
  const box = (await continueButton.boundingBox())!;
  await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
  await page.mouse.down();
  // Between press and release: the press has moved the focus to the button
  // (so the email field has lost it) and the page has been drawn since.
  await expect(continueButton).toBeFocused();
  await afterNextFrames(page);
  await page.mouse.up();
  await expect(heading).toHaveText("How the booking is paid for");
  // Back past the hold releases the seat for the tests after this one.
  await widget.getByRole("button", { name: "Back" }).click();
  await expect(heading).toHaveText("Your details");
  await widget.getByRole("button", { name: "Back" }).click();
  await expect(heading).toHaveText("Choose a date and time");
});

test("two elements on one page book independently", async ({ page }) => {
  await openAgencyPage(
    page,
    `<h1>Two courses</h1>
     <hbg-booking id="cstf" course="1"></hbg-booking>
     <hbg-booking id="handling" course="2"></hbg-booking>`,
  );
  const cstf = page.locator("hbg-booking#cstf");
  const handling = page.locator("hbg-booking#handling");
  const heading = (widget: typeof cstf) => widget.getByRole("heading", { level: 2 });

  // The second holds a seat and waits at its details step...
  await handling.getByRole("button", { name: /^Any location/ }).click();
  await handling.getByRole("button", { name: /seats? left/ }).first().click();
  await expect(heading(handling)).toHaveText("Your details");
  await expect(heading(cstf)).toHaveText("Choose a location");

  // ...while the first books from start to end,
  await book(cstf, { location: /^Any location/ });
  await expect(heading(handling)).toHaveText("Your details");
  await expect(handling.getByText(/Seat held for/)).toBeVisible();

  // then the second finishes its own booking.
  await book(handling, {
    fromDetails: true,
    firstName: "Owen",
    lastName: "Hughes",
    email: "owen.hughes@carestaff.example",
  });

  const created = (await heardEvents(page)).filter((event) => event.type === "hbg:booking-created");
  expect(created.map((event) => event.target).sort()).toEqual(["cstf", "handling"]);
  const chosen = async (target: string) =>
    (await heardEvents(page, target)).filter((event) => event.type === "hbg:course-chosen")[0].detail.course_id;
  expect(await chosen("cstf")).toBe(1);
  expect(await chosen("handling")).toBe(2);
  const bookings = await Promise.all(created.map((event) => sandboxBooking(event.detail.booking_id as number)));
  expect(new Set(bookings.map((booking) => booking.id)).size).toBe(2);
  const byTarget = Object.fromEntries(created.map((event, i) => [event.target, bookings[i]]));
  expect(byTarget.cstf.course.id).toBe(1);
  expect(byTarget.handling.course.id).toBe(2);
  expect(byTarget.handling.candidate.name).toContain("Owen");
  for (const booking of bookings) expect(booking.booking_status).toBe("booked");
});

test("attribute and property changes after start take effect; invalid values warn and fall back", async ({
  page,
}) => {
  const warnings: string[] = [];
  page.on("console", (message) => {
    if (message.type() === "warning") warnings.push(message.text());
  });
  await openAgencyPage(page, `<hbg-booking id="widget" api="http://[" course="two" lang="fr"></hbg-booking>`);
  const widget = page.locator("hbg-booking#widget");
  const heading = widget.getByRole("heading", { level: 2 });

  // Not a blank widget: every course, from the gateway that served widget.js.
  await expect(heading).toHaveText("Choose a course");
  await expect(widget.getByRole("button", { name: /^Moving & Handling Practical/ })).toBeVisible();
  expect(warnings).toEqual(
    expect.arrayContaining([
      expect.stringContaining(`api="http://[" (not an http(s) URL; using ${stack.gateway.url}/api)`),
      expect.stringContaining(`course="two" (not a positive whole number`),
      expect.stringContaining(`lang="fr" (the widget speaks en-GB only)`),
    ]),
  );
  await expect(widget.locator('[part="root"]')).toHaveAttribute("lang", "en-GB");

  // An attribute set after start: the course is preselected.
  await widget.evaluate((element) => element.setAttribute("course", "2"));
  await expect(heading).toHaveText("Choose a location");
  await expect(widget.getByText("Moving & Handling Practical", { exact: true })).toBeVisible();

  // Hold a seat, then change a property: the widget restarts with the new
  // settings, and the seat it held is released.
  await widget.getByRole("button", { name: /^Any location/ }).click();
  await widget.getByRole("button", { name: /seats? left/ }).first().click();
  await expect(heading).toHaveText("Your details");
  const held = (await heardEvents(page)).find((event) => event.type === "hbg:hold-created")!;
  const eventId = held.detail.event_id as number;
  const reflected = await widget.evaluate((element) => {
    const widget = element as HTMLElement & Record<string, unknown>;
    widget.course = 4;
    widget.firstName = "Sam";
    widget.jobRole = "Support Worker";
    return [widget.getAttribute("course"), widget.getAttribute("first-name"), widget.course, widget.jobRole];
  });
  expect(reflected).toEqual(["4", "Sam", "4", "Support Worker"]);
  await expect(heading).toHaveText("Choose a location");
  await expect(widget.getByText("Basic Life Support Practical", { exact: true })).toBeVisible();
  // The account may hold that event again only once the widget's hold is gone.
  await expect
    .poll(async () => {
      const response = await stack.sandboxApi(`/training-events/${eventId}/hold`, { method: "POST" });
      if (response.status === 200) {
        const { hold_hash } = await response.json();
        await stack.sandboxApi(`/training-events/hold/${hold_hash}`, { method: "DELETE" });
      }
      return response.status;
    })
    .toBe(200);

  // Two changes in one task are one restart with both: the widget's DOM is
  // built once. Its builds are counted from here until it shows the details
  // step with both changes in, by which time any second restart would have
  // happened (and lost the step).
  await widget.evaluate((element) => {
    const root = element.shadowRoot!.querySelector('[part="root"]')!;
    const restarts = { built: 0 };
    Object.defineProperty(window, "__restarts", { value: restarts });
    new MutationObserver((records) => {
      for (const record of records) {
        restarts.built += [...record.addedNodes].filter((node) => (node as Element).classList?.contains("hbg")).length;
      }
    }).observe(root, { childList: true });
    element.setAttribute("course", "1");
    element.setAttribute("last-name", "Jones");
  });
  const restarts = () => page.evaluate(() => (window as unknown as { __restarts: { built: number } }).__restarts.built);
  await expect.poll(restarts).toBe(1);
  await expect(widget.getByText("CSTF Mandatory Practical Skills", { exact: true })).toBeVisible();
  await widget.getByRole("button", { name: /^Any location/ }).click();
  await widget.getByRole("button", { name: /seats? left/ }).first().click();
  await expect(heading).toHaveText("Your details");
  await expect(widget.getByLabel("First name", { exact: true })).toHaveValue("Sam");
  await expect(widget.getByLabel("Last name", { exact: true })).toHaveValue("Jones");
  await expect(widget.getByLabel("Job role (optional)", { exact: true })).toHaveValue("Support Worker");
  expect(await restarts()).toBe(1);

  // Moved elsewhere in the page, it carries on where it was: the same
  // widget, not one built again, once the move's microtasks have run and the
  // page has been drawn.
  const kept = await widget.evaluate(async (element) => {
    const before = element.shadowRoot!.querySelector(".hbg");
    const box = document.createElement("div");
    document.body.append(box);
    box.append(element);
    await new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(resolve)));
    return element.shadowRoot!.querySelector(".hbg") === before && before !== null;
  });
  expect(kept).toBe(true);
  await expect(heading).toHaveText("Your details");
  await expect(widget.getByLabel("Last name", { exact: true })).toHaveValue("Jones");
  await expect(widget.getByText(/Seat held for/)).toBeVisible();
});

/** Computed styles of a host page element. */
async function hostStyles(page: Page, selector: string): Promise<Record<string, string>> {
  return page.locator(selector).evaluate((element) => {
    const style = getComputedStyle(element);
    const names = ["display", "font-size", "font-weight", "font-family", "color", "margin-top", "padding-top"];
    const names2 = ["line-height", "letter-spacing", "text-transform", "box-sizing", "min-height", "background-color"];
    return Object.fromEntries([...names, ...names2].map((name) => [name, style.getPropertyValue(name)]));
  });
}

test("the host page's aggressive CSS does not break the widget, and the widget's CSS does not change the page", async ({
  page,
}) => {
  const hostCss = `
    * { all: unset; }
    html { line-height: 4; letter-spacing: 3px; word-spacing: 9px; text-transform: uppercase;
           text-align: right; font-style: italic; white-space: pre; font-weight: 200; }
    h2.agency { display: block; font-size: 30px; color: rgb(128, 0, 0); }
    button.agency { display: inline-block; padding: 3px; background: rgb(255, 255, 0); }
    hbg-booking { --hbg-color-accent: rgb(91, 42, 134); --hbg-color-accent-hover: rgb(69, 32, 106); }
    hbg-booking::part(button) { border-radius: 17px; }
    hbg-booking::part(heading) { color: rgb(91, 42, 134); }`;
  await recordEvents(page);
  // The widget is added after the page's own styles are measured.
  const html = `<!DOCTYPE html>
<html lang="en-GB">
  <head><meta charset="utf-8"><title>Agency</title><style>${hostCss}</style></head>
  <body>
    <h2 class="agency">Agency news</h2>
    <p>Some text.</p>
    <button class="agency" type="button">Call us</button>
    <hbg-booking id="widget" course="2"></hbg-booking>
  </body>
</html>`;
  await serveHostPage(page, `${AGENCY}/loud`, html);
  await page.goto(`${AGENCY}/loud`);
  const before = {
    h2: await hostStyles(page, "h2.agency"),
    button: await hostStyles(page, "button.agency"),
    body: await hostStyles(page, "body"),
  };
  await page.evaluate((src) => {
    const script = document.createElement("script");
    script.type = "module";
    script.src = src;
    document.head.append(script);
  }, `${stack.gateway.url}/widget.js`);

  const widget = page.locator("hbg-booking#widget");
  const heading = widget.getByRole("heading", { level: 2 });
  await expect(heading).toHaveText("Choose a location");

  // The host's styles are the same with the widget in the page.
  expect({
    h2: await hostStyles(page, "h2.agency"),
    button: await hostStyles(page, "button.agency"),
    body: await hostStyles(page, "body"),
  }).toEqual(before);
  expect(await page.evaluate(() => [document.styleSheets.length, document.adoptedStyleSheets.length])).toEqual([1, 0]);

  // The widget keeps its own styles: nothing inherited from the page but
  // the font family; the host's custom properties and ::part rules apply.
  const inside = await widget.evaluate((element) => {
    const root = element.shadowRoot!;
    const pick = (node: Element, names: string[]) => {
      const style = getComputedStyle(node);
      return Object.fromEntries(names.map((name) => [name, style.getPropertyValue(name)]));
    };
    const text = ["line-height", "letter-spacing", "word-spacing", "text-transform", "text-align", "font-style", "white-space"];
    return {
      root: pick(root.querySelector('[part="root"]')!, ["display", ...text]),
      heading: pick(root.querySelector("h2")!, ["font-weight", "font-size", "color", "text-transform", "letter-spacing"]),
      lead: pick(root.querySelector(".hbg-lead")!, ["line-height", "font-style", "font-weight", "text-align"]),
      button: pick(root.querySelector(".hbg-choice")!, ["min-height", "display", "cursor", "border-left-color"]),
      back: pick(root.querySelector('[part~="button"]')!, ["min-height", "border-radius", "font-weight", "color"]),
      width: root.querySelector('[part="root"]')!.getBoundingClientRect().width,
    };
  });
  expect(inside.root).toEqual({
    display: "block",
    "line-height": "24px",
    "letter-spacing": "normal",
    "word-spacing": "0px",
    "text-transform": "none",
    "text-align": "start",
    "font-style": "normal",
    "white-space": "normal",
  });
  expect(inside.heading).toEqual({
    "font-weight": "700",
    "font-size": "24px",
    color: "rgb(91, 42, 134)",
    "text-transform": "none",
    "letter-spacing": "normal",
  });
  expect(inside.lead).toEqual({ "line-height": "24px", "font-style": "normal", "font-weight": "400", "text-align": "start" });
  expect(inside.button).toEqual({
    "min-height": "44px",
    display: "flex",
    cursor: "pointer",
    "border-left-color": "rgb(91, 42, 134)",
  });
  expect(inside.back).toEqual({ "min-height": "44px", "border-radius": "17px", "font-weight": "600", color: "rgb(91, 42, 134)" });
  expect(inside.width).toBeGreaterThan(300);

  // And a candidate can book through it.
  await book(widget, { location: /^Any location/ });
  expect((await heardEvents(page)).map((event) => event.type)).toContain("hbg:booking-confirmed");
});

test("a widget removed or restarted while its request is in flight leaves the other widgets working", async ({
  page,
}) => {
  const errors: string[] = [];
  page.on("pageerror", (error) => errors.push(error.message));
  page.on("console", (message) => {
    if (message.type() === "error") errors.push(message.text());
  });
  // The course's events are held back until the widget is gone; every one
  // held is then let through, and the test goes on once each has its
  // answer (or has failed).
  const held = gate();
  const inFlight: Request[] = [];
  // Answered (the page has the answer's headers: a gone widget never reads
  // the body, so "finished" never comes), or failed.
  const settled = new Set<Request>();
  page.on("response", (response) => settled.add(response.request()));
  page.on("requestfailed", (request) => settled.add(request));
  await page.route(`${stack.gateway.url}/api/training-events*`, async (route) => {
    inFlight.push(route.request());
    await held.wait();
    await route.continue();
  });
  await openAgencyPage(
    page,
    `<hbg-booking id="leaving"></hbg-booking>
     <hbg-booking id="restarting"></hbg-booking>
     <hbg-booking id="staying"></hbg-booking>`,
  );
  const leaving = page.locator("hbg-booking#leaving");
  const restarting = page.locator("hbg-booking#restarting");
  const staying = page.locator("hbg-booking#staying");
  for (const widget of [leaving, restarting]) {
    await widget.getByRole("button", { name: /^Moving & Handling Practical/ }).click();
    await expect(widget.getByRole("heading", { level: 2 })).toHaveText("Choose a location");
    await expect(widget.getByRole("status").filter({ hasText: "Loading locations" })).toBeVisible();
  }
  await leaving.evaluate((element) => element.remove());
  await restarting.evaluate((element) => element.setAttribute("course", "4"));
  // Both widgets' requests, and the restarted one's new request, are out.
  await expect.poll(() => inFlight.some((request) => /[?&]course_id=4(&|$)/.test(request.url()))).toBe(true);
  held.open();
  await expect.poll(() => inFlight.filter((request) => !settled.has(request)).length).toBe(0);
  // And the page has run its tasks after those answers.
  await afterNextFrames(page);

  await page.unroute(`${stack.gateway.url}/api/training-events*`);
  await book(staying, { course: "Basic Life Support Practical", location: /^Any location/ });
  await expect(restarting.getByText("Basic Life Support Practical", { exact: true })).toBeVisible();
  expect(errors).toEqual([]);
});

test("the demo agency page themes the widget through custom properties and parts, and hears its events", async ({
  page,
}) => {
  await page.goto(`${stack.gateway.url}/agency.html`);
  const widget = page.locator("hbg-booking");
  await expect(widget.getByRole("heading", { level: 2 })).toHaveText("Choose a course");
  const themed = await widget.evaluate((element) => {
    const root = element.shadowRoot!;
    const style = (selector: string) => getComputedStyle(root.querySelector(selector)!);
    return {
      heading: [style('[part~="heading"]').color, style('[part~="heading"]').textTransform],
      choice: [style('[part~="choice"]').borderLeftColor, style('[part~="choice"]').borderLeftWidth],
      font: style('[part~="root"]').fontFamily,
    };
  });
  expect(themed).toEqual({
    heading: ["rgb(91, 42, 134)", "none"],
    choice: ["rgb(91, 42, 134)", "6px"],
    font: '"Trebuchet MS", Verdana, sans-serif',
  });
  // The page's own h2 stays as the agency styled it.
  expect(await page.getByRole("heading", { name: "Before you book" }).evaluate((h2) => getComputedStyle(h2).textTransform)).toBe(
    "uppercase",
  );
  await expect(page.locator("#event-log")).toContainText('hbg:ready {"product":"practical"}');
  await widget.getByRole("button", { name: /^Moving & Handling Practical/ }).click();
  await expect(page.locator("#event-log")).toContainText('hbg:course-chosen {"product":"practical","course_id":2}');
});
