import { deciderSpec } from "../../../test/support/deciderSpec";
import { sagaCommandDecider } from "./sagaState";
import { sagaHistory as h } from "../../../test/support/sagaSpec";

const spec = deciderSpec(sagaCommandDecider);
const redrive = { type: "RedriveSaga" as const, sagaStreamId: "saga.checkout-o-1", by: "operator" };
const started = h.started("checkout", "o-1", {});

describe("redriving a saga", () => {
  it("resumes a FAILED saga", () => {
    spec.given([started, h.sagaFailed("cancel", "UNAVAILABLE")]).when(redrive).then([{ type: "SagaRedriven", data: { by: "operator" } }]);
  });

  it("refuses a saga that is still running", () => {
    spec.given([started]).when(redrive).thenThrows("INVALID_TRANSITION", { from: "RUNNING" });
  });

  it("refuses a saga that finished", () => {
    spec.given([started, { type: "SagaFinished", data: { status: "COMPLETED" } }]).when(redrive).thenThrows("INVALID_TRANSITION", { from: "COMPLETED" });
  });

  it("refuses an unknown saga", () => {
    spec.given([]).when(redrive).thenThrows("NOT_FOUND");
  });
});
