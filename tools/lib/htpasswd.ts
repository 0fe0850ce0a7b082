// htpasswd lines for nginx's auth_basic_user_file: bcrypt ("$2b$"), made by the bcryptjs
// library.
//
// Why bcrypt: nginx checks "$apr1$", "{SHA}" and "{SSHA}" itself and hands every other
// hash to the C library's crypt_r() (ngx_crypt() in src/core/ngx_crypt.c). Debian's
// nginx 1.22 is linked against libxcrypt (libcrypt1 4.4), which checks bcrypt ($2b$, $2y$,
// $2a$), SHA-512-crypt ($6$) and SHA-256-crypt ($5$): test/nginx-policy.test.ts proves
// the entries written here with the real nginx, and that a scheme it does not know is
// refused (401 for everyone), not an error. bcrypt is the strongest of these and the one
// a maintained npm library makes (apr1 is 1000 rounds of MD5).
//
// The cost: nginx computes the hash again on every request (it caches nothing), so each
// +1 doubles the CPU time of every device check as well as an attacker's guessing.
// Measured with the real nginx (one worker) on this project's shared 2-core machine, the
// median of 200 sequential requests with the right password, over three runs: no auth
// 0.6-0.7 ms, apr1 0.8-1.9 ms, bcrypt cost 4 1.8-2.1 ms, cost 5 2.7-3.5 ms, SHA-512-crypt
// 4.2-7.2 ms, cost 8 42-60 ms, cost 10 175-267 ms. Cost 5 is what Apache's `htpasswd -B`
// writes by default.
import bcrypt from "bcryptjs";
import { E_OPTS } from "../../modules/formats.ts";
import { fail } from "./errors.ts";

export const BCRYPT_COST = 5;
// bcrypt reads only the first 72 bytes of a password; a longer one would be cut silently.
const MAX_PASSWORD_BYTES = 72;

// The bcrypt hash of `password` with a fresh salt.
export function passwordHash(password: string, cost = BCRYPT_COST): string {
  if (!Number.isInteger(cost) || cost < 4 || cost > 31) fail(E_OPTS, `bcrypt cost ${cost} must be a whole number from 4 to 31`);
  if (password === "") fail(E_OPTS, "the password is empty: anyone could log in with an empty one");
  if (password.indexOf("\0") >= 0) fail(E_OPTS, "the password holds a NUL character, which nginx's crypt() cannot check");
  const bytes = Buffer.byteLength(password, "utf8");
  if (bytes > MAX_PASSWORD_BYTES) fail(E_OPTS, `the password has ${bytes} bytes in UTF-8; bcrypt checks only the first ${MAX_PASSWORD_BYTES}, so use a shorter one`);
  return bcrypt.hashSync(password, cost);
}

// One line "user:hash" (without newline).
export function htpasswdLine(user: string, password: string, cost = BCRYPT_COST): string {
  if (!user || user.indexOf(":") >= 0 || /[\r\n]/.test(user)) fail(E_OPTS, `user name "${user}" may not be empty or hold ':' or a newline`);
  return `${user}:${passwordHash(password, cost)}`;
}
