// Projection lag, as much of it as the API shows today: the time from the log
// recording the dashboard's latest event (`updatedAt` is that event's
// recordedAt) to the change arriving here over the subscription. It covers
// projection, pub/sub and delivery, and compares the server's clock with this
// browser's, so it is an indicator, not a measurement. It is only taken from
// live changes: on a quiet system the initial query's `updatedAt` is old
// because nothing happened, not because the projector is behind.
// When the API offers a projection status query, this file is the one to change.

export const LAG_LABEL = "last change: event recorded → shown here (server vs browser clock)";

/** Milliseconds, or null when the change carries no event time. */
export function lagOfChange(dashboard, receivedAtMs) {
  if (!dashboard.updatedAt) return null;
  return Math.max(0, receivedAtMs - Date.parse(dashboard.updatedAt));
}

export function formatLag(ms) {
  if (ms === null) return "–";
  return ms < 1000 ? `${ms} ms` : `${(ms / 1000).toFixed(1)} s`;
}
