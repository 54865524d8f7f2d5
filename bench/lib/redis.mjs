/**
 * A private redis-server for the Redis-backed peer: the one on PATH, started on a free loopback
 * port with persistence off (no RDB snapshots, no AOF) and stopped afterwards.
 */
import { execFileSync, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { connect } from "node:net";
import { launchPrefix } from "./proc.mjs";

const CANDIDATES = ["/usr/bin/redis-server", "/usr/local/bin/redis-server"];

function findRedis() {
  for (const path of CANDIDATES) if (existsSync(path)) return path;
  try {
    return execFileSync("sh", ["-c", "command -v redis-server"], { encoding: "utf8" }).trim() || undefined;
  } catch {
    return undefined;
  }
}

/**
 * The redis-server binary on PATH. Nothing is installed from here: without it the Redis row is
 * skipped with this reason (install it by hand, e.g. `apt-get install -y redis-server`).
 * @returns {{ path?: string, reason?: string }}
 */
export function findRedisServer() {
  const path = findRedis();
  return path ? { path } : { reason: "redis-server is not on PATH (install it by hand to measure this row)" };
}

/** The version line of a redis-server binary, e.g. "7.0.15". */
export function redisVersion(path) {
  try {
    return /v=([\d.]+)/.exec(execFileSync(path, ["--version"], { encoding: "utf8" }))?.[1] ?? "?";
  } catch {
    return "?";
  }
}

function ping(port) {
  return new Promise((resolve) => {
    const socket = connect(port, "127.0.0.1");
    socket.setTimeout(500);
    socket.once("connect", () => socket.write("PING\r\n"));
    socket.once("data", (d) => {
      socket.destroy();
      resolve(d.toString().startsWith("+PONG"));
    });
    socket.once("error", () => resolve(false));
    socket.once("timeout", () => {
      socket.destroy();
      resolve(false);
    });
  });
}

/**
 * Start redis-server on `port` (pinned with taskset when `cpu` is given), no persistence.
 * Resolves { child, pid } once it answers PING.
 */
export async function startRedis(path, port, { cpu } = {}) {
  const args = [
    "--port", String(port),
    "--bind", "127.0.0.1",
    "--save", "",
    "--appendonly", "no",
    "--daemonize", "no",
    "--protected-mode", "yes",
    "--dir", "/dev/shm",
    "--dbfilename", `bench-redis-${port}.rdb`,
    "--loglevel", "warning",
  ];
  const [cmd, ...rest] = [...launchPrefix(cpu), path, ...args];
  const child = spawn(cmd, rest, { stdio: ["ignore", "ignore", "pipe"] });
  let stderr = "";
  child.stderr.setEncoding("utf8").on("data", (d) => (stderr += d));
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`redis-server exited: ${stderr}`);
    if (await ping(port)) return { child, pid: child.pid };
    await new Promise((r) => setTimeout(r, 50));
  }
  child.kill("SIGKILL");
  throw new Error(`redis-server did not answer PING on ${port}: ${stderr}`);
}
