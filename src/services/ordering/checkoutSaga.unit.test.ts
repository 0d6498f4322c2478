import { sagaHistory as h, sagaSpec } from "../../../test/support/sagaSpec";
import type { SagaStep } from "../../platform/saga/types";
import { INVENTORY, type inventoryContract } from "../inventory/contract";
import { PAYMENTS, type paymentsContract } from "../payments/contract";
import { type CheckoutData, checkoutSaga } from "./checkoutSaga";

const data: CheckoutData = {
  orderId: "o-1",
  customerId: "c-1",
  totalMinor: 3400,
  lines: [{ sku: "TEA", quantity: 2 }, { sku: "MUG", quantity: 1 }],
};
const saga = sagaSpec(checkoutSaga);
const started = h.started("checkout", "o-1", data);
const reserved = [h.stepStarted("reserve:TEA"), h.succeeded("reserve:TEA"), h.stepStarted("reserve:MUG"), h.succeeded("reserve:MUG")];
const authorized = [h.stepStarted("authorize"), h.succeeded("authorize", ["PaymentAuthorized"])];

const step = (s: ReturnType<typeof checkoutSaga.next>) => ("finished" in s ? s : { id: s.id, service: s.service, command: s.command });

describe("checkout saga: forward path", () => {
  it("starts from OrderPlaced with the order's lines and total", () => {
    const event = {
      type: "OrderPlaced",
      data: { orderId: "o-1", customerId: "c-1", totalMinor: 3400, currency: "EUR", lines: [
        { sku: "TEA", quantity: 2, unitPriceMinor: 1250, lineTotalMinor: 2500 },
        { sku: "MUG", quantity: 1, unitPriceMinor: 900, lineTotalMinor: 900 },
      ] },
    };
    expect(checkoutSaga.start(event as never)).toEqual({ id: "o-1", data });
  });

  it("reserves the first line first", () => {
    expect(step(saga.given([started]).next())).toEqual({
      id: "reserve:TEA", service: "inventory", command: { type: "ReserveStock", sku: "TEA", orderId: "o-1", quantity: 2 },
    });
  });

  it("resends a step that was started but never answered (after a crash)", () => {
    expect(step(saga.given([started, h.stepStarted("reserve:TEA")]).next())).toMatchObject({ id: "reserve:TEA" });
  });

  it("reserves every line before authorizing the total", () => {
    expect(step(saga.given([started, ...reserved.slice(0, 2)]).next())).toMatchObject({ id: "reserve:MUG" });
    expect(step(saga.given([started, ...reserved]).next())).toEqual({
      id: "authorize", service: "payments", command: { type: "AuthorizePayment", customerId: "c-1", orderId: "o-1", amountMinor: 3400 },
    });
  });

  it("confirms once the payment is authorized", () => {
    expect(step(saga.given([started, ...reserved, ...authorized]).next())).toEqual({
      id: "confirm", service: "ordering", command: { type: "ConfirmOrder", orderId: "o-1" },
    });
  });

  it("completes after the confirmation", () => {
    expect(saga.given([started, ...reserved, ...authorized, h.succeeded("confirm")]).next()).toEqual({ finished: "COMPLETED" });
  });
});

describe("checkout saga: failures and compensation", () => {
  it("out of stock: releases only the lines reserved, cancels, and needs no void", () => {
    const given = saga.given([started, ...reserved.slice(0, 3), h.failed("reserve:MUG", "OUT_OF_STOCK")]);
    expect(given.state.status).toBe("COMPENSATING");
    expect(step(given.next())).toEqual({ id: "release:TEA", service: "inventory", command: { type: "ReleaseStock", sku: "TEA", orderId: "o-1", tombstone: true } });
    const afterRelease = [started, ...reserved.slice(0, 3), h.failed("reserve:MUG", "OUT_OF_STOCK"), h.succeeded("release:TEA")];
    expect(step(saga.given(afterRelease).next())).toEqual({
      id: "cancel", service: "ordering", command: { type: "CancelOrder", orderId: "o-1", reason: "out of stock: MUG" },
    });
    expect(saga.given([...afterRelease, h.succeeded("cancel")]).next()).toEqual({ finished: "COMPENSATED" });
  });

  it("a compensation resent after the saga failed on it and was redriven is the same command (same idempotency fingerprint)", () => {
    const afterRelease = [started, ...reserved.slice(0, 3), h.failed("reserve:MUG", "OUT_OF_STOCK"), h.succeeded("release:TEA"), h.stepStarted("cancel")];
    const first = step(saga.given(afterRelease).next());
    const redriven = step(saga.given([...afterRelease, h.sagaFailed("cancel", "UNAVAILABLE"), h.redriven()]).next());
    expect(redriven).toEqual(first);
    expect(first).toMatchObject({ command: { reason: "out of stock: MUG" } });
  });

  it("payment declined: releases every line, then cancels with the reason", () => {
    const history = [started, ...reserved, h.stepStarted("authorize"), h.failed("authorize", "PAYMENT_DECLINED")];
    expect(step(saga.given(history).next())).toMatchObject({ id: "release:MUG" });
    const released = [...history, h.succeeded("release:MUG"), h.succeeded("release:TEA")];
    expect(step(saga.given(released).next())).toMatchObject({ id: "cancel", command: { reason: "payment declined" } });
    expect(saga.given([...released, h.succeeded("cancel")]).next()).toEqual({ finished: "COMPENSATED" });
  });

  it("deadline while the payment is in doubt: release, cancel, then void (a tombstone if it never arrived)", () => {
    const history = [started, ...reserved, h.stepStarted("authorize"), h.deadlinePassed()];
    const afterCancel = [...history, h.succeeded("release:MUG"), h.succeeded("release:TEA"), h.succeeded("cancel")];
    expect(step(saga.given(history.concat(h.succeeded("release:MUG"), h.succeeded("release:TEA"))).next())).toMatchObject({
      id: "cancel", command: { reason: "checkout timed out" },
    });
    expect(step(saga.given(afterCancel).next())).toEqual({
      id: "void", service: "payments",
      command: { type: "VoidPayment", customerId: "c-1", orderId: "o-1", reason: "checkout timed out" },
    });
    expect(saga.given([...afterCancel, h.succeeded("void")]).next()).toEqual({ finished: "COMPENSATED" });
  });

  it("deadline while a reservation is in doubt: it is released too", () => {
    const history = [started, h.stepStarted("reserve:TEA"), h.deadlinePassed()];
    expect(step(saga.given(history).next())).toMatchObject({ id: "release:TEA" });
  });

  it("a late reply after the deadline does not resume the forward path", () => {
    const history = [started, ...reserved, h.stepStarted("authorize"), h.deadlinePassed(), h.succeeded("authorize", ["PaymentAuthorized"])];
    const given = saga.given(history);
    expect(given.state.status).toBe("COMPENSATING");
    expect(step(given.next())).toMatchObject({ id: "release:MUG" });
  });

  it("confirmation refused (the customer cancelled first): releases, cancels, voids the authorization", () => {
    const history = [started, ...reserved, ...authorized, h.stepStarted("confirm"), h.failed("confirm", "INVALID_TRANSITION")];
    const compensated = [...history, h.succeeded("release:MUG"), h.succeeded("release:TEA"), h.succeeded("cancel")];
    expect(step(saga.given(compensated).next())).toMatchObject({ id: "void" });
  });

  it("a compensation that keeps failing leaves the saga FAILED, and a redrive resumes compensating", () => {
    const history = [started, h.stepStarted("reserve:TEA"), h.failed("reserve:TEA", "OUT_OF_STOCK"), h.stepStarted("cancel", "ordering", true), h.sagaFailed("cancel", "UNAVAILABLE")];
    const failed = saga.given(history);
    expect(failed.state).toMatchObject({ status: "FAILED", lastError: { step: "cancel", code: "UNAVAILABLE" }, resumeAs: "COMPENSATING" });
    const redriven = saga.given([...history, h.redriven()]);
    expect(redriven.state.status).toBe("COMPENSATING");
    expect(step(redriven.next())).toMatchObject({ id: "cancel" });
  });
});

describe("checkout saga: reading replies", () => {
  const authorize: SagaStep<typeof paymentsContract> = {
    id: "authorize", service: PAYMENTS, command: { type: "AuthorizePayment", customerId: "c-1", orderId: "o-1", amountMinor: 3400 }, compensation: false,
  };
  const release: SagaStep<typeof inventoryContract> = {
    id: "release:TEA", service: INVENTORY, command: { type: "ReleaseStock", sku: "TEA", orderId: "o-1", tombstone: true }, compensation: true,
  };
  const reserve: SagaStep<typeof inventoryContract> = {
    id: "reserve:TEA", service: INVENTORY, command: { type: "ReserveStock", sku: "TEA", orderId: "o-1", quantity: 2 }, compensation: false,
  };

  it("is typed by its target's contract: a payments command cannot be sent to Inventory", () => {
    // @ts-expect-error AuthorizePayment is not one of Inventory's commands
    const misrouted: SagaStep<typeof inventoryContract | typeof paymentsContract> = {
      id: "authorize",
      service: INVENTORY,
      command: { type: "AuthorizePayment", customerId: "c-1", orderId: "o-1", amountMinor: 3400 },
      compensation: false,
    };
    expect(misrouted.service).toBe("inventory");
  });

  it("an authorization is a success", () => {
    expect(checkoutSaga.judge(authorize, { ok: true, events: ["PaymentAuthorized"] })).toEqual({ ok: true });
  });

  it("a declined payment is a failed step, though the command succeeded", () => {
    expect(checkoutSaga.judge(authorize, { ok: true, events: ["PaymentDeclined"] })).toMatchObject({ ok: false, code: "PAYMENT_DECLINED" });
  });


  it("releasing what was never reserved, or already settled, is nothing to undo", () => {
    expect(checkoutSaga.judge(release, { ok: false, code: "RESERVATION_NOT_FOUND", message: "" })).toEqual({ ok: true });
    expect(checkoutSaga.judge(release, { ok: false, code: "RESERVATION_SETTLED", message: "" })).toEqual({ ok: true });
  });

  it("any other refusal fails the step with its code", () => {
    expect(checkoutSaga.judge(release, { ok: false, code: "NOT_FOUND", message: "gone" })).toEqual({ ok: false, code: "NOT_FOUND", message: "gone" });
    expect(checkoutSaga.judge(reserve, { ok: false, code: "OUT_OF_STOCK", message: "none" })).toMatchObject({ ok: false, code: "OUT_OF_STOCK" });
  });
});

describe("checkout: the instance data its stream recorded", () => {
  it("is parsed, not trusted: data of another shape is a VALIDATION error before any step is chosen", () => {
    expect(() => saga.given([h.started("checkout", "o-1", { orderId: "o-1", customerId: 7, lines: "none", totalMinor: 1 })]).next()).toThrow(
      expect.objectContaining({ code: "VALIDATION", details: expect.objectContaining({ field: "data" }) }),
    );
  });
});
