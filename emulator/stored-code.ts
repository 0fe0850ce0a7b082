/**
 * Code that runs from a Storage file keeps its function bodies there. On the real interpreter
 * a function defined by a boot file, a `load(file)`, a module `require`d from Storage or an
 * `eval(Storage.read(f))` points into that file, and once the file is erased or replaced with
 * other content, calling the function (directly, as a timer callback or as a listener) throws
 * `Function code is null, not a string` (golden probes 46 and 48; platform notes section 13).
 *
 * The emulator ties such code to its file: syntax.ts guards each function body with
 * `CODE_GUARD(id)`, where `id` names the file and its Flash.generation() when the code ran, and
 * the guard throws once the generation has moved on. Identical rewrites (skipped by Espruino),
 * writes at an offset and compaction (which the firmware follows) keep the code alive. A direct
 * `eval(x)` goes through EVAL_HOOK, which guards `x` when its content is a view of a file
 * (storage-views.ts).
 */

import { Flash } from './flash-memory.ts';
import type { Realm } from './realm.ts';
import type { StorageViews, ViewOrigin } from './storage-views.ts';
import { CODE_GUARD, EVAL_HOOK } from './syntax.ts';

const FUNCTION_CODE_GONE = 'Function code is null, not a string';

export interface StoredCodeHost {
  flash: Flash;
  views: StorageViews;
  /** syntax.ts's pass for code of the board, guarded with `guardId` if given */
  prepare(code: string, filename: string, guardId?: number): string;
}

export class StoredCode {
  private readonly origins: ViewOrigin[] = [];
  private readonly ids = new Map<string, number>();

  constructor(private readonly realm: Realm, private readonly host: StoredCodeHost) {
    const { flash } = host;
    const origins = this.origins;
    realm.define(CODE_GUARD, (id: number) => {
      const o = origins[id];
      if (flash.generation(o.key) !== o.generation) throw realm.err('Error', FUNCTION_CODE_GONE);
    });
    realm.define(EVAL_HOOK, (x: unknown) => {
      if (typeof x !== 'string') return x; // eval of anything else returns it
      const origin = host.views.origin(x);
      return host.prepare(x, 'eval', origin && this.register(origin));
    });
  }

  /** The guard id for code read from `file` now. */
  guardFor(file: string): number {
    const key = Flash.nameKey(file);
    return this.register({ key, generation: this.host.flash.generation(key) });
  }

  private register(origin: ViewOrigin): number {
    const k = origin.key + '\n' + origin.generation;
    let id = this.ids.get(k);
    if (id === undefined) {
      id = this.origins.push(origin) - 1;
      this.ids.set(k, id);
    }
    return id;
  }
}
