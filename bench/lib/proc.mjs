/**
 * Process plumbing for the benchmark: CPU time from /proc/<pid>/stat (the kernel's own
 * accounting, so it counts every thread of the process, including ones that already exited),
 * CPU pinning with taskset, finding the workerd children Miniflare spawns, and free ports.
 */
import { execFileSync, spawn } from "node:child_process";
import { readFileSync, readdirSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";

/**
 * Command prefix that pins to `cpu` (taskset) and, when BENCH_NICE is set (e.g. "-10", a
 * development aid for busy machines: see bench/README.md), starts the process in a session of its
 * own (`setsid`). Linux schedules sessions as autogroups, so a plain `nice` would only rank our
 * processes among themselves: `raisePriority` then gives that autogroup the BENCH_NICE weight.
 */
export function launchPrefix(cpu) {
  const prefix = [];
  if (process.env.BENCH_NICE) prefix.push("setsid");
  if (cpu !== undefined) prefix.push("taskset", "-c", String(cpu));
  return prefix;
}

/** With BENCH_NICE set: the autogroup (session) of `pid`, created by `setsid`, gets that nice value. */
export function raisePriority(pid) {
  if (!process.env.BENCH_NICE) return;
  try {
    const own = readFileSync("/proc/self/autogroup", "utf8").split(" ")[0];
    const theirs = readFileSync(`/proc/${pid}/autogroup`, "utf8").split(" ")[0];
    // Only once the child runs in a session of its own (never raise our own session by accident).
    if (theirs !== own) writeFileSync(`/proc/${pid}/autogroup`, String(process.env.BENCH_NICE));
  } catch {
    // not supported here: run at normal priority
  }
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

/** The command name (comm) of `pid`. */
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

/** A TCP port on 127.0.0.1 that is free right now (never 8787–8794, which dev servers use). */
export async function freePort() {
  for (;;) {
    const port = await new Promise((resolve, reject) => {
      const server = createServer();
      server.once("error", reject);
      server.listen(0, "127.0.0.1", () => {
        const { port } = server.address();
        server.close(() => resolve(port));
      });
    });
    if (port < 8787 || port > 8794) return port;
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
        raisePriority(child.pid);
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
    const raise = setTimeout(() => raisePriority(child.pid), 300);
    child.once("exit", (code) => {
      clearTimeout(raise);
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
