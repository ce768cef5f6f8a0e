// Several gateway instances behind a real nginx, as an agency runs them in
// production: Redis (the store they share), a sandbox, two gateways with the
// same key and store, and nginx with the project's own `deploy/nginx.conf`
// (only its listen port and the instances' ports put in). Every server is
// started here and stopped by `stop()`; `cargo xtask setup` installs
// Debian's redis-server and nginx.
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { sandboxHelpers, startGateway, startSandbox, type RunningServer, type Stack } from "./stack";

/** Debian's nginx, which `cargo xtask setup` installs in /usr/sbin. */
const NGINX = existsSync("/usr/sbin/nginx") ? "/usr/sbin/nginx" : "nginx";

/** A process the tests started, and how to stop it. */
interface Started {
  process: ChildProcess;
  stop(): Promise<void>;
}

/**
 * The instances behind nginx, nginx's URL, and each instance's metrics; as a
 * `Stack`, its `gateway` is nginx, what candidates open.
 */
export interface BalancedStack extends Stack {
  gateways: RunningServer[];
  /** Each instance's admin listener (`/metrics`), in the order of `gateways`. */
  admins: string[];
  /** Kills one instance at once, as a crash would. */
  crash(index: number): Promise<void>;
  stop(): Promise<void>;
}

/** A loopback port nothing listens on now. */
async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => (typeof address === "object" && address ? resolve(address.port) : reject(new Error("no port"))));
    });
  });
}

/** Stops `child` with `signal` and waits for it to exit. */
function stopper(child: ChildProcess, signal: NodeJS.Signals = "SIGTERM"): () => Promise<void> {
  return () =>
    new Promise<void>((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) return resolve();
      child.once("exit", () => resolve());
      child.kill(signal);
    });
}

/** Waits for `child` to print a line matching `ready` on stdout or stderr. */
async function readyWhen(child: ChildProcess, name: string, ready: RegExp): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${name} did not start`)), 15_000);
    child.once("exit", (code) => reject(new Error(`${name} exited with ${code}`)));
    for (const stream of [child.stdout, child.stderr]) {
      if (!stream) continue;
      createInterface({ input: stream }).on("line", (line) => {
        if (ready.test(line)) {
          clearTimeout(timer);
          resolve();
        }
      });
    }
  });
}

/** Debian's redis-server on a free loopback port, keeping nothing on disk. */
async function startRedis(): Promise<Started & { url: string }> {
  const port = await freePort();
  const child = spawn("redis-server", ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  await readyWhen(child, "redis-server", /ready to accept connections/i);
  return { process: child, stop: stopper(child), url: `redis://127.0.0.1:${port}/0` };
}

/**
 * nginx running the project's `deploy/nginx.conf` in a folder of its own:
 * the file's `listen 80` becomes `listen`, its two `server` lines the
 * instances' ports; the rest is as committed. `nginx -t` checks it first.
 */
async function startNginx(listen: number, instances: number[]): Promise<Started & { dir: string }> {
  const committed = readFileSync(join(__dirname, "..", "..", "deploy", "nginx.conf"), "utf8");
  let servers = 0;
  const site = committed
    .replace(/listen 80;/, `listen 127.0.0.1:${listen};`)
    .replace(/server 127\.0\.0\.1:\d+ /g, () => `server 127.0.0.1:${instances[servers++]} `);
  if (servers !== instances.length) throw new Error(`deploy/nginx.conf names ${servers} instances, not ${instances.length}`);
  const dir = mkdtempSync(join(tmpdir(), "hbg-nginx-"));
  for (const temp of ["body", "proxy", "fastcgi", "uwsgi", "scgi"]) mkdirSync(join(dir, temp));
  writeFileSync(join(dir, "booking-gateway.conf"), site);
  const asRoot = process.getuid?.() === 0;
  writeFileSync(
    join(dir, "nginx.conf"),
    [
      ...(asRoot ? ["user root;"] : []),
      "daemon off;",
      "worker_processes 1;",
      `pid ${join(dir, "nginx.pid")};`,
      `error_log ${join(dir, "error.log")} warn;`,
      "events { worker_connections 256; }",
      "http {",
      `  access_log ${join(dir, "access.log")};`,
      ...["body", "proxy", "fastcgi", "uwsgi", "scgi"].map(
        (temp) => `  ${temp === "body" ? "client_body" : temp}_temp_path ${join(dir, temp)};`,
      ),
      `  include ${join(dir, "booking-gateway.conf")};`,
      "}",
      "",
    ].join("\n"),
  );
  const args = ["-p", dir, "-c", join(dir, "nginx.conf")];
  const check = spawn(NGINX, [...args, "-t"], { stdio: ["ignore", "pipe", "pipe"] });
  const checked = await new Promise<{ code: number | null; text: string }>((resolve) => {
    let text = "";
    check.stderr!.on("data", (chunk) => (text += chunk));
    check.once("exit", (code) => resolve({ code, text }));
  });
  if (checked.code !== 0) throw new Error(`nginx -t refused deploy/nginx.conf: ${checked.text}`);
  const child = spawn(NGINX, args, { stdio: ["ignore", "pipe", "pipe"] });
  const deadline = Date.now() + 15_000;
  for (;;) {
    try {
      await fetch(`http://127.0.0.1:${listen}/healthz`);
      break;
    } catch {
      if (child.exitCode !== null) throw new Error(`nginx exited with ${child.exitCode}`);
      if (Date.now() > deadline) throw new Error("nginx did not start");
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
  return {
    process: child,
    dir,
    stop: async () => {
      await stopper(child, "SIGQUIT")();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Starts Redis, a sandbox, two gateway instances sharing Redis, and nginx in front. */
export async function startBalancedStack(): Promise<BalancedStack> {
  const started: Array<() => Promise<void>> = [];
  const stopAll = async () => {
    for (const stop of started.reverse()) await stop();
  };
  try {
    const redis = await startRedis();
    started.push(redis.stop);
    const sandbox = await startSandbox();
    started.push(sandbox.stop);
    const listen = await freePort();
    const url = `http://127.0.0.1:${listen}`;
    const ports = [await freePort(), await freePort()];
    const gateways: RunningServer[] = [];
    const admins: string[] = [];
    for (const port of ports) {
      const adminPort = await freePort();
      const gateway = await startGateway(
        sandbox,
        [
          "--listen",
          `127.0.0.1:${port}`,
          "--admin-listen",
          `127.0.0.1:${adminPort}`,
          "--trusted-proxies",
          "127.0.0.1/32",
          "--public-url",
          url,
        ],
        { HBG_SHARED_STORE: redis.url },
      );
      started.push(gateway.stop);
      gateways.push(gateway);
      admins.push(`http://127.0.0.1:${adminPort}`);
    }
    const nginx = await startNginx(listen, ports);
    started.push(nginx.stop);
    return {
      ...sandboxHelpers(sandbox),
      gateway: { url, process: nginx.process, stop: nginx.stop },
      gateways,
      admins,
      crash: (index) => stopper(gateways[index].process, "SIGKILL")(),
      stop: stopAll,
    };
  } catch (error) {
    await stopAll();
    throw error;
  }
}
