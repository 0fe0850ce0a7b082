/**
 * A board's telnet console on a loopback TCP port, so the real `espruino` CLI can upload to
 * an emulated board: `espruino -p tcp://127.0.0.1:<port> --no-ble …`.
 *
 * It wraps a `Board` (same Storage, same boot semantics) and runs its event loop in real
 * time. The REPL follows Espruino's console (src/jsinteractive.c):
 * - input is handled line by line; a line runs when its brackets balance, else it continues
 *   (":" prompt); ESC LF (Alt-Enter, which the CLI uses inside statements) adds a newline
 *   without running;
 * - `\x10` at the start of a line turns echo off for that line: no echo, no `=result`;
 * - escape sequences (`ESC [ n d`, the CLI's line numbers) are dropped; Ctrl-C clears the line;
 * - results print as `=value`, errors as `Uncaught Error: …`, then the `>` prompt;
 * - `reset()`/`load()` happen before the next line runs (deferred to idle, as on the board);
 * - `E.reboot()` reboots the board and, like a real ESP's telnet, drops the connection.
 */
import net from 'node:net';
import { Board, type BoardName, type BoardOptions } from './board.ts';
import { errorText, formatValue } from './values.ts';

export interface ConsoleServerOptions {
  /** a board to serve; default: a new one (powered on) from `boardOptions` */
  board?: Board;
  boardOptions?: Partial<BoardOptions> & { board?: BoardName };
  /** default 0: any free port */
  port?: number;
  /** default 127.0.0.1 */
  host?: string;
  /** close client connections when the board reboots (default true, as telnet on an ESP) */
  dropOnReboot?: boolean;
  /** say nothing at all: a board that does not answer (for tests of the tools' errors) */
  silent?: boolean;
}

export interface ConsoleServer {
  board: Board;
  port: number;
  /** tcp://127.0.0.1:<port>, for `espruino -p` */
  url: string;
  /** resolves when the board has been idle (no input, no pending work) for `quietMs` */
  idle(quietMs?: number, timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

interface Client {
  socket: net.Socket;
  line: string; // current input line (may hold newlines of a multi-line statement)
  echoOff: boolean; // \x10 seen for this line
  esc: '' | 'esc' | 'csi';
  lastCR: boolean; // the last character was \r (so a following \n is the same line end)
}

/** Are the brackets of `code` balanced (ignoring strings, comments and regex literals)? */
export function bracketsBalanced(code: string): boolean {
  let depth = 0;
  let i = 0;
  let prev = ''; // last significant character, to tell regex from division
  const n = code.length;
  while (i < n) {
    const c = code[i];
    if (c === '/' && code[i + 1] === '/') { while (i < n && code[i] !== '\n') i++; continue; }
    if (c === '/' && code[i + 1] === '*') { const e = code.indexOf('*/', i + 2); if (e < 0) return false; i = e + 2; continue; }
    if (c === '"' || c === "'" || c === '`') {
      i++;
      while (i < n && code[i] !== c) { if (code[i] === '\\') i++; i++; }
      if (i >= n) return false;
      i++; prev = 'a';
      continue;
    }
    if (c === '/' && (prev === '' || /[(,=:[!&|?{};+\-*%<>~^]/.test(prev))) {
      i++;
      let cls = false;
      while (i < n && (code[i] !== '/' || cls) && code[i] !== '\n') {
        if (code[i] === '\\') i++; else if (code[i] === '[') cls = true; else if (code[i] === ']') cls = false;
        i++;
      }
      i++; prev = 'a';
      continue;
    }
    if (c === '(' || c === '{' || c === '[') depth++;
    else if (c === ')' || c === '}' || c === ']') depth--;
    if (!/\s/.test(c)) prev = c;
    i++;
  }
  return depth <= 0;
}

export async function startConsoleServer(opts: ConsoleServerOptions = {}): Promise<ConsoleServer> {
  const board = opts.board ?? new Board({ board: 'ESP32', timeWarp: false, ...opts.boardOptions } as BoardOptions);
  if (!opts.board) board.powerOn();
  const clients = new Set<Client>();
  const work: (() => void)[] = [];
  let sent = board.output.length;
  let closed = false;
  let lastActivity = Date.now();
  let wake: (() => void) | null = null;
  const kick = () => { lastActivity = Date.now(); const w = wake; wake = null; w?.(); };

  const send = (text: string) => {
    if (opts.silent) return;
    const data = Buffer.from(text.replace(/\r?\n/g, '\r\n'), 'latin1');
    for (const c of clients) if (!c.socket.destroyed) c.socket.write(data);
  };
  /** board output since last time -> clients */
  const flush = () => {
    if (board.output.length < sent) sent = 0; // output was reset by someone
    if (board.output.length > sent) {
      send(board.output.slice(sent));
      sent = board.output.length;
    }
  };

  const prompt = (c: Client) => { if (!opts.silent && !c.socket.destroyed) c.socket.write('>'); };

  /** One complete input line: run it like the board's REPL. */
  const runLine = (c: Client, code: string, echoOff: boolean) => {
    if (!board.isOn) { if (!board.dead) board.powerOn(); else return; }
    if (code.trim() === '') {
      if (!echoOff) { flush(); send('\n=undefined\n'); prompt(c); }
      return;
    }
    let value: unknown;
    let threw = false;
    let error: unknown;
    try {
      value = board.exec(code);
    } catch (e) {
      threw = true;
      error = e;
    }
    flush();
    if (threw) send('Uncaught ' + errorText(error) + '\n');
    else if (!echoOff) send('=' + formatValue(value, true) + '\n');
    if (!echoOff) prompt(c);
  };

  const onData = (c: Client, data: Buffer) => {
    const s = data.toString('latin1');
    let echo = '';
    for (const ch of s) {
      if (c.esc === 'esc') {
        c.esc = ch === '[' ? 'csi' : '';
        if (ch === '\n') c.line += '\n'; // Alt-Enter: newline, don't run
        continue;
      }
      if (c.esc === 'csi') { if (ch >= '@' && ch <= '~') c.esc = ''; continue; }
      if (ch === '\x1b') { c.esc = 'esc'; continue; }
      if (ch === '\x10') { if (c.line.trim() === '') c.echoOff = true; continue; }
      if (ch === '\x03') { c.line = ''; c.echoOff = false; echo = ''; if (!opts.silent) c.socket.write('\r\n>'); continue; }
      if (ch === '\x08' || ch === '\x7f') { c.line = c.line.slice(0, -1); continue; }
      if (ch === '\r' || ch === '\n') {
        if (ch === '\n' && c.line === '' && c.lastCR) { c.lastCR = false; continue; }
        c.lastCR = ch === '\r';
        if (!c.echoOff && echo) { if (!opts.silent) c.socket.write(echo); echo = ''; }
        if (!bracketsBalanced(c.line)) {
          c.line += '\n';
          if (!c.echoOff && !opts.silent) c.socket.write('\r\n:');
          continue;
        }
        const code = c.line, off = c.echoOff;
        c.line = '';
        c.echoOff = false;
        if (!off && !opts.silent) c.socket.write('\r\n');
        work.push(() => runLine(c, code, off));
        continue;
      }
      c.lastCR = false;
      if (ch < ' ' && ch !== '\t') continue;
      c.line += ch;
      if (!c.echoOff) echo += ch;
    }
    if (echo && !opts.silent) c.socket.write(echo);
    kick();
  };

  const server = net.createServer((socket) => {
    const c: Client = { socket, line: '', echoOff: false, esc: '', lastCR: false };
    clients.add(c);
    socket.setNoDelay(true);
    socket.on('data', (d) => onData(c, d));
    socket.on('error', () => { /* client went away */ });
    socket.on('close', () => clients.delete(c));
  });

  // The board's event loop, in real time; input lines run between its idle passes.
  const pump = (async () => {
    while (!closed) {
      while (work.length && !closed) {
        work.shift()!();
        // reset()/load() asked for by that line happen before the next line runs
        const r = await board.settle({ timeout: 0, wallTimeout: 1000 });
        afterSettle(r);
        flush();
      }
      if (closed) break;
      const r = await board.settle({ timeout: 20, wallTimeout: 200 });
      afterSettle(r);
      flush();
      if (r === 'idle' || r === 'powercut' || !board.isOn) {
        if (work.length) continue;
        await new Promise<void>((res) => { wake = res; setTimeout(res, 20); });
        wake = null;
      }
    }
  })();

  function afterSettle(r: string) {
    if (r === 'reboot' || r === 'powercut') {
      lastActivity = Date.now();
      flush();
      if (opts.dropOnReboot ?? true) {
        for (const c of clients) c.socket.end();
        clients.clear();
      }
    }
    if (r !== 'idle') lastActivity = Date.now();
  }

  await new Promise<void>((res, rej) => {
    server.once('error', rej);
    server.listen(opts.port ?? 0, opts.host ?? '127.0.0.1', () => res());
  });
  const port = (server.address() as net.AddressInfo).port;

  return {
    board,
    port,
    url: `tcp://127.0.0.1:${port}`,
    async idle(quietMs = 300, timeoutMs = 15000) {
      const end = Date.now() + timeoutMs;
      while (Date.now() < end) {
        if (!work.length && Date.now() - lastActivity >= quietMs) return;
        await new Promise((r) => setTimeout(r, 20));
      }
      throw new Error(`console server: board not idle within ${timeoutMs} ms`);
    },
    async close() {
      closed = true;
      kick();
      for (const c of clients) c.socket.destroy();
      clients.clear();
      await new Promise<void>((r) => server.close(() => r()));
      await pump;
    },
  };
}
