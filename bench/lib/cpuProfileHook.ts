import { writeFileSync } from "node:fs";
import { Session } from "node:inspector";
import { join } from "node:path";

/**
 * `--profile`: loaded into every role process with NODE_OPTIONS=--require
 * (Node refuses --cpu-prof there). Profiles the whole process with the
 * inspector and writes a .cpuprofile into BENCH_PROFILE_DIR when it exits.
 * The in-process inspector session answers synchronously, so this works
 * inside an 'exit' handler.
 */
const dir = process.env.BENCH_PROFILE_DIR;
if (dir) {
  const session = new Session();
  session.connect();
  session.post("Profiler.enable");
  session.post("Profiler.setSamplingInterval", { interval: 500 });
  session.post("Profiler.start");
  process.on("exit", () => {
    session.post("Profiler.stop", (error, result) => {
      if (error) return;
      const role = process.argv[2] ?? "process";
      writeFileSync(join(dir, `${role}-${process.pid}.cpuprofile`), JSON.stringify(result.profile));
    });
  });
}
