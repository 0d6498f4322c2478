import { sagaHistory as h } from "../../../test/support/sagaSpec";
import { planAfter } from "../../platform/saga/sagaPlan";
import { evolveSaga, initialSagaState } from "../../platform/saga/sagaState";
import type { SagaEvent } from "../../platform/saga/types";
import { type CheckoutData, checkoutSaga } from "./checkoutSaga";

/**
 * What the runner appends in one go: a reply with the next step's start (or the end).
 * Each step must still be recorded as STARTED before its command goes out, so a crash
 * after the append resends the same step, and compensation knows what may have applied.
 */
const data: CheckoutData = { orderId: "o-1", customerId: "c-1", totalMinor: 3400, lines: [{ sku: "TEA", quantity: 2 }, { sku: "MUG", quantity: 1 }] };
const started = h.started("checkout", "o-1", data); // deadline in 2030
const before = Date.parse("2029-01-01T00:00:00.000Z");
const after = Date.parse("2031-01-01T00:00:00.000Z");
const fold = (events: SagaEvent[]) => events.reduce((s, e) => evolveSaga(s, e, "t"), initialSagaState);
const types = (events: SagaEvent[]) => events.map((e) => (e.type === "SagaStepStarted" || e.type === "SagaStepSucceeded" || e.type === "SagaStepFailed" ? `${e.type}:${e.data.step}` : e.type));

describe("saga plan: one append per step", () => {
  it("a saga starts with its first step recorded as STARTED in the same append, then sends it", () => {
    const plan = planAfter(checkoutSaga, initialSagaState, [started], before);
    expect(types(plan.events)).toEqual(["SagaStarted", "SagaStepStarted:reserve:TEA"]);
    expect(plan.then).toMatchObject({ kind: "send", step: { id: "reserve:TEA" } });
  });

  it("a reply is recorded with the next step's start, and that step is sent next", () => {
    const history = [started, h.stepStarted("reserve:TEA")];
    const plan = planAfter(checkoutSaga, fold(history), [h.succeeded("reserve:TEA")], before);
    expect(types(plan.events)).toEqual(["SagaStepSucceeded:reserve:TEA", "SagaStepStarted:reserve:MUG"]);
    expect(plan.state.steps["reserve:MUG"]?.status).toBe("STARTED");
    expect(plan.then).toMatchObject({ kind: "send", step: { id: "reserve:MUG", command: { type: "ReserveStock", sku: "MUG" } } });
  });

  it("the last reply is recorded with the end of the saga, and nothing is sent", () => {
    const history = [started, h.stepStarted("reserve:TEA"), h.succeeded("reserve:TEA"), h.stepStarted("reserve:MUG"), h.succeeded("reserve:MUG"),
      h.stepStarted("authorize"), h.succeeded("authorize", ["PaymentAuthorized"]), h.stepStarted("confirm")];
    const plan = planAfter(checkoutSaga, fold(history), [h.succeeded("confirm")], before);
    expect(types(plan.events)).toEqual(["SagaStepSucceeded:confirm", "SagaFinished"]);
    expect(plan.state.status).toBe("COMPLETED");
    expect(plan.then).toEqual({ kind: "stop" });
  });

  it("a failed forward step is recorded with the first compensation's start", () => {
    const history = [started, h.stepStarted("reserve:TEA"), h.succeeded("reserve:TEA"), h.stepStarted("reserve:MUG")];
    const plan = planAfter(checkoutSaga, fold(history), [h.failed("reserve:MUG", "OUT_OF_STOCK")], before);
    expect(types(plan.events)).toEqual(["SagaStepFailed:reserve:MUG", "SagaStepStarted:release:TEA"]);
    expect(plan.then).toMatchObject({ kind: "send", step: { id: "release:TEA", compensation: true } });
  });

  it("a reply after the deadline is recorded with the deadline and the first compensation", () => {
    const history = [started, h.stepStarted("reserve:TEA")];
    const plan = planAfter(checkoutSaga, fold(history), [h.succeeded("reserve:TEA")], after);
    expect(types(plan.events)).toEqual(["SagaStepSucceeded:reserve:TEA", "SagaDeadlinePassed", "SagaStepStarted:release:TEA"]);
    expect(plan.then).toMatchObject({ kind: "send", step: { id: "release:TEA" } });
  });

  it("after a crash between the combined append and the send, nothing is appended and the STARTED step is sent again", () => {
    const history = [started, h.stepStarted("reserve:TEA"), h.succeeded("reserve:TEA"), h.stepStarted("reserve:MUG")];
    const plan = planAfter(checkoutSaga, fold(history), [], before);
    expect(plan.events).toEqual([]);
    expect(plan.then).toMatchObject({ kind: "send", step: { id: "reserve:MUG", command: { type: "ReserveStock", sku: "MUG", quantity: 1 } } });
  });

  it("a compensation that failed for good is recorded alone, and the saga stops FAILED", () => {
    const history = [started, h.stepStarted("reserve:TEA"), h.failed("reserve:TEA", "OUT_OF_STOCK"), h.stepStarted("cancel")];
    const plan = planAfter(checkoutSaga, fold(history), [h.sagaFailed("cancel", "UNAVAILABLE")], before);
    expect(types(plan.events)).toEqual(["SagaFailed"]);
    expect(plan.then).toEqual({ kind: "stop" });
  });
});
