import { at, foldFrozen, recordedEvent } from "../../../test/support/projectionSpec";
import type { PaymentsEvent } from "../../../src/services/payments/contract";
import { accountsProjection, type AccountView } from "./projection";

const C = "c-1";


const recorded = (event: PaymentsEvent, n: number) => recordedEvent(event, n, { id: `payments.account-${C}` });
const fold = (events: PaymentsEvent[]) => foldFrozen(accountsProjection, events.map((e, i) => recorded(e, i + 1)));

const opened: PaymentsEvent = { type: "AccountOpened", data: { customerId: C, currency: "EUR", initialBalanceMinor: 1000 } };
const funds = (amountMinor: number): PaymentsEvent => ({ type: "FundsAdded", data: { customerId: C, amountMinor } });
const authorized = (orderId: string, amountMinor: number): PaymentsEvent => ({
  type: "PaymentAuthorized",
  data: { customerId: C, orderId, amountMinor },
});
const declined = (orderId: string, amountMinor: number, availableMinor: number): PaymentsEvent => ({
  type: "PaymentDeclined",
  data: { customerId: C, orderId, amountMinor, availableMinor, shortfallMinor: amountMinor - availableMinor },
});
const captured = (orderId: string, amountMinor: number): PaymentsEvent => ({
  type: "PaymentCaptured",
  data: { customerId: C, orderId, amountMinor },
});
const voided = (orderId: string, amountMinor: number): PaymentsEvent => ({
  type: "PaymentVoided",
  data: { customerId: C, orderId, amountMinor, reason: "cancelled" },
});
const refunded = (orderId: string, amountMinor: number): PaymentsEvent => ({
  type: "PaymentRefunded",
  data: { customerId: C, orderId, amountMinor },
});

const balances = (doc: AccountView | null) =>
  doc && { available: doc.availableMinor, held: doc.heldMinor, captured: doc.capturedMinor };

describe("accounts projection", () => {
  it("reads every payments event type and keys documents by customer", () => {
    expect([...accountsProjection.eventTypes].sort()).toEqual([
      "AccountOpened", "FundsAdded", "PaymentAuthorized", "PaymentCaptured", "PaymentDeclined", "PaymentRefunded", "PaymentVoided",
    ]);
    expect(accountsProjection.documentIds(recorded(funds(5), 2))).toEqual([C]);
  });

  it("AccountOpened creates the account with its initial balance", () => {
    expect(fold([opened])).toEqual({
      customerId: C,
      currency: "EUR",
      availableMinor: 1000,
      heldMinor: 0,
      capturedMinor: 0,
      payments: [],
      version: 1,
      position: "101.1",
      updatedAt: at(1),
    });
  });

  it("FundsAdded raises the available balance", () => {
    expect(balances(fold([opened, funds(250)]))).toEqual({ available: 1250, held: 0, captured: 0 });
  });

  it("authorize → capture → refund moves money available → held → captured → available", () => {
    expect(balances(fold([opened, authorized("o-1", 300)]))).toEqual({ available: 700, held: 300, captured: 0 });
    expect(balances(fold([opened, authorized("o-1", 300), captured("o-1", 300)]))).toEqual({ available: 700, held: 0, captured: 300 });
    const doc = fold([opened, authorized("o-1", 300), captured("o-1", 300), refunded("o-1", 300)])!;
    expect(balances(doc)).toEqual({ available: 1000, held: 0, captured: 0 });
    expect(doc.payments).toEqual([{ orderId: "o-1", amountMinor: 300, status: "REFUNDED", updatedAt: at(4) }]);
    expect(doc).toMatchObject({ version: 4, position: "104.4", updatedAt: at(4) });
  });

  it("a void gives held money back", () => {
    const doc = fold([opened, authorized("o-1", 300), voided("o-1", 300)])!;
    expect(balances(doc)).toEqual({ available: 1000, held: 0, captured: 0 });
    expect(doc.payments).toEqual([{ orderId: "o-1", amountMinor: 300, status: "VOIDED", updatedAt: at(3) }]);
  });

  it("a void tombstone (amount 0) is recorded and moves no money", () => {
    const doc = fold([opened, voided("o-9", 0)])!;
    expect(balances(doc)).toEqual({ available: 1000, held: 0, captured: 0 });
    expect(doc.payments).toEqual([{ orderId: "o-9", amountMinor: 0, status: "VOIDED", updatedAt: at(2) }]);
  });

  it("a decline is kept in the history, with what the customer lacked, and changes no balance", () => {
    const doc = fold([opened, declined("o-2", 5000, 1000)])!;
    expect(balances(doc)).toEqual({ available: 1000, held: 0, captured: 0 });
    expect(doc.payments).toEqual([{ orderId: "o-2", amountMinor: 5000, status: "DECLINED", shortfallMinor: 4000, updatedAt: at(2) }]);
  });

  it("keeps every payment, the most recently changed first", () => {
    const doc = fold([opened, authorized("o-1", 100), authorized("o-2", 200), declined("o-3", 9000, 700), captured("o-1", 100)])!;
    expect(doc.payments.map((p) => [p.orderId, p.status])).toEqual([
      ["o-1", "CAPTURED"],
      ["o-3", "DECLINED"],
      ["o-2", "AUTHORIZED"],
    ]);
  });

  it("conserves available + held + captured except through AccountOpened and FundsAdded", () => {
    const doc = fold([opened, funds(500), authorized("o-1", 100), authorized("o-2", 200), captured("o-1", 100), voided("o-2", 200), refunded("o-1", 100)])!;
    expect(doc.availableMinor + doc.heldMinor + doc.capturedMinor).toBe(1500);
  });

  it("ignores events for an account it never saw opened, and announces nothing", () => {
    const event = recorded(funds(5), 1);
    expect(accountsProjection.evolve(null, event, C)).toBeNull();
    expect(accountsProjection.topics!(C, null, event)).toEqual([]);
  });

  it("never lets a second AccountOpened reset the balances", () => {
    const doc = fold([opened, funds(5)])!;
    expect(accountsProjection.evolve(doc, recorded(opened, 3), C)).toBe(doc);
  });

  it("announces changes on the account's topic and keeps no index", () => {
    const event = recorded(opened, 1);
    expect(accountsProjection.topics!(C, fold([opened]), event)).toEqual(["account:c-1"]);
    expect(accountsProjection.indexes).toBeUndefined();
  });
});
