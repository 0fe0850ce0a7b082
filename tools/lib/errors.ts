// The tools' one error type: a stable `code` from the vocabulary in modules/formats.ts
// (shared with the device) and a message that tells the user what to do.
export { E_OPTS, E_EXISTS, E_MISSING, E_DUPLICATE, E_MANIFEST, E_LIVE, E_UNKNOWN_VERSION } from "../../modules/formats.ts";

export class OtaError extends Error {
  code: string;
  constructor(code: string, message: string) {
    super(message);
    this.name = "OtaError";
    this.code = code;
  }
}

export function fail(code: string, message: string): never {
  throw new OtaError(code, message);
}
