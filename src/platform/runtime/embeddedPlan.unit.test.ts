import { ensureOsUser, planEmbedded, projectKey, ROOT_DATA_BASE, type Run } from "./embeddedPlan";
import { envLines } from "./envCommand";

describe("where the embedded servers keep their data, and as whom they run", () => {
  const base = { cwd: "/home/ann/eventline", dataDir: undefined, osUser: "eventline" };

  it("a normal user: .data in the project, as that user", () => {
    expect(planEmbedded({ ...base, uid: 1000 })).toEqual({ dataRoot: "/home/ann/eventline/.data", runAs: null });
  });

  it("root: a system path keyed by the project directory, stable across starts, as the OS user", () => {
    const plan = planEmbedded({ ...base, cwd: "/root/eventline", uid: 0 });
    expect(plan).toEqual({ dataRoot: `${ROOT_DATA_BASE}/${projectKey("/root/eventline")}`, runAs: "eventline" });
    expect(planEmbedded({ ...base, cwd: "/root/eventline/", uid: 0 })).toEqual(plan);
    expect(projectKey("/root/eventline")).toMatch(/^[0-9a-f]{12}$/);
    expect(projectKey("/root/other")).not.toBe(projectKey("/root/eventline"));
  });

  it("EVENTLINE_DATA_DIR wins for everyone, relative to the project", () => {
    expect(planEmbedded({ ...base, uid: 0, dataDir: "/srv/data" })).toEqual({ dataRoot: "/srv/data", runAs: "eventline" });
    expect(planEmbedded({ ...base, uid: 1000, dataDir: "tmp/d" }).dataRoot).toBe("/home/ann/eventline/tmp/d");
  });
});

describe("the OS user root runs the servers as", () => {
  const fake = (users: Record<string, number>, useradd: (name: string) => void = () => undefined) => {
    const calls: string[][] = [];
    const run: Run = async (command, args) => {
      calls.push([command, ...args]);
      if (command === "useradd") {
        useradd(args[args.length - 1]!);
        users[args[args.length - 1]!] = 990;
        return "";
      }
      const id = users[args[1]!];
      if (id === undefined) throw new Error(`Command failed: id ${args.join(" ")}\nid: '${args[1]}': no such user`);
      return `${id}\n`;
    };
    return { run, calls };
  };

  it("is used as it is when it exists", async () => {
    const { run, calls } = fake({ eventline: 120 });
    await expect(ensureOsUser("eventline", run)).resolves.toEqual({ name: "eventline", uid: 120, gid: 120, created: false });
    expect(calls.some(([c]) => c === "useradd")).toBe(false);
  });

  it("is created as a system user without home or login when missing (a machine without PostgreSQL)", async () => {
    const { run, calls } = fake({});
    await expect(ensureOsUser("eventline", run)).resolves.toEqual({ name: "eventline", uid: 990, gid: 990, created: true });
    const useradd = calls.find(([c]) => c === "useradd")!;
    expect(useradd).toEqual(expect.arrayContaining(["--system", "--user-group", "--no-create-home", "eventline"]));
  });

  it("says in one line what to run when it cannot be created", async () => {
    const { run } = fake({}, () => {
      throw new Error("Command failed: useradd --system x\nuseradd: cannot lock /etc/passwd; try again later.");
    });
    const error = await ensureOsUser("eventline", run).catch((e: Error) => e);
    expect(error).toBeInstanceOf(Error);
    expect((error as Error).message).not.toContain("\n");
    expect((error as Error).message).toMatch(/creating 'eventline' failed \(useradd: cannot lock \/etc\/passwd; try again later\)/);
    expect((error as Error).message).toMatch(/Fix: run `useradd --system --user-group --no-create-home --shell \S+ eventline`/);
  });
});

describe("eventline env", () => {
  it("prints the embedded servers' full URLs, password included, as export lines", () => {
    expect(envLines({ EVENTLINE_PG_PORT: 54329, EVENTLINE_REDIS_PORT: 63790 })).toEqual([
      "export DATABASE_URL=postgres://postgres:postgres@127.0.0.1:54329/eventline",
      "export REDIS_URL=redis://127.0.0.1:63790",
    ]);
  });

  it("prints the URLs set in the environment instead, quoted for the shell when needed", () => {
    const lines = envLines({ DATABASE_URL: "postgres://a:b'c$@db:5432/x", REDIS_URL: "redis://r:6379", EVENTLINE_PG_PORT: 1, EVENTLINE_REDIS_PORT: 2 });
    expect(lines).toEqual(["export DATABASE_URL='postgres://a:b'\\''c$@db:5432/x'", "export REDIS_URL=redis://r:6379"]);
  });
});
