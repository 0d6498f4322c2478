import { fold } from "../../platform/aggregate/decider";
import { deciderSpec } from "../../../test/support/deciderSpec";
import { decidingParsed } from "../../platform/bus/commandExecutor";
import { paymentsContract } from "./contract";
import { DomainError } from "../../platform/core/errors";
import type { PaymentsCommand } from "./commands";
import { accountDecider, accountStreamId, type AccountState, type PaymentStatus } from "./decider";
import { paymentsErrors } from "./errors";
import { paymentsEventTypes, type PaymentsEvent } from "./events";

const spec = deciderSpec(decidingParsed(accountDecider, paymentsContract.parseCommand));
const CUSTOMER = "customer-1";
const ORDER = "order-1";
const REASON = "order cancelled";
const MAX_AMOUNT = 10_000_000_000;

const opened = (initialBalanceMinor = 10_000): PaymentsEvent => ({
  type: "AccountOpened",
  data: { customerId: CUSTOMER, currency: "EUR", initialBalanceMinor },
});
const added = (amountMinor: number): PaymentsEvent => ({ type: "FundsAdded", data: { customerId: CUSTOMER, amountMinor } });
const authorized = (amountMinor: number, orderId = ORDER): PaymentsEvent => ({
  type: "PaymentAuthorized",
  data: { customerId: CUSTOMER, orderId, amountMinor },
});
const declined = (amountMinor: number, availableMinor: number, orderId = ORDER): PaymentsEvent => ({
  type: "PaymentDeclined",
  data: { customerId: CUSTOMER, orderId, amountMinor, availableMinor, shortfallMinor: amountMinor - availableMinor },
});
const captured = (amountMinor: number, orderId = ORDER): PaymentsEvent => ({
  type: "PaymentCaptured",
  data: { customerId: CUSTOMER, orderId, amountMinor },
});
const voided = (amountMinor: number, orderId = ORDER, reason = REASON): PaymentsEvent => ({
  type: "PaymentVoided",
  data: { customerId: CUSTOMER, orderId, amountMinor, reason },
});
const refunded = (amountMinor: number, orderId = ORDER): PaymentsEvent => ({
  type: "PaymentRefunded",
  data: { customerId: CUSTOMER, orderId, amountMinor },
});

// Overrides (not default parameters), so that a field can be set to `undefined` or a wrong type on purpose.
type Fields = Record<string, unknown>;
const command = (type: PaymentsCommand["type"], defaults: Fields, fields: Fields): PaymentsCommand =>
  ({ type, customerId: CUSTOMER, ...defaults, ...fields }) as PaymentsCommand;
const open = (fields: Fields = {}) => command("OpenAccount", { currency: "EUR", initialBalanceMinor: 10_000 }, fields);
const addFunds = (fields: Fields = {}) => command("AddFunds", { amountMinor: 500 }, fields);
const authorize = (fields: Fields = {}) => command("AuthorizePayment", { orderId: ORDER, amountMinor: 2500 }, fields);
const capture = (fields: Fields = {}) => command("CapturePayment", { orderId: ORDER }, fields);
const voidPayment = (fields: Fields = {}) => command("VoidPayment", { orderId: ORDER, reason: REASON }, fields);
const refund = (fields: Fields = {}) => command("RefundPayment", { orderId: ORDER }, fields);

/** The history that leaves the payment of ORDER (2,500 on a 10,000 account) in each status. */
const historyWith: Record<PaymentStatus | "TOMBSTONE", PaymentsEvent[]> = {
  AUTHORIZED: [opened(), authorized(2500)],
  DECLINED: [opened(1000), declined(2500, 1000)],
  CAPTURED: [opened(), authorized(2500), captured(2500)],
  VOIDED: [opened(), authorized(2500), voided(2500)],
  REFUNDED: [opened(), authorized(2500), captured(2500), refunded(2500)],
  TOMBSTONE: [opened(), voided(0)],
};

const badIds: Array<[string, unknown]> = [
  ["empty", ""],
  ["65 characters", "c".repeat(65)],
  ["a space", "customer 1"],
  ["a slash", "customer/1"],
  ["a number", 42],
  ["null", null],
  ["missing", undefined],
];
const badAmounts: Array<[string, unknown]> = [
  ["zero", 0],
  ["negative", -1],
  ["fractional", 12.5],
  ["above 10^10", MAX_AMOUNT + 1],
  ["NaN", Number.NaN],
  ["infinite", Number.POSITIVE_INFINITY],
  ["a numeric string", "500"],
  ["missing", undefined],
];
const badReasons: Array<[string, unknown]> = [
  ["empty", ""],
  ["only whitespace", "  "],
  ["501 characters", "r".repeat(501)],
  ["a number", 1],
  ["missing", undefined],
];
const commandsOnAnOpenAccount: Array<[string, PaymentsCommand]> = [
  ["AddFunds", addFunds()],
  ["AuthorizePayment", authorize()],
  ["CapturePayment", capture()],
  ["VoidPayment", voidPayment()],
  ["RefundPayment", refund()],
];
const commandsWithAnOrder: Array<[string, (fields: Fields) => PaymentsCommand]> = [
  ["AuthorizePayment", authorize],
  ["CapturePayment", capture],
  ["VoidPayment", voidPayment],
  ["RefundPayment", refund],
];

describe("accountStreamId", () => {
  it("puts the customer id in the payments account category", () => {
    expect(accountStreamId("c-1")).toBe("payments.account-c-1");
  });
});

describe("OpenAccount", () => {
  it("opens an account with its initial balance", () => {
    spec.given([]).when(open()).then([opened(10_000)]);
  });

  it("accepts an initial balance of 0", () => {
    spec.given([]).when(open({ initialBalanceMinor: 0 })).then([opened(0)]);
  });

  it("accepts the largest initial balance (10^10)", () => {
    spec.given([]).when(open({ initialBalanceMinor: MAX_AMOUNT })).then([opened(MAX_AMOUNT)]);
  });

  it("accepts a 64-character customer id", () => {
    const customerId = "c".repeat(64);
    spec
      .given([])
      .when(open({ customerId }))
      .then([{ type: "AccountOpened", data: { customerId, currency: "EUR", initialBalanceMinor: 10_000 } }]);
  });

  it("refuses a second opening with ALREADY_EXISTS", () => {
    spec.given([opened()]).when(open()).thenThrows("ALREADY_EXISTS", { customerId: CUSTOMER });
  });

  it("validates the command before looking at the account: a malformed second opening is VALIDATION", () => {
    spec.given([opened()]).when(open({ currency: "eur" })).thenThrows("VALIDATION", { field: "currency" });
  });

  it.each(badIds)("refuses a customer id that is %s", (_, customerId) => {
    spec.given([]).when(open({ customerId })).thenThrows("VALIDATION", { field: "customerId" });
  });

  it.each<[string, unknown]>([
    ["lowercase", "eur"],
    ["two letters", "EU"],
    ["four letters", "EURO"],
    ["a number", 978],
    ["missing", undefined],
  ])("refuses a currency that is %s", (_, currency) => {
    spec.given([]).when(open({ currency })).thenThrows("VALIDATION", { field: "currency" });
  });

  it.each<[string, unknown]>([
    ["negative", -1],
    ["fractional", 0.5],
    ["above 10^10", MAX_AMOUNT + 1],
    ["a numeric string", "100"],
    ["null", null],
  ])("refuses an initial balance that is %s", (_, initialBalanceMinor) => {
    spec.given([]).when(open({ initialBalanceMinor })).thenThrows("VALIDATION", { field: "initialBalanceMinor" });
  });
});

describe("AddFunds", () => {
  it("adds funds to the account", () => {
    spec.given([opened()]).when(addFunds()).then([added(500)]);
  });

  it.each([1, MAX_AMOUNT])("accepts an amount of %d", (amountMinor) => {
    spec.given([opened()]).when(addFunds({ amountMinor })).then([added(amountMinor)]);
  });

  it.each(badAmounts)("refuses an amount that is %s", (_, amountMinor) => {
    spec.given([opened()]).when(addFunds({ amountMinor })).thenThrows("VALIDATION", { field: "amountMinor" });
  });

  describe("near the balance cap (2^53 - 1, so every balance stays exact)", () => {
    const account = (available: number, held: number, captured: number): AccountState => ({
      status: "OPEN",
      customerId: CUSTOMER,
      currency: "EUR",
      available,
      held,
      captured,
      payments: {},
    });
    const nearCap = account(Number.MAX_SAFE_INTEGER - 1000, 400, 500); // 100 below the cap in total

    it("accepts funds that reach the cap exactly", () => {
      expect(accountDecider.decide(addFunds({ amountMinor: 100 }), nearCap)).toEqual([added(100)]);
    });

    it("refuses funds beyond the cap with VALIDATION, counting held and captured money too", () => {
      expect(() => accountDecider.decide(addFunds({ amountMinor: 101 }), nearCap)).toThrow(
        expect.objectContaining({ code: "VALIDATION", details: expect.objectContaining({ field: "amountMinor" }) }),
      );
    });
  });
});

describe("AuthorizePayment", () => {
  it("holds the amount when enough is available", () => {
    spec.given([opened(10_000)]).when(authorize()).then([authorized(2500)]);
  });

  it("authorizes exactly the available balance", () => {
    spec.given([opened(2500)]).when(authorize()).then([authorized(2500)]);
  });

  it("counts funds added after opening", () => {
    spec.given([opened(0), added(2500)]).when(authorize()).then([authorized(2500)]);
  });

  it("declines, as an event, one minor unit more than the available balance", () => {
    spec.given([opened(2499)]).when(authorize()).then([declined(2500, 2499)]);
  });

  it("declines against an empty account", () => {
    spec.given([opened(0)]).when(authorize()).then([declined(2500, 0)]);
  });

  it("does not count money held for other orders as available", () => {
    spec
      .given([opened(4000), authorized(2000, "order-0")])
      .when(authorize())
      .then([declined(2500, 2000)]);
  });

  it("counts money voided for other orders as available again", () => {
    spec
      .given([opened(4000), authorized(2000, "order-0"), voided(2000, "order-0")])
      .when(authorize())
      .then([authorized(2500)]);
  });

  it("authorizes several orders on one account", () => {
    spec.given([opened(), authorized(2500, "order-0")]).when(authorize()).then([authorized(2500)]);
  });

  it("accepts the largest amount (10^10)", () => {
    spec
      .given([opened(MAX_AMOUNT)])
      .when(authorize({ amountMinor: MAX_AMOUNT }))
      .then([authorized(MAX_AMOUNT)]);
  });

  it.each(["constructor", "__proto__", "hasOwnProperty"])(
    "authorizes order id %s without finding a payment through Object.prototype",
    (orderId) => {
      spec.given([opened()]).when(authorize({ orderId })).then([authorized(2500, orderId)]);
    },
  );

  it.each(["AUTHORIZED", "DECLINED", "CAPTURED", "VOIDED", "REFUNDED"] as const)(
    "refuses a second authorization of a %s payment with PAYMENT_EXISTS",
    (status) => {
      spec
        .given(historyWith[status])
        .when(authorize())
        .thenThrows("PAYMENT_EXISTS", { customerId: CUSTOMER, orderId: ORDER, status });
    },
  );

  it("refuses a retry after a decline even once the funds are there", () => {
    spec
      .given([...historyWith.DECLINED, added(10_000)])
      .when(authorize())
      .thenThrows("PAYMENT_EXISTS", { status: "DECLINED" });
  });

  it("refuses an unknown account with NOT_FOUND", () => {
    spec.given([]).when(authorize()).thenThrows("NOT_FOUND", { what: "Account", id: CUSTOMER });
  });

  it.each(badAmounts)("refuses an amount that is %s", (_, amountMinor) => {
    spec.given([opened()]).when(authorize({ amountMinor })).thenThrows("VALIDATION", { field: "amountMinor" });
  });

  it("validates the amount before looking at existing payments", () => {
    spec.given(historyWith.AUTHORIZED).when(authorize({ amountMinor: 0 })).thenThrows("VALIDATION", {
      field: "amountMinor",
    });
  });
});

describe("void tombstone and a late authorization", () => {
  it("voids an order that has no payment yet with a tombstone of amount 0", () => {
    spec.given([opened()]).when(voidPayment()).then([voided(0)]);
  });

  it("refuses the authorization that arrives after the tombstone with PAYMENT_EXISTS (VOIDED)", () => {
    spec
      .given(historyWith.TOMBSTONE)
      .when(authorize())
      .thenThrows("PAYMENT_EXISTS", { customerId: CUSTOMER, orderId: ORDER, status: "VOIDED" });
  });

  it("leaves every balance unchanged", () => {
    expect(fold(accountDecider, historyWith.TOMBSTONE)).toMatchObject({
      available: 10_000,
      held: 0,
      captured: 0,
      payments: { [ORDER]: { amountMinor: 0, status: "VOIDED" } },
    });
  });

  it("keeps other orders authorizable", () => {
    spec.given(historyWith.TOMBSTONE).when(authorize({ orderId: "order-2" })).then([authorized(2500, "order-2")]);
  });
});

describe("CapturePayment", () => {
  it("captures the held amount", () => {
    spec.given(historyWith.AUTHORIZED).when(capture()).then([captured(2500)]);
  });

  it("captures only the named order's payment", () => {
    spec
      .given([opened(), authorized(1000, "order-0"), authorized(2500)])
      .when(capture({ orderId: "order-0" }))
      .then([captured(1000, "order-0")]);
  });

  it.each(["DECLINED", "CAPTURED", "VOIDED", "REFUNDED"] as const)(
    "refuses to capture a %s payment with INVALID_TRANSITION",
    (from) => {
      spec
        .given(historyWith[from])
        .when(capture())
        .thenThrows("INVALID_TRANSITION", { customerId: CUSTOMER, orderId: ORDER, from, to: "CAPTURED" });
    },
  );

  it("refuses to capture a void tombstone with INVALID_TRANSITION", () => {
    spec.given(historyWith.TOMBSTONE).when(capture()).thenThrows("INVALID_TRANSITION", { from: "VOIDED" });
  });

  it("refuses an order without a payment with INVALID_TRANSITION from NONE", () => {
    spec
      .given([opened()])
      .when(capture())
      .thenThrows("INVALID_TRANSITION", { orderId: ORDER, from: "NONE", to: "CAPTURED" });
  });

  it("does not find a payment for order id constructor through the prototype", () => {
    spec.given([opened()]).when(capture({ orderId: "constructor" })).thenThrows("INVALID_TRANSITION", { from: "NONE" });
  });

  it("refuses an unknown account with NOT_FOUND", () => {
    spec.given([]).when(capture()).thenThrows("NOT_FOUND", { what: "Account", id: CUSTOMER });
  });
});

describe("VoidPayment", () => {
  it("releases an authorized payment's held amount", () => {
    spec.given(historyWith.AUTHORIZED).when(voidPayment()).then([voided(2500)]);
  });

  it("stores the reason trimmed", () => {
    spec.given(historyWith.AUTHORIZED).when(voidPayment({ reason: " deadline passed\n" })).then([
      voided(2500, ORDER, "deadline passed"),
    ]);
  });

  it("accepts a 500-character reason", () => {
    const reason = "r".repeat(500);
    spec.given(historyWith.AUTHORIZED).when(voidPayment({ reason })).then([voided(2500, ORDER, reason)]);
  });

  it("appends nothing for a payment already voided", () => {
    spec.given(historyWith.VOIDED).when(voidPayment()).then([]);
  });

  it("appends nothing for a tombstone voided again", () => {
    spec.given(historyWith.TOMBSTONE).when(voidPayment({ reason: "deadline passed" })).then([]);
  });

  it("appends nothing for a declined payment", () => {
    spec.given(historyWith.DECLINED).when(voidPayment()).then([]);
  });

  it.each(["CAPTURED", "REFUNDED"] as const)("refuses to void a %s payment with INVALID_TRANSITION", (from) => {
    spec
      .given(historyWith[from])
      .when(voidPayment())
      .thenThrows("INVALID_TRANSITION", { customerId: CUSTOMER, orderId: ORDER, from, to: "VOIDED" });
  });

  it("refuses an unknown account with NOT_FOUND", () => {
    spec.given([]).when(voidPayment()).thenThrows("NOT_FOUND", { what: "Account", id: CUSTOMER });
  });

  it.each(badReasons)("refuses a reason that is %s", (_, reason) => {
    spec.given(historyWith.AUTHORIZED).when(voidPayment({ reason })).thenThrows("VALIDATION", { field: "reason" });
  });

  it("validates the reason even when the payment is already voided", () => {
    spec.given(historyWith.VOIDED).when(voidPayment({ reason: "" })).thenThrows("VALIDATION", { field: "reason" });
  });
});

describe("RefundPayment", () => {
  it("returns a captured payment's amount to the available balance", () => {
    spec.given(historyWith.CAPTURED).when(refund()).then([refunded(2500)]);
  });

  it.each(["AUTHORIZED", "DECLINED", "VOIDED", "REFUNDED"] as const)(
    "refuses to refund a %s payment with INVALID_TRANSITION",
    (from) => {
      spec
        .given(historyWith[from])
        .when(refund())
        .thenThrows("INVALID_TRANSITION", { customerId: CUSTOMER, orderId: ORDER, from, to: "REFUNDED" });
    },
  );

  it("refuses an order without a payment with INVALID_TRANSITION from NONE", () => {
    spec.given([opened()]).when(refund()).thenThrows("INVALID_TRANSITION", { from: "NONE", to: "REFUNDED" });
  });

  it("refuses an unknown account with NOT_FOUND", () => {
    spec.given([]).when(refund()).thenThrows("NOT_FOUND", { what: "Account", id: CUSTOMER });
  });
});

describe("every command", () => {
  it.each(commandsOnAnOpenAccount)("%s refuses an unopened account with NOT_FOUND", (_, cmd) => {
    spec.given([]).when(cmd).thenThrows("NOT_FOUND", { what: "Account", id: CUSTOMER });
  });

  describe.each(commandsWithAnOrder)("%s", (_, make) => {
    it.each(badIds)("refuses an order id that is %s", (_, orderId) => {
      spec.given(historyWith.AUTHORIZED).when(make({ orderId })).thenThrows("VALIDATION", { field: "orderId" });
    });

    it.each(badIds)("refuses a customer id that is %s", (_, customerId) => {
      spec.given(historyWith.AUTHORIZED).when(make({ customerId })).thenThrows("VALIDATION", { field: "customerId" });
    });

    it("validates before looking at the account: a malformed command on an unopened account is VALIDATION", () => {
      spec.given([]).when(make({ orderId: "" })).thenThrows("VALIDATION", { field: "orderId" });
    });
  });

  it.each(badIds)("AddFunds refuses a customer id that is %s", (_, customerId) => {
    spec.given([opened()]).when(addFunds({ customerId })).thenThrows("VALIDATION", { field: "customerId" });
  });

  it("refuses an unknown command type with VALIDATION", () => {
    spec
      .given([opened()])
      .when({ type: "WithdrawFunds", customerId: CUSTOMER, amountMinor: 1 } as unknown as PaymentsCommand)
      .thenThrows("VALIDATION", { field: "type", value: '"WithdrawFunds"' });
  });

  it.each<[string, unknown]>([
    ["null", null],
    ["a number", 7],
  ])("refuses a command that is %s with VALIDATION", (_, cmd) => {
    spec.given([]).when(cmd as PaymentsCommand).thenThrows("VALIDATION", { field: "command" });
  });
});

describe("evolve", () => {
  // A customer pays in 10,000 then 5,000; orders go every way the contract allows.
  const history: PaymentsEvent[] = [
    opened(10_000),
    authorized(4000, "order-a"), // later shipped: captured
    authorized(3000, "order-b"), // later cancelled: voided
    declined(8000, 3000, "order-c"),
    captured(4000, "order-a"),
    voided(3000, "order-b"),
    added(5000),
    voided(0, "order-d"), // deadline passed before authorization: tombstone
    authorized(6000, "order-e"), // still held
    authorized(2000, "order-f"),
    captured(2000, "order-f"),
    refunded(2000, "order-f"),
  ];
  const paidIn = (events: readonly PaymentsEvent[]): number =>
    events.reduce(
      (sum, e) =>
        e.type === "AccountOpened" ? sum + e.data.initialBalanceMinor : e.type === "FundsAdded" ? sum + e.data.amountMinor : sum,
      0,
    );
  const total = (state: AccountState): number =>
    state.status === "OPEN" ? state.available + state.held + state.captured : 0;

  it("folds a realistic history into balances and payment records", () => {
    expect(fold(accountDecider, history)).toEqual({
      status: "OPEN",
      customerId: CUSTOMER,
      currency: "EUR",
      available: 5000, // 10,000 - 4,000 - 3,000 + 3,000 + 5,000 - 6,000 - 2,000 + 2,000
      held: 6000, // order-e
      captured: 4000, // order-a
      payments: {
        "order-a": { amountMinor: 4000, status: "CAPTURED" },
        "order-b": { amountMinor: 3000, status: "VOIDED" },
        "order-c": { amountMinor: 8000, status: "DECLINED" },
        "order-d": { amountMinor: 0, status: "VOIDED" },
        "order-e": { amountMinor: 6000, status: "AUTHORIZED" },
        "order-f": { amountMinor: 2000, status: "REFUNDED" },
      },
    });
  });

  it("conserves money: available + held + captured equals what was paid in", () => {
    expect(total(fold(accountDecider, history))).toBe(15_000);
    expect(paidIn(history)).toBe(15_000);
  });

  it("conserves money after every single event of the history", () => {
    for (let length = 1; length <= history.length; length++) {
      const prefix = history.slice(0, length);
      expect({ after: prefix.at(-1)?.type, length, total: total(fold(accountDecider, prefix)) }).toEqual({
        after: prefix.at(-1)?.type,
        length,
        total: paidIn(prefix),
      });
    }
  });

  it("conserves money through a history produced by the decider itself", () => {
    const commands: PaymentsCommand[] = [
      open({ initialBalanceMinor: 7000 }),
      authorize({ orderId: "o1", amountMinor: 5000 }),
      authorize({ orderId: "o2", amountMinor: 5000 }), // declined: 2,000 available
      addFunds({ amountMinor: 4000 }),
      voidPayment({ orderId: "o3" }), // tombstone
      authorize({ orderId: "o3", amountMinor: 1 }), // refused: PAYMENT_EXISTS
      authorize({ orderId: "o4", amountMinor: 6000 }), // exactly the available balance
      capture({ orderId: "o1" }),
      voidPayment({ orderId: "o4" }),
      refund({ orderId: "o1" }),
      voidPayment({ orderId: "o4" }), // idempotent: nothing
    ];
    let state = accountDecider.initialState;
    const events: PaymentsEvent[] = [];
    for (const cmd of commands) {
      try {
        for (const event of accountDecider.decide(cmd, state)) {
          events.push(event);
          state = accountDecider.evolve(state, event);
          expect(total(state)).toBe(paidIn(events));
        }
      } catch (error) {
        expect(error).toBeInstanceOf(DomainError);
      }
    }
    expect(events.map((e) => e.type)).toEqual([
      "AccountOpened",
      "PaymentAuthorized",
      "PaymentDeclined",
      "FundsAdded",
      "PaymentVoided",
      "PaymentAuthorized",
      "PaymentCaptured",
      "PaymentVoided",
      "PaymentRefunded",
    ]);
    expect(state).toMatchObject({ available: 11_000, held: 0, captured: 0 });
  });

  it("records a decline without moving any balance", () => {
    expect(fold(accountDecider, historyWith.DECLINED)).toMatchObject({ available: 1000, held: 0, captured: 0 });
  });

  it("ignores events for an account that was never opened", () => {
    expect(fold(accountDecider, [added(100)])).toEqual({ status: "ABSENT" });
  });

  it("never changes the shared initial state, so every fold starts from the same one", () => {
    fold(accountDecider, [opened(), authorized(2500)]);
    expect(accountDecider.initialState).toEqual({ status: "ABSENT" });
    expect(Object.isFrozen(accountDecider.initialState)).toBe(true);
  });
});

describe("paymentsEventTypes", () => {
  it("lists every payments event type", () => {
    expect([...paymentsEventTypes].sort()).toEqual([
      "AccountOpened",
      "FundsAdded",
      "PaymentAuthorized",
      "PaymentCaptured",
      "PaymentDeclined",
      "PaymentRefunded",
      "PaymentVoided",
    ]);
  });
});

describe("error messages", () => {
  it.each([
    ["ALREADY_EXISTS", paymentsErrors.accountExists(CUSTOMER), [CUSTOMER]],
    ["NOT_FOUND", paymentsErrors.accountNotFound(CUSTOMER), [CUSTOMER]],
    ["PAYMENT_EXISTS", paymentsErrors.paymentExists(CUSTOMER, ORDER, "VOIDED"), [CUSTOMER, ORDER, "VOIDED"]],
    [
      "INVALID_TRANSITION",
      paymentsErrors.invalidTransition(CUSTOMER, ORDER, "CAPTURED", "VOIDED"),
      [CUSTOMER, ORDER, "CAPTURED", "VOIDED"],
    ],
    ["INVALID_TRANSITION", paymentsErrors.invalidTransition(CUSTOMER, ORDER, "NONE", "REFUNDED"), [CUSTOMER, ORDER, "REFUNDED"]],
    ["VALIDATION", paymentsErrors.balanceLimitExceeded(CUSTOMER, 101, 9_007_199_254_740_891, 9_007_199_254_740_991), [CUSTOMER, "101", "100"]],
  ] as const)("%s names what was refused", (code, error, mentions) => {
    expect(error.code).toBe(code);
    for (const text of mentions) expect(error.message).toContain(text);
  });
});
