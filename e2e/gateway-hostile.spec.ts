// The gateway's own hostile-input run, as the sandbox's fuzz corpus
// (sandbox/tests/sandbox/fuzz.rs) treats the sandbox: the server binary an
// agency runs, in front of a sandbox, gets malformed, mistyped, oversized and
// odd requests at every /api route of the widget's contract
// (booking_core::widget_api). Each answer must be the precise 4xx the
// contract gives, as JSON with a message, `Cache-Control: no-store` and no
// secret in it; never a 5xx; and the gateway books normally afterwards.
import { test, expect, type APIRequestContext } from "@playwright/test";
import * as http from "node:http";
import { DEMO_ACCOUNT, startStack, type Stack } from "./support/stack";
import { AGENCY } from "./support/embed";

let stack: Stack;

test.beforeAll(async () => {
  stack = await startStack({ gatewayArgs: ["--allowed-origins", AGENCY] });
});

test.afterAll(async () => {
  await stack?.stop();
});

/** The largest `/api` request body the gateway reads (16 KiB). */
const BODY_LIMIT = 16 * 1024;

/** One request to the gateway; `path` is under `/api`. */
interface Probe {
  method: string;
  path: string;
  headers?: Record<string, string>;
  body?: string | Buffer;
}

/** An answer as the checks read it. */
interface Answer {
  status: number;
  headers: Record<string, string>;
  text: string;
  json: unknown;
}

function describe(probe: Probe): string {
  const body = probe.body === undefined ? "" : ` ${JSON.stringify(String(probe.body).slice(0, 80))}`;
  const headers = Object.entries(probe.headers ?? {})
    .filter(([name]) => name !== "x-hbg-session" && name !== "content-type")
    .map(([name, value]) => ` ${name}: ${JSON.stringify(value.slice(0, 40))}`)
    .join("");
  return `${probe.method} /api${probe.path.slice(0, 80)}${headers}${body}`;
}

function parsed(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/**
 * Sends probes and collects every way their answers differ from what was
 * expected, so one run lists them all. Each probe has a connection of its
 * own: the gateway may answer a body over the limit without reading it.
 */
class Run {
  readonly problems: string[] = [];
  probes = 0;

  constructor(private readonly request: APIRequestContext) {}

  /** Through Playwright's request context (it normalises the path as a URL). */
  async send(probe: Probe): Promise<Answer> {
    const response = await this.request.fetch(`${stack.gateway.url}/api${probe.path}`, {
      method: probe.method,
      headers: { connection: "close", ...probe.headers },
      data: probe.body,
      failOnStatusCode: false,
      maxRedirects: 0,
    });
    const text = await response.text();
    return { status: response.status(), headers: response.headers(), text, json: parsed(text) };
  }

  /** Through node:http: the path, header bytes and body framing exactly as given. */
  sendRaw(probe: Probe, { chunked = false } = {}): Promise<Answer> {
    const url = new URL(stack.gateway.url);
    return new Promise((resolve, reject) => {
      const body = probe.body === undefined ? undefined : Buffer.from(probe.body);
      const headers: Record<string, string | number> = { connection: "close", ...probe.headers };
      if (body && !chunked && !("content-length" in headers)) headers["content-length"] = body.length;
      const request = http.request(
        { host: url.hostname, port: url.port, method: probe.method, path: `/api${probe.path}`, headers },
        (response) => {
          const chunks: Buffer[] = [];
          response.on("data", (chunk: Buffer) => chunks.push(chunk));
          response.on("end", () => {
            const text = Buffer.concat(chunks).toString("utf8");
            const flat: Record<string, string> = {};
            for (const [name, value] of Object.entries(response.headers)) flat[name] = String(value);
            resolve({ status: response.statusCode ?? 0, headers: flat, text, json: parsed(text) });
          });
        },
      );
      // The gateway may answer before the whole body is sent; that is fine.
      request.on("error", (error) => (error.message.includes("EPIPE") ? undefined : reject(error)));
      if (body) request.write(body);
      request.end();
    });
  }

  /**
   * Checks an answer: the status; JSON with `Cache-Control: no-store`; for an
   * error a non-empty `message` and nothing secret; `Allow` on a 405.
   */
  check(what: string, answer: Answer, status: number): void {
    this.probes += 1;
    const problems: string[] = [];
    if (answer.status !== status) problems.push(`answered ${answer.status}, not ${status}`);
    if (answer.status >= 500) problems.push("a server error");
    if (answer.status !== 204) {
      if (answer.headers["content-type"] !== "application/json") {
        problems.push(`Content-Type ${answer.headers["content-type"]}`);
      }
      if (answer.json === undefined) problems.push("a body that is not JSON");
    }
    const cacheControl = answer.headers["cache-control"];
    if (cacheControl !== "no-store") problems.push(`Cache-Control ${cacheControl}`);
    if (answer.status >= 400) {
      const message = (answer.json as { message?: unknown } | undefined)?.message;
      if (typeof message !== "string" || message.trim() === "") problems.push("no message");
      for (const secret of [DEMO_ACCOUNT.api_key, stack.sandbox.url, "/api/v1"]) {
        if (answer.text.includes(secret)) problems.push(`the answer names ${JSON.stringify(secret)}`);
      }
    }
    if (answer.status === 405 && !answer.headers["allow"]) problems.push("a 405 without Allow");
    if (problems.length > 0) this.problems.push(`${what}: ${problems.join("; ")}: ${answer.text.slice(0, 200)}`);
  }

  async expect(probe: Probe, status: number): Promise<Answer> {
    const answer = await this.send(probe);
    this.check(describe(probe), answer, status);
    return answer;
  }

  async expectRaw(probe: Probe, status: number, options: { chunked?: boolean } = {}): Promise<Answer> {
    const answer = await this.sendRaw(probe, options);
    this.check(`${describe(probe)} (raw)`, answer, status);
    return answer;
  }

  /** Fails the test with every problem found, and checks enough was probed. */
  finish(atLeast: number): void {
    expect(this.problems, `${this.problems.length} of ${this.probes} probes answered wrongly`).toEqual([]);
    expect(this.probes, "probes sent").toBeGreaterThanOrEqual(atLeast);
  }
}

const JSON_TYPE = { "content-type": "application/json" };
const TEXT_TYPE = { "content-type": "text/plain" };

/** The per-field errors of a 422, `{}` when there are none. */
function errorsOf(answer: Answer): Record<string, unknown> {
  return (answer.json as { errors?: Record<string, unknown> } | undefined)?.errors ?? {};
}

/** A new widget session, as the widget gets one. */
async function newSession(request: APIRequestContext): Promise<string> {
  const response = await request.get(`${stack.gateway.url}/api/options`);
  expect(response.status()).toBe(200);
  const session = ((await response.json()) as { session?: string }).session;
  expect(session, "a new session").toBeTruthy();
  return session!;
}

/** A seat held for a session on a new event: its `hold_ref` and the event's id. */
async function holdNewEvent(request: APIRequestContext, session: string): Promise<{ holdRef: string; eventId: number }> {
  const event = await stack.createEvent({ courseId: 2 });
  const holdRef = await hold(request, session, event.id);
  return { holdRef, eventId: event.id };
}

async function hold(request: APIRequestContext, session: string, eventId: number): Promise<string> {
  const response = await request.post(`${stack.gateway.url}/api/holds`, {
    headers: { "x-hbg-session": session },
    data: { event_id: eventId },
  });
  expect(response.status(), await response.text()).toBe(200);
  return ((await response.json()) as { hold_ref: string }).hold_ref;
}

/** A valid booking request for a hold, by invoice. */
function bookingBody(holdRef: string, fields: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    hold_ref: holdRef,
    first_name: "Priya",
    last_name: "Patel",
    email: "priya.patel@carestaff.example",
    pay_option: "inv",
    ...fields,
  };
}

let keys = 0;
/** An Idempotency-Key no other request of this run has used. */
function freshKey(): string {
  keys += 1;
  return `hostile-run-${process.pid}-${keys}`;
}

/** A booking from options to the read-back, as the widget makes one: the gateway answers normally. */
async function booksNormally(request: APIRequestContext): Promise<void> {
  const session = await newSession(request);
  const headers = { "x-hbg-session": session };
  const courses = await request.get(`${stack.gateway.url}/api/courses`, { headers });
  expect(courses.status()).toBe(200);
  expect(((await courses.json()) as unknown[]).length).toBeGreaterThan(0);
  const { holdRef, eventId } = await holdNewEvent(request, session);
  const events = await request.get(`${stack.gateway.url}/api/training-events?course_id=2`, { headers });
  expect(events.status()).toBe(200);
  expect(((await events.json()) as { id: number }[]).map((event) => event.id)).toContain(eventId);
  const created = await request.post(`${stack.gateway.url}/api/bookings`, {
    headers: { ...headers, "idempotency-key": freshKey() },
    data: bookingBody(holdRef),
  });
  expect(created.status(), await created.text()).toBe(201);
  const receipt = (await created.json()) as { booking_ref: string; booking: { id: number; booking_status: string } };
  expect(receipt.booking.booking_status).toBe("booked");
  const read = await request.get(`${stack.gateway.url}/api/bookings/${receipt.booking_ref}`, { headers });
  expect(read.status()).toBe(200);
  expect(((await read.json()) as { booking: { id: number } }).booking.id).toBe(receipt.booking.id);
}

/** Whole bodies that are not what any route expects (the sandbox corpus's). */
function hostileBodies(): { name: string; body: Buffer }[] {
  const texts = [
    "",
    " ",
    "null",
    "true",
    "0",
    "-1e999",
    '"text"',
    "[]",
    "[{}]",
    "{",
    "}",
    '{"a":}',
    '{"a" 1}',
    "{'single': 'quotes'}",
    '{"a":1,}',
    '{"event_id":1,"event_id":[1]}',
    '{"a":NaN}',
    '{"a":Infinity}',
    '{"a":"\\ud800"}',
    '{"a":"\\u0000"}',
    "\ufeff{}",
    '{"pay_option":"credits"}\u0000',
    "<xml></xml>",
    "a=1&b=2",
    `${"[".repeat(2_000)}${"]".repeat(2_000)}`,
    `${'{"a":'.repeat(1_000)}1${"}".repeat(1_000)}`,
    `${"[".repeat(10_000)}${"]".repeat(10_000)}`,
    `${'{"a":'.repeat(5_000)}1${"}".repeat(5_000)}`,
    JSON.stringify(Object.fromEntries(Array.from({ length: 1_000 }, (_, n) => [`k${n}`, n]))),
    JSON.stringify(Object.fromEntries(Array.from({ length: 3_000 }, (_, n) => [`k${n}`, n]))),
    JSON.stringify({ first_name: "x".repeat(1024 * 1024) }),
  ];
  const bodies = texts.map((text) => ({ name: text.slice(0, 40), body: Buffer.from(text) }));
  bodies.push({ name: "UTF-16 bytes", body: Buffer.from([0xff, 0xfe, 0x00, 0x7b, 0x7d]) });
  bodies.push({ name: "bytes that are not UTF-8", body: Buffer.alloc(64, 0x80) });
  return bodies;
}

/** JSON values (as text) that are wrong for every field in some way (the sandbox corpus's). */
const NOT_STRINGS = [
  "true",
  "0",
  "-1",
  "1.5",
  "1e308",
  "9223372036854775807",
  "-9223372036854775808",
  "18446744073709551616",
  "[]",
  "{}",
  '{"$ne":null}',
  '["a",1,null]',
  `${"[".repeat(100)}"deep"${"]".repeat(100)}`,
];
const HOSTILE_STRINGS = [
  "",
  "   ",
  "'; DROP TABLE bookings; --",
  "1 OR 1=1",
  "\u0000\u0001\u001b[31m\u007f",
  "😀 Zoë Ñandú 李小龙 \u202egnp.exe",
  "<script>alert(1)</script>",
  "%00%2e%2e%2f",
  "../../../etc/passwd",
  "9999-12-31T23:59:59Z",
  "x".repeat(5_000),
].map((text) => JSON.stringify(text));
/** The hostile string longer than any candidate's field may be. */
const LONG_STRING = JSON.stringify("x".repeat(5_000));
/** The candidate's fields the gateway holds to the widget's own length limits. */
const LENGTH_CHECKED = ["first_name", "last_name", "email", "phone", "job_role"];
/** A string that alone takes a body over the limit. */
const HUGE_STRING = JSON.stringify("x".repeat(20_000));

/** `body` (a JSON object) with one field's value replaced by raw JSON text. */
function withRaw(body: Record<string, unknown>, field: string, raw: string): string {
  const marker = "\u0001FIELD\u0001";
  return JSON.stringify({ ...body, [field]: marker }).replace(JSON.stringify(marker), raw);
}

test("malformed, mistyped and oversized bodies at every POST route are 422, or 413 over 16 KiB", async ({
  request,
}) => {
  const run = new Run(request);
  const session = await newSession(request);
  const { holdRef } = await holdNewEvent(request, session);
  const routes: Probe[] = [
    { method: "POST", path: "/holds", headers: { ...JSON_TYPE, "x-hbg-session": session } },
    { method: "POST", path: "/holds/release", headers: TEXT_TYPE },
    {
      method: "POST",
      path: "/bookings",
      headers: { ...JSON_TYPE, "x-hbg-session": session, "idempotency-key": freshKey() },
    },
  ];
  for (const route of routes) {
    for (const { body } of hostileBodies()) {
      await run.expect({ ...route, body }, body.length > BODY_LIMIT ? 413 : 422);
    }
    // Over the limit without a Content-Length (sent in chunks), and with a
    // Content-Length far over it whatever is actually sent.
    await run.expectRaw({ ...route, body: `{"pad":"${"x".repeat(BODY_LIMIT + 100)}"}` }, 413, { chunked: true });
    await run.expectRaw({ ...route, headers: { ...route.headers, "content-length": "99999999999" }, body: "{}" }, 413);
  }
  // The limit is exact: a body of 16 KiB is read, one byte more is not.
  const beacon = JSON.stringify({ session, hold_ref: "not-a-hold.x" });
  const padded = (size: number) => beacon + " ".repeat(size - beacon.length);
  await run.expect({ ...routes[1], body: padded(BODY_LIMIT) }, 404);
  await run.expect({ ...routes[1], body: padded(BODY_LIMIT + 1) }, 413);
  // None of it touched the session's hold: it is still there to release.
  await run.expect({ method: "DELETE", path: `/holds/${holdRef}`, headers: { "x-hbg-session": session } }, 204);
  run.finish(3 * (hostileBodies().length + 2) + 3);
  await booksNormally(request);
});

test("every field of every body, given a wrong type or a hostile value, is refused at once and precisely", async ({
  request,
}) => {
  const run = new Run(request);
  const session = await newSession(request);
  const { holdRef, eventId } = await holdNewEvent(request, session);
  const asSession = { ...JSON_TYPE, "x-hbg-session": session };

  // POST /api/holds. event_id: a u64; 0 and the largest ones are unknown
  // events upstream; anything else is not a number the contract accepts.
  for (const raw of [...NOT_STRINGS, ...HOSTILE_STRINGS, "null", "18446744073709551615"]) {
    const body = withRaw({}, "event_id", raw);
    const unknownEvent = ["0", "9223372036854775807", "18446744073709551615"].includes(raw);
    await run.expect({ method: "POST", path: "/holds", headers: asSession, body }, unknownEvent ? 404 : 422);
  }
  const huge = withRaw({}, "event_id", HUGE_STRING);
  await run.expect({ method: "POST", path: "/holds", headers: asSession, body: huge }, 413);
  // hold_ref, from another session, on the event this one holds: a string
  // (or none) gets the 409 that shows no hold; anything else is 422.
  const asOther = { ...JSON_TYPE, "x-hbg-session": await newSession(request) };
  for (const raw of [...NOT_STRINGS, ...HOSTILE_STRINGS, "null"]) {
    const body = withRaw({ event_id: eventId }, "hold_ref", raw);
    const status = NOT_STRINGS.includes(raw) ? 422 : 409;
    const answer = await run.expect({ method: "POST", path: "/holds", headers: asOther, body }, status);
    if (answer.status === 409) {
      const keysShown = JSON.stringify(Object.keys(answer.json as object).sort());
      if (
        keysShown !== '["free_in_seconds","held_until","message","request_id"]' ||
        answer.text.includes(holdRef.split(".")[0])
      ) {
        run.problems.push(`hold_ref ${raw.slice(0, 40)}: the 409 shows more than until when: ${answer.text}`);
      }
    }
  }
  // Nor with the owner's reference, which opens for the owner only...
  const withOwnRef = JSON.stringify({ event_id: eventId, hold_ref: holdRef });
  const stolen = await run.expect({ method: "POST", path: "/holds", headers: asOther, body: withOwnRef }, 409);
  expect(stolen.text).not.toContain(holdRef.split(".")[0]);
  // ...who gets its own hold back with it.
  const own = await run.expect({ method: "POST", path: "/holds", headers: asSession, body: withOwnRef }, 200);
  expect((own.json as { hold_ref: string }).hold_ref).toBe(holdRef);

  // POST /api/holds/release: a session that is no session is 401, a hold
  // that is not this session's is 404, a wrong type is 422.
  for (const raw of [...NOT_STRINGS, ...HOSTILE_STRINGS, "null"]) {
    const badSession = withRaw({ session: "", hold_ref: holdRef }, "session", raw);
    const badHold = withRaw({ session, hold_ref: "" }, "hold_ref", raw);
    const string = HOSTILE_STRINGS.includes(raw);
    const beacon = { method: "POST", path: "/holds/release", headers: TEXT_TYPE };
    await run.expect({ ...beacon, body: badSession }, string ? 401 : 422);
    await run.expect({ ...beacon, body: badHold }, string ? 404 : 422);
  }

  // POST /api/bookings, with a good session and key and a hold_ref that is
  // not a hold, so nothing reaches the upstream: a wrong type or a missing
  // field is 422; a hostile pay option is 422 at pay_option, and so is a
  // candidate's field longer than the widget allows, at that field, before
  // anything is kept; a hostile hold reference, or any other string in the
  // other fields, gets as far as the hold: 404.
  const base = bookingBody("not-a-hold.x", { phone: "07700 900123", job_role: "Carer", return_url: `${AGENCY}/back` });
  const optional = ["phone", "job_role", "return_url"];
  for (const field of Object.keys(base)) {
    for (const raw of [...NOT_STRINGS, ...HOSTILE_STRINGS, "null"]) {
      let status = 422;
      const tooLong = raw === LONG_STRING && LENGTH_CHECKED.includes(field);
      if (HOSTILE_STRINGS.includes(raw) || (raw === "null" && optional.includes(field))) {
        status = field === "pay_option" || tooLong ? 422 : 404;
      }
      const headers = { ...asSession, "idempotency-key": freshKey() };
      const body = withRaw(base, field, raw);
      const answer = await run.expect({ method: "POST", path: "/bookings", headers, body }, status);
      const atItsField = field === "pay_option" ? HOSTILE_STRINGS.includes(raw) : tooLong;
      if (atItsField && !Array.isArray(errorsOf(answer)[field])) {
        run.problems.push(`${field} ${raw.slice(0, 40)}: no error at ${field}: ${answer.text}`);
      }
    }
    const headers = { ...asSession, "idempotency-key": freshKey() };
    await run.expect({ method: "POST", path: "/bookings", headers, body: withRaw(base, field, HUGE_STRING) }, 413);
    const { [field]: _, ...missing } = base;
    const answer = await run.expect(
      { method: "POST", path: "/bookings", headers, body: JSON.stringify(missing) },
      optional.includes(field) ? 404 : 422,
    );
    if (!optional.includes(field) && !Array.isArray(errorsOf(answer)[field])) {
      run.problems.push(`without ${field}: no error at ${field}: ${answer.text}`);
    }
  }
  const values = NOT_STRINGS.length + HOSTILE_STRINGS.length + 1;
  run.finish(values + 2 + values + 2 + 2 * values + Object.keys(base).length * (values + 2));

  // The hold survived all of it and books.
  const created = await request.post(`${stack.gateway.url}/api/bookings`, {
    headers: { "x-hbg-session": session, "idempotency-key": freshKey() },
    data: bookingBody(holdRef),
  });
  expect(created.status(), await created.text()).toBe(201);
  await booksNormally(request);
});

test("a missing, forged, tampered or foreign session is 401 at every route that needs one", async ({ request }) => {
  const run = new Run(request);
  const session = await newSession(request);
  const { holdRef } = await holdNewEvent(request, session);
  const created = await request.post(`${stack.gateway.url}/api/bookings`, {
    headers: { "x-hbg-session": session, "idempotency-key": freshKey() },
    data: bookingBody((await holdNewEvent(request, session)).holdRef),
  });
  expect(created.status()).toBe(201);
  const bookingRef = ((await created.json()) as { booking_ref: string }).booking_ref;
  const [id, tag] = session.split(".");
  // One character changed, the first (the last also holds padding bits).
  const flip = (text: string) => (text.startsWith("A") ? "B" : "A") + text.slice(1);
  const badSessions: (string | undefined)[] = [
    undefined,
    "",
    " ",
    "null",
    "undefined",
    "garbage",
    ".",
    `${id}.`,
    `.${tag}`,
    `${id}.${flip(tag)}`,
    `${flip(id)}.${tag}`,
    `${id}.${tag}x`,
    `${id}.${tag}.${tag}`,
    `${tag}.${id}`,
    `Bearer ${session}`,
    session.toUpperCase(),
    holdRef,
    bookingRef,
    "a".repeat(8_000),
    "../../etc/passwd",
    "<script>alert(1)</script>",
    "AAAAAAAAAAAAAAAAAAAAAA.AAAAAAAAAAAAAAAAAAAAAA",
  ];
  const routes: Probe[] = [
    { method: "GET", path: "/courses" },
    { method: "GET", path: "/training-events?course_id=2" },
    { method: "POST", path: "/holds", headers: JSON_TYPE, body: JSON.stringify({ event_id: 1 }) },
    { method: "DELETE", path: `/holds/${holdRef}` },
    {
      method: "POST",
      path: "/bookings",
      headers: { ...JSON_TYPE, "idempotency-key": freshKey() },
      body: JSON.stringify(bookingBody(holdRef)),
    },
    { method: "GET", path: `/bookings/${bookingRef}` },
  ];
  for (const route of routes) {
    for (const bad of badSessions) {
      const headers = bad === undefined ? { ...route.headers } : { ...route.headers, "x-hbg-session": bad };
      await run.expect({ ...route, headers }, 401);
    }
    // A header value that is not visible ASCII (sent as Latin-1 bytes).
    await run.expectRaw({ ...route, headers: { ...route.headers, "x-hbg-session": `${id}\u00e9.${tag}` } }, 401);
  }
  // The release beacon carries the session in its body.
  for (const bad of badSessions) {
    if (bad === undefined) continue;
    const body = JSON.stringify({ session: bad, hold_ref: holdRef });
    await run.expect({ method: "POST", path: "/holds/release", headers: TEXT_TYPE, body }, 401);
  }
  // /api/options hands anyone without a valid session a new one.
  for (const bad of badSessions) {
    const headers: Record<string, string> = bad === undefined ? {} : { "x-hbg-session": bad };
    const answer = await run.expect({ method: "GET", path: "/options", headers }, 200);
    const fresh = (answer.json as { session?: unknown } | undefined)?.session;
    if (typeof fresh !== "string" || fresh === bad || fresh === session) {
      run.problems.push(`GET /api/options with session ${JSON.stringify(bad?.slice(0, 40))}: no new session`);
    }
  }
  run.finish(routes.length * (badSessions.length + 1) + 2 * badSessions.length - 1);

  // The hold and the booking are still there for their own session.
  const own = { "x-hbg-session": session };
  expect((await request.get(`${stack.gateway.url}/api/bookings/${bookingRef}`, { headers: own })).status()).toBe(200);
  expect((await request.delete(`${stack.gateway.url}/api/holds/${holdRef}`, { headers: own })).status()).toBe(204);
  await booksNormally(request);
});

test("unknown, foreign and hostile references, ids and filters are 404 or 422, never another session's", async ({
  request,
}) => {
  const run = new Run(request);
  const owner = await newSession(request);
  const other = await newSession(request);
  const { holdRef, eventId } = await holdNewEvent(request, owner);
  const created = await request.post(`${stack.gateway.url}/api/bookings`, {
    headers: { "x-hbg-session": owner, "idempotency-key": freshKey() },
    data: bookingBody((await holdNewEvent(request, owner)).holdRef),
  });
  expect(created.status()).toBe(201);
  const bookingRef = ((await created.json()) as { booking_ref: string }).booking_ref;
  const [hash] = holdRef.split(".");
  const [bookingId] = bookingRef.split(".");
  const asOwner = { "x-hbg-session": owner };
  const asOther = { "x-hbg-session": other };

  // References in the path, for the session that owns the real ones.
  const refs = [
    "x",
    ".",
    "a.b",
    hash,
    `${hash}.`,
    `${hash}.AAAAAAAAAAAAAAAAAAAAAA`,
    `${hash}x.${holdRef.split(".")[1]}`,
    bookingId,
    `${bookingId}.`,
    `0${bookingRef}`,
    `-${bookingRef}`,
    "18446744073709551616.AAAAAAAAAAAAAAAAAAAAAA",
    owner,
    "%00",
    "..%2f..%2fetc%2fpasswd",
    "%27%20OR%20%271%27%3D%271",
    "%3Cscript%3Ealert(1)%3C%2Fscript%3E",
    "%F0%9F%98%80",
    "a".repeat(5_000),
  ];
  for (const ref of refs) {
    await run.expect({ method: "DELETE", path: `/holds/${ref}`, headers: asOwner }, 404);
    await run.expect({ method: "GET", path: `/bookings/${ref}`, headers: asOwner }, 404);
  }
  // One kind of reference never passes for the other.
  await run.expect({ method: "DELETE", path: `/holds/${bookingRef}`, headers: asOwner }, 404);
  await run.expect({ method: "GET", path: `/bookings/${holdRef}`, headers: asOwner }, 404);
  // Bytes that are not UTF-8 cannot be a reference: 400.
  await run.expect({ method: "DELETE", path: "/holds/%FF", headers: asOwner }, 400);
  await run.expect({ method: "GET", path: "/bookings/%FF%FE", headers: asOwner }, 400);
  // Path traversal, exactly as sent (no URL normalisation on the way).
  for (const path of [
    "/holds/../../../etc/passwd",
    "/bookings/../../../etc/passwd",
    "/../../etc/passwd",
    "/%2e%2e/index.html",
    "/./courses/..",
  ]) {
    await run.expectRaw({ method: "GET", path, headers: asOwner }, 404);
  }

  // Another session's references are unknown to this one, however used.
  await run.expect({ method: "DELETE", path: `/holds/${holdRef}`, headers: asOther }, 404);
  await run.expect({ method: "GET", path: `/bookings/${bookingRef}`, headers: asOther }, 404);
  const release = JSON.stringify({ session: other, hold_ref: holdRef });
  await run.expect({ method: "POST", path: "/holds/release", headers: TEXT_TYPE, body: release }, 404);
  await run.expect(
    {
      method: "POST",
      path: "/bookings",
      headers: { ...asOther, ...JSON_TYPE, "idempotency-key": freshKey() },
      body: JSON.stringify(bookingBody(holdRef)),
    },
    404,
  );
  const taken = await run.expect(
    {
      method: "POST",
      path: "/holds",
      headers: { ...asOther, ...JSON_TYPE },
      body: JSON.stringify({ event_id: eventId, hold_ref: holdRef }),
    },
    409,
  );
  expect(Object.keys(taken.json as object).sort()).toEqual(["free_in_seconds", "held_until", "message", "request_id"]);
  expect(taken.text).not.toContain(hash);

  // Unknown events to hold.
  for (const id of ["0", "999999999", "9223372036854775807", "18446744073709551615"]) {
    const body = `{"event_id":${id}}`;
    await run.expect({ method: "POST", path: "/holds", headers: { ...asOther, ...JSON_TYPE }, body }, 404);
  }

  // Filters of the events list: not a number is 422 at its name; a number
  // no course or location has is an empty list; a filter given twice is 400.
  for (const name of ["course_id", "location_id"]) {
    const notNumbers = ["abc", "-1", "1.5", "1e3", "0x10", "%00", "%FF", "%3Cscript%3E", "1%20OR%201%3D1", "1,2"];
    for (const value of [...notNumbers, "a".repeat(3_000)]) {
      const path = `/training-events?${name}=${value}`;
      const answer = await run.expect({ method: "GET", path, headers: asOther }, 422);
      if (!Array.isArray(errorsOf(answer)[name])) {
        run.problems.push(`${name}=${value.slice(0, 40)}: no error at ${name}: ${answer.text}`);
      }
    }
    for (const value of ["0", "18446744073709551615"]) {
      await run.expect({ method: "GET", path: `/training-events?${name}=${value}`, headers: asOther }, 422);
    }
    const none = await run.expect({ method: "GET", path: `/training-events?${name}=99999999`, headers: asOther }, 200);
    expect(none.json).toEqual([]);
    await run.expect({ method: "GET", path: `/training-events?${name}=1&${name}=2`, headers: asOther }, 400);
  }
  run.finish(2 * refs.length + 4 + 5 + 5 + 4 + 2 * 15);

  // The owner's hold and booking are untouched.
  await run.expect({ method: "GET", path: `/bookings/${bookingRef}`, headers: asOwner }, 200);
  await run.expect({ method: "DELETE", path: `/holds/${holdRef}`, headers: asOwner }, 204);
  expect(run.problems).toEqual([]);
  await booksNormally(request);
});

test("a missing or bad Idempotency-Key is 400 before anything is booked; the longest good one is read", async ({
  request,
}) => {
  const run = new Run(request);
  const session = await newSession(request);
  const { holdRef } = await holdNewEvent(request, session);
  const headers = { ...JSON_TYPE, "x-hbg-session": session };
  const body = JSON.stringify(bookingBody(holdRef));
  await run.expect({ method: "POST", path: "/bookings", headers, body }, 400);
  for (const key of ["", " ", "a b", "key\t1", "k".repeat(129), "k".repeat(10_000)]) {
    await run.expect({ method: "POST", path: "/bookings", headers: { ...headers, "idempotency-key": key }, body }, 400);
  }
  // Not visible ASCII (sent as Latin-1 bytes).
  const latin1 = { ...headers, "idempotency-key": "cl\u00e9" };
  await run.expectRaw({ method: "POST", path: "/bookings", headers: latin1, body }, 400);
  // Any 1 to 128 visible ASCII characters are a key: with a hold that is not
  // one, these get as far as the hold.
  const notAHold = JSON.stringify(bookingBody("not-a-hold.x"));
  for (const key of ["k", "k".repeat(128), "<script>alert(1)</script>", "../../etc/passwd", "';DROP_TABLE_x;--"]) {
    const withKey = { ...headers, "idempotency-key": key };
    await run.expect({ method: "POST", path: "/bookings", headers: withKey, body: notAHold }, 404);
  }
  run.finish(13);
  // Nothing was booked with the hold: it books now.
  const created = await request.post(`${stack.gateway.url}/api/bookings`, {
    headers: { "x-hbg-session": session, "idempotency-key": "k".repeat(128) },
    data: bookingBody(holdRef),
  });
  expect(created.status(), await created.text()).toBe(201);
  await booksNormally(request);
});

test("wrong methods are 405, unknown and removed routes 404, origins off the list 403, and odd headers change nothing", async ({
  request,
}) => {
  const run = new Run(request);
  const session = await newSession(request);
  const { holdRef } = await holdNewEvent(request, session);
  const asSession = { "x-hbg-session": session };

  const wrongMethods: [string, string][] = [
    ["POST", "/options"],
    ["DELETE", "/options"],
    ["POST", "/courses"],
    ["PUT", "/courses"],
    ["DELETE", "/courses"],
    ["POST", "/training-events"],
    ["PATCH", "/training-events"],
    ["GET", "/holds"],
    ["PUT", "/holds"],
    ["DELETE", "/holds"],
    ["GET", "/holds/release"],
    ["DELETE", "/holds/release"],
    ["GET", `/holds/${holdRef}`],
    ["POST", `/holds/${holdRef}`],
    ["PUT", `/holds/${holdRef}`],
    ["GET", "/bookings"],
    ["PUT", "/bookings"],
    ["POST", "/bookings/1.x"],
    ["PATCH", "/bookings/1.x"],
    ["DELETE", "/bookings/1.x"],
  ];
  for (const [method, path] of wrongMethods) {
    await run.expect({ method, path, headers: { ...asSession, ...JSON_TYPE }, body: "{}" }, 405);
  }

  // Nothing else of the upstream API, including the routes the widget never
  // called (/locations, /training-events/{id}), and nothing of the sandbox's.
  const unknown: [string, string][] = [
    ["GET", ""],
    ["GET", "/locations"],
    ["GET", "/training-events/1"],
    ["GET", "/profile"],
    ["GET", "/credits"],
    ["GET", "/transactions"],
    ["POST", "/auth/token"],
    ["GET", "/auth/token-info"],
    ["POST", "/bookings/1/cancel"],
    ["GET", "/bookings/1/certificate"],
    ["GET", "/v1/courses"],
    ["GET", "/api/courses"],
    ["POST", "/_sandbox/clock"],
    ["GET", "/courses/"],
    ["GET", "//courses"],
    ["GET", "/options/"],
    ["POST", "/holds/"],
    ["GET", "/bookings/"],
    ["DELETE", "/holds/"],
    ["GET", "/no/such/route"],
  ];
  for (const [method, path] of unknown) {
    const body = method === "GET" ? undefined : "{}";
    await run.expect({ method, path, headers: { ...asSession, ...JSON_TYPE }, body }, 404);
  }

  // An Origin that is neither the gateway's own nor on the list is refused
  // at every route, before anything else is looked at.
  const gatewayUrl = new URL(stack.gateway.url);
  const refusedOrigins = [
    "https://evil.example",
    "null",
    `${AGENCY}/`,
    AGENCY.toUpperCase(),
    `${AGENCY}:443`,
    AGENCY.replace("https:", "http:"),
    `${AGENCY}.evil.example`,
    `https://evil.${new URL(AGENCY).host}`,
    `http://${gatewayUrl.hostname}:${Number(gatewayUrl.port) + 1}`,
    `http://localhost:${gatewayUrl.port}`,
    `${stack.gateway.url}.evil.example`,
    "",
  ];
  const routes: Probe[] = [
    { method: "GET", path: "/options" },
    { method: "GET", path: "/courses", headers: asSession },
    { method: "GET", path: "/training-events", headers: asSession },
    { method: "POST", path: "/holds", headers: { ...asSession, ...JSON_TYPE }, body: '{"event_id":1}' },
    { method: "DELETE", path: `/holds/${holdRef}`, headers: asSession },
    {
      method: "POST",
      path: "/holds/release",
      headers: TEXT_TYPE,
      body: JSON.stringify({ session, hold_ref: holdRef }),
    },
    {
      method: "POST",
      path: "/bookings",
      headers: { ...asSession, ...JSON_TYPE, "idempotency-key": freshKey() },
      body: JSON.stringify(bookingBody(holdRef)),
    },
    { method: "GET", path: "/bookings/1.x", headers: asSession },
  ];
  for (const route of routes) {
    for (const origin of refusedOrigins) {
      await run.expect({ ...route, headers: { ...route.headers, origin } }, 403);
    }
  }
  // The listed origin and the gateway's own are let through.
  for (const origin of [AGENCY, stack.gateway.url]) {
    await run.expect({ method: "GET", path: "/courses", headers: { ...asSession, origin } }, 200);
  }

  // Odd headers change nothing: what the client accepts, how it says the
  // body is typed or encoded, where it says it comes from.
  const odd: Record<string, string>[] = [
    { accept: "text/html" },
    { accept: "application/xml;q=1, */*;q=0" },
    { "accept-encoding": "br" },
    { "accept-encoding": "gzip, deflate" },
    { "accept-encoding": "x-bogus" },
    { "accept-language": "<script>" },
    { "x-forwarded-for": "1.2.3.4, <script>alert(1)</script>, ::1" },
    { "x-forwarded-host": "evil.example" },
    { "x-request-id": "'; DROP TABLE bookings; --" },
    { "x-padding": "a".repeat(64 * 1024) },
    { cookie: "session=../../etc/passwd" },
    { "user-agent": "<script>alert(1)</script>" },
  ];
  for (const headers of odd) {
    await run.expect({ method: "GET", path: "/courses", headers: { ...asSession, ...headers } }, 200);
    await run.expect({ method: "GET", path: "/bookings/1.x", headers: { ...asSession, ...headers } }, 404);
  }
  // The body is read as JSON whatever it is said to be.
  for (const type of [
    "text/plain",
    "application/xml",
    "multipart/form-data; boundary=x",
    "application/json; charset=utf-16",
    "x/x",
  ]) {
    const headers = { ...asSession, "content-type": type };
    await run.expect({ method: "POST", path: "/holds", headers, body: "<event_id>1</event_id>" }, 422);
    await run.expect({ method: "POST", path: "/holds", headers, body: '{"event_id":0}' }, 404);
  }
  // A body said to be compressed is not decompressed: it is not JSON.
  const gzip = { ...asSession, ...JSON_TYPE, "content-encoding": "gzip" };
  await run.expect({ method: "POST", path: "/holds", headers: gzip, body: Buffer.from([0x1f, 0x8b, 0x08, 0x00]) }, 422);
  run.finish(wrongMethods.length + unknown.length + routes.length * refusedOrigins.length + 2 + 2 * odd.length + 11);

  await run.expect({ method: "DELETE", path: `/holds/${holdRef}`, headers: asSession }, 204);
  expect(run.problems).toEqual([]);
  await booksNormally(request);
});

test("markup and unicode in the candidate's fields are booked exactly as given, or refused at their field", async ({
  request,
}) => {
  const run = new Run(request);
  const session = await newSession(request);
  const asSession = { ...JSON_TYPE, "x-hbg-session": session };
  let holdRef = "";
  const fresh = async () => {
    holdRef = (await holdNewEvent(request, session)).holdRef;
  };
  await fresh();

  // Accepted by the upstream as they are, and read back unchanged.
  const kept = [
    { first_name: "<script>alert(1)</script>", last_name: "<img src=x onerror=alert(1)>" },
    { first_name: "Zoë Ñandú", last_name: "李小龙 😀", job_role: "\u202egnp.exe" },
    { first_name: "Robert'); DROP TABLE bookings;--", last_name: "O'Brien", job_role: "{{7*7}} ${7*7} %s %n" },
    { first_name: "Ann\u200bMarie", last_name: "Ng\u0301uyen", job_role: "x".repeat(100) },
  ];
  for (const fields of kept) {
    const answer = await run.expect(
      {
        method: "POST",
        path: "/bookings",
        headers: { ...asSession, "idempotency-key": freshKey() },
        body: JSON.stringify(bookingBody(holdRef, fields)),
      },
      201,
    );
    if (answer.status !== 201) continue;
    const receipt = answer.json as { booking_ref: string; booking: { candidate: Record<string, unknown> } };
    const read = await run.expect({ method: "GET", path: `/bookings/${receipt.booking_ref}`, headers: asSession }, 200);
    const candidate = (read.json as { booking: { candidate: Record<string, unknown> } }).booking.candidate;
    const expected = {
      name: `${fields.first_name} ${fields.last_name}`,
      job_role: (fields as { job_role?: string }).job_role ?? null,
    };
    const seen = { name: candidate.name, job_role: candidate.job_role };
    if (JSON.stringify(seen) !== JSON.stringify(expected)) {
      run.problems.push(`booked ${JSON.stringify(fields).slice(0, 80)}: read back ${JSON.stringify(seen)}`);
    }
    await fresh();
  }

  // Refused by the upstream at the field, the hold kept for the next try.
  const refused: [string, string][] = [
    ["email", "<script>alert(1)</script>"],
    ["email", "priya@carestaff.example<script>"],
    ["email", "😀@😀"],
    ["email", "a@b.c\u0000"],
    ["phone", "<b>07700 900123</b>"],
    ["phone", "'; DROP TABLE bookings; --"],
    ["phone", "+44 😀"],
    ["first_name", "x".repeat(101)],
    ["last_name", "😀".repeat(101)],
    ["job_role", "<".repeat(101)],
    ["first_name", "   "],
  ];
  for (const [field, value] of refused) {
    const answer = await run.expect(
      {
        method: "POST",
        path: "/bookings",
        headers: { ...asSession, "idempotency-key": freshKey() },
        body: JSON.stringify(bookingBody(holdRef, { [field]: value })),
      },
      422,
    );
    if (answer.status === 422 && !Array.isArray(errorsOf(answer)[field])) {
      run.problems.push(`${field} ${JSON.stringify(value).slice(0, 40)}: no error at ${field}: ${answer.text}`);
    }
  }
  run.finish(2 * kept.length + refused.length);
  const created = await request.post(`${stack.gateway.url}/api/bookings`, {
    headers: { ...asSession, "idempotency-key": freshKey() },
    data: bookingBody(holdRef),
  });
  expect(created.status(), await created.text()).toBe(201);
  await booksNormally(request);
});

// `/api/` (the prefix with its trailing slash) is not matched by the nested
// `/api` router; the gateway hands it to that router all the same, so it
// answers like every other unknown `/api` path and not with the widget's files.
test("/api/ itself answers like every other unknown /api path: 404 JSON, no-store", async ({ request }) => {
  const run = new Run(request);
  for (const method of ["GET", "POST", "DELETE"]) {
    await run.expect({ method, path: "/" }, 404);
  }
  run.finish(3);
});

// A request that accepts no content coding at all
// (`Accept-Encoding: identity;q=0, *;q=0`) is refused 406 with a message
// before any handler runs: no seat is held for a client that refuses every
// answer.
test("a request that accepts no content coding is refused with a message before anything is done", async ({
  request,
}) => {
  const run = new Run(request);
  const session = await newSession(request);
  const event = await stack.createEvent({ courseId: 2, capacity: 1 });
  await run.expect(
    {
      method: "POST",
      path: "/holds",
      headers: { ...JSON_TYPE, "x-hbg-session": session, "accept-encoding": "identity;q=0, *;q=0" },
      body: JSON.stringify({ event_id: event.id }),
    },
    406,
  );
  run.finish(1);
  // The seat is still free for another candidate.
  await hold(request, await newSession(request), event.id);
});
