// What the sandbox's Virtual BLS API says happened for the HB-BLS-DEMO
// account: its bookings, credits, balance and wallet transactions.
import { expect } from "@playwright/test";
import { BLS_DEMO_ACCOUNT, type Stack } from "./stack";
import type { Wallet, WalletTransaction } from "./data";

/** A Virtual BLS booking as the sandbox returns it (`VirtualBooking`). */
export interface BlsBooking {
  id: number;
  candidate: { name: string; email: string; phone: string | null };
  course: { id: number; name: string };
  start_date: string;
  end_date: string;
  booking_status: string;
  pay_status: string;
  pay_option: string;
  virtual: { zoom_id: string; zoom_link: string; zoom_password: string };
}

/** GETs `/bls/api/v1{path}` signed in as HB-BLS-DEMO. */
async function blsJson<T>(stack: Stack, path: string): Promise<T> {
  const token = (await fetch(`${stack.sandbox.url}/bls/api/v1/auth/token`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(BLS_DEMO_ACCOUNT),
  }).then((response) => response.json())) as { access_token: string };
  const response = await fetch(`${stack.sandbox.url}/bls/api/v1${path}`, {
    headers: { authorization: `Bearer ${token.access_token}`, accept: "application/json" },
  });
  expect(response.status, `GET /bls/api/v1${path}`).toBe(200);
  return (await response.json()) as T;
}

/** The Virtual BLS account's bookings, newest first. */
export async function blsBookings(stack: Stack): Promise<BlsBooking[]> {
  return (await blsJson<{ data: BlsBooking[] }>(stack, "/bookings?per_page=100")).data;
}

/** The Virtual BLS account's wallet transactions, newest first. */
export async function blsTransactions(stack: Stack): Promise<WalletTransaction[]> {
  return (await blsJson<{ data: WalletTransaction[] }>(stack, "/transactions?per_page=100")).data;
}

/** The Virtual BLS account's credits, balance and transactions now. */
export async function blsWallet(stack: Stack): Promise<Wallet> {
  const credits = await blsJson<{
    booking_credits: { course_id: number; credits: number }[];
    booking_money_balance: number;
  }>(stack, "/credits");
  return {
    credits: Object.fromEntries(credits.booking_credits.map((c) => [c.course_id, c.credits])),
    balance: credits.booking_money_balance,
    transactionIds: (await blsTransactions(stack)).map((t) => t.id),
  };
}

/** The wallet transactions written since `before` was read, newest first. */
export async function blsTransactionsSince(stack: Stack, before: Wallet): Promise<WalletTransaction[]> {
  const known = new Set(before.transactionIds);
  return (await blsTransactions(stack)).filter((t) => !known.has(t.id));
}

/**
 * Runs `act` and answers the one Virtual BLS booking it made: fails unless
 * the sandbox has exactly one new booking afterwards.
 */
export async function theOneBlsBookingMadeBy(stack: Stack, act: () => Promise<void>): Promise<BlsBooking> {
  const before = new Set((await blsBookings(stack)).map((b) => b.id));
  await act();
  const made = (await blsBookings(stack)).filter((b) => !before.has(b.id));
  expect(made.map((b) => b.id), "Virtual BLS bookings made").toHaveLength(1);
  return made[0];
}
