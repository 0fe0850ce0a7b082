// htpasswd lines for nginx's auth_basic_user_file.
//
// Default scheme: "apr1" (Apache's MD5-crypt, "$apr1$salt$hash"). nginx checks it with
// its own implementation (ngx_crypt_apr1 in src/core/ngx_crypt.c), so it works on
// Debian's nginx (checked with nginx 1.22.1 from Debian 12) and any other build,
// independent of the C library's crypt(), and Apache's htpasswd files accept it too.
// "SSHA" (salted SHA-1, RFC 2307 style) is also implemented by nginx itself but not by
// Apache; "SHA" (unsalted) works in both but should not be used.
import { createHash, randomBytes } from "node:crypto";

export type HtpasswdScheme = "apr1" | "SSHA" | "SHA";

const ITOA64 = "./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

function to64(v: number, n: number): string {
  let s = "";
  while (n-- > 0) {
    s += ITOA64[v & 0x3f];
    v >>>= 6;
  }
  return s;
}

// Apache MD5-crypt ("$apr1$"), the algorithm of FreeBSD's md5crypt with another magic.
export function apr1(password: string, salt?: string): string {
  const pw = Buffer.from(password, "utf8");
  const s = Buffer.from((salt ?? randomSalt(8)).slice(0, 8), "utf8");
  const magic = Buffer.from("$apr1$");
  const md5 = () => createHash("md5");
  const alt = md5().update(pw).update(s).update(pw).digest();
  const ctx = md5().update(pw).update(magic).update(s);
  for (let pl = pw.length; pl > 0; pl -= 16) ctx.update(alt.subarray(0, Math.min(16, pl)));
  for (let i = pw.length; i; i >>= 1) ctx.update(i & 1 ? Buffer.from([0]) : pw.subarray(0, 1));
  let fin = ctx.digest();
  for (let i = 0; i < 1000; i++) {
    const c = md5();
    c.update(i & 1 ? pw : fin);
    if (i % 3) c.update(s);
    if (i % 7) c.update(pw);
    c.update(i & 1 ? fin : pw);
    fin = c.digest();
  }
  const g = (a: number, b: number, c: number) => to64((fin[a] << 16) | (fin[b] << 8) | fin[c], 4);
  const out = g(0, 6, 12) + g(1, 7, 13) + g(2, 8, 14) + g(3, 9, 15) + g(4, 10, 5) + to64(fin[11], 2);
  return `$apr1$${s.toString("utf8")}$${out}`;
}

function randomSalt(n: number): string {
  const b = randomBytes(n);
  let s = "";
  for (let i = 0; i < n; i++) s += ITOA64[b[i] & 0x3f];
  return s;
}

export function passwordHash(password: string, scheme: HtpasswdScheme = "apr1", salt?: string): string {
  if (scheme == "apr1") return apr1(password, salt);
  if (scheme == "SHA") return "{SHA}" + createHash("sha1").update(password, "utf8").digest("base64");
  const sb = salt !== undefined ? Buffer.from(salt, "utf8") : randomBytes(8);
  const h = createHash("sha1").update(password, "utf8").update(sb).digest();
  return "{SSHA}" + Buffer.concat([h, sb]).toString("base64");
}

// One line "user:hash" (without newline).
export function htpasswdLine(user: string, password: string, scheme: HtpasswdScheme = "apr1", salt?: string): string {
  if (!user || user.indexOf(":") >= 0 || /[\r\n]/.test(user)) throw new Error(`user name "${user}" may not be empty or hold ':' or a newline`);
  return `${user}:${passwordHash(password, scheme, salt)}`;
}
