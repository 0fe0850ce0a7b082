/**
 * `require()` and the `Modules` cache. A name resolves, in Espruino's order, to the cache,
 * a built-in module (Storage, http, crypto, Wifi), then a Storage file of that name, run as
 * a module with `exports` and `module` in scope (`jspEvaluateModule`).
 */

import vm from 'node:vm';
import type { Flash } from './flash-memory.ts';
import type { Realm } from './realm.ts';
import type { Session } from './session.ts';

export interface ModulesHost {
  flash: Flash;
  /** the built-in module of that name, made on first use, or undefined */
  builtin(name: string): object | undefined;
  /** Espruino-fidelity pass over a Storage module's code (syntax.ts), tied to its file (stored-code.ts) */
  prepare(code: string, filename: string): string;
  /** the same for code that lives in RAM (Modules.addCached) */
  prepareRam(code: string, filename: string): string;
}

export function installModules(realm: Realm, s: Session, host: ModulesHost): void {
  const { fn, err, obj, arr, define, g } = realm;

  /**
   * Runs a module's code; `done` gets its exports also when the code throws (jswrap_require
   * caches what a throwing module exported so far, golden probe 61).
   */
  const evalModule = (name: string, src: string, done: (exports: unknown) => void): void => {
    const module = obj({ exports: obj({}) });
    try {
      const f = vm.compileFunction(src, ['exports', 'module'], { parsingContext: s.ctx, filename: name });
      f.call(g, module.exports, module);
    } finally {
      done(module.exports);
    }
  };

  define('Modules', obj({
    // Like jspEvaluateModule: a function stands for its body, which runs as the
    // module's code with `exports` and `module` in scope (how the espruino CLI bundles).
    addCached: fn((name: unknown, m: unknown) => {
      if (typeof m === 'function') {
        const src = String(m);
        m = src.slice(src.indexOf('{') + 1, src.lastIndexOf('}'));
      }
      if (typeof m !== 'string') throw err('Error', 'args must be addCached(string, string|function)');
      evalModule(String(name), host.prepareRam(m, String(name)), (exports) => s.modules.set(String(name), exports));
    }),
    removeCached: fn((name: unknown) => { s.modules.delete(String(name)); }),
    removeAllCached: fn(() => { s.modules.clear(); }),
    getCached: fn(() => arr([...s.modules.keys()])),
  }));

  define('require', fn((nameArg: unknown) => {
    const name = String(nameArg);
    if (s.modules.has(name)) return s.modules.get(name);
    const builtin = host.builtin(name);
    if (builtin !== undefined) {
      s.modules.set(name, builtin);
      return builtin;
    }
    const code = host.flash.read(name);
    if (code === undefined) throw err('Error', `Module ${name} not found`);
    evalModule(name, host.prepare(code, name), (exports) => s.modules.set(name, exports));
    return s.modules.get(name);
  }));
}
