// Which URL paths a server of a release root may answer: the one definition for the dev
// server (tools/lib/static.ts) and the nginx config (tools/nginx.ts), so the two cannot
// drift. test/nginx-policy.test.ts asks both servers the same paths.
//
// A release root holds, per project (formats.ts filePath()):
//   <project>/version
//   <project>/<ver>_<name>      prefix layout: `.bootcde` is served as <ver>_.bootcde
//   <project>/<ver>/<name>      subdir layout: `.bootcde` is served as <ver>/.bootcde
// so a file name may start with a dot only two or more folders down (a project's folders
// never start with a dot: formats.projectError). Everything else that starts with a dot is
// not a release: `.git/`, `.htpasswd`, `.env`, and the temporary names `release` writes
// while it publishes (tools/lib/atomic.ts TMP_PREFIX, in the project folder for the prefix
// layout and in the version folder for the subdir layout).
//
// Besides paths, both servers serve regular files only (no fifo, device or socket: a
// fifo would block the reader forever) and follow no symlink below the root (nginx
// `disable_symlinks on`: it cannot tell where a link points, so none is followed).
import { TMP_PREFIX } from "./atomic.ts";

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

// The paths no server may answer, as a regular expression that PCRE (nginx `location ~*`)
// and JavaScript read alike, matched case-insensitively against the decoded URL path
// ("/" + the path below the root). It holds no `\\`, `"` or `\n`, which nginx.conf quoting
// would change.
export const HIDDEN_PATH = [
  // a folder whose name starts with a dot, at any depth: .git/, .ssh/, a temporary folder
  "/\\.[^/]*/",
  // a dotfile in the root or in a project's folder: .htpasswd, .env, and the prefix
  // layout's temporary names (<project>/.ota-tmp-…); no release file is named so there
  "^/(?:[^/]+/)?\\.[^/]*$",
  // at any depth: Apache/nginx password and config files, git's files, release's
  // temporary names (the subdir layout writes them in the version folder)
  `/(?:\\.ht|\\.git|${escapeRegExp(TMP_PREFIX)})[^/]*$`,
].join("|");

const HIDDEN = new RegExp(HIDDEN_PATH, "i");

// True if a server may answer the decoded URL path `urlPath` (it starts with "/").
export function servablePath(urlPath: string): boolean {
  return !HIDDEN.test(urlPath);
}
