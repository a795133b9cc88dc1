import { fileURLToPath } from 'node:url';
import { join } from 'node:path';

/** Repository root (this file compiles to test/dist/support/). */
export const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));
export const SIDECAR_CLI = join(REPO_ROOT, 'packages/sidecar/dist/src/cli/main.js');
export const COLLECTOR_CONFIG_DIR = join(REPO_ROOT, 'collector-config');
/** The sidecar CLI with the test-only `http_sink` exporter registered. */
export const TEST_SIDECAR = fileURLToPath(new URL('./run-sidecar-with-test-exporter.js', import.meta.url));
/** Preload for test processes: resolves *.auditlog.test to 127.0.0.1 (see dns-shim.ts). */
export const DNS_SHIM = fileURLToPath(new URL('./dns-shim.js', import.meta.url));
