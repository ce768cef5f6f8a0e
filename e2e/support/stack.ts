// Starts the project's real servers on ephemeral ports for one test file:
// a sandbox in test mode and a gateway in front of it serving the built
// widget, as an agency would run them, plus helpers that set up data.
import { spawn, type ChildProcess } from "node:child_process";
import { createInterface } from "node:readline";

/** A running server and the base URL it announced. */
export interface RunningServer {
  url: string;
  process: ChildProcess;
  stop(): Promise<void>;
}

/** The demo account every sandbox seeds (invoice payments, credits, balance). */
export const DEMO_ACCOUNT = { hb_client_id: "HB-DEMO", api_key: "sandbox-key" };

/** The Virtual BLS demo account every sandbox seeds (invoice payments, credits, balance). */
export const BLS_DEMO_ACCOUNT = { hb_client_id: "HB-BLS-DEMO", api_key: "bls-sandbox-key" };

/** Signs the test gateway's widget sessions; for tests only. */
const TEST_GATEWAY_KEY = "e2e-only-gateway-key-0123456789abcdef";

/** Every pay option, so tests can take each path. */
const PAY_OPTIONS = "credits,balance,inv,candidate_pays";
/** Every Virtual BLS pay option, as its API names them. */
const BLS_PAY_OPTIONS = "credits,balance,invoice,candidate_pays";

/** The servers' binaries, by the name each announces itself with. */
const BINARIES = {
  sandbox: { program: "booking-sandbox", variable: "BOOKING_SANDBOX_BIN" },
  gateway: { program: "booking-gateway", variable: "BOOKING_GATEWAY_BIN" },
} as const;

/** A server the tests start: `booking-sandbox` or `booking-gateway`. */
export type ServerName = keyof typeof BINARIES;

function serverBinary(name: ServerName): string {
  const { variable } = BINARIES[name];
  const bin = process.env[variable];
  if (!bin) throw new Error(`${variable} is not set: run the tests with \`cargo xtask test\``);
  return bin;
}

function distDir(): string {
  const dist = process.env.BOOKING_DIST;
  if (!dist) throw new Error("BOOKING_DIST is not set: run the tests with `cargo xtask test`");
  return dist;
}

/**
 * Spawns the server `name` (`booking-sandbox` or `booking-gateway`) with
 * ARGS and waits for its "listening on URL" line. Servers log warnings and
 * errors only, unless `RUST_LOG` says otherwise.
 */
export async function startServer(
  name: ServerName,
  args: string[],
  env: Record<string, string> = {},
): Promise<RunningServer> {
  const { program } = BINARIES[name];
  const child = spawn(serverBinary(name), args, {
    stdio: ["ignore", "pipe", "inherit"],
    env: { RUST_LOG: "warn", ...process.env, ...env },
  });
  const lines = createInterface({ input: child.stdout! });
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${program} did not start`)), 15_000);
    child.once("exit", (code) => reject(new Error(`${program} exited with ${code}`)));
    lines.on("line", (line) => {
      const match = /listening on (http:\/\/\S+)/.exec(line);
      if (match) {
        clearTimeout(timer);
        resolve(match[1]);
      }
    });
  });
  return {
    url,
    process: child,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        child.once("exit", () => resolve());
        child.kill("SIGTERM");
      }),
  };
}

/** How to start a stack. */
export interface StackOptions {
  /** The sandbox clock's start (RFC 3339), for reproducible dates. */
  clockStart?: string;
  /** Extra gateway flags, e.g. `["--allowed-origins", "https://agency.example"]`. */
  gatewayArgs?: string[];
}

/** `GET/POST /_sandbox/clock`. */
export interface ClockReading {
  now: string;
  offset_seconds: number;
}

/** A training event as the sandbox returns it (`TrainingEventDetail`). */
export interface SandboxEvent {
  id: number;
  course: { id: number; name: string };
  location: { id: number; name: string };
  start_date: string;
  end_date: string;
  remaining_slots: number;
  capacity: number;
  cost_inc_vat: number;
}

/** What `createEvent` needs; the rest defaults as the sandbox documents. */
export interface NewEvent {
  courseId: number;
  /** Default 1 (Leeds). */
  locationId?: number;
  /** RFC 3339; default 48 hours after the sandbox clock's now. */
  startDate?: string;
  /** Default 12. */
  capacity?: number;
  /** Pounds; default the course's price. */
  costIncVat?: number;
}

/** A sandbox, a gateway in front of it, and helpers for test data. */
export interface Stack {
  sandbox: RunningServer;
  gateway: RunningServer;
  /** Stops the gateway, then the sandbox. */
  stop(): Promise<void>;
  /** Calls the sandbox API (`/api/v1` + `path`) signed in as HB-DEMO. */
  sandboxApi(path: string, init?: RequestInit): Promise<Response>;
  /** Moves the sandbox clock forward (holds expire after 1800 seconds). */
  advanceClock(seconds: number): Promise<ClockReading>;
  /** Books every seat of an event that no live hold covers. */
  fillEvent(id: number): Promise<SandboxEvent>;
  /** Creates a training event. */
  createEvent(event: NewEvent): Promise<SandboxEvent>;
  /** Sets switches of the sandbox's upstream profile (`sandbox/SANDBOX.md`). */
  setProfile(switches: Record<string, string | number>): Promise<void>;
}

/** Answers the JSON body of a successful response, or throws with its text. */
async function expectJson<T>(response: Response, what: string): Promise<T> {
  const text = await response.text();
  if (!response.ok) throw new Error(`${what}: ${response.status} ${text}`);
  return JSON.parse(text) as T;
}

/** Starts a sandbox: in-memory database, test clock, no effective rate limit. */
export async function startSandbox(options: StackOptions = {}): Promise<RunningServer> {
  const sandboxArgs = [
    "serve",
    "--db",
    ":memory:",
    "--test-clock",
    "--rate-limit",
    "1000000",
    "--listen",
    "127.0.0.1:0",
  ];
  if (options.clockStart) sandboxArgs.push("--clock-start", options.clockStart);
  return startServer("sandbox", sandboxArgs);
}

/**
 * Starts a gateway serving `$BOOKING_DIST` in front of `sandbox` for both
 * products: Practical Training with the HB-DEMO account's credentials,
 * Virtual BLS with HB-BLS-DEMO's, every pay option and the sandbox's checkout
 * pages (Stripe's and PayPal's stand-ins) allowed as payment origins, and no
 * effective upstream rate limit unless `args` sets `--upstream-rate-limit`.
 * Every candidate of a test connects from 127.0.0.1, so the caps per client
 * address are out of the way too (each session keeps its own). The gateway
 * does not cache training events, so events a test creates or fills show in
 * the widget at once. Every gateway a test starts signs with one key.
 */
export async function startGateway(
  sandbox: RunningServer,
  args: string[] = [],
  env: Record<string, string> = {},
): Promise<RunningServer> {
  return startServer(
    "gateway",
    [
      ...(args.includes("--listen") ? [] : ["--listen", "127.0.0.1:0"]),
      "--static",
      distDir(),
      "--upstream",
      `${sandbox.url}/api/v1`,
      "--payment-origins",
      sandbox.url,
      "--pay-options",
      PAY_OPTIONS,
      "--rate-limit",
      "1000000",
      "--holds-per-address",
      "1000000",
      "--queued-per-address",
      "1000000",
      "--events-ttl",
      "0",
      "--bls-upstream",
      `${sandbox.url}/bls/api/v1`,
      "--bls-payment-origins",
      sandbox.url,
      "--bls-pay-options",
      BLS_PAY_OPTIONS,
      ...(args.includes("--upstream-rate-limit") ? [] : ["--upstream-rate-limit", "1000000"]),
      ...args,
    ],
    {
      HBG_CLIENT_ID: DEMO_ACCOUNT.hb_client_id,
      HBG_API_KEY: DEMO_ACCOUNT.api_key,
      HBG_BLS_CLIENT_ID: BLS_DEMO_ACCOUNT.hb_client_id,
      HBG_BLS_API_KEY: BLS_DEMO_ACCOUNT.api_key,
      HBG_GATEWAY_KEY: TEST_GATEWAY_KEY,
      ...env,
    },
  );
}

/** A sandbox and a gateway in front of it (`startSandbox`, `startGateway`). */
export async function startStack(options: StackOptions = {}): Promise<Stack> {
  const sandbox = await startSandbox(options);
  let gateway: RunningServer;
  try {
    gateway = await startGateway(sandbox, options.gatewayArgs ?? []);
  } catch (error) {
    await sandbox.stop();
    throw error;
  }
  return {
    ...sandboxHelpers(sandbox),
    gateway,
    stop: async () => {
      await gateway.stop();
      await sandbox.stop();
    },
  };
}

/** The helpers that set up and read test data in `sandbox`. */
export function sandboxHelpers(sandbox: RunningServer): Omit<Stack, "gateway" | "stop"> {
  let token: string | undefined;
  const login = async (): Promise<string> => {
    const response = await fetch(`${sandbox.url}/api/v1/auth/token`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(DEMO_ACCOUNT),
    });
    const pair = await expectJson<{ access_token: string }>(response, "signing in to the sandbox");
    return pair.access_token;
  };
  const sandboxApi = async (path: string, init: RequestInit = {}): Promise<Response> => {
    const send = async () => {
      token ??= await login();
      const headers = new Headers(init.headers);
      headers.set("authorization", `Bearer ${token}`);
      headers.set("accept", "application/json");
      if (init.body !== undefined && !headers.has("content-type")) {
        headers.set("content-type", "application/json");
      }
      return fetch(`${sandbox.url}/api/v1${path}`, { ...init, headers });
    };
    const answer = await send();
    if (answer.status !== 401) return answer;
    // The token lapsed (tests move the sandbox clock on): sign in again.
    token = undefined;
    return send();
  };
  const testMode = async <T>(path: string, body: unknown, what: string): Promise<T> => {
    const response = await fetch(`${sandbox.url}/_sandbox${path}`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(body),
    });
    return expectJson<T>(response, what);
  };

  return {
    sandbox,
    sandboxApi,
    advanceClock: (seconds) =>
      testMode<ClockReading>("/clock", { advance_seconds: seconds }, "moving the sandbox clock"),
    fillEvent: (id) => testMode<SandboxEvent>(`/training-events/${id}/fill`, {}, `filling event ${id}`),
    setProfile: async (switches) => {
      await testMode<unknown>("/profile", switches, "setting the upstream profile");
    },
    createEvent: async (event) => {
      let start = event.startDate;
      if (!start) {
        const clock = await expectJson<ClockReading>(
          await fetch(`${sandbox.url}/_sandbox/clock`),
          "reading the sandbox clock",
        );
        start = new Date(Date.parse(clock.now) + 48 * 3600 * 1000).toISOString();
      }
      return testMode<SandboxEvent>(
        "/training-events",
        {
          course_id: event.courseId,
          location_id: event.locationId ?? 1,
          start_date: start,
          capacity: event.capacity ?? 12,
          cost_inc_vat: event.costIncVat,
        },
        "creating a training event",
      );
    },
  };
}
