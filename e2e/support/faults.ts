// Faults injected into the widget's calls to the gateway with Playwright's
// routing: the request is cut, answered 500 or 429, or held back.
import type { Page, Route } from "@playwright/test";

/** A fault, applied to one request. */
export type Fault = "abort" | "500" | "429" | "slow";

export const FAULTS: Fault[] = ["abort", "500", "429", "slow"];

/** Seconds a 429 asks the widget to wait. */
export const RETRY_AFTER_SECONDS = 2;

/** How long a slow answer is held back. */
export const SLOW_MS = 2_500;

/** The widget's calls to the gateway, by what they do. */
export const CALLS = {
  options: { method: "GET", path: "/api/options" },
  courses: { method: "GET", path: "/api/courses" },
  events: { method: "GET", path: "/api/training-events" },
  hold: { method: "POST", path: "/api/holds" },
  booking: { method: "POST", path: "/api/bookings" },
} as const;

export type Call = keyof typeof CALLS;

/** Applies `fault` to the request `route` holds. */
export async function inject(route: Route, fault: Fault): Promise<void> {
  switch (fault) {
    case "abort":
      return route.abort("failed");
    case "500":
      return route.fulfill({ status: 500, json: { message: "Server Error" } });
    case "429":
      return route.fulfill({
        status: 429,
        headers: { "retry-after": String(RETRY_AFTER_SECONDS) },
        json: { message: `Too many requests. Please try again in ${RETRY_AFTER_SECONDS} seconds.` },
      });
    case "slow":
      // The delay is the fault under test (an answer that comes late), not
      // a wait for something to happen.
      await new Promise((resolve) => setTimeout(resolve, SLOW_MS));
      return route.continue();
  }
}

/** One request of a call: when it was sent, and its headers. */
export interface Attempt {
  at: number;
  headers: Record<string, string>;
}

/**
 * Routes `call`: the first `faulty` requests get `fault`, the rest go
 * through. Answers every attempt, in order.
 */
export async function faultCall(page: Page, call: Call, fault: Fault, faulty = 1): Promise<Attempt[]> {
  const { method, path } = CALLS[call];
  const attempts: Attempt[] = [];
  await page.route(
    (url) => url.pathname === path,
    async (route) => {
      if (route.request().method() !== method) return route.fallback();
      attempts.push({ at: Date.now(), headers: route.request().headers() });
      if (attempts.length <= faulty) return inject(route, fault);
      return route.continue();
    },
  );
  return attempts;
}
