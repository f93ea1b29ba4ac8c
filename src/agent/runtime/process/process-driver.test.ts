/** Runs the shared driver suite against the process driver (host network: netnsPath undefined). */
import { runDriverSuite } from '../driver.case.ts';
import type { ContainerSpec } from '../driver.ts';
import { ProcessDriver } from './process-driver.ts';

let n = 0;
const parent = `berth-test-${process.pid}/pod-test`;

runDriverSuite(
  'process',
  async (stateDir) => new ProcessDriver({ stateDir }),
  (o: Partial<ContainerSpec>): ContainerSpec => ({
    id: `pod-test_c${++n}_0`,
    podUid: 'test',
    podName: 'p',
    podNamespace: 'default',
    containerName: `c${n}`,
    image: 'host',
    argv: ['true'],
    env: {},
    mounts: [],
    resources: {},
    hostname: 'p',
    logPath: `/tmp/berth-unused-${process.pid}.log`,
    cgroupParent: parent,
    ...o,
  }),
);
