/**
 * Rejected promises of device code that nobody handled: V8 reports them on the host process,
 * so one process hook routes each back to the board context whose realm made the promise.
 */

const owners = new WeakMap<object, (reason: unknown) => void>();
let hooked = false;

/** Send unhandled rejections of promises made with `promisePrototype` (a context's) to `to`. */
export function routeRejections(promisePrototype: object, to: (reason: unknown) => void): void {
  owners.set(promisePrototype, to);
  if (hooked) return;
  hooked = true;
  process.on('unhandledRejection', (reason, promise) => {
    const owner = owners.get(Object.getPrototypeOf(promise) as object);
    if (owner) return owner(reason);
    if (process.listenerCount('unhandledRejection') <= 1) throw reason; // Node's default
  });
}
