/**
 * The HttpHost a board gives http.ts for one context: its chunk size and TLS from the board
 * profile, its event queue and holds (an open socket keeps the board busy), device-realm
 * objects, and the lifecycle hooks. Everything it queues dies with that context.
 */

import { EMITTER_METHODS, fireEvent, listenerCount, registerStreamBuffer } from './events.ts';
import type { HttpHost } from './http.ts';
import type { BoardProfile } from './profiles.ts';
import { isSignal, type Session } from './session.ts';

export interface HttpStats { requests: number; bytesOut: number; bytesIn: number }

/** What the board gives http.ts: its HttpHost plus lifecycle hooks. */
export interface BoardHttpHost extends HttpHost {
  onDispose(fn: () => void): void;
  alive(): boolean;
  tls: boolean;
}

/** What the board lends the host of one context. */
export interface HttpHostBoard {
  profile: BoardProfile;
  /** cumulative, shared by all contexts of the board */
  stats: HttpStats;
  connectCheck: boolean;
  /** the power is off */
  boardDead(): boolean;
  println(line: string): void;
  uncaught(e: unknown): void;
  /** wake the board's event loop */
  kick(): void;
  /** a socket opened or closed: the board clock follows real time only while one is open */
  clockRuleChanged(): void;
  /** bench instrumentation: a body chunk handed to a 'data' listener */
  httpData(chunk: string): void;
}

export function createHttpHost(s: Session, board: HttpHostBoard): BoardHttpHost {
  const alive = () => !s.dead && !board.boardDead();
  return {
    version: board.profile.info.binary_version,
    listenerCount,
    fire: (o, event, args) => fireEvent(s.ctx, o, event, args),
    streamBuffer: registerStreamBuffer,
    uncaught(e: unknown) {
      if (isSignal(e) || !alive()) return;
      board.uncaught(e);
    },
    newNamedError(name: string, msg: string) {
      const C = s.g[name];
      return typeof C === 'function' ? new C(msg) : new s.g.Error(msg);
    },
    chunkSize: board.profile.ota.httpChunk,
    onData: board.httpData,
    defer(f) {
      if (!alive()) return;
      s.queue.push(f);
      board.kick();
    },
    hold() {
      const id = s.nextHold++;
      s.holds.add(id);
      board.clockRuleChanged();
      return () => {
        if (!s.holds.delete(id)) return;
        board.clockRuleChanged();
        board.kick();
      };
    },
    print(line) {
      if (!s.dead) board.println(line);
    },
    makeEmitter<T extends object>(o: T): T {
      if (typeof (o as { on?: unknown }).on === 'function') return o;
      const proto = s.g.Object.prototype;
      for (const k of EMITTER_METHODS) {
        Object.defineProperty(o, k, { value: proto[k], writable: true, configurable: true, enumerable: false });
      }
      return o;
    },
    stats: board.stats,
    connectCheck: board.connectCheck,
    newObject: () => new s.g.Object(),
    newError: (msg: string) => new s.g.Error(msg),
    onDispose(f) {
      if (s.dead) { try { f(); } catch { /* ignore */ } return; }
      s.disposers.push(f);
    },
    alive,
    tls: !!board.profile.ota.tls,
  };
}
