// `nginx`: configuration for serving releases with nginx: a server { } block, an
// htpasswd writer, and a minimal standalone nginx.conf that runs unprivileged inside a
// prefix directory (`nginx -p <dir> -c <dir>/nginx.conf -e <dir>/error.log`).
import { promises as fsp } from "node:fs";
import * as path from "node:path";
import { H_VERSION, H_BOARD, H_FIRMWARE, H_ID, E_OPTS, VERSION_FILE } from "../modules/formats.ts";
import { fail } from "./lib/errors.ts";
import { writeFileAtomic } from "./lib/atomic.ts";
import { htpasswdLine, type HtpasswdScheme } from "./lib/htpasswd.ts";
import { TMP_PREFIX } from "./lib/atomic.ts";
import { REALM } from "./lib/auth.ts";

export { htpasswdLine, passwordHash, apr1, type HtpasswdScheme } from "./lib/htpasswd.ts";

export interface NginxOptions {
  root: string;
  port?: number; // default 8080
  listen?: string; // address, default 127.0.0.1
  user?: string; // with password and htpasswdPath: Basic auth
  password?: string;
  htpasswdPath?: string; // the auth_basic_user_file (write it with writeHtpasswd)
  tls?: { cert: string; key: string }; // paths of PEM files: listen with ssl
  accessLog?: string; // path of an access log in the LOG_FORMAT format (defined at http level)
  serverName?: string; // default "_"
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
    "# Half-written files of a release in progress are never served.",
    `location ~ "/\\${TMP_PREFIX}" {`,
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

// Writes an htpasswd file with one user (mode 0644: nginx workers must read it).
export async function writeHtpasswd(file: string, user: string, password: string, scheme: HtpasswdScheme = "apr1"): Promise<void> {
  await writeFileAtomic(file, htpasswdLine(user, password, scheme) + "\n");
}

export interface NginxStandaloneOptions extends NginxOptions {
  prefix: string; // directory for pid, logs and temp files
  daemon?: boolean; // default false: stays in the foreground (for tests)
  runAs?: string; // "user" directive; default "root" when running as root, so workers can read test dirs
  // Modules whose temp path must be set (their compiled-in defaults are root-owned).
  // All five are built into Debian's nginx; drop those a build is --without.
  tempModules?: ("client_body" | "proxy" | "fastcgi" | "uwsgi" | "scgi")[];
}

// A whole nginx.conf around nginxConfig(), every path inside `prefix`.
export function nginxStandalone(opts: NginxStandaloneOptions): string {
  if (!opts.prefix) fail(E_OPTS, "no prefix directory given");
  const prefix = path.resolve(opts.prefix);
  const p = (f: string) => q(path.join(prefix, f), "prefix path");
  const runAs = opts.runAs ?? (process.getuid?.() === 0 ? "root" : undefined);
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
    ...(runAs ? [`user ${runAs};`] : []),
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
export async function writeNginxStandalone(opts: NginxStandaloneOptions): Promise<NginxStandaloneFiles> {
  const prefix = path.resolve(opts.prefix);
  await fsp.mkdir(path.join(prefix, "tmp"), { recursive: true });
  let htpasswd: string | undefined;
  const o = { ...opts };
  if (opts.user !== undefined && opts.password !== undefined) {
    htpasswd = path.resolve(opts.htpasswdPath ?? path.join(prefix, "htpasswd"));
    o.htpasswdPath = htpasswd;
    await writeHtpasswd(htpasswd, opts.user, opts.password);
  }
  const conf = path.join(prefix, "nginx.conf");
  await writeFileAtomic(conf, nginxStandalone(o));
  return { conf, htpasswd, args: ["-p", prefix, "-c", conf, "-e", path.join(prefix, "error.log")] };
}
