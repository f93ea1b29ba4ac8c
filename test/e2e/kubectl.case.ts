/**
 * The kubectl acceptance suite, shared by every storage backend: real kubectl 1.32 with a fresh
 * discovery cache against one Berth server per suite file. Its cases run in order on one server:
 * kubectl-read.case.ts (discovery, apply, get, describe), then kubectl-write.case.ts (mutations,
 * delete, bad input, teardown) on what the first half created.
 */
import os from 'node:os';
import path from 'node:path';
import { writeFile } from 'node:fs/promises';
import { after, before, describe } from 'node:test';
import type { BerthServer } from '../support/berth-server.ts';
import { findKubectl } from '../support/kubectl.ts';
import { kubectlReadCases } from './kubectl-read.case.ts';
import { kubectlSuite } from './kubectl-suite.fixture.ts';
import { kubectlWriteCases } from './kubectl-write.case.ts';

/**
 * Register the acceptance suite under `describe(label)`. `start` launches a fresh server; it is
 * called once in `before` and cleaned up in `after` (also when tests fail).
 */
export function runKubectlSuite(label: string, start: () => Promise<BerthServer>): void {
  describe(`kubectl acceptance (${label})`, () => {
    let server: BerthServer | undefined;
    const suite = kubectlSuite(() => server);
    before(async () => {
      await findKubectl(); // fails the whole suite with a clear message when kubectl is missing
      server = await start();
    });
    after(async () => {
      if (!server) return;
      const logFile = path.join(os.tmpdir(), `berth-e2e-${label}-server.log`);
      await writeFile(logFile, server.logs()).catch(() => undefined);
      console.log(`[e2e] ${label}: server log saved to ${logFile}`);
      await server.cleanup();
    });
    kubectlReadCases(suite);
    kubectlWriteCases(suite);
  });
}
