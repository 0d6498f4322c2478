/**
 * The V8 flags every Eventline process runs with: `npm start`, the container
 * image (as NODE_OPTIONS, so a command override keeps them), and the test and
 * bench harnesses, which start roles as they are deployed. A test keeps those
 * places in step with this list (test/nodeFlags.unit.test.ts).
 *
 * A young generation of up to 64 MB a semi-space instead of V8's 16: a
 * projector's batch (log rows, the documents they touch, their JSON) outlives
 * a scavenge of the smaller space and is promoted, then reclaimed by full
 * mark-compacts. With it a rebuild costs 23–27 µs of CPU per event instead of
 * 36–43 (BENCHMARKS.md). V8 grows the space only in a process that allocates
 * that fast; the command and query paths measured the same either way.
 */
export const NODE_FLAGS = ["--max-semi-space-size=64"] as const;
