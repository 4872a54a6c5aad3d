import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createWriteStream, readFileSync } from 'node:fs';
import { join } from 'node:path';

/** A child process of the harness, its output kept in a log file for the test's failure message. */
export interface Daemon {
  readonly name: string;
  readonly pid: number;
  readonly logPath: string;
  /** The log so far (stdout and stderr interleaved). */
  log(): string;
  /** Resolves with the exit code once the process ends. */
  readonly exited: Promise<number | null>;
  /** SIGTERM, then SIGKILL after `graceMs`. Only this process (by its pid). */
  stop(graceMs?: number): Promise<void>;
}

/** Starts `command` with its working directory `cwd` (default `dir`, where its log goes) and `env` added to ours. */
export function startDaemon(name: string, command: string, args: string[], dir: string, env: Record<string, string> = {}, cwd = dir): Daemon {
  const logPath = join(dir, `${name}.log`);
  const out = createWriteStream(logPath);
  const child: ChildProcess = spawn(command, args, { cwd, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout?.pipe(out, { end: false });
  child.stderr?.pipe(out, { end: false });
  let exitCode: number | null | undefined;
  const exited = new Promise<number | null>((resolve) => {
    child.once('error', (error) => {
      out.write(`spawn error: ${error.message}\n`);
      exitCode = null;
      resolve(null);
    });
    child.once('close', (code) => {
      exitCode = code;
      resolve(code);
    });
  });
  if (child.pid === undefined) throw new Error(`${command} could not be started (is it installed?)`);
  return {
    name,
    pid: child.pid,
    logPath,
    exited,
    log: () => readFileSync(logPath, 'utf8'),
    async stop(graceMs = 3000) {
      if (exitCode !== undefined) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      await exited;
      clearTimeout(timer);
      out.end();
    },
  };
}

/** Fails with a clear message when a tool the SIP tests need is missing (CI installs them). */
export function requireTool(command: string, versionArg: string, debianPackage: string): void {
  const probe = spawnSync(command, [versionArg], { encoding: 'utf8' });
  if (probe.error) throw new Error(`${command} is not installed: apt-get install ${debianPackage} (.ci/run does)`);
}

/** CPU seconds (user + system) a process has used so far, from /proc/<pid>/stat. */
export function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the parenthesised command name; utime and stime are fields 14 and 15.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = Number(fields[11]) + Number(fields[12]);
  return ticks / 100;
}
