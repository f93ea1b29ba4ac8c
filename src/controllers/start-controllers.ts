/**
 * Runs a list of controller descriptors on one context (kube-controller-manager's StartControllers):
 * each is built — asking the shared factory for its informers and registering its handlers — then the
 * factory starts, every informer lists once, and each controller's workers start on its queue.
 *
 *   descriptors ─build(ctx)─▶ informers registered ─▶ factory.start ─▶ waitForSync ─▶ run(workers)
 */
import { InformerFactory } from '../client/informer-factory.ts';
import type { RunningController } from '../client/controller.ts';
import type { ControllerContext, ControllerDescriptor } from './controller-descriptor.ts';

/**
 * The context to start with; without a factory, one is made (on `client`) and stopped with the
 * controllers. `clientFor` gives each controller the client it writes through — its own identity,
 * as kube-controller-manager's --use-service-account-credentials — while the shared informers read
 * through `client`; without it every controller uses `client`.
 */
export type StartContext = Omit<ControllerContext, 'factory'> & {
  factory?: InformerFactory;
  clientFor?: (descriptor: ControllerDescriptor) => ControllerContext['client'];
};

/** Controllers started together. */
export interface RunningControllers {
  /** Their names, in start order. */
  readonly names: readonly string[];
  /** Shuts their queues down and waits for the reconciles under way; then stops a factory it made. */
  stop(): Promise<void>;
}

/** Builds and runs `descriptors`; resolves once their informers have synced and their workers run. */
export async function startControllers(descriptors: readonly ControllerDescriptor[], ctx: StartContext): Promise<RunningControllers> {
  const names = descriptors.map((d) => d.name);
  const twice = names.filter((n, i) => names.indexOf(n) !== i);
  if (twice.length || names.some((n) => !n)) throw new Error(`controller names must be unique and non-empty: ${JSON.stringify(names)}`);
  const factory = ctx.factory ?? new InformerFactory(ctx.client, { log: ctx.log });
  const { clientFor, ...shared } = ctx;
  const full: ControllerContext = { ...shared, factory };
  const built = descriptors.map((d) => ({ d, controller: d.build(clientFor ? { ...full, client: clientFor(d) } : full, ctx.log.child({ controller: d.name })) }));
  factory.start();
  await factory.waitForSync();
  const running: RunningController[] = built.map(({ d, controller }) => controller.run(d.workers));
  ctx.log.debug('controllers running', { controllers: names });
  return {
    names,
    async stop() {
      await Promise.all(running.map((r) => r.stop()));
      if (!ctx.factory) factory.stop();
    },
  };
}
