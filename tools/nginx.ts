// `nginx`: configuration for serving releases with nginx: a server { } block, an
// htpasswd writer, and a minimal standalone nginx.conf that runs inside a prefix directory
// (`nginx -p <dir> -c <dir>/nginx.conf -e <dir>/error.log`), its workers never as root.
// What it serves is what the dev server serves: the paths of tools/lib/servable.ts,
// regular files only, no symlink below the root, GET and HEAD only, with the timeouts of
// tools/lib/timeouts.ts.
import { promises as fsp } from "node:fs";
import * as path from "node:path";
import { H_VERSION, H_BOARD, H_FIRMWARE, H_ID, E_OPTS, VERSION_FILE } from "../modules/formats.ts";
import { fail } from "./lib/errors.ts";
import { writeFileAtomic } from "./lib/atomic.ts";
import { htpasswdLine } from "./lib/htpasswd.ts";
import { writeSecretFile } from "./lib/secret.ts";
import { HIDDEN_PATH } from "./lib/servable.ts";
import { serverTimeouts, type ServerTimeouts } from "./lib/timeouts.ts";
import { workerUser, checkReadableBy, checkReachableBy } from "./lib/nginx-user.ts";
import { REALM } from "./lib/auth.ts";

export { htpasswdLine, passwordHash, BCRYPT_COST } from "./lib/htpasswd.ts";

export interface NginxOptions {
  root: string;
  port?: number; // default 8080
  listen?: string; // address, default 127.0.0.1
  user?: string; // with password and htpasswdPath: Basic auth
  password?: string; // never empty
  htpasswdPath?: string; // the auth_basic_user_file (write it with writeHtpasswd)
  bcryptCost?: number; // of the htpasswd entry (default BCRYPT_COST)
  tls?: { cert: string; key: string }; // paths of PEM files: listen with ssl
  accessLog?: string; // path of an access log in the LOG_FORMAT format (defined at http level)
  serverName?: string; // default "_"
  timeouts?: Partial<ServerTimeouts>; // default SERVER_TIMEOUTS
  // When run as root: the user nginx's workers run as (default www-data, else nobody),
  // who must read the root and the htpasswd file
  workerUser?: string;
}

export const LOG_FORMAT = "espruino_ota";

// nginx variable holding request header `name`: $http_ + lowercase, "-" as "_".
export function headerVar(name: string): string {
  return "$http_" + name.toLowerCase().replace(/-/g, "_");
}

// Quotes a value for nginx.conf. Refuses what nginx cannot take literally: "$" starts a
// variable in root/paths, and quotes, backslashes and control characters.
export function q(v: string, what = "value"): string {
  if (/[$"\\\x00-\x1f\x7f]/.test(v)) fail(E_OPTS, `${what} "${v}" holds a character nginx.conf cannot quote ($ " \\ or a control character)`);
  return `"${v}"`;
}

// A regular expression quoted for a `location`: nginx would turn \\ \" \t \r \n
// inside quotes into other characters, and `"` would end the string.
function qRegex(re: string): string {
  if (/"|\\[\\"'trn]|[\x00-\x1f]/.test(re)) fail(E_OPTS, `regular expression ${re} cannot be quoted for nginx.conf`);
  return `"${re}"`;
}

// The log_format directive (http context) for the device identity headers.
export function nginxLogFormat(name = LOG_FORMAT): string {
  return (
    `log_format ${name} '$remote_addr [$time_iso8601] "$request" $status $body_bytes_sent ` +
    `v=${headerVar(H_VERSION)} board=${headerVar(H_BOARD)} fw=${headerVar(H_FIRMWARE)} id=${headerVar(H_ID)}';`
  );
}

function indent(lines: string[], n: number): string {
  const pad = " ".repeat(n);
  return lines.map((l) => (l ? pad + l : l)).join("\n");
}

export function nginxConfig(opts: NginxOptions): string {
  if (!opts.root) fail(E_OPTS, "no root given");
  const port = opts.port ?? 8080;
  if (!Number.isInteger(port) || port < 1 || port > 65535) fail(E_OPTS, `port ${port} is not a TCP port`);
  const listen = opts.listen ?? "127.0.0.1";
  const addr = listen.indexOf(":") >= 0 ? `[${listen}]` : listen;
  const auth = opts.user !== undefined || opts.password !== undefined || opts.htpasswdPath !== undefined;
  if (auth && (opts.user === undefined || opts.password === undefined)) fail(E_OPTS, "give both user and password for Basic auth, or neither");
  if (auth && !opts.htpasswdPath) fail(E_OPTS, "Basic auth needs htpasswdPath: where the password file is written");
  const t = serverTimeouts(opts.timeouts);
  const lines: string[] = [
    "# espruino-ota: static releases for Espruino boards",
    `listen ${addr}:${port}${opts.tls ? " ssl" : ""};`,
    `server_name ${opts.serverName ?? "_"};`,
    `root ${q(path.resolve(opts.root), "root")};`,
    "",
    "autoindex off;     # no directory listings",
    "gzip off;          # devices need the plain file and its Content-Length",
    "etag on;",
    "max_ranges 1;      # one Range per request; more are answered with the whole file",
    "server_tokens off;",
    "",
    "# Safe by default, as the dev server (tools/lib/servable.ts, timeouts.ts):",
    "# no symlink below the root is followed: nginx cannot tell where one points;",
    "disable_symlinks on from=$document_root;",
    "# releases are only read;",
    "if ($request_method !~ ^(?:GET|HEAD)$) {",
    "    return 405;",
    "}",
    "# a client that sends slowly, stops reading or idles is dropped, so it cannot hold",
    "# a connection and an open file (reset: its socket is freed at once).",
    `client_header_timeout ${t.header}ms;`,
    `client_body_timeout ${t.body}ms;`,
    `send_timeout ${t.send}ms;`,
    `keepalive_timeout ${t.keepAlive}ms;`,
    "reset_timedout_connection on;",
  ];
  if (opts.tls) {
    lines.push(
      "",
      `ssl_certificate ${q(path.resolve(opts.tls.cert), "tls cert")};`,
      `ssl_certificate_key ${q(path.resolve(opts.tls.key), "tls key")};`,
      "ssl_protocols TLSv1.2 TLSv1.3;  # Espruino's mbedTLS speaks TLS 1.2",
    );
  }
  if (auth) {
    lines.push("", `auth_basic ${q(REALM)};`, `auth_basic_user_file ${q(path.resolve(opts.htpasswdPath!), "htpasswd path")};`);
  }
  if (opts.accessLog) lines.push("", `access_log ${q(path.resolve(opts.accessLog), "access log")} ${LOG_FORMAT};`);
  lines.push(
    "",
    "# Never served: folders and files whose names start with a dot (.git/, .htpasswd),",
    "# except a release's own files two or more folders down (<project>/<ver>/.bootcde),",
    "# and the temporary names of a release in progress. First, so it wins over the rest.",
    `location ~* ${qRegex(HIDDEN_PATH)} {`,
    "    return 404;",
    "}",
    "# <project>/version: what devices poll. Always a full 200: nginx's ETag and",
    "# Last-Modified have one-second granularity, so a new version written within the",
    "# same second as the old, with the same length, would otherwise get a 304.",
    "# Every board asks this at every boot and check, so the answer is kept small:",
    "# no validators, no Accept-Ranges, no Content-Type (devices read the body as is).",
    `location ~ "/${VERSION_FILE}$" {`,
    '    default_type "";',
    "    etag off;",
    "    if_modified_since off;",
    '    add_header Last-Modified "";  # an empty value removes the header',
    "    max_ranges 0;                  # and with it Accept-Ranges",
    '    add_header Cache-Control "no-cache";',
    "    try_files $uri =404;",
    "}",
    "location / {",
    "    try_files $uri =404;  # files only: a directory is a 404",
    "}",
  );
  return "server {\n" + indent(lines, 4) + "\n}\n";
}

function runningAsRoot(): boolean {
  return process.getuid?.() === 0;
}

// Writes an htpasswd file with one user, for its owner only (0600). Run as root, it is for
// an nginx whose workers read it as an unprivileged user (workerUser(), which checks it
// is not root): then it is 0640, owned by root and that user's group, so the workers can
// read it but not change it.
export async function writeHtpasswd(
  file: string, user: string, password: string, o: { cost?: number; workerUser?: string } = {},
): Promise<void> {
  const line = htpasswdLine(user, password, o.cost) + "\n";
  const reader = runningAsRoot() ? workerUser(o.workerUser) : undefined;
  if (reader) {
    await fsp.mkdir(path.dirname(file), { recursive: true });
    checkReachableBy(path.dirname(file), reader, `htpasswd file ${file}`);
  }
  await writeSecretFile(file, line);
  if (reader) {
    await fsp.chown(file, 0, reader.gid);
    await fsp.chmod(file, 0o640);
  }
}

export interface NginxStandaloneOptions extends NginxOptions {
  prefix: string; // directory for pid, logs and temp files
  daemon?: boolean; // default false: stays in the foreground (for tests)
  // Modules whose temp path must be set (their compiled-in defaults are root-owned).
  // All five are built into Debian's nginx; drop those a build is --without.
  tempModules?: ("client_body" | "proxy" | "fastcgi" | "uwsgi" | "scgi")[];
}

// A whole nginx.conf around nginxConfig(), every path inside `prefix`.
export function nginxStandalone(opts: NginxStandaloneOptions): string {
  if (!opts.prefix) fail(E_OPTS, "no prefix directory given");
  const prefix = path.resolve(opts.prefix);
  const p = (f: string) => q(path.join(prefix, f), "prefix path");
  // As root, nginx would run its workers as the user named here; as anyone else they run
  // as that user and nginx ignores (and warns about) a `user` directive.
  const worker = runningAsRoot() ? workerUser(opts.workerUser) : undefined;
  const temps = opts.tempModules ?? ["client_body", "proxy", "fastcgi", "uwsgi", "scgi"];
  const server = nginxConfig({ ...opts, accessLog: opts.accessLog ?? path.join(prefix, "access.log") });
  const http = [
    nginxLogFormat(),
    ...temps.map((m) => `${m}_temp_path ${p("tmp/" + m)};`),
    "types {",
    "    text/plain txt;",
    "    text/html html;",
    "    text/css css;",
    "    application/javascript js;",
    "    application/json json;",
    "}",
    "default_type application/octet-stream;",
    "sendfile on;",
    "",
    ...server.trimEnd().split("\n"),
  ];
  return [
    "# espruino-ota standalone nginx.conf: run with",
    `#   nginx -p ${prefix} -c ${path.join(prefix, "nginx.conf")} -e ${path.join(prefix, "error.log")}`,
    `daemon ${opts.daemon ? "on" : "off"};`,
    ...(worker
      ? [
          "# Workers parse what the network sends, so they run unprivileged, never as root; the",
          "# master (root) binds the port, reads this file and the TLS key, opens the logs.",
          "# espruino-ota checked that this user can read the release root and the htpasswd file.",
          `user ${worker.name} ${worker.group};`,
        ]
      : []),
    "worker_processes 1;",
    `pid ${p("nginx.pid")};`,
    `error_log ${p("error.log")} warn;`,
    "events {",
    "    worker_connections 64;",
    "}",
    "http {",
    indent(http, 4),
    "}",
    "",
  ].join("\n");
}

export interface NginxStandaloneFiles {
  conf: string; // path of nginx.conf
  htpasswd?: string;
  args: string[]; // arguments for the nginx binary
}

// Creates `prefix` (with tmp/), writes nginx.conf and, with user/password, the htpasswd
// file (default <prefix>/htpasswd). Returns the arguments to start nginx with.
// Run as root, the workers (an unprivileged user) must reach the htpasswd file inside the
// prefix, which is then 0711 (they can pass through, not list it), and read the root:
// that is checked, not changed (it is the user's folder).
export async function writeNginxStandalone(opts: NginxStandaloneOptions): Promise<NginxStandaloneFiles> {
  const prefix = path.resolve(opts.prefix);
  await fsp.mkdir(path.join(prefix, "tmp"), { recursive: true });
  const worker = runningAsRoot() ? workerUser(opts.workerUser) : undefined;
  if (worker) {
    await fsp.chmod(prefix, 0o711);
    checkReadableBy(opts.root, worker, "release root");
  }
  let htpasswd: string | undefined;
  const o = { ...opts };
  if (opts.user !== undefined && opts.password !== undefined) {
    htpasswd = path.resolve(opts.htpasswdPath ?? path.join(prefix, "htpasswd"));
    o.htpasswdPath = htpasswd;
    await writeHtpasswd(htpasswd, opts.user, opts.password, { cost: opts.bcryptCost, workerUser: opts.workerUser });
  }
  const conf = path.join(prefix, "nginx.conf");
  await writeFileAtomic(conf, nginxStandalone(o));
  return { conf, htpasswd, args: ["-p", prefix, "-c", conf, "-e", path.join(prefix, "error.log")] };
}
