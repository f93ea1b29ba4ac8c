/**
 * kubectl acceptance suite against Berth on its default (SQLite) store.
 * Run: node --import tsx --test test/e2e/kubectl-sqlite.test.ts
 */
import { startBerth } from '../support/berth-server.ts';
import { runKubectlSuite } from './kubectl.case.ts';

runKubectlSuite('sqlite', () => startBerth());
