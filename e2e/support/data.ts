// Test data in the sandbox: training events a test owns, and what the
// sandbox's database says happened (bookings, credits, wallet).
import { expect } from "@playwright/test";
import type { SandboxEvent, Stack } from "./stack";

/** Course ids of the sandbox's seed data. */
export const COURSES = {
  cstf: { id: 1, name: "CSTF Mandatory Practical Skills" },
  movingAndHandling: { id: 2, name: "Moving & Handling Practical" },
  pmva: { id: 3, name: "PMVA (Prevention and Management of Violence and Aggression)" },
  basicLifeSupport: { id: 4, name: "Basic Life Support Practical" },
  fireSafety: { id: 5, name: "Fire Safety Practical" },
} as const;

/** Location ids of the sandbox's seed data. */
export const LOCATIONS = {
  leeds: { id: 1, name: "Leeds" },
  manchester: { id: 2, name: "Manchester" },
  birmingham: { id: 3, name: "Birmingham" },
} as const;

/** Events per day a stack's `newEvent` hands out before moving a day on. */
const SLOTS_PER_DAY = 14;
const slotsUsed = new WeakMap<Stack, number>();

/**
 * Creates a training event no other test uses, two or more days ahead, at
 * a start time (hh:10 or hh:40 UTC) that no seeded event has, so its label
 * in the calendar is unique.
 */
export async function newEvent(
  stack: Stack,
  event: { courseId: number; locationId: number; capacity?: number },
): Promise<SandboxEvent> {
  const slot = slotsUsed.get(stack) ?? 0;
  slotsUsed.set(stack, slot + 1);
  const clock = (await (await fetch(`${stack.sandbox.url}/_sandbox/clock`)).json()) as { now: string };
  const day = new Date(clock.now);
  day.setUTCDate(day.getUTCDate() + 2 + Math.floor(slot / SLOTS_PER_DAY));
  day.setUTCHours(7, 10 + 30 * (slot % SLOTS_PER_DAY), 0, 0);
  return stack.createEvent({ ...event, startDate: day.toISOString() });
}

/** A booking as the sandbox's API returns it (`BookingDetail`). */
export interface SandboxBooking {
  id: number;
  candidate: { name: string; email: string; phone: string | null; job_role: string | null };
  course: { id: number; name: string };
  location: { id: number; name: string };
  start_date: string;
  booking_status: string;
  pay_status: string;
  pay_option: string;
  payment_url?: string;
}

/** The account's wallet: credits per course and the money balance. */
export interface Wallet {
  credits: Record<number, number>;
  balance: number;
  /** Ids of every wallet transaction. */
  transactionIds: number[];
}

/** A wallet transaction (`GET /transactions`). */
export interface WalletTransaction {
  id: number;
  type: "credit" | "debit";
  amount: number | null;
  credits: number | null;
  course_id: number | null;
  booking_id: number | null;
  balance_after: number;
}

async function sandboxJson<T>(stack: Stack, path: string): Promise<T> {
  const response = await stack.sandboxApi(path);
  expect(response.status, `GET ${path}`).toBe(200);
  return (await response.json()) as T;
}

/** Every booking of the demo account, newest first. */
export async function bookings(stack: Stack): Promise<SandboxBooking[]> {
  return (await sandboxJson<{ data: SandboxBooking[] }>(stack, "/bookings?per_page=100")).data;
}

/** One booking, as the sandbox has it now. */
export function booking(stack: Stack, id: number): Promise<SandboxBooking> {
  return sandboxJson<SandboxBooking>(stack, `/bookings/${id}`);
}

/** Every wallet transaction, newest first. */
export async function transactions(stack: Stack): Promise<WalletTransaction[]> {
  return (await sandboxJson<{ data: WalletTransaction[] }>(stack, "/transactions?per_page=100")).data;
}

/** The demo account's credits, balance and transactions now. */
export async function wallet(stack: Stack): Promise<Wallet> {
  const credits = await sandboxJson<{
    booking_credits: { course_id: number; credits: number }[];
    booking_money_balance: number;
  }>(stack, "/credits");
  return {
    credits: Object.fromEntries(credits.booking_credits.map((c) => [c.course_id, c.credits])),
    balance: credits.booking_money_balance,
    transactionIds: (await transactions(stack)).map((t) => t.id),
  };
}

/**
 * Runs `act` and answers the one booking it made: fails unless the
 * sandbox has exactly one new booking afterwards.
 */
export async function theOneBookingMadeBy(stack: Stack, act: () => Promise<void>): Promise<SandboxBooking> {
  const before = new Set((await bookings(stack)).map((b) => b.id));
  await act();
  const made = (await bookings(stack)).filter((b) => !before.has(b.id));
  expect(made.map((b) => b.id), "bookings made").toHaveLength(1);
  return made[0];
}

/** The wallet transactions written since `before` was read, newest first. */
export async function transactionsSince(stack: Stack, before: Wallet): Promise<WalletTransaction[]> {
  const known = new Set(before.transactionIds);
  return (await transactions(stack)).filter((t) => !known.has(t.id));
}

/**
 * Spends every credit the demo account has for `courseId` through the
 * sandbox's API, as the agency's other bookings would: a hold and a
 * booking paid with a credit, until none is left.
 */
export async function spendCredits(stack: Stack, courseId: number): Promise<void> {
  while (((await wallet(stack)).credits[courseId] ?? 0) > 0) {
    const event = await newEvent(stack, { courseId, locationId: LOCATIONS.leeds.id });
    const held = await stack.sandboxApi(`/training-events/${event.id}/hold`, { method: "POST" });
    expect(held.status, "a seat held for another booking").toBe(200);
    const { hold_hash } = (await held.json()) as { hold_hash: string };
    const booked = await stack.sandboxApi("/bookings", {
      method: "POST",
      body: JSON.stringify({
        hold_hash,
        first_name: "Sam",
        last_name: "Okafor",
        email: "sam.okafor@carestaff.example",
        pay_option: "credits",
      }),
    });
    expect(booked.status, await booked.clone().text()).toBe(201);
  }
}
