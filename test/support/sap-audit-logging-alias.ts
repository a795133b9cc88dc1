import { spawn } from 'node:child_process';
import { copyFile, mkdir, symlink } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { exitOf, stopChild } from './child.js';
import { REPO_ROOT } from './paths.js';

/** The original `@sap/audit-logging` (a devDependency of the tests). */
export const ORIGINAL_PACKAGE = join(REPO_ROOT, 'node_modules/@sap/audit-logging');
/** `@otel-audit/sap-audit-logging`. */
export const DROP_IN_PACKAGE = join(REPO_ROOT, 'packages/sap-audit-logging');

/**
 * An application directory whose `node_modules/@sap/audit-logging` is `pkg`: what
 * `"@sap/audit-logging": "npm:@otel-audit/sap-audit-logging@…"` installs (the package's files under
 * the old name). A link stands in for the copy: node resolves the package's own dependencies from
 * its real path, where the workspace has them, as npm's install would have them next to it.
 */
export async function appWithAuditLogging(dir: string, pkg: string): Promise<string> {
  await mkdir(join(dir, 'node_modules/@sap'), { recursive: true });
  await symlink(pkg, join(dir, 'node_modules/@sap/audit-logging'), 'dir');
  return dir;
}

export interface ScriptResult {
  readonly code: number | string;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * Copies `script` into the application directory (unless it is there) and runs it there with node, so that its
 * `require('@sap/audit-logging')` resolves in that directory. Killed after `timeoutMs`.
 */
export async function runInApp(
  appDir: string,
  script: string,
  options: { env?: Record<string, string>; nodeArgs?: string[]; timeoutMs?: number } = {},
): Promise<ScriptResult> {
  const target = join(appDir, basename(script));
  if (resolve(dirname(script)) !== resolve(appDir)) await copyFile(script, target);
  const child = spawn(process.execPath, [...(options.nodeArgs ?? []), target], {
    cwd: appDir,
    env: { ...process.env, ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = exitOf(child);
  const closed = new Promise<void>((resolve) => child.once('close', () => resolve()));
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c));
  child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
  const timer = setTimeout(() => void stopChild(child, exited, 'SIGKILL'), options.timeoutMs ?? 30_000);
  try {
    const code = await exited;
    await closed; // the output streams are read to their end
    return { code, stdout, stderr };
  } finally {
    clearTimeout(timer);
  }
}
