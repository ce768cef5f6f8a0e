// Starts the project's real servers on ephemeral ports for one test file.
import { spawn, type ChildProcess } from "node:child_process";
import { createInterface } from "node:readline";

/** A running server and the base URL it announced. */
export interface RunningServer {
  url: string;
  process: ChildProcess;
  stop(): Promise<void>;
}

function serverBinary(): string {
  const bin = process.env.BOOKING_SERVER_BIN;
  if (!bin) throw new Error("BOOKING_SERVER_BIN is not set: run the tests with `cargo xtask test`");
  return bin;
}

/** Spawns `booking-server ARGS` and waits for its "listening on URL" line. */
export async function startServer(args: string[]): Promise<RunningServer> {
  const child = spawn(serverBinary(), args, { stdio: ["ignore", "pipe", "inherit"] });
  const lines = createInterface({ input: child.stdout! });
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`booking-server ${args[0]} did not start`)), 15_000);
    child.once("exit", (code) => reject(new Error(`booking-server ${args[0]} exited with ${code}`)));
    lines.on("line", (line) => {
      const match = /listening on (http:\/\/\S+)/.exec(line);
      if (match) {
        clearTimeout(timer);
        resolve(match[1]);
      }
    });
  });
  return {
    url,
    process: child,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once("exit", () => resolve());
        child.kill("SIGTERM");
      }),
  };
}

/** The gateway serving the built widget. */
export async function startGateway(): Promise<RunningServer> {
  const dist = process.env.BOOKING_DIST;
  if (!dist) throw new Error("BOOKING_DIST is not set: run the tests with `cargo xtask test`");
  return startServer(["gateway", "--listen", "127.0.0.1:0", "--static", dist]);
}
