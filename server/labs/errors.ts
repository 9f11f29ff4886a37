import "server-only";
import type { NativeError } from "../native/core.ts";

/** What the lab core refuses or fails at, in its own words (server/http/errors.ts maps them). */

/** No room for another lab: this client's share, or the server's. */
export class CapacityError extends Error {
  constructor(
    message: string,
    readonly perClient: boolean,
  ) {
    super(message);
  }
}

/** The native core could not build the lab; `failure` says which step and why. */
export class LabCreateError extends Error {
  constructor(readonly failure: NativeError) {
    super(`The lab could not be created: ${failure.message}`);
  }
}

/** The lab is not running any more (destroyed, or its init died). */
export class LabGoneError extends Error {
  constructor() {
    super("The lab is not running any more.");
  }
}
