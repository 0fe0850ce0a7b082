// Errors thrown by the publishing tools: a message that tells the user what to do,
// and a stable `code` for programs and tests. Codes shared with the device come from
// modules/formats.ts (E_VERSION, E_NAME, E_OPTS); the rest are host-only.
import { E_OPTS } from "../../modules/formats.ts";

export const E_EXISTS = "EEXIST"; // the version (or one of its files) is already published
export const E_MISSING = "ENOENT"; // an input file, release file or manifest is missing
export const E_DUPLICATE = "EDUPNAME"; // two files of one release share a Storage name
export const E_MANIFEST = "EMANIFEST"; // a manifest that cannot be read or does not match
export const E_LIVE = "ELIVE"; // the operation would remove the live version
export const E_UNKNOWN_VERSION = "ENOVERSION"; // no release of that version is published

export class OtaToolError extends Error {
  code: string;
  constructor(code: string, message: string) {
    super(message);
    this.name = "OtaToolError";
    this.code = code;
  }
}

export function fail(code: string, message: string): never {
  throw new OtaToolError(code, message);
}

export function optsError(message: string): never {
  throw new OtaToolError(E_OPTS, message);
}
