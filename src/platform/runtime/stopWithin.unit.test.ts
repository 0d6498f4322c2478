import { stopWithin } from "./stopWithin";

describe("stopWithin", () => {
  it("reports a stop that finishes in time as finished", async () => {
    let stopped = false;
    const outcome = await stopWithin(async () => void (stopped = true), 1000, () => "never asked");
    expect(outcome).toEqual({ finished: true });
    expect(stopped).toBe(true);
  });

  it("gives up on a stop that hangs, naming what it was still waiting on", async () => {
    let waitingOn = "the api";
    const hung = new Promise<void>(() => {
      waitingOn = "command worker";
    });
    const outcome = await stopWithin(() => hung, 30, () => waitingOn);
    expect(outcome).toEqual({ finished: false, waitingOn: "command worker" });
  });

  it("passes a failing stop's error on", async () => {
    await expect(stopWithin(() => Promise.reject(new Error("redis gone")), 1000, () => null)).rejects.toThrow("redis gone");
  });
});
