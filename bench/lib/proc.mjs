/**
 * Process plumbing for the benchmark: CPU time from /proc/<pid>/stat (the kernel's own
 * accounting, so it counts every thread of the process, including ones that already exited),
 * CPU pinning with taskset, finding the workerd children Miniflare spawns, and free ports.
 */
import { execFileSync, spawn } from "node:child_process";
import { readFileSync, readdirSync } from "node:fs";
import { createServer } from "node:net";

/** Command prefix that pins a process to `cpu` with taskset (none when `cpu` is undefined). */
export function launchPrefix(cpu) {
  return cpu === undefined ? [] : ["taskset", "-c", String(cpu)];
}

/** Clock ticks per second for utime/stime (`getconf CLK_TCK`, 100 on Linux x86-64). */
export const CLK_TCK = (() => {
  try {
    return Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim()) || 100;
  } catch {
    return 100;
  }
})();

/** Parse /proc/<pid>/stat. Field 2 (comm) may contain spaces and parentheses: split after the last ')'. */
function readStat(pid) {
  const text = readFileSync(`/proc/${pid}/stat`, "utf8");
  const close = text.lastIndexOf(")");
  const comm = text.slice(text.indexOf("(") + 1, close);
  const rest = text.slice(close + 2).split(" "); // rest[0] is field 3 (state)
  return { comm, ppid: Number(rest[1]), utime: Number(rest[11]), stime: Number(rest[12]) };
}

/** utime + stime of `pid` in microseconds (all its threads, live and exited). */
export function cpuMicros(pid) {
  const { utime, stime } = readStat(pid);
  return ((utime + stime) * 1e6) / CLK_TCK;
}

/** Sum of cpuMicros over `pids`, plus the per-pid values. */
export function cpuSnapshot(pids) {
  const per = {};
  let total = 0;
  for (const pid of pids) {
    const us = cpuMicros(pid);
    per[pid] = us;
    total += us;
  }
  return { total, per };
}

/**
 * Time accounting of one CPU from /proc/stat, in clock ticks: `steal` is time the hypervisor ran
 * something else while this virtual CPU wanted to run (a noisy neighbour), `total` all fields.
 */
export function cpuCoreTicks(cpu) {
  const line = readFileSync("/proc/stat", "utf8").split("\n").find((l) => l.startsWith(`cpu${cpu} `));
  if (!line) return undefined;
  const ticks = line.trim().split(/\s+/).slice(1).map(Number);
  return { steal: ticks[7] ?? 0, total: ticks.slice(0, 8).reduce((a, b) => a + b, 0) };
}

/** The command name (comm) of `pid`. */
export function commOf(pid) {
  return readStat(pid).comm;
}

/** Every descendant pid of `pid` (children, grandchildren, …). */
export function descendants(pid) {
  const children = new Map();
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const { ppid } = readStat(entry);
      if (!children.has(ppid)) children.set(ppid, []);
      children.get(ppid).push(Number(entry));
    } catch {
      // the process exited while we listed /proc
    }
  }
  const out = [];
  const queue = [Number(pid)];
  while (queue.length > 0) {
    for (const child of children.get(queue.shift()) ?? []) {
      out.push(child);
      queue.push(child);
    }
  }
  return out;
}

/**
 * Pin every thread of `pid` to `cpuList` (e.g. "0"). New threads inherit the mask. Returns false
 * (and warns) instead of throwing when taskset fails, e.g. for a thread that exited meanwhile.
 */
export function pin(pid, cpuList) {
  try {
    execFileSync("taskset", ["-a", "-p", "-c", String(cpuList), String(pid)], { stdio: "ignore" });
    return true;
  } catch (err) {
    process.stderr.write(`[bench] warning: taskset could not pin pid ${pid} to CPU ${cpuList}: ${err.message}\n`);
    return false;
  }
}

/** Whether `taskset` exists and the machine has at least two CPUs we may use. */
export function canPin() {
  try {
    execFileSync("taskset", ["-p", String(process.pid)], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

/** Whether `port` can be bound on 127.0.0.1 right now (0: any port the kernel picks). */
function tryListen(port) {
  return new Promise((resolve) => {
    const server = createServer();
    server.once("error", () => resolve(undefined));
    server.listen(port, "127.0.0.1", () => {
      const bound = server.address().port;
      server.close(() => resolve(bound));
    });
  });
}

let nextInRange = 0;
/**
 * A TCP port on 127.0.0.1 that is free right now: from BENCH_PORTS (e.g. `8820-8849`, on a machine
 * where ports are shared out; taken round-robin, so a port just handed out is not handed out again
 * before it is used), else one the kernel picks (never 8787–8794, which dev servers use).
 */
export async function freePort() {
  const range = /^(\d+)-(\d+)$/.exec(process.env.BENCH_PORTS ?? "");
  if (range) {
    const [low, high] = [Number(range[1]), Number(range[2])];
    for (let i = 0; i <= high - low; i++) {
      const port = low + ((nextInRange++) % (high - low + 1));
      if ((await tryListen(port)) !== undefined) return port;
    }
    throw new Error(`no free port in BENCH_PORTS=${process.env.BENCH_PORTS}`);
  }
  for (;;) {
    const port = await tryListen(0);
    if (port !== undefined && (port < 8787 || port > 8794)) return port;
  }
}

/**
 * Spawn a Node script (optionally pinned with `taskset -c cpu`) that prints one JSON line to
 * stdout when ready. Resolves { child, ready, startedAt } with the parsed line; stderr is kept for
 * error messages.
 */
export function spawnNodeReady(script, args, { cpu, env, timeoutMs = 60_000, cwd } = {}) {
  const argv = [process.execPath, script, ...args];
  const [cmd, ...rest] = [...launchPrefix(cpu), ...argv];
  const startedAt = performance.now();
  const child = spawn(cmd, rest, { stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, ...env }, cwd });
  let stderr = "";
  child.stderr.setEncoding("utf8");
  child.stderr.on("data", (d) => {
    stderr = (stderr + d).slice(-20_000);
  });
  child.stderrText = () => stderr;
  return new Promise((resolve, reject) => {
    let buffer = "";
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`${script} not ready after ${timeoutMs} ms\n${stderr}`));
    }, timeoutMs);
    child.stdout.setEncoding("utf8");
    const onData = (d) => {
      buffer += d;
      const nl = buffer.indexOf("\n");
      if (nl === -1) return;
      child.stdout.off("data", onData);
      clearTimeout(timer);
      try {
        resolve({ child, ready: JSON.parse(buffer.slice(0, nl)), startedAt, readyAt: performance.now() });
      } catch (err) {
        reject(new Error(`${script} printed no JSON ready line: ${buffer.slice(0, 300)}\n${stderr}`));
      }
      child.stdout.resume();
    };
    child.stdout.on("data", onData);
    child.once("exit", (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`${script} exited (${code ?? signal}) before it was ready\n${stderr}`));
    });
  });
}

/** Stop a child we started: SIGTERM, then SIGKILL after `graceMs`. Resolves when it is gone. */
export function stopChild(child, graceMs = 5_000) {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill("SIGKILL"), graceMs);
    child.once("exit", () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill("SIGTERM");
  });
}

/** Run a Node script to completion (optionally pinned) and parse the last JSON line it prints. */
export function runNodeJson(script, args, { cpu, env, timeoutMs = 120_000, input } = {}) {
  const argv = [process.execPath, script, ...args];
  const [cmd, ...rest] = [...launchPrefix(cpu), ...argv];
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, rest, { stdio: ["pipe", "pipe", "pipe"], env: { ...process.env, ...env } });
    let out = "";
    let err = "";
    child.stdout.setEncoding("utf8").on("data", (d) => (out += d));
    child.stderr.setEncoding("utf8").on("data", (d) => (err = (err + d).slice(-20_000)));
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    child.once("exit", (code) => {
      clearTimeout(timer);
      const line = out.trim().split("\n").pop() ?? "";
      if (code !== 0) return reject(new Error(`${script} exited ${code}\n${err}\n${out.slice(-2000)}`));
      try {
        resolve(JSON.parse(line));
      } catch {
        reject(new Error(`${script} printed no JSON result\n${err}\n${out.slice(-2000)}`));
      }
    });
    if (input !== undefined) child.stdin.end(input);
    else child.stdin.end();
  });
}
